//! All-pairs reachability over sets: the destination space of each route table is split by
//! longest-prefix match once, intersected with the subnets it reaches, and filtered by NACLs
//! (and, in the full layer, security groups) as address × service sets. No address or port is
//! enumerated; cost grows with routes, rules and subnets.
//!
//! Endpoints that behave alike are evaluated together: source subnets sharing VPC, route table
//! and NACL form one class; in the full layer, interfaces of a class sharing one set of security
//! groups form one class, and each (source class, destination class) pair is evaluated once.
//! Route partitions, NACL maps and each group's CIDR rules are computed once per snapshot.
//!
//! Results are aggregated boxes ([`ReachRow`]): source VPC and addresses, destination VPC and
//! addresses, services, the peering crossed, connectable or only delivered.

use std::collections::{BTreeMap, BTreeSet};

use foldhash::{HashMap, HashMapExt};
use std::net::IpAddr;

use ipnet::IpNet;
use rayon::prelude::*;
use serde::Serialize;

use super::Layer;
use super::explain::peered_same_region;
use crate::model::*;
use crate::sets::{AddrMap, IntervalSet, IpSet, ServiceSet};

/// What to compute.
#[derive(Clone, Debug, Default)]
pub struct ReachOptions {
    pub layer: Option<Layer>,
    /// Include flows within one VPC (default: only between VPCs).
    pub include_intra_vpc: bool,
    /// Restrict sources and destinations (addresses per VPC); `None` = everything.
    pub from: Option<BTreeMap<VpcId, IpSet>>,
    pub to: Option<BTreeMap<VpcId, IpSet>>,
    /// Only flows whose source or destination VPC is in this set (incremental analysis after
    /// a change: flows between two untouched VPCs cannot change). Only the neighbourhood of
    /// the set (it and its peers) is evaluated; `None` = everything.
    pub scope: Option<BTreeSet<VpcId>>,
    /// Only flows from these source VPCs into these destination subnets, whole (a what-if's
    /// region: the pairs an edit can change). Only their VPCs are evaluated.
    pub pairs: Option<Pairs>,
}

/// Source VPC → destination subnets: the (source VPC, destination subnet) pairs whose flows
/// are wanted, each pair's flows whole (every source address, every destination address).
pub type Pairs = BTreeMap<VpcId, BTreeSet<SubnetId>>;

/// The VPCs a set of pairs involves: its source VPCs and its destination subnets' VPCs.
pub fn pairs_vpcs(model: &Model, pairs: &Pairs) -> BTreeSet<VpcId> {
    let mut out: BTreeSet<VpcId> = pairs.keys().cloned().collect();
    for d in pairs.values().flatten() {
        if let Some(s) = model.subnets.get(d) {
            out.insert(s.vpc.clone());
        }
    }
    out
}

/// Is the pair wanted (always, without pairs)?
fn wanted_pair(opts: &ReachOptions, src_vpc: &VpcId, dst: &SubnetId) -> bool {
    opts.pairs
        .as_ref()
        .is_none_or(|p| p.get(src_vpc).is_some_and(|d| d.contains(dst)))
}

/// How a row's flows leave their source VPC: within it, or over one peering connection.
/// Prints and serializes as `local` or the connection's id.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Via {
    Local,
    Peering(PeeringId),
}

impl Via {
    pub fn peering(&self) -> Option<&PeeringId> {
        match self {
            Via::Local => None,
            Via::Peering(p) => Some(p),
        }
    }
}

impl std::fmt::Display for Via {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Via::Local => f.write_str("local"),
            Via::Peering(p) => write!(f, "{p}"),
        }
    }
}

impl Serialize for Via {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// The ways a VPC pair's flows cross (a diff's box may stand for several). Prints and
/// serializes as the vias joined by `, `.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Vias(pub BTreeSet<Via>);

impl std::fmt::Display for Vias {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, v) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{v}")?;
        }
        Ok(())
    }
}

impl Serialize for Vias {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// One aggregated box of delivered flows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ReachRow {
    pub src_vpc: VpcId,
    pub src: IpSet,
    pub dst_vpc: VpcId,
    /// The subnet the destination addresses lie in.
    pub dst_subnet: SubnetId,
    pub dst: IpSet,
    pub services: ServiceSet,
    /// Within the source VPC, or the peering connection crossed.
    pub via: Via,
    pub delivered: bool,
    pub connectable: bool,
    /// The box involves a damaged VPC (docs/failure-policy.md): it is the best reading of
    /// damaged input, not an answer.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub undetermined: bool,
}

