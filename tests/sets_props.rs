//! Property tests for `peerscope::sets`: every operation checked against a
//! plain reference model.
//!
//! - `IntervalSet<u8>` against `BTreeSet<u8>`: the universe 0..=255 is
//!   enumerated exactly.
//! - Wider element types (`u16`, `u128`, IP addresses) and `ServiceSet`
//!   are checked pointwise at every breakpoint of the inputs and its
//!   neighbours. Sets here are piecewise constant between breakpoints, so
//!   checking each breakpoint ±1 is an exact check, not a sample.
//! - `PiecewiseMap<u8, IntervalSet<u8>>` against
//!   `BTreeMap<u8, BTreeSet<u8>>`, pointwise over all 256 keys.
//!
//! proptest prints the shrunk inputs on failure; assertions say what broke.

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use peerscope::sets::*;
use proptest::prelude::*;

// ---------------------------------------------------------------------------
// Strategies and reference helpers
// ---------------------------------------------------------------------------

/// A u8 biased towards the edges, where off-by-one bugs live.
fn edgy_u8() -> impl Strategy<Value = u8> {
    prop_oneof![
        1 => Just(0u8),
        1 => Just(1u8),
        1 => Just(254u8),
        1 => Just(255u8),
        8 => any::<u8>(),
    ]
}

/// Raw ranges: any order, overlapping, touching, and some with lo > hi.
fn raw_ranges_u8() -> impl Strategy<Value = Vec<(u8, u8)>> {
    prop::collection::vec((edgy_u8(), edgy_u8()), 0..7)
}

/// Raw ranges over a small universe, so ranges often touch and overlap.
fn raw_ranges_small() -> impl Strategy<Value = Vec<(u8, u8)>> {
    prop::collection::vec((0u8..24, 0u8..24), 0..6)
}

fn ref_of_ranges(ranges: &[(u8, u8)]) -> BTreeSet<u8> {
    ranges.iter().flat_map(|&(lo, hi)| lo..=hi).collect()
}

/// Elements of a set, read off its ranges.
fn elems(s: &IntervalSet<u8>) -> BTreeSet<u8> {
    s.ranges().iter().flat_map(|&(lo, hi)| lo..=hi).collect()
}

/// Elements of a set, read off `contains` (checks `contains` and `ranges`
/// against each other).
fn elems_by_contains(s: &IntervalSet<u8>) -> BTreeSet<u8> {
    (0..=255u8).filter(|&x| s.contains(x)).collect()
}

fn from_ref(r: &BTreeSet<u8>) -> IntervalSet<u8> {
    IntervalSet::from_ranges(r.iter().map(|&x| (x, x)))
}

/// The canonical-form invariant, checked through the public API.
fn check_canonical<T: Bound>(s: &IntervalSet<T>) -> Result<(), TestCaseError> {
    for &(lo, hi) in s.ranges() {
        prop_assert!(lo <= hi, "inverted range in {:?}", s);
    }
    for w in s.ranges().windows(2) {
        let touch = w[0].1.succ().is_none_or(|n| n >= w[1].0);
        prop_assert!(!touch, "ranges overlap or touch in {:?}", s);
    }
    Ok(())
}

/// The points at which membership can change, for sets given by ranges:
/// every bound, its neighbours, and the domain edges.
fn breakpoints<T: Bound>(sets: &[&IntervalSet<T>]) -> BTreeSet<T> {
    let mut pts = BTreeSet::from([T::MIN, T::MAX]);
    for s in sets {
        for &(lo, hi) in s.ranges() {
            pts.extend(
                [Some(lo), Some(hi), lo.pred(), hi.succ()]
                    .into_iter()
                    .flatten(),
            );
        }
    }
    pts
}

