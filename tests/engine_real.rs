//! The engine on real snapshots from Batfish's AWS tests, against verdicts derived by hand from
//! the JSON. Each case's comment shows the derivation: the route table and route that decide,
//! the NACL entry and the security-group rule.
//!
//! Every case goes through `check` (in `engine_fixture`), so `reach` is held to the same
//! answers.

use std::collections::BTreeSet;
use std::path::Path;

use peerscope::engine::Layer::{Full, Network};
use peerscope::engine::reach::{ReachOptions, reach};
use peerscope::engine::{Flow, Layer};
use peerscope::model::*;

use crate::engine_fixture::*;

/// Under the real-world snapshots' folder (`crate::util::external_root`).
const PEERING: &str = "batfish/representation/aws/test-vpc-peering/aws_configs";
const MULTI_ACCOUNT: &str = "batfish/representation/aws/test-vpc-peering-multi-account/aws_configs";

/// The model of a real snapshot; returns from the calling test when the snapshots are absent.
macro_rules! load {
    ($rel:expr) => {
        load_path(&external_or_skip!($rel))
    };
}

fn load_path(path: &Path) -> Model {
    let loaded = peerscope::snapshot::load(path)
        .unwrap_or_else(|e| panic!("{}: load failed: {e}", path.display()));
    loaded.model
}

/// (source VPC, destination VPC, via) of every reach row between two VPCs, and whether all of
/// them are connectable.
fn inter_vpc_pairs(m: &Model, layer: Layer) -> (BTreeSet<(String, String, String)>, bool) {
    let rows = reach(
        m,
        &ReachOptions {
            layer: Some(layer),
            ..ReachOptions::default()
        },
    );
    let pairs = rows
        .iter()
        .map(|r| {
            (
                r.src_vpc.to_string(),
                r.dst_vpc.to_string(),
                r.via.to_string(),
            )
        })
        .collect();
    (pairs, rows.iter().all(|r| r.connectable))
}

fn triple(a: &str, b: &str, via: &str) -> (String, String, String) {
    (a.to_owned(), b.to_owned(), via.to_owned())
}

// ---------------------------------------------------------------------------------------------
// test-vpc-peering: one account, us-east-2 (from the subnets' zones); VPC A 10.10.0.0/16 peers
// with B and C, which both use 192.168.0.0/16 (their 192.169.0.0/16 blocks are disassociated).
//
//   A vpc-0404e08ceddf7f650: subnet-006a19c846f047bd7 10.10.10.0/24; main rtb-0891861fffaea6d52:
//     192.168.1.0/24 → pcx-0b89b559e3319d6cf, 192.168.2.0/24 → pcx-0d5b836985ac8ca8c,
//     10.10.0.0/16 local.
//   B vpc-00a31ce9d0c06675c: subnet-0ebf6378a79a3e534 192.168.1.0/24; main rtb-017c36290c9baf017:
//     192.168.0.0/16 local, 10.10.0.0/16 → pcx-0b89…, 0.0.0.0/0 → igw-0a2c9ae201b441bff
//     (State blackhole).
//   C vpc-09095dbf2886404ee: subnet-0af94b59d214ff20a 192.168.2.0/24; main rtb-0890ea815555d4457:
//     192.168.0.0/16 local, 10.10.0.0/16 → pcx-0d5b….
//
// pcx-0b89… (A–B) and pcx-0d5b… (A–C) are active, both sides us-east-2. Each subnet has its
// own NACL: 100 allow -1 0.0.0.0/0, 32767 deny, both ways (A acl-0b0c7a5db2fc8fa08, B
// acl-060c3d111b1e1692d, C acl-01dee4c0b49e0f2a2). One instance per subnet, its ENI in one
// launch-wizard group: ingress tcp 22 from 0.0.0.0/0 only, egress -1 to 0.0.0.0/0.
//   A eni-0f0708220e812876c 10.10.10.157  sg-09606ce9642cac154
//   B eni-0024c0af5aa1387e5 192.168.1.106 sg-065c26b39e45ae384
//   C eni-06347554b65539ff3 192.168.2.229 sg-0b3df494998412a48
// ---------------------------------------------------------------------------------------------

