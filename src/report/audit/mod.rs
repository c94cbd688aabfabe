//! Audit reporters: one trait, one file per output format (table, JSON, SARIF, Markdown), each
//! snapshot-tested on the same topologies.

mod json;
mod markdown;
mod sarif;
mod table;

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::audit::AuditReport;

pub use json::Json;
pub use markdown::Markdown;
pub use sarif::Sarif;
pub use table::Table;

/// What a reporter may need besides the report: where objects were read from.
#[derive(Clone, Debug, Default)]
pub struct Context {
    /// Object id → snapshot file relative to the snapshot root.
    pub origins: BTreeMap<String, PathBuf>,
    /// The snapshot root as given on the command line (for SARIF artifact URIs).
    pub snapshot: PathBuf,
}

/// Renders an audit report in one format.
pub trait Reporter {
    fn render(&self, report: &AuditReport, ctx: &Context) -> String;
}
