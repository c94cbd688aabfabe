//! One account's objects, built from the plan and the account's own random stream, and written
//! as describe-* files under `<out>/<account>/<region>/`.
//!
//! Per VPC: three-tier subnets (public, app, data, then extra tiers) over its AZs; a main route
//! table, a public table, one private table per AZ (NAT, peering routes, perhaps an S3 prefix
//! list, injected blackholes) and a data table (peering routes only); the default allow-all
//! NACL for most subnets and, in some VPCs, a deny-before-allow NACL on the data or public
//! tier with ephemeral return rules (some of them deliberately too narrow or missing); the
//! default security group and role groups with heavy-tailed rule counts (references to groups
//! in the same VPC and in same-region peered VPCs, prefix lists, long /32 allow lists, rare
//! injected over-broad rules); ENIs with their groups. Per account and region: a customer
//! managed prefix list, the AWS S3 list, and the peering records of either side here.

use std::collections::{BTreeMap, HashSet};
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::net::{Ipv4Addr, Ipv6Addr};
use std::path::Path;

use ipnet::{Ipv4Net, Ipv6Net};
use serde::Serialize;

use super::aws::{self, tags};
use super::ids::Kind;
use super::plan::{PeerKind, Plan, REGIONS, Role, RouteMode};
use super::rng::{Rng, apportion, mix};

/// What one account produced.
#[derive(Default)]
pub struct AccountOut {
    pub files: usize,
    pub bytes: u64,
    pub subnets: usize,
    pub route_tables: usize,
    pub routes: usize,
    pub nacls: usize,
    pub sgs: usize,
    pub sg_rules: usize,
    pub enis: usize,
    /// (VPC index, primary IPv4 address) of every ENI, for query generation.
    pub eni_addrs: Vec<(usize, Ipv4Addr)>,
}

/// The objects of one account and region.
#[derive(Default)]
struct Bucket {
    vpcs: Vec<aws::Vpc>,
    subnets: Vec<aws::Subnet>,
    route_tables: Vec<aws::RouteTable>,
    nacls: Vec<aws::NetworkAcl>,
    sgs: Vec<aws::SecurityGroup>,
    enis: Vec<aws::NetworkInterface>,
    prefix_lists: Vec<aws::ManagedPrefixList>,
    entries: Vec<(String, Vec<aws::PrefixListEntry>)>,
    peerings: Vec<aws::VpcPeeringConnection>,
}

const TIERS: &[&str] = &[
    "public",
    "app",
    "data",
    "mgmt",
    "endpoints",
    "pods",
    "batch",
    "cache",
];
const SG_ROLES: &[&str] = &[
    "web",
    "app",
    "db",
    "monitoring",
    "bastion",
    "cache",
    "queue",
    "batch",
    "lambda",
    "alb",
    "eks-nodes",
    "eks-cluster",
    "efs",
    "vpce",
    "ci-runners",
    "search",
];
const PORTS: &[u16] = &[
    22, 80, 443, 3306, 5432, 6379, 8080, 8443, 9090, 9100, 9200, 27017, 5672, 2049, 3389, 11211,
    1433, 8000, 2379, 10250,
];
const S3_CIDRS: &[&str] = &[
    "52.216.0.0/15",
    "3.5.0.0/19",
    "54.231.0.0/16",
    "16.182.0.0/16",
];
const ATTACH_TIME: &str = "2024-05-14T09:12:31+00:00";

/// The ports a role group serves.
fn role_ports(k: usize) -> &'static [u16] {
    match (k.max(1) - 1) % SG_ROLES.len() {
        0 => &[443, 80],
        1 => &[8080, 8443, 8000],
        2 => &[5432, 3306, 6379, 27017],
        3 => &[9100, 9090],
        4 => &[22],
        5 => &[6379, 11211],
        6 => &[5672, 9092],
        _ => &[443, 8080, 9200, 2049],
    }
}

fn sg_name(k: usize) -> &'static str {
    if k == 0 {
        "default"
    } else {
        SG_ROLES[(k - 1) % SG_ROLES.len()]
    }
}

struct SubnetInfo {
    id: String,
    cidr: Ipv4Net,
    ipv6: Option<Ipv6Net>,
    az: usize,
    tier: usize,
}

/// Generates and writes account `a`.
pub fn generate(plan: &Plan, a: usize, out: &Path, pretty: bool) -> io::Result<AccountOut> {
    let account = &plan.accounts[a];
    let mut rng = Rng::new(plan.seed, 1 + a as u64);
    let mut buckets: BTreeMap<usize, Bucket> = BTreeMap::new();
    let mut res = AccountOut::default();
    for &r in &account.regions {
        let b = buckets.entry(r).or_default();
        add_region_prefix_lists(plan, a, r, b, &mut rng);
    }
    for &v in &account.vpcs {
        let b = buckets.entry(plan.vpcs[v].region).or_default();
        Vpc::new(plan, v, &mut rng, b, &mut res).build();
    }
    for &p in &account.peerings {
        let peering = &plan.peerings[p];
        let mut here: Vec<usize> = [peering.requester, peering.accepter]
            .iter()
            .filter(|&&v| plan.vpcs[v].account == a)
            .map(|&v| plan.vpcs[v].region)
            .collect();
        here.sort_unstable();
        here.dedup();
        for r in here {
            buckets
                .entry(r)
                .or_default()
                .peerings
                .push(peering_record(plan, p));
        }
    }
    for (r, b) in &buckets {
        let dir = out.join(&account.id).join(REGIONS[*r].name);
        std::fs::create_dir_all(&dir)?;
        let mut w = Writer {
            dir: &dir,
            pretty,
            res: &mut res,
        };
        w.list("describe-vpcs.json", "Vpcs", &b.vpcs)?;
        w.list("describe-subnets.json", "Subnets", &b.subnets)?;
        w.list("describe-route-tables.json", "RouteTables", &b.route_tables)?;
        w.list("describe-network-acls.json", "NetworkAcls", &b.nacls)?;
        w.list("describe-security-groups.json", "SecurityGroups", &b.sgs)?;
        w.list(
            "describe-network-interfaces.json",
            "NetworkInterfaces",
            &b.enis,
        )?;
        w.list(
            "describe-vpc-peering-connections.json",
            "VpcPeeringConnections",
            &b.peerings,
        )?;
        w.list(
            "describe-managed-prefix-lists.json",
            "PrefixLists",
            &b.prefix_lists,
        )?;
        for (id, entries) in &b.entries {
            w.value(
                &format!("get-managed-prefix-list-entries-{id}.json"),
                &aws::PrefixListEntries {
                    entries,
                    prefix_list_id: id,
                },
            )?;
        }
    }
    Ok(res)
}

struct Writer<'a> {
    dir: &'a Path,
    pretty: bool,
    res: &'a mut AccountOut,
}

