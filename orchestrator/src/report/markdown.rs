use std::fmt::Write;

use crate::fidelity::Verdict;
use crate::quantity;
use crate::results::{RoundTrips, RunResults};

pub(super) fn summary(r: &RunResults) -> String {
    let mut out = String::new();
    let run = &r.run;
    let _ = writeln!(out, "# Run {}\n", run.id);
    let link = if run.link.latency_ms > 0.0 {
        format!(
            "{} ms one way on every link, so about {} ms RTT",
            run.link.latency_ms,
            run.link.latency_ms * 2.0
        )
    } else {
        format!(
            "{}; mean configured RTT {:.1} ms",
            run.link.description, run.link.mean_rtt_ms
        )
    };
    let _ = writeln!(
        out,
        "Scenario `{}`, {} peers over {}, {} runtime, shaper `{}`, link `{}` ({link}).  ",
        run.scenario,
        run.peers,
        run.transport.as_str().to_uppercase(),
        run.runtime,
        run.shaper,
        run.link.profile,
    );
    let _ = writeln!(out, "Started {}, ended {}.  ", run.started_at, run.ended_at);
    if let Some(ready) = run.ready_s {
        let _ = writeln!(
            out,
            "All peers healthy and bootstrapped {ready:.1} s after `up`.  "
        );
    }
    if !run.ready_stages.is_empty() {
        let _ = writeln!(
            out,
            "Bring-up steps: {}.  ",
            super::ready_stages(&run.ready_stages)
        );
    }
    if let Some(image) = &run.image {
        let _ = writeln!(out, "Image `{image}`.");
    }
    if r.partial {
        let _ = writeln!(
            out,
            "\n> **Partial run:** it ended before its last phase; what follows is every phase it finished."
        );
    }
    let degraded = r.degraded_phases();
    if !degraded.is_empty() {
        let _ = writeln!(
            out,
            "\n> **Degraded phases:** {}: the host, not only the network, shaped their figures (see Fidelity).",
            degraded.join(", ")
        );
    }
    for w in &r.warnings {
        let _ = writeln!(out, "\n> **Warning:** {w}");
    }
    for f in &r.failures {
        let _ = writeln!(out, "\n> **Failure:** {f}");
    }

    shaping(&mut out, r);

    let _ = writeln!(out, "\n## Targets\n");
    let _ = writeln!(
        out,
        "| metric | target | measured | p50 | p95 | p99 | result |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|---|---|");
    for s in &r.sla {
        let f = |v: Option<f64>, unit: &str| {
            v.map_or_else(|| "–".into(), |v| quantity::format(v, unit))
        };
        let phase_unit = r
            .phases
            .iter()
            .find(|p| s.metric.starts_with(&format!("{}.", p.name)))
            .map_or("s", |p| p.unit.as_str());
        let verdict = if s.pass {
            "pass".to_owned()
        } else {
            format!(
                "**FAIL**{}",
                s.note
                    .as_deref()
                    .map(|n| format!(" ({n})"))
                    .unwrap_or_default()
            )
        };
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | {} | {} | {} | {} |",
            s.metric,
            s.target,
            f(s.measured, &s.unit),
            f(s.p50, phase_unit),
            f(s.p95, phase_unit),
            f(s.p99, phase_unit),
            verdict
        );
    }

    let _ = writeln!(out, "\n## Phases\n");
    let _ = writeln!(
        out,
        "| phase | n | errors | p50 | p95 | p99 | max | mean | p50 / p95 in RTTs | throughput | fidelity | other |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|---|---|---|---|---|---|---|");
    for p in &r.phases {
        let f = |v: Option<f64>| v.map_or_else(|| "–".into(), |v| quantity::format(v, &p.unit));
        let extra: Vec<String> = p.extra.iter().map(|(k, v)| format!("{k}={v:.3}")).collect();
        let rtts = match p.in_rtts {
            Some(RoundTrips {
                p50: Some(a),
                p95: Some(b),
                ..
            }) => format!("{a:.1} / {b:.1}"),
            _ => "–".into(),
        };
        let fidelity = match &p.fidelity {
            Some(f) if f.verdict == Verdict::Degraded => "**degraded**",
            Some(_) => "ok",
            None => "–",
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {rtts} | {} | {fidelity} | {} |",
            p.name,
            p.summary.count,
            p.errors,
            f(p.summary.p50),
            f(p.summary.p95),
            f(p.summary.p99),
            f(p.summary.max),
            f(p.summary.mean),
            p.throughput_per_s
                .map_or_else(|| "–".into(), |t| format!("{t:.1}/s")),
            extra.join(", ")
        );
    }
    let errors: Vec<String> = r
        .phases
        .iter()
        .flat_map(|p| {
            p.error_examples
                .iter()
                .map(move |e| format!("- `{}`: {e}", p.name))
        })
        .collect();
    if !errors.is_empty() {
        let _ = writeln!(out, "\n### Error examples\n\n{}", errors.join("\n"));
    }
    fidelity(&mut out, r);

    if !r.resources.is_empty() {
        let rss: Vec<f64> = r
            .resources
            .iter()
            .filter_map(|x| x.rss_bytes)
            .map(|b| b as f64)
            .collect();
        let total: f64 = rss.iter().sum();
        let _ = writeln!(
            out,
            "\n## Resources\n\n{} peers, resident memory {} in all, {} per peer on average.\n",
            r.resources.len(),
            quantity::format(total, "B"),
            quantity::format(total / rss.len().max(1) as f64, "B")
        );
    }
    let _ = writeln!(
        out,
        "\n## Plots\n\n![latency CDF](plots/latency_cdf.png)\n![gossip propagation](plots/gossip_propagation.png)\n![memory per peer](plots/memory_per_peer.png)\n![bootstrap times](plots/bootstrap_times.png)"
    );
    out
}

