//! A builder for engine tests: a [`Model`] stated in a few lines of Rust, built directly with
//! `Model::new(Parts { .. })` so that a rule test depends on the engine alone, not on the
//! snapshot loader.
//!
//! ```text
//! Fixture::new()
//!     .vpc("vpc-a", "111111111111", "us-east-1", &["10.0.0.0/16"])
//!     .subnet("subnet-a1", "vpc-a", "10.0.1.0/24")
//!     .route_table("rtb-a", "vpc-a", true, &[])
//!     .route("rtb-a", "10.0.0.0/16", "local")
//!     .nacl("acl-a", "vpc-a", true, &["subnet-a1"])
//!     .nacl_in("acl-a", "100 allow -1 all 0.0.0.0/0")
//!     .sg("sg-a", "vpc-a")
//!     .sg_in("sg-a", "tcp 22 sg-a")
//!     .eni("eni-a1", "subnet-a1", &["10.0.1.10"], &["sg-a"])
//!     .peering("pcx-ab", "active", "vpc-a", "vpc-b")
//!     .build()
//! ```
//!
//! Objects inherit what AWS derives (a subnet's account and region from its VPC, a peering
//! side's CIDRs, owner and region from the VPC record) unless a test overrides it; rules are
//! small text specs so that a fixture reads like the console. Objects must be declared before
//! they are referenced by a later builder call (a subnet after its VPC); a reference to an
//! object that is never declared (a route to a missing peering, a rule naming an unknown group)
//! is kept as is, which is how tests model incomplete snapshots.

// Each test module uses a different part of the builder.
#![allow(dead_code)]

use std::net::IpAddr;

use ipnet::IpNet;
use peerscope::engine::explain::{Explanation, HopKind, ObjectRef, explain};
use peerscope::engine::reach::{ReachOptions, ReachRow, reach};
use peerscope::engine::{Flow, Layer, Reason};
use peerscope::model::*;

/// The account and region most fixtures use.
pub const ACCOUNT: &str = "111111111111";
pub const REGION: &str = "us-east-1";

/// A model under construction.
#[derive(Clone, Debug, Default)]
pub struct Fixture {
    parts: Parts,
}

pub fn net(s: &str) -> IpNet {
    s.parse()
        .unwrap_or_else(|e| panic!("fixture: {s:?} is not a CIDR: {e}"))
}

pub fn ip(s: &str) -> IpAddr {
    s.parse()
        .unwrap_or_else(|e| panic!("fixture: {s:?} is not an address: {e}"))
}

fn nets(cidrs: &[&str]) -> Vec<IpNet> {
    cidrs.iter().map(|c| net(c)).collect()
}

/// `all`, `22` or `1024-65535`.
pub fn ports(s: &str) -> PortRange {
    if s == "all" {
        return PortRange::ALL;
    }
    let (from, to) = s.split_once('-').unwrap_or((s, s));
    let p = |x: &str| {
        x.parse::<u16>()
            .unwrap_or_else(|e| panic!("fixture: bad port {x:?}: {e}"))
    };
    PortRange {
        from: p(from),
        to: p(to),
    }
}

pub fn protocol(s: &str) -> Protocol {
    Protocol::parse(s).unwrap_or_else(|| panic!("fixture: bad protocol {s:?}"))
}

/// A rule peer: a CIDR, `pl-…` or `sg-…`.
fn rule_peer(s: &str) -> RulePeer {
    if s.starts_with("pl-") {
        RulePeer::PrefixList(PrefixListId::new(s))
    } else if s.starts_with("sg-") {
        RulePeer::Group(SecurityGroupId::new(s))
    } else {
        RulePeer::Cidr(net(s))
    }
}

/// `"<protocol> <ports> <peer>"`, e.g. `tcp 22 10.0.0.0/8`, `-1 all sg-b`, `icmp all pl-1`.
/// Ports are kept only for tcp and udp, as the snapshot layer does.
pub fn sg_rule(spec: &str) -> SgRule {
    let f: Vec<&str> = spec.split_whitespace().collect();
    let [proto, p, peer] = f.as_slice() else {
        panic!("fixture: SG rule {spec:?} is not `<protocol> <ports> <peer>`");
    };
    let protocol = protocol(proto);
    let ports = match protocol {
        Protocol::Number(n) if Protocol::has_ports(n) => ports(p),
        _ => PortRange::ALL,
    };
    SgRule {
        protocol,
        ports,
        peer: rule_peer(peer),
        description: None,
        icmp: None,
    }
}

