//! The command line: flags parsed into plain values, then one function per command. The
//! binary is glue; every command calls into the library and maps its outcome to an exit code.
//!
//! Exit codes (documented in the README): 0 success and nothing to report, 1 findings or
//! error-level diagnostics, 2 usage or unusable input, 3 partial snapshot (collection).

mod audit;
mod check;
mod diff;
mod r#gen;
mod graph;
mod query;
mod reach;
mod snapshot;

pub use graph::{GraphArgs, GraphFormat};
pub use query::{BatchResult, batch_line};

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::{Parser, Subcommand, ValueEnum};

/// Who can reach what across your AWS VPC peerings, and is that more than you meant?
#[derive(Debug, Parser)]
#[command(name = "peerscope", version, about, long_about = None)]
pub struct Cli {
    /// Worker threads (default: all cores; at most 4 × the cores, more is lowered with a
    /// warning). Results are identical for any value.
    #[arg(long, global = true, value_name = "N",
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
    pub threads: Option<usize>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Validate a snapshot and print its inventory and every diagnostic.
    Check(CheckArgs),
    /// Explain one flow hop by hop, or evaluate a JSON Lines batch of flows.
    Query(QueryArgs),
    /// All-pairs reachability between VPCs as aggregated boxes.
    Reach(ReachArgs),
    /// Write a synthetic organisation (benchmarks, scale tests).
    Gen(GenArgs),
    /// Hold a snapshot against its intent: exposures, broken requirements, hygiene.
    Audit(AuditArgs),
    /// Collect a live snapshot from AWS accounts and regions (through STS AssumeRole).
    Snapshot(snapshot::CollectArgs),
    /// Compare two snapshots: flows newly delivered or broken, findings added or resolved.
    Diff(DiffArgs),
    /// Apply proposed EC2 operations or a Terraform plan to a snapshot and report the impact.
    WhatIf(WhatIfArgs),
    /// Draw the peerings, coloured by the audit: HTML, SVG, DOT or Mermaid.
    Graph(GraphArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions(CompletionsArgs),
    /// Print the manual page (roff), generated from this command line.
    Man,
}

#[derive(Debug, clap::Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, clap::Args)]
pub struct ImpactArgs {
    /// The intent file (default: intent.toml in the (first) snapshot folder when present).
    #[arg(long, value_name = "FILE")]
    pub intent: Option<PathBuf>,
    /// Override the intent's layer.
    #[arg(long, value_enum)]
    pub layer: Option<crate::engine::Layer>,
    /// Also compare flows within one VPC.
    #[arg(long)]
    pub include_intra_vpc: bool,
    /// The format written to standard output when no `--output` is given.
    #[arg(long, value_enum, default_value_t)]
    pub format: AuditFormat,
    /// Write the report in FORMAT to PATH (`-`: standard output); repeatable, as `audit
    /// --output`.
    #[arg(long = "output", value_name = "FORMAT=PATH", value_parser = parse_audit_output)]
    pub outputs: Vec<(AuditFormat, PathBuf)>,
    /// Treat any error-level diagnostic in a snapshot as unusable input (exit 2).
    #[arg(long)]
    pub strict: bool,
    /// Answer even when the snapshot is damaged (objects that could not be read whole,
    /// impossible data), marking what depends on it undetermined and exiting 4
    /// (docs/failure-policy.md). Without it, a damaged snapshot is refused (exit 2).
    #[arg(long)]
    pub allow_damaged: bool,
    /// The largest file read (snapshot files, intent, change file, plan), e.g. 1GiB.
    #[arg(long, value_name = "SIZE", default_value = "256MiB", value_parser = crate::input::parse_size)]
    pub max_file_size: u64,
    /// Print how long each phase took (load, apply, analysis) on standard error.
    #[arg(long)]
    pub timings: bool,
}

#[derive(Debug, clap::Args)]
pub struct DiffArgs {
    /// The snapshot before the change.
    pub before: PathBuf,
    /// The snapshot after the change.
    pub after: PathBuf,
    #[command(flatten)]
    pub impact: ImpactArgs,
}

#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("proposal").required(true).args(["change", "terraform_plan"])))]
pub struct WhatIfArgs {
    /// The snapshot folder the change applies to.
    pub snapshot: PathBuf,
    /// A JSON array of EC2 operations: `[{"Action": "CreateRoute", "RouteTableId": …}, …]`.
    #[arg(long, value_name = "FILE")]
    pub change: Option<PathBuf>,
    /// A Terraform plan as `terraform show -json PLAN` prints it.
    #[arg(long, value_name = "FILE")]
    pub terraform_plan: Option<PathBuf>,
    #[command(flatten)]
    pub impact: ImpactArgs,
}

#[derive(Debug, clap::Args)]
pub struct GenArgs {
    /// Size: s (10 accounts, 500 subnets), m (100, 10k), l (1,000, 100k), xl (l, quota-maximal).
    #[arg(long, value_enum)]
    pub tier: crate::r#gen::Tier,
    /// The same seed writes byte-identical files.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// The folder to write (`<out>/<account>/<region>/describe-*.json` and manifest.json): new,
    /// empty, or one peerscope wrote (only its account folders and manifest are replaced).
    #[arg(long)]
    pub out: PathBuf,
    /// Indented JSON as `aws --output json` prints it (default: compact).
    #[arg(long)]
    pub pretty: bool,
    /// Also write `query --batch` flows between generated ENIs to this JSON Lines file (a
    /// regular file, replaced atomically).
    #[arg(long, value_name = "FILE")]
    pub queries: Option<PathBuf>,
    /// How many flows `--queries` writes.
    #[arg(long, value_name = "N", default_value_t = 100_000)]
    pub query_count: usize,
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum AuditFormat {
    #[default]
    Table,
    Json,
    Sarif,
    Markdown,
}

/// `FORMAT=PATH` of `audit --output` (and `diff`, `what-if`).
fn parse_audit_output(s: &str) -> Result<(AuditFormat, PathBuf), String> {
    parse_format_path(s, "table, json, sarif or markdown")
}

/// `FORMAT=PATH` of `--output`: a format of `F` and a path (`-`: standard output).
pub(crate) fn parse_format_path<F: ValueEnum>(
    s: &str,
    formats: &str,
) -> Result<(F, PathBuf), String> {
    let (format, path) = s
        .split_once('=')
        .ok_or_else(|| format!("{s:?}: expected FORMAT=PATH, e.g. sarif=audit.sarif"))?;
    let format =
        F::from_str(format, false).map_err(|_| format!("{format:?}: not a format ({formats})"))?;
    if path.is_empty() {
        return Err(format!("{s:?}: no path (`-` for standard output)"));
    }
    Ok((format, PathBuf::from(path)))
}

#[derive(Debug, clap::Args)]
pub struct AuditArgs {
    #[command(flatten)]
    pub input: SnapshotArgs,
    /// The intent file (default: SNAPSHOT/intent.toml when present).
    #[arg(long, value_name = "FILE")]
    pub intent: Option<PathBuf>,
    /// Override the intent's layer.
    #[arg(long, value_enum)]
    pub layer: Option<crate::engine::Layer>,
    /// The format written to standard output when no `--output` is given.
    #[arg(long, value_enum, default_value_t)]
    pub format: AuditFormat,
    /// Write the report in FORMAT to PATH (`-`: standard output), from the same analysis;
    /// repeatable, e.g. `--output sarif=audit.sarif --output markdown=audit.md --output
    /// table=-`. With it, `--format` is not written unless named. Files are replaced
    /// atomically, never followed past what peerscope wrote (see the user guide).
    #[arg(long = "output", value_name = "FORMAT=PATH", value_parser = parse_audit_output)]
    pub outputs: Vec<(AuditFormat, PathBuf)>,
    /// Exit 1 when a finding at or above this severity remains; `never` for report-only runs
    /// (damaged input still exits 4).
    #[arg(long, value_enum, default_value = "medium")]
    pub fail_on: FailOn,
    /// Report only findings whose fingerprint is not in this baseline.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Write the fingerprints of this run's findings as a baseline (a regular file, replaced
    /// atomically with its mode kept).
    #[arg(long, value_name = "FILE")]
    pub write_baseline: Option<PathBuf>,
    /// Markdown: add a Mermaid picture of the peerings and VPCs the findings touch.
    #[arg(long)]
    pub graph: bool,
    /// Print how long each phase took (load, analysis, output) on standard error.
    #[arg(long)]
    pub timings: bool,
}

/// `--fail-on`: the least severity that fails the run, or never.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum FailOn {
    Never,
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl FailOn {
    /// Does a finding of this severity fail the run?
    pub fn fails(self, s: crate::audit::Severity) -> bool {
        use crate::audit::Severity as S;
        let least = match self {
            FailOn::Never => return false,
            FailOn::Info => S::Info,
            FailOn::Low => S::Low,
            FailOn::Medium => S::Medium,
            FailOn::High => S::High,
            FailOn::Critical => S::Critical,
        };
        s >= least
    }
}

#[derive(Debug, clap::Args)]
pub struct ReachArgs {
    #[command(flatten)]
    pub input: SnapshotArgs,
    /// network (routes, peering, NACLs; default) or full (ENI addresses, also security groups).
    #[arg(long, value_enum)]
    pub layer: Option<crate::engine::Layer>,
    /// Only sources in: an account id, vpc-…, subnet-…, eni-…/i-…, or a CIDR.
    #[arg(long, value_name = "SELECTOR")]
    pub from: Option<String>,
    /// Only destinations in: an account id, vpc-…, subnet-…, eni-…/i-…, or a CIDR.
    #[arg(long, value_name = "SELECTOR")]
    pub to: Option<String>,
    /// Also list flows within one VPC.
    #[arg(long)]
    pub include_intra_vpc: bool,
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// A readable table.
    #[default]
    Table,
    /// JSON for machines.
    Json,
}

#[derive(Debug, clap::Args)]
pub struct SnapshotArgs {
    /// The snapshot folder (`<root>/<account>/<region>/*.json`, or Batfish's aws_configs).
    pub snapshot: PathBuf,
    /// Treat any error-level diagnostic as unusable input (exit 2).
    #[arg(long)]
    pub strict: bool,
    /// Answer even when the snapshot is damaged (objects that could not be read whole,
    /// impossible data), marking what depends on it undetermined and exiting 4
    /// (docs/failure-policy.md). Without it, a damaged snapshot is refused (exit 2).
    #[arg(long)]
    pub allow_damaged: bool,
    /// The largest file read (snapshot files, intent, change file, plan), e.g. 1GiB. Only
    /// regular files of a snapshot are read; a larger one is an `io` error naming it.
    #[arg(long, value_name = "SIZE", default_value = "256MiB", value_parser = crate::input::parse_size)]
    pub max_file_size: u64,
}

impl SnapshotArgs {
    /// The loader's options from the flags.
    pub fn load_options(&self) -> crate::snapshot::LoadOptions {
        crate::snapshot::LoadOptions {
            max_file_size: self.max_file_size,
        }
    }
}

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub input: SnapshotArgs,
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

#[derive(Debug, clap::Args)]
pub struct QueryArgs {
    #[command(flatten)]
    pub input: SnapshotArgs,
    /// Source: eni-…, i-…, subnet-… (its first assignable address), vpc-…/IP, or an IP that
    /// lies in exactly one VPC.
    #[arg(long, required_unless_present = "batch")]
    pub from: Option<String>,
    /// Destination: an IP, or eni-…/i-… (its address of the source's family).
    #[arg(long, required_unless_present = "batch")]
    pub to: Option<String>,
    /// tcp, udp, icmp, icmpv6 or an IP protocol number.
    #[arg(long, default_value = "tcp")]
    pub proto: String,
    /// Destination port (tcp and udp).
    #[arg(long)]
    pub port: Option<u16>,
    /// network (routes, peering, NACLs) or full (also security groups). Default: full when
    /// the source is a network interface, network otherwise.
    #[arg(long, value_enum)]
    pub layer: Option<crate::engine::Layer>,
    /// JSON Lines of flows (`-` for standard input); one JSON result per line, in order.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["from", "to"])]
    pub batch: Option<String>,
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

/// Loads the snapshot named on the command line; prints why when it cannot be used. With
/// `--strict`, error-level diagnostics make the input unusable; otherwise they are summarised
/// on standard error and the command goes on.
fn load(args: &SnapshotArgs) -> anyhow::Result<Result<crate::snapshot::Loaded, ExitCode>> {
    let loaded = match crate::snapshot::load_with(&args.snapshot, &args.load_options()) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("peerscope: {}", crate::escape::terminal(&e.to_string()));
            return Ok(Err(ExitCode::from(exit::USAGE)));
        }
    };
    let errors =
        crate::diagnostics::count(&loaded.diagnostics, crate::diagnostics::Severity::Error);
    if errors > 0 {
        if args.strict {
            for d in loaded
                .diagnostics
                .iter()
                .filter(|d| d.severity == crate::diagnostics::Severity::Error)
            {
                eprintln!("{d}");
            }
            eprintln!("peerscope: {errors} error-level diagnostic(s) and --strict: stopping");
            return Ok(Err(ExitCode::from(exit::USAGE)));
        }
        eprintln!(
            "peerscope: warning: {errors} error-level diagnostic(s) in the snapshot; `peerscope check` lists them"
        );
    }
    let damage = &loaded.model.damage;
    if !damage.is_empty() {
        let what = if damage.everywhere {
            "any VPC".to_owned()
        } else {
            format!("{} VPC(s)", damage.vpcs.len())
        };
        if !args.allow_damaged {
            for d in loaded.diagnostics.iter().filter(|d| d.is_damage()) {
                eprintln!("{d}");
            }
            eprintln!(
                "peerscope: {}: the snapshot is damaged ({} object(s) or file(s) could not be read whole, or hold impossible data; they touch {what}): answers could be more permissive or more restrictive than the truth, so none is given. Fix the input, or pass --allow-damaged to answer with what depends on the damage marked undetermined (exit 4).",
                args.snapshot.display(),
                damage.count
            );
            return Ok(Err(ExitCode::from(exit::USAGE)));
        }
        eprintln!(
            "peerscope: warning: the snapshot is damaged ({} diagnostic(s), touching {what}); answers that depend on it are marked undetermined and the exit code is 4",
            damage.count
        );
    }
    let partial = loaded
        .diagnostics
        .iter()
        .filter(|d| {
            // Account-regions not collected (a run that did not finish is an error, counted above).
            d.code == crate::diagnostics::Code::PartialSnapshot
                && d.severity == crate::diagnostics::Severity::Warning
                && d.file.as_deref()
                    == Some(std::path::Path::new(crate::snapshot::layout::MANIFEST))
        })
        .count();
    if partial > 0 {
        eprintln!(
            "peerscope: warning: partial snapshot: {partial} account-region(s) were not collected (see manifest.json); coverage is incomplete"
        );
    }
    Ok(Ok(loaded))
}

/// The intent file: the one named, else `intent.toml` in the first of `dirs` that has one.
/// `Ok(None)` when there is none; `Err` (after printing every mistake) when it is unusable.
fn load_intent(
    explicit: Option<&std::path::Path>,
    dirs: &[&std::path::Path],
    max_file_size: u64,
) -> Result<Option<crate::intent::Intent>, ExitCode> {
    let path = explicit.map(std::path::Path::to_path_buf).or_else(|| {
        dirs.iter()
            .map(|d| d.join("intent.toml"))
            .find(|p| p.is_file())
    });
    let Some(path) = path else {
        return Ok(None);
    };
    match crate::intent::Intent::load_limited(&path, max_file_size) {
        Ok(i) => Ok(Some(i)),
        Err(errors) => {
            eprintln!("{}", crate::escape::terminal_lines(&errors.to_string()));
            eprintln!(
                "peerscope: {} mistake(s) in the intent file",
                errors.0.len()
            );
            Err(ExitCode::from(exit::USAGE))
        }
    }
}

/// Leaves a value to the operating system instead of freeing it: the process is about to exit,
/// and freeing a large model piece by piece costs seconds (on the L tier about 3 s of `check`'s
/// time went to dropping the model).
fn leak<T>(value: T) {
    std::mem::forget(value);
}

/// Exit codes.
pub mod exit {
    pub const OK: u8 = 0;
    pub const FINDINGS: u8 = 1;
    pub const USAGE: u8 = 2;
    /// `snapshot`: some account-region could not be collected (see manifest.json).
    pub const PARTIAL: u8 = 3;
    /// With `--allow-damaged`: the answer depends on damaged input (docs/failure-policy.md).
    pub const UNDETERMINED: u8 = 4;
}

/// `--threads` above this many per available core is lowered: threads beyond the cores only
/// cost memory and start-up time (issue 13: `--threads 100000` spent minutes creating threads),
/// and the results are the same for any number. Lowering with a warning rather than refusing
/// keeps a script that works on a large machine working on a small one.
pub const MAX_THREADS_PER_CORE: usize = 4;

/// What `--threads` asked for and what is used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Threads {
    pub asked: usize,
    pub used: usize,
    pub lowered: bool,
}

