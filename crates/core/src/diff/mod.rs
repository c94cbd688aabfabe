//! Pre-change impact: what a change does to reachability and to the audit. Compares two models
//! (two snapshots, or a snapshot and the same snapshot with a proposed change applied) and
//! reports flows newly delivered (new exposure), flows no longer delivered or no longer
//! connectable (breakage), and, with an intent, the findings added and resolved.
//!
//! The comparison is incremental: only flows from or to the VPCs the change touches can
//! differ ([`changed_vpcs`], or the editor's record for what-if), so both sides are evaluated
//! over that scope and its peers only. Flow sets are compared exactly, as address × address ×
//! service relations per (source VPC, destination VPC), never by comparing rows as text.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

pub mod region;

use crate::analysis::{Analysis, default_layer};
use crate::audit::{AuditReport, Finding, Kind, Severity};
use crate::change::Applied;
use crate::engine::Layer;
use crate::engine::reach::{ReachRow, Vias};
use crate::intent::Intent;
use crate::model::*;
use crate::sets::{AddrMap, IpSet, ServiceSet};

/// What to compare.
#[derive(Clone, Debug, Default)]
pub struct DiffOptions<'a> {
    /// Default: the intent's layer, else full when the snapshot has network interfaces.
    pub layer: Option<Layer>,
    /// Also compare flows within one VPC.
    pub include_intra_vpc: bool,
    pub intent: Option<&'a Intent>,
    /// Evaluate every flow from or to the scope's VPCs, even where the edits allow the finer
    /// region of (source VPC, destination subnet) pairs (`region`): the reference the tests
    /// hold the region against.
    pub whole_vpcs: bool,
}

/// How a flow box changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FlowChangeKind {
    /// Delivered after, not before: new exposure.
    NewlyDelivered,
    /// Delivered before, not after: breakage.
    NoLongerDelivered,
    /// Connectable before, still delivered after but replies no longer return: breakage.
    NoLongerConnectable,
    /// Delivered before but not connectable, connectable after: the change fixes replies.
    NewlyConnectable,
}

impl FlowChangeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FlowChangeKind::NewlyDelivered => "newly-delivered",
            FlowChangeKind::NoLongerDelivered => "no-longer-delivered",
            FlowChangeKind::NoLongerConnectable => "no-longer-connectable",
            FlowChangeKind::NewlyConnectable => "newly-connectable",
        }
    }
}

/// One box of flows that changed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FlowChange {
    pub kind: FlowChangeKind,
    pub src_vpc: VpcId,
    pub src_account: AccountId,
    pub src: IpSet,
    pub dst_vpc: VpcId,
    pub dst_account: AccountId,
    pub dst_subnet: SubnetId,
    pub dst: IpSet,
    pub services: ServiceSet,
    /// Within the VPC or the peerings crossed (after the change for new flows, before it
    /// otherwise).
    pub via: Vias,
    /// With an intent: a new flow the intent does not allow (or denies), or a broken flow the
    /// intent requires. Without one, every new flow is beyond (an empty) intent.
    pub beyond_intent: bool,
    pub breaks_requirement: bool,
    /// The worst severity of the audit findings the box falls in, when it falls in any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub severity: Option<Severity>,
}

/// What a change does.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DiffReport {
    pub layer: Layer,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub intent: Option<String>,
    /// The VPCs the change touches; flows from or to them were compared.
    pub scope: Vec<VpcId>,
    /// For what-if: the operations applied and what was not understood.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub change: Option<Applied>,
    pub flows: Vec<FlowChange>,
    pub findings_added: Vec<Finding>,
    pub findings_resolved: Vec<Finding>,
    pub summary: Summary,
    /// Set when either snapshot is damaged (docs/failure-policy.md): the union of both sides'
    /// damage; changed flows may be missing anywhere it names, and its findings are marked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub damage: Option<Damage>,
}

/// Counts for the headline and for CI.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub newly_delivered: usize,
    pub no_longer_delivered: usize,
    pub no_longer_connectable: usize,
    pub newly_connectable: usize,
    pub beyond_intent: usize,
    pub broken_requirements: usize,
    pub findings_added: usize,
    pub findings_resolved: usize,
}

impl DiffReport {
    /// Exit 1 in CI: the change adds exposure beyond intent or breaks a required flow.
    pub fn fails(&self) -> bool {
        self.summary.beyond_intent > 0 || self.summary.broken_requirements > 0
    }

