//! Terraform plans, as `terraform show -json PLAN` prints them, applied to a model.
//!
//! A plan is read only when it is shaped as Terraform writes it ([`parse`]): JSON plan format
//! 1.x, not errored, `resource_changes` a list (absent only from a plan that changes nothing),
//! every change's `actions` one of Terraform's action sets. Anything else is an error at its
//! line and column, never an empty change (issue 13, strict inputs).
//!
//! The plan's `resource_changes` of the AWS resources that shape VPC reachability are applied
//! (create, update, delete, replace): routes and route tables (inline routes), route-table
//! associations (also the main one), security groups (inline rules) and their rule resources
//! (`aws_security_group_rule`, `aws_vpc_security_group_ingress_rule`/`_egress_rule`), network
//! ACLs (inline entries and `subnet_ids`), their rules and associations, VPC peering
//! connections and their accepters, managed prefix lists and their entries. Attributes are
//! translated into the EC2 API's names and converted by the loader's rules.
//!
//! Values unknown until apply are handled explicitly: a resource the plan creates gets a
//! placeholder id (`pcx-(aws_vpc_peering_connection.peer)`), and an unknown attribute of
//! another resource resolves to it through the plan's `configuration` (the expression's
//! `references`). What cannot be resolved, and every change of a resource type outside the
//! model, is listed in [`Applied::not_understood`], never silently dropped.
//!
//! Terraform lists resource changes by address, not in dependency order, so they are applied
//! in phases: new containers (tables, groups, ACLs, peerings, lists), acceptances, removals of
//! parts, additions of parts, removals of containers.

use std::collections::BTreeMap;

use foldhash::{HashMap, HashMapExt};
use std::path::Path;

use serde_json::{Map, Value, json};

use super::json::{self, Step as At};
use super::{Applied, ChangeError, Editor, NewPeering};
use crate::model::*;
use crate::snapshot::convert;

/// A parsed plan.
pub struct Plan {
    changes: Vec<ResourceChange>,
    /// Configuration address (module path without instance keys) → its `expressions`.
    config: HashMap<String, Value>,
    /// Resource changes Terraform deferred to a later plan, one line each.
    deferred: Vec<String>,
}

struct ResourceChange {
    address: String,
    /// `module.a.` prefix (without instance keys) or empty.
    module: String,
    ty: String,
    index: Option<Value>,
    actions: Vec<String>,
    before: Value,
    after: Value,
    after_unknown: Value,
}

impl ResourceChange {
    fn creates(&self) -> bool {
        self.actions.iter().any(|a| a == "create")
    }
    fn deletes(&self) -> bool {
        self.actions.iter().any(|a| a == "delete")
    }
    fn base(&self) -> String {
        strip_keys(&self.address)
    }
    fn action_text(&self) -> String {
        match (self.creates(), self.deletes()) {
            (true, true) => "replace".into(),
            _ => self.actions.join("+"),
        }
    }
}

