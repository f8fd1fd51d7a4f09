//! The wire peers talk over.

use std::net::SocketAddr;

use serde::{Deserialize, Serialize};

/// How peers reach each other: TCP with Noise and Yamux, or QUIC (TLS 1.3 and streams built
/// in). A node speaks both; the addresses it listens on decide which one its peers use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    #[default]
    Tcp,
    Quic,
}

impl Transport {
    /// The name used in scenarios, on the command line and in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Tcp => "tcp",
            Self::Quic => "quic",
        }
    }

    /// The libp2p address of a listener at `socket`.
    pub fn multiaddr(self, socket: SocketAddr) -> String {
        let ip = match socket.ip() {
            std::net::IpAddr::V4(ip) => format!("/ip4/{ip}"),
            std::net::IpAddr::V6(ip) => format!("/ip6/{ip}"),
        };
        match self {
            Self::Tcp => format!("{ip}/tcp/{}", socket.port()),
            Self::Quic => format!("{ip}/udp/{}/quic-v1", socket.port()),
        }
    }
}

impl std::str::FromStr for Transport {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "tcp" => Ok(Self::Tcp),
            "quic" => Ok(Self::Quic),
            other => Err(format!("unknown transport {other:?}: expected tcp or quic")),
        }
    }
}

impl std::fmt::Display for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_addresses() {
        let socket: SocketAddr = "10.0.0.2:4001".parse().unwrap();
        assert_eq!(Transport::Tcp.multiaddr(socket), "/ip4/10.0.0.2/tcp/4001");
        assert_eq!(
            Transport::Quic.multiaddr(socket),
            "/ip4/10.0.0.2/udp/4001/quic-v1"
        );
        assert_eq!("QUIC".parse::<Transport>().unwrap(), Transport::Quic);
        assert!("udp"
            .parse::<Transport>()
            .unwrap_err()
            .contains("tcp or quic"));
        assert_eq!(serde_json::to_string(&Transport::Quic).unwrap(), "\"quic\"");
    }
}
