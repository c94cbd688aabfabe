//! Diff and what-if reporters, in the audit's formats: a table for people, JSON for machines,
//! Markdown for pull requests, SARIF for code-scanning tools. Each says first whether the
//! change adds exposure beyond intent or breaks a required flow, then the flows that changed,
//! then the findings added and resolved. Values from the snapshots, the intent and the change
//! (ids, titles, operations) are escaped for the table and Markdown by [`crate::escape`].

use std::fmt::Write;

use serde_json::{Value, json};

use crate::audit::{Finding, Kind, Severity};
use crate::diff::{DiffReport, FlowChange, FlowChangeKind};
use crate::escape::{markdown as md, markdown_code_in_table as md_code, terminal};

/// The output formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Table,
    Json,
    Markdown,
    Sarif,
}

pub fn render(report: &DiffReport, format: Format) -> String {
    match format {
        Format::Table => table(report),
        Format::Json => {
            let mut s = serde_json::to_string_pretty(report).expect("diff serialises");
            s.push('\n');
            s
        }
        Format::Markdown => markdown(report),
        Format::Sarif => sarif(report),
    }
}

fn verdict(r: &DiffReport) -> String {
    let base = verdict_line(r);
    match damage_banner(r) {
        Some(b) => format!("{base}\n{b}"),
        None => base,
    }
}

/// The warning every format carries when either snapshot is damaged (docs/failure-policy.md).
fn damage_banner(r: &DiffReport) -> Option<String> {
    let d = r.damage.as_ref()?;
    Some(format!(
        "UNDETERMINED: a snapshot is damaged ({} diagnostic(s); `peerscope check` lists them), touching {}: changes there may be missing or wrong",
        d.count, d
    ))
}

fn verdict_line(r: &DiffReport) -> String {
    let s = &r.summary;
    if r.is_empty() {
        return format!("no change in reachability or findings ({} layer)", r.layer);
    }
    let mut parts = vec![
        format!("{} newly delivered", s.newly_delivered),
        format!("{} no longer delivered", s.no_longer_delivered),
        format!("{} no longer connectable", s.no_longer_connectable),
        format!("{} newly connectable", s.newly_connectable),
    ];
    if r.intent.is_some() {
        parts.push(format!("{} finding(s) added", s.findings_added));
        parts.push(format!("{} resolved", s.findings_resolved));
    }
    let judgement = match (s.beyond_intent, s.broken_requirements) {
        (0, 0) => "within intent".to_owned(),
        (e, 0) => format!("ADDS EXPOSURE beyond intent ({e} box(es))"),
        (0, b) => format!("BREAKS REQUIRED FLOWS ({b} box(es))"),
        (e, b) => format!(
            "ADDS EXPOSURE beyond intent ({e} box(es)) and BREAKS REQUIRED FLOWS ({b} box(es))"
        ),
    };
    format!(
        "{judgement}: {} ({} layer{})",
        parts.join(", "),
        r.layer,
        r.intent
            .as_ref()
            .map(|i| format!(", intent {i}"))
            .unwrap_or_else(|| ", no intent: every new flow counts as exposure".into())
    )
}

fn mark(f: &FlowChange) -> String {
    let sev = f.severity.map(|s| format!(" ({s})")).unwrap_or_default();
    if f.beyond_intent {
        format!("beyond intent{sev}")
    } else if f.breaks_requirement {
        format!("breaks requirement{sev}")
    } else {
        String::new()
    }
}

fn change_lines(r: &DiffReport) -> Vec<String> {
    let Some(c) = &r.change else {
        return Vec::new();
    };
    let mut out: Vec<String> = c.applied.clone();
    for (what, id) in &c.placeholders {
        out.push(format!("{what} → {id}"));
    }
    for n in &c.not_understood {
        out.push(format!("NOT APPLIED: {n}"));
    }
    out
}

fn table(r: &DiffReport) -> String {
    let mut out = String::new();
    let change = change_lines(r);
    if !change.is_empty() {
        let _ = writeln!(out, "change:");
        for l in change {
            let _ = writeln!(out, "  {}", terminal(&l));
        }
        let _ = writeln!(out);
    }
    if !r.flows.is_empty() {
        let mut t = crate::report::table([
            "change",
            "source",
            "destination",
            "services",
            "via",
            "judgement",
        ]);
        for f in &r.flows {
            t.add_row(vec![
                f.kind.as_str().to_owned(),
                format!("{} {}", terminal(f.src_vpc.as_str()), f.src),
                format!(
                    "{} {} {}",
                    terminal(f.dst_vpc.as_str()),
                    terminal(f.dst_subnet.as_str()),
                    f.dst
                ),
                f.services.to_string(),
                terminal(&f.via.to_string()).into_owned(),
                mark(f),
            ]);
        }
        let _ = writeln!(out, "{t}");
    }
    for (title, list) in [
        ("findings added", &r.findings_added),
        ("findings resolved", &r.findings_resolved),
    ] {
        if list.is_empty() {
            continue;
        }
        let mut t = crate::report::table(["severity", "kind", "finding", "fingerprint"]);
        for f in list {
            t.add_row(vec![
                f.severity.to_string(),
                f.kind.as_str().to_owned(),
                terminal(&f.title).into_owned(),
                terminal(&f.fingerprint).into_owned(),
            ]);
        }
        let _ = writeln!(out, "{title}:\n{t}");
    }
    let _ = writeln!(out, "{}", terminal(&verdict(r)));
    out
}

