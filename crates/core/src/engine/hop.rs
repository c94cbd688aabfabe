//! The typed parts of a path: which object a hop or an audit component names ([`ObjectRef`])
//! and what it decided ([`Detail`]), as values, never as text that later code parses.
//!
//! Both print (`Display`) and serialize exactly as the text peerscope has always shown —
//! `route 10.0.0.0/16 -> pcx-…`, `ingress tcp:443 10.0.0.0/8`, `rule 100 allow all all
//! 0.0.0.0/0` — so the outputs stay byte-identical while the audit, the remediation text and
//! the map ask the values (`Detail::Route`, `Detail::SgRule`, …) instead of matching strings.

use std::fmt;
use std::net::IpAddr;

use serde::{Serialize, Serializer};

use crate::model::*;

/// A packet's direction through a filter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Direction {
    Ingress,
    Egress,
}

impl Direction {
    pub fn of_egress(egress: bool) -> Direction {
        if egress {
            Direction::Egress
        } else {
            Direction::Ingress
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Ingress => "ingress",
            Direction::Egress => "egress",
        }
    }
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The object a hop or a finding's component names.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ObjectRef {
    RouteTable(RouteTableId),
    Peering(PeeringId),
    NetworkAcl(NetworkAclId),
    /// The network-ACL place of a subnet the snapshot has no ACL data for (not filtered).
    NoNaclData(SubnetId),
    SecurityGroup(SecurityGroupId),
    Subnet(SubnetId),
    NetworkInterface(NetworkInterfaceId),
}

impl ObjectRef {
    /// The component kind: `route-table`, `peering`, `network-acl`, `security-group`,
    /// `subnet`, `network-interface` (stable: JSON and SARIF outputs).
    pub fn kind(&self) -> &'static str {
        match self {
            ObjectRef::RouteTable(_) => "route-table",
            ObjectRef::Peering(_) => "peering",
            ObjectRef::NetworkAcl(_) | ObjectRef::NoNaclData(_) => "network-acl",
            ObjectRef::SecurityGroup(_) => "security-group",
            ObjectRef::Subnet(_) => "subnet",
            ObjectRef::NetworkInterface(_) => "network-interface",
        }
    }

    /// The object's AWS id; `None` for a subnet's missing ACL data.
    pub fn aws_id(&self) -> Option<&str> {
        Some(match self {
            ObjectRef::RouteTable(i) => i.as_str(),
            ObjectRef::Peering(i) => i.as_str(),
            ObjectRef::NetworkAcl(i) => i.as_str(),
            ObjectRef::NoNaclData(_) => return None,
            ObjectRef::SecurityGroup(i) => i.as_str(),
            ObjectRef::Subnet(i) => i.as_str(),
            ObjectRef::NetworkInterface(i) => i.as_str(),
        })
    }

    /// The VPC the object belongs to, when the model holds it.
    pub fn vpc(&self, model: &Model) -> Option<VpcId> {
        match self {
            ObjectRef::RouteTable(i) => model.route_tables.get(i).map(|t| t.vpc.clone()),
            ObjectRef::NetworkAcl(i) => model.network_acls.get(i).map(|n| n.vpc.clone()),
            ObjectRef::NoNaclData(s) | ObjectRef::Subnet(s) => {
                model.subnets.get(s).map(|s| s.vpc.clone())
            }
            ObjectRef::SecurityGroup(i) => model.security_groups.get(i).map(|g| g.vpc.clone()),
            ObjectRef::NetworkInterface(i) => {
                model.network_interfaces.get(i).map(|n| n.vpc.clone())
            }
            ObjectRef::Peering(_) => None,
        }
    }

    /// The VPCs the object touches: its own, or a peering's two sides.
    pub fn vpcs(&self, model: &Model) -> Vec<VpcId> {
        match self {
            ObjectRef::Peering(p) => model
                .peerings
                .get(p)
                .map(|c| vec![c.requester.vpc.clone(), c.accepter.vpc.clone()])
                .unwrap_or_default(),
            other => other.vpc(model).into_iter().collect(),
        }
    }
}

impl fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ObjectRef::NoNaclData(s) => write!(f, "(no NACL data for {s})"),
            other => f.write_str(other.aws_id().unwrap_or_default()),
        }
    }
}

impl Serialize for ObjectRef {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// How a network ACL decided a packet.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum NaclDecision {
    /// The first entry that matches (its action decides).
    Entry(NaclEntry),
    /// No entry matches: the implicit deny.
    NoMatch,
    /// The subnet has no ACL data: not filtered.
    Unfiltered,
    /// The subnet's ACL is not in the snapshot: not filtered.
    Missing,
}

