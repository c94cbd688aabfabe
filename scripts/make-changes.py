#!/usr/bin/env python3
"""Proposed changes for benchmarks (issue 6), from a snapshot made by `peerscope gen`.

    scripts/make-changes.py ORG OUT

writes into OUT:
  route.json       one CreateRoute: a /28 of a peer VPC over an active peering, in the first
                   route table (sorted by file and id) whose VPC has one (in generated
                   organisations, a hub: the worst case, every spoke is its neighbour)
  spoke-route.json the same in the first route table whose VPC has exactly one peering
  sg-rule.json     one AuthorizeSecurityGroupIngress (tcp/5432 from 10.0.0.0/8) on the first
                   security group that some ENI carries
  nacl-entry.json  one CreateNetworkAclEntry (ingress rule 5 deny tcp/22 from 10.0.0.0/8) on the
                   first non-default NACL
  churn/           a copy of ORG with 1% of its route tables (a non-local route removed) and 1%
                   of its security groups (an ingress rule added) changed, for `peerscope diff`

The same ORG gives the same files.
"""

import ipaddress
import json
import os
import shutil
import sys


def files(root, name):
    out = []
    for dirpath, _, names in os.walk(root):
        for n in names:
            if n == name:
                out.append(os.path.join(dirpath, n))
    return sorted(out)


def first_route(org, by_vpc, wanted):
    """A CreateRoute to a /28 of a peer over an active peering, in the first route table
    (sorted by file and id) whose VPC is `wanted`."""
    for f in files(org, "describe-route-tables.json"):
        for t in sorted(json.load(open(f))["RouteTables"], key=lambda t: t["RouteTableId"]):
            if not wanted(t["VpcId"]):
                continue
            dests = {r.get("DestinationCidrBlock") for r in t.get("Routes", [])}
            for pcx, peer in by_vpc.get(t["VpcId"], []):
                for sub in ipaddress.ip_network(peer["CidrBlock"]).subnets(new_prefix=28):
                    if str(sub) not in dests:
                        return {
                            "Action": "CreateRoute",
                            "RouteTableId": t["RouteTableId"],
                            "DestinationCidrBlock": str(sub),
                            "VpcPeeringConnectionId": pcx,
                        }
    return None


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    org, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)

    peerings = {}
    for f in files(org, "describe-vpc-peering-connections.json"):
        for p in json.load(open(f))["VpcPeeringConnections"]:
            if p.get("Status", {}).get("Code") == "active":
                peerings[p["VpcPeeringConnectionId"]] = p
    by_vpc = {}
    for p in peerings.values():
        a, b = p["RequesterVpcInfo"], p["AccepterVpcInfo"]
        by_vpc.setdefault(a["VpcId"], []).append((p["VpcPeeringConnectionId"], b))
        by_vpc.setdefault(b["VpcId"], []).append((p["VpcPeeringConnectionId"], a))

    route = first_route(org, by_vpc, lambda vpc: True)
    if route is None:
        sys.exit("make-changes.py: no route table with an active peering")
    json.dump([route], open(os.path.join(out, "route.json"), "w"), indent=2)
    spoke = first_route(org, by_vpc, lambda vpc: len(by_vpc.get(vpc, [])) == 1)
    if spoke:
        json.dump([spoke], open(os.path.join(out, "spoke-route.json"), "w"), indent=2)

    carried = set()
    for f in files(org, "describe-network-interfaces.json"):
        for e in json.load(open(f))["NetworkInterfaces"]:
            carried.update(g["GroupId"] for g in e.get("Groups", []))
    group = None
    for f in files(org, "describe-security-groups.json"):
        for g in sorted(json.load(open(f))["SecurityGroups"], key=lambda g: g["GroupId"]):
            if g["GroupId"] in carried:
                group = g["GroupId"]
                break
        if group:
            break
    rule = {
        "Action": "AuthorizeSecurityGroupIngress",
        "GroupId": group,
        "IpPermissions": [
            {
                "IpProtocol": "tcp",
                "FromPort": 5432,
                "ToPort": 5432,
                "IpRanges": [{"CidrIp": "10.0.0.0/8", "Description": "benchmark"}],
            }
        ],
    }
    json.dump([rule], open(os.path.join(out, "sg-rule.json"), "w"), indent=2)

    acl = None
    for f in files(org, "describe-network-acls.json"):
        for a in sorted(json.load(open(f))["NetworkAcls"], key=lambda a: a["NetworkAclId"]):
            used = {e["RuleNumber"] for e in a.get("Entries", []) if not e["Egress"]}
            if not a.get("IsDefault") and 5 not in used:
                acl = a["NetworkAclId"]
                break
        if acl:
            break
    entry = {
        "Action": "CreateNetworkAclEntry",
        "NetworkAclId": acl,
        "RuleNumber": 5,
        "Protocol": "6",
        "RuleAction": "deny",
        "Egress": False,
        "CidrBlock": "10.0.0.0/8",
        "PortRange": {"From": 22, "To": 22},
    }
    json.dump([entry], open(os.path.join(out, "nacl-entry.json"), "w"), indent=2)

    churn = os.path.join(out, "churn")
    if os.path.exists(churn):
        shutil.rmtree(churn)
    shutil.copytree(org, churn)
    n = 0
    for f in files(churn, "describe-route-tables.json"):
        doc = json.load(open(f))
        for t in doc["RouteTables"]:
            n += 1
            if n % 100 == 0:
                routes = t.get("Routes", [])
                for i, r in enumerate(routes):
                    if r.get("GatewayId") != "local":
                        del routes[i]
                        break
        json.dump(doc, open(f, "w"))
    n = 0
    for f in files(churn, "describe-security-groups.json"):
        doc = json.load(open(f))
        for g in doc["SecurityGroups"]:
            n += 1
            if n % 100 == 0:
                g.setdefault("IpPermissions", []).append(
                    {
                        "IpProtocol": "tcp",
                        "FromPort": 1,
                        "ToPort": 65535,
                        "IpRanges": [{"CidrIp": "10.0.0.0/8"}],
                        "Ipv6Ranges": [],
                        "PrefixListIds": [],
                        "UserIdGroupPairs": [],
                    }
                )
        json.dump(doc, open(f, "w"))


if __name__ == "__main__":
    main()
