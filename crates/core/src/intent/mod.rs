//! The intent file: what each peering is for. Named accounts, zones of endpoints, and the
//! `allow`, `require` and `deny` rules the audit holds the snapshot against.
//!
//! Parsing keeps every value's position, so each mistake (an unknown key, a value of the wrong
//! type, a missing rule field, an unknown zone or account name, bad port syntax, an empty
//! selector) is reported as `file:line:column: what is wrong` — all of them, not just the first.
//! Selectors are checked strictly ([`crate::shape`]: AWS id formats, 12-digit account ids,
//! CIDRs without spaces, leading zeros or host bits, plain names, one name per account), since a
//! malformed selector would otherwise select nothing, or more than it says, without a word.
//! Only a TOML syntax error is reported alone: nothing past it can be read. Resolving zones
//! against a model ([`Intent::resolve`]) does no I/O.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};

use ipnet::IpNet;
use toml::Spanned;
use toml::de::{DeString, DeTable, DeValue};

use crate::engine::Layer;
use crate::model::*;
use crate::sets::{IpSet, ServiceSet};
use crate::shape;

/// One mistake in the intent file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IntentError {
    pub file: PathBuf,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl fmt::Display for IntentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.file.display(),
            self.line,
            self.column,
            self.message
        )
    }
}

/// Every mistake found in one file.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct IntentErrors(pub Vec<IntentError>);

impl fmt::Display for IntentErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

// ---- the file as written ----
//
// The text is first parsed into a spanned TOML tree ([`DeTable`]); only a TOML syntax error stops
// there (nothing past it can be trusted). The tree is then read table by table into the raw
// structs below: an unknown key, a value of the wrong type or a missing rule field each becomes an
// error at its own position, and reading goes on. Every value keeps its position for the checks
// that follow in [`Intent::parse`].

type Span = std::ops::Range<usize>;
type Str = Spanned<String>;
type Value<'i> = Spanned<DeValue<'i>>;
type Key<'i> = Spanned<DeString<'i>>;

const TOP_KEYS: &[&str] = &["options", "accounts", "zones", "allow", "require", "deny"];
const OPTION_KEYS: &[&str] = &["audit_intra_vpc", "layer"];
const ZONE_KEYS: &[&str] = &["accounts", "vpcs", "subnets", "enis", "cidrs", "tags"];
const RULE_KEYS: &[&str] = &["from", "to", "ports", "layer", "why"];

#[derive(Debug, Default)]
struct RawIntent {
    audit_intra_vpc: Option<bool>,
    layer: Option<Str>,
    /// Name → id; the id is `None` when it was not a string (already reported).
    accounts: Vec<(Str, Option<Str>)>,
    zones: Vec<RawZone>,
    allow: Vec<RawRule>,
    require: Vec<RawRule>,
    deny: Vec<RawRule>,
}

#[derive(Debug, Default)]
struct RawZone {
    name: String,
    /// The zone's table (its `[zones.NAME]` header).
    span: Span,
    accounts: Vec<Str>,
    vpcs: Vec<Str>,
    subnets: Vec<Str>,
    enis: Vec<Str>,
    cidrs: Vec<Str>,
    tags: Vec<(String, Str)>,
    /// A selector was not what it should be (already reported): the zone is not also called
    /// empty.
    malformed: bool,
}

#[derive(Debug, Default)]
struct RawRule {
    /// The rule's table (its `[[allow]]` header).
    span: Span,
    from: Option<Str>,
    to: Option<Str>,
    /// Every port spec given, each with its own position.
    ports: Vec<Str>,
    layer: Option<Str>,
    why: Option<String>,
}

