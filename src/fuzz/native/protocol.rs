//! The pipe protocol between a `NativeRunner` and its child: fixed-layout
//! little-endian `u32` words, so the child can parse it without allocating.
//!
//! Case (parent -> child): `CASE_WORDS` header words (8 GPRs, EIP, EFLAGS,
//! page count), then per page `PAGE_HEADER_WORDS` words (address, writable),
//! then the `PAGE_SIZE` bytes of every page in the same order.
//!
//! Reply (child -> parent): `REPLY_WORDS` words (status, vector, error code,
//! CR2, 8 GPRs, EIP, EFLAGS), then for a `STATUS_DONE` reply the final bytes
//! of every writable page, in case order.

/// Header words of a case: GPRs 0..8, EIP 8, EFLAGS 9, page count 10.
pub const CASE_WORDS: usize = 11;
/// Index of the page count in the case header.
pub const CASE_NPAGES: usize = 10;
/// Words of each page header: address, writable (0/1).
pub const PAGE_HEADER_WORDS: usize = 2;
/// Reply words: status, vector, error code, CR2, GPRs 4..12, EIP 12, EFLAGS 13.
pub const REPLY_WORDS: usize = 14;
/// Reply index of the first GPR.
pub const REPLY_GPR: usize = 4;
/// Reply index of EIP.
pub const REPLY_EIP: usize = 12;
/// Reply index of EFLAGS.
pub const REPLY_EFLAGS: usize = 13;

/// The child is set up (sandbox installed) and waits for cases.
pub const STATUS_READY: u32 = 0x5245_4459;
/// The case ran and ended in an exception; writable pages follow.
pub const STATUS_DONE: u32 = 1;
/// Mapping a case page failed: word 1 = errno, word 3 = the page address. The child exits.
pub const STATUS_MAP_FAILED: u32 = 2;
/// Child set-up failed: word 1 = errno, word 2 = which step (`SETUP_*`). The child exits.
pub const STATUS_SETUP_FAILED: u32 = 3;

/// Set-up steps named in a `STATUS_SETUP_FAILED` reply.
pub const SETUP_STEPS: [&str; 6] = [
    "redirecting the pipes",
    "PR_SET_PDEATHSIG",
    "the signal stack",
    "the signal handlers",
    "PR_SET_NO_NEW_PRIVS",
    "the seccomp filter",
];

/// The most pages one case may map (bounds the child's fixed page table).
pub const MAX_PAGES: usize = 1024;

/// Exit status of the child when a fault signal hits code outside the
/// guest's compat-mode segment (the stream far-jumped out of it, or a bug).
pub const EXIT_HOST_FAULT: i32 = 101;
