//! `AddrMap<V>`: a total function from IP addresses (v4 and v6) to a
//! lattice value — "address → services", and nested
//! "src → (dst → services)".
//!
//! It is two `PiecewiseMap`s, one per address family, behind one API, in the
//! same way `IpSet` is two `IntervalSet`s.

use foldhash::{HashMap, HashMapExt};
use std::hash::Hash;
use std::net::IpAddr;

use ipnet::IpNet;

use super::interval::IntervalSet;
use super::ip::{
    AddrRange, IpSet, ipv4_to_u32, ipv6_to_u128, net_bounds, u32_to_ipv4, u128_to_ipv6,
};
use super::lattice::Lattice;
use super::piecewise::PiecewiseMap;

/// A total function from IP addresses to `V`, piecewise constant.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct AddrMap<V: Lattice> {
    /// The IPv4 half, keyed by address integer.
    pub v4: PiecewiseMap<u32, V>,
    /// The IPv6 half, keyed by address integer.
    pub v6: PiecewiseMap<u128, V>,
}

impl<V: Lattice> Default for AddrMap<V> {
    fn default() -> Self {
        Self::new()
    }
}

impl<V: Lattice> AddrMap<V> {
    /// Every address maps to `V::empty()`.
    pub fn new() -> Self {
        Self {
            v4: PiecewiseMap::new(),
            v6: PiecewiseMap::new(),
        }
    }

    /// Every address (both families) maps to `v`.
    pub fn constant(v: V) -> Self {
        Self {
            v4: PiecewiseMap::constant(v.clone()),
            v6: PiecewiseMap::constant(v),
        }
    }

    /// `v` on `set`, empty elsewhere.
    pub fn from_set(set: &IpSet, v: V) -> Self {
        Self {
            v4: PiecewiseMap::from_interval_set(&set.v4, v.clone()),
            v6: PiecewiseMap::from_interval_set(&set.v6, v),
        }
    }

    /// `v` on `net`, empty elsewhere.
    pub fn from_net(net: IpNet, v: V) -> Self {
        Self::from_set(&IpSet::from_net(net), v)
    }

    /// Union of many `(network, value)` entries, built by balanced pairwise
    /// unions (see [`PiecewiseMap::from_entries`]).
    pub fn from_nets<I: IntoIterator<Item = (IpNet, V)>>(entries: I) -> Self {
        let (mut v4, mut v6) = (Vec::new(), Vec::new());
        for (net, v) in entries {
            match net_bounds(net) {
                AddrRange::V4(lo, hi) => v4.push((lo, hi, v)),
                AddrRange::V6(lo, hi) => v6.push((lo, hi, v)),
            }
        }
        Self {
            v4: PiecewiseMap::from_entries(v4),
            v6: PiecewiseMap::from_entries(v6),
        }
    }

    /// The pointwise union of `(lo, hi, v)` address ranges ([`PiecewiseMap::from_pieces`] per
    /// family; a range whose ends are of two families is skipped — `iter` never yields one).
    pub fn from_pieces(pieces: Vec<(IpAddr, IpAddr, V)>) -> Self {
        let (mut v4, mut v6) = (Vec::new(), Vec::new());
        for (lo, hi, v) in pieces {
            match (lo, hi) {
                (IpAddr::V4(l), IpAddr::V4(h)) => v4.push((ipv4_to_u32(l), ipv4_to_u32(h), v)),
                (IpAddr::V6(l), IpAddr::V6(h)) => v6.push((ipv6_to_u128(l), ipv6_to_u128(h), v)),
                _ => debug_assert!(false, "a range from {lo} to {hi} spans two families"),
            }
        }
        Self {
            v4: PiecewiseMap::from_pieces(v4),
            v6: PiecewiseMap::from_pieces(v6),
        }
    }

    /// Union `v` into every address of `net`.
    pub fn insert_net(&mut self, net: IpNet, v: V) {
        match net_bounds(net) {
            AddrRange::V4(lo, hi) => self.v4.insert(lo, hi, v),
            AddrRange::V6(lo, hi) => self.v6.insert(lo, hi, v),
        }
    }

