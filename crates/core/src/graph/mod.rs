//! Pictures of an organisation's peerings (issue #7): a renderer-independent [`Graph`] built
//! from a model and its audit (accounts, regions, VPCs, optionally subnets; one edge per
//! peering connection, classed by what flows over it), the comparison of two such graphs
//! ([`diff`]), and its renderers: [`dot`] (Graphviz, also piped into SVG by the CLI),
//! [`mermaid`] (Markdown) and [`html`] (one self-contained interactive page).
//!
//! VPCs the snapshot knows only from peering records (*unseen VPCs*, semantics step 21) are
//! nodes too, in their owner account's group, marked [`Vpc::unseen`] with the connections they
//! are seen through; an account with no collected VPC is marked [`Account::unseen`].
//!
//! An edge's class agrees with the audit by construction: findings are attached to edges and
//! VPCs here ([`attach`]), and the class is read from the attached findings only
//! ([`EdgeClass`]). The graph does no I/O; renderers return strings.

pub mod dot;
pub mod html;
pub mod mermaid;

use std::collections::{BTreeMap, BTreeSet};

use serde::{Serialize, Serializer};

use crate::analysis::Analysis;
use crate::audit::{AuditReport, Component, Finding, Kind, Severity};
use crate::engine::Layer;
use crate::engine::hop::ObjectRef;
use crate::engine::reach::Via;
use crate::ids::*;
use crate::model::Model;
use crate::sets::{IpSet, ServiceSet};

/// What the change (`--diff`) did to a node, an edge or a finding.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Change {
    Added,
    Removed,
}

impl Change {
    pub fn as_str(self) -> &'static str {
        match self {
            Change::Added => "added",
            Change::Removed => "removed",
        }
    }
}

/// What an edge carries, in the audit's terms. The order is the order of concern: a later
/// class wins when edges are aggregated.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EdgeClass {
    /// No flow is delivered over the peering.
    Idle,
    /// Flows are delivered and there is no intent to judge them.
    Delivered,
    /// Flows are delivered and every one is allowed by the intent.
    Intended,
    /// A required flow between the two VPCs is not connectable (and no exposure).
    Broken,
    /// Delivered flows beyond the intent (`exposure`, `denied-flow`): the worst severity.
    Exposure(Severity),
}

impl EdgeClass {
    /// Every class, in the order of concern.
    pub const ALL: [EdgeClass; 9] = [
        EdgeClass::Idle,
        EdgeClass::Delivered,
        EdgeClass::Intended,
        EdgeClass::Broken,
        EdgeClass::Exposure(Severity::Info),
        EdgeClass::Exposure(Severity::Low),
        EdgeClass::Exposure(Severity::Medium),
        EdgeClass::Exposure(Severity::High),
        EdgeClass::Exposure(Severity::Critical),
    ];

