//! The `peerscope` binary: argument parsing and wiring only.
fn main() {}
