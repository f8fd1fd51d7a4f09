//! Which Kademlia bootstraps run, and how far.
//!
//! A bootstrap is a lookup of the node's own id followed by one lookup per farther bucket:
//! tens of lookups, each a few round trips to three peers at a time. The node starts its own
//! and runs them in full: the join (`POST /bootstrap`), a refresh every
//! `NetworkConfig::periodic_bootstrap` on its own timer, and one follow-up half a second
//! after a join that left the routing table with fewer than `K` peers. Peers that join at
//! the same moment ask the same seeds before the seeds know of one another, and nothing else
//! would make them meet until the refresh, minutes later (`tests/join.rs`: three joiners of
//! six were left apart in 4 of 30 runs).
//!
//! libp2p-kad 0.49 also starts one by itself, half a second after a peer enters a routing
//! table of fewer than `K` (20) peers. It checks the size when the peer is added, not when the
//! bootstrap runs, and the throttle cannot be configured (its setter is `cfg(test)`), so in a
//! forming network every node ran a second full bootstrap once its own join had already
//! filled its table, and the early nodes ran one per wave of joiners. What libp2p meant is
//! kept: each step of such a bootstrap is judged once, when it is first seen, and ended if the
//! table holds `K` peers by then. In a smaller table it runs as before. (Ending them all,
//! whatever the table, left groups of peers that joined together unknown to each other.)
//! The right depth for this is libp2p-kad itself; until it lets the throttle be set, this is
//! the node's.

use std::collections::HashMap;
use std::num::NonZeroUsize;
use std::time::Duration;

use libp2p::kad::{self, store::MemoryStore, QueryId, QueryInfo};
use tokio::time::{Instant, Interval, MissedTickBehavior};

use super::behaviour::routing_table_size;

/// A routing table this full has no use for a bootstrap libp2p starts on its own: `K`, the
/// size libp2p itself checks against when it schedules one.
pub(super) const FULL_TABLE: usize = kad::K_VALUE.get();

/// How long after a join that left a small table the follow-up starts: libp2p's own throttle
/// for its automatic bootstrap, long enough for peers joining at the same time to reach the
/// seeds.
const FOLLOW_UP_DELAY: Duration = Duration::from_millis(500);

/// Why the node started a bootstrap of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Purpose {
    /// `POST /bootstrap`: followed up when it leaves a small table.
    Join,
    /// The periodic refresh, or a join's follow-up.
    Refresh,
}

/// A bootstrap libp2p started.
#[derive(Debug, Default)]
struct Other {
    /// The last step judged.
    judged: Option<NonZeroUsize>,
    /// Whether a step of it was ended (it is counted once).
    cut: bool,
}

#[derive(Debug)]
pub(super) struct Bootstraps {
    ours: HashMap<QueryId, Purpose>,
    others: HashMap<QueryId, Other>,
    refresh: Option<Interval>,
    follow_up: Option<Instant>,
}

impl Bootstraps {
    /// `refresh`: how often the node refreshes its routing table with a full bootstrap of its
    /// own (`None`: never). libp2p's periodic bootstrap must be off: it could not be told
    /// apart from the automatic one.
    pub(super) fn new(refresh: Option<Duration>) -> Self {
        let refresh = refresh.map(|period| {
            let mut interval = tokio::time::interval_at(Instant::now() + period, period);
            interval.set_missed_tick_behavior(MissedTickBehavior::Delay);
            interval
        });
        Self {
            ours: HashMap::new(),
            others: HashMap::new(),
            refresh,
            follow_up: None,
        }
    }

    /// Starts a bootstrap of the node's own, which runs in full.
    pub(super) fn start(
        &mut self,
        kad: &mut kad::Behaviour<MemoryStore>,
        purpose: Purpose,
    ) -> Result<QueryId, kad::NoKnownPeers> {
        let id = kad.bootstrap()?;
        self.ours.insert(id, purpose);
        Ok(id)
    }

