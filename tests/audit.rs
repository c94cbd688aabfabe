//! The audit on every example topology: exactly the findings each README promises
//! (`expected-findings.jsonl`), golden output in all four formats, SARIF valid against the
//! official schema, stable fingerprints, baselines, exit codes and intent errors; and that
//! removing an external account's folder (its VPCs become unseen) never hides an exposure.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use peerscope::audit::{AuditReport, Finding, FlowBox, Kind, audit};
use peerscope::engine::Layer;
use peerscope::intent::Intent;
use peerscope::model::{AccountId, VpcId};
use peerscope::report::audit::{Context, Json, Markdown, Reporter, Sarif, Table};
use peerscope::sets::{IpSet, ServiceSet};
use peerscope::snapshot;
use serde_json::Value;

use crate::util::{Dir, TestCommand, copy_tree};

fn topologies() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("topologies");
    let mut out: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("intent.toml").is_file())
        .collect();
    out.sort();
    assert!(
        out.len() >= 4,
        "every topology needs an intent.toml: {out:?}"
    );
    out
}

fn name(p: &Path) -> String {
    p.file_name().unwrap().to_string_lossy().into_owned()
}

/// A topology's audit, with what its reports' context borrows (origins, the relative root).
struct Run {
    report: AuditReport,
    origins: peerscope::snapshot::Origins,
    rel: PathBuf,
}

impl Run {
    fn ctx(&self) -> Context<'_> {
        Context {
            origins: &self.origins,
            snapshot: &self.rel,
        }
    }
}

fn run(t: &Path) -> Run {
    let loaded = snapshot::load(t).unwrap();
    // Named relative to the repository, so golden files do not depend on the checkout's place.
    let rel_intent = Path::new("topologies").join(name(t)).join("intent.toml");
    let text = std::fs::read_to_string(t.join("intent.toml")).unwrap();
    let intent = Intent::parse(&rel_intent, &text).unwrap_or_else(|e| panic!("{e}"));
    let report = audit(&loaded.model, Some(&intent), None);
    // Paths in reports are relative to the repository, so golden files do not depend on
    // where the checkout lives.
    let rel = Path::new("topologies").join(name(t));
    Run {
        report,
        origins: loaded.origins,
        rel,
    }
}

#[test]
fn every_topology_reports_exactly_its_promised_findings() {
    for t in topologies() {
        let report = run(&t).report;
        // JSON Lines, so the snapshot loader (which reads every *.json) never sees it.
        let expected: Vec<Value> = std::fs::read_to_string(t.join("expected-findings.jsonl"))
            .unwrap()
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let mut matched = vec![false; report.findings.len()];
        for e in &expected {
            let subs: Vec<&str> = e["title_contains"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s.as_str().unwrap())
                .collect();
            let hits: Vec<usize> = report
                .findings
                .iter()
                .enumerate()
                .filter(|(_, f)| {
                    f.kind.as_str() == e["kind"]
                        && f.severity.to_string() == e["severity"]
                        && subs.iter().all(|s| f.title.contains(s))
                })
                .map(|(i, _)| i)
                .collect();
            assert_eq!(
                hits.len(),
                1,
                "{}: expected finding {e} matched {} findings:\n{:#?}",
                name(&t),
                hits.len(),
                report
                    .findings
                    .iter()
                    .map(|f| format!("{} {} {}", f.severity, f.kind, f.title))
                    .collect::<Vec<_>>()
            );
            matched[hits[0]] = true;
        }
        let extra: Vec<String> = report
            .findings
            .iter()
            .zip(&matched)
            .filter(|(_, m)| !**m)
            .map(|(f, _)| format!("{} {} {}", f.severity, f.kind, f.title))
            .collect();
        assert!(
            extra.is_empty(),
            "{}: findings the README does not promise: {extra:#?}",
            name(&t)
        );
    }
}

