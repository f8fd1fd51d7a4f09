//! The kernel backend: `tc` netem in each peer's own network namespace, one htb class per
//! distinct outgoing link with a netem qdisc under it and u32 filters sending each destination
//! address to its class, so that the latency matrix holds per pair. netem only delays what
//! leaves, so each direction of a pair is shaped at its sender.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::command;
use crate::error::ShapeError;
use crate::link::{JitterDistribution, LinkSpec};
use crate::plan::ShapingPlan;

/// Rate of classes whose link sets no bandwidth: far above anything a veth carries here.
const UNLIMITED: &str = "100gbit";
/// netem's queue when the link sets none (the userspace backend's default too).
const DEFAULT_LIMIT: u32 = crate::scheduler::DEFAULT_QUEUE_LIMIT;

/// `tc -batch` input that shapes everything peer `index` sends to the other peers.
pub fn peer_batch(plan: &ShapingPlan, index: usize) -> String {
    let dev = &plan.peers[index].interface;
    let mut out = String::new();
    let _ = writeln!(out, "qdisc add dev {dev} root handle 1: htb default 1");
    let _ = writeln!(
        out,
        "class add dev {dev} parent 1: classid 1:1 htb rate {UNLIMITED}"
    );
    // One class per distinct link, in a stable order.
    let mut classes: BTreeMap<String, (LinkSpec, Vec<usize>)> = BTreeMap::new();
    for to in (0..plan.peers.len()).filter(|&to| to != index) {
        let link = *plan.link(index, to);
        if link.is_perfect() {
            continue;
        }
        let key = format!("{:?} {}", link.bandwidth_bps, netem_args(&link));
        classes
            .entry(key)
            .or_insert_with(|| (link, Vec::new()))
            .1
            .push(to);
    }
    for (n, (link, destinations)) in classes.values().enumerate() {
        let netem = netem_args(link);
        let class = 10 + n;
        let rate = link
            .bandwidth_bps
            .map_or_else(|| UNLIMITED.to_owned(), |b| format!("{b}bit"));
        let _ = writeln!(
            out,
            "class add dev {dev} parent 1: classid 1:{class} htb rate {rate} ceil {rate}"
        );
        let _ = writeln!(
            out,
            "qdisc add dev {dev} parent 1:{class} handle {class}: netem {netem}"
        );
        for to in destinations {
            let _ = writeln!(
                out,
                "filter add dev {dev} parent 1: protocol ip prio 1 u32 match ip dst {}/32 flowid 1:{class}",
                plan.peers[*to].ip
            );
        }
    }
    out
}

/// netem's arguments for a link (bandwidth is htb's job).
fn netem_args(link: &LinkSpec) -> String {
    let mut args = format!(
        "limit {} delay {}us",
        link.queue_limit.unwrap_or(DEFAULT_LIMIT),
        link.delay.as_micros()
    );
    if !link.jitter.is_zero() {
        let _ = write!(args, " {}us", link.jitter.as_micros());
        if link.distribution == JitterDistribution::Normal {
            args.push_str(" distribution normal");
        }
    }
    if link.loss > 0.0 {
        let _ = write!(args, " loss {}%", link.loss * 100.0);
    }
    args
}

/// Shapes every peer of the plan.
pub fn apply(plan: &ShapingPlan) -> Result<(), ShapeError> {
    (0..plan.peers.len()).try_for_each(|index| apply_peer(plan, index))
}

/// Shapes what peer `index` sends.
pub fn apply_peer(plan: &ShapingPlan, index: usize) -> Result<(), ShapeError> {
    let peer = &plan.peers[index];
    let netns = peer.netns.as_ref().ok_or_else(|| ShapeError::NoNamespace {
        peer: peer.ip.to_string(),
    })?;
    command::run_in(
        Some(netns),
        "tc",
        &["-batch", "-"],
        Some(&peer_batch(plan, index)),
    )
    .map(drop)
}

/// Removes the qdiscs [`apply`] put in; peers already gone are skipped.
pub fn remove(plan: &ShapingPlan) -> Vec<String> {
    let mut problems = Vec::new();
    for peer in &plan.peers {
        let Some(netns) = &peer.netns else { continue };
        if !netns.exists() {
            continue;
        }
        if let Err(e) = command::run_in(
            Some(netns),
            "tc",
            &["qdisc", "del", "dev", &peer.interface, "root"],
            None,
        ) {
            problems.push(e.to_string());
        }
    }
    problems
}
