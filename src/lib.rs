//! peerscope: who can reach what across AWS VPC peerings, and is that more than you meant?
//!
//! This crate is the command line ([`cli`]) over the analysis in `peerscope-core`, whose
//! modules it re-exports under their own names (`peerscope::audit`, `peerscope::engine`, …),
//! and, with the `aws` feature, the collector in `peerscope-collect` ([`collect`]).

pub use peerscope_core::*;

pub mod cli;

/// Live collection (`peerscope snapshot`), built with the `aws` feature.
#[cfg(feature = "aws")]
pub use peerscope_collect as collect;
