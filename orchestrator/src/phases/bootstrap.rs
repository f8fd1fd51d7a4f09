//! Bring-up: every peer joins through Kademlia bootstrap, then the routing tables fill.

use std::time::{Duration, Instant};

use futures::StreamExt;
use p2p_api::error::chain;
use p2p_api::{BootstrapOutcome, ClientError};
use rand::seq::SliceRandom;

use super::{names, PhaseError};
use crate::results::PhaseReport;
use crate::scenario::Topology;
use crate::testbed::{Testbed, POLL_TIMEOUT};

const READY_DEADLINE: Duration = Duration::from_secs(120);

/// Bootstraps every peer per `topology`; the samples are each peer's Kademlia bootstrap time
/// as the node measured it.
pub async fn run(testbed: &mut Testbed, topology: Topology) -> Result<PhaseReport, PhaseError> {
    let n = testbed.peers.len();
    let mut samples = Vec::with_capacity(n);
    let mut errors = Vec::new();
    // The seeds' first peer joins nobody: it counts as joined.
    testbed.progress.set_position(1);
    let progress = testbed.progress.clone();
    let mut record = |outcome: Result<BootstrapOutcome, ClientError>| {
        progress.inc(1);
        match outcome {
            Ok(o) => samples.push(o.duration_s),
            Err(e) => errors.push(chain(&e)),
        }
    };
    match topology {
        Topology::BootstrapPeers { count, joins } => {
            let seeds: Vec<usize> = (0..count.min(n)).collect();
            testbed.bootstrap_peers = seeds.clone();
            // The seeds join each other first, one after the other.
            for &i in seeds.iter().skip(1) {
                let targets: Vec<String> = seeds[..i]
                    .iter()
                    .map(|&j| testbed.peers[j].addr.clone())
                    .collect();
                record(bootstrap(testbed, i, targets).await);
            }
            let seed_addrs: Vec<String> = seeds
                .iter()
                .map(|&j| testbed.peers[j].addr.clone())
                .collect();
            // At most `joins` peers join at once: a join storm of the whole network on a
            // couple of cores would measure the CPU, not the protocol.
            let joining = (seeds.len()..n).map(|i| &testbed.peers[i]);
            let mut outcomes = futures::stream::iter(joining)
                .map(|peer| {
                    let peers = seed_addrs.clone();
                    async move { peer.api.bootstrap(peers).await }
                })
                .buffer_unordered(joins);
            while let Some(outcome) = outcomes.next().await {
                record(outcome);
            }
        }
        Topology::RandomK { k } => {
            testbed.bootstrap_peers = vec![0];
            for i in 1..n {
                let mut earlier: Vec<usize> = (0..i).collect();
                earlier.shuffle(&mut testbed.rng);
                let targets = earlier
                    .iter()
                    .take(k)
                    .map(|&j| testbed.peers[j].addr.clone())
                    .collect();
                record(bootstrap(testbed, i, targets).await);
            }
        }
    }
    wait_for_routing(testbed).await?;
    Ok(PhaseReport::new(names::BOOTSTRAP, samples, errors))
}

async fn bootstrap(
    testbed: &Testbed,
    index: usize,
    peers: Vec<String>,
) -> Result<BootstrapOutcome, ClientError> {
    testbed.peers[index].api.bootstrap(peers).await
}

/// Waits until every live peer has a few peers in its routing table and a gossip mesh.
pub async fn wait_for_routing(testbed: &Testbed) -> Result<(), PhaseError> {
    let live = testbed.live();
    let wanted = (live.len() - 1).min(5);
    let started = Instant::now();
    loop {
        let statuses = testbed
            .poll_peers(&live, |peer| async move {
                tokio::time::timeout(POLL_TIMEOUT, peer.api.status())
                    .await
                    .ok()
                    .and_then(Result::ok)
            })
            .await;
        // Each lagging peer with what it lacks, for the error.
        let lagging: Vec<String> = statuses
            .iter()
            .filter_map(|(i, s)| {
                let name = &testbed.peers[*i].slot.name;
                match s {
                    None => Some(format!("{name} (no status)")),
                    Some(s)
                        if s.network.routing_table_size < wanted
                            || s.network.gossip_mesh_peers == 0 =>
                    {
                        Some(format!(
                            "{name} ({} in its routing table, {} in its gossip mesh, {} connected)",
                            s.network.routing_table_size,
                            s.network.gossip_mesh_peers,
                            s.network.connected_peers
                        ))
                    }
                    Some(_) => None,
                }
            })
            .collect();
        // The bar counts ready peers, poll after poll.
        testbed.progress.set_message("bootstrap: routing filled");
        testbed.progress.set_length(live.len() as u64);
        testbed
            .progress
            .set_position((live.len() - lagging.len()) as u64);
        if lagging.is_empty() {
            return Ok(());
        }
        if started.elapsed() >= READY_DEADLINE {
            return Err(PhaseError::NotReady {
                after: READY_DEADLINE,
                lagging: lagging.len(),
                example: lagging[0].clone(),
            });
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Rejoins peers that were restarted, through the bootstrap peers.
pub async fn rejoin(
    testbed: &Testbed,
    indices: &[usize],
) -> Vec<Result<BootstrapOutcome, ClientError>> {
    let seeds: Vec<String> = testbed
        .bootstrap_peers
        .iter()
        .filter(|i| !testbed.stopped.contains(i))
        .map(|&i| testbed.peers[i].addr.clone())
        .collect();
    testbed
        .on_peers(indices, |peer| {
            let peers = seeds.clone();
            async move { peer.api.bootstrap(peers).await }
        })
        .await
        .into_iter()
        .map(|(_, r)| r)
        .collect()
}
