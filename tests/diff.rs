//! `diff` and `what-if`: every EC2 operation and Terraform resource type changes the model as
//! AWS would; operations AWS would reject are errors naming the operation; a change and its
//! inverse give an empty diff; identical snapshots give an empty diff; the diff of a snapshot
//! with itself plus one route equals the what-if of that route; the incremental diff equals
//! the whole one; the topologies' `changes/` folders report what their READMEs promise; golden
//! output in every format, SARIF valid against the official schema.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use peerscope::change::{Applied, ChangeError, ec2, terraform};
use peerscope::diff::{DiffOptions, DiffReport, FlowChangeKind, diff};
use peerscope::intent::Intent;
use peerscope::model::*;
use peerscope::report::diff::{Format, render};
use peerscope::snapshot;
use serde_json::{Value, json};

use crate::util::{Dir, TestCommand, copy_tree};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

fn topology(name: &str) -> PathBuf {
    root().join("topologies").join(name)
}

fn model(name: &str) -> Model {
    snapshot::load(&topology(name)).unwrap().model
}

/// The topology's intent, named relative to the repository (golden files do not depend on the
/// checkout's place).
fn intent(name: &str) -> Intent {
    let rel = Path::new("topologies").join(name).join("intent.toml");
    let text = std::fs::read_to_string(topology(name).join("intent.toml")).unwrap();
    Intent::parse(&rel, &text).unwrap_or_else(|e| panic!("{e}"))
}

fn apply(m: &mut Model, ops: Value) -> Result<Applied, ChangeError> {
    let ops = ec2::parse(&ops.to_string(), Path::new("change.json"))?;
    ec2::apply(m, &ops)
}

const HUB: &str = "hub-and-spoke";
const AUDIT_MAIN: &str = "rtb-0e953188896477655";
const PCX_AUDIT_PROD: &str = "pcx-0e6955381596d4693";
const PROD_APP_SG: &str = "sg-00a04ac4f50161980";
const DNS_NACL: &str = "acl-0d06c057cf1693dbb";

fn table<'m>(m: &'m Model, id: &str) -> &'m RouteTable {
    &m.route_tables[&RouteTableId::new(id)]
}

fn has_route(m: &Model, t: &str, dest: &str, target: &str) -> bool {
    table(m, t)
        .routes
        .iter()
        .any(|r| r.destination.to_string() == dest && r.target.to_string() == target)
}

// ---------------------------------------------------------------------------------------------
// EC2 operations
// ---------------------------------------------------------------------------------------------

/// Each operation, applied to hub-and-spoke (dual-stack for prefix lists), and what it must
/// leave in the model.
#[test]
fn every_operation_changes_the_model_as_aws_would() {
    type Check = fn(&Model) -> bool;
    let cases: Vec<(&str, Value, Check)> = vec![
        (
            HUB,
            json!({"Action": "CreateRoute", "RouteTableId": AUDIT_MAIN, "DestinationCidrBlock": "10.1.1.0/24", "VpcPeeringConnectionId": PCX_AUDIT_PROD}),
            |m| has_route(m, AUDIT_MAIN, "10.1.1.0/24", PCX_AUDIT_PROD),
        ),
        (
            HUB,
            json!({"Action": "ReplaceRoute", "RouteTableId": AUDIT_MAIN, "DestinationCidrBlock": "10.1.3.0/24", "GatewayId": "igw-0123456789abcdef0"}),
            |m| has_route(m, AUDIT_MAIN, "10.1.3.0/24", "igw-0123456789abcdef0"),
        ),
        (
            HUB,
            json!({"Action": "DeleteRoute", "RouteTableId": AUDIT_MAIN, "DestinationCidrBlock": "10.1.3.0/24"}),
            |m| {
                !table(m, AUDIT_MAIN)
                    .routes
                    .iter()
                    .any(|r| r.destination.to_string() == "10.1.3.0/24")
            },
        ),
        (
            // prod-app uses the main table; give it prod-db's.
            HUB,
            json!({"Action": "AssociateRouteTable", "RouteTableId": "rtb-0ce60553190083e70", "SubnetId": "subnet-099504f7e6f897c30"}),
            |m| {
                table(m, "rtb-0ce60553190083e70")
                    .subnets
                    .contains(&SubnetId::new("subnet-099504f7e6f897c30"))
            },
        ),
        (
            // dev-app's association (rtbassoc of dev-main) moves to a table of the same VPC:
            // here the main association of prod moves to prod-reporting.
            HUB,
            json!({"Action": "ReplaceRouteTableAssociation", "AssociationId": main_association(HUB, "rtb-0923f326c6f3659af"), "RouteTableId": "rtb-0e87320ffa0a86424"}),
            |m| table(m, "rtb-0e87320ffa0a86424").main && !table(m, "rtb-0923f326c6f3659af").main,
        ),
        (
            HUB,
            json!({"Action": "AuthorizeSecurityGroupIngress", "GroupId": PROD_APP_SG, "IpPermissions": [{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "10.3.0.0/16"}]}]}),
            |m| {
                m.security_groups[&SecurityGroupId::new(PROD_APP_SG)]
                    .ingress
                    .iter()
                    .any(|r| r.to_string() == "tcp:22 10.3.0.0/16")
            },
        ),
        (
            HUB,
            json!({"Action": "AuthorizeSecurityGroupEgress", "GroupId": PROD_APP_SG, "IpProtocol": "udp", "FromPort": 53, "ToPort": 53, "CidrIp": "10.0.1.0/24"}),
            |m| {
                m.security_groups[&SecurityGroupId::new(PROD_APP_SG)]
                    .egress
                    .iter()
                    .any(|r| r.to_string() == "udp:53 10.0.1.0/24")
            },
        ),
        (
            HUB,
            json!({"Action": "RevokeSecurityGroupIngress", "GroupId": PROD_APP_SG, "IpPermissions": [{"IpProtocol": "tcp", "FromPort": 8080, "ToPort": 8080, "IpRanges": [{"CidrIp": "10.1.0.0/16"}]}]}),
            |m| {
                !m.security_groups[&SecurityGroupId::new(PROD_APP_SG)]
                    .ingress
                    .iter()
                    .any(|r| r.to_string() == "tcp:8080 10.1.0.0/16")
            },
        ),
        (
            HUB,
            json!({"Action": "RevokeSecurityGroupEgress", "GroupId": "sg-09ae775202db90ebf", "IpPermissions": [{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "10.0.2.0/24"}]}]}),
            |m| {
                !m.security_groups[&SecurityGroupId::new("sg-09ae775202db90ebf")]
                    .egress
                    .iter()
                    .any(|r| r.to_string() == "tcp:443 10.0.2.0/24")
            },
        ),
        (
            HUB,
            json!({"Action": "CreateNetworkAclEntry", "NetworkAclId": DNS_NACL, "RuleNumber": 120, "Protocol": "6", "RuleAction": "allow", "Egress": true, "CidrBlock": "10.0.0.0/8", "PortRange": {"From": 1024, "To": 65535}}),
            |m| {
                m.network_acls[&NetworkAclId::new(DNS_NACL)]
                    .egress
                    .iter()
                    .any(|e| e.rule_number == 120 && e.protocol == Protocol::Number(6))
            },
        ),
        (
            HUB,
            json!({"Action": "ReplaceNetworkAclEntry", "NetworkAclId": DNS_NACL, "RuleNumber": 100, "Protocol": "-1", "RuleAction": "deny", "Egress": false, "CidrBlock": "10.2.0.0/16"}),
            |m| {
                m.network_acls[&NetworkAclId::new(DNS_NACL)]
                    .ingress
                    .iter()
                    .any(|e| e.rule_number == 100 && e.action == RuleAction::Deny)
            },
        ),
        (
            HUB,
            json!({"Action": "DeleteNetworkAclEntry", "NetworkAclId": DNS_NACL, "RuleNumber": 110, "Egress": false}),
            |m| {
                !m.network_acls[&NetworkAclId::new(DNS_NACL)]
                    .ingress
                    .iter()
                    .any(|e| e.rule_number == 110)
            },
        ),
        (
            // hub-dns-a moves from hub-dns-nacl to the hub's default ACL.
            HUB,
            json!({"Action": "ReplaceNetworkAclAssociation", "AssociationId": "aclassoc-095a03325b38cd122", "NetworkAclId": "acl-025d3a62e946ab4af"}),
            |m| matches!(m.index().nacl_of(&SubnetId::new("subnet-03ef3095d91380948")), NaclBinding::Acl(a) if a.as_str() == "acl-025d3a62e946ab4af"),
        ),
        (
            HUB,
            json!({"Action": "CreateVpcPeeringConnection", "VpcId": "vpc-0185b51997c05f28a", "PeerVpcId": "vpc-0e7215a10a91a4f34", "PeerOwnerId": "444444444444", "PeerRegion": "us-east-1", "VpcPeeringConnectionId": "pcx-0aaa0000000000001"}),
            |m| {
                m.peerings
                    .get(&PeeringId::new("pcx-0aaa0000000000001"))
                    .is_some_and(|c| c.is_active())
            },
        ),
        (
            HUB,
            json!({"Action": "DeleteVpcPeeringConnection", "VpcPeeringConnectionId": PCX_AUDIT_PROD}),
            |m| m.peerings[&PeeringId::new(PCX_AUDIT_PROD)].status.as_str() == "deleted",
        ),
        (
            "dual-stack",
            json!({"Action": "ModifyManagedPrefixList", "PrefixListId": "pl-0879c8ef012ba751a", "CurrentVersion": 1, "AddEntries": [{"Cidr": "10.99.0.0/16", "Description": "new"}]}),
            |m| {
                m.prefix_lists[&PrefixListId::new("pl-0879c8ef012ba751a")]
                    .cidrs
                    .iter()
                    .any(|c| c.to_string() == "10.99.0.0/16")
            },
        ),
    ];
    let mut actions = BTreeSet::new();
    for (name, op, check) in cases {
        let before = model(name);
        assert!(!check(&before), "{op}: already true before the change");
        let mut m = before.clone();
        let applied = apply(&mut m, json!([op.clone()])).unwrap_or_else(|e| panic!("{op}: {e}"));
        assert!(check(&m), "{op}: not applied as AWS would");
        assert!(!applied.touched.is_empty(), "{op}: touches no VPC");
        actions.insert(op["Action"].as_str().unwrap().to_owned());
    }
    assert_eq!(actions.len(), 16, "every action is covered: {actions:?}");
}

fn main_association(name: &str, table_id: &str) -> String {
    model(name).route_tables[&RouteTableId::new(table_id)]
        .association_ids
        .iter()
        .find(|(_, s)| s.is_none())
        .map(|(k, _)| k.clone())
        .expect("the main table has a main association id")
}

