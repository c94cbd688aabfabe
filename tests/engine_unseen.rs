//! Peers you cannot see (semantics steps 21–23), one rule per test: VPCs known only from a
//! peering record, flows from them (worst case on their side, your side decides) and into
//! them (`unseen-peer`). Every case goes through `check`, so `reach` is held to the same answer.

use peerscope::engine::explain::{ExplainError, explain};
use peerscope::engine::reach::{ReachOptions, reach};
use peerscope::engine::{Layer, Reason};
use peerscope::model::{AccountId, Model, Region, VpcId};

use crate::engine_fixture::*;

use Layer::{Full, Network};

const PARTNER: &str = "999999999999";

/// Your VPC and a partner's you cannot read:
/// - vpc-a 10.0.0.0/16 (account 111111111111): subnet-a1 10.0.1.0/24, subnet-a2 10.0.2.0/24,
///   main table rtb-a [10.0.0.0/16 local, 172.20.0.0/16 → pcx-p], open NACL acl-a1 on
///   subnet-a1 (subnet-a2's NACL is up to each test);
/// - vpc-p, known only from `pcx-p` (active, requester vpc-p, owner 999999999999, its side
///   listing 172.20.0.0/16).
fn partner() -> Fixture {
    Fixture::new()
        .vpc("vpc-a", ACCOUNT, REGION, &["10.0.0.0/16"])
        .subnet("subnet-a1", "vpc-a", "10.0.1.0/24")
        .subnet("subnet-a2", "vpc-a", "10.0.2.0/24")
        .open_nacl("acl-a1", "vpc-a", false, &["subnet-a1"])
        .peering("pcx-p", "active", "vpc-p", "vpc-a")
        .peering_cidrs("pcx-p", "vpc-p", &["172.20.0.0/16"])
        .peering_owner("pcx-p", "vpc-p", PARTNER)
        .route_table("rtb-a", "vpc-a", true, &[])
        .route("rtb-a", "10.0.0.0/16", "local")
        .route("rtb-a", "172.20.0.0/16", "pcx-p")
}

/// [`partner`] with interfaces: eni-a1 10.0.1.10 in sg-a1 (ingress tcp:443 from
/// 172.20.1.0/24, tcp:22 from its own group), eni-a2 10.0.2.10 in the open sg-open.
fn partner_full() -> Fixture {
    partner()
        .sg("sg-a1", "vpc-a")
        .sg_in("sg-a1", "tcp 443 172.20.1.0/24")
        .sg_in("sg-a1", "tcp 22 sg-a1")
        .sg_out("sg-a1", "-1 all 0.0.0.0/0")
        .open_sg("sg-open", "vpc-a")
        .eni("eni-a1", "subnet-a1", &["10.0.1.10"], &["sg-a1"])
        .eni("eni-a2", "subnet-a2", &["10.0.2.10"], &["sg-open"])
}

fn from_p(dst: &str, svc: &str) -> peerscope::engine::Flow {
    flow("vpc-p", "172.20.1.5", dst, svc)
}

// ---- step 21: what an unseen VPC is ----------------------------------------------------------

#[test]
fn a_vpc_named_only_by_a_peering_record_is_unseen_with_the_cidrs_of_its_side() {
    let m = partner()
        .vpc("vpc-b", ACCOUNT, REGION, &["10.1.0.0/16"])
        .peering("pcx-q", "pending-acceptance", "vpc-p", "vpc-b")
        .peering_cidrs("pcx-q", "vpc-p", &["172.21.0.0/16", "172.20.0.0/16"])
        .build();
    let unseen: Vec<&VpcId> = m.unseen_vpcs().keys().collect();
    assert_eq!(
        unseen,
        [&VpcId::new("vpc-p")],
        "vpc-a and vpc-b have records"
    );
    let u = m.unseen_vpc(&VpcId::new("vpc-p")).unwrap();
    // The union over its connections, active or not.
    assert_eq!(u.cidrs, [net("172.20.0.0/16"), net("172.21.0.0/16")]);
    assert_eq!(u.peerings.len(), 2);
    assert_eq!(u.account, Some(AccountId::new(PARTNER)));
    assert_eq!(m.account_of(&u.id), Some(&AccountId::new(PARTNER)));
}

