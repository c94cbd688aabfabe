//! Golden tests on every example topology in `topologies/`: the flows each README promises
//! (`expected-flows.jsonl`, derived by hand from the JSON), the set-based `reach` held against
//! the per-packet `explain` on sampled packets (sources in unseen VPCs included, both ways), and
//! snapshots of the rendered outputs.

use std::collections::BTreeSet;
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
        // Multi-account: the accounts the snapshot holds, plus those of the VPCs it knows only
        // from peering records (a partner whose dump you do not have is still another account).
        let model = &loaded.model;
        let accounts: BTreeSet<&peerscope::model::AccountId> = model
            .locations
            .iter()
            .map(|(a, _)| a)
            .chain(
                model
                    .unseen_vpcs()
                    .values()
                    .filter_map(|u| u.account.as_ref()),
            )
            .collect();
        assert!(
            accounts.len() >= 2,
            "{}: not multi-account: {accounts:?}",
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

/// Sample addresses of a subnet: the first few, one in the middle, the last; and the same of
/// every unseen VPC's CIDRs (semantics step 21), plus, inside them, the first and last address
/// of every CIDR the snapshot's security-group rules and NACL entries name (where their verdicts
/// change for a source there).
fn samples(model: &Model) -> Vec<(peerscope::model::VpcId, IpAddr)> {
    let mut out = Vec::new();
    let add_net = |out: &mut Vec<_>, vpc: &peerscope::model::VpcId, c: &ipnet::IpNet| {
        let hosts: Vec<IpAddr> = c.hosts().take(6).collect();
        out.extend(hosts.into_iter().map(|h| (vpc.clone(), h)));
        out.push((vpc.clone(), c.broadcast()));
    };
    for s in model.subnets.values() {
        for c in &s.cidrs {
            add_net(&mut out, &s.vpc, c);
        }
    }
    let rule_cidrs: Vec<ipnet::IpNet> = model
        .security_groups
        .values()
        .flat_map(|g| g.ingress.iter().chain(&g.egress))
        .filter_map(|r| match &r.peer {
            peerscope::model::RulePeer::Cidr(c) => Some(*c),
            _ => None,
        })
        .chain(
            model
                .network_acls
                .values()
                .flat_map(|a| a.ingress.iter().chain(&a.egress))
                .map(|e| e.cidr),
        )
        .collect();
    for u in model.unseen_vpcs().values() {
        for c in &u.cidrs {
            add_net(&mut out, &u.id, c);
            for r in rule_cidrs.iter().filter(|r| c.contains(*r) && *r != c) {
                out.push((u.id.clone(), r.network()));
                out.push((u.id.clone(), r.broadcast()));
            }
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
    let (mut from_unseen, mut from_unseen_delivered) = (0, 0);
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
                // A source in an unseen VPC has no interface in either layer (step 22).
                let unseen = model.unseen_vpc(src_vpc).is_some();
                let src_eni = match layer {
                    Layer::Network => None,
                    Layer::Full if unseen => None,
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
                        if unseen {
                            from_unseen += 1;
                            from_unseen_delivered += usize::from(e.delivered);
                        }
                    }
                }
            }
        }
    }
    assert!(compared > 10_000, "only {compared} packets compared");
    assert!(
        from_unseen > 1_000 && from_unseen_delivered > 100,
        "only {from_unseen} packets from unseen VPCs compared, {from_unseen_delivered} delivered"
    );
}

/// Packets inside a reach row: the ends of its first and last source and destination ranges,
/// with the first and last port of each protocol it holds (or the protocol alone).
fn corners(r: &ReachRow) -> Vec<(IpAddr, IpAddr, u8, Option<u16>)> {
    let ends = |s: &peerscope::sets::IpSet| {
        let ranges: Vec<(IpAddr, IpAddr)> = s.iter_ranges().collect();
        let mut v = Vec::new();
        for (lo, hi) in [ranges.first(), ranges.last()].into_iter().flatten() {
            v.extend([*lo, *hi]);
        }
        v.sort();
        v.dedup();
        v
    };
    let svc = &r.services;
    let mut services = Vec::new();
    for (proto, ports) in [
        (Protocol::TCP, svc.tcp_ports()),
        (Protocol::UDP, svc.udp_ports()),
    ] {
        for p in [ports.first(), ports.last()].into_iter().flatten() {
            services.push((proto, Some(p)));
        }
    }
    let other = svc.other_protocols();
    for p in [other.first(), other.last()].into_iter().flatten() {
        services.push((p, None));
    }
    services.dedup();
    let mut out = Vec::new();
    for s in ends(&r.src) {
        for d in ends(&r.dst) {
            if s.is_ipv4() != d.is_ipv4() {
                continue;
            }
            for &(proto, port) in &services {
                out.push((s, d, proto, port));
            }
        }
    }
    out
}

/// The other direction for unseen sources: every row `reach` gives from an unseen VPC is
/// confirmed by `explain` with that VPC as `src_vpc` (delivered, and connectable exactly when
/// the row says so), on the corners of the row.
#[test]
fn every_reach_row_from_an_unseen_vpc_is_confirmed_by_explain() {
    let mut confirmed = 0;
    for t in topologies() {
        let model = snapshot::load(&t).unwrap().model;
        if model.unseen_vpcs().is_empty() {
            continue;
        }
        for layer in [Layer::Network, Layer::Full] {
            let rows = reach(
                &model,
                &ReachOptions {
                    layer: Some(layer),
                    include_intra_vpc: true,
                    ..Default::default()
                },
            );
            for r in rows
                .iter()
                .filter(|r| model.unseen_vpc(&r.src_vpc).is_some())
            {
                assert!(r.delivered, "{}: {r:?}", name(&t));
                for (src, dst, proto, port) in corners(r) {
                    let flow = Flow {
                        src_vpc: r.src_vpc.clone(),
                        src,
                        src_eni: None,
                        dst,
                        proto,
                        port,
                    };
                    let e = explain(&model, &flow, layer).unwrap();
                    let (_, connectable) = in_rows(&rows, &flow);
                    assert!(
                        e.delivered && e.connectable == connectable,
                        "{} {layer}: row {} {} → {} {} via {} (connectable {}): explain says {:?} for {flow:?} via {:?}",
                        name(&t),
                        r.src_vpc,
                        r.src,
                        r.dst,
                        r.services,
                        r.via,
                        r.connectable,
                        e.reason,
                        e.path_ids()
                    );
                    if r.connectable {
                        assert!(e.connectable, "{} {layer}: {flow:?}", name(&t));
                    }
                    confirmed += 1;
                }
            }
        }
    }
    assert!(
        confirmed >= 20,
        "only {confirmed} corners of unseen rows confirmed"
    );
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
