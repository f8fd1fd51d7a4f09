//! Where the peers run: one Docker container per peer on a bridge network of the run, one
//! Docker Swarm task per peer on an overlay network of the run, or one `p2p-node` process per
//! peer on its own 127.x address. All hand back the same [`PeerSlot`]s, and everything above
//! this module works the same on each.

mod binary;
pub mod docker;
mod error;
mod host;
pub mod local;
pub mod swarm;

use std::net::{Ipv4Addr, SocketAddr};

use p2p_api::Transport;
use std::path::Path;
use std::time::Duration;

pub use binary::locate_node_binary;
pub use docker::DockerRuntime;
pub use error::{docker_err, InfraError};
pub use host::{
    neighbour_settings, restore_left as restore_host_settings, write_neighbour_settings,
};
pub use local::LocalRuntime;
pub use swarm::SwarmRuntime;

/// Label (and label key) put on every container, network and image a run creates.
pub const RUN_LABEL: &str = "p2p-testbed.run";

/// Content of the file the CLI phase publishes.
pub const SAMPLE_PACKAGE: &str = "A sample package published by the testbed's CLI phase.\n";

/// Where one peer is reachable.
#[derive(Debug, Clone)]
pub struct PeerSlot {
    pub index: usize,
    pub name: String,
    /// The peer's address on the run's network, where other peers reach it.
    pub ip: Ipv4Addr,
    pub p2p_port: u16,
    /// Where the orchestrator reaches the peer's HTTP API: `ip` itself, or (Swarm) the port
    /// the task publishes on its node.
    pub api: SocketAddr,
}

impl PeerSlot {
    pub fn api_url(&self) -> String {
        format!("http://{}", self.api)
    }

    /// The peer's libp2p listener.
    pub fn p2p_socket(&self) -> SocketAddr {
        SocketAddr::new(self.ip.into(), self.p2p_port)
    }
}

/// Environment of every node. glibc gives each thread that allocates its own malloc arena;
/// two arenas keep a node's resident memory close to what it uses.
const NODE_ENV: [(&str, &str); 2] = [
    ("RUST_LOG", "info,libp2p_gossipsub=warn,libp2p_kad=warn"),
    ("MALLOC_ARENA_MAX", "2"),
];
/// The variable the node (and its CLI) reads its API token from.
pub const API_TOKEN_ENV: &str = "P2P_NODE_API_TOKEN";

/// How each node is started.
#[derive(Debug, Clone)]
pub struct NodeOptions {
    /// The wire the nodes listen on, and so talk over.
    pub transport: Transport,
    pub max_connections: u32,
    pub idle_timeout_secs: u64,
    pub cpus: Option<f64>,
    pub memory_bytes: Option<u64>,
    /// The run's API token: every node requires it, the orchestrator and the CLI send it.
    pub api_token: Option<String>,
}

impl NodeOptions {
    /// The environment a node (and the CLI next to it) runs with.
    pub(crate) fn env(&self) -> Vec<(String, String)> {
        let mut env: Vec<(String, String)> = NODE_ENV
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        if let Some(token) = &self.api_token {
            env.push((API_TOKEN_ENV.to_owned(), token.clone()));
        }
        env
    }
}

/// `p2p-node run` arguments for a peer: listen address and API inside its slot, nothing to
/// dial (the orchestrator drives the bootstrap over the API).
fn node_args(
    listen_ip: Ipv4Addr,
    p2p_port: u16,
    api_ip: &str,
    api_port: u16,
    data_dir: &str,
    options: &NodeOptions,
) -> Vec<String> {
    vec![
        "run".into(),
        "--data-dir".into(),
        data_dir.into(),
        "--listen".into(),
        options
            .transport
            .multiaddr(SocketAddr::new(listen_ip.into(), p2p_port)),
        "--api-addr".into(),
        format!("{api_ip}:{api_port}"),
        "--max-connections".into(),
        options.max_connections.to_string(),
        "--idle-timeout-secs".into(),
        options.idle_timeout_secs.to_string(),
    ]
}

