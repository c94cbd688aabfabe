//! The validated, typed model of a snapshot: AWS's nouns with newtype ids, and the indexes the
//! engine needs.
//!
//! Everything here has been checked by the snapshot layer: CIDRs parse, references resolve or
//! were reported, protocols and ports are in range. The model does no I/O. Collections are
//! `BTreeMap`s keyed by id so iteration, and therefore every report, is deterministic.
//!
//! # Organization
//! - [`Model`] holds the objects; [`Model::new`] derives the [`index::Index`].
//! - Route targets, rule peers and protocols are resolved once into enums
//!   ([`RouteTarget`], [`RulePeer`], [`Protocol`]) so the engine never looks at raw fields.

pub mod index;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;

use ipnet::IpNet;
use serde::Serialize;

pub use crate::ids::*;
pub use index::{Index, NaclBinding};

/// `Name` and other tags, sorted by key.
pub type Tags = BTreeMap<String, String>;

/// A VPC.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Vpc {
    pub id: VpcId,
    pub account: AccountId,
    pub region: Region,
    /// IPv4 and IPv6 CIDR blocks whose association counts (not disassociated, failed, …).
    pub cidrs: Vec<IpNet>,
    pub is_default: bool,
    pub tags: Tags,
}

/// A subnet.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Subnet {
    pub id: SubnetId,
    pub vpc: VpcId,
    pub account: AccountId,
    pub region: Region,
    pub availability_zone: Option<String>,
    /// IPv4 CIDR and associated IPv6 CIDRs.
    pub cidrs: Vec<IpNet>,
    pub tags: Tags,
}

/// What a route sends to.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(tag = "kind", content = "id", rename_all = "kebab-case")]
pub enum RouteTarget {
    /// `GatewayId: local`: the VPC itself.
    Local,
    /// A VPC peering connection.
    Peering(PeeringId),
    /// Any other target (igw, nat, tgw, vgw, eni, instance, vpce, …): leaves the modelled network.
    Other(String),
}

impl fmt::Display for RouteTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RouteTarget::Local => f.write_str("local"),
            RouteTarget::Peering(p) => write!(f, "{p}"),
            RouteTarget::Other(o) => f.write_str(o),
        }
    }
}

/// What a route matches.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(tag = "kind", content = "value", rename_all = "kebab-case")]
pub enum RouteDestination {
    Cidr(IpNet),
    PrefixList(PrefixListId),
}

impl fmt::Display for RouteDestination {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RouteDestination::Cidr(c) => write!(f, "{c}"),
            RouteDestination::PrefixList(p) => write!(f, "{p}"),
        }
    }
}

/// One route of a route table.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Route {
    pub destination: RouteDestination,
    pub target: RouteTarget,
    /// `State: blackhole`: the route wins the match and drops the packet.
    pub blackhole: bool,
}

impl fmt::Display for Route {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} -> {}", self.destination, self.target)?;
        if self.blackhole {
            f.write_str(" (blackhole)")?;
        }
        Ok(())
    }
}

/// A route table with the associations that count.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RouteTable {
    pub id: RouteTableId,
    pub vpc: VpcId,
    pub account: AccountId,
    pub region: Region,
    /// True when the table is its VPC's main table.
    pub main: bool,
    /// Subnets explicitly associated.
    pub subnets: Vec<SubnetId>,
    /// Routes in table order (the order breaks ties).
    pub routes: Vec<Route>,
    pub tags: Tags,
    /// Association ids (`rtbassoc-…`) of the associations that count: the subnet, or `None`
    /// for the main association. What-if operations name associations by these ids.
    #[serde(skip)]
    pub association_ids: BTreeMap<String, Option<SubnetId>>,
}

/// An IP protocol as rules name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    /// `-1`: every protocol, every port.
    All,
    /// One IP protocol number (6 tcp, 17 udp, 1 icmp, 58 icmpv6, …).
    #[serde(untagged)]
    Number(u8),
}

impl Protocol {
    pub const TCP: u8 = 6;
    pub const UDP: u8 = 17;
    pub const ICMP: u8 = 1;
    pub const ICMPV6: u8 = 58;

