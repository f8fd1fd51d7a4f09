//! Host kernel settings a large Docker run needs: raised for the run, restored after.
//!
//! The kernel's ARP (neighbour) table is shared by every network namespace, and
//! `net.ipv4.neigh.default.gc_thresh3` caps its size for all of them together (1024 by
//! default). Peers that all talk to each other need about one entry per pair in every
//! container, so 50 containers need some 2,500: past the cap, address resolution fails
//! ("neighbor table overflow" in the kernel log) and some peers become unreachable.
//!
//! Each run that raises them keeps a record (`<temp>/p2p-testbed-host/<run>.neigh`): what the
//! host had before any live run, and the entries the run needs. Runs at the same time share
//! the settings: a run raises them for every recorded run together, a run that ends lowers
//! them to what the others still need, and the last one puts back what the host had. Whatever
//! ends the orchestrator (SIGKILL included), the reaper or `orchestrator down` releases its
//! record the same way ([`restore_left`]). Records are plain files: orchestrators with
//! different temporary directories do not see each other's.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use super::InfraError;

const SETTINGS: [&str; 3] = ["gc_thresh1", "gc_thresh2", "gc_thresh3"];
const DIR: &str = "/proc/sys/net/ipv4/neigh/default";
/// No kernel default comes near this; a record holding more is not ours.
const MAX_SAVED: u64 = 1 << 31;
/// Entries kept for everything on the host besides the runs.
const BASE_ENTRIES: u64 = 1024;

/// The settings a run raised, released on drop.
#[derive(Debug, Default)]
pub(super) struct NeighbourTable {
    /// The run, and what the host had before any live run: the fallback should the record be
    /// gone. `None` once released, or when nothing was raised.
    raised: Option<(String, [u64; 3])>,
}

/// One run's record.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Record {
    run: String,
    /// gc_thresh1/2/3 as the host had them before any live run.
    found: [u64; 3],
    /// Entries the run needs (0 in records of older versions, which did not say).
    entries: u64,
    modified: SystemTime,
}

fn records_dir() -> PathBuf {
    std::env::temp_dir().join("p2p-testbed-host")
}

