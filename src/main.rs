//! The `handler` binary.

fn main() {}
