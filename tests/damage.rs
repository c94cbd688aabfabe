//! Fail closed (docs/failure-policy.md): damaged input never turns into a more permissive — or
//! any other — answer without saying so.
//!
//! The property: on a generated organisation, damage one entry of one file (a NACL entry's
//! `RuleNumber` as a string, a `null` list, a CIDR with a space or a leading zero, an object
//! without its id, a subnet outside its VPC, a cross-VPC association, a truncated file); then
//! every flow whose verdict changed is marked undetermined, and the damage is reported. The
//! regressions pin each probe of the issue, through the binary where the exit code matters.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use peerscope::cli::batch_line;
use peerscope::diagnostics::Code;
use peerscope::r#gen::{Options, Tier, generate};
use peerscope::snapshot;
use proptest::prelude::*;
use serde_json::Value;

use crate::util::{Dir, TestCommand, copy_tree};

/// A generated organisation, its query flows and their intact verdicts.
struct Org {
    root: PathBuf,
    flows: Vec<String>,
    verdicts: Vec<Value>,
}

/// Two generated tier-S organisations (seeds 1 and 2), their query flows and verdicts, made
/// once.
fn organisations() -> &'static [Org] {
    static ORGS: OnceLock<Vec<Org>> = OnceLock::new();
    ORGS.get_or_init(|| {
        // Cargo's scratch folder for integration tests: reused, never left in /tmp.
        let base = Path::new(env!("CARGO_TARGET_TMPDIR")).join("damage");
        (1..=2)
            .map(|seed| {
                let out = base.join(format!("org-{seed}"));
                let q = base.join(format!("q-{seed}.jsonl"));
                let _ = std::fs::remove_dir_all(&out);
                generate(
                    &Options {
                        tier: Tier::S,
                        seed,
                        pretty: false,
                        queries: Some((q.clone(), 2000)),
                    },
                    &out,
                )
                .unwrap();
                let flows: Vec<String> = std::fs::read_to_string(&q)
                    .unwrap()
                    .lines()
                    .map(str::to_owned)
                    .collect();
                let intact = snapshot::load(&out).unwrap().model;
                let verdicts = flows
                    .iter()
                    .enumerate()
                    .map(|(i, l)| serde_json::to_value(batch_line(&intact, l, i + 1)).unwrap())
                    .collect();
                Org {
                    root: out,
                    flows,
                    verdicts,
                }
            })
            .collect()
    })
}

/// Every `*.json` file under `root`, sorted.
fn json_files(root: &Path) -> Vec<PathBuf> {
    fn walk(d: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "json") {
                out.push(p);
            }
        }
    }
    let mut out = Vec::new();
    walk(root, &mut out);
    out.sort();
    out
}

/// `root` again under `to`, each file a hard link (cheap; the one to damage is replaced).
fn link_tree(root: &Path, to: &Path) {
    for f in json_files(root) {
        let dst = to.join(f.strip_prefix(root).unwrap());
        std::fs::create_dir_all(dst.parent().unwrap()).unwrap();
        std::fs::hard_link(&f, &dst).unwrap();
    }
}

/// Files a harm can apply to, by their describe call.
fn suits(harm: Harm, f: &Path) -> bool {
    let name = f.file_name().unwrap().to_string_lossy();
    let any = |names: &[&str]| names.iter().any(|n| name.starts_with(n));
    match harm {
        Harm::RuleNumberString => any(&["describe-network-acls"]),
        Harm::NullList => any(&[
            "describe-network-acls",
            "describe-route-tables",
            "describe-security-groups",
        ]),
        Harm::CidrSpace | Harm::CidrLeadingZero => any(&[
            "describe-network-acls",
            "describe-route-tables",
            "describe-subnets",
            "describe-vpcs",
        ]),
        Harm::SubnetOutside => any(&["describe-subnets"]),
        Harm::NoId | Harm::Truncated => name.starts_with("describe-"),
    }
}

/// One kind of damage to one object of a file.
#[derive(Clone, Copy, Debug)]
enum Harm {
    /// A NACL entry's `RuleNumber` written as a string.
    RuleNumberString,
    /// A list AWS always writes (`Routes`, `Entries`, `IpPermissions`, `Associations`) as null.
    NullList,
    /// A CIDR with a leading space.
    CidrSpace,
    /// An IPv4 CIDR with a leading zero in an octet.
    CidrLeadingZero,
    /// The object's id removed.
    NoId,
    /// A subnet's CIDR moved outside its VPC.
    SubnetOutside,
    /// The file cut in half.
    Truncated,
}

