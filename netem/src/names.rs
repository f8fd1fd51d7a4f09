//! Names of what a run leaves in the kernel, derived from the run id alone so that
//! `orchestrator down` finds them after a crash.
//!
//! iptables chain names are limited to 28 characters, so the chain carries the last 13
//! characters of the run id without dashes (`P2P-TESTBED-1270529536425`) and every rule that
//! jumps to it carries the full id in a comment (`p2p-testbed.run=<run-id>`).

/// Prefix of every chain a run creates (DESIGN.md: `P2P-TESTBED-<run-id>`, shortened).
pub const CHAIN_PREFIX: &str = "P2P-TESTBED-";
/// iptables table the chains live in: nobody else hooks the bridge's FORWARD there, so Docker's
/// own filter rules cannot accept our packets before we see them.
pub const TABLE: &str = "mangle";
const RUN_ID_CHARS: usize = 13;

/// The run's main chain.
pub fn chain(run_id: &str) -> String {
    let compact: String = run_id
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect();
    let tail = &compact[compact.len().saturating_sub(RUN_ID_CHARS)..];
    format!("{CHAIN_PREFIX}{}", tail.to_ascii_uppercase())
}

/// The chain that holds the run's partition rules, jumped to first from the main chain.
pub fn partition_chain(run_id: &str) -> String {
    format!("{}-P", chain(run_id))
}

/// Comment on the jump rules, with the full run id.
pub fn comment(run_id: &str) -> String {
    format!("p2p-testbed.run={run_id}")
}

/// First NFQUEUE number tried for a run; the delay line takes the next free one from here.
pub fn first_queue_num(run_id: &str) -> u16 {
    let hash = run_id.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    });
    1000 + (hash % 60_000) as u16
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chains_fit_iptables_and_differ_per_run() {
        let a = chain("20261127-052953-6425");
        assert_eq!(a, "P2P-TESTBED-1270529536425");
        assert!(partition_chain("20261127-052953-6425").len() <= 28);
        assert_ne!(a, chain("20261127-052953-6426"));
        assert_eq!(chain("x"), "P2P-TESTBED-X");
    }

    #[test]
    fn queue_numbers_are_stable_and_in_range() {
        let q = first_queue_num("20261127-052953-6425");
        assert_eq!(q, first_queue_num("20261127-052953-6425"));
        assert!((1000..61_000).contains(&q));
    }
}
