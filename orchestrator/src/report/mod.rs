//! What a run leaves in `results/<run-id>/`: `results.json`, `summary.md`, `junit.xml`,
//! `prometheus-targets.json` and the plots; and the target table printed at the end.

mod junit;
mod markdown;
mod plots;

use std::path::{Path, PathBuf};

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{Cell, Color, Table};
use serde::Serialize;

use crate::fidelity::{PhaseFidelity, Verdict};
use crate::quantity;
use crate::results::{PhaseReport, ReadyStage, RunResults};
use crate::testbed::Testbed;

/// Why a report could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("writing {path}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("serializing {what}")]
    Serialize {
        what: &'static str,
        #[source]
        source: serde_json::Error,
    },
    #[error("drawing {path}")]
    Plot {
        path: PathBuf,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

/// Writes `bytes` to `path`, naming the file on failure.
fn write(path: PathBuf, bytes: impl AsRef<[u8]>) -> Result<(), ReportError> {
    std::fs::write(&path, bytes).map_err(|source| ReportError::Write { path, source })
}

/// Writes `bytes` to `path`, naming the file on failure (for reports beside a run's).
pub fn write_file(path: PathBuf, bytes: impl AsRef<[u8]>) -> Result<(), ReportError> {
    write(path, bytes)
}

pub use plots::register_font;

/// Writes every file of the report.
pub fn write_all(dir: &Path, results: &RunResults) -> Result<(), ReportError> {
    let json = serde_json::to_vec_pretty(results).map_err(|source| ReportError::Serialize {
        what: "the results",
        source,
    })?;
    write(dir.join("results.json"), json)?;
    render(dir, results)
}

/// Writes what a run has measured so far (`results.json` and `summary.md`, without the
/// plots), so that nothing measured is lost if the run ends early.
pub fn write_progress(dir: &Path, results: &RunResults) -> Result<(), ReportError> {
    let json = serde_json::to_vec_pretty(results).map_err(|source| ReportError::Serialize {
        what: "the results",
        source,
    })?;
    // Written aside and renamed: a reader never sees half a file.
    let tmp = dir.join("results.json.tmp");
    write(tmp.clone(), json)?;
    std::fs::rename(&tmp, dir.join("results.json")).map_err(|source| ReportError::Write {
        path: dir.join("results.json"),
        source,
    })?;
    write(dir.join("summary.md"), markdown::summary(results))
}

/// Writes the files derived from `results.json` (what `orchestrator report` redoes).
pub fn render(dir: &Path, results: &RunResults) -> Result<(), ReportError> {
    write(dir.join("summary.md"), markdown::summary(results))?;
    write(dir.join("junit.xml"), junit::report(results))?;
    plots::draw_all(&dir.join("plots"), results)
}

/// One line per phase as it finishes.
pub fn phase_line(report: &PhaseReport) -> String {
    let f =
        |v: Option<f64>| v.map_or_else(|| "-".to_owned(), |v| quantity::format(v, &report.unit));
    let mut line = format!(
        "{:<22} n={:<5} p50={:<10} p95={:<10} p99={:<10}",
        report.name,
        report.summary.count,
        f(report.summary.p50),
        f(report.summary.p95),
        f(report.summary.p99)
    );
    if report.errors > 0 {
        line.push_str(&format!(" errors={}", report.errors));
    }
    if let Some(t) = report.throughput_per_s {
        line.push_str(&format!(" throughput={t:.1}/s"));
    }
    if let Some(r) = report.in_rtts {
        if let (Some(p50), Some(p95)) = (r.p50, r.p95) {
            line.push_str(&format!(" ({p50:.1} / {p95:.1} RTT)"));
        }
    }
    if report
        .fidelity
        .as_ref()
        .is_some_and(|f| f.verdict == Verdict::Degraded)
    {
        line.push_str(" [degraded]");
    }
    line
}

/// The steps of a bring-up on one line: `launch 8.1 s, health 0.1 s, …`.
pub fn ready_stages(stages: &[ReadyStage]) -> String {
    stages
        .iter()
        .map(|s| format!("{} {:.1} s", s.stage, s.seconds))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Tells the console why a phase's figures are not only the network's.
pub fn warn_degraded(phase: &str, fidelity: &PhaseFidelity) {
    for reason in &fidelity.reasons {
        eprintln!("warning: {phase} {reason}");
    }
}

/// The table of targets: metric, target, measured, p50/p95/p99, pass or fail.
pub fn target_table(results: &RunResults) -> Table {
    let mut table = Table::new();
    table.load_preset(UTF8_FULL_CONDENSED).set_header(vec![
        "metric", "target", "measured", "p50", "p95", "p99", "result",
    ]);
    for s in &results.sla {
        let f = |v: Option<f64>| v.map_or_else(|| "-".to_owned(), |v| quantity::format(v, &s.unit));
        let phase_unit = results
            .phases
            .iter()
            .find(|p| s.metric.starts_with(&format!("{}.", p.name)))
            .map_or("s", |p| p.unit.as_str());
        let pf =
            |v: Option<f64>| v.map_or_else(|| "-".to_owned(), |v| quantity::format(v, phase_unit));
        let verdict = if s.pass {
            Cell::new("pass").fg(Color::Green)
        } else {
            Cell::new(
                s.note
                    .as_deref()
                    .map_or("FAIL".to_owned(), |n| format!("FAIL ({n})")),
            )
            .fg(Color::Red)
        };
        table.add_row(vec![
            Cell::new(&s.metric),
            Cell::new(&s.target),
            Cell::new(f(s.measured)),
            Cell::new(pf(s.p50)),
            Cell::new(pf(s.p95)),
            Cell::new(pf(s.p99)),
            verdict,
        ]);
    }
    table
}

#[derive(Serialize)]
struct TargetGroup {
    targets: Vec<String>,
    labels: std::collections::BTreeMap<String, String>,
}

/// Directory of live file-SD target files, one per running run: Prometheus allows a glob in
/// the last path element only, so `<results>/targets/*.json` is what it watches.
pub fn live_targets_dir(results_root: &Path) -> std::path::PathBuf {
    results_root.join("targets")
}

/// Prometheus file-based service discovery: every peer's API, labelled with the run. Written
/// to `<run dir>/prometheus-targets.json` (kept) and `<results>/targets/<run>.json` (removed
/// when the run ends).
pub fn write_prometheus_targets(dir: &Path, testbed: &Testbed) -> Result<(), ReportError> {
    let run = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let groups: Vec<TargetGroup> = testbed
        .peers
        .iter()
        .map(|p| TargetGroup {
            targets: vec![p.slot.api.to_string()],
            labels: [
                ("run".to_owned(), run.clone()),
                ("peer".to_owned(), p.slot.name.clone()),
                ("runtime".to_owned(), testbed.runtime.kind().to_owned()),
            ]
            .into(),
        })
        .collect();
    let json = serde_json::to_vec_pretty(&groups).map_err(|source| ReportError::Serialize {
        what: "the Prometheus targets",
        source,
    })?;
    write(dir.join("prometheus-targets.json"), &json)?;
    if let Some(root) = dir.parent() {
        let live = live_targets_dir(root);
        std::fs::create_dir_all(&live).map_err(|source| ReportError::Write {
            path: live.clone(),
            source,
        })?;
        write(live.join(format!("{run}.json")), &json)?;
    }
    Ok(())
}

/// Removes the run's live targets file, so Prometheus stops scraping peers that are gone.
pub fn remove_live_targets(dir: &Path) {
    if let (Some(root), Some(run)) = (dir.parent(), dir.file_name()) {
        let file = live_targets_dir(root).join(format!("{}.json", run.to_string_lossy()));
        let _ = std::fs::remove_file(file);
    }
}