/// Operations AWS would reject: an error naming the operation and saying why.
#[test]
fn operations_aws_would_reject_are_errors_naming_the_operation() {
    let cases: Vec<(&str, Value, &str)> = vec![
        (
            HUB,
            json!({"Action": "CreateRoute", "RouteTableId": "rtb-00000000000000000", "DestinationCidrBlock": "10.9.0.0/16", "GatewayId": "igw-0123456789abcdef1"}),
            "InvalidRouteTableID.NotFound",
        ),
        (
            HUB,
            json!({"Action": "CreateRoute", "RouteTableId": AUDIT_MAIN, "DestinationCidrBlock": "10.1.3.0/24", "VpcPeeringConnectionId": PCX_AUDIT_PROD}),
            "RouteAlreadyExists",
        ),
        (
            HUB,
            json!({"Action": "CreateRoute", "RouteTableId": AUDIT_MAIN, "DestinationCidrBlock": "10.2.0.0/16", "VpcPeeringConnectionId": "pcx-08f7f1da4b3030aea"}),
            "does not involve",
        ),
        (
            HUB,
            json!({"Action": "CreateRoute", "RouteTableId": AUDIT_MAIN, "DestinationCidrBlock": "10.2.0.0/16", "VpcPeeringConnectionId": "pcx-0000000000000dead"}),
            "InvalidVpcPeeringConnectionID.NotFound",
        ),
        (
            HUB,
            json!({"Action": "CreateRoute", "RouteTableId": AUDIT_MAIN, "DestinationCidrBlock": "10.2.0.0/16"}),
            "exactly one target",
        ),
        (
            HUB,
            json!({"Action": "ReplaceRoute", "RouteTableId": AUDIT_MAIN, "DestinationCidrBlock": "10.9.0.0/16", "GatewayId": "igw-0123456789abcdef1"}),
            "InvalidRoute.NotFound",
        ),
        (
            HUB,
            json!({"Action": "DeleteRoute", "RouteTableId": AUDIT_MAIN, "DestinationCidrBlock": "10.3.0.0/16"}),
            "local route",
        ),
        (
            HUB,
            json!({"Action": "AssociateRouteTable", "RouteTableId": "rtb-0ce60553190083e70", "SubnetId": "subnet-0e76a6b599da5d18e"}),
            "Resource.AlreadyAssociated",
        ),
        (
            HUB,
            json!({"Action": "AssociateRouteTable", "RouteTableId": AUDIT_MAIN, "SubnetId": "subnet-099504f7e6f897c30"}),
            "InvalidParameterValue",
        ),
        (
            HUB,
            json!({"Action": "ReplaceRouteTableAssociation", "AssociationId": "rtbassoc-0000000000000dead", "RouteTableId": AUDIT_MAIN}),
            "InvalidAssociationID.NotFound",
        ),
        (
            HUB,
            json!({"Action": "AuthorizeSecurityGroupIngress", "GroupId": PROD_APP_SG, "IpPermissions": [{"IpProtocol": "tcp", "FromPort": 8080, "ToPort": 8080, "IpRanges": [{"CidrIp": "10.1.0.0/16"}]}]}),
            "InvalidPermission.Duplicate",
        ),
        (
            HUB,
            json!({"Action": "AuthorizeSecurityGroupIngress", "GroupId": "sg-0000000000000dead", "IpPermissions": [{"IpProtocol": "tcp", "FromPort": 1, "ToPort": 1, "IpRanges": [{"CidrIp": "10.1.0.0/16"}]}]}),
            "InvalidGroup.NotFound",
        ),
        (
            HUB,
            json!({"Action": "AuthorizeSecurityGroupIngress", "GroupId": PROD_APP_SG, "IpPermissions": [{"IpProtocol": "tcp", "FromPort": 1, "ToPort": 1, "UserIdGroupPairs": [{"GroupId": "sg-0000000000000dead"}]}]}),
            "InvalidGroup.NotFound",
        ),
        (
            HUB,
            json!({"Action": "RevokeSecurityGroupEgress", "GroupId": PROD_APP_SG, "IpPermissions": [{"IpProtocol": "tcp", "FromPort": 1, "ToPort": 1, "IpRanges": [{"CidrIp": "10.1.0.0/16"}]}]}),
            "InvalidPermission.NotFound",
        ),
        (
            HUB,
            json!({"Action": "RevokeSecurityGroupIngress", "GroupId": PROD_APP_SG, "SecurityGroupRuleIds": ["sgr-0123456789abcdef0"]}),
            "SecurityGroupRuleIds",
        ),
        (
            HUB,
            json!({"Action": "CreateNetworkAclEntry", "NetworkAclId": DNS_NACL, "RuleNumber": 100, "Protocol": "-1", "RuleAction": "allow", "Egress": false, "CidrBlock": "0.0.0.0/0"}),
            "NetworkAclEntryAlreadyExists",
        ),
        (
            HUB,
            json!({"Action": "CreateNetworkAclEntry", "NetworkAclId": DNS_NACL, "RuleNumber": 40000, "Protocol": "-1", "RuleAction": "allow", "Egress": false, "CidrBlock": "0.0.0.0/0"}),
            "1–32766",
        ),
        (
            HUB,
            json!({"Action": "CreateNetworkAclEntry", "NetworkAclId": DNS_NACL, "RuleNumber": 130, "Protocol": "6", "RuleAction": "allow", "Egress": false, "CidrBlock": "0.0.0.0/0"}),
            "PortRange is required",
        ),
        (
            HUB,
            json!({"Action": "DeleteNetworkAclEntry", "NetworkAclId": DNS_NACL, "RuleNumber": 999, "Egress": true}),
            "InvalidNetworkAclEntry.NotFound",
        ),
        (
            HUB,
            json!({"Action": "ReplaceNetworkAclAssociation", "AssociationId": "aclassoc-095a03325b38cd122", "NetworkAclId": "acl-05e6f298adf54f645"}),
            "InvalidParameterValue",
        ),
        (
            HUB,
            json!({"Action": "CreateVpcPeeringConnection", "VpcId": "vpc-0185b51997c05f28a", "PeerVpcId": "vpc-087eeae69d77ed1f2"}),
            "VpcPeeringConnectionAlreadyExists",
        ),
        (
            HUB,
            json!({"Action": "CreateVpcPeeringConnection", "VpcId": "vpc-0185b51997c05f28a", "PeerVpcId": "vpc-0e7215a10a91a4f34", "PeerOwnerId": "999999999999"}),
            "PeerOwnerId",
        ),
        (
            HUB,
            json!({"Action": "CreateVpcPeeringConnection", "VpcId": "vpc-0185b51997c05f28a", "PeerVpcId": "vpc-0000000000000dead"}),
            "InvalidVpcID.NotFound",
        ),
        (
            HUB,
            json!({"Action": "DeleteVpcPeeringConnection", "VpcPeeringConnectionId": "pcx-0000000000000beef"}),
            "InvalidVpcPeeringConnectionID.NotFound",
        ),
        (
            "dual-stack",
            json!({"Action": "ModifyManagedPrefixList", "PrefixListId": "pl-0879c8ef012ba751a", "RemoveEntries": [{"Cidr": "10.99.0.0/16"}]}),
            "InvalidPrefixListModification",
        ),
        (
            HUB,
            json!({"Action": "CreateRoute", "RouteTableId": AUDIT_MAIN, "DestinationCidr": "10.2.0.0/16", "GatewayId": "igw-0123456789abcdef1"}),
            "no parameter \"DestinationCidr\"",
        ),
        (
            HUB,
            json!({"Action": "CreateTransitGateway"}),
            "not an action peerscope applies",
        ),
    ];
    for (name, op, want) in cases {
        let mut m = model(name);
        // A harmless first operation, so the error must name the second.
        let ops = json!([
            {"Action": "CreateRoute", "RouteTableId": AUDIT_MAIN, "DestinationCidrBlock": "192.0.2.0/24", "GatewayId": "igw-0a0a0a0a0a0a0a0a0"},
            op
        ]);
        let ops = if name == HUB {
            ops
        } else {
            json!([ops[1].clone()])
        };
        let n = if name == HUB { 2 } else { 1 };
        let err = apply(&mut m, ops).expect_err(&format!("{op}: accepted"));
        assert!(
            err.op.starts_with(&format!("operation {n}")),
            "{op}: the error names {:?}",
            err.op
        );
        assert!(err.to_string().contains(want), "{op}: {err} lacks {want:?}");
    }
    // Overlapping CIDRs: the audit VPC gets a block inside dev's 10.2.0.0/16.
    let mut m = model(HUB);
    std::sync::Arc::make_mut(&mut m.vpcs)
        .get_mut(&VpcId::new("vpc-0e7215a10a91a4f34"))
        .unwrap()
        .cidrs
        .push("10.2.128.0/20".parse().unwrap());
    let err = apply(
        &mut m,
        json!([{"Action": "CreateVpcPeeringConnection", "VpcId": "vpc-0185b51997c05f28a", "PeerVpcId": "vpc-0e7215a10a91a4f34"}]),
    )
    .unwrap_err();
    assert!(err.to_string().contains("overlapping"), "{err}");
}