// ---------------------------------------------------------------------------
// IntervalSet<u8> vs BTreeSet<u8>
// ---------------------------------------------------------------------------

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn interval_construction_matches_reference(ra in raw_ranges_u8()) {
        let s = IntervalSet::from_ranges(ra.iter().copied());
        let r = ref_of_ranges(&ra);
        check_canonical(&s)?;
        prop_assert_eq!(elems(&s), r.clone(), "from_ranges({:?})", ra);
        prop_assert_eq!(elems_by_contains(&s), r.clone(), "contains disagrees with ranges");
        prop_assert_eq!(s.is_empty(), r.is_empty(), "is_empty");
        prop_assert_eq!(s.is_full(), r.len() == 256, "is_full");
        prop_assert_eq!(s.count(), r.len() as u128, "count");
        prop_assert_eq!(s.first(), r.first().copied(), "first");
        prop_assert_eq!(s.last(), r.last().copied(), "last");
        // Canonical: the same set built any other way is ==.
        prop_assert_eq!(&s, &from_ref(&r), "not canonical: element-wise build differs");
        let mut rev = ra.clone();
        rev.reverse();
        prop_assert_eq!(&s, &IntervalSet::from_ranges(rev), "order-dependent");
        // insert_range one at a time agrees with the bulk build.
        let mut ins = IntervalSet::new();
        for &(lo, hi) in &ra {
            ins.insert_range(lo, hi);
            check_canonical(&ins)?;
        }
        prop_assert_eq!(&ins, &s, "insert_range sequence");
    }

    #[test]
    fn interval_algebra_matches_reference(ra in raw_ranges_u8(), rb in raw_ranges_u8()) {
        let (a, b) = (IntervalSet::from_ranges(ra.clone()), IntervalSet::from_ranges(rb.clone()));
        let (sa, sb) = (ref_of_ranges(&ra), ref_of_ranges(&rb));
        let all: BTreeSet<u8> = (0..=255).collect();

        let cases: [(&str, IntervalSet<u8>, BTreeSet<u8>); 6] = [
            ("union", a.union(&b), &sa | &sb),
            ("intersection", a.intersection(&b), &sa & &sb),
            ("difference a-b", a.difference(&b), &sa - &sb),
            ("difference b-a", b.difference(&a), &sb - &sa),
            ("symmetric_difference", a.symmetric_difference(&b), &sa ^ &sb),
            ("complement", a.complement(), &all - &sa),
        ];
        for (name, got, want) in cases {
            check_canonical(&got)?;
            prop_assert_eq!(elems(&got), want.clone(), "{} of {:?} and {:?}", name, a, b);
            prop_assert_eq!(elems_by_contains(&got), want.clone(), "{}: contains", name);
            prop_assert_eq!(got.count(), want.len() as u128, "{}: count", name);
        }
        // Operator sugar agrees with the methods.
        prop_assert_eq!(&a | &b, a.union(&b));
        prop_assert_eq!(&a & &b, a.intersection(&b));
        prop_assert_eq!(&a - &b, a.difference(&b));
        prop_assert_eq!(!&a, a.complement());
        // Lattice trait agrees too.
        prop_assert_eq!(Lattice::union(&a, &b), a.union(&b));

        prop_assert_eq!(a.is_subset(&b), sa.is_subset(&sb), "is_subset {:?} {:?}", a, b);
        prop_assert_eq!(a.is_superset(&b), sa.is_superset(&sb), "is_superset");
        prop_assert_eq!(a.is_disjoint(&b), sa.is_disjoint(&sb), "is_disjoint");
        prop_assert_eq!(Lattice::is_subset(&a, &b), sa.is_subset(&sb), "Lattice::is_subset");
        prop_assert_eq!(a == b, sa == sb, "== is not set equality");
        prop_assert_eq!(a.complement().complement(), a.clone(), "double complement");
    }

    #[test]
    fn interval_contains_range_matches_reference(
        ra in raw_ranges_small(), lo in 0u8..30, hi in 0u8..30,
    ) {
        let a = IntervalSet::from_ranges(ra.clone());
        let sa = ref_of_ranges(&ra);
        let want = (lo..=hi).all(|x| sa.contains(&x));
        prop_assert_eq!(a.contains_range(lo, hi), want, "contains_range({}, {}) of {:?}", lo, hi, a);
    }

    #[test]
    fn interval_algebra_small_universe(ra in raw_ranges_small(), rb in raw_ranges_small()) {
        // Dense overlaps and adjacency: the merge loops' hardest inputs.
        let (a, b) = (IntervalSet::from_ranges(ra.clone()), IntervalSet::from_ranges(rb.clone()));
        let (sa, sb) = (ref_of_ranges(&ra), ref_of_ranges(&rb));
        prop_assert_eq!(elems(&a.union(&b)), &sa | &sb);
        prop_assert_eq!(elems(&a.intersection(&b)), &sa & &sb);
        prop_assert_eq!(elems(&a.difference(&b)), &sa - &sb);
        prop_assert_eq!(a.is_subset(&b), sa.is_subset(&sb));
        prop_assert_eq!(a.is_disjoint(&b), sa.is_disjoint(&sb));
        check_canonical(&a.union(&b))?;
        check_canonical(&a.difference(&b))?;
    }
}

// ---------------------------------------------------------------------------
// Wide element types: u16 and u128, exact via breakpoints
// ---------------------------------------------------------------------------

fn edgy_u128() -> impl Strategy<Value = u128> {
    prop_oneof![
        1 => Just(0u128),
        1 => Just(1u128),
        1 => Just(u128::MAX - 1),
        1 => Just(u128::MAX),
        2 => 0u128..64,
        2 => (u128::MAX - 64)..=u128::MAX,
        4 => any::<u128>(),
    ]
}

fn edgy_u16() -> impl Strategy<Value = u16> {
    prop_oneof![
        1 => Just(0u16),
        1 => Just(65535u16),
        1 => 0u16..16,
        1 => 65520u16..=65535,
        4 => any::<u16>(),
    ]
}

/// Checks binary ops pointwise at every breakpoint (an exact check).
fn check_wide<T: Bound>(ra: &[(T, T)], rb: &[(T, T)]) -> Result<(), TestCaseError> {
    let a = IntervalSet::from_ranges(ra.iter().copied());
    let b = IntervalSet::from_ranges(rb.iter().copied());
    let in_raw = |r: &[(T, T)], x: T| r.iter().any(|&(lo, hi)| lo <= x && x <= hi);
    let (u, i, d, c) = (
        a.union(&b),
        a.intersection(&b),
        a.difference(&b),
        a.complement(),
    );
    for s in [&a, &b, &u, &i, &d, &c] {
        check_canonical(s)?;
    }
    for x in breakpoints(&[&a, &b]) {
        let (ia, ib) = (in_raw(ra, x), in_raw(rb, x));
        prop_assert_eq!(a.contains(x), ia, "contains {:?} in {:?}", x, a);
        prop_assert_eq!(u.contains(x), ia || ib, "union at {:?}", x);
        prop_assert_eq!(i.contains(x), ia && ib, "intersection at {:?}", x);
        prop_assert_eq!(d.contains(x), ia && !ib, "difference at {:?}", x);
        prop_assert_eq!(c.contains(x), !ia, "complement at {:?}", x);
    }
    let pts = breakpoints(&[&a, &b]);
    let subset = pts.iter().all(|&x| !in_raw(ra, x) || in_raw(rb, x));
    prop_assert_eq!(a.is_subset(&b), subset, "is_subset");
    let disjoint = pts.iter().all(|&x| !(in_raw(ra, x) && in_raw(rb, x)));
    prop_assert_eq!(a.is_disjoint(&b), disjoint, "is_disjoint");
    prop_assert_eq!(c.union(&a).is_full(), true, "a ∪ ¬a is full");
    prop_assert!(c.intersection(&a).is_empty(), "a ∩ ¬a is empty");
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn wide_u128_algebra(
        ra in prop::collection::vec((edgy_u128(), edgy_u128()), 0..6),
        rb in prop::collection::vec((edgy_u128(), edgy_u128()), 0..6),
    ) {
        check_wide(&ra, &rb)?;
    }

    #[test]
    fn wide_u16_algebra(
        ra in prop::collection::vec((edgy_u16(), edgy_u16()), 0..6),
        rb in prop::collection::vec((edgy_u16(), edgy_u16()), 0..6),
    ) {
        check_wide(&ra, &rb)?;
        // u16 counts are exact; inclusion-exclusion must hold.
        let a = IntervalSet::from_ranges(ra);
        let b = IntervalSet::from_ranges(rb);
        prop_assert_eq!(
            a.union(&b).count() + a.intersection(&b).count(),
            a.count() + b.count(),
            "inclusion-exclusion"
        );
    }
}

