//! The synthetic organisation generator (`peerscope gen`, issue 6): deterministic for a seed,
//! loads cleanly with the tier's counts, never peers overlapping CIDRs, and — the point of it —
//! the set-based `reach` agrees with the per-packet `explain` on packets sampled from it
//! (issue 6's "CI runs correctness on generated tiers").
//!
//! The S tier is checked whole; on the M tier the sources are up to 80 random VPCs (every VPC's
//! full-layer rows would cost minutes in a debug build); `scripts/bench.sh` exercises M and L in
//! release.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use ipnet::IpNet;
use peerscope::diagnostics::Severity;
use peerscope::engine::explain::explain;
use peerscope::engine::reach::{ReachOptions, ReachRow, reach};
use peerscope::engine::{Flow, Layer};
use peerscope::r#gen::{Options, Summary, Tier, generate};
use peerscope::model::{Model, Protocol, VpcId};
use peerscope::snapshot;

fn gen_s(seed: u64) -> (tempfile::TempDir, Summary) {
    let dir = tempfile::tempdir().unwrap();
    let opts = Options {
        tier: Tier::S,
        seed,
        pretty: false,
        queries: None,
    };
    let summary = generate(&opts, dir.path()).unwrap();
    (dir, summary)
}

/// Every file under `root` with its bytes, by relative path.
fn tree(root: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, Vec<u8>>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                let rel = p.strip_prefix(root).unwrap().to_path_buf();
                out.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

#[test]
fn same_seed_writes_byte_identical_trees() {
    let (a, sa) = gen_s(7);
    let (b, sb) = gen_s(7);
    assert_eq!(sa, sb);
    let (ta, tb) = (tree(a.path()), tree(b.path()));
    assert!(ta.len() > 50, "only {} files", ta.len());
    assert_eq!(
        ta.keys().collect::<Vec<_>>(),
        tb.keys().collect::<Vec<_>>(),
        "file lists differ"
    );
    for (path, bytes) in &ta {
        assert!(
            &tb[path] == bytes,
            "{} differs between runs",
            path.display()
        );
    }
}

#[test]
fn same_seed_is_identical_with_one_or_two_threads() {
    let run = |threads| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| gen_s(11))
    };
    let (a, _) = run(1);
    let (b, _) = run(2);
    assert!(tree(a.path()) == tree(b.path()));
}

#[test]
fn different_seeds_differ() {
    let (a, _) = gen_s(1);
    let (b, _) = gen_s(2);
    assert!(tree(a.path()) != tree(b.path()));
}

fn within_10_percent(got: usize, want: usize, what: &str) {
    let lo = want - want / 10;
    let hi = want + want / 10;
    assert!((lo..=hi).contains(&got), "{what}: {got}, want {want} ± 10%");
}

#[test]
fn s_tier_loads_cleanly_with_the_tier_counts() {
    let (dir, summary) = gen_s(1);
    let loaded = snapshot::load(dir.path()).unwrap();
    let errors: Vec<String> = loaded
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .map(|d| d.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    let m = &loaded.model;
    let accounts: std::collections::BTreeSet<_> = m.vpcs.values().map(|v| &v.account).collect();
    assert_eq!(accounts.len(), 10, "accounts");
    assert_eq!(m.vpcs.len(), 50, "VPCs");
    within_10_percent(m.subnets.len(), 500, "subnets");
    let rules: usize = m
        .security_groups
        .values()
        .map(|g| g.ingress.len() + g.egress.len())
        .sum();
    within_10_percent(rules, 5_000, "SG rules");
    within_10_percent(m.network_interfaces.len(), 2_500, "ENIs");
    // The summary counts what the loader sees.
    assert_eq!(summary.subnets, m.subnets.len());
    assert_eq!(summary.security_group_rules, rules);
    assert_eq!(summary.network_interfaces, m.network_interfaces.len());
    // Each peering appears in both accounts' folders, yet is one connection.
    assert_eq!(summary.peerings, m.peerings.len());
    // The content issue 6 asks for is there.
    let statuses: std::collections::BTreeSet<&str> =
        m.peerings.values().map(|p| p.status.as_str()).collect();
    assert!(statuses.contains("active"), "{statuses:?}");
    assert!(
        m.vpcs.values().filter(|v| v.is_default).count() == 10,
        "a default VPC per account"
    );
    assert!(
        m.peerings
            .values()
            .any(|p| { p.requester.owner != p.accepter.owner && p.requester.owner.is_some() })
    );
    assert!(
        m.route_tables
            .values()
            .flat_map(|t| &t.routes)
            .any(|r| r.blackhole),
        "a blackhole route"
    );
    assert!(!m.prefix_lists.is_empty());
}

#[test]
fn peered_vpcs_never_overlap_and_unpeered_ones_do() {
    let (dir, _) = gen_s(3);
    let m = snapshot::load(dir.path()).unwrap().model;
    let overlap = |a: &[IpNet], b: &[IpNet]| {
        a.iter().any(|x| {
            b.iter()
                .any(|y| x.contains(&y.network()) || y.contains(&x.network()))
        })
    };
    for p in m.peerings.values() {
        let (a, b) = (&m.vpcs[&p.requester.vpc], &m.vpcs[&p.accepter.vpc]);
        assert!(
            !overlap(&a.cidrs, &b.cidrs),
            "{} joins overlapping {} {:?} and {} {:?}",
            p.id,
            a.id,
            a.cidrs,
            b.id,
            b.cidrs
        );
    }
    // CIDR reuse among VPCs that are not peered: every default VPC is 172.31.0.0/16.
    let defaults: Vec<_> = m.vpcs.values().filter(|v| v.is_default).collect();
    assert!(defaults.len() > 1);
    assert!(defaults.iter().all(|v| v.cidrs == defaults[0].cidrs));
}

/// Rows by source VPC, for the delivered/connectable lookup.
fn by_src(rows: &[ReachRow]) -> HashMap<&VpcId, Vec<&ReachRow>> {
    let mut out: HashMap<&VpcId, Vec<&ReachRow>> = HashMap::new();
    for r in rows {
        out.entry(&r.src_vpc).or_default().push(r);
    }
    out
}

/// As in `topologies.rs`: delivered ⇔ a row contains the flow; connectable ⇔ a connectable row
/// does.
fn in_rows(rows: &HashMap<&VpcId, Vec<&ReachRow>>, f: &Flow) -> (bool, bool) {
    let mut delivered = false;
    let mut connectable = false;
    for r in rows.get(&f.src_vpc).into_iter().flatten() {
        if r.src.contains(f.src) && r.dst.contains(f.dst) && r.services.contains(f.proto, f.port) {
            delivered = true;
            connectable |= r.connectable;
        }
    }
    (delivered, connectable)
}

/// A tiny deterministic stream for sampling (the test must not depend on the generator's).
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) as usize) % n
    }
}

