//! Audit reporters: one trait, one file per output format (table, JSON, SARIF, Markdown), each
//! snapshot-tested on the same topologies.

mod json;
mod markdown;
mod sarif;
mod table;

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
    pub origins: crate::snapshot::Origins,
    /// The snapshot root as given on the command line (for SARIF artifact URIs).
    pub snapshot: PathBuf,
}

/// The warning every format carries when the snapshot is damaged (docs/failure-policy.md).
pub fn damage_banner(report: &AuditReport) -> Option<String> {
    let d = report.damage.as_ref()?;
    let reach = d.to_string();
    Some(format!(
        "UNDETERMINED: the snapshot is damaged ({} diagnostic(s); `peerscope check` lists them), touching {reach}: findings there may be missing, and those marked undetermined are only the best reading",
        d.count
    ))
}

/// A finding's title, marked when it involves damaged input.
pub fn title_of(f: &crate::audit::Finding) -> String {
    if f.undetermined {
        format!("[undetermined] {}", f.title)
    } else {
        f.title.clone()
    }
}

/// Renders an audit report in one format.
pub trait Reporter {
    fn render(&self, report: &AuditReport, ctx: &Context) -> String;
}
