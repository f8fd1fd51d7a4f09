//! The local runtime: one `p2p-node` child process per peer, each on its own 127.77.x.y
//! address and its own ports (libp2p dials from its listen port, so ports must differ).
//! Children run in their own process group so that a Ctrl-C reaches the orchestrator, which
//! then stops them in order. Their pids are kept in `<tmp>/p2p-testbed/<run>/pids` for
//! `orchestrator down`.

use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use tokio::process::{Child, Command};

use super::{node_args, CliRun, InfraError, NodeOptions, PeerSlot};

const STOP_GRACE: Duration = Duration::from_secs(5);
/// Every local peer's address lies in here (127.77.x.y).
pub const SUBNET: ipnet::Ipv4Net = ipnet::Ipv4Net::new_assert(Ipv4Addr::new(127, 77, 0, 0), 16);
const CLI_DEADLINE: Duration = Duration::from_secs(120);

/// Root of the local runtime's working directories.
pub fn work_root() -> PathBuf {
    std::env::temp_dir().join("p2p-testbed")
}

#[derive(Debug)]
pub struct LocalRuntime {
    run_id: String,
    work_dir: PathBuf,
    binary: PathBuf,
    slots: Vec<PeerSlot>,
    args: Vec<Vec<String>>,
    /// What every node (and the CLI next to it) runs with.
    env: Vec<(String, String)>,
    children: Vec<Option<Child>>,
}

impl LocalRuntime {
    pub fn new(run_id: &str) -> Self {
        Self {
            run_id: run_id.to_owned(),
            work_dir: work_root().join(run_id),
            binary: PathBuf::new(),
            slots: Vec::new(),
            args: Vec::new(),
            env: Vec::new(),
            children: Vec::new(),
        }
    }

    pub(super) async fn launch(
        &mut self,
        count: usize,
        binary: &Path,
        options: NodeOptions,
        progress: &indicatif::ProgressBar,
    ) -> Result<Vec<PeerSlot>, InfraError> {
        self.binary = binary.to_owned();
        self.env = options.env();
        std::fs::create_dir_all(&self.work_dir).map_err(InfraError::io(format!(
            "creating {}",
            self.work_dir.display()
        )))?;
        progress.set_message("starting processes");
        progress.set_length(count as u64);
        for index in 0..count {
            let ip = Ipv4Addr::new(127, 77, (index / 250) as u8, (index % 250 + 1) as u8);
            let name = format!("p2p-{}-{index:04}", self.run_id);
            let [p2p_port, api_port] = free_ports(ip, &name)?;
            let slot = PeerSlot {
                index,
                name,
                ip,
                p2p_port,
                api: SocketAddr::new(ip.into(), api_port),
            };
            let data_dir = self.work_dir.join(format!("peer-{index:04}"));
            let ip_text = ip.to_string();
            let args = node_args(
                ip,
                p2p_port,
                &ip_text,
                api_port,
                &data_dir.to_string_lossy(),
                &options,
            );
            let child = self.spawn(&slot, &args)?;
            self.slots.push(slot);
            self.args.push(args);
            self.children.push(Some(child));
            progress.inc(1);
        }
        self.write_pids();
        Ok(self.slots.clone())
    }