    /// Nothing changed: no flow, no finding.
    pub fn is_empty(&self) -> bool {
        self.flows.is_empty() && self.findings_added.is_empty() && self.findings_resolved.is_empty()
    }
}

/// The VPCs in which two models differ in anything reachability depends on: VPCs, subnets,
/// route tables, network ACLs, network interfaces, security groups (their VPC and their
/// members'), peering connections (both sides) and prefix lists (the VPCs whose routes or
/// rules use them). Over-approximates: tags count as differences.
pub fn changed_vpcs(before: &Model, after: &Model) -> BTreeSet<VpcId> {
    let mut out = BTreeSet::new();
    fn each<'m, K: Ord, V: PartialEq>(
        a: &'m BTreeMap<K, V>,
        b: &'m BTreeMap<K, V>,
        mut f: impl FnMut(&'m V),
    ) {
        for (k, v) in a {
            match b.get(k) {
                Some(w) if w == v => {}
                Some(w) => {
                    f(v);
                    f(w)
                }
                None => f(v),
            }
        }
        for (k, w) in b {
            if !a.contains_key(k) {
                f(w);
            }
        }
    }
    each(&before.vpcs, &after.vpcs, |v| {
        out.insert(v.id.clone());
    });
    each(&before.subnets, &after.subnets, |s| {
        out.insert(s.vpc.clone());
    });
    each(&before.route_tables, &after.route_tables, |t| {
        out.insert(t.vpc.clone());
    });
    each(&before.network_acls, &after.network_acls, |a| {
        out.insert(a.vpc.clone());
    });
    each(&before.network_interfaces, &after.network_interfaces, |e| {
        out.insert(e.vpc.clone());
    });
    let mut groups = BTreeSet::new();
    each(&before.security_groups, &after.security_groups, |g| {
        groups.insert(g.id.clone());
    });
    each(&before.peerings, &after.peerings, |c| {
        out.insert(c.requester.vpc.clone());
        out.insert(c.accepter.vpc.clone());
    });
    let mut lists = BTreeSet::new();
    each(&before.prefix_lists, &after.prefix_lists, |p| {
        lists.insert(p.id.clone());
    });
    for m in [before, after] {
        for t in m.route_tables.values() {
            if t.routes.iter().any(
                |r| matches!(&r.destination, RouteDestination::PrefixList(p) if lists.contains(p)),
            ) {
                out.insert(t.vpc.clone());
            }
        }
        for g in m.security_groups.values() {
            if g.ingress
                .iter()
                .chain(&g.egress)
                .any(|r| matches!(&r.peer, RulePeer::PrefixList(p) if lists.contains(p)))
            {
                groups.insert(g.id.clone());
            }
        }
    }
    for m in [before, after] {
        for g in &groups {
            if let Some(sg) = m.security_groups.get(g) {
                out.insert(sg.vpc.clone());
            }
            for e in m.index().members_of(g) {
                if let Some(e) = m.network_interfaces.get(e) {
                    out.insert(e.vpc.clone());
                }
            }
        }
    }
    out
}

/// Flows from source addresses to destination addresses to services, per VPC pair.
type Relation = AddrMap<AddrMap<ServiceSet>>;

#[derive(Default)]
struct Side {
    delivered: BTreeMap<(VpcId, VpcId), Relation>,
    connectable: BTreeMap<(VpcId, VpcId), Relation>,
    via: BTreeMap<(VpcId, VpcId), Vias>,
}

fn side(rows: &[ReachRow], include_intra_vpc: bool) -> Side {
    let mut s = Side::default();
    for r in rows {
        if r.src_vpc == r.dst_vpc && !include_intra_vpc {
            continue;
        }
        let key = (r.src_vpc.clone(), r.dst_vpc.clone());
        let rel = AddrMap::from_set(&r.src, AddrMap::from_set(&r.dst, r.services.clone()));
        let d = s.delivered.entry(key.clone()).or_default();
        *d = d.union(&rel);
        if r.connectable {
            let c = s.connectable.entry(key.clone()).or_default();
            *c = c.union(&rel);
        }
        s.via.entry(key).or_default().0.insert(r.via.clone());
    }
    s
}

