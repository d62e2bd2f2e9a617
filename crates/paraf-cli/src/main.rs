//! `paraf`: the command line.
fn main() {}