const A_VPC: &str = "vpc-0404e08ceddf7f650";
const B_VPC: &str = "vpc-00a31ce9d0c06675c";
const C_VPC: &str = "vpc-09095dbf2886404ee";
const A_ENI: &str = "eni-0f0708220e812876c";
const B_ENI: &str = "eni-0024c0af5aa1387e5";
const C_ENI: &str = "eni-06347554b65539ff3";

#[test]
fn test_vpc_peering_a_reaches_b_and_c_over_their_own_peerings() {
    let m = load!(PEERING);
    // A → 192.168.1.106: rtb-0891… 192.168.1.0/24 → pcx-0b89… (the /24 beats nothing else);
    // B's side of the record is 192.168.0.0/16 and subnet-0ebf… holds it. sg-0960… egress -1
    // 0.0.0.0/0; NACL 100 allow both; sg-065c… ingress tcp 22 0.0.0.0/0. Replies:
    // rtb-017c… 10.10.0.0/16 → pcx-0b89…, the same connection; NACL rule 100 both ways.
    check(
        &m,
        eni_flow(&m, A_ENI, "192.168.1.106", "tcp/22"),
        Full,
        "connectable: eni-0f0708220e812876c > subnet-006a19c846f047bd7 > rtb-0891861fffaea6d52 \
         > pcx-0b89b559e3319d6cf > subnet-0ebf6378a79a3e534 > sg-09606ce9642cac154 \
         > acl-0b0c7a5db2fc8fa08 > acl-060c3d111b1e1692d > sg-065c26b39e45ae384 \
         > eni-0024c0af5aa1387e5",
    );
    // A → 192.168.2.229: 192.168.2.0/24 → pcx-0d5b… into C (not B, though B's CIDR holds the
    // address too); sg-0b3d… admits tcp 22; replies via rtb-0890… 10.10.0.0/16 → pcx-0d5b….
    check(
        &m,
        eni_flow(&m, A_ENI, "192.168.2.229", "tcp/22"),
        Full,
        "connectable: eni-0f0708220e812876c > subnet-006a19c846f047bd7 > rtb-0891861fffaea6d52 \
         > pcx-0d5b836985ac8ca8c > subnet-0af94b59d214ff20a > sg-09606ce9642cac154 \
         > acl-0b0c7a5db2fc8fa08 > acl-01dee4c0b49e0f2a2 > sg-0b3df494998412a48 \
         > eni-06347554b65539ff3",
    );
    // tcp/443: the network layer delivers (NACL -1 allow); sg-065c… admits only tcp 22.
    check(
        &m,
        eni_flow(&m, A_ENI, "192.168.1.106", "tcp/443"),
        Full,
        "sg-ingress: eni-0f0708220e812876c > subnet-006a19c846f047bd7 > rtb-0891861fffaea6d52 \
         > pcx-0b89b559e3319d6cf > subnet-0ebf6378a79a3e534 > sg-09606ce9642cac154 \
         > acl-0b0c7a5db2fc8fa08 > acl-060c3d111b1e1692d > sg-065c26b39e45ae384",
    );
    check(
        &m,
        flow(A_VPC, "10.10.10.157", "192.168.1.106", "tcp/443"),
        Network,
        "connectable: subnet-006a19c846f047bd7 > rtb-0891861fffaea6d52 > pcx-0b89b559e3319d6cf \
         > subnet-0ebf6378a79a3e534 > acl-0b0c7a5db2fc8fa08 > acl-060c3d111b1e1692d",
    );
}

#[test]
fn test_vpc_peering_a_has_no_route_to_the_rest_of_192_168() {
    let m = load!(PEERING);
    // 192.168.3.10: rtb-0891… holds 192.168.1.0/24, 192.168.2.0/24 and 10.10.0.0/16 only.
    check(
        &m,
        flow(A_VPC, "10.10.10.157", "192.168.3.10", "tcp/22"),
        Network,
        "no-route: subnet-006a19c846f047bd7 > rtb-0891861fffaea6d52",
    );
    // Nor A's disassociated 10.11.0.0/16: it is not in rtb-0891… either.
    check(
        &m,
        flow(A_VPC, "10.10.10.157", "10.11.0.5", "tcp/22"),
        Network,
        "no-route: subnet-006a19c846f047bd7 > rtb-0891861fffaea6d52",
    );
}

