//! What a run asks of the shaper: the peers, the region each is in, and so the link between
//! every two of them.

use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::time::Duration;

use ipnet::Ipv4Net;

use crate::link::LinkSpec;
use crate::profile::Profile;

/// Where the peers' traffic flows, which decides where it can be caught.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fabric {
    /// Containers on a Linux bridge (Docker): peer-to-peer packets cross the bridge's
    /// FORWARD hook (with `br_netfilter`), and each peer has its own network namespace.
    Bridge,
    /// Processes on loopback addresses of the host: packets cross `lo`.
    Loopback,
    /// Docker Swarm tasks on an overlay network: on each node they hang off a bridge inside
    /// the network's own namespace ([`ShapingPlan::namespace`]), next to the VXLAN device that
    /// carries packets to other nodes. A packet is shaped once, on the node it leaves from:
    /// what arrives over VXLAN was shaped by its sender's node.
    Overlay,
}

/// One peer as the shaper sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShapedPeer {
    pub ip: Ipv4Addr,
    /// Its network namespace (`/proc/<pid>/ns/net`), where the kernel backend puts qdiscs.
    pub netns: Option<PathBuf>,
    /// The interface inside that namespace facing the other peers.
    pub interface: String,
}

/// The whole shaping request of a run.
#[derive(Debug, Clone)]
pub struct ShapingPlan {
    /// Names the iptables chain, the queue and the qdiscs it leaves (see [`crate::names`]).
    pub run_id: String,
    pub fabric: Fabric,
    /// Every peer address lies in here; rules match it.
    pub subnet: Ipv4Net,
    pub peers: Vec<ShapedPeer>,
    pub profile: Profile,
    /// The network namespace the rules and the delay line live in; `None` for the host's own.
    pub namespace: Option<PathBuf>,
    by_ip: HashMap<Ipv4Addr, usize>,
}

impl ShapingPlan {
    /// Peers are put in the profile's regions in turn: peer `i` in region `i % regions`.
    pub fn new(
        run_id: &str,
        fabric: Fabric,
        subnet: Ipv4Net,
        peers: Vec<ShapedPeer>,
        profile: Profile,
    ) -> Self {
        let by_ip = peers.iter().enumerate().map(|(i, p)| (p.ip, i)).collect();
        Self {
            run_id: run_id.to_owned(),
            fabric,
            subnet,
            peers,
            profile,
            namespace: None,
            by_ip,
        }
    }

    /// The plan with its rules and delay line in the network namespace at `path`.
    pub fn in_namespace(mut self, path: PathBuf) -> Self {
        self.namespace = Some(path);
        self
    }

    /// Peer `index` came back at another address (a Swarm task that was replaced).
    pub fn set_ip(&mut self, index: usize, ip: Ipv4Addr) {
        self.by_ip.retain(|_, i| *i != index);
        self.by_ip.insert(ip, index);
        self.peers[index].ip = ip;
    }

    /// Processes of the host on loopback addresses within `subnet`: what the local runtime
    /// runs, and what tests and measurements of the delay line use.
    pub fn loopback(run_id: &str, subnet: Ipv4Net, ips: &[Ipv4Addr], profile: Profile) -> Self {
        let peers = ips
            .iter()
            .map(|&ip| ShapedPeer {
                ip,
                netns: None,
                interface: "lo".into(),
            })
            .collect();
        Self::new(run_id, Fabric::Loopback, subnet, peers, profile)
    }

    /// The region peer `index` is in.
    pub fn region_of(&self, index: usize) -> usize {
        self.profile.region_of(index)
    }

    pub fn region_name(&self, index: usize) -> &str {
        &self.profile.regions[self.region_of(index)]
    }

    /// The link from peer `from` to peer `to`.
    pub fn link(&self, from: usize, to: usize) -> &LinkSpec {
        &self.profile.links[self.region_of(from)][self.region_of(to)]
    }

    /// The link a packet from `src` to `dst` takes; `None` when either is not a peer.
    pub fn link_between(&self, src: Ipv4Addr, dst: Ipv4Addr) -> Option<&LinkSpec> {
        Some(self.link(*self.by_ip.get(&src)?, *self.by_ip.get(&dst)?))
    }

    /// The round trip the configuration gives between two peers.
    pub fn configured_rtt(&self, a: usize, b: usize) -> Duration {
        crate::link::round_trip(self.link(a, b), self.link(b, a))
    }

    pub fn index_of(&self, ip: Ipv4Addr) -> Option<usize> {
        self.by_ip.get(&ip).copied()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn plan(profile: Profile, peers: usize) -> ShapingPlan {
        let peers = (0..peers)
            .map(|i| ShapedPeer {
                ip: Ipv4Addr::new(10, 99, 0, 2 + i as u8),
                netns: Some(PathBuf::from(format!("/proc/{}/ns/net", 1000 + i))),
                interface: "eth0".into(),
            })
            .collect();
        ShapingPlan::new(
            "20261127-101500-beef",
            Fabric::Bridge,
            "10.99.0.0/16".parse().unwrap(),
            peers,
            profile,
        )
    }

    #[test]
    fn peers_take_regions_in_turn_and_links_follow_them() {
        let p = plan(Profile::load("global").unwrap(), 7);
        assert_eq!(p.region_name(0), "us-east");
        assert_eq!(p.region_name(1), "eu-central");
        assert_eq!(p.region_name(5), "us-east");
        assert_eq!(p.configured_rtt(0, 1), Duration::from_secs_f64(0.0886));
        assert_eq!(p.configured_rtt(0, 5), Duration::from_secs_f64(0.002));
        let (a, b) = (p.peers[0].ip, p.peers[1].ip);
        assert_eq!(p.link_between(a, b), Some(p.link(0, 1)));
        assert_eq!(p.link_between(a, Ipv4Addr::new(10, 99, 0, 1)), None);
    }

    #[test]
    fn a_peer_that_moves_is_found_at_its_new_address_only() {
        let mut p = plan(Profile::load("global").unwrap(), 3);
        let (old, new) = (p.peers[1].ip, Ipv4Addr::new(10, 99, 0, 200));
        p.set_ip(1, new);
        assert_eq!(p.index_of(new), Some(1));
        assert_eq!(p.index_of(old), None);
        assert_eq!(p.link_between(p.peers[0].ip, new), Some(p.link(0, 1)));
    }
}
