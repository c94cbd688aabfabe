//! The intent file: what each peering is for. Named accounts, zones of endpoints, and the
//! `allow`, `require` and `deny` rules the audit holds the snapshot against.
//!
//! Parsing keeps every value's position, so each mistake (an unknown zone or account name, bad
//! port syntax, an empty selector) is reported as `file:line:column: what is wrong` — all of
//! them, not just the first. Resolving zones against a model ([`Intent::resolve`]) does no I/O.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};

use ipnet::IpNet;
use serde::Deserialize;
use toml::Spanned;

use crate::engine::Layer;
use crate::model::*;
use crate::sets::{IpSet, ServiceSet};

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

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIntent {
    #[serde(default)]
    options: RawOptions,
    #[serde(default)]
    accounts: BTreeMap<String, Spanned<String>>,
    #[serde(default)]
    zones: BTreeMap<String, Spanned<RawZone>>,
    #[serde(default)]
    allow: Vec<Spanned<RawRule>>,
    #[serde(default)]
    require: Vec<Spanned<RawRule>>,
    #[serde(default)]
    deny: Vec<Spanned<RawRule>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOptions {
    audit_intra_vpc: Option<bool>,
    layer: Option<Spanned<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawZone {
    #[serde(default)]
    accounts: Vec<Spanned<String>>,
    #[serde(default)]
    vpcs: Vec<Spanned<String>>,
    #[serde(default)]
    subnets: Vec<Spanned<String>>,
    #[serde(default)]
    enis: Vec<Spanned<String>>,
    #[serde(default)]
    cidrs: Vec<Spanned<String>>,
    #[serde(default)]
    tags: BTreeMap<String, Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    from: Spanned<String>,
    to: Spanned<String>,
    ports: Spanned<PortsField>,
    layer: Option<Spanned<String>>,
    why: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum PortsField {
    One(String),
    Many(Vec<String>),
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
    /// `file:line` of the rule, for reports.
    pub at: String,
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
/// protocol number (`50`), or `tcp` (every tcp port).
pub fn parse_ports(s: &str) -> Result<ServiceSet, String> {
    let s = s.trim();
    if s.eq_ignore_ascii_case("any") || s == "-1" || s.eq_ignore_ascii_case("all") {
        return Ok(ServiceSet::all());
    }
    let (proto, ports) = match s.split_once(':') {
        Some((p, r)) => (p, Some(r)),
        None => (s, None),
    };
    let proto = match Protocol::parse(proto) {
        Some(Protocol::Number(n)) => n,
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
            let port = |x: &str| {
                x.trim()
                    .parse::<u16>()
                    .map_err(|_| format!("{s:?}: {x:?} is not a port (0-65535)"))
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
    /// Reads and validates an intent file.
    pub fn load(path: &Path) -> Result<Intent, IntentErrors> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            IntentErrors(vec![IntentError {
                file: path.to_path_buf(),
                line: 1,
                column: 1,
                message: format!("cannot read: {e}"),
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
        let raw: RawIntent = toml::from_str(text).map_err(|e| {
            let offset = e.span().map(|s| s.start).unwrap_or(0);
            IntentErrors(vec![err_at(offset, e.message().trim().to_owned())])
        })?;
        let mut errors = Vec::new();
        let mut intent = Intent {
            file: path.to_path_buf(),
            audit_intra_vpc: raw.options.audit_intra_vpc.unwrap_or(false),
            ..Default::default()
        };
        if let Some(l) = &raw.options.layer {
            match parse_layer(l.get_ref()) {
                Some(layer) => intent.layer = Some(layer),
                None => errors.push(err_at(
                    l.span().start,
                    format!("layer {:?}: expected \"network\" or \"full\"", l.get_ref()),
                )),
            }
        }
        for (name, id) in &raw.accounts {
            let v = id.get_ref();
            if v.is_empty() || !v.chars().all(|c| c.is_ascii_digit()) {
                errors.push(err_at(
                    id.span().start,
                    format!("account {name}: {v:?} is not an account id (12 digits)"),
                ));
            }
            if name == EXTERNAL {
                errors.push(err_at(id.span().start, format!("{EXTERNAL:?} is the built-in zone of unnamed accounts; choose another account name")));
            }
            intent.accounts.insert(name.clone(), AccountId::new(v));
        }
        let account = |s: &Spanned<String>, errors: &mut Vec<IntentError>| -> Option<AccountId> {
            let v = s.get_ref();
            if let Some(id) = intent.accounts.get(v) {
                Some(id.clone())
            } else if v.len() == 12 && v.chars().all(|c| c.is_ascii_digit()) {
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
        for (name, z) in &raw.zones {
            let span = z.span();
            let z = z.get_ref();
            if name == EXTERNAL {
                errors.push(err_at(
                    span.start,
                    format!("zone {EXTERNAL:?} is built in; choose another name"),
                ));
                continue;
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
            for (list, prefix, what) in
                [(&z.vpcs, "vpc-", "VPC"), (&z.subnets, "subnet-", "subnet")]
            {
                for v in list {
                    if !v.get_ref().starts_with(prefix) {
                        errors.push(err_at(
                            v.span().start,
                            format!("{:?} is not a {what} id ({prefix}…)", v.get_ref()),
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
                if !(v.starts_with("eni-") || v.starts_with("i-")) {
                    errors.push(err_at(
                        e.span().start,
                        format!("{v:?} is not a network interface or instance id (eni-… or i-…)"),
                    ));
                }
                zone.enis.push(v.clone());
            }
            for c in &z.cidrs {
                let v = c.get_ref();
                let (vpc, net) = match v.split_once(':').filter(|(a, _)| a.starts_with("vpc-")) {
                    Some((vpc, net)) => (Some(VpcId::new(vpc)), net),
                    None => (None, v.as_str()),
                };
                match net.trim().parse::<IpNet>() {
                    Ok(n) => zone.cidrs.push((vpc, n.trunc())),
                    Err(_) => errors.push(err_at(
                        c.span().start,
                        format!("{v:?} is not a CIDR (optionally vpc-…:CIDR)"),
                    )),
                }
            }
            zone.tags = z
                .tags
                .iter()
                .map(|(k, v)| (k.clone(), v.get_ref().clone()))
                .collect();
            if zone.accounts.is_empty()
                && z.accounts.is_empty()
                && zone.vpcs.is_empty()
                && zone.subnets.is_empty()
                && zone.enis.is_empty()
                && z.cidrs.is_empty()
                && zone.tags.is_empty()
            {
                errors.push(err_at(span.start, format!("zone {name:?} selects nothing: give accounts, vpcs, subnets, enis, cidrs or tags")));
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
                let (line, _) = position(text, r.span().start);
                let r = r.get_ref();
                for z in [&r.from, &r.to] {
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
                let specs = match r.ports.get_ref() {
                    PortsField::One(s) => vec![s.clone()],
                    PortsField::Many(v) => v.clone(),
                };
                if specs.is_empty() {
                    errors.push(err_at(
                        r.ports.span().start,
                        format!("[[{kind}]]: ports is empty"),
                    ));
                }
                let mut services = ServiceSet::new();
                for p in &specs {
                    match parse_ports(p) {
                        Ok(s) => services = services.union(&s),
                        Err(m) => errors.push(err_at(
                            r.ports.span().start,
                            format!("[[{kind}]]: bad port {m}"),
                        )),
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
                rules.push(Rule {
                    from: r.from.get_ref().clone(),
                    to: r.to.get_ref().clone(),
                    ports: specs,
                    services,
                    layer,
                    why: r.why.clone(),
                    at: format!("{}:{line}", path.display()),
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
        self.zones
            .iter()
            .map(|(n, z)| (n.clone(), self.zone_addresses(model, z)))
            .collect()
    }

    fn zone_addresses(&self, model: &Model, z: &Zone) -> BTreeMap<VpcId, IpSet> {
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
        for s in model.subnets.values() {
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
        for e in &z.enis {
            if let Some(eni) = model.resolve_eni(e) {
                add(
                    &eni.vpc,
                    IpSet::from_nets(eni.addresses.iter().map(|a| IpNet::from(*a))),
                );
            }
        }
        for eni in model.network_interfaces.values() {
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

    #[test]
    fn syntax_errors_have_positions() {
        let errs = parse("[zones.a\nvpcs = 1").unwrap_err().0;
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].line, 1);
    }

    #[test]
    fn a_valid_file() {
        let i = parse("[options]\nlayer = \"network\"\n[accounts]\nhub = \"111111111111\"\n[zones.hub]\naccounts = [\"hub\"]\ncidrs = [\"vpc-1:10.0.0.0/16\", \"10.9.0.0/16\"]\n[[require]]\nfrom = \"external\"\nto = \"hub\"\nports = [\"tcp:443\", \"icmp\"]\nwhy = \"x\"\n").unwrap();
        assert_eq!(i.layer, Some(Layer::Network));
        assert_eq!(i.zones["hub"].cidrs.len(), 2);
        assert!(i.zones[EXTERNAL].external);
        assert!(i.require[0].services.contains(1, None));
        assert_eq!(i.require[0].at, "intent.toml:8");
    }
}
