//! Who owns each package name, as this node knows it (docs/SECURITY.md): a name belongs to
//! the key of the first valid manifest of it the node saw — its own store first, then the
//! network. A manifest of the name signed by another key is refused wherever it enters
//! (publish, gossip, DHT records, search answers, install) and counted.
//!
//! The names of packages stored here are kept for good. Names learned from the network are
//! kept for the most recent [`MAX_REMOTE_NAMES`], the oldest forgotten first.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use libp2p::PeerId;

/// Names learned from the network that the node remembers the owner of.
pub const MAX_REMOTE_NAMES: usize = 16_384;

/// A manifest for a name that another key owns (peer ids in base58).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("package name {name:?} belongs to {owner}, not to {claimant}")]
pub struct NameTaken {
    pub name: String,
    pub owner: String,
    pub claimant: String,
}

impl NameTaken {
    fn new(name: &str, owner: PeerId, claimant: PeerId) -> Self {
        Self {
            name: name.to_owned(),
            owner: owner.to_base58(),
            claimant: claimant.to_base58(),
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Pin {
    owner: PeerId,
    /// Pinned by a package stored here: never forgotten.
    local: bool,
}

#[derive(Debug, Default)]
struct Pins {
    by_name: HashMap<String, Pin>,
    /// Names pinned from the network, oldest first (a name later stored here stays listed
    /// and is skipped when its turn to be forgotten comes).
    remote_order: VecDeque<String>,
    remote: usize,
}

#[derive(Debug)]
pub struct Owners {
    pins: Mutex<Pins>,
    max_remote: usize,
}

impl Default for Owners {
    fn default() -> Self {
        Self::with_capacity(MAX_REMOTE_NAMES)
    }
}

impl Owners {
    /// A registry that remembers at most `max_remote` names learned from the network.
    pub fn with_capacity(max_remote: usize) -> Self {
        Self {
            pins: Mutex::new(Pins::default()),
            max_remote,
        }
    }

    /// The owner of `name`, if known.
    pub fn owner(&self, name: &str) -> Option<PeerId> {
        self.lock().by_name.get(name).map(|p| p.owner)
    }

    /// Checks that `claimant` may use `name`, without claiming it.
    pub fn check(&self, name: &str, claimant: PeerId) -> Result<(), NameTaken> {
        match self.lock().by_name.get(name) {
            Some(pin) if pin.owner != claimant => Err(NameTaken::new(name, pin.owner, claimant)),
            _ => Ok(()),
        }
    }

    /// Records that `claimant` owns `name` unless another key does; `local` when a package of
    /// the name is stored here.
    pub fn claim(&self, name: &str, claimant: PeerId, local: bool) -> Result<(), NameTaken> {
        let mut pins = self.lock();
        if let Some(pin) = pins.by_name.get_mut(name) {
            if pin.owner != claimant {
                return Err(NameTaken::new(name, pin.owner, claimant));
            }
            if local && !pin.local {
                pin.local = true;
                pins.remote -= 1;
            }
            return Ok(());
        }
        pins.by_name.insert(
            name.to_owned(),
            Pin {
                owner: claimant,
                local,
            },
        );
        if !local {
            pins.remote += 1;
            pins.remote_order.push_back(name.to_owned());
            while pins.remote > self.max_remote {
                let Some(oldest) = pins.remote_order.pop_front() else {
                    break;
                };
                if pins.by_name.get(&oldest).is_some_and(|p| !p.local) {
                    pins.by_name.remove(&oldest);
                    pins.remote -= 1;
                }
            }
        }
        Ok(())
    }

    /// Names whose owner is known.
    pub fn len(&self) -> usize {
        self.lock().by_name.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Pins> {
        // A panic while holding the lock cannot leave the map half-changed in a way that
        // matters: every change above is a single insert or remove.
        self.pins.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_key_keeps_the_name() {
        let owners = Owners::default();
        let (a, b) = (PeerId::random(), PeerId::random());
        owners.claim("pkg", a, false).unwrap();
        owners.claim("pkg", a, false).unwrap();
        let taken = owners.claim("pkg", b, false).unwrap_err();
        assert_eq!(
            (taken.owner, taken.claimant),
            (a.to_base58(), b.to_base58())
        );
        assert!(owners.check("pkg", b).is_err());
        assert!(owners.check("pkg", a).is_ok() && owners.check("other", b).is_ok());
        assert_eq!(owners.owner("pkg"), Some(a));
    }

    #[test]
    fn remote_names_are_bounded_and_local_ones_are_kept() {
        let owners = Owners::with_capacity(3);
        let me = PeerId::random();
        owners.claim("mine", me, true).unwrap();
        owners.claim("r0", PeerId::random(), false).unwrap();
        // Stored here later: kept for good, though it was learned from the network first.
        owners
            .claim("r0", owners.owner("r0").unwrap(), true)
            .unwrap();
        for i in 1..100 {
            owners
                .claim(&format!("r{i}"), PeerId::random(), false)
                .unwrap();
        }
        assert_eq!(owners.len(), 2 + 3);
        assert_eq!(owners.owner("mine"), Some(me));
        assert!(owners.owner("r0").is_some());
        assert!(owners.owner("r1").is_none() && owners.owner("r99").is_some());
    }
}
