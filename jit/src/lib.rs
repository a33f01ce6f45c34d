//! btvm-jit: host code generation for btvm, and the ABI it shares with the
//! interpreter.
//!
//! The crate knows guest state only through [`abi`]: a `#[repr(C)]` register
//! file ([`abi::RegFile`]) and a software TLB ([`abi::Tlb`]) with separate
//! read, write and execute views. The interpreter in the `btvm` crate reads and
//! writes the very same structures, so handing a CPU between engines costs
//! nothing and differential tests compare one struct. Lazy arithmetic flags
//! ([`flags`]) are encoded and materialised in one place used by both engines.
//!
//! Code map:
//! - `abi.rs`   register file, segment cache, TLB layout (offsets asserted)
//! - `flags.rs` lazy-flag encoding and materialisation (EFLAGS bits)
#![deny(unsafe_code)]
#![warn(missing_docs)]

pub mod abi;
pub mod flags;
