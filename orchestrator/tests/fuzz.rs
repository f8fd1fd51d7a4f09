//! Property tests of the scenario decoder: whatever YAML (or JSON, which YAML reads) a user
//! writes, parsing and resolving it does not panic, and a refusal names a place in the file.

use orchestrator::scenario::{Origin, RawScenario, Scenario, ScenarioFlags, DEFAULT_SCENARIO};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{Map, Value};

/// Keys of the scenario format, so generated documents reach past the first check.
const KEYS: &[&str] = &[
    "name",
    "peers",
    "link",
    "profile",
    "latency",
    "jitter",
    "distribution",
    "loss",
    "bandwidth",
    "queue_limit",
    "bootstrap",
    "topology",
    "bootstrap_peers",
    "k",
    "concurrent_joins",
    "resources",
    "cpus",
    "memory",
    "phases",
    "targets",
    "metric",
    "max",
    "min",
    "publish",
    "dht_lookup",
    "search",
    "gossip",
    "install",
    "churn",
    "partition",
    "cli",
    "packages",
    "publishers",
    "size_bytes",
    "concurrency",
    "scope",
    "fraction",
    "duration",
    "levels",
];

fn value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        prop_oneof![
            Just("20ms".to_owned()),
            Just("wan".to_owned()),
            Just("150%".to_owned()),
            Just("network".to_owned()),
            ".{0,20}",
        ]
        .prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        let key = prop_oneof![
            3 => proptest::sample::select(KEYS).prop_map(str::to_owned),
            1 => "[a-z_]{0,10}",
        ];
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::vec((key, inner), 0..6)
                .prop_map(|pairs| Value::Object(pairs.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

fn check(text: &str, flags: &ScenarioFlags) -> Result<(), TestCaseError> {
    let resolved = RawScenario::parse("fuzz.yaml", text)
        .and_then(|raw| Scenario::resolve(raw.with_flags(flags)));
    if let Err(e) = resolved {
        match &e.origin {
            Origin::File { file, .. } => prop_assert_eq!(&**file, "fuzz.yaml"),
            Origin::Flag(flag) => prop_assert!(flag.starts_with("--"), "{e}"),
        }
        prop_assert!(!e.message.is_empty());
    }
    Ok(())
}

/// A runner per property: one runner counts its cases across runs, so a second run on the
/// same runner would check almost nothing.
fn runner() -> TestRunner {
    TestRunner::new(Config::default())
}

#[test]
fn any_scenario_text_is_resolved_or_refused_with_its_place() {
    let text = prop_oneof![
        ".{0,300}",
        value().prop_map(|v| serde_json::to_string(&v).unwrap()),
    ];
    runner()
        .run(&text, |text| check(&text, &ScenarioFlags::default()))
        .unwrap();
    // The default scenario with one line replaced by anything.
    let lines: Vec<&str> = DEFAULT_SCENARIO.lines().collect();
    let mutation = (0..lines.len(), ".{0,60}");
    runner()
        .run(&mutation, |(line, replacement)| {
            let mut changed = lines.clone();
            changed[line] = &replacement;
            check(&changed.join("\n"), &ScenarioFlags::default())
        })
        .unwrap();
    // And flags of any value over the default scenario.
    let quantity = || {
        prop_oneof![
            ".{0,12}",
            "[0-9.e+-]{1,8}(ns|us|ms|s|min|%|B|KiB|MiB|GiB|mbit|kbit)?",
            (
                any::<f64>(),
                proptest::sample::select(vec!["ms", "s", "min", "%", "MiB", "mbit"])
            )
                .prop_map(|(v, unit)| format!("{v:e}{unit}")),
        ]
    };
    let flags = (
        proptest::option::of(any::<usize>()),
        proptest::option::of(quantity()),
        proptest::option::of(quantity()),
        proptest::option::of(any::<f64>()),
        proptest::option::of(quantity()),
    );
    runner()
        .run(&flags, |(peers, latency, loss, cpus, memory)| {
            let flags = ScenarioFlags {
                peers,
                latency,
                loss,
                cpus,
                memory,
                ..ScenarioFlags::default()
            };
            check(DEFAULT_SCENARIO, &flags)
        })
        .unwrap();
}
