//! `peerscope snapshot` against a real AWS API emulator: moto in server mode, installed into
//! `.venv` by scripts/test.sh, started here on 127.0.0.1 on a free port and killed on drop.
//! STS, Organizations and EC2 all go to it through `--endpoint-url`; nothing reaches the
//! internet. `tests/collect_seed.py` seeds an organisation (management, hub, prod, dev) and an
//! external partner in two regions.
//!
//! Moto's gaps (no pagination, peerings without `CidrBlockSet`, no blackhole routes, no
//! cross-account group references) are covered by unit tests in `src/collect` on canned pages
//! and SDK values built by hand.

use std::collections::BTreeSet;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::util::{Dir, load};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn venv(bin: &str) -> PathBuf {
    let p = Path::new(ROOT).join(".venv/bin").join(bin);
    assert!(
        p.exists(),
        "{} is missing: run scripts/test.sh (it installs the emulator into .venv)",
        p.display()
    );
    p
}

/// A moto server on a free loopback port, killed on drop.
pub(crate) struct Moto {
    child: Child,
    pub(crate) url: String,
}

impl Moto {
    pub(crate) fn start() -> Moto {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let child = Command::new(venv("moto_server"))
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start moto_server");
        let moto = Moto {
            child,
            url: format!("http://127.0.0.1:{port}"),
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "moto did not start in 60 s");
            std::thread::sleep(Duration::from_millis(100));
        }
        moto
    }

    /// Runs the seeding script with `args`; returns what it made.
    pub(crate) fn seed(&self, args: &[&str]) -> Value {
        let out = Command::new(venv("python"))
            .arg(Path::new(ROOT).join("tests/collect_seed.py"))
            .arg(&self.url)
            .args(args)
            .output()
            .expect("run tests/collect_seed.py");
        assert!(
            out.status.success(),
            "seeding failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).expect("the seed script prints JSON")
    }

    /// From now on the emulator checks signatures and IAM policies.
    fn enable_iam_checks(&self) {
        let out = Command::new(venv("python"))
            .args([
                "-c",
                "import sys, requests; requests.post(sys.argv[1] + '/moto-api/reset-auth', data=b'0').raise_for_status()",
                &self.url,
            ])
            .output()
            .expect("run python");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What a run of the binary printed and how it exited.
pub(crate) struct Run {
    pub(crate) code: i32,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

/// The peerscope binary with a clean AWS environment: fake keys, a region, no profile files,
/// never the instance-metadata address.
pub(crate) fn peerscope(args: &[&str], key: (&str, &str)) -> Run {
    peerscope_env(args, key, &[])
}

/// [`peerscope`] with `env` set on top (overriding its own variables).
pub(crate) fn peerscope_env(args: &[&str], key: (&str, &str), env: &[(&str, &str)]) -> Run {
    let out = command(args, key)
        .envs(env.iter().copied())
        .output()
        .expect("run peerscope");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// The command [`peerscope`] runs.
fn command(args: &[&str], key: (&str, &str)) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_peerscope"));
    cmd.args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", std::env::temp_dir())
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", "/nonexistent/peerscope-test/config")
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            "/nonexistent/peerscope-test/credentials",
        )
        .env("AWS_ACCESS_KEY_ID", key.0)
        .env("AWS_SECRET_ACCESS_KEY", key.1)
        .env("AWS_REGION", "us-east-1");
    cmd
}

pub(crate) const FAKE_KEY: (&str, &str) = ("AKIAIOSFODNN7EXAMPLE", "not-a-secret");
pub(crate) const REGIONS: &str = "eu-west-1,us-east-1";

fn collect(moto: &Moto, out: &Path, extra: &[&str], key: (&str, &str)) -> Run {
    let out = out.to_str().expect("UTF-8 path");
    let mut args = vec![
        "snapshot",
        "--out",
        out,
        "--regions",
        REGIONS,
        "--endpoint-url",
        &moto.url,
        "--quiet",
    ];
    args.extend_from_slice(extra);
    peerscope(&args, key)
}

pub(crate) fn read_json(p: &Path) -> Value {
    let text = std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

pub(crate) fn s(v: &Value) -> &str {
    v.as_str().expect("a string")
}

/// Every file under `root` (relative path → bytes), sorted.
pub(crate) fn files(root: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<(PathBuf, Vec<u8>)>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                let rel = p.strip_prefix(root).unwrap().to_path_buf();
                out.push((rel, std::fs::read(&p).unwrap()));
            }
        }
    }
    let mut out = Vec::new();
    walk(root, root, &mut out);
    out.sort();
    out
}

