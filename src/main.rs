//! The btvm command line.
fn main() {}