    /// Stable names, used as CSS classes and in every renderer's legend.
    pub fn as_str(self) -> &'static str {
        match self {
            EdgeClass::Idle => "idle",
            EdgeClass::Delivered => "delivered",
            EdgeClass::Intended => "intended",
            EdgeClass::Broken => "broken",
            EdgeClass::Exposure(Severity::Info) => "exposure-info",
            EdgeClass::Exposure(Severity::Low) => "exposure-low",
            EdgeClass::Exposure(Severity::Medium) => "exposure-medium",
            EdgeClass::Exposure(Severity::High) => "exposure-high",
            EdgeClass::Exposure(Severity::Critical) => "exposure-critical",
        }
    }

    /// The stroke colour every renderer uses.
    pub fn colour(self) -> &'static str {
        match self {
            EdgeClass::Idle => "#9e9e9e",
            EdgeClass::Delivered => "#1f77b4",
            EdgeClass::Intended => "#2ca02c",
            EdgeClass::Broken => "#7b3294",
            EdgeClass::Exposure(Severity::Info) => "#6baed6",
            EdgeClass::Exposure(Severity::Low) => "#c9a400",
            EdgeClass::Exposure(Severity::Medium) => "#f28e2b",
            EdgeClass::Exposure(Severity::High) => "#e31a1c",
            EdgeClass::Exposure(Severity::Critical) => "#8b0020",
        }
    }

    /// Derives an edge's class from the findings attached to it: the worst exposure or
    /// denied flow, else broken when a required flow fails, else whether flows are delivered.
    pub fn of(
        findings: impl IntoIterator<Item = (Kind, Severity)>,
        delivered: bool,
        intent: bool,
    ) -> EdgeClass {
        let mut worst: Option<Severity> = None;
        let mut broken = false;
        for (kind, severity) in findings {
            match kind {
                Kind::Exposure | Kind::DeniedFlow => {
                    worst = worst.max(Some(severity));
                }
                Kind::BrokenRequirement => broken = true,
                _ => {}
            }
        }
        match (worst, broken, delivered, intent) {
            (Some(s), _, _, _) => EdgeClass::Exposure(s),
            (None, true, _, _) => EdgeClass::Broken,
            (None, false, true, true) => EdgeClass::Intended,
            (None, false, true, false) => EdgeClass::Delivered,
            (None, false, false, _) => EdgeClass::Idle,
        }
    }
}

impl Serialize for EdgeClass {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// An account: a group of VPCs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Account {
    pub id: String,
    /// Its name in the intent's `[accounts]`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Not one of ours: the intent does not name it (or, without an intent's accounts, the
    /// snapshot has none of its VPCs), as for the `external-peering` finding.
    pub external: bool,
    /// None of its VPCs is in the snapshot: they are all unseen, known only from peering
    /// records (its dump was not collected).
    pub unseen: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub change: Option<Change>,
}

/// The id under which unseen VPCs whose owner no peering record names are grouped.
pub const UNKNOWN_ACCOUNT: &str = "unknown";

/// A subnet (only with [`Options::subnets`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Subnet {
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub cidrs: Vec<String>,
}

/// A VPC. Unseen VPCs (named only by peering records, with no `Vpcs` record: typically a
/// partner's VPC in an account that was not collected) are nodes too, with what the model
/// derives from those records ([`crate::model::UnseenVpc`]): owner account ([`UNKNOWN_ACCOUNT`]
/// when no record names it), region (`unknown` likewise) and the union of the CIDRs listed for
/// their side.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Vpc {
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub account: String,
    pub region: String,
    pub cidrs: Vec<String>,
    /// Not in the snapshot: seen only through its peering connections, and its side (routes,
    /// NACLs, security groups) is assumed to allow everything.
    pub unseen: bool,
    /// For an unseen VPC, the peering connections it is seen through (active or not), by id.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub seen_through: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub subnets: Vec<Subnet>,
    /// Indices into [`Graph::findings`] of the findings attached to this VPC.
    pub findings: Vec<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub change: Option<Change>,
}

impl Vpc {
    /// For an unseen VPC, the connections it is seen through, in id order: all of them, or
    /// the first `max` and how many more.
    pub fn seen_through_list(&self, max: usize) -> String {
        let mut s = self
            .seen_through
            .iter()
            .take(max)
            .cloned()
            .collect::<Vec<_>>()
            .join(", ");
        if self.seen_through.len() > max {
            s.push_str(&format!(" and {} more", self.seen_through.len() - max));
        }
        s
    }

    /// What every renderer says of an unseen VPC (tooltips, side panel).
    pub fn unseen_note(&self) -> String {
        format!(
            "unseen: not in the snapshot, seen only through {}; its side is assumed to allow everything",
            self.seen_through_list(usize::MAX)
        )
    }
}

/// Flows delivered over an edge in one direction, aggregated.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct EdgeFlow {
    pub from: String,
    pub to: String,
    pub src: String,
    pub dst: String,
    pub services: String,
    /// Some of them are also connectable (the replies come back).
    pub connectable: bool,
}