impl Writer<'_> {
    /// Writes `{"Key": [items]}`.
    fn list<T: Serialize>(&mut self, file: &str, key: &str, items: &[T]) -> io::Result<()> {
        let path = self.dir.join(file);
        let mut w = BufWriter::with_capacity(1 << 20, File::create(&path)?);
        write!(w, "{{\"{key}\":")?;
        if self.pretty {
            serde_json::to_writer_pretty(&mut w, items)?;
        } else {
            serde_json::to_writer(&mut w, items)?;
        }
        w.write_all(b"}\n")?;
        w.flush()?;
        self.count(&path)
    }

    fn value<T: Serialize>(&mut self, file: &str, value: &T) -> io::Result<()> {
        let path = self.dir.join(file);
        let mut w = BufWriter::new(File::create(&path)?);
        if self.pretty {
            serde_json::to_writer_pretty(&mut w, value)?;
        } else {
            serde_json::to_writer(&mut w, value)?;
        }
        w.write_all(b"\n")?;
        w.flush()?;
        self.count(&path)
    }

    fn count(&mut self, path: &Path) -> io::Result<()> {
        self.res.files += 1;
        self.res.bytes += std::fs::metadata(path)?.len();
        Ok(())
    }
}

/// The account-region's customer-managed list (`corp-ranges`, and in XL a 1,000-entry
/// `partner-allowlist`) and the AWS-managed S3 list.
fn add_region_prefix_lists(plan: &Plan, a: usize, r: usize, b: &mut Bucket, rng: &mut Rng) {
    let account = &plan.accounts[a];
    let region = REGIONS[r].name;
    let add = |b: &mut Bucket,
               id: String,
               name: String,
               owner: String,
               max: Option<u32>,
               entries: Vec<aws::PrefixListEntry>| {
        b.prefix_lists.push(aws::ManagedPrefixList {
            address_family: "IPv4",
            max_entries: max,
            owner_id: owner.clone(),
            prefix_list_arn: format!("arn:aws:ec2:{region}:{owner}:prefix-list/{id}"),
            prefix_list_id: id.clone(),
            prefix_list_name: name.clone(),
            state: "create-complete",
            tags: if max.is_some() {
                tags(name, "shared")
            } else {
                Vec::new()
            },
            version: 1,
        });
        b.entries.push((id, entries));
    };
    let n = rng.range(6, 20);
    let corp = (0..n)
        .map(|i| aws::PrefixListEntry {
            cidr: if i % 2 == 0 {
                format!("10.250.{}.0/24", i * 3)
            } else {
                format!("192.168.{}.0/24", 100 + i)
            },
            description: Some(format!("office {i}")),
        })
        .collect();
    add(
        b,
        corp_pl(plan, a, r),
        "corp-ranges".into(),
        account.id.clone(),
        Some(50),
        corp,
    );
    if plan.spec.xl {
        let big = (0..1000)
            .map(|i| aws::PrefixListEntry {
                cidr: format!("198.18.{}.{}/32", i / 250, i % 250 + 1),
                description: None,
            })
            .collect();
        add(
            b,
            big_pl(plan, a, r),
            "partner-allowlist".into(),
            account.id.clone(),
            Some(1000),
            big,
        );
    }
    let s3 = S3_CIDRS
        .iter()
        .map(|c| aws::PrefixListEntry {
            cidr: (*c).into(),
            description: None,
        })
        .collect();
    add(
        b,
        s3_pl(plan, r),
        format!("com.amazonaws.{region}.s3"),
        "AWS".into(),
        None,
        s3,
    );
}

fn corp_pl(plan: &Plan, a: usize, r: usize) -> String {
    plan.ids
        .id("pl", Kind::PrefixList, 1 << 50 | (a as u64) << 8 | r as u64)
}

fn big_pl(plan: &Plan, a: usize, r: usize) -> String {
    plan.ids
        .id("pl", Kind::PrefixList, 1 << 51 | (a as u64) << 8 | r as u64)
}

fn s3_pl(plan: &Plan, r: usize) -> String {
    plan.ids.id("pl", Kind::PrefixList, 1 << 52 | r as u64)
}

/// The prefix list a spoke routes its hub through (RouteMode::PrefixList).
fn route_pl(plan: &Plan, v: usize, p: usize) -> String {
    plan.ids.id(
        "pl",
        Kind::PrefixList,
        1 << 53 | (v as u64) << 20 | p as u64,
    )
}

fn status_message(code: &str) -> &'static str {
    match code {
        "active" => "Active",
        "deleted" => "Deleted",
        "pending-acceptance" => "Pending Acceptance",
        "rejected" => "Rejected",
        _ => "Expired",
    }
}

/// The peering record, identical in both accounts' folders.
fn peering_record(plan: &Plan, p: usize) -> aws::VpcPeeringConnection {
    let peering = &plan.peerings[p];
    let accepted = matches!(peering.status, "active" | "deleted");
    let info = |v: usize, with_cidrs: bool| {
        let vpc = &plan.vpcs[v];
        let cidrs = with_cidrs.then(|| {
            vpc.cidrs
                .iter()
                .map(|c| aws::CidrBlockItem {
                    cidr_block: c.to_string(),
                })
                .collect()
        });
        aws::PeeringVpcInfo {
            cidr_block: with_cidrs.then(|| vpc.cidrs[0].to_string()),
            cidr_block_set: cidrs,
            ipv6_cidr_block_set: vpc.ipv6.filter(|_| with_cidrs).map(|n| {
                vec![aws::Ipv6CidrBlockItem {
                    ipv6_cidr_block: n.to_string(),
                }]
            }),
            owner_id: plan.accounts[vpc.account].id.clone(),
            peering_options: with_cidrs.then_some(aws::PeeringOptions {
                allow_dns_resolution_from_remote_vpc: false,
                allow_egress_from_local_classic_link_to_remote_vpc: false,
                allow_egress_from_local_vpc_to_remote_classic_link: false,
            }),
            region: REGIONS[vpc.region].name,
            vpc_id: vpc.id.clone(),
        }
    };
    let req = &plan.vpcs[peering.requester];
    let acc = &plan.vpcs[peering.accepter];
    let name = match peering.kind {
        PeerKind::HubSpoke => format!("{}-to-{}", req.name, acc.name),
        PeerKind::Mesh => format!("mesh-{}-{}", req.name, acc.name),
        PeerKind::Partner => format!("partner-{}-{}", req.name, acc.name),
    };
    aws::VpcPeeringConnection {
        accepter_vpc_info: info(peering.accepter, accepted),
        expiration_time: (peering.status == "pending-acceptance")
            .then_some("2025-01-07T12:00:00+00:00"),
        requester_vpc_info: info(peering.requester, true),
        status: aws::PeeringStatus {
            code: peering.status,
            message: status_message(peering.status),
        },
        tags: tags(name, req.env),
        vpc_peering_connection_id: peering.id.clone(),
    }
}

