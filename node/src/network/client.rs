//! The cloneable handle through which the rest of the node uses the network.

use std::collections::HashSet;
use std::future::Future;
use std::time::Duration;

use libp2p::gossipsub::MessageId;
use libp2p::request_response::ResponseChannel;
use libp2p::{Multiaddr, PeerId};
use p2p_api::{BootstrapOutcome, NetworkStatus};
use tokio::sync::{mpsc, oneshot};

use super::command::{Command, RecordLookup};
use super::error::NetworkError;
use super::protocol::{FetchRequest, FetchResponse, SearchRequest, SearchResponse};

#[derive(Debug, Clone)]
pub struct Client {
    sender: mpsc::Sender<Command>,
}

impl Client {
    pub(super) fn new(sender: mpsc::Sender<Command>) -> Self {
        Self { sender }
    }

    pub async fn status(&self) -> Result<NetworkStatus, NetworkError> {
        let (reply, rx) = oneshot::channel();
        self.send(Command::Status { reply }).await?;
        rx.await.map_err(|_| NetworkError::EventLoopGone)
    }

    pub async fn connected_peers(&self) -> Result<Vec<PeerId>, NetworkError> {
        let (reply, rx) = oneshot::channel();
        self.send(Command::ConnectedPeers { reply }).await?;
        rx.await.map_err(|_| NetworkError::EventLoopGone)
    }

    /// Adds the given peers and runs a Kademlia bootstrap; returns when it has finished.
    /// Addresses without `/p2p/<peer id>` are dialed first and the peer id learned from the
    /// connection.
    pub async fn bootstrap(
        &self,
        peers: Vec<Multiaddr>,
        timeout: Duration,
    ) -> Result<BootstrapOutcome, NetworkError> {
        self.ask("bootstrap", timeout, |reply| Command::Bootstrap {
            peers,
            reply,
        })
        .await
    }

    /// Times a new connection to the peer at `addr` (ending in `/p2p/<peer id>`), from the
    /// dial to the established connection, and closes it again.
    pub async fn connect(
        &self,
        peer: PeerId,
        addr: Multiaddr,
        timeout: Duration,
    ) -> Result<Duration, NetworkError> {
        self.ask("connect", timeout, |reply| Command::Connect {
            peer,
            addr,
            reply,
        })
        .await
    }

    pub async fn put_record(
        &self,
        key: Vec<u8>,
        value: Vec<u8>,
        timeout: Duration,
    ) -> Result<(), NetworkError> {
        self.ask("put record", timeout, |reply| Command::PutRecord {
            key,
            value,
            reply,
        })
        .await
    }

    pub async fn get_record(
        &self,
        key: Vec<u8>,
        timeout: Duration,
    ) -> Result<RecordLookup, NetworkError> {
        self.ask("get record", timeout, |reply| Command::GetRecord {
            key,
            reply,
        })
        .await
    }

    pub async fn start_providing(
        &self,
        key: Vec<u8>,
        timeout: Duration,
    ) -> Result<(), NetworkError> {
        self.ask("start providing", timeout, |reply| {
            Command::StartProviding { key, reply }
        })
        .await
    }

    pub async fn get_providers(
        &self,
        key: Vec<u8>,
        timeout: Duration,
    ) -> Result<HashSet<PeerId>, NetworkError> {
        self.ask("get providers", timeout, |reply| Command::GetProviders {
            key,
            reply,
        })
        .await
    }

    pub async fn gossip(&self, data: Vec<u8>, timeout: Duration) -> Result<(), NetworkError> {
        self.ask("gossip publish", timeout, |reply| Command::Gossip {
            data,
            reply,
        })
        .await
    }

    pub async fn search(
        &self,
        peer: PeerId,
        request: SearchRequest,
        timeout: Duration,
    ) -> Result<SearchResponse, NetworkError> {
        self.ask("search request", timeout, |reply| Command::Search {
            peer,
            request,
            reply,
        })
        .await
    }

    pub async fn fetch(
        &self,
        peer: PeerId,
        request: FetchRequest,
        timeout: Duration,
    ) -> Result<FetchResponse, NetworkError> {
        self.ask("fetch request", timeout, |reply| Command::Fetch {
            peer,
            request,
            reply,
        })
        .await
    }

    pub async fn respond_search(
        &self,
        channel: ResponseChannel<SearchResponse>,
        response: SearchResponse,
    ) -> Result<(), NetworkError> {
        self.send(Command::RespondSearch { channel, response })
            .await
    }

    pub async fn respond_fetch(
        &self,
        channel: ResponseChannel<FetchResponse>,
        response: FetchResponse,
    ) -> Result<(), NetworkError> {
        self.send(Command::RespondFetch { channel, response }).await
    }

    /// Tells gossipsub whether a message the marketplace received is valid: a valid one is
    /// forwarded to the mesh, an invalid one dropped.
    pub async fn judge_gossip(
        &self,
        id: MessageId,
        propagation_source: PeerId,
        valid: bool,
    ) -> Result<(), NetworkError> {
        self.send(Command::JudgeGossip {
            id,
            propagation_source,
            valid,
        })
        .await
    }

    async fn send(&self, command: Command) -> Result<(), NetworkError> {
        self.sender
            .send(command)
            .await
            .map_err(|_| NetworkError::EventLoopGone)
    }

    /// Sends a command and waits for its reply, at most `timeout` in all.
    async fn ask<T>(
        &self,
        op: &'static str,
        timeout: Duration,
        command: impl FnOnce(oneshot::Sender<Result<T, NetworkError>>) -> Command,
    ) -> Result<T, NetworkError> {
        let (reply, rx) = oneshot::channel();
        let exchange = async {
            self.send(command(reply)).await?;
            rx.await.map_err(|_| NetworkError::EventLoopGone)?
        };
        with_timeout(op, timeout, exchange).await
    }
}

async fn with_timeout<T>(
    op: &'static str,
    timeout: Duration,
    fut: impl Future<Output = Result<T, NetworkError>>,
) -> Result<T, NetworkError> {
    tokio::time::timeout(timeout, fut)
        .await
        .unwrap_or(Err(NetworkError::Timeout {
            op,
            after_ms: timeout.as_millis(),
        }))
}
