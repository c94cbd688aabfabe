//! The audit as Markdown, fit for a pull-request comment.

use std::fmt::Write;

use super::{Context, Reporter};
use crate::audit::AuditReport;

pub struct Markdown;

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

impl Reporter for Markdown {
    fn render(&self, report: &AuditReport, _ctx: &Context) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "## peerscope audit\n");
        if let Some(b) = super::damage_banner(report) {
            let _ = writeln!(out, "> [!CAUTION]\n> {}\n", cell(&b));
        }
        if report.findings.is_empty() {
            let _ = writeln!(out, "No findings ({} layer).", report.layer);
            return out;
        }
        let summary: Vec<String> = report
            .summary
            .iter()
            .rev()
            .map(|(s, n)| format!("**{n}** {s}"))
            .collect();
        let _ = writeln!(
            out,
            "{} finding(s): {} — {} layer{}.\n",
            report.findings.len(),
            summary.join(", "),
            report.layer,
            report
                .intent
                .as_ref()
                .map(|i| format!(", intent `{i}`"))
                .unwrap_or_default()
        );
        let _ = writeln!(
            out,
            "| severity | kind | finding | what to tighten | fingerprint |"
        );
        let _ = writeln!(out, "|---|---|---|---|---|");
        for f in &report.findings {
            let _ = writeln!(
                out,
                "| {} | `{}` | {} | {} | `{}` |",
                f.severity,
                f.kind,
                cell(&super::title_of(f)),
                cell(&f.tighten),
                f.fingerprint
            );
        }
        let _ = writeln!(
            out,
            "\n<details><summary>Components per finding</summary>\n"
        );
        for f in &report.findings {
            let _ = writeln!(out, "- `{}` {}", f.fingerprint, cell(&f.title));
            for c in &f.components {
                let _ = writeln!(out, "  - {} `{}`: {}", c.kind, c.id, cell(&c.detail));
            }
        }
        let _ = writeln!(out, "\n</details>");
        out
    }
}