    /// Does this protocol carry ports (tcp or udp)?
    pub fn has_ports(n: u8) -> bool {
        n == Self::TCP || n == Self::UDP
    }

    /// Parses AWS's protocol spellings: `-1`/`all`, names `tcp`/`udp`/`icmp`/`icmpv6`, or a
    /// number 0–255.
    pub fn parse(s: &str) -> Option<Protocol> {
        let s = s.trim();
        match s.to_ascii_lowercase().as_str() {
            "-1" | "all" => Some(Protocol::All),
            "tcp" => Some(Protocol::Number(Self::TCP)),
            "udp" => Some(Protocol::Number(Self::UDP)),
            "icmp" => Some(Protocol::Number(Self::ICMP)),
            "icmpv6" => Some(Protocol::Number(Self::ICMPV6)),
            other => other.parse::<u8>().ok().map(Protocol::Number),
        }
    }

    /// Does this rule protocol match a flow's protocol number?
    pub fn matches(self, proto: u8) -> bool {
        match self {
            Protocol::All => true,
            Protocol::Number(n) => n == proto,
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Protocol::All => f.write_str("all"),
            Protocol::Number(n) => f.write_str(&protocol_name(*n)),
        }
    }
}

/// `tcp`, `udp`, `icmp`, `icmpv6`, or the number.
pub fn protocol_name(n: u8) -> String {
    match n {
        Protocol::TCP => "tcp".into(),
        Protocol::UDP => "udp".into(),
        Protocol::ICMP => "icmp".into(),
        Protocol::ICMPV6 => "icmpv6".into(),
        n => n.to_string(),
    }
}

/// An inclusive port range.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct PortRange {
    pub from: u16,
    pub to: u16,
}

impl PortRange {
    pub const ALL: PortRange = PortRange { from: 0, to: 65535 };

    pub fn contains(self, port: u16) -> bool {
        self.from <= port && port <= self.to
    }
}

impl fmt::Display for PortRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if *self == PortRange::ALL {
            f.write_str("all")
        } else if self.from == self.to {
            write!(f, "{}", self.from)
        } else {
            write!(f, "{}-{}", self.from, self.to)
        }
    }
}

/// `allow` or `deny`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RuleAction {
    Allow,
    Deny,
}

/// One entry of a network ACL.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct NaclEntry {
    pub rule_number: u32,
    pub action: RuleAction,
    pub protocol: Protocol,
    /// `CidrBlock` (matches only IPv4 peers) or `Ipv6CidrBlock` (only IPv6 peers).
    pub cidr: IpNet,
    /// The port range for tcp/udp entries; all ports otherwise (and always for protocol -1).
    pub ports: PortRange,
}

impl NaclEntry {
    /// Does this entry match a packet whose other end is `peer`?
    pub fn matches(&self, peer: IpAddr, proto: u8, port: Option<u16>) -> bool {
        self.cidr.contains(&peer)
            && self.protocol.matches(proto)
            && match (self.protocol, port) {
                (Protocol::Number(n), Some(p)) if Protocol::has_ports(n) => self.ports.contains(p),
                _ => true,
            }
    }
}

/// A network ACL; entries sorted by rule number, ingress and egress apart.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NetworkAcl {
    pub id: NetworkAclId,
    pub vpc: VpcId,
    pub account: AccountId,
    pub region: Region,
    pub is_default: bool,
    pub subnets: Vec<SubnetId>,
    pub ingress: Vec<NaclEntry>,
    pub egress: Vec<NaclEntry>,
    pub tags: Tags,
    /// Association ids (`aclassoc-…`) → the subnet each associates.
    #[serde(skip)]
    pub association_ids: BTreeMap<String, SubnetId>,
}

impl NetworkAcl {
    /// First match in rule-number order; `None` is the implicit deny.
    pub fn first_match(
        &self,
        egress: bool,
        peer: IpAddr,
        proto: u8,
        port: Option<u16>,
    ) -> Option<&NaclEntry> {
        let entries = if egress { &self.egress } else { &self.ingress };
        entries.iter().find(|e| e.matches(peer, proto, port))
    }
}

