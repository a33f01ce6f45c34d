//! The machine modes a stream can run in, and the fixed guest layout every
//! case shares (identity-mapped: linear = physical).

use serde_json::Value;

/// Where the stream's code starts (one page).
pub const CODE_BASE: u32 = 0x1_0000;
/// The first writable data page; [`DATA_PAGES`] of them follow.
pub const DATA_BASE: u32 = 0x2_0000;
/// Number of writable data pages.
pub const DATA_PAGES: u32 = 2;
/// A user page mapped read-only under paging (writes to it fault).
pub const RO_BASE: u32 = DATA_BASE + DATA_PAGES * 0x1000;
/// The stream's stack page; ESP starts in its middle.
pub const STACK_BASE: u32 = 0x3_0000;
/// The stream's initial stack pointer (offset in the stack segment: the
/// 16-bit modes use a stack segment based at [`STACK_BASE`]).
pub const STACK_START: u32 = 0x800;
/// GDT (ring 0 only, a supervisor page under paging).
pub const GDT_BASE: u32 = 0x8_0000;
/// IDT (256 gates), right after the GDT in the same page.
pub const IDT_BASE: u32 = 0x8_0800;
/// The 32-bit TSS.
pub const TSS_BASE: u32 = 0x8_1000;
/// One `HLT` per vector: the handler of vector v is at `STUB_BASE + v`.
pub const STUB_BASE: u32 = 0x8_1800;
/// Ring-0 stack top (TSS.ESP0): exception frames from ring 3 land below it.
pub const RING0_STACK_TOP: u32 = 0x8_3000;
/// Page directory.
pub const PD_BASE: u32 = 0x8_4000;
/// The one page table (maps the first 4 MiB).
pub const PT_BASE: u32 = 0x8_5000;
/// The first and one-past-last system page (GDT..PT).
pub const SYSTEM_PAGES: (u32, u32) = (GDT_BASE, PT_BASE + 0x1000);
/// Guest RAM in MiB (2: the real-mode high memory area above 1 MiB is
/// RAM, as KVM sees it; above RAM KVM takes device exits).
pub const RAM_MIB: u32 = 2;

/// GDT selectors.
pub mod sel {
    /// Ring-0 flat 32-bit code.
    pub const CODE32: u16 = 0x08;
    /// Ring-0 flat data.
    pub const DATA32: u16 = 0x10;
    /// Ring-0 16-bit code based at CODE_BASE.
    pub const CODE16: u16 = 0x18;
    /// Ring-3 flat 32-bit code (Linux's USER32_CS).
    pub const USER_CODE32: u16 = 0x23;
    /// Ring-3 flat data (Linux's USER_DS).
    pub const USER_DATA32: u16 = 0x2B;
    /// The TSS.
    pub const TSS: u16 = 0x30;
    /// Ring-0 16-bit data based at DATA_BASE.
    pub const DATA16: u16 = 0x38;
    /// Ring-0 16-bit stack based at STACK_BASE.
    pub const STACK16: u16 = 0x40;
    /// Ring-3 16-bit code based at CODE_BASE.
    pub const USER_CODE16: u16 = 0x4B;
    /// Ring-3 16-bit data based at DATA_BASE.
    pub const USER_DATA16: u16 = 0x53;
    /// Ring-3 16-bit stack based at STACK_BASE.
    pub const USER_STACK16: u16 = 0x5B;
}

/// A starting machine mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Mode {
    /// Real mode (CS=0x1000, DS=ES=0x2000, SS=0x3000).
    Real,
    /// 16-bit protected mode, ring 0.
    Pm16,
    /// 16-bit protected mode, ring 3.
    Pm16Ring3,
    /// 32-bit flat protected mode, ring 0, no paging.
    Pm32,
    /// 32-bit flat protected mode, ring 0, paging on.
    Pm32Paging,
    /// 32-bit flat protected mode, ring 3, no paging.
    Pm32Ring3,
    /// 32-bit flat protected mode, ring 3, paging on: the Linux user-mode
    /// shape the native runner reproduces.
    Pm32Ring3Paging,
}

impl Mode {
    /// Every mode, in `--mode all` order.
    pub const ALL: [Mode; 7] = [
        Mode::Real,
        Mode::Pm16,
        Mode::Pm16Ring3,
        Mode::Pm32,
        Mode::Pm32Paging,
        Mode::Pm32Ring3,
        Mode::Pm32Ring3Paging,
    ];

    /// The mode's name as `--mode` spells it.
    pub fn name(self) -> &'static str {
        match self {
            Mode::Real => "real",
            Mode::Pm16 => "pm16",
            Mode::Pm16Ring3 => "pm16-ring3",
            Mode::Pm32 => "pm32",
            Mode::Pm32Paging => "pm32-paging",
            Mode::Pm32Ring3 => "pm32-ring3",
            Mode::Pm32Ring3Paging => "pm32-ring3-paging",
        }
    }

    /// Parse a `--mode` name.
    pub fn parse(s: &str) -> Option<Mode> {
        Mode::ALL.into_iter().find(|m| m.name() == s)
    }

    /// Protected mode.
    pub fn protected(self) -> bool {
        self != Mode::Real
    }

    /// 32-bit code segment.
    pub fn code32(self) -> bool {
        matches!(
            self,
            Mode::Pm32 | Mode::Pm32Paging | Mode::Pm32Ring3 | Mode::Pm32Ring3Paging
        )
    }

    /// Streams run at CPL 3.
    pub fn ring3(self) -> bool {
        matches!(
            self,
            Mode::Pm16Ring3 | Mode::Pm32Ring3 | Mode::Pm32Ring3Paging
        )
    }

    /// Paging is on.
    pub fn paging(self) -> bool {
        matches!(self, Mode::Pm32Paging | Mode::Pm32Ring3Paging)
    }

    /// The code bitness iced-x86 decodes with.
    pub fn bitness(self) -> u32 {
        if self.code32() {
            32
        } else {
            16
        }
    }

    /// Whether the native runner can run this mode's streams.
    pub fn native_capable(self) -> bool {
        self == Mode::Pm32Ring3Paging
    }

    /// Whether the KVM engine can run this mode here (this host's KVM only
    /// runs real mode).
    pub fn kvm_capable(self) -> bool {
        self == Mode::Real
    }

    /// The mode as JSON (its name).
    pub fn to_json(self) -> Value {
        Value::String(self.name().to_string())
    }
}
