//! Local and network searches, and network search throughput at rising concurrency.

use p2p_api::error::chain;
use p2p_api::{ClientError, PhaseResult, Scope, SearchBench};

use super::{names, random_query, sample_peers};
use crate::results::PhaseReport;
use crate::scenario::{ConcurrentSearchPhase, SearchPhase};
use crate::testbed::{Peer, Testbed};

pub(super) async fn run(testbed: &mut Testbed, phase: &SearchPhase) -> PhaseReport {
    let (name, scope) = match phase.scope {
        Scope::Local => (names::SEARCH_LOCAL, Scope::Local),
        Scope::Network => (names::SEARCH_NETWORK, Scope::Network),
    };
    let seekers = sample_peers(testbed, phase.peers);
    let requests: Vec<(usize, SearchBench)> = seekers
        .iter()
        .map(|&i| {
            let queries = (0..phase.queries_per_peer)
                .map(|_| random_query(&mut testbed.rng))
                .collect();
            (
                i,
                SearchBench {
                    queries,
                    scope,
                    concurrency: phase.concurrency,
                    limit: None,
                    timeout_ms: None,
                },
            )
        })
        .collect();
    let requests = &requests;
    // A local search is a few microseconds of one peer's CPU and no network: twenty peers
    // searching at once on a couple of shared cores would time each other's preemptions.
    let results = match scope {
        Scope::Local => {
            testbed
                .on_peers_in_turn(&seekers, |peer| search_on(peer, requests))
                .await
        }
        Scope::Network => {
            testbed
                .on_peers(&seekers, |peer| search_on(peer, requests))
                .await
        }
    };
    super::merge(
        name,
        results.into_iter().map(|(_, r)| match r {
            Ok(r) => (r.samples, r.errors),
            Err(e) => (Vec::new(), vec![chain(&e)]),
        }),
    )
}

/// The searches `requests` holds for `peer`, run by the peer.
async fn search_on(
    peer: &Peer,
    requests: &[(usize, SearchBench)],
) -> Result<PhaseResult, ClientError> {
    let request = requests
        .iter()
        .find(|(i, _)| *i == peer.slot.index)
        .map(|(_, r)| r)
        .expect("a request per seeker");
    peer.api.bench_search(request).await
}

/// For each level L, L network searches in flight at once on one peer, `rounds × L` in all;
/// throughput is completed searches per second of the node's wall time.
pub(super) async fn run_concurrent(
    testbed: &mut Testbed,
    phase: &ConcurrentSearchPhase,
) -> Vec<PhaseReport> {
    let live = testbed.live();
    let mut reports = Vec::with_capacity(phase.levels.len());
    for (round, &level) in phase.levels.iter().enumerate() {
        let peer = &testbed.peers[live[round % live.len()]];
        let queries = (0..level * phase.rounds)
            .map(|_| random_query(&mut testbed.rng))
            .collect();
        let request = SearchBench {
            queries,
            scope: Scope::Network,
            concurrency: level,
            limit: None,
            timeout_ms: None,
        };
        let name = names::concurrent_search(level);
        let report = match peer.api.bench_search(&request).await {
            Ok(r) => {
                let operations = r.samples.len();
                let mut report = PhaseReport::new(name, r.samples, r.errors);
                report.set_throughput(operations, r.wall_s);
                report
            }
            Err(e) => PhaseReport::new(name, Vec::new(), vec![chain(&e)]),
        };
        reports.push(report);
    }
    reports
}
