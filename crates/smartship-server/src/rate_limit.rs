//! Per-token request rate limit (gateway error 18): a token bucket per
//! access token, refilled at `rate` per second, holding at most `2 × rate`.
//! Per process: with several nodes each enforces its own share.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Buckets idle this long are forgotten when the map is pruned.
const IDLE: Duration = Duration::from_secs(60);
/// Prune when the map grows past this many tokens.
const PRUNE_AT: usize = 100_000;

pub struct RateLimiter {
    rate: f64,
    burst: f64,
    buckets: Mutex<HashMap<String, (f64, Instant)>>,
}

impl RateLimiter {
    /// `rate` requests per second; 0 disables the limit.
    pub fn new(rate: f64) -> RateLimiter {
        RateLimiter {
            rate,
            burst: (rate * 2.0).max(1.0),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one request from `key`'s bucket; false when it is empty.
    pub fn allow(&self, key: &str) -> bool {
        self.allow_at(key, Instant::now())
    }

    fn allow_at(&self, key: &str, now: Instant) -> bool {
        if self.rate <= 0.0 {
            return true;
        }
        let mut buckets = self
            .buckets
            .lock()
            .expect("the limiter lock is never poisoned");
        if buckets.len() > PRUNE_AT {
            buckets.retain(|_, (_, last)| now.duration_since(*last) < IDLE);
        }
        let (tokens, last) = buckets.entry(key.to_owned()).or_insert((self.burst, now));
        *tokens = (*tokens + now.duration_since(*last).as_secs_f64() * self.rate).min(self.burst);
        *last = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bursts_then_refills_per_key() {
        let l = RateLimiter::new(2.0);
        let t0 = Instant::now();
        for _ in 0..4 {
            assert!(l.allow_at("a", t0));
        }
        assert!(!l.allow_at("a", t0), "burst of 2 × rate used up");
        assert!(l.allow_at("b", t0), "keys are independent");
        assert!(
            l.allow_at("a", t0 + Duration::from_millis(500)),
            "refilled one"
        );
        assert!(!l.allow_at("a", t0 + Duration::from_millis(500)));
        assert!(RateLimiter::new(0.0).allow("x"), "0 = off");
    }
}