#[test]
fn test_vpc_peering_b_and_c_reach_a_and_nothing_else() {
    let m = load!(PEERING);
    // B → 10.10.10.157: rtb-017c… 10.10.0.0/16 → pcx-0b89…; A's side 10.10.0.0/16;
    // subnet-006a…; sg-065c… egress -1; sg-0960… ingress tcp 22. Replies: rtb-0891…
    // 192.168.1.0/24 → pcx-0b89….
    check(
        &m,
        eni_flow(&m, B_ENI, "10.10.10.157", "tcp/22"),
        Full,
        "connectable: eni-0024c0af5aa1387e5 > subnet-0ebf6378a79a3e534 > rtb-017c36290c9baf017 \
         > pcx-0b89b559e3319d6cf > subnet-006a19c846f047bd7 > sg-065c26b39e45ae384 \
         > acl-060c3d111b1e1692d > acl-0b0c7a5db2fc8fa08 > sg-09606ce9642cac154 \
         > eni-0f0708220e812876c",
    );
    // B → 8.8.8.8: only 0.0.0.0/0 → igw-0a2c9ae201b441bff matches, and it is a blackhole.
    check(
        &m,
        flow(B_VPC, "192.168.1.106", "8.8.8.8", "tcp/443"),
        Network,
        "blackhole: subnet-0ebf6378a79a3e534 > rtb-017c36290c9baf017",
    );
    // B → C's 192.168.2.229: B's own local route 192.168.0.0/16 wins, and B has no subnet
    // there. B and C are not peered, and A does not forward.
    check(
        &m,
        flow(B_VPC, "192.168.1.106", "192.168.2.229", "tcp/22"),
        Network,
        "no-subnet: subnet-0ebf6378a79a3e534 > rtb-017c36290c9baf017",
    );
    // C → A icmp: rtb-0890… 10.10.0.0/16 → pcx-0d5b…; NACLs allow -1; replies via
    // rtb-0891… 192.168.2.0/24 → pcx-0d5b…. sg-0960… admits tcp 22 only: no icmp.
    check(
        &m,
        flow(C_VPC, "192.168.2.229", "10.10.10.157", "icmp"),
        Network,
        "connectable: subnet-0af94b59d214ff20a > rtb-0890ea815555d4457 > pcx-0d5b836985ac8ca8c \
         > subnet-006a19c846f047bd7 > acl-01dee4c0b49e0f2a2 > acl-0b0c7a5db2fc8fa08",
    );
    check(
        &m,
        eni_flow(&m, C_ENI, "10.10.10.157", "icmp"),
        Full,
        "sg-ingress: eni-06347554b65539ff3 > subnet-0af94b59d214ff20a > rtb-0890ea815555d4457 \
         > pcx-0d5b836985ac8ca8c > subnet-006a19c846f047bd7 > sg-0b3df494998412a48 \
         > acl-01dee4c0b49e0f2a2 > acl-0b0c7a5db2fc8fa08 > sg-09606ce9642cac154",
    );
}

#[test]
fn test_vpc_peering_all_pairs_are_a_b_and_a_c_only() {
    let m = load!(PEERING);
    // Network layer: A ⇄ B over pcx-0b89…, A ⇄ C over pcx-0d5b…, all connectable (NACLs
    // allow everything, routes are symmetric); nothing between B and C.
    let (pairs, all_connectable) = inter_vpc_pairs(&m, Network);
    let ab = "pcx-0b89b559e3319d6cf";
    let ac = "pcx-0d5b836985ac8ca8c";
    let want = BTreeSet::from([
        triple(A_VPC, B_VPC, ab),
        triple(A_VPC, C_VPC, ac),
        triple(B_VPC, A_VPC, ab),
        triple(C_VPC, A_VPC, ac),
    ]);
    assert_eq!(pairs, want);
    assert!(all_connectable);
    // Full layer: the same pairs (every group admits tcp 22 from anywhere).
    let (pairs, all_connectable) = inter_vpc_pairs(&m, Full);
    assert_eq!(pairs, want);
    assert!(all_connectable);
}

