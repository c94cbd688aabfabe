//! The loader against the input rules of the contract (docs: shared/semantics.md, "Input" and
//! "Details that are easy to get wrong"): one test per rule, each failing if the rule were
//! implemented wrongly, asserting what the model holds and which diagnostics name what.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use ipnet::IpNet;
use peerscope::diagnostics::Severity;
use peerscope::model::*;
use peerscope::snapshot::LoadError;
use serde_json::json;

use crate::util::*;

fn net(s: &str) -> IpNet {
    s.parse().unwrap()
}

fn nets(s: &[&str]) -> Vec<IpNet> {
    s.iter().map(|c| net(c)).collect()
}

fn addr(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn subnet<'m>(m: &'m Model, id: &str) -> &'m Subnet {
    m.subnets
        .get(&SubnetId::new(id))
        .unwrap_or_else(|| panic!("{id} not in the model: {:?}", m.subnets.keys()))
}

fn route_table_of(m: &Model, subnet_id: &str) -> Option<String> {
    m.index()
        .route_table_of(subnet(m, subnet_id))
        .map(|t| t.to_string())
}

fn nacl_of(m: &Model, subnet_id: &str) -> NaclBinding {
    m.index().nacl_of(&SubnetId::new(subnet_id)).clone()
}

fn acl(id: &str) -> NaclBinding {
    NaclBinding::Acl(NetworkAclId::new(id))
}

fn sg<'m>(m: &'m Model, id: &str) -> &'m SecurityGroup {
    m.security_groups
        .get(&SecurityGroupId::new(id))
        .unwrap_or_else(|| panic!("{id} not in the model"))
}

fn eni<'m>(m: &'m Model, id: &str) -> &'m NetworkInterface {
    m.network_interfaces
        .get(&NetworkInterfaceId::new(id))
        .unwrap_or_else(|| panic!("{id} not in the model"))
}

fn ids<T: std::fmt::Display>(items: &[T]) -> Vec<String> {
    items.iter().map(|i| i.to_string()).collect()
}

fn location(account: &AccountId, region: &Region) -> (String, String) {
    (account.to_string(), region.to_string())
}

// ---------------------------------------------------------------------------------------------
// Layout: where account and region come from
// ---------------------------------------------------------------------------------------------

#[test]
fn account_and_region_folders_name_the_location() {
    let d = Dir::new();
    // The OwnerId inside disagrees: the folders win.
    d.put(
        "222222222222/eu-west-1/describe-vpcs.json",
        "Vpcs",
        [with(
            vpc_json("vpc-1", "10.0.0.0/16"),
            "OwnerId",
            json!("999999999999"),
        )],
    );
    let m = d.load().model;
    let v = &m.vpcs[&VpcId::new("vpc-1")];
    assert_eq!(
        location(&v.account, &v.region),
        ("222222222222".into(), "eu-west-1".into())
    );
    assert_eq!(
        m.locations
            .iter()
            .map(|(a, r)| location(a, r))
            .collect::<Vec<_>>(),
        [("222222222222".to_string(), "eu-west-1".to_string())]
    );
}

#[test]
fn batfish_accounts_layout_names_the_location() {
    let d = Dir::new();
    d.put(
        "aws_configs/accounts/123456789012/us-west-2/Vpcs.json",
        "Vpcs",
        [with(
            vpc_json("vpc-1", "10.0.0.0/16"),
            "OwnerId",
            json!("028403472736"),
        )],
    );
    let m = d.load().model;
    let v = &m.vpcs[&VpcId::new("vpc-1")];
    assert_eq!(
        location(&v.account, &v.region),
        ("123456789012".into(), "us-west-2".into())
    );
}

#[test]
fn batfish_region_folder_takes_the_account_from_owner_id() {
    let d = Dir::new();
    d.put(
        "aws_configs/us-west-2/Vpcs.json",
        "Vpcs",
        [with(
            vpc_json("vpc-1", "10.0.0.0/16"),
            "OwnerId",
            json!("333333333333"),
        )],
    );
    let m = d.load().model;
    let v = &m.vpcs[&VpcId::new("vpc-1")];
    assert_eq!(
        location(&v.account, &v.region),
        ("333333333333".into(), "us-west-2".into())
    );
}

#[test]
fn files_straight_in_aws_configs_take_the_location_from_the_data() {
    let d = Dir::new();
    // No folder names anything: the account is OwnerId, the subnet's region its zone, and the
    // VPC and its route table (no zone, no OwnerId for the table) are placed via the subnet.
    d.put(
        "aws_configs/Vpcs.json",
        "Vpcs",
        [with(
            vpc_json("vpc-1", "10.0.0.0/16"),
            "OwnerId",
            json!("444444444444"),
        )],
    )
    .put(
        "aws_configs/Subnets.json",
        "Subnets",
        [with(
            subnet_json("subnet-a", "vpc-1", "10.0.1.0/24", "us-east-2a"),
            "OwnerId",
            json!("444444444444"),
        )],
    )
    .put(
        "aws_configs/RouteTables.json",
        "RouteTables",
        [without(
            route_table_json("rtb-1", "vpc-1", vec![main_assoc()], vec![]),
            "OwnerId",
        )],
    );
    let l = d.load();
    let m = &l.model;
    let want = ("444444444444".to_string(), "us-east-2".to_string());
    let v = &m.vpcs[&VpcId::new("vpc-1")];
    assert_eq!(location(&v.account, &v.region), want);
    let s = subnet(m, "subnet-a");
    assert_eq!(location(&s.account, &s.region), want);
    let t = &m.route_tables[&RouteTableId::new("rtb-1")];
    assert_eq!(location(&t.account, &t.region), want);
    assert!(diags(&l, "unknown-location").is_empty(), "{}", listing(&l));
}

#[test]
fn file_names_do_not_matter_the_top_level_key_does() {
    let d = Dir::new();
    d.put(
        &format!("{AR}/foo.json"),
        "Vpcs",
        [vpc_json("vpc-1", "10.0.0.0/16")],
    )
    // One file may hold several responses.
    .write(
        &format!("{AR}/describe-vpcs.json"),
        serde_json::to_string_pretty(&json!({
            "Subnets": [subnet_json("subnet-a", "vpc-1", "10.0.1.0/24", "us-east-1a")],
            "RouteTables": [route_table_json("rtb-1", "vpc-1", vec![main_assoc()], vec![])],
        }))
        .unwrap(),
    );
    let l = d.load();
    assert_eq!(ids(&l.model.vpcs.keys().collect::<Vec<_>>()), ["vpc-1"]);
    assert_eq!(
        ids(&l.model.subnets.keys().collect::<Vec<_>>()),
        ["subnet-a"]
    );
    assert_eq!(
        route_table_of(&l.model, "subnet-a").as_deref(),
        Some("rtb-1")
    );
    assert_eq!(l.files_recognised, 2);
}