/// "a string", "an integer", …: what a value is, for messages.
fn kind_of(v: &DeValue<'_>) -> &'static str {
    match v {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "an integer",
        DeValue::Float(_) => "a float",
        DeValue::Boolean(_) => "a boolean",
        DeValue::Datetime(_) => "a date-time",
        DeValue::Array(_) => "a list",
        DeValue::Table(_) => "a table",
    }
}

fn key_list(keys: &[&str]) -> String {
    keys.iter()
        .map(|k| format!("`{k}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Reads the spanned tree into a [`RawIntent`], collecting every structural mistake as
/// (byte offset, message).
#[derive(Default)]
struct Reader {
    errors: Vec<(usize, String)>,
}

impl Reader {
    fn error(&mut self, offset: usize, message: String) {
        self.errors.push((offset, message));
    }

    /// `within` prefixes the message (`"[zones.hub]: "`, or nothing at the top level).
    fn unknown(&mut self, key: &Key<'_>, within: &str, known: &[&str]) {
        self.error(
            key.span().start,
            format!(
                "{within}unknown key `{}`; expected one of {}",
                key.get_ref(),
                key_list(known)
            ),
        );
    }

    fn wrong(&mut self, v: &Value<'_>, what: &str, expected: &str) {
        self.error(
            v.span().start,
            format!("{what} must be {expected}, not {}", kind_of(v.get_ref())),
        );
    }

    fn string(&mut self, v: &Value<'_>, what: &str, expected: &str) -> Option<Str> {
        match v.get_ref() {
            DeValue::String(s) => Some(Spanned::new(v.span(), s.to_string())),
            _ => {
                self.wrong(v, what, expected);
                None
            }
        }
    }

    /// A list of strings; every item that is not a string is reported.
    fn strings(&mut self, v: &Value<'_>, what: &str) -> Vec<Str> {
        let DeValue::Array(items) = v.get_ref() else {
            self.wrong(v, what, "a list of strings");
            return Vec::new();
        };
        items
            .iter()
            .filter_map(|item| self.string(item, &format!("{what} items"), "strings"))
            .collect()
    }

    fn table<'v, 'i>(
        &mut self,
        v: &'v Value<'i>,
        what: &str,
        expected: &str,
    ) -> Option<&'v DeTable<'i>> {
        match v.get_ref() {
            DeValue::Table(t) => Some(t),
            _ => {
                self.wrong(v, what, expected);
                None
            }
        }
    }

    fn read(&mut self, doc: &DeTable<'_>) -> RawIntent {
        let mut raw = RawIntent::default();
        for (k, v) in doc.iter() {
            match k.get_ref().as_ref() {
                "options" => {
                    if let Some(t) = self.table(v, "`options`", "a table ([options])") {
                        self.options(t, &mut raw);
                    }
                }
                "accounts" => {
                    let Some(t) = self.table(v, "`accounts`", "a table ([accounts])") else {
                        continue;
                    };
                    for (name, id) in t.iter() {
                        let id = self.string(
                            id,
                            &format!("[accounts]: `{}`", name.get_ref()),
                            "an account id in quotes (\"111111111111\")",
                        );
                        raw.accounts
                            .push((Spanned::new(name.span(), name.get_ref().to_string()), id));
                    }
                }
                "zones" => {
                    let Some(t) = self.table(v, "`zones`", "a table of zones ([zones.NAME])")
                    else {
                        continue;
                    };
                    for (name, z) in t.iter() {
                        raw.zones.push(self.zone(name.get_ref(), z));
                    }
                }
                kind @ ("allow" | "require" | "deny") => {
                    let rules = self.rules(kind, v);
                    match kind {
                        "allow" => raw.allow = rules,
                        "require" => raw.require = rules,
                        _ => raw.deny = rules,
                    }
                }
                _ => self.unknown(k, "", TOP_KEYS),
            }
        }
        raw
    }

    fn options(&mut self, t: &DeTable<'_>, raw: &mut RawIntent) {
        for (k, v) in t.iter() {
            match k.get_ref().as_ref() {
                "audit_intra_vpc" => match v.get_ref() {
                    DeValue::Boolean(b) => raw.audit_intra_vpc = Some(*b),
                    _ => self.wrong(v, "[options]: `audit_intra_vpc`", "true or false"),
                },
                "layer" => {
                    raw.layer = self.string(v, "[options]: `layer`", "\"network\" or \"full\"");
                }
                _ => self.unknown(k, "[options]: ", OPTION_KEYS),
            }
        }
    }

    fn zone(&mut self, name: &str, v: &Value<'_>) -> RawZone {
        let mut zone = RawZone {
            name: name.to_owned(),
            span: v.span(),
            ..Default::default()
        };
        let Some(t) = self.table(
            v,
            &format!("zone `{name}`"),
            &format!("a table ([zones.{name}])"),
        ) else {
            zone.malformed = true;
            return zone;
        };
        let within = format!("[zones.{name}]: ");
        for (k, v) in t.iter() {
            let key = k.get_ref().as_ref();
            let what = format!("{within}`{key}`");
            let before = self.errors.len();
            match key {
                "accounts" => zone.accounts = self.strings(v, &what),
                "vpcs" => zone.vpcs = self.strings(v, &what),
                "subnets" => zone.subnets = self.strings(v, &what),
                "enis" => zone.enis = self.strings(v, &what),
                "cidrs" => zone.cidrs = self.strings(v, &what),
                "tags" => {
                    if let Some(tags) =
                        self.table(v, &what, "a table of strings ({ Environment = \"prod\" })")
                    {
                        for (tk, tv) in tags.iter() {
                            let tk = tk.get_ref().to_string();
                            let tag = format!("{within}tag `{tk}`");
                            if let Some(s) = self.string(tv, &tag, "a string") {
                                zone.tags.push((tk, s));
                            }
                        }
                    }
                }
                _ => self.unknown(k, &within, ZONE_KEYS),
            }
            zone.malformed |= self.errors.len() > before;
        }
        zone
    }

    fn rules(&mut self, kind: &str, v: &Value<'_>) -> Vec<RawRule> {
        let DeValue::Array(items) = v.get_ref() else {
            self.wrong(
                v,
                &format!("`{kind}`"),
                &format!("a list of tables ([[{kind}]])"),
            );
            return Vec::new();
        };
        items
            .iter()
            .filter_map(|item| {
                let t = self.table(item, &format!("[[{kind}]]"), "a table")?;
                Some(self.rule(kind, item.span(), t))
            })
            .collect()
    }

    fn rule(&mut self, kind: &str, span: Span, t: &DeTable<'_>) -> RawRule {
        let within = format!("[[{kind}]]: ");
        let mut rule = RawRule {
            span,
            ..Default::default()
        };
        let (mut has_from, mut has_to, mut has_ports) = (false, false, false);
        for (k, v) in t.iter() {
            let key = k.get_ref().as_ref();
            let what = format!("{within}`{key}`");
            match key {
                "from" => {
                    has_from = true;
                    rule.from = self.string(v, &what, "a zone name");
                }
                "to" => {
                    has_to = true;
                    rule.to = self.string(v, &what, "a zone name");
                }
                "ports" => {
                    has_ports = true;
                    match v.get_ref() {
                        DeValue::String(s) => {
                            rule.ports = vec![Spanned::new(v.span(), s.to_string())];
                        }
                        DeValue::Array(items) if items.is_empty() => {
                            self.error(v.span().start, format!("{within}ports is empty"));
                        }
                        DeValue::Array(_) => rule.ports = self.strings(v, &what),
                        _ => self.wrong(
                            v,
                            &what,
                            "a port spec or a list of them (\"tcp:443\", [\"tcp:443\", \"udp:53\"])",
                        ),
                    }
                }
                "layer" => rule.layer = self.string(v, &what, "\"network\" or \"full\""),
                "why" => {
                    rule.why = self.string(v, &what, "a string").map(Spanned::into_inner);
                }
                _ => self.unknown(k, &within, RULE_KEYS),
            }
        }
        for (has, key, what) in [
            (has_from, "from", "a zone name"),
            (has_to, "to", "a zone name"),
            (has_ports, "ports", "a port spec or a list of them"),
        ] {
            if !has {
                self.error(rule.span.start, format!("{within}missing `{key}` ({what})"));
            }
        }
        rule
    }
}

// ---- the validated intent ----

/// A zone: a set of endpoints selected by any of its selectors.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Zone {
    pub name: String,
    pub accounts: Vec<AccountId>,
    pub vpcs: Vec<VpcId>,
    pub subnets: Vec<SubnetId>,
    pub enis: Vec<String>,
    /// A CIDR, optionally qualified by a VPC (`vpc-…:10.0.0.0/16`).
    pub cidrs: Vec<(Option<VpcId>, IpNet)>,
    pub tags: BTreeMap<String, String>,
    /// The built-in `external` zone: every VPC of an account the file does not name.
    pub external: bool,
}

/// An `allow`, `require` or `deny` rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    pub from: String,
    pub to: String,
    pub ports: Vec<String>,
    pub services: ServiceSet,
    pub layer: Option<Layer>,
    pub why: Option<String>,
    /// Where the rule is written, for reports.
    pub at: RuleAt,
}

/// Where an intent rule is written: its file and the line its table starts on. Prints and
/// serializes as `file:line`; SARIF takes the file and the line apart from the value.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RuleAt {
    pub file: PathBuf,
    pub line: usize,
}

impl std::fmt::Display for RuleAt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.file.display(), self.line)
    }
}

