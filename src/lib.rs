//! btvm: a full-system x86 PC emulator.
//!
//! Layers (arrows point down): this crate owns CPU semantics, the MMU,
//! machine wiring, firmware, loaders and engines; `btvm-devices` holds the
//! PC's device models as pure state machines; `btvm-jit` holds host code
//! generation and the register-file/TLB ABI both engines share.
//!
//! Code map: see ARCHITECTURE.md at the repository root.
#![deny(unsafe_code)]

pub mod bench;
pub mod bios;
pub mod console;
pub mod cpu;
pub mod disk;
pub mod display;
pub mod engine;
pub mod error;
pub mod fpu;
pub mod fuzz;
pub mod guest;
pub mod interp;
pub mod jit;
pub mod keyboard;
pub mod loader;
pub mod machine;
pub mod memory;
pub mod platform;
pub mod sst;

pub use error::Error;
