//! Fuzzing the loader with proptest: real describe-* files (this suite's own fixtures and the
//! shared external snapshots), mutated structurally (a value replaced by another JSON type, a
//! key dropped or duplicated) and byte-wise (truncated, bytes deleted, inserted or replaced),
//! written into a temporary snapshot in one of the supported layouts, and loaded. Also plain
//! random bytes.
//!
//! Properties: loading never panics; it returns either a `LoadError` or a model with
//! diagnostics; and a file that is not valid JSON is exactly a file with a `malformed-json`
//! diagnostic (the oracle is serde_json's own parser, not the loader).

use std::path::Path;
use std::sync::OnceLock;

use peerscope::snapshot::{LoadError, Loaded};
use proptest::prelude::*;
use serde_json::{Value, json};

use crate::util::*;

/// One seed file and the files of the same snapshot (written beside it, unmutated, so that
/// references resolve and the mutation hits a realistic context).
struct Seed {
    name: String,
    text: String,
    value: Value,
    group: usize,
}

fn seeds() -> &'static [Seed] {
    static SEEDS: OnceLock<Vec<Seed>> = OnceLock::new();
    SEEDS.get_or_init(|| {
        let mut groups: Vec<Vec<(String, String)>> = vec![own_fixture()];
        // Without the real-world snapshots (outside CI), the seeds are the own fixture's.
        let external_group = |dir: &str, names: &[&str]| -> Vec<(String, String)> {
            let Some(dir) = external(dir) else {
                return Vec::new();
            };
            names
                .iter()
                .map(|n| {
                    let path = dir.join(n);
                    let text = std::fs::read_to_string(&path)
                        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                    (n.to_string(), text)
                })
                .collect()
        };
        groups.push(external_group(
            "batfish/representation/aws/test-vpc-peering/aws_configs",
            &[
                "Vpcs.json",
                "Subnets.json",
                "RouteTables.json",
                "SecurityGroups.json",
                "NetworkAcls.json",
                "NetworkInterfaces.json",
                "Reservations.json",
                "VpcPeeringConnections.json",
            ],
        ));
        groups.push(external_group(
            "batfish/representation/aws",
            &[
                "NetworkAclV6Test.json",
                "NetworkAclIcmpTest.json",
                "RouteV6TableTest.json",
                "VpcPeeringConnectionsTest.json",
                "SubnetTest.json",
                "VpcTest.json",
                "RoutePrefixListId.json",
                "PrefixListTest.json",
            ],
        ));
        groups.push(external_group(
            "pybatfish/networks/hybrid-cloud/aws_configs/us-east-2",
            &["PrefixLists.json", "Vpcs.json", "Subnets.json"],
        ));
        groups
            .into_iter()
            .enumerate()
            .flat_map(|(group, files)| {
                files.into_iter().map(move |(name, text)| Seed {
                    value: serde_json::from_str(&text).expect("seed files are valid JSON"),
                    name,
                    text,
                    group,
                })
            })
            .collect()
    })
}

