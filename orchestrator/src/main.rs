//! `orchestrator`: parses the command line, sets up logging, runs the command and maps its
//! outcome to the exit code (DESIGN.md): 0 all targets met, 1 a target missed or a regression
//! found, 2 bad usage or scenario, 3 infrastructure failure.

mod cli;

use std::process::ExitCode;

use clap::Parser;
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    cli::execute(cli).await
}