/// Compares `before` and `after` over `scope` (the VPCs where they differ; computed when
/// `None`).
pub fn diff(
    before: &Model,
    after: &Model,
    scope: Option<&BTreeSet<VpcId>>,
    opts: &DiffOptions<'_>,
) -> DiffReport {
    let scope = match scope {
        Some(s) => s.clone(),
        None => changed_vpcs(before, after),
    };
    let layer = default_layer(before, opts.intent, opts.layer);
    // Finer than the scope where the edits allow: the pairs of flows they can change.
    let pairs = (!opts.whole_vpcs)
        .then(|| region::region(before, after, &scope))
        .flatten()
        .map(|mut p| {
            region::close_over_requirements(before, opts.intent, layer, &mut p);
            p
        });
    let evaluate = |m: &Model| -> (Vec<ReachRow>, Option<AuditReport>) {
        if scope.is_empty() {
            return (Vec::new(), opts.intent.map(|_| empty_report(layer)));
        }
        // One analysis per side: its rows serve the flow comparison and its audit alike.
        let analysis = Analysis::scoped(
            m,
            opts.intent,
            Some(layer),
            Some(scope.clone()),
            opts.include_intra_vpc,
        )
        .with_pairs(pairs.clone());
        let report = opts.intent.map(|_| analysis.audit());
        let rows = analysis.into_rows();
        (rows, report)
    };
    let ((rows_b, audit_b), (rows_a, audit_a)) =
        rayon::join(|| evaluate(before), || evaluate(after));
    let (b, a) = (
        side(&rows_b, opts.include_intra_vpc),
        side(&rows_a, opts.include_intra_vpc),
    );
    let mut flows = Vec::new();
    let keys: BTreeSet<&(VpcId, VpcId)> = b.delivered.keys().chain(a.delivered.keys()).collect();
    let empty = Relation::new();
    for key in keys {
        let bd = b.delivered.get(key).unwrap_or(&empty);
        let ad = a.delivered.get(key).unwrap_or(&empty);
        let bc = b.connectable.get(key).unwrap_or(&empty);
        let ac = a.connectable.get(key).unwrap_or(&empty);
        let via = |s: &Side| s.via.get(key).cloned().unwrap_or_default();
        let changes = [
            (
                FlowChangeKind::NewlyDelivered,
                ad.difference(bd),
                after,
                via(&a),
            ),
            (
                FlowChangeKind::NoLongerDelivered,
                bd.difference(ad),
                before,
                via(&b),
            ),
            (
                FlowChangeKind::NoLongerConnectable,
                bc.intersection(ad).difference(ac),
                after,
                via(&a),
            ),
            (
                FlowChangeKind::NewlyConnectable,
                ac.intersection(bd).difference(bc),
                after,
                via(&a),
            ),
        ];
        for (kind, rel, model, via) in changes {
            emit(&mut flows, kind, key, &rel, model, &via);
        }
    }
    let flows = merge(flows);
    let (added, resolved) = match (&audit_b, &audit_a) {
        (Some(b), Some(a)) => {
            let fb: BTreeSet<&str> = b.findings.iter().map(|f| f.fingerprint.as_str()).collect();
            let fa: BTreeSet<&str> = a.findings.iter().map(|f| f.fingerprint.as_str()).collect();
            (
                a.findings
                    .iter()
                    .filter(|f| !fb.contains(f.fingerprint.as_str()))
                    .cloned()
                    .collect(),
                b.findings
                    .iter()
                    .filter(|f| !fa.contains(f.fingerprint.as_str()))
                    .cloned()
                    .collect(),
            )
        }
        _ => (Vec::new(), Vec::new()),
    };
    let flows = judge(flows, audit_a.as_ref(), opts.intent.is_some());
    let mut summary = Summary {
        findings_added: added.len(),
        findings_resolved: resolved.len(),
        ..Default::default()
    };
    for f in &flows {
        match f.kind {
            FlowChangeKind::NewlyDelivered => summary.newly_delivered += 1,
            FlowChangeKind::NoLongerDelivered => summary.no_longer_delivered += 1,
            FlowChangeKind::NoLongerConnectable => summary.no_longer_connectable += 1,
            FlowChangeKind::NewlyConnectable => summary.newly_connectable += 1,
        }
        summary.beyond_intent += usize::from(f.beyond_intent);
        summary.broken_requirements += usize::from(f.breaks_requirement);
    }
    let damage = (!before.damage.is_empty() || !after.damage.is_empty()).then(|| Damage {
        everywhere: before.damage.everywhere || after.damage.everywhere,
        vpcs: before
            .damage
            .vpcs
            .union(&after.damage.vpcs)
            .cloned()
            .collect(),
        count: before.damage.count.max(after.damage.count),
    });
    DiffReport {
        layer,
        intent: opts.intent.map(|i| i.file.display().to_string()),
        scope: scope.into_iter().collect(),
        change: None,
        flows,
        findings_added: added,
        findings_resolved: resolved,
        summary,
        damage,
    }
}

