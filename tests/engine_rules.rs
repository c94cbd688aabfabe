//! The reachability contract (`semantics.md`), one rule per test, on fixtures of a few lines.
//!
//! Every case goes through `check` (in `engine_fixture`), which asserts explain's verdict,
//! reason and forward path (`Explanation::path_ids`) and then asks `reach` about the same flow:
//! the set-based engine must deliver it exactly when explain does, to the same VPC through the
//! same peering, and call it connectable exactly when explain does. So each rule here pins both
//! evaluators.
//!
//! Expectations read `"<verdict>: <id> > <id> > …"`: `connectable`, a return-path reason
//! (delivered, not connectable) or a forward reason (dropped), then the forward path.

use peerscope::engine::{Flow, Layer};
use peerscope::model::Model;
use serde_json::{Value, json};

use crate::engine_fixture::*;

use Layer::{Full, Network};

// ---------------------------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------------------------

/// Two VPCs peered by `pcx-ab` (with `status`), B in `b_region`:
/// - vpc-a 10.0.0.0/16: subnet-a1 10.0.1.0/24, subnet-a2 10.0.2.0/24; main table rtb-a
///   [10.0.0.0/16 local, 10.1.0.0/16 → pcx-ab];
/// - vpc-b 10.1.0.0/16: subnet-b1 10.1.1.0/24, subnet-b2 10.1.2.0/24; main table rtb-b
///   [10.1.0.0/16 local, 10.0.0.0/16 → pcx-ab].
///
/// No NACLs (see [`open_nacls`]), SGs or ENIs.
fn peered_with(status: &str, b_region: &str) -> Fixture {
    Fixture::new()
        .vpc("vpc-a", ACCOUNT, REGION, &["10.0.0.0/16"])
        .vpc("vpc-b", "222222222222", b_region, &["10.1.0.0/16"])
        .subnet("subnet-a1", "vpc-a", "10.0.1.0/24")
        .subnet("subnet-a2", "vpc-a", "10.0.2.0/24")
        .subnet("subnet-b1", "vpc-b", "10.1.1.0/24")
        .subnet("subnet-b2", "vpc-b", "10.1.2.0/24")
        .peering("pcx-ab", status, "vpc-a", "vpc-b")
        .route_table("rtb-a", "vpc-a", true, &[])
        .route("rtb-a", "10.0.0.0/16", "local")
        .route("rtb-a", "10.1.0.0/16", "pcx-ab")
        .route_table("rtb-b", "vpc-b", true, &[])
        .route("rtb-b", "10.1.0.0/16", "local")
        .route("rtb-b", "10.0.0.0/16", "pcx-ab")
}

fn peered() -> Fixture {
    peered_with("active", REGION)
}

/// An open NACL per subnet of [`peered`]: acl-a1, acl-a2, acl-b1, acl-b2.
fn open_nacls(f: Fixture) -> Fixture {
    f.open_nacl("acl-a1", "vpc-a", false, &["subnet-a1"])
        .open_nacl("acl-a2", "vpc-a", false, &["subnet-a2"])
        .open_nacl("acl-b1", "vpc-b", false, &["subnet-b1"])
        .open_nacl("acl-b2", "vpc-b", false, &["subnet-b2"])
}

/// [`peered`] with open NACLs.
fn open() -> Fixture {
    open_nacls(peered())
}

/// [`open`] plus open groups sg-a, sg-b and one interface per subnet at .10 (eni-a1 10.0.1.10,
/// eni-a2 10.0.2.10, eni-b1 10.1.1.10, eni-b2 10.1.2.10).
fn open_full() -> Fixture {
    open()
        .open_sg("sg-a", "vpc-a")
        .open_sg("sg-b", "vpc-b")
        .eni("eni-a1", "subnet-a1", &["10.0.1.10"], &["sg-a"])
        .eni("eni-a2", "subnet-a2", &["10.0.2.10"], &["sg-a"])
        .eni("eni-b1", "subnet-b1", &["10.1.1.10"], &["sg-b"])
        .eni("eni-b2", "subnet-b2", &["10.1.2.10"], &["sg-b"])
}

/// A flow from vpc-a's 10.0.1.10 (subnet-a1).
fn from_a1(dst: &str, svc: &str) -> Flow {
    flow("vpc-a", "10.0.1.10", dst, svc)
}

/// The forward path of a delivered network-layer flow subnet-a1 → subnet-b1.
const A1_B1: &str = "subnet-a1 > rtb-a > pcx-ab > subnet-b1 > acl-a1 > acl-b1";

// ---------------------------------------------------------------------------------------------
// Step 1: same subnet
// ---------------------------------------------------------------------------------------------

#[test]
fn same_subnet_is_delivered_without_route_table_or_nacl() {
    // subnet-a1's NACL denies everything and its VPC has no route table at all.
    let m = Fixture::new()
        .vpc("vpc-a", ACCOUNT, REGION, &["10.0.0.0/16"])
        .subnet("subnet-a1", "vpc-a", "10.0.1.0/24")
        .nacl("acl-a1", "vpc-a", true, &["subnet-a1"])
        .build();
    let f = flow("vpc-a", "10.0.1.10", "10.0.1.20", "tcp/22");
    check(&m, f, Network, "connectable: subnet-a1 > subnet-a1");
    // The same with a route table whose only route is a blackhole for everything.
    let m = open()
        .blackhole("rtb-a", "10.0.1.0/24", "pcx-ab")
        .nacl_in("acl-a1", "1 deny -1 all 0.0.0.0/0")
        .nacl_out("acl-a1", "1 deny -1 all 0.0.0.0/0")
        .build();
    check(
        &m,
        from_a1("10.0.1.20", "udp/53"),
        Network,
        "connectable: subnet-a1 > subnet-a1",
    );
}

#[test]
fn same_subnet_flows_still_meet_security_groups_in_the_full_layer() {
    let m = open_full()
        .sg("sg-closed", "vpc-a")
        .eni("eni-a1-closed", "subnet-a1", &["10.0.1.20"], &["sg-closed"])
        .build();
    check(
        &m,
        eni_flow(&m, "eni-a1", "10.0.1.20", "tcp/22"),
        Full,
        "sg-ingress: eni-a1 > subnet-a1 > subnet-a1 > sg-a > sg-closed",
    );
    check(
        &m,
        eni_flow(&m, "eni-a1-closed", "10.0.1.10", "tcp/22"),
        Full,
        "sg-egress: eni-a1-closed > subnet-a1 > subnet-a1 > sg-closed",
    );
    let m = open_full()
        .eni("eni-a1-peer", "subnet-a1", &["10.0.1.20"], &["sg-a"])
        .build();
    check(
        &m,
        eni_flow(&m, "eni-a1", "10.0.1.20", "tcp/22"),
        Full,
        "connectable: eni-a1 > subnet-a1 > subnet-a1 > sg-a > sg-a > eni-a1-peer",
    );
}

// ---------------------------------------------------------------------------------------------
// Step 2: route lookup
// ---------------------------------------------------------------------------------------------

#[test]
fn longest_prefix_match_wins_whatever_the_table_order() {
    // rtb-a: 10.0.0.0/16 local, 10.1.0.0/16 → pcx-ab, 10.0.0.0/8 → nat-1, 10.1.2.128/25 → nat-2.
    let m = open()
        .route("rtb-a", "10.0.0.0/8", "nat-1")
        .route("rtb-a", "10.1.2.128/25", "nat-2")
        .build();
    // /16 beats the later /8.
    check(
        &m,
        from_a1("10.1.1.10", "tcp/22"),
        Network,
        &format!("connectable: {A1_B1}"),
    );
    // Only the /8 matches.
    check(
        &m,
        from_a1("10.9.0.1", "tcp/22"),
        Network,
        "left-network: subnet-a1 > rtb-a",
    );
    // The later /25 beats the /16.
    check(
        &m,
        from_a1("10.1.2.200", "tcp/22"),
        Network,
        "left-network: subnet-a1 > rtb-a",
    );
    check(
        &m,
        from_a1("10.1.2.100", "tcp/22"),
        Network,
        "connectable: subnet-a1 > rtb-a > pcx-ab > subnet-b2 > acl-a1 > acl-b2",
    );
}

#[test]
fn blackhole_route_drops_without_falling_through_to_a_shorter_route() {
    // 10.1.1.0/24 → pcx-ab is a blackhole; the active 10.1.0.0/16 → pcx-ab would deliver.
    let m = open().blackhole("rtb-a", "10.1.1.0/24", "pcx-ab").build();
    check(
        &m,
        from_a1("10.1.1.10", "tcp/22"),
        Network,
        "blackhole: subnet-a1 > rtb-a",
    );
    check(
        &m,
        from_a1("10.1.2.10", "tcp/22"),
        Network,
        "connectable: subnet-a1 > rtb-a > pcx-ab > subnet-b2 > acl-a1 > acl-b2",
    );
}