/// `"<rule number> <allow|deny> <protocol> <ports> <cidr>"`, e.g. `100 allow tcp 0-1023
/// 0.0.0.0/0`. The port range is kept whatever the protocol, so a test can give a `-1` entry a
/// `PortRange` (AWS ignores it; so must the engine).
pub fn nacl_entry(spec: &str) -> NaclEntry {
    let f: Vec<&str> = spec.split_whitespace().collect();
    let [n, action, proto, p, cidr] = f.as_slice() else {
        panic!("fixture: NACL entry {spec:?} is not `<n> <allow|deny> <protocol> <ports> <cidr>`");
    };
    NaclEntry {
        rule_number: n
            .parse()
            .unwrap_or_else(|e| panic!("fixture: bad rule number {n:?}: {e}")),
        action: match *action {
            "allow" => RuleAction::Allow,
            "deny" => RuleAction::Deny,
            other => panic!("fixture: bad NACL action {other:?}"),
        },
        protocol: protocol(proto),
        cidr: net(cidr),
        ports: ports(p),
    }
}

/// A route destination: a CIDR or `pl-…`.
fn destination(s: &str) -> RouteDestination {
    if s.starts_with("pl-") {
        RouteDestination::PrefixList(PrefixListId::new(s))
    } else {
        RouteDestination::Cidr(net(s))
    }
}

/// A route target: `local`, `pcx-…` or anything else (igw, nat, tgw, …).
fn target(s: &str) -> RouteTarget {
    if s == "local" {
        RouteTarget::Local
    } else if s.starts_with("pcx-") {
        RouteTarget::Peering(PeeringId::new(s))
    } else {
        RouteTarget::Other(s.to_owned())
    }
}

impl Fixture {
    pub fn new() -> Fixture {
        Fixture::default()
    }

    fn vpc_of(&self, id: &str) -> &Vpc {
        self.parts
            .vpcs
            .get(&VpcId::new(id))
            .unwrap_or_else(|| panic!("fixture: declare {id} before using it"))
    }

    pub fn vpc(mut self, id: &str, account: &str, region: &str, cidrs: &[&str]) -> Fixture {
        self.parts.vpcs.insert(
            VpcId::new(id),
            Vpc {
                id: VpcId::new(id),
                account: AccountId::new(account),
                region: Region::new(region),
                cidrs: nets(cidrs),
                is_default: false,
                tags: Tags::new(),
            },
        );
        self
    }

    /// A subnet with one CIDR block.
    pub fn subnet(self, id: &str, vpc: &str, cidr: &str) -> Fixture {
        self.subnet_cidrs(id, vpc, &[cidr])
    }

    /// A subnet with several CIDR blocks (an IPv4 block and IPv6 blocks).
    pub fn subnet_cidrs(mut self, id: &str, vpc: &str, cidrs: &[&str]) -> Fixture {
        let v = self.vpc_of(vpc);
        let subnet = Subnet {
            id: SubnetId::new(id),
            vpc: v.id.clone(),
            account: v.account.clone(),
            region: v.region.clone(),
            availability_zone: Some(format!("{}a", v.region)),
            cidrs: nets(cidrs),
            tags: Tags::new(),
        };
        self.parts.subnets.insert(subnet.id.clone(), subnet);
        self
    }

    /// A route table, main or not, explicitly associated with `subnets`; add routes with
    /// [`Fixture::route`].
    pub fn route_table(mut self, id: &str, vpc: &str, main: bool, subnets: &[&str]) -> Fixture {
        let v = self.vpc_of(vpc);
        let table = RouteTable {
            id: RouteTableId::new(id),
            vpc: v.id.clone(),
            account: v.account.clone(),
            region: v.region.clone(),
            main,
            subnets: subnets.iter().map(SubnetId::new).collect(),
            routes: Vec::new(),
            tags: Tags::new(),
            association_ids: Default::default(),
        };
        self.parts.route_tables.insert(table.id.clone(), table);
        self
    }

    fn push_route(mut self, table: &str, dest: &str, to: &str, blackhole: bool) -> Fixture {
        self.parts
            .route_tables
            .get_mut(&RouteTableId::new(table))
            .unwrap_or_else(|| panic!("fixture: declare {table} before its routes"))
            .routes
            .push(Route {
                destination: destination(dest),
                target: target(to),
                blackhole,
            });
        self
    }

