//! Hygiene findings that need no intent: blackhole routes, routes to inactive peerings, peering
//! routes wider than the peer or covering the whole peer where only some subnets are used,
//! peerings with external accounts, group references that cannot match across regions,
//! world-open rules that peering exposes, and rules that admit an unseen external peer on
//! administrative or database ports. CIDR questions are answered on sets from both sides
//! of the peering, never by comparing strings.

use std::collections::BTreeSet;

use super::{Component, Finding, Kind, Severity, Zones, fingerprint};
use crate::engine::Layer;
use crate::engine::hop::{Detail, Direction, ObjectRef};
use crate::engine::reach::{ReachOptions, Via, reach};
use crate::intent::Intent;
use crate::model::*;
use crate::sets::{IpSet, ServiceSet};

fn route_set(model: &Model, r: &Route) -> IpSet {
    match &r.destination {
        RouteDestination::Cidr(c) => IpSet::from_net(*c),
        RouteDestination::PrefixList(pl) => {
            IpSet::from_nets(model.prefix_list_cidrs(pl).iter().copied())
        }
    }
}

fn component(object: ObjectRef, detail: Detail) -> Component {
    Component { object, detail }
}

fn finding(
    kind: Kind,
    severity: Severity,
    key: &[&str],
    title: String,
    components: Vec<Component>,
    tighten: String,
) -> Finding {
    let mut parts = vec![kind.as_str()];
    parts.extend_from_slice(key);
    Finding {
        kind,
        severity,
        fingerprint: fingerprint(&parts),
        title,
        flows: None,
        reason: None,
        components,
        tighten,
        rule: None,
        undetermined: false,
        peerings: Vec::new(),
    }
}

/// Hygiene findings about the objects of the VPCs in `within` (every VPC when `None`); a
/// peering counts when either side is in it.
pub fn findings(
    model: &Model,
    intent: Option<&Intent>,
    within: Option<&BTreeSet<VpcId>>,
    zones: &Zones,
) -> Vec<Finding> {
    let wanted = |v: &VpcId| within.is_none_or(|w| w.contains(v));
    let mut out = Vec::new();
    routes(model, intent, within, zones, &mut out);
    peerings(model, intent, &wanted, &mut out);
    open_to_unseen(model, intent, &wanted, &mut out);
    group_references(model, &wanted, &mut out);
    open_to_world(model, within, &mut out);
    out
}

/// The subnets of `peer_vpc` (those with addresses in `family`) that intended flows (allow and
/// require rules) use over a route of `table`, in either direction: requests from the table's
/// subnets to the peer, and replies to requests the peer sends. `None` when no rule involves
/// the pair.
fn used_subnets(
    model: &Model,
    zones: &Zones,
    intent: &Intent,
    table: &RouteTable,
    peer_vpc: &VpcId,
    family: &IpSet,
) -> Option<BTreeSet<SubnetId>> {
    let ix = model.index();
    let served = IpSet::from_nets(
        ix.subnets_of(&table.vpc)
            .iter()
            .filter_map(|s| model.subnets.get(s))
            .filter(|s| ix.route_table_of(s) == Some(&table.id))
            .flat_map(|s| s.cidrs.iter().copied()),
    )
    .intersection(family);
    let zone = |name: &str, vpc: &VpcId| {
        zones
            .get(name)
            .and_then(|m| m.get(vpc))
            .map(|s| s.intersection(family))
            .unwrap_or_default()
    };
    let mut used = BTreeSet::new();
    let mut any_rule = false;
    for r in intent.allow.iter().chain(&intent.require) {
        for (here, there) in [(&r.from, &r.to), (&r.to, &r.from)] {
            let mine = zone(here, &table.vpc).intersection(&served);
            let theirs = zone(there, peer_vpc);
            if mine.is_empty() || theirs.is_empty() {
                continue;
            }
            any_rule = true;
            for s in ix
                .subnets_of(peer_vpc)
                .iter()
                .filter_map(|s| model.subnets.get(s))
            {
                if !IpSet::from_nets(s.cidrs.iter().copied())
                    .intersection(&theirs)
                    .is_empty()
                {
                    used.insert(s.id.clone());
                }
            }
        }
    }
    any_rule.then_some(used)
}