impl serde::Serialize for RuleAt {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// A validated intent file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Intent {
    pub file: PathBuf,
    pub audit_intra_vpc: bool,
    pub layer: Option<Layer>,
    /// Name → account id.
    pub accounts: BTreeMap<String, AccountId>,
    pub zones: BTreeMap<String, Zone>,
    pub allow: Vec<Rule>,
    pub require: Vec<Rule>,
    pub deny: Vec<Rule>,
}

/// The name of the built-in zone of external accounts.
pub const EXTERNAL: &str = "external";

/// Parses a port spec: `tcp:443`, `udp:53`, `tcp:1024-65535`, `icmp`, `icmpv6`, `any`, a
/// protocol number (`50`), or `tcp` (every tcp port). Strictly: no spaces, decimal numbers
/// without sign or leading zeros (`"tcp: 80"` is a mistake, not port 80).
pub fn parse_ports(s: &str) -> Result<ServiceSet, String> {
    if s.chars().any(char::is_whitespace) {
        return Err(format!("{s:?}: remove the spaces"));
    }
    if s.eq_ignore_ascii_case("any") || s == "-1" || s.eq_ignore_ascii_case("all") {
        return Ok(ServiceSet::all());
    }
    let (proto, ports) = match s.split_once(':') {
        Some((p, r)) => (p, Some(r)),
        None => (s, None),
    };
    let number =
        |x: &str| x.bytes().all(|b| b.is_ascii_digit()) && !(x.len() > 1 && x.starts_with('0'));
    let proto = match Protocol::parse(proto) {
        Some(Protocol::Number(n))
            if !proto.starts_with(|c: char| c.is_ascii_digit()) || number(proto) =>
        {
            n
        }
        _ => {
            return Err(format!(
                "{s:?}: expected tcp:PORT[-PORT], udp:PORT[-PORT], icmp, icmpv6, a protocol number or any"
            ));
        }
    };
    match ports {
        None => Ok(ServiceSet::protocol(proto)),
        Some(_) if !Protocol::has_ports(proto) => {
            Err(format!("{s:?}: only tcp and udp have ports"))
        }
        Some(r) => {
            let port = |x: &str| match x.parse::<u16>() {
                Ok(p) if number(x) => Ok(p),
                Ok(p) if x.starts_with('0') => {
                    Err(format!("{s:?}: {x:?} has a leading zero (write {p})"))
                }
                _ => Err(format!("{s:?}: {x:?} is not a port (0-65535)")),
            };
            let (lo, hi) = match r.split_once('-') {
                Some((a, b)) => (port(a)?, port(b)?),
                None => {
                    let p = port(r)?;
                    (p, p)
                }
            };
            if lo > hi {
                return Err(format!("{s:?}: the range is empty ({lo} > {hi})"));
            }
            Ok(ServiceSet::protocol_ports(proto, lo, hi))
        }
    }
}

