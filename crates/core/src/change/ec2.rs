//! Change files: a JSON array of proposed EC2 operations, each
//! `{"Action": "<EC2 API action>", <its request parameters, named as in the EC2 API reference>}`
//! — the shape `aws ec2 <command> --cli-input-json` takes, plus the action's name.
//!
//! Every operation is checked before any is applied, by name and by type (issue 13, strict
//! inputs): a parameter the action does not take is an error (a typo must not silently change
//! the answer), and so is a value of another type than the EC2 API's (`"DryRun": "true"` must
//! not apply a dry run), an id, CIDR, account id or region of the wrong shape, a member a
//! structure does not have, and a key given twice. Each error names the operation and the
//! parameter, at its line and column (`change::json` finds them). Objects are then
//! converted by the loader's own rules ([`crate::snapshot::convert`]). One extension:
//! `CreateVpcPeeringConnection` may carry the `VpcPeeringConnectionId` the new connection gets,
//! so later operations can route to it; without it the connection is named `pcx-whatif-N`, and
//! such ids (`rtbassoc-whatif-N`, …) are accepted where an earlier operation may have made them.

use std::path::Path;

use serde_json::{Map, Value};

use super::json::{self, Step};
use super::{Applied, ChangeError, Editor, NewPeering};
use crate::model::*;
use crate::shape;
use crate::snapshot::convert;

/// What a parameter's value must be: the EC2 API's type (Boolean, Integer, String, a list, a
/// structure), and for strings that are ids, CIDRs, accounts or regions, their shape. The AWS CLI
/// itself refuses `"DryRun": "true"` or `"FromPort": "80"` in `--cli-input-json` (botocore
/// validates types before sending); peerscope refuses them too rather than guess.
#[derive(Clone, Copy)]
enum Ty {
    Bool,
    /// An integer from .. to (the EC2 API's Integer is 32 bits, Long 64).
    Int(i64, i64),
    /// Free text: names and descriptions.
    Text,
    /// An AWS id of one of these types (`rtb`, `igw`, …).
    Id(&'static [&'static str]),
    /// An AWS id of this type, or one peerscope gave to what an earlier operation of the file
    /// created (`pcx-whatif-1`, `rtbassoc-whatif-2`).
    IdOrMinted(&'static str),
    /// An Amazon Resource Name (`arn:…`).
    Arn,
    Account,
    Region,
    /// A CIDR of this family (4, 6, or 0 for either).
    Cidr(u8),
    /// One of these words, exactly.
    OneOf(&'static [&'static str]),
    /// A protocol as a string: `tcp`, `udp`, `icmp`, `icmpv6`, a number 0–255, or `-1`.
    Protocol,
    List(&'static Ty),
    /// A structure of these members (others are mistakes).
    Object(&'static [(&'static str, Ty)]),
}

const INT32: Ty = Ty::Int(i32::MIN as i64, i32::MAX as i64);
const SG_PORT: Ty = Ty::Int(-1, 65535);
const TAG_SPECIFICATIONS: Ty = Ty::List(&Ty::Object(&[
    ("ResourceType", Ty::Text),
    (
        "Tags",
        Ty::List(&Ty::Object(&[("Key", Ty::Text), ("Value", Ty::Text)])),
    ),
]));
const IP_PERMISSIONS: Ty = Ty::List(&Ty::Object(&[
    ("IpProtocol", Ty::Protocol),
    ("FromPort", SG_PORT),
    ("ToPort", SG_PORT),
    (
        "IpRanges",
        Ty::List(&Ty::Object(&[
            ("CidrIp", Ty::Cidr(4)),
            ("Description", Ty::Text),
        ])),
    ),
    (
        "Ipv6Ranges",
        Ty::List(&Ty::Object(&[
            ("CidrIpv6", Ty::Cidr(6)),
            ("Description", Ty::Text),
        ])),
    ),
    (
        "PrefixListIds",
        Ty::List(&Ty::Object(&[
            ("PrefixListId", Ty::Id(&["pl"])),
            ("Description", Ty::Text),
        ])),
    ),
    (
        "UserIdGroupPairs",
        Ty::List(&Ty::Object(&[
            ("GroupId", Ty::Id(&["sg"])),
            ("GroupName", Ty::Text),
            ("UserId", Ty::Account),
            ("VpcId", Ty::Id(&["vpc"])),
            ("VpcPeeringConnectionId", Ty::IdOrMinted("pcx")),
            ("PeeringStatus", Ty::Text),
            ("Description", Ty::Text),
        ])),
    ),
]));

