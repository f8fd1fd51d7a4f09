//! Where bench nodes keep their data: one directory per process under the system's temporary
//! directory, removed when the run ends, when it panics and when it is interrupted. A
//! 1000-node network holds a thousand node directories; without this, a Ctrl-C during a long
//! run left all of them behind.

use std::io;
use std::path::PathBuf;
use std::sync::OnceLock;

use tempfile::TempDir;
use tokio::runtime::Runtime;
use tokio::signal::unix::{signal, SignalKind};

static ROOT: OnceLock<PathBuf> = OnceLock::new();

/// The scratch directory of this process; dropping it removes it and all it holds.
pub struct Scratch {
    _root: TempDir,
}

impl Scratch {
    /// Creates the scratch directory and spawns on `rt` a task that, on Ctrl-C or SIGTERM,
    /// removes it and exits with status 130. Node directories made by [`node_dir`] from now
    /// on go inside it.
    pub fn install(rt: &Runtime) -> io::Result<Self> {
        let root = tempfile::Builder::new().prefix("p2p-bench-").tempdir()?;
        let path = root.path().to_owned();
        ROOT.set(path.clone())
            .map_err(|_| io::Error::other("the bench scratch directory is installed twice"))?;
        let mut terminate = rt.block_on(async { signal(SignalKind::terminate()) })?;
        rt.spawn(async move {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = terminate.recv() => {}
            }
            eprintln!("interrupted: removing {}", path.display());
            if let Err(e) = std::fs::remove_dir_all(&path) {
                eprintln!("could not remove {}: {e}", path.display());
            }
            std::process::exit(130);
        });
        Ok(Self { _root: root })
    }
}

/// A fresh directory for one node's data: inside the scratch directory once one is
/// installed, else directly in the system's temporary directory.
pub fn node_dir() -> io::Result<TempDir> {
    match ROOT.get() {
        Some(root) => tempfile::Builder::new().prefix("node-").tempdir_in(root),
        None => tempfile::tempdir(),
    }
}
