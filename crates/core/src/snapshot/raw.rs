//! Serde mirrors of the EC2 describe-* JSON, as `aws ec2 describe-* --output json` prints it.
//!
//! These types stay inside the snapshot layer. Fields the model requires are still `Option`
//! here, so that a missing one becomes a diagnostic naming the object instead of a parse error
//! that loses the whole file. Unknown fields are ignored (AWS adds fields over time).

use serde::Deserialize;

/// Reads `null` as the default value: some SDK dumps write `"Tags": null`.
fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// A list whose explicit `null` is kept apart from an absent key: AWS never writes `null` for
/// a table's routes, an ACL's entries or a group's rules, so a `null` there is damage (the
/// list is unknown), never "none" (docs/failure-policy.md).
#[derive(Clone, Debug)]
pub struct Listed<T> {
    pub items: Vec<T>,
    /// The key was present with the value `null`.
    pub null: bool,
}

impl<T> Default for Listed<T> {
    fn default() -> Self {
        Listed {
            items: Vec::new(),
            null: false,
        }
    }
}

impl<T> std::ops::Deref for Listed<T> {
    type Target = Vec<T>;
    fn deref(&self) -> &Vec<T> {
        &self.items
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Listed<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(match Option::<Vec<T>>::deserialize(d)? {
            Some(items) => Listed { items, null: false },
            None => Listed {
                items: Vec::new(),
                null: true,
            },
        })
    }
}

/// A string that some dumps write as a number (`"Protocol": 6`, `"FromPort": "22"`).
#[derive(Clone, Debug, PartialEq)]
pub struct Lenient(pub String);

