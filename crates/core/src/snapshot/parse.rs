//! Parsing one describe-* file: dispatch on the top-level key, typed serde structs, and error
//! isolation.
//!
//! The fast path deserializes the whole file straight into typed structs. Only when that fails
//! does the tolerant path run: each object is parsed on its own from a borrowed
//! [`RawValue`](serde_json::value::RawValue) slice, so one bad object costs that object (with a
//! diagnostic at its file line and column), never the rest of the file.

use std::fmt;
use std::path::Path;

use serde::de::{DeserializeOwned, DeserializeSeed, IgnoredAny, MapAccess, Visitor};
use serde_json::value::RawValue;

use super::raw;
use crate::diagnostics::{Code, Diagnostic};

/// A parsed object and its position in the file (`Subnets[3]`), for diagnostics.
#[derive(Debug)]
pub struct Item<T> {
    pub value: T,
    pub index: usize,
}

/// What one file holds, by top-level key.
#[derive(Debug, Default)]
pub struct FileContents {
    pub vpcs: Vec<Item<raw::Vpc>>,
    pub subnets: Vec<Item<raw::Subnet>>,
    pub route_tables: Vec<Item<raw::RouteTable>>,
    pub security_groups: Vec<Item<raw::SecurityGroup>>,
    pub network_acls: Vec<Item<raw::NetworkAcl>>,
    pub network_interfaces: Vec<Item<raw::NetworkInterface>>,
    pub reservations: Vec<Item<raw::Reservation>>,
    pub instances: Vec<Item<raw::Instance>>,
    pub peerings: Vec<Item<raw::VpcPeeringConnection>>,
    pub prefix_lists: Vec<Item<raw::PrefixList>>,
    /// `Entries` of get-managed-prefix-list-entries, with `PrefixListId` beside it if present.
    pub entries: Option<Vec<Item<raw::PrefixListEntry>>>,
    pub entries_list_id: Option<String>,
    /// Known AWS keys that reachability does not model.
    pub not_modelled: Vec<String>,
    /// Keys peerscope does not know at all.
    pub unknown: Vec<String>,
    /// Set when the file holds only one page of a paginated response.
    pub next_token: bool,
    /// How many top-level keys peerscope models (Vpcs, Subnets, …) the file has.
    pub modelled_keys: usize,
}

impl FileContents {
    /// Does the file hold a describe-* response peerscope knows (even an empty one: a
    /// missing kind means none of it)?
    pub fn is_recognised(&self) -> bool {
        self.modelled_keys > 0 || !self.not_modelled.is_empty()
    }
}

/// Top-level keys of AWS describe responses that peerscope knows but does not model; they are
/// reported at info level so users see what was set aside.
const NOT_MODELLED: &[&str] = &[
    "Account",
    "Addresses",
    "Arn",
    "AvailabilityZones",
    "CarrierGateways",
    "ClassicLinkInstances",
    "CustomerGateways",
    "DBInstances",
    "DhcpOptions",
    "DirectConnectGatewayAssociations",
    "DirectConnectGateways",
    "DomainStatusList",
    "EgressOnlyInternetGateways",
    "Hosts",
    "InstanceStatuses",
    "InternetGateways",
    "LoadBalancerAttributes",
    "LoadBalancerDescriptions",
    "LoadBalancerListeners",
    "LoadBalancerTargetHealth",
    "LoadBalancers",
    "LocalGateways",
    "ManagedPrefixLists",
    "MovingAddressStatuses",
    "NatGateways",
    "PlacementGroups",
    "Regions",
    "ServiceDetails",
    "ServiceNames",
    "Snapshots",
    "Tags",
    "TargetGroups",
    "TransitGatewayAttachments",
    "TransitGatewayPeeringAttachments",
    "TransitGatewayPropagations",
    "TransitGatewayRouteTables",
    "TransitGatewayStaticRoutes",
    "TransitGatewayVpcAttachments",
    "TransitGateways",
    "UserId",
    "VirtualInterfaces",
    "VpcEndpointServices",
    "VpcEndpoints",
    "VpnConnections",
    "VpnGateways",
];