/// A peering connection.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Edge {
    pub id: String,
    /// Requester VPC.
    pub a: String,
    /// Accepter VPC.
    pub b: String,
    pub status: String,
    pub cross_region: bool,
    pub cross_account: bool,
    pub class: EdgeClass,
    /// A required flow over it (or between its VPCs) is broken.
    pub broken: bool,
    pub flows: Vec<EdgeFlow>,
    /// Indices into [`Graph::findings`].
    pub findings: Vec<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub change: Option<Change>,
    /// With `--diff`, the class before the change when it differs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub class_before: Option<EdgeClass>,
}

/// A finding as the picture needs it, with where it is attached.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct GraphFinding {
    pub kind: Kind,
    pub severity: Severity,
    pub fingerprint: String,
    pub title: String,
    pub tighten: String,
    pub components: Vec<Component>,
    /// Peerings it is attached to.
    pub edges: Vec<String>,
    /// VPCs it is attached to (when no edge fits).
    pub vpcs: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub change: Option<Change>,
}

/// The picture of a snapshot: sorted by id everywhere, so renderings are deterministic.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Graph {
    /// The audit's layer (flows delivered in it; findings computed in it).
    pub layer: Layer,
    /// The intent file, when the audit had one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub intent: Option<String>,
    /// Built by [`diff`]: changes are marked.
    pub diff: bool,
    pub accounts: Vec<Account>,
    pub vpcs: Vec<Vpc>,
    pub edges: Vec<Edge>,
    /// The audit's findings, in its order (most severe first); with `--diff`, then those the
    /// change removed.
    pub findings: Vec<GraphFinding>,
}

/// What to include.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Subnets inside their VPCs.
    pub subnets: bool,
}

fn name_tag(tags: &crate::model::Tags) -> Option<String> {
    Model::name_of(tags).map(str::to_owned)
}

fn cidr_strings(c: &[ipnet::IpNet]) -> Vec<String> {
    c.iter().map(|n| n.to_string()).collect()
}

