//! A running testbed: the runtime, its peers with their API clients, and what the phases
//! share (packages published so far, peers currently stopped).

use std::collections::HashSet;
use std::future::Future;
use std::time::{Duration, Instant};

use futures::StreamExt;
use p2p_api::metrics::{CONNECTED_PEERS, PROCESS_CPU_SECONDS_TOTAL, PROCESS_RESIDENT_MEMORY_BYTES};
use p2p_api::{ApiClient, ClientError};
use rand::rngs::StdRng;

use crate::runtime::{PeerSlot, Runtime};

/// HTTP calls to different nodes in flight at once.
pub const FAN_OUT: usize = 32;
/// A node's API must answer this fast once started.
pub const HEALTH_DEADLINE: Duration = Duration::from_secs(60);
/// One poll of a node's `/health` or `/status`: a node that takes longer counts as not ready.
pub const POLL_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, Clone)]
pub struct Peer {
    pub slot: PeerSlot,
    pub api: ApiClient,
    pub peer_id: String,
    /// `/ip4/<ip>/tcp/<port>/p2p/<peer id>` (or `/udp/<port>/quic-v1` for QUIC), for other
    /// peers to dial.
    pub addr: String,
}

#[derive(Debug, Clone)]
pub struct PublishedPackage {
    pub name: String,
    pub publisher: usize,
}

pub struct Testbed {
    pub runtime: Runtime,
    pub peers: Vec<Peer>,
    pub bootstrap_peers: Vec<usize>,
    pub published: Vec<PublishedPackage>,
    /// Peers stopped on purpose (churn); everything else must be running.
    pub stopped: HashSet<usize>,
    pub rng: StdRng,
    /// The run's link shaping (also for unshaped runs, which may still partition).
    pub shaping: Option<netem::ActiveShaping>,
    /// The wire the peers talk over.
    pub transport: p2p_api::Transport,
    /// Each peer's CPU seconds over the whole run, across its restarts.
    pub cpu: CpuLedger,
    /// The bar of the step under way: calls to the nodes done out of planned, with a rate.
    /// Hidden until a step shows one.
    pub progress: indicatif::ProgressBar,
}

/// Each peer's CPU time since the run began. A node counts its own CPU time from its start,
/// so a restarted peer's counter starts again from zero: the ledger keeps what the peer used
/// before (as last read) and adds it to what it reports after.
#[derive(Debug, Clone, Default)]
pub struct CpuLedger {
    /// Per peer: CPU seconds of its earlier lives, and the last reading of the current one.
    peers: std::collections::HashMap<usize, (f64, f64)>,
}

impl CpuLedger {
    /// Takes in a reading of peer `index`'s counter; returns its CPU seconds since the run
    /// began.
    pub fn observe(&mut self, index: usize, reading: f64) -> f64 {
        let (earlier, last) = self.peers.entry(index).or_insert((0.0, 0.0));
        if reading < *last {
            // Restarted since the last reading.
            *earlier += *last;
        }
        *last = reading;
        *earlier + reading
    }
}

impl Testbed {
    /// After peer `index` restarted: where it listens now (a replaced task may have another
    /// address), for the other peers, the phases and the link shaping.
    pub async fn relocate(&mut self, index: usize) -> Result<(), String> {
        if let Some(subnet) = self.runtime.learns_addresses() {
            let peer = &mut self.peers[index];
            let ip = reported_address(&peer.api, subnet).await?;
            if ip != peer.slot.ip {
                peer.slot.ip = ip;
                peer.addr = format!(
                    "{}/p2p/{}",
                    self.transport.multiaddr(peer.slot.p2p_socket()),
                    peer.peer_id
                );
            }
        }
        let (netns, _) = self.runtime.peer_network(index).await;
        let ip = self.peers[index].slot.ip;
        if let Some(shaping) = self.shaping.as_mut() {
            tokio::task::block_in_place(|| shaping.peer_restarted(index, netns, ip))
                .map_err(|e| p2p_api::error::chain(&e))?;
        }
        Ok(())
    }

    /// The runtime, for tearing down; the shaping goes first (dropping it removes it).
    pub fn into_runtime(mut self) -> Runtime {
        drop(self.shaping.take());
        self.runtime
    }

    /// Indices of the peers currently up.
    pub fn live(&self) -> Vec<usize> {
        (0..self.peers.len())
            .filter(|i| !self.stopped.contains(i))
            .collect()
    }