/// A route table under construction: skips a destination already present (AWS rejects
/// duplicates).
struct Table {
    seen: HashSet<String>,
    routes: Vec<aws::Route>,
}

impl Table {
    fn new() -> Table {
        Table {
            seen: HashSet::new(),
            routes: Vec::new(),
        }
    }

    fn push(&mut self, r: aws::Route) {
        let key = r
            .destination_cidr_block
            .clone()
            .or_else(|| r.destination_ipv6_cidr_block.clone())
            .or_else(|| r.destination_prefix_list_id.clone())
            .unwrap_or_default();
        if self.seen.insert(key) {
            self.routes.push(r);
        }
    }
}

/// A rule's peer.
enum Peer {
    Cidr(String, Option<String>),
    Cidr6(String),
    Pl(String, Option<String>),
    Group(aws::UserIdGroupPair),
}

impl Peer {
    fn key(&self) -> &str {
        match self {
            Peer::Cidr(c, _) | Peer::Cidr6(c) | Peer::Pl(c, _) => c,
            Peer::Group(g) => &g.group_id,
        }
    }
}

/// A flattened rule: protocol, ports, peer.
type RuleKey = (&'static str, Option<(i32, i32)>, String);

/// One direction of a group's rules, grouped into IpPermissions by protocol and ports as AWS
/// prints them; duplicates are refused.
#[derive(Default)]
struct Perms {
    list: Vec<aws::IpPermission>,
    seen: HashSet<RuleKey>,
    count: usize,
}

impl Perms {
    fn add(&mut self, proto: &'static str, ports: Option<(i32, i32)>, peer: Peer) -> bool {
        if !self.seen.insert((proto, ports, peer.key().to_owned())) {
            return false;
        }
        let (from_port, to_port) = match ports {
            Some((f, t)) => (Some(f), Some(t)),
            None => (None, None),
        };
        let pos = self.list.iter().position(|p| {
            p.ip_protocol == proto && p.from_port == from_port && p.to_port == to_port
        });
        let perm = match pos {
            Some(i) => &mut self.list[i],
            None => {
                self.list.push(aws::IpPermission {
                    from_port,
                    ip_protocol: proto,
                    ip_ranges: Vec::new(),
                    ipv6_ranges: Vec::new(),
                    prefix_list_ids: Vec::new(),
                    to_port,
                    user_id_group_pairs: Vec::new(),
                });
                self.list.last_mut().expect("just pushed")
            }
        };
        match peer {
            Peer::Cidr(cidr_ip, description) => perm.ip_ranges.push(aws::IpRange {
                cidr_ip,
                description,
            }),
            Peer::Cidr6(cidr_ipv6) => perm.ipv6_ranges.push(aws::Ipv6Range {
                cidr_ipv6,
                description: None,
            }),
            Peer::Pl(prefix_list_id, description) => {
                perm.prefix_list_ids.push(aws::PrefixListIdRef {
                    description,
                    prefix_list_id,
                })
            }
            Peer::Group(g) => perm.user_id_group_pairs.push(g),
        }
        self.count += 1;
        true
    }
}

fn tcp(port: u16) -> Option<(i32, i32)> {
    Some((port as i32, port as i32))
}

/// Builds one VPC's objects into its region's bucket.
struct Vpc<'a> {
    plan: &'a Plan,
    v: usize,
    rng: &'a mut Rng,
    b: &'a mut Bucket,
    res: &'a mut AccountOut,
    owner: &'a str,
    subnets: Vec<SubnetInfo>,
    /// Peers of this VPC: (peer VPC, peering, this side's route mode).
    peers: Vec<(usize, usize, RouteMode)>,
}