#[test]
fn org_snapshot_through_assume_role_is_complete_and_audits() {
    let moto = Moto::start();
    let seed = moto.seed(&[]);
    let acct = |name: &str| s(&seed["accounts"][name]).to_owned();
    let (mgmt, hub, prod, dev) = (acct("management"), acct("hub"), acct("prod"), acct("dev"));
    let dir = Dir::new();
    let out = dir.path().join("snap");
    let run = collect(&moto, &out, &["--org"], FAKE_KEY);
    assert_eq!(run.code, 0, "stderr:\n{}", run.stderr);

    // The layout: <account>/<region>/describe-*.json for every account-region.
    let layout = files(&out);
    for a in [&mgmt, &hub, &prod, &dev] {
        for r in ["us-east-1", "eu-west-1"] {
            for f in [
                "describe-vpcs.json",
                "describe-subnets.json",
                "describe-route-tables.json",
                "describe-security-groups.json",
                "describe-network-acls.json",
                "describe-network-interfaces.json",
                "describe-vpc-peering-connections.json",
                "describe-managed-prefix-lists.json",
            ] {
                let p = Path::new(a.as_str()).join(r).join(f);
                assert!(
                    layout.iter().any(|(rel, _)| *rel == p),
                    "{} missing",
                    p.display()
                );
            }
        }
    }

    // The manifest: who, what, and every account-region ok; roles assumed in the members only.
    let m = read_json(&out.join("manifest.json"));
    assert_eq!(m["version"], 1);
    assert_eq!(m["accounts_from"], "organizations");
    assert_eq!(s(&m["caller"]["account"]), mgmt);
    let ids: BTreeSet<&str> = m["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| s(&a["id"]))
        .collect();
    assert_eq!(ids, BTreeSet::from([&*mgmt, &*hub, &*prod, &*dev]));
    for a in m["accounts"].as_array().unwrap() {
        let role = a.get("role_arn").and_then(Value::as_str);
        if s(&a["id"]) == mgmt {
            assert_eq!(
                role, None,
                "the caller's own account uses the caller's credentials"
            );
        } else {
            assert_eq!(
                role,
                Some(&*format!(
                    "arn:aws:iam::{}:role/PeerscopeAudit",
                    s(&a["id"])
                ))
            );
        }
    }
    let results = m["results"].as_array().unwrap();
    assert_eq!(results.len(), 8);
    assert!(results.iter().all(|r| r["status"] == "ok"), "{results:#?}");
    assert!(!m.to_string().contains("SecretAccessKey") && !m.to_string().contains(FAKE_KEY.1));

    // The loader reads it without error diagnostics, with everything that was seeded.
    let loaded = load(&out);
    assert!(!loaded.has_errors(), "{:#?}", loaded.diagnostics);
    let model = &loaded.model;
    for (name, id) in seed["vpcs"].as_object().unwrap() {
        let present = model.vpcs.keys().any(|k| k.as_str() == s(id));
        assert_eq!(present, name != "partner", "VPC {name} ({})", s(id));
    }
    for id in seed["subnets"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(n, _)| *n != "partner")
    {
        assert!(
            model.subnets.keys().any(|k| k.as_str() == s(id.1)),
            "subnet {}",
            id.0
        );
    }
    let inventory = peerscope::report::inventory::Inventory::new(&loaded);
    let status: Vec<(String, usize)> = inventory.peerings.clone().into_iter().collect();
    assert_eq!(
        status,
        [
            ("active".to_owned(), 3),
            ("pending-acceptance".to_owned(), 1)
        ],
        "the cross-account, cross-region and partner peerings, and one never accepted"
    );
    let at = |a: &str, r: &str| {
        inventory
            .locations
            .iter()
            .find(|l| l.account.as_str() == a && l.region.as_str() == r)
            .map(|l| l.counts.clone())
            .unwrap_or_else(|| panic!("no {a}/{r} in the inventory"))
    };
    // Each account-region also holds moto's default VPC (one route table, SG and NACL).
    let hub_us = at(&hub, "us-east-1");
    assert_eq!((hub_us.vpcs, hub_us.network_interfaces), (2, 2));
    assert_eq!(
        hub_us.routes,
        1 + 4,
        "default VPC local; hub local, prod, dev, corp list"
    );
    let prod_us = at(&prod, "us-east-1");
    assert_eq!(
        prod_us.network_acls, 3,
        "default VPC's, prod's default, prod's custom"
    );
    assert_eq!(prod_us.network_acl_entries, 4 + 4 + 3);
    assert_eq!(at(&dev, "eu-west-1").network_interfaces, 1);

    // Prefix-list entries beside their list's id, for the list routes and rules reference.
    let pl = s(&seed["prefix_list"]);
    let entries = read_json(
        &out.join(&hub)
            .join("us-east-1")
            .join(format!("get-managed-prefix-list-entries-{pl}.json")),
    );
    assert_eq!(entries["PrefixListId"], pl);
    let cidrs: Vec<&str> = entries["Entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| s(&e["Cidr"]))
        .collect();
    assert_eq!(cidrs, ["192.168.0.0/24", "192.168.1.0/24"], "sorted");
    let list = model
        .prefix_lists
        .iter()
        .find(|(k, _)| k.as_str() == pl)
        .map(|(_, v)| v);
    assert!(list.is_some(), "the loader knows {pl}");
    assert_eq!(inventory.prefix_list_entries, 2);

    // Audit: the hygiene findings the seed planted.
    let audit = peerscope(
        &["audit", out.to_str().unwrap(), "--format", "json"],
        FAKE_KEY,
    );
    assert!(
        audit.code == 0 || audit.code == 1,
        "stderr:\n{}",
        audit.stderr
    );
    let report: Value = serde_json::from_str(&audit.stdout).expect("audit JSON");
    let mut kinds: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| s(&f["kind"]))
        .collect();
    kinds.sort();
    assert_eq!(
        kinds,
        [
            "external-peering",           // prod ↔ partner 999988887777
            "inactive-peering-route",     // dev us-east-1 → a peering never accepted
            "open-to-world-over-peering", // hub-app 5432 from 0.0.0.0/0
            "route-wider-than-peer",      // dev eu-west-1 10.0.0.0/8 → hub 10.0.0.0/16
            "route-wider-than-peer",      // hub: the corp list → prod
        ],
        "{}",
        audit.stdout
    );
}

#[test]
fn snapshots_of_the_same_state_are_byte_identical() {
    let moto = Moto::start();
    moto.seed(&[]);
    let dir = Dir::new();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    assert_eq!(collect(&moto, &a, &["--org"], FAKE_KEY).code, 0);
    // At --concurrency 1 too: the order requests finish in must not matter.
    assert_eq!(
        collect(&moto, &b, &["--org", "--concurrency", "1"], FAKE_KEY).code,
        0
    );
    let without_manifest = |p: &Path| -> Vec<(PathBuf, Vec<u8>)> {
        files(p)
            .into_iter()
            .filter(|(rel, _)| rel != Path::new("manifest.json"))
            .collect()
    };
    let (fa, fb) = (without_manifest(&a), without_manifest(&b));
    assert!(fa.len() > 60, "{} files", fa.len());
    assert_eq!(fa, fb);
    // Re-collecting into an existing snapshot replaces it, leaving nothing else behind, and
    // keeps the files the docs advise keeping beside it (issue 13).
    let m = read_json(&a.join("manifest.json"));
    assert_eq!(m["generator"], "peerscope");
    assert_eq!(m["command"], "snapshot");
    assert_eq!(m["complete"], true);
    std::fs::write(a.join("intent.toml"), "# mine\n").unwrap();
    std::fs::create_dir(a.join("changes")).unwrap();
    std::fs::write(a.join("changes/open-ssh.json"), "[]\n").unwrap();
    std::fs::write(a.join("baseline.json"), "{\"fingerprints\": []}\n").unwrap();
    let mine = |p: &Path| -> Vec<(PathBuf, Vec<u8>)> {
        files(p)
            .into_iter()
            .filter(|(rel, _)| {
                rel.starts_with("changes")
                    || rel == Path::new("intent.toml")
                    || rel == Path::new("baseline.json")
            })
            .collect()
    };
    let kept = mine(&a);
    assert_eq!(kept.len(), 3);
    // A stale file in an account folder of the first run does not survive the second.
    let account = m["written"][0].as_str().unwrap();
    let stale = a.join(account).join("stale.json");
    std::fs::write(&stale, "{}").unwrap();
    assert_eq!(collect(&moto, &a, &["--org"], FAKE_KEY).code, 0);
    assert_eq!(mine(&a), kept);
    assert!(!stale.exists());
    let without_mine: Vec<_> = without_manifest(&a)
        .into_iter()
        .filter(|f| !kept.contains(f))
        .collect();
    assert_eq!(without_mine, fb);
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
}

#[test]
fn denied_assume_role_is_a_partial_snapshot_that_check_and_audit_warn_about() {
    let moto = Moto::start();
    let seed = moto.seed(&["--auditor"]);
    let acct = |name: &str| s(&seed["accounts"][name]).to_owned();
    let dir = Dir::new();
    // prod is named with a role the auditor may not assume (its policy denies it).
    let accounts = dir.path().join("accounts.toml");
    std::fs::write(
        &accounts,
        format!(
            "[[account]]\nid = \"{}\"\nname = \"hub\"\n\n[[account]]\nid = \"{}\"\nname = \"prod\"\nrole = \"Forbidden\"\n\n[[account]]\nid = \"{}\"\nname = \"dev\"\n",
            acct("hub"),
            acct("prod"),
            acct("dev")
        ),
    )
    .unwrap();
    // From here on moto checks signatures and policies: the auditor's and the PeerscopeAudit
    // role's (the read-only policy of docs/collect.md).
    moto.enable_iam_checks();
    let key = (s(&seed["auditor"]["id"]), s(&seed["auditor"]["secret"]));
    let out = dir.path().join("snap");
    let run = collect(
        &moto,
        &out,
        &["--accounts", accounts.to_str().unwrap()],
        key,
    );
    assert_eq!(
        run.code, 3,
        "exit 3 = partial snapshot; stderr:\n{}",
        run.stderr
    );
    assert!(run.stderr.contains("AccessDenied"), "{}", run.stderr);
    assert!(
        run.stderr.contains("4 of 6 account-region(s) collected"),
        "{}",
        run.stderr
    );

    let m = read_json(&out.join("manifest.json"));
    assert_eq!(m["accounts_from"], "file");
    let failed: Vec<(&str, &str)> = m["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["status"] == "failed")
        .map(|r| (s(&r["account"]), s(&r["error"])))
        .collect();
    assert_eq!(failed.len(), 2, "{failed:?}");
    for (a, e) in &failed {
        assert_eq!(*a, acct("prod"));
        assert!(
            e.starts_with(&format!(
                "AssumeRole arn:aws:iam::{}:role/Forbidden: AccessDenied",
                acct("prod")
            )),
            "{e}"
        );
    }
    assert!(
        !out.join(acct("prod")).exists(),
        "nothing written for a failed account"
    );
    assert!(
        out.join(acct("hub"))
            .join("us-east-1/describe-vpcs.json")
            .is_file()
    );

    // `check` lists one partial-snapshot warning per failed account-region; `audit` warns.
    let check = peerscope(&["check", out.to_str().unwrap(), "--format", "json"], key);
    assert_eq!(check.code, 0, "warnings only; stderr:\n{}", check.stderr);
    let inv: Value = serde_json::from_str(&check.stdout).unwrap();
    let partial: Vec<&str> = inv["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["code"] == "partial-snapshot")
        .map(|d| s(&d["object"]))
        .collect();
    let prod = acct("prod");
    assert_eq!(
        partial,
        [format!("{prod}/eu-west-1"), format!("{prod}/us-east-1")]
    );
    let audit = peerscope(&["audit", out.to_str().unwrap()], key);
    assert!(
        audit
            .stderr
            .contains("partial snapshot: 2 account-region(s)"),
        "{}",
        audit.stderr
    );
}

/// The exposures of an audit report from `src_vpc` into `dst_subnet`.
fn exposures_into<'r>(report: &'r Value, src_vpc: &str, dst_subnet: &str) -> Vec<&'r Value> {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| {
            f["kind"] == "exposure"
                && f["flows"]["src_vpc"] == src_vpc
                && f["flows"]["dst_subnet"] == dst_subnet
        })
        .collect()
}

