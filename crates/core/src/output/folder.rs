//! Snapshot folders (`snapshot --out`, `gen --out`): written in a hidden staging folder and
//! moved into place at the end, never over anything peerscope did not write.
//!
//! - **Where a run may write.** A new folder, an empty one, or one peerscope wrote before (its
//!   `manifest.json` carries peerscope's mark, [`Manifest::is_peerscope`]). Anything else is
//!   refused before the run starts. In a folder of peerscope's, a run replaces exactly the
//!   entries the old manifest lists as written ([`Manifest::owned`]: account folders) and the
//!   manifest; `intent.toml`, `changes/`, baselines, a README and anything else beside them
//!   survive. An entry the run would write that the old manifest does not list (a folder the user
//!   put there) is refused at the end, before anything is changed.
//! - **Staging.** Files are written into `snapshot/` inside a hidden staging folder: beside a
//!   new `--out` (`.NAME.peerscope-partial-XXXXXX`), or inside an existing one
//!   (`.peerscope-partial-XXXXXX`, which the loader skips, as it skips every hidden entry). The
//!   staging folder holds a lock file (`.peerscope-staging`, locked with `flock` while the run
//!   lives); a later run writing to the same place removes any staging folder whose lock is free,
//!   so a killed run's partial output does not stay forever. Dropped without a commit (an error,
//!   a panic), the staging folder is removed.
//! - **Commit.** Into a new folder: the manifest is written into the staged tree, which is then
//!   renamed into place, one atomic step. Into an existing folder, entry by entry: first a
//!   manifest with `complete: false` (listing the old and the new entries) replaces the old one,
//!   then the old entries move into the staging folder, the new ones move in, and the final
//!   manifest is written last. A run stopped midway leaves a folder whose manifest says it is
//!   incomplete: the loader reports it (`partial-snapshot`, error level), and the next run
//!   replaces it like any folder of peerscope's.

use std::collections::BTreeSet;
use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};

use super::{OutputError, is_stdout};
use crate::snapshot::layout::MANIFEST;
use crate::snapshot::manifest::{self, Manifest};

/// The lock file in every staging folder.
const LOCK: &str = ".peerscope-staging";
/// In the name of every staging folder.
const PARTIAL: &str = "peerscope-partial-";
/// The staged snapshot, inside the staging folder.
const CONTENT: &str = "snapshot";
/// Where an existing folder's replaced entries go, inside the staging folder.
const REPLACED: &str = "replaced";

/// A snapshot folder being written.
#[derive(Debug)]
pub struct Staging {
    dir: tempfile::TempDir,
    /// Open, and locked, for as long as the run lives.
    _lock: File,
    /// `dir/snapshot`: where the files are written.
    root: PathBuf,
    /// `--out` as the user gave it: every message names this.
    out: PathBuf,
    /// Where the snapshot goes: `out`, or the folder a symlink at `out` leads to.
    target: PathBuf,
    /// Did `target` exist (as a folder) when the run started?
    existing: bool,
    /// Staging folders of dead runs that were removed.
    removed: Vec<PathBuf>,
}