#[test]
fn an_unseen_side_without_a_region_takes_the_region_of_the_file_that_recorded_it() {
    let dir = tempfile::tempdir().unwrap();
    let at = dir.path().join("111111111111/eu-west-1");
    std::fs::create_dir_all(&at).unwrap();
    std::fs::write(
        at.join("describe-vpcs.json"),
        r#"{"Vpcs": [{"VpcId": "vpc-a", "OwnerId": "111111111111", "CidrBlock": "10.0.0.0/16"}]}"#,
    )
    .unwrap();
    std::fs::write(
        at.join("describe-vpc-peering-connections.json"),
        r#"{"VpcPeeringConnections": [{"VpcPeeringConnectionId": "pcx-p", "Status": {"Code": "active"},
            "RequesterVpcInfo": {"VpcId": "vpc-p", "OwnerId": "999999999999", "CidrBlock": "172.20.0.0/16"},
            "AccepterVpcInfo": {"VpcId": "vpc-a", "OwnerId": "111111111111", "CidrBlock": "10.0.0.0/16"}}]}"#,
    )
    .unwrap();
    let loaded = peerscope::snapshot::load(dir.path()).unwrap();
    let u = loaded.model.unseen_vpc(&VpcId::new("vpc-p")).unwrap();
    assert_eq!(u.region, Some(Region::new("eu-west-1")));
    // The normal case (an external account) is an info, not a warning.
    let d: Vec<String> = loaded.diagnostics.iter().map(|d| d.to_string()).collect();
    assert!(
        d.iter().any(|d| d.starts_with("info[unseen-vpc]")),
        "{d:#?}"
    );
}

#[test]
fn an_unseen_vpc_of_a_collected_account_is_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let at = dir.path().join("111111111111/us-east-1");
    std::fs::create_dir_all(&at).unwrap();
    std::fs::write(
        at.join("describe-vpcs.json"),
        r#"{"Vpcs": [{"VpcId": "vpc-a", "OwnerId": "111111111111", "CidrBlock": "10.0.0.0/16"}]}"#,
    )
    .unwrap();
    std::fs::write(
        at.join("describe-vpc-peering-connections.json"),
        r#"{"VpcPeeringConnections": [{"VpcPeeringConnectionId": "pcx-p", "Status": {"Code": "active"},
            "RequesterVpcInfo": {"VpcId": "vpc-gone", "OwnerId": "111111111111", "CidrBlock": "10.9.0.0/16", "Region": "us-east-1"},
            "AccepterVpcInfo": {"VpcId": "vpc-a", "OwnerId": "111111111111", "CidrBlock": "10.0.0.0/16"}}]}"#,
    )
    .unwrap();
    let loaded = peerscope::snapshot::load(dir.path()).unwrap();
    let d: Vec<String> = loaded.diagnostics.iter().map(|d| d.to_string()).collect();
    assert!(
        d.iter()
            .any(|d| d.starts_with("warning[unseen-vpc]") && d.contains("vpc-gone")),
        "{d:#?}"
    );
}

// ---- step 22: from an unseen VPC ---------------------------------------------------------------

#[test]
fn from_an_unseen_vpc_only_your_side_decides_and_the_path_starts_at_the_peering() {
    // No source subnet, route table or egress NACL: the partner's side is the worst case.
    check(
        &partner().build(),
        from_p("10.0.1.10", "tcp/22"),
        Network,
        "connectable: pcx-p > subnet-a1 > acl-a1",
    );
}

#[test]
fn a_source_outside_the_unseen_vpcs_cidrs_is_a_query_error() {
    let m = partner().build();
    let err = explain(
        &m,
        &flow("vpc-p", "172.21.0.1", "10.0.1.10", "tcp/22"),
        Network,
    )
    .unwrap_err();
    assert!(matches!(err, ExplainError::NotInUnseenVpc { .. }), "{err}");
}

#[test]
fn a_destination_outside_every_active_connections_cidrs_is_no_route() {
    let m = partner().build();
    // 10.9.0.1 is not in the CIDRs pcx-p lists for vpc-a.
    check(&m, from_p("10.9.0.1", "tcp/22"), Network, "no-route:");
}

#[test]
fn only_inactive_connections_toward_the_destination_is_peering_inactive() {
    let m = Fixture::new()
        .vpc("vpc-a", ACCOUNT, REGION, &["10.0.0.0/16"])
        .subnet("subnet-a1", "vpc-a", "10.0.1.0/24")
        .peering("pcx-p", "pending-acceptance", "vpc-p", "vpc-a")
        .peering_cidrs("pcx-p", "vpc-p", &["172.20.0.0/16"])
        .route_table("rtb-a", "vpc-a", true, &[])
        .route("rtb-a", "10.0.0.0/16", "local")
        .route("rtb-a", "172.20.0.0/16", "pcx-p")
        .build();
    check(
        &m,
        from_p("10.0.1.10", "tcp/22"),
        Network,
        "peering-inactive: pcx-p",
    );
    // And into it: the route's connection is not active.
    check(
        &m,
        flow("vpc-a", "10.0.1.10", "172.20.1.5", "tcp/22"),
        Network,
        "peering-inactive: subnet-a1 > rtb-a > pcx-p",
    );
}

