//! Which cases a run of the suite selects, read from the arguments Criterion also reads: its
//! filter (a regex searched in the case id, or the exact id with `--exact`), `--ignored`
//! (nothing), and `--list` (print the ids, run nothing). The suite forms a network only for a
//! case that will run, and none while listing.

/// Criterion options that take a value (so the value is not mistaken for the filter).
const TAKES_VALUE: &[&str] = &[
    "--save-baseline",
    "--baseline",
    "--baseline-lenient",
    "--load-baseline",
    "--sample-size",
    "--warm-up-time",
    "--measurement-time",
    "--nresamples",
    "--noise-threshold",
    "--confidence-level",
    "--significance-level",
    "--profile-time",
    "--output-format",
    "--color",
    "--plotting-backend",
    "--format",
    "--logfile",
];

#[derive(Debug)]
enum Filter {
    All,
    Regex(regex::Regex),
    /// A filter that is not a valid regex, matched as a substring.
    Substring(String),
    Exact(String),
    Nothing,
}

#[derive(Debug)]
pub struct Selection {
    filter: Filter,
    listing: bool,
}

impl Selection {
    /// The selection of this process's arguments.
    pub fn from_env() -> Self {
        Self::from_args(std::env::args().skip(1))
    }

    pub fn from_args(args: impl IntoIterator<Item = String>) -> Self {
        let args: Vec<String> = args.into_iter().collect();
        let (mut filter, mut exact, mut ignored, mut listing) = (None, false, false, false);
        let mut i = 0;
        while i < args.len() {
            let arg = args[i].as_str();
            match arg {
                "--list" => listing = true,
                "--exact" => exact = true,
                "--ignored" => ignored = true,
                _ if TAKES_VALUE.contains(&arg) => i += 1,
                _ if !arg.starts_with('-') && filter.is_none() => filter = Some(arg.to_owned()),
                _ => {}
            }
            i += 1;
        }
        let filter = match (ignored, filter) {
            (true, _) => Filter::Nothing,
            (false, None) => Filter::All,
            (false, Some(f)) if exact => Filter::Exact(f),
            (false, Some(f)) => match regex::Regex::new(&f) {
                Ok(re) => Filter::Regex(re),
                Err(_) => Filter::Substring(f),
            },
        };
        Self { filter, listing }
    }

    /// Whether Criterion would run case `id`.
    pub fn matches(&self, id: &str) -> bool {
        match &self.filter {
            Filter::All => true,
            Filter::Regex(re) => re.is_match(id),
            Filter::Substring(s) => id.contains(s.as_str()),
            Filter::Exact(e) => id == e,
            Filter::Nothing => false,
        }
    }

    /// Whether case `id` runs now: selected, and not only listed.
    pub fn wants(&self, id: &str) -> bool {
        !self.listing && self.matches(id)
    }

    pub fn listing(&self) -> bool {
        self.listing
    }

    /// Prints the selected ids as Criterion lists them.
    pub fn list(&self, ids: impl IntoIterator<Item = String>) {
        for id in ids.into_iter().filter(|id| self.matches(id)) {
            println!("{id}: benchmark");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sel(args: &[&str]) -> Selection {
        Selection::from_args(args.iter().map(|a| (*a).to_owned()))
    }

    #[test]
    fn filters_and_listing_follow_criterion() {
        let s = sel(&["--bench", "--save-baseline", "main", "p2p_sla"]);
        assert!(s.wants("p2p_sla/local_cache_hit") && !s.wants("p2p_cpu/event_processing"));
        let s = sel(&["--list", "dht_lookup/.*/10$"]);
        assert!(s.listing() && !s.wants("p2p_dht_lookup/lookup_latency/10"));
        assert!(s.matches("p2p_dht_lookup/lookup_latency/10"));
        assert!(!s.matches("p2p_dht_lookup/lookup_latency/100"));
        let s = sel(&["--exact", "p2p_sla/local_cache_hit"]);
        assert!(s.wants("p2p_sla/local_cache_hit") && !s.wants("p2p_sla/local_cache_hit_x"));
        assert!(!sel(&["--ignored"]).wants("p2p_sla/local_cache_hit"));
        assert!(sel(&["(unclosed"]).wants("a(unclosed"));
        assert!(sel(&[]).wants("anything"));
    }
}