fn empty_report(layer: Layer) -> AuditReport {
    AuditReport {
        layer,
        intent: None,
        findings: Vec::new(),
        summary: BTreeMap::new(),
        damage: None,
    }
}

fn account(model: &Model, vpc: &VpcId) -> AccountId {
    model
        .vpcs
        .get(vpc)
        .map(|v| v.account.clone())
        .unwrap_or_else(|| AccountId::new("unknown"))
}

/// Boxes of a changed relation, split by destination subnet.
fn emit(
    out: &mut Vec<FlowChange>,
    kind: FlowChangeKind,
    (src_vpc, dst_vpc): &(VpcId, VpcId),
    rel: &Relation,
    model: &Model,
    via: &Vias,
) {
    if rel.is_empty() {
        return;
    }
    let subnets: Vec<(&SubnetId, IpSet)> = model
        .index()
        .subnets_of(dst_vpc)
        .iter()
        .filter_map(|s| model.subnets.get(s))
        .map(|s| (&s.id, IpSet::from_nets(s.cidrs.iter().copied())))
        .collect();
    for (lo, hi, inner) in rel.iter() {
        for (dst, services) in inner.group_by_value() {
            if services.is_empty() {
                continue;
            }
            for (subnet, cidrs) in &subnets {
                let part = dst.intersection(cidrs);
                if part.is_empty() {
                    continue;
                }
                out.push(FlowChange {
                    kind,
                    src_vpc: src_vpc.clone(),
                    src_account: account(model, src_vpc),
                    src: IpSet::from_addr_range(lo, hi),
                    dst_vpc: dst_vpc.clone(),
                    dst_account: account(model, dst_vpc),
                    dst_subnet: (*subnet).clone(),
                    dst: part,
                    services: services.clone(),
                    via: via.clone(),
                    beyond_intent: false,
                    breaks_requirement: false,
                    severity: None,
                });
            }
        }
    }
}

/// Unions boxes that differ only in their sources; sorts.
fn merge(flows: Vec<FlowChange>) -> Vec<FlowChange> {
    type Key = (FlowChangeKind, VpcId, VpcId, SubnetId, String, String);
    let mut by: BTreeMap<Key, FlowChange> = BTreeMap::new();
    for f in flows {
        let k = (
            f.kind,
            f.src_vpc.clone(),
            f.dst_vpc.clone(),
            f.dst_subnet.clone(),
            f.dst.to_string(),
            f.services.to_string(),
        );
        match by.get_mut(&k) {
            Some(e) => e.src = e.src.union(&f.src),
            None => {
                by.insert(k, f);
            }
        }
    }
    let mut out: Vec<FlowChange> = by.into_values().collect();
    out.sort_by_cached_key(|f| {
        (
            f.kind,
            f.src_vpc.clone(),
            f.dst_vpc.clone(),
            f.dst_subnet.clone(),
            f.src.to_string(),
            f.dst.to_string(),
        )
    });
    out
}

/// Marks new flows that the after-audit reports as exposure or denied, and lost flows that
/// fall in a requirement the after-audit reports broken.
fn judge(
    mut flows: Vec<FlowChange>,
    after: Option<&AuditReport>,
    has_intent: bool,
) -> Vec<FlowChange> {
    for f in &mut flows {
        let Some(report) = after else {
            f.beyond_intent = !has_intent && f.kind == FlowChangeKind::NewlyDelivered;
            continue;
        };
        let kinds: &[Kind] = match f.kind {
            FlowChangeKind::NewlyDelivered => &[Kind::Exposure, Kind::DeniedFlow],
            FlowChangeKind::NoLongerDelivered | FlowChangeKind::NoLongerConnectable => {
                &[Kind::BrokenRequirement]
            }
            FlowChangeKind::NewlyConnectable => continue,
        };
        let mut worst: Option<Severity> = None;
        for finding in report.findings.iter().filter(|x| kinds.contains(&x.kind)) {
            let Some(b) = &finding.flows else { continue };
            if b.src_vpc == f.src_vpc
                && b.dst_vpc == f.dst_vpc
                && !b.src.is_disjoint(&f.src)
                && !b.dst.is_disjoint(&f.dst)
                && !b.services.is_disjoint(&f.services)
            {
                worst = worst.max(Some(finding.severity));
            }
        }
        if worst.is_some() {
            match f.kind {
                FlowChangeKind::NewlyDelivered => f.beyond_intent = true,
                _ => f.breaks_requirement = true,
            }
            f.severity = worst;
        }
    }
    flows
}
