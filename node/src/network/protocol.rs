//! Wire types of the marketplace protocols: `/market/search/1`, `/market/fetch/1` (CBOR over
//! request-response) and the gossip topic `market/announce/v1` (JSON).

use libp2p::StreamProtocol;
use p2p_api::{SearchHit, SignedManifest};
use serde::{Deserialize, Serialize};
use serde_bytes::ByteBuf;

pub const SEARCH_PROTOCOL: StreamProtocol = StreamProtocol::new("/market/search/1");
pub const FETCH_PROTOCOL: StreamProtocol = StreamProtocol::new("/market/fetch/1");
pub const KAD_PROTOCOL: StreamProtocol = StreamProtocol::new("/market/kad/1.0.0");
pub const IDENTIFY_PROTOCOL: &str = "/market/1.0.0";
pub const ANNOUNCE_TOPIC: &str = "market/announce/v1";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SearchRequest {
    pub query: String,
    pub limit: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SearchResponse {
    pub hits: Vec<SearchHit>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FetchRequest {
    /// Hex SHA-256 of the wanted content.
    pub sha256: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FetchResponse {
    /// `None` when the peer does not have it.
    pub content: Option<ByteBuf>,
}

/// A message on the announce topic; `sent_unix_nanos` is the publisher's clock at publish time,
/// from which receivers compute propagation latency.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum GossipMessage {
    /// A package was published.
    Announce {
        package: SignedManifest,
        sent_unix_nanos: u64,
    },
    /// A benchmark probe: carries nothing but its origin (a peer id, base58), an id and
    /// padding to a chosen size. Gossip messages are not signed by the network layer
    /// (`behaviour.rs`), so the origin is the sender's claim.
    Probe {
        origin: String,
        id: u64,
        sent_unix_nanos: u64,
        padding: String,
    },
}

impl GossipMessage {
    pub fn sent_unix_nanos(&self) -> u64 {
        match self {
            Self::Announce {
                sent_unix_nanos, ..
            }
            | Self::Probe {
                sent_unix_nanos, ..
            } => *sent_unix_nanos,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::package::PackageSpec;
    use libp2p::identity::Keypair;

    #[test]
    fn gossip_messages_round_trip() {
        let package = PackageSpec::new("p", "1.0.0", "", &[])
            .unwrap()
            .sign(b"x", &Keypair::generate_ed25519(), 0)
            .unwrap();
        let now = 1_795_000_000_000_000_000;
        for message in [
            GossipMessage::Announce {
                package,
                sent_unix_nanos: now,
            },
            GossipMessage::Probe {
                origin: "12D3KooW".into(),
                id: 7,
                sent_unix_nanos: now + 1,
                padding: "xx".into(),
            },
        ] {
            let bytes = serde_json::to_vec(&message).unwrap();
            let back: GossipMessage = serde_json::from_slice(&bytes).unwrap();
            assert_eq!(back.sent_unix_nanos(), message.sent_unix_nanos());
        }
    }
}
