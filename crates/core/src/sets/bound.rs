//! `Bound`: the element types that interval sets and piecewise maps range
//! over (ports, protocol numbers, IPv4/IPv6 addresses as integers).
//!
//! Everything in `sets` works on inclusive ranges `[lo, hi]`, so the only
//! arithmetic needed is "the next / previous value, if any". Keeping it to
//! `Option`-returning `succ`/`pred` is what lets the set code handle `MAX`
//! and `MIN` without overflow and without panics.

use std::fmt::Debug;
use std::hash::Hash;

/// A totally ordered, finite, discrete element type with known extremes.
pub trait Bound: Copy + Ord + Debug + Hash + Send + Sync + 'static {
    /// The smallest value of the domain.
    const MIN: Self;
    /// The largest value of the domain.
    const MAX: Self;
    /// `self + 1`, or `None` at `MAX`.
    fn succ(self) -> Option<Self>;
    /// `self - 1`, or `None` at `MIN`.
    fn pred(self) -> Option<Self>;
    /// Lossless widening, used for cardinalities (`count`).
    fn as_u128(self) -> u128;
}

macro_rules! impl_bound {
    ($($t:ty),*) => {$(
        impl Bound for $t {
            const MIN: Self = <$t>::MIN;
            const MAX: Self = <$t>::MAX;
            #[inline]
            fn succ(self) -> Option<Self> {
                self.checked_add(1)
            }
            #[inline]
            fn pred(self) -> Option<Self> {
                self.checked_sub(1)
            }
            #[inline]
            fn as_u128(self) -> u128 {
                u128::from(self)
            }
        }
    )*};
}

impl_bound!(u8, u16, u32, u64, u128);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn succ_pred_at_the_edges() {
        assert_eq!(<u8 as Bound>::MAX.succ(), None);
        assert_eq!(<u8 as Bound>::MIN.pred(), None);
        assert_eq!(254u8.succ(), Some(255));
        assert_eq!(1u16.pred(), Some(0));
        assert_eq!(u128::MAX.succ(), None);
        assert_eq!(0u128.pred(), None);
        assert_eq!(u32::MAX.as_u128(), 4_294_967_295);
    }
}
