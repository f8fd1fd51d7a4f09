//! The local search index: an inverted index over name, name parts, tags and description
//! tokens, with prefix matching and a ranking that prefers more matched query words, then
//! matches in the name over tags over the description.
//!
//! It holds the packages this node stores (`local`) and those it heard announced on gossip
//! or saw in network search results, so a search answers without the network.

use std::collections::{BTreeMap, HashMap, VecDeque};

use p2p_api::{SearchHit, SignedManifest};
use semver::Version;

const WEIGHT_NAME: u16 = 8;
const WEIGHT_NAME_PART: u16 = 4;
const WEIGHT_TAG: u16 = 3;
const WEIGHT_DESCRIPTION: u16 = 1;
/// Bonus when the whole query equals the package name.
const EXACT_NAME_BONUS: f32 = 100.0;
/// A short prefix can match many terms; expanding more than this many adds little.
const MAX_PREFIX_TERMS: usize = 64;
const MIN_PREFIX_CHARS: usize = 2;
/// Packages known from the network (not stored here) the index keeps; the oldest go first.
pub const MAX_REMOTE_PACKAGES: usize = 10_000;

#[derive(Debug, Clone, Copy)]
struct Posting {
    doc: u32,
    weight: u16,
}

#[derive(Debug)]
struct Doc {
    package: SignedManifest,
    local: bool,
    /// The terms it is indexed under, to take it out again.
    terms: Vec<String>,
}

/// The index. Documents live in slots; an evicted one leaves its slot free for the next.
#[derive(Debug)]
pub struct SearchIndex {
    slots: Vec<Option<Doc>>,
    free: Vec<u32>,
    by_key: HashMap<(String, Version), u32>,
    terms: BTreeMap<String, Vec<Posting>>,
    /// Remote documents, oldest first (a document stored here later stays listed and is
    /// skipped when its turn comes).
    remote_order: VecDeque<u32>,
    remote: usize,
    max_remote: usize,
}

impl Default for SearchIndex {
    fn default() -> Self {
        Self::with_remote_capacity(MAX_REMOTE_PACKAGES)
    }
}

impl SearchIndex {
    pub fn new() -> Self {
        Self::default()
    }

    /// An index that keeps at most `max_remote` packages not stored here.
    pub fn with_remote_capacity(max_remote: usize) -> Self {
        Self {
            slots: Vec::new(),
            free: Vec::new(),
            by_key: HashMap::new(),
            terms: BTreeMap::new(),
            remote_order: VecDeque::new(),
            remote: 0,
            max_remote,
        }
    }

    /// Number of distinct (name, version) pairs known.
    pub fn len(&self) -> usize {
        self.by_key.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_key.is_empty()
    }

    fn docs(&self) -> impl Iterator<Item = &Doc> {
        self.slots.iter().flatten()
    }

    fn doc(&self, slot: u32) -> &Doc {
        self.slots[slot as usize]
            .as_ref()
            .expect("postings and keys point at live documents only")
    }

    /// Number of packages whose content this node stores.
    pub fn local_count(&self) -> usize {
        self.docs().filter(|d| d.local).count()
    }

    /// Every package whose content is stored locally.
    pub fn local_packages(&self) -> Vec<SignedManifest> {
        self.docs()
            .filter(|d| d.local)
            .map(|d| d.package.clone())
            .collect()
    }