/// A zone's `cidrs` item: a CIDR, or `vpc-…:CIDR`. Host bits are a mistake here, not rounded
/// away: AWS rounds `10.1.0.1/16` to `10.1.0.0/16` in a security group, but in an intent it is as
/// likely to mean the host `10.1.0.1/32`, and reading it as the /16 would widen the zone — and
/// what an allow rule admits — without a word. The Terraform AWS provider refuses such CIDRs for
/// the same reason.
fn parse_zone_cidr(v: &str) -> Result<(Option<VpcId>, IpNet), String> {
    let bad = |why: String| format!("{v:?} is not a CIDR (optionally vpc-…:CIDR): {why}");
    let (vpc, net) = match v.strip_prefix("vpc-").and(v.split_once(':')) {
        Some((vpc, net)) => {
            if !shape::is_aws_id(vpc, "vpc") {
                return Err(bad(format!(
                    "{vpc:?} is not a VPC id ({})",
                    shape::id_format("vpc")
                )));
            }
            (Some(VpcId::new(vpc)), net)
        }
        None => (None, v),
    };
    let n = shape::parse_cidr(net).map_err(bad)?;
    if n.trunc() != n {
        let host = IpNet::from(n.addr());
        return Err(format!(
            "{v:?} has host bits set: write {} for the network or {host} for the address",
            n.trunc()
        ));
    }
    Ok((vpc, n))
}

/// What is wrong with a zone's tag selector, if anything: AWS's limits are 128 characters for a
/// key and 256 for a value; no tag key is empty, and no tag holds control characters.
fn tag_mistake(key: &str, value: &str) -> Option<String> {
    let control = |s: &str| s.chars().any(char::is_control);
    if key.is_empty() {
        Some("a tag key is empty".into())
    } else if key.chars().count() > 128 || control(key) {
        Some(format!(
            "tag key {key:?} cannot be a tag key (at most 128 characters, no control characters)"
        ))
    } else if value.chars().count() > 256 || control(value) {
        Some(format!(
            "tag `{key}`: {value:?} cannot be a tag value (at most 256 characters, no control characters)"
        ))
    } else {
        None
    }
}

fn parse_layer(s: &str) -> Option<Layer> {
    match s {
        "network" => Some(Layer::Network),
        "full" => Some(Layer::Full),
        _ => None,
    }
}

/// Byte offset → 1-based (line, column) in characters.
fn position(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let col = before[before.rfind('\n').map(|i| i + 1).unwrap_or(0)..]
        .chars()
        .count()
        + 1;
    (line, col)
}

impl Intent {
    /// Reads and validates an intent file (at most the default `--max-file-size`).
    pub fn load(path: &Path) -> Result<Intent, IntentErrors> {
        Intent::load_limited(path, crate::input::DEFAULT_MAX_FILE_SIZE)
    }

    /// Reads and validates an intent file of at most `limit` bytes.
    pub fn load_limited(path: &Path, limit: u64) -> Result<Intent, IntentErrors> {
        let text = crate::input::read_named_to_string(path, limit).map_err(|e| {
            IntentErrors(vec![IntentError {
                file: path.to_path_buf(),
                line: 1,
                column: 1,
                message: e.to_string(),
            }])
        })?;
        Intent::parse(path, &text)
    }

