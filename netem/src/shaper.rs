//! Shaping a run: applying a plan with the chosen backend, partitions while it runs, and
//! removing everything at the end (also when dropped, so an early return or a panic does not
//! leave rules behind).

use std::net::Ipv4Addr;
use std::path::Path;

use crate::delay_line::{DelayLine, DelayLineStats, LinkTable};
use crate::error::ShapeError;
use crate::plan::{Fabric, ShapingPlan};
use crate::probe::Backend;
use crate::{iptables, names, namespace, tc};

/// br_netfilter's switch: bridged packets only reach iptables when it is 1.
const BRIDGE_NF_CALL_IPTABLES: &str = "/proc/sys/net/bridge/bridge-nf-call-iptables";

/// Shaping in force for one run.
#[derive(Debug)]
pub struct ActiveShaping {
    plan: ShapingPlan,
    backend: Backend,
    delay_line: Option<DelayLine>,
    rules: bool,
    qdiscs: bool,
    /// The value of [`BRIDGE_NF_CALL_IPTABLES`] to put back.
    restore_bridge_nf: Option<String>,
    done: bool,
}

/// What tearing down found.
#[derive(Debug, Default)]
pub struct TeardownReport {
    pub delay_line: Option<DelayLineStats>,
    pub problems: Vec<String>,
}

impl ActiveShaping {
    /// Applies `plan` with `backend`. On error nothing of it is left in place.
    pub fn apply(plan: ShapingPlan, backend: Backend, seed: u64) -> Result<Self, ShapeError> {
        let mut active = Self {
            plan,
            backend,
            delay_line: None,
            rules: false,
            qdiscs: false,
            restore_bridge_nf: None,
            done: false,
        };
        match active.install(seed) {
            Ok(()) => Ok(active),
            Err(e) => {
                let report = active.teardown();
                for p in report.problems {
                    tracing::warn!("undoing a failed shaping setup: {p}");
                }
                Err(e)
            }
        }
    }

    fn install(&mut self, seed: u64) -> Result<(), ShapeError> {
        match self.backend {
            Backend::None => Ok(()),
            Backend::Kernel => {
                self.qdiscs = true;
                tc::apply(&self.plan)?;
                self.install_rules(None)
            }
            Backend::Userspace => {
                if matches!(self.plan.fabric, Fabric::Bridge | Fabric::Overlay) {
                    self.ensure_bridge_netfilter()?;
                }
                let table = LinkTable {
                    region_of: (0..self.plan.peers.len())
                        .map(|i| (self.plan.peers[i].ip, self.plan.region_of(i)))
                        .collect(),
                    links: self.plan.profile.links.clone(),
                };
                let line = DelayLine::start(
                    table,
                    names::first_queue_num(&self.plan.run_id),
                    seed,
                    self.namespace(),
                )?;
                let queue = line.queue_num();
                self.delay_line = Some(line);
                self.install_rules(Some(queue))
            }
        }
    }

    fn install_rules(&mut self, queue: Option<u16>) -> Result<(), ShapeError> {
        self.rules = true;
        iptables::apply(self.namespace(), &iptables::setup_rules(&self.plan, queue))
    }

    fn namespace(&self) -> Option<&Path> {
        self.plan.namespace.as_deref()
    }