#[test]
fn cidr_route_beats_prefix_list_route_of_equal_length() {
    // pl-b [10.1.0.0/16] → nat-1 comes first in rtb-a; the CIDR route 10.1.0.0/16 → pcx-ab
    // still wins the tie.
    let m = open()
        .prefix_list("pl-b", &["10.1.0.0/16"])
        .route_first("rtb-a", "pl-b", "nat-1")
        .build();
    check(
        &m,
        from_a1("10.1.1.10", "tcp/22"),
        Network,
        &format!("connectable: {A1_B1}"),
    );
}

#[test]
fn prefix_list_route_competes_with_its_longest_matching_entry() {
    // pl-wide [10.0.0.0/8, 10.1.1.0/24] → nat-1 against the CIDR route 10.1.0.0/16 → pcx-ab.
    let m = open()
        .prefix_list("pl-wide", &["10.0.0.0/8", "10.1.1.0/24"])
        .route("rtb-a", "pl-wide", "nat-1")
        .build();
    // Its /24 entry beats the /16.
    check(
        &m,
        from_a1("10.1.1.10", "tcp/22"),
        Network,
        "left-network: subnet-a1 > rtb-a",
    );
    // Only its /8 entry holds 10.1.2.10: the /16 wins.
    check(
        &m,
        from_a1("10.1.2.10", "tcp/22"),
        Network,
        "connectable: subnet-a1 > rtb-a > pcx-ab > subnet-b2 > acl-a1 > acl-b2",
    );
    // Outside every CIDR route, the /8 entry decides.
    check(
        &m,
        from_a1("10.7.0.1", "tcp/22"),
        Network,
        "left-network: subnet-a1 > rtb-a",
    );
}

#[test]
fn tied_prefix_list_routes_go_to_the_first_in_table_order() {
    // Both lists hold 10.1.1.0/24, longer than the CIDR route 10.1.0.0/16.
    let base = || {
        open()
            .prefix_list("pl-1", &["10.1.1.0/24"])
            .prefix_list("pl-2", &["10.1.0.0/16", "10.1.1.0/24"])
    };
    let m = base()
        .route("rtb-a", "pl-2", "pcx-ab")
        .route("rtb-a", "pl-1", "nat-1")
        .build();
    check(
        &m,
        from_a1("10.1.1.10", "tcp/22"),
        Network,
        &format!("connectable: {A1_B1}"),
    );
    let m = base()
        .route("rtb-a", "pl-1", "nat-1")
        .route("rtb-a", "pl-2", "pcx-ab")
        .build();
    check(
        &m,
        from_a1("10.1.1.10", "tcp/22"),
        Network,
        "left-network: subnet-a1 > rtb-a",
    );
}

#[test]
fn no_matching_route_is_no_route() {
    let m = open().build();
    check(
        &m,
        from_a1("10.2.0.5", "tcp/22"),
        Network,
        "no-route: subnet-a1 > rtb-a",
    );
    check(
        &m,
        from_a1("172.16.0.1", "icmp"),
        Network,
        "no-route: subnet-a1 > rtb-a",
    );
}

#[test]
fn subnet_with_neither_associated_nor_main_table_is_no_route() {
    // rtb-a2 is not main and is associated with subnet-a2 only.
    let m = Fixture::new()
        .vpc("vpc-a", ACCOUNT, REGION, &["10.0.0.0/16"])
        .subnet("subnet-a1", "vpc-a", "10.0.1.0/24")
        .subnet("subnet-a2", "vpc-a", "10.0.2.0/24")
        .route_table("rtb-a2", "vpc-a", false, &["subnet-a2"])
        .route("rtb-a2", "10.0.0.0/16", "local")
        .open_nacl("acl-a", "vpc-a", true, &[])
        .build();
    check(
        &m,
        from_a1("10.0.2.10", "tcp/22"),
        Network,
        "no-route: subnet-a1",
    );
    // subnet-a2 reaches subnet-a1, but replies find no table.
    check(
        &m,
        flow("vpc-a", "10.0.2.10", "10.0.1.10", "tcp/22"),
        Network,
        "return-route: subnet-a2 > rtb-a2 > subnet-a1 > acl-a > acl-a",
    );
}

#[test]
fn subnet_without_association_uses_the_main_table() {
    // rtb-a (main) routes to vpc-b; rtb-a2, associated with subnet-a2, has only local.
    let m = open()
        .route_table("rtb-a2", "vpc-a", false, &["subnet-a2"])
        .route("rtb-a2", "10.0.0.0/16", "local")
        .build();
    check(
        &m,
        from_a1("10.1.1.10", "tcp/22"),
        Network,
        &format!("connectable: {A1_B1}"),
    );
    check(
        &m,
        flow("vpc-a", "10.0.2.10", "10.1.1.10", "tcp/22"),
        Network,
        "no-route: subnet-a2 > rtb-a2",
    );
}

// ---------------------------------------------------------------------------------------------
// Step 3: route targets
// ---------------------------------------------------------------------------------------------

#[test]
fn local_route_delivers_to_the_subnet_of_the_source_vpc() {
    let m = open().build();
    check(
        &m,
        from_a1("10.0.2.10", "tcp/443"),
        Network,
        "connectable: subnet-a1 > rtb-a > subnet-a2 > acl-a1 > acl-a2",
    );
}

#[test]
fn nat_and_internet_gateway_targets_leave_the_modelled_network() {
    let m = open()
        .route("rtb-a", "0.0.0.0/0", "igw-1")
        .route("rtb-a", "10.2.0.0/16", "nat-1")
        .route("rtb-a", "10.3.0.0/16", "tgw-1")
        .build();
    for dst in ["8.8.8.8", "10.2.0.1", "10.3.0.1"] {
        check(
            &m,
            from_a1(dst, "tcp/443"),
            Network,
            "left-network: subnet-a1 > rtb-a",
        );
    }
}

#[test]
fn peering_that_is_not_active_carries_nothing() {
    for status in ["pending-acceptance", "deleted", "rejected", "expired"] {
        let m = open_nacls(peered_with(status, REGION)).build();
        check(
            &m,
            from_a1("10.1.1.10", "tcp/22"),
            Network,
            "peering-inactive: subnet-a1 > rtb-a > pcx-ab",
        );
    }
}

#[test]
fn route_to_a_peering_missing_from_the_snapshot_is_peering_inactive() {
    let m = open().route("rtb-a", "10.1.1.0/24", "pcx-gone").build();
    check(
        &m,
        from_a1("10.1.1.10", "tcp/22"),
        Network,
        "peering-inactive: subnet-a1 > rtb-a > pcx-gone",
    );
}

#[test]
fn route_to_a_peering_the_source_vpc_is_not_a_side_of_is_peering_inactive() {
    // pcx-bc joins vpc-b and vpc-c; vpc-a routes vpc-c's range to it.
    let m = open()
        .vpc("vpc-c", ACCOUNT, REGION, &["10.2.0.0/16"])
        .subnet("subnet-c1", "vpc-c", "10.2.1.0/24")
        .open_nacl("acl-c1", "vpc-c", true, &[])
        .peering("pcx-bc", "active", "vpc-b", "vpc-c")
        .route("rtb-a", "10.2.0.0/16", "pcx-bc")
        .build();
    check(
        &m,
        from_a1("10.2.1.10", "tcp/22"),
        Network,
        "peering-inactive: subnet-a1 > rtb-a > pcx-bc",
    );
}

#[test]
fn destination_outside_the_peer_cidrs_of_the_record_is_not_in_peer_cidr() {
    // A route wider than the peer VPC.
    let m = open().route("rtb-a", "10.0.0.0/8", "pcx-ab").build();
    check(
        &m,
        from_a1("10.9.0.1", "tcp/22"),
        Network,
        "not-in-peer-cidr: subnet-a1 > rtb-a > pcx-ab",
    );
}

#[test]
fn peer_vpc_cidr_missing_from_the_record_cidr_block_set_is_not_in_peer_cidr() {
    // vpc-b has a second CIDR 10.2.0.0/16 with a subnet, and vpc-a routes it to pcx-ab; the
    // connection record lists only 10.1.0.0/16 for vpc-b.
    let base = || {
        Fixture::new()
            .vpc("vpc-a", ACCOUNT, REGION, &["10.0.0.0/16"])
            .vpc("vpc-b", ACCOUNT, REGION, &["10.1.0.0/16", "10.2.0.0/16"])
            .subnet("subnet-a1", "vpc-a", "10.0.1.0/24")
            .subnet("subnet-b3", "vpc-b", "10.2.1.0/24")
            .open_nacl("acl-a", "vpc-a", true, &[])
            .open_nacl("acl-b", "vpc-b", true, &[])
            .peering("pcx-ab", "active", "vpc-a", "vpc-b")
            .route_table("rtb-a", "vpc-a", true, &[])
            .route("rtb-a", "10.2.0.0/16", "pcx-ab")
            .route_table("rtb-b", "vpc-b", true, &[])
            .route("rtb-b", "10.0.0.0/16", "pcx-ab")
    };
    let narrow = base()
        .peering_cidrs("pcx-ab", "vpc-b", &["10.1.0.0/16"])
        .build();
    check(
        &narrow,
        from_a1("10.2.1.10", "tcp/22"),
        Network,
        "not-in-peer-cidr: subnet-a1 > rtb-a > pcx-ab",
    );
    // Control: with both CIDRs in the record the same flow is delivered.
    let both = base().build();
    check(
        &both,
        from_a1("10.2.1.10", "tcp/22"),
        Network,
        "connectable: subnet-a1 > rtb-a > pcx-ab > subnet-b3 > acl-a > acl-b",
    );
}

