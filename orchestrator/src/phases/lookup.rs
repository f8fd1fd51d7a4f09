//! DHT lookups of published package records from random peers.

use p2p_api::DhtLookupBench;
use rand::seq::SliceRandom;

use p2p_api::error::chain;

use super::{names, sample_peers, PhaseError};
use crate::results::PhaseReport;
use crate::scenario::DhtLookupPhase;
use crate::testbed::Testbed;

pub(super) async fn run(
    testbed: &mut Testbed,
    phase: &DhtLookupPhase,
) -> Result<PhaseReport, PhaseError> {
    run_named(
        testbed,
        names::DHT_LOOKUP,
        phase.peers,
        phase.lookups_per_peer,
        phase.concurrency,
    )
    .await
}

/// Lookups of packages published by other peers, from `peers` random live peers.
pub(super) async fn run_named(
    testbed: &mut Testbed,
    name: &str,
    peers: usize,
    lookups_per_peer: usize,
    concurrency: usize,
) -> Result<PhaseReport, PhaseError> {
    if testbed.published.is_empty() {
        return Err(PhaseError::Precondition(format!(
            "{name} needs a publish phase before it"
        )));
    }
    let seekers = sample_peers(testbed, peers);
    lookups_from(testbed, name, &seekers, lookups_per_peer, concurrency).await
}

pub(super) async fn lookups_from(
    testbed: &mut Testbed,
    name: &str,
    seekers: &[usize],
    lookups_per_peer: usize,
    concurrency: usize,
) -> Result<PhaseReport, PhaseError> {
    let mut requests = Vec::with_capacity(seekers.len());
    for &seeker in seekers {
        let candidates: Vec<&str> = testbed
            .published
            .iter()
            .filter(|p| p.publisher != seeker)
            .map(|p| p.name.as_str())
            .collect();
        let keys: Vec<String> = (0..lookups_per_peer)
            .filter_map(|_| candidates.choose(&mut testbed.rng).map(|s| (*s).to_owned()))
            .collect();
        requests.push((seeker, DhtLookupBench { keys, concurrency }));
    }
    let requests = &requests;
    let results = testbed
        .on_peers(seekers, |peer| {
            let request = requests
                .iter()
                .find(|(s, _)| *s == peer.slot.index)
                .map(|(_, r)| r.clone());
            async move {
                let request = request.expect("a request per seeker");
                peer.api.bench_dht_lookup(&request).await
            }
        })
        .await;
    let mut kad_requests = Vec::new();
    let mut parts = Vec::new();
    for (_, result) in results {
        match result {
            Ok(r) => {
                kad_requests.extend(r.kad_requests.iter().map(|&k| f64::from(k)));
                parts.push((r.samples, r.errors));
            }
            Err(e) => parts.push((Vec::new(), vec![chain(&e)])),
        }
    }
    let mut report = super::merge(name, parts);
    if !kad_requests.is_empty() {
        report.extra.insert(
            "kad_requests_mean".into(),
            kad_requests.iter().sum::<f64>() / kad_requests.len() as f64,
        );
    }
    let total = report.summary.count + report.errors;
    if total > 0 {
        report.extra.insert(
            "success_rate".into(),
            report.summary.count as f64 / total as f64,
        );
    }
    Ok(report)
}
