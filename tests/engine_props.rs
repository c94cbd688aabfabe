//! `reach` (set-based, all pairs) against `explain` (per packet, the literal contract) on random
//! small snapshots, in the style of range-set-blaze: the plain evaluator is the reference.
//!
//! A case is a snapshot of 2–4 VPCs in 1–3 accounts and 1–2 regions whose CIDRs come from a
//! deliberately overlapping pool (10.0.0.0/16, 10.1.0.0/16, 10.0.0.0/8, 192.168.0.0/16, cut into
//! /24 subnets, sometimes an IPv6 /56), with random route tables (local, peerings active,
//! inactive or missing, blackholes, NAT and internet gateways, prefix lists), NACLs, security
//! groups (CIDR, prefix-list and group rules, also across VPCs) and 0–2 interfaces per subnet;
//! plus ~50 packets. For each packet, explain's verdict must match reach's rows
//! ([`reach_agrees`]): delivered ⇔ a row holds the flow (and then it leads where explain's path
//! does), connectable ⇔ such a row is connectable.
//!
//! The same flows check reach's options: between VPCs only (`include_intra_vpc: false`) and
//! restricted to some sources and destinations (`from`/`to`), against explain's verdict with
//! the flows outside the selection left out.
//!
//! On failure the message names the flow, explain's path, the reach rows that hold it and a
//! one-line-per-object dump of the snapshot.
//!
//! About one case in three drops an account's folder, as when a partner's account is not collected:
//! its VPCs become unseen peers (semantics steps 21–23), and packets from their CIDRs join the
//! sources in both layers.
//!
//! Skipped on purpose: flows from an interface to one of its own addresses (reach leaves an
//! interface's traffic to itself out of its all-pairs answer), and flows mixing IPv4 and IPv6.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::net::IpAddr;

use ipnet::IpNet;
use peerscope::engine::explain::explain;
use peerscope::engine::reach::{ReachOptions, ReachRow, reach};
use peerscope::engine::{Flow, Layer};
use peerscope::model::*;
use peerscope::sets::IpSet;
use proptest::prelude::*;

use crate::engine_fixture::*;

// ---------------------------------------------------------------------------------------------
// Pools
// ---------------------------------------------------------------------------------------------

const ACCOUNTS: [&str; 3] = ["111111111111", "222222222222", "333333333333"];
const REGIONS: [&str; 2] = ["us-east-1", "eu-west-1"];

/// VPC CIDRs, and the subnets each may hold. They overlap on purpose.
const VPC_CIDRS: [(&str, [&str; 3]); 4] = [
    ("10.0.0.0/16", ["10.0.0.0/24", "10.0.1.0/24", "10.0.2.0/24"]),
    ("10.1.0.0/16", ["10.1.0.0/24", "10.1.1.0/24", "10.1.2.0/24"]),
    // 10.0.0.0/22 holds subnets of the 10.0.0.0/16 VPC: replies may land in their own subnet.
    ("10.0.0.0/8", ["10.0.0.0/22", "10.1.1.0/24", "10.2.0.0/24"]),
    (
        "192.168.0.0/16",
        ["192.168.0.0/24", "192.168.1.0/24", "192.168.2.0/24"],
    ),
];
const V6_CIDRS: [&str; 2] = ["2600:1::/56", "2600:2::/56"];

/// Route destinations: VPC and subnet CIDRs, defaults, prefix lists (pl-missing is not in the
/// snapshot).
const ROUTE_DESTS: [&str; 17] = [
    "10.0.0.0/16",
    "10.1.0.0/16",
    "10.0.0.0/8",
    "192.168.0.0/16",
    "10.0.1.0/24",
    "10.1.1.0/24",
    "192.168.1.0/24",
    "10.2.0.0/24",
    "0.0.0.0/0",
    "10.0.0.0/15",
    "::/0",
    "2600:1::/56",
    "2600:2::/56",
    "2600:1:0:1::/64",
    "pl-1",
    "pl-2",
    "pl-missing",
];
/// Route targets: pcx-0…pcx-5 name the generated peerings (some never exist).
const ROUTE_TARGETS: [&str; 10] = [
    "local", "pcx-0", "pcx-1", "pcx-2", "pcx-3", "pcx-4", "pcx-5", "nat-1", "igw-1", "tgw-1",
];
const PEERING_STATUS: [&str; 5] = [
    "active",
    "active",
    "active",
    "pending-acceptance",
    "deleted",
];
/// Prefix-list entries, NACL and SG CIDRs.
const CIDRS: [&str; 12] = [
    "0.0.0.0/0",
    "::/0",
    "10.0.0.0/16",
    "10.1.0.0/16",
    "10.0.0.0/8",
    "192.168.0.0/16",
    "10.0.1.0/24",
    "10.1.1.0/24",
    "192.168.1.0/24",
    "10.0.1.10/32",
    "2600:1::/56",
    "2600:2:0:1::/64",
];
const RULE_PROTOCOLS: [&str; 6] = ["tcp", "udp", "icmp", "-1", "icmpv6", "50"];
/// Port ranges around 22, 443 and the 1023/1024 ephemeral boundary.
const PORT_RANGES: [&str; 10] = [
    "22",
    "0-1023",
    "1024-65535",
    "443",
    "1023-1024",
    "all",
    "22-443",
    "1024-2000",
    "2000-65535",
    "65535",
];
const RULE_NUMBERS: [u32; 6] = [50, 100, 110, 200, 300, 32766];
/// Flow protocols and ports.
const PROTOCOLS: [u8; 5] = [6, 17, 1, 58, 50];
const PORTS: [u16; 5] = [22, 443, 1023, 1024, 65535];
/// Destinations outside every subnet (some inside a VPC CIDR).
const OUTSIDE: [&str; 6] = [
    "10.0.200.5",
    "10.1.200.5",
    "192.168.200.5",
    "8.8.8.8",
    "2600:1:0:ff::1",
    "2600:9::1",
];