impl Staging {
    /// Checks that `out` may be written (see the module doc), removes dead runs' staging
    /// folders there, and creates this run's.
    pub fn new(out: &Path) -> Result<Staging, OutputError> {
        if is_stdout(out) {
            return Err(OutputError::FolderToStdout {
                path: out.to_path_buf(),
            });
        }
        let (existing, location, target, prefix) = match fs::metadata(out) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                if fs::symlink_metadata(out).is_ok() {
                    return Err(OutputError::NotAFolder {
                        path: out.to_path_buf(),
                    });
                }
                let parent = match out.parent() {
                    Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
                    _ => PathBuf::from("."),
                };
                let Some(name) = out.file_name() else {
                    return Err(OutputError::NotAFolder {
                        path: out.to_path_buf(),
                    });
                };
                fs::create_dir_all(&parent)
                    .map_err(OutputError::io(out, "cannot create its parent folder"))?;
                let prefix = format!(".{}.{PARTIAL}", name.to_string_lossy());
                (false, parent, out.to_path_buf(), prefix)
            }
            Err(e) => return Err(OutputError::io(out, "cannot inspect")(e)),
            Ok(m) if m.is_dir() => {
                let real = fs::canonicalize(out).map_err(OutputError::io(out, "cannot inspect"))?;
                (true, real.clone(), real, format!(".{PARTIAL}"))
            }
            Ok(_) => {
                return Err(OutputError::NotAFolder {
                    path: out.to_path_buf(),
                });
            }
        };
        let removed = remove_dead(&location);
        if existing {
            ours(out, &target)?;
        }
        let dir = tempfile::Builder::new()
            .prefix(&prefix)
            .tempdir_in(&location)
            .map_err(OutputError::io(out, "cannot create a staging folder"))?;
        let lock_path = dir.path().join(LOCK);
        fs::write(
            &lock_path,
            format!(
                "The staging folder of an unfinished peerscope run writing {}.\n\
                 It is removed when the run ends, or by the next run writing there once this one is gone.\n",
                out.display()
            ),
        )
        .map_err(OutputError::io(out, "cannot create a staging folder"))?;
        let lock = File::open(&lock_path)
            .map_err(OutputError::io(out, "cannot create a staging folder"))?;
        // Without flock (some network file systems) the folder is still removed at the end of
        // the run; only a killed run's would stay.
        let _ = try_lock(&lock);
        let root = dir.path().join(CONTENT);
        fs::create_dir(&root).map_err(OutputError::io(out, "cannot create a staging folder"))?;
        Ok(Staging {
            dir,
            _lock: lock,
            root,
            out: out.to_path_buf(),
            target,
            existing,
            removed,
        })
    }

    /// The folder to write the snapshot's files into.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The staging folder itself (removed when this value is dropped).
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Staging folders of interrupted runs that [`Staging::new`] removed.
    pub fn removed(&self) -> &[PathBuf] {
        &self.removed
    }

    /// Writes one file, `rel` relative to the snapshot root.
    pub fn write(&self, rel: &Path, bytes: &[u8]) -> io::Result<()> {
        let path = self.root.join(rel);
        if let Some(p) = path.parent() {
            fs::create_dir_all(p)?;
        }
        fs::write(path, bytes)
    }

    /// Writes `manifest` (marked complete, its `written` filled in) and moves the snapshot into
    /// place (see the module doc).
    pub fn commit(self, manifest: &Manifest) -> Result<(), OutputError> {
        self.commit_inner(manifest, false)
    }

    /// `stop_midway`: for tests, return an error after the old entries were moved aside, as a
    /// run killed there would leave the folder.
    fn commit_inner(self, manifest: &Manifest, stop_midway: bool) -> Result<(), OutputError> {
        let out = self.out.as_path();
        let mut names = Vec::new();
        for e in fs::read_dir(&self.root)
            .map_err(OutputError::io(out, "cannot read the staged snapshot"))?
        {
            let e = e.map_err(OutputError::io(out, "cannot read the staged snapshot"))?;
            let name = e.file_name().to_string_lossy().into_owned();
            if name != MANIFEST {
                names.push(name);
            }
        }
        names.sort();
        let mut done = manifest.clone();
        done.complete = true;
        done.written = Some(names.clone());
        write_manifest(&self.root.join(MANIFEST), &done)
            .map_err(OutputError::io(out, "cannot write manifest.json"))?;
        if !self.existing {
            return fs::rename(&self.root, &self.target)
                .map_err(OutputError::io(out, "cannot move the snapshot into place"));
        }

        // The folder may have changed during the run: check it again, and that nothing the
        // run would write is in the way, before changing anything.
        let owned = ours(out, &self.target)?
            .map(|m| m.owned())
            .unwrap_or_default();
        for n in &names {
            if !owned.contains(n) && fs::symlink_metadata(self.target.join(n)).is_ok() {
                return Err(OutputError::InTheWay {
                    path: out.to_path_buf(),
                    name: n.clone(),
                });
            }
        }
        let all: BTreeSet<String> = owned.into_iter().chain(names.iter().cloned()).collect();
        let mut marking = done.clone();
        marking.complete = false;
        marking.written = Some(all.iter().cloned().collect());
        let marking_path = self.dir.path().join("manifest.incomplete.json");
        write_manifest(&marking_path, &marking)
            .and_then(|()| fs::rename(&marking_path, self.target.join(MANIFEST)))
            .map_err(OutputError::io(out, "cannot write manifest.json"))?;

        let replaced = self.dir.path().join(REPLACED);
        let swap = || -> io::Result<()> {
            fs::create_dir(&replaced)?;
            for n in &all {
                let p = self.target.join(n);
                if fs::symlink_metadata(&p).is_ok() {
                    fs::rename(&p, replaced.join(n))?;
                }
            }
            if stop_midway {
                return Err(io::Error::other("stopped midway (test)"));
            }
            for n in &names {
                fs::rename(self.root.join(n), self.target.join(n))?;
            }
            fs::rename(self.root.join(MANIFEST), self.target.join(MANIFEST))
        };
        swap().map_err(|source| OutputError::Midway {
            path: out.to_path_buf(),
            source,
        })
    }
}

