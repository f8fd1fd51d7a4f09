//! The CLI against real `p2p-node run` processes on loopback.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use p2p_api::{NodeStatus, SearchOutcome};

const BIN: &str = env!("CARGO_BIN_EXE_p2p-node");
const WAIT: Duration = Duration::from_secs(30);

/// A running daemon, killed on drop so that a failing test leaves no process behind.
struct Daemon {
    child: Child,
    api: String,
    listen: String,
    _dir: tempfile::TempDir,
}

impl Daemon {
    fn start(bootstrap: Option<&str>) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut command = Command::new(BIN);
        command
            .args([
                "run",
                "--listen",
                "/ip4/127.0.0.1/tcp/0",
                "--api-addr",
                "127.0.0.1:0",
            ])
            .arg("--data-dir")
            .arg(dir.path())
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        if let Some(peer) = bootstrap {
            command.args(["--bootstrap", peer]);
        }
        let mut child = command.spawn().expect("p2p-node starts");
        let stdout = child.stdout.take().unwrap();
        let (mut api, mut listen) = (None, None);
        for line in BufReader::new(stdout).lines() {
            let line = line.unwrap();
            if let Some(addr) = line.strip_prefix("listening ") {
                listen = Some(addr.trim().to_owned());
            }
            if let Some(url) = line.strip_prefix("api ") {
                api = Some(url.trim().to_owned());
                break;
            }
        }
        Self {
            child,
            api: api.expect("the daemon printed its API address"),
            listen: listen.expect("the daemon printed a listen address"),
            _dir: dir,
        }
    }

    /// Sends SIGTERM and expects a clean exit.
    fn terminate(mut self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                assert!(status.success(), "daemon exited with {status}");
                return;
            }
            assert!(Instant::now() < deadline, "daemon ignored SIGTERM");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn cli(args: &[&str]) -> Output {
    Command::new(BIN).args(args).output().unwrap()
}

fn ok(args: &[&str]) -> String {
    let out = cli(args);
    assert!(
        out.status.success(),
        "p2p-node {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn until(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + WAIT;
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn three_nodes_publish_search_and_install_through_the_cli() {
    let first = Daemon::start(None);
    let second = Daemon::start(Some(&first.listen));
    let third = Daemon::start(Some(&first.listen));
    for node in [&second, &third] {
        until("the bootstrap", || {
            let status: NodeStatus =
                serde_json::from_str(&ok(&["status", "--json", "--node", &node.api])).unwrap();
            status.network.gossip_mesh_peers > 0
        });
    }

    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), b"#!/bin/sh\necho hi\n").unwrap();
    let path = file.path().to_str().unwrap();
    let published = ok(&[
        "publish",
        path,
        "--name",
        "say-hi",
        "--version",
        "0.3.1",
        "--description",
        "Says hi from the shell",
        "--tag",
        "shell",
        "--node",
        &first.api,
    ]);
    assert!(published.contains("published say-hi 0.3.1"), "{published}");

    until("the announcement to reach the third node", || {
        ok(&["search", "shell", "--node", &third.api]).contains("say-hi")
    });
    let network: SearchOutcome = serde_json::from_str(&ok(&[
        "search",
        "hi",
        "--network",
        "--json",
        "--node",
        &second.api,
    ]))
    .unwrap();
    assert!(network.peers_answered >= 1);
    assert_eq!(network.hits[0].package.manifest.name, "say-hi");

    let installed = ok(&["install", "say-hi", "--node", &third.api]);
    assert!(installed.contains("installed say-hi 0.3.1"), "{installed}");
    let status: NodeStatus =
        serde_json::from_str(&ok(&["status", "--json", "--node", &third.api])).unwrap();
    assert_eq!(status.packages_stored, 1);
    let table = ok(&["status", "--node", &third.api]);
    assert!(table.contains("packages stored") && table.contains(&status.network.peer_id));

    let missing = cli(&["install", "no-such-pkg", "--node", &third.api]);
    assert!(!missing.status.success());
    let stderr = String::from_utf8_lossy(&missing.stderr);
    assert!(
        stderr.contains("404") && stderr.contains("not found"),
        "{stderr}"
    );

    for node in [third, second, first] {
        node.terminate();
    }
}

#[test]
fn client_errors_are_readable() {
    let unreachable = cli(&["status", "--node", "http://127.0.0.1:1"]);
    assert!(!unreachable.status.success());
    let stderr = String::from_utf8_lossy(&unreachable.stderr);
    assert!(stderr.contains("cannot reach the node"), "{stderr}");

    let missing_file = cli(&[
        "publish",
        "/nonexistent/file",
        "--name",
        "x",
        "--version",
        "1.0.0",
        "--node",
        "http://127.0.0.1:1",
    ]);
    assert!(!missing_file.status.success());
    let stderr = String::from_utf8_lossy(&missing_file.stderr);
    assert!(stderr.contains("reading /nonexistent/file"), "{stderr}");

    let node = Daemon::start(None);
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), b"x").unwrap();
    let bad = cli(&[
        "publish",
        file.path().to_str().unwrap(),
        "--name",
        "Bad",
        "--version",
        "1.0.0",
        "--node",
        &node.api,
    ]);
    assert!(!bad.status.success());
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(
        stderr.contains("400") && stderr.contains("invalid package name"),
        "{stderr}"
    );
    node.terminate();
}

#[test]
fn inconsistent_connection_watermarks_are_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let out = cli(&[
        "run",
        "--data-dir",
        dir.path().to_str().unwrap(),
        "--api-addr",
        "127.0.0.1:0",
        "--max-connections",
        "64",
        "--connections-high-water",
        "65",
    ]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--connections-high-water")
            && stderr.contains("exceeds the connection limit 64"),
        "{stderr}"
    );
}
