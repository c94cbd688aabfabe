//! AWS-style ids (`vpc-0` + 16 hex digits) that are unique by construction and depend on the
//! seed.
//!
//! An id is SplitMix64 (a bijection on `u64`) of the object's kind and ordinal, offset by a key
//! derived from the seed: distinct ordinals of one kind can never collide, and no counter is
//! shared between accounts, so accounts are generated in parallel without coordination.
//! Ordinals of objects inside a VPC are `vpc << 24 | local`.

use super::rng::mix;

/// Kinds, each with its own ordinal space.
#[derive(Clone, Copy)]
#[repr(u64)]
pub enum Kind {
    Vpc = 1,
    Subnet,
    RouteTable,
    Acl,
    Sg,
    Eni,
    Peering,
    PrefixList,
    Instance,
    Igw,
    Nat,
    Assoc,
    Dopt,
    Attachment,
    Eigw,
}

#[derive(Clone, Copy)]
pub struct Ids {
    key: u64,
}

impl Ids {
    pub fn new(seed: u64) -> Ids {
        Ids {
            key: mix(seed ^ 0x1D5_0000_0000),
        }
    }

    /// `prefix-0…`: 17 hex digits like AWS's long ids.
    pub fn id(&self, prefix: &str, kind: Kind, ordinal: u64) -> String {
        debug_assert!(ordinal < 1 << 58);
        format!(
            "{prefix}-{:017x}",
            mix(((kind as u64) << 58 | ordinal) ^ self.key)
        )
    }

    /// An id for object `local` of VPC `vpc`.
    pub fn in_vpc(&self, prefix: &str, kind: Kind, vpc: usize, local: usize) -> String {
        debug_assert!(local < 1 << 24);
        self.id(prefix, kind, (vpc as u64) << 24 | local as u64)
    }

    pub fn vpc(&self, v: usize) -> String {
        self.id("vpc", Kind::Vpc, v as u64)
    }

    pub fn peering(&self, p: usize) -> String {
        self.id("pcx", Kind::Peering, p as u64)
    }

    /// A peering that was deleted long ago and no longer appears in describe output: the
    /// target of blackhole routes.
    pub fn gone_peering(&self, vpc: usize, n: usize) -> String {
        self.id("pcx", Kind::Peering, 1 << 57 | (vpc as u64) << 8 | n as u64)
    }

    /// Security group `k` of VPC `v` (0 is the default group).
    pub fn sg(&self, v: usize, k: usize) -> String {
        self.in_vpc("sg", Kind::Sg, v, k)
    }
}