/// Is the existing folder `target` one a run may write into? `Ok(Some)` with its manifest when
/// peerscope wrote it, `Ok(None)` when it is empty (but for staging folders).
fn ours(out: &Path, target: &Path) -> Result<Option<Manifest>, OutputError> {
    let not_ours = |why: &str| OutputError::NotOurs {
        path: out.to_path_buf(),
        why: why.to_owned(),
    };
    let mut empty = true;
    for e in fs::read_dir(target).map_err(OutputError::io(out, "cannot list"))? {
        let e = e.map_err(OutputError::io(out, "cannot list"))?;
        let name = e.file_name().to_string_lossy().into_owned();
        if !(name.starts_with('.') && name.contains(PARTIAL)) {
            empty = false;
        }
    }
    let path = target.join(MANIFEST);
    match fs::symlink_metadata(&path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound && empty => return Ok(None),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err(not_ours("it holds files and no manifest.json"));
        }
        Err(e) => return Err(OutputError::io(out, "cannot inspect manifest.json")(e)),
        Ok(m) if !m.is_file() => {
            return Err(not_ours("its manifest.json is not a regular file"));
        }
        Ok(_) => {}
    }
    match manifest::read(target) {
        Ok(Some(m)) if m.is_peerscope() => Ok(Some(m)),
        Ok(_) => Err(not_ours("its manifest.json was not written by peerscope")),
        Err(e) => Err(not_ours(&format!("its manifest.json: {e}"))),
    }
}

fn write_manifest(path: &Path, m: &Manifest) -> io::Result<()> {
    let mut bytes = serde_json::to_vec_pretty(m).map_err(io::Error::other)?;
    bytes.push(b'\n');
    fs::write(path, bytes)
}

/// Removes the staging folders in `location` whose run is gone (their lock is free); returns
/// them. Best effort: anything that cannot be inspected or removed is left.
fn remove_dead(location: &Path) -> Vec<PathBuf> {
    let mut removed = Vec::new();
    let Ok(entries) = fs::read_dir(location) else {
        return removed;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if !(name.starts_with('.') && name.contains(PARTIAL)) {
            continue;
        }
        // Never follow a symlink out of the folder.
        if !e.file_type().is_ok_and(|t| t.is_dir()) {
            continue;
        }
        let Ok(lock) = File::open(e.path().join(LOCK)) else {
            continue;
        };
        if try_lock(&lock).unwrap_or(false) && fs::remove_dir_all(e.path()).is_ok() {
            removed.push(e.path());
        }
    }
    removed
}

/// Takes an exclusive `flock` without waiting: `Ok(false)` when another process holds it.
#[cfg(unix)]
fn try_lock(file: &File) -> io::Result<bool> {
    use std::os::fd::AsRawFd;
    // SAFETY: flock(2) only reads the descriptor, which `file` keeps open during the call.
    let r = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    if r == 0 {
        return Ok(true);
    }
    let e = io::Error::last_os_error();
    if e.kind() == io::ErrorKind::WouldBlock {
        Ok(false)
    } else {
        Err(e)
    }
}