#[test]
fn audit_output_is_golden_in_every_format() {
    for t in topologies() {
        let r = run(&t);
        let (report, ctx) = (&r.report, r.ctx());
        let n = name(&t);
        insta::assert_snapshot!(format!("audit-{n}-table"), Table.render(report, &ctx));
        insta::assert_snapshot!(format!("audit-{n}-json"), Json.render(report, &ctx));
        insta::assert_snapshot!(format!("audit-{n}-sarif"), Sarif.render(report, &ctx));
        insta::assert_snapshot!(format!("audit-{n}-markdown"), Markdown.render(report, &ctx));
    }
}

/// A validator of the official SARIF 2.1.0 schema (fetched by `scripts/fetch-test-deps.sh`).
pub fn sarif_validator() -> jsonschema::Validator {
    let path = std::env::var("PEERSCOPE_SARIF_SCHEMA")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("target/test-deps/sarif-schema-2.1.0.json")
        });
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} — run `bash scripts/fetch-test-deps.sh` (scripts/test.sh does)",
            path.display()
        )
    }))
    .unwrap();
    // Erratum of the published rtm.5 schema: the `language` patterns have a stray `]` that the
    // meta-schema's regex format rejects; later schema releases read as below. SARIF output
    // never sets `language`, so the fix changes nothing we validate.
    fn fix_patterns(v: &mut Value) {
        match v {
            Value::Object(m) => {
                for (k, x) in m.iter_mut() {
                    if k == "pattern" && x == "^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$" {
                        *x = Value::from("^[a-zA-Z]{2}(-[a-zA-Z]{2})?$");
                    } else {
                        fix_patterns(x);
                    }
                }
            }
            Value::Array(a) => a.iter_mut().for_each(fix_patterns),
            _ => {}
        }
    }
    let mut schema = schema;
    fix_patterns(&mut schema);
    jsonschema::validator_for(&schema).expect("the SARIF schema compiles")
}

#[test]
fn sarif_is_valid_against_the_official_schema() {
    let validator = sarif_validator();
    for t in topologies() {
        let r = run(&t);
        let (report, ctx) = (&r.report, r.ctx());
        assert!(!report.findings.is_empty());
        let doc: Value = serde_json::from_str(&Sarif.render(report, &ctx)).unwrap();
        let errors: Vec<String> = validator
            .iter_errors(&doc)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(
            errors.is_empty(),
            "{}: SARIF invalid: {errors:#?}",
            name(&t)
        );
    }
}

#[test]
fn fingerprints_are_stable_across_runs_and_unrelated_changes() {
    for t in topologies() {
        let a = run(&t).report;
        let b = run(&t).report;
        assert_eq!(a, b, "{}: two runs differ", name(&t));
        // An unrelated change: a new, unpeered VPC with a subnet in a new account.
        let dir = Dir::new();
        copy_tree(&t, dir.path());
        dir.write(
            "777777777777/us-east-1/describe-vpcs.json",
            r#"{"Vpcs": [{"VpcId": "vpc-0unrelated000000", "OwnerId": "777777777777", "CidrBlock": "10.77.0.0/16"}]}"#,
        );
        dir.write(
            "777777777777/us-east-1/describe-subnets.json",
            r#"{"Subnets": [{"SubnetId": "subnet-0unrelated0000", "VpcId": "vpc-0unrelated000000", "CidrBlock": "10.77.1.0/24", "AvailabilityZone": "us-east-1a"}]}"#,
        );
        let c = run(dir.path()).report;
        let before: Vec<&str> = a.findings.iter().map(|f| f.fingerprint.as_str()).collect();
        let after: Vec<&str> = c.findings.iter().map(|f| f.fingerprint.as_str()).collect();
        for fp in &before {
            assert!(
                after.contains(fp),
                "{}: fingerprint {fp} changed after an unrelated change",
                name(&t)
            );
        }
    }
}

