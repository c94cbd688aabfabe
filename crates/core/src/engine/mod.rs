//! Reachability per the contract (`docs/semantics.md`): the verdict vocabulary, the per-packet
//! evaluator that explains one flow hop by hop ([`explain`]), and the set-based all-pairs
//! computation ([`reach`]).
//!
//! The engine does no I/O. It is total over well-formed flows: every flow between addresses of
//! the snapshot gets a verdict; `explain` rejects only malformed questions (an address in no
//! subnet, mixed address families, a tcp flow without a port).

pub mod endpoint;
pub mod explain;
pub mod hop;
pub mod reach;

use std::fmt;
use std::net::IpAddr;

use serde::Serialize;

use crate::model::{NetworkInterfaceId, VpcId};

/// Which filters take part.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Layer {
    /// Routes, peering and network ACLs; endpoints are any addresses inside subnets.
    Network,
    /// Network plus security groups; endpoints are ENI private addresses.
    Full,
}

/// `network` or `full`, with a message naming both otherwise (batch queries, JSON inputs).
impl<'de> serde::Deserialize<'de> for Layer {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <String as serde::Deserialize>::deserialize(d)?;
        match s.as_str() {
            "network" => Ok(Layer::Network),
            "full" => Ok(Layer::Full),
            other => Err(serde::de::Error::custom(format!(
                "layer {other:?}: expected network or full"
            ))),
        }
    }
}

impl fmt::Display for Layer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Layer::Network => "network",
            Layer::Full => "full",
        })
    }
}

/// The first check a flow fails, in the contract's order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Reason {
    NoRoute,
    Blackhole,
    LeftNetwork,
    PeeringInactive,
    NotInPeerCidr,
    /// The packet crossed an active peering into a VPC the snapshot knows only from the
    /// connection record (semantics step 23): what happens there is unknown.
    UnseenPeer,
    NoSubnet,
    NoEni,
    SgEgress,
    NaclEgress,
    NaclIngress,
    SgIngress,
    ReturnRoute,
    ReturnNacl,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::NoRoute => "no-route",
            Reason::Blackhole => "blackhole",
            Reason::LeftNetwork => "left-network",
            Reason::PeeringInactive => "peering-inactive",
            Reason::NotInPeerCidr => "not-in-peer-cidr",
            Reason::UnseenPeer => "unseen-peer",
            Reason::NoSubnet => "no-subnet",
            Reason::NoEni => "no-eni",
            Reason::SgEgress => "sg-egress",
            Reason::NaclEgress => "nacl-egress",
            Reason::NaclIngress => "nacl-ingress",
            Reason::SgIngress => "sg-ingress",
            Reason::ReturnRoute => "return-route",
            Reason::ReturnNacl => "return-nacl",
        }
    }

    /// Parses the contract's name.
    pub fn parse(s: &str) -> Option<Reason> {
        Reason::ALL.into_iter().find(|r| r.as_str() == s)
    }

    pub const ALL: [Reason; 14] = [
        Reason::NoRoute,
        Reason::Blackhole,
        Reason::LeftNetwork,
        Reason::PeeringInactive,
        Reason::NotInPeerCidr,
        Reason::UnseenPeer,
        Reason::NoSubnet,
        Reason::NoEni,
        Reason::SgEgress,
        Reason::NaclEgress,
        Reason::NaclIngress,
        Reason::SgIngress,
        Reason::ReturnRoute,
        Reason::ReturnNacl,
    ];
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One flow: a source address in a VPC, a destination address, protocol and port.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Flow {
    pub src_vpc: VpcId,
    pub src: IpAddr,
    /// Full layer: the source interface (an address alone may name several with overlapping
    /// address space). `None` picks the interface holding `src` in its subnet.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub src_eni: Option<NetworkInterfaceId>,
    pub dst: IpAddr,
    /// IP protocol number.
    pub proto: u8,
    /// Destination port, for tcp and udp.
    pub port: Option<u16>,
}
