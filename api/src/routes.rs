//! The paths of the HTTP API. The node's router and every client use these; no path is
//! written anywhere else.

pub const HEALTH: &str = "/health";
pub const STATUS: &str = "/status";
pub const BOOTSTRAP: &str = "/bootstrap";
pub const METRICS: &str = "/metrics";
pub const PACKAGES: &str = "/packages";
/// The router's pattern for one package; clients build the path with [`package`].
pub const PACKAGE: &str = "/packages/{name}";
/// The router's pattern for a DHT lookup; clients build the path with [`lookup`].
pub const LOOKUP: &str = "/lookup/{name}";
pub const SEARCH: &str = "/search";
pub const INSTALL: &str = "/install";
pub const BENCH_DHT_LOOKUP: &str = "/bench/dht-lookup";
pub const BENCH_SEARCH: &str = "/bench/search";
pub const BENCH_GOSSIP: &str = "/bench/gossip";
pub const BENCH_GOSSIP_RECEIVED: &str = "/bench/gossip/received";
pub const BENCH_RTT: &str = "/bench/rtt";
pub const BENCH_CONNECT: &str = "/bench/connect";

/// The path of package `name` ([`PACKAGE`]).
pub fn package(name: &str) -> String {
    format!("{PACKAGES}/{}", segment(name))
}

/// The path of a DHT lookup of `name` ([`LOOKUP`]).
pub fn lookup(name: &str) -> String {
    format!("/lookup/{}", segment(name))
}

/// `text` as one path segment: everything but RFC 3986's unreserved characters is
/// percent-encoded, so a name can never add a segment or a query.
fn segment(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_cannot_escape_their_segment() {
        assert_eq!(package("my-pkg_1.0"), "/packages/my-pkg_1.0");
        assert_eq!(lookup("../status?x=1"), "/lookup/..%2Fstatus%3Fx%3D1");
        assert_eq!(package("é"), "/packages/%C3%A9");
    }

    #[test]
    fn patterns_and_builders_agree() {
        assert_eq!(PACKAGE.replace("{name}", "a"), package("a"));
        assert_eq!(LOOKUP.replace("{name}", "a"), lookup("a"));
    }
}
