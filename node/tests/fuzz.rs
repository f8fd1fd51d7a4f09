//! Property tests (proptest, stable Rust) of every decoder of outside input: the manifest,
//! gossip messages, the request-response codec and the API's bodies. Whatever the bytes, the
//! node does not panic, answers no 5xx, and accepts nothing that does not verify. CI runs
//! them with proptest's default of 256 cases each (`PROPTEST_CASES` changes it).

mod common;

use std::time::SystemTime;

use axum::body::Body;
use axum::http::{header, Method, Request};
use futures::executor::block_on;
use http_body_util::BodyExt;
use libp2p::identity::Keypair;
use libp2p::request_response::{cbor, Codec};
use p2p_api::{ErrorBody, SignedManifest};
use p2p_node::network::protocol::{
    FetchRequest, FetchResponse, SearchRequest, SearchResponse, FETCH_PROTOCOL, SEARCH_PROTOCOL,
};
use p2p_node::network::Event;
use p2p_node::package::{PackageSpec, VerifyManifest};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{json, Map, Value};
use tower::ServiceExt;

/// Field names the decoders look for, so that generated objects reach past the first check.
const FIELDS: &[&str] = &[
    "name",
    "version",
    "description",
    "tags",
    "size",
    "sha256",
    "publisher",
    "publisher_key",
    "created_unix_ms",
    "signature",
    "kind",
    "package",
    "sent_unix_nanos",
    "id",
    "padding",
    "content_base64",
    "keys",
    "concurrency",
    "queries",
    "scope",
    "limit",
    "timeout_ms",
    "count",
    "payload_bytes",
    "interval_ms",
    "announce",
    "probe",
];

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        ".{0,40}",
        "[a-z0-9_-]{0,70}",
        "[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}(-[a-z.]{0,20})?(\\+.{0,300})?",
        Just("1.0.0".to_owned()),
        Just("local".to_owned()),
        Just("network".to_owned()),
        Just("announce".to_owned()),
    ]
}

fn number() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<u64>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("JSON has no NaN", |f| f.is_finite())
            .prop_map(Value::from),
        (0u64..300).prop_map(Value::from),
        Just(Value::from(u64::MAX)),
        Just(Value::from(1u64 << 59)),
    ]
}

