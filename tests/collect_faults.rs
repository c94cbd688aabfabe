//! `peerscope snapshot` against hostile responses (issue 13, "validate what comes back"): the
//! emulator of tests/collect.rs behind a small fault-injecting HTTP proxy ([`Proxy`]), which the
//! SDK's endpoint points at. The proxy forwards each request to moto and may rewrite the answer
//! — an Organizations ListAccounts that names `../x` — or cut its body while keeping HTTP 200,
//! with `Content-Length` rewritten to match the cut or kept and the connection closed early.

use std::io::{BufRead, BufReader, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::Path;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

use crate::collect::{FAKE_KEY, Moto, REGIONS, Run, files, peerscope, peerscope_env, read_json, s};
use crate::util::Dir;

/// One request as the proxy saw it, and what moto answered.
struct Exchange {
    /// `DescribeVpcs`, `AssumeRole` (query protocols: the form's `Action`), `ListAccounts`
    /// (JSON protocol: `X-Amz-Target`).
    action: String,
    /// The region of the request's signature scope.
    region: String,
    /// The request's body (a form for EC2 and STS).
    request: String,
    status: String,
    body: Vec<u8>,
}

/// What the proxy does with moto's answer.
enum Fault {
    Pass,
    /// Send this body instead, with a `Content-Length` that matches it.
    Replace(Vec<u8>),
    /// Send the first `n` bytes of the body with a `Content-Length` of `n`.
    CutMatching(usize),
    /// Send the first `n` bytes of the body with the original `Content-Length`, then close.
    CutShort(usize),
}

type Rule = dyn Fn(&Exchange) -> Fault + Send + Sync;

/// A fault-injecting HTTP/1.1 proxy in front of `upstream`, on a free loopback port. Every
/// exchange is logged as `Action region fault`.
struct Proxy {
    url: String,
    log: Arc<Mutex<Vec<String>>>,
}

impl Proxy {
    fn start(upstream: &str, rule: impl Fn(&Exchange) -> Fault + Send + Sync + 'static) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
        let url = format!("http://{}", listener.local_addr().unwrap());
        let upstream = upstream
            .strip_prefix("http://")
            .expect("an http:// upstream")
            .to_owned();
        let rule: Arc<Rule> = Arc::new(rule);
        let log = Arc::new(Mutex::new(Vec::new()));
        let thread_log = log.clone();
        // The listener thread ends with the test binary; one thread per client connection.
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { return };
                let (upstream, rule, log) = (upstream.clone(), rule.clone(), thread_log.clone());
                std::thread::spawn(move || {
                    let _ = serve(stream, &upstream, &*rule, &log);
                });
            }
        });
        Proxy { url, log }
    }

    /// How many exchanges of `action` in `region` got `fault` (`pass`, `replace`, `cut`, …).
    fn count(&self, action: &str, region: &str, fault: &str) -> usize {
        let line = format!("{action} {region} {fault}");
        self.log
            .lock()
            .unwrap()
            .iter()
            .filter(|l| **l == line)
            .count()
    }

    fn requests(&self, action: &str) -> usize {
        let prefix = format!("{action} ");
        let log = self.log.lock().unwrap();
        log.iter().filter(|l| l.starts_with(&prefix)).count()
    }
}

/// A request or response head: the first line and the headers, in order.
struct Head {
    line: String,
    headers: Vec<(String, String)>,
}

