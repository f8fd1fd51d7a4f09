//! Gossip receipts: propagation latency of every message seen on the announce topic.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::SystemTime;

use libp2p::PeerId;

use super::Marketplace;
use crate::network::protocol::GossipMessage;
use crate::package::VerifyManifest;
use p2p_api::GossipSample;

/// Receipts kept for the benchmark endpoint; the oldest go first. A receipt's id is bounded
/// (a peer id and a number, or a name and a version), so the log is too.
pub const GOSSIP_LOG_CAPACITY: usize = 10_000;

#[derive(Debug, Default)]
pub struct GossipLog {
    samples: Mutex<VecDeque<GossipSample>>,
}

impl GossipLog {
    fn record(&self, sample: GossipSample) {
        let mut samples = self.samples.lock().expect("gossip log lock poisoned");
        if samples.len() == GOSSIP_LOG_CAPACITY {
            samples.pop_front();
        }
        samples.push_back(sample);
    }

    pub fn snapshot(&self) -> Vec<GossipSample> {
        let samples = self.samples.lock().expect("gossip log lock poisoned");
        samples.iter().cloned().collect()
    }

    pub fn len(&self) -> usize {
        self.samples.lock().expect("gossip log lock poisoned").len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn clear(&self) {
        self.samples
            .lock()
            .expect("gossip log lock poisoned")
            .clear();
    }
}

impl Marketplace {
    /// Takes in a gossip message `source` passed on; returns whether it is valid (and is to
    /// be forwarded). An announcement is valid when its manifest verifies and its publisher
    /// owns the name; a probe when it names a peer as its origin.
    pub(super) fn on_gossip(&self, source: PeerId, data: &[u8], received_at: SystemTime) -> bool {
        let message: GossipMessage = match serde_json::from_slice(data) {
            Ok(m) => m,
            Err(e) => {
                tracing::debug!(%source, error = %e, "undecodable gossip message");
                self.metrics.rejected("gossip", "invalid");
                return false;
            }
        };
        let received_nanos = received_at
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX));
        // Peers share the host clock in the testbed; a negative latency means they do not.
        let latency_s = received_nanos.saturating_sub(message.sent_unix_nanos()) as f64 / 1e9;
        let id = match &message {
            GossipMessage::Announce { package, .. } => {
                if let Err(e) = package.verify() {
                    tracing::debug!(%source, error = %e, "announcement with an invalid manifest");
                    self.metrics.rejected("gossip", "invalid");
                    return false;
                }
                if self.remember(package.clone(), false, "gossip").is_err() {
                    return false;
                }
                format!("{}@{}", package.manifest.name, package.manifest.version)
            }
            GossipMessage::Probe { origin, id, .. } => {
                if origin.parse::<PeerId>().is_err() {
                    tracing::debug!(%source, "probe without a valid origin");
                    self.metrics.rejected("gossip", "invalid");
                    return false;
                }
                format!("{origin}/{id}")
            }
        };
        self.metrics.gossip_propagation.observe(latency_s);
        self.gossip_log.record(GossipSample {
            id,
            latency_s,
            received_unix_nanos: received_nanos,
        });
        true
    }
}
