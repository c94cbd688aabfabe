//! Diagnostics: what was wrong with the input, where, and how bad.
//!
//! Loading never stops at the first problem. Every problem becomes a [`Diagnostic`] naming the
//! file, the object id (or its position in the file) and what is wrong; the run goes on with
//! everything that is valid. `--strict` turns any error into a failure at the CLI edge.

use std::fmt;
use std::path::PathBuf;

use serde::Serialize;

use crate::ids::VpcId;

/// How bad a diagnostic is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Something was ignored that may matter to a user but is not wrong.
    Info,
    /// The answer may be incomplete (missing data, unknown keys, unmodelled objects).
    Warning,
    /// Input that is wrong: an object could not be used, or a reference dangles.
    Error,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        })
    }
}

/// A stable, kebab-case name for each kind of diagnostic (snapshot-tested, so renames show in
/// review).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Code {
    /// The file is not valid JSON.
    MalformedJson,
    /// The file is JSON but not an object of describe-* responses.
    NotAResponse,
    /// A top-level key peerscope does not know.
    UnknownKey,
    /// A known AWS resource kind that reachability does not model (internet gateways, …).
    NotModelled,
    /// An object lacks a field it needs.
    MissingField,
    /// A field has a value that is not valid (a CIDR, a protocol, a port, a type mismatch).
    InvalidValue,
    /// An object names another object that is not in the snapshot.
    DanglingReference,
    /// The same id appears twice with different content; the first is kept.
    ConflictingDuplicate,
    /// A subnet's traffic is not filtered by any NACL because no NACL data covers it.
    NaclDataMissing,
    /// A subnet is not associated with any route table and its VPC has no main table.
    NoRouteTable,
    /// The account or region of an object could not be determined.
    UnknownLocation,
    /// The snapshot's manifest says some account-region could not be collected.
    PartialSnapshot,
    /// A file could not be read.
    Io,
    /// Data that cannot be true of a real account: a route table associated with a subnet of
    /// another VPC, a subnet outside its VPC's CIDRs, overlapping subnets, an interface
    /// address outside its subnet. Names both objects; counts as damage (docs/failure-policy.md).
    ImpossibleData,
    /// A VPC is known only from peering records (semantics step 21): its side is judged by
    /// the worst case. Info for an external account (the normal case), a warning for an
    /// account the snapshot covers (its VPC was not collected).
    UnseenVpc,
}

impl Code {
    /// The kebab-case name, as in JSON output.
    pub fn as_str(self) -> &'static str {
        match self {
            Code::MalformedJson => "malformed-json",
            Code::NotAResponse => "not-a-response",
            Code::UnknownKey => "unknown-key",
            Code::NotModelled => "not-modelled",
            Code::MissingField => "missing-field",
            Code::InvalidValue => "invalid-value",
            Code::DanglingReference => "dangling-reference",
            Code::ConflictingDuplicate => "conflicting-duplicate",
            Code::NaclDataMissing => "nacl-data-missing",
            Code::NoRouteTable => "no-route-table",
            Code::UnknownLocation => "unknown-location",
            Code::PartialSnapshot => "partial-snapshot",
            Code::Io => "io",
            Code::ImpossibleData => "impossible-data",
            Code::UnseenVpc => "unseen-vpc",
        }
    }

    /// Every code, for documentation and the snapshot test of the list.
    pub const ALL: [Code; 15] = [
        Code::MalformedJson,
        Code::NotAResponse,
        Code::UnknownKey,
        Code::NotModelled,
        Code::MissingField,
        Code::InvalidValue,
        Code::DanglingReference,
        Code::ConflictingDuplicate,
        Code::NaclDataMissing,
        Code::NoRouteTable,
        Code::UnknownLocation,
        Code::PartialSnapshot,
        Code::Io,
        Code::ImpossibleData,
        Code::UnseenVpc,
    ];
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One problem with the input.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Diagnostic {
    pub severity: Severity,
    pub code: Code,
    /// The file, relative to the snapshot root where possible.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<PathBuf>,
    /// 1-based line and column, for JSON syntax and type errors.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<usize>,
    /// The object's id, or its position (`Subnets[3]`) when it has no usable id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object: Option<String>,
    pub message: String,
    /// For damage to an object that was dropped: the VPCs its record named, so that the
    /// answers it could change are marked (`snapshot::damage`). Not part of the output.
    #[serde(skip)]
    pub scope: Vec<VpcId>,
}

