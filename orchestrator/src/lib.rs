//! The testbed orchestrator: one command brings up a network of real `p2p-node` peers
//! (Docker containers or local processes), drives benchmark phases over their HTTP APIs,
//! checks the scenario's targets, writes a report and removes everything it created.
//!
//! - [`scenario`]: the YAML scenario, validated once, with file:line:column errors.
//! - [`runtime`]: Docker (bollard) and local-process runtimes behind one interface.
//! - [`testbed`] and [`phases`]: the running network and the phases driven over HTTP.
//! - [`stats`], [`sla`], [`compare`]: exact percentiles, target checks, run comparison.
//! - [`results`] and [`report`]: `results.json` (the contract) and what is rendered from it.
//! - [`up`] and [`cli`]: the run itself and the command line.

pub mod cli;
pub mod compare;
pub mod phases;
pub mod quantity;
pub mod report;
pub mod results;
pub mod runtime;
pub mod scenario;
pub mod shaping;
pub mod signals;
pub mod sla;
pub mod stats;
pub mod testbed;
pub mod up;