/// A change then its inverse: no flow and no finding differ.
#[test]
fn a_change_and_its_inverse_give_an_empty_diff() {
    let pairs: Vec<(&str, Value, Value)> = vec![
        (
            HUB,
            json!({"Action": "CreateRoute", "RouteTableId": AUDIT_MAIN, "DestinationCidrBlock": "10.1.0.0/16", "VpcPeeringConnectionId": PCX_AUDIT_PROD}),
            json!({"Action": "DeleteRoute", "RouteTableId": AUDIT_MAIN, "DestinationCidrBlock": "10.1.0.0/16"}),
        ),
        (
            HUB,
            json!({"Action": "ReplaceRoute", "RouteTableId": AUDIT_MAIN, "DestinationCidrBlock": "10.1.3.0/24", "GatewayId": "igw-0123456789abcdef1"}),
            json!({"Action": "ReplaceRoute", "RouteTableId": AUDIT_MAIN, "DestinationCidrBlock": "10.1.3.0/24", "VpcPeeringConnectionId": PCX_AUDIT_PROD}),
        ),
        (
            HUB,
            json!({"Action": "AuthorizeSecurityGroupIngress", "GroupId": PROD_APP_SG, "IpPermissions": [{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "10.0.0.0/8"}]}]}),
            json!({"Action": "RevokeSecurityGroupIngress", "GroupId": PROD_APP_SG, "IpPermissions": [{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "10.0.0.0/8"}]}]}),
        ),
        (
            HUB,
            json!({"Action": "AuthorizeSecurityGroupEgress", "GroupId": "sg-09ae775202db90ebf", "IpPermissions": [{"IpProtocol": "tcp", "FromPort": 0, "ToPort": 65535, "IpRanges": [{"CidrIp": "10.1.0.0/16"}]}]}),
            json!({"Action": "RevokeSecurityGroupEgress", "GroupId": "sg-09ae775202db90ebf", "IpPermissions": [{"IpProtocol": "tcp", "FromPort": 0, "ToPort": 65535, "IpRanges": [{"CidrIp": "10.1.0.0/16"}]}]}),
        ),
        (
            HUB,
            json!({"Action": "CreateNetworkAclEntry", "NetworkAclId": DNS_NACL, "RuleNumber": 120, "Protocol": "6", "RuleAction": "allow", "Egress": true, "CidrBlock": "10.0.0.0/8", "PortRange": {"From": 1024, "To": 65535}}),
            json!({"Action": "DeleteNetworkAclEntry", "NetworkAclId": DNS_NACL, "RuleNumber": 120, "Egress": true}),
        ),
        (
            HUB,
            json!({"Action": "ReplaceNetworkAclEntry", "NetworkAclId": DNS_NACL, "RuleNumber": 100, "Protocol": "-1", "RuleAction": "allow", "Egress": true, "CidrBlock": "0.0.0.0/0"}),
            json!({"Action": "ReplaceNetworkAclEntry", "NetworkAclId": DNS_NACL, "RuleNumber": 100, "Protocol": "17", "RuleAction": "allow", "Egress": true, "CidrBlock": "10.0.0.0/8", "PortRange": {"From": 1024, "To": 65535}}),
        ),
        (
            HUB,
            json!({"Action": "CreateVpcPeeringConnection", "VpcId": "vpc-0185b51997c05f28a", "PeerVpcId": "vpc-0e7215a10a91a4f34", "VpcPeeringConnectionId": "pcx-0aaa0000000000001"}),
            json!({"Action": "DeleteVpcPeeringConnection", "VpcPeeringConnectionId": "pcx-0aaa0000000000001"}),
        ),
        (
            "dual-stack",
            json!({"Action": "ModifyManagedPrefixList", "PrefixListId": "pl-0879c8ef012ba751a", "AddEntries": [{"Cidr": "10.0.0.0/8"}]}),
            json!({"Action": "ModifyManagedPrefixList", "PrefixListId": "pl-0879c8ef012ba751a", "RemoveEntries": [{"Cidr": "10.0.0.0/8"}]}),
        ),
    ];
    for (name, op, inverse) in pairs {
        let before = model(name);
        let mut after = before.clone();
        let once = apply(&mut after, json!([op.clone()])).unwrap();
        let i = intent(name);
        let opts = DiffOptions {
            intent: Some(&i),
            ..Default::default()
        };
        // The change alone does something (else the inverse proves nothing).
        assert!(
            !diff(&before, &after, Some(&once.touched), &opts).is_empty()
                || !once.touched.is_empty(),
            "{op}: the change alone does nothing"
        );
        let both = apply(&mut after, json!([inverse.clone()])).unwrap();
        let scope: BTreeSet<VpcId> = once.touched.union(&both.touched).cloned().collect();
        let d = diff(&before, &after, Some(&scope), &opts);
        assert!(d.is_empty(), "{op} then {inverse}: {d:#?}");
    }
    // Association moves and their inverses use the ids the first move returned.
    let before = model(HUB);
    let mut after = before.clone();
    let a = apply(
        &mut after,
        json!([{"Action": "ReplaceNetworkAclAssociation", "AssociationId": "aclassoc-095a03325b38cd122", "NetworkAclId": "acl-025d3a62e946ab4af"}]),
    )
    .unwrap();
    let new = a.placeholders.values().next().unwrap().clone();
    let main = main_association(HUB, "rtb-0923f326c6f3659af");
    let b = apply(
        &mut after,
        json!([
            {"Action": "ReplaceNetworkAclAssociation", "AssociationId": new, "NetworkAclId": DNS_NACL},
            {"Action": "ReplaceRouteTableAssociation", "AssociationId": main, "RouteTableId": "rtb-0e87320ffa0a86424"},
        ]),
    )
    .unwrap();
    let new_main = b.placeholders[&format!("ReplaceRouteTableAssociation {main}")].clone();
    let c = apply(
        &mut after,
        json!([{"Action": "ReplaceRouteTableAssociation", "AssociationId": new_main, "RouteTableId": "rtb-0923f326c6f3659af"}]),
    )
    .unwrap();
    let scope: BTreeSet<VpcId> = a
        .touched
        .iter()
        .chain(&b.touched)
        .chain(&c.touched)
        .cloned()
        .collect();
    let i = intent(HUB);
    let d = diff(
        &before,
        &after,
        Some(&scope),
        &DiffOptions {
            intent: Some(&i),
            ..Default::default()
        },
    );
    assert!(d.is_empty(), "association moves and back: {d:#?}");
}

#[test]
fn identical_snapshots_give_an_empty_diff() {
    for name in ["cross-region", "dual-stack", HUB, "partner-overbroad"] {
        let (a, b) = (model(name), model(name));
        let i = intent(name);
        let d = diff(
            &a,
            &b,
            None,
            &DiffOptions {
                intent: Some(&i),
                ..Default::default()
            },
        );
        assert!(d.is_empty() && d.scope.is_empty(), "{name}: {d:#?}");
        let out = TestCommand::new(["diff"])
            .arg(topology(name))
            .arg(topology(name))
            .run();
        assert_eq!(out.code, 0, "{name}: {out:?}");
        assert!(out.stdout.contains("no change"), "{}", out.stdout);
    }
}

