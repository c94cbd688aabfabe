//! peerscope's collector, the one crate of the workspace that knows the AWS SDK.
//!
//! Live collection (`peerscope snapshot`): many accounts and regions through STS AssumeRole,
//! written as the snapshot layout the loader reads (`<out>/<account>/<region>/describe-*.json`)
//! plus `manifest.json`.
//!
//! **Architecture invariant: this is the only crate that knows the AWS SDK and tokio** (the
//! compiler keeps it so: `peerscope-core` does not depend on them). The analysis and does no network I/O; [`snapshot`] builds its own tokio
//! runtime and returns plain values. Credentials never leave the SDK's types: nothing here
//! prints, logs or writes them (the manifest holds the caller's ARN, never keys).
//!
//! # Organization
//! - [`accounts`]: the `--accounts` file format;
//! - [`validate`] (the core's `aws` module): account ids, region names and prefix-list ids, checked before they name a
//!   folder or file; [`complete`]: cut response bodies refused and retried (issue 13);
//! - [`convert`]: SDK types → describe-API JSON, [`json`]: byte-stable output;
//! - [`pages`]: pagination and page merging on plain data;
//! - [`limit`]: the per account-region token bucket;
//! - the output goes through a staging folder, [`peerscope_core::output::Staging`], moved into place at
//!   the end; SIGINT, SIGTERM and SIGHUP stop the run and remove it ([`CollectError::Interrupted`]);
//! - this file: the run — identity, accounts, regions, one task per account-region, bounded
//!   requests in flight, progress, manifest.

pub mod accounts;
pub mod complete;
mod convert;
pub mod json;
pub mod limit;
pub mod pages;

use std::collections::{BTreeMap, BTreeSet};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use aws_config::BehaviorVersion;
use aws_config::Region;
use aws_config::SdkConfig;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_sdk_ec2::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_ec2::primitives::{DateTime, DateTimeFormat};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::Value;
use tokio::sync::Semaphore;

use accounts::Target;
use complete::{CompleteBody, Format};
use limit::RateLimiter;
use pages::{Page, PageError, merge_by_id, paginate};
use peerscope_core::output::{OutputError, Staging};
use peerscope_core::snapshot::manifest::{self, Manifest, RegionResult, Status};

/// Names checked before they become paths: the core's [`peerscope_core::aws`].
pub use peerscope_core::aws as validate;
pub use peerscope_core::aws::{DEFAULT_CONCURRENCY, DEFAULT_ROLE, SESSION_NAME};

/// Where the accounts come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AccountSource {
    /// The caller's own account.
    Caller,
    /// An accounts file (see [`accounts`]).
    File(PathBuf),
    /// AWS Organizations ListAccounts, ACTIVE accounts only.
    Organizations,
}

/// Which regions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Regions {
    /// The region of the credential chain's configuration (`AWS_REGION`, the profile).
    Configured,
    List(Vec<String>),
    /// DescribeRegions: the regions enabled for the caller's account.
    All,
}

/// Everything a run needs, as plain values.
#[derive(Clone, Debug)]
pub struct Config {
    pub out: PathBuf,
    pub accounts: AccountSource,
    pub role_name: String,
    pub external_id: Option<String>,
    /// AssumeRole session duration.
    pub duration: Duration,
    pub regions: Regions,
    /// Requests in flight at most, across all accounts and regions.
    pub concurrency: usize,
    pub profile: Option<String>,
    /// Send every AWS request here (an emulator, a VPC endpoint).
    pub endpoint_url: Option<String>,
    /// Show a progress bar (only ever on a terminal).
    pub progress: bool,
}

/// What a run did.
#[derive(Debug)]
pub struct Outcome {
    pub manifest: Manifest,
    pub out: PathBuf,
    pub calls: u64,
    pub elapsed: Duration,
    /// Staging folders of interrupted runs that were removed before this one started.
    pub removed: Vec<PathBuf>,
}

impl Outcome {
    /// Did some account-region fail?
    pub fn is_partial(&self) -> bool {
        self.manifest.failed().next().is_some()
    }
}

/// Why nothing could be collected at all (an account-region failing is not an error: it is
/// recorded in the manifest).
#[derive(Debug, thiserror::Error)]
pub enum CollectError {
    #[error("{}", .0.join("\n"))]
    AccountsFile(Vec<String>),
    #[error("who am I? STS GetCallerIdentity failed: {0}")]
    CallerIdentity(String),
    #[error(
        "Organizations ListAccounts failed (run from the management or a delegated administrator account): {0}"
    )]
    Organizations(String),
    #[error("DescribeRegions failed: {0}")]
    Regions(String),
    #[error("no region: pass --regions, or set AWS_REGION or the profile's region")]
    NoRegion,
    #[error("{}", .0.join("\n"))]
    RegionList(Vec<String>),
    #[error(
        "the configured region (AWS_REGION or the profile's) {0} is not {pattern}",
        pattern = validate::REGION_PATTERN
    )]
    ConfiguredRegion(String),
    #[error("no accounts to collect")]
    NoAccounts,
    /// `--out` cannot be written (its message names the path).
    #[error(transparent)]
    Output(#[from] OutputError),
    #[error("cannot start the async runtime: {0}")]
    Runtime(std::io::Error),
    /// A signal stopped the run; its staging folder was removed, `--out` is untouched.
    #[error("interrupted by signal {0}: nothing was written")]
    Interrupted(i32),
}

