//! Installs of packages published elsewhere.

use futures::StreamExt;
use p2p_api::error::chain;
use p2p_api::{ClientError, InstallOutcome};
use rand::seq::SliceRandom;

use super::{names, PhaseError};
use crate::results::PhaseReport;
use crate::scenario::InstallPhase;
use crate::testbed::Testbed;

pub(super) async fn run(
    testbed: &mut Testbed,
    phase: &InstallPhase,
) -> Result<PhaseReport, PhaseError> {
    if testbed.published.is_empty() {
        return Err(PhaseError::Precondition(
            "install needs a publish phase before it".into(),
        ));
    }
    let live = testbed.live();
    let mut jobs = Vec::with_capacity(phase.installs);
    for _ in 0..phase.installs {
        let package = testbed
            .published
            .choose(&mut testbed.rng)
            .expect("published is not empty")
            .clone();
        let installers: Vec<usize> = live
            .iter()
            .copied()
            .filter(|&i| i != package.publisher)
            .collect();
        if let Some(&installer) = installers.choose(&mut testbed.rng) {
            jobs.push((installer, package.name));
        }
    }
    let (peers, progress) = (&testbed.peers, &testbed.progress);
    progress.inc_length(jobs.len() as u64);
    let results: Vec<Result<InstallOutcome, ClientError>> = futures::stream::iter(&jobs)
        .map(|(installer, name)| async move {
            let outcome = peers[*installer].api.install(name, None).await;
            progress.inc(1);
            outcome
        })
        .buffer_unordered(phase.concurrency)
        .collect()
        .await;
    let (mut samples, mut errors, mut already) = (Vec::new(), Vec::new(), 0usize);
    for result in results {
        match result {
            // A repeat install is a local no-op, not a network install: not a sample.
            Ok(o) if o.already_installed => already += 1,
            Ok(o) => samples.push(o.duration_s),
            Err(e) => errors.push(chain(&e)),
        }
    }
    let mut report = PhaseReport::new(names::INSTALL, samples, errors);
    report
        .extra
        .insert("already_installed".into(), already as f64);
    Ok(report)
}
