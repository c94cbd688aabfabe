//! The AWS side's names, patterns and defaults that the analysis, the collector and the CLI
//! share, in the core so that the CLI can describe `peerscope snapshot` in a build without the
//! collector (and its AWS SDK).
//!
//! What the collector accepts as a name before it becomes part of a path under `--out`: account
//! ids, region names and prefix-list ids, whether they come from the user (the accounts file,
//! `--regions`, the configured region) or from an AWS response (STS GetCallerIdentity,
//! Organizations ListAccounts, EC2 DescribeRegions, the prefix lists that routes and rules
//! name). Issue 13, "trust nothing": an endpoint that answers `../x` must not write outside
//! `--out`.
//!
//! Each check is a plain predicate on the string; the caller decides what a refusal means (a
//! usage error for the user's input, a failed account or account-region for a response) and
//! words it with [`describe`]. [`relative_path`] is the last line of defence: every file the
//! collector writes goes through it.

use std::path::{Component, Path, PathBuf};

/// The role name assumed in each account unless `--role-name` or the accounts file says
/// otherwise.
pub const DEFAULT_ROLE: &str = "PeerscopeAudit";
/// Requests in flight across the whole run unless `--concurrency` says otherwise.
pub const DEFAULT_CONCURRENCY: usize = 32;
/// The STS session name, so CloudTrail shows who read the account.
pub const SESSION_NAME: &str = "peerscope";

/// Is `s` an AWS account id: exactly 12 ASCII digits?
pub fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

/// Is `s` shaped like an AWS region name? See [`crate::ids::looks_like_region`] for the pattern
/// and where it comes from.
pub fn is_region(s: &str) -> bool {
    crate::ids::looks_like_region(s)
}

/// Is `s` a prefix-list id: `pl-` and 8 to 17 lowercase hex digits (AWS-managed lists have the
/// short form, `pl-63a5400a`; customer-managed ones the long one, `pl-0123456789abcdef0`)?
pub fn is_prefix_list_id(s: &str) -> bool {
    s.strip_prefix("pl-").is_some_and(|hex| {
        (8..=17).contains(&hex.len())
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

/// The pattern a kind of name must match, for messages.
pub const ACCOUNT_ID_PATTERN: &str = "12 digits";
pub const REGION_PATTERN: &str =
    "a region name like us-east-1: ^[a-z]{2,4}(-[a-z]+)?-[a-z]+-[0-9]+$";
pub const PREFIX_LIST_PATTERN: &str = "pl- and 8 to 17 hex digits";

/// A refused value as it appears in a message: quoted and escaped (`"../x"`, `"\u{1b}[31m"`),
/// so that a hostile value can neither pass for a real one nor drive the terminal; at most 80
/// characters of it.
pub fn describe(value: &str) -> String {
    const MAX: usize = 80;
    match value.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{:?}… ({} bytes)", &value[..cut], value.len()),
        None => format!("{value:?}"),
    }
}

/// `parts` joined into a path relative to the snapshot root, or `None` if any part could leave
/// its folder: empty, `.`, `..`, holding a `/` or a NUL, or absolute. Names are checked before
/// they get here; this makes sure a check that was missed can never write outside `--out`.
pub fn relative_path(parts: &[&str]) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    for part in parts {
        let mut components = Path::new(part).components();
        match (components.next(), components.next()) {
            (Some(Component::Normal(c)), None)
                if c == *part && !part.contains(['/', '\\', '\0']) =>
            {
                out.push(c)
            }
            _ => return None,
        }
    }
    (!parts.is_empty()).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_ids_are_twelve_digits() {
        assert!(is_account_id("012345678901"));
        for bad in [
            "12345",
            "1234567890123",
            "../x",
            "12345678901a",
            "１２３４５６７８９０１２",
            "",
        ] {
            assert!(!is_account_id(bad), "{bad:?}");
        }
    }

    #[test]
    fn prefix_list_ids() {
        assert!(is_prefix_list_id("pl-63a5400a"));
        assert!(is_prefix_list_id("pl-047231bf7fc6bec73"));
        for bad in [
            "pl-",
            "pl-1234567",
            "pl-0123456789abcdef01",
            "pl-../../x",
            "pl-63A5400A",
            "PL-63a5400a",
            "pl-63a5400a/..",
            "sg-63a5400a",
        ] {
            assert!(!is_prefix_list_id(bad), "{bad:?}");
        }
    }

    #[test]
    fn refused_values_are_quoted_and_escaped() {
        assert_eq!(describe("../x"), r#""../x""#);
        assert_eq!(describe("a\u{1b}[31mb"), r#""a\u{1b}[31mb""#);
        let long = "x".repeat(200);
        assert!(describe(&long).ends_with("… (200 bytes)"));
    }

    #[test]
    fn relative_paths_stay_inside() {
        assert_eq!(
            relative_path(&["111111111111", "us-east-1", "describe-vpcs.json"]),
            Some(PathBuf::from("111111111111/us-east-1/describe-vpcs.json"))
        );
        for bad in [
            &["..", "x"][..],
            &["a/../..", "x"],
            &["/etc", "x"],
            &["a", "."],
            &["a/b"],
            &[""],
            &["a\0b"],
            &[],
        ] {
            assert_eq!(relative_path(bad), None, "{bad:?}");
        }
    }
}
