//! Churn: stop a fraction of the peers mid-run, measure lookups while they are gone, bring
//! them back, and measure again from the returning peers.

use rand::seq::SliceRandom;

use p2p_api::error::chain;

use super::bootstrap;
use super::lookup::lookups_from;
use super::{names, PhaseError};
use crate::results::PhaseReport;
use crate::scenario::ChurnPhase;
use crate::testbed::{wait_healthy, Testbed, HEALTH_DEADLINE};

/// Seekers sampled among the survivors.
const SEEKERS: usize = 20;
const CONCURRENCY: usize = 4;

pub(super) async fn run(
    testbed: &mut Testbed,
    phase: &ChurnPhase,
) -> Result<Vec<PhaseReport>, PhaseError> {
    let live = testbed.live();
    let mut candidates: Vec<usize> = live
        .iter()
        .copied()
        .filter(|i| !testbed.bootstrap_peers.contains(i))
        .collect();
    candidates.shuffle(&mut testbed.rng);
    let count =
        ((live.len() as f64 * phase.fraction).round() as usize).clamp(1, candidates.len().max(1));
    let victims: Vec<usize> = candidates.into_iter().take(count).collect();
    if victims.is_empty() {
        return Err(PhaseError::Precondition(
            "churn: no peer to stop besides the bootstrap peers".into(),
        ));
    }

    // Their last CPU reading before they stop, so the phase's CPU figure keeps it.
    crate::testbed::scrape_cpu(testbed, &victims).await;
    for &i in &victims {
        testbed.runtime.stop_peer(i).await?;
        testbed.stopped.insert(i);
    }
    let mut survivors = testbed.live();
    survivors.shuffle(&mut testbed.rng);
    survivors.truncate(SEEKERS);
    let during = lookups_from(
        testbed,
        names::CHURN_LOOKUP,
        &survivors,
        phase.lookups_per_peer,
        CONCURRENCY,
    )
    .await?;

    for &i in &victims {
        testbed.runtime.restart_peer(i).await?;
    }
    for &i in &victims {
        let peer = &testbed.peers[i];
        wait_healthy(&peer.api, HEALTH_DEADLINE)
            .await
            .map_err(|source| PhaseError::NotBack {
                peer: peer.slot.name.clone(),
                source,
            })?;
        testbed
            .relocate(i)
            .await
            .map_err(|detail| PhaseError::NotRelocated {
                peer: testbed.peers[i].slot.name.clone(),
                detail,
            })?;
        testbed.stopped.remove(&i);
    }
    let rejoined = bootstrap::rejoin(testbed, &victims).await;
    let (mut rejoin_samples, mut rejoin_errors) = (Vec::new(), Vec::new());
    for outcome in rejoined {
        match outcome {
            Ok(o) => rejoin_samples.push(o.duration_s),
            Err(e) => rejoin_errors.push(chain(&e)),
        }
    }
    let after = lookups_from(
        testbed,
        names::CHURN_RECOVERY,
        &victims,
        phase.lookups_per_peer,
        CONCURRENCY,
    )
    .await?;
    let mut rejoin = PhaseReport::new(names::CHURN_REJOIN, rejoin_samples, rejoin_errors);
    rejoin
        .extra
        .insert("stopped_peers".into(), victims.len() as f64);
    Ok(vec![during, rejoin, after])
}
