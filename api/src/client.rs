//! A typed client of a node's HTTP API: one method per endpoint, the bearer token on every
//! request when one is given, and errors that say which call failed and what the node said.

use std::time::Duration;

use reqwest::Method;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::bench::{
    ConnectBench, DhtLookupBench, GossipBench, GossipPublished, GossipReceived, PhaseResult,
    RttProbe, RttResult, SearchBench,
};
use crate::error::ErrorBody;
use crate::market::{
    InstallOutcome, InstallRequest, LookupOutcome, PublishOutcome, PublishRequest, Scope,
    SearchOutcome,
};
use crate::node::{BootstrapOutcome, BootstrapRequest, Health, NodeStatus};
use crate::package::{SearchHit, SignedManifest};
use crate::routes;

/// The longest any call may take: an install over slow links, or a bootstrap of a large
/// network.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(120);

/// How long a client keeps an idle connection for the next call: a quarter of the node's
/// header deadline ([`crate::limits::HEADER_READ_TIMEOUT_SECS`]), which also closes a
/// keep-alive connection that has been idle that long. A pool that kept it longer (reqwest's
/// default is 90 s) sent the next call on a connection the node was closing at that moment,
/// and the call failed ("no CPU figure on both sides of the window" for a peer in a 10-s idle
/// phase). A connection idle longer is never reused, and the pool closes it within twice
/// this.
pub const POOL_IDLE_TIMEOUT: Duration =
    Duration::from_millis(crate::limits::HEADER_READ_TIMEOUT_SECS * 1000 / 4);

/// An HTTP client for nodes' APIs: calls end after `timeout`, idle connections are dropped
/// before a node would close them ([`POOL_IDLE_TIMEOUT`]). One may serve many nodes.
pub fn http_client(timeout: Duration) -> Result<reqwest::Client, ClientError> {
    reqwest::Client::builder()
        .timeout(timeout)
        .pool_idle_timeout(POOL_IDLE_TIMEOUT)
        .build()
        .map_err(ClientError::Build)
}

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("building the HTTP client")]
    Build(#[source] reqwest::Error),
    #[error("cannot reach the node at {base} ({method} {path})")]
    Unreachable {
        base: String,
        method: Method,
        path: String,
        #[source]
        source: reqwest::Error,
    },
    #[error("the node at {base} answered {status} to {method} {path}: {message}")]
    Status {
        base: String,
        method: Method,
        path: String,
        status: u16,
        message: String,
    },
    #[error("unexpected answer from {base} to {method} {path}")]
    Decode {
        base: String,
        method: Method,
        path: String,
        #[source]
        source: serde_json::Error,
    },
}

impl ClientError {
    /// The HTTP status the node answered, when it answered with an error.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Status { status, .. } => Some(*status),
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct ApiClient {
    base: String,
    token: Option<String>,
    http: reqwest::Client,
}

impl ApiClient {
    /// A client of the node at `base` (`http://host:port`), with its own connection pool.
    pub fn new(base: &str, token: Option<String>) -> Result<Self, ClientError> {
        Ok(Self::with_http(base, token, http_client(DEFAULT_TIMEOUT)?))
    }

    /// A client sharing an existing connection pool (one pool for many nodes), made with
    /// [`http_client`].
    pub fn with_http(base: &str, token: Option<String>, http: reqwest::Client) -> Self {
        Self {
            base: base.trim_end_matches('/').to_owned(),
            token: token.filter(|t| !t.is_empty()),
            http,
        }
    }

    /// The base URL this client talks to.
    pub fn base(&self) -> &str {
        &self.base
    }

    pub async fn health(&self) -> Result<Health, ClientError> {
        self.call(Method::GET, routes::HEALTH, None::<&()>, &[])
            .await
    }

    pub async fn status(&self) -> Result<NodeStatus, ClientError> {
        self.call(Method::GET, routes::STATUS, None::<&()>, &[])
            .await
    }

    pub async fn bootstrap(&self, peers: Vec<String>) -> Result<BootstrapOutcome, ClientError> {
        let body = BootstrapRequest { peers };
        self.call(Method::POST, routes::BOOTSTRAP, Some(&body), &[])
            .await
    }

    pub async fn publish(&self, request: &PublishRequest) -> Result<PublishOutcome, ClientError> {
        self.call(Method::POST, routes::PACKAGES, Some(request), &[])
            .await
    }

    /// Every package whose content the node stores.
    pub async fn packages(&self) -> Result<Vec<SignedManifest>, ClientError> {
        self.call(Method::GET, routes::PACKAGES, None::<&()>, &[])
            .await
    }

    /// A package the node knows of, from its index.
    pub async fn package(
        &self,
        name: &str,
        version: Option<&str>,
    ) -> Result<SearchHit, ClientError> {
        let query: Vec<(&str, &str)> = version.map(|v| ("version", v)).into_iter().collect();
        self.call(Method::GET, &routes::package(name), None::<&()>, &query)
            .await
    }

    /// Resolves a package's record in the DHT.
    pub async fn lookup(
        &self,
        name: &str,
        version: Option<&str>,
    ) -> Result<LookupOutcome, ClientError> {
        let query: Vec<(&str, &str)> = version.map(|v| ("version", v)).into_iter().collect();
        self.call(Method::GET, &routes::lookup(name), None::<&()>, &query)
            .await
    }

    pub async fn search(
        &self,
        query: &str,
        scope: Scope,
        limit: usize,
    ) -> Result<SearchOutcome, ClientError> {
        let limit = limit.to_string();
        let params = [("q", query), ("scope", scope.as_str()), ("limit", &limit)];
        self.call(Method::GET, routes::SEARCH, None::<&()>, &params)
            .await
    }