    /// Parses and validates intent text; `path` names it in errors.
    pub fn parse(path: &Path, text: &str) -> Result<Intent, IntentErrors> {
        let err_at = |offset: usize, message: String| {
            let (line, column) = position(text, offset);
            IntentError {
                file: path.to_path_buf(),
                line,
                column,
                message,
            }
        };
        // A syntax error is the one mistake reported: nothing past it can be recovered.
        let doc = DeTable::parse(text).map_err(|e| {
            let offset = e.span().map(|s| s.start).unwrap_or(0);
            IntentErrors(vec![err_at(offset, e.message().trim().to_owned())])
        })?;
        let mut reader = Reader::default();
        let raw = reader.read(doc.get_ref());
        let mut errors: Vec<IntentError> = reader
            .errors
            .into_iter()
            .map(|(offset, message)| err_at(offset, message))
            .collect();
        let mut intent = Intent {
            file: path.to_path_buf(),
            audit_intra_vpc: raw.audit_intra_vpc.unwrap_or(false),
            ..Default::default()
        };
        if let Some(l) = &raw.layer {
            match parse_layer(l.get_ref()) {
                Some(layer) => intent.layer = Some(layer),
                None => errors.push(err_at(
                    l.span().start,
                    format!("layer {:?}: expected \"network\" or \"full\"", l.get_ref()),
                )),
            }
        }
        // In file order, so that "already named" points at the second name.
        let mut accounts: Vec<&(Str, Option<Str>)> = raw.accounts.iter().collect();
        accounts.sort_by_key(|(name, _)| name.span().start);
        let mut named: BTreeMap<&str, &str> = BTreeMap::new();
        for (name, id) in accounts {
            let (name, at) = (name.get_ref(), name.span().start);
            if !shape::is_name(name) {
                errors.push(err_at(
                    at,
                    format!(
                        "account name {name:?} is not a name ({})",
                        shape::NAME_FORMAT
                    ),
                ));
            } else if shape::is_account_id(name) {
                errors.push(err_at(
                    at,
                    format!("account name {name:?} is an account id: a zone's `accounts` could not tell the two apart; choose a name"),
                ));
            }
            if let Some(id) = id {
                let v = id.get_ref();
                if !shape::is_account_id(v) {
                    errors.push(err_at(
                        id.span().start,
                        format!("account {name}: {v:?} is not an account id (12 digits)"),
                    ));
                } else if let Some(first) = named.insert(v, name) {
                    // Two names for one account: which one a finding shows, and whether both
                    // zones mean the same account, would be a guess.
                    named.insert(v, first);
                    errors.push(err_at(
                        id.span().start,
                        format!("account {name}: {v} is already named {first}; give each account one name"),
                    ));
                }
            }
            if name == EXTERNAL {
                errors.push(err_at(
                    id.as_ref().map_or(at, |id| id.span().start),
                    format!("{EXTERNAL:?} is the built-in zone of unnamed accounts; choose another account name"),
                ));
            }
            // A name whose id was mistyped is still a name: no "unknown account" for its uses.
            let id = id.as_ref().map(|id| id.get_ref().as_str()).unwrap_or("");
            intent.accounts.insert(name.clone(), AccountId::new(id));
        }
        let account = |s: &Str, errors: &mut Vec<IntentError>| -> Option<AccountId> {
            let v = s.get_ref();
            if let Some(id) = intent.accounts.get(v) {
                Some(id.clone())
            } else if shape::is_account_id(v) {
                Some(AccountId::new(v))
            } else {
                errors.push(err_at(
                    s.span().start,
                    format!(
                        "unknown account {v:?}: name one from [accounts] or give a 12-digit id"
                    ),
                ));
                None
            }
        };
        let mut zones = BTreeMap::new();
        for z in &raw.zones {
            let name = &z.name;
            if name == EXTERNAL {
                errors.push(err_at(
                    z.span.start,
                    format!("zone {EXTERNAL:?} is built in; choose another name"),
                ));
                continue;
            }
            if !shape::is_name(name) {
                errors.push(err_at(
                    z.span.start,
                    format!("zone name {name:?} is not a name ({})", shape::NAME_FORMAT),
                ));
            }
            let mut zone = Zone {
                name: name.clone(),
                ..Default::default()
            };
            zone.accounts = z
                .accounts
                .iter()
                .filter_map(|a| account(a, &mut errors))
                .collect();
            for (list, prefix, what) in [(&z.vpcs, "vpc", "VPC"), (&z.subnets, "subnet", "subnet")]
            {
                for v in list {
                    if !shape::is_aws_id(v.get_ref(), prefix) {
                        errors.push(err_at(
                            v.span().start,
                            format!(
                                "{:?} is not a {what} id ({})",
                                v.get_ref(),
                                shape::id_format(prefix)
                            ),
                        ));
                    }
                }
            }
            zone.vpcs = z.vpcs.iter().map(|v| VpcId::new(v.get_ref())).collect();
            zone.subnets = z
                .subnets
                .iter()
                .map(|v| SubnetId::new(v.get_ref()))
                .collect();
            for e in &z.enis {
                let v = e.get_ref();
                if !(shape::is_aws_id(v, "eni") || shape::is_aws_id(v, "i")) {
                    errors.push(err_at(
                        e.span().start,
                        format!("{v:?} is not a network interface or instance id (eni- or i- and 8 or 17 lowercase hex digits)"),
                    ));
                }
                zone.enis.push(v.clone());
            }
            for c in &z.cidrs {
                match parse_zone_cidr(c.get_ref()) {
                    Ok(x) => zone.cidrs.push(x),
                    Err(m) => errors.push(err_at(c.span().start, m)),
                }
            }
            for (k, v) in &z.tags {
                if let Some(m) = tag_mistake(k, v.get_ref()) {
                    errors.push(err_at(v.span().start, format!("[zones.{name}]: {m}")));
                }
            }
            zone.tags = z
                .tags
                .iter()
                .map(|(k, v)| (k.clone(), v.get_ref().clone()))
                .collect();
            if !z.malformed
                && z.accounts.is_empty()
                && z.vpcs.is_empty()
                && z.subnets.is_empty()
                && z.enis.is_empty()
                && z.cidrs.is_empty()
                && z.tags.is_empty()
            {
                errors.push(err_at(z.span.start, format!("zone {name:?} selects nothing: give accounts, vpcs, subnets, enis, cidrs or tags")));
            }
            zones.insert(name.clone(), zone);
        }
        zones.insert(
            EXTERNAL.to_owned(),
            Zone {
                name: EXTERNAL.to_owned(),
                external: true,
                ..Default::default()
            },
        );
        intent.zones = zones;
        for (kind, raws) in [
            ("allow", &raw.allow),
            ("require", &raw.require),
            ("deny", &raw.deny),
        ] {
            let mut rules = Vec::new();
            for r in raws {
                let (line, _) = position(text, r.span.start);
                for z in [&r.from, &r.to].into_iter().flatten() {
                    if !intent.zones.contains_key(z.get_ref()) {
                        errors.push(err_at(
                            z.span().start,
                            format!(
                                "[[{kind}]]: unknown zone {:?} (zones: {})",
                                z.get_ref(),
                                intent.zones.keys().cloned().collect::<Vec<_>>().join(", ")
                            ),
                        ));
                    }
                }
                // Each spec is checked on its own and reported at its own position.
                let mut services = ServiceSet::new();
                for p in &r.ports {
                    match parse_ports(p.get_ref()) {
                        Ok(s) => services = services.union(&s),
                        Err(m) => {
                            errors.push(err_at(p.span().start, format!("[[{kind}]]: bad port {m}")))
                        }
                    }
                }
                let layer = match &r.layer {
                    Some(l) => match parse_layer(l.get_ref()) {
                        Some(x) => Some(x),
                        None => {
                            errors.push(err_at(
                                l.span().start,
                                format!(
                                    "layer {:?}: expected \"network\" or \"full\"",
                                    l.get_ref()
                                ),
                            ));
                            None
                        }
                    },
                    None => None,
                };
                let name =
                    |z: &Option<Str>| z.as_ref().map(|z| z.get_ref().clone()).unwrap_or_default();
                rules.push(Rule {
                    from: name(&r.from),
                    to: name(&r.to),
                    ports: r.ports.iter().map(|p| p.get_ref().clone()).collect(),
                    services,
                    layer,
                    why: r.why.clone(),
                    at: RuleAt {
                        file: path.to_path_buf(),
                        line,
                    },
                });
            }
            match kind {
                "allow" => intent.allow = rules,
                "require" => intent.require = rules,
                _ => intent.deny = rules,
            }
        }
        if errors.is_empty() {
            Ok(intent)
        } else {
            errors.sort_by_key(|e| (e.line, e.column));
            Err(IntentErrors(errors))
        }
    }

