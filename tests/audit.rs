//! The audit on every example topology: exactly the findings each README promises
//! (`expected-findings.jsonl`), golden output in all four formats, SARIF valid against the
//! official schema, stable fingerprints, baselines, exit codes and intent errors.

use std::path::{Path, PathBuf};

use peerscope::audit::{AuditReport, audit};
use peerscope::intent::Intent;
use peerscope::report::audit::{Context, Json, Markdown, Reporter, Sarif, Table};
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

fn run(t: &Path) -> (AuditReport, Context) {
    let loaded = snapshot::load(t).unwrap();
    // Named relative to the repository, so golden files do not depend on the checkout's place.
    let rel_intent = Path::new("topologies").join(name(t)).join("intent.toml");
    let text = std::fs::read_to_string(t.join("intent.toml")).unwrap();
    let intent = Intent::parse(&rel_intent, &text).unwrap_or_else(|e| panic!("{e}"));
    let report = audit(&loaded.model, Some(&intent), None);
    // Paths in reports are relative to the repository, so golden files do not depend on
    // where the checkout lives.
    let rel = Path::new("topologies").join(name(t));
    let ctx = Context {
        origins: loaded.origins.clone(),
        snapshot: rel,
    };
    (report, ctx)
}

#[test]
fn every_topology_reports_exactly_its_promised_findings() {
    for t in topologies() {
        let (report, _) = run(&t);
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
        let (report, ctx) = run(&t);
        let n = name(&t);
        insta::assert_snapshot!(format!("audit-{n}-table"), Table.render(&report, &ctx));
        insta::assert_snapshot!(format!("audit-{n}-json"), Json.render(&report, &ctx));
        insta::assert_snapshot!(format!("audit-{n}-sarif"), Sarif.render(&report, &ctx));
        insta::assert_snapshot!(
            format!("audit-{n}-markdown"),
            Markdown.render(&report, &ctx)
        );
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
        let (report, ctx) = run(&t);
        assert!(!report.findings.is_empty());
        let doc: Value = serde_json::from_str(&Sarif.render(&report, &ctx)).unwrap();
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
        let (a, _) = run(&t);
        let (b, _) = run(&t);
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
        let (c, _) = run(dir.path());
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
    let (report, _) = run(t);
    let worst = report.worst().unwrap();
    let at = |sev: &str| {
        TestCommand::new(["audit", t.to_str().unwrap(), "--fail-on", sev])
            .run()
            .code
    };
    assert_eq!(at("info"), 1);
    assert_eq!(at(&worst.to_string()), 1);
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
