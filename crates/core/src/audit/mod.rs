//! The audit: every delivered flow beyond the intended scope, every broken requirement, and
//! the hygiene problems that need no intent — each a [`Finding`] with a severity, the
//! components that let it through (what to tighten) and a stable fingerprint.
//!
//! Exposure is computed on sets: the delivered boxes of `reach` minus the `allow` boxes of the
//! intent, plus whatever an `allow` would cover but a `deny` forbids. Components come from the
//! per-packet explanation of one representative flow of each box.

mod hygiene;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use rayon::prelude::*;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::analysis::Analysis;
use crate::engine::endpoint::eni_at;
use crate::engine::explain::{Hop, HopKind, explain};
use crate::engine::hop::{Detail, Direction, NaclDecision, ObjectRef};
use crate::engine::reach::{ReachRow, Via};
use crate::engine::{Flow, Layer, Reason};
use crate::intent::{Intent, RuleAt};
use crate::model::*;
use crate::sets::{IpSet, ServiceSet};

/// How serious a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        })
    }
}

/// What kind of finding; the kebab-case names are stable (snapshot-tested).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// A delivered flow no `allow` covers.
    Exposure,
    /// A delivered flow a `deny` forbids.
    DeniedFlow,
    /// A `require`d flow that is not connectable.
    BrokenRequirement,
    BlackholeRoute,
    InactivePeeringRoute,
    RouteWiderThanPeer,
    RouteCoversWholePeer,
    ExternalPeering,
    CrossRegionGroupReference,
    OpenToWorldOverPeering,
    OpenToUnseenPeer,
    /// A `require`d flow your side routes to a VPC the snapshot cannot see into: whether it
    /// arrives is decided there.
    RequirementToUnseenPeer,
}

impl Kind {
    pub const ALL: [Kind; 12] = [
        Kind::Exposure,
        Kind::DeniedFlow,
        Kind::BrokenRequirement,
        Kind::BlackholeRoute,
        Kind::InactivePeeringRoute,
        Kind::RouteWiderThanPeer,
        Kind::RouteCoversWholePeer,
        Kind::ExternalPeering,
        Kind::CrossRegionGroupReference,
        Kind::OpenToWorldOverPeering,
        Kind::OpenToUnseenPeer,
        Kind::RequirementToUnseenPeer,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Exposure => "exposure",
            Kind::DeniedFlow => "denied-flow",
            Kind::BrokenRequirement => "broken-requirement",
            Kind::BlackholeRoute => "blackhole-route",
            Kind::InactivePeeringRoute => "inactive-peering-route",
            Kind::RouteWiderThanPeer => "route-wider-than-peer",
            Kind::RouteCoversWholePeer => "route-covers-whole-peer",
            Kind::ExternalPeering => "external-peering",
            Kind::CrossRegionGroupReference => "cross-region-group-reference",
            Kind::OpenToWorldOverPeering => "open-to-world-over-peering",
            Kind::OpenToUnseenPeer => "open-to-unseen-peer",
            Kind::RequirementToUnseenPeer => "requirement-to-unseen-peer",
        }
    }

    /// One sentence for rule listings (SARIF `shortDescription`).
    pub fn description(self) -> &'static str {
        match self {
            Kind::Exposure => "A flow is delivered that no allow rule of the intent covers.",
            Kind::DeniedFlow => "A flow is delivered that a deny rule of the intent forbids.",
            Kind::BrokenRequirement => "A flow the intent requires is not connectable.",
            Kind::BlackholeRoute => "A route is a blackhole: it wins the match and drops packets.",
            Kind::InactivePeeringRoute => {
                "A route points at a peering connection that is not active or not in the snapshot."
            }
            Kind::RouteWiderThanPeer => {
                "A peering route covers addresses outside the peer VPC's CIDR blocks."
            }
            Kind::RouteCoversWholePeer => {
                "A peering route covers the whole peer VPC where only some of its subnets are used."
            }
            Kind::ExternalPeering => {
                "A peering connection joins a VPC of an account the intent does not name."
            }
            Kind::CrossRegionGroupReference => {
                "A security-group rule references a group across a cross-region peering: it can never match."
            }
            Kind::OpenToWorldOverPeering => {
                "A security-group rule open to 0.0.0.0/0 or ::/0 admits flows from other VPCs over peering."
            }
            Kind::OpenToUnseenPeer => {
                "A security-group rule admits, on an administrative or database port, addresses of an external VPC peered with its VPC that the snapshot cannot see into."
            }
            Kind::RequirementToUnseenPeer => {
                "A required flow leaves over a peering to a VPC the snapshot cannot see into: it cannot be verified beyond the peering."
            }
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A component that takes part in a finding: what to look at or tighten. Serialized as
/// `{kind, id, detail}` (the object's kind and id, the detail as peerscope prints it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Component {
    pub object: ObjectRef,
    pub detail: Detail,
}

