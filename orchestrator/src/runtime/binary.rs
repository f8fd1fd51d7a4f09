//! Finding the static `p2p-node` binary the peers run, building it when it is missing.

use std::path::{Path, PathBuf};

use super::InfraError;

/// `explicit` if given; else `p2p-node` next to this executable (the same cargo target
/// directory), built with `cargo build --release --bin p2p-node` from this checkout if absent
/// (a target filter, not `-p`: the workspace's features stay unified, so this is the same build
/// as the tests', not a second one).
pub fn locate_node_binary(explicit: Option<&Path>) -> Result<PathBuf, InfraError> {
    if let Some(path) = explicit {
        return if path.is_file() {
            Ok(path.to_owned())
        } else {
            Err(InfraError::Binary(format!(
                "{} does not exist",
                path.display()
            )))
        };
    }
    let exe = std::env::current_exe()
        .map_err(InfraError::io("locating the orchestrator's executable"))?;
    let dir = exe
        .parent()
        .ok_or_else(|| InfraError::Binary("the orchestrator has no directory".into()))?;
    // Test binaries live one level down, in `deps/`.
    let candidates = [dir.join("p2p-node"), dir.join("../p2p-node")];
    if let Some(found) = candidates.iter().find(|p| p.is_file()) {
        return Ok(found.clone());
    }
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    if !workspace.join("Cargo.toml").is_file() {
        return Err(InfraError::Binary(format!(
            "no p2p-node next to {} and no checkout to build it from: pass --node-binary",
            exe.display()
        )));
    }
    eprintln!("p2p-node is not built yet: running cargo build --release --bin p2p-node");
    let status =
        std::process::Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
            .args(["build", "--release", "--bin", "p2p-node"])
            .current_dir(&workspace)
            .status()
            .map_err(InfraError::io("running cargo build --bin p2p-node"))?;
    if !status.success() {
        return Err(InfraError::Binary(format!(
            "cargo build --bin p2p-node failed ({status})"
        )));
    }
    candidates.into_iter().find(|p| p.is_file()).ok_or_else(|| {
        InfraError::Binary(format!(
            "cargo built p2p-node, but not next to {}",
            exe.display()
        ))
    })
}
