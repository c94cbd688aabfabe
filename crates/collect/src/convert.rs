//! The SDK's EC2 types → describe-API JSON exactly as `aws ec2 describe-* --output json` prints
//! it (PascalCase keys, absent fields left out, lists written when the response had them).
//!
//! Every field `src/snapshot/raw.rs` reads is written (a test in `tests/collect.rs` loads what
//! the collector wrote), plus the fields a person reading a diff wants (state, names, tags).
//! Lists whose order AWS does not define and the semantics ignore — tags, security-group rules —
//! are sorted so snapshots are byte-stable; route order is kept (it breaks ties).

use aws_sdk_ec2::types as t;
use serde_json::Value;

use super::json::{Obj, sort_unordered};

fn tags(v: &Option<Vec<t::Tag>>) -> Option<Value> {
    v.as_ref().map(|tags| {
        let mut items: Vec<Value> = tags
            .iter()
            .map(|t| {
                Obj::new()
                    .str("Key", t.key())
                    .str("Value", t.value())
                    .build()
            })
            .collect();
        sort_unordered(&mut items);
        Value::Array(items)
    })
}

fn state(code: Option<&str>, message: Option<&str>) -> Value {
    Obj::new()
        .str("State", code)
        .str("StatusMessage", message)
        .build()
}

fn int(v: Option<i32>) -> Option<i64> {
    v.map(i64::from)
}

pub fn vpc(v: &t::Vpc) -> Value {
    Obj::new()
        .str("VpcId", v.vpc_id())
        .str("OwnerId", v.owner_id())
        .str("CidrBlock", v.cidr_block())
        .str("State", v.state().map(|s| s.as_str()))
        .str("DhcpOptionsId", v.dhcp_options_id())
        .str("InstanceTenancy", v.instance_tenancy().map(|s| s.as_str()))
        .bool("IsDefault", v.is_default())
        .list(
            "CidrBlockAssociationSet",
            &v.cidr_block_association_set,
            |a| {
                Obj::new()
                    .str("AssociationId", a.association_id())
                    .str("CidrBlock", a.cidr_block())
                    .val(
                        "CidrBlockState",
                        a.cidr_block_state()
                            .map(|s| state(s.state().map(|c| c.as_str()), s.status_message())),
                    )
                    .build()
            },
        )
        .list(
            "Ipv6CidrBlockAssociationSet",
            &v.ipv6_cidr_block_association_set,
            |a| {
                Obj::new()
                    .str("AssociationId", a.association_id())
                    .str("Ipv6CidrBlock", a.ipv6_cidr_block())
                    .str("NetworkBorderGroup", a.network_border_group())
                    .str("Ipv6Pool", a.ipv6_pool())
                    .val(
                        "Ipv6CidrBlockState",
                        a.ipv6_cidr_block_state()
                            .map(|s| state(s.state().map(|c| c.as_str()), s.status_message())),
                    )
                    .build()
            },
        )
        .val("Tags", tags(&v.tags))
        .build()
}

pub fn subnet(s: &t::Subnet) -> Value {
    Obj::new()
        .str("SubnetId", s.subnet_id())
        .str("SubnetArn", s.subnet_arn())
        .str("VpcId", s.vpc_id())
        .str("OwnerId", s.owner_id())
        .str("AvailabilityZone", s.availability_zone())
        .str("AvailabilityZoneId", s.availability_zone_id())
        .str("CidrBlock", s.cidr_block())
        .str("State", s.state().map(|x| x.as_str()))
        .bool("DefaultForAz", s.default_for_az())
        .bool("MapPublicIpOnLaunch", s.map_public_ip_on_launch())
        .bool("Ipv6Native", s.ipv6_native())
        .list(
            "Ipv6CidrBlockAssociationSet",
            &s.ipv6_cidr_block_association_set,
            |a| {
                Obj::new()
                    .str("AssociationId", a.association_id())
                    .str("Ipv6CidrBlock", a.ipv6_cidr_block())
                    .val(
                        "Ipv6CidrBlockState",
                        a.ipv6_cidr_block_state()
                            .map(|s| state(s.state().map(|c| c.as_str()), s.status_message())),
                    )
                    .build()
            },
        )
        .val("Tags", tags(&s.tags))
        .build()
}