impl NaclDecision {
    pub fn allows(&self) -> bool {
        match self {
            NaclDecision::Entry(e) => e.action == RuleAction::Allow,
            NaclDecision::NoMatch => false,
            NaclDecision::Unfiltered | NaclDecision::Missing => true,
        }
    }
}

impl fmt::Display for NaclDecision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NaclDecision::Entry(e) => f.write_str(
                &format!(
                    "rule {} {:?} {} {} {}",
                    e.rule_number, e.action, e.protocol, e.ports, e.cidr
                )
                .to_lowercase(),
            ),
            NaclDecision::NoMatch => f.write_str("no rule matches: implicit deny"),
            NaclDecision::Unfiltered => f.write_str("not filtered"),
            NaclDecision::Missing => f.write_str("not in the snapshot: not filtered"),
        }
    }
}

/// What a hop decided, or what a component of a finding contributes.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Detail {
    /// Source and destination share a subnet: no route table, no NACL (step 1).
    SameSubnet,
    /// An address and the CIDRs of the subnet that holds it.
    InSubnet(IpAddr, Vec<ipnet::IpNet>),
    /// An interface holding the address.
    Address(IpAddr),
    /// No interface in the subnet reached holds the address (full layer).
    NoInterfaceHolds(IpAddr),
    /// No route of the table matches the address.
    NoRouteMatches(IpAddr),
    /// The route that matched (forward, or the reply's route on the reply's path).
    Route(Route),
    /// The route that carries replies back to an unseen peer (audit components).
    ReturnRoute(Route),
    /// The route that matched sends the packet out of the modelled network.
    RouteLeaves(Route),
    /// The reply's route is not the connection the packet came over.
    RouteNotConnection(Route, PeeringId),
    /// A security-group rule that admits the packet.
    SgRule(Direction, SgRule),
    /// No rule of the group admits the packet in this direction.
    NoSgRule(Direction),
    /// A network ACL's decision in this direction.
    Nacl(Direction, NaclDecision),
    /// The hop before led nowhere: no subnet holds the destination.
    NoSubnetHolds(Box<Detail>, IpAddr),
    /// Description for people (peering status, ports a return NACL allows, …): shown as it
    /// is, never parsed.
    Text(String),
}

impl Detail {
    /// The route this detail is about, if any.
    pub fn route(&self) -> Option<&Route> {
        match self {
            Detail::Route(r)
            | Detail::ReturnRoute(r)
            | Detail::RouteLeaves(r)
            | Detail::RouteNotConnection(r, _) => Some(r),
            Detail::NoSubnetHolds(d, _) => d.route(),
            _ => None,
        }
    }

    /// The peerings the detail names (a route's target).
    pub fn peering(&self) -> Option<&PeeringId> {
        match self.route().map(|r| &r.target) {
            Some(RouteTarget::Peering(p)) => Some(p),
            _ => None,
        }
    }
}

impl fmt::Display for Detail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Detail::SameSubnet => f.write_str("same subnet: no route table, no NACL"),
            Detail::InSubnet(ip, cidrs) => {
                write!(f, "{ip} in ")?;
                for (i, c) in cidrs.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{c}")?;
                }
                Ok(())
            }
            Detail::Address(ip) => write!(f, "{ip}"),
            Detail::NoInterfaceHolds(ip) => write!(f, "no network interface holds {ip}"),
            Detail::NoRouteMatches(ip) => write!(f, "no route matches {ip}"),
            Detail::Route(r) => write!(f, "route {r}"),
            Detail::ReturnRoute(r) => write!(f, "return route {r}"),
            Detail::RouteLeaves(r) => {
                write!(f, "route {r}: {} is outside the modelled network", r.target)
            }
            Detail::RouteNotConnection(r, pcx) => write!(
                f,
                "route {r}: not {pcx}, the connection the packet came over"
            ),
            Detail::SgRule(d, rule) => write!(f, "{d} {rule}"),
            Detail::NoSgRule(d) => write!(f, "no {d} rule matches"),
            Detail::Nacl(d, n) => write!(f, "{d} {n}"),
            Detail::NoSubnetHolds(d, ip) => write!(f, "{d}: no subnet holds {ip}"),
            Detail::Text(t) => f.write_str(t),
        }
    }
}

impl Serialize for Detail {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}