#[test]
fn inside_the_peer_cidr_without_a_subnet_is_no_subnet() {
    let m = open().build();
    check(
        &m,
        from_a1("10.1.9.9", "tcp/22"),
        Network,
        "no-subnet: subnet-a1 > rtb-a > pcx-ab",
    );
}

#[test]
fn local_route_to_an_address_of_the_vpc_without_a_subnet_is_no_subnet() {
    // vpc-c, not peered, reuses vpc-a's range and has a subnet at 10.0.9.0/24: the local route
    // looks in vpc-a only.
    let m = open()
        .vpc("vpc-c", ACCOUNT, REGION, &["10.0.0.0/16"])
        .subnet("subnet-c9", "vpc-c", "10.0.9.0/24")
        .build();
    check(
        &m,
        from_a1("10.0.9.9", "tcp/22"),
        Network,
        "no-subnet: subnet-a1 > rtb-a",
    );
}

#[test]
fn peering_is_not_transitive() {
    // vpc-a ⇄ vpc-b ⇄ vpc-c, no peering between vpc-a and vpc-c. vpc-a sends vpc-c's range to
    // pcx-ab, and vpc-b would route it on to pcx-bc.
    let base = || {
        open()
            .vpc("vpc-c", ACCOUNT, REGION, &["10.2.0.0/16"])
            .subnet("subnet-c1", "vpc-c", "10.2.1.0/24")
            .open_nacl("acl-c1", "vpc-c", true, &[])
            .peering("pcx-bc", "active", "vpc-b", "vpc-c")
            .route("rtb-a", "10.2.0.0/16", "pcx-ab")
            .route("rtb-b", "10.2.0.0/16", "pcx-bc")
            .route_table("rtb-c", "vpc-c", true, &[])
            .route("rtb-c", "10.1.0.0/16", "pcx-bc")
            .route("rtb-c", "10.0.0.0/16", "pcx-bc")
    };
    let m = base().build();
    check(
        &m,
        from_a1("10.2.1.10", "tcp/22"),
        Network,
        "not-in-peer-cidr: subnet-a1 > rtb-a > pcx-ab",
    );
    // Even when the record claims vpc-c's range for vpc-b, the packet is never forwarded out
    // of vpc-b: it must land in one of vpc-b's subnets.
    let m = base()
        .peering_cidrs("pcx-ab", "vpc-b", &["10.1.0.0/16", "10.2.0.0/16"])
        .build();
    check(
        &m,
        from_a1("10.2.1.10", "tcp/22"),
        Network,
        "no-subnet: subnet-a1 > rtb-a > pcx-ab",
    );
    // And from vpc-c, vpc-a's range ends in vpc-b.
    check(
        &m,
        flow("vpc-c", "10.2.1.10", "10.0.1.10", "tcp/22"),
        Network,
        "not-in-peer-cidr: subnet-c1 > rtb-c > pcx-bc",
    );
}

#[test]
fn overlapping_peer_cidrs_are_told_apart_by_longest_prefix_match() {
    // vpc-a peers with vpc-b and vpc-c, both 192.168.0.0/16 and both with a subnet
    // 192.168.2.0/24; vpc-a routes 192.168.1.0/24 to vpc-b and 192.168.2.0/24 to vpc-c.
    let m = Fixture::new()
        .vpc("vpc-a", ACCOUNT, REGION, &["10.0.0.0/16"])
        .vpc("vpc-b", ACCOUNT, REGION, &["192.168.0.0/16"])
        .vpc("vpc-c", ACCOUNT, REGION, &["192.168.0.0/16"])
        .subnet("subnet-a1", "vpc-a", "10.0.1.0/24")
        .subnet("subnet-b1", "vpc-b", "192.168.1.0/24")
        .subnet("subnet-b2", "vpc-b", "192.168.2.0/24")
        .subnet("subnet-c2", "vpc-c", "192.168.2.0/24")
        .open_nacl("acl-a", "vpc-a", true, &[])
        .open_nacl("acl-b", "vpc-b", true, &[])
        .open_nacl("acl-c", "vpc-c", true, &[])
        .peering("pcx-ab", "active", "vpc-a", "vpc-b")
        .peering("pcx-ac", "active", "vpc-a", "vpc-c")
        .route_table("rtb-a", "vpc-a", true, &[])
        .route("rtb-a", "10.0.0.0/16", "local")
        .route("rtb-a", "192.168.1.0/24", "pcx-ab")
        .route("rtb-a", "192.168.2.0/24", "pcx-ac")
        .route_table("rtb-b", "vpc-b", true, &[])
        .route("rtb-b", "10.0.0.0/16", "pcx-ab")
        .route_table("rtb-c", "vpc-c", true, &[])
        .route("rtb-c", "10.0.0.0/16", "pcx-ac")
        .build();
    check(
        &m,
        from_a1("192.168.1.10", "tcp/22"),
        Network,
        "connectable: subnet-a1 > rtb-a > pcx-ab > subnet-b1 > acl-a > acl-b",
    );
    check(
        &m,
        from_a1("192.168.2.10", "tcp/22"),
        Network,
        "connectable: subnet-a1 > rtb-a > pcx-ac > subnet-c2 > acl-a > acl-c",
    );
    check(
        &m,
        from_a1("192.168.3.10", "tcp/22"),
        Network,
        "no-route: subnet-a1 > rtb-a",
    );
    // vpc-b's 192.168.2.0/24 answers, but vpc-a sends its replies to vpc-c.
    check(
        &m,
        flow("vpc-b", "192.168.2.10", "10.0.1.10", "tcp/22"),
        Network,
        "return-route: subnet-b2 > rtb-b > pcx-ab > subnet-a1 > acl-b > acl-a",
    );
}

// ---------------------------------------------------------------------------------------------
// Step 4: network ACLs
// ---------------------------------------------------------------------------------------------

#[test]
fn nacl_lower_numbered_deny_beats_a_later_allow() {
    let m = open()
        .nacl_out("acl-a1", "50 deny tcp 22 10.1.0.0/16")
        .build();
    check(
        &m,
        from_a1("10.1.1.10", "tcp/22"),
        Network,
        "nacl-egress: subnet-a1 > rtb-a > pcx-ab > subnet-b1 > acl-a1",
    );
    check(
        &m,
        from_a1("10.1.1.10", "tcp/443"),
        Network,
        &format!("connectable: {A1_B1}"),
    );
}

#[test]
fn nacl_lower_numbered_allow_beats_a_later_deny() {
    let m = peered()
        .nacl("acl-a1", "vpc-a", false, &["subnet-a1"])
        .nacl_out("acl-a1", "200 deny -1 all 0.0.0.0/0")
        .nacl_out("acl-a1", "100 allow tcp 22 10.1.0.0/16")
        .nacl_in("acl-a1", "100 allow -1 all 0.0.0.0/0")
        .open_nacl("acl-b1", "vpc-b", false, &["subnet-b1"])
        .build();
    check(
        &m,
        from_a1("10.1.1.10", "tcp/22"),
        Network,
        &format!("connectable: {A1_B1}"),
    );
    check(
        &m,
        from_a1("10.1.1.10", "tcp/23"),
        Network,
        "nacl-egress: subnet-a1 > rtb-a > pcx-ab > subnet-b1 > acl-a1",
    );
}

#[test]
fn nacl_without_a_matching_entry_denies() {
    let m = peered()
        .open_nacl("acl-a1", "vpc-a", false, &["subnet-a1"])
        .nacl("acl-b1", "vpc-b", false, &["subnet-b1"])
        .nacl_in("acl-b1", "100 allow tcp 443 0.0.0.0/0")
        .nacl_out("acl-b1", "100 allow -1 all 0.0.0.0/0")
        .build();
    check(
        &m,
        from_a1("10.1.1.10", "tcp/443"),
        Network,
        &format!("connectable: {A1_B1}"),
    );
    for svc in ["tcp/22", "udp/443", "icmp"] {
        check(
            &m,
            from_a1("10.1.1.10", svc),
            Network,
            "nacl-ingress: subnet-a1 > rtb-a > pcx-ab > subnet-b1 > acl-a1 > acl-b1",
        );
    }
}

#[test]
fn nacl_entry_for_all_protocols_ignores_its_port_range() {
    // A `-1` entry carrying PortRange 22-22 allows (or denies) every port.
    let allow = peered()
        .open_nacl("acl-a1", "vpc-a", false, &["subnet-a1"])
        .nacl("acl-b1", "vpc-b", false, &["subnet-b1"])
        .nacl_in("acl-b1", "100 allow -1 22 0.0.0.0/0")
        .nacl_out("acl-b1", "100 allow -1 22 0.0.0.0/0")
        .build();
    check(
        &allow,
        from_a1("10.1.1.10", "tcp/443"),
        Network,
        &format!("connectable: {A1_B1}"),
    );
    let deny = open()
        .nacl_in("acl-b1", "90 deny -1 22 10.0.0.0/16")
        .build();
    check(
        &deny,
        from_a1("10.1.1.10", "tcp/443"),
        Network,
        "nacl-ingress: subnet-a1 > rtb-a > pcx-ab > subnet-b1 > acl-a1 > acl-b1",
    );
}