    /// Runs `op` on each of `indices` with at most [`FAN_OUT`] in flight, in order of
    /// completion, counting the calls on [`Testbed::progress`].
    pub async fn on_peers<'a, T, F, Fut>(&'a self, indices: &[usize], op: F) -> Vec<(usize, T)>
    where
        F: Fn(&'a Peer) -> Fut,
        Fut: Future<Output = T> + 'a,
    {
        self.counted(indices, FAN_OUT, op).await
    }

    /// [`Testbed::on_peers`] one peer after the other: for work that is the host's CPU alone
    /// (a local search), which peers running at once on shared cores would only queue behind
    /// each other, measuring the scheduler instead of the node.
    pub async fn on_peers_in_turn<'a, T, F, Fut>(
        &'a self,
        indices: &[usize],
        op: F,
    ) -> Vec<(usize, T)>
    where
        F: Fn(&'a Peer) -> Fut,
        Fut: Future<Output = T> + 'a,
    {
        self.counted(indices, 1, op).await
    }

    async fn counted<'a, T, F, Fut>(
        &'a self,
        indices: &[usize],
        fan_out: usize,
        op: F,
    ) -> Vec<(usize, T)>
    where
        F: Fn(&'a Peer) -> Fut,
        Fut: Future<Output = T> + 'a,
    {
        self.progress.inc_length(indices.len() as u64);
        at_most(indices, fan_out, |i| {
            let fut = op(&self.peers[i]);
            async move {
                let out = fut.await;
                self.progress.inc(1);
                out
            }
        })
        .await
    }

    /// [`Testbed::on_peers`] without counting: for polls that repeat until a condition holds.
    pub async fn poll_peers<'a, T, F, Fut>(&'a self, indices: &[usize], op: F) -> Vec<(usize, T)>
    where
        F: Fn(&'a Peer) -> Fut,
        Fut: Future<Output = T> + 'a,
    {
        at_most(indices, FAN_OUT, |i| op(&self.peers[i])).await
    }
}

/// Runs `op` on each of `indices`, at most `in_flight` at once, in order of completion.
async fn at_most<T, F, Fut>(indices: &[usize], in_flight: usize, op: F) -> Vec<(usize, T)>
where
    F: Fn(usize) -> Fut,
    Fut: Future<Output = T>,
{
    futures::stream::iter(indices.iter().copied())
        .map(|i| {
            let fut = op(i);
            async move { (i, fut.await) }
        })
        .buffer_unordered(in_flight.max(1))
        .collect()
        .await
}

/// A node that did not answer `/health` in time.
#[derive(Debug, thiserror::Error)]
#[error("not healthy after {deadline:?}")]
pub struct HealthError {
    deadline: Duration,
    /// The last answer, when there was one; `None` when the last poll timed out.
    #[source]
    last: Option<ClientError>,
}

