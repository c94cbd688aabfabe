//! Synthetic organisations for benchmarks and scale tests (issue 6): `peerscope gen`.
//!
//! [`generate`] writes a snapshot in peerscope's layout (`<out>/<account>/<region>/describe-*.json`)
//! that looks like a real multi-account organisation: hub-and-spoke shared-services peering
//! and small meshed clusters, partner accounts, CIDR reuse among VPCs that are not peered
//! (default VPCs at 172.31.0.0/16), three-tier subnets over several AZs, NACLs with
//! deny-before-allow and ephemeral return rules (most subnets on the default allow-all NACL),
//! security groups with heavy-tailed rule counts that reference groups in the same and in
//! peered VPCs and prefix lists, blackhole routes, and injected over-broad routes and rules.
//!
//! The output is a function of the tier and the seed only: byte-identical on every run,
//! platform and thread count.
//!
//! # Organization
//! - [`plan`]: the organisation's skeleton, decided once: accounts, VPC roles and CIDRs, the
//!   peering graph, size budgets, and every id another account may name.
//! - [`account`]: one account's objects from the plan and its own random stream, written to
//!   disk; accounts run in parallel (rayon).
//! - [`aws`]: typed `Serialize` mirrors of the describe-* JSON.
//! - [`ids`]: collision-free AWS-style ids; [`rng`]: the ChaCha8 streams and draws.
//! - [`queries`]: JSON Lines flows for `query --batch` benchmarks.
//!
//! Unlike the rest of the library (core modules do no I/O), this module writes files: it is a
//! tool for producing input, not part of the analysis pipeline. It writes through
//! [`crate::output`]: the organisation into a staging folder moved into place at the end, with
//! its `manifest.json` (tier, seed, and the mark that makes the folder peerscope's) written
//! last, and `--queries` atomically.

mod account;
pub mod aws;
mod ids;
pub mod plan;
mod queries;
mod rng;

use std::io::Write;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::Serialize;

use crate::output::{FileOutput, OutputError, Staging};
use crate::snapshot::manifest::{self, Manifest};

/// A size class of issue 6.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Tier {
    /// 10 accounts, 50 VPCs, 500 subnets, 5k SG rules, 2.5k ENIs.
    S,
    /// 100 accounts, 1,000 VPCs, 10,000 subnets, 100k SG rules, 50k ENIs.
    M,
    /// 1,000 accounts, 10,000 VPCs, 100,000 subnets, 1M SG rules, 500k ENIs.
    L,
    /// L with quota-maximal objects: a hub with 125 peerings, a 1,000-route table, 40-entry
    /// NACLs, 16 groups with 1,000 rules on one ENI, 1,000-entry prefix lists.
    Xl,
}

/// What to generate.
#[derive(Clone, Debug)]
pub struct Options {
    pub tier: Tier,
    pub seed: u64,
    /// Indented JSON, as `aws --output json` prints it (larger and slower to read).
    pub pretty: bool,
    /// Also write this many `query --batch` flows (JSON Lines) to the given file.
    pub queries: Option<(PathBuf, usize)>,
}

/// What was written.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub accounts: usize,
    pub vpcs: usize,
    pub subnets: usize,
    pub route_tables: usize,
    pub routes: usize,
    pub network_acls: usize,
    pub security_groups: usize,
    pub security_group_rules: usize,
    pub network_interfaces: usize,
    pub peerings: usize,
    pub files: usize,
    pub bytes: u64,
    pub queries: usize,
}

/// Writes the organisation to `out`: a new or empty folder, or one peerscope wrote, whose
/// account folders and manifest are replaced (see [`crate::output::folder`]).
pub fn generate(opts: &Options, out: &Path) -> Result<Summary, OutputError> {
    // Both outputs are checked before anything is generated.
    let queries = match &opts.queries {
        Some((path, n)) => Some((FileOutput::new(path)?, *n)),
        None => None,
    };
    let staging = Staging::new(out)?;
    let plan = plan::Plan::new(opts.tier, opts.seed);
    let root = staging.root();
    let results: Vec<account::AccountOut> = (0..plan.accounts.len())
        .into_par_iter()
        .map(|a| account::generate(&plan, a, root, opts.pretty))
        .collect::<std::io::Result<_>>()
        .map_err(OutputError::io(out, "cannot write"))?;
    let mut s = Summary {
        accounts: plan.accounts.len(),
        vpcs: plan.vpcs.len(),
        peerings: plan.peerings.len(),
        ..Summary::default()
    };
    for r in &results {
        s.subnets += r.subnets;
        s.route_tables += r.route_tables;
        s.routes += r.routes;
        s.network_acls += r.nacls;
        s.security_groups += r.sgs;
        s.security_group_rules += r.sg_rules;
        s.network_interfaces += r.enis;
        s.files += r.files;
        s.bytes += r.bytes;
    }
    let manifest = Manifest {
        accounts: plan
            .accounts
            .iter()
            .map(|a| manifest::Account {
                id: a.id.clone(),
                name: Some(a.name.clone()),
                role_arn: None,
            })
            .collect(),
        generated: Some(manifest::Generated {
            tier: clap::ValueEnum::to_possible_value(&opts.tier)
                .map(|v| v.get_name().to_owned())
                .unwrap_or_default(),
            seed: opts.seed,
        }),
        ..Manifest::new("gen")
    };
    staging.commit(&manifest)?;
    if let Some((file, n)) = &queries {
        let enis: Vec<(usize, std::net::Ipv4Addr)> =
            results.into_iter().flat_map(|r| r.eni_addrs).collect();
        let mut w = file.create()?;
        s.queries = queries::write(&plan, &enis, *n, &mut w)
            .and_then(|n| w.flush().map(|()| n))
            .map_err(OutputError::io(file.path(), "cannot write"))?;
        w.commit()?;
    }
    Ok(s)
}
