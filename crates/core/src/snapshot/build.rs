//! From raw describe-* objects to the validated [`Model`]: required fields, CIDRs, protocols and
//! ports checked; ids deduplicated; account and region resolved; references validated.
//!
//! Every object that cannot be used, and every reference that dangles, becomes a diagnostic
//! naming the file and the object. Nothing is dropped silently.

use std::collections::{BTreeMap, BTreeSet};

use foldhash::{HashMap, HashMapExt, HashSet, HashSetExt};
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use ipnet::IpNet;

use super::Origins;
use super::layout::SnapshotFile;
use super::parse::{FileContents, Item, prefix_list_id_from_name};
use super::raw;
use crate::diagnostics::{Code, Diagnostic, Severity};
use crate::ids::region_of_zone;
use crate::model::*;

/// Association states that do not count (the contract: associating, disassociating,
/// disassociated, failing, failed).
fn association_counts(state: Option<&raw::StateHolder>) -> bool {
    !matches!(
        state.and_then(|s| s.state.as_deref()),
        Some("associating" | "disassociating" | "disassociated" | "failing" | "failed")
    )
}

/// The IPv6 CIDRs of an association set whose association counts.
fn ipv6_cidrs(
    set: &[raw::Ipv6CidrAssociation],
    at: &At,
    diags: &mut Vec<Diagnostic>,
) -> Vec<IpNet> {
    set.iter()
        .filter(|a| association_counts(a.ipv6_cidr_block_state.as_ref()))
        .filter_map(|a| a.ipv6_cidr_block.as_deref())
        .filter_map(|c| cidr(c, at, "Ipv6CidrBlock", diags))
        .collect()
}

fn tags(raw: &[raw::Tag]) -> Tags {
    raw.iter()
        .filter_map(|t| Some((t.key.clone()?, t.value.clone().unwrap_or_default())))
        .collect()
}

/// Where a diagnostic points: file and object.
struct At<'a> {
    file: &'a Path,
    object: String,
}

impl At<'_> {
    fn diag(&self, severity: Severity, code: Code, msg: impl Into<String>) -> Diagnostic {
        Diagnostic::new(severity, code, msg)
            .in_file(self.file)
            .object(self.object.clone())
    }
}

/// Parses a CIDR; a host-bits-set CIDR (`10.0.0.1/16`) is truncated with a warning, as AWS
/// itself never stores one.
fn cidr(s: &str, at: &At, field: &str, diags: &mut Vec<Diagnostic>) -> Option<IpNet> {
    match strict_cidr(s) {
        Ok(net) if net.trunc() == net => Some(net),
        Ok(net) => {
            diags.push(at.diag(
                Severity::Warning,
                Code::InvalidValue,
                format!("{field} {s:?} has host bits set; read as {}", net.trunc()),
            ));
            Some(net.trunc())
        }
        Err(why) => {
            diags.push(at.diag(
                Severity::Error,
                Code::InvalidValue,
                format!("{field} {s:?} is not a valid CIDR{why}"),
            ));
            None
        }
    }
}

/// Parses a CIDR as AWS writes one: no surrounding or inner spaces, IPv4 octets and prefix
/// lengths without leading zeros. Anything else is rejected (with why), never guessed at.
pub(super) fn strict_cidr(s: &str) -> Result<IpNet, &'static str> {
    if s.chars().any(char::is_whitespace) {
        return Err(" (it contains spaces)");
    }
    let net: IpNet = s.parse().map_err(|_| "")?;
    let (addr, len) = s.split_once('/').ok_or("")?;
    let leading_zero = |p: &str| p.len() > 1 && p.starts_with('0');
    if leading_zero(len) || (net.addr().is_ipv4() && addr.split('.').any(leading_zero)) {
        return Err(" (leading zeros)");
    }
    Ok(net)
}

fn ip(s: &str, at: &At, field: &str, diags: &mut Vec<Diagnostic>) -> Option<IpAddr> {
    let leading_zero = s.contains('.') && s.split('.').any(|p| p.len() > 1 && p.starts_with('0'));
    match s.parse::<IpAddr>() {
        Ok(a) if !leading_zero => Some(a),
        _ => {
            diags.push(at.diag(
                Severity::Error,
                Code::InvalidValue,
                format!("{field} {s:?} is not a valid IP address"),
            ));
            None
        }
    }
}

/// A security-group or NACL reference to a group, kept for validation after all files are read.
struct GroupRef {
    file: PathBuf,
    group: SecurityGroupId,
    referenced: SecurityGroupId,
    user_id: Option<String>,
}

/// Builds the model from parsed files, in the order given (sorted paths: deterministic).
#[derive(Default)]
pub struct Builder {
    parts: Parts,
    diags: Vec<Diagnostic>,
    /// Object id → file it was first read from.
    origin: Origins,
    /// ENIs read from describe-instances; describe-network-interfaces records win.
    instance_enis: BTreeMap<NetworkInterfaceId, NetworkInterface>,
    group_refs: Vec<GroupRef>,
    /// Prefix-list entries files: list id → CIDRs.
    entries: BTreeMap<PrefixListId, (PathBuf, Vec<IpNet>)>,
    /// Peering connection → the region of the first file that recorded it: the region of a
    /// side whose record names none and whose VPC the snapshot does not hold (an unseen peer).
    peering_regions: HashMap<PeeringId, Region>,
}

const UNKNOWN: &str = "unknown";

impl Builder {
    pub fn new() -> Builder {
        Builder::default()
    }

    /// Takes one file's contents.
    pub fn add_file(&mut self, f: &SnapshotFile, c: FileContents) {
        for key in &c.unknown {
            self.diags.push(
                Diagnostic::warning(
                    Code::UnknownKey,
                    format!("top-level key {key:?} is not a describe-* response peerscope knows; ignored"),
                )
                .in_file(&f.rel),
            );
        }
        for key in &c.not_modelled {
            self.diags.push(
                Diagnostic::info(
                    Code::NotModelled,
                    format!("top-level key {key:?} is not part of peering reachability; ignored"),
                )
                .in_file(&f.rel),
            );
        }
        if c.next_token {
            self.diags.push(
                Diagnostic::warning(
                    Code::PartialSnapshot,
                    "the file carries a NextToken: it holds one page of a paginated response, and later pages are missing",
                )
                .in_file(&f.rel),
            );
        }
        for item in c.vpcs {
            self.vpc(f, item);
        }
        for item in c.subnets {
            self.subnet(f, item);
        }
        for item in c.route_tables {
            self.route_table(f, item);
        }
        for item in c.network_acls {
            self.network_acl(f, item);
        }
        for item in c.security_groups {
            self.security_group(f, item);
        }
        for item in c.network_interfaces {
            let at = At {
                file: &f.rel,
                object: obj(
                    &item.value.network_interface_id,
                    "NetworkInterfaces",
                    item.index,
                ),
            };
            if let Some(eni) = self.eni(f, &at, item.value, None, None) {
                self.insert_eni(f, eni);
            }
        }
        for item in c.reservations {
            let owner = item.value.owner_id.clone();
            for (i, inst) in item.value.instances.into_iter().enumerate() {
                self.instance(
                    f,
                    inst,
                    owner.as_deref(),
                    &format!("Reservations[{}].Instances[{i}]", item.index),
                );
            }
        }
        for item in c.instances {
            self.instance(f, item.value, None, &format!("Instances[{}]", item.index));
        }
        for item in c.peerings {
            self.peering(f, item);
        }
        for item in c.prefix_lists {
            self.prefix_list(f, item);
        }
        if let Some(entries) = c.entries {
            self.entries_file(f, c.entries_list_id, entries);
        }
    }

    fn located(
        &mut self,
        f: &SnapshotFile,
        _id: &str,
        owner: Option<&str>,
        zone: Option<&str>,
    ) -> (AccountId, Region) {
        let account = f
            .account
            .clone()
            .or_else(|| owner.filter(|o| !o.is_empty()).map(AccountId::new));
        let region = f.region.clone().or_else(|| zone.and_then(region_of_zone));
        (
            account.unwrap_or_else(|| AccountId::new("")),
            region.unwrap_or_else(|| Region::new("")),
        )
    }