fn record_path(run: &str) -> PathBuf {
    records_dir().join(format!("{run}.neigh"))
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

/// Sets `net.ipv4.neigh.default.gc_thresh1/2/3` to `values`.
pub fn write_neighbour_settings(values: [u64; 3]) -> Result<(), String> {
    // Raising, the hard limit goes first; lowering, last: thresh1 <= thresh2 <= thresh3
    // holds throughout.
    let current = neighbour_settings().unwrap_or([0; 3]);
    let mut order = [0, 1, 2];
    if values[2] > current[2] {
        order.reverse();
    }
    for i in order {
        let (name, value) = (SETTINGS[i], values[i]);
        std::fs::write(Path::new(DIR).join(name), value.to_string())
            .map_err(|e| format!("setting net.ipv4.neigh.default.{name} to {value}: {e}"))?;
    }
    Ok(())
}

/// Parses a record: `t1 t2 t3 entries`, or the `t1 t2 t3` of older versions.
fn parse_record(text: &str, path: &Path) -> Result<([u64; 3], u64), String> {
    let values: Vec<u64> = text
        .split_whitespace()
        .map(str::parse)
        .collect::<Result<_, _>>()
        .map_err(|e| format!("{}: not numbers: {e}", path.display()))?;
    let (found, entries) = match values[..] {
        [t1, t2, t3] => ([t1, t2, t3], 0),
        [t1, t2, t3, entries] => ([t1, t2, t3], entries),
        _ => {
            return Err(format!(
                "{}: expected gc_thresh1 gc_thresh2 gc_thresh3 [entries], found {values:?}",
                path.display()
            ))
        }
    };
    let [t1, t2, t3] = found;
    if !(t1 <= t2 && t2 <= t3 && t3 <= MAX_SAVED && entries <= MAX_SAVED) {
        return Err(format!(
            "{}: expected gc_thresh1 <= gc_thresh2 <= gc_thresh3 <= {MAX_SAVED} and entries <= {MAX_SAVED}, found {values:?}",
            path.display()
        ));
    }
    Ok((found, entries))
}

/// Every record, oldest first, and the ones that could not be read.
fn read_records() -> (Vec<Record>, Vec<String>) {
    let Ok(dir) = std::fs::read_dir(records_dir()) else {
        return (Vec::new(), Vec::new());
    };
    let (mut records, mut problems) = (Vec::new(), Vec::new());
    for path in dir.flatten().map(|e| e.path()) {
        if path.extension().is_none_or(|x| x != "neigh") {
            continue;
        }
        let Some(run) = path.file_stem().and_then(|s| s.to_str()) else {
            continue;
        };
        let read = std::fs::read_to_string(&path)
            .map_err(|e| format!("{}: {e}", path.display()))
            .and_then(|text| parse_record(&text, &path));
        match read {
            Ok((found, entries)) => records.push(Record {
                run: run.to_owned(),
                found,
                entries,
                modified: path
                    .metadata()
                    .and_then(|m| m.modified())
                    .unwrap_or(SystemTime::UNIX_EPOCH),
            }),
            Err(problem) => problems.push(problem),
        }
    }
    records.sort_by_key(|r| r.modified);
    (records, problems)
}

/// Entries `peers` containers need: one per peer in each container, one per container on
/// the host.
pub(super) fn run_entries(peers: usize) -> u64 {
    let n = peers as u64 + 1;
    n.saturating_mul(n)
}

/// The settings for runs needing `entries` together, never below what the host had.
fn settings_for(entries: u64, found: [u64; 3]) -> [u64; 3] {
    let total = entries.saturating_add(BASE_ENTRIES);
    [
        found[0].max(total / 4),
        found[1].max(total / 2),
        found[2].max(total),
    ]
}

/// What a run raises the settings to.
#[derive(Debug, PartialEq, Eq)]
struct Raise {
    /// What the host had before any live run.
    found: [u64; 3],
    settings: [u64; 3],
}

/// Plans the settings for a run needing `entries` while `live` runs hold records. `None`
/// when no run is live and the host has room already: nothing is raised or recorded.
fn plan_raise(current: [u64; 3], live: &[Record], entries: u64) -> Option<Raise> {
    let found = live.first().map_or(current, |oldest| oldest.found);
    let all = live
        .iter()
        .fold(entries, |sum, r| sum.saturating_add(r.entries));
    let wanted = settings_for(all, found);
    if live.is_empty() && current[2] >= wanted[2] {
        return None;
    }
    let settings = [0, 1, 2].map(|i| wanted[i].max(current[i]));
    Some(Raise { found, settings })
}

/// The settings once the runs not in `live` are gone: what `live` needs, or with none left,
/// what the host had (`found`).
fn plan_release(found: [u64; 3], live: &[Record]) -> [u64; 3] {
    match live.first() {
        None => found,
        Some(oldest) => {
            let all = live
                .iter()
                .fold(0u64, |sum, r| sum.saturating_add(r.entries));
            settings_for(all, oldest.found)
        }
    }
}

/// What releasing a run's record did.
#[derive(Debug, Default)]
struct Release {
    /// Records removed.
    removed: usize,
    problems: Vec<String>,
}

/// Removes the records of `runs` (all, with `None`) and sets what the remaining runs need.
/// `fallback` is what the host had, should no record say. A record already gone (the reaper
/// and `down` both release a killed run) is not a problem.
fn release(runs: Option<&str>, fallback: Option<[u64; 3]>) -> Release {
    let (records, mut problems) = read_records();
    let (leaving, live): (Vec<Record>, Vec<Record>) = records
        .into_iter()
        .partition(|r| runs.is_none_or(|run| r.run == run));
    let Some(found) = leaving.first().map(|r| r.found).or(fallback) else {
        return Release {
            removed: 0,
            problems,
        };
    };
    let mut removed = 0;
    let targets: Vec<String> = match runs {
        Some(run) => vec![run.to_owned()],
        None => leaving.iter().map(|r| r.run.clone()).collect(),
    };
    for run in targets {
        let path = record_path(&run);
        match std::fs::remove_file(&path) {
            Ok(()) => removed += 1,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => problems.push(format!("{}: {e}", path.display())),
        }
    }
    if removed == 0 && fallback.is_none() {
        // Someone else released it meanwhile, and set the settings.
        return Release { removed, problems };
    }
    if let Err(problem) = write_neighbour_settings(plan_release(found, &live)) {
        problems.push(problem);
    }
    Release { removed, problems }
}

/// Releases what run `run` (or every run) raised and could not release itself; returns how
/// many runs' records were released, and the problems.
pub fn restore_left(run: Option<&str>) -> (usize, Vec<String>) {
    let release = release(run, None);
    (release.removed, release.problems)
}

/// Raises the neighbour table limits when `peers` containers, with the runs live beside this
/// one, need more than they allow, and records it for run `run_id`.
pub(super) fn ensure_neighbour_capacity(
    peers: usize,
    run_id: &str,
) -> Result<NeighbourTable, InfraError> {
    let Some(current) = neighbour_settings() else {
        return Ok(NeighbourTable::default());
    };
    let (live, problems) = read_records();
    for problem in problems {
        eprintln!("warning: neighbour table record: {problem}");
    }
    let entries = run_entries(peers);
    let Some(Raise { found, settings }) = plan_raise(current, &live, entries) else {
        return Ok(NeighbourTable::default());
    };
    // The record goes first: a process killed half-way through raising still has it.
    let record = record_path(run_id);
    let [t1, t2, t3] = found;
    let recorded = std::fs::create_dir_all(records_dir())
        .and_then(|()| std::fs::write(&record, format!("{t1} {t2} {t3} {entries}\n")));
    if let Err(e) = &recorded {
        eprintln!(
            "warning: recording the neighbour table settings in {} failed ({e}): if this process is killed, they stay raised",
            record.display()
        );
    }
    let table = NeighbourTable {
        raised: Some((run_id.to_owned(), found)),
    };
    if settings == current {
        return Ok(table);
    }
    write_neighbour_settings(settings).map_err(|problem| {
        InfraError::HostSetting(format!(
            "{peers} containers need a neighbour (ARP) table of about {} entries, the kernel allows {}, \
             and {problem}: run as root, or `sysctl -w net.ipv4.neigh.default.gc_thresh3={}`, or use fewer peers",
            settings[2], current[2], settings[2]
        ))
    })?;
    let others = if live.is_empty() {
        String::new()
    } else {
        format!(" and {} other live run(s)", live.len())
    };
    eprintln!(
        "host: raised net.ipv4.neigh.default.gc_thresh1/2/3 from {}/{}/{} to {}/{}/{} for {peers} containers{others} (restored at the end)",
        current[0], current[1], current[2], settings[0], settings[1], settings[2]
    );
    Ok(table)
}

impl NeighbourTable {
    /// Releases the run's record and lowers the settings to what the other live runs need;
    /// does nothing the second time.
    pub(super) fn restore(&mut self) -> Option<String> {
        let (run, found) = self.raised.take()?;
        let problems = release(Some(&run), Some(found)).problems;
        (!problems.is_empty()).then(|| problems.join("; "))
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

    fn record(run: &str, found: [u64; 3], entries: u64) -> Record {
        Record {
            run: run.to_owned(),
            found,
            entries,
            modified: SystemTime::UNIX_EPOCH,
        }
    }

    const DEFAULTS: [u64; 3] = [128, 512, 1024];

    #[test]
    fn a_record_holds_ordered_numbers_or_is_rejected_by_name() {
        let path = Path::new("/tmp/run.neigh");
        assert_eq!(
            parse_record("128 512 1024 961\n", path),
            Ok((DEFAULTS, 961))
        );
        assert_eq!(parse_record("128 512 1024\n", path), Ok((DEFAULTS, 0)));
        for bad in [
            "128 512",
            "1024 512 128",
            "128 512 x",
            "1 2 99999999999",
            "128 512 1024 99999999999",
            "1 2 3 4 5",
            "",
        ] {
            let error = parse_record(bad, path).unwrap_err();
            assert!(error.contains("run.neigh"), "{bad:?}: {error}");
        }
    }

    #[test]
    fn overlapping_runs_share_the_raise_and_the_last_one_puts_back_the_host() {
        let thirty = run_entries(30);
        assert_eq!(thirty, 961);
        // The first run raises the defaults for itself.
        let first = plan_raise(DEFAULTS, &[], thirty).unwrap();
        assert_eq!(first.found, DEFAULTS);
        assert_eq!(first.settings, [496, 992, 1985]);
        // The second sees the first's record: the host had the defaults, both need room.
        let live = [record("a", first.found, thirty)];
        let second = plan_raise(first.settings, &live, thirty).unwrap();
        assert_eq!(second.found, DEFAULTS);
        assert_eq!(second.settings, [736, 1473, 2946]);
        // The first ends: what the second needs stays.
        let live = [record("b", second.found, thirty)];
        assert_eq!(plan_release(first.found, &live), [496, 992, 1985]);
        // The second ends: the host's own values.
        assert_eq!(plan_release(second.found, &[]), DEFAULTS);
    }

    #[test]
    fn a_host_with_room_is_left_alone_unless_runs_share_it() {
        let roomy = [8192, 49152, 65536];
        assert_eq!(plan_raise(roomy, &[], run_entries(50)), None);
        // With a live run recorded, the run records itself too (the other would otherwise
        // lower the settings below its need when it ends), without lowering anything.
        let live = [record("a", DEFAULTS, run_entries(30))];
        let raise = plan_raise(roomy, &live, run_entries(50)).unwrap();
        assert_eq!(raise.found, DEFAULTS);
        assert_eq!(raise.settings, roomy);
        // Small runs on the defaults need nothing.
        assert_eq!(plan_raise(DEFAULTS, &[], 0), None);
    }

    #[test]
    fn fifty_peers_need_more_than_the_kernel_default() {
        assert!(settings_for(run_entries(50), DEFAULTS)[2] > 1024);
        assert!(run_entries(100) > 10_000);
    }
}
