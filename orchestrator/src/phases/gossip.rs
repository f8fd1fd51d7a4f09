//! Gossip propagation: one peer publishes probes; every other peer reports when each arrived.

use std::collections::{HashMap, HashSet};

use p2p_api::GossipBench;
use rand::seq::SliceRandom;

use p2p_api::error::chain;

use super::{names, PhaseError};
use crate::results::PhaseReport;
use crate::scenario::GossipPhase;
use crate::testbed::Testbed;

/// Two reports: `gossip`, the latency of every receipt, and `gossip_network_wide`, per
/// message the time until the last peer had it, with `coverage` = receipts / expected.
pub(super) async fn run(
    testbed: &mut Testbed,
    phase: &GossipPhase,
) -> Result<Vec<PhaseReport>, PhaseError> {
    let live = testbed.live();
    let clears = testbed
        .on_peers(&live, |peer| async move {
            peer.api.clear_gossip_received().await
        })
        .await;
    for (i, cleared) in clears {
        cleared.map_err(PhaseError::api(&testbed.peers[i].slot.name))?;
    }
    let publisher = *live.choose(&mut testbed.rng).expect("a live peer");
    let request = GossipBench {
        count: phase.messages,
        payload_bytes: phase.payload_bytes,
        interval_ms: phase.interval.as_millis() as u64,
    };
    let publisher_peer = &testbed.peers[publisher];
    let published = publisher_peer
        .api
        .bench_gossip(&request)
        .await
        .map_err(PhaseError::api(&publisher_peer.slot.name))?;
    tokio::time::sleep(phase.settle).await;

    let receivers: Vec<usize> = live.iter().copied().filter(|&i| i != publisher).collect();
    let ids: HashSet<&str> = published.ids.iter().map(String::as_str).collect();
    let receipts = testbed
        .on_peers(&receivers, |peer| async move {
            peer.api.gossip_received().await
        })
        .await;
    let mut per_receipt = Vec::new();
    let mut errors: Vec<String> = published.result.errors.clone();
    let mut by_message: HashMap<&str, Vec<f64>> = HashMap::new();
    for (i, received) in receipts {
        match received {
            Ok(r) => {
                for sample in r.samples.iter().filter(|s| ids.contains(s.id.as_str())) {
                    per_receipt.push(sample.latency_s);
                    let id = *ids.get(sample.id.as_str()).expect("filtered on ids");
                    by_message.entry(id).or_default().push(sample.latency_s);
                }
            }
            Err(e) => errors.push(format!("{}: {}", testbed.peers[i].slot.name, chain(&e))),
        }
    }
    let expected = published.ids.len() * receivers.len();
    let coverage = if expected == 0 {
        0.0
    } else {
        per_receipt.len() as f64 / expected as f64
    };
    // A message's network-wide time counts only once every receiver has it.
    let complete: Vec<f64> = by_message
        .values()
        .filter(|latencies| latencies.len() == receivers.len())
        .map(|latencies| latencies.iter().copied().fold(0.0, f64::max))
        .collect();
    let incomplete = published.ids.len() - complete.len();
    let mut network_wide = PhaseReport::new(
        names::GOSSIP_NETWORK_WIDE,
        complete,
        (0..incomplete)
            .map(|_| "a message did not reach every peer".to_owned())
            .collect(),
    );
    network_wide.extra.insert("coverage".into(), coverage);
    network_wide
        .extra
        .insert("receivers".into(), receivers.len() as f64);
    let mut per_peer = PhaseReport::new(names::GOSSIP, per_receipt, errors);
    per_peer.extra.insert("coverage".into(), coverage);
    Ok(vec![per_peer, network_wide])
}
