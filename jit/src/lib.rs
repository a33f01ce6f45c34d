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
//! The translator turns a guest basic block into host x86-64 ([`translate`]):
//! common integer instructions inline, everything else as a call to the
//! interpreter through a helper the engine provides ([`helpers`]). Blocks
//! live in a W^X [`code`] buffer and a [`cache`] keyed by EIP, CS base and
//! [`mode`] key; [`runtime::Jit`] ties them together.
//!
//! Code map:
//! - `abi.rs`       register file, segment cache, TLB layout (offsets asserted)
//! - `flags.rs`     lazy-flag encoding and materialisation (EFLAGS bits)
//! - `mode.rs`      the mode key: CPU state a block's code depends on
//! - `helpers.rs`   helper table and call-site records
//! - `code.rs`      W^X code buffer
//! - `emit.rs`      host-code emitter: TLB fast paths, flags, exits
//! - `plan.rs`      guest instruction -> plan (inline or interpreter fallback)
//! - `lower.rs`     plan -> host code
//! - `translate.rs` block decoding, flag liveness, emission
//! - `cache.rs`     block cache with per-page invalidation
//! - `entry.rs`     prelude and the jump into generated code (unsafe)
//! - `runtime.rs`   the JIT object the engine drives
#![deny(unsafe_code)]
#![warn(missing_docs)]

pub mod abi;
pub mod cache;
pub mod code;
pub mod emit;
pub mod entry;
pub mod flags;
pub mod helpers;
pub mod lower;
pub mod mode;
pub mod plan;
pub mod runtime;
pub mod translate;
