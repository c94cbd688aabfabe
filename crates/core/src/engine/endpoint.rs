//! Naming endpoints: turning what a user types (`eni-…`, `i-…`, `subnet-…`, `vpc-…/ip`, a bare
//! IP) into a source VPC and address, with an error listing the candidates when an address is
//! ambiguous across VPCs.

use std::net::IpAddr;

use crate::model::*;

/// A resolved source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Source {
    pub vpc: VpcId,
    pub ip: IpAddr,
    /// Set when the source was named by an interface (or the address is an interface's).
    pub eni: Option<NetworkInterfaceId>,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EndpointError {
    #[error("{0:?} is not an interface, instance, subnet or VPC of the snapshot")]
    Unknown(String),
    #[error("{0:?} is neither an id nor an IP address")]
    Unparsable(String),
    #[error("{ip} is inside no subnet of the snapshot")]
    NowhereInSnapshot { ip: IpAddr },
    #[error("{ip} is ambiguous: it lies in subnets of {} VPCs ({}); name one as VPC/IP", candidates.len(), candidates.iter().map(|c| c.to_string()).collect::<Vec<_>>().join(", "))]
    Ambiguous { ip: IpAddr, candidates: Vec<VpcId> },
    #[error("{id} has no {family} address")]
    NoAddress { id: String, family: &'static str },
}

/// Which address family a flow uses, from the other end when it is known.
fn family_matches(a: &IpAddr, like: Option<&IpAddr>) -> bool {
    like.is_none_or(|l| l.is_ipv4() == a.is_ipv4())
}

/// Resolves `--from`. `like` is the destination address when known, to pick the same family.
pub fn resolve_source(
    model: &Model,
    s: &str,
    like: Option<&IpAddr>,
) -> Result<Source, EndpointError> {
    let s = s.trim();
    let family = if like.is_some_and(|l| l.is_ipv6()) {
        "IPv6"
    } else {
        "IPv4"
    };
    if let Some(eni) = model.resolve_eni(s) {
        let ip = eni
            .addresses
            .iter()
            .find(|a| family_matches(a, like))
            .ok_or_else(|| EndpointError::NoAddress {
                id: s.to_owned(),
                family,
            })?;
        return Ok(Source {
            vpc: eni.vpc.clone(),
            ip: *ip,
            eni: Some(eni.id.clone()),
        });
    }
    if let Some(subnet) = model.subnets.get(&SubnetId::new(s)) {
        // The first assignable address: AWS reserves the first four of every subnet.
        let net = subnet
            .cidrs
            .iter()
            .find(|c| family_matches(&c.network(), like))
            .ok_or_else(|| EndpointError::NoAddress {
                id: s.to_owned(),
                family,
            })?;
        let ip = nth_host(net, 4);
        return Ok(Source {
            vpc: subnet.vpc.clone(),
            ip,
            eni: None,
        });
    }
    if let Some((vpc, ip)) = s.split_once('/').filter(|(v, _)| v.starts_with("vpc-")) {
        let ip: IpAddr = ip
            .parse()
            .map_err(|_| EndpointError::Unparsable(s.to_owned()))?;
        let vpc = VpcId::new(vpc);
        if !model.vpcs.contains_key(&vpc)
            && model.index().subnets_of(&vpc).is_empty()
            && model.unseen_vpc(&vpc).is_none()
        {
            return Err(EndpointError::Unknown(vpc.to_string()));
        }
        return Ok(Source {
            eni: eni_at(model, &vpc, ip),
            vpc,
            ip,
        });
    }
    let ip: IpAddr = s.parse().map_err(|_| {
        if s.contains('-') {
            EndpointError::Unknown(s.to_owned())
        } else {
            EndpointError::Unparsable(s.to_owned())
        }
    })?;
    let candidates = vpcs_containing(model, ip);
    match candidates.as_slice() {
        [] => Err(EndpointError::NowhereInSnapshot { ip }),
        [vpc] => Ok(Source {
            vpc: vpc.clone(),
            ip,
            eni: eni_at(model, vpc, ip),
        }),
        _ => Err(EndpointError::Ambiguous { ip, candidates }),
    }
}

/// Resolves `--to`: an IP, or an interface or instance id (its address of the source's family).
pub fn resolve_destination(
    model: &Model,
    s: &str,
    like: Option<&IpAddr>,
) -> Result<IpAddr, EndpointError> {
    let s = s.trim();
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Ok(ip);
    }
    match model.resolve_eni(s) {
        Some(eni) => eni
            .addresses
            .iter()
            .find(|a| family_matches(a, like))
            .copied()
            .ok_or_else(|| EndpointError::NoAddress {
                id: s.to_owned(),
                family: if like.is_some_and(|l| l.is_ipv6()) {
                    "IPv6"
                } else {
                    "IPv4"
                },
            }),
        None => Err(EndpointError::Unknown(s.to_owned())),
    }
}

