//! Host kernel settings a large Docker run needs: raised for the run, restored after.
//!
//! The kernel's ARP (neighbour) table is shared by every network namespace, and
//! `net.ipv4.neigh.default.gc_thresh3` caps its size for all of them together (1024 by
//! default). Peers that all talk to each other need about one entry per pair in every
//! container, so 50 containers need some 2,500: past the cap, address resolution fails
//! ("neighbor table overflow" in the kernel log) and some peers become unreachable.
//!
//! The settings found are also written to a file of the run's (`<temp>/p2p-testbed-host/
//! <run>.neigh`) while they are raised, so that whatever ends the orchestrator (SIGKILL
//! included) the reaper, or `orchestrator down`, puts them back ([`restore_left`]).

use std::path::{Path, PathBuf};

use super::InfraError;

const SETTINGS: [&str; 3] = ["gc_thresh1", "gc_thresh2", "gc_thresh3"];
const DIR: &str = "/proc/sys/net/ipv4/neigh/default";
/// No kernel default comes near this; a saved file holding more is not ours.
const MAX_SAVED: u64 = 1 << 31;

/// The neighbour table settings in force before the run, put back on drop.
#[derive(Debug, Default)]
pub(super) struct NeighbourTable {
    saved: Option<[u64; 3]>,
    /// The run's record of `saved`, removed once they are back.
    record: Option<PathBuf>,
}

fn records_dir() -> PathBuf {
    std::env::temp_dir().join("p2p-testbed-host")
}

/// The host's `net.ipv4.neigh.default.gc_thresh1/2/3`; `None` where they cannot be read.
pub fn neighbour_settings() -> Option<[u64; 3]> {
    let read = |name: &str| -> Option<u64> {
        std::fs::read_to_string(Path::new(DIR).join(name))
            .ok()?
            .trim()
            .parse()
            .ok()
    };
    Some([read(SETTINGS[0])?, read(SETTINGS[1])?, read(SETTINGS[2])?])
}

/// Sets `net.ipv4.neigh.default.gc_thresh1/2/3` to `values`, in that order.
pub fn write_neighbour_settings(values: [u64; 3]) -> Result<(), String> {
    // Lower the hard limit last, so that thresh1 <= thresh2 <= thresh3 holds throughout.
    for (name, value) in SETTINGS.iter().zip(values) {
        std::fs::write(Path::new(DIR).join(name), value.to_string())
            .map_err(|e| format!("setting net.ipv4.neigh.default.{name} to {value}: {e}"))?;
    }
    Ok(())
}

/// Reads a record written by [`ensure_neighbour_capacity`]: three ordered numbers.
fn read_record(path: &Path) -> Result<[u64; 3], String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let values: Vec<u64> = text
        .split_whitespace()
        .map(str::parse)
        .collect::<Result<_, _>>()
        .map_err(|e| format!("{}: not three numbers: {e}", path.display()))?;
    match values[..] {
        [t1, t2, t3] if t1 <= t2 && t2 <= t3 && t3 <= MAX_SAVED => Ok([t1, t2, t3]),
        _ => Err(format!(
            "{}: expected gc_thresh1 <= gc_thresh2 <= gc_thresh3 <= {MAX_SAVED}, found {values:?}",
            path.display()
        )),
    }
}

/// Puts back the neighbour table settings that run `run` (or any run) raised and could not
/// restore itself; returns how many runs' settings went back, and the problems. With several
/// records (`down --all`), the oldest is written last: it holds what the host had before.
pub fn restore_left(run: Option<&str>) -> (usize, Vec<String>) {
    let Ok(entries) = std::fs::read_dir(records_dir()) else {
        return (0, Vec::new());
    };
    let mut records: Vec<(std::time::SystemTime, PathBuf)> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "neigh"))
        .filter(|p| run.is_none_or(|r| p.file_stem().is_some_and(|s| s == r)))
        .map(|p| {
            let modified = p.metadata().and_then(|m| m.modified());
            (modified.unwrap_or(std::time::UNIX_EPOCH), p)
        })
        .collect();
    records.sort_by_key(|record| std::cmp::Reverse(record.0));
    let (mut restored, mut problems) = (0, Vec::new());
    for (_, path) in records {
        match read_record(&path).and_then(write_neighbour_settings) {
            Ok(()) => {
                restored += 1;
                let _ = std::fs::remove_file(&path);
            }
            Err(problem) => problems.push(problem),
        }
    }
    (restored, problems)
}

/// Entries `peers` containers need: one per peer in each container, one per container on
/// the host, room for everything else.
pub(super) fn needed_entries(peers: usize) -> u64 {
    (peers as u64 + 1) * (peers as u64 + 1) + 1024
}

/// Raises the neighbour table limits when `peers` containers need more than they allow, and
/// records what they were for run `run_id`.
pub(super) fn ensure_neighbour_capacity(
    peers: usize,
    run_id: &str,
) -> Result<NeighbourTable, InfraError> {
    let Some([t1, t2, t3]) = neighbour_settings() else {
        return Ok(NeighbourTable::default());
    };
    let needed = needed_entries(peers);
    if t3 >= needed {
        return Ok(NeighbourTable::default());
    }
    // The record goes first: a process killed half-way through raising still has it.
    let record = records_dir().join(format!("{run_id}.neigh"));
    let recorded = std::fs::create_dir_all(records_dir())
        .and_then(|()| std::fs::write(&record, format!("{t1} {t2} {t3}\n")));
    if let Err(e) = &recorded {
        eprintln!(
            "warning: recording the neighbour table settings in {} failed ({e}): if this process is killed, they stay raised",
            record.display()
        );
    }
    let table = NeighbourTable {
        saved: Some([t1, t2, t3]),
        record: recorded.is_ok().then_some(record),
    };
    let wanted = [t1.max(needed / 4), t2.max(needed / 2), needed];
    for (name, value) in SETTINGS.iter().zip(wanted) {
        std::fs::write(Path::new(DIR).join(name), value.to_string()).map_err(|e| {
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
    Ok(table)
}

impl NeighbourTable {
    /// Puts the settings back; does nothing the second time.
    pub(super) fn restore(&mut self) -> Option<String> {
        let saved = self.saved.take()?;
        if let Err(problem) = write_neighbour_settings(saved) {
            return Some(problem);
        }
        if let Some(record) = self.record.take() {
            let _ = std::fs::remove_file(record);
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
    fn a_record_holds_three_ordered_numbers_or_is_rejected_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run.neigh");
        std::fs::write(&path, "128 512 1024\n").unwrap();
        assert_eq!(read_record(&path), Ok([128, 512, 1024]));
        for bad in [
            "128 512",
            "1024 512 128",
            "128 512 x",
            "1 2 99999999999",
            "",
        ] {
            std::fs::write(&path, bad).unwrap();
            let error = read_record(&path).unwrap_err();
            assert!(error.contains("run.neigh"), "{bad:?}: {error}");
        }
    }

    #[test]
    fn fifty_peers_need_more_than_the_kernel_default() {
        assert!(needed_entries(50) > 1024);
        assert!(needed_entries(10) <= 1024 + 121);
        assert!(needed_entries(100) > 10_000);
    }
}
