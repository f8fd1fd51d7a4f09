//! Running the host's network tools (`iptables-restore`, `tc`, `ip`, `nsenter`).

use std::io::Write;
use std::process::{Command, Stdio};

use crate::error::ShapeError;

/// [`run`] inside the network namespace at `namespace` (through `nsenter`), or in the host's
/// own when `None`.
pub(crate) fn run_in(
    namespace: Option<&std::path::Path>,
    program: &str,
    args: &[&str],
    stdin: Option<&str>,
) -> Result<String, ShapeError> {
    let Some(path) = namespace else {
        return run(program, args, stdin);
    };
    let net = format!("--net={}", path.display());
    let mut full = vec![net.as_str(), program];
    full.extend_from_slice(args);
    run("nsenter", &full, stdin)
}

/// Runs `program args…`, feeding `stdin` when given; returns stdout, or an error carrying
/// stderr.
pub(crate) fn run(program: &str, args: &[&str], stdin: Option<&str>) -> Result<String, ShapeError> {
    let shown = || format!("{program} {}", args.join(" "));
    let mut child = Command::new(program)
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => ShapeError::Missing {
                program: program.to_owned(),
                hint: install_hint(program).to_owned(),
            },
            _ => ShapeError::Command {
                command: shown(),
                detail: e.to_string(),
            },
        })?;
    if let (Some(text), Some(mut pipe)) = (stdin, child.stdin.take()) {
        pipe.write_all(text.as_bytes())
            .map_err(|e| ShapeError::Command {
                command: shown(),
                detail: format!("writing its input: {e}"),
            })?;
    }
    let out = child.wait_with_output().map_err(|e| ShapeError::Command {
        command: shown(),
        detail: e.to_string(),
    })?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(ShapeError::Command {
            command: shown(),
            detail: format!(
                "{}: {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            ),
        })
    }
}

fn install_hint(program: &str) -> &'static str {
    match program {
        "iptables" | "iptables-restore" | "iptables-save" => "apt-get install iptables",
        "tc" | "ip" => "apt-get install iproute2",
        "nsenter" => "apt-get install util-linux",
        _ => "install it or choose --shaper none",
    }
}
