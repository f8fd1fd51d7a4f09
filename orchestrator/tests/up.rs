//! `orchestrator up` end to end, as a user runs it: real containers on this machine's Docker
//! engine, real local processes, bad scenarios, a peer killed mid-run, an interrupted run.
//! Every test checks that nothing the run created is left behind.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use bollard::query_parameters::KillContainerOptionsBuilder;
use orchestrator::phases::names;
use orchestrator::results::RunResults;
use orchestrator::runtime::neighbour_settings;

const BIN: &str = env!("CARGO_BIN_EXE_orchestrator");
/// Runs share two cores: one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

/// Every phase, small, with targets a loaded CI machine meets.
const ALL_PHASES: &str = r#"
name: all-phases
phases:
  - bootstrap: {}
  - publish: { packages: 20, publishers: 4 }
  - dht_lookup: { peers: 5, lookups_per_peer: 5 }
  - search: { scope: local, peers: 5, queries_per_peer: 10 }
  - search: { scope: network, peers: 3, queries_per_peer: 3 }
  - gossip: { messages: 5, interval: 20ms, settle: 2s }
  - concurrent_search: { levels: [1, 10], rounds: 2 }
  - install: { installs: 5 }
  - churn: { fraction: 0.2, lookups_per_peer: 3 }
  - partition: { fraction: 0.5, duration: 2s, lookups_per_peer: 2 }
  - cli: { runs: 2 }
targets:
  - { metric: partition_reachability.cross_blocked, min: 100% }
  - { metric: partition_reachability.same_side_reached, min: 100% }
  - { metric: dht_lookup.p95, max: 10s }
  - { metric: gossip_network_wide.coverage, min: 100% }
  - { metric: install.error_rate, max: 0 }
"#;

const PHASE_NAMES: &[&str] = &[
    names::BOOTSTRAP,
    names::PUBLISH,
    names::DHT_LOOKUP,
    names::SEARCH_LOCAL,
    names::SEARCH_NETWORK,
    names::GOSSIP,
    names::GOSSIP_NETWORK_WIDE,
    "concurrent_search_1",
    "concurrent_search_10",
    names::INSTALL,
    names::CHURN_LOOKUP,
    names::CHURN_REJOIN,
    names::CHURN_RECOVERY,
    names::PARTITION_LOOKUP,
    names::PARTITION_RECOVERY,
    names::PARTITION_REACHABILITY,
    names::CLI_SEARCH,
    names::CLI_INSTALL,
    names::CLI_PUBLISH,
    names::PEER_RSS,
    names::PEER_CPU,
];

fn write_scenario(dir: &Path, text: &str) -> PathBuf {
    let path = dir.join("scenario.yaml");
    std::fs::write(&path, text).unwrap();
    path
}

fn up(results: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .arg("up")
        .arg("--results-dir")
        .arg(results)
        .args(args)
        .output()
        .expect("the orchestrator runs")
}

fn only_run(results: &Path) -> (String, RunResults) {
    // `targets/` holds the live Prometheus targets of running runs, and must be empty now.
    let live = results.join("targets");
    assert!(
        !live.exists() || std::fs::read_dir(&live).unwrap().next().is_none(),
        "live Prometheus targets left behind"
    );
    let runs: Vec<PathBuf> = std::fs::read_dir(results)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().is_some_and(|n| n != "targets"))
        .collect();
    assert_eq!(runs.len(), 1, "one run directory: {runs:?}");
    let id = runs[0].file_name().unwrap().to_string_lossy().into_owned();
    (id, RunResults::load(&runs[0]).unwrap())
}

fn docker() -> Option<bollard::Docker> {
    let rt = tokio::runtime::Runtime::new().unwrap();
    match rt.block_on(orchestrator::runtime::docker::connect()) {
        Ok(d) => Some(d),
        Err(e) => {
            eprintln!(
                "\n*** SKIPPED: no Docker daemon answers ({e}); the Docker tests did not run ***\n"
            );
            None
        }
    }
}

/// Containers and networks still labelled with `run`.
fn docker_leftovers(docker: &bollard::Docker, run: &str) -> (usize, usize) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let runs = rt
        .block_on(orchestrator::runtime::docker::leftovers(docker))
        .unwrap();
    runs.get(run).copied().unwrap_or((0, 0))
}

fn assert_all_phases(results: &RunResults) {
    for name in PHASE_NAMES {
        let phase = results
            .phase(name)
            .unwrap_or_else(|| panic!("phase {name} missing"));
        assert!(
            phase.summary.count > 0,
            "phase {name} has no samples: {:?}",
            phase.error_examples
        );
    }
}