    /// Adds a verified manifest. Returns true when the index changed (a new package, or a
    /// known one that is now stored locally). Beyond [`MAX_REMOTE_PACKAGES`] packages not
    /// stored here, the oldest of them is forgotten.
    pub fn insert(&mut self, package: SignedManifest, local: bool) -> bool {
        let key = (
            package.manifest.name.clone(),
            package.manifest.version.clone(),
        );
        if let Some(&slot) = self.by_key.get(&key) {
            let entry = self.slots[slot as usize]
                .as_mut()
                .expect("keys point at live documents only");
            if local && !entry.local {
                entry.local = true;
                self.remote -= 1;
                return true;
            }
            return false;
        }
        let mut weights: HashMap<String, u16> = HashMap::new();
        let mut add = |term: &str, weight: u16| {
            let w = weights.entry(term.to_owned()).or_default();
            *w = (*w).max(weight);
        };
        let m = &package.manifest;
        add(&m.name, WEIGHT_NAME);
        for part in m.name.split(['-', '_']).filter(|p| !p.is_empty()) {
            add(part, WEIGHT_NAME_PART);
        }
        for tag in &m.tags {
            add(tag, WEIGHT_TAG);
        }
        for token in tokenize(&m.description) {
            add(&token, WEIGHT_DESCRIPTION);
        }
        let slot = match self.free.pop() {
            Some(slot) => slot,
            None => {
                self.slots.push(None);
                u32::try_from(self.slots.len() - 1).expect("fewer than 2^32 packages")
            }
        };
        let mut terms = Vec::with_capacity(weights.len());
        for (term, weight) in weights {
            self.terms
                .entry(term.clone())
                .or_default()
                .push(Posting { doc: slot, weight });
            terms.push(term);
        }
        self.by_key.insert(key, slot);
        self.slots[slot as usize] = Some(Doc {
            package,
            local,
            terms,
        });
        if !local {
            self.remote += 1;
            self.remote_order.push_back(slot);
            self.evict_beyond_capacity();
        }
        true
    }

    /// Forgets the oldest remote packages while there are more than the capacity.
    fn evict_beyond_capacity(&mut self) {
        while self.remote > self.max_remote {
            let Some(slot) = self.remote_order.pop_front() else {
                return;
            };
            if self.slots[slot as usize].as_ref().is_some_and(|d| !d.local) {
                self.remove(slot);
                self.remote -= 1;
            }
        }
    }

    fn remove(&mut self, slot: u32) {
        let Some(doc) = self.slots[slot as usize].take() else {
            return;
        };
        for term in &doc.terms {
            if let Some(postings) = self.terms.get_mut(term) {
                postings.retain(|p| p.doc != slot);
                if postings.is_empty() {
                    self.terms.remove(term);
                }
            }
        }
        let m = &doc.package.manifest;
        self.by_key.remove(&(m.name.clone(), m.version.clone()));
        self.free.push(slot);
    }

    /// The content with this SHA-256 is no longer stored here (it went bad on disk): the
    /// packages that hold it are known, but no longer local. Returns how many changed.
    pub fn forget_content(&mut self, sha256: &str) -> usize {
        let mut changed = Vec::new();
        for (slot, doc) in self.slots.iter_mut().enumerate() {
            if let Some(doc) = doc {
                if doc.local && doc.package.manifest.sha256 == sha256 {
                    doc.local = false;
                    changed.push(slot as u32);
                }
            }
        }
        self.remote += changed.len();
        self.remote_order.extend(&changed);
        self.evict_beyond_capacity();
        changed.len()
    }

    /// Whether this very manifest, signature included, is in the index: it was verified
    /// when it went in.
    pub fn holds(&self, package: &SignedManifest) -> bool {
        let key = (
            package.manifest.name.clone(),
            package.manifest.version.clone(),
        );
        self.by_key
            .get(&key)
            .is_some_and(|&slot| self.doc(slot).package == *package)
    }

    /// The package `name` at `version`, or its highest known version.
    pub fn get(&self, name: &str, version: Option<&Version>) -> Option<SearchHit> {
        let slot = match version {
            Some(v) => self.by_key.get(&(name.to_owned(), v.clone())).copied(),
            None => self
                .terms
                .get(name)?
                .iter()
                .filter(|p| self.doc(p.doc).package.manifest.name == name)
                .max_by(|a, b| {
                    let version = |p: &Posting| &self.doc(p.doc).package.manifest.version;
                    version(a).cmp(version(b))
                })
                .map(|p| p.doc),
        }?;
        let d = self.doc(slot);
        Some(SearchHit {
            package: d.package.clone(),
            local: d.local,
            score: 0.0,
        })
    }

