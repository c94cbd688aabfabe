//! `ServiceSet`: a set of (IP protocol, destination port) pairs, the
//! "what traffic" half of a reachability answer.
//!
//! Only TCP (6) and UDP (17) carry ports; every other protocol is all or
//! nothing. ICMP types/codes are not modelled: an ICMP rule counts as the
//! whole ICMP protocol, which over-approximates reachability (the safe
//! direction for "is this more than you meant?").

use std::fmt;
use std::ops::{BitAnd, BitOr, Not, Sub};

use serde::{Serialize, Serializer};

use super::interval::IntervalSet;
use super::lattice::Lattice;

/// IANA protocol number of ICMP.
pub const PROTO_ICMP: u8 = 1;
/// IANA protocol number of TCP.
pub const PROTO_TCP: u8 = 6;
/// IANA protocol number of UDP.
pub const PROTO_UDP: u8 = 17;
/// IANA protocol number of ICMPv6.
pub const PROTO_ICMPV6: u8 = 58;

/// A set of (protocol, port) pairs.
///
/// Invariant (private fields keep it): `other` never contains 6 or 17 —
/// those live in `tcp`/`udp` port by port — so the representation is
/// canonical and `==` is set equality.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Default)]
pub struct ServiceSet {
    tcp: IntervalSet<u16>,
    udp: IntervalSet<u16>,
    other: IntervalSet<u8>,
}

/// All protocol numbers except TCP and UDP: the domain of `other`.
fn portless_protocols() -> IntervalSet<u8> {
    IntervalSet::from_ranges([
        (0, PROTO_TCP - 1),
        (PROTO_TCP + 1, PROTO_UDP - 1),
        (PROTO_UDP + 1, u8::MAX),
    ])
}

impl ServiceSet {
    /// The empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// The empty set (alias of [`ServiceSet::new`]).
    pub fn empty() -> Self {
        Self::default()
    }

    /// Every protocol, every port (AWS protocol `-1`).
    pub fn all() -> Self {
        Self {
            tcp: IntervalSet::full(),
            udp: IntervalSet::full(),
            other: portless_protocols(),
        }
    }

    /// TCP ports `lo..=hi` (empty when `lo > hi`).
    pub fn tcp(lo: u16, hi: u16) -> Self {
        Self {
            tcp: IntervalSet::from_range(lo, hi),
            ..Self::default()
        }
    }

    /// UDP ports `lo..=hi` (empty when `lo > hi`).
    pub fn udp(lo: u16, hi: u16) -> Self {
        Self {
            udp: IntervalSet::from_range(lo, hi),
            ..Self::default()
        }
    }

    /// A whole protocol: for TCP/UDP every port.
    pub fn protocol(p: u8) -> Self {
        Self::protocol_ports(p, u16::MIN, u16::MAX)
    }

    /// Protocol `p`, ports `lo..=hi`. Ports only mean something for TCP and
    /// UDP; for any other protocol they are ignored and the whole protocol is
    /// included (as AWS does for a rule on a port-less protocol).
    pub fn protocol_ports(p: u8, lo: u16, hi: u16) -> Self {
        match p {
            PROTO_TCP => Self::tcp(lo, hi),
            PROTO_UDP => Self::udp(lo, hi),
            _ => Self {
                other: IntervalSet::singleton(p),
                ..Self::default()
            },
        }
    }

    /// Assemble from parts. 6 and 17 in `other` are dropped (they are
    /// described by `tcp`/`udp`), keeping the representation canonical.
    pub fn from_parts(
        tcp: IntervalSet<u16>,
        udp: IntervalSet<u16>,
        other: IntervalSet<u8>,
    ) -> Self {
        Self {
            tcp,
            udp,
            other: other.intersection(&portless_protocols()),
        }
    }

    /// TCP ports in the set.
    pub fn tcp_ports(&self) -> &IntervalSet<u16> {
        &self.tcp
    }

    /// UDP ports in the set.
    pub fn udp_ports(&self) -> &IntervalSet<u16> {
        &self.udp
    }

    /// Port-less protocols in the set (never contains 6 or 17).
    pub fn other_protocols(&self) -> &IntervalSet<u8> {
        &self.other
    }