// ---------------------------------------------------------------------------------------------
// Specs: what proptest generates and shrinks (indices into the pools)
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug)]
struct Entry {
    rule: usize,
    allow: bool,
    proto: usize,
    ports: usize,
    cidr: usize,
}

#[derive(Clone, Debug)]
struct NaclSpec {
    default: bool,
    /// Bit i: lists subnet i.
    assoc: u8,
    /// End with "allow everything" (30000/30001), so that the random entries carve exceptions.
    open_tail: bool,
    ingress: Vec<Entry>,
    egress: Vec<Entry>,
}

#[derive(Clone, Debug)]
struct RuleSpec {
    proto: usize,
    ports: usize,
    /// < CIDRS.len(): a CIDR; then pl-1, pl-2, pl-missing; then a group (mod the groups).
    peer: usize,
}

#[derive(Clone, Debug)]
struct SgSpec {
    /// AWS's default egress rule (all traffic to 0.0.0.0/0 and ::/0) before the random ones.
    open_egress: bool,
    /// The same for ingress (rarer), so that enough flows pass both groups.
    open_ingress: bool,
    ingress: Vec<RuleSpec>,
    egress: Vec<RuleSpec>,
}

#[derive(Clone, Debug)]
struct RouteSpec {
    dest: usize,
    target: usize,
    blackhole: bool,
}

#[derive(Clone, Debug)]
struct TableSpec {
    main: bool,
    assoc: u8,
    local: bool,
    /// Bit k: route the peer's CIDRs to pcx-k when this VPC is a side of it (as AWS users do),
    /// before the random routes.
    peer_routes: u8,
    /// Bit k: only the peer's first subnet (a /24) rather than its VPC CIDR.
    peer_narrow: u8,
    routes: Vec<RouteSpec>,
}

#[derive(Clone, Debug)]
struct SubnetSpec {
    slot: usize,
    v6: bool,
    /// Per interface: with an IPv6 address?, its groups (indices mod the VPC's groups).
    enis: Vec<(bool, Vec<usize>)>,
}

#[derive(Clone, Debug)]
struct VpcSpec {
    cidr: usize,
    v6: Option<usize>,
    account: usize,
    region: usize,
    subnets: Vec<SubnetSpec>,
    tables: Vec<TableSpec>,
    nacls: Vec<NaclSpec>,
    sgs: Vec<SgSpec>,
}

#[derive(Clone, Debug)]
struct PeeringSpec {
    a: usize,
    b: usize,
    status: usize,
    /// Drop the record's first CIDR of side b (the record lacks a CIDR the VPC has).
    narrow: bool,
}

/// One packet: indices into the candidate sources and destinations.
#[derive(Clone, Debug)]
struct Packet {
    src: usize,
    /// Pick the destination among addresses of the source's VPC and the VPCs it has a
    /// peering record with (most random addresses are simply unrouted).
    near: bool,
    dst: usize,
    proto: usize,
    port: usize,
}

#[derive(Clone, Debug)]
struct Spec {
    vpcs: Vec<VpcSpec>,
    peerings: Vec<PeeringSpec>,
    prefix_lists: [Vec<usize>; 2],
    packets: Vec<Packet>,
    /// An account whose folder is dropped: its VPCs are known only from the peering records
    /// of the others (unseen peers, semantics steps 21–23).
    hide: Option<usize>,
}

fn entry() -> impl Strategy<Value = Entry> {
    (
        0..RULE_NUMBERS.len(),
        any::<bool>(),
        0..RULE_PROTOCOLS.len(),
        0..PORT_RANGES.len(),
        0..CIDRS.len(),
    )
        .prop_map(|(rule, allow, proto, ports, cidr)| Entry {
            rule,
            allow,
            proto,
            ports,
            cidr,
        })
}

fn nacl() -> impl Strategy<Value = NaclSpec> {
    (
        prop::bool::weighted(0.7),
        any::<u8>(),
        prop::bool::weighted(0.6),
        prop::collection::vec(entry(), 0..4),
        prop::collection::vec(entry(), 0..4),
    )
        .prop_map(|(default, assoc, open_tail, ingress, egress)| NaclSpec {
            default,
            assoc,
            open_tail,
            ingress,
            egress,
        })
}

fn sg_rule() -> impl Strategy<Value = RuleSpec> {
    (
        0..RULE_PROTOCOLS.len(),
        0..PORT_RANGES.len(),
        0..CIDRS.len() + 8,
    )
        .prop_map(|(proto, ports, peer)| RuleSpec { proto, ports, peer })
}

fn sg() -> impl Strategy<Value = SgSpec> {
    (
        prop::bool::weighted(0.7),
        prop::bool::weighted(0.25),
        prop::collection::vec(sg_rule(), 0..5),
        prop::collection::vec(sg_rule(), 0..3),
    )
        .prop_map(|(open_egress, open_ingress, ingress, egress)| SgSpec {
            open_egress,
            open_ingress,
            ingress,
            egress,
        })
}

fn route() -> impl Strategy<Value = RouteSpec> {
    (
        0..ROUTE_DESTS.len(),
        0..ROUTE_TARGETS.len(),
        prop::bool::weighted(0.15),
    )
        .prop_map(|(dest, target, blackhole)| RouteSpec {
            dest,
            target,
            blackhole,
        })
}