/// Builds the picture of an analysis's model, with the flows of its rows (no second `reach`).
/// `report` is its audit (`None`: no findings); the analysis's intent names accounts and
/// decides which are external.
pub fn build(analysis: &Analysis<'_>, report: Option<&AuditReport>, opts: &Options) -> Graph {
    let (model, intent, layer) = (analysis.model(), analysis.intent(), analysis.layer());
    let has_intent = report.is_some_and(|r| r.intent.is_some()) || intent.is_some();

    // VPCs: the snapshot's, then the unseen ones (known only from peering records).
    let mut vpcs: BTreeMap<String, Vpc> = BTreeMap::new();
    for v in model.vpcs.values() {
        let subnets = if opts.subnets {
            model
                .subnets
                .values()
                .filter(|s| s.vpc == v.id)
                .map(|s| Subnet {
                    id: s.id.to_string(),
                    name: name_tag(&s.tags),
                    cidrs: cidr_strings(&s.cidrs),
                })
                .collect()
        } else {
            Vec::new()
        };
        vpcs.insert(
            v.id.to_string(),
            Vpc {
                id: v.id.to_string(),
                name: name_tag(&v.tags),
                account: v.account.to_string(),
                region: v.region.to_string(),
                cidrs: cidr_strings(&v.cidrs),
                unseen: false,
                seen_through: Vec::new(),
                subnets,
                findings: Vec::new(),
                change: None,
            },
        );
    }
    for u in model.unseen_vpcs().values() {
        vpcs.insert(
            u.id.to_string(),
            Vpc {
                id: u.id.to_string(),
                name: None,
                account: u
                    .account
                    .as_ref()
                    .map(|o| o.to_string())
                    .unwrap_or_else(|| UNKNOWN_ACCOUNT.into()),
                region: u
                    .region
                    .as_ref()
                    .map(|r| r.to_string())
                    .unwrap_or_else(|| "unknown".into()),
                cidrs: cidr_strings(&u.cidrs),
                unseen: true,
                seen_through: u.peerings.iter().map(|p| p.to_string()).collect(),
                subnets: Vec::new(),
                findings: Vec::new(),
                change: None,
            },
        );
    }

    // Accounts, external as the `external-peering` finding decides it.
    let names: BTreeMap<String, String> = intent
        .map(|i| {
            i.accounts
                .iter()
                .map(|(n, a)| (a.to_string(), n.clone()))
                .collect()
        })
        .unwrap_or_default();
    let known = |a: &str| match intent {
        Some(i) if !i.accounts.is_empty() => i.is_known_account(&AccountId::new(a)),
        _ => model.vpcs.values().any(|v| v.account.as_str() == a),
    };
    let account_ids: BTreeSet<&str> = vpcs.values().map(|v| v.account.as_str()).collect();
    let accounts: Vec<Account> = account_ids
        .into_iter()
        .map(|a| Account {
            id: a.to_owned(),
            name: names.get(a).cloned(),
            external: !known(a),
            unseen: vpcs.values().all(|v| v.account != a || v.unseen),
            change: None,
        })
        .collect();

    // Delivered flows per peering and direction: the analysis's rows (the audit's).
    let rows = analysis.rows();
    type FlowAcc = (IpSet, IpSet, ServiceSet, bool);
    let mut flows: BTreeMap<(String, String, String), FlowAcc> = BTreeMap::new();
    for r in rows.iter().filter(|r| r.delivered) {
        let Via::Peering(via) = &r.via else { continue };
        let e = flows
            .entry((
                via.to_string(),
                r.src_vpc.to_string(),
                r.dst_vpc.to_string(),
            ))
            .or_insert_with(|| (IpSet::new(), IpSet::new(), ServiceSet::new(), false));
        e.0 = e.0.union(&r.src);
        e.1 = e.1.union(&r.dst);
        e.2 = e.2.union(&r.services);
        e.3 |= r.connectable;
    }
    let mut edge_flows: BTreeMap<String, Vec<EdgeFlow>> = BTreeMap::new();
    for ((via, from, to), (src, dst, svc, connectable)) in flows {
        edge_flows.entry(via).or_default().push(EdgeFlow {
            from,
            to,
            src: src.to_string(),
            dst: dst.to_string(),
            services: svc.to_string(),
            connectable,
        });
    }

    let account_of = |v: &str| vpcs.get(v).map(|v| v.account.clone()).unwrap_or_default();
    let mut edges: Vec<Edge> = model
        .peerings
        .values()
        .map(|c| {
            let (a, b) = (c.requester.vpc.to_string(), c.accepter.vpc.to_string());
            let cross_account = account_of(&a) != account_of(&b);
            Edge {
                id: c.id.to_string(),
                cross_region: c.is_cross_region(),
                cross_account,
                a,
                b,
                status: c.status.to_string(),
                class: EdgeClass::Idle,
                broken: false,
                flows: edge_flows.remove(c.id.as_str()).unwrap_or_default(),
                findings: Vec::new(),
                change: None,
                class_before: None,
            }
        })
        .collect();
    edges.sort_by(|x, y| x.id.cmp(&y.id));

    let mut findings = Vec::new();
    if let Some(report) = report {
        for f in &report.findings {
            let (edge_ids, vpc_ids) = attach(model, &edges, f);
            findings.push(GraphFinding {
                kind: f.kind,
                severity: f.severity,
                fingerprint: f.fingerprint.clone(),
                title: f.title.clone(),
                tighten: f.tighten.clone(),
                components: f.components.clone(),
                edges: edge_ids,
                vpcs: vpc_ids,
                change: None,
            });
        }
    }

    let mut g = Graph {
        layer,
        intent: report.and_then(|r| r.intent.clone()),
        diff: false,
        accounts,
        vpcs: vpcs.into_values().collect(),
        edges,
        findings,
    };
    g.reindex();
    // Classes from the attached findings (of this snapshot's audit: no diff yet).
    for e in &mut g.edges {
        let attached: Vec<(Kind, Severity)> = e
            .findings
            .iter()
            .map(|&i| (g.findings[i].kind, g.findings[i].severity))
            .collect();
        e.broken = attached.iter().any(|(k, _)| *k == Kind::BrokenRequirement);
        e.class = EdgeClass::of(attached, !e.flows.is_empty(), has_intent);
    }
    g
}