/// `module.a["x"].aws_route.r[0]` → `module.a.aws_route.r`.
fn strip_keys(address: &str) -> String {
    let mut out = String::new();
    let mut depth = 0;
    let mut quoted = false;
    for c in address.chars() {
        match c {
            '"' if depth > 0 => quoted = !quoted,
            '[' if !quoted => depth += 1,
            ']' if !quoted => depth -= 1,
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

const MODELLED: &[&str] = &[
    "aws_route",
    "aws_route_table",
    "aws_route_table_association",
    "aws_main_route_table_association",
    "aws_security_group",
    "aws_security_group_rule",
    "aws_vpc_security_group_ingress_rule",
    "aws_vpc_security_group_egress_rule",
    "aws_network_acl",
    "aws_network_acl_rule",
    "aws_network_acl_association",
    "aws_vpc_peering_connection",
    "aws_vpc_peering_connection_accepter",
    "aws_ec2_managed_prefix_list",
    "aws_ec2_managed_prefix_list_entry",
];

/// The action sets `terraform show -json` writes for a resource change (Terraform's
/// `jsonplan.Change.Actions`): `forget` (Terraform 1.7, a `removed` block without destroy) and
/// `create`+`forget` (a replacement that forgets the old object instead of destroying it) are
/// the newest. Anything else is a plan peerscope cannot read: refused, never taken as no change.
const ACTION_SETS: &[&[&str]] = &[
    &["no-op"],
    &["create"],
    &["read"],
    &["update"],
    &["delete", "create"],
    &["create", "delete"],
    &["delete"],
    &["forget"],
    &["create", "forget"],
];

/// Is `v` a JSON plan format version peerscope reads: `1.` and a minor number? Terraform 1.0
/// and later write 1.x, and a new major version would mean a change a reader must know about.
fn supported_format(v: &str) -> bool {
    v.strip_prefix("1.")
        .is_some_and(|m| !m.is_empty() && m.bytes().all(|b| b.is_ascii_digit()))
}

/// "a string", "null", …: what a value is, for messages.
fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// Reads a plan, checking its shape first: a 1.x `format_version`, a plan that did not error,
/// `resource_changes` a list (absent only from a plan with nothing to change, which still has
/// `planned_values`), and every resource change an object with an address, a mode, a type and
/// a `change` whose `actions` are one of `ACTION_SETS` and whose `before` and `after` are
/// there when the actions need them. Each mistake is an error with its line and column, naming
/// the resource when there is one. Provider attribute values are the provider's: they are read
/// as the loader reads describe output.
pub fn parse(text: &str, _file: &Path) -> Result<Plan, ChangeError> {
    let v = super::read_json(text, "plan")?;
    let err = |path: &[At], op: &str, message: String| ChangeError {
        op: op.to_owned(),
        message,
        at: json::locate(text, path).map(|(_, at)| json::line_column(text, at)),
    };
    let Value::Object(top) = &v else {
        return Err(err(
            &[],
            "plan",
            format!(
                "a plan is a JSON object (`terraform show -json PLAN`), not {}",
                kind(&v)
            ),
        ));
    };
    match top.get("format_version") {
        None => {
            return Err(err(
                &[],
                "plan",
                "not a Terraform plan: no \"format_version\" (make one with `terraform show -json PLAN`)"
                    .into(),
            ));
        }
        Some(Value::String(f)) if supported_format(f) => {}
        Some(Value::String(f)) => {
            return Err(err(
                &["format_version".into()],
                "plan",
                format!(
                    "format_version {f:?} is not supported: peerscope reads the JSON plan format 1.x, which Terraform 1.0 and later write"
                ),
            ));
        }
        Some(other) => {
            return Err(err(
                &["format_version".into()],
                "plan",
                format!(
                    "format_version must be a string such as \"1.2\", not {}",
                    kind(other)
                ),
            ));
        }
    }
    match top.get("errored") {
        None | Some(Value::Bool(false)) => {}
        Some(Value::Bool(true)) => {
            return Err(err(
                &["errored".into()],
                "plan",
                "the plan errored (\"errored\": true): Terraform could not plan every change, so what it lists is not the whole change; fix the errors and plan again".into(),
            ));
        }
        Some(other) => {
            return Err(err(
                &["errored".into()],
                "plan",
                format!("errored must be true or false, not {}", kind(other)),
            ));
        }
    }
    // Terraform omits `resource_changes` when nothing changes, but always writes
    // `planned_values`; without either this is no plan (`terraform show -json` without a plan
    // file prints the state, which must not read as "no change").
    let rcs: &[Value] = match top.get("resource_changes") {
        Some(Value::Array(a)) => a,
        None if top.get("planned_values").is_some_and(Value::is_object) => &[],
        None => {
            return Err(err(
                &[],
                "plan",
                "no \"resource_changes\" and no \"planned_values\": this is not a plan (`terraform show -json` without a plan file prints the state; give it the plan file)".into(),
            ));
        }
        Some(other) => {
            return Err(err(
                &["resource_changes".into()],
                "plan",
                format!(
                    "resource_changes must be a list of resource changes, not {}",
                    kind(other)
                ),
            ));
        }
    };
    let mut changes = Vec::new();
    for (i, rc) in rcs.iter().enumerate() {
        let path = |keys: &[&str]| {
            let mut p: Vec<At> = vec!["resource_changes".into(), i.into()];
            p.extend(keys.iter().map(|k| At::from(*k)));
            p
        };
        let at_index = format!("resource_changes[{i}]");
        let Value::Object(m) = rc else {
            return Err(err(
                &path(&[]),
                &at_index,
                format!("a resource change is an object, not {}", kind(rc)),
            ));
        };
        let address = match m.get("address") {
            Some(Value::String(a)) if !a.is_empty() => a.clone(),
            None => return Err(err(&path(&[]), &at_index, "no address".into())),
            Some(other) => {
                return Err(err(
                    &path(&["address"]),
                    &at_index,
                    format!("address must be a resource address, not {}", kind(other)),
                ));
            }
        };
        let text_of = |k: &str| -> Result<Option<&str>, ChangeError> {
            match m.get(k) {
                None => Ok(None),
                Some(Value::String(s)) => Ok(Some(s)),
                Some(other) => Err(err(
                    &path(&[k]),
                    &address,
                    format!("{k} must be a string, not {}", kind(other)),
                )),
            }
        };
        let data = match text_of("mode")? {
            Some("managed") => false,
            Some("data") => true,
            Some(other) => {
                return Err(err(
                    &path(&["mode"]),
                    &address,
                    format!("mode {other:?} is neither \"managed\" nor \"data\""),
                ));
            }
            None => {
                return Err(err(
                    &path(&[]),
                    &address,
                    "no mode (\"managed\" or \"data\")".into(),
                ));
            }
        };
        let ty = match text_of("type")? {
            Some(t) if !t.is_empty() => t.to_owned(),
            _ => return Err(err(&path(&[]), &address, "no resource type".into())),
        };
        let module = text_of("module_address")?
            .map(|m| format!("{}.", strip_keys(m)))
            .unwrap_or_default();
        let change = match m.get("change") {
            Some(Value::Object(c)) => c,
            None => return Err(err(&path(&[]), &address, "no change".into())),
            Some(other) => {
                return Err(err(
                    &path(&["change"]),
                    &address,
                    format!("change must be an object, not {}", kind(other)),
                ));
            }
        };
        let actions: Vec<String> = match change.get("actions") {
            Some(Value::Array(a)) if a.iter().all(Value::is_string) => a
                .iter()
                .filter_map(|x| x.as_str().map(str::to_owned))
                .collect(),
            None => {
                return Err(err(
                    &path(&["change"]),
                    &address,
                    "change has no actions".into(),
                ));
            }
            Some(other) => {
                return Err(err(
                    &path(&["change", "actions"]),
                    &address,
                    format!("change.actions must be a list of action names, not {other}"),
                ));
            }
        };
        if !ACTION_SETS.iter().any(|set| set.iter().eq(actions.iter())) {
            return Err(err(
                &path(&["change", "actions"]),
                &address,
                format!(
                    "change.actions {} is not one of Terraform's action sets ({}): what it does is unknown",
                    Value::from(actions.clone()),
                    ACTION_SETS
                        .iter()
                        .map(|s| Value::from(s.to_vec()).to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
        for (k, needed) in [
            (
                "before",
                actions.iter().any(|a| a == "update" || a == "delete"),
            ),
            (
                "after",
                actions.iter().any(|a| a == "update" || a == "create"),
            ),
        ] {
            match change.get(k) {
                Some(Value::Object(_)) => {}
                None | Some(Value::Null) if !needed || data => {}
                None | Some(Value::Null) => {
                    return Err(err(
                        &path(&["change"]),
                        &address,
                        format!(
                            "change.{k} is missing: {} needs the object {k} the change",
                            Value::from(actions.clone())
                        ),
                    ));
                }
                Some(other) => {
                    return Err(err(
                        &path(&["change", k]),
                        &address,
                        format!("change.{k} must be an object or null, not {}", kind(other)),
                    ));
                }
            }
        }
        match change.get("after_unknown") {
            None | Some(Value::Null | Value::Object(_) | Value::Bool(_)) => {}
            Some(other) => {
                return Err(err(
                    &path(&["change", "after_unknown"]),
                    &address,
                    format!(
                        "change.after_unknown must be an object, not {}",
                        kind(other)
                    ),
                ));
            }
        }
        if data {
            continue;
        }
        let field = |k: &str| change.get(k).cloned().unwrap_or(Value::Null);
        changes.push(ResourceChange {
            address,
            module,
            ty,
            index: m.get("index").cloned(),
            actions,
            before: field("before"),
            after: field("after"),
            after_unknown: field("after_unknown"),
        });
    }
    // Changes Terraform put off to a later plan (`-allow-deferral`): not in this one, and said so.
    let mut deferred = Vec::new();
    if let Some(Value::Array(items)) = top.get("deferred_changes") {
        for d in items {
            let rc = d.get("resource_change");
            let address = rc
                .and_then(|r| r.get("address"))
                .and_then(Value::as_str)
                .unwrap_or("a resource");
            let reason = d.get("reason").and_then(Value::as_str).unwrap_or("unknown");
            deferred.push(format!(
                "{address}: deferred by Terraform ({reason}): not in this plan, so not applied"
            ));
        }
    }
    match top.get("configuration") {
        None | Some(Value::Object(_)) => {}
        Some(other) => {
            return Err(err(
                &["configuration".into()],
                "plan",
                format!("configuration must be an object, not {}", kind(other)),
            ));
        }
    }
    let mut config = HashMap::new();
    if let Some(root) = v.get("configuration").and_then(|c| c.get("root_module")) {
        walk_config(root, "", &mut config);
    }
    Ok(Plan {
        changes,
        config,
        deferred,
    })
}

fn walk_config(module: &Value, prefix: &str, out: &mut HashMap<String, Value>) {
    for r in module
        .get("resources")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
    {
        if let Some(a) = r.get("address").and_then(Value::as_str) {
            out.insert(
                format!("{prefix}{a}"),
                r.get("expressions").cloned().unwrap_or(Value::Null),
            );
        }
    }
    if let Some(calls) = module.get("module_calls").and_then(Value::as_object) {
        for (name, call) in calls {
            if let Some(m) = call.get("module") {
                walk_config(m, &format!("{prefix}module.{name}."), out);
            }
        }
    }
}

fn id_prefix(ty: &str) -> &'static str {
    match ty {
        "aws_route_table" => "rtb",
        "aws_route_table_association" | "aws_main_route_table_association" => "rtbassoc",
        "aws_security_group" => "sg",
        "aws_network_acl" => "acl",
        "aws_network_acl_association" => "aclassoc",
        "aws_vpc_peering_connection" => "pcx",
        "aws_ec2_managed_prefix_list" => "pl",
        _ => "id",
    }
}

/// The plan phase of a piece of work (see the module doc).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Phase {
    /// A peering replaced destroy-first (Terraform's default) is gone before its successor,
    /// which may join the same two VPCs, is requested.
    ReplaceRemove,
    CreateContainer,
    Accept,
    RemovePart,
    AddPart,
    RemoveContainer,
}

/// Applies a plan; an operation AWS would reject is an error naming the resource.
pub fn apply(model: &mut Model, plan: &Plan) -> Result<Applied, ChangeError> {
    let mut applied = Applied {
        not_understood: plan.deferred.clone(),
        ..Default::default()
    };
    // Placeholders for every object the plan creates whose id is unknown.
    let mut placeholders: BTreeMap<String, String> = BTreeMap::new();
    for rc in plan.changes.iter().filter(|rc| rc.creates()) {
        let known = rc
            .after
            .get("id")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty());
        let id = match known {
            Some(id) => id.to_owned(),
            None => format!("{}-({})", id_prefix(&rc.ty), rc.address),
        };
        placeholders.insert(rc.address.clone(), id);
    }
    // An accepter's id is its connection's id.
    for rc in plan
        .changes
        .iter()
        .filter(|rc| rc.creates() && rc.ty == "aws_vpc_peering_connection_accepter")
    {
        let ctx = Ctx {
            plan,
            placeholders: &placeholders,
        };
        if let Attr::Known(id) | Attr::Unknown(Some(id)) =
            ctx.attr(rc, &rc.after, "vpc_peering_connection_id")
        {
            placeholders.insert(rc.address.clone(), id);
        }
    }
    let ctx = Ctx {
        plan,
        placeholders: &placeholders,
    };
    let mut work: Vec<(Phase, usize)> = Vec::new();
    for (i, rc) in plan.changes.iter().enumerate() {
        // `forget` removes the object from Terraform's state only; AWS keeps it as it is.
        if rc
            .actions
            .iter()
            .all(|a| a == "no-op" || a == "read" || a == "forget")
        {
            continue;
        }
        if !MODELLED.contains(&rc.ty.as_str()) {
            applied.not_understood.push(format!(
                "{} ({}): {} is outside the network model",
                rc.address,
                rc.action_text(),
                if rc.ty.is_empty() {
                    "this resource"
                } else {
                    &rc.ty
                }
            ));
            continue;
        }
        for phase in phases(rc) {
            work.push((phase, i));
        }
    }
    work.sort();
    let mut ed = Editor::new(model);
    for (phase, i) in work {
        let rc = &plan.changes[i];
        let result = step(&mut ed, &ctx, rc, phase);
        match result {
            Ok(Step::Done(line)) => {
                applied
                    .applied
                    .push(format!("{} ({}): {line}", rc.address, rc.action_text()))
            }
            Ok(Step::Skipped(why)) => {
                applied
                    .not_understood
                    .push(format!("{} ({}): {why}", rc.address, rc.action_text()))
            }
            Ok(Step::Nothing) => {}
            Err(message) => {
                return Err(ChangeError {
                    op: format!("{} ({})", rc.address, rc.action_text()),
                    message,
                    at: None,
                });
            }
        }
    }
    applied.touched = ed.finish();
    // Report the ids given to objects others can refer to (not to routes or rules).
    applied.placeholders = placeholders
        .into_iter()
        .filter(|(address, id)| {
            id.contains('(')
                && plan
                    .changes
                    .iter()
                    .any(|c| &c.address == address && id_prefix(&c.ty) != "id")
        })
        .collect();
    Ok(applied)
}

/// The phases a resource change has work in.
fn phases(rc: &ResourceChange) -> Vec<Phase> {
    let container = matches!(
        rc.ty.as_str(),
        "aws_route_table"
            | "aws_security_group"
            | "aws_network_acl"
            | "aws_vpc_peering_connection"
            | "aws_ec2_managed_prefix_list"
    );
    let mut out = Vec::new();
    if container {
        if rc.creates() {
            out.push(Phase::CreateContainer);
        }
        if rc.creates() || rc.actions.iter().any(|a| a == "update") {
            // Inline parts (routes, rules, entries, subnets) once every container exists.
            out.push(if rc.ty == "aws_ec2_managed_prefix_list" {
                Phase::Accept
            } else {
                Phase::AddPart
            });
        }
        if rc.deletes() {
            let destroy_first = rc.actions.first().is_some_and(|a| a == "delete") && rc.creates();
            out.push(if destroy_first && rc.ty == "aws_vpc_peering_connection" {
                Phase::ReplaceRemove
            } else {
                Phase::RemoveContainer
            });
        }
    } else if rc.ty == "aws_vpc_peering_connection_accepter" {
        out.push(Phase::Accept);
    } else {
        if rc.deletes() || rc.actions.iter().any(|a| a == "update") {
            out.push(Phase::RemovePart);
        }
        if rc.creates() || rc.actions.iter().any(|a| a == "update") {
            out.push(Phase::AddPart);
        }
    }
    out
}

enum Step {
    Done(String),
    /// Not applied, with why (listed in the output).
    Skipped(String),
    Nothing,
}

struct Ctx<'a> {
    plan: &'a Plan,
    placeholders: &'a BTreeMap<String, String>,
}

/// An attribute value: known, unknown until apply (with the placeholder it resolves to, if
/// any), or absent.
enum Attr {
    Known(String),
    Unknown(Option<String>),
    Absent,
}

impl Ctx<'_> {
    /// Resolves an expression's references to the placeholder of a resource this plan creates.
    fn resolve_refs(&self, rc: &ResourceChange, expr: &Value) -> Option<String> {
        let refs = expr.get("references")?.as_array()?;
        for r in refs.iter().filter_map(Value::as_str) {
            let mut parts = r.split('.');
            let (Some(ty), Some(name)) = (parts.next(), parts.next()) else {
                continue;
            };
            if !ty.starts_with("aws_") {
                continue;
            }
            let base = format!("{}{}.{}", rc.module, ty, strip_keys(name));
            let created: Vec<&ResourceChange> = self
                .plan
                .changes
                .iter()
                .filter(|c| c.creates() && c.base() == base)
                .collect();
            // A reference with its own instance key (`aws_x.y[1]`) names that instance; else
            // the only instance, or the one with the referring resource's own key.
            let exact = format!("{}{}.{}", rc.module, ty, name);
            let pick = if name.contains('[') {
                created.iter().copied().find(|c| c.address == exact)
            } else {
                match created.as_slice() {
                    [] => None,
                    [one] => Some(*one),
                    many => many.iter().copied().find(|c| c.index == rc.index),
                }
            };
            if let Some(c) = pick {
                return self.placeholders.get(&c.address).cloned();
            }
        }
        None
    }

    /// The configuration expressions of a resource.
    fn expressions(&self, rc: &ResourceChange) -> Option<&Value> {
        self.plan.config.get(&rc.base())
    }

    /// A top-level string attribute of `after` (or `before` when `after` is null).
    fn attr(&self, rc: &ResourceChange, obj: &Value, key: &str) -> Attr {
        match obj.get(key) {
            Some(Value::String(s)) if !s.is_empty() => return Attr::Known(s.clone()),
            Some(Value::Number(n)) => return Attr::Known(n.to_string()),
            _ => {}
        }
        let unknown = std::ptr::eq(obj, &rc.after)
            && rc.after_unknown.get(key).and_then(Value::as_bool) == Some(true);
        if !unknown {
            return Attr::Absent;
        }
        // Unknown and not set in the configuration: a computed attribute, not a reference.
        let Some(expr) = self
            .expressions(rc)
            .and_then(|e| e.get(key))
            .filter(|e| e.get("references").is_some())
        else {
            return Attr::Absent;
        };
        Attr::Unknown(self.resolve_refs(rc, expr))
    }

    /// A required id attribute: known or resolved, else why not.
    fn id(&self, rc: &ResourceChange, obj: &Value, key: &str) -> Result<String, String> {
        match self.attr(rc, obj, key) {
            Attr::Known(s) => Ok(s),
            Attr::Unknown(Some(p)) => Ok(p),
            Attr::Unknown(None) => Err(format!(
                "{key} is unknown until apply and refers to no resource this plan creates that peerscope models"
            )),
            Attr::Absent => Err(format!("{key} is missing")),
        }
    }

    /// Known-until-apply values inside a nested block (`route`, `ingress`, …): an element's
    /// unknown attribute resolves through the matching configuration block (the one whose
    /// constant values agree with the element), or the only block referencing a created object.
    fn nested_ref(
        &self,
        rc: &ResourceChange,
        block: &str,
        elem: &Value,
        key: &str,
    ) -> Option<String> {
        let blocks = self.expressions(rc)?.get(block)?.as_array()?;
        let agrees = |b: &Value| {
            b.as_object().is_some_and(|m| {
                m.iter().all(|(k, e)| match e.get("constant_value") {
                    Some(c) => elem.get(k).is_none_or(|v| v == c),
                    None => true,
                })
            })
        };
        let found: Vec<String> = blocks
            .iter()
            .filter(|b| agrees(b))
            .filter_map(|b| b.get(key).and_then(|e| self.resolve_refs(rc, e)))
            .collect();
        match found.as_slice() {
            [one] => Some(one.clone()),
            [first, rest @ ..] if rest.iter().all(|x| x == first) => Some(first.clone()),
            _ => None,
        }
    }
}

/// An inline block of a container's change (`route`, `ingress`, `entry`, `subnet_ids`, …).
enum Inline<'v> {
    /// Unknown until apply as a whole: the object's parts are left as they are.
    Unknown,
    /// Not in the plan, or the same before and after (an update that does not touch it).
    Unchanged,
    /// What the block holds after the change.
    Set(&'v [Value]),
}

fn inline<'v>(rc: &'v ResourceChange, key: &str) -> Inline<'v> {
    if rc.after_unknown.get(key).and_then(Value::as_bool) == Some(true) {
        return Inline::Unknown;
    }
    match rc.after.get(key).and_then(Value::as_array) {
        Some(list) if rc.creates() || rc.after.get(key) != rc.before.get(key) => Inline::Set(list),
        _ => Inline::Unchanged,
    }
}

/// The state a part's change is read from: before for its removal, after for its addition.
fn side(rc: &ResourceChange, phase: Phase) -> &Value {
    if phase == Phase::RemovePart {
        &rc.before
    } else {
        &rc.after
    }
}

/// One line for what a container's inline blocks did; nothing when none changed.
fn summary(id: &dyn std::fmt::Display, lines: &[String]) -> Step {
    if lines.is_empty() {
        Step::Nothing
    } else {
        Step::Done(format!("{id}: {}", lines.join(", ")))
    }
}

fn elems<'v>(obj: &'v Value, key: &str) -> &'v [Value] {
    obj.get(key)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

