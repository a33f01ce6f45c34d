//! Segment and gate descriptors: decoding the 8-byte entries of the GDT,
//! LDT and IDT, reading them from the tables (implicit supervisor
//! accesses), and writing back the accessed and busy bits.
//!
//! Layout (SDM vol. 3, 3.4.5 and 6.11), as two little-endian dwords:
//!
//! ```text
//! segment: lo = limit[15:0] | base[15:0] << 16
//!          hi = base[23:16] | access << 8 | limit[19:16] << 16
//!               | flags (AVL, L, D/B, G) << 20 | base[31:24] << 24
//! gate:    lo = offset[15:0] | selector << 16
//!          hi = param_count[4:0] | access << 8 | offset[31:16] << 16
//! ```
//!
//! The access byte and the flags nibble land in [`SegCache::attr`] exactly
//! as in descriptor bytes 5-6, so a loaded segment keeps its type, DPL and
//! P bits where `seg_check` and the JIT expect them.
//!
//! Example: `0x00CF_9A00_0000_FFFF` is a flat 4 GiB, 32-bit, ring-0,
//! readable code segment (base 0, limit 0xFFFFF pages).

use btvm_jit::abi::SegCache;

use super::access::{Ctx, Step};
use super::exception::{fault_code, Stop};

/// System descriptor type: available 16-bit TSS.
pub const TSS16_AVAIL: u8 = 1;
/// System descriptor type: LDT.
pub const LDT: u8 = 2;
/// System descriptor type: busy 16-bit TSS.
pub const TSS16_BUSY: u8 = 3;
/// System descriptor type: 16-bit call gate.
pub const CALL_GATE16: u8 = 4;
/// System descriptor type: task gate.
pub const TASK_GATE: u8 = 5;
/// System descriptor type: 16-bit interrupt gate.
pub const INT_GATE16: u8 = 6;
/// System descriptor type: 16-bit trap gate.
pub const TRAP_GATE16: u8 = 7;
/// System descriptor type: available 32-bit TSS.
pub const TSS32_AVAIL: u8 = 9;
/// System descriptor type: busy 32-bit TSS.
pub const TSS32_BUSY: u8 = 11;
/// System descriptor type: 32-bit call gate.
pub const CALL_GATE32: u8 = 12;
/// System descriptor type: 32-bit interrupt gate.
pub const INT_GATE32: u8 = 14;
/// System descriptor type: 32-bit trap gate.
pub const TRAP_GATE32: u8 = 15;

/// Type bit that marks a TSS as busy (types 3 and 11).
pub const TSS_BUSY_BIT: u8 = 2;

/// The requested privilege level of a selector.
#[inline]
pub fn rpl(sel: u16) -> u8 {
    (sel & 3) as u8
}

/// Whether a selector is null (index 0 in the GDT, any RPL).
#[inline]
pub fn is_null(sel: u16) -> bool {
    sel & 0xFFFC == 0
}

/// The error code a selector fault pushes: the selector with RPL cleared
/// (index and TI kept), plus the EXT bit (`ext` is 0 or 1).
#[inline]
pub fn sel_error(sel: u16, ext: u32) -> u32 {
    u32::from(sel & 0xFFFC) | ext
}

/// Fault `vector` with a selector error code.
#[inline]
pub fn sel_fault<T>(vector: u8, sel: u16, ext: u32) -> Result<T, Stop> {
    fault_code(vector, sel_error(sel, ext))
}

/// One raw descriptor as two dwords.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Descriptor {
    /// Bytes 0-3.
    pub lo: u32,
    /// Bytes 4-7.
    pub hi: u32,
}

impl Descriptor {
    /// A descriptor from its two dwords.
    #[inline]
    pub const fn new(lo: u32, hi: u32) -> Self {
        Descriptor { lo, hi }
    }

    /// A descriptor from its 64-bit little-endian value.
    #[inline]
    pub const fn from_u64(v: u64) -> Self {
        Descriptor {
            lo: v as u32,
            hi: (v >> 32) as u32,
        }
    }

    /// Segment base address.
    #[inline]
    pub fn base(&self) -> u32 {
        (self.lo >> 16) | (self.hi & 0xFF) << 16 | (self.hi & 0xFF00_0000)
    }

    /// Segment limit in bytes, scaled by the G bit (4 KiB units with the
    /// low 12 bits set).
    #[inline]
    pub fn limit(&self) -> u32 {
        let raw = (self.lo & 0xFFFF) | (self.hi & 0x000F_0000);
        if self.hi & (1 << 23) != 0 {
            raw << 12 | 0xFFF
        } else {
            raw
        }
    }

    /// The access byte and flags as [`SegCache::attr`] stores them.
    #[inline]
    pub fn attr(&self) -> u16 {
        ((self.hi >> 8) & 0xF0FF) as u16
    }

    /// The 4-bit type field.
    #[inline]
    pub fn typ(&self) -> u8 {
        ((self.hi >> 8) & 0xF) as u8
    }

    /// S bit clear: a system descriptor (TSS, LDT, gate).
    #[inline]
    pub fn is_system(&self) -> bool {
        self.hi & (1 << 12) == 0
    }