#[test]
fn an_address_of_the_peer_cidr_in_no_subnet_is_no_subnet() {
    check(
        &partner().build(),
        from_p("10.0.200.1", "tcp/22"),
        Network,
        "no-subnet: pcx-p",
    );
}

#[test]
fn full_layer_needs_an_interface_at_the_destination() {
    check(
        &partner_full().build(),
        from_p("10.0.1.99", "tcp/443"),
        Full,
        "no-eni: pcx-p > subnet-a1",
    );
}

#[test]
fn the_destination_nacl_ingress_filters_an_unseen_source() {
    let m = partner()
        .nacl("acl-deny", "vpc-a", false, &["subnet-a2"])
        .nacl_in("acl-deny", "100 deny all all 172.20.0.0/16")
        .nacl_in("acl-deny", "200 allow all all 0.0.0.0/0")
        .nacl_out("acl-deny", "100 allow all all 0.0.0.0/0")
        .build();
    check(
        &m,
        from_p("10.0.2.10", "tcp/443"),
        Network,
        "nacl-ingress: pcx-p > subnet-a2 > acl-deny",
    );
}

#[test]
fn destination_groups_admit_an_unseen_source_by_cidr_but_never_by_group_reference() {
    let m = partner_full().build();
    check(
        &m,
        from_p("10.0.1.10", "tcp/443"),
        Full,
        "connectable: pcx-p > subnet-a1 > acl-a1 > sg-a1 > eni-a1",
    );
    // tcp:22 is admitted only from members of sg-a1: an unseen source is none.
    check(
        &m,
        from_p("10.0.1.10", "tcp/22"),
        Full,
        "sg-ingress: pcx-p > subnet-a1 > acl-a1 > sg-a1",
    );
    // 172.20.9.5 is outside the rule's 172.20.1.0/24.
    check(
        &m,
        flow("vpc-p", "172.20.9.5", "10.0.1.10", "tcp/443"),
        Full,
        "sg-ingress: pcx-p > subnet-a1 > acl-a1 > sg-a1",
    );
}

#[test]
fn replies_must_route_back_over_the_same_connection() {
    // vpc-a has no route back to the partner: delivered (exposure), not connectable.
    let m = Fixture::new()
        .vpc("vpc-a", ACCOUNT, REGION, &["10.0.0.0/16"])
        .subnet("subnet-a1", "vpc-a", "10.0.1.0/24")
        .open_nacl("acl-a1", "vpc-a", true, &[])
        .peering("pcx-p", "active", "vpc-p", "vpc-a")
        .peering_cidrs("pcx-p", "vpc-p", &["172.20.0.0/16"])
        .route_table("rtb-a", "vpc-a", true, &[])
        .route("rtb-a", "10.0.0.0/16", "local");
    check(
        &m.clone().build(),
        from_p("10.0.1.10", "tcp/22"),
        Network,
        "return-route: pcx-p > subnet-a1 > acl-a1",
    );
    // A blackhole route to the connection does not carry replies.
    check(
        &m.clone()
            .blackhole("rtb-a", "172.20.0.0/16", "pcx-p")
            .build(),
        from_p("10.0.1.10", "tcp/22"),
        Network,
        "return-route: pcx-p > subnet-a1 > acl-a1",
    );
    // Neither does a route that wins the match for the source but goes elsewhere.
    check(
        &m.route("rtb-a", "172.20.0.0/16", "pcx-p")
            .route("rtb-a", "172.20.1.0/24", "igw-1")
            .build(),
        from_p("10.0.1.10", "tcp/22"),
        Network,
        "return-route: pcx-p > subnet-a1 > acl-a1",
    );
}

#[test]
fn replies_need_the_destination_nacl_egress_and_nothing_on_the_unseen_side() {
    let m = partner()
        .nacl("acl-in-only", "vpc-a", false, &["subnet-a2"])
        .nacl_in("acl-in-only", "100 allow all all 0.0.0.0/0")
        .nacl_out("acl-in-only", "100 allow tcp 0-1023 172.20.0.0/16")
        .build();
    check(
        &m,
        from_p("10.0.2.10", "tcp/443"),
        Network,
        "return-nacl: pcx-p > subnet-a2 > acl-in-only",
    );
}

