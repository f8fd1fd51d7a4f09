//! Which backend can shape here, decided by trying, in a scratch network namespace, the very
//! things each backend needs; never assumed from the kernel version.

use crate::command;
use crate::error::ShapeError;
use crate::plan::Fabric;

/// What the user asked for with `--shaper`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShaperChoice {
    /// The kernel's netem when it exists, the userspace delay line otherwise.
    Auto,
    Kernel,
    Userspace,
    /// No shaping; the report says the run is unshaped.
    None,
}

/// The backend a run uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Kernel,
    Userspace,
    None,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Self::Kernel => "kernel",
            Self::Userspace => "userspace",
            Self::None => "none",
        }
    }
}

/// The chosen backend and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selection {
    pub backend: Backend,
    pub reason: String,
}

/// What the probe found.
#[derive(Debug, Clone)]
pub struct ProbeReport {
    /// `Ok` when `tc qdisc add … netem` worked, else what `tc` said.
    pub kernel: Result<(), String>,
    /// `Ok` when the NFQUEUE target, physdev match and a netfilter queue socket all work.
    pub userspace: Result<(), String>,
}

/// Tries both backends in a scratch namespace of its own, removed afterwards.
pub fn probe() -> Result<ProbeReport, ShapeError> {
    let ns = format!("p2p-testbed-probe-{}", std::process::id());
    command::run("ip", &["netns", "add", &ns], None).map_err(|e| {
        ShapeError::NoBackend(format!(
            "link shaping needs root or CAP_NET_ADMIN, and creating a scratch namespace failed: {e}"
        ))
    })?;
    let in_ns = |args: &[&str]| {
        let mut full = vec!["netns", "exec", &ns];
        full.extend_from_slice(args);
        command::run("ip", &full, None)
    };
    let kernel = in_ns(&[
        "tc", "qdisc", "add", "dev", "lo", "root", "netem", "delay", "1ms",
    ])
    .map(drop)
    .map_err(|e| match e {
        ShapeError::Command { detail, .. } if detail.contains("unknown") => {
            "the kernel has no sch_netem (tc: \"Specified qdisc kind is unknown\")".to_owned()
        }
        other => other.to_string(),
    });
    let userspace = in_ns(&[
        "iptables",
        "-w",
        "-t",
        "mangle",
        "-A",
        "FORWARD",
        "-m",
        "physdev",
        "--physdev-is-bridged",
        "-j",
        "NFQUEUE",
        "--queue-num",
        "1",
        "--queue-bypass",
    ])
    .map(drop)
    .map_err(|e| format!("iptables NFQUEUE/physdev: {e}"))
    .and_then(|()| {
        nfq::Queue::open()
            .map(drop)
            .map_err(|e| format!("netfilter queue socket: {e}"))
    });
    if let Err(e) = command::run("ip", &["netns", "del", &ns], None) {
        tracing::warn!("removing the probe namespace {ns}: {e}");
    }
    Ok(ProbeReport { kernel, userspace })
}

/// Picks the backend for `choice` on `fabric`, probing when shaping is asked for.
pub fn select(choice: ShaperChoice, fabric: &Fabric) -> Result<Selection, ShapeError> {
    if choice == ShaperChoice::None {
        return Ok(Selection {
            backend: Backend::None,
            reason: "--shaper none: links are not shaped".into(),
        });
    }
    let report = probe()?;
    decide(choice, fabric, &report)
}

/// The decision, apart from the probing, so that it can be tested.
pub fn decide(
    choice: ShaperChoice,
    fabric: &Fabric,
    report: &ProbeReport,
) -> Result<Selection, ShapeError> {
    let kernel_fits = match (fabric, &report.kernel) {
        (Fabric::Loopback, _) => Err(
            "local peers share the host's lo, where qdiscs would shape the whole host".to_owned(),
        ),
        (Fabric::Bridge | Fabric::Overlay, k) => k.clone(),
    };
    let userspace = |why: String| match &report.userspace {
        Ok(()) => Ok(Selection {
            backend: Backend::Userspace,
            reason: why,
        }),
        Err(e) => Err(ShapeError::Unsupported {
            backend: "userspace",
            reason: e.clone(),
        }),
    };
    match choice {
        ShaperChoice::None => Ok(Selection {
            backend: Backend::None,
            reason: "--shaper none".into(),
        }),
        ShaperChoice::Kernel => kernel_fits
            .map(|()| Selection {
                backend: Backend::Kernel,
                reason: "--shaper kernel: tc netem works here".into(),
            })
            .map_err(|reason| ShapeError::Unsupported {
                backend: "kernel",
                reason: format!("{reason}; try --shaper userspace"),
            }),
        ShaperChoice::Userspace => userspace("--shaper userspace: NFQUEUE delay line".into()),
        ShaperChoice::Auto => match kernel_fits {
            Ok(()) => Ok(Selection {
                backend: Backend::Kernel,
                reason: "tc netem works in a scratch namespace".into(),
            }),
            Err(why) => userspace(format!("{why}; using the NFQUEUE delay line"))
                .map_err(|e| ShapeError::NoBackend(format!("kernel: {why}; userspace: {e}"))),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(kernel: bool, userspace: bool) -> ProbeReport {
        ProbeReport {
            kernel: if kernel {
                Ok(())
            } else {
                Err("the kernel has no sch_netem".into())
            },
            userspace: if userspace {
                Ok(())
            } else {
                Err("no NFQUEUE target".into())
            },
        }
    }

    #[test]
    fn auto_prefers_the_kernel_and_falls_back_to_userspace() {
        let s = decide(ShaperChoice::Auto, &Fabric::Bridge, &report(true, true)).unwrap();
        assert_eq!(s.backend, Backend::Kernel);
        let s = decide(ShaperChoice::Auto, &Fabric::Bridge, &report(false, true)).unwrap();
        assert_eq!(s.backend, Backend::Userspace);
        assert!(s.reason.contains("sch_netem"), "{}", s.reason);
        let s = decide(ShaperChoice::Auto, &Fabric::Loopback, &report(true, true)).unwrap();
        assert_eq!(s.backend, Backend::Userspace);
    }

    #[test]
    fn impossible_choices_say_why() {
        let e = decide(ShaperChoice::Kernel, &Fabric::Bridge, &report(false, true)).unwrap_err();
        assert!(e.to_string().contains("sch_netem"), "{e}");
        let e = decide(ShaperChoice::Auto, &Fabric::Bridge, &report(false, false)).unwrap_err();
        assert!(e.to_string().contains("NFQUEUE"), "{e}");
        let e = decide(ShaperChoice::Kernel, &Fabric::Loopback, &report(true, true)).unwrap_err();
        assert!(e.to_string().contains("lo"), "{e}");
    }
}
