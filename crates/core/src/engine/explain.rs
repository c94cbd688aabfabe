//! The per-packet evaluator: one flow, checked step by step exactly as the contract reads, with
//! the hop-by-hop path and the component that drops it.
//!
//! This is deliberately the plain, literal reading of the contract. `reach` computes the same
//! answers over sets; property tests hold the two against each other.

use std::net::IpAddr;

use serde::Serialize;

pub use super::hop::{Detail, Direction, NaclDecision, ObjectRef};
use super::{Flow, Layer, Reason};
use crate::model::*;
use crate::sets::IntervalSet;

/// What kind of component a hop is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum HopKind {
    SourceEni,
    SourceSubnet,
    RouteTable,
    Peering,
    DestinationSubnet,
    SourceSecurityGroup,
    SourceNacl,
    DestinationNacl,
    DestinationSecurityGroup,
    DestinationEni,
}

impl std::fmt::Display for HopKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            HopKind::SourceEni => "source-eni",
            HopKind::SourceSubnet => "source-subnet",
            HopKind::RouteTable => "route-table",
            HopKind::Peering => "peering",
            HopKind::DestinationSubnet => "destination-subnet",
            HopKind::SourceSecurityGroup => "source-security-group",
            HopKind::SourceNacl => "source-nacl",
            HopKind::DestinationNacl => "destination-nacl",
            HopKind::DestinationSecurityGroup => "destination-security-group",
            HopKind::DestinationEni => "destination-eni",
        })
    }
}

/// One component on the path, with what it decided.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Hop {
    pub kind: HopKind,
    /// The object (serialized as its id).
    pub id: ObjectRef,
    /// What it decided (serialized as the text peerscope prints).
    pub detail: Detail,
    /// False for the component that dropped the flow.
    pub passed: bool,
}

/// The verdict for one flow and how it was reached.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Explanation {
    pub delivered: bool,
    pub connectable: bool,
    pub reason: Option<Reason>,
    /// The forward path, in the contract's order.
    pub path: Vec<Hop>,
    /// The return path (route lookup and NACLs for replies), when the flow was delivered.
    pub return_path: Vec<Hop>,
    /// The verdict may depend on damaged input (a VPC on the way has objects that could not be
    /// read whole; docs/failure-policy.md): it is not an answer, only the best reading.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub undetermined: bool,
}

impl Explanation {
    /// The ids on the forward path.
    pub fn path_ids(&self) -> Vec<String> {
        self.path.iter().map(|h| h.id.to_string()).collect()
    }
}

/// Why a flow could not be evaluated at all.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ExplainError {
    #[error("VPC {0} is not in the snapshot")]
    UnknownVpc(VpcId),
    #[error("{ip} is not inside any subnet of {vpc}")]
    NotInSubnet { vpc: VpcId, ip: IpAddr },
    #[error("full layer: no network interface holds {ip} in subnet {subnet}")]
    NoSourceEni { subnet: SubnetId, ip: IpAddr },
    #[error("network interface {0} is not in the snapshot or not in the source subnet")]
    BadSourceEni(NetworkInterfaceId),
    #[error("protocol {0} needs a port")]
    MissingPort(u8),
    #[error(
        "{ip} is not among the CIDRs {vpc}'s peering records list for it (an unseen VPC's addresses)"
    )]
    NotInUnseenVpc { vpc: VpcId, ip: IpAddr },
    #[error("{src} and {dst} are of different address families: a packet has one")]
    MixedFamilies { src: IpAddr, dst: IpAddr },
}

/// The route that wins the longest-prefix match for `dst`: CIDR routes compete with their
/// prefix length, prefix-list routes with their longest entry containing `dst`; on a tie a
/// CIDR route beats a prefix-list route, and otherwise the first in table order wins.
pub fn longest_match<'t>(model: &Model, table: &'t RouteTable, dst: IpAddr) -> Option<&'t Route> {
    let mut best: Option<((u8, u8), &Route)> = None;
    for r in &table.routes {
        let key = match &r.destination {
            RouteDestination::Cidr(c) if c.contains(&dst) => (c.prefix_len(), 1),
            RouteDestination::Cidr(_) => continue,
            RouteDestination::PrefixList(pl) => {
                match model
                    .prefix_list_cidrs(pl)
                    .iter()
                    .filter(|c| c.contains(&dst))
                    .map(|c| c.prefix_len())
                    .max()
                {
                    Some(len) => (len, 0),
                    None => continue,
                }
            }
        };
        if best.as_ref().is_none_or(|(k, _)| key > *k) {
            best = Some((key, r));
        }
    }
    best.map(|(_, r)| r)
}

