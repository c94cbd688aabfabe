//! `peerscope graph`: draw a snapshot's peerings, coloured by its audit (and, with `--diff`,
//! what a second snapshot changes, or with `--change`/`--terraform-plan` what a proposed change
//! does), as a self-contained HTML page, Graphviz DOT or SVG, or Mermaid.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, ExitCode, Stdio};

use super::{SnapshotArgs, exit};
use crate::analysis::Analysis;
use crate::engine::Layer;
use crate::graph::{self, Graph, Options};
use crate::intent::Intent;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum GraphFormat {
    /// One self-contained interactive page (pan, zoom, search, filters, side panel).
    #[default]
    Html,
    /// Graphviz DOT source.
    Dot,
    /// SVG, drawn by Graphviz's `dot` (must be installed).
    Svg,
    /// A Mermaid flowchart for Markdown.
    Mermaid,
}

#[derive(Debug, clap::Args)]
pub struct GraphArgs {
    #[command(flatten)]
    pub input: SnapshotArgs,
    /// The intent file (default: SNAPSHOT/intent.toml when present); colours edges by the audit.
    #[arg(long, value_name = "FILE")]
    pub intent: Option<PathBuf>,
    /// A second snapshot, the "after": mark the peerings and findings the change adds or removes.
    #[arg(long, value_name = "OTHER", conflicts_with_all = ["change", "terraform_plan"])]
    pub diff: Option<PathBuf>,
    /// A proposed change (EC2 operations, as for `what-if`): draw what it adds and removes.
    #[arg(long, value_name = "FILE", conflicts_with = "terraform_plan")]
    pub change: Option<PathBuf>,
    /// A Terraform plan (`terraform show -json`), as for `what-if`: draw what it adds and removes.
    #[arg(long, value_name = "FILE")]
    pub terraform_plan: Option<PathBuf>,
    /// Override the intent's layer.
    #[arg(long, value_enum)]
    pub layer: Option<crate::engine::Layer>,
    #[arg(long, value_enum, default_value_t)]
    pub format: GraphFormat,
    /// Also draw subnets inside their VPCs.
    #[arg(long)]
    pub subnets: bool,
    /// Write here instead of standard output (`-`: standard output). Only a regular file is
    /// written, replaced atomically with its mode kept.
    #[arg(long, value_name = "FILE", conflicts_with = "outputs")]
    pub out: Option<PathBuf>,
    /// Write the picture in FORMAT to PATH (`-`: standard output), from the same audit;
    /// repeatable, e.g. `--output html=map.html --output mermaid=map.md`.
    #[arg(long = "output", value_name = "FORMAT=PATH", value_parser = parse_graph_output)]
    pub outputs: Vec<(GraphFormat, PathBuf)>,
}

/// `FORMAT=PATH` of `graph --output`.
fn parse_graph_output(s: &str) -> Result<(GraphFormat, PathBuf), String> {
    super::parse_format_path(s, "html, dot, svg or mermaid")
}

/// The pictures of one model: in the audit's layer, and with `both` (the HTML page, when
/// `--layer` does not fix one and the snapshot has network interfaces) also in the other.
fn pictures(
    model: &crate::model::Model,
    intent: Option<&Intent>,
    args: &GraphArgs,
    both: bool,
) -> Vec<Graph> {
    let opts = Options {
        subnets: args.subnets,
    };
    // One analysis per layer: the audit and the picture share its reach.
    let analysis = Analysis::new(model, intent, args.layer);
    let report = analysis.audit();
    let mut out = vec![graph::build(&analysis, Some(&report), &opts)];
    if both && args.layer.is_none() && !model.network_interfaces.is_empty() {
        let other = match report.layer {
            Layer::Full => Layer::Network,
            Layer::Network => Layer::Full,
        };
        let analysis = Analysis::new(model, intent, Some(other));
        let report = analysis.audit();
        out.push(graph::build(&analysis, Some(&report), &opts));
    }
    out
}

