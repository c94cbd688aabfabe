//! peerscope's analysis: who can reach what across AWS VPC peerings, and is that more than you
//! meant? Everything but live collection, and no AWS SDK: the CLI (`peerscope`) and the
//! collector (`peerscope-collect`) are built on it.
//!
//! # Organization
//! The crate is a pipeline that reads top to bottom:
//! - [`snapshot`]: a folder of raw EC2 describe-* JSON → the validated [`model`], with
//!   [`diagnostics`] for everything that could not be used;
//! - [`sets`]: address × protocol × port set algebra;
//! - [`engine`]: reachability per the contract in `docs/semantics.md`;
//! - [`analysis`]: one analysis of a model (layer, scope, reach computed once) that the audit,
//!   the map and the diff ask;
//! - [`report`]: what the CLI prints (tables, JSON).
//! - [`graph`]: pictures of the peerings coloured by the audit (HTML, DOT, Mermaid).
//! - [`gen`](mod@r#gen): synthetic organisations for benchmarks (`peerscope gen`).
//! - [`escape`]: untrusted text made safe for terminals and Markdown.
//! - [`aws`]: account ids, region names and defaults shared with the collector.
//!
//! - [`output`]: everything peerscope writes: files replaced atomically, only ever regular
//!   ones, and snapshot folders that never replace what peerscope did not write.
//!
//! Core modules do no I/O except [`snapshot`], which reads files, and the generator, which
//! writes them (through [`output`]).

pub mod analysis;
pub mod audit;
pub mod aws;
pub mod change;
pub mod diagnostics;
pub mod diff;
pub mod engine;
pub mod escape;
pub mod r#gen;
pub mod graph;
pub mod ids;
pub mod input;
pub mod intent;
pub mod model;
pub mod output;
pub mod report;
pub mod sets;
pub mod shape;
pub mod snapshot;
