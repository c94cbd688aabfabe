//! `peerscope query`: one flow explained hop by hop, or a JSON Lines batch of flows.

use std::io::{BufRead, Write};
use std::net::IpAddr;
use std::process::ExitCode;

use serde::{Deserialize, Serialize};

use super::{Format, QueryArgs, exit};
use crate::engine::endpoint::{resolve_destination, resolve_source};
use crate::engine::explain::{Explanation, explain};
use crate::engine::{Flow, Layer, Reason};
use crate::model::{Model, Protocol, protocol_name};

pub fn run(args: &QueryArgs) -> anyhow::Result<ExitCode> {
    let loaded = match super::load(&args.input)? {
        Ok(l) => l,
        Err(code) => return Ok(code),
    };
    let model = &loaded.model;
    if let Some(batch) = &args.batch {
        return batch_run(model, batch);
    }
    let (Some(from), Some(to)) = (&args.from, &args.to) else {
        eprintln!("peerscope: query needs --from and --to (or --batch FILE)");
        return Ok(ExitCode::from(exit::USAGE));
    };
    let proto = match parse_proto(&args.proto) {
        Some(p) => p,
        None => {
            eprintln!(
                "peerscope: --proto {:?}: expected tcp, udp, icmp, icmpv6 or a number 0-255",
                args.proto
            );
            return Ok(ExitCode::from(exit::USAGE));
        }
    };
    // The destination's family decides the source address when the source is an id.
    let dst_hint: Option<IpAddr> = to.parse().ok();
    let src = match resolve_source(model, from, dst_hint.as_ref()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("peerscope: --from: {e}");
            return Ok(ExitCode::from(exit::USAGE));
        }
    };
    let dst = match resolve_destination(model, to, Some(&src.ip)) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("peerscope: --to: {e}");
            return Ok(ExitCode::from(exit::USAGE));
        }
    };
    let layer = args.layer.unwrap_or(if src.eni.is_some() {
        Layer::Full
    } else {
        Layer::Network
    });
    let flow = Flow {
        src_vpc: src.vpc.clone(),
        src: src.ip,
        src_eni: src.eni.clone(),
        dst,
        proto,
        port: args.port,
    };
    let explanation = match explain(model, &flow, layer) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("peerscope: {e}");
            return Ok(ExitCode::from(exit::USAGE));
        }
    };
    let mut out = std::io::stdout().lock();
    match args.format {
        Format::Json => {
            #[derive(Serialize)]
            struct Out<'a> {
                flow: &'a Flow,
                layer: Layer,
                #[serde(flatten)]
                explanation: &'a Explanation,
            }
            serde_json::to_writer_pretty(
                &mut out,
                &Out {
                    flow: &flow,
                    layer,
                    explanation: &explanation,
                },
            )?;
            writeln!(out)?;
        }
        Format::Table => write!(out, "{}", render(&flow, layer, &explanation))?,
    }
    Ok(ExitCode::from(if explanation.undetermined {
        exit::UNDETERMINED
    } else {
        exit::OK
    }))
}

fn render(flow: &Flow, layer: Layer, e: &Explanation) -> String {
    use std::fmt::Write as _;
    let mut s = String::new();
    let service = match flow.port {
        Some(p) if Protocol::has_ports(flow.proto) => format!("{}:{p}", protocol_name(flow.proto)),
        _ => protocol_name(flow.proto),
    };
    let _ = writeln!(
        s,
        "{} ({}) -> {} {service}, {layer} layer",
        flow.src, flow.src_vpc, flow.dst
    );
    for (i, h) in e.path.iter().enumerate() {
        let mark = if h.passed { "  " } else { "✗ " };
        let _ = writeln!(
            s,
            "{mark}{:>2}. {:<27} {:<24} {}",
            i + 1,
            h.kind.to_string(),
            h.id,
            h.detail
        );
    }
    if !e.return_path.is_empty() {
        let _ = writeln!(s, "  return:");
        for h in &e.return_path {
            let mark = if h.passed { "  " } else { "✗ " };
            let _ = writeln!(
                s,
                "{mark}    {:<27} {:<24} {}",
                h.kind.to_string(),
                h.id,
                h.detail
            );
        }
    }
    let verdict = match (e.delivered, e.connectable, e.reason) {
        (true, true, _) => "DELIVERED and CONNECTABLE".to_owned(),
        (true, false, Some(r)) => format!("DELIVERED but not connectable: {r}"),
        (false, _, Some(r)) => format!("DROPPED: {r}"),
        _ => "DROPPED".to_owned(),
    };
    let _ = writeln!(s, "{verdict}");
    if e.undetermined {
        let _ = writeln!(
            s,
            "UNDETERMINED: a VPC on this flow's way has damaged input (see `peerscope check`); the verdict above is only the best reading of it"
        );
    }
    s
}