    /// Union `v` into every address of `set` (one linear merge per family).
    pub fn insert_set(&mut self, set: &IpSet, v: V) {
        if !set.v4.is_empty() {
            self.v4.insert_set(&set.v4, v.clone());
        }
        if !set.v6.is_empty() {
            self.v6.insert_set(&set.v6, v);
        }
    }

    /// The value at `a`. `O(log n)`.
    pub fn get(&self, a: IpAddr) -> &V {
        match a {
            IpAddr::V4(a) => self.v4.get(ipv4_to_u32(a)),
            IpAddr::V6(a) => self.v6.get(ipv6_to_u128(a)),
        }
    }

    /// Pointwise union.
    pub fn union(&self, o: &Self) -> Self {
        Self {
            v4: self.v4.union(&o.v4),
            v6: self.v6.union(&o.v6),
        }
    }

    /// Pointwise intersection.
    pub fn intersection(&self, o: &Self) -> Self {
        Self {
            v4: self.v4.intersection(&o.v4),
            v6: self.v6.intersection(&o.v6),
        }
    }

    /// Pointwise difference.
    pub fn difference(&self, o: &Self) -> Self {
        Self {
            v4: self.v4.difference(&o.v4),
            v6: self.v6.difference(&o.v6),
        }
    }

    /// Pointwise `self ⊆ o`.
    pub fn is_subset(&self, o: &Self) -> bool {
        self.v4.is_subset(&o.v4) && self.v6.is_subset(&o.v6)
    }

    /// The same map on `set`, empty outside it.
    pub fn restrict(&self, set: &IpSet) -> Self {
        Self {
            v4: self.v4.restrict(&set.v4),
            v6: self.v6.restrict(&set.v6),
        }
    }

    /// The addresses whose value is non-empty.
    pub fn support(&self) -> IpSet {
        IpSet {
            v4: self.v4.support(),
            v6: self.v6.support(),
        }
    }

    /// Apply `f` to every value (re-canonicalising).
    pub fn map_values<U: Lattice>(&self, mut f: impl FnMut(&V) -> U) -> AddrMap<U> {
        AddrMap {
            v4: self.v4.map_values(&mut f),
            v6: self.v6.map_values(&mut f),
        }
    }

    /// Whether every address maps to the empty value.
    pub fn is_empty(&self) -> bool {
        self.v4.is_empty() && self.v6.is_empty()
    }

    /// Non-empty pieces as `(first, last, &value)`: IPv4 first, ascending.
    pub fn iter_ranges(&self) -> impl Iterator<Item = (IpAddr, IpAddr, &V)> + '_ {
        let v4 = self
            .v4
            .iter()
            .map(|(l, h, v)| (IpAddr::V4(u32_to_ipv4(l)), IpAddr::V4(u32_to_ipv4(h)), v));
        let v6 = self
            .v6
            .iter()
            .map(|(l, h, v)| (IpAddr::V6(u128_to_ipv6(l)), IpAddr::V6(u128_to_ipv6(h)), v));
        v4.chain(v6)
    }

    /// Same as [`AddrMap::iter_ranges`].
    pub fn iter(&self) -> impl Iterator<Item = (IpAddr, IpAddr, &V)> + '_ {
        self.iter_ranges()
    }

    /// Non-empty pieces grouped by value: each distinct value once, with the
    /// `IpSet` of all addresses mapping to it, in order of first appearance
    /// (IPv4 ascending, then IPv6). This is the compact form for reports.
    pub fn group_by_value(&self) -> Vec<(IpSet, V)>
    where
        V: Eq + Hash,
    {
        // Per distinct value: its v4 ranges, v6 ranges, and the value.
        // Ranges arrive ascending, so building each IpSet is linear.
        type Group<'a, V> = (Vec<(u32, u32)>, Vec<(u128, u128)>, &'a V);
        let mut index: HashMap<&V, usize> = HashMap::new();
        let mut groups: Vec<Group<'_, V>> = Vec::new();
        let mut group_of = |v| {
            *index.entry(v).or_insert_with(|| {
                groups.push((Vec::new(), Vec::new(), v));
                groups.len() - 1
            })
        };
        let v4: Vec<(usize, u32, u32)> = self
            .v4
            .iter()
            .map(|(l, h, v)| (group_of(v), l, h))
            .collect();
        let v6: Vec<(usize, u128, u128)> = self
            .v6
            .iter()
            .map(|(l, h, v)| (group_of(v), l, h))
            .collect();
        for (k, l, h) in v4 {
            if let Some(g) = groups.get_mut(k) {
                g.0.push((l, h));
            }
        }
        for (k, l, h) in v6 {
            if let Some(g) = groups.get_mut(k) {
                g.1.push((l, h));
            }
        }
        groups
            .into_iter()
            .map(|(r4, r6, v)| {
                (
                    IpSet {
                        v4: IntervalSet::from_ranges(r4),
                        v6: IntervalSet::from_ranges(r6),
                    },
                    v.clone(),
                )
            })
            .collect()
    }
}

