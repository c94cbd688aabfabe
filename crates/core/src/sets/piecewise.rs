//! `PiecewiseMap<T, V>`: a total function from the whole domain of `T` to a
//! lattice value `V`, stored as sorted breakpoints.
//!
//! This is the workhorse for "address → services" and, nested,
//! "src address → (dst address → services)". Like `IntervalSet` it is
//! canonical (adjacent pieces never hold equal values), so `==` is function
//! equality, and every pointwise operation is one linear merge of the two
//! breakpoint lists: cost grows with the number of pieces, never with the
//! size of the domain.

use std::cmp::Ordering;

use super::bound::Bound;
use super::interval::IntervalSet;
use super::lattice::Lattice;

/// A total function `T -> V`, piecewise constant.
///
/// Invariant (private): `pieces` is non-empty, `pieces[0].0 == T::MIN`,
/// starts strictly increase, and neighbouring values differ. Piece `i`
/// covers `[pieces[i].0, pieces[i + 1].0 - 1]` (the last one up to
/// `T::MAX`).
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct PiecewiseMap<T: Bound, V: Lattice> {
    pieces: Vec<(T, V)>,
}

impl<T: Bound, V: Lattice> Default for PiecewiseMap<T, V> {
    fn default() -> Self {
        Self::new()
    }
}

/// Pieces covering one point beyond which [`PiecewiseMap::from_pieces`] hands over to the
/// balanced unions of [`PiecewiseMap::from_entries`].
const MAX_ACTIVE: usize = 16;

/// Append a piece, extending the previous one instead when the value is
/// equal; this is where canonical form is produced.
#[inline]
fn push_piece<T: Bound, V: Lattice>(out: &mut Vec<(T, V)>, start: T, v: V) {
    if out.last().is_some_and(|(_, last)| *last == v) {
        return;
    }
    out.push((start, v));
}

/// Pointwise combination of two breakpoint lists, one linear merge.
fn merge<T: Bound, A: Lattice, B: Lattice, U: Lattice>(
    a: &[(T, A)],
    b: &[(T, B)],
    mut f: impl FnMut(&A, &B) -> U,
) -> PiecewiseMap<T, U> {
    let mut out = Vec::with_capacity(a.len().max(b.len()));
    let (mut i, mut j) = (0, 0);
    let mut pos = T::MIN;
    while let (Some((_, va)), Some((_, vb))) = (a.get(i), b.get(j)) {
        push_piece(&mut out, pos, f(va, vb));
        // Step to the nearer next breakpoint of either side.
        match (a.get(i + 1), b.get(j + 1)) {
            (None, None) => break,
            (Some(&(x, _)), None) => {
                pos = x;
                i += 1;
            }
            (None, Some(&(y, _))) => {
                pos = y;
                j += 1;
            }
            (Some(&(x, _)), Some(&(y, _))) => match x.cmp(&y) {
                Ordering::Less => {
                    pos = x;
                    i += 1;
                }
                Ordering::Greater => {
                    pos = y;
                    j += 1;
                }
                Ordering::Equal => {
                    pos = x;
                    i += 1;
                    j += 1;
                }
            },
        }
    }
    PiecewiseMap::from_raw(out)
}

impl<T: Bound, V: Lattice> PiecewiseMap<T, V> {
    /// Seal a canonical piece list, restoring the "covers the domain"
    /// invariant if a (buggy) caller produced nothing, rather than panicking
    /// later.
    fn from_raw(mut pieces: Vec<(T, V)>) -> Self {
        if pieces.first().is_none_or(|p| p.0 != T::MIN) {
            pieces.insert(0, (T::MIN, V::empty()));
        }
        Self { pieces }
    }

    /// The map sending everything to `V::empty()`.
    pub fn new() -> Self {
        Self::constant(V::empty())
    }

    /// The map sending everything to `v`.
    pub fn constant(v: V) -> Self {
        Self {
            pieces: vec![(T::MIN, v)],
        }
    }

