//! Truncated responses: a successful (2xx) response whose body is not one complete document is
//! turned into a transient error, so the SDK retries it like a reset connection and, if it stays
//! cut, the account-region fails (issue 13: "8 of 8 collected" with 8 of 13 VPCs missing).
//!
//! **Why this is needed.** EC2 and STS speak an XML query protocol. The SDK's XML deserializer
//! (`aws-smithy-xml`) reads a response tag by tag and treats the end of the input as the end of
//! the current element: a body cut after the eighth `<item>` of `<vpcSet>` deserializes, without
//! error, into eight VPCs and no `nextToken`, so pagination stops too; a body cut inside
//! `<vpcId>vpc-12` even yields a VPC with a cut id. (The tests in this module show both on the
//! wire against a canned server.) HTTP framing catches only part of it: a body shorter than its
//! `Content-Length` is an error in hyper, which the SDK retries, but a cut body whose
//! `Content-Length` was rewritten to match, or one delimited by the connection closing, arrives
//! as a complete HTTP message. Organizations speaks JSON, whose deserializer does fail on a cut
//! document, but as a non-retried "unhandled" error.
//!
//! **The check.** [`CompleteBody`] is an SDK interceptor on every EC2, STS and Organizations
//! client. When an attempt completes with a 2xx status and a body in memory, it requires the
//! body to be exactly one complete document: for XML, every element opened is closed by its own
//! name and nothing but whitespace, comments and processing instructions follows the root; for
//! JSON, one value and nothing after it. A body is cut somewhere before its last byte, so a cut
//! body always fails the check, wherever the cut is (`every_proper_prefix_is_incomplete`); what
//! the check cannot see is a body rewritten into another complete document, which is forgery,
//! not truncation, and what TLS is for. It also compares the body's length with
//! `Content-Length` when one was sent. A failing attempt's result becomes a *response error*,
//! which the SDK's standard retry classifier treats as transient: it is retried with backoff up
//! to the configured attempts, then returned, and the account-region is recorded as failed.

use aws_sdk_ec2::config::interceptors::FinalizerInterceptorContextMut;
use aws_sdk_ec2::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_ec2::error::BoxError;
use aws_smithy_runtime_api::client::orchestrator::OrchestratorError;

/// The document format of a service's responses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// EC2 and STS (query protocols).
    Xml,
    /// Organizations (JSON 1.1 protocol).
    Json,
}

/// Why a 2xx body was refused.
#[derive(Debug, thiserror::Error)]
#[error("incomplete response (HTTP {status}, {len} bytes): {reason}")]
pub struct Incomplete {
    status: u16,
    len: usize,
    reason: String,
}

/// The SDK interceptor that refuses 2xx responses whose body is not one complete document.
#[derive(Clone, Copy, Debug)]
pub struct CompleteBody(pub Format);

impl Intercept for CompleteBody {
    fn name(&self) -> &'static str {
        "peerscope::CompleteBody"
    }

    fn modify_before_attempt_completion(
        &self,
        context: &mut FinalizerInterceptorContextMut<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let Some(response) = context.response() else {
            return Ok(());
        };
        let status = response.status();
        // A body still streaming here could not be read, and the attempt already failed.
        let (true, Some(body)) = (status.is_success(), response.body().bytes()) else {
            return Ok(());
        };
        let declared = response
            .headers()
            .get("content-length")
            .and_then(|v| v.trim().parse::<usize>().ok());
        let reason = match declared {
            Some(n) if n != body.len() => Some(format!("Content-Length says {n} bytes")),
            _ => check(self.0, body).err(),
        };
        if let Some(reason) = reason {
            let error = Incomplete {
                status: status.as_u16(),
                len: body.len(),
                reason,
            };
            // A response error, not an interceptor error: the SDK retries the former.
            if let Some(slot) = context.output_or_error_mut() {
                *slot = Err(OrchestratorError::response(Box::new(error)));
            }
        }
        Ok(())
    }
}

/// Is `body` one complete document of `format`? The error says where it stops.
pub fn check(format: Format, body: &[u8]) -> Result<(), String> {
    match format {
        Format::Xml => xml_complete(body),
        Format::Json => serde_json::from_slice::<serde::de::IgnoredAny>(body)
            .map(|_| ())
            .map_err(|e| format!("not one complete JSON document: {e}")),
    }
}

