//! Everything peerscope writes to the file system goes through here (issue 13, "never
//! clobber"): single files ([`FileOutput`], [`Output`]) and snapshot folders
//! ([`folder::Staging`]).
//!
//! The policy, in one place:
//! - **`-` is standard output**, wherever an option accepts it (`graph --out -`); where standard
//!   output already carries the command's report (`audit --write-baseline`, `gen --queries`), `-`
//!   is refused, never taken as a file named `-` (write `./-` for that).
//! - **Only regular files are written.** A FIFO, a device, a socket, a folder, or a symlink to
//!   any of them (or to nothing) is refused with an error naming the path as given; peerscope
//!   never replaces or writes into them. A symlink to a regular file is followed: the target is
//!   replaced and the link kept.
//! - **Atomic replacement.** A file is written to a temporary file in the target's folder,
//!   synced, and renamed over the target, so a reader sees the old or the new content, never
//!   half. The temporary file is created with mode 0666 less the umask (as the shell would create
//!   the file), and an existing target's permission bits are copied onto it.
//! - **Snapshot folders** ([`folder`]) are written into a new or empty folder, or into one
//!   peerscope wrote (its `manifest.json` says so), replacing only what peerscope wrote there.
//!
//! Errors are [`OutputError`]s, each naming the path the user gave; the CLI exits 2 on them.

pub mod folder;

pub use folder::Staging;

use std::fs::{self, Metadata};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

/// Why an output could not be written.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    #[error(
        "{}: is {what}, not a regular file: peerscope writes its outputs only to regular files{hint}",
        path.display()
    )]
    NotRegular {
        path: PathBuf,
        what: String,
        /// How to get what the user may have meant, or empty.
        hint: &'static str,
    },
    #[error(
        "{}: `-` means standard output, which carries {carries} here: name a file (`./-` for a file named -)",
        path.display()
    )]
    StdoutTaken {
        path: PathBuf,
        carries: &'static str,
    },
    #[error("{}: {action}: {source}", path.display())]
    Io {
        path: PathBuf,
        action: &'static str,
        #[source]
        source: io::Error,
    },
    #[error("{}: exists and is not a folder", path.display())]
    NotAFolder { path: PathBuf },
    #[error("{}: a snapshot is a folder of files, which standard output cannot take: name a folder", path.display())]
    FolderToStdout { path: PathBuf },
    #[error(
        "{}: not writing into this folder: {why}; peerscope writes a snapshot only into a new or empty folder, or into one it wrote itself (its manifest.json says so)",
        path.display()
    )]
    NotOurs { path: PathBuf, why: String },
    #[error(
        "{}: {name} is in the way: peerscope would write it, but the folder's manifest.json does not list it as peerscope's; move it away, or write to another folder",
        path.display()
    )]
    InTheWay { path: PathBuf, name: String },
    #[error(
        "{}: replacing the earlier snapshot failed midway ({source}); its manifest.json marks the folder incomplete: run again",
        path.display()
    )]
    Midway {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

impl OutputError {
    /// Maps an I/O error on `path` (as the user gave it) while doing `action`.
    pub(crate) fn io(path: &Path, action: &'static str) -> impl FnOnce(io::Error) -> OutputError {
        let path = path.to_path_buf();
        move |source| OutputError::Io {
            path,
            action,
            source,
        }
    }
}

/// Is this path `-`, standard output?
pub fn is_stdout(path: &Path) -> bool {
    path.as_os_str() == "-"
}

/// What a file type is, in words, for errors.
fn kind(meta: &Metadata) -> &'static str {
    let ft = meta.file_type();
    if ft.is_dir() {
        return "a folder";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if ft.is_fifo() {
            return "a named pipe (FIFO)";
        }
        if ft.is_char_device() {
            return "a character device";
        }
        if ft.is_block_device() {
            return "a block device";
        }
        if ft.is_socket() {
            return "a socket";
        }
    }
    "not a regular file"
}