/// The run was shaped, the check measured every sampled pair at the configured round trip,
/// and no iptables chain of the run is left.
fn assert_shaped(results: &RunResults, run: &str, rtt_ms: f64) {
    let shaping = &results.shaping;
    assert_ne!(shaping.backend, "none", "{}", shaping.reason);
    assert_eq!(results.run.shaper, shaping.backend);
    assert_eq!(shaping.verified, Some(true), "{:?}", shaping.pairs);
    assert!(!shaping.pairs.is_empty());
    for pair in &shaping.pairs {
        assert_eq!(pair.configured_rtt_ms, rtt_ms);
        let measured = pair.measured_rtt_ms.expect("measured");
        assert!(
            (measured - rtt_ms).abs() <= rtt_ms.max(20.0) / 10.0,
            "{pair:?}"
        );
    }
    if shaping.backend == "userspace" {
        let line = shaping.delay_line.as_ref().expect("delay line report");
        assert!(line.released > 0 && line.errors == 0, "{line:?}");
    }
    assert_no_chains(run);
}

/// The time until ready is split into its steps, in the order they happen, adding up to no
/// more than that time.
fn assert_ready_stages(results: &RunResults) {
    let ready = results.run.ready_s.expect("ready time");
    let stages = &results.run.ready_stages;
    let names: Vec<&str> = stages.iter().map(|s| s.stage.as_str()).collect();
    assert_eq!(
        names,
        ["launch", "health", "shaping", "verification", "bootstrap"]
    );
    let sum: f64 = stages.iter().map(|s| s.seconds).sum();
    assert!(
        stages.iter().all(|s| s.seconds >= 0.0) && sum <= ready + 1e-6,
        "{stages:?} against {ready} s"
    );
    assert!(
        stages[0].seconds > 0.0 && stages[4].seconds > 0.0,
        "{stages:?}"
    );
}

