//! PNG plots of a run, drawn with plotters in pure Rust (the font is embedded, so a static
//! binary draws them on a machine without fonts).

use std::path::Path;
use std::sync::Once;

use plotters::prelude::*;

use super::ReportError;
use crate::phases::names;
use crate::results::RunResults;

const FONT: &[u8] = include_bytes!("../../assets/DejaVuSans.ttf");
const SIZE: (u32, u32) = (1000, 600);
static REGISTER_FONT: Once = Once::new();

/// A drawing error of the plot at `path`.
fn plot_err<E: std::error::Error + Send + Sync + 'static>(
    path: &Path,
) -> impl FnOnce(E) -> ReportError + '_ {
    move |e| ReportError::Plot {
        path: path.to_owned(),
        source: Box::new(e),
    }
}

pub(super) fn draw_all(dir: &Path, results: &RunResults) -> Result<(), ReportError> {
    std::fs::create_dir_all(dir).map_err(|source| ReportError::Write {
        path: dir.to_owned(),
        source,
    })?;
    register_font();
    latency_cdf(&dir.join("latency_cdf.png"), results)?;
    gossip_propagation(&dir.join("gossip_propagation.png"), results)?;
    memory_per_peer(&dir.join("memory_per_peer.png"), results)?;
    bootstrap_times(&dir.join("bootstrap_times.png"), results)?;
    if !results.shaping.pairs.is_empty() {
        link_rtt(&dir.join("link_rtt.png"), results)?;
    }
    Ok(())
}

/// Makes the embedded font the plots' sans-serif, once per process.
pub fn register_font() {
    REGISTER_FONT.call_once(|| {
        if plotters::style::register_font("sans-serif", FontStyle::Normal, FONT).is_err() {
            tracing::warn!("the embedded font did not load; plots will have no text");
        }
    });
}

fn no_data(path: &Path, title: &str) -> Result<(), ReportError> {
    let root = BitMapBackend::new(path, SIZE).into_drawing_area();
    root.fill(&WHITE).map_err(plot_err(path))?;
    root.draw(&Text::new(
        format!("{title}: no data in this run"),
        (40, 280),
        ("sans-serif", 28).into_font(),
    ))
    .map_err(plot_err(path))?;
    root.present().map_err(plot_err(path))
}

/// Cumulative distribution of every latency phase, on a log time axis.
fn latency_cdf(path: &Path, results: &RunResults) -> Result<(), ReportError> {
    let phases: Vec<(&str, Vec<f64>)> = results
        .phases
        .iter()
        .filter(|p| p.unit == "s" && p.name != names::PEER_CPU && !p.samples.is_empty())
        .map(|p| {
            let mut ms: Vec<f64> = p.samples.iter().map(|s| (s * 1e3).max(1e-3)).collect();
            ms.sort_by(f64::total_cmp);
            (p.name.as_str(), ms)
        })
        .collect();
    if phases.is_empty() {
        return no_data(path, "latency CDF");
    }
    let lo = phases
        .iter()
        .map(|(_, s)| s[0])
        .fold(f64::INFINITY, f64::min);
    let hi = phases
        .iter()
        .map(|(_, s)| s[s.len() - 1])
        .fold(0.0, f64::max);
    let root = BitMapBackend::new(path, (SIZE.0 + 260, SIZE.1)).into_drawing_area();
    root.fill(&WHITE).map_err(plot_err(path))?;
    // The legend gets its own panel: with many phases it would hide the curves.
    let (plot_area, legend_area) = root.split_horizontally(SIZE.0);
    let mut chart = ChartBuilder::on(&plot_area)
        .caption(
            format!("Latency CDF per phase — run {}", results.run.id),
            ("sans-serif", 22),
        )
        .margin(15)
        .x_label_area_size(45)
        .y_label_area_size(55)
        .build_cartesian_2d((lo * 0.8..hi * 1.25).log_scale(), 0.0..1.0)
        .map_err(plot_err(path))?;
    chart
        .configure_mesh()
        .x_desc("latency (ms, log scale)")
        .y_desc("fraction of operations")
        .x_label_formatter(&|v| format!("{v:.3}"))
        .draw()
        .map_err(plot_err(path))?;
    for (i, (name, samples)) in phases.iter().enumerate() {
        let color = Palette99::pick(i).to_rgba();
        let n = samples.len() as f64;
        let points = samples
            .iter()
            .enumerate()
            .map(|(k, &x)| (x, (k + 1) as f64 / n));
        chart
            .draw_series(LineSeries::new(points, color.stroke_width(2)))
            .map_err(plot_err(path))?;
        let y = 60 + 24 * i as i32;
        legend_area
            .draw(&PathElement::new(
                vec![(5, y), (30, y)],
                color.stroke_width(4),
            ))
            .map_err(plot_err(path))?;
        legend_area
            .draw(&Text::new(
                format!("{name} (n={})", samples.len()),
                (38, y - 8),
                ("sans-serif", 15).into_font(),
            ))
            .map_err(plot_err(path))?;
    }
    root.present().map_err(plot_err(path))
}

