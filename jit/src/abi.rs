//! The guest-state ABI shared by the interpreter and generated code.
//!
//! Hot fields come first so generated code reaches them with 8-bit
//! displacements from the pinned context register. Offsets are asserted at
//! compile time below: changing the layout is a deliberate act.
//!
//! Example: generated code reads guest EAX at `[ctx + RegFile::GPR_OFFSET]`,
//! and a guest load of linear address `a` is `*(a + tlb.read[idx].addend)`
//! when `tlb.read[idx].tag == a & !0xFFF`.

use crate::flags::LazyFlags;

/// Index of a general-purpose register in [`RegFile::gpr`], in x86 encoding
/// order (the ModRM `reg` field values).
pub mod gpr {
    /// EAX/AX/AL.
    pub const EAX: usize = 0;
    /// ECX/CX/CL.
    pub const ECX: usize = 1;
    /// EDX/DX/DL.
    pub const EDX: usize = 2;
    /// EBX/BX/BL.
    pub const EBX: usize = 3;
    /// ESP/SP (AH when used as an 8-bit register number).
    pub const ESP: usize = 4;
    /// EBP/BP.
    pub const EBP: usize = 5;
    /// ESI/SI.
    pub const ESI: usize = 6;
    /// EDI/DI.
    pub const EDI: usize = 7;
}

/// Index of a segment register in [`RegFile::seg`], in x86 encoding order
/// (the `sreg` field of MOV Sreg).
pub mod sreg {
    /// ES.
    pub const ES: usize = 0;
    /// CS.
    pub const CS: usize = 1;
    /// SS.
    pub const SS: usize = 2;
    /// DS.
    pub const DS: usize = 3;
    /// FS.
    pub const FS: usize = 4;
    /// GS.
    pub const GS: usize = 5;
}

/// The hidden part of a segment register (the descriptor cache): what every
/// memory access needs without touching the descriptor tables.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SegCache {
    /// Linear base address.
    pub base: u32,
    /// Byte-granular limit (already scaled by the G bit).
    pub limit: u32,
    /// The visible selector.
    pub selector: u16,
    /// Descriptor attributes: access byte in bits 0-7 (type, S, DPL, P), and
    /// flags in bits 12-15 (AVL, L, D/B, G), as in descriptor bytes 5-6.
    pub attr: u16,
}

impl SegCache {
    /// Access-byte bit: segment present.
    pub const ATTR_PRESENT: u16 = 1 << 7;
    /// Access-byte bit: code/data (not system) descriptor.
    pub const ATTR_S: u16 = 1 << 4;
    /// Access-byte type bit 3: executable (code) segment.
    pub const ATTR_CODE: u16 = 1 << 3;
    /// Type bit 2 for data: expand-down; for code: conforming.
    pub const ATTR_EXPAND_DOWN: u16 = 1 << 2;
    /// Type bit 1 for data: writable; for code: readable.
    pub const ATTR_RW: u16 = 1 << 1;
    /// Type bit 0: accessed.
    pub const ATTR_ACCESSED: u16 = 1 << 0;
    /// Flags bit: default operation size / big (D/B).
    pub const ATTR_DB: u16 = 1 << 14;
    /// Flags bit: 4 KiB granularity.
    pub const ATTR_G: u16 = 1 << 15;
    /// Attributes of a real-mode data segment: present, writable, accessed.
    pub const REAL_MODE_DATA: u16 =
        Self::ATTR_PRESENT | Self::ATTR_S | Self::ATTR_RW | Self::ATTR_ACCESSED;
    /// Attributes of a real-mode code segment: present, readable code, accessed.
    pub const REAL_MODE_CODE: u16 = Self::REAL_MODE_DATA | Self::ATTR_CODE;

    /// A real-mode segment: base = selector * 16, 64 KiB limit.
    pub fn real_mode(selector: u16, code: bool) -> Self {
        SegCache {
            base: u32::from(selector) << 4,
            limit: 0xFFFF,
            selector,
            attr: if code {
                Self::REAL_MODE_CODE
            } else {
                Self::REAL_MODE_DATA
            },
        }
    }

    /// Whether the D/B bit is set (32-bit code segment / big stack).
    pub fn is_32bit(&self) -> bool {
        self.attr & Self::ATTR_DB != 0
    }