/// A target reached by routing: destination addresses in one subnet, the source addresses of
/// the class that reach them there, and the peering crossed.
struct Target<'m> {
    subnet: &'m Subnet,
    src: IpSet,
    dst: IpSet,
    via: Option<&'m PeeringId>,
    /// Step 1 of the contract: source and destination in one subnet (no route table, no NACL).
    same_subnet: bool,
}

/// Subnets of one VPC that share a route table and a network ACL: they route and filter alike,
/// so routing is computed once for the class.
struct SubnetClass<'m> {
    vpc: &'m VpcId,
    subnets: Vec<&'m Subnet>,
}

/// A route table's longest-prefix-match partition: each route with the destinations it wins.
type Partition<'m> = Vec<(IpSet, &'m Route)>;

/// Splits the address space among a table's routes per the contract's tie-breaks.
pub fn partition<'m>(model: &Model, table: &'m RouteTable) -> Partition<'m> {
    // Every (CIDR, route) candidate with its priority: longer prefix, then CIDR over prefix
    // list, then earlier in table order.
    type Priority = (u8, u8, std::cmp::Reverse<usize>);
    let mut cands: Vec<(Priority, IpNet, usize)> = Vec::new();
    for (i, r) in table.routes.iter().enumerate() {
        match &r.destination {
            RouteDestination::Cidr(c) => {
                cands.push(((c.prefix_len(), 1, std::cmp::Reverse(i)), *c, i))
            }
            RouteDestination::PrefixList(pl) => {
                for c in model.prefix_list_cidrs(pl) {
                    cands.push(((c.prefix_len(), 0, std::cmp::Reverse(i)), *c, i));
                }
            }
        }
    }
    cands.sort_by_key(|c| std::cmp::Reverse(c.0));
    let mut covered = IpSet::new();
    let mut won: Vec<IpSet> = vec![IpSet::new(); table.routes.len()];
    for (_, net, i) in cands {
        let mine = IpSet::from_net(net).difference(&covered);
        if !mine.is_empty() {
            covered = covered.union(&mine);
            won[i] = won[i].union(&mine);
        }
    }
    won.into_iter()
        .zip(&table.routes)
        .filter(|(s, _)| !s.is_empty())
        .collect()
}

/// The services a NACL entry or SG rule covers.
fn services(protocol: Protocol, ports: PortRange) -> ServiceSet {
    match protocol {
        Protocol::All => ServiceSet::all(),
        Protocol::Number(n) if Protocol::has_ports(n) => {
            ServiceSet::protocol_ports(n, ports.from, ports.to)
        }
        Protocol::Number(n) => ServiceSet::protocol(n),
    }
}

/// What a NACL direction allows, by the other end's address: first match per packet.
fn nacl_map(acl: &NetworkAcl, egress: bool) -> AddrMap<ServiceSet> {
    let entries = if egress { &acl.egress } else { &acl.ingress };
    let mut remaining = AddrMap::constant(ServiceSet::all());
    let mut allowed = AddrMap::new();
    for e in entries {
        let bx = AddrMap::from_net(e.cidr, services(e.protocol, e.ports));
        if e.action == RuleAction::Allow {
            allowed = allowed.union(&remaining.intersection(&bx));
        }
        remaining = remaining.difference(&bx);
    }
    allowed
}

/// What is computed once per snapshot and shared by every source subnet: route-table
/// partitions and NACL maps (many subnets share one table or ACL).
struct Ctx<'m> {
    model: &'m Model,
    parts: HashMap<RouteTableId, Partition<'m>>,
    nacls: HashMap<(NetworkAclId, bool), AddrMap<ServiceSet>>,
    /// Per security group and direction (egress = true): its CIDR and prefix-list rules.
    sg_cidrs: HashMap<(SecurityGroupId, bool), AddrMap<ServiceSet>>,
    /// Per subnet: its interfaces grouped by security-group set.
    eni_classes: HashMap<SubnetId, Vec<EniClass<'m>>>,
    unfiltered: AddrMap<ServiceSet>,
}