/// How a packet crossed from its source VPC: within it, or over one peering connection.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Via {
    SameSubnet,
    Local,
    Peering(PeeringId),
}

/// Routes a packet from `from` (a subnet) to `dst`: steps 1–3 of the contract. Pushes the
/// route table, peering and destination subnet onto `hops`.
pub fn route<'m>(
    model: &'m Model,
    from: &Subnet,
    dst: IpAddr,
    hops: &mut Vec<Hop>,
) -> Result<(&'m Subnet, Via), Reason> {
    let ix = model.index();
    if from.cidrs.iter().any(|c| c.contains(&dst)) {
        let sd = model
            .subnets
            .get(&from.id)
            .expect("source subnet is in the model");
        hops.push(hop(
            HopKind::DestinationSubnet,
            ObjectRef::Subnet(sd.id.clone()),
            Detail::SameSubnet,
            true,
        ));
        return Ok((sd, Via::SameSubnet));
    }
    let Some(table) = ix
        .route_table_of(from)
        .and_then(|t| model.route_tables.get(t))
    else {
        return Err(Reason::NoRoute);
    };
    let Some(r) = longest_match(model, table, dst) else {
        hops.push(hop(
            HopKind::RouteTable,
            ObjectRef::RouteTable(table.id.clone()),
            Detail::NoRouteMatches(dst),
            false,
        ));
        return Err(Reason::NoRoute);
    };
    if r.blackhole {
        hops.push(hop(
            HopKind::RouteTable,
            ObjectRef::RouteTable(table.id.clone()),
            Detail::Route(r.clone()),
            false,
        ));
        return Err(Reason::Blackhole);
    }
    match &r.target {
        RouteTarget::Local => {
            hops.push(hop(
                HopKind::RouteTable,
                ObjectRef::RouteTable(table.id.clone()),
                Detail::Route(r.clone()),
                true,
            ));
            arrive(model, &from.vpc, dst, Via::Local, hops)
        }
        RouteTarget::Other(_) => {
            hops.push(hop(
                HopKind::RouteTable,
                ObjectRef::RouteTable(table.id.clone()),
                Detail::RouteLeaves(r.clone()),
                false,
            ));
            Err(Reason::LeftNetwork)
        }
        RouteTarget::Peering(pcx) => {
            hops.push(hop(
                HopKind::RouteTable,
                ObjectRef::RouteTable(table.id.clone()),
                Detail::Route(r.clone()),
                true,
            ));
            let Some(conn) = model.peerings.get(pcx) else {
                hops.push(hop(
                    HopKind::Peering,
                    ObjectRef::Peering(pcx.clone()),
                    Detail::Text("not in the snapshot (treated as inactive)".into()),
                    false,
                ));
                return Err(Reason::PeeringInactive);
            };
            if !conn.is_active() {
                hops.push(hop(
                    HopKind::Peering,
                    ObjectRef::Peering(pcx.clone()),
                    Detail::Text(format!("status {}", conn.status)),
                    false,
                ));
                return Err(Reason::PeeringInactive);
            }
            let Some(peer) = conn.peer_of(&from.vpc) else {
                hops.push(hop(
                    HopKind::Peering,
                    ObjectRef::Peering(pcx.clone()),
                    Detail::Text(format!("{} is not a side of this connection", from.vpc)),
                    false,
                ));
                return Err(Reason::PeeringInactive);
            };
            if !peer.cidrs.iter().any(|c| c.contains(&dst)) {
                hops.push(hop(
                    HopKind::Peering,
                    ObjectRef::Peering(pcx.clone()),
                    Detail::Text(format!(
                        "{dst} is outside the peer {}'s CIDRs {}",
                        peer.vpc,
                        join_cidrs(&peer.cidrs)
                    )),
                    false,
                ));
                return Err(Reason::NotInPeerCidr);
            }
            if model.unseen_vpc(&peer.vpc).is_some() {
                // Step 23: what happens inside a VPC the snapshot does not hold is unknown.
                hops.push(hop(HopKind::Peering, ObjectRef::Peering(pcx.clone()), Detail::Text(format!(
                        "active, to {} which the snapshot knows only from this connection's record (unseen peer)",
                        peer.vpc
                    )), false));
                return Err(Reason::UnseenPeer);
            }
            hops.push(hop(
                HopKind::Peering,
                ObjectRef::Peering(pcx.clone()),
                Detail::Text(format!("active, to {}", peer.vpc)),
                true,
            ));
            arrive(model, &peer.vpc, dst, Via::Peering(pcx.clone()), hops)
        }
    }
}

