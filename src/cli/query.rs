//! `peerscope query`: one flow explained hop by hop, or a JSON Lines batch of flows.

use std::io::{BufRead, Write};
use std::net::IpAddr;
use std::process::ExitCode;

use serde::{Deserialize, Serialize};

use super::{Format, QueryArgs, exit};
use crate::engine::endpoint::{resolve_destination, resolve_source};
use crate::engine::explain::{Explanation, explain};
use crate::engine::{Flow, Layer, Reason};
use crate::escape::terminal;
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
            eprintln!("peerscope: --from: {}", terminal(&e.to_string()));
            return Ok(ExitCode::from(exit::USAGE));
        }
    };
    let dst = match resolve_destination(model, to, Some(&src.ip)) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("peerscope: --to: {}", terminal(&e.to_string()));
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
            eprintln!("peerscope: {}", terminal(&e.to_string()));
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
        flow.src,
        terminal(flow.src_vpc.as_str()),
        flow.dst
    );
    for (i, h) in e.path.iter().enumerate() {
        let mark = if h.passed { "  " } else { "✗ " };
        let _ = writeln!(
            s,
            "{mark}{:>2}. {:<27} {:<24} {}",
            i + 1,
            h.kind.to_string(),
            terminal(&h.id.to_string()),
            terminal(&h.detail.to_string())
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
                terminal(&h.id.to_string()),
                terminal(&h.detail.to_string())
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

/// Batch lines evaluated together, in parallel; their answers are written and flushed before
/// the next lines are read, so memory stays bounded whatever the input's length.
const CHUNK: usize = 1024;

/// The longest batch line read, in bytes; a longer line is an error object for its number
/// (a query is about a hundred bytes), and is skipped to its end without being kept.
pub const MAX_LINE: usize = 1 << 20;

/// The read buffer: large enough that a file's lines arrive in whole chunks.
const READ_BUFFER: usize = 256 * 1024;

/// One input line as read.
#[derive(Debug, PartialEq, Eq)]
enum Input {
    /// The line's bytes, without `\n` or `\r\n`; not yet known to be UTF-8.
    Line(Vec<u8>),
    /// Longer than [`MAX_LINE`]; its bytes were dropped as they were read.
    TooLong,
    End,
}

/// Reads one line of at most `max` bytes, as bytes (invalid UTF-8 is the line's problem, not
/// the batch's).
fn next_line<R: BufRead>(r: &mut R, max: usize) -> std::io::Result<Input> {
    let mut line = Vec::new();
    let mut too_long = false;
    let mut any = false;
    loop {
        let avail = match r.fill_buf() {
            Ok(a) => a,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if avail.is_empty() {
            break;
        }
        any = true;
        let (used, done) = match avail.iter().position(|&b| b == b'\n') {
            Some(i) => (i + 1, true),
            None => (avail.len(), false),
        };
        if !too_long {
            let content = &avail[..if done { used - 1 } else { used }];
            if line.len() + content.len() > max {
                too_long = true;
                line = Vec::new();
            } else {
                line.extend_from_slice(content);
            }
        }
        r.consume(used);
        if done {
            break;
        }
    }
    Ok(if !any {
        Input::End
    } else if too_long {
        Input::TooLong
    } else {
        if line.last() == Some(&b'\r') {
            line.pop();
        }
        Input::Line(line)
    })
}

/// The answer to one input line (`None` for a blank line).
fn answer(model: &Model, n: usize, input: &Input) -> Option<BatchResult> {
    let error = |error: String| Some(BatchResult::Error { line: n, error });
    match input {
        Input::Line(bytes) => match std::str::from_utf8(bytes) {
            Ok(text) => (!text.trim().is_empty()).then(|| batch_line(model, text, n)),
            Err(e) => error(format!(
                "not UTF-8 text (invalid byte at column {})",
                e.valid_up_to() + 1
            )),
        },
        Input::TooLong => error(format!(
            "line longer than {MAX_LINE} bytes: not read (a query is one JSON object a line)"
        )),
        Input::End => None,
    }
}

/// Answers a chunk of lines in parallel, writes the answers in input order and flushes them.
fn answer_chunk(
    model: &Model,
    chunk: &mut Vec<(usize, Input)>,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    use rayon::prelude::*;
    let results: Vec<Option<BatchResult>> = chunk
        .par_iter()
        .map(|(n, input)| answer(model, *n, input))
        .collect();
    chunk.clear();
    for r in results.into_iter().flatten() {
        serde_json::to_writer(&mut *out, &r)?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    Ok(())
}

/// `query --batch`: streams. Lines are read as bytes, at most [`CHUNK`] at a time, and answered
/// before more are read; a chunk also ends when no more input has arrived yet, so a program
/// feeding queries one by one through a pipe gets each answer without waiting for more.
fn batch_run(model: &Model, input: &str) -> anyhow::Result<ExitCode> {
    let source: Box<dyn std::io::Read> = if input == "-" {
        Box::new(std::io::stdin())
    } else {
        Box::new(std::fs::File::open(input).map_err(|e| anyhow::anyhow!("{input}: {e}"))?)
    };
    let mut reader = std::io::BufReader::with_capacity(READ_BUFFER, source);
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let mut chunk = Vec::with_capacity(CHUNK);
    let mut n = 0;
    loop {
        let line = next_line(&mut reader, MAX_LINE)
            .map_err(|e| anyhow::anyhow!("{input}: reading line {}: {e}", n + 1))?;
        if line == Input::End {
            break;
        }
        n += 1;
        chunk.push((n, line));
        // An empty buffer means the next read may wait for input: answer what has come first.
        if chunk.len() == CHUNK || reader.buffer().is_empty() {
            answer_chunk(model, &mut chunk, &mut out)?;
        }
    }
    answer_chunk(model, &mut chunk, &mut out)?;
    Ok(ExitCode::from(exit::OK))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(input: &[u8], max: usize) -> Vec<Input> {
        let mut r = std::io::BufReader::with_capacity(4, input);
        let mut out = Vec::new();
        loop {
            match next_line(&mut r, max).unwrap() {
                Input::End => return out,
                l => out.push(l),
            }
        }
    }

    #[test]
    fn lines_are_bytes_bounded_and_numbered_by_newlines() {
        use Input::*;
        assert_eq!(
            lines(b"ab\r\n\xff\n\ntoo long here\nlast", 8),
            vec![
                Line(b"ab".to_vec()),
                Line(b"\xff".to_vec()),
                Line(Vec::new()),
                TooLong,
                Line(b"last".to_vec()),
            ]
        );
        assert_eq!(lines(b"", 8), Vec::<Input>::new());
        assert_eq!(lines(b"12345678\n", 8), vec![Line(b"12345678".to_vec())]);
        assert_eq!(lines(b"123456789", 8), vec![TooLong]);
    }
}