    /// The pointwise union of `pieces` (inclusive ranges `[lo, hi]` with a value each), built
    /// in one sweep over their sorted ends: `O(k log k)` for `k` pieces plus one union per
    /// overlap, where folding them in with [`PiecewiseMap::insert_set`] rebuilds the whole map
    /// `k` times. Made for pieces that seldom overlap; where many do (more than
    /// `MAX_ACTIVE` at one point), it hands over to [`PiecewiseMap::from_entries`].
    pub fn from_pieces(mut pieces: Vec<(T, T, V)>) -> Self {
        pieces.retain(|(lo, hi, v)| lo <= hi && !v.is_empty());
        if pieces.is_empty() {
            return Self::new();
        }
        pieces.sort_by_key(|p| p.0);
        // Breakpoints: where a piece starts, and just after one ends.
        let mut points: Vec<T> = pieces
            .iter()
            .map(|p| p.0)
            .chain(pieces.iter().filter_map(|p| p.1.succ()))
            .collect();
        points.sort_unstable();
        points.dedup();
        let mut out: Vec<(T, V)> = Vec::with_capacity(points.len() + 1);
        if points[0] != T::MIN {
            out.push((T::MIN, V::empty()));
        }
        let mut active: Vec<usize> = Vec::new();
        let mut next = 0;
        for &p in &points {
            active.retain(|&k| pieces[k].1 >= p);
            while next < pieces.len() && pieces[next].0 == p {
                active.push(next);
                next += 1;
            }
            if active.len() > MAX_ACTIVE {
                return Self::from_entries(pieces);
            }
            let v = match active.as_slice() {
                [] => V::empty(),
                [k] => pieces[*k].2.clone(),
                [k, rest @ ..] => rest
                    .iter()
                    .fold(pieces[*k].2.clone(), |acc, &r| acc.union(&pieces[r].2)),
            };
            push_piece(&mut out, p, v);
        }
        Self::from_raw(out)
    }

    /// `v` on `set`, empty elsewhere.
    pub fn from_interval_set(set: &IntervalSet<T>, v: V) -> Self {
        if v.is_empty() {
            return Self::new();
        }
        let mut out = Vec::with_capacity(set.range_count() * 2 + 1);
        // First value not yet covered by a piece; None once MAX is covered.
        let mut next = Some(T::MIN);
        for (lo, hi) in set.iter() {
            if let Some(n) = next
                && n < lo
            {
                out.push((n, V::empty()));
            }
            out.push((lo, v.clone()));
            next = hi.succ();
        }
        if let Some(n) = next {
            out.push((n, V::empty()));
        }
        Self::from_raw(out)
    }

    /// `v` on `[lo, hi]`, empty elsewhere (empty map when `lo > hi`).
    pub fn from_range(lo: T, hi: T, v: V) -> Self {
        Self::from_interval_set(&IntervalSet::from_range(lo, hi), v)
    }

    /// Union of many `(lo, hi, v)` entries, built by balanced pairwise
    /// unions so `k` entries cost `O(P log k)` rather than the `O(k · P)`
    /// of inserting one at a time (`P` = pieces of the result).
    pub fn from_entries<I: IntoIterator<Item = (T, T, V)>>(entries: I) -> Self {
        let mut layer: Vec<Self> = entries
            .into_iter()
            .filter(|(lo, hi, v)| lo <= hi && !v.is_empty())
            .map(|(lo, hi, v)| Self::from_range(lo, hi, v))
            .collect();
        while layer.len() > 1 {
            let mut next = Vec::with_capacity(layer.len().div_ceil(2));
            let mut it = layer.into_iter();
            while let Some(a) = it.next() {
                next.push(match it.next() {
                    Some(b) => a.union(&b),
                    None => a,
                });
            }
            layer = next;
        }
        layer.pop().unwrap_or_default()
    }

    /// Index of the piece containing `x`. The first piece starts at MIN,
    /// so the partition point is >= 1; saturating keeps it panic-free.
    fn index_of(&self, x: T) -> usize {
        self.pieces.partition_point(|p| p.0 <= x).saturating_sub(1)
    }

    /// Last element covered by piece `i`.
    fn end_of(&self, i: usize) -> T {
        self.pieces
            .get(i + 1)
            .and_then(|p| p.0.pred())
            .unwrap_or(T::MAX)
    }

    /// The value at `x`. `O(log n)`.
    pub fn get(&self, x: T) -> &V {
        match self.pieces.get(self.index_of(x)) {
            Some((_, v)) => v,
            None => unreachable_empty(),
        }
    }

