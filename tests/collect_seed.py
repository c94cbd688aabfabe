"""Seeds the AWS emulator (moto in server mode) for tests/collect.rs and prints what it made
as JSON on standard output.

An organisation of four accounts — management (the caller), hub, prod, dev — plus an external
partner account, in two regions (us-east-1, eu-west-1):

- hub  us-east-1  10.0.0.0/16: subnets 10.0.1.0/24, 10.0.2.0/24; a customer-managed prefix
  list `corp` (two entries) used by an SG rule and a route; an SG open to the world on 5432;
  ENIs; routes to prod, dev (cross-region) and corp.
- prod us-east-1  10.1.0.0/16: a custom NACL; peered with hub (cross-account) and with the
  partner's 172.16.0.0/16 (external).
- dev  eu-west-1  10.2.0.0/16: peered with hub across regions; its route 10.0.0.0/8 is wider
  than the peer (route-wider-than-peer).
- dev  us-east-1  10.3.0.0/16: a peering request to hub never accepted, with a route to it
  (inactive-peering-route).
- management us-east-1 10.9.0.0/16: shared services, not peered.
- partner 999988887777 us-east-1 172.16.0.0/16.

`--hub-partner` adds, on top of that organisation, the scenario of a partner that can SSH to the
hub's DNS hosts (the audit must find it without the partner's dump too):

- partner 999988887777 us-east-1 172.20.0.0/16 (subnet 172.20.1.0/24, one ENI 172.20.1.10 with
  the VPC's default-like group: no ingress, all egress), peered with the hub (requested by the
  hub, accepted by the partner); the partner routes 10.0.0.0/16 to it and the hub's main route
  table routes 172.20.0.0/16 to it.
- hub us-east-1: a DNS subnet 10.0.3.0/24 with two hosts 10.0.3.53 and 10.0.3.54 whose group
  `hub-dns` serves DNS to 10.0.0.0/8 and — the problem — admits 172.16.0.0/12 on tcp/22; an API
  subnet 10.0.4.0/24 with one host 10.0.4.10 whose group `hub-api` admits the partner on tcp/443
  (the one thing the partner is meant to reach). Both subnets use the hub's main route table and
  default NACL, which it prints as `route_tables.hub` and `network_acls.hub`.

`--scale N` instead creates N-1 member accounts with one VPC, subnet, SG and ENI per region
(for the collection benchmark). `--auditor` creates an IAM user in the management account
whose policy allows what docs/collect.md lists but denies AssumeRole of the role `Forbidden`,
and the `PeerscopeAudit` role in every account with the documented read-only policy; it prints
the user's access key (for the partial-failure test, which turns on IAM checks afterwards).

Usage: python collect_seed.py ENDPOINT [--scale N | --hub-partner] [--auditor]
"""

import json
import sys

import boto3
import requests

ENDPOINT = sys.argv[1]
SCALE = int(sys.argv[sys.argv.index("--scale") + 1]) if "--scale" in sys.argv else 0
AUDITOR = "--auditor" in sys.argv
HUB_PARTNER = "--hub-partner" in sys.argv
A, B = "us-east-1", "eu-west-1"
PARTNER = "999988887777"
BASE = dict(
    endpoint_url=ENDPOINT,
    aws_access_key_id="AKIAIOSFODNN7EXAMPLE",
    aws_secret_access_key="seed",
)

# The documented read-only policy (docs/collect.md), given to the PeerscopeAudit role.
AUDIT_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "PeerscopeRead",
            "Effect": "Allow",
            "Action": [
                "ec2:DescribeVpcs",
                "ec2:DescribeSubnets",
                "ec2:DescribeRouteTables",
                "ec2:DescribeSecurityGroups",
                "ec2:DescribeNetworkAcls",
                "ec2:DescribeNetworkInterfaces",
                "ec2:DescribeVpcPeeringConnections",
                "ec2:DescribeManagedPrefixLists",
                "ec2:GetManagedPrefixListEntries",
                "ec2:DescribeRegions",
            ],
            "Resource": "*",
        }
    ],
}

# A clean emulator: no IAM checks (a previous partial-failure run may have turned them on),
# no state, repeatable ids.
requests.post(f"{ENDPOINT}/moto-api/reset-auth", data=b"inf").raise_for_status()
requests.post(f"{ENDPOINT}/moto-api/reset")
requests.post(f"{ENDPOINT}/moto-api/seed?a=42")


