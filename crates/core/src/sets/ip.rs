//! `IpSet` (sets of IPv4 and IPv6 addresses) and the address/CIDR
//! conversion helpers shared by `AddrMap`.
//!
//! Addresses are mapped to integers (`u32` / `u128`) so the generic interval
//! machinery does the set algebra; IPv4 and IPv6 are kept in separate sets
//! (they are different address spaces — an IPv4-mapped IPv6 address is *not*
//! the IPv4 address) behind one API. CIDR output is the exact, minimal
//! decomposition, computed per range in `O(bits)` — never per address.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::ops::{BitAnd, BitOr, Not, Sub};

use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use serde::ser::{Serialize, SerializeSeq, Serializer};

use super::interval::IntervalSet;
use super::lattice::Lattice;

/// The integer value of an IPv4 address.
pub fn ipv4_to_u32(a: Ipv4Addr) -> u32 {
    u32::from(a)
}

/// The integer value of an IPv6 address.
pub fn ipv6_to_u128(a: Ipv6Addr) -> u128 {
    u128::from(a)
}

/// The IPv4 address with integer value `x`.
pub fn u32_to_ipv4(x: u32) -> Ipv4Addr {
    Ipv4Addr::from(x)
}

/// The IPv6 address with integer value `x`.
pub fn u128_to_ipv6(x: u128) -> Ipv6Addr {
    Ipv6Addr::from(x)
}

/// An inclusive range of addresses of one family, as integers.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum AddrRange {
    /// IPv4 `[lo, hi]`.
    V4(u32, u32),
    /// IPv6 `[lo, hi]`.
    V6(u128, u128),
}

/// First and last address of an IPv4 network (host bits are ignored, so
/// `10.0.0.5/24` gives the bounds of `10.0.0.0/24`).
pub fn ipv4_net_bounds(net: Ipv4Net) -> (u32, u32) {
    (ipv4_to_u32(net.network()), ipv4_to_u32(net.broadcast()))
}

/// First and last address of an IPv6 network (host bits ignored).
pub fn ipv6_net_bounds(net: Ipv6Net) -> (u128, u128) {
    (ipv6_to_u128(net.network()), ipv6_to_u128(net.broadcast()))
}

/// First and last address of a network, as integers of its family.
pub fn net_bounds(net: IpNet) -> AddrRange {
    match net {
        IpNet::V4(n) => {
            let (lo, hi) = ipv4_net_bounds(n);
            AddrRange::V4(lo, hi)
        }
        IpNet::V6(n) => {
            let (lo, hi) = ipv6_net_bounds(n);
            AddrRange::V6(lo, hi)
        }
    }
}

/// Minimal aligned blocks covering exactly `[lo, hi]` inside a `bits`-wide
/// address space, as `(network, prefix_len)`; empty when `lo > hi`.
///
/// Greedy from the left: at each step take the largest block that is
/// aligned at `lo` and does not pass `hi`. That yields the unique minimal
/// decomposition, with at most `2 * bits` blocks.
fn range_blocks(lo: u128, hi: u128, bits: u32, mut emit: impl FnMut(u128, u8)) {
    if lo > hi || bits > 128 {
        return;
    }
    let mut lo = lo;
    loop {
        // Largest k with lo divisible by 2^k (capped at the width)...
        let align = lo.trailing_zeros().min(bits);
        // ...and with 2^k <= hi - lo + 1, i.e. k <= floor(log2(hi - lo + 1)).
        let span = hi - lo;
        let fit = match span.checked_add(1) {
            Some(n) => 127 - n.leading_zeros(),
            None => 128, // [0, u128::MAX]: the whole 128-bit space
        };
        let k = align.min(fit);
        // bits - k <= 128 fits u8; the cast cannot truncate.
        emit(lo, (bits - k) as u8);
        let size_minus_1 = if k >= 128 {
            u128::MAX
        } else {
            (1u128 << k) - 1
        };
        // block end <= hi, so this does not overflow
        let end = lo + size_minus_1;
        match end.checked_add(1) {
            Some(n) if end < hi => lo = n,
            _ => break,
        }
    }
}

