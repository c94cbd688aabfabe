//! Exact set algebra for reachability: interval sets, piecewise maps, and
//! their IP/service specialisations.
//!
//! Everything here is a sorted, canonical, `Vec`-backed range
//! representation: operations are linear merges whose cost grows with the
//! number of ranges/pieces, never with the size of the address or port
//! space, and `==` is always set (or function) equality.
//!
//! - [`Bound`]: element types (`u8`, `u16`, `u32`, `u64`, `u128`).
//! - [`Lattice`]: values that piecewise maps carry (sets, `bool`, maps).
//! - [`IntervalSet`]: a set of a `Bound` type.
//! - [`PiecewiseMap`]: a total function from a `Bound` type to a `Lattice`.
//! - [`ServiceSet`]: (protocol, port) pairs.
//! - [`IpSet`], [`AddrMap`]: the IPv4+IPv6 versions of the above two.

mod addr_map;
mod bound;
mod interval;
mod ip;
mod lattice;
mod piecewise;
mod service;

pub use addr_map::AddrMap;
pub use bound::Bound;
pub use interval::IntervalSet;
pub use ip::{
    AddrRange, IpSet, ipv4_net_bounds, ipv4_to_u32, ipv6_net_bounds, ipv6_to_u128, net_bounds,
    range_to_cidrs, range_to_cidrs_v4, range_to_cidrs_v6, u32_to_ipv4, u128_to_ipv6,
};
pub use lattice::Lattice;
pub use piecewise::PiecewiseMap;
pub use service::{PROTO_ICMP, PROTO_ICMPV6, PROTO_TCP, PROTO_UDP, ServiceSet};