/// The thread count for `--threads asked` on a machine with `cores` available cores.
pub fn threads(asked: usize, cores: usize) -> Threads {
    let cap = MAX_THREADS_PER_CORE * cores.max(1);
    Threads {
        asked,
        used: asked.clamp(1, cap),
        lowered: asked > cap,
    }
}

/// Runs the parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    if let Some(n) = cli.threads {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        let n = threads(n, cores);
        if n.lowered {
            eprintln!(
                "peerscope: warning: --threads {}: more than {MAX_THREADS_PER_CORE} × the {cores} available core(s); using {} (results are the same for any number)",
                n.asked, n.used
            );
        }
        rayon::ThreadPoolBuilder::new()
            .num_threads(n.used)
            .build_global()?;
    }
    match cli.command {
        Command::Check(args) => check::run(&args),
        Command::Query(args) => query::run(&args),
        Command::Reach(args) => reach::run(&args),
        Command::Gen(args) => r#gen::run(&args),
        Command::Audit(args) => audit::run(&args),
        Command::Snapshot(args) => snapshot::run(&args),
        Command::Diff(args) => diff::run_diff(&args),
        Command::WhatIf(args) => diff::run_what_if(&args),
        Command::Graph(args) => graph::run(&args),
        Command::Completions(args) => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(args.shell, &mut cmd, "peerscope", &mut std::io::stdout());
            Ok(ExitCode::from(exit::OK))
        }
        Command::Man => {
            let mut page = Vec::new();
            clap_mangen::Man::new(<Cli as clap::CommandFactory>::command()).render(&mut page)?;
            std::io::Write::write_all(&mut std::io::stdout().lock(), &page)?;
            Ok(ExitCode::from(exit::OK))
        }
    }
}

