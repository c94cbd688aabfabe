//! The region a change can alter, finer than its VPCs: the (source VPC, destination subnet)
//! pairs whose flows an edit of routes, network-ACL entries or security-group rules can change
//! (issue 14, item 4). A hub's route to a /28 then costs the few subnets the /28 touches and
//! the sources of replies from there, not every flow between the hub and its peers.
//!
//! - **A route** to `P` in table `T` decides only packets to `P` from the subnets using `T`
//!   (longest-prefix match elsewhere is unchanged), and replies from those subnets to sources in
//!   `P`: the pairs (T's VPC, every subnet overlapping `P`) and (every VPC with addresses in `P`,
//!   every subnet using `T`).
//! - **A NACL entry** for `C` in ACL `A` decides only packets whose peer address is in `C`
//!   (first match is unchanged for the others) crossing a subnet bound to `A`: the pairs (A's
//!   VPC, every subnet overlapping `C`) and (every VPC with addresses in `C`, every subnet bound
//!   to `A`).
//! - **A security-group rule** for peer `X` in group `G` decides only flows between `G`'s
//!   members and `X` (a referenced group: its members' addresses): ingress, the pairs (every VPC
//!   with addresses in `X`, the members' subnets); egress, (the members' VPCs, every subnet
//!   overlapping `X`).
//!
//! Only VPCs that can exchange packets are looked at: the edited object's VPC and its peers.
//! Each pair's flows are then computed whole, so a finding's box is never partial; and a
//! requirement whose zones meet a pair gets every subnet of its destination VPC, so its missing
//! flows are computed whole too ([`close_over_requirements`]). Anything else — associations,
//! main tables, tables, ACLs or groups created or deleted, peerings, prefix lists, subnets,
//! interfaces — is structural: `None`, and the caller keeps the VPC scope.

use std::collections::{BTreeMap, BTreeSet};

use ipnet::IpNet;

use crate::engine::Layer;
use crate::engine::reach::Pairs;
use crate::intent::Intent;
use crate::model::*;
use crate::sets::IpSet;

