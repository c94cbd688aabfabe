//! `manifest.json`: what the collector (`peerscope snapshot`) says about the run that wrote a
//! snapshot — when, as whom, which accounts and regions, and which account-regions failed.
//!
//! The collector writes it at the snapshot root; the loader reads it only to warn that coverage
//! is incomplete (`partial-snapshot`). Plain serde data: no AWS SDK here, so the loader stays
//! free of it. Every field has a default, so a manifest from a later version still reads.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

/// The manifest format version this build writes.
pub const VERSION: u32 = 1;

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Manifest {
    pub version: u32,
    /// `peerscope <version>`.
    pub tool: String,
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
    /// The account-regions that could not be collected.
    pub fn failed(&self) -> impl Iterator<Item = &RegionResult> {
        self.results.iter().filter(|r| r.status == Status::Failed)
    }
}

/// Reads `<root>/manifest.json`: `Ok(None)` when there is none, `Err` with a message when it
/// cannot be read or parsed.
pub fn read(root: &Path) -> Result<Option<Manifest>, String> {
    read_limited(root, crate::util::DEFAULT_MAX_FILE_SIZE)
}

/// [`read`], reading only a regular file of at most `limit` bytes.
pub fn read_limited(root: &Path, limit: u64) -> Result<Option<Manifest>, String> {
    let path = root.join(super::layout::MANIFEST);
    let bytes = match crate::util::read_regular(&path, limit) {
        Ok(b) => b,
        Err(crate::util::ReadError::Io(e)) if e.kind() == std::io::ErrorKind::NotFound => {
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
    }
}
