//! Boot payload loaders: what puts a guest into memory and the CPU into
//! the state that guest expects (a ROM at the reset vector is the
//! machine's business; these are the "firmware already ran" paths).
//!
//! - `bzimage.rs`: the Linux x86 32-bit boot protocol.

pub mod bzimage;