const HARMS: [Harm; 7] = [
    Harm::RuleNumberString,
    Harm::NullList,
    Harm::CidrSpace,
    Harm::CidrLeadingZero,
    Harm::NoId,
    Harm::SubnetOutside,
    Harm::Truncated,
];

/// Applies `harm` to the `pick`-th object of the file; false when the file has nothing it
/// applies to.
fn damage(path: &Path, harm: Harm, pick: usize) -> bool {
    let text = std::fs::read_to_string(path).unwrap();
    if let Harm::Truncated = harm {
        std::fs::write(path, &text[..text.len() / 2]).unwrap();
        return true;
    }
    let mut doc: Value = serde_json::from_str(&text).unwrap();
    let Some((key, list)) = doc
        .as_object_mut()
        .and_then(|m| m.iter_mut().find(|(_, v)| v.is_array()))
        .map(|(k, v)| (k.clone(), v.as_array_mut().unwrap()))
    else {
        return false;
    };
    if list.is_empty() {
        return false;
    }
    let n = list.len();
    let obj = &mut list[pick % n];
    let done = match (harm, key.as_str()) {
        (Harm::RuleNumberString, "NetworkAcls") => {
            let entries = obj["Entries"].as_array_mut().unwrap();
            let k = pick % entries.len().max(1);
            match entries.get_mut(k) {
                Some(e) => {
                    e["RuleNumber"] = Value::String(e["RuleNumber"].to_string());
                    true
                }
                None => false,
            }
        }
        (Harm::NullList, "NetworkAcls") => {
            obj["Entries"] = Value::Null;
            true
        }
        (Harm::NullList, "RouteTables") => {
            obj[if pick.is_multiple_of(2) {
                "Routes"
            } else {
                "Associations"
            }] = Value::Null;
            true
        }
        (Harm::NullList, "SecurityGroups") => {
            obj["IpPermissions"] = Value::Null;
            true
        }
        (Harm::CidrSpace | Harm::CidrLeadingZero, "Subnets" | "Vpcs") => {
            let c = obj["CidrBlock"].as_str().unwrap().to_owned();
            obj["CidrBlock"] = Value::String(bend(&c, harm));
            true
        }
        (Harm::CidrSpace | Harm::CidrLeadingZero, "RouteTables") => {
            let routes = obj["Routes"].as_array_mut().unwrap();
            match routes
                .iter_mut()
                .filter(|r| r["DestinationCidrBlock"].is_string())
                .nth(pick % 3)
            {
                Some(r) => {
                    let c = r["DestinationCidrBlock"].as_str().unwrap().to_owned();
                    r["DestinationCidrBlock"] = Value::String(bend(&c, harm));
                    true
                }
                None => false,
            }
        }
        (Harm::CidrSpace | Harm::CidrLeadingZero, "NetworkAcls") => {
            let entries = obj["Entries"].as_array_mut().unwrap();
            match entries
                .iter_mut()
                .filter(|e| e["CidrBlock"].is_string())
                .nth(pick % 3)
            {
                Some(e) => {
                    let c = e["CidrBlock"].as_str().unwrap().to_owned();
                    e["CidrBlock"] = Value::String(bend(&c, harm));
                    true
                }
                None => false,
            }
        }
        (Harm::NoId, _) => match obj.as_object_mut() {
            Some(m) => {
                let id = m
                    .keys()
                    .find(|k| k.ends_with("Id") && !k.starts_with("Vpc"))
                    .cloned();
                id.is_some_and(|k| m.remove(&k).is_some())
            }
            None => false,
        },
        (Harm::SubnetOutside, "Subnets") => {
            obj["CidrBlock"] = Value::String("203.0.113.0/24".into());
            true
        }
        _ => false,
    };
    if done {
        std::fs::write(path, serde_json::to_string(&doc).unwrap()).unwrap();
    }
    done
}

/// A CIDR bent out of AWS's shape.
fn bend(c: &str, harm: Harm) -> String {
    match harm {
        Harm::CidrSpace => format!(" {c}"),
        _ => match c.split_once('.') {
            Some((a, rest)) => format!("0{a}.{rest}"),
            None => c.to_owned(),
        },
    }
}

