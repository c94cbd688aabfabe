//! The snapshot folder layout: which files to read, and what their folders say about account
//! and region.
//!
//! `<root>/<account_id>/<region>/<file>.json` is peerscope's layout; Batfish's
//! `aws_configs/accounts/<id>/<region>/`, `aws_configs/<region>/` and files straight in
//! `aws_configs/` read the same way: the folder a file sits in names its region when it looks
//! like one, and the folder above that names the account (unless it is the root or a
//! conventional container name). Where folders say nothing, the data decides (see `build`).

use std::io;
use std::path::{Path, PathBuf};

use crate::ids::{AccountId, Region, looks_like_region};

/// A JSON file of the snapshot and what its path says.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct SnapshotFile {
    /// Path relative to the snapshot root, for diagnostics.
    pub rel: PathBuf,
    pub path: PathBuf,
    pub account: Option<AccountId>,
    pub region: Option<Region>,
}

/// Folder names that group accounts or configs rather than naming an account.
const CONTAINERS: &[&str] = &["aws_configs", "accounts"];

/// The file peerscope's collector writes beside the account folders.
pub const MANIFEST: &str = "manifest.json";

/// The folder at a snapshot's root that the loader skips: proposed changes for `what-if`.
pub const CHANGES: &str = "changes";

/// Lists the snapshot's `*.json` files in sorted order (hidden folders skipped, symlinked
/// folders not followed), excluding the root's `manifest.json` and its `changes/` folder.
/// Every entry named `*.json` that is not a folder is listed, whatever its type: the loader
/// reads only regular files ([`crate::input::read_regular`]) and reports the others, so a
/// device or FIFO among the files is named in a diagnostic rather than silently skipped.
pub fn list_files(root: &Path) -> io::Result<Vec<SnapshotFile>> {
    let mut out = Vec::new();
    walk(root, root, 0, &mut out)?;
    out.sort();
    Ok(out)
}

fn walk(root: &Path, dir: &Path, depth: usize, out: &mut Vec<SnapshotFile>) -> io::Result<()> {
    // Deeper trees than this are not snapshots; the bound also stops pathological recursion.
    if depth > 16 {
        return Ok(());
    }
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') {
            continue;
        }
        let ty = entry.file_type()?;
        let path = entry.path();
        if ty.is_dir() {
            // A snapshot's own `changes/` folder holds proposed changes for `what-if` (change
            // files, Terraform plans), not describe output.
            if depth == 0 && name == CHANGES {
                continue;
            }
            walk(root, &path, depth + 1, out)?;
        } else if name.ends_with(".json") {
            if depth == 0 && name == MANIFEST {
                continue;
            }
            let rel = path.strip_prefix(root).unwrap_or(&path).to_path_buf();
            let (account, region) = location_of(&rel);
            out.push(SnapshotFile {
                rel,
                path,
                account,
                region,
            });
        }
    }
    Ok(())
}

/// What a path relative to the root says about account and region.
pub fn location_of(rel: &Path) -> (Option<AccountId>, Option<Region>) {
    let dirs: Vec<&str> = rel
        .parent()
        .map(|p| p.iter().filter_map(|c| c.to_str()).collect())
        .unwrap_or_default();
    let Some((last, above)) = dirs.split_last() else {
        return (None, None);
    };
    if !looks_like_region(last) {
        return (None, None);
    }
    let account = above
        .last()
        .filter(|a| !CONTAINERS.contains(a))
        .map(|a| AccountId::new(*a));
    (account, Some(Region::new(*last)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loc(p: &str) -> (Option<String>, Option<String>) {
        let (a, r) = location_of(Path::new(p));
        (a.map(|a| a.to_string()), r.map(|r| r.to_string()))
    }

    #[test]
    fn peerscope_layout() {
        assert_eq!(
            loc("111111111111/us-east-1/describe-vpcs.json"),
            (Some("111111111111".into()), Some("us-east-1".into()))
        );
    }

    #[test]
    fn batfish_layouts() {
        assert_eq!(
            loc("aws_configs/accounts/123456789012/us-east-1/Vpcs.json"),
            (Some("123456789012".into()), Some("us-east-1".into()))
        );
        assert_eq!(
            loc("aws_configs/us-west-2/Vpcs.json"),
            (None, Some("us-west-2".into()))
        );
        assert_eq!(loc("us-west-2/Vpcs.json"), (None, Some("us-west-2".into())));
        assert_eq!(loc("aws_configs/Vpcs.json"), (None, None));
        assert_eq!(loc("Vpcs.json"), (None, None));
    }

    #[test]
    fn non_region_folder_names_nothing() {
        assert_eq!(loc("some/folder/Vpcs.json"), (None, None));
    }
}
