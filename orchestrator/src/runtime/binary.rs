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
    let mut cargo =
        std::process::Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    // Under `cargo run`, this process carries the orchestrator package's variables
    // (`CARGO_MANIFEST_DIR`, `CARGO_PKG_NAME`, …). Build scripts such as ring's watch them
    // (`rerun-if-env-changed`), so passing them on would rebuild ring and all that depends on
    // it into a second copy of the build.
    for (key, _) in std::env::vars_os() {
        if key.to_str().is_some_and(is_package_variable) {
            cargo.env_remove(key);
        }
    }
    let status = cargo
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

/// The variables cargo sets for one package's build script or `cargo run`, which a nested
/// cargo must not inherit.
fn is_package_variable(key: &str) -> bool {
    key.starts_with("CARGO_PKG_")
        || key.starts_with("CARGO_MANIFEST_")
        || matches!(
            key,
            "CARGO_CRATE_NAME" | "CARGO_BIN_NAME" | "CARGO_PRIMARY_PACKAGE" | "OUT_DIR"
        )
}

#[cfg(test)]
mod tests {
    use super::is_package_variable;

    #[test]
    fn a_nested_cargo_gets_the_configuration_but_not_the_package() {
        for package in [
            "CARGO_MANIFEST_DIR",
            "CARGO_PKG_NAME",
            "CARGO_PKG_VERSION_MAJOR",
            "OUT_DIR",
        ] {
            assert!(is_package_variable(package), "{package}");
        }
        for config in [
            "CARGO",
            "CARGO_HOME",
            "CARGO_TARGET_DIR",
            "CARGO_TERM_COLOR",
            "PATH",
        ] {
            assert!(!is_package_variable(config), "{config}");
        }
    }
}
