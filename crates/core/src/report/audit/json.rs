//! The audit as JSON: the serialised [`AuditReport`].

use super::{Context, Reporter};
use crate::audit::AuditReport;

pub struct Json;

impl Reporter for Json {
    fn render(&self, report: &AuditReport, ctx: &Context) -> String {
        let mut out = Vec::new();
        // Writing into memory fails only if serialising does, which a report never does.
        let _ = self.write_to(report, ctx, &mut out);
        String::from_utf8(out).unwrap_or_default()
    }

    fn write_to(
        &self,
        report: &AuditReport,
        _ctx: &Context,
        out: &mut dyn std::io::Write,
    ) -> std::io::Result<()> {
        serde_json::to_writer_pretty(&mut *out, report).map_err(std::io::Error::other)?;
        out.write_all(b"\n")
    }
}