    /// Is an account named in the file (so not external)?
    pub fn is_known_account(&self, a: &AccountId) -> bool {
        self.accounts.values().any(|x| x == a)
    }

    /// Resolves every zone to the addresses it selects, per VPC.
    pub fn resolve(&self, model: &Model) -> BTreeMap<String, BTreeMap<VpcId, IpSet>> {
        self.resolve_within(model, None)
    }

    /// [`Intent::resolve`] for the VPCs in `within` only (every VPC when `None`): what an
    /// incremental audit needs.
    pub fn resolve_within(
        &self,
        model: &Model,
        within: Option<&BTreeSet<VpcId>>,
    ) -> BTreeMap<String, BTreeMap<VpcId, IpSet>> {
        let subnets: Vec<&Subnet> = match within {
            None => model.subnets.values().collect(),
            Some(w) => w
                .iter()
                .flat_map(|v| model.index().subnets_of(v))
                .filter_map(|s| model.subnets.get(s))
                .collect(),
        };
        let enis: Vec<&NetworkInterface> = match within {
            None => model.network_interfaces.values().collect(),
            Some(_) => subnets
                .iter()
                .flat_map(|s| model.index().enis_in(&s.id))
                .filter_map(|e| model.network_interfaces.get(e))
                .collect(),
        };
        self.zones
            .iter()
            .map(|(n, z)| {
                let mut m = self.zone_addresses(model, z, &subnets, &enis);
                if let Some(w) = within {
                    m.retain(|v, _| w.contains(v));
                }
                (n.clone(), m)
            })
            .collect()
    }

