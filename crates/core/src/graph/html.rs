//! The picture as one self-contained HTML page (`--format html`): the page, its CSS and its
//! JavaScript renderer (`assets/`, our own, no library) are inlined with the graph's data, so
//! it opens offline from a file and makes no request.
//!
//! The data is a compact JSON document of arrays (indices instead of repeated ids; one set of
//! classes, flows and findings per layer; see [`data`] and the decoder at the top of
//! `assets/map.js`) inside a `<script type="application/json">`, with `<`, `>`, `&` and the
//! JavaScript line separators escaped so that no untrusted name can close the script element
//! ([`script_json`]). Large documents are embedded deflated and base64-encoded
//! ([`COMPRESS_ABOVE`]).

use serde_json::{Value, json};

use super::{Change, Graph};

const TEMPLATE: &str = include_str!("assets/map.html");
const CSS: &str = include_str!("assets/map.css");
const JS: &str = include_str!("assets/map.js");

/// Above this many VPCs the page opens with every account collapsed into one node (aggregated
/// edges between accounts; a click expands an account).
pub const COLLAPSE_ABOVE: usize = 150;

/// Data above this many bytes of JSON is embedded deflated (base64), which the page inflates
/// with the browser's `DecompressionStream`: findings' titles and components repeat a lot, so a
/// tier-M map shrinks about tenfold.
pub const COMPRESS_ABOVE: usize = 512 * 1024;

/// Renders the page. `title` names the snapshot (shown in the header, escaped).
pub fn render(g: &Graph, title: &str) -> String {
    render_layers(std::slice::from_ref(g), title)
}

/// Renders the page with one picture per layer (the first is shown first; the page's layer
/// filter switches between them). Pictures of other VPCs or peerings than the first's are
/// left out: every layer must be a picture of the same snapshots.
pub fn render_layers(layers: &[Graph], title: &str) -> String {
    let json = script_json(&data(layers, title));
    let compress = json.len() > COMPRESS_ABOVE;
    render_data(json, title, compress)
}

/// [`render_layers`], choosing whether the data is deflated.
pub fn render_with(layers: &[Graph], title: &str, compress: bool) -> String {
    render_data(script_json(&data(layers, title)), title, compress)
}

