//! The `p2p-node` command line: `run` starts the daemon; `publish`, `search`, `install` and
//! `status` talk to a running node's HTTP API.

mod cli;

use std::process::ExitCode;

use clap::Parser;
use tracing_subscriber::EnvFilter;

use cli::{Cli, Command};

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    // The daemon logs at info; client commands only warn, so their output stays readable.
    let default_filter = match cli.command {
        Command::Run(_) => "info,libp2p_gossipsub=warn,libp2p_kad=warn",
        _ => "warn",
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter)),
        )
        .with_writer(std::io::stderr)
        .init();
    match cli::execute(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
