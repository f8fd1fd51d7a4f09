//! `orchestrator up`: bring the network up, run the phases, collect, tear down.

use std::collections::HashSet;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context;
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use ipnet::Ipv4Net;
use netem::{Backend, Profile, Selection, ShaperChoice};
use p2p_api::ApiClient;
use rand::SeedableRng;

use crate::phases::{self, bootstrap};
use crate::results::{
    LinkInfo, PeerResources, PhaseReport, RunInfo, RunResults, ShapingReport, SCHEMA_VERSION,
};
use crate::runtime::{
    docker, local, locate_node_binary, DockerRuntime, LocalRuntime, NodeOptions, Runtime,
};
use crate::scenario::{Phase, Scenario};
use crate::testbed::{scrape, wait_healthy, Peer, Testbed, HEALTH_DEADLINE};
use crate::{report, shaping, sla};

/// Which runtime to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum RuntimeChoice {
    /// Docker when the daemon answers, local processes otherwise.
    Auto,
    Docker,
    Local,
}

#[derive(Debug, Clone)]
pub struct UpOptions {
    pub scenario: Scenario,
    pub runtime: RuntimeChoice,
    pub results_root: PathBuf,
    pub keep: bool,
    pub subnet: Option<Ipv4Net>,
    pub node_binary: Option<PathBuf>,
    pub node: NodeOptions,
    pub seed: u64,
    /// An existing Prometheus to point at the run's targets.
    pub prometheus: Option<String>,
    pub shaper: netem::ShaperChoice,
}