impl Diagnostic {
    pub fn new(severity: Severity, code: Code, message: impl Into<String>) -> Self {
        Diagnostic {
            severity,
            code,
            file: None,
            line: None,
            column: None,
            object: None,
            message: message.into(),
            scope: Vec::new(),
        }
    }

    pub fn error(code: Code, message: impl Into<String>) -> Self {
        Self::new(Severity::Error, code, message)
    }

    pub fn warning(code: Code, message: impl Into<String>) -> Self {
        Self::new(Severity::Warning, code, message)
    }

    pub fn info(code: Code, message: impl Into<String>) -> Self {
        Self::new(Severity::Info, code, message)
    }

    pub fn in_file(mut self, file: impl Into<PathBuf>) -> Self {
        self.file = Some(file.into());
        self
    }

    pub fn at(mut self, line: usize, column: usize) -> Self {
        self.line = Some(line);
        self.column = Some(column);
        self
    }

    pub fn object(mut self, object: impl Into<String>) -> Self {
        self.object = Some(object.into());
        self
    }

    /// Names the VPCs a dropped object's record named (see [`Diagnostic::scope`]).
    pub fn scope(mut self, vpcs: Vec<VpcId>) -> Self {
        self.scope = vpcs;
        self
    }

    /// Is this damage: an object (or part of one) that could not be read, a file that could not
    /// be read or parsed, or impossible data? Answers that depend on damage are refused or
    /// marked undetermined, never given as if the input were whole (docs/failure-policy.md).
    pub fn is_damage(&self) -> bool {
        self.severity == Severity::Error
            && matches!(
                self.code,
                Code::MalformedJson
                    | Code::MissingField
                    | Code::InvalidValue
                    | Code::Io
                    | Code::ImpossibleData
                    // Error-level only for a folder left midway while a snapshot was replaced
                    // (its manifest says `complete: false`): old and new accounts mixed.
                    | Code::PartialSnapshot
                    // Error level: two objects claim what only one can have (two route tables
                    // or ACLs associated with one subnet); which AWS uses is unknown.
                    | Code::ConflictingDuplicate
            )
    }
}

/// One line for people: the file name, object and message, which quote the snapshot, through
/// [`crate::escape::terminal`] (the JSON output keeps them exact).
impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use crate::escape::terminal;
        write!(f, "{}[{}]", self.severity, self.code)?;
        if let Some(file) = &self.file {
            write!(f, " {}", terminal(&file.display().to_string()))?;
            if let (Some(l), Some(c)) = (self.line, self.column) {
                write!(f, ":{l}:{c}")?;
            }
        }
        if let Some(object) = &self.object {
            write!(f, " {}", terminal(object))?;
        }
        write!(f, ": {}", terminal(&self.message))
    }
}

/// Counts per severity.
pub fn count(diags: &[Diagnostic], severity: Severity) -> usize {
    diags.iter().filter(|d| d.severity == severity).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_names_are_stable() {
        let names: Vec<&str> = Code::ALL.iter().map(|c| c.as_str()).collect();
        for (c, n) in Code::ALL.iter().zip(&names) {
            assert_eq!(serde_json::to_value(c).unwrap(), serde_json::json!(n));
        }
        insta::assert_snapshot!(names.join("\n"));
    }

    #[test]
    fn display_names_file_position_and_object() {
        let d = Diagnostic::error(Code::InvalidValue, "bad CIDR \"10.0.0/8\"")
            .in_file("111111111111/us-east-1/describe-vpcs.json")
            .at(3, 7)
            .object("vpc-1");
        assert_eq!(
            d.to_string(),
            "error[invalid-value] 111111111111/us-east-1/describe-vpcs.json:3:7 vpc-1: bad CIDR \"10.0.0/8\""
        );
    }
}
