//! The organisation plan: accounts, VPCs with their roles and CIDRs, and the peering graph.
//!
//! Everything that crosses an account boundary is decided here, once, from the plan's own
//! random stream: which VPCs peer (hub-and-spoke groups, small meshes, partners), their CIDRs
//! (unique inside a peering group, reused across groups and by isolated VPCs), the size budgets
//! (subnets, security-group rules, ENIs) and every id another account may refer to. Accounts
//! are then generated independently and in parallel (`account`).
//!
//! CIDRs: each hub group draws /20 blocks from one pool (10/8, 100.64/10, 172.16/12 without
//! 172.31, 192.168/16) starting at its own offset, so VPCs that peer never overlap, while groups
//! overlap each other, isolated VPCs reuse the usual 10.0.0.0/16-style blocks and every default
//! VPC is 172.31.0.0/16, as in real organisations.

use std::net::{Ipv4Addr, Ipv6Addr};

use ipnet::{Ipv4Net, Ipv6Net};

use super::rng::{Rng, apportion};
use super::{Tier, ids};

/// A region the generator uses, with its availability zones.
pub struct RegionSpec {
    pub name: &'static str,
    /// AZ suffixes and AZ ids.
    pub azs: &'static [(&'static str, &'static str)],
    pub weight: f64,
}

pub const REGIONS: &[RegionSpec] = &[
    RegionSpec {
        name: "us-east-1",
        azs: &[
            ("a", "use1-az1"),
            ("b", "use1-az2"),
            ("c", "use1-az4"),
            ("d", "use1-az6"),
        ],
        weight: 0.5,
    },
    RegionSpec {
        name: "us-west-2",
        azs: &[("a", "usw2-az1"), ("b", "usw2-az2"), ("c", "usw2-az3")],
        weight: 0.2,
    },
    RegionSpec {
        name: "eu-west-1",
        azs: &[("a", "euw1-az1"), ("b", "euw1-az2"), ("c", "euw1-az3")],
        weight: 0.2,
    },
    RegionSpec {
        name: "ap-southeast-2",
        azs: &[("a", "apse2-az1"), ("b", "apse2-az3"), ("c", "apse2-az2")],
        weight: 0.1,
    },
];

/// What a VPC is for; decides its peerings, routes and rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// The account's default VPC (172.31.0.0/16, never peered).
    Default,
    /// A shared-services hub peered with up to `hub_cap` spokes.
    Hub,
    /// A workload VPC peered with one hub, perhaps in a mesh and with a partner.
    Spoke,
    /// A partner's VPC, peered with one spoke.
    Partner,
    /// Sandbox or legacy: not peered, CIDR reused.
    Isolated,
}

pub struct Account {
    pub id: String,
    pub name: String,
    pub partner: bool,
    /// Region indexes into [`REGIONS`]; the first is the primary.
    pub regions: Vec<usize>,
    pub vpcs: Vec<usize>,
    /// Peerings whose either side is in this account.
    pub peerings: Vec<usize>,
}

pub struct Vpc {
    pub id: String,
    pub account: usize,
    pub region: usize,
    pub role: Role,
    pub name: String,
    pub env: &'static str,
    /// Primary CIDR first.
    pub cidrs: Vec<Ipv4Net>,
    pub ipv6: Option<Ipv6Net>,
    pub azs: usize,
    pub subnets: usize,
    /// Security groups including the default one (index 0).
    pub sgs: usize,
    /// Flattened SG rules over all its groups, the default group's two included.
    pub rules: usize,
    pub enis: usize,
    /// Peerings of this VPC, in plan order.
    pub peerings: Vec<usize>,
}

/// Where a route toward the other side points, for one side of a peering.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RouteMode {
    /// No route on this side (asymmetric return, or never set up).
    None,
    /// One route per CIDR of the peer.
    Exact,
    /// 10.0.0.0/8 to the peering: more than the peer holds (injected over-broad route).
    Overbroad,
    /// A route to a customer-managed prefix list holding the peer's CIDRs.
    PrefixList,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PeerKind {
    HubSpoke,
    Mesh,
    Partner,
}

