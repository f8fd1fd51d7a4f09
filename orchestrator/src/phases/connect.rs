//! Connection setup: new connections from sampled peers to random others, each timed by the
//! dialing node from its dial to the established connection. Over TCP that is the TCP
//! handshake, then multistream-select, Noise and Yamux; over QUIC one QUIC handshake. The
//! report carries the configured round trip of the pairs, so it reads in round trips.

use p2p_api::error::chain;
use p2p_api::ConnectBench;
use rand::seq::SliceRandom;

use super::{names, sample_peers};
use crate::results::PhaseReport;
use crate::scenario::ConnectPhase;
use crate::testbed::Testbed;

/// A connection not established in this long counts as failed.
const CONNECT_TIMEOUT_MS: u64 = 10_000;

/// Spare peers sent per peer to time, dialed in place of one the dialer allows no new
/// connection to (it keeps two to one peer at most, and a simultaneous dial during the
/// bootstrap leaves two): at 50 peers, 12–20 of 60 dials met that limit, and three spares
/// per dialer left some dialers short.
const SPARES_PER_TARGET: usize = 1;

pub(super) async fn run(testbed: &mut Testbed, phase: &ConnectPhase) -> PhaseReport {
    let dialers = sample_peers(testbed, phase.peers);
    let live = testbed.live();
    let mut plans = Vec::with_capacity(dialers.len());
    for &dialer in &dialers {
        let mut others: Vec<usize> = live.iter().copied().filter(|&p| p != dialer).collect();
        others.shuffle(&mut testbed.rng);
        others.truncate(
            (phase.per_peer * (1 + SPARES_PER_TARGET)).min(p2p_api::limits::MAX_CONNECT_PEERS),
        );
        plans.push((dialer, others));
    }
    let testbed = &*testbed;
    let results = testbed
        .on_peers(&dialers, |peer| {
            let targets = plans
                .iter()
                .find(|(d, _)| *d == peer.slot.index)
                .map(|(_, t)| t.clone())
                .unwrap_or_default();
            let bench = ConnectBench {
                peers: targets
                    .iter()
                    .map(|&b| testbed.peers[b].addr.clone())
                    .collect(),
                timeout_ms: CONNECT_TIMEOUT_MS,
                wanted: Some(phase.per_peer.min(targets.len())),
            };
            async move { peer.api.connect_bench(&bench).await }
        })
        .await;
    let (mut samples, mut errors, mut skipped) = (Vec::new(), Vec::new(), 0usize);
    let mut configured = Vec::new();
    for (i, result) in results {
        match result {
            Ok(r) => {
                if let (Some(shaping), Some((_, targets))) = (
                    testbed.shaping.as_ref(),
                    plans.iter().find(|(d, _)| *d == i),
                ) {
                    // The node says which of the targets it dialed, by index.
                    configured.extend(
                        r.dialed
                            .iter()
                            .filter_map(|&d| targets.get(d))
                            .map(|&b| shaping.plan().configured_rtt(i, b).as_secs_f64()),
                    );
                }
                samples.extend(r.samples);
                errors.extend(r.errors);
                skipped += r.skipped.len();
            }
            Err(e) => errors.push(format!("{}: {}", testbed.peers[i].slot.name, chain(&e))),
        }
    }
    let mut report = PhaseReport::new(names::CONNECT, samples, errors);
    report
        .extra
        .insert("skipped_at_connection_limit".into(), skipped as f64);
    if !configured.is_empty() {
        let mean = configured.iter().sum::<f64>() / configured.len() as f64;
        report.extra.insert("configured_rtt_s".into(), mean);
    }
    report
}