/// Arbitrary JSON, with keys the decoders know more often than not.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        number(),
        text().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        let key = prop_oneof![
            3 => proptest::sample::select(FIELDS).prop_map(str::to_owned),
            1 => ".{0,12}",
        ];
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            proptest::collection::vec((key, inner), 0..8)
                .prop_map(|pairs| Value::Object(pairs.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

fn runner() -> TestRunner {
    TestRunner::new(Config::default())
}

fn signed() -> SignedManifest {
    PackageSpec::new("fuzzed", "1.2.3", "a package", &["t".to_owned()])
        .unwrap()
        .sign(b"content", &Keypair::generate_ed25519(), 7)
        .unwrap()
}

#[test]
fn a_manifest_with_any_field_changed_does_not_verify() {
    let original = signed();
    let as_json = serde_json::to_value(&original).unwrap();
    let field = proptest::sample::select(
        as_json
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect::<Vec<_>>(),
    );
    runner()
        .run(&(field, json_value()), |(field, value)| {
            let mut changed = as_json.clone();
            changed[&field] = value;
            if let Ok(manifest) = serde_json::from_value::<SignedManifest>(changed) {
                if manifest != original {
                    prop_assert!(manifest.verify().is_err(), "{manifest:?} verified");
                }
            }
            Ok(())
        })
        .unwrap();
    runner()
        .run(&proptest::collection::vec(any::<u8>(), 0..512), |bytes| {
            if let Ok(m) = serde_json::from_slice::<SignedManifest>(&bytes) {
                prop_assert!(m.verify().is_err());
            }
            Ok(())
        })
        .unwrap();
}

#[test]
fn the_request_response_codec_decodes_any_bytes_without_panicking() {
    let search = cbor::codec::Codec::<SearchRequest, SearchResponse>::default()
        .set_request_size_maximum(4096)
        .set_response_size_maximum(4 * 1024 * 1024);
    let fetch = cbor::codec::Codec::<FetchRequest, FetchResponse>::default()
        .set_request_size_maximum(4096)
        .set_response_size_maximum(9 * 1024 * 1024);
    runner()
        .run(&proptest::collection::vec(any::<u8>(), 0..2048), |bytes| {
            let (mut s, mut f) = (search.clone(), fetch.clone());
            let _ = block_on(s.read_request(&SEARCH_PROTOCOL, &mut &bytes[..]));
            let _ = block_on(s.read_response(&SEARCH_PROTOCOL, &mut &bytes[..]));
            let _ = block_on(f.read_request(&FETCH_PROTOCOL, &mut &bytes[..]));
            if let Ok(response) = block_on(f.read_response(&FETCH_PROTOCOL, &mut &bytes[..])) {
                // Whatever decodes is bounded by the frame it came in.
                prop_assert!(response.content.map_or(0, |c| c.len()) <= bytes.len());
            }
            Ok(())
        })
        .unwrap();
}

#[test]
fn any_gossip_message_leaves_the_node_up_and_its_index_clean() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let node = rt.block_on(common::start_node());
    let market = node.node.market().clone();
    let message = prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..1024),
        json_value().prop_map(|v| serde_json::to_vec(&v).unwrap()),
        json_value().prop_map(|package| {
            serde_json::to_vec(
                &json!({"kind": "announce", "package": package, "sent_unix_nanos": 1}),
            )
            .unwrap()
        }),
    ];
    runner()
        .run(&message, |data| {
            rt.block_on(market.handle_event(Event::Gossip {
                id: libp2p::gossipsub::MessageId::new(&rand::random::<[u8; 20]>()),
                propagation_source: libp2p::PeerId::random(),
                data,
                received_at: SystemTime::now(),
            }));
            Ok(())
        })
        .unwrap();
    let status = rt.block_on(market.status()).unwrap();
    assert_eq!(
        status.packages_known, 0,
        "nothing unverified entered the index"
    );
    rt.block_on(node.node.shutdown());
}

#[test]
fn any_api_body_gets_a_json_answer_and_never_a_5xx() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let node = rt.block_on(common::start_node());
    let router = node.node.api_router();
    // `/bootstrap` and `/bench/rtt` are left out: a body that parsed into an address would
    // make the node dial it. Their limits have tests of their own (tests/api.rs).
    let routes = proptest::sample::select(vec![
        "/packages",
        "/install",
        "/bench/dht-lookup",
        "/bench/search",
        "/bench/gossip",
    ]);
    let body = prop_oneof![
        json_value().prop_map(|v| serde_json::to_string(&v).unwrap()),
        ".{0,200}",
    ];
    runner()
        .run(&(routes, body), |(route, body)| {
            let request = Request::builder()
                .method(Method::POST)
                .uri(route)
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(body.clone()))
                .unwrap();
            let response = rt.block_on(router.clone().oneshot(request)).unwrap();
            let status = response.status();
            prop_assert!(!status.is_server_error(), "{route} {body}: {status}");
            if status.is_client_error() {
                let bytes = rt
                    .block_on(response.into_body().collect())
                    .unwrap()
                    .to_bytes();
                prop_assert!(serde_json::from_slice::<ErrorBody>(&bytes).is_ok());
            }
            Ok(())
        })
        .unwrap();
    let queries = prop_oneof![
        ".{0,300}",
        "[a-z]{1,10}=.{0,40}(&[a-z_]{1,10}=.{0,40}){0,4}"
    ];
    runner()
        .run(&queries, |query| {
            let uri = format!("/search?{}", urlencode(&query));
            let Ok(request) = Request::builder().uri(uri).body(Body::empty()) else {
                return Ok(());
            };
            let response = rt.block_on(router.clone().oneshot(request)).unwrap();
            prop_assert!(!response.status().is_server_error());
            Ok(())
        })
        .unwrap();
    rt.block_on(node.node.shutdown());
}

/// Keeps `&` and `=` (so the query has its shape) and encodes the rest.
fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'&' | b'=' | b'_' | b'-' | b'.' => {
                char::from(b).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}