impl Component {
    /// `route-table`, `peering`, `network-acl`, `security-group`, `subnet`,
    /// `network-interface`.
    pub fn kind(&self) -> &'static str {
        self.object.kind()
    }
}

impl Serialize for Component {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("Component", 3)?;
        st.serialize_field("kind", self.object.kind())?;
        st.serialize_field("id", &self.object)?;
        st.serialize_field("detail", &self.detail)?;
        st.end()
    }
}

/// The flows a finding is about (exposures, denied flows, broken requirements).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FlowBox {
    pub src_vpc: VpcId,
    pub src_account: AccountId,
    pub src: IpSet,
    pub dst_vpc: VpcId,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dst_subnet: Option<SubnetId>,
    pub dst: IpSet,
    pub services: ServiceSet,
    /// Within the source VPC or the peering crossed; absent for requirements (nothing was
    /// crossed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub via: Option<Via>,
}

/// One finding.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub kind: Kind,
    pub severity: Severity,
    pub fingerprint: String,
    pub title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flows: Option<FlowBox>,
    /// For broken requirements: why the representative flow fails.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<Reason>,
    pub components: Vec<Component>,
    /// What to change.
    pub tighten: String,
    /// The intent rule involved (serialized as `file:line`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<RuleAt>,
    /// The finding involves a damaged VPC (docs/failure-policy.md): the best reading of
    /// damaged input, not an answer.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub undetermined: bool,
    /// Peerings the finding is about beyond those its components and flows name (the
    /// connections that carry what a world-open rule admits): where the map attaches it.
    #[serde(skip)]
    pub peerings: Vec<PeeringId>,
}

/// The result of an audit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AuditReport {
    pub layer: Layer,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub intent: Option<String>,
    pub findings: Vec<Finding>,
    pub summary: BTreeMap<Severity, usize>,
    /// Set when the snapshot is damaged: findings may be missing anywhere it names, and those
    /// that involve it are marked undetermined.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub damage: Option<Damage>,
}

impl AuditReport {
    /// The most severe finding, if any.
    pub fn worst(&self) -> Option<Severity> {
        self.findings.iter().map(|f| f.severity).max()
    }
}

/// A stable fingerprint from the parts that identify a finding (never from positions).
pub fn fingerprint(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0u8]);
    }
    h.finalize()
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A box of flows: sources × destinations × services, within one VPC pair.
#[derive(Clone, Debug)]
struct Bx {
    src: IpSet,
    dst: IpSet,
    svc: ServiceSet,
}

impl Bx {
    fn is_empty(&self) -> bool {
        self.src.is_empty() || self.dst.is_empty() || self.svc.is_empty()
    }

    fn intersection(&self, o: &Bx) -> Bx {
        Bx {
            src: self.src.intersection(&o.src),
            dst: self.dst.intersection(&o.dst),
            svc: self.svc.intersection(&o.svc),
        }
    }