pub struct Peering {
    pub id: String,
    pub requester: usize,
    pub accepter: usize,
    pub kind: PeerKind,
    /// `Status.Code`.
    pub status: &'static str,
    pub requester_routes: RouteMode,
    pub accepter_routes: RouteMode,
}

impl Peering {
    /// The other side and this side's route mode, when `vpc` is a side.
    pub fn side(&self, vpc: usize) -> Option<(usize, RouteMode)> {
        if self.requester == vpc {
            Some((self.accepter, self.requester_routes))
        } else if self.accepter == vpc {
            Some((self.requester, self.accepter_routes))
        } else {
            None
        }
    }

    /// Routes to an active connection carry traffic; AWS turns routes to a deleted one into
    /// blackholes; other states never had routes.
    pub fn route_state(&self) -> Option<&'static str> {
        match self.status {
            "active" => Some("active"),
            "deleted" => Some("blackhole"),
            _ => None,
        }
    }
}

/// Tier sizes (targets; the generator meets accounts, VPCs, SG rules and ENIs exactly and
/// subnets exactly unless a VPC's address space caps it).
pub struct Spec {
    pub accounts: usize,
    pub vpcs: usize,
    pub subnets: usize,
    pub sg_rules: usize,
    pub enis: usize,
    /// Quota-maximal objects (the XL tier).
    pub xl: bool,
}

impl Tier {
    pub fn spec(self) -> Spec {
        let (accounts, vpcs, subnets, sg_rules, enis, xl) = match self {
            Tier::S => (10, 50, 500, 5_000, 2_500, false),
            Tier::M => (100, 1_000, 10_000, 100_000, 50_000, false),
            Tier::L => (1_000, 10_000, 100_000, 1_000_000, 500_000, false),
            Tier::Xl => (1_000, 10_000, 100_000, 1_000_000, 500_000, true),
        };
        Spec {
            accounts,
            vpcs,
            subnets,
            sg_rules,
            enis,
            xl,
        }
    }
}

pub struct Plan {
    pub seed: u64,
    pub ids: ids::Ids,
    pub spec: Spec,
    pub accounts: Vec<Account>,
    pub vpcs: Vec<Vpc>,
    pub peerings: Vec<Peering>,
}

/// Spokes per hub: 100 normally; 125 (the peering quota) in XL.
fn hub_cap(xl: bool) -> usize {
    if xl { 125 } else { 100 }
}

const ENVS: &[&str] = &[
    "prod", "staging", "dev", "data", "ml", "payments", "web", "ops",
];

/// The /20 block `i` of the shared pool.
fn pool_block(i: usize) -> Ipv4Net {
    const POOL: usize = 5376;
    let i = i % POOL;
    let base: u32 = if i < 4096 {
        u32::from(Ipv4Addr::new(10, 0, 0, 0)) + (i as u32) * 4096
    } else if i < 5120 {
        u32::from(Ipv4Addr::new(100, 64, 0, 0)) + (i as u32 - 4096) * 4096
    } else if i < 5360 {
        u32::from(Ipv4Addr::new(172, 16, 0, 0)) + (i as u32 - 5120) * 4096
    } else {
        u32::from(Ipv4Addr::new(192, 168, 0, 0)) + (i as u32 - 5360) * 4096
    };
    Ipv4Net::new(Ipv4Addr::from(base), 20).expect("valid prefix")
}

/// CIDRs that isolated VPCs reuse (the console wizard's defaults and their neighbours).
const REUSED: &[(u8, u8, u8)] = &[
    (10, 0, 16),
    (10, 1, 16),
    (192, 168, 16),
    (10, 10, 16),
    (172, 16, 16),
];