/// Collects the snapshot `config` describes and writes it to `config.out`.
///
/// `--out` is checked (and dead runs' staging folders there removed) before anything else.
/// SIGINT, SIGTERM and SIGHUP are caught while the run lasts: the run stops, its staging folder
/// is removed, and the result is [`CollectError::Interrupted`] (the caller then dies of the
/// signal). Once the snapshot is being moved into place, a signal waits until that is done.
pub fn snapshot(config: &Config) -> Result<Outcome, CollectError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(CollectError::Runtime)?;
    // The handlers are in place before the staging folder exists, so no signal can leave it.
    let signals = {
        let _inside = runtime.enter();
        Signals::install()
    };
    let staging = Staging::new(&config.out)?;
    let partial = staging.path().to_path_buf();
    let result = runtime.block_on(async {
        tokio::select! {
            r = run(config, staging) => r,
            signal = signals.recv() => Err(CollectError::Interrupted(signal)),
        }
    });
    // Tasks still holding the staging folder are dropped with the runtime; remove it here too,
    // in case one was inside a blocking write.
    drop(runtime);
    if result.is_err() {
        let _ = std::fs::remove_dir_all(&partial);
    }
    result
}

/// The signals that stop a run: SIGINT, SIGTERM and SIGHUP (Ctrl-C elsewhere).
struct Signals {
    #[cfg(unix)]
    streams: Option<[(tokio::signal::unix::Signal, i32); 3]>,
}

impl Signals {
    /// Installs the handlers (inside a runtime). Without them, a signal kills as it always did.
    fn install() -> Signals {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let streams = match (
                signal(SignalKind::interrupt()),
                signal(SignalKind::terminate()),
                signal(SignalKind::hangup()),
            ) {
                (Ok(int), Ok(term), Ok(hup)) => Some([
                    (int, libc::SIGINT),
                    (term, libc::SIGTERM),
                    (hup, libc::SIGHUP),
                ]),
                _ => None,
            };
            Signals { streams }
        }
        #[cfg(not(unix))]
        Signals {}
    }

    /// Waits for one of the signals; returns its number.
    async fn recv(mut self) -> i32 {
        #[cfg(unix)]
        {
            let Some([(mut int, a), (mut term, b), (mut hup, c)]) = self.streams.take() else {
                return std::future::pending().await;
            };
            tokio::select! {
                _ = int.recv() => a,
                _ = term.recv() => b,
                _ = hup.recv() => c,
            }
        }
        #[cfg(not(unix))]
        {
            match tokio::signal::ctrl_c().await {
                Ok(()) => 2,
                Err(_) => std::future::pending().await,
            }
        }
    }
}

/// Counters shared by every task, shown by the progress bar.
struct Shared {
    in_flight: Semaphore,
    calls: AtomicU64,
    errors: AtomicU64,
    progress: ProgressBar,
}

impl Shared {
    fn show(&self) {
        self.progress.set_message(format!(
            "calls {}, errors {}",
            self.calls.load(Ordering::Relaxed),
            self.errors.load(Ordering::Relaxed)
        ));
    }
}

/// A failed AWS call: the service's error code when it gave one, and the whole message.
#[derive(Debug)]
struct CallError {
    code: Option<String>,
    message: String,
}

impl std::fmt::Display for CallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// One account-region's politeness: its token bucket, and its call count.
struct Lane {
    shared: Arc<Shared>,
    bucket: RateLimiter,
    calls: AtomicU64,
}

impl Lane {
    /// Sends one request: waits for the account-region's bucket and a slot among the requests
    /// in flight. (SDK futures are lazy: nothing is sent before they are awaited here.)
    async fn call<T, E, F>(&self, request: F) -> Result<T, CallError>
    where
        F: std::future::Future<Output = Result<T, SdkError<E>>>,
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        self.bucket.acquire().await;
        let _slot = self.shared.in_flight.acquire().await.expect("never closed");
        self.calls.fetch_add(1, Ordering::Relaxed);
        self.shared.calls.fetch_add(1, Ordering::Relaxed);
        self.shared.show();
        request.await.map_err(|e| call_error(&e))
    }
}