/// A checked destination for one regular file, written atomically.
#[derive(Clone, Debug)]
pub struct FileOutput {
    /// As the user gave it: every message names this.
    path: PathBuf,
    /// Where the bytes go: `path`, or the regular file a symlink at `path` leads to.
    target: PathBuf,
}

impl FileOutput {
    /// Checks that `path` is a regular file, a symlink to one, or nothing yet. `-` is refused:
    /// use [`Output`] where standard output is an option.
    pub fn new(path: &Path) -> Result<FileOutput, OutputError> {
        Self::checked(path, "")
    }

    fn checked(path: &Path, hint: &'static str) -> Result<FileOutput, OutputError> {
        if is_stdout(path) {
            return Err(OutputError::StdoutTaken {
                path: path.to_path_buf(),
                carries: "the command's report",
            });
        }
        let refuse = |what: String| OutputError::NotRegular {
            path: path.to_path_buf(),
            what,
            hint,
        };
        let target = match fs::symlink_metadata(path) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => path.to_path_buf(),
            Err(e) => return Err(OutputError::io(path, "cannot inspect")(e)),
            Ok(m) if m.file_type().is_symlink() => match fs::metadata(path) {
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    return Err(refuse("a symlink to nothing".into()));
                }
                Err(e) => return Err(OutputError::io(path, "cannot follow the symlink")(e)),
                Ok(t) if t.is_file() => fs::canonicalize(path)
                    .map_err(OutputError::io(path, "cannot follow the symlink"))?,
                Ok(t) => return Err(refuse(format!("a symlink to {}", kind(&t)))),
            },
            Ok(m) if m.is_file() => path.to_path_buf(),
            Ok(m) => return Err(refuse(kind(&m).into())),
        };
        Ok(FileOutput {
            path: path.to_path_buf(),
            target,
        })
    }

    /// The path as the user gave it.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Replaces the file with `bytes`.
    pub fn write(&self, bytes: &[u8]) -> Result<(), OutputError> {
        let mut w = self.create()?;
        w.write_all(bytes)
            .map_err(OutputError::io(&self.path, "cannot write"))?;
        w.commit()
    }

    /// A writer for streaming output; nothing replaces the file until [`AtomicWriter::commit`].
    pub fn create(&self) -> Result<AtomicWriter, OutputError> {
        // The target is checked again: much may have happened since `new`.
        let again = Self::checked(&self.path, "")?;
        let dir = match again.target.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        let name = again
            .target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let prefix = format!(".{name}.peerscope-");
        let mut b = tempfile::Builder::new();
        b.prefix(&prefix).suffix(".tmp");
        // tempfile creates 0600 files; a new output gets what the shell would give it.
        #[cfg(unix)]
        b.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666));
        let tmp = b.tempfile_in(dir).map_err(OutputError::io(
            &self.path,
            "cannot create a file beside it",
        ))?;
        if let Ok(old) = fs::metadata(&again.target) {
            tmp.as_file()
                .set_permissions(old.permissions())
                .map_err(OutputError::io(&self.path, "cannot copy the file's mode"))?;
        }
        Ok(AtomicWriter {
            out: again,
            inner: BufWriter::new(tmp),
        })
    }
}

/// A file being written; dropped without [`commit`](AtomicWriter::commit), it leaves the target
/// untouched and removes its temporary file.
pub struct AtomicWriter {
    out: FileOutput,
    inner: BufWriter<tempfile::NamedTempFile>,
}

impl Write for AtomicWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.inner.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

impl AtomicWriter {
    /// Syncs the temporary file and renames it over the target.
    pub fn commit(self) -> Result<(), OutputError> {
        let path = self.out.path.clone();
        let tmp = self
            .inner
            .into_inner()
            .map_err(|e| OutputError::io(&path, "cannot write")(e.into_error()))?;
        tmp.as_file()
            .sync_all()
            .map_err(OutputError::io(&path, "cannot write"))?;
        // Checked once more just before the rename, which would replace whatever is there.
        let again = FileOutput::checked(&path, "")?;
        if again.target != self.out.target {
            return Err(OutputError::io(&path, "changed while it was written")(
                io::Error::other("its symlink now leads elsewhere"),
            ));
        }
        tmp.persist(&self.out.target)
            .map_err(|e| OutputError::io(&path, "cannot replace it")(e.error))?;
        Ok(())
    }
}