impl<'m> Ctx<'m> {
    /// Precomputes what the VPCs in `within` need (every VPC when `None`): every subnet a
    /// source class in them routes to lies in them (scoped runs evaluate a neighbourhood).
    fn new(model: &'m Model, within: Option<&BTreeSet<VpcId>>) -> Ctx<'m> {
        let wanted = |v: &VpcId| within.is_none_or(|w| w.contains(v));
        let parts = model
            .route_tables
            .values()
            .filter(|t| wanted(&t.vpc))
            .collect::<Vec<_>>()
            .par_iter()
            .map(|t| (t.id.clone(), partition(model, t)))
            .collect();
        let nacls = model
            .network_acls
            .values()
            .filter(|a| wanted(&a.vpc))
            .collect::<Vec<_>>()
            .par_iter()
            .flat_map_iter(|a| [true, false].map(|e| ((a.id.clone(), e), nacl_map(a, e))))
            .collect();
        let subnets: Vec<&Subnet> = model.subnets.values().filter(|s| wanted(&s.vpc)).collect();
        // The groups of the interfaces in those subnets (normally groups of the same VPCs).
        let groups: Vec<&SecurityGroup> = match within {
            None => model.security_groups.values().map(|g| &**g).collect(),
            Some(_) => {
                let mut ids: BTreeSet<&SecurityGroupId> = BTreeSet::new();
                for s in &subnets {
                    for e in model.index().enis_in(&s.id) {
                        if let Some(e) = model.network_interfaces.get(e) {
                            ids.extend(e.groups.iter());
                        }
                    }
                }
                ids.into_iter()
                    .filter_map(|g| model.security_groups.get(g).map(|g| &**g))
                    .collect()
            }
        };
        let sg_cidrs = groups
            .par_iter()
            .flat_map_iter(|g| [true, false].map(|e| ((g.id.clone(), e), sg_cidr_map(model, g, e))))
            .collect();
        let eni_classes = subnets
            .par_iter()
            .map(|s| (s.id.clone(), eni_classes(model, &[s])))
            .filter(|(_, c)| !c.is_empty())
            .collect();
        Ctx {
            model,
            parts,
            nacls,
            sg_cidrs,
            eni_classes,
            unfiltered: AddrMap::constant(ServiceSet::all()),
        }
    }

    /// The NACL map of a subnet's traffic in one direction.
    fn nacl(&self, subnet: &SubnetId, egress: bool) -> &AddrMap<ServiceSet> {
        match self.model.index().nacl_of(subnet) {
            NaclBinding::Acl(id) => self
                .nacls
                .get(&(id.clone(), egress))
                .unwrap_or(&self.unfiltered),
            NaclBinding::Unfiltered => &self.unfiltered,
        }
    }
}

/// tcp/udp source ports 1024–65535 and every other protocol: what a reply may use.
fn ephemeral() -> ServiceSet {
    ServiceSet::all()
        .difference(&ServiceSet::tcp(0, 1023))
        .difference(&ServiceSet::udp(0, 1023))
}

/// Protocols for which a reply finds one source port both return NACLs allow.
fn return_services(egress: &ServiceSet, ingress: &ServiceSet) -> ServiceSet {
    let both = egress.intersection(ingress).intersection(&ephemeral());
    let mut out = ServiceSet::from_parts(
        IntervalSet::new(),
        IntervalSet::new(),
        both.other_protocols().clone(),
    );
    if !both.tcp_ports().is_empty() {
        out = out.union(&ServiceSet::protocol(Protocol::TCP));
    }
    if !both.udp_ports().is_empty() {
        out = out.union(&ServiceSet::protocol(Protocol::UDP));
    }
    out
}

fn cidr_set(cidrs: &[IpNet]) -> IpSet {
    IpSet::from_nets(cidrs.iter().copied())
}

/// Where routing takes packets from a subnet class (steps 1–3), as destination sets per
/// subnet, each with the class's source addresses that reach it.
///
/// With `only`, destinations in other VPCs are not computed at all (a scoped run: a source
/// outside the scope matters only toward it).
fn targets<'m>(
    model: &'m Model,
    parts: &HashMap<RouteTableId, Partition<'m>>,
    class: &SubnetClass<'m>,
    src_all: &IpSet,
    only: Option<&BTreeSet<VpcId>>,
) -> Vec<Target<'m>> {
    let ix = model.index();
    let wanted = |v: &VpcId| only.is_none_or(|o| o.contains(v));
    let mut out = Vec::new();
    for ss in class.subnets.iter().filter(|s| wanted(&s.vpc)) {
        let own = cidr_set(&ss.cidrs).intersection(src_all);
        if !own.is_empty() {
            out.push(Target {
                subnet: ss,
                src: own,
                dst: cidr_set(&ss.cidrs),
                via: None,
                same_subnet: true,
            });
        }
    }
    let Some(part) = ix
        .route_table_of(class.subnets[0])
        .and_then(|t| parts.get(t))
    else {
        return out;
    };
    let mut routed: Vec<(&'m Subnet, IpSet, Option<&'m PeeringId>)> = Vec::new();
    for (won, r) in part {
        if r.blackhole {
            continue;
        }
        match &r.target {
            RouteTarget::Local if !wanted(class.vpc) => {}
            RouteTarget::Local => {
                for sd in ix
                    .subnets_of(class.vpc)
                    .iter()
                    .filter_map(|s| model.subnets.get(s))
                {
                    routed.push((sd, won.intersection(&cidr_set(&sd.cidrs)), None));
                }
            }
            RouteTarget::Peering(pcx) => {
                // An unseen VPC is never a destination (step 23), even when damaged data
                // gives it subnets.
                let Some(peer) = model
                    .peerings
                    .get(pcx)
                    .filter(|c| c.is_active())
                    .and_then(|c| c.peer_of(class.vpc))
                    .filter(|p| wanted(&p.vpc) && model.unseen_vpc(&p.vpc).is_none())
                else {
                    continue;
                };
                let won = won.intersection(&cidr_set(&peer.cidrs));
                for sd in ix
                    .subnets_of(&peer.vpc)
                    .iter()
                    .filter_map(|s| model.subnets.get(s))
                {
                    routed.push((sd, won.intersection(&cidr_set(&sd.cidrs)), Some(pcx)));
                }
            }
            RouteTarget::Other(_) => {}
        }
    }
    // A destination inside a source's own subnet never reaches routing (step 1): sources whose
    // subnet overlaps the destination set are split off and lose those destinations.
    for (sd, dst, via) in routed {
        if dst.is_empty() {
            continue;
        }
        let mut clean = src_all.clone();
        for ss in &class.subnets {
            let own = cidr_set(&ss.cidrs);
            if own.is_disjoint(&dst) {
                continue;
            }
            clean = clean.difference(&own);
            let (src, rest) = (own.intersection(src_all), dst.difference(&own));
            if !src.is_empty() && !rest.is_empty() {
                out.push(Target {
                    subnet: sd,
                    src,
                    dst: rest,
                    via,
                    same_subnet: false,
                });
            }
        }
        if !clean.is_empty() {
            out.push(Target {
                subnet: sd,
                src: clean,
                dst,
                via,
                same_subnet: false,
            });
        }
    }
    out
}

