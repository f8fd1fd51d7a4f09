//! The HTTP API without a socket: `router.oneshot(request)` against a real node.

mod common;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use axum::Router;
use base64::Engine;
use http_body_util::BodyExt;
use p2p_api::{ErrorBody, Health, PublishOutcome, SearchOutcome};
use p2p_node::daemon::RunningNode;
use serde_json::{json, Value};
use tower::ServiceExt;

async fn call(router: &Router, request: Request<Body>) -> (StatusCode, Vec<u8>) {
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let body = response
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes()
        .to_vec();
    (status, body)
}

fn post_json(uri: &str, body: impl Into<Body>) -> Request<Body> {
    Request::builder()
        .method(Method::POST)
        .uri(uri)
        .header(header::CONTENT_TYPE, "application/json")
        .body(body.into())
        .unwrap()
}

fn get(uri: &str) -> Request<Body> {
    Request::builder().uri(uri).body(Body::empty()).unwrap()
}

fn publish_body(name: &str, version: &str, content: &[u8]) -> String {
    json!({
        "name": name,
        "version": version,
        "description": "api test package",
        "tags": ["api"],
        "content_base64": base64::engine::general_purpose::STANDARD.encode(content),
    })
    .to_string()
}

/// Asserts a JSON error body with `status` whose message contains `needle`.
async fn expect_error(router: &Router, request: Request<Body>, status: StatusCode, needle: &str) {
    let (got, body) = call(router, request).await;
    let error: ErrorBody = serde_json::from_slice(&body).unwrap_or_else(|e| {
        panic!(
            "not a JSON error body ({e}): {}",
            String::from_utf8_lossy(&body)
        )
    });
    assert_eq!(got, status, "{}", error.error);
    assert!(
        error.error.contains(needle),
        "{:?} lacks {needle:?}",
        error.error
    );
}

async fn assert_healthy(router: &Router) {
    let (status, body) = call(router, get("/health")).await;
    assert_eq!(status, StatusCode::OK);
    let health: Health = serde_json::from_slice(&body).unwrap();
    assert_eq!(health.status, "ok");
}

#[tokio::test]
async fn publish_get_search_and_metrics() {
    let node = common::start_node().await;
    let router = node.node.api_router();
    assert_healthy(&router).await;

    let (status, body) = call(
        &router,
        post_json("/packages", publish_body("api-pkg", "1.0.0", b"abc")),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&body)
    );
    let outcome: PublishOutcome = serde_json::from_slice(&body).unwrap();
    assert_eq!(outcome.package.manifest.size, 3);
    assert!(
        !outcome.dht_record_stored,
        "a lone node has nobody to store the record"
    );
    assert!(!outcome.warnings.is_empty());

    let (status, body) = call(&router, get("/packages/api-pkg")).await;
    assert_eq!(status, StatusCode::OK);
    let hit: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(hit["name"], "api-pkg");
    assert_eq!(hit["local"], true);

    let (status, body) = call(&router, get("/search?q=api&scope=local")).await;
    assert_eq!(status, StatusCode::OK);
    let found: SearchOutcome = serde_json::from_slice(&body).unwrap();
    assert_eq!(found.hits.len(), 1);

    let (status, body) = call(&router, get("/packages")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        serde_json::from_slice::<Vec<Value>>(&body).unwrap().len(),
        1
    );

    let (status, body) = call(&router, get("/metrics")).await;
    assert_eq!(status, StatusCode::OK);
    let text = String::from_utf8(body).unwrap();
    for name in [
        "p2p_publish_seconds_count 1",
        "p2p_search_seconds_count{scope=\"local\"} 1",
        "p2p_packages_stored 1",
        "process_resident_memory_bytes",
        "libp2p_",
    ] {
        assert!(text.contains(name), "/metrics lacks {name}");
    }
    node.node.shutdown().await;
}