/// Parses one file's text. Returns the contents and the diagnostics of this file (paths are
/// filled in by the caller). A JSON syntax error loses the file: there is nothing to recover.
pub fn parse_file(text: &str) -> (FileContents, Vec<Diagnostic>) {
    match parse_with(text, Mode::Fast) {
        Ok(out) => out,
        Err(_) => match parse_with(text, Mode::Tolerant) {
            Ok(out) => out,
            Err(e) => {
                // A file that is not JSON at all is malformed even when its shape failed first
                // (a truncated `[…`): report the syntax error, not "not a response".
                let e = if e.is_data() {
                    serde_json::from_str::<IgnoredAny>(text).err().unwrap_or(e)
                } else {
                    e
                };
                // serde_json says column 0 before a line's first character; ours are 1-based.
                let d = Diagnostic::error(Code::MalformedJson, describe_json_error(&e))
                    .at(e.line(), e.column().max(1));
                // Valid JSON that is not an object of responses (an array, a number) is a file
                // peerscope does not know: reported, not an error (the contract).
                let d = if e.is_data() {
                    Diagnostic {
                        code: Code::NotAResponse,
                        severity: crate::diagnostics::Severity::Warning,
                        ..d
                    }
                } else {
                    d
                };
                (FileContents::default(), vec![d])
            }
        },
    }
}

fn describe_json_error(e: &serde_json::Error) -> String {
    // serde_json appends " at line L column C"; the diagnostic carries the position itself.
    let s = e.to_string();
    match s.rfind(" at line ") {
        Some(i) => s[..i].to_owned(),
        None => s,
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Fast,
    Tolerant,
}

fn parse_with(
    text: &str,
    mode: Mode,
) -> Result<(FileContents, Vec<Diagnostic>), serde_json::Error> {
    let mut de = serde_json::Deserializer::from_str(text);
    let seed = TopLevel { text, mode };
    let out = seed.deserialize(&mut de)?;
    de.end()?;
    Ok(out)
}

struct TopLevel<'t> {
    text: &'t str,
    mode: Mode,
}

impl<'de, 't> DeserializeSeed<'de> for TopLevel<'t>
where
    't: 'de,
{
    type Value = (FileContents, Vec<Diagnostic>);

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de, 't> Visitor<'de> for TopLevel<'t>
where
    't: 'de,
{
    type Value = (FileContents, Vec<Diagnostic>);

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object whose keys are describe-* response keys (Vpcs, Subnets, …)")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut c = FileContents::default();
        let mut diags = Vec::new();
        let text = self.text;
        let mode = self.mode;
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            macro_rules! list {
                ($field:ident, $id:literal) => {{
                    c.modelled_keys += 1;
                    let items = next_list(&mut map, text, mode, &key, $id, &mut diags)?;
                    c.$field.extend(items);
                }};
            }
            match key.as_ref() {
                "Vpcs" => list!(vpcs, "VpcId"),
                "Subnets" => list!(subnets, "SubnetId"),
                "RouteTables" => list!(route_tables, "RouteTableId"),
                "SecurityGroups" => list!(security_groups, "GroupId"),
                "NetworkAcls" => list!(network_acls, "NetworkAclId"),
                "NetworkInterfaces" => list!(network_interfaces, "NetworkInterfaceId"),
                "Reservations" => list!(reservations, "ReservationId"),
                "Instances" => list!(instances, "InstanceId"),
                "VpcPeeringConnections" => list!(peerings, "VpcPeeringConnectionId"),
                "PrefixLists" => list!(prefix_lists, "PrefixListId"),
                "Entries" => {
                    c.modelled_keys += 1;
                    let items = next_list(&mut map, text, mode, &key, "Cidr", &mut diags)?;
                    c.entries.get_or_insert_with(Vec::new).extend(items);
                }
                "PrefixListId" => {
                    let id: Option<String> = map.next_value()?;
                    c.entries_list_id = id;
                }
                "ResponseMetadata" => {
                    map.next_value::<IgnoredAny>()?;
                }
                "NextToken" => {
                    let token: Option<IgnoredAny> = map.next_value()?;
                    c.next_token = token.is_some();
                }
                other => {
                    map.next_value::<IgnoredAny>()?;
                    if NOT_MODELLED.contains(&other) {
                        c.not_modelled.push(other.to_owned());
                    } else {
                        c.unknown.push(other.to_owned());
                    }
                }
            }
        }
        Ok((c, diags))
    }
}