    /// A code segment descriptor.
    #[inline]
    pub fn is_code(&self) -> bool {
        !self.is_system() && self.typ() & 8 != 0
    }

    /// A data segment descriptor.
    #[inline]
    pub fn is_data(&self) -> bool {
        !self.is_system() && self.typ() & 8 == 0
    }

    /// A conforming code segment.
    #[inline]
    pub fn is_conforming(&self) -> bool {
        self.is_code() && self.typ() & 4 != 0
    }

    /// Readable: any data segment, or code with the R bit.
    #[inline]
    pub fn is_readable(&self) -> bool {
        self.is_data() || (self.is_code() && self.typ() & 2 != 0)
    }

    /// A writable data segment.
    #[inline]
    pub fn is_writable_data(&self) -> bool {
        self.is_data() && self.typ() & 2 != 0
    }

    /// Descriptor privilege level.
    #[inline]
    pub fn dpl(&self) -> u8 {
        ((self.hi >> 13) & 3) as u8
    }

    /// P bit.
    #[inline]
    pub fn present(&self) -> bool {
        self.hi & (1 << 15) != 0
    }

    /// A 32-bit gate or TSS (type bit 3 of a system descriptor).
    #[inline]
    pub fn is_32bit_system(&self) -> bool {
        self.typ() & 8 != 0
    }

    /// A TSS of either size, available or busy.
    #[inline]
    pub fn is_tss(&self) -> bool {
        self.is_system()
            && matches!(
                self.typ(),
                TSS16_AVAIL | TSS16_BUSY | TSS32_AVAIL | TSS32_BUSY
            )
    }

    /// A TSS marked busy.
    #[inline]
    pub fn is_busy_tss(&self) -> bool {
        self.is_system() && matches!(self.typ(), TSS16_BUSY | TSS32_BUSY)
    }

    /// The target selector of a gate (TSS selector for a task gate).
    #[inline]
    pub fn gate_selector(&self) -> u16 {
        (self.lo >> 16) as u16
    }

    /// The target offset of a gate; a 16-bit gate uses only the low word.
    #[inline]
    pub fn gate_offset(&self) -> u32 {
        let low = self.lo & 0xFFFF;
        if self.is_32bit_system() {
            low | (self.hi & 0xFFFF_0000)
        } else {
            low
        }
    }

    /// Parameter count of a call gate (0-31 words or doublewords).
    #[inline]
    pub fn param_count(&self) -> u32 {
        self.hi & 0x1F
    }

    /// The descriptor cache a segment register holds once `selector` is
    /// loaded with this descriptor.
    #[inline]
    pub fn cache(&self, selector: u16) -> SegCache {
        SegCache {
            base: self.base(),
            limit: self.limit(),
            selector,
            attr: self.attr(),
        }
    }
}

/// The cache of a null selector in a data segment register: not present,
/// so any access through it raises #GP(0).
#[inline]
pub fn null_cache(selector: u16) -> SegCache {
    SegCache {
        base: 0,
        limit: 0,
        selector,
        attr: 0,
    }
}

/// The cache of a virtual-8086 segment: base `sel * 16`, 64 KiB, a ring-3
/// writable data segment (code for CS), as the CPU loads on entry to
/// virtual-8086 mode.
#[inline]
pub fn v86_cache(selector: u16, code: bool) -> SegCache {
    let attr = if code {
        SegCache::REAL_MODE_CODE
    } else {
        SegCache::REAL_MODE_DATA
    } | 3 << 5;
    SegCache {
        base: u32::from(selector) << 4,
        limit: 0xFFFF,
        selector,
        attr,
    }
}

/// Whether `[offset, offset + n)` lies inside the segment `s` (expand-down
/// data segments hold the offsets above the limit, up to 64 KiB or 4 GiB
/// by the B bit). `n` is at least 1.
#[inline]
pub fn within_limit(s: &SegCache, offset: u32, n: u32) -> bool {
    let last = u64::from(offset) + u64::from(n) - 1;
    if s.attr & (SegCache::ATTR_CODE | SegCache::ATTR_EXPAND_DOWN) == SegCache::ATTR_EXPAND_DOWN {
        let upper: u64 = if s.is_32bit() { 0xFFFF_FFFF } else { 0xFFFF };
        offset > s.limit && last <= upper
    } else {
        last <= u64::from(s.limit)
    }
}