fn nonempty(v: Option<&Value>) -> Option<&str> {
    v.and_then(Value::as_str).filter(|s| !s.is_empty())
}

fn step(
    ed: &mut Editor<'_>,
    ctx: &Ctx<'_>,
    rc: &ResourceChange,
    phase: Phase,
) -> Result<Step, String> {
    let (before, after) = (&rc.before, &rc.after);
    match (rc.ty.as_str(), phase) {
        // ---- routes ------------------------------------------------------------------
        ("aws_route", Phase::RemovePart) => {
            let table = RouteTableId::new(ctx.id(rc, before, "route_table_id")?);
            let dest = route_destination(before)?;
            ed.delete_route(&table, &dest)?;
            Ok(Step::Done(format!("{table}: delete route to {dest}")))
        }
        ("aws_route", Phase::AddPart) => {
            let table = RouteTableId::new(ctx.id(rc, after, "route_table_id")?);
            let route = tf_route(after, ROUTE_ATTRS, |k| match ctx.attr(rc, after, k) {
                Attr::Unknown(p) => Some(p),
                _ => None,
            })?;
            let line = format!("{table}: {route}");
            ed.create_route(&table, route)?;
            Ok(Step::Done(line))
        }
        ("aws_route_table", Phase::CreateContainer) => {
            let id = RouteTableId::new(ctx.placeholders[&rc.address].clone());
            let vpc = VpcId::new(ctx.id(rc, after, "vpc_id")?);
            ed.create_route_table(id.clone(), &vpc)?;
            Ok(Step::Done(format!("{id}: new route table in {vpc}")))
        }
        ("aws_route_table", Phase::AddPart) => {
            let list = match inline(rc, "route") {
                Inline::Unknown => {
                    return Ok(Step::Skipped(
                        "route is unknown until apply: the table's routes are left as they are"
                            .into(),
                    ));
                }
                Inline::Unchanged => return Ok(Step::Nothing),
                Inline::Set(list) => list,
            };
            let id = RouteTableId::new(table_id(ctx, rc)?);
            let mut routes = Vec::new();
            for (i, r) in list.iter().enumerate() {
                let unknown = rc
                    .after_unknown
                    .get("route")
                    .and_then(|u| u.get(i))
                    .cloned()
                    .unwrap_or(Value::Null);
                routes.push(tf_route(r, INLINE_ROUTE_ATTRS, |k| {
                    (unknown.get(k).and_then(Value::as_bool) == Some(true))
                        .then(|| ctx.nested_ref(rc, "route", r, k))
                })?);
            }
            let n = routes.len();
            ed.set_routes(&id, routes)?;
            Ok(Step::Done(format!("{id}: {n} inline route(s) set")))
        }
        ("aws_route_table", Phase::RemoveContainer) => {
            let id = RouteTableId::new(ctx.id(rc, before, "id")?);
            ed.delete_route_table(&id)?;
            Ok(Step::Done(format!("{id}: deleted")))
        }
        ("aws_route_table_association", Phase::RemovePart) => {
            if nonempty(before.get("gateway_id")).is_some() {
                return Ok(Step::Skipped(
                    "a gateway (edge) association is outside the model".into(),
                ));
            }
            let assoc = ctx.id(rc, before, "id")?;
            ed.disassociate_route_table(&assoc)?;
            Ok(Step::Done(format!("{assoc}: removed")))
        }
        ("aws_route_table_association", Phase::AddPart) => {
            if nonempty(after.get("gateway_id")).is_some() {
                return Ok(Step::Skipped(
                    "a gateway (edge) association is outside the model".into(),
                ));
            }
            let table = RouteTableId::new(ctx.id(rc, after, "route_table_id")?);
            let subnet = SubnetId::new(ctx.id(rc, after, "subnet_id")?);
            let assoc = ed.associate_route_table(
                &table,
                &subnet,
                ctx.placeholders
                    .get(&rc.address)
                    .cloned()
                    .or_else(|| nonempty(after.get("id")).map(str::to_owned)),
            )?;
            Ok(Step::Done(format!("{subnet} → {table} ({assoc})")))
        }
        ("aws_main_route_table_association", Phase::RemovePart) => {
            if !rc.deletes() {
                return Ok(Step::Nothing);
            }
            // Terraform restores the original main table on destroy.
            let vpc = VpcId::new(ctx.id(rc, before, "vpc_id")?);
            let Ok(orig) = ctx.id(rc, before, "original_route_table_id") else {
                return Ok(Step::Skipped(
                    "original_route_table_id is unknown: the main table is left as it is".into(),
                ));
            };
            let orig = RouteTableId::new(orig);
            ed.set_main_route_table(&vpc, &orig)?;
            Ok(Step::Done(format!(
                "{vpc}: main route table back to {orig}"
            )))
        }
        ("aws_main_route_table_association", Phase::AddPart) => {
            let vpc = VpcId::new(ctx.id(rc, after, "vpc_id")?);
            let table = RouteTableId::new(ctx.id(rc, after, "route_table_id")?);
            ed.set_main_route_table(&vpc, &table)?;
            Ok(Step::Done(format!("{vpc}: main route table {table}")))
        }
        // ---- security groups -----------------------------------------------------------
        ("aws_security_group", Phase::CreateContainer) => {
            let id = SecurityGroupId::new(ctx.placeholders[&rc.address].clone());
            let vpc = VpcId::new(ctx.id(rc, after, "vpc_id")?);
            let name = nonempty(after.get("name")).unwrap_or("");
            ed.create_group(id.clone(), &vpc, name)?;
            Ok(Step::Done(format!(
                "{id}: new security group {name:?} in {vpc}"
            )))
        }
        ("aws_security_group", Phase::AddPart) => {
            let id = SecurityGroupId::new(group_id(ctx, rc)?);
            let mut lines = Vec::new();
            for (key, egress) in [("ingress", false), ("egress", true)] {
                let list = match inline(rc, key) {
                    Inline::Unknown => {
                        lines.push(format!("{key} unknown until apply: left as it is"));
                        continue;
                    }
                    Inline::Unchanged => continue,
                    Inline::Set(list) => list,
                };
                let mut perms = Vec::new();
                for (i, r) in list.iter().enumerate() {
                    let unknown = rc
                        .after_unknown
                        .get(key)
                        .and_then(|u| u.get(i))
                        .cloned()
                        .unwrap_or(Value::Null);
                    let mut groups: Vec<String> = elems(r, "security_groups")
                        .iter()
                        .filter_map(|g| nonempty(Some(g)).map(str::to_owned))
                        .collect();
                    if unknown
                        .get("security_groups")
                        .is_some_and(|u| u != &Value::Bool(false) && u != &json!([]))
                    {
                        match ctx.nested_ref(rc, key, r, "security_groups") {
                            Some(p) => groups.push(p),
                            None => {
                                return Err(format!(
                                    "{key} rule {i}: security_groups are unknown until apply and refer to no group this plan creates"
                                ));
                            }
                        }
                    }
                    if r.get("self").and_then(Value::as_bool) == Some(true) {
                        groups.push(id.to_string());
                    }
                    perms.push(permission(
                        r.get("protocol"),
                        r.get("from_port"),
                        r.get("to_port"),
                        elems(r, "cidr_blocks"),
                        elems(r, "ipv6_cidr_blocks"),
                        elems(r, "prefix_list_ids"),
                        &groups,
                    ));
                }
                let rules = convert::permissions(&id, &Value::Array(perms))?;
                lines.push(format!("{} {key} rule(s)", rules.len()));
                ed.set_rules(&id, egress, rules)?;
            }
            Ok(summary(&id, &lines))
        }
        ("aws_security_group", Phase::RemoveContainer) => {
            let id = SecurityGroupId::new(ctx.id(rc, before, "id")?);
            ed.delete_group(&id)?;
            Ok(Step::Done(format!("{id}: deleted")))
        }
        ("aws_security_group_rule", _) => {
            let obj = side(rc, phase);
            let id = SecurityGroupId::new(ctx.id(rc, obj, "security_group_id")?);
            let egress = match obj.get("type").and_then(Value::as_str) {
                Some("egress") => true,
                Some("ingress") => false,
                other => return Err(format!("type {other:?} is neither ingress nor egress")),
            };
            let mut groups = Vec::new();
            match ctx.attr(rc, obj, "source_security_group_id") {
                Attr::Known(g) | Attr::Unknown(Some(g)) => groups.push(g),
                Attr::Unknown(None) => return Err("source_security_group_id is unknown until apply and refers to no group this plan creates".into()),
                Attr::Absent => {}
            }
            if obj.get("self").and_then(Value::as_bool) == Some(true) {
                groups.push(id.to_string());
            }
            let perm = permission(
                obj.get("protocol"),
                obj.get("from_port"),
                obj.get("to_port"),
                elems(obj, "cidr_blocks"),
                elems(obj, "ipv6_cidr_blocks"),
                elems(obj, "prefix_list_ids"),
                &groups,
            );
            sg_rule_step(ed, &id, egress, perm, phase)
        }
        ("aws_vpc_security_group_ingress_rule" | "aws_vpc_security_group_egress_rule", _) => {
            let obj = side(rc, phase);
            let id = SecurityGroupId::new(ctx.id(rc, obj, "security_group_id")?);
            let egress = rc.ty.ends_with("egress_rule");
            let mut groups = Vec::new();
            match ctx.attr(rc, obj, "referenced_security_group_id") {
                Attr::Known(g) | Attr::Unknown(Some(g)) => groups.push(g),
                Attr::Unknown(None) => return Err("referenced_security_group_id is unknown until apply and refers to no group this plan creates".into()),
                Attr::Absent => {}
            }
            let one = |k: &str| {
                obj.get(k)
                    .filter(|v| nonempty(Some(v)).is_some())
                    .cloned()
                    .into_iter()
                    .collect::<Vec<_>>()
            };
            let pl = match ctx.attr(rc, obj, "prefix_list_id") {
                Attr::Known(p) | Attr::Unknown(Some(p)) => vec![Value::String(p)],
                _ => Vec::new(),
            };
            let perm = permission(
                obj.get("ip_protocol"),
                obj.get("from_port"),
                obj.get("to_port"),
                &one("cidr_ipv4"),
                &one("cidr_ipv6"),
                &pl,
                &groups,
            );
            sg_rule_step(ed, &id, egress, perm, phase)
        }
        // ---- network ACLs --------------------------------------------------------------
        ("aws_network_acl", Phase::CreateContainer) => {
            let id = NetworkAclId::new(ctx.placeholders[&rc.address].clone());
            let vpc = VpcId::new(ctx.id(rc, after, "vpc_id")?);
            ed.create_acl(id.clone(), &vpc)?;
            Ok(Step::Done(format!("{id}: new network ACL in {vpc}")))
        }
        ("aws_network_acl", Phase::AddPart) => {
            let id = NetworkAclId::new(acl_id(ctx, rc)?);
            let mut lines = Vec::new();
            for (key, egress) in [("ingress", false), ("egress", true)] {
                let list = match inline(rc, key) {
                    Inline::Unknown => {
                        lines.push(format!("{key} unknown until apply: left as it is"));
                        continue;
                    }
                    Inline::Unchanged => continue,
                    Inline::Set(list) => list,
                };
                let mut entries = Vec::new();
                for e in list {
                    let v = nacl_entry_json(e, "rule_no", "action", egress);
                    entries.push(convert::nacl_entry(&v, id.as_str())?.1);
                }
                lines.push(format!("{} {key} entr(ies)", entries.len()));
                ed.set_nacl_entries(&id, egress, entries)?;
            }
            match inline(rc, "subnet_ids") {
                Inline::Unknown => lines
                    .push("subnet_ids unknown until apply: associations left as they are".into()),
                Inline::Unchanged => {}
                Inline::Set(list) => {
                    let now: Vec<&str> = list.iter().filter_map(|s| nonempty(Some(s))).collect();
                    for old in elems(before, "subnet_ids")
                        .iter()
                        .filter_map(|s| nonempty(Some(s)))
                    {
                        if !now.contains(&old) {
                            ed.reset_subnet_acl(&SubnetId::new(old))?;
                        }
                    }
                    for s in &now {
                        ed.move_subnet_to_acl(&SubnetId::new(s), &id, None)?;
                    }
                    lines.push(format!("subnets {}", now.join(", ")));
                }
            }
            Ok(summary(&id, &lines))
        }
        ("aws_network_acl", Phase::RemoveContainer) => {
            let id = NetworkAclId::new(ctx.id(rc, before, "id")?);
            ed.delete_acl(&id)?;
            Ok(Step::Done(format!("{id}: deleted")))
        }
        ("aws_network_acl_rule", _) => {
            let obj = side(rc, phase);
            let id = NetworkAclId::new(ctx.id(rc, obj, "network_acl_id")?);
            let egress = obj.get("egress").and_then(Value::as_bool).unwrap_or(false);
            let v = nacl_entry_json(obj, "rule_number", "rule_action", egress);
            let entry = convert::nacl_entry(&v, id.as_str())?.1;
            let dir = if egress { "egress" } else { "ingress" };
            if phase == Phase::RemovePart {
                ed.delete_nacl_entry(&id, egress, entry.rule_number)?;
                Ok(Step::Done(format!(
                    "{id}: delete {dir} rule {}",
                    entry.rule_number
                )))
            } else {
                let n = entry.rule_number;
                ed.create_nacl_entry(&id, egress, entry)?;
                Ok(Step::Done(format!("{id}: {dir} rule {n}")))
            }
        }
        ("aws_network_acl_association", Phase::RemovePart) => {
            let subnet = SubnetId::new(ctx.id(rc, before, "subnet_id")?);
            ed.reset_subnet_acl(&subnet)?;
            Ok(Step::Done(format!(
                "{subnet}: back to its VPC's default network ACL"
            )))
        }
        ("aws_network_acl_association", Phase::AddPart) => {
            let subnet = SubnetId::new(ctx.id(rc, after, "subnet_id")?);
            let acl = NetworkAclId::new(ctx.id(rc, after, "network_acl_id")?);
            let assoc =
                ed.move_subnet_to_acl(&subnet, &acl, ctx.placeholders.get(&rc.address).cloned())?;
            Ok(Step::Done(format!("{subnet} → {acl} ({assoc})")))
        }
        // ---- peering -------------------------------------------------------------------
        ("aws_vpc_peering_connection", Phase::CreateContainer) => {
            let id = PeeringId::new(ctx.placeholders[&rc.address].clone());
            let vpc = VpcId::new(ctx.id(rc, after, "vpc_id")?);
            let peer = VpcId::new(ctx.id(rc, after, "peer_vpc_id")?);
            // `auto_accept` works only within one account and region (the provider's rule);
            // otherwise an accepter must accept the connection.
            let auto = after.get("auto_accept").and_then(Value::as_bool) == Some(true);
            let peer_region = nonempty(after.get("peer_region")).map(Region::new);
            let local = match (ed.model().vpcs.get(&vpc), ed.model().vpcs.get(&peer)) {
                (Some(a), Some(b)) => {
                    a.account == b.account
                        && a.region == b.region
                        && peer_region.as_ref().is_none_or(|r| r == &a.region)
                }
                _ => false,
            };
            let accept = auto && local;
            let note = ed.create_peering(&NewPeering {
                id: id.clone(),
                vpc: vpc.clone(),
                peer_vpc: peer.clone(),
                peer_owner: nonempty(after.get("peer_owner_id")).map(AccountId::new),
                peer_region,
                accept,
            })?;
            Ok(Step::Done(format!(
                "{id}: {vpc} ↔ {peer}, {}{}",
                match (accept, auto) {
                    (true, _) => "accepted (auto_accept)",
                    (false, true) => {
                        "pending acceptance (auto_accept needs both VPCs in one account and region)"
                    }
                    (false, false) => "pending acceptance",
                },
                note.map(|n| format!("; {n}")).unwrap_or_default()
            )))
        }
        ("aws_vpc_peering_connection", Phase::AddPart) => Ok(Step::Nothing),
        ("aws_vpc_peering_connection", Phase::RemoveContainer | Phase::ReplaceRemove) => {
            let id = PeeringId::new(ctx.id(rc, before, "id")?);
            ed.delete_peering(&id)?;
            Ok(Step::Done(format!("{id}: deleted")))
        }
        ("aws_vpc_peering_connection_accepter", _) => {
            if !rc.creates() && !rc.actions.iter().any(|a| a == "update") {
                return Ok(Step::Skipped("destroying an accepter only removes it from Terraform's state: the connection stays".into()));
            }
            let id = PeeringId::new(ctx.id(rc, after, "vpc_peering_connection_id")?);
            if after.get("auto_accept").and_then(Value::as_bool) != Some(true) {
                return Ok(Step::Skipped(format!(
                    "auto_accept is not true: {id} is not accepted"
                )));
            }
            ed.accept_peering(&id)?;
            Ok(Step::Done(format!("{id}: accepted")))
        }
        // ---- prefix lists --------------------------------------------------------------
        ("aws_ec2_managed_prefix_list", Phase::CreateContainer) => {
            let id = PrefixListId::new(ctx.placeholders[&rc.address].clone());
            ed.create_prefix_list(id.clone(), nonempty(after.get("name")).map(str::to_owned))?;
            Ok(Step::Done(format!("{id}: new prefix list")))
        }
        ("aws_ec2_managed_prefix_list", Phase::Accept) => {
            let list = match inline(rc, "entry") {
                Inline::Unknown => {
                    return Ok(Step::Skipped(
                        "entry is unknown until apply: entries left as they are".into(),
                    ));
                }
                Inline::Unchanged => return Ok(Step::Nothing),
                Inline::Set(list) => list,
            };
            let id = PrefixListId::new(match ctx.placeholders.get(&rc.address) {
                Some(p) => p.clone(),
                None => ctx.id(rc, after, "id")?,
            });
            let cidrs = list
                .iter()
                .map(|e| {
                    let c = nonempty(e.get("cidr")).ok_or("an entry has no cidr")?;
                    convert::cidr(c, "entry.cidr")
                })
                .collect::<Result<Vec<_>, String>>()?;
            let n = cidrs.len();
            ed.set_prefix_list(&id, cidrs)?;
            Ok(Step::Done(format!("{id}: {n} entr(ies)")))
        }
        ("aws_ec2_managed_prefix_list", Phase::RemoveContainer) => {
            let id = PrefixListId::new(ctx.id(rc, before, "id")?);
            ed.delete_prefix_list(&id)?;
            Ok(Step::Done(format!("{id}: deleted")))
        }
        ("aws_ec2_managed_prefix_list_entry", _) => {
            let obj = side(rc, phase);
            let id = PrefixListId::new(ctx.id(rc, obj, "prefix_list_id")?);
            let c = convert::cidr(&ctx.id(rc, obj, "cidr")?, "cidr")?;
            if phase == Phase::RemovePart {
                ed.modify_prefix_list(&id, &[], &[c])?;
                Ok(Step::Done(format!("{id}: remove {c}")))
            } else {
                ed.modify_prefix_list(&id, &[c], &[])?;
                Ok(Step::Done(format!("{id}: add {c}")))
            }
        }
        _ => Ok(Step::Nothing),
    }
}