// ---------------------------------------------------------------------------
// ServiceSet, exact via breakpoints over all 256 protocols
// ---------------------------------------------------------------------------

/// One constructor call, so the reference is "any call matches".
#[derive(Clone, Debug)]
enum Svc {
    All,
    Proto(u8),
    ProtoPorts(u8, u16, u16),
}

impl Svc {
    fn build(&self) -> ServiceSet {
        match *self {
            Svc::All => ServiceSet::all(),
            Svc::Proto(p) => ServiceSet::protocol(p),
            Svc::ProtoPorts(6, lo, hi) => ServiceSet::tcp(lo, hi),
            Svc::ProtoPorts(17, lo, hi) => ServiceSet::udp(lo, hi),
            Svc::ProtoPorts(p, lo, hi) => ServiceSet::protocol_ports(p, lo, hi),
        }
    }

    fn has(&self, proto: u8, port: u16) -> bool {
        match *self {
            Svc::All => true,
            Svc::Proto(p) => p == proto,
            Svc::ProtoPorts(p, lo, hi) => {
                p == proto && (!(proto == 6 || proto == 17) || (lo <= port && port <= hi))
            }
        }
    }
}

fn proto() -> impl Strategy<Value = u8> {
    prop_oneof![
        4 => Just(6u8),
        4 => Just(17u8),
        1 => Just(0u8),
        1 => Just(1u8),
        1 => Just(58u8),
        1 => Just(255u8),
        2 => any::<u8>(),
    ]
}

fn svc() -> impl Strategy<Value = Svc> {
    prop_oneof![
        1 => Just(Svc::All),
        2 => proto().prop_map(Svc::Proto),
        8 => (proto(), edgy_u16(), edgy_u16()).prop_map(|(p, lo, hi)| Svc::ProtoPorts(p, lo, hi)),
    ]
}

fn svcs() -> impl Strategy<Value = Vec<Svc>> {
    prop::collection::vec(svc(), 0..5)
}

fn build_svcs(v: &[Svc]) -> ServiceSet {
    v.iter()
        .fold(ServiceSet::new(), |acc, s| acc.union(&s.build()))
}

/// Ports at which TCP/UDP membership can change for these inputs.
fn port_points(inputs: &[&[Svc]]) -> BTreeSet<u16> {
    let mut pts = BTreeSet::from([0u16, 1, 65534, 65535]);
    for v in inputs {
        for s in v.iter() {
            if let Svc::ProtoPorts(_, lo, hi) = *s {
                pts.extend(
                    [Some(lo), Some(hi), lo.checked_sub(1), hi.checked_add(1)]
                        .into_iter()
                        .flatten(),
                );
            }
        }
    }
    pts
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn service_algebra_matches_reference(va in svcs(), vb in svcs()) {
        let (a, b) = (build_svcs(&va), build_svcs(&vb));
        let ra = |p: u8, port: u16| va.iter().any(|s| s.has(p, port));
        let rb = |p: u8, port: u16| vb.iter().any(|s| s.has(p, port));
        let (u, i, d, c) = (a.union(&b), a.intersection(&b), a.difference(&b), a.complement());
        let ports = port_points(&[&va, &vb]);
        let (mut subset, mut disjoint, mut full, mut empty) = (true, true, true, true);
        for p in 0..=255u8 {
            let ported = p == 6 || p == 17;
            let pts: Vec<u16> = if ported { ports.iter().copied().collect() } else { vec![0] };
            for &port in &pts {
                let (x, y) = (ra(p, port), rb(p, port));
                subset &= !x || y;
                disjoint &= !(x && y);
                full &= x;
                empty &= !x;
                let q = Some(port);
                prop_assert_eq!(a.contains(p, q), x, "contains({}, {:?}) of {}", p, q, a);
                prop_assert_eq!(u.contains(p, q), x || y, "union at ({}, {})", p, port);
                prop_assert_eq!(i.contains(p, q), x && y, "intersection at ({}, {})", p, port);
                prop_assert_eq!(d.contains(p, q), x && !y, "difference at ({}, {})", p, port);
                prop_assert_eq!(c.contains(p, q), !x, "complement at ({}, {})", p, port);
            }
            // `None` = "any port of it" for TCP/UDP; port-less protocols
            // ignore the port entirely.
            let any = pts.iter().any(|&port| ra(p, port));
            prop_assert_eq!(a.contains(p, None), any, "contains({}, None) of {}", p, a);
            prop_assert_eq!(a.contains_protocol(p), any);
        }
        // 6 and 17 never leak into the port-less part.
        prop_assert!(!a.other_protocols().contains(6) && !a.other_protocols().contains(17));
        prop_assert!(!c.other_protocols().contains(6) && !c.other_protocols().contains(17));
        prop_assert_eq!(a.is_subset(&b), subset, "is_subset {} vs {}", a, b);
        prop_assert_eq!(a.is_disjoint(&b), disjoint, "is_disjoint {} vs {}", a, b);
        prop_assert_eq!(a.is_full(), full, "is_full {}", a);
        prop_assert_eq!(a.is_empty(), empty, "is_empty {}", a);
        prop_assert_eq!(c.is_full(), empty, "is_full of complement {}", c);
        prop_assert_eq!(c.is_empty(), full, "is_empty of complement {}", c);
        prop_assert_eq!(ServiceSet::all().difference(&a).is_full(), empty);
        prop_assert_eq!(a.complement().complement(), a.clone());
        prop_assert_eq!(a.union(&c), ServiceSet::all());
        // Canonical: equal sets are == and render identically.
        let rebuilt = ServiceSet::from_parts(
            a.tcp_ports().clone(), a.udp_ports().clone(), a.other_protocols().clone(),
        );
        prop_assert_eq!(&rebuilt, &a);
        prop_assert_eq!(u.clone(), b.union(&a), "union commutes");
        prop_assert_eq!(u.to_string(), b.union(&a).to_string(), "display deterministic");
        prop_assert_eq!(a.to_string() == "any", full);
        prop_assert_eq!(a.to_string() == "none", empty);
    }
}

