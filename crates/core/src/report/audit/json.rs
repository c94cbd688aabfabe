//! The audit as JSON: the serialised [`AuditReport`].

use super::{Context, Reporter};
use crate::audit::AuditReport;

pub struct Json;

impl Reporter for Json {
    fn render(&self, report: &AuditReport, _ctx: &Context) -> String {
        let mut s = serde_json::to_string_pretty(report).expect("the report serialises");
        s.push('\n');
        s
    }
}
