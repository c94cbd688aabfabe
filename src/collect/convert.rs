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