/// The actions a change file may hold, with the parameters each takes (`Action` aside, and
/// `DryRun`, which every action takes) and their types.
const ACTIONS: &[(&str, &[(&str, Ty)])] = &[
    ("CreateRoute", ROUTE_PARAMS),
    ("ReplaceRoute", REPLACE_ROUTE_PARAMS),
    (
        "DeleteRoute",
        &[
            ("RouteTableId", Ty::Id(&["rtb"])),
            ("DestinationCidrBlock", Ty::Cidr(4)),
            ("DestinationIpv6CidrBlock", Ty::Cidr(6)),
            ("DestinationPrefixListId", Ty::Id(&["pl"])),
        ],
    ),
    (
        "AssociateRouteTable",
        &[
            ("RouteTableId", Ty::Id(&["rtb"])),
            ("SubnetId", Ty::Id(&["subnet"])),
            ("GatewayId", Ty::Id(&["igw", "vgw"])),
            ("PublicIpv4Pool", Ty::Text),
        ],
    ),
    (
        "ReplaceRouteTableAssociation",
        &[
            ("AssociationId", Ty::IdOrMinted("rtbassoc")),
            ("RouteTableId", Ty::Id(&["rtb"])),
        ],
    ),
    ("AuthorizeSecurityGroupIngress", SG_PARAMS),
    ("AuthorizeSecurityGroupEgress", SG_PARAMS),
    ("RevokeSecurityGroupIngress", SG_PARAMS),
    ("RevokeSecurityGroupEgress", SG_PARAMS),
    ("CreateNetworkAclEntry", NACL_PARAMS),
    ("ReplaceNetworkAclEntry", NACL_PARAMS),
    (
        "DeleteNetworkAclEntry",
        &[
            ("NetworkAclId", Ty::Id(&["acl"])),
            ("RuleNumber", INT32),
            ("Egress", Ty::Bool),
        ],
    ),
    (
        "ReplaceNetworkAclAssociation",
        &[
            ("AssociationId", Ty::IdOrMinted("aclassoc")),
            ("NetworkAclId", Ty::Id(&["acl"])),
        ],
    ),
    (
        "CreateVpcPeeringConnection",
        &[
            ("VpcId", Ty::Id(&["vpc"])),
            ("PeerVpcId", Ty::Id(&["vpc"])),
            ("PeerOwnerId", Ty::Account),
            ("PeerRegion", Ty::Region),
            ("TagSpecifications", TAG_SPECIFICATIONS),
            ("VpcPeeringConnectionId", Ty::Id(&["pcx"])),
        ],
    ),
    (
        "DeleteVpcPeeringConnection",
        &[("VpcPeeringConnectionId", Ty::IdOrMinted("pcx"))],
    ),
    (
        "ModifyManagedPrefixList",
        &[
            ("PrefixListId", Ty::Id(&["pl"])),
            ("CurrentVersion", Ty::Int(i64::MIN, i64::MAX)),
            ("PrefixListName", Ty::Text),
            (
                "AddEntries",
                Ty::List(&Ty::Object(&[
                    ("Cidr", Ty::Cidr(0)),
                    ("Description", Ty::Text),
                ])),
            ),
            (
                "RemoveEntries",
                Ty::List(&Ty::Object(&[("Cidr", Ty::Cidr(0))])),
            ),
            ("MaxEntries", INT32),
        ],
    ),
];

