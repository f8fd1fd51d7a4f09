//! TCP that dials from the node's own listen address.
//!
//! libp2p-tcp dials from the listen *port* on the unspecified address (`0.0.0.0:<port>`,
//! "port reuse"). On a host where several nodes listen on addresses of their own (the local
//! runtime on `127.77.x.y`, the tests on loopback) that goes wrong twice:
//! - the kernel picks the source address, `127.0.0.1`, not the node's: peers see connections
//!   from an address that is not the node's, and link shaping keyed on the nodes' addresses
//!   lets them through unshaped (a local run at 5 ms shaped only its own verification probes);
//! - binding `0.0.0.0:<port>` fails with EADDRINUSE whenever any other socket without
//!   SO_REUSEPORT holds that port on any address (an HTTP client's connection, say), and
//!   libp2p-tcp retries with a fresh port only on EADDRNOTAVAIL: such a node can then dial no
//!   one, ever — every dial fails at once. This is what left nodes isolated after their
//!   bootstrap now and then.
//!
//! [`TcpDialFromListenIp`] keeps libp2p-tcp for listening and dials itself: from the node's
//! listen IP when it listens on one specific address (the kernel picks the port), from wherever
//! the kernel routes otherwise. The node does no NAT hole punching, the one thing port reuse is
//! for.
//!
//! Every connection it makes or accepts caps its retransmission back-off
//! ([`super::tcp_rto`]).

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::task::{Context, Poll};

use futures::future::{BoxFuture, MapOk};
use futures::{FutureExt, TryFutureExt};
use libp2p::core::transport::{DialOpts, ListenerId, TransportError, TransportEvent};
use libp2p::core::Transport;
use libp2p::multiaddr::Protocol;
use libp2p::tcp::tokio::TcpStream;
use libp2p::{tcp, Multiaddr};

use super::tcp_rto::cap_back_off;

/// An accepted connection being set up: libp2p-tcp's, capped once it is there.
type Inbound =
    MapOk<<tcp::tokio::Transport as Transport>::ListenerUpgrade, fn(TcpStream) -> TcpStream>;

pub(super) struct TcpDialFromListenIp {
    inner: tcp::tokio::Transport,
    /// The address dials go out from, when the node listens on one specific address.
    bind: Option<IpAddr>,
}

impl TcpDialFromListenIp {
    /// TCP for a node that listens on `listen`: dials go out from its first specific IP.
    pub(super) fn new(config: tcp::Config, listen: &[Multiaddr]) -> Self {
        let bind = listen
            .iter()
            .filter_map(|addr| socket_addr(addr).map(|s| s.ip()))
            .find(|ip| !ip.is_unspecified());
        Self {
            inner: tcp::tokio::Transport::new(config),
            bind,
        }
    }
}

/// `ip:port` of `/ip4|ip6/…/tcp/…` (a trailing `/p2p/…` is allowed).
fn socket_addr(addr: &Multiaddr) -> Option<SocketAddr> {
    let mut parts = addr.iter();
    let ip: IpAddr = match parts.next()? {
        Protocol::Ip4(ip) => ip.into(),
        Protocol::Ip6(ip) => ip.into(),
        _ => return None,
    };
    let Protocol::Tcp(port) = parts.next()? else {
        return None;
    };
    match parts.next() {
        None | Some(Protocol::P2p(_)) => Some(SocketAddr::new(ip, port)),
        Some(_) => None,
    }
}

impl Transport for TcpDialFromListenIp {
    type Output = TcpStream;
    type Error = io::Error;
    type ListenerUpgrade = Inbound;
    type Dial = BoxFuture<'static, io::Result<TcpStream>>;

    fn listen_on(
        &mut self,
        id: ListenerId,
        addr: Multiaddr,
    ) -> Result<(), TransportError<Self::Error>> {
        self.inner.listen_on(id, addr)
    }

    fn remove_listener(&mut self, id: ListenerId) -> bool {
        self.inner.remove_listener(id)
    }

    fn dial(
        &mut self,
        addr: Multiaddr,
        _opts: DialOpts,
    ) -> Result<Self::Dial, TransportError<Self::Error>> {
        let target = match socket_addr(&addr) {
            Some(t) if t.port() != 0 && !t.ip().is_unspecified() => t,
            _ => return Err(TransportError::MultiaddrNotSupported(addr)),
        };
        // The source must be of the target's family, and loopback only towards loopback.
        let bind = self.bind.filter(|ip| {
            ip.is_ipv4() == target.is_ipv4() && ip.is_loopback() == target.ip().is_loopback()
        });
        Ok(async move {
            let socket = if target.is_ipv4() {
                tokio::net::TcpSocket::new_v4()?
            } else {
                tokio::net::TcpSocket::new_v6()?
            };
            if let Some(ip) = bind {
                socket.bind(SocketAddr::new(ip, 0))?;
            }
            let stream = socket.connect(target).await?;
            stream.set_nodelay(true)?;
            cap_back_off(&stream);
            Ok(TcpStream(stream))
        }
        .boxed())
    }

