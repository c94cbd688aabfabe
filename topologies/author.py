#!/usr/bin/env python3
"""Author peerscope's example topologies (standard library only, deterministic).

Writes, for every topology, the raw `aws ec2 describe-*` JSON of each account and
region under `topologies/<name>/<account_id>/<region>/`, plus
`topologies/<name>/expected-flows.jsonl` (the golden flows).  The README.md of each
topology is hand-written and is not touched by this script.

Ids are derived from a hash of (topology, object name), so a re-run produces the same
bytes.  A peering connection is built once and written identically into the
requester's and the accepter's folder, as AWS shows it to both.

    python3 topologies/author.py          # regenerate all topologies
"""

import hashlib
import ipaddress
import json
import os
import re
import shutil

HERE = os.path.dirname(os.path.abspath(__file__))

ATTACH_TIME = "2024-05-14T09:12:31+00:00"
CREATE_TIME = "2024-05-14T09:02:11+00:00"


def hexid(*parts, n=16):
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:n]


def name_tags(name, **extra):
    tags = [{"Key": "Name", "Value": name}]
    for k, v in sorted(extra.items()):
        tags.append({"Key": k, "Value": v})
    return tags


def az_id(az):
    # us-east-1a -> use1-az1, eu-west-1b -> euw1-az2, us-west-2a -> usw2-az1
    region, letter = az[:-1], az[-1]
    geo, direction, num = region.split("-")
    short = geo + {"east": "e", "west": "w", "north": "n", "south": "s", "central": "c"}[direction] + num
    return f"{short}-az{ord(letter) - ord('a') + 1}"


def private_dns(ip, region):
    host = "ip-" + ip.replace(".", "-")
    if region == "us-east-1":
        return f"{host}.ec2.internal"
    return f"{host}.{region}.compute.internal"


def is_v6(cidr):
    return ":" in cidr


# --------------------------------------------------------------------------- model


class SG:
    def __init__(self, vpc, name, gid):
        self.vpc = vpc
        self.name = name
        self.id = gid


class Subnet:
    def __init__(self, vpc, name, sid, cidr, az, ipv6):
        self.vpc = vpc
        self.name = name
        self.id = sid
        self.cidr = cidr
        self.az = az
        self.ipv6 = ipv6
        self.enis = 0


class VPC:
    def __init__(self, topo, acct, region, name, cidrs, ipv6=None):
        self.topo = topo
        self.acct = acct
        self.region = region
        self.name = name
        self.cidrs = list(cidrs)
        self.ipv6 = list(ipv6 or [])
        self.id = topo.rid("vpc", name)
        self.subnets = []
        self.route_tables = []  # [name, id, routes, subnets, main]
        self.nacls = []  # [name, id, entries, subnets, default]
        self.sgs = []  # [SG, description, ingress, egress]
        self.main_rt = self.route_table(f"{name}-main", [], [], main=True)
        self.default_sg = self.sg(
            "default",
            "default VPC security group",
            ingress=[perm("-1", groups=["self"])],
            egress=[perm("-1", cidrs=["0.0.0.0/0"], v6=["::/0"] if self.ipv6 else [])],
            tag=f"{name}-default",
        )
        topo.vpcs.append(self)

    # -- builders
    def subnet(self, name, cidr, az_letter, ipv6=None):
        s = Subnet(self, name, self.topo.rid("subnet", name), cidr, self.region + az_letter, ipv6)
        self.subnets.append(s)
        return s

    def route_table(self, name, routes, subnets, main=False):
        rt = [name, self.topo.rid("rtb", name), list(routes), list(subnets), main]
        self.route_tables.append(rt)
        return rt

    def add_main_routes(self, routes):
        self.main_rt[2].extend(routes)

    def nacl(self, name, entries, subnets):
        self.nacls.append([name, self.topo.rid("acl", name), entries, list(subnets), False])

    def sg(self, name, description, ingress, egress, tag=None):
        g = SG(self, name, self.topo.rid("sg", tag or name))
        self.sgs.append([g, description, ingress, egress, tag or name])
        return g

    def eni(self, subnet, name, ip, sgs, ipv6=(), secondary=(), description=None, instance=True):
        subnet.enis += 1
        eid = self.topo.rid("eni", name)
        addrs = [{"Primary": True, "PrivateDnsName": private_dns(ip, self.region), "PrivateIpAddress": ip}]
        for sip in secondary:
            addrs.append({"Primary": False, "PrivateDnsName": private_dns(sip, self.region), "PrivateIpAddress": sip})
        obj = {
            "AvailabilityZone": subnet.az,
            "Description": description if description is not None else "Primary network interface",
            "Groups": [{"GroupId": g.id, "GroupName": g.name} for g in sgs],
            "InterfaceType": "interface",
            "Ipv6Addresses": [{"IsPrimaryIpv6": False, "Ipv6Address": a} for a in ipv6],
            "MacAddress": "0e:" + ":".join(hexid("mac", self.topo.name, name, n=10)[i:i + 2] for i in range(0, 10, 2)),
            "NetworkInterfaceId": eid,
            "OwnerId": self.acct,
            "PrivateDnsName": private_dns(ip, self.region),
            "PrivateIpAddress": ip,
            "PrivateIpAddresses": addrs,
            "RequesterManaged": False,
            "SourceDestCheck": True,
            "Status": "in-use",
            "SubnetId": subnet.id,
            "TagSet": name_tags(name),
            "VpcId": self.id,
        }
        if instance:
            obj["Attachment"] = {
                "AttachTime": ATTACH_TIME,
                "AttachmentId": self.topo.rid("eni-attach", name),
                "DeleteOnTermination": True,
                "DeviceIndex": 0,
                "InstanceId": self.topo.rid("i", name),
                "InstanceOwnerId": self.acct,
                "NetworkCardIndex": 0,
                "Status": "attached",
            }
        self.topo.add(self.acct, self.region, "NetworkInterfaces", obj)
        return eid

    def nat_gateway(self, subnet, name, ip):
        """A NAT gateway: only its ENI is dumped (describe-nat-gateways is not collected)."""
        nat_id = self.topo.rid("nat", name)
        subnet.enis += 1
        eid = self.topo.rid("eni", name)
        self.topo.add(self.acct, self.region, "NetworkInterfaces", {
            "Attachment": {
                "AttachmentId": self.topo.rid("ela-attach", name),
                "DeleteOnTermination": False,
                "DeviceIndex": 1,
                "InstanceOwnerId": "amazon-aws",
                "Status": "attached",
            },
            "AvailabilityZone": subnet.az,
            "Description": f"Interface for NAT Gateway {nat_id}",
            "Groups": [],
            "InterfaceType": "nat_gateway",
            "Ipv6Addresses": [],
            "MacAddress": "0e:" + ":".join(hexid("mac", self.topo.name, name, n=10)[i:i + 2] for i in range(0, 10, 2)),
            "NetworkInterfaceId": eid,
            "OwnerId": self.acct,
            "PrivateDnsName": private_dns(ip, self.region),
            "PrivateIpAddress": ip,
            "PrivateIpAddresses": [{"Primary": True, "PrivateDnsName": private_dns(ip, self.region), "PrivateIpAddress": ip}],
            "RequesterId": "036872051663",
            "RequesterManaged": True,
            "SourceDestCheck": False,
            "Status": "in-use",
            "SubnetId": subnet.id,
            "TagSet": [],
            "VpcId": self.id,
        })
        return nat_id

    # -- emit
    def emit(self):
        t, a, r = self.topo, self.acct, self.region
        vpc = {
            "CidrBlock": self.cidrs[0],
            "CidrBlockAssociationSet": [
                {"AssociationId": t.rid("vpc-cidr-assoc", self.name, c), "CidrBlock": c, "CidrBlockState": {"State": "associated"}}
                for c in self.cidrs
            ],
            "DhcpOptionsId": t.rid("dopt", a, r),
            "InstanceTenancy": "default",
            "IsDefault": False,
            "OwnerId": a,
            "State": "available",
            "Tags": name_tags(self.name),
            "VpcId": self.id,
        }
        if self.ipv6:
            vpc["Ipv6CidrBlockAssociationSet"] = [
                {
                    "AssociationId": t.rid("vpc-cidr-assoc", self.name, c),
                    "Ipv6CidrBlock": c,
                    "Ipv6CidrBlockState": {"State": "associated"},
                    "Ipv6Pool": "Amazon",
                    "NetworkBorderGroup": r,
                }
                for c in self.ipv6
            ]
        t.add(a, r, "Vpcs", vpc)

        for s in self.subnets:
            t.add(a, r, "Subnets", {
                "AssignIpv6AddressOnCreation": False,
                "AvailabilityZone": s.az,
                "AvailabilityZoneId": az_id(s.az),
                "AvailableIpAddressCount": ipaddress.ip_network(s.cidr).num_addresses - 5 - s.enis,
                "CidrBlock": s.cidr,
                "DefaultForAz": False,
                "EnableDns64": False,
                "Ipv6CidrBlockAssociationSet": [] if not s.ipv6 else [{
                    "AssociationId": t.rid("subnet-cidr-assoc", s.name, s.ipv6),
                    "Ipv6CidrBlock": s.ipv6,
                    "Ipv6CidrBlockState": {"State": "associated"},
                }],
                "Ipv6Native": False,
                "MapCustomerOwnedIpOnLaunch": False,
                "MapPublicIpOnLaunch": False,
                "OwnerId": a,
                "PrivateDnsNameOptionsOnLaunch": {
                    "EnableResourceNameDnsAAAARecord": False,
                    "EnableResourceNameDnsARecord": False,
                    "HostnameType": "ip-name",
                },
                "State": "available",
                "SubnetArn": f"arn:aws:ec2:{r}:{a}:subnet/{s.id}",
                "SubnetId": s.id,
                "Tags": name_tags(s.name),
                "VpcId": self.id,
            })

        for name, rtid, routes, subnets, main in self.route_tables:
            assocs = []
            if main:
                assocs.append({
                    "AssociationState": {"State": "associated"},
                    "Main": True,
                    "RouteTableAssociationId": t.rid("rtbassoc", name, "main"),
                    "RouteTableId": rtid,
                })
            for s in subnets:
                assocs.append({
                    "AssociationState": {"State": "associated"},
                    "Main": False,
                    "RouteTableAssociationId": t.rid("rtbassoc", name, s.name),
                    "RouteTableId": rtid,
                    "SubnetId": s.id,
                })
            local = [{"DestinationCidrBlock": c, "GatewayId": "local", "Origin": "CreateRouteTable", "State": "active"} for c in self.cidrs]
            local += [{"DestinationIpv6CidrBlock": c, "GatewayId": "local", "Origin": "CreateRouteTable", "State": "active"} for c in self.ipv6]
            t.add(a, r, "RouteTables", {
                "Associations": assocs,
                "OwnerId": a,
                "PropagatingVgws": [],
                "RouteTableId": rtid,
                "Routes": local + [route_obj(x) for x in routes],
                "Tags": name_tags(name),
                "VpcId": self.id,
            })

        custom = {s.id for n in self.nacls for s in n[3]}
        default_entries = [
            entry(True, 100, "allow", "-1", "0.0.0.0/0"),
            entry(True, 32767, "deny", "-1", "0.0.0.0/0"),
            entry(False, 100, "allow", "-1", "0.0.0.0/0"),
            entry(False, 32767, "deny", "-1", "0.0.0.0/0"),
        ]
        if self.ipv6:
            default_entries += [
                entry(True, 101, "allow", "-1", "::/0"),
                entry(True, 32768, "deny", "-1", "::/0"),
                entry(False, 101, "allow", "-1", "::/0"),
                entry(False, 32768, "deny", "-1", "::/0"),
            ]
        nacls = [[f"{self.name}-default", t.rid("acl", self.name + "-default"), default_entries,
                  [s for s in self.subnets if s.id not in custom], True]] + self.nacls
        for name, aid, entries, subnets, default in nacls:
            t.add(a, r, "NetworkAcls", {
                "Associations": [
                    {"NetworkAclAssociationId": t.rid("aclassoc", name, s.name), "NetworkAclId": aid, "SubnetId": s.id}
                    for s in subnets
                ],
                "Entries": sorted(entries, key=lambda e: (not e["Egress"], e["RuleNumber"])),
                "IsDefault": default,
                "NetworkAclId": aid,
                "OwnerId": a,
                "Tags": name_tags(name),
                "VpcId": self.id,
            })

        for g, desc, ingress, egress, tag in self.sgs:
            t.add(a, r, "SecurityGroups", {
                "Description": desc,
                "GroupId": g.id,
                "GroupName": g.name,
                "IpPermissions": [p.render(g) for p in ingress],
                "IpPermissionsEgress": [p.render(g) for p in egress],
                "OwnerId": a,
                "SecurityGroupArn": f"arn:aws:ec2:{r}:{a}:security-group/{g.id}",
                "Tags": name_tags(tag),
                "VpcId": self.id,
            })


