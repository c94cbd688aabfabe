//! `manifest.json`: what the collector (`peerscope snapshot`) says about the run that wrote a
//! snapshot — when, as whom, which accounts and regions, and which account-regions failed — and
//! what `peerscope gen` says about a synthetic one (tier and seed).
//!
//! Both write it at the snapshot root, last ([`crate::output::folder`]). It is also peerscope's
//! mark on a folder: `"generator": "peerscope"` (or, in manifests written before that field, a
//! `tool` of `peerscope …`) lets a later run write into the folder, replacing only the entries
//! `written` lists, and `complete: false` says a run stopped midway. The loader reads it to warn
//! that coverage is incomplete (`partial-snapshot`). Plain serde data: no AWS SDK here, so the
//! loader stays free of it. Every field has a default, so a manifest from a later version still
//! reads.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

/// The manifest format version this build writes.
pub const VERSION: u32 = 1;

/// The value of `generator` in every manifest peerscope writes.
pub const GENERATOR: &str = "peerscope";

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Manifest {
    /// `peerscope`: this folder was written by peerscope.
    pub generator: String,
    /// The command that wrote it: `snapshot` or `gen`.
    pub command: String,
    pub version: u32,
    /// `peerscope <version>`.
    pub tool: String,
    /// `false` while a run replaces an earlier snapshot's entries: a folder left so was
    /// interrupted midway and may mix two runs. Absent (older manifests): `true`.
    pub complete: bool,
    /// The top-level entries (account folders) the run wrote: what a later run may replace.
    /// Absent in older manifests, where the accounts and results name them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub written: Option<Vec<String>>,
    /// `gen`: what was generated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub generated: Option<Generated>,
    /// RFC 3339, UTC.
    pub started_at: String,
    pub finished_at: String,
    /// Who ran the collection (from STS GetCallerIdentity). Never credentials.
    pub caller: Caller,
    /// `file`, `organizations` or `caller`.
    pub accounts_from: String,
    pub accounts: Vec<Account>,
    pub regions: Vec<String>,
    /// One per account and region, sorted by account then region.
    pub results: Vec<RegionResult>,
}

impl Default for Manifest {
    fn default() -> Manifest {
        Manifest {
            generator: String::new(),
            command: String::new(),
            version: 0,
            tool: String::new(),
            complete: true,
            written: None,
            generated: None,
            started_at: String::new(),
            finished_at: String::new(),
            caller: Caller::default(),
            accounts_from: String::new(),
            accounts: Vec::new(),
            regions: Vec::new(),
            results: Vec::new(),
        }
    }
}