fn routes(
    model: &Model,
    intent: Option<&Intent>,
    within: Option<&BTreeSet<VpcId>>,
    zones: &Zones,
    out: &mut Vec<Finding>,
) {
    let wanted = |v: &VpcId| within.is_none_or(|w| w.contains(v));
    for t in model.route_tables.values().filter(|t| wanted(&t.vpc)) {
        for r in &t.routes {
            let dest = r.destination.to_string();
            if r.blackhole {
                out.push(finding(
                    Kind::BlackholeRoute,
                    Severity::Low,
                    &[t.id.as_str(), &dest],
                    format!("{}: route {r} is a blackhole", t.id),
                    vec![component(
                        ObjectRef::RouteTable(t.id.clone()),
                        Detail::Route(r.clone()),
                    )],
                    format!(
                        "delete the route to {dest} from {} or point it at a live target",
                        t.id
                    ),
                ));
                continue;
            }
            let RouteTarget::Peering(pcx) = &r.target else {
                continue;
            };
            let conn = model.peerings.get(pcx);
            match conn {
                Some(c) if c.is_active() => {}
                _ => {
                    let status = conn
                        .map(|c| c.status.to_string())
                        .unwrap_or_else(|| "not in the snapshot".into());
                    out.push(finding(
                        Kind::InactivePeeringRoute,
                        Severity::Low,
                        &[t.id.as_str(), &dest, pcx.as_str()],
                        format!("{}: route {r} points at peering {pcx} ({status})", t.id),
                        vec![
                            component(
                                ObjectRef::RouteTable(t.id.clone()),
                                Detail::Route(r.clone()),
                            ),
                            component(ObjectRef::Peering(pcx.clone()), Detail::Text(status)),
                        ],
                        format!("delete the route to {dest} from {}", t.id),
                    ));
                    continue;
                }
            }
            let conn = conn.expect("active");
            let Some(peer) = conn.peer_of(&t.vpc) else {
                continue;
            };
            let route = route_set(model, r);
            let peer_set = IpSet::from_nets(peer.cidrs.iter().copied());
            let outside = route.difference(&peer_set);
            if !outside.is_empty() && !peer_set.is_empty() {
                let inside = route.intersection(&peer_set);
                out.push(finding(
                    Kind::RouteWiderThanPeer,
                    Severity::Medium,
                    &[t.id.as_str(), &dest, pcx.as_str()],
                    format!(
                        "{}: route {r} is wider than peer {} ({})",
                        t.id, peer.vpc, peer_set
                    ),
                    vec![
                        component(
                            ObjectRef::RouteTable(t.id.clone()),
                            Detail::Route(r.clone()),
                        ),
                        component(
                            ObjectRef::Peering(pcx.clone()),
                            Detail::Text(format!("peer {} CIDRs {}", peer.vpc, peer_set)),
                        ),
                    ],
                    format!(
                        "replace the route to {dest} with {} (covers {} outside the peer)",
                        if inside.is_empty() {
                            "nothing".to_owned()
                        } else {
                            inside.to_string()
                        },
                        outside
                    ),
                ));
            }
            // Least privilege: the route covers the whole peer VPC but intended flows use only
            // some of its subnets.
            let Some(intent) = intent else { continue };
            // Per address family: an IPv4 route is judged against the peer's IPv4 blocks.
            let family = IpSet {
                v4: if route.v4.is_empty() {
                    Default::default()
                } else {
                    IpSet::all_v4().v4
                },
                v6: if route.v6.is_empty() {
                    Default::default()
                } else {
                    IpSet::all_v6().v6
                },
            };
            let peer_family = peer_set.intersection(&family);
            if peer_family.is_empty() || !peer_family.is_subset(&route) {
                continue;
            }
            let all: BTreeSet<SubnetId> = model
                .index()
                .subnets_of(&peer.vpc)
                .iter()
                .filter_map(|s| model.subnets.get(s))
                .filter(|s| s.cidrs.iter().any(|c| family.contains(c.network())))
                .map(|s| s.id.clone())
                .collect();
            if let Some(used) = used_subnets(model, zones, intent, t, &peer.vpc, &family)
                && !used.is_empty()
                && used.len() < all.len()
            {
                let narrow = IpSet::from_nets(
                    used.iter()
                        .filter_map(|s| model.subnets.get(s))
                        .flat_map(|s| s.cidrs.iter().copied()),
                )
                .intersection(&family);
                out.push(finding(
                        Kind::RouteCoversWholePeer,
                        Severity::Low,
                        &[t.id.as_str(), &dest, pcx.as_str()],
                        format!("{}: route {r} covers all of peer {} but intended flows use {} of its {} subnets", t.id, peer.vpc, used.len(), all.len()),
                        vec![component(ObjectRef::RouteTable(t.id.clone()), Detail::Route(r.clone()))],
                        format!("replace the route to {dest} with {narrow}"),
                    ));
            }
        }
    }
}