impl<'a> Vpc<'a> {
    fn new(
        plan: &'a Plan,
        v: usize,
        rng: &'a mut Rng,
        b: &'a mut Bucket,
        res: &'a mut AccountOut,
    ) -> Vpc<'a> {
        let vpc = &plan.vpcs[v];
        let peers = vpc
            .peerings
            .iter()
            .filter_map(|&p| plan.peerings[p].side(v).map(|(o, m)| (o, p, m)))
            .collect();
        Vpc {
            plan,
            v,
            rng,
            b,
            res,
            owner: &plan.accounts[vpc.account].id,
            subnets: Vec::new(),
            peers,
        }
    }

    fn vpc(&self) -> &'a super::plan::Vpc {
        &self.plan.vpcs[self.v]
    }

    fn id(&self, prefix: &str, kind: Kind, local: usize) -> String {
        self.plan.ids.in_vpc(prefix, kind, self.v, local)
    }

    fn region(&self) -> &'static str {
        REGIONS[self.vpc().region].name
    }

    fn build(mut self) {
        self.vpc_record();
        self.subnets();
        self.route_tables();
        self.nacls();
        self.security_groups();
        self.enis();
    }

    fn vpc_record(&mut self) {
        let vpc = self.vpc();
        let assoc = vpc
            .cidrs
            .iter()
            .enumerate()
            .map(|(i, c)| aws::CidrAssociation {
                association_id: self.id("vpc-cidr-assoc", Kind::Assoc, 0xF0_0000 + i),
                cidr_block: c.to_string(),
                cidr_block_state: aws::ASSOCIATED,
            })
            .collect();
        let ipv6 = vpc
            .ipv6
            .iter()
            .map(|n| aws::Ipv6CidrAssociation {
                association_id: self.id("vpc-cidr-assoc", Kind::Assoc, 0xF1_0000),
                ipv6_cidr_block: n.to_string(),
                ipv6_cidr_block_state: aws::ASSOCIATED,
                network_border_group: Some(self.region()),
                ipv6_pool: Some("Amazon"),
            })
            .collect();
        self.b.vpcs.push(aws::Vpc {
            cidr_block: vpc.cidrs[0].to_string(),
            cidr_block_association_set: assoc,
            dhcp_options_id: self.plan.ids.id("dopt", Kind::Dopt, vpc.account as u64),
            instance_tenancy: "default",
            ipv6_cidr_block_association_set: ipv6,
            is_default: vpc.role == Role::Default,
            owner_id: self.owner.to_owned(),
            state: "available",
            tags: if vpc.role == Role::Default {
                Vec::new()
            } else {
                tags(vpc.name.clone(), vpc.env)
            },
            vpc_id: vpc.id.clone(),
        });
    }

    fn subnets(&mut self) {
        let vpc = self.vpc();
        let region = &REGIONS[vpc.region];
        for j in 0..vpc.subnets {
            let (az, tier) = if vpc.role == Role::Default {
                (j, 0)
            } else {
                (j % vpc.azs, j / vpc.azs)
            };
            let cidr = self.plan.subnet_cidr(self.v, j);
            let ipv6 = self.plan.subnet_ipv6(self.v, j);
            let id = self.id("subnet", Kind::Subnet, j);
            let tier_name = TIERS[tier % TIERS.len()];
            let (suffix, az_id) = region.azs[az];
            self.b.subnets.push(aws::Subnet {
                assign_ipv6_address_on_creation: false,
                availability_zone: format!("{}{suffix}", region.name),
                availability_zone_id: az_id.to_owned(),
                available_ip_address_count: (1u32 << (32 - cidr.prefix_len())) - 5,
                cidr_block: cidr.to_string(),
                default_for_az: vpc.role == Role::Default,
                ipv6_cidr_block_association_set: ipv6
                    .iter()
                    .map(|n| aws::Ipv6CidrAssociation {
                        association_id: self.id("subnet-cidr-assoc", Kind::Assoc, 0xF2_0000 + j),
                        ipv6_cidr_block: n.to_string(),
                        ipv6_cidr_block_state: aws::ASSOCIATED,
                        network_border_group: None,
                        ipv6_pool: None,
                    })
                    .collect(),
                map_public_ip_on_launch: vpc.role == Role::Default || tier == 0,
                owner_id: self.owner.to_owned(),
                state: "available",
                subnet_arn: format!("arn:aws:ec2:{}:{}:subnet/{id}", region.name, self.owner),
                subnet_id: id.clone(),
                tags: if vpc.role == Role::Default {
                    Vec::new()
                } else {
                    tags(format!("{}-{tier_name}-{suffix}", vpc.name), vpc.env)
                },
                vpc_id: vpc.id.clone(),
            });
            self.subnets.push(SubnetInfo {
                id,
                cidr,
                ipv6,
                az,
                tier,
            });
        }
        self.res.subnets += vpc.subnets;
    }

    fn tier_subnets(&self, tier: usize, az: Option<usize>) -> Vec<String> {
        self.subnets
            .iter()
            .filter(|s| s.tier == tier && az.is_none_or(|a| s.az == a))
            .map(|s| s.id.clone())
            .collect()
    }

    fn local_routes(&self, t: &mut Table) {
        let vpc = self.vpc();
        for c in &vpc.cidrs {
            t.push(aws::Route {
                destination_cidr_block: Some(c.to_string()),
                gateway_id: Some("local".into()),
                origin: "CreateRouteTable",
                state: "active",
                ..Default::default()
            });
        }
        if let Some(n) = vpc.ipv6 {
            t.push(aws::Route {
                destination_ipv6_cidr_block: Some(n.to_string()),
                gateway_id: Some("local".into()),
                origin: "CreateRouteTable",
                state: "active",
                ..Default::default()
            });
        }
    }

    /// Routes toward the peers this table serves.
    fn peering_routes(&mut self, t: &mut Table, kinds: &[PeerKind]) {
        let vpc = self.vpc();
        let peers = self.peers.clone();
        for (o, p, mode) in peers {
            let peering = &self.plan.peerings[p];
            if !kinds.contains(&peering.kind) {
                continue;
            }
            let Some(state) = peering.route_state() else {
                continue;
            };
            let other = &self.plan.vpcs[o];
            let route = |dst: String, v6: bool| aws::Route {
                destination_cidr_block: (!v6).then(|| dst.clone()),
                destination_ipv6_cidr_block: v6.then_some(dst),
                vpc_peering_connection_id: Some(peering.id.clone()),
                origin: "CreateRoute",
                state,
                ..Default::default()
            };
            match mode {
                RouteMode::None => {}
                RouteMode::Exact => {
                    for c in &other.cidrs {
                        t.push(route(c.to_string(), false));
                    }
                }
                RouteMode::Overbroad => {
                    t.push(route("10.0.0.0/8".into(), false));
                    for c in other.cidrs.iter().filter(|c| c.addr().octets()[0] != 10) {
                        t.push(route(c.to_string(), false));
                    }
                }
                RouteMode::PrefixList => {
                    let id = route_pl(self.plan, self.v, p);
                    if !self.b.entries.iter().any(|(e, _)| *e == id) {
                        let entries = other
                            .cidrs
                            .iter()
                            .map(|c| aws::PrefixListEntry {
                                cidr: c.to_string(),
                                description: Some(other.name.clone()),
                            })
                            .collect();
                        let name = format!("{}-routes", other.name);
                        self.b.prefix_lists.push(aws::ManagedPrefixList {
                            address_family: "IPv4",
                            max_entries: Some(10),
                            owner_id: self.owner.to_owned(),
                            prefix_list_arn: format!(
                                "arn:aws:ec2:{}:{}:prefix-list/{id}",
                                self.region(),
                                self.owner
                            ),
                            prefix_list_id: id.clone(),
                            prefix_list_name: name.clone(),
                            state: "create-complete",
                            tags: tags(name, vpc.env),
                            version: 1,
                        });
                        self.b.entries.push((id.clone(), entries));
                    }
                    t.push(aws::Route {
                        destination_prefix_list_id: Some(id),
                        vpc_peering_connection_id: Some(peering.id.clone()),
                        origin: "CreateRoute",
                        state,
                        ..Default::default()
                    });
                }
            }
            if mode != RouteMode::None
                && let (Some(_), Some(n)) = (vpc.ipv6, other.ipv6)
            {
                t.push(route(n.to_string(), true));
            }
        }
    }

    /// XL: fills a hub table up to the 1,000-route quota with one /24 route per spoke subnet.
    fn pad_to_quota(&self, t: &mut Table) {
        'outer: for &(o, p, mode) in &self.peers {
            let peering = &self.plan.peerings[p];
            let (Some(state), RouteMode::Exact) = (peering.route_state(), mode) else {
                continue;
            };
            for j in 0..self.plan.vpcs[o].subnets {
                if t.routes.len() >= 1000 {
                    break 'outer;
                }
                t.push(aws::Route {
                    destination_cidr_block: Some(self.plan.subnet_cidr(o, j).to_string()),
                    vpc_peering_connection_id: Some(peering.id.clone()),
                    origin: "CreateRoute",
                    state,
                    ..Default::default()
                });
            }
        }
    }

    fn push_table(
        &mut self,
        local: usize,
        name: String,
        main: bool,
        subnets: Vec<String>,
        t: Table,
    ) {
        let vpc = self.vpc();
        let id = self.id("rtb", Kind::RouteTable, local);
        let mut associations: Vec<aws::RouteTableAssociation> = subnets
            .into_iter()
            .enumerate()
            .map(|(i, s)| aws::RouteTableAssociation {
                association_state: aws::ASSOCIATED,
                main: false,
                route_table_association_id: self.id("rtbassoc", Kind::Assoc, local << 12 | i),
                route_table_id: id.clone(),
                subnet_id: Some(s),
            })
            .collect();
        if main {
            associations.insert(
                0,
                aws::RouteTableAssociation {
                    association_state: aws::ASSOCIATED,
                    main: true,
                    route_table_association_id: self.id(
                        "rtbassoc",
                        Kind::Assoc,
                        local << 12 | 0xFFF,
                    ),
                    route_table_id: id.clone(),
                    subnet_id: None,
                },
            );
        }
        self.res.route_tables += 1;
        self.res.routes += t.routes.len();
        self.b.route_tables.push(aws::RouteTable {
            associations,
            owner_id: self.owner.to_owned(),
            propagating_vgws: [],
            route_table_id: id,
            routes: t.routes,
            tags: tags(name, vpc.env),
            vpc_id: vpc.id.clone(),
        });
    }

    fn route_tables(&mut self) {
        let vpc = self.vpc();
        let igw = self.plan.ids.in_vpc("igw", Kind::Igw, self.v, 0);
        let default_route = |gw: String, nat: bool, state: &'static str| aws::Route {
            destination_cidr_block: Some("0.0.0.0/0".into()),
            gateway_id: (!nat).then(|| gw.clone()),
            nat_gateway_id: nat.then_some(gw),
            origin: "CreateRoute",
            state,
            ..Default::default()
        };
        // Main table: local only (the default VPC's also has its internet gateway). Subnets of
        // the extra tiers are left on it, as happens.
        let mut main = Table::new();
        self.local_routes(&mut main);
        if vpc.role == Role::Default {
            main.push(default_route(igw.clone(), false, "active"));
            self.push_table(0, format!("{}-main", vpc.name), true, Vec::new(), main);
            return;
        }
        self.push_table(0, format!("{}-main", vpc.name), true, Vec::new(), main);
        // Public.
        let mut public = Table::new();
        self.local_routes(&mut public);
        public.push(default_route(igw.clone(), false, "active"));
        if vpc.ipv6.is_some() {
            public.push(aws::Route {
                destination_ipv6_cidr_block: Some("::/0".into()),
                gateway_id: Some(igw.clone()),
                origin: "CreateRoute",
                state: "active",
                ..Default::default()
            });
        }
        let subnets = self.tier_subnets(0, None);
        self.push_table(1, format!("{}-public", vpc.name), false, subnets, public);
        // Private, one per AZ.
        let all_kinds = [PeerKind::HubSpoke, PeerKind::Mesh, PeerKind::Partner];
        for az in 0..vpc.azs {
            let mut t = Table::new();
            self.local_routes(&mut t);
            let nat = self.plan.ids.in_vpc("nat", Kind::Nat, self.v, az);
            let nat_state = if self.rng.chance(0.02) {
                "blackhole"
            } else {
                "active"
            };
            t.push(default_route(nat, true, nat_state));
            if vpc.ipv6.is_some() {
                t.push(aws::Route {
                    destination_ipv6_cidr_block: Some("::/0".into()),
                    egress_only_internet_gateway_id: Some(self.plan.ids.in_vpc(
                        "eigw",
                        Kind::Eigw,
                        self.v,
                        0,
                    )),
                    origin: "CreateRoute",
                    state: "active",
                    ..Default::default()
                });
            }
            self.peering_routes(&mut t, &all_kinds);
            if self.rng.chance(0.3) {
                t.push(aws::Route {
                    destination_prefix_list_id: Some(s3_pl(self.plan, vpc.region)),
                    gateway_id: Some(self.plan.ids.in_vpc("vpce", Kind::Igw, self.v, 1)),
                    origin: "CreateRoute",
                    state: "active",
                    ..Default::default()
                });
            }
            self.blackholes(&mut t);
            if self.plan.spec.xl && vpc.role == Role::Hub && az == 0 {
                self.pad_to_quota(&mut t);
            }
            let subnets = self.tier_subnets(1, Some(az));
            let name = format!("{}-private-{}", vpc.name, REGIONS[vpc.region].azs[az].0);
            self.push_table(2 + az, name, false, subnets, t);
        }
        // Data: peering routes to the hub and meshes only.
        let mut data = Table::new();
        self.local_routes(&mut data);
        if vpc.role != Role::Hub {
            self.peering_routes(&mut data, &[PeerKind::HubSpoke, PeerKind::Mesh]);
        }
        self.blackholes(&mut data);
        let subnets = self.tier_subnets(2, None);
        self.push_table(16, format!("{}-data", vpc.name), false, subnets, data);
    }

    /// Injected blackholes: a route to a peering deleted long ago, or a /24 that shadows part
    /// of the hub's CIDR (the packet is dropped; no fall-through to the hub route).
    fn blackholes(&mut self, t: &mut Table) {
        let x = self.rng.unit();
        let gone = |n: usize| self.plan.ids.gone_peering(self.v, n);
        if x < 0.05 {
            let n = self.rng.below(256);
            t.push(aws::Route {
                destination_cidr_block: Some(format!("10.254.{n}.0/24")),
                vpc_peering_connection_id: Some(gone(n)),
                origin: "CreateRoute",
                state: "blackhole",
                ..Default::default()
            });
        } else if x < 0.07 {
            let hub = self.peers.iter().find(|(o, p, _)| {
                self.plan.vpcs[*o].role == Role::Hub && self.plan.peerings[*p].status == "active"
            });
            if let Some(&(o, _, _)) = hub {
                let net = self.plan.vpcs[o].cidrs[0];
                t.push(aws::Route {
                    destination_cidr_block: Some(
                        Ipv4Net::new(net.network(), 24).expect("valid").to_string(),
                    ),
                    vpc_peering_connection_id: Some(gone(300)),
                    origin: "CreateRoute",
                    state: "blackhole",
                    ..Default::default()
                });
            }
        }
    }

    fn nacls(&mut self) {
        let vpc = self.vpc();
        let dual = vpc.ipv6.is_some();
        let custom_data = vpc.role != Role::Default && self.rng.chance(0.35);
        let custom_public = vpc.role != Role::Default && self.rng.chance(0.15);
        let on = |s: &SubnetInfo, tier: usize, yes: bool| yes && s.tier == tier;
        let mut default_subnets = Vec::new();
        let mut data_subnets = Vec::new();
        let mut public_subnets = Vec::new();
        for s in &self.subnets {
            if on(s, 2, custom_data) {
                data_subnets.push(s.id.clone());
            } else if on(s, 0, custom_public) {
                public_subnets.push(s.id.clone());
            } else {
                default_subnets.push(s.id.clone());
            }
        }
        let mut entries = Vec::new();
        for egress in [true, false] {
            entries.push(entry(egress, 100, "allow", "-1", "0.0.0.0/0", None));
            entries.push(entry(egress, 32767, "deny", "-1", "0.0.0.0/0", None));
            if dual {
                entries.push(entry(egress, 101, "allow", "-1", "::/0", None));
                entries.push(entry(egress, 32768, "deny", "-1", "::/0", None));
            }
        }
        self.push_nacl(0, "default", true, default_subnets, entries);
        if custom_data {
            let entries = self.data_nacl();
            self.push_nacl(1, "data", false, data_subnets, entries);
        }
        if custom_public {
            let entries = self.public_nacl();
            self.push_nacl(2, "public", false, public_subnets, entries);
        }
    }

    /// Ephemeral range of a custom NACL: usually right, sometimes too narrow for clients that
    /// use 1024–32767, sometimes forgotten.
    fn ephemeral(&mut self) -> Option<(u16, u16)> {
        match self.rng.unit() {
            x if x < 0.8 => Some((1024, 65535)),
            x if x < 0.92 => Some((32768, 65535)),
            _ => None,
        }
    }

    fn data_nacl(&mut self) -> Vec<aws::NaclEntry> {
        let vpc = self.vpc();
        let mut e = Vec::new();
        // Ingress: deny before allow.
        e.push(entry(false, 90, "deny", "6", "0.0.0.0/0", Some((22, 22))));
        e.push(entry(
            false,
            95,
            "deny",
            "6",
            "0.0.0.0/0",
            Some((3389, 3389)),
        ));
        for (i, c) in vpc.cidrs.iter().enumerate() {
            e.push(entry(
                false,
                100 + i as u32,
                "allow",
                "-1",
                &c.to_string(),
                None,
            ));
        }
        let db = *self.rng.pick(&[5432u16, 3306, 6379, 27017]);
        let peers: Vec<usize> = self.peers.iter().map(|p| p.0).take(3).collect();
        for (i, o) in peers.iter().enumerate() {
            let c = self.plan.vpcs[*o].cidrs[0].to_string();
            e.push(entry(
                false,
                120 + i as u32,
                "allow",
                "6",
                &c,
                Some((db, db)),
            ));
        }
        if let Some(r) = self.ephemeral() {
            e.push(entry(false, 200, "allow", "6", "0.0.0.0/0", Some(r)));
        }
        e.push(entry(false, 32767, "deny", "-1", "0.0.0.0/0", None));
        // Egress.
        for (i, c) in vpc.cidrs.iter().enumerate() {
            e.push(entry(
                true,
                100 + i as u32,
                "allow",
                "-1",
                &c.to_string(),
                None,
            ));
        }
        if let Some(r) = self.ephemeral() {
            e.push(entry(true, 110, "allow", "6", "10.0.0.0/8", Some(r)));
        }
        e.push(entry(
            true,
            120,
            "allow",
            "6",
            "0.0.0.0/0",
            Some((443, 443)),
        ));
        e.push(entry(true, 32767, "deny", "-1", "0.0.0.0/0", None));
        if self.plan.spec.xl {
            self.pad_nacl(&mut e);
        }
        e
    }

    fn public_nacl(&mut self) -> Vec<aws::NaclEntry> {
        let vpc = self.vpc();
        let mut e = vec![
            entry(false, 100, "allow", "6", "0.0.0.0/0", Some((443, 443))),
            entry(false, 110, "allow", "6", "0.0.0.0/0", Some((80, 80))),
        ];
        if let Some(r) = self.ephemeral() {
            e.push(entry(false, 120, "allow", "6", "0.0.0.0/0", Some(r)));
        }
        for (i, c) in vpc.cidrs.iter().enumerate() {
            e.push(entry(
                false,
                130 + i as u32,
                "allow",
                "-1",
                &c.to_string(),
                None,
            ));
        }
        e.push(entry(false, 32767, "deny", "-1", "0.0.0.0/0", None));
        e.push(entry(true, 100, "allow", "-1", "0.0.0.0/0", None));
        e.push(entry(true, 32767, "deny", "-1", "0.0.0.0/0", None));
        if self.plan.spec.xl {
            self.pad_nacl(&mut e);
        }
        e
    }

    /// XL: 40 numbered entries per direction (the quota), the extra ones denying quarantined
    /// /24s before every allow.
    fn pad_nacl(&mut self, e: &mut Vec<aws::NaclEntry>) {
        for egress in [true, false] {
            let have = e
                .iter()
                .filter(|x| x.egress == egress && x.rule_number < 32767)
                .count();
            for i in 0..40usize.saturating_sub(have) {
                let n = self.rng.below(256);
                let port = *self.rng.pick(PORTS);
                e.push(entry(
                    egress,
                    1 + i as u32,
                    "deny",
                    "6",
                    &format!("10.254.{n}.0/24"),
                    Some((port, port)),
                ));
            }
        }
    }

    fn push_nacl(
        &mut self,
        local: usize,
        name: &str,
        is_default: bool,
        subnets: Vec<String>,
        entries: Vec<aws::NaclEntry>,
    ) {
        let vpc = self.vpc();
        let id = self.id("acl", Kind::Acl, local);
        let associations = subnets
            .into_iter()
            .enumerate()
            .map(|(i, s)| aws::NaclAssociation {
                network_acl_association_id: self.id(
                    "aclassoc",
                    Kind::Assoc,
                    0x10_0000 | local << 12 | i,
                ),
                network_acl_id: id.clone(),
                subnet_id: s,
            })
            .collect();
        self.res.nacls += 1;
        self.b.nacls.push(aws::NetworkAcl {
            associations,
            entries,
            is_default,
            network_acl_id: id,
            owner_id: self.owner.to_owned(),
            tags: if vpc.role == Role::Default {
                Vec::new()
            } else {
                tags(format!("{}-{name}", vpc.name), vpc.env)
            },
            vpc_id: vpc.id.clone(),
        });
    }

    fn security_groups(&mut self) {
        let vpc = self.vpc();
        // The default group: all traffic from itself, all traffic out.
        let mut ingress = Perms::default();
        let mut egress = Perms::default();
        ingress.add("-1", None, self.group_ref(self.v, 0, None));
        egress.add("-1", None, Peer::Cidr("0.0.0.0/0".into(), None));
        self.push_sg(0, ingress, egress);
        let role_sgs = vpc.sgs - 1;
        if role_sgs == 0 {
            return;
        }
        let budget = vpc.rules - 2;
        let budgets = if self.plan.spec.xl && vpc.role == Role::Hub && role_sgs > 16 {
            // Sixteen groups with 1,000 rules between them: an ENI carries all sixteen.
            let w16: Vec<f64> = (0..16).map(|_| self.rng.pareto(1.2, 10.0)).collect();
            let mut out = apportion(1000, &w16, 1);
            let rest: Vec<f64> = (16..role_sgs).map(|_| self.rng.pareto(1.2, 60.0)).collect();
            out.extend(apportion(budget - 1000, &rest, 1));
            out
        } else {
            let w: Vec<f64> = (0..role_sgs).map(|_| self.rng.pareto(1.2, 60.0)).collect();
            apportion(budget, &w, 1)
        };
        for (i, n) in budgets.into_iter().enumerate() {
            self.role_sg(i + 1, n);
        }
    }

    fn group_ref(&self, v: usize, k: usize, via: Option<usize>) -> Peer {
        let vpc = &self.plan.vpcs[v];
        Peer::Group(aws::UserIdGroupPair {
            description: None,
            group_id: self.plan.ids.sg(v, k),
            peering_status: via.map(|_| "active"),
            user_id: self.plan.accounts[vpc.account].id.clone(),
            vpc_id: via.map(|_| vpc.id.clone()),
            vpc_peering_connection_id: via.map(|p| self.plan.peerings[p].id.clone()),
        })
    }

    /// Role group `k` with exactly `n` flattened rules.
    fn role_sg(&mut self, k: usize, n: usize) {
        let vpc = self.vpc();
        let mut ingress = Perms::default();
        let mut egress = Perms::default();
        // Egress: all traffic (AWS's default) mostly, else a short allow list.
        if self.rng.chance(0.85) || n < 2 {
            egress.add("-1", None, Peer::Cidr("0.0.0.0/0".into(), None));
            if vpc.ipv6.is_some() && n >= 3 {
                egress.add("-1", None, Peer::Cidr6("::/0".into()));
            }
        } else {
            let vpc_cidr = vpc.cidrs[0].to_string();
            let s3 = s3_pl(self.plan, vpc.region);
            let options = [
                ("tcp", tcp(443), Peer::Cidr("0.0.0.0/0".into(), None)),
                ("tcp", tcp(443), Peer::Pl(s3, Some("S3".into()))),
                ("tcp", tcp(5432), Peer::Cidr(vpc_cidr.clone(), None)),
                ("udp", tcp(53), Peer::Cidr(vpc_cidr, Some("DNS".into()))),
            ];
            let take = (n - 1).clamp(1, 3);
            for (proto, ports, peer) in options.into_iter().take(take) {
                egress.add(proto, ports, peer);
            }
        }
        let peers_same_region: Vec<(usize, usize)> = self
            .peers
            .iter()
            .filter(|(o, p, _)| {
                self.plan.peerings[*p].status == "active" && self.plan.vpcs[*o].region == vpc.region
            })
            .map(|&(o, p, _)| (o, p))
            .collect();
        let mut tail = 0usize;
        // Injected over-broad rule.
        if ingress.count + egress.count < n && self.rng.chance(0.03) {
            let (proto, ports, cidr, why) = *self.rng.pick(&[
                ("tcp", tcp(22), "0.0.0.0/0", "temporary ssh"),
                ("-1", None, "10.0.0.0/8", "allow all internal"),
                ("tcp", Some((0, 65535)), "0.0.0.0/0", "debug"),
                ("tcp", tcp(3389), "0.0.0.0/0", "rdp"),
            ]);
            ingress.add(proto, ports, Peer::Cidr(cidr.into(), Some(why.into())));
        }
        let mut misses = 0;
        while ingress.count + egress.count < n {
            let left = n - ingress.count - egress.count;
            let port = *self.rng.pick(role_ports(k));
            let added = match self
                .rng
                .weighted(&[20.0, 15.0, 10.0, 8.0, 6.0, 4.0, 3.0, 3.0, 2.0, 12.0])
            {
                // A group of the same VPC (the tier in front, or itself).
                0 => {
                    let from = if k > 1 && self.rng.chance(0.7) {
                        k - 1
                    } else {
                        self.rng.below(vpc.sgs)
                    };
                    let peer = self.group_ref(self.v, from, None);
                    ingress.add("tcp", tcp(port), peer)
                }
                1 => {
                    let c = self.rng.pick(&vpc.cidrs).to_string();
                    ingress.add("tcp", tcp(port), Peer::Cidr(c, None))
                }
                2 if !self.peers.is_empty() => {
                    let &(o, _, _) = self.rng.pick(&self.peers);
                    let c = self.plan.vpcs[o].cidrs[0].to_string();
                    let d = Some(format!("from {}", self.plan.vpcs[o].name));
                    ingress.add("tcp", tcp(port), Peer::Cidr(c, d))
                }
                3 if !peers_same_region.is_empty() => {
                    let &(o, p) = self.rng.pick(&peers_same_region);
                    let from = self.rng.below(self.plan.vpcs[o].sgs);
                    let peer = self.group_ref(o, from, Some(p));
                    ingress.add("tcp", tcp(port), peer)
                }
                4 => {
                    let pl = if self.plan.spec.xl && self.rng.chance(0.1) {
                        big_pl(self.plan, vpc.account, vpc.region)
                    } else {
                        corp_pl(self.plan, vpc.account, vpc.region)
                    };
                    let port = *self.rng.pick(&[22u16, 443]);
                    ingress.add("tcp", tcp(port), Peer::Pl(pl, Some("corp".into())))
                }
                5 if k == 1 || self.rng.chance(0.2) => {
                    let port = *self.rng.pick(&[443u16, 80]);
                    ingress.add("tcp", tcp(port), Peer::Cidr("0.0.0.0/0".into(), None))
                }
                6 => ingress.add(
                    "icmp",
                    Some((-1, -1)),
                    Peer::Cidr("10.0.0.0/8".into(), None),
                ),
                7 => {
                    let c = vpc.cidrs[0].to_string();
                    ingress.add("udp", tcp(53), Peer::Cidr(c, None))
                }
                8 if vpc.ipv6.is_some() => ingress.add("tcp", tcp(443), Peer::Cidr6("::/0".into())),
                9 => {
                    // A long allow list of /32s on one port: the heavy tail.
                    let m = (self.rng.pareto(1.1, 400.0) as usize).clamp(1, left);
                    let port = *self.rng.pick(PORTS);
                    for _ in 0..m {
                        let c = tail;
                        tail += 1;
                        let cidr = if c.is_multiple_of(2) {
                            format!("10.250.{}.{}/32", (c / 2) / 250 % 256, (c / 2) % 250 + 1)
                        } else {
                            format!("198.18.{}.{}/32", (c / 2) / 250 % 256, (c / 2) % 250 + 1)
                        };
                        ingress.add(
                            "tcp",
                            tcp(port),
                            Peer::Cidr(cidr, Some(format!("allow-list {c}"))),
                        );
                    }
                    true
                }
                _ => false,
            };
            if !added {
                misses += 1;
                if misses > 50 {
                    // Everything simple is taken: fall back to unique /32s.
                    let c = tail;
                    tail += 1;
                    ingress.add(
                        "tcp",
                        tcp(443),
                        Peer::Cidr(format!("10.251.{}.{}/32", c / 250 % 256, c % 250 + 1), None),
                    );
                }
            }
        }
        self.push_sg(k, ingress, egress);
    }

    fn push_sg(&mut self, k: usize, ingress: Perms, egress: Perms) {
        let vpc = self.vpc();
        let id = self.plan.ids.sg(self.v, k);
        let name = if k == 0 {
            "default".to_owned()
        } else {
            format!("{}-{}-{k}", vpc.name, sg_name(k))
        };
        self.res.sgs += 1;
        self.res.sg_rules += ingress.count + egress.count;
        self.b.sgs.push(aws::SecurityGroup {
            description: if k == 0 {
                "default VPC security group".into()
            } else {
                format!("{} tier", sg_name(k))
            },
            security_group_arn: format!(
                "arn:aws:ec2:{}:{}:security-group/{id}",
                self.region(),
                self.owner
            ),
            group_id: id,
            group_name: name.clone(),
            ip_permissions: ingress.list,
            ip_permissions_egress: egress.list,
            owner_id: self.owner.to_owned(),
            tags: if k == 0 {
                Vec::new()
            } else {
                tags(name, vpc.env)
            },
            vpc_id: vpc.id.clone(),
        });
    }

    fn enis(&mut self) {
        let vpc = self.vpc();
        let weights: Vec<f64> = self
            .subnets
            .iter()
            .map(|s| match s.tier {
                0 => 0.5,
                1 => 2.0,
                2 => 1.0,
                _ => 0.7,
            })
            .collect();
        let per_subnet = apportion(vpc.enis, &weights, 0);
        let region = &REGIONS[vpc.region];
        let dns_suffix = if region.name == "us-east-1" {
            "ec2.internal".to_owned()
        } else {
            format!("{}.compute.internal", region.name)
        };
        let role_sgs = vpc.sgs - 1;
        let mut local = 0usize;
        for (si, &count) in per_subnet.iter().enumerate() {
            let s = &self.subnets[si];
            let size = 1u32 << (32 - s.cidr.prefix_len());
            let last = size - 2; // the broadcast address and the one before are reserved
            let mut offset = 4 + self.rng.below(8) as u32;
            for _ in 0..count {
                let secondaries = if self.rng.chance(0.1) {
                    self.rng.range(1, 2) as u32
                } else {
                    0
                };
                if offset + secondaries > last {
                    break;
                }
                let addr = |o: u32| Ipv4Addr::from(u32::from(s.cidr.network()) + o);
                let primary = addr(offset);
                let dns =
                    |a: Ipv4Addr| format!("ip-{}.{dns_suffix}", a.to_string().replace('.', "-"));
                let mut private = vec![aws::PrivateIpAddress {
                    primary: true,
                    private_dns_name: dns(primary),
                    private_ip_address: primary.to_string(),
                }];
                for i in 1..=secondaries {
                    let a = addr(offset + i);
                    private.push(aws::PrivateIpAddress {
                        primary: false,
                        private_dns_name: dns(a),
                        private_ip_address: a.to_string(),
                    });
                }
                offset += 1 + secondaries + self.rng.below(3) as u32;
                // Groups: the tier's role group, sometimes one more; XL hubs put sixteen on
                // some interfaces.
                let mut groups: Vec<usize> = if role_sgs == 0 {
                    vec![0]
                } else {
                    let mut g = vec![1 + s.tier % role_sgs];
                    if self.rng.chance(0.25) {
                        let extra = 1 + self.rng.below(role_sgs);
                        if !g.contains(&extra) {
                            g.push(extra);
                        }
                    }
                    g
                };
                if self.plan.spec.xl
                    && vpc.role == Role::Hub
                    && role_sgs >= 16
                    && self.rng.chance(0.2)
                {
                    groups = (1..=16).collect();
                }
                let ipv6 = s
                    .ipv6
                    .map(|n| {
                        vec![aws::Ipv6Address {
                            ipv6_address: Ipv6Addr::from(
                                u128::from(n.network()) | 0x1000 | local as u128,
                            )
                            .to_string(),
                            is_primary_ipv6: false,
                        }]
                    })
                    .unwrap_or_default();
                let id = self.id("eni", Kind::Eni, local);
                let h = mix(self.v as u64 ^ (local as u64) << 32);
                let mac = format!(
                    "0e:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
                    h as u8,
                    (h >> 8) as u8,
                    (h >> 16) as u8,
                    (h >> 24) as u8,
                    (h >> 32) as u8
                );
                let kind = self.rng.unit();
                let (description, interface_type, requester_managed, instance) = if kind < 0.75 {
                    (
                        "Primary network interface".to_owned(),
                        "interface",
                        false,
                        Some(self.id("i", Kind::Instance, local)),
                    )
                } else if kind < 0.9 {
                    (
                        format!("ELB app/{}-alb/{:016x}", vpc.name, h),
                        "interface",
                        true,
                        None,
                    )
                } else {
                    (
                        format!("AWS Lambda VPC ENI-{}-fn-{local}", vpc.name),
                        "lambda",
                        true,
                        None,
                    )
                };
                let eni = aws::NetworkInterface {
                    attachment: aws::Attachment {
                        attach_time: ATTACH_TIME,
                        attachment_id: self.id("eni-attach", Kind::Attachment, local),
                        delete_on_termination: instance.is_some(),
                        device_index: if instance.is_some() { 0 } else { 1 },
                        instance_owner_id: Some(if instance.is_some() {
                            self.owner.to_owned()
                        } else {
                            "amazon-aws".to_owned()
                        }),
                        instance_id: instance,
                        network_card_index: 0,
                        status: "attached",
                    },
                    availability_zone: format!("{}{}", region.name, region.azs[s.az].0),
                    description,
                    groups: groups
                        .iter()
                        .map(|&k| aws::GroupIdentifier {
                            group_id: self.plan.ids.sg(self.v, k),
                            group_name: if k == 0 {
                                "default".into()
                            } else {
                                format!("{}-{}-{k}", vpc.name, sg_name(k))
                            },
                        })
                        .collect(),
                    interface_type,
                    ipv6_addresses: ipv6,
                    mac_address: mac,
                    network_interface_id: id,
                    owner_id: self.owner.to_owned(),
                    private_dns_name: dns(primary),
                    private_ip_address: primary.to_string(),
                    private_ip_addresses: private,
                    requester_managed,
                    source_dest_check: true,
                    status: "in-use",
                    subnet_id: s.id.clone(),
                    tag_set: Vec::new(),
                    vpc_id: vpc.id.clone(),
                };
                self.b.enis.push(eni);
                self.res.eni_addrs.push((self.v, primary));
                self.res.enis += 1;
                local += 1;
            }
        }
    }
}

fn entry(
    egress: bool,
    rule_number: u32,
    action: &'static str,
    protocol: &'static str,
    cidr: &str,
    ports: Option<(u16, u16)>,
) -> aws::NaclEntry {
    let v6 = cidr.contains(':');
    aws::NaclEntry {
        cidr_block: (!v6).then(|| cidr.to_owned()),
        ipv6_cidr_block: v6.then(|| cidr.to_owned()),
        egress,
        port_range: ports.map(|(from, to)| aws::PortRange { from, to }),
        protocol,
        rule_action: action,
        rule_number,
    }
}