/// Is `body` one complete XML document: one root element, every element closed by its own
/// name, nothing but whitespace, comments and processing instructions around the root? (The
/// tokenizer refuses a second root and text outside the root; it does not match end tags to
/// start tags or notice the end of the input inside an element, which is what truncation
/// looks like.)
pub fn xml_complete(body: &[u8]) -> Result<(), String> {
    use xmlparser::{ElementEnd, Token, Tokenizer};
    let text = std::str::from_utf8(body).map_err(|e| format!("not UTF-8: {e}"))?;
    // Open elements, outermost first.
    let mut open: Vec<&str> = Vec::new();
    let mut root = false;
    let inside = |open: &[&str]| {
        if open.is_empty() {
            String::new()
        } else {
            format!(" inside <{}>", open.join("><"))
        }
    };
    for token in Tokenizer::from(text) {
        let token = token.map_err(|e| format!("not well-formed XML{}: {e}", inside(&open)))?;
        match token {
            Token::ElementStart { span, .. } => {
                root = true;
                // `span` is `<name`.
                open.push(&span.as_str()[1..]);
            }
            Token::ElementEnd { end, .. } => match end {
                ElementEnd::Open => {}
                ElementEnd::Empty => {
                    open.pop();
                }
                ElementEnd::Close(prefix, local) => {
                    let name = match prefix.as_str() {
                        "" => local.as_str().to_owned(),
                        p => format!("{p}:{}", local.as_str()),
                    };
                    match open.pop() {
                        Some(o) if o == name => {}
                        Some(o) => return Err(format!("</{name}> closes <{o}>")),
                        None => return Err(format!("</{name}> closes nothing")),
                    }
                }
            },
            _ => {}
        }
    }
    if !open.is_empty() {
        return Err(format!("the document ends{}", inside(&open)));
    }
    if !root {
        return Err("no root element".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const VPCS: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<DescribeVpcsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
    <requestId>7a62c49f-347e-4fc4-9331-6e8eEXAMPLE</requestId>
    <vpcSet>
        <item><vpcId>vpc-1a2b3c4d</vpcId><state>available</state><cidrBlock>10.0.0.0/16</cidrBlock><ownerId>111111111111</ownerId><tagSet/></item>
        <item><vpcId>vpc-2b3c4d5e</vpcId><state>available</state><cidrBlock>10.1.0.0/16</cidrBlock><ownerId>111111111111</ownerId><tagSet><item><key>Name</key><value>a &amp; b</value></item></tagSet></item>
    </vpcSet>
    <nextToken>token-2</nextToken>
</DescribeVpcsResponse>
"#;

    #[test]
    fn complete_documents_pass() {
        assert_eq!(xml_complete(VPCS.as_bytes()), Ok(()));
        assert_eq!(
            xml_complete(b"<?xml version=\"1.0\"?>\n<a><b x=\"1\"/><c>t</c></a>\n<!-- end -->\n"),
            Ok(())
        );
        assert_eq!(
            check(Format::Json, br#"{"Accounts": [], "NextToken": null}"#),
            Ok(())
        );
    }

    /// Wherever a body is cut, the check sees it: every proper prefix of a complete document
    /// (up to its closing `>`; what follows is whitespace) is refused.
    #[test]
    fn every_proper_prefix_is_incomplete() {
        let xml = VPCS.trim_end().as_bytes();
        for cut in 0..xml.len() {
            assert!(
                xml_complete(&xml[..cut]).is_err(),
                "cut at {cut}: {:?}",
                String::from_utf8_lossy(&xml[..cut])
            );
        }
        let json = br#"{"Accounts": [{"Id": "111111111111", "Name": "a\"b"}], "NextToken": "t"}"#;
        for cut in 0..json.len() {
            assert!(check(Format::Json, &json[..cut]).is_err(), "cut at {cut}");
        }
    }

    #[test]
    fn reasons_name_where_the_document_stops() {
        let cut = &VPCS[..VPCS.find("<item><vpcId>vpc-2b").unwrap()];
        assert_eq!(
            xml_complete(cut.as_bytes()).unwrap_err(),
            "the document ends inside <DescribeVpcsResponse><vpcSet>"
        );
        assert_eq!(xml_complete(b"<a><b></a>").unwrap_err(), "</a> closes <b>");
        // The tokenizer itself refuses a second root and text outside the root.
        assert!(xml_complete(b"<a/><b/>").is_err());
        assert!(xml_complete(b"<a/>text").is_err());
        assert_eq!(
            xml_complete(b"<?xml version=\"1.0\"?>").unwrap_err(),
            "no root element"
        );
        assert!(
            xml_complete(b"<a>\xff</a>")
                .unwrap_err()
                .starts_with("not UTF-8")
        );
    }
}

/// The SDK on the wire: a canned server answers DescribeVpcs with a cut body, and the client
/// sees it with and without [`CompleteBody`].
#[cfg(test)]
mod wire {
    use super::*;
    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::TcpListener;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use aws_config::BehaviorVersion;
    use aws_config::retry::RetryConfig;
    use aws_sdk_ec2::config::{Credentials, Region};

    const BODY: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<DescribeVpcsResponse xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\"><requestId>r-1</requestId><vpcSet><item><vpcId>vpc-1a2b3c4d</vpcId><cidrBlock>10.0.0.0/16</cidrBlock></item><item><vpcId>vpc-2b3c4d5e</vpcId><cidrBlock>10.1.0.0/16</cidrBlock></item></vpcSet><nextToken>token-2</nextToken></DescribeVpcsResponse>";

    /// How the server cuts the body.
    #[derive(Clone, Copy)]
    enum Cut {
        /// The whole body.
        Whole,
        /// Cut at `at`, `Content-Length` rewritten to match.
        Matching(&'static str),
        /// Cut at `at`, the original `Content-Length` kept, then the connection closed.
        Short(&'static str),
    }

    /// Serves every request with `cut` of [`BODY`]; returns the endpoint and the request count.
    fn serve(cut: Cut) -> (String, Arc<AtomicUsize>) {
        serve_body(BODY, "text/xml;charset=UTF-8", cut)
    }

    /// Serves every request with `cut` of `body`.
    fn serve_body(
        body: &'static str,
        content_type: &'static str,
        cut: Cut,
    ) -> (String, Arc<AtomicUsize>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let count = Arc::new(AtomicUsize::new(0));
        let counter = count.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { return };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut length = 0;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        break;
                    }
                    if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                        length = v.trim().parse().unwrap();
                    }
                    if line == "\r\n" {
                        break;
                    }
                }
                let mut request = vec![0; length];
                let _ = reader.read_exact(&mut request);
                counter.fetch_add(1, Ordering::SeqCst);
                let (at, declared) = match cut {
                    Cut::Whole => (body.len(), None),
                    Cut::Matching(at) => (body.find(at).unwrap(), None),
                    Cut::Short(at) => (body.find(at).unwrap(), Some(body.len())),
                };
                let sent = &body[..at];
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    declared.unwrap_or(sent.len())
                );
                let _ = stream.write_all(head.as_bytes());
                let _ = stream.write_all(sent.as_bytes());
            }
        });
        (url, count)
    }

    /// DescribeVpcs against `url`, three attempts, with or without the check.
    fn describe_vpcs(
        url: &str,
        checked: bool,
    ) -> Result<aws_sdk_ec2::operation::describe_vpcs::DescribeVpcsOutput, String> {
        let mut config = aws_sdk_ec2::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .endpoint_url(url)
            .credentials_provider(Credentials::new("AKIDEXAMPLE", "test", None, None, "test"))
            .retry_config(
                RetryConfig::standard()
                    .with_max_attempts(3)
                    .with_initial_backoff(Duration::from_millis(1)),
            );
        if checked {
            config = config.interceptor(CompleteBody(Format::Xml));
        }
        let client = aws_sdk_ec2::Client::from_conf(config.build());
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(client.describe_vpcs().send())
            .map_err(|e| format!("{}", aws_sdk_ec2::error::DisplayErrorContext(e)))
    }

    fn ids(out: &aws_sdk_ec2::operation::describe_vpcs::DescribeVpcsOutput) -> Vec<&str> {
        out.vpcs().iter().filter_map(|v| v.vpc_id()).collect()
    }

    /// Why [`CompleteBody`] exists: with HTTP framing intact, the SDK takes a cut body for a
    /// shorter list (and a cut id for an id), with no token for a next page and no error. If
    /// this test fails, the SDK has learnt to refuse cut bodies itself; the check stays, as a
    /// second line.
    #[test]
    fn the_sdk_alone_takes_a_cut_body_for_a_shorter_list() {
        let (url, _) = serve(Cut::Matching("<item><vpcId>vpc-2b"));
        let out = describe_vpcs(&url, false).expect("the SDK accepts the cut body");
        assert_eq!(ids(&out), ["vpc-1a2b3c4d"]);
        assert_eq!(out.next_token(), None, "the page token is lost");

        let (url, _) = serve(Cut::Matching("3c4d5e</vpcId>"));
        let out = describe_vpcs(&url, false).expect("the SDK accepts the cut body");
        assert_eq!(ids(&out), ["vpc-1a2b3c4d", "vpc-2b"]);
    }

    #[test]
    fn a_cut_body_with_a_matching_content_length_is_retried_then_refused() {
        for at in [
            "<item><vpcId>vpc-2b",
            "3c4d5e</vpcId>",
            "</DescribeVpcsResponse>",
        ] {
            let (url, count) = serve(Cut::Matching(at));
            let e = describe_vpcs(&url, true).unwrap_err();
            assert!(e.contains("incomplete response (HTTP 200"), "{e}");
            assert_eq!(count.load(Ordering::SeqCst), 3, "retried: {e}");
        }
    }

    /// HTTP framing alone: a body shorter than its `Content-Length` fails in hyper, and the SDK
    /// retries it, with or without the check.
    #[test]
    fn a_body_shorter_than_its_content_length_is_retried_then_refused() {
        for checked in [false, true] {
            let (url, count) = serve(Cut::Short("<item><vpcId>vpc-2b"));
            let e = describe_vpcs(&url, checked).unwrap_err();
            assert_eq!(count.load(Ordering::SeqCst), 3, "retried: {e}");
        }
    }

    #[test]
    fn a_complete_body_passes_once() {
        let (url, count) = serve(Cut::Whole);
        let out = describe_vpcs(&url, true).unwrap();
        assert_eq!(ids(&out), ["vpc-1a2b3c4d", "vpc-2b3c4d5e"]);
        assert_eq!(out.next_token(), Some("token-2"));
        assert_eq!(count.load(Ordering::SeqCst), 1);
    }

    /// Organizations (JSON): the SDK's own deserializer refuses a cut document, but as an
    /// "unhandled" service error that is not retried; with the check it is retried.
    #[test]
    fn a_cut_json_body_is_an_unretried_error_without_the_check_and_retried_with_it() {
        const ACCOUNTS: &str = r#"{"Accounts": [{"Id": "111111111111", "Name": "a", "State": "ACTIVE"}, {"Id": "222222222222", "Name": "b", "State": "ACTIVE"}], "NextToken": null}"#;
        for checked in [false, true] {
            let (url, count) = serve_body(
                ACCOUNTS,
                "application/x-amz-json-1.1",
                Cut::Matching(", {\"Id\": \"2222"),
            );
            let mut config = aws_sdk_organizations::Config::builder()
                .behavior_version(BehaviorVersion::latest())
                .region(Region::new("us-east-1"))
                .endpoint_url(&url)
                .credentials_provider(Credentials::new("AKIDEXAMPLE", "test", None, None, "t"))
                .retry_config(
                    RetryConfig::standard()
                        .with_max_attempts(3)
                        .with_initial_backoff(Duration::from_millis(1)),
                );
            if checked {
                config = config.interceptor(CompleteBody(Format::Json));
            }
            let client = aws_sdk_organizations::Client::from_conf(config.build());
            let r = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap()
                .block_on(client.list_accounts().send());
            let e = format!(
                "{}",
                aws_sdk_ec2::error::DisplayErrorContext(r.unwrap_err())
            );
            let attempts = count.load(Ordering::SeqCst);
            if checked {
                assert_eq!(attempts, 3, "{e}");
                assert!(e.contains("not one complete JSON document"), "{e}");
            } else {
                assert_eq!(attempts, 1, "{e}");
            }
        }
    }
}