/// The source addresses in `ss` whose replies from `sd` route back to `ss` the same way.
fn return_routable(
    model: &Model,
    parts: &HashMap<RouteTableId, Partition<'_>>,
    sd: &Subnet,
    src: &IpSet,
    src_vpc: &VpcId,
    via: Option<&PeeringId>,
) -> IpSet {
    let ix = model.index();
    let Some(part) = ix.route_table_of(sd).and_then(|t| parts.get(t)) else {
        return IpSet::new();
    };
    let mut ok = IpSet::new();
    for (won, r) in part {
        if r.blackhole {
            continue;
        }
        let back = match (&r.target, via) {
            // A local route delivers each address to the subnet that holds it: its source's.
            (RouteTarget::Local, None) if &sd.vpc == src_vpc => won.intersection(src),
            (RouteTarget::Peering(p), Some(v)) if p == v => {
                match model
                    .peerings
                    .get(p)
                    .filter(|c| c.is_active())
                    .and_then(|c| c.peer_of(&sd.vpc))
                {
                    Some(peer) if &peer.vpc == src_vpc => {
                        won.intersection(src).intersection(&cidr_set(&peer.cidrs))
                    }
                    _ => continue,
                }
            }
            _ => continue,
        };
        ok = ok.union(&back);
    }
    // An address inside the replying subnet's own CIDR is "same subnet" there, never routed.
    ok.difference(&cidr_set(&sd.cidrs))
}

thread_local! {
    static RUNS: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// How many times [`reach`] was called on this thread: timing-free evidence, for tests, that a
/// command computes its reach once (an [`crate::analysis::Analysis`] shares it).
pub fn runs_on_this_thread() -> u64 {
    RUNS.with(|r| r.get())
}

/// Computes all-pairs reachability.
pub fn reach(model: &Model, opts: &ReachOptions) -> Vec<ReachRow> {
    let rows = std::sync::Mutex::new(Vec::new());
    reach_each(model, opts, |mut batch| {
        rows.lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .append(&mut batch)
    });
    let mut rows = merge_rows(
        rows.into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner),
    );
    let d = &model.damage;
    if !d.is_empty() {
        for r in &mut rows {
            r.undetermined = d.touches(&r.src_vpc) || d.touches(&r.dst_vpc);
        }
    }
    rows
}