#[test]
fn nacl_entry_cidr_family_matches_only_peers_of_that_family() {
    // Dual stack; acl-b1 has only IPv4 entries, acl-b2 only IPv6 entries.
    let m = dual_stack()
        .nacl("acl-b1", "vpc-b", false, &["subnet-b1"])
        .nacl_in("acl-b1", "100 allow -1 all 0.0.0.0/0")
        .nacl_out("acl-b1", "100 allow -1 all 0.0.0.0/0")
        .nacl("acl-b2", "vpc-b", false, &["subnet-b2"])
        .nacl_in("acl-b2", "100 allow -1 all ::/0")
        .nacl_out("acl-b2", "100 allow -1 all ::/0")
        .build();
    check(
        &m,
        from_a1("10.1.1.10", "tcp/22"),
        Network,
        "connectable: subnet-a1 > rtb-a > pcx-ab > subnet-b1 > acl-a1 > acl-b1",
    );
    check(
        &m,
        flow("vpc-a", "2600:a:0:1::10", "2600:b:0:1::10", "tcp/22"),
        Network,
        "nacl-ingress: subnet-a1 > rtb-a > pcx-ab > subnet-b1 > acl-a1 > acl-b1",
    );
    check(
        &m,
        flow("vpc-a", "2600:a:0:1::10", "2600:b:0:2::10", "tcp/22"),
        Network,
        "connectable: subnet-a1 > rtb-a > pcx-ab > subnet-b2 > acl-a1 > acl-b2",
    );
    check(
        &m,
        from_a1("10.1.2.10", "tcp/22"),
        Network,
        "nacl-ingress: subnet-a1 > rtb-a > pcx-ab > subnet-b2 > acl-a1 > acl-b2",
    );
}

#[test]
fn default_nacl_filters_subnets_no_nacl_lists() {
    // acl-a-default lists no subnet and has no entries; acl-a2 lists subnet-a2 and is open.
    let m = peered()
        .nacl("acl-a-default", "vpc-a", true, &[])
        .open_nacl("acl-a2", "vpc-a", false, &["subnet-a2"])
        .open_nacl("acl-b", "vpc-b", true, &[])
        .build();
    check(
        &m,
        from_a1("10.1.1.10", "tcp/22"),
        Network,
        "nacl-egress: subnet-a1 > rtb-a > pcx-ab > subnet-b1 > acl-a-default",
    );
    check(
        &m,
        flow("vpc-a", "10.0.2.10", "10.1.1.10", "tcp/22"),
        Network,
        "connectable: subnet-a2 > rtb-a > pcx-ab > subnet-b1 > acl-a2 > acl-b",
    );
}

#[test]
fn missing_nacl_data_does_not_filter() {
    // No NACL at all in vpc-a; vpc-b's default NACL allows only tcp/22 in.
    let m = peered()
        .nacl("acl-b", "vpc-b", true, &[])
        .nacl_in("acl-b", "100 allow tcp 22 0.0.0.0/0")
        .nacl_out("acl-b", "100 allow -1 all 0.0.0.0/0")
        .build();
    check(
        &m,
        from_a1("10.1.1.10", "tcp/22"),
        Network,
        "connectable: subnet-a1 > rtb-a > pcx-ab > subnet-b1 > (no NACL data for subnet-a1) > acl-b",
    );
    check(
        &m,
        from_a1("10.1.1.10", "udp/53"),
        Network,
        "nacl-ingress: subnet-a1 > rtb-a > pcx-ab > subnet-b1 > (no NACL data for subnet-a1) > acl-b",
    );
    let none = peered().build();
    check(
        &none,
        from_a1("10.1.1.10", "udp/53"),
        Network,
        "connectable: subnet-a1 > rtb-a > pcx-ab > subnet-b1 > (no NACL data for subnet-a1) > (no NACL data for subnet-b1)",
    );
}

// ---------------------------------------------------------------------------------------------
// Steps 5–6: the return path
// ---------------------------------------------------------------------------------------------

#[test]
fn return_nacl_must_allow_an_ephemeral_port() {
    // subnet-a1's NACL lets replies in on 0-1023 only.
    let m = open()
        .nacl_in("acl-a1", "50 allow tcp 0-1023 0.0.0.0/0")
        .nacl_in("acl-a1", "60 deny tcp all 0.0.0.0/0")
        .build();
    check(
        &m,
        from_a1("10.1.1.10", "tcp/22"),
        Network,
        &format!("return-nacl: {A1_B1}"),
    );
    // 1024 is ephemeral.
    let m = open()
        .nacl_in("acl-a1", "50 allow tcp 0-1024 0.0.0.0/0")
        .nacl_in("acl-a1", "60 deny tcp all 0.0.0.0/0")
        .build();
    check(
        &m,
        from_a1("10.1.1.10", "tcp/22"),
        Network,
        &format!("connectable: {A1_B1}"),
    );
    // So is 65535.
    let m = open()
        .nacl_out("acl-b1", "50 allow udp 65535 0.0.0.0/0")
        .nacl_out("acl-b1", "60 deny udp all 0.0.0.0/0")
        .build();
    check(
        &m,
        from_a1("10.1.1.10", "udp/53"),
        Network,
        &format!("connectable: {A1_B1}"),
    );
}

#[test]
fn return_nacls_must_share_one_source_port() {
    // Replies leave subnet-b1 on 1024-2000 and enter subnet-a1 on 3000-65535: no common port.
    let with_ingress = |ports: &str| {
        peered()
            .nacl("acl-a1", "vpc-a", false, &["subnet-a1"])
            .nacl_out("acl-a1", "100 allow -1 all 0.0.0.0/0")
            .nacl_in("acl-a1", &format!("100 allow tcp {ports} 0.0.0.0/0"))
            .nacl("acl-b1", "vpc-b", false, &["subnet-b1"])
            .nacl_in("acl-b1", "100 allow -1 all 0.0.0.0/0")
            .nacl_out("acl-b1", "100 allow tcp 1024-2000 0.0.0.0/0")
            .build()
    };
    let f = || from_a1("10.1.1.10", "tcp/22");
    check(
        &with_ingress("3000-65535"),
        f(),
        Network,
        &format!("return-nacl: {A1_B1}"),
    );
    // Overlapping at 2000: connectable.
    check(
        &with_ingress("2000-65535"),
        f(),
        Network,
        &format!("connectable: {A1_B1}"),
    );
}

#[test]
fn return_nacl_ignores_ports_for_protocols_without_ports() {
    // Replies may enter subnet-a1 for icmp only.
    let m = open()
        .nacl_in("acl-a1", "50 allow icmp all 0.0.0.0/0")
        .nacl_in("acl-a1", "60 deny -1 all 0.0.0.0/0")
        .build();
    check(
        &m,
        from_a1("10.1.1.10", "icmp"),
        Network,
        &format!("connectable: {A1_B1}"),
    );
    check(
        &m,
        from_a1("10.1.1.10", "udp/53"),
        Network,
        &format!("return-nacl: {A1_B1}"),
    );
}

#[test]
fn reply_routed_elsewhere_is_return_route() {
    // rtb-b sends replies for 10.0.1.0/24 to a NAT gateway.
    let m = open().route("rtb-b", "10.0.1.0/24", "nat-1").build();
    check(
        &m,
        from_a1("10.1.1.10", "tcp/22"),
        Network,
        &format!("return-route: {A1_B1}"),
    );
    // Through a blackhole.
    let m = open().blackhole("rtb-b", "10.0.1.0/24", "pcx-ab").build();
    check(
        &m,
        from_a1("10.1.1.10", "tcp/22"),
        Network,
        &format!("return-route: {A1_B1}"),
    );
    // Through another peering: vpc-c reuses 10.0.0.0/16 and vpc-b routes 10.0.1.0/24 there.
    let m = open()
        .vpc("vpc-c", ACCOUNT, REGION, &["10.0.0.0/16"])
        .subnet("subnet-c1", "vpc-c", "10.0.1.0/24")
        .open_nacl("acl-c", "vpc-c", true, &[])
        .peering("pcx-bc", "active", "vpc-b", "vpc-c")
        .route("rtb-b", "10.0.1.0/24", "pcx-bc")
        .build();
    check(
        &m,
        from_a1("10.1.1.10", "tcp/22"),
        Network,
        &format!("return-route: {A1_B1}"),
    );
    // subnet-a2's replies still route back over pcx-ab.
    check(
        &m,
        flow("vpc-a", "10.0.2.10", "10.1.1.10", "tcp/22"),
        Network,
        "connectable: subnet-a2 > rtb-a > pcx-ab > subnet-b1 > acl-a2 > acl-b1",
    );
    // Back to vpc-a, but over a second connection pcx-ab2: not the same peering.
    let m = open()
        .peering("pcx-ab2", "active", "vpc-a", "vpc-b")
        .route("rtb-b", "10.0.1.0/24", "pcx-ab2")
        .build();
    check(
        &m,
        from_a1("10.1.1.10", "tcp/22"),
        Network,
        &format!("return-route: {A1_B1}"),
    );
    // Over pcx-ab, but the record lists only 10.0.2.0/24 for vpc-a: 10.0.1.10 is outside.
    let m = open()
        .peering_cidrs("pcx-ab", "vpc-a", &["10.0.2.0/24"])
        .build();
    check(
        &m,
        from_a1("10.1.1.10", "tcp/22"),
        Network,
        &format!("return-route: {A1_B1}"),
    );
    check(
        &m,
        flow("vpc-a", "10.0.2.10", "10.1.1.10", "tcp/22"),
        Network,
        "connectable: subnet-a2 > rtb-a > pcx-ab > subnet-b1 > acl-a2 > acl-b1",
    );
}

