//! The test harness: temporary snapshot folders ([`Dir`]), loading them ([`load`]), running
//! the real binary ([`TestCommand`]), and builders for minimal valid describe-* JSON so that a
//! test reads as a line or two of fixture followed by its asserts.
//!
//! Builders return `serde_json::Value`; [`with`] sets or replaces a field, so a test states only
//! what it is about (`with(subnet_json(..), "Ipv6CidrBlockAssociationSet", json!([..]))`).

// Not every test module uses every helper.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use peerscope::diagnostics::{Diagnostic, Severity};
use peerscope::snapshot::{self, LoadError, Loaded};
use serde_json::{Value, json};

/// The account and region folders most fixtures use: `<root>/<account>/<region>/`.
pub const ACCOUNT: &str = "111111111111";
pub const REGION: &str = "us-east-1";
/// `ACCOUNT/REGION`, the folder of most fixture files.
pub const AR: &str = "111111111111/us-east-1";

/// The folder of real snapshots from public projects (Batfish, pybatfish, Cloudmapper):
/// `$PEERSCOPE_EXTERNAL_SNAPSHOTS`, else `../shared/external-snapshots` beside the repository.
/// `None` when it is absent — the tests that read it say so and are skipped — except under
/// `CI=true`, where its absence fails them (CI runs in a clone with `shared/` beside it).
pub fn external_root() -> Option<PathBuf> {
    static ROOT: std::sync::OnceLock<Option<PathBuf>> = std::sync::OnceLock::new();
    ROOT.get_or_init(|| {
        let root = std::env::var_os("PEERSCOPE_EXTERNAL_SNAPSHOTS")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/external-snapshots")
            });
        if root.is_dir() {
            return Some(root);
        }
        // Straight to standard error, past the test harness's capture: a skip is said.
        let _ = std::io::Write::write_fmt(
            &mut std::io::stderr(),
            format_args!(
                "note: {} is absent: the tests on real-world snapshots are skipped \
             (set PEERSCOPE_EXTERNAL_SNAPSHOTS to their folder)\n",
                root.display()
            ),
        );
        None
    })
    .clone()
    .or_else(|| {
        // Checked on every call, so that each test reading the snapshots fails under CI.
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true and the real-world snapshots are absent (../shared/external-snapshots or \
             $PEERSCOPE_EXTERNAL_SNAPSHOTS): they are part of the suite there"
        );
        None
    })
}

/// A path under [`external_root`], `None` when the snapshots are absent (outside CI).
pub fn external(rel: &str) -> Option<PathBuf> {
    external_root().map(|r| r.join(rel))
}

/// A path under [`external_root`]; returns from the calling test when the snapshots are absent
/// (outside CI; under `CI=true` their absence fails the test).
macro_rules! external_or_skip {
    ($rel:expr $(,)?) => {
        match $crate::util::external($rel) {
            Some(p) => p,
            None => return,
        }
    };
}

/// Copies a folder tree (a topology into a [`Dir`], to edit a copy).
pub fn copy_tree(from: &Path, to: &Path) {
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dst = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&dst).unwrap();
            copy_tree(&e.path(), &dst);
        } else {
            std::fs::copy(e.path(), dst).unwrap();
        }
    }
}

/// A temporary snapshot folder, removed when dropped.
pub struct Dir {
    tmp: tempfile::TempDir,
}

impl Default for Dir {
    fn default() -> Self {
        Self::new()
    }
}

impl Dir {
    pub fn new() -> Dir {
        Dir {
            tmp: tempfile::Builder::new()
                .prefix("peerscope-test-")
                .tempdir()
                .expect("create a temporary folder"),
        }
    }

    pub fn path(&self) -> &Path {
        self.tmp.path()
    }

    /// Writes `contents` at `rel` (forward slashes), creating parent folders.
    pub fn write(&self, rel: &str, contents: impl AsRef<[u8]>) -> &Dir {
        let path = self.path().join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create parent folders");
        }
        std::fs::write(&path, contents).expect("write fixture file");
        self
    }

    /// Writes `{"<key>": [items…]}` at `rel`, pretty-printed (one field a line, so line numbers
    /// in diagnostics are easy to predict).
    pub fn put(&self, rel: &str, key: &str, items: impl IntoIterator<Item = Value>) -> &Dir {
        self.write(rel, response(key, items))
    }

    /// Loads the folder; panics on a `LoadError`.
    pub fn load(&self) -> Loaded {
        load(self.path())
    }

    pub fn try_load(&self) -> Result<Loaded, LoadError> {
        snapshot::load(self.path())
    }
}

/// Loads a snapshot folder; panics on a `LoadError`.
pub fn load(dir: &Path) -> Loaded {
    match snapshot::load(dir) {
        Ok(l) => l,
        Err(e) => panic!("{}: load failed: {e}", dir.display()),
    }
}

