//! `peerscope graph` (issue #7): golden DOT and Mermaid per topology and for a snapshot with an
//! unseen VPC (a partner's, drawn in its account, coloured by the audit), edge colours that
//! agree with the audit, escaping of untrusted names, the CLI (formats, `--diff`, `--out`, svg
//! without Graphviz, `audit --graph`), and the HTML page driven in headless Chromium over the
//! DevTools protocol on a pipe (`--remote-debugging-pipe`; [`Chromium`]).

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

use peerscope::analysis::Analysis;
use peerscope::audit::{AuditReport, Kind, Severity};
use peerscope::engine::Layer;
use peerscope::engine::reach::{self, ReachOptions, reach};
use peerscope::graph::{self, Change, EdgeClass, Graph, Options};
use peerscope::intent::Intent;
use peerscope::model::Model;
use peerscope::snapshot;
use serde_json::{Value, json};

use crate::util::{AR, Dir, TestCommand, copy_tree, peering_json, vpc_json, with};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn topologies() -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(Path::new(ROOT).join("topologies"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("intent.toml").is_file())
        .collect();
    out.sort();
    assert!(out.len() >= 4, "{out:?}");
    out
}

fn name(p: &Path) -> String {
    p.file_name().unwrap().to_string_lossy().into_owned()
}

/// A topology's model, audit and graph; the intent named relative to the repository, so that
/// golden files do not depend on where the checkout lives.
fn picture(t: &Path) -> (Model, AuditReport, Graph) {
    picture_in(t, None)
}

/// [`picture`] in a given layer (`None`: the intent's).
fn picture_in(t: &Path, layer: Option<Layer>) -> (Model, AuditReport, Graph) {
    picture_as(t, &name(t), layer)
}

/// [`picture_in`] of a folder whose intent is named as `topologies/<shown>/intent.toml`.
fn picture_as(t: &Path, shown: &str, layer: Option<Layer>) -> (Model, AuditReport, Graph) {
    let loaded = snapshot::load(t).unwrap();
    let rel = Path::new("topologies").join(shown).join("intent.toml");
    let text = std::fs::read_to_string(t.join("intent.toml")).unwrap();
    let intent = Intent::parse(&rel, &text).unwrap_or_else(|e| panic!("{e}"));
    let (report, g) = {
        let analysis = Analysis::new(&loaded.model, Some(&intent), layer);
        let report = analysis.audit();
        let g = graph::build(&analysis, Some(&report), &Options::default());
        (report, g)
    };
    (loaded.model, report, g)
}

/// `graph --intent` and `audit` share one reach: the picture adds no `reach` run to the
/// audit's, and asking the analysis for its rows again computes nothing.
#[test]
fn graph_and_audit_share_one_reach() {
    for t in topologies() {
        let loaded = snapshot::load(&t).unwrap();
        let text = std::fs::read_to_string(t.join("intent.toml")).unwrap();
        let intent = Intent::parse(Path::new("intent.toml"), &text).unwrap();
        let start = reach::runs_on_this_thread();
        let analysis = Analysis::new(&loaded.model, Some(&intent), None);
        let report = analysis.audit();
        let audited = reach::runs_on_this_thread();
        // The analysis's reach, and at most hygiene's network-layer look at world-open groups.
        assert!(
            (start + 1..=start + 2).contains(&audited),
            "{}: the audit ran reach {} times",
            t.display(),
            audited - start
        );
        let g = graph::build(&analysis, Some(&report), &Options::default());
        let _ = analysis.rows();
        assert_eq!(
            reach::runs_on_this_thread(),
            audited,
            "{}: the picture computed reach again",
            t.display()
        );
        assert!(!g.edges.is_empty(), "{}: no edges", t.display());
    }
}

#[test]
fn golden_dot_and_mermaid_per_topology() {
    for t in topologies() {
        let (_, _, g) = picture(&t);
        let n = name(&t);
        insta::assert_snapshot!(format!("graph-{n}-dot"), graph::dot::render(&g));
        insta::assert_snapshot!(format!("graph-{n}-mermaid"), graph::mermaid::render(&g));
    }
}

/// The class each peering must have, derived from the audit directly: the worst severity of
/// the exposures and denied flows whose `via` is the peering; else broken when a broken
/// requirement's failing path crosses it (or, with no peering on the path, it joins the two
/// VPCs); else intended when `reach` delivers anything over it; else idle.
fn classes_from_audit(model: &Model, report: &AuditReport) -> BTreeMap<String, EdgeClass> {
    let rows = reach(
        model,
        &ReachOptions {
            layer: Some(report.layer),
            ..Default::default()
        },
    );
    let mut out = BTreeMap::new();
    for (id, c) in &model.peerings {
        let id = id.as_str();
        let worst: Option<Severity> = report
            .findings
            .iter()
            .filter(|f| matches!(f.kind, Kind::Exposure | Kind::DeniedFlow))
            .filter(|f| {
                f.flows
                    .as_ref()
                    .is_some_and(|b| b.via.as_ref().is_some_and(|v| v.to_string() == id))
            })
            .map(|f| f.severity)
            .max();
        let broken = report
            .findings
            .iter()
            .filter(|f| f.kind == Kind::BrokenRequirement)
            .any(|f| {
                let on_path: Vec<String> = f
                    .components
                    .iter()
                    .filter(|c| c.kind() == "peering")
                    .map(|c| c.object.to_string())
                    .collect();
                let b = f.flows.as_ref().unwrap();
                if on_path.is_empty() {
                    let pair = [&c.requester.vpc, &c.accepter.vpc];
                    pair.contains(&&b.src_vpc) && pair.contains(&&b.dst_vpc)
                } else {
                    on_path.first().map(String::as_str) == Some(id)
                }
            });
        let delivered = rows.iter().any(|r| r.delivered && r.via.to_string() == id);
        let class = match (worst, broken, delivered) {
            (Some(s), _, _) => EdgeClass::Exposure(s),
            (None, true, _) => EdgeClass::Broken,
            (None, false, true) => EdgeClass::Intended,
            (None, false, false) => EdgeClass::Idle,
        };
        out.insert(id.to_owned(), class);
    }
    out
}

