//! The guest CPU's architectural state beyond the shared register file:
//! control and debug registers, descriptor-table registers, the software
//! TLB, model-specific registers, and mode queries.
//!
//! [`RegFile`] comes from `btvm-jit` so the interpreter and generated code
//! share one layout; everything here is slower-moving state that only the
//! interpreter and the JIT's helpers touch.

pub mod access;
pub mod descriptor;
pub mod exception;
pub mod far;
pub mod far_return;
pub mod frame;
pub mod gate;
pub mod interrupt;
pub mod mmu;
pub mod segment;
pub mod task;

use btvm_jit::abi::{sreg, RegFile, SegCache, Tlb};
use btvm_jit::flags::FLAG_VM;

pub use exception::{Exception, Stop};

/// CR0.PE: protected mode enable.
pub const CR0_PE: u32 = 1 << 0;
/// CR0.MP: monitor coprocessor (WAIT honours TS).
pub const CR0_MP: u32 = 1 << 1;
/// CR0.EM: emulate coprocessor (x87 instructions raise #NM).
pub const CR0_EM: u32 = 1 << 2;
/// CR0.TS: task switched (lazy FPU context switch).
pub const CR0_TS: u32 = 1 << 3;
/// CR0.ET: extension type (387-class FPU; hardwired to 1 on a P6).
pub const CR0_ET: u32 = 1 << 4;
/// CR0.NE: numeric error reporting through #MF rather than IRQ 13.
pub const CR0_NE: u32 = 1 << 5;
/// CR0.WP: supervisor writes honour read-only pages.
pub const CR0_WP: u32 = 1 << 16;
/// CR0.AM: alignment mask.
pub const CR0_AM: u32 = 1 << 18;
/// CR0.NW: not write-through.
pub const CR0_NW: u32 = 1 << 29;
/// CR0.CD: cache disable.
pub const CR0_CD: u32 = 1 << 30;
/// CR0.PG: paging enable.
pub const CR0_PG: u32 = 1 << 31;
/// CR4.PSE: 4 MiB pages.
pub const CR4_PSE: u32 = 1 << 4;
/// CR4.PGE: global pages.
pub const CR4_PGE: u32 = 1 << 7;
/// CR4.TSD: RDTSC is privileged.
pub const CR4_TSD: u32 = 1 << 2;

/// A descriptor-table register (GDTR or IDTR): base and limit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TableReg {
    /// Linear base address.
    pub base: u32,
    /// Limit in bytes (inclusive).
    pub limit: u32,
}

/// The CPU: shared register file plus system state.
#[derive(Clone)]
pub struct Cpu {
    /// GPRs, EIP, EFLAGS (lazy), segment caches, instruction count.
    pub regs: RegFile,
    /// CR0.
    pub cr0: u32,
    /// CR2: the linear address of the last page fault.
    pub cr2: u32,
    /// CR3: page directory base.
    pub cr3: u32,
    /// CR4.
    pub cr4: u32,
    /// DR0-DR7 (stored; breakpoints are not armed).
    pub dr: [u32; 8],
    /// GDTR.
    pub gdtr: TableReg,
    /// IDTR (in real mode: the interrupt vector table).
    pub idtr: TableReg,
    /// LDTR with its cached descriptor.
    pub ldtr: SegCache,
    /// TR with its cached descriptor.
    pub tr: SegCache,
    /// Current privilege level: CS.RPL in protected mode, 3 in virtual-8086
    /// mode, 0 in real mode. Change it with [`Cpu::set_cpl`] (the TLB
    /// depends on it).
    pub cpl: u8,
    /// The software TLB the MMU fills.
    pub tlb: Box<Tlb>,
    /// What the MMU keeps per TLB entry beside it (privilege, global).
    pub tlb_side: Box<mmu::TlbSide>,
    /// Interrupts are inhibited for one instruction (after STI, MOV SS, POP SS).
    pub irq_shadow: bool,
    /// Executing HLT: waiting for an interrupt.
    pub halted: bool,
    /// Added to the machine time (ns) to form the TSC (set by WRMSR).
    pub tsc_offset: u64,
    /// IA32_SYSENTER_CS, _ESP, _EIP.
    pub sysenter: [u32; 3],
    /// The x87 FPU (power-on state: see `crate::fpu::Fpu::new`).
    pub fpu: crate::fpu::Fpu,
    /// `--stats`: software-TLB fills (misses of the inline/fast lookup)
    /// and, of those, page-table walks (paging on).
    pub tlb_counts: TlbCounts,
    /// Interrupt/exception deliveries started (a counter: the single-step
    /// trap is not taken after an instruction that delivered one).
    pub deliveries: u64,
}

