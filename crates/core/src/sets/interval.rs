//! `IntervalSet<T>`: a set of `T` stored as sorted, disjoint, non-adjacent
//! inclusive ranges.
//!
//! The representation is canonical — every set has exactly one range list —
//! so derived `==`/`Hash` are set equality/hashing. All binary operations
//! are single linear merges over the two range lists: their cost is
//! `O(n + m)` in the number of ranges, independent of how many elements the
//! ranges cover.

use std::fmt;
use std::ops::{BitAnd, BitOr, Not, Sub};

use serde::ser::{Serialize, SerializeSeq, Serializer};

use super::bound::Bound;
use super::lattice::Lattice;

/// A set of `T` as canonical inclusive ranges.
///
/// Invariant (kept private so it cannot be broken): for every range
/// `lo <= hi`, and for consecutive ranges `a`, `b`: `a.hi + 1 < b.lo`
/// (sorted, disjoint and not touching).
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct IntervalSet<T: Bound> {
    ranges: Vec<(T, T)>,
}

impl<T: Bound> Default for IntervalSet<T> {
    fn default() -> Self {
        Self::new()
    }
}

/// Append `[lo, hi]` to a range list sorted by `lo`, merging with the last
/// range when they overlap or touch. Callers guarantee `lo >= last.lo` and
/// `lo <= hi`; this is the single place where canonical form is produced.
#[inline]
fn push_coalesce<T: Bound>(out: &mut Vec<(T, T)>, lo: T, hi: T) {
    if let Some(last) = out.last_mut() {
        // `None` means `last.1 == MAX`, so everything after touches it.
        if last.1.succ().is_none_or(|next| lo <= next) {
            if hi > last.1 {
                last.1 = hi;
            }
            return;
        }
    }
    out.push((lo, hi));
}

impl<T: Bound> IntervalSet<T> {
    /// The empty set.
    pub const fn new() -> Self {
        Self { ranges: Vec::new() }
    }

    /// The empty set (alias of [`IntervalSet::new`]).
    pub const fn empty() -> Self {
        Self::new()
    }

    /// The whole domain `[T::MIN, T::MAX]`.
    pub fn full() -> Self {
        Self {
            ranges: vec![(T::MIN, T::MAX)],
        }
    }

    /// The inclusive range `[lo, hi]`; empty when `lo > hi`.
    pub fn from_range(lo: T, hi: T) -> Self {
        if lo > hi {
            Self::new()
        } else {
            Self {
                ranges: vec![(lo, hi)],
            }
        }
    }

    /// A single element.
    pub fn singleton(x: T) -> Self {
        Self::from_range(x, x)
    }

    /// Build from inclusive ranges in any order, overlapping or not.
    /// Ranges with `lo > hi` are ignored (they are empty).
    ///
    /// Costs `O(k log k)` for `k` ranges, or `O(k)` when the input is
    /// already sorted (checked, not trusted).
    pub fn from_ranges<I: IntoIterator<Item = (T, T)>>(ranges: I) -> Self {
        let mut v: Vec<(T, T)> = ranges.into_iter().filter(|&(lo, hi)| lo <= hi).collect();
        if !v.is_sorted_by_key(|r| r.0) {
            v.sort_unstable_by_key(|r| r.0);
        }
        // Coalesce in place: `prev` is the last kept range, `cur` the next.
        v.dedup_by(|cur, prev| {
            if prev.1.succ().is_none_or(|next| cur.0 <= next) {
                if cur.1 > prev.1 {
                    prev.1 = cur.1;
                }
                true
            } else {
                false
            }
        });
        Self { ranges: v }
    }

    /// The canonical ranges, ascending.
    pub fn ranges(&self) -> &[(T, T)] {
        &self.ranges
    }

