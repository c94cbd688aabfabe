//! The integration tests: one binary (ripgrep style), one module per area.

#[macro_use]
mod util;

mod audit;
mod bounded;
mod cli_check;
#[cfg(feature = "aws")]
mod collect;
#[cfg(feature = "aws")]
mod collect_faults;
mod damage;
mod diff;
mod engine_fixture;
mod engine_props;
mod engine_real;
mod engine_rules;
mod engine_unseen;
mod escaped;
mod external;
mod fuzz;
mod r#gen;
mod graph;
mod intent;
mod loader;
mod output;
mod sets_props;
mod topologies;
