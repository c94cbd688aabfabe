//! `peerscope check SNAPSHOT`: validate and print the inventory and diagnostics.

use std::io::Write;
use std::process::ExitCode;

use super::{CheckArgs, Format, exit};
use crate::report::inventory::Inventory;
use crate::snapshot::{self, LoadError};

pub fn run(args: &CheckArgs) -> anyhow::Result<ExitCode> {
    let loaded = match snapshot::load_with(&args.input.snapshot, &args.input.load_options()) {
        Ok(l) => l,
        Err(
            e @ (LoadError::NotAFolder(_)
            | LoadError::NothingRecognisable(_)
            | LoadError::Io { .. }),
        ) => {
            eprintln!("peerscope: {}", crate::escape::terminal(&e.to_string()));
            return Ok(ExitCode::from(exit::USAGE));
        }
    };
    let inventory = Inventory::new(&loaded);
    let mut out = std::io::stdout().lock();
    match args.format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut out, &inventory)?;
            writeln!(out)?;
        }
        Format::Table => write!(out, "{}", inventory.to_text())?,
    }
    let has_errors = loaded.has_errors();
    super::leak(loaded);
    Ok(ExitCode::from(if !has_errors {
        exit::OK
    } else if args.input.strict {
        exit::USAGE
    } else {
        exit::FINDINGS
    }))
}
