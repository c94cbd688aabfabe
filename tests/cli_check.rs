//! `peerscope check` through the real binary: what it prints and how it exits (0 clean, 1
//! error-level diagnostics, 2 unusable input or `--strict` with errors).

use serde_json::Value;

use crate::util::*;

/// A clean snapshot plus a file with a syntax error (the `@`) at line 3, column 15.
fn snapshot_with_an_error(d: &Dir) -> &Dir {
    clean_snapshot(d).write(
        &format!("{AR}/broken.json"),
        "{\n  \"Vpcs\": [\n    {\"VpcId\": @}\n  ]\n}\n",
    )
}

#[test]
fn check_clean_snapshot_exits_0_and_names_the_account() {
    let d = Dir::new();
    clean_snapshot(&d);
    let out = TestCommand::check(d.path(), &[]).run();
    assert_eq!(out.code, 0, "{out:#?}");
    assert!(out.stdout.contains(ACCOUNT), "{}", out.stdout);
    assert!(out.stdout.contains(REGION), "{}", out.stdout);
    assert!(
        out.stdout.contains("0 error(s), 0 warning(s)"),
        "{}",
        out.stdout
    );
}

#[test]
fn check_strict_on_a_clean_snapshot_exits_0() {
    let d = Dir::new();
    // Warnings (no NACL data, no route table) are not errors.
    one_vpc(&d);
    let out = TestCommand::check(d.path(), &["--strict"]).run();
    assert_eq!(out.code, 0, "{out:#?}");
    assert!(out.stdout.contains("nacl-data-missing"), "{}", out.stdout);
}

#[test]
fn check_json_has_the_documented_keys() {
    let d = Dir::new();
    clean_snapshot(&d);
    let out = TestCommand::check(d.path(), &["--format", "json"]).run();
    assert_eq!(out.code, 0, "{out:#?}");
    let v: Value = serde_json::from_str(&out.stdout).expect("check --format json prints JSON");
    for key in [
        "locations",
        "totals",
        "peerings",
        "prefix_lists",
        "diagnostics",
        "summary",
    ] {
        assert!(v.get(key).is_some(), "no {key:?} in {v:#}");
    }
    assert_eq!(v["locations"][0]["account"], ACCOUNT);
    assert_eq!(v["locations"][0]["region"], REGION);
    assert_eq!(v["totals"]["vpcs"], 1);
    assert_eq!(v["totals"]["subnets"], 2);
    assert_eq!(v["totals"]["network_interfaces"], 2);
    assert_eq!(v["summary"]["errors"], 0);
    assert_eq!(v["diagnostics"], Value::Array(vec![]));
}

#[test]
fn check_json_diagnostics_carry_file_line_and_column() {
    let d = Dir::new();
    snapshot_with_an_error(&d);
    let out = TestCommand::check(d.path(), &["--format", "json"]).run();
    assert_eq!(out.code, 1, "{out:#?}");
    let v: Value = serde_json::from_str(&out.stdout).expect("JSON");
    let diags = v["diagnostics"].as_array().expect("a list");
    let d = diags
        .iter()
        .find(|d| d["code"] == "malformed-json")
        .unwrap_or_else(|| panic!("no malformed-json in {diags:#?}"));
    assert_eq!(d["severity"], "error");
    assert_eq!(d["file"], "111111111111/us-east-1/broken.json");
    assert_eq!(
        (&d["line"], &d["column"]),
        (&Value::from(3), &Value::from(15))
    );
    assert_eq!(v["summary"]["errors"], 1);
}

#[test]
fn check_with_an_error_exits_1_and_prints_file_line_column() {
    let d = Dir::new();
    snapshot_with_an_error(&d);
    let out = TestCommand::check(d.path(), &[]).run();
    assert_eq!(out.code, 1, "{out:#?}");
    assert!(
        out.stdout
            .contains("error[malformed-json] 111111111111/us-east-1/broken.json:3:15"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("1 error(s)"), "{}", out.stdout);
}

#[test]
fn check_strict_with_an_error_exits_2() {
    let d = Dir::new();
    snapshot_with_an_error(&d);
    let out = TestCommand::check(d.path(), &["--strict"]).run();
    assert_eq!(out.code, 2, "{out:#?}");
}

#[test]
fn check_not_a_folder_exits_2_naming_the_path() {
    let d = Dir::new();
    d.write("describe-vpcs.json", "{\"Vpcs\": []}");
    let file = d.path().join("describe-vpcs.json");
    let missing = d.path().join("no-such-snapshot");
    for path in [file, missing] {
        let out = TestCommand::check(&path, &[]).run();
        assert_eq!(out.code, 2, "{out:#?}");
        assert!(
            out.stderr.contains(&path.display().to_string()),
            "{}",
            out.stderr
        );
        assert!(out.stderr.contains("not a folder"), "{}", out.stderr);
    }
}

#[test]
fn check_empty_folder_exits_2() {
    let d = Dir::new();
    let out = TestCommand::check(d.path(), &[]).run();
    assert_eq!(out.code, 2, "{out:#?}");
    assert!(
        out.stderr.contains("nothing recognisable"),
        "{}",
        out.stderr
    );
    assert!(out.stdout.is_empty(), "{}", out.stdout);
}

/// Shell completions and the manual page come from the command-line definition: every command
/// and the repeatable `--output` are in them.
#[test]
fn completions_and_man_page_are_generated_from_the_cli() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let out = TestCommand::new(["completions", shell]).run();
        assert_eq!(out.code, 0, "{shell}: {}", out.stderr);
        for word in ["audit", "what-if", "graph", "output", "fail-on"] {
            assert!(out.stdout.contains(word), "{shell}: no {word}");
        }
    }
    let man = TestCommand::new(["man"]).run();
    assert_eq!(man.code, 0, "{}", man.stderr);
    assert!(
        man.stdout.contains(".TH peerscope 1"),
        "{}",
        &man.stdout[..200.min(man.stdout.len())]
    );
    for word in ["audit", "what\\-if", "snapshot"] {
        assert!(man.stdout.contains(word), "man page: no {word}");
    }
}
