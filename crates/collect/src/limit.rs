//! Politeness: a token bucket per account and region, so peerscope stays under EC2's request
//! rate limits and leaves room for the account's other API users.
//!
//! EC2 throttles per account and region with token buckets; for non-mutating actions
//! (`Describe*`) the documented bucket holds 100 tokens and refills 20 per second, and
//! unpaginated `DescribeSecurityGroups`/`DescribeNetworkInterfaces` fall into a smaller one
//! (50, refilling 10 per second) — which is why every call here passes `MaxResults`. We take
//! half of the describe bucket: [`EC2_BURST`] and [`EC2_RATE`].

use std::time::{Duration, Instant};

/// Burst of requests per account-region (half of EC2's 100-token describe bucket).
pub const EC2_BURST: f64 = 50.0;
/// Sustained requests per second per account-region (half of EC2's 20/s refill).
pub const EC2_RATE: f64 = 10.0;

/// A token bucket, on plain numbers: the async wrapper sleeps for the wait [`Bucket::take`]
/// returns.
#[derive(Clone, Debug)]
pub struct Bucket {
    capacity: f64,
    rate: f64,
    tokens: f64,
    last: Instant,
}

impl Bucket {
    pub fn new(capacity: f64, rate: f64, now: Instant) -> Bucket {
        Bucket {
            capacity,
            rate,
            tokens: capacity,
            last: now,
        }
    }

    /// Takes a token at `now`: `None` when one was available, else how long to wait before
    /// trying again.
    pub fn take(&mut self, now: Instant) -> Option<Duration> {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.rate).min(self.capacity);
        self.last = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            None
        } else {
            Some(Duration::from_secs_f64((1.0 - self.tokens) / self.rate))
        }
    }
}

/// The shared, async form of [`Bucket`].
#[derive(Debug)]
pub struct RateLimiter(tokio::sync::Mutex<Bucket>);

impl RateLimiter {
    pub fn ec2() -> RateLimiter {
        RateLimiter(tokio::sync::Mutex::new(Bucket::new(
            EC2_BURST,
            EC2_RATE,
            Instant::now(),
        )))
    }

    /// Waits until a request may be sent.
    pub async fn acquire(&self) {
        loop {
            let wait = self.0.lock().await.take(Instant::now());
            match wait {
                None => return,
                Some(d) => tokio::time::sleep(d).await,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_then_refill_at_the_rate() {
        let t0 = Instant::now();
        let mut b = Bucket::new(3.0, 10.0, t0);
        assert_eq!(b.take(t0), None);
        assert_eq!(b.take(t0), None);
        assert_eq!(b.take(t0), None);
        let wait = b.take(t0).expect("empty after the burst");
        assert!((wait.as_secs_f64() - 0.1).abs() < 1e-9, "{wait:?}");
        // After 100 ms one token is back, and only one.
        let t1 = t0 + Duration::from_millis(100);
        assert_eq!(b.take(t1), None);
        assert!(b.take(t1).is_some());
    }

    #[test]
    fn never_holds_more_than_its_capacity() {
        let t0 = Instant::now();
        let mut b = Bucket::new(2.0, 10.0, t0);
        let later = t0 + Duration::from_secs(60);
        assert_eq!(b.take(later), None);
        assert_eq!(b.take(later), None);
        assert!(b.take(later).is_some());
    }
}
