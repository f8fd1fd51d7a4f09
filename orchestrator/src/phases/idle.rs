//! The formed network at rest: what keeping it formed costs (pings, gossip heartbeats,
//! routing-table refreshes, timers), with nothing asked of it. The orchestrator stays quiet
//! between the two scrapes, so the figure is the peers' own upkeep.

use std::time::Instant;

use super::names;
use crate::fidelity::host::HostCpu;
use crate::results::PhaseReport;
use crate::scenario::IdlePhase;
use crate::testbed::{scrape_cpu, Testbed};

/// Samples: each live peer's CPU over the window, as a share of one core. Extra figures:
/// `cluster_cores` (their sum: cores the whole network keeps busy at rest) and `host_cores`
/// (the whole machine over the same window, shaping and the runtime included) where the
/// host's counters are readable.
/// The settle comes first, outside the phase's fidelity window (`settle`).
pub(super) async fn run(testbed: &mut Testbed, phase: &IdlePhase) -> PhaseReport {
    let live = testbed.live();
    let before = scrape_cpu(testbed, &live).await;
    let host_before = HostCpu::read();
    let started = Instant::now();
    tokio::time::sleep(phase.duration).await;
    let host_after = HostCpu::read();
    let after = scrape_cpu(testbed, &live).await;
    let wall = started.elapsed().as_secs_f64();

    let (mut samples, mut errors) = (Vec::new(), Vec::new());
    for (i, m) in &before {
        let cpu_before = m.as_ref().and_then(|m| m.cpu_seconds);
        let cpu_after = after
            .iter()
            .find(|(j, _)| j == i)
            .and_then(|(_, m)| m.as_ref()?.cpu_seconds);
        match (cpu_before, cpu_after) {
            // A peer whose counter went back restarted in between: not at rest.
            (Some(b), Some(a)) if a >= b => samples.push((a - b) / wall),
            _ => errors.push(format!(
                "{}: no CPU figure on both sides of the window",
                testbed.peers[*i].slot.name
            )),
        }
    }
    let cluster: f64 = samples.iter().sum();
    let mut report = PhaseReport::new(names::IDLE, samples, errors).with_unit("");
    report.extra.insert("cluster_cores".into(), cluster);
    report.extra.insert("window_s".into(), wall);
    if let (Some(b), Some(a)) = (host_before, host_after) {
        report
            .extra
            .insert("host_cores".into(), a.since(&b).busy_cores_s / wall);
    }
    report
}

/// The quiet time before the window: the routing-table refreshes that follow a join are
/// work, not upkeep, and are left out of the figure and of its fidelity verdict.
pub(super) async fn settle(phase: &IdlePhase) {
    tokio::time::sleep(phase.settle).await;
}
