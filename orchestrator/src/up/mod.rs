//! `orchestrator up`: bring the network up ([`bring_up`]), run the phases ([`phases`]),
//! collect, tear down ([`teardown`]), report. An interrupted run removes what it created
//! through the same path as `orchestrator down` ([`crate::cleanup`]).

mod bring_up;
mod phases;
mod progress;
mod prometheus;
mod stages;
mod teardown;

use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Instant;

use indicatif::MultiProgress;
use ipnet::Ipv4Net;
use netem::{Backend, Selection, ShaperChoice};

use crate::fidelity::FidelityMode;
use crate::reaper::Reaper;
use crate::results::{
    LinkInfo, PeerResources, PhaseReport, ReadyStage, RunInfo, RunResults, ShapingReport,
    SCHEMA_VERSION,
};
use crate::runtime::{
    docker, locate_node_binary, DockerRuntime, InfraError, LocalRuntime, NodeOptions, Runtime,
    SwarmRuntime,
};
use crate::scenario::Scenario;
use crate::signals::{shutdown_signal, Interrupt};
use crate::{capacity, cleanup, report, sla};
use p2p_api::error::chain;

/// Which runtime to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum RuntimeChoice {
    /// Docker when the daemon answers, local processes otherwise.
    Auto,
    Docker,
    Local,
    /// Docker Swarm: the swarm this engine manages, its tasks spread over its nodes.
    Swarm,
}

#[derive(Debug, Clone)]
pub struct UpOptions {
    pub scenario: Scenario,
    pub runtime: RuntimeChoice,
    pub results_root: PathBuf,
    pub keep: bool,
    pub subnet: Option<Ipv4Net>,
    pub node_binary: Option<PathBuf>,
    /// How nodes start; `up` sets the run's own API token.
    pub node: NodeOptions,
    pub seed: u64,
    /// An existing Prometheus to point at the run's targets.
    pub prometheus: Option<String>,
    pub shaper: ShaperChoice,
    pub fidelity: FidelityMode,
}

