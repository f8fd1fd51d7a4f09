//! Whether a run fits this machine, decided before anything is created.
//!
//! The costs per peer are measured (docs/CAPACITY.md gives the runs): what a peer holds in
//! memory, what keeping it connected costs the CPU at rest, what its process, container or
//! connections take of the kernel's tables. A run that cannot fit is refused in
//! milliseconds, naming what runs out; one that fits but will have the host, not the
//! network, shape its figures is started with a warning that says so.

use std::fmt;

use crate::scenario::Scenario;

/// Resident memory of a peer at the end of the default suite: p50 19 MiB, the busiest about
/// 50 MiB (docs/BENCHMARKS.md); planned at the upper quartile plus room.
pub const PEER_MEMORY_BYTES: u64 = 24 << 20;
/// What a container adds beside the peer's own memory (containerd shim, cgroup, network
/// namespace and veth pair).
pub const CONTAINER_MEMORY_BYTES: u64 = 8 << 20;
/// A formed network's CPU at rest, per peer, in cores (the `idle` phase).
pub const PEER_IDLE_CORES: f64 = 0.003;
/// Peers per core beyond which the busy phases (publish, concurrent search) queue on the
/// CPU: at 50 peers on 2 cores the publish phase already keeps both cores busy.
pub const PEERS_PER_CORE: f64 = 25.0;
/// Threads and processes a peer runs: its Tokio workers and blocking pool, and for Docker
/// the containerd shim.
pub const TASKS_PER_PEER: u64 = 16;
/// File descriptors a local peer may hold: its connections (two per peer it talks to) and
/// its files, listeners and the API.
pub const FDS_PER_LOCAL_PEER: u64 = 300;
/// Ports of a Linux bridge (`BR_MAX_PORTS`): one per container on a Docker network.
pub const MAX_BRIDGE_PORTS: usize = 1023;
/// Loopback addresses the local runtime hands out (127.77.0.1 to 127.77.255.250).
pub const MAX_LOCAL_PEERS: usize = 256 * 250;

/// What the machine has.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Machine {
    pub cores: usize,
    pub memory_available_bytes: u64,
    /// Most threads and processes the kernel allows (`kernel.threads-max`, `pid_max`).
    pub max_tasks: u64,
    /// Most files one process may open (the soft `RLIMIT_NOFILE` the peers inherit).
    pub max_fds_per_process: u64,
    /// Most files the whole system may open (`fs.file-max`).
    pub max_fds: u64,
}

impl Machine {
    /// Reads this machine's figures; what cannot be read counts as unlimited.
    pub fn read() -> Self {
        let read_u64 =
            |path: &str| -> Option<u64> { std::fs::read_to_string(path).ok()?.trim().parse().ok() };
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let available_kib = meminfo
            .lines()
            .find_map(|l| l.strip_prefix("MemAvailable:"))
            .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok());
        let tasks = [
            read_u64("/proc/sys/kernel/threads-max"),
            read_u64("/proc/sys/kernel/pid_max"),
        ]
        .into_iter()
        .flatten()
        .min();
        let nofile = nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE)
            .ok()
            .map(|(soft, _)| soft);
        Self {
            cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
            memory_available_bytes: available_kib.map_or(u64::MAX, |k| k * 1024),
            max_tasks: tasks.unwrap_or(u64::MAX),
            max_fds_per_process: nofile.unwrap_or(u64::MAX),
            max_fds: read_u64("/proc/sys/fs/file-max").unwrap_or(u64::MAX),
        }
    }
}

/// The runtime the run will use, as far as capacity goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuntimeKind {
    Docker,
    Local,
    /// Docker Swarm: checked per node, each node taken to be like this one.
    Swarm,
}

/// The estimate of what a run needs.
#[derive(Debug, Clone, PartialEq)]
pub struct Need {
    pub peers: usize,
    pub memory_bytes: u64,
    pub idle_cores: f64,
    pub tasks: u64,
}

/// Whether a run fits.
#[derive(Debug, Clone, PartialEq)]
pub enum Fit {
    Fits(Need),
    /// It fits, but the figures are likely to be the host's: the reasons, in words.
    Degraded(Need, Vec<String>),
    /// It cannot run here: the reasons, in words.
    Impossible(Vec<String>),
}

fn gib(bytes: u64) -> String {
    format!("{:.1} GiB", bytes as f64 / (1u64 << 30) as f64)
}

impl fmt::Display for Need {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} peers need about {} of memory and {:.2} cores at rest",
            self.peers,
            gib(self.memory_bytes),
            self.idle_cores
        )
    }
}