/// Checks a map against its audit: every edge's class as [`classes_from_audit`] derives it,
/// every exposure and denied flow over a peering listed on its edge, every finding attached
/// somewhere. Returns the classes seen.
fn assert_map_agrees_with_audit(
    n: &str,
    layer: Layer,
    model: &Model,
    report: &AuditReport,
    g: &Graph,
) -> BTreeSet<EdgeClass> {
    let mut seen = BTreeSet::new();
    assert_eq!(g.layer, layer);
    let expected = classes_from_audit(model, report);
    let got: BTreeMap<String, EdgeClass> =
        g.edges.iter().map(|e| (e.id.clone(), e.class)).collect();
    assert_eq!(got, expected, "{n} ({layer} layer): edge classes");
    for e in &g.edges {
        seen.insert(e.class);
        // Every exposure and denied flow over a peering is listed on its edge.
        let listed: BTreeSet<&str> = e
            .findings
            .iter()
            .map(|&i| g.findings[i].fingerprint.as_str())
            .collect();
        for f in report.findings.iter().filter(|f| {
            matches!(f.kind, Kind::Exposure | Kind::DeniedFlow)
                && f.flows
                    .as_ref()
                    .is_some_and(|b| b.via.as_ref().is_some_and(|v| v.to_string() == e.id))
        }) {
            assert!(
                listed.contains(f.fingerprint.as_str()),
                "{n}: {}: {}",
                e.id,
                f.title
            );
        }
    }
    // Every finding is attached somewhere.
    for (i, f) in g.findings.iter().enumerate() {
        let on = g.edges.iter().any(|e| e.findings.contains(&i))
            || g.vpcs.iter().any(|v| v.findings.contains(&i));
        assert!(on, "{n}: {} is attached nowhere", f.title);
    }
    seen
}

#[test]
fn every_topology_map_agrees_with_its_audit() {
    let mut seen = BTreeSet::new();
    let runs = topologies()
        .into_iter()
        .flat_map(|t| [(t.clone(), Layer::Network), (t, Layer::Full)]);
    for (t, layer) in runs {
        let (model, report, g) = picture_in(&t, Some(layer));
        seen.extend(assert_map_agrees_with_audit(
            &name(&t),
            layer,
            &model,
            &report,
            &g,
        ));
    }
    // The examples exercise the interesting classes.
    for c in [
        EdgeClass::Intended,
        EdgeClass::Idle,
        EdgeClass::Exposure(Severity::Critical),
        EdgeClass::Exposure(Severity::Low),
    ] {
        assert!(seen.contains(&c), "no topology has a {} edge", c.as_str());
    }
}

#[test]
fn external_accounts_are_marked() {
    let t = Path::new(ROOT).join("topologies/partner-overbroad");
    let (_, _, g) = picture(&t);
    let ext: Vec<&str> = g
        .accounts
        .iter()
        .filter(|a| a.external)
        .map(|a| a.id.as_str())
        .collect();
    assert_eq!(ext, ["999999999999"]);
    assert!(graph::dot::render(&g).contains("999999999999 — external"));
}

/// `topologies/partner-overbroad` without the partner's dump (its `999999999999/` folder), as
/// the prod team collects it: ACME's VPC is unseen, known only from the peering record.
fn partner_unseen() -> Dir {
    let d = Dir::new();
    copy_tree(
        &Path::new(ROOT).join("topologies/partner-overbroad"),
        d.path(),
    );
    std::fs::remove_dir_all(d.path().join("999999999999")).unwrap();
    d
}

/// The name [`partner_unseen`]'s intent is shown under in pictures.
const PARTNER_UNSEEN: &str = "partner-overbroad-without-999999999999";
const ACME_VPC: &str = "vpc-0ed9cf062e57a3543";
const ACME_PEERING: &str = "pcx-01581e17446226d6e";

#[test]
fn golden_dot_and_mermaid_with_an_unseen_vpc() {
    let d = partner_unseen();
    let (_, _, g) = picture_as(d.path(), PARTNER_UNSEEN, None);
    let n = PARTNER_UNSEEN;
    insta::assert_snapshot!(format!("graph-{n}-dot"), graph::dot::render(&g));
    insta::assert_snapshot!(format!("graph-{n}-mermaid"), graph::mermaid::render(&g));
}