/// Does a finding's service set hold tcp `port`?
fn covers_tcp(f: &Value, port: u64) -> bool {
    f["flows"]["services"]["tcp"]
        .as_array()
        .expect("tcp ranges")
        .iter()
        .any(|r| r[0].as_u64().unwrap() <= port && port <= r[1].as_u64().unwrap())
}

fn audit_json(snapshot: &Path, intent: &Path) -> Value {
    let run = peerscope(
        &[
            "audit",
            snapshot.to_str().unwrap(),
            "--intent",
            intent.to_str().unwrap(),
            "--format",
            "json",
        ],
        FAKE_KEY,
    );
    assert_eq!(
        run.code, 1,
        "exit 1: findings of medium or worse; stderr:\n{}",
        run.stderr
    );
    serde_json::from_str(&run.stdout).expect("audit JSON")
}

/// The issue's scenario (semantics steps 21–23): the hub's DNS hosts admit 172.16.0.0/12 on
/// tcp/22 and the hub routes the partner's 172.20.0.0/16 over their peering, so the partner can
/// SSH to them. The organisation's snapshot cannot see the partner's VPC (no role there), yet the
/// audit must find that exposure, as critical as it is once the partner's dump is added.
#[test]
fn the_audit_finds_an_unseen_partners_exposure_as_it_does_with_the_partners_dump() {
    let moto = Moto::start();
    let seed = moto.seed(&["--hub-partner"]);
    let acct = |name: &str| s(&seed["accounts"][name]).to_owned();
    let partner = acct("partner");
    let partner_vpc = s(&seed["vpcs"]["partner-hub"]);
    let hub_vpc = s(&seed["vpcs"]["hub"]);
    let (dns, api) = (
        s(&seed["subnets"]["hub-dns"]),
        s(&seed["subnets"]["hub-api"]),
    );
    let pcx = s(&seed["pcx"]["hub-partner"]);
    let dir = Dir::new();

    // The organisation's snapshot: four accounts, not the partner's.
    let org = dir.path().join("org");
    let run = collect(&moto, &org, &["--org"], FAKE_KEY);
    assert_eq!(run.code, 0, "stderr:\n{}", run.stderr);
    assert!(!org.join(&partner).exists());

    // `check` lists the partner's VPC as unseen, with an info diagnostic.
    let check = peerscope(
        &["check", org.to_str().unwrap(), "--format", "json"],
        FAKE_KEY,
    );
    assert_eq!(check.code, 0, "infos only; stderr:\n{}", check.stderr);
    let inv: Value = serde_json::from_str(&check.stdout).expect("check JSON");
    let unseen = inv["unseen_vpcs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["id"] == partner_vpc)
        .unwrap_or_else(|| panic!("{partner_vpc} not listed as unseen: {}", inv["unseen_vpcs"]));
    assert_eq!(unseen["account"], partner.as_str());
    assert_eq!(unseen["region"], "us-east-1");
    assert_eq!(unseen["cidrs"], serde_json::json!(["172.20.0.0/16"]));
    assert_eq!(unseen["peerings"], serde_json::json!([pcx]));
    let diag: Vec<&Value> = inv["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["code"] == "unseen-vpc" && d["object"] == partner_vpc)
        .collect();
    assert_eq!(diag.len(), 1, "{}", inv["diagnostics"]);
    assert_eq!(diag[0]["severity"], "info", "{}", diag[0]);

    // The intent: the four accounts are ours; the partner may call one API subnet on tcp/443.
    let intent = dir.path().join("intent.toml");
    std::fs::write(
        &intent,
        format!(
            r#"[accounts]
management = "{}"
hub = "{}"
prod = "{}"
dev = "{}"

[zones.partner]
vpcs = ["{partner_vpc}"]

[zones.hub-api]
subnets = ["{api}"]

[[allow]]
from = "partner"
to = "hub-api"
ports = "tcp:443"
why = "the partner calls the hub's API, nothing else"
"#,
            acct("management"),
            acct("hub"),
            acct("prod"),
            acct("dev"),
        ),
    )
    .unwrap();

    // Without the partner's dump: the partner's whole VPC may SSH to the DNS hosts.
    let report = audit_json(&org, &intent);
    let found = exposures_into(&report, partner_vpc, dns);
    assert_eq!(found.len(), 1, "{found:#?}");
    let unseen_ssh = found[0];
    assert_eq!(unseen_ssh["severity"], "critical", "{unseen_ssh:#}");
    let flows = &unseen_ssh["flows"];
    assert_eq!(flows["src_account"], partner.as_str());
    assert_eq!(flows["src"], serde_json::json!(["172.20.0.0/16"]));
    assert_eq!(flows["dst_vpc"], hub_vpc);
    assert_eq!(
        flows["dst"],
        serde_json::json!(["10.0.3.53/32", "10.0.3.54/32"])
    );
    assert_eq!(flows["services"]["text"], "tcp:22");
    assert_eq!(flows["via"], pcx);
    let components: Vec<(&str, &str, &str)> = unseen_ssh["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (s(&c["kind"]), s(&c["id"]), s(&c["detail"])))
        .collect();
    let has = |kind: &str, id: &str, detail: &str| {
        components
            .iter()
            .any(|c| c.0 == kind && c.1 == id && c.2.contains(detail))
    };
    assert!(has("peering", pcx, "unseen"), "{components:#?}");
    assert!(
        has(
            "route-table",
            s(&seed["route_tables"]["hub"]),
            "172.20.0.0/16 -> "
        ),
        "the hub's route back to the partner: {components:#?}"
    );
    assert!(
        has("network-acl", s(&seed["network_acls"]["hub"]), "ingress"),
        "{components:#?}"
    );
    assert!(
        has(
            "security-group",
            s(&seed["groups"]["hub-dns"]),
            "ingress tcp:22 172.16.0.0/12"
        ),
        "{components:#?}"
    );
    // The allowed flow is not an exposure; the rule behind the problem is a hygiene finding too.
    assert!(
        exposures_into(&report, partner_vpc, api).is_empty(),
        "{report:#}"
    );
    assert!(
        report["findings"].as_array().unwrap().iter().any(|f| {
            f["kind"] == "open-to-unseen-peer"
                && f["components"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|c| c["id"] == seed["groups"]["hub-dns"])
        }),
        "{report:#}"
    );

    // The partner's dump, collected in its account (moto lets the caller assume any role), added
    // to a copy of the organisation's snapshot.
    let accounts = dir.path().join("partner.toml");
    std::fs::write(
        &accounts,
        format!("[[account]]\nid = \"{partner}\"\nname = \"partner\"\nrole = \"PartnerAudit\"\n"),
    )
    .unwrap();
    let theirs = dir.path().join("partner");
    let run = collect(
        &moto,
        &theirs,
        &["--accounts", accounts.to_str().unwrap()],
        FAKE_KEY,
    );
    assert_eq!(run.code, 0, "stderr:\n{}", run.stderr);
    let both = dir.path().join("both");
    std::fs::create_dir_all(both.join(&partner)).unwrap();
    crate::util::copy_tree(&org, &both);
    crate::util::copy_tree(&theirs.join(&partner), &both.join(&partner));
    let check = peerscope(
        &["check", both.to_str().unwrap(), "--format", "json"],
        FAKE_KEY,
    );
    assert_eq!(check.code, 0, "stderr:\n{}", check.stderr);
    let inv: Value = serde_json::from_str(&check.stdout).unwrap();
    assert!(
        !inv["unseen_vpcs"]
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u["id"] == partner_vpc),
        "the partner's VPC is seen now: {}",
        inv["unseen_vpcs"]
    );

    // With it: the same exposure, from the partner's host, as critical.
    let report = audit_json(&both, &intent);
    let found = exposures_into(&report, partner_vpc, dns);
    assert_eq!(found.len(), 1, "{found:#?}");
    let seen_ssh = found[0];
    assert_eq!(seen_ssh["flows"]["dst_vpc"], hub_vpc);
    assert_eq!(
        seen_ssh["flows"]["src"],
        serde_json::json!(["172.20.1.10/32"])
    );
    assert!(covers_tcp(seen_ssh, 22), "{seen_ssh:#}");
    assert_eq!(
        seen_ssh["severity"], unseen_ssh["severity"],
        "the same severity with and without the partner's dump: {seen_ssh:#}"
    );
    assert!(
        exposures_into(&report, partner_vpc, api).is_empty(),
        "{report:#}"
    );
}

#[test]
fn an_unreachable_endpoint_fails_cleanly_and_writes_nothing() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = Dir::new();
    let out = dir.path().join("snap");
    let url = format!("http://127.0.0.1:{port}");
    let run = peerscope(
        &[
            "snapshot",
            "--out",
            out.to_str().unwrap(),
            "--regions",
            "us-east-1",
            "--endpoint-url",
            &url,
            "--quiet",
        ],
        FAKE_KEY,
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("GetCallerIdentity"), "{}", run.stderr);
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "no snapshot, no staging folder"
    );
}