    /// `self − o` as disjoint boxes.
    fn difference(&self, o: &Bx) -> Vec<Bx> {
        let common = self.intersection(o);
        if common.is_empty() {
            return vec![self.clone()];
        }
        let parts = [
            Bx {
                src: self.src.difference(&o.src),
                dst: self.dst.clone(),
                svc: self.svc.clone(),
            },
            Bx {
                src: common.src.clone(),
                dst: self.dst.difference(&o.dst),
                svc: self.svc.clone(),
            },
            Bx {
                src: common.src,
                dst: common.dst,
                svc: self.svc.difference(&o.svc),
            },
        ];
        parts.into_iter().filter(|b| !b.is_empty()).collect()
    }
}

const ADMIN_PORTS: &[u16] = &[22, 23, 3389, 5900, 5985, 5986];
const DATABASE_PORTS: &[u16] = &[
    1433, 1521, 2379, 3306, 5432, 5439, 6379, 7000, 9042, 9200, 11211, 27017,
];

/// Severity of delivered flows beyond intent.
fn exposure_severity(b: &FlowBox, external: bool) -> Severity {
    let any = b.services.is_full() || b.services.tcp_ports().is_full();
    let sensitive = ADMIN_PORTS
        .iter()
        .chain(DATABASE_PORTS)
        .any(|p| b.services.contains(Protocol::TCP, Some(*p)));
    let wide = b.src.count_v4() >= 1 << 16 || b.src.count_v6() >= 1u128 << 64;
    match (external, sensitive || any) {
        (true, true) => Severity::Critical,
        (true, false) | (false, true) => Severity::High,
        (false, false) if wide || b.services.tcp_ports().count() > 1024 => Severity::Medium,
        _ => Severity::Low,
    }
}

/// One representative flow of a box: its first source, first destination, first service.
fn representative(model: &Model, src_vpc: &VpcId, b: &Bx, layer: Layer) -> Option<Flow> {
    let src = b.src.iter_ranges().next()?.0;
    let dst = b.dst.iter_ranges().next()?.0;
    let (proto, port) = if let Some(p) = b.svc.tcp_ports().first() {
        (Protocol::TCP, Some(p))
    } else if let Some(p) = b.svc.udp_ports().first() {
        (Protocol::UDP, Some(p))
    } else {
        (b.svc.other_protocols().first()?, None)
    };
    let src_eni = match layer {
        Layer::Full => eni_at(model, src_vpc, src),
        Layer::Network => None,
    };
    Some(Flow {
        src_vpc: src_vpc.clone(),
        src,
        src_eni,
        dst,
        proto,
        port,
    })
}

fn hop_component(h: &Hop) -> Component {
    Component {
        object: h.id.clone(),
        detail: h.detail.clone(),
    }
}

/// Audits a model against an intent (or only hygiene when `intent` is `None`): the audit of
/// [`Analysis::new`]. Commands that ask more of the same model build the [`Analysis`] and ask
/// it.
pub fn audit(model: &Model, intent: Option<&Intent>, layer: Option<Layer>) -> AuditReport {
    Analysis::new(model, intent, layer).audit()
}

/// Intent zones resolved on a model: zone name → its addresses per VPC.
pub use crate::analysis::Zones;