// ---------------------------------------------------------------------------------------------
// test-vpc-peering-multi-account: accounts 123456789012 and 123456789013 (from the folders),
// us-east-1. No NACL file: NACLs do not filter.
//
//   X vpc-0f44fae3468d2b998 10.1.0.0/16: subnet-03a80d08017ee39ef 10.1.1.0/24, associated with
//     rtb-0039abf2a28b091bb: 10.1.0.0/16 local, 10.2.0.0/16 → pcx-0040f7640e10191f4,
//     0.0.0.0/0 → igw-0ccac11864b23b189 (active). Main rtb-0b373ca59442bb240: local only.
//     eni-0664ca29e3153724d 10.1.1.100 in sg-06804d246c3a853bc.
//   Y vpc-05951c91977125d2e 10.2.0.0/16: subnet-088d6408a3a6129fa 10.2.1.0/24, associated with
//     rtb-00fa109c642f8c07d: 10.1.0.0/16 → pcx-0040…, 10.2.0.0/16 local, 0.0.0.0/0 → igw.
//     eni-0b9f8c68d6cb974a6 10.2.1.252 in sg-0ca8413f923260084.
//   Both groups: ingress udp 33434-33534, tcp 22, icmp (type 8) from 0.0.0.0/0; egress -1.
//   pcx-0040… X ⇄ Y active; pcx-00eeab4f3bd2a40da and pcx-07d8d712b329b9337 deleted (between
//   VPCs outside the snapshot; no route names them).
// ---------------------------------------------------------------------------------------------

const X_VPC: &str = "vpc-0f44fae3468d2b998";
const Y_VPC: &str = "vpc-05951c91977125d2e";
const X_ENI: &str = "eni-0664ca29e3153724d";
const Y_ENI: &str = "eni-0b9f8c68d6cb974a6";

/// The full-layer path X → Y when both groups pass.
const X_TO_Y: &str = "eni-0664ca29e3153724d > subnet-03a80d08017ee39ef > rtb-0039abf2a28b091bb \
     > pcx-0040f7640e10191f4 > subnet-088d6408a3a6129fa > sg-06804d246c3a853bc \
     > (no NACL data for subnet-03a80d08017ee39ef) > (no NACL data for subnet-088d6408a3a6129fa) \
     > sg-0ca8413f923260084";

#[test]
fn multi_account_active_peering_carries_what_the_groups_admit() {
    let m = load!(MULTI_ACCOUNT);
    // X → Y: rtb-0039… 10.2.0.0/16 → pcx-0040… (active; Y's side 10.2.0.0/16), into
    // subnet-088d…; no NACL data; sg-0680… egress -1; sg-0ca8… ingress decides. Replies:
    // rtb-00fa… 10.1.0.0/16 → pcx-0040….
    for svc in ["tcp/22", "udp/33434", "udp/33534", "icmp"] {
        check(
            &m,
            eni_flow(&m, X_ENI, "10.2.1.252", svc),
            Full,
            &format!("connectable: {X_TO_Y} > eni-0b9f8c68d6cb974a6"),
        );
    }
    for svc in ["tcp/443", "udp/33535", "udp/33433", "icmpv6"] {
        check(
            &m,
            eni_flow(&m, X_ENI, "10.2.1.252", svc),
            Full,
            &format!("sg-ingress: {X_TO_Y}"),
        );
    }
    // Y → X, symmetric.
    check(
        &m,
        eni_flow(&m, Y_ENI, "10.1.1.100", "tcp/22"),
        Full,
        "connectable: eni-0b9f8c68d6cb974a6 > subnet-088d6408a3a6129fa > rtb-00fa109c642f8c07d \
         > pcx-0040f7640e10191f4 > subnet-03a80d08017ee39ef > sg-0ca8413f923260084 \
         > (no NACL data for subnet-088d6408a3a6129fa) > (no NACL data for subnet-03a80d08017ee39ef) \
         > sg-06804d246c3a853bc > eni-0664ca29e3153724d",
    );
}