/// The verdict fields of one batch answer.
fn verdict(v: &Value) -> (Value, Value, Value) {
    (
        v["delivered"].clone(),
        v["connectable"].clone(),
        v["reason"].clone(),
    )
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 40,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn damaging_one_entry_never_changes_a_verdict_without_marking_it(
        org in 0..2usize,
        file in any::<prop::sample::Index>(),
        harm in 0..HARMS.len(),
        pick in 0..64usize,
    ) {
        let Org { root, flows, verdicts } = &organisations()[org];
        let harm = HARMS[harm];
        let files: Vec<PathBuf> = json_files(root)
            .into_iter()
            .filter(|f| suits(harm, f))
            .collect();
        let victim = file.get(&files);
        let dir = Dir::new();
        let copy = dir.path().join("snap");
        link_tree(root, &copy);
        let target = copy.join(victim.strip_prefix(root).unwrap());
        // A fresh file in place of the link, so the original stays intact.
        let text = std::fs::read(&target).unwrap();
        std::fs::remove_file(&target).unwrap();
        std::fs::write(&target, text).unwrap();
        prop_assume!(damage(&target, harm, pick));
        let loaded = snapshot::load(&copy).unwrap();
        let damaged = &loaded.model;
        let mut changed = 0;
        for (i, (line, before)) in flows.iter().zip(verdicts).enumerate() {
            let after = serde_json::to_value(batch_line(damaged, line, i + 1)).unwrap();
            let differs = verdict(before) != verdict(&after) || before["error"] != after["error"];
            if differs {
                changed += 1;
                prop_assert!(
                    after["undetermined"] == Value::Bool(true) || after["error"].is_string(),
                    "{harm:?} on {}: flow {line} changed from {before} to {after} unmarked",
                    victim.display()
                );
            }
        }
        if changed > 0 {
            prop_assert!(!damaged.damage.is_empty(), "{harm:?}: verdicts changed, no damage");
            prop_assert!(loaded.diagnostics.iter().any(|d| d.is_damage()));
        }
    }
}

// ---- regressions: each probe of the issue ---------------------------------------------------

/// hub-and-spoke, copied, with `edit` applied to one file.
fn hub_with(dir: &Dir, file: &str, edit: impl FnOnce(&mut Value)) -> PathBuf {
    let root = dir.path().join("snap");
    copy_tree(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("topologies/hub-and-spoke"),
        &root,
    );
    let path = root.join(file);
    let mut doc: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    edit(&mut doc);
    std::fs::write(&path, serde_json::to_string_pretty(&doc).unwrap()).unwrap();
    root
}

const HUB_NACLS: &str = "111111111111/us-east-1/describe-network-acls.json";
const DNS_FLOW: [&str; 8] = [
    "--from",
    "10.1.1.10",
    "--to",
    "10.0.1.53",
    "--proto",
    "tcp",
    "--port",
    "53",
];

#[test]
fn a_string_rule_number_is_refused_not_read_as_an_allow_all_default() {
    let dir = Dir::new();
    // The DNS subnet's NACL, whose tcp egress lacks the reply port (hub-and-spoke flow 2).
    let root = hub_with(&dir, HUB_NACLS, |d| {
        for a in d["NetworkAcls"].as_array_mut().unwrap() {
            if a["NetworkAclId"] == "acl-0d06c057cf1693dbb" {
                a["Entries"][0]["RuleNumber"] = Value::String("32767".into());
            }
        }
    });
    let root = root.to_str().unwrap();
    let mut args = vec!["query", root];
    args.extend(DNS_FLOW);
    let refused = TestCommand::new(&args).run();
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert!(refused.stdout.is_empty(), "no answer: {}", refused.stdout);
    assert!(
        refused.stderr.contains("acl-0d06c057cf1693dbb") && refused.stderr.contains("damaged"),
        "{}",
        refused.stderr
    );
    args.extend(["--allow-damaged", "--format", "json"]);
    let marked = TestCommand::new(&args).run();
    assert_eq!(marked.code, 4, "{}", marked.stderr);
    let v: Value = serde_json::from_str(&marked.stdout).unwrap();
    assert_eq!(v["undetermined"], Value::Bool(true), "{v}");
    // The batch answer carries the mark too.
    let flows = dir.path().join("flows.jsonl");
    std::fs::write(
        &flows,
        "{\"src\": \"10.1.1.10\", \"dst\": \"10.0.1.53\", \"proto\": \"tcp\", \"port\": 53}\n",
    )
    .unwrap();
    let batch = TestCommand::new([
        "query",
        root,
        "--batch",
        flows.to_str().unwrap(),
        "--allow-damaged",
    ])
    .run();
    let line: Value = serde_json::from_str(batch.stdout.lines().next().unwrap()).unwrap();
    assert_eq!(line["undetermined"], Value::Bool(true), "{line}");
}

