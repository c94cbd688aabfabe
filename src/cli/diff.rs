//! `peerscope diff` and `peerscope what-if`: the impact of a change, from two snapshots or from
//! a snapshot and proposed operations (EC2 change file or Terraform plan).
//!
//! Exit codes: 1 when the change adds exposure beyond intent or breaks a required flow, 0
//! otherwise, 2 when an input is unusable or an operation would be rejected by AWS.

use std::process::ExitCode;

use super::{AuditFormat, DiffArgs, ImpactArgs, SnapshotArgs, WhatIfArgs, exit};
use crate::change::{ec2, terraform};
use crate::diff::{DiffOptions, DiffReport, diff};
use crate::report::diff::{Format, render};

fn format(f: AuditFormat) -> Format {
    match f {
        AuditFormat::Table => Format::Table,
        AuditFormat::Json => Format::Json,
        AuditFormat::Markdown => Format::Markdown,
        AuditFormat::Sarif => Format::Sarif,
    }
}

fn finish(
    report: &DiffReport,
    outputs: &[(AuditFormat, crate::output::Output)],
) -> anyhow::Result<ExitCode> {
    for (f, out) in outputs {
        out.write(render(report, format(*f)).as_bytes())?;
    }
    Ok(ExitCode::from(if report.damage.is_some() {
        exit::UNDETERMINED
    } else if report.fails() {
        exit::FINDINGS
    } else {
        exit::OK
    }))
}

fn load(
    path: &std::path::Path,
    impact: &ImpactArgs,
) -> anyhow::Result<Result<crate::snapshot::Loaded, ExitCode>> {
    super::load(&SnapshotArgs {
        snapshot: path.to_path_buf(),
        strict: impact.strict,
        allow_damaged: impact.allow_damaged,
        max_file_size: impact.max_file_size,
    })
}

pub fn run_diff(args: &DiffArgs) -> anyhow::Result<ExitCode> {
    // Checked before the work.
    let outputs = super::outputs(args.impact.format, &args.impact.outputs, None, None)?;
    let mut clock = super::Clock::new(args.impact.timings);
    let intent = match super::load_intent(
        args.impact.intent.as_deref(),
        &[&args.before, &args.after],
        args.impact.max_file_size,
    ) {
        Ok(i) => i,
        Err(code) => return Ok(code),
    };
    let before = match load(&args.before, &args.impact)? {
        Ok(l) => l,
        Err(code) => return Ok(code),
    };
    let after = match load(&args.after, &args.impact)? {
        Ok(l) => l,
        Err(code) => return Ok(code),
    };
    clock.lap("load");
    let report = diff(
        &before.model,
        &after.model,
        None,
        &DiffOptions {
            layer: args.impact.layer,
            include_intra_vpc: args.impact.include_intra_vpc,
            intent: intent.as_ref(),
            whole_vpcs: false,
        },
    );
    clock.lap("analysis");
    let code = finish(&report, &outputs);
    clock.lap("output");
    clock.print();
    super::leak((report, before, after));
    code
}

/// Applies a change file or a Terraform plan to `model`; prints why it cannot be (exit 2) and
/// what was not applied (a warning).
pub(super) fn propose(
    model: &mut crate::model::Model,
    change: Option<&std::path::Path>,
    plan: Option<&std::path::Path>,
    max_file_size: u64,
) -> Result<crate::change::Applied, ExitCode> {
    let Some(path) = change.or(plan) else {
        unreachable!("clap requires --change or --terraform-plan")
    };
    let text = crate::input::read_named_to_string(path, max_file_size).map_err(|e| {
        eprintln!(
            "peerscope: {}: {e}",
            crate::escape::terminal(&path.display().to_string())
        );
        ExitCode::from(exit::USAGE)
    })?;
    let applied = if change.is_some() {
        ec2::parse(&text, path).and_then(|ops| ec2::apply(model, &ops))
    } else {
        terraform::parse(&text, path).and_then(|p| terraform::apply(model, &p))
    }
    .map_err(|e| {
        eprintln!(
            "peerscope: {}",
            crate::escape::terminal_lines(&e.in_file(path))
        );
        ExitCode::from(exit::USAGE)
    })?;
    for n in &applied.not_understood {
        eprintln!(
            "peerscope: warning: not applied: {}",
            crate::escape::terminal(n)
        );
    }
    Ok(applied)
}

pub fn run_what_if(args: &WhatIfArgs) -> anyhow::Result<ExitCode> {
    // Checked before the work.
    let outputs = super::outputs(args.impact.format, &args.impact.outputs, None, None)?;
    let mut clock = super::Clock::new(args.impact.timings);
    let intent = match super::load_intent(
        args.impact.intent.as_deref(),
        &[&args.snapshot],
        args.impact.max_file_size,
    ) {
        Ok(i) => i,
        Err(code) => return Ok(code),
    };
    let loaded = match load(&args.snapshot, &args.impact)? {
        Ok(l) => l,
        Err(code) => return Ok(code),
    };
    clock.lap("load");
    let before = &loaded.model;
    let mut after = before.clone();
    clock.lap("copy");
    let applied = match propose(
        &mut after,
        args.change.as_deref(),
        args.terraform_plan.as_deref(),
        args.impact.max_file_size,
    ) {
        Ok(a) => a,
        Err(code) => return Ok(code),
    };
    clock.lap("apply");
    let mut report = diff(
        before,
        &after,
        Some(&applied.touched),
        &DiffOptions {
            layer: args.impact.layer,
            include_intra_vpc: args.impact.include_intra_vpc,
            intent: intent.as_ref(),
            whole_vpcs: false,
        },
    );
    report.change = Some(applied);
    clock.lap("analysis");
    let code = finish(&report, &outputs);
    clock.lap("output");
    clock.print();
    super::leak((report, after, loaded));
    code
}