    /// Iterate the canonical ranges by value.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (T, T)> + '_ {
        self.ranges.iter().copied()
    }

    /// Number of canonical ranges (not elements; see [`IntervalSet::count`]).
    pub fn range_count(&self) -> usize {
        self.ranges.len()
    }

    /// Whether `x` is in the set. `O(log n)`.
    pub fn contains(&self, x: T) -> bool {
        // First range whose end is >= x; x is in the set iff it starts <= x.
        let i = self.ranges.partition_point(|&(_, hi)| hi < x);
        self.ranges.get(i).is_some_and(|&(lo, _)| lo <= x)
    }

    /// Whether every element of `[lo, hi]` is in the set (`true` when
    /// `lo > hi`: the empty range is a subset of anything). `O(log n)`.
    pub fn contains_range(&self, lo: T, hi: T) -> bool {
        if lo > hi {
            return true;
        }
        // Canonical form: a contained range lies inside one stored range.
        let i = self.ranges.partition_point(|&(_, h)| h < lo);
        self.ranges.get(i).is_some_and(|&(l, h)| l <= lo && hi <= h)
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    /// Whether the set is the whole domain.
    pub fn is_full(&self) -> bool {
        matches!(self.ranges.as_slice(), [(lo, hi)] if *lo == T::MIN && *hi == T::MAX)
    }

    /// The smallest element.
    pub fn first(&self) -> Option<T> {
        self.ranges.first().map(|r| r.0)
    }

    /// The largest element.
    pub fn last(&self) -> Option<T> {
        self.ranges.last().map(|r| r.1)
    }

    /// Number of elements. Saturates at `u128::MAX` — only reachable for
    /// `IntervalSet<u128>` covering (nearly) the whole domain, whose true
    /// size `2^128` does not fit.
    pub fn count(&self) -> u128 {
        self.ranges.iter().fold(0u128, |acc, &(lo, hi)| {
            acc.saturating_add((hi.as_u128() - lo.as_u128()).saturating_add(1))
        })
    }

    /// `self ∪ other`, one linear merge.
    pub fn union(&self, other: &Self) -> Self {
        if self.is_empty() {
            return other.clone();
        }
        if other.is_empty() {
            return self.clone();
        }
        let (a, b) = (&self.ranges, &other.ranges);
        let mut out = Vec::with_capacity(a.len() + b.len());
        let (mut i, mut j) = (0, 0);
        // Feed ranges in `lo` order; push_coalesce does the merging.
        loop {
            let (lo, hi) = match (a.get(i), b.get(j)) {
                (Some(&x), Some(&y)) if x.0 <= y.0 => {
                    i += 1;
                    x
                }
                (_, Some(&y)) => {
                    j += 1;
                    y
                }
                (Some(&x), None) => {
                    i += 1;
                    x
                }
                (None, None) => break,
            };
            push_coalesce(&mut out, lo, hi);
        }
        Self { ranges: out }
    }

    /// `self ∩ other`, one linear merge.
    pub fn intersection(&self, other: &Self) -> Self {
        let (a, b) = (&self.ranges, &other.ranges);
        let mut out = Vec::new();
        let (mut i, mut j) = (0, 0);
        while let (Some(&(alo, ahi)), Some(&(blo, bhi))) = (a.get(i), b.get(j)) {
            let lo = alo.max(blo);
            let hi = ahi.min(bhi);
            if lo <= hi {
                // Already canonical: two output pieces can only touch if
                // both neighbours were in one range of each input, in which
                // case they would be one piece.
                out.push((lo, hi));
            }
            // Drop whichever range ends first; the other may still overlap
            // the next range of the other side.
            if ahi < bhi {
                i += 1;
            } else {
                j += 1;
            }
        }
        Self { ranges: out }
    }

    /// `self \ other`, one linear merge.
    pub fn difference(&self, other: &Self) -> Self {
        if self.is_empty() || other.is_empty() {
            return self.clone();
        }
        let (a, b) = (&self.ranges, &other.ranges);
        let mut out = Vec::with_capacity(a.len() + 1);
        let mut j = 0;
        for &(alo, ahi) in a {
            // b ranges wholly before this a range can't affect it (nor any
            // later a range, which starts even later).
            while b.get(j).is_some_and(|&(_, bhi)| bhi < alo) {
                j += 1;
            }
            let mut cur = alo; // start of the part of [alo, ahi] not yet handled
            let mut rest = true; // whether [cur, ahi] is still non-empty
            while let Some(&(blo, bhi)) = b.get(j) {
                if blo > ahi {
                    break;
                }
                if blo > cur
                    && let Some(p) = blo.pred()
                {
                    out.push((cur, p));
                }
                match bhi.succ() {
                    // b range ends inside this a range: consume it.
                    Some(n) if bhi < ahi => {
                        cur = n;
                        j += 1;
                    }
                    // b range covers the rest of this a range; keep it for
                    // the next a range, which it may overlap too.
                    _ => {
                        rest = false;
                        break;
                    }
                }
            }
            if rest {
                out.push((cur, ahi));
            }
        }
        Self { ranges: out }
    }

    /// The complement within `[T::MIN, T::MAX]`.
    pub fn complement(&self) -> Self {
        let mut out = Vec::with_capacity(self.ranges.len() + 1);
        // `next` is the first value not yet known to be in the set;
        // `None` once the set has reached MAX.
        let mut next = Some(T::MIN);
        for &(lo, hi) in &self.ranges {
            if let (Some(n), Some(p)) = (next, lo.pred())
                && n <= p
            {
                out.push((n, p));
            }
            next = hi.succ();
        }
        if let Some(n) = next {
            out.push((n, T::MAX));
        }
        Self { ranges: out }
    }

    /// Symmetric difference `(self \ other) ∪ (other \ self)`.
    pub fn symmetric_difference(&self, other: &Self) -> Self {
        self.difference(other).union(&other.difference(self))
    }

    /// `self ⊆ other`, without allocating.
    pub fn is_subset(&self, other: &Self) -> bool {
        let b = &other.ranges;
        let mut j = 0;
        for &(lo, hi) in &self.ranges {
            while b.get(j).is_some_and(|&(_, bhi)| bhi < lo) {
                j += 1;
            }
            // Canonical `other`: a contained range lies inside one range.
            match b.get(j) {
                Some(&(blo, bhi)) if blo <= lo && hi <= bhi => {}
                _ => return false,
            }
        }
        true
    }

    /// `self ⊇ other`.
    pub fn is_superset(&self, other: &Self) -> bool {
        other.is_subset(self)
    }

    /// Whether the sets share no element, without allocating.
    pub fn is_disjoint(&self, other: &Self) -> bool {
        let (a, b) = (&self.ranges, &other.ranges);
        let (mut i, mut j) = (0, 0);
        while let (Some(&(alo, ahi)), Some(&(blo, bhi))) = (a.get(i), b.get(j)) {
            if alo.max(blo) <= ahi.min(bhi) {
                return false;
            }
            if ahi < bhi {
                i += 1;
            } else {
                j += 1;
            }
        }
        true
    }

    /// Add `[lo, hi]` in place (no-op when `lo > hi`). `O(log n)` search
    /// plus one splice of the affected ranges.
    pub fn insert_range(&mut self, lo: T, hi: T) {
        if lo > hi {
            return;
        }
        // Ranges that overlap or touch [lo, hi] get absorbed:
        // first index whose end reaches lo - 1, last whose start <= hi + 1.
        let start = self
            .ranges
            .partition_point(|&(_, h)| h.succ().is_some_and(|n| n < lo));
        let end = self
            .ranges
            .partition_point(|&(l, _)| hi.succ().is_none_or(|n| l <= n));
        let (mut nlo, mut nhi) = (lo, hi);
        if start < end
            && let Some(&(l, _)) = self.ranges.get(start)
        {
            nlo = nlo.min(l);
        }
        if end > start
            && let Some(&(_, h)) = self.ranges.get(end - 1)
        {
            nhi = nhi.max(h);
        }
        let end = end.max(start);
        self.ranges.splice(start..end, [(nlo, nhi)]);
    }
}