/// `snapshot --out` is checked before anything is asked of AWS: a folder peerscope did not
/// write (a topology's, with its README and intent) or `-` is refused, and nothing changes.
#[test]
fn snapshot_refuses_a_folder_it_did_not_write_before_calling_aws() {
    let dir = Dir::new();
    crate::util::copy_tree(
        &Path::new(ROOT).join("topologies/hub-and-spoke"),
        dir.path(),
    );
    let before = files(dir.path());
    for out in [dir.path().to_str().unwrap(), "-"] {
        let run = peerscope(
            &[
                "snapshot",
                "--out",
                out,
                "--regions",
                "us-east-1",
                "--endpoint-url",
                "http://127.0.0.1:9",
                "--quiet",
            ],
            FAKE_KEY,
        );
        assert_eq!(run.code, 2, "{}", run.stderr);
        assert!(run.stderr.contains(&format!("{out}: ")), "{}", run.stderr);
        assert!(!run.stderr.contains("GetCallerIdentity"), "{}", run.stderr);
    }
    assert_eq!(files(dir.path()), before);
}

/// An endpoint that accepts connections and never answers: a run waits on it until killed.
fn silent_endpoint() -> (TcpListener, String) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", l.local_addr().unwrap());
    (l, url)
}

fn snapshot_args<'a>(out: &'a str, url: &'a str) -> Vec<&'a str> {
    vec![
        "snapshot",
        "--out",
        out,
        "--regions",
        "us-east-1",
        "--endpoint-url",
        url,
        "--quiet",
    ]
}