/// Does a subnet's NACL allow a packet? `None` port for protocols without ports. Returns the
/// deciding rule's description for the path.
/// A subnet's NACL on the forward path (egress at the source subnet, ingress at the
/// destination's), pushed as a hop; whether it lets the packet through.
fn nacl_hop(
    model: &Model,
    subnet: &SubnetId,
    direction: Direction,
    peer: IpAddr,
    proto: u8,
    port: Option<u16>,
    path: &mut Vec<Hop>,
) -> bool {
    let egress = direction == Direction::Egress;
    let (object, decision) = nacl_decides(model, subnet, egress, peer, proto, port);
    let ok = decision.allows();
    let kind = if egress {
        HopKind::SourceNacl
    } else {
        HopKind::DestinationNacl
    };
    path.push(hop(kind, object, Detail::Nacl(direction, decision), ok));
    ok
}

fn nacl_decides(
    model: &Model,
    subnet: &SubnetId,
    egress: bool,
    peer: IpAddr,
    proto: u8,
    port: Option<u16>,
) -> (ObjectRef, NaclDecision) {
    let object = nacl_object(model, subnet);
    let decision = match model.index().nacl_of(subnet) {
        NaclBinding::Unfiltered => NaclDecision::Unfiltered,
        NaclBinding::Acl(id) => match model.network_acls.get(id) {
            None => NaclDecision::Missing,
            Some(acl) => match acl.first_match(egress, peer, proto, port) {
                Some(e) => NaclDecision::Entry(e.clone()),
                None => NaclDecision::NoMatch,
            },
        },
    };
    (object, decision)
}

/// The ports in `range` a NACL direction allows for (peer, proto): first match per port.
pub fn nacl_allowed_ports(
    model: &Model,
    subnet: &SubnetId,
    egress: bool,
    peer: IpAddr,
    proto: u8,
) -> IntervalSet<u16> {
    let acl = match model.index().nacl_of(subnet) {
        NaclBinding::Unfiltered => return IntervalSet::full(),
        NaclBinding::Acl(id) => match model.network_acls.get(id) {
            Some(a) => a,
            None => return IntervalSet::full(),
        },
    };
    let entries = if egress { &acl.egress } else { &acl.ingress };
    let mut remaining = IntervalSet::<u16>::full();
    let mut allowed = IntervalSet::<u16>::new();
    for e in entries {
        if !e.cidr.contains(&peer) || !e.protocol.matches(proto) {
            continue;
        }
        let ports = match e.protocol {
            Protocol::Number(n) if Protocol::has_ports(n) => {
                IntervalSet::from_range(e.ports.from, e.ports.to)
            }
            _ => IntervalSet::full(),
        };
        let decided = remaining.intersection(&ports);
        if e.action == RuleAction::Allow {
            allowed = allowed.union(&decided);
        }
        remaining = remaining.difference(&ports);
        if remaining.is_empty() {
            break;
        }
    }
    allowed
}

/// Are two VPCs joined by an active peering connection within one region?
pub fn peered_same_region(model: &Model, a: &VpcId, b: &VpcId) -> bool {
    model
        .index()
        .peerings_of(a)
        .iter()
        .filter_map(|p| model.peerings.get(p))
        .any(|c| c.is_active() && !c.is_cross_region() && c.peer_of(a).is_some_and(|s| &s.vpc == b))
}

