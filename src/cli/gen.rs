//! `peerscope gen`: write a synthetic organisation (issue 6) for benchmarks and scale tests.

use std::io::Write;
use std::process::ExitCode;
use std::time::Instant;

use super::{Format, GenArgs, exit};
use crate::r#gen::{Options, generate};

pub fn run(args: &GenArgs) -> anyhow::Result<ExitCode> {
    let opts = Options {
        tier: args.tier,
        seed: args.seed,
        pretty: args.pretty,
        queries: args
            .queries
            .as_ref()
            .map(|path| (path.clone(), args.query_count)),
    };
    let started = Instant::now();
    // The error names the path (refused, or not writable): exit 2.
    let summary = generate(&opts, &args.out)?;
    let elapsed = started.elapsed();
    let mut out = std::io::stdout().lock();
    match args.format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut out, &summary)?;
            writeln!(out)?;
        }
        Format::Table => {
            let s = &summary;
            writeln!(
                out,
                "{}: tier {}, seed {}: {} accounts, {} VPCs, {} subnets, {} route tables ({} routes), {} NACLs, {} security groups ({} rules), {} ENIs, {} peerings; {} files, {:.1} MiB in {:.2} s",
                args.out.display(),
                clap::ValueEnum::to_possible_value(&args.tier)
                    .map(|v| v.get_name().to_owned())
                    .unwrap_or_default(),
                args.seed,
                s.accounts,
                s.vpcs,
                s.subnets,
                s.route_tables,
                s.routes,
                s.network_acls,
                s.security_groups,
                s.security_group_rules,
                s.network_interfaces,
                s.peerings,
                s.files,
                s.bytes as f64 / (1024.0 * 1024.0),
                elapsed.as_secs_f64()
            )?;
            if let Some(path) = &args.queries {
                writeln!(out, "{}: {} queries", path.display(), s.queries)?;
            }
        }
    }
    Ok(ExitCode::from(exit::OK))
}