/// A short, readable account of a failed call: the service's code and message (parsed from the
/// body when the SDK could not, as with an emulator's HTML content type), or what went wrong
/// on the way. Never the request (which carries signed headers).
fn call_error<E>(e: &SdkError<E>) -> CallError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    match e {
        SdkError::ServiceError(se) => {
            let status = se.raw().status().as_u16();
            let (code, message) = match se.err().code() {
                Some(c) => (Some(c.to_owned()), se.err().message().map(str::to_owned)),
                None => {
                    let body = se.raw().body().bytes().unwrap_or_default();
                    parse_error_body(&String::from_utf8_lossy(body))
                }
            };
            let text = match (&code, message) {
                (Some(c), Some(m)) => format!("{c}: {m} (HTTP {status})"),
                (Some(c), None) => format!("{c} (HTTP {status})"),
                (None, Some(m)) => format!("{m} (HTTP {status})"),
                (None, None) => format!("HTTP {status}"),
            };
            CallError {
                code,
                message: text,
            }
        }
        SdkError::TimeoutError(_) => CallError {
            code: None,
            message: "timed out".into(),
        },
        other => {
            // The error and its sources, as one line.
            let mut text = other.to_string();
            let mut source = std::error::Error::source(other);
            while let Some(s) = source {
                let s_text = s.to_string();
                if !text.contains(&s_text) {
                    text.push_str(": ");
                    text.push_str(&s_text);
                }
                source = s.source();
            }
            CallError {
                code: None,
                message: text,
            }
        }
    }
}

/// `<Code>` and `<Message>` of an AWS XML error body.
pub fn parse_error_body(body: &str) -> (Option<String>, Option<String>) {
    fn element(body: &str, name: &str) -> Option<String> {
        let open = format!("<{name}>");
        let start = body.find(&open)? + open.len();
        let end = body[start..].find(&format!("</{name}>"))? + start;
        Some(body[start..end].trim().to_owned()).filter(|s| !s.is_empty())
    }
    (element(body, "Code"), element(body, "Message"))
}

fn now_rfc3339() -> String {
    DateTime::from(SystemTime::now())
        .fmt(DateTimeFormat::DateTime)
        .unwrap_or_default()
}

/// The shared base configuration: credential chain, profile, endpoint, retries, one HTTP client.
async fn base_config(config: &Config) -> SdkConfig {
    // One HTTP client for every SDK client, so connections are pooled and reused across
    // accounts and regions (each SDK client would otherwise build its own).
    let http = aws_smithy_http_client::Builder::new()
        .tls_provider(aws_smithy_http_client::tls::Provider::Rustls(
            aws_smithy_http_client::tls::rustls_provider::CryptoMode::AwsLc,
        ))
        .build_https();
    // Standard retries: exponential backoff with full jitter on throttling, 5xx and transient
    // network errors.
    let retry = RetryConfig::standard()
        .with_max_attempts(5)
        .with_initial_backoff(Duration::from_millis(250))
        .with_max_backoff(Duration::from_secs(20));
    let timeouts = TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(5))
        .operation_attempt_timeout(Duration::from_secs(30))
        .build();
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .http_client(http)
        .retry_config(retry)
        .timeout_config(timeouts);
    if let Some(p) = &config.profile {
        loader = loader.profile_name(p);
    }
    if let Some(u) = &config.endpoint_url {
        loader = loader.endpoint_url(u);
    }
    loader.load().await
}