impl<V: Lattice> Lattice for AddrMap<V> {
    fn empty() -> Self {
        Self::new()
    }
    fn is_empty(&self) -> bool {
        AddrMap::is_empty(self)
    }
    fn union(&self, o: &Self) -> Self {
        AddrMap::union(self, o)
    }
    fn intersection(&self, o: &Self) -> Self {
        AddrMap::intersection(self, o)
    }
    fn difference(&self, o: &Self) -> Self {
        AddrMap::difference(self, o)
    }
    fn is_subset(&self, o: &Self) -> bool {
        AddrMap::is_subset(self, o)
    }
}

impl<V: Lattice> FromIterator<(IpNet, V)> for AddrMap<V> {
    fn from_iter<I: IntoIterator<Item = (IpNet, V)>>(iter: I) -> Self {
        Self::from_nets(iter)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sets::ServiceSet;

    fn net(s: &str) -> IpNet {
        s.parse().unwrap()
    }

    #[test]
    fn nested_addr_maps() {
        let ssh = ServiceSet::tcp(22, 22);
        let dns = ServiceSet::udp(53, 53);
        let mut dst = AddrMap::new();
        dst.insert_net(net("10.1.0.0/16"), ssh.clone());
        dst.insert_net(net("10.1.2.0/24"), dns.clone());
        dst.insert_net(net("2001:db8::/32"), ssh.clone());
        assert_eq!(dst.get("10.1.2.3".parse().unwrap()), &ssh.union(&dns));
        assert_eq!(dst.get("10.1.3.3".parse().unwrap()), &ssh);
        assert!(dst.get("10.2.0.0".parse().unwrap()).is_empty());
        assert_eq!(
            dst.support(),
            IpSet::from_nets([net("10.1.0.0/16"), net("2001:db8::/32")])
        );

        let groups = dst.group_by_value();
        assert_eq!(groups.len(), 2);
        assert_eq!(groups[0].1, ssh);
        assert_eq!(
            groups[0].0.to_string(),
            "10.1.0.0/23, 10.1.3.0/24, 10.1.4.0/22, 10.1.8.0/21, 10.1.16.0/20, \
             10.1.32.0/19, 10.1.64.0/18, 10.1.128.0/17, 2001:db8::/32"
        );

        let mut reach: AddrMap<AddrMap<ServiceSet>> = AddrMap::new();
        reach.insert_set(&IpSet::from_net(net("172.16.0.0/12")), dst.clone());
        let src: IpAddr = "172.20.0.1".parse().unwrap();
        assert_eq!(reach.get(src), &dst);
        assert!(reach.restrict(&IpSet::all_v6()).is_empty());
        let ranges: Vec<_> = reach.iter_ranges().map(|(l, h, _)| (l, h)).collect();
        assert_eq!(
            ranges,
            vec![(
                "172.16.0.0".parse().unwrap(),
                "172.31.255.255".parse().unwrap()
            )]
        );
        let from =
            AddrMap::from_nets([(net("0.0.0.0/0"), ssh.clone()), (net("::/0"), ssh.clone())]);
        assert_eq!(from, AddrMap::constant(ssh));
    }
}
