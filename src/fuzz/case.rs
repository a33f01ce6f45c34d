//! One fuzz case: a mode, an instruction stream and the initial registers
//! and data pages. Everything a run needs, so a reproducer file is a case.

use super::mode::{Mode, DATA_PAGES};

/// Bytes of initial data: the writable data pages and the read-only page.
pub const DATA_LEN: usize = (DATA_PAGES as usize + 1) * 4096;

/// The stream's terminator: `UD2`, so running off the end is #UD at a
/// known EIP.
pub const UD2: [u8; 2] = [0x0F, 0x0B];

/// The terminator of real-mode streams that KVM runs: `HLT` (this host's
/// KVM runs real mode through its instruction emulator, which cannot
/// deliver #UD).
pub const HLT: [u8; 1] = [0xF4];

/// One case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Case {
    /// The starting mode.
    pub mode: Mode,
    /// The instruction stream, ending in [`UD2`].
    pub code: Vec<u8>,
    /// EAX ECX EDX EBX ESP EBP ESI EDI.
    pub gpr: [u32; 8],
    /// Initial EFLAGS (arithmetic flags and DF; the rest is the mode's).
    pub eflags: u32,
    /// The data pages then the read-only page ([`DATA_LEN`] bytes).
    pub data: Vec<u8>,
}

impl Case {
    /// The stream's terminator ([`UD2`], or [`HLT`] for KVM streams).
    pub fn terminator(&self) -> &'static [u8] {
        if self.code.ends_with(&UD2) || !self.code.ends_with(&HLT) {
            &UD2
        } else {
            &HLT
        }
    }

    /// The stream without its terminator.
    pub fn stream(&self) -> &[u8] {
        let n = self.code.len();
        if self.code.ends_with(self.terminator()) {
            &self.code[..n - self.terminator().len()]
        } else {
            &self.code
        }
    }

    /// The same case with another stream (the terminator is kept).
    pub fn with_stream(&self, stream: &[u8]) -> Case {
        let mut code = stream.to_vec();
        code.extend_from_slice(self.terminator());
        Case {
            code,
            ..self.clone()
        }
    }
}