#[test]
fn unknown_top_level_key_is_a_warning_not_an_error() {
    let d = Dir::new();
    one_vpc(&d).write(
        &format!("{AR}/frobs.json"),
        r#"{"Frobnicators": [{"Id": 1}]}"#,
    );
    let l = d.load();
    let w = the_diag(&l, "unknown-key");
    assert_eq!(w.severity, Severity::Warning);
    assert_eq!(
        w.file.as_deref(),
        Some(fixture_file("frobs.json").as_path())
    );
    assert!(w.message.contains("Frobnicators"), "{w}");
    assert!(!l.has_errors(), "{}", listing(&l));
    assert_eq!((l.files_read, l.files_recognised), (3, 2));
}

#[test]
fn missing_file_means_none_of_that_kind() {
    let d = Dir::new();
    one_vpc(&d);
    let l = d.load();
    let m = &l.model;
    assert_eq!((m.vpcs.len(), m.subnets.len()), (1, 2));
    assert!(m.route_tables.is_empty());
    assert!(m.network_acls.is_empty());
    assert!(m.security_groups.is_empty());
    assert!(m.network_interfaces.is_empty());
    assert!(m.peerings.is_empty());
    assert!(m.prefix_lists.is_empty());
    // Missing data is worth a warning, never an error.
    assert!(!l.has_errors(), "{}", listing(&l));
}

// ---------------------------------------------------------------------------------------------
// Peering connections
// ---------------------------------------------------------------------------------------------

#[test]
fn peering_in_both_accounts_dumps_is_one_connection() {
    let d = Dir::new();
    let pcx = peering_json(
        "pcx-1",
        "active",
        ("vpc-a", "10.1.0.0/16"),
        ("vpc-b", "10.2.0.0/16"),
    );
    d.put(
        "111111111111/us-east-1/describe-vpcs.json",
        "Vpcs",
        [vpc_json("vpc-a", "10.1.0.0/16")],
    )
    .put(
        "111111111111/us-east-1/describe-vpc-peering-connections.json",
        "VpcPeeringConnections",
        [pcx.clone()],
    )
    .put(
        "222222222222/us-east-1/describe-vpcs.json",
        "Vpcs",
        [vpc_json("vpc-b", "10.2.0.0/16")],
    )
    .put(
        "222222222222/us-east-1/describe-vpc-peering-connections.json",
        "VpcPeeringConnections",
        [pcx],
    );
    let l = d.load();
    let m = &l.model;
    assert_eq!(m.peerings.len(), 1);
    assert_eq!(ids(m.index().peerings_of(&VpcId::new("vpc-a"))), ["pcx-1"]);
    assert_eq!(ids(m.index().peerings_of(&VpcId::new("vpc-b"))), ["pcx-1"]);
    assert!(
        diags(&l, "conflicting-duplicate").is_empty(),
        "{}",
        listing(&l)
    );
}

#[test]
fn only_active_peering_carries_traffic() {
    let d = Dir::new();
    let statuses = [
        "active",
        "pending-acceptance",
        "deleted",
        "rejected",
        "expired",
        "provisioning",
        "failed",
    ];
    d.put(
        &format!("{AR}/describe-vpc-peering-connections.json"),
        "VpcPeeringConnections",
        statuses.iter().map(|s| {
            peering_json(
                &format!("pcx-{s}"),
                s,
                ("vpc-a", "10.1.0.0/16"),
                ("vpc-b", "10.2.0.0/16"),
            )
        }),
    );
    let m = d.load().model;
    let active: Vec<&str> = m
        .peerings
        .values()
        .filter(|p| p.is_active())
        .map(|p| p.id.as_str())
        .collect();
    assert_eq!(active, ["pcx-active"]);
    assert_eq!(m.peerings.len(), statuses.len());
}

#[test]
fn peer_cidrs_come_from_the_cidr_block_sets_else_cidr_block() {
    let d = Dir::new();
    let with_sets = json!({
        "VpcPeeringConnectionId": "pcx-sets",
        "Status": { "Code": "active" },
        "RequesterVpcInfo": {
            "VpcId": "vpc-a", "CidrBlock": "10.1.0.0/16",
            "CidrBlockSet": [{ "CidrBlock": "10.1.0.0/16" }, { "CidrBlock": "10.11.0.0/16" }],
            "Ipv6CidrBlockSet": [{ "Ipv6CidrBlock": "2600:1f18:aaaa::/56" }],
        },
        // CidrBlock alone: the only source.
        "AccepterVpcInfo": { "VpcId": "vpc-b", "CidrBlock": "10.2.0.0/16" },
    });
    // The set wins over CidrBlock when they differ (the set lists what is peered).
    let set_only = json!({
        "VpcPeeringConnectionId": "pcx-set-only",
        "Status": { "Code": "active" },
        "RequesterVpcInfo": {
            "VpcId": "vpc-a", "CidrBlock": "10.1.0.0/16",
            "CidrBlockSet": [{ "CidrBlock": "10.11.0.0/16" }],
        },
        "AccepterVpcInfo": { "VpcId": "vpc-c", "CidrBlockSet": [{ "CidrBlock": "10.3.0.0/16" }] },
    });
    d.put(
        &format!("{AR}/pcx.json"),
        "VpcPeeringConnections",
        [with_sets, set_only],
    );
    let m = d.load().model;
    let p = &m.peerings[&PeeringId::new("pcx-sets")];
    assert_eq!(
        p.requester.cidrs,
        nets(&["10.1.0.0/16", "10.11.0.0/16", "2600:1f18:aaaa::/56"])
    );
    assert_eq!(p.accepter.cidrs, nets(&["10.2.0.0/16"]));
    assert_eq!(
        p.peer_of(&VpcId::new("vpc-b")).map(|s| s.vpc.as_str()),
        Some("vpc-a")
    );
    let q = &m.peerings[&PeeringId::new("pcx-set-only")];
    assert_eq!(q.requester.cidrs, nets(&["10.11.0.0/16"]));
    assert_eq!(q.accepter.cidrs, nets(&["10.3.0.0/16"]));
}

// ---------------------------------------------------------------------------------------------
// Prefix lists
// ---------------------------------------------------------------------------------------------

#[test]
fn managed_prefix_list_entries_file_with_prefix_list_id() {
    let d = Dir::new();
    d.put(
        &format!("{AR}/describe-managed-prefix-lists.json"),
        "PrefixLists",
        [
            json!({ "PrefixListId": "pl-1", "PrefixListName": "corp", "OwnerId": ACCOUNT, "MaxEntries": 10 }),
            json!({ "PrefixListId": "pl-2", "PrefixListName": "no-entries", "OwnerId": ACCOUNT }),
        ],
    )
    // The collector writes PrefixListId beside Entries; the file name says nothing.
    .write(
        &format!("{AR}/entries-of-corp.json"),
        r#"{"PrefixListId": "pl-1", "Entries": [
            {"Cidr": "192.168.0.0/24", "Description": "office"},
            {"Cidr": "2001:db8::/32"}
        ]}"#,
    );
    let l = d.load();
    let m = &l.model;
    assert_eq!(
        m.prefix_list_cidrs(&PrefixListId::new("pl-1")),
        nets(&["192.168.0.0/24", "2001:db8::/32"])
    );
    let pl1 = &m.prefix_lists[&PrefixListId::new("pl-1")];
    assert_eq!(pl1.name.as_deref(), Some("corp"));
    assert!(pl1.entries_known);
    // Described, but its entries were not collected.
    assert!(!m.prefix_lists[&PrefixListId::new("pl-2")].entries_known);
    assert!(!l.has_errors(), "{}", listing(&l));
}