/// A small snapshot that uses every shape the loader reads.
fn own_fixture() -> Vec<(String, String)> {
    let v = with(
        vpc_json("vpc-1", "10.0.0.0/16"),
        "Ipv6CidrBlockAssociationSet",
        json!([ipv6_assoc("2600:1f18:1::/56", "associated")]),
    );
    let s = with(
        subnet_json("subnet-a", "vpc-1", "10.0.1.0/24", "us-east-1a"),
        "Ipv6CidrBlockAssociationSet",
        json!([ipv6_assoc("2600:1f18:1:1::/64", "associated")]),
    );
    let sg_perm = json!({
        "IpProtocol": "tcp", "FromPort": 22, "ToPort": 22,
        "IpRanges": [{ "CidrIp": "10.0.0.0/8" }], "Ipv6Ranges": [{ "CidrIpv6": "::/0" }],
        "PrefixListIds": [{ "PrefixListId": "pl-1" }],
        "UserIdGroupPairs": [{ "GroupId": "sg-1", "UserId": ACCOUNT }],
    });
    let e = with(
        eni_json("eni-1", "subnet-a", "vpc-1", "10.0.1.5", &["sg-1"]),
        "Ipv6Addresses",
        json!([{ "Ipv6Address": "2600:1f18:1:1::5" }]),
    );
    vec![
        ("describe-vpcs.json".into(), response("Vpcs", [v])),
        (
            "describe-subnets.json".into(),
            response(
                "Subnets",
                [
                    s,
                    subnet_json("subnet-b", "vpc-1", "10.0.2.0/24", "us-east-1b"),
                ],
            ),
        ),
        (
            "describe-route-tables.json".into(),
            response(
                "RouteTables",
                [route_table_json(
                    "rtb-1",
                    "vpc-1",
                    vec![main_assoc(), subnet_assoc("subnet-b", "associated")],
                    vec![
                        route_json("10.0.0.0/16", "local"),
                        route_json("2600:1f18:1::/56", "local"),
                        route_json("10.1.0.0/16", "pcx-1"),
                        route_json("pl-1", "nat-1"),
                        with(
                            route_json("10.9.0.0/16", "pcx-1"),
                            "State",
                            json!("blackhole"),
                        ),
                    ],
                )],
            ),
        ),
        (
            "describe-network-acls.json".into(),
            response(
                "NetworkAcls",
                [nacl_json(
                    "acl-1",
                    "vpc-1",
                    true,
                    &["subnet-a"],
                    vec![
                        with(
                            nacl_entry_json(90, false, "6", "allow", "10.0.0.0/8"),
                            "PortRange",
                            json!({ "From": 22, "To": 22 }),
                        ),
                        nacl_entry_json(100, false, "-1", "allow", "::/0"),
                        nacl_entry_json(100, true, "-1", "allow", "0.0.0.0/0"),
                    ],
                )],
            ),
        ),
        (
            "describe-security-groups.json".into(),
            response(
                "SecurityGroups",
                [sg_json(
                    "sg-1",
                    "vpc-1",
                    vec![sg_perm, perm_cidrs_json("icmp", 8, 0, &["0.0.0.0/0"])],
                    vec![perm_cidrs_json("-1", -1, -1, &["0.0.0.0/0"])],
                )],
            ),
        ),
        (
            "describe-network-interfaces.json".into(),
            response("NetworkInterfaces", [e.clone()]),
        ),
        (
            "describe-instances.json".into(),
            response(
                "Reservations",
                [reservation_json("i-1", vec![attached(e, "i-1", 0)])],
            ),
        ),
        (
            "describe-vpc-peering-connections.json".into(),
            response(
                "VpcPeeringConnections",
                [peering_json(
                    "pcx-1",
                    "active",
                    ("vpc-1", "10.0.0.0/16"),
                    ("vpc-2", "10.1.0.0/16"),
                )],
            ),
        ),
        (
            "describe-managed-prefix-lists.json".into(),
            response(
                "PrefixLists",
                [json!({ "PrefixListId": "pl-1", "PrefixListName": "corp" })],
            ),
        ),
        (
            "get-managed-prefix-list-entries-pl-1.json".into(),
            r#"{"Entries": [{"Cidr": "192.168.0.0/24"}, {"Cidr": "2001:db8::/32"}]}"#.into(),
        ),
        (
            "entries-with-id.json".into(),
            r#"{"PrefixListId": "pl-1", "Entries": [{"Cidr": "192.168.1.0/24"}]}"#.into(),
        ),
        (
            "describe-prefix-lists.json".into(),
            response(
                "PrefixLists",
                [json!({ "PrefixListId": "pl-s3", "Cidrs": ["52.216.0.0/15"] })],
            ),
        ),
    ]
}

/// Folders a snapshot's files may sit in: every layout of the contract, and some that name
/// nothing.
const FOLDERS: &[&str] = &[
    "111111111111/us-east-1",
    "aws_configs",
    "aws_configs/us-west-2",
    "aws_configs/accounts/222222222222/eu-west-1",
    "",
    "deep/er/folder",
    "us-gov-west-1",
];

/// A structural edit, applied to the node at a pre-order position (taken modulo the count).
#[derive(Clone, Debug)]
enum Edit {
    /// Replace the node with another value (often of another type).
    Replace(usize, Value),
    /// Remove a key of the object at this position (if it is an object).
    DropKey(usize, usize),
    /// Write a key of the object at this position twice, the second time with this value.
    DupKey(usize, usize, Value),
}

#[derive(Clone, Debug)]
enum ByteEdit {
    Truncate(usize),
    Delete(usize, usize),
    Insert(usize, Vec<u8>),
    Replace(usize, u8),
}