    /// Whether `(proto, port)` is in the set.
    ///
    /// For TCP/UDP, `Some(port)` asks about that port and `None` asks
    /// whether *any* port of the protocol is in the set. For every other
    /// protocol the port is ignored.
    pub fn contains(&self, proto: u8, port: Option<u16>) -> bool {
        let ports = match proto {
            PROTO_TCP => &self.tcp,
            PROTO_UDP => &self.udp,
            _ => return self.other.contains(proto),
        };
        match port {
            Some(p) => ports.contains(p),
            None => !ports.is_empty(),
        }
    }

    /// Whether any traffic of protocol `proto` is in the set.
    pub fn contains_protocol(&self, proto: u8) -> bool {
        self.contains(proto, None)
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.tcp.is_empty() && self.udp.is_empty() && self.other.is_empty()
    }

    /// Whether the set is every protocol and port.
    pub fn is_full(&self) -> bool {
        self.tcp.is_full() && self.udp.is_full() && self.other == portless_protocols()
    }

    /// Set union.
    pub fn union(&self, o: &Self) -> Self {
        Self {
            tcp: self.tcp.union(&o.tcp),
            udp: self.udp.union(&o.udp),
            other: self.other.union(&o.other),
        }
    }

    /// Set intersection.
    pub fn intersection(&self, o: &Self) -> Self {
        Self {
            tcp: self.tcp.intersection(&o.tcp),
            udp: self.udp.intersection(&o.udp),
            other: self.other.intersection(&o.other),
        }
    }

    /// Set difference `self \ o`.
    pub fn difference(&self, o: &Self) -> Self {
        Self {
            tcp: self.tcp.difference(&o.tcp),
            udp: self.udp.difference(&o.udp),
            other: self.other.difference(&o.other),
        }
    }

    /// Complement within all (protocol, port) pairs.
    pub fn complement(&self) -> Self {
        Self {
            tcp: self.tcp.complement(),
            udp: self.udp.complement(),
            other: portless_protocols().difference(&self.other),
        }
    }

    /// `self ⊆ o`.
    pub fn is_subset(&self, o: &Self) -> bool {
        self.tcp.is_subset(&o.tcp) && self.udp.is_subset(&o.udp) && self.other.is_subset(&o.other)
    }

    /// Whether the sets share no (protocol, port).
    pub fn is_disjoint(&self, o: &Self) -> bool {
        self.tcp.is_disjoint(&o.tcp)
            && self.udp.is_disjoint(&o.udp)
            && self.other.is_disjoint(&o.other)
    }
}

impl Lattice for ServiceSet {
    fn empty() -> Self {
        Self::new()
    }
    fn is_empty(&self) -> bool {
        ServiceSet::is_empty(self)
    }
    fn union(&self, o: &Self) -> Self {
        ServiceSet::union(self, o)
    }
    fn intersection(&self, o: &Self) -> Self {
        ServiceSet::intersection(self, o)
    }
    fn difference(&self, o: &Self) -> Self {
        ServiceSet::difference(self, o)
    }
    fn is_subset(&self, o: &Self) -> bool {
        ServiceSet::is_subset(self, o)
    }
}

impl BitOr for &ServiceSet {
    type Output = ServiceSet;
    fn bitor(self, rhs: Self) -> ServiceSet {
        self.union(rhs)
    }
}

impl BitAnd for &ServiceSet {
    type Output = ServiceSet;
    fn bitand(self, rhs: Self) -> ServiceSet {
        self.intersection(rhs)
    }
}

impl Sub for &ServiceSet {
    type Output = ServiceSet;
    fn sub(self, rhs: Self) -> ServiceSet {
        self.difference(rhs)
    }
}

impl Not for &ServiceSet {
    type Output = ServiceSet;
    fn not(self) -> ServiceSet {
        self.complement()
    }
}

/// Render a run of port-less protocols, naming ICMP and ICMPv6 and
/// splitting ranges around them so the names stay visible.
fn write_protocols(parts: &mut Vec<String>, lo: u8, hi: u8) {
    fn numbered(parts: &mut Vec<String>, lo: u8, hi: u8) {
        if lo == hi {
            parts.push(format!("proto-{lo}"));
        } else {
            parts.push(format!("proto-{lo}-{hi}"));
        }
    }
    // `cur` is the first protocol of [lo, hi] not yet written; None once
    // the run is done (only matters if a name sat at 255).
    let mut cur = Some(lo);
    for (num, name) in [(PROTO_ICMP, "icmp"), (PROTO_ICMPV6, "icmpv6")] {
        let Some(c) = cur else { break };
        if c <= num && num <= hi {
            if let Some(p) = num.checked_sub(1).filter(|&p| c <= p) {
                numbered(parts, c, p);
            }
            parts.push(name.to_owned());
            cur = num.checked_add(1);
        }
    }
    if let Some(c) = cur.filter(|&c| c <= hi) {
        numbered(parts, c, hi);
    }
}