/// Where a finding belongs in the picture: the peerings (edges) it is about, else the VPCs.
///
/// - flows over a peering (`flows.via`): that edge; flows within one VPC (`local`): that VPC;
/// - flows with no via (broken requirements): the peering on the failing flow's path (its
///   components), else a peering joining the two VPCs, else both VPCs;
/// - hygiene findings: the peerings among their components, else those their components'
///   routes point at and those the finding carries (`Finding::peerings`), else the VPCs of
///   their components (route tables, security groups, subnets, network ACLs, interfaces).
pub fn attach(model: &Model, edges: &[Edge], f: &Finding) -> (Vec<String>, Vec<String>) {
    let is_edge = |id: &str| edges.binary_search_by(|e| e.id.as_str().cmp(id)).is_ok();
    let mut on_edges: BTreeSet<String> = BTreeSet::new();
    let mut on_vpcs: BTreeSet<String> = BTreeSet::new();
    let peerings_in = |c: &[Component]| -> Vec<String> {
        c.iter()
            .filter_map(|c| match &c.object {
                ObjectRef::Peering(p) if is_edge(p.as_str()) => Some(p.to_string()),
                _ => None,
            })
            .collect()
    };
    if let Some(fl) = &f.flows {
        match &fl.via {
            Some(Via::Local) => {
                on_vpcs.insert(fl.src_vpc.to_string());
            }
            Some(Via::Peering(p)) if is_edge(p.as_str()) => {
                on_edges.insert(p.to_string());
            }
            Some(Via::Peering(_)) => {
                on_vpcs.extend([fl.src_vpc.to_string(), fl.dst_vpc.to_string()]);
            }
            None => {
                let on_path = peerings_in(&f.components);
                if let Some(first) = on_path.into_iter().next() {
                    on_edges.insert(first);
                } else if let Some(e) = edges.iter().find(|e| {
                    (e.a == fl.src_vpc.as_str() && e.b == fl.dst_vpc.as_str())
                        || (e.b == fl.src_vpc.as_str() && e.a == fl.dst_vpc.as_str())
                }) {
                    on_edges.insert(e.id.clone());
                } else {
                    on_vpcs.extend([fl.src_vpc.to_string(), fl.dst_vpc.to_string()]);
                }
            }
        }
        return (
            on_edges.into_iter().collect(),
            on_vpcs.into_iter().collect(),
        );
    }
    on_edges.extend(peerings_in(&f.components));
    if on_edges.is_empty() {
        // Peerings a component's route points at, and those the finding names itself.
        let named = f
            .components
            .iter()
            .filter_map(|c| c.detail.peering())
            .chain(&f.peerings);
        for p in named {
            if is_edge(p.as_str()) {
                on_edges.insert(p.to_string());
            }
        }
    }
    if on_edges.is_empty() {
        for c in &f.components {
            if let Some(v) = c.object.vpc(model) {
                on_vpcs.insert(v.to_string());
            }
        }
    }
    (
        on_edges.into_iter().collect(),
        on_vpcs.into_iter().collect(),
    )
}

