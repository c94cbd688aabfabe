//! Bounded reads of input files, so no input can make peerscope read without end (issue 13: a snapshot file
//! that was a symlink to `/dev/zero` grew the process to 17 GB).
//!
//! Two kinds of input file are read differently. Files peerscope *finds* (the `*.json` of a
//! snapshot folder, its `manifest.json`, a snapshot's own `intent.toml`) must be regular files
//! (a symlink to one is fine): a device, FIFO or socket is refused without being opened, since
//! opening some devices has effects and opening a FIFO blocks. Files the user *names* (`--intent`,
//! `--change`, `--terraform-plan`, `--baseline`) may be anything the user can open, a pipe from
//! `<(…)` included, since reading them is what was asked for. Both are read through
//! [`std::io::Read::take`] with a size limit, so a file that grows while it is read (or a device
//! without end) costs at most the limit plus one byte.

use std::io::Read;
use std::path::Path;

use bytesize::ByteSize;

/// The default per-file size limit (`--max-file-size`). Measured: the largest file `peerscope
/// gen` writes is 3.8 MiB at tier L (compact JSON) and 6.0 MiB at tier XL with `--pretty` (a hub
/// account's route tables). A network interface takes 1.3–4 KB of `aws --output json`, so 256
/// MiB holds some 65,000 interfaces in one account-region, thirteen times AWS's default quota
/// of 5,000 per region; a larger account raises the limit with the flag.
pub const DEFAULT_MAX_FILE_SIZE: u64 = 256 * 1024 * 1024;

/// Why an input file was not read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// A found file that is not a regular file (nor a symlink to one); never opened.
    #[error("not a regular file ({0}): not read")]
    NotRegular(&'static str),
    /// Larger than the limit (by its size, or it grew past the limit while read).
    #[error("{} is larger than the limit of {} (--max-file-size raises it): not read", describe(*.size), ByteSize(*.limit).display().iec())]
    TooLarge {
        /// The size the file had, when known; `None` when it grew past the limit while read.
        size: Option<u64>,
        limit: u64,
    },
    #[error("cannot read: {0}")]
    Io(#[from] std::io::Error),
}

fn describe(size: Option<u64>) -> String {
    match size {
        Some(s) => format!("the file ({})", ByteSize(s).display().iec()),
        None => "the file (it grew while read)".into(),
    }
}

/// What kind of file a type is, for [`ReadError::NotRegular`].
fn kind_of(ty: std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if ty.is_char_device() {
            return "a character device";
        }
        if ty.is_block_device() {
            return "a block device";
        }
        if ty.is_fifo() {
            return "a FIFO";
        }
        if ty.is_socket() {
            return "a socket";
        }
    }
    if ty.is_dir() {
        "a folder"
    } else {
        "not a file"
    }
}

/// Reads a file that peerscope found in a folder: only a regular file (following symlinks),
/// at most `limit` bytes.
pub fn read_regular(path: &Path, limit: u64) -> Result<Vec<u8>, ReadError> {
    // Checked before opening: a device or FIFO is never opened.
    let meta = std::fs::metadata(path)?;
    if !meta.is_file() {
        return Err(ReadError::NotRegular(kind_of(meta.file_type())));
    }
    if meta.len() > limit {
        return Err(ReadError::TooLarge {
            size: Some(meta.len()),
            limit,
        });
    }
    let file = open_nonblocking(path)?;
    // Checked again on what was opened: the path may have been replaced in between.
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(ReadError::NotRegular(kind_of(meta.file_type())));
    }
    read_at_most(file, meta.len(), limit)
}

/// Reads a file the user named (any kind they can open, a pipe included), at most `limit`
/// bytes.
pub fn read_named(path: &Path, limit: u64) -> Result<Vec<u8>, ReadError> {
    let file = std::fs::File::open(path)?;
    let meta = file.metadata()?;
    if meta.is_dir() {
        return Err(ReadError::NotRegular(kind_of(meta.file_type())));
    }
    if meta.is_file() && meta.len() > limit {
        return Err(ReadError::TooLarge {
            size: Some(meta.len()),
            limit,
        });
    }
    read_at_most(file, if meta.is_file() { meta.len() } else { 0 }, limit)
}