// ---------------------------------------------------------------------------
// PiecewiseMap<u8, IntervalSet<u8>> vs BTreeMap<u8, BTreeSet<u8>>
// ---------------------------------------------------------------------------

type Map = PiecewiseMap<u8, IntervalSet<u8>>;
type RefMap = BTreeMap<u8, BTreeSet<u8>>;
/// One `insert(lo, hi, value)`, the value given as raw ranges.
type Entry = (u8, u8, Vec<(u8, u8)>);

/// `(lo, hi, value)` insertions. Values come from small universes so the
/// reference stays cheap and values often coincide (which is what makes
/// pieces merge).
fn entries() -> impl Strategy<Value = Vec<Entry>> {
    let value = prop_oneof![
        // A tiny value universe, so equal values (which must merge) are common...
        3 => prop::collection::vec((0u8..3, 0u8..3), 0..3),
        // ...and a wider one for variety.
        1 => prop::collection::vec((0u8..12, 0u8..12), 0..3),
    ];
    // Keys mostly from a small window so insertions touch and overlap
    // (exercising piece splitting and merging), sometimes at the edges.
    let key = || prop_oneof![3 => 0u8..20, 2 => edgy_u8()];
    prop::collection::vec((key(), key(), value), 0..6)
}

fn build_map(es: &[Entry]) -> Map {
    let mut m = Map::new();
    for (lo, hi, v) in es {
        m.insert(*lo, *hi, IntervalSet::from_ranges(v.iter().copied()));
    }
    m
}

fn build_ref(es: &[Entry]) -> RefMap {
    let mut r = RefMap::new();
    for (lo, hi, v) in es {
        let val = ref_of_ranges(v);
        if val.is_empty() {
            continue;
        }
        for k in *lo..=*hi {
            r.entry(k).or_default().extend(val.iter().copied());
        }
    }
    r
}

fn ref_get(r: &RefMap, k: u8) -> BTreeSet<u8> {
    r.get(&k).cloned().unwrap_or_default()
}

/// Pointwise combination of two references, dropping empty values.
fn ref_zip(
    a: &RefMap,
    b: &RefMap,
    f: impl Fn(&BTreeSet<u8>, &BTreeSet<u8>) -> BTreeSet<u8>,
) -> RefMap {
    (0..=255u8)
        .map(|k| (k, f(&ref_get(a, k), &ref_get(b, k))))
        .filter(|(_, v)| !v.is_empty())
        .collect()
}