/// `any` when full, `none` when empty, otherwise e.g.
/// `tcp:22,443,1024-65535 udp:all icmp proto-50` (TCP, UDP, then other
/// protocols ascending; deterministic).
impl fmt::Display for ServiceSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_full() {
            return f.write_str("any");
        }
        if self.is_empty() {
            return f.write_str("none");
        }
        let mut parts = Vec::new();
        for (name, ports) in [("tcp", &self.tcp), ("udp", &self.udp)] {
            if ports.is_full() {
                parts.push(format!("{name}:all"));
            } else if !ports.is_empty() {
                parts.push(format!("{name}:{ports}"));
            }
        }
        for (lo, hi) in self.other.iter() {
            write_protocols(&mut parts, lo, hi);
        }
        f.write_str(&parts.join(" "))
    }
}

/// Serialised for machines and people at once: `{"text": "tcp:22,443 icmp", "tcp": [[22, 22],
/// [443, 443]], "udp": [], "protocols": [[1, 1]]}` — inclusive ranges of tcp ports, udp ports
/// and the numbers of the other IP protocols (all their traffic).
impl Serialize for ServiceSet {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("ServiceSet", 4)?;
        st.serialize_field("text", &self.to_string())?;
        st.serialize_field("tcp", self.tcp.ranges())?;
        st.serialize_field("udp", self.udp.ranges())?;
        st.serialize_field("protocols", self.other.ranges())?;
        st.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constructors_and_contains() {
        let s = ServiceSet::tcp(22, 22).union(&ServiceSet::protocol(PROTO_ICMP));
        assert!(s.contains(6, Some(22)));
        assert!(!s.contains(6, Some(23)));
        assert!(s.contains(6, None));
        assert!(!s.contains(17, None));
        assert!(s.contains(1, Some(9999)));
        assert!(s.contains(1, None));
        assert!(!s.contains(50, None));
        // Ports are ignored for port-less protocols.
        assert_eq!(
            ServiceSet::protocol_ports(50, 1, 2),
            ServiceSet::protocol(50)
        );
        assert_eq!(ServiceSet::protocol_ports(6, 9, 8), ServiceSet::new());
        assert_eq!(ServiceSet::protocol(17), ServiceSet::udp(0, 65535));
    }

    #[test]
    fn full_and_complement() {
        assert!(ServiceSet::all().is_full());
        assert!(ServiceSet::all().complement().is_empty());
        assert_eq!(ServiceSet::new().complement(), ServiceSet::all());
        let s = ServiceSet::tcp(0, 65535).union(&ServiceSet::udp(0, 65535));
        assert!(!s.is_full());
        assert!(!s.complement().contains(6, None));
        assert!(s.complement().contains(255, None));
        let parts = ServiceSet::from_parts(
            IntervalSet::new(),
            IntervalSet::new(),
            IntervalSet::from_range(0, 255),
        );
        assert!(!parts.contains(6, None) && !parts.contains(17, None));
        assert_eq!(
            parts
                .union(&ServiceSet::protocol(6))
                .union(&ServiceSet::protocol(17)),
            ServiceSet::all()
        );
    }

    #[test]
    fn display() {
        let s = ServiceSet::tcp(22, 22)
            .union(&ServiceSet::tcp(443, 443))
            .union(&ServiceSet::tcp(1024, 65535))
            .union(&ServiceSet::udp(53, 53))
            .union(&ServiceSet::protocol(1))
            .union(&ServiceSet::protocol(50));
        assert_eq!(s.to_string(), "tcp:22,443,1024-65535 udp:53 icmp proto-50");
        assert_eq!(ServiceSet::all().to_string(), "any");
        assert_eq!(ServiceSet::new().to_string(), "none");
        assert_eq!(ServiceSet::protocol(6).to_string(), "tcp:all");
        let others = ServiceSet::all().difference(&ServiceSet::protocol(6));
        assert_eq!(
            others.to_string(),
            "udp:all proto-0 icmp proto-2-5 proto-7-16 proto-18-57 icmpv6 proto-59-255"
        );
        let edge = ServiceSet::protocol(255).union(&ServiceSet::protocol(58));
        assert_eq!(edge.to_string(), "icmpv6 proto-255");
    }
}
