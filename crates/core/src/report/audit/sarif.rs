//! The audit as SARIF 2.1.0, so findings show in code-scanning tools. Each finding points at
//! the snapshot file of its first component (the object to tighten) and names the objects as
//! logical locations; `partialFingerprints` carries peerscope's stable fingerprint.

use serde_json::{Value, json};

use super::{Context, Reporter};
use crate::audit::{AuditReport, Kind, Severity};

pub struct Sarif;

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

impl Reporter for Sarif {
    fn render(&self, report: &AuditReport, ctx: &Context) -> String {
        let rules: Vec<Value> = Kind::ALL
            .iter()
            .map(|k| {
                json!({
                    "id": k.as_str(),
                    "name": k.as_str(),
                    "shortDescription": { "text": k.description() },
                })
            })
            .collect();
        let results: Vec<Value> = report
            .findings
            .iter()
            .map(|f| {
                let file = f
                    .components
                    .iter()
                    .find_map(|c| c.object.aws_id().and_then(|id| ctx.origins.get(id)))
                    .map(|p| ctx.snapshot.join(p))
                    .or_else(|| f.rule.as_ref().map(|r| r.file.clone()));
                // Each object once (a broken requirement's return path revisits some).
                let mut seen = std::collections::BTreeSet::new();
                let logical: Vec<Value> = f
                    .components
                    .iter()
                    .filter(|c| seen.insert(&c.object))
                    .map(|c| json!({ "name": c.object, "kind": "resource", "fullyQualifiedName": format!("{}/{}", c.kind(), c.object) }))
                    .collect();
                let mut location = json!({ "logicalLocations": logical });
                if let Some(file) = file {
                    let uri = file.to_string_lossy().replace('\\', "/");
                    location["physicalLocation"] = json!({ "artifactLocation": { "uri": uri } });
                }
                json!({
                    "ruleId": f.kind.as_str(),
                    "ruleIndex": Kind::ALL.iter().position(|k| *k == f.kind).unwrap_or(0),
                    "level": level(f.severity),
                    "message": { "text": format!("{} — tighten: {}", f.title, f.tighten) },
                    "locations": [location],
                    "partialFingerprints": { "peerscope/v1": f.fingerprint },
                    "properties": if f.undetermined {
                        json!({ "severity": f.severity.to_string(), "undetermined": true })
                    } else {
                        json!({ "severity": f.severity.to_string() })
                    },
                })
            })
            .collect();
        let mut doc = json!({
            "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
            "version": "2.1.0",
            "runs": [{
                "tool": { "driver": {
                    "name": "peerscope",
                    "version": env!("CARGO_PKG_VERSION"),
                    "rules": rules,
                }},
                "results": results,
            }],
        });
        // Damaged input: the run did not finish cleanly, and says why (SARIF's invocation
        // notifications), so code scanning does not take a partial answer as whole.
        if let Some(text) = super::damage_banner(report) {
            doc["runs"][0]["invocations"] = json!([{
                "executionSuccessful": false,
                "toolExecutionNotifications": [{ "level": "error", "message": { "text": text } }],
            }]);
            doc["runs"][0]["properties"] = json!({ "damage": report.damage });
        }
        let mut s = serde_json::to_string_pretty(&doc).expect("SARIF serialises");
        s.push('\n');
        s
    }
}
