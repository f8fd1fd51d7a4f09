//! `p2p-api`: the contract between the marketplace peer (`p2p-node`) and everything that
//! talks to it over HTTP — the CLI, the orchestrator, the benchmarks and the tests.
//!
//! It depends on serde and an HTTP client only, so a client links neither libp2p nor axum.
//!
//! - [`routes`]: the paths of the API.
//! - [`node`], [`market`], [`bench`]: request and response bodies, by area.
//! - [`package`]: the signed package manifest and search hits as data (signing and
//!   verification stay in the node).
//! - [`limits`]: every bound the node enforces on its input, so clients can stay inside them.
//! - [`metrics`]: the Prometheus metric names of `shared/DESIGN.md`.
//! - [`stats`]: exact percentiles of raw samples, as every side summarises them.
//! - [`transport`]: the wire peers talk over (TCP or QUIC).
//! - [`client`]: a typed client of the API.
//! - [`cli_timing`]: the line in which the CLI reports its own wall time.
//! - [`error`]: the JSON error body.

pub mod bench;
pub mod cli_timing;
pub mod client;
pub mod error;
pub mod limits;
pub mod market;
pub mod metrics;
pub mod node;
pub mod package;
pub mod routes;
pub mod stats;
pub mod transport;

pub use bench::{
    ConnectBench, DhtLookupBench, GossipBench, GossipPublished, GossipReceived, GossipSample,
    PhaseResult, RttProbe, RttResult, SearchBench,
};
pub use client::{ApiClient, ClientError};
pub use error::ErrorBody;
pub use market::{
    InstallOutcome, InstallRequest, LookupOutcome, PublishOutcome, PublishRequest, Scope,
    SearchOutcome, SearchParams, VersionParam,
};
pub use node::{BootstrapOutcome, BootstrapRequest, Health, NetworkStatus, NodeStatus};
pub use package::{PackageManifest, SearchHit, SignedManifest};
pub use transport::Transport;