fn table_id(ctx: &Ctx<'_>, rc: &ResourceChange) -> Result<String, String> {
    match ctx.placeholders.get(&rc.address) {
        Some(p) => Ok(p.clone()),
        None => ctx.id(rc, &rc.after, "id"),
    }
}

fn group_id(ctx: &Ctx<'_>, rc: &ResourceChange) -> Result<String, String> {
    table_id(ctx, rc)
}

fn acl_id(ctx: &Ctx<'_>, rc: &ResourceChange) -> Result<String, String> {
    table_id(ctx, rc)
}

fn sg_rule_step(
    ed: &mut Editor<'_>,
    id: &SecurityGroupId,
    egress: bool,
    perm: Value,
    phase: Phase,
) -> Result<Step, String> {
    let rules = convert::permissions(id, &Value::Array(vec![perm]))?;
    if rules.is_empty() {
        return Err("the rule names no peer (CIDR, prefix list or group)".into());
    }
    let text = rules
        .iter()
        .map(|r| r.to_string())
        .collect::<Vec<_>>()
        .join(", ");
    let dir = if egress { "egress" } else { "ingress" };
    if phase == Phase::RemovePart {
        ed.revoke(id, egress, &rules)?;
        Ok(Step::Done(format!("{id}: revoke {dir} {text}")))
    } else {
        ed.authorize(id, egress, rules)?;
        Ok(Step::Done(format!("{id}: allow {dir} {text}")))
    }
}