impl<T: Bound> Lattice for IntervalSet<T> {
    fn empty() -> Self {
        Self::new()
    }
    fn is_empty(&self) -> bool {
        IntervalSet::is_empty(self)
    }
    fn union(&self, other: &Self) -> Self {
        IntervalSet::union(self, other)
    }
    fn intersection(&self, other: &Self) -> Self {
        IntervalSet::intersection(self, other)
    }
    fn difference(&self, other: &Self) -> Self {
        IntervalSet::difference(self, other)
    }
    fn is_subset(&self, other: &Self) -> bool {
        IntervalSet::is_subset(self, other)
    }
}

impl<T: Bound> FromIterator<(T, T)> for IntervalSet<T> {
    fn from_iter<I: IntoIterator<Item = (T, T)>>(iter: I) -> Self {
        Self::from_ranges(iter)
    }
}

impl<T: Bound> BitOr for &IntervalSet<T> {
    type Output = IntervalSet<T>;
    fn bitor(self, rhs: Self) -> IntervalSet<T> {
        self.union(rhs)
    }
}

impl<T: Bound> BitAnd for &IntervalSet<T> {
    type Output = IntervalSet<T>;
    fn bitand(self, rhs: Self) -> IntervalSet<T> {
        self.intersection(rhs)
    }
}

impl<T: Bound> Sub for &IntervalSet<T> {
    type Output = IntervalSet<T>;
    fn sub(self, rhs: Self) -> IntervalSet<T> {
        self.difference(rhs)
    }
}

impl<T: Bound> Not for &IntervalSet<T> {
    type Output = IntervalSet<T>;
    fn not(self) -> IntervalSet<T> {
        self.complement()
    }
}

