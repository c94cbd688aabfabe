//! Proposed changes, applied to a model: the edits that EC2 operations ([`ec2`]) and Terraform
//! resource changes ([`terraform`]) make, with the checks AWS itself makes before it accepts
//! them (unknown ids, duplicate routes and rules, overlapping peers, missing rules).
//!
//! Both readers translate their input into calls on one [`Editor`], which edits the model in
//! place, records which VPCs the change touches (the scope of the incremental re-analysis:
//! flows between two untouched VPCs cannot change) and reindexes when done. An edit that AWS
//! would reject is an error naming the operation; nothing is applied halfway silently.

pub mod ec2;
mod json;
pub mod terraform;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::Arc;

use ipnet::IpNet;
use serde::Serialize;

use crate::model::*;

/// An operation AWS would reject, or that cannot be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChangeError {
    /// Which operation: `operation 3 (CreateRoute)`, a Terraform resource address, or the whole
    /// `change file` or `plan`.
    pub op: String,
    pub message: String,
    /// Where in the file (1-based line and column), when the mistake is in what the file says
    /// rather than in what AWS would make of it.
    pub at: Option<(usize, usize)>,
}

impl ChangeError {
    /// `FILE:LINE:COLUMN: OP: MESSAGE`, or `FILE: OP: MESSAGE` without a position.
    pub fn in_file(&self, file: &std::path::Path) -> String {
        match self.at {
            Some((line, column)) => format!("{}:{line}:{column}: {self}", file.display()),
            None => format!("{}: {self}", file.display()),
        }
    }
}

impl fmt::Display for ChangeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.op, self.message)
    }
}

impl std::error::Error for ChangeError {}

/// What applying a change did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Applied {
    /// One line per operation or resource change applied, in order.
    pub applied: Vec<String>,
    /// Resource changes that were not applied, with why (never silently dropped).
    pub not_understood: Vec<String>,
    /// Ids given to objects the change creates (`pcx-…` for a new peering, placeholders for
    /// values Terraform knows only after apply), by what created them.
    pub placeholders: BTreeMap<String, String>,
    /// The VPCs whose routes, NACLs, security groups or peerings the change touches.
    pub touched: BTreeSet<VpcId>,
}

/// Edits a model in place, as AWS would, recording what it touches. Call [`Editor::finish`]
/// when done: it reindexes the model.
pub struct Editor<'m> {
    model: &'m mut Model,
    touched: BTreeSet<VpcId>,
    counter: usize,
    /// Set by edits that change what the routing index holds ([`Editor::finish`]).
    structural: bool,
}

type Res<T> = Result<T, String>;

/// Reads a change file or plan (`what`) as JSON: syntax first, then no object may give a key
/// twice (serde_json would keep the last silently). Errors carry the line and column.
fn read_json(text: &str, what: &str) -> Result<serde_json::Value, ChangeError> {
    let v = serde_json::from_str(text).map_err(|e| {
        let full = e.to_string();
        // serde_json appends " at line L column C"; the position goes in `at`.
        let message = match full.rfind(" at line ") {
            Some(i) => &full[..i],
            None => &full,
        };
        ChangeError {
            op: what.to_owned(),
            message: format!("not JSON: {message}"),
            at: Some((e.line(), e.column())),
        }
    })?;
    if let Some((offset, key)) = json::duplicate_key(text) {
        return Err(ChangeError {
            op: what.to_owned(),
            message: format!(
                "{key:?} is given twice in one object: which one counts would be a guess"
            ),
            at: Some(json::line_column(text, offset)),
        });
    }
    Ok(v)
}