#[test]
fn an_unseen_vpc_is_drawn_in_its_account_and_its_peering_coloured_by_the_audit() {
    let d = partner_unseen();
    for layer in [Layer::Network, Layer::Full] {
        let (model, report, g) = picture_as(d.path(), PARTNER_UNSEEN, Some(layer));
        assert!(model.unseen_vpc(&ACME_VPC.into()).is_some());
        assert_map_agrees_with_audit(PARTNER_UNSEEN, layer, &model, &report, &g);
    }
    let (model, _, g) = picture_as(d.path(), PARTNER_UNSEEN, None);

    // The node: unseen, with the CIDRs of the peering record, in ACME's account's group.
    let v = g.vpc(ACME_VPC).expect("the unseen VPC is a node");
    assert!(v.unseen);
    assert_eq!(v.account, "999999999999");
    assert_eq!(v.cidrs, ["10.50.0.0/16", "10.51.0.0/16"]);
    assert_eq!(v.seen_through, [ACME_PEERING]);
    let at = g.vpcs.iter().position(|x| x.id == ACME_VPC).unwrap();
    assert_eq!(g.groups()["999999999999"]["us-east-1"], [at]);
    let acme = g.account("999999999999").unwrap();
    assert!(acme.external && acme.unseen, "{acme:?}");
    let prod = g.account("222222222222").unwrap();
    assert!(!prod.external && !prod.unseen, "{prod:?}");
    assert!(
        g.vpcs
            .iter()
            .filter(|v| v.id != ACME_VPC)
            .all(|v| !v.unseen)
    );

    // The peering: the exposures from the unseen VPC are on it, and colour it critical.
    let e = g.edges.iter().find(|e| e.id == ACME_PEERING).unwrap();
    assert_eq!(
        (e.a.as_str(), e.b.as_str()),
        (ACME_VPC, "vpc-04a6b044fdf2889a4")
    );
    assert_eq!(e.class, EdgeClass::Exposure(Severity::Critical));
    assert!(e.flows.iter().any(|f| f.from == ACME_VPC), "{:?}", e.flows);
    let kinds: BTreeSet<Kind> = e.findings.iter().map(|&i| g.findings[i].kind).collect();
    assert!(
        kinds.contains(&Kind::Exposure) && kinds.contains(&Kind::OpenToUnseenPeer),
        "{kinds:?}"
    );
    let from_unseen = g.findings.iter().enumerate().filter(|(_, f)| {
        f.kind == Kind::Exposure
            && f.title.starts_with(ACME_VPC)
            && f.severity == Severity::Critical
    });
    for (i, f) in from_unseen {
        assert!(e.findings.contains(&i), "{} not on {ACME_PEERING}", f.title);
    }
    assert_eq!(model.unseen_vpcs().len(), 1);

    // DOT: a dashed node with the note, inside ACME's cluster; the edge critical.
    let dot = graph::dot::render(&g);
    let cluster = dot
        .split("\n  subgraph cluster_a")
        .find(|c| c.contains("label=\"999999999999 — external, unseen (not collected)\""))
        .unwrap_or_else(|| panic!("{dot}"));
    let node = cluster
        .lines()
        .find(|l| l.trim_start().starts_with(&format!("\"{ACME_VPC}\" [")))
        .unwrap_or_else(|| panic!("{dot}"));
    for needle in [
        "class=\"unseen\"",
        "dashed",
        "10.50.0.0/16, 10.51.0.0/16",
        "seen only through pcx-01581e17446226d6e; its side is assumed to allow everything",
    ] {
        assert!(node.contains(needle), "{needle}: {node}");
    }
    let edge = dot
        .lines()
        .find(|l| l.contains(&format!("\"{ACME_VPC}\" -- ")))
        .unwrap();
    assert!(
        edge.contains("class=\"exposure-critical\"") && edge.contains("color=\"#8b0020\""),
        "{edge}"
    );

    // Mermaid: in ACME's subgraph, in the unseen class; the link in the critical colour.
    let mermaid = graph::mermaid::render(&g);
    let sub = mermaid
        .split("\n  subgraph a")
        .find(|s| s.contains("999999999999 — external, unseen"))
        .unwrap_or_else(|| panic!("{mermaid}"));
    let id = sub
        .lines()
        .find(|l| l.contains(ACME_VPC))
        .and_then(|l| l.trim().split('[').next())
        .unwrap()
        .to_owned();
    assert!(
        sub.contains("seen only through pcx-01581e17446226d6e"),
        "{sub}"
    );
    assert!(
        mermaid.lines().any(|l| l == format!("  class {id} unseen")),
        "{mermaid}"
    );
    assert!(mermaid.contains("linkStyle 0 stroke:#8b0020"), "{mermaid}");

    // HTML data: the VPC is not collected and names its peering; the account is unseen.
    let data = graph::html::data(std::slice::from_ref(&g), "x");
    let row = data["v"][at].clone();
    assert_eq!(
        (row[0].clone(), row[5].clone()),
        (json!(ACME_VPC), json!(0))
    );
    assert_eq!(row[8], json!([ACME_PEERING]));
    let acct = data["v"][at][2].as_u64().unwrap() as usize;
    assert_eq!(data["a"][acct][4], json!(1));
}

/// Unseen VPCs without an owner in their records go to an "unknown account" group; one of a
/// collected account sits with that account's VPCs; CIDRs and peerings are those of all the
/// VPC's connections; every peering is drawn in every format.
#[test]
fn unseen_vpcs_without_an_owner_or_in_a_collected_account() {
    let d = Dir::new();
    let no_owner = |mut p: Value| {
        p["AccepterVpcInfo"]
            .as_object_mut()
            .unwrap()
            .remove("OwnerId");
        p
    };
    d.put(
        &format!("{AR}/describe-vpcs.json"),
        "Vpcs",
        [vpc_json("vpc-1", "10.0.0.0/16")],
    )
    .put(
        &format!("{AR}/describe-vpc-peering-connections.json"),
        "VpcPeeringConnections",
        [
            no_owner(peering_json(
                "pcx-1",
                "active",
                ("vpc-1", "10.0.0.0/16"),
                ("vpc-9", "10.9.0.0/16"),
            )),
            no_owner(peering_json(
                "pcx-2",
                "deleted",
                ("vpc-1", "10.0.0.0/16"),
                ("vpc-9", "10.8.0.0/16"),
            )),
            peering_json(
                "pcx-3",
                "active",
                ("vpc-1", "10.0.0.0/16"),
                ("vpc-8", "10.7.0.0/16"),
            ),
        ],
    );
    let loaded = d.load();
    let analysis = Analysis::new(&loaded.model, None, None);
    let report = analysis.audit();
    let g = graph::build(&analysis, Some(&report), &Options::default());

    let v9 = g.vpc("vpc-9").unwrap();
    assert!(v9.unseen);
    assert_eq!(v9.account, graph::UNKNOWN_ACCOUNT);
    assert_eq!(v9.cidrs, ["10.8.0.0/16", "10.9.0.0/16"]);
    assert_eq!(v9.seen_through, ["pcx-1", "pcx-2"]);
    let unknown = g.account(graph::UNKNOWN_ACCOUNT).unwrap();
    assert!(unknown.unseen && unknown.external, "{unknown:?}");
    let v8 = g.vpc("vpc-8").unwrap();
    assert!(v8.unseen && v8.account == crate::util::ACCOUNT);
    let ours = g.account(crate::util::ACCOUNT).unwrap();
    assert!(!ours.unseen && !ours.external, "{ours:?}");
    assert!(!g.vpc("vpc-1").unwrap().unseen);

    let dot = graph::dot::render(&g);
    assert!(
        dot.contains("label=\"unknown account — external, unseen (not collected)\""),
        "{dot}"
    );
    assert!(dot.contains("seen only through pcx-1, pcx-2\\n"), "{dot}");
    assert_eq!(dot.matches("class=\"unseen\"").count(), 2, "{dot}");
    for pcx in ["pcx-1", "pcx-2", "pcx-3"] {
        assert!(dot.contains(&format!("label=\"{pcx}\\n")), "{pcx}: {dot}");
    }
    let mermaid = graph::mermaid::render(&g);
    let links = mermaid.lines().filter(|l| l.contains("|\"pcx-")).count();
    assert_eq!(links, 3, "{mermaid}");
    let data = graph::html::data(std::slice::from_ref(&g), "x");
    assert_eq!(data["e"].as_array().unwrap().len(), 3);
}

