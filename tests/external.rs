//! The loader on real snapshots from public projects (shared/external-snapshots: Batfish,
//! pybatfish, Cloudmapper; see its README for provenance): every snapshot loads without a panic
//! and without an error-level diagnostic, and five of them have exactly the inventory counted
//! by hand from their JSON.
//!
//! How the expected counts were made (python3 over the files, not the loader): for each kind,
//! the number of distinct ids under its top-level key (`Vpcs[].VpcId`, `Subnets[].SubnetId`,
//! …); routes = Σ len(`Routes`) over the route tables; SG rules = Σ over `IpPermissions` and
//! `IpPermissionsEgress` of len(`IpRanges`) + len(`Ipv6Ranges`) + len(`PrefixListIds`) +
//! len(`UserIdGroupPairs`) (one flattened rule per peer); NACL entries = Σ len(`Entries`); ENIs =
//! distinct `NetworkInterfaceId` over `NetworkInterfaces[]` and
//! `Reservations[].Instances[].NetworkInterfaces[]`; peerings = distinct
//! `VpcPeeringConnectionId` by `Status.Code`; prefix lists = distinct `PrefixListId`, entries =
//! Σ len(`Cidrs`). Account and region per object: the folders where they name them, else
//! `OwnerId` and the subnets' `AvailabilityZone` (objects without `OwnerId` take their VPC's).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use peerscope::diagnostics::Severity;
use peerscope::model::{PeeringId, VpcId};
use peerscope::report::inventory::{Counts, Inventory};
use peerscope::snapshot::Loaded;

use crate::util::*;

/// Every folder that holds an `aws_configs` folder (a Batfish snapshot root), sorted.
fn batfish_snapshots() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let entries = std::fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("{}: {e} (is shared/ beside the repo?)", dir.display()));
        for entry in entries {
            let path = entry.unwrap().path();
            if path.is_dir() {
                if path.file_name().is_some_and(|n| n == "aws_configs") {
                    out.push(dir.to_path_buf());
                } else {
                    walk(&path, out);
                }
            }
        }
    }
    let mut out = Vec::new();
    if let Some(root) = external_root() {
        walk(&root, &mut out);
    }
    out.sort();
    out.dedup();
    out
}

/// Impossible data in the public fixtures, which are hand-made (no AWS account can hold
/// them): Batfish's `test` snapshot has a default subnet 172.31.0.0/20 in a 192.168.0.0/16 VPC
/// (and a unit fixture associates an ACL of another VPC with it); Cloudmapper's demo gives an
/// ECS interface an address outside its subnet. peerscope reports each as `impossible-data`.
const KNOWN_IMPOSSIBLE: [(&str, &str); 3] = [
    (
        "subnet-1f315846",
        "lies outside the CIDRs of its VPC vpc-b390fad5",
    ),
    (
        "acl-4db39c28",
        "is associated with subnet subnet-1f315846 of vpc-b390fad5",
    ),
    (
        "eni-00000001",
        "address 172.31.48.168 lies outside its subnet subnet-00000001",
    ),
];

fn known_impossible(d: &peerscope::diagnostics::Diagnostic) -> bool {
    d.code.as_str() == "impossible-data"
        && KNOWN_IMPOSSIBLE
            .iter()
            .any(|(o, m)| d.object.as_deref() == Some(*o) && d.message.contains(m))
}

fn assert_no_errors(loaded: &Loaded) {
    let errors = loaded
        .diagnostics
        .iter()
        .any(|d| d.severity == Severity::Error && !known_impossible(d));
    assert!(
        !errors,
        "{}: error-level diagnostics:\n{}",
        loaded.root.display(),
        listing(loaded)
    );
}

#[test]
fn every_batfish_aws_configs_snapshot_loads_without_errors() {
    if external_root().is_none() {
        return;
    }
    let roots = batfish_snapshots();
    // 20 under batfish/representation/aws, plus batfish/networks/hybrid-cloud-aws,
    // batfish/main/snapshots/load_vendor_configurations and pybatfish/networks/hybrid-cloud.
    assert!(roots.len() >= 23, "{roots:#?}");
    for root in &roots {
        let loaded = load(root);
        assert_no_errors(&loaded);
        assert!(loaded.files_recognised > 0, "{}", root.display());
    }
}

#[test]
fn cloudmapper_and_pybatfish_snapshots_load_without_errors() {
    for rel in [
        "cloudmapper/account-data/demo",
        "pybatfish/networks/hybrid-cloud",
        // The aws_configs folder itself as the root reads the same.
        "pybatfish/networks/hybrid-cloud/aws_configs",
    ] {
        assert_no_errors(&load(&external_or_skip!(rel)));
    }
}