impl Graph {
    /// Recomputes the finding indices of edges and VPCs from the findings' attachments.
    fn reindex(&mut self) {
        let edge_at: BTreeMap<String, usize> = self
            .edges
            .iter()
            .enumerate()
            .map(|(i, e)| (e.id.clone(), i))
            .collect();
        let vpc_at: BTreeMap<String, usize> = self
            .vpcs
            .iter()
            .enumerate()
            .map(|(i, v)| (v.id.clone(), i))
            .collect();
        for e in &mut self.edges {
            e.findings.clear();
        }
        for v in &mut self.vpcs {
            v.findings.clear();
        }
        for (i, f) in self.findings.iter().enumerate() {
            for e in &f.edges {
                if let Some(&k) = edge_at.get(e) {
                    self.edges[k].findings.push(i);
                }
            }
            for v in &f.vpcs {
                if let Some(&k) = vpc_at.get(v) {
                    self.vpcs[k].findings.push(i);
                }
            }
        }
    }

    pub fn vpc(&self, id: &str) -> Option<&Vpc> {
        self.vpcs
            .binary_search_by(|v| v.id.as_str().cmp(id))
            .ok()
            .map(|i| &self.vpcs[i])
    }

    pub fn account(&self, id: &str) -> Option<&Account> {
        self.accounts
            .binary_search_by(|a| a.id.as_str().cmp(id))
            .ok()
            .map(|i| &self.accounts[i])
    }

    /// An account group's caption in DOT and Mermaid: its name and id, whether it is
    /// external and unseen, and what the change did to it.
    pub fn account_label(&self, id: &str) -> String {
        let a = self.account(id);
        let mut label = match a.and_then(|a| a.name.as_ref()) {
            Some(n) => format!("{n} ({id})"),
            None if id == UNKNOWN_ACCOUNT => "unknown account".to_owned(),
            None => id.to_owned(),
        };
        let marks: Vec<&str> = [
            (a.is_some_and(|a| a.external), "external"),
            (a.is_some_and(|a| a.unseen), "unseen (not collected)"),
        ]
        .into_iter()
        .filter_map(|(on, m)| on.then_some(m))
        .collect();
        if !marks.is_empty() {
            label.push_str(" — ");
            label.push_str(&marks.join(", "));
        }
        if let Some(c) = a.and_then(|a| a.change) {
            label.push_str(&format!(" [{}]", c.as_str()));
        }
        label
    }

    /// VPC indices per account and region, both sorted: the nesting every renderer draws.
    pub fn groups(&self) -> BTreeMap<&str, BTreeMap<&str, Vec<usize>>> {
        let mut out: BTreeMap<&str, BTreeMap<&str, Vec<usize>>> = BTreeMap::new();
        for (i, v) in self.vpcs.iter().enumerate() {
            out.entry(v.account.as_str())
                .or_default()
                .entry(v.region.as_str())
                .or_default()
                .push(i);
        }
        out
    }

    /// The part of the picture findings touch: edges and VPCs with findings attached, the VPCs
    /// at the ends of those edges, and their accounts (for `audit --format markdown --graph`).
    pub fn affected(&self) -> Graph {
        let edges: Vec<Edge> = self
            .edges
            .iter()
            .filter(|e| !e.findings.is_empty())
            .cloned()
            .collect();
        let mut keep: BTreeSet<&str> = self
            .vpcs
            .iter()
            .filter(|v| !v.findings.is_empty())
            .map(|v| v.id.as_str())
            .collect();
        for e in &edges {
            keep.insert(e.a.as_str());
            keep.insert(e.b.as_str());
        }
        let vpcs: Vec<Vpc> = self
            .vpcs
            .iter()
            .filter(|v| keep.contains(v.id.as_str()))
            .cloned()
            .collect();
        let accts: BTreeSet<&str> = vpcs.iter().map(|v| v.account.as_str()).collect();
        let mut g = Graph {
            layer: self.layer,
            intent: self.intent.clone(),
            diff: self.diff,
            accounts: self
                .accounts
                .iter()
                .filter(|a| accts.contains(a.id.as_str()))
                .cloned()
                .collect(),
            vpcs,
            edges,
            findings: self.findings.clone(),
        };
        g.reindex();
        g
    }