/// [`reach`] as it is produced: `f` receives the rows of one source class (or unseen VPC) at a
/// time, in parallel and in no particular order, neither merged nor sorted nor marked
/// undetermined. Consumers that aggregate as rows arrive (the audit's exposures) never hold
/// them all.
pub fn reach_each(model: &Model, opts: &ReachOptions, f: impl Fn(Vec<ReachRow>) + Sync) {
    RUNS.with(|r| r.set(r.get() + 1));
    let layer = opts.layer.unwrap_or(Layer::Network);
    let mut within = opts.scope.as_ref().map(|s| model.neighbourhood(s));
    if let Some(p) = &opts.pairs {
        let mut vpcs = pairs_vpcs(model, p);
        if let Some(w) = within {
            vpcs.retain(|v| w.contains(v));
        }
        within = Some(vpcs);
    }
    let ctx = Ctx::new(model, within.as_ref());
    let ix = model.index();
    let mut classes: BTreeMap<(&VpcId, Option<&RouteTableId>, &NaclBinding), Vec<&Subnet>> =
        BTreeMap::new();
    // A source outside the scope matters only toward a peer inside it. Subnets naming a VPC
    // the snapshot knows only from peering records (damaged data) are not sources: that VPC's
    // flows are the unseen peer's, as explain evaluates them.
    for s in model.subnets.values().filter(|s| {
        within.as_ref().is_none_or(|w| w.contains(&s.vpc))
            && opts.pairs.as_ref().is_none_or(|p| p.contains_key(&s.vpc))
            && model.unseen_vpc(&s.vpc).is_none()
    }) {
        classes
            .entry((&s.vpc, ix.route_table_of(s), ix.nacl_of(&s.id)))
            .or_default()
            .push(s);
    }
    let classes: Vec<SubnetClass<'_>> = classes
        .into_iter()
        .map(|((vpc, _, _), subnets)| SubnetClass { vpc, subnets })
        .collect();
    classes
        .par_iter()
        .for_each(|c| f(class_rows(&ctx, c, layer, opts)));
    // Unseen VPCs are sources too (semantics step 22); never destinations (step 23).
    let unseen: Vec<&UnseenVpc> = model
        .unseen_vpcs()
        .values()
        .filter(|u| {
            within.as_ref().is_none_or(|w| w.contains(&u.id))
                && opts.pairs.as_ref().is_none_or(|p| p.contains_key(&u.id))
        })
        .collect();
    unseen
        .par_iter()
        .for_each(|u| f(unseen_rows(&ctx, u, layer, opts)));
}

/// The order rows are reported in (sets compared as printed).
fn row_key(r: &ReachRow) -> (VpcId, VpcId, Via, bool, String, String, String) {
    (
        r.src_vpc.clone(),
        r.dst_vpc.clone(),
        r.via.clone(),
        !r.connectable,
        r.src.to_string(),
        r.dst.to_string(),
        r.services.to_string(),
    )
}

/// Unions rows that differ only in their source set, then puts them in report order. Rows are
/// grouped by comparing the sets themselves; only the merged rows are printed for the sort.
pub fn merge_rows(mut rows: Vec<ReachRow>) -> Vec<ReachRow> {
    fn group(r: &ReachRow) -> (&VpcId, &VpcId, &Via, bool, &IpSet, &ServiceSet) {
        (
            &r.src_vpc,
            &r.dst_vpc,
            &r.via,
            !r.connectable,
            &r.dst,
            &r.services,
        )
    }
    rows.par_sort_unstable_by(|a, b| group(a).cmp(&group(b)));
    let mut out: Vec<ReachRow> = Vec::with_capacity(rows.len());
    for r in rows {
        match out.last_mut() {
            Some(last) if group(last) == group(&r) => last.src = last.src.union(&r.src),
            _ => out.push(r),
        }
    }
    out.par_sort_by_cached_key(row_key);
    out
}

fn class_rows(
    ctx: &Ctx<'_>,
    class: &SubnetClass<'_>,
    layer: Layer,
    opts: &ReachOptions,
) -> Vec<ReachRow> {
    let (model, parts) = (ctx.model, &ctx.parts);
    let ss = class.subnets[0];
    let mut src_all = IpSet::from_nets(class.subnets.iter().flat_map(|s| s.cidrs.iter().copied()));
    if let Some(from) = &opts.from {
        src_all = src_all.intersection(from.get(class.vpc).unwrap_or(&IpSet::new()));
    }
    if src_all.is_empty() {
        return Vec::new();
    }
    let mut rows = Vec::new();
    let sources = SourceClasses {
        vpc: class.vpc,
        classes: eni_classes(model, &class.subnets),
    };
    let mut sg_maps: SgMapCache<'_> = HashMap::new();
    let only = opts.scope.as_ref().filter(|s| !s.contains(class.vpc));
    for t in targets(model, parts, class, &src_all, only) {
        let sd = t.subnet;
        let src_set = t.src;
        if &sd.vpc == class.vpc && !opts.include_intra_vpc {
            continue;
        }
        if !wanted_pair(opts, class.vpc, &sd.id) {
            continue;
        }
        if let Some(scope) = &opts.scope
            && !scope.contains(class.vpc)
            && !scope.contains(&sd.vpc)
        {
            continue;
        }
        let mut dst = t.dst;
        if let Some(to) = &opts.to {
            dst = dst.intersection(to.get(&sd.vpc).unwrap_or(&IpSet::new()));
        }
        if dst.is_empty() {
            continue;
        }
        let crosses = !t.same_subnet;
        let all = &ctx.unfiltered;
        let (eg, ig, reg, rig) = if crosses {
            (
                ctx.nacl(&ss.id, true),
                ctx.nacl(&sd.id, false),
                ctx.nacl(&sd.id, true),
                ctx.nacl(&ss.id, false),
            )
        } else {
            (all, all, all, all)
        };
        // Connectable: replies route back the same way, and return NACLs share an ephemeral port.
        let back = if crosses {
            return_routable(model, parts, sd, &src_set, class.vpc, t.via)
        } else {
            src_set.clone()
        };
        let (connectable, only_delivered) = filtered(
            Nacls {
                egress: eg,
                ingress: ig,
                return_egress: reg,
                return_ingress: rig,
            },
            &src_set,
            &back,
            &dst,
        );
        let via = t.via.map(|p| Via::Peering(p.clone())).unwrap_or(Via::Local);
        for (map, is_conn) in [(connectable, true), (only_delivered, false)] {
            match layer {
                Layer::Network => emit(&mut rows, &map, &ss.vpc, sd, &via, is_conn),
                Layer::Full => {
                    let full = full_layer(ctx, &map, &sources, sd, &mut sg_maps);
                    emit(&mut rows, &full, &ss.vpc, sd, &via, is_conn);
                }
            }
        }
    }
    rows
}

