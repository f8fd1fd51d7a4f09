//! The model of one directed link: what a packet from one peer to another goes through.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// How jitter is drawn around the link's delay.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JitterDistribution {
    /// Uniform in `delay ± jitter`.
    #[default]
    Uniform,
    /// Normal with mean `delay` and standard deviation `jitter` (netem's `distribution normal`).
    Normal,
}

impl JitterDistribution {
    pub fn name(self) -> &'static str {
        match self {
            Self::Uniform => "uniform",
            Self::Normal => "normal",
        }
    }
}

/// One direction of a link between two peers. `Default` is a perfect link (no delay, no loss,
/// unlimited bandwidth).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct LinkSpec {
    /// One-way delay. The round trip between two peers is the sum of both directions.
    pub delay: Duration,
    /// Spread of the delay; zero keeps every packet at exactly `delay`.
    pub jitter: Duration,
    pub distribution: JitterDistribution,
    /// Whether jitter may reorder packets. When false (the default) a packet never leaves
    /// before the one sent ahead of it on the same link, as on a real wire.
    pub reorder: bool,
    /// Fraction of packets dropped, 0.0 to 1.0.
    pub loss: f64,
    /// Bits per second; `None` is unlimited.
    pub bandwidth_bps: Option<u64>,
    /// Packets the link holds at most (waiting for bandwidth or delay) before it drops new
    /// ones; `None` is the backend's default.
    pub queue_limit: Option<u32>,
}

impl LinkSpec {
    /// A link that only delays.
    pub fn delay(delay: Duration) -> Self {
        Self {
            delay,
            ..Self::default()
        }
    }

    /// Whether this link changes anything at all.
    pub fn is_perfect(&self) -> bool {
        self.delay.is_zero()
            && self.jitter.is_zero()
            && self.loss == 0.0
            && self.bandwidth_bps.is_none()
    }

    /// Checks the values a user could get wrong.
    pub fn validate(&self) -> Result<(), String> {
        if !(0.0..=1.0).contains(&self.loss) || self.loss.is_nan() {
            return Err(format!(
                "loss {} is not a fraction between 0 and 1",
                self.loss
            ));
        }
        if self.bandwidth_bps == Some(0) {
            return Err("bandwidth 0 would block the link; leave it unset for unlimited".into());
        }
        if self.queue_limit == Some(0) {
            return Err("queue limit 0 would drop every packet".into());
        }
        if self.delay > Duration::from_secs(10) || self.jitter > Duration::from_secs(10) {
            return Err(format!(
                "delay {:?} / jitter {:?}: more than 10 s is not a network",
                self.delay, self.jitter
            ));
        }
        Ok(())
    }
}

/// Round-trip time two links give: one way there, the other way back.
pub fn round_trip(there: &LinkSpec, back: &LinkSpec) -> Duration {
    there.delay + back.delay
}