#[test]
fn with_several_connections_the_first_connectable_one_is_shown() {
    // vpc-p peers with vpc-a (pcx-p) and vpc-b (pcx-q), whose CIDRs overlap. vpc-a routes no
    // reply back, vpc-b does: delivered over both, connectable over pcx-q.
    let m = Fixture::new()
        .vpc("vpc-a", ACCOUNT, REGION, &["10.0.0.0/16"])
        .vpc("vpc-b", "222222222222", REGION, &["10.0.0.0/16"])
        .subnet("subnet-a1", "vpc-a", "10.0.1.0/24")
        .subnet("subnet-b1", "vpc-b", "10.0.1.0/24")
        .open_nacl("acl-a", "vpc-a", true, &[])
        .open_nacl("acl-b", "vpc-b", true, &[])
        .peering("pcx-p", "active", "vpc-p", "vpc-a")
        .peering_cidrs("pcx-p", "vpc-p", &["172.20.0.0/16"])
        .peering("pcx-q", "active", "vpc-p", "vpc-b")
        .peering_cidrs("pcx-q", "vpc-p", &["172.20.0.0/16"])
        .route_table("rtb-a", "vpc-a", true, &[])
        .route("rtb-a", "10.0.0.0/16", "local")
        .route_table("rtb-b", "vpc-b", true, &[])
        .route("rtb-b", "10.0.0.0/16", "local")
        .route("rtb-b", "172.20.0.0/16", "pcx-q")
        .build();
    check(
        &m,
        from_p("10.0.1.10", "tcp/22"),
        Network,
        "connectable: pcx-q > subnet-b1 > acl-b",
    );
    let rows = reach(&m, &ReachOptions::default());
    let vias: Vec<(String, bool)> = rows
        .iter()
        .filter(|r| r.src_vpc.as_str() == "vpc-p")
        .map(|r| (r.via.to_string(), r.connectable))
        .collect();
    assert_eq!(
        vias,
        [("pcx-p".to_owned(), false), ("pcx-q".to_owned(), true)]
    );
}

#[test]
fn an_unseen_vpc_with_two_connections_sends_its_whole_address_union_over_each() {
    // pcx-q lists 172.21.0.0/16 for vpc-p; pcx-p lists 172.20.0.0/16. Its addresses are both:
    // 172.21.1.5 may send over pcx-p too (its side is not checked), and vpc-a's route for it
    // (172.16.0.0/12 → pcx-p) carries the reply.
    let m = partner()
        .vpc("vpc-b", ACCOUNT, REGION, &["10.1.0.0/16"])
        .subnet("subnet-b1", "vpc-b", "10.1.1.0/24")
        .open_nacl("acl-b", "vpc-b", true, &[])
        .peering("pcx-q", "active", "vpc-p", "vpc-b")
        .peering_cidrs("pcx-q", "vpc-p", &["172.21.0.0/16"])
        .route("rtb-a", "172.16.0.0/12", "pcx-p")
        .build();
    check(
        &m,
        flow("vpc-p", "172.21.1.5", "10.0.1.10", "tcp/22"),
        Network,
        "connectable: pcx-p > subnet-a1 > acl-a1",
    );
    // vpc-b has no route table: delivered, no reply.
    check(
        &m,
        flow("vpc-p", "172.20.1.5", "10.1.1.10", "tcp/22"),
        Network,
        "return-route: pcx-q > subnet-b1 > acl-b",
    );
}

#[test]
fn ipv6_cidr_sets_of_an_unseen_side_are_its_addresses() {
    let m = Fixture::new()
        .vpc(
            "vpc-a",
            ACCOUNT,
            REGION,
            &["10.0.0.0/16", "2600:1f18:a::/56"],
        )
        .subnet_cidrs("subnet-a1", "vpc-a", &["10.0.1.0/24", "2600:1f18:a:1::/64"])
        .open_nacl("acl-a", "vpc-a", true, &[])
        .peering("pcx-p", "active", "vpc-p", "vpc-a")
        .peering_cidrs("pcx-p", "vpc-p", &["172.20.0.0/16", "2600:1f18:f::/56"])
        .route_table("rtb-a", "vpc-a", true, &[])
        .route("rtb-a", "10.0.0.0/16", "local")
        .route("rtb-a", "2600:1f18:a::/56", "local")
        .route("rtb-a", "2600:1f18:f::/56", "pcx-p")
        .build();
    check(
        &m,
        flow("vpc-p", "2600:1f18:f::5", "2600:1f18:a:1::10", "tcp/443"),
        Network,
        "connectable: pcx-p > subnet-a1 > acl-a",
    );
    // IPv4 replies have no route back.
    check(
        &m,
        flow("vpc-p", "172.20.1.5", "10.0.1.10", "tcp/443"),
        Network,
        "return-route: pcx-p > subnet-a1 > acl-a",
    );
}

