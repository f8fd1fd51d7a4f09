//! Host kernel settings a large Docker run needs: raised for the run, restored after.
//!
//! The kernel's ARP (neighbour) table is shared by every network namespace, and
//! `net.ipv4.neigh.default.gc_thresh3` caps its size for all of them together (1024 by
//! default). Peers that all talk to each other need about one entry per pair in every
//! container, so 50 containers need some 2,500: past the cap, address resolution fails
//! ("neighbor table overflow" in the kernel log) and some peers become unreachable.

use std::path::Path;

use super::InfraError;

const SETTINGS: [&str; 3] = ["gc_thresh1", "gc_thresh2", "gc_thresh3"];
const DIR: &str = "/proc/sys/net/ipv4/neigh/default";

/// The neighbour table settings in force before the run, put back on drop.
#[derive(Debug, Default)]
pub(super) struct NeighbourTable {
    saved: Option<[u64; 3]>,
}

/// Entries `peers` containers need: one per peer in each container, one per container on
/// the host, room for everything else.
pub(super) fn needed_entries(peers: usize) -> u64 {
    (peers as u64 + 1) * (peers as u64 + 1) + 1024
}

/// Raises the neighbour table limits when `peers` containers need more than they allow.
pub(super) fn ensure_neighbour_capacity(peers: usize) -> Result<NeighbourTable, InfraError> {
    let dir = Path::new(DIR);
    let read = |name: &str| -> Option<u64> {
        std::fs::read_to_string(dir.join(name))
            .ok()?
            .trim()
            .parse()
            .ok()
    };
    let (Some(t1), Some(t2), Some(t3)) = (read(SETTINGS[0]), read(SETTINGS[1]), read(SETTINGS[2]))
    else {
        return Ok(NeighbourTable::default());
    };
    let needed = needed_entries(peers);
    if t3 >= needed {
        return Ok(NeighbourTable::default());
    }
    let wanted = [t1.max(needed / 4), t2.max(needed / 2), needed];
    for (name, value) in SETTINGS.iter().zip(wanted) {
        std::fs::write(dir.join(name), value.to_string()).map_err(|e| {
            InfraError::HostSetting(format!(
                "{peers} containers need a neighbour (ARP) table of about {needed} entries, the kernel allows {t3}, \
                 and raising net.ipv4.neigh.default.{name} failed ({e}): run as root, or \
                 `sysctl -w net.ipv4.neigh.default.gc_thresh3={needed}`, or use fewer peers"
            ))
        })?;
    }
    eprintln!(
        "host: raised net.ipv4.neigh.default.gc_thresh1/2/3 from {t1}/{t2}/{t3} to {}/{}/{} for {peers} containers (restored at the end)",
        wanted[0], wanted[1], wanted[2]
    );
    Ok(NeighbourTable {
        saved: Some([t1, t2, t3]),
    })
}

impl NeighbourTable {
    /// Puts the settings back; does nothing the second time.
    pub(super) fn restore(&mut self) -> Option<String> {
        let saved = self.saved.take()?;
        // Lower the hard limit last, so that thresh1 <= thresh2 <= thresh3 holds throughout.
        for (name, value) in SETTINGS.iter().zip(saved) {
            if let Err(e) = std::fs::write(Path::new(DIR).join(name), value.to_string()) {
                return Some(format!(
                    "restoring net.ipv4.neigh.default.{name} to {value}: {e}"
                ));
            }
        }
        None
    }
}

impl Drop for NeighbourTable {
    fn drop(&mut self) {
        if let Some(problem) = self.restore() {
            eprintln!("warning: {problem}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fifty_peers_need_more_than_the_kernel_default() {
        assert!(needed_entries(50) > 1024);
        assert!(needed_entries(10) <= 1024 + 121);
        assert!(needed_entries(100) > 10_000);
    }
}