/// An output that may be standard output (`-`, or no path at all) or a regular file.
#[derive(Clone, Debug)]
pub enum Output {
    Stdout,
    File(FileOutput),
}

impl Output {
    /// `None` or `-`: standard output; anything else is checked as [`FileOutput::new`] does.
    pub fn new(path: Option<&Path>) -> Result<Output, OutputError> {
        match path {
            None => Ok(Output::Stdout),
            Some(p) if is_stdout(p) => Ok(Output::Stdout),
            Some(p) => Ok(Output::File(FileOutput::checked(
                p,
                " (`-` writes to standard output)",
            )?)),
        }
    }

    /// Writes all of `bytes`.
    pub fn write(&self, bytes: &[u8]) -> Result<(), OutputError> {
        match self {
            Output::Stdout => std::io::stdout()
                .lock()
                .write_all(bytes)
                .map_err(OutputError::io(Path::new("-"), "cannot write")),
            Output::File(f) => f.write(bytes),
        }
    }
}

/// Refuses `-` for an option whose standard output is taken by the command's report.
pub fn not_stdout(path: &Path, carries: &'static str) -> Result<(), OutputError> {
    if is_stdout(path) {
        return Err(OutputError::StdoutTaken {
            path: path.to_path_buf(),
            carries,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    fn mode(p: &Path) -> u32 {
        use std::os::unix::fs::PermissionsExt;
        fs::metadata(p).unwrap().permissions().mode() & 0o7777
    }

    #[test]
    fn writes_a_new_file_and_replaces_an_old_one_keeping_its_mode() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("out.txt");
        FileOutput::new(&p).unwrap().write(b"one").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"one");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_ne!(mode(&p), 0o600, "not tempfile's private mode");
            fs::set_permissions(&p, fs::Permissions::from_mode(0o640)).unwrap();
        }
        FileOutput::new(&p).unwrap().write(b"two").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"two");
        #[cfg(unix)]
        assert_eq!(mode(&p), 0o640);
        // Nothing else is left in the folder.
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn an_abandoned_writer_leaves_the_target_and_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("out.txt");
        fs::write(&p, b"old").unwrap();
        let mut w = FileOutput::new(&p).unwrap().create().unwrap();
        w.write_all(b"new").unwrap();
        drop(w);
        assert_eq!(fs::read(&p).unwrap(), b"old");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn refuses_a_folder_and_a_dash() {
        let dir = tempfile::tempdir().unwrap();
        let e = FileOutput::new(dir.path()).unwrap_err().to_string();
        assert!(e.contains("is a folder"), "{e}");
        assert!(matches!(
            FileOutput::new(Path::new("-")),
            Err(OutputError::StdoutTaken { .. })
        ));
        assert!(matches!(
            Output::new(Some(Path::new("-"))),
            Ok(Output::Stdout)
        ));
    }

    #[cfg(unix)]
    #[test]
    fn follows_a_symlink_to_a_regular_file_and_keeps_the_link() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real.txt");
        let link = dir.path().join("link.txt");
        fs::write(&real, b"old").unwrap();
        std::os::unix::fs::symlink(&real, &link).unwrap();
        FileOutput::new(&link).unwrap().write(b"new").unwrap();
        assert!(
            fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(fs::read(&real).unwrap(), b"new");
        // A dangling link is refused.
        let dangling = dir.path().join("dangling");
        std::os::unix::fs::symlink(dir.path().join("nowhere"), &dangling).unwrap();
        let e = FileOutput::new(&dangling).unwrap_err().to_string();
        assert!(e.contains("a symlink to nothing"), "{e}");
    }
}
