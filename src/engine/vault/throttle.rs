//! The unlock throttle: a pure policy from (failures so far, time of the last one) to how long the next attempt must wait.
//!
//! Its state is the storage item [`THROTTLE_KEY`], `{ "failures": n, "last_failure_at": unix_ms }`,
//! so a worker restart does not reset it. It is a speed bump for someone at the keyboard: anyone
//! who can write extension storage can also delete it, and an offline guesser faces Argon2
//! instead. The glue enforces it; [`unlock`](crate::engine::vault::unlock) refuses early attempts.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Storage key of the throttle state.
pub const THROTTLE_KEY: &str = "vault:throttle";
/// Failures allowed before any delay.
pub const FREE_FAILURES: u32 = 3;
/// The first delay, doubled with every further failure...
pub const FIRST_DELAY_MS: u64 = 1_000;
/// ...up to this.
pub const MAX_DELAY_MS: u64 = 5 * 60 * 1_000;

/// Wrong passphrases since the last successful unlock.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Throttle {
    pub failures: u32,
    /// Unix milliseconds of the latest failure.
    pub last_failure_at: u64,
}

impl Throttle {
    /// Reads the stored state; a missing or unreadable item counts as no failures.
    pub fn from_item(item: Option<Value>) -> Self {
        item.and_then(|v| serde_json::from_value(v).ok()).unwrap_or_default()
    }

    pub fn to_item(&self) -> Value {
        serde_json::to_value(self).expect("plain numbers")
    }

    /// How long after the latest failure the next attempt may be made.
    pub fn delay_ms(&self) -> u64 {
        if self.failures < FREE_FAILURES {
            return 0;
        }
        let doublings = (self.failures - FREE_FAILURES).min(32);
        FIRST_DELAY_MS.saturating_mul(1u64 << doublings).min(MAX_DELAY_MS)
    }

    /// The earliest unix millisecond at which an attempt is allowed.
    pub fn earliest_next_attempt(&self) -> u64 {
        if self.delay_ms() == 0 {
            0
        } else {
            self.last_failure_at.saturating_add(self.delay_ms())
        }
    }

    /// Milliseconds still to wait at `now` (0: go ahead).
    pub fn wait_ms(&self, now: u64) -> u64 {
        self.earliest_next_attempt().saturating_sub(now)
    }

    /// The state after one more wrong passphrase at `now`.
    pub fn after_failure(&self, now: u64) -> Self {
        Throttle { failures: self.failures.saturating_add(1), last_failure_at: now }
    }

    /// The clock reads earlier than the last failure (it was set back): waiting for the stored
    /// time could take arbitrarily long, so the delay restarts from `now` instead.
    pub fn clock_went_back(&self, now: u64) -> bool {
        self.delay_ms() > 0 && now < self.last_failure_at
    }

    /// The same count, re-anchored at `now` (see [`Throttle::clock_went_back`]).
    pub fn reanchored(&self, now: u64) -> Self {
        Throttle { failures: self.failures, last_failure_at: now }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_after_the_free_failures_and_are_capped() {
        let mut t = Throttle::default();
        let mut delays = Vec::new();
        for i in 0..14 {
            t = t.after_failure(1_000 * i);
            delays.push(t.delay_ms());
        }
        assert_eq!(&delays[..6], &[0, 0, 1_000, 2_000, 4_000, 8_000]);
        assert_eq!(*delays.last().unwrap(), MAX_DELAY_MS);
        assert!(delays.windows(2).all(|w| w[0] <= w[1]));
        assert_eq!(Throttle { failures: u32::MAX, last_failure_at: 0 }.delay_ms(), MAX_DELAY_MS);
    }

    #[test]
    fn waiting_counts_from_the_last_failure() {
        let t = Throttle { failures: 4, last_failure_at: 10_000 };
        assert_eq!(t.earliest_next_attempt(), 12_000);
        assert_eq!(t.wait_ms(10_500), 1_500);
        assert_eq!(t.wait_ms(12_000), 0);
        assert_eq!(Throttle { failures: 2, last_failure_at: 10_000 }.wait_ms(10_000), 0);
    }

    #[test]
    fn a_clock_set_back_restarts_the_delay_instead_of_locking_out() {
        let t = Throttle { failures: 5, last_failure_at: 1_000_000 };
        assert!(t.clock_went_back(5_000));
        let r = t.reanchored(5_000);
        assert_eq!(r.wait_ms(5_000), t.delay_ms());
        assert_eq!(r.wait_ms(5_000 + t.delay_ms()), 0);
    }

    #[test]
    fn unreadable_state_counts_as_none() {
        assert_eq!(Throttle::from_item(Some(serde_json::json!("junk"))), Throttle::default());
        let t = Throttle { failures: 3, last_failure_at: 7 };
        assert_eq!(Throttle::from_item(Some(t.to_item())), t);
    }
}