/// Minimal CIDR list covering exactly the IPv4 range `[lo, hi]`.
pub fn range_to_cidrs_v4(lo: u32, hi: u32) -> Vec<Ipv4Net> {
    let mut out = Vec::new();
    range_blocks(u128::from(lo), u128::from(hi), 32, |net, len| {
        // `net` came from a u32 range and `len <= 32`: both conversions
        // always succeed, and are checked rather than cast or unwrapped.
        if let Ok(a) = u32::try_from(net)
            && let Ok(n) = Ipv4Net::new(u32_to_ipv4(a), len)
        {
            out.push(n);
        }
    });
    out
}

/// Minimal CIDR list covering exactly the IPv6 range `[lo, hi]`.
pub fn range_to_cidrs_v6(lo: u128, hi: u128) -> Vec<Ipv6Net> {
    let mut out = Vec::new();
    range_blocks(lo, hi, 128, |net, len| {
        if let Ok(n) = Ipv6Net::new(u128_to_ipv6(net), len) {
            out.push(n);
        }
    });
    out
}

/// Minimal CIDR list covering exactly `[lo, hi]`. Empty when `lo > hi` or
/// the two addresses are of different families.
pub fn range_to_cidrs(lo: IpAddr, hi: IpAddr) -> Vec<IpNet> {
    match (lo, hi) {
        (IpAddr::V4(l), IpAddr::V4(h)) => range_to_cidrs_v4(ipv4_to_u32(l), ipv4_to_u32(h))
            .into_iter()
            .map(IpNet::V4)
            .collect(),
        (IpAddr::V6(l), IpAddr::V6(h)) => range_to_cidrs_v6(ipv6_to_u128(l), ipv6_to_u128(h))
            .into_iter()
            .map(IpNet::V6)
            .collect(),
        _ => Vec::new(),
    }
}

/// A set of IPv4 and IPv6 addresses.
/// `Ord` is a total order on the representation (for grouping and deterministic work), not
/// the order reports print in.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Default)]
pub struct IpSet {
    /// IPv4 addresses as integers.
    pub v4: IntervalSet<u32>,
    /// IPv6 addresses as integers.
    pub v6: IntervalSet<u128>,
}

impl IpSet {
    /// The empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// The empty set (alias of [`IpSet::new`]).
    pub fn empty() -> Self {
        Self::default()
    }

    /// Every IPv4 address (`0.0.0.0/0`).
    pub fn all_v4() -> Self {
        Self {
            v4: IntervalSet::full(),
            v6: IntervalSet::new(),
        }
    }

    /// Every IPv6 address (`::/0`).
    pub fn all_v6() -> Self {
        Self {
            v4: IntervalSet::new(),
            v6: IntervalSet::full(),
        }
    }

    /// Every IPv4 and IPv6 address.
    pub fn all() -> Self {
        Self {
            v4: IntervalSet::full(),
            v6: IntervalSet::full(),
        }
    }

    /// The addresses of a network (host bits of `net` are ignored).
    pub fn from_net(net: IpNet) -> Self {
        match net_bounds(net) {
            AddrRange::V4(lo, hi) => Self {
                v4: IntervalSet::from_range(lo, hi),
                v6: IntervalSet::new(),
            },
            AddrRange::V6(lo, hi) => Self {
                v4: IntervalSet::new(),
                v6: IntervalSet::from_range(lo, hi),
            },
        }
    }

    /// The union of many networks, `O(k log k)`.
    pub fn from_nets<I: IntoIterator<Item = IpNet>>(nets: I) -> Self {
        let (mut v4, mut v6) = (Vec::new(), Vec::new());
        for n in nets {
            match net_bounds(n) {
                AddrRange::V4(lo, hi) => v4.push((lo, hi)),
                AddrRange::V6(lo, hi) => v6.push((lo, hi)),
            }
        }
        Self {
            v4: IntervalSet::from_ranges(v4),
            v6: IntervalSet::from_ranges(v6),
        }
    }

    /// A single address.
    pub fn from_addr(a: IpAddr) -> Self {
        match a {
            IpAddr::V4(a) => Self {
                v4: IntervalSet::singleton(ipv4_to_u32(a)),
                v6: IntervalSet::new(),
            },
            IpAddr::V6(a) => Self {
                v4: IntervalSet::new(),
                v6: IntervalSet::singleton(ipv6_to_u128(a)),
            },
        }
    }