/// Whom a security-group rule admits.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(tag = "kind", content = "value", rename_all = "kebab-case")]
pub enum RulePeer {
    Cidr(IpNet),
    PrefixList(PrefixListId),
    /// ENIs that carry the group, in the rule's VPC or a same-region actively peered one.
    Group(SecurityGroupId),
}

impl fmt::Display for RulePeer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RulePeer::Cidr(c) => write!(f, "{c}"),
            RulePeer::PrefixList(p) => write!(f, "{p}"),
            RulePeer::Group(g) => write!(f, "{g}"),
        }
    }
}

/// One security-group rule, flattened to a single peer.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct SgRule {
    pub protocol: Protocol,
    /// Ports for tcp/udp; `ALL` otherwise.
    pub ports: PortRange,
    pub peer: RulePeer,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// For protocols without ports: `FromPort`/`ToPort` as written (an ICMP type and code),
    /// not modelled for reachability but part of the rule's identity, as AWS compares rules.
    #[serde(skip)]
    pub icmp: Option<(i64, i64)>,
}

impl fmt::Display for SgRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.protocol {
            Protocol::Number(n) if Protocol::has_ports(n) => {
                write!(f, "{}:{} {}", self.protocol, self.ports, self.peer)
            }
            _ => write!(f, "{} {}", self.protocol, self.peer),
        }
    }
}

/// A security group.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SecurityGroup {
    pub id: SecurityGroupId,
    pub name: String,
    pub vpc: VpcId,
    pub account: AccountId,
    pub region: Region,
    pub ingress: Vec<SgRule>,
    pub egress: Vec<SgRule>,
    pub tags: Tags,
}

/// A network interface (ENI): the endpoint of the full layer.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NetworkInterface {
    pub id: NetworkInterfaceId,
    pub subnet: SubnetId,
    pub vpc: VpcId,
    pub account: AccountId,
    pub region: Region,
    /// Private IPv4 addresses and IPv6 addresses (not delegated prefixes), the primary private
    /// address first.
    pub addresses: Vec<IpAddr>,
    pub groups: Vec<SecurityGroupId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance: Option<InstanceId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub tags: Tags,
}

/// One side of a peering connection, as the connection record describes it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PeeringSide {
    pub vpc: VpcId,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<AccountId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<Region>,
    /// `CidrBlockSet` and `Ipv6CidrBlockSet`; `CidrBlock` where the record has no set.
    pub cidrs: Vec<IpNet>,
}

/// A peering connection's `Status.Code`, as AWS documents it; a code AWS may add later is kept
/// as it was read (`Other`) and, like every status but `active`, carries no traffic.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum PeeringStatus {
    InitiatingRequest,
    PendingAcceptance,
    Active,
    Deleted,
    Rejected,
    Failed,
    Expired,
    Provisioning,
    Deleting,
    Other(String),
}