/// Elsewhere no staging folder is ever taken for dead.
#[cfg(not(unix))]
fn try_lock(_: &File) -> io::Result<bool> {
    Ok(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest() -> Manifest {
        Manifest::new("test")
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn writes_a_new_folder_then_replaces_only_its_own_entries() {
        let root = tempfile::tempdir().unwrap();
        let out = root.path().join("snap");
        let s = Staging::new(&out).unwrap();
        s.write(Path::new("111111111111/us-east-1/a.json"), b"1")
            .unwrap();
        s.write(Path::new("222222222222/us-east-1/a.json"), b"2")
            .unwrap();
        assert!(!out.exists(), "nothing under --out before the end");
        s.commit(&manifest()).unwrap();
        assert_eq!(names(root.path()), ["snap"], "no staging folder left");
        assert_eq!(
            names(&out),
            ["111111111111", "222222222222", "manifest.json"]
        );

        // The user keeps their files beside the snapshot.
        fs::write(out.join("intent.toml"), b"# mine").unwrap();
        fs::create_dir(out.join("changes")).unwrap();
        fs::write(out.join("changes/c.json"), b"[]").unwrap();
        let s = Staging::new(&out).unwrap();
        s.write(Path::new("111111111111/us-east-1/b.json"), b"new")
            .unwrap();
        s.commit(&manifest()).unwrap();
        assert_eq!(
            names(&out),
            ["111111111111", "changes", "intent.toml", "manifest.json"]
        );
        assert_eq!(names(&out.join("111111111111/us-east-1")), ["b.json"]);
        assert_eq!(fs::read(out.join("intent.toml")).unwrap(), b"# mine");
        let m = manifest::read(&out).unwrap().unwrap();
        assert!(m.complete && m.is_peerscope());
        assert_eq!(m.written, Some(vec!["111111111111".to_owned()]));
    }

    #[test]
    fn refuses_a_folder_that_is_not_a_snapshot_of_peerscopes() {
        let root = tempfile::tempdir().unwrap();
        fs::write(root.path().join("precious.txt"), b"x").unwrap();
        let e = Staging::new(root.path()).unwrap_err().to_string();
        assert!(e.contains("no manifest.json"), "{e}");
        fs::write(root.path().join("manifest.json"), br#"{"name": "app"}"#).unwrap();
        let e = Staging::new(root.path()).unwrap_err().to_string();
        assert!(e.contains("not written by peerscope"), "{e}");
        assert_eq!(names(root.path()), ["manifest.json", "precious.txt"]);
        let e = Staging::new(&root.path().join("precious.txt"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("not a folder"), "{e}");
    }

    #[test]
    fn refuses_an_entry_in_the_way_and_changes_nothing() {
        let root = tempfile::tempdir().unwrap();
        let out = root.path();
        fs::write(
            out.join("manifest.json"),
            br#"{"generator": "peerscope", "written": ["111111111111"]}"#,
        )
        .unwrap();
        fs::create_dir(out.join("222222222222")).unwrap();
        fs::write(out.join("222222222222/mine.json"), b"{}").unwrap();
        let s = Staging::new(out).unwrap();
        s.write(Path::new("222222222222/us-east-1/a.json"), b"1")
            .unwrap();
        let e = s.commit(&manifest()).unwrap_err().to_string();
        assert!(e.contains("222222222222 is in the way"), "{e}");
        assert_eq!(names(out), ["222222222222", "manifest.json"]);
        assert_eq!(names(&out.join("222222222222")), ["mine.json"]);
    }

    #[test]
    fn a_run_stopped_midway_leaves_an_incomplete_manifest_that_the_next_run_replaces() {
        let root = tempfile::tempdir().unwrap();
        let out = root.path().join("snap");
        let s = Staging::new(&out).unwrap();
        s.write(Path::new("111111111111/a.json"), b"1").unwrap();
        s.commit(&manifest()).unwrap();
        fs::write(out.join("intent.toml"), b"# mine").unwrap();

        let s = Staging::new(&out).unwrap();
        s.write(Path::new("222222222222/a.json"), b"2").unwrap();
        assert!(matches!(
            s.commit_inner(&manifest(), true),
            Err(OutputError::Midway { .. })
        ));
        let m = manifest::read(&out).unwrap().unwrap();
        assert!(!m.complete);
        assert_eq!(
            m.written,
            Some(vec!["111111111111".to_owned(), "222222222222".to_owned()])
        );

        let s = Staging::new(&out).unwrap();
        s.write(Path::new("333333333333/a.json"), b"3").unwrap();
        s.commit(&manifest()).unwrap();
        assert_eq!(
            names(&out),
            ["333333333333", "intent.toml", "manifest.json"]
        );
        assert!(manifest::read(&out).unwrap().unwrap().complete);
    }

    #[test]
    fn an_abandoned_run_leaves_nothing_and_a_dead_runs_folder_is_removed() {
        let root = tempfile::tempdir().unwrap();
        let out = root.path().join("snap");
        let s = Staging::new(&out).unwrap();
        s.write(Path::new("x.json"), b"1").unwrap();
        drop(s);
        assert_eq!(fs::read_dir(root.path()).unwrap().count(), 0);

        // A killed run: its staging folder stays, with a lock nobody holds.
        let s = Staging::new(&out).unwrap();
        let dead = s.path().to_path_buf();
        let kept = root.path().join("kept");
        fs::rename(&dead, &kept).unwrap();
        drop(s);
        fs::rename(&kept, &dead).unwrap();
        // A live run's folder is not touched.
        let live = Staging::new(&out).unwrap();
        assert_eq!(live.removed(), std::slice::from_ref(&dead));
        assert!(!dead.exists());
        let other = Staging::new(&out).unwrap();
        assert!(other.removed().is_empty());
        assert!(live.path().is_dir());
    }
}