#[test]
fn baseline_round_trip_silences_known_findings() {
    let t = &topologies()[0];
    let dir = Dir::new();
    let base = dir.path().join("baseline.json");
    let out = TestCommand::new([
        "audit",
        t.to_str().unwrap(),
        "--write-baseline",
        base.to_str().unwrap(),
    ])
    .run();
    assert_eq!(out.code, 1, "the topology has findings: {}", out.stderr);
    let out = TestCommand::new([
        "audit",
        t.to_str().unwrap(),
        "--baseline",
        base.to_str().unwrap(),
        "--format",
        "json",
    ])
    .run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    let v: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(v["findings"].as_array().unwrap().len(), 0);
}

#[test]
fn exit_codes_follow_fail_on() {
    let t = &topologies()[0];
    let report = run(t).report;
    let worst = report.worst().unwrap();
    let at = |sev: &str| {
        TestCommand::new(["audit", t.to_str().unwrap(), "--fail-on", sev])
            .run()
            .code
    };
    assert_eq!(at("info"), 1);
    assert_eq!(at(&worst.to_string()), 1);
    // Report-only: whatever is found, the run succeeds.
    assert_eq!(at("never"), 0);
    if worst < peerscope::audit::Severity::Critical {
        assert_eq!(at("critical"), 0);
    }
}

#[test]
fn intent_mistakes_are_all_reported_with_positions_and_exit_2() {
    let t = &topologies()[0];
    let dir = Dir::new();
    dir.write("bad.toml", "[zones.a]\nvpcs = [\"subnet-1\"]\n\n[[allow]]\nfrom = \"a\"\nto = \"b\"\nports = \"tcp:http\"\n");
    let bad = dir.path().join("bad.toml");
    let out = TestCommand::new([
        "audit",
        t.to_str().unwrap(),
        "--intent",
        bad.to_str().unwrap(),
    ])
    .run();
    assert_eq!(out.code, 2);
    for want in [
        "bad.toml:2:9",
        "is not a VPC id",
        "bad.toml:6:6",
        "unknown zone \"b\"",
        "bad.toml:7:9",
        "bad port",
    ] {
        assert!(
            out.stderr.contains(want),
            "missing {want:?} in:\n{}",
            out.stderr
        );
    }
}

#[test]
fn finding_kind_names_are_stable() {
    let names: Vec<&str> = peerscope::audit::Kind::ALL
        .iter()
        .map(|k| k.as_str())
        .collect();
    insta::assert_snapshot!(names.join("\n"));
}

/// `src − covered` over a list of disjoint boxes (sources × destinations × services), exactly.
fn subtract_box(
    boxes: Vec<(IpSet, IpSet, ServiceSet)>,
    c: &FlowBox,
) -> Vec<(IpSet, IpSet, ServiceSet)> {
    let mut out = Vec::new();
    for (s, d, v) in boxes {
        let (cs, cd, cv) = (
            s.intersection(&c.src),
            d.intersection(&c.dst),
            v.intersection(&c.services),
        );
        if cs.is_empty() || cd.is_empty() || cv.is_empty() {
            out.push((s, d, v));
            continue;
        }
        for part in [
            (s.difference(&c.src), d.clone(), v.clone()),
            (cs.clone(), d.difference(&c.dst), v.clone()),
            (cs, cd, v.difference(&c.services)),
        ] {
            if !(part.0.is_empty() || part.1.is_empty() || part.2.is_empty()) {
                out.push(part);
            }
        }
    }
    out
}