def entry(egress, rule, action, proto, cidr, ports=None):
    e = {"Egress": egress, "Protocol": proto, "RuleAction": action, "RuleNumber": rule}
    e["Ipv6CidrBlock" if is_v6(cidr) else "CidrBlock"] = cidr
    if ports is not None:
        e["PortRange"] = {"From": ports[0], "To": ports[1]}
    if proto in ("1", "58"):
        e["IcmpTypeCode"] = {"Code": -1, "Type": -1}
    return e


def ingress_rule(rule, action, proto, cidr, ports=None):
    return entry(False, rule, action, proto, cidr, ports)


def egress_rule(rule, action, proto, cidr, ports=None):
    return entry(True, rule, action, proto, cidr, ports)


class perm:
    """One IpPermission.  groups: SG handles, "self", or (SG, pcx_id) for a peered group."""

    def __init__(self, proto, ports=None, cidrs=(), v6=(), pls=(), groups=(), desc=None):
        self.proto, self.ports, self.cidrs, self.v6, self.pls, self.groups, self.desc = proto, ports, cidrs, v6, pls, groups, desc

    def render(self, owner):
        p = {"IpProtocol": self.proto}
        if self.proto != "-1":
            lo, hi = self.ports if self.ports is not None else (-1, -1)
            p["FromPort"], p["ToPort"] = lo, hi
        d = {"Description": self.desc} if self.desc else {}
        p["IpRanges"] = [dict(CidrIp=c, **d) for c in self.cidrs]
        p["Ipv6Ranges"] = [dict(CidrIpv6=c, **d) for c in self.v6]
        p["PrefixListIds"] = [dict(PrefixListId=x, **d) for x in self.pls]
        pairs = []
        for g in self.groups:
            if g == "self":
                pairs.append({"GroupId": owner.id, "UserId": owner.vpc.acct})
            elif isinstance(g, tuple):
                sg, pcx = g
                pairs.append(dict(GroupId=sg.id, PeeringStatus="active", UserId=sg.vpc.acct, VpcId=sg.vpc.id,
                                  VpcPeeringConnectionId=pcx, **d))
            else:
                pairs.append(dict(GroupId=g.id, UserId=g.vpc.acct, **d))
        p["UserIdGroupPairs"] = pairs
        return p


