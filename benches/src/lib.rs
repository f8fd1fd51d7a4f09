//! Harness of the `marketplace_p2p` benchmark suite: in-process networks of real
//! `p2p-node` marketplaces over libp2p (memory transport or TCP on loopback), process memory
//! figures, exact percentiles of raw samples, and the SLA checks that fail the run.
//!
//! - [`network`]: building and bootstrapping a network of nodes.
//! - [`memory`]: [`MemoryMetrics`] from `/proc/self/status`.
//! - [`cpu`]: CPU time of this process at nanosecond resolution.
//! - [`report`]: samples per benchmark, percentiles, SLA results, the summary file.
//! - [`scratch`]: the nodes' data directories, removed on exit and on Ctrl-C.

pub mod cpu;
pub mod memory;
pub mod network;
pub mod report;
pub mod scratch;

pub use memory::MemoryMetrics;
pub use network::BenchNetwork;