/// What `peerscope gen` generated.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Generated {
    /// `s`, `m`, `l` or `xl`.
    pub tier: String,
    pub seed: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Caller {
    pub account: String,
    pub arn: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Account {
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The role assumed in the account; absent when the caller's own credentials were used.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role_arn: Option<String>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    #[default]
    Ok,
    Failed,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RegionResult {
    pub account: String,
    pub region: String,
    pub status: Status,
    /// Why the account-region could not be collected (status `failed`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// API calls made (pages count one each; retries inside the SDK do not).
    pub calls: u64,
    /// Objects written per top-level key (`Vpcs`, `Subnets`, …).
    pub objects: BTreeMap<String, usize>,
    /// Problems that did not fail the account-region (a referenced prefix list that is gone).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

impl Manifest {
    /// A manifest of this build's, for `command`: marked as peerscope's, complete.
    pub fn new(command: &str) -> Manifest {
        Manifest {
            generator: GENERATOR.to_owned(),
            command: command.to_owned(),
            version: VERSION,
            tool: format!("peerscope {}", env!("CARGO_PKG_VERSION")),
            ..Manifest::default()
        }
    }

    /// The account-regions that could not be collected.
    pub fn failed(&self) -> impl Iterator<Item = &RegionResult> {
        self.results.iter().filter(|r| r.status == Status::Failed)
    }

    /// Was it written by peerscope? (`generator`, or for manifests written before that field,
    /// `tool`.)
    pub fn is_peerscope(&self) -> bool {
        self.generator == GENERATOR || self.tool.starts_with("peerscope ")
    }

    /// The top-level entries of the folder that peerscope wrote, and that a later run may
    /// replace: `written`, else (older manifests) the accounts and results. Only names an
    /// account folder can have are returned, so a tampered manifest cannot make a run move
    /// `intent.toml`, `changes/` or anything outside the folder.
    pub fn owned(&self) -> std::collections::BTreeSet<String> {
        let names: Vec<&str> = match &self.written {
            Some(w) => w.iter().map(String::as_str).collect(),
            None => self
                .accounts
                .iter()
                .map(|a| a.id.as_str())
                .chain(self.results.iter().map(|r| r.account.as_str()))
                .collect(),
        };
        names
            .into_iter()
            .filter(|n| is_owned_name(n))
            .map(str::to_owned)
            .collect()
    }
}

/// Can a top-level entry of this name be one peerscope writes (an account folder)? ASCII
/// letters, digits, `-` and `_`; never `changes`, a hidden name or anything with a dot or a
/// separator.
pub fn is_owned_name(name: &str) -> bool {
    !name.is_empty()
        && name != super::layout::CHANGES
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Reads `<root>/manifest.json`: `Ok(None)` when there is none, `Err` with a message when it
/// cannot be read or parsed.
pub fn read(root: &Path) -> Result<Option<Manifest>, String> {
    read_limited(root, crate::input::DEFAULT_MAX_FILE_SIZE)
}

/// [`read`], reading only a regular file of at most `limit` bytes.
pub fn read_limited(root: &Path, limit: u64) -> Result<Option<Manifest>, String> {
    let path = root.join(super::layout::MANIFEST);
    let bytes = match crate::input::read_regular(&path, limit) {
        Ok(b) => b,
        Err(crate::input::ReadError::Io(e)) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(None);
        }
        Err(e) => return Err(e.to_string()),
    };
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|e| format!("not a peerscope manifest: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_failed_results_and_tolerates_unknown_fields() {
        let m: Manifest = serde_json::from_str(
            r#"{"version": 1, "future": true, "results": [
                {"account": "111111111111", "region": "us-east-1", "status": "ok"},
                {"account": "222222222222", "region": "us-east-1", "status": "failed",
                 "error": "AssumeRole: AccessDenied"}]}"#,
        )
        .unwrap();
        let failed: Vec<_> = m.failed().map(|r| r.account.as_str()).collect();
        assert_eq!(failed, ["222222222222"]);
        // An older manifest: no marker field, but peerscope's tool; complete by default.
        assert!(!m.is_peerscope());
        let old: Manifest =
            serde_json::from_str(r#"{"version": 1, "tool": "peerscope 0.1.0"}"#).unwrap();
        assert!(old.is_peerscope() && old.complete);
        let other: Manifest = serde_json::from_str(r#"{"name": "my-app"}"#).unwrap();
        assert!(!other.is_peerscope());
    }

    #[test]
    fn owned_names_are_account_folders_only() {
        let m: Manifest = serde_json::from_str(
            r#"{"generator": "peerscope", "written": ["111111111111", "../x", "intent.toml",
                "changes", ".git", "a/b", "", "partner-1"]}"#,
        )
        .unwrap();
        let owned: Vec<_> = m.owned().into_iter().collect();
        assert_eq!(owned, ["111111111111", "partner-1"]);
        // Older manifests: the accounts and results name them.
        let old: Manifest = serde_json::from_str(
            r#"{"tool": "peerscope 0.1.0", "accounts": [{"id": "111111111111"}],
                "results": [{"account": "222222222222", "region": "us-east-1"}]}"#,
        )
        .unwrap();
        let owned: Vec<_> = old.owned().into_iter().collect();
        assert_eq!(owned, ["111111111111", "222222222222"]);
    }
}