/// The same route change written into a copy of the snapshot (`diff`) and proposed
/// (`what-if`): the same flows and findings, and the same exit code, through the real binary.
/// One route added (network layer: no group admits the new flows) and one removed (the full
/// layer: a required flow breaks).
#[test]
fn diff_with_one_route_changed_equals_what_if_of_that_route() {
    let cases = [
        (
            "network",
            json!({"Action": "CreateRoute", "RouteTableId": AUDIT_MAIN, "DestinationCidrBlock": "10.1.0.0/16", "VpcPeeringConnectionId": PCX_AUDIT_PROD}),
        ),
        (
            "full",
            json!({"Action": "DeleteRoute", "RouteTableId": AUDIT_MAIN, "DestinationCidrBlock": "10.1.3.0/24"}),
        ),
    ];
    for (layer, op) in cases {
        let dir = Dir::new();
        copy_tree(&topology(HUB), dir.path());
        let file = dir
            .path()
            .join("444444444444/us-east-1/describe-route-tables.json");
        let mut doc: Value =
            serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        let t = doc["RouteTables"]
            .as_array_mut()
            .unwrap()
            .iter_mut()
            .find(|t| t["RouteTableId"] == AUDIT_MAIN)
            .unwrap();
        let routes = t["Routes"].as_array_mut().unwrap();
        match op["Action"].as_str().unwrap() {
            "CreateRoute" => routes.push(json!({
                "DestinationCidrBlock": op["DestinationCidrBlock"], "VpcPeeringConnectionId": op["VpcPeeringConnectionId"],
                "Origin": "CreateRoute", "State": "active"
            })),
            _ => routes.retain(|r| r["DestinationCidrBlock"] != op["DestinationCidrBlock"]),
        }
        std::fs::write(&file, serde_json::to_string_pretty(&doc).unwrap()).unwrap();
        let change = dir.path().join("change.json");
        std::fs::write(&change, json!([op]).to_string()).unwrap();
        let intent = topology(HUB).join("intent.toml");
        let d = TestCommand::new(["diff", "--format", "json", "--layer", layer, "--intent"])
            .arg(&intent)
            .arg(topology(HUB))
            .arg(dir.path())
            .run();
        let w = TestCommand::new(["what-if", "--format", "json", "--layer", layer, "--intent"])
            .arg(&intent)
            .arg(topology(HUB))
            .arg("--change")
            .arg(&change)
            .run();
        assert_eq!(d.code, w.code, "{d:?}\n{w:?}");
        assert_eq!(d.code, 1, "{layer}: exposure or breakage: {d:?}");
        let (d, w): (Value, Value) = (
            serde_json::from_str(&d.stdout).unwrap(),
            serde_json::from_str(&w.stdout).unwrap(),
        );
        for k in [
            "flows",
            "findings_added",
            "findings_resolved",
            "summary",
            "scope",
        ] {
            assert_eq!(d[k], w[k], "{layer}: {k} differs");
        }
        assert!(
            !d["flows"].as_array().unwrap().is_empty(),
            "{layer}: the route changes reachability"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Terraform plans
// ---------------------------------------------------------------------------------------------

fn plan(path: &Path) -> terraform::Plan {
    terraform::parse(&std::fs::read_to_string(path).unwrap(), path).unwrap()
}

/// One plan with every resource type in every action it can take (create, update, delete,
/// replace), in Terraform's documented JSON output format.
#[test]
fn every_terraform_resource_type_applies() {
    let before = model(HUB);
    let mut m = before.clone();
    let applied = terraform::apply(
        &mut m,
        &plan(&root().join("tests/fixtures/terraform/every-type.tfplan.json")),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let sg = |id: &str| &m.security_groups[&SecurityGroupId::new(id)];
    let acl = |id: &str| &m.network_acls[&NetworkAclId::new(id)];
    let rules = |r: &[SgRule]| r.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    // aws_route: create, delete, replace, and a route to a list the plan creates.
    assert!(has_route(&m, AUDIT_MAIN, "10.1.1.0/24", PCX_AUDIT_PROD));
    assert!(!has_route(
        &m,
        "rtb-0923f326c6f3659af",
        "10.2.0.0/16",
        "pcx-09830c8e0c62cb141"
    ));
    assert!(has_route(
        &m,
        "rtb-081556d3ece8e5055",
        "10.0.0.0/16",
        "pcx-08f7f1da4b3030aea"
    ));
    assert!(!has_route(
        &m,
        "rtb-081556d3ece8e5055",
        "10.0.0.0/8",
        "pcx-08f7f1da4b3030aea"
    ));
    let pl = "pl-(aws_ec2_managed_prefix_list.new)";
    assert!(has_route(&m, AUDIT_MAIN, pl, PCX_AUDIT_PROD));
    // aws_route_table: a new table with its local and inline routes, associated by
    // aws_route_table_association through a placeholder; an update drops an inline route.
    let new_table = table(&m, "rtb-(aws_route_table.new)");
    assert!(has_route(&m, new_table.id.as_ref(), "10.2.0.0/16", "local"));
    assert!(has_route(
        &m,
        new_table.id.as_ref(),
        "10.0.0.0/16",
        "pcx-08f7f1da4b3030aea"
    ));
    assert_eq!(
        m.index()
            .associated_route_table(&SubnetId::new("subnet-0a535316883d859e1")),
        Some(&new_table.id)
    );
    assert!(!has_route(
        &m,
        "rtb-08d0dc99a7400055b",
        "10.2.0.0/16",
        "pcx-08f7f1da4b3030aea"
    ));
    assert!(has_route(
        &m,
        "rtb-08d0dc99a7400055b",
        "10.1.0.0/16",
        "pcx-09830c8e0c62cb141"
    ));
    // aws_main_route_table_association.
    assert!(table(&m, "rtb-0e87320ffa0a86424").main && !table(&m, "rtb-0923f326c6f3659af").main);
    // aws_security_group: created with inline rules (no default egress), updated inline with
    // a cross-VPC group reference and `self`.
    let new_sg = "sg-(aws_security_group.new)";
    assert_eq!(
        rules(&sg(new_sg).ingress),
        ["tcp:443 10.0.0.0/16", &format!("tcp:8443 {new_sg}")]
    );
    assert_eq!(rules(&sg(new_sg).egress), ["all 0.0.0.0/0"]);
    assert_eq!(
        rules(&sg("sg-0e56e2347bf21b2fa").ingress),
        [
            "tcp:22 10.2.0.0/16",
            "tcp:9100 sg-07713409ede872979",
            "tcp:9100 sg-0e56e2347bf21b2fa"
        ]
    );
    // aws_security_group_rule (delete; create on the new group), the VPC rule resources.
    assert!(!rules(&sg("sg-0778e134e417c1bd4").ingress).contains(&"tcp:9100 10.0.3.0/24".into()));
    assert!(rules(&sg("sg-011a5652ee2d72296").ingress).contains(&"tcp:443 10.3.0.0/16".into()));
    assert!(!rules(&sg("sg-09ae775202db90ebf").egress).contains(&"tcp:443 10.0.2.0/24".into()));
    // aws_network_acl: created with entries and a subnet; updated inline.
    let new_acl = acl("acl-(aws_network_acl.new)");
    assert_eq!(new_acl.subnets, [SubnetId::new("subnet-099504f7e6f897c30")]);
    assert_eq!((new_acl.ingress.len(), new_acl.egress.len()), (1, 1));
    assert!(
        !acl("acl-05e6f298adf54f645")
            .subnets
            .contains(&SubnetId::new("subnet-099504f7e6f897c30"))
    );
    assert!(acl(DNS_NACL).egress.iter().any(|e| e.rule_number == 120));
    // aws_network_acl_rule delete and create; aws_network_acl_association create and delete.
    assert!(
        !acl("acl-034863ddd99f12cd1")
            .ingress
            .iter()
            .any(|e| e.rule_number == 90)
    );
    assert!(
        acl("acl-023f67188df72e622")
            .ingress
            .iter()
            .any(|e| e.rule_number == 105 && e.action == RuleAction::Deny)
    );
    assert!(
        acl(DNS_NACL)
            .subnets
            .contains(&SubnetId::new("subnet-0af4ebcd315c3d849"))
    );
    assert!(
        acl("acl-025d3a62e946ab4af")
            .subnets
            .contains(&SubnetId::new("subnet-074f2f65dd9fbbb46"))
    );
    // aws_vpc_peering_connection (create, pending) accepted by the accepter; delete.
    assert!(m.peerings[&PeeringId::new("pcx-(aws_vpc_peering_connection.dev_audit)")].is_active());
    assert_eq!(
        m.peerings[&PeeringId::new("pcx-0a0582713f6f24099")].status,
        PeeringStatus::Deleted
    );
    // aws_ec2_managed_prefix_list with its entry block and an entry resource.
    let cidrs: Vec<String> = m.prefix_lists[&PrefixListId::new(pl)]
        .cidrs
        .iter()
        .map(|c| c.to_string())
        .collect();
    assert_eq!(cidrs, ["10.1.1.0/24", "10.1.3.0/24"]);
    // Outside the model: listed, never dropped; no-op and data sources are not changes.
    assert_eq!(
        applied.not_understood,
        ["aws_instance.bastion (create): aws_instance is outside the network model"]
    );
    for ty in [
        "aws_route",
        "aws_route_table",
        "aws_route_table_association",
        "aws_main_route_table_association",
        "aws_security_group",
        "aws_security_group_rule",
        "aws_vpc_security_group_ingress_rule",
        "aws_vpc_security_group_egress_rule",
        "aws_network_acl",
        "aws_network_acl_rule",
        "aws_network_acl_association",
        "aws_vpc_peering_connection",
        "aws_vpc_peering_connection_accepter",
        "aws_ec2_managed_prefix_list",
        "aws_ec2_managed_prefix_list_entry",
    ] {
        assert!(
            applied
                .applied
                .iter()
                .any(|l| l.starts_with(&format!("{ty}."))),
            "{ty} applied nothing: {:#?}",
            applied.applied
        );
    }
    assert_eq!(applied.touched.len(), 4, "every VPC: {:?}", applied.touched);
}

/// A reference Terraform cannot resolve before apply, to something peerscope does not model,
/// is an error naming the resource; so is a plan that contradicts the snapshot.
#[test]
fn terraform_plans_that_cannot_be_applied_are_errors_naming_the_resource() {
    let rc = |address: &str,
              ty: &str,
              actions: Value,
              before: Value,
              after: Value,
              unknown: Value| {
        json!({"address": address, "mode": "managed", "type": ty, "name": address.split('.').nth(1).unwrap(),
               "change": {"actions": actions, "before": before, "after": after, "after_unknown": unknown}})
    };
    let cases = [
        (
            json!({"format_version": "1.2", "resource_changes": [
                rc("aws_route.r", "aws_route", json!(["create"]), Value::Null,
                   json!({"route_table_id": AUDIT_MAIN, "destination_cidr_block": "10.9.0.0/16"}),
                   json!({"vpc_peering_connection_id": true}))],
              "configuration": {"root_module": {"resources": [
                {"address": "aws_route.r", "expressions": {"vpc_peering_connection_id": {"references": ["aws_ec2_transit_gateway.t.id", "aws_ec2_transit_gateway.t"]}}}]}}}),
            "aws_route.r (create)",
            "vpc_peering_connection_id is unknown until apply",
        ),
        (
            json!({"format_version": "1.2", "resource_changes": [
                rc("aws_route.gone", "aws_route", json!(["delete"]),
                   json!({"route_table_id": AUDIT_MAIN, "destination_cidr_block": "10.9.0.0/16", "gateway_id": "igw-0123456789abcdef1"}),
                   Value::Null, json!({}))]}),
            "aws_route.gone (delete)",
            "InvalidRoute.NotFound",
        ),
    ];
    for (doc, op, want) in cases {
        let p = terraform::parse(&doc.to_string(), Path::new("plan.json")).unwrap();
        let err = terraform::apply(&mut model(HUB), &p).unwrap_err();
        assert_eq!(err.op, op);
        assert!(err.message.contains(want), "{err}");
    }
    let err = terraform::parse("{\"resource_changes\": []}", Path::new("plan.json"))
        .err()
        .unwrap();
    assert!(err.to_string().contains("format_version"), "{err}");
}

// ---------------------------------------------------------------------------------------------
// The topologies' changes/ folders: what their READMEs promise, golden output
// ---------------------------------------------------------------------------------------------

fn change_file(name: &str) -> PathBuf {
    topology(HUB).join("changes").join(name)
}

fn file_report(name: &str) -> DiffReport {
    let path = change_file(name);
    let text = std::fs::read_to_string(&path).unwrap();
    let before = model(HUB);
    let mut after = before.clone();
    let applied = if name.ends_with(".tfplan.json") {
        terraform::apply(&mut after, &terraform::parse(&text, &path).unwrap()).unwrap()
    } else {
        ec2::apply(&mut after, &ec2::parse(&text, &path).unwrap()).unwrap()
    };
    let i = intent(HUB);
    let mut r = diff(
        &before,
        &after,
        Some(&applied.touched),
        &DiffOptions {
            intent: Some(&i),
            ..Default::default()
        },
    );
    r.change = Some(applied);
    // The incremental answer equals the answer over every VPC.
    let all: BTreeSet<VpcId> = before.vpcs.keys().cloned().collect();
    let whole = diff(
        &before,
        &after,
        Some(&all),
        &DiffOptions {
            intent: Some(&i),
            whole_vpcs: true,
            ..Default::default()
        },
    );
    assert_eq!(
        r.flows, whole.flows,
        "{name}: incremental differs from whole"
    );
    assert_eq!(r.findings_added, whole.findings_added, "{name}");
    assert_eq!(r.findings_resolved, whole.findings_resolved, "{name}");
    r
}

#[test]
fn the_risky_changes_add_exposure_and_the_safe_one_fixes_a_requirement() {
    let risky = file_report("risky-audit-to-prod-app.json");
    assert!(risky.fails());
    assert_eq!(risky.summary.beyond_intent, 1);
    let f = &risky.flows[0];
    assert_eq!(
        (
            f.kind,
            f.src.to_string(),
            f.dst.to_string(),
            f.services.to_string()
        ),
        (
            FlowChangeKind::NewlyDelivered,
            "10.3.2.50/32".into(),
            "10.1.1.10/32".into(),
            "tcp:all".into()
        )
    );
    let tf = file_report("risky-dev-prod-peering.tfplan.json");
    assert!(tf.fails());
    assert!(
        tf.findings_added
            .iter()
            .any(|f| f.kind == peerscope::audit::Kind::DeniedFlow)
    );
    assert_eq!(
        tf.change.as_ref().unwrap().not_understood,
        ["aws_s3_bucket.peering_flow_logs (create): aws_s3_bucket is outside the network model"]
    );
    let safe = file_report("safe-dns-tcp-replies.json");
    assert!(!safe.fails(), "{safe:#?}");
    assert_eq!(
        safe.summary.newly_delivered
            + safe.summary.no_longer_delivered
            + safe.summary.no_longer_connectable,
        0
    );
    assert!(safe.summary.newly_connectable > 0);
    assert_eq!(safe.findings_resolved.len(), 1);
    assert_eq!(
        safe.findings_resolved[0].kind,
        peerscope::audit::Kind::BrokenRequirement
    );
    let safe_tf = file_report("safe-dns-tcp-replies.tfplan.json");
    assert_eq!(safe_tf.flows, safe.flows);
    assert_eq!(safe_tf.findings_resolved, safe.findings_resolved);
}

#[test]
fn what_if_output_is_golden_in_every_format() {
    for name in [
        "risky-audit-to-prod-app.json",
        "risky-dev-prod-peering.tfplan.json",
        "safe-dns-tcp-replies.json",
    ] {
        let r = file_report(name);
        let stem = name.trim_end_matches(".json").replace('.', "-");
        for (f, ext) in [
            (Format::Table, "table"),
            (Format::Json, "json"),
            (Format::Markdown, "markdown"),
            (Format::Sarif, "sarif"),
        ] {
            insta::assert_snapshot!(format!("what-if-{stem}-{ext}"), render(&r, f));
        }
    }
}

#[test]
fn diff_sarif_is_valid_against_the_official_schema() {
    let validator = crate::audit::sarif_validator();
    for name in [
        "risky-dev-prod-peering.tfplan.json",
        "safe-dns-tcp-replies.json",
    ] {
        let doc: Value = serde_json::from_str(&render(&file_report(name), Format::Sarif)).unwrap();
        let errors: Vec<String> = validator
            .iter_errors(&doc)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{name}: SARIF invalid: {errors:#?}");
    }
}

/// Exit codes through the real binary: 1 for new exposure, 0 for the safe change, 2 for an
/// operation AWS would reject (naming it) and for a missing snapshot.
#[test]
fn what_if_exit_codes() {
    let run = |change: &Path, flag: &str| {
        TestCommand::new(["what-if"])
            .arg(topology(HUB))
            .arg(flag)
            .arg(change)
            .run()
    };
    assert_eq!(
        run(&change_file("risky-audit-to-prod-app.json"), "--change").code,
        1
    );
    assert_eq!(
        run(
            &change_file("risky-dev-prod-peering.tfplan.json"),
            "--terraform-plan"
        )
        .code,
        1
    );
    assert_eq!(
        run(&change_file("safe-dns-tcp-replies.json"), "--change").code,
        0
    );
    assert_eq!(
        run(
            &change_file("safe-dns-tcp-replies.tfplan.json"),
            "--terraform-plan"
        )
        .code,
        0
    );
    let dir = Dir::new();
    dir.write(
        "bad.json",
        json!([{"Action": "DeleteRoute", "RouteTableId": AUDIT_MAIN, "DestinationCidrBlock": "10.9.0.0/16"}]).to_string(),
    );
    let out = run(&dir.path().join("bad.json"), "--change");
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr.contains("operation 1 (DeleteRoute)")
            && out.stderr.contains("InvalidRoute.NotFound"),
        "{}",
        out.stderr
    );
    dir.write("not-json.json", "[{");
    let out = run(&dir.path().join("not-json.json"), "--change");
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("not JSON"), "{}", out.stderr);
    let out = TestCommand::new(["diff"])
        .arg(topology(HUB))
        .arg(dir.path().join("missing"))
        .run();
    assert_eq!(out.code, 2, "{out:?}");
}

// ---------------------------------------------------------------------------------------------
// Regressions from review
// ---------------------------------------------------------------------------------------------

/// An interface may carry a group of another VPC: a change in the interface's VPC can resolve
/// the group's world-open finding, and the incremental diff must see it (the group's own VPC
/// is outside the scope).
#[test]
fn a_group_of_another_vpc_on_a_touched_interface_is_in_scope() {
    let dir = Dir::new();
    copy_tree(&topology(HUB), dir.path());
    let edit = |rel: &str, f: &dyn Fn(&mut Value)| {
        let file = dir.path().join(rel);
        let mut doc: Value =
            serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        f(&mut doc);
        std::fs::write(&file, serde_json::to_string_pretty(&doc).unwrap()).unwrap();
    };
    edit(
        "444444444444/us-east-1/describe-security-groups.json",
        &|d| {
            d["SecurityGroups"].as_array_mut().unwrap().push(json!({
                "GroupId": "sg-0aaaaaaaaaaaaaaa1", "GroupName": "shared-ssh", "VpcId": "vpc-0e7215a10a91a4f34",
                "OwnerId": "444444444444",
                "IpPermissions": [{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}],
                "IpPermissionsEgress": []
            }))
        },
    );
    edit(
        "333333333333/us-east-1/describe-network-interfaces.json",
        &|d| {
            d["NetworkInterfaces"][0]["Groups"]
                .as_array_mut()
                .unwrap()
                .push(json!({"GroupId": "sg-0aaaaaaaaaaaaaaa1", "GroupName": "shared-ssh"}))
        },
    );
    let before = snapshot::load(dir.path()).unwrap().model;
    let mut after = before.clone();
    let applied = apply(
        &mut after,
        json!([{"Action": "ReplaceNetworkAclEntry", "NetworkAclId": "acl-016712181f231f0d7", "RuleNumber": 100,
                "Protocol": "-1", "RuleAction": "deny", "Egress": false, "CidrBlock": "0.0.0.0/0"}]),
    )
    .unwrap();
    let i = intent(HUB);
    let opts = DiffOptions {
        intent: Some(&i),
        ..Default::default()
    };
    let scoped = diff(&before, &after, Some(&applied.touched), &opts);
    let all: BTreeSet<VpcId> = before.vpcs.keys().cloned().collect();
    let whole = diff(
        &before,
        &after,
        Some(&all),
        &DiffOptions {
            whole_vpcs: true,
            ..opts
        },
    );
    assert!(
        whole
            .findings_resolved
            .iter()
            .any(|f| f.kind == peerscope::audit::Kind::OpenToWorldOverPeering),
        "{:#?}",
        whole.findings_resolved
    );
    assert_eq!(scoped.findings_resolved, whole.findings_resolved);
    assert_eq!(scoped.findings_added, whole.findings_added);
    assert_eq!(scoped.flows, whole.flows);
}

/// Terraform replaces a peering destroy-first: the successor may join the same two VPCs.
/// `auto_accept` accepts only within one account and region.
#[test]
fn terraform_replaces_a_peering_and_auto_accepts_only_within_one_account() {
    let plan = |auto_accept: bool| {
        json!({"format_version": "1.2", "resource_changes": [{
            "address": "aws_vpc_peering_connection.hub_dev", "mode": "managed",
            "type": "aws_vpc_peering_connection", "name": "hub_dev",
            "change": {"actions": ["delete", "create"],
                "before": {"id": "pcx-08f7f1da4b3030aea", "vpc_id": "vpc-087eeae69d77ed1f2", "peer_vpc_id": "vpc-0185b51997c05f28a"},
                "after": {"vpc_id": "vpc-087eeae69d77ed1f2", "peer_vpc_id": "vpc-0185b51997c05f28a", "peer_owner_id": "333333333333", "auto_accept": auto_accept},
                "after_unknown": {"id": true}}}]})
    };
    let mut m = model(HUB);
    let p = terraform::parse(&plan(true).to_string(), Path::new("plan.json")).unwrap();
    let applied = terraform::apply(&mut m, &p).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        m.peerings[&PeeringId::new("pcx-08f7f1da4b3030aea")].status,
        PeeringStatus::Deleted
    );
    let new = &m.peerings[&PeeringId::new("pcx-(aws_vpc_peering_connection.hub_dev)")];
    // Two accounts: auto_accept cannot accept it.
    assert_eq!(
        new.status.as_str(),
        "pending-acceptance",
        "{:#?}",
        applied.applied
    );
    assert!(
        applied
            .applied
            .iter()
            .any(|l| l.contains("auto_accept needs")),
        "{:#?}",
        applied.applied
    );
}

/// Route targets AWS refuses, and ICMP rules told apart by type and code.
#[test]
fn routes_and_icmp_rules_as_aws_tells_them_apart() {
    for (op, want) in [
        (
            json!({"Action": "ReplaceRoute", "RouteTableId": "rtb-081556d3ece8e5055", "DestinationCidrBlock": "10.0.0.0/8", "LocalTarget": true}),
            "LocalTarget resets a local route",
        ),
        (
            json!({"Action": "ReplaceRoute", "RouteTableId": "rtb-081556d3ece8e5055", "DestinationCidrBlock": "10.2.0.0/16", "VpcPeeringConnectionId": "pcx-08f7f1da4b3030aea"}),
            "can only be replaced by a network interface",
        ),
        (
            json!({"Action": "CreateRoute", "RouteTableId": "rtb-081556d3ece8e5055", "DestinationCidrBlock": "10.2.1.0/24", "VpcPeeringConnectionId": "pcx-08f7f1da4b3030aea"}),
            "more specific than the local route",
        ),
    ] {
        let err = apply(&mut model(HUB), json!([op])).unwrap_err();
        assert!(err.to_string().contains(want), "{err}");
    }
    // A local route may be pointed at a middlebox interface and reset.
    let mut m = model(HUB);
    apply(
        &mut m,
        json!([
            {"Action": "ReplaceRoute", "RouteTableId": "rtb-081556d3ece8e5055", "DestinationCidrBlock": "10.2.0.0/16", "NetworkInterfaceId": "eni-0123456789abcdef0"},
            {"Action": "ReplaceRoute", "RouteTableId": "rtb-081556d3ece8e5055", "DestinationCidrBlock": "10.2.0.0/16", "LocalTarget": true},
        ]),
    )
    .unwrap();
    assert!(has_route(
        &m,
        "rtb-081556d3ece8e5055",
        "10.2.0.0/16",
        "local"
    ));
    // icmp echo and destination-unreachable from one CIDR are two rules.
    let icmp = |t: i64| json!([{"IpProtocol": "icmp", "FromPort": t, "ToPort": -1, "IpRanges": [{"CidrIp": "10.3.0.0/16"}]}]);
    let mut m = model(HUB);
    apply(
        &mut m,
        json!([
            {"Action": "AuthorizeSecurityGroupIngress", "GroupId": PROD_APP_SG, "IpPermissions": icmp(8)},
            {"Action": "AuthorizeSecurityGroupIngress", "GroupId": PROD_APP_SG, "IpPermissions": icmp(3)},
            {"Action": "RevokeSecurityGroupIngress", "GroupId": PROD_APP_SG, "IpPermissions": icmp(3)},
        ]),
    )
    .unwrap();
    let left: Vec<_> = m.security_groups[&SecurityGroupId::new(PROD_APP_SG)]
        .ingress
        .iter()
        .filter(|r| r.protocol == Protocol::Number(1))
        .map(|r| r.icmp)
        .collect();
    assert_eq!(left, [Some((8, -1))]);
    let err = apply(
        &mut m,
        json!([{"Action": "RevokeSecurityGroupIngress", "GroupId": PROD_APP_SG, "IpPermissions": icmp(3)}]),
    )
    .unwrap_err();
    assert!(
        err.to_string().contains("InvalidPermission.NotFound"),
        "{err}"
    );
}

/// Groups AWS will not delete, and a reference that names one instance of a counted resource.
#[test]
fn terraform_deletes_and_instance_references_as_aws_and_terraform_do() {
    let delete_sg = |id: &str| {
        json!({"format_version": "1.2", "resource_changes": [{
            "address": "aws_security_group.g", "mode": "managed", "type": "aws_security_group", "name": "g",
            "change": {"actions": ["delete"], "before": {"id": id}, "after": null, "after_unknown": {}}}]})
    };
    for (id, want) in [
        // prod's default group.
        ("sg-0765c4be79933a37a", "CannotDelete"),
        // audit-tools: prod-reporting's ingress rule references it.
        (
            "sg-09ae775202db90ebf",
            "referenced by a rule of sg-011a5652ee2d72296",
        ),
    ] {
        let p = terraform::parse(&delete_sg(id).to_string(), Path::new("plan.json")).unwrap();
        let err = terraform::apply(&mut model(HUB), &p).unwrap_err();
        assert!(err.message.contains(want), "{err}");
    }
    let table = |i: u64| {
        json!({"address": format!("aws_route_table.t[{i}]"), "mode": "managed", "type": "aws_route_table",
               "name": "t", "index": i,
               "change": {"actions": ["create"], "before": null,
                          "after": {"vpc_id": "vpc-0185b51997c05f28a", "route": []},
                          "after_unknown": {"id": true}}})
    };
    let plan = json!({"format_version": "1.2", "resource_changes": [
        table(0), table(1),
        {"address": "aws_route_table_association.a", "mode": "managed", "type": "aws_route_table_association", "name": "a",
         "change": {"actions": ["create"], "before": null, "after": {"subnet_id": "subnet-0a535316883d859e1"},
                    "after_unknown": {"id": true, "route_table_id": true}}}],
        "configuration": {"root_module": {"resources": [
            {"address": "aws_route_table_association.a",
             "expressions": {"route_table_id": {"references": ["aws_route_table.t[1].id", "aws_route_table.t[1]", "aws_route_table.t"]}}}]}}});
    let mut m = model(HUB);
    let p = terraform::parse(&plan.to_string(), Path::new("plan.json")).unwrap();
    terraform::apply(&mut m, &p).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        m.index()
            .associated_route_table(&SubnetId::new("subnet-0a535316883d859e1"))
            .map(|t| t.to_string()),
        Some("rtb-(aws_route_table.t[1])".to_owned())
    );
}

/// `graph --change`/`--terraform-plan` draws what a proposed change adds: here the new dev ↔
/// prod peering, marked added and coloured by its high exposure; a rejected change exits 2.
#[test]
fn graph_of_a_proposed_change() {
    let out = TestCommand::new(["graph", "--format", "mermaid", "--terraform-plan"])
        .arg(change_file("risky-dev-prod-peering.tfplan.json"))
        .arg(topology(HUB))
        .run();
    assert_eq!(out.code, 0, "{out:?}");
    let line = out
        .stdout
        .lines()
        .find(|l| l.contains("pcx-(aws_vpc_peering_connection.dev_prod)"))
        .unwrap_or_else(|| panic!("no new peering in {}", out.stdout));
    assert!(
        line.contains("[added peering]") && line.contains("exposure-high"),
        "{line}"
    );
    assert!(
        out.stderr
            .contains("not applied: aws_s3_bucket.peering_flow_logs")
    );
    let dir = Dir::new();
    dir.write(
        "bad.json",
        json!([{"Action": "DeleteRoute", "RouteTableId": AUDIT_MAIN, "DestinationCidrBlock": "10.9.0.0/16"}]).to_string(),
    );
    let out = TestCommand::new(["graph", "--format", "dot", "--change"])
        .arg(dir.path().join("bad.json"))
        .arg(topology(HUB))
        .run();
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr.contains("InvalidRoute.NotFound"),
        "{}",
        out.stderr
    );
}

