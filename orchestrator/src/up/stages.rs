//! The steps of a bring-up and how long each took: where the time until ready goes.

use std::time::Instant;

use crate::results::ReadyStage;

/// Times consecutive steps: each [`mark`](Self::mark) ends a step that began at the previous
/// mark (or at the start).
#[derive(Debug)]
pub(super) struct Stages {
    last: Instant,
    done: Vec<ReadyStage>,
}

impl Stages {
    /// Steps timed from `start`, the moment `up` began.
    pub(super) fn since(start: Instant) -> Self {
        Self {
            last: start,
            done: Vec::new(),
        }
    }

    /// Ends the step `stage` now.
    pub(super) fn mark(&mut self, stage: &str) {
        let now = Instant::now();
        self.done.push(ReadyStage {
            stage: stage.to_owned(),
            seconds: now.saturating_duration_since(self.last).as_secs_f64(),
        });
        self.last = now;
    }

    pub(super) fn into_done(self) -> Vec<ReadyStage> {
        self.done
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn steps_are_kept_in_order_and_add_up_to_the_time_since_the_start() {
        let start = Instant::now();
        let mut stages = Stages::since(start);
        std::thread::sleep(Duration::from_millis(20));
        stages.mark("launch");
        stages.mark("health");
        std::thread::sleep(Duration::from_millis(10));
        stages.mark("bootstrap");
        let total = start.elapsed().as_secs_f64();
        let done = stages.into_done();
        let names: Vec<&str> = done.iter().map(|s| s.stage.as_str()).collect();
        assert_eq!(names, ["launch", "health", "bootstrap"]);
        assert!(done[0].seconds >= 0.020, "{done:?}");
        assert!(done[2].seconds >= 0.010, "{done:?}");
        let sum: f64 = done.iter().map(|s| s.seconds).sum();
        assert!(sum <= total + 1e-9, "{sum} > {total}");
        assert!(sum >= 0.030, "{sum}");
    }
}
