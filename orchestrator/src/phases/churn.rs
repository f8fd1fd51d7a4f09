//! Churn: stop a fraction of the peers mid-run, measure lookups while they are gone, bring
//! them back, and measure again from the returning peers.

use rand::seq::SliceRandom;

use super::bootstrap;
use super::lookup::lookups_from;
use crate::results::PhaseReport;
use crate::scenario::ChurnPhase;
use crate::testbed::{wait_healthy, Testbed, HEALTH_DEADLINE};

/// Seekers sampled among the survivors.
const SEEKERS: usize = 20;
const CONCURRENCY: usize = 4;

pub(super) async fn run(
    testbed: &mut Testbed,
    phase: &ChurnPhase,
) -> anyhow::Result<Vec<PhaseReport>> {
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
    anyhow::ensure!(
        !victims.is_empty(),
        "churn: no peer to stop besides the bootstrap peers"
    );

    for &i in &victims {
        testbed.runtime.stop_peer(i).await?;
        testbed.stopped.insert(i);
    }
    let mut survivors = testbed.live();
    survivors.shuffle(&mut testbed.rng);
    survivors.truncate(SEEKERS);
    let during = lookups_from(
        testbed,
        "churn_lookup",
        &survivors,
        phase.lookups_per_peer,
        CONCURRENCY,
    )
    .await?;

    for &i in &victims {
        testbed.runtime.restart_peer(i).await?;
        let (netns, _) = testbed.runtime.peer_network(i).await;
        if let Some(shaping) = testbed.shaping.as_mut() {
            tokio::task::block_in_place(|| shaping.peer_restarted(i, netns))?;
        }
    }
    for &i in &victims {
        wait_healthy(&testbed.peers[i].api, HEALTH_DEADLINE).await?;
        testbed.stopped.remove(&i);
    }
    let rejoined = bootstrap::rejoin(testbed, &victims).await;
    let (mut rejoin_samples, mut rejoin_errors) = (Vec::new(), Vec::new());
    for outcome in rejoined {
        match outcome {
            Ok(o) => rejoin_samples.push(o.duration_s),
            Err(e) => rejoin_errors.push(format!("{e:#}")),
        }
    }
    let after = lookups_from(
        testbed,
        "churn_recovery",
        &victims,
        phase.lookups_per_peer,
        CONCURRENCY,
    )
    .await?;
    let mut rejoin = PhaseReport::new("churn_rejoin", rejoin_samples, rejoin_errors);
    rejoin
        .extra
        .insert("stopped_peers".into(), victims.len() as f64);
    Ok(vec![during, rejoin, after])
}
