//! Bring-up: start the peers, wait until each answers, shape the links and check the shaping,
//! then bootstrap the network. A failure is recorded and the runtime handed back, so that it
//! can be torn down whatever happened.

use std::collections::HashSet;
use std::time::Duration;

use indicatif::MultiProgress;
use netem::Backend;
use p2p_api::error::chain;
use p2p_api::ApiClient;
use rand::SeedableRng;

use super::stages::Stages;
use super::{progress, prometheus, Collected, RunPlan, UpOptions};
use crate::fidelity::Window;
use crate::phases::bootstrap;
use crate::runtime::Runtime;
use crate::shaping::mean_configured_rtt;
use crate::testbed::{reported_address, wait_healthy, Peer, Testbed, HEALTH_DEADLINE};
use crate::{report, shaping};

/// The longest a single API call of the run may take.
const CALL_TIMEOUT: Duration = Duration::from_secs(120);

pub(super) async fn bring_up(
    runtime: Runtime,
    options: &UpOptions,
    plan: &RunPlan,
    progress: &MultiProgress,
    collected: &mut Collected,
) -> Result<Testbed, Runtime> {
    let mut stages = Stages::since(plan.started);
    let up = timed_bring_up(runtime, options, plan, progress, collected, &mut stages).await;
    collected.ready_stages = stages.into_done();
    if let (Ok(testbed), Some(ready)) = (&up, collected.ready_s) {
        eprintln!(
            "bootstrap: {} peers ready in {ready:.1} s ({})",
            testbed.peers.len(),
            report::ready_stages(&collected.ready_stages)
        );
    }
    up
}

/// [`bring_up`], marking each step as it ends.
async fn timed_bring_up(
    mut runtime: Runtime,
    options: &UpOptions,
    plan: &RunPlan,
    progress: &MultiProgress,
    collected: &mut Collected,
    stages: &mut Stages,
) -> Result<Testbed, Runtime> {
    let peers = match start_peers(&mut runtime, options, plan, progress, stages).await {
        Ok(peers) => peers,
        Err(failures) => {
            collected.failures.extend(failures);
            return Err(runtime);
        }
    };
    let mut testbed = Testbed {
        runtime,
        peers,
        bootstrap_peers: Vec::new(),
        published: Vec::new(),
        stopped: HashSet::new(),
        rng: rand::rngs::StdRng::seed_from_u64(options.seed),
        shaping: None,
        transport: plan.node.transport,
        cpu: Default::default(),
        progress: indicatif::ProgressBar::hidden(),
    };
    if let Err(failure) =
        shape_links(&mut testbed, options, plan, progress, collected, stages).await
    {
        collected.failures.push(failure);
        return Err(testbed.into_runtime());
    }
    if let Err(e) = report::write_prometheus_targets(&plan.dir, &testbed) {
        eprintln!("warning: writing Prometheus targets: {}", chain(&e));
    }
    if let Some(url) = &options.prometheus {
        let spin = progress::spinner(progress, "waiting for Prometheus to scrape every peer");
        match prometheus::wait_for_scrapes(url, &testbed).await {
            Ok(()) => eprintln!("prometheus: scraping all {} peers", testbed.peers.len()),
            Err(e) => eprintln!("prometheus: {e}; going on without it"),
        }
        spin.finish_and_clear();
        stages.mark("prometheus");
    }

    testbed.progress = progress::counter(progress, testbed.peers.len() as u64);
    testbed.progress.set_message("bootstrap: peers joined");
    let window = Window::open(&testbed);
    let joined = bootstrap::run(&mut testbed, options.scenario.topology).await;
    let fidelity = window.close(&testbed, 0);
    testbed.progress.finish_and_clear();
    stages.mark("bootstrap");
    match joined {
        Ok(mut report) => {
            report.fidelity = Some(fidelity.clone());
            report.set_round_trips(mean_configured_rtt(&testbed));
            report::warn_degraded("bootstrap", &fidelity);
            collected.ready_s = Some(plan.started.elapsed().as_secs_f64());
            collected.phases.push(report);
            Ok(testbed)
        }
        Err(e) => {
            collected.failures.push(format!("bootstrap: {}", chain(&e)));
            Err(testbed.into_runtime())
        }
    }
}

