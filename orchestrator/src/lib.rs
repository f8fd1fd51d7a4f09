//! The testbed orchestrator: one command brings up a network of real `p2p-node` peers
//! (Docker containers or local processes), drives benchmark phases over their HTTP APIs,
//! checks the scenario's targets, writes a report and removes everything it created.
//!
//! - [`scenario`]: the YAML scenario and the flags over it, resolved once, with
//!   file:line:column (or flag) errors.
//! - [`runtime`]: Docker (bollard) and local-process runtimes behind one interface.
//! - [`shaping`]: the links shaped with `netem` and the check that they are.
//! - [`testbed`] and [`phases`]: the running network and the phases driven over HTTP.
//! - [`sla`], [`compare`]: target checks, run comparison.
//! - [`results`] and [`report`]: `results.json` (the contract) and what is rendered from it.
//! - [`up`]: the run itself; [`cleanup`]: removing what runs left, by label and name;
//!   [`signals`]: the signals that end a run early.
//!
//! The `orchestrator` binary adds the command line on top.

pub mod capacity;
pub mod cleanup;
pub mod compare;
pub mod fidelity;
pub mod phases;
pub mod quantity;
pub mod reaper;
pub mod report;
pub mod results;
pub mod runtime;
pub mod scenario;
pub mod shaping;
pub mod signals;
pub mod sla;
pub mod sweep;
pub mod testbed;
pub mod up;
