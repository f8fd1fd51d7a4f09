//! The benchmark phases. Each drives the nodes over HTTP (at most [`FAN_OUT`] calls in
//! flight) and turns the raw per-operation samples the nodes return into [`PhaseReport`]s.
//!
//! [`FAN_OUT`]: crate::testbed::FAN_OUT

pub mod bootstrap;
mod churn;
mod cli;
mod connect;
mod error;
mod gossip;
mod idle;
mod install;
mod lookup;
pub mod names;
mod partition;
mod publish;
mod search;

pub use error::PhaseError;

use rand::seq::SliceRandom;
use rand::Rng;

use crate::results::PhaseReport;
use crate::scenario::Phase;
use crate::testbed::Testbed;

/// Words package names, descriptions, tags and search queries are made of.
pub(crate) const WORDS: &[&str] = &[
    "json", "http", "async", "crypto", "image", "codec", "logger", "cli", "database", "cache",
    "queue", "graph", "math", "stats", "plot", "net", "stream", "parser", "client", "server",
];

/// What a phase waits for before it is measured (and before its fidelity window opens).
pub async fn prepare(phase: &Phase) {
    if let Phase::Idle(p) = phase {
        idle::settle(p).await;
    }
}

/// Runs one phase. Bootstrap is part of bring-up and reported there.
pub async fn run(testbed: &mut Testbed, phase: &Phase) -> Result<Vec<PhaseReport>, PhaseError> {
    Ok(match phase {
        Phase::Bootstrap => Vec::new(),
        Phase::Idle(p) => vec![idle::run(testbed, p).await],
        Phase::Connect(p) => vec![connect::run(testbed, p).await],
        Phase::Publish(p) => vec![publish::run(testbed, p).await?],
        Phase::DhtLookup(p) => vec![lookup::run(testbed, p).await?],
        Phase::Search(p) => vec![search::run(testbed, p).await],
        Phase::Gossip(p) => gossip::run(testbed, p).await?,
        Phase::ConcurrentSearch(p) => search::run_concurrent(testbed, p).await,
        Phase::Install(p) => vec![install::run(testbed, p).await?],
        Phase::Churn(p) => churn::run(testbed, p).await?,
        Phase::Partition(p) => partition::run(testbed, p).await?,
        Phase::Cli(p) => cli::run(testbed, p).await?,
    })
}

/// `count` distinct live peers, chosen at random (all of them when there are fewer).
pub(crate) fn sample_peers(testbed: &mut Testbed, count: usize) -> Vec<usize> {
    let mut live = testbed.live();
    live.shuffle(&mut testbed.rng);
    live.truncate(count);
    live
}

/// A random search query of one or two words.
pub(crate) fn random_query(rng: &mut impl Rng) -> String {
    let first = WORDS[rng.gen_range(0..WORDS.len())];
    if rng.gen_bool(0.5) {
        first.to_owned()
    } else {
        format!("{first} {}", WORDS[rng.gen_range(0..WORDS.len())])
    }
}

/// Merges per-peer `(samples, errors)` into one report.
pub(crate) fn merge(
    name: &str,
    parts: impl IntoIterator<Item = (Vec<f64>, Vec<String>)>,
) -> PhaseReport {
    let (mut samples, mut errors) = (Vec::new(), Vec::new());
    for (s, e) in parts {
        samples.extend(s);
        errors.extend(e);
    }
    PhaseReport::new(name, samples, errors)
}
