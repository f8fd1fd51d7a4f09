//! `orchestrator status`: the runs that still have resources.

use orchestrator::runtime::{docker, local, swarm};

pub(super) async fn run() -> anyhow::Result<()> {
    let mut any = false;
    if let Ok(d) = docker::connect().await {
        for (run, (containers, networks)) in docker::leftovers(&d).await? {
            any = true;
            println!("docker run {run}: {containers} container(s), {networks} network(s)");
        }
        for (run, (services, volumes)) in swarm::leftovers(&d).await? {
            any = true;
            println!("swarm run {run}: {services} service(s), {volumes} volume(s)");
        }
    }
    if let Ok(chains) = netem::iptables::chains_present() {
        for chain in chains {
            any = true;
            println!("iptables chain {chain} (mangle table)");
        }
    }
    for run in local::leftover_runs() {
        any = true;
        println!("local run {run}: work directory and possibly processes");
    }
    if !any {
        println!("no run has resources left");
    }
    Ok(())
}
