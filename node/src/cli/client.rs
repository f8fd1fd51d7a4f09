//! A typed client of a node's HTTP API, used by the CLI (and by tests and the orchestrator).

use std::time::Duration;

use anyhow::Context;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::api::types::{
    ErrorBody, InstallOutcome, InstallRequest, NodeStatus, PublishOutcome, PublishRequest,
    SearchOutcome,
};

/// Installs over slow links can take a while; nothing the CLI asks takes longer.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(120);

#[derive(Debug, Clone)]
pub struct ApiClient {
    base: String,
    token: Option<String>,
    http: reqwest::Client,
}

impl ApiClient {
    pub fn new(base: &str, token: Option<String>) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .build()
            .context("building the HTTP client")?;
        Ok(Self::with_http(base, token, http))
    }

    /// A client sharing an existing connection pool (one pool for many nodes).
    pub fn with_http(base: &str, token: Option<String>, http: reqwest::Client) -> Self {
        Self {
            base: base.trim_end_matches('/').to_owned(),
            token,
            http,
        }
    }

    pub async fn status(&self) -> anyhow::Result<NodeStatus> {
        self.get("/status").await
    }

    pub async fn publish(&self, request: &PublishRequest) -> anyhow::Result<PublishOutcome> {
        self.post("/packages", request).await
    }

    pub async fn search(
        &self,
        query: &str,
        network: bool,
        limit: usize,
    ) -> anyhow::Result<SearchOutcome> {
        let scope = if network { "network" } else { "local" };
        let limit = limit.to_string();
        let request = self.http.get(self.url("/search")).query(&[
            ("q", query),
            ("scope", scope),
            ("limit", &limit),
        ]);
        self.send(request).await
    }

    pub async fn install(
        &self,
        name: &str,
        version: Option<&str>,
    ) -> anyhow::Result<InstallOutcome> {
        let request = InstallRequest {
            name: name.to_owned(),
            version: version.map(str::to_owned),
        };
        self.post("/install", &request).await
    }

    /// `GET path`, decoding the JSON answer.
    pub async fn get<T: DeserializeOwned>(&self, path: &str) -> anyhow::Result<T> {
        self.send(self.http.get(self.url(path))).await
    }

    /// `POST path` with a JSON body, decoding the JSON answer.
    pub async fn post<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> anyhow::Result<T> {
        self.send(self.http.post(self.url(path)).json(body)).await
    }

    /// `DELETE path`, expecting no body back.
    pub async fn delete(&self, path: &str) -> anyhow::Result<()> {
        self.checked(self.http.delete(self.url(path)), "DELETE", path)
            .await
            .map(drop)
    }

    /// `GET path` as text (for `/metrics`).
    pub async fn get_text(&self, path: &str) -> anyhow::Result<String> {
        self.checked(self.http.get(self.url(path)), "GET", path)
            .await?
            .text()
            .await
            .with_context(|| format!("reading {path} of {}", self.base))
    }

    /// Sends with the token, failing on a non-success status.
    async fn checked(
        &self,
        mut request: reqwest::RequestBuilder,
        method: &str,
        path: &str,
    ) -> anyhow::Result<reqwest::Response> {
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        let response = request
            .send()
            .await
            .with_context(|| format!("cannot reach the node at {}", self.base))?;
        anyhow::ensure!(
            response.status().is_success(),
            "the node answered {} to {method} {path}",
            response.status()
        );
        Ok(response)
    }

    /// The base URL this client talks to.
    pub fn base(&self) -> &str {
        &self.base
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    async fn send<T: DeserializeOwned>(
        &self,
        mut request: reqwest::RequestBuilder,
    ) -> anyhow::Result<T> {
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        let response = request
            .send()
            .await
            .with_context(|| format!("cannot reach the node at {}", self.base))?;
        let status = response.status();
        let bytes = response
            .bytes()
            .await
            .with_context(|| format!("reading the answer of {}", self.base))?;
        if !status.is_success() {
            let message = serde_json::from_slice::<ErrorBody>(&bytes)
                .map(|b| b.error)
                .unwrap_or_else(|_| String::from_utf8_lossy(&bytes).into_owned());
            anyhow::bail!("the node answered {status}: {message}");
        }
        serde_json::from_slice(&bytes)
            .with_context(|| format!("unexpected answer from {}", self.base))
    }
}
