//! The real `p2p-node` CLI, run next to a peer (inside its container), timed as it times
//! itself (`--timing`): from its start to its exit, over argument parsing, the HTTP call, the
//! node's work and the output. What `docker exec` adds to start it is reported apart.

use rand::seq::SliceRandom;

use p2p_api::error::chain;
use p2p_api::stats::Summary;

use super::{names, random_query, PhaseError};
use crate::results::PhaseReport;
use crate::scenario::CliPhase;
use crate::testbed::Testbed;

/// `extra` key: the median time starting the CLI took on top of the CLI's own (`docker exec`
/// for containers), in seconds; left out of the samples.
const LAUNCH_OVERHEAD: &str = "launch_overhead_s_p50";

pub(super) async fn run(
    testbed: &mut Testbed,
    phase: &CliPhase,
) -> Result<Vec<PhaseReport>, PhaseError> {
    let live: Vec<usize> = testbed
        .live()
        .into_iter()
        .filter(|i| !testbed.bootstrap_peers.contains(i))
        .collect();
    let live = if live.is_empty() {
        testbed.live()
    } else {
        live
    };
    let sample_file = testbed.runtime.sample_file();
    let mut results: [(Vec<f64>, Vec<String>); 3] = Default::default();
    // What starting the CLI next to the peer cost on top of the CLI's own time, per command.
    let mut overheads: [Vec<f64>; 3] = Default::default();
    for run in 0..phase.runs {
        let peer = live[run % live.len()];
        let query = random_query(&mut testbed.rng);
        let install = testbed
            .published
            .iter()
            .filter(|p| p.publisher != peer)
            .collect::<Vec<_>>()
            .choose(&mut testbed.rng)
            .map(|p| p.name.clone());
        let publish_name = format!("cli-{run}-{peer}");
        let mut commands: Vec<(usize, Vec<String>)> = vec![
            (0, vec!["search".into(), query]),
            (
                2,
                vec![
                    "publish".into(),
                    sample_file.clone(),
                    "--name".into(),
                    publish_name,
                    "--version".into(),
                    "1.0.0".into(),
                    "--description".into(),
                    "published by the CLI phase".into(),
                ],
            ),
        ];
        if let Some(name) = install {
            commands.insert(1, (1, vec!["install".into(), name]));
        }
        for (slot, args) in commands {
            let (samples, errors) = &mut results[slot];
            match testbed.runtime.run_cli(peer, &args).await {
                Ok(run) if run.success => {
                    samples.push(run.elapsed.as_secs_f64());
                    overheads[slot].push(run.launched.saturating_sub(run.elapsed).as_secs_f64());
                }
                Ok(run) => errors.push(format!("p2p-node {}: {}", args[0], run.output.trim())),
                Err(e) => errors.push(chain(&e)),
            }
        }
    }
    let reports = [names::CLI_SEARCH, names::CLI_INSTALL, names::CLI_PUBLISH]
        .into_iter()
        .zip(results)
        .zip(overheads)
        .map(|((name, (samples, errors)), overhead)| {
            let mut report = PhaseReport::new(name, samples, errors);
            if let Some(p50) = Summary::of(&overhead).p50 {
                report.extra.insert(LAUNCH_OVERHEAD.to_owned(), p50);
            }
            report
        })
        .collect();
    Ok(reports)
}
