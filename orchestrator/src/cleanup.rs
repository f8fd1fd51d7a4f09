//! Removing what runs left behind, found by names and labels alone (DESIGN.md "Resources a
//! run creates"), so that it works after a crash too. One path serves `orchestrator down` and
//! an interrupted run.

use crate::runtime::{docker, local, swarm};

/// What [`remove_run`] removed, and what it could not.
#[derive(Debug, Default)]
pub struct Removed {
    pub processes: usize,
    pub services: usize,
    pub volumes: usize,
    pub containers: usize,
    pub networks: usize,
    pub chains: Vec<String>,
    /// Runs whose raised host settings (the neighbour table) were put back.
    pub host_settings: usize,
    /// Why Docker was not looked at (no daemon answers), if it was not.
    pub docker_unavailable: Option<String>,
    pub problems: Vec<String>,
}

/// Removes the local processes and work directories, the swarm services, the containers and
/// networks, the volumes and the iptables chains of run `run`, or of every run. Services go
/// before networks (their tasks hold them), volumes after containers (theirs hold them).
pub async fn remove_run(run: Option<&str>) -> Removed {
    let mut removed = Removed::default();
    let (processes, problems) = local::remove_leftovers(run);
    removed.processes = processes;
    removed.problems.extend(problems);
    match docker::connect().await {
        Ok(d) => {
            let (services, problems) = swarm::remove_services(&d, run).await;
            removed.services = services;
            removed.problems.extend(problems);
            let r = docker::remove_labelled(&d, run).await;
            removed.containers = r.containers;
            removed.networks = r.networks;
            removed.problems.extend(r.problems);
            let (volumes, problems) = swarm::remove_volumes(&d, run).await;
            removed.volumes = volumes;
            removed.problems.extend(problems);
        }
        Err(e) => removed.docker_unavailable = Some(e.to_string()),
    }
    match netem::remove_leftovers(run) {
        Ok(chains) => removed.chains = chains,
        // No iptables on this machine: no run can have left chains.
        Err(netem::ShapeError::Missing { .. }) => {}
        Err(e) => removed
            .problems
            .push(format!("iptables: {}", p2p_api::error::chain(&e))),
    }
    // Last: the settings go back once nothing of the run needs them.
    let (host_settings, problems) = crate::runtime::restore_host_settings(run);
    removed.host_settings = host_settings;
    removed.problems.extend(problems);
    removed
}