    /// Ranked matches of `query`, best first, at most `limit`.
    pub fn search(&self, query: &str, limit: usize) -> Vec<SearchHit> {
        let tokens = tokenize(query);
        if tokens.is_empty() || limit == 0 || self.is_empty() {
            return Vec::new();
        }
        // Scores accumulate in arrays indexed by slot, touched only through the posting
        // lists: a few microseconds even when thousands of documents match.
        let n = self.slots.len();
        let mut total = vec![0f32; n];
        let mut matched = vec![0u16; n];
        let mut best = vec![0f32; n];
        let mut touched: Vec<u32> = Vec::new();
        let mut token_touched: Vec<u32> = Vec::new();
        for token in &tokens {
            if let Some(postings) = self.terms.get(token) {
                for p in postings {
                    offer(
                        &mut best,
                        &mut token_touched,
                        p.doc,
                        2.0 * f32::from(p.weight),
                    );
                }
            }
            if token.chars().count() >= MIN_PREFIX_CHARS {
                let prefix_terms = self
                    .terms
                    .range::<str, _>((
                        std::ops::Bound::Excluded(token.as_str()),
                        std::ops::Bound::Unbounded,
                    ))
                    .take_while(|(term, _)| term.starts_with(token.as_str()))
                    .take(MAX_PREFIX_TERMS);
                for (_, postings) in prefix_terms {
                    for p in postings {
                        offer(&mut best, &mut token_touched, p.doc, f32::from(p.weight));
                    }
                }
            }
            for doc in token_touched.drain(..) {
                let d = doc as usize;
                if matched[d] == 0 {
                    touched.push(doc);
                }
                matched[d] += 1;
                total[d] += best[d];
                best[d] = 0.0;
            }
        }
        let whole = query.trim().to_lowercase();
        let mut ranked: Vec<(u32, u16, f32)> = touched
            .into_iter()
            .map(|doc| {
                let d = doc as usize;
                let mut score = total[d];
                if self.doc(doc).package.manifest.name == whole {
                    score += EXACT_NAME_BONUS;
                }
                (doc, matched[d], score)
            })
            .collect();
        let rank = |a: &(u32, u16, f32), b: &(u32, u16, f32)| {
            let (ma, mb) = (
                &self.doc(a.0).package.manifest,
                &self.doc(b.0).package.manifest,
            );
            b.1.cmp(&a.1)
                .then(b.2.total_cmp(&a.2))
                .then_with(|| ma.name.cmp(&mb.name))
                .then_with(|| mb.version.cmp(&ma.version))
        };
        if ranked.len() > limit {
            ranked.select_nth_unstable_by(limit - 1, rank);
            ranked.truncate(limit);
        }
        ranked.sort_unstable_by(rank);
        ranked
            .into_iter()
            .map(|(doc, _, score)| {
                let d = self.doc(doc);
                SearchHit {
                    package: d.package.clone(),
                    local: d.local,
                    score,
                }
            })
            .collect()
    }
}

/// Keeps the best score of one query word per document, listing each document once.
fn offer(best: &mut [f32], touched: &mut Vec<u32>, doc: u32, score: f32) {
    let slot = &mut best[doc as usize];
    if *slot == 0.0 {
        touched.push(doc);
    }
    *slot = slot.max(score);
}

