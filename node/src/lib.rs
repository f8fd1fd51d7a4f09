//! `p2p-node`: the marketplace peer of the P2P testbed.
//!
//! - [`package`]: the package manifest's rules and signature, the on-disk store and the local
//!   search index.
//! - [`network`]: the libp2p swarm (Kademlia, gossipsub, identify, ping, request-response),
//!   owned by its event loop and used through a [`network::Client`].
//! - [`metrics`]: the Prometheus metrics named in `shared/DESIGN.md`.
//! - [`market`]: publish, lookup, search, install and the benchmark phases, over the above.
//! - [`api`]: the HTTP control API (axum). Its request and response types, routes and limits
//!   are the contract in the `p2p-api` crate, which clients use without linking this one.
//! - [`daemon`]: starting and stopping a whole node ([`daemon::RunningNode`]).
//! - [`identity`]: the node's key, kept in its data directory.
//!
//! The `p2p-node` binary adds the command line (`run` and the client commands) on top.
pub mod api;
pub mod daemon;
pub mod identity;
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