async fn run(config: &Config, staging: Staging) -> Result<Outcome, CollectError> {
    let started = Instant::now();
    let started_at = now_rfc3339();
    let removed = staging.removed().to_vec();
    let base = base_config(config).await;
    let configured_region = base.region().map(|r| r.to_string());
    // The user's own names are checked before any call: a bad one is a usage error.
    if let Some(r) = configured_region
        .as_deref()
        .filter(|r| !validate::is_region(r))
    {
        return Err(CollectError::ConfiguredRegion(validate::describe(r)));
    }
    if let Regions::List(list) = &config.regions {
        let bad: Vec<String> = list
            .iter()
            .filter(|r| !validate::is_region(r))
            .map(|r| {
                format!(
                    "--regions: {} is not {}",
                    validate::describe(r),
                    validate::REGION_PATTERN
                )
            })
            .collect();
        if !bad.is_empty() {
            return Err(CollectError::RegionList(bad));
        }
    }
    // Global calls (STS, Organizations, DescribeRegions) go to the configured region.
    let home = Region::new(
        configured_region
            .clone()
            .unwrap_or_else(|| "us-east-1".to_owned()),
    );
    let progress = if config.progress && std::io::stderr().is_terminal() {
        ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr())
    } else {
        ProgressBar::hidden()
    };
    let shared = Arc::new(Shared {
        in_flight: Semaphore::new(config.concurrency.max(1)),
        calls: AtomicU64::new(0),
        errors: AtomicU64::new(0),
        progress,
    });
    let global = Lane {
        shared: shared.clone(),
        bucket: RateLimiter::ec2(),
        calls: AtomicU64::new(0),
    };

    let sts = aws_sdk_sts::Client::from_conf(
        aws_sdk_sts::config::Builder::from(&base)
            .region(home.clone())
            .interceptor(CompleteBody(Format::Xml))
            .build(),
    );
    let me = global
        .call(sts.get_caller_identity().send())
        .await
        .map_err(|e| CollectError::CallerIdentity(e.to_string()))?;
    let caller = manifest::Caller {
        account: me.account().unwrap_or_default().to_owned(),
        arn: me.arn().unwrap_or_default().to_owned(),
    };
    // Who we are decides which accounts are read with our own credentials and names a folder
    // (the caller's account by default): an identity that does not parse is no identity.
    if !validate::is_account_id(&caller.account) {
        return Err(CollectError::CallerIdentity(format!(
            "it returned the account id {}, which is not {}",
            validate::describe(&caller.account),
            validate::ACCOUNT_ID_PATTERN
        )));
    }
    // aws, aws-cn, aws-us-gov: role ARNs live in the caller's partition.
    let partition = caller.arn.split(':').nth(1).unwrap_or("aws").to_owned();
    if !is_partition(&partition) {
        return Err(CollectError::CallerIdentity(format!(
            "it returned the ARN {}, which names no AWS partition",
            validate::describe(&caller.arn)
        )));
    }

    let (targets, accounts_from) = match &config.accounts {
        AccountSource::Caller => (
            vec![Target {
                id: caller.account.clone(),
                name: None,
                role: None,
                external_id: None,
            }],
            "caller",
        ),
        AccountSource::File(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| {
                CollectError::AccountsFile(vec![format!("{}: {e}", path.display())])
            })?;
            (
                accounts::parse(path, &text).map_err(CollectError::AccountsFile)?,
                "file",
            )
        }
        AccountSource::Organizations => (
            organization_accounts(&base, &home, &global).await?,
            "organizations",
        ),
    };
    if targets.is_empty() {
        return Err(CollectError::NoAccounts);
    }

    // Region names from DescribeRegions are checked below, with the account ids from
    // ListAccounts: a bad one is a failure of the account-regions it would have named.
    let regions: Vec<String> = match &config.regions {
        Regions::List(l) => l
            .iter()
            .cloned()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect(),
        Regions::Configured => vec![configured_region.clone().ok_or(CollectError::NoRegion)?],
        Regions::All => enabled_regions(&base, &home, &global).await?,
    };
    if regions.is_empty() {
        return Err(CollectError::NoRegion);
    }

    shared
        .progress
        .set_length((targets.len() * regions.len()) as u64);
    shared.progress.set_style(
        ProgressStyle::with_template(
            "{spinner} {elapsed_precise} [{bar:30}] {pos}/{len} account-regions  {msg}",
        )
        .expect("a valid template")
        .progress_chars("=> "),
    );
    shared
        .progress
        .enable_steady_tick(Duration::from_millis(120));

    // One task per account: AssumeRole once, then its regions concurrently. Requests in
    // flight are bounded by the shared semaphore, not by the number of tasks.
    let base = Arc::new(base);
    let sts = Arc::new(sts);
    let staging = Arc::new(staging);
    let mut tasks = tokio::task::JoinSet::new();
    let mut manifest_accounts = Vec::new();
    let mut results = Vec::new();
    let (good_regions, bad_regions): (Vec<String>, Vec<String>) = regions
        .iter()
        .cloned()
        .partition(|r| validate::is_region(r));
    for target in &targets {
        // Refused names from a response: recorded as failed, never used in a path or an ARN.
        if !validate::is_account_id(&target.id) {
            let error = format!(
                "{} returned the account id {}, which is not {}: not collected",
                source_call(accounts_from),
                validate::describe(&target.id),
                validate::ACCOUNT_ID_PATTERN
            );
            manifest_accounts.push(manifest::Account {
                id: target.id.clone(),
                name: target.name.clone(),
                role_arn: None,
            });
            results.extend(refused(&shared, &target.id, &regions, &error));
            continue;
        }
        for r in &bad_regions {
            let error = format!(
                "DescribeRegions returned the region name {}, which is not {}: not collected",
                validate::describe(r),
                validate::REGION_PATTERN
            );
            results.extend(refused(
                &shared,
                &target.id,
                std::slice::from_ref(r),
                &error,
            ));
        }
        // The caller's own account is read with the caller's credentials: service-managed
        // StackSets do not deploy the role to the management account.
        let assume = target.id != caller.account || target.role.is_some();
        let role_arn = assume.then(|| {
            format!(
                "arn:{partition}:iam::{}:role/{}",
                target.id,
                target.role.as_deref().unwrap_or(&config.role_name)
            )
        });
        manifest_accounts.push(manifest::Account {
            id: target.id.clone(),
            name: target.name.clone(),
            role_arn: role_arn.clone(),
        });
        let job = AccountJob {
            account: target.id.clone(),
            role_arn,
            external_id: target
                .external_id
                .clone()
                .or_else(|| config.external_id.clone()),
            duration: config.duration,
            regions: good_regions.clone(),
        };
        tasks.spawn(collect_account(
            job,
            base.clone(),
            sts.clone(),
            shared.clone(),
            staging.clone(),
        ));
    }
    while let Some(done) = tasks.join_next().await {
        match done {
            Ok(r) => results.extend(r),
            Err(e) => std::panic::resume_unwind(e.into_panic()),
        }
    }
    results.sort_by(|a, b| (&a.account, &a.region).cmp(&(&b.account, &b.region)));
    shared.progress.finish_and_clear();

    let manifest = Manifest {
        started_at,
        finished_at: now_rfc3339(),
        caller,
        accounts_from: accounts_from.to_owned(),
        accounts: manifest_accounts,
        regions,
        results,
        ..Manifest::new("snapshot")
    };
    let staging = Arc::try_unwrap(staging).unwrap_or_else(|_| unreachable!("all tasks joined"));
    staging.commit(&manifest)?;
    Ok(Outcome {
        manifest,
        out: config.out.clone(),
        calls: shared.calls.load(Ordering::Relaxed),
        elapsed: started.elapsed(),
        removed,
    })
}