    /// Appends an active route (table order is the order of the calls).
    pub fn route(self, table: &str, dest: &str, to: &str) -> Fixture {
        self.push_route(table, dest, to, false)
    }

    /// Puts an active route first in table order.
    pub fn route_first(mut self, table: &str, dest: &str, to: &str) -> Fixture {
        self = self.push_route(table, dest, to, false);
        let routes = &mut self
            .parts
            .route_tables
            .get_mut(&RouteTableId::new(table))
            .expect("just pushed")
            .routes;
        routes.rotate_right(1);
        self
    }

    /// Appends a route in state `blackhole`.
    pub fn blackhole(self, table: &str, dest: &str, to: &str) -> Fixture {
        self.push_route(table, dest, to, true)
    }

    pub fn prefix_list(mut self, id: &str, cidrs: &[&str]) -> Fixture {
        self.parts.prefix_lists.insert(
            PrefixListId::new(id),
            PrefixList {
                id: PrefixListId::new(id),
                name: None,
                owner: Some(AccountId::new(ACCOUNT)),
                cidrs: nets(cidrs),
                entries_known: true,
            },
        );
        self
    }

    /// A network ACL with no entries (everything denied) until [`Fixture::nacl_in`] and
    /// [`Fixture::nacl_out`] add some.
    pub fn nacl(mut self, id: &str, vpc: &str, is_default: bool, subnets: &[&str]) -> Fixture {
        let v = self.vpc_of(vpc);
        let acl = NetworkAcl {
            id: NetworkAclId::new(id),
            vpc: v.id.clone(),
            account: v.account.clone(),
            region: v.region.clone(),
            is_default,
            subnets: subnets.iter().map(SubnetId::new).collect(),
            ingress: Vec::new(),
            egress: Vec::new(),
            tags: Tags::new(),
            association_ids: Default::default(),
        };
        self.parts.network_acls.insert(acl.id.clone(), acl);
        self
    }

    fn push_nacl(mut self, acl: &str, egress: bool, spec: &str) -> Fixture {
        let a = self
            .parts
            .network_acls
            .get_mut(&NetworkAclId::new(acl))
            .unwrap_or_else(|| panic!("fixture: declare {acl} before its entries"));
        let list = if egress {
            &mut a.egress
        } else {
            &mut a.ingress
        };
        list.push(nacl_entry(spec));
        // The model keeps entries in rule-number order (the snapshot layer sorts them).
        list.sort_by_key(|e| e.rule_number);
        self
    }

    /// An inbound entry, `"<n> <allow|deny> <protocol> <ports> <cidr>"`.
    pub fn nacl_in(self, acl: &str, spec: &str) -> Fixture {
        self.push_nacl(acl, false, spec)
    }

    /// An outbound entry, `"<n> <allow|deny> <protocol> <ports> <cidr>"`.
    pub fn nacl_out(self, acl: &str, spec: &str) -> Fixture {
        self.push_nacl(acl, true, spec)
    }

    /// A NACL allowing everything both ways, IPv4 and IPv6 (AWS's default NACL).
    pub fn open_nacl(self, id: &str, vpc: &str, is_default: bool, subnets: &[&str]) -> Fixture {
        self.nacl(id, vpc, is_default, subnets)
            .nacl_in(id, "100 allow -1 all 0.0.0.0/0")
            .nacl_in(id, "101 allow -1 all ::/0")
            .nacl_out(id, "100 allow -1 all 0.0.0.0/0")
            .nacl_out(id, "101 allow -1 all ::/0")
    }

    /// A security group with no rules until [`Fixture::sg_in`] and [`Fixture::sg_out`] add
    /// some.
    pub fn sg(mut self, id: &str, vpc: &str) -> Fixture {
        let v = self.vpc_of(vpc);
        let sg = SecurityGroup {
            id: SecurityGroupId::new(id),
            name: id.to_owned(),
            vpc: v.id.clone(),
            account: v.account.clone(),
            region: v.region.clone(),
            ingress: Vec::new(),
            egress: Vec::new(),
            tags: Tags::new(),
        };
        self.parts.security_groups.insert(sg.id.clone(), sg);
        self
    }

