//! Change files: a JSON array of proposed EC2 operations, each
//! `{"Action": "<EC2 API action>", <its request parameters, named as in the EC2 API reference>}`
//! — the shape `aws ec2 <command> --cli-input-json` takes, plus the action's name.
//!
//! Parameters are checked by name: one the action does not take is an error (a typo must not
//! silently change the answer). Objects are converted by the loader's own rules
//! ([`crate::snapshot::convert`]). One extension: `CreateVpcPeeringConnection` may carry the
//! `VpcPeeringConnectionId` the new connection gets, so later operations can route to it;
//! without it the connection is named `pcx-whatif-N`.

use std::path::Path;

use serde_json::{Map, Value};

use super::{Applied, ChangeError, Editor, NewPeering};
use crate::model::*;
use crate::snapshot::convert;

/// The actions a change file may hold, with the parameters each takes.
const ACTIONS: &[(&str, &[&str])] = &[
    ("CreateRoute", ROUTE_PARAMS),
    ("ReplaceRoute", ROUTE_PARAMS),
    (
        "DeleteRoute",
        &[
            "RouteTableId",
            "DestinationCidrBlock",
            "DestinationIpv6CidrBlock",
            "DestinationPrefixListId",
        ],
    ),
    (
        "AssociateRouteTable",
        &["RouteTableId", "SubnetId", "GatewayId", "PublicIpv4Pool"],
    ),
    (
        "ReplaceRouteTableAssociation",
        &["AssociationId", "RouteTableId"],
    ),
    ("AuthorizeSecurityGroupIngress", SG_PARAMS),
    ("AuthorizeSecurityGroupEgress", SG_PARAMS),
    ("RevokeSecurityGroupIngress", SG_PARAMS),
    ("RevokeSecurityGroupEgress", SG_PARAMS),
    ("CreateNetworkAclEntry", NACL_PARAMS),
    ("ReplaceNetworkAclEntry", NACL_PARAMS),
    (
        "DeleteNetworkAclEntry",
        &["NetworkAclId", "RuleNumber", "Egress"],
    ),
    (
        "ReplaceNetworkAclAssociation",
        &["AssociationId", "NetworkAclId"],
    ),
    (
        "CreateVpcPeeringConnection",
        &[
            "VpcId",
            "PeerVpcId",
            "PeerOwnerId",
            "PeerRegion",
            "TagSpecifications",
            "VpcPeeringConnectionId",
        ],
    ),
    ("DeleteVpcPeeringConnection", &["VpcPeeringConnectionId"]),
    (
        "ModifyManagedPrefixList",
        &[
            "PrefixListId",
            "CurrentVersion",
            "PrefixListName",
            "AddEntries",
            "RemoveEntries",
            "MaxEntries",
        ],
    ),
];

/// `CreateRoute`/`ReplaceRoute` take the table, one destination and one target (the lists
/// below), and `ReplaceRoute` also `LocalTarget`.
const ROUTE_PARAMS: &[&str] = &["RouteTableId", "LocalTarget"];

const ROUTE_TARGETS: &[&str] = &[
    "GatewayId",
    "VpcPeeringConnectionId",
    "NatGatewayId",
    "TransitGatewayId",
    "InstanceId",
    "NetworkInterfaceId",
    "EgressOnlyInternetGatewayId",
    "CarrierGatewayId",
    "LocalGatewayId",
    "CoreNetworkArn",
    "VpcEndpointId",
    "OdbNetworkArn",
];

const ROUTE_DESTINATIONS: &[&str] = &[
    "DestinationCidrBlock",
    "DestinationIpv6CidrBlock",
    "DestinationPrefixListId",
];

const SG_PARAMS: &[&str] = &[
    "GroupId",
    "GroupName",
    "IpPermissions",
    "CidrIp",
    "FromPort",
    "ToPort",
    "IpProtocol",
    "SourceSecurityGroupName",
    "SourceSecurityGroupOwnerId",
    "SecurityGroupRuleIds",
    "TagSpecifications",
];