/// A 10-peer run of `runtime` at 20 ms went through every phase, met its targets, was
/// shaped as configured, and read each container's memory.
fn assert_whole_container_run(results: &RunResults, run: &str, runtime: &str) {
    assert_eq!(results.run.runtime, runtime);
    assert_eq!(results.run.peers, 10);
    assert!(results.failures.is_empty(), "{:?}", results.failures);
    assert_all_phases(results);
    assert!(results.sla.iter().all(|s| s.pass));
    assert_shaped(results, run, 40.0);
    assert_ready_stages(results);
    assert_eq!(results.resources.len(), 10);
    assert!(results
        .resources
        .iter()
        .all(|r| r.container_memory_bytes.is_some()));
    // The CLI timed itself, so `docker exec`'s part was measured apart (and is not nothing).
    for name in ["cli_search", "cli_publish"] {
        let phase = results.phase(name).expect("cli phase");
        let overhead = phase.extra.get("launch_overhead_s_p50");
        assert!(
            overhead.is_some_and(|s| *s > 0.0),
            "{name}: {:?}",
            phase.extra
        );
    }
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn docker_run_of_ten_peers_at_20ms_through_all_phases_leaves_nothing() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let Some(docker) = docker() else { return };
    let dir = tempfile::tempdir().unwrap();
    let scenario = write_scenario(dir.path(), ALL_PHASES);
    let results_dir = dir.path().join("results");
    let out = up(
        &results_dir,
        &[
            "--runtime",
            "docker",
            "--peers",
            "10",
            "--latency",
            "20ms",
            "--scenario",
            scenario.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(0), "stderr:\n{}", stderr(&out));

    let (run, results) = only_run(&results_dir);
    assert_whole_container_run(&results, &run, "docker");
    assert!(results
        .run
        .image
        .as_deref()
        .is_some_and(|i| i.starts_with("p2p-testbed/node:")));
    for file in [
        "summary.md",
        "junit.xml",
        "prometheus-targets.json",
        "plots/latency_cdf.png",
        "plots/gossip_propagation.png",
        "plots/memory_per_peer.png",
        "plots/bootstrap_times.png",
        "plots/link_rtt.png",
    ] {
        assert!(
            results_dir.join(&run).join(file).is_file(),
            "{file} missing"
        );
    }
    assert_eq!(
        docker_leftovers(&docker, &run),
        (0, 0),
        "containers or networks left behind"
    );
}

#[test]
fn local_runtime_runs_every_phase_and_a_missed_target_exits_1() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let impossible = format!("{ALL_PHASES}  - {{ metric: search_local.p99, max: 1ns }}\n");
    let scenario = write_scenario(dir.path(), &impossible);
    let results_dir = dir.path().join("results");
    let out = up(
        &results_dir,
        &[
            "--runtime",
            "local",
            "--peers",
            "8",
            "--latency",
            "5ms",
            "--scenario",
            scenario.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(1), "stderr:\n{}", stderr(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("search_local.p99") && stdout.contains("FAIL"),
        "{stdout}"
    );

    let (run, results) = only_run(&results_dir);
    assert_eq!(results.run.runtime, "local");
    assert_all_phases(&results);
    assert_shaped(&results, &run, 10.0);
    let missed: Vec<&str> = results
        .sla
        .iter()
        .filter(|s| !s.pass)
        .map(|s| s.metric.as_str())
        .collect();
    assert_eq!(missed, ["search_local.p99"]);
    assert!(
        std::fs::read_to_string(results_dir.join(&run).join("junit.xml"))
            .unwrap()
            .contains("failures=\"1\"")
    );
    assert!(
        !orchestrator::runtime::local::work_root()
            .join(&run)
            .exists(),
        "work directory left behind"
    );
}

#[test]
fn a_scenario_with_errors_names_file_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = write_scenario(
        dir.path(),
        "peers: 4\nphases:\n  - publish: { packages: 0 }\n",
    );
    let out = up(
        &dir.path().join("results"),
        &["--scenario", scenario.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains(&format!("{}:3:", scenario.display())), "{err}");
    assert!(err.contains("publish.packages must be at least 1"), "{err}");

    let out = up(&dir.path().join("results"), &["--peers", "1"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--peers must be at least 2"));

    let out = up(&dir.path().join("results"), &["--latency", "soon"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--latency"));

    let out = up(&dir.path().join("results"), &["--profile", "moon"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("unknown link profile \"moon\""),
        "{}",
        stderr(&out)
    );

    let scenario = write_scenario(
        dir.path(),
        "peers: 4\nlink:\n  profile: wan\n  loss: 300%\nphases:\n  - bootstrap: {}\n",
    );
    let out = up(
        &dir.path().join("results"),
        &["--scenario", scenario.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains(&format!("{}:4:", scenario.display())),
        "{}",
        stderr(&out)
    );
    assert!(stderr(&out).contains("link.loss"), "{}", stderr(&out));

    let missing = up(
        &dir.path().join("results"),
        &["--scenario", "/nonexistent.yaml"],
    );
    assert_eq!(missing.status.code(), Some(2));
    assert!(stderr(&missing).contains("/nonexistent.yaml"));
}

/// An `orchestrator up` running in the background. Its output goes to a file, so that it can
/// never block on a full pipe, and every wait says how the run ended if it ended early.
struct Background {
    child: std::process::Child,
    output: PathBuf,
}

impl Background {
    /// Starts `command` with its standard output and error going to the file `output`.
    fn spawn(mut command: Command, output: PathBuf) -> Self {
        let log = std::fs::File::create(&output).unwrap();
        let child = command
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        Self { child, output }
    }

    /// Panics, with the run's own words, if it has already exited.
    fn assert_running(&mut self, waiting_for: &str) {
        if let Some(status) = self.child.try_wait().unwrap() {
            panic!(
                "the run exited ({status}) while waiting for {waiting_for}; its output:\n{}",
                self.output()
            );
        }
    }

    fn output(&self) -> String {
        std::fs::read_to_string(&self.output).unwrap_or_default()
    }

    /// Sends the run signal `name` (`TERM`, `INT`), as `kill` does; false if it could not.
    fn signal(&self, name: &str) -> bool {
        Command::new("kill")
            .args([&format!("-{name}"), &self.child.id().to_string()])
            .status()
            .is_ok_and(|s| s.success())
    }

    /// Polls `ready` every 100 ms until it gives a value, for up to two minutes; panics, with
    /// the run's output so far, if the run exits first or `what` never happens.
    fn wait_until<T>(&mut self, what: &str, mut ready: impl FnMut() -> Option<T>) -> T {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            if let Some(value) = ready() {
                return value;
            }
            self.assert_running(what);
            assert!(
                Instant::now() < deadline,
                "{what}: not within two minutes; the run's output so far:\n{}",
                self.output()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Waits for the run to end: its exit code and output.
    fn wait(mut self) -> (Option<i32>, String) {
        let status = self.child.wait().unwrap();
        (status.code(), self.output())
    }
}

/// A test that fails while its run is still going ends the run the way a user would, with
/// SIGTERM, so that the run removes what it created and the next test finds a clean machine.
impl Drop for Background {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) && self.signal("TERM") {
            let _ = self.child.wait();
        }
    }
}

/// Starts `orchestrator up` in the background and waits until its peers are healthy.
fn spawn_up(
    results_dir: &Path,
    scenario: &Path,
    runtime: &str,
    peers: &str,
    extra: &[&str],
) -> (Background, String) {
    let mut command = Command::new(BIN);
    command
        .args(["up", "--runtime", runtime, "--peers", peers])
        .args(extra)
        .arg("--scenario")
        .arg(scenario)
        .arg("--results-dir")
        .arg(results_dir);
    let mut run = Background::spawn(command, results_dir.with_extension("out"));
    let id = wait_for_run(results_dir, &mut run);
    (run, id)
}

/// Waits for the run's Prometheus targets file: the peers are up and healthy then.
fn wait_for_run(results: &Path, run: &mut Background) -> String {
    run.wait_until("its peers to come up", || {
        std::fs::read_dir(results)
            .ok()?
            .flatten()
            .find(|e| e.path().join("prometheus-targets.json").exists())
            .map(|e| e.file_name().to_string_lossy().into_owned())
    })
}

/// Kills `container` with SIGKILL, as a crash would end it.
fn sigkill(docker: &bollard::Docker, container: &str) {
    let options = KillContainerOptionsBuilder::default()
        .signal("SIGKILL")
        .build();
    tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(docker.kill_container(container, Some(options)))
        .unwrap_or_else(|e| panic!("killing {container}: {e}"));
}

const SLOW_GOSSIP: &str = r#"
phases:
  - bootstrap: {}
  - publish: { packages: 5, publishers: 2 }
  - gossip: { messages: 2, settle: 15s }
  - dht_lookup: { peers: 3, lookups_per_peer: 2 }
"#;

#[test]
fn a_peer_killed_mid_run_is_reported_and_cleaned_up() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let Some(docker) = docker() else { return };
    let dir = tempfile::tempdir().unwrap();
    let scenario = write_scenario(dir.path(), SLOW_GOSSIP);
    let results_dir = dir.path().join("results");
    let (background, run) = spawn_up(&results_dir, &scenario, "docker", "6", &[]);
    // Bootstrap and publish take a few seconds; the gossip phase then waits 15 s.
    std::thread::sleep(Duration::from_secs(6));
    let victim = format!("p2p-{run}-0004");
    sigkill(&docker, &victim);

    let (code, output) = background.wait();
    assert_eq!(code, Some(3), "output:\n{output}");
    let results = RunResults::load(&results_dir.join(&run)).unwrap();
    assert!(
        results
            .failures
            .iter()
            .any(|f| f.contains("stopped unexpectedly") && f.contains(&victim)),
        "{:?}",
        results.failures
    );
    assert!(
        results.phase("gossip").is_some(),
        "phases before the crash are kept"
    );
    assert_eq!(
        docker_leftovers(&docker, &run),
        (0, 0),
        "containers or networks left behind"
    );
}

/// Waits until the run's checkpoint (results.json, written as each phase ends) holds
/// `phases` phases.
fn wait_for_phases(run_dir: &Path, run: &mut Background, phases: usize) {
    run.wait_until(&format!("{phases} phases"), || {
        RunResults::load(run_dir)
            .is_ok_and(|r| r.phases.len() >= phases)
            .then_some(())
    });
}

/// Nothing of local run `run` is left: no process, work directory or iptables chain.
fn assert_no_local_leftovers(run: &str) {
    assert!(
        !orchestrator::runtime::local::work_root().join(run).exists(),
        "work directory left behind"
    );
    assert_no_chains(run);
    let leftover = Command::new("pgrep").args(["-f", run]).output().unwrap();
    assert!(
        leftover.stdout.is_empty(),
        "processes left: {}",
        String::from_utf8_lossy(&leftover.stdout)
    );
}

/// The iptables chains of run `run` still present.
fn run_chains(run: &str) -> Vec<String> {
    let prefix = netem::names::chain(run);
    netem::iptables::chains_present()
        .expect("iptables")
        .into_iter()
        .filter(|c| c.starts_with(&prefix))
        .collect()
}

fn assert_no_chains(run: &str) {
    let chains = run_chains(run);
    assert!(chains.is_empty(), "iptables chains left behind: {chains:?}");
}

/// Polls `gone` for up to a minute.
fn within_a_minute(mut gone: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if gone() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    false
}

#[test]
fn an_interrupted_run_keeps_the_phases_it_finished_and_removes_everything() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let scenario = write_scenario(dir.path(), SLOW_GOSSIP);
    let results_dir = dir.path().join("results");
    let (mut background, run) = spawn_up(
        &results_dir,
        &scenario,
        "local",
        "5",
        &["--latency", "10ms"],
    );
    // Bootstrap and publish done; the gossip phase then waits 15 s.
    wait_for_phases(&results_dir.join(&run), &mut background, 2);
    assert!(background.signal("TERM"), "kill -TERM failed");
    let (code, output) = background.wait();
    assert_eq!(code, Some(3), "output:\n{output}");
    assert!(output.contains("interrupted"), "{output}");
    let results = RunResults::load(&results_dir.join(&run)).unwrap();
    assert!(results.failures.iter().any(|f| f.contains("interrupted")));
    assert!(results.partial, "an interrupted run is marked partial");
    let summary = std::fs::read_to_string(results_dir.join(&run).join("summary.md")).unwrap();
    assert!(summary.contains("Partial run"), "{summary}");
    for phase in [names::BOOTSTRAP, names::PUBLISH] {
        let report = results
            .phase(phase)
            .unwrap_or_else(|| panic!("{phase} lost"));
        assert!(!report.samples.is_empty(), "{phase} has no samples");
        assert!(
            summary.contains(&format!("| {phase} |")),
            "{phase} missing from summary.md"
        );
    }
    assert_no_local_leftovers(&run);
}

#[test]
fn a_killed_orchestrator_is_reaped_within_a_minute() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let Some(docker) = docker() else { return };
    let dir = tempfile::tempdir().unwrap();
    let scenario = write_scenario(dir.path(), SLOW_GOSSIP);
    let results_dir = dir.path().join("results");
    let neighbour_table = neighbour_settings();
    let (mut background, run) = spawn_up(
        &results_dir,
        &scenario,
        "docker",
        "4",
        &["--latency", "10ms"],
    );
    wait_for_phases(&results_dir.join(&run), &mut background, 1);
    assert_ne!(docker_leftovers(&docker, &run), (0, 0), "the run is up");
    background.child.kill().unwrap(); // SIGKILL: no handler runs
    background.child.wait().unwrap();
    assert!(
        within_a_minute(|| docker_leftovers(&docker, &run) == (0, 0)),
        "containers or networks of the killed run are still there after a minute"
    );
    within_a_minute(|| run_chains(&run).is_empty());
    assert_no_chains(&run);
    assert_eq!(
        neighbour_settings(),
        neighbour_table,
        "the neighbour table settings the run raised were not put back"
    );
}

#[test]
fn a_closed_terminal_ends_the_run_and_leaves_nothing() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let scenario = write_scenario(dir.path(), SLOW_GOSSIP);
    let results_dir = dir.path().join("results");
    // The run in a terminal of its own (`script` holds the pseudo-terminal); killing
    // `script` closes the terminal, and the kernel sends SIGHUP to the run.
    let command = format!(
        "exec {BIN} up --runtime local --peers 4 --latency 10ms --scenario {} --results-dir {}",
        scenario.display(),
        results_dir.display()
    );
    let mut script = Command::new("script");
    script
        .args(["-qfec", &command, "/dev/null"])
        .stdin(Stdio::piped());
    let mut terminal = Background::spawn(script, dir.path().join("terminal.out"));
    let run = wait_for_run(&results_dir, &mut terminal);
    wait_for_phases(&results_dir.join(&run), &mut terminal, 1);
    terminal.child.kill().unwrap();
    terminal.child.wait().unwrap();
    assert!(
        within_a_minute(|| {
            let results = RunResults::load(&results_dir.join(&run));
            results.is_ok_and(|r| r.failures.iter().any(|f| f.contains("SIGHUP")))
                && Command::new("pgrep")
                    .args(["-f", &run])
                    .output()
                    .unwrap()
                    .stdout
                    .is_empty()
        }),
        "the run did not end on SIGHUP within a minute"
    );
    let results = RunResults::load(&results_dir.join(&run)).unwrap();
    assert!(results.phase(names::BOOTSTRAP).is_some(), "bootstrap kept");
    assert_no_local_leftovers(&run);
}

/// The peers a kept run lists in `peers.txt`: HTTP API and libp2p `ip:port`, once the file
/// is there (the network is kept from then on).
fn wait_for_kept_peers(run_dir: &Path, run: &mut Background) -> Vec<(String, SocketAddr)> {
    let list = run.wait_until("the network to be kept", || {
        std::fs::read_to_string(run_dir.join("peers.txt")).ok()
    });
    list.lines()
        .filter(|l| !l.starts_with('#'))
        .map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            // /ip4/<ip>/tcp/<port>/p2p/<peer id>
            let parts: Vec<&str> = fields[2].split('/').collect();
            let addr = format!("{}:{}", parts[2], parts[4]).parse().unwrap();
            (fields[1].to_owned(), addr)
        })
        .collect()
}

#[test]
fn a_kept_network_stays_shaped_until_ctrl_c_and_then_leaves_nothing() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let Some(docker) = docker() else { return };
    let dir = tempfile::tempdir().unwrap();
    let scenario = write_scenario(dir.path(), "phases:\n  - bootstrap: {}\n");
    let results_dir = dir.path().join("results");
    let (mut background, run) = spawn_up(
        &results_dir,
        &scenario,
        "docker",
        "4",
        &["--latency", "20ms", "--keep"],
    );
    let peers = wait_for_kept_peers(&results_dir.join(&run), &mut background);
    assert_eq!(peers.len(), 4, "{peers:?}");
    let output = background.output();
    let token = output
        .split("--api-token ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no API token in the output:\n{output}"))
        .to_owned();

    // Round trips from inside peer 0's namespace (its own /bench/rtt) to the three others,
    // while the network is kept: 2 × 20 ms, as configured (unshaped, they take 0.05 ms).
    let probe = p2p_api::RttProbe {
        targets: peers[1..].iter().map(|(_, addr)| *addr).collect(),
        transport: p2p_api::Transport::default(),
        count: 5,
        bind: None,
        timeout_ms: 5_000,
        interval_ms: 100,
    };
    let client = p2p_api::ApiClient::new(&peers[0].0, Some(token)).unwrap();
    let measured = tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(client.rtt(&probe))
        .expect("round trips from peer 0");
    for (target, result) in probe.targets.iter().zip(&measured.targets) {
        let mut ms: Vec<f64> = result.samples.iter().map(|s| s * 1e3).collect();
        assert!(!ms.is_empty(), "{target}: {:?}", result.errors);
        ms.sort_by(f64::total_cmp);
        let median = ms[ms.len() / 2];
        assert!(
            (36.0..=44.0).contains(&median),
            "{target}: kept link measured {median:.2} ms against 40 ms configured ({ms:?})"
        );
    }

    // Ctrl-C ends the keeping: a finished run, its report whole, nothing left behind.
    assert!(background.signal("INT"), "kill -INT failed");
    let (code, output) = background.wait();
    assert_eq!(code, Some(0), "output:\n{output}");
    assert!(output.contains("tearing the kept network down"), "{output}");
    let results = RunResults::load(&results_dir.join(&run)).unwrap();
    assert!(
        !results.partial,
        "a kept run that ends with Ctrl-C is whole"
    );
    assert!(results.failures.is_empty(), "{:?}", results.failures);
    assert!(results.phase(names::BOOTSTRAP).is_some());
    assert_eq!(
        docker_leftovers(&docker, &run),
        (0, 0),
        "containers or networks left behind"
    );
    assert_no_chains(&run);
}

