//! The `p2p-node` command line: `run` starts the daemon; `publish`, `search`, `install` and
//! `status` talk to a running node's HTTP API.

mod cli;

use std::process::ExitCode;
use std::time::Instant;

use clap::Parser;
use tracing_subscriber::EnvFilter;

use cli::{Cli, Command};

fn main() -> ExitCode {
    // Before anything else, so that `--timing` covers the whole command.
    let started = Instant::now();
    let cli = Cli::parse();
    let timing = cli.command.timing();
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
    let outcome = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(anyhow::Error::from)
        .and_then(|runtime| runtime.block_on(cli::execute(cli)));
    let code = match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    };
    if timing {
        eprintln!("{}", p2p_api::cli_timing::line(started.elapsed()));
    }
    code
}
