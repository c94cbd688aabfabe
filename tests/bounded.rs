//! Issue 13, "bounded resources": no input makes peerscope read, hold or spawn without end.
//! Snapshot files are read only when they are regular files and no larger than
//! `--max-file-size`; `query --batch` streams, with an error object for a bad line (invalid
//! UTF-8 and over-long lines included); `--threads` is lowered to 4 × the cores, with a warning.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::util::*;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn hub_and_spoke() -> std::path::PathBuf {
    Path::new(ROOT).join("topologies/hub-and-spoke")
}

/// The `io` diagnostics of a `check --format json` run.
fn io_diagnostics(stdout: &str) -> Vec<Value> {
    let v: Value = serde_json::from_str(stdout).expect("check --format json prints JSON");
    v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["code"] == "io")
        .cloned()
        .collect()
}

#[cfg(unix)]
#[test]
fn a_snapshot_file_that_links_to_dev_zero_is_an_error_and_never_read() {
    let d = Dir::new();
    clean_snapshot(&d);
    std::os::unix::fs::symlink("/dev/zero", d.path().join(AR).join("describe-zero.json")).unwrap();
    let started = Instant::now();
    let out = TestCommand::check(d.path(), &["--format", "json"]).run();
    assert!(started.elapsed() < Duration::from_secs(20), "{out:#?}");
    assert_eq!(out.code, 1, "{out:#?}");
    let io = io_diagnostics(&out.stdout);
    assert_eq!(io.len(), 1, "{io:#?}");
    assert_eq!(io[0]["severity"], "error");
    assert_eq!(
        io[0]["file"],
        fixture_file("describe-zero.json").to_str().unwrap()
    );
    assert_eq!(
        io[0]["message"],
        "not a regular file (a character device): not read"
    );
    // The rest of the snapshot is loaded as before.
    let v: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(v["totals"]["network_interfaces"], 2);
}

#[cfg(unix)]
#[test]
fn a_fifo_among_the_snapshot_files_is_an_error_and_never_opened() {
    let d = Dir::new();
    clean_snapshot(&d);
    let fifo = d.path().join(AR).join("describe-fifo.json");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    // Opening a FIFO with no writer blocks: a loader that opened it would hang here.
    let out = TestCommand::check(d.path(), &["--format", "json"]).run();
    assert_eq!(out.code, 1, "{out:#?}");
    let io = io_diagnostics(&out.stdout);
    assert_eq!(io.len(), 1, "{io:#?}");
    assert_eq!(io[0]["message"], "not a regular file (a FIFO): not read");
    // And a symlink to a regular file is read as the file.
    std::fs::remove_file(&fifo).unwrap();
    let real = d.path().join("elsewhere.json.txt");
    std::fs::write(&real, response("Vpcs", [vpc_json("vpc-9", "10.9.0.0/16")])).unwrap();
    std::os::unix::fs::symlink(&real, d.path().join(AR).join("describe-more.json")).unwrap();
    let out = TestCommand::check(d.path(), &["--format", "json"]).run();
    assert_eq!(out.code, 0, "{out:#?}");
    let v: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(v["totals"]["vpcs"], 2);
}

