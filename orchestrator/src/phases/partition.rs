//! Partition: cut a share of the peers off from the rest (iptables DROP rules in the run's
//! chain, both ways), check that the cut holds and that each side still reaches itself,
//! measure lookups across it while it stands, heal it, and measure again.
//!
//! Reports: `partition_lookup` (lookups from the cut-off side while cut), `partition_recovery`
//! (the same after healing), and `partition_reachability`: the round trips of same-side
//! handshakes during the cut, with the share of cross-cut handshakes blocked
//! (`cross_blocked`) and of same-side handshakes that went through (`same_side_reached`).

use std::time::{Duration, Instant};

use p2p_api::RttProbe;
use rand::seq::SliceRandom;

use super::lookup::lookups_from;
use super::{names, PhaseError};
use crate::results::PhaseReport;
use crate::scenario::PartitionPhase;
use crate::testbed::Testbed;

/// Seekers sampled on the cut-off side.
const SEEKERS: usize = 10;
/// Handshake pairs sampled across the cut and on each side.
const PROBES: usize = 10;
const CONCURRENCY: usize = 4;

pub(super) async fn run(
    testbed: &mut Testbed,
    phase: &PartitionPhase,
) -> Result<Vec<PhaseReport>, PhaseError> {
    if testbed.published.is_empty() {
        return Err(PhaseError::Precondition(
            "partition needs a publish phase before it".into(),
        ));
    }
    let mut live = testbed.live();
    live.shuffle(&mut testbed.rng);
    let cut = ((live.len() as f64 * phase.fraction).round() as usize).clamp(1, live.len() - 1);
    let (side_a, side_b) = live.split_at(cut);
    let (side_a, side_b) = (side_a.to_vec(), side_b.to_vec());

    let shaping = testbed
        .shaping
        .as_mut()
        .ok_or_else(|| PhaseError::Precondition("partition: the run has no shaper".into()))?;
    tokio::task::block_in_place(|| shaping.partition(&side_a, &side_b))?;
    let cut_at = Instant::now();

    let cross: Vec<(usize, usize)> = pairs(&side_a, &side_b, PROBES, testbed);
    let mut same: Vec<(usize, usize)> = pairs(&side_a, &side_a, PROBES / 2, testbed);
    same.extend(pairs(&side_b, &side_b, PROBES / 2, testbed));
    let crossed = handshakes(testbed, &cross).await;
    let stayed = handshakes(testbed, &same).await;

    let mut seekers = side_a.clone();
    seekers.truncate(SEEKERS);
    let during = lookups_from(
        testbed,
        names::PARTITION_LOOKUP,
        &seekers,
        phase.lookups_per_peer,
        CONCURRENCY,
    )
    .await;
    if let Some(left) = phase.duration.checked_sub(cut_at.elapsed()) {
        tokio::time::sleep(left).await;
    }
    let held = cut_at.elapsed();
    let shaping = testbed
        .shaping
        .as_mut()
        .ok_or_else(|| PhaseError::Precondition("partition: the run has no shaper".into()))?;
    tokio::task::block_in_place(|| shaping.heal())?;
    let during = during?;
    let after = lookups_from(
        testbed,
        names::PARTITION_RECOVERY,
        &seekers,
        phase.lookups_per_peer,
        CONCURRENCY,
    )
    .await?;

    let share = |ok: usize, of: usize| if of == 0 { 0.0 } else { ok as f64 / of as f64 };
    let same_side: Vec<f64> = stayed.iter().flatten().copied().collect();
    let mut reach = PhaseReport::new(names::PARTITION_REACHABILITY, same_side.clone(), Vec::new());
    reach.extra.insert(
        "cross_blocked".into(),
        share(
            crossed.iter().filter(|rtt| rtt.is_none()).count(),
            crossed.len(),
        ),
    );
    reach.extra.insert(
        "same_side_reached".into(),
        share(same_side.len(), stayed.len()),
    );
    reach.extra.insert("side_a".into(), side_a.len() as f64);
    reach.extra.insert("side_b".into(), side_b.len() as f64);
    reach.extra.insert("held_s".into(), held.as_secs_f64());
    Ok(vec![during, after, reach])
}

/// Up to `count` random ordered pairs of distinct peers, the first from `from`, the second
/// from `to`.
fn pairs(from: &[usize], to: &[usize], count: usize, testbed: &mut Testbed) -> Vec<(usize, usize)> {
    let mut all: Vec<(usize, usize)> = from
        .iter()
        .flat_map(|&a| to.iter().filter(move |&&b| b != a).map(move |&b| (a, b)))
        .collect();
    all.shuffle(&mut testbed.rng);
    all.truncate(count);
    all
}

/// The round trip of a TCP handshake (or QUIC version negotiation) from each pair's first
/// peer to the second's libp2p port, `None` when it did not complete within a second.
async fn handshakes(testbed: &Testbed, pairs: &[(usize, usize)]) -> Vec<Option<f64>> {
    futures::future::join_all(pairs.iter().map(|&(a, b)| {
        let (from, to) = (&testbed.peers[a], &testbed.peers[b]);
        let request = RttProbe {
            targets: vec![to.slot.p2p_socket()],
            transport: testbed.transport,
            count: 1,
            bind: Some(from.slot.ip.into()),
            timeout_ms: Duration::from_secs(1).as_millis() as u64,
            interval_ms: 0,
        };
        async move {
            from.api
                .rtt(&request)
                .await
                .ok()
                .and_then(|r| r.targets.first()?.samples.first().copied())
        }
    }))
    .await
}