/// `{"<key>": [items…]}`, pretty-printed.
pub fn response(key: &str, items: impl IntoIterator<Item = Value>) -> String {
    let items: Vec<Value> = items.into_iter().collect();
    serde_json::to_string_pretty(&json!({ key: items })).expect("serialize fixture")
}

/// `v` with `field` set to `value`.
pub fn with(mut v: Value, field: &str, value: Value) -> Value {
    v.as_object_mut()
        .expect("with() on a JSON object")
        .insert(field.to_owned(), value);
    v
}

/// `v` without `field`.
pub fn without(mut v: Value, field: &str) -> Value {
    v.as_object_mut()
        .expect("without() on a JSON object")
        .remove(field);
    v
}

// ---------------------------------------------------------------------------------------------
// describe-* builders: the fields peerscope reads, nothing else.
// ---------------------------------------------------------------------------------------------

pub fn vpc_json(id: &str, cidr: &str) -> Value {
    json!({ "VpcId": id, "CidrBlock": cidr, "OwnerId": ACCOUNT, "IsDefault": false })
}

pub fn subnet_json(id: &str, vpc: &str, cidr: &str, az: &str) -> Value {
    json!({ "SubnetId": id, "VpcId": vpc, "CidrBlock": cidr, "AvailabilityZone": az, "OwnerId": ACCOUNT })
}

/// `{"CidrBlock": c, "CidrBlockState": {"State": s}}` (a VPC's CidrBlockAssociationSet item).
pub fn cidr_assoc(cidr: &str, state: &str) -> Value {
    json!({ "CidrBlock": cidr, "CidrBlockState": { "State": state } })
}

/// A VPC's or subnet's Ipv6CidrBlockAssociationSet item.
pub fn ipv6_assoc(cidr: &str, state: &str) -> Value {
    json!({ "Ipv6CidrBlock": cidr, "Ipv6CidrBlockState": { "State": state } })
}

pub fn route_table_json(
    id: &str,
    vpc: &str,
    associations: Vec<Value>,
    routes: Vec<Value>,
) -> Value {
    json!({ "RouteTableId": id, "VpcId": vpc, "OwnerId": ACCOUNT, "Associations": associations, "Routes": routes })
}

/// The association that makes a route table its VPC's main table.
pub fn main_assoc() -> Value {
    json!({ "Main": true, "AssociationState": { "State": "associated" } })
}

/// An explicit subnet association in the given state (`associated`, `disassociated`, …).
pub fn subnet_assoc(subnet: &str, state: &str) -> Value {
    json!({ "Main": false, "SubnetId": subnet, "AssociationState": { "State": state } })
}

/// A route: `dest` goes into DestinationCidrBlock (or DestinationIpv6CidrBlock when it holds a
/// `:`, or DestinationPrefixListId when it starts with `pl-`), the target into the field AWS
/// uses for its prefix (`local` and `igw-`/`vgw-` → GatewayId, `pcx-` → VpcPeeringConnectionId,
/// `nat-` → NatGatewayId, `tgw-` → TransitGatewayId, `eni-` → NetworkInterfaceId).
pub fn route_json(dest: &str, target: &str) -> Value {
    let dest_field = if dest.starts_with("pl-") {
        "DestinationPrefixListId"
    } else if dest.contains(':') {
        "DestinationIpv6CidrBlock"
    } else {
        "DestinationCidrBlock"
    };
    let target_field = match target.split('-').next() {
        Some("pcx") => "VpcPeeringConnectionId",
        Some("nat") => "NatGatewayId",
        Some("tgw") => "TransitGatewayId",
        Some("eni") => "NetworkInterfaceId",
        _ => "GatewayId",
    };
    json!({ dest_field: dest, target_field: target, "State": "active", "Origin": "CreateRoute" })
}

pub fn nacl_json(
    id: &str,
    vpc: &str,
    is_default: bool,
    subnets: &[&str],
    entries: Vec<Value>,
) -> Value {
    let associations: Vec<Value> = subnets
        .iter()
        .map(|s| json!({ "NetworkAclId": id, "SubnetId": s }))
        .collect();
    json!({
        "NetworkAclId": id, "VpcId": vpc, "OwnerId": ACCOUNT, "IsDefault": is_default,
        "Associations": associations, "Entries": entries,
    })
}

/// A NACL entry; `cidr` goes into Ipv6CidrBlock when it holds a `:`.
pub fn nacl_entry_json(rule: i64, egress: bool, protocol: &str, action: &str, cidr: &str) -> Value {
    let cidr_field = if cidr.contains(':') {
        "Ipv6CidrBlock"
    } else {
        "CidrBlock"
    };
    json!({ "RuleNumber": rule, "Egress": egress, "Protocol": protocol, "RuleAction": action, cidr_field: cidr })
}