def session(account):
    """boto3 keyword arguments acting in `account` (moto maps assumed-role keys to it)."""
    if account is None:
        return BASE
    sts = boto3.client("sts", region_name=A, **BASE)
    c = sts.assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/seed", RoleSessionName="seed"
    )["Credentials"]
    return dict(
        endpoint_url=ENDPOINT,
        aws_access_key_id=c["AccessKeyId"],
        aws_secret_access_key=c["SecretAccessKey"],
        aws_session_token=c["SessionToken"],
    )


def ec2(account, region):
    return boto3.client("ec2", region_name=region, **session(account))


def tag(kind, name):
    return [{"ResourceType": kind, "Tags": [{"Key": "Name", "Value": name}]}]


def vpc(c, cidr, name):
    return c.create_vpc(CidrBlock=cidr, TagSpecifications=tag("vpc", name))["Vpc"]["VpcId"]


def subnet(c, v, cidr, az):
    return c.create_subnet(VpcId=v, CidrBlock=cidr, AvailabilityZone=az)["Subnet"]["SubnetId"]


def main_table(c, v):
    tables = c.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [v]}])["RouteTables"]
    return next(t["RouteTableId"] for t in tables if any(a.get("Main") for a in t["Associations"]))


def sg(c, v, name, rules):
    g = c.create_security_group(VpcId=v, GroupName=name, Description=name)["GroupId"]
    if rules:
        c.authorize_security_group_ingress(GroupId=g, IpPermissions=rules)
    return g


def eni(c, s, ip, groups):
    return c.create_network_interface(SubnetId=s, PrivateIpAddress=ip, Groups=groups)[
        "NetworkInterface"
    ]["NetworkInterfaceId"]


def tcp(port, cidr=None, pl=None):
    r = {"IpProtocol": "tcp", "FromPort": port, "ToPort": port}
    if cidr:
        r["IpRanges"] = [{"CidrIp": cidr}]
    if pl:
        r["PrefixListIds"] = [{"PrefixListId": pl}]
    return r


org = boto3.client("organizations", region_name=A, **BASE)
org.create_organization(FeatureSet="ALL")
accounts = {"management": boto3.client("sts", region_name=A, **BASE).get_caller_identity()["Account"]}
members = ["hub", "prod", "dev"] if not SCALE else [f"member{i:02d}" for i in range(1, SCALE)]
for name in members:
    r = org.create_account(Email=f"{name}@example.com", AccountName=name)
    accounts[name] = r["CreateAccountStatus"]["AccountId"]
out = {"accounts": accounts}

if SCALE:
    for name, account in accounts.items():
        for i, region in enumerate([A, B]):
            c = ec2(None if name == "management" else account, region)
            v = vpc(c, f"10.{i}.0.0/16", f"{name}-{region}")
            s = subnet(c, v, f"10.{i}.1.0/24", f"{region}a")
            g = sg(c, v, "app", [tcp(443, cidr="10.0.0.0/8")])
            eni(c, s, f"10.{i}.1.10", [g])