impl Head {
    fn get(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The head with `Content-Length`, `Transfer-Encoding` and `Connection` replaced.
    fn write(&self, out: &mut Vec<u8>, length: usize, connection: &str) {
        out.extend_from_slice(format!("{}\r\n", self.line).as_bytes());
        for (k, v) in &self.headers {
            let drop = ["content-length", "transfer-encoding", "connection"];
            if !drop.iter().any(|d| k.eq_ignore_ascii_case(d)) {
                out.extend_from_slice(format!("{k}: {v}\r\n").as_bytes());
            }
        }
        out.extend_from_slice(
            format!("Content-Length: {length}\r\nConnection: {connection}\r\n\r\n").as_bytes(),
        );
    }
}

/// Reads a head; `None` at the end of the stream.
fn read_head(r: &mut impl BufRead) -> Option<Head> {
    let mut line = String::new();
    if r.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let mut head = Head {
        line: line.trim_end().to_owned(),
        headers: Vec::new(),
    };
    loop {
        let mut h = String::new();
        r.read_line(&mut h).ok()?;
        let h = h.trim_end();
        if h.is_empty() {
            return Some(head);
        }
        let (k, v) = h.split_once(':')?;
        head.headers
            .push((k.trim().to_owned(), v.trim().to_owned()));
    }
}

/// Reads a body framed by `Content-Length`, or chunked, or (a response) by the end of stream.
fn read_body(r: &mut impl BufRead, head: &Head) -> std::io::Result<Vec<u8>> {
    let mut body = Vec::new();
    if let Some(n) = head.get("content-length") {
        body.resize(n.parse().expect("a length"), 0);
        r.read_exact(&mut body)?;
    } else if head
        .get("transfer-encoding")
        .is_some_and(|t| t.eq_ignore_ascii_case("chunked"))
    {
        loop {
            let mut size = String::new();
            r.read_line(&mut size)?;
            let size = usize::from_str_radix(size.trim().split(';').next().unwrap(), 16).unwrap();
            let mut chunk = vec![0; size + 2];
            r.read_exact(&mut chunk)?;
            if size == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..size]);
        }
    } else if !head.line.starts_with("POST") && !head.line.starts_with("GET") {
        r.read_to_end(&mut body)?;
    }
    Ok(body)
}

/// Serves one client connection (keep-alive) until it closes or a fault closes it.
fn serve(
    client: TcpStream,
    upstream: &str,
    rule: &Rule,
    log: &Mutex<Vec<String>>,
) -> std::io::Result<()> {
    let mut reader = BufReader::new(client.try_clone()?);
    let mut writer = client;
    while let Some(head) = read_head(&mut reader) {
        let request = read_body(&mut reader, &head)?;
        // Forward with `Connection: close`: moto then ends its answer by closing.
        let mut forwarded = Vec::new();
        head.write(&mut forwarded, request.len(), "close");
        forwarded.extend_from_slice(&request);
        let mut moto = TcpStream::connect(upstream)?;
        moto.write_all(&forwarded)?;
        let mut moto = BufReader::new(moto);
        let answer = read_head(&mut moto).expect("moto answers");
        let body = read_body(&mut moto, &answer)?;

        let request = String::from_utf8_lossy(&request).into_owned();
        let action = match head.get("x-amz-target") {
            Some(t) => t.rsplit('.').next().unwrap_or(t).to_owned(),
            None => request
                .split('&')
                .find_map(|kv| kv.strip_prefix("Action="))
                .unwrap_or("?")
                .to_owned(),
        };
        // `Credential=AKID/20261206/us-east-1/ec2/aws4_request`
        let region = head
            .get("authorization")
            .and_then(|a| a.split("Credential=").nth(1))
            .and_then(|c| c.split('/').nth(2))
            .unwrap_or("?")
            .to_owned();
        let exchange = Exchange {
            action,
            region,
            request,
            status: answer.line.clone(),
            body,
        };
        let fault = rule(&exchange);
        let name = match fault {
            Fault::Pass => "pass",
            Fault::Replace(_) => "replace",
            Fault::CutMatching(_) => "cut",
            Fault::CutShort(_) => "cut-short",
        };
        log.lock()
            .unwrap()
            .push(format!("{} {} {name}", exchange.action, exchange.region));
        let mut out = Vec::new();
        match fault {
            Fault::Pass => {
                answer.write(&mut out, exchange.body.len(), "keep-alive");
                out.extend_from_slice(&exchange.body);
            }
            Fault::Replace(body) => {
                answer.write(&mut out, body.len(), "keep-alive");
                out.extend_from_slice(&body);
            }
            Fault::CutMatching(n) => {
                answer.write(&mut out, n, "keep-alive");
                out.extend_from_slice(&exchange.body[..n]);
            }
            Fault::CutShort(n) => {
                answer.write(&mut out, exchange.body.len(), "keep-alive");
                out.extend_from_slice(&exchange.body[..n]);
                writer.write_all(&out)?;
                writer.flush()?;
                return writer.shutdown(Shutdown::Both);
            }
        }
        writer.write_all(&out)?;
        writer.flush()?;
    }
    Ok(())
}

fn snapshot(url: &str, out: &Path, extra: &[&str]) -> Run {
    let mut args = vec![
        "snapshot",
        "--out",
        out.to_str().expect("UTF-8 path"),
        "--regions",
        REGIONS,
        "--endpoint-url",
        url,
        "--quiet",
    ];
    args.extend_from_slice(extra);
    peerscope(&args, FAKE_KEY)
}

/// The names in `dir`, sorted.
fn names(dir: &Path) -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    out.sort();
    out
}