/// VPCs with a subnet containing `ip`, and unseen VPCs whose CIDRs contain it, sorted.
pub fn vpcs_containing(model: &Model, ip: IpAddr) -> Vec<VpcId> {
    let ix = model.index();
    let mut out: Vec<VpcId> = model
        .vpcs
        .keys()
        .filter(|v| ix.subnet_containing(v, ip).is_some())
        .chain(
            model
                .unseen_vpcs()
                .values()
                .filter(|u| u.cidrs.iter().any(|c| c.contains(&ip)))
                .map(|u| &u.id),
        )
        .cloned()
        .collect();
    out.sort();
    out
}

/// The interface holding `ip` in its subnet of `vpc`, if any.
pub fn eni_at(model: &Model, vpc: &VpcId, ip: IpAddr) -> Option<NetworkInterfaceId> {
    let ix = model.index();
    let subnet = ix.subnet_containing(vpc, ip)?;
    ix.enis_at(subnet, ip).first().cloned()
}

fn nth_host(net: &ipnet::IpNet, n: u32) -> IpAddr {
    match net {
        ipnet::IpNet::V4(v4) => {
            let base = u32::from(v4.network());
            let last = u32::from(v4.broadcast());
            IpAddr::V4(base.saturating_add(n).min(last).into())
        }
        ipnet::IpNet::V6(v6) => {
            let base = u128::from(v6.network());
            let last = u128::from(v6.broadcast());
            IpAddr::V6(base.saturating_add(u128::from(n)).min(last).into())
        }
    }
}

/// Resolves a `reach` selector to the addresses it names, per VPC: an account id, `vpc-…`,
/// `subnet-…`, `eni-…`/`i-…`, or a CIDR (its intersection with every VPC's subnets).
pub fn select(
    model: &Model,
    s: &str,
) -> Result<std::collections::BTreeMap<VpcId, crate::sets::IpSet>, EndpointError> {
    use crate::sets::IpSet;
    let s = s.trim();
    let mut out: std::collections::BTreeMap<VpcId, IpSet> = std::collections::BTreeMap::new();
    let subnet_set = |sub: &Subnet| IpSet::from_nets(sub.cidrs.iter().copied());
    let mut add = |vpc: &VpcId, set: IpSet| {
        let e = out.entry(vpc.clone()).or_default();
        *e = e.union(&set);
    };
    // Unseen VPCs (known only from peering records) are selected by account, id or CIDR.
    let unseen = model.unseen_vpcs().values();
    let unseen_set = |u: &UnseenVpc| IpSet::from_nets(u.cidrs.iter().copied());
    let owned_by = |u: &UnseenVpc| u.account.as_ref().is_some_and(|a| a.as_str() == s);
    if let Some(eni) = model.resolve_eni(s) {
        add(
            &eni.vpc,
            IpSet::from_nets(eni.addresses.iter().map(|a| ipnet::IpNet::from(*a))),
        );
    } else if let Some(sub) = model.subnets.get(&SubnetId::new(s)) {
        add(&sub.vpc, subnet_set(sub));
    } else if model.vpcs.contains_key(&VpcId::new(s)) {
        for sub in model.subnets.values().filter(|x| x.vpc.as_str() == s) {
            add(&sub.vpc, subnet_set(sub));
        }
    } else if let Some(u) = model.unseen_vpc(&VpcId::new(s)) {
        add(&u.id, unseen_set(u));
    } else if let Ok(net) = s.parse::<ipnet::IpNet>() {
        let sel = IpSet::from_net(net.trunc());
        for sub in model.subnets.values() {
            add(&sub.vpc, subnet_set(sub).intersection(&sel));
        }
        for u in unseen {
            add(&u.id, unseen_set(u).intersection(&sel));
        }
    } else if model.vpcs.values().any(|v| v.account.as_str() == s) || unseen.clone().any(owned_by) {
        for sub in model.subnets.values().filter(|x| x.account.as_str() == s) {
            add(&sub.vpc, subnet_set(sub));
        }
        for u in unseen.filter(|u| owned_by(u)) {
            add(&u.id, unseen_set(u));
        }
    } else {
        return Err(EndpointError::Unknown(s.to_owned()));
    }
    out.retain(|_, set| !set.is_empty());
    Ok(out)
}