// ---------------------------------------------------------------------------------------------
// Peers you cannot see (semantics steps 21–23)
// ---------------------------------------------------------------------------------------------

const ANALYTICS_VPC: &str = "vpc-002909d9b0a26d60d";
const ACME_VPC: &str = "vpc-0ed9cf062e57a3543";
const LEGACY_ADMIN_SG: &str = "sg-0f24029cccd183363";

/// partner-overbroad without ACME's dump: ACME's VPC is known only from the peering record.
fn partner_unseen(dir: &Dir) -> (Model, Intent) {
    let root = dir.path().join("snap");
    copy_tree(&topology("partner-overbroad"), &root);
    std::fs::remove_dir_all(root.join("999999999999")).unwrap();
    let m = snapshot::load(&root).unwrap().model;
    assert!(m.unseen_vpc(&VpcId::new(ACME_VPC)).is_some());
    (m, intent("partner-overbroad"))
}

/// What-if of `ops` on `before`, incremental, checked against the diff over every VPC.
fn what_if(before: &Model, ops: Value, intent: &Intent) -> DiffReport {
    let mut after = before.clone();
    let applied = apply(&mut after, ops).unwrap_or_else(|e| panic!("{e}"));
    let opts = DiffOptions {
        intent: Some(intent),
        ..Default::default()
    };
    let mut r = diff(before, &after, Some(&applied.touched), &opts);
    let all: BTreeSet<VpcId> = before
        .vpcs
        .keys()
        .chain(after.vpcs.keys())
        .chain(after.unseen_vpcs().keys())
        .cloned()
        .collect();
    let whole = diff(
        before,
        &after,
        Some(&all),
        &DiffOptions {
            whole_vpcs: true,
            ..opts
        },
    );
    assert_eq!(r.flows, whole.flows, "incremental differs from whole");
    assert_eq!(r.findings_added, whole.findings_added);
    assert_eq!(r.findings_resolved, whole.findings_resolved);
    r.change = Some(applied);
    r
}