fn table() -> impl Strategy<Value = TableSpec> {
    (
        prop::bool::weighted(0.8),
        any::<u8>(),
        prop::bool::weighted(0.9),
        // Each bit set with probability 3/4.
        (any::<u8>(), any::<u8>()).prop_map(|(a, b)| a | b),
        any::<u8>(),
        prop::collection::vec(route(), 0..5),
    )
        .prop_map(
            |(main, assoc, local, peer_routes, peer_narrow, routes)| TableSpec {
                main,
                assoc,
                local,
                peer_routes,
                peer_narrow,
                routes,
            },
        )
}

fn subnet() -> impl Strategy<Value = SubnetSpec> {
    (
        0..3usize,
        any::<bool>(),
        prop::collection::vec(
            (
                prop::bool::weighted(0.3),
                prop::collection::vec(0..4usize, 1..3),
            ),
            0..3,
        ),
    )
        .prop_map(|(slot, v6, enis)| SubnetSpec { slot, v6, enis })
}

fn vpc() -> impl Strategy<Value = VpcSpec> {
    (
        0..VPC_CIDRS.len(),
        prop::option::weighted(0.3, 0..V6_CIDRS.len()),
        0..ACCOUNTS.len(),
        prop::bool::weighted(0.25),
        prop::collection::vec(subnet(), 1..4),
        prop::collection::vec(table(), 0..3),
        prop::collection::vec(nacl(), 0..3),
        prop::collection::vec(sg(), 1..3),
    )
        .prop_map(
            |(cidr, v6, account, other_region, subnets, tables, nacls, sgs)| VpcSpec {
                cidr,
                v6,
                account,
                region: usize::from(other_region),
                subnets,
                tables,
                nacls,
                sgs,
            },
        )
}

fn spec() -> impl Strategy<Value = Spec> {
    (
        prop::collection::vec(vpc(), 2..5),
        prop::collection::vec(
            (
                0..4usize,
                0..4usize,
                0..PEERING_STATUS.len(),
                prop::bool::weighted(0.2),
            ),
            0..6,
        ),
        prop::collection::vec(0..CIDRS.len(), 1..3),
        prop::collection::vec(0..CIDRS.len(), 1..3),
        prop::collection::vec(
            (
                any::<u16>(),
                prop::bool::weighted(0.6),
                any::<u16>(),
                0..PROTOCOLS.len(),
                0..PORTS.len(),
            ),
            50,
        ),
        prop::option::weighted(0.4, 0..ACCOUNTS.len()),
    )
        .prop_map(|(vpcs, peerings, pl1, pl2, packets, hide)| Spec {
            hide,
            peerings: peerings
                .into_iter()
                .map(|(a, b, status, narrow)| PeeringSpec {
                    a: a % vpcs.len(),
                    b: b % vpcs.len(),
                    status,
                    narrow,
                })
                .filter(|p| p.a != p.b)
                .collect(),
            vpcs,
            prefix_lists: [pl1, pl2],
            packets: packets
                .into_iter()
                .map(|(src, near, dst, proto, port)| Packet {
                    src: src.into(),
                    near,
                    dst: dst.into(),
                    proto,
                    port,
                })
                .collect(),
        })
}

// ---------------------------------------------------------------------------------------------
// Building the model
// ---------------------------------------------------------------------------------------------

fn vpc_id(v: usize) -> String {
    format!("vpc-{v}")
}

fn subnet_id(v: usize, s: usize) -> String {
    format!("subnet-{v}-{s}")
}

fn sg_id(v: usize, g: usize) -> String {
    format!("sg-{v}-{g}")
}

/// The address `host` inside `net`.
fn host(net: &str, host: u32) -> IpAddr {
    match net.parse::<IpNet>().expect("pool CIDR") {
        IpNet::V4(n) => IpAddr::V4((u32::from(n.network()) + host).into()),
        IpNet::V6(n) => IpAddr::V6((u128::from(n.network()) + u128::from(host)).into()),
    }
}

/// The subnets a VPC spec really gets: slots deduplicated (subnets of a VPC never overlap),
/// with their CIDRs.
fn subnets_of(v: &VpcSpec) -> Vec<(usize, &SubnetSpec, Vec<String>)> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for (i, s) in v.subnets.iter().enumerate() {
        if !seen.insert(s.slot) {
            continue;
        }
        let mut cidrs = vec![VPC_CIDRS[v.cidr].1[s.slot].to_owned()];
        if let (Some(v6), true) = (v.v6, s.v6) {
            let base = V6_CIDRS[v6].trim_end_matches("::/56");
            cidrs.push(format!("{base}:0:{}::/64", s.slot));
        }
        out.push((i, s, cidrs));
    }
    out
}

fn entry_spec(e: &Entry) -> String {
    format!(
        "{} {} {} {} {}",
        RULE_NUMBERS[e.rule],
        if e.allow { "allow" } else { "deny" },
        RULE_PROTOCOLS[e.proto],
        PORT_RANGES[e.ports],
        CIDRS[e.cidr]
    )
}

fn rule_spec(r: &RuleSpec, groups: &[String]) -> String {
    let peer = match r.peer {
        p if p < CIDRS.len() => CIDRS[p].to_owned(),
        p if p == CIDRS.len() => "pl-1".to_owned(),
        p if p == CIDRS.len() + 1 => "pl-2".to_owned(),
        p if p == CIDRS.len() + 2 => "pl-missing".to_owned(),
        p if p == CIDRS.len() + 3 => "sg-missing".to_owned(),
        p => groups[p % groups.len()].clone(),
    };
    format!(
        "{} {} {peer}",
        RULE_PROTOCOLS[r.proto], PORT_RANGES[r.ports]
    )
}