#[tokio::test]
async fn bad_input_gets_a_clear_error_and_the_node_stays_healthy() {
    let node = common::start_node().await;
    let router = node.node.api_router();
    let bad = StatusCode::BAD_REQUEST;

    expect_error(
        &router,
        post_json("/packages", publish_body("Bad Name", "1.0.0", b"x")),
        bad,
        "invalid package name",
    )
    .await;
    expect_error(
        &router,
        post_json("/packages", publish_body("-dash", "1.0.0", b"x")),
        bad,
        "invalid package name",
    )
    .await;
    expect_error(
        &router,
        post_json("/packages", publish_body("ok", "1.0", b"x")),
        bad,
        "invalid version",
    )
    .await;
    expect_error(
        &router,
        post_json("/packages", publish_body("ok", "latest", b"x")),
        bad,
        "invalid version",
    )
    .await;
    expect_error(
        &router,
        post_json("/packages", publish_body("ok", "1.0.0", b"")),
        bad,
        "content is empty",
    )
    .await;
    expect_error(
        &router,
        post_json("/packages", "{not json"),
        bad,
        "parse the request body",
    )
    .await;
    expect_error(
        &router,
        post_json("/packages", r#"{"name":"ok"}"#),
        StatusCode::UNPROCESSABLE_ENTITY,
        "missing field",
    )
    .await;
    let not_base64 = json!({"name": "ok", "version": "1.0.0", "content_base64": "%%%"}).to_string();
    expect_error(
        &router,
        post_json("/packages", not_base64),
        bad,
        "not valid base64",
    )
    .await;
    let wrong_type = Request::builder()
        .method(Method::POST)
        .uri("/packages")
        .header(header::CONTENT_TYPE, "text/plain")
        .body(Body::from(publish_body("ok", "1.0.0", b"x")))
        .unwrap();
    expect_error(
        &router,
        wrong_type,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "Content-Type",
    )
    .await;

    let oversized = "x".repeat(p2p_api::limits::MAX_BODY_BYTES + 1);
    let body = format!(r#"{{"name":"big","version":"1.0.0","content_base64":"{oversized}"}}"#);
    expect_error(
        &router,
        post_json("/packages", body),
        StatusCode::PAYLOAD_TOO_LARGE,
        "length limit",
    )
    .await;

    expect_error(
        &router,
        get("/no/such/route"),
        StatusCode::NOT_FOUND,
        "no such route",
    )
    .await;
    let delete_status = Request::builder()
        .method(Method::DELETE)
        .uri("/status")
        .body(Body::empty())
        .unwrap();
    expect_error(
        &router,
        delete_status,
        StatusCode::METHOD_NOT_ALLOWED,
        "method not allowed",
    )
    .await;
    expect_error(&router, get("/search?q="), bad, "q: the query is empty").await;
    expect_error(
        &router,
        get("/search?q=x&scope=everywhere"),
        bad,
        "unknown variant",
    )
    .await;
    expect_error(
        &router,
        get("/packages/nothing-here"),
        StatusCode::NOT_FOUND,
        "not known",
    )
    .await;
    expect_error(
        &router,
        get("/packages/x?version=one"),
        bad,
        "invalid version",
    )
    .await;
    expect_error(
        &router,
        post_json("/bootstrap", r#"{"peers":["not-a-multiaddr"]}"#),
        bad,
        "invalid multiaddr",
    )
    .await;
    expect_error(
        &router,
        post_json("/bootstrap", r#"{"peers":["/ip4/127.0.0.1/tcp/1"]}"#),
        StatusCode::BAD_GATEWAY,
        "could not reach any bootstrap address",
    )
    .await;
    expect_error(
        &router,
        post_json("/install", r#"{"name":"BAD"}"#),
        bad,
        "invalid package name",
    )
    .await;
    expect_error(
        &router,
        post_json("/bench/dht-lookup", r#"{"keys":["a"],"concurrency":0}"#),
        bad,
        "concurrency",
    )
    .await;
    expect_error(
        &router,
        post_json("/bench/gossip", r#"{"count":1,"payload_bytes":10000000}"#),
        bad,
        "payload_bytes",
    )
    .await;
    expect_error(
        &router,
        post_json(
            "/bench/rtt",
            r#"{"targets":["127.0.0.1:1"],"count":1,"timeout_ms":0}"#,
        ),
        bad,
        "timeout_ms",
    )
    .await;

    // Publishing other content under a taken name and version is a conflict.
    let (status, _) = call(
        &router,
        post_json("/packages", publish_body("taken", "1.0.0", b"one")),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    expect_error(
        &router,
        post_json("/packages", publish_body("taken", "1.0.0", b"two")),
        StatusCode::CONFLICT,
        "already published",
    )
    .await;

    assert_healthy(&router).await;
    let status = node.node.market().status().await.unwrap();
    assert_eq!(
        status.packages_stored, 1,
        "only the valid package was stored"
    );
    node.node.shutdown().await;
}

#[tokio::test]
async fn mutating_requests_need_the_token_when_one_is_set() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = common::config(dir.path());
    config.api_token = Some("s3cret".to_owned());
    let node = RunningNode::start(config).await.unwrap();
    let router = node.api_router();
    let body = || publish_body("guarded", "1.0.0", b"x");

    expect_error(
        &router,
        post_json("/packages", body()),
        StatusCode::UNAUTHORIZED,
        "requires an API token",
    )
    .await;
    let mut wrong = post_json("/packages", body());
    wrong
        .headers_mut()
        .insert(header::AUTHORIZATION, "Bearer nope".parse().unwrap());
    expect_error(
        &router,
        wrong,
        StatusCode::UNAUTHORIZED,
        "invalid API token",
    )
    .await;
    let clear = Request::builder()
        .method(Method::DELETE)
        .uri("/bench/gossip/received")
        .body(Body::empty())
        .unwrap();
    expect_error(
        &router,
        clear,
        StatusCode::UNAUTHORIZED,
        "requires an API token",
    )
    .await;

    let mut right = post_json("/packages", body());
    right
        .headers_mut()
        .insert(header::AUTHORIZATION, "Bearer s3cret".parse().unwrap());
    let (status, _) = call(&router, right).await;
    assert_eq!(status, StatusCode::CREATED);

    // The scheme is matched in any case.
    let mut lower = post_json("/packages", publish_body("guarded", "1.0.1", b"y"));
    lower
        .headers_mut()
        .insert(header::AUTHORIZATION, "bearer s3cret".parse().unwrap());
    let (status, _) = call(&router, lower).await;
    assert_eq!(status, StatusCode::CREATED);

    // Reads of the node's own state stay open; reads that use the network do not.
    assert_healthy(&router).await;
    for open in ["/search?q=guarded", "/status", "/packages", "/metrics"] {
        let (status, _) = call(&router, get(open)).await;
        assert_eq!(status, StatusCode::OK, "{open}");
    }
    for guarded in ["/lookup/guarded", "/search?q=guarded&scope=network"] {
        expect_error(
            &router,
            get(guarded),
            StatusCode::UNAUTHORIZED,
            "requires an API token",
        )
        .await;
    }
    node.shutdown().await;
}

/// The numbers and sizes that crashed or hung a node (issue 11) are refused, each naming its
/// field, and the node stays up.
#[tokio::test]
async fn hostile_numbers_and_sizes_are_refused_by_field() {
    let node = common::start_node().await;
    let router = node.node.api_router();
    let bad = StatusCode::BAD_REQUEST;
    let targets: Vec<String> = (0..32).map(|i| format!("127.0.0.1:{}", 1000 + i)).collect();
    // 32 × 2^59 wraps to 0 in unchecked arithmetic, and a count that large aborted the
    // process allocating for it.
    let rtt = json!({"targets": targets, "count": 1u64 << 59}).to_string();
    expect_error(&router, post_json("/bench/rtt", rtt), bad, "count").await;
    let rtt = json!({"targets": ["127.0.0.1:1", "127.0.0.1:2"], "count": 1u64 << 63}).to_string();
    expect_error(&router, post_json("/bench/rtt", rtt), bad, "count").await;
    let rtt = json!({"targets": targets, "count": 100, "timeout_ms": 60000}).to_string();
    expect_error(
        &router,
        post_json("/bench/rtt", rtt),
        bad,
        "targets × count × (timeout_ms + interval_ms)",
    )
    .await;
    let gossip = json!({"count": 1, "interval_ms": u64::MAX}).to_string();
    expect_error(
        &router,
        post_json("/bench/gossip", gossip),
        bad,
        "interval_ms",
    )
    .await;
    let gossip = json!({"count": 10000, "interval_ms": 60000}).to_string();
    expect_error(
        &router,
        post_json("/bench/gossip", gossip),
        bad,
        "count × interval_ms",
    )
    .await;
    for version in ["1".repeat(306), format!("1.0.0+{}", "a".repeat(5000))] {
        expect_error(
            &router,
            post_json("/packages", publish_body("long", &version, b"x")),
            bad,
            "version is",
        )
        .await;
        expect_error(
            &router,
            get(&format!("/packages/long?version={version}")),
            bad,
            "version is",
        )
        .await;
    }
    expect_error(&router, get("/search?q=x&limit=100000"), bad, "limit").await;
    expect_error(&router, get("/search?q=x&timeout_ms=0"), bad, "timeout_ms").await;
    let long_query = format!("/search?q={}", "a".repeat(300));
    expect_error(&router, get(&long_query), bad, "q: longer than").await;
    let search = json!({"queries": ["a".repeat(300)]}).to_string();
    expect_error(
        &router,
        post_json("/bench/search", search),
        bad,
        "queries[0]",
    )
    .await;
    let lookups = json!({"keys": ["ok", "Not A Name"]}).to_string();
    expect_error(
        &router,
        post_json("/bench/dht-lookup", lookups),
        bad,
        "keys[1]",
    )
    .await;
    let peers: Vec<String> = (0..65).map(|i| format!("/ip4/127.0.0.1/tcp/{i}")).collect();
    let bootstrap = json!({ "peers": peers }).to_string();
    expect_error(&router, post_json("/bootstrap", bootstrap), bad, "peers").await;
    expect_error(
        &router,
        get("/search?q=x&limit=99999999999999999999999"),
        bad,
        "limit",
    )
    .await;
    assert_healthy(&router).await;
    node.node.shutdown().await;
}

/// A client that sends its headers slowly (or never) is cut off after the header deadline.
#[tokio::test]
async fn a_client_that_never_finishes_its_headers_is_cut_off() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let dir = tempfile::tempdir().unwrap();
    let mut config = common::config(dir.path());
    config.api_header_timeout = std::time::Duration::from_millis(500);
    let node = RunningNode::start(config).await.unwrap();
    let mut stream = tokio::net::TcpStream::connect(node.api_addr())
        .await
        .unwrap();
    stream
        .write_all(b"GET /health HTTP/1.1\r\nHost: node\r\n")
        .await
        .unwrap();
    let started = std::time::Instant::now();
    let mut buf = Vec::new();
    let read = tokio::time::timeout(common::WAIT, stream.read_to_end(&mut buf)).await;
    assert!(read.is_ok(), "the connection was held open");
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    // A complete request on a fresh connection is still answered.
    let mut stream = tokio::net::TcpStream::connect(node.api_addr())
        .await
        .unwrap();
    stream
        .write_all(b"GET /health HTTP/1.1\r\nHost: node\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    node.shutdown().await;
}

/// Two publishes of the same name and version with different content at once: exactly one
/// wins, and what the node indexes is what it stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_publishes_of_one_name_and_version_have_one_winner() {
    let node = common::start_node().await;
    let router = node.node.api_router();
    for pair in 0..20 {
        let name = format!("race-{pair}");
        let (a, b) = tokio::join!(
            call(
                &router,
                post_json("/packages", publish_body(&name, "1.0.0", b"first"))
            ),
            call(
                &router,
                post_json("/packages", publish_body(&name, "1.0.0", b"second"))
            ),
        );
        let mut statuses = [a.0, b.0];
        statuses.sort();
        assert_eq!(
            statuses,
            [StatusCode::CREATED, StatusCode::CONFLICT],
            "pair {pair}"
        );
        let known = node.node.market().known(&name, None).unwrap();
        let stored: Value = serde_json::from_slice(
            &std::fs::read(
                node.dir
                    .path()
                    .join("packages")
                    .join(&name)
                    .join("1.0.0.json"),
            )
            .unwrap(),
        )
        .unwrap();
        assert_eq!(
            stored["sha256"], known.package.manifest.sha256,
            "pair {pair}"
        );
    }
    node.node.shutdown().await;
}