const NACL_PARAMS: &[&str] = &[
    "NetworkAclId",
    "RuleNumber",
    "Protocol",
    "RuleAction",
    "Egress",
    "CidrBlock",
    "Ipv6CidrBlock",
    "IcmpTypeCode",
    "PortRange",
];

/// Reads a change file: a JSON array of operations.
pub fn parse(text: &str, file: &Path) -> Result<Vec<Map<String, Value>>, ChangeError> {
    let err = |message: String| ChangeError {
        op: file.display().to_string(),
        message,
    };
    let Value::Array(items) = super::read_json(text, file)? else {
        return Err(err(
            "a change file is a JSON array of operations ({\"Action\": …, …})".into(),
        ));
    };
    items
        .into_iter()
        .enumerate()
        .map(|(i, item)| match item {
            Value::Object(m) => Ok(m),
            other => Err(err(format!(
                "operation {} is {other}, not an object",
                i + 1
            ))),
        })
        .collect()
}

/// Applies operations in order; the first one AWS would reject stops the change.
pub fn apply(model: &mut Model, ops: &[Map<String, Value>]) -> Result<Applied, ChangeError> {
    let mut ed = Editor::new(model);
    let mut applied = Applied::default();
    for (i, op) in ops.iter().enumerate() {
        let action = op.get("Action").and_then(Value::as_str).unwrap_or("");
        let label = if action.is_empty() {
            format!("operation {}", i + 1)
        } else {
            format!("operation {} ({action})", i + 1)
        };
        let line = apply_one(&mut ed, op, action, &mut applied).map_err(|message| ChangeError {
            op: label.clone(),
            message,
        })?;
        applied.applied.push(format!("{label}: {line}"));
    }
    applied.touched = ed.finish();
    Ok(applied)
}

