//! `peerscope reach`: all-pairs reachability as aggregated boxes.

use std::io::Write;
use std::process::ExitCode;

use super::{Format, ReachArgs, exit};
use crate::engine::Layer;
use crate::engine::endpoint::select;
use crate::engine::reach::{ReachOptions, reach};
use crate::escape::terminal;

pub fn run(args: &ReachArgs) -> anyhow::Result<ExitCode> {
    let loaded = match super::load(&args.input)? {
        Ok(l) => l,
        Err(code) => return Ok(code),
    };
    let model = &loaded.model;
    let mut opts = ReachOptions {
        layer: Some(args.layer.unwrap_or(Layer::Network)),
        include_intra_vpc: args.include_intra_vpc,
        ..Default::default()
    };
    for (sel, slot, flag) in [
        (&args.from, &mut opts.from, "--from"),
        (&args.to, &mut opts.to, "--to"),
    ] {
        if let Some(s) = sel {
            match select(model, s) {
                Ok(m) => *slot = Some(m),
                Err(e) => {
                    eprintln!("peerscope: {flag}: {}", terminal(&e.to_string()));
                    return Ok(ExitCode::from(exit::USAGE));
                }
            }
        }
    }
    let rows = reach(model, &opts);
    let mut out = std::io::stdout().lock();
    match args.format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut out, &rows)?;
            writeln!(out)?;
        }
        Format::Table => {
            let mut t = crate::report::table([
                "source VPC",
                "source",
                "destination VPC",
                "destination",
                "services",
                "via",
                "connectable",
            ]);
            for r in &rows {
                t.add_row(vec![
                    terminal(r.src_vpc.as_str()).into_owned(),
                    r.src.to_string().replace(", ", "\n"),
                    terminal(r.dst_vpc.as_str()).into_owned(),
                    r.dst.to_string().replace(", ", "\n"),
                    r.services.to_string(),
                    terminal(&r.via.to_string()).into_owned(),
                    match (r.connectable, r.undetermined) {
                        (true, false) => "yes".into(),
                        (false, false) => "no (delivered only)".into(),
                        (true, true) => "yes (undetermined)".into(),
                        (false, true) => "no (delivered only; undetermined)".into(),
                    },
                ]);
            }
            writeln!(out, "{t}")?;
            writeln!(
                out,
                "{} box(es), {} layer",
                rows.len(),
                opts.layer.unwrap_or(Layer::Network)
            )?;
            if !model.damage.is_empty() {
                writeln!(
                    out,
                    "UNDETERMINED: the snapshot is damaged (see `peerscope check`): boxes may be missing, and those marked undetermined are only the best reading"
                )?;
            }
        }
    }
    // Damaged input: any box may be missing, so the whole answer is undetermined.
    let code = if model.damage.is_empty() {
        exit::OK
    } else {
        exit::UNDETERMINED
    };
    super::leak((rows, loaded));
    Ok(ExitCode::from(code))
}