/// `--stats` counters of the software TLB.
#[derive(Clone, Copy, Debug, Default)]
pub struct TlbCounts {
    /// Fills of a TLB view: every access that missed the TLB.
    pub fills: u64,
    /// Page-table walks (misses with paging on, and `translate` calls).
    pub walks: u64,
}

impl Default for Cpu {
    fn default() -> Self {
        Self::new()
    }
}

impl Cpu {
    /// A CPU in its power-on state: real mode at F000:FFF0 with CS base
    /// 0xFFFF0000, as a 386+ comes out of reset.
    pub fn new() -> Self {
        let mut regs = RegFile::default();
        for s in regs.seg.iter_mut() {
            *s = SegCache::real_mode(0, false);
        }
        regs.seg[sreg::CS] = SegCache {
            base: 0xFFFF_0000,
            ..SegCache::real_mode(0xF000, true)
        };
        regs.eip = 0xFFF0;
        regs.set_eflags(0);
        // EDX holds the processor signature at reset (family 6, model 1, stepping 9).
        regs.gpr[btvm_jit::abi::gpr::EDX] = 0x0000_0619;
        Cpu {
            regs,
            cr0: CR0_ET | CR0_CD | CR0_NW,
            cr2: 0,
            cr3: 0,
            cr4: 0,
            dr: [0, 0, 0, 0, 0xFFFF_0FF0, 0x400, 0xFFFF_0FF0, 0x400],
            gdtr: TableReg {
                base: 0,
                limit: 0xFFFF,
            },
            idtr: TableReg {
                base: 0,
                limit: 0x3FF,
            },
            ldtr: SegCache::default(),
            tr: SegCache::default(),
            cpl: 0,
            tlb: Box::default(),
            tlb_side: Box::default(),
            irq_shadow: false,
            halted: false,
            tsc_offset: 0,
            sysenter: [0; 3],
            fpu: crate::fpu::Fpu::new(),
            tlb_counts: TlbCounts::default(),
            deliveries: 0,
        }
    }

    /// Protected mode (CR0.PE) is on.
    #[inline]
    pub fn protected(&self) -> bool {
        self.cr0 & CR0_PE != 0
    }

    /// Virtual-8086 mode is on.
    #[inline]
    pub fn v86(&self) -> bool {
        self.regs.flags & FLAG_VM != 0
    }

    /// Real mode or virtual-8086 mode: segments are `selector << 4`.
    #[inline]
    pub fn real_addressing(&self) -> bool {
        !self.protected() || self.v86()
    }

    /// Paging is on.
    #[inline]
    pub fn paging(&self) -> bool {
        self.cr0 & CR0_PG != 0
    }

    /// Default operand size of the code segment is 32 bits.
    #[inline]
    pub fn code32(&self) -> bool {
        self.regs.seg[sreg::CS].is_32bit()
    }

    /// The stack uses ESP (SS.B set) rather than SP.
    #[inline]
    pub fn stack32(&self) -> bool {
        self.regs.seg[sreg::SS].is_32bit()
    }

    /// Load a segment register the real-mode way (base = selector * 16),
    /// keeping the cached limit and attributes as a 386 does.
    #[inline]
    pub fn load_seg_real(&mut self, seg: usize, selector: u16) {
        let s = &mut self.regs.seg[seg];
        s.selector = selector;
        s.base = u32::from(selector) << 4;
        if seg == sreg::CS {
            // A far jump in real mode makes CS a plain 16-bit code segment.
            s.limit = 0xFFFF;
            s.attr = SegCache::REAL_MODE_CODE;
        }
    }
}
