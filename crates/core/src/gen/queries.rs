//! Flows for `peerscope query --batch` benchmarks: JSON Lines drawn from the generated ENIs.
//!
//! Sources are ENI addresses named with their VPC (addresses repeat across VPCs). Destinations
//! are half in a peered VPC, a quarter in the source's own VPC and a quarter anywhere (mostly
//! unreachable); services are common tcp ports, dns and icmp; seven in ten flows are full
//! layer. The draw has its own random stream, so the snapshot does not depend on it.

use std::io::{self, Write};
use std::net::Ipv4Addr;

use serde::Serialize;

use super::plan::Plan;
use super::rng::Rng;

#[derive(Serialize)]
struct Line<'a> {
    src: String,
    src_vpc: &'a str,
    dst: String,
    proto: &'static str,
    port: Option<u16>,
    layer: &'static str,
}

const TCP_PORTS: &[u16] = &[
    22, 80, 443, 443, 443, 5432, 3306, 6379, 8080, 8443, 9100, 27017,
];

/// Writes `n` flows to `w` (buffered by the caller); returns how many were written (0 when there
/// are no ENIs).
pub fn write(
    plan: &Plan,
    enis: &[(usize, Ipv4Addr)],
    n: usize,
    w: &mut impl Write,
) -> io::Result<usize> {
    if enis.is_empty() {
        return Ok(0);
    }
    let mut by_vpc: Vec<Vec<Ipv4Addr>> = vec![Vec::new(); plan.vpcs.len()];
    for &(v, a) in enis {
        by_vpc[v].push(a);
    }
    let mut rng = Rng::new(plan.seed, u64::MAX);
    for _ in 0..n {
        let &(v, src) = rng.pick(enis);
        let peers: Vec<usize> = plan.vpcs[v]
            .peerings
            .iter()
            .filter_map(|&p| plan.peerings[p].side(v).map(|(o, _)| o))
            .filter(|&o| !by_vpc[o].is_empty())
            .collect();
        let x = rng.unit();
        let dst = if x < 0.5 && !peers.is_empty() {
            let o = *rng.pick(&peers);
            *rng.pick(&by_vpc[o])
        } else if x < 0.75 {
            *rng.pick(&by_vpc[v])
        } else {
            rng.pick(enis).1
        };
        let (proto, port) = match rng.unit() {
            x if x < 0.8 => ("tcp", Some(*rng.pick(TCP_PORTS))),
            x if x < 0.9 => ("udp", Some(53)),
            _ => ("icmp", None),
        };
        let line = Line {
            src: src.to_string(),
            src_vpc: &plan.vpcs[v].id,
            dst: dst.to_string(),
            proto,
            port,
            layer: if rng.chance(0.7) { "full" } else { "network" },
        };
        serde_json::to_writer(&mut *w, &line)?;
        w.write_all(b"\n")?;
    }
    Ok(n)
}