    /// Makes bridged packets reach iptables in the plan's namespace (each namespace has its
    /// own switch).
    fn ensure_bridge_netfilter(&mut self) -> Result<(), ShapeError> {
        self.restore_bridge_nf = namespace::within(self.namespace(), switch_on_bridge_netfilter)??;
        Ok(())
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn plan(&self) -> &ShapingPlan {
        &self.plan
    }

    /// The delay line's counters now (userspace backend only).
    pub fn delay_line_counters(&self) -> Option<crate::counters::CounterSnapshot> {
        self.delay_line.as_ref().map(|d| d.counters().snapshot())
    }

    /// Peer `index` restarted, in the network namespace `netns` (a new container) at `ip`
    /// (a replaced Swarm task may get another address). The kernel backend puts its qdiscs in
    /// the new namespace; the delay line and the partition rules follow the address.
    pub fn peer_restarted(
        &mut self,
        index: usize,
        netns: Option<std::path::PathBuf>,
        ip: Ipv4Addr,
    ) -> Result<(), ShapeError> {
        let old = self.plan.peers[index].ip;
        if old != ip {
            self.plan.set_ip(index, ip);
            if let Some(line) = &self.delay_line {
                line.peer_moved(old, ip);
            }
        }
        if self.backend != Backend::Kernel {
            return Ok(());
        }
        self.plan.peers[index].netns = netns;
        tc::apply_peer(&self.plan, index)
    }

    /// Cuts peers `a` off from peers `b` (both ways) until [`heal`](Self::heal).
    pub fn partition(&mut self, a: &[usize], b: &[usize]) -> Result<(), ShapeError> {
        if !self.rules {
            // Unshaped runs get the chain the first time they partition.
            self.install_rules(None)?;
        }
        let ips = |set: &[usize]| -> Vec<Ipv4Addr> {
            set.iter().map(|&i| self.plan.peers[i].ip).collect()
        };
        iptables::apply(
            self.namespace(),
            &iptables::partition_rules(&self.plan.run_id, &ips(a), &ips(b)),
        )
    }

    /// Lifts the partition.
    pub fn heal(&mut self) -> Result<(), ShapeError> {
        if !self.rules {
            return Ok(());
        }
        iptables::apply(self.namespace(), &iptables::heal_rules(&self.plan.run_id))
    }

    /// Removes every rule, the delay line and every qdisc. Rules go first, so that no packet
    /// is queued to a delay line that is gone.
    pub fn teardown(mut self) -> TeardownReport {
        self.undo()
    }

    fn undo(&mut self) -> TeardownReport {
        let mut report = TeardownReport::default();
        if self.done {
            return report;
        }
        self.done = true;
        if self.rules {
            if let Err(e) = iptables::remove(self.namespace(), Some(&self.plan.run_id)) {
                report
                    .problems
                    .push(format!("removing iptables rules: {e}"));
            }
        }
        report.delay_line = self.delay_line.take().map(DelayLine::stop);
        if self.qdiscs {
            report.problems.extend(tc::remove(&self.plan));
        }
        if let Some(value) = self.restore_bridge_nf.take() {
            let restored = namespace::within(self.namespace(), || {
                std::fs::write(BRIDGE_NF_CALL_IPTABLES, value).map_err(|e| e.to_string())
            })
            .map_err(|e| e.to_string())
            .and_then(|written| written);
            if let Err(e) = restored {
                report
                    .problems
                    .push(format!("restoring {BRIDGE_NF_CALL_IPTABLES}: {e}"));
            }
        }
        report
    }
}

/// Sets [`BRIDGE_NF_CALL_IPTABLES`] (of the calling thread's namespace) to 1; returns the value
/// to put back, if it was another.
fn switch_on_bridge_netfilter() -> Result<Option<String>, ShapeError> {
    let path = Path::new(BRIDGE_NF_CALL_IPTABLES);
    let current = std::fs::read_to_string(path).map_err(|e| ShapeError::Unsupported {
        backend: "userspace",
        reason: format!(
            "{}: {e}: br_netfilter is not loaded, so bridged packets never reach iptables (modprobe br_netfilter)",
            path.display()
        ),
    })?;
    if current.trim() == "1" {
        return Ok(None);
    }
    std::fs::write(path, "1").map_err(|source| ShapeError::File {
        path: path.to_owned(),
        source,
    })?;
    Ok(Some(current.trim().to_owned()))
}

impl Drop for ActiveShaping {
    fn drop(&mut self) {
        for problem in self.undo().problems {
            tracing::warn!("shaping teardown: {problem}");
        }
    }
}

/// Removes the rules and chains of one run (`Some`) or every run (`None`) left behind by a
/// process that died; returns the chains removed. Qdiscs live in the peers' own namespaces
/// and go with them.
pub fn remove_leftovers(run_id: Option<&str>) -> Result<Vec<String>, ShapeError> {
    iptables::remove(None, run_id)
}