/// Launches every peer and waits until each answers `/health`.
async fn start_peers(
    runtime: &mut Runtime,
    options: &UpOptions,
    plan: &RunPlan,
    progress: &MultiProgress,
    stages: &mut Stages,
) -> Result<Vec<Peer>, Vec<String>> {
    let count = options.scenario.peers;
    let bar = progress::counter(progress, count as u64);
    let slots = match runtime
        .launch(count, &plan.binary, plan.node.clone(), &bar)
        .await
    {
        Ok(slots) => slots,
        Err(e) => {
            bar.finish_and_clear();
            return Err(vec![format!("launching peers: {}", chain(&e))]);
        }
    };
    stages.mark("launch");
    bar.set_message("waiting for every /health");
    bar.set_position(0);
    let http = p2p_api::client::http_client(CALL_TIMEOUT)
        .map_err(|e| vec![format!("HTTP client: {}", chain(&e))])?;
    let learns = runtime.learns_addresses();
    let healthy = futures::future::join_all(slots.iter().map(|slot| {
        let api = ApiClient::with_http(&slot.api_url(), plan.node.api_token.clone(), http.clone());
        let bar = &bar;
        async move {
            let peer_id = wait_healthy(&api, HEALTH_DEADLINE)
                .await
                .map_err(|e| format!("{} never became healthy: {}", slot.name, chain(&e)));
            bar.inc(1);
            let peer_id = peer_id?;
            let mut slot = slot.clone();
            if let Some(subnet) = learns {
                slot.ip = reported_address(&api, subnet)
                    .await
                    .map_err(|e| format!("{}: {e}", slot.name))?;
            }
            Ok::<_, String>(Peer {
                addr: format!(
                    "{}/p2p/{peer_id}",
                    plan.node.transport.multiaddr(slot.p2p_socket())
                ),
                slot,
                api,
                peer_id,
            })
        }
    }))
    .await;
    bar.finish_and_clear();
    stages.mark("health");
    let mut peers = Vec::with_capacity(healthy.len());
    let mut failures = Vec::new();
    for peer in healthy {
        match peer {
            Ok(p) => peers.push(p),
            Err(e) => failures.push(e),
        }
    }
    if failures.is_empty() {
        Ok(peers)
    } else {
        Err(failures)
    }
}

/// Applies the link shaping and checks that it took effect.
async fn shape_links(
    testbed: &mut Testbed,
    options: &UpOptions,
    plan: &RunPlan,
    progress: &MultiProgress,
    collected: &mut Collected,
    stages: &mut Stages,
) -> Result<(), String> {
    let spin = progress::spinner(progress, "shaping links");
    let applied = shaping::apply(
        testbed,
        &plan.id,
        &plan.selection,
        options.scenario.link.profile.clone(),
        options.seed,
    )
    .await;
    spin.finish_and_clear();
    stages.mark("shaping");
    testbed.shaping = Some(applied.map_err(|e| format!("link shaping: {}", chain(&e)))?);
    if plan.selection.backend == Backend::None {
        return Ok(());
    }
    let spin = progress::spinner(progress, "verifying link latency");
    collected.shaping = shaping::verify(testbed).await;
    spin.finish_and_clear();
    stages.mark("verification");
    let ok = collected.shaping.pairs.iter().filter(|p| p.ok).count();
    eprintln!(
        "shaping verified on {ok}/{} pairs (median round trip within the range the configuration predicts)",
        collected.shaping.pairs.len()
    );
    if collected.shaping.verified != Some(true) {
        return Err(format!(
            "link shaping did not take effect as configured: {}",
            shaping::failed_pairs(&collected.shaping)
        ));
    }
    Ok(())
}