#[test]
fn entries_file_without_prefix_list_id_takes_the_id_from_its_name() {
    let d = Dir::new();
    d.write(
        &format!("{AR}/get-managed-prefix-list-entries-pl-0abc123.json"),
        r#"{"Entries": [{"Cidr": "172.16.0.0/12"}, {"Cidr": "10.0.0.0/8"}]}"#,
    );
    let l = d.load();
    assert_eq!(
        l.model.prefix_list_cidrs(&PrefixListId::new("pl-0abc123")),
        nets(&["10.0.0.0/8", "172.16.0.0/12"])
    );
    assert!(!l.has_errors(), "{}", listing(&l));
}

#[test]
fn service_prefix_list_has_inline_cidrs() {
    let d = Dir::new();
    d.put(
        &format!("{AR}/describe-prefix-lists.json"),
        "PrefixLists",
        [json!({
            "PrefixListId": "pl-63a5400a",
            "PrefixListName": "com.amazonaws.us-east-1.s3",
            "Cidrs": ["54.231.0.0/17", "52.216.0.0/15"],
        })],
    );
    let m = d.load().model;
    assert_eq!(
        m.prefix_list_cidrs(&PrefixListId::new("pl-63a5400a")),
        nets(&["52.216.0.0/15", "54.231.0.0/17"])
    );
    assert!(m.prefix_lists[&PrefixListId::new("pl-63a5400a")].entries_known);
}

// ---------------------------------------------------------------------------------------------
// IPv6 and association states
// ---------------------------------------------------------------------------------------------

#[test]
fn vpc_cidrs_count_unless_their_association_is_not_associated() {
    let d = Dir::new();
    let v = with(
        vpc_json("vpc-1", "10.0.0.0/16"),
        "CidrBlockAssociationSet",
        json!([
            cidr_assoc("10.0.0.0/16", "associated"),
            cidr_assoc("10.1.0.0/16", "associated"),
            cidr_assoc("10.2.0.0/16", "disassociated"),
            cidr_assoc("10.3.0.0/16", "associating"),
            cidr_assoc("10.4.0.0/16", "disassociating"),
            cidr_assoc("10.5.0.0/16", "failing"),
            cidr_assoc("10.6.0.0/16", "failed"),
        ]),
    );
    let v = with(
        v,
        "Ipv6CidrBlockAssociationSet",
        json!([
            ipv6_assoc("2600:1f18:1::/56", "associated"),
            ipv6_assoc("2600:1f18:2::/56", "disassociated"),
        ]),
    );
    d.put(&format!("{AR}/describe-vpcs.json"), "Vpcs", [v]);
    let m = d.load().model;
    assert_eq!(
        m.vpcs[&VpcId::new("vpc-1")].cidrs,
        nets(&["10.0.0.0/16", "10.1.0.0/16", "2600:1f18:1::/56"])
    );
}

#[test]
fn subnet_ipv6_cidr_counts_only_when_associated() {
    let d = Dir::new();
    d.put(
        &format!("{AR}/describe-vpcs.json"),
        "Vpcs",
        [vpc_json("vpc-1", "10.0.0.0/16")],
    )
    .put(
        &format!("{AR}/describe-subnets.json"),
        "Subnets",
        [
            with(
                subnet_json("subnet-a", "vpc-1", "10.0.1.0/24", "us-east-1a"),
                "Ipv6CidrBlockAssociationSet",
                json!([ipv6_assoc("2600:1f18:1:1::/64", "associated")]),
            ),
            with(
                subnet_json("subnet-b", "vpc-1", "10.0.2.0/24", "us-east-1a"),
                "Ipv6CidrBlockAssociationSet",
                json!([ipv6_assoc("2600:1f18:1:2::/64", "disassociated")]),
            ),
        ],
    );
    let m = d.load().model;
    assert_eq!(
        subnet(&m, "subnet-a").cidrs,
        nets(&["10.0.1.0/24", "2600:1f18:1:1::/64"])
    );
    assert_eq!(subnet(&m, "subnet-b").cidrs, nets(&["10.0.2.0/24"]));
    let vpc = VpcId::new("vpc-1");
    let ix = m.index();
    assert_eq!(
        ix.subnet_containing(&vpc, addr("2600:1f18:1:1::5"))
            .map(|s| s.as_str()),
        Some("subnet-a")
    );
    assert_eq!(ix.subnet_containing(&vpc, addr("2600:1f18:1:2::5")), None);
    assert_eq!(
        ix.subnet_containing(&vpc, addr("10.0.2.7"))
            .map(|s| s.as_str()),
        Some("subnet-b")
    );
}

#[test]
fn route_ipv6_destination_is_read() {
    let d = Dir::new();
    d.put(
        &format!("{AR}/describe-route-tables.json"),
        "RouteTables",
        [route_table_json(
            "rtb-1",
            "vpc-1",
            vec![main_assoc()],
            vec![
                route_json("2600:1f18:1::/56", "local"),
                route_json("::/0", "igw-1"),
            ],
        )],
    );
    let m = d.load().model;
    let routes = &m.route_tables[&RouteTableId::new("rtb-1")].routes;
    assert_eq!(
        routes
            .iter()
            .map(|r| r.destination.clone())
            .collect::<Vec<_>>(),
        [
            RouteDestination::Cidr(net("2600:1f18:1::/56")),
            RouteDestination::Cidr(net("::/0"))
        ]
    );
}

#[test]
fn nacl_ipv6_entry_is_read() {
    let d = Dir::new();
    d.put(
        &format!("{AR}/describe-network-acls.json"),
        "NetworkAcls",
        [nacl_json(
            "acl-1",
            "vpc-1",
            true,
            &[],
            vec![
                nacl_entry_json(101, false, "-1", "allow", "::/0"),
                nacl_entry_json(100, false, "-1", "allow", "0.0.0.0/0"),
            ],
        )],
    );
    let m = d.load().model;
    let a = &m.network_acls[&NetworkAclId::new("acl-1")];
    assert_eq!(
        a.ingress.iter().map(|e| e.cidr).collect::<Vec<_>>(),
        nets(&["0.0.0.0/0", "::/0"])
    );
    // An IPv6 entry matches only IPv6 peers.
    assert!(a.ingress[1].matches(addr("2600::1"), 6, Some(22)));
    assert!(!a.ingress[1].matches(addr("10.0.0.1"), 6, Some(22)));
}

