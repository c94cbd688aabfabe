//! The integration tests: one binary (ripgrep style), one module per area.

mod util;

mod cli_check;
mod external;
mod fuzz;
mod r#gen;
mod loader;
mod sets_props;
mod topologies;
