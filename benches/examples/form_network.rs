//! Forms an in-process network of N nodes the way the DHT benchmark does, then looks up
//! published packages; prints how long forming took, CPU, memory, connections, routing
//! tables, the CPU the formed network uses while nothing is asked of it, and the lookups.
//! `cargo run --release --example form_network -- 500 [lookups] [idle seconds]`

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use p2p_benches::cpu::process_cpu_time;
use p2p_benches::network::Wire;
use p2p_benches::scratch::Scratch;
use p2p_benches::{report, BenchNetwork, MemoryMetrics};

fn main() -> anyhow::Result<()> {
    let n: usize = std::env::args().nth(1).map_or(Ok(100), |a| a.parse())?;
    let lookups: usize = std::env::args().nth(2).map_or(Ok(100), |a| a.parse())?;
    // How long the formed network is watched while idle.
    let idle_secs: u64 = std::env::args().nth(3).map_or(Ok(10), |a| a.parse())?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let _scratch = Scratch::install(&rt)?;
    let memory = MemoryMetrics::start();
    let (cpu0, t0) = (process_cpu_time(), Instant::now());
    let mut net = rt.block_on(BenchNetwork::start(n, Wire::Memory))?;
    let formed = t0.elapsed();
    let cpu = process_cpu_time().zip(cpu0).map(|(a, b)| a - b);
    let mut conns = Vec::new();
    let mut tables = Vec::new();
    for node in &net.nodes {
        let s = rt.block_on(node.node.market().status())?.network;
        conns.push(s.connections);
        tables.push(s.routing_table_size);
    }
    conns.sort_unstable();
    tables.sort_unstable();
    println!(
        "{n} nodes formed in {formed:.1?}, cpu {cpu:?}, rss +{:.0} MiB; connections min/median/max {}/{}/{}; routing table min/median/max {}/{}/{}",
        memory.delta_mb().unwrap_or(0.0),
        conns[0], conns[n / 2], conns[n - 1], tables[0], tables[n / 2], tables[n - 1]
    );
    let (cpu0, t0) = (process_cpu_time(), Instant::now());
    std::thread::sleep(Duration::from_secs(idle_secs));
    let idle = process_cpu_time()
        .zip(cpu0)
        .map(|(a, b)| (a - b).as_secs_f64() / t0.elapsed().as_secs_f64());
    println!(
        "idle network: {:.0}% of one core",
        idle.unwrap_or(0.0) * 100.0
    );
    let t1 = Instant::now();
    rt.block_on(net.publish(20, 1024))?;
    println!("20 packages published in {:.1?}", t1.elapsed());
    let mut rng = rand::thread_rng();
    let (mut failed, mut times) = (0, Vec::new());
    for _ in 0..lookups {
        let lookup = rt.block_on(net.random_lookup(&mut rng));
        match lookup.outcome {
            Ok(_) => times.push(lookup.elapsed),
            Err(e) => {
                failed += 1;
                eprintln!(
                    "lookup of {} from {} failed after {:.1?}: {e}",
                    lookup.name, lookup.seeker, lookup.elapsed
                );
            }
        }
    }
    println!("lookups ok {} failed {failed}", times.len());
    report::record(&format!("form_network/lookup/{n}"), &times, BTreeMap::new());
    rt.block_on(net.shutdown());
    Ok(())
}