/// Is an account one of the organisation's: named in the intent's `[accounts]`, else (no
/// intent, or none named) the owner of a VPC the snapshot holds.
fn known_account(model: &Model, intent: Option<&Intent>, a: &AccountId) -> bool {
    match intent {
        Some(i) if !i.accounts.is_empty() => i.is_known_account(a),
        _ => model.vpcs.values().any(|v| &v.account == a),
    }
}

/// Security-group rules of a VPC peered (actively) with an unseen VPC of an external account
/// whose sources cover part of that VPC's addresses on an administrative or database port: the
/// partner's side is unknown, so whatever the rule admits from there is assumed to arrive.
fn open_to_unseen(
    model: &Model,
    intent: Option<&Intent>,
    wanted: &dyn Fn(&VpcId) -> bool,
    out: &mut Vec<Finding>,
) {
    let sensitive = super::ADMIN_PORTS
        .iter()
        .chain(super::DATABASE_PORTS)
        .map(|p| ServiceSet::tcp(*p, *p))
        .fold(ServiceSet::new(), |a, b| a.union(&b));
    for u in model.unseen_vpcs().values() {
        if u.account
            .as_ref()
            .is_some_and(|a| known_account(model, intent, a))
        {
            continue;
        }
        let theirs = IpSet::from_nets(u.cidrs.iter().copied());
        let owner = u
            .account
            .as_ref()
            .map(|a| a.to_string())
            .unwrap_or_else(|| "an unknown account".into());
        for pcx in &u.peerings {
            let Some((conn, mine)) = model
                .peerings
                .get(pcx)
                .filter(|c| c.is_active())
                .and_then(|c| c.peer_of(&u.id).map(|s| (c, s)))
            else {
                continue;
            };
            if !model.vpcs.contains_key(&mine.vpc) || !(wanted(&mine.vpc) || wanted(&u.id)) {
                continue;
            }
            for sg in model.security_groups.values().filter(|g| g.vpc == mine.vpc) {
                for rule in &sg.ingress {
                    let sources = match &rule.peer {
                        RulePeer::Cidr(c) => IpSet::from_net(*c),
                        RulePeer::PrefixList(pl) => {
                            IpSet::from_nets(model.prefix_list_cidrs(pl).iter().copied())
                        }
                        RulePeer::Group(_) => continue,
                    };
                    let admitted = sources.intersection(&theirs);
                    let ports = services_of(rule).intersection(&sensitive);
                    if admitted.is_empty() || ports.is_empty() {
                        continue;
                    }
                    out.push(finding(
                        Kind::OpenToUnseenPeer,
                        Severity::High,
                        &[sg.id.as_str(), &rule.to_string(), u.id.as_str(), conn.id.as_str()],
                        format!(
                            "{}: ingress {rule} admits {admitted} of {} (external account {owner}, seen only through {}) on {ports}",
                            sg.id, u.id, conn.id
                        ),
                        vec![
                            component(ObjectRef::SecurityGroup(sg.id.clone()), Detail::SgRule(Direction::Ingress, rule.clone())),
                            component(ObjectRef::Peering(conn.id.clone()), Detail::Text(format!("active, {} ↔ unseen {} ({})", mine.vpc, u.id, theirs))),
                        ],
                        format!(
                            "narrow {} ingress {rule} so that it no longer covers {admitted} on {ports}: the partner's side is unknown, so whatever the rule admits from there can arrive",
                            sg.id
                        ),
                    ));
                }
            }
        }
    }
}

