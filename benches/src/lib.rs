//! Harness of the `marketplace_p2p` benchmark suite: in-process networks of real
//! `p2p-node` marketplaces over libp2p (memory transport or TCP on loopback), process memory
//! figures, exact percentiles of raw samples, and the SLA checks that fail the run.
//!
//! - [`network`]: building and bootstrapping a network of nodes.
//! - [`memory`]: [`MemoryMetrics`] from `/proc/self/status`.
//! - [`cpu`]: CPU time of this process at nanosecond resolution.
//! - [`report`]: samples per benchmark, percentiles, SLA results, the summary file.
//! - [`scratch`]: the nodes' data directories, removed on exit and on Ctrl-C.
//! - [`groups`]: the Criterion groups, one module each; [`selection`]: which cases a run
//!   selects (and `--list`); [`sizes`]: the sizes of the full and the quick run.

pub mod cpu;
pub mod groups;
pub mod memory;
pub mod network;
pub mod report;
pub mod scratch;
pub mod selection;
pub mod sizes;

pub use memory::MemoryMetrics;
pub use network::BenchNetwork;