/// `CreateRoute` takes the table, one destination and one target ([`ROUTE_DESTINATIONS`],
/// [`ROUTE_TARGETS`]); `ReplaceRoute` also `LocalTarget`.
const ROUTE_PARAMS: &[(&str, Ty)] = &[
    ("RouteTableId", Ty::Id(&["rtb"])),
    ("DestinationCidrBlock", Ty::Cidr(4)),
    ("DestinationIpv6CidrBlock", Ty::Cidr(6)),
    ("DestinationPrefixListId", Ty::Id(&["pl"])),
    ("GatewayId", Ty::Id(&["igw", "vgw"])),
    ("VpcPeeringConnectionId", Ty::IdOrMinted("pcx")),
    ("NatGatewayId", Ty::Id(&["nat"])),
    ("TransitGatewayId", Ty::Id(&["tgw"])),
    ("InstanceId", Ty::Id(&["i"])),
    ("NetworkInterfaceId", Ty::Id(&["eni"])),
    ("EgressOnlyInternetGatewayId", Ty::Id(&["eigw"])),
    ("CarrierGatewayId", Ty::Id(&["cagw"])),
    ("LocalGatewayId", Ty::Id(&["lgw"])),
    ("CoreNetworkArn", Ty::Arn),
    ("VpcEndpointId", Ty::Id(&["vpce"])),
    ("OdbNetworkArn", Ty::Arn),
];

const REPLACE_ROUTE_PARAMS: &[(&str, Ty)] = &[
    ("RouteTableId", Ty::Id(&["rtb"])),
    ("DestinationCidrBlock", Ty::Cidr(4)),
    ("DestinationIpv6CidrBlock", Ty::Cidr(6)),
    ("DestinationPrefixListId", Ty::Id(&["pl"])),
    ("GatewayId", Ty::Id(&["igw", "vgw"])),
    ("VpcPeeringConnectionId", Ty::IdOrMinted("pcx")),
    ("NatGatewayId", Ty::Id(&["nat"])),
    ("TransitGatewayId", Ty::Id(&["tgw"])),
    ("InstanceId", Ty::Id(&["i"])),
    ("NetworkInterfaceId", Ty::Id(&["eni"])),
    ("EgressOnlyInternetGatewayId", Ty::Id(&["eigw"])),
    ("CarrierGatewayId", Ty::Id(&["cagw"])),
    ("LocalGatewayId", Ty::Id(&["lgw"])),
    ("CoreNetworkArn", Ty::Arn),
    ("VpcEndpointId", Ty::Id(&["vpce"])),
    ("OdbNetworkArn", Ty::Arn),
    ("LocalTarget", Ty::Bool),
];

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

const SG_PARAMS: &[(&str, Ty)] = &[
    ("GroupId", Ty::Id(&["sg"])),
    ("GroupName", Ty::Text),
    ("IpPermissions", IP_PERMISSIONS),
    ("CidrIp", Ty::Cidr(4)),
    ("FromPort", SG_PORT),
    ("ToPort", SG_PORT),
    ("IpProtocol", Ty::Protocol),
    ("SourceSecurityGroupName", Ty::Text),
    ("SourceSecurityGroupOwnerId", Ty::Account),
    ("SecurityGroupRuleIds", Ty::List(&Ty::Id(&["sgr"]))),
    ("TagSpecifications", TAG_SPECIFICATIONS),
];

const NACL_PARAMS: &[(&str, Ty)] = &[
    ("NetworkAclId", Ty::Id(&["acl"])),
    ("RuleNumber", INT32),
    ("Protocol", Ty::Protocol),
    ("RuleAction", Ty::OneOf(&["allow", "deny"])),
    ("Egress", Ty::Bool),
    ("CidrBlock", Ty::Cidr(4)),
    ("Ipv6CidrBlock", Ty::Cidr(6)),
    (
        "IcmpTypeCode",
        Ty::Object(&[("Code", Ty::Int(-1, 255)), ("Type", Ty::Int(-1, 255))]),
    ),
    (
        "PortRange",
        Ty::Object(&[("From", Ty::Int(0, 65535)), ("To", Ty::Int(0, 65535))]),
    ),
];

/// Reads a change file: a JSON array of operations, each checked against `ACTIONS` — its
/// action, the names of its parameters and their types — before anything is applied. The first
/// mistake in the file is the error, with its line and column.
pub fn parse(text: &str, _file: &Path) -> Result<Vec<Map<String, Value>>, ChangeError> {
    let Value::Array(items) = super::read_json(text, "change file")? else {
        return Err(ChangeError {
            op: "change file".into(),
            message: "a change file is a JSON array of operations ({\"Action\": …, …})".into(),
            at: Some((1, 1)),
        });
    };
    let mut ops = Vec::with_capacity(items.len());
    for (i, item) in items.into_iter().enumerate() {
        let Value::Object(op) = item else {
            let m = Mistake::value(
                vec![i.into()],
                format!(
                    "{} is not an operation: an operation is an object {{\"Action\": …, …}}",
                    describe(&item)
                ),
            );
            return Err(located(text, format!("operation {}", i + 1), vec![m]));
        };
        let mistakes = check_operation(i, &op);
        if !mistakes.is_empty() {
            return Err(located(text, label(i, &op), mistakes));
        }
        ops.push(op);
    }
    Ok(ops)
}