/// The engine in a swarm for a test: if it was in none, one is initialised on loopback and,
/// when the test ends, left again, `docker_gwbridge` (which the swarm made) removed too; an
/// engine already in a swarm is used as it is and stays in it.
struct SwarmForTest {
    docker: bollard::Docker,
    initialised: bool,
    /// The neighbour-table settings before `docker swarm init`: the engine raises them to
    /// 8192/49152/65536 when it sets up swarm networking, and leaving does not lower them.
    neighbours: Option<[u64; 3]>,
}

/// The namespace of the swarm's ingress network, there once the engine has set up swarm
/// networking.
const INGRESS_NAMESPACE: &str = "/run/docker/netns/ingress_sbox";

impl SwarmForTest {
    fn state(docker: &bollard::Docker) -> String {
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(docker.info())
            .unwrap()
            .swarm
            .and_then(|s| s.local_node_state)
            .map_or_else(String::new, |s| s.to_string())
    }

    fn join(docker: &bollard::Docker) -> Self {
        let neighbours = neighbour_settings();
        let initialised = Self::state(docker) != "active";
        if initialised {
            let request = bollard::models::SwarmInitRequest {
                listen_addr: Some("127.0.0.1:2377".into()),
                advertise_addr: Some("127.0.0.1".into()),
                ..Default::default()
            };
            tokio::runtime::Runtime::new()
                .unwrap()
                .block_on(docker.init_swarm(request))
                .expect("docker swarm init");
            // The engine's overlay driver raises the neighbour table once in the daemon's
            // life, when it creates the first overlay network: the ingress, a moment after
            // `init` has returned. A test that reads the settings before that saw them change
            // under it (a_killed_swarm_run_is_removed_by_down, on a daemon that had never been
            // in a swarm), so the swarm is handed over once its ingress is up.
            assert!(
                within_a_minute(|| std::path::Path::new(INGRESS_NAMESPACE).exists()),
                "no {INGRESS_NAMESPACE} a minute after docker swarm init"
            );
        }
        Self {
            docker: docker.clone(),
            initialised,
            neighbours,
        }
    }