/// `m` equals reference `r` at all 256 keys, and `m` is canonical.
fn check_map(m: &Map, r: &RefMap, what: &str) -> Result<(), TestCaseError> {
    let pieces: Vec<(u8, u8, &IntervalSet<u8>)> = m.iter_all().collect();
    prop_assert_eq!(
        pieces.first().map(|p| p.0),
        Some(0),
        "{}: first piece not at MIN",
        what
    );
    prop_assert_eq!(
        pieces.last().map(|p| p.1),
        Some(255),
        "{}: last piece not at MAX",
        what
    );
    for w in pieces.windows(2) {
        prop_assert_eq!(
            w[0].1.checked_add(1),
            Some(w[1].0),
            "{}: pieces don't tile",
            what
        );
        prop_assert_ne!(w[0].2, w[1].2, "{}: not canonical (equal neighbours)", what);
    }
    for (lo, hi, v) in &pieces {
        check_canonical(v)?;
        let want = ref_get(r, *lo);
        prop_assert_eq!(elems(v), want, "{}: value of piece {}..={}", what, lo, hi);
        for k in *lo..=*hi {
            prop_assert_eq!(
                ref_get(r, k),
                elems(v),
                "{}: reference not constant on piece at {}",
                what,
                k
            );
        }
    }
    // `get` agrees with the pieces; `iter` yields exactly the non-empty ones.
    for &(lo, hi, v) in &pieces {
        prop_assert_eq!(m.get(lo), v, "{}: get({})", what, lo);
        prop_assert_eq!(m.get(hi), v, "{}: get({})", what, hi);
    }
    let non_empty: Vec<_> = pieces.iter().filter(|p| !p.2.is_empty()).copied().collect();
    prop_assert_eq!(m.iter().collect::<Vec<_>>(), non_empty, "{}: iter", what);
    let support: BTreeSet<u8> = r.keys().copied().collect();
    prop_assert_eq!(elems(&m.support()), support, "{}: support", what);
    prop_assert_eq!(m.is_empty(), r.is_empty(), "{}: is_empty", what);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn piecewise_matches_reference(ea in entries(), eb in entries(), restrict_to in raw_ranges_u8()) {
        let (a, b) = (build_map(&ea), build_map(&eb));
        let (ra, rb) = (build_ref(&ea), build_ref(&eb));
        check_map(&a, &ra, "insert sequence")?;
        check_map(&b, &rb, "insert sequence b")?;

        // Every way of building the same function gives the same value.
        let bulk = Map::from_entries(
            ea.iter().map(|(lo, hi, v)| (*lo, *hi, IntervalSet::from_ranges(v.iter().copied()))),
        );
        prop_assert_eq!(&bulk, &a, "from_entries vs insert");

        check_map(&a.union(&b), &ref_zip(&ra, &rb, |x, y| x | y), "union")?;
        check_map(&a.intersection(&b), &ref_zip(&ra, &rb, |x, y| x & y), "intersection")?;
        check_map(&a.difference(&b), &ref_zip(&ra, &rb, |x, y| x - y), "difference")?;

        let keep = IntervalSet::from_ranges(restrict_to.clone());
        let keep_ref = ref_of_ranges(&restrict_to);
        let restricted = a.restrict(&keep);
        let r_restricted: RefMap =
            ra.iter().filter(|(k, _)| keep_ref.contains(k)).map(|(k, v)| (*k, v.clone())).collect();
        check_map(&restricted, &r_restricted, "restrict")?;
        prop_assert!(restricted.support().is_subset(&keep), "restrict then support ⊄ set");
        prop_assert!(restricted.support().is_subset(&a.support()), "restrict grew the support");

        // from_interval_set: v on the set, empty elsewhere.
        let v = IntervalSet::from_range(3u8, 5);
        let fis = Map::from_interval_set(&keep, v.clone());
        let r_fis: RefMap = keep_ref.iter().map(|&k| (k, elems(&v))).collect();
        check_map(&fis, &r_fis, "from_interval_set")?;

        // map_values re-canonicalises.
        let mask = IntervalSet::from_range(0u8, 4);
        let mapped = a.map_values(|v| v.intersection(&mask));
        let r_mapped = ref_zip(&ra, &RefMap::new(), |x, _| x & &elems(&mask));
        check_map(&mapped, &r_mapped, "map_values")?;

        // Laws.
        prop_assert_eq!(a.union(&Map::new()), a.clone(), "union with empty is identity");
        prop_assert_eq!(Map::new().union(&a), a.clone(), "empty union is identity");
        prop_assert_eq!(a.intersection(&Map::new()), Map::new());
        prop_assert_eq!(a.difference(&a), Map::new());
        prop_assert_eq!(a.union(&b), b.union(&a), "union commutes");
        prop_assert_eq!(a.intersection(&b), b.intersection(&a), "intersection commutes");
        prop_assert_eq!(a.union(&a.intersection(&b)), a.clone(), "absorption");
        let subset = (0..=255u8).all(|k| ref_get(&ra, k).is_subset(&ref_get(&rb, k)));
        prop_assert_eq!(a.is_subset(&b), subset, "is_subset");
        prop_assert_eq!(Lattice::is_subset(&a, &b), subset, "Lattice::is_subset");
        // Random pairs are rarely subsets; these always are.
        prop_assert!(a.intersection(&b).is_subset(&a), "a ∩ b ⊆ a");
        prop_assert!(a.is_subset(&a.union(&b)), "a ⊆ a ∪ b");
        prop_assert!(restricted.is_subset(&a), "restrict ⊆ original");
        prop_assert_eq!(a == b, ra == rb, "== is not function equality");
    }

    #[test]
    fn nested_piecewise_matches_reference(
        es in prop::collection::vec((edgy_u8(), edgy_u8(), edgy_u8(), edgy_u8()), 0..5),
        probe in prop::collection::vec((any::<u8>(), any::<u8>()), 16),
    ) {
        // Outer key -> (inner key -> bool): a set of pairs, built from
        // rectangles [lo1, hi1] x [lo2, hi2].
        let mut m: PiecewiseMap<u8, PiecewiseMap<u8, bool>> = PiecewiseMap::new();
        for &(l1, h1, l2, h2) in &es {
            m.insert(l1, h1, PiecewiseMap::from_range(l2, h2, true));
        }
        let has = |x: u8, y: u8| es.iter().any(|&(l1, h1, l2, h2)| l1 <= x && x <= h1 && l2 <= y && y <= h2);
        let mut pts: Vec<(u8, u8)> = probe;
        for &(l1, h1, l2, h2) in &es {
            pts.extend([(l1, l2), (h1, h2), (l1, h2), (h1, l2)]);
            pts.extend([(l1.wrapping_sub(1), l2), (h1.wrapping_add(1), h2), (l1, l2.wrapping_sub(1)), (h1, h2.wrapping_add(1))]);
        }
        for (x, y) in pts {
            prop_assert_eq!(*m.get(x).get(y), has(x, y), "nested get({}, {})", x, y);
        }
        let pieces: Vec<_> = m.iter_all().collect();
        for w in pieces.windows(2) {
            prop_assert_ne!(w[0].2, w[1].2, "nested map not canonical");
        }
    }
}

// ---------------------------------------------------------------------------
// IpSet: to_cidrs exact and minimal, Display round-trip
// ---------------------------------------------------------------------------

