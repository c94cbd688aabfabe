//! Single EC2 API objects — a route, a network ACL entry, IP permissions, a CIDR — converted
//! into the model exactly as the loader converts them from describe output. What-if change
//! files name parameters as the EC2 API does, so they reuse the loader's serde mirrors and
//! rules; the Terraform reader translates its attributes into the same names.

use serde::de::DeserializeOwned;
use serde_json::Value;

use super::{build, raw};
use crate::model::*;

fn typed<T: DeserializeOwned>(v: &Value, what: &str) -> Result<T, String> {
    serde_json::from_value(v.clone()).map_err(|e| format!("{what} is malformed: {e}"))
}

/// A route from `CreateRoute`/`ReplaceRoute` parameters (`DestinationCidrBlock`, …,
/// `GatewayId`, `VpcPeeringConnectionId`, …).
pub fn route(v: &Value, object: &str) -> Result<Route, String> {
    let r: raw::Route = typed(v, "the route")?;
    build::convert_route(&r, object)
}

/// A NACL entry from `CreateNetworkAclEntry` parameters; returns (egress, entry).
pub fn nacl_entry(v: &Value, object: &str) -> Result<(bool, NaclEntry), String> {
    let e: raw::NaclEntry = typed(v, "the entry")?;
    build::convert_nacl_entry(&e, object)
}

/// The rules of an `IpPermissions` list, flattened to one peer each.
pub fn permissions(group: &SecurityGroupId, perms: &Value) -> Result<Vec<SgRule>, String> {
    let p: Vec<raw::IpPermission> = typed(perms, "IpPermissions")?;
    build::convert_permissions(group, &p, "IpPermissions")
}

/// A CIDR as a field of the EC2 API.
pub fn cidr(s: &str, field: &str) -> Result<ipnet::IpNet, String> {
    build::convert_cidr(s, field)
}