const HOSTILE: &str = r#"</script><script>alert(1)</script> "q" \N #1 <b>&amp;"#;

/// Two VPCs with hostile Name tags, peered.
fn hostile_snapshot() -> Dir {
    let d = Dir::new();
    let tags = json!([{ "Key": "Name", "Value": HOSTILE }]);
    d.put(
        &format!("{AR}/describe-vpcs.json"),
        "Vpcs",
        [
            with(vpc_json("vpc-1", "10.0.0.0/16"), "Tags", tags.clone()),
            with(vpc_json("vpc-2", "10.1.0.0/16"), "Tags", tags),
        ],
    )
    .put(
        &format!("{AR}/describe-vpc-peering-connections.json"),
        "VpcPeeringConnections",
        [peering_json(
            "pcx-1",
            "active",
            ("vpc-1", "10.0.0.0/16"),
            ("vpc-2", "10.1.0.0/16"),
        )],
    );
    d
}

#[test]
fn untrusted_names_are_escaped_in_every_format() {
    let d = hostile_snapshot();
    let loaded = d.load();
    let analysis = Analysis::new(&loaded.model, None, None);
    let report = analysis.audit();
    let g = graph::build(&analysis, Some(&report), &Options::default());
    assert_eq!(g.edges[0].class, EdgeClass::Idle);

    let page = graph::html::render(&g, HOSTILE);
    // Only the page's own two script elements close.
    assert_eq!(page.matches("</script>").count(), 2, "{page}");
    assert!(!page.contains("<b>"));
    let dot = graph::dot::render(&g);
    assert!(dot.contains(r#"\"q\" \\N"#), "{dot}");
    let mermaid = graph::mermaid::render(&g);
    let vpc_line = mermaid.lines().find(|l| l.contains("vpc-1")).unwrap();
    assert!(vpc_line.contains("#quot;q#quot;") && !vpc_line.contains("<b>"));
    assert_eq!(vpc_line.matches('"').count(), 2, "{vpc_line}");
}

#[test]
fn the_page_is_self_contained() {
    let t = Path::new(ROOT).join("topologies/hub-and-spoke");
    let (_, _, g) = picture(&t);
    let page = graph::html::render(&g, "hub-and-spoke");
    for needle in [
        "src=\"http",
        "href=\"http",
        "url(http",
        "@import",
        "<link rel=\"stylesheet",
    ] {
        assert!(!page.contains(needle), "the page loads {needle}…");
    }
    // Deterministic: the same input gives the same bytes.
    assert_eq!(page, graph::html::render(&g, "hub-and-spoke"));
}

/// A copy of a topology folder, to change.
fn copy_topology(name: &str) -> Dir {
    let d = Dir::new();
    copy_tree(&Path::new(ROOT).join("topologies").join(name), d.path());
    d
}

/// Removes a peering connection from every describe-vpc-peering-connections.json.
fn remove_peering(d: &Dir, id: &str) {
    for account in std::fs::read_dir(d.path()).unwrap() {
        let dir = account.unwrap().path();
        let f = dir.join("us-east-1/describe-vpc-peering-connections.json");
        if !f.is_file() {
            continue;
        }
        let mut v: Value = serde_json::from_str(&std::fs::read_to_string(&f).unwrap()).unwrap();
        v["VpcPeeringConnections"]
            .as_array_mut()
            .unwrap()
            .retain(|p| p["VpcPeeringConnectionId"] != id);
        std::fs::write(&f, v.to_string()).unwrap();
    }
}

#[test]
fn diff_marks_what_the_change_adds_and_removes() {
    let t = Path::new(ROOT).join("topologies/hub-and-spoke");
    let (_, _, before) = picture(&t);
    // Against itself: nothing is marked.
    let same = graph::diff(&before, before.clone());
    assert!(
        same.edges
            .iter()
            .all(|e| e.change.is_none() && e.class_before.is_none())
    );
    assert!(same.findings.iter().all(|f| f.change.is_none()));

    // The "after" loses the audit↔prod peering and the hub↔dev peering.
    let after_dir = copy_topology("hub-and-spoke");
    remove_peering(&after_dir, "pcx-0e6955381596d4693");
    remove_peering(&after_dir, "pcx-08f7f1da4b3030aea");
    let (_, _, after) = picture(after_dir.path());
    let d = graph::diff(&before, after);
    let change = |id: &str| d.edges.iter().find(|e| e.id == id).unwrap().change;
    assert_eq!(change("pcx-0e6955381596d4693"), Some(Change::Removed));
    assert_eq!(change("pcx-08f7f1da4b3030aea"), Some(Change::Removed));
    assert_eq!(change("pcx-09830c8e0c62cb141"), None);
    // The dev exposure went with its peering; what now fails or appears is added.
    let removed: Vec<&str> = d
        .findings
        .iter()
        .filter(|f| f.change == Some(Change::Removed))
        .map(|f| f.title.as_str())
        .collect();
    assert!(
        removed
            .iter()
            .any(|t| t.contains("vpc-0185b51997c05f28a") && t.contains("pcx-08f7f1da4b3030aea")),
        "{removed:#?}"
    );
    // Through the binary, as Mermaid: removed peerings are drawn dotted and labelled.
    let out = TestCommand::new(["graph"])
        .arg(&t)
        .args(["--diff"])
        .arg(after_dir.path())
        .args(["--format", "mermaid"])
        .run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains("[removed peering]"), "{}", out.stdout);
}

#[test]
fn cli_writes_every_format() {
    let t = Path::new(ROOT).join("topologies/cross-region");
    let dir = Dir::new();
    for (format, marker) in [
        ("dot", "graph peerscope {"),
        ("mermaid", "flowchart LR"),
        ("html", "<!DOCTYPE html>"),
    ] {
        let out_file = dir.path().join(format!("map.{format}"));
        let out = TestCommand::new(["graph"])
            .arg(&t)
            .args(["--format", format, "--subnets", "--out"])
            .arg(&out_file)
            .run();
        assert_eq!(out.code, 0, "{format}: {}", out.stderr);
        let text = std::fs::read_to_string(&out_file).unwrap();
        assert!(text.starts_with(marker), "{format}: {}", &text[..80]);
        assert!(
            text.contains("subnet-"),
            "{format}: --subnets draws subnets"
        );
    }
    // svg: through Graphviz when installed, else a clear message and exit 2.
    let out = TestCommand::new(["graph"])
        .arg(&t)
        .args(["--format", "svg"])
        .run();
    let has_dot = Command::new("dot")
        .arg("-V")
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if has_dot {
        assert_eq!(out.code, 0, "{}", out.stderr);
        assert!(out.stdout.contains("<svg"), "{}", out.stdout);
    } else {
        assert_eq!(out.code, 2);
        assert!(out.stderr.contains("Graphviz"), "{}", out.stderr);
        assert!(out.stdout.is_empty());
    }
    // Unusable input: exit 2, naming the folder.
    let out = TestCommand::new(["graph", "no/such/folder", "--format", "dot"]).run();
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("no/such/folder"), "{}", out.stderr);
    // A broken intent: exit 2 with its mistakes.
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "[[allow]]\nfrom = 1\n").unwrap();
    let out = TestCommand::new(["graph"])
        .arg(&t)
        .arg("--intent")
        .arg(&bad)
        .run();
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("bad.toml"), "{}", out.stderr);
}