// ---- step 23: into an unseen VPC ---------------------------------------------------------------

#[test]
fn into_an_unseen_vpc_ends_as_unseen_peer_before_any_filter() {
    let m = partner_full()
        .sg("sg-closed", "vpc-a")
        .eni("eni-closed", "subnet-a2", &["10.0.2.20"], &["sg-closed"])
        .build();
    check(
        &m,
        flow("vpc-a", "10.0.1.10", "172.20.1.5", "tcp/443"),
        Network,
        "unseen-peer: subnet-a1 > rtb-a > pcx-p",
    );
    // A routing reason: the source's groups (no egress rule at all) are not reached.
    check(
        &m,
        eni_flow(&m, "eni-closed", "172.20.1.5", "tcp/443"),
        Full,
        "unseen-peer: eni-closed > subnet-a2 > rtb-a > pcx-p",
    );
}

#[test]
fn into_an_unseen_vpc_outside_the_cidrs_its_record_lists_is_not_in_peer_cidr() {
    let m = partner().route("rtb-a", "172.16.0.0/12", "pcx-p").build();
    check(
        &m,
        flow("vpc-a", "10.0.1.10", "172.21.0.1", "tcp/443"),
        Network,
        "not-in-peer-cidr: subnet-a1 > rtb-a > pcx-p",
    );
}

#[test]
fn overlapping_unseen_and_seen_peers_route_by_longest_match_both_ways() {
    // vpc-c (seen) and vpc-p (unseen) both use 172.20.0.0/16; vpc-a sends 172.20.1.0/24 to
    // vpc-c and the rest of 172.20.0.0/16 to the partner.
    let m = partner()
        .vpc("vpc-c", ACCOUNT, REGION, &["172.20.0.0/16"])
        .subnet("subnet-c1", "vpc-c", "172.20.1.0/24")
        .open_nacl("acl-c", "vpc-c", true, &[])
        .peering("pcx-c", "active", "vpc-a", "vpc-c")
        .route("rtb-a", "172.20.1.0/24", "pcx-c")
        .route_table("rtb-c", "vpc-c", true, &[])
        .route("rtb-c", "172.20.0.0/16", "local")
        .route("rtb-c", "10.0.0.0/16", "pcx-c")
        .build();
    check(
        &m,
        flow("vpc-a", "10.0.1.10", "172.20.1.5", "tcp/443"),
        Network,
        "connectable: subnet-a1 > rtb-a > pcx-c > subnet-c1 > acl-a1 > acl-c",
    );
    check(
        &m,
        flow("vpc-a", "10.0.1.10", "172.20.2.5", "tcp/443"),
        Network,
        "unseen-peer: subnet-a1 > rtb-a > pcx-p",
    );
    // The partner's 172.20.1.5 arrives, but vpc-a's reply goes to vpc-c.
    check(
        &m,
        from_p("10.0.1.10", "tcp/443"),
        Network,
        "return-route: pcx-p > subnet-a1 > acl-a1",
    );
    // vpc-c's own 172.20.1.5 is not the partner's: its flow is an ordinary one.
    check(
        &m,
        flow("vpc-c", "172.20.1.5", "10.0.1.10", "tcp/443"),
        Network,
        "connectable: subnet-c1 > rtb-c > pcx-c > subnet-a1 > acl-c > acl-a1",
    );
}

#[test]
fn reach_never_delivers_into_an_unseen_vpc() {
    let m: Model = partner_full().build();
    for layer in [Network, Full] {
        let rows = reach(
            &m,
            &ReachOptions {
                layer: Some(layer),
                include_intra_vpc: true,
                ..Default::default()
            },
        );
        assert!(rows.iter().all(|r| r.dst_vpc.as_str() != "vpc-p"));
        assert!(rows.iter().any(|r| r.src_vpc.as_str() == "vpc-p"));
    }
    // And explain agrees on the reason.
    let e = explain(
        &m,
        &flow("vpc-a", "10.0.1.10", "172.20.1.5", "udp/53"),
        Network,
    )
    .unwrap();
    assert_eq!(e.reason, Some(Reason::UnseenPeer));
}
