//! The inventory `peerscope check` prints: object counts per account and region, peerings by
//! status, prefix lists, the VPCs known only from peering records (unseen peers), and every
//! diagnostic. The text rendering shows values from the snapshot through
//! [`crate::escape::terminal`].

use std::collections::BTreeMap;
use std::fmt::Write;

use serde::Serialize;

use crate::diagnostics::{Diagnostic, Severity, count};
use crate::escape::terminal;
use crate::model::{AccountId, Damage, Model, Region, UnseenVpc};
use crate::snapshot::Loaded;

/// Counts for one account and region.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub vpcs: usize,
    pub subnets: usize,
    pub route_tables: usize,
    pub routes: usize,
    pub security_groups: usize,
    pub security_group_rules: usize,
    pub network_acls: usize,
    pub network_acl_entries: usize,
    pub network_interfaces: usize,
}

impl Counts {
    fn add(&mut self, o: &Counts) {
        self.vpcs += o.vpcs;
        self.subnets += o.subnets;
        self.route_tables += o.route_tables;
        self.routes += o.routes;
        self.security_groups += o.security_groups;
        self.security_group_rules += o.security_group_rules;
        self.network_acls += o.network_acls;
        self.network_acl_entries += o.network_acl_entries;
        self.network_interfaces += o.network_interfaces;
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LocationCounts {
    pub account: AccountId,
    pub region: Region,
    #[serde(flatten)]
    pub counts: Counts,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub errors: usize,
    pub warnings: usize,
    pub infos: usize,
}

/// The whole inventory.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Inventory {
    pub files_read: usize,
    pub files_recognised: usize,
    pub locations: Vec<LocationCounts>,
    pub totals: Counts,
    /// Peering connections by `Status.Code`.
    pub peerings: BTreeMap<String, usize>,
    pub prefix_lists: usize,
    pub prefix_list_entries: usize,
    /// VPCs known only from peering records, by account then id (semantics step 21).
    pub unseen_vpcs: Vec<UnseenVpc>,
    /// What damaged input touches (docs/failure-policy.md); absent for a whole snapshot.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub damage: Option<Damage>,
    pub diagnostics: Vec<Diagnostic>,
    pub summary: Summary,
}

/// Counts a model per account and region.
pub fn counts(model: &Model) -> BTreeMap<(AccountId, Region), Counts> {
    let mut by: BTreeMap<(AccountId, Region), Counts> = BTreeMap::new();
    fn at<'m>(
        by: &'m mut BTreeMap<(AccountId, Region), Counts>,
        a: &AccountId,
        r: &Region,
    ) -> &'m mut Counts {
        by.entry((a.clone(), r.clone())).or_default()
    }
    for v in model.vpcs.values() {
        at(&mut by, &v.account, &v.region).vpcs += 1;
    }
    for s in model.subnets.values() {
        at(&mut by, &s.account, &s.region).subnets += 1;
    }
    for t in model.route_tables.values() {
        let c = at(&mut by, &t.account, &t.region);
        c.route_tables += 1;
        c.routes += t.routes.len();
    }
    for g in model.security_groups.values() {
        let c = at(&mut by, &g.account, &g.region);
        c.security_groups += 1;
        c.security_group_rules += g.ingress.len() + g.egress.len();
    }
    for a in model.network_acls.values() {
        let c = at(&mut by, &a.account, &a.region);
        c.network_acls += 1;
        c.network_acl_entries += a.ingress.len() + a.egress.len();
    }
    for e in model.network_interfaces.values() {
        at(&mut by, &e.account, &e.region).network_interfaces += 1;
    }
    by
}