fn build(spec: &Spec) -> Model {
    let mut f = Fixture::new();
    for (i, pl) in spec.prefix_lists.iter().enumerate() {
        let cidrs: Vec<&str> = pl.iter().map(|c| CIDRS[*c]).collect();
        f = f.prefix_list(&format!("pl-{}", i + 1), &cidrs);
    }
    let all_groups: Vec<String> = spec
        .vpcs
        .iter()
        .enumerate()
        .flat_map(|(v, vs)| (0..vs.sgs.len()).map(move |g| sg_id(v, g)))
        .collect();
    for (v, vs) in spec.vpcs.iter().enumerate() {
        let vpc = vpc_id(v);
        let mut cidrs = vec![VPC_CIDRS[vs.cidr].0];
        if let Some(v6) = vs.v6 {
            cidrs.push(V6_CIDRS[v6]);
        }
        f = f.vpc(&vpc, ACCOUNTS[vs.account], REGIONS[vs.region], &cidrs);
        let subnets = subnets_of(vs);
        for (i, _, cidrs) in &subnets {
            let cidrs: Vec<&str> = cidrs.iter().map(String::as_str).collect();
            f = f.subnet_cidrs(&subnet_id(v, *i), &vpc, &cidrs);
        }
        let listed = |mask: u8| -> Vec<String> {
            subnets
                .iter()
                .filter(|(i, _, _)| mask & (1 << i) != 0)
                .map(|(i, _, _)| subnet_id(v, *i))
                .collect()
        };
        for (t, ts) in vs.tables.iter().enumerate() {
            let id = format!("rtb-{v}-{t}");
            let assoc = listed(ts.assoc);
            let assoc: Vec<&str> = assoc.iter().map(String::as_str).collect();
            f = f.route_table(&id, &vpc, ts.main, &assoc);
            if ts.local {
                for c in &cidrs {
                    f = f.route(&id, c, "local");
                }
            }
            for (k, p) in spec.peerings.iter().enumerate() {
                let peer = match (p.a == v, p.b == v) {
                    (true, _) => p.b,
                    (_, true) => p.a,
                    _ => continue,
                };
                if ts.peer_routes & (1 << k) == 0 {
                    continue;
                }
                let pv = &spec.vpcs[peer];
                let pcx = format!("pcx-{k}");
                if ts.peer_narrow & (1 << k) != 0 {
                    for c in &subnets_of(pv)[0].2 {
                        f = f.route(&id, c, &pcx);
                    }
                } else {
                    f = f.route(&id, VPC_CIDRS[pv.cidr].0, &pcx);
                    if let Some(v6) = pv.v6 {
                        f = f.route(&id, V6_CIDRS[v6], &pcx);
                    }
                }
            }
            for r in &ts.routes {
                let (dest, target) = (ROUTE_DESTS[r.dest], ROUTE_TARGETS[r.target]);
                f = if r.blackhole {
                    f.blackhole(&id, dest, target)
                } else {
                    f.route(&id, dest, target)
                };
            }
        }
        for (n, ns) in vs.nacls.iter().enumerate() {
            let id = format!("acl-{v}-{n}");
            let assoc = listed(ns.assoc);
            let assoc: Vec<&str> = assoc.iter().map(String::as_str).collect();
            f = f.nacl(&id, &vpc, ns.default, &assoc);
            for (egress, entries) in [(false, &ns.ingress), (true, &ns.egress)] {
                let mut specs: Vec<String> = Vec::new();
                let mut numbers = BTreeSet::new();
                for e in entries {
                    // Rule numbers are unique per direction.
                    if numbers.insert(e.rule) {
                        specs.push(entry_spec(e));
                    }
                }
                if ns.open_tail {
                    specs.push("30000 allow -1 all 0.0.0.0/0".to_owned());
                    specs.push("30001 allow -1 all ::/0".to_owned());
                }
                for e in &specs {
                    f = if egress {
                        f.nacl_out(&id, e)
                    } else {
                        f.nacl_in(&id, e)
                    };
                }
            }
        }
        for (g, gs) in vs.sgs.iter().enumerate() {
            let id = sg_id(v, g);
            f = f.sg(&id, &vpc);
            if gs.open_egress {
                f = f.sg_out(&id, "-1 all 0.0.0.0/0").sg_out(&id, "-1 all ::/0");
            }
            if gs.open_ingress {
                f = f.sg_in(&id, "-1 all 0.0.0.0/0").sg_in(&id, "-1 all ::/0");
            }
            for r in &gs.ingress {
                f = f.sg_in(&id, &rule_spec(r, &all_groups));
            }
            for r in &gs.egress {
                f = f.sg_out(&id, &rule_spec(r, &all_groups));
            }
        }
        for (i, s, cidrs) in &subnets {
            for (e, (v6, groups)) in s.enis.iter().enumerate() {
                // Distinct hosts within a subnet: .10, .11.
                let mut addrs = vec![host(&cidrs[0], 10 + e as u32).to_string()];
                if *v6 && cidrs.len() > 1 {
                    addrs.push(host(&cidrs[1], 0x10 + e as u32).to_string());
                }
                let addrs: Vec<&str> = addrs.iter().map(String::as_str).collect();
                let groups: BTreeSet<String> =
                    groups.iter().map(|g| sg_id(v, g % vs.sgs.len())).collect();
                let groups: Vec<&str> = groups.iter().map(String::as_str).collect();
                f = f.eni(
                    &format!("eni-{v}-{i}-{e}"),
                    &subnet_id(v, *i),
                    &addrs,
                    &groups,
                );
            }
        }
    }
    for (k, p) in spec.peerings.iter().enumerate() {
        let id = format!("pcx-{k}");
        let (a, b) = (vpc_id(p.a), vpc_id(p.b));
        f = f.peering(&id, PEERING_STATUS[p.status], &a, &b);
        if p.narrow {
            let vb = &spec.vpcs[p.b];
            let kept: Vec<&str> = vb.v6.map(|x| V6_CIDRS[x]).into_iter().collect();
            f = f.peering_cidrs(&id, &b, &kept);
        }
    }
    match spec.hide {
        None => f.build(),
        Some(h) => without_account(f.parts(), ACCOUNTS[h]),
    }
}

