//! Placeholder for the native reference runner (ring-3 32-bit streams on the
//! host CPU), which is being written on the `native` branch with exactly
//! this API. Until it is merged, [`NativeRunner::available`] says so.

/// Page size of the native case's pages.
pub const PAGE_SIZE: usize = 4096;
/// The host's 32-bit user code selector (compatibility mode).
pub const USER32_CS: u16 = 0x23;
/// The host's user data selector.
pub const USER_DS: u16 = 0x2b;

/// One guest page mapped into the native child at `addr`.
#[derive(Clone, Debug)]
pub struct NativePage {
    /// Linear address (page aligned, below 4 GiB).
    pub addr: u32,
    /// Contents (PAGE_SIZE bytes).
    pub data: Vec<u8>,
    /// Whether the page is mapped writable.
    pub writable: bool,
}

/// The registers the native child starts with and ends with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct NativeRegs {
    /// EAX ECX EDX EBX ESP EBP ESI EDI.
    pub gpr: [u32; 8],
    /// EIP.
    pub eip: u32,
    /// EFLAGS.
    pub eflags: u32,
}

/// One case: pages, registers, and a wall-clock bound.
#[derive(Clone, Debug)]
pub struct NativeCase {
    /// Every page the stream may touch.
    pub pages: Vec<NativePage>,
    /// Initial registers.
    pub regs: NativeRegs,
    /// Wall-clock bound before the run is a timeout.
    pub timeout_ms: u32,
}

/// How a native run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NativeEnd {
    /// The CPU raised an exception (caught as a signal).
    Exception {
        /// Vector.
        vector: u8,
        /// Error code (0 when the vector has none).
        error_code: u32,
        /// CR2 for a page fault.
        cr2: u32,
    },
    /// The bound ran out.
    Timeout,
}

/// The end of a native run.
#[derive(Clone, Debug)]
pub struct NativeResult {
    /// How it ended.
    pub end: NativeEnd,
    /// Registers at the exception (EIP as the CPU reports it).
    pub regs: NativeRegs,
    /// Final bytes of every writable page.
    pub pages: Vec<(u32, Vec<u8>)>,
}

/// Why a native run could not be made.
#[derive(Debug, thiserror::Error)]
pub enum NativeError {
    /// The runner is not available on this build or host.
    #[error("native runner unavailable: {0}")]
    Unavailable(String),
}

/// The native runner (placeholder).
pub struct NativeRunner;

impl NativeRunner {
    /// Whether native runs are possible here.
    pub fn available() -> Result<(), String> {
        Err("native runner not merged yet".to_string())
    }

    /// A runner.
    pub fn new() -> Result<Self, NativeError> {
        Err(NativeError::Unavailable(
            "native runner not merged yet".to_string(),
        ))
    }

    /// Run one case.
    pub fn run(&mut self, _case: &NativeCase) -> Result<NativeResult, NativeError> {
        Err(NativeError::Unavailable(
            "native runner not merged yet".to_string(),
        ))
    }
}
