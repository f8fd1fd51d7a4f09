//! The signals that end a run early: Ctrl-C (SIGINT), SIGTERM, and SIGHUP (the terminal went
//! away, as when an SSH connection drops). Each is handled the same way: the run stops and
//! removes what it created.

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