else:
    accounts["partner"] = PARTNER
    hub_a, prod_a = ec2(accounts["hub"], A), ec2(accounts["prod"], A)
    dev_a, dev_b = ec2(accounts["dev"], A), ec2(accounts["dev"], B)
    mgmt_a, partner_a = ec2(None, A), ec2(PARTNER, A)

    vpcs = {
        "hub": vpc(hub_a, "10.0.0.0/16", "hub"),
        "prod": vpc(prod_a, "10.1.0.0/16", "prod"),
        "dev-eu": vpc(dev_b, "10.2.0.0/16", "dev-eu"),
        "dev-us": vpc(dev_a, "10.3.0.0/16", "dev-us"),
        "shared": vpc(mgmt_a, "10.9.0.0/16", "shared-services"),
        "partner": vpc(partner_a, "172.16.0.0/16", "partner"),
    }
    subnets = {
        "hub-a": subnet(hub_a, vpcs["hub"], "10.0.1.0/24", "us-east-1a"),
        "hub-b": subnet(hub_a, vpcs["hub"], "10.0.2.0/24", "us-east-1b"),
        "prod": subnet(prod_a, vpcs["prod"], "10.1.1.0/24", "us-east-1a"),
        "dev-eu": subnet(dev_b, vpcs["dev-eu"], "10.2.1.0/24", "eu-west-1a"),
        "dev-us": subnet(dev_a, vpcs["dev-us"], "10.3.1.0/24", "us-east-1a"),
        "shared": subnet(mgmt_a, vpcs["shared"], "10.9.1.0/24", "us-east-1a"),
        "partner": subnet(partner_a, vpcs["partner"], "172.16.1.0/24", "us-east-1a"),
    }

    pl = hub_a.create_managed_prefix_list(
        PrefixListName="corp",
        AddressFamily="IPv4",
        MaxEntries=10,
        Entries=[
            {"Cidr": "192.168.1.0/24", "Description": "office"},
            {"Cidr": "192.168.0.0/24", "Description": "vpn"},
        ],
    )["PrefixList"]["PrefixListId"]

    def peer(req_client, req_vpc, acc_client, acc_vpc, acc_owner, acc_region, accept=True):
        p = req_client.create_vpc_peering_connection(
            VpcId=req_vpc, PeerVpcId=acc_vpc, PeerOwnerId=acc_owner, PeerRegion=acc_region
        )["VpcPeeringConnection"]["VpcPeeringConnectionId"]
        if accept:
            acc_client.accept_vpc_peering_connection(VpcPeeringConnectionId=p)
        return p

    pcx = {
        "hub-prod": peer(hub_a, vpcs["hub"], prod_a, vpcs["prod"], accounts["prod"], A),
        "hub-dev": peer(hub_a, vpcs["hub"], dev_b, vpcs["dev-eu"], accounts["dev"], B),
        "prod-partner": peer(prod_a, vpcs["prod"], partner_a, vpcs["partner"], PARTNER, A),
        "dev-hub-pending": peer(
            dev_a, vpcs["dev-us"], hub_a, vpcs["hub"], accounts["hub"], A, accept=False
        ),
    }

    def route(c, v, cidr, p):
        c.create_route(RouteTableId=main_table(c, v), DestinationCidrBlock=cidr, VpcPeeringConnectionId=p)

    route(hub_a, vpcs["hub"], "10.1.0.0/16", pcx["hub-prod"])
    route(hub_a, vpcs["hub"], "10.2.0.0/16", pcx["hub-dev"])
    hub_a.create_route(
        RouteTableId=main_table(hub_a, vpcs["hub"]),
        DestinationPrefixListId=pl,
        VpcPeeringConnectionId=pcx["hub-prod"],
    )
    route(prod_a, vpcs["prod"], "10.0.0.0/16", pcx["hub-prod"])
    route(prod_a, vpcs["prod"], "172.16.0.0/16", pcx["prod-partner"])
    route(partner_a, vpcs["partner"], "10.1.0.0/16", pcx["prod-partner"])
    route(dev_b, vpcs["dev-eu"], "10.0.0.0/8", pcx["hub-dev"])  # wider than the hub
    route(dev_a, vpcs["dev-us"], "10.0.0.0/16", pcx["dev-hub-pending"])  # never accepted

    # prod: a custom NACL on its subnet.
    acl = prod_a.create_network_acl(VpcId=vpcs["prod"])["NetworkAcl"]["NetworkAclId"]
    for n, egress, action, proto, cidr, ports in [
        (100, False, "allow", "6", "10.0.0.0/16", (443, 443)),
        (200, False, "deny", "-1", "0.0.0.0/0", None),
        (100, True, "allow", "-1", "0.0.0.0/0", None),
    ]:
        kw = dict(
            NetworkAclId=acl, RuleNumber=n, Protocol=proto, RuleAction=action, Egress=egress, CidrBlock=cidr
        )
        if ports:
            kw["PortRange"] = {"From": ports[0], "To": ports[1]}
        prod_a.create_network_acl_entry(**kw)
    assoc = next(
        a["NetworkAclAssociationId"]
        for n in prod_a.describe_network_acls(
            Filters=[{"Name": "vpc-id", "Values": [vpcs["prod"]]}]
        )["NetworkAcls"]
        for a in n["Associations"]
        if a["SubnetId"] == subnets["prod"]
    )
    prod_a.replace_network_acl_association(AssociationId=assoc, NetworkAclId=acl)

    groups = {
        "hub-app": sg(
            hub_a,
            vpcs["hub"],
            "hub-app",
            [tcp(443, cidr="10.1.0.0/16"), tcp(22, pl=pl), tcp(5432, cidr="0.0.0.0/0")],
        ),
        "prod-web": sg(prod_a, vpcs["prod"], "prod-web", [tcp(443, cidr="10.0.0.0/16")]),
        "dev-app": sg(dev_b, vpcs["dev-eu"], "dev-app", [tcp(8080, cidr="10.0.0.0/16")]),
    }
    enis = {
        "hub": eni(hub_a, subnets["hub-a"], "10.0.1.10", [groups["hub-app"]]),
        "hub-b": eni(hub_a, subnets["hub-b"], "10.0.2.10", [groups["hub-app"]]),
        "prod": eni(prod_a, subnets["prod"], "10.1.1.10", [groups["prod-web"]]),
        "dev-eu": eni(dev_b, subnets["dev-eu"], "10.2.1.10", [groups["dev-app"]]),
    }

    if HUB_PARTNER:
        vpcs["partner-hub"] = vpc(partner_a, "172.20.0.0/16", "partner-hub")
        subnets["hub-dns"] = subnet(hub_a, vpcs["hub"], "10.0.3.0/24", "us-east-1a")
        subnets["hub-api"] = subnet(hub_a, vpcs["hub"], "10.0.4.0/24", "us-east-1b")
        subnets["partner-hub"] = subnet(partner_a, vpcs["partner-hub"], "172.20.1.0/24", "us-east-1a")
        pcx["hub-partner"] = peer(hub_a, vpcs["hub"], partner_a, vpcs["partner-hub"], PARTNER, A)
        route(hub_a, vpcs["hub"], "172.20.0.0/16", pcx["hub-partner"])
        route(partner_a, vpcs["partner-hub"], "10.0.0.0/16", pcx["hub-partner"])
        dns = [
            {"IpProtocol": p, "FromPort": 53, "ToPort": 53, "IpRanges": [{"CidrIp": "10.0.0.0/8"}]}
            for p in ("udp", "tcp")
        ]
        groups["hub-dns"] = sg(hub_a, vpcs["hub"], "hub-dns", dns + [tcp(22, cidr="172.16.0.0/12")])
        groups["hub-api"] = sg(hub_a, vpcs["hub"], "hub-api", [tcp(443, cidr="172.20.0.0/16")])
        groups["partner-app"] = sg(partner_a, vpcs["partner-hub"], "partner-app", [])
        enis["hub-dns-1"] = eni(hub_a, subnets["hub-dns"], "10.0.3.53", [groups["hub-dns"]])
        enis["hub-dns-2"] = eni(hub_a, subnets["hub-dns"], "10.0.3.54", [groups["hub-dns"]])
        enis["hub-api"] = eni(hub_a, subnets["hub-api"], "10.0.4.10", [groups["hub-api"]])
        enis["partner-hub"] = eni(
            partner_a, subnets["partner-hub"], "172.20.1.10", [groups["partner-app"]]
        )
        out["route_tables"] = {"hub": main_table(hub_a, vpcs["hub"])}
        out["network_acls"] = {
            "hub": hub_a.describe_network_acls(
                Filters=[
                    {"Name": "vpc-id", "Values": [vpcs["hub"]]},
                    {"Name": "default", "Values": ["true"]},
                ]
            )["NetworkAcls"][0]["NetworkAclId"]
        }

    out.update(vpcs=vpcs, subnets=subnets, pcx=pcx, prefix_list=pl, groups=groups, enis=enis)