/// A timed run of the `p2p-node` CLI next to a peer.
#[derive(Debug, Clone)]
pub struct CliRun {
    /// The CLI's wall time: as it reported it, else as launching it took.
    pub elapsed: Duration,
    /// From asking the runtime to start the CLI until its output and exit code were in.
    pub launched: Duration,
    pub success: bool,
    pub output: String,
}

impl CliRun {
    /// A run as the runtime saw it, before the CLI's own report is read.
    fn new(launched: Duration, success: bool, output: String) -> Self {
        Self {
            elapsed: launched,
            launched,
            success,
            output,
        }
    }

    /// Takes the CLI's report of its wall time out of the output; a report longer than the
    /// launch itself is not believed.
    fn self_timed(self) -> Self {
        match p2p_api::cli_timing::take(&self.output) {
            Some((elapsed, output)) if elapsed <= self.launched => Self {
                elapsed,
                output,
                ..self
            },
            _ => self,
        }
    }
}

/// The peers as the kernel knows them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PeerProcesses {
    /// Docker container ids (their cgroups hold the peers' threads).
    Containers(Vec<String>),
    /// Process ids of local peers.
    Processes(Vec<u32>),
}

/// The runtime a run uses.
#[derive(Debug)]
pub enum Runtime {
    Docker(DockerRuntime),
    Local(LocalRuntime),
    Swarm(SwarmRuntime),
}