    /// Puts back the neighbour-table settings found before the swarm, if they changed.
    fn restore_neighbours(&self) {
        let Some(found) = self.neighbours else {
            return;
        };
        if neighbour_settings() == Some(found) {
            return;
        }
        match orchestrator::runtime::write_neighbour_settings(found) {
            Ok(()) => eprintln!(
                "the engine's swarm had raised the neighbour table; put back to {found:?}"
            ),
            Err(e) => eprintln!("{e}"),
        }
    }
}

impl Drop for SwarmForTest {
    fn drop(&mut self) {
        if !self.initialised {
            return;
        }
        let rt = tokio::runtime::Runtime::new().unwrap();
        let leave = bollard::query_parameters::LeaveSwarmOptionsBuilder::default()
            .force(true)
            .build();
        if let Err(e) = rt.block_on(self.docker.leave_swarm(Some(leave))) {
            eprintln!("docker swarm leave: {e}");
        }
        // Its last endpoint goes a moment after the swarm.
        let mut last = None;
        let mut removed = false;
        for _ in 0..40 {
            match rt.block_on(self.docker.remove_network("docker_gwbridge")) {
                Ok(()) => {
                    removed = true;
                    break;
                }
                Err(e) => last = Some(e),
            }
            std::thread::sleep(Duration::from_millis(500));
        }
        if !removed && !std::thread::panicking() {
            panic!("docker_gwbridge cannot be removed after leaving the swarm: {last:?}");
        }
        // The engine tears the swarm's namespaces down for a few seconds more, busy enough to
        // make the next test's links measure late: that test starts once they are gone.
        let swarm_namespaces = || {
            std::fs::read_dir("/run/docker/netns").map_or(0, |dir| {
                dir.flatten()
                    .filter(|e| {
                        let name = e.file_name().to_string_lossy().into_owned();
                        name == "ingress_sbox" || name.starts_with("1-") || name.starts_with("lb_")
                    })
                    .count()
            })
        };
        let namespaces_gone = within_a_minute(|| swarm_namespaces() == 0);
        self.restore_neighbours();
        if std::thread::panicking() {
            return;
        }
        assert!(
            namespaces_gone,
            "{} swarm namespaces still in /run/docker/netns a minute after leaving",
            swarm_namespaces()
        );
        assert_eq!(
            neighbour_settings(),
            self.neighbours,
            "neighbour table not left as found"
        );
    }
}

