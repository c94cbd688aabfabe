//! Intent file mistakes end to end: every one reported by the binary with `file:line:column`,
//! exit code 2, and the examples in docs/intent.md exactly what peerscope prints.

use std::path::Path;

use peerscope::intent::Intent;

use crate::util::{Dir, TestCommand};

/// Structural and semantic mistakes mixed: all reported, in file order, each at its own place.
#[test]
fn the_binary_reports_every_mistake_with_its_position() {
    let t = Path::new(env!("CARGO_MANIFEST_DIR")).join("topologies/hub-and-spoke");
    let dir = Dir::new();
    dir.write(
        "several.toml",
        r#"zone = "typo"

[accounts]
prod = 222222222222

[zones.app]
accounts = ["prod"]
subnet = ["subnet-1"]

[zones.db]
vpcs = "vpc-2"

[[allow]]
from = "app"
to = "db"
ports = 443

[[allow]]
from = "app"
ports = ["tcp:5432", "tcp:70000", "udp:9-1"]

[[deny]]
from = "ap"
to = "db"
ports = ["tcp:22", 22]
"#,
    );
    let file = dir.path().join("several.toml");
    let out = TestCommand::new([
        "audit",
        t.to_str().unwrap(),
        "--intent",
        file.to_str().unwrap(),
    ])
    .run();
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert_eq!(out.stdout, "", "no audit on a broken intent");
    let f = file.display();
    let want = format!(
        r#"{f}:1:1: unknown key `zone`; expected one of `options`, `accounts`, `zones`, `allow`, `require`, `deny`
{f}:4:8: [accounts]: `prod` must be an account id in quotes ("111111111111"), not an integer
{f}:8:1: [zones.app]: unknown key `subnet`; expected one of `accounts`, `vpcs`, `subnets`, `enis`, `cidrs`, `tags`
{f}:11:8: [zones.db]: `vpcs` must be a list of strings, not a string
{f}:16:9: [[allow]]: `ports` must be a port spec or a list of them ("tcp:443", ["tcp:443", "udp:53"]), not an integer
{f}:18:1: [[allow]]: missing `to` (a zone name)
{f}:20:22: [[allow]]: bad port "tcp:70000": "70000" is not a port (0-65535)
{f}:20:35: [[allow]]: bad port "udp:9-1": the range is empty (9 > 1)
{f}:23:8: [[deny]]: unknown zone "ap" (zones: app, db, external)
{f}:25:20: [[deny]]: `ports` items must be strings, not an integer
peerscope: 10 mistake(s) in the intent file
"#
    );
    assert_eq!(out.stderr, want);
}

/// A syntax error is the one mistake reported: nothing past it can be read.
#[test]
fn a_syntax_error_is_reported_alone() {
    let errs = Intent::parse(
        Path::new("x.toml"),
        "[zones.a]\nvpcs = [\"vpc-1\"]\nbogus = 1\n[[allow]\nfrom = \"a\"\n",
    )
    .unwrap_err()
    .0;
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert_eq!((errs[0].line, errs[0].column), (4, 9), "{}", errs[0]);
}

/// Every numbered example file in docs/intent.md's "Mistakes in the file" gives exactly the
/// console output shown after it.
#[test]
fn the_documented_mistakes_are_what_peerscope_prints() {
    let doc = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/intent.md"))
        .unwrap();
    let section = doc
        .split("\n## Mistakes in the file\n")
        .nth(1)
        .expect("docs/intent.md has a \"Mistakes in the file\" section");
    let section = section.split("\n## ").next().unwrap();
    // The fenced blocks in order, as (language, lines).
    let mut blocks: Vec<(&str, Vec<&str>)> = Vec::new();
    let mut lines = section.lines();
    while let Some(l) = lines.next() {
        if let Some(lang) = l.strip_prefix("```") {
            let body: Vec<&str> = lines.by_ref().take_while(|l| *l != "```").collect();
            blocks.push((lang, body));
        }
    }
    let mut checked = 0;
    for pair in blocks.windows(2) {
        let [(text_lang, numbered), (console_lang, console)] = pair else {
            unreachable!()
        };
        if *text_lang != "text" || *console_lang != "console" {
            continue;
        }
        // " 1  [options]": a two-column line number and two spaces.
        let text: String = numbered
            .iter()
            .map(|l| format!("{}\n", l.get(4..).unwrap_or("")))
            .collect();
        let command = console[0];
        assert!(command.starts_with("$ peerscope audit my-org"), "{command}");
        let file = command
            .split_once("--intent ")
            .map(|(_, f)| f.trim().to_owned())
            .unwrap_or_else(|| "my-org/intent.toml".to_owned());
        let printed: Vec<&str> = console[1..]
            .iter()
            .copied()
            .take_while(|l| !l.starts_with("$ "))
            .collect();
        let errors =
            Intent::parse(Path::new(&file), &text).expect_err("a documented example with mistakes");
        let mut want: Vec<String> = errors.0.iter().map(|e| e.to_string()).collect();
        want.push(format!(
            "peerscope: {} mistake(s) in the intent file",
            errors.0.len()
        ));
        assert_eq!(printed, want, "docs/intent.md, the example for {file}");
        checked += 1;
    }
    assert_eq!(checked, 3, "the intent, shape and syntax examples");
}