impl<'de> Deserialize<'de> for Lenient {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Lenient;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a string or a number")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Lenient, E> {
                Ok(Lenient(v.to_owned()))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Lenient, E> {
                Ok(Lenient(v.to_string()))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Lenient, E> {
                Ok(Lenient(v.to_string()))
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Lenient, E> {
                Ok(Lenient(v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Tag {
    pub key: Option<String>,
    pub value: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct StateHolder {
    pub state: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CidrAssociation {
    pub cidr_block: Option<String>,
    pub cidr_block_state: Option<StateHolder>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Ipv6CidrAssociation {
    pub ipv6_cidr_block: Option<String>,
    pub ipv6_cidr_block_state: Option<StateHolder>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Vpc {
    pub vpc_id: Option<String>,
    pub owner_id: Option<String>,
    pub cidr_block: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub cidr_block_association_set: Option<Vec<CidrAssociation>>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub ipv6_cidr_block_association_set: Vec<Ipv6CidrAssociation>,
    pub is_default: Option<bool>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub tags: Vec<Tag>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Subnet {
    pub subnet_id: Option<String>,
    pub vpc_id: Option<String>,
    pub owner_id: Option<String>,
    pub availability_zone: Option<String>,
    pub cidr_block: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub ipv6_cidr_block_association_set: Vec<Ipv6CidrAssociation>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub tags: Vec<Tag>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RouteTableAssociation {
    pub route_table_association_id: Option<String>,
    pub main: Option<bool>,
    pub subnet_id: Option<String>,
    /// An edge association (a gateway route table): not a subnet's.
    pub gateway_id: Option<String>,
    pub association_state: Option<StateHolder>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Route {
    pub destination_cidr_block: Option<String>,
    pub destination_ipv6_cidr_block: Option<String>,
    pub destination_prefix_list_id: Option<String>,
    pub gateway_id: Option<String>,
    pub vpc_peering_connection_id: Option<String>,
    pub nat_gateway_id: Option<String>,
    pub transit_gateway_id: Option<String>,
    pub network_interface_id: Option<String>,
    pub instance_id: Option<String>,
    pub egress_only_internet_gateway_id: Option<String>,
    pub carrier_gateway_id: Option<String>,
    pub local_gateway_id: Option<String>,
    pub core_network_arn: Option<String>,
    /// Not in describe output (it shows endpoints as `GatewayId`); `CreateRoute` names them so.
    pub vpc_endpoint_id: Option<String>,
    pub odb_network_arn: Option<String>,
    pub state: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RouteTable {
    pub route_table_id: Option<String>,
    pub vpc_id: Option<String>,
    pub owner_id: Option<String>,
    #[serde(default)]
    pub associations: Listed<RouteTableAssociation>,
    #[serde(default)]
    pub routes: Listed<Route>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub tags: Vec<Tag>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PortRange {
    pub from: Option<i64>,
    pub to: Option<i64>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct NaclEntry {
    pub rule_number: Option<i64>,
    pub protocol: Option<Lenient>,
    pub rule_action: Option<String>,
    pub egress: Option<bool>,
    pub cidr_block: Option<String>,
    pub ipv6_cidr_block: Option<String>,
    pub port_range: Option<PortRange>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct NaclAssociation {
    pub network_acl_association_id: Option<String>,
    pub subnet_id: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct NetworkAcl {
    pub network_acl_id: Option<String>,
    pub vpc_id: Option<String>,
    pub owner_id: Option<String>,
    pub is_default: Option<bool>,
    #[serde(default)]
    pub associations: Listed<NaclAssociation>,
    #[serde(default)]
    pub entries: Listed<NaclEntry>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub tags: Vec<Tag>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct IpRange {
    pub cidr_ip: Option<String>,
    pub description: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Ipv6Range {
    pub cidr_ipv6: Option<String>,
    pub description: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PrefixListIdRef {
    pub prefix_list_id: Option<String>,
    pub description: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UserIdGroupPair {
    pub group_id: Option<String>,
    pub user_id: Option<String>,
    pub description: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct IpPermission {
    pub ip_protocol: Option<Lenient>,
    pub from_port: Option<i64>,
    pub to_port: Option<i64>,
    #[serde(default)]
    pub ip_ranges: Listed<IpRange>,
    #[serde(default)]
    pub ipv6_ranges: Listed<Ipv6Range>,
    #[serde(default)]
    pub prefix_list_ids: Listed<PrefixListIdRef>,
    #[serde(default)]
    pub user_id_group_pairs: Listed<UserIdGroupPair>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SecurityGroup {
    pub group_id: Option<String>,
    pub group_name: Option<String>,
    pub vpc_id: Option<String>,
    pub owner_id: Option<String>,
    #[serde(default)]
    pub ip_permissions: Listed<IpPermission>,
    #[serde(default)]
    pub ip_permissions_egress: Listed<IpPermission>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub tags: Vec<Tag>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GroupIdentifier {
    pub group_id: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PrivateIpAddress {
    pub private_ip_address: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Ipv6Address {
    pub ipv6_address: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Attachment {
    pub instance_id: Option<String>,
    pub device_index: Option<i64>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct NetworkInterface {
    pub network_interface_id: Option<String>,
    pub subnet_id: Option<String>,
    pub vpc_id: Option<String>,
    pub owner_id: Option<String>,
    pub availability_zone: Option<String>,
    pub private_ip_address: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub private_ip_addresses: Vec<PrivateIpAddress>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub ipv6_addresses: Vec<Ipv6Address>,
    #[serde(default)]
    pub groups: Listed<GroupIdentifier>,
    pub attachment: Option<Attachment>,
    pub description: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub tag_set: Vec<Tag>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Placement {
    pub availability_zone: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Instance {
    pub instance_id: Option<String>,
    pub placement: Option<Placement>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub network_interfaces: Vec<NetworkInterface>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Reservation {
    pub owner_id: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub instances: Vec<Instance>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CidrBlockItem {
    pub cidr_block: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Ipv6CidrBlockItem {
    pub ipv6_cidr_block: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PeeringVpcInfo {
    pub vpc_id: Option<String>,
    pub owner_id: Option<String>,
    pub region: Option<String>,
    pub cidr_block: Option<String>,
    pub cidr_block_set: Option<Vec<CidrBlockItem>>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub ipv6_cidr_block_set: Vec<Ipv6CidrBlockItem>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PeeringStatus {
    pub code: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct VpcPeeringConnection {
    pub vpc_peering_connection_id: Option<String>,
    pub status: Option<PeeringStatus>,
    pub requester_vpc_info: Option<PeeringVpcInfo>,
    pub accepter_vpc_info: Option<PeeringVpcInfo>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub tags: Vec<Tag>,
}

/// An element of `PrefixLists`: either a managed prefix list (describe-managed-prefix-lists) or
/// an AWS service prefix list with inline `Cidrs` (describe-prefix-lists).
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PrefixList {
    pub prefix_list_id: Option<String>,
    pub prefix_list_name: Option<String>,
    pub owner_id: Option<String>,
    pub cidrs: Option<Vec<String>>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PrefixListEntry {
    pub cidr: Option<String>,
}