/// Services, volumes, containers and networks still labelled with `run`.
fn swarm_leftovers(docker: &bollard::Docker, run: &str) -> (usize, usize, usize, usize) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (services, volumes) = rt
        .block_on(orchestrator::runtime::swarm::leftovers(docker))
        .unwrap()
        .get(run)
        .copied()
        .unwrap_or((0, 0));
    let (containers, networks) = docker_leftovers(docker, run);
    (services, volumes, containers, networks)
}

#[test]
fn swarm_run_of_ten_peers_at_20ms_through_all_phases_leaves_nothing() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let Some(docker) = docker() else { return };
    let dir = tempfile::tempdir().unwrap();
    let scenario = write_scenario(dir.path(), ALL_PHASES);
    let results_dir = dir.path().join("results");
    let args = [
        "--runtime",
        "swarm",
        "--peers",
        "10",
        "--latency",
        "20ms",
        "--scenario",
        scenario.to_str().unwrap(),
    ];
    if SwarmForTest::state(&docker) != "active" {
        // No swarm: a clear error, and nothing created.
        let out = up(&results_dir, &args);
        assert_eq!(out.status.code(), Some(3), "stderr:\n{}", stderr(&out));
        assert!(
            stderr(&out).contains("not part of an active swarm"),
            "{}",
            stderr(&out)
        );
        assert!(!results_dir.exists(), "a run started without a swarm");
    }
    let _swarm = SwarmForTest::join(&docker);
    let out = up(&results_dir, &args);
    assert_eq!(out.status.code(), Some(0), "stderr:\n{}", stderr(&out));

    let (run, results) = only_run(&results_dir);
    assert_whole_container_run(&results, &run, "swarm");
    assert_eq!(
        swarm_leftovers(&docker, &run),
        (0, 0, 0, 0),
        "services, volumes, containers or networks left behind"
    );
}

