//! The run's iptables rules, written as `iptables-restore --noflush` input (so each change is
//! one atomic transaction and the text can be checked against golden files).
//!
//! Layout, all in the `mangle` table:
//! - a jump from the hook the peers' packets cross (the bridge's FORWARD for Docker,
//!   PREROUTING on `lo` for local processes) to the run's chain, for packets from one address
//!   of the run's subnet to another, tagged with the run id;
//! - the run's chain: first a jump to the partition chain (DROP rules while a partition
//!   stands), then, for the userspace backend, `NFQUEUE --queue-bypass` to the delay line.

use std::fmt::Write;
use std::net::Ipv4Addr;
use std::path::Path;

use crate::command;
use crate::error::ShapeError;
use crate::names::{self, TABLE};
use crate::plan::{Fabric, ShapingPlan};

/// Docker's VXLAN devices in an overlay network's namespace (`vxlan0`, …).
const VXLAN_DEVICES: &str = "vxlan+";

/// The rules that set a run up; `queue` is the delay line's queue (userspace backend only).
pub fn setup_rules(plan: &ShapingPlan, queue: Option<u16>) -> String {
    let chain = names::chain(&plan.run_id);
    let partition = names::partition_chain(&plan.run_id);
    let mut out = format!("*{TABLE}\n:{chain} - [0:0]\n:{partition} - [0:0]\n");
    let _ = writeln!(out, "-A {chain} -j {partition}");
    if let Some(q) = queue {
        let _ = writeln!(out, "-A {chain} -j NFQUEUE --queue-num {q} --queue-bypass");
    }
    let net = plan.subnet;
    let tag = names::comment(&plan.run_id);
    let _ = match plan.fabric {
        Fabric::Bridge => writeln!(
            out,
            "-I FORWARD 1 -s {net} -d {net} -m physdev --physdev-is-bridged -m comment --comment \"{tag}\" -j {chain}"
        ),
        Fabric::Loopback => writeln!(
            out,
            "-I PREROUTING 1 -i lo -s {net} -d {net} -m comment --comment \"{tag}\" -j {chain}"
        ),
        // Not what arrives over VXLAN: the sender's node shaped it.
        Fabric::Overlay => writeln!(
            out,
            "-I FORWARD 1 -s {net} -d {net} -m physdev --physdev-is-bridged ! --physdev-in {VXLAN_DEVICES} -m comment --comment \"{tag}\" -j {chain}"
        ),
    };
    out.push_str("COMMIT\n");
    out
}

/// Rules that cut every address of `a` off from every address of `b`, both ways, replacing
/// any partition in place.
pub fn partition_rules(run_id: &str, a: &[Ipv4Addr], b: &[Ipv4Addr]) -> String {
    let partition = names::partition_chain(run_id);
    let mut out = format!("*{TABLE}\n-F {partition}\n");
    for x in a {
        for y in b {
            let _ = writeln!(out, "-A {partition} -s {x}/32 -d {y}/32 -j DROP");
            let _ = writeln!(out, "-A {partition} -s {y}/32 -d {x}/32 -j DROP");
        }
    }
    out.push_str("COMMIT\n");
    out
}

/// Rules that lift the partition.
pub fn heal_rules(run_id: &str) -> String {
    format!("*{TABLE}\n-F {}\nCOMMIT\n", names::partition_chain(run_id))
}

/// Applies `iptables-restore --noflush` input in the network namespace at `namespace` (the
/// host's when `None`).
pub fn apply(namespace: Option<&Path>, rules: &str) -> Result<(), ShapeError> {
    command::run_in(namespace, "iptables-restore", &["--noflush"], Some(rules)).map(drop)
}

/// Rules that remove what `listing` (`iptables -t mangle -S`) shows of one run (`Some(id)`)
/// or of every run (`None`): the jumps to their chains, then the chains. `None` when there is
/// nothing to remove.
pub fn removal_rules(listing: &str, run_id: Option<&str>) -> Option<String> {
    let wanted = |chain: &str| {
        chain.starts_with(names::CHAIN_PREFIX)
            && run_id
                .is_none_or(|id| chain == names::chain(id) || chain == names::partition_chain(id))
    };
    let mut jumps = Vec::new();
    let mut chains = Vec::new();
    for line in listing.lines() {
        if let Some(chain) = line.strip_prefix("-N ") {
            if wanted(chain.trim()) {
                chains.push(chain.trim().to_owned());
            }
        } else if let Some(rule) = line.strip_prefix("-A ") {
            let own_chain = rule.split_whitespace().next().unwrap_or("");
            let target = rule.rsplit_once(" -j ").map_or("", |(_, t)| t.trim());
            if wanted(target) && !wanted(own_chain) {
                jumps.push(rule.to_owned());
            }
        }
    }
    if jumps.is_empty() && chains.is_empty() {
        return None;
    }
    let mut out = format!("*{TABLE}\n");
    for rule in &jumps {
        let _ = writeln!(out, "-D {rule}");
    }
    for chain in &chains {
        let _ = writeln!(out, "-F {chain}");
    }
    for chain in &chains {
        let _ = writeln!(out, "-X {chain}");
    }
    out.push_str("COMMIT\n");
    Some(out)
}

/// Removes one run's rules and chains (or every run's) from the network namespace at
/// `namespace` (the host's when `None`), returning the chains removed.
pub fn remove(namespace: Option<&Path>, run_id: Option<&str>) -> Result<Vec<String>, ShapeError> {
    let listing = command::run_in(namespace, "iptables", &["-w", "-t", TABLE, "-S"], None)?;
    let Some(rules) = removal_rules(&listing, run_id) else {
        return Ok(Vec::new());
    };
    apply(namespace, &rules)?;
    Ok(rules
        .lines()
        .filter_map(|l| l.strip_prefix("-X "))
        .map(str::to_owned)
        .collect())
}

/// The chains of runs currently in the kernel.
pub fn chains_present() -> Result<Vec<String>, ShapeError> {
    let listing = command::run("iptables", &["-w", "-t", TABLE, "-S"], None)?;
    Ok(listing
        .lines()
        .filter_map(|l| l.strip_prefix("-N "))
        .filter(|c| c.starts_with(names::CHAIN_PREFIX))
        .map(str::to_owned)
        .collect())
}