# Routes: (destination, target_key, target_id[, state])
def route_obj(x):
    dest, key, target = x[0], x[1], x[2]
    state = x[3] if len(x) > 3 else "active"
    if dest.startswith("pl-"):
        o = {"DestinationPrefixListId": dest}
    elif is_v6(dest):
        o = {"DestinationIpv6CidrBlock": dest}
    else:
        o = {"DestinationCidrBlock": dest}
    o[key] = target
    o["Origin"] = "CreateRoute"
    o["State"] = state
    return o


def via_pcx(dest, pcx, state="active"):
    return (dest, "VpcPeeringConnectionId", pcx, state)


class Topology:
    def __init__(self, name):
        self.name = name
        self.files = {}
        self.vpcs = []
        self.peerings = []
        self.flows = []

    def rid(self, prefix, *parts):
        return f"{prefix}-0{hexid(prefix, self.name, *parts)}"

    def add(self, acct, region, key, obj):
        self.files.setdefault((acct, region), {}).setdefault(key, []).append(obj)

    def vpc(self, *a, **k):
        return VPC(self, *a, **k)

    def peering(self, name, requester, accepter, status="active"):
        pid = self.rid("pcx", name)
        self.peerings.append((name, pid, requester, accepter, status))
        return pid

    def prefix_list(self, acct, region, name, family, entries, max_entries=10):
        plid = f"pl-0{hexid('pl', self.name, name)}"
        self.add(acct, region, "PrefixLists", {
            "AddressFamily": family,
            "MaxEntries": max_entries,
            "OwnerId": acct,
            "PrefixListArn": f"arn:aws:ec2:{region}:{acct}:prefix-list/{plid}",
            "PrefixListId": plid,
            "PrefixListName": name,
            "State": "create-complete",
            "Tags": name_tags(name),
            "Version": 3,
        })
        self.files[(acct, region)].setdefault("_entries", {})[plid] = [
            {"Cidr": c, "Description": d} for c, d in entries
        ]
        return plid

    def aws_prefix_list(self, acct, region, plid, service):
        """An AWS-managed list as it also shows in describe-managed-prefix-lists (entries not dumped)."""
        self.add(acct, region, "PrefixLists", {
            "AddressFamily": "IPv4",
            "OwnerId": "AWS",
            "PrefixListArn": f"arn:aws:ec2:{region}:aws:prefix-list/{plid}",
            "PrefixListId": plid,
            "PrefixListName": f"com.amazonaws.{region}.{service}",
            "State": "create-complete",
            "Tags": [],
            "Version": 1,
        })

    def flow(self, name, src, src_vpc, dst, proto, port, layer, delivered, connectable=None, reason=None):
        if connectable is None:
            connectable = delivered and reason is None
        assert layer in ("network", "full")
        assert (not delivered and reason and not connectable) or (delivered and connectable and reason is None) \
            or (delivered and not connectable and reason in ("return-route", "return-nacl")), name
        self.flows.append({
            "name": name,
            "src": src,
            "src_vpc": src_vpc.id,
            "dst": dst,
            "proto": proto,
            "port": port,
            "layer": layer,
            "expect": {"delivered": delivered, "connectable": connectable, "reason": reason},
        })

    def peering_side(self, v, status):
        side = {"OwnerId": v.acct, "Region": v.region, "VpcId": v.id}
        if status == "deleted":
            return side  # AWS drops the CIDRs and options of deleted connections
        side["CidrBlock"] = v.cidrs[0]
        side["CidrBlockSet"] = [{"CidrBlock": c} for c in v.cidrs]
        if v.ipv6:
            side["Ipv6CidrBlockSet"] = [{"Ipv6CidrBlock": c} for c in v.ipv6]
        side["PeeringOptions"] = {
            "AllowDnsResolutionFromRemoteVpc": False,
            "AllowEgressFromLocalClassicLinkToRemoteVpc": False,
            "AllowEgressFromLocalVpcToRemoteClassicLink": False,
        }
        return side

    def write(self):
        for v in self.vpcs:
            v.emit()
        for name, pid, req, acc, status in self.peerings:
            rec = {
                "AccepterVpcInfo": self.peering_side(acc, status),
                "RequesterVpcInfo": self.peering_side(req, status),
                "Status": {"Code": status, "Message": "Active" if status == "active" else f"Deleted by {acc.acct}"},
                "Tags": name_tags(name),
                "VpcPeeringConnectionId": pid,
            }
            for v in (req, acc):
                if not any(x is rec for x in self.files.get((v.acct, v.region), {}).get("VpcPeeringConnections", [])):
                    self.add(v.acct, v.region, "VpcPeeringConnections", rec)

        root = os.path.join(HERE, self.name)
        os.makedirs(root, exist_ok=True)
        for d in os.listdir(root):
            if re.fullmatch(r"\d{12}", d):
                shutil.rmtree(os.path.join(root, d))
        files = {
            "Vpcs": ("describe-vpcs.json", "VpcId"),
            "Subnets": ("describe-subnets.json", "SubnetId"),
            "RouteTables": ("describe-route-tables.json", "RouteTableId"),
            "SecurityGroups": ("describe-security-groups.json", "GroupId"),
            "NetworkAcls": ("describe-network-acls.json", "NetworkAclId"),
            "NetworkInterfaces": ("describe-network-interfaces.json", "NetworkInterfaceId"),
            "VpcPeeringConnections": ("describe-vpc-peering-connections.json", "VpcPeeringConnectionId"),
            "PrefixLists": ("describe-managed-prefix-lists.json", "PrefixListId"),
        }
        for (acct, region), kinds in sorted(self.files.items()):
            d = os.path.join(root, acct, region)
            os.makedirs(d)
            for key, (fname, idkey) in files.items():
                if key not in kinds and key == "PrefixLists":
                    continue
                objs = sorted(kinds.get(key, []), key=lambda o: o[idkey])
                dump(os.path.join(d, fname), {key: objs})
            for plid, entries in sorted(kinds.get("_entries", {}).items()):
                dump(os.path.join(d, f"get-managed-prefix-list-entries-{plid}.json"), {"Entries": entries, "PrefixListId": plid})
        with open(os.path.join(root, "expected-flows.jsonl"), "w") as f:
            for fl in self.flows:
                f.write(json.dumps(fl) + "\n")


def dump(path, obj):
    with open(path, "w") as f:
        json.dump(obj, f, sort_keys=True, indent=2)
        f.write("\n")


# Fake accounts
HUB, PROD, DEV, AUDIT, PROD_EU, PARTNER = (
    "111111111111", "222222222222", "333333333333", "444444444444", "555555555555", "999999999999")

ALL_TCP = (0, 65535)
EPHEMERAL = (1024, 65535)


# ===================================================================== (a) hub-and-spoke