/// Fraction of all expected gossip receipts that had arrived, over time since publish.
fn gossip_propagation(path: &Path, results: &RunResults) -> Result<(), ReportError> {
    let Some(gossip) = results
        .phase(names::GOSSIP)
        .filter(|p| !p.samples.is_empty())
    else {
        return no_data(path, "gossip propagation");
    };
    let coverage = gossip
        .extra
        .get("coverage")
        .copied()
        .unwrap_or(1.0)
        .max(1e-9);
    let expected = gossip.samples.len() as f64 / coverage;
    let mut ms: Vec<f64> = gossip.samples.iter().map(|s| s * 1e3).collect();
    ms.sort_by(f64::total_cmp);
    let hi = ms.last().copied().unwrap_or(1.0).max(1e-3) * 1.1;
    let root = BitMapBackend::new(path, SIZE).into_drawing_area();
    root.fill(&WHITE).map_err(plot_err(path))?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!(
                "Gossip propagation — {} receipts, coverage {:.1}%",
                ms.len(),
                coverage * 100.0
            ),
            ("sans-serif", 22),
        )
        .margin(15)
        .x_label_area_size(45)
        .y_label_area_size(55)
        .build_cartesian_2d(0.0..hi, 0.0..1.0)
        .map_err(plot_err(path))?;
    chart
        .configure_mesh()
        .x_desc("time since publish (ms)")
        .y_desc("fraction of (message, peer) receipts")
        .draw()
        .map_err(plot_err(path))?;
    let mut steps = vec![(0.0, 0.0)];
    for (k, &x) in ms.iter().enumerate() {
        steps.push((x, k as f64 / expected));
        steps.push((x, (k + 1) as f64 / expected));
    }
    chart
        .draw_series(LineSeries::new(steps, BLUE.stroke_width(2)))
        .map_err(plot_err(path))?;
    root.present().map_err(plot_err(path))
}

/// Resident memory of each peer.
fn memory_per_peer(path: &Path, results: &RunResults) -> Result<(), ReportError> {
    let mib: Vec<f64> = results
        .resources
        .iter()
        .map(|r| r.rss_bytes.unwrap_or(0) as f64 / (1024.0 * 1024.0))
        .collect();
    if mib.is_empty() {
        return no_data(path, "memory per peer");
    }
    let hi = mib.iter().copied().fold(0.0, f64::max) * 1.15;
    let mean = mib.iter().sum::<f64>() / mib.len() as f64;
    let root = BitMapBackend::new(path, SIZE).into_drawing_area();
    root.fill(&WHITE).map_err(plot_err(path))?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!("Resident memory per peer — mean {mean:.1} MiB"),
            ("sans-serif", 22),
        )
        .margin(15)
        .x_label_area_size(45)
        .y_label_area_size(55)
        .build_cartesian_2d(0.0..mib.len() as f64, 0.0..hi.max(1.0))
        .map_err(plot_err(path))?;
    chart
        .configure_mesh()
        .x_desc("peer")
        .y_desc("RSS (MiB)")
        .x_label_formatter(&|v| format!("{v:.0}"))
        .draw()
        .map_err(plot_err(path))?;
    chart
        .draw_series(mib.iter().enumerate().map(|(i, &m)| {
            Rectangle::new(
                [(i as f64 + 0.1, 0.0), (i as f64 + 0.9, m)],
                BLUE.mix(0.6).filled(),
            )
        }))
        .map_err(plot_err(path))?;
    root.present().map_err(plot_err(path))
}

