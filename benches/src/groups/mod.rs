//! The suite's Criterion groups, one module each. Every group lists its case ids
//! ([`ids`]) so that `--list` answers without forming a network, and forms a network only
//! for the cases the filter selects.

pub mod bootstrap;
pub mod concurrent;
pub mod cpu;
pub mod dht;
pub mod gossip;
pub mod market;
pub mod memory;
pub mod search;
pub mod sla;

use std::collections::BTreeMap;
use std::time::Duration;

use criterion::Criterion;
use tokio::runtime::Runtime;

use crate::selection::Selection;
use crate::sizes::Sizes;

/// What every group runs with.
pub struct Suite<'a> {
    pub c: &'a mut Criterion,
    pub rt: &'a Runtime,
    pub sizes: &'a Sizes,
    pub selection: &'a Selection,
}

/// Every case id of the suite, in the order the groups run.
pub fn ids(sizes: &Sizes) -> Vec<String> {
    let mut ids = memory::ids(sizes);
    ids.extend(dht::ids(sizes));
    ids.extend(sla::ids(sizes));
    ids.extend(search::ids(sizes));
    ids.extend(gossip::ids(sizes));
    ids.extend(bootstrap::ids(sizes));
    ids.extend(concurrent::ids(sizes));
    ids.extend(market::ids());
    ids.extend(cpu::ids());
    ids
}

/// Runs every group. Memory first: the allocator keeps what large networks freed, which would
/// hide the deltas of the in-process cases. The SLA group right after the DHT group: it reuses
/// the DHT group's largest network.
pub fn run_all(suite: &mut Suite<'_>) {
    memory::run(suite);
    let keep_for_sla = suite.selection.wants(&sla::dht_id(suite.sizes));
    let formed = dht::run(suite, keep_for_sla);
    sla::run(suite, formed);
    search::run(suite);
    gossip::run(suite);
    bootstrap::run(suite);
    concurrent::run(suite);
    market::run(suite);
    cpu::run(suite);
}

fn extra(pairs: &[(&str, f64)]) -> BTreeMap<String, f64> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect()
}

fn mean(values: &[f64]) -> f64 {
    if values.is_empty() {
        0.0
    } else {
        values.iter().sum::<f64>() / values.len() as f64
    }
}

fn success_rate(samples: &[Duration], failures: u64) -> f64 {
    let total = samples.len() as f64 + failures as f64;
    if total == 0.0 {
        0.0
    } else {
        samples.len() as f64 / total
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_id_is_listed_once() {
        let ids = ids(&Sizes::for_this_run());
        let unique: std::collections::BTreeSet<&String> = ids.iter().collect();
        assert_eq!(unique.len(), ids.len(), "{ids:?}");
        assert!(ids.iter().any(|i| i.starts_with("p2p_sla/")));
    }
}
