//! Indexes over a [`Model`]: the lookups the engine makes on every flow, computed once.
//!
//! - subnet → route table (explicit association, else the VPC's main table);
//! - subnet → network ACL (the ACL listing it, else the VPC's default ACL, else unfiltered);
//! - VPC → subnets, with an address lookup (subnets of a VPC never overlap);
//! - subnet → ENIs and (subnet, address) → ENIs; security group → member ENIs;
//! - VPC → peering connections; the VPCs known only from them (unseen peers).

use std::collections::BTreeMap;

use foldhash::{HashMap, HashMapExt};
use std::net::IpAddr;
use std::sync::Arc;

use super::*;

/// Which NACL filters a subnet's traffic.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(tag = "kind", content = "id", rename_all = "kebab-case")]
pub enum NaclBinding {
    /// The ACL that lists the subnet, or its VPC's default ACL.
    Acl(NetworkAclId),
    /// The snapshot has no NACL for the subnet at all: NACLs do not filter its traffic.
    Unfiltered,
}

/// The derived lookups. Built by [`Model::new`] and [`Model::reindex`].
///
/// Two parts: what only subnets and interfaces decide (shared behind an `Arc`, so that a copy
/// of the model for what-if costs nothing here), and what route tables, network ACLs and
/// peerings decide (rebuilt by [`Model::reindex_routing`] after an edit).
#[derive(Clone, Debug, Default)]
pub struct Index {
    fixed: Arc<Fixed>,
    main_table: BTreeMap<VpcId, RouteTableId>,
    subnet_table: HashMap<SubnetId, RouteTableId>,
    subnet_nacl: HashMap<SubnetId, NaclBinding>,
    vpc_peerings: BTreeMap<VpcId, Vec<PeeringId>>,
    /// VPCs named by a peering side with no `Vpcs` record (semantics step 21).
    unseen: BTreeMap<VpcId, UnseenVpc>,
}

/// The lookups that subnets and interfaces alone decide.
#[derive(Debug, Default)]
struct Fixed {
    vpc_subnets: BTreeMap<VpcId, Vec<SubnetId>>,
    /// Per VPC: subnet CIDR ranges sorted by start, for address lookup.
    vpc_ranges: HashMap<VpcId, Vec<(IpAddr, IpAddr, SubnetId)>>,
    subnet_enis: HashMap<SubnetId, Vec<NetworkInterfaceId>>,
    addr_enis: HashMap<(SubnetId, IpAddr), Vec<NetworkInterfaceId>>,
    group_members: HashMap<SecurityGroupId, Vec<NetworkInterfaceId>>,
}

impl Fixed {
    fn build(m: &Model) -> Fixed {
        let mut ix = Fixed::default();
        for s in m.subnets.values() {
            ix.vpc_subnets
                .entry(s.vpc.clone())
                .or_default()
                .push(s.id.clone());
            for c in &s.cidrs {
                ix.vpc_ranges.entry(s.vpc.clone()).or_default().push((
                    c.network(),
                    c.broadcast(),
                    s.id.clone(),
                ));
            }
        }
        for ranges in ix.vpc_ranges.values_mut() {
            ranges.sort();
        }
        for e in m.network_interfaces.values() {
            ix.subnet_enis
                .entry(e.subnet.clone())
                .or_default()
                .push(e.id.clone());
            for a in &e.addresses {
                ix.addr_enis
                    .entry((e.subnet.clone(), *a))
                    .or_default()
                    .push(e.id.clone());
            }
            for g in &e.groups {
                ix.group_members
                    .entry(g.clone())
                    .or_default()
                    .push(e.id.clone());
            }
        }
        ix
    }
}

/// Is `subnet` (when the model has it) in `vpc`?
fn same_vpc(m: &Model, subnet: &SubnetId, vpc: &VpcId) -> bool {
    m.subnets.get(subnet).is_none_or(|s| &s.vpc == vpc)
}

impl Index {
    pub(super) fn build(m: &Model) -> Index {
        let mut ix = Index {
            fixed: Arc::new(Fixed::build(m)),
            ..Index::default()
        };
        ix.build_routing(m);
        ix
    }

    /// Rebuilds what route tables, network ACLs and peerings decide; subnets and interfaces
    /// must not have changed since [`Index::build`].
    /// Whether the routing part equals `other`'s (the guard that an edit which kept it was
    /// right to: `Editor::finish` in debug builds).
    pub(crate) fn routing_eq(&self, other: &Index) -> bool {
        self.main_table == other.main_table
            && self.subnet_table == other.subnet_table
            && self.subnet_nacl == other.subnet_nacl
            && self.vpc_peerings == other.vpc_peerings
            && self.unseen == other.unseen
    }