#[test]
fn sg_ipv6_range_is_a_rule() {
    let d = Dir::new();
    d.put(
        &format!("{AR}/describe-security-groups.json"),
        "SecurityGroups",
        [sg_json(
            "sg-1",
            "vpc-1",
            vec![perm_cidrs_json("tcp", 22, 22, &["2600:1f18::/32"])],
            vec![],
        )],
    );
    let m = d.load().model;
    assert_eq!(
        sg(&m, "sg-1")
            .ingress
            .iter()
            .map(|r| r.peer.clone())
            .collect::<Vec<_>>(),
        [RulePeer::Cidr(net("2600:1f18::/32"))]
    );
}

// ---------------------------------------------------------------------------------------------
// Route tables and NACLs per subnet
// ---------------------------------------------------------------------------------------------

#[test]
fn route_table_falls_back_to_main() {
    let d = Dir::new();
    one_vpc(&d).put(
        &format!("{AR}/describe-route-tables.json"),
        "RouteTables",
        [
            route_table_json("rtb-main", "vpc-1", vec![main_assoc()], vec![]),
            route_table_json(
                "rtb-b",
                "vpc-1",
                vec![subnet_assoc("subnet-b", "associated")],
                vec![],
            ),
        ],
    );
    let m = d.load().model;
    assert_eq!(route_table_of(&m, "subnet-a").as_deref(), Some("rtb-main"));
    assert_eq!(route_table_of(&m, "subnet-b").as_deref(), Some("rtb-b"));
}

#[test]
fn disassociated_route_table_association_does_not_count() {
    let d = Dir::new();
    one_vpc(&d).put(
        &format!("{AR}/describe-route-tables.json"),
        "RouteTables",
        [
            route_table_json("rtb-main", "vpc-1", vec![main_assoc()], vec![]),
            route_table_json(
                "rtb-old",
                "vpc-1",
                vec![
                    subnet_assoc("subnet-a", "disassociated"),
                    subnet_assoc("subnet-b", "associated"),
                ],
                vec![],
            ),
        ],
    );
    let m = d.load().model;
    assert_eq!(route_table_of(&m, "subnet-a").as_deref(), Some("rtb-main"));
    assert_eq!(route_table_of(&m, "subnet-b").as_deref(), Some("rtb-old"));
}

#[test]
fn subnet_without_any_route_table_has_none() {
    let d = Dir::new();
    one_vpc(&d).put(
        &format!("{AR}/describe-route-tables.json"),
        "RouteTables",
        [route_table_json(
            "rtb-b",
            "vpc-1",
            vec![subnet_assoc("subnet-b", "associated")],
            vec![],
        )],
    );
    let l = d.load();
    assert_eq!(route_table_of(&l.model, "subnet-a"), None);
    assert_eq!(
        the_diag(&l, "no-route-table").object.as_deref(),
        Some("subnet-a")
    );
}

#[test]
fn nacl_falls_back_to_the_vpc_default() {
    let d = Dir::new();
    one_vpc(&d).put(
        &format!("{AR}/describe-network-acls.json"),
        "NetworkAcls",
        [
            nacl_json("acl-default", "vpc-1", true, &[], default_nacl_entries()),
            nacl_json(
                "acl-a",
                "vpc-1",
                false,
                &["subnet-a"],
                default_nacl_entries(),
            ),
        ],
    );
    let l = d.load();
    assert_eq!(nacl_of(&l.model, "subnet-a"), acl("acl-a"));
    assert_eq!(nacl_of(&l.model, "subnet-b"), acl("acl-default"));
    assert!(diags(&l, "nacl-data-missing").is_empty(), "{}", listing(&l));
}

#[test]
fn no_nacl_data_leaves_subnets_unfiltered_with_a_warning() {
    let d = Dir::new();
    one_vpc(&d);
    let l = d.load();
    assert_eq!(nacl_of(&l.model, "subnet-a"), NaclBinding::Unfiltered);
    assert_eq!(nacl_of(&l.model, "subnet-b"), NaclBinding::Unfiltered);
    let w = the_diag(&l, "nacl-data-missing");
    assert_eq!(w.severity, Severity::Warning);
    assert_eq!(w.object.as_deref(), Some("vpc-1"));
}

#[test]
fn subnet_without_nacl_in_a_vpc_without_default_nacl_is_an_error() {
    let d = Dir::new();
    one_vpc(&d).put(
        &format!("{AR}/describe-network-acls.json"),
        "NetworkAcls",
        [nacl_json(
            "acl-a",
            "vpc-1",
            false,
            &["subnet-a"],
            default_nacl_entries(),
        )],
    );
    let l = d.load();
    assert_eq!(nacl_of(&l.model, "subnet-a"), acl("acl-a"));
    let e: Vec<_> = errors(&l);
    assert_eq!(e.len(), 1, "{}", listing(&l));
    assert_eq!(e[0].object.as_deref(), Some("subnet-b"));
    assert!(e[0].message.contains("vpc-1"), "{}", e[0]);
    // The VPC does have NACL data: this is not "NACL data missing".
    assert!(diags(&l, "nacl-data-missing").is_empty(), "{}", listing(&l));
}

// ---------------------------------------------------------------------------------------------
// Instances and ENIs
// ---------------------------------------------------------------------------------------------

#[test]
fn instance_enis_carry_their_groups_and_addresses() {
    let d = Dir::new();
    let e = with(
        eni_json("eni-1", "subnet-a", "vpc-1", "10.0.1.5", &["sg-1", "sg-2"]),
        "PrivateIpAddresses",
        json!([{ "PrivateIpAddress": "10.0.1.5", "Primary": true }, { "PrivateIpAddress": "10.0.1.6", "Primary": false }]),
    );
    one_vpc(&d).put(
        &format!("{AR}/describe-instances.json"),
        "Reservations",
        [reservation_json("i-1", vec![attached(e, "i-1", 0)])],
    );
    let m = d.load().model;
    let e = eni(&m, "eni-1");
    assert_eq!(ids(&e.groups), ["sg-1", "sg-2"]);
    assert_eq!(e.addresses, [addr("10.0.1.5"), addr("10.0.1.6")]);
    assert_eq!(e.instance.as_ref().map(|i| i.as_str()), Some("i-1"));
    assert_eq!((e.account.as_str(), e.region.as_str()), (ACCOUNT, REGION));
    assert_eq!(
        ids(m.index().members_of(&SecurityGroupId::new("sg-2"))),
        ["eni-1"]
    );
    assert_eq!(
        ids(m
            .index()
            .enis_at(&SubnetId::new("subnet-a"), addr("10.0.1.6"))),
        ["eni-1"]
    );
}

#[test]
fn instance_id_resolves_to_its_primary_eni() {
    let d = Dir::new();
    // The secondary interface comes first in the list: DeviceIndex decides, not order.
    one_vpc(&d).put(
        &format!("{AR}/describe-instances.json"),
        "Reservations",
        [reservation_json(
            "i-1",
            vec![
                attached(
                    eni_json("eni-second", "subnet-b", "vpc-1", "10.0.2.5", &[]),
                    "i-1",
                    1,
                ),
                attached(
                    eni_json("eni-primary", "subnet-a", "vpc-1", "10.0.1.5", &[]),
                    "i-1",
                    0,
                ),
            ],
        )],
    );
    let m = d.load().model;
    assert_eq!(
        m.resolve_eni("i-1").map(|e| e.id.as_str()),
        Some("eni-primary")
    );
    assert_eq!(
        m.resolve_eni("eni-second").map(|e| e.id.as_str()),
        Some("eni-second")
    );
    assert!(m.resolve_eni("i-unknown").is_none());
}

