//! Link shaping of a run: the plan built from the runtime's peers, applying it with the
//! backend the probe chose, and the check that it took effect — round trips between sampled
//! pairs, measured by the nodes themselves, against the configuration.

use std::collections::BTreeMap;
use std::time::Duration;

use netem::expected::{self, Probe};
use netem::{
    verify, ActiveShaping, Backend, Profile, Selection, ShapeError, ShapedPeer, ShapingPlan,
};
use p2p_api::{RttProbe, Transport};

use crate::results::{DelayLineReport, PairRtt, ShapingReport};
use crate::testbed::Testbed;
use p2p_api::stats::Summary;

/// Pairs whose round trip is measured (at least one per pair of regions).
pub const VERIFY_PAIRS: usize = 20;
/// Handshakes per pair; the median counts.
const HANDSHAKES: usize = 5;

/// Applies `profile` to every peer of the testbed with the selected backend.
pub async fn apply(
    testbed: &Testbed,
    run_id: &str,
    selection: &Selection,
    profile: Profile,
    seed: u64,
) -> Result<ActiveShaping, ShapeError> {
    let subnet = testbed
        .runtime
        .subnet()
        .ok_or_else(|| ShapeError::Unsupported {
            backend: selection.backend.name(),
            reason: "the runtime has no subnet to shape".into(),
        })?;
    let mut peers = Vec::with_capacity(testbed.peers.len());
    for (i, peer) in testbed.peers.iter().enumerate() {
        let (netns, interface) = match selection.backend {
            Backend::Kernel => testbed.runtime.peer_network(i).await,
            _ => (None, String::new()),
        };
        peers.push(ShapedPeer {
            ip: peer.slot.ip,
            netns,
            interface,
        });
    }
    let mut plan = ShapingPlan::new(run_id, testbed.runtime.fabric(), subnet, peers, profile);
    match testbed.runtime.shaping_namespace() {
        Ok(Some(namespace)) => plan = plan.in_namespace(namespace),
        Ok(None) => {}
        // Nothing to shape, so nowhere needed.
        Err(_) if selection.backend == Backend::None => {}
        Err(reason) => {
            return Err(ShapeError::Unsupported {
                backend: selection.backend.name(),
                reason,
            })
        }
    }
    let backend = selection.backend;
    match tokio::task::spawn_blocking(move || ActiveShaping::apply(plan, backend, seed)).await {
        Ok(applied) => applied,
        Err(e) => std::panic::resume_unwind(e.into_panic()),
    }
}