/// Reads the value of a list key: typed in one go on the fast path, object by object on the
/// tolerant path.
fn next_list<'de, A, T>(
    map: &mut A,
    text: &str,
    mode: Mode,
    key: &str,
    id_field: &str,
    diags: &mut Vec<Diagnostic>,
) -> Result<Vec<Item<T>>, A::Error>
where
    A: MapAccess<'de>,
    T: DeserializeOwned,
{
    // AWS never answers `null` for a response's list: the objects of that kind are unknown,
    // which is damage (docs/failure-policy.md), never "none".
    let null = |diags: &mut Vec<Diagnostic>| {
        diags.push(Diagnostic::error(
            Code::InvalidValue,
            format!("{key} is null: the objects of this kind are unknown (read as none, and answers that depend on them are refused or marked undetermined)"),
        ));
    };
    match mode {
        Mode::Fast => {
            let items: Option<Vec<T>> = map.next_value()?;
            if items.is_none() {
                null(diags);
            }
            Ok(items
                .unwrap_or_default()
                .into_iter()
                .enumerate()
                .map(|(index, value)| Item { value, index })
                .collect())
        }
        Mode::Tolerant => {
            // A value that is not a list (a map, a string) loses this key's objects, not the
            // file's other keys: damage, reported at its position.
            let value: &'de RawValue = map.next_value()?;
            let raws: Option<Vec<&'de RawValue>> = match serde_json::from_str(value.get()) {
                Ok(r) => r,
                Err(e) => {
                    let (line, column) = absolute_position(text, value.get(), &e);
                    diags.push(
                        Diagnostic::error(
                            Code::InvalidValue,
                            format!(
                                "{key} is not a list ({}): the objects of this kind are unknown",
                                describe_json_error(&e)
                            ),
                        )
                        .at(line, column),
                    );
                    return Ok(Vec::new());
                }
            };
            if raws.is_none() {
                null(diags);
            }
            let mut out = Vec::new();
            for (index, raw) in raws.unwrap_or_default().into_iter().enumerate() {
                match serde_json::from_str::<T>(raw.get()) {
                    Ok(value) => out.push(Item { value, index }),
                    Err(e) => {
                        let (line, column) = absolute_position(text, raw.get(), &e);
                        let object = object_id(raw.get(), id_field)
                            .unwrap_or_else(|| format!("{key}[{index}]"));
                        diags.push(
                            Diagnostic::error(
                                Code::InvalidValue,
                                format!("{} (object skipped)", describe_json_error(&e)),
                            )
                            .at(line, column)
                            .object(object)
                            .scope(vpcs_named(raw.get())),
                        );
                    }
                }
            }
            Ok(out)
        }
    }
}

/// Converts an error position inside `slice` (a sub-slice of `text`) to a file position.
fn absolute_position(text: &str, slice: &str, e: &serde_json::Error) -> (usize, usize) {
    let offset = (slice.as_ptr() as usize)
        .checked_sub(text.as_ptr() as usize)
        .filter(|o| *o <= text.len())
        .unwrap_or(0);
    let before = &text[..offset];
    let base_line = before.matches('\n').count() + 1;
    let base_col = offset - before.rfind('\n').map(|i| i + 1).unwrap_or(0) + 1;
    if e.line() <= 1 {
        (base_line, base_col + e.column().saturating_sub(1))
    } else {
        (base_line + e.line() - 1, e.column().max(1))
    }
}