pub fn run(args: &GraphArgs) -> anyhow::Result<ExitCode> {
    // Checked before the work: a FIFO or a device is refused at once.
    let outputs = super::outputs(args.format, &args.outputs, args.out.as_deref(), None)?;
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
            "peerscope: no intent file (--intent, or intent.toml in the snapshot): edges show delivered flows and hygiene findings only"
        );
    }
    // The page shows both layers; the other formats one.
    let both = outputs.iter().any(|(f, _)| *f == GraphFormat::Html);
    let loaded = match super::load(&args.input)? {
        Ok(l) => l,
        Err(code) => return Ok(code),
    };
    let mut layers = pictures(&loaded.model, intent.as_ref(), args, both);
    let mut title = args.input.snapshot.display().to_string();
    // The "after": a second snapshot, or this one with a proposed change applied.
    let after = if let Some(other) = &args.diff {
        let after = match super::load(&SnapshotArgs {
            snapshot: other.clone(),
            strict: args.input.strict,
            allow_damaged: args.input.allow_damaged,
            max_file_size: args.input.max_file_size,
        })? {
            Ok(l) => l,
            Err(code) => return Ok(code),
        };
        title = format!("{title} → {}", other.display());
        Some(after.model)
    } else if args.change.is_some() || args.terraform_plan.is_some() {
        let mut after = loaded.model.clone();
        if let Err(code) = super::diff::propose(
            &mut after,
            args.change.as_deref(),
            args.terraform_plan.as_deref(),
            args.input.max_file_size,
        ) {
            return Ok(code);
        }
        let file = args.change.as_ref().or(args.terraform_plan.as_ref());
        title = format!(
            "{title} + {}",
            file.map(|f| f.display().to_string()).unwrap_or_default()
        );
        Some(after)
    } else {
        None
    };
    if let Some(after) = after {
        // Each layer of the after against the same layer before (a layer only one side has
        // is left out).
        layers = pictures(&after, intent.as_ref(), args, both)
            .into_iter()
            .filter_map(|a| {
                let b = layers.iter().find(|b| b.layer == a.layer)?;
                Some(graph::diff(b, a))
            })
            .collect();
    }
    let Some(g) = layers.first() else {
        anyhow::bail!("the two snapshots were audited in different layers: add --layer");
    };
    for (format, out) in &outputs {
        let text = match format {
            GraphFormat::Html => graph::html::render_layers(&layers, &title),
            GraphFormat::Dot => graph::dot::render(g),
            GraphFormat::Mermaid => graph::mermaid::render(g),
            GraphFormat::Svg => match svg(&graph::dot::render(g))? {
                Ok(s) => s,
                Err(code) => return Ok(code),
            },
        };
        out.write(text.as_bytes())?;
    }
    // A map of damaged input (`--allow-damaged`) may lack edges or colour them wrongly.
    Ok(ExitCode::from(if loaded.model.damage.is_empty() {
        exit::OK
    } else {
        exit::UNDETERMINED
    }))
}

/// Pipes DOT through Graphviz's `dot -Tsvg`.
fn svg(dot: &str) -> anyhow::Result<Result<String, ExitCode>> {
    let child = Command::new("dot")
        .arg("-Tsvg")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            eprintln!(
                "peerscope: --format svg needs Graphviz's `dot` on PATH (e.g. `apt-get install graphviz`); `--format dot` writes the source, `--format html` needs nothing"
            );
            return Ok(Err(ExitCode::from(exit::USAGE)));
        }
        Err(e) => anyhow::bail!("running Graphviz's `dot`: {e}"),
    };
    if let Some(mut stdin) = child.stdin.take() {
        stdin.write_all(dot.as_bytes())?;
    }
    let out = child.wait_with_output()?;
    if !out.status.success() {
        anyhow::bail!(
            "Graphviz's `dot -Tsvg` failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(Ok(String::from_utf8_lossy(&out.stdout).into_owned()))
}