/// An EC2 `IpPermission` from Terraform's rule attributes.
fn permission(
    protocol: Option<&Value>,
    from: Option<&Value>,
    to: Option<&Value>,
    cidrs: &[Value],
    cidrs6: &[Value],
    lists: &[Value],
    groups: &[String],
) -> Value {
    let proto = match protocol {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    };
    let mut p = Map::new();
    p.insert("IpProtocol".into(), Value::String(proto));
    for (k, v) in [("FromPort", from), ("ToPort", to)] {
        if let Some(v) = v.filter(|v| !v.is_null()) {
            p.insert(k.into(), v.clone());
        }
    }
    let list = |items: &[Value], key: &str| -> Value {
        Value::Array(
            items
                .iter()
                .filter_map(|c| nonempty(Some(c)))
                .map(|c| json!({ key: c }))
                .collect(),
        )
    };
    p.insert("IpRanges".into(), list(cidrs, "CidrIp"));
    p.insert("Ipv6Ranges".into(), list(cidrs6, "CidrIpv6"));
    p.insert("PrefixListIds".into(), list(lists, "PrefixListId"));
    p.insert(
        "UserIdGroupPairs".into(),
        Value::Array(groups.iter().map(|g| json!({ "GroupId": g })).collect()),
    );
    Value::Object(p)
}