fn route(r: &t::Route) -> Value {
    Obj::new()
        .str("DestinationCidrBlock", r.destination_cidr_block())
        .str("DestinationIpv6CidrBlock", r.destination_ipv6_cidr_block())
        .str("DestinationPrefixListId", r.destination_prefix_list_id())
        .str("GatewayId", r.gateway_id())
        .str("VpcPeeringConnectionId", r.vpc_peering_connection_id())
        .str("NatGatewayId", r.nat_gateway_id())
        .str("TransitGatewayId", r.transit_gateway_id())
        .str("NetworkInterfaceId", r.network_interface_id())
        .str("InstanceId", r.instance_id())
        .str("InstanceOwnerId", r.instance_owner_id())
        .str(
            "EgressOnlyInternetGatewayId",
            r.egress_only_internet_gateway_id(),
        )
        .str("CarrierGatewayId", r.carrier_gateway_id())
        .str("LocalGatewayId", r.local_gateway_id())
        .str("CoreNetworkArn", r.core_network_arn())
        .str("Origin", r.origin().map(|x| x.as_str()))
        .str("State", r.state().map(|x| x.as_str()))
        .build()
}

pub fn route_table(rt: &t::RouteTable) -> Value {
    Obj::new()
        .str("RouteTableId", rt.route_table_id())
        .str("VpcId", rt.vpc_id())
        .str("OwnerId", rt.owner_id())
        .list("Associations", &rt.associations, |a| {
            Obj::new()
                .bool("Main", a.main())
                .str("RouteTableAssociationId", a.route_table_association_id())
                .str("RouteTableId", a.route_table_id())
                .str("SubnetId", a.subnet_id())
                .str("GatewayId", a.gateway_id())
                .val(
                    "AssociationState",
                    a.association_state()
                        .map(|s| state(s.state().map(|c| c.as_str()), s.status_message())),
                )
                .build()
        })
        // Route order is kept: it breaks ties between equally long prefix-list routes.
        .list("Routes", &rt.routes, route)
        .val("Tags", tags(&rt.tags))
        .build()
}

fn permission(p: &t::IpPermission) -> Value {
    let sorted = |mut v: Vec<Value>| {
        sort_unordered(&mut v);
        Value::Array(v)
    };
    Obj::new()
        .str("IpProtocol", p.ip_protocol())
        .int("FromPort", int(p.from_port()))
        .int("ToPort", int(p.to_port()))
        .val(
            "IpRanges",
            p.ip_ranges.as_ref().map(|v| {
                sorted(
                    v.iter()
                        .map(|r| {
                            Obj::new()
                                .str("CidrIp", r.cidr_ip())
                                .str("Description", r.description())
                                .build()
                        })
                        .collect(),
                )
            }),
        )
        .val(
            "Ipv6Ranges",
            p.ipv6_ranges.as_ref().map(|v| {
                sorted(
                    v.iter()
                        .map(|r| {
                            Obj::new()
                                .str("CidrIpv6", r.cidr_ipv6())
                                .str("Description", r.description())
                                .build()
                        })
                        .collect(),
                )
            }),
        )
        .val(
            "PrefixListIds",
            p.prefix_list_ids.as_ref().map(|v| {
                sorted(
                    v.iter()
                        .map(|r| {
                            Obj::new()
                                .str("PrefixListId", r.prefix_list_id())
                                .str("Description", r.description())
                                .build()
                        })
                        .collect(),
                )
            }),
        )
        .val(
            "UserIdGroupPairs",
            p.user_id_group_pairs.as_ref().map(|v| {
                sorted(
                    v.iter()
                        .map(|g| {
                            Obj::new()
                                .str("GroupId", g.group_id())
                                .str("GroupName", g.group_name())
                                .str("UserId", g.user_id())
                                .str("VpcId", g.vpc_id())
                                .str("VpcPeeringConnectionId", g.vpc_peering_connection_id())
                                .str("PeeringStatus", g.peering_status())
                                .str("Description", g.description())
                                .build()
                        })
                        .collect(),
                )
            }),
        )
        .build()
}