    fn spawn(&self, slot: &PeerSlot, args: &[String]) -> Result<Child, InfraError> {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.work_dir.join(format!("{}.log", slot.name)))
            .map_err(InfraError::io(format!("opening the log of {}", slot.name)))?;
        Command::new(&self.binary)
            .args(args)
            .envs(self.env.iter().cloned())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .process_group(0)
            .kill_on_drop(true)
            .spawn()
            .map_err(InfraError::io(format!(
                "spawning {} for {}",
                self.binary.display(),
                slot.name
            )))
    }

    /// The running peers' process ids.
    pub fn pids(&self) -> Vec<u32> {
        self.children
            .iter()
            .flatten()
            .filter_map(|c| c.id())
            .collect()
    }

    fn write_pids(&self) {
        let pids: Vec<String> = self
            .children
            .iter()
            .flatten()
            .filter_map(|c| c.id())
            .map(|p| p.to_string())
            .collect();
        if let Err(e) = std::fs::write(self.work_dir.join("pids"), pids.join("\n")) {
            tracing::warn!(error = %e, "cannot record the peers' pids; `down` will not find them");
        }
    }

    pub(super) fn sample_file(&self) -> String {
        let path = self.work_dir.join("sample-package.txt");
        if !path.exists() {
            if let Err(e) = std::fs::write(&path, super::SAMPLE_PACKAGE) {
                tracing::warn!(error = %e, "cannot write the CLI phase's sample file");
            }
        }
        path.to_string_lossy().into_owned()
    }

    pub(super) async fn stop_peer(&mut self, index: usize) -> Result<(), InfraError> {
        let child = self
            .children
            .get_mut(index)
            .and_then(Option::take)
            .ok_or_else(|| InfraError::Peer {
                peer: index.to_string(),
                detail: "not running".into(),
            })?;
        stop_child(child).await;
        Ok(())
    }

    pub(super) async fn restart_peer(&mut self, index: usize) -> Result<(), InfraError> {
        let (Some(slot), Some(args)) = (
            self.slots.get(index).cloned(),
            self.args.get(index).cloned(),
        ) else {
            return Err(InfraError::Peer {
                peer: index.to_string(),
                detail: "no such peer".into(),
            });
        };
        let child = self.spawn(&slot, &args)?;
        self.children[index] = Some(child);
        self.write_pids();
        Ok(())
    }

    pub(super) fn is_running(&mut self, index: usize) -> bool {
        match self.children.get_mut(index).and_then(Option::as_mut) {
            Some(child) => matches!(child.try_wait(), Ok(None)),
            None => false,
        }
    }

    pub(super) async fn run_cli(
        &self,
        index: usize,
        args: &[String],
    ) -> Result<CliRun, InfraError> {
        let slot = self.slots.get(index).ok_or_else(|| InfraError::Peer {
            peer: index.to_string(),
            detail: "no such peer".into(),
        })?;
        let started = Instant::now();
        let output = tokio::time::timeout(
            CLI_DEADLINE,
            Command::new(&self.binary)
                .args(args)
                .args(["--node", &slot.api_url()])
                .envs(self.env.iter().cloned())
                .kill_on_drop(true)
                .output(),
        )
        .await
        .map_err(|_| InfraError::Peer {
            peer: slot.name.clone(),
            detail: format!("p2p-node {} took over {CLI_DEADLINE:?}", args.join(" ")),
        })?
        .map_err(InfraError::io(format!(
            "running the CLI next to {}",
            slot.name
        )))?;
        Ok(CliRun::new(
            started.elapsed(),
            output.status.success(),
            format!(
                "{}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            ),
        ))
    }

    pub(super) async fn teardown(&mut self) -> Vec<String> {
        let children: Vec<Child> = self.children.iter_mut().filter_map(Option::take).collect();
        futures::future::join_all(children.into_iter().map(stop_child)).await;
        let mut problems = Vec::new();
        if self.work_dir.exists() {
            if let Err(e) = std::fs::remove_dir_all(&self.work_dir) {
                problems.push(format!("removing {}: {e}", self.work_dir.display()));
            }
        }
        problems
    }
}

/// SIGTERM, then SIGKILL after the grace period.
async fn stop_child(mut child: Child) {
    if let Some(pid) = child.id() {
        let _ = kill(Pid::from_raw(pid as i32), Signal::SIGTERM);
        if tokio::time::timeout(STOP_GRACE, child.wait()).await.is_ok() {
            return;
        }
    }
    let _ = child.kill().await;
}

/// Two distinct free ports on `ip`. Both probe sockets stay open until both ports are known:
/// released one after the other, the kernel may hand out the same port twice.
fn free_ports(ip: Ipv4Addr, peer: &str) -> Result<[u16; 2], InfraError> {
    let probe = || {
        TcpListener::bind((ip, 0))
            .map_err(InfraError::io(format!("no free port on {ip} for {peer}")))
    };
    let (first, second) = (probe()?, probe()?);
    let port = |l: &TcpListener| {
        l.local_addr()
            .map(|a| a.port())
            .map_err(InfraError::io(format!("no free port on {ip} for {peer}")))
    };
    Ok([port(&first)?, port(&second)?])
}

/// Stops the processes of local runs left behind (by run id, or all) and removes their work
/// directories. Returns the number of processes signalled.
pub fn remove_leftovers(run: Option<&str>) -> (usize, Vec<String>) {
    let root = work_root();
    let Ok(entries) = std::fs::read_dir(&root) else {
        return (0, Vec::new());
    };
    let mut stopped = 0;
    let mut problems = Vec::new();
    for entry in entries.flatten() {
        let dir = entry.path();
        let id = entry.file_name().to_string_lossy().into_owned();
        if run.is_some_and(|r| r != id) {
            continue;
        }
        let pids = std::fs::read_to_string(dir.join("pids")).unwrap_or_default();
        for pid in pids.lines().filter_map(|l| l.trim().parse::<i32>().ok()) {
            // Only signal processes that still are p2p-node processes of this run.
            let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            let cmdline = String::from_utf8_lossy(&cmdline);
            if cmdline.contains("p2p-node")
                && cmdline.contains(&id)
                && kill(Pid::from_raw(pid), Signal::SIGKILL).is_ok()
            {
                stopped += 1;
            }
        }
        if let Err(e) = std::fs::remove_dir_all(&dir) {
            problems.push(format!("removing {}: {e}", dir.display()));
        }
    }
    (stopped, problems)
}

/// Run ids of local runs whose work directories remain.
pub fn leftover_runs() -> Vec<String> {
    std::fs::read_dir(work_root())
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}