/// The audit of an analysis ([`Analysis::audit`]).
pub(crate) fn report(analysis: &Analysis<'_>) -> AuditReport {
    let (model, intent, layer) = (analysis.model(), analysis.intent(), analysis.layer());
    let mut findings = Vec::new();
    let zones = analysis.zones();
    if let Some(intent) = intent {
        if analysis.streams() {
            // Rows aggregated as they are produced, never all held: exposure boxes per group,
            // and the connectable rows of the VPC pairs requirements look at.
            let wanted = required_pairs(zones, intent, layer);
            let groups = std::sync::Mutex::new(Groups::new());
            let kept = std::sync::Mutex::new(Vec::new());
            crate::engine::reach::reach_each(model, &analysis.reach_options(), |batch| {
                let mut local = Groups::new();
                exposure_boxes(intent, zones, &batch, layer, &mut local);
                let keep: Vec<ReachRow> = batch
                    .into_iter()
                    .filter(|r| r.connectable && wanted.contains(&(&r.src_vpc, &r.dst_vpc)))
                    .collect();
                let mut g = groups
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                for (k, mut v) in local {
                    g.entry(k).or_default().append(&mut v);
                }
                drop(g);
                kept.lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .extend(keep);
            });
            let groups = groups
                .into_inner()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let kept = kept
                .into_inner()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            findings.extend(exposure_findings(model, intent, layer, groups));
            let rows = crate::engine::reach::merge_rows(kept);
            findings.extend(requirements(
                model,
                intent,
                zones,
                &rows,
                layer,
                analysis.scope(),
                analysis.pairs(),
            ));
        } else {
            let rows = analysis.rows();
            findings.extend(exposures(model, intent, zones, rows, layer));
            findings.extend(requirements(
                model,
                intent,
                zones,
                rows,
                layer,
                analysis.scope(),
                analysis.pairs(),
            ));
        }
    }
    findings.extend(hygiene::findings(model, intent, analysis.within(), zones));
    findings.sort_by(|a, b| {
        (
            std::cmp::Reverse(a.severity),
            a.kind,
            &a.title,
            &a.fingerprint,
        )
            .cmp(&(
                std::cmp::Reverse(b.severity),
                b.kind,
                &b.title,
                &b.fingerprint,
            ))
    });
    findings.dedup_by(|a, b| a.fingerprint == b.fingerprint);
    let damage = (!model.damage.is_empty()).then(|| model.damage.clone());
    if let Some(d) = &damage {
        for f in &mut findings {
            f.undetermined = match &f.flows {
                Some(b) => d.touches(&b.src_vpc) || d.touches(&b.dst_vpc),
                None => {
                    d.everywhere
                        || f.components
                            .iter()
                            .flat_map(|c| c.object.vpcs(model))
                            .any(|v| d.touches(&v))
                }
            };
        }
    }
    let mut summary = BTreeMap::new();
    for f in &findings {
        *summary.entry(f.severity).or_default() += 1;
    }
    AuditReport {
        layer,
        intent: intent.map(|i| i.file.display().to_string()),
        findings,
        summary,
        damage,
    }
}

/// The box a rule covers between two VPCs; `None` when one of its zones has no address in
/// them, so irrelevant rules cost nothing per row.
fn zone_box(
    zones: &Zones,
    from: &str,
    to: &str,
    src_vpc: &VpcId,
    dst_vpc: &VpcId,
    svc: &ServiceSet,
) -> Option<Bx> {
    let get = |z: &str, v: &VpcId| {
        zones
            .get(z)
            .and_then(|m| m.get(v))
            .filter(|s| !s.is_empty())
    };
    Some(Bx {
        src: get(from, src_vpc)?.clone(),
        dst: get(to, dst_vpc)?.clone(),
        svc: svc.clone(),
    })
}

fn account_of(model: &Model, vpc: &VpcId) -> AccountId {
    model
        .account_of(vpc)
        .cloned()
        .unwrap_or_else(|| AccountId::new("unknown"))
}

/// Exposure and denied-flow boxes, grouped by source VPC, destination subnet, via, kind and
/// the deny rule involved.
type Groups = BTreeMap<(VpcId, SubnetId, Via, Kind, Option<RuleAt>), Vec<Bx>>;

fn exposures(
    model: &Model,
    intent: &Intent,
    zones: &Zones,
    rows: &[ReachRow],
    layer: Layer,
) -> Vec<Finding> {
    let mut out = Groups::new();
    exposure_boxes(intent, zones, rows, layer, &mut out);
    exposure_findings(model, intent, layer, out)
}

