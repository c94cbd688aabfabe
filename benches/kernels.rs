//! Criterion benchmarks of the hot kernels on a generated S-tier organisation (issue 6):
//! loading the snapshot, one route table's longest-prefix-match partition, one NACL's
//! first-match map, all-pairs `reach` (network and full layer) and `explain` of one flow.
//!
//! Run with `cargo bench --bench kernels`; per-tier wall times and peak memory of the whole
//! commands come from `scripts/bench.sh`. The snapshot is generated once per run into a
//! temporary folder (seed 1), so the numbers are comparable between commits.

use std::hint::black_box;
use std::path::Path;

use criterion::{Criterion, criterion_group, criterion_main};
use peerscope::engine::explain::explain;
use peerscope::engine::reach::{ReachOptions, partition, reach};
use peerscope::engine::{Flow, Layer};
use peerscope::r#gen::{Options, Tier, generate};
use peerscope::model::{Model, NetworkAcl, Protocol, RuleAction};
use peerscope::sets::{AddrMap, ServiceSet};
use peerscope::snapshot;

fn snapshot_s(dir: &Path) -> Model {
    let opts = Options {
        tier: Tier::S,
        seed: 1,
        pretty: false,
        queries: None,
    };
    generate(&opts, dir).expect("generate the S tier");
    snapshot::load(dir).expect("load the S tier").model
}

/// The same computation as the engine's (private) `reach::nacl_map`: what one direction of a
/// NACL allows by peer address, first match per packet, over address × service sets.
fn nacl_map(acl: &NetworkAcl, egress: bool) -> AddrMap<ServiceSet> {
    let entries = if egress { &acl.egress } else { &acl.ingress };
    let mut remaining = AddrMap::constant(ServiceSet::all());
    let mut allowed = AddrMap::new();
    for e in entries {
        let svc = match e.protocol {
            Protocol::All => ServiceSet::all(),
            Protocol::Number(n) if Protocol::has_ports(n) => {
                ServiceSet::protocol_ports(n, e.ports.from, e.ports.to)
            }
            Protocol::Number(n) => ServiceSet::protocol(n),
        };
        let bx = AddrMap::from_net(e.cidr, svc);
        if e.action == RuleAction::Allow {
            allowed = allowed.union(&remaining.intersection(&bx));
        }
        remaining = remaining.difference(&bx);
    }
    allowed
}

/// A flow from an ENI of a spoke to an ENI of its hub: crosses a peering, NACLs and SGs.
fn peered_flow(m: &Model) -> Flow {
    for e in m.network_interfaces.values() {
        for p in m.index().peerings_of(&e.vpc) {
            let Some(peer) = m.peerings.get(p).and_then(|c| c.peer_of(&e.vpc)) else {
                continue;
            };
            let Some(d) = m.network_interfaces.values().find(|d| d.vpc == peer.vpc) else {
                continue;
            };
            return Flow {
                src_vpc: e.vpc.clone(),
                src: e.addresses[0],
                src_eni: Some(e.id.clone()),
                dst: d.addresses[0],
                proto: Protocol::TCP,
                port: Some(443),
            };
        }
    }
    panic!("the S tier has peered ENIs");
}

fn kernels(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temporary folder");
    let model = snapshot_s(dir.path());

    c.bench_function("load/s", |b| {
        b.iter(|| snapshot::load(black_box(dir.path())).expect("load"))
    });

    // The largest route table: a hub's private table with a route per spoke.
    let table = model
        .route_tables
        .values()
        .max_by_key(|t| t.routes.len())
        .expect("route tables");
    c.bench_function("partition/largest-table", |b| {
        b.iter(|| partition(black_box(&model), black_box(table)))
    });
    c.bench_function("partition/all-tables-s", |b| {
        b.iter(|| {
            model
                .route_tables
                .values()
                .map(|t| partition(&model, t).len())
                .sum::<usize>()
        })
    });

    let acl = model
        .network_acls
        .values()
        .max_by_key(|a| a.ingress.len() + a.egress.len())
        .expect("network ACLs");
    c.bench_function("nacl-map/largest-acl", |b| {
        b.iter(|| {
            (
                nacl_map(black_box(acl), true),
                nacl_map(black_box(acl), false),
            )
        })
    });

    let mut group = c.benchmark_group("reach");
    group.sample_size(10);
    for layer in [Layer::Network, Layer::Full] {
        let opts = ReachOptions {
            layer: Some(layer),
            ..Default::default()
        };
        group.bench_function(format!("{layer}/s"), |b| {
            b.iter(|| reach(black_box(&model), black_box(&opts)))
        });
    }
    group.finish();

    let flow = peered_flow(&model);
    for layer in [Layer::Network, Layer::Full] {
        c.bench_function(&format!("explain/{layer}/one-flow"), |b| {
            b.iter(|| explain(black_box(&model), black_box(&flow), layer).expect("explain"))
        });
    }
}

criterion_group!(benches, kernels);
criterion_main!(benches);
