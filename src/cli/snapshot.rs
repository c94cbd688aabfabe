//! `peerscope snapshot --out DIR`: collect a live snapshot through the AWS SDK (see
//! [`crate::collect`]), print a summary, and exit 3 when some account-region failed. Interrupted
//! by a signal, it removes its partial output and then dies of that signal, as it would have
//! without a handler (the shell sees 128 + the signal's number; no exit code of our own).

use std::path::PathBuf;
use std::process::ExitCode;
#[cfg(feature = "aws")]
use std::time::Duration;

#[cfg(feature = "aws")]
use super::exit;
use crate::aws::{DEFAULT_CONCURRENCY, DEFAULT_ROLE};
#[cfg(feature = "aws")]
use crate::collect::{self, AccountSource, Config, Regions};
#[cfg(feature = "aws")]
use crate::escape::terminal;

#[derive(Debug, clap::Args)]
pub struct CollectArgs {
    /// The snapshot folder to write: new, empty, or one peerscope wrote (only its account
    /// folders and manifest are replaced; intent.toml, changes/ and other files stay).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Accounts to collect, from a TOML file of `[[account]]` tables (docs/collect.md).
    #[arg(long, value_name = "FILE", conflicts_with = "org")]
    pub accounts: Option<PathBuf>,
    /// Collect every ACTIVE account of the AWS Organization (from the management or a
    /// delegated administrator account). Default: the caller's own account.
    #[arg(long)]
    pub org: bool,
    /// The role assumed in each account.
    #[arg(long, value_name = "NAME", default_value = DEFAULT_ROLE)]
    pub role_name: String,
    /// ExternalId for AssumeRole (for a third party's accounts).
    #[arg(long, value_name = "ID")]
    pub external_id: Option<String>,
    /// AssumeRole session duration in seconds (900–43200).
    #[arg(long, value_name = "SECONDS", default_value_t = 3600,
          value_parser = clap::value_parser!(u64).range(900..=43_200))]
    pub duration: u64,
    /// Comma-separated regions, or `all` (the regions enabled for the account).
    /// Default: the configured region (AWS_REGION or the profile's).
    #[arg(long, visible_alias = "region", value_name = "LIST|all")]
    pub regions: Option<String>,
    /// Requests in flight at most, across all accounts and regions.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_CONCURRENCY as u64,
          value_parser = clap::value_parser!(u64).range(1..=1024))]
    pub concurrency: u64,
    /// The AWS profile to start from (default: the standard credential chain).
    #[arg(long, value_name = "P")]
    pub profile: Option<String>,
    /// Send every AWS request to this endpoint (an emulator, a VPC endpoint).
    #[arg(long, value_name = "URL")]
    pub endpoint_url: Option<String>,
    /// No progress bar and no summary (failures are still printed).
    #[arg(long, short)]
    pub quiet: bool,
}

/// `--regions`: `all`, or a comma-separated list of region names.
#[cfg(feature = "aws")]
fn parse_regions(s: Option<&str>) -> anyhow::Result<Regions> {
    let Some(s) = s else {
        return Ok(Regions::Configured);
    };
    if s.trim() == "all" {
        return Ok(Regions::All);
    }
    let list: Vec<String> = s
        .split(',')
        .map(|r| r.trim().to_owned())
        .filter(|r| !r.is_empty())
        .collect();
    // Every bad name, not only the first.
    let bad: Vec<String> = list
        .iter()
        .filter(|r| !collect::validate::is_region(r))
        .map(|r| collect::validate::describe(r))
        .collect();
    if !bad.is_empty() {
        anyhow::bail!(
            "--regions: {} {} not {}",
            bad.join(", "),
            if bad.len() == 1 { "is" } else { "are" },
            collect::validate::REGION_PATTERN
        );
    }
    if list.is_empty() {
        anyhow::bail!("--regions: no region given");
    }
    Ok(Regions::List(list))
}

/// A build without the collector (the default features) knows the command but cannot run it.
#[cfg(not(feature = "aws"))]
pub fn run(_args: &CollectArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!(
        "this peerscope was built without the collector (the AWS SDK): build it with `--features aws` \
         (`cargo install --locked --path . --features aws`) to run `peerscope snapshot`; every other \
         command works on snapshot folders as it is"
    )
}

