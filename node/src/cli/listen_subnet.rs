//! `--listen-subnet`: listen on this host's own address inside a network, for hosts with
//! several interfaces whose addresses are only known once the host is up (a Docker Swarm task
//! has one on the run's overlay and one on `docker_gwbridge`). Only that address is listened
//! on, so it is the only one the node announces and other peers dial.

use std::net::Ipv4Addr;

use ipnet::Ipv4Net;
use libp2p::multiaddr::Protocol;
use libp2p::Multiaddr;

/// Why no address could be chosen.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ListenSubnetError {
    #[error("listing this host's interface addresses")]
    Interfaces(#[source] nix::Error),
    #[error("no interface of this host has an address in {subnet} (found: {found})")]
    NoAddress { subnet: Ipv4Net, found: String },
    #[error("--listen {addr}: with --listen-subnet every listen address must be /ip4/0.0.0.0/…")]
    NotUnspecified { addr: Multiaddr },
}

/// The host's IPv4 addresses, in interface order.
fn host_addresses() -> Result<Vec<Ipv4Addr>, ListenSubnetError> {
    Ok(nix::ifaddrs::getifaddrs()
        .map_err(ListenSubnetError::Interfaces)?
        .filter_map(|i| i.address?.as_sockaddr_in().map(|a| a.ip()))
        .collect())
}

/// The first of `addresses` inside `subnet`.
fn choose(subnet: Ipv4Net, addresses: &[Ipv4Addr]) -> Result<Ipv4Addr, ListenSubnetError> {
    addresses
        .iter()
        .copied()
        .find(|a| subnet.contains(a))
        .ok_or_else(|| ListenSubnetError::NoAddress {
            subnet,
            found: addresses
                .iter()
                .map(Ipv4Addr::to_string)
                .collect::<Vec<_>>()
                .join(", "),
        })
}

/// `listen` with the unspecified address of each replaced by `ip`.
fn bind_to(listen: Vec<Multiaddr>, ip: Ipv4Addr) -> Result<Vec<Multiaddr>, ListenSubnetError> {
    listen
        .into_iter()
        .map(|addr| {
            let mut protocols = addr.iter();
            match protocols.next() {
                Some(Protocol::Ip4(any)) if any.is_unspecified() => {
                    Ok(std::iter::once(Protocol::Ip4(ip))
                        .chain(protocols)
                        .collect())
                }
                _ => Err(ListenSubnetError::NotUnspecified { addr: addr.clone() }),
            }
        })
        .collect()
}

/// The listen addresses to use: `listen` as given, or bound to this host's address in
/// `subnet`.
pub(crate) fn resolve(
    listen: Vec<Multiaddr>,
    subnet: Option<Ipv4Net>,
) -> Result<Vec<Multiaddr>, ListenSubnetError> {
    match subnet {
        None => Ok(listen),
        Some(subnet) => bind_to(listen, choose(subnet, &host_addresses()?)?),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_address_inside_the_subnet_is_chosen_whatever_comes_first() {
        let found = [
            Ipv4Addr::new(127, 0, 0, 1),
            Ipv4Addr::new(172, 18, 0, 5),
            Ipv4Addr::new(10, 77, 0, 9),
        ];
        let subnet: Ipv4Net = "10.77.0.0/16".parse().unwrap();
        assert_eq!(choose(subnet, &found).unwrap(), found[2]);
        let other: Ipv4Net = "192.168.0.0/16".parse().unwrap();
        let e = choose(other, &found).unwrap_err().to_string();
        assert!(
            e.contains("192.168.0.0/16") && e.contains("172.18.0.5"),
            "{e}"
        );
    }

    #[test]
    fn only_unspecified_listen_addresses_are_bound() {
        let ip = Ipv4Addr::new(10, 77, 0, 9);
        let listen = vec![
            "/ip4/0.0.0.0/tcp/4001".parse().unwrap(),
            "/ip4/0.0.0.0/udp/4001/quic-v1".parse().unwrap(),
        ];
        let bound = bind_to(listen, ip).unwrap();
        assert_eq!(bound[0].to_string(), "/ip4/10.77.0.9/tcp/4001");
        assert_eq!(bound[1].to_string(), "/ip4/10.77.0.9/udp/4001/quic-v1");
        let fixed = vec!["/ip4/127.0.0.1/tcp/4001".parse().unwrap()];
        assert!(matches!(
            bind_to(fixed, ip),
            Err(ListenSubnetError::NotUnspecified { .. })
        ));
    }

    #[test]
    fn this_host_has_a_loopback_address() {
        let subnet: Ipv4Net = "127.0.0.0/8".parse().unwrap();
        let listen = vec!["/ip4/0.0.0.0/tcp/4001".parse().unwrap()];
        let bound = resolve(listen, Some(subnet)).unwrap();
        assert!(bound[0].to_string().starts_with("/ip4/127."), "{bound:?}");
    }
}
