//! Round-trip times to other peers, measured as TCP handshakes on their libp2p port: a SYN
//! there and a SYN-ACK back, with no application work in between. The orchestrator uses it to
//! check that link shaping took effect before it trusts any other figure.

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use tokio::net::TcpSocket;

/// The time of `count` handshakes from `bind` (the node's own address, so that the packets
/// carry it, as libp2p's do) to `target`, one after the other.
pub async fn handshake_times(
    bind: Option<IpAddr>,
    target: SocketAddr,
    count: usize,
    timeout: Duration,
) -> (Vec<f64>, Vec<String>) {
    let mut samples = Vec::with_capacity(count);
    let mut errors = Vec::new();
    for _ in 0..count {
        match handshake(bind, target, timeout).await {
            Ok(rtt) => samples.push(rtt.as_secs_f64()),
            Err(e) => errors.push(format!("{target}: {e}")),
        }
    }
    (samples, errors)
}

async fn handshake(
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
        .map_err(|_| {
            std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                format!("no handshake within {timeout:?}"),
            )
        })??;
    let rtt = started.elapsed();
    drop(stream);
    Ok(rtt)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn handshakes_to_a_listener_are_timed_and_refusals_are_errors() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { while listener.accept().await.is_ok() {} });
        let (samples, errors) = handshake_times(
            Some("127.0.0.1".parse().unwrap()),
            addr,
            3,
            Duration::from_secs(5),
        )
        .await;
        assert_eq!((samples.len(), errors.len()), (3, 0));
        assert!(samples.iter().all(|s| *s > 0.0 && *s < 1.0));

        let closed = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let (samples, errors) = handshake_times(None, closed, 2, Duration::from_secs(5)).await;
        assert_eq!((samples.len(), errors.len()), (0, 2));
        assert!(errors[0].contains(&closed.to_string()), "{errors:?}");
    }
}
