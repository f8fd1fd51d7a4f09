//! Why a phase could not run to its end. Failed operations inside a phase are not errors: they
//! are counted in its report; these stop the phase.

use std::time::Duration;

use p2p_api::ClientError;

use crate::runtime::InfraError;
use crate::testbed::HealthError;

#[derive(Debug, thiserror::Error)]
pub enum PhaseError {
    /// The scenario asks for something the run cannot do at this point.
    #[error("{0}")]
    Precondition(String),
    #[error("{peer}")]
    Api {
        peer: String,
        #[source]
        source: ClientError,
    },
    #[error(transparent)]
    Runtime(#[from] InfraError),
    #[error("link shaping")]
    Shaping(#[from] netem::ShapeError),
    #[error("{peer} did not come back")]
    NotBack {
        peer: String,
        #[source]
        source: HealthError,
    },
    /// A restarted peer's new place (address, namespace) could not be taken in.
    #[error("{peer} came back, but: {detail}")]
    NotRelocated { peer: String, detail: String },
    #[error(
        "routing tables or gossip meshes still not formed after {after:?} on {lagging} peer(s), e.g. {example}"
    )]
    NotReady {
        after: Duration,
        lagging: usize,
        example: String,
    },
}

impl PhaseError {
    /// Wraps an API error of peer `peer`.
    pub fn api(peer: &str) -> impl FnOnce(ClientError) -> Self + '_ {
        move |source| Self::Api {
            peer: peer.to_owned(),
            source,
        }
    }
}