    /// Inserts unless the id is known; a second copy that differs is reported.
    fn insert<K: Ord + Clone + AsRef<str>, V: PartialEq>(
        map: &mut BTreeMap<K, V>,
        origin: &mut Origins,
        diags: &mut Vec<Diagnostic>,
        file: &Path,
        id: K,
        value: V,
    ) {
        match map.get(&id) {
            None => {
                origin.insert(id.as_ref(), file);
                map.insert(id, value);
            }
            Some(existing) if *existing == value => {}
            Some(_) => {
                let first = origin
                    .get(id.as_ref())
                    .map(|p| p.display().to_string())
                    .unwrap_or_default();
                diags.push(
                    Diagnostic::warning(
                        Code::ConflictingDuplicate,
                        format!(
                            "also described, differently, in {first}; the first description is kept"
                        ),
                    )
                    .in_file(file)
                    .object(id.as_ref()),
                );
            }
        }
    }

    fn vpc(&mut self, f: &SnapshotFile, item: Item<raw::Vpc>) {
        let v = item.value;
        let at = At {
            file: &f.rel,
            object: obj(&v.vpc_id, "Vpcs", item.index),
        };
        let Some(id) = v.vpc_id.as_deref() else {
            return self.missing(&at, "VpcId");
        };
        let mut cidrs = Vec::new();
        let from_set: Vec<&str> = v
            .cidr_block_association_set
            .iter()
            .flatten()
            .filter(|a| association_counts(a.cidr_block_state.as_ref()))
            .filter_map(|a| a.cidr_block.as_deref())
            .collect();
        if from_set.is_empty() {
            cidrs.extend(
                v.cidr_block
                    .as_deref()
                    .and_then(|c| cidr(c, &at, "CidrBlock", &mut self.diags)),
            );
        } else {
            for c in from_set {
                cidrs.extend(cidr(
                    c,
                    &at,
                    "CidrBlockAssociationSet.CidrBlock",
                    &mut self.diags,
                ));
            }
        }
        cidrs.extend(ipv6_cidrs(
            &v.ipv6_cidr_block_association_set,
            &at,
            &mut self.diags,
        ));
        if cidrs.is_empty() {
            self.diags.push(at.diag(
                Severity::Error,
                Code::MissingField,
                "VPC has no usable CIDR block (CidrBlock)",
            ));
        }
        cidrs.sort();
        cidrs.dedup();
        let (account, region) = self.located(f, id, v.owner_id.as_deref(), None);
        let vpc = Vpc {
            id: VpcId::new(id),
            account,
            region,
            cidrs,
            is_default: v.is_default.unwrap_or(false),
            tags: tags(&v.tags),
        };
        Self::insert(
            &mut self.parts.vpcs,
            &mut self.origin,
            &mut self.diags,
            &f.rel,
            vpc.id.clone(),
            vpc,
        );
    }

    fn subnet(&mut self, f: &SnapshotFile, item: Item<raw::Subnet>) {
        let s = item.value;
        let at = At {
            file: &f.rel,
            object: obj(&s.subnet_id, "Subnets", item.index),
        };
        let Some(id) = s.subnet_id.as_deref() else {
            return self.missing(&at, "SubnetId");
        };
        let Some(vpc) = s.vpc_id.as_deref() else {
            return self.missing(&at, "VpcId");
        };
        let mut cidrs: Vec<IpNet> = Vec::new();
        cidrs.extend(
            s.cidr_block
                .as_deref()
                .and_then(|c| cidr(c, &at, "CidrBlock", &mut self.diags)),
        );
        cidrs.extend(ipv6_cidrs(
            &s.ipv6_cidr_block_association_set,
            &at,
            &mut self.diags,
        ));
        if cidrs.is_empty() {
            return self.unusable(&at, Code::MissingField, "subnet has no usable CidrBlock");
        }
        cidrs.sort();
        cidrs.dedup();
        let (account, region) =
            self.located(f, id, s.owner_id.as_deref(), s.availability_zone.as_deref());
        let subnet = Subnet {
            id: SubnetId::new(id),
            vpc: VpcId::new(vpc),
            account,
            region,
            availability_zone: s.availability_zone,
            cidrs,
            tags: tags(&s.tags),
        };
        Self::insert(
            &mut self.parts.subnets,
            &mut self.origin,
            &mut self.diags,
            &f.rel,
            subnet.id.clone(),
            subnet,
        );
    }

    fn route_table(&mut self, f: &SnapshotFile, item: Item<raw::RouteTable>) {
        let t = item.value;
        let at = At {
            file: &f.rel,
            object: obj(&t.route_table_id, "RouteTables", item.index),
        };
        let Some(id) = t.route_table_id.as_deref() else {
            return self.missing(&at, "RouteTableId");
        };
        let Some(vpc) = t.vpc_id.as_deref() else {
            return self.missing(&at, "VpcId");
        };
        self.null_lists(
            &at,
            &[
                ("Associations", t.associations.null),
                ("Routes", t.routes.null),
            ],
        );
        let mut main = false;
        let mut subnets = Vec::new();
        let mut association_ids = BTreeMap::new();
        for a in t.associations.iter() {
            if !association_counts(a.association_state.as_ref()) {
                continue;
            }
            if a.main != Some(true) && a.subnet_id.is_none() && a.gateway_id.is_none() {
                // Which subnet uses the table is unknown: it would silently fall back to the
                // main table.
                self.diags.push(at.diag(
                    Severity::Error,
                    Code::MissingField,
                    "an association names neither a subnet, a gateway nor Main: which subnet uses this table is unknown",
                ));
            }
            if a.main == Some(true) {
                main = true;
            }
            if let Some(s) = &a.subnet_id {
                subnets.push(SubnetId::new(s));
            }
            if let Some(assoc) = &a.route_table_association_id
                && (a.main == Some(true) || a.subnet_id.is_some())
            {
                let subnet = a.subnet_id.as_deref().map(SubnetId::new);
                association_ids.insert(assoc.clone(), subnet.filter(|_| a.main != Some(true)));
            }
        }
        subnets.sort();
        subnets.dedup();
        let mut routes = Vec::new();
        for (i, r) in t.routes.iter().enumerate() {
            let rat = At {
                file: &f.rel,
                object: format!("{id} Routes[{i}]"),
            };
            if let Some(route) = self.route(&rat, r) {
                routes.push(route);
            }
        }
        let (account, region) = self.located(f, id, t.owner_id.as_deref(), None);
        let table = RouteTable {
            id: RouteTableId::new(id),
            vpc: VpcId::new(vpc),
            account,
            region,
            main,
            subnets,
            routes,
            tags: tags(&t.tags),
            association_ids,
        };
        Self::insert(
            &mut self.parts.route_tables,
            &mut self.origin,
            &mut self.diags,
            &f.rel,
            table.id.clone(),
            table,
        );
    }

