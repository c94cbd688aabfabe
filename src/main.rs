//! The `peerscope` binary: parse the command line, run it, print the whole error chain.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = peerscope::cli::Cli::parse();
    match peerscope::cli::run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("peerscope: {e:#}");
            ExitCode::from(peerscope::cli::exit::USAGE)
        }
    }
}