#[test]
fn batfish_unit_fixtures_load_with_only_dangling_references() {
    // `representation/aws` as one folder: ~40 single-object unit fixtures straight in it (plus
    // the scenario folders below). The unit fixtures are deliberately unrelated objects (a
    // route table of a VPC that no fixture describes, an ENI in a subnet of no fixture, …), so
    // references between them dangle; nothing else may be wrong.
    let loaded = load(&external_or_skip!("batfish/representation/aws"));
    let unexpected: Vec<String> = loaded
        .diagnostics
        .iter()
        .filter(|d| {
            d.severity == Severity::Error
                && d.code.as_str() != "dangling-reference"
                && !known_impossible(d)
        })
        .map(|d| d.to_string())
        .collect();
    assert!(unexpected.is_empty(), "{unexpected:#?}");
    // The fixtures with IPv6 and ICMP entries did load.
    assert!(!loaded.model.network_acls.is_empty());
    assert!(!loaded.model.security_groups.is_empty());
}

/// The inventory's counts per (account, region).
fn by_location(inv: &Inventory) -> BTreeMap<(String, String), Counts> {
    inv.locations
        .iter()
        .map(|l| {
            (
                (l.account.to_string(), l.region.to_string()),
                l.counts.clone(),
            )
        })
        .collect()
}

fn loc(account: &str, region: &str) -> (String, String) {
    (account.to_owned(), region.to_owned())
}

fn peerings(pairs: &[(&str, usize)]) -> BTreeMap<String, usize> {
    pairs.iter().map(|(s, n)| (s.to_string(), *n)).collect()
}

#[test]
fn test_vpc_peering_inventory() {
    // Files straight in aws_configs/: the account is the OwnerId (554773406868 on every
    // object), the region comes from the subnets' zones (us-east-2b, us-east-2c).
    let loaded = load(&external_or_skip!(
        "batfish/representation/aws/test-vpc-peering"
    ));
    let inv = Inventory::new(&loaded);
    let want = Counts {
        vpcs: 3,
        subnets: 3,
        route_tables: 3,
        routes: 8,
        security_groups: 6,
        security_group_rules: 12,
        network_acls: 3,
        network_acl_entries: 12,
        network_interfaces: 3,
    };
    assert_eq!(
        by_location(&inv),
        BTreeMap::from([(loc("554773406868", "us-east-2"), want.clone())])
    );
    assert_eq!(inv.totals, want);
    assert_eq!(inv.peerings, peerings(&[("active", 2)]));
    assert_eq!((inv.prefix_lists, inv.prefix_list_entries), (0, 0));
    // Its point: vpc-0404e08ceddf7f650 (10.10.0.0/16) peers with two VPCs that both use
    // 192.168.0.0/16.
    let m = &loaded.model;
    let a = VpcId::new("vpc-0404e08ceddf7f650");
    let peers: Vec<(String, Vec<String>)> = m
        .index()
        .peerings_of(&a)
        .iter()
        .map(|id| {
            let side = m.peerings[id].peer_of(&a).expect("a side");
            (
                side.vpc.to_string(),
                side.cidrs.iter().map(|c| c.to_string()).collect(),
            )
        })
        .collect();
    assert_eq!(
        peers,
        [
            (
                "vpc-00a31ce9d0c06675c".into(),
                vec!["192.168.0.0/16".into()]
            ),
            (
                "vpc-09095dbf2886404ee".into(),
                vec!["192.168.0.0/16".into()]
            ),
        ]
    );
}

#[test]
fn test_vpc_peering_multi_account_inventory() {
    // accounts/123456789012/us-east-1 and accounts/123456789013/us-east-1: the folders name the
    // accounts, and they win over the OwnerIds inside (028403472736 and 951601349076). No NACL
    // files. Both dumps list pcx-0040f7640e10191f4 (active) and pcx-00eeab4f3bd2a40da
    // (deleted); the second also lists pcx-07d8d712b329b9337 (deleted): five records, three ids.
    let loaded = load(&external_or_skip!(
        "batfish/representation/aws/test-vpc-peering-multi-account",
    ));
    let inv = Inventory::new(&loaded);
    let per_account = Counts {
        vpcs: 1,
        subnets: 1,
        route_tables: 2,
        routes: 4,
        security_groups: 2,
        security_group_rules: 6,
        network_acls: 0,
        network_acl_entries: 0,
        network_interfaces: 1,
    };
    assert_eq!(
        by_location(&inv),
        BTreeMap::from([
            (loc("123456789012", "us-east-1"), per_account.clone()),
            (loc("123456789013", "us-east-1"), per_account),
        ])
    );
    assert_eq!(inv.peerings, peerings(&[("active", 1), ("deleted", 2)]));
    let active: Vec<&str> = loaded
        .model
        .peerings
        .values()
        .filter(|p| p.is_active())
        .map(|p| p.id.as_str())
        .collect();
    assert_eq!(active, ["pcx-0040f7640e10191f4"]);
    let p = &loaded.model.peerings[&PeeringId::new("pcx-0040f7640e10191f4")];
    assert_eq!(
        p.requester.owner.as_ref().map(|a| a.as_str()),
        Some("028403472736")
    );
    // No NACL file at all: NACL data missing, a warning per VPC.
    assert_eq!(diags(&loaded, "nacl-data-missing").len(), 2);
}

