//! Round-trip times to other peers with no application work in between, on their libp2p
//! port. For TCP, a handshake: a SYN there and a SYN-ACK back. For QUIC, a packet of a
//! version nobody speaks, which a QUIC server answers at once with the versions it does
//! (RFC 9000 §6), before any cryptography. The orchestrator uses these to check that link
//! shaping took effect before it trusts any other figure.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::{Duration, Instant};

use p2p_api::Transport;
use tokio::net::{TcpSocket, UdpSocket};

/// How the round trips of one target are paced.
#[derive(Debug, Clone, Copy)]
pub struct Pace {
    /// Longest wait for one answer.
    pub timeout: Duration,
    /// Least time from the start of one round trip to the start of the next.
    pub interval: Duration,
}

/// The time of `count` round trips from `bind` (the node's own address, so that the packets
/// carry it, as libp2p's do) to the `transport` listener at `target`, one after the other.
pub async fn round_trips(
    transport: Transport,
    bind: Option<IpAddr>,
    target: SocketAddr,
    count: usize,
    Pace { timeout, interval }: Pace,
) -> (Vec<f64>, Vec<String>) {
    let mut samples = Vec::with_capacity(count);
    let mut errors = Vec::new();
    let mut next = tokio::time::Instant::now();
    for _ in 0..count {
        tokio::time::sleep_until(next).await;
        next = tokio::time::Instant::now() + interval;
        let timed = match transport {
            Transport::Tcp => tcp_handshake(bind, target, timeout).await,
            Transport::Quic => quic_version_negotiation(bind, target, timeout).await,
        };
        match timed {
            Ok(rtt) => samples.push(rtt.as_secs_f64()),
            Err(e) => errors.push(format!("{target}: {e}")),
        }
    }
    (samples, errors)
}

fn timed_out(timeout: Duration, what: &str) -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::TimedOut,
        format!("no {what} within {timeout:?}"),
    )
}

async fn tcp_handshake(
    bind: Option<IpAddr>,
    target: SocketAddr,
    timeout: Duration,
) -> std::io::Result<Duration> {
    let socket = match target {
        SocketAddr::V4(_) => TcpSocket::new_v4()?,
        SocketAddr::V6(_) => TcpSocket::new_v6()?,
    };
    if let Some(ip) = bind {
        socket.bind(SocketAddr::new(ip, 0))?;
    }
    let started = Instant::now();
    let stream = tokio::time::timeout(timeout, socket.connect(target))
        .await
        .map_err(|_| timed_out(timeout, "handshake"))??;
    let rtt = started.elapsed();
    drop(stream);
    Ok(rtt)
}

/// The smallest datagram a QUIC server answers with a version negotiation (RFC 9000 §14.1).
const MIN_INITIAL_SIZE: usize = 1200;
/// A version of the form 0x?a?a?a?a, reserved so that no endpoint ever speaks it (§15).
const UNSPOKEN_VERSION: u32 = 0x1a2a_3a4a;

/// A long-header packet of [`UNSPOKEN_VERSION`] from connection id `scid` to `dcid`, padded
/// to [`MIN_INITIAL_SIZE`].
fn version_probe(dcid: [u8; 8], scid: [u8; 8]) -> Vec<u8> {
    let mut packet = Vec::with_capacity(MIN_INITIAL_SIZE);
    packet.push(0xc0); // long header, fixed bit
    packet.extend_from_slice(&UNSPOKEN_VERSION.to_be_bytes());
    packet.push(dcid.len() as u8);
    packet.extend_from_slice(&dcid);
    packet.push(scid.len() as u8);
    packet.extend_from_slice(&scid);
    packet.resize(MIN_INITIAL_SIZE, 0);
    packet
}

/// Whether `datagram` is a version negotiation packet (long header, version 0) addressed to
/// connection id `scid`.
fn is_version_negotiation_for(datagram: &[u8], scid: &[u8; 8]) -> bool {
    datagram.len() >= 6
        && datagram[0] & 0x80 != 0
        && datagram[1..5] == [0, 0, 0, 0]
        && usize::from(datagram[5]) == scid.len()
        && datagram.get(6..6 + scid.len()) == Some(&scid[..])
}

async fn quic_version_negotiation(
    bind: Option<IpAddr>,
    target: SocketAddr,
    timeout: Duration,
) -> std::io::Result<Duration> {
    let unspecified = match target {
        SocketAddr::V4(_) => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        SocketAddr::V6(_) => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
    };
    let socket = UdpSocket::bind(SocketAddr::new(bind.unwrap_or(unspecified), 0)).await?;
    socket.connect(target).await?;
    let (dcid, scid): ([u8; 8], [u8; 8]) = (rand::random(), rand::random());
    let started = Instant::now();
    socket.send(&version_probe(dcid, scid)).await?;
    let mut buf = [0u8; 1500];
    let answer = async {
        loop {
            let n = socket.recv(&mut buf).await?;
            if is_version_negotiation_for(&buf[..n], &scid) {
                return Ok::<_, std::io::Error>(started.elapsed());
            }
        }
    };
    tokio::time::timeout(timeout, answer)
        .await
        .map_err(|_| timed_out(timeout, "version negotiation"))?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn handshakes_to_a_listener_are_timed_and_refusals_are_errors() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { while listener.accept().await.is_ok() {} });
        let started = std::time::Instant::now();
        let (samples, errors) = round_trips(
            Transport::Tcp,
            Some("127.0.0.1".parse().unwrap()),
            addr,
            3,
            Pace {
                timeout: Duration::from_secs(5),
                interval: Duration::from_millis(50),
            },
        )
        .await;
        assert!(
            started.elapsed() >= Duration::from_millis(100),
            "spaced out"
        );
        assert_eq!((samples.len(), errors.len()), (3, 0));
        assert!(samples.iter().all(|s| *s > 0.0 && *s < 1.0));

        let closed = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let (samples, errors) = round_trips(
            Transport::Tcp,
            None,
            closed,
            2,
            Pace {
                timeout: Duration::from_secs(5),
                interval: Duration::ZERO,
            },
        )
        .await;
        assert_eq!((samples.len(), errors.len()), (0, 2));
        assert!(errors[0].contains(&closed.to_string()), "{errors:?}");
    }

    #[test]
    fn the_probe_is_a_padded_long_header_packet_and_answers_are_matched() {
        let probe = version_probe([1; 8], [2; 8]);
        assert_eq!(probe.len(), MIN_INITIAL_SIZE);
        assert_eq!(probe[0] & 0xc0, 0xc0);
        assert_eq!(probe[1..5], UNSPOKEN_VERSION.to_be_bytes());
        let mut answer = vec![0x80, 0, 0, 0, 0, 8];
        answer.extend_from_slice(&[2; 8]);
        answer.extend_from_slice(&[8, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 1]);
        assert!(is_version_negotiation_for(&answer, &[2; 8]));
        assert!(!is_version_negotiation_for(&answer, &[3; 8]));
        answer[4] = 1;
        assert!(!is_version_negotiation_for(&answer, &[2; 8]));
    }
}