/// Lowercase words of letters and digits (and `-`/`_` inside words split into parts).
fn tokenize(text: &str) -> Vec<String> {
    let mut tokens: Vec<String> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|t| !t.is_empty())
        .map(str::to_lowercase)
        .collect();
    tokens.sort_unstable();
    tokens.dedup();
    tokens
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::package::PackageSpec;
    use libp2p::identity::Keypair;

    fn pkg(name: &str, version: &str, description: &str, tags: &[&str]) -> SignedManifest {
        let tags: Vec<String> = tags.iter().map(|t| t.to_string()).collect();
        PackageSpec::new(name, version, description, &tags)
            .unwrap()
            .sign(name.as_bytes(), &Keypair::generate_ed25519(), 0)
            .unwrap()
    }

    fn names(hits: &[SearchHit]) -> Vec<&str> {
        hits.iter()
            .map(|h| h.package.manifest.name.as_str())
            .collect()
    }

    #[test]
    fn ranks_name_over_tag_over_description() {
        let mut index = SearchIndex::new();
        index.insert(
            pkg("json-parser", "1.0.0", "fast parsing", &["serde"]),
            true,
        );
        index.insert(pkg("yaml", "1.0.0", "reads json too", &[]), false);
        index.insert(pkg("toml", "1.0.0", "config", &["json"]), false);
        index.insert(pkg("json", "0.1.0", "the json crate", &[]), false);
        let hits = index.search("json", 10);
        assert_eq!(names(&hits), ["json", "json-parser", "toml", "yaml"]);
        assert!(hits[1].local && !hits[0].local);
    }

    #[test]
    fn more_matched_words_rank_first_and_prefixes_match() {
        let mut index = SearchIndex::new();
        index.insert(pkg("http-client", "1.0.0", "async networking", &[]), false);
        index.insert(pkg("http-server", "1.0.0", "serves files", &[]), false);
        let hits = index.search("http async", 10);
        assert_eq!(names(&hits), ["http-client", "http-server"]);
        assert_eq!(names(&index.search("netw", 10)), ["http-client"]);
        assert!(index.search("zzz", 10).is_empty());
        assert!(index.search("  ", 10).is_empty());
    }

    #[test]
    fn limit_keeps_the_best() {
        let mut index = SearchIndex::new();
        for i in 0..50 {
            index.insert(pkg(&format!("lib{i}"), "1.0.0", "common words", &[]), false);
        }
        index.insert(pkg("common", "1.0.0", "x", &[]), false);
        let hits = index.search("common", 5);
        assert_eq!(hits.len(), 5);
        assert_eq!(hits[0].package.manifest.name, "common");
    }

    #[test]
    fn reinserting_only_upgrades_to_local() {
        let mut index = SearchIndex::new();
        let p = pkg("a", "1.0.0", "", &[]);
        assert!(index.insert(p.clone(), false));
        assert!(!index.insert(p.clone(), false));
        assert_eq!(index.local_count(), 0);
        assert!(index.insert(p.clone(), true));
        assert!(!index.insert(p, false));
        assert_eq!((index.len(), index.local_count()), (1, 1));
    }

    #[test]
    fn get_picks_the_highest_version() {
        let mut index = SearchIndex::new();
        index.insert(pkg("a", "1.2.0", "", &[]), false);
        index.insert(pkg("a", "1.10.0", "", &[]), false);
        index.insert(pkg("a-b", "9.0.0", "", &[]), false);
        let hit = index.get("a", None).unwrap();
        assert_eq!(hit.package.manifest.version, Version::new(1, 10, 0));
        let v = Version::new(1, 2, 0);
        assert_eq!(
            index.get("a", Some(&v)).unwrap().package.manifest.version,
            v
        );
        assert!(index.get("b", None).is_none());
    }

    #[test]
    fn remote_packages_are_bounded_and_local_ones_kept() {
        let mut index = SearchIndex::with_remote_capacity(3);
        index.insert(pkg("mine", "1.0.0", "kept", &[]), true);
        for i in 0..10 {
            index.insert(pkg(&format!("remote{i}"), "1.0.0", "heard of", &[]), false);
        }
        assert_eq!((index.len(), index.local_count()), (4, 1));
        assert!(index.get("remote0", None).is_none());
        assert!(index.get("remote9", None).is_some());
        assert_eq!(index.search("heard", 20).len(), 3);
        assert_eq!(names(&index.search("kept", 20)), ["mine"]);
        // Slots are reused: the arrays a search allocates do not grow with the churn.
        assert!(index.slots.len() <= 5, "{}", index.slots.len());
    }

    #[test]
    fn content_gone_bad_makes_a_package_remote() {
        let mut index = SearchIndex::new();
        let p = pkg("a", "1.0.0", "", &[]);
        index.insert(p.clone(), true);
        assert_eq!(index.forget_content(&p.manifest.sha256), 1);
        assert_eq!((index.len(), index.local_count()), (1, 0));
        assert!(!index.get("a", None).unwrap().local);
    }
}
