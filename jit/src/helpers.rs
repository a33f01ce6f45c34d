//! What generated code calls back into: the helper table the engine
//! provides, and the per-call-site records (`Site`, `ExitSlot`) that tell a
//! helper which guest instruction it is serving.
//!
//! Every helper takes the engine's opaque context pointer first (pinned in
//! a host register while guest code runs). A helper that delivers an
//! exception or stops the CPU leaves the guest state exact (EIP, ESP,
//! EFLAGS and the instruction count of the faulting instruction) and tells
//! the block to return to the run loop.

use iced_x86::Instruction;

/// A helper's verdict: carry on with the block.
pub const CONTINUE: u64 = 0;
/// A helper's verdict: return to the run loop now (state already exact).
pub const EXIT: u64 = 1;
/// For [`Helpers::load`]: bit set in the 64-bit result to exit the block;
/// otherwise the low 32 bits are the value.
pub const LOAD_EXIT_BIT: u64 = 1 << 32;

/// One guest instruction's call site in a block.
#[repr(C)]
#[derive(Clone, Debug)]
pub struct Site {
    /// Guest EIP of the instruction.
    pub eip: u32,
    /// EIP of the next instruction (16-bit wrap applied).
    pub next_eip: u32,
    /// Instructions after this one in the block (the block adds its whole
    /// length to the instruction count on entry; helpers subtract this to
    /// see the exact count).
    pub rem: u32,
    /// Mode key the block was translated for.
    pub mode: u32,
    /// Memory sites: segment register of the access.
    pub seg: u8,
    /// Memory sites: access size in bytes.
    pub size: u8,
    /// Memory load sites: the read of a read-modify-write, checked with
    /// write intent (the CPU reports W=1 if it faults, and a read-only page
    /// faults at the read).
    pub rmw: bool,
    /// Fallback sites: the interpreter's handler for `instr` (opaque here).
    pub handler: usize,
    /// The decoded instruction.
    pub instr: Instruction,
}

/// A block's direct exit to a known guest EIP, patchable into a jump
/// straight to the target block (chaining).
#[repr(C)]
#[derive(Clone, Debug, Default)]
pub struct ExitSlot {
    /// Host address of the 5-byte `jmp rel32` to patch.
    pub jmp_addr: usize,
    /// Guest EIP the exit goes to.
    pub target_eip: u32,
    /// Linear page of the exiting block: only targets on the same page
    /// are chained (a page's blocks are invalidated together).
    pub page_lin: u32,
    /// Mode key of the exiting block (the target must have the same).
    pub mode: u32,
    /// Set once patched.
    pub linked: bool,
}

/// Helper entry points the engine provides (System V ABI).
#[derive(Clone, Copy, Debug)]
pub struct Helpers {
    /// Run the site's instruction on the interpreter. Returns [`CONTINUE`]
    /// or [`EXIT`].
    pub fallback: extern "sysv64" fn(ctx: *mut u8, site: *const Site) -> u64,
    /// Read `site.size` bytes at `site.seg:offset` with full checks.
    /// Returns the value, or [`LOAD_EXIT_BIT`] when the access faulted.
    pub load: extern "sysv64" fn(ctx: *mut u8, site: *const Site, offset: u32) -> u64,
    /// Write `site.size` bytes of `value` at `site.seg:offset`. Returns
    /// [`CONTINUE`] or [`EXIT`].
    pub store: extern "sysv64" fn(ctx: *mut u8, site: *const Site, offset: u32, value: u32) -> u64,
    /// Find the block for the current CS:EIP (after an indirect branch or a
    /// fallback that ended a block); null returns to the run loop.
    pub lookup: extern "sysv64" fn(ctx: *mut u8) -> *const u8,
    /// Find (and chain) the target block of a direct exit; null returns to
    /// the run loop.
    pub chain: extern "sysv64" fn(ctx: *mut u8, slot: *mut ExitSlot) -> *const u8,
}