/// [`read_named`] as UTF-8 text; invalid UTF-8 is an `InvalidData` error naming the offset.
pub fn read_named_to_string(path: &Path, limit: u64) -> Result<String, ReadError> {
    let bytes = read_named(path, limit)?;
    String::from_utf8(bytes).map_err(|e| {
        ReadError::Io(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!(
                "not UTF-8 text (invalid byte at offset {})",
                e.utf8_error().valid_up_to()
            ),
        ))
    })
}

/// Opens for reading without blocking on a FIFO that replaced a checked path, and without
/// making a terminal device the controlling terminal.
fn open_nonblocking(path: &Path) -> std::io::Result<std::fs::File> {
    let mut opts = std::fs::OpenOptions::new();
    opts.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY);
    }
    opts.open(path)
}

/// Reads to the end, but never more than `limit + 1` bytes: one more than the limit says the
/// file grew past it.
fn read_at_most(file: std::fs::File, size_hint: u64, limit: u64) -> Result<Vec<u8>, ReadError> {
    let mut bytes = Vec::with_capacity(size_hint.min(limit) as usize);
    file.take(limit.saturating_add(1)).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(ReadError::TooLarge { size: None, limit });
    }
    Ok(bytes)
}

/// Parses a `--max-file-size` value: bytes, or with a unit (`512MiB`, `1 GiB`, `2GB`).
pub fn parse_size(s: &str) -> Result<u64, String> {
    let size: ByteSize = s
        .trim()
        .parse()
        .map_err(|e| format!("{e} (expected a size such as 512MiB or 1GiB)"))?;
    if size.as_u64() == 0 {
        return Err("must be more than 0 bytes".into());
    }
    Ok(size.as_u64())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_regular_file_within_the_limit_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.json");
        std::fs::write(&p, b"{}").unwrap();
        assert_eq!(read_regular(&p, 2).unwrap(), b"{}");
        assert!(matches!(
            read_regular(&p, 1),
            Err(ReadError::TooLarge {
                size: Some(2),
                limit: 1
            })
        ));
        assert!(matches!(
            read_named(&p, 1),
            Err(ReadError::TooLarge { size: Some(2), .. })
        ));
    }

    #[cfg(unix)]
    #[test]
    fn devices_are_refused_when_found_and_bounded_when_named() {
        let dev = Path::new("/dev/zero");
        assert!(matches!(
            read_regular(dev, 1024),
            Err(ReadError::NotRegular("a character device"))
        ));
        // Named on purpose: read, but never past the limit.
        assert!(matches!(
            read_named(dev, 1024),
            Err(ReadError::TooLarge { size: None, .. })
        ));
        let dir = tempfile::tempdir().unwrap();
        let link = dir.path().join("zero.json");
        std::os::unix::fs::symlink(dev, &link).unwrap();
        let e = read_regular(&link, 1024).unwrap_err();
        assert_eq!(
            e.to_string(),
            "not a regular file (a character device): not read"
        );
    }

    /// A file whose size says less than it holds (as one that grows while read does): reading
    /// stops one byte past the limit. Files in /proc report size 0 and are read to their end.
    #[cfg(target_os = "linux")]
    #[test]
    fn reading_stops_at_the_limit_whatever_the_size_said() {
        let status = Path::new("/proc/self/status");
        assert_eq!(std::fs::metadata(status).unwrap().len(), 0);
        assert!(matches!(
            read_regular(status, 16),
            Err(ReadError::TooLarge {
                size: None,
                limit: 16
            })
        ));
        assert!(read_regular(status, 1 << 20).unwrap().len() > 16);
    }

    #[test]
    fn sizes_parse_with_units() {
        assert_eq!(parse_size("1024"), Ok(1024));
        assert_eq!(parse_size("512MiB"), Ok(512 << 20));
        assert_eq!(parse_size("1 GiB"), Ok(1 << 30));
        assert!(parse_size("lots").is_err());
        assert!(parse_size("0").is_err());
    }
}