impl Inventory {
    pub fn new(loaded: &Loaded) -> Inventory {
        let model = &loaded.model;
        let mut totals = Counts::default();
        let locations = counts(model)
            .into_iter()
            .map(|((account, region), counts)| {
                totals.add(&counts);
                LocationCounts {
                    account,
                    region,
                    counts,
                }
            })
            .collect();
        let mut peerings = BTreeMap::new();
        for p in model.peerings.values() {
            *peerings.entry(p.status.to_string()).or_default() += 1;
        }
        let d = &loaded.diagnostics;
        Inventory {
            files_read: loaded.files_read,
            files_recognised: loaded.files_recognised,
            locations,
            totals,
            peerings,
            prefix_lists: model.prefix_lists.len(),
            prefix_list_entries: model.prefix_lists.values().map(|p| p.cidrs.len()).sum(),
            unseen_vpcs: {
                let mut u: Vec<UnseenVpc> = model.unseen_vpcs().values().cloned().collect();
                u.sort_by(|a, b| (&a.account, &a.id).cmp(&(&b.account, &b.id)));
                u
            },
            damage: (!model.damage.is_empty()).then(|| model.damage.clone()),
            diagnostics: d.clone(),
            summary: Summary {
                errors: count(d, Severity::Error),
                warnings: count(d, Severity::Warning),
                infos: count(d, Severity::Info),
            },
        }
    }

    /// The human-readable rendering.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        let mut t = super::table([
            "account",
            "region",
            "VPCs",
            "subnets",
            "route tables",
            "routes",
            "SGs",
            "SG rules",
            "NACLs",
            "NACL entries",
            "ENIs",
        ]);
        let row = |a: &str, r: &str, c: &Counts| {
            vec![
                terminal(a).into_owned(),
                terminal(r).into_owned(),
                c.vpcs.to_string(),
                c.subnets.to_string(),
                c.route_tables.to_string(),
                c.routes.to_string(),
                c.security_groups.to_string(),
                c.security_group_rules.to_string(),
                c.network_acls.to_string(),
                c.network_acl_entries.to_string(),
                c.network_interfaces.to_string(),
            ]
        };
        for l in &self.locations {
            t.add_row(row(l.account.as_str(), l.region.as_str(), &l.counts));
        }
        if self.locations.len() > 1 {
            t.add_row(row("total", "", &self.totals));
        }
        let _ = writeln!(out, "{t}");
        let peerings: Vec<String> = self
            .peerings
            .iter()
            .map(|(s, n)| format!("{n} {}", terminal(s)))
            .collect();
        let _ = writeln!(
            out,
            "peering connections: {}",
            if peerings.is_empty() {
                "none".to_owned()
            } else {
                peerings.join(", ")
            }
        );
        let _ = writeln!(
            out,
            "prefix lists: {} ({} entries)",
            self.prefix_lists, self.prefix_list_entries
        );
        if !self.unseen_vpcs.is_empty() {
            let mut t = super::table(["account", "region", "unseen VPC", "CIDRs", "connections"]);
            for u in &self.unseen_vpcs {
                let list = |v: Vec<String>| v.join("\n");
                t.add_row(vec![
                    u.account
                        .as_ref()
                        .map(|a| terminal(a.as_str()).into_owned())
                        .unwrap_or_else(|| "unknown".into()),
                    u.region
                        .as_ref()
                        .map(|r| terminal(r.as_str()).into_owned())
                        .unwrap_or_else(|| "unknown".into()),
                    terminal(u.id.as_str()).into_owned(),
                    list(u.cidrs.iter().map(|c| c.to_string()).collect()),
                    list(
                        u.peerings
                            .iter()
                            .map(|p| terminal(p.as_str()).into_owned())
                            .collect(),
                    ),
                ]);
            }
            let _ = writeln!(
                out,
                "unseen VPCs (known only from peering records; their side is judged by the worst case):\n{t}"
            );
        }
        let _ = writeln!(
            out,
            "files: {} read, {} with describe-* data",
            self.files_read, self.files_recognised
        );
        if !self.diagnostics.is_empty() {
            let _ = writeln!(out);
            for d in &self.diagnostics {
                let _ = writeln!(out, "{d}");
            }
        }
        let _ = writeln!(
            out,
            "\n{} error(s), {} warning(s), {} info",
            self.summary.errors, self.summary.warnings, self.summary.infos
        );
        if let Some(d) = &self.damage {
            let reach = d.to_string();
            let _ = writeln!(
                out,
                "damaged: {} diagnostic(s) above are damage, touching {reach}; query, reach, audit, diff, what-if and graph refuse this snapshot unless given --allow-damaged (docs/failure-policy.md)",
                d.count
            );
        }
        out
    }
}
