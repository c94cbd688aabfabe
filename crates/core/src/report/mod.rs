//! Reports: the serializable results the CLI prints, one module per report, with a table
//! rendering for people and JSON for machines. Reports compute nothing about reachability; they
//! shape results that the core modules produced.

pub mod audit;
pub mod diff;
pub mod inventory;

use comfy_table::{ContentArrangement, Table, presets::UTF8_FULL_CONDENSED};

/// A table in the house style.
pub fn table<I, S>(header: I) -> Table
where
    I: IntoIterator<Item = S>,
    S: Into<comfy_table::Cell>,
{
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(header);
    t
}