#[test]
fn null_lists_are_damage_not_empty_lists() {
    for (file, key, list) in [
        (HUB_NACLS, "NetworkAcls", "Entries"),
        (
            "111111111111/us-east-1/describe-route-tables.json",
            "RouteTables",
            "Routes",
        ),
        (
            "111111111111/us-east-1/describe-security-groups.json",
            "SecurityGroups",
            "IpPermissions",
        ),
    ] {
        let dir = Dir::new();
        let root = hub_with(&dir, file, |d| d[key][0][list] = Value::Null);
        let loaded = snapshot::load(&root).unwrap();
        let d: Vec<String> = loaded
            .diagnostics
            .iter()
            .filter(|d| d.is_damage())
            .map(|d| d.to_string())
            .collect();
        assert!(
            d.iter().any(|d| d.contains(&format!("{list} is null"))),
            "{list}: {d:#?}"
        );
        assert!(!loaded.model.damage.is_empty());
    }
}

#[test]
fn a_null_response_list_is_damage_not_none() {
    let dir = Dir::new();
    let root = hub_with(&dir, HUB_NACLS, |d| d["NetworkAcls"] = Value::Null);
    let loaded = snapshot::load(&root).unwrap();
    assert!(
        loaded
            .diagnostics
            .iter()
            .any(|d| d.is_damage() && d.message.starts_with("NetworkAcls is null")),
        "{:#?}",
        loaded.diagnostics
    );
    // Without the ACLs the hub's subnets would go unfiltered: the hub's VPC is damaged.
    assert!(!loaded.model.damage.is_empty() && !loaded.model.damage.everywhere);
}

#[test]
fn impossible_data_is_an_error_naming_both_objects() {
    let dir = Dir::new();
    let base = hub_with(&dir, HUB_NACLS, |_| {});
    let edit = |file: &str, f: &dyn Fn(&mut Value)| {
        let path = base.join(file);
        let mut doc: Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        f(&mut doc);
        std::fs::write(&path, serde_json::to_string_pretty(&doc).unwrap()).unwrap();
    };
    let subnets = "111111111111/us-east-1/describe-subnets.json";
    let loaded = snapshot::load(&base).unwrap();
    let model = &loaded.model;
    // A subnet of prod (222222222222), to associate with a hub table.
    let prod_subnet = model
        .subnets
        .values()
        .find(|s| s.account.as_str() == "222222222222")
        .unwrap()
        .id
        .to_string();
    edit(
        "111111111111/us-east-1/describe-route-tables.json",
        &|d: &mut Value| {
            d["RouteTables"][0]["Associations"]
                .as_array_mut()
                .unwrap()
                .push(serde_json::json!({"RouteTableAssociationId": "rtbassoc-x", "SubnetId": prod_subnet, "Main": false}));
        },
    );
    edit(subnets, &|d: &mut Value| {
        let first = d["Subnets"][0]["CidrBlock"].clone();
        d["Subnets"][1]["CidrBlock"] = first; // overlaps subnet 0
        d["Subnets"][2]["CidrBlock"] = Value::String("192.0.2.0/24".into()); // outside the VPC
    });
    edit(
        "111111111111/us-east-1/describe-network-interfaces.json",
        &|d: &mut Value| {
            d["NetworkInterfaces"][0]["PrivateIpAddress"] = Value::String("198.51.100.7".into());
            d["NetworkInterfaces"][0]["PrivateIpAddresses"] =
                serde_json::json!([{"PrivateIpAddress": "198.51.100.7", "Primary": true}]);
        },
    );
    let loaded = snapshot::load(&base).unwrap();
    let msgs: Vec<String> = loaded
        .diagnostics
        .iter()
        .filter(|d| d.code == Code::ImpossibleData)
        .map(|d| d.to_string())
        .collect();
    for want in [
        "is associated with subnet",
        "overlaps subnet",
        "lies outside the CIDRs of its VPC",
        "lies outside its subnet",
    ] {
        assert!(msgs.iter().any(|m| m.contains(want)), "{want}: {msgs:#?}");
    }
    let check = TestCommand::new(["check", base.to_str().unwrap()]).run();
    assert_eq!(check.code, 1, "{}", check.stdout);
    assert!(check.stdout.contains("error[impossible-data]"));
    // The cross-VPC association is ignored: the prod subnet keeps its own VPC's table.
    let s = loaded
        .model
        .subnets
        .get(&peerscope::model::SubnetId::new(&prod_subnet))
        .unwrap();
    let t = loaded.model.index().route_table_of(s).unwrap();
    assert_eq!(loaded.model.route_tables[t].vpc, s.vpc);
}