/// The issue's "done when": removing an external account's folder from any topology never hides
/// an exposure that your side admits. For every topology with an intent and an account folder
/// its `[accounts]` does not name, the audit of a copy without that folder (the account's VPCs
/// become unseen VPCs, semantics steps 21–23) must cover, with exposures and denied flows from
/// the same source VPC to the same destination VPC, the whole box (sources × destinations ×
/// services, exactly, on sets) of every exposure and denied flow of the full audit that comes
/// from a VPC of the removed account, at a severity at least as high. Both layers. Flows whose
/// destination is a VPC of the removed account too are not "admitted by your side" (their
/// destination is no longer in the snapshot) and are not held to it; the test says how many.
#[test]
fn removing_an_external_accounts_folder_never_hides_an_exposure() {
    let mut held = 0;
    let mut out_of_scope = 0;
    for t in topologies() {
        let rel_intent = Path::new("topologies").join(name(&t)).join("intent.toml");
        let text = std::fs::read_to_string(t.join("intent.toml")).unwrap();
        let intent = Intent::parse(&rel_intent, &text).unwrap_or_else(|e| panic!("{e}"));
        let mut external: Vec<String> = std::fs::read_dir(&t)
            .unwrap()
            .map(|e| e.unwrap())
            .filter(|e| e.path().is_dir())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.len() == 12 && n.bytes().all(|b| b.is_ascii_digit()))
            .filter(|n| !intent.is_known_account(&AccountId::new(n)))
            .collect();
        external.sort();
        if external.is_empty() {
            continue;
        }
        let full_model = snapshot::load(&t).unwrap().model;
        for acct in external {
            let removed: BTreeSet<VpcId> = full_model
                .vpcs
                .values()
                .filter(|v| v.account.as_str() == acct)
                .map(|v| v.id.clone())
                .collect();
            assert!(!removed.is_empty(), "{}: {acct} holds no VPC", name(&t));
            let dir = Dir::new();
            copy_tree(&t, dir.path());
            std::fs::remove_dir_all(dir.path().join(&acct)).unwrap();
            let reduced_model = snapshot::load(dir.path()).unwrap().model;
            for v in &removed {
                // Every removed VPC that was peered with your side is now an unseen VPC.
                if full_model.index().peerings_of(v).iter().any(|p| {
                    full_model
                        .peerings
                        .get(p)
                        .and_then(|c| c.peer_of(v))
                        .is_some_and(|o| !removed.contains(&o.vpc))
                }) {
                    assert!(
                        reduced_model.unseen_vpc(v).is_some(),
                        "{}: {v} is not unseen without {acct}/",
                        name(&t)
                    );
                }
            }
            for layer in [Layer::Network, Layer::Full] {
                let full = audit(&full_model, Some(&intent), Some(layer));
                let reduced = audit(&reduced_model, Some(&intent), Some(layer));
                let flows_kind = |f: &&Finding| matches!(f.kind, Kind::Exposure | Kind::DeniedFlow);
                for f in full.findings.iter().filter(flows_kind) {
                    let b = f.flows.as_ref().unwrap();
                    if !removed.contains(&b.src_vpc) {
                        continue;
                    }
                    if removed.contains(&b.dst_vpc) {
                        out_of_scope += 1;
                        continue;
                    }
                    let candidates: Vec<&Finding> = reduced
                        .findings
                        .iter()
                        .filter(flows_kind)
                        .filter(|g| {
                            g.flows
                                .as_ref()
                                .is_some_and(|c| c.src_vpc == b.src_vpc && c.dst_vpc == b.dst_vpc)
                        })
                        .collect();
                    let mut left = vec![(b.src.clone(), b.dst.clone(), b.services.clone())];
                    for g in &candidates {
                        left = subtract_box(left, g.flows.as_ref().unwrap());
                    }
                    let show = |fs: &[&Finding]| {
                        fs.iter()
                            .map(|g| format!("{} {} {}", g.severity, g.kind, g.title))
                            .collect::<Vec<_>>()
                    };
                    assert!(
                        left.is_empty(),
                        "{} without {acct}/ ({layer} layer): {} {} {}\nis not covered; uncovered: {:?}\nreduced findings from {} to {}: {:#?}",
                        name(&t),
                        f.severity,
                        f.kind,
                        f.title,
                        left.iter()
                            .map(|(s, d, v)| format!("{s} → {d} {v}"))
                            .collect::<Vec<_>>(),
                        b.src_vpc,
                        b.dst_vpc,
                        show(&candidates)
                    );
                    // The findings that cover part of the box: the worst of them is at least as
                    // severe as the original.
                    let covering: Vec<&Finding> = candidates
                        .iter()
                        .copied()
                        .filter(|g| {
                            let c = g.flows.as_ref().unwrap();
                            !(c.src.is_disjoint(&b.src)
                                || c.dst.is_disjoint(&b.dst)
                                || c.services.is_disjoint(&b.services))
                        })
                        .collect();
                    let worst = covering.iter().map(|g| g.severity).max();
                    assert!(
                        worst >= Some(f.severity),
                        "{} without {acct}/ ({layer} layer): {} {} {}\nis covered only at {worst:?}: {:#?}",
                        name(&t),
                        f.severity,
                        f.kind,
                        f.title,
                        show(&covering)
                    );
                    held += 1;
                }
            }
        }
    }
    assert!(
        held >= 4,
        "only {held} exposures from an external account's folder checked ({out_of_scope} between two of its VPCs)"
    );
}