/// The pairs an edit inside `vpcs` can change, or `None` when an edit is structural.
pub fn region(before: &Model, after: &Model, vpcs: &BTreeSet<VpcId>) -> Option<Pairs> {
    // What the region reasoning takes as fixed.
    let same = |a: bool| a.then_some(());
    same(
        same_map(&before.vpcs, &after.vpcs)
            && same_map(&before.subnets, &after.subnets)
            && same_map(&before.network_interfaces, &after.network_interfaces)
            && before.peerings == after.peerings
            && before.prefix_lists == after.prefix_lists,
    )?;
    let mut pairs = Pairs::new();
    // The same ids on both sides (each before id is looked up after, below): nothing created
    // or deleted.
    same(
        before.route_tables.len() == after.route_tables.len()
            && before.network_acls.len() == after.network_acls.len()
            && before.security_groups.len() == after.security_groups.len(),
    )?;

    for (id, b) in &before.route_tables {
        let a = after.route_tables.get(id)?;
        if std::sync::Arc::ptr_eq(a, b) || **a == **b {
            continue;
        }
        if !vpcs.contains(&b.vpc)
            || (a.vpc != b.vpc || a.main != b.main || a.subnets != b.subnets)
            || a.association_ids != b.association_ids
        {
            return None;
        }
        let mut changed: Vec<&Route> = symmetric(&b.routes, &a.routes);
        if changed.is_empty() && a.routes != b.routes {
            // The same routes in another order (order breaks ties): all of them.
            changed = b.routes.iter().collect();
        }
        let p = IpSet::from_nets(changed.iter().flat_map(|r| destination(before, r)));
        let using: Vec<SubnetId> = subnets_of(before, &b.vpc)
            .filter(|s| before.index().route_table_of(s) == Some(&b.id))
            .map(|s| s.id.clone())
            .collect();
        both_ways(before, &b.vpc, &p, &using, &mut pairs);
    }
    for (id, b) in &before.network_acls {
        let a = after.network_acls.get(id)?;
        if std::sync::Arc::ptr_eq(a, b) || **a == **b {
            continue;
        }
        if !vpcs.contains(&b.vpc)
            || a.vpc != b.vpc
            || a.is_default != b.is_default
            || a.subnets != b.subnets
            || a.association_ids != b.association_ids
        {
            return None;
        }
        let mut changed: Vec<&NaclEntry> = symmetric(&b.ingress, &a.ingress)
            .into_iter()
            .chain(symmetric(&b.egress, &a.egress))
            .collect();
        if changed.is_empty() && (a.ingress != b.ingress || a.egress != b.egress) {
            // The same entries in another order: all of them.
            changed = b.ingress.iter().chain(&b.egress).collect();
        }
        let c = IpSet::from_nets(changed.iter().map(|e| e.cidr));
        let bound: Vec<SubnetId> = subnets_of(before, &b.vpc)
            .filter(|s| matches!(before.index().nacl_of(&s.id), NaclBinding::Acl(x) if x == id))
            .map(|s| s.id.clone())
            .collect();
        both_ways(before, &b.vpc, &c, &bound, &mut pairs);
    }
    for (id, b) in &before.security_groups {
        let a = after.security_groups.get(id)?;
        if std::sync::Arc::ptr_eq(a, b) || **a == **b {
            continue;
        }
        if a.vpc != b.vpc || a.name != b.name {
            return None;
        }
        let members: Vec<&NetworkInterface> = before
            .index()
            .members_of(id)
            .iter()
            .filter_map(|e| before.network_interfaces.get(e))
            .collect();
        let member_vpcs: BTreeSet<VpcId> = members.iter().map(|e| e.vpc.clone()).collect();
        let member_subnets: BTreeSet<SubnetId> = members.iter().map(|e| e.subnet.clone()).collect();
        if !vpcs.contains(&b.vpc) {
            return None;
        }
        let ingress = peers(before, &symmetric(&b.ingress, &a.ingress));
        let egress = peers(before, &symmetric(&b.egress, &a.egress));
        let near = before.neighbourhood(&member_vpcs);
        // Ingress: sources in the peers, into the members' subnets.
        for s in sources_in(before, &near, &ingress) {
            pairs
                .entry(s)
                .or_default()
                .extend(member_subnets.iter().cloned());
        }
        // Egress: from the members' VPCs, into subnets overlapping the peers.
        let targets = subnets_in(before, &near, &egress);
        for v in &member_vpcs {
            pairs
                .entry(v.clone())
                .or_default()
                .extend(targets.iter().cloned());
        }
    }
    pairs.retain(|_, d| !d.is_empty());
    Some(pairs)
}

/// A requirement whose zones meet a pair gets every subnet of its destination VPC for that
/// source: its missing flows are computed per VPC pair, whole.
pub fn close_over_requirements(
    model: &Model,
    intent: Option<&Intent>,
    layer: Layer,
    pairs: &mut Pairs,
) {
    let Some(intent) = intent else { return };
    let vpcs = crate::engine::reach::pairs_vpcs(model, pairs);
    let zones = intent.resolve_within(model, Some(&vpcs));
    let empty = BTreeMap::new();
    let mut add: Vec<(VpcId, VpcId)> = Vec::new();
    for r in intent
        .require
        .iter()
        .filter(|r| r.layer.is_none_or(|l| l == layer))
    {
        let from = zones.get(&r.from).unwrap_or(&empty);
        let to = zones.get(&r.to).unwrap_or(&empty);
        for (src, dsts) in pairs.iter() {
            if !from.contains_key(src) {
                continue;
            }
            for d in dsts {
                if let Some(s) = model.subnets.get(d)
                    && to.contains_key(&s.vpc)
                {
                    add.push((src.clone(), s.vpc.clone()));
                }
            }
        }
    }
    for (src, dst_vpc) in add {
        pairs
            .entry(src)
            .or_default()
            .extend(model.index().subnets_of(&dst_vpc).iter().cloned());
    }
}

