//! The exact iptables rules and tc commands the shaper generates, against files in
//! `tests/golden/`. After a deliberate change: `UPDATE_GOLDEN=1 cargo test --release --test golden`
//! and review the diff.

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use netem::{iptables, tc, Fabric, LinkOverrides, Profile, ShapedPeer, ShapingPlan};

const RUN: &str = "20261127-101500-beef";

fn check(name: &str, actual: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, actual).expect("writing a golden file");
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (UPDATE_GOLDEN=1 creates it)", path.display()));
    assert_eq!(actual, expected, "{name} differs from its golden file");
}

fn plan(fabric: Fabric, profile: Profile, peers: u8) -> ShapingPlan {
    let (subnet, base) = match fabric {
        Fabric::Bridge | Fabric::Overlay => ("10.99.0.0/16", [10, 99, 0]),
        Fabric::Loopback => ("127.77.0.0/16", [127, 77, 0]),
    };
    let peers = (0..peers)
        .map(|i| ShapedPeer {
            ip: Ipv4Addr::new(base[0], base[1], base[2], 2 + i),
            netns: Some(PathBuf::from(format!(
                "/proc/{}/ns/net",
                4000 + u32::from(i)
            ))),
            interface: "eth0".into(),
        })
        .collect();
    ShapingPlan::new(RUN, fabric, subnet.parse().unwrap(), peers, profile)
}

fn twenty_ms() -> Profile {
    Profile::uniform(netem::LinkSpec::delay(Duration::from_millis(20)))
}

#[test]
fn userspace_rules_on_a_docker_bridge() {
    let p = plan(Fabric::Bridge, twenty_ms(), 3);
    check(
        "iptables-bridge-userspace.rules",
        &iptables::setup_rules(&p, Some(4242)),
    );
}

#[test]
fn userspace_rules_on_a_swarm_overlay_leave_what_vxlan_brings_alone() {
    let p = plan(Fabric::Overlay, twenty_ms(), 3);
    check(
        "iptables-overlay-userspace.rules",
        &iptables::setup_rules(&p, Some(4242)),
    );
}

#[test]
fn userspace_rules_on_loopback() {
    let p = plan(Fabric::Loopback, twenty_ms(), 3);
    check(
        "iptables-loopback-userspace.rules",
        &iptables::setup_rules(&p, Some(4242)),
    );
}

#[test]
fn kernel_backend_rules_only_carry_partitions() {
    let p = plan(Fabric::Bridge, twenty_ms(), 3);
    check(
        "iptables-bridge-kernel.rules",
        &iptables::setup_rules(&p, None),
    );
}

#[test]
fn a_partition_and_its_healing() {
    let a = [Ipv4Addr::new(10, 99, 0, 2)];
    let b = [Ipv4Addr::new(10, 99, 0, 3), Ipv4Addr::new(10, 99, 0, 4)];
    check(
        "iptables-partition.rules",
        &iptables::partition_rules(RUN, &a, &b),
    );
    check("iptables-heal.rules", &iptables::heal_rules(RUN));
}

#[test]
fn removal_takes_one_run_or_all_and_nothing_else() {
    let listing = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/iptables-listing.txt"),
    )
    .unwrap();
    check(
        "iptables-remove-one.rules",
        &iptables::removal_rules(&listing, Some(RUN)).unwrap(),
    );
    check(
        "iptables-remove-all.rules",
        &iptables::removal_rules(&listing, None).unwrap(),
    );
    assert_eq!(
        iptables::removal_rules(&listing, Some("20990101-000000-0000")),
        None
    );
    assert_eq!(
        iptables::removal_rules("-P PREROUTING ACCEPT\n", None),
        None
    );
}

#[test]
fn kernel_qdiscs_for_a_region_matrix() {
    let p = plan(Fabric::Bridge, Profile::load("global").unwrap(), 7);
    check("tc-global-peer0.batch", &tc::peer_batch(&p, 0));
    let lossy = plan(Fabric::Bridge, Profile::load("mobile-3g").unwrap(), 3);
    check("tc-mobile-3g-peer1.batch", &tc::peer_batch(&lossy, 1));
    let flat = Profile::load("global")
        .unwrap()
        .with_overrides(&LinkOverrides {
            delay: Some(Duration::from_millis(20)),
            jitter: Some(Duration::ZERO),
            ..Default::default()
        })
        .unwrap();
    check(
        "tc-flat-20ms-peer0.batch",
        &tc::peer_batch(&plan(Fabric::Bridge, flat, 4), 0),
    );
}
