//! Typed mirrors of the describe-* JSON the generator writes, field names as AWS prints them.
//!
//! They serialize only (the loader has its own tolerant mirrors in `snapshot::raw`). They carry
//! the fields a real `aws ec2 describe-*` response carries for these objects, not only the ones
//! peerscope reads, so that parsing a generated snapshot costs what parsing a real one does.

use serde::Serialize;

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Tag {
    pub key: &'static str,
    pub value: String,
}

/// `[{"Key": "Name", "Value": name}]`, plus an `env` tag.
pub fn tags(name: String, env: &'static str) -> Vec<Tag> {
    vec![
        Tag {
            key: "Name",
            value: name,
        },
        Tag {
            key: "env",
            value: env.to_owned(),
        },
    ]
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct State {
    pub state: &'static str,
}

pub const ASSOCIATED: State = State {
    state: "associated",
};

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CidrAssociation {
    pub association_id: String,
    pub cidr_block: String,
    pub cidr_block_state: State,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Ipv6CidrAssociation {
    pub association_id: String,
    pub ipv6_cidr_block: String,
    pub ipv6_cidr_block_state: State,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub network_border_group: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ipv6_pool: Option<&'static str>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Vpc {
    pub cidr_block: String,
    pub cidr_block_association_set: Vec<CidrAssociation>,
    pub dhcp_options_id: String,
    pub instance_tenancy: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ipv6_cidr_block_association_set: Vec<Ipv6CidrAssociation>,
    pub is_default: bool,
    pub owner_id: String,
    pub state: &'static str,
    pub tags: Vec<Tag>,
    pub vpc_id: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Subnet {
    pub assign_ipv6_address_on_creation: bool,
    pub availability_zone: String,
    pub availability_zone_id: String,
    pub available_ip_address_count: u32,
    pub cidr_block: String,
    pub default_for_az: bool,
    pub ipv6_cidr_block_association_set: Vec<Ipv6CidrAssociation>,
    pub map_public_ip_on_launch: bool,
    pub owner_id: String,
    pub state: &'static str,
    pub subnet_arn: String,
    pub subnet_id: String,
    pub tags: Vec<Tag>,
    pub vpc_id: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct RouteTableAssociation {
    pub association_state: State,
    pub main: bool,
    pub route_table_association_id: String,
    pub route_table_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subnet_id: Option<String>,
}

#[derive(Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Route {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub destination_cidr_block: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub destination_ipv6_cidr_block: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub destination_prefix_list_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gateway_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nat_gateway_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vpc_peering_connection_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub egress_only_internet_gateway_id: Option<String>,
    pub origin: &'static str,
    pub state: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct RouteTable {
    pub associations: Vec<RouteTableAssociation>,
    pub owner_id: String,
    pub propagating_vgws: [(); 0],
    pub route_table_id: String,
    pub routes: Vec<Route>,
    pub tags: Vec<Tag>,
    pub vpc_id: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct NaclAssociation {
    pub network_acl_association_id: String,
    pub network_acl_id: String,
    pub subnet_id: String,
}

#[derive(Clone, Copy, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PortRange {
    pub from: u16,
    pub to: u16,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct NaclEntry {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cidr_block: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ipv6_cidr_block: Option<String>,
    pub egress: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port_range: Option<PortRange>,
    /// AWS prints protocol numbers as strings: `"-1"`, `"6"`, `"17"`.
    pub protocol: &'static str,
    pub rule_action: &'static str,
    pub rule_number: u32,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct NetworkAcl {
    pub associations: Vec<NaclAssociation>,
    pub entries: Vec<NaclEntry>,
    pub is_default: bool,
    pub network_acl_id: String,
    pub owner_id: String,
    pub tags: Vec<Tag>,
    pub vpc_id: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct IpRange {
    pub cidr_ip: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Ipv6Range {
    pub cidr_ipv6: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PrefixListIdRef {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub prefix_list_id: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct UserIdGroupPair {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub group_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peering_status: Option<&'static str>,
    pub user_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vpc_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vpc_peering_connection_id: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct IpPermission {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from_port: Option<i32>,
    pub ip_protocol: &'static str,
    pub ip_ranges: Vec<IpRange>,
    pub ipv6_ranges: Vec<Ipv6Range>,
    pub prefix_list_ids: Vec<PrefixListIdRef>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to_port: Option<i32>,
    pub user_id_group_pairs: Vec<UserIdGroupPair>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SecurityGroup {
    pub description: String,
    pub group_id: String,
    pub group_name: String,
    pub ip_permissions: Vec<IpPermission>,
    pub ip_permissions_egress: Vec<IpPermission>,
    pub owner_id: String,
    pub security_group_arn: String,
    pub tags: Vec<Tag>,
    pub vpc_id: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Attachment {
    pub attach_time: &'static str,
    pub attachment_id: String,
    pub delete_on_termination: bool,
    pub device_index: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance_owner_id: Option<String>,
    pub network_card_index: u32,
    pub status: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GroupIdentifier {
    pub group_id: String,
    pub group_name: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PrivateIpAddress {
    pub primary: bool,
    pub private_dns_name: String,
    pub private_ip_address: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Ipv6Address {
    pub ipv6_address: String,
    pub is_primary_ipv6: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct NetworkInterface {
    pub attachment: Attachment,
    pub availability_zone: String,
    pub description: String,
    pub groups: Vec<GroupIdentifier>,
    pub interface_type: &'static str,
    pub ipv6_addresses: Vec<Ipv6Address>,
    pub mac_address: String,
    pub network_interface_id: String,
    pub owner_id: String,
    pub private_dns_name: String,
    pub private_ip_address: String,
    pub private_ip_addresses: Vec<PrivateIpAddress>,
    pub requester_managed: bool,
    pub source_dest_check: bool,
    pub status: &'static str,
    pub subnet_id: String,
    pub tag_set: Vec<Tag>,
    pub vpc_id: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CidrBlockItem {
    pub cidr_block: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Ipv6CidrBlockItem {
    pub ipv6_cidr_block: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PeeringOptions {
    pub allow_dns_resolution_from_remote_vpc: bool,
    pub allow_egress_from_local_classic_link_to_remote_vpc: bool,
    pub allow_egress_from_local_vpc_to_remote_classic_link: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PeeringVpcInfo {
    /// Absent on the accepter side until the connection is accepted, as AWS prints it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cidr_block: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cidr_block_set: Option<Vec<CidrBlockItem>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ipv6_cidr_block_set: Option<Vec<Ipv6CidrBlockItem>>,
    pub owner_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peering_options: Option<PeeringOptions>,
    pub region: &'static str,
    pub vpc_id: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PeeringStatus {
    pub code: &'static str,
    pub message: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct VpcPeeringConnection {
    pub accepter_vpc_info: PeeringVpcInfo,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expiration_time: Option<&'static str>,
    pub requester_vpc_info: PeeringVpcInfo,
    pub status: PeeringStatus,
    pub tags: Vec<Tag>,
    pub vpc_peering_connection_id: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ManagedPrefixList {
    pub address_family: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_entries: Option<u32>,
    pub owner_id: String,
    pub prefix_list_arn: String,
    pub prefix_list_id: String,
    pub prefix_list_name: String,
    pub state: &'static str,
    pub tags: Vec<Tag>,
    pub version: u32,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PrefixListEntry {
    pub cidr: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// A get-managed-prefix-list-entries response with the list's id written beside `Entries`, as
/// peerscope's collector does (the raw response lacks it).
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PrefixListEntries<'a> {
    pub entries: &'a [PrefixListEntry],
    pub prefix_list_id: &'a str,
}