    pub(super) fn build_routing(&mut self, m: &Model) {
        self.main_table.clear();
        self.subnet_table.clear();
        self.subnet_nacl.clear();
        self.vpc_peerings.clear();
        self.unseen.clear();
        // Route tables: BTreeMap order makes "first by id" the tie-break for conflicts, which
        // the snapshot layer reports.
        for t in m.route_tables.values() {
            if t.main {
                self.main_table
                    .entry(t.vpc.clone())
                    .or_insert_with(|| t.id.clone());
            }
            // An association with a subnet of another VPC is impossible data (reported by
            // the snapshot layer) and ignored.
            for s in t.subnets.iter().filter(|s| same_vpc(m, s, &t.vpc)) {
                self.subnet_table
                    .entry(s.clone())
                    .or_insert_with(|| t.id.clone());
            }
        }
        let mut default_nacl: HashMap<&VpcId, &NetworkAclId> = HashMap::new();
        for a in m.network_acls.values() {
            if a.is_default {
                default_nacl.entry(&a.vpc).or_insert(&a.id);
            }
            for s in a.subnets.iter().filter(|s| same_vpc(m, s, &a.vpc)) {
                self.subnet_nacl
                    .entry(s.clone())
                    .or_insert_with(|| NaclBinding::Acl(a.id.clone()));
            }
        }
        for s in m.subnets.values() {
            if !self.subnet_nacl.contains_key(&s.id) {
                let binding = match default_nacl.get(&s.vpc) {
                    Some(id) => NaclBinding::Acl((*id).clone()),
                    None => NaclBinding::Unfiltered,
                };
                self.subnet_nacl.insert(s.id.clone(), binding);
            }
        }
        for p in m.peerings.values() {
            self.vpc_peerings
                .entry(p.requester.vpc.clone())
                .or_default()
                .push(p.id.clone());
            if p.accepter.vpc != p.requester.vpc {
                self.vpc_peerings
                    .entry(p.accepter.vpc.clone())
                    .or_default()
                    .push(p.id.clone());
            }
            // Peerings iterate in id order, so the first connection naming an owner or a
            // region decides it.
            for side in [&p.requester, &p.accepter] {
                if m.vpcs.contains_key(&side.vpc) {
                    continue;
                }
                let u = self
                    .unseen
                    .entry(side.vpc.clone())
                    .or_insert_with(|| UnseenVpc {
                        id: side.vpc.clone(),
                        account: None,
                        region: None,
                        cidrs: Vec::new(),
                        peerings: Vec::new(),
                    });
                if u.account.is_none() {
                    u.account = side.owner.clone();
                }
                if u.region.is_none() {
                    u.region = side.region.clone();
                }
                u.cidrs.extend(side.cidrs.iter().copied());
                if u.peerings.last() != Some(&p.id) {
                    u.peerings.push(p.id.clone());
                }
            }
        }
        for u in self.unseen.values_mut() {
            u.cidrs.sort();
            u.cidrs.dedup();
        }
    }

    /// VPCs known only from peering records, by id.
    pub fn unseen_vpcs(&self) -> &BTreeMap<VpcId, UnseenVpc> {
        &self.unseen
    }

    /// Subnets of a VPC, sorted by id.
    pub fn subnets_of(&self, vpc: &VpcId) -> &[SubnetId] {
        self.fixed
            .vpc_subnets
            .get(vpc)
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    /// The subnet of `vpc` whose CIDR contains `addr`.
    pub fn subnet_containing(&self, vpc: &VpcId, addr: IpAddr) -> Option<&SubnetId> {
        let ranges = self.fixed.vpc_ranges.get(vpc)?;
        // Ranges are sorted by start and do not overlap within a VPC; the candidate is the last
        // range starting at or before `addr` (IPv4 sorts before IPv6 in `IpAddr`'s order).
        let i = ranges.partition_point(|(lo, _, _)| *lo <= addr);
        let (lo, hi, id) = ranges.get(i.checked_sub(1)?)?;
        (*lo <= addr && addr <= *hi && lo.is_ipv4() == addr.is_ipv4()).then_some(id)
    }

    /// The VPC's main route table.
    pub fn main_route_table(&self, vpc: &VpcId) -> Option<&RouteTableId> {
        self.main_table.get(vpc)
    }

    /// The subnet's explicitly associated route table.
    pub fn associated_route_table(&self, subnet: &SubnetId) -> Option<&RouteTableId> {
        self.subnet_table.get(subnet)
    }

    /// The route table a subnet uses: its own association, else its VPC's main table.
    pub fn route_table_of(&self, subnet: &Subnet) -> Option<&RouteTableId> {
        self.associated_route_table(&subnet.id)
            .or_else(|| self.main_route_table(&subnet.vpc))
    }

    /// The NACL a subnet uses.
    pub fn nacl_of(&self, subnet: &SubnetId) -> &NaclBinding {
        self.subnet_nacl
            .get(subnet)
            .unwrap_or(&NaclBinding::Unfiltered)
    }

    /// ENIs in a subnet, sorted by id.
    pub fn enis_in(&self, subnet: &SubnetId) -> &[NetworkInterfaceId] {
        self.fixed
            .subnet_enis
            .get(subnet)
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    /// ENIs in `subnet` that hold `addr`.
    pub fn enis_at(&self, subnet: &SubnetId, addr: IpAddr) -> &[NetworkInterfaceId] {
        self.fixed
            .addr_enis
            .get(&(subnet.clone(), addr))
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    /// ENIs that carry a security group.
    pub fn members_of(&self, group: &SecurityGroupId) -> &[NetworkInterfaceId] {
        self.fixed
            .group_members
            .get(group)
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    /// Peering connections with `vpc` on either side, sorted by id.
    pub fn peerings_of(&self, vpc: &VpcId) -> &[PeeringId] {
        self.vpc_peerings.get(vpc).map(Vec::as_slice).unwrap_or(&[])
    }
}