/// The object's id, when it has a string one, for naming it in a diagnostic.
fn object_id(raw: &str, id_field: &str) -> Option<String> {
    let fields: foldhash::HashMap<&str, &RawValue> = serde_json::from_str(raw).ok()?;
    serde_json::from_str::<String>(fields.get(id_field)?.get()).ok()
}

/// The VPCs a (skipped) object's record names: its `VpcId`, both sides of a peering, the
/// instances of a reservation. What its loss can change is marked by them.
fn vpcs_named(raw: &str) -> Vec<crate::ids::VpcId> {
    fn walk(v: &serde_json::Value, depth: usize, out: &mut Vec<crate::ids::VpcId>) {
        match v {
            serde_json::Value::Object(m) if depth < 4 => {
                for (k, x) in m {
                    match (k.as_str(), x) {
                        ("VpcId", serde_json::Value::String(id)) => {
                            out.push(crate::ids::VpcId::new(id))
                        }
                        _ => walk(x, depth + 1, out),
                    }
                }
            }
            serde_json::Value::Array(a) if depth < 4 => {
                a.iter().for_each(|x| walk(x, depth + 1, out))
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    if let Ok(v) = serde_json::from_str::<serde_json::Value>(raw) {
        walk(&v, 0, &mut out);
    }
    out.sort();
    out.dedup();
    out
}

/// The prefix-list id a `get-managed-prefix-list-entries-<pl-id>.json` file name carries.
pub fn prefix_list_id_from_name(path: &Path) -> Option<String> {
    let stem = path.file_stem()?.to_str()?;
    let i = stem.find("pl-")?;
    let id = &stem[i..];
    (id.len() > 3 && id[3..].chars().all(|c| c.is_ascii_alphanumeric())).then(|| id.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_path_reads_known_keys() {
        let (c, d) = parse_file(r#"{"Vpcs": [{"VpcId": "vpc-1", "CidrBlock": "10.0.0.0/16"}]}"#);
        assert!(d.is_empty());
        assert_eq!(c.vpcs.len(), 1);
        assert_eq!(c.vpcs[0].value.vpc_id.as_deref(), Some("vpc-1"));
    }

    #[test]
    fn bad_object_costs_only_itself_with_position_and_id() {
        let text = "{\"Subnets\": [\n  {\"SubnetId\": \"subnet-1\"},\n  {\"SubnetId\": \"subnet-2\", \"CidrBlock\": 5}\n]}";
        let (c, d) = parse_file(text);
        assert_eq!(c.subnets.len(), 1);
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(d[0].object.as_deref(), Some("subnet-2"));
        assert_eq!(d[0].line, Some(3));
        assert!(d[0].column.unwrap() > 30, "{:?}", d[0]);
    }

    #[test]
    fn syntax_error_has_line_and_column() {
        let (_, d) = parse_file("{\"Vpcs\": [\n  {\"VpcId\": \"vpc-1\",}\n]}");
        assert_eq!(d[0].code, Code::MalformedJson);
        assert_eq!((d[0].line, d[0].column), (Some(2), Some(21)));
    }

    #[test]
    fn unknown_and_unmodelled_keys_are_kept_for_reporting() {
        let (c, _) =
            parse_file(r#"{"InternetGateways": [], "Frobs": [1], "ResponseMetadata": {}}"#);
        assert_eq!(c.not_modelled, vec!["InternetGateways"]);
        assert_eq!(c.unknown, vec!["Frobs"]);
    }

    #[test]
    fn entries_file_name_gives_list_id() {
        let p = Path::new("get-managed-prefix-list-entries-pl-0abc123.json");
        assert_eq!(prefix_list_id_from_name(p).as_deref(), Some("pl-0abc123"));
        assert_eq!(prefix_list_id_from_name(Path::new("entries.json")), None);
    }
}