impl PeeringStatus {
    /// The status for an AWS code (`active`, `pending-acceptance`, …).
    pub fn from_code(code: &str) -> PeeringStatus {
        match code {
            "initiating-request" => PeeringStatus::InitiatingRequest,
            "pending-acceptance" => PeeringStatus::PendingAcceptance,
            "active" => PeeringStatus::Active,
            "deleted" => PeeringStatus::Deleted,
            "rejected" => PeeringStatus::Rejected,
            "failed" => PeeringStatus::Failed,
            "expired" => PeeringStatus::Expired,
            "provisioning" => PeeringStatus::Provisioning,
            "deleting" => PeeringStatus::Deleting,
            other => PeeringStatus::Other(other.to_owned()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            PeeringStatus::InitiatingRequest => "initiating-request",
            PeeringStatus::PendingAcceptance => "pending-acceptance",
            PeeringStatus::Active => "active",
            PeeringStatus::Deleted => "deleted",
            PeeringStatus::Rejected => "rejected",
            PeeringStatus::Failed => "failed",
            PeeringStatus::Expired => "expired",
            PeeringStatus::Provisioning => "provisioning",
            PeeringStatus::Deleting => "deleting",
            PeeringStatus::Other(s) => s,
        }
    }

    /// A connection that is gone or never came up (`deleted`, `rejected`, `failed`,
    /// `expired`): it cannot be accepted, deleted again or routed to.
    pub fn is_final(&self) -> bool {
        matches!(
            self,
            PeeringStatus::Deleted
                | PeeringStatus::Rejected
                | PeeringStatus::Failed
                | PeeringStatus::Expired
        )
    }
}

impl fmt::Display for PeeringStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for PeeringStatus {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// A VPC peering connection.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct VpcPeeringConnection {
    pub id: PeeringId,
    /// `Status.Code`: only `active` carries traffic.
    pub status: PeeringStatus,
    pub requester: PeeringSide,
    pub accepter: PeeringSide,
    pub tags: Tags,
}

impl VpcPeeringConnection {
    pub fn is_active(&self) -> bool {
        self.status == PeeringStatus::Active
    }

    /// The other side, when `vpc` is one of the two sides.
    pub fn peer_of(&self, vpc: &VpcId) -> Option<&PeeringSide> {
        if &self.requester.vpc == vpc {
            Some(&self.accepter)
        } else if &self.accepter.vpc == vpc {
            Some(&self.requester)
        } else {
            None
        }
    }

    /// Are the two sides in different regions? Unknown regions count as the same.
    pub fn is_cross_region(&self) -> bool {
        match (&self.requester.region, &self.accepter.region) {
            (Some(a), Some(b)) => a != b,
            _ => false,
        }
    }
}

/// A VPC the snapshot knows only from peering records (semantics step 21): a partner's or
/// another team's VPC whose account was not collected. Derived from the peerings, never read.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct UnseenVpc {
    pub id: VpcId,
    /// The side's `OwnerId` (the first connection, in id order, that names one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account: Option<AccountId>,
    /// The side's `Region`, else the region of the file that recorded the connection.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<Region>,
    /// Its addresses: the union of the CIDRs its connections' records list for its side,
    /// sorted and deduplicated.
    pub cidrs: Vec<IpNet>,
    /// Every connection naming it (active or not), in id order.
    pub peerings: Vec<PeeringId>,
}

/// A managed prefix list (customer- or AWS-managed) or an AWS service prefix list.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PrefixList {
    pub id: PrefixListId,
    pub name: Option<String>,
    pub owner: Option<AccountId>,
    pub cidrs: Vec<IpNet>,
    /// False when the list is described but its entries were not in the snapshot.
    pub entries_known: bool,
}

/// Which answers damaged input can change (docs/failure-policy.md): the VPCs whose objects,
/// or whose neighbours' records, could not be read whole, or everything when the damage
/// cannot be placed. Set by the snapshot layer from its damage diagnostics.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Damage {
    /// Damage that names no VPC and no located file: every answer may depend on it.
    pub everywhere: bool,
    pub vpcs: BTreeSet<VpcId>,
    /// How many damage diagnostics there are.
    pub count: usize,
}

impl Damage {
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// May an answer involving `vpc` depend on damaged input?
    pub fn touches(&self, vpc: &VpcId) -> bool {
        self.everywhere || self.vpcs.contains(vpc)
    }
}

impl fmt::Display for Damage {
    /// What the damage touches, for people: `any VPC`, or the VPC ids.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.everywhere {
            return f.write_str("any VPC");
        }
        for (i, v) in self.vpcs.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            f.write_str(v.as_str())?;
        }
        Ok(())
    }
}