/// Adds the boxes of `rows` beyond the intent to `out`. Rows may come in any order, merged
/// or not: the findings ([`exposure_findings`]) are the same (box differences distribute over
/// sources, and [`merge_boxes`] normalises by value).
fn exposure_boxes(
    intent: &Intent,
    zones: &Zones,
    rows: &[ReachRow],
    layer: Layer,
    out: &mut Groups,
) {
    let applies = |r: &crate::intent::Rule| r.layer.is_none_or(|l| l == layer);
    // Beyond intent: delivered boxes minus every allow; plus delivered ∩ deny.
    for row in rows {
        if row.src_vpc == row.dst_vpc && !intent.audit_intra_vpc {
            continue;
        }
        let whole = Bx {
            src: row.src.clone(),
            dst: row.dst.clone(),
            svc: row.services.clone(),
        };
        let mut left = vec![whole.clone()];
        for a in intent.allow.iter().filter(|r| applies(r)) {
            if let Some(ab) = zone_box(
                zones,
                &a.from,
                &a.to,
                &row.src_vpc,
                &row.dst_vpc,
                &a.services,
            ) {
                left = left.iter().flat_map(|b| b.difference(&ab)).collect();
            }
        }
        // A deny wins over an allow and is reported once, as a denied flow: take denied
        // boxes out of the exposure remainder.
        for d in intent.deny.iter().filter(|r| applies(r)) {
            if let Some(db) = zone_box(
                zones,
                &d.from,
                &d.to,
                &row.src_vpc,
                &row.dst_vpc,
                &d.services,
            ) {
                left = left.iter().flat_map(|b| b.difference(&db)).collect();
            }
        }
        let key = (row.src_vpc.clone(), row.dst_subnet.clone(), row.via.clone());
        for b in left {
            out.entry((
                key.0.clone(),
                key.1.clone(),
                key.2.clone(),
                Kind::Exposure,
                None,
            ))
            .or_default()
            .push(b);
        }
        for d in intent.deny.iter().filter(|r| applies(r)) {
            let Some(db) = zone_box(
                zones,
                &d.from,
                &d.to,
                &row.src_vpc,
                &row.dst_vpc,
                &d.services,
            ) else {
                continue;
            };
            let hit = whole.intersection(&db);
            if !hit.is_empty() {
                out.entry((
                    key.0.clone(),
                    key.1.clone(),
                    key.2.clone(),
                    Kind::DeniedFlow,
                    Some(d.at.clone()),
                ))
                .or_default()
                .push(hit);
            }
        }
    }
}

/// The findings of grouped boxes: one per merged box, with its components.
fn exposure_findings(model: &Model, intent: &Intent, layer: Layer, out: Groups) -> Vec<Finding> {
    // Each group's findings (a representative explain per box) are independent: in parallel,
    // then sorted with the others by the report.
    out.into_par_iter()
        .flat_map_iter(|((src_vpc, dst_subnet, via, kind, rule), boxes)| {
            let mut findings = Vec::new();
            for b in merge_boxes(boxes) {
                let dst_vpc = model
                    .subnets
                    .get(&dst_subnet)
                    .map(|s| s.vpc.clone())
                    .unwrap_or_else(|| VpcId::new(""));
                let src_account = account_of(model, &src_vpc);
                let external = !intent.is_known_account(&src_account);
                let flows = FlowBox {
                    src_vpc: src_vpc.clone(),
                    src_account,
                    src: b.src.clone(),
                    dst_vpc: dst_vpc.clone(),
                    dst_subnet: Some(dst_subnet.clone()),
                    dst: b.dst.clone(),
                    services: b.svc.clone(),
                    via: Some(via.clone()),
                };
                let mut severity = exposure_severity(&flows, external);
                if kind == Kind::DeniedFlow {
                    severity = severity.max(Severity::High);
                }
                let unseen = model.unseen_vpc(&src_vpc).is_some();
                let components: Vec<Component> = representative(model, &src_vpc, &b, layer)
                    .and_then(|f| explain(model, &f, layer).ok())
                    .map(|e| {
                        let mut c: Vec<Component> = e.path.iter().map(hop_component).collect();
                        // From an unseen peer, your side's route is the one that sends replies
                        // back over the peering (semantics step 22): it names what you can change.
                        if unseen {
                            c.extend(
                                e.return_path
                                    .iter()
                                    .filter(|h| h.kind == HopKind::RouteTable && h.passed)
                                    .filter_map(|h| {
                                        Some(Component {
                                            object: h.id.clone(),
                                            detail: Detail::ReturnRoute(h.detail.route()?.clone()),
                                        })
                                    }),
                            );
                        }
                        c
                    })
                    .unwrap_or_default();
                let tighten = tighten_text(&components, &flows);
                let title = format!(
                    "{} {} → {} {} {} via {}",
                    src_vpc, b.src, dst_vpc, b.dst, b.svc, via
                );
                let fp = fingerprint(&[
                    kind.as_str(),
                    src_vpc.as_str(),
                    dst_subnet.as_str(),
                    &via.to_string(),
                    &b.src.to_string(),
                    &b.dst.to_string(),
                    &b.svc.to_string(),
                ]);
                findings.push(Finding {
                    kind,
                    severity,
                    fingerprint: fp,
                    title,
                    flows: Some(flows),
                    reason: None,
                    components,
                    tighten,
                    rule: rule.clone(),
                    undetermined: false,
                    peerings: Vec::new(),
                });
            }
            findings
        })
        .collect()
}