def hub_and_spoke():
    t = Topology("hub-and-spoke")
    R = "us-east-1"

    hub = t.vpc(HUB, R, "shared-services", ["10.0.0.0/16"])
    prod = t.vpc(PROD, R, "prod", ["10.1.0.0/16"])
    dev = t.vpc(DEV, R, "dev", ["10.2.0.0/16"])
    audit = t.vpc(AUDIT, R, "audit", ["10.3.0.0/16"])

    pcx_hub_prod = t.peering("shared-services-to-prod", hub, prod)
    pcx_hub_dev = t.peering("shared-services-to-dev", hub, dev)
    pcx_hub_audit = t.peering("shared-services-to-audit", hub, audit)
    pcx_audit_prod = t.peering("audit-to-prod-reporting", audit, prod)

    # --- hub (shared services)
    h_dns = hub.subnet("hub-dns-a", "10.0.1.0/24", "a")
    h_art = hub.subnet("hub-artifacts-a", "10.0.2.0/24", "a")
    h_mon = hub.subnet("hub-monitoring-b", "10.0.3.0/24", "b")
    hub.route_table("hub-private", [
        via_pcx("10.1.0.0/16", pcx_hub_prod),
        via_pcx("10.2.0.0/16", pcx_hub_dev),
        via_pcx("10.3.0.0/16", pcx_hub_audit),
    ], [h_dns, h_art, h_mon])
    hub.nacl("hub-dns-nacl", [
        ingress_rule(100, "allow", "17", "10.0.0.0/8", (53, 53)),
        ingress_rule(110, "allow", "6", "10.0.0.0/8", (53, 53)),
        ingress_rule(120, "allow", "17", "10.0.0.0/8", EPHEMERAL),
        ingress_rule(32767, "deny", "-1", "0.0.0.0/0"),
        # replies to udp clients only: the tcp ephemeral range was forgotten
        egress_rule(100, "allow", "17", "10.0.0.0/8", EPHEMERAL),
        egress_rule(110, "allow", "17", "10.0.0.0/8", (53, 53)),
        egress_rule(32767, "deny", "-1", "0.0.0.0/0"),
    ], [h_dns])
    hub.nacl("hub-artifacts-nacl", [
        ingress_rule(90, "deny", "6", "10.2.0.0/16", (22, 22)),
        ingress_rule(100, "allow", "6", "10.0.0.0/8", (443, 443)),
        ingress_rule(110, "allow", "6", "10.0.0.0/8", (22, 22)),
        ingress_rule(120, "allow", "6", "10.0.0.0/8", EPHEMERAL),
        ingress_rule(32767, "deny", "-1", "0.0.0.0/0"),
        egress_rule(100, "allow", "6", "10.0.0.0/8", EPHEMERAL),
        egress_rule(110, "allow", "6", "10.0.0.0/8", (443, 443)),
        egress_rule(120, "allow", "17", "10.0.0.0/8", (53, 53)),
        egress_rule(32767, "deny", "-1", "0.0.0.0/0"),
    ], [h_art])
    sg_dns = hub.sg("hub-dns-resolvers", "Route 53 Resolver-style DNS forwarders", ingress=[
        perm("udp", (53, 53), cidrs=["10.0.0.0/8"], desc="DNS from the org"),
        perm("tcp", (53, 53), cidrs=["10.0.0.0/8"], desc="DNS over TCP from the org"),
    ], egress=[perm("-1", cidrs=["0.0.0.0/0"])])
    sg_art = hub.sg("hub-artifact-repo", "Artifact repository (HTTPS)", ingress=[
        perm("tcp", (443, 443), cidrs=["10.1.0.0/16"], desc="prod"),
        perm("tcp", (443, 443), cidrs=["10.2.0.0/16"], desc="dev"),
    ], egress=[perm("-1", cidrs=["0.0.0.0/0"])])
    sg_mon = hub.sg("hub-monitoring", "Prometheus and Grafana", ingress=[
        perm("tcp", (3000, 3000), cidrs=["10.0.0.0/8"], desc="Grafana (meant for shared-services staff only)"),
    ], egress=[
        perm("tcp", (9100, 9100), cidrs=["10.0.0.0/8"], desc="node_exporter scrapes"),
        perm("udp", (53, 53), cidrs=["10.0.1.0/24"], desc="DNS"),
    ])
    hub.eni(h_dns, "hub-dns-1", "10.0.1.53", [sg_dns])
    hub.eni(h_dns, "hub-dns-2", "10.0.1.54", [sg_dns])
    hub.eni(h_art, "hub-artifacts-1", "10.0.2.20", [sg_art])
    hub.eni(h_mon, "hub-prometheus-1", "10.0.3.30", [sg_mon])

    # --- prod
    p_app = prod.subnet("prod-app-a", "10.1.1.0/24", "a")
    p_db = prod.subnet("prod-db-a", "10.1.2.0/24", "a")
    p_rep = prod.subnet("prod-reporting-b", "10.1.3.0/24", "b")
    prod.add_main_routes([
        via_pcx("10.0.0.0/16", pcx_hub_prod),
        via_pcx("10.2.0.0/16", pcx_hub_prod),  # "reach dev through the hub": peering is not transitive
    ])
    prod.route_table("prod-db", [via_pcx("10.0.1.0/24", pcx_hub_prod)], [p_db])
    prod.route_table("prod-reporting", [
        via_pcx("10.0.0.0/16", pcx_hub_prod),
        via_pcx("10.3.0.0/16", pcx_audit_prod),
    ], [p_rep])
    prod.nacl("prod-db-nacl", [
        ingress_rule(90, "deny", "-1", "10.3.0.0/16"),
        ingress_rule(100, "allow", "6", "10.1.0.0/16", (5432, 5432)),
        ingress_rule(110, "allow", "6", "10.0.3.0/24", (9100, 9100)),
        ingress_rule(120, "allow", "17", "10.0.1.0/24", EPHEMERAL),
        ingress_rule(32767, "deny", "-1", "0.0.0.0/0"),
        egress_rule(100, "allow", "6", "10.1.0.0/16", EPHEMERAL),
        egress_rule(110, "allow", "6", "10.0.0.0/16", EPHEMERAL),
        egress_rule(120, "allow", "17", "10.0.1.0/24", (53, 53)),
        egress_rule(32767, "deny", "-1", "0.0.0.0/0"),
    ], [p_db])
    prod.nacl("prod-reporting-nacl", [
        ingress_rule(100, "deny", "-1", "10.3.2.0/24"),
        ingress_rule(110, "allow", "6", "10.3.0.0/16", (8443, 8443)),
        ingress_rule(120, "allow", "-1", "10.0.0.0/16"),
        ingress_rule(130, "allow", "-1", "10.1.0.0/16"),
        ingress_rule(32767, "deny", "-1", "0.0.0.0/0"),
        egress_rule(100, "allow", "-1", "0.0.0.0/0"),
        egress_rule(32767, "deny", "-1", "0.0.0.0/0"),
    ], [p_rep])
    sg_papp = prod.sg("prod-app", "prod application servers", ingress=[
        perm("tcp", (8080, 8080), cidrs=["10.1.0.0/16"], desc="internal HTTP"),
        perm("tcp", (9100, 9100), cidrs=["10.0.3.0/24"], desc="hub monitoring"),
    ], egress=[perm("-1", cidrs=["0.0.0.0/0"])])
    sg_pdb = prod.sg("prod-db", "prod PostgreSQL", ingress=[
        perm("tcp", (5432, 5432), groups=[sg_papp], desc="app servers"),
        perm("tcp", (9100, 9100), cidrs=["10.0.3.0/24"], desc="hub monitoring"),
    ], egress=[perm("-1", cidrs=["0.0.0.0/0"])])

    # --- audit (created before prod's reporting SG, which references it)
    a_tools = audit.subnet("audit-tools-a", "10.3.1.0/24", "a")
    a_arch = audit.subnet("audit-archive-b", "10.3.2.0/24", "b")
    audit.add_main_routes([
        via_pcx("10.0.0.0/16", pcx_hub_audit),
        via_pcx("10.1.3.0/24", pcx_audit_prod),
    ])
    sg_atools = audit.sg("audit-tools", "auditor workstations: read-only access", ingress=[], egress=[
        perm("tcp", (8443, 8443), cidrs=["10.1.3.0/24"], desc="prod reporting API"),
        perm("udp", (53, 53), cidrs=["10.0.1.0/24"], desc="hub DNS"),
        perm("tcp", (53, 53), cidrs=["10.0.1.0/24"], desc="hub DNS"),
        perm("tcp", (443, 443), cidrs=["10.0.2.0/24"], desc="artifact repo"),
    ])
    sg_aarch = audit.sg("audit-archive", "log archive workers", ingress=[], egress=[perm("-1", cidrs=["0.0.0.0/0"])])
    audit.eni(a_tools, "audit-tools-1", "10.3.1.40", [sg_atools])
    audit.eni(a_arch, "audit-archive-1", "10.3.2.50", [sg_aarch])

    sg_prep = prod.sg("prod-reporting", "prod reporting API (read-only)", ingress=[
        perm("tcp", (8443, 8443), groups=[(sg_atools, pcx_audit_prod)], desc="audit tools over the audit peering"),
        perm("tcp", (9100, 9100), cidrs=["10.0.3.0/24"], desc="hub monitoring"),
    ], egress=[perm("-1", cidrs=["0.0.0.0/0"])])
    prod.eni(p_app, "prod-app-1", "10.1.1.10", [sg_papp])
    prod.eni(p_db, "prod-db-1", "10.1.2.20", [sg_pdb])
    prod.eni(p_rep, "prod-reporting-1", "10.1.3.30", [sg_prep])

    # --- dev
    d_app = dev.subnet("dev-app-a", "10.2.1.0/24", "a")
    dev.add_main_routes([via_pcx("10.0.0.0/8", pcx_hub_dev)])  # lazy supernet: wider than the hub's /16
    sg_dapp = dev.sg("dev-app", "dev application servers", ingress=[
        perm("tcp", (22, 22), cidrs=["10.2.0.0/16"], desc="ssh inside dev"),
    ], egress=[perm("-1", cidrs=["0.0.0.0/0"])])
    dev.eni(d_app, "dev-app-1", "10.2.1.10", [sg_dapp])

    # --- flows
    F = t.flow
    F("prod app resolves via hub DNS (udp 53)", "10.1.1.10", prod, "10.0.1.53", "udp", 53, "full", True)
    F("prod app DNS over TCP: reply blocked by the DNS subnet NACL (no tcp ephemeral egress)",
      "10.1.1.10", prod, "10.0.1.53", "tcp", 53, "full", True, False, "return-nacl")
    F("two DNS resolvers in the same subnet: no NACL applies", "10.0.1.53", hub, "10.0.1.54", "tcp", 53, "network", True)
    F("dev app pulls from the hub artifact repo", "10.2.1.10", dev, "10.0.2.20", "tcp", 443, "full", True)
    F("dev app SSH to the artifact host: NACL deny-before-allow", "10.2.1.10", dev, "10.0.2.20", "tcp", 22, "network",
      False, reason="nacl-ingress")
    F("audit tools SSH to the artifact host at the network layer (NACL allows all 10/8)",
      "10.3.1.40", audit, "10.0.2.20", "tcp", 22, "network", True)
    F("audit tools pull artifacts: refused by the repo SG", "10.3.1.40", audit, "10.0.2.20", "tcp", 443, "full",
      False, reason="sg-ingress")
    F("dev to prod through the hub: not transitive", "10.2.1.10", dev, "10.1.1.10", "tcp", 8080, "network",
      False, reason="not-in-peer-cidr")
    F("prod to dev through the hub: not transitive", "10.1.1.10", prod, "10.2.1.10", "tcp", 22, "network",
      False, reason="not-in-peer-cidr")
    F("audit reads the prod reporting API (intended, SG reference over same-region peering)",
      "10.3.1.40", audit, "10.1.3.30", "tcp", 8443, "full", True)
    F("audit tools SSH to prod reporting: audit's own egress SG", "10.3.1.40", audit, "10.1.3.30", "tcp", 22, "full",
      False, reason="sg-egress")
    F("audit archive subnet to prod reporting: reporting NACL denies it first", "10.3.2.50", audit, "10.1.3.30",
      "tcp", 8443, "full", False, reason="nacl-ingress")
    F("audit tools to prod DB: no route", "10.3.1.40", audit, "10.1.2.20", "tcp", 5432, "full", False, reason="no-route")
    F("hub monitoring scrapes prod app node_exporter", "10.0.3.30", hub, "10.1.1.10", "tcp", 9100, "full", True)
    F("hub monitoring scrapes prod DB: DB route table has no way back", "10.0.3.30", hub, "10.1.2.20", "tcp", 9100,
      "full", True, False, "return-route")
    F("hub monitoring to dev app: dev SG has no exporter rule", "10.0.3.30", hub, "10.2.1.10", "tcp", 9100, "full",
      False, reason="sg-ingress")
    F("dev app reaches hub Grafana (over-broad 10/8 SG rule)", "10.2.1.10", dev, "10.0.3.30", "tcp", 3000, "full", True)
    F("prod DB resolves via hub DNS (network layer)", "10.1.2.20", prod, "10.0.1.53", "udp", 53, "network", True)
    F("prod DB DNS over TCP: DB NACL egress", "10.1.2.20", prod, "10.0.1.53", "tcp", 53, "network",
      False, reason="nacl-egress")
    F("prod app to prod DB (same VPC, SG group reference)", "10.1.1.10", prod, "10.1.2.20", "tcp", 5432, "full", True)
    return t


