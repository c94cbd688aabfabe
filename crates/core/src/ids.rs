//! Newtype identifiers for AWS objects.
//!
//! The model never passes bare strings around: a `VpcId` cannot be handed where a `SubnetId` is
//! expected. Ids are cheap to clone (`Arc<str>`), ordered (so every collection keyed by them is
//! deterministic) and serialise as the plain AWS string.

use std::fmt;
use std::sync::Arc;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(Arc<str>);

        impl $name {
            /// Wraps an AWS identifier.
            pub fn new(s: impl AsRef<str>) -> Self {
                Self(Arc::from(s.as_ref()))
            }

            /// The identifier as AWS spells it.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{:?}", &*self.0)
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                Self::new(s)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                Ok(Self::new(s))
            }
        }
    };
}

id_type!(
    /// A 12-digit AWS account id (or, for hand-made snapshots, whatever the folder names).
    AccountId
);
id_type!(
    /// An AWS region name such as `us-east-1`.
    Region
);
id_type!(
    /// `vpc-…`
    VpcId
);
id_type!(
    /// `subnet-…`
    SubnetId
);
id_type!(
    /// `rtb-…`
    RouteTableId
);
id_type!(
    /// `acl-…`
    NetworkAclId
);
id_type!(
    /// `sg-…`
    SecurityGroupId
);
id_type!(
    /// `eni-…`
    NetworkInterfaceId
);
id_type!(
    /// `i-…`
    InstanceId
);
id_type!(
    /// `pcx-…`
    PeeringId
);
id_type!(
    /// `pl-…`
    PrefixListId
);

/// Returns the region of an availability zone name (`us-east-2a` → `us-east-2`, also local
/// zones `us-west-2-lax-1a` → `us-west-2`). `None` when the name does not look like a zone.
pub fn region_of_zone(zone: &str) -> Option<Region> {
    // Regions look like `<geo>-<dir>-<n>` possibly with extra parts (`us-gov-west-1`); the
    // zone appends a letter, and local/wavelength zones add `-<city>-<n><letter>`.
    let parts: Vec<&str> = zone.split('-').collect();
    for i in (2..parts.len()).rev() {
        let digits: String = parts[i]
            .chars()
            .take_while(|c| c.is_ascii_digit())
            .collect();
        let candidate = format!("{}-{}", parts[..i].join("-"), digits);
        if !digits.is_empty() && looks_like_region(&candidate) {
            return Some(Region::new(candidate));
        }
    }
    None
}

/// True when `s` is shaped like an AWS region name: `^[a-z]{2,4}(-[a-z]+)?-[a-z]+-[0-9]+$`, at
/// most 50 characters (`us-east-1`, `us-gov-west-1`, `us-isob-east-1`, `cn-north-1`,
/// `eusc-de-east-1`).
///
/// The pattern is the union of the SDK's partition patterns (`regionRegex` in the endpoint
/// rules: `^(us|eu|ap|sa|ca|me|af|il|mx)-\w+-\d+$`, `^us-gov-\w+-\d+$`, `^us-iso-…`,
/// `^us-isob-…`, `^eu-isoe-…`, `^us-isof-…`, `^cn-\w+-\d+$`, `^eusc-(de)-\w+-\d+$`), with the
/// geography generalised to 2–4 letters so that a region launched after this build still reads,
/// and `\w` narrowed to lowercase letters, which every region name uses. The collector names
/// folders after regions, so nothing that passes can be `..`, hold a `/`, or start with a dot.
pub fn looks_like_region(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    if s.len() > 50 || parts.len() < 3 || parts.len() > 4 {
        return false;
    }
    let (last, head) = parts.split_last().expect("len >= 3");
    let letters = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase());
    !last.is_empty()
        && last.bytes().all(|b| b.is_ascii_digit())
        && head.iter().all(|p| letters(p))
        && (2..=4).contains(&parts[0].len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zones_to_regions() {
        let r = |z: &str| region_of_zone(z).map(|r| r.to_string());
        assert_eq!(r("us-east-2a").as_deref(), Some("us-east-2"));
        assert_eq!(r("eu-central-1c").as_deref(), Some("eu-central-1"));
        assert_eq!(r("us-gov-west-1b").as_deref(), Some("us-gov-west-1"));
        assert_eq!(r("us-west-2-lax-1a").as_deref(), Some("us-west-2"));
        assert_eq!(r("nonsense"), None);
        assert_eq!(r(""), None);
    }

    #[test]
    fn region_shapes() {
        assert!(looks_like_region("us-east-1"));
        assert!(looks_like_region("us-gov-west-1"));
        assert!(!looks_like_region("aws_configs"));
        assert!(!looks_like_region("123456789012"));
        assert!(!looks_like_region("us-east"));
        for real in [
            "af-south-1",
            "ap-southeast-7",
            "il-central-1",
            "mx-central-1",
            "cn-northwest-1",
            "us-gov-east-1",
            "us-iso-west-1",
            "us-isob-east-1",
            "us-isof-south-1",
            "eu-isoe-west-1",
            "eusc-de-east-1",
        ] {
            assert!(looks_like_region(real), "{real}");
        }
        for bad in [
            "..",
            "../x",
            "us-east-1/..",
            ".us-east-1",
            "us-east-1 ",
            "US-EAST-1",
            "us_east-1",
            "us-east-1a",
            "u-east-1",
            "europe-west-1",
            "us-gov-west-1-x",
            "us--1",
            "",
        ] {
            assert!(!looks_like_region(bad), "{bad:?}");
        }
    }
}