#[test]
fn a_file_over_max_file_size_is_an_error_naming_it_and_the_flag_raises_the_limit() {
    let d = Dir::new();
    clean_snapshot(&d);
    let out = TestCommand::check(d.path(), &["--format", "json", "--max-file-size", "300"]).run();
    assert_eq!(out.code, 1, "{out:#?}");
    let io = io_diagnostics(&out.stdout);
    assert!(!io.is_empty(), "{out:#?}");
    for diag in &io {
        let msg = diag["message"].as_str().unwrap();
        assert!(
            msg.contains("is larger than the limit of 300 B (--max-file-size raises it): not read"),
            "{msg}"
        );
        assert!(diag["file"].as_str().unwrap().ends_with(".json"), "{diag}");
    }
    // The text output names the file too.
    let out = TestCommand::check(d.path(), &["--max-file-size", "300"]).run();
    assert!(
        out.stdout
            .contains("error[io] 111111111111/us-east-1/describe-"),
        "{}",
        out.stdout
    );
    let out = TestCommand::check(d.path(), &["--max-file-size", "1MiB"]).run();
    assert_eq!(out.code, 0, "{out:#?}");
    // Every command that loads a snapshot has the flag.
    let t = hub_and_spoke();
    for args in [
        vec!["reach"],
        vec!["audit"],
        vec!["graph", "--format", "dot"],
        vec!["query", "--batch", "/dev/null"],
    ] {
        let out = TestCommand::new(&args)
            .arg(&t)
            .args(["--max-file-size", "1000", "--strict"])
            .run();
        assert_eq!(out.code, 2, "{args:?}: {out:#?}");
        assert!(
            out.stderr.contains("larger than the limit"),
            "{args:?}: {}",
            out.stderr
        );
    }
    // The snapshot's files (at most 6,050 bytes) are read, the 8,080-byte plan is not.
    let out = TestCommand::new(["what-if"])
        .arg(&t)
        .arg("--terraform-plan")
        .arg(t.join("changes/risky-dev-prod-peering.tfplan.json"))
        .args(["--max-file-size", "7000"])
        .run();
    assert_eq!(out.code, 2, "{out:#?}");
    assert!(
        out.stderr.contains("risky-dev-prod-peering.tfplan.json: the file (7.9 KiB) is larger than the limit of 6.8 KiB"),
        "{}",
        out.stderr
    );
    let out = TestCommand::new(["diff"])
        .arg(&t)
        .arg(&t)
        .args(["--max-file-size", "1000", "--strict"])
        .run();
    assert_eq!(out.code, 2, "{out:#?}");
    // A size that is not one is a usage error.
    let out = TestCommand::check(d.path(), &["--max-file-size", "lots"]).run();
    assert_eq!(out.code, 2, "{out:#?}");
    assert!(out.stderr.contains("--max-file-size"), "{}", out.stderr);
}

#[cfg(unix)]
#[test]
fn an_intent_or_change_file_named_as_dev_zero_is_bounded() {
    let t = hub_and_spoke();
    let started = Instant::now();
    let out = TestCommand::new(["audit"])
        .arg(&t)
        .args(["--intent", "/dev/zero", "--max-file-size", "1MiB"])
        .run();
    assert_eq!(out.code, 2, "{out:#?}");
    assert!(
        out.stderr
            .contains("grew while read) is larger than the limit of 1.0 MiB"),
        "{}",
        out.stderr
    );
    let out = TestCommand::new(["what-if"])
        .arg(&t)
        .args(["--change", "/dev/zero", "--max-file-size", "1MiB"])
        .run();
    assert_eq!(out.code, 2, "{out:#?}");
    assert!(
        out.stderr.contains("larger than the limit"),
        "{}",
        out.stderr
    );
    assert!(started.elapsed() < Duration::from_secs(30));
}

/// `query --batch -` with input written by the test and answers read as they come.
struct Batch {
    child: std::process::Child,
    stdin: Option<std::process::ChildStdin>,
    stdout: BufReader<std::process::ChildStdout>,
}