    /// Descriptor privilege level from the access byte.
    pub fn dpl(&self) -> u8 {
        ((self.attr >> 5) & 3) as u8
    }
}

/// The architectural register file, `#[repr(C)]` for generated code.
#[repr(C)]
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RegFile {
    /// Instruction pointer (offset into CS).
    pub eip: u32,
    /// Non-zero when the run loop must look before the next block: pending
    /// interrupt, invalidated code page, requested exit.
    pub attention: u32,
    /// General-purpose registers in encoding order (see [`gpr`]).
    pub gpr: [u32; 8],
    /// EFLAGS. The arithmetic bits named in `lazy.mask` are stale here and
    /// must be taken from [`LazyFlags`] (see [`RegFile::eflags`]).
    pub flags: u32,
    /// Lazily evaluated arithmetic flags of the last flag-setting operation.
    pub lazy: LazyFlags,
    /// Segment registers in encoding order (see [`sreg`]).
    pub seg: [SegCache; 6],
    /// Retired guest instructions (drives the virtual clock and the TSC).
    pub icount: u64,
    /// Generated code enters a block only if `icount` plus the block's
    /// length stays within this; the engine sets it to the batch end.
    pub icount_limit: u64,
}

impl RegFile {
    /// Byte offset of `gpr` for generated code.
    pub const GPR_OFFSET: usize = std::mem::offset_of!(RegFile, gpr);
    /// Byte offset of `eip`.
    pub const EIP_OFFSET: usize = std::mem::offset_of!(RegFile, eip);
    /// Byte offset of `attention`.
    pub const ATTENTION_OFFSET: usize = std::mem::offset_of!(RegFile, attention);
    /// Byte offset of `flags`.
    pub const FLAGS_OFFSET: usize = std::mem::offset_of!(RegFile, flags);
    /// Byte offset of `seg`.
    pub const SEG_OFFSET: usize = std::mem::offset_of!(RegFile, seg);
    /// Byte offset of `icount`.
    pub const ICOUNT_OFFSET: usize = std::mem::offset_of!(RegFile, icount);
    /// Byte offset of `icount_limit`.
    pub const ICOUNT_LIMIT_OFFSET: usize = std::mem::offset_of!(RegFile, icount_limit);

    /// Byte offset of segment register `s`'s base.
    pub const fn seg_base_offset(s: usize) -> usize {
        Self::SEG_OFFSET
            + s * std::mem::size_of::<SegCache>()
            + std::mem::offset_of!(SegCache, base)
    }

    /// Byte offset of segment register `s`'s byte-granular limit.
    pub const fn seg_limit_offset(s: usize) -> usize {
        Self::SEG_OFFSET
            + s * std::mem::size_of::<SegCache>()
            + std::mem::offset_of!(SegCache, limit)
    }

    /// The full EFLAGS value with lazy arithmetic flags materialised.
    #[inline]
    pub fn eflags(&self) -> u32 {
        self.lazy.merge_into(self.flags)
    }

    /// Replace all of EFLAGS (arithmetic flags included; clears laziness).
    #[inline]
    pub fn set_eflags(&mut self, value: u32) {
        self.flags = value | crate::flags::FLAG_FIXED1;
        self.lazy.mask = 0;
    }

    /// Materialise the lazy flags into `flags` (useful before handing the
    /// state to code that reads `flags` directly).
    #[inline]
    pub fn settle_flags(&mut self) {
        self.flags = self.eflags();
        self.lazy.mask = 0;
    }
}

const _: () = assert!(std::mem::offset_of!(RegFile, eip) == 0);
const _: () = assert!(std::mem::offset_of!(RegFile, attention) == 4);
const _: () = assert!(std::mem::offset_of!(RegFile, gpr) == 8);
const _: () = assert!(std::mem::offset_of!(RegFile, flags) == 40);
const _: () = assert!(std::mem::offset_of!(RegFile, lazy) == 44);
const _: () = assert!(std::mem::offset_of!(RegFile, seg) < 128);
const _: () = assert!(std::mem::offset_of!(RegFile, icount_limit) < 256);

/// Number of entries in each TLB view (direct-mapped on linear page number).
pub const TLB_ENTRIES: usize = 1024;

