//! The picture as Graphviz DOT, for docs and tickets (`--format dot`; the CLI pipes it through
//! `dot -Tsvg` for `--format svg`). Accounts and regions are clusters, VPCs nodes, peerings
//! undirected edges coloured by [`EdgeClass`](super::EdgeClass). Unseen VPCs are dashed grey
//! nodes in their owner's cluster, labelled with the peerings they are seen through, with the
//! same words as a tooltip (SVG) and `class="unseen"`.
//!
//! Every id and name is written as a quoted DOT string ([`quote`]): names come from AWS tags
//! and are untrusted.

use std::fmt::Write;

use super::{Change, Edge, Graph, Vpc};

/// A DOT quoted string: backslashes and quotes escaped (so `\N`, `\G`, `\l` in a tag stay
/// literal), line breaks become spaces.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' | '\r' => out.push(' '),
            // Other controls and bidi characters as visible escapes, their backslash escaped.
            c if crate::escape::is_unsafe(c) => {
                out.push_str(&crate::escape::terminal(&c.to_string()).replace('\\', "\\\\"))
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A label of several lines: each line escaped, joined with DOT's centred line break.
fn label(lines: &[String]) -> String {
    let parts: Vec<String> = lines
        .iter()
        .map(|l| {
            let q = quote(l);
            q[1..q.len() - 1].to_owned()
        })
        .collect();
    format!("\"{}\"", parts.join("\\n"))
}

pub(super) fn vpc_lines(v: &Vpc) -> Vec<String> {
    let mut lines = Vec::new();
    if let Some(n) = &v.name {
        lines.push(n.clone());
    }
    lines.push(v.id.clone());
    if !v.cidrs.is_empty() {
        lines.push(v.cidrs.join(", "));
    }
    if v.unseen {
        lines.push(format!(
            "unseen: seen only through {}",
            v.seen_through_list(2)
        ));
        lines.push("its side assumed to allow everything".into());
    }
    if let Some(c) = v.change {
        lines.push(format!("[{}]", c.as_str()));
    }
    lines
}

/// The words under an edge: id, status and kind, class, and what the change did.
pub(super) fn edge_lines(g: &Graph, e: &Edge) -> Vec<String> {
    let mut flags = vec![e.status.clone()];
    if e.cross_account {
        flags.push("cross-account".into());
    }
    if e.cross_region {
        flags.push("cross-region".into());
    }
    let mut lines = vec![e.id.clone(), flags.join(", ")];
    let mut class = e.class.as_str().to_owned();
    if e.broken && class != "broken" {
        class.push_str(", broken");
    }
    if let Some(b) = e.class_before {
        class = format!("{} (was {})", class, b.as_str());
    }
    lines.push(class);
    if g.diff {
        let added = e
            .findings
            .iter()
            .filter(|&&i| g.findings[i].change == Some(Change::Added))
            .count();
        let removed = e
            .findings
            .iter()
            .filter(|&&i| g.findings[i].change == Some(Change::Removed))
            .count();
        if let Some(c) = e.change {
            lines.push(format!("[{} peering]", c.as_str()));
        }
        if added + removed > 0 {
            lines.push(format!("findings +{added} -{removed}"));
        }
    }
    lines
}

/// Renders the whole graph.
pub fn render(g: &Graph) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "graph peerscope {{");
    let _ = writeln!(
        out,
        "  graph [rankdir=LR, fontname=\"Helvetica\", fontsize=11, label={}, labelloc=t];",
        quote(&title(g))
    );
    let _ = writeln!(
        out,
        "  node [shape=box, style=\"rounded,filled\", fillcolor=\"#ffffff\", fontname=\"Helvetica\", fontsize=10];"
    );
    let _ = writeln!(out, "  edge [fontname=\"Helvetica\", fontsize=9];");
    for (ai, (account, regions)) in g.groups().into_iter().enumerate() {
        let external = g.account(account).is_some_and(|a| a.external);
        let alabel = g.account_label(account);
        let _ = writeln!(out, "  subgraph cluster_a{ai} {{");
        let _ = writeln!(out, "    label={};", quote(&alabel));
        let _ = writeln!(
            out,
            "    style=\"rounded{}\"; color=\"{}\"; bgcolor=\"{}\";",
            if external { ",dashed" } else { "" },
            if external { "#b05000" } else { "#606060" },
            if external { "#fff4e8" } else { "#f7f7f7" }
        );
        for (ri, (region, members)) in regions.into_iter().enumerate() {
            let _ = writeln!(out, "    subgraph cluster_a{ai}_r{ri} {{");
            let _ = writeln!(
                out,
                "      label={}; style=\"dashed\"; color=\"#a0a0a0\"; bgcolor=\"#ffffff\";",
                quote(region)
            );
            for i in members {
                let v = &g.vpcs[i];
                let mut style = "rounded,filled".to_owned();
                if v.unseen || v.change == Some(Change::Removed) {
                    style.push_str(",dashed");
                }
                let unseen = if v.unseen {
                    format!(
                        ", fillcolor=\"#eeeeee\", tooltip={}, class=\"unseen\"",
                        quote(&v.unseen_note())
                    )
                } else {
                    String::new()
                };
                let _ = writeln!(
                    out,
                    "      {} [label={}, style=\"{style}\"{}{unseen}];",
                    quote(&v.id),
                    label(&vpc_lines(v)),
                    match v.change {
                        Some(Change::Added) => ", penwidth=2.5, color=\"#00a050\"",
                        Some(Change::Removed) => ", color=\"#a0a0a0\", fontcolor=\"#808080\"",
                        None if !v.findings.is_empty() => ", color=\"#e31a1c\"",
                        None => "",
                    }
                );
                for s in &v.subnets {
                    let mut lines = Vec::new();
                    if let Some(n) = &s.name {
                        lines.push(n.clone());
                    }
                    lines.push(s.id.clone());
                    lines.push(s.cidrs.join(", "));
                    let _ = writeln!(
                        out,
                        "      {} [label={}, shape=note, fontsize=8];",
                        quote(&s.id),
                        label(&lines)
                    );
                    let _ = writeln!(
                        out,
                        "      {} -- {} [style=dotted, color=\"#a0a0a0\"];",
                        quote(&v.id),
                        quote(&s.id)
                    );
                }
            }
            let _ = writeln!(out, "    }}");
        }
        let _ = writeln!(out, "  }}");
    }
    for e in &g.edges {
        let mut attrs = vec![
            format!("label={}", label(&edge_lines(g, e))),
            format!("color={}", quote(e.class.colour())),
            format!("fontcolor={}", quote(e.class.colour())),
        ];
        let width = match e.class {
            super::EdgeClass::Idle => 1.0,
            _ if e.change == Some(Change::Added) => 3.5,
            _ => 2.0,
        };
        attrs.push(format!("penwidth={width}"));
        let style = match (e.change, e.class, e.broken) {
            (Some(Change::Removed), _, _) => Some("dotted"),
            (_, _, true) => Some("dashed"),
            (_, super::EdgeClass::Idle, _) => Some("dotted"),
            _ => None,
        };
        if let Some(s) = style {
            attrs.push(format!("style={s}"));
        }
        attrs.push(format!("class={}", quote(e.class.as_str())));
        let _ = writeln!(
            out,
            "  {} -- {} [{}];",
            quote(&e.a),
            quote(&e.b),
            attrs.join(", ")
        );
    }
    let _ = writeln!(out, "}}");
    out
}

/// The picture's caption: layer, intent, and the legend of edge classes that occur.
pub(super) fn title(g: &Graph) -> String {
    let mut t = format!("peerscope: {} layer", g.layer);
    if let Some(i) = &g.intent {
        t.push_str(&format!(", intent {i}"));
    }
    if g.diff {
        t.push_str(", change marked");
    }
    let counts: Vec<String> = g
        .class_counts()
        .iter()
        .rev()
        .map(|(c, n)| format!("{n} {}", c.as_str()))
        .collect();
    if !counts.is_empty() {
        t.push_str(&format!(" — peerings: {}", counts.join(", ")));
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_keeps_untrusted_names_inside_their_string() {
        assert_eq!(quote(r#"a"b\N"#), r#""a\"b\\N""#);
        assert_eq!(quote("x\ny"), "\"x y\"");
        assert_eq!(label(&["a\"".into(), "b".into()]), r#""a\"\nb""#);
    }
}