    fn route(&mut self, at: &At, r: &raw::Route) -> Option<Route> {
        let destination = if let Some(c) = &r.destination_cidr_block {
            RouteDestination::Cidr(cidr(c, at, "DestinationCidrBlock", &mut self.diags)?)
        } else if let Some(c) = &r.destination_ipv6_cidr_block {
            RouteDestination::Cidr(cidr(c, at, "DestinationIpv6CidrBlock", &mut self.diags)?)
        } else if let Some(p) = &r.destination_prefix_list_id {
            RouteDestination::PrefixList(PrefixListId::new(p))
        } else {
            self.diags.push(at.diag(
                Severity::Error,
                Code::MissingField,
                "route has no DestinationCidrBlock, DestinationIpv6CidrBlock or DestinationPrefixListId (route skipped)",
            ));
            return None;
        };
        // The target fields are mutually exclusive in practice (an instance route also names
        // its ENI); resolve them once: local, peering, or anything else by its id.
        let target = if r.gateway_id.as_deref() == Some("local") {
            RouteTarget::Local
        } else if let Some(p) = &r.vpc_peering_connection_id {
            RouteTarget::Peering(PeeringId::new(p))
        } else if let Some(other) = [
            &r.gateway_id,
            &r.nat_gateway_id,
            &r.transit_gateway_id,
            &r.instance_id,
            &r.network_interface_id,
            &r.egress_only_internet_gateway_id,
            &r.carrier_gateway_id,
            &r.local_gateway_id,
            &r.core_network_arn,
            &r.vpc_endpoint_id,
            &r.odb_network_arn,
        ]
        .into_iter()
        .flatten()
        .next()
        {
            RouteTarget::Other(other.clone())
        } else if r.state.as_deref() == Some("blackhole") {
            // AWS omits the target of a route whose target was deleted.
            RouteTarget::Other("(deleted target)".into())
        } else {
            self.diags.push(at.diag(
                Severity::Error,
                Code::MissingField,
                "route has no target (route skipped)",
            ));
            return None;
        };
        Some(Route {
            destination,
            target,
            blackhole: r.state.as_deref() == Some("blackhole"),
        })
    }

    fn network_acl(&mut self, f: &SnapshotFile, item: Item<raw::NetworkAcl>) {
        let a = item.value;
        let at = At {
            file: &f.rel,
            object: obj(&a.network_acl_id, "NetworkAcls", item.index),
        };
        let Some(id) = a.network_acl_id.as_deref() else {
            return self.missing(&at, "NetworkAclId");
        };
        let Some(vpc) = a.vpc_id.as_deref() else {
            return self.missing(&at, "VpcId");
        };
        self.null_lists(
            &at,
            &[
                ("Associations", a.associations.null),
                ("Entries", a.entries.null),
            ],
        );
        let mut ingress = Vec::new();
        let mut egress = Vec::new();
        for (i, e) in a.entries.iter().enumerate() {
            let eat = At {
                file: &f.rel,
                object: format!("{id} Entries[{i}]"),
            };
            if let Some((is_egress, entry)) = self.nacl_entry(&eat, e) {
                if is_egress {
                    egress.push(entry)
                } else {
                    ingress.push(entry)
                }
            }
        }
        // Rule numbers are unique per direction in AWS; a stable sort keeps file order otherwise.
        ingress.sort_by_key(|e| e.rule_number);
        egress.sort_by_key(|e| e.rule_number);
        if a.associations.iter().any(|s| s.subnet_id.is_none()) {
            // The subnet would silently fall back to its VPC's default ACL.
            self.diags.push(at.diag(
                Severity::Error,
                Code::MissingField,
                "an association has no SubnetId: which subnet this ACL filters is unknown",
            ));
        }
        let mut subnets: Vec<SubnetId> = a
            .associations
            .iter()
            .filter_map(|s| s.subnet_id.as_deref().map(SubnetId::new))
            .collect();
        subnets.sort();
        subnets.dedup();
        let association_ids = a
            .associations
            .iter()
            .filter_map(|s| {
                Some((
                    s.network_acl_association_id.clone()?,
                    SubnetId::new(s.subnet_id.as_deref()?),
                ))
            })
            .collect();
        let (account, region) = self.located(f, id, a.owner_id.as_deref(), None);
        let acl = NetworkAcl {
            id: NetworkAclId::new(id),
            vpc: VpcId::new(vpc),
            account,
            region,
            is_default: a.is_default.unwrap_or(false),
            subnets,
            ingress,
            egress,
            tags: tags(&a.tags),
            association_ids,
        };
        Self::insert(
            &mut self.parts.network_acls,
            &mut self.origin,
            &mut self.diags,
            &f.rel,
            acl.id.clone(),
            acl,
        );
    }

    fn nacl_entry(&mut self, at: &At, e: &raw::NaclEntry) -> Option<(bool, NaclEntry)> {
        let skip = |this: &mut Self, msg: String| {
            this.diags.push(at.diag(
                Severity::Error,
                Code::InvalidValue,
                format!("{msg} (entry skipped)"),
            ));
            None
        };
        let Some(n) = e.rule_number else {
            return skip(self, "entry has no RuleNumber".into());
        };
        let Ok(rule_number) = u32::try_from(n) else {
            return skip(self, format!("RuleNumber {n} is out of range"));
        };
        let protocol = match e.protocol.as_ref().map(|p| Protocol::parse(&p.0)) {
            Some(Some(p)) => p,
            Some(None) => {
                return skip(
                    self,
                    format!(
                        "Protocol {:?} is not a protocol",
                        e.protocol.as_ref().map(|p| &p.0)
                    ),
                );
            }
            None => return skip(self, "entry has no Protocol".into()),
        };
        let action = match e.rule_action.as_deref() {
            Some("allow") => RuleAction::Allow,
            Some("deny") => RuleAction::Deny,
            other => {
                return skip(
                    self,
                    format!("RuleAction {other:?} is neither allow nor deny"),
                );
            }
        };
        let Some(egress) = e.egress else {
            return skip(self, "entry has no Egress flag".into());
        };
        let net = if let Some(c) = &e.cidr_block {
            cidr(c, at, "CidrBlock", &mut self.diags)?
        } else if let Some(c) = &e.ipv6_cidr_block {
            cidr(c, at, "Ipv6CidrBlock", &mut self.diags)?
        } else {
            return skip(self, "entry has neither CidrBlock nor Ipv6CidrBlock".into());
        };
        let ports = match (protocol, &e.port_range) {
            (Protocol::Number(p), Some(r)) if Protocol::has_ports(p) => {
                match port_range(r.from, r.to) {
                    Some(r) => r,
                    None => {
                        return skip(
                            self,
                            format!("PortRange {:?}-{:?} is not a port range", r.from, r.to),
                        );
                    }
                }
            }
            _ => PortRange::ALL,
        };
        Some((
            egress,
            NaclEntry {
                rule_number,
                action,
                protocol,
                cidr: net,
                ports,
            },
        ))
    }

    fn security_group(&mut self, f: &SnapshotFile, item: Item<raw::SecurityGroup>) {
        let g = item.value;
        let at = At {
            file: &f.rel,
            object: obj(&g.group_id, "SecurityGroups", item.index),
        };
        let Some(id) = g.group_id.as_deref() else {
            return self.missing(&at, "GroupId");
        };
        let Some(vpc) = g.vpc_id.as_deref() else {
            return self.unusable(
                &at,
                Code::MissingField,
                "security group has no VpcId (EC2-Classic groups are not modelled)",
            );
        };
        self.null_lists(
            &at,
            &[
                ("IpPermissions", g.ip_permissions.null),
                ("IpPermissionsEgress", g.ip_permissions_egress.null),
            ],
        );
        let sg_id = SecurityGroupId::new(id);
        let ingress = self.sg_rules(&f.rel, &sg_id, &g.ip_permissions, "IpPermissions");
        let egress = self.sg_rules(
            &f.rel,
            &sg_id,
            &g.ip_permissions_egress,
            "IpPermissionsEgress",
        );
        let (account, region) = self.located(f, id, g.owner_id.as_deref(), None);
        let sg = SecurityGroup {
            id: sg_id,
            name: g.group_name.unwrap_or_default(),
            vpc: VpcId::new(vpc),
            account,
            region,
            ingress,
            egress,
            tags: tags(&g.tags),
        };
        Self::insert(
            &mut self.parts.security_groups,
            &mut self.origin,
            &mut self.diags,
            &f.rel,
            sg.id.clone(),
            sg,
        );
    }