if AUDITOR:
    iam = boto3.client("iam", region_name=A, **BASE)
    for name, account in accounts.items():
        if account == PARTNER:
            continue
        c = iam if name == "management" else boto3.client("iam", region_name=A, **session(account))
        c.create_role(RoleName="PeerscopeAudit", AssumeRolePolicyDocument="{}")
        c.put_role_policy(
            RoleName="PeerscopeAudit", PolicyName="read", PolicyDocument=json.dumps(AUDIT_POLICY)
        )
    iam.create_user(UserName="auditor")
    auditor_policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["sts:AssumeRole", "sts:GetCallerIdentity", "organizations:ListAccounts"]
                + AUDIT_POLICY["Statement"][0]["Action"],
                "Resource": "*",
            },
            {"Effect": "Deny", "Action": "sts:AssumeRole", "Resource": "arn:aws:iam::*:role/Forbidden"},
        ],
    }
    iam.put_user_policy(UserName="auditor", PolicyName="audit", PolicyDocument=json.dumps(auditor_policy))
    key = iam.create_access_key(UserName="auditor")["AccessKey"]
    out["auditor"] = {"id": key["AccessKeyId"], "secret": key["SecretAccessKey"]}

json.dump(out, sys.stdout, indent=1, sort_keys=True)
print()
