//! `Lattice`: the value algebra carried by piecewise maps.
//!
//! A `PiecewiseMap<T, V>` maps every point of `T` to a `V`; its pointwise
//! union/intersection/difference only need `V` to support the same three
//! operations plus a bottom element. Set types, `bool` and piecewise maps
//! themselves implement it, which is what lets maps nest
//! (`src address -> dst address -> services`).

use std::fmt::Debug;

/// A set-like value: a bottom element (`empty`) and the three boolean set
/// operations.
///
/// Contract: `PartialEq` must be *semantic* equality (two values that
/// denote the same set compare equal). Piecewise maps rely on it to stay
/// canonical, i.e. to merge neighbouring pieces with equal values.
pub trait Lattice: Clone + PartialEq + Debug {
    /// The bottom element (the empty set).
    fn empty() -> Self;
    /// Whether `self` is the bottom element.
    fn is_empty(&self) -> bool;
    /// Set union.
    fn union(&self, other: &Self) -> Self;
    /// Set intersection.
    fn intersection(&self, other: &Self) -> Self;
    /// Set difference `self \ other`.
    fn difference(&self, other: &Self) -> Self;
    /// `self ⊆ other`. The default is correct for any implementation;
    /// types override it when they can answer without allocating.
    fn is_subset(&self, other: &Self) -> bool {
        self.difference(other).is_empty()
    }
}

/// `bool` is the two-element lattice: a `PiecewiseMap<T, bool>` is a set.
impl Lattice for bool {
    fn empty() -> Self {
        false
    }
    fn is_empty(&self) -> bool {
        !*self
    }
    fn union(&self, other: &Self) -> Self {
        *self || *other
    }
    fn intersection(&self, other: &Self) -> Self {
        *self && *other
    }
    fn difference(&self, other: &Self) -> Self {
        *self && !*other
    }
    fn is_subset(&self, other: &Self) -> bool {
        !*self || *other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bool_laws() {
        for a in [false, true] {
            for b in [false, true] {
                assert_eq!(Lattice::union(&a, &b), a | b);
                assert_eq!(Lattice::intersection(&a, &b), a & b);
                assert_eq!(Lattice::difference(&a, &b), a & !b);
                assert_eq!(Lattice::is_subset(&a, &b), !a | b);
            }
        }
        assert!(Lattice::is_empty(&<bool as Lattice>::empty()));
    }
}