# ===================================================================== (b) partner-overbroad


def partner_overbroad():
    t = Topology("partner-overbroad")
    R = "us-east-1"
    prod = t.vpc(PROD, R, "prod", ["10.1.0.0/16"])
    analytics = t.vpc(PROD, R, "prod-analytics", ["10.60.0.0/16"])
    partner = t.vpc(PARTNER, R, "partner-integration", ["10.50.0.0/16", "10.51.0.0/16"])
    pcx = t.peering("partner-acme-to-prod", partner, prod)

    # --- prod
    p_api = prod.subnet("prod-api-a", "10.1.10.0/24", "a")
    p_db = prod.subnet("prod-db-a", "10.1.20.0/24", "a")
    p_app = prod.subnet("prod-app-b", "10.1.30.0/24", "b")
    # intended: 10.50.1.0/24 -> pcx; actual: all of 10/8
    prod.route_table("prod-private", [via_pcx("10.0.0.0/8", pcx)], [p_api, p_db, p_app])
    sg_app = prod.sg("prod-app", "prod application servers", ingress=[
        perm("tcp", (8080, 8080), groups=["self"], desc="app to app"),
    ], egress=[perm("-1", cidrs=["0.0.0.0/0"])])
    sg_api = prod.sg("prod-api", "public partner API", ingress=[
        perm("tcp", (443, 443), cidrs=["10.50.1.0/24"], desc="partner integration subnet"),
        perm("tcp", (443, 443), cidrs=["10.1.0.0/16"], desc="internal clients"),
    ], egress=[perm("-1", cidrs=["0.0.0.0/0"])])
    sg_partner = prod.sg("partner-access", "temp: partner troubleshooting INC-4711", ingress=[
        perm("tcp", ALL_TCP, cidrs=["10.50.0.0/16"], desc="partner VPC"),
    ], egress=[perm("-1", cidrs=["0.0.0.0/0"])])
    sg_db = prod.sg("prod-db", "prod PostgreSQL", ingress=[
        perm("tcp", (5432, 5432), groups=[sg_app], desc="app servers"),
    ], egress=[perm("-1", cidrs=["0.0.0.0/0"])])
    sg_admin = prod.sg("legacy-admin", "legacy admin access", ingress=[
        perm("tcp", (22, 22), cidrs=["0.0.0.0/0"]),
    ], egress=[perm("-1", cidrs=["0.0.0.0/0"])])
    prod.eni(p_api, "prod-api-1", "10.1.10.20", [sg_api, sg_partner], secondary=["10.1.10.21"])
    prod.eni(p_db, "prod-db-1", "10.1.20.30", [sg_db, sg_partner])
    prod.eni(p_app, "prod-app-1", "10.1.30.40", [sg_app, sg_admin])

    an_sub = analytics.subnet("analytics-a", "10.60.1.0/24", "a")
    sg_an = analytics.sg("analytics", "analytics workers", ingress=[
        perm("tcp", (443, 443), cidrs=["10.60.0.0/16"]),
    ], egress=[perm("-1", cidrs=["0.0.0.0/0"])])
    analytics.eni(an_sub, "analytics-1", "10.60.1.15", [sg_an])

    # --- partner (external account)
    q_int = partner.subnet("partner-int-a", "10.50.1.0/24", "a")
    q_ops = partner.subnet("partner-ops-a", "10.50.2.0/24", "a")
    q_batch = partner.subnet("partner-batch-b", "10.51.4.0/24", "b")
    partner.add_main_routes([via_pcx("10.1.0.0/16", pcx)])  # the whole prod VPC
    partner.nacl("partner-batch-nacl", [
        ingress_rule(100, "allow", "6", "10.1.10.0/24", EPHEMERAL),
        ingress_rule(110, "allow", "-1", "10.50.0.0/15"),
        ingress_rule(32767, "deny", "-1", "0.0.0.0/0"),
        egress_rule(100, "allow", "6", "10.1.10.0/24", (443, 443)),
        egress_rule(110, "allow", "-1", "10.50.0.0/15"),
        egress_rule(32767, "deny", "-1", "0.0.0.0/0"),
    ], [q_batch])
    sg_client = partner.sg("acme-client", "ACME integration client", ingress=[
        perm("tcp", (8443, 8443), cidrs=["10.1.10.0/24"], desc="webhooks from prod API"),
    ], egress=[perm("-1", cidrs=["0.0.0.0/0"])])
    sg_bastion = partner.sg("acme-bastion", "ACME ops bastion", ingress=[
        perm("tcp", (22, 22), cidrs=["10.50.0.0/16"]),
    ], egress=[perm("-1", cidrs=["0.0.0.0/0"])])
    sg_batch = partner.sg("acme-batch", "ACME batch jobs", ingress=[], egress=[
        perm("tcp", (443, 443), cidrs=["0.0.0.0/0"]),
    ])
    partner.eni(q_int, "acme-client-1", "10.50.1.10", [sg_client])
    partner.eni(q_ops, "acme-bastion-1", "10.50.2.30", [sg_bastion])
    partner.eni(q_batch, "acme-batch-1", "10.51.4.20", [sg_batch])

    F = t.flow
    F("partner client calls the prod API (intended)", "10.50.1.10", partner, "10.1.10.20", "tcp", 443, "full", True)
    F("partner client calls the API's secondary IP", "10.50.1.10", partner, "10.1.10.21", "tcp", 443, "full", True)
    F("prod API webhook to the partner receiver (intended)", "10.1.10.20", prod, "10.50.1.10", "tcp", 8443, "full", True)
    F("partner client reaches the prod DB port (over-broad partner-access SG)", "10.50.1.10", partner, "10.1.20.30",
      "tcp", 5432, "full", True)
    F("partner ops bastion reaches the prod DB port", "10.50.2.30", partner, "10.1.20.30", "tcp", 5432, "full", True)
    F("partner client SSH into prod app via the 0.0.0.0/0 rule", "10.50.1.10", partner, "10.1.30.40", "tcp", 22,
      "full", True)
    F("partner client to prod app port 8080: refused (self-referencing SG only)", "10.50.1.10", partner, "10.1.30.40",
      "tcp", 8080, "full", False, reason="sg-ingress")
    F("partner batch SSH to prod app: partner's own egress SG", "10.51.4.20", partner, "10.1.30.40", "tcp", 22, "full",
      False, reason="sg-egress")
    F("partner batch to prod DB at the network layer: batch NACL egress", "10.51.4.20", partner, "10.1.20.30", "tcp",
      5432, "network", False, reason="nacl-egress")
    F("partner batch to prod API: secondary CIDR not in the API allow-list", "10.51.4.20", partner, "10.1.10.20", "tcp",
      443, "full", False, reason="sg-ingress")
    F("partner batch to prod API at the network layer (secondary CIDR in CidrBlockSet)", "10.51.4.20", partner,
      "10.1.10.20", "tcp", 443, "network", True)
    F("prod app to analytics VPC: swallowed by the 10/8 partner route", "10.1.30.40", prod, "10.60.1.15", "tcp", 443,
      "network", False, reason="not-in-peer-cidr")
    F("prod app to the partner's secondary CIDR where no subnet exists", "10.1.30.40", prod, "10.51.9.9", "tcp", 443,
      "network", False, reason="no-subnet")
    F("analytics VPC has no route to the partner", "10.60.1.15", analytics, "10.50.1.10", "tcp", 443, "full",
      False, reason="no-route")
    return t


