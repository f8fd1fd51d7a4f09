//! Raw samples per benchmark with exact percentiles (Criterion's `[a b c]` is a confidence
//! interval of the mean, not a distribution), the SLA checks, and the summary file the
//! runner script reads: `<target>/criterion/p2p-summary.json`.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use p2p_api::stats::Summary;
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct Percentiles {
    pub n: usize,
    pub p50_s: f64,
    pub p95_s: f64,
    pub p99_s: f64,
    pub max_s: f64,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub extra: BTreeMap<String, f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SlaCheck {
    pub name: String,
    pub statistic: String,
    pub measured_s: f64,
    pub target_s: f64,
    pub pass: bool,
}

#[derive(Debug, Default, Serialize)]
struct SuiteSummary {
    benchmarks: BTreeMap<String, Percentiles>,
    memory: BTreeMap<String, BTreeMap<String, f64>>,
    sla: Vec<SlaCheck>,
}

static SUMMARY: Mutex<Option<SuiteSummary>> = Mutex::new(None);

fn with<T>(f: impl FnOnce(&mut SuiteSummary) -> T) -> T {
    let mut guard = SUMMARY.lock().unwrap_or_else(|e| e.into_inner());
    f(guard.get_or_insert_with(SuiteSummary::default))
}

/// Summarizes the samples of benchmark `id`, prints them and keeps them for the summary.
pub fn record(id: &str, samples: &[Duration], extra: BTreeMap<String, f64>) -> Option<Percentiles> {
    if samples.is_empty() {
        println!("{id}: no samples");
        return None;
    }
    let s: Vec<f64> = samples.iter().map(Duration::as_secs_f64).collect();
    let summary = Summary::of(&s);
    let (Some(p50_s), Some(p95_s), Some(p99_s), Some(max_s)) =
        (summary.p50, summary.p95, summary.p99, summary.max)
    else {
        println!("{id}: no finite samples");
        return None;
    };
    let p = Percentiles {
        n: summary.count,
        p50_s,
        p95_s,
        p99_s,
        max_s,
        extra,
    };
    let extra: Vec<String> = p
        .extra
        .iter()
        .map(|(k, v)| format!(" {k}={v:.2}"))
        .collect();
    println!(
        "{id}: p50={} p95={} p99={} max={} (n={}){}",
        human(p.p50_s),
        human(p.p95_s),
        human(p.p99_s),
        human(p.max_s),
        p.n,
        extra.join("")
    );
    with(|summary| summary.benchmarks.insert(id.to_owned(), p.clone()));
    Some(p)
}

/// Keeps memory figures (MiB) of a case.
pub fn record_memory(case: &str, figures: BTreeMap<String, f64>) {
    with(|summary| summary.memory.insert(case.to_owned(), figures));
}

/// Checks a target; a miss makes the bench exit non-zero at the end.
pub fn sla(name: &str, statistic: &str, measured: f64, target: f64) -> bool {
    let pass = measured <= target;
    println!(
        "SLA {name} {statistic}: {} (target < {}) {}",
        human(measured),
        human(target),
        if pass { "PASS" } else { "FAIL" }
    );
    with(|summary| {
        summary.sla.push(SlaCheck {
            name: name.to_owned(),
            statistic: statistic.to_owned(),
            measured_s: measured,
            target_s: target,
            pass,
        })
    });
    pass
}

pub fn human(seconds: f64) -> String {
    if seconds < 1e-3 {
        format!("{:.1}µs", seconds * 1e6)
    } else if seconds < 1.0 {
        format!("{:.2}ms", seconds * 1e3)
    } else {
        format!("{seconds:.3}s")
    }
}

/// Where Criterion writes: `$CARGO_TARGET_DIR/criterion`, else `<workspace>/target/criterion`.
pub fn criterion_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR") {
        return PathBuf::from(dir).join("criterion");
    }
    // The bench runs as <target>/<triple>/release/deps/<bench>.
    std::env::current_exe()
        .ok()
        .and_then(|exe| {
            exe.ancestors()
                .find(|a| a.file_name().is_some_and(|n| n == "target"))
                .map(PathBuf::from)
        })
        .unwrap_or_else(|| PathBuf::from("target"))
        .join("criterion")
}

/// Writes the summary file and returns whether every SLA check passed.
pub fn finish() -> bool {
    with(|summary| {
        let dir = criterion_dir();
        let path = dir.join("p2p-summary.json");
        let written = std::fs::create_dir_all(&dir).and_then(|()| {
            std::fs::write(
                &path,
                serde_json::to_vec_pretty(summary).unwrap_or_default(),
            )
        });
        match written {
            Ok(()) => println!("summary with percentiles: {}", path.display()),
            Err(e) => eprintln!("cannot write {}: {e}", path.display()),
        }
        let failed: Vec<&SlaCheck> = summary.sla.iter().filter(|s| !s.pass).collect();
        for f in &failed {
            eprintln!(
                "SLA MISSED: {} {} = {} (target < {})",
                f.name,
                f.statistic,
                human(f.measured_s),
                human(f.target_s)
            );
        }
        failed.is_empty()
    })
}
