//! Every bound the node enforces on what it is given. Input beyond one is refused with a 4xx
//! naming the field (docs/API.md); clients use these to stay inside them.

/// Largest package content, in bytes (8 MiB).
pub const MAX_CONTENT_BYTES: usize = 8 * 1024 * 1024;
/// Longest package name, in characters (`[a-z0-9][a-z0-9_-]{0,63}`).
pub const MAX_NAME_CHARS: usize = 64;
/// Longest version string (semver, with any pre-release and build parts), in characters.
pub const MAX_VERSION_CHARS: usize = 64;
/// Longest description, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 1024;
/// Most tags a package may carry.
pub const MAX_TAGS: usize = 16;
/// Longest tag, in characters.
pub const MAX_TAG_CHARS: usize = 32;
/// Largest request body: a package at its size limit, base64-encoded, plus its metadata.
pub const MAX_BODY_BYTES: usize = MAX_CONTENT_BYTES / 3 * 4 + 64 * 1024;
/// Most operations one benchmark request may ask for.
pub const MAX_PHASE_OPERATIONS: usize = 100_000;
/// Highest concurrency one benchmark request may ask for.
pub const MAX_PHASE_CONCURRENCY: usize = 256;
/// Largest gossip probe padding, in bytes.
pub const MAX_PROBE_PADDING: usize = 64 * 1024;
/// Most hits a search returns.
pub const MAX_SEARCH_LIMIT: usize = 200;
/// Hits a search returns when the request does not say.
pub const DEFAULT_SEARCH_LIMIT: usize = 20;
/// Longest handshake timeout an RTT probe may set, in milliseconds.
pub const MAX_RTT_TIMEOUT_MS: u64 = 60_000;
/// Longest search query, in characters.
pub const MAX_QUERY_CHARS: usize = 256;
/// Longest deadline a network search may ask for, in milliseconds.
pub const MAX_SEARCH_TIMEOUT_MS: u64 = 60_000;
/// Longest spacing of an RTT probe's round trips, in milliseconds.
pub const MAX_RTT_INTERVAL_MS: u64 = 10_000;
/// Most targets of one RTT probe.
pub const MAX_RTT_TARGETS: usize = 64;
/// Most handshakes per target of one RTT probe.
pub const MAX_RTT_COUNT: usize = 100;
/// Most peers one connect benchmark dials.
pub const MAX_CONNECT_PEERS: usize = 64;
/// Most gossip probes one request may publish.
pub const MAX_GOSSIP_PROBES: usize = 10_000;
/// Longest pause between two gossip probes, in milliseconds.
pub const MAX_GOSSIP_INTERVAL_MS: u64 = 60_000;
/// Longest a gossip request may take in all (probes × interval), in milliseconds.
pub const MAX_GOSSIP_DURATION_MS: u64 = 600_000;
/// Most peers one bootstrap request may name.
pub const MAX_BOOTSTRAP_PEERS: usize = 64;
/// Longest multiaddr a bootstrap request may give, in characters.
pub const MAX_MULTIADDR_CHARS: usize = 256;
/// How long a client may take to send a request's headers, in seconds.
pub const HEADER_READ_TIMEOUT_SECS: u64 = 10;
