//! An existing Prometheus, when the user names one: check it answers, say how to make it
//! scrape the runs, and wait until it scrapes every peer.

use std::collections::HashSet;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::report;
use crate::testbed::Testbed;

/// How long to wait for Prometheus to scrape every peer.
const SCRAPE_DEADLINE: Duration = Duration::from_secs(60);

/// Checks that the Prometheus at `url` answers and says how to make it scrape the runs.
pub(super) async fn explain(url: &str, results_root: &Path) {
    let ready = format!("{}/-/ready", url.trim_end_matches('/'));
    let answered = reqwest::get(&ready).await.map(|r| r.status().is_success());
    let targets = std::path::absolute(report::live_targets_dir(results_root))
        .unwrap_or_else(|_| report::live_targets_dir(results_root));
    match answered {
        Ok(true) => eprintln!("prometheus: {url} answers"),
        _ => eprintln!("prometheus: {url} does not answer at {ready}"),
    }
    eprintln!(
        "prometheus: to scrape this run (and every later one), add to its scrape_configs:\n  - job_name: p2p-testbed\n    file_sd_configs:\n      - files: [\"{}/*.json\"]\n        refresh_interval: 5s\n  (peers carry the labels run, peer and runtime; the dashboards in dashboards/ filter on run)",
        targets.display()
    );
}

/// Why Prometheus does not scrape every peer.
#[derive(Debug, thiserror::Error)]
#[error("{missing} peer(s) still not scraped after {after:?} (is the targets directory in its file_sd_configs?)")]
pub(super) struct NotScraped {
    missing: usize,
    after: Duration,
}

/// Waits until the Prometheus at `url` has scraped every peer of the run, so that its graphs
/// cover the run from the bootstrap on.
pub(super) async fn wait_for_scrapes(url: &str, testbed: &Testbed) -> Result<(), NotScraped> {
    #[derive(serde::Deserialize)]
    struct Targets {
        data: TargetData,
    }
    #[derive(serde::Deserialize)]
    struct TargetData {
        #[serde(rename = "activeTargets")]
        active: Vec<Target>,
    }
    #[derive(serde::Deserialize)]
    struct Target {
        #[serde(rename = "scrapeUrl")]
        scrape_url: String,
        health: String,
    }
    let api = format!("{}/api/v1/targets?state=active", url.trim_end_matches('/'));
    let wanted: HashSet<String> = testbed
        .peers
        .iter()
        .map(|p| format!("{}{}", p.slot.api_url(), p2p_api::routes::METRICS))
        .collect();
    let started = Instant::now();
    loop {
        let up: HashSet<String> = match reqwest::get(&api).await {
            Ok(r) => r
                .json::<Targets>()
                .await
                .map(|t| {
                    t.data
                        .active
                        .into_iter()
                        .filter(|t| t.health == "up")
                        .map(|t| t.scrape_url)
                        .collect()
                })
                .unwrap_or_default(),
            Err(_) => HashSet::new(),
        };
        let missing = wanted.difference(&up).count();
        if missing == 0 {
            return Ok(());
        }
        if started.elapsed() > SCRAPE_DEADLINE {
            return Err(NotScraped {
                missing,
                after: SCRAPE_DEADLINE,
            });
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}