    fn poll(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<TransportEvent<Self::ListenerUpgrade, Self::Error>> {
        Pin::new(&mut self.inner).poll(cx).map(|event| {
            event.map_upgrade(|upgrade| upgrade.map_ok(accepted as fn(TcpStream) -> TcpStream))
        })
    }
}

/// An accepted connection, its back-off capped.
fn accepted(stream: TcpStream) -> TcpStream {
    cap_back_off(&stream.0);
    stream
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_read_with_or_without_a_peer_id() {
        let plain: Multiaddr = "/ip4/127.77.0.3/tcp/4001".parse().unwrap();
        assert_eq!(
            socket_addr(&plain),
            Some("127.77.0.3:4001".parse().unwrap())
        );
        let with_peer = plain.with_p2p(libp2p::PeerId::random()).unwrap();
        assert_eq!(
            socket_addr(&with_peer),
            Some("127.77.0.3:4001".parse().unwrap())
        );
        assert_eq!(
            socket_addr(&"/ip4/1.2.3.4/udp/1/quic-v1".parse().unwrap()),
            None
        );
        assert_eq!(socket_addr(&"/memory/1".parse().unwrap()), None);
    }

    /// Two nodes on their own loopback addresses: a connection from one to the other comes
    /// from the dialer's listen address — also while another socket, without SO_REUSEPORT,
    /// holds the dialer's listen port on another address (which made libp2p-tcp's dials from
    /// `0.0.0.0:<port>` fail with EADDRINUSE, every one of them).
    #[tokio::test]
    async fn dials_leave_from_the_listen_address() {
        let listener = tokio::net::TcpListener::bind("127.77.0.9:0").await.unwrap();
        let target = listener.local_addr().unwrap();
        let holder = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = holder.local_addr().unwrap().port();
        let own: Multiaddr = format!("/ip4/127.77.0.8/tcp/{port}").parse().unwrap();
        let mut transport =
            TcpDialFromListenIp::new(tcp::Config::default(), std::slice::from_ref(&own));
        transport.listen_on(ListenerId::next(), own).unwrap();
        let addr: Multiaddr = format!("/ip4/{}/tcp/{}", target.ip(), target.port())
            .parse()
            .unwrap();
        let dial = transport
            .dial(
                addr,
                DialOpts {
                    role: libp2p::core::Endpoint::Dialer,
                    port_use: libp2p::core::transport::PortUse::Reuse,
                },
            )
            .unwrap();
        let (dialed, accepted) = tokio::join!(dial, listener.accept());
        let (_stream, from) = accepted.unwrap();
        assert_eq!(from.ip(), "127.77.0.8".parse::<IpAddr>().unwrap());
        drop(dialed.unwrap());
        drop(holder);
    }

    /// Both ends of a connection cap their retransmission back-off, and keep Linux's default
    /// lifetime under an outage.
    #[tokio::test]
    async fn dialed_and_accepted_connections_cap_their_back_off() {
        use futures::StreamExt;

        use super::super::tcp_rto::{back_off_cap, lifetime, OUTAGE_LIFETIME_MS, RTO_MAX_MS};

        let own: Multiaddr = "/ip4/127.0.0.1/tcp/0".parse().unwrap();
        let mut listening =
            TcpDialFromListenIp::new(tcp::Config::default(), std::slice::from_ref(&own));
        listening.listen_on(ListenerId::next(), own).unwrap();
        let mut listening = Box::pin(listening);
        let mut events =
            futures::stream::poll_fn(|cx| listening.as_mut().poll(cx).map(Some)).boxed();
        let TransportEvent::NewAddress {
            listen_addr: address,
            ..
        } = events.next().await.unwrap()
        else {
            panic!("the listener reported something before its address");
        };
        let mut dialing = TcpDialFromListenIp::new(tcp::Config::default(), &[]);
        let dial = dialing
            .dial(
                address,
                DialOpts {
                    role: libp2p::core::Endpoint::Dialer,
                    port_use: libp2p::core::transport::PortUse::New,
                },
            )
            .unwrap();
        let accept = async {
            loop {
                if let TransportEvent::Incoming { upgrade, .. } = events.next().await.unwrap() {
                    break upgrade.await.unwrap();
                }
            }
        };
        let (dialed, accepted) = tokio::join!(dial, accept);
        let dialed = dialed.unwrap();
        for (end, stream) in [("dialed", &dialed.0), ("accepted", &accepted.0)] {
            assert_eq!(
                lifetime(stream),
                OUTAGE_LIFETIME_MS,
                "the {end} connection's lifetime"
            );
            match back_off_cap(stream) {
                Some(got) => assert_eq!(got, RTO_MAX_MS, "the {end} connection's back-off cap"),
                None => eprintln!(
                    "SKIPPED: this kernel has no TCP_RTO_MAX_MS (Linux 6.15); the {end} connection's cap is not checked"
                ),
            }
        }
    }
}