/// The snapshot as it reads with `account`'s folder dropped: its objects are gone, and so are
/// peering records no remaining account holds; its VPCs stay known through the others'.
/// Unchanged when the account holds every VPC.
fn without_account(parts: &Parts, account: &str) -> Model {
    let mut p = parts.clone();
    let gone = |a: &AccountId| a.as_str() == account;
    if p.vpcs.values().all(|v| gone(&v.account)) {
        return Model::new(p);
    }
    p.vpcs.retain(|_, v| !gone(&v.account));
    p.subnets.retain(|_, s| !gone(&s.account));
    p.route_tables.retain(|_, t| !gone(&t.account));
    p.network_acls.retain(|_, a| !gone(&a.account));
    p.security_groups.retain(|_, g| !gone(&g.account));
    p.network_interfaces.retain(|_, e| !gone(&e.account));
    let kept: BTreeSet<VpcId> = p.vpcs.keys().cloned().collect();
    p.peerings
        .retain(|_, c| kept.contains(&c.requester.vpc) || kept.contains(&c.accepter.vpc));
    Model::new(p)
}

/// Sources in unseen VPCs: a few addresses of each CIDR their records list.
fn unseen_sources(m: &Model) -> Vec<(VpcId, IpAddr)> {
    let mut out = Vec::new();
    for u in m.unseen_vpcs().values() {
        for c in &u.cidrs {
            let hosts: &[u32] = if c.addr().is_ipv4() {
                &[10, 0x100 + 11, 0x200 + 200]
            } else {
                &[0x10, 0x11]
            };
            for h in hosts {
                out.push((u.id.clone(), host(&c.to_string(), *h)));
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// The property
// ---------------------------------------------------------------------------------------------

/// One line per object.
fn dump(m: &Model) -> String {
    let mut s = String::new();
    let cidrs = |c: &[IpNet]| {
        c.iter()
            .map(|c| c.to_string())
            .collect::<Vec<_>>()
            .join(",")
    };
    for v in m.vpcs.values() {
        let _ = writeln!(
            s,
            "{} {} {} [{}]",
            v.id,
            v.account,
            v.region,
            cidrs(&v.cidrs)
        );
    }
    for x in m.subnets.values() {
        let _ = writeln!(s, "  {} {} [{}]", x.id, x.vpc, cidrs(&x.cidrs));
    }
    for t in m.route_tables.values() {
        let routes: Vec<String> = t.routes.iter().map(|r| r.to_string()).collect();
        let _ = writeln!(
            s,
            "  {} {}{} assoc {:?}: {}",
            t.id,
            t.vpc,
            if t.main { " main" } else { "" },
            t.subnets,
            routes.join("; ")
        );
    }
    for a in m.network_acls.values() {
        let e = |l: &[NaclEntry]| {
            l.iter()
                .map(|e| {
                    format!(
                        "{} {:?} {} {} {}",
                        e.rule_number, e.action, e.protocol, e.ports, e.cidr
                    )
                })
                .collect::<Vec<_>>()
                .join("; ")
        };
        let _ = writeln!(
            s,
            "  {} {}{} assoc {:?} in [{}] out [{}]",
            a.id,
            a.vpc,
            if a.is_default { " default" } else { "" },
            a.subnets,
            e(&a.ingress),
            e(&a.egress)
        );
    }
    for g in m.security_groups.values() {
        let r = |l: &[SgRule]| {
            l.iter()
                .map(|r| r.to_string())
                .collect::<Vec<_>>()
                .join("; ")
        };
        let _ = writeln!(
            s,
            "  {} {} in [{}] out [{}]",
            g.id,
            g.vpc,
            r(&g.ingress),
            r(&g.egress)
        );
    }
    for e in m.network_interfaces.values() {
        let _ = writeln!(
            s,
            "  {} {} {:?} {:?}",
            e.id, e.subnet, e.addresses, e.groups
        );
    }
    for p in m.peerings.values() {
        let side = |x: &PeeringSide| format!("{}@{:?}[{}]", x.vpc, x.region, cidrs(&x.cidrs));
        let _ = writeln!(
            s,
            "  {} {} {} <-> {}",
            p.id,
            p.status,
            side(&p.requester),
            side(&p.accepter)
        );
    }
    for p in m.prefix_lists.values() {
        let _ = writeln!(s, "  {} [{}]", p.id, cidrs(&p.cidrs));
    }
    s
}

/// Destination candidates, each with the VPC whose subnet holds it (`None`: no subnet).
type Destinations = Vec<(Option<VpcId>, IpAddr)>;

/// Sources of the network layer: (VPC, address) in subnets; destinations: those addresses
/// and some outside every subnet.
fn network_endpoints(m: &Model) -> (Vec<(VpcId, IpAddr)>, Destinations) {
    let mut src = Vec::new();
    for s in m.subnets.values() {
        for c in &s.cidrs {
            let net = c.to_string();
            let hosts: &[u32] = if c.addr().is_ipv4() {
                &[10, 11, 200]
            } else {
                &[0x10, 0x11]
            };
            for h in hosts {
                src.push((s.vpc.clone(), host(&net, *h)));
            }
        }
    }
    let mut dst: Destinations = src.iter().map(|(v, a)| (Some(v.clone()), *a)).collect();
    dst.extend(OUTSIDE.iter().map(|a| (None, ip(a))));
    (src, dst)
}

/// Sources of the full layer: (interface, address); destinations: interface addresses and,
/// per VPC, one subnet address no interface holds.
fn full_endpoints(m: &Model) -> (Vec<(&NetworkInterface, IpAddr)>, Destinations) {
    let src: Vec<(&NetworkInterface, IpAddr)> = m
        .network_interfaces
        .values()
        .flat_map(|e| e.addresses.iter().map(move |a| (e, *a)))
        .collect();
    let mut dst: Destinations = src.iter().map(|(e, a)| (Some(e.vpc.clone()), *a)).collect();
    for v in m.vpcs.keys() {
        if let Some(s) = m
            .index()
            .subnets_of(v)
            .first()
            .and_then(|s| m.subnets.get(s))
        {
            dst.push((Some(v.clone()), host(&s.cidrs[0].to_string(), 200)));
        }
    }
    (src, dst)
}

/// The packet's destination for a source `src` in `vpc`: of the same address family, and
/// when the packet asks for a near one, in `vpc` or a VPC it has a peering record with.
fn pick_destination(
    m: &Model,
    dsts: &Destinations,
    vpc: &VpcId,
    src: IpAddr,
    p: &Packet,
) -> Option<IpAddr> {
    let mut near: BTreeSet<&VpcId> = BTreeSet::from([vpc]);
    for c in m.peerings.values() {
        if let Some(side) = c.peer_of(vpc) {
            near.insert(&side.vpc);
        }
    }
    let cands: Vec<IpAddr> = dsts
        .iter()
        .filter(|(owner, a)| {
            a.is_ipv4() == src.is_ipv4()
                && (!p.near || owner.as_ref().is_some_and(|o| near.contains(o)))
        })
        .map(|(_, a)| *a)
        .collect();
    (!cands.is_empty()).then(|| cands[p.dst % cands.len()])
}

/// reach's answers for one case and layer: all pairs, between VPCs only, and restricted to
/// some sources and destinations.
struct Answers {
    all: Vec<ReachRow>,
    inter_vpc: Vec<ReachRow>,
    restricted: Vec<ReachRow>,
    from: BTreeMap<VpcId, IpSet>,
    to: BTreeMap<VpcId, IpSet>,
}

fn set(cidrs: &[&str]) -> IpSet {
    IpSet::from_nets(cidrs.iter().map(|c| net(c)))
}

fn answers(m: &Model, layer: Layer) -> Answers {
    let opts = |include_intra_vpc: bool| ReachOptions {
        layer: Some(layer),
        include_intra_vpc,
        ..ReachOptions::default()
    };
    // Selections as `reach --from/--to` makes them: some VPCs whole, some in part, some not.
    let from = BTreeMap::from([
        (VpcId::new("vpc-0"), IpSet::all()),
        (
            VpcId::new("vpc-1"),
            set(&["10.0.0.0/16", "192.168.0.0/17", "2600:1::/57"]),
        ),
    ]);
    let to = BTreeMap::from([
        (VpcId::new("vpc-0"), set(&["10.0.0.0/15", "192.168.1.0/24"])),
        (VpcId::new("vpc-1"), IpSet::all()),
        (VpcId::new("vpc-2"), IpSet::all()),
    ]);
    Answers {
        all: reach(m, &opts(true)),
        inter_vpc: reach(m, &opts(false)),
        restricted: reach(
            m,
            &ReachOptions {
                from: Some(from.clone()),
                to: Some(to.clone()),
                ..opts(true)
            },
        ),
        from,
        to,
    }
}

/// Checks one flow against every answer; the error names everything needed to reproduce it.
fn agree(m: &Model, ans: &Answers, flow: &Flow, layer: Layer) -> Result<(), TestCaseError> {
    let got = explain(m, flow, layer)
        .map_err(|e| TestCaseError::fail(format!("{layer}: {flow:?}: explain failed: {e}")))?;
    let dst_vpc = delivered_to(m, &got);
    // explain's answer with the flow left out of a selection.
    let without = |keep: bool| {
        let mut e = got.clone();
        if !keep {
            e.delivered = false;
            e.connectable = false;
        }
        e
    };
    let selected = |sel: &BTreeMap<VpcId, IpSet>, vpc: Option<&VpcId>, a: IpAddr| {
        vpc.and_then(|v| sel.get(v)).is_some_and(|s| s.contains(a))
    };
    // From an unseen VPC a flow may reach several VPCs (one per connection) and explain shows
    // one of them; a selection by destination VPC is checked on flows with one candidate.
    let several = m.unseen_vpc(&flow.src_vpc).is_some_and(|u| {
        u.peerings
            .iter()
            .filter_map(|p| m.peerings.get(p))
            .filter(|c| c.is_active())
            .filter_map(|c| c.peer_of(&flow.src_vpc))
            .filter(|o| o.cidrs.iter().any(|c| c.contains(&flow.dst)))
            .count()
            > 1
    });
    let checks = [
        ("all pairs", &ans.all, without(true)),
        (
            "between VPCs only",
            &ans.inter_vpc,
            without(dst_vpc.as_ref() != Some(&flow.src_vpc)),
        ),
        (
            "restricted by from/to",
            &ans.restricted,
            without(
                selected(&ans.from, Some(&flow.src_vpc), flow.src)
                    && selected(&ans.to, dst_vpc.as_ref(), flow.dst),
            ),
        ),
    ];
    for (what, rows, want) in checks {
        if several && what == "restricted by from/to" {
            continue;
        }
        reach_agrees(m, rows, flow, &want).map_err(|msg| {
            TestCaseError::fail(format!(
                "{layer} layer, reach {what}, {flow:?}\n{msg}\nexplain: delivered={} connectable={} reason={:?}\n{}\nsnapshot:\n{}",
                got.delivered,
                got.connectable,
                got.reason,
                path_text(&got),
                dump(m)
            ))
        })?;
    }
    Ok(())
}

fn service(p: &Packet) -> (u8, Option<u16>) {
    let proto = PROTOCOLS[p.proto];
    let port = Protocol::has_ports(proto).then_some(PORTS[p.port]);
    (proto, port)
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 1024,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn reach_agrees_with_explain_in_the_network_layer(spec in spec()) {
        let m = build(&spec);
        let ans = answers(&m, Layer::Network);
        let (mut srcs, dsts) = network_endpoints(&m);
        srcs.extend(unseen_sources(&m));
        for p in &spec.packets {
            let (vpc, src) = &srcs[p.src % srcs.len()];
            let Some(dst) = pick_destination(&m, &dsts, vpc, *src, p) else {
                continue;
            };
            let (proto, port) = service(p);
            let flow = Flow { src_vpc: vpc.clone(), src: *src, src_eni: None, dst, proto, port };
            agree(&m, &ans, &flow, Layer::Network)?;
        }
    }

    #[test]
    fn reach_agrees_with_explain_in_the_full_layer(spec in spec()) {
        let m = build(&spec);
        let ans = answers(&m, Layer::Full);
        let (srcs, dsts) = full_endpoints(&m);
        if srcs.is_empty() {
            // No interface: reach has no full-layer row at all.
            prop_assert!(ans.all.is_empty(), "full-layer rows without interfaces: {:?}", ans.all);
            return Ok(());
        }
        for p in &spec.packets {
            let (eni, src) = srcs[p.src % srcs.len()];
            let Some(dst) = pick_destination(&m, &dsts, &eni.vpc, src, p) else {
                continue;
            };
            if eni.addresses.contains(&dst) {
                continue;
            }
            let (proto, port) = service(p);
            let flow = Flow {
                src_vpc: eni.vpc.clone(),
                src,
                src_eni: Some(eni.id.clone()),
                dst,
                proto,
                port,
            };
            agree(&m, &ans, &flow, Layer::Full)?;
        }
        // Unseen sources have no interface: their flows meet the destination's groups only.
        let unseen = unseen_sources(&m);
        for p in spec.packets.iter().filter(|_| !unseen.is_empty()) {
            let (vpc, src) = &unseen[p.src % unseen.len()];
            let Some(dst) = pick_destination(&m, &dsts, vpc, *src, p) else {
                continue;
            };
            let (proto, port) = service(p);
            let flow = Flow { src_vpc: vpc.clone(), src: *src, src_eni: None, dst, proto, port };
            agree(&m, &ans, &flow, Layer::Full)?;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// diff against explain, before and after one edit
// ---------------------------------------------------------------------------------------------

/// One edit of a spec: a VPC's first route table, NACL or security group replaced by another
/// random one, or a peering's status changed. Subnets and interfaces stay, so every packet
/// means the same flow on both sides.
#[derive(Clone, Debug)]
enum Edit {
    Table(usize, TableSpec),
    Nacl(usize, NaclSpec),
    Group(usize, SgSpec),
    Peering(usize, usize),
    /// Only the routes of a VPC's first table (its associations kept): what-if's region.
    Routes(usize, TableSpec),
    /// Only the entries of a VPC's first NACL (its associations kept): what-if's region.
    Entries(usize, NaclSpec),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (0..4usize, table()).prop_map(|(v, t)| Edit::Table(v, t)),
        (0..4usize, nacl()).prop_map(|(v, n)| Edit::Nacl(v, n)),
        (0..4usize, sg()).prop_map(|(v, g)| Edit::Group(v, g)),
        (0..6usize, 0..PEERING_STATUS.len()).prop_map(|(p, s)| Edit::Peering(p, s)),
        (0..4usize, table()).prop_map(|(v, t)| Edit::Routes(v, t)),
        (0..4usize, nacl()).prop_map(|(v, n)| Edit::Entries(v, n)),
    ]
}

fn edited(spec: &Spec, e: &Edit) -> Spec {
    let mut s = spec.clone();
    let n = s.vpcs.len();
    match e.clone() {
        Edit::Table(v, t) => {
            let v = &mut s.vpcs[v % n];
            match v.tables.first_mut() {
                Some(x) => *x = t,
                None => v.tables.push(t),
            }
        }
        Edit::Nacl(v, a) => {
            let v = &mut s.vpcs[v % n];
            match v.nacls.first_mut() {
                Some(x) => *x = a,
                None => v.nacls.push(a),
            }
        }
        Edit::Group(v, g) => s.vpcs[v % n].sgs[0] = g,
        Edit::Routes(v, t) => {
            if let Some(x) = s.vpcs[v % n].tables.first_mut() {
                x.local = t.local;
                x.peer_routes = t.peer_routes;
                x.peer_narrow = t.peer_narrow;
                x.routes = t.routes;
            }
        }
        Edit::Entries(v, a) => {
            if let Some(x) = s.vpcs[v % n].nacls.first_mut() {
                x.open_tail = a.open_tail;
                x.ingress = a.ingress;
                x.egress = a.egress;
            }
        }
        Edit::Peering(p, status) => {
            if !s.peerings.is_empty() {
                let k = p % s.peerings.len();
                s.peerings[k].status = status;
            }
        }
    }
    s
}

/// Does a changed box of `kind` hold the flow, delivered to `dst_vpc`?
fn in_changes(
    flows: &[peerscope::diff::FlowChange],
    kind: peerscope::diff::FlowChangeKind,
    flow: &Flow,
    dst_vpc: &VpcId,
) -> bool {
    flows.iter().any(|f| {
        f.kind == kind
            && f.src_vpc == flow.src_vpc
            && &f.dst_vpc == dst_vpc
            && f.src.contains(flow.src)
            && f.dst.contains(flow.dst)
            && f.services.contains(flow.proto, flow.port)
    })
}

/// For every packet valid on both sides: each kind of change holds the flow exactly when
/// explain's verdicts before and after say so, per destination VPC; and the incremental diff
/// (scope from comparing the models) equals the diff over every VPC.
fn diff_agrees(spec: &Spec, e: &Edit, layer: Layer) -> Result<(), TestCaseError> {
    use peerscope::diff::{DiffOptions, FlowChangeKind as K, diff};
    let (m1, m2) = (build(spec), build(&edited(spec, e)));
    let opts = DiffOptions {
        layer: Some(layer),
        include_intra_vpc: true,
        intent: None,
        whole_vpcs: false,
    };
    let d = diff(&m1, &m2, None, &opts);
    let all: BTreeSet<VpcId> = m1.vpcs.keys().cloned().collect();
    let whole = diff(
        &m1,
        &m2,
        Some(&all),
        &DiffOptions {
            whole_vpcs: true,
            ..opts
        },
    );
    prop_assert_eq!(
        &d.flows,
        &whole.flows,
        "incremental diff differs from the whole diff"
    );
    let flows: Vec<Flow> = match layer {
        Layer::Network => {
            let (srcs, dsts) = network_endpoints(&m1);
            spec.packets
                .iter()
                .filter_map(|p| {
                    let (vpc, src) = &srcs[p.src % srcs.len()];
                    let dst = pick_destination(&m1, &dsts, vpc, *src, p)?;
                    let (proto, port) = service(p);
                    Some(Flow {
                        src_vpc: vpc.clone(),
                        src: *src,
                        src_eni: None,
                        dst,
                        proto,
                        port,
                    })
                })
                .collect()
        }
        Layer::Full => {
            let (srcs, dsts) = full_endpoints(&m1);
            if srcs.is_empty() {
                return Ok(());
            }
            spec.packets
                .iter()
                .filter_map(|p| {
                    let (eni, src) = srcs[p.src % srcs.len()];
                    let dst = pick_destination(&m1, &dsts, &eni.vpc, src, p)?;
                    if eni.addresses.contains(&dst) {
                        return None;
                    }
                    let (proto, port) = service(p);
                    Some(Flow {
                        src_vpc: eni.vpc.clone(),
                        src,
                        src_eni: Some(eni.id.clone()),
                        dst,
                        proto,
                        port,
                    })
                })
                .collect()
        }
    };
    for flow in flows {
        let (Ok(b), Ok(a)) = (explain(&m1, &flow, layer), explain(&m2, &flow, layer)) else {
            continue;
        };
        let (vb, va) = (delivered_to(&m1, &b), delivered_to(&m2, &a));
        for v in vb.iter().chain(va.iter()) {
            let del_b = b.delivered && vb.as_ref() == Some(v);
            let del_a = a.delivered && va.as_ref() == Some(v);
            let con_b = del_b && b.connectable;
            let con_a = del_a && a.connectable;
            for (kind, want) in [
                (K::NewlyDelivered, del_a && !del_b),
                (K::NoLongerDelivered, del_b && !del_a),
                (K::NoLongerConnectable, con_b && del_a && !con_a),
                (K::NewlyConnectable, con_a && del_b && !con_b),
            ] {
                let got = in_changes(&d.flows, kind, &flow, v);
                prop_assert_eq!(
                    got,
                    want,
                    "{} layer, {:?} to {}: {:?} is {} in the diff but explain says {} (before: delivered={} connectable={} {:?}; after: delivered={} connectable={} {:?})\nedit: {:?}\nbefore:\n{}\nafter:\n{}",
                    layer,
                    flow,
                    v,
                    kind,
                    got,
                    want,
                    b.delivered,
                    b.connectable,
                    b.reason,
                    a.delivered,
                    a.connectable,
                    a.reason,
                    e,
                    dump(&m1),
                    dump(&m2)
                );
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 256,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn diff_agrees_with_explain_before_and_after_in_the_network_layer(spec in spec(), e in edit()) {
        diff_agrees(&spec, &e, Layer::Network)?;
    }

    #[test]
    fn diff_agrees_with_explain_before_and_after_in_the_full_layer(spec in spec(), e in edit()) {
        diff_agrees(&spec, &e, Layer::Full)?;
    }
}