/// Each peer's Kademlia bootstrap time, sorted.
fn bootstrap_times(path: &Path, results: &RunResults) -> Result<(), ReportError> {
    let Some(bootstrap) = results
        .phase(names::BOOTSTRAP)
        .filter(|p| !p.samples.is_empty())
    else {
        return no_data(path, "bootstrap times");
    };
    let mut ms: Vec<f64> = bootstrap.samples.iter().map(|s| s * 1e3).collect();
    ms.sort_by(f64::total_cmp);
    let hi = ms.last().copied().unwrap_or(1.0) * 1.15;
    let root = BitMapBackend::new(path, SIZE).into_drawing_area();
    root.fill(&WHITE).map_err(plot_err(path))?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!(
                "Kademlia bootstrap time per peer (sorted) — all ready {:.1} s after up",
                results.run.ready_s.unwrap_or(f64::NAN)
            ),
            ("sans-serif", 22),
        )
        .margin(15)
        .x_label_area_size(45)
        .y_label_area_size(55)
        .build_cartesian_2d(0.0..ms.len() as f64, 0.0..hi.max(1e-3))
        .map_err(plot_err(path))?;
    chart
        .configure_mesh()
        .x_desc("peers, fastest to slowest")
        .y_desc("bootstrap (ms)")
        .x_label_formatter(&|v| format!("{v:.0}"))
        .draw()
        .map_err(plot_err(path))?;
    chart
        .draw_series(ms.iter().enumerate().map(|(i, &m)| {
            Rectangle::new(
                [(i as f64 + 0.1, 0.0), (i as f64 + 0.9, m)],
                GREEN.mix(0.7).filled(),
            )
        }))
        .map_err(plot_err(path))?;
    root.present().map_err(plot_err(path))
}

/// Measured against configured round trip of every sampled pair, with the tolerance band
/// max(2 ms, 10%) around the diagonal.
fn link_rtt(path: &Path, results: &RunResults) -> Result<(), ReportError> {
    let pairs = &results.shaping.pairs;
    let hi = pairs
        .iter()
        .flat_map(|p| [Some(p.configured_rtt_ms), p.measured_rtt_ms])
        .flatten()
        .fold(1.0f64, f64::max)
        * 1.1;
    let root = BitMapBackend::new(path, SIZE).into_drawing_area();
    root.fill(&WHITE).map_err(plot_err(path))?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!(
                "Link round trips: measured vs configured ({} backend, {} pairs)",
                results.shaping.backend,
                pairs.len()
            ),
            ("sans-serif", 22),
        )
        .margin(15)
        .x_label_area_size(45)
        .y_label_area_size(60)
        .build_cartesian_2d(0.0..hi, 0.0..hi)
        .map_err(plot_err(path))?;
    chart
        .configure_mesh()
        .x_desc("configured RTT (ms)")
        .y_desc("measured RTT (ms, median of 5 handshakes)")
        .draw()
        .map_err(plot_err(path))?;
    let steps: Vec<f64> = (0..=200).map(|i| hi * f64::from(i) / 200.0).collect();
    let band = |sign: f64| {
        steps
            .iter()
            .map(move |&c| (c, (c + sign * (c / 10.0).max(2.0)).max(0.0)))
            .collect::<Vec<_>>()
    };
    chart
        .draw_series(LineSeries::new(
            steps.iter().map(|&c| (c, c)),
            BLACK.mix(0.5),
        ))
        .map_err(plot_err(path))?
        .label("configured")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLACK.mix(0.5)));
    for sign in [-1.0, 1.0] {
        chart
            .draw_series(LineSeries::new(band(sign), RED.mix(0.4)))
            .map_err(plot_err(path))?;
    }
    chart
        .draw_series(pairs.iter().filter_map(|p| {
            let m = p.measured_rtt_ms?;
            let colour = if p.ok { BLUE } else { RED };
            Some(Circle::new((p.configured_rtt_ms, m), 5, colour.filled()))
        }))
        .map_err(plot_err(path))?
        .label("sampled pair (red: outside max(2 ms, 10%))")
        .legend(|(x, y)| Circle::new((x + 10, y), 5, BLUE.filled()));
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
        .map_err(plot_err(path))?;
    root.present().map_err(plot_err(path))
}