    /// The inclusive address range `[lo, hi]`; empty when `lo > hi` or the
    /// two are of different families.
    pub fn from_addr_range(lo: IpAddr, hi: IpAddr) -> Self {
        match (lo, hi) {
            (IpAddr::V4(l), IpAddr::V4(h)) => Self {
                v4: IntervalSet::from_range(ipv4_to_u32(l), ipv4_to_u32(h)),
                v6: IntervalSet::new(),
            },
            (IpAddr::V6(l), IpAddr::V6(h)) => Self {
                v4: IntervalSet::new(),
                v6: IntervalSet::from_range(ipv6_to_u128(l), ipv6_to_u128(h)),
            },
            _ => Self::new(),
        }
    }

    /// Whether `a` is in the set. `O(log n)`.
    pub fn contains(&self, a: IpAddr) -> bool {
        match a {
            IpAddr::V4(a) => self.v4.contains(ipv4_to_u32(a)),
            IpAddr::V6(a) => self.v6.contains(ipv6_to_u128(a)),
        }
    }

    /// Whether every address of `net` is in the set. `O(log n)`.
    pub fn contains_net(&self, net: IpNet) -> bool {
        match net_bounds(net) {
            AddrRange::V4(lo, hi) => self.v4.contains_range(lo, hi),
            AddrRange::V6(lo, hi) => self.v6.contains_range(lo, hi),
        }
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.v4.is_empty() && self.v6.is_empty()
    }

    /// Whether the set is every IPv4 and IPv6 address.
    pub fn is_full(&self) -> bool {
        self.v4.is_full() && self.v6.is_full()
    }

    /// Set union.
    pub fn union(&self, o: &Self) -> Self {
        Self {
            v4: self.v4.union(&o.v4),
            v6: self.v6.union(&o.v6),
        }
    }

    /// Set intersection.
    pub fn intersection(&self, o: &Self) -> Self {
        Self {
            v4: self.v4.intersection(&o.v4),
            v6: self.v6.intersection(&o.v6),
        }
    }

    /// Set difference `self \ o`.
    pub fn difference(&self, o: &Self) -> Self {
        Self {
            v4: self.v4.difference(&o.v4),
            v6: self.v6.difference(&o.v6),
        }
    }

    /// Complement within both address families.
    pub fn complement(&self) -> Self {
        Self {
            v4: self.v4.complement(),
            v6: self.v6.complement(),
        }
    }

    /// `self ⊆ o`.
    pub fn is_subset(&self, o: &Self) -> bool {
        self.v4.is_subset(&o.v4) && self.v6.is_subset(&o.v6)
    }

    /// Whether the sets share no address.
    pub fn is_disjoint(&self, o: &Self) -> bool {
        self.v4.is_disjoint(&o.v4) && self.v6.is_disjoint(&o.v6)
    }

    /// Number of IPv4 addresses.
    pub fn count_v4(&self) -> u128 {
        self.v4.count()
    }

    /// Number of IPv6 addresses (saturating at `u128::MAX`; see
    /// [`IntervalSet::count`]).
    pub fn count_v6(&self) -> u128 {
        self.v6.count()
    }

    /// The exact minimal CIDR decomposition: IPv4 first, then IPv6, each
    /// ascending. Canonical ranges are non-adjacent, so blocks from
    /// different ranges can never merge and per-range minimality is global
    /// minimality.
    pub fn to_cidrs(&self) -> Vec<IpNet> {
        let mut out = Vec::new();
        for (lo, hi) in self.v4.iter() {
            out.extend(range_to_cidrs_v4(lo, hi).into_iter().map(IpNet::V4));
        }
        for (lo, hi) in self.v6.iter() {
            out.extend(range_to_cidrs_v6(lo, hi).into_iter().map(IpNet::V6));
        }
        out
    }

    /// The canonical ranges as address pairs: IPv4 first, ascending.
    pub fn iter_ranges(&self) -> impl Iterator<Item = (IpAddr, IpAddr)> + '_ {
        let v4 = self
            .v4
            .iter()
            .map(|(l, h)| (IpAddr::V4(u32_to_ipv4(l)), IpAddr::V4(u32_to_ipv4(h))));
        let v6 = self
            .v6
            .iter()
            .map(|(l, h)| (IpAddr::V6(u128_to_ipv6(l)), IpAddr::V6(u128_to_ipv6(h))));
        v4.chain(v6)
    }
}

impl Lattice for IpSet {
    fn empty() -> Self {
        Self::new()
    }
    fn is_empty(&self) -> bool {
        IpSet::is_empty(self)
    }
    fn union(&self, o: &Self) -> Self {
        IpSet::union(self, o)
    }
    fn intersection(&self, o: &Self) -> Self {
        IpSet::intersection(self, o)
    }
    fn difference(&self, o: &Self) -> Self {
        IpSet::difference(self, o)
    }
    fn is_subset(&self, o: &Self) -> bool {
        IpSet::is_subset(self, o)
    }
}