    /// Counts of edges per class, for summaries.
    pub fn class_counts(&self) -> BTreeMap<EdgeClass, usize> {
        let mut m = BTreeMap::new();
        for e in &self.edges {
            *m.entry(e.class).or_default() += 1;
        }
        m
    }
}

/// The picture of a change: `after`, with what it added marked, and what `before` had that it
/// lost put back and marked removed. Peerings, VPCs and accounts are matched by id, findings
/// by fingerprint.
pub fn diff(before: &Graph, mut after: Graph) -> Graph {
    after.diff = true;
    let had_acct: BTreeSet<&str> = before.accounts.iter().map(|a| a.id.as_str()).collect();
    let has_acct: BTreeSet<String> = after.accounts.iter().map(|a| a.id.clone()).collect();
    for a in &mut after.accounts {
        if !had_acct.contains(a.id.as_str()) {
            a.change = Some(Change::Added);
        }
    }
    for a in before.accounts.iter().filter(|a| !has_acct.contains(&a.id)) {
        after.accounts.push(Account {
            change: Some(Change::Removed),
            ..a.clone()
        });
    }
    after.accounts.sort_by(|x, y| x.id.cmp(&y.id));

    let had_vpc: BTreeSet<&str> = before.vpcs.iter().map(|v| v.id.as_str()).collect();
    let has_vpc: BTreeSet<String> = after.vpcs.iter().map(|v| v.id.clone()).collect();
    for v in &mut after.vpcs {
        if !had_vpc.contains(v.id.as_str()) {
            v.change = Some(Change::Added);
        }
    }
    for v in before.vpcs.iter().filter(|v| !has_vpc.contains(&v.id)) {
        after.vpcs.push(Vpc {
            change: Some(Change::Removed),
            ..v.clone()
        });
    }
    after.vpcs.sort_by(|x, y| x.id.cmp(&y.id));

    let before_edges: BTreeMap<&str, &Edge> =
        before.edges.iter().map(|e| (e.id.as_str(), e)).collect();
    let has_edge: BTreeSet<String> = after.edges.iter().map(|e| e.id.clone()).collect();
    for e in &mut after.edges {
        match before_edges.get(e.id.as_str()) {
            None => e.change = Some(Change::Added),
            Some(b) if b.class != e.class => e.class_before = Some(b.class),
            Some(_) => {}
        }
    }
    for e in before.edges.iter().filter(|e| !has_edge.contains(&e.id)) {
        after.edges.push(Edge {
            change: Some(Change::Removed),
            ..e.clone()
        });
    }
    after.edges.sort_by(|x, y| x.id.cmp(&y.id));

    let had_fp: BTreeSet<&str> = before
        .findings
        .iter()
        .map(|f| f.fingerprint.as_str())
        .collect();
    let has_fp: BTreeSet<String> = after
        .findings
        .iter()
        .map(|f| f.fingerprint.clone())
        .collect();
    for f in &mut after.findings {
        if !had_fp.contains(f.fingerprint.as_str()) {
            f.change = Some(Change::Added);
        }
    }
    for f in before
        .findings
        .iter()
        .filter(|f| !has_fp.contains(&f.fingerprint))
    {
        after.findings.push(GraphFinding {
            change: Some(Change::Removed),
            ..f.clone()
        });
    }
    after.reindex();
    after
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn class_names_are_distinct_and_ordered_by_concern() {
        let all = EdgeClass::ALL;
        let names: BTreeSet<&str> = all.iter().map(|c| c.as_str()).collect();
        assert_eq!(names.len(), all.len());
        assert!(all.windows(2).all(|w| w[0] < w[1]));
    }
}