    pub async fn install(
        &self,
        name: &str,
        version: Option<&str>,
    ) -> Result<InstallOutcome, ClientError> {
        let body = InstallRequest {
            name: name.to_owned(),
            version: version.map(str::to_owned),
        };
        self.call(Method::POST, routes::INSTALL, Some(&body), &[])
            .await
    }

    pub async fn bench_dht_lookup(
        &self,
        request: &DhtLookupBench,
    ) -> Result<PhaseResult, ClientError> {
        self.call(Method::POST, routes::BENCH_DHT_LOOKUP, Some(request), &[])
            .await
    }

    pub async fn bench_search(&self, request: &SearchBench) -> Result<PhaseResult, ClientError> {
        self.call(Method::POST, routes::BENCH_SEARCH, Some(request), &[])
            .await
    }

    pub async fn bench_gossip(
        &self,
        request: &GossipBench,
    ) -> Result<GossipPublished, ClientError> {
        self.call(Method::POST, routes::BENCH_GOSSIP, Some(request), &[])
            .await
    }

    pub async fn gossip_received(&self) -> Result<GossipReceived, ClientError> {
        self.call(Method::GET, routes::BENCH_GOSSIP_RECEIVED, None::<&()>, &[])
            .await
    }

    pub async fn clear_gossip_received(&self) -> Result<(), ClientError> {
        self.send(
            Method::DELETE,
            routes::BENCH_GOSSIP_RECEIVED,
            None::<&()>,
            &[],
        )
        .await
        .map(drop)
    }

    pub async fn rtt(&self, probe: &RttProbe) -> Result<RttResult, ClientError> {
        self.call(Method::POST, routes::BENCH_RTT, Some(probe), &[])
            .await
    }

    pub async fn connect_bench(&self, bench: &ConnectBench) -> Result<PhaseResult, ClientError> {
        self.call(Method::POST, routes::BENCH_CONNECT, Some(bench), &[])
            .await
    }

    /// `/metrics` in the classic Prometheus text format.
    pub async fn metrics_text(&self) -> Result<String, ClientError> {
        let bytes = self
            .send(Method::GET, routes::METRICS, None::<&()>, &[])
            .await?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }

    /// Sends a request and decodes the JSON answer.
    async fn call<B: Serialize, T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&B>,
        query: &[(&str, &str)],
    ) -> Result<T, ClientError> {
        let bytes = self.send(method.clone(), path, body, query).await?;
        serde_json::from_slice(&bytes).map_err(|source| ClientError::Decode {
            base: self.base.clone(),
            method,
            path: path.to_owned(),
            source,
        })
    }

    /// Sends a request with the token; a non-success status is an error carrying the node's
    /// message.
    async fn send<B: Serialize>(
        &self,
        method: Method,
        path: &str,
        body: Option<&B>,
        query: &[(&str, &str)],
    ) -> Result<Vec<u8>, ClientError> {
        let mut request = self
            .http
            .request(method.clone(), format!("{}{path}", self.base));
        if !query.is_empty() {
            request = request.query(query);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        let unreachable = |source| ClientError::Unreachable {
            base: self.base.clone(),
            method: method.clone(),
            path: path.to_owned(),
            source,
        };
        let response = request.send().await.map_err(unreachable)?;
        let status = response.status();
        let bytes = response.bytes().await.map_err(unreachable)?;
        if !status.is_success() {
            let message = serde_json::from_slice::<ErrorBody>(&bytes)
                .map(|b| b.error)
                .unwrap_or_else(|_| String::from_utf8_lossy(&bytes).into_owned());
            return Err(ClientError::Status {
                base: self.base.clone(),
                method,
                path: path.to_owned(),
                status: status.as_u16(),
                message,
            });
        }
        Ok(bytes.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_unreachable_node_is_named() {
        let closed = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let client = ApiClient::new(&format!("http://{closed}/"), None).unwrap();
        assert_eq!(client.base(), format!("http://{closed}"));
        let err = client.health().await.unwrap_err();
        assert!(matches!(err, ClientError::Unreachable { .. }), "{err}");
        assert!(err.to_string().contains(&closed.to_string()), "{err}");
        assert_eq!(err.status(), None);
    }

    /// A node closes a keep-alive connection that has been idle for its header deadline; the
    /// client lets go of it first, so it never sends a call on one the node is closing.
    #[tokio::test]
    async fn an_idle_connection_is_dropped_before_the_node_would_close_it() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};

        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let node = tokio::spawn(async move {
            let (mut stream, _) = listener.accept().await.unwrap();
            let mut request = [0u8; 1024];
            let _ = stream.read(&mut request).await.unwrap();
            let body = r#"{"status":"ok","peer_id":"x"}"#;
            let response = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                body.len()
            );
            stream.write_all(response.as_bytes()).await.unwrap();
            let answered = tokio::time::Instant::now();
            // The node's side of the deadline: EOF from the client before it.
            let deadline = Duration::from_secs(crate::limits::HEADER_READ_TIMEOUT_SECS);
            let eof = tokio::time::timeout(deadline, stream.read(&mut request)).await;
            (eof.map(|read| read.unwrap()), answered.elapsed())
        });
        let client = ApiClient::new(&format!("http://{addr}"), None).unwrap();
        let _ = client.health().await;
        let (eof, after) = node.await.unwrap();
        assert_eq!(
            eof.ok(),
            Some(0),
            "the client kept its idle connection for the node's whole header deadline"
        );
        assert!(after >= POOL_IDLE_TIMEOUT, "closed after {after:?}");
    }
}