const SERVICES: &[(u8, Option<u16>)] = &[
    (Protocol::TCP, Some(22)),
    (Protocol::TCP, Some(80)),
    (Protocol::TCP, Some(443)),
    (Protocol::TCP, Some(3389)),
    (Protocol::TCP, Some(5432)),
    (Protocol::TCP, Some(8080)),
    (Protocol::TCP, Some(9100)),
    (Protocol::UDP, Some(53)),
    (Protocol::ICMP, None),
    (50, None),
];

/// Endpoints to sample: every ENI address (full layer) or, for the network layer, those plus
/// a few addresses of every subnet.
fn endpoints(m: &Model, layer: Layer) -> Vec<(VpcId, IpAddr)> {
    let mut out: Vec<(VpcId, IpAddr)> = m
        .network_interfaces
        .values()
        .flat_map(|e| e.addresses.iter().map(|a| (e.vpc.clone(), *a)))
        .collect();
    if layer == Layer::Network {
        for s in m.subnets.values() {
            for c in &s.cidrs {
                out.extend(c.hosts().take(2).map(|h| (s.vpc.clone(), h)));
                out.push((s.vpc.clone(), c.broadcast()));
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

/// Samples `samples` flows (sources in `sources` when given) and checks `reach`'s rows against
/// `explain` for each; returns how many ended in each verdict.
fn compare(
    m: &Model,
    layer: Layer,
    samples: usize,
    seed: u64,
    sources: Option<&BTreeMap<VpcId, peerscope::sets::IpSet>>,
) -> BTreeMap<String, usize> {
    let rows = reach(
        m,
        &ReachOptions {
            layer: Some(layer),
            include_intra_vpc: true,
            from: sources.cloned(),
            ..Default::default()
        },
    );
    let rows = by_src(&rows);
    let all_points = endpoints(m, layer);
    let points: Vec<(VpcId, IpAddr)> = match sources {
        None => all_points.clone(),
        Some(s) => all_points
            .iter()
            .filter(|(v, _)| s.contains_key(v))
            .cloned()
            .collect(),
    };
    let (points, all_points) = (&points, &all_points);
    let mut by_vpc: HashMap<&VpcId, Vec<IpAddr>> = HashMap::new();
    for (v, a) in all_points {
        by_vpc.entry(v).or_default().push(*a);
    }
    let mut rng = Lcg(seed);
    let mut outcomes: BTreeMap<String, usize> = BTreeMap::new();
    let mut compared = 0;
    while compared < samples {
        let (src_vpc, src) = &points[rng.below(points.len())];
        // Half the destinations in a peered VPC (where the interesting rules are), a quarter in
        // the source's VPC, a quarter anywhere.
        let peers: Vec<VpcId> = m
            .index()
            .peerings_of(src_vpc)
            .iter()
            .filter_map(|p| m.peerings.get(p))
            .filter_map(|p| p.peer_of(src_vpc).map(|s| s.vpc.clone()))
            .filter(|v| by_vpc.contains_key(v))
            .collect();
        let dst = match rng.below(4) {
            0 | 1 if !peers.is_empty() => {
                let v = &peers[rng.below(peers.len())];
                by_vpc[v][rng.below(by_vpc[v].len())]
            }
            2 => by_vpc[src_vpc][rng.below(by_vpc[src_vpc].len())],
            _ => all_points[rng.below(all_points.len())].1,
        };
        if src.is_ipv4() != dst.is_ipv4() {
            continue;
        }
        let src_eni = match layer {
            Layer::Network => None,
            Layer::Full => peerscope::engine::endpoint::eni_at(m, src_vpc, *src),
        };
        let (proto, port) = SERVICES[rng.below(SERVICES.len())];
        let flow = Flow {
            src_vpc: src_vpc.clone(),
            src: *src,
            src_eni,
            dst,
            proto,
            port,
        };
        let e = explain(m, &flow, layer).unwrap();
        let got = in_rows(&rows, &flow);
        assert_eq!(
            (e.delivered, e.connectable),
            got,
            "{layer}: {flow:?}: explain says {:?} via {:?}",
            e.reason,
            e.path_ids()
        );
        let key = match e.reason {
            Some(r) => r.to_string(),
            None => "connectable".into(),
        };
        *outcomes.entry(key).or_default() += 1;
        compared += 1;
    }
    outcomes
}

#[test]
fn reach_agrees_with_explain_on_the_s_tier() {
    let (dir, _) = gen_s(1);
    let m = snapshot::load(dir.path()).unwrap().model;
    for layer in [Layer::Network, Layer::Full] {
        let outcomes = compare(&m, layer, 3_000, 42, None);
        // The sample exercises more than one verdict: something is delivered and connectable,
        // something is dropped by routing and something by a filter.
        assert!(
            outcomes.contains_key("connectable"),
            "{layer}: {outcomes:?}"
        );
        assert!(outcomes.len() >= 4, "{layer}: {outcomes:?}");
    }
}

/// The same on the M tier (issue 6: CI runs correctness on S and M), in both layers, with the
/// sources in up to 80 VPCs picked at random (every VPC's rows would cost minutes in a debug build;
/// destinations are anywhere).
#[test]
fn reach_agrees_with_explain_on_the_m_tier() {
    let dir = tempfile::tempdir().unwrap();
    let opts = Options {
        tier: Tier::M,
        seed: 1,
        pretty: false,
        queries: None,
    };
    generate(&opts, dir.path()).unwrap();
    let m = snapshot::load(dir.path()).unwrap().model;
    let vpcs: Vec<&VpcId> = m.vpcs.keys().collect();
    let mut rng = Lcg(7);
    let sources: BTreeMap<VpcId, peerscope::sets::IpSet> = (0..80)
        .map(|_| {
            (
                vpcs[rng.below(vpcs.len())].clone(),
                peerscope::sets::IpSet::all(),
            )
        })
        .collect();
    for layer in [Layer::Network, Layer::Full] {
        let outcomes = compare(&m, layer, 3_000, 43, Some(&sources));
        assert!(
            outcomes.contains_key("connectable"),
            "{layer}: {outcomes:?}"
        );
        assert!(outcomes.len() >= 4, "{layer}: {outcomes:?}");
    }
}

/// Issue 6: identical output with one thread or two, through the binary's `--threads`, for the
/// commands whose work runs in parallel: reach (both layers) on the S tier, and audit and
/// what-if on a topology with its intent.
#[test]
fn output_is_identical_with_one_or_two_threads() {
    let (dir, _) = gen_s(3);
    let topology = Path::new(env!("CARGO_MANIFEST_DIR")).join("topologies/hub-and-spoke");
    let change = topology.join("changes/risky-audit-to-prod-app.json");
    let s = dir.path().to_str().unwrap();
    let t = topology.to_str().unwrap();
    let c = change.to_str().unwrap();
    let commands: [&[&str]; 4] = [
        &["reach", s, "--layer", "network", "--format", "json"],
        &["reach", s, "--layer", "full", "--format", "json"],
        &["audit", t, "--format", "json"],
        &["what-if", t, "--change", c, "--format", "json"],
    ];
    for args in commands {
        let run = |threads: &str| {
            let out = crate::util::TestCommand::new(["--threads", threads])
                .args(args)
                .run();
            assert!(out.code == 0 || out.code == 1, "{args:?}: {out:?}");
            out.stdout
        };
        let (one, two) = (run("1"), run("2"));
        assert!(!one.is_empty(), "{args:?}: no output");
        assert!(
            one == two,
            "{args:?}: output differs between 1 and 2 threads"
        );
    }
}
