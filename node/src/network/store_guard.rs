//! Guards what other peers store at this node: every record must pass the [`RecordPolicy`],
//! and the store stays within bounds — at most so many value records in all and per owner,
//! and provider records for at most so many keys in all and per provider. The kad
//! `MemoryStore` enforces the totals; the guard keeps the per-owner and per-provider shares,
//! which it cannot see.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use libp2p::kad::store::{MemoryStore, RecordStore};
use libp2p::kad::{ProviderRecord, Record, RecordKey};
use libp2p::PeerId;

use super::record_policy::{RecordPolicy, Refusal};

/// Bounds of the DHT store.
///
/// Defaults: 4096 value records of at most 8 KiB (a signed manifest at its limits is about
/// 6 KiB), 256 of them per owner; provider records for 4096 content keys, 20 providers per
/// key, 1024 keys per provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoreLimits {
    pub max_records: usize,
    pub max_records_per_owner: usize,
    pub max_record_bytes: usize,
    pub max_provider_keys: usize,
    pub max_providers_per_key: usize,
    pub max_provider_keys_per_peer: usize,
}

impl Default for StoreLimits {
    fn default() -> Self {
        Self {
            max_records: 4096,
            max_records_per_owner: 256,
            max_record_bytes: 8 * 1024,
            max_provider_keys: 4096,
            max_providers_per_key: 20,
            max_provider_keys_per_peer: 1024,
        }
    }
}

#[derive(Debug)]
pub(super) struct StoreGuard {
    policy: Arc<dyn RecordPolicy>,
    limits: StoreLimits,
    owner_of: HashMap<RecordKey, PeerId>,
    records_per_owner: HashMap<PeerId, usize>,
    keys_per_provider: HashMap<PeerId, HashSet<RecordKey>>,
}

impl StoreGuard {
    pub(super) fn new(policy: Arc<dyn RecordPolicy>, limits: StoreLimits) -> Self {
        Self {
            policy,
            limits,
            owner_of: HashMap::new(),
            records_per_owner: HashMap::new(),
            keys_per_provider: HashMap::new(),
        }
    }

    /// Whether a record a lookup found is one to take.
    pub(super) fn check_found(&self, record: &Record) -> Result<(), Refusal> {
        self.policy.check_record(record).map(drop)
    }

    /// Stores a record a peer sent, if the policy accepts it and its owner's share is not
    /// used up.
    pub(super) fn put(&mut self, store: &mut MemoryStore, record: Record) -> Result<(), Refusal> {
        if record.value.len() > self.limits.max_record_bytes {
            return Err(Refusal::Invalid);
        }
        let owner = self.policy.check_record(&record)?;
        let previous = self.owner_of.get(&record.key).copied();
        if let Some(old) = store.get(&record.key) {
            if !self.policy.replaces(&record, &old) {
                return Err(Refusal::Conflict);
            }
        }
        if previous != Some(owner)
            && self.records_per_owner.get(&owner).copied().unwrap_or(0)
                >= self.limits.max_records_per_owner
        {
            return Err(Refusal::Limit);
        }
        let key = record.key.clone();
        store.put(record).map_err(|_| Refusal::Limit)?;
        if let Some(old_owner) = previous {
            self.forget_owner(old_owner);
        }
        self.owner_of.insert(key, owner);
        *self.records_per_owner.entry(owner).or_default() += 1;
        Ok(())
    }

    /// Adds a provider record a peer sent, if its key is one and the provider's share is not
    /// used up.
    pub(super) fn add_provider(
        &mut self,
        store: &mut MemoryStore,
        record: ProviderRecord,
    ) -> Result<(), Refusal> {
        if !self.policy.check_provider_key(record.key.as_ref()) {
            return Err(Refusal::Invalid);
        }
        let provider = record.provider;
        let keys = self.keys_per_provider.entry(provider).or_default();
        let new_key = !keys.contains(&record.key);
        if new_key && keys.len() >= self.limits.max_provider_keys_per_peer {
            return Err(Refusal::Limit);
        }
        let key = record.key.clone();
        store.add_provider(record).map_err(|_| Refusal::Limit)?;
        if new_key {
            keys.insert(key);
        }
        Ok(())
    }

    /// Drops the accounting of records and provider records the store no longer holds (they
    /// expired), so that shares free up.
    pub(super) fn reconcile(&mut self, store: &mut MemoryStore) {
        let gone: Vec<RecordKey> = self
            .owner_of
            .keys()
            .filter(|k| store.get(k).is_none())
            .cloned()
            .collect();
        for key in gone {
            if let Some(owner) = self.owner_of.remove(&key) {
                self.forget_owner(owner);
            }
        }
        self.keys_per_provider.retain(|provider, keys| {
            keys.retain(|k| store.providers(k).iter().any(|p| p.provider == *provider));
            !keys.is_empty()
        });
    }