#[test]
fn return_nacls_judge_replies_by_the_flow_endpoints() {
    // subnet-b1 lets no reply out toward 10.0.1.0/24; subnet-a2 lets no reply in from
    // 10.1.2.0/24.
    let m = open()
        .nacl_out("acl-b1", "50 deny -1 all 10.0.1.0/24")
        .nacl_in("acl-a2", "50 deny -1 all 10.1.2.0/24")
        .build();
    check(
        &m,
        from_a1("10.1.1.10", "tcp/22"),
        Network,
        &format!("return-nacl: {A1_B1}"),
    );
    check(
        &m,
        from_a1("10.1.2.10", "tcp/22"),
        Network,
        "connectable: subnet-a1 > rtb-a > pcx-ab > subnet-b2 > acl-a1 > acl-b2",
    );
    let from_a2 = |dst: &str| flow("vpc-a", "10.0.2.10", dst, "tcp/22");
    check(
        &m,
        from_a2("10.1.1.10"),
        Network,
        "connectable: subnet-a2 > rtb-a > pcx-ab > subnet-b1 > acl-a2 > acl-b1",
    );
    check(
        &m,
        from_a2("10.1.2.10"),
        Network,
        "return-nacl: subnet-a2 > rtb-a > pcx-ab > subnet-b2 > acl-a2 > acl-b2",
    );
}

#[test]
fn reply_to_an_address_inside_the_replying_subnet_never_leaves_it() {
    // vpc-b (10.0.0.0/8) overlaps vpc-a (AWS refuses to peer such VPCs, but a snapshot may
    // hold anything): subnet-b1 10.0.0.0/22 contains subnet-a1's 10.0.1.10. vpc-a routes
    // 10.0.2.0/24 to pcx-ab and vpc-b routes 10.0.1.0/24 back. The replying host sees
    // 10.0.1.10 on its own link, as step 1 says: the reply stays in subnet-b1.
    let m = Fixture::new()
        .vpc("vpc-a", ACCOUNT, REGION, &["10.0.0.0/16"])
        .vpc("vpc-b", ACCOUNT, REGION, &["10.0.0.0/8"])
        .subnet("subnet-a1", "vpc-a", "10.0.1.0/24")
        .subnet("subnet-b1", "vpc-b", "10.0.0.0/22")
        .open_nacl("acl-a", "vpc-a", true, &[])
        .open_nacl("acl-b", "vpc-b", true, &[])
        .peering("pcx-ab", "active", "vpc-a", "vpc-b")
        .route_table("rtb-a", "vpc-a", true, &[])
        .route("rtb-a", "10.0.0.0/16", "local")
        .route("rtb-a", "10.0.2.0/24", "pcx-ab")
        .route_table("rtb-b", "vpc-b", true, &[])
        .route("rtb-b", "10.0.0.0/8", "local")
        .route("rtb-b", "10.0.1.0/24", "pcx-ab")
        .build();
    check(
        &m,
        from_a1("10.0.2.10", "tcp/22"),
        Network,
        "return-route: subnet-a1 > rtb-a > pcx-ab > subnet-b1 > acl-a > acl-b",
    );
}

// ---------------------------------------------------------------------------------------------
// Steps 7–8: security groups
// ---------------------------------------------------------------------------------------------

/// [`open`] with eni-a1 10.0.1.10 and eni-a2 10.0.2.10 in sg-a (all out), eni-b1 10.1.1.10
/// and eni-b2 10.1.2.10 in sg-b whose ingress rules the test gives.
fn sg_fixture(sg_b_in: &[&str]) -> Model {
    let mut f = open()
        .sg("sg-a", "vpc-a")
        .sg_out("sg-a", "-1 all 0.0.0.0/0")
        .sg("sg-b", "vpc-b");
    for r in sg_b_in {
        f = f.sg_in("sg-b", r);
    }
    f.eni("eni-a1", "subnet-a1", &["10.0.1.10"], &["sg-a"])
        .eni("eni-a2", "subnet-a2", &["10.0.2.10"], &["sg-a"])
        .eni("eni-b1", "subnet-b1", &["10.1.1.10"], &["sg-b"])
        .eni("eni-b2", "subnet-b2", &["10.1.2.10"], &["sg-b"])
        .build()
}

const FULL_A1_B1: &str =
    "eni-a1 > subnet-a1 > rtb-a > pcx-ab > subnet-b1 > sg-a > acl-a1 > acl-b1 > sg-b > eni-b1";
const FULL_A1_B1_SG_B_FAILS: &str =
    "eni-a1 > subnet-a1 > rtb-a > pcx-ab > subnet-b1 > sg-a > acl-a1 > acl-b1 > sg-b";

#[test]
fn sg_cidr_rule_matches_protocol_port_and_peer_address() {
    let m = sg_fixture(&["tcp 22 10.0.1.0/24"]);
    check(
        &m,
        eni_flow(&m, "eni-a1", "10.1.1.10", "tcp/22"),
        Full,
        &format!("connectable: {FULL_A1_B1}"),
    );
    for svc in ["tcp/23", "udp/22", "icmp"] {
        check(
            &m,
            eni_flow(&m, "eni-a1", "10.1.1.10", svc),
            Full,
            &format!("sg-ingress: {FULL_A1_B1_SG_B_FAILS}"),
        );
    }
    check(
        &m,
        eni_flow(&m, "eni-a2", "10.1.1.10", "tcp/22"),
        Full,
        "sg-ingress: eni-a2 > subnet-a2 > rtb-a > pcx-ab > subnet-b1 > sg-a > acl-a2 > acl-b1 > sg-b",
    );
}

#[test]
fn sg_rule_without_ports_covers_every_port() {
    let m = sg_fixture(&["-1 all 10.0.1.0/24"]);
    for svc in ["tcp/1", "udp/65535", "icmp", "icmpv6", "50"] {
        check(
            &m,
            eni_flow(&m, "eni-a1", "10.1.1.10", svc),
            Full,
            &format!("connectable: {FULL_A1_B1}"),
        );
    }
}

#[test]
fn sg_prefix_list_rule_matches_every_cidr_of_the_list() {
    let m = open()
        .prefix_list("pl-a1", &["10.0.1.0/24", "192.0.2.0/24"])
        .prefix_list("pl-b1", &["10.1.1.0/24"])
        .sg("sg-a", "vpc-a")
        .sg_out("sg-a", "tcp all pl-b1")
        .sg("sg-b", "vpc-b")
        .sg_in("sg-b", "tcp 22 pl-a1")
        .eni("eni-a1", "subnet-a1", &["10.0.1.10"], &["sg-a"])
        .eni("eni-a2", "subnet-a2", &["10.0.2.10"], &["sg-a"])
        .eni("eni-b1", "subnet-b1", &["10.1.1.10"], &["sg-b"])
        .eni("eni-b2", "subnet-b2", &["10.1.2.10"], &["sg-b"])
        .build();
    check(
        &m,
        eni_flow(&m, "eni-a1", "10.1.1.10", "tcp/22"),
        Full,
        &format!("connectable: {FULL_A1_B1}"),
    );
    // Ingress: 10.0.2.10 is in no entry of pl-a1.
    check(
        &m,
        eni_flow(&m, "eni-a2", "10.1.1.10", "tcp/22"),
        Full,
        "sg-ingress: eni-a2 > subnet-a2 > rtb-a > pcx-ab > subnet-b1 > sg-a > acl-a2 > acl-b1 > sg-b",
    );
    // Egress: 10.1.2.10 is in no entry of pl-b1.
    check(
        &m,
        eni_flow(&m, "eni-a1", "10.1.2.10", "tcp/22"),
        Full,
        "sg-egress: eni-a1 > subnet-a1 > rtb-a > pcx-ab > subnet-b2 > sg-a",
    );
}