impl Ctx<'_> {
    /// Linear address of the descriptor `sel` names (in the GDT, or the
    /// LDT when TI is set), or `None` when it lies beyond the table limit
    /// or TI names an LDT that isn't loaded.
    pub fn descriptor_addr(&self, sel: u16) -> Option<u32> {
        let off = u32::from(sel & !7);
        let (base, limit) = if sel & 4 != 0 {
            let l = &self.cpu.ldtr;
            if l.attr & SegCache::ATTR_PRESENT == 0 {
                return None;
            }
            (l.base, l.limit)
        } else {
            (self.cpu.gdtr.base, self.cpu.gdtr.limit)
        };
        (off + 7 <= limit).then(|| base.wrapping_add(off))
    }

    /// Read the descriptor `sel` names. A selector beyond its table is
    /// `vector(sel | ext)`; a page fault on the table is #PF.
    pub fn read_descriptor(&mut self, sel: u16, vector: u8, ext: u32) -> Step<Descriptor> {
        match self.descriptor_addr(sel) {
            Some(a) => self.read_descriptor_at(a),
            None => sel_fault(vector, sel, ext),
        }
    }

    /// Read the 8 bytes of a descriptor at a linear address.
    pub fn read_descriptor_at(&mut self, addr: u32) -> Step<Descriptor> {
        let lo = self.read_lin_supervisor(addr, 4)?;
        let hi = self.read_lin_supervisor(addr.wrapping_add(4), 4)?;
        Ok(Descriptor::new(lo, hi))
    }

    /// Set the accessed bit of a code or data descriptor when it is clear
    /// (the CPU writes the access byte back on every segment load that
    /// finds it clear).
    pub fn set_accessed(&mut self, sel: u16, d: &Descriptor) -> Step {
        if d.is_system() || d.hi & (1 << 8) != 0 {
            return Ok(());
        }
        if let Some(a) = self.descriptor_addr(sel) {
            self.write_lin_supervisor(a.wrapping_add(5), 1, (d.hi >> 8 | 1) & 0xFF)?;
        }
        Ok(())
    }

    /// Set or clear the busy bit of the TSS descriptor `sel` in the GDT.
    pub fn set_tss_busy(&mut self, sel: u16, busy: bool) -> Step {
        let Some(a) = self.descriptor_addr(sel & !4) else {
            return Ok(());
        };
        let access = self.read_lin_supervisor(a.wrapping_add(5), 1)?;
        let new = if busy {
            access | u32::from(TSS_BUSY_BIT)
        } else {
            access & !u32::from(TSS_BUSY_BIT)
        };
        if new != access {
            self.write_lin_supervisor(a.wrapping_add(5), 1, new)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flat_code_descriptor_decodes() {
        let d = Descriptor::from_u64(0x00CF_9A00_0000_FFFF);
        assert_eq!(d.base(), 0);
        assert_eq!(d.limit(), 0xFFFF_FFFF);
        assert!(d.is_code() && !d.is_conforming() && d.is_readable() && d.present());
        assert_eq!(d.dpl(), 0);
        let c = d.cache(0x08);
        assert!(c.is_32bit());
        assert_eq!(c.attr & 0xFF, 0x9A);
    }

    #[test]
    fn byte_granular_data_descriptor_with_scattered_base() {
        // base 0x12345678, limit 0x0ABCD, ring-3 writable data, 16-bit.
        let d = Descriptor::from_u64(0x1200_F234_5678_ABCD);
        assert_eq!(d.base(), 0x1234_5678);
        assert_eq!(d.limit(), 0xABCD);
        assert!(d.is_writable_data() && d.is_readable());
        assert_eq!(d.dpl(), 3);
        assert!(!d.cache(0x23).is_32bit());
    }

    #[test]
    fn call_gate_fields() {
        // 32-bit call gate, DPL 3, 2 parameters, target 0008:12345678.
        let d = Descriptor::new(0x0008_5678, 0x1234_EC02);
        assert!(d.is_system() && d.present());
        assert_eq!(d.typ(), CALL_GATE32);
        assert_eq!(d.dpl(), 3);
        assert_eq!(d.gate_selector(), 8);
        assert_eq!(d.gate_offset(), 0x1234_5678);
        assert_eq!(d.param_count(), 2);
        // The same gate as a 16-bit one ignores the high offset word.
        let d16 = Descriptor::new(d.lo, d.hi & !(8 << 8));
        assert_eq!(d16.gate_offset(), 0x5678);
    }

    #[test]
    fn tss_types_and_busy() {
        let avail = Descriptor::new(0x2000_0067, 0x0000_8900);
        assert!(avail.is_tss() && !avail.is_busy_tss() && avail.is_32bit_system());
        let busy = Descriptor::new(avail.lo, avail.hi | 2 << 8);
        assert!(busy.is_busy_tss());
        assert_eq!(busy.typ(), TSS32_BUSY);
    }

    #[test]
    fn expand_down_limits() {
        // Expand-down 16-bit data segment with limit 0x0FFF: valid 0x1000..=0xFFFF.
        let s = SegCache {
            base: 0,
            limit: 0x0FFF,
            selector: 0x10,
            attr: 0x96,
        };
        assert!(!within_limit(&s, 0x0FFE, 2));
        assert!(within_limit(&s, 0x1000, 4));
        assert!(within_limit(&s, 0xFFFE, 2));
        assert!(!within_limit(&s, 0xFFFF, 2));
        let up = SegCache { attr: 0x92, ..s };
        assert!(within_limit(&up, 0x0FFE, 2));
        assert!(!within_limit(&up, 0x0FFF, 2));
    }

    #[test]
    fn selector_error_codes() {
        assert_eq!(sel_error(0x002B, 0), 0x0028);
        assert_eq!(sel_error(0x002F, 1), 0x002D);
        assert!(is_null(3) && !is_null(8));
        assert_eq!(rpl(0x2B), 3);
    }
}