/// ACTIVE accounts of the organization, sorted by id.
async fn organization_accounts(
    base: &SdkConfig,
    home: &Region,
    lane: &Lane,
) -> Result<Vec<Target>, CollectError> {
    use aws_sdk_organizations::types::{AccountState, AccountStatus};
    let org = aws_sdk_organizations::Client::from_conf(
        aws_sdk_organizations::config::Builder::from(base)
            .region(home.clone())
            .interceptor(CompleteBody(Format::Json))
            .build(),
    );
    let (accounts, _) = paginate(|token| {
        let req = org.list_accounts().max_results(20).set_next_token(token);
        async move {
            let out = lane.call(req.send()).await?;
            Ok::<_, CallError>(Page {
                items: out.accounts().to_vec(),
                next_token: out.next_token().map(str::to_owned),
            })
        }
    })
    .await
    .map_err(|e| CollectError::Organizations(e.to_string()))?;
    let mut targets: Vec<Target> = accounts
        .into_iter()
        .filter(|a| match a.state() {
            Some(s) => *s == AccountState::Active,
            None => a.status() == Some(&AccountStatus::Active),
        })
        // An account without an id is kept with an empty one, which is refused and recorded,
        // not dropped without a word.
        .map(|a| Target {
            id: a.id().unwrap_or_default().to_owned(),
            name: a.name().map(str::to_owned),
            role: None,
            external_id: None,
        })
        .collect();
    targets.sort_by(|a, b| a.id.cmp(&b.id));
    targets.dedup_by(|a, b| a.id == b.id);
    Ok(targets)
}

/// The regions enabled for the caller's account (opted-in and opt-in-not-required), sorted.
async fn enabled_regions(
    base: &SdkConfig,
    home: &Region,
    lane: &Lane,
) -> Result<Vec<String>, CollectError> {
    let ec2 = ec2_client(base, home.clone(), None);
    let out = lane
        .call(ec2.describe_regions().all_regions(false).send())
        .await
        .map_err(|e| CollectError::Regions(e.to_string()))?;
    let mut regions: Vec<String> = out
        .regions()
        .iter()
        .filter(|r| r.opt_in_status() != Some("not-opted-in"))
        .filter_map(|r| r.region_name().map(str::to_owned))
        .collect();
    regions.sort();
    regions.dedup();
    Ok(regions)
}

/// An EC2 client for `region`, with the assumed role's `credentials` if any, refusing cut
/// response bodies.
fn ec2_client(
    base: &SdkConfig,
    region: Region,
    credentials: Option<&aws_sdk_ec2::config::Credentials>,
) -> aws_sdk_ec2::Client {
    let mut builder = aws_sdk_ec2::config::Builder::from(base)
        .region(region)
        .interceptor(CompleteBody(Format::Xml));
    if let Some(c) = credentials {
        builder = builder.credentials_provider(c.clone());
    }
    aws_sdk_ec2::Client::from_conf(builder.build())
}

/// The call an account list came from, for messages.
fn source_call(accounts_from: &str) -> &'static str {
    match accounts_from {
        "organizations" => "Organizations ListAccounts",
        "caller" => "STS GetCallerIdentity",
        _ => "the accounts file",
    }
}

/// Is `p` an AWS partition name (`aws`, `aws-cn`, `aws-us-gov`, `aws-iso-b`, …)?
fn is_partition(p: &str) -> bool {
    p.strip_prefix("aws").is_some_and(|rest| {
        rest.split('-')
            .skip(1)
            .all(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_lowercase()))
            && (rest.is_empty() || rest.starts_with('-'))
    })
}

