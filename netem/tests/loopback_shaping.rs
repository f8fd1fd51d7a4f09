//! The userspace delay line on this machine, for real: two endpoints on loopback addresses,
//! 20 ms one way configured, a TCP handshake must take 40 ms ± 2 ms; a partition blocks and
//! heals; nothing is left in iptables afterwards. Needs root (CI runs as root).

use std::net::{Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use netem::probe::Backend;
use netem::{iptables, names, verify, ActiveShaping, LinkSpec, Profile, ShapingPlan};
use tokio::net::{TcpListener, TcpSocket};

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .map(|l| l.split_whitespace().nth(2) == Some("0"))
        })
        .unwrap_or(false)
}

/// Time of one TCP handshake from `from` to `to`, or `None` when it did not complete in
/// `timeout`.
async fn handshake(from: Ipv4Addr, to: SocketAddr, timeout: Duration) -> Option<Duration> {
    let socket = TcpSocket::new_v4().expect("socket");
    socket.bind(SocketAddr::new(from.into(), 0)).expect("bind");
    let started = Instant::now();
    match tokio::time::timeout(timeout, socket.connect(to)).await {
        Ok(Ok(_stream)) => Some(started.elapsed()),
        _ => None,
    }
}

async fn median_rtt(from: Ipv4Addr, to: SocketAddr) -> Duration {
    let mut samples = Vec::new();
    for _ in 0..9 {
        samples.push(
            handshake(from, to, Duration::from_secs(3))
                .await
                .expect("handshake"),
        );
    }
    verify::median(&samples).expect("samples")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_ms_gives_forty_ms_rtt_partitions_block_and_heal_and_nothing_remains() {
    if !is_root() {
        eprintln!("SKIPPED: link shaping needs root; run the tests as root (CI does)");
        return;
    }
    let (a, b) = (Ipv4Addr::new(127, 78, 0, 1), Ipv4Addr::new(127, 78, 0, 2));
    let listener = TcpListener::bind((b, 0)).await.expect("listen");
    let target = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            drop(stream);
        }
    });
    let unshaped = median_rtt(a, target).await;

    let run_id = format!("netem-it-{}", std::process::id());
    let plan = ShapingPlan::loopback(
        &run_id,
        "127.78.0.0/16".parse().unwrap(),
        &[a, b],
        Profile::uniform(LinkSpec::delay(Duration::from_millis(20))),
    );
    let mut shaping = ActiveShaping::apply(plan, Backend::Userspace, 1).expect("shaping applies");
    assert!(iptables::chains_present()
        .unwrap()
        .contains(&names::chain(&run_id)));

    let shaped = median_rtt(a, target).await;
    let configured = shaping.plan().configured_rtt(0, 1);
    assert_eq!(configured, Duration::from_millis(40));
    assert!(
        verify::within_tolerance(configured, shaped)
            && shaped.abs_diff(configured) <= Duration::from_millis(2),
        "configured {configured:?}, measured {shaped:?} (unshaped {unshaped:?})"
    );

    eprintln!("unshaped {unshaped:?}, configured {configured:?}, measured {shaped:?}");
    shaping.partition(&[0], &[1]).expect("partition");
    assert_eq!(
        handshake(a, target, Duration::from_millis(500)).await,
        None,
        "a handshake crossed the partition"
    );
    shaping.heal().expect("heal");
    let healed = median_rtt(a, target).await;
    assert!(
        healed.abs_diff(configured) <= Duration::from_millis(2),
        "after healing: {healed:?}"
    );

    let report = shaping.teardown();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    let stats = report.delay_line.expect("the delay line ran");
    assert!(stats.released > 0 && stats.recv_errors == 0, "{stats:?}");
    let present = iptables::chains_present().unwrap();
    assert!(
        !present
            .iter()
            .any(|c| c.starts_with(&names::chain(&run_id))),
        "left behind: {present:?}"
    );
    let after = median_rtt(a, target).await;
    assert!(
        after < Duration::from_millis(5),
        "still delayed after teardown: {after:?}"
    );
}
