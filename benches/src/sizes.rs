//! Network sizes and sample counts of the suite: the full run, or the quick one
//! (`P2P_BENCH_QUICK=1`, CI).

use crate::network::Wire;

pub struct Sizes {
    pub dht: Vec<usize>,
    pub remote: Vec<usize>,
    pub gossip: Vec<usize>,
    pub bootstrap: Vec<usize>,
    pub concurrent: Vec<usize>,
    pub memory_packages: Vec<usize>,
    pub index_packages: usize,
    pub sla_dht_nodes: usize,
}

/// Whether this is the quick run.
pub fn quick() -> bool {
    std::env::var("P2P_BENCH_QUICK").is_ok_and(|v| v == "1")
}

impl Sizes {
    pub fn for_this_run() -> Self {
        if quick() {
            Self {
                dht: vec![10, 50, 100],
                remote: vec![5, 10],
                gossip: vec![5, 10, 20],
                bootstrap: vec![5, 10],
                concurrent: vec![1, 10, 50],
                memory_packages: vec![10, 50, 100],
                index_packages: 10_000,
                sla_dht_nodes: 100,
            }
        } else {
            Self {
                dht: vec![10, 50, 100, 500, 1000],
                remote: vec![5, 10, 20],
                gossip: vec![5, 10, 20, 50],
                bootstrap: vec![5, 10, 20, 50],
                concurrent: vec![1, 10, 50, 100],
                memory_packages: vec![10, 50, 100, 500],
                index_packages: 10_000,
                sla_dht_nodes: 1000,
            }
        }
    }
}

/// TCP on loopback while the process can hold the sockets; memory transport beyond.
pub fn transport_for(n: usize) -> Wire {
    if n <= 50 {
        Wire::Tcp
    } else {
        Wire::Memory
    }
}
