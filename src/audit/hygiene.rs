//! Hygiene findings that need no intent: blackhole routes, routes to inactive peerings, peering
//! routes wider than the peer or covering the whole peer where only some subnets are used,
//! peerings with external accounts, group references that cannot match across regions, and
//! world-open rules that peering exposes. CIDR questions are answered on sets from both sides
//! of the peering, never by comparing strings.

use std::collections::BTreeSet;

use super::{Component, Finding, Kind, Severity, fingerprint};
use crate::engine::Layer;
use crate::engine::reach::{ReachOptions, reach};
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

fn component(kind: &str, id: &str, detail: String) -> Component {
    Component {
        kind: kind.into(),
        id: id.into(),
        detail,
    }
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
    }
}

pub fn findings(model: &Model, intent: Option<&Intent>, layer: Layer) -> Vec<Finding> {
    let mut out = Vec::new();
    routes(model, intent, &mut out);
    peerings(model, intent, &mut out);
    group_references(model, &mut out);
    open_to_world(model, layer, &mut out);
    out
}

/// The subnets of `peer_vpc` that intended flows from `vpc` use (allow and require rules).
fn used_subnets(
    model: &Model,
    intent: &Intent,
    vpc: &VpcId,
    peer_vpc: &VpcId,
) -> Option<BTreeSet<SubnetId>> {
    let zones = intent.resolve(model);
    let mut used = BTreeSet::new();
    let mut any_rule = false;
    for r in intent.allow.iter().chain(&intent.require) {
        let from = zones.get(&r.from).and_then(|m| m.get(vpc));
        let to = zones.get(&r.to).and_then(|m| m.get(peer_vpc));
        if let (Some(_), Some(to)) = (from, to) {
            any_rule = true;
            for s in model
                .index()
                .subnets_of(peer_vpc)
                .iter()
                .filter_map(|s| model.subnets.get(s))
            {
                if !IpSet::from_nets(s.cidrs.iter().copied())
                    .intersection(to)
                    .is_empty()
                {
                    used.insert(s.id.clone());
                }
            }
        }
    }
    any_rule.then_some(used)
}

fn routes(model: &Model, intent: Option<&Intent>, out: &mut Vec<Finding>) {
    for t in model.route_tables.values() {
        for r in &t.routes {
            let dest = r.destination.to_string();
            if r.blackhole {
                out.push(finding(
                    Kind::BlackholeRoute,
                    Severity::Low,
                    &[t.id.as_str(), &dest],
                    format!("{}: route {r} is a blackhole", t.id),
                    vec![component(
                        "route-table",
                        t.id.as_str(),
                        format!("route {r}"),
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
                        .map(|c| c.status.clone())
                        .unwrap_or_else(|| "not in the snapshot".into());
                    out.push(finding(
                        Kind::InactivePeeringRoute,
                        Severity::Low,
                        &[t.id.as_str(), &dest, pcx.as_str()],
                        format!("{}: route {r} points at peering {pcx} ({status})", t.id),
                        vec![
                            component("route-table", t.id.as_str(), format!("route {r}")),
                            component("peering", pcx.as_str(), status),
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
                        component("route-table", t.id.as_str(), format!("route {r}")),
                        component(
                            "peering",
                            pcx.as_str(),
                            format!("peer {} CIDRs {}", peer.vpc, peer_set),
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
            if !peer_set.is_subset(&route) {
                continue;
            }
            let all: BTreeSet<SubnetId> = model
                .index()
                .subnets_of(&peer.vpc)
                .iter()
                .cloned()
                .collect();
            if let Some(used) = used_subnets(model, intent, &t.vpc, &peer.vpc)
                && !used.is_empty()
                && used.len() < all.len()
            {
                let narrow = IpSet::from_nets(
                    used.iter()
                        .filter_map(|s| model.subnets.get(s))
                        .flat_map(|s| s.cidrs.iter().copied()),
                );
                out.push(finding(
                        Kind::RouteCoversWholePeer,
                        Severity::Low,
                        &[t.id.as_str(), &dest, pcx.as_str()],
                        format!("{}: route {r} covers all of peer {} but intended flows use {} of its {} subnets", t.id, peer.vpc, used.len(), all.len()),
                        vec![component("route-table", t.id.as_str(), format!("route {r}"))],
                        format!("replace the route to {dest} with {narrow}"),
                    ));
            }
        }
    }
}

fn peerings(model: &Model, intent: Option<&Intent>, out: &mut Vec<Finding>) {
    let known = |a: &AccountId| match intent {
        Some(i) if !i.accounts.is_empty() => i.is_known_account(a),
        _ => model.vpcs.values().any(|v| &v.account == a),
    };
    for c in model.peerings.values().filter(|c| c.is_active()) {
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
                    vec![component("peering", c.id.as_str(), format!("{} ({}) ↔ {} ({})", c.requester.vpc, c.requester.owner.as_ref().map(|o| o.to_string()).unwrap_or_default(), c.accepter.vpc, c.accepter.owner.as_ref().map(|o| o.to_string()).unwrap_or_default()))],
                    "keep the routes, NACLs and security groups on this peering to the partner's intended flows (and name the account in [accounts] once reviewed)".into(),
                ));
            }
        }
    }
}

fn group_references(model: &Model, out: &mut Vec<Finding>) {
    for sg in model.security_groups.values() {
        for (dir, rules) in [("ingress", &sg.ingress), ("egress", &sg.egress)] {
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
                        &[sg.id.as_str(), dir, &rule.to_string()],
                        format!("{}: {dir} rule {rule} references {g} across a cross-region peering; it never matches", sg.id),
                        vec![component("security-group", sg.id.as_str(), format!("{dir} {rule}"))],
                        format!("replace the reference to {g} with the CIDRs of the intended peer subnets"),
                    ));
                }
            }
        }
    }
}

fn open_to_world(model: &Model, layer: Layer, out: &mut Vec<Finding>) {
    // Delivered flows over peerings, at the network layer: would the world-open rule admit them?
    let rows = reach(
        model,
        &ReachOptions {
            layer: Some(Layer::Network),
            ..Default::default()
        },
    );
    let _ = layer;
    for sg in model.security_groups.values() {
        for rule in &sg.ingress {
            let RulePeer::Cidr(c) = &rule.peer else {
                continue;
            };
            if c.prefix_len() != 0 {
                continue;
            }
            let svc = match rule.protocol {
                Protocol::All => ServiceSet::all(),
                Protocol::Number(n) if Protocol::has_ports(n) => {
                    ServiceSet::protocol_ports(n, rule.ports.from, rule.ports.to)
                }
                Protocol::Number(n) => ServiceSet::protocol(n),
            };
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
                    for r in rows
                        .iter()
                        .filter(|r| r.via != "local" && r.dst_vpc == e.vpc && r.dst.contains(*a))
                    {
                        if !r.services.intersection(&svc).is_empty() {
                            vias.insert(r.via.clone());
                            sources = sources.union(&r.src);
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
            let vias: Vec<String> = vias.into_iter().collect();
            out.push(finding(
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
                    "security-group",
                    sg.id.as_str(),
                    format!("ingress {rule}"),
                )],
                format!(
                    "replace {c} in {} with the intended source CIDRs or groups",
                    sg.id
                ),
            ));
        }
    }
}