impl Runtime {
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Docker(_) => "docker",
            Self::Local(_) => "local",
            Self::Swarm(_) => "swarm",
        }
    }

    /// Where the peers' packets flow, for the link shaper.
    pub fn fabric(&self) -> netem::Fabric {
        match self {
            Self::Docker(_) => netem::Fabric::Bridge,
            Self::Local(_) => netem::Fabric::Loopback,
            Self::Swarm(_) => netem::Fabric::Overlay,
        }
    }

    /// The range every peer address lies in (after [`launch`](Self::launch)).
    pub fn subnet(&self) -> Option<ipnet::Ipv4Net> {
        match self {
            Self::Docker(d) => d.subnet(),
            Self::Local(_) => Some(local::SUBNET),
            Self::Swarm(s) => s.subnet(),
        }
    }

    /// The peer's network namespace and its interface towards the others, for qdiscs.
    pub async fn peer_network(&self, index: usize) -> (Option<std::path::PathBuf>, String) {
        match self {
            Self::Docker(d) => (d.netns(index).await, "eth0".to_owned()),
            Self::Local(_) => (None, "lo".to_owned()),
            Self::Swarm(s) => (s.netns(index).await, "eth0".to_owned()),
        }
    }

    /// Starts `count` peers (without waiting for them to be healthy).
    pub async fn launch(
        &mut self,
        count: usize,
        binary: &Path,
        options: NodeOptions,
        progress: &indicatif::ProgressBar,
    ) -> Result<Vec<PeerSlot>, InfraError> {
        match self {
            Self::Docker(d) => d.launch(count, binary, options, progress).await,
            Self::Local(l) => l.launch(count, binary, options, progress).await,
            Self::Swarm(s) => s.launch(count, binary, options, progress).await,
        }
    }

    /// Stops a peer the way an operator would (SIGTERM, then kill after a grace period).
    pub async fn stop_peer(&mut self, index: usize) -> Result<(), InfraError> {
        match self {
            Self::Docker(d) => d.stop_peer(index).await,
            Self::Local(l) => l.stop_peer(index).await,
            Self::Swarm(s) => s.stop_peer(index).await,
        }
    }

    /// Starts a stopped peer again, with the same identity and data.
    pub async fn restart_peer(&mut self, index: usize) -> Result<(), InfraError> {
        match self {
            Self::Docker(d) => d.restart_peer(index).await,
            Self::Local(l) => l.restart_peer(index).await,
            Self::Swarm(s) => s.restart_peer(index).await,
        }
    }

    /// Whether the peer's process or container is still running.
    pub async fn is_running(&mut self, index: usize) -> bool {
        match self {
            Self::Docker(d) => d.is_running(index).await,
            Self::Local(l) => l.is_running(index),
            Self::Swarm(s) => s.is_running(index).await,
        }
    }

    /// Runs `p2p-node <args>` next to peer `index` (inside its container) and times it: by the
    /// CLI's own report of its wall time ([`p2p_api::cli_timing`]), so that what it costs to
    /// start a process in a container is not counted as the CLI's.
    pub async fn run_cli(&self, index: usize, args: &[String]) -> Result<CliRun, InfraError> {
        let mut args = args.to_vec();
        args.push(p2p_api::cli_timing::FLAG.to_owned());
        let run = match self {
            Self::Docker(d) => d.run_cli(index, &args).await,
            Self::Local(l) => l.run_cli(index, &args).await,
            Self::Swarm(s) => s.run_cli(index, &args).await,
        }?;
        Ok(run.self_timed())
    }

    /// Memory of the peer's container as Docker accounts it.
    pub async fn container_memory(&self, index: usize) -> Option<u64> {
        match self {
            Self::Docker(d) => d.container_memory(index).await,
            Self::Local(_) => None,
            Self::Swarm(s) => s.container_memory(index).await,
        }
    }

    /// A small file the CLI phase publishes, as a path the CLI next to a peer can read.
    pub fn sample_file(&self) -> String {
        match self {
            Self::Docker(_) | Self::Swarm(_) => docker::SAMPLE_FILE_IN_IMAGE.to_owned(),
            Self::Local(l) => l.sample_file(),
        }
    }

    /// Where the peers run, for reading their kernel counters (docs/FIDELITY.md).
    pub fn peer_processes(&self) -> PeerProcesses {
        match self {
            Self::Docker(d) => PeerProcesses::Containers(d.container_ids().to_vec()),
            Self::Local(l) => PeerProcesses::Processes(l.pids()),
            Self::Swarm(s) => PeerProcesses::Containers(s.container_ids()),
        }
    }

    /// The image the peers run, for the report.
    pub fn image(&self) -> Option<String> {
        match self {
            Self::Docker(d) => d.image(),
            Self::Local(_) => None,
            Self::Swarm(s) => s.image(),
        }
    }

    /// Removes everything this run created. Safe to call more than once.
    pub async fn teardown(&mut self) -> Vec<String> {
        match self {
            Self::Docker(d) => d.teardown().await,
            Self::Local(l) => l.teardown().await,
            Self::Swarm(s) => s.teardown().await,
        }
    }

    /// The network the peers' addresses lie in when the runtime cannot choose them: each
    /// node then reports its own (`/status`), once it answers. `None` when the slots hold
    /// them already.
    pub fn learns_addresses(&self) -> Option<ipnet::Ipv4Net> {
        match self {
            Self::Swarm(s) => s.subnet(),
            Self::Docker(_) | Self::Local(_) => None,
        }
    }

    /// The network namespace the links are shaped in; `Ok(None)` for the host's own.
    pub fn shaping_namespace(&self) -> Result<Option<std::path::PathBuf>, String> {
        match self {
            Self::Swarm(s) => s.shaping_namespace().map(Some),
            Self::Docker(_) | Self::Local(_) => Ok(None),
        }
    }

    /// Peers that something besides the run restarted (a swarm replacing a failed task), one
    /// line each, for the report.
    pub async fn unplanned_restarts(&self) -> Vec<String> {
        match self {
            Self::Swarm(s) => s.replaced_by_swarm().await,
            Self::Docker(_) | Self::Local(_) => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cli_run_is_timed_by_its_own_report_and_the_report_leaves_the_output() {
        let report = p2p_api::cli_timing::line(Duration::from_millis(120));
        let run = CliRun::new(
            Duration::from_millis(180),
            true,
            format!("published x 1.0.0\n{report}\n"),
        )
        .self_timed();
        assert_eq!(run.elapsed, Duration::from_millis(120));
        assert_eq!(run.launched, Duration::from_millis(180));
        assert_eq!(run.output, "published x 1.0.0");

        // No report, or one longer than the launch: the launch is the time.
        let silent = CliRun::new(Duration::from_millis(180), true, "x".into()).self_timed();
        assert_eq!(silent.elapsed, Duration::from_millis(180));
        let long = p2p_api::cli_timing::line(Duration::from_secs(5));
        let boast = CliRun::new(Duration::from_millis(180), true, long).self_timed();
        assert_eq!(boast.elapsed, Duration::from_millis(180));
    }
}
