//! The libp2p side of the node.
//!
//! The [`EventLoop`] alone owns the `Swarm`. Everything else holds a cloneable [`Client`] that
//! sends a [`Command`](command::Command) over a bounded channel and awaits a oneshot reply; the
//! event loop keeps the pending replies keyed by query or request id and answers them when the
//! matching swarm event arrives. What peers ask of us (searches, content fetches, gossip)
//! leaves the event loop as an [`Event`] for the marketplace to answer.

mod behaviour;
mod bootstraps;
mod client;
mod command;
mod config;
mod connection_manager;
mod error;
mod event;
mod event_loop;
mod fetch_retry;
pub mod protocol;
mod record_policy;
mod record_put;
pub mod round_trip;
mod store_guard;
mod tcp_dial;
mod tcp_rto;

pub use client::Client;
pub use command::RecordLookup;
pub use config::{NetworkConfig, TransportKind};
pub use connection_manager::Watermarks;
pub use error::{Cause, NetworkError};
pub use event::Event;
pub use event_loop::EventLoop;
pub use record_policy::{RecordPolicy, Refusal};
pub use store_guard::StoreLimits;

use std::sync::Arc;

use libp2p::identity::Keypair;
use prometheus_client::registry::Registry;
use tokio::sync::mpsc;

use crate::metrics::Metrics;
use store_guard::StoreGuard;

/// Capacity of the command channel from clients to the event loop.
const COMMAND_QUEUE: usize = 1024;
/// Capacity of the channel of inbound events to the marketplace.
const EVENT_QUEUE: usize = 4096;

/// Builds the swarm, starts listening and returns its three handles: the client, the stream
/// of inbound events, and the event loop to spawn. `policy` decides which DHT records the
/// node accepts.
pub fn new(
    keypair: Keypair,
    config: &NetworkConfig,
    registry: &mut Registry,
    metrics: Metrics,
    policy: Arc<dyn RecordPolicy>,
) -> Result<(Client, mpsc::Receiver<Event>, EventLoop), NetworkError> {
    let Watermarks { low, high } = config.watermarks;
    Watermarks::new(low, high, config.max_connections).map_err(NetworkError::Settings)?;
    let mut swarm = behaviour::build_swarm(keypair, config, registry)?;
    for addr in &config.listen {
        swarm
            .listen_on(addr.clone())
            .map_err(|e| NetworkError::Listen {
                addr: addr.clone(),
                source: error::cause(e),
            })?;
    }
    let libp2p_metrics = libp2p::metrics::Metrics::new(registry);
    let (command_tx, command_rx) = mpsc::channel(COMMAND_QUEUE);
    let (event_tx, event_rx) = mpsc::channel(EVENT_QUEUE);
    let event_loop = EventLoop::new(
        swarm,
        command_rx,
        event_tx,
        metrics,
        libp2p_metrics,
        config,
        StoreGuard::new(policy, config.store),
    );
    Ok((Client::new(command_tx), event_rx, event_loop))
}