#[test]
fn pybatfish_hybrid_cloud_inventory() {
    // aws_configs/us-east-2 and aws_configs/us-west-2: the folders name the regions; every
    // OwnerId is 554773406868. Four PrefixLists items with inline Cidrs (1 + 4 + 3 + 2).
    let loaded = load(&external_or_skip!("pybatfish/networks/hybrid-cloud"));
    let inv = Inventory::new(&loaded);
    assert_eq!(
        by_location(&inv),
        BTreeMap::from([
            (
                loc("554773406868", "us-east-2"),
                Counts {
                    vpcs: 2,
                    subnets: 4,
                    route_tables: 2,
                    routes: 7,
                    security_groups: 4,
                    security_group_rules: 9,
                    network_acls: 2,
                    network_acl_entries: 8,
                    network_interfaces: 4,
                }
            ),
            (
                loc("554773406868", "us-west-2"),
                Counts {
                    vpcs: 2,
                    subnets: 4,
                    route_tables: 2,
                    routes: 7,
                    security_groups: 4,
                    security_group_rules: 8,
                    network_acls: 2,
                    network_acl_entries: 8,
                    network_interfaces: 4,
                }
            ),
        ])
    );
    assert!(inv.peerings.is_empty());
    assert_eq!((inv.prefix_lists, inv.prefix_list_entries), (4, 10));
}

#[test]
fn cloudmapper_demo_inventory() {
    // demo/us-east-1/ec2-describe-*.json: the folder names the region only; the account is the
    // OwnerId, 123456789012 everywhere except the ECS interface eni-00000001 (653711331788).
    // No route tables, NACLs or peerings were collected. The synthetic instances all reuse the
    // interface id eni-00000000: one ENI by id.
    let loaded = load(&external_or_skip!("cloudmapper/account-data/demo"));
    let inv = Inventory::new(&loaded);
    assert_eq!(
        by_location(&inv),
        BTreeMap::from([
            (
                loc("123456789012", "us-east-1"),
                Counts {
                    vpcs: 1,
                    subnets: 4,
                    route_tables: 0,
                    routes: 0,
                    security_groups: 8,
                    security_group_rules: 19,
                    network_acls: 0,
                    network_acl_entries: 0,
                    network_interfaces: 1,
                }
            ),
            (
                loc("653711331788", "us-east-1"),
                Counts {
                    network_interfaces: 1,
                    ..Counts::default()
                }
            ),
        ])
    );
    assert!(inv.peerings.is_empty());
    assert_eq!((inv.prefix_lists, inv.prefix_list_entries), (0, 0));
    // `"CidrIp": "2.2.2.2/28"` has host bits set: read as 2.2.2.0/28, with a warning.
    let w = the_diag(&loaded, "invalid-value");
    assert_eq!(w.severity, Severity::Warning);
    assert!(w.message.contains("2.2.2.2/28"), "{w}");
}

#[test]
fn batfish_hybrid_cloud_aws_inventory() {
    // aws_configs/us-west-2 only: the region folder. The sanitized dump has different OwnerIds
    // per kind: VPCs 111234, subnets 028403472736, SGs and ENIs 118292266645; route tables and
    // NACLs carry none and take their VPC's. Two PrefixLists with inline Cidrs (3 + 1).
    let loaded = load(&external_or_skip!("batfish/networks/hybrid-cloud-aws"));
    let inv = Inventory::new(&loaded);
    assert_eq!(
        by_location(&inv),
        BTreeMap::from([
            (
                loc("028403472736", "us-west-2"),
                Counts {
                    subnets: 10,
                    ..Counts::default()
                }
            ),
            (
                loc("111234", "us-west-2"),
                Counts {
                    vpcs: 4,
                    route_tables: 5,
                    routes: 14,
                    network_acls: 4,
                    network_acl_entries: 16,
                    ..Counts::default()
                }
            ),
            (
                loc("118292266645", "us-west-2"),
                Counts {
                    security_groups: 11,
                    security_group_rules: 43,
                    network_interfaces: 9,
                    ..Counts::default()
                }
            ),
        ])
    );
    assert_eq!(
        inv.totals,
        Counts {
            vpcs: 4,
            subnets: 10,
            route_tables: 5,
            routes: 14,
            security_groups: 11,
            security_group_rules: 43,
            network_acls: 4,
            network_acl_entries: 16,
            network_interfaces: 9,
        }
    );
    assert!(inv.peerings.is_empty());
    assert_eq!((inv.prefix_lists, inv.prefix_list_entries), (2, 4));
}