# ===================================================================== (c) cross-region


def cross_region():
    t = Topology("cross-region")
    US, EU = "us-east-1", "eu-west-1"
    use1 = t.vpc(PROD, US, "prod-use1", ["10.1.0.0/16"])
    euw1 = t.vpc(PROD_EU, EU, "prod-euw1", ["10.21.0.0/16"])
    legacy = t.vpc(PROD_EU, EU, "legacy-euw1", ["10.22.0.0/16"])
    pcx_xr = t.peering("prod-use1-to-prod-euw1", use1, euw1)
    pcx_legacy = t.peering("prod-use1-to-legacy-euw1", use1, legacy, status="deleted")

    # --- us-east-1
    u_pub = use1.subnet("use1-public-a", "10.1.0.0/24", "a")
    u_app = use1.subnet("use1-app-a", "10.1.1.0/24", "a")
    u_tools = use1.subnet("use1-tools-b", "10.1.2.0/24", "b")
    u_batch = use1.subnet("use1-batch-b", "10.1.3.0/24", "b")
    igw_u = t.rid("igw", "use1")
    nat_u = use1.nat_gateway(u_pub, "use1-nat-a", "10.1.0.100")
    use1.add_main_routes([("0.0.0.0/0", "GatewayId", igw_u)])
    use1.route_table("use1-private", [
        via_pcx("10.21.0.0/16", pcx_xr),
        ("10.21.8.0/24", "NetworkInterfaceId", t.rid("eni", "use1-inspection-appliance"), "blackhole"),
        via_pcx("10.22.0.0/16", pcx_legacy),  # dumped before the peering was deleted (state not yet blackhole)
        ("0.0.0.0/0", "NatGatewayId", nat_u),
    ], [u_app, u_batch])
    use1.route_table("use1-tools", [], [u_tools])

    # --- eu-west-1 (prod-euw1)
    e_pub = euw1.subnet("euw1-public-a", "10.21.0.0/24", "a")
    e_app = euw1.subnet("euw1-app-a", "10.21.1.0/24", "a")
    e_db = euw1.subnet("euw1-db-b", "10.21.2.0/24", "b")
    e_rep = euw1.subnet("euw1-reporting-c", "10.21.8.0/24", "c")
    igw_e = t.rid("igw", "euw1")
    nat_e = euw1.nat_gateway(e_pub, "euw1-nat-a", "10.21.0.100")
    euw1.add_main_routes([("0.0.0.0/0", "GatewayId", igw_e)])
    euw1.route_table("euw1-private", [
        via_pcx("10.1.1.0/24", pcx_xr),  # only the US app subnet
        ("0.0.0.0/0", "NatGatewayId", nat_e),
    ], [e_app, e_db, e_rep])
    euw1.nacl("euw1-db-nacl", [
        ingress_rule(100, "allow", "-1", "10.21.0.0/16"),
        ingress_rule(110, "allow", "6", "10.1.1.0/24", (5432, 5432)),
        ingress_rule(32767, "deny", "-1", "0.0.0.0/0"),
        egress_rule(100, "allow", "-1", "10.21.0.0/16"),
        egress_rule(110, "allow", "6", "10.1.1.0/24", EPHEMERAL),
        egress_rule(32767, "deny", "-1", "0.0.0.0/0"),
    ], [e_db])

    # --- legacy-euw1
    l_app = legacy.subnet("legacy-app-a", "10.22.1.0/24", "a")
    legacy.add_main_routes([via_pcx("10.1.0.0/16", pcx_legacy, "blackhole")])

    # --- security groups
    sg_eapp = euw1.sg("euw1-app", "EU application servers", ingress=[
        perm("tcp", (443, 443), cidrs=["10.1.0.0/16"], desc="US prod"),
        perm("tcp", (22, 22), cidrs=["0.0.0.0/0"], desc="legacy ssh"),
    ], egress=[perm("-1", cidrs=["0.0.0.0/0"])])
    sg_uapp = use1.sg("use1-app", "US application servers", ingress=[
        perm("tcp", (8080, 8080), cidrs=["10.21.0.0/16"], desc="EU prod"),
    ], egress=[perm("-1", cidrs=["0.0.0.0/0"])])
    sg_uexp = use1.sg("use1-exporter", "US data exporter", ingress=[], egress=[
        perm("tcp", (443, 443), groups=[(sg_eapp, pcx_xr)], desc="EU app servers (cross-region reference)"),
    ])
    sg_utools = use1.sg("use1-tools", "US tooling hosts", ingress=[
        perm("tcp", (22, 22), cidrs=["10.1.0.0/16"]),
    ], egress=[perm("-1", cidrs=["0.0.0.0/0"])])
    sg_ubatch = use1.sg("use1-batch", "US batch workers", ingress=[], egress=[perm("-1", cidrs=["0.0.0.0/0"])])
    sg_edb = euw1.sg("euw1-db", "EU PostgreSQL", ingress=[
        perm("tcp", (5432, 5432), groups=[sg_eapp], desc="EU app servers"),
        perm("tcp", (5432, 5432), groups=[(sg_uapp, pcx_xr)], desc="US app servers (cross-region reference)"),
    ], egress=[perm("-1", cidrs=["0.0.0.0/0"])])
    sg_erep = euw1.sg("euw1-reporting", "EU reporting", ingress=[
        perm("tcp", (443, 443), cidrs=["10.1.0.0/16"]),
    ], egress=[perm("-1", cidrs=["0.0.0.0/0"])])
    sg_lapp = legacy.sg("legacy-app", "legacy EU application", ingress=[
        perm("tcp", (443, 443), cidrs=["10.1.0.0/16"]),
    ], egress=[perm("-1", cidrs=["0.0.0.0/0"])])

    use1.eni(u_app, "use1-app-1", "10.1.1.10", [sg_uapp])
    use1.eni(u_app, "use1-exporter-1", "10.1.1.20", [sg_uexp])
    use1.eni(u_tools, "use1-tools-1", "10.1.2.30", [sg_utools])
    use1.eni(u_batch, "use1-batch-1", "10.1.3.40", [sg_ubatch])
    euw1.eni(e_app, "euw1-app-1", "10.21.1.10", [sg_eapp])
    euw1.eni(e_db, "euw1-db-1", "10.21.2.20", [sg_edb])
    euw1.eni(e_rep, "euw1-reporting-1", "10.21.8.10", [sg_erep])
    legacy.eni(l_app, "legacy-app-1", "10.22.1.10", [sg_lapp])

    F = t.flow
    F("US app calls EU app over the cross-region peering", "10.1.1.10", use1, "10.21.1.10", "tcp", 443, "full", True)
    F("EU app calls the US app API (CIDR rule)", "10.21.1.10", euw1, "10.1.1.10", "tcp", 8080, "full", True)
    F("US app SSH to EU app via the 0.0.0.0/0 rule over the peering", "10.1.1.10", use1, "10.21.1.10", "tcp", 22,
      "full", True)
    F("US app to EU DB: SG rule references the US app SG across regions", "10.1.1.10", use1, "10.21.2.20", "tcp", 5432,
      "full", False, reason="sg-ingress")
    F("US app to EU DB at the network layer", "10.1.1.10", use1, "10.21.2.20", "tcp", 5432, "network", True)
    F("EU app to EU DB (same-VPC SG reference)", "10.21.1.10", euw1, "10.21.2.20", "tcp", 5432, "full", True)
    F("US exporter: egress rule names the EU app SG (cannot match across regions)", "10.1.1.20", use1, "10.21.1.10",
      "tcp", 443, "full", False, reason="sg-egress")
    F("US app to EU reporting: blackhole /24 beats the working /16", "10.1.1.10", use1, "10.21.8.10", "tcp", 443,
      "network", False, reason="blackhole")
    F("US app to legacy EU VPC over the deleted peering", "10.1.1.10", use1, "10.22.1.10", "tcp", 443, "network",
      False, reason="peering-inactive")
    F("legacy EU VPC back to US: its route is already blackhole", "10.22.1.10", legacy, "10.1.1.10", "tcp", 443,
      "network", False, reason="blackhole")
    F("EU app to US tools: only the US app subnet is routed over the peering, rest goes to the NAT",
      "10.21.1.10", euw1, "10.1.2.30", "tcp", 22, "network", False, reason="left-network")
    F("US tools subnet has no route to EU", "10.1.2.30", use1, "10.21.1.10", "tcp", 443, "full", False, reason="no-route")
    F("US batch to EU app: delivered, but EU replies go to the NAT", "10.1.3.40", use1, "10.21.1.10", "tcp", 443, "full",
      True, False, "return-route")
    F("EU DB calls US app HTTPS: EU DB NACL only lets replies out", "10.21.2.20", euw1, "10.1.1.10", "tcp", 443,
      "network", False, reason="nacl-egress")
    return t