    fn sg_rules(
        &mut self,
        file: &Path,
        sg: &SecurityGroupId,
        perms: &[raw::IpPermission],
        field: &str,
    ) -> Vec<SgRule> {
        let mut out = Vec::new();
        for (i, p) in perms.iter().enumerate() {
            let at = At {
                file,
                object: format!("{sg} {field}[{i}]"),
            };
            let protocol = match p.ip_protocol.as_ref().map(|x| Protocol::parse(&x.0)) {
                Some(Some(x)) => x,
                Some(None) | None => {
                    self.diags.push(at.diag(
                        Severity::Error,
                        Code::InvalidValue,
                        format!(
                            "IpProtocol {:?} is not a protocol (rule skipped)",
                            p.ip_protocol.as_ref().map(|x| &x.0)
                        ),
                    ));
                    continue;
                }
            };
            let ports = match protocol {
                Protocol::Number(n) if Protocol::has_ports(n) => {
                    // -1 or absent means "all": the lowest port as FromPort, the highest as
                    // ToPort (Batfish's fixtures carry such half-open rules).
                    let from = p.from_port.filter(|&f| f != -1).unwrap_or(0);
                    let to = p.to_port.filter(|&t| t != -1).unwrap_or(65535);
                    {
                        match port_range(Some(from), Some(to)) {
                            Some(r) => r,
                            None => {
                                self.diags.push(at.diag(
                                    Severity::Error,
                                    Code::InvalidValue,
                                    format!("FromPort/ToPort {:?}-{:?} is not a port range (rule skipped)", p.from_port, p.to_port),
                                ));
                                continue;
                            }
                        }
                    }
                }
                // icmp type/code and other protocols: ports are not modelled.
                _ => PortRange::ALL,
            };
            let icmp = match protocol {
                Protocol::Number(n) if !Protocol::has_ports(n) => {
                    Some((p.from_port.unwrap_or(-1), p.to_port.unwrap_or(-1)))
                }
                _ => None,
            };
            let mut push = |peer: RulePeer, description: Option<String>| {
                out.push(SgRule {
                    protocol,
                    ports,
                    peer,
                    description,
                    icmp,
                });
            };
            for (list, null) in [
                ("IpRanges", p.ip_ranges.null),
                ("Ipv6Ranges", p.ipv6_ranges.null),
                ("PrefixListIds", p.prefix_list_ids.null),
                ("UserIdGroupPairs", p.user_id_group_pairs.null),
            ] {
                if null {
                    self.diags.push(at.diag(
                        Severity::Error,
                        Code::InvalidValue,
                        format!("{list} is null: whom the rule admits is unknown"),
                    ));
                }
            }
            for r in p.ip_ranges.iter() {
                match r.cidr_ip.as_deref() {
                    Some(c) => {
                        if let Some(c) = cidr(c, &at, "CidrIp", &mut self.diags) {
                            push(RulePeer::Cidr(c), r.description.clone());
                        }
                    }
                    None => self.diags.push(at.diag(
                        Severity::Error,
                        Code::MissingField,
                        "IpRanges entry has no CidrIp",
                    )),
                }
            }
            for r in p.ipv6_ranges.iter() {
                match r.cidr_ipv6.as_deref() {
                    Some(c) => {
                        if let Some(c) = cidr(c, &at, "CidrIpv6", &mut self.diags) {
                            push(RulePeer::Cidr(c), r.description.clone());
                        }
                    }
                    None => self.diags.push(at.diag(
                        Severity::Error,
                        Code::MissingField,
                        "Ipv6Ranges entry has no CidrIpv6",
                    )),
                }
            }
            for r in p.prefix_list_ids.iter() {
                match &r.prefix_list_id {
                    Some(pl) => push(
                        RulePeer::PrefixList(PrefixListId::new(pl)),
                        r.description.clone(),
                    ),
                    None => self.diags.push(at.diag(
                        Severity::Error,
                        Code::MissingField,
                        "PrefixListIds entry has no PrefixListId",
                    )),
                }
            }
            for r in p.user_id_group_pairs.iter() {
                match &r.group_id {
                    Some(g) => {
                        self.group_refs.push(GroupRef {
                            file: file.to_path_buf(),
                            group: sg.clone(),
                            referenced: SecurityGroupId::new(g),
                            user_id: r.user_id.clone(),
                        });
                        push(
                            RulePeer::Group(SecurityGroupId::new(g)),
                            r.description.clone(),
                        );
                    }
                    None => self.diags.push(at.diag(
                        Severity::Error,
                        Code::MissingField,
                        "UserIdGroupPairs entry has no GroupId (rule part skipped)",
                    )),
                }
            }
        }
        out
    }

    fn eni(
        &mut self,
        f: &SnapshotFile,
        at: &At,
        e: raw::NetworkInterface,
        instance: Option<&str>,
        zone: Option<&str>,
    ) -> Option<NetworkInterface> {
        let Some(id) = e.network_interface_id.as_deref() else {
            self.missing(at, "NetworkInterfaceId");
            return None;
        };
        let Some(subnet) = e.subnet_id.as_deref() else {
            self.unusable(at, Code::MissingField, "network interface has no SubnetId");
            return None;
        };
        let mut addresses = Vec::new();
        for a in e.private_ip_address.iter().chain(
            e.private_ip_addresses
                .iter()
                .filter_map(|p| p.private_ip_address.as_ref()),
        ) {
            addresses.extend(ip(a, at, "PrivateIpAddress", &mut self.diags));
        }
        for a in e
            .ipv6_addresses
            .iter()
            .filter_map(|a| a.ipv6_address.as_ref())
        {
            addresses.extend(ip(a, at, "Ipv6Address", &mut self.diags));
        }
        // The primary private address stays first: it names the interface in `query`.
        let mut seen = HashSet::new();
        addresses.retain(|a| seen.insert(*a));
        if e.groups.null || e.groups.iter().any(|g| g.group_id.is_none()) {
            self.diags.push(at.diag(
                Severity::Error,
                Code::InvalidValue,
                "Groups is null or names a group without GroupId: the interface's security groups are unknown",
            ));
        }
        let mut groups: Vec<SecurityGroupId> = e
            .groups
            .iter()
            .filter_map(|g| g.group_id.as_deref().map(SecurityGroupId::new))
            .collect();
        groups.sort();
        groups.dedup();
        let zone = e.availability_zone.as_deref().or(zone);
        let (account, region) = self.located(f, id, e.owner_id.as_deref(), zone);
        let instance = instance.map(InstanceId::new).or_else(|| {
            e.attachment
                .as_ref()
                .and_then(|a| a.instance_id.as_deref())
                .map(InstanceId::new)
        });
        Some(NetworkInterface {
            id: NetworkInterfaceId::new(id),
            subnet: SubnetId::new(subnet),
            vpc: VpcId::new(e.vpc_id.as_deref().unwrap_or("")),
            account,
            region,
            addresses,
            groups,
            instance,
            description: e.description.filter(|d| !d.is_empty()),
            tags: tags(&e.tag_set),
        })
    }

    fn insert_eni(&mut self, f: &SnapshotFile, eni: NetworkInterface) {
        Self::insert(
            &mut self.parts.network_interfaces,
            &mut self.origin,
            &mut self.diags,
            &f.rel,
            eni.id.clone(),
            eni,
        );
    }

    fn instance(&mut self, f: &SnapshotFile, inst: raw::Instance, owner: Option<&str>, pos: &str) {
        let at = At {
            file: &f.rel,
            object: inst.instance_id.clone().unwrap_or_else(|| pos.to_owned()),
        };
        let Some(iid) = inst.instance_id.clone() else {
            return self.missing(&at, "InstanceId");
        };
        let zone = inst
            .placement
            .as_ref()
            .and_then(|p| p.availability_zone.clone());
        let mut primary: Option<(i64, NetworkInterfaceId)> = None;
        for (i, raw_eni) in inst.network_interfaces.into_iter().enumerate() {
            let device = raw_eni
                .attachment
                .as_ref()
                .and_then(|a| a.device_index)
                .unwrap_or(i as i64);
            let raw_eni = raw::NetworkInterface {
                owner_id: raw_eni.owner_id.clone().or(owner.map(str::to_owned)),
                ..raw_eni
            };
            let eat = At {
                file: &f.rel,
                object: format!("{iid} NetworkInterfaces[{i}]"),
            };
            if let Some(eni) = self.eni(f, &eat, raw_eni, Some(&iid), zone.as_deref()) {
                if primary.as_ref().is_none_or(|(d, _)| device < *d) {
                    primary = Some((device, eni.id.clone()));
                }
                self.origin.insert_if_absent(eni.id.as_str(), &f.rel);
                match self.instance_enis.get(&eni.id) {
                    None => {
                        self.instance_enis.insert(eni.id.clone(), eni);
                    }
                    Some(first)
                        if first.subnet != eni.subnet
                            || first.addresses != eni.addresses
                            || first.instance != eni.instance =>
                    {
                        // The same interface id on two instances (hand-made dumps do this):
                        // one object, and the user hears about it.
                        self.diags.push(eat.diag(
                            Severity::Warning,
                            Code::ConflictingDuplicate,
                            format!(
                                "interface {} is also described for instance {}; the first description is kept",
                                eni.id,
                                first.instance.as_ref().map(|i| i.to_string()).unwrap_or_default()
                            ),
                        ));
                    }
                    Some(_) => {}
                }
            }
        }
        match primary {
            Some((_, eni)) => {
                self.parts
                    .instances
                    .entry(InstanceId::new(&iid))
                    .or_insert(eni);
            }
            None => self.diags.push(at.diag(
                Severity::Info,
                Code::MissingField,
                "instance has no network interfaces in the snapshot; it is not an endpoint",
            )),
        }
    }