#[test]
fn eni_in_interfaces_and_instances_is_one_object() {
    let d = Dir::new();
    let e = eni_json("eni-1", "subnet-a", "vpc-1", "10.0.1.5", &["sg-1"]);
    one_vpc(&d)
        .put(
            &format!("{AR}/describe-network-interfaces.json"),
            "NetworkInterfaces",
            [e.clone()],
        )
        .put(
            &format!("{AR}/describe-instances.json"),
            "Reservations",
            [reservation_json("i-1", vec![attached(e, "i-1", 0)])],
        );
    let l = d.load();
    let m = &l.model;
    assert_eq!(m.network_interfaces.len(), 1);
    assert_eq!(
        ids(m.index().enis_in(&SubnetId::new("subnet-a"))),
        ["eni-1"]
    );
    assert_eq!(
        ids(m.index().members_of(&SecurityGroupId::new("sg-1"))),
        ["eni-1"]
    );
    assert_eq!(
        eni(m, "eni-1").instance.as_ref().map(|i| i.as_str()),
        Some("i-1")
    );
    assert_eq!(m.resolve_eni("i-1").map(|e| e.id.as_str()), Some("eni-1"));
    assert!(
        diags(&l, "conflicting-duplicate").is_empty(),
        "{}",
        listing(&l)
    );
}

#[test]
fn eni_addresses_are_all_private_and_ipv6_addresses_not_prefixes() {
    let d = Dir::new();
    let e = json!({
        "NetworkInterfaceId": "eni-1", "SubnetId": "subnet-a", "VpcId": "vpc-1",
        "PrivateIpAddress": "10.0.1.5",
        "PrivateIpAddresses": [
            { "PrivateIpAddress": "10.0.1.5", "Primary": true },
            { "PrivateIpAddress": "10.0.1.7", "Primary": false },
        ],
        "Ipv6Addresses": [{ "Ipv6Address": "2600:1f18:1:1::9" }],
        // Delegated prefixes are not endpoints.
        "Ipv4Prefixes": [{ "Ipv4Prefix": "10.0.1.16/28" }],
        "Ipv6Prefixes": [{ "Ipv6Prefix": "2600:1f18:1:1:1::/80" }],
        "Groups": [],
    });
    one_vpc(&d).put(
        &format!("{AR}/describe-network-interfaces.json"),
        "NetworkInterfaces",
        [e],
    );
    let m = d.load().model;
    assert_eq!(
        eni(&m, "eni-1").addresses,
        [addr("10.0.1.5"), addr("10.0.1.7"), addr("2600:1f18:1:1::9")]
    );
    let s = SubnetId::new("subnet-a");
    assert_eq!(
        ids(m.index().enis_at(&s, addr("2600:1f18:1:1::9"))),
        ["eni-1"]
    );
    assert!(m.index().enis_at(&s, addr("10.0.1.17")).is_empty());
}

// ---------------------------------------------------------------------------------------------
// Routes, security-group rules, NACL entries
// ---------------------------------------------------------------------------------------------

#[test]
fn route_targets_are_resolved_in_table_order() {
    let d = Dir::new();
    let blackhole = with(
        route_json("10.9.0.0/16", "pcx-gone"),
        "State",
        json!("blackhole"),
    );
    // A route whose target was deleted: AWS drops the target field and marks it blackhole.
    let deleted = json!({ "DestinationCidrBlock": "10.8.0.0/16", "State": "blackhole" });
    d.put(
        &format!("{AR}/describe-route-tables.json"),
        "RouteTables",
        [route_table_json(
            "rtb-1",
            "vpc-1",
            vec![main_assoc()],
            vec![
                route_json("10.0.0.0/16", "local"),
                route_json("10.1.0.0/16", "pcx-1"),
                route_json("0.0.0.0/0", "nat-0abc"),
                route_json("pl-1", "vpce-1"),
                blackhole,
                deleted,
            ],
        )],
    );
    let m = d.load().model;
    let routes = &m.route_tables[&RouteTableId::new("rtb-1")].routes;
    let got: Vec<(RouteDestination, RouteTarget, bool)> = routes
        .iter()
        .map(|r| (r.destination.clone(), r.target.clone(), r.blackhole))
        .collect();
    let cidr = |c: &str| RouteDestination::Cidr(net(c));
    assert_eq!(
        got,
        [
            (cidr("10.0.0.0/16"), RouteTarget::Local, false),
            (
                cidr("10.1.0.0/16"),
                RouteTarget::Peering(PeeringId::new("pcx-1")),
                false
            ),
            (
                cidr("0.0.0.0/0"),
                RouteTarget::Other("nat-0abc".into()),
                false
            ),
            (
                RouteDestination::PrefixList(PrefixListId::new("pl-1")),
                RouteTarget::Other("vpce-1".into()),
                false
            ),
            (
                cidr("10.9.0.0/16"),
                RouteTarget::Peering(PeeringId::new("pcx-gone")),
                true
            ),
            (
                cidr("10.8.0.0/16"),
                RouteTarget::Other("(deleted target)".into()),
                true
            ),
        ]
    );
}

#[test]
fn sg_permission_is_flattened_one_rule_per_peer() {
    let d = Dir::new();
    let p = json!({
        "IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
        "IpRanges": [{ "CidrIp": "10.0.0.0/8", "Description": "corp" }, { "CidrIp": "192.168.1.0/24" }],
        "Ipv6Ranges": [{ "CidrIpv6": "2600::/16" }],
        "PrefixListIds": [{ "PrefixListId": "pl-1" }],
        "UserIdGroupPairs": [{ "GroupId": "sg-2", "UserId": ACCOUNT }],
    });
    d.put(
        &format!("{AR}/describe-security-groups.json"),
        "SecurityGroups",
        [
            sg_json("sg-1", "vpc-1", vec![p], vec![]),
            sg_json("sg-2", "vpc-1", vec![], vec![]),
        ],
    );
    let m = d.load().model;
    let rules = &sg(&m, "sg-1").ingress;
    let peers: Vec<RulePeer> = rules.iter().map(|r| r.peer.clone()).collect();
    assert_eq!(
        peers,
        [
            RulePeer::Cidr(net("10.0.0.0/8")),
            RulePeer::Cidr(net("192.168.1.0/24")),
            RulePeer::Cidr(net("2600::/16")),
            RulePeer::PrefixList(PrefixListId::new("pl-1")),
            RulePeer::Group(SecurityGroupId::new("sg-2")),
        ]
    );
    for r in rules {
        assert_eq!(r.protocol, Protocol::Number(6), "{r}");
        assert_eq!(r.ports, PortRange { from: 443, to: 443 }, "{r}");
    }
    assert_eq!(rules[0].description.as_deref(), Some("corp"));
    assert!(sg(&m, "sg-1").egress.is_empty());
}

