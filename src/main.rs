//! The `peerscope` binary: parse the command line, run it, print the whole error chain.

use std::process::ExitCode;

use clap::Parser;

/// mimalloc: faster and smaller than glibc's allocator on peerscope's many small set vectors
/// (figures in Cargo.toml and docs/performance.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = peerscope::cli::Cli::parse();
    match peerscope::cli::run(cli) {
        Ok(code) => code,
        // A reader that went away (`peerscope … | head`) is not an error worth a message.
        Err(e)
            if e.chain().any(|c| {
                let kind = c
                    .downcast_ref::<std::io::Error>()
                    .map(|io| io.kind())
                    .or_else(|| {
                        c.downcast_ref::<serde_json::Error>()
                            .and_then(|j| j.io_error_kind())
                    });
                kind == Some(std::io::ErrorKind::BrokenPipe)
            }) =>
        {
            ExitCode::SUCCESS
        }
        Err(e) => {
            // The chain may quote file names and values from the input: shown, never obeyed.
            eprintln!(
                "peerscope: {}",
                peerscope::escape::terminal_lines(&format!("{e:#}"))
            );
            ExitCode::from(peerscope::cli::exit::USAGE)
        }
    }
}