/// `operation 3 (CreateRoute)`, or `operation 3` when it names no action.
fn label(i: usize, op: &Map<String, Value>) -> String {
    match op.get("Action").and_then(Value::as_str) {
        Some(a) if !a.is_empty() => format!("operation {} ({a})", i + 1),
        _ => format!("operation {}", i + 1),
    }
}

/// A mistake in what a change file says: where (a path into the file's array; at the key, or
/// at the value) and what.
struct Mistake {
    path: Vec<Step>,
    at_key: bool,
    message: String,
}

impl Mistake {
    fn value(path: Vec<Step>, message: String) -> Mistake {
        Mistake {
            path,
            at_key: false,
            message,
        }
    }

    fn key(path: Vec<Step>, message: String) -> Mistake {
        Mistake {
            path,
            at_key: true,
            message,
        }
    }
}

/// The first of `mistakes` in the file (an operation's parameters are read in name order, not
/// the file's), as an error naming the operation, with its line and column.
fn located(text: &str, op: String, mistakes: Vec<Mistake>) -> ChangeError {
    let at = |m: &Mistake| {
        json::locate(text, &m.path).map(|(key, value)| {
            json::line_column(
                text,
                if m.at_key {
                    key.unwrap_or(value)
                } else {
                    value
                },
            )
        })
    };
    let first = mistakes
        .into_iter()
        .min_by_key(|m| at(m).unwrap_or((usize::MAX, 0)))
        .expect("at least one mistake");
    ChangeError {
        op,
        at: at(&first),
        message: first.message,
    }
}

/// Every mistake in operation `i`: a missing or unknown action, a parameter the action does not
/// take, a value of the wrong type or shape.
fn check_operation(i: usize, op: &Map<String, Value>) -> Vec<Mistake> {
    let here = |k: &str| vec![Step::Index(i), Step::Key(k.to_owned())];
    let action = match op.get("Action") {
        None => return vec![Mistake::value(vec![i.into()], "no \"Action\"".into())],
        Some(Value::String(a)) => a.as_str(),
        Some(other) => {
            return vec![Mistake::value(
                here("Action"),
                format!(
                    "Action must be a string naming an EC2 action, not {}",
                    describe(other)
                ),
            )];
        }
    };
    let Some((_, params)) = ACTIONS.iter().find(|(a, _)| *a == action) else {
        return vec![Mistake::value(
            here("Action"),
            format!(
                "{action:?} is not an action peerscope applies (it applies {})",
                ACTIONS.iter().map(|a| a.0).collect::<Vec<_>>().join(", ")
            ),
        )];
    };
    let mut out = Vec::new();
    for (k, v) in op.iter().filter(|(k, _)| *k != "Action") {
        let ty = match params.iter().find(|(p, _)| p == k) {
            Some((_, ty)) => *ty,
            None if k == "DryRun" => Ty::Bool,
            None => {
                out.push(Mistake::key(
                    here(k),
                    format!("{action} takes no parameter {k:?}"),
                ));
                continue;
            }
        };
        check(v, ty, k, &here(k), &mut out);
    }
    out
}

/// "a string ("true")", "an integer (80)", …: what a value is, for messages.
fn describe(v: &Value) -> String {
    let short = |s: String| {
        if s.chars().count() > 40 {
            format!("{}…", s.chars().take(40).collect::<String>())
        } else {
            s
        }
    };
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => format!("a boolean ({b})"),
        Value::Number(n) if n.is_i64() || n.is_u64() => format!("an integer ({n})"),
        Value::Number(n) => format!("a number ({n})"),
        Value::String(s) => format!("a string ({})", short(format!("{s:?}"))),
        Value::Array(_) => "a list".into(),
        Value::Object(_) => "an object".into(),
    }
}