/// An EC2 NACL entry from Terraform's attributes (inline blocks name the number `rule_no` and
/// the action `action`; `aws_network_acl_rule` says `rule_number` and `rule_action`).
fn nacl_entry_json(e: &Value, number: &str, action: &str, egress: bool) -> Value {
    let mut m = Map::new();
    if let Some(n) = e.get(number) {
        m.insert("RuleNumber".into(), n.clone());
    }
    if let Some(p) = e.get("protocol") {
        m.insert("Protocol".into(), p.clone());
    }
    if let Some(a) = e.get(action) {
        m.insert("RuleAction".into(), a.clone());
    }
    m.insert("Egress".into(), Value::Bool(egress));
    if let Some(c) = nonempty(e.get("cidr_block")) {
        m.insert("CidrBlock".into(), c.into());
    } else if let Some(c) = nonempty(e.get("ipv6_cidr_block")) {
        m.insert("Ipv6CidrBlock".into(), c.into());
    }
    let port = |k: &str| e.get(k).filter(|v| !v.is_null()).cloned();
    if let (Some(f), Some(t)) = (port("from_port"), port("to_port")) {
        m.insert("PortRange".into(), json!({ "From": f, "To": t }));
    }
    Value::Object(m)
}

/// Terraform attribute → EC2 name, for `aws_route`.
const ROUTE_ATTRS: &[(&str, &str)] = &[
    ("destination_cidr_block", "DestinationCidrBlock"),
    ("destination_ipv6_cidr_block", "DestinationIpv6CidrBlock"),
    ("destination_prefix_list_id", "DestinationPrefixListId"),
    ("gateway_id", "GatewayId"),
    ("vpc_peering_connection_id", "VpcPeeringConnectionId"),
    ("nat_gateway_id", "NatGatewayId"),
    ("transit_gateway_id", "TransitGatewayId"),
    ("network_interface_id", "NetworkInterfaceId"),
    ("egress_only_gateway_id", "EgressOnlyInternetGatewayId"),
    ("carrier_gateway_id", "CarrierGatewayId"),
    ("local_gateway_id", "LocalGatewayId"),
    ("core_network_arn", "CoreNetworkArn"),
    ("vpc_endpoint_id", "VpcEndpointId"),
];

