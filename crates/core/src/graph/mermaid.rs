//! The picture as a Mermaid flowchart, for Markdown files and pull requests (`--format
//! mermaid`, and `audit --format markdown --graph`). Accounts and regions are subgraphs, VPCs
//! nodes, peerings links styled with `linkStyle` in the [`EdgeClass`](super::EdgeClass) colours.
//! Unseen VPCs sit in their owner's subgraph, in the `unseen` class (dashed, grey), labelled
//! with the peerings they are seen through.
//!
//! Mermaid ids are generated (`a0`, `a0r1`, `v3`, `s7`), never taken from the data; labels
//! are quoted with Mermaid's entity codes for `"`, `#`, `<`, `>` and `&` ([`text`]), since
//! names come from AWS tags and are untrusted.

use std::collections::BTreeMap;
use std::fmt::Write;

use super::{Change, EdgeClass, Graph};

/// Text for a quoted Mermaid label: characters that end the label or are read as markup
/// become entity codes; line breaks become spaces.
pub fn text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '#' => out.push_str("#35;"),
            '"' => out.push_str("#quot;"),
            '<' => out.push_str("#lt;"),
            '>' => out.push_str("#gt;"),
            '&' => out.push_str("#amp;"),
            '`' => out.push_str("#96;"),
            '\n' | '\r' => out.push(' '),
            c if crate::escape::is_unsafe(c) => {
                out.push_str(&crate::escape::terminal(&c.to_string()))
            }
            c => out.push(c),
        }
    }
    out
}

fn lines(ls: &[String]) -> String {
    ls.iter().map(|l| text(l)).collect::<Vec<_>>().join("<br/>")
}

/// Renders the whole graph as a `flowchart LR` (no code fence).
pub fn render(g: &Graph) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "flowchart LR");
    let mut node: BTreeMap<&str, String> = BTreeMap::new();
    let mut external_nodes = Vec::new();
    let mut unseen_nodes = Vec::new();
    let mut finding_nodes = Vec::new();
    let mut added_nodes = Vec::new();
    let mut removed_nodes = Vec::new();
    let mut subnet_links = Vec::new();
    let mut sn = 0usize;
    for (ai, (account, regions)) in g.groups().into_iter().enumerate() {
        let external = g.account(account).is_some_and(|a| a.external);
        let alabel = g.account_label(account);
        let _ = writeln!(out, "  subgraph a{ai}[\"{}\"]", text(&alabel));
        for (ri, (region, members)) in regions.into_iter().enumerate() {
            let _ = writeln!(out, "    subgraph a{ai}r{ri}[\"{}\"]", text(region));
            for i in members {
                let v = &g.vpcs[i];
                let id = format!("v{i}");
                let _ = writeln!(out, "      {id}[\"{}\"]", lines(&super::dot::vpc_lines(v)));
                for s in &v.subnets {
                    let sid = format!("s{sn}");
                    sn += 1;
                    let mut ls = Vec::new();
                    if let Some(n) = &s.name {
                        ls.push(n.clone());
                    }
                    ls.push(s.id.clone());
                    ls.push(s.cidrs.join(", "));
                    let _ = writeln!(out, "      {sid}[\"{}\"]", lines(&ls));
                    subnet_links.push((id.clone(), sid));
                }
                if v.unseen {
                    unseen_nodes.push(id.clone());
                } else if external {
                    external_nodes.push(id.clone());
                }
                match v.change {
                    Some(Change::Added) => added_nodes.push(id.clone()),
                    Some(Change::Removed) => removed_nodes.push(id.clone()),
                    None if !v.findings.is_empty() => finding_nodes.push(id.clone()),
                    None => {}
                }
                node.insert(v.id.as_str(), id);
            }
            let _ = writeln!(out, "    end");
        }
        let _ = writeln!(out, "  end");
    }
    let mut styles = Vec::new();
    let mut link = 0usize;
    for e in &g.edges {
        let (Some(a), Some(b)) = (node.get(e.a.as_str()), node.get(e.b.as_str())) else {
            continue;
        };
        let arrow = match (e.change, e.class) {
            (Some(Change::Removed), _) | (_, EdgeClass::Idle) => "-.-",
            (Some(Change::Added), _) => "===",
            _ => "---",
        };
        let _ = writeln!(
            out,
            "  {a} {arrow}|\"{}\"| {b}",
            lines(&super::dot::edge_lines(g, e))
        );
        let mut style = format!(
            "stroke:{},stroke-width:{}px",
            e.class.colour(),
            if e.class == EdgeClass::Idle { 1 } else { 2 }
        );
        if e.broken {
            style.push_str(",stroke-dasharray:6 3");
        }
        styles.push(format!("  linkStyle {link} {style}"));
        link += 1;
    }
    for (v, s) in &subnet_links {
        let _ = writeln!(out, "  {v} -.- {s}");
        styles.push(format!(
            "  linkStyle {link} stroke:#a0a0a0,stroke-width:1px"
        ));
        link += 1;
    }
    for s in styles {
        let _ = writeln!(out, "{s}");
    }
    let classes = [
        (
            "external",
            "fill:#fff4e8,stroke:#b05000,stroke-dasharray:4 2",
            external_nodes,
        ),
        (
            "unseen",
            "fill:#eeeeee,stroke:#b05000,stroke-dasharray:6 3",
            unseen_nodes,
        ),
        ("finding", "stroke:#e31a1c,stroke-width:2px", finding_nodes),
        ("added", "stroke:#00a050,stroke-width:3px", added_nodes),
        (
            "removed",
            "fill:#eeeeee,stroke:#a0a0a0,color:#808080,stroke-dasharray:2 2",
            removed_nodes,
        ),
    ];
    for (name, def, members) in classes {
        if members.is_empty() {
            continue;
        }
        let _ = writeln!(out, "  classDef {name} {def}");
        let _ = writeln!(out, "  class {} {name}", members.join(","));
    }
    out
}

/// A Markdown section with the picture in a `mermaid` code block (for `audit --format
/// markdown --graph`, given the [`Graph::affected`] part).
pub fn markdown_section(g: &Graph) -> String {
    let unseen = if g.vpcs.iter().any(|v| v.unseen) {
        " Dashed grey nodes: unseen VPCs, not in the snapshot, seen only through their peerings (their side is assumed to allow everything)."
    } else {
        ""
    };
    format!(
        "\n### Peerings and VPCs the findings touch\n\nEdge colours: the worst exposure's severity (dark red critical, red high, orange medium, yellow low), purple a broken requirement, green intended, grey idle; dashed: a required flow is broken.{unseen}\n\n```mermaid\n{}```\n",
        render(g)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_cannot_close_their_quotes_or_inject_markup() {
        assert_eq!(
            text(r#"a"]; click x "<b>#1&"#),
            "a#quot;]; click x #quot;#lt;b#gt;#35;1#amp;"
        );
    }
}