/// Checks `scenario` on `runtime` against `machine`.
pub fn check(scenario: &Scenario, runtime: RuntimeKind, machine: &Machine) -> Fit {
    let peers = scenario.peers;
    let per_peer_memory = match (runtime, scenario.resources.memory_bytes) {
        // A container cannot use more than its limit, nor need less than a peer does.
        (RuntimeKind::Docker | RuntimeKind::Swarm, Some(limit)) => {
            PEER_MEMORY_BYTES.min(limit) + CONTAINER_MEMORY_BYTES
        }
        (RuntimeKind::Docker | RuntimeKind::Swarm, None) => {
            PEER_MEMORY_BYTES + CONTAINER_MEMORY_BYTES
        }
        (RuntimeKind::Local, _) => PEER_MEMORY_BYTES,
    };
    let need = Need {
        peers,
        memory_bytes: (peers as u64).saturating_mul(per_peer_memory),
        idle_cores: peers as f64 * PEER_IDLE_CORES,
        tasks: (peers as u64).saturating_mul(TASKS_PER_PEER),
    };
    let mut impossible = Vec::new();
    if let Some(cpus) = scenario.resources.cpus {
        if cpus > machine.cores as f64 {
            impossible.push(format!(
                "each container may use {cpus} cores (--cpus), but this machine has {}",
                machine.cores
            ));
        }
    }
    if need.memory_bytes > machine.memory_available_bytes {
        impossible.push(format!(
            "{need}; this machine has {} available",
            gib(machine.memory_available_bytes)
        ));
    }
    if need.tasks > machine.max_tasks {
        impossible.push(format!(
            "{peers} peers run about {} threads and processes; the kernel allows {}",
            need.tasks, machine.max_tasks
        ));
    }
    match runtime {
        RuntimeKind::Docker | RuntimeKind::Swarm if peers > MAX_BRIDGE_PORTS => impossible.push(format!(
            "a Docker bridge network holds at most {MAX_BRIDGE_PORTS} containers, and {peers} peers were asked for"
        )),
        RuntimeKind::Local if peers > MAX_LOCAL_PEERS => impossible.push(format!(
            "the local runtime has {MAX_LOCAL_PEERS} loopback addresses (127.77.0.1 to 127.77.255.250), and {peers} peers were asked for"
        )),
        RuntimeKind::Local => {
            let fds = (peers as u64).saturating_mul(FDS_PER_LOCAL_PEER);
            if fds > machine.max_fds {
                impossible.push(format!(
                    "{peers} local peers may hold about {fds} open files; the system allows {}",
                    machine.max_fds
                ));
            }
            if FDS_PER_LOCAL_PEER > machine.max_fds_per_process {
                impossible.push(format!(
                    "a local peer may need {FDS_PER_LOCAL_PEER} open files, and the limit of this shell is {} (ulimit -n)",
                    machine.max_fds_per_process
                ));
            }
        }
        RuntimeKind::Docker | RuntimeKind::Swarm => {}
    }
    if !impossible.is_empty() {
        return Fit::Impossible(impossible);
    }
    let mut degraded = Vec::new();
    let cores = machine.cores as f64;
    if peers as f64 > PEERS_PER_CORE * cores {
        degraded.push(format!(
            "{need}; this machine has {} cores, and past about {} peers per core the busy \
             phases queue on the CPU: expect degraded phases",
            machine.cores, PEERS_PER_CORE
        ));
    }
    if need.memory_bytes > machine.memory_available_bytes / 10 * 8 {
        degraded.push(format!(
            "{need}; this machine has {} available: the busiest peers may run it out",
            gib(machine.memory_available_bytes)
        ));
    }
    if degraded.is_empty() {
        Fit::Fits(need)
    } else {
        Fit::Degraded(need, degraded)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scenario(peers: usize) -> Scenario {
        Scenario::parse(
            "s.yaml",
            &format!("peers: {peers}\nphases:\n  - bootstrap: {{}}\n"),
        )
        .unwrap()
    }

    fn machine() -> Machine {
        Machine {
            cores: 2,
            memory_available_bytes: 24 << 30,
            max_tasks: 100_000,
            max_fds_per_process: 1 << 20,
            max_fds: 1 << 20,
        }
    }

    #[test]
    fn a_small_run_fits() {
        assert!(matches!(
            check(&scenario(10), RuntimeKind::Docker, &machine()),
            Fit::Fits(_)
        ));
    }

    #[test]
    fn a_busy_run_warns_with_the_figures() {
        let Fit::Degraded(need, reasons) = check(&scenario(200), RuntimeKind::Docker, &machine())
        else {
            panic!("200 peers on 2 cores should be degraded");
        };
        assert_eq!(need.memory_bytes, 200 * (32 << 20));
        assert!(
            reasons[0].starts_with("200 peers need about 6.2 GiB of memory and 0.60 cores at rest; this machine has 2 cores"),
            "{reasons:?}"
        );
        assert!(reasons[0].ends_with("expect degraded phases"));
    }

    #[test]
    fn impossible_runs_are_refused_naming_what_runs_out() {
        let Fit::Impossible(reasons) = check(&scenario(100_000), RuntimeKind::Local, &machine())
        else {
            panic!("100000 local peers cannot fit");
        };
        let all = reasons.join("\n");
        assert!(all.contains("of memory"), "{all}");
        assert!(all.contains("loopback addresses"), "{all}");
        assert!(all.contains("threads and processes"), "{all}");

        let Fit::Impossible(reasons) = check(&scenario(1500), RuntimeKind::Docker, &machine())
        else {
            panic!("1500 containers do not fit one bridge");
        };
        assert!(reasons
            .iter()
            .any(|r| r.contains("bridge network holds at most 1023")));

        let mut s = scenario(4);
        s.resources.cpus = Some(8.0);
        let Fit::Impossible(reasons) = check(&s, RuntimeKind::Docker, &machine()) else {
            panic!("8 cores per container on a 2-core machine");
        };
        assert!(reasons[0].contains("this machine has 2"));
    }

    #[test]
    fn this_machine_is_read() {
        let m = Machine::read();
        assert!(m.cores >= 1);
        assert!(m.memory_available_bytes > 0);
    }
}