#[test]
fn sg_group_reference_matches_members_in_the_same_vpc() {
    // sg-db admits sg-app on 5432; sg-app may send only to sg-db.
    let m = open()
        .sg("sg-app", "vpc-a")
        .sg_out("sg-app", "tcp all sg-db")
        .sg("sg-db", "vpc-a")
        .sg_in("sg-db", "tcp 5432 sg-app")
        .open_sg("sg-other", "vpc-a")
        .eni("eni-app", "subnet-a1", &["10.0.1.10"], &["sg-app"])
        .eni("eni-other", "subnet-a1", &["10.0.1.20"], &["sg-other"])
        .eni("eni-db", "subnet-a2", &["10.0.2.10"], &["sg-db"])
        .eni("eni-web", "subnet-a2", &["10.0.2.20"], &["sg-other"])
        .build();
    check(
        &m,
        eni_flow(&m, "eni-app", "10.0.2.10", "tcp/5432"),
        Full,
        "connectable: eni-app > subnet-a1 > rtb-a > subnet-a2 > sg-app > acl-a1 > acl-a2 > sg-db > eni-db",
    );
    check(
        &m,
        eni_flow(&m, "eni-other", "10.0.2.10", "tcp/5432"),
        Full,
        "sg-ingress: eni-other > subnet-a1 > rtb-a > subnet-a2 > sg-other > acl-a1 > acl-a2 > sg-db",
    );
    check(
        &m,
        eni_flow(&m, "eni-app", "10.0.2.20", "tcp/5432"),
        Full,
        "sg-egress: eni-app > subnet-a1 > rtb-a > subnet-a2 > sg-app",
    );
}

#[test]
fn sg_group_reference_matches_across_a_same_region_active_peering_only() {
    // sg-b admits members of sg-a (a group of vpc-a).
    let build = |b_region: &str| {
        open_nacls(peered_with("active", b_region))
            .sg("sg-a", "vpc-a")
            .sg_out("sg-a", "-1 all 0.0.0.0/0")
            .sg("sg-b", "vpc-b")
            .sg_in("sg-b", "tcp 22 sg-a")
            .eni("eni-a1", "subnet-a1", &["10.0.1.10"], &["sg-a"])
            .eni("eni-b1", "subnet-b1", &["10.1.1.10"], &["sg-b"])
            .build()
    };
    let same = build(REGION);
    check(
        &same,
        eni_flow(&same, "eni-a1", "10.1.1.10", "tcp/22"),
        Full,
        &format!("connectable: {FULL_A1_B1}"),
    );
    let cross = build("eu-west-1");
    check(
        &cross,
        eni_flow(&cross, "eni-a1", "10.1.1.10", "tcp/22"),
        Full,
        &format!("sg-ingress: {FULL_A1_B1_SG_B_FAILS}"),
    );
}

/// vpc-a 10.0.0.0/16 peers with vpc-b and vpc-c, which both hold an interface at
/// 192.168.1.10: eni-b1 in sg-b, eni-c1 in sg-c. sg-a admits and sends tcp/22 to sg-b only.
/// vpc-a routes 192.168.1.0/24 to `a_routes_to`.
fn twin_addresses(a_routes_to: &str) -> Model {
    Fixture::new()
        .vpc("vpc-a", ACCOUNT, REGION, &["10.0.0.0/16"])
        .vpc("vpc-b", ACCOUNT, REGION, &["192.168.0.0/16"])
        .vpc("vpc-c", ACCOUNT, REGION, &["192.168.0.0/16"])
        .subnet("subnet-a1", "vpc-a", "10.0.1.0/24")
        .subnet("subnet-b1", "vpc-b", "192.168.1.0/24")
        .subnet("subnet-c1", "vpc-c", "192.168.1.0/24")
        .open_nacl("acl-a", "vpc-a", true, &[])
        .open_nacl("acl-b", "vpc-b", true, &[])
        .open_nacl("acl-c", "vpc-c", true, &[])
        .peering("pcx-ab", "active", "vpc-a", "vpc-b")
        .peering("pcx-ac", "active", "vpc-a", "vpc-c")
        .route_table("rtb-a", "vpc-a", true, &[])
        .route("rtb-a", "192.168.1.0/24", a_routes_to)
        .route_table("rtb-b", "vpc-b", true, &[])
        .route("rtb-b", "10.0.0.0/16", "pcx-ab")
        .route_table("rtb-c", "vpc-c", true, &[])
        .route("rtb-c", "10.0.0.0/16", "pcx-ac")
        .sg("sg-a", "vpc-a")
        .sg_in("sg-a", "tcp 22 sg-b")
        .sg_out("sg-a", "tcp 22 sg-b")
        .open_sg("sg-b", "vpc-b")
        .open_sg("sg-c", "vpc-c")
        .eni("eni-a1", "subnet-a1", &["10.0.1.10"], &["sg-a"])
        .eni("eni-b1", "subnet-b1", &["192.168.1.10"], &["sg-b"])
        .eni("eni-c1", "subnet-c1", &["192.168.1.10"], &["sg-c"])
        .build()
}

#[test]
fn sg_group_reference_is_judged_for_the_interface_at_the_other_end() {
    let m = twin_addresses("pcx-ab");
    check(
        &m,
        eni_flow(&m, "eni-b1", "10.0.1.10", "tcp/22"),
        Full,
        "connectable: eni-b1 > subnet-b1 > rtb-b > pcx-ab > subnet-a1 > sg-b > acl-b > acl-a > sg-a > eni-a1",
    );
    // Same source address, but eni-c1 is not in sg-b.
    check(
        &m,
        eni_flow(&m, "eni-c1", "10.0.1.10", "tcp/22"),
        Full,
        "sg-ingress: eni-c1 > subnet-c1 > rtb-c > pcx-ac > subnet-a1 > sg-c > acl-c > acl-a > sg-a",
    );
    // Egress: 192.168.1.10 reached over pcx-ab is eni-b1, in sg-b.
    check(
        &m,
        eni_flow(&m, "eni-a1", "192.168.1.10", "tcp/22"),
        Full,
        "connectable: eni-a1 > subnet-a1 > rtb-a > pcx-ab > subnet-b1 > sg-a > acl-a > acl-b > sg-b > eni-b1",
    );
    // Routed to vpc-c instead, the same address is eni-c1, not in sg-b.
    let m = twin_addresses("pcx-ac");
    check(
        &m,
        eni_flow(&m, "eni-a1", "192.168.1.10", "tcp/22"),
        Full,
        "sg-egress: eni-a1 > subnet-a1 > rtb-a > pcx-ac > subnet-c1 > sg-a",
    );
}

#[test]
fn icmp_flow_matches_any_icmp_rule_but_not_icmpv6() {
    // acl-b1 admits icmp and denies everything else; sg-b admits icmp (any type) from
    // subnet-a1 and icmpv6 from subnet-a2.
    let base = || {
        open()
            .sg("sg-a", "vpc-a")
            .sg_out("sg-a", "-1 all 0.0.0.0/0")
            .sg("sg-b", "vpc-b")
            .sg_in("sg-b", "icmp all 10.0.1.0/24")
            .sg_in("sg-b", "icmpv6 all 10.0.2.0/24")
            .eni("eni-a1", "subnet-a1", &["10.0.1.10"], &["sg-a"])
            .eni("eni-a2", "subnet-a2", &["10.0.2.10"], &["sg-a"])
            .eni("eni-b1", "subnet-b1", &["10.1.1.10"], &["sg-b"])
    };
    let m = base()
        .nacl_in("acl-b1", "10 allow icmp all 10.0.0.0/16")
        .nacl_in("acl-b1", "20 deny -1 all 0.0.0.0/0")
        .build();
    check(
        &m,
        eni_flow(&m, "eni-a1", "10.1.1.10", "icmp"),
        Full,
        &format!("connectable: {FULL_A1_B1}"),
    );
    // icmpv6 (58) is another protocol: the NACL's icmp entry does not admit it.
    check(
        &m,
        eni_flow(&m, "eni-a2", "10.1.1.10", "icmpv6"),
        Full,
        "nacl-ingress: eni-a2 > subnet-a2 > rtb-a > pcx-ab > subnet-b1 > sg-a > acl-a2 > acl-b1",
    );
    // With open NACLs, sg-b's icmp rule does not admit icmpv6, nor its icmpv6 rule icmp.
    let m = base().build();
    check(
        &m,
        eni_flow(&m, "eni-a1", "10.1.1.10", "icmpv6"),
        Full,
        &format!("sg-ingress: {FULL_A1_B1_SG_B_FAILS}"),
    );
    check(
        &m,
        eni_flow(&m, "eni-a2", "10.1.1.10", "icmpv6"),
        Full,
        "connectable: eni-a2 > subnet-a2 > rtb-a > pcx-ab > subnet-b1 > sg-a > acl-a2 > acl-b1 > sg-b > eni-b1",
    );
    check(
        &m,
        eni_flow(&m, "eni-a2", "10.1.1.10", "icmp"),
        Full,
        "sg-ingress: eni-a2 > subnet-a2 > rtb-a > pcx-ab > subnet-b1 > sg-a > acl-a2 > acl-b1 > sg-b",
    );
    // Network layer: icmp flows ignore ports everywhere.
    check(
        &m,
        from_a1("10.1.1.10", "icmp"),
        Network,
        &format!("connectable: {A1_B1}"),
    );
}

// ---------------------------------------------------------------------------------------------
// IPv6
// ---------------------------------------------------------------------------------------------