/// Failed results for `account` in `regions`, refused before any call.
fn refused(shared: &Shared, account: &str, regions: &[String], error: &str) -> Vec<RegionResult> {
    regions
        .iter()
        .map(|r| {
            shared.errors.fetch_add(1, Ordering::Relaxed);
            shared.progress.inc(1);
            shared.show();
            failed(account, r, error.to_owned(), 0)
        })
        .collect()
}

struct AccountJob {
    account: String,
    role_arn: Option<String>,
    external_id: Option<String>,
    duration: Duration,
    regions: Vec<String>,
}

fn failed(account: &str, region: &str, error: String, calls: u64) -> RegionResult {
    RegionResult {
        account: account.to_owned(),
        region: region.to_owned(),
        status: Status::Failed,
        error: Some(error),
        calls,
        ..RegionResult::default()
    }
}

async fn collect_account(
    job: AccountJob,
    base: Arc<SdkConfig>,
    sts: Arc<aws_sdk_sts::Client>,
    shared: Arc<Shared>,
    staging: Arc<Staging>,
) -> Vec<RegionResult> {
    let mut credentials = None;
    if let Some(arn) = &job.role_arn {
        let lane = Lane {
            shared: shared.clone(),
            bucket: RateLimiter::ec2(),
            calls: AtomicU64::new(0),
        };
        let request = sts
            .assume_role()
            .role_arn(arn)
            .role_session_name(SESSION_NAME)
            .set_external_id(job.external_id.clone())
            .duration_seconds(job.duration.as_secs().clamp(900, 43_200) as i32)
            .send();
        match lane.call(request).await {
            Ok(out) => match out.credentials() {
                // Held in memory only, inside the SDK's type (its Debug output is redacted).
                Some(c) => {
                    credentials = Some(aws_sdk_ec2::config::Credentials::new(
                        c.access_key_id(),
                        c.secret_access_key(),
                        Some(c.session_token().to_owned()),
                        SystemTime::try_from(*c.expiration()).ok(),
                        "peerscope-assume-role",
                    ))
                }
                None => {
                    return region_failures(&job, &shared, "AssumeRole returned no credentials");
                }
            },
            Err(e) => {
                let message = format!("AssumeRole {arn}: {e}");
                return region_failures(&job, &shared, &message);
            }
        }
    }
    let mut regions = tokio::task::JoinSet::new();
    for region in &job.regions {
        let ec2 = ec2_client(&base, Region::new(region.clone()), credentials.as_ref());
        let lane = Arc::new(Lane {
            shared: shared.clone(),
            bucket: RateLimiter::ec2(),
            calls: AtomicU64::new(0),
        });
        let account = job.account.clone();
        let region = region.clone();
        let staging = staging.clone();
        let shared = shared.clone();
        regions.spawn(async move {
            let result = match collect_region(&ec2, &lane).await {
                Ok(files) => write_region(&staging, &account, &region, files, &lane),
                Err(e) => failed(&account, &region, e, lane.calls.load(Ordering::Relaxed)),
            };
            if result.status == Status::Failed {
                shared.errors.fetch_add(1, Ordering::Relaxed);
            }
            shared.progress.inc(1);
            shared.show();
            result
        });
    }
    let mut out = Vec::new();
    while let Some(done) = regions.join_next().await {
        match done {
            Ok(r) => out.push(r),
            Err(e) => std::panic::resume_unwind(e.into_panic()),
        }
    }
    out
}

fn region_failures(job: &AccountJob, shared: &Shared, error: &str) -> Vec<RegionResult> {
    refused(shared, &job.account, &job.regions, error)
}

/// What one account-region yields: (file name, top-level key, objects) per describe call, the
/// entries of each referenced prefix list, and problems that did not fail the region.
struct RegionFiles {
    lists: Vec<(&'static str, &'static str, Vec<Value>)>,
    /// `get-managed-prefix-list-entries-<pl>.json` bodies, by prefix-list id.
    entries: BTreeMap<String, Vec<Value>>,
    warnings: Vec<String>,
}