/// `tcp`, `udp`, `icmp`, `icmpv6` or a number.
pub fn parse_proto(s: &str) -> Option<u8> {
    match Protocol::parse(s)? {
        Protocol::All => None,
        Protocol::Number(n) => Some(n),
    }
}

/// One line of `--batch` input.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct BatchLine {
    src: String,
    #[serde(default)]
    src_vpc: Option<String>,
    dst: String,
    proto: ProtoField,
    #[serde(default)]
    port: Option<u16>,
    #[serde(default)]
    layer: Option<Layer>,
    /// Ignored: lets expectation files (`expected-flows.jsonl`) be fed as they are.
    #[serde(default)]
    #[allow(dead_code)]
    name: Option<serde::de::IgnoredAny>,
    #[serde(default)]
    #[allow(dead_code)]
    expect: Option<serde::de::IgnoredAny>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum ProtoField {
    Number(u8),
    Name(String),
}

impl<'de> Deserialize<'de> for Layer {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        match s.as_str() {
            "network" => Ok(Layer::Network),
            "full" => Ok(Layer::Full),
            other => Err(serde::de::Error::custom(format!(
                "layer {other:?}: expected network or full"
            ))),
        }
    }
}

/// One line of `--batch` output.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum BatchResult {
    Verdict {
        delivered: bool,
        connectable: bool,
        reason: Option<Reason>,
        path: Vec<String>,
        /// The input line (blank input lines produce no output line).
        line: usize,
        /// The verdict depends on damaged input (`--allow-damaged`).
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        undetermined: bool,
    },
    Error {
        line: usize,
        error: String,
    },
}

/// Evaluates one batch line.
pub fn batch_line(model: &Model, line: &str, n: usize) -> BatchResult {
    let err = |error: String| BatchResult::Error { line: n, error };
    let q: BatchLine = match serde_json::from_str(line) {
        Ok(q) => q,
        Err(e) => return err(format!("not a query object: {e}")),
    };
    let proto = match &q.proto {
        ProtoField::Number(p) => *p,
        ProtoField::Name(s) => match parse_proto(s) {
            Some(p) => p,
            None => {
                return err(format!(
                    "proto {s:?}: expected tcp, udp, icmp, icmpv6 or a number"
                ));
            }
        },
    };
    let src_ip: IpAddr = match q.src.parse() {
        Ok(ip) => ip,
        Err(_) => return err(format!("src {:?} is not an IP address", q.src)),
    };
    let dst: IpAddr = match q.dst.parse() {
        Ok(ip) => ip,
        Err(_) => return err(format!("dst {:?} is not an IP address", q.dst)),
    };
    let named = match &q.src_vpc {
        Some(v) => format!("{v}/{src_ip}"),
        None => src_ip.to_string(),
    };
    let src = match resolve_source(model, &named, Some(&dst)) {
        Ok(s) => s,
        Err(e) => return err(e.to_string()),
    };
    let layer = q.layer.unwrap_or(if src.eni.is_some() {
        Layer::Full
    } else {
        Layer::Network
    });
    let flow = Flow {
        src_vpc: src.vpc,
        src: src.ip,
        src_eni: src.eni,
        dst,
        proto,
        port: q.port,
    };
    match explain(model, &flow, layer) {
        Ok(e) => BatchResult::Verdict {
            line: n,
            delivered: e.delivered,
            connectable: e.connectable,
            reason: e.reason,
            path: e.path_ids(),
            undetermined: e.undetermined,
        },
        Err(e) => err(e.to_string()),
    }
}

fn batch_run(model: &Model, input: &str) -> anyhow::Result<ExitCode> {
    let reader: Box<dyn BufRead> = if input == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        let f = std::fs::File::open(input).map_err(|e| anyhow::anyhow!("{input}: {e}"))?;
        Box::new(std::io::BufReader::new(f))
    };
    let lines: Vec<String> = reader.lines().collect::<Result<_, _>>()?;
    use rayon::prelude::*;
    let results: Vec<Option<BatchResult>> = lines
        .par_iter()
        .enumerate()
        .map(|(i, l)| (!l.trim().is_empty()).then(|| batch_line(model, l, i + 1)))
        .collect();
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for r in results.into_iter().flatten() {
        serde_json::to_writer(&mut out, &r)?;
        writeln!(out)?;
    }
    out.flush()?;
    Ok(ExitCode::from(exit::OK))
}