/// [`peered`] made dual-stack: vpc-a adds 2600:a::/56 (subnet-a1 2600:a:0:1::/64, subnet-a2
/// 2600:a:0:2::/64), vpc-b 2600:b::/56 (subnet-b1 2600:b:0:1::/64, subnet-b2 2600:b:0:2::/64);
/// rtb-a routes 2600:b::/56 to pcx-ab and rtb-b 2600:a::/56. Open acl-a1 and acl-a2.
fn dual_stack() -> Fixture {
    Fixture::new()
        .vpc("vpc-a", ACCOUNT, REGION, &["10.0.0.0/16", "2600:a::/56"])
        .vpc("vpc-b", ACCOUNT, REGION, &["10.1.0.0/16", "2600:b::/56"])
        .subnet_cidrs("subnet-a1", "vpc-a", &["10.0.1.0/24", "2600:a:0:1::/64"])
        .subnet_cidrs("subnet-a2", "vpc-a", &["10.0.2.0/24", "2600:a:0:2::/64"])
        .subnet_cidrs("subnet-b1", "vpc-b", &["10.1.1.0/24", "2600:b:0:1::/64"])
        .subnet_cidrs("subnet-b2", "vpc-b", &["10.1.2.0/24", "2600:b:0:2::/64"])
        .peering("pcx-ab", "active", "vpc-a", "vpc-b")
        .route_table("rtb-a", "vpc-a", true, &[])
        .route("rtb-a", "10.0.0.0/16", "local")
        .route("rtb-a", "2600:a::/56", "local")
        .route("rtb-a", "10.1.0.0/16", "pcx-ab")
        .route("rtb-a", "2600:b::/56", "pcx-ab")
        .route_table("rtb-b", "vpc-b", true, &[])
        .route("rtb-b", "10.1.0.0/16", "local")
        .route("rtb-b", "2600:b::/56", "local")
        .route("rtb-b", "10.0.0.0/16", "pcx-ab")
        .route("rtb-b", "2600:a::/56", "pcx-ab")
        .open_nacl("acl-a1", "vpc-a", false, &["subnet-a1"])
        .open_nacl("acl-a2", "vpc-a", false, &["subnet-a2"])
}

#[test]
fn ipv6_flows_are_routed_filtered_and_returned_end_to_end() {
    let m = dual_stack()
        .open_nacl("acl-b1", "vpc-b", false, &["subnet-b1"])
        .nacl("acl-b2", "vpc-b", false, &["subnet-b2"])
        .nacl_in("acl-b2", "100 allow -1 all ::/0")
        .nacl_out("acl-b2", "100 allow tcp 0-1023 ::/0")
        .sg("sg-a", "vpc-a")
        .sg_out("sg-a", "-1 all ::/0")
        .sg_out("sg-a", "-1 all 0.0.0.0/0")
        .sg("sg-b", "vpc-b")
        .sg_in("sg-b", "tcp 22 2600:a::/56")
        .eni(
            "eni-a1",
            "subnet-a1",
            &["10.0.1.10", "2600:a:0:1::10"],
            &["sg-a"],
        )
        .eni(
            "eni-b1",
            "subnet-b1",
            &["10.1.1.10", "2600:b:0:1::10"],
            &["sg-b"],
        )
        .eni(
            "eni-b2",
            "subnet-b2",
            &["10.1.2.10", "2600:b:0:2::10"],
            &["sg-b"],
        )
        .build();
    check(
        &m,
        eni_flow(&m, "eni-a1", "2600:b:0:1::10", "tcp/22"),
        Full,
        &format!("connectable: {FULL_A1_B1}"),
    );
    // The IPv6-only rule does not admit the IPv4 address of the same interface.
    check(
        &m,
        eni_flow(&m, "eni-a1", "10.1.1.10", "tcp/22"),
        Full,
        &format!("sg-ingress: {FULL_A1_B1_SG_B_FAILS}"),
    );
    // Replies leave subnet-b2 on ports 0-1023 only.
    check(
        &m,
        eni_flow(&m, "eni-a1", "2600:b:0:2::10", "tcp/22"),
        Full,
        "return-nacl: eni-a1 > subnet-a1 > rtb-a > pcx-ab > subnet-b2 > sg-a > acl-a1 > acl-b2 > sg-b > eni-b2",
    );
    // Within a VPC, and no route for a third prefix.
    check(
        &m,
        flow("vpc-a", "2600:a:0:1::10", "2600:a:0:2::99", "udp/53"),
        Network,
        "connectable: subnet-a1 > rtb-a > subnet-a2 > acl-a1 > acl-a2",
    );
    check(
        &m,
        flow("vpc-a", "2600:a:0:1::10", "2600:c::1", "udp/53"),
        Network,
        "no-route: subnet-a1 > rtb-a",
    );
    // An IPv6 destination inside the peer's /56 without a subnet.
    check(
        &m,
        flow("vpc-a", "2600:a:0:1::10", "2600:b:0:9::1", "udp/53"),
        Network,
        "no-subnet: subnet-a1 > rtb-a > pcx-ab",
    );
}

// ---------------------------------------------------------------------------------------------
// Which reason: the contract's order
// ---------------------------------------------------------------------------------------------

/// [`peered`] with interfaces; every filter closed when `closed` names it: `sg-a-out`,
/// `acl-a1-out`, `acl-b1-in`, `sg-b-in`.
fn closed(closed: &[&str]) -> Model {
    let open_unless = |f: Fixture, name: &str, acl: &str, vpc: &str, subnet: &str, egress: bool| {
        let f = f.nacl(acl, vpc, false, &[subnet]);
        let (allow_out, allow_in) = if closed.contains(&name) {
            (!egress, egress)
        } else {
            (true, true)
        };
        let f = if allow_out {
            f.nacl_out(acl, "100 allow -1 all 0.0.0.0/0")
        } else {
            f
        };
        if allow_in {
            f.nacl_in(acl, "100 allow -1 all 0.0.0.0/0")
        } else {
            f
        }
    };
    let f = open_unless(peered(), "acl-a1-out", "acl-a1", "vpc-a", "subnet-a1", true);
    let f = open_unless(f, "acl-b1-in", "acl-b1", "vpc-b", "subnet-b1", false);
    let f = f.open_nacl("acl-a2", "vpc-a", false, &["subnet-a2"]);
    let f = f.sg("sg-a", "vpc-a").sg_in("sg-a", "-1 all 0.0.0.0/0");
    let f = if closed.contains(&"sg-a-out") {
        f
    } else {
        f.sg_out("sg-a", "-1 all 0.0.0.0/0")
    };
    let f = f.sg("sg-b", "vpc-b").sg_out("sg-b", "-1 all 0.0.0.0/0");
    let f = if closed.contains(&"sg-b-in") {
        f
    } else {
        f.sg_in("sg-b", "-1 all 0.0.0.0/0")
    };
    f.eni("eni-a1", "subnet-a1", &["10.0.1.10"], &["sg-a"])
        .eni("eni-b1", "subnet-b1", &["10.1.1.10"], &["sg-b"])
        .build()
}

#[test]
fn drop_reason_is_the_first_failing_check_in_contract_order() {
    let to_b1 = |m: &Model| eni_flow(m, "eni-a1", "10.1.1.10", "tcp/22");
    let m = closed(&[]);
    check(&m, to_b1(&m), Full, &format!("connectable: {FULL_A1_B1}"));
    let m = closed(&["sg-a-out", "acl-a1-out"]);
    check(
        &m,
        to_b1(&m),
        Full,
        "sg-egress: eni-a1 > subnet-a1 > rtb-a > pcx-ab > subnet-b1 > sg-a",
    );
    let m = closed(&["acl-a1-out", "acl-b1-in", "sg-b-in"]);
    check(
        &m,
        to_b1(&m),
        Full,
        "nacl-egress: eni-a1 > subnet-a1 > rtb-a > pcx-ab > subnet-b1 > sg-a > acl-a1",
    );
    let m = closed(&["acl-b1-in", "sg-b-in"]);
    check(
        &m,
        to_b1(&m),
        Full,
        "nacl-ingress: eni-a1 > subnet-a1 > rtb-a > pcx-ab > subnet-b1 > sg-a > acl-a1 > acl-b1",
    );
    let m = closed(&["sg-b-in"]);
    check(
        &m,
        to_b1(&m),
        Full,
        &format!("sg-ingress: {FULL_A1_B1_SG_B_FAILS}"),
    );
}

#[test]
fn routing_failures_come_before_every_filter() {
    let m = closed(&["sg-a-out", "acl-a1-out", "acl-b1-in", "sg-b-in"]);
    check(
        &m,
        eni_flow(&m, "eni-a1", "10.2.0.1", "tcp/22"),
        Full,
        "no-route: eni-a1 > subnet-a1 > rtb-a",
    );
    check(
        &m,
        eni_flow(&m, "eni-a1", "10.1.9.9", "tcp/22"),
        Full,
        "no-subnet: eni-a1 > subnet-a1 > rtb-a > pcx-ab",
    );
    // no-eni, too, comes before the source's security group.
    check(
        &m,
        eni_flow(&m, "eni-a1", "10.1.1.99", "tcp/22"),
        Full,
        "no-eni: eni-a1 > subnet-a1 > rtb-a > pcx-ab > subnet-b1",
    );
}