/// Does an SG rule's peer match the other end of the flow (`addr`, carried by `eni`)? A
/// source in an unseen VPC has no interface (`None`): a group reference never matches it.
pub fn rule_peer_matches(
    model: &Model,
    sg: &SecurityGroup,
    rule: &SgRule,
    addr: IpAddr,
    eni: Option<&NetworkInterface>,
) -> bool {
    match &rule.peer {
        RulePeer::Cidr(c) => c.contains(&addr),
        RulePeer::PrefixList(pl) => model
            .prefix_list_cidrs(pl)
            .iter()
            .any(|c| c.contains(&addr)),
        RulePeer::Group(g) => eni.is_some_and(|eni| {
            eni.groups.contains(g)
                && (eni.vpc == sg.vpc || peered_same_region(model, &sg.vpc, &eni.vpc))
        }),
    }
}

/// Does an SG rule's protocol and port match?
pub fn rule_service_matches(rule: &SgRule, proto: u8, port: Option<u16>) -> bool {
    rule.protocol.matches(proto)
        && match (rule.protocol, port) {
            (Protocol::Number(n), Some(p)) if Protocol::has_ports(n) => rule.ports.contains(p),
            _ => true,
        }
}

/// The first of `eni`'s groups (in id order) with a rule admitting the flow, and the rule.
fn sg_decides<'m>(
    model: &'m Model,
    eni: &NetworkInterface,
    egress: bool,
    other_addr: IpAddr,
    other: Option<&NetworkInterface>,
    proto: u8,
    port: Option<u16>,
) -> Option<(&'m SecurityGroup, &'m SgRule)> {
    eni.groups
        .iter()
        .filter_map(|g| model.security_groups.get(g).map(|g| &**g))
        .find_map(|sg| {
            let rules = if egress { &sg.egress } else { &sg.ingress };
            rules
                .iter()
                .find(|r| {
                    rule_service_matches(r, proto, port)
                        && rule_peer_matches(model, sg, r, other_addr, other)
                })
                .map(|r| (sg, r))
        })
}

/// Full layer: the interface holding `dst` in the subnet reached (`Ok(None)` in the network
/// layer); `Err` marks the last hop as the one that drops the flow on no-eni.
fn destination_eni<'m>(
    model: &'m Model,
    sd: &Subnet,
    dst: IpAddr,
    layer: Layer,
    path: &mut [Hop],
) -> Result<Option<&'m NetworkInterface>, ()> {
    if layer == Layer::Network {
        return Ok(None);
    }
    match model
        .index()
        .enis_at(&sd.id, dst)
        .first()
        .and_then(|e| model.network_interfaces.get(e))
    {
        Some(e) => Ok(Some(e)),
        None => {
            if let Some(last) = path.last_mut() {
                last.passed = false;
                last.detail = Detail::NoInterfaceHolds(dst);
            }
            Err(())
        }
    }
}

/// Step 7's ingress half: does one of `de`'s groups admit the packet from `src` (carried by
/// `other`, or by no interface for a source in an unseen VPC)? Pushes the deciding group, or
/// every group of `de` as failing.
fn destination_groups_admit(
    model: &Model,
    de: &NetworkInterface,
    src: IpAddr,
    other: Option<&NetworkInterface>,
    proto: u8,
    port: Option<u16>,
    path: &mut Vec<Hop>,
) -> bool {
    match sg_decides(model, de, false, src, other, proto, port) {
        Some((sg, rule)) => {
            path.push(hop(
                HopKind::DestinationSecurityGroup,
                ObjectRef::SecurityGroup(sg.id.clone()),
                Detail::SgRule(Direction::Ingress, rule.clone()),
                true,
            ));
            true
        }
        None => {
            for g in &de.groups {
                path.push(hop(
                    HopKind::DestinationSecurityGroup,
                    ObjectRef::SecurityGroup(g.clone()),
                    Detail::NoSgRule(Direction::Ingress),
                    false,
                ));
            }
            false
        }
    }
}

