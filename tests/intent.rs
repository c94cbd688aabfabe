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

/// `line:column message` of every mistake in `text`.
fn mistakes(text: &str) -> Vec<String> {
    Intent::parse(Path::new("intent.toml"), text)
        .map(|_| Vec::new())
        .unwrap_or_else(|e| {
            e.0.iter()
                .map(|e| format!("{}:{} {}", e.line, e.column, e.message))
                .collect()
        })
}

/// Issue 13, strict inputs: selectors that were accepted and then selected nothing (`vpc-`,
/// `eni-zz`), or more than they say (`10.1.0.1/16`), names no report can show, one account
/// under two names, port specs with stray spaces — each a mistake at its own position.
#[test]
fn lax_selectors_are_mistakes_each_at_its_position() {
    let text = r#"[accounts]
hub = "111111111111"
prod = "1111"
dev = "111111111111"
"222222222222" = "333333333333"
"a b" = "444444444444"

[zones.a]
vpcs = ["vpc-", "vpc-1a2b3c4d", "vpc-0D92A9EA5873C0B9B", "vpc-0d92a9ea5873c0b9b"]
subnets = ["subnet-1", "subnet-0123456789abcdef0"]
enis = ["eni-zz", "i-1234567890abcdef0", "eni-12345678", "sg-12345678"]
cidrs = [" 10.1.0.0/16", "010.1.0.0/16", "10.1.0.1/16", "10.1.0.0", "vpc-zz:10.0.0.0/8", "vpc-1a2b3c4d:10.2.0.0/16", "2001:db8::/56", "10.1.0.0/16 "]
tags = { "" = "x", Env = "prod" }

[zones.""]
vpcs = ["vpc-1a2b3c4d"]

[zones."bad zone"]
accounts = ["hub", "333333333333"]

[[allow]]
from = "a"
to = "a"
ports = ["tcp: 80", " udp:53", "tcp:080", "tcp:+80", "06:443", "tcp:80", "tcp:1024-65535", "50"]
"#;
    assert_eq!(
        mistakes(text),
        [
            r#"3:8 account prod: "1111" is not an account id (12 digits)"#,
            "4:7 account dev: 111111111111 is already named hub; give each account one name",
            r#"5:1 account name "222222222222" is an account id: a zone's `accounts` could not tell the two apart; choose a name"#,
            r#"6:1 account name "a b" is not a name (1 to 64 letters, digits, '-', '_' or '.')"#,
            r#"9:9 "vpc-" is not a VPC id (vpc- and 8 or 17 lowercase hex digits)"#,
            r#"9:33 "vpc-0D92A9EA5873C0B9B" is not a VPC id (vpc- and 8 or 17 lowercase hex digits)"#,
            r#"10:12 "subnet-1" is not a subnet id (subnet- and 8 or 17 lowercase hex digits)"#,
            r#"11:9 "eni-zz" is not a network interface or instance id (eni- or i- and 8 or 17 lowercase hex digits)"#,
            r#"11:58 "sg-12345678" is not a network interface or instance id (eni- or i- and 8 or 17 lowercase hex digits)"#,
            r#"12:10 " 10.1.0.0/16" is not a CIDR (optionally vpc-…:CIDR): remove the spaces"#,
            r#"12:26 "010.1.0.0/16" is not a CIDR (optionally vpc-…:CIDR): 010.1.0.0 has an octet with a leading zero"#,
            r#"12:42 "10.1.0.1/16" has host bits set: write 10.1.0.0/16 for the network or 10.1.0.1/32 for the address"#,
            r#"12:57 "10.1.0.0" is not a CIDR (optionally vpc-…:CIDR): no prefix length: write 10.1.0.0/32 for one address"#,
            r#"12:69 "vpc-zz:10.0.0.0/8" is not a CIDR (optionally vpc-…:CIDR): "vpc-zz" is not a VPC id (vpc- and 8 or 17 lowercase hex digits)"#,
            r#"12:135 "10.1.0.0/16 " is not a CIDR (optionally vpc-…:CIDR): remove the spaces"#,
            "13:15 [zones.a]: a tag key is empty",
            r#"15:1 zone name "" is not a name (1 to 64 letters, digits, '-', '_' or '.')"#,
            r#"18:1 zone name "bad zone" is not a name (1 to 64 letters, digits, '-', '_' or '.')"#,
            r#"24:10 [[allow]]: bad port "tcp: 80": remove the spaces"#,
            r#"24:21 [[allow]]: bad port " udp:53": remove the spaces"#,
            r#"24:32 [[allow]]: bad port "tcp:080": "080" has a leading zero (write 80)"#,
            r#"24:43 [[allow]]: bad port "tcp:+80": "+80" is not a port (0-65535)"#,
            r#"24:54 [[allow]]: bad port "06:443": expected tcp:PORT[-PORT], udp:PORT[-PORT], icmp, icmpv6, a protocol number or any"#,
        ]
    );
}

