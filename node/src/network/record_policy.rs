//! What the node accepts into its part of the DHT from other peers, and as the answer to its
//! own lookups. The network knows nothing of packages: the marketplace implements the policy
//! (`market::RecordRules`), the network's store guard applies it and keeps the store within
//! its [`StoreLimits`](super::StoreLimits).

use libp2p::kad::Record;
use libp2p::PeerId;

/// Why a record was refused; the label of the rejection metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Malformed, forged, too large, or not what its key names.
    Invalid,
    /// Valid, but for a name another key owns.
    Conflict,
    /// A cap of the store is reached.
    Limit,
}

impl Refusal {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Invalid => "invalid",
            Self::Conflict => "conflict",
            Self::Limit => "limit",
        }
    }
}

pub trait RecordPolicy: Send + Sync + std::fmt::Debug + 'static {
    /// Checks a value record, sent to be stored or found by a lookup; on success, the key
    /// that owns it (its publisher), whose share of the store it counts against.
    fn check_record(&self, record: &Record) -> Result<PeerId, Refusal>;

    /// Whether `new` may replace `old`, both accepted by [`check_record`](Self::check_record)
    /// and stored under the same key (the same owner, and not an older version).
    fn replaces(&self, new: &Record, old: &Record) -> bool;

    /// Checks the key of a provider record a peer announces.
    fn check_provider_key(&self, key: &[u8]) -> bool;
}
