//! Guest exceptions and the other reasons an instruction stops short.
//!
//! A handler returns `Err(Stop::Exception(..))` for a *fault*: the
//! interpreter then rolls EIP and ESP back to the instruction's start and
//! delivers the exception (so faults are precise and restartable). Traps
//! and software interrupts (INT n, INT3, INTO) are delivered by their
//! handlers directly, with the return address after the instruction.

/// #DE divide error.
pub const DE: u8 = 0;
/// #DB debug.
pub const DB: u8 = 1;
/// NMI.
pub const NMI: u8 = 2;
/// #BP breakpoint (INT3).
pub const BP: u8 = 3;
/// #OF overflow (INTO).
pub const OF: u8 = 4;
/// #BR BOUND range exceeded.
pub const BR: u8 = 5;
/// #UD invalid opcode.
pub const UD: u8 = 6;
/// #NM device not available.
pub const NM: u8 = 7;
/// #DF double fault.
pub const DF: u8 = 8;
/// #TS invalid TSS.
pub const TS: u8 = 10;
/// #NP segment not present.
pub const NP: u8 = 11;
/// #SS stack-segment fault.
pub const SS: u8 = 12;
/// #GP general protection.
pub const GP: u8 = 13;
/// #PF page fault.
pub const PF: u8 = 14;
/// #MF x87 floating-point error.
pub const MF: u8 = 16;
/// #AC alignment check.
pub const AC: u8 = 17;
/// #MC machine check.
pub const MC: u8 = 18;

/// A guest exception: vector and optional error code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Exception {
    /// Interrupt vector.
    pub vector: u8,
    /// Error code pushed by the CPU, for the vectors that have one.
    pub error: Option<u32>,
}

impl Exception {
    /// An exception without an error code.
    #[inline]
    pub const fn new(vector: u8) -> Self {
        Exception {
            vector,
            error: None,
        }
    }

    /// An exception with an error code.
    #[inline]
    pub const fn with_error(vector: u8, error: u32) -> Self {
        Exception {
            vector,
            error: Some(error),
        }
    }

    /// Whether this is a contributory exception (for the #DF rules).
    pub fn contributory(&self) -> bool {
        matches!(self.vector, DE | TS | NP | SS | GP)
    }
}

/// Why an instruction did not complete normally.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stop {
    /// A fault: roll back to the instruction start and deliver it.
    Exception(Exception),
    /// HLT retired: the CPU waits for an interrupt.
    Halt,
    /// Exception delivery itself failed three times over: shutdown.
    TripleFault,
    /// `--check` found the JIT and the interpreter disagreeing; the engine
    /// holds the report (`Engine::take_failure`).
    CheckFailed,
    /// The execution engine cannot go on (the host's KVM refused to run the
    /// guest state): the machine stops with a one-line reason.
    EngineFailed(EngineFailure),
}

/// Why an engine gave up: a fixed description and the host's code for it
/// (an entry-failure reason, an internal-error suberror, an errno). `Copy`,
/// so [`Stop`] stays `Copy`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EngineFailure {
    /// What happened, starting with the engine's name ("kvm: ...").
    pub what: &'static str,
    /// The host's code for it.
    pub code: u64,
    /// Where the guest was (CS selector, EIP), when known.
    pub at: Option<(u16, u32)>,
}

impl std::fmt::Display for EngineFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {:#x}", self.what, self.code)?;
        if let Some((cs, eip)) = self.at {
            write!(f, " at {cs:04x}:{eip:08x}")?;
        }
        Ok(())
    }
}

impl From<Exception> for Stop {
    #[inline]
    fn from(e: Exception) -> Self {
        Stop::Exception(e)
    }
}

/// Shorthand for a fault result.
#[inline]
pub fn fault<T>(vector: u8) -> Result<T, Stop> {
    Err(Stop::Exception(Exception::new(vector)))
}

/// Shorthand for a fault with an error code.
#[inline]
pub fn fault_code<T>(vector: u8, error: u32) -> Result<T, Stop> {
    Err(Stop::Exception(Exception::with_error(vector, error)))
}
