//! The audit for people at a terminal: one row per finding, most severe first.
//!
//! [`Reporter::render`] gives the plain table (what golden files and pipes get);
//! [`Table::render_with_colour`] colours the severity column, for a terminal — the CLI decides
//! (stdout a terminal and `NO_COLOR` unset). Values from the snapshot or the intent are shown
//! through [`crate::escape::terminal`], so the only escape sequences are the table's own colours.

use std::fmt::Write;

use comfy_table::{Attribute, Cell, Color};

use super::{Context, Reporter};
use crate::audit::{AuditReport, Severity};
use crate::escape::terminal;

pub struct Table;

impl Reporter for Table {
    fn render(&self, report: &AuditReport, ctx: &Context) -> String {
        self.render_with_colour(report, ctx, false)
    }
}

/// The severity cell: critical and high red (critical bold), medium yellow, low and info dim.
fn severity_cell(s: Severity, colour: bool) -> Cell {
    let cell = Cell::new(s);
    if !colour {
        return cell;
    }
    match s {
        Severity::Critical => cell.fg(Color::Red).add_attribute(Attribute::Bold),
        Severity::High => cell.fg(Color::Red),
        Severity::Medium => cell.fg(Color::Yellow),
        Severity::Low | Severity::Info => cell.add_attribute(Attribute::Dim),
    }
}

impl Table {
    /// The table; with `colour`, the severity column is coloured with ANSI escapes whatever
    /// stdout is (the caller has decided it is a terminal).
    pub fn render_with_colour(&self, report: &AuditReport, _ctx: &Context, colour: bool) -> String {
        let mut out = String::new();
        let banner = super::damage_banner(report);
        if report.findings.is_empty() {
            let _ = writeln!(out, "no findings ({} layer)", report.layer);
            if let Some(b) = banner {
                let _ = writeln!(out, "{b}");
            }
            return out;
        }
        let mut t = crate::report::table([
            "severity",
            "kind",
            "finding",
            "what to tighten",
            "fingerprint",
        ]);
        if colour {
            // comfy-table styles only when it sees a terminal itself; the caller decided.
            t.enforce_styling();
            t.style_text_only();
        }
        for f in &report.findings {
            t.add_row(vec![
                severity_cell(f.severity, colour),
                Cell::new(f.kind),
                Cell::new(terminal(&super::title_of(f))),
                Cell::new(terminal(&f.tighten)),
                Cell::new(terminal(&f.fingerprint)),
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
                .map(|i| format!(", intent {}", terminal(i)))
                .unwrap_or_else(|| ", no intent: hygiene only".into())
        );
        if let Some(b) = banner {
            let _ = writeln!(out, "{b}");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::{Finding, Kind};
    use crate::engine::Layer;

    fn report() -> AuditReport {
        let finding = |severity| Finding {
            kind: Kind::Exposure,
            severity,
            fingerprint: "0123456789abcdef".into(),
            title: "a flow".into(),
            flows: None,
            reason: None,
            components: Vec::new(),
            tighten: "the rule".into(),
            rule: None,
            undetermined: false,
            peerings: Vec::new(),
        };
        AuditReport {
            layer: Layer::Full,
            intent: None,
            findings: vec![
                finding(Severity::Critical),
                finding(Severity::High),
                finding(Severity::Medium),
                finding(Severity::Low),
                finding(Severity::Info),
            ],
            summary: Default::default(),
            damage: None,
        }
    }

    #[test]
    fn coloured_or_not_the_only_escapes_are_the_tables_own() {
        let mut r = report();
        r.findings[0].title = "a \u{1b}[2J\u{1b}]0;pwned\u{7} title \u{202e}".into();
        r.findings[0].tighten = "line\nforged: DELIVERED".into();
        for colour in [false, true] {
            let out = Table.render_with_colour(&r, &Context::none(), colour);
            assert!(
                out.contains("a \\x1b[2J\\x1b]0;pwned\\x07 title \\u{202e}"),
                "{out}"
            );
            assert!(out.contains("line\\nforged: DELIVERED"), "{out}");
            assert!(
                !out.contains("\u{1b}[2J") && !out.contains('\u{202e}'),
                "{out}"
            );
        }
    }

    #[test]
    fn plain_unless_asked_for_colour() {
        let r = report();
        let ctx = Context::none();
        let plain = Table.render(&r, &ctx);
        assert!(!plain.contains('\x1b'), "{plain}");
        assert_eq!(plain, Table.render_with_colour(&r, &ctx, false));
        let coloured = Table.render_with_colour(&r, &ctx, true);
        let strip = |s: &str| {
            let mut out = String::new();
            let mut esc = false;
            for c in s.chars() {
                match (esc, c) {
                    (false, '\x1b') => esc = true,
                    (true, 'm') => esc = false,
                    (true, _) => {}
                    (false, c) => out.push(c),
                }
            }
            out
        };
        let row = |sev: &str| {
            coloured
                .lines()
                .find(|l| strip(l).starts_with(&format!("│ {sev} ")))
                .unwrap_or_else(|| panic!("no {sev} row in {coloured}"))
                .to_owned()
        };
        // Red for critical and high, yellow for medium, dim for low and info (crossterm's SGR
        // codes), and only in the severity column.
        for (sev, code) in [
            ("critical", "\x1b[38;5;9m"),
            ("high", "\x1b[38;5;9m"),
            ("medium", "\x1b[38;5;11m"),
            ("low", "\x1b[2m"),
            ("info", "\x1b[2m"),
        ] {
            let row = row(sev);
            assert!(row.starts_with(&format!("│ {code}")), "{row:?}");
            assert_eq!(row.matches(code).count(), 1, "{row:?}");
        }
        assert_eq!(strip(&coloured), plain);
    }
}