/// The same for inline `route` blocks of `aws_route_table`.
const INLINE_ROUTE_ATTRS: &[(&str, &str)] = &[
    ("cidr_block", "DestinationCidrBlock"),
    ("ipv6_cidr_block", "DestinationIpv6CidrBlock"),
    ("destination_prefix_list_id", "DestinationPrefixListId"),
    ("gateway_id", "GatewayId"),
    ("vpc_peering_connection_id", "VpcPeeringConnectionId"),
    ("nat_gateway_id", "NatGatewayId"),
    ("transit_gateway_id", "TransitGatewayId"),
    ("network_interface_id", "NetworkInterfaceId"),
    ("egress_only_gateway_id", "EgressOnlyInternetGatewayId"),
    ("carrier_gateway_id", "CarrierGatewayId"),
    ("local_gateway_id", "LocalGatewayId"),
    ("core_network_arn", "CoreNetworkArn"),
    ("vpc_endpoint_id", "VpcEndpointId"),
];

/// A route from Terraform attributes; `unknown(attr)` says whether an attribute is unknown
/// until apply (`Some`) and what it resolves to.
fn tf_route(
    obj: &Value,
    attrs: &[(&str, &str)],
    unknown: impl Fn(&str) -> Option<Option<String>>,
) -> Result<Route, String> {
    let mut m = Map::new();
    for (tf, ec2) in attrs {
        if let Some(v) = nonempty(obj.get(*tf)) {
            m.insert((*ec2).into(), v.into());
        } else if let Some(resolved) = unknown(tf) {
            match resolved {
                Some(p) => {
                    m.insert((*ec2).into(), p.into());
                }
                None => {
                    return Err(format!(
                        "{tf} is unknown until apply and refers to no resource this plan creates that peerscope models"
                    ));
                }
            }
        }
    }
    convert::route(&Value::Object(m), "route")
}

fn route_destination(obj: &Value) -> Result<RouteDestination, String> {
    if let Some(c) = nonempty(obj.get("destination_cidr_block")) {
        return Ok(RouteDestination::Cidr(convert::cidr(
            c,
            "destination_cidr_block",
        )?));
    }
    if let Some(c) = nonempty(obj.get("destination_ipv6_cidr_block")) {
        return Ok(RouteDestination::Cidr(convert::cidr(
            c,
            "destination_ipv6_cidr_block",
        )?));
    }
    if let Some(p) = nonempty(obj.get("destination_prefix_list_id")) {
        return Ok(RouteDestination::PrefixList(PrefixListId::new(p)));
    }
    Err("the route has no destination".into())
}