/// Ctrl-C (and SIGTERM) stop a snapshot: its staging folder is removed, `--out` is untouched, and
/// the process dies of the signal, as without a handler.
#[test]
fn an_interrupted_snapshot_removes_its_partial_output_and_dies_of_the_signal() {
    use std::os::unix::process::ExitStatusExt;
    let (_listener, url) = silent_endpoint();
    for signal in [libc::SIGINT, libc::SIGTERM] {
        let dir = Dir::new();
        let out = dir.path().join("snap");
        let child = command(&snapshot_args(out.to_str().unwrap(), &url), FAKE_KEY)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // The handlers are in place before the staging folder is made.
        crate::output::wait_for_staging(dir.path(), ".snap.peerscope-partial-");
        // SAFETY: a plain kill(2) of our own child.
        assert_eq!(unsafe { libc::kill(child.id() as i32, signal) }, 0);
        let done = child.wait_with_output().unwrap();
        assert_eq!(
            done.status.signal(),
            Some(signal),
            "{:?}: {}",
            done.status,
            String::from_utf8_lossy(&done.stderr)
        );
        assert!(
            String::from_utf8_lossy(&done.stderr).contains("the partial snapshot was removed"),
            "{}",
            String::from_utf8_lossy(&done.stderr)
        );
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            0,
            "no snapshot, no staging folder"
        );
    }
}

