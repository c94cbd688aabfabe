//! The accounts file (`--accounts FILE`): which accounts to snapshot, one `[[account]]` table
//! each (TOML; documented in docs/collect.md):
//!
//! ```toml
//! [[account]]
//! id = "111111111111"       # required, 12 digits
//! name = "prod"             # optional, for the manifest and reports
//! role = "PeerscopeAudit"   # optional: overrides --role-name for this account
//! external_id = "…"         # optional: overrides --external-id for this account
//! ```
//!
//! Validation collects every problem instead of stopping at the first: a bad file is a usage
//! error (exit 2) that lists them all, before any AWS call.

use std::collections::BTreeSet;
use std::path::Path;

use serde::Deserialize;

use super::validate::is_account_id;

/// One account to snapshot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    pub id: String,
    pub name: Option<String>,
    /// Role name for this account, overriding `--role-name`.
    pub role: Option<String>,
    /// External id for this account, overriding `--external-id`.
    pub external_id: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    account: Vec<Entry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    id: String,
    name: Option<String>,
    role: Option<String>,
    external_id: Option<String>,
}

/// Parses an accounts file's text; every problem is listed, each prefixed with `path`.
pub fn parse(path: &Path, text: &str) -> Result<Vec<Target>, Vec<String>> {
    let file: File = toml::from_str(text)
        .map_err(|e| vec![format!("{}: {}", path.display(), e.to_string().trim_end())])?;
    let mut errors = Vec::new();
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for (i, e) in file.account.into_iter().enumerate() {
        if !is_account_id(&e.id) {
            errors.push(format!(
                "{}: account[{i}]: id {:?} is not a 12-digit account id",
                path.display(),
                e.id
            ));
            continue;
        }
        if !seen.insert(e.id.clone()) {
            errors.push(format!(
                "{}: account[{i}]: {} is listed twice",
                path.display(),
                e.id
            ));
            continue;
        }
        if let Some(r) = &e.role
            && (r.is_empty() || r.contains(':'))
        {
            errors.push(format!(
                "{}: account[{i}]: role {r:?} must be a role name, not an ARN",
                path.display()
            ));
            continue;
        }
        out.push(Target {
            id: e.id,
            name: e.name,
            role: e.role,
            external_id: e.external_id,
        });
    }
    if out.is_empty() && errors.is_empty() {
        errors.push(format!("{}: no [[account]] entries", path.display()));
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str) -> Result<Vec<Target>, Vec<String>> {
        parse(Path::new("accounts.toml"), text)
    }

    #[test]
    fn reads_accounts_with_overrides() {
        let t = check(
            r#"
            [[account]]
            id = "111111111111"
            name = "prod"
            [[account]]
            id = "222222222222"
            role = "Other"
            external_id = "x-1"
            "#,
        )
        .unwrap();
        assert_eq!(t.len(), 2);
        assert_eq!(t[0].name.as_deref(), Some("prod"));
        assert_eq!(t[1].role.as_deref(), Some("Other"));
        assert_eq!(t[1].external_id.as_deref(), Some("x-1"));
    }

    #[test]
    fn lists_every_problem() {
        let errors = check(
            r#"
            [[account]]
            id = "12345"
            [[account]]
            id = "111111111111"
            [[account]]
            id = "111111111111"
            [[account]]
            id = "222222222222"
            role = "arn:aws:iam::222222222222:role/X"
            "#,
        )
        .unwrap_err();
        assert_eq!(errors.len(), 3, "{errors:?}");
    }

    #[test]
    fn unknown_keys_and_empty_files_are_errors() {
        assert!(check("[[account]]\nid = \"111111111111\"\nrol = \"x\"\n").is_err());
        assert!(check("").is_err());
    }
}