    fn forget_owner(&mut self, owner: PeerId) {
        if let Some(count) = self.records_per_owner.get_mut(&owner) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                self.records_per_owner.remove(&owner);
            }
        }
    }

    /// Value records accounted to other peers' owners.
    #[cfg(test)]
    fn records(&self) -> usize {
        self.owner_of.len()
    }

    /// Content keys other peers announced themselves as providers of.
    pub(super) fn provider_keys(&self) -> usize {
        let keys: HashSet<&RecordKey> = self.keys_per_provider.values().flatten().collect();
        keys.len()
    }
}

#[cfg(test)]
mod tests {
    use libp2p::kad::store::MemoryStoreConfig;

    use super::*;

    /// Accepts a record whose value is `<owner peer id>:<anything>`, owned by that peer; a
    /// value ending in `:stale` does not replace another; provider keys starting with `bad`
    /// are refused.
    #[derive(Debug)]
    struct Lenient;

    impl RecordPolicy for Lenient {
        fn check_record(&self, record: &Record) -> Result<PeerId, Refusal> {
            std::str::from_utf8(&record.value)
                .ok()
                .and_then(|v| v.split(':').next()?.parse().ok())
                .ok_or(Refusal::Invalid)
        }

        fn replaces(&self, new: &Record, _old: &Record) -> bool {
            !new.value.ends_with(b":stale")
        }

        fn check_provider_key(&self, key: &[u8]) -> bool {
            !key.starts_with(b"bad")
        }
    }

    fn store(limits: StoreLimits) -> MemoryStore {
        MemoryStore::with_config(
            PeerId::random(),
            MemoryStoreConfig {
                max_records: limits.max_records,
                max_value_bytes: limits.max_record_bytes,
                max_provided_keys: limits.max_provider_keys,
                max_providers_per_key: limits.max_providers_per_key,
            },
        )
    }

    fn guard(limits: StoreLimits) -> StoreGuard {
        StoreGuard::new(Arc::new(Lenient), limits)
    }

    fn record(key: &str, owner: PeerId, tail: &str) -> Record {
        Record::new(RecordKey::new(&key), format!("{owner}:{tail}").into_bytes())
    }

    #[test]
    fn every_owner_gets_its_share_and_no_more() {
        let limits = StoreLimits {
            max_records: 10,
            max_records_per_owner: 2,
            ..StoreLimits::default()
        };
        let (mut s, mut g) = (store(limits), guard(limits));
        let (a, b) = (PeerId::random(), PeerId::random());
        assert_eq!(g.put(&mut s, record("1", a, "x")), Ok(()));
        assert_eq!(g.put(&mut s, record("2", a, "x")), Ok(()));
        assert_eq!(g.put(&mut s, record("3", a, "x")), Err(Refusal::Limit));
        // Replacing its own record does not take more of the owner's share.
        assert_eq!(g.put(&mut s, record("2", a, "y")), Ok(()));
        assert_eq!(g.put(&mut s, record("3", b, "x")), Ok(()));
        assert_eq!(g.records(), 3);
        // A record the policy does not let replace the stored one is refused.
        assert_eq!(
            g.put(&mut s, record("3", b, "stale")),
            Err(Refusal::Conflict)
        );
        assert!(s.get(&RecordKey::new(&"3")).unwrap().value.ends_with(b":x"));
        let big = "x".repeat(limits.max_record_bytes);
        assert_eq!(g.put(&mut s, record("4", b, &big)), Err(Refusal::Invalid));
        let garbage = Record::new(RecordKey::new(&"5"), b"\xff".to_vec());
        assert_eq!(g.put(&mut s, garbage), Err(Refusal::Invalid));
    }

    #[test]
    fn the_total_caps_hold_and_expired_entries_free_their_share() {
        let limits = StoreLimits {
            max_records: 2,
            max_provider_keys: 2,
            max_provider_keys_per_peer: 1,
            ..StoreLimits::default()
        };
        let (mut s, mut g) = (store(limits), guard(limits));
        for i in 0..2 {
            g.put(&mut s, record(&i.to_string(), PeerId::random(), "x"))
                .unwrap();
        }
        assert_eq!(
            g.put(&mut s, record("9", PeerId::random(), "x")),
            Err(Refusal::Limit)
        );
        let p = PeerId::random();
        let provider = |key: &str| ProviderRecord::new(RecordKey::new(&key), p, Vec::new());
        assert_eq!(g.add_provider(&mut s, provider("a")), Ok(()));
        assert_eq!(g.add_provider(&mut s, provider("a")), Ok(()));
        assert_eq!(g.add_provider(&mut s, provider("b")), Err(Refusal::Limit));
        assert_eq!(
            g.add_provider(&mut s, provider("bad")),
            Err(Refusal::Invalid)
        );
        s.remove_provider(&RecordKey::new(&"a"), &p);
        s.remove(&RecordKey::new(&"0"));
        g.reconcile(&mut s);
        assert_eq!(g.records(), 1);
        assert_eq!(g.add_provider(&mut s, provider("b")), Ok(()));
        assert_eq!(g.provider_keys(), 1);
    }
}
