//! `orchestrator image`: builds the node image, offline, for `compose/`.

use std::path::PathBuf;

use clap::Args;
use orchestrator::runtime::{docker, locate_node_binary, DockerRuntime};

#[derive(Debug, Args)]
pub(super) struct ImageArgs {
    /// The static p2p-node binary (default: next to this executable, built if missing).
    #[arg(long)]
    node_binary: Option<PathBuf>,
}

pub(super) async fn run(args: ImageArgs) -> anyhow::Result<()> {
    let binary = locate_node_binary(args.node_binary.as_deref())?;
    let docker = docker::connect().await?;
    let runtime = DockerRuntime::new(docker, "image", None);
    let tag = runtime.build_latest(&binary).await?;
    println!("{tag} (also tagged p2p-testbed/node:latest)");
    Ok(())
}
