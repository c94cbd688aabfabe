//! The audit for people at a terminal: one row per finding, most severe first.

use std::fmt::Write;

use super::{Context, Reporter};
use crate::audit::AuditReport;

pub struct Table;

impl Reporter for Table {
    fn render(&self, report: &AuditReport, _ctx: &Context) -> String {
        let mut out = String::new();
        if report.findings.is_empty() {
            let _ = writeln!(out, "no findings ({} layer)", report.layer);
            return out;
        }
        let mut t = crate::report::table([
            "severity",
            "kind",
            "finding",
            "what to tighten",
            "fingerprint",
        ]);
        for f in &report.findings {
            t.add_row(vec![
                f.severity.to_string(),
                f.kind.to_string(),
                f.title.clone(),
                f.tighten.clone(),
                f.fingerprint.clone(),
            ]);
        }
        let _ = writeln!(out, "{t}");
        let summary: Vec<String> = report
            .summary
            .iter()
            .rev()
            .map(|(s, n)| format!("{n} {s}"))
            .collect();
        let _ = writeln!(
            out,
            "{} finding(s): {} ({} layer{})",
            report.findings.len(),
            summary.join(", "),
            report.layer,
            report
                .intent
                .as_ref()
                .map(|i| format!(", intent {i}"))
                .unwrap_or_else(|| ", no intent: hygiene only".into())
        );
        out
    }
}