    fn peering(&mut self, f: &SnapshotFile, item: Item<raw::VpcPeeringConnection>) {
        let p = item.value;
        let at = At {
            file: &f.rel,
            object: obj(
                &p.vpc_peering_connection_id,
                "VpcPeeringConnections",
                item.index,
            ),
        };
        let Some(id) = p.vpc_peering_connection_id.as_deref() else {
            return self.missing(&at, "VpcPeeringConnectionId");
        };
        let Some(status) = p.status.as_ref().and_then(|s| s.code.clone()) else {
            return self.missing(&at, "Status.Code");
        };
        let (Some(req), Some(acc)) = (p.requester_vpc_info.as_ref(), p.accepter_vpc_info.as_ref())
        else {
            return self.missing(&at, "RequesterVpcInfo/AccepterVpcInfo");
        };
        let (Some(requester), Some(accepter)) = (
            self.peering_side(&at, req, "RequesterVpcInfo"),
            self.peering_side(&at, acc, "AccepterVpcInfo"),
        ) else {
            return;
        };
        let conn = VpcPeeringConnection {
            id: PeeringId::new(id),
            status: PeeringStatus::from_code(&status),
            requester,
            accepter,
            tags: tags(&p.tags),
        };
        if let Some(r) = &f.region {
            self.peering_regions
                .entry(conn.id.clone())
                .or_insert_with(|| r.clone());
        }
        match self.parts.peerings.get_mut(&conn.id) {
            None => {
                self.origin.insert(id, &f.rel);
                self.parts.peerings.insert(conn.id.clone(), conn);
            }
            // The same connection from both accounts' dumps: one connection. Fill in what the
            // first record lacked; report a disagreement on status.
            Some(first) => {
                for (mine, theirs) in [
                    (&mut first.requester, conn.requester),
                    (&mut first.accepter, conn.accepter),
                ] {
                    if mine.region.is_none() {
                        mine.region = theirs.region;
                    }
                    if mine.owner.is_none() {
                        mine.owner = theirs.owner;
                    }
                    if mine.cidrs.is_empty() {
                        mine.cidrs = theirs.cidrs;
                    }
                }
                if first.status != conn.status {
                    let msg = format!(
                        "status {:?} here, {:?} in {}; the first is kept",
                        conn.status,
                        first.status,
                        self.origin
                            .get(id)
                            .map(|p| p.display().to_string())
                            .unwrap_or_default()
                    );
                    self.diags
                        .push(at.diag(Severity::Warning, Code::ConflictingDuplicate, msg));
                }
            }
        }
    }

    fn peering_side(
        &mut self,
        at: &At,
        s: &raw::PeeringVpcInfo,
        field: &str,
    ) -> Option<PeeringSide> {
        let Some(vpc) = s.vpc_id.as_deref() else {
            self.missing(at, &format!("{field}.VpcId"));
            return None;
        };
        let mut cidrs = Vec::new();
        let set: Vec<&str> = s
            .cidr_block_set
            .iter()
            .flatten()
            .filter_map(|c| c.cidr_block.as_deref())
            .collect();
        if set.is_empty() {
            cidrs.extend(
                s.cidr_block
                    .as_deref()
                    .and_then(|c| cidr(c, at, &format!("{field}.CidrBlock"), &mut self.diags)),
            );
        } else {
            for c in set {
                cidrs.extend(cidr(
                    c,
                    at,
                    &format!("{field}.CidrBlockSet"),
                    &mut self.diags,
                ));
            }
        }
        for c in s
            .ipv6_cidr_block_set
            .iter()
            .filter_map(|c| c.ipv6_cidr_block.as_deref())
        {
            cidrs.extend(cidr(
                c,
                at,
                &format!("{field}.Ipv6CidrBlockSet"),
                &mut self.diags,
            ));
        }
        cidrs.sort();
        cidrs.dedup();
        Some(PeeringSide {
            vpc: VpcId::new(vpc),
            owner: s.owner_id.as_deref().map(AccountId::new),
            region: s.region.as_deref().map(Region::new),
            cidrs,
        })
    }

    fn prefix_list(&mut self, f: &SnapshotFile, item: Item<raw::PrefixList>) {
        let p = item.value;
        let at = At {
            file: &f.rel,
            object: obj(&p.prefix_list_id, "PrefixLists", item.index),
        };
        let Some(id) = p.prefix_list_id.as_deref() else {
            return self.missing(&at, "PrefixListId");
        };
        let entries_known = p.cidrs.is_some();
        let mut cidrs = Vec::new();
        for c in p.cidrs.iter().flatten() {
            cidrs.extend(cidr(c, &at, "Cidrs", &mut self.diags));
        }
        cidrs.sort();
        cidrs.dedup();
        let list = PrefixList {
            id: PrefixListId::new(id),
            name: p.prefix_list_name,
            owner: p.owner_id.as_deref().map(AccountId::new),
            cidrs,
            entries_known,
        };
        match self.parts.prefix_lists.get_mut(&list.id) {
            // The same list described in several accounts or by both APIs: merge what is known.
            Some(first) => {
                if !first.entries_known && list.entries_known {
                    first.cidrs = list.cidrs;
                    first.entries_known = true;
                }
                if first.name.is_none() {
                    first.name = list.name;
                }
            }
            None => {
                self.parts.prefix_lists.insert(list.id.clone(), list);
            }
        }
    }

    fn entries_file(
        &mut self,
        f: &SnapshotFile,
        id: Option<String>,
        entries: Vec<Item<raw::PrefixListEntry>>,
    ) {
        let Some(id) = id.or_else(|| prefix_list_id_from_name(&f.rel)) else {
            self.diags.push(
                Diagnostic::error(Code::MissingField, "prefix-list entries without a PrefixListId, and the file name names no pl-… id (file skipped)")
                    .in_file(&f.rel),
            );
            return;
        };
        let at = At {
            file: &f.rel,
            object: id.clone(),
        };
        let mut cidrs = Vec::new();
        for e in entries {
            match e.value.cidr.as_deref() {
                Some(c) => cidrs.extend(cidr(c, &at, "Entries.Cidr", &mut self.diags)),
                None => self.diags.push(at.diag(
                    Severity::Error,
                    Code::MissingField,
                    format!("Entries[{}] has no Cidr", e.index),
                )),
            }
        }
        let slot = self
            .entries
            .entry(PrefixListId::new(&id))
            .or_insert_with(|| (f.rel.clone(), Vec::new()));
        slot.1.extend(cidrs);
    }

    /// A list AWS always writes that is `null` here: unknown, so damage — never read as empty.
    fn null_lists(&mut self, at: &At, lists: &[(&str, bool)]) {
        for (field, null) in lists {
            if *null {
                self.diags.push(at.diag(
                    Severity::Error,
                    Code::InvalidValue,
                    format!("{field} is null: the list is unknown (read as empty, and answers that depend on it are refused or marked undetermined)"),
                ));
            }
        }
    }