    fn sg_mut(&mut self, id: &str) -> &mut SecurityGroup {
        self.parts
            .security_groups
            .get_mut(&SecurityGroupId::new(id))
            .unwrap_or_else(|| panic!("fixture: declare {id} before its rules"))
    }

    /// An inbound rule, `"<protocol> <ports> <peer>"`.
    pub fn sg_in(mut self, sg: &str, spec: &str) -> Fixture {
        self.sg_mut(sg).ingress.push(sg_rule(spec));
        self
    }

    /// An outbound rule, `"<protocol> <ports> <peer>"`.
    pub fn sg_out(mut self, sg: &str, spec: &str) -> Fixture {
        self.sg_mut(sg).egress.push(sg_rule(spec));
        self
    }

    /// A security group allowing everything both ways, IPv4 and IPv6.
    pub fn open_sg(self, id: &str, vpc: &str) -> Fixture {
        self.sg(id, vpc)
            .sg_in(id, "-1 all 0.0.0.0/0")
            .sg_in(id, "-1 all ::/0")
            .sg_out(id, "-1 all 0.0.0.0/0")
            .sg_out(id, "-1 all ::/0")
    }

    /// A network interface in `subnet` (its VPC is the subnet's), with its addresses (the
    /// primary first) and groups.
    pub fn eni(mut self, id: &str, subnet: &str, addrs: &[&str], groups: &[&str]) -> Fixture {
        let s = self
            .parts
            .subnets
            .get(&SubnetId::new(subnet))
            .unwrap_or_else(|| panic!("fixture: declare {subnet} before {id}"));
        let mut groups: Vec<SecurityGroupId> = groups.iter().map(SecurityGroupId::new).collect();
        // The snapshot layer sorts an ENI's groups.
        groups.sort();
        let eni = NetworkInterface {
            id: NetworkInterfaceId::new(id),
            subnet: s.id.clone(),
            vpc: s.vpc.clone(),
            account: s.account.clone(),
            region: s.region.clone(),
            addresses: addrs.iter().map(|a| ip(a)).collect(),
            groups,
            instance: None,
            description: None,
            tags: Tags::new(),
        };
        self.parts.network_interfaces.insert(eni.id.clone(), eni);
        self
    }

    fn side(&self, vpc: &str) -> PeeringSide {
        match self.parts.vpcs.get(&VpcId::new(vpc)) {
            Some(v) => PeeringSide {
                vpc: v.id.clone(),
                owner: Some(v.account.clone()),
                region: Some(v.region.clone()),
                cidrs: v.cidrs.clone(),
            },
            // A side in an account the snapshot does not cover.
            None => PeeringSide {
                vpc: VpcId::new(vpc),
                owner: None,
                region: None,
                cidrs: Vec::new(),
            },
        }
    }

    /// A peering connection with status `status` (`active`, `pending-acceptance`, `deleted`,
    /// …). Each side's record carries its VPC's CIDRs, owner and region unless overridden with
    /// [`Fixture::peering_cidrs`].
    pub fn peering(mut self, id: &str, status: &str, requester: &str, accepter: &str) -> Fixture {
        let conn = VpcPeeringConnection {
            id: PeeringId::new(id),
            status: PeeringStatus::from_code(status),
            requester: self.side(requester),
            accepter: self.side(accepter),
            tags: Tags::new(),
        };
        self.parts.peerings.insert(conn.id.clone(), conn);
        self
    }

    fn peering_mut(&mut self, id: &str) -> &mut VpcPeeringConnection {
        self.parts
            .peerings
            .get_mut(&PeeringId::new(id))
            .unwrap_or_else(|| panic!("fixture: declare {id} before changing it"))
    }