/// The packet reaches `vpc`: the subnet holding `dst` receives it (no further routing there),
/// or no subnet does and the flow dies on no-subnet.
fn arrive<'m>(
    model: &'m Model,
    vpc: &VpcId,
    dst: IpAddr,
    via: Via,
    hops: &mut Vec<Hop>,
) -> Result<(&'m Subnet, Via), Reason> {
    match model
        .index()
        .subnet_containing(vpc, dst)
        .and_then(|s| model.subnets.get(s))
    {
        Some(sd) => {
            hops.push(hop(
                HopKind::DestinationSubnet,
                ObjectRef::Subnet(sd.id.clone()),
                Detail::InSubnet(dst, sd.cidrs.clone()),
                true,
            ));
            Ok((sd, via))
        }
        None => Err(no_subnet(hops, dst)),
    }
}

/// Marks the last hop (the route or peering that led nowhere) as the one that drops.
fn no_subnet(hops: &mut [Hop], dst: IpAddr) -> Reason {
    if let Some(last) = hops.last_mut() {
        last.passed = false;
        let before = std::mem::replace(&mut last.detail, Detail::SameSubnet);
        last.detail = Detail::NoSubnetHolds(Box::new(before), dst);
    }
    Reason::NoSubnet
}

fn hop(kind: HopKind, object: ObjectRef, detail: Detail, passed: bool) -> Hop {
    Hop {
        kind,
        id: object,
        detail,
        passed,
    }
}

/// The network-ACL place of a subnet: its ACL, or its missing ACL data.
fn nacl_object(model: &Model, subnet: &SubnetId) -> ObjectRef {
    match model.index().nacl_of(subnet) {
        NaclBinding::Acl(a) => ObjectRef::NetworkAcl(a.clone()),
        NaclBinding::Unfiltered => ObjectRef::NoNaclData(subnet.clone()),
    }
}