    fn missing(&mut self, at: &At, field: &str) {
        self.unusable(
            at,
            Code::MissingField,
            &format!("required field {field} is missing"),
        );
    }

    fn unusable(&mut self, at: &At, code: Code, msg: &str) {
        self.diags
            .push(at.diag(Severity::Error, code, format!("{msg} (object skipped)")));
    }

    /// Resolves locations and references, and returns the model with every diagnostic.
    /// Also returns, for every object id, the file it was first read from.
    pub fn finish(mut self) -> (Model, Vec<Diagnostic>, Origins) {
        // ENIs seen only in describe-instances; instance ids attach to the interface records.
        for (id, eni) in std::mem::take(&mut self.instance_enis) {
            match self.parts.network_interfaces.get_mut(&id) {
                Some(existing) => {
                    if existing.instance.is_none() {
                        existing.instance = eni.instance;
                    }
                }
                None => {
                    self.parts.network_interfaces.insert(id, eni);
                }
            }
        }
        for (id, (file, mut cidrs)) in std::mem::take(&mut self.entries) {
            cidrs.sort();
            cidrs.dedup();
            let list = self
                .parts
                .prefix_lists
                .entry(id.clone())
                .or_insert_with(|| PrefixList {
                    id: id.clone(),
                    name: None,
                    owner: None,
                    cidrs: Vec::new(),
                    entries_known: false,
                });
            list.cidrs = cidrs;
            list.entries_known = true;
            self.origin.insert_if_absent(id.as_str(), &file);
        }
        self.resolve_locations();
        self.check_references();
        let model = Model::new(self.parts);
        let mut diags = self.diags;
        check_coverage(&model, &mut diags);
        check_unseen(&model, &self.origin, &mut diags);
        check_impossible(&model, &self.origin, &mut diags);
        diags.sort();
        diags.dedup();
        (model, diags, self.origin)
    }

    fn file_of(&self, id: &str) -> PathBuf {
        self.origin
            .get(id)
            .map(Path::to_path_buf)
            .unwrap_or_default()
    }

    fn resolve_locations(&mut self) {
        let p = &mut self.parts;
        // VPC regions from their subnets' zones, accounts from their subnets' owners.
        let mut vpc_region: HashMap<VpcId, Region> = HashMap::new();
        let mut vpc_account: HashMap<VpcId, AccountId> = HashMap::new();
        // Candidates in order of trust: subnets, then the other objects of the VPC.
        let located = p
            .subnets
            .values()
            .map(|s| (&s.vpc, &s.account, &s.region))
            .chain(
                p.security_groups
                    .values()
                    .map(|g| (&g.vpc, &g.account, &g.region)),
            )
            .chain(
                p.route_tables
                    .values()
                    .map(|t| (&t.vpc, &t.account, &t.region)),
            )
            .chain(
                p.network_acls
                    .values()
                    .map(|a| (&a.vpc, &a.account, &a.region)),
            )
            .chain(
                p.network_interfaces
                    .values()
                    .map(|e| (&e.vpc, &e.account, &e.region)),
            );
        for (vpc, account, region) in located {
            if !region.as_str().is_empty() {
                vpc_region
                    .entry(vpc.clone())
                    .or_insert_with(|| region.clone());
            }
            if !account.as_str().is_empty() {
                vpc_account
                    .entry(vpc.clone())
                    .or_insert_with(|| account.clone());
            }
        }
        for v in p.vpcs.values_mut() {
            if v.region.as_str().is_empty()
                && let Some(r) = vpc_region.get(&v.id)
            {
                v.region = r.clone();
            }
            if v.account.as_str().is_empty()
                && let Some(a) = vpc_account.get(&v.id)
            {
                v.account = a.clone();
            }
        }
        let vpc_loc: HashMap<VpcId, (AccountId, Region)> = p
            .vpcs
            .values()
            .map(|v| (v.id.clone(), (v.account.clone(), v.region.clone())))
            .collect();
        let fill = |vpc: &VpcId, account: &mut AccountId, region: &mut Region| {
            if let Some((a, r)) = vpc_loc.get(vpc) {
                if account.as_str().is_empty() {
                    *account = a.clone();
                }
                if region.as_str().is_empty() {
                    *region = r.clone();
                }
            }
        };
        for s in p.subnets.values_mut() {
            fill(&s.vpc, &mut s.account, &mut s.region);
        }
        for t in p.route_tables.values_mut() {
            fill(&t.vpc, &mut t.account, &mut t.region);
        }
        for a in p.network_acls.values_mut() {
            fill(&a.vpc, &mut a.account, &mut a.region);
        }
        for g in p.security_groups.values_mut() {
            fill(&g.vpc, &mut g.account, &mut g.region);
        }
        let subnet_vpc: HashMap<SubnetId, VpcId> = p
            .subnets
            .values()
            .map(|s| (s.id.clone(), s.vpc.clone()))
            .collect();
        for e in p.network_interfaces.values_mut() {
            if e.vpc.as_str().is_empty()
                && let Some(v) = subnet_vpc.get(&e.subnet)
            {
                e.vpc = v.clone();
            }
            fill(&e.vpc, &mut e.account, &mut e.region);
        }
        for c in p.peerings.values_mut() {
            for side in [&mut c.requester, &mut c.accepter] {
                if side.region.is_none() {
                    side.region = vpc_loc
                        .get(&side.vpc)
                        .map(|(_, r)| r.clone())
                        .filter(|r| !r.as_str().is_empty())
                        // An unseen peer (semantics step 21): the record's own region.
                        .or_else(|| {
                            (!p.vpcs.contains_key(&side.vpc))
                                .then(|| self.peering_regions.get(&c.id).cloned())
                                .flatten()
                        });
                }
            }
        }
        // Whatever is still unknown is named "unknown", once per object.
        let mut unresolved = Vec::new();
        macro_rules! finalize {
            ($map:expr) => {
                for o in $map.values_mut() {
                    if o.account.as_str().is_empty() || o.region.as_str().is_empty() {
                        unresolved.push(o.id.to_string());
                        if o.account.as_str().is_empty() {
                            o.account = AccountId::new(UNKNOWN);
                        }
                        if o.region.as_str().is_empty() {
                            o.region = Region::new(UNKNOWN);
                        }
                    }
                }
            };
        }
        finalize!(p.vpcs);
        finalize!(p.subnets);
        finalize!(p.route_tables);
        finalize!(p.network_acls);
        finalize!(p.security_groups);
        finalize!(p.network_interfaces);
        for id in unresolved {
            let file = self.file_of(&id);
            self.diags.push(
                Diagnostic::warning(
                    Code::UnknownLocation,
                    "neither the folders nor the data (OwnerId, AvailabilityZone, its VPC) name this object's account and region; \"unknown\" is used",
                )
                .in_file(file)
                .object(id),
            );
        }
    }