/// Phase times for `--timings`.
pub(crate) struct Clock {
    on: bool,
    last: Instant,
    phases: Vec<(&'static str, f64)>,
}

impl Clock {
    pub(crate) fn new(on: bool) -> Clock {
        Clock {
            on,
            last: Instant::now(),
            phases: Vec::new(),
        }
    }

    pub(crate) fn lap(&mut self, phase: &'static str) {
        let now = Instant::now();
        self.phases
            .push((phase, (now - self.last).as_secs_f64() * 1000.0));
        self.last = now;
    }

    pub(crate) fn print(&self) {
        if self.on {
            let parts: Vec<String> = self
                .phases
                .iter()
                .map(|(p, ms)| format!("{p} {ms:.1} ms"))
                .collect();
            eprintln!("peerscope: timings: {}", parts.join(", "));
        }
    }
}

/// Where each format goes: every `--output FORMAT=PATH` (at most one on standard output, no path
/// twice, each file checked as peerscope checks every file it writes), else `--format` on
/// `default_path` (standard output when `None`). `reserved`: a file the command writes besides
/// (`--write-baseline`).
pub(crate) fn outputs<F: Copy>(
    format: F,
    asked: &[(F, PathBuf)],
    default_path: Option<&std::path::Path>,
    reserved: Option<&std::path::Path>,
) -> anyhow::Result<Vec<(F, crate::output::Output)>> {
    if asked.is_empty() {
        return Ok(vec![(format, crate::output::Output::new(default_path)?)]);
    }
    let mut seen: std::collections::BTreeSet<PathBuf> =
        reserved.map(|p| p.to_path_buf()).into_iter().collect();
    let mut stdout = 0;
    let mut out = Vec::new();
    for (format, path) in asked {
        if path.as_os_str() != "-" && !seen.insert(path.clone()) {
            anyhow::bail!(
                "--output: {} is named twice (or is the --write-baseline file)",
                path.display()
            );
        }
        let o = crate::output::Output::new(Some(path))?;
        if matches!(o, crate::output::Output::Stdout) {
            stdout += 1;
            if stdout > 1 {
                anyhow::bail!("--output: only one format can go to standard output (`-`)");
            }
        }
        out.push((*format, o));
    }
    Ok(out)
}
