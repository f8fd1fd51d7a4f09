//! How long a TCP connection of the node waits between retransmissions.
//!
//! Linux doubles a connection's retransmission timeout with every unanswered retransmission,
//! up to 120 s. A connection that sent into a partition (or any outage) of a few seconds is
//! then asleep for as long again after the link is back: a 5-s partition of half the peers
//! left some 280 connections in back-off of up to 16.7 s, and lookups and installs over them
//! waited for that, not for the network (`partition_recovery` p99 3–6 s after a heal at 20 ms,
//! docs/BENCHMARKS.md). A deployment wants the same: a peer behind a flaky link should be
//! reachable again a moment after the link is.
//!
//! Linux 6.15 lets a socket cap the back-off (`TCP_RTO_MAX_MS`); the node caps it at
//! [`RTO_MAX_MS`], so a connection retries at least once a second. Capping alone would shorten
//! how long a connection survives an outage: the kernel gives up after a number of
//! retransmissions (`tcp_retries2`, 15), which at one second apart is ~13 s instead of
//! ~15 minutes. So the node first sets `TCP_USER_TIMEOUT` to what that default amounts to,
//! [`OUTAGE_LIFETIME_MS`]; where that cannot be set, the back-off is left alone. On a kernel
//! without the cap the connection keeps Linux's default back-off, said once in the log.
//!
//! The option is not in libc or nix yet (its right place); nix's own macro names it here, so
//! the crate stays free of `unsafe`.

use std::sync::Once;

use nix::errno::Errno;
use nix::sys::socket::{setsockopt, sockopt::TcpUserTimeout};
use nix::{getsockopt_impl, libc, setsockopt_impl, sockopt_impl};

/// The longest wait between two retransmissions of a connection.
pub(super) const RTO_MAX_MS: u32 = 1_000;

/// How long a connection survives an outage: what Linux's default back-off (200 ms doubling
/// to 120 s, 15 retransmissions) amounts to.
pub(super) const OUTAGE_LIFETIME_MS: u32 = 924_600;

/// `TCP_RTO_MAX_MS` of `linux/tcp.h` (Linux 6.15).
const TCP_RTO_MAX_MS: libc::c_int = 44;

sockopt_impl!(
    /// The cap on a connection's retransmission timeout, in milliseconds.
    TcpRtoMaxMs,
    Both,
    libc::IPPROTO_TCP,
    TCP_RTO_MAX_MS,
    u32
);

/// Caps the retransmission back-off of `stream` at [`RTO_MAX_MS`], keeping its lifetime under an
/// outage at [`OUTAGE_LIFETIME_MS`]. Never fails the connection: a socket that takes neither
/// keeps Linux's defaults.
pub(super) fn cap_back_off(stream: &tokio::net::TcpStream) {
    if let Err(error) = setsockopt(stream, TcpUserTimeout, &OUTAGE_LIFETIME_MS) {
        tracing::warn!(%error, "TCP_USER_TIMEOUT not set; the retransmission back-off is left at Linux's default");
        return;
    }
    match setsockopt(stream, TcpRtoMaxMs, &RTO_MAX_MS) {
        Ok(()) => {}
        Err(Errno::ENOPROTOOPT | Errno::EINVAL) => {
            static UNSUPPORTED: Once = Once::new();
            UNSUPPORTED.call_once(|| {
                tracing::info!(
                    "this kernel cannot cap TCP's retransmission back-off (TCP_RTO_MAX_MS, Linux 6.15): connections keep the default, up to 120 s after an outage"
                );
            });
        }
        Err(error) => {
            tracing::warn!(%error, "TCP_RTO_MAX_MS not set; the retransmission back-off is left at Linux's default");
        }
    }
}

/// The back-off cap of `stream` in milliseconds, `None` where the kernel has no such option.
#[cfg(test)]
pub(super) fn back_off_cap(stream: &tokio::net::TcpStream) -> Option<u32> {
    nix::sys::socket::getsockopt(stream, TcpRtoMaxMs).ok()
}

/// The lifetime of `stream` under an outage in milliseconds (`TCP_USER_TIMEOUT`, 0: the
/// kernel's default).
#[cfg(test)]
pub(super) fn lifetime(stream: &tokio::net::TcpStream) -> u32 {
    nix::sys::socket::getsockopt(stream, TcpUserTimeout).expect("TCP_USER_TIMEOUT is readable")
}