impl<'m> Editor<'m> {
    pub fn new(model: &'m mut Model) -> Editor<'m> {
        Editor {
            model,
            touched: BTreeSet::new(),
            counter: 0,
            structural: false,
        }
    }

    /// The model as edited so far (indexes are stale until [`Editor::finish`]).
    pub fn model(&self) -> &Model {
        self.model
    }

    /// Reindexes the model when an edit changed what the index holds; returns the touched
    /// VPCs. Edits never change subnets, interfaces or VPCs, so at most the routing part of the
    /// index is rebuilt (associations, main tables, ACL bindings, peerings); edits of routes,
    /// rules, entries and prefix lists keep it (a hub's route on the L tier: 190–280 ms saved).
    pub fn finish(self) -> BTreeSet<VpcId> {
        if self.structural {
            self.model.reindex_routing();
        } else {
            debug_assert!(
                self.model.routing_index_is_current(),
                "an edit changed what the routing index holds without marking it structural"
            );
        }
        self.touched
    }

    /// The edit changes what the routing index holds (associations, main tables, ACL
    /// bindings, route tables or ACLs created or deleted, peerings).
    fn structural(&mut self) {
        self.structural = true;
    }

    /// A fresh id for an object the change creates (`rtbassoc-whatif-1`, …).
    pub fn fresh_id(&mut self, prefix: &str) -> String {
        self.counter += 1;
        format!("{prefix}-whatif-{}", self.counter)
    }

    fn touch(&mut self, vpc: &VpcId) {
        self.touched.insert(vpc.clone());
    }

    fn table(&mut self, id: &RouteTableId) -> Res<&mut RouteTable> {
        self.model
            .route_tables
            .get_mut(id)
            .map(Arc::make_mut)
            .ok_or_else(|| {
                format!("route table {id} does not exist (InvalidRouteTableID.NotFound)")
            })
    }

    fn subnet(&self, id: &SubnetId) -> Res<&Subnet> {
        self.model
            .subnets
            .get(id)
            .ok_or_else(|| format!("subnet {id} does not exist (InvalidSubnetID.NotFound)"))
    }

    /// The subnet's VPC, when it is `vpc` (the VPC of `what`, a table or an ACL).
    fn same_vpc(&self, subnet: &SubnetId, what: &dyn fmt::Display, vpc: &VpcId) -> Res<VpcId> {
        let s = self.subnet(subnet)?;
        if &s.vpc != vpc {
            return Err(format!(
                "{what} is in {vpc} but {subnet} is in {} (InvalidParameterValue)",
                s.vpc
            ));
        }
        Ok(s.vpc.clone())
    }

    fn vpc(&self, id: &VpcId) -> Res<&Vpc> {
        self.model
            .vpcs
            .get(id)
            .ok_or_else(|| format!("VPC {id} does not exist (InvalidVpcID.NotFound)"))
    }

    /// Checks what a new or replaced route points at.
    fn check_route(&self, table: &RouteTable, route: &Route) -> Res<()> {
        if let RouteDestination::PrefixList(pl) = &route.destination
            && !self.model.prefix_lists.contains_key(pl)
        {
            return Err(format!(
                "prefix list {pl} does not exist (InvalidPrefixListID.NotFound)"
            ));
        }
        if let (RouteTarget::Peering(_), RouteDestination::Cidr(dest)) =
            (&route.target, &route.destination)
            && let Some(vpc) = self.model.vpcs.get(&table.vpc)
            && let Some(own) = vpc
                .cidrs
                .iter()
                .find(|c| c.contains(&dest.network()) && dest.prefix_len() >= c.prefix_len())
        {
            return Err(format!(
                "{dest} lies inside {}'s own CIDR {own}: a route more specific than the local route cannot target a peering connection (InvalidParameterValue)",
                table.vpc
            ));
        }
        if let RouteTarget::Peering(p) = &route.target {
            let conn = self.model.peerings.get(p).ok_or_else(|| {
                format!(
                    "peering connection {p} does not exist (InvalidVpcPeeringConnectionID.NotFound)"
                )
            })?;
            if conn.peer_of(&table.vpc).is_none() {
                return Err(format!(
                    "peering connection {p} does not involve {}, the VPC of {} (InvalidParameterValue)",
                    table.vpc, table.id
                ));
            }
            if matches!(
                conn.status,
                PeeringStatus::Deleted | PeeringStatus::Rejected | PeeringStatus::Failed
            ) {
                return Err(format!(
                    "peering connection {p} is {} (InvalidVpcPeeringConnectionID.NotFound)",
                    conn.status
                ));
            }
        }
        Ok(())
    }

    pub fn create_route(&mut self, table: &RouteTableId, route: Route) -> Res<()> {
        if route.target == RouteTarget::Local {
            return Err("a local route cannot be created; VPCs have one per CIDR block (InvalidParameterValue)".into());
        }
        let t = self.table(table)?.clone();
        if t.routes.iter().any(|r| r.destination == route.destination) {
            return Err(format!(
                "{} already has a route to {} (RouteAlreadyExists)",
                t.id, route.destination
            ));
        }
        self.check_route(&t, &route)?;
        self.table(table)?.routes.push(route);
        self.touch(&t.vpc);
        Ok(())
    }

    pub fn replace_route(&mut self, table: &RouteTableId, route: Route) -> Res<()> {
        let t = self.table(table)?.clone();
        let Some(i) = t
            .routes
            .iter()
            .position(|r| r.destination == route.destination)
        else {
            return Err(format!(
                "{} has no route to {} (InvalidRoute.NotFound)",
                t.id, route.destination
            ));
        };
        // The local route is the one to a VPC CIDR block, whatever it points at now.
        let local_dest = t.routes[i].target == RouteTarget::Local
            || matches!(&route.destination, RouteDestination::Cidr(c)
                if self.model.vpcs.get(&t.vpc).is_some_and(|v| v.cidrs.contains(c)));
        let old = if local_dest {
            &RouteTarget::Local
        } else {
            &t.routes[i].target
        };
        match (old, &route.target) {
            (RouteTarget::Local, RouteTarget::Local) => {}
            (_, RouteTarget::Local) => {
                return Err(format!(
                    "LocalTarget resets a local route; the route to {} in {} is not one (InvalidParameterValue)",
                    route.destination, t.id
                ));
            }
            // A local route may point at a network interface or an endpoint (middlebox
            // routing), nothing else.
            (RouteTarget::Local, RouteTarget::Other(o))
                if o.starts_with("eni-") || o.starts_with("vpce-") => {}
            (RouteTarget::Local, other) => {
                return Err(format!(
                    "the local route to {} in {} can only be replaced by a network interface or a Gateway Load Balancer endpoint, not {other} (InvalidParameterValue)",
                    route.destination, t.id
                ));
            }
            _ => self.check_route(&t, &route)?,
        }
        self.table(table)?.routes[i] = route;
        self.touch(&t.vpc);
        Ok(())
    }

    pub fn delete_route(&mut self, table: &RouteTableId, dest: &RouteDestination) -> Res<()> {
        let t = self.table(table)?;
        let Some(i) = t.routes.iter().position(|r| &r.destination == dest) else {
            return Err(format!(
                "{} has no route to {dest} (InvalidRoute.NotFound)",
                t.id
            ));
        };
        if t.routes[i].target == RouteTarget::Local {
            return Err(format!(
                "the local route to {dest} of {} cannot be deleted (InvalidParameterValue)",
                t.id
            ));
        }
        t.routes.remove(i);
        let vpc = t.vpc.clone();
        self.touch(&vpc);
        Ok(())
    }

    /// Replaces every non-local route of a table (Terraform's inline `route` blocks).
    pub fn set_routes(&mut self, table: &RouteTableId, routes: Vec<Route>) -> Res<()> {
        let t = self.table(table)?.clone();
        let mut seen = BTreeSet::new();
        for r in &routes {
            if !seen.insert(&r.destination) {
                return Err(format!(
                    "two routes to {} in {} (RouteAlreadyExists)",
                    r.destination, t.id
                ));
            }
            self.check_route(&t, r)?;
        }
        let tb = self.table(table)?;
        tb.routes.retain(|r| r.target == RouteTarget::Local);
        tb.routes.extend(
            routes
                .into_iter()
                .filter(|r| r.target != RouteTarget::Local),
        );
        self.touch(&t.vpc);
        Ok(())
    }

    /// A new route table with a local route per VPC CIDR block.
    pub fn create_route_table(&mut self, id: RouteTableId, vpc: &VpcId) -> Res<()> {
        self.structural();
        let v = self.vpc(vpc)?.clone();
        if self.model.route_tables.contains_key(&id) {
            return Err(format!("route table {id} already exists"));
        }
        let table = RouteTable {
            id: id.clone(),
            vpc: v.id.clone(),
            account: v.account.clone(),
            region: v.region.clone(),
            main: false,
            subnets: Vec::new(),
            routes: v
                .cidrs
                .iter()
                .map(|c| Route {
                    destination: RouteDestination::Cidr(*c),
                    target: RouteTarget::Local,
                    blackhole: false,
                })
                .collect(),
            tags: Tags::new(),
            association_ids: BTreeMap::new(),
        };
        self.model.route_tables.insert(id, Arc::new(table));
        self.touch(&v.id);
        Ok(())
    }

    pub fn delete_route_table(&mut self, id: &RouteTableId) -> Res<()> {
        self.structural();
        let t = self.table(id)?.clone();
        if t.main {
            return Err(format!(
                "{id} is the main route table of {} (DependencyViolation)",
                t.vpc
            ));
        }
        if !t.subnets.is_empty() {
            return Err(format!(
                "{id} is still associated with {} (DependencyViolation)",
                join(&t.subnets)
            ));
        }
        self.model.route_tables.remove(id);
        self.touch(&t.vpc);
        Ok(())
    }

    /// Associates a subnet with a table; returns the association id.
    pub fn associate_route_table(
        &mut self,
        table: &RouteTableId,
        subnet: &SubnetId,
        association: Option<String>,
    ) -> Res<String> {
        self.structural();
        let table_vpc = self.table(table)?.vpc.clone();
        let vpc = self.same_vpc(subnet, table, &table_vpc)?;
        if let Some(other) = self
            .model
            .route_tables
            .values()
            .find(|x| x.subnets.contains(subnet))
        {
            return Err(format!(
                "{subnet} is already associated with {} (Resource.AlreadyAssociated)",
                other.id
            ));
        }
        let assoc = association.unwrap_or_else(|| self.fresh_id("rtbassoc"));
        let tb = self.table(table)?;
        tb.subnets.push(subnet.clone());
        tb.subnets.sort();
        tb.association_ids
            .insert(assoc.clone(), Some(subnet.clone()));
        self.touch(&vpc);
        Ok(assoc)
    }

    fn find_rt_association(&self, assoc: &str) -> Res<(RouteTableId, Option<SubnetId>)> {
        self.model
            .route_tables
            .values()
            .find_map(|t| {
                t.association_ids
                    .get(assoc)
                    .map(|s| (t.id.clone(), s.clone()))
            })
            .ok_or_else(|| {
                format!(
                    "route table association {assoc} does not exist (InvalidAssociationID.NotFound)"
                )
            })
    }

    /// Removes a subnet association (Terraform deleting `aws_route_table_association`).
    pub fn disassociate_route_table(&mut self, assoc: &str) -> Res<()> {
        self.structural();
        let (table, subnet) = self.find_rt_association(assoc)?;
        let Some(subnet) = subnet else {
            return Err(format!(
                "{assoc} is the main association of {table}; it cannot be removed (InvalidParameterValue)"
            ));
        };
        let t = self.table(&table)?;
        t.association_ids.remove(assoc);
        t.subnets.retain(|s| s != &subnet);
        let vpc = t.vpc.clone();
        self.touch(&vpc);
        Ok(())
    }

    /// `ReplaceRouteTableAssociation`: a subnet's (or the main) association moves to `table`.
    /// Returns the new association id.
    pub fn replace_route_table_association(
        &mut self,
        assoc: &str,
        table: &RouteTableId,
    ) -> Res<String> {
        self.structural();
        let (old, subnet) = self.find_rt_association(assoc)?;
        let new_vpc = self.table(table)?.vpc.clone();
        let old_vpc = self.table(&old)?.vpc.clone();
        if new_vpc != old_vpc {
            return Err(format!(
                "{table} is in {new_vpc} but association {assoc} is in {old_vpc} (InvalidParameterValue)"
            ));
        }
        let new_assoc = self.fresh_id("rtbassoc");
        let o = self.table(&old)?;
        o.association_ids.remove(assoc);
        match &subnet {
            Some(s) => o.subnets.retain(|x| x != s),
            None => o.main = false,
        }
        let t = self.table(table)?;
        match &subnet {
            Some(s) => {
                t.subnets.push(s.clone());
                t.subnets.sort();
            }
            None => t.main = true,
        }
        t.association_ids.insert(new_assoc.clone(), subnet);
        self.touch(&new_vpc);
        Ok(new_assoc)
    }

    /// Makes `table` its VPC's main route table (Terraform's `aws_main_route_table_association`).
    pub fn set_main_route_table(&mut self, vpc: &VpcId, table: &RouteTableId) -> Res<()> {
        self.structural();
        let t = self.table(table)?.clone();
        if &t.vpc != vpc {
            return Err(format!("{table} is not in {vpc} (InvalidParameterValue)"));
        }
        let old: Vec<RouteTableId> = self
            .model
            .route_tables
            .values()
            .filter(|x| &x.vpc == vpc && x.main)
            .map(|x| x.id.clone())
            .collect();
        let mut assoc = None;
        for o in old {
            let o = self.table(&o)?;
            o.main = false;
            let ids: Vec<String> = o
                .association_ids
                .iter()
                .filter(|(_, s)| s.is_none())
                .map(|(k, _)| k.clone())
                .collect();
            for k in ids {
                o.association_ids.remove(&k);
                assoc = Some(k);
            }
        }
        let assoc = assoc.unwrap_or_else(|| self.fresh_id("rtbassoc"));
        let t = self.table(table)?;
        t.main = true;
        t.association_ids.insert(assoc, None);
        self.touch(vpc);
        Ok(())
    }

    fn group(&mut self, id: &SecurityGroupId) -> Res<&mut SecurityGroup> {
        self.model
            .security_groups
            .get_mut(id)
            .map(Arc::make_mut)
            .ok_or_else(|| format!("security group {id} does not exist (InvalidGroup.NotFound)"))
    }

    /// The VPCs whose flows a security group's rules decide: its own and its members'.
    fn touch_group(&mut self, id: &SecurityGroupId) {
        let mut vpcs = BTreeSet::new();
        if let Some(g) = self.model.security_groups.get(id) {
            vpcs.insert(g.vpc.clone());
        }
        for e in self.model.network_interfaces.values() {
            if e.groups.contains(id) {
                vpcs.insert(e.vpc.clone());
            }
        }
        self.touched.extend(vpcs);
    }

    fn check_rules(&self, rules: &[SgRule]) -> Res<()> {
        for r in rules {
            match &r.peer {
                RulePeer::Group(g) if !self.model.security_groups.contains_key(g) => {
                    return Err(format!(
                        "security group {g} does not exist (InvalidGroup.NotFound)"
                    ));
                }
                RulePeer::PrefixList(p) if !self.model.prefix_lists.contains_key(p) => {
                    return Err(format!(
                        "prefix list {p} does not exist (InvalidPrefixListID.NotFound)"
                    ));
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Adds rules to a group (`AuthorizeSecurityGroupIngress`/`Egress`).
    pub fn authorize(
        &mut self,
        group: &SecurityGroupId,
        egress: bool,
        rules: Vec<SgRule>,
    ) -> Res<()> {
        self.check_rules(&rules)?;
        let g = self.group(group)?;
        let list = if egress {
            &mut g.egress
        } else {
            &mut g.ingress
        };
        for (i, r) in rules.iter().enumerate() {
            if list.iter().any(|x| same_rule(x, r)) || rules[..i].iter().any(|x| same_rule(x, r)) {
                return Err(format!(
                    "{group} already has the {} rule {r} (InvalidPermission.Duplicate)",
                    direction(egress)
                ));
            }
        }
        list.extend(rules);
        self.touch_group(group);
        Ok(())
    }

    /// Removes rules from a group (`RevokeSecurityGroupIngress`/`Egress`).
    pub fn revoke(&mut self, group: &SecurityGroupId, egress: bool, rules: &[SgRule]) -> Res<()> {
        let g = self.group(group)?;
        let list = if egress {
            &mut g.egress
        } else {
            &mut g.ingress
        };
        for r in rules {
            let Some(i) = list.iter().position(|x| same_rule(x, r)) else {
                return Err(format!(
                    "{group} has no {} rule {r} (InvalidPermission.NotFound)",
                    direction(egress)
                ));
            };
            list.remove(i);
        }
        self.touch_group(group);
        Ok(())
    }

    /// Replaces all rules of one direction (Terraform's inline `ingress`/`egress` blocks).
    pub fn set_rules(
        &mut self,
        group: &SecurityGroupId,
        egress: bool,
        rules: Vec<SgRule>,
    ) -> Res<()> {
        self.check_rules(&rules)?;
        let g = self.group(group)?;
        *(if egress {
            &mut g.egress
        } else {
            &mut g.ingress
        }) = rules;
        self.touch_group(group);
        Ok(())
    }

    /// A new security group with no rules (Terraform removes AWS's default egress rule).
    pub fn create_group(&mut self, id: SecurityGroupId, vpc: &VpcId, name: &str) -> Res<()> {
        self.structural();
        let v = self.vpc(vpc)?.clone();
        if self.model.security_groups.contains_key(&id) {
            return Err(format!("security group {id} already exists"));
        }
        self.model.security_groups.insert(
            id.clone(),
            Arc::new(SecurityGroup {
                id,
                name: name.to_owned(),
                vpc: v.id.clone(),
                account: v.account.clone(),
                region: v.region.clone(),
                ingress: Vec::new(),
                egress: Vec::new(),
                tags: Tags::new(),
            }),
        );
        self.touch(&v.id);
        Ok(())
    }

    pub fn delete_group(&mut self, id: &SecurityGroupId) -> Res<()> {
        self.structural();
        let g = self.group(id)?.clone();
        if g.name == "default" {
            return Err(format!(
                "{id} is its VPC's default group and cannot be deleted (CannotDelete)"
            ));
        }
        if let Some(other) = self.model.security_groups.values().find(|o| {
            o.id != *id
                && o.ingress
                    .iter()
                    .chain(&o.egress)
                    .any(|r| r.peer == RulePeer::Group(id.clone()))
        }) {
            return Err(format!(
                "{id} is still referenced by a rule of {} (DependencyViolation)",
                other.id
            ));
        }
        if let Some(e) = self
            .model
            .network_interfaces
            .values()
            .find(|e| e.groups.contains(id))
        {
            return Err(format!(
                "{id} is still used by {} (DependencyViolation)",
                e.id
            ));
        }
        self.touch_group(id);
        self.model.security_groups.remove(id);
        self.touch(&g.vpc);
        Ok(())
    }

    fn acl(&mut self, id: &NetworkAclId) -> Res<&mut NetworkAcl> {
        self.model
            .network_acls
            .get_mut(id)
            .map(Arc::make_mut)
            .ok_or_else(|| {
                format!("network ACL {id} does not exist (InvalidNetworkAclID.NotFound)")
            })
    }

    fn entries(&mut self, id: &NetworkAclId, egress: bool) -> Res<&mut Vec<NaclEntry>> {
        let a = self.acl(id)?;
        let vpc = a.vpc.clone();
        self.touch(&vpc);
        let a = self.acl(id)?;
        Ok(if egress {
            &mut a.egress
        } else {
            &mut a.ingress
        })
    }

    pub fn create_nacl_entry(
        &mut self,
        acl: &NetworkAclId,
        egress: bool,
        entry: NaclEntry,
    ) -> Res<()> {
        check_rule_number(entry.rule_number)?;
        let list = self.entries(acl, egress)?;
        if list.iter().any(|e| e.rule_number == entry.rule_number) {
            return Err(format!(
                "{acl} already has {} rule {} (NetworkAclEntryAlreadyExists)",
                direction(egress),
                entry.rule_number
            ));
        }
        list.push(entry);
        list.sort_by_key(|e| e.rule_number);
        Ok(())
    }

    pub fn replace_nacl_entry(
        &mut self,
        acl: &NetworkAclId,
        egress: bool,
        entry: NaclEntry,
    ) -> Res<()> {
        let list = self.entries(acl, egress)?;
        let Some(e) = list.iter_mut().find(|e| e.rule_number == entry.rule_number) else {
            return Err(format!(
                "{acl} has no {} rule {} (InvalidNetworkAclEntry.NotFound)",
                direction(egress),
                entry.rule_number
            ));
        };
        *e = entry;
        Ok(())
    }

    pub fn delete_nacl_entry(
        &mut self,
        acl: &NetworkAclId,
        egress: bool,
        rule_number: u32,
    ) -> Res<()> {
        let list = self.entries(acl, egress)?;
        let Some(i) = list.iter().position(|e| e.rule_number == rule_number) else {
            return Err(format!(
                "{acl} has no {} rule {rule_number} (InvalidNetworkAclEntry.NotFound)",
                direction(egress)
            ));
        };
        list.remove(i);
        Ok(())
    }

    /// Replaces all entries of one direction (Terraform's inline `ingress`/`egress` blocks).
    pub fn set_nacl_entries(
        &mut self,
        acl: &NetworkAclId,
        egress: bool,
        mut entries: Vec<NaclEntry>,
    ) -> Res<()> {
        entries.sort_by_key(|e| e.rule_number);
        for w in entries.windows(2) {
            if w[0].rule_number == w[1].rule_number {
                return Err(format!(
                    "two {} rules numbered {} (NetworkAclEntryAlreadyExists)",
                    direction(egress),
                    w[0].rule_number
                ));
            }
        }
        for e in &entries {
            check_rule_number(e.rule_number)?;
        }
        *self.entries(acl, egress)? = entries;
        Ok(())
    }

    fn find_acl_association(&self, assoc: &str) -> Res<(NetworkAclId, SubnetId)> {
        self.model
            .network_acls
            .values()
            .find_map(|a| {
                a.association_ids
                    .get(assoc)
                    .map(|s| (a.id.clone(), s.clone()))
            })
            .ok_or_else(|| {
                format!(
                    "network ACL association {assoc} does not exist (InvalidAssociationID.NotFound)"
                )
            })
    }

    /// `ReplaceNetworkAclAssociation`; returns the new association id.
    pub fn replace_nacl_association(&mut self, assoc: &str, acl: &NetworkAclId) -> Res<String> {
        self.structural();
        let (_, subnet) = self.find_acl_association(assoc)?;
        self.move_subnet_to_acl(&subnet, acl, None)
    }

    /// Associates a subnet with an ACL, leaving the one it had; returns the association id.
    pub fn move_subnet_to_acl(
        &mut self,
        subnet: &SubnetId,
        acl: &NetworkAclId,
        association: Option<String>,
    ) -> Res<String> {
        self.structural();
        let acl_vpc = self.acl(acl)?.vpc.clone();
        let vpc = self.same_vpc(subnet, acl, &acl_vpc)?;
        for other in self.model.network_acls.values_mut().filter(|a| {
            a.subnets.contains(subnet) || a.association_ids.values().any(|x| x == subnet)
        }) {
            let other = Arc::make_mut(other);
            other.subnets.retain(|x| x != subnet);
            other.association_ids.retain(|_, x| x != subnet);
        }
        let assoc = association.unwrap_or_else(|| self.fresh_id("aclassoc"));
        let a = self.acl(acl)?;
        a.subnets.push(subnet.clone());
        a.subnets.sort();
        a.association_ids.insert(assoc.clone(), subnet.clone());
        self.touch(&vpc);
        Ok(assoc)
    }

    /// Returns a subnet to its VPC's default ACL (Terraform deleting an association).
    pub fn reset_subnet_acl(&mut self, subnet: &SubnetId) -> Res<()> {
        self.structural();
        let vpc = self.subnet(subnet)?.vpc.clone();
        let default = self
            .model
            .network_acls
            .values()
            .find(|a| a.vpc == vpc && a.is_default)
            .map(|a| a.id.clone())
            .ok_or_else(|| format!("{vpc} has no default network ACL to return {subnet} to"))?;
        self.move_subnet_to_acl(subnet, &default, None).map(|_| ())
    }

    /// A new network ACL with no entries (everything denied) and no subnets.
    pub fn create_acl(&mut self, id: NetworkAclId, vpc: &VpcId) -> Res<()> {
        self.structural();
        let v = self.vpc(vpc)?.clone();
        if self.model.network_acls.contains_key(&id) {
            return Err(format!("network ACL {id} already exists"));
        }
        self.model.network_acls.insert(
            id.clone(),
            Arc::new(NetworkAcl {
                id,
                vpc: v.id.clone(),
                account: v.account.clone(),
                region: v.region.clone(),
                is_default: false,
                subnets: Vec::new(),
                ingress: Vec::new(),
                egress: Vec::new(),
                tags: Tags::new(),
                association_ids: BTreeMap::new(),
            }),
        );
        self.touch(&v.id);
        Ok(())
    }

    pub fn delete_acl(&mut self, id: &NetworkAclId) -> Res<()> {
        self.structural();
        let a = self.acl(id)?.clone();
        if a.is_default {
            return Err(format!(
                "{id} is a default network ACL (InvalidParameterValue)"
            ));
        }
        for s in &a.subnets {
            self.reset_subnet_acl(s)?;
        }
        self.model.network_acls.remove(id);
        self.touch(&a.vpc);
        Ok(())
    }

    /// `CreateVpcPeeringConnection`, accepted when `active`. Checks what AWS checks: both VPCs
    /// exist, they differ, their CIDR blocks do not overlap, no connection joins them already,
    /// and the peer's owner and region match what the request says.
    /// `CreateVpcPeeringConnection` (accepted when `req.accept`). A peer VPC the snapshot does
    /// not hold, in an account it does not cover, is a partner's: the connection is modelled
    /// from the change alone and the peer becomes an unseen VPC (semantics step 21). Its CIDRs
    /// are those other records list for it, else the worst case — every address outside the
    /// requester's CIDRs (AWS refuses overlapping peers) — so that nothing it could send is
    /// missed. Returns a note on how the peer was modelled, when it is unseen.
    pub fn create_peering(&mut self, req: &NewPeering) -> Res<Option<String>> {
        self.structural();
        let a = self.vpc(&req.vpc)?.clone();
        if a.id == req.peer_vpc {
            return Err(format!(
                "{} cannot peer with itself (InvalidParameterValue)",
                a.id
            ));
        }
        let (peer, note) = match self.model.vpcs.get(&req.peer_vpc) {
            Some(b) => (self.seen_peer(req, b)?, None),
            None => {
                let (side, note) = self.unseen_peer(req, &a)?;
                (side, Some(note))
            }
        };
        for x in &a.cidrs {
            for y in &peer.cidrs {
                if x.contains(&y.network()) || y.contains(&x.network()) {
                    return Err(format!(
                        "{} ({x}) and {} ({y}) have overlapping CIDR blocks (InvalidParameterValue)",
                        a.id, peer.vpc
                    ));
                }
            }
        }
        if let Some(c) = self.model.peerings.values().find(|c| {
            matches!(
                c.status,
                PeeringStatus::Active
                    | PeeringStatus::PendingAcceptance
                    | PeeringStatus::Provisioning
                    | PeeringStatus::InitiatingRequest
            ) && c.peer_of(&a.id).is_some_and(|s| s.vpc == peer.vpc)
        }) {
            return Err(format!(
                "{} already joins {} and {} (VpcPeeringConnectionAlreadyExists)",
                c.id, a.id, peer.vpc
            ));
        }
        if self.model.peerings.contains_key(&req.id) {
            return Err(format!("peering connection {} already exists", req.id));
        }
        let peer_vpc = peer.vpc.clone();
        self.model.peerings.insert(
            req.id.clone(),
            VpcPeeringConnection {
                id: req.id.clone(),
                status: if req.accept {
                    PeeringStatus::Active
                } else {
                    PeeringStatus::PendingAcceptance
                },
                requester: PeeringSide {
                    vpc: a.id.clone(),
                    owner: Some(a.account.clone()),
                    region: Some(a.region.clone()),
                    cidrs: a.cidrs.clone(),
                },
                accepter: peer,
                tags: Tags::new(),
            },
        );
        self.touch(&a.id);
        self.touch(&peer_vpc);
        Ok(note)
    }

    /// The accepter side for a VPC of the snapshot, after AWS's owner and region checks.
    fn seen_peer(&self, req: &NewPeering, b: &Vpc) -> Res<PeeringSide> {
        if let Some(owner) = &req.peer_owner
            && owner != &b.account
        {
            return Err(format!(
                "{} belongs to {}, not PeerOwnerId {owner} (InvalidVpcID.NotFound)",
                b.id, b.account
            ));
        }
        if let Some(region) = &req.peer_region
            && region != &b.region
        {
            return Err(format!(
                "{} is in {}, not PeerRegion {region} (InvalidVpcID.NotFound)",
                b.id, b.region
            ));
        }
        Ok(PeeringSide {
            vpc: b.id.clone(),
            owner: Some(b.account.clone()),
            region: Some(b.region.clone()),
            cidrs: b.cidrs.clone(),
        })
    }

    /// The accepter side for a VPC the snapshot does not hold: a partner's (an account the
    /// snapshot does not cover, named by `PeerOwnerId` or by other records of the VPC).
    fn unseen_peer(&self, req: &NewPeering, a: &Vpc) -> Res<(PeeringSide, String)> {
        let known = self.model.unseen_vpc(&req.peer_vpc);
        let owner = match (&req.peer_owner, known.and_then(|u| u.account.as_ref())) {
            (Some(o), Some(k)) if o != k => {
                return Err(format!(
                    "{} belongs to {k}, not PeerOwnerId {o} (InvalidVpcID.NotFound)",
                    req.peer_vpc
                ));
            }
            (Some(o), _) => o.clone(),
            (None, Some(k)) => k.clone(),
            // AWS takes the requester's account, where the VPC would have to be.
            (None, None) => a.account.clone(),
        };
        if self.model.locations.iter().any(|(acc, _)| acc == &owner) {
            return Err(format!(
                "VPC {} does not exist in account {owner}, which the snapshot covers (InvalidVpcID.NotFound)",
                req.peer_vpc
            ));
        }
        let region = req
            .peer_region
            .clone()
            .or_else(|| known.and_then(|u| u.region.clone()))
            .unwrap_or_else(|| a.region.clone());
        let (cidrs, how) = match known.filter(|u| !u.cidrs.is_empty()) {
            Some(u) => (
                u.cidrs.clone(),
                format!("the CIDRs its other records list ({})", join_nets(&u.cidrs)),
            ),
            None => {
                let own = crate::sets::IpSet::from_nets(a.cidrs.iter().copied());
                let rest = own.complement();
                (
                    rest.to_cidrs(),
                    format!(
                        "every address outside {}'s CIDRs (the change does not say which it uses)",
                        a.id
                    ),
                )
            }
        };
        let note = format!(
            "{} of account {owner} is not in the snapshot: modelled as an unseen peer whose side is {how}",
            req.peer_vpc
        );
        Ok((
            PeeringSide {
                vpc: req.peer_vpc.clone(),
                owner: Some(owner),
                region: Some(region),
                cidrs,
            },
            note,
        ))
    }

    fn peering(&mut self, id: &PeeringId) -> Res<&mut VpcPeeringConnection> {
        self.model.peerings.get_mut(id).ok_or_else(|| {
            format!(
                "peering connection {id} does not exist (InvalidVpcPeeringConnectionID.NotFound)"
            )
        })
    }

    fn touch_peering(&mut self, id: &PeeringId) {
        if let Some(c) = self.model.peerings.get(id) {
            let (a, b) = (c.requester.vpc.clone(), c.accepter.vpc.clone());
            self.touch(&a);
            self.touch(&b);
        }
    }

    /// Accepts a pending connection (Terraform's `aws_vpc_peering_connection_accepter`).
    pub fn accept_peering(&mut self, id: &PeeringId) -> Res<()> {
        self.structural();
        let c = self.peering(id)?;
        match &c.status {
            PeeringStatus::Active => {}
            PeeringStatus::PendingAcceptance => c.status = PeeringStatus::Active,
            other => {
                return Err(format!(
                    "{id} is {other} and cannot be accepted (InvalidStateTransition)"
                ));
            }
        }
        self.touch_peering(id);
        Ok(())
    }

    /// `DeleteVpcPeeringConnection`: the record stays, `deleted` (routes to it stop carrying
    /// traffic).
    pub fn delete_peering(&mut self, id: &PeeringId) -> Res<()> {
        self.structural();
        let c = self.peering(id)?;
        if c.status.is_final() {
            return Err(format!(
                "{id} is already {} (InvalidStateTransition)",
                c.status
            ));
        }
        c.status = PeeringStatus::Deleted;
        self.touch_peering(id);
        Ok(())
    }

    /// The VPCs whose routes or rules use a prefix list.
    fn touch_prefix_list(&mut self, id: &PrefixListId) {
        let mut vpcs = BTreeSet::new();
        for t in self.model.route_tables.values() {
            if t.routes
                .iter()
                .any(|r| r.destination == RouteDestination::PrefixList(id.clone()))
            {
                vpcs.insert(t.vpc.clone());
            }
        }
        let mut groups = Vec::new();
        for g in self.model.security_groups.values() {
            if g.ingress
                .iter()
                .chain(&g.egress)
                .any(|r| r.peer == RulePeer::PrefixList(id.clone()))
            {
                groups.push(g.id.clone());
            }
        }
        self.touched.extend(vpcs);
        for g in groups {
            self.touch_group(&g);
        }
    }

    /// `ModifyManagedPrefixList`: add and remove entries.
    pub fn modify_prefix_list(
        &mut self,
        id: &PrefixListId,
        add: &[IpNet],
        remove: &[IpNet],
    ) -> Res<()> {
        let pl = self.model.prefix_lists.get_mut(id).ok_or_else(|| {
            format!("prefix list {id} does not exist (InvalidPrefixListID.NotFound)")
        })?;
        // AWS-managed lists, and service prefix lists (`com.amazonaws.…`, from
        // describe-prefix-lists, which names no owner), cannot be modified.
        if pl.owner.as_ref().is_some_and(|o| o.as_str() == "AWS")
            || pl
                .name
                .as_deref()
                .is_some_and(|n| n.starts_with("com.amazonaws."))
        {
            return Err(format!(
                "{id} is AWS-managed and cannot be modified (PrefixListNotModifiable)"
            ));
        }
        for c in remove {
            if !pl.cidrs.contains(c) {
                return Err(format!(
                    "{id} has no entry {c} (InvalidPrefixListModification)"
                ));
            }
        }
        pl.cidrs.retain(|c| !remove.contains(c));
        for c in add {
            if !pl.cidrs.contains(c) {
                pl.cidrs.push(*c);
            }
        }
        pl.cidrs.sort();
        self.touch_prefix_list(id);
        Ok(())
    }

    /// Replaces a list's entries (Terraform's `entry` blocks).
    pub fn set_prefix_list(&mut self, id: &PrefixListId, cidrs: Vec<IpNet>) -> Res<()> {
        let pl = self.model.prefix_lists.get_mut(id).ok_or_else(|| {
            format!("prefix list {id} does not exist (InvalidPrefixListID.NotFound)")
        })?;
        pl.cidrs = cidrs;
        pl.cidrs.sort();
        pl.cidrs.dedup();
        pl.entries_known = true;
        self.touch_prefix_list(id);
        Ok(())
    }

    pub fn create_prefix_list(&mut self, id: PrefixListId, name: Option<String>) -> Res<()> {
        self.structural();
        if self.model.prefix_lists.contains_key(&id) {
            return Err(format!("prefix list {id} already exists"));
        }
        self.model.prefix_lists.insert(
            id.clone(),
            PrefixList {
                id,
                name,
                owner: None,
                cidrs: Vec::new(),
                entries_known: true,
            },
        );
        Ok(())
    }

    pub fn delete_prefix_list(&mut self, id: &PrefixListId) -> Res<()> {
        self.structural();
        if !self.model.prefix_lists.contains_key(id) {
            return Err(format!(
                "prefix list {id} does not exist (InvalidPrefixListID.NotFound)"
            ));
        }
        self.touch_prefix_list(id);
        self.model.prefix_lists.remove(id);
        Ok(())
    }
}

fn join_nets(n: &[ipnet::IpNet]) -> String {
    n.iter()
        .map(|c| c.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// What `CreateVpcPeeringConnection` asks for.
#[derive(Clone, Debug)]
pub struct NewPeering {
    pub id: PeeringId,
    pub vpc: VpcId,
    pub peer_vpc: VpcId,
    pub peer_owner: Option<AccountId>,
    pub peer_region: Option<Region>,
    /// Accepted at once (the change file's operations are "with acceptance").
    pub accept: bool,
}

/// AWS treats two rules as the same when protocol, ports (ICMP type and code) and peer match,
/// descriptions aside.
fn same_rule(a: &SgRule, b: &SgRule) -> bool {
    a.protocol == b.protocol && a.ports == b.ports && a.peer == b.peer && a.icmp == b.icmp
}

fn direction(egress: bool) -> &'static str {
    if egress { "egress" } else { "ingress" }
}

fn check_rule_number(n: u32) -> Res<()> {
    if (1..=32766).contains(&n) {
        Ok(())
    } else {
        Err(format!(
            "rule number {n} is outside 1–32766 (InvalidParameterValue)"
        ))
    }
}

fn join<T: fmt::Display>(items: &[T]) -> String {
    items
        .iter()
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}
