//! The generator's random numbers: ChaCha8 streams, one per purpose, and the few draws the
//! generator makes.
//!
//! Every draw is computed here from raw `u64`s of [`ChaCha8Rng`], whose output is fixed for a
//! seed on every platform and version; `rand`'s own range and float helpers are not promised to
//! stay value-stable across releases, so they are not used. Streams are derived from the seed
//! and a stream number (the plan, each account, the queries), so accounts can be generated in
//! parallel and the output does not depend on the number of threads.

use rand::{Rng as _, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// SplitMix64's finaliser: a bijection on `u64` that scatters bits (used for ids and seeds).
pub fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// A deterministic random stream.
pub struct Rng(ChaCha8Rng);

impl Rng {
    /// The stream `stream` of the generation seeded with `seed`.
    pub fn new(seed: u64, stream: u64) -> Rng {
        Rng(ChaCha8Rng::seed_from_u64(
            mix(seed) ^ mix(stream ^ 0x5EED_0000),
        ))
    }

    pub fn u64(&mut self) -> u64 {
        self.0.next_u64()
    }

    /// Uniform in `0..n` (Lemire's multiply-shift; the tiny bias is irrelevant here). `n > 0`.
    pub fn below(&mut self, n: usize) -> usize {
        debug_assert!(n > 0);
        ((self.u64() as u128 * n as u128) >> 64) as usize
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below(hi - lo + 1)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// One element of a non-empty slice.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    /// An index drawn with the given weights (not all zero).
    pub fn weighted(&mut self, weights: &[f64]) -> usize {
        let total: f64 = weights.iter().sum();
        let mut x = self.unit() * total;
        for (i, w) in weights.iter().enumerate() {
            if x < *w {
                return i;
            }
            x -= w;
        }
        weights.len() - 1
    }

    /// A Pareto-distributed weight with shape `alpha` (minimum 1), capped at `cap`: the heavy
    /// tail of rule counts and VPC sizes.
    pub fn pareto(&mut self, alpha: f64, cap: f64) -> f64 {
        let u = 1.0 - self.unit(); // (0, 1]
        u.powf(-1.0 / alpha).min(cap)
    }

    /// Fisher–Yates shuffle.
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i + 1);
            items.swap(i, j);
        }
    }
}

/// Splits `total` into parts proportional to `weights`, each at least `min`, summing exactly to
/// `total` (largest remainder). When `total < min × n`, every part is `min` and the sum exceeds
/// `total`: callers choose totals that leave room.
pub fn apportion(total: usize, weights: &[f64], min: usize) -> Vec<usize> {
    let n = weights.len();
    if n == 0 {
        return Vec::new();
    }
    let spare = total.saturating_sub(min * n);
    let sum: f64 = weights.iter().sum::<f64>().max(f64::MIN_POSITIVE);
    let exact: Vec<f64> = weights.iter().map(|w| spare as f64 * w / sum).collect();
    let mut parts: Vec<usize> = exact.iter().map(|e| e.floor() as usize).collect();
    let mut left = spare.saturating_sub(parts.iter().sum());
    let mut order: Vec<usize> = (0..n).collect();
    // Largest fractional part first; index order breaks ties (deterministic).
    order.sort_by(|&a, &b| {
        let fa = exact[a] - exact[a].floor();
        let fb = exact[b] - exact[b].floor();
        fb.total_cmp(&fa).then(a.cmp(&b))
    });
    for &i in order.iter().cycle() {
        if left == 0 {
            break;
        }
        parts[i] += 1;
        left -= 1;
    }
    parts.iter().map(|p| p + min).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_reproducible_and_distinct() {
        let a: Vec<u64> = (0..4).map(|_| Rng::new(7, 1).u64()).collect();
        assert!(a.windows(2).all(|w| w[0] == w[1]));
        assert_ne!(Rng::new(7, 1).u64(), Rng::new(7, 2).u64());
        assert_ne!(Rng::new(7, 1).u64(), Rng::new(8, 1).u64());
    }

    #[test]
    fn apportion_is_exact() {
        let parts = apportion(100, &[1.0, 2.0, 3.5, 0.1], 2);
        assert_eq!(parts.iter().sum::<usize>(), 100);
        assert!(parts.iter().all(|&p| p >= 2));
        assert_eq!(apportion(7, &[1.0, 1.0, 1.0], 0).iter().sum::<usize>(), 7);
    }
}