/// Waits until the node answers `/health`, returning its peer id.
pub async fn wait_healthy(api: &ApiClient, deadline: Duration) -> Result<String, HealthError> {
    let started = Instant::now();
    loop {
        let last = match tokio::time::timeout(POLL_TIMEOUT, api.health()).await {
            Ok(Ok(health)) => return Ok(health.peer_id),
            Ok(Err(e)) => Some(e),
            Err(_) => None,
        };
        if started.elapsed() > deadline {
            return Err(HealthError { deadline, last });
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The address inside `subnet` that a node listens on, as it reports it in `/status` (for
/// runtimes whose addresses are the platform's to choose: [`Runtime::learns_addresses`]).
pub async fn reported_address(
    api: &ApiClient,
    subnet: ipnet::Ipv4Net,
) -> Result<std::net::Ipv4Addr, String> {
    let status = api.status().await.map_err(|e| p2p_api::error::chain(&e))?;
    address_in(&status.network.listen_addrs, subnet).ok_or_else(|| {
        format!(
            "it listens on no address in {subnet} (it reports {})",
            status.network.listen_addrs.join(", ")
        )
    })
}

/// The first `/ip4/<ip>/…` of `addrs` with its address inside `subnet`.
fn address_in(addrs: &[String], subnet: ipnet::Ipv4Net) -> Option<std::net::Ipv4Addr> {
    addrs.iter().find_map(|a| {
        let ip = a.strip_prefix("/ip4/")?.split('/').next()?.parse().ok()?;
        subnet.contains(&ip).then_some(ip)
    })
}

/// The figures read from a node's `/metrics`.
#[derive(Debug, Clone, Copy, Default)]
pub struct NodeMetrics {
    pub rss_bytes: Option<u64>,
    pub cpu_seconds: Option<f64>,
    pub connected_peers: Option<f64>,
}

impl NodeMetrics {
    /// Reads the unlabelled samples it needs from Prometheus text.
    pub fn parse(text: &str) -> Self {
        let value = |name: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
                .and_then(|v| v.trim().parse::<f64>().ok())
        };
        Self {
            rss_bytes: value(PROCESS_RESIDENT_MEMORY_BYTES).map(|v| v as u64),
            cpu_seconds: value(PROCESS_CPU_SECONDS_TOTAL),
            connected_peers: value(CONNECTED_PEERS),
        }
    }
}

/// Scrapes `/metrics` of the given peers and takes their CPU readings into the ledger; the
/// CPU seconds of each reading are then the peer's since the run began.
pub async fn scrape_cpu(
    testbed: &mut Testbed,
    indices: &[usize],
) -> Vec<(usize, Option<NodeMetrics>)> {
    let mut metrics = scrape(testbed, indices).await;
    for (i, m) in &mut metrics {
        if let Some(m) = m {
            m.cpu_seconds = m.cpu_seconds.map(|c| testbed.cpu.observe(*i, c));
        }
    }
    metrics
}

/// CPU seconds the peers in `before` used between two [`scrape_cpu`]s, and how many of
/// them could not be read on either side.
pub fn cpu_between(
    before: &[(usize, Option<NodeMetrics>)],
    after: &[(usize, Option<NodeMetrics>)],
) -> (f64, usize) {
    let (mut total, mut unread) = (0.0, 0);
    for (i, m) in before {
        let a = after
            .iter()
            .find(|(j, _)| j == i)
            .and_then(|(_, m)| m.as_ref()?.cpu_seconds);
        match (m.as_ref().and_then(|m| m.cpu_seconds), a) {
            (Some(b), Some(a)) => total += (a - b).max(0.0),
            _ => unread += 1,
        }
    }
    (total, unread)
}

/// Scrapes `/metrics` of the given peers.
pub async fn scrape(testbed: &Testbed, indices: &[usize]) -> Vec<(usize, Option<NodeMetrics>)> {
    testbed
        .on_peers(indices, |peer| async move {
            peer.api
                .metrics_text()
                .await
                .ok()
                .map(|t| NodeMetrics::parse(&t))
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reported_address_is_the_one_inside_the_subnet() {
        let subnet: ipnet::Ipv4Net = "10.213.0.0/16".parse().unwrap();
        let addrs = [
            "/ip4/172.18.0.3/tcp/4001".to_owned(),
            "/ip4/10.213.0.7/udp/4001/quic-v1".to_owned(),
        ];
        assert_eq!(
            address_in(&addrs, subnet),
            Some("10.213.0.7".parse().unwrap())
        );
        assert_eq!(address_in(&addrs[..1], subnet), None);
        assert_eq!(address_in(&["/dns4/x/tcp/1".to_owned()], subnet), None);
    }

    /// The most calls of [`at_most`] that were in flight at once.
    async fn most_in_flight(limit: usize) -> usize {
        let (now, most) = (
            std::sync::atomic::AtomicUsize::new(0),
            std::sync::atomic::AtomicUsize::new(0),
        );
        let indices: Vec<usize> = (0..10).collect();
        let done = at_most(&indices, limit, |i| {
            let (now, most) = (&now, &most);
            async move {
                let running = now.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
                most.fetch_max(running, std::sync::atomic::Ordering::SeqCst);
                for _ in 0..3 {
                    tokio::task::yield_now().await;
                }
                now.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
                i
            }
        })
        .await;
        assert_eq!(done.len(), 10, "every call completes");
        most.into_inner()
    }

    #[tokio::test]
    async fn in_turn_means_one_call_at_a_time_and_the_fan_out_overlaps() {
        assert_eq!(most_in_flight(1).await, 1);
        assert_eq!(most_in_flight(FAN_OUT).await, 10);
        assert_eq!(
            most_in_flight(0).await,
            1,
            "a limit of 0 still makes progress"
        );
    }

    #[test]
    fn cpu_survives_restarts() {
        let mut ledger = CpuLedger::default();
        assert_eq!(ledger.observe(3, 5.0), 5.0);
        assert_eq!(ledger.observe(3, 7.0), 7.0);
        // Restarted: its counter began again.
        assert_eq!(ledger.observe(3, 1.0), 8.0);
        assert_eq!(ledger.observe(3, 2.5), 9.5);
        assert_eq!(ledger.observe(4, 1.0), 1.0);

        let reading = |cpu| {
            Some(NodeMetrics {
                cpu_seconds: Some(cpu),
                ..NodeMetrics::default()
            })
        };
        let before = vec![(3, reading(7.0)), (4, reading(1.0)), (5, None)];
        let after = vec![(3, reading(9.5)), (4, reading(2.0)), (5, reading(1.0))];
        assert_eq!(cpu_between(&before, &after), (3.5, 1));
    }

    #[test]
    fn metrics_text_is_read() {
        let text = "# HELP x\nprocess_resident_memory_bytes 12345\nprocess_cpu_seconds_total 1.5\np2p_connected_peers 7\np2p_connected_peers_other 9\n";
        let m = NodeMetrics::parse(text);
        assert_eq!(m.rss_bytes, Some(12345));
        assert_eq!(m.cpu_seconds, Some(1.5));
        assert_eq!(m.connected_peers, Some(7.0));
        assert!(NodeMetrics::parse("").rss_bytes.is_none());
    }
}
