//! `peerscope audit`: hold a snapshot against its intent and report every finding.

use std::collections::BTreeSet;
use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use super::{AuditArgs, AuditFormat, exit};
use crate::analysis::Analysis;
use crate::report::audit::{Context, Json, Markdown, Reporter, Sarif, Table};

pub fn run(args: &AuditArgs) -> anyhow::Result<ExitCode> {
    // Checked before the work: `-` (standard output carries the report), a FIFO or a device is
    // refused at once.
    let write_baseline = match &args.write_baseline {
        Some(path) => {
            crate::output::not_stdout(path, "the audit report")?;
            Some(crate::output::FileOutput::new(path)?)
        }
        None => None,
    };
    // `--output FORMAT=PATH`, else `--format` on standard output; checked before the work.
    let outputs = super::outputs(
        args.format,
        &args.outputs,
        None,
        args.write_baseline.as_deref(),
    )?;
    let mut clock = super::Clock::new(args.timings);
    let loaded = match super::load(&args.input)? {
        Ok(l) => l,
        Err(code) => return Ok(code),
    };
    // A topology folder's own intent.toml is used when none is given.
    let intent = match super::load_intent(
        args.intent.as_deref(),
        &[&args.input.snapshot],
        args.input.max_file_size,
    ) {
        Ok(i) => i,
        Err(code) => return Ok(code),
    };
    if intent.is_none() {
        eprintln!(
            "peerscope: no intent file (--intent, or intent.toml in the snapshot): hygiene checks only"
        );
    }
    clock.lap("load");
    // The rows are needed after the audit only for the Markdown report's picture; otherwise the
    // audit aggregates them as they are produced and never holds them all.
    let picture = args.graph
        && outputs
            .iter()
            .any(|(f, _)| matches!(f, AuditFormat::Markdown));
    let analysis = Analysis::new(&loaded.model, intent.as_ref(), args.layer);
    let analysis = if picture {
        analysis
    } else {
        analysis.streamed()
    };
    let mut report = analysis.audit();
    clock.lap("analysis");
    let analysis = picture.then_some(analysis);
    if let Some(file) = &write_baseline {
        let fps: Vec<&str> = report
            .findings
            .iter()
            .map(|f| f.fingerprint.as_str())
            .collect();
        let mut text = serde_json::to_string_pretty(&serde_json::json!({ "fingerprints": fps }))?;
        text.push('\n');
        file.write(text.as_bytes())?;
    }
    if let Some(path) = &args.baseline {
        let text = crate::input::read_named_to_string(path, args.input.max_file_size)
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        let base: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| anyhow::anyhow!("{}: not a baseline file: {e}", path.display()))?;
        let known: BTreeSet<String> = base["fingerprints"]
            .as_array()
            .ok_or_else(|| anyhow::anyhow!("{}: no \"fingerprints\" list", path.display()))?
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect();
        report.findings.retain(|f| !known.contains(&f.fingerprint));
        report.summary.clear();
        for f in &report.findings {
            *report.summary.entry(f.severity).or_default() += 1;
        }
    }
    let ctx = Context {
        origins: &loaded.origins,
        snapshot: &args.input.snapshot,
    };
    for (format, out) in &outputs {
        let to_stdout = matches!(out, crate::output::Output::Stdout);
        let text = match format {
            AuditFormat::Table => {
                // Colour for people at a terminal, unless they asked for none (no-color.org).
                let colour = to_stdout
                    && std::io::stdout().is_terminal()
                    && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
                Table.render_with_colour(&report, &ctx, colour)
            }
            AuditFormat::Json if to_stdout => {
                // Streamed: the report is never held as one string.
                let mut w = std::io::BufWriter::new(std::io::stdout().lock());
                Json.write_to(&report, &ctx, &mut w)?;
                w.flush()?;
                continue;
            }
            AuditFormat::Json => Json.render(&report, &ctx),
            AuditFormat::Sarif => Sarif.render(&report, &ctx),
            AuditFormat::Markdown => {
                let mut md = Markdown.render(&report, &ctx);
                if let Some(analysis) = analysis.as_ref().filter(|_| !report.findings.is_empty()) {
                    let g = crate::graph::build(
                        analysis,
                        Some(&report),
                        &crate::graph::Options::default(),
                    );
                    md.push_str(&crate::graph::mermaid::markdown_section(&g.affected()));
                }
                md
            }
        };
        out.write(text.as_bytes())?;
    }
    clock.lap("output");
    clock.print();
    let failing = report
        .findings
        .iter()
        .any(|f| args.fail_on.fails(f.severity));
    // Damaged input: findings may be missing anywhere the damage reaches, so the verdict is
    // undetermined whatever was found.
    let code = if report.damage.is_some() {
        exit::UNDETERMINED
    } else if failing {
        exit::FINDINGS
    } else {
        exit::OK
    };
    super::leak((report, loaded));
    Ok(ExitCode::from(code))
}
