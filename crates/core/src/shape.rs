//! What the values people write by hand must look like: AWS resource ids, account ids, CIDRs
//! and names. The intent file and change files check every such value here, strictly, before
//! it can select or change anything (issue 13, "strict inputs"): a lax reading would turn a typo
//! into a selector that quietly selects nothing, or into a wider one than meant.
//!
//! The checks are AWS's documented formats, not guesses: a resource id is its type's prefix, a
//! hyphen and 8 or (since 2016–2018) 17 lowercase hexadecimal digits (EC2 User Guide, "Resource
//! IDs"); an account id is 12 digits. A CIDR is an address in its usual text form (no leading
//! zeros, no spaces), a slash and a decimal prefix length; whether host bits may be set is the
//! caller's decision, so [`parse_cidr`] returns the network as written.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::{IpNet, Ipv4Net, Ipv6Net};

/// Is `s` an AWS resource id of the given type: `prefix-` and 8 or 17 lowercase hex digits
/// (`vpc-0d92a9ea5873c0b9b`, `sg-1a2b3c4d`)?
pub fn is_aws_id(s: &str, prefix: &str) -> bool {
    s.strip_prefix(prefix)
        .and_then(|r| r.strip_prefix('-'))
        .is_some_and(|hex| {
            matches!(hex.len(), 8 | 17)
                && hex
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        })
}

/// How an id of the type should look, for messages: `vpc- and 8 or 17 lowercase hex digits`.
pub fn id_format(prefix: &str) -> String {
    format!("{prefix}- and 8 or 17 lowercase hex digits")
}

/// Is `s` a 12-digit AWS account id?
pub fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

/// Is `s` a name a person gives in a file (a zone or an account name): 1 to 64 ASCII letters,
/// digits, `-`, `_` or `.`. Names appear in every report, so nothing that could confuse a
/// terminal, a table or a Markdown comment gets in.
pub fn is_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// What a valid name is, for messages.
pub const NAME_FORMAT: &str = "1 to 64 letters, digits, '-', '_' or '.'";

/// Parses a CIDR strictly: `ADDRESS/LENGTH` with nothing around it, the address in its usual
/// form (IPv4 as four decimal octets without leading zeros: `010.0.0.0` is octal to some
/// parsers and decimal to others), the length a decimal number without sign or leading zeros
/// and at most 32 (IPv4) or 128 (IPv6). Host bits are kept: the caller decides what they mean.
pub fn parse_cidr(s: &str) -> Result<IpNet, String> {
    if s.is_empty() {
        return Err("it is empty".into());
    }
    if s.chars().any(char::is_whitespace) {
        return Err("remove the spaces".into());
    }
    let Some((addr, len)) = s.split_once('/') else {
        return Err(match s.parse::<IpAddr>() {
            Ok(IpAddr::V4(_)) => format!("no prefix length: write {s}/32 for one address"),
            Ok(IpAddr::V6(_)) => format!("no prefix length: write {s}/128 for one address"),
            Err(_) => "expected ADDRESS/LENGTH".into(),
        });
    };
    let max = if addr.contains(':') { 128 } else { 32 };
    if len.is_empty()
        || !len.bytes().all(|b| b.is_ascii_digit())
        || (len.len() > 1 && len.starts_with('0'))
    {
        return Err(format!(
            "the prefix length {len:?} is not a number from 0 to {max}"
        ));
    }
    let len: u8 = match len.parse() {
        Ok(n) if n <= max => n,
        _ => return Err(format!("the prefix length {len} is more than {max}")),
    };
    if max == 32 {
        if addr.split('.').any(|o| o.len() > 1 && o.starts_with('0')) {
            return Err(format!("{addr} has an octet with a leading zero"));
        }
        let a: Ipv4Addr = addr
            .parse()
            .map_err(|_| format!("{addr:?} is not an IPv4 address"))?;
        Ok(IpNet::V4(Ipv4Net::new(a, len).expect("length checked")))
    } else {
        let a: Ipv6Addr = addr
            .parse()
            .map_err(|_| format!("{addr:?} is not an IPv6 address"))?;
        Ok(IpNet::V6(Ipv6Net::new(a, len).expect("length checked")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aws_ids_have_a_prefix_and_8_or_17_lowercase_hex_digits() {
        for good in [
            "vpc-0d92a9ea5873c0b9b",
            "vpc-1a2b3c4d",
            "i-1234567890abcdef0",
        ] {
            let prefix = good.split('-').next().unwrap();
            assert!(is_aws_id(good, prefix), "{good}");
        }
        for bad in [
            "vpc-",
            "vpc-1",
            "vpc-zz",
            "vpc-0D92A9EA5873C0B9B",
            "vpc-0d92a9ea5873c0b9",
            "vpc-0d92a9ea5873c0b9b ",
            " vpc-1a2b3c4d",
            "vpc1a2b3c4d",
            "subnet-1a2b3c4d",
            "vpc-1a2b3c4dx",
        ] {
            assert!(!is_aws_id(bad, "vpc"), "{bad}");
        }
        assert!(!is_aws_id("eni-zz", "eni"));
    }

    #[test]
    fn account_ids_are_12_digits() {
        assert!(is_account_id("111111111111"));
        for bad in [
            "",
            "1111",
            "11111111111a",
            "1111111111111",
            " 11111111111",
            "2222-2222",
        ] {
            assert!(!is_account_id(bad), "{bad}");
        }
    }

    #[test]
    fn names_are_short_and_plain() {
        for good in ["hub", "prod-db", "a_b.c", "X1"] {
            assert!(is_name(good), "{good}");
        }
        for bad in ["", "a b", "a\u{1b}[31m", "ü", "<img>", &"x".repeat(65)] {
            assert!(!is_name(bad), "{bad:?}");
        }
    }

    #[test]
    fn cidrs_are_parsed_strictly() {
        assert_eq!(
            parse_cidr("10.1.0.0/16").unwrap().to_string(),
            "10.1.0.0/16"
        );
        assert_eq!(
            parse_cidr("2001:db8::/32").unwrap().to_string(),
            "2001:db8::/32"
        );
        // Host bits are the caller's to judge.
        assert_eq!(
            parse_cidr("10.1.0.1/16").unwrap().to_string(),
            "10.1.0.1/16"
        );
        assert_eq!(parse_cidr("0.0.0.0/0").unwrap().to_string(), "0.0.0.0/0");
        for (bad, why) in [
            ("", "empty"),
            (" 10.1.0.0/16", "spaces"),
            ("10.1.0.0/16 ", "spaces"),
            ("10.1.0.0 /16", "spaces"),
            ("010.1.0.0/16", "leading zero"),
            ("10.01.0.0/16", "leading zero"),
            ("10.1.0.0/016", "not a number"),
            ("10.1.0.0/+16", "not a number"),
            ("10.1.0.0/", "not a number"),
            ("10.1.0.0/33", "more than 32"),
            ("2001:db8::/129", "more than 128"),
            ("10.1.0.0", "10.1.0.0/32"),
            ("10.1.0/16", "not an IPv4 address"),
            ("10.1.0.256/24", "not an IPv4 address"),
            ("2001:db8::g/64", "not an IPv6 address"),
            ("vpc-1a2b3c4d", "ADDRESS/LENGTH"),
        ] {
            let e = parse_cidr(bad).expect_err(bad);
            assert!(e.contains(why), "{bad:?}: {e}");
        }
    }
}