#[test]
fn audit_markdown_embeds_the_affected_part_as_mermaid() {
    let t = Path::new(ROOT).join("topologies/partner-overbroad");
    let plain = TestCommand::new(["audit"])
        .arg(&t)
        .args(["--format", "markdown"])
        .run();
    assert!(!plain.stdout.contains("```mermaid"));
    let out = TestCommand::new(["audit"])
        .arg(&t)
        .args(["--format", "markdown", "--graph"])
        .run();
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(out.stdout.starts_with(&plain.stdout));
    let section = &out.stdout[plain.stdout.len()..];
    assert!(section.contains("```mermaid\nflowchart LR\n"), "{section}");
    assert!(section.contains("pcx-01581e17446226d6e"));
    // prod-analytics has no finding and no peering with one: not drawn.
    assert!(!section.contains("vpc-002909d9b0a26d60d"), "{section}");
}

// ---------------------------------------------------------------------------------------------
// The page in headless Chromium
// ---------------------------------------------------------------------------------------------

/// Headless Chromium driven over the DevTools protocol on a pipe (`--remote-debugging-pipe`:
/// NUL-terminated JSON messages, Chromium reading fd 3 and writing fd 4). No port, no
/// websocket crate, no browser download: the system's `chromium`.
struct Chromium {
    child: Child,
    to: std::io::PipeWriter,
    from: Receiver<Value>,
    next: u64,
    /// Events received and not yet consumed.
    events: Vec<Value>,
    _profile: Dir,
}

fn chromium_binary() -> PathBuf {
    if let Some(p) = std::env::var_os("PEERSCOPE_CHROMIUM") {
        return PathBuf::from(p);
    }
    for name in ["chromium", "chromium-browser", "google-chrome"] {
        let found = std::env::var_os("PATH").and_then(|path| {
            std::env::split_paths(&path)
                .map(|d| d.join(name))
                .find(|p| p.is_file())
        });
        if let Some(p) = found {
            return p;
        }
    }
    panic!(
        "headless Chromium is needed for the map's browser test: `apt-get install chromium` \
         (scripts/test.sh installs it), or set PEERSCOPE_CHROMIUM"
    );
}

const TIMEOUT: Duration = Duration::from_secs(60);