#[test]
fn a_task_the_swarm_restarts_on_its_own_is_reported() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let Some(docker) = docker() else { return };
    let _swarm = SwarmForTest::join(&docker);
    let dir = tempfile::tempdir().unwrap();
    let scenario = write_scenario(dir.path(), SLOW_GOSSIP);
    let results_dir = dir.path().join("results");
    let (mut background, run) = spawn_up(&results_dir, &scenario, "swarm", "6", &[]);
    wait_for_phases(&results_dir.join(&run), &mut background, 1);
    let victim = format!("p2p-{run}-0004");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let label = format!("com.docker.swarm.service.name={victim}");
    let filters = std::collections::HashMap::from([("label", vec![label.as_str()])]);
    let task = rt
        .block_on(
            docker.list_containers(Some(
                bollard::query_parameters::ListContainersOptionsBuilder::default()
                    .filters(&filters)
                    .build(),
            )),
        )
        .unwrap()
        .into_iter()
        .find_map(|c| c.id)
        .expect("the victim's task container");
    // The node dies as a crash would kill it; the swarm starts another task for it.
    sigkill(&docker, &task);

    let (code, output) = background.wait();
    assert_eq!(code, Some(3), "output:\n{output}");
    let results = RunResults::load(&results_dir.join(&run)).unwrap();
    assert!(
        results
            .failures
            .iter()
            .any(|f| f.contains(&victim) && f.contains("stopped on its own")),
        "{:?}",
        results.failures
    );
    assert_eq!(swarm_leftovers(&docker, &run), (0, 0, 0, 0));
}