# ===================================================================== (d) dual-stack


def dual_stack():
    t = Topology("dual-stack")
    R = "us-west-2"
    E6, S6 = "2600:1f14:abc:8800::/56", "2600:1f14:def:9900::/56"
    edge = t.vpc(PROD, R, "edge", ["10.8.0.0/16"], ipv6=[E6])
    shared = t.vpc(HUB, R, "shared-services", ["10.9.0.0/16"], ipv6=[S6])
    ops = t.vpc(DEV, R, "ops", ["10.7.0.0/16"])
    pcx_ab = t.peering("edge-to-shared-services", edge, shared)
    pcx_bc = t.peering("ops-to-shared-services", ops, shared)

    pl_svc = t.prefix_list(PROD, R, "shared-services-v4", "IPv4", [
        ("10.9.0.0/16", "shared-services VPC"),
        ("10.9.2.0/24", "telemetry collectors"),
    ])
    t.aws_prefix_list(PROD, R, "pl-68a54001", "s3")
    pl_edge = t.prefix_list(HUB, R, "edge-clients-v4", "IPv4", [
        ("10.8.1.0/24", "edge web"),
        ("10.8.2.0/24", "edge api"),
    ])
    t.aws_prefix_list(HUB, R, "pl-68a54001", "s3")

    # --- edge (dual stack)
    e_web = edge.subnet("edge-web-a", "10.8.1.0/24", "a", ipv6="2600:1f14:abc:8801::/64")
    e_api = edge.subnet("edge-api-b", "10.8.2.0/24", "b", ipv6="2600:1f14:abc:8802::/64")
    edge.add_main_routes([
        via_pcx(pl_svc, pcx_ab),
        ("10.9.2.0/24", "TransitGatewayId", t.rid("tgw", "legacy-tgw")),  # ties the list's /24 entry; CIDR wins
        via_pcx(S6, pcx_ab),
        ("::/0", "EgressOnlyInternetGatewayId", t.rid("eigw", "edge")),
    ])
    sg_web = edge.sg("edge-web", "edge web tier", ingress=[
        perm("tcp", (443, 443), cidrs=["0.0.0.0/0"], v6=["::/0"], desc="public HTTPS"),
    ], egress=[perm("-1", cidrs=["0.0.0.0/0"], v6=["::/0"])])
    sg_api = edge.sg("edge-api", "edge API tier", ingress=[
        perm("tcp", (8443, 8443), cidrs=["10.8.1.0/24"], v6=["2600:1f14:abc:8801::/64"]),
    ], egress=[perm("-1", cidrs=["0.0.0.0/0"], v6=["::/0"])])
    edge.eni(e_web, "edge-web-1", "10.8.1.10", [sg_web], ipv6=["2600:1f14:abc:8801::10"])
    edge.eni(e_api, "edge-api-1", "10.8.2.20", [sg_api], ipv6=["2600:1f14:abc:8802::20"])

    # --- shared services (dual stack)
    s_svc = shared.subnet("shared-svc-a", "10.9.1.0/24", "a", ipv6="2600:1f14:def:9901::/64")
    s_tel = shared.subnet("shared-telemetry-b", "10.9.2.0/24", "b", ipv6="2600:1f14:def:9902::/64")
    shared.add_main_routes([
        via_pcx("10.8.0.0/16", pcx_ab),
        via_pcx(E6, pcx_ab),
        via_pcx("10.7.0.0/16", pcx_bc),
    ])
    shared.nacl("shared-svc-nacl", [
        ingress_rule(100, "allow", "6", "10.0.0.0/8", (443, 443)),
        ingress_rule(101, "allow", "6", E6, (443, 443)),
        ingress_rule(110, "allow", "58", "::/0"),
        ingress_rule(120, "allow", "1", "10.7.0.0/16"),
        ingress_rule(130, "allow", "6", "0.0.0.0/0", EPHEMERAL),  # IPv4 replies only: the ::/0 twin is missing
        ingress_rule(32767, "deny", "-1", "0.0.0.0/0"),
        ingress_rule(32768, "deny", "-1", "::/0"),
        egress_rule(100, "allow", "6", "0.0.0.0/0", EPHEMERAL),
        egress_rule(101, "allow", "6", "::/0", EPHEMERAL),
        egress_rule(110, "allow", "58", "::/0"),
        egress_rule(120, "allow", "1", "10.7.0.0/16"),
        egress_rule(130, "allow", "-1", "10.9.0.0/16"),
        egress_rule(140, "allow", "6", E6, (443, 443)),
        egress_rule(32767, "deny", "-1", "0.0.0.0/0"),
        egress_rule(32768, "deny", "-1", "::/0"),
    ], [s_svc])
    sg_base = shared.sg("svc-base", "shared service baseline", ingress=[
        perm("icmpv6", (-1, -1), v6=[E6], desc="ping6 from edge"),
        perm("icmp", (-1, -1), cidrs=["10.7.0.0/16"], desc="ping from ops"),
    ], egress=[perm("-1", cidrs=["0.0.0.0/0"], v6=["::/0"])])
    sg_https = shared.sg("svc-https", "shared service HTTPS", ingress=[
        perm("tcp", (443, 443), pls=[pl_edge], desc="edge clients (IPv4 list only)"),
    ], egress=[perm("-1", cidrs=["0.0.0.0/0"], v6=["::/0"])])
    sg_tel = shared.sg("telemetry", "OpenTelemetry collectors", ingress=[
        perm("tcp", (4317, 4317), cidrs=["10.8.0.0/16"], v6=[E6], desc="OTLP from edge"),
    ], egress=[perm("-1", cidrs=["0.0.0.0/0"], v6=["::/0"])])
    shared.eni(s_svc, "shared-svc-1", "10.9.1.50", [sg_base, sg_https], ipv6=["2600:1f14:def:9901::50"])
    shared.eni(s_tel, "shared-telemetry-1", "10.9.2.60", [sg_tel], ipv6=["2600:1f14:def:9902::60", "2600:1f14:def:9902::61"])

    # --- ops (IPv4 only)
    o_ops = ops.subnet("ops-a", "10.7.1.0/24", "a")
    ops.add_main_routes([
        via_pcx("10.9.0.0/16", pcx_bc),
        via_pcx("10.8.0.0/16", pcx_bc),  # hoped to reach edge through shared services
    ])
    sg_ops = ops.sg("ops", "ops hosts", ingress=[
        perm("tcp", (22, 22), cidrs=["10.9.1.0/24"]),
    ], egress=[perm("-1", cidrs=["0.0.0.0/0"])])
    ops.eni(o_ops, "ops-1", "10.7.1.70", [sg_ops])

    W4, W6 = "10.8.1.10", "2600:1f14:abc:8801::10"
    S4, S6a = "10.9.1.50", "2600:1f14:def:9901::50"
    F = t.flow
    F("edge web to shared svc HTTPS over IPv4 (prefix-list route; second of two SGs allows)", W4, edge, S4, "tcp", 443,
      "full", True)
    F("edge web to shared svc HTTPS over IPv6: the SG's prefix list is IPv4-only", W6, edge, S6a, "tcp", 443, "full",
      False, reason="sg-ingress")
    F("edge web pings shared svc over IPv6 (icmpv6)", W6, edge, S6a, "icmpv6", None, "full", True)
    F("edge web pings shared svc over IPv4 (icmp): svc NACL allows icmp from ops only", W4, edge, S4, "icmp", None,
      "full", False, reason="nacl-ingress")
    F("ops pings shared svc (icmp)", "10.7.1.70", ops, S4, "icmp", None, "full", True)
    F("edge web to telemetry over IPv4: CIDR route beats the equal-length prefix-list entry (old TGW)", W4, edge,
      "10.9.2.60", "tcp", 4317, "network", False, reason="left-network")
    F("edge web to telemetry over IPv6", W6, edge, "2600:1f14:def:9902::60", "tcp", 4317, "full", True)
    F("edge web to a decommissioned svc IP: no ENI holds it", W4, edge, "10.9.1.99", "tcp", 443, "full",
      False, reason="no-eni")
    F("edge api to shared svc HTTPS over IPv6 at the network layer", "2600:1f14:abc:8802::20", edge, S6a, "tcp", 443,
      "network", True)
    F("ops to edge through shared services: not transitive", "10.7.1.70", ops, W4, "tcp", 443, "network",
      False, reason="not-in-peer-cidr")
    F("shared svc SSH to ops: svc NACL egress", S4, shared, "10.7.1.70", "tcp", 22, "network",
      False, reason="nacl-egress")
    F("edge web to ops: no route in edge", W4, edge, "10.7.1.70", "tcp", 22, "network", False, reason="no-route")
    F("shared telemetry to edge web over IPv6 (edge SG open to ::/0)", "2600:1f14:def:9902::60", shared, W6, "tcp", 443,
      "full", True)
    F("ops to shared svc HTTPS: prefix list excludes ops", "10.7.1.70", ops, S4, "tcp", 443, "full",
      False, reason="sg-ingress")
    F("shared svc calls edge web over IPv6: replies dropped (no IPv6 ephemeral ingress on svc NACL)", S6a, shared, W6,
      "tcp", 443, "full", True, False, "return-nacl")
    return t


def main():
    for build in (hub_and_spoke, partner_overbroad, cross_region, dual_stack):
        t = build()
        t.write()
        print(f"{t.name}: {len(t.vpcs)} VPCs, {len(t.peerings)} peerings, {len(t.flows)} flows")


if __name__ == "__main__":
    main()