#[test]
fn sg_ports_minus_one_or_absent_mean_all_ports() {
    let d = Dir::new();
    let absent = json!({ "IpProtocol": "tcp", "IpRanges": [{ "CidrIp": "10.0.0.0/8" }] });
    d.put(
        &format!("{AR}/describe-security-groups.json"),
        "SecurityGroups",
        [sg_json(
            "sg-1",
            "vpc-1",
            vec![
                perm_cidrs_json("tcp", -1, -1, &["10.0.0.0/8"]),
                absent,
                perm_cidrs_json("udp", 53, 53, &["10.0.0.0/8"]),
                perm_cidrs_json("tcp", 1024, 65535, &["10.0.0.0/8"]),
            ],
            vec![],
        )],
    );
    let m = d.load().model;
    let ports: Vec<PortRange> = sg(&m, "sg-1").ingress.iter().map(|r| r.ports).collect();
    assert_eq!(
        ports,
        [
            PortRange::ALL,
            PortRange::ALL,
            PortRange { from: 53, to: 53 },
            PortRange {
                from: 1024,
                to: 65535
            },
        ]
    );
}

#[test]
fn sg_icmp_ports_are_ignored() {
    let d = Dir::new();
    one_vpc(&d).put(
        &format!("{AR}/describe-security-groups.json"),
        "SecurityGroups",
        [sg_json(
            "sg-1",
            "vpc-1",
            vec![
                // Echo request: FromPort is the ICMP type, ToPort the code (8 > 0 is no range).
                perm_cidrs_json("icmp", 8, 0, &["10.0.0.0/8"]),
                perm_cidrs_json("icmpv6", -1, -1, &["::/0"]),
            ],
            vec![],
        )],
    );
    let l = d.load();
    let rules = &sg(&l.model, "sg-1").ingress;
    assert_eq!(
        rules
            .iter()
            .map(|r| (r.protocol, r.ports))
            .collect::<Vec<_>>(),
        [
            (Protocol::Number(1), PortRange::ALL),
            (Protocol::Number(58), PortRange::ALL)
        ]
    );
    assert!(!l.has_errors(), "{}", listing(&l));
}

#[test]
fn sg_protocols_by_name_number_and_minus_one() {
    let d = Dir::new();
    let spellings = [
        "tcp", "6", "udp", "17", "icmp", "1", "icmpv6", "58", "-1", "50",
    ];
    let perms = spellings
        .iter()
        .map(|p| perm_cidrs_json(p, 22, 22, &["10.0.0.0/8"]))
        .collect();
    // Some dumps write the protocol as a JSON number.
    let numeric = with(
        perm_cidrs_json("x", 80, 80, &["10.0.0.0/8"]),
        "IpProtocol",
        json!(6),
    );
    let mut perms: Vec<_> = perms;
    perms.push(numeric);
    d.put(
        &format!("{AR}/describe-security-groups.json"),
        "SecurityGroups",
        [sg_json("sg-1", "vpc-1", perms, vec![])],
    );
    let m = d.load().model;
    let got: Vec<(Protocol, PortRange)> = sg(&m, "sg-1")
        .ingress
        .iter()
        .map(|r| (r.protocol, r.ports))
        .collect();
    let p22 = PortRange { from: 22, to: 22 };
    let n = Protocol::Number;
    assert_eq!(
        got,
        [
            (n(6), p22),
            (n(6), p22),
            (n(17), p22),
            (n(17), p22),
            (n(1), PortRange::ALL),
            (n(1), PortRange::ALL),
            (n(58), PortRange::ALL),
            (n(58), PortRange::ALL),
            // -1: every protocol and every port, whatever FromPort/ToPort say.
            (Protocol::All, PortRange::ALL),
            (n(50), PortRange::ALL),
            (n(6), PortRange { from: 80, to: 80 }),
        ]
    );
}

#[test]
fn nacl_entries_are_sorted_by_rule_number_per_direction() {
    let d = Dir::new();
    d.put(
        &format!("{AR}/describe-network-acls.json"),
        "NetworkAcls",
        [nacl_json(
            "acl-1",
            "vpc-1",
            true,
            &[],
            vec![
                nacl_entry_json(32767, false, "-1", "deny", "0.0.0.0/0"),
                nacl_entry_json(200, true, "-1", "allow", "0.0.0.0/0"),
                nacl_entry_json(200, false, "6", "allow", "10.0.0.0/8"),
                nacl_entry_json(100, false, "6", "deny", "10.0.0.5/32"),
                nacl_entry_json(50, true, "17", "deny", "0.0.0.0/0"),
            ],
        )],
    );
    let m = d.load().model;
    let a = &m.network_acls[&NetworkAclId::new("acl-1")];
    let rules = |es: &[NaclEntry]| -> Vec<(u32, RuleAction)> {
        es.iter().map(|e| (e.rule_number, e.action)).collect()
    };
    assert_eq!(
        rules(&a.ingress),
        [
            (100, RuleAction::Deny),
            (200, RuleAction::Allow),
            (32767, RuleAction::Deny)
        ]
    );
    assert_eq!(
        rules(&a.egress),
        [(50, RuleAction::Deny), (200, RuleAction::Allow)]
    );
    // First match in rule-number order: 10.0.0.5 hits the deny at 100, not the allow at 200.
    let first = a.first_match(false, addr("10.0.0.5"), 6, Some(443));
    assert_eq!(first.map(|e| e.rule_number), Some(100));
}

#[test]
fn nacl_entry_with_protocol_minus_one_ignores_its_port_range() {
    let d = Dir::new();
    let all = with(
        nacl_entry_json(100, false, "-1", "allow", "0.0.0.0/0"),
        "PortRange",
        json!({ "From": 22, "To": 22 }),
    );
    let tcp = with(
        nacl_entry_json(110, false, "6", "allow", "0.0.0.0/0"),
        "PortRange",
        json!({ "From": 80, "To": 81 }),
    );
    let icmp = with(
        nacl_entry_json(120, false, "1", "allow", "0.0.0.0/0"),
        "IcmpTypeCode",
        json!({ "Type": 8, "Code": 0 }),
    );
    d.put(
        &format!("{AR}/describe-network-acls.json"),
        "NetworkAcls",
        [nacl_json("acl-1", "vpc-1", true, &[], vec![all, tcp, icmp])],
    );
    let m = d.load().model;
    let a = &m.network_acls[&NetworkAclId::new("acl-1")];
    let e = &a.ingress;
    assert_eq!(
        e.iter().map(|e| (e.protocol, e.ports)).collect::<Vec<_>>(),
        [
            (Protocol::All, PortRange::ALL),
            (Protocol::Number(6), PortRange { from: 80, to: 81 }),
            (Protocol::Number(1), PortRange::ALL),
        ]
    );
    assert!(e[0].matches(addr("10.0.0.1"), 6, Some(443)));
    assert!(!e[1].matches(addr("10.0.0.1"), 6, Some(443)));
    assert!(e[2].matches(addr("10.0.0.1"), 1, None));
}