    fn side_mut<'a>(conn: &'a mut VpcPeeringConnection, vpc: &str) -> &'a mut PeeringSide {
        if conn.requester.vpc.as_str() == vpc {
            &mut conn.requester
        } else if conn.accepter.vpc.as_str() == vpc {
            &mut conn.accepter
        } else {
            panic!("fixture: {vpc} is not a side of {}", conn.id)
        }
    }

    /// Replaces the CIDRs the connection record lists for `vpc`'s side.
    pub fn peering_cidrs(mut self, id: &str, vpc: &str, cidrs: &[&str]) -> Fixture {
        let conn = self.peering_mut(id);
        Self::side_mut(conn, vpc).cidrs = nets(cidrs);
        self
    }

    /// Replaces the owner the connection record gives `vpc`'s side.
    pub fn peering_owner(mut self, id: &str, vpc: &str, account: &str) -> Fixture {
        let conn = self.peering_mut(id);
        Self::side_mut(conn, vpc).owner = Some(AccountId::new(account));
        self
    }

    /// Replaces the region the connection record gives `vpc`'s side.
    pub fn peering_region(mut self, id: &str, vpc: &str, region: &str) -> Fixture {
        let conn = self.peering_mut(id);
        Self::side_mut(conn, vpc).region = Some(Region::new(region));
        self
    }

    /// The parts built so far (for tests that want to edit something the builder does not
    /// offer).
    pub fn parts(&self) -> &Parts {
        &self.parts
    }

    pub fn build(self) -> Model {
        Model::new(self.parts)
    }
}

/// A service spec: `tcp/22`, `udp/53`, `icmp`, `icmpv6`, `50`. Returns (protocol, port).
pub fn service(s: &str) -> (u8, Option<u16>) {
    let (proto, port) = match s.split_once('/') {
        Some((p, port)) => (
            p,
            Some(
                port.parse::<u16>()
                    .unwrap_or_else(|e| panic!("fixture: bad port in {s:?}: {e}")),
            ),
        ),
        None => (s, None),
    };
    match protocol(proto) {
        Protocol::Number(n) => (n, port),
        Protocol::All => panic!("fixture: a flow has one protocol, not {s:?}"),
    }
}

/// A network-layer flow from `src` in `vpc` to `dst`, e.g. `flow("vpc-a", "10.0.1.10",
/// "10.0.2.10", "tcp/22")`.
pub fn flow(vpc: &str, src: &str, dst: &str, svc: &str) -> Flow {
    let (proto, port) = service(svc);
    Flow {
        src_vpc: VpcId::new(vpc),
        src: ip(src),
        src_eni: None,
        dst: ip(dst),
        proto,
        port,
    }
}

/// A full-layer flow from the interface `eni` (its first address of `dst`'s family) to `dst`.
pub fn eni_flow(model: &Model, eni: &str, dst: &str, svc: &str) -> Flow {
    let e = model
        .network_interfaces
        .get(&NetworkInterfaceId::new(eni))
        .unwrap_or_else(|| panic!("fixture: no interface {eni}"));
    let dst = ip(dst);
    let src = *e
        .addresses
        .iter()
        .find(|a| a.is_ipv4() == dst.is_ipv4())
        .unwrap_or_else(|| panic!("fixture: {eni} has no address of {dst}'s family"));
    let (proto, port) = service(svc);
    Flow {
        src_vpc: e.vpc.clone(),
        src,
        src_eni: Some(e.id.clone()),
        dst,
        proto,
        port,
    }
}

/// Asserts explain's verdict, reason and forward path for `flow`, then that reach agrees with
/// it ([`reach_agrees`]). `expected` reads `"<verdict>: <id> > <id> > …"`, the verdict being
/// `connectable`, a return-path reason (delivered, not connectable) or a forward reason
/// (dropped).
#[track_caller]
pub fn check(model: &Model, flow: Flow, layer: Layer, expected: &str) {
    let (verdict, ids) = expected
        .split_once(':')
        .unwrap_or_else(|| panic!("expectation {expected:?} is not `<verdict>: <path>`"));
    let want_path: Vec<String> = ids
        .split('>')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    let want = match verdict.trim() {
        "connectable" => (true, true, None),
        r => {
            let r = Reason::parse(r).unwrap_or_else(|| panic!("unknown reason {r:?}"));
            let delivered = matches!(r, Reason::ReturnRoute | Reason::ReturnNacl);
            (delivered, false, Some(r))
        }
    };
    let got = explain(model, &flow, layer)
        .unwrap_or_else(|e| panic!("{layer} layer, {flow:?}: explain failed: {e}"));
    assert_eq!(
        (got.delivered, got.connectable, got.reason, got.path_ids()),
        (want.0, want.1, want.2, want_path),
        "{layer} layer, {flow:?}: (delivered, connectable, reason, path)\n{}",
        path_text(&got)
    );
    let rows = reach(
        model,
        &ReachOptions {
            layer: Some(layer),
            include_intra_vpc: true,
            ..ReachOptions::default()
        },
    );
    if let Err(msg) = reach_agrees(model, &rows, &flow, &got) {
        panic!("{layer} layer, {flow:?}: {msg}\n{}", path_text(&got));
    }
}

