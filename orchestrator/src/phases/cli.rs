//! The real `p2p-node` CLI, run next to a peer (inside its container), timed whole: process
//! start, HTTP call, the node's work, output.

use rand::seq::SliceRandom;

use p2p_api::error::chain;

use super::{names, random_query, PhaseError};
use crate::results::PhaseReport;
use crate::scenario::CliPhase;
use crate::testbed::Testbed;

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
                Ok(run) if run.success => samples.push(run.elapsed.as_secs_f64()),
                Ok(run) => errors.push(format!("p2p-node {}: {}", args[0], run.output.trim())),
                Err(e) => errors.push(chain(&e)),
            }
        }
    }
    let [search, install, publish] = results;
    Ok(vec![
        PhaseReport::new(names::CLI_SEARCH, search.0, search.1),
        PhaseReport::new(names::CLI_INSTALL, install.0, install.1),
        PhaseReport::new(names::CLI_PUBLISH, publish.0, publish.1),
    ])
}