// ---------------------------------------------------------------------------------------------
// Bad input: every problem named with its file, position and object; the rest still loads
// ---------------------------------------------------------------------------------------------

#[test]
fn malformed_json_is_reported_with_file_line_and_column() {
    let d = Dir::new();
    one_vpc(&d).write(
        &format!("{AR}/describe-route-tables.json"),
        // Line 3, column 22: the stray `@`.
        "{\n  \"RouteTables\": [\n    {\"RouteTableId\": @}\n  ]\n}\n",
    );
    let l = d.load();
    let e = the_diag(&l, "malformed-json");
    assert_eq!(e.severity, Severity::Error);
    assert_eq!(
        e.file.as_deref(),
        Some(fixture_file("describe-route-tables.json").as_path())
    );
    assert_eq!((e.line, e.column), (Some(3), Some(22)), "{e}");
    // The other files still load.
    assert_eq!(l.model.subnets.len(), 2);
}

#[test]
fn wrong_typed_field_skips_only_that_object() {
    let d = Dir::new();
    d.put(
        &format!("{AR}/describe-vpcs.json"),
        "Vpcs",
        [vpc_json("vpc-1", "10.0.0.0/16")],
    )
    .write(
        &format!("{AR}/describe-subnets.json"),
        concat!(
            "{\"Subnets\": [\n",
            "  {\"SubnetId\": \"subnet-a\", \"VpcId\": \"vpc-1\", \"CidrBlock\": \"10.0.1.0/24\"},\n",
            "  {\"SubnetId\": \"subnet-b\", \"VpcId\": \"vpc-1\",\n",
            "   \"CidrBlock\": [\"10.0.2.0/24\"]},\n",
            "  {\"SubnetId\": \"subnet-c\", \"VpcId\": \"vpc-1\", \"CidrBlock\": \"10.0.3.0/24\"}\n",
            "]}\n"
        ),
    );
    let l = d.load();
    assert_eq!(
        ids(&l.model.subnets.keys().collect::<Vec<_>>()),
        ["subnet-a", "subnet-c"]
    );
    let e = the_diag(&l, "invalid-value");
    assert_eq!(e.severity, Severity::Error);
    assert_eq!(
        e.file.as_deref(),
        Some(fixture_file("describe-subnets.json").as_path())
    );
    assert_eq!(e.object.as_deref(), Some("subnet-b"));
    // Line 4 holds the array where a string belongs (`[` at column 17). serde_json places a
    // type error at the last character it consumed before peeking the value: column 16, the
    // space before `[`. The loader must reproduce that file position from inside the object.
    assert_eq!((e.line, e.column), (Some(4), Some(16)), "{e}");
}

#[test]
fn missing_required_field_names_file_and_object() {
    let d = Dir::new();
    one_vpc(&d).put(
        &format!("{AR}/more-subnets.json"),
        "Subnets",
        [without(
            subnet_json("subnet-c", "vpc-1", "10.0.3.0/24", "us-east-1a"),
            "VpcId",
        )],
    );
    let l = d.load();
    let e = the_diag(&l, "missing-field");
    assert_eq!(e.severity, Severity::Error);
    assert_eq!(
        e.file.as_deref(),
        Some(fixture_file("more-subnets.json").as_path())
    );
    assert_eq!(e.object.as_deref(), Some("subnet-c"));
    assert!(e.message.contains("VpcId"), "{e}");
    assert!(!l.model.subnets.contains_key(&SubnetId::new("subnet-c")));
}

#[test]
fn invalid_cidr_names_file_and_object() {
    let d = Dir::new();
    one_vpc(&d).put(
        &format!("{AR}/more-subnets.json"),
        "Subnets",
        [subnet_json(
            "subnet-c",
            "vpc-1",
            "10.0.3.0/33",
            "us-east-1a",
        )],
    );
    let l = d.load();
    let e = the_diag(&l, "invalid-value");
    assert_eq!(e.severity, Severity::Error);
    assert_eq!(
        e.file.as_deref(),
        Some(fixture_file("more-subnets.json").as_path())
    );
    assert_eq!(e.object.as_deref(), Some("subnet-c"));
    assert!(e.message.contains("10.0.3.0/33"), "{e}");
}

#[test]
fn route_to_unknown_peering_is_a_dangling_reference_naming_the_table() {
    let d = Dir::new();
    one_vpc(&d).put(
        &format!("{AR}/describe-route-tables.json"),
        "RouteTables",
        [route_table_json(
            "rtb-main",
            "vpc-1",
            vec![main_assoc()],
            vec![
                route_json("10.0.0.0/16", "local"),
                route_json("10.5.0.0/16", "pcx-missing"),
            ],
        )],
    );
    let l = d.load();
    let e = the_diag(&l, "dangling-reference");
    assert_eq!(e.severity, Severity::Error);
    assert_eq!(e.object.as_deref(), Some("rtb-main"));
    assert_eq!(
        e.file.as_deref(),
        Some(fixture_file("describe-route-tables.json").as_path())
    );
    assert!(e.message.contains("pcx-missing"), "{e}");
    // The route is kept: it behaves like an inactive peering.
    assert_eq!(
        l.model.route_tables[&RouteTableId::new("rtb-main")]
            .routes
            .len(),
        2
    );
}

#[test]
fn sg_rule_naming_an_unknown_group_is_a_warning_naming_it() {
    let d = Dir::new();
    let p = with(
        perm_json("tcp", 22, 22),
        "UserIdGroupPairs",
        json!([{ "GroupId": "sg-nowhere", "UserId": ACCOUNT }]),
    );
    d.put(
        &format!("{AR}/describe-vpcs.json"),
        "Vpcs",
        [vpc_json("vpc-1", "10.0.0.0/16")],
    )
    .put(
        &format!("{AR}/describe-security-groups.json"),
        "SecurityGroups",
        [sg_json("sg-1", "vpc-1", vec![p], vec![])],
    );
    let l = d.load();
    let w = the_diag(&l, "dangling-reference");
    assert_eq!(w.severity, Severity::Warning);
    assert_eq!(w.object.as_deref(), Some("sg-1"));
    assert!(w.message.contains("sg-nowhere"), "{w}");
    assert!(!l.has_errors(), "{}", listing(&l));
}

#[test]
fn every_problem_of_every_file_is_reported_in_one_load() {
    let d = Dir::new();
    one_vpc(&d)
        .write(&format!("{AR}/broken.json"), "{\"Vpcs\": [")
        .put(
            &format!("{AR}/bad-cidr.json"),
            "SecurityGroups",
            [sg_json(
                "sg-1",
                "vpc-1",
                vec![perm_cidrs_json("tcp", 22, 22, &["10.0.300.0/24"])],
                vec![],
            )],
        )
        .put(
            "222222222222/us-west-2/no-vpc-id.json",
            "RouteTables",
            [without(
                route_table_json("rtb-x", "vpc-1", vec![], vec![]),
                "VpcId",
            )],
        );
    let l = d.load();
    let got: Vec<(String, Option<PathBuf>)> = errors(&l)
        .iter()
        .map(|e| (e.code.to_string(), e.file.clone()))
        .collect();
    let want = [
        ("malformed-json", fixture_file("broken.json")),
        (
            "missing-field",
            Path::new("222222222222/us-west-2/no-vpc-id.json").to_path_buf(),
        ),
        ("invalid-value", fixture_file("bad-cidr.json")),
    ];
    for (code, file) in want {
        assert!(
            got.contains(&(code.to_string(), Some(file.clone()))),
            "{code} in {} missing:\n{}",
            file.display(),
            listing(&l)
        );
    }
    assert_eq!(got.len(), 3, "{}", listing(&l));
    // And what is valid still loaded.
    assert_eq!(l.model.subnets.len(), 2);
}