impl Chromium {
    fn launch() -> Chromium {
        use std::os::fd::AsRawFd;
        use std::os::unix::process::CommandExt;
        let profile = Dir::new();
        let (their_in, to) = std::io::pipe().unwrap();
        let (from_pipe, their_out) = std::io::pipe().unwrap();
        let (r, w) = (their_in.as_raw_fd(), their_out.as_raw_fd());
        let mut cmd = Command::new(chromium_binary());
        cmd.args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--remote-debugging-pipe",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-extensions",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--mute-audio",
            "--window-size=1280,800",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg("about:blank")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
        // SAFETY: between fork and exec only async-signal-safe calls (fcntl, dup2). The pipe
        // ends are first moved above 10 so that dup2 onto 3 and 4 cannot clobber one another.
        unsafe {
            cmd.pre_exec(move || {
                let r2 = libc::fcntl(r, libc::F_DUPFD_CLOEXEC, 10);
                let w2 = libc::fcntl(w, libc::F_DUPFD_CLOEXEC, 10);
                if r2 < 0 || w2 < 0 || libc::dup2(r2, 3) < 0 || libc::dup2(w2, 4) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = cmd.spawn().expect("start chromium");
        drop((their_in, their_out));
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(from_pipe);
            let mut buf = Vec::new();
            loop {
                buf.clear();
                match reader.read_until(0, &mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {
                        if buf.last() == Some(&0) {
                            buf.pop();
                        }
                        if let Ok(v) = serde_json::from_slice::<Value>(&buf)
                            && tx.send(v).is_err()
                        {
                            break;
                        }
                    }
                }
            }
        });
        Chromium {
            child,
            to,
            from: rx,
            next: 0,
            events: Vec::new(),
            _profile: profile,
        }
    }

    fn recv(&mut self, deadline: Instant) -> Value {
        let left = deadline.saturating_duration_since(Instant::now());
        match self.from.recv_timeout(left) {
            Ok(v) => v,
            Err(RecvTimeoutError::Timeout) => panic!("chromium did not answer in time"),
            Err(RecvTimeoutError::Disconnected) => panic!("chromium closed the pipe"),
        }
    }

    /// Sends a command (to a page session when given) and waits for its result.
    fn call(&mut self, session: Option<&str>, method: &str, params: Value) -> Value {
        self.next += 1;
        let id = self.next;
        let mut msg = json!({ "id": id, "method": method, "params": params });
        if let Some(s) = session {
            msg["sessionId"] = json!(s);
        }
        let mut bytes = msg.to_string().into_bytes();
        bytes.push(0);
        self.to.write_all(&bytes).expect("write to chromium");
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let v = self.recv(deadline);
            if v["id"] == json!(id) {
                if let Some(e) = v.get("error") {
                    panic!("{method}: {e}");
                }
                return v["result"].clone();
            }
            self.events.push(v);
        }
    }

    /// Waits for an event (already received or to come).
    fn wait_event(&mut self, method: &str) -> Value {
        if let Some(i) = self.events.iter().position(|e| e["method"] == method) {
            return self.events.remove(i);
        }
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let v = self.recv(deadline);
            if v["method"] == method {
                return v;
            }
            self.events.push(v);
        }
    }
}

impl Drop for Chromium {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One tab.
struct Page<'b> {
    b: &'b mut Chromium,
    session: String,
}

impl Page<'_> {
    fn open(b: &mut Chromium) -> Page<'_> {
        let target = b.call(None, "Target.createTarget", json!({ "url": "about:blank" }));
        let attached = b.call(
            None,
            "Target.attachToTarget",
            json!({ "targetId": target["targetId"], "flatten": true }),
        );
        let session = attached["sessionId"].as_str().unwrap().to_owned();
        let mut p = Page { b, session };
        for domain in ["Page", "Runtime", "Log", "Network"] {
            p.call(&format!("{domain}.enable"), json!({}));
        }
        p.call(
            "Emulation.setDeviceMetricsOverride",
            json!({ "width": 1280, "height": 800, "deviceScaleFactor": 1, "mobile": false }),
        );
        p
    }

    fn call(&mut self, method: &str, params: Value) -> Value {
        let s = self.session.clone();
        self.b.call(Some(&s), method, params)
    }

    fn navigate(&mut self, path: &Path) {
        self.b.events.clear();
        let url = format!("file://{}", path.display());
        self.call("Page.navigate", json!({ "url": url }));
        self.b.wait_event("Page.loadEventFired");
        let deadline = Instant::now() + TIMEOUT;
        while self.eval("window.peerscopeReady === true") != json!(true) {
            assert!(
                Instant::now() < deadline,
                "the page never got ready: {:#?}",
                self.problems()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn eval(&mut self, expr: &str) -> Value {
        let r = self.call(
            "Runtime.evaluate",
            json!({ "expression": expr, "returnByValue": true }),
        );
        if let Some(e) = r.get("exceptionDetails") {
            panic!("{expr}: {e}");
        }
        r["result"]["value"].clone()
    }

    /// Console errors, uncaught exceptions, error log entries and requests that leave the file.
    fn problems(&mut self) -> Vec<String> {
        // Flush events in flight.
        self.eval("0");
        let mut out = Vec::new();
        for e in &self.b.events {
            let p = &e["params"];
            match e["method"].as_str().unwrap_or("") {
                "Runtime.exceptionThrown" => {
                    out.push(format!("exception: {}", p["exceptionDetails"]))
                }
                "Runtime.consoleAPICalled"
                    if matches!(p["type"].as_str(), Some("error" | "assert" | "warning")) =>
                {
                    out.push(format!("console.{}: {}", p["type"], p["args"]))
                }
                "Log.entryAdded" if p["entry"]["level"] == "error" => {
                    out.push(format!("log: {}", p["entry"]["text"]))
                }
                "Network.requestWillBeSent" => {
                    let url = p["request"]["url"].as_str().unwrap_or("");
                    if !(url.starts_with("file:") || url.starts_with("data:")) {
                        out.push(format!("network request: {url}"));
                    }
                }
                _ => {}
            }
        }
        out
    }

    fn type_text(&mut self, selector: &str, text: &str) {
        self.eval(&format!(
            "(() => {{ const e = document.querySelector({s}); e.value = ''; e.focus(); }})()",
            s = json!(selector)
        ));
        self.call("Input.insertText", json!({ "text": text }));
    }

    fn press_enter(&mut self) {
        for t in ["keyDown", "keyUp"] {
            self.call(
                "Input.dispatchKeyEvent",
                json!({ "type": t, "key": "Enter", "code": "Enter", "windowsVirtualKeyCode": 13, "nativeVirtualKeyCode": 13, "text": if t == "keyDown" { "\r" } else { "" } }),
            );
        }
    }

    /// A real click (mouse events through the browser's input pipeline) at page coordinates.
    fn click_at(&mut self, x: f64, y: f64) {
        self.call(
            "Input.dispatchMouseEvent",
            json!({ "type": "mouseMoved", "x": x, "y": y }),
        );
        for t in ["mousePressed", "mouseReleased"] {
            self.call(
                "Input.dispatchMouseEvent",
                json!({ "type": t, "x": x, "y": y, "button": "left", "clickCount": 1 }),
            );
        }
    }

    /// The middle of an element matched by `selector`: for paths and rectangles the point
    /// halfway along their outline (off the edges that end at a collapsed account's centre), for
    /// circles and others the centre of their box.
    fn centre_of(&mut self, selector: &str) -> (f64, f64) {
        let v = self.eval(&format!(
            "(() => {{ const e = document.querySelector({s}); if (!e) return null;
               if (e.getTotalLength && e.tagName !== 'circle') {{ const p = e.getPointAtLength(e.getTotalLength() / 2);
                 const m = e.getScreenCTM(); return [p.x * m.a + p.y * m.c + m.e, p.x * m.b + p.y * m.d + m.f]; }}
               const r = e.getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]; }})()",
            s = json!(selector)
        ));
        let a = v
            .as_array()
            .unwrap_or_else(|| panic!("no element {selector}"));
        (a[0].as_f64().unwrap(), a[1].as_f64().unwrap())
    }
}