    /// A step of bootstrap `id` ended, `last` when it was the bootstrap's last. The routing
    /// table is counted only at a join's last step.
    pub(super) fn progressed(
        &mut self,
        id: QueryId,
        last: bool,
        kad: &mut kad::Behaviour<MemoryStore>,
    ) {
        if !last {
            return;
        }
        self.others.remove(&id);
        if self.ours.remove(&id) == Some(Purpose::Join) && routing_table_size(kad) < FULL_TABLE {
            self.follow_up = Some(Instant::now() + FOLLOW_UP_DELAY);
        }
    }

    /// Judges each step of a bootstrap libp2p started that has not been judged yet, and ends
    /// it if the routing table is full. Returns how many bootstraps were cut for the first
    /// time. Cheap when there is nothing to judge: one pass over the queries in flight.
    pub(super) fn cut_others(&mut self, kad: &mut kad::Behaviour<MemoryStore>) -> u64 {
        let unjudged = |bootstraps: &Self, id: QueryId, step: NonZeroUsize| {
            !bootstraps.ours.contains_key(&id)
                && bootstraps
                    .others
                    .get(&id)
                    .is_none_or(|other| other.judged != Some(step))
        };
        let running: Vec<(QueryId, NonZeroUsize)> = kad
            .iter_queries()
            .filter_map(|query| match query.info() {
                QueryInfo::Bootstrap { step, .. } => Some((query.id(), step.count)),
                _ => None,
            })
            .collect();
        // A bootstrap that ended without a last step seen (ended by libp2p, say) is forgotten
        // here, so the map holds only what runs.
        self.others
            .retain(|id, _| running.iter().any(|&(running, _)| running == *id));
        let pending: Vec<(QueryId, NonZeroUsize)> = running
            .into_iter()
            .filter(|&(id, step)| unjudged(self, id, step))
            .collect();
        if pending.is_empty() {
            return 0;
        }
        let full = routing_table_size(kad) >= FULL_TABLE;
        let mut newly_cut = 0;
        for (id, step) in pending {
            let other = self.others.entry(id).or_default();
            other.judged = Some(step);
            if !full {
                continue;
            }
            if let Some(mut query) = kad.query_mut(&id) {
                query.finish();
            }
            if !other.cut {
                other.cut = true;
                newly_cut += 1;
            }
        }
        newly_cut
    }

    /// Resolves when a refresh of the node's own is due: the periodic one or a join's
    /// follow-up. Cancel-safe.
    pub(super) async fn refresh_due(&mut self) {
        let follow_up = self.follow_up;
        let periodic = async {
            match &mut self.refresh {
                Some(interval) => {
                    interval.tick().await;
                }
                None => std::future::pending().await,
            }
        };
        let follow_up = async {
            match follow_up {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            () = periodic => {}
            () = follow_up => {}
        }
        // Either one refreshes the table: a follow-up due as well is not needed.
        self.follow_up = None;
    }
}

#[cfg(test)]
mod tests {
    use futures::future::poll_fn;
    use libp2p::kad::store::MemoryStore;
    use libp2p::swarm::{NetworkBehaviour, ToSwarm};
    use libp2p::{Multiaddr, PeerId};

    use super::*;

    /// A Kademlia behaviour outside any swarm, with `peers` made-up peers in its table: its
    /// queries can only send dials that never complete, so a query ends only if it is ended.
    fn kademlia(peers: usize) -> kad::Behaviour<MemoryStore> {
        let local = PeerId::random();
        let mut config = kad::Config::new(libp2p::StreamProtocol::new("/test/kad/1.0.0"));
        config.set_periodic_bootstrap_interval(None);
        let mut kad = kad::Behaviour::with_config(local, MemoryStore::new(local), config);
        kad.set_mode(Some(kad::Mode::Server));
        let addr: Multiaddr = "/ip4/192.0.2.1/tcp/4001".parse().unwrap();
        for _ in 0..peers {
            kad.add_address(&PeerId::random(), addr.clone());
        }
        kad
    }