/// A snapshot killed outright (SIGKILL: no handler runs) leaves its hidden staging folder; the
/// next run writing there removes it, whatever becomes of that run.
#[test]
fn a_killed_snapshots_staging_folder_is_removed_by_the_next_run() {
    let (_listener, url) = silent_endpoint();
    let dir = Dir::new();
    let out = dir.path().join("snap");
    let mut child = command(&snapshot_args(out.to_str().unwrap(), &url), FAKE_KEY)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let staging = crate::output::wait_for_staging(dir.path(), ".snap.peerscope-partial-");
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(staging.is_dir(), "SIGKILL leaves it");
    assert!(!out.exists());
    // The next run fails (nothing listens on port 9) but first clears the dead run's folder.
    let run = peerscope(
        &snapshot_args(out.to_str().unwrap(), "http://127.0.0.1:9"),
        FAKE_KEY,
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn a_bad_accounts_file_lists_every_problem() {
    let moto = Moto::start();
    let dir = Dir::new();
    let accounts = dir.path().join("accounts.toml");
    std::fs::write(
        &accounts,
        "[[account]]\nid = \"123\"\n[[account]]\nid = \"abc\"\n",
    )
    .unwrap();
    let run = collect(
        &moto,
        &dir.path().join("snap"),
        &["--accounts", accounts.to_str().unwrap()],
        FAKE_KEY,
    );
    assert_eq!(run.code, 2);
    assert_eq!(
        run.stderr.matches("is not a 12-digit account id").count(),
        2,
        "{}",
        run.stderr
    );
}

/// Architecture invariant (docs/architecture.md): only `src/collect` knows the AWS SDK, tokio and
/// indicatif; the rest of the crate is synchronous.
#[test]
fn only_the_collector_knows_the_aws_sdk() {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    let src = Path::new(ROOT).join("src");
    let mut files = Vec::new();
    walk(&src, &mut files);
    let forbidden = [
        "aws_config",
        "aws_sdk_",
        "aws_smithy",
        "aws_types",
        "tokio",
        "indicatif",
    ];
    let mut offenders = Vec::new();
    for f in files.iter().filter(|f| !f.starts_with(src.join("collect"))) {
        let text = std::fs::read_to_string(f).unwrap();
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            if forbidden
                .iter()
                .any(|w| code.contains(&format!("{w}::")) || code.contains(&format!("use {w}")))
            {
                offenders.push(format!("{}:{}: {}", f.display(), n + 1, line.trim()));
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "outside src/collect:\n{}",
        offenders.join("\n")
    );
}
