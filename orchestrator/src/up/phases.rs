//! The scenario's phases, one after the other on the bootstrapped network, each bracketed by
//! a scrape of every live peer (the cluster's CPU seconds over the phase), then the resources
//! every peer ended with.

use std::time::Instant;

use indicatif::MultiProgress;
use p2p_api::error::chain;

use super::{progress, Checkpoint, Collected};
use crate::fidelity::Window;
use crate::phases::names;
use crate::results::{PeerResources, PhaseReport};
use crate::scenario::{Phase, Scenario};
use crate::shaping::mean_configured_rtt;
use crate::testbed::{cpu_between, scrape, scrape_cpu, Testbed};
use crate::{phases, report};

pub(super) async fn run_all(
    testbed: &mut Testbed,
    scenario: &Scenario,
    progress: &MultiProgress,
    collected: &mut Collected,
    checkpoint: &Checkpoint<'_>,
) {
    for phase in scenario.phases.iter().filter(|p| **p != Phase::Bootstrap) {
        if let Some(crashed) = crashed_peers(testbed).await {
            collected
                .failures
                .push(format!("before phase {}: {crashed}", phase.label()));
            break;
        }
        testbed.progress = progress::operations(progress, phase.label());
        phases::prepare(phase).await;
        let phase_started = Instant::now();
        let live = testbed.live();
        let before = scrape_cpu(testbed, &live).await;
        let window = Window::open(testbed);
        let outcome = phases::run(testbed, phase).await;
        let after = scrape_cpu(testbed, &live).await;
        let (cpu, unread) = cpu_between(&before, &after);
        let fidelity = window.close(testbed, unread);
        testbed.progress.finish_and_clear();
        match outcome {
            Ok(mut reports) => {
                let rtt = mean_configured_rtt(testbed);
                for r in &mut reports {
                    r.extra.insert("cluster_cpu_seconds".into(), cpu);
                    r.fidelity = Some(fidelity.clone());
                    r.set_round_trips(rtt);
                    eprintln!("{}", report::phase_line(r));
                }
                report::warn_degraded(phase.label(), &fidelity);
                collected.phases.extend(reports);
                checkpoint.save(collected);
            }
            Err(e) => {
                let crashed = crashed_peers(testbed).await;
                collected.failures.push(match crashed {
                    Some(c) => format!("phase {}: {}; {c}", phase.label(), chain(&e)),
                    None => format!("phase {}: {}", phase.label(), chain(&e)),
                });
                break;
            }
        }
        tracing::debug!(phase = phase.label(), elapsed = ?phase_started.elapsed(), "phase done");
    }
    if collected.failures.is_empty() {
        let spin = progress::spinner(progress, "collecting resources");
        collected.resources = resources(testbed).await;
        spin.finish_and_clear();
        let rss: Vec<f64> = collected
            .resources
            .iter()
            .filter_map(|r| r.rss_bytes)
            .map(|b| b as f64)
            .collect();
        let cpu: Vec<f64> = collected
            .resources
            .iter()
            .filter_map(|r| r.cpu_seconds)
            .collect();
        collected
            .phases
            .push(PhaseReport::new(names::PEER_RSS, rss, Vec::new()).with_unit("B"));
        collected
            .phases
            .push(PhaseReport::new(names::PEER_CPU, cpu, Vec::new()));
        checkpoint.save(collected);
    }
}

/// Names the peers that stopped without being asked to.
async fn crashed_peers(testbed: &mut Testbed) -> Option<String> {
    let mut crashed = Vec::new();
    for i in testbed.live() {
        if !testbed.runtime.is_running(i).await {
            crashed.push(testbed.peers[i].slot.name.clone());
        }
    }
    (!crashed.is_empty()).then(|| format!("peer(s) stopped unexpectedly: {}", crashed.join(", ")))
}

async fn resources(testbed: &Testbed) -> Vec<PeerResources> {
    let live = testbed.live();
    let metrics = scrape(testbed, &live).await;
    let mut out = Vec::with_capacity(live.len());
    for (i, m) in metrics {
        let m = m.unwrap_or_default();
        out.push(PeerResources {
            peer: testbed.peers[i].slot.name.clone(),
            rss_bytes: m.rss_bytes,
            cpu_seconds: m.cpu_seconds,
            container_memory_bytes: testbed.runtime.container_memory(i).await,
            connections: m.connected_peers.map(|c| c as usize),
        });
    }
    out.sort_by(|a, b| a.peer.cmp(&b.peer));
    out
}