    fn check_references(&mut self) {
        let p = &self.parts;
        let mut diags = Vec::new();
        let dangling = |file: PathBuf, object: &str, msg: String| {
            Diagnostic::error(Code::DanglingReference, msg)
                .in_file(file)
                .object(object)
        };
        for s in p.subnets.values() {
            if !p.vpcs.contains_key(&s.vpc) {
                diags.push(dangling(
                    self.file_of(s.id.as_str()),
                    s.id.as_str(),
                    format!("subnet names VPC {} which is not in the snapshot", s.vpc),
                ));
            }
        }
        let mut subnet_tables: BTreeMap<&SubnetId, Vec<&RouteTableId>> = BTreeMap::new();
        let mut main_tables: BTreeMap<&VpcId, Vec<&RouteTableId>> = BTreeMap::new();
        for t in p.route_tables.values() {
            // Looked up only when a diagnostic needs it.
            let file = || self.file_of(t.id.as_str());
            if !p.vpcs.contains_key(&t.vpc) {
                diags.push(dangling(
                    file(),
                    t.id.as_str(),
                    format!(
                        "route table names VPC {} which is not in the snapshot",
                        t.vpc
                    ),
                ));
            }
            if t.main {
                main_tables.entry(&t.vpc).or_default().push(&t.id);
            }
            for s in &t.subnets {
                subnet_tables.entry(s).or_default().push(&t.id);
                if !p.subnets.contains_key(s) {
                    diags.push(dangling(
                        file(),
                        t.id.as_str(),
                        format!(
                            "route table is associated with subnet {s} which is not in the snapshot"
                        ),
                    ));
                }
            }
            for r in &t.routes {
                if let RouteTarget::Peering(pcx) = &r.target
                    && !p.peerings.contains_key(pcx)
                    && !r.blackhole
                {
                    diags.push(dangling(file(), t.id.as_str(), format!("route {r} names peering connection {pcx} which is not in the snapshot (treated as inactive)")));
                }
                if let RouteDestination::PrefixList(pl) = &r.destination {
                    let severity =
                        if matches!(r.target, RouteTarget::Peering(_) | RouteTarget::Local) {
                            Severity::Error
                        } else {
                            Severity::Warning
                        };
                    if !p.prefix_lists.get(pl).is_some_and(|l| l.entries_known) {
                        diags.push(Diagnostic::new(severity, Code::DanglingReference, format!("route {r} names prefix list {pl} whose entries are not in the snapshot (the route matches nothing)")).in_file(file()).object(t.id.as_str()));
                    }
                }
            }
        }
        for (s, tables) in subnet_tables {
            if tables.len() > 1 {
                diags.push(
                    Diagnostic::error(
                        Code::ConflictingDuplicate,
                        format!(
                            "subnet is associated with several route tables ({}); {} is used",
                            join(&tables),
                            tables[0]
                        ),
                    )
                    .in_file(self.file_of(tables[1].as_str()))
                    .object(s.as_str()),
                );
            }
        }
        for (v, tables) in main_tables {
            if tables.len() > 1 {
                diags.push(
                    Diagnostic::error(
                        Code::ConflictingDuplicate,
                        format!(
                            "VPC has several main route tables ({}); {} is used",
                            join(&tables),
                            tables[0]
                        ),
                    )
                    .in_file(self.file_of(tables[1].as_str()))
                    .object(v.as_str()),
                );
            }
        }
        let mut subnet_acls: BTreeMap<&SubnetId, Vec<&NetworkAclId>> = BTreeMap::new();
        for a in p.network_acls.values() {
            // Looked up only when a diagnostic needs it.
            let file = || self.file_of(a.id.as_str());
            if !p.vpcs.contains_key(&a.vpc) {
                diags.push(dangling(
                    file(),
                    a.id.as_str(),
                    format!(
                        "network ACL names VPC {} which is not in the snapshot",
                        a.vpc
                    ),
                ));
            }
            for s in &a.subnets {
                subnet_acls.entry(s).or_default().push(&a.id);
                if !p.subnets.contains_key(s) {
                    diags.push(
                        Diagnostic::warning(
                            Code::DanglingReference,
                            format!("network ACL is associated with subnet {s} which is not in the snapshot"),
                        )
                        .in_file(file())
                        .object(a.id.as_str()),
                    );
                }
            }
        }
        for (s, acls) in subnet_acls {
            if acls.len() > 1 {
                diags.push(
                    Diagnostic::error(
                        Code::ConflictingDuplicate,
                        format!(
                            "subnet is associated with several network ACLs ({}); {} is used",
                            join(&acls),
                            acls[0]
                        ),
                    )
                    .in_file(self.file_of(acls[1].as_str()))
                    .object(s.as_str()),
                );
            }
        }
        let accounts: BTreeSet<&str> = p
            .vpcs
            .values()
            .map(|v| v.account.as_str())
            .chain(p.security_groups.values().map(|g| g.account.as_str()))
            .collect();
        for r in &self.group_refs {
            if p.security_groups.contains_key(&r.referenced) {
                continue;
            }
            let foreign = r.user_id.as_deref().is_some_and(|u| !accounts.contains(u));
            let (severity, msg) = if foreign {
                (
                    Severity::Warning,
                    format!(
                        "rule references group {} of account {}, which the snapshot does not cover; it matches no interface here",
                        r.referenced,
                        r.user_id.as_deref().unwrap_or_default()
                    ),
                )
            } else {
                // The rule matches no interface of the snapshot: reported, and the answer stays
                // exact for what was collected.
                (
                    Severity::Warning,
                    format!(
                        "rule references security group {} which is not in the snapshot; it matches no interface",
                        r.referenced
                    ),
                )
            };
            diags.push(
                Diagnostic::new(severity, Code::DanglingReference, msg)
                    .in_file(r.file.clone())
                    .object(r.group.as_str()),
            );
        }
        for g in p.security_groups.values() {
            // Looked up only when a diagnostic needs it.
            let file = || self.file_of(g.id.as_str());
            if !p.vpcs.contains_key(&g.vpc) {
                diags.push(dangling(
                    file(),
                    g.id.as_str(),
                    format!(
                        "security group names VPC {} which is not in the snapshot",
                        g.vpc
                    ),
                ));
            }
            let mut reported = BTreeSet::new();
            for rule in g.ingress.iter().chain(&g.egress) {
                if let RulePeer::PrefixList(pl) = &rule.peer
                    && !p.prefix_lists.get(pl).is_some_and(|l| l.entries_known)
                    && reported.insert(pl)
                {
                    diags.push(Diagnostic::warning(Code::DanglingReference, format!("rule names prefix list {pl} whose entries are not in the snapshot (the rule matches nothing)")).in_file(file()).object(g.id.as_str()));
                }
            }
        }
        // ENIs must sit in a known subnet to be endpoints.
        let mut dropped = Vec::new();
        for e in p.network_interfaces.values() {
            // Looked up only when a diagnostic needs it.
            let file = || self.file_of(e.id.as_str());
            match p.subnets.get(&e.subnet) {
                None => {
                    diags.push(Diagnostic::error(Code::DanglingReference, format!("network interface is in subnet {} which is not in the snapshot (interface skipped)", e.subnet)).in_file(file()).object(e.id.as_str()));
                    dropped.push(e.id.clone());
                    continue;
                }
                Some(s) if s.vpc != e.vpc && !e.vpc.as_str().is_empty() => {
                    diags.push(Diagnostic::error(Code::InvalidValue, format!("network interface names VPC {} but its subnet {} is in {}; the subnet's VPC is used", e.vpc, e.subnet, s.vpc)).in_file(file()).object(e.id.as_str()));
                }
                Some(_) => {}
            }
            for g in &e.groups {
                if !p.security_groups.contains_key(g) {
                    diags.push(
                        Diagnostic::warning(
                            Code::DanglingReference,
                            format!("network interface carries security group {g} which is not in the snapshot: its rules are unknown and allow nothing here"),
                        )
                        .in_file(file())
                        .object(e.id.as_str()),
                    );
                }
            }
        }
        let p = &mut self.parts;
        for id in dropped {
            p.network_interfaces.remove(&id);
        }
        let subnet_vpc: HashMap<SubnetId, VpcId> = p
            .subnets
            .values()
            .map(|s| (s.id.clone(), s.vpc.clone()))
            .collect();
        for e in p.network_interfaces.values_mut() {
            if let Some(v) = subnet_vpc.get(&e.subnet) {
                e.vpc = v.clone();
            }
        }
        p.instances
            .retain(|_, eni| p.network_interfaces.contains_key(eni));
        self.diags.extend(diags);
    }
}

