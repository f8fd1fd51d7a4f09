//! Publishing packages from several peers.

use base64::Engine;
use futures::StreamExt;
use p2p_api::{PublishOutcome, PublishRequest};
use rand::{Rng, RngCore};

use p2p_api::error::chain;

use super::{names, PhaseError, WORDS};
use crate::results::PhaseReport;
use crate::scenario::PublishPhase;
use crate::testbed::{PublishedPackage, Testbed};

pub(super) async fn run(
    testbed: &mut Testbed,
    phase: &PublishPhase,
) -> Result<PhaseReport, PhaseError> {
    let publishers: Vec<usize> = testbed
        .live()
        .into_iter()
        .rev()
        .take(phase.publishers)
        .collect();
    if publishers.is_empty() {
        return Err(PhaseError::Precondition(
            "no live peer to publish from".into(),
        ));
    }
    let offset = testbed.published.len();
    let mut jobs = Vec::with_capacity(phase.packages);
    for i in 0..phase.packages {
        let rng = &mut testbed.rng;
        let mut word = || WORDS[rng.gen_range(0..WORDS.len())];
        let (a, b, c) = (word(), word(), word());
        let version = format!("1.{}.0", rng.gen_range(0..10));
        let mut content = vec![0u8; phase.size_bytes];
        rng.fill_bytes(&mut content);
        let request = PublishRequest {
            name: format!("{a}-{b}-{}", offset + i),
            version,
            description: format!("A {a} {b} library for {c} workloads"),
            tags: vec![a.to_owned(), c.to_owned()],
            content_base64: base64::engine::general_purpose::STANDARD.encode(&content),
        };
        jobs.push((publishers[i % publishers.len()], request));
    }
    let (peers, progress) = (&testbed.peers, &testbed.progress);
    progress.inc_length(jobs.len() as u64);
    let started = std::time::Instant::now();
    let results: Vec<(usize, String, Result<PublishOutcome, p2p_api::ClientError>)> =
        futures::stream::iter(&jobs)
            .map(|(publisher, request)| async move {
                let outcome = peers[*publisher].api.publish(request).await;
                progress.inc(1);
                (*publisher, request.name.clone(), outcome)
            })
            .buffer_unordered(phase.concurrency)
            .collect()
            .await;
    let wall_s = started.elapsed().as_secs_f64();
    let (mut samples, mut errors, mut stored) = (Vec::new(), Vec::new(), 0usize);
    for (publisher, name, outcome) in results {
        match outcome {
            Ok(o) => {
                samples.push(o.duration_s);
                stored += usize::from(o.dht_record_stored);
                testbed.published.push(PublishedPackage { name, publisher });
            }
            Err(e) => errors.push(chain(&e)),
        }
    }
    let published = samples.len();
    let mut report = PhaseReport::new(names::PUBLISH, samples, errors);
    report.set_throughput(published, wall_s);
    report.extra.insert(
        "dht_record_stored_rate".into(),
        stored as f64 / phase.packages as f64,
    );
    Ok(report)
}