/// A whole snapshot.
///
/// VPCs, subnets and interfaces (which no what-if edit changes) are shared behind `Arc`s, so
/// that copying a model to edit it costs only the route tables, ACLs, groups, peerings and
/// prefix lists; change them with `Arc::make_mut`.
#[derive(Clone, Debug, Default)]
pub struct Model {
    pub vpcs: Arc<BTreeMap<VpcId, Vpc>>,
    pub subnets: Arc<BTreeMap<SubnetId, Subnet>>,
    pub route_tables: BTreeMap<RouteTableId, Arc<RouteTable>>,
    pub network_acls: BTreeMap<NetworkAclId, Arc<NetworkAcl>>,
    pub security_groups: BTreeMap<SecurityGroupId, Arc<SecurityGroup>>,
    pub network_interfaces: Arc<BTreeMap<NetworkInterfaceId, NetworkInterface>>,
    /// Instance id → its primary ENI.
    pub instances: Arc<BTreeMap<InstanceId, NetworkInterfaceId>>,
    pub peerings: BTreeMap<PeeringId, VpcPeeringConnection>,
    pub prefix_lists: BTreeMap<PrefixListId, PrefixList>,
    /// Accounts and regions the snapshot covers.
    pub locations: BTreeSet<(AccountId, Region)>,
    /// What damaged input can change; empty for a whole snapshot.
    pub damage: Damage,
    index: Index,
}

fn arcs<K: Ord, V>(m: BTreeMap<K, V>) -> BTreeMap<K, Arc<V>> {
    m.into_iter().map(|(k, v)| (k, Arc::new(v))).collect()
}

/// The objects of a model, before indexing.
#[derive(Clone, Debug, Default)]
pub struct Parts {
    pub vpcs: BTreeMap<VpcId, Vpc>,
    pub subnets: BTreeMap<SubnetId, Subnet>,
    pub route_tables: BTreeMap<RouteTableId, RouteTable>,
    pub network_acls: BTreeMap<NetworkAclId, NetworkAcl>,
    pub security_groups: BTreeMap<SecurityGroupId, SecurityGroup>,
    pub network_interfaces: BTreeMap<NetworkInterfaceId, NetworkInterface>,
    pub instances: BTreeMap<InstanceId, NetworkInterfaceId>,
    pub peerings: BTreeMap<PeeringId, VpcPeeringConnection>,
    pub prefix_lists: BTreeMap<PrefixListId, PrefixList>,
}

impl Model {
    /// Builds the model and its indexes. References are expected to have been validated (the
    /// snapshot layer drops or reports dangling ones); any that remain are tolerated by the
    /// index, never a panic.
    pub fn new(parts: Parts) -> Model {
        let mut model = Model {
            vpcs: Arc::new(parts.vpcs),
            subnets: Arc::new(parts.subnets),
            route_tables: arcs(parts.route_tables),
            network_acls: arcs(parts.network_acls),
            security_groups: arcs(parts.security_groups),
            network_interfaces: Arc::new(parts.network_interfaces),
            instances: Arc::new(parts.instances),
            peerings: parts.peerings,
            prefix_lists: parts.prefix_lists,
            locations: BTreeSet::new(),
            damage: Damage::default(),
            index: Index::default(),
        };
        model.reindex();
        model
    }

    /// Recomputes the indexes after the objects changed (what-if edits the model in place).
    pub fn reindex(&mut self) {
        self.locations = self
            .vpcs
            .values()
            .map(|v| (v.account.clone(), v.region.clone()))
            .collect();
        self.index = Index::build(self);
    }

    /// Recomputes the indexes that route tables, network ACLs and peerings decide, after an
    /// edit that changed only those, security groups and prefix lists (what-if): subnets and
    /// interfaces keep their shared index.
    pub fn reindex_routing(&mut self) {
        let mut ix = std::mem::take(&mut self.index);
        ix.build_routing(self);
        self.index = ix;
    }

    /// Whether the routing part of the index is what the objects give now (tests and debug
    /// builds: an edit that kept the index must not have changed what it holds).
    pub fn routing_index_is_current(&self) -> bool {
        let mut fresh = self.index.clone();
        fresh.build_routing(self);
        fresh.routing_eq(&self.index)
    }

    /// The indexes derived from the objects.
    pub fn index(&self) -> &Index {
        &self.index
    }