/// VPCs known only from peering records: an info for an external account's VPC (the normal
/// case: a partner's account is not yours to read), a warning when the snapshot covers the
/// account (its VPC was not collected, so the data has a gap).
fn check_unseen(m: &Model, origin: &Origins, diags: &mut Vec<Diagnostic>) {
    let collected: BTreeSet<&AccountId> = m.locations.iter().map(|(a, _)| a).collect();
    for u in m.unseen_vpcs().values() {
        let conns = join(&u.peerings);
        let cidrs = join(&u.cidrs);
        let (severity, msg) = match &u.account {
            Some(a) if collected.contains(a) => (
                Severity::Warning,
                format!(
                    "VPC of account {a}, which the snapshot covers, is known only from peering connection(s) {conns}: its Vpcs record was not collected; its side ({cidrs}) is judged by the worst case"
                ),
            ),
            Some(a) => (
                Severity::Info,
                format!(
                    "VPC of external account {a} is known only from peering connection(s) {conns}; its side ({cidrs}) is taken to send anything and flows into it end as unseen-peer"
                ),
            ),
            None => (
                Severity::Info,
                format!(
                    "VPC of an unknown account is known only from peering connection(s) {conns}; its side ({cidrs}) is taken to send anything and flows into it end as unseen-peer"
                ),
            ),
        };
        let mut d = Diagnostic::new(severity, Code::UnseenVpc, msg).object(u.id.as_str());
        if let Some(f) = u.peerings.first().and_then(|p| origin.get(p.as_str())) {
            d = d.in_file(f);
        }
        diags.push(d);
    }
}

/// Data no real account can hold: associations across VPCs, subnets outside their VPC or
/// overlapping each other, interface addresses outside their subnet. Each is an error naming
/// both objects, and damage to both VPCs (the engine ignores a cross-VPC association).
fn check_impossible(m: &Model, origin: &Origins, diags: &mut Vec<Diagnostic>) {
    let impossible = |object: &str, msg: String, vpcs: Vec<VpcId>| {
        let mut d = Diagnostic::error(Code::ImpossibleData, msg)
            .object(object)
            .scope(vpcs);
        if let Some(f) = origin.get(object) {
            d = d.in_file(f);
        }
        d
    };
    let vpc_of = |s: &SubnetId| m.subnets.get(s).map(|s| s.vpc.clone());
    for t in m.route_tables.values() {
        for sn in &t.subnets {
            if let Some(v) = vpc_of(sn).filter(|v| v != &t.vpc) {
                diags.push(impossible(
                    t.id.as_str(),
                    format!("route table of {} is associated with subnet {sn} of {v}: AWS associates a table only with subnets of its own VPC (the association is ignored)", t.vpc),
                    vec![t.vpc.clone(), v],
                ));
            }
        }
    }
    for a in m.network_acls.values() {
        for sn in &a.subnets {
            if let Some(v) = vpc_of(sn).filter(|v| v != &a.vpc) {
                diags.push(impossible(
                    a.id.as_str(),
                    format!("network ACL of {} is associated with subnet {sn} of {v}: AWS associates an ACL only with subnets of its own VPC (the association is ignored)", a.vpc),
                    vec![a.vpc.clone(), v],
                ));
            }
        }
    }
    let mut ranges: BTreeMap<&VpcId, Vec<(IpAddr, IpAddr, &SubnetId)>> = BTreeMap::new();
    for sn in m.subnets.values() {
        if let Some(v) = m.vpcs.get(&sn.vpc) {
            for c in &sn.cidrs {
                if !v.cidrs.iter().any(|vc| vc.contains(c)) {
                    diags.push(impossible(
                        sn.id.as_str(),
                        format!(
                            "subnet CIDR {c} lies outside the CIDRs of its VPC {} ({})",
                            v.id,
                            join(&v.cidrs)
                        ),
                        vec![v.id.clone()],
                    ));
                }
            }
        }
        for c in &sn.cidrs {
            ranges
                .entry(&sn.vpc)
                .or_default()
                .push((c.network(), c.broadcast(), &sn.id));
        }
    }
    for (vpc, mut rs) in ranges {
        rs.sort();
        for w in rs.windows(2) {
            let ((_, hi, a), (lo, _, b)) = (w[0], w[1]);
            if lo <= hi && lo.is_ipv4() == hi.is_ipv4() && a != b {
                diags.push(impossible(
                    a.as_str(),
                    format!("subnet overlaps subnet {b} in {vpc}: AWS never lets two subnets of a VPC share an address"),
                    vec![vpc.clone()],
                ));
            }
        }
    }
    for e in m.network_interfaces.values() {
        let Some(sn) = m.subnets.get(&e.subnet) else {
            continue;
        };
        for a in &e.addresses {
            if !sn.cidrs.iter().any(|c| c.contains(a)) {
                diags.push(impossible(
                    e.id.as_str(),
                    format!(
                        "address {a} lies outside its subnet {} ({})",
                        sn.id,
                        join(&sn.cidrs)
                    ),
                    vec![sn.vpc.clone()],
                ));
            }
        }
    }
}

/// Subnets without a route table or a NACL.
fn check_coverage(m: &Model, diags: &mut Vec<Diagnostic>) {
    let ix = m.index();
    let vpcs_with_acls: BTreeSet<&VpcId> = m.network_acls.values().map(|a| &a.vpc).collect();
    let mut missing_acl_data: BTreeMap<&VpcId, usize> = BTreeMap::new();
    for s in m.subnets.values() {
        if ix.route_table_of(s).is_none() {
            diags.push(Diagnostic::warning(Code::NoRouteTable, format!("subnet has no associated route table and VPC {} has no main route table: its traffic has no route", s.vpc)).object(s.id.as_str()));
        }
        if *ix.nacl_of(&s.id) == NaclBinding::Unfiltered {
            if vpcs_with_acls.contains(&s.vpc) {
                diags.push(Diagnostic::error(Code::DanglingReference, format!("subnet has no network ACL association and VPC {} has no default network ACL: NACLs do not filter its traffic", s.vpc)).object(s.id.as_str()));
            } else {
                *missing_acl_data.entry(&s.vpc).or_default() += 1;
            }
        }
    }
    for (vpc, n) in missing_acl_data {
        diags.push(Diagnostic::warning(Code::NaclDataMissing, format!("the snapshot holds no network ACLs for this VPC: NACLs do not filter the traffic of its {n} subnet(s)")).object(vpc.as_str()));
    }
}

fn join<T: std::fmt::Display>(items: &[T]) -> String {
    items
        .iter()
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

fn obj(id: &Option<String>, key: &str, index: usize) -> String {
    id.clone().unwrap_or_else(|| format!("{key}[{index}]"))
}

fn port_range(from: Option<i64>, to: Option<i64>) -> Option<PortRange> {
    let from = u16::try_from(from?).ok()?;
    let to = u16::try_from(to?).ok()?;
    (from <= to).then_some(PortRange { from, to })
}

/// Converts one object of an edit (a what-if operation) exactly as the loader converts it;
/// an error-level diagnostic is an error, since an edit has no "skip and go on". Warnings are
/// what AWS does silently too (a CIDR with host bits set is stored in canonical form).
fn convert_one<T>(
    object: &str,
    f: impl FnOnce(&mut Builder, &At) -> Option<T>,
) -> Result<T, String> {
    let mut b = Builder::new();
    let at = At {
        file: Path::new(""),
        object: object.to_owned(),
    };
    let out = f(&mut b, &at);
    let errors: Vec<String> = b
        .diags
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .map(|d| d.message.clone())
        .collect();
    match out {
        Some(v) if errors.is_empty() => Ok(v),
        _ => Err(errors.join("; ")),
    }
}

pub(super) fn convert_route(r: &raw::Route, object: &str) -> Result<Route, String> {
    convert_one(object, |b, at| b.route(at, r))
}

pub(super) fn convert_nacl_entry(
    e: &raw::NaclEntry,
    object: &str,
) -> Result<(bool, NaclEntry), String> {
    convert_one(object, |b, at| b.nacl_entry(at, e))
}

pub(super) fn convert_permissions(
    group: &SecurityGroupId,
    perms: &[raw::IpPermission],
    field: &str,
) -> Result<Vec<SgRule>, String> {
    convert_one(group.as_str(), |b, _| {
        Some(b.sg_rules(Path::new(""), group, perms, field))
    })
}

pub(super) fn convert_cidr(s: &str, field: &str) -> Result<IpNet, String> {
    convert_one(field, |b, at| cidr(s, at, field, &mut b.diags))
}