/// The four NACL maps a crossing flow meets: forward egress (source subnet) and ingress
/// (destination subnet), then the reply's egress and ingress.
struct Nacls<'a> {
    egress: &'a AddrMap<ServiceSet>,
    ingress: &'a AddrMap<ServiceSet>,
    return_egress: &'a AddrMap<ServiceSet>,
    return_ingress: &'a AddrMap<ServiceSet>,
}

/// Source → (destination → services) for flows from `src` to `dst` that the forward NACLs
/// allow, split into the connectable ones (sources in `back`, whose replies route back, and a
/// source port both return NACLs allow) and the only-delivered rest.
fn filtered(
    n: Nacls<'_>,
    src: &IpSet,
    back: &IpSet,
    dst: &IpSet,
) -> (AddrMap<AddrMap<ServiceSet>>, AddrMap<AddrMap<ServiceSet>>) {
    // A packet has one address family: IPv4 sources reach IPv4 destinations only.
    let dst_v4 = dst.intersection(&IpSet::all_v4());
    let dst_v6 = dst.intersection(&IpSet::all_v6());
    let same_family = |a: IpAddr| if a.is_ipv4() { &dst_v4 } else { &dst_v6 };
    // The pieces of one map's `iter` are disjoint: each map is built in one sweep.
    let delivered: AddrMap<AddrMap<ServiceSet>> = AddrMap::from_pieces(
        n.ingress
            .restrict(src)
            .iter()
            .map(|(lo, hi, si)| {
                let inner = n
                    .egress
                    .restrict(same_family(lo))
                    .map_values(|se| se.intersection(si));
                (lo, hi, inner)
            })
            .collect(),
    );
    let connectable: AddrMap<AddrMap<ServiceSet>> = AddrMap::from_pieces(
        n.return_egress
            .restrict(&src.intersection(back))
            .iter()
            .map(|(lo, hi, re)| {
                let inner = n
                    .return_ingress
                    .restrict(same_family(lo))
                    .map_values(|ri| return_services(re, ri));
                (lo, hi, inner)
            })
            .collect(),
    );
    let connectable = connectable.intersection(&delivered);
    let only_delivered = delivered.difference(&connectable);
    (connectable, only_delivered)
}