/// Why `up` could not produce results at all.
#[derive(Debug, thiserror::Error)]
pub enum UpError {
    #[error("this run cannot fit on this machine: {}", .0.join("; "))]
    Capacity(Vec<String>),
    #[error("the p2p-node binary")]
    Binary(#[source] InfraError),
    #[error("the runtime")]
    Runtime(#[source] InfraError),
    #[error("link shaping")]
    Shaper(#[source] netem::ShapeError),
    #[error("creating {path}")]
    RunDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("writing the report")]
    Report(#[from] report::ReportError),
}

/// A finished run: its results and where they were written.
#[derive(Debug)]
pub struct RunOutcome {
    pub results: RunResults,
    pub dir: PathBuf,
}

impl RunOutcome {
    /// 0 all targets met, 1 a target missed, 3 the run itself failed (DESIGN.md), or, with
    /// `--fidelity strict`, a phase was degraded.
    pub fn exit_code(&self) -> u8 {
        self.results.exit_code()
    }
}

/// What the run produced, even when it failed part-way.
#[derive(Debug, Clone, Default)]
struct Collected {
    phases: Vec<PhaseReport>,
    resources: Vec<PeerResources>,
    ready_s: Option<f64>,
    ready_stages: Vec<ReadyStage>,
    failures: Vec<String>,
    image: Option<String>,
    shaping: ShapingReport,
}

/// Everything a run settles before it starts anything.
struct RunPlan {
    id: String,
    /// The nodes' options, with the run's API token.
    node: NodeOptions,
    started_at: chrono::DateTime<chrono::Utc>,
    started: Instant,
    binary: PathBuf,
    dir: PathBuf,
    selection: Selection,
    link: LinkInfo,
    /// Why the figures may be the host's, known before the run started.
    capacity_warnings: Vec<String>,
}

pub async fn up(options: UpOptions) -> Result<RunOutcome, UpError> {
    let started_at = chrono::Utc::now();
    let run_id = format!(
        "{}-{:04x}",
        started_at.format("%Y%m%d-%H%M%S"),
        rand::random::<u16>()
    );
    let runtime = choose_runtime(&options, &run_id).await?;
    let capacity_warnings = check_capacity(&options.scenario, &runtime)?;
    let binary = locate_node_binary(options.node_binary.as_deref()).map_err(UpError::Binary)?;
    let selection = select_shaper(&options, &runtime).await?;
    eprintln!(
        "shaper: {} ({})",
        selection.backend.name(),
        selection.reason
    );
    let scenario = &options.scenario;
    let link = &scenario.link;
    let link_info = LinkInfo {
        profile: link.name.clone(),
        latency_ms: link.latency().map_or(0.0, |d| d.as_secs_f64() * 1e3),
        regions: link.profile.regions.clone(),
        description: link.profile.description.clone(),
        mean_rtt_ms: link.profile.mean_round_trip(scenario.peers).as_secs_f64() * 1e3,
    };
    eprintln!(
        "run {run_id}: {} peers, scenario {}, {} phases",
        scenario.peers,
        scenario.name,
        scenario.phases.len()
    );
    let dir = options.results_root.join(&run_id);
    std::fs::create_dir_all(&dir).map_err(|source| UpError::RunDir {
        path: dir.clone(),
        source,
    })?;
    if let Some(url) = &options.prometheus {
        prometheus::explain(url, &options.results_root).await;
    }
    let plan = RunPlan {
        node: NodeOptions {
            api_token: Some(api_token()),
            ..options.node.clone()
        },
        id: run_id,
        started_at,
        started: Instant::now(),
        binary,
        dir,
        selection,
        link: link_info,
        capacity_warnings,
    };

    // From here on the run creates things: a watchdog removes them if this process dies.
    let reaper = match Reaper::spawn(&plan.id, &plan.dir.join("reaper.log")) {
        Ok(r) => Some(r),
        Err(e) => {
            eprintln!("warning: no reaper for this run ({e}): if this process is killed, `orchestrator down` removes what it leaves");
            None
        }
    };
    let progress = MultiProgress::new();
    let runtime_kind = runtime.kind();
    let checkpoint = Checkpoint {
        options: &options,
        plan: &plan,
        runtime_kind,
        latest: Mutex::new(None),
    };
    let kept = teardown::Kept::default();
    let work = run(runtime, &options, &plan, &progress, &checkpoint, &kept);
    let interruption = async {
        loop {
            let signal = shutdown_signal().await;
            if !kept.release() {
                break signal;
            }
            if signal == Interrupt::Hangup {
                crate::signals::detach_from_terminal(&plan.dir.join("orchestrator.log"));
            }
            eprintln!("{}: tearing the kept network down", signal.describe());
        }
    };
    let (collected, partial) = tokio::select! {
        collected = work => {
            let partial = !collected.failures.is_empty();
            (collected, partial)
        }
        signal = interruption => {
            let so_far = checkpoint.take();
            (interrupted(&plan, signal, so_far).await, true)
        }
    };
    // Everything the run created is gone (the teardown or the interruption removed it).
    if let Some(reaper) = reaper {
        reaper.dismiss();
    }
    finish(&options, plan, runtime_kind, collected, partial)
}

/// Where a run keeps what it has measured so far: after every phase, the phases finished are
/// written to `results.json` and `summary.md` (marked partial), and kept here for an
/// interrupted run to report.
pub(crate) struct Checkpoint<'a> {
    options: &'a UpOptions,
    plan: &'a RunPlan,
    runtime_kind: &'static str,
    latest: Mutex<Option<Collected>>,
}

impl Checkpoint<'_> {
    /// Saves `collected` as it stands; a failure to write is only a warning (the final
    /// report is written again at the end).
    fn save(&self, collected: &Collected) {
        *self.latest.lock().expect("checkpoint lock poisoned") = Some(collected.clone());
        let results = assemble(
            self.options,
            self.plan,
            self.runtime_kind,
            collected.clone(),
            true,
        );
        if let Err(e) = report::write_progress(&self.plan.dir, &results) {
            eprintln!("warning: saving the phases so far: {}", chain(&e));
        }
    }

    fn take(&self) -> Collected {
        self.latest
            .lock()
            .expect("checkpoint lock poisoned")
            .take()
            .unwrap_or_default()
    }
}

/// Refuses a run that cannot fit this machine, before anything is created; returns the
/// warnings for one that fits but will likely be degraded.
fn check_capacity(scenario: &Scenario, runtime: &Runtime) -> Result<Vec<String>, UpError> {
    let (kind, per_node) = match runtime {
        Runtime::Docker(_) => (capacity::RuntimeKind::Docker, None),
        Runtime::Local(_) => (capacity::RuntimeKind::Local, None),
        // Spread over the nodes, each holds its share.
        Runtime::Swarm(s) => (
            capacity::RuntimeKind::Swarm,
            Some(scenario.peers.div_ceil(s.nodes().max(1))),
        ),
    };
    let share;
    let scenario = match per_node {
        Some(peers) => {
            share = Scenario {
                peers,
                ..scenario.clone()
            };
            &share
        }
        None => scenario,
    };
    match capacity::check(scenario, kind, &capacity::Machine::read()) {
        capacity::Fit::Fits(need) => {
            eprintln!("capacity: {need}: fits");
            Ok(Vec::new())
        }
        capacity::Fit::Degraded(_, reasons) => {
            for r in &reasons {
                eprintln!("warning: {r}");
            }
            Ok(reasons)
        }
        capacity::Fit::Impossible(reasons) => Err(UpError::Capacity(reasons)),
    }
}

/// A token of 128 random bits, new for every run: the peers' APIs accept no other.
fn api_token() -> String {
    format!("{:032x}", rand::random::<u128>())
}

async fn choose_runtime(options: &UpOptions, run_id: &str) -> Result<Runtime, UpError> {
    Ok(match options.runtime {
        RuntimeChoice::Docker => Runtime::Docker(DockerRuntime::new(
            docker::connect().await.map_err(UpError::Runtime)?,
            run_id,
            options.subnet,
        )),
        RuntimeChoice::Local => Runtime::Local(LocalRuntime::new(run_id)),
        RuntimeChoice::Swarm => Runtime::Swarm(
            SwarmRuntime::new(
                docker::connect().await.map_err(UpError::Runtime)?,
                run_id,
                options.subnet,
            )
            .await
            .map_err(UpError::Runtime)?,
        ),
        RuntimeChoice::Auto => match docker::connect().await {
            Ok(d) => {
                eprintln!("runtime: docker (the daemon answers)");
                Runtime::Docker(DockerRuntime::new(d, run_id, options.subnet))
            }
            Err(e) => {
                eprintln!("runtime: local processes ({e})");
                Runtime::Local(LocalRuntime::new(run_id))
            }
        },
    })
}

/// The shaping backend: none when there is nothing to shape, else what the probe finds.
async fn select_shaper(options: &UpOptions, runtime: &Runtime) -> Result<Selection, UpError> {
    if options.scenario.link.profile.is_perfect() && options.shaper == ShaperChoice::Auto {
        return Ok(Selection {
            backend: Backend::None,
            reason: "no latency, jitter, loss or bandwidth asked for: nothing to shape".into(),
        });
    }
    let fabric = runtime.fabric();
    let choice = options.shaper;
    match tokio::task::spawn_blocking(move || netem::probe::select(choice, &fabric)).await {
        Ok(selected) => selected.map_err(UpError::Shaper),
        Err(e) => std::panic::resume_unwind(e.into_panic()),
    }
}

/// Brings the network up, runs the phases, keeps it up when asked, and tears it down.
async fn run(
    runtime: Runtime,
    options: &UpOptions,
    plan: &RunPlan,
    progress: &MultiProgress,
    checkpoint: &Checkpoint<'_>,
    kept: &teardown::Kept,
) -> Collected {
    let mut collected = Collected::default();
    let testbed = bring_up::bring_up(runtime, options, plan, progress, &mut collected).await;
    checkpoint.save(&collected);
    let mut testbed = match testbed {
        Ok(testbed) => testbed,
        Err(mut runtime) => {
            collected.image = runtime.image();
            teardown::runtime(&mut runtime, progress, &mut collected).await;
            return collected;
        }
    };
    phases::run_all(
        &mut testbed,
        &options.scenario,
        progress,
        &mut collected,
        checkpoint,
    )
    .await;
    collected.image = testbed.runtime.image();
    if options.keep && collected.failures.is_empty() {
        teardown::keep(&testbed, &plan.dir, plan.node.api_token.as_deref(), kept).await;
    }
    teardown::shaping(&mut testbed, &mut collected).await;
    teardown::runtime(&mut testbed.runtime, progress, &mut collected).await;
    collected
}

/// A signal ended the run: remove everything it created, by name and label, and report what
/// it had measured (`so_far`).
async fn interrupted(plan: &RunPlan, signal: Interrupt, so_far: Collected) -> Collected {
    let run_id = &plan.id;
    if signal == Interrupt::Hangup {
        // The terminal is gone: what is left to say goes to a file in the run directory
        // (a write to the closed terminal would fail, and end the cleanup with it).
        crate::signals::detach_from_terminal(&plan.dir.join("orchestrator.log"));
    }
    eprintln!(
        "interrupted ({}): removing everything run {run_id} created",
        signal.describe()
    );
    let removed = cleanup::remove_run(Some(run_id)).await;
    let mut collected = so_far;
    collected.failures.push(format!(
        "interrupted ({}) before the run finished",
        signal.describe()
    ));
    collected.failures.extend(removed.problems);
    collected
}

/// Checks the targets and writes the results and the report.
fn finish(
    options: &UpOptions,
    plan: RunPlan,
    runtime_kind: &'static str,
    collected: Collected,
    partial: bool,
) -> Result<RunOutcome, UpError> {
    report::remove_live_targets(&plan.dir);
    tracing::debug!(elapsed = ?plan.started.elapsed(), "run done");
    let results = assemble(options, &plan, runtime_kind, collected, partial);
    report::write_all(&plan.dir, &results)?;
    Ok(RunOutcome {
        results,
        dir: plan.dir,
    })
}

/// The results document of what was collected; `partial` when the run ended before its
/// last phase.
fn assemble(
    options: &UpOptions,
    plan: &RunPlan,
    runtime_kind: &'static str,
    collected: Collected,
    partial: bool,
) -> RunResults {
    let scenario = &options.scenario;
    let sla = sla::evaluate(&scenario.targets, &collected.phases);
    let mut warnings = plan.capacity_warnings.clone();
    if plan.selection.backend == Backend::None {
        warnings.push(if scenario.link.profile.is_perfect() {
            "links are unshaped: every figure is for a zero-latency network".to_owned()
        } else {
            format!(
                "links are unshaped ({}) although the scenario asks for {}: figures are for a zero-latency network",
                plan.selection.reason, plan.link.profile
            )
        });
    }
    let mut shaping_report = collected.shaping;
    shaping_report.backend = plan.selection.backend.name().to_owned();
    shaping_report.reason = plan.selection.reason.clone();
    if runtime_kind == "local" {
        warnings.push(
            "local runtime: peers share one kernel and loopback; no per-peer CPU or memory limits"
                .into(),
        );
    }
    RunResults {
        schema: SCHEMA_VERSION,
        partial,
        run: RunInfo {
            id: plan.id.clone(),
            scenario: scenario.name.clone(),
            started_at: plan.started_at.to_rfc3339(),
            ended_at: chrono::Utc::now().to_rfc3339(),
            runtime: runtime_kind.to_owned(),
            shaper: plan.selection.backend.name().to_owned(),
            peers: scenario.peers,
            transport: scenario.transport,
            link: plan.link.clone(),
            ready_s: collected.ready_s,
            ready_stages: collected.ready_stages,
            image: collected.image,
            fidelity: options.fidelity,
        },
        phases: collected.phases,
        resources: collected.resources,
        shaping: shaping_report,
        sla,
        warnings,
        failures: collected.failures,
    }
}