#[test]
fn changes_on_your_side_open_and_close_exposure_from_an_unseen_peer() {
    let dir = Dir::new();
    let (m, i) = partner_unseen(&dir);
    // Open: the legacy-admin group (on the prod app ENI) also admits ACME on tcp/3306.
    let open = what_if(
        &m,
        json!([{"Action": "AuthorizeSecurityGroupIngress", "GroupId": LEGACY_ADMIN_SG,
                "IpPermissions": [{"IpProtocol": "tcp", "FromPort": 3306, "ToPort": 3306,
                                   "IpRanges": [{"CidrIp": "10.50.0.0/16"}]}]}]),
        &i,
    );
    assert!(open.fails(), "{open:#?}");
    let new: Vec<_> = open
        .flows
        .iter()
        .filter(|f| f.kind == FlowChangeKind::NewlyDelivered)
        .collect();
    assert_eq!(new.len(), 1, "{new:#?}");
    assert_eq!(
        (
            new[0].src_vpc.as_str(),
            new[0].src.to_string(),
            new[0].dst.to_string(),
            new[0].services.to_string()
        ),
        (
            ACME_VPC,
            "10.50.0.0/16".into(),
            "10.1.30.40/32".into(),
            "tcp:3306".into()
        )
    );
    assert!(
        open.findings_added
            .iter()
            .any(|f| f.kind == peerscope::audit::Kind::Exposure
                && f.severity == peerscope::audit::Severity::Critical)
    );
    // Close: revoking legacy-admin's tcp/22 from 0.0.0.0/0 resolves ACME's SSH exposure.
    let close = what_if(
        &m,
        json!([{"Action": "RevokeSecurityGroupIngress", "GroupId": LEGACY_ADMIN_SG,
                "IpPermissions": [{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22,
                                   "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]}]),
        &i,
    );
    assert!(!close.fails(), "{close:#?}");
    assert!(
        close
            .flows
            .iter()
            .any(|f| f.kind == FlowChangeKind::NoLongerDelivered && f.src_vpc.as_str() == ACME_VPC)
    );
    assert!(
        close
            .findings_resolved
            .iter()
            .any(|f| f.kind == peerscope::audit::Kind::Exposure
                && f.title.starts_with(ACME_VPC)
                && f.title.contains("tcp:22"))
    );
}

#[test]
fn a_new_peering_to_a_partners_vpc_is_modelled_from_the_change_alone() {
    let dir = Dir::new();
    let (m, i) = partner_unseen(&dir);
    // Analytics peers with ACME's VPC, which other records already describe: its CIDRs come
    // from them. A route back and a group rule on the analytics side let ACME in.
    let r = what_if(
        &m,
        json!([
            {"Action": "CreateVpcPeeringConnection", "VpcId": ANALYTICS_VPC,
             "PeerVpcId": ACME_VPC, "PeerOwnerId": "999999999999",
             "VpcPeeringConnectionId": "pcx-0aaa0000000000002"},
            {"Action": "CreateRoute", "RouteTableId": "rtb-086ed65a4b6b59294",
             "DestinationCidrBlock": "10.50.0.0/16", "VpcPeeringConnectionId": "pcx-0aaa0000000000002"},
            {"Action": "AuthorizeSecurityGroupIngress", "GroupId": "sg-04b5f5d484518f01b",
             "IpPermissions": [{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
                                "IpRanges": [{"CidrIp": "10.50.0.0/16"}]}]}
        ]),
        &i,
    );
    let applied = r.change.as_ref().unwrap();
    assert!(
        applied
            .applied
            .iter()
            .any(|l| l.contains("unseen peer") && l.contains("10.50.0.0/16, 10.51.0.0/16")),
        "{:#?}",
        applied.applied
    );
    assert!(
        r.flows
            .iter()
            .any(|f| f.kind == FlowChangeKind::NewlyDelivered
                && f.src_vpc.as_str() == ACME_VPC
                && f.dst_vpc.as_str() == ANALYTICS_VPC
                && f.via.to_string() == "pcx-0aaa0000000000002"
                && f.services.to_string() == "tcp:443"),
        "{:#?}",
        r.flows
    );
    assert!(r.fails(), "new exposure from the partner, beyond intent");
    // A partner VPC no record describes: the worst case, every address outside the requester.
    let hub = model(HUB);
    let prod = hub
        .vpcs
        .values()
        .find(|v| v.account.as_str() == "222222222222")
        .unwrap()
        .id
        .clone();
    let mut after = hub.clone();
    let applied = apply(
        &mut after,
        json!([{"Action": "CreateVpcPeeringConnection", "VpcId": prod.as_str(),
                "PeerVpcId": "vpc-0bbb0000000000001", "PeerOwnerId": "888888888888",
                "VpcPeeringConnectionId": "pcx-0aaa0000000000003"}]),
    )
    .unwrap();
    assert!(
        applied
            .touched
            .contains(&VpcId::new("vpc-0bbb0000000000001"))
    );
    let u = after
        .unseen_vpc(&VpcId::new("vpc-0bbb0000000000001"))
        .unwrap();
    assert_eq!(u.account, Some(AccountId::new("888888888888")));
    let own = peerscope::sets::IpSet::from_nets(hub.vpcs[&prod].cidrs.iter().copied());
    assert_eq!(
        peerscope::sets::IpSet::from_nets(u.cidrs.iter().copied()),
        own.complement()
    );
    // Not a partner's: a VPC missing from an account the snapshot covers.
    let mut again = hub.clone();
    let err = apply(
        &mut again,
        json!([{"Action": "CreateVpcPeeringConnection", "VpcId": prod.as_str(),
                "PeerVpcId": "vpc-0bbb0000000000002", "PeerOwnerId": "222222222222"}]),
    )
    .unwrap_err();
    assert!(err.to_string().contains("InvalidVpcID.NotFound"), "{err}");
}

// ---------------------------------------------------------------------------------------------
// Strict inputs (issue 13): change files typed as the EC2 API types them, plans shaped as
// Terraform writes them
// ---------------------------------------------------------------------------------------------

/// Why reading `text` as a change file fails, as the binary prints it
/// (`change.json:LINE:COLUMN: operation …: …`): reading, so before any operation is applied.
fn change_mistake(text: &str) -> String {
    ec2::parse(text, Path::new("change.json"))
        .expect_err(text)
        .in_file(Path::new("change.json"))
}

/// A parameter of the wrong type or shape is an error naming the operation and the parameter,
/// at its line and column, before anything is applied: `"DryRun": "true"` used to be applied.
#[test]
fn change_file_parameters_are_typed_as_the_ec2_api_types_them() {
    let route = r#""Action": "CreateRoute", "RouteTableId": "rtb-0e953188896477655", "DestinationCidrBlock": "10.9.0.0/16""#;
    let sg = r#""Action": "AuthorizeSecurityGroupIngress", "GroupId": "sg-00a04ac4f50161980""#;
    let acl = r#""Action": "CreateNetworkAclEntry", "NetworkAclId": "acl-0d06c057cf1693dbb", "RuleAction": "allow", "Egress": false, "CidrBlock": "10.0.0.0/8""#;
    // (the operation, the text where the error must point — its last occurrence — the message)
    let cases: [(String, &str, &str); 23] = [
        (
            format!(r#"{route}, "GatewayId": "igw-0123456789abcdef0", "DryRun": "true""#),
            r#""true""#,
            r#"operation 1 (CreateRoute): DryRun must be a boolean (true or false), not a string ("true")"#,
        ),
        (
            format!(r#"{route}, "GatewayId": "igw-0123456789abcdef0", "DryRun": null"#),
            "null",
            "operation 1 (CreateRoute): DryRun must be a boolean (true or false), not null",
        ),
        (
            format!(r#"{route}, "GatewayId": "igw-zz""#),
            r#""igw-zz""#,
            r#"operation 1 (CreateRoute): GatewayId "igw-zz" is not an id (igw- or vgw- and 8 or 17 lowercase hex digits)"#,
        ),
        (
            r#""Action": "CreateRoute", "RouteTableId": 7, "DestinationCidrBlock": " 10.9.0.0/16""#.into(),
            "7,",
            "operation 1 (CreateRoute): RouteTableId must be a string, not an integer (7)",
        ),
        (
            format!(r#"{route}, "VpcPeeringConnectionId": "pcx-0e6955381596d4693", "DestinationIpv6CidrBlock": "10.0.0.0/8""#),
            r#""10.0.0.0/8""#,
            r#"operation 1 (CreateRoute): DestinationIpv6CidrBlock "10.0.0.0/8" is not an IPv6 CIDR"#,
        ),
        (
            r#""Action": "DeleteRoute", "RouteTableId": "rtb-0e953188896477655", "DestinationCidrBlock": "010.1.0.0/16""#.into(),
            r#""010.1.0.0/16""#,
            r#"operation 1 (DeleteRoute): DestinationCidrBlock "010.1.0.0/16" is not a CIDR: 010.1.0.0 has an octet with a leading zero"#,
        ),
        (
            format!(r#"{sg}, "IpPermissions": [{{"IpProtocol": "tcp", "FromPort": "80", "ToPort": 80, "IpRanges": [{{"CidrIp": "10.3.0.0/16"}}]}}]"#),
            r#""80""#,
            r#"operation 1 (AuthorizeSecurityGroupIngress): IpPermissions[0].FromPort must be an integer, not a string ("80")"#,
        ),
        (
            format!(r#"{sg}, "IpPermissions": [{{"IpProtocol": "tcp", "FromPort": 80.0, "ToPort": 80, "IpRanges": [{{"CidrIp": "10.3.0.0/16"}}]}}]"#),
            "80.0",
            "operation 1 (AuthorizeSecurityGroupIngress): IpPermissions[0].FromPort must be an integer, not a number (80.0)",
        ),
        (
            format!(r#"{sg}, "IpPermissions": [{{"IpProtocol": 6, "FromPort": 80, "ToPort": 80, "IpRanges": [{{"CidrIp": "10.3.0.0/16"}}]}}]"#),
            "6, ",
            "operation 1 (AuthorizeSecurityGroupIngress): IpPermissions[0].IpProtocol must be a string, not an integer (6)",
        ),
        (
            format!(r#"{sg}, "IpPermissions": [{{"IpProtocol": "tcp", "FromPort": 80, "ToPort": 70000, "IpRanges": [{{"CidrIp": "10.3.0.0/16"}}]}}]"#),
            "70000",
            "operation 1 (AuthorizeSecurityGroupIngress): IpPermissions[0].ToPort 70000 is out of range (-1 to 65535)",
        ),
        (
            format!(r#"{sg}, "IpPermissions": [{{"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "IpRanges": [{{"CidrIP": "10.3.0.0/16"}}]}}]"#),
            r#""CidrIP""#,
            r#"operation 1 (AuthorizeSecurityGroupIngress): IpPermissions[0].IpRanges[0] has no member "CidrIP" (it has CidrIp, Description)"#,
        ),
        (
            format!(r#"{sg}, "IpPermissions": [{{"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "UserIdGroupPairs": [{{"GroupId": "sg-00a04ac4f50161980", "UserId": "2222"}}]}}]"#),
            r#""2222""#,
            r#"operation 1 (AuthorizeSecurityGroupIngress): IpPermissions[0].UserIdGroupPairs[0].UserId "2222" is not an account id (12 digits)"#,
        ),
        (
            format!(r#"{acl}, "RuleNumber": "100", "Protocol": "-1""#),
            r#""100""#,
            r#"operation 1 (CreateNetworkAclEntry): RuleNumber must be an integer, not a string ("100")"#,
        ),
        (
            format!(r#"{acl}, "RuleNumber": 90, "Protocol": "tcp ", "PortRange": {{"From": 53, "To": 53}}"#),
            r#""tcp ""#,
            r#"operation 1 (CreateNetworkAclEntry): Protocol "tcp " is not a protocol (tcp, udp, icmp, icmpv6, a number 0-255, or -1 for all)"#,
        ),
        (
            format!(r#"{acl}, "RuleNumber": 90, "Protocol": "6", "PortRange": {{"From": "53", "To": 53}}"#),
            r#""53""#,
            r#"operation 1 (CreateNetworkAclEntry): PortRange.From must be an integer, not a string ("53")"#,
        ),
        (
            r#""Action": "DeleteNetworkAclEntry", "NetworkAclId": "acl-0d06c057cf1693dbb", "RuleNumber": 100, "Egress": "false""#.into(),
            r#""false""#,
            r#"operation 1 (DeleteNetworkAclEntry): Egress must be a boolean (true or false), not a string ("false")"#,
        ),
        (
            r#""Action": "ReplaceNetworkAclEntry", "NetworkAclId": "acl-0d06c057cf1693dbb", "RuleNumber": 100, "Protocol": "-1", "RuleAction": "ALLOW", "Egress": true, "CidrBlock": "0.0.0.0/0""#.into(),
            r#""ALLOW""#,
            r#"operation 1 (ReplaceNetworkAclEntry): RuleAction "ALLOW" is not one of allow, deny"#,
        ),
        (
            r#""Action": "CreateVpcPeeringConnection", "VpcId": "vpc-0185b51997c05f28a", "PeerVpcId": "vpc-0e7215a10a91a4f34", "PeerOwnerId": 444444444444, "PeerRegion": "mars-1""#.into(),
            "444444444444",
            "operation 1 (CreateVpcPeeringConnection): PeerOwnerId must be a string, not an integer (444444444444)",
        ),
        (
            r#""Action": "CreateVpcPeeringConnection", "VpcId": "vpc-0185b51997c05f28a", "PeerVpcId": "vpc-0e7215a10a91a4f34", "PeerRegion": "mars-1""#.into(),
            r#""mars-1""#,
            r#"operation 1 (CreateVpcPeeringConnection): PeerRegion "mars-1" is not a region name (us-east-1, eu-central-2, …)"#,
        ),
        (
            r#""Action": "ModifyManagedPrefixList", "PrefixListId": "pl-0879c8ef012ba751a", "AddEntries": [{"Cidr": "10.99.0.0/16", "Descripton": "x"}]"#.into(),
            r#""Descripton""#,
            r#"operation 1 (ModifyManagedPrefixList): AddEntries[0] has no member "Descripton" (it has Cidr, Description)"#,
        ),
        (
            r#""Action": "DeleteNetworkAclEntry", "NetworkAclId": "acl-0d06c057cf1693dbb", "RuleNumber": 18446744073709551615, "Egress": false"#.into(),
            "18446744073709551615",
            "operation 1 (DeleteNetworkAclEntry): RuleNumber 18446744073709551615 is out of range (-2147483648 to 2147483647)",
        ),
        (
            r#""Action": 5"#.into(),
            "5",
            "operation 1: Action must be a string naming an EC2 action, not an integer (5)",
        ),
        (
            format!(r#"{route}, "GatewayId": "igw-0123456789abcdef0", "DryRun": true, "DryRun": false"#),
            r#""DryRun": false"#,
            r#"change file: "DryRun" is given twice in one object: which one counts would be a guess"#,
        ),
    ];
    for (op, at, want) in cases {
        let line = format!("  {{{op}}}");
        let column = line.rfind(at).expect(at) + 1;
        let text = format!("[\n{line}\n]\n");
        assert_eq!(
            change_mistake(&text),
            format!("change.json:2:{column}: {want}"),
            "{text}"
        );
    }
    // The first mistake in the file is the one reported, whatever the parameters' order.
    let text =
        format!("[\n  {{{route},\n   \"GatewayId\": \"igw-1\",\n   \"DryRun\": \"yes\"}}\n]");
    assert!(
        change_mistake(&text).starts_with("change.json:3:17: operation 1 (CreateRoute): GatewayId"),
        "{}",
        change_mistake(&text)
    );
    // Well-typed, every operation still applies; `DryRun` is a boolean either way.
    let mut m = model(HUB);
    let applied = apply(
        &mut m,
        json!([
            {"Action": "CreateRoute", "RouteTableId": AUDIT_MAIN, "DestinationCidrBlock": "10.9.0.0/16", "GatewayId": "igw-0123456789abcdef0", "DryRun": true},
            {"Action": "CreateRoute", "RouteTableId": AUDIT_MAIN, "DestinationCidrBlock": "10.9.0.0/16", "GatewayId": "igw-0123456789abcdef0", "DryRun": false},
        ]),
    )
    .unwrap();
    assert!(
        applied.applied[0].ends_with("DryRun: not applied"),
        "{:?}",
        applied.applied
    );
    assert!(has_route(
        &m,
        AUDIT_MAIN,
        "10.9.0.0/16",
        "igw-0123456789abcdef0"
    ));
}

/// An id peerscope gave to what an earlier operation created may be used by a later one.
#[test]
fn ids_a_change_creates_may_be_used_by_later_operations() {
    let mut m = model(HUB);
    let applied = apply(
        &mut m,
        json!([
            {"Action": "CreateVpcPeeringConnection", "VpcId": "vpc-0185b51997c05f28a", "PeerVpcId": "vpc-0e7215a10a91a4f34"},
            {"Action": "CreateRoute", "RouteTableId": AUDIT_MAIN, "DestinationCidrBlock": "10.2.0.0/16", "VpcPeeringConnectionId": "pcx-whatif-1"},
        ]),
    )
    .unwrap();
    assert_eq!(applied.applied.len(), 2, "{:?}", applied.applied);
    assert!(has_route(&m, AUDIT_MAIN, "10.2.0.0/16", "pcx-whatif-1"));
}

/// A plan peerscope cannot read is refused, never reported as "no change": a format version
/// other than 1.x, `resource_changes` that is not a list (null included), an action set
/// Terraform does not write, an errored plan, a state instead of a plan, a resource change
/// without what its actions need, a key given twice. Each error names the resource when there
/// is one, at its line and column.
#[test]
fn terraform_plans_are_shaped_as_terraform_writes_them() {
    let route = |actions: Value| {
        json!({"address": "aws_route.r", "mode": "managed", "type": "aws_route", "name": "r",
               "change": {"actions": actions, "before": null,
                          "after": {"route_table_id": AUDIT_MAIN, "destination_cidr_block": "10.9.0.0/16", "gateway_id": "igw-0123456789abcdef0"},
                          "after_unknown": {}}})
    };
    let with_changes = |rcs: Value| json!({"format_version": "1.2", "planned_values": {}, "resource_changes": rcs});
    let cases = [
        (
            json!({"format_version": "2.0", "resource_changes": []}),
            "\"2.0\"",
            "plan: format_version \"2.0\" is not supported: peerscope reads the JSON plan format 1.x, which Terraform 1.0 and later write",
        ),
        (
            json!({"format_version": "0.2", "resource_changes": []}),
            "\"0.2\"",
            "plan: format_version \"0.2\" is not supported: peerscope reads the JSON plan format 1.x, which Terraform 1.0 and later write",
        ),
        (
            json!({"format_version": 1.2, "resource_changes": []}),
            "1.2",
            "plan: format_version must be a string such as \"1.2\", not a number",
        ),
        (
            json!({"format_version": "1.2", "planned_values": {}, "resource_changes": null}),
            "null",
            "plan: resource_changes must be a list of resource changes, not null",
        ),
        (
            json!({"format_version": "1.2", "resource_changes": {"aws_route.r": {}}}),
            "{\"aws_route.r\"",
            "plan: resource_changes must be a list of resource changes, not an object",
        ),
        (
            // `terraform show -json` without a plan file: the state.
            json!({"format_version": "1.0", "terraform_version": "1.9.0", "values": {"root_module": {}}}),
            "{\"format_version\"",
            "plan: no \"resource_changes\" and no \"planned_values\": this is not a plan (`terraform show -json` without a plan file prints the state; give it the plan file)",
        ),
        (
            json!({"format_version": "1.2", "errored": true, "planned_values": {}, "resource_changes": [route(json!(["create"]))]}),
            "true",
            "plan: the plan errored (\"errored\": true): Terraform could not plan every change, so what it lists is not the whole change; fix the errors and plan again",
        ),
        (
            with_changes(json!([route(json!(["destroy"]))])),
            "[\"destroy\"]",
            "aws_route.r: change.actions [\"destroy\"] is not one of Terraform's action sets ([\"no-op\"], [\"create\"], [\"read\"], [\"update\"], [\"delete\",\"create\"], [\"create\",\"delete\"], [\"delete\"], [\"forget\"], [\"create\",\"forget\"]): what it does is unknown",
        ),
        (
            with_changes(json!([route(json!(["create", "update"]))])),
            "[\"create\",\"update\"]",
            "aws_route.r: change.actions [\"create\",\"update\"] is not one of Terraform's action sets ([\"no-op\"], [\"create\"], [\"read\"], [\"update\"], [\"delete\",\"create\"], [\"create\",\"delete\"], [\"delete\"], [\"forget\"], [\"create\",\"forget\"]): what it does is unknown",
        ),
        (
            with_changes(json!([route(json!([]))])),
            "[]",
            "aws_route.r: change.actions [] is not one of Terraform's action sets ([\"no-op\"], [\"create\"], [\"read\"], [\"update\"], [\"delete\",\"create\"], [\"create\",\"delete\"], [\"delete\"], [\"forget\"], [\"create\",\"forget\"]): what it does is unknown",
        ),
        (
            with_changes(json!([route(json!("create"))])),
            "\"create\"",
            "aws_route.r: change.actions must be a list of action names, not \"create\"",
        ),
        (
            with_changes(json!([route(json!(["delete"]))])),
            "{\"actions\"",
            "aws_route.r: change.before is missing: [\"delete\"] needs the object before the change",
        ),
        (
            with_changes(
                json!([{"address": "aws_route.r", "mode": "managed", "type": "aws_route",
                                 "change": {"actions": ["create"], "after": "10.9.0.0/16"}}]),
            ),
            "\"10.9.0.0/16\"",
            "aws_route.r: change.after must be an object or null, not a string",
        ),
        (
            with_changes(
                json!([{"address": "aws_route.r", "type": "aws_route", "change": {"actions": ["no-op"]}}]),
            ),
            "{\"address\"",
            "aws_route.r: no mode (\"managed\" or \"data\")",
        ),
        (
            with_changes(
                json!([{"mode": "managed", "type": "aws_route", "change": {"actions": ["no-op"]}}]),
            ),
            "{\"change\"",
            "resource_changes[0]: no address",
        ),
        (
            json!({"format_version": "1.2", "planned_values": {}, "configuration": []}),
            "[]",
            "plan: configuration must be an object, not a list",
        ),
        (
            with_changes(json!([null])),
            "null",
            "resource_changes[0]: a resource change is an object, not null",
        ),
    ];
    for (doc, at, want) in cases {
        let text = doc.to_string();
        let column = text.rfind(at).expect(at) + 1;
        let got = terraform::parse(&text, Path::new("plan.json"))
            .err()
            .unwrap_or_else(|| panic!("{text}: accepted"))
            .in_file(Path::new("plan.json"));
        assert_eq!(got, format!("plan.json:1:{column}: {want}"), "{text}");
    }
    // A key given twice.
    let text = r#"{"format_version": "1.2", "resource_changes": [], "format_version": "0.1"}"#;
    let e = terraform::parse(text, Path::new("plan.json"))
        .err()
        .unwrap();
    assert_eq!(
        e.in_file(Path::new("plan.json")),
        "plan.json:1:51: plan: \"format_version\" is given twice in one object: which one counts would be a guess"
    );

    // What Terraform does write is read.
    let mut m = model(HUB);
    // An empty plan: Terraform omits `resource_changes`.
    let p = terraform::parse(&json!({"format_version": "1.2", "planned_values": {"root_module": {}}, "applyable": false, "complete": true, "errored": false}).to_string(), Path::new("plan.json")).unwrap();
    let applied = terraform::apply(&mut m, &p).unwrap();
    assert!(
        applied.applied.is_empty() && applied.not_understood.is_empty(),
        "{applied:?}"
    );
    // `forget` leaves AWS as it is; `create`+`forget` creates the new object.
    let p = terraform::parse(
        &with_changes(json!([route(json!(["forget"]))])).to_string(),
        Path::new("plan.json"),
    )
    .unwrap();
    let applied = terraform::apply(&mut m, &p).unwrap();
    assert!(
        applied.applied.is_empty() && applied.touched.is_empty(),
        "{applied:?}"
    );
    let p = terraform::parse(
        &with_changes(json!([route(json!(["create", "forget"]))])).to_string(),
        Path::new("plan.json"),
    )
    .unwrap();
    let applied = terraform::apply(&mut m, &p).unwrap();
    assert_eq!(applied.applied.len(), 1, "{applied:?}");
    assert!(has_route(
        &m,
        AUDIT_MAIN,
        "10.9.0.0/16",
        "igw-0123456789abcdef0"
    ));
    // Changes Terraform deferred are listed as not applied, never dropped.
    let p = terraform::parse(
        &json!({"format_version": "1.2", "planned_values": {}, "complete": false,
                "deferred_changes": [{"reason": "resource_config_unknown", "resource_change": {"address": "aws_route.later"}}]})
        .to_string(),
        Path::new("plan.json"),
    )
    .unwrap();
    let applied = terraform::apply(&mut model(HUB), &p).unwrap();
    assert_eq!(
        applied.not_understood,
        [
            "aws_route.later: deferred by Terraform (resource_config_unknown): not in this plan, so not applied"
        ]
    );
}

/// Through the binary: a change file with `"DryRun": "true"` and a plan with
/// `resource_changes: null` exit 2 with `FILE:LINE:COLUMN:`, and print no report.
#[test]
fn what_if_refuses_lax_inputs_with_exit_2() {
    let dir = Dir::new();
    dir.write(
        "dry-run.json",
        format!("[\n  {{\"Action\": \"CreateRoute\", \"RouteTableId\": \"{AUDIT_MAIN}\", \"DestinationCidrBlock\": \"10.9.0.0/16\",\n   \"GatewayId\": \"igw-0123456789abcdef0\", \"DryRun\": \"true\"}}\n]\n"),
    );
    dir.write(
        "null.tfplan.json",
        "{\"format_version\": \"1.2\",\n \"planned_values\": {},\n \"resource_changes\": null}\n",
    );
    for (file, flag, want) in [
        (
            "dry-run.json",
            "--change",
            "dry-run.json:3:52: operation 1 (CreateRoute): DryRun must be a boolean (true or false), not a string (\"true\")",
        ),
        (
            "null.tfplan.json",
            "--terraform-plan",
            "null.tfplan.json:3:22: plan: resource_changes must be a list of resource changes, not null",
        ),
    ] {
        let out = TestCommand::new(["what-if"])
            .arg(topology(HUB))
            .arg(flag)
            .arg(dir.path().join(file))
            .run();
        assert_eq!(out.code, 2, "{out:?}");
        assert_eq!(out.stdout, "", "{file}: no report");
        assert_eq!(
            out.stderr,
            format!("peerscope: {}/{want}\n", dir.path().display()),
            "{file}"
        );
    }
}

/// A route and a rule are analysed over their region: the (source VPC, destination subnet)
/// pairs they can change, fewer than every flow of the VPCs they touch; and the answer is the
/// one over those whole VPCs (`file_report` holds every change file to that).
#[test]
fn a_route_and_a_rule_are_analysed_over_their_region() {
    use peerscope::diff::region::region;
    let before = model(HUB);
    let mut after = before.clone();
    let text = std::fs::read_to_string(change_file("risky-audit-to-prod-app.json")).unwrap();
    let path = change_file("risky-audit-to-prod-app.json");
    let applied = ec2::apply(&mut after, &ec2::parse(&text, &path).unwrap()).unwrap();
    let pairs = region(&before, &after, &applied.touched).expect("routes and rules have a region");
    assert!(!pairs.is_empty());
    let near = before.neighbourhood(&applied.touched);
    let whole: usize = near
        .iter()
        .map(|v| before.index().subnets_of(v).len())
        .sum::<usize>()
        * near.len();
    let got: usize = pairs.values().map(|d| d.len()).sum();
    assert!(
        got < whole,
        "{got} pairs, {whole} over the whole VPCs: {pairs:?}"
    );
    // Every destination subnet meets the route's prefix or the rule's peer, or is one of the
    // subnets using the table or holding the group's members.
    let prefix: ipnet::IpNet = "10.1.1.0/24".parse().unwrap();
    let peer: ipnet::IpNet = "10.3.0.0/16".parse().unwrap();
    let table = &before.route_tables[&RouteTableId::new("rtb-0e953188896477655")];
    let members: BTreeSet<&SubnetId> = before
        .index()
        .members_of(&SecurityGroupId::new("sg-00a04ac4f50161980"))
        .iter()
        .filter_map(|e| before.network_interfaces.get(e))
        .map(|e| &e.subnet)
        .collect();
    for d in pairs.values().flatten() {
        let s = &before.subnets[d];
        let meets = s
            .cidrs
            .iter()
            .any(|c| c.contains(&prefix.network()) || peer.contains(&c.network()));
        let using = before.index().route_table_of(s) == Some(&table.id);
        assert!(
            meets || using || members.contains(d),
            "{d} is in the region for no reason"
        );
    }
    // A structural change (a new association) has no region: the VPCs are analysed whole.
    let mut moved = before.clone();
    let applied = apply(
        &mut moved,
        json!([{"Action": "ReplaceNetworkAclAssociation", "AssociationId": "aclassoc-095a03325b38cd122", "NetworkAclId": "acl-025d3a62e946ab4af"}]),
    )
    .unwrap();
    assert!(region(&before, &moved, &applied.touched).is_none());
}

/// `what-if --output FORMAT=PATH`: each format from the one analysis, byte for byte what
/// `--format` prints.
#[test]
fn what_if_writes_every_output_asked_for() {
    let dir = Dir::new();
    let (sarif, md) = (dir.path().join("w.sarif"), dir.path().join("w.md"));
    let base = |extra: Vec<String>| {
        let mut c = TestCommand::new(["what-if"])
            .arg(topology(HUB))
            .arg("--change")
            .arg(change_file("risky-audit-to-prod-app.json"));
        for a in extra {
            c = c.arg(a);
        }
        c.run()
    };
    let out = base(vec![
        "--output".into(),
        format!("sarif={}", sarif.display()),
        "--output".into(),
        format!("markdown={}", md.display()),
        "--output".into(),
        "json=-".into(),
    ]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    let single = |f: &str| base(vec!["--format".into(), f.into()]).stdout;
    assert_eq!(out.stdout, single("json"));
    assert_eq!(std::fs::read_to_string(&sarif).unwrap(), single("sarif"));
    assert_eq!(std::fs::read_to_string(&md).unwrap(), single("markdown"));
}
