//! Storing a record in the DHT without waiting for a lookup.
//!
//! Kademlia's `put_record` first looks up the closest peers to the key (several round trips,
//! each to peers it may have to connect to first) and only then writes. Here the record is
//! stored locally (from where Kademlia republishes it) and written at once, in parallel, to
//! the closest peers the routing table already knows; the put is answered by the first peer
//! that stores it. Whenever the routing table covers the key's neighbourhood, as it does in
//! networks of a few hundred peers, those are the closest peers outright. A lookup runs in
//! the background all the same, and the record is also written to every closer peer it
//! finds that was not written already, so larger networks get the record where lookups look.

use std::collections::{HashMap, HashSet};

use libp2p::kad::store::{MemoryStore, RecordStore};
use libp2p::kad::{self, QueryId, Quorum, Record, RecordKey, K_VALUE};
use libp2p::PeerId;

use super::command::Reply;
use super::error::{cause, NetworkError};

/// The writes of one put: answered by the first success, or by the last failure.
struct Writes {
    reply: Option<Reply<()>>,
    outstanding: usize,
    last_error: Option<NetworkError>,
}

/// Puts in flight.
#[derive(Default)]
pub(super) struct RecordPuts {
    next_put: u64,
    /// A write to one peer, by its query, to the put it belongs to.
    writes: HashMap<QueryId, u64>,
    puts: HashMap<u64, Writes>,
    /// A background lookup of a record's closest peers, with the peers written already.
    lookups: HashMap<QueryId, (Record, HashSet<PeerId>)>,
}

impl RecordPuts {
    /// Stores `value` under `key` here and at the closest known peers; `reply` gets the
    /// first peer's answer.
    pub(super) fn start(
        &mut self,
        kad: &mut kad::Behaviour<MemoryStore>,
        local_peer: PeerId,
        key: &[u8],
        value: Vec<u8>,
        reply: Reply<()>,
    ) {
        let mut record = Record::new(RecordKey::new(&key), value);
        record.publisher = Some(local_peer);
        if let Err(e) = kad.store_mut().put(record.clone()) {
            let _ = reply.send(Err(NetworkError::Kademlia {
                op: "put record",
                source: cause(e),
            }));
            return;
        }
        let target = kad::KBucketKey::new(record.key.clone());
        let closest: Vec<PeerId> = kad
            .get_closest_local_peers(&target)
            .take(K_VALUE.get())
            .map(|key| *key.preimage())
            .collect();
        let lookup = kad.get_closest_peers(record.key.to_vec());
        self.lookups
            .insert(lookup, (record.clone(), closest.iter().copied().collect()));
        if closest.is_empty() {
            // Stored here only; the lookup writes it further if it finds peers.
            let _ = reply.send(Err(NetworkError::NoKnownPeers));
            return;
        }
        let put = self.next_put;
        self.next_put += 1;
        self.puts.insert(
            put,
            Writes {
                reply: Some(reply),
                outstanding: closest.len(),
                last_error: None,
            },
        );
        for peer in closest {
            let write = kad.put_record_to(record.clone(), std::iter::once(peer), Quorum::One);
            self.writes.insert(write, put);
        }
    }

    /// A write finished. Returns false when `id` is not one of these puts' writes.
    pub(super) fn on_write(&mut self, id: QueryId, result: kad::PutRecordResult) -> bool {
        let Some(put) = self.writes.remove(&id) else {
            return false;
        };
        let Some(writes) = self.puts.get_mut(&put) else {
            return true;
        };
        writes.outstanding = writes.outstanding.saturating_sub(1);
        match result {
            Ok(_) => {
                if let Some(reply) = writes.reply.take() {
                    let _ = reply.send(Ok(()));
                }
            }
            Err(e) => {
                writes.last_error = Some(NetworkError::Kademlia {
                    op: "put record",
                    source: cause(e),
                })
            }
        }
        if writes.outstanding == 0 {
            if let Some(writes) = self.puts.remove(&put) {
                if let (Some(reply), Some(error)) = (writes.reply, writes.last_error) {
                    let _ = reply.send(Err(error));
                }
            }
        }
        true
    }

    /// A lookup finished: the record goes to the closest peers it found that were not
    /// written already. Their answers are not waited for. Returns false when `id` is not
    /// one of these puts' lookups.
    pub(super) fn on_closest_peers(
        &mut self,
        kad: &mut kad::Behaviour<MemoryStore>,
        id: QueryId,
        result: kad::GetClosestPeersResult,
    ) -> bool {
        let Some((record, written)) = self.lookups.remove(&id) else {
            return false;
        };
        let found = match result {
            Ok(ok) => ok.peers,
            Err(kad::GetClosestPeersError::Timeout { peers, .. }) => peers,
        };
        for peer in found.into_iter().map(|p| p.peer_id) {
            if !written.contains(&peer) {
                kad.put_record_to(record.clone(), std::iter::once(peer), Quorum::One);
            }
        }
        true
    }
}