    fn zone_addresses(
        &self,
        model: &Model,
        z: &Zone,
        subnets_: &[&Subnet],
        enis: &[&NetworkInterface],
    ) -> BTreeMap<VpcId, IpSet> {
        let mut out: BTreeMap<VpcId, IpSet> = BTreeMap::new();
        let mut add = |vpc: &VpcId, set: IpSet| {
            if set.is_empty() {
                return;
            }
            let e = out.entry(vpc.clone()).or_default();
            *e = e.union(&set);
        };
        let subnet_set = |s: &Subnet| IpSet::from_nets(s.cidrs.iter().copied());
        let accounts: BTreeSet<&AccountId> = z.accounts.iter().collect();
        let vpcs: BTreeSet<&VpcId> = z.vpcs.iter().collect();
        let subnets: BTreeSet<&SubnetId> = z.subnets.iter().collect();
        let tag_match =
            |tags: &Tags| !z.tags.is_empty() && z.tags.iter().all(|(k, v)| tags.get(k) == Some(v));
        for s in subnets_ {
            let vpc = model.vpcs.get(&s.vpc);
            let vpc_account = vpc.map(|v| &v.account).unwrap_or(&s.account);
            let selected = accounts.contains(vpc_account)
                || vpcs.contains(&s.vpc)
                || subnets.contains(&s.id)
                || tag_match(&s.tags)
                || vpc.is_some_and(|v| tag_match(&v.tags))
                || (z.external && !self.is_known_account(vpc_account));
            if selected {
                add(&s.vpc, subnet_set(s));
            }
            for (vpc, net) in &z.cidrs {
                if vpc.as_ref().is_none_or(|v| v == &s.vpc) {
                    add(&s.vpc, subnet_set(s).intersection(&IpSet::from_net(*net)));
                }
            }
        }
        // Unseen VPCs (semantics step 21): by account, VPC id or CIDR, never by tags; the
        // `external` zone holds those of accounts the file does not name (an unknown owner
        // counts as external).
        for u in model.unseen_vpcs().values() {
            let set = IpSet::from_nets(u.cidrs.iter().copied());
            let selected = u.account.as_ref().is_some_and(|a| accounts.contains(a))
                || vpcs.contains(&u.id)
                || (z.external && u.account.as_ref().is_none_or(|a| !self.is_known_account(a)));
            if selected {
                add(&u.id, set.clone());
            }
            for (vpc, net) in &z.cidrs {
                if vpc.as_ref().is_none_or(|v| v == &u.id) {
                    add(&u.id, set.intersection(&IpSet::from_net(*net)));
                }
            }
        }
        for e in &z.enis {
            if let Some(eni) = model.resolve_eni(e) {
                add(
                    &eni.vpc,
                    IpSet::from_nets(eni.addresses.iter().map(|a| IpNet::from(*a))),
                );
            }
        }
        for eni in enis {
            if tag_match(&eni.tags) {
                add(
                    &eni.vpc,
                    IpSet::from_nets(eni.addresses.iter().map(|a| IpNet::from(*a))),
                );
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Intent, IntentErrors> {
        Intent::parse(Path::new("intent.toml"), text)
    }

    #[test]
    fn port_specs() {
        assert!(parse_ports("tcp:443").unwrap().contains(6, Some(443)));
        assert!(!parse_ports("tcp:443").unwrap().contains(6, Some(444)));
        assert!(
            parse_ports("tcp:1024-65535")
                .unwrap()
                .contains(6, Some(1024))
        );
        assert!(parse_ports("udp:53").unwrap().contains(17, Some(53)));
        assert!(parse_ports("icmp").unwrap().contains(1, None));
        assert!(parse_ports("any").unwrap().is_full());
        assert!(parse_ports("50").unwrap().contains(50, None));
        for bad in ["tcp:", "tcp:70000", "tcp:9-1", "icmp:8", "bogus", "tcp:x"] {
            assert!(parse_ports(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn every_mistake_is_reported_with_its_position() {
        let text = "[accounts]\nprod = \"222222222222\"\n\n[zones.app]\naccounts = [\"prod\", \"nobody\"]\n\n[zones.empty]\n\n[[allow]]\nfrom = \"app\"\nto = \"nowhere\"\nports = \"tcp:99999\"\n";
        let errs = parse(text).unwrap_err().0;
        let msgs: Vec<String> = errs
            .iter()
            .map(|e| format!("{}:{} {}", e.line, e.column, e.message))
            .collect();
        assert_eq!(errs.len(), 4, "{msgs:#?}");
        assert!(
            msgs[0].starts_with("5:21 unknown account \"nobody\""),
            "{msgs:#?}"
        );
        assert!(
            msgs[1].contains("zone \"empty\" selects nothing"),
            "{msgs:#?}"
        );
        assert!(
            msgs[2].starts_with("11:6 [[allow]]: unknown zone \"nowhere\""),
            "{msgs:#?}"
        );
        assert!(
            msgs[3].contains("bad port") && msgs[3].starts_with("12:9"),
            "{msgs:#?}"
        );
    }

    /// `line:column message` of every error, in order.
    fn errors(text: &str) -> Vec<String> {
        parse(text)
            .unwrap_err()
            .0
            .iter()
            .map(|e| format!("{}:{} {}", e.line, e.column, e.message))
            .collect()
    }

    #[test]
    fn structural_mistakes_are_all_reported_each_at_its_own_position() {
        let text = r#"zone = "typo"

[zones.app]
vpcs = ["vpc-1a2b3c4d"]
subnet = ["subnet-1"]

[zones.db]
vpcs = "vpc-2"

[[allow]]
from = "app"
to = "db"
ports = 443

[[allow]]
from = "app"
ports = ["tcp:5432", "tcp:70000", "udp:9-1"]

[[deny]]
from = "app"
to = "dbs"
ports = ["tcp:22", 22]
why = "no ssh"
"#;
        assert_eq!(
            errors(text),
            [
                "1:1 unknown key `zone`; expected one of `options`, `accounts`, `zones`, `allow`, `require`, `deny`",
                "5:1 [zones.app]: unknown key `subnet`; expected one of `accounts`, `vpcs`, `subnets`, `enis`, `cidrs`, `tags`",
                // A wrong-typed selector is not also "selects nothing".
                "8:8 [zones.db]: `vpcs` must be a list of strings, not a string",
                "13:9 [[allow]]: `ports` must be a port spec or a list of them (\"tcp:443\", [\"tcp:443\", \"udp:53\"]), not an integer",
                "15:1 [[allow]]: missing `to` (a zone name)",
                // Each bad port of a list at its own item.
                "17:22 [[allow]]: bad port \"tcp:70000\": \"70000\" is not a port (0-65535)",
                "17:35 [[allow]]: bad port \"udp:9-1\": the range is empty (9 > 1)",
                "21:6 [[deny]]: unknown zone \"dbs\" (zones: app, db, external)",
                "22:20 [[deny]]: `ports` items must be strings, not an integer",
            ]
        );
    }

    #[test]
    fn wrong_types_anywhere_are_reported_and_reading_goes_on() {
        let text = r#"[options]
audit_intra_vpc = "yes"
layer = 2
colour = true

[accounts]
prod = 111111111111

[zones]
x = 1
y = { tags = { Env = 1 }, accounts = ["prod"] }

[allow]
from = "x"

[[require]]
to = "y"
ports = []
why = 3
"#;
        assert_eq!(
            errors(text),
            [
                "2:19 [options]: `audit_intra_vpc` must be true or false, not a string",
                "3:9 [options]: `layer` must be \"network\" or \"full\", not an integer",
                "4:1 [options]: unknown key `colour`; expected one of `audit_intra_vpc`, `layer`",
                "7:8 [accounts]: `prod` must be an account id in quotes (\"111111111111\"), not an integer",
                "10:5 zone `x` must be a table ([zones.x]), not an integer",
                "11:22 [zones.y]: tag `Env` must be a string, not an integer",
                "13:1 `allow` must be a list of tables ([[allow]]), not a table",
                "16:1 [[require]]: missing `from` (a zone name)",
                "18:9 [[require]]: ports is empty",
                "19:7 [[require]]: `why` must be a string, not an integer",
            ]
        );
    }

    #[test]
    fn inline_rules_are_read_like_headed_ones() {
        let i = parse(
            "[zones.a]\nvpcs = [\"vpc-1a2b3c4d\"]\n[zones.b]\ntags = { Env = \"prod\" }\nallow = [\n  { from = \"a\", to = \"b\", ports = \"tcp:443\" },\n]\n",
        );
        // `allow = [...]` after [zones.b] belongs to that table: a zone key mistake.
        assert_eq!(
            i.unwrap_err()
                .0
                .iter()
                .map(|e| (e.line, e.column))
                .collect::<Vec<_>>(),
            [(5, 1)]
        );
        let i = parse("allow = [\n  { from = \"a\", to = \"external\", ports = [\"tcp:443\"] },\n]\n[zones.a]\nvpcs = [\"vpc-1a2b3c4d\"]\n").unwrap();
        assert_eq!(i.allow[0].at.to_string(), "intent.toml:2");
        assert!(i.allow[0].services.contains(6, Some(443)));
    }

    #[test]
    fn syntax_errors_have_positions() {
        let errs = parse("[zones.a\nvpcs = 1").unwrap_err().0;
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].line, 1);
    }

    #[test]
    fn a_valid_file() {
        let i = parse("[options]\nlayer = \"network\"\n[accounts]\nhub = \"111111111111\"\n[zones.hub]\naccounts = [\"hub\"]\ncidrs = [\"vpc-1a2b3c4d:10.0.0.0/16\", \"10.9.0.0/16\", \"2001:db8::/56\"]\n[[require]]\nfrom = \"external\"\nto = \"hub\"\nports = [\"tcp:443\", \"icmp\"]\nwhy = \"x\"\n").unwrap();
        assert_eq!(i.layer, Some(Layer::Network));
        assert_eq!(i.zones["hub"].cidrs.len(), 3);
        assert!(i.zones[EXTERNAL].external);
        assert!(i.require[0].services.contains(1, None));
        assert_eq!(i.require[0].at.to_string(), "intent.toml:8");
    }
}
