//! The audit as Markdown, fit for a pull-request comment. Every value from the snapshot or the
//! intent (ids, titles that quote zone names and `why` texts, details) goes through
//! [`crate::escape`]: no HTML, no markup, no mentions or issue references.

use std::fmt::Write;

use super::{Context, Reporter};
use crate::audit::AuditReport;
use crate::escape::{markdown as text, markdown_code, markdown_code_in_table};

pub struct Markdown;

impl Reporter for Markdown {
    fn render(&self, report: &AuditReport, _ctx: &Context) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "## peerscope audit\n");
        if let Some(b) = super::damage_banner(report) {
            let _ = writeln!(out, "> [!CAUTION]\n> {}\n", text(&b));
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
                .map(|i| format!(", intent {}", markdown_code(i)))
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
                "| {} | `{}` | {} | {} | {} |",
                f.severity,
                f.kind,
                text(&super::title_of(f)),
                text(&f.tighten),
                markdown_code_in_table(&f.fingerprint)
            );
        }
        let _ = writeln!(
            out,
            "\n<details><summary>Components per finding</summary>\n"
        );
        for f in &report.findings {
            let _ = writeln!(
                out,
                "- {} {}",
                markdown_code(&f.fingerprint),
                text(&f.title)
            );
            for c in &f.components {
                let _ = writeln!(
                    out,
                    "  - {} {}: {}",
                    text(c.kind()),
                    markdown_code(&c.object.to_string()),
                    text(&c.detail.to_string())
                );
            }
        }
        let _ = writeln!(out, "\n</details>");
        out
    }
}