#[derive(Clone, Debug)]
struct Case {
    seed: usize,
    edits: Vec<Edit>,
    bytes: Vec<ByteEdit>,
    with_siblings: bool,
    folder: usize,
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        prop_oneof![Just(-1i64), Just(0), Just(65535), Just(65536), Just(32767)]
            .prop_map(Value::from),
        (-1e6f64..1e6).prop_map(Value::from),
        "[a-z0-9./:-]{0,12}".prop_map(Value::from),
        prop_oneof![
            Just("-1"),
            Just("tcp"),
            Just("icmpv6"),
            Just("10.0.0.0/8"),
            Just("::/0"),
            Just("10.0.0.1/16"),
            Just("active"),
            Just("blackhole"),
            Just("local"),
            Just("pcx-1"),
            Just("vpc-1"),
            Just("subnet-a"),
            Just("sg-1"),
            Just("us-east-1a"),
            Just(""),
        ]
        .prop_map(Value::from),
    ];
    leaf.prop_recursive(2, 8, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..3).prop_map(Value::from),
            prop::collection::btree_map("[A-Za-z]{1,8}", inner, 0..3)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        3 => (any::<usize>(), json_value()).prop_map(|(n, v)| Edit::Replace(n, v)),
        1 => (any::<usize>(), any::<usize>()).prop_map(|(n, k)| Edit::DropKey(n, k)),
        1 => (any::<usize>(), any::<usize>(), json_value()).prop_map(|(n, k, v)| Edit::DupKey(n, k, v)),
    ]
}

fn byte_edit() -> impl Strategy<Value = ByteEdit> {
    prop_oneof![
        (any::<usize>()).prop_map(ByteEdit::Truncate),
        (any::<usize>(), 1usize..16).prop_map(|(p, n)| ByteEdit::Delete(p, n)),
        (
            any::<usize>(),
            prop_oneof![
                prop::collection::vec(any::<u8>(), 1..8),
                prop_oneof![
                    Just(&b"{"[..]),
                    Just(&b"}"[..]),
                    Just(&b"["[..]),
                    Just(&b"]"[..]),
                    Just(&b","[..]),
                    Just(&b"\""[..]),
                    Just(&b":"[..]),
                    Just(&b"\\"[..]),
                    Just(&b"null"[..]),
                    Just(&b"1e999"[..]),
                    Just(&b"\xff"[..]),
                ]
                .prop_map(|b| b.to_vec()),
            ]
        )
            .prop_map(|(p, b)| ByteEdit::Insert(p, b)),
        (any::<usize>(), any::<u8>()).prop_map(|(p, b)| ByteEdit::Replace(p, b)),
    ]
}

fn case() -> impl Strategy<Value = Case> {
    (
        0..seeds().len(),
        prop::collection::vec(edit(), 0..3),
        prop::collection::vec(byte_edit(), 0..3),
        any::<bool>(),
        0..FOLDERS.len(),
    )
        .prop_map(|(seed, edits, bytes, with_siblings, folder)| Case {
            seed,
            edits,
            bytes,
            with_siblings,
            folder,
        })
}

/// The number of values in `v` (pre-order).
fn count_nodes(v: &Value) -> usize {
    1 + match v {
        Value::Array(a) => a.iter().map(count_nodes).sum(),
        Value::Object(o) => o.values().map(count_nodes).sum(),
        _ => 0,
    }
}

/// The node at pre-order position `n`.
fn node_mut(v: &mut Value, n: usize) -> Option<&mut Value> {
    fn go<'v>(v: &'v mut Value, n: &mut usize) -> Option<&'v mut Value> {
        if *n == 0 {
            return Some(v);
        }
        *n -= 1;
        match v {
            Value::Array(a) => a.iter_mut().find_map(|c| go(c, n)),
            Value::Object(o) => o.values_mut().find_map(|c| go(c, n)),
            _ => None,
        }
    }
    let mut n = n;
    go(v, &mut n)
}

/// Writes `v` as JSON; the object at pre-order position `dup.0` gets its key `dup.1` written a
/// second time with value `dup.2` (serde_json's `Value` cannot hold duplicate keys).
fn render(v: &Value, dup: Option<(usize, usize, &Value)>, pos: &mut usize, out: &mut String) {
    let here = *pos;
    *pos += 1;
    match v {
        Value::Array(a) => {
            out.push('[');
            for (i, c) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                render(c, dup, pos, out);
            }
            out.push(']');
        }
        Value::Object(o) => {
            out.push_str("{\n");
            let dup_key = dup
                .filter(|(at, _, _)| *at == here && !o.is_empty())
                .map(|(_, k, val)| (k % o.len(), val));
            for (i, (k, c)) in o.iter().enumerate() {
                if i > 0 {
                    out.push_str(",\n");
                }
                out.push_str(&serde_json::to_string(k).unwrap());
                out.push(':');
                render(c, dup, pos, out);
                if let Some((j, val)) = dup_key
                    && j == i
                {
                    out.push_str(",\n");
                    out.push_str(&serde_json::to_string(k).unwrap());
                    out.push(':');
                    out.push_str(&serde_json::to_string(val).unwrap());
                }
            }
            out.push_str("\n}");
        }
        scalar => out.push_str(&serde_json::to_string(scalar).unwrap()),
    }
}