/// Checks one value against its type; `name` is how messages call it (`IpPermissions[0].FromPort`).
fn check(v: &Value, ty: Ty, name: &str, path: &[Step], out: &mut Vec<Mistake>) {
    let wrong = |expected: &str| {
        Mistake::value(
            path.to_vec(),
            format!("{name} must be {expected}, not {}", describe(v)),
        )
    };
    let deeper = |step: Step| {
        let mut p = path.to_vec();
        p.push(step);
        p
    };
    match (ty, v) {
        (Ty::Bool, Value::Bool(_)) => {}
        (Ty::Bool, _) => out.push(wrong("a boolean (true or false)")),
        (Ty::Int(lo, hi), Value::Number(n)) => match n.as_i64() {
            Some(x) if (lo..=hi).contains(&x) => {}
            Some(x) => out.push(Mistake::value(
                path.to_vec(),
                format!("{name} {x} is out of range ({lo} to {hi})"),
            )),
            None if n.is_u64() => out.push(Mistake::value(
                path.to_vec(),
                format!("{name} {n} is out of range ({lo} to {hi})"),
            )),
            None => out.push(wrong("an integer")),
        },
        (Ty::Int(..), _) => out.push(wrong("an integer")),
        (Ty::List(item), Value::Array(items)) => {
            for (j, it) in items.iter().enumerate() {
                check(it, *item, &format!("{name}[{j}]"), &deeper(j.into()), out);
            }
        }
        (Ty::List(_), _) => out.push(wrong("a list")),
        (Ty::Object(members), Value::Object(m)) => {
            for (k, x) in m {
                match members.iter().find(|(p, _)| p == k) {
                    Some((_, t)) => check(
                        x,
                        *t,
                        &format!("{name}.{k}"),
                        &deeper(k.as_str().into()),
                        out,
                    ),
                    None => out.push(Mistake::key(
                        deeper(k.as_str().into()),
                        format!(
                            "{name} has no member {k:?} (it has {})",
                            members
                                .iter()
                                .map(|(p, _)| *p)
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    )),
                }
            }
        }
        (Ty::Object(_), _) => out.push(wrong("an object")),
        (_, Value::String(s)) => {
            if let Some(why) = string_mistake(ty, s) {
                out.push(Mistake::value(path.to_vec(), format!("{name} {s:?} {why}")));
            }
        }
        (_, _) => out.push(wrong("a string")),
    }
}

/// What is wrong with a string parameter of type `ty`, if anything.
fn string_mistake(ty: Ty, s: &str) -> Option<String> {
    let id_format = |prefixes: &[&str]| {
        format!(
            "{} and 8 or 17 lowercase hex digits",
            prefixes
                .iter()
                .map(|p| format!("{p}-"))
                .collect::<Vec<_>>()
                .join(" or ")
        )
    };
    match ty {
        Ty::Id(prefixes) => (!prefixes.iter().any(|p| shape::is_aws_id(s, p)))
            .then(|| format!("is not an id ({})", id_format(prefixes))),
        Ty::IdOrMinted(p) => (!(shape::is_aws_id(s, p) || minted(s, p))).then(|| {
            format!(
                "is not an id ({}, or {p}-whatif-N for what an earlier operation created)",
                id_format(&[p])
            )
        }),
        Ty::Arn => (!s.starts_with("arn:")
            || s.chars().any(|c| c.is_whitespace() || c.is_control()))
        .then(|| "is not an ARN (arn:…)".into()),
        Ty::Account => {
            (!shape::is_account_id(s)).then(|| "is not an account id (12 digits)".into())
        }
        Ty::Region => (!crate::ids::looks_like_region(s))
            .then(|| "is not a region name (us-east-1, eu-central-2, …)".into()),
        Ty::Cidr(family) => match shape::parse_cidr(s) {
            Err(why) => Some(format!("is not a CIDR: {why}")),
            Ok(ipnet::IpNet::V6(_)) if family == 4 => Some("is not an IPv4 CIDR".into()),
            Ok(ipnet::IpNet::V4(_)) if family == 6 => Some("is not an IPv6 CIDR".into()),
            Ok(_) => None,
        },
        Ty::OneOf(words) => {
            (!words.contains(&s)).then(|| format!("is not one of {}", words.join(", ")))
        }
        Ty::Protocol => {
            let number = !s.is_empty()
                && s.bytes().all(|b| b.is_ascii_digit())
                && !(s.len() > 1 && s.starts_with('0'))
                && s.parse::<u8>().is_ok();
            let name = matches!(
                s.to_ascii_lowercase().as_str(),
                "tcp" | "udp" | "icmp" | "icmpv6"
            );
            (!(s == "-1" || number || name)).then(|| {
                "is not a protocol (tcp, udp, icmp, icmpv6, a number 0-255, or -1 for all)".into()
            })
        }
        Ty::Text | Ty::Bool | Ty::Int(..) | Ty::List(_) | Ty::Object(_) => None,
    }
}

/// An id peerscope gives to what a change creates (`pcx-whatif-1`; see [`Editor::fresh_id`]).
fn minted(s: &str, prefix: &str) -> bool {
    s.strip_prefix(prefix)
        .and_then(|r| r.strip_prefix("-whatif-"))
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// Applies operations in order; the first one AWS would reject stops the change.
pub fn apply(model: &mut Model, ops: &[Map<String, Value>]) -> Result<Applied, ChangeError> {
    let mut ed = Editor::new(model);
    let mut applied = Applied::default();
    for (i, op) in ops.iter().enumerate() {
        let action = op.get("Action").and_then(Value::as_str).unwrap_or("");
        let label = label(i, op);
        let line = apply_one(&mut ed, op, action, &mut applied).map_err(|message| ChangeError {
            op: label.clone(),
            message,
            at: None,
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
    // `parse` has checked every operation; checked again here for callers that build
    // operations themselves: a DryRun that is not `true` or `false` must never apply.
    if let Some(m) = check_operation(0, op).into_iter().next() {
        return Err(m.message);
    }
    let p = Params(op);
    if p.opt_bool("DryRun")? == Some(true) {
        return Ok("DryRun: not applied".into());
    }
    match action {
        "CreateRoute" | "ReplaceRoute" => {
            let table = RouteTableId::new(p.str("RouteTableId")?);
            one_of(op, ROUTE_DESTINATIONS, "destination")?;
            let local = p.opt_bool("LocalTarget")? == Some(true);
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
            None => Ok(None),
            Some(Value::String(s)) if !s.is_empty() => Ok(Some(s)),
            Some(other) => Err(format!("{k} must be an id, not {}", describe(other))),
        }
    }

    fn str(&self, k: &str) -> Result<&'a str, String> {
        self.opt_str(k)?
            .ok_or_else(|| format!("missing {k} (MissingParameter)"))
    }

    fn int(&self, k: &str) -> Result<i64, String> {
        match self.0.get(k) {
            Some(Value::Number(n)) if n.is_i64() => Ok(n.as_i64().expect("checked")),
            Some(other) => Err(format!("{k} must be an integer, not {}", describe(other))),
            None => Err(format!("missing {k} (MissingParameter)")),
        }
    }

    fn opt_bool(&self, k: &str) -> Result<Option<bool>, String> {
        match self.0.get(k) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(other) => Err(format!(
                "{k} must be a boolean (true or false), not {}",
                describe(other)
            )),
        }
    }

    fn bool(&self, k: &str) -> Result<bool, String> {
        self.opt_bool(k)?
            .ok_or_else(|| format!("missing {k} (MissingParameter)"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The route actions' typed parameters hold every destination and target the counting
    /// checks name, and `ReplaceRoute` is `CreateRoute` plus `LocalTarget`.
    #[test]
    fn route_parameters_agree() {
        let names = |ps: &[(&'static str, Ty)]| ps.iter().map(|p| p.0).collect::<Vec<_>>();
        for k in ROUTE_DESTINATIONS.iter().chain(ROUTE_TARGETS) {
            assert!(names(ROUTE_PARAMS).contains(k), "{k}");
        }
        let mut create = names(ROUTE_PARAMS);
        create.push("LocalTarget");
        assert_eq!(create, names(REPLACE_ROUTE_PARAMS));
    }

    #[test]
    fn minted_ids_are_peerscopes_own() {
        assert!(minted("pcx-whatif-12", "pcx"));
        for bad in [
            "pcx-whatif-",
            "pcx-whatif-1a",
            "rtbassoc-whatif-1",
            "pcx-whatif-1 ",
        ] {
            assert!(!minted(bad, "pcx"), "{bad}");
        }
    }
}