fn render_data(json: String, title: &str, compress: bool) -> String {
    let (data, encoding) = if compress {
        let z = miniz_oxide::deflate::compress_to_vec_zlib(json.as_bytes(), 6);
        (base64(&z), " data-encoding=\"deflate-base64\"")
    } else {
        (json, "")
    };
    let title = escape_html(title);
    let mut out = String::with_capacity(TEMPLATE.len() + CSS.len() + JS.len() + data.len());
    // One pass over the template's markers, so nothing inserted is ever scanned again.
    let mut rest = TEMPLATE;
    while let Some(at) = rest.find("{{") {
        out.push_str(&rest[..at]);
        let after = &rest[at + 2..];
        let Some(end) = after.find("}}") else {
            out.push_str(&rest[at..]);
            rest = "";
            break;
        };
        match &after[..end] {
            "TITLE" => out.push_str(&title),
            "CSS" => out.push_str(CSS),
            "JS" => out.push_str(JS),
            "DATA" => out.push_str(&data),
            "ENCODING" => out.push_str(encoding),
            other => {
                out.push_str("{{");
                out.push_str(other);
                out.push_str("}}");
            }
        }
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    out
}

fn change(c: Option<Change>) -> Value {
    match c {
        Some(c) => json!(c.as_str()),
        None => json!(0),
    }
}

/// The compact document the page decodes: what all layers share (accounts, VPCs, peerings)
/// once, and per layer (`L`) the edges' classes, flows and findings, the VPCs' findings and the
/// findings themselves. An empty `layers` gives an empty map.
///
/// An account is `[id, name, external, change, unseen]`; a VPC `[id, name, account index,
/// region, CIDRs, collected (0: unseen), change, subnets, peering ids it is seen through]`.
pub fn data(layers: &[Graph], title: &str) -> Value {
    let empty = Graph {
        layer: crate::engine::Layer::Network,
        intent: None,
        diff: false,
        accounts: Vec::new(),
        vpcs: Vec::new(),
        edges: Vec::new(),
        findings: Vec::new(),
    };
    let g = layers.first().unwrap_or(&empty);
    let acct_at = |id: &str| {
        g.accounts
            .binary_search_by(|a| a.id.as_str().cmp(id))
            .unwrap_or(0)
    };
    let vpc_at = |id: &str| g.vpcs.binary_search_by(|v| v.id.as_str().cmp(id)).ok();
    let accounts: Vec<Value> = g
        .accounts
        .iter()
        .map(|a| {
            json!([
                a.id,
                a.name.as_deref().unwrap_or(""),
                u8::from(a.external),
                change(a.change),
                u8::from(a.unseen)
            ])
        })
        .collect();
    let vpcs: Vec<Value> = g
        .vpcs
        .iter()
        .map(|v| {
            let subnets: Vec<Value> = v
                .subnets
                .iter()
                .map(|s| json!([s.id, s.name.as_deref().unwrap_or(""), s.cidrs.join(" ")]))
                .collect();
            json!([
                v.id,
                v.name.as_deref().unwrap_or(""),
                acct_at(&v.account),
                v.region,
                v.cidrs.join(" "),
                u8::from(!v.unseen),
                change(v.change),
                subnets,
                v.seen_through
            ])
        })
        .collect();
    // Peerings whose two VPCs are drawn (always, as the graph holds both sides' VPCs).
    let drawn: Vec<(usize, usize, usize)> = g
        .edges
        .iter()
        .enumerate()
        .filter_map(|(i, e)| Some((i, vpc_at(&e.a)?, vpc_at(&e.b)?)))
        .collect();
    let edges: Vec<Value> = drawn
        .iter()
        .map(|&(i, a, b)| {
            let e = &g.edges[i];
            json!([
                e.id,
                a,
                b,
                e.status,
                u8::from(e.cross_region) | (u8::from(e.cross_account) << 1),
                change(e.change)
            ])
        })
        .collect();
    let same_shape = |l: &Graph| {
        l.vpcs.len() == g.vpcs.len()
            && l.edges.len() == g.edges.len()
            && l.vpcs.iter().zip(&g.vpcs).all(|(x, y)| x.id == y.id)
            && l.edges.iter().zip(&g.edges).all(|(x, y)| x.id == y.id)
    };
    let per_layer: Vec<Value> = layers
        .iter()
        .filter(|l| same_shape(l))
        .map(|l| {
            let edges: Vec<Value> = drawn
                .iter()
                .map(|&(i, _, _)| {
                    let e = &l.edges[i];
                    let flows: Vec<Value> = e
                        .flows
                        .iter()
                        .map(|f| {
                            json!([
                                vpc_at(&f.from),
                                vpc_at(&f.to),
                                f.services,
                                f.src,
                                f.dst,
                                u8::from(f.connectable)
                            ])
                        })
                        .collect();
                    json!([
                        e.class.as_str(),
                        u8::from(e.broken),
                        flows,
                        e.findings,
                        e.class_before.map(|c| c.as_str()).unwrap_or("")
                    ])
                })
                .collect();
            let vpc_findings: Vec<&Vec<usize>> = l.vpcs.iter().map(|v| &v.findings).collect();
            let findings: Vec<Value> = l
                .findings
                .iter()
                .map(|f| {
                    let comps: Vec<Value> = f
                        .components
                        .iter()
                        .map(|c| json!([c.kind(), c.object, c.detail]))
                        .collect();
                    json!([
                        f.kind.as_str(),
                        f.severity.to_string(),
                        f.fingerprint,
                        f.title,
                        f.tighten,
                        comps,
                        change(f.change)
                    ])
                })
                .collect();
            json!({
                "layer": l.layer.to_string(),
                "caption": super::dot::title(l),
                "e": edges,
                "vf": vpc_findings,
                "f": findings,
            })
        })
        .collect();
    json!({
        "m": {
            "title": title,
            "intent": g.intent.as_deref().unwrap_or(""),
            "diff": g.diff,
            "collapse": g.vpcs.len() > COLLAPSE_ABOVE,
            "classes": super::EdgeClass::ALL.map(|c| c.as_str()),
            "colours": super::EdgeClass::ALL
                .iter()
                .map(|c| (c.as_str().to_owned(), json!(c.colour())))
                .collect::<serde_json::Map<String, Value>>(),
        },
        "a": accounts,
        "v": vpcs,
        "e": edges,
        "L": per_layer,
    })
}

/// JSON that is safe inside a `<script>` element: no `<`, `>` or `&` (so no `</script>` or
/// `<!--`), and no U+2028/U+2029.
pub fn script_json(v: &Value) -> String {
    let s = v.to_string();
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

/// Standard base64 with padding (RFC 4648), for `atob`.
fn base64(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        out.push(A[(n >> 18) as usize & 63] as char);
        out.push(A[(n >> 12) as usize & 63] as char);
        out.push(if chunk.len() > 1 {
            A[(n >> 6) as usize & 63] as char
        } else {
            '='
        });
        out.push(if chunk.len() > 2 {
            A[n as usize & 63] as char
        } else {
            '='
        });
    }
    out
}

/// Text for HTML element content and attribute values.
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_cannot_close_its_script_element() {
        let s = script_json(&json!([
            "</script><script>alert(1)</script>",
            "a\u{2028}b&"
        ]));
        assert!(!s.contains('<') && !s.contains('>') && !s.contains('&'));
        assert!(!s.contains('\u{2028}'));
        let back: Value = serde_json::from_str(&s).unwrap();
        assert_eq!(back[0], "</script><script>alert(1)</script>");
    }

    #[test]
    fn base64_pads_like_rfc_4648() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foob"), "Zm9vYg==");
        assert_eq!(base64(&[0xfb, 0xff]), "+/8=");
    }

    #[test]
    fn template_markers_are_filled_once() {
        let g = Graph {
            layer: crate::engine::Layer::Network,
            intent: None,
            diff: false,
            accounts: vec![],
            vpcs: vec![],
            edges: vec![],
            findings: vec![],
        };
        let page = render(&g, "{{JS}}<x>");
        assert!(page.contains("<title>peerscope map: {{JS}}&lt;x&gt;</title>"));
        assert!(!page.contains("{{DATA}}") && !page.contains("{{CSS}}"));
    }
}