    /// Union `v` into every point of `[lo, hi]` (no-op when `lo > hi`).
    ///
    /// In place: `O(log n)` to find the range, then work proportional to the
    /// pieces it touches plus one `Vec::splice`. For bulk loads prefer
    /// [`PiecewiseMap::from_entries`] or `union` with a prebuilt map.
    pub fn insert(&mut self, lo: T, hi: T, v: V) {
        if lo > hi || v.is_empty() {
            return;
        }
        let i = self.index_of(lo);
        let j = self.index_of(hi);
        // Replacement for pieces i..=j (plus possibly j + 1, see below).
        let mut seg: Vec<(T, V)> = Vec::with_capacity(j.saturating_sub(i) + 3);
        // Canonical merging must compare against the piece before the window.
        let before = i
            .checked_sub(1)
            .and_then(|k| self.pieces.get(k))
            .map(|p| &p.1);
        let emit = |seg: &mut Vec<(T, V)>, s: T, val: V| {
            if seg.last().map(|p| &p.1).or(before) != Some(&val) {
                seg.push((s, val));
            }
        };
        for k in i..=j {
            let Some((start, old)) = self.pieces.get(k) else {
                break;
            };
            if k == i && *start < lo {
                // Head of piece i, before lo, keeps its old value.
                emit(&mut seg, *start, old.clone());
            }
            emit(&mut seg, lo.max(*start), old.union(&v));
        }
        if let (Some(h1), Some((_, old))) = (hi.succ(), self.pieces.get(j))
            && h1 <= self.end_of(j)
        {
            // Tail of piece j, after hi, keeps its old value.
            emit(&mut seg, h1, old.clone());
        }
        // The piece after the window may now equal the last value: absorb it.
        let mut end = j + 1;
        let last = seg.last().map(|p| &p.1).or(before);
        if self.pieces.get(end).is_some_and(|p| Some(&p.1) == last) {
            end += 1;
        }
        let end = end.min(self.pieces.len());
        self.pieces.splice(i..end, seg);
        if self.pieces.first().is_none_or(|p| p.0 != T::MIN) {
            self.pieces.insert(0, (T::MIN, V::empty()));
        }
    }

    /// Union `v` into every point of `set`. Rebuilds the map: to union many pieces, collect
    /// them for [`PiecewiseMap::from_pieces`].
    pub fn insert_set(&mut self, set: &IntervalSet<T>, v: V) {
        if set.is_empty() || v.is_empty() {
            return;
        }
        *self = self.union(&Self::from_interval_set(set, v));
    }

    /// Pointwise union.
    pub fn union(&self, other: &Self) -> Self {
        if other.is_empty() {
            return self.clone();
        }
        if self.is_empty() {
            return other.clone();
        }
        merge(&self.pieces, &other.pieces, V::union)
    }

    /// Pointwise intersection.
    pub fn intersection(&self, other: &Self) -> Self {
        if self.is_empty() || other.is_empty() {
            return Self::new();
        }
        merge(&self.pieces, &other.pieces, V::intersection)
    }

    /// Pointwise difference.
    pub fn difference(&self, other: &Self) -> Self {
        if self.is_empty() || other.is_empty() {
            return self.clone();
        }
        merge(&self.pieces, &other.pieces, V::difference)
    }

    /// Pointwise combination with another map of possibly different value
    /// type; the general form of `union`/`intersection`/`difference`.
    pub fn zip_with<W: Lattice, U: Lattice>(
        &self,
        other: &PiecewiseMap<T, W>,
        f: impl FnMut(&V, &W) -> U,
    ) -> PiecewiseMap<T, U> {
        merge(&self.pieces, &other.pieces, f)
    }

    /// The same map on `set`, empty outside it.
    pub fn restrict(&self, set: &IntervalSet<T>) -> Self {
        if set.is_full() {
            return self.clone();
        }
        let mask = PiecewiseMap::<T, bool>::from_interval_set(set, true);
        merge(&self.pieces, &mask.pieces, |v, &keep| {
            if keep { v.clone() } else { V::empty() }
        })
    }

    /// Where the value is non-empty.
    pub fn support(&self) -> IntervalSet<T> {
        IntervalSet::from_ranges(self.iter().map(|(lo, hi, _)| (lo, hi)))
    }

    /// Apply `f` to every piece's value (then re-canonicalise, since `f` may
    /// make neighbours equal).
    pub fn map_values<U: Lattice>(&self, mut f: impl FnMut(&V) -> U) -> PiecewiseMap<T, U> {
        let mut out = Vec::with_capacity(self.pieces.len());
        for (s, v) in &self.pieces {
            push_piece(&mut out, *s, f(v));
        }
        PiecewiseMap::from_raw(out)
    }