impl FromIterator<IpNet> for IpSet {
    fn from_iter<I: IntoIterator<Item = IpNet>>(iter: I) -> Self {
        Self::from_nets(iter)
    }
}

impl From<IpNet> for IpSet {
    fn from(net: IpNet) -> Self {
        Self::from_net(net)
    }
}

impl From<IpAddr> for IpSet {
    fn from(a: IpAddr) -> Self {
        Self::from_addr(a)
    }
}

impl BitOr for &IpSet {
    type Output = IpSet;
    fn bitor(self, rhs: Self) -> IpSet {
        self.union(rhs)
    }
}

impl BitAnd for &IpSet {
    type Output = IpSet;
    fn bitand(self, rhs: Self) -> IpSet {
        self.intersection(rhs)
    }
}

impl Sub for &IpSet {
    type Output = IpSet;
    fn sub(self, rhs: Self) -> IpSet {
        self.difference(rhs)
    }
}

impl Not for &IpSet {
    type Output = IpSet;
    fn not(self) -> IpSet {
        self.complement()
    }
}

/// Comma-separated minimal CIDRs (`10.0.0.0/8, 192.168.1.1/32, ::/0`);
/// `none` when empty.
impl fmt::Display for IpSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return f.write_str("none");
        }
        for (k, net) in self.to_cidrs().iter().enumerate() {
            if k > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{net}")?;
        }
        Ok(())
    }
}

/// Serialised as the list of minimal CIDR strings.
impl Serialize for IpSet {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let cidrs = self.to_cidrs();
        let mut seq = s.serialize_seq(Some(cidrs.len()))?;
        for c in &cidrs {
            seq.serialize_element(&c.to_string())?;
        }
        seq.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(s: &str) -> IpNet {
        s.parse().unwrap()
    }

    #[test]
    fn cidr_edges() {
        assert_eq!(IpSet::all_v4().to_cidrs(), vec![net("0.0.0.0/0")]);
        assert_eq!(IpSet::all_v6().to_cidrs(), vec![net("::/0")]);
        assert_eq!(IpSet::all().to_string(), "0.0.0.0/0, ::/0");
        assert_eq!(
            range_to_cidrs_v4(u32::MAX, u32::MAX),
            vec!["255.255.255.255/32".parse::<Ipv4Net>().unwrap()]
        );
        assert_eq!(
            range_to_cidrs_v6(u128::MAX, u128::MAX),
            vec![Ipv6Net::new(u128_to_ipv6(u128::MAX), 128).unwrap()]
        );
        assert_eq!(range_to_cidrs_v6(1, 0), vec![]);
        assert_eq!(
            IpSet::from_net(net("10.0.0.5/24")).to_string(),
            "10.0.0.0/24"
        );
        // 1..=u32::MAX needs one block per bit.
        assert_eq!(range_to_cidrs_v4(1, u32::MAX).len(), 32);
        assert_eq!(range_to_cidrs_v6(1, u128::MAX).len(), 128);
        assert_eq!(range_to_cidrs_v6(0, u128::MAX - 1).len(), 128);
    }

    #[test]
    fn cidr_small_range() {
        let s = IpSet::from_addr_range("10.0.0.1".parse().unwrap(), "10.0.0.6".parse().unwrap());
        assert_eq!(
            s.to_string(),
            "10.0.0.1/32, 10.0.0.2/31, 10.0.0.4/31, 10.0.0.6/32"
        );
    }

    #[test]
    fn families_stay_apart() {
        let s = IpSet::from_nets([net("0.0.0.0/0"), net("2001:db8::/32")]);
        assert!(s.contains("1.2.3.4".parse().unwrap()));
        assert!(!s.contains("::ffff:1.2.3.4".parse().unwrap()));
        assert!(s.contains_net(net("2001:db8:1::/48")));
        assert!(!s.contains_net(net("2001:db8::/31")));
        assert_eq!(s.complement().to_cidrs().first(), Some(&net("::/3")));
        assert!(
            IpSet::from_addr_range(
                IpAddr::V4(Ipv4Addr::LOCALHOST),
                IpAddr::V6(Ipv6Addr::LOCALHOST)
            )
            .is_empty()
        );
    }
}