#[cfg(feature = "aws")]
pub fn run(args: &CollectArgs) -> anyhow::Result<ExitCode> {
    let config = Config {
        out: args.out.clone(),
        accounts: match (&args.accounts, args.org) {
            (Some(f), _) => AccountSource::File(f.clone()),
            (None, true) => AccountSource::Organizations,
            (None, false) => AccountSource::Caller,
        },
        role_name: args.role_name.clone(),
        external_id: args.external_id.clone(),
        duration: Duration::from_secs(args.duration),
        regions: parse_regions(args.regions.as_deref())?,
        concurrency: args.concurrency as usize,
        profile: args.profile.clone(),
        endpoint_url: args.endpoint_url.clone(),
        progress: !args.quiet,
    };
    let outcome = match collect::snapshot(&config) {
        Ok(o) => o,
        Err(collect::CollectError::Interrupted(signal)) => {
            eprintln!(
                "peerscope: interrupted: the partial snapshot was removed; {} is as it was",
                args.out.display()
            );
            die_of(signal);
        }
        Err(e) => {
            eprintln!("peerscope: {}", terminal(&e.to_string()));
            return Ok(ExitCode::from(exit::USAGE));
        }
    };
    if !args.quiet {
        for p in &outcome.removed {
            eprintln!(
                "peerscope: removed {}, left by an interrupted run",
                p.display()
            );
        }
    }
    let m = &outcome.manifest;
    let failed: Vec<_> = m.failed().collect();
    for f in &failed {
        // A refused account id or region name is printed escaped (it may be anything).
        eprintln!(
            "peerscope: {}/{}: not collected: {}",
            terminal(&f.account),
            terminal(&f.region),
            // AWS's error messages are the remote side's text: shown, never obeyed.
            terminal(f.error.as_deref().unwrap_or("unknown error"))
        );
    }
    for r in &m.results {
        for w in &r.warnings {
            eprintln!(
                "peerscope: {}/{}: warning: {}",
                terminal(&r.account),
                terminal(&r.region),
                terminal(w)
            );
        }
    }
    if !args.quiet || !failed.is_empty() {
        eprintln!(
            "peerscope: {} of {} account-region(s) collected ({} account(s) × {} region(s)), {} failed; {} calls in {:.1}s → {}",
            m.results.len() - failed.len(),
            m.results.len(),
            m.accounts.len(),
            m.regions.len(),
            failed.len(),
            outcome.calls,
            outcome.elapsed.as_secs_f64(),
            outcome.out.display()
        );
    }
    Ok(ExitCode::from(if outcome.is_partial() {
        exit::PARTIAL
    } else {
        exit::OK
    }))
}

/// Dies of `signal` with its default action, so that a shell or a parent process sees the
/// process as killed by it (a shell loop stops on Ctrl-C).
#[cfg(feature = "aws")]
fn die_of(signal: i32) -> ! {
    #[cfg(unix)]
    // SAFETY: restoring the default action and raising a signal touch no memory of ours.
    unsafe {
        libc::signal(signal, libc::SIG_DFL);
        libc::raise(signal);
    }
    std::process::exit(128 + signal)
}

#[cfg(all(test, feature = "aws"))]
mod tests {
    use super::*;

    #[test]
    fn regions_flag() {
        assert_eq!(parse_regions(None).unwrap(), Regions::Configured);
        assert_eq!(parse_regions(Some("all")).unwrap(), Regions::All);
        assert_eq!(
            parse_regions(Some("us-east-1, eu-west-1")).unwrap(),
            Regions::List(vec!["us-east-1".into(), "eu-west-1".into()])
        );
        assert!(parse_regions(Some("us-east-1,mars")).is_err());
        assert!(parse_regions(Some(",")).is_err());
        let e = parse_regions(Some("../x,us-east-1,mars")).unwrap_err();
        assert!(
            e.to_string()
                .starts_with(r#"--regions: "../x", "mars" are not"#),
            "{e}"
        );
    }
}
