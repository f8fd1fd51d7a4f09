use std::fmt::Write;

use crate::quantity;
use crate::results::RunResults;

/// One test case per target, plus one per run failure.
pub(super) fn report(r: &RunResults) -> String {
    let failed = r.sla.iter().filter(|s| !s.pass).count() + r.failures.len();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuite name=\"p2p-testbed {}\" tests=\"{}\" failures=\"{failed}\">",
        escape(&r.run.scenario),
        r.sla.len() + r.failures.len()
    );
    for s in &r.sla {
        let _ = write!(
            out,
            "  <testcase classname=\"targets\" name=\"{} {}\"",
            escape(&s.metric),
            escape(&s.target)
        );
        if s.pass {
            let _ = writeln!(out, "/>");
        } else {
            let measured = s
                .measured
                .map_or_else(|| "not measured".into(), |v| quantity::format(v, &s.unit));
            let _ = writeln!(
                out,
                ">\n    <failure message=\"measured {}\">{}</failure>\n  </testcase>",
                escape(&measured),
                escape(s.note.as_deref().unwrap_or(""))
            );
        }
    }
    for f in &r.failures {
        let _ = writeln!(
            out,
            "  <testcase classname=\"run\" name=\"run completes\">\n    <failure message=\"{}\"/>\n  </testcase>",
            escape(f)
        );
    }
    out.push_str("</testsuite>\n");
    out
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