/// The services a security-group rule covers.
fn services_of(rule: &SgRule) -> ServiceSet {
    match rule.protocol {
        Protocol::All => ServiceSet::all(),
        Protocol::Number(n) if Protocol::has_ports(n) => {
            ServiceSet::protocol_ports(n, rule.ports.from, rule.ports.to)
        }
        Protocol::Number(n) => ServiceSet::protocol(n),
    }
}

fn peerings(
    model: &Model,
    intent: Option<&Intent>,
    wanted: &dyn Fn(&VpcId) -> bool,
    out: &mut Vec<Finding>,
) {
    let known = |a: &AccountId| known_account(model, intent, a);
    for c in model
        .peerings
        .values()
        .filter(|c| c.is_active() && (wanted(&c.requester.vpc) || wanted(&c.accepter.vpc)))
    {
        for side in [&c.requester, &c.accepter] {
            let account = side
                .owner
                .clone()
                .or_else(|| model.vpcs.get(&side.vpc).map(|v| v.account.clone()));
            if let Some(a) = account.filter(|a| !known(a)) {
                let other = c
                    .peer_of(&side.vpc)
                    .map(|s| s.vpc.to_string())
                    .unwrap_or_default();
                out.push(finding(
                    Kind::ExternalPeering,
                    Severity::Medium,
                    &[c.id.as_str(), a.as_str()],
                    format!("{}: {} of external account {a} is peered with {other}", c.id, side.vpc),
                    vec![component(ObjectRef::Peering(c.id.clone()), Detail::Text(format!("{} ({}) ↔ {} ({})", c.requester.vpc, c.requester.owner.as_ref().map(|o| o.to_string()).unwrap_or_default(), c.accepter.vpc, c.accepter.owner.as_ref().map(|o| o.to_string()).unwrap_or_default())))],
                    "keep the routes, NACLs and security groups on this peering to the partner's intended flows (and name the account in [accounts] once reviewed)".into(),
                ));
            }
        }
    }
}

fn group_references(model: &Model, wanted: &dyn Fn(&VpcId) -> bool, out: &mut Vec<Finding>) {
    for sg in model.security_groups.values().filter(|g| wanted(&g.vpc)) {
        for (dir, rules) in [
            (Direction::Ingress, &sg.ingress),
            (Direction::Egress, &sg.egress),
        ] {
            for rule in rules.iter() {
                let RulePeer::Group(g) = &rule.peer else {
                    continue;
                };
                let Some(other) = model.security_groups.get(g) else {
                    continue;
                };
                if other.vpc == sg.vpc {
                    continue;
                }
                let cross = model
                    .index()
                    .peerings_of(&sg.vpc)
                    .iter()
                    .filter_map(|p| model.peerings.get(p))
                    .any(|c| {
                        c.is_active()
                            && c.is_cross_region()
                            && c.peer_of(&sg.vpc).is_some_and(|s| s.vpc == other.vpc)
                    });
                if cross {
                    out.push(finding(
                        Kind::CrossRegionGroupReference,
                        Severity::Low,
                        &[sg.id.as_str(), dir.as_str(), &rule.to_string()],
                        format!("{}: {dir} rule {rule} references {g} across a cross-region peering; it never matches", sg.id),
                        vec![component(ObjectRef::SecurityGroup(sg.id.clone()), Detail::SgRule(dir, rule.clone()))],
                        format!("replace the reference to {g} with the CIDRs of the intended peer subnets"),
                    ));
                }
            }
        }
    }
}

