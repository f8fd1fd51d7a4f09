//! The signals that end a run early: Ctrl-C (SIGINT), SIGTERM, and SIGHUP (the terminal went
//! away, as when an SSH connection drops). Each is handled the same way: the run stops and
//! removes what it created.

use std::path::Path;

use tokio::signal::unix::{signal, SignalKind};

/// Which signal arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interrupt {
    CtrlC,
    Terminate,
    Hangup,
}

impl Interrupt {
    pub fn describe(self) -> &'static str {
        match self {
            Self::CtrlC => "Ctrl-C",
            Self::Terminate => "SIGTERM",
            Self::Hangup => "SIGHUP (the terminal closed)",
        }
    }
}

/// Resolves when the first of SIGINT, SIGTERM or SIGHUP arrives. A signal that cannot be
/// listened for is logged and never resolves.
pub async fn shutdown_signal() -> Interrupt {
    let wait = |kind: SignalKind| async move {
        match signal(kind) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for a signal");
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        () = wait(SignalKind::interrupt()) => Interrupt::CtrlC,
        () = wait(SignalKind::terminate()) => Interrupt::Terminate,
        () = wait(SignalKind::hangup()) => Interrupt::Hangup,
    }
}

/// Points standard output and error at `log` (created or appended to), away from a terminal
/// that closed. Where that fails, at `/dev/null`: output is lost, the process goes on.
pub fn detach_from_terminal(log: &Path) {
    let target = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .or_else(|_| std::fs::OpenOptions::new().write(true).open("/dev/null"));
    if let Ok(file) = target {
        let _ = nix::unistd::dup2_stdout(&file);
        let _ = nix::unistd::dup2_stderr(&file);
    }
}