#[test]
fn the_page_renders_searches_and_shows_an_edges_findings_in_chromium() {
    let started = Instant::now();
    let dir = Dir::new();
    let mut pages = Vec::new();
    let mut network = BTreeMap::new();
    for t in topologies() {
        // As `graph --format html` writes it: the intent's layer, then the other one.
        let (_, _, g) = picture(&t);
        let other = match g.layer {
            Layer::Full => Layer::Network,
            Layer::Network => Layer::Full,
        };
        let (_, _, h) = picture_in(&t, Some(other));
        let file = dir.path().join(format!("{}.html", name(&t)));
        std::fs::write(
            &file,
            graph::html::render_layers(&[g.clone(), h.clone()], &name(&t)),
        )
        .unwrap();
        network.insert(
            name(&t),
            if other == Layer::Network {
                h
            } else {
                g.clone()
            },
        );
        pages.push((name(&t), file, g));
    }
    let mut browser = Chromium::launch();
    let mut page = Page::open(&mut browser);
    for (n, file, g) in &pages {
        page.navigate(file);
        let drawn = page.eval("document.querySelectorAll('#l-edges g[data-edge]').length");
        assert_eq!(drawn, json!(g.edges.len()), "{n}: every peering drawn");
        // Search by id finds the VPC: selected on the map, described in the panel.
        let vpc = &g.vpcs.iter().find(|v| !v.unseen).unwrap().id;
        page.type_text("#search", vpc);
        let listed = page.eval("document.getElementById('results').textContent");
        assert!(
            listed.as_str().unwrap().contains(vpc.as_str()),
            "{n}: {listed}"
        );
        page.press_enter();
        assert_eq!(
            page.eval("document.querySelector('.vpc.selected').dataset.vpc"),
            json!(vpc),
            "{n}"
        );
        let heading = page.eval("document.querySelector('#panel h2').textContent");
        assert!(
            heading.as_str().unwrap().contains(vpc.as_str()),
            "{n}: {heading}"
        );
        let problems = page.problems();
        assert!(problems.is_empty(), "{n}: {problems:#?}");
    }

    // partner-overbroad: search by an IP address, then click the exposure edge.
    let (_, file, g) = pages
        .iter()
        .find(|(n, _, _)| n == "partner-overbroad")
        .unwrap();
    page.navigate(file);
    page.type_text("#search", "10.50.1.10");
    page.press_enter();
    assert_eq!(
        page.eval("document.querySelector('.vpc.selected').dataset.vpc"),
        json!("vpc-0ed9cf062e57a3543")
    );
    let edge = g
        .edges
        .iter()
        .find(|e| matches!(e.class, EdgeClass::Exposure(_)))
        .unwrap();
    let (x, y) = page.centre_of(&format!("path.hit[data-edge='{}']", edge.id));
    page.click_at(x, y);
    assert_eq!(
        page.eval("document.querySelector('#panel h2').textContent"),
        json!(format!("Peering {}", edge.id))
    );
    let shown: BTreeSet<String> =
        serde_json::from_value(page.eval(
            "[...document.querySelectorAll('#panel .finding')].map(f => f.dataset.fingerprint)",
        ))
        .unwrap();
    let expected: BTreeSet<String> = edge
        .findings
        .iter()
        .map(|&i| g.findings[i].fingerprint.clone())
        .collect();
    assert_eq!(shown, expected);
    assert!(
        page.eval("document.getElementById('panel').textContent")
            .as_str()
            .unwrap()
            .contains("Tighten: ")
    );
    // The layer filter switches to the network layer's picture: its classes and findings.
    let net = &network["partner-overbroad"];
    page.eval(
        "(() => { const s = document.getElementById('f-layer'); s.value = '1'; s.dispatchEvent(new Event('change')); })()",
    );
    for e in &net.edges {
        assert_eq!(
            page.eval(&format!(
                "document.querySelector(\"g[data-edge='{}']\").dataset.class",
                e.id
            )),
            json!(e.class.as_str()),
            "{} in the network layer",
            e.id
        );
    }
    let shown = page.eval("document.querySelectorAll('#panel .finding').length");
    assert_eq!(
        shown,
        json!(
            net.edges
                .iter()
                .find(|e| e.id == edge.id)
                .unwrap()
                .findings
                .len()
        )
    );
    // Collapse every account, then expand one by clicking it.
    page.eval("document.getElementById('b-collapse').click()");
    assert_eq!(
        page.eval("document.querySelectorAll('.vpc').length"),
        json!(0)
    );
    let (x, y) = page.centre_of("g.acct[data-account='222222222222'] > rect.box");
    page.click_at(x, y);
    assert_eq!(
        page.eval("document.querySelectorAll('.vpc').length"),
        json!(2)
    );
    let problems = page.problems();
    assert!(problems.is_empty(), "{problems:#?}");

    // An unseen VPC: drawn marked in its account, found by CIDR, and a click says what it is
    // seen through.
    let unseen = partner_unseen();
    let (_, _, g) = picture_as(unseen.path(), PARTNER_UNSEEN, None);
    let file = dir.path().join("unseen.html");
    std::fs::write(&file, graph::html::render(&g, PARTNER_UNSEEN)).unwrap();
    page.navigate(&file);
    assert_eq!(
        page.eval(
            "document.querySelector(\"g.acct[data-account='999999999999']\").textContent.includes('unseen')"
        ),
        json!(true)
    );
    assert_eq!(
        page.eval(&format!(
            "document.querySelector(\"g[data-edge='{ACME_PEERING}']\").dataset.class"
        )),
        json!("exposure-critical")
    );
    page.type_text("#search", ACME_VPC);
    page.press_enter();
    assert_eq!(
        page.eval("document.querySelector('.vpc.selected').dataset.vpc"),
        json!(ACME_VPC)
    );
    page.type_text("#search", "10.51.0.0/16");
    let listed = page.eval("document.getElementById('results').textContent");
    assert!(listed.as_str().unwrap().contains(ACME_VPC), "{listed}");
    let (x, y) = page.centre_of(&format!("g.vpc.unseen[data-vpc='{ACME_VPC}'] > circle"));
    page.click_at(x, y);
    let panel = page.eval("document.getElementById('panel').textContent");
    let panel = panel.as_str().unwrap();
    assert!(
        panel.contains(&format!("seen only through {ACME_PEERING}"))
            && panel.contains("assumed to allow everything"),
        "{panel}"
    );
    assert_eq!(
        page.eval("document.querySelector('.vpc.selected').dataset.vpc"),
        json!(ACME_VPC)
    );
    let problems = page.problems();
    assert!(problems.is_empty(), "{problems:#?}");

    // Deflated data (as large maps embed it) reads the same.
    let (n, _, g) = &pages[0];
    let file = dir.path().join("deflated.html");
    std::fs::write(
        &file,
        graph::html::render_with(std::slice::from_ref(g), n, true),
    )
    .unwrap();
    assert!(
        std::fs::read_to_string(&file)
            .unwrap()
            .contains("data-encoding=\"deflate-base64\"")
    );
    page.navigate(&file);
    let drawn = page.eval("document.querySelectorAll('#l-edges g[data-edge]').length");
    assert_eq!(drawn, json!(g.edges.len()), "{n} deflated");
    let problems = page.problems();
    assert!(problems.is_empty(), "{problems:#?}");
    eprintln!("browser test: {:.1} s", started.elapsed().as_secs_f64());
}