/// The manifest's results for `account`: (region, status, error).
fn results_of(manifest: &Value, account: &str) -> Vec<(String, String, String)> {
    manifest["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["account"] == account)
        .map(|r| {
            (
                s(&r["region"]).to_owned(),
                s(&r["status"]).to_owned(),
                r["error"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect()
}

/// A DescribeRegions answer naming eu-west-1 and `../y`.
const REGIONS_WITH_Y: &str = concat!(
    r#"<?xml version="1.0" encoding="UTF-8"?>"#,
    r#"<DescribeRegionsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r-1</requestId><regionInfo>"#,
    r#"<item><regionName>eu-west-1</regionName><regionEndpoint>ec2.eu-west-1.amazonaws.com</regionEndpoint><optInStatus>opt-in-not-required</optInStatus></item>"#,
    r#"<item><regionName>../y</regionName><regionEndpoint>ec2.y</regionEndpoint><optInStatus>opt-in-not-required</optInStatus></item>"#,
    r#"</regionInfo></DescribeRegionsResponse>"#
);

/// Names in paths from responses: Organizations names accounts `../x`, `12345` and one with a
/// terminal escape; a route names the prefix list `pl-../../../z`; DescribeRegions names the
/// region `../y`. Each is recorded as failed with the reason (the account in every region, the
/// account-region, the region in every account), no file is written outside `--out` (nor inside
/// it for them), no role is assumed and no request made with them, and the exit code says the
/// snapshot is partial.
#[test]
fn hostile_names_from_responses_fail_what_they_name_and_write_nothing_outside_out() {
    let moto = Moto::start();
    let seed = moto.seed(&[]);
    let acct = |name: &str| s(&seed["accounts"][name]).to_owned();
    let (mgmt, hub) = (acct("management"), acct("hub"));
    let pl = s(&seed["prefix_list"]).to_owned();
    const ESCAPE: &str = "\u{1b}[2J999999999999";
    let proxy = Proxy::start(&moto.url, move |x| match x.action.as_str() {
        "ListAccounts" => {
            let mut page: Value = serde_json::from_slice(&x.body).expect("ListAccounts JSON");
            let accounts = page["Accounts"].as_array_mut().unwrap();
            let mut escape = accounts[0].clone();
            escape["Id"] = json!(ESCAPE);
            escape["Name"] = json!("escape");
            accounts.push(escape);
            for a in accounts.iter_mut() {
                match a["Name"].as_str() {
                    Some("dev") => a["Id"] = json!("../x"),
                    Some("prod") => a["Id"] = json!("12345"),
                    _ => {}
                }
            }
            Fault::Replace(serde_json::to_vec(&page).unwrap())
        }
        "DescribeRouteTables" if x.region == "us-east-1" => {
            let body = String::from_utf8_lossy(&x.body);
            Fault::Replace(body.replace(&pl, "pl-../../../z").into_bytes())
        }
        "DescribeRegions" => Fault::Replace(REGIONS_WITH_Y.as_bytes().to_vec()),
        _ => Fault::Pass,
    });
    let dir = Dir::new();
    let out = dir.path().join("snap");
    let run = snapshot(&proxy.url, &out, &["--org"]);
    assert_eq!(
        run.code, 3,
        "exit 3: partial snapshot; stderr:\n{}",
        run.stderr
    );

    // Nothing outside --out: the run's folder holds the snapshot only (no `x`, no staging
    // folder); inside it, account folders with 12-digit names only.
    assert_eq!(names(dir.path()), ["snap"]);
    let mut top: Vec<String> = files(&out)
        .iter()
        .map(|(rel, _)| rel.iter().next().unwrap().to_string_lossy().into_owned())
        .collect();
    top.dedup();
    let mut expected = vec![hub.clone(), mgmt.clone(), "manifest.json".to_owned()];
    expected.sort();
    assert_eq!(top, expected);

    let m = read_json(&out.join("manifest.json"));
    for (id, shown) in [
        ("../x", r#""../x""#),
        ("12345", r#""12345""#),
        (ESCAPE, r#""\u{1b}[2J999999999999""#),
    ] {
        let results = results_of(&m, id);
        assert_eq!(results.len(), 2, "{id:?}: {results:?}");
        for (_, status, error) in &results {
            assert_eq!(status, "failed");
            assert_eq!(
                *error,
                format!(
                    "Organizations ListAccounts returned the account id {shown}, which is not 12 digits: not collected"
                )
            );
        }
        let listed = m["accounts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["id"] == id)
            .unwrap_or_else(|| panic!("{id:?} not in the manifest's accounts"));
        assert_eq!(listed.get("role_arn"), None, "no role for {id:?}");
    }
    assert!(
        results_of(&m, &mgmt).iter().all(|(_, st, _)| st == "ok"),
        "{m:#}"
    );
    // The hub's us-east-1, whose routes name the hostile prefix list, failed; its eu-west-1 not.
    let results = results_of(&m, &hub);
    assert_eq!(results[0].1, "ok", "{results:?}");
    assert_eq!(results[1].0, "us-east-1");
    assert_eq!(
        results[1].2,
        r#"routes or security-group rules name the prefix-list id(s) "pl-../../../z", which are not pl- and 8 to 17 hex digits"#
    );
    assert!(!out.join(&hub).join("us-east-1").exists());
    assert_eq!(proxy.requests("GetManagedPrefixListEntries"), 0);
    // Only the hub's role was assumed: none was built from a refused id.
    assert_eq!(proxy.requests("AssumeRole"), 1, "{:?}", proxy.log.lock());
    assert!(
        run.stderr.contains("3 of 10 account-region(s) collected"),
        "{}",
        run.stderr
    );
    assert!(
        !run.stderr.contains('\u{1b}'),
        "a refused id reaches the terminal escaped: {:?}",
        run.stderr
    );

    // `--regions all`: DescribeRegions names `../y`, which fails in every account.
    let accounts = dir.path().join("accounts.toml");
    std::fs::write(&accounts, format!("[[account]]\nid = \"{hub}\"\n")).unwrap();
    let out = dir.path().join("snap-all");
    let run = peerscope(
        &[
            "snapshot",
            "--out",
            out.to_str().unwrap(),
            "--regions",
            "all",
            "--accounts",
            accounts.to_str().unwrap(),
            "--endpoint-url",
            &proxy.url,
            "--quiet",
        ],
        FAKE_KEY,
    );
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert_eq!(names(dir.path()), ["accounts.toml", "snap", "snap-all"]);
    let m = read_json(&out.join("manifest.json"));
    assert_eq!(m["regions"], json!(["../y", "eu-west-1"]));
    assert_eq!(
        results_of(&m, &hub),
        [
            (
                "../y".to_owned(),
                "failed".to_owned(),
                r#"DescribeRegions returned the region name "../y", which is not a region name like us-east-1: ^[a-z]{2,4}(-[a-z]+)?-[a-z]+-[0-9]+$: not collected"#.to_owned()
            ),
            ("eu-west-1".to_owned(), "ok".to_owned(), String::new()),
        ]
    );
    assert!(!out.join(&hub).join("..").join("y").exists());
    assert!(
        out.join(&hub)
            .join("eu-west-1/describe-vpcs.json")
            .is_file()
    );
}

/// DescribeVpcs in us-east-1 answers HTTP 200 with its body cut before its last VPC — the
/// `Content-Length` rewritten to match, or kept and the connection closed early. Either way the
/// SDK retries (five attempts), then the account-region is recorded as failed, nothing is
/// written for it, and the summary and exit code say the snapshot is partial. A cut
/// ListAccounts, which leaves no account list, is a usage-level failure of the run.
#[test]
fn a_truncated_describe_vpcs_fails_its_account_region_after_retries() {
    let moto = Moto::start();
    let seed = moto.seed(&[]);
    let hub = s(&seed["accounts"]["hub"]).to_owned();
    let dir = Dir::new();
    let accounts = dir.path().join("accounts.toml");
    std::fs::write(&accounts, format!("[[account]]\nid = \"{hub}\"\n")).unwrap();
    let accounts = accounts.to_str().unwrap();

    // 0: cut, Content-Length matching; 1: cut, original Content-Length; 2: cut ListAccounts.
    let mode = Arc::new(AtomicU8::new(0));
    let rule_mode = mode.clone();
    let proxy = Proxy::start(&moto.url, move |x| {
        let mode = rule_mode.load(Ordering::SeqCst);
        let body = String::from_utf8_lossy(&x.body);
        let vpcs = x.action == "DescribeVpcs" && x.region == "us-east-1";
        if vpcs && mode < 2 {
            assert!(x.status.contains(" 200"), "{}", x.status);
            // The hub's two VPCs (moto's default one and the hub's): cut before the second.
            let starts: Vec<usize> = body.match_indices("<item><ownerId>").map(|m| m.0).collect();
            assert_eq!(starts.len(), 2, "{body}");
            assert!(x.request.contains("MaxResults=1000"), "{}", x.request);
            return match mode {
                0 => Fault::CutMatching(starts[1]),
                _ => Fault::CutShort(starts[1]),
            };
        }
        if x.action == "ListAccounts" && mode == 2 {
            // Cut inside the third account.
            let third = body.match_indices("{\"Id\"").nth(2).unwrap().0;
            return Fault::CutMatching(third + 10);
        }
        Fault::Pass
    });

    for (m, label) in [(0u8, "cut"), (1, "cut-short")] {
        mode.store(m, Ordering::SeqCst);
        let out = dir.path().join(format!("snap-{label}"));
        let run = snapshot(&proxy.url, &out, &["--accounts", accounts]);
        assert_eq!(run.code, 3, "{label}: exit 3; stderr:\n{}", run.stderr);
        assert_eq!(
            proxy.count("DescribeVpcs", "us-east-1", label),
            5,
            "{label}: retried like a transient error, five attempts: {:?}",
            proxy.log.lock()
        );
        let manifest = read_json(&out.join("manifest.json"));
        let results = results_of(&manifest, &hub);
        assert_eq!(results.len(), 2, "{results:?}");
        let (region, status, error) = &results[1];
        assert_eq!((region.as_str(), status.as_str()), ("us-east-1", "failed"));
        assert!(error.starts_with("DescribeVpcs: "), "{label}: {error}");
        let why = match m {
            // The check: the body is not one complete document.
            0 => "the document ends inside <DescribeVpcsResponse><vpcSet>",
            // HTTP framing (hyper).
            _ => "end of file before message length reached",
        };
        assert!(
            error.starts_with("DescribeVpcs: response error: ") && error.ends_with(why),
            "{label}: {error}"
        );
        assert_eq!(results[0].1, "ok", "eu-west-1: {results:?}");
        assert!(!out.join(&hub).join("us-east-1").exists());
        assert!(
            out.join(&hub)
                .join("eu-west-1/describe-vpcs.json")
                .is_file()
        );
        assert!(
            run.stderr.contains(
                "1 of 2 account-region(s) collected (1 account(s) × 2 region(s)), 1 failed"
            ),
            "{}",
            run.stderr
        );
        assert!(!run.stderr.contains("2 of 2"), "{}", run.stderr);
        // `check` warns that the region is missing.
        let check = peerscope(
            &["check", out.to_str().unwrap(), "--format", "json"],
            FAKE_KEY,
        );
        let inv: Value = serde_json::from_str(&check.stdout).expect("check JSON");
        let partial: Vec<&Value> = inv["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["code"] == "partial-snapshot")
            .map(|d| &d["object"])
            .collect();
        assert_eq!(partial, [&json!(format!("{hub}/us-east-1"))]);
    }

    // A cut account list: retried, then no account list at all (exit 2), nothing written.
    mode.store(2, Ordering::SeqCst);
    let out = dir.path().join("snap-org");
    let run = snapshot(&proxy.url, &out, &["--org"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("ListAccounts failed") && run.stderr.contains("incomplete response"),
        "{}",
        run.stderr
    );
    assert_eq!(proxy.count("ListAccounts", "us-east-1", "cut"), 5);
    assert!(!out.exists());
}

/// Names from the user are usage errors (exit 2) before any call, every problem listed, nothing
/// written. (The endpoint is a closed port: a call would fail differently.)
#[test]
fn bad_region_names_from_the_user_are_usage_errors_listing_every_problem() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let dir = Dir::new();
    let out = dir.path().join("snap");
    let run = |regions: &str, env: &[(&str, &str)]| {
        peerscope_env(
            &[
                "snapshot",
                "--out",
                out.to_str().unwrap(),
                "--regions",
                regions,
                "--endpoint-url",
                &url,
                "--quiet",
            ],
            FAKE_KEY,
            env,
        )
    };
    let r = run("../x,us-east-1,mars,eu-west-1/..", &[]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr
            .contains(r#"--regions: "../x", "mars", "eu-west-1/.." are not a region name"#),
        "{}",
        r.stderr
    );
    let r = run("us-east-1", &[("AWS_REGION", "../x")]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains(
            r#"the configured region (AWS_REGION or the profile's) "../x" is not a region name"#
        ),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains("GetCallerIdentity"), "{}", r.stderr);
    assert_eq!(names(dir.path()), Vec::<String>::new());
}