/// Why `up` could not produce results at all.
#[derive(Debug, thiserror::Error)]
pub enum UpError {
    #[error("{0}")]
    Usage(String),
    #[error(transparent)]
    Infra(#[from] anyhow::Error),
}

/// A finished run: its results and where they were written.
#[derive(Debug)]
pub struct RunOutcome {
    pub results: RunResults,
    pub dir: PathBuf,
}

impl RunOutcome {
    /// 0 all targets met, 1 a target missed, 3 the run itself failed (DESIGN.md).
    pub fn exit_code(&self) -> u8 {
        if !self.results.failures.is_empty() {
            3
        } else if self.results.sla.iter().any(|s| !s.pass) {
            1
        } else {
            0
        }
    }
}

/// What the phases produced, even when the run failed part-way.
#[derive(Default)]
struct Collected {
    phases: Vec<PhaseReport>,
    resources: Vec<PeerResources>,
    ready_s: Option<f64>,
    failures: Vec<String>,
    image: Option<String>,
    shaping: ShapingReport,
}

/// How the run's links are shaped.
struct LinkShaping {
    selection: Selection,
    profile: Profile,
}

pub async fn up(options: UpOptions) -> Result<RunOutcome, UpError> {
    let scenario = &options.scenario;
    let profile = scenario.link.resolve().map_err(UpError::Usage)?;
    let started_at = chrono::Utc::now();
    let run_id = format!(
        "{}-{:04x}",
        started_at.format("%Y%m%d-%H%M%S"),
        rand::random::<u16>()
    );
    let binary = locate_node_binary(options.node_binary.as_deref()).map_err(anyhow::Error::from)?;

    let runtime = match options.runtime {
        RuntimeChoice::Docker => Runtime::Docker(DockerRuntime::new(
            docker::connect().await.map_err(anyhow::Error::from)?,
            &run_id,
            options.subnet,
        )),
        RuntimeChoice::Local => Runtime::Local(LocalRuntime::new(&run_id)),
        RuntimeChoice::Auto => match docker::connect().await {
            Ok(d) => {
                eprintln!("runtime: docker (the daemon answers)");
                Runtime::Docker(DockerRuntime::new(d, &run_id, options.subnet))
            }
            Err(e) => {
                eprintln!("runtime: local processes ({e})");
                Runtime::Local(LocalRuntime::new(&run_id))
            }
        },
    };
    let runtime_kind = runtime.kind();
    let selection = if profile.is_perfect() && options.shaper == ShaperChoice::Auto {
        Selection {
            backend: Backend::None,
            reason: "no latency, jitter, loss or bandwidth asked for: nothing to shape".into(),
        }
    } else {
        let fabric = runtime.fabric();
        let choice = options.shaper;
        tokio::task::spawn_blocking(move || netem::probe::select(choice, &fabric))
            .await
            .map_err(anyhow::Error::from)?
            .map_err(|e| anyhow::anyhow!("link shaping: {e}"))?
    };
    eprintln!(
        "shaper: {} ({})",
        selection.backend.name(),
        selection.reason
    );
    let link_info = LinkInfo {
        profile: scenario.link.name(),
        latency_ms: scenario
            .link
            .overrides
            .delay
            .map_or(0.0, |d| d.as_secs_f64() * 1e3),
        regions: profile.regions.clone(),
        description: profile.description.clone(),
        mean_rtt_ms: profile.mean_round_trip(scenario.peers).as_secs_f64() * 1e3,
    };
    let shaping = LinkShaping { selection, profile };
    eprintln!(
        "run {run_id}: {} peers, scenario {}, {} phases",
        scenario.peers,
        scenario.name,
        scenario.phases.len()
    );

    let dir = options.results_root.join(&run_id);
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    if let Some(url) = &options.prometheus {
        explain_prometheus(url, &options.results_root).await;
    }
    let progress = MultiProgress::new();
    let work = execute(
        runtime, &options, &binary, &progress, &dir, &run_id, &shaping,
    );
    let collected = tokio::select! {
        (mut runtime, mut collected) = work => {
            collected.image = runtime.image();
            if options.keep && collected.failures.is_empty() {
                eprintln!("network kept running (--keep): Ctrl-C tears it down");
                eprintln!("Prometheus targets: {}", dir.join("prometheus-targets.json").display());
                crate::signals::shutdown_signal().await;
            }
            let spinner = spinner(&progress, "tearing down");
            let problems = runtime.teardown().await;
            spinner.finish_and_clear();
            collected.failures.extend(problems.into_iter().map(|p| format!("teardown: {p}")));
            collected
        }
        _ = crate::signals::shutdown_signal() => {
            eprintln!("interrupted: removing everything run {run_id} created");
            let mut problems = local::remove_leftovers(Some(&run_id)).1;
            match netem::remove_leftovers(Some(&run_id)) {
                Ok(_) | Err(netem::ShapeError::Missing { .. }) => {}
                Err(e) => problems.push(format!("iptables: {e}")),
            }
            if let Ok(d) = docker::connect().await {
                problems.extend(docker::remove_labelled(&d, Some(&run_id)).await.problems);
            }
            let mut collected = Collected::default();
            collected.failures.push("interrupted (Ctrl-C or SIGTERM)".into());
            collected.failures.extend(problems);
            collected
        }
    };

    report::remove_live_targets(&dir);
    let sla = sla::evaluate(&scenario.targets, &collected.phases);
    let mut warnings = Vec::new();
    if shaping.selection.backend == Backend::None {
        warnings.push(if shaping.profile.is_perfect() {
            "links are unshaped: every figure is for a zero-latency network".to_owned()
        } else {
            format!(
                "links are unshaped ({}) although the scenario asks for {}: figures are for a zero-latency network",
                shaping.selection.reason, link_info.profile
            )
        });
    }
    let mut shaping_report = collected.shaping;
    shaping_report.backend = shaping.selection.backend.name().to_owned();
    shaping_report.reason = shaping.selection.reason.clone();
    if runtime_kind == "local" {
        warnings.push(
            "local runtime: peers share one kernel and loopback; no per-peer CPU or memory limits"
                .into(),
        );
    }
    let results = RunResults {
        schema: SCHEMA_VERSION,
        run: RunInfo {
            id: run_id,
            scenario: scenario.name.clone(),
            started_at: started_at.to_rfc3339(),
            ended_at: chrono::Utc::now().to_rfc3339(),
            runtime: runtime_kind.to_owned(),
            shaper: shaping.selection.backend.name().to_owned(),
            peers: scenario.peers,
            link: link_info,
            ready_s: collected.ready_s,
            image: collected.image,
        },
        phases: collected.phases,
        resources: collected.resources,
        shaping: shaping_report,
        sla,
        warnings,
        failures: collected.failures,
    };
    report::write_all(&dir, &results).context("writing the report")?;
    Ok(RunOutcome { results, dir })
}

/// Checks that the Prometheus at `url` answers and says how to make it scrape the runs.
async fn explain_prometheus(url: &str, results_root: &std::path::Path) {
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

/// Waits until the Prometheus at `url` has scraped every peer of the run, so that its graphs
/// cover the run from the bootstrap on.
async fn wait_for_scrapes(url: &str, testbed: &Testbed) -> anyhow::Result<()> {
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
        .map(|p| format!("{}/metrics", p.slot.api_url()))
        .collect();
    let deadline = Instant::now() + Duration::from_secs(60);
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
        anyhow::ensure!(
            Instant::now() < deadline,
            "{missing} peer(s) still not scraped after 60 s (is the targets directory in its file_sd_configs?)"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

fn spinner(progress: &MultiProgress, message: &str) -> ProgressBar {
    let bar = progress.add(ProgressBar::new_spinner());
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg} ({elapsed})").expect("valid template"),
    );
    bar.set_message(message.to_owned());
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

/// Brings the peers up and runs every phase. Always hands the runtime back, so that it can
/// be torn down whatever happened.
async fn execute(
    mut runtime: Runtime,
    options: &UpOptions,
    binary: &std::path::Path,
    progress: &MultiProgress,
    dir: &std::path::Path,
    run_id: &str,
    shaping: &LinkShaping,
) -> (Runtime, Collected) {
    let mut collected = Collected::default();
    let started = Instant::now();
    let scenario = &options.scenario;
    let bar = progress.add(ProgressBar::new(scenario.peers as u64));
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg:28} [{bar:30}] {pos}/{len} ({elapsed})")
            .expect("valid template"),
    );
    bar.enable_steady_tick(Duration::from_millis(120));
    let slots = match runtime
        .launch(scenario.peers, binary, options.node, &bar)
        .await
    {
        Ok(slots) => slots,
        Err(e) => {
            bar.finish_and_clear();
            collected.failures.push(format!("launching peers: {e}"));
            return (runtime, collected);
        }
    };

    bar.set_message("waiting for every /health");
    bar.set_position(0);
    let http = match reqwest::Client::builder()
        .timeout(Duration::from_secs(120))
        .build()
    {
        Ok(h) => h,
        Err(e) => {
            collected.failures.push(format!("HTTP client: {e}"));
            return (runtime, collected);
        }
    };
    let healthy = futures::future::join_all(slots.iter().map(|slot| {
        let api = ApiClient::with_http(&slot.api_url(), None, http.clone());
        let bar = &bar;
        async move {
            let peer_id = wait_healthy(&api, HEALTH_DEADLINE).await;
            bar.inc(1);
            peer_id.map(|peer_id| Peer {
                addr: format!("/ip4/{}/tcp/{}/p2p/{peer_id}", slot.ip, slot.p2p_port),
                slot: slot.clone(),
                api,
                peer_id,
            })
        }
    }))
    .await;
    bar.finish_and_clear();
    let mut peers = Vec::with_capacity(healthy.len());
    for (slot, peer) in slots.iter().zip(healthy) {
        match peer {
            Ok(p) => peers.push(p),
            Err(e) => collected
                .failures
                .push(format!("{} never became healthy: {e:#}", slot.name)),
        }
    }
    if !collected.failures.is_empty() {
        return (runtime, collected);
    }

    let mut testbed = Testbed {
        runtime,
        peers,
        bootstrap_peers: Vec::new(),
        published: Vec::new(),
        stopped: HashSet::new(),
        rng: rand::rngs::StdRng::seed_from_u64(options.seed),
        shaping: None,
    };
    let spin = spinner(progress, "shaping links");
    let applied = shaping::apply(
        &testbed,
        run_id,
        &shaping.selection,
        shaping.profile.clone(),
        options.seed,
    )
    .await;
    spin.finish_and_clear();
    match applied {
        Ok(active) => testbed.shaping = Some(active),
        Err(e) => {
            collected.failures.push(format!("link shaping: {e:#}"));
            return (testbed.runtime, collected);
        }
    }
    if shaping.selection.backend != Backend::None {
        let spin = spinner(progress, "verifying link latency");
        collected.shaping = shaping::verify(&mut testbed).await;
        spin.finish_and_clear();
        let ok = collected.shaping.pairs.iter().filter(|p| p.ok).count();
        eprintln!(
            "shaping verified on {ok}/{} pairs (round trip within max(2 ms, 10%) of the configuration)",
            collected.shaping.pairs.len()
        );
        if collected.shaping.verified != Some(true) {
            collected.failures.push(format!(
                "link shaping did not take effect as configured: {}",
                shaping::failed_pairs(&collected.shaping)
            ));
            return (testbed.runtime, collected);
        }
    }
    if let Err(e) = report::write_prometheus_targets(dir, &testbed) {
        eprintln!("warning: writing Prometheus targets: {e:#}");
    }
    if let Some(url) = &options.prometheus {
        let spin = spinner(progress, "waiting for Prometheus to scrape every peer");
        match wait_for_scrapes(url, &testbed).await {
            Ok(()) => eprintln!("prometheus: scraping all {} peers", testbed.peers.len()),
            Err(e) => eprintln!("prometheus: {e:#}; going on without it"),
        }
        spin.finish_and_clear();
    }

    let spin = spinner(progress, "bootstrap");
    match bootstrap::run(&mut testbed, scenario.topology).await {
        Ok(report) => {
            collected.ready_s = Some(started.elapsed().as_secs_f64());
            spin.finish_and_clear();
            eprintln!(
                "bootstrap: {} peers ready in {:.1} s",
                testbed.peers.len(),
                started.elapsed().as_secs_f64()
            );
            collected.phases.push(report);
        }
        Err(e) => {
            spin.finish_and_clear();
            collected.failures.push(format!("bootstrap: {e:#}"));
            return (testbed.runtime, collected);
        }
    }

    for phase in scenario.phases.iter().filter(|p| **p != Phase::Bootstrap) {
        if let Some(crashed) = crashed_peers(&mut testbed).await {
            collected
                .failures
                .push(format!("before phase {}: {crashed}", phase.label()));
            break;
        }
        let spin = spinner(progress, phase.label());
        let phase_started = Instant::now();
        let live = testbed.live();
        let before = scrape(&testbed, &live).await;
        let outcome = phases::run(&mut testbed, phase).await;
        let after = scrape(&testbed, &live).await;
        spin.finish_and_clear();
        let cpu: f64 = before
            .iter()
            .filter_map(|(i, m)| {
                Some(after.iter().find(|(j, _)| j == i)?.1?.cpu_seconds? - m.as_ref()?.cpu_seconds?)
            })
            .sum();
        match outcome {
            Ok(mut reports) => {
                for r in &mut reports {
                    r.extra.insert("cluster_cpu_seconds".into(), cpu);
                    eprintln!("{}", report::phase_line(r));
                }
                collected.phases.extend(reports);
            }
            Err(e) => {
                let crashed = crashed_peers(&mut testbed).await;
                collected.failures.push(match crashed {
                    Some(c) => format!("phase {}: {e:#}; {c}", phase.label()),
                    None => format!("phase {}: {e:#}", phase.label()),
                });
                break;
            }
        }
        tracing::debug!(phase = phase.label(), elapsed = ?phase_started.elapsed(), "phase done");
    }

    if collected.failures.is_empty() {
        let spin = spinner(progress, "collecting resources");
        collected.resources = resources(&testbed).await;
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
            .push(PhaseReport::new("peer_rss", rss, Vec::new()).with_unit("B"));
        collected
            .phases
            .push(PhaseReport::new("peer_cpu", cpu, Vec::new()));
    }
    if let Some(active) = testbed.shaping.take() {
        let report = tokio::task::spawn_blocking(move || active.teardown())
            .await
            .unwrap_or_default();
        collected.shaping.delay_line = report.delay_line.as_ref().map(shaping::delay_line_report);
        collected.failures.extend(
            report
                .problems
                .into_iter()
                .map(|p| format!("shaping teardown: {p}")),
        );
    }
    (testbed.runtime, collected)
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
