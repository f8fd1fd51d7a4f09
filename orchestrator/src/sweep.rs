//! A sweep: one scenario run at several points (sizes, latencies, transports), and every
//! phase's p50 and p95 across them. Degraded points (docs/FIDELITY.md) are marked, so a
//! reader sees where this machine stops telling the truth about the network.
//!
//! `results/sweep-<id>/` holds `sweep.json`, `summary.md` and one plot per phase; each run
//! has its own directory next to it, as `up` leaves it.
//!
//! A trend is the same report over a series of runs of one configuration (the nightly's
//! history): the points are the runs in the order they started.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use plotters::prelude::*;
use serde::{Deserialize, Serialize};

use crate::phases::names;
use crate::report::{self, ReportError};
use crate::results::RunResults;

/// One run of the sweep.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SweepPoint {
    /// What distinguishes it: `peers=50 transport=quic`.
    pub label: String,
    /// Its run directory.
    pub run_dir: PathBuf,
    /// How the run ended (`up`'s exit code).
    pub exit_code: u8,
    pub results: RunResults,
}

/// Phases the sweep does not plot: figures per peer rather than per operation.
const NOT_PLOTTED: [&str; 2] = [names::PEER_CPU, names::IDLE];

/// Writes `sweep.json`, `summary.md` (headed `title`) and the plots into `dir`.
pub fn write(dir: &Path, title: &str, points: &[SweepPoint]) -> Result<(), ReportError> {
    let json = serde_json::to_vec_pretty(points).map_err(|source| ReportError::Serialize {
        what: "the sweep",
        source,
    })?;
    report::write_file(dir.join("sweep.json"), json)?;
    report::write_file(dir.join("summary.md"), summary(title, points))?;
    let plots = dir.join("plots");
    std::fs::create_dir_all(&plots).map_err(|source| ReportError::Write {
        path: plots.clone(),
        source,
    })?;
    report::register_font();
    for phase in phase_names(points) {
        if NOT_PLOTTED.contains(&phase.as_str()) {
            continue;
        }
        phase_plot(&plots.join(format!("{phase}.png")), &phase, points)?;
    }
    Ok(())
}

/// Every phase name of the points, in the order the first run that has it lists it.
fn phase_names(points: &[SweepPoint]) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for p in points {
        for phase in &p.results.phases {
            if !names.contains(&phase.name) {
                names.push(phase.name.clone());
            }
        }
    }
    names
}

fn summary(title: &str, points: &[SweepPoint]) -> String {
    let mut out = format!("# {title}\n\n");
    let _ = writeln!(out, "| point | run | exit | ready | degraded phases |");
    let _ = writeln!(out, "|---|---|---|---|---|");
    for p in points {
        let degraded = p.results.degraded_phases();
        let _ = writeln!(
            out,
            "| {} | `{}` | {} | {} | {} |",
            p.label,
            p.run_dir.display(),
            p.exit_code,
            p.results
                .run
                .ready_s
                .map_or_else(|| "–".into(), |r| format!("{r:.1} s")),
            if degraded.is_empty() {
                "none".to_owned()
            } else {
                degraded.join(", ")
            }
        );
    }
    let _ = writeln!(
        out,
        "\nEach phase at every point: p50 / p95, and in round trips of the configured links. \
         A point marked *degraded* ran on a host that shaped it (CPU queueing, throttling or a \
         late delay line): its figure is not only the network's.\n"
    );
    for phase in phase_names(points) {
        let _ = writeln!(out, "## {phase}\n");
        let _ = writeln!(
            out,
            "| point | n | p50 | p95 | p50 / p95 in RTTs | fidelity |"
        );
        let _ = writeln!(out, "|---|---|---|---|---|---|");
        for p in points {
            let Some(r) = p.results.phase(&phase) else {
                let _ = writeln!(out, "| {} | – | not run | | | |", p.label);
                continue;
            };
            let f = |v: Option<f64>| {
                v.map_or_else(|| "–".into(), |v| crate::quantity::format(v, &r.unit))
            };
            let rtts = r
                .in_rtts
                .and_then(|t| Some(format!("{:.1} / {:.1}", t.p50?, t.p95?)))
                .unwrap_or_else(|| "–".into());
            let fidelity = match &r.fidelity {
                Some(f) if f.verdict == crate::fidelity::Verdict::Degraded => "*degraded*",
                Some(_) => "ok",
                None => "–",
            };
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {rtts} | {fidelity} |",
                p.label,
                r.summary.count,
                f(r.summary.p50),
                f(r.summary.p95)
            );
        }
        let _ = writeln!(out, "\n![{phase}](plots/{phase}.png)\n");
    }
    out
}

