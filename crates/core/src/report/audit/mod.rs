//! Audit reporters: one trait, one file per output format (table, JSON, SARIF, Markdown), each
//! snapshot-tested on the same topologies.

mod json;
mod markdown;
mod sarif;
mod table;

use std::path::Path;

use crate::audit::AuditReport;

pub use json::Json;
pub use markdown::Markdown;
pub use sarif::Sarif;
pub use table::Table;

/// What a reporter may need besides the report: where objects were read from.
#[derive(Clone, Copy, Debug)]
pub struct Context<'a> {
    /// Object id → snapshot file relative to the snapshot root.
    pub origins: &'a crate::snapshot::Origins,
    /// The snapshot root as given on the command line (for SARIF artifact URIs).
    pub snapshot: &'a Path,
}

impl Context<'static> {
    /// No origins, no snapshot root (reports built in memory, tests).
    pub fn none() -> Context<'static> {
        static NONE: std::sync::OnceLock<crate::snapshot::Origins> = std::sync::OnceLock::new();
        Context {
            origins: NONE.get_or_init(crate::snapshot::Origins::new),
            snapshot: Path::new(""),
        }
    }
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

    /// Writes the report to `out`; formats that can stream (JSON) do, without building the
    /// whole text first (the L tier's JSON report is 1 GB).
    fn write_to(
        &self,
        report: &AuditReport,
        ctx: &Context,
        out: &mut dyn std::io::Write,
    ) -> std::io::Result<()> {
        out.write_all(self.render(report, ctx).as_bytes())
    }
}
