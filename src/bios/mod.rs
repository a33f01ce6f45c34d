//! Built-in firmware images, assembled from NASM sources by build.rs.

/// The demo ROM (src/bios/demo.asm): prints a banner, sieves primes, prints
/// the CPUID vendor and exits through the debug-exit port with value 0.
pub static DEMO_ROM: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/demo.bin"));