    /// Polls `kad` for up to `wait`, cutting after every event as the event loop does;
    /// returns whether a bootstrap was seen, whether one is still running at the end, and the
    /// number of bootstraps cut.
    async fn drive(kad: &mut kad::Behaviour<MemoryStore>, wait: Duration) -> (bool, bool, u64) {
        let mut bootstraps = Bootstraps::new(None);
        let mut seen = false;
        let mut cut = 0;
        let deadline = tokio::time::Instant::now() + wait;
        while tokio::time::Instant::now() < deadline {
            let polled = tokio::time::timeout_at(deadline, poll_fn(|cx| kad.poll(cx))).await;
            let Ok(event) = polled else { break };
            if let ToSwarm::GenerateEvent(kad::Event::OutboundQueryProgressed {
                id,
                result: kad::QueryResult::Bootstrap(_),
                step,
                ..
            }) = &event
            {
                bootstraps.progressed(*id, step.last, kad);
            }
            seen |= kad
                .iter_queries()
                .any(|q| matches!(q.info(), QueryInfo::Bootstrap { .. }));
            cut += bootstraps.cut_others(kad);
            let running = kad
                .iter_queries()
                .any(|q| matches!(q.info(), QueryInfo::Bootstrap { .. }));
            if seen && !running {
                break;
            }
        }
        let running = kad
            .iter_queries()
            .any(|q| matches!(q.info(), QueryInfo::Bootstrap { .. }));
        (seen, running, cut)
    }

    #[tokio::test]
    async fn an_automatic_bootstrap_in_a_full_table_is_ended() {
        let mut kad = kademlia(FULL_TABLE + 5);
        let (seen, running, cut) = drive(&mut kad, Duration::from_secs(3)).await;
        assert!(seen, "libp2p started no bootstrap of its own");
        assert!(!running, "the automatic bootstrap still runs");
        assert_eq!(cut, 1);
    }

    /// Whether a refresh is due within two seconds.
    async fn due(bootstraps: &mut Bootstraps) -> Result<(), tokio::time::error::Elapsed> {
        tokio::time::timeout(Duration::from_secs(2), bootstraps.refresh_due()).await
    }

    #[tokio::test]
    async fn only_a_join_that_leaves_a_small_table_is_followed_up() {
        let mut full = kademlia(FULL_TABLE);
        let mut small = kademlia(5);
        let mut bootstraps = Bootstraps::new(None);
        let join = bootstraps.start(&mut full, Purpose::Join).unwrap();
        bootstraps.progressed(join, true, &mut full);
        assert!(
            due(&mut bootstraps).await.is_err(),
            "a full table was followed up"
        );
        let refresh = bootstraps.start(&mut small, Purpose::Refresh).unwrap();
        bootstraps.progressed(refresh, true, &mut small);
        assert!(
            due(&mut bootstraps).await.is_err(),
            "a refresh was followed up"
        );
        let join = bootstraps.start(&mut small, Purpose::Join).unwrap();
        bootstraps.progressed(join, false, &mut small);
        assert!(
            due(&mut bootstraps).await.is_err(),
            "a join was followed up mid-way"
        );
        bootstraps.progressed(join, true, &mut small);
        assert!(
            due(&mut bootstraps).await.is_ok(),
            "no follow-up of a small table"
        );
        assert!(due(&mut bootstraps).await.is_err(), "a second follow-up");
    }

    #[tokio::test]
    async fn an_automatic_bootstrap_in_a_small_table_runs() {
        let mut kad = kademlia(5);
        let (seen, running, cut) = drive(&mut kad, Duration::from_secs(3)).await;
        assert!(seen, "libp2p started no bootstrap of its own");
        assert!(
            running,
            "the automatic bootstrap of a small table was ended"
        );
        assert_eq!(cut, 0);
    }
}