#[test]
fn not_a_folder_is_a_load_error() {
    let d = Dir::new();
    d.write(
        "describe-vpcs.json",
        response("Vpcs", [vpc_json("vpc-1", "10.0.0.0/16")]),
    );
    let file = d.path().join("describe-vpcs.json");
    assert!(matches!(
        peerscope::snapshot::load(&file),
        Err(LoadError::NotAFolder(p)) if p == file
    ));
    let missing = d.path().join("no-such-folder");
    assert!(matches!(
        peerscope::snapshot::load(&missing),
        Err(LoadError::NotAFolder(_))
    ));
}

#[test]
fn nothing_recognisable_is_a_load_error() {
    let empty = Dir::new();
    assert!(matches!(
        empty.try_load(),
        Err(LoadError::NothingRecognisable(_))
    ));
    let junk = Dir::new();
    junk.write("notes.txt", "not json")
        .write("a/b.json", "{\"Frobs\": []}")
        .write("c.json", "[1, 2, 3]")
        .write("d.json", "{ broken");
    assert!(matches!(
        junk.try_load(),
        Err(LoadError::NothingRecognisable(_))
    ));
}

#[test]
fn loading_twice_gives_identical_model_and_diagnostics() {
    let d = Dir::new();
    // A bit of everything, including problems, over two accounts.
    clean_snapshot(&d)
        .put(
            "222222222222/us-west-2/describe-vpcs.json",
            "Vpcs",
            [vpc_json("vpc-2", "10.0.0.0/16"), vpc_json("vpc-3", "bad")],
        )
        .put(
            "222222222222/us-west-2/describe-vpc-peering-connections.json",
            "VpcPeeringConnections",
            [peering_json(
                "pcx-1",
                "active",
                ("vpc-1", "10.0.0.0/16"),
                ("vpc-2", "10.0.0.0/16"),
            )],
        )
        .write("222222222222/us-west-2/broken.json", "{\"Subnets\": [}");
    // The index holds hash maps, whose Debug order is not stable; compare the objects, the
    // locations and the per-subnet lookups instead.
    let dump = |l: &peerscope::snapshot::Loaded| {
        let m = &l.model;
        let lookups: Vec<_> = m
            .subnets
            .values()
            .map(|s| {
                (
                    s.id.clone(),
                    m.index().route_table_of(s).cloned(),
                    m.index().nacl_of(&s.id).clone(),
                    m.index().enis_in(&s.id).to_vec(),
                )
            })
            .collect();
        format!(
            "{:#?}\n{:#?}\n{:#?}\n{:#?}\n{:#?}\n{:#?}\n{:#?}\n{:#?}\n{:#?}\n{:#?}\n{:#?}\n{:#?}",
            l.diagnostics,
            m.vpcs,
            m.subnets,
            m.route_tables,
            m.network_acls,
            m.security_groups,
            m.network_interfaces,
            m.instances,
            m.peerings,
            m.prefix_lists,
            m.locations,
            lookups
        )
    };
    let first = d.load();
    assert!(!first.diagnostics.is_empty());
    let a = dump(&first);
    for _ in 0..3 {
        assert_eq!(a, dump(&d.load()));
    }
}

#[test]
fn truncated_file_is_malformed_json_even_when_it_opens_with_an_array() {
    // Regression: the shape was checked before the syntax, so a truncated `[{…` was reported as
    // not-a-response, at column 0.
    let d = Dir::new();
    one_vpc(&d).write(&format!("{AR}/cut.json"), "[\n  {\"VpcId\": \"vpc-9\"");
    let l = d.load();
    let e = the_diag(&l, "malformed-json");
    assert_eq!(e.file.as_deref(), Some(fixture_file("cut.json").as_path()));
    assert!(e.message.contains("EOF"), "{e}");
    // The end of the text: line 2, after its 19th character.
    assert_eq!((e.line, e.column), (Some(2), Some(19)), "{e}");
    assert!(diags(&l, "not-a-response").is_empty(), "{}", listing(&l));
}

#[test]
fn json_that_is_not_an_object_is_not_a_response() {
    let d = Dir::new();
    one_vpc(&d).write(&format!("{AR}/list.json"), "[1, 2, 3]\n");
    let l = d.load();
    let e = the_diag(&l, "not-a-response");
    // A file peerscope does not know is reported, not an error (the contract).
    assert_eq!(e.severity, Severity::Warning);
    assert_eq!(e.file.as_deref(), Some(fixture_file("list.json").as_path()));
    // Columns are 1-based (serde_json says 0 before a line's first character).
    assert_eq!((e.line, e.column), (Some(1), Some(1)), "{e}");
}

#[test]
fn wrong_typed_value_at_the_start_of_a_line_has_column_one() {
    let d = Dir::new();
    one_vpc(&d).write(
        &format!("{AR}/more-subnets.json"),
        "{\"Subnets\": [\n  {\"SubnetId\": \"subnet-c\", \"VpcId\": \"vpc-1\", \"CidrBlock\":\n[\"10.0.3.0/24\"]}\n]}",
    );
    let l = d.load();
    let e = the_diag(&l, "invalid-value");
    assert_eq!(e.object.as_deref(), Some("subnet-c"));
    assert_eq!((e.line, e.column), (Some(3), Some(1)), "{e}");
}

/// A snapshot's `changes/` folder holds what-if change files and Terraform plans: never read as
/// describe output (a `changes` folder deeper down is an ordinary folder).
#[test]
fn the_changes_folder_at_the_root_is_not_read() {
    let d = Dir::new();
    d.put(
        &format!("{AR}/describe-vpcs.json"),
        "Vpcs",
        [vpc_json("vpc-1", "10.0.0.0/16")],
    );
    d.write("changes/change.json", r#"[{"Action": "CreateRoute"}]"#);
    d.write(
        "changes/plan.json",
        r#"{"format_version": "1.2", "resource_changes": []}"#,
    );
    let l = d.load();
    assert!(
        l.diagnostics
            .iter()
            .all(|x| !x.file.as_ref().is_some_and(|f| f.starts_with("changes"))),
        "{:#?}",
        l.diagnostics
    );
    assert_eq!((l.files_read, l.model.vpcs.len()), (1, 1));
    d.write("111111111111/changes/describe-vpcs.json", r#"{"Vpcs": []}"#);
    assert_eq!(d.load().files_read, 2, "a deeper changes/ folder is read");
}