/// The probes of issue 13, one file each, through the binary: exit 2 and the mistake at its
/// `file:line:column`, never an audit.
#[test]
fn the_binary_refuses_each_lax_selector() {
    let t = Path::new(env!("CARGO_MANIFEST_DIR")).join("topologies/hub-and-spoke");
    let probes = [
        (
            "[zones.a]\nvpcs = [\"vpc-\"]\n",
            "2:9",
            "\"vpc-\" is not a VPC id",
        ),
        (
            "[zones.a]\nenis = [\"eni-zz\"]\n",
            "2:9",
            "\"eni-zz\" is not a network interface",
        ),
        (
            "[zones.a]\ncidrs = [\" 10.1.0.0/16\"]\n",
            "2:10",
            "remove the spaces",
        ),
        (
            "[zones.a]\nvpcs = [\"vpc-0185b51997c05f28a\"]\n[[allow]]\nfrom = \"a\"\nto = \"a\"\nports = \"tcp: 80\"\n",
            "6:9",
            "bad port \"tcp: 80\": remove the spaces",
        ),
        (
            "[zones.\"\"]\nvpcs = [\"vpc-0185b51997c05f28a\"]\n",
            "1:1",
            "zone name \"\" is not a name",
        ),
        (
            "[accounts]\nprod = \"222222222222\"\nalso-prod = \"222222222222\"\n",
            "3:13",
            "is already named prod",
        ),
        (
            "[zones.a]\ncidrs = [\"10.1.0.1/16\"]\n",
            "2:10",
            "has host bits set",
        ),
        (
            "[accounts]\nprod = \"2222\"\n",
            "2:8",
            "is not an account id (12 digits)",
        ),
    ];
    let dir = Dir::new();
    for (i, (text, at, want)) in probes.iter().enumerate() {
        let name = format!("probe-{i}.toml");
        dir.write(&name, text);
        let file = dir.path().join(&name);
        let out = TestCommand::new([
            "audit",
            t.to_str().unwrap(),
            "--intent",
            file.to_str().unwrap(),
        ])
        .run();
        assert_eq!(out.code, 2, "{text}: {}", out.stderr);
        assert_eq!(out.stdout, "", "{text}: no audit");
        let prefix = format!("{}:{at}: ", file.display());
        assert!(
            out.stderr
                .lines()
                .any(|l| l.starts_with(&prefix) && l.contains(want)),
            "{text}: want {prefix}…{want}…, got {}",
            out.stderr
        );
    }
}

/// What the strict checks must still accept: both id lengths, IPv6, an empty tag value, names
/// with dots and underscores, every port spec form.
#[test]
fn well_formed_selectors_are_accepted() {
    let text = r#"[accounts]
hub = "111111111111"
"prod.eu_1" = "222222222222"

[zones.a_b-c]
accounts = ["hub", "prod.eu_1", "333333333333"]
vpcs = ["vpc-1a2b3c4d", "vpc-0d92a9ea5873c0b9b"]
subnets = ["subnet-0123abcd"]
enis = ["eni-0f8185b0a6cea3af3", "i-1234567890abcdef0", "i-1a2b3c4d"]
cidrs = ["10.1.0.0/16", "0.0.0.0/0", "10.1.2.7/32", "vpc-1a2b3c4d:2001:db8::/56", "::/0"]
tags = { Env = "", "aws:cloudformation:stack-name" = "net" }

[[allow]]
from = "a_b-c"
to = "external"
ports = ["tcp:443", "udp:0-65535", "tcp", "icmp", "icmpv6", "50", "6:443", "any", "all", "-1", "TCP:22"]
"#;
    assert_eq!(mistakes(text), Vec::<String>::new());
}