/// Every describe call of one account-region, paginated with MaxResults.
async fn collect_region(
    ec2: &aws_sdk_ec2::Client,
    lane: &Arc<Lane>,
) -> Result<RegionFiles, String> {
    /// Pages through one describe call, converting each page's objects to JSON.
    macro_rules! describe {
        ($name:literal, $op:ident, $max:expr, $items:ident, $convert:path) => {
            paginate(|token| {
                let req = ec2.$op().max_results($max).set_next_token(token);
                async move {
                    let out = lane.call(req.send()).await?;
                    Ok::<_, CallError>(Page {
                        items: out.$items().iter().map($convert).collect::<Vec<Value>>(),
                        next_token: out.next_token().map(str::to_owned),
                    })
                }
            })
        };
    }
    fn named(
        name: &'static str,
        r: Result<(Vec<Value>, usize), PageError<CallError>>,
    ) -> Result<Vec<Value>, String> {
        r.map(|(v, _)| v).map_err(|e| format!("{name}: {e}"))
    }
    let (vpcs, subnets, tables, groups, acls, enis, peerings, lists) = tokio::join!(
        describe!("DescribeVpcs", describe_vpcs, 1000, vpcs, convert::vpc),
        describe!(
            "DescribeSubnets",
            describe_subnets,
            1000,
            subnets,
            convert::subnet
        ),
        describe!(
            "DescribeRouteTables",
            describe_route_tables,
            100,
            route_tables,
            convert::route_table
        ),
        describe!(
            "DescribeSecurityGroups",
            describe_security_groups,
            1000,
            security_groups,
            convert::security_group
        ),
        describe!(
            "DescribeNetworkAcls",
            describe_network_acls,
            100,
            network_acls,
            convert::network_acl
        ),
        describe!(
            "DescribeNetworkInterfaces",
            describe_network_interfaces,
            1000,
            network_interfaces,
            convert::network_interface
        ),
        describe!(
            "DescribeVpcPeeringConnections",
            describe_vpc_peering_connections,
            1000,
            vpc_peering_connections,
            convert::vpc_peering_connection
        ),
        describe!(
            "DescribeManagedPrefixLists",
            describe_managed_prefix_lists,
            100,
            prefix_lists,
            convert::managed_prefix_list
        ),
    );
    let tables = merge_by_id(named("DescribeRouteTables", tables)?, "RouteTableId");
    let groups = merge_by_id(named("DescribeSecurityGroups", groups)?, "GroupId");
    // Entries are fetched for the lists routes and rules use, not for every list described.
    let referenced = referenced_prefix_lists(&tables, &groups);
    // Each names a file (`get-managed-prefix-list-entries-<pl>.json`) and a request.
    let bad: Vec<String> = referenced
        .iter()
        .filter(|pl| !validate::is_prefix_list_id(pl))
        .map(|pl| validate::describe(pl))
        .collect();
    if !bad.is_empty() {
        return Err(format!(
            "routes or security-group rules name the prefix-list id(s) {}, which are not {}",
            bad.join(", "),
            validate::PREFIX_LIST_PATTERN
        ));
    }
    let mut files = RegionFiles {
        lists: vec![
            (
                "describe-vpcs.json",
                "Vpcs",
                merge_by_id(named("DescribeVpcs", vpcs)?, "VpcId"),
            ),
            (
                "describe-subnets.json",
                "Subnets",
                merge_by_id(named("DescribeSubnets", subnets)?, "SubnetId"),
            ),
            ("describe-route-tables.json", "RouteTables", tables),
            ("describe-security-groups.json", "SecurityGroups", groups),
            (
                "describe-network-acls.json",
                "NetworkAcls",
                merge_by_id(named("DescribeNetworkAcls", acls)?, "NetworkAclId"),
            ),
            (
                "describe-network-interfaces.json",
                "NetworkInterfaces",
                merge_by_id(
                    named("DescribeNetworkInterfaces", enis)?,
                    "NetworkInterfaceId",
                ),
            ),
            (
                "describe-vpc-peering-connections.json",
                "VpcPeeringConnections",
                merge_by_id(
                    named("DescribeVpcPeeringConnections", peerings)?,
                    "VpcPeeringConnectionId",
                ),
            ),
            (
                "describe-managed-prefix-lists.json",
                "PrefixLists",
                merge_by_id(named("DescribeManagedPrefixLists", lists)?, "PrefixListId"),
            ),
        ],
        entries: BTreeMap::new(),
        warnings: Vec::new(),
    };
    let mut fetches = tokio::task::JoinSet::new();
    for pl in referenced {
        let ec2 = ec2.clone();
        let lane = lane.clone();
        fetches.spawn(async move {
            let r = paginate(|token| {
                let req = ec2
                    .get_managed_prefix_list_entries()
                    .prefix_list_id(&pl)
                    .max_results(100)
                    .set_next_token(token);
                let lane = &lane;
                async move {
                    let out = lane.call(req.send()).await?;
                    Ok::<_, CallError>(Page {
                        items: out
                            .entries()
                            .iter()
                            .map(convert::prefix_list_entry)
                            .collect::<Vec<Value>>(),
                        next_token: out.next_token().map(str::to_owned),
                    })
                }
            })
            .await;
            (pl, r)
        });
    }
    let mut fetched = Vec::new();
    while let Some(done) = fetches.join_next().await {
        match done {
            Ok(r) => fetched.push(r),
            Err(e) => std::panic::resume_unwind(e.into_panic()),
        }
    }
    fetched.sort_by(|a, b| a.0.cmp(&b.0));
    for (pl, r) in fetched {
        match r {
            Ok((mut entries, _)) => {
                entries.sort_by(|a, b| a["Cidr"].as_str().cmp(&b["Cidr"].as_str()));
                entries.dedup();
                files.entries.insert(pl, entries);
            }
            // A route or rule naming a list that no longer exists (or is not shared with this
            // account) is recorded, not fatal: the loader reports the dangling reference.
            Err(PageError::Call(e))
                if e.code
                    .as_deref()
                    .is_some_and(|c| c.ends_with(".NotFound") || c.ends_with(".Malformed")) =>
            {
                files
                    .warnings
                    .push(format!("GetManagedPrefixListEntries {pl}: {e}"));
            }
            Err(e) => return Err(format!("GetManagedPrefixListEntries {pl}: {e}")),
        }
    }
    Ok(files)
}