/// p50 and p95 of `phase` at every point, on a log axis; degraded points hollow and red.
fn phase_plot(path: &Path, phase: &str, points: &[SweepPoint]) -> Result<(), ReportError> {
    let plot_err = |e: DrawingAreaErrorKind<_>| ReportError::Plot {
        path: path.to_owned(),
        source: Box::new(e),
    };
    let values: Vec<(usize, f64, f64, bool)> = points
        .iter()
        .enumerate()
        .filter_map(|(i, p)| {
            let r = p.results.phase(phase)?;
            let scale = if r.unit == "s" { 1e3 } else { 1.0 };
            let degraded = r
                .fidelity
                .as_ref()
                .is_some_and(|f| f.verdict == crate::fidelity::Verdict::Degraded);
            Some((i, r.summary.p50? * scale, r.summary.p95? * scale, degraded))
        })
        .filter(|(_, a, b, _)| *a > 0.0 && *b > 0.0)
        .collect();
    let unit = points
        .iter()
        .find_map(|p| p.results.phase(phase))
        .map_or("s", |r| r.unit.as_str());
    let y_desc = match unit {
        "s" => "latency (ms, log scale)".to_owned(),
        "B" => "bytes (log scale)".to_owned(),
        other => format!("{other} (log scale)"),
    };
    let root = BitMapBackend::new(path, (1000, 600)).into_drawing_area();
    root.fill(&WHITE).map_err(plot_err)?;
    if values.is_empty() {
        root.draw(&Text::new(
            format!("{phase}: no figure at any point"),
            (40, 280),
            ("sans-serif", 28).into_font(),
        ))
        .map_err(plot_err)?;
        return root.present().map_err(plot_err);
    }
    let lo = values
        .iter()
        .map(|v| v.1.min(v.2))
        .fold(f64::INFINITY, f64::min);
    let hi = values.iter().map(|v| v.1.max(v.2)).fold(0.0, f64::max);
    let labels: Vec<String> = points.iter().map(|p| p.label.clone()).collect();
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!("{phase}: p50 (circles) and p95 (triangles) per point; hollow red = degraded"),
            ("sans-serif", 20),
        )
        .margin(20)
        .x_label_area_size(60)
        .y_label_area_size(70)
        .build_cartesian_2d(
            -0.5..(points.len() as f64 - 0.5),
            (lo * 0.7..hi * 1.4).log_scale(),
        )
        .map_err(plot_err)?;
    chart
        .configure_mesh()
        .x_labels(points.len())
        .x_label_formatter(&|x| {
            let i = x.round();
            if (x - i).abs() < 0.01 && i >= 0.0 {
                labels.get(i as usize).cloned().unwrap_or_default()
            } else {
                String::new()
            }
        })
        .y_desc(y_desc)
        .draw()
        .map_err(plot_err)?;
    for (series, pick) in [(0usize, 1usize), (1, 2)] {
        let line: Vec<(f64, f64)> = values
            .iter()
            .map(|v| (v.0 as f64, if pick == 1 { v.1 } else { v.2 }))
            .collect();
        let color = Palette99::pick(series).to_rgba();
        chart
            .draw_series(LineSeries::new(line, color.stroke_width(2)))
            .map_err(plot_err)?;
    }
    for &(i, p50, p95, degraded) in &values {
        let style = if degraded {
            RED.stroke_width(2)
        } else {
            BLACK.filled()
        };
        chart
            .draw_series([Circle::new((i as f64, p50), 6, style)])
            .map_err(plot_err)?;
        chart
            .draw_series([TriangleMarker::new((i as f64, p95), 8, style)])
            .map_err(plot_err)?;
    }
    root.present().map_err(plot_err)
}