/// Check that `cidrs` is the exact minimal CIDR decomposition of `set`:
/// ascending and disjoint, each inside the set, sizes adding up to the
/// set's size (so the cover is exact), and each one maximal (its parent is
/// not inside the set; maximal aligned blocks are the unique minimal
/// decomposition, so no two CIDRs could be merged).
fn check_cidrs(set: &IpSet, cidrs: &[IpNet]) -> Result<(), TestCaseError> {
    let mut prev_end: Option<AddrRange> = None;
    let (mut n4, mut n6) = (0u128, 0u128);
    for &c in cidrs {
        prop_assert_eq!(c, c.trunc(), "{} has host bits set", c);
        prop_assert!(set.contains_net(c), "{} not inside {}", c, set);
        let b = net_bounds(c);
        match (prev_end, b) {
            (Some(AddrRange::V4(_, ph)), AddrRange::V4(lo, _)) => {
                prop_assert!(ph < lo, "{} not ascending/disjoint", c)
            }
            (Some(AddrRange::V6(_, ph)), AddrRange::V6(lo, _)) => {
                prop_assert!(ph < lo, "{} not ascending/disjoint", c)
            }
            (Some(AddrRange::V6(..)), AddrRange::V4(..)) => {
                prop_assert!(false, "v4 CIDR {} after v6", c)
            }
            _ => {}
        }
        prev_end = Some(b);
        match b {
            AddrRange::V4(lo, hi) => n4 += u128::from(hi - lo) + 1,
            AddrRange::V6(lo, hi) => n6 = n6.saturating_add((hi - lo).saturating_add(1)),
        }
        if let Some(parent) = c.supernet() {
            prop_assert!(
                !set.contains_net(parent),
                "{} could merge into {} (not minimal)",
                c,
                parent
            );
        }
    }
    prop_assert_eq!(n4, set.count_v4(), "v4 cover not exact");
    prop_assert_eq!(n6, set.count_v6(), "v6 cover not exact");
    // Round trip, and every address of the cover is in the set and vice
    // versa (follows from the above; checked independently anyway).
    prop_assert_eq!(
        &IpSet::from_nets(cidrs.iter().copied()),
        set,
        "from_nets(to_cidrs) differs"
    );
    Ok(())
}

fn small_v4_ranges() -> impl Strategy<Value = Vec<(u32, u32)>> {
    // A base anywhere (or at the edges) with short ranges near it, so the
    // ranges interact and start/end at every alignment.
    let base = prop_oneof![
        Just(0u32),
        Just(u32::MAX - 300),
        any::<u32>().prop_map(|b| b.min(u32::MAX - 300))
    ];
    (base, prop::collection::vec((0u32..300, 0u32..300), 0..5))
        .prop_map(|(b, rs)| rs.into_iter().map(|(x, y)| (b + x, b + y)).collect())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn ipv4_cidrs_exact_and_minimal(rs in small_v4_ranges()) {
        let set = IpSet { v4: IntervalSet::from_ranges(rs.clone()), v6: IntervalSet::new() };
        let cidrs = set.to_cidrs();
        check_cidrs(&set, &cidrs)?;
        // Exactness by enumeration too: the ranges are short.
        for &(lo, hi) in set.v4.ranges() {
            for x in [lo.saturating_sub(1), lo, hi, hi.saturating_add(1)] {
                let a = IpAddr::V4(Ipv4Addr::from(x));
                let hits = cidrs.iter().filter(|c| c.contains(&a)).count();
                prop_assert_eq!(hits, usize::from(set.contains(a)), "{} covered {} times", a, hits);
            }
        }
        // Display is the CIDRs, comma separated, and parses back.
        let text = set.to_string();
        if set.is_empty() {
            prop_assert_eq!(text, "none");
        } else {
            let parsed: Vec<IpNet> = text.split(", ").map(|s| s.parse().unwrap()).collect();
            prop_assert_eq!(parsed, cidrs);
        }
    }

    #[test]
    fn wide_cidrs_exact_and_minimal(
        r4 in prop::collection::vec((any::<u32>(), any::<u32>()), 0..4),
        r6 in prop::collection::vec((edgy_u128(), edgy_u128()), 0..4),
    ) {
        let set = IpSet { v4: IntervalSet::from_ranges(r4), v6: IntervalSet::from_ranges(r6) };
        check_cidrs(&set, &set.to_cidrs())?;
        check_cidrs(&set.complement(), &set.complement().to_cidrs())?;
    }

    #[test]
    fn ipset_algebra_and_families(
        n4 in prop::collection::vec((any::<u32>(), 0u8..=32), 0..4),
        n6 in prop::collection::vec((edgy_u128(), 0u8..=128), 0..4),
        m4 in prop::collection::vec((any::<u32>(), 0u8..=32), 0..4),
    ) {
        let nets = |v4: &[(u32, u8)], v6: &[(u128, u8)]| -> Vec<IpNet> {
            v4.iter().map(|&(a, l)| IpNet::V4(Ipv4Net::new(Ipv4Addr::from(a), l).unwrap()))
                .chain(v6.iter().map(|&(a, l)| IpNet::V6(Ipv6Net::new(Ipv6Addr::from(a), l).unwrap())))
                .collect()
        };
        let (na, nb) = (nets(&n4, &n6), nets(&m4, &[]));
        let a = IpSet::from_nets(na.clone());
        let b = nets(&m4, &[]).into_iter().collect::<IpSet>();
        let in_nets = |ns: &[IpNet], x: IpAddr| ns.iter().any(|n| n.contains(&x));
        let mut probes: Vec<IpAddr> = vec![
            IpAddr::V4(Ipv4Addr::UNSPECIFIED), IpAddr::V4(Ipv4Addr::BROADCAST),
            IpAddr::V6(Ipv6Addr::UNSPECIFIED), IpAddr::V6(Ipv6Addr::from(u128::MAX)),
        ];
        for n in na.iter().chain(&nb) {
            match net_bounds(*n) {
                AddrRange::V4(lo, hi) => probes.extend(
                    [lo.checked_sub(1), Some(lo), Some(hi), hi.checked_add(1)].into_iter().flatten().map(|x| IpAddr::V4(x.into()))),
                AddrRange::V6(lo, hi) => probes.extend(
                    [lo.checked_sub(1), Some(lo), Some(hi), hi.checked_add(1)].into_iter().flatten().map(|x| IpAddr::V6(x.into()))),
            }
        }
        let (u, i, d, c) = (a.union(&b), a.intersection(&b), a.difference(&b), a.complement());
        for x in probes {
            let (x_a, x_b) = (in_nets(&na, x), in_nets(&nb, x));
            prop_assert_eq!(a.contains(x), x_a, "contains {}", x);
            prop_assert_eq!(u.contains(x), x_a || x_b, "union at {}", x);
            prop_assert_eq!(i.contains(x), x_a && x_b, "intersection at {}", x);
            prop_assert_eq!(d.contains(x), x_a && !x_b, "difference at {}", x);
            prop_assert_eq!(c.contains(x), !x_a, "complement at {}", x);
            prop_assert_eq!(IpSet::from_addr(x).is_subset(&a), x_a);
        }
        for n in &na {
            prop_assert!(a.contains_net(*n), "{} ⊄ from_nets", n);
        }
        prop_assert_eq!(a.union(&c), IpSet::all());
        prop_assert!(b.v6.is_empty(), "v4 networks leaked into v6");
    }
}