impl Plan {
    pub fn new(tier: Tier, seed: u64) -> Plan {
        let spec = tier.spec();
        let mut rng = Rng::new(seed, 0);
        let ids = ids::Ids::new(seed);
        let n_partner = (spec.accounts / 20).max(1);
        let n_org = spec.accounts - n_partner;

        // Accounts: 0 is shared services (every region, the hubs); partners last.
        let mut accounts = Vec::with_capacity(spec.accounts);
        for i in 0..n_org {
            let (name, regions) = if i == 0 {
                ("shared-services".to_owned(), (0..REGIONS.len()).collect())
            } else {
                let weights: Vec<f64> = REGIONS.iter().map(|r| r.weight).collect();
                let primary = rng.weighted(&weights);
                let mut regions = vec![primary];
                if rng.chance(0.25) {
                    let other = (primary + 1 + rng.below(REGIONS.len() - 1)) % REGIONS.len();
                    regions.push(other);
                }
                (format!("{}-{:03}", rng.pick(ENVS), i), regions)
            };
            accounts.push(Account {
                id: format!("{:012}", 100_000_000_000u64 + i as u64 + 1),
                name,
                partner: false,
                regions,
                vpcs: Vec::new(),
                peerings: Vec::new(),
            });
        }
        for j in 0..n_partner {
            accounts.push(Account {
                id: format!("{:012}", 900_000_000_000u64 + j as u64 + 1),
                name: format!("partner-{:03}", j + 1),
                partner: true,
                regions: Vec::new(), // the region of the spoke it peers with, below
                vpcs: Vec::new(),
                peerings: Vec::new(),
            });
        }

        // VPC counts: a default VPC per account, one peered VPC per partner, hubs in shared
        // services, and the rest spread over org accounts with a heavy tail.
        let rest = spec.vpcs - spec.accounts - n_partner;
        let cap = hub_cap(spec.xl);
        let n_hubs = ((rest as f64 * 0.7) / cap as f64).ceil().max(1.0) as usize;
        let others = rest - n_hubs;
        let owners: Vec<usize> = if n_org > 1 {
            (1..n_org).collect()
        } else {
            vec![0]
        };
        let weights: Vec<f64> = owners.iter().map(|_| rng.pareto(1.3, 25.0)).collect();
        let per_account = apportion(others, &weights, 0);

        let mut vpcs: Vec<Vpc> = Vec::with_capacity(spec.vpcs);
        let new_vpc = |vpcs: &mut Vec<Vpc>, account: usize, region: usize, role: Role| {
            let idx = vpcs.len();
            vpcs.push(Vpc {
                id: ids.vpc(idx),
                account,
                region,
                role,
                name: String::new(),
                env: "prod",
                cidrs: Vec::new(),
                ipv6: None,
                azs: 0,
                subnets: 0,
                sgs: 0,
                rules: 0,
                enis: 0,
                peerings: Vec::new(),
            });
            idx
        };
        // Default VPCs of org accounts now; partners' once their region is known.
        for (a, account) in accounts.iter().enumerate().take(n_org) {
            new_vpc(&mut vpcs, a, account.regions[0], Role::Default);
        }
        for (&a, &n) in owners.iter().zip(&per_account) {
            for _ in 0..n {
                let regions = &accounts[a].regions;
                let region = if regions.len() > 1 && rng.chance(0.3) {
                    regions[1]
                } else {
                    regions[0]
                };
                let role = if rng.chance(0.7) {
                    Role::Spoke
                } else {
                    Role::Isolated
                };
                new_vpc(&mut vpcs, a, region, role);
            }
        }
        // Hubs: per region in proportion to its spokes, at least one in the busiest region.
        let mut spokes_per_region = vec![0f64; REGIONS.len()];
        for v in vpcs.iter().filter(|v| v.role == Role::Spoke) {
            spokes_per_region[v.region] += 1.0;
        }
        if spokes_per_region.iter().all(|&s| s == 0.0) {
            spokes_per_region[0] = 1.0;
        }
        let hubs_per_region = apportion(n_hubs, &spokes_per_region, 0);
        let mut hubs = Vec::new();
        for (r, &n) in hubs_per_region.iter().enumerate() {
            for _ in 0..n {
                hubs.push(new_vpc(&mut vpcs, 0, r, Role::Hub));
            }
        }

        // Spokes to hubs: fill hubs in order, mostly within the region (cross-region peering
        // otherwise); a spoke left over when every hub is full stays isolated.
        let mut spokes: Vec<usize> = (0..vpcs.len())
            .filter(|&v| vpcs[v].role == Role::Spoke)
            .collect();
        rng.shuffle(&mut spokes);
        let mut load = vec![0usize; hubs.len()];
        let mut groups: Vec<Vec<usize>> = vec![Vec::new(); hubs.len()];
        let mut peerings: Vec<Peering> = Vec::new();
        let add_peering = |peerings: &mut Vec<Peering>,
                           rng: &mut Rng,
                           requester: usize,
                           accepter: usize,
                           kind: PeerKind| {
            let idx = peerings.len();
            let status = match rng.unit() {
                x if x < 0.95 => "active",
                x if x < 0.97 => "deleted",
                x if x < 0.985 => "pending-acceptance",
                x if x < 0.993 => "rejected",
                _ => "expired",
            };
            let (req, acc) = match kind {
                PeerKind::HubSpoke => {
                    let spoke = match rng.unit() {
                        x if x < 0.85 => RouteMode::Exact,
                        x if x < 0.93 => RouteMode::PrefixList,
                        _ => RouteMode::Overbroad,
                    };
                    let hub = if rng.chance(0.04) {
                        RouteMode::None
                    } else {
                        RouteMode::Exact
                    };
                    (spoke, hub)
                }
                PeerKind::Mesh => (
                    RouteMode::Exact,
                    if rng.chance(0.03) {
                        RouteMode::None
                    } else {
                        RouteMode::Exact
                    },
                ),
                PeerKind::Partner => (
                    RouteMode::Exact,
                    if rng.chance(0.5) {
                        RouteMode::Overbroad
                    } else {
                        RouteMode::Exact
                    },
                ),
            };
            peerings.push(Peering {
                id: ids.peering(idx),
                requester,
                accepter,
                kind,
                status,
                requester_routes: req,
                accepter_routes: acc,
            });
            idx
        };
        for &s in &spokes {
            let region = vpcs[s].region;
            let same = (0..hubs.len()).find(|&h| vpcs[hubs[h]].region == region && load[h] < cap);
            let any = (0..hubs.len()).find(|&h| load[h] < cap);
            let hub = if rng.chance(0.9) {
                same.or(any)
            } else {
                any.or(same)
            };
            match hub {
                Some(h) => {
                    load[h] += 1;
                    groups[h].push(s);
                    add_peering(&mut peerings, &mut rng, s, hubs[h], PeerKind::HubSpoke);
                }
                None => vpcs[s].role = Role::Isolated,
            }
        }
        // Small meshes inside each group: a fifth of the spokes, in threes and fours.
        for members in &groups {
            let mut m = members.clone();
            rng.shuffle(&mut m);
            let mut take = m.len() / 5;
            let mut i = 0;
            while take >= 3 {
                let size = if take >= 4 && rng.chance(0.4) { 4 } else { 3 };
                let cluster = &m[i..i + size];
                for x in 0..size {
                    for y in x + 1..size {
                        add_peering(
                            &mut peerings,
                            &mut rng,
                            cluster[x],
                            cluster[y],
                            PeerKind::Mesh,
                        );
                    }
                }
                i += size;
                take -= size;
            }
        }
        // Partners: one VPC each, peered with a spoke, in that spoke's region and group.
        let mut group_of = vec![usize::MAX; vpcs.len()];
        for (g, members) in groups.iter().enumerate() {
            group_of[hubs[g]] = g;
            for &m in members {
                group_of[m] = g;
            }
        }
        let peered: Vec<usize> = groups.iter().flatten().copied().collect();
        for (a, account) in accounts.iter_mut().enumerate().skip(n_org) {
            let target = if peered.is_empty() {
                hubs[0]
            } else {
                *rng.pick(&peered)
            };
            let region = vpcs[target].region;
            account.regions = vec![region];
            new_vpc(&mut vpcs, a, region, Role::Default);
            let p = new_vpc(&mut vpcs, a, region, Role::Partner);
            group_of.push(usize::MAX); // the default VPC
            group_of.push(group_of[target]);
            add_peering(&mut peerings, &mut rng, target, p, PeerKind::Partner);
        }
        debug_assert_eq!(vpcs.len(), spec.vpcs);

        // CIDRs.
        let mut cursor: Vec<usize> = (0..hubs.len()).map(|g| (g * 1013 * 4) % 5376).collect();
        let mut reused = 0usize;
        for (v, vpc) in vpcs.iter_mut().enumerate() {
            let role = vpc.role;
            let cidrs = match role {
                Role::Default => vec!["172.31.0.0/16".parse().expect("valid")],
                Role::Isolated => {
                    let (a, b, len) = REUSED[reused % REUSED.len()];
                    reused += 1;
                    vec![Ipv4Net::new(Ipv4Addr::new(a, b, 0, 0), len).expect("valid")]
                }
                Role::Hub => {
                    let g = group_of[v];
                    cursor[g] = cursor[g].div_ceil(4) * 4;
                    let first = pool_block(cursor[g]);
                    cursor[g] += 4;
                    vec![Ipv4Net::new(first.network(), 18).expect("valid")]
                }
                Role::Spoke | Role::Partner => {
                    let g = group_of[v];
                    let mut out = vec![pool_block(cursor[g])];
                    cursor[g] += 1;
                    if role == Role::Spoke && rng.chance(0.05) {
                        out.push(pool_block(cursor[g]));
                        cursor[g] += 1;
                    }
                    out
                }
            };
            vpc.cidrs = cidrs;
        }
        // Dual stack: the first hub, and a few hubs and spokes.
        for (v, vpc) in vpcs.iter_mut().enumerate() {
            let dual = match vpc.role {
                Role::Hub => v == hubs[0] || rng.chance(0.1),
                Role::Spoke => rng.chance(0.05),
                _ => false,
            };
            if dual {
                let base: u128 = (0x2600_1f00u128 << 96) | ((v as u128 & 0xFF_FFFF) << 72);
                vpc.ipv6 = Some(Ipv6Net::new(Ipv6Addr::from(base), 56).expect("valid"));
            }
        }

        // Names and environments.
        for (v, vpc) in vpcs.iter_mut().enumerate() {
            let a = &accounts[vpc.account];
            let region = REGIONS[vpc.region].name;
            vpc.env = match vpc.role {
                Role::Default => "default",
                Role::Hub => "shared",
                Role::Partner => "partner",
                Role::Isolated => {
                    if v % 2 == 0 {
                        "sandbox"
                    } else {
                        "legacy"
                    }
                }
                Role::Spoke => ENVS[v % ENVS.len()],
            };
            vpc.name = match vpc.role {
                Role::Default => format!("{}-default-{region}", a.name),
                Role::Hub => format!("hub-{region}-{v}"),
                _ => format!("{}-{}-{v}", a.name, vpc.env),
            };
            vpc.azs = match vpc.role {
                Role::Default => 3.min(REGIONS[vpc.region].azs.len()),
                _ => rng.range(2, REGIONS[vpc.region].azs.len().min(4)),
            };
        }

        // Budgets. Subnets: defaults one per AZ; the rest around the tier's mean.
        let defaults: usize = vpcs
            .iter()
            .filter(|v| v.role == Role::Default)
            .map(|v| v.azs)
            .sum();
        let non_default: Vec<usize> = (0..vpcs.len())
            .filter(|&v| vpcs[v].role != Role::Default)
            .collect();
        for v in vpcs.iter_mut().filter(|v| v.role == Role::Default) {
            v.subnets = v.azs;
        }
        let subnet_weights: Vec<f64> = non_default
            .iter()
            .map(|&v| match vpcs[v].role {
                Role::Hub => 1.5,
                _ => 0.6 + rng.unit() * 0.8,
            })
            .collect();
        let subnet_parts = apportion(spec.subnets - defaults, &subnet_weights, 3);
        for (&v, &n) in non_default.iter().zip(&subnet_parts) {
            // /24 subnets: a /20 holds 16; reserve nothing else.
            let room: usize = vpcs[v]
                .cidrs
                .iter()
                .map(|c| 1usize << (24 - c.prefix_len().min(24)))
                .sum();
            vpcs[v].subnets = n.min(room).min(64);
        }
        // SG rules: default VPCs have the default group's two rules; others get a heavy-tailed
        // share (hubs more).
        let n_default_vpcs = vpcs.len() - non_default.len();
        let rule_weights: Vec<f64> = non_default
            .iter()
            .map(|&v| {
                let w = rng.pareto(1.5, 20.0);
                match vpcs[v].role {
                    Role::Hub => 4.0 * w,
                    Role::Isolated => 0.5 * w,
                    _ => w,
                }
            })
            .collect();
        let min_rules = if spec.xl { 6 } else { 4 };
        let mut rule_parts =
            apportion(spec.sg_rules - 2 * n_default_vpcs, &rule_weights, min_rules);
        if spec.xl {
            // Every hub gets at least 1,100 rules (16 groups sharing 1,000 of them): taken from
            // the largest budgets so the total stays exact.
            for (i, &v) in non_default.iter().enumerate() {
                if vpcs[v].role == Role::Hub && rule_parts[i] < 1_100 {
                    let need = 1_100 - rule_parts[i];
                    rule_parts[i] += need;
                    let mut left = need;
                    while left > 0 {
                        let j = (0..rule_parts.len())
                            .filter(|&j| vpcs[non_default[j]].role != Role::Hub)
                            .max_by_key(|&j| (rule_parts[j], std::cmp::Reverse(j)))
                            .expect("non-hub VPCs exist");
                        let take = left.min(rule_parts[j] - min_rules).min(rule_parts[j] / 2);
                        rule_parts[j] -= take;
                        left -= take;
                    }
                }
            }
        }
        for v in vpcs.iter_mut().filter(|v| v.role == Role::Default) {
            v.rules = 2;
            v.sgs = 1;
        }
        for (&v, &n) in non_default.iter().zip(&rule_parts) {
            let role_sgs = (n / 14).clamp(1, 40);
            let role_sgs = if spec.xl && vpcs[v].role == Role::Hub {
                role_sgs.max(17)
            } else {
                role_sgs
            };
            vpcs[v].rules = n;
            vpcs[v].sgs = 1 + role_sgs;
        }
        // ENIs in proportion to subnets; default VPCs a couple each.
        let eni_weights: Vec<f64> = vpcs.iter().map(|v| v.subnets as f64).collect();
        let eni_parts = apportion(spec.enis, &eni_weights, 1);
        for (v, n) in vpcs.iter_mut().zip(eni_parts) {
            v.enis = n;
        }

        for (p, peering) in peerings.iter().enumerate() {
            vpcs[peering.requester].peerings.push(p);
            vpcs[peering.accepter].peerings.push(p);
        }
        for (v, vpc) in vpcs.iter().enumerate() {
            accounts[vpc.account].vpcs.push(v);
        }
        for (p, peering) in peerings.iter().enumerate() {
            let a = vpcs[peering.requester].account;
            let b = vpcs[peering.accepter].account;
            accounts[a].peerings.push(p);
            if b != a {
                accounts[b].peerings.push(p);
            }
        }
        Plan {
            seed,
            ids,
            spec,
            accounts,
            vpcs,
            peerings,
        }
    }

    /// The `i`-th /24 (IPv4) and /64 (IPv6) subnet CIDRs of a VPC, or the default VPC's /20s.
    pub fn subnet_cidr(&self, v: usize, j: usize) -> Ipv4Net {
        let vpc = &self.vpcs[v];
        if vpc.role == Role::Default {
            let base = u32::from(Ipv4Addr::new(172, 31, 0, 0)) + (j as u32) * 4096;
            return Ipv4Net::new(Ipv4Addr::from(base), 20).expect("valid");
        }
        let mut j = j;
        for c in &vpc.cidrs {
            let slots = 1usize << (24 - c.prefix_len().min(24));
            if j < slots {
                let base = u32::from(c.network()) + (j as u32) * 256;
                return Ipv4Net::new(Ipv4Addr::from(base), 24).expect("valid");
            }
            j -= slots;
        }
        unreachable!("subnet index beyond the VPC's address space")
    }

    pub fn subnet_ipv6(&self, v: usize, j: usize) -> Option<Ipv6Net> {
        self.vpcs[v].ipv6.map(|net| {
            let base = u128::from(net.network()) | ((j as u128) << 64);
            Ipv6Net::new(Ipv6Addr::from(base), 64).expect("valid")
        })
    }
}
