//! `orchestrator down`: removes what runs left behind, by label and name.

use clap::Args;
use orchestrator::cleanup;

#[derive(Debug, Args)]
pub(super) struct DownArgs {
    /// The run to remove.
    #[arg(long, conflicts_with = "all")]
    run: Option<String>,
    /// Every run's leftovers.
    #[arg(long)]
    all: bool,
}

pub(super) async fn run(args: DownArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.all || args.run.is_some(),
        "say which run with --run ID, or --all"
    );
    let removed = cleanup::remove_run(args.run.as_deref()).await;
    match &removed.docker_unavailable {
        Some(why) => eprintln!("docker: not available ({why}); only local runs were cleaned"),
        None => println!(
            "removed {} swarm service(s), {} container(s), {} network(s) and {} volume(s)",
            removed.services, removed.containers, removed.networks, removed.volumes
        ),
    }
    println!("stopped {} local process(es)", removed.processes);
    println!("removed {} iptables chain(s)", removed.chains.len());
    if removed.host_settings > 0 {
        println!(
            "restored the neighbour table settings of {} run(s)",
            removed.host_settings
        );
    }
    anyhow::ensure!(
        removed.problems.is_empty(),
        "some resources could not be removed:\n{}",
        removed.problems.join("\n")
    );
    Ok(())
}
