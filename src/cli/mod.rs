//! The command line: flags parsed into plain values, then one function per command. The
//! binary is glue; every command calls into the library and maps its outcome to an exit code.
//!
//! Exit codes (documented in the README): 0 success and nothing to report, 1 findings or
//! error-level diagnostics, 2 usage or unusable input, 3 partial snapshot (collection).

mod check;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

/// Who can reach what across your AWS VPC peerings, and is that more than you meant?
#[derive(Debug, Parser)]
#[command(name = "peerscope", version, about, long_about = None)]
pub struct Cli {
    /// Worker threads (default: all cores). Results are identical for any value.
    #[arg(long, global = true, value_name = "N")]
    pub threads: Option<usize>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Validate a snapshot and print its inventory and every diagnostic.
    Check(CheckArgs),
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
}

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub input: SnapshotArgs,
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

/// Exit codes.
pub mod exit {
    pub const OK: u8 = 0;
    pub const FINDINGS: u8 = 1;
    pub const USAGE: u8 = 2;
}

/// Runs the parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    if let Some(n) = cli.threads {
        rayon::ThreadPoolBuilder::new()
            .num_threads(n.max(1))
            .build_global()?;
    }
    match cli.command {
        Command::Check(args) => check::run(&args),
    }
}