/// Step 22 over sets: flows from an unseen VPC `u`. Its addresses may send anything over each
/// active connection whose other side the snapshot holds, to that side's CIDRs as the record
/// lists them; the destination subnet's NACL (and, full layer, the destination interfaces'
/// groups, whose group references never match an unseen source) decide. Replies route back
/// when the destination subnet's route for the source is that connection and its NACL lets a
/// reply out.
fn unseen_rows(ctx: &Ctx<'_>, u: &UnseenVpc, layer: Layer, opts: &ReachOptions) -> Vec<ReachRow> {
    let model = ctx.model;
    let ix = model.index();
    let mut src_all = cidr_set(&u.cidrs);
    if let Some(from) = &opts.from {
        src_all = src_all.intersection(from.get(&u.id).unwrap_or(&IpSet::new()));
    }
    let mut rows = Vec::new();
    if src_all.is_empty() {
        return rows;
    }
    let in_scope = |v: &VpcId| opts.scope.as_ref().is_none_or(|s| s.contains(v));
    for pcx in &u.peerings {
        let Some((conn, other)) = model
            .peerings
            .get(pcx)
            .filter(|c| c.is_active())
            .and_then(|c| c.peer_of(&u.id).map(|o| (c, o)))
        else {
            continue;
        };
        if !model.vpcs.contains_key(&other.vpc) || !(in_scope(&u.id) || in_scope(&other.vpc)) {
            continue;
        }
        let reachable = cidr_set(&other.cidrs);
        for sd in ix
            .subnets_of(&other.vpc)
            .iter()
            .filter_map(|s| model.subnets.get(s))
        {
            if !wanted_pair(opts, &u.id, &sd.id) {
                continue;
            }
            let mut dst = reachable.intersection(&cidr_set(&sd.cidrs));
            if let Some(to) = &opts.to {
                dst = dst.intersection(to.get(&sd.vpc).unwrap_or(&IpSet::new()));
            }
            if dst.is_empty() {
                continue;
            }
            // The reply: Sd's route for the source must be this connection (not a blackhole).
            let back = ix
                .route_table_of(sd)
                .and_then(|t| ctx.parts.get(t))
                .map(|part| {
                    part.iter()
                        .filter(|(_, r)| {
                            !r.blackhole && r.target == RouteTarget::Peering(conn.id.clone())
                        })
                        .fold(IpSet::new(), |acc, (won, _)| acc.union(won))
                })
                .unwrap_or_default();
            let all = &ctx.unfiltered;
            let (connectable, only_delivered) = filtered(
                Nacls {
                    egress: all,
                    ingress: ctx.nacl(&sd.id, false),
                    return_egress: ctx.nacl(&sd.id, true),
                    return_ingress: all,
                },
                &src_all,
                &back,
                &dst,
            );
            let via = Via::Peering(conn.id.clone());
            for (map, is_conn) in [(connectable, true), (only_delivered, false)] {
                let map = match layer {
                    Layer::Network => map,
                    Layer::Full => full_layer_unseen(ctx, &map, sd, &u.id),
                };
                emit(&mut rows, &map, &u.id, sd, &via, is_conn);
            }
        }
    }
    rows
}

/// [`full_layer`] for a source in an unseen VPC: no source interface and no egress rules; the
/// destination interfaces' ingress rules admit it by CIDR and prefix list only.
fn full_layer_unseen(
    ctx: &Ctx<'_>,
    map: &AddrMap<AddrMap<ServiceSet>>,
    sd: &Subnet,
    src_vpc: &VpcId,
) -> AddrMap<AddrMap<ServiceSet>> {
    let mut out = Vec::new();
    let Some(dst_classes) = ctx.eni_classes.get(&sd.id) else {
        return AddrMap::new();
    };
    for b in dst_classes {
        let ingress = sg_map(ctx, b.groups, false, &[], src_vpc);
        for (lo, hi, inner) in map.iter() {
            let inner = inner.restrict(&b.addresses);
            if inner.is_empty() {
                continue;
            }
            for (l2, h2, admitted) in ingress.restrict(&IpSet::from_addr_range(lo, hi)).iter() {
                let cell = inner.map_values(|v| v.intersection(admitted));
                if !cell.is_empty() {
                    out.push((l2, h2, cell));
                }
            }
        }
    }
    AddrMap::from_pieces(out)
}

/// Interfaces of one subnet class that carry the same security groups: they behave alike, so each
/// (source class, destination class) pair is evaluated once, over address sets.
struct EniClass<'m> {
    groups: &'m [SecurityGroupId],
    addresses: IpSet,
}

fn eni_classes<'m>(model: &'m Model, subnets: &[&Subnet]) -> Vec<EniClass<'m>> {
    let mut by: BTreeMap<&'m [SecurityGroupId], IpSet> = BTreeMap::new();
    for e in subnets
        .iter()
        .flat_map(|s| model.index().enis_in(&s.id))
        .filter_map(|e| model.network_interfaces.get(e))
    {
        let set = by.entry(e.groups.as_slice()).or_default();
        *set = set.union(&IpSet::from_nets(
            e.addresses.iter().map(|a| IpNet::from(*a)),
        ));
    }
    by.into_iter()
        .map(|(groups, addresses)| EniClass { groups, addresses })
        .collect()
}

