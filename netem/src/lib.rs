//! Link shaping for the P2P testbed.
//!
//! - [`link`]: one directed link (delay, jitter, loss, bandwidth, queue limit);
//!   [`profile`]: regions and the link between every two of them, from `profiles/*.yaml`;
//!   [`plan`]: a run's peers placed in regions, so the link of every pair.
//! - [`probe`]: which backend works here, found by trying in a scratch namespace.
//! - Backends: [`tc`] (kernel netem, per-destination classes in each peer's namespace) and
//!   [`delay_line`] (userspace NFQUEUE, scheduled by [`scheduler`]), fed by [`iptables`] rules
//!   in the run's own chain, which also carry partitions.
//! - [`shaper`]: applies a plan, partitions and heals, and removes everything it made;
//!   [`verify`]: which pairs to measure and whether a measured round trip is right.
//! - [`names`]: the chain and queue names, derived from the run id.

mod command;
pub mod counters;
pub mod delay_line;
mod error;
pub mod expected;
pub mod iptables;
pub mod link;
pub mod names;
mod namespace;
pub mod plan;
pub mod probe;
pub mod profile;
pub mod scheduler;
pub mod shaper;
pub mod tc;
pub mod verify;
pub mod wake_latency;

pub use error::ShapeError;
pub use link::{JitterDistribution, LinkSpec};
pub use plan::{Fabric, ShapedPeer, ShapingPlan};
pub use probe::{Backend, Selection, ShaperChoice};
pub use profile::{LinkOverrides, Profile};
pub use shaper::{remove_leftovers, ActiveShaping, TeardownReport};