/// What to tighten, from the components that let a box through.
fn tighten_text(components: &[Component], b: &FlowBox) -> String {
    let mut parts = Vec::new();
    for c in components {
        match (&c.object, &c.detail) {
            (ObjectRef::SecurityGroup(g), Detail::SgRule(Direction::Ingress, rule)) => {
                parts.push(format!("narrow {g} ingress {rule} to the intended sources"))
            }
            (ObjectRef::RouteTable(t), Detail::ReturnRoute(r)) => parts.push(format!(
                "narrow the route in {t} ({r}) that carries replies to the unseen peer to the intended sources' CIDRs"
            )),
            (ObjectRef::RouteTable(t), Detail::Route(r)) => parts.push(format!(
                "narrow the route in {t} ({r}) to the intended destination CIDRs"
            )),
            (
                acl @ (ObjectRef::NetworkAcl(_) | ObjectRef::NoNaclData(_)),
                Detail::Nacl(Direction::Ingress, d @ NaclDecision::Entry(e)),
            ) if e.action == RuleAction::Allow => {
                parts.push(format!("add a deny before {d} in {acl}"))
            }
            _ => {}
        }
    }
    if parts.is_empty() {
        format!(
            "restrict {} from {} or declare it in an allow rule",
            b.services, b.src
        )
    } else {
        parts.join("; ")
    }
}

/// Unions boxes that differ only in their sources (then only in their destinations).
fn merge_boxes(boxes: Vec<Bx>) -> Vec<Bx> {
    let mut by_dst: BTreeMap<(String, String), Bx> = BTreeMap::new();
    for b in boxes {
        let k = (b.dst.to_string(), b.svc.to_string());
        match by_dst.get_mut(&k) {
            Some(e) => e.src = e.src.union(&b.src),
            None => {
                by_dst.insert(k, b);
            }
        }
    }
    let mut by_src: BTreeMap<(String, String), Bx> = BTreeMap::new();
    for b in by_dst.into_values() {
        let k = (b.src.to_string(), b.svc.to_string());
        match by_src.get_mut(&k) {
            Some(e) => e.dst = e.dst.union(&b.dst),
            None => {
                by_src.insert(k, b);
            }
        }
    }
    by_src.into_values().collect()
}