/// Measures the round trip of sampled pairs through the nodes' `/bench/rtt`. The backend and
/// the reason for it are the caller's to fill in.
pub async fn verify(testbed: &mut Testbed) -> ShapingReport {
    let Some(shaping) = testbed.shaping.as_ref() else {
        return ShapingReport::default();
    };
    let plan = shaping.plan();
    let pairs = verify::sample_pairs(plan, VERIFY_PAIRS, &mut testbed.rng);
    let testbed = &*testbed;
    let mut by_source: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (a, b) in &pairs {
        by_source.entry(*a).or_default().push(*b);
    }
    let sources: Vec<usize> = by_source.keys().copied().collect();
    let peers = &testbed.peers;
    let interval = expected::probe_interval(
        pairs
            .iter()
            .flat_map(|&(a, b)| [plan.link(a, b), plan.link(b, a)]),
    );
    let probe = match testbed.transport {
        Transport::Tcp => Probe::TCP_HANDSHAKE,
        Transport::Quic => Probe::QUIC_VERSION,
    };
    let measured = testbed
        .on_peers(&sources, |peer| {
            let targets = &by_source[&peer.slot.index];
            let request = RttProbe {
                targets: targets
                    .iter()
                    .map(|&b| peers[b].slot.p2p_socket())
                    .collect(),
                transport: testbed.transport,
                count: HANDSHAKES,
                bind: Some(peer.slot.ip.into()),
                timeout_ms: 5_000,
                interval_ms: interval.as_millis() as u64,
            };
            async move { peer.api.rtt(&request).await }
        })
        .await;
    let mut out = Vec::with_capacity(pairs.len());
    for (a, result) in measured {
        let targets = &by_source[&a];
        let per_target: Vec<Result<Vec<f64>, String>> = match result {
            Ok(r) => r
                .targets
                .into_iter()
                .map(|t| {
                    if t.samples.is_empty() {
                        Err(t
                            .errors
                            .first()
                            .cloned()
                            .unwrap_or_else(|| "no sample".into()))
                    } else {
                        Ok(t.samples)
                    }
                })
                .collect(),
            Err(e) => vec![Err(format!("{e:#}")); targets.len()],
        };
        for (&b, samples) in targets.iter().zip(per_target) {
            let configured = plan.configured_rtt(a, b);
            let expected = expected::expect(plan.link(a, b), plan.link(b, a), probe, HANDSHAKES);
            // What the model leaves out (the hosts' own packet handling) is allowed as before.
            let slack = verify::tolerance(configured);
            let (measured, error) = match samples {
                Ok(s) => {
                    let durations: Vec<Duration> =
                        s.iter().map(|x| Duration::from_secs_f64(*x)).collect();
                    (verify::median(&durations), None)
                }
                Err(e) => (None, Some(e)),
            };
            out.push(PairRtt {
                from: testbed.peers[a].slot.name.clone(),
                to: testbed.peers[b].slot.name.clone(),
                from_region: plan.region_name(a).to_owned(),
                to_region: plan.region_name(b).to_owned(),
                configured_rtt_ms: ms(configured),
                expected_rtt_ms: Some(ms(expected.median)),
                measured_rtt_ms: measured.map(ms),
                tolerance_ms: ms(expected.spread() + slack),
                ok: measured.is_some_and(|m| expected.admits(m, slack)),
                error,
            });
        }
    }
    out.sort_by(|x, y| (&x.from, &x.to).cmp(&(&y.from, &y.to)));
    ShapingReport {
        verified: Some(!out.is_empty() && out.iter().all(|p| p.ok)),
        pairs: out,
        ..ShapingReport::default()
    }
}

/// The mean configured round trip over every ordered pair of peers, in seconds; `None` for
/// an unshaped run.
pub fn mean_configured_rtt(testbed: &Testbed) -> Option<f64> {
    let plan = testbed.shaping.as_ref()?.plan();
    let n = plan.peers.len();
    if n < 2 {
        return None;
    }
    let mut total = 0.0;
    for a in 0..n {
        for b in (0..n).filter(|&b| b != a) {
            total += plan.configured_rtt(a, b).as_secs_f64();
        }
    }
    Some(total / (n * (n - 1)) as f64)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// The pairs that failed the check, for the failure message.
pub fn failed_pairs(report: &ShapingReport) -> String {
    report
        .pairs
        .iter()
        .filter(|p| !p.ok)
        .map(|p| match (p.measured_rtt_ms, &p.error) {
            (Some(m), _) => format!(
                "{} -> {}: configured {:.1} ms, measured {:.1} ms (tolerance ±{:.1} ms)",
                p.from, p.to, p.configured_rtt_ms, m, p.tolerance_ms
            ),
            (None, e) => format!(
                "{} -> {}: not measured ({})",
                p.from,
                p.to,
                e.as_deref().unwrap_or("no sample")
            ),
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// What the delay line reports when it stops.
pub fn delay_line_report(stats: &netem::delay_line::DelayLineStats) -> DelayLineReport {
    let lateness = Summary::of(&stats.lateness_s);
    DelayLineReport {
        queue_num: stats.queue_num,
        packets: stats.packets,
        released: stats.released,
        lost: stats.lost,
        overflowed: stats.overflowed,
        passed_through: stats.passed_through,
        errors: stats.recv_errors,
        low_wake_latency: stats.low_wake_latency,
        lateness_p50_ms: lateness.p50.map(|v| v * 1e3),
        lateness_p99_ms: lateness.p99.map(|v| v * 1e3),
        lateness_max_ms: lateness.max.map(|v| v * 1e3),
    }
}