/// `22,443,1024-65535`; `none` when empty.
impl<T: Bound + fmt::Display> fmt::Display for IntervalSet<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.ranges.is_empty() {
            return f.write_str("none");
        }
        for (k, &(lo, hi)) in self.ranges.iter().enumerate() {
            if k > 0 {
                f.write_str(",")?;
            }
            if lo == hi {
                write!(f, "{lo}")?;
            } else {
                write!(f, "{lo}-{hi}")?;
            }
        }
        Ok(())
    }
}

/// Serialised as its canonical ranges: `[[lo, hi], ...]`.
impl<T: Bound + Serialize> Serialize for IntervalSet<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.ranges.len()))?;
        for r in &self.ranges {
            seq.serialize_element(&[r.0, r.1])?;
        }
        seq.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s8(r: &[(u8, u8)]) -> IntervalSet<u8> {
        IntervalSet::from_ranges(r.iter().copied())
    }

    #[test]
    fn canonicalises_overlap_adjacency_and_order() {
        let s = s8(&[(10, 20), (0, 3), (4, 5), (21, 21), (30, 25), (15, 18)]);
        assert_eq!(s.ranges(), &[(0, 5), (10, 21)]);
        assert_eq!(s8(&[(5, 4)]), IntervalSet::new());
        assert_eq!(IntervalSet::from_range(3u8, 2), IntervalSet::new());
    }

    #[test]
    fn max_bound_edges() {
        let top = IntervalSet::from_range(u8::MAX, u8::MAX);
        assert!(top.contains(255));
        assert!(!top.contains(254));
        assert_eq!(top.complement(), IntervalSet::from_range(0, 254));
        assert_eq!(s8(&[(250, 255), (0, 249)]), IntervalSet::full());
        assert!(IntervalSet::<u8>::full().is_full());
        assert_eq!(IntervalSet::<u8>::full().complement(), IntervalSet::new());
        assert_eq!(IntervalSet::<u8>::new().complement(), IntervalSet::full());
        assert_eq!(
            IntervalSet::<u8>::full().difference(&top),
            IntervalSet::from_range(0, 254)
        );
        assert_eq!(
            IntervalSet::from_range(0u8, 0).union(&top).complement(),
            IntervalSet::from_range(1, 254)
        );
    }

    #[test]
    fn u128_full_domain() {
        let full = IntervalSet::<u128>::full();
        assert_eq!(full.count(), u128::MAX); // saturated 2^128
        assert!(full.contains(u128::MAX) && full.contains(0));
        let no_max = full.difference(&IntervalSet::singleton(u128::MAX));
        assert_eq!(no_max.count(), u128::MAX);
        assert_eq!(no_max.last(), Some(u128::MAX - 1));
        assert_eq!(no_max.complement(), IntervalSet::singleton(u128::MAX));
        assert_eq!(IntervalSet::<u32>::full().count(), 1u128 << 32);
    }

    #[test]
    fn difference_spanning_several_ranges() {
        let a = s8(&[(0, 10), (20, 30), (40, 50)]);
        let b = s8(&[(5, 25), (28, 42), (50, 255)]);
        assert_eq!(a.difference(&b).ranges(), &[(0, 4), (26, 27), (43, 49)]);
        assert_eq!(b.difference(&a).ranges(), &[(11, 19), (31, 39), (51, 255)]);
    }

    #[test]
    fn subset_disjoint_and_insert() {
        let a = s8(&[(0, 10), (20, 30)]);
        assert!(s8(&[(2, 3), (25, 30)]).is_subset(&a));
        assert!(!s8(&[(9, 11)]).is_subset(&a));
        assert!(IntervalSet::new().is_subset(&a));
        assert!(a.is_disjoint(&s8(&[(11, 19), (31, 255)])));
        assert!(!a.is_disjoint(&s8(&[(30, 31)])));
        let mut m = a.clone();
        m.insert_range(11, 19);
        assert_eq!(m.ranges(), &[(0, 30)]);
        m.insert_range(255, 255);
        m.insert_range(5, 4);
        assert_eq!(m.ranges(), &[(0, 30), (255, 255)]);
        m.insert_range(31, 254);
        assert!(m.is_full());
        assert!(a.contains_range(21, 29) && !a.contains_range(10, 20));
    }

    #[test]
    fn display() {
        assert_eq!(s8(&[(22, 22), (80, 90)]).to_string(), "22,80-90");
        assert_eq!(IntervalSet::<u8>::new().to_string(), "none");
    }
}
