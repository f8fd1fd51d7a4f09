//! `p2p-node`: the marketplace peer of the P2P testbed.
//!
//! - [`package`]: the signed package manifest, the on-disk store and the local search index.
//! - [`network`]: the libp2p swarm (Kademlia, gossipsub, identify, ping, request-response),
//!   owned by its event loop and used through a [`network::Client`].
//! - [`metrics`]: the Prometheus metrics named in `shared/DESIGN.md`.
//! - [`market`]: publish, lookup, search, install and the benchmark phases, over the above.
//! - [`api`]: the HTTP control API (axum) and its request/response [`api::types`].
//! - [`daemon`]: starting and stopping a whole node ([`daemon::RunningNode`]).
//! - [`cli`]: the `p2p-node` command line: `run` and the client commands.
pub mod api;
pub mod market;
pub mod metrics;
pub mod network;
pub mod package;

/// Runs blocking file-system work off the async threads; a panic in it is re-raised here.
pub(crate) async fn blocking<T, F>(f: F) -> T
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    match tokio::task::spawn_blocking(f).await {
        Ok(value) => value,
        Err(e) => std::panic::resume_unwind(e.into_panic()),
    }
}
pub mod cli;
pub mod daemon;
pub mod identity;