/// The usual default NACL entries: allow all and the implicit deny (rule 32767), both ways.
pub fn default_nacl_entries() -> Vec<Value> {
    vec![
        nacl_entry_json(100, false, "-1", "allow", "0.0.0.0/0"),
        nacl_entry_json(32767, false, "-1", "deny", "0.0.0.0/0"),
        nacl_entry_json(100, true, "-1", "allow", "0.0.0.0/0"),
        nacl_entry_json(32767, true, "-1", "deny", "0.0.0.0/0"),
    ]
}

pub fn sg_json(id: &str, vpc: &str, ingress: Vec<Value>, egress: Vec<Value>) -> Value {
    json!({
        "GroupId": id, "GroupName": id, "VpcId": vpc, "OwnerId": ACCOUNT, "Description": id,
        "IpPermissions": ingress, "IpPermissionsEgress": egress,
    })
}

/// An IpPermission with ports and no peers; add peers with [`with`] (`IpRanges`, …).
pub fn perm_json(protocol: &str, from: i64, to: i64) -> Value {
    json!({
        "IpProtocol": protocol, "FromPort": from, "ToPort": to,
        "IpRanges": [], "Ipv6Ranges": [], "PrefixListIds": [], "UserIdGroupPairs": [],
    })
}

/// An IpPermission from `cidrs` (IPv4 into IpRanges, IPv6 into Ipv6Ranges).
pub fn perm_cidrs_json(protocol: &str, from: i64, to: i64, cidrs: &[&str]) -> Value {
    let v4: Vec<Value> = cidrs
        .iter()
        .filter(|c| !c.contains(':'))
        .map(|c| json!({ "CidrIp": c }))
        .collect();
    let v6: Vec<Value> = cidrs
        .iter()
        .filter(|c| c.contains(':'))
        .map(|c| json!({ "CidrIpv6": c }))
        .collect();
    let p = with(perm_json(protocol, from, to), "IpRanges", json!(v4));
    with(p, "Ipv6Ranges", json!(v6))
}

/// A describe-network-interfaces item.
pub fn eni_json(id: &str, subnet: &str, vpc: &str, ip: &str, groups: &[&str]) -> Value {
    let groups: Vec<Value> = groups
        .iter()
        .map(|g| json!({ "GroupId": g, "GroupName": g }))
        .collect();
    json!({
        "NetworkInterfaceId": id, "SubnetId": subnet, "VpcId": vpc, "OwnerId": ACCOUNT,
        "AvailabilityZone": "us-east-1a", "PrivateIpAddress": ip,
        "PrivateIpAddresses": [{ "PrivateIpAddress": ip, "Primary": true }],
        "Ipv6Addresses": [], "Groups": groups, "Status": "in-use",
    })
}

/// A describe-instances reservation holding one instance with the given ENIs (each an
/// [`eni_json`] with an `Attachment.DeviceIndex`, see [`attached`]).
pub fn reservation_json(instance: &str, enis: Vec<Value>) -> Value {
    json!({
        "ReservationId": format!("r-{instance}"), "OwnerId": ACCOUNT,
        "Instances": [{
            "InstanceId": instance,
            "Placement": { "AvailabilityZone": "us-east-1a" },
            "NetworkInterfaces": enis,
        }],
    })
}

/// `eni` attached to `instance` at `device_index`.
pub fn attached(eni: Value, instance: &str, device_index: i64) -> Value {
    with(
        eni,
        "Attachment",
        json!({ "InstanceId": instance, "DeviceIndex": device_index, "Status": "attached" }),
    )
}

/// A peering connection between (vpc, cidr) sides; the owners are the fixture account.
pub fn peering_json(
    id: &str,
    status: &str,
    requester: (&str, &str),
    accepter: (&str, &str),
) -> Value {
    let side = |(vpc, cidr): (&str, &str)| {
        json!({
            "VpcId": vpc, "OwnerId": ACCOUNT, "Region": REGION,
            "CidrBlock": cidr, "CidrBlockSet": [{ "CidrBlock": cidr }],
        })
    };
    json!({
        "VpcPeeringConnectionId": id,
        "Status": { "Code": status, "Message": status },
        "RequesterVpcInfo": side(requester),
        "AccepterVpcInfo": side(accepter),
    })
}

// ---------------------------------------------------------------------------------------------
// Ready-made fixtures
// ---------------------------------------------------------------------------------------------