fn markdown(r: &DiffReport) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "## peerscope: impact of the change\n");
    let _ = writeln!(out, "{}\n", md(&verdict(r)));
    let change = change_lines(r);
    if !change.is_empty() {
        let _ = writeln!(out, "<details><summary>Operations</summary>\n");
        for l in change {
            let _ = writeln!(out, "- {}", md(&l));
        }
        let _ = writeln!(out, "\n</details>\n");
    }
    if !r.flows.is_empty() {
        let _ = writeln!(
            out,
            "| change | source | destination | services | via | judgement |"
        );
        let _ = writeln!(out, "|---|---|---|---|---|---|");
        for f in &r.flows {
            let _ = writeln!(
                out,
                "| {} | {} {} | {} {} {} | {} | {} | {} |",
                f.kind.as_str(),
                md_code(f.src_vpc.as_str()),
                f.src,
                md_code(f.dst_vpc.as_str()),
                md_code(f.dst_subnet.as_str()),
                f.dst,
                f.services,
                md(&f.via.to_string()),
                mark(f)
            );
        }
        let _ = writeln!(out);
    }
    for (title, list) in [
        ("Findings added", &r.findings_added),
        ("Findings resolved", &r.findings_resolved),
    ] {
        if list.is_empty() {
            continue;
        }
        let _ = writeln!(out, "### {title}\n");
        let _ = writeln!(out, "| severity | kind | finding | what to tighten |");
        let _ = writeln!(out, "|---|---|---|---|");
        for f in list {
            let _ = writeln!(
                out,
                "| {} | `{}` | {} | {} |",
                f.severity,
                f.kind,
                md(&f.title),
                md(&f.tighten)
            );
        }
        let _ = writeln!(out);
    }
    out
}

fn level(s: Option<Severity>) -> &'static str {
    match s {
        Some(Severity::Critical | Severity::High) => "error",
        Some(Severity::Medium) => "warning",
        _ => "note",
    }
}

const FLOW_RULES: [FlowChangeKind; 4] = [
    FlowChangeKind::NewlyDelivered,
    FlowChangeKind::NoLongerDelivered,
    FlowChangeKind::NoLongerConnectable,
    FlowChangeKind::NewlyConnectable,
];

fn sarif(r: &DiffReport) -> String {
    let mut rules: Vec<Value> = FLOW_RULES
        .iter()
        .map(|k| {
            json!({
                "id": k.as_str(),
                "name": k.as_str(),
                "shortDescription": { "text": match k {
                    FlowChangeKind::NewlyDelivered => "flows the change newly delivers",
                    FlowChangeKind::NoLongerDelivered => "flows the change stops delivering",
                    FlowChangeKind::NoLongerConnectable => "flows whose replies the change stops",
                    FlowChangeKind::NewlyConnectable => "flows whose replies the change lets back",
                }},
            })
        })
        .collect();
    rules.extend(Kind::ALL.iter().map(|k| {
        json!({
            "id": k.as_str(),
            "name": k.as_str(),
            "shortDescription": { "text": k.description() },
        })
    }));
    let mut results: Vec<Value> = r
        .flows
        .iter()
        .map(|f| {
            let judged = f.beyond_intent || f.breaks_requirement;
            let lvl = if judged {
                match level(f.severity) {
                    "note" => "warning",
                    l => l,
                }
            } else {
                "note"
            };
            json!({
                "ruleId": f.kind.as_str(),
                "ruleIndex": FLOW_RULES.iter().position(|k| *k == f.kind).unwrap_or(0),
                "level": lvl,
                "message": { "text": format!(
                    "{}: {} {} → {} {} {} {} via {}{}",
                    f.kind.as_str(), f.src_vpc, f.src, f.dst_vpc, f.dst_subnet, f.dst, f.services, f.via,
                    if judged { format!(" — {}", mark(f)) } else { String::new() }
                )},
                "locations": [{ "logicalLocations": [
                    { "name": f.src_vpc.as_str(), "kind": "resource", "fullyQualifiedName": format!("vpc/{}", f.src_vpc) },
                    { "name": f.dst_subnet.as_str(), "kind": "resource", "fullyQualifiedName": format!("subnet/{}", f.dst_subnet) },
                ]}],
            })
        })
        .collect();
    let finding = |f: &Finding, added: bool| {
        json!({
            "ruleId": f.kind.as_str(),
            "ruleIndex": FLOW_RULES.len() + Kind::ALL.iter().position(|k| *k == f.kind).unwrap_or(0),
            "level": if added { level(Some(f.severity)) } else { "note" },
            "message": { "text": format!("{} {} — tighten: {}", if added { "added:" } else { "resolved:" }, f.title, f.tighten) },
            "partialFingerprints": { "peerscope/v1": f.fingerprint },
            "baselineState": if added { "new" } else { "absent" },
            "properties": { "severity": f.severity.to_string() },
        })
    };
    results.extend(r.findings_added.iter().map(|f| finding(f, true)));
    results.extend(r.findings_resolved.iter().map(|f| finding(f, false)));
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
    if let Some(text) = damage_banner(r) {
        doc["runs"][0]["invocations"] = json!([{
            "executionSuccessful": false,
            "toolExecutionNotifications": [{ "level": "error", "message": { "text": text } }],
        }]);
    }
    let mut s = serde_json::to_string_pretty(&doc).expect("SARIF serialises");
    s.push('\n');
    s
}