/// Prefix-list ids that routes (`DestinationPrefixListId`) or security-group rules
/// (`PrefixListIds`) reference, AWS-managed ones included.
pub fn referenced_prefix_lists(route_tables: &[Value], groups: &[Value]) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for t in route_tables {
        for r in t["Routes"].as_array().into_iter().flatten() {
            if let Some(pl) = r["DestinationPrefixListId"].as_str() {
                out.insert(pl.to_owned());
            }
        }
    }
    for g in groups {
        for key in ["IpPermissions", "IpPermissionsEgress"] {
            for p in g[key].as_array().into_iter().flatten() {
                for pl in p["PrefixListIds"].as_array().into_iter().flatten() {
                    if let Some(id) = pl["PrefixListId"].as_str() {
                        out.insert(id.to_owned());
                    }
                }
            }
        }
    }
    out
}

fn write_region(
    staging: &Staging,
    account: &str,
    region: &str,
    files: RegionFiles,
    lane: &Lane,
) -> RegionResult {
    let calls = lane.calls.load(Ordering::Relaxed);
    let mut objects = BTreeMap::new();
    // Names were checked where they came in; this refuses, whatever was missed, a path that
    // would leave the snapshot folder.
    let write = |name: String, body: Value| match validate::relative_path(&[account, region, &name])
    {
        Some(rel) => staging.write(&rel, &json::to_bytes(body)),
        None => Err(std::io::Error::other(format!(
            "refused: {}/{}/{} would leave the snapshot folder",
            validate::describe(account),
            validate::describe(region),
            validate::describe(&name)
        ))),
    };
    for (name, key, items) in files.lists {
        objects.insert(key.to_owned(), items.len());
        if let Err(e) = write(name.to_owned(), serde_json::json!({ key: items })) {
            return failed(account, region, format!("writing {name}: {e}"), calls);
        }
    }
    let mut entry_count = 0;
    for (pl, entries) in files.entries {
        entry_count += entries.len();
        let name = format!("get-managed-prefix-list-entries-{pl}.json");
        let body = serde_json::json!({ "PrefixListId": pl, "Entries": entries });
        if let Err(e) = write(name.clone(), body) {
            return failed(account, region, format!("writing {name}: {e}"), calls);
        }
    }
    objects.insert("Entries".to_owned(), entry_count);
    RegionResult {
        account: account.to_owned(),
        region: region.to_owned(),
        status: Status::Ok,
        error: None,
        calls,
        objects,
        warnings: files.warnings,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn error_bodies_give_code_and_message() {
        let body = r#"<?xml version="1.0"?><ErrorResponse><Errors><Error><Code>AccessDenied</Code><Message>not authorized</Message></Error></Errors></ErrorResponse>"#;
        assert_eq!(
            parse_error_body(body),
            (Some("AccessDenied".into()), Some("not authorized".into()))
        );
        assert_eq!(parse_error_body("<html>oops</html>"), (None, None));
    }

    #[test]
    fn partitions() {
        for p in ["aws", "aws-cn", "aws-us-gov", "aws-iso-b", "aws-eusc"] {
            assert!(is_partition(p), "{p}");
        }
        for p in [
            "", "aw", "awsx", "aws-", "aws--cn", "aws-CN", "../aws", "aws/x",
        ] {
            assert!(!is_partition(p), "{p:?}");
        }
    }

    #[test]
    fn prefix_lists_referenced_by_routes_and_rules() {
        let tables = [json!({"Routes": [
            {"DestinationPrefixListId": "pl-1", "GatewayId": "igw-1"},
            {"DestinationCidrBlock": "10.0.0.0/16", "GatewayId": "local"}]})];
        let groups = [json!({
            "IpPermissions": [{"PrefixListIds": [{"PrefixListId": "pl-2"}]}],
            "IpPermissionsEgress": [{"PrefixListIds": [{"PrefixListId": "pl-1"}, {"PrefixListId": "pl-3"}]}]})];
        let ids: Vec<String> = referenced_prefix_lists(&tables, &groups)
            .into_iter()
            .collect();
        assert_eq!(ids, ["pl-1", "pl-2", "pl-3"]);
    }
}