/// The audit that aggregates rows as they are produced (the CLI's) reports exactly what the
/// audit over the held rows reports, on every topology, in both layers.
#[test]
fn the_streamed_audit_equals_the_audit_over_held_rows() {
    use peerscope::analysis::Analysis;
    for t in topologies() {
        let loaded = snapshot::load(&t).unwrap();
        let text = std::fs::read_to_string(t.join("intent.toml")).unwrap();
        let intent = Intent::parse(Path::new("intent.toml"), &text).unwrap();
        for layer in [Layer::Network, Layer::Full] {
            let held = Analysis::new(&loaded.model, Some(&intent), Some(layer)).audit();
            let streamed = Analysis::new(&loaded.model, Some(&intent), Some(layer))
                .streamed()
                .audit();
            assert_eq!(streamed, held, "{} {layer}", t.display());
        }
    }
}

/// One run, several outputs: `--output FORMAT=PATH` writes each format from the same analysis,
/// byte for byte what `--format` prints; `-` is standard output; a path twice, two formats on
/// standard output and an unknown format are usage errors before any work.
#[test]
fn one_run_writes_every_output_asked_for() {
    let t = &topologies()[0];
    let snap = t.to_str().unwrap();
    let dir = Dir::new();
    let (sarif, json, md) = (
        dir.path().join("audit.sarif"),
        dir.path().join("audit.json"),
        dir.path().join("audit.md"),
    );
    let out = TestCommand::new([
        "audit",
        snap,
        "--output",
        &format!("sarif={}", sarif.display()),
        "--output",
        &format!("json={}", json.display()),
        "--output",
        &format!("markdown={}", md.display()),
        "--output",
        "table=-",
    ])
    .run();
    assert_eq!(out.code, 1, "{}", out.stderr);
    let single = |format: &str| {
        TestCommand::new(["audit", snap, "--format", format])
            .run()
            .stdout
    };
    assert_eq!(out.stdout, single("table"));
    assert_eq!(std::fs::read_to_string(&sarif).unwrap(), single("sarif"));
    assert_eq!(std::fs::read_to_string(&json).unwrap(), single("json"));
    assert_eq!(std::fs::read_to_string(&md).unwrap(), single("markdown"));
    for (args, want) in [
        (
            vec!["--output", "json=-", "--output", "sarif=-"],
            "only one format",
        ),
        (
            vec!["--output", "json=x.json", "--output", "sarif=x.json"],
            "named twice",
        ),
        (vec!["--output", "yaml=x.yaml"], "not a format"),
        (vec!["--output", "json"], "FORMAT=PATH"),
    ] {
        let mut all = vec!["audit", snap];
        all.extend(args);
        let bad = TestCommand::new(all).run();
        assert_eq!(bad.code, 2, "{want}: {}", bad.stderr);
        assert!(bad.stderr.contains(want), "{want}: {}", bad.stderr);
    }
}