/// A generated organisation (tier S, through the binary): the page collapses accounts into
/// nodes with aggregated edges, and a click on an aggregate lists its peerings.
#[test]
fn a_generated_organisation_collapses_into_accounts_in_chromium() {
    let org = Dir::new();
    let out = TestCommand::new(["gen", "--tier", "s", "--out"])
        .arg(org.path())
        .run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    let file = org.path().join("map.html");
    let out = TestCommand::new(["graph"])
        .arg(org.path())
        .arg("--out")
        .arg(&file)
        .run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    let mut browser = Chromium::launch();
    let mut page = Page::open(&mut browser);
    page.navigate(&file);
    page.eval("document.getElementById('b-collapse').click()");
    assert_eq!(
        page.eval("document.querySelectorAll('.vpc').length"),
        json!(0)
    );
    let aggregates = page.eval("document.querySelectorAll('g[data-agg]').length");
    assert!(aggregates.as_u64().unwrap() > 0, "{aggregates}");
    let (x, y) = page.centre_of("g[data-agg] path.hit");
    page.click_at(x, y);
    let heading = page.eval("document.querySelector('#panel h2').textContent");
    assert!(
        heading.as_str().unwrap().ends_with(" peerings"),
        "{heading}"
    );
    let listed = page.eval("document.querySelectorAll('#panel li').length");
    assert!(listed.as_u64().unwrap() >= 2, "{listed}");
    let problems = page.problems();
    assert!(problems.is_empty(), "{problems:#?}");
}

/// `graph --output FORMAT=PATH`: several pictures from one audit, each byte for byte what
/// `--format` draws alone (the page's two layers do not change the one-layer formats).
#[test]
fn graph_writes_every_output_asked_for() {
    let t = topologies().into_iter().next().unwrap();
    let snap = t.to_str().unwrap();
    let dir = Dir::new();
    let (html, dot) = (dir.path().join("map.html"), dir.path().join("map.dot"));
    let out = TestCommand::new([
        "graph",
        snap,
        "--output",
        &format!("html={}", html.display()),
        "--output",
        &format!("dot={}", dot.display()),
        "--output",
        "mermaid=-",
    ])
    .run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    let single = |f: &str| {
        TestCommand::new(["graph", snap, "--format", f])
            .run()
            .stdout
    };
    assert_eq!(out.stdout, single("mermaid"));
    assert_eq!(std::fs::read_to_string(&dot).unwrap(), single("dot"));
    assert_eq!(std::fs::read_to_string(&html).unwrap(), single("html"));
}