    /// The CIDRs of a prefix list; empty for an unknown list.
    pub fn prefix_list_cidrs(&self, id: &PrefixListId) -> &[IpNet] {
        self.prefix_lists
            .get(id)
            .map(|p| p.cidrs.as_slice())
            .unwrap_or(&[])
    }

    /// The VPCs known only from peering records (semantics step 21), by id.
    pub fn unseen_vpcs(&self) -> &BTreeMap<VpcId, UnseenVpc> {
        self.index.unseen_vpcs()
    }

    /// The unseen VPC `id`, when the snapshot knows it only from peering records.
    pub fn unseen_vpc(&self, id: &VpcId) -> Option<&UnseenVpc> {
        self.index.unseen_vpcs().get(id)
    }

    /// The account of a VPC of the snapshot or an unseen one.
    pub fn account_of(&self, vpc: &VpcId) -> Option<&AccountId> {
        match self.vpcs.get(vpc) {
            Some(v) => Some(&v.account),
            None => self.unseen_vpc(vpc).and_then(|u| u.account.as_ref()),
        }
    }

    /// Resolves an ENI id or an instance id (its primary ENI).
    pub fn resolve_eni(&self, id: &str) -> Option<&NetworkInterface> {
        self.network_interfaces
            .get(&NetworkInterfaceId::new(id))
            .or_else(|| {
                self.instances
                    .get(&InstanceId::new(id))
                    .and_then(|e| self.network_interfaces.get(e))
            })
    }

    /// `vpcs` and every VPC peered with one of them by any connection record (active or not):
    /// the VPCs whose flows or findings a change to `vpcs` can touch.
    pub fn neighbourhood(&self, vpcs: &BTreeSet<VpcId>) -> BTreeSet<VpcId> {
        let mut out = vpcs.clone();
        for v in vpcs {
            for p in self.index.peerings_of(v) {
                if let Some(side) = self.peerings.get(p).and_then(|c| c.peer_of(v)) {
                    out.insert(side.vpc.clone());
                }
            }
        }
        out
    }

    /// The VPCs an object of the model (by id) belongs to: its own, both sides of a peering,
    /// every VPC whose routes or rules name a prefix list; none for an unknown id.
    pub fn vpcs_of(&self, id: &str) -> Vec<VpcId> {
        let m = self;
        let one = |v: &VpcId| vec![v.clone()];
        if let Some(v) = m.vpcs.get(&VpcId::new(id)) {
            return one(&v.id);
        }
        if let Some(s) = m.subnets.get(&SubnetId::new(id)) {
            return one(&s.vpc);
        }
        if let Some(t) = m.route_tables.get(&RouteTableId::new(id)) {
            return one(&t.vpc);
        }
        if let Some(a) = m.network_acls.get(&NetworkAclId::new(id)) {
            return one(&a.vpc);
        }
        if let Some(g) = m.security_groups.get(&SecurityGroupId::new(id)) {
            return one(&g.vpc);
        }
        if let Some(e) = m.resolve_eni(id) {
            return one(&e.vpc);
        }
        if let Some(p) = m.peerings.get(&PeeringId::new(id)) {
            return vec![p.requester.vpc.clone(), p.accepter.vpc.clone()];
        }
        let pl = PrefixListId::new(id);
        if m.prefix_lists.contains_key(&pl) {
            let mut out: Vec<VpcId> = m
                .route_tables
                .values()
                .filter(|t| {
                    t.routes
                        .iter()
                        .any(|r| r.destination == RouteDestination::PrefixList(pl.clone()))
                })
                .map(|t| t.vpc.clone())
                .collect();
            out.extend(
                m.security_groups
                    .values()
                    .filter(|g| {
                        g.ingress
                            .iter()
                            .chain(&g.egress)
                            .any(|r| r.peer == RulePeer::PrefixList(pl.clone()))
                    })
                    .map(|g| g.vpc.clone()),
            );
            return out;
        }
        Vec::new()
    }

    /// The display name of an object: its `Name` tag.
    pub fn name_of(tags: &Tags) -> Option<&str> {
        tags.get("Name").map(String::as_str)
    }
}
