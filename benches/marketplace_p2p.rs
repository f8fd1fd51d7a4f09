//! `cargo bench --bench marketplace_p2p [-- FILTER]`: the marketplace over real libp2p swarms.
//!
//! Every figure comes from real nodes exchanging real messages in this process: libp2p's
//! memory transport for large networks (a thousand TCP nodes would exhaust the process's
//! file descriptors), TCP on loopback up to 50 nodes. Networks are built and bootstrapped
//! outside the measurement, and only for the cases the filter selects; `-- --list` lists the
//! cases without building anything. Criterion's `[a b c]` is a confidence interval of the
//! mean; the p50/p95/p99 lines printed after each case come from the raw samples. The groups
//! live in `p2p_benches::groups`, one module each.
//!
//! `P2P_BENCH_QUICK=1` shrinks sizes and samples (CI). `P2P_BENCH_INJECT_REGRESSION=1.3`
//! makes `local_cache_hit` do 30% more real work, to prove regression detection.

use std::time::Duration;

use criterion::Criterion;
use p2p_benches::groups::{self, Suite};
use p2p_benches::report;
use p2p_benches::scratch::Scratch;
use p2p_benches::selection::Selection;
use p2p_benches::sizes::{quick, Sizes};

/// Criterion draws its HTML report with plotters, which has no system fonts in a static
/// build: give it the font the orchestrator embeds.
fn register_font() {
    const FONT: &[u8] = include_bytes!("../orchestrator/assets/DejaVuSans.ttf");
    use plotters::style::FontStyle;
    for style in [
        FontStyle::Normal,
        FontStyle::Bold,
        FontStyle::Italic,
        FontStyle::Oblique,
    ] {
        if plotters::style::register_font("sans-serif", style, FONT).is_err() {
            eprintln!("the embedded font did not load; Criterion's plots may fail");
        }
    }
}

fn main() {
    let sizes = Sizes::for_this_run();
    let selection = Selection::from_env();
    if selection.listing() {
        selection.list(groups::ids(&sizes));
        return;
    }
    register_font();
    let base = if quick() {
        Criterion::default()
            .sample_size(10)
            .warm_up_time(Duration::from_millis(300))
            .measurement_time(Duration::from_secs(2))
    } else {
        Criterion::default()
            .sample_size(20)
            .warm_up_time(Duration::from_secs(1))
            .measurement_time(Duration::from_secs(8))
    };
    let mut c = base.configure_from_args();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let scratch = Scratch::install(&rt).expect("a scratch directory for the nodes");
    groups::run_all(&mut Suite {
        c: &mut c,
        rt: &rt,
        sizes: &sizes,
        selection: &selection,
    });
    c.final_summary();
    let passed = report::finish();
    drop(scratch);
    if !passed {
        std::process::exit(1);
    }
}