pub fn security_group(sg: &t::SecurityGroup) -> Value {
    let rules = |v: &Option<Vec<t::IpPermission>>| {
        v.as_ref().map(|v| {
            let mut items: Vec<Value> = v.iter().map(permission).collect();
            sort_unordered(&mut items);
            Value::Array(items)
        })
    };
    Obj::new()
        .str("GroupId", sg.group_id())
        .str("GroupName", sg.group_name())
        .str("Description", sg.description())
        .str("VpcId", sg.vpc_id())
        .str("OwnerId", sg.owner_id())
        .str("SecurityGroupArn", sg.security_group_arn())
        .val("IpPermissions", rules(&sg.ip_permissions))
        .val("IpPermissionsEgress", rules(&sg.ip_permissions_egress))
        .val("Tags", tags(&sg.tags))
        .build()
}

pub fn network_acl(n: &t::NetworkAcl) -> Value {
    let entries = n.entries.as_ref().map(|v| {
        let mut v: Vec<&t::NetworkAclEntry> = v.iter().collect();
        // Evaluation is by rule number; AWS's order is not defined.
        v.sort_by_key(|e| (e.egress(), e.rule_number()));
        Value::Array(
            v.into_iter()
                .map(|e| {
                    Obj::new()
                        .int("RuleNumber", int(e.rule_number()))
                        .str("Protocol", e.protocol())
                        .str("RuleAction", e.rule_action().map(|x| x.as_str()))
                        .bool("Egress", e.egress())
                        .str("CidrBlock", e.cidr_block())
                        .str("Ipv6CidrBlock", e.ipv6_cidr_block())
                        .val(
                            "PortRange",
                            e.port_range().map(|p| {
                                Obj::new()
                                    .int("From", int(p.from()))
                                    .int("To", int(p.to()))
                                    .build()
                            }),
                        )
                        .val(
                            "IcmpTypeCode",
                            e.icmp_type_code().map(|c| {
                                Obj::new()
                                    .int("Code", int(c.code()))
                                    .int("Type", int(c.r#type()))
                                    .build()
                            }),
                        )
                        .build()
                })
                .collect(),
        )
    });
    Obj::new()
        .str("NetworkAclId", n.network_acl_id())
        .str("VpcId", n.vpc_id())
        .str("OwnerId", n.owner_id())
        .bool("IsDefault", n.is_default())
        .list("Associations", &n.associations, |a| {
            Obj::new()
                .str("NetworkAclAssociationId", a.network_acl_association_id())
                .str("NetworkAclId", a.network_acl_id())
                .str("SubnetId", a.subnet_id())
                .build()
        })
        .val("Entries", entries)
        .val("Tags", tags(&n.tags))
        .build()
}

pub fn network_interface(e: &t::NetworkInterface) -> Value {
    Obj::new()
        .str("NetworkInterfaceId", e.network_interface_id())
        .str("SubnetId", e.subnet_id())
        .str("VpcId", e.vpc_id())
        .str("OwnerId", e.owner_id())
        .str("AvailabilityZone", e.availability_zone())
        .str("Description", e.description())
        .str("InterfaceType", e.interface_type().map(|x| x.as_str()))
        .str("Status", e.status().map(|x| x.as_str()))
        .str("MacAddress", e.mac_address())
        .str("PrivateDnsName", e.private_dns_name())
        .str("PrivateIpAddress", e.private_ip_address())
        .bool("RequesterManaged", e.requester_managed())
        .str("RequesterId", e.requester_id())
        .bool("SourceDestCheck", e.source_dest_check())
        // Address order is kept: the primary address comes first.
        .list("PrivateIpAddresses", &e.private_ip_addresses, |a| {
            Obj::new()
                .str("PrivateIpAddress", a.private_ip_address())
                .str("PrivateDnsName", a.private_dns_name())
                .bool("Primary", a.primary())
                .build()
        })
        .list("Ipv6Addresses", &e.ipv6_addresses, |a| {
            Obj::new()
                .str("Ipv6Address", a.ipv6_address())
                .bool("IsPrimaryIpv6", a.is_primary_ipv6())
                .build()
        })
        .val(
            "Groups",
            e.groups.as_ref().map(|g| {
                let mut v: Vec<Value> = g
                    .iter()
                    .map(|g| {
                        Obj::new()
                            .str("GroupId", g.group_id())
                            .str("GroupName", g.group_name())
                            .build()
                    })
                    .collect();
                sort_unordered(&mut v);
                Value::Array(v)
            }),
        )
        .val(
            "Attachment",
            e.attachment().map(|a| {
                Obj::new()
                    .str("AttachmentId", a.attachment_id())
                    .str("InstanceId", a.instance_id())
                    .str("InstanceOwnerId", a.instance_owner_id())
                    .int("DeviceIndex", int(a.device_index()))
                    .str("Status", a.status().map(|x| x.as_str()))
                    .build()
            }),
        )
        .val("TagSet", tags(&e.tag_set))
        .build()
}

fn peering_side(i: &t::VpcPeeringConnectionVpcInfo) -> Value {
    Obj::new()
        .str("VpcId", i.vpc_id())
        .str("OwnerId", i.owner_id())
        .str("Region", i.region())
        .str("CidrBlock", i.cidr_block())
        .list("CidrBlockSet", &i.cidr_block_set, |c| {
            Obj::new().str("CidrBlock", c.cidr_block()).build()
        })
        .list("Ipv6CidrBlockSet", &i.ipv6_cidr_block_set, |c| {
            Obj::new().str("Ipv6CidrBlock", c.ipv6_cidr_block()).build()
        })
        .build()
}

pub fn vpc_peering_connection(p: &t::VpcPeeringConnection) -> Value {
    Obj::new()
        .str("VpcPeeringConnectionId", p.vpc_peering_connection_id())
        .val(
            "Status",
            p.status().map(|s| {
                Obj::new()
                    .str("Code", s.code().map(|c| c.as_str()))
                    .str("Message", s.message())
                    .build()
            }),
        )
        .val("RequesterVpcInfo", p.requester_vpc_info().map(peering_side))
        .val("AccepterVpcInfo", p.accepter_vpc_info().map(peering_side))
        .val("Tags", tags(&p.tags))
        .build()
}

pub fn managed_prefix_list(p: &t::ManagedPrefixList) -> Value {
    Obj::new()
        .str("PrefixListId", p.prefix_list_id())
        .str("PrefixListName", p.prefix_list_name())
        .str("PrefixListArn", p.prefix_list_arn())
        .str("OwnerId", p.owner_id())
        .str("AddressFamily", p.address_family())
        .str("State", p.state().map(|x| x.as_str()))
        .int("MaxEntries", int(p.max_entries()))
        .int("Version", p.version())
        .val("Tags", tags(&p.tags))
        .build()
}

pub fn prefix_list_entry(e: &t::PrefixListEntry) -> Value {
    Obj::new()
        .str("Cidr", e.cidr())
        .str("Description", e.description())
        .build()
}

#[cfg(test)]
mod tests {
    //! Round trip: SDK values built by hand (with what the emulator cannot produce — a
    //! `CidrBlockSet` on peerings, a blackhole route, a cross-account group reference) →
    //! JSON → the snapshot loader. Every field the loader reads must arrive.

    use super::*;
    use crate::json::to_bytes;
    use peerscope_core::model::{Model, RulePeer};
    use serde_json::json;

    const ME: &str = "111111111111";
    const PEER: &str = "222222222222";

    fn tag(k: &str, v: &str) -> t::Tag {
        t::Tag::builder().key(k).value(v).build()
    }

    fn route(dest: &str, state: t::RouteState) -> t::builders::RouteBuilder {
        t::Route::builder()
            .destination_cidr_block(dest)
            .state(state)
    }

    fn tcp(port: i32) -> t::builders::IpPermissionBuilder {
        t::IpPermission::builder()
            .ip_protocol("tcp")
            .from_port(port)
            .to_port(port)
    }

    fn files() -> Vec<(&'static str, Value)> {
        let v = t::Vpc::builder()
            .vpc_id("vpc-1")
            .owner_id(ME)
            .cidr_block("10.0.0.0/16")
            .is_default(false)
            .cidr_block_association_set(
                t::VpcCidrBlockAssociation::builder()
                    .cidr_block("10.0.0.0/16")
                    .cidr_block_state(
                        t::VpcCidrBlockState::builder()
                            .state(t::VpcCidrBlockStateCode::Associated)
                            .build(),
                    )
                    .build(),
            )
            .cidr_block_association_set(
                t::VpcCidrBlockAssociation::builder()
                    .cidr_block("10.5.0.0/16")
                    .cidr_block_state(
                        t::VpcCidrBlockState::builder()
                            .state(t::VpcCidrBlockStateCode::Associated)
                            .build(),
                    )
                    .build(),
            )
            .ipv6_cidr_block_association_set(
                t::VpcIpv6CidrBlockAssociation::builder()
                    .ipv6_cidr_block("2600:1f18::/56")
                    .ipv6_cidr_block_state(
                        t::VpcCidrBlockState::builder()
                            .state(t::VpcCidrBlockStateCode::Associated)
                            .build(),
                    )
                    .build(),
            )
            .tags(tag("Name", "a"))
            .build();
        let sn = t::Subnet::builder()
            .subnet_id("subnet-1")
            .vpc_id("vpc-1")
            .owner_id(ME)
            .availability_zone("us-east-1a")
            .cidr_block("10.0.1.0/24")
            .ipv6_cidr_block_association_set(
                t::SubnetIpv6CidrBlockAssociation::builder()
                    .ipv6_cidr_block("2600:1f18::/64")
                    .ipv6_cidr_block_state(
                        t::SubnetCidrBlockState::builder()
                            .state(t::SubnetCidrBlockStateCode::Associated)
                            .build(),
                    )
                    .build(),
            )
            .build();
        let table = t::RouteTable::builder()
            .route_table_id("rtb-1")
            .vpc_id("vpc-1")
            .owner_id(ME)
            .associations(
                t::RouteTableAssociation::builder()
                    .main(true)
                    .association_state(
                        t::RouteTableAssociationState::builder()
                            .state(t::RouteTableAssociationStateCode::Associated)
                            .build(),
                    )
                    .build(),
            )
            .routes(
                route("10.0.0.0/16", t::RouteState::Active)
                    .gateway_id("local")
                    .build(),
            )
            .routes(
                route("10.1.0.0/16", t::RouteState::Active)
                    .vpc_peering_connection_id("pcx-1")
                    .build(),
            )
            .routes(
                route("10.9.0.0/16", t::RouteState::Blackhole)
                    .vpc_peering_connection_id("pcx-1")
                    .build(),
            )
            .routes(
                t::Route::builder()
                    .destination_prefix_list_id("pl-1")
                    .vpc_peering_connection_id("pcx-1")
                    .state(t::RouteState::Active)
                    .build(),
            )
            .build();
        let group = t::SecurityGroup::builder()
            .group_id("sg-1")
            .group_name("app")
            .vpc_id("vpc-1")
            .owner_id(ME)
            .ip_permissions(
                tcp(443)
                    .user_id_group_pairs(
                        t::UserIdGroupPair::builder()
                            .user_id(PEER)
                            .group_id("sg-remote")
                            .vpc_peering_connection_id("pcx-1")
                            .build(),
                    )
                    .build(),
            )
            .ip_permissions(
                tcp(22)
                    .prefix_list_ids(t::PrefixListId::builder().prefix_list_id("pl-1").build())
                    .build(),
            )
            .ip_permissions(
                tcp(80)
                    .ipv6_ranges(t::Ipv6Range::builder().cidr_ipv6("::/0").build())
                    .build(),
            )
            .ip_permissions_egress(
                t::IpPermission::builder()
                    .ip_protocol("-1")
                    .ip_ranges(t::IpRange::builder().cidr_ip("0.0.0.0/0").build())
                    .build(),
            )
            .build();
        let entry = |n: i32, egress: bool, proto: &str| {
            t::NetworkAclEntry::builder()
                .rule_number(n)
                .egress(egress)
                .protocol(proto)
                .rule_action(t::RuleAction::Allow)
                .cidr_block("0.0.0.0/0")
        };
        let acl = t::NetworkAcl::builder()
            .network_acl_id("acl-1")
            .vpc_id("vpc-1")
            .owner_id(ME)
            .is_default(true)
            .associations(
                t::NetworkAclAssociation::builder()
                    .subnet_id("subnet-1")
                    .build(),
            )
            .entries(entry(100, true, "-1").build())
            .entries(
                entry(100, false, "6")
                    .port_range(t::PortRange::builder().from(443).to(443).build())
                    .build(),
            )
            .entries(
                t::NetworkAclEntry::builder()
                    .rule_number(101)
                    .egress(false)
                    .protocol("-1")
                    .rule_action(t::RuleAction::Deny)
                    .ipv6_cidr_block("::/0")
                    .build(),
            )
            .build();
        let eni = t::NetworkInterface::builder()
            .network_interface_id("eni-1")
            .subnet_id("subnet-1")
            .vpc_id("vpc-1")
            .owner_id(ME)
            .availability_zone("us-east-1a")
            .private_ip_address("10.0.1.10")
            .private_ip_addresses(
                t::NetworkInterfacePrivateIpAddress::builder()
                    .private_ip_address("10.0.1.10")
                    .primary(true)
                    .build(),
            )
            .private_ip_addresses(
                t::NetworkInterfacePrivateIpAddress::builder()
                    .private_ip_address("10.0.1.11")
                    .build(),
            )
            .ipv6_addresses(
                t::NetworkInterfaceIpv6Address::builder()
                    .ipv6_address("2600:1f18::10")
                    .build(),
            )
            .groups(t::GroupIdentifier::builder().group_id("sg-1").build())
            .attachment(
                t::NetworkInterfaceAttachment::builder()
                    .instance_id("i-1")
                    .device_index(0)
                    .build(),
            )
            .build();
        let side = |vpc: &str, owner: &str, region: &str, cidrs: &[&str]| {
            let mut b = t::VpcPeeringConnectionVpcInfo::builder()
                .vpc_id(vpc)
                .owner_id(owner)
                .region(region)
                .cidr_block(cidrs[0]);
            for c in cidrs {
                b = b.cidr_block_set(t::CidrBlock::builder().cidr_block(*c).build());
            }
            b.build()
        };
        let peering = t::VpcPeeringConnection::builder()
            .vpc_peering_connection_id("pcx-1")
            .status(
                t::VpcPeeringConnectionStateReason::builder()
                    .code(t::VpcPeeringConnectionStateReasonCode::Active)
                    .build(),
            )
            .requester_vpc_info(side(
                "vpc-1",
                ME,
                "us-east-1",
                &["10.0.0.0/16", "10.5.0.0/16"],
            ))
            .accepter_vpc_info(side(
                "vpc-2",
                PEER,
                "eu-west-1",
                &["10.1.0.0/16", "10.2.0.0/16"],
            ))
            .build();
        let list = t::ManagedPrefixList::builder()
            .prefix_list_id("pl-1")
            .prefix_list_name("corp")
            .owner_id(ME)
            .build();
        let entries: Vec<Value> = ["192.168.0.0/24", "192.168.1.0/24"]
            .iter()
            .map(|c| prefix_list_entry(&t::PrefixListEntry::builder().cidr(*c).build()))
            .collect();
        vec![
            ("describe-vpcs.json", json!({"Vpcs": [vpc(&v)]})),
            ("describe-subnets.json", json!({"Subnets": [subnet(&sn)]})),
            (
                "describe-route-tables.json",
                json!({"RouteTables": [route_table(&table)]}),
            ),
            (
                "describe-security-groups.json",
                json!({"SecurityGroups": [security_group(&group)]}),
            ),
            (
                "describe-network-acls.json",
                json!({"NetworkAcls": [network_acl(&acl)]}),
            ),
            (
                "describe-network-interfaces.json",
                json!({"NetworkInterfaces": [network_interface(&eni)]}),
            ),
            (
                "describe-vpc-peering-connections.json",
                json!({"VpcPeeringConnections": [vpc_peering_connection(&peering)]}),
            ),
            (
                "describe-managed-prefix-lists.json",
                json!({"PrefixLists": [managed_prefix_list(&list)]}),
            ),
            (
                "get-managed-prefix-list-entries-pl-1.json",
                json!({"PrefixListId": "pl-1", "Entries": entries}),
            ),
        ]
    }

    fn load_round_trip() -> (Model, Vec<peerscope_core::diagnostics::Diagnostic>) {
        let dir = tempfile::tempdir().unwrap();
        let region = dir.path().join(ME).join("us-east-1");
        std::fs::create_dir_all(&region).unwrap();
        for (name, body) in files() {
            std::fs::write(region.join(name), to_bytes(body)).unwrap();
        }
        let loaded = peerscope_core::snapshot::load(dir.path()).unwrap();
        (loaded.model, loaded.diagnostics)
    }

    fn strs<T: std::fmt::Display>(v: &[T]) -> Vec<String> {
        v.iter().map(T::to_string).collect()
    }

    #[test]
    fn every_field_the_loader_reads_arrives() {
        use peerscope_core::diagnostics::Code;
        let (model, diags) = load_round_trip();
        let bad: Vec<_> = diags
            .iter()
            .filter(|d| {
                matches!(
                    d.code,
                    Code::MalformedJson
                        | Code::NotAResponse
                        | Code::UnknownKey
                        | Code::MissingField
                        | Code::InvalidValue
                        | Code::UnknownLocation
                )
            })
            .collect();
        assert!(bad.is_empty(), "{bad:#?}");

        let vpc = model.vpcs.values().next().unwrap();
        assert_eq!(
            strs(&vpc.cidrs),
            ["10.0.0.0/16", "10.5.0.0/16", "2600:1f18::/56"]
        );
        let subnet = model.subnets.values().next().unwrap();
        assert_eq!(strs(&subnet.cidrs), ["10.0.1.0/24", "2600:1f18::/64"]);

        let table = model.route_tables.values().next().unwrap();
        let routes: Vec<(String, bool)> = table
            .routes
            .iter()
            .map(|r| (r.to_string(), r.blackhole))
            .collect();
        assert_eq!(routes.len(), 4, "{routes:?}");
        assert!(
            routes
                .iter()
                .any(|(r, b)| r.starts_with("10.9.0.0/16") && *b),
            "{routes:?}"
        );
        assert!(
            routes.iter().any(|(r, _)| r.starts_with("pl-1")),
            "{routes:?}"
        );

        // The peering's CidrBlockSet, not just its CidrBlock.
        let pcx = model.peerings.values().next().unwrap();
        assert!(pcx.is_active());
        assert_eq!(strs(&pcx.accepter.cidrs), ["10.1.0.0/16", "10.2.0.0/16"]);
        assert_eq!(strs(&pcx.requester.cidrs), ["10.0.0.0/16", "10.5.0.0/16"]);
        assert_eq!(
            pcx.accepter
                .owner
                .as_ref()
                .map(|o| o.to_string())
                .as_deref(),
            Some(PEER)
        );

        // A rule naming another account's group, a prefix list and an IPv6 range.
        let sg = model.security_groups.values().next().unwrap();
        let peers: Vec<String> = sg.ingress.iter().map(|r| r.peer.to_string()).collect();
        assert!(
            sg.ingress
                .iter()
                .any(|r| matches!(&r.peer, RulePeer::Group(g) if g.as_str() == "sg-remote")),
            "{peers:?}"
        );
        assert!(
            sg.ingress
                .iter()
                .any(|r| matches!(&r.peer, RulePeer::PrefixList(p) if p.as_str() == "pl-1")),
            "{peers:?}"
        );
        assert!(peers.contains(&"::/0".to_owned()), "{peers:?}");
        assert_eq!(sg.egress.len(), 1);

        let acl = model.network_acls.values().next().unwrap();
        let n = format!("{acl:?}");
        assert!(n.contains("subnet-1"), "{n}");

        let eni = model.network_interfaces.values().next().unwrap();
        assert_eq!(
            strs(&eni.addresses),
            ["10.0.1.10", "10.0.1.11", "2600:1f18::10"]
        );
        assert_eq!(strs(&eni.groups), ["sg-1"]);
        assert_eq!(
            eni.instance.as_ref().map(|i| i.to_string()).as_deref(),
            Some("i-1")
        );

        let pl = model.prefix_lists.values().next().unwrap();
        assert!(pl.entries_known);
        assert_eq!(strs(&pl.cidrs), ["192.168.0.0/24", "192.168.1.0/24"]);
    }

    #[test]
    fn rule_and_tag_order_does_not_change_the_bytes() {
        let a = t::SecurityGroup::builder()
            .group_id("sg-1")
            .ip_permissions(tcp(22).build())
            .ip_permissions(tcp(443).build())
            .tags(tag("b", "2"))
            .tags(tag("a", "1"))
            .build();
        let b = t::SecurityGroup::builder()
            .group_id("sg-1")
            .ip_permissions(tcp(443).build())
            .ip_permissions(tcp(22).build())
            .tags(tag("a", "1"))
            .tags(tag("b", "2"))
            .build();
        assert_eq!(to_bytes(security_group(&a)), to_bytes(security_group(&b)));
    }
}