/// One VPC `vpc-1` (10.0.0.0/16) with subnets `subnet-a` (10.0.1.0/24) and `subnet-b`
/// (10.0.2.0/24), in `ACCOUNT/REGION`. No route tables, NACLs, SGs or ENIs.
pub fn one_vpc(d: &Dir) -> &Dir {
    d.put(
        &format!("{AR}/describe-vpcs.json"),
        "Vpcs",
        [vpc_json("vpc-1", "10.0.0.0/16")],
    )
    .put(
        &format!("{AR}/describe-subnets.json"),
        "Subnets",
        [
            subnet_json("subnet-a", "vpc-1", "10.0.1.0/24", "us-east-1a"),
            subnet_json("subnet-b", "vpc-1", "10.0.2.0/24", "us-east-1b"),
        ],
    )
}

/// [`one_vpc`] plus a main route table, a default NACL, a security group `sg-1` and an ENI in
/// each subnet: a snapshot that loads without any error or warning.
pub fn clean_snapshot(d: &Dir) -> &Dir {
    one_vpc(d)
        .put(
            &format!("{AR}/describe-route-tables.json"),
            "RouteTables",
            [route_table_json(
                "rtb-main",
                "vpc-1",
                vec![main_assoc()],
                vec![route_json("10.0.0.0/16", "local")],
            )],
        )
        .put(
            &format!("{AR}/describe-network-acls.json"),
            "NetworkAcls",
            [nacl_json(
                "acl-default",
                "vpc-1",
                true,
                &["subnet-a", "subnet-b"],
                default_nacl_entries(),
            )],
        )
        .put(
            &format!("{AR}/describe-security-groups.json"),
            "SecurityGroups",
            [sg_json(
                "sg-1",
                "vpc-1",
                vec![perm_cidrs_json("tcp", 443, 443, &["10.0.0.0/16"])],
                vec![perm_cidrs_json("-1", -1, -1, &["0.0.0.0/0"])],
            )],
        )
        .put(
            &format!("{AR}/describe-network-interfaces.json"),
            "NetworkInterfaces",
            [
                eni_json("eni-a", "subnet-a", "vpc-1", "10.0.1.10", &["sg-1"]),
                eni_json("eni-b", "subnet-b", "vpc-1", "10.0.2.10", &["sg-1"]),
            ],
        )
}

// ---------------------------------------------------------------------------------------------
// Diagnostics
// ---------------------------------------------------------------------------------------------

/// The diagnostics with this code (kebab-case, as printed).
pub fn diags<'l>(loaded: &'l Loaded, code: &str) -> Vec<&'l Diagnostic> {
    loaded
        .diagnostics
        .iter()
        .filter(|d| d.code.as_str() == code)
        .collect()
}

/// The only diagnostic with this code; panics (listing all diagnostics) otherwise.
pub fn the_diag<'l>(loaded: &'l Loaded, code: &str) -> &'l Diagnostic {
    match diags(loaded, code).as_slice() {
        [d] => d,
        other => panic!(
            "expected exactly one {code} diagnostic, found {}:\n{}",
            other.len(),
            listing(loaded)
        ),
    }
}

/// Error-level diagnostics.
pub fn errors(loaded: &Loaded) -> Vec<&Diagnostic> {
    loaded
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .collect()
}

/// Every diagnostic, one a line, for assertion messages.
pub fn listing(loaded: &Loaded) -> String {
    loaded
        .diagnostics
        .iter()
        .map(|d| format!("  {d}\n"))
        .collect()
}

/// `AR/<name>` as a path, to compare with `Diagnostic::file`.
pub fn fixture_file(name: &str) -> PathBuf {
    Path::new(ACCOUNT).join(REGION).join(name)
}

// ---------------------------------------------------------------------------------------------
// Running the binary
// ---------------------------------------------------------------------------------------------

/// The real `peerscope` binary with arguments.
pub struct TestCommand {
    cmd: Command,
}

/// What a run printed and how it exited.
#[derive(Debug)]
pub struct Output {
    pub stdout: String,
    pub stderr: String,
    /// The exit code (`-1` when killed by a signal).
    pub code: i32,
}

impl TestCommand {
    pub fn new<I, S>(args: I) -> TestCommand
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_peerscope"));
        cmd.args(args);
        TestCommand { cmd }
    }

    /// One more argument (a path, say).
    pub fn arg(mut self, a: impl AsRef<std::ffi::OsStr>) -> TestCommand {
        self.cmd.arg(a);
        self
    }

    /// `peerscope check <dir> <extra…>`.
    pub fn check(dir: &Path, extra: &[&str]) -> TestCommand {
        let mut c = TestCommand::new(["check"]);
        c.cmd.arg(dir).args(extra);
        c
    }

    /// More arguments.
    pub fn args<I, S>(mut self, args: I) -> TestCommand
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        self.cmd.args(args);
        self
    }

    pub fn run(mut self) -> Output {
        let out = self.cmd.output().expect("run the peerscope binary");
        Output {
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            code: out.status.code().unwrap_or(-1),
        }
    }
}