#[test]
fn a_killed_swarm_run_is_removed_by_down() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let Some(docker) = docker() else { return };
    let _swarm = SwarmForTest::join(&docker);
    let dir = tempfile::tempdir().unwrap();
    let scenario = write_scenario(dir.path(), SLOW_GOSSIP);
    let results_dir = dir.path().join("results");
    let neighbour_table = neighbour_settings();
    let (mut background, run) = spawn_up(
        &results_dir,
        &scenario,
        "swarm",
        "4",
        &["--latency", "10ms"],
    );
    wait_for_phases(&results_dir.join(&run), &mut background, 1);
    let (services, volumes, ..) = swarm_leftovers(&docker, &run);
    assert_eq!((services, volumes), (4, 4), "the run is up");
    background.child.kill().unwrap(); // SIGKILL: no handler runs
    background.child.wait().unwrap();
    let down = Command::new(BIN)
        .args(["down", "--run", &run])
        .output()
        .unwrap();
    assert!(down.status.success(), "down: {}", stderr(&down));
    assert_eq!(
        swarm_leftovers(&docker, &run),
        (0, 0, 0, 0),
        "services, volumes, containers or networks left behind"
    );
    let status = Command::new(BIN).arg("status").output().unwrap();
    assert!(
        !String::from_utf8_lossy(&status.stdout).contains(&run),
        "status still lists the run"
    );
    assert_no_chains(&run);
    assert_eq!(neighbour_settings(), neighbour_table);
}

/// On a swarm of several nodes a run first checks that every node has the image. With the one
/// node here: the node image a run builds is found, one that no node has is named with how to
/// load it, and the check leaves nothing behind.
#[test]
fn every_swarm_node_is_checked_for_the_image() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let Some(docker) = docker() else { return };
    let _swarm = SwarmForTest::join(&docker);
    let run = format!("imagecheck-{}", std::process::id());
    let rt = tokio::runtime::Runtime::new().unwrap();
    let binary = orchestrator::runtime::locate_node_binary(None).unwrap();
    let tag = rt
        .block_on(orchestrator::runtime::docker::ensure_node_image(
            &docker, &binary, &run,
        ))
        .unwrap();
    let id = rt
        .block_on(docker.inspect_image(&tag))
        .unwrap()
        .id
        .expect("the image's id");
    let hostname = rt
        .block_on(docker.info())
        .unwrap()
        .name
        .expect("the engine's host name");
    let swarm = rt
        .block_on(orchestrator::runtime::SwarmRuntime::new(
            docker.clone(),
            &run,
            None,
        ))
        .unwrap();

    rt.block_on(swarm.check_image(&id))
        .expect("the image this engine built is on its node");
    let absent = format!("sha256:{}", "0".repeat(64));
    let message = rt
        .block_on(swarm.check_image(&absent))
        .expect_err("no node has an image of id 0")
        .to_string();
    assert!(
        message.contains(&format!("missing on {hostname}")),
        "{message}"
    );
    assert!(
        message.contains(&format!("docker save {absent} | ssh <node> docker load")),
        "{message}"
    );
    assert_eq!(
        swarm_leftovers(&docker, &run),
        (0, 0, 0, 0),
        "the check left services, volumes, containers or networks behind"
    );
}