/// The phases whose figures the host shaped, in words, and what every phase ran with.
fn fidelity(out: &mut String, r: &RunResults) {
    // Reports of one phase (gossip and gossip_network_wide) share its window.
    let mut seen = Vec::new();
    let windows: Vec<(&str, &crate::fidelity::PhaseFidelity)> = r
        .phases
        .iter()
        .filter_map(|p| Some((p.name.as_str(), p.fidelity.as_ref()?)))
        .filter(|(_, f)| {
            let new = !seen.contains(f);
            if new {
                seen.push(*f);
            }
            new
        })
        .collect();
    if windows.is_empty() {
        return;
    }
    let _ = writeln!(out, "\n## Fidelity\n");
    let degraded: Vec<String> = windows
        .iter()
        .flat_map(|(name, f)| {
            f.reasons
                .iter()
                .map(move |why| format!("- **{name}** {why}."))
        })
        .collect();
    if degraded.is_empty() {
        let _ = writeln!(
            out,
            "Every phase ran on a host with CPU to spare and a punctual delay line: the figures are the network's.\n"
        );
    } else {
        let _ = writeln!(out, "{}\n", degraded.join("\n"));
    }
    let _ = writeln!(
        out,
        "| phase | verdict | host CPU busy | CPU pressure | throttled | delay line packets | late (> 1 ms) | failed scrapes |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|---|---|---|");
    let pct = |v: Option<f64>| v.map_or_else(|| "–".into(), |v| format!("{:.0}%", v * 100.0));
    let count = |v: Option<u64>| v.map_or_else(|| "–".into(), |v| v.to_string());
    for (name, f) in windows {
        let verdict = match f.verdict {
            Verdict::Ok => "ok",
            Verdict::Degraded => "**degraded**",
        };
        let _ = writeln!(
            out,
            "| {name} | {verdict} | {} | {} | {} | {} | {} | {} |",
            pct(f.host_cpu_busy),
            pct(f.cpu_pressure),
            pct(f.throttled_share),
            count(f.delay_line_packets),
            count(f.late_packets),
            f.failed_scrapes
        );
    }
}

/// Configured against measured round trips of the sampled pairs, and the delay line.
fn shaping(out: &mut String, r: &RunResults) {
    let sh = &r.shaping;
    if sh.backend == "none" && sh.pairs.is_empty() {
        return;
    }
    let verdict = match sh.verified {
        Some(true) => "every sampled pair within the range its configuration predicts",
        Some(false) => "**some pairs are off: the run failed**",
        None => "not checked",
    };
    let _ = writeln!(out, "\n## Link shaping\n");
    let _ = writeln!(
        out,
        "Backend `{}`: {}. Verification: {verdict}.\n",
        sh.backend, sh.reason
    );
    if !sh.pairs.is_empty() {
        let _ = writeln!(
            out,
            "| from | to | regions | configured RTT | expected median | measured median | ok |"
        );
        let _ = writeln!(out, "|---|---|---|---|---|---|---|");
        for p in &sh.pairs {
            let measured = p.measured_rtt_ms.map_or_else(
                || format!("– ({})", p.error.as_deref().unwrap_or("no sample")),
                |m| format!("{m:.2} ms"),
            );
            let expected = p.expected_rtt_ms.map_or_else(
                || "–".to_owned(),
                |e| format!("{e:.2} ± {:.2} ms", p.tolerance_ms),
            );
            let _ = writeln!(
                out,
                "| {} | {} | {} → {} | {:.2} ms | {expected} | {measured} | {} |",
                p.from,
                p.to,
                p.from_region,
                p.to_region,
                p.configured_rtt_ms,
                if p.ok { "yes" } else { "**no**" }
            );
        }
    }
    if !sh.pairs.is_empty() {
        let _ = writeln!(out, "\n![link round trips](plots/link_rtt.png)");
    }
    if let Some(d) = &sh.delay_line {
        let ms = |v: Option<f64>| v.map_or_else(|| "–".to_owned(), |v| format!("{v:.3} ms"));
        let _ = writeln!(
            out,
            "\nDelay line (queue {}): {} packets, {} released, {} lost, {} over the queue limit; lateness p50 {}, p99 {}, max {}.",
            d.queue_num,
            d.packets,
            d.released,
            d.lost,
            d.overflowed,
            ms(d.lateness_p50_ms),
            ms(d.lateness_p99_ms),
            ms(d.lateness_max_ms)
        );
    }
}
