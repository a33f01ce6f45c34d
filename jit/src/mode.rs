//! The mode key: every bit of CPU mode that generated code depends on. A
//! block is looked up by (EIP, CS base, mode key), so a mode change is a
//! cache miss, never a wrong block.
//!
//! Example: a block translated for 32-bit flat protected mode at CPL 0 has
//! CODE32 | STACK32 | PE and every data segment [`SegClass::Flat`]; after
//! `mov ds, ax` loads a segment with a base, DS becomes
//! [`SegClass::Limit`] and the same EIP gets another block.

use crate::abi::{sreg, SegCache};

/// How generated code may address a segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum SegClass {
    /// Base 0, 4 GiB limit, expand-up, readable and writable: the offset
    /// is the linear address.
    Flat = 0,
    /// Expand-up, readable and writable (or real-mode addressing, which
    /// checks the limit only): check the limit inline, add the base.
    Limit = 1,
    /// Anything else (expand-down, read-only, code, not present, null):
    /// every access goes to the slow path.
    Slow = 2,
}

/// A block's mode key (see the module documentation).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct ModeKey(pub u32);

impl ModeKey {
    /// CS.D: 32-bit code.
    pub const CODE32: u32 = 1 << 0;
    /// SS.B: 32-bit stack pointer.
    pub const STACK32: u32 = 1 << 1;
    /// CR0.PE.
    pub const PE: u32 = 1 << 4;
    /// EFLAGS.VM.
    pub const VM: u32 = 1 << 5;
    /// CS's limit covers every EIP the operand size can form (0xFFFF or
    /// 4 GiB - 1): near branches need no limit check.
    pub const CS_FULL: u32 = 1 << 6;
    const CPL_SHIFT: u32 = 2;
    const SEG_SHIFT: u32 = 8;

    /// The key for a CPU state.
    pub fn new(segs: &[SegCache; 6], cpl: u8, pe: bool, vm: bool) -> Self {
        let real = !pe || vm;
        let cs = &segs[sreg::CS];
        let code32 = cs.is_32bit();
        let mut k = 0;
        if code32 {
            k |= Self::CODE32;
        }
        if segs[sreg::SS].is_32bit() {
            k |= Self::STACK32;
        }
        k |= u32::from(cpl & 3) << Self::CPL_SHIFT;
        if pe {
            k |= Self::PE;
        }
        if vm {
            k |= Self::VM;
        }
        if cs.limit >= if code32 { u32::MAX } else { 0xFFFF } {
            k |= Self::CS_FULL;
        }
        for (i, s) in segs.iter().enumerate() {
            k |= (classify(s, real) as u32) << (Self::SEG_SHIFT + 2 * i as u32);
        }
        ModeKey(k)
    }

    /// Whether a bit is set.
    pub fn has(self, bit: u32) -> bool {
        self.0 & bit != 0
    }

    /// How segment register `s` may be addressed.
    pub fn seg(self, s: usize) -> SegClass {
        match (self.0 >> (Self::SEG_SHIFT + 2 * s as u32)) & 3 {
            0 => SegClass::Flat,
            1 => SegClass::Limit,
            _ => SegClass::Slow,
        }
    }
}

/// Classify one segment register (see [`SegClass`]).
fn classify(s: &SegCache, real: bool) -> SegClass {
    let kind = s.attr & (SegCache::ATTR_CODE | SegCache::ATTR_EXPAND_DOWN | SegCache::ATTR_RW);
    let usable = if real {
        // Real and v86 modes check limits only (an expand-down cache left
        // over from protected mode changes the limit's meaning).
        s.attr & (SegCache::ATTR_CODE | SegCache::ATTR_EXPAND_DOWN) != SegCache::ATTR_EXPAND_DOWN
    } else {
        s.attr & SegCache::ATTR_PRESENT != 0
            && s.attr & SegCache::ATTR_S != 0
            && kind == SegCache::ATTR_RW
    };
    if !usable {
        SegClass::Slow
    } else if s.base == 0 && s.limit == u32::MAX {
        SegClass::Flat
    } else {
        SegClass::Limit
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flat(attr: u16) -> SegCache {
        SegCache {
            base: 0,
            limit: u32::MAX,
            selector: 0x10,
            attr,
        }
    }

    #[test]
    fn flat_protected_mode_and_real_mode_keys() {
        let data = SegCache::REAL_MODE_DATA | SegCache::ATTR_DB | SegCache::ATTR_G;
        let code = SegCache::REAL_MODE_CODE | SegCache::ATTR_DB | SegCache::ATTR_G;
        let mut segs = [flat(data); 6];
        segs[sreg::CS] = flat(code);
        let k = ModeKey::new(&segs, 0, true, false);
        assert!(k.has(ModeKey::CODE32) && k.has(ModeKey::STACK32) && k.has(ModeKey::CS_FULL));
        assert_eq!(k.seg(sreg::DS), SegClass::Flat);
        assert_eq!(k.seg(sreg::CS), SegClass::Slow, "code is not writable");

        let real = [SegCache::real_mode(0x1000, false); 6];
        let k = ModeKey::new(&real, 0, false, false);
        assert!(!k.has(ModeKey::CODE32) && k.has(ModeKey::CS_FULL));
        assert_eq!(k.seg(sreg::ES), SegClass::Limit);

        segs[sreg::ES].attr |= SegCache::ATTR_EXPAND_DOWN;
        assert_eq!(
            ModeKey::new(&segs, 3, true, false).seg(sreg::ES),
            SegClass::Slow
        );
    }
}