    /// Non-empty pieces as `(lo, hi, &value)`, ascending.
    pub fn iter(&self) -> impl Iterator<Item = (T, T, &V)> + '_ {
        self.iter_all().filter(|(_, _, v)| !v.is_empty())
    }

    /// All pieces, empty ones included, as `(lo, hi, &value)`; together
    /// they cover the whole domain exactly once.
    pub fn iter_all(&self) -> impl Iterator<Item = (T, T, &V)> + '_ {
        self.pieces
            .iter()
            .enumerate()
            .map(|(i, (s, v))| (*s, self.end_of(i), v))
    }

    /// Number of pieces (empty ones included): the size of the
    /// representation, which is what every operation's cost scales with.
    pub fn piece_count(&self) -> usize {
        self.pieces.len()
    }

    /// Whether every point maps to the empty value.
    pub fn is_empty(&self) -> bool {
        // Canonical form makes this one comparison in practice; `all` keeps
        // it right even for a `V` whose `==` is not semantic.
        self.pieces.iter().all(|(_, v)| v.is_empty())
    }

    /// Pointwise `self ⊆ other`, without building the difference map.
    pub fn is_subset(&self, other: &Self) -> bool {
        let (a, b) = (&self.pieces, &other.pieces);
        let (mut i, mut j) = (0, 0);
        while let (Some((_, va)), Some((_, vb))) = (a.get(i), b.get(j)) {
            if !va.is_subset(vb) {
                return false;
            }
            match (a.get(i + 1), b.get(j + 1)) {
                (None, None) => break,
                (Some(_), None) => i += 1,
                (None, Some(_)) => j += 1,
                (Some(&(x, _)), Some(&(y, _))) => {
                    if x <= y {
                        i += 1;
                    }
                    if y <= x {
                        j += 1;
                    }
                }
            }
        }
        true
    }
}

/// The one impossible branch of `get`, named so it is easy to audit: every
/// constructor and mutator keeps `pieces` non-empty with a piece starting at
/// `T::MIN` (the fields are private), so `index_of` always finds a piece and
/// no input can reach this.
#[cold]
fn unreachable_empty<'a, V>() -> &'a V {
    unreachable!("PiecewiseMap invariant broken: no piece covers the point")
}

impl<T: Bound, V: Lattice> Lattice for PiecewiseMap<T, V> {
    fn empty() -> Self {
        Self::new()
    }
    fn is_empty(&self) -> bool {
        PiecewiseMap::is_empty(self)
    }
    fn union(&self, other: &Self) -> Self {
        PiecewiseMap::union(self, other)
    }
    fn intersection(&self, other: &Self) -> Self {
        PiecewiseMap::intersection(self, other)
    }
    fn difference(&self, other: &Self) -> Self {
        PiecewiseMap::difference(self, other)
    }
    fn is_subset(&self, other: &Self) -> bool {
        PiecewiseMap::is_subset(self, other)
    }
}

