//! Keeps the number of connected peers between two watermarks, as go-libp2p's connection
//! manager does.
//!
//! rust-libp2p closes a connection after its idle timeout only when no stream is open on it,
//! and gossipsub 0.50 keeps a long-lived stream open with every peer that speaks it
//! (rust-libp2p#5190), so every connection a Kademlia query opens stays open for good: a
//! network of a few hundred nodes drifts towards a full mesh and then runs into the hard
//! connection cap, where dials are denied and lookups miss the nodes holding a record. This
//! manager closes the excess instead: when more than `high` peers are connected it
//! disconnects the least recently active ones down to `low`, sparing gossip mesh peers and
//! peers that connected or were active within the grace period.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use libp2p::PeerId;

/// How long a peer is spared after it connected or was last seen active: longer than a
/// request may take (15 s), so a request in flight is not cut off.
pub(super) const DEFAULT_GRACE: Duration = Duration::from_secs(20);

/// The watermarks of [`ConnectionManager`], in connected peers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Watermarks {
    /// Trimming stops at this many peers.
    pub low: u32,
    /// Trimming starts above this many peers.
    pub high: u32,
}

impl Watermarks {
    /// `low` ≤ `high` ≤ the hard cap (`high` equal to the cap turns trimming off).
    pub fn new(low: u32, high: u32, max_connections: u32) -> Result<Self, String> {
        if low > high {
            return Err(format!(
                "connection low watermark {low} is above the high watermark {high}"
            ));
        }
        if high > max_connections {
            return Err(format!(
                "connection high watermark {high} exceeds the connection limit {max_connections}"
            ));
        }
        Ok(Self { low, high })
    }

    /// The defaults for a connection limit: high 64 and low 32, or half the limit and a
    /// quarter of it when the limit is lower than 128.
    pub fn for_limit(max_connections: u32) -> Self {
        Self::trimming_from(64.min(max_connections / 2))
    }

    /// Trimming above `high` down to half of it.
    pub fn trimming_from(high: u32) -> Self {
        Self {
            low: high / 2,
            high,
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Activity {
    /// When the peer connected or did something we saw (a request, a gossip message, an
    /// identify exchange), whichever is later.
    last_active: Instant,
}

#[derive(Debug)]
pub(super) struct ConnectionManager {
    watermarks: Watermarks,
    grace: Duration,
    peers: HashMap<PeerId, Activity>,
}

impl ConnectionManager {
    pub(super) fn new(watermarks: Watermarks, grace: Duration) -> Self {
        Self {
            watermarks,
            grace,
            peers: HashMap::new(),
        }
    }

    /// A connection to `peer` was established.
    pub(super) fn connected(&mut self, peer: PeerId, now: Instant) {
        self.peers.insert(peer, Activity { last_active: now });
    }

    /// `peer` did something; ignored unless it is connected.
    pub(super) fn touch(&mut self, peer: &PeerId, now: Instant) {
        if let Some(activity) = self.peers.get_mut(peer) {
            activity.last_active = now;
        }
    }

    /// The last connection to `peer` closed.
    pub(super) fn disconnected(&mut self, peer: &PeerId) {
        self.peers.remove(peer);
    }

    pub(super) fn connected_peers(&self) -> usize {
        self.peers.len()
    }

    /// Peers to disconnect now, least recently active first: none while at most `high` peers
    /// are connected, otherwise enough to come down to `low`, never a peer `protected` names
    /// nor one active within the grace period. `protected` is asked once, and only when there
    /// is something to trim.
    pub(super) fn to_trim(
        &self,
        now: Instant,
        protected: impl FnOnce() -> HashSet<PeerId>,
    ) -> Vec<PeerId> {
        let connected = self.peers.len();
        if connected <= self.watermarks.high as usize {
            return Vec::new();
        }
        let excess = connected - self.watermarks.low as usize;
        let protected = protected();
        let mut candidates: Vec<(Instant, PeerId)> = self
            .peers
            .iter()
            .filter(|(peer, activity)| {
                now.saturating_duration_since(activity.last_active) >= self.grace
                    && !protected.contains(peer)
            })
            .map(|(peer, activity)| (activity.last_active, *peer))
            .collect();
        candidates.sort_unstable();
        candidates
            .into_iter()
            .take(excess)
            .map(|(_, peer)| peer)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GRACE: Duration = Duration::from_secs(20);

    /// A manager with `n` peers, the i-th last active `n - i` seconds before `now` plus the
    /// grace period, so all are past it and the first is the least recently active.
    fn manager(low: u32, high: u32, n: usize) -> (ConnectionManager, Vec<PeerId>, Instant) {
        let start = Instant::now();
        let now = start + GRACE + Duration::from_secs(n as u64 + 1);
        let mut m = ConnectionManager::new(Watermarks { low, high }, GRACE);
        let peers: Vec<PeerId> = (0..n).map(|_| PeerId::random()).collect();
        for (i, p) in peers.iter().enumerate() {
            m.connected(*p, start + Duration::from_secs(i as u64));
        }
        (m, peers, now)
    }

    #[test]
    fn nothing_is_trimmed_up_to_the_high_watermark() {
        let (m, _, now) = manager(2, 5, 5);
        assert!(m.to_trim(now, HashSet::new).is_empty());
    }

    #[test]
    fn above_the_high_watermark_the_least_recently_active_go_down_to_low() {
        let (m, peers, now) = manager(2, 5, 6);
        assert_eq!(m.to_trim(now, HashSet::new), peers[..4].to_vec());
    }

    #[test]
    fn protected_peers_and_peers_within_grace_are_spared() {
        let (mut m, peers, now) = manager(2, 5, 8);
        m.touch(&peers[0], now - GRACE / 2);
        let trimmed = m.to_trim(now, || HashSet::from([peers[1]]));
        assert_eq!(trimmed, peers[2..8].to_vec());
    }

    #[test]
    fn activity_moves_a_peer_to_the_back_and_disconnection_forgets_it() {
        let (mut m, peers, now) = manager(1, 2, 4);
        m.touch(&peers[0], now - GRACE - Duration::from_millis(1));
        m.disconnected(&peers[3]);
        // Activity of a peer that is not connected (a failed request) is not a connection.
        m.touch(&PeerId::random(), now);
        assert_eq!(m.connected_peers(), 3);
        assert_eq!(m.to_trim(now, HashSet::new), vec![peers[1], peers[2]]);
    }

    #[test]
    fn watermarks_are_checked_against_each_other_and_the_limit() {
        assert!(Watermarks::new(40, 30, 128).is_err());
        assert!(Watermarks::new(30, 129, 128).is_err());
        assert!(Watermarks::new(1, 1, 1).is_ok());
        assert_eq!(
            Watermarks::new(30, 60, 128),
            Ok(Watermarks { low: 30, high: 60 })
        );
        assert_eq!(Watermarks::for_limit(256), Watermarks { low: 32, high: 64 });
        assert_eq!(Watermarks::for_limit(50), Watermarks { low: 12, high: 25 });
    }
}
