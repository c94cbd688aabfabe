//! Golden tests on every example topology in `topologies/`: the flows each README promises
//! (`expected-flows.jsonl`, derived by hand from the JSON), the set-based `reach` held against
//! the per-packet `explain` on sampled packets, and snapshots of the rendered outputs.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use peerscope::engine::explain::explain;
use peerscope::engine::reach::{ReachOptions, ReachRow, reach};
use peerscope::engine::{Flow, Layer};
use peerscope::model::{Model, Protocol};
use peerscope::snapshot;
use serde_json::Value;

fn topologies() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("topologies");
    let mut out: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("expected-flows.jsonl").is_file())
        .collect();
    out.sort();
    assert!(
        out.len() >= 4,
        "expected at least four topologies, found {out:?}"
    );
    out
}

fn name(p: &Path) -> String {
    p.file_name().unwrap().to_string_lossy().into_owned()
}

#[test]
fn every_topology_loads_without_diagnostics_above_info() {
    for t in topologies() {
        let loaded = snapshot::load(&t).unwrap();
        let bad: Vec<String> = loaded
            .diagnostics
            .iter()
            .filter(|d| d.severity > peerscope::diagnostics::Severity::Info)
            .map(|d| d.to_string())
            .collect();
        assert!(bad.is_empty(), "{}: {bad:#?}", name(&t));
        assert!(
            loaded.model.locations.len() >= 2,
            "{}: not multi-account",
            name(&t)
        );
    }
}

#[test]
fn every_expected_flow_gets_its_verdict() {
    let mut checked = 0;
    for t in topologies() {
        let model = snapshot::load(&t).unwrap().model;
        let text = std::fs::read_to_string(t.join("expected-flows.jsonl")).unwrap();
        for (i, line) in text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
        {
            let spec: Value = serde_json::from_str(line).unwrap();
            let got =
                serde_json::to_value(peerscope::cli::batch_line(&model, line, i + 1)).unwrap();
            let want = &spec["expect"];
            for key in ["delivered", "connectable", "reason"] {
                assert_eq!(
                    got[key],
                    want[key],
                    "{} line {}: {} — {key}: got {got}, want {want}",
                    name(&t),
                    i + 1,
                    spec["name"]
                );
            }
            checked += 1;
        }
    }
    assert!(checked >= 50, "only {checked} expected flows");
}

/// Is (src, dst, proto, port) inside a row from `src_vpc`? Returns (delivered, connectable).
fn in_rows(rows: &[ReachRow], f: &Flow) -> (bool, bool) {
    let hits: Vec<&ReachRow> = rows
        .iter()
        .filter(|r| {
            r.src_vpc == f.src_vpc
                && r.src.contains(f.src)
                && r.dst.contains(f.dst)
                && r.services.contains(f.proto, f.port)
        })
        .collect();
    (!hits.is_empty(), hits.iter().any(|r| r.connectable))
}

/// Sample addresses of a subnet: the first few, one in the middle, the last.
fn samples(model: &Model) -> Vec<(peerscope::model::VpcId, IpAddr)> {
    let mut out = Vec::new();
    for s in model.subnets.values() {
        for c in &s.cidrs {
            let hosts: Vec<IpAddr> = c.hosts().take(6).collect();
            out.extend(hosts.into_iter().map(|h| (s.vpc.clone(), h)));
            out.push((s.vpc.clone(), c.broadcast()));
        }
    }
    for e in model.network_interfaces.values() {
        out.extend(e.addresses.iter().map(|a| (e.vpc.clone(), *a)));
    }
    out.sort();
    out.dedup();
    out
}

const SERVICES: &[(u8, Option<u16>)] = &[
    (Protocol::TCP, Some(22)),
    (Protocol::TCP, Some(443)),
    (Protocol::TCP, Some(1023)),
    (Protocol::TCP, Some(5432)),
    (Protocol::TCP, Some(8443)),
    (Protocol::UDP, Some(53)),
    (Protocol::ICMP, None),
    (Protocol::ICMPV6, None),
    (50, None),
];

#[test]
fn reach_agrees_with_explain_on_sampled_packets() {
    let mut compared = 0;
    for t in topologies() {
        let model = snapshot::load(&t).unwrap().model;
        for layer in [Layer::Network, Layer::Full] {
            let rows = reach(
                &model,
                &ReachOptions {
                    layer: Some(layer),
                    include_intra_vpc: true,
                    ..Default::default()
                },
            );
            let points = samples(&model);
            for (src_vpc, src) in &points {
                let src_eni = match layer {
                    Layer::Network => None,
                    Layer::Full => match peerscope::engine::endpoint::eni_at(&model, src_vpc, *src)
                    {
                        Some(e) => Some(e),
                        None => continue,
                    },
                };
                for (_, dst) in &points {
                    if src.is_ipv4() != dst.is_ipv4() {
                        continue;
                    }
                    for &(proto, port) in SERVICES {
                        let flow = Flow {
                            src_vpc: src_vpc.clone(),
                            src: *src,
                            src_eni: src_eni.clone(),
                            dst: *dst,
                            proto,
                            port,
                        };
                        let e = explain(&model, &flow, layer).unwrap();
                        let (delivered, connectable) = in_rows(&rows, &flow);
                        assert_eq!(
                            (e.delivered, e.connectable),
                            (delivered, connectable),
                            "{} {layer}: {flow:?}: explain says {:?} via {:?}",
                            name(&t),
                            e.reason,
                            e.path_ids()
                        );
                        compared += 1;
                    }
                }
            }
        }
    }
    assert!(compared > 10_000, "only {compared} packets compared");
}

#[test]
fn reach_output_is_golden() {
    for t in topologies() {
        let model = snapshot::load(&t).unwrap().model;
        for layer in [Layer::Network, Layer::Full] {
            let rows = reach(
                &model,
                &ReachOptions {
                    layer: Some(layer),
                    ..Default::default()
                },
            );
            insta::assert_json_snapshot!(format!("reach-{}-{layer}", name(&t)), rows);
        }
    }
}

#[test]
fn reach_is_identical_with_one_or_two_threads() {
    let t = &topologies()[0];
    let model = snapshot::load(t).unwrap().model;
    let run = |n| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build()
            .unwrap()
            .install(|| {
                reach(
                    &model,
                    &ReachOptions {
                        layer: Some(Layer::Full),
                        include_intra_vpc: true,
                        ..Default::default()
                    },
                )
            })
    };
    assert_eq!(run(1), run(2));
}
