//! Loading segment registers: the real-mode/v86 rule (base = selector * 16)
//! and, in protected mode, descriptor loads with their checks (SDM vol. 2
//! MOV/POP Sreg, vol. 3 5.5-5.8):
//!
//! - DS, ES, FS, GS take a null selector (any access through it is then
//!   #GP(0)); otherwise data or readable code, with RPL and CPL <= DPL
//!   unless the code is conforming; #GP(selector), #NP(selector) if not
//!   present;
//! - SS takes only a writable data segment with RPL = DPL = CPL; null is
//!   #GP(0); not present is #SS(selector);
//! - CS is loaded only by far transfers ([`Ctx::commit_cs`] after the
//!   checks of `gate.rs`, `far_return.rs`, `interrupt.rs`, `task.rs`),
//!   which also keeps [`Cpu::cpl`](super::Cpu::cpl) in step.
//!
//! The same checks serve task switches, where every failure is #TS.

use btvm_jit::abi::{sreg, SegCache};

use super::access::{Ctx, Step};
use super::descriptor::{is_null, null_cache, rpl, sel_fault};
use super::exception::{fault_code, GP, NP, SS};

impl Ctx<'_> {
    /// Load a data or stack segment register (MOV/POP Sreg, LDS..LSS) with
    /// the checks of the current mode. Loading SS inhibits interrupts for
    /// one instruction.
    pub fn load_segment(&mut self, seg: usize, selector: u16) -> Step {
        if self.cpu.real_addressing() {
            self.cpu.load_seg_real(seg, selector);
        } else {
            self.load_segment_protected(seg, selector)?;
        }
        if seg == sreg::SS {
            self.cpu.irq_shadow = true;
        }
        Ok(())
    }

    /// Protected-mode descriptor load for a data/stack segment register.
    fn load_segment_protected(&mut self, seg: usize, sel: u16) -> Step {
        let cpl = self.cpu.cpl;
        let cache = if seg == sreg::SS {
            if is_null(sel) {
                return fault_code(GP, 0);
            }
            self.check_stack_selector(sel, cpl, GP, 0)?
        } else {
            self.check_data_selector(sel, cpl, GP, 0)?
        };
        self.cpu.regs.seg[seg] = cache;
        Ok(())
    }

    /// Check `sel` for DS/ES/FS/GS at privilege `cpl`; returns the cache
    /// to load (a null selector gives an unusable cache). Failures are
    /// `bad(sel | ext)` (#GP for MOV, #TS in a task switch) and
    /// #NP(sel | ext). Sets the descriptor's accessed bit.
    pub fn check_data_selector(&mut self, sel: u16, cpl: u8, bad: u8, ext: u32) -> Step<SegCache> {
        if is_null(sel) {
            return Ok(null_cache(sel));
        }
        let d = self.read_descriptor(sel, bad, ext)?;
        if !d.is_readable() {
            return sel_fault(bad, sel, ext);
        }
        if !d.is_conforming() && (rpl(sel) > d.dpl() || cpl > d.dpl()) {
            return sel_fault(bad, sel, ext);
        }
        if !d.present() {
            return sel_fault(NP, sel, ext);
        }
        self.set_accessed(sel, &d)?;
        let mut c = d.cache(sel);
        c.attr |= SegCache::ATTR_ACCESSED;
        Ok(c)
    }

    /// Check `sel` as a stack segment for privilege level `pl`: a writable
    /// data segment with RPL = DPL = `pl`. A null selector, a selector
    /// beyond its table, or the wrong kind of segment is `bad(sel | ext)`;
    /// not present is #SS(sel | ext). Sets the accessed bit.
    pub fn check_stack_selector(&mut self, sel: u16, pl: u8, bad: u8, ext: u32) -> Step<SegCache> {
        if is_null(sel) || rpl(sel) != pl {
            return sel_fault(bad, sel, ext);
        }
        let d = self.read_descriptor(sel, bad, ext)?;
        if !d.is_writable_data() || d.dpl() != pl {
            return sel_fault(bad, sel, ext);
        }
        if !d.present() {
            return sel_fault(SS, sel, ext);
        }
        self.set_accessed(sel, &d)?;
        let mut c = d.cache(sel);
        c.attr |= SegCache::ATTR_ACCESSED;
        Ok(c)
    }

    /// Load CS with a checked descriptor cache and make `cpl` the current
    /// privilege level (CS.RPL becomes `cpl`). Every protected-mode CS load
    /// ends here, so the TLB's privilege rule runs on every CPL change.
    pub fn commit_cs(&mut self, mut cache: SegCache, cpl: u8) {
        cache.selector = (cache.selector & !3) | u16::from(cpl);
        cache.attr |= SegCache::ATTR_ACCESSED;
        self.cpu.regs.seg[sreg::CS] = cache;
        self.cpu.set_cpl(cpl);
    }

    /// After a return to an outer ring: ES, DS, FS and GS that the new CPL
    /// may not use (data or non-conforming code with DPL < CPL) become
    /// null, so the outer ring cannot keep using an inner ring's segments
    /// (SDM RET/IRET; like QEMU, a null FS/GS is left alone).
    pub fn null_outer_segments(&mut self) {
        let cpl = self.cpu.cpl;
        for seg in [sreg::ES, sreg::DS, sreg::FS, sreg::GS] {
            let s = &mut self.cpu.regs.seg[seg];
            if (seg == sreg::FS || seg == sreg::GS) && is_null(s.selector) {
                continue;
            }
            let conforming_code = s.attr & (SegCache::ATTR_CODE | SegCache::ATTR_EXPAND_DOWN)
                == SegCache::ATTR_CODE | SegCache::ATTR_EXPAND_DOWN;
            if !conforming_code && s.dpl() < cpl {
                s.selector = 0;
                s.attr &= !SegCache::ATTR_PRESENT;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use btvm_jit::abi::gpr;

    use super::*;
    use crate::cpu::exception::{Exception, Stop};
    use crate::cpu::{Cpu, TableReg, CR0_PE};
    use crate::memory::GuestMemory;
    use crate::platform::NullPlatform;

    /// A protected-mode CPU at CPL `cpl` with a GDT at 0x1000 holding
    /// `entries` (index 1 onwards).
    fn pm(mem: &mut GuestMemory, cpl: u8, entries: &[u64]) -> Cpu {
        let mut cpu = Cpu::new();
        cpu.cr0 |= CR0_PE;
        cpu.cpl = cpl;
        cpu.gdtr = TableReg {
            base: 0x1000,
            limit: 8 * (entries.len() as u32 + 1) - 1,
        };
        for (i, e) in entries.iter().enumerate() {
            mem.write_phys(0x1008 + 8 * i as u32, &e.to_le_bytes());
        }
        cpu.regs.gpr[gpr::ESP] = 0x8000;
        cpu
    }

    fn gp(code: u32) -> Result<(), Stop> {
        Err(Stop::Exception(Exception::with_error(GP, code)))
    }

    const DATA0: u64 = 0x00CF_9200_0000_FFFF; // ring-0 writable data, not accessed
    const DATA3: u64 = 0x00CF_F200_0000_FFFF; // ring-3 writable data
    const CODE0_RO: u64 = 0x00CF_9800_0000_FFFF; // ring-0 execute-only code
    const DATA0_NP: u64 = 0x00CF_1200_0000_FFFF; // ring-0 data, not present

    #[test]
    fn data_load_sets_cache_and_accessed_bit() {
        let mut mem = GuestMemory::new(1).unwrap();
        let mut cpu = pm(&mut mem, 0, &[DATA0]);
        let mut io = NullPlatform;
        let mut c = Ctx {
            cpu: &mut cpu,
            mem: &mut mem,
            io: &mut io,
        };
        c.load_segment(sreg::DS, 0x08).unwrap();
        let ds = c.cpu.regs.seg[sreg::DS];
        assert_eq!((ds.base, ds.limit, ds.selector), (0, 0xFFFF_FFFF, 0x08));
        let mut b = [0u8];
        c.mem.read_phys(0x100D, &mut b);
        assert_eq!(b[0], 0x93);
    }

    #[test]
    fn data_load_privilege_and_type_checks() {
        let mut mem = GuestMemory::new(1).unwrap();
        let mut cpu = pm(&mut mem, 3, &[DATA0, DATA3, CODE0_RO, DATA0_NP]);
        let mut io = NullPlatform;
        let mut c = Ctx {
            cpu: &mut cpu,
            mem: &mut mem,
            io: &mut io,
        };
        assert_eq!(c.load_segment(sreg::DS, 0x0B), gp(0x08)); // DPL 0 < CPL 3
        assert_eq!(c.load_segment(sreg::ES, 0x13), Ok(())); // ring-3 data
        assert_eq!(c.load_segment(sreg::FS, 0x1B), gp(0x18)); // execute-only code
        assert_eq!(c.load_segment(sreg::GS, 0x43), gp(0x40)); // beyond the GDT
        assert_eq!(c.load_segment(sreg::GS, 0x07), gp(0x04)); // no LDT loaded
        c.load_segment(sreg::DS, 0).unwrap(); // null is fine, and unusable
        assert_eq!(
            c.read_seg(sreg::DS, 0, 1),
            Err(Stop::Exception(Exception::with_error(GP, 0)))
        );
        c.cpu.cpl = 0;
        let np = c.load_segment(sreg::DS, 0x20);
        assert_eq!(np, Err(Stop::Exception(Exception::with_error(NP, 0x20))));
    }

    #[test]
    fn stack_load_rules() {
        let mut mem = GuestMemory::new(1).unwrap();
        let mut cpu = pm(&mut mem, 0, &[DATA0, DATA3, CODE0_RO, DATA0_NP]);
        let mut io = NullPlatform;
        let mut c = Ctx {
            cpu: &mut cpu,
            mem: &mut mem,
            io: &mut io,
        };
        assert_eq!(c.load_segment(sreg::SS, 0), gp(0));
        assert_eq!(c.load_segment(sreg::SS, 0x13), gp(0x10)); // RPL 3 != CPL 0
        assert_eq!(c.load_segment(sreg::SS, 0x18), gp(0x18)); // code
        let np = c.load_segment(sreg::SS, 0x20);
        assert_eq!(np, Err(Stop::Exception(Exception::with_error(SS, 0x20))));
        c.load_segment(sreg::SS, 0x08).unwrap();
        assert!(c.cpu.irq_shadow);
    }

    #[test]
    fn return_to_outer_ring_nulls_inner_data_segments() {
        let mut mem = GuestMemory::new(1).unwrap();
        let mut cpu = pm(&mut mem, 0, &[DATA0, DATA3]);
        let mut io = NullPlatform;
        let mut c = Ctx {
            cpu: &mut cpu,
            mem: &mut mem,
            io: &mut io,
        };
        c.load_segment(sreg::DS, 0x08).unwrap();
        c.load_segment(sreg::ES, 0x13).unwrap();
        c.cpu.cpl = 3;
        c.null_outer_segments();
        assert_eq!(c.cpu.regs.seg[sreg::DS].selector, 0);
        assert_eq!(c.cpu.regs.seg[sreg::ES].selector, 0x13);
    }
}
