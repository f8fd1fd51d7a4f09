//! What can go wrong with the machinery under a run: Docker, processes, the node binary, the
//! host's settings. Each error names what it was doing; the cause is kept as its source.

#[derive(Debug, thiserror::Error)]
pub enum InfraError {
    /// A Docker API call failed; `op` names it (`CreateContainer`, `StartExec`, …).
    #[error("docker {op} failed")]
    Docker {
        op: &'static str,
        #[source]
        source: bollard::errors::Error,
    },
    #[error("docker is not available")]
    NoDocker(#[source] bollard::errors::Error),
    #[error("building the node image failed: {0}")]
    ImageBuild(String),
    #[error("p2p-node binary: {0}")]
    Binary(String),
    #[error("{what}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
    #[error("host setting: {0}")]
    HostSetting(String),
    /// The swarm is absent, this engine only a worker, or a node not ready.
    #[error("docker swarm: {0}")]
    Swarm(String),
    #[error("no free subnet for the run's network: {0}")]
    NoSubnet(String),
    #[error("peer {peer}: {detail}")]
    Peer { peer: String, detail: String },
}

impl InfraError {
    /// An I/O error while doing `what`.
    pub fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> Self {
        let what = what.into();
        move |source| Self::Io { what, source }
    }
}

/// Names a failed Docker call.
pub fn docker_err(op: &'static str) -> impl FnOnce(bollard::errors::Error) -> InfraError {
    move |source| InfraError::Docker { op, source }
}
