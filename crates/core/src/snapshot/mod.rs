//! Reading a snapshot folder: the one place that knows AWS's JSON.
//!
//! [`load`] lists the folder's files ([`layout`]), parses them in parallel into serde mirrors
//! ([`parse`], [`raw`]) and builds the validated [`Model`] with every diagnostic ([`build`]).
//! Partial success is a value: [`Loaded`] carries what parsed and what did not; only an unusable
//! input (not a folder, nothing recognisable) is an `Err`.

mod build;
pub mod convert;
mod damage;
pub mod layout;
pub mod manifest;
mod origins;
pub use origins::Origins;
mod parse;
mod raw;

use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::diagnostics::{Code, Diagnostic, Severity};
use crate::model::Model;
use layout::SnapshotFile;

/// A loaded snapshot.
#[derive(Debug)]
pub struct Loaded {
    pub root: PathBuf,
    pub model: Model,
    /// Sorted: by severity, code, file, position, object.
    pub diagnostics: Vec<Diagnostic>,
    /// How many `*.json` files were read, and how many held something peerscope knows.
    pub files_read: usize,
    pub files_recognised: usize,
    /// Object id → the file (relative to the root) it was read from, for reports that point
    /// at a file (SARIF locations).
    pub origins: Origins,
}

impl Loaded {
    /// Is there any error-level diagnostic?
    pub fn has_errors(&self) -> bool {
        self.diagnostics
            .iter()
            .any(|d| d.severity == Severity::Error)
    }
}

/// Why a snapshot could not be used at all.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("{0}: not a folder (a snapshot is a folder of describe-* JSON files)")]
    NotAFolder(PathBuf),
    #[error("{path}: cannot read: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "{0}: nothing recognisable: no *.json file holds a describe-* response (Vpcs, Subnets, RouteTables, …)"
    )]
    NothingRecognisable(PathBuf),
}

/// How to load: the limits that keep a hostile folder from costing unbounded resources.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LoadOptions {
    /// The largest file read, in bytes (`--max-file-size`); a larger one is an `io` error
    /// naming the file, and is not read. Reading stops at this size even if the file grows.
    pub max_file_size: u64,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            max_file_size: crate::input::DEFAULT_MAX_FILE_SIZE,
        }
    }
}

/// Loads the snapshot under `root` with the default [`LoadOptions`].
pub fn load(root: &Path) -> Result<Loaded, LoadError> {
    load_with(root, &LoadOptions::default())
}

/// Loads the snapshot under `root`. Only regular files are read (a symlink to one is fine): a
/// `*.json` that is a device, FIFO, socket or folder is an `io` error diagnostic naming it, and
/// is never opened; so is a file larger than `opts.max_file_size`.
pub fn load_with(root: &Path, opts: &LoadOptions) -> Result<Loaded, LoadError> {
    if !root.is_dir() {
        return Err(LoadError::NotAFolder(root.to_path_buf()));
    }
    let files = layout::list_files(root).map_err(|source| LoadError::Io {
        path: root.to_path_buf(),
        source,
    })?;
    // Parse in parallel, build in path order (so the result is deterministic), a chunk of files
    // at a time: the next chunk parses while this one is built, and no more than two chunks'
    // parsed files are ever held beside the model being built (not the whole snapshot's).
    let parse_one = |f: &SnapshotFile| match crate::input::read_regular(&f.path, opts.max_file_size)
    {
        Ok(bytes) => match std::str::from_utf8(&bytes) {
            Ok(text) => parse::parse_file(text),
            Err(e) => (
                parse::FileContents::default(),
                vec![Diagnostic::error(
                    Code::MalformedJson,
                    format!(
                        "not UTF-8 text (invalid byte at offset {})",
                        e.valid_up_to()
                    ),
                )],
            ),
        },
        Err(e) => (
            parse::FileContents::default(),
            vec![Diagnostic::error(Code::Io, e.to_string())],
        ),
    };
    let parse_chunk =
        |chunk: &[SnapshotFile]| -> Vec<_> { chunk.par_iter().map(parse_one).collect() };
    let mut builder = build::Builder::new();
    let mut diagnostics = Vec::new();
    let mut recognised = 0;
    let mut chunks = files.chunks(LOAD_CHUNK);
    let mut current = chunks.next().map(|c| (c, parse_chunk(c)));
    while let Some((chunk, parsed)) = current.take() {
        let next = chunks.next();
        let ((), parsed_next) = rayon::join(
            || {
                for (f, (contents, diags)) in chunk.iter().zip(parsed) {
                    if contents.is_recognised() {
                        recognised += 1;
                    } else if diags.is_empty() && contents.unknown.is_empty() {
                        diagnostics.push(
                            Diagnostic::warning(
                                Code::NotAResponse,
                                "the file holds no top-level key; ignored",
                            )
                            .in_file(&f.rel),
                        );
                    }
                    diagnostics.extend(diags.into_iter().map(|d| d.in_file(&f.rel)));
                    builder.add_file(f, contents);
                }
            },
            || next.map(parse_chunk),
        );
        current = next.zip(parsed_next);
    }
    let (mut model, more, origins) = builder.finish();
    if recognised == 0 {
        return Err(LoadError::NothingRecognisable(root.to_path_buf()));
    }
    diagnostics.extend(more);
    diagnostics.extend(partial_snapshot(root, opts.max_file_size));
    diagnostics.sort();
    model.damage = damage::assess(&model, &diagnostics, &files);
    Ok(Loaded {
        root: root.to_path_buf(),
        model,
        diagnostics,
        files_read: files.len(),
        files_recognised: recognised,
        origins,
    })
}

/// Files parsed together while the previous chunk is built (`load_with`).
const LOAD_CHUNK: usize = 64;

/// A collector's manifest that names account-regions it could not collect: one warning each,
/// because reachability involving them is unknown. A manifest that says its run did not finish
/// (`complete: false`, left by a `snapshot` or `gen` stopped while replacing an earlier snapshot)
/// is an error: the folder may mix two runs.
fn partial_snapshot(root: &Path, max_file_size: u64) -> Vec<Diagnostic> {
    match manifest::read_limited(root, max_file_size) {
        Ok(None) => Vec::new(),
        Ok(Some(m)) => (!m.complete)
            .then(|| {
                Diagnostic::error(
                    Code::PartialSnapshot,
                    format!(
                        "the peerscope {} run that wrote this folder did not finish (it stopped while replacing an earlier snapshot): its files may mix two runs; run it again",
                        if m.command.is_empty() { "snapshot" } else { &m.command }
                    ),
                )
                .in_file(layout::MANIFEST)
            })
            .into_iter()
            .chain(m.failed().map(|r| {
                Diagnostic::warning(
                    Code::PartialSnapshot,
                    format!(
                        "account {} region {} was not collected ({}): flows involving it are unknown",
                        r.account,
                        r.region,
                        r.error.as_deref().unwrap_or("no reason given")
                    ),
                )
                .in_file(layout::MANIFEST)
                .object(format!("{}/{}", r.account, r.region))
            }))
            .collect(),
        Err(e) => vec![Diagnostic::warning(Code::MalformedJson, e).in_file(layout::MANIFEST)],
    }
}