fn same_map<K: Ord, V: PartialEq>(
    a: &std::sync::Arc<BTreeMap<K, V>>,
    b: &std::sync::Arc<BTreeMap<K, V>>,
) -> bool {
    std::sync::Arc::ptr_eq(a, b) || **a == **b
}

/// The items in one list and not the other.
fn symmetric<'a, T: PartialEq>(before: &'a [T], after: &'a [T]) -> Vec<&'a T> {
    before
        .iter()
        .filter(|x| !after.contains(x))
        .chain(after.iter().filter(|x| !before.contains(x)))
        .collect()
}

/// A route's destination addresses.
fn destination(model: &Model, r: &Route) -> Vec<IpNet> {
    match &r.destination {
        RouteDestination::Cidr(c) => vec![*c],
        RouteDestination::PrefixList(pl) => model.prefix_list_cidrs(pl).to_vec(),
    }
}

/// The addresses security-group rules admit or reach: CIDRs, prefix lists' entries, and a
/// referenced group's members' addresses.
fn peers(model: &Model, rules: &[&SgRule]) -> IpSet {
    let mut nets: Vec<IpNet> = Vec::new();
    for r in rules {
        match &r.peer {
            RulePeer::Cidr(c) => nets.push(*c),
            RulePeer::PrefixList(pl) => nets.extend(model.prefix_list_cidrs(pl)),
            RulePeer::Group(g) => nets.extend(
                model
                    .index()
                    .members_of(g)
                    .iter()
                    .filter_map(|e| model.network_interfaces.get(e))
                    .flat_map(|e| e.addresses.iter().map(|a| IpNet::from(*a))),
            ),
        }
    }
    IpSet::from_nets(nets)
}

fn subnets_of<'m>(model: &'m Model, vpc: &VpcId) -> impl Iterator<Item = &'m Subnet> {
    model
        .index()
        .subnets_of(vpc)
        .iter()
        .filter_map(|s| model.subnets.get(s))
}

/// Subnets of `vpcs` whose CIDRs meet `set`.
fn subnets_in(model: &Model, vpcs: &BTreeSet<VpcId>, set: &IpSet) -> BTreeSet<SubnetId> {
    if set.is_empty() {
        return BTreeSet::new();
    }
    vpcs.iter()
        .flat_map(|v| subnets_of(model, v))
        .filter(|s| !IpSet::from_nets(s.cidrs.iter().copied()).is_disjoint(set))
        .map(|s| s.id.clone())
        .collect()
}

/// VPCs of `vpcs` (and unseen VPCs among them) with source addresses in `set`.
fn sources_in(model: &Model, vpcs: &BTreeSet<VpcId>, set: &IpSet) -> BTreeSet<VpcId> {
    if set.is_empty() {
        return BTreeSet::new();
    }
    vpcs.iter()
        .filter(|v| match model.unseen_vpc(v) {
            Some(u) => !IpSet::from_nets(u.cidrs.iter().copied()).is_disjoint(set),
            None => subnets_of(model, v)
                .any(|s| !IpSet::from_nets(s.cidrs.iter().copied()).is_disjoint(set)),
        })
        .cloned()
        .collect()
}

/// Flows from `vpc` to subnets (near it) overlapping `set`, and flows from sources (near it)
/// in `set` to the subnets `here` (those using the edited table or ACL).
fn both_ways(model: &Model, vpc: &VpcId, set: &IpSet, here: &[SubnetId], pairs: &mut Pairs) {
    let near = model.neighbourhood(&BTreeSet::from([vpc.clone()]));
    let there = subnets_in(model, &near, set);
    if !there.is_empty() {
        pairs.entry(vpc.clone()).or_default().extend(there);
    }
    if !here.is_empty() {
        for s in sources_in(model, &near, set) {
            pairs.entry(s).or_default().extend(here.iter().cloned());
        }
    }
}
