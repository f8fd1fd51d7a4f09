//! DHT keys of the marketplace, and reading them back from what peers send.

use semver::Version;

const PACKAGE_PREFIX: &str = "/market/pkg/";
const CONTENT_PREFIX: &str = "/market/content/";

/// The record of a package's latest published version.
pub fn latest_record(name: &str) -> Vec<u8> {
    format!("{PACKAGE_PREFIX}{name}").into_bytes()
}

/// The record of one version of a package.
pub fn version_record(name: &str, version: &Version) -> Vec<u8> {
    format!("{PACKAGE_PREFIX}{name}/{version}").into_bytes()
}

/// The provider key of content, by its hex SHA-256.
pub fn content(sha256: &str) -> Vec<u8> {
    format!("{CONTENT_PREFIX}{sha256}").into_bytes()
}

/// What a package record's key names: the package, and the version (`None` for the latest
/// record). `None` when the key is not a package record's; the name is not validated here.
pub fn parse_record(key: &[u8]) -> Option<(&str, Option<Version>)> {
    let rest = std::str::from_utf8(key)
        .ok()?
        .strip_prefix(PACKAGE_PREFIX)?;
    match rest.split_once('/') {
        None => Some((rest, None)),
        Some((name, version)) => Some((name, Some(Version::parse(version).ok()?))),
    }
}

/// Whether `key` is a provider key: the prefix and 64 lowercase hex digits.
pub fn is_content(key: &[u8]) -> bool {
    key.strip_prefix(CONTENT_PREFIX.as_bytes())
        .is_some_and(|hex| {
            hex.len() == 64 && hex.iter().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_read_back() {
        let v = Version::new(1, 2, 3);
        assert_eq!(parse_record(&latest_record("pkg")), Some(("pkg", None)));
        assert_eq!(
            parse_record(&version_record("pkg", &v)),
            Some(("pkg", Some(v)))
        );
        assert_eq!(parse_record(b"/market/pkg/pkg/not-semver"), None);
        assert_eq!(parse_record(b"/other/pkg"), None);
        assert_eq!(parse_record(&[0xff, 0xfe]), None);
        assert!(is_content(&content(&"ab".repeat(32))));
        assert!(!is_content(&content(&"AB".repeat(32))));
        assert!(!is_content(&content("abc")));
        assert!(!is_content(b"/market/pkg/x"));
    }
}
