//! The staging folder: a run writes into a hidden temporary folder beside `--out` and renames
//! it into place at the end, so an interrupted run never leaves a half snapshot under `--out`.
//!
//! An existing `--out` is replaced only when it is empty or holds an earlier snapshot (a
//! `manifest.json`): never a folder peerscope did not write.

use std::io;
use std::path::{Path, PathBuf};

/// A snapshot being written.
#[derive(Debug)]
pub struct Staging {
    dir: tempfile::TempDir,
    out: PathBuf,
}

impl Staging {
    /// Checks that `out` may be written and creates the staging folder beside it.
    pub fn new(out: &Path) -> io::Result<Staging> {
        if out.exists() {
            if !out.is_dir() {
                return Err(io::Error::other("exists and is not a folder"));
            }
            let empty = std::fs::read_dir(out)?.next().is_none();
            let snapshot = out.join(crate::snapshot::layout::MANIFEST).is_file();
            if !empty && !snapshot {
                return Err(io::Error::other(
                    "exists and is not a peerscope snapshot (no manifest.json): not replacing it",
                ));
            }
        }
        let parent = match out.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        std::fs::create_dir_all(&parent)?;
        let name = out
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "snapshot".into());
        let dir = tempfile::Builder::new()
            .prefix(&format!(".{name}.partial-"))
            .tempdir_in(&parent)?;
        Ok(Staging {
            dir,
            out: out.to_path_buf(),
        })
    }

    /// Writes one file, `rel` relative to the snapshot root.
    pub fn write(&self, rel: &Path, bytes: &[u8]) -> io::Result<()> {
        let path = self.dir.path().join(rel);
        if let Some(p) = path.parent() {
            std::fs::create_dir_all(p)?;
        }
        std::fs::write(path, bytes)
    }

    /// Moves the finished snapshot into place, replacing an earlier one.
    pub fn commit(self) -> io::Result<()> {
        let staged = self.dir.keep();
        if self.out.exists() {
            // Rename the old snapshot aside first: `out` is then absent only between two
            // renames, and never half written.
            let parent = staged.parent().unwrap_or(Path::new("."));
            let old = tempfile::Builder::new()
                .prefix(".peerscope-replaced-")
                .tempdir_in(parent)?
                .keep();
            let old = old.join("snapshot");
            std::fs::rename(&self.out, &old)?;
            if let Err(e) = std::fs::rename(&staged, &self.out) {
                let _ = std::fs::rename(&old, &self.out);
                return Err(e);
            }
            if let Some(p) = old.parent() {
                let _ = std::fs::remove_dir_all(p);
            }
        } else {
            std::fs::rename(&staged, &self.out)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_then_renames_into_place_and_replaces_an_earlier_snapshot() {
        let root = tempfile::tempdir().unwrap();
        let out = root.path().join("snap");
        let s = Staging::new(&out).unwrap();
        s.write(Path::new("manifest.json"), b"{}").unwrap();
        s.write(Path::new("1/us-east-1/a.json"), b"1").unwrap();
        assert!(!out.exists(), "nothing under --out before the end");
        s.commit().unwrap();
        assert_eq!(std::fs::read(out.join("1/us-east-1/a.json")).unwrap(), b"1");

        let s = Staging::new(&out).unwrap();
        s.write(Path::new("manifest.json"), b"{}").unwrap();
        s.write(Path::new("2/us-east-1/b.json"), b"2").unwrap();
        s.commit().unwrap();
        assert!(!out.join("1").exists());
        assert!(out.join("2/us-east-1/b.json").is_file());
        // No staging or replaced folders are left behind.
        let left: Vec<_> = std::fs::read_dir(root.path()).unwrap().collect();
        assert_eq!(left.len(), 1);
    }

    #[test]
    fn refuses_to_replace_a_folder_that_is_not_a_snapshot() {
        let root = tempfile::tempdir().unwrap();
        std::fs::write(root.path().join("precious.txt"), b"x").unwrap();
        assert!(Staging::new(root.path()).is_err());
    }

    #[test]
    fn an_abandoned_run_leaves_nothing() {
        let root = tempfile::tempdir().unwrap();
        let out = root.path().join("snap");
        let s = Staging::new(&out).unwrap();
        s.write(Path::new("x.json"), b"1").unwrap();
        drop(s);
        assert_eq!(std::fs::read_dir(root.path()).unwrap().count(), 0);
    }
}