#[test]
fn forward_failures_come_before_return_failures() {
    // acl-b1 admits nothing in and replies are routed to a NAT: nacl-ingress, not return-route.
    let m = peered()
        .open_nacl("acl-a1", "vpc-a", false, &["subnet-a1"])
        .nacl("acl-b1", "vpc-b", false, &["subnet-b1"])
        .route("rtb-b", "10.0.1.0/24", "nat-1")
        .build();
    check(
        &m,
        from_a1("10.1.1.10", "tcp/22"),
        Network,
        "nacl-ingress: subnet-a1 > rtb-a > pcx-ab > subnet-b1 > acl-a1 > acl-b1",
    );
    // Replies routed elsewhere and blocked by the return NACLs: return-route first.
    let m = open()
        .route("rtb-b", "10.0.1.0/24", "nat-1")
        .nacl_in("acl-a1", "50 deny tcp all 0.0.0.0/0")
        .build();
    check(
        &m,
        from_a1("10.1.1.10", "tcp/22"),
        Network,
        &format!("return-route: {A1_B1}"),
    );
}

// ---------------------------------------------------------------------------------------------
// Full-layer endpoints
// ---------------------------------------------------------------------------------------------

#[test]
fn full_layer_destination_without_an_interface_is_no_eni() {
    let m = open_full().build();
    check(
        &m,
        eni_flow(&m, "eni-a1", "10.0.2.99", "tcp/22"),
        Full,
        "no-eni: eni-a1 > subnet-a1 > rtb-a > subnet-a2",
    );
    // The network layer delivers the same flow.
    check(
        &m,
        from_a1("10.0.2.99", "tcp/22"),
        Network,
        "connectable: subnet-a1 > rtb-a > subnet-a2 > acl-a1 > acl-a2",
    );
}

#[test]
fn every_private_address_of_an_interface_is_an_endpoint() {
    let m = open()
        .open_sg("sg-a", "vpc-a")
        .eni("eni-a1", "subnet-a1", &["10.0.1.10"], &["sg-a"])
        .eni(
            "eni-a2",
            "subnet-a2",
            &["10.0.2.10", "10.0.2.11"],
            &["sg-a"],
        )
        .build();
    check(
        &m,
        eni_flow(&m, "eni-a1", "10.0.2.11", "tcp/22"),
        Full,
        "connectable: eni-a1 > subnet-a1 > rtb-a > subnet-a2 > sg-a > acl-a1 > acl-a2 > sg-a > eni-a2",
    );
    // From the secondary address too.
    let f = Flow {
        src: ip("10.0.2.11"),
        ..eni_flow(&m, "eni-a2", "10.0.1.10", "tcp/22")
    };
    check(
        &m,
        f,
        Full,
        "connectable: eni-a2 > subnet-a2 > rtb-a > subnet-a1 > sg-a > acl-a2 > acl-a1 > sg-a > eni-a1",
    );
}

// ---------------------------------------------------------------------------------------------
// Through the loader: the peering record's CIDRs
// ---------------------------------------------------------------------------------------------

/// A snapshot folder with vpc-a 10.0.0.0/16 (subnet-a1 10.0.1.0/24) and vpc-b holding
/// 10.1.0.0/16 and 10.2.0.0/16 (subnet-b1 10.1.1.0/24, subnet-b2 10.2.1.0/24), peered by
/// pcx-ab whose accepter side is `accepter` (the rest of AccepterVpcInfo is filled in). Both
/// main tables route the other VPC's CIDRs to pcx-ab; no NACLs.
fn peering_record_snapshot(accepter: Value) -> Model {
    let dir = tempfile::tempdir().expect("temporary folder");
    let ar = dir.path().join(ACCOUNT).join(REGION);
    std::fs::create_dir_all(&ar).expect("create account/region folder");
    let put = |file: &str, v: Value| {
        std::fs::write(ar.join(file), serde_json::to_string_pretty(&v).unwrap()).unwrap()
    };
    let assoc = |c: &str| json!({ "CidrBlock": c, "CidrBlockState": { "State": "associated" } });
    put(
        "describe-vpcs.json",
        json!({ "Vpcs": [
            { "VpcId": "vpc-a", "OwnerId": ACCOUNT, "CidrBlock": "10.0.0.0/16",
              "CidrBlockAssociationSet": [assoc("10.0.0.0/16")] },
            { "VpcId": "vpc-b", "OwnerId": ACCOUNT, "CidrBlock": "10.1.0.0/16",
              "CidrBlockAssociationSet": [assoc("10.1.0.0/16"), assoc("10.2.0.0/16")] },
        ]}),
    );
    let subnet = |id: &str, vpc: &str, cidr: &str| {
        json!({ "SubnetId": id, "VpcId": vpc, "CidrBlock": cidr, "OwnerId": ACCOUNT,
                "AvailabilityZone": "us-east-1a" })
    };
    put(
        "describe-subnets.json",
        json!({ "Subnets": [
            subnet("subnet-a1", "vpc-a", "10.0.1.0/24"),
            subnet("subnet-b1", "vpc-b", "10.1.1.0/24"),
            subnet("subnet-b2", "vpc-b", "10.2.1.0/24"),
        ]}),
    );
    let route = |dest: &str, pcx: Option<&str>| match pcx {
        Some(p) => json!({ "DestinationCidrBlock": dest, "VpcPeeringConnectionId": p,
                           "State": "active" }),
        None => json!({ "DestinationCidrBlock": dest, "GatewayId": "local", "State": "active" }),
    };
    let main = json!([{ "Main": true, "AssociationState": { "State": "associated" } }]);
    put(
        "describe-route-tables.json",
        json!({ "RouteTables": [
            { "RouteTableId": "rtb-a", "VpcId": "vpc-a", "OwnerId": ACCOUNT,
              "Associations": main,
              "Routes": [route("10.0.0.0/16", None), route("10.1.0.0/16", Some("pcx-ab")),
                         route("10.2.0.0/16", Some("pcx-ab"))] },
            { "RouteTableId": "rtb-b", "VpcId": "vpc-b", "OwnerId": ACCOUNT,
              "Associations": main,
              "Routes": [route("10.1.0.0/16", None), route("10.2.0.0/16", None),
                         route("10.0.0.0/16", Some("pcx-ab"))] },
        ]}),
    );
    let mut accepter_info = json!({ "VpcId": "vpc-b", "OwnerId": ACCOUNT, "Region": REGION });
    for (k, v) in accepter.as_object().expect("accepter fields") {
        accepter_info[k] = v.clone();
    }
    put(
        "describe-vpc-peering-connections.json",
        json!({ "VpcPeeringConnections": [{
            "VpcPeeringConnectionId": "pcx-ab",
            "Status": { "Code": "active", "Message": "Active" },
            "RequesterVpcInfo": { "VpcId": "vpc-a", "OwnerId": ACCOUNT, "Region": REGION,
                                  "CidrBlock": "10.0.0.0/16",
                                  "CidrBlockSet": [{ "CidrBlock": "10.0.0.0/16" }] },
            "AccepterVpcInfo": accepter_info,
        }]}),
    );
    let loaded = peerscope::snapshot::load(dir.path()).expect("snapshot loads");
    loaded.model
}

#[test]
fn peering_record_without_cidr_block_set_uses_its_cidr_block() {
    let m = peering_record_snapshot(json!({ "CidrBlock": "10.1.0.0/16" }));
    let no_nacl = "(no NACL data for subnet-a1) > (no NACL data for subnet-b1)";
    check(
        &m,
        from_a1("10.1.1.10", "tcp/22"),
        Network,
        &format!("connectable: subnet-a1 > rtb-a > pcx-ab > subnet-b1 > {no_nacl}"),
    );
    // vpc-b's second CIDR is not in the record.
    check(
        &m,
        from_a1("10.2.1.10", "tcp/22"),
        Network,
        "not-in-peer-cidr: subnet-a1 > rtb-a > pcx-ab",
    );
}

#[test]
fn peering_record_cidr_block_set_wins_over_its_cidr_block() {
    let m = peering_record_snapshot(json!({
        "CidrBlock": "10.1.0.0/16",
        "CidrBlockSet": [{ "CidrBlock": "10.1.0.0/16" }, { "CidrBlock": "10.2.0.0/16" }],
    }));
    check(
        &m,
        from_a1("10.2.1.10", "tcp/22"),
        Network,
        "connectable: subnet-a1 > rtb-a > pcx-ab > subnet-b2 > (no NACL data for subnet-a1) > (no NACL data for subnet-b2)",
    );
    // A set that lacks the VPC's primary CIDR block: the set decides.
    let m = peering_record_snapshot(json!({
        "CidrBlock": "10.1.0.0/16",
        "CidrBlockSet": [{ "CidrBlock": "10.2.0.0/16" }],
    }));
    check(
        &m,
        from_a1("10.1.1.10", "tcp/22"),
        Network,
        "not-in-peer-cidr: subnet-a1 > rtb-a > pcx-ab",
    );
}