/// The seed's bytes after the case's edits.
fn mutate(seed: &Seed, case: &Case) -> Vec<u8> {
    let text = if case.edits.is_empty() {
        seed.text.clone()
    } else {
        let mut v = seed.value.clone();
        let mut dup = None;
        for e in &case.edits {
            let n = count_nodes(&v);
            match e {
                Edit::Replace(at, new) => {
                    if let Some(node) = node_mut(&mut v, at % n) {
                        *node = new.clone();
                    }
                }
                Edit::DropKey(at, k) => {
                    if let Some(Value::Object(o)) = node_mut(&mut v, at % n)
                        && let Some(key) = o.keys().nth(k % o.len().max(1)).cloned()
                    {
                        o.remove(&key);
                    }
                }
                Edit::DupKey(at, k, val) => dup = Some((at % n, *k, val)),
            }
        }
        let mut out = String::new();
        render(&v, dup, &mut 0, &mut out);
        out
    };
    let mut bytes = text.into_bytes();
    for b in &case.bytes {
        let len = bytes.len();
        match b {
            ByteEdit::Truncate(p) => bytes.truncate(p % (len + 1)),
            ByteEdit::Delete(p, n) => {
                let start = p % (len + 1);
                let end = (start + n).min(len);
                bytes.drain(start..end);
            }
            ByteEdit::Insert(p, ins) => {
                let at = p % (len + 1);
                bytes.splice(at..at, ins.iter().copied());
            }
            ByteEdit::Replace(p, x) => {
                if len > 0 {
                    bytes[p % len] = *x;
                }
            }
        }
    }
    bytes
}

/// Is this file a JSON document, by serde_json's own parser? JSON is UTF-8 text; serde_json
/// does not check the bytes of strings it skips, so check UTF-8 first.
fn is_json(bytes: &[u8]) -> bool {
    std::str::from_utf8(bytes)
        .is_ok_and(|text| serde_json::from_str::<serde::de::IgnoredAny>(text).is_ok())
}

/// The properties every load must have. `target` is the mutated file's path in the snapshot.
fn check_load(
    result: Result<Loaded, LoadError>,
    target: &Path,
    bytes: &[u8],
) -> Result<(), TestCaseError> {
    let loaded = match result {
        Ok(l) => l,
        Err(LoadError::NothingRecognisable(_)) => return Ok(()),
        Err(e) => return Err(TestCaseError::fail(format!("unexpected LoadError: {e}"))),
    };
    let malformed = loaded
        .diagnostics
        .iter()
        .any(|d| d.code.as_str() == "malformed-json" && d.file.as_deref() == Some(target));
    prop_assert_eq!(
        malformed,
        !is_json(bytes),
        "malformed-json for {} must match serde_json's verdict; diagnostics:\n{}\ntext:\n{}",
        target.display(),
        listing(&loaded),
        String::from_utf8_lossy(bytes)
    );
    // Positions point into the file.
    let lines = bytes.split(|b| *b == b'\n').count();
    for d in &loaded.diagnostics {
        if d.file.as_deref() == Some(target) {
            if let Some(line) = d.line {
                prop_assert!(
                    line >= 1 && line <= lines,
                    "{} (file has {} lines)",
                    d,
                    lines
                );
            }
            // 1-based, as documented.
            prop_assert!(d.column.is_none_or(|c| c >= 1), "{}", d);
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 512,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn mutated_describe_files_never_panic(case in case()) {
        let seeds = seeds();
        let seed = &seeds[case.seed];
        let bytes = mutate(seed, &case);
        let folder = FOLDERS[case.folder];
        let rel = |name: &str| {
            if folder.is_empty() { name.to_owned() } else { format!("{folder}/{name}") }
        };
        let d = Dir::new();
        if case.with_siblings {
            for s in seeds.iter().filter(|s| s.group == seed.group && s.name != seed.name) {
                d.write(&rel(&s.name), &s.text);
            }
        }
        let target = rel(&seed.name);
        d.write(&target, &bytes);
        check_load(d.try_load(), Path::new(&target), &bytes)?;
    }

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512), alone in any::<bool>()) {
        let d = Dir::new();
        if !alone {
            one_vpc(&d);
        }
        d.write("111111111111/us-east-1/random.json", &bytes);
        let target = Path::new("111111111111/us-east-1/random.json");
        let result = d.try_load();
        if !alone {
            prop_assert!(result.is_ok(), "a valid file beside it: the snapshot is usable");
        }
        check_load(result, target, &bytes)?;
    }
}