#[test]
fn cidrs_are_parsed_strictly() {
    for bad in [
        " 10.0.0.0/16",
        "10.0.0.0/16 ",
        "010.0.0.0/16",
        "10.0.0.0/016",
        "10.0.0 .0/16",
    ] {
        let dir = Dir::new();
        let root = hub_with(&dir, "111111111111/us-east-1/describe-vpcs.json", |d| {
            d["Vpcs"][0]["CidrBlock"] = Value::String(bad.into());
            d["Vpcs"][0]["CidrBlockAssociationSet"] = Value::Null;
        });
        let loaded = snapshot::load(&root).unwrap();
        assert!(
            loaded
                .diagnostics
                .iter()
                .any(|d| d.is_damage() && d.message.contains("is not a valid CIDR")),
            "{bad:?}: {:#?}",
            loaded.diagnostics
        );
    }
}

#[test]
fn every_analysis_command_refuses_a_damaged_snapshot_and_marks_it_when_allowed() {
    let dir = Dir::new();
    let root = hub_with(&dir, HUB_NACLS, |d| {
        d["NetworkAcls"][0]["Entries"] = Value::Null;
    });
    let root = root.to_str().unwrap();
    for cmd in [
        vec!["reach", root],
        vec!["audit", root],
        vec!["graph", root, "--format", "dot"],
        vec!["diff", root, root],
    ] {
        let run = TestCommand::new(&cmd).run();
        assert_eq!(run.code, 2, "{cmd:?}: {}", run.stderr);
        assert!(run.stdout.is_empty(), "{cmd:?}: {}", run.stdout);
        let mut allowed = cmd.clone();
        allowed.push("--allow-damaged");
        let run = TestCommand::new(&allowed).run();
        assert_eq!(run.code, 4, "{allowed:?}: {}", run.stderr);
    }
    for format in ["json", "sarif", "markdown", "table"] {
        let run = TestCommand::new(["audit", root, "--allow-damaged", "--format", format]).run();
        assert_eq!(run.code, 4);
        let marked = match format {
            "json" => run.stdout.contains("\"damage\""),
            "sarif" => run.stdout.contains("\"executionSuccessful\": false"),
            _ => run.stdout.contains("UNDETERMINED"),
        };
        assert!(marked, "{format}: {}", run.stdout);
    }
}

#[test]
fn lost_associations_rules_and_lists_are_damage() {
    type Edit = fn(&mut Value);
    let cases: [(&str, &str, Edit); 6] = [
        (HUB_NACLS, "is not a list", |d| {
            d["NetworkAcls"] = serde_json::json!({"0": {}})
        }),
        (HUB_NACLS, "association has no SubnetId", |d| {
            for a in d["NetworkAcls"].as_array_mut().unwrap() {
                if let Some(x) = a["Associations"].get_mut(0) {
                    x.as_object_mut().unwrap().remove("SubnetId");
                }
            }
        }),
        (
            "111111111111/us-east-1/describe-route-tables.json",
            "names neither a subnet",
            |d| {
                d["RouteTables"][0]["Associations"]
                    .as_array_mut()
                    .unwrap()
                    .push(serde_json::json!({"RouteTableAssociationId": "rtbassoc-0aaaaaaaa", "Main": false}));
            },
        ),
        (
            "111111111111/us-east-1/describe-security-groups.json",
            "IpRanges is null",
            |d| d["SecurityGroups"][0]["IpPermissions"][0]["IpRanges"] = Value::Null,
        ),
        (
            "111111111111/us-east-1/describe-security-groups.json",
            "IpRanges entry has no CidrIp",
            |d| {
                d["SecurityGroups"][0]["IpPermissions"][0]["IpRanges"] =
                    serde_json::json!([{"Description": "no cidr"}])
            },
        ),
        (
            "111111111111/us-east-1/describe-network-interfaces.json",
            "Groups is null",
            |d| d["NetworkInterfaces"][0]["Groups"] = Value::Null,
        ),
    ];
    for (file, want, edit) in cases {
        let dir = Dir::new();
        let root = hub_with(&dir, file, edit);
        let loaded = snapshot::load(&root).unwrap();
        assert!(
            loaded
                .diagnostics
                .iter()
                .any(|d| d.is_damage() && d.message.contains(want)),
            "{want}: {:#?}",
            loaded.diagnostics
        );
        assert!(!loaded.model.damage.is_empty(), "{want}");
    }
}