// ---------------------------------------------------------------------------
// AddrMap<ServiceSet> and nesting vs a naive reference
// ---------------------------------------------------------------------------

fn addr_entries() -> impl Strategy<Value = Vec<(IpNet, Svc)>> {
    // Nets in a small neighbourhood of 10.0.0.0 and 2001:db8:: so they
    // overlap, plus the occasional /0.
    let v4 = (0u32..1024, 22u8..=32).prop_map(|(o, l)| {
        IpNet::V4(
            Ipv4Net::new(Ipv4Addr::from(0x0a00_0000 + o), l)
                .unwrap()
                .trunc(),
        )
    });
    let v6 = (0u128..1024, 118u8..=128).prop_map(|(o, l)| {
        IpNet::V6(
            Ipv6Net::new(Ipv6Addr::from((0x2001_0db8u128 << 96) + o), l)
                .unwrap()
                .trunc(),
        )
    });
    let wide = prop_oneof![Just("0.0.0.0/0"), Just("::/0"), Just("255.255.255.255/32")]
        .prop_map(|s| s.parse::<IpNet>().unwrap());
    prop::collection::vec((prop_oneof![4 => v4, 4 => v6, 1 => wide], svc()), 0..6)
}

fn addr_probes(es: &[(IpNet, Svc)]) -> Vec<IpAddr> {
    let mut out = vec![
        IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        IpAddr::V4(Ipv4Addr::BROADCAST),
        IpAddr::V6(Ipv6Addr::UNSPECIFIED),
        IpAddr::V6(Ipv6Addr::from(u128::MAX)),
    ];
    for (n, _) in es {
        match net_bounds(*n) {
            AddrRange::V4(lo, hi) => out.extend(
                [lo.checked_sub(1), Some(lo), Some(hi), hi.checked_add(1)]
                    .into_iter()
                    .flatten()
                    .map(|x| IpAddr::V4(x.into())),
            ),
            AddrRange::V6(lo, hi) => out.extend(
                [lo.checked_sub(1), Some(lo), Some(hi), hi.checked_add(1)]
                    .into_iter()
                    .flatten()
                    .map(|x| IpAddr::V6(x.into())),
            ),
        }
    }
    out
}

fn naive_get(es: &[(IpNet, Svc)], a: IpAddr) -> ServiceSet {
    es.iter()
        .filter(|(n, _)| n.contains(&a))
        .fold(ServiceSet::new(), |acc, (_, s)| acc.union(&s.build()))
}