/// A tag value that never matches a page-aligned linear address.
pub const TLB_INVALID_TAG: u32 = 1;

/// One software-TLB entry: a linear page and how to reach its bytes on the host.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TlbEntry {
    /// Linear page address (low 12 bits clear), or [`TLB_INVALID_TAG`].
    pub tag: u32,
    /// Physical page address the linear page maps to.
    pub phys: u32,
    /// Added to a linear address in this page to give the host address of
    /// the byte (wrapping arithmetic).
    pub addend: usize,
}

impl Default for TlbEntry {
    fn default() -> Self {
        TlbEntry {
            tag: TLB_INVALID_TAG,
            phys: 0,
            addend: 0,
        }
    }
}

/// Which view of the TLB an access uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TlbView {
    /// Data reads.
    Read,
    /// Data writes (withheld for ROM, MMIO and translated-code pages).
    Write,
    /// Instruction fetch.
    Exec,
}

/// The software TLB: three direct-mapped views over linear pages. Only pages
/// backed by ordinary RAM (or ROM, for read/exec) are ever entered; anything
/// else takes the slow path every time.
#[repr(C)]
#[derive(Clone, Debug)]
pub struct Tlb {
    /// Data-read view.
    pub read: [TlbEntry; TLB_ENTRIES],
    /// Data-write view.
    pub write: [TlbEntry; TLB_ENTRIES],
    /// Instruction-fetch view.
    pub exec: [TlbEntry; TLB_ENTRIES],
}

impl Default for Tlb {
    fn default() -> Self {
        Tlb {
            read: [TlbEntry::default(); TLB_ENTRIES],
            write: [TlbEntry::default(); TLB_ENTRIES],
            exec: [TlbEntry::default(); TLB_ENTRIES],
        }
    }
}

impl Tlb {
    /// Index of the entry for a linear address.
    #[inline]
    pub fn index(linear: u32) -> usize {
        (linear >> 12) as usize & (TLB_ENTRIES - 1)
    }

    /// The entries of one view.
    #[inline]
    pub fn view(&self, view: TlbView) -> &[TlbEntry; TLB_ENTRIES] {
        match view {
            TlbView::Read => &self.read,
            TlbView::Write => &self.write,
            TlbView::Exec => &self.exec,
        }
    }

    /// The entries of one view, mutably.
    #[inline]
    pub fn view_mut(&mut self, view: TlbView) -> &mut [TlbEntry; TLB_ENTRIES] {
        match view {
            TlbView::Read => &mut self.read,
            TlbView::Write => &mut self.write,
            TlbView::Exec => &mut self.exec,
        }
    }

    /// Forget every translation (CR3 load, CR0.PG/WP change, A20 toggle).
    pub fn flush(&mut self) {
        for e in self
            .read
            .iter_mut()
            .chain(self.write.iter_mut())
            .chain(self.exec.iter_mut())
        {
            e.tag = TLB_INVALID_TAG;
        }
    }

    /// Forget the translations of one linear page in every view (INVLPG).
    pub fn flush_page(&mut self, linear: u32) {
        let i = Self::index(linear);
        let tag = linear & !0xFFF;
        for v in [&mut self.read[i], &mut self.write[i], &mut self.exec[i]] {
            if v.tag == tag {
                v.tag = TLB_INVALID_TAG;
            }
        }
    }

    /// Drop every write-view entry that maps physical page `phys_page`
    /// (used when a page starts holding translated or cached code).
    pub fn drop_writes_to_phys(&mut self, phys_page: u32) {
        for e in self.write.iter_mut() {
            if e.phys == phys_page {
                e.tag = TLB_INVALID_TAG;
            }
        }
    }
}

const _: () = assert!(std::mem::size_of::<TlbEntry>() == 16);
const _: () = assert!(std::mem::offset_of!(TlbEntry, addend) == 8);

/// Byte offset of a view's first entry inside [`Tlb`], for generated code.
pub const fn tlb_view_offset(view: TlbView) -> usize {
    match view {
        TlbView::Read => std::mem::offset_of!(Tlb, read),
        TlbView::Write => std::mem::offset_of!(Tlb, write),
        TlbView::Exec => std::mem::offset_of!(Tlb, exec),
    }
}