fn join_cidrs(c: &[ipnet::IpNet]) -> String {
    c.iter()
        .map(|c| c.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

fn dropped(reason: Reason, path: Vec<Hop>) -> Explanation {
    Explanation {
        delivered: false,
        connectable: false,
        reason: Some(reason),
        path,
        return_path: Vec::new(),
        undetermined: false,
    }
}

/// Evaluates one flow in one layer. The answer is marked undetermined when a VPC it involves
/// is damaged (see [`Explanation::undetermined`]).
pub fn explain(model: &Model, flow: &Flow, layer: Layer) -> Result<Explanation, ExplainError> {
    let mut e = evaluate(model, flow, layer)?;
    e.undetermined = depends_on_damage(model, flow, &e);
    Ok(e)
}

/// Does a verdict involve a damaged VPC: the source's, one reached, or a side of a peering
/// the packet or its reply met?
fn depends_on_damage(model: &Model, flow: &Flow, e: &Explanation) -> bool {
    let d = &model.damage;
    if d.is_empty() {
        return false;
    }
    if d.touches(&flow.src_vpc) {
        return true;
    }
    e.path.iter().chain(&e.return_path).any(|h| match &h.id {
        ObjectRef::Subnet(s) => model.subnets.get(s).is_none_or(|s| d.touches(&s.vpc)),
        ObjectRef::Peering(p) => model
            .peerings
            .get(p)
            .is_none_or(|c| d.touches(&c.requester.vpc) || d.touches(&c.accepter.vpc)),
        _ => false,
    })
}

fn evaluate(model: &Model, flow: &Flow, layer: Layer) -> Result<Explanation, ExplainError> {
    let ix = model.index();
    if let Some(u) = model.unseen_vpc(&flow.src_vpc) {
        return explain_unseen(model, u, flow, layer);
    }
    if !model.vpcs.contains_key(&flow.src_vpc) && ix.subnets_of(&flow.src_vpc).is_empty() {
        return Err(ExplainError::UnknownVpc(flow.src_vpc.clone()));
    }
    let port = flow_port(flow)?;
    let ss = ix
        .subnet_containing(&flow.src_vpc, flow.src)
        .and_then(|s| model.subnets.get(s))
        .ok_or_else(|| ExplainError::NotInSubnet {
            vpc: flow.src_vpc.clone(),
            ip: flow.src,
        })?;
    let mut path = Vec::new();
    let src_eni = match layer {
        Layer::Network => None,
        Layer::Full => {
            let eni = match &flow.src_eni {
                Some(id) => model
                    .network_interfaces
                    .get(id)
                    .filter(|e| e.subnet == ss.id && e.addresses.contains(&flow.src))
                    .ok_or_else(|| ExplainError::BadSourceEni(id.clone()))?,
                None => ix
                    .enis_at(&ss.id, flow.src)
                    .first()
                    .and_then(|e| model.network_interfaces.get(e))
                    .ok_or_else(|| ExplainError::NoSourceEni {
                        subnet: ss.id.clone(),
                        ip: flow.src,
                    })?,
            };
            path.push(hop(
                HopKind::SourceEni,
                ObjectRef::NetworkInterface(eni.id.clone()),
                Detail::Address(flow.src),
                true,
            ));
            Some(eni)
        }
    };
    path.push(hop(
        HopKind::SourceSubnet,
        ObjectRef::Subnet(ss.id.clone()),
        Detail::InSubnet(flow.src, ss.cidrs.clone()),
        true,
    ));

    // Steps 1–3: routing decides where the packet goes.
    let (sd, via) = match route(model, ss, flow.dst, &mut path) {
        Ok(x) => x,
        Err(reason) => return Ok(dropped(reason, path)),
    };
    // Full layer: an interface must hold the destination address in the subnet reached.
    let dst_eni = match destination_eni(model, sd, flow.dst, layer, &mut path) {
        Ok(e) => e,
        Err(()) => return Ok(dropped(Reason::NoEni, path)),
    };
    let crosses = ss.id != sd.id;
    let (proto, src, dst) = (flow.proto, flow.src, flow.dst);

    // Then the filters in the order the packet meets them.
    if let (Some(se), Some(de)) = (src_eni, dst_eni) {
        match sg_decides(model, se, true, dst, Some(de), proto, port) {
            Some((sg, rule)) => path.push(hop(
                HopKind::SourceSecurityGroup,
                ObjectRef::SecurityGroup(sg.id.clone()),
                Detail::SgRule(Direction::Egress, rule.clone()),
                true,
            )),
            None => {
                for g in &se.groups {
                    path.push(hop(
                        HopKind::SourceSecurityGroup,
                        ObjectRef::SecurityGroup(g.clone()),
                        Detail::NoSgRule(Direction::Egress),
                        false,
                    ));
                }
                return Ok(dropped(Reason::SgEgress, path));
            }
        }
    }
    if crosses {
        if !nacl_hop(
            model,
            &ss.id,
            Direction::Egress,
            dst,
            proto,
            port,
            &mut path,
        ) {
            return Ok(dropped(Reason::NaclEgress, path));
        }
        if !nacl_hop(
            model,
            &sd.id,
            Direction::Ingress,
            src,
            proto,
            port,
            &mut path,
        ) {
            return Ok(dropped(Reason::NaclIngress, path));
        }
    }
    if let (Some(se), Some(de)) = (src_eni, dst_eni) {
        if !destination_groups_admit(model, de, src, Some(se), proto, port, &mut path) {
            return Ok(dropped(Reason::SgIngress, path));
        }
        path.push(hop(
            HopKind::DestinationEni,
            ObjectRef::NetworkInterface(de.id.clone()),
            Detail::Address(dst),
            true,
        ));
    }

    // Delivered. Steps 5–6: replies must come back the same way.
    let mut ret = Vec::new();
    let reason = if !crosses {
        None
    } else {
        match route(model, sd, src, &mut ret) {
            Ok((back, back_via)) if back.id == ss.id && back_via == via => {
                let egress = nacl_allowed_ports(model, &sd.id, true, src, proto);
                let ingress = nacl_allowed_ports(model, &ss.id, false, dst, proto);
                let eph = IntervalSet::from_range(1024, 65535);
                // Which side fails: one that allows no usable source port at all, or both when
                // each allows some but never the same one.
                let (egress_ok, ingress_ok, ok) = if Protocol::has_ports(proto) {
                    let e = !egress.intersection(&eph).is_empty();
                    let i = !ingress.intersection(&eph).is_empty();
                    let both = !egress.intersection(&ingress).intersection(&eph).is_empty();
                    (e && (both || !i), i && (both || !e), both)
                } else {
                    // No ports: the NACLs see the protocol only.
                    (
                        !egress.is_empty(),
                        !ingress.is_empty(),
                        !egress.is_empty() && !ingress.is_empty(),
                    )
                };
                let nacl_id = |s: &SubnetId| nacl_object(model, s);
                ret.push(hop(
                    HopKind::DestinationNacl,
                    nacl_id(&sd.id),
                    Detail::Text(format!(
                        "return egress allows {}",
                        ports_text(&egress, proto)
                    )),
                    egress_ok,
                ));
                ret.push(hop(
                    HopKind::SourceNacl,
                    nacl_id(&ss.id),
                    Detail::Text(format!(
                        "return ingress allows {}",
                        ports_text(&ingress, proto)
                    )),
                    ingress_ok,
                ));
                (!ok).then_some(Reason::ReturnNacl)
            }
            _ => Some(Reason::ReturnRoute),
        }
    };
    Ok(Explanation {
        delivered: true,
        connectable: reason.is_none(),
        reason,
        path,
        return_path: ret,
        undetermined: false,
    })
}

/// A flow's destination port (tcp and udp), after checking that it names one packet: one
/// address family, and a port where the protocol has ports.
fn flow_port(flow: &Flow) -> Result<Option<u16>, ExplainError> {
    if flow.src.is_ipv4() != flow.dst.is_ipv4() {
        return Err(ExplainError::MixedFamilies {
            src: flow.src,
            dst: flow.dst,
        });
    }
    if Protocol::has_ports(flow.proto) {
        Ok(Some(
            flow.port.ok_or(ExplainError::MissingPort(flow.proto))?,
        ))
    } else {
        Ok(None)
    }
}

/// Step 22: a flow from a VPC the snapshot knows only from peering records. Its own routes and
/// filters are taken to allow everything; it may leave over any active connection whose
/// record lists, for the other side, a CIDR containing the destination, and the known side's
/// routes and filters decide.
fn explain_unseen(
    model: &Model,
    u: &UnseenVpc,
    flow: &Flow,
    layer: Layer,
) -> Result<Explanation, ExplainError> {
    let port = flow_port(flow)?;
    if !u.cidrs.iter().any(|c| c.contains(&flow.src)) {
        return Err(ExplainError::NotInUnseenVpc {
            vpc: u.id.clone(),
            ip: flow.src,
        });
    }
    let mut candidates = Vec::new();
    let mut inactive = Vec::new();
    for pcx in &u.peerings {
        let Some(conn) = model.peerings.get(pcx) else {
            continue;
        };
        let Some(other) = conn
            .peer_of(&u.id)
            .filter(|o| model.vpcs.contains_key(&o.vpc))
        else {
            continue;
        };
        if !other.cidrs.iter().any(|c| c.contains(&flow.dst)) {
            continue;
        }
        if conn.is_active() {
            candidates.push((conn, other));
        } else {
            inactive.push(hop(
                HopKind::Peering,
                ObjectRef::Peering(pcx.clone()),
                Detail::Text(format!("status {}", conn.status)),
                false,
            ));
        }
    }
    if candidates.is_empty() {
        return Ok(if inactive.is_empty() {
            dropped(Reason::NoRoute, Vec::new())
        } else {
            dropped(Reason::PeeringInactive, inactive)
        });
    }
    let answers: Vec<Explanation> = candidates
        .into_iter()
        .map(|(conn, other)| unseen_candidate(model, u, conn, &other.vpc, flow, port, layer))
        .collect();
    let delivered = answers.iter().any(|a| a.delivered);
    let connectable = answers.iter().any(|a| a.connectable);
    let pick = answers
        .iter()
        .position(|a| a.connectable)
        .or_else(|| answers.iter().position(|a| a.delivered))
        .unwrap_or(0);
    let mut out = answers
        .into_iter()
        .nth(pick)
        .expect("one candidate at least");
    out.delivered = delivered;
    out.connectable = connectable;
    Ok(out)
}

/// Step 22 for one candidate connection: the packet arrives over `conn` in `vpc`.
fn unseen_candidate(
    model: &Model,
    u: &UnseenVpc,
    conn: &VpcPeeringConnection,
    vpc: &VpcId,
    flow: &Flow,
    port: Option<u16>,
    layer: Layer,
) -> Explanation {
    let (proto, src, dst) = (flow.proto, flow.src, flow.dst);
    let mut path = vec![hop(
        HopKind::Peering,
        ObjectRef::Peering(conn.id.clone()),
        Detail::Text(format!("active, from unseen {} to {vpc}", u.id)),
        true,
    )];
    let sd = match arrive(model, vpc, dst, Via::Peering(conn.id.clone()), &mut path) {
        Ok((sd, _)) => sd,
        Err(reason) => return dropped(reason, path),
    };
    let dst_eni = match destination_eni(model, sd, dst, layer, &mut path) {
        Ok(e) => e,
        Err(()) => return dropped(Reason::NoEni, path),
    };
    if !nacl_hop(
        model,
        &sd.id,
        Direction::Ingress,
        src,
        proto,
        port,
        &mut path,
    ) {
        return dropped(Reason::NaclIngress, path);
    }
    if let Some(de) = dst_eni {
        if !destination_groups_admit(model, de, src, None, proto, port, &mut path) {
            return dropped(Reason::SgIngress, path);
        }
        path.push(hop(
            HopKind::DestinationEni,
            ObjectRef::NetworkInterface(de.id.clone()),
            Detail::Address(dst),
            true,
        ));
    }
    // The reply, on the known side only: Sd's route for S must be this connection, and Sd's
    // NACL must let a reply out; U's side is taken to allow it.
    let mut ret = Vec::new();
    let table = model
        .index()
        .route_table_of(sd)
        .and_then(|t| model.route_tables.get(t));
    let routed_back = match table {
        None => false,
        Some(t) => match longest_match(model, t, src) {
            None => {
                ret.push(hop(
                    HopKind::RouteTable,
                    ObjectRef::RouteTable(t.id.clone()),
                    Detail::NoRouteMatches(src),
                    false,
                ));
                false
            }
            Some(r) => {
                let back = !r.blackhole && r.target == RouteTarget::Peering(conn.id.clone());
                let detail = if back {
                    Detail::Route(r.clone())
                } else {
                    Detail::RouteNotConnection(r.clone(), conn.id.clone())
                };
                ret.push(hop(
                    HopKind::RouteTable,
                    ObjectRef::RouteTable(t.id.clone()),
                    detail,
                    back,
                ));
                back
            }
        },
    };
    let reason = if !routed_back {
        Some(Reason::ReturnRoute)
    } else {
        ret.push(hop(
            HopKind::Peering,
            ObjectRef::Peering(conn.id.clone()),
            Detail::Text(format!(
                "active, to unseen {} (taken to accept the reply)",
                u.id
            )),
            true,
        ));
        let egress = nacl_allowed_ports(model, &sd.id, true, src, proto);
        let ok = if Protocol::has_ports(proto) {
            !egress
                .intersection(&IntervalSet::from_range(1024, 65535))
                .is_empty()
        } else {
            !egress.is_empty()
        };
        let nacl_id = nacl_object(model, &sd.id);
        ret.push(hop(
            HopKind::DestinationNacl,
            nacl_id,
            Detail::Text(format!(
                "return egress allows {}",
                ports_text(&egress, proto)
            )),
            ok,
        ));
        (!ok).then_some(Reason::ReturnNacl)
    };
    Explanation {
        delivered: true,
        connectable: reason.is_none(),
        reason,
        path,
        return_path: ret,
        undetermined: false,
    }
}

fn ports_text(p: &IntervalSet<u16>, proto: u8) -> String {
    if !Protocol::has_ports(proto) {
        return if p.is_empty() {
            "nothing".into()
        } else {
            protocol_name(proto)
        };
    }
    if p.is_empty() {
        return "no port".into();
    }
    let parts: Vec<String> = p
        .ranges()
        .iter()
        .map(|(a, b)| {
            if a == b {
                a.to_string()
            } else {
                format!("{a}-{b}")
            }
        })
        .collect();
    format!("{} ports {}", protocol_name(proto), parts.join(","))
}
