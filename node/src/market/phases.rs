//! Benchmark phases the orchestrator drives over HTTP. Each runs real operations against
//! the network and returns one raw sample per operation, so percentiles are exact.

use std::future::Future;
use std::time::{Duration, Instant};

use futures::StreamExt;

use p2p_api::limits::{
    DEFAULT_SEARCH_LIMIT, MAX_PHASE_CONCURRENCY, MAX_PHASE_OPERATIONS, MAX_PROBE_PADDING,
};
use p2p_api::{DhtLookupBench, GossipBench, GossipPublished, PhaseResult, Scope, SearchBench};

use super::{unix_nanos, Marketplace};
use crate::network::protocol::GossipMessage;
use p2p_api::error::chain;

/// The outcome of one timed operation: its extra figure (Kademlia requests) or an error.
type Timed = (Duration, Result<Option<u32>, String>);

impl Marketplace {
    pub async fn dht_lookup_phase(&self, phase: DhtLookupBench) -> PhaseResult {
        run_bounded(phase.keys, phase.concurrency, |name| async move {
            self.lookup(&name, None)
                .await
                .map(|found| Some(found.kad_requests))
                .map_err(|e| chain(&e))
        })
        .await
    }

    pub async fn search_phase(&self, phase: SearchBench) -> PhaseResult {
        let limit = phase.limit.unwrap_or(DEFAULT_SEARCH_LIMIT);
        let deadline = phase
            .timeout_ms
            .map_or(self.deadlines.network_search, Duration::from_millis);
        run_bounded(phase.queries, phase.concurrency, |query| async move {
            match phase.scope {
                Scope::Local => {
                    self.search_local(&query, limit);
                    Ok(None)
                }
                Scope::Network => self
                    .search_network(&query, limit, deadline)
                    .await
                    .map(|_| None)
                    .map_err(|e| chain(&e)),
            }
        })
        .await
    }

    /// Publishes `count` probes, `interval_ms` apart. Receivers log them; the orchestrator
    /// collects the receipts from every node's `/bench/gossip/received`.
    pub async fn gossip_phase(&self, phase: GossipBench) -> GossipPublished {
        let started = Instant::now();
        let padding = "x".repeat(phase.payload_bytes.min(MAX_PROBE_PADDING));
        let origin = self.peer_id().to_base58();
        let mut result = PhaseResult::default();
        let mut ids = Vec::with_capacity(phase.count);
        for i in 0..phase.count.min(MAX_PHASE_OPERATIONS) {
            if i > 0 && phase.interval_ms > 0 {
                tokio::time::sleep(Duration::from_millis(phase.interval_ms)).await;
            }
            let id: u64 = rand::random();
            let message = GossipMessage::Probe {
                origin: origin.clone(),
                id,
                sent_unix_nanos: unix_nanos(),
                padding: padding.clone(),
            };
            let data = serde_json::to_vec(&message).expect("a probe serializes to JSON");
            let sent = Instant::now();
            match self.network.gossip(data, self.deadlines.request).await {
                Ok(()) => {
                    result.samples.push(sent.elapsed().as_secs_f64());
                    ids.push(format!("{origin}/{id}"));
                }
                Err(e) => result.errors.push(chain(&e)),
            }
        }
        result.wall_s = started.elapsed().as_secs_f64();
        GossipPublished { ids, result }
    }
}

/// Runs `op` over `items` with at most `concurrency` in flight and times each one.
async fn run_bounded<T, F, Fut>(items: Vec<T>, concurrency: usize, op: F) -> PhaseResult
where
    F: Fn(T) -> Fut,
    Fut: Future<Output = Result<Option<u32>, String>>,
{
    let started = Instant::now();
    let concurrency = concurrency.clamp(1, MAX_PHASE_CONCURRENCY);
    let timed: Vec<Timed> = futures::stream::iter(items.into_iter().take(MAX_PHASE_OPERATIONS))
        .map(|item| {
            let fut = op(item);
            async move {
                let t = Instant::now();
                let outcome = fut.await;
                (t.elapsed(), outcome)
            }
        })
        .buffer_unordered(concurrency)
        .collect()
        .await;
    let mut result = PhaseResult::default();
    for (elapsed, outcome) in timed {
        match outcome {
            Ok(extra) => {
                result.samples.push(elapsed.as_secs_f64());
                result.kad_requests.extend(extra);
            }
            Err(e) => result.errors.push(e),
        }
    }
    result.wall_s = started.elapsed().as_secs_f64();
    result
}