fn open_to_world(model: &Model, within: Option<&BTreeSet<VpcId>>, out: &mut Vec<Finding>) {
    // Only the addresses of interfaces carrying a group with a world-open ingress rule matter:
    // reach is asked for the flows into them alone (from every VPC that can send any).
    let mut targets: std::collections::BTreeMap<VpcId, IpSet> = std::collections::BTreeMap::new();
    // A group counts when its VPC or a member's is in `within` (an interface may carry a group
    // of another VPC); only groups with a world-open ingress rule matter.
    let world_open = |g: &&SecurityGroup| {
        g.ingress
            .iter()
            .any(|r| matches!(&r.peer, RulePeer::Cidr(c) if c.prefix_len() == 0))
    };
    let groups: Vec<&SecurityGroup> = match within {
        None => model
            .security_groups
            .values()
            .map(|g| &**g)
            .filter(world_open)
            .collect(),
        Some(w) => {
            let mut ids: BTreeSet<&SecurityGroupId> = model
                .security_groups
                .values()
                .filter(|g| w.contains(&g.vpc))
                .map(|g| &g.id)
                .collect();
            for v in w {
                for s in model.index().subnets_of(v) {
                    for e in model.index().enis_in(s) {
                        if let Some(e) = model.network_interfaces.get(e) {
                            ids.extend(e.groups.iter());
                        }
                    }
                }
            }
            ids.into_iter()
                .filter_map(|g| model.security_groups.get(g).map(|g| &**g))
                .filter(world_open)
                .collect()
        }
    };
    for sg in &groups {
        for e in model.index().members_of(&sg.id) {
            if let Some(e) = model.network_interfaces.get(e) {
                let set = targets.entry(e.vpc.clone()).or_default();
                *set = set.union(&IpSet::from_nets(
                    e.addresses.iter().map(|a| ipnet::IpNet::from(*a)),
                ));
            }
        }
    }
    if targets.is_empty() {
        return;
    }
    // Delivered flows over peerings, at the network layer: would the world-open rule admit them?
    let rows = reach(
        model,
        &ReachOptions {
            layer: Some(Layer::Network),
            scope: Some(targets.keys().cloned().collect()),
            to: Some(targets),
            ..Default::default()
        },
    );
    // Rows over peerings by destination subnet: a member interface only meets its subnet's.
    let mut by_subnet: foldhash::HashMap<&SubnetId, Vec<&crate::engine::reach::ReachRow>> =
        foldhash::HashMap::default();
    for r in rows.iter().filter(|r| r.via != Via::Local) {
        by_subnet.entry(&r.dst_subnet).or_default().push(r);
    }
    for sg in groups {
        for rule in &sg.ingress {
            let RulePeer::Cidr(c) = &rule.peer else {
                continue;
            };
            if c.prefix_len() != 0 {
                continue;
            }
            let svc = services_of(rule);
            let members: Vec<&NetworkInterface> = model
                .index()
                .members_of(&sg.id)
                .iter()
                .filter_map(|e| model.network_interfaces.get(e))
                .collect();
            let mut vias = BTreeSet::new();
            let mut sources = IpSet::new();
            for e in &members {
                for a in &e.addresses {
                    for r in by_subnet
                        .get(&e.subnet)
                        .into_iter()
                        .flatten()
                        .filter(|r| r.dst.contains(*a))
                    {
                        // Only sources the rule's CIDR admits (0.0.0.0/0 is IPv4, ::/0 IPv6).
                        let admitted = r.src.intersection(&IpSet::from_net(*c));
                        if !admitted.is_empty() && !r.services.intersection(&svc).is_empty() {
                            vias.insert(r.via.clone());
                            sources = sources.union(&admitted);
                        }
                    }
                }
            }
            if vias.is_empty() {
                continue;
            }
            let sensitive = super::ADMIN_PORTS
                .iter()
                .chain(super::DATABASE_PORTS)
                .any(|p| svc.contains(Protocol::TCP, Some(*p)))
                || svc.is_full();
            let carried: Vec<PeeringId> =
                vias.iter().filter_map(|v| v.peering().cloned()).collect();
            let vias: Vec<String> = vias.iter().map(|v| v.to_string()).collect();
            let mut f = finding(
                Kind::OpenToWorldOverPeering,
                if sensitive {
                    Severity::High
                } else {
                    Severity::Medium
                },
                &[sg.id.as_str(), &rule.to_string()],
                format!(
                    "{}: ingress {rule} admits other VPCs ({sources}) over {}",
                    sg.id,
                    vias.join(", ")
                ),
                vec![component(
                    ObjectRef::SecurityGroup(sg.id.clone()),
                    Detail::SgRule(Direction::Ingress, rule.clone()),
                )],
                format!(
                    "replace {c} in {} with the intended source CIDRs or groups",
                    sg.id
                ),
            );
            f.peerings = carried;
            out.push(f);
        }
    }
}
