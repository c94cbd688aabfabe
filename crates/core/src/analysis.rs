//! The analysis as a value: one model, one layer, one scope — its reach computed at most once
//! and shared by every question asked of it.
//!
//! A command builds one [`Analysis`] per (model, layer, scope) and asks it questions:
//! [`Analysis::audit`] (exposures, denied flows, requirements, hygiene), [`Analysis::rows`]
//! (`reach`, the map's flows), and `diff`/`what-if` compare two scoped analyses. The reach rows
//! are computed on first use ([`Analysis::rows`]) and then borrowed, so an audit followed by a
//! map, or a diff's flow comparison followed by its audit, runs `reach` once; an audit without
//! intent never runs it. The default-layer rule lives here ([`default_layer`]) and nowhere
//! else.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use crate::audit::AuditReport;
use crate::engine::Layer;
use crate::engine::reach::{Pairs, ReachOptions, ReachRow, reach};
use crate::intent::Intent;
use crate::model::{Model, VpcId};
use crate::sets::IpSet;

/// Intent zones resolved on a model: zone name → its addresses per VPC.
pub type Zones = BTreeMap<String, BTreeMap<VpcId, IpSet>>;

/// The layer an analysis uses: the one asked for, else the intent's, else full when the
/// snapshot has network interfaces.
pub fn default_layer(model: &Model, intent: Option<&Intent>, layer: Option<Layer>) -> Layer {
    layer
        .or(intent.and_then(|i| i.layer))
        .unwrap_or(if model.network_interfaces.is_empty() {
            Layer::Network
        } else {
            Layer::Full
        })
}

/// One analysis of a model (see the module documentation).
pub struct Analysis<'a> {
    model: &'a Model,
    intent: Option<&'a Intent>,
    layer: Layer,
    scope: Option<BTreeSet<VpcId>>,
    /// The VPCs a scoped analysis looks at: the scope and its peers.
    within: Option<BTreeSet<VpcId>>,
    zones: Zones,
    intra_vpc: bool,
    /// A what-if's region: only these (source VPC, destination subnet) pairs' flows.
    pairs: Option<Pairs>,
    /// The audit aggregates rows as they are produced instead of holding them
    /// ([`Analysis::streamed`]).
    stream: bool,
    rows: OnceLock<Vec<ReachRow>>,
}

impl<'a> Analysis<'a> {
    /// The whole model, in `layer` (else the [`default_layer`]).
    pub fn new(model: &'a Model, intent: Option<&'a Intent>, layer: Option<Layer>) -> Self {
        Analysis::scoped(model, intent, layer, None, false)
    }

    /// What a change to the VPCs in `scope` can alter (`None`: everything): flows from or to
    /// them, and hygiene of their objects and their peers'. Two scoped analyses of the same
    /// scope differ exactly where the whole analyses differ, when the models differ only
    /// inside the scope (what-if and diff). `include_intra_vpc` asks for flows within a VPC
    /// even when the intent does not need them.
    pub fn scoped(
        model: &'a Model,
        intent: Option<&'a Intent>,
        layer: Option<Layer>,
        scope: Option<BTreeSet<VpcId>>,
        include_intra_vpc: bool,
    ) -> Self {
        let layer = default_layer(model, intent, layer);
        let within = scope.as_ref().map(|s| model.neighbourhood(s));
        let zones = intent
            .map(|i| i.resolve_within(model, within.as_ref()))
            .unwrap_or_default();
        let intra_vpc =
            include_intra_vpc || intent.is_some_and(|i| needs_intra_vpc(&zones, i, layer));
        Analysis {
            model,
            intent,
            layer,
            scope,
            within,
            zones,
            intra_vpc,
            pairs: None,
            stream: false,
            rows: OnceLock::new(),
        }
    }

    /// For a command that asks only for the audit: its rows are aggregated as they are
    /// produced (exposure boxes per group, the requirements' rows) and never all held. Rows
    /// asked for later are computed then. The findings are the same.
    pub fn streamed(mut self) -> Self {
        self.stream = true;
        self
    }

    /// Whether the audit streams (asked for, and the rows not computed already).
    pub fn streams(&self) -> bool {
        self.stream && self.rows.get().is_none()
    }

    /// The options `reach` runs with for this analysis.
    pub fn reach_options(&self) -> ReachOptions {
        ReachOptions {
            layer: Some(self.layer),
            include_intra_vpc: self.intra_vpc,
            // A region's pairs are within the scope's neighbourhood, and decide alone.
            scope: self.scope.clone().filter(|_| self.pairs.is_none()),
            pairs: self.pairs.clone(),
            ..Default::default()
        }
    }

    /// Restricts the flows to a region's (source VPC, destination subnet) pairs, each whole
    /// (`diff::region`): exposures are those of the pairs, requirements those of the VPC pairs
    /// the region covers (it holds every subnet of their destination VPC); hygiene keeps the
    /// scope.
    pub fn with_pairs(mut self, pairs: Option<Pairs>) -> Self {
        self.pairs = pairs;
        self.rows = OnceLock::new();
        self
    }

    /// The region's pairs, if the analysis is restricted to one.
    pub fn pairs(&self) -> Option<&Pairs> {
        self.pairs.as_ref()
    }

    pub fn model(&self) -> &'a Model {
        self.model
    }

    pub fn intent(&self) -> Option<&'a Intent> {
        self.intent
    }

    pub fn layer(&self) -> Layer {
        self.layer
    }

    /// The VPCs the analysis is restricted to, if it is.
    pub fn scope(&self) -> Option<&BTreeSet<VpcId>> {
        self.scope.as_ref()
    }

    /// The scope and its peers, if the analysis is scoped.
    pub fn within(&self) -> Option<&BTreeSet<VpcId>> {
        self.within.as_ref()
    }

    /// The intent's zones on the model (within the neighbourhood of a scope).
    pub fn zones(&self) -> &Zones {
        &self.zones
    }

    /// Whether the rows hold flows within a VPC.
    pub fn includes_intra_vpc(&self) -> bool {
        self.intra_vpc
    }

    /// Every delivered box of the analysis's layer and scope (flows within a VPC when
    /// [`Analysis::includes_intra_vpc`]), computed on first use.
    pub fn rows(&self) -> &[ReachRow] {
        self.rows
            .get_or_init(|| reach(self.model, &self.reach_options()))
    }

    /// The rows, computed if they were not, handed over.
    pub fn into_rows(self) -> Vec<ReachRow> {
        self.rows();
        self.rows.into_inner().unwrap_or_default()
    }

    /// The audit: against the intent when there is one, hygiene always.
    pub fn audit(&self) -> AuditReport {
        crate::audit::report(self)
    }
}

/// Whether an audit needs flows within a VPC: when the intent audits them, or when a
/// requirement's two zones share a VPC. Otherwise `reach` skips them (they are about half of
/// its work on a generated organisation).
fn needs_intra_vpc(zones: &Zones, intent: &Intent, layer: Layer) -> bool {
    if intent.audit_intra_vpc {
        return true;
    }
    let empty = BTreeMap::new();
    intent
        .require
        .iter()
        .filter(|r| r.layer.is_none_or(|l| l == layer))
        .any(|r| {
            let from = zones.get(&r.from).unwrap_or(&empty);
            let to = zones.get(&r.to).unwrap_or(&empty);
            from.keys().any(|v| to.contains_key(v))
        })
}