impl<T: Bound, V: Lattice> FromIterator<(T, T, V)> for PiecewiseMap<T, V> {
    fn from_iter<I: IntoIterator<Item = (T, T, V)>>(iter: I) -> Self {
        Self::from_entries(iter)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type M = PiecewiseMap<u8, IntervalSet<u8>>;

    fn set(lo: u8, hi: u8) -> IntervalSet<u8> {
        IntervalSet::from_range(lo, hi)
    }

    /// The representation invariant, checked through the public API:
    /// iter_all tiles the domain and neighbours differ.
    fn assert_canonical(m: &M) {
        let pieces: Vec<_> = m.iter_all().collect();
        assert_eq!(pieces.first().map(|p| p.0), Some(0));
        assert_eq!(pieces.last().map(|p| p.1), Some(255));
        for w in pieces.windows(2) {
            assert_eq!(w[0].1.checked_add(1), Some(w[1].0), "{pieces:?}");
            assert_ne!(w[0].2, w[1].2, "{pieces:?}");
        }
    }

    #[test]
    fn insert_at_the_edges() {
        let mut m = M::new();
        m.insert(255, 255, set(1, 1));
        m.insert(0, 0, set(1, 1));
        m.insert(10, 5, set(1, 1)); // empty range: no-op
        m.insert(3, 4, IntervalSet::new()); // empty value: no-op
        assert_canonical(&m);
        assert_eq!(m.get(255), &set(1, 1));
        assert_eq!(m.get(0), &set(1, 1));
        assert!(m.get(1).is_empty());
        m.insert(1, 254, set(1, 1));
        assert_canonical(&m);
        assert_eq!(m, M::constant(set(1, 1)));
        assert_eq!(m.piece_count(), 1);
    }

    #[test]
    fn insert_splits_and_merges() {
        let mut m = M::new();
        m.insert(10, 20, set(1, 1));
        m.insert(15, 30, set(2, 2));
        assert_canonical(&m);
        assert_eq!(m.get(12), &set(1, 1));
        assert_eq!(m.get(17), &set(1, 2));
        assert_eq!(m.get(25), &set(2, 2));
        // Inserting a subset of what is there changes nothing.
        let before = m.clone();
        m.insert(16, 18, set(1, 1));
        assert_eq!(m, before);
        // Filling the gaps with the overlap value collapses pieces.
        m.insert(10, 30, set(1, 2));
        assert_canonical(&m);
        assert_eq!(m.iter().collect::<Vec<_>>(), vec![(10, 30, &set(1, 2))]);
        assert_eq!(m.support(), set(10, 30));
    }

    #[test]
    fn ops_and_restrict() {
        let a = M::from_entries([(0, 100, set(0, 9)), (50, 255, set(5, 5))]);
        let b = M::from_range(40, 60, set(0, 4));
        assert_canonical(&a);
        assert_eq!(a.union(&M::new()), a);
        assert_eq!(a.intersection(&M::new()), M::new());
        assert_eq!(a.difference(&a), M::new());
        let d = a.difference(&b);
        assert_canonical(&d);
        assert_eq!(d.get(45), &set(5, 9));
        assert_eq!(d.get(39), &set(0, 9));
        assert_eq!(d.get(200), &set(5, 5));
        let r = a.restrict(&IntervalSet::from_ranges([(0, 0), (255, 255)]));
        assert_canonical(&r);
        assert_eq!(r.support(), IntervalSet::from_ranges([(0, 0), (255, 255)]));
        assert!(a.restrict(&IntervalSet::new()).is_empty());
        assert!(b.is_subset(&a.union(&b)) && !a.is_subset(&b));
    }

    #[test]
    fn nested_maps_and_u128_edges() {
        let mut outer: PiecewiseMap<u128, PiecewiseMap<u8, bool>> = PiecewiseMap::new();
        outer.insert(u128::MAX, u128::MAX, PiecewiseMap::from_range(7, 7, true));
        outer.insert(0, u128::MAX, PiecewiseMap::from_range(8, 8, true));
        assert_eq!(outer.get(u128::MAX), &PiecewiseMap::from_range(7, 8, true));
        assert_eq!(outer.get(5), &PiecewiseMap::from_range(8, 8, true));
        assert_eq!(outer.iter().count(), 2);
        let m = outer.map_values(|_| true);
        assert_eq!(m, PiecewiseMap::constant(true));
        assert_eq!(m.support(), IntervalSet::full());
    }

    #[test]
    fn from_pieces_is_the_union_of_its_pieces() {
        use crate::sets::IntervalSet;
        type M = PiecewiseMap<u8, IntervalSet<u8>>;
        let v = |a: u8, b: u8| IntervalSet::from_range(a, b);
        let pieces = vec![
            (10u8, 20u8, v(1, 1)),
            (15, 30, v(2, 2)),
            (0, 0, v(3, 3)),
            (255, 255, v(4, 4)),
            (21, 25, v(1, 1)),
            (40, 39, v(5, 5)),
            (50, 60, IntervalSet::new()),
        ];
        let mut folded = M::new();
        for (lo, hi, x) in pieces.clone() {
            folded.insert_set(&IntervalSet::from_range(lo, hi), x);
        }
        assert_eq!(M::from_pieces(pieces), folded);
        assert_eq!(M::from_pieces(Vec::new()), M::new());
        // Many pieces over one point: the balanced unions take over, same answer.
        let many: Vec<(u8, u8, IntervalSet<u8>)> = (0..40u8).map(|i| (i, 100, v(i, i))).collect();
        let mut folded = M::new();
        for (lo, hi, x) in many.clone() {
            folded.insert_set(&IntervalSet::from_range(lo, hi), x);
        }
        assert_eq!(M::from_pieces(many), folded);
    }
}