fn apply_one(
    ed: &mut Editor<'_>,
    op: &Map<String, Value>,
    action: &str,
    applied: &mut Applied,
) -> Result<String, String> {
    let Some((_, params)) = ACTIONS.iter().find(|(a, _)| *a == action) else {
        return Err(match op.get("Action") {
            None => "no \"Action\"".into(),
            Some(_) => format!(
                "{action:?} is not an action peerscope applies (it applies {})",
                ACTIONS.iter().map(|a| a.0).collect::<Vec<_>>().join(", ")
            ),
        });
    };
    let route = matches!(action, "CreateRoute" | "ReplaceRoute");
    for k in op.keys().map(String::as_str) {
        let takes = params.contains(&k)
            || (route && (ROUTE_DESTINATIONS.contains(&k) || ROUTE_TARGETS.contains(&k)));
        if k != "Action" && k != "DryRun" && !takes {
            return Err(format!("{action} takes no parameter {k:?}"));
        }
    }
    if op.get("DryRun").and_then(Value::as_bool) == Some(true) {
        return Ok("DryRun: not applied".into());
    }
    let p = Params(op);
    match action {
        "CreateRoute" | "ReplaceRoute" => {
            let table = RouteTableId::new(p.str("RouteTableId")?);
            one_of(op, ROUTE_DESTINATIONS, "destination")?;
            let local = op.get("LocalTarget").and_then(Value::as_bool) == Some(true);
            let targets = ROUTE_TARGETS
                .iter()
                .filter(|k| op.contains_key(**k))
                .count();
            if targets + usize::from(local) != 1 {
                return Err(format!(
                    "give exactly one target ({} or LocalTarget)",
                    ROUTE_TARGETS.join(", ")
                ));
            }
            let mut fields = op.clone();
            if local {
                fields.insert("GatewayId".into(), "local".into());
            }
            let route = convert::route(&Value::Object(fields), table.as_str())?;
            let line = format!("{table}: {route}");
            if action == "CreateRoute" {
                ed.create_route(&table, route)?;
            } else {
                ed.replace_route(&table, route)?;
            }
            Ok(line)
        }
        "DeleteRoute" => {
            let table = RouteTableId::new(p.str("RouteTableId")?);
            let dest = destination(op)?;
            ed.delete_route(&table, &dest)?;
            Ok(format!("{table}: delete route to {dest}"))
        }
        "AssociateRouteTable" => {
            let table = RouteTableId::new(p.str("RouteTableId")?);
            if op.contains_key("GatewayId") {
                return Ok(format!(
                    "{table}: gateway (edge) association — ingress routing from a gateway is outside the model: no effect"
                ));
            }
            let subnet = SubnetId::new(p.str("SubnetId")?);
            let assoc = ed.associate_route_table(&table, &subnet, None)?;
            applied.placeholders.insert(
                format!("AssociateRouteTable {table} {subnet}"),
                assoc.clone(),
            );
            Ok(format!("{subnet} → {table} ({assoc})"))
        }
        "ReplaceRouteTableAssociation" => {
            let assoc = p.str("AssociationId")?;
            let table = RouteTableId::new(p.str("RouteTableId")?);
            let new = ed.replace_route_table_association(assoc, &table)?;
            applied
                .placeholders
                .insert(format!("ReplaceRouteTableAssociation {assoc}"), new.clone());
            Ok(format!("{assoc} → {table} (new association {new})"))
        }
        "AuthorizeSecurityGroupIngress"
        | "AuthorizeSecurityGroupEgress"
        | "RevokeSecurityGroupIngress"
        | "RevokeSecurityGroupEgress" => {
            let egress = action.ends_with("Egress");
            if op.contains_key("SecurityGroupRuleIds") {
                return Err("SecurityGroupRuleIds cannot be resolved: describe-security-groups output has no rule ids; name the rules with IpPermissions".into());
            }
            if op.contains_key("SourceSecurityGroupName") {
                return Err("SourceSecurityGroupName names a group by name; give IpPermissions with UserIdGroupPairs[].GroupId".into());
            }
            let group = match (op.get("GroupId"), op.get("GroupName")) {
                (Some(_), _) => SecurityGroupId::new(p.str("GroupId")?),
                (None, Some(_)) => {
                    return Err(
                        "GroupName is ambiguous across accounts and VPCs; give GroupId".into(),
                    );
                }
                (None, None) => return Err("missing GroupId (MissingParameter)".into()),
            };
            let perms = permissions(op)?;
            let rules = convert::permissions(&group, &perms)?;
            if rules.is_empty() {
                return Err("no rule: IpPermissions names no peer (IpRanges, Ipv6Ranges, PrefixListIds, UserIdGroupPairs)".into());
            }
            let text = rules
                .iter()
                .map(|r| r.to_string())
                .collect::<Vec<_>>()
                .join(", ");
            let dir = if egress { "egress" } else { "ingress" };
            if action.starts_with("Authorize") {
                ed.authorize(&group, egress, rules)?;
                Ok(format!("{group}: allow {dir} {text}"))
            } else {
                ed.revoke(&group, egress, &rules)?;
                Ok(format!("{group}: revoke {dir} {text}"))
            }
        }
        "CreateNetworkAclEntry" | "ReplaceNetworkAclEntry" => {
            let acl = NetworkAclId::new(p.str("NetworkAclId")?);
            for k in ["RuleNumber", "Protocol", "RuleAction", "Egress"] {
                if !op.contains_key(k) {
                    return Err(format!("missing {k} (MissingParameter)"));
                }
            }
            one_of(op, &["CidrBlock", "Ipv6CidrBlock"], "CIDR")?;
            let proto = op
                .get("Protocol")
                .map(|v| match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .unwrap_or_default();
            if matches!(
                Protocol::parse(&proto),
                Some(Protocol::Number(Protocol::TCP | Protocol::UDP))
            ) && !op.contains_key("PortRange")
            {
                return Err(
                    "PortRange is required for tcp and udp entries (MissingParameter)".into(),
                );
            }
            let (egress, entry) = convert::nacl_entry(&Value::Object(op.clone()), acl.as_str())?;
            let line = format!(
                "{acl}: {} rule {} {} {} {} {}",
                if egress { "egress" } else { "ingress" },
                entry.rule_number,
                match entry.action {
                    RuleAction::Allow => "allow",
                    RuleAction::Deny => "deny",
                },
                entry.protocol,
                entry.ports,
                entry.cidr
            );
            if action == "CreateNetworkAclEntry" {
                ed.create_nacl_entry(&acl, egress, entry)?;
            } else {
                ed.replace_nacl_entry(&acl, egress, entry)?;
            }
            Ok(line)
        }
        "DeleteNetworkAclEntry" => {
            let acl = NetworkAclId::new(p.str("NetworkAclId")?);
            let n = p.int("RuleNumber")?;
            let egress = p.bool("Egress")?;
            let n = u32::try_from(n).map_err(|_| format!("RuleNumber {n} is out of range"))?;
            ed.delete_nacl_entry(&acl, egress, n)?;
            Ok(format!(
                "{acl}: delete {} rule {n}",
                if egress { "egress" } else { "ingress" }
            ))
        }
        "ReplaceNetworkAclAssociation" => {
            let assoc = p.str("AssociationId")?;
            let acl = NetworkAclId::new(p.str("NetworkAclId")?);
            let new = ed.replace_nacl_association(assoc, &acl)?;
            applied
                .placeholders
                .insert(format!("ReplaceNetworkAclAssociation {assoc}"), new.clone());
            Ok(format!("{assoc} → {acl} (new association {new})"))
        }
        "CreateVpcPeeringConnection" => {
            let vpc = VpcId::new(p.str("VpcId")?);
            let peer_vpc = VpcId::new(p.str("PeerVpcId")?);
            let id = match op.get("VpcPeeringConnectionId") {
                Some(_) => p.str("VpcPeeringConnectionId")?.to_owned(),
                None => ed.fresh_id("pcx"),
            };
            let req = NewPeering {
                id: PeeringId::new(&id),
                vpc: vpc.clone(),
                peer_vpc: peer_vpc.clone(),
                peer_owner: p.opt_str("PeerOwnerId")?.map(AccountId::new),
                peer_region: p.opt_str("PeerRegion")?.map(Region::new),
                accept: true,
            };
            let note = ed.create_peering(&req)?;
            applied.placeholders.insert(
                format!("CreateVpcPeeringConnection {vpc} {peer_vpc}"),
                id.clone(),
            );
            Ok(match note {
                Some(n) => format!("{id}: {vpc} ↔ {peer_vpc}, accepted; {n}"),
                None => format!("{id}: {vpc} ↔ {peer_vpc}, accepted"),
            })
        }
        "DeleteVpcPeeringConnection" => {
            let id = PeeringId::new(p.str("VpcPeeringConnectionId")?);
            ed.delete_peering(&id)?;
            Ok(format!("{id}: deleted"))
        }
        "ModifyManagedPrefixList" => {
            let id = PrefixListId::new(p.str("PrefixListId")?);
            let cidrs = |key: &str| -> Result<Vec<ipnet::IpNet>, String> {
                let Some(v) = op.get(key) else {
                    return Ok(Vec::new());
                };
                let Value::Array(items) = v else {
                    return Err(format!("{key} is not a list"));
                };
                items
                    .iter()
                    .map(|e| {
                        let c = e
                            .get("Cidr")
                            .and_then(Value::as_str)
                            .ok_or_else(|| format!("{key} entry {e} has no Cidr"))?;
                        convert::cidr(c, &format!("{key}.Cidr"))
                    })
                    .collect()
            };
            let (add, remove) = (cidrs("AddEntries")?, cidrs("RemoveEntries")?);
            ed.modify_prefix_list(&id, &add, &remove)?;
            Ok(format!(
                "{id}: add [{}] remove [{}]",
                add.iter()
                    .map(|c| c.to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
                remove
                    .iter()
                    .map(|c| c.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        }
        _ => unreachable!("every action in ACTIONS is matched"),
    }
}

/// The `IpPermissions` of a security-group operation, or the legacy top-level
/// `IpProtocol`/`FromPort`/`ToPort`/`CidrIp` form.
fn permissions(op: &Map<String, Value>) -> Result<Value, String> {
    let legacy = ["CidrIp", "IpProtocol", "FromPort", "ToPort"];
    match op.get("IpPermissions") {
        Some(p) => {
            if let Some(k) = legacy.iter().find(|k| op.contains_key(**k)) {
                return Err(format!("give either IpPermissions or {k}, not both"));
            }
            Ok(p.clone())
        }
        None => {
            let (Some(proto), Some(cidr)) = (op.get("IpProtocol"), op.get("CidrIp")) else {
                return Err("missing IpPermissions (MissingParameter)".into());
            };
            let mut perm = Map::new();
            perm.insert("IpProtocol".into(), proto.clone());
            for k in ["FromPort", "ToPort"] {
                if let Some(v) = op.get(k) {
                    perm.insert(k.into(), v.clone());
                }
            }
            perm.insert(
                "IpRanges".into(),
                Value::Array(vec![serde_json::json!({ "CidrIp": cidr })]),
            );
            Ok(Value::Array(vec![Value::Object(perm)]))
        }
    }
}

fn one_of(op: &Map<String, Value>, keys: &[&str], what: &str) -> Result<(), String> {
    match keys.iter().filter(|k| op.contains_key(**k)).count() {
        1 => Ok(()),
        0 => Err(format!(
            "missing the {what}: one of {} (MissingParameter)",
            keys.join(", ")
        )),
        _ => Err(format!("give only one {what} of {}", keys.join(", "))),
    }
}

fn destination(op: &Map<String, Value>) -> Result<RouteDestination, String> {
    one_of(op, ROUTE_DESTINATIONS, "destination")?;
    let p = Params(op);
    if let Some(c) = p.opt_str("DestinationCidrBlock")? {
        return Ok(RouteDestination::Cidr(convert::cidr(
            c,
            "DestinationCidrBlock",
        )?));
    }
    if let Some(c) = p.opt_str("DestinationIpv6CidrBlock")? {
        return Ok(RouteDestination::Cidr(convert::cidr(
            c,
            "DestinationIpv6CidrBlock",
        )?));
    }
    Ok(RouteDestination::PrefixList(PrefixListId::new(
        p.str("DestinationPrefixListId")?,
    )))
}

/// Typed access to an operation's parameters, with errors naming the parameter.
struct Params<'a>(&'a Map<String, Value>);

impl<'a> Params<'a> {
    fn opt_str(&self, k: &str) -> Result<Option<&'a str>, String> {
        match self.0.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if !s.trim().is_empty() => Ok(Some(s.trim())),
            Some(other) => Err(format!("{k} is {other}, not an id")),
        }
    }

    fn str(&self, k: &str) -> Result<&'a str, String> {
        self.opt_str(k)?
            .ok_or_else(|| format!("missing {k} (MissingParameter)"))
    }

    fn int(&self, k: &str) -> Result<i64, String> {
        match self.0.get(k) {
            Some(Value::Number(n)) => n
                .as_i64()
                .ok_or_else(|| format!("{k} {n} is not an integer")),
            Some(Value::String(s)) => s
                .trim()
                .parse()
                .map_err(|_| format!("{k} {s:?} is not an integer")),
            Some(other) => Err(format!("{k} is {other}, not an integer")),
            None => Err(format!("missing {k} (MissingParameter)")),
        }
    }

    fn bool(&self, k: &str) -> Result<bool, String> {
        match self.0.get(k) {
            Some(Value::Bool(b)) => Ok(*b),
            Some(other) => Err(format!("{k} is {other}, not true or false")),
            None => Err(format!("missing {k} (MissingParameter)")),
        }
    }
}