impl Batch {
    fn start(snapshot: &Path) -> Batch {
        let mut child = Command::new(env!("CARGO_BIN_EXE_peerscope"))
            .arg("query")
            .arg(snapshot)
            .args(["--batch", "-"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        Batch {
            child,
            stdin,
            stdout,
        }
    }

    fn send(&mut self, bytes: &[u8]) {
        let w = self.stdin.as_mut().unwrap();
        w.write_all(bytes).unwrap();
        w.flush().unwrap();
    }

    fn answer(&mut self) -> Value {
        let mut line = String::new();
        self.stdout.read_line(&mut line).unwrap();
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("{line:?}: {e}"))
    }
}

impl Drop for Batch {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A flow of hub-and-spoke's expected flows, as a batch line.
fn a_flow() -> String {
    let text = std::fs::read_to_string(hub_and_spoke().join("expected-flows.jsonl")).unwrap();
    text.lines().next().unwrap().to_owned()
}

#[test]
fn batch_answers_flow_out_while_input_is_still_open() {
    let mut b = Batch::start(&hub_and_spoke());
    let flow = format!("{}\n", a_flow());
    // Each answer comes before the next line is written and while stdin stays open: an
    // implementation that read all input first would block here (the test's timeout fails it).
    let (tx, rx) = std::sync::mpsc::channel();
    let handle = std::thread::spawn(move || {
        for n in 1..=3 {
            b.send(flow.as_bytes());
            let a = b.answer();
            tx.send((n, a)).unwrap();
        }
        drop(b);
    });
    for n in 1..=3 {
        let (got, a) = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("an answer while the input is still open");
        assert_eq!(got, n);
        assert_eq!(a["line"], n, "{a}");
        assert!(a.get("delivered").is_some(), "{a}");
    }
    handle.join().unwrap();
}

#[test]
fn a_bad_batch_line_is_an_error_for_its_line_and_the_rest_is_answered() {
    let flow = a_flow();
    let long = format!("{{\"src\": \"{}\"}}", "x".repeat(2 << 20));
    let mut input = Vec::new();
    input.extend_from_slice(flow.as_bytes());
    input.extend_from_slice(b"\n{\"src\": \"10.0.0.1\xff\"}\n\n");
    input.extend_from_slice(long.as_bytes());
    input.extend_from_slice(b"\nnot json\r\n");
    input.extend_from_slice(flow.as_bytes());
    let d = Dir::new();
    d.write("batch.jsonl", &input);
    let out = TestCommand::new(["query"])
        .arg(hub_and_spoke())
        .arg("--batch")
        .arg(d.path().join("batch.jsonl"))
        .run();
    assert_eq!(out.code, 0, "{out:#?}");
    let answers: Vec<Value> = out
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let lines: Vec<i64> = answers
        .iter()
        .map(|a| a["line"].as_i64().unwrap())
        .collect();
    // Line 3 is blank: no answer, but it counts.
    assert_eq!(lines, [1, 2, 4, 5, 6], "{answers:#?}");
    assert!(answers[0].get("delivered").is_some());
    assert_eq!(
        answers[1]["error"],
        json!("not UTF-8 text (invalid byte at column 18)")
    );
    assert_eq!(
        answers[2]["error"],
        json!("line longer than 1048576 bytes: not read (a query is one JSON object a line)")
    );
    assert!(
        answers[3]["error"]
            .as_str()
            .unwrap()
            .starts_with("not a query object"),
        "{answers:#?}"
    );
    assert_eq!(answers[4]["delivered"], answers[0]["delivered"]);
}

#[test]
fn batch_output_keeps_input_order_across_chunks() {
    // More lines than one chunk (1024), every one answered in order.
    let flow = a_flow();
    let mut input = String::new();
    for i in 0..2500 {
        if i % 7 == 3 {
            input.push_str("{\"src\": \"nonsense\", \"dst\": \"10.0.0.1\", \"proto\": \"tcp\"}\n");
        } else {
            input.push_str(&flow);
            input.push('\n');
        }
    }
    let d = Dir::new();
    d.write("batch.jsonl", &input);
    let out = TestCommand::new(["--threads", "2", "query"])
        .arg(hub_and_spoke())
        .arg("--batch")
        .arg(d.path().join("batch.jsonl"))
        .run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    let answers: Vec<Value> = out
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(answers.len(), 2500);
    for (i, a) in answers.iter().enumerate() {
        assert_eq!(a["line"], i + 1);
        assert_eq!(a.get("error").is_some(), i % 7 == 3, "{a}");
    }
}

#[test]
fn threads_beyond_four_per_core_are_lowered_with_a_warning() {
    let t = hub_and_spoke();
    let started = Instant::now();
    let out = TestCommand::new(["--threads", "100000", "check"])
        .arg(&t)
        .run();
    assert!(started.elapsed() < Duration::from_secs(30), "{out:#?}");
    assert_eq!(out.code, 0, "{out:#?}");
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    assert!(
        out.stderr.contains(&format!(
            "peerscope: warning: --threads 100000: more than 4 × the {cores} available core(s); using {}",
            4 * cores
        )),
        "{}",
        out.stderr
    );
    // Within the cap: no warning; the same output.
    let plain = TestCommand::new(["--threads", "1", "check"]).arg(&t).run();
    assert_eq!(plain.code, 0);
    assert!(!plain.stderr.contains("--threads"), "{}", plain.stderr);
    assert_eq!(plain.stdout, out.stdout);
    // Zero threads is no number of threads: a usage error.
    let out = TestCommand::new(["--threads", "0", "check"]).arg(&t).run();
    assert_eq!(out.code, 2, "{out:#?}");
}

#[test]
fn the_thread_cap_is_four_per_core() {
    use peerscope::cli::{Threads, threads};
    assert_eq!(
        threads(3, 2),
        Threads {
            asked: 3,
            used: 3,
            lowered: false
        }
    );
    assert_eq!(threads(8, 2).used, 8);
    assert_eq!(
        threads(100_000, 2),
        Threads {
            asked: 100_000,
            used: 8,
            lowered: true
        }
    );
    assert_eq!(threads(5, 0).used, 4);
}