/// What a class's security groups admit in one direction toward the other end, by the other
/// end's address: CIDR and prefix-list rules where their CIDRs lie, group references
/// everywhere when the other class carries the group in a VPC the reference can reach.
fn sg_map(
    ctx: &Ctx<'_>,
    groups: &[SecurityGroupId],
    egress: bool,
    other_groups: &[SecurityGroupId],
    other_vpc: &VpcId,
) -> AddrMap<ServiceSet> {
    let model = ctx.model;
    let mut out = AddrMap::new();
    for sg in groups.iter().filter_map(|g| model.security_groups.get(g)) {
        if let Some(m) = ctx.sg_cidrs.get(&(sg.id.clone(), egress)) {
            out = out.union(m);
        }
        let rules = if egress { &sg.egress } else { &sg.ingress };
        let mut by_group = ServiceSet::new();
        for r in rules {
            if let RulePeer::Group(g) = &r.peer
                && other_groups.contains(g)
                && (&sg.vpc == other_vpc || peered_same_region(model, &sg.vpc, other_vpc))
            {
                by_group = by_group.union(&services(r.protocol, r.ports));
            }
        }
        if !by_group.is_empty() {
            out = out.union(&AddrMap::constant(by_group));
        }
    }
    out
}

/// The CIDR and prefix-list rules of one group in one direction, as an address map.
fn sg_cidr_map(model: &Model, sg: &SecurityGroup, egress: bool) -> AddrMap<ServiceSet> {
    let rules = if egress { &sg.egress } else { &sg.ingress };
    let mut entries: Vec<(IpNet, ServiceSet)> = Vec::new();
    for r in rules {
        let svc = services(r.protocol, r.ports);
        match &r.peer {
            RulePeer::Cidr(c) => entries.push((*c, svc)),
            RulePeer::PrefixList(pl) => entries.extend(
                model
                    .prefix_list_cidrs(pl)
                    .iter()
                    .map(|c| (*c, svc.clone())),
            ),
            RulePeer::Group(_) => {}
        }
    }
    AddrMap::from_nets(entries)
}

/// Restricts a network-layer box map to interface addresses and their security groups, one
/// (source class, destination class) pair at a time.
fn full_layer<'m>(
    ctx: &Ctx<'m>,
    map: &AddrMap<AddrMap<ServiceSet>>,
    src: &SourceClasses<'m>,
    sd: &'m Subnet,
    sg_maps: &mut SgMapCache<'m>,
) -> AddrMap<AddrMap<ServiceSet>> {
    // Cells of every class pair, unioned in one sweep (those of one source class never
    // overlap another's; destination classes of one source range may).
    let mut out = Vec::new();
    let Some(dst_classes) = ctx.eni_classes.get(&sd.id) else {
        return AddrMap::new();
    };
    for a in &src.classes {
        let from_a = map.restrict(&a.addresses);
        if from_a.is_empty() {
            continue;
        }
        for b in dst_classes {
            let egress_key = (a.groups, b.groups, &sd.vpc, true);
            let ingress_key = (b.groups, a.groups, src.vpc, false);
            sg_maps
                .entry(egress_key)
                .or_insert_with(|| sg_map(ctx, a.groups, true, b.groups, &sd.vpc));
            sg_maps
                .entry(ingress_key)
                .or_insert_with(|| sg_map(ctx, b.groups, false, a.groups, src.vpc));
            let (egress, ingress) = (&sg_maps[&egress_key], &sg_maps[&ingress_key]);
            for (lo, hi, inner) in from_a.iter() {
                let inner = inner.restrict(&b.addresses).intersection(egress);
                if inner.is_empty() {
                    continue;
                }
                for (l2, h2, admitted) in ingress.restrict(&IpSet::from_addr_range(lo, hi)).iter() {
                    let cell = inner.map_values(|v| v.intersection(admitted));
                    if !cell.is_empty() {
                        out.push((l2, h2, cell));
                    }
                }
            }
        }
    }
    AddrMap::from_pieces(out)
}

/// The interface classes of a subnet class (merged by security-group set across its subnets).
struct SourceClasses<'m> {
    vpc: &'m VpcId,
    classes: Vec<EniClass<'m>>,
}

/// Security-group maps per (own groups, other end's groups, other end's VPC, egress), shared
/// by every destination a source class reaches.
type SgMapCache<'m> = HashMap<
    (
        &'m [SecurityGroupId],
        &'m [SecurityGroupId],
        &'m VpcId,
        bool,
    ),
    AddrMap<ServiceSet>,
>;

fn emit(
    rows: &mut Vec<ReachRow>,
    map: &AddrMap<AddrMap<ServiceSet>>,
    src_vpc: &VpcId,
    sd: &Subnet,
    via: &Via,
    connectable: bool,
) {
    for (lo, hi, inner) in map.iter() {
        for (dst, services) in inner.group_by_value() {
            if services.is_empty() {
                continue;
            }
            rows.push(ReachRow {
                src_vpc: src_vpc.clone(),
                src: IpSet::from_addr_range(lo, hi),
                dst_vpc: sd.vpc.clone(),
                dst_subnet: sd.id.clone(),
                dst,
                services,
                via: via.clone(),
                delivered: true,
                connectable,
                undetermined: false,
            });
        }
    }
}