/// The (source VPC, destination VPC) pairs the applicable requirements look at.
fn required_pairs<'z>(
    zones: &'z Zones,
    intent: &Intent,
    layer: Layer,
) -> BTreeSet<(&'z VpcId, &'z VpcId)> {
    let mut out = BTreeSet::new();
    for r in intent
        .require
        .iter()
        .filter(|r| r.layer.is_none_or(|l| l == layer))
    {
        if let (Some(from), Some(to)) = (zones.get(&r.from), zones.get(&r.to)) {
            for sv in from.keys() {
                for dv in to.keys() {
                    out.insert((sv, dv));
                }
            }
        }
    }
    out
}

fn requirements(
    model: &Model,
    intent: &Intent,
    zones: &Zones,
    rows: &[ReachRow],
    layer: Layer,
    scope: Option<&BTreeSet<VpcId>>,
    pairs: Option<&crate::engine::reach::Pairs>,
) -> Vec<Finding> {
    // A region's VPC pairs: the only ones whose flows were computed (whole).
    let region: Option<BTreeSet<(&VpcId, &VpcId)>> = pairs.map(|p| {
        p.iter()
            .flat_map(|(sv, ds)| {
                ds.iter()
                    .filter_map(|d| model.subnets.get(d))
                    .map(move |s| (sv, &s.vpc))
            })
            .collect()
    });
    // In the full layer endpoints are interface addresses: a zone's subnets stand for the
    // interfaces in them.
    // Only for the VPCs the zones name (all of them, or the neighbourhood of a scope).
    let endpoints: BTreeMap<VpcId, IpSet> = match layer {
        Layer::Network => BTreeMap::new(),
        Layer::Full => {
            let vpcs: BTreeSet<&VpcId> = zones.values().flat_map(|z| z.keys()).collect();
            let ix = model.index();
            vpcs.into_iter()
                .map(|v| {
                    let addrs = ix
                        .subnets_of(v)
                        .iter()
                        .flat_map(|s| ix.enis_in(s))
                        .filter_map(|e| model.network_interfaces.get(e))
                        .flat_map(|e| e.addresses.iter().map(|a| ipnet::IpNet::from(*a)));
                    (v.clone(), IpSet::from_nets(addrs))
                })
                .collect()
        }
    };
    // An unseen VPC has no interfaces the snapshot knows: any of its addresses is an endpoint.
    let restrict = |vpc: &VpcId, set: &IpSet| match layer {
        Layer::Full if model.unseen_vpc(vpc).is_none() => {
            set.intersection(endpoints.get(vpc).unwrap_or(&IpSet::new()))
        }
        _ => set.clone(),
    };
    // Connectable rows per VPC pair, in row order: each pair a requirement names looks at
    // its own rows only (was: every row, for every pair).
    let mut by_pair: foldhash::HashMap<(&VpcId, &VpcId), Vec<&ReachRow>> =
        foldhash::HashMap::default();
    for r in rows.iter().filter(|r| r.connectable) {
        by_pair.entry((&r.src_vpc, &r.dst_vpc)).or_default().push(r);
    }
    let mut findings = Vec::new();
    for req in intent
        .require
        .iter()
        .filter(|r| r.layer.is_none_or(|l| l == layer))
    {
        let empty = BTreeMap::new();
        let from = zones.get(&req.from).unwrap_or(&empty);
        let to = zones.get(&req.to).unwrap_or(&empty);
        for (sv, ss) in from {
            for (dv, ds) in to {
                if scope.is_some_and(|s| !s.contains(sv) && !s.contains(dv)) {
                    continue;
                }
                if region.as_ref().is_some_and(|r| !r.contains(&(sv, dv))) {
                    continue;
                }
                // A packet has one address family: IPv4 to IPv4 and IPv6 to IPv6.
                let (src, dst) = (restrict(sv, ss), restrict(dv, ds));
                let mut missing: Vec<Bx> = [IpSet::all_v4(), IpSet::all_v6()]
                    .iter()
                    .map(|fam| Bx {
                        src: src.intersection(fam),
                        dst: dst.intersection(fam),
                        svc: req.services.clone(),
                    })
                    .filter(|b| !b.is_empty())
                    .collect();
                if missing.is_empty() {
                    continue;
                }
                for r in by_pair.get(&(sv, dv)).into_iter().flatten() {
                    let got = Bx {
                        src: r.src.clone(),
                        dst: r.dst.clone(),
                        svc: r.services.clone(),
                    };
                    missing = missing.iter().flat_map(|b| b.difference(&got)).collect();
                    if missing.is_empty() {
                        break;
                    }
                }
                for b in merge_boxes(missing) {
                    let explanation = representative(model, sv, &b, layer)
                        .and_then(|f| explain(model, &f, layer).ok());
                    let reason = explanation.as_ref().and_then(|e| e.reason);
                    let components: Vec<Component> = explanation
                        .as_ref()
                        .map(|e| {
                            e.path
                                .iter()
                                .chain(&e.return_path)
                                .map(hop_component)
                                .collect()
                        })
                        .unwrap_or_default();
                    // The component that drops the flow: the first hop that did not pass.
                    let decider = explanation
                        .as_ref()
                        .and_then(|e| e.path.iter().chain(&e.return_path).find(|h| !h.passed))
                        .map(|h| format!("{} {} ({})", h.kind, h.id, h.detail))
                        .unwrap_or_else(|| "an unknown component".into());
                    let flows = FlowBox {
                        src_vpc: sv.clone(),
                        src_account: account_of(model, sv),
                        src: b.src.clone(),
                        dst_vpc: dv.clone(),
                        dst_subnet: None,
                        dst: b.dst.clone(),
                        services: b.svc.clone(),
                        via: None,
                    };
                    let why = req.why.as_deref().unwrap_or("required");
                    // Into an unseen VPC your side delivers it to the peering; what happens
                    // beyond is unknown (semantics step 23): reported, not called broken.
                    let kind = if reason == Some(Reason::UnseenPeer) {
                        Kind::RequirementToUnseenPeer
                    } else {
                        Kind::BrokenRequirement
                    };
                    let fp = fingerprint(&[
                        kind.as_str(),
                        &req.from,
                        &req.to,
                        sv.as_str(),
                        dv.as_str(),
                        &b.src.to_string(),
                        &b.dst.to_string(),
                        &b.svc.to_string(),
                    ]);
                    let (severity, title, tighten) = match kind {
                        Kind::RequirementToUnseenPeer => {
                            let pcx = components
                                .iter()
                                .rev()
                                .find_map(|c| match &c.object {
                                    ObjectRef::Peering(p) => Some(p.to_string()),
                                    _ => None,
                                })
                                .unwrap_or_default();
                            (
                                Severity::Info,
                                format!(
                                    "required {} → {} {} ({why}) leaves over {pcx} to unseen {dv}: your side routes it there; whether it arrives is decided in the peer's account [{sv} {} → {dv} {}]",
                                    req.from, req.to, b.svc, b.src, b.dst,
                                ),
                                format!(
                                    "nothing on your side; confirm with the owner of {dv} that its routes, NACLs and security groups admit {} from {}",
                                    b.svc, b.src
                                ),
                            )
                        }
                        _ => (
                            Severity::High,
                            format!(
                                "required {} → {} {} ({why}) is not connectable: {} [{sv} {} → {dv} {}]",
                                req.from,
                                req.to,
                                b.svc,
                                reason
                                    .map(|r| r.to_string())
                                    .unwrap_or_else(|| "unknown".into()),
                                b.src,
                                b.dst,
                            ),
                            format!("restore the path: it fails at {decider}"),
                        ),
                    };
                    findings.push(Finding {
                        kind,
                        severity,
                        fingerprint: fp,
                        title,
                        flows: Some(flows),
                        reason,
                        tighten,
                        components,
                        rule: Some(req.at.clone()),
                        undetermined: false,
                        peerings: Vec::new(),
                    });
                }
            }
        }
    }
    findings
}