#[test]
fn multi_account_other_destinations_leave_or_find_no_subnet() {
    let m = load!(MULTI_ACCOUNT);
    // 8.8.8.8 and 10.3.0.1: only 0.0.0.0/0 → igw-0ccac11864b23b189 matches in rtb-0039….
    for dst in ["8.8.8.8", "10.3.0.1"] {
        check(
            &m,
            flow(X_VPC, "10.1.1.100", dst, "tcp/443"),
            Network,
            "left-network: subnet-03a80d08017ee39ef > rtb-0039abf2a28b091bb",
        );
    }
    // 10.2.9.9: 10.2.0.0/16 → pcx-0040…, inside Y's CIDR, but Y has no subnet there.
    check(
        &m,
        flow(X_VPC, "10.1.1.100", "10.2.9.9", "tcp/22"),
        Network,
        "no-subnet: subnet-03a80d08017ee39ef > rtb-0039abf2a28b091bb > pcx-0040f7640e10191f4",
    );
    // Within X, 10.1.1.100 → 10.1.1.5: same subnet.
    check(
        &m,
        flow(X_VPC, "10.1.1.100", "10.1.1.5", "tcp/22"),
        Network,
        "connectable: subnet-03a80d08017ee39ef > subnet-03a80d08017ee39ef",
    );
}

#[test]
fn multi_account_deleted_peerings_carry_nothing() {
    let m = load!(MULTI_ACCOUNT);
    // The two deleted connections are in the snapshot (deduplicated across the accounts'
    // dumps) and inactive; only pcx-0040… carries traffic, X ⇄ Y.
    let status: Vec<(String, bool)> = m
        .peerings
        .values()
        .map(|p| (p.id.to_string(), p.is_active()))
        .collect();
    assert_eq!(
        status,
        [
            ("pcx-0040f7640e10191f4".to_owned(), true),
            ("pcx-00eeab4f3bd2a40da".to_owned(), false),
            ("pcx-07d8d712b329b9337".to_owned(), false),
        ]
    );
    let via = "pcx-0040f7640e10191f4";
    let want = BTreeSet::from([triple(X_VPC, Y_VPC, via), triple(Y_VPC, X_VPC, via)]);
    for layer in [Network, Full] {
        let (pairs, all_connectable) = inter_vpc_pairs(&m, layer);
        assert_eq!(pairs, want, "{layer} layer");
        assert!(all_connectable, "{layer} layer");
    }
}

/// A route to a deleted connection, as the accounts had before the connections were deleted:
/// the snapshot's model with vpc-0f44…'s table routing 10.3.0.0/16 to pcx-00ee….
#[test]
fn multi_account_route_to_a_deleted_peering_is_peering_inactive() {
    let mut m = load!(MULTI_ACCOUNT);
    let table = m
        .route_tables
        .get_mut(&RouteTableId::new("rtb-0039abf2a28b091bb"))
        .map(std::sync::Arc::make_mut)
        .expect("X's subnet table");
    table.routes.push(Route {
        destination: RouteDestination::Cidr(net("10.3.0.0/16")),
        target: RouteTarget::Peering(PeeringId::new("pcx-00eeab4f3bd2a40da")),
        blackhole: false,
    });
    m.reindex();
    // 10.3.0.1: the new /16 beats 0.0.0.0/0; pcx-00ee… has Status.Code deleted (and X is not
    // one of its sides either).
    let f: Flow = flow(X_VPC, "10.1.1.100", "10.3.0.1", "tcp/22");
    check(
        &m,
        f,
        Network,
        "peering-inactive: subnet-03a80d08017ee39ef > rtb-0039abf2a28b091bb > pcx-00eeab4f3bd2a40da",
    );
}
