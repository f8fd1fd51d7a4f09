//! A watchdog per run, on the model of testcontainers' Ryuk: whatever ends the orchestrator,
//! the run's containers, networks, processes, iptables chains and work directories go, and the
//! host settings it raised come back.
//!
//! `up` starts `orchestrator reap --run <id>` as a process of its own (its own process group,
//! so that a closing terminal does not take it along) with a pipe to its standard input. The
//! orchestrator writes a heartbeat line down the pipe every [`HEARTBEAT`] from a thread of its
//! own, and `done` once it has removed everything itself. The reaper removes the run through
//! [`cleanup::remove_run`] — the path `orchestrator down` takes — when the pipe closes without
//! `done` (the orchestrator died: SIGKILL, a crash, a lost terminal) or when no heartbeat
//! came for [`SILENCE`] (it hangs, or was stopped).

use std::io::{BufRead, Write};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::cleanup;

/// How often the orchestrator says it is alive.
pub const HEARTBEAT: Duration = Duration::from_secs(2);
/// How long the reaper waits for a heartbeat before it reaps.
pub const SILENCE: Duration = Duration::from_secs(30);

const BEAT: &str = "beat";
const DONE: &str = "done";

/// The orchestrator's end: the reaper process and the pipe to it.
pub struct Reaper {
    child: Child,
    pipe: Arc<Mutex<Option<ChildStdin>>>,
}

impl Reaper {
    /// Starts the reaper of run `run_id`, logging to `log`, and the heartbeat thread.
    pub fn spawn(run_id: &str, log: &Path) -> std::io::Result<Self> {
        let exe = std::env::current_exe()?;
        let log_file = std::fs::File::create(log)?;
        let mut child = Command::new(exe)
            .args(["reap", "--run", run_id])
            .stdin(Stdio::piped())
            .stdout(log_file.try_clone()?)
            .stderr(log_file)
            .process_group(0)
            .spawn()?;
        let pipe = Arc::new(Mutex::new(child.stdin.take()));
        let beating = Arc::clone(&pipe);
        std::thread::Builder::new()
            .name("reaper-heartbeat".into())
            .spawn(move || loop {
                std::thread::sleep(HEARTBEAT);
                let mut guard = beating.lock().expect("reaper pipe lock poisoned");
                let Some(pipe) = guard.as_mut() else {
                    return;
                };
                if writeln!(pipe, "{BEAT}").is_err() {
                    // The reaper is gone; nothing more to tell it.
                    *guard = None;
                    return;
                }
            })?;
        Ok(Self { child, pipe })
    }

    /// The run removed what it created: the reaper leaves without doing anything.
    pub fn dismiss(mut self) {
        if let Some(mut pipe) = self.pipe.lock().expect("reaper pipe lock poisoned").take() {
            let _ = writeln!(pipe, "{DONE}");
        }
        let _ = self.child.wait();
    }
}

/// The reaper's end (`orchestrator reap`): reads heartbeats from standard input until `done`
/// (returns `None`), or until the pipe closes or falls silent, and then removes the run
/// (returns what was removed).
pub async fn watch(run_id: &str) -> Option<cleanup::Removed> {
    let (tx, mut rx) = tokio::sync::mpsc::channel::<String>(16);
    std::thread::spawn(move || {
        let stdin = std::io::stdin();
        for line in stdin.lock().lines() {
            let Ok(line) = line else { break };
            if tx.blocking_send(line).is_err() {
                break;
            }
        }
        // Dropping `tx` tells the watcher the pipe closed.
    });
    // A closed terminal must not end the reaper before it has done its work.
    let mut hangup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok();
    let why = loop {
        let hup = async {
            match hangup.as_mut() {
                Some(h) => h.recv().await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            line = tokio::time::timeout(SILENCE, rx.recv()) => match line {
                Ok(Some(l)) if l.trim() == DONE => return None,
                Ok(Some(_)) => continue,
                Ok(None) => break "the orchestrator's pipe closed without it finishing",
                Err(_) => break "no heartbeat from the orchestrator",
            },
            _ = hup => continue,
        }
    };
    eprintln!("reaper: {why}: removing everything run {run_id} created");
    let removed = cleanup::remove_run(Some(run_id)).await;
    eprintln!(
        "reaper: removed {} processes, {} containers, {} networks, {} chains, restored {} host settings{}",
        removed.processes,
        removed.containers,
        removed.networks,
        removed.chains.len(),
        removed.host_settings,
        if removed.problems.is_empty() {
            String::new()
        } else {
            format!("; problems: {}", removed.problems.join("; "))
        }
    );
    Some(removed)
}
