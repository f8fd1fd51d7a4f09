use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum ShapeError {
    #[error("`{command}` failed: {detail}")]
    Command { command: String, detail: String },
    #[error("`{program}` is not installed ({hint})")]
    Missing { program: String, hint: String },
    #[error("netfilter queue: {0}")]
    Queue(String),
    #[error("the {backend} backend cannot shape this run: {reason}")]
    Unsupported {
        backend: &'static str,
        reason: String,
    },
    #[error("peer {peer} has no network namespace to put its qdiscs in")]
    NoNamespace { peer: String },
    #[error("{path}: {source}")]
    File {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("no shaping backend works here: {0}")]
    NoBackend(String),
}
