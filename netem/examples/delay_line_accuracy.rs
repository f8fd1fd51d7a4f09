//! How accurate the userspace delay line is, and what it costs, on this machine: UDP
//! datagrams from 127.79.0.1 to 127.79.0.2 through a 20 ms link at 1k, 10k and 50k packets
//! per second; each carries its send time, the receiver subtracts it and the 20 ms.
//!
//! `sudo cargo run --release --example delay_line_accuracy [-- <seconds per rate>]`
//! (root: it installs iptables rules in its own chain and removes them at the end).

use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use netem::probe::Backend;
use netem::{ActiveShaping, Fabric, LinkSpec, Profile, ShapedPeer, ShapingPlan};

const DELAY: Duration = Duration::from_millis(20);
const RATES: [u64; 3] = [1_000, 10_000, 50_000];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let seconds: u64 = std::env::args().nth(1).map_or(Ok(3), |s| s.parse())?;
    let (a, b) = (Ipv4Addr::new(127, 79, 0, 1), Ipv4Addr::new(127, 79, 0, 2));
    let peers = [a, b]
        .map(|ip| ShapedPeer {
            ip,
            netns: None,
            interface: "lo".into(),
        })
        .to_vec();
    let plan = ShapingPlan::new(
        &format!("delay-line-accuracy-{}", std::process::id()),
        Fabric::Loopback,
        "127.79.0.0/16".parse()?,
        peers,
        Profile::uniform(LinkSpec::delay(DELAY)),
    );
    let shaping = ActiveShaping::apply(plan, Backend::Userspace, 1)?;
    let idle_before = delay_line_cpu();
    std::thread::sleep(Duration::from_secs(2));
    if let Some((after, before)) = delay_line_cpu().zip(idle_before) {
        println!(
            "idle: the delay line uses {:.1}% of a core",
            (after - before).as_secs_f64() / 2.0 * 100.0
        );
    }
    println!("one-way delay {DELAY:?}; lateness = arrival - send - delay");
    println!(
        "{:>9} {:>9} {:>9} {:>10} {:>10} {:>10} {:>12}",
        "pkt/s", "sent", "received", "p50 ms", "p99 ms", "max ms", "line CPU %"
    );
    for rate in RATES {
        let receiver = UdpSocket::bind((b, 0))?;
        receiver.set_read_timeout(Some(Duration::from_millis(200)))?;
        let target: SocketAddr = receiver.local_addr()?;
        let base = Instant::now();
        let collector = std::thread::spawn(move || {
            // The receiver must not be the one running late: real-time, above the delay line.
            let tid = nix::unistd::gettid().to_string();
            let _ = std::process::Command::new("chrt")
                .args(["--fifo", "--pid", "20", &tid])
                .status();
            let mut lateness = Vec::new();
            let mut buf = [0u8; 64];
            while let Ok(n) = receiver.recv(&mut buf) {
                if n >= 8 {
                    let sent =
                        Duration::from_nanos(u64::from_le_bytes(buf[..8].try_into().unwrap()));
                    let travel = base.elapsed().saturating_sub(sent);
                    lateness.push(travel.as_secs_f64() - DELAY.as_secs_f64());
                }
            }
            lateness
        });
        let sender = UdpSocket::bind((a, 0))?;
        let cpu_before = delay_line_cpu();
        let total = rate * seconds;
        let started = Instant::now();
        for i in 0..total {
            // Send on an absolute schedule, a millisecond's worth at a time.
            let due = Duration::from_nanos(i * 1_000_000_000 / rate);
            if let Some(wait) = due.checked_sub(started.elapsed()) {
                std::thread::sleep(wait);
            }
            let stamp = base.elapsed().as_nanos() as u64;
            sender.send_to(&stamp.to_le_bytes(), target)?;
        }
        let elapsed = started.elapsed();
        let mut lateness = collector.join().map_err(|_| "collector panicked")?;
        let cpu = delay_line_cpu()
            .zip(cpu_before)
            .map(|(after, before)| (after - before).as_secs_f64() / elapsed.as_secs_f64() * 100.0);
        lateness.sort_by(f64::total_cmp);
        let pick = |q: f64| {
            lateness
                .get(((lateness.len() as f64 - 1.0) * q) as usize)
                .map_or(f64::NAN, |v| v * 1e3)
        };
        println!(
            "{:>9} {:>9} {:>9} {:>10.3} {:>10.3} {:>10.3} {:>12}",
            rate,
            total,
            lateness.len(),
            pick(0.5),
            pick(0.99),
            pick(1.0),
            cpu.map_or("-".into(), |c| format!("{c:.1}"))
        );
    }
    let report = shaping.teardown();
    if let Some(stats) = report.delay_line {
        println!(
            "delay line: {} packets, {} released, {} over the queue limit, {} errors",
            stats.packets, stats.released, stats.overflowed, stats.recv_errors
        );
    }
    for p in report.problems {
        eprintln!("teardown: {p}");
    }
    Ok(())
}

/// CPU time of the delay line thread so far, from its schedstat.
fn delay_line_cpu() -> Option<Duration> {
    for task in std::fs::read_dir("/proc/self/task").ok()?.flatten() {
        let comm = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
        if comm.starts_with("delay-line") {
            let stat = std::fs::read_to_string(task.path().join("schedstat")).ok()?;
            return stat
                .split_whitespace()
                .next()?
                .parse()
                .ok()
                .map(Duration::from_nanos);
        }
    }
    None
}