proptest! {
    #[test]
    fn addr_map_matches_reference(ea in addr_entries(), eb in addr_entries(), cut in addr_entries()) {
        let mut a = AddrMap::new();
        for (n, s) in &ea {
            a.insert_net(*n, s.build());
        }
        let b: AddrMap<ServiceSet> = eb.iter().map(|(n, s)| (*n, s.build())).collect();
        let bulk: AddrMap<ServiceSet> = ea.iter().map(|(n, s)| (*n, s.build())).collect();
        prop_assert_eq!(&bulk, &a, "from_nets vs insert_net");
        // One sweep over (possibly overlapping) address ranges: the same map.
        let pieces: Vec<(IpAddr, IpAddr, ServiceSet)> = ea
            .iter()
            .flat_map(|(n, s)| {
                IpSet::from_net(*n)
                    .iter_ranges()
                    .map(|(lo, hi)| (lo, hi, s.build()))
                    .collect::<Vec<_>>()
            })
            .collect();
        prop_assert_eq!(&AddrMap::from_pieces(pieces), &a, "from_pieces vs insert_net");
        let mut via_sets = AddrMap::new();
        for (n, s) in &ea {
            via_sets.insert_set(&IpSet::from_net(*n), s.build());
        }
        prop_assert_eq!(&via_sets, &a, "insert_set vs insert_net");

        let keep = IpSet::from_nets(cut.iter().map(|(n, _)| *n));
        let (u, i, d, r) = (a.union(&b), a.intersection(&b), a.difference(&b), a.restrict(&keep));
        let mut probes = addr_probes(&ea);
        probes.extend(addr_probes(&eb));
        probes.extend(addr_probes(&cut));
        for x in probes {
            let (va, vb) = (naive_get(&ea, x), naive_get(&eb, x));
            prop_assert_eq!(a.get(x), &va, "get {}", x);
            prop_assert_eq!(u.get(x), &va.union(&vb), "union at {}", x);
            prop_assert_eq!(i.get(x), &va.intersection(&vb), "intersection at {}", x);
            prop_assert_eq!(d.get(x), &va.difference(&vb), "difference at {}", x);
            let want_r = if keep.contains(x) { va.clone() } else { ServiceSet::new() };
            prop_assert_eq!(r.get(x), &want_r, "restrict at {}", x);
            prop_assert_eq!(a.support().contains(x), !va.is_empty(), "support at {}", x);
        }
        prop_assert!(r.support().is_subset(&keep) && r.support().is_subset(&a.support()));
        prop_assert_eq!(a.union(&AddrMap::new()), a.clone());

        // iter_ranges: ascending, v4 first, non-empty, each value = get.
        let mut covered = IpSet::new();
        for (lo, hi, v) in a.iter_ranges() {
            prop_assert!(!v.is_empty());
            prop_assert_eq!(a.get(lo), v);
            prop_assert_eq!(a.get(hi), v);
            covered = covered.union(&IpSet::from_addr_range(lo, hi));
        }
        prop_assert_eq!(&covered, &a.support());
        // group_by_value partitions the support, one group per value.
        let groups = a.group_by_value();
        let mut seen = IpSet::new();
        for (set, v) in &groups {
            prop_assert!(seen.is_disjoint(set), "groups overlap");
            seen = seen.union(set);
            for (lo, _) in set.iter_ranges() {
                prop_assert_eq!(a.get(lo), v);
            }
        }
        prop_assert_eq!(seen, a.support());
    }

    #[test]
    fn nested_addr_map_matches_reference(
        rules in prop::collection::vec((addr_entries(), addr_entries()), 0..4),
    ) {
        // src -> dst -> services, each rule = (src nets) x (dst nets, svc).
        let mut reach: AddrMap<AddrMap<ServiceSet>> = AddrMap::new();
        for (src, dst) in &rules {
            let dst_map: AddrMap<ServiceSet> = dst.iter().map(|(n, s)| (*n, s.build())).collect();
            let src_set = IpSet::from_nets(src.iter().map(|(n, _)| *n));
            reach.insert_set(&src_set, dst_map);
        }
        let mut srcs = Vec::new();
        let mut dsts = Vec::new();
        for (src, dst) in &rules {
            srcs.extend(addr_probes(src));
            dsts.extend(addr_probes(dst));
        }
        for &s in srcs.iter().take(12) {
            for &t in dsts.iter().take(12) {
                let want = rules
                    .iter()
                    .filter(|(src, _)| src.iter().any(|(n, _)| n.contains(&s)))
                    .fold(ServiceSet::new(), |acc, (_, dst)| acc.union(&naive_get(dst, t)));
                prop_assert_eq!(reach.get(s).get(t), &want, "reach {} -> {}", s, t);
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Edge cases
// ---------------------------------------------------------------------------

#[test]
fn cidr_edge_cases() {
    let net = |s: &str| s.parse::<IpNet>().unwrap();
    assert_eq!(IpSet::all_v4().to_cidrs(), vec![net("0.0.0.0/0")]);
    assert_eq!(IpSet::all_v6().to_cidrs(), vec![net("::/0")]);
    assert_eq!(IpSet::all().to_cidrs(), vec![net("0.0.0.0/0"), net("::/0")]);
    let host = IpSet::from_addr("10.1.2.3".parse().unwrap());
    assert_eq!(host.to_cidrs(), vec![net("10.1.2.3/32")]);
    assert_eq!(host.to_string(), "10.1.2.3/32");
    let top4 = IpSet::from_addr(IpAddr::V4(Ipv4Addr::BROADCAST));
    assert_eq!(top4.to_string(), "255.255.255.255/32");
    let top6 = IpSet::from_addr(IpAddr::V6(Ipv6Addr::from(u128::MAX)));
    assert_eq!(
        top6.to_string(),
        "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128"
    );
    assert_eq!(
        IpSet::all_v6().difference(&top6).to_cidrs().len(),
        128,
        "::/0 minus one host needs one block per bit"
    );
    assert_eq!(IpSet::new().to_cidrs(), vec![]);
    assert_eq!(IpSet::new().to_string(), "none");
    assert_eq!(
        range_to_cidrs("10.0.0.0".parse().unwrap(), "::1".parse().unwrap()),
        vec![],
        "mixed families give nothing"
    );
    assert_eq!(
        range_to_cidrs(
            "0.0.0.0".parse().unwrap(),
            "255.255.255.255".parse().unwrap()
        ),
        vec![net("0.0.0.0/0")]
    );
    assert_eq!(
        net_bounds(net("10.0.0.7/30")),
        AddrRange::V4(0x0a00_0004, 0x0a00_0007)
    );
    assert_eq!(IpSet::all_v6().count_v6(), u128::MAX, "saturates at 2^128");
}

#[test]
fn service_display_examples() {
    let s = ServiceSet::tcp(22, 22)
        .union(&ServiceSet::tcp(443, 443))
        .union(&ServiceSet::tcp(1024, 65535))
        .union(&ServiceSet::udp(53, 53))
        .union(&ServiceSet::protocol(PROTO_ICMP))
        .union(&ServiceSet::protocol(50));
    assert_eq!(s.to_string(), "tcp:22,443,1024-65535 udp:53 icmp proto-50");
    assert_eq!(ServiceSet::all().to_string(), "any");
    assert_eq!(
        ServiceSet::protocol(PROTO_TCP)
            .union(&ServiceSet::protocol(PROTO_ICMPV6))
            .to_string(),
        "tcp:all icmpv6"
    );
}

#[test]
fn bound_edges() {
    assert_eq!(255u8.succ(), None);
    assert_eq!(0u8.pred(), None);
    assert_eq!(u128::MAX.succ(), None);
    assert_eq!(IntervalSet::from_range(5u8, 4), IntervalSet::new());
    assert_eq!(IntervalSet::<u128>::full().complement(), IntervalSet::new());
    let mut m: PiecewiseMap<u128, bool> = PiecewiseMap::new();
    m.insert(u128::MAX, u128::MAX, true);
    assert!(*m.get(u128::MAX));
    assert!(!*m.get(u128::MAX - 1));
    assert_eq!(m.support(), IntervalSet::singleton(u128::MAX));
}