/// Does `reach` say what `explain` says about one flow? The rows whose box holds the flow
/// (source VPC, source and destination address, protocol and port) must be none when the flow
/// is not delivered; when it is, they must lead to the VPC and through the peering (or `local`)
/// that explain's path names, and one of them must be connectable exactly when the flow is.
pub fn reach_agrees(
    model: &Model,
    rows: &[ReachRow],
    flow: &Flow,
    got: &Explanation,
) -> Result<(), String> {
    let hits: Vec<&ReachRow> = rows
        .iter()
        .filter(|r| {
            r.src_vpc == flow.src_vpc
                && r.src.contains(flow.src)
                && r.dst.contains(flow.dst)
                && r.services.contains(flow.proto, flow.port)
        })
        .collect();
    let listing = || {
        hits.iter()
            .map(|r| {
                format!(
                    "  {} {} -> {} {} {} via {} connectable={}",
                    r.src_vpc, r.src, r.dst_vpc, r.dst, r.services, r.via, r.connectable
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    if !got.delivered {
        return match hits.is_empty() {
            true => Ok(()),
            false => Err(format!(
                "explain drops the flow ({:?}) but reach delivers it:\n{}",
                got.reason,
                listing()
            )),
        };
    }
    let dst_vpc = delivered_to(model, got)
        .ok_or("explain delivered a flow without a destination subnet on its path")?;
    let via = got
        .path
        .iter()
        .find(|h| h.kind == HopKind::Peering)
        .map(|h| h.id.to_string())
        .unwrap_or_else(|| "local".to_owned());
    if hits.is_empty() {
        return Err(format!(
            "explain delivers the flow to {dst_vpc} via {via} but no reach row holds it"
        ));
    }
    if model.unseen_vpc(&flow.src_vpc).is_some() {
        // From an unseen VPC the packet may take several connections (semantics step 22):
        // explain shows the first connectable one, else the first that delivers; reach has a
        // row per connection that delivers.
        let shown: Vec<&&ReachRow> = hits
            .iter()
            .filter(|r| r.dst_vpc == dst_vpc && r.via.to_string() == via)
            .collect();
        let connectable = hits.iter().any(|r| r.connectable);
        return if shown.is_empty() {
            Err(format!(
                "explain delivers the flow to {dst_vpc} via {via}; no reach row does:\n{}",
                listing()
            ))
        } else if connectable != got.connectable
            || (got.connectable && !shown.iter().any(|r| r.connectable))
        {
            Err(format!(
                "explain says connectable={} via {via} ({:?}); reach rows:\n{}",
                got.connectable,
                got.reason,
                listing()
            ))
        } else {
            Ok(())
        };
    }
    if hits
        .iter()
        .any(|r| r.dst_vpc != dst_vpc || r.via.to_string() != via)
    {
        return Err(format!(
            "explain delivers the flow to {dst_vpc} via {via}; reach rows disagree:\n{}",
            listing()
        ));
    }
    let connectable = hits.iter().any(|r| r.connectable);
    if connectable != got.connectable {
        return Err(format!(
            "explain says connectable={} ({:?}); reach says connectable={connectable}:\n{}",
            got.connectable,
            got.reason,
            listing()
        ));
    }
    Ok(())
}

/// The VPC of the destination subnet on explain's path.
pub fn delivered_to(model: &Model, got: &Explanation) -> Option<VpcId> {
    got.path
        .iter()
        .rev()
        .find(|h| h.kind == HopKind::DestinationSubnet)
        .and_then(|h| match &h.id {
            ObjectRef::Subnet(s) => model.subnets.get(s),
            _ => None,
        })
        .map(|s| s.vpc.clone())
}

/// One line per hop, forward path then return path, for failure messages.
pub fn path_text(e: &Explanation) -> String {
    let line = |h: &peerscope::engine::explain::Hop| {
        format!(
            "  {:?} {} [{}] {}",
            h.kind,
            h.id,
            if h.passed { "pass" } else { "FAIL" },
            h.detail
        )
    };
    let mut lines: Vec<String> = e.path.iter().map(line).collect();
    if !e.return_path.is_empty() {
        lines.push(" return path:".to_owned());
        lines.extend(e.return_path.iter().map(line));
    }
    lines.join("\n")
}
