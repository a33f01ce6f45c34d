//! RETF and IRET in protected mode (SDM vol. 2 RET and IRET):
//!
//! - the popped CS must be code with RPL >= CPL (conforming: DPL <= RPL,
//!   non-conforming: DPL = RPL), present; RPL is the new CPL;
//! - to the same privilege only EIP and CS (and FLAGS) are popped;
//! - to an outer ring the caller's ESP and SS follow (checked like a
//!   stack load at the new CPL, faults are #GP), and ES/DS/FS/GS that the
//!   outer ring may not use become null;
//! - IRET with NT set returns to the task in the TSS back link;
//! - IRETD at CPL 0 with VM set in the popped EFLAGS returns to
//!   virtual-8086 mode, popping ESP, SS, ES, DS, FS and GS too.
//!
//! Every read and check happens before any register changes.

use btvm_jit::abi::{gpr, sreg};
use btvm_jit::flags::*;

use super::access::{Ctx, Step};
use super::descriptor::*;
use super::exception::{fault_code, GP, NP, TS};
use super::task::TaskSwitch;

/// EFLAGS bits an IRET to virtual-8086 mode loads (everything defined).
const V86_IRET_LOADABLE: u32 = 0x003F_7FD5;

impl Ctx<'_> {
    /// Check the CS selector popped by RETF/IRET; returns its descriptor.
    fn check_return_cs(&mut self, sel: u16) -> Step<Descriptor> {
        if is_null(sel) {
            return fault_code(GP, 0);
        }
        let d = self.read_descriptor(sel, GP, 0)?;
        let r = rpl(sel);
        if !d.is_code() || r < self.cpu.cpl {
            return sel_fault(GP, sel, 0);
        }
        if (d.is_conforming() && d.dpl() > r) || (!d.is_conforming() && d.dpl() != r) {
            return sel_fault(GP, sel, 0);
        }
        if !d.present() {
            return sel_fault(NP, sel, 0);
        }
        Ok(d)
    }

    /// Finish a return to an outer ring: load SS:ESP (a 16-bit stack keeps
    /// the high word of ESP, as QEMU does) and drop inner data segments.
    fn commit_outer_stack(&mut self, ss: btvm_jit::abi::SegCache, esp: u32) {
        let m = if ss.is_32bit() { u32::MAX } else { 0xFFFF };
        self.cpu.regs.seg[sreg::SS] = ss;
        let r = &mut self.cpu.regs.gpr[gpr::ESP];
        *r = (*r & !m) | (esp & m);
        self.null_outer_segments();
    }

    /// RETF (`imm` more bytes released) in protected mode.
    pub(crate) fn far_return_protected(&mut self, op32: bool, imm: u16) -> Step {
        let n = if op32 { 4 } else { 2 };
        let eip = self.peek(0, n)?;
        let cs = self.peek(n as u32, n)? as u16;
        let d = self.check_return_cs(cs)?;
        let new_cpl = rpl(cs);
        let imm = u32::from(imm);
        if new_cpl == self.cpu.cpl {
            if eip > d.limit() {
                return fault_code(GP, 0);
            }
            self.set_accessed(cs, &d)?;
            let sp = self.sp().wrapping_add(2 * n as u32).wrapping_add(imm);
            self.set_sp(sp);
            self.commit_cs(d.cache(cs), new_cpl);
            self.cpu.regs.eip = eip;
            return Ok(());
        }
        let esp = self.peek(2 * n as u32 + imm, n)?;
        let ss_sel = self.peek(3 * n as u32 + imm, n)? as u16;
        if is_null(ss_sel) {
            return fault_code(GP, 0);
        }
        let ss = self.check_stack_selector(ss_sel, new_cpl, GP, 0)?;
        if eip > d.limit() {
            return fault_code(GP, 0);
        }
        self.set_accessed(cs, &d)?;
        self.commit_cs(d.cache(cs), new_cpl);
        self.commit_outer_stack(ss, esp.wrapping_add(imm));
        self.cpu.regs.eip = eip;
        Ok(())
    }

    /// IRET/IRETD in protected mode (not virtual-8086 mode).
    pub(crate) fn iret_protected(&mut self, op32: bool) -> Step {
        if self.cpu.regs.flags & FLAG_NT != 0 {
            return self.iret_task();
        }
        let n = if op32 { 4 } else { 2 };
        let eip = self.peek(0, n)?;
        let cs = self.peek(n as u32, n)? as u16;
        let image = self.peek(2 * n as u32, n)?;
        if op32 && image & FLAG_VM != 0 && self.cpu.cpl == 0 {
            return self.iret_to_v86(eip, cs, image);
        }
        let d = self.check_return_cs(cs)?;
        let new_cpl = rpl(cs);
        // IOPL and IF are loadable by the privilege of the IRET itself.
        let flags = self.popped_flags(image, op32, true);
        if new_cpl == self.cpu.cpl {
            if eip > d.limit() {
                return fault_code(GP, 0);
            }
            self.set_accessed(cs, &d)?;
            let sp = self.sp().wrapping_add(3 * n as u32);
            self.set_sp(sp);
            self.commit_cs(d.cache(cs), new_cpl);
            self.cpu.regs.eip = eip;
            self.write_eflags(flags);
            return Ok(());
        }
        let esp = self.peek(3 * n as u32, n)?;
        let ss_sel = self.peek(4 * n as u32, n)? as u16;
        if is_null(ss_sel) {
            return fault_code(GP, 0);
        }
        let ss = self.check_stack_selector(ss_sel, new_cpl, GP, 0)?;
        if eip > d.limit() {
            return fault_code(GP, 0);
        }
        self.set_accessed(cs, &d)?;
        self.commit_cs(d.cache(cs), new_cpl);
        self.commit_outer_stack(ss, esp);
        self.cpu.regs.eip = eip;
        self.write_eflags(flags);
        Ok(())
    }

    /// IRETD from CPL 0 to virtual-8086 mode: the frame holds EIP, CS,
    /// EFLAGS, ESP, SS, ES, DS, FS, GS (doublewords).
    fn iret_to_v86(&mut self, eip: u32, cs: u16, image: u32) -> Step {
        let mut sels = [0u16; 5];
        for (k, s) in sels.iter_mut().enumerate() {
            *s = self.peek(16 + 4 * k as u32, 4)? as u16;
        }
        let esp = self.peek(12, 4)?;
        let [ss, es, ds, fs, gs] = sels;
        self.write_eflags((image & V86_IRET_LOADABLE) | FLAG_FIXED1);
        let r = &mut self.cpu.regs;
        r.seg[sreg::CS] = v86_cache(cs, true);
        r.seg[sreg::SS] = v86_cache(ss, false);
        r.seg[sreg::ES] = v86_cache(es, false);
        r.seg[sreg::DS] = v86_cache(ds, false);
        r.seg[sreg::FS] = v86_cache(fs, false);
        r.seg[sreg::GS] = v86_cache(gs, false);
        r.gpr[gpr::ESP] = esp;
        r.eip = eip & 0xFFFF;
        self.cpu.set_cpl(3);
        Ok(())
    }

    /// IRET with NT set: switch back to the task named by the back link of
    /// the current TSS, which must be a busy TSS in the GDT (#TS(link)),
    /// present (#NP(link)).
    fn iret_task(&mut self) -> Step {
        let tr = self.cpu.tr;
        let link = self.read_lin_supervisor(tr.base, 2)? as u16;
        if link & 4 != 0 {
            return sel_fault(TS, link, 0);
        }
        let d = self.read_descriptor(link, TS, 0)?;
        if !d.is_busy_tss() {
            return sel_fault(TS, link, 0);
        }
        if !d.present() {
            return sel_fault(NP, link, 0);
        }
        let next = self.cpu.regs.eip;
        self.task_switch(link, d, TaskSwitch::Iret, None, 0, next)
    }
}

#[cfg(test)]
mod tests {
    use btvm_jit::abi::SegCache;

    use super::*;
    use crate::cpu::exception::{Exception, Stop};
    use crate::cpu::{Cpu, TableReg, CR0_PE};
    use crate::memory::GuestMemory;
    use crate::platform::NullPlatform;

    const CODE0: u64 = 0x00CF_9A00_0000_FFFF; // 0x08
    const DATA0: u64 = 0x00CF_9200_0000_FFFF; // 0x10
    const CODE3: u64 = 0x00CF_FA00_0000_FFFF; // 0x18
    const DATA3: u64 = 0x00CF_F200_0000_FFFF; // 0x20

    fn ring0(mem: &mut GuestMemory) -> Cpu {
        let mut cpu = Cpu::new();
        cpu.cr0 |= CR0_PE;
        for (i, e) in [0, CODE0, DATA0, CODE3, DATA3].iter().enumerate() {
            mem.write_phys(0x1000 + 8 * i as u32, &e.to_le_bytes());
        }
        cpu.gdtr = TableReg {
            base: 0x1000,
            limit: 39,
        };
        let d = |v: u64, s: u16| Descriptor::from_u64(v).cache(s);
        cpu.regs.seg = [
            d(DATA0, 0x10),
            d(CODE0, 0x08),
            d(DATA0, 0x10),
            d(DATA0, 0x10),
            d(DATA3, 0x23),
            SegCache::default(),
        ];
        cpu.regs.gpr[gpr::ESP] = 0x8000;
        cpu
    }

    fn push_all(c: &mut Ctx, vals: &[u32]) {
        for &v in vals.iter().rev() {
            c.push(4, v).unwrap();
        }
    }

    #[test]
    fn iretd_to_ring3_loads_stack_flags_and_nulls_ring0_segments() {
        let mut mem = GuestMemory::new(1).unwrap();
        let mut cpu = ring0(&mut mem);
        let mut io = NullPlatform;
        let mut c = Ctx {
            cpu: &mut cpu,
            mem: &mut mem,
            io: &mut io,
        };
        push_all(&mut c, &[0x1000, 0x1B, 0x3202, 0x6000, 0x23]);
        c.iret(true).unwrap();
        assert_eq!(c.cpu.cpl, 3);
        assert_eq!(c.cpu.regs.eip, 0x1000);
        assert_eq!(c.cpu.regs.gpr[gpr::ESP], 0x6000);
        assert_eq!(
            c.cpu.regs.eflags() & (FLAG_IF | FLAG_IOPL),
            FLAG_IF | FLAG_IOPL
        );
        assert_eq!(c.cpu.regs.seg[sreg::DS].selector, 0);
        assert_eq!(c.cpu.regs.seg[sreg::FS].selector, 0x23);
        assert_eq!(c.cpu.regs.seg[sreg::GS].selector, 0);
    }

    #[test]
    fn retf_to_more_privileged_ring_is_gp() {
        let mut mem = GuestMemory::new(1).unwrap();
        let mut cpu = ring0(&mut mem);
        cpu.cpl = 3;
        let mut io = NullPlatform;
        let mut c = Ctx {
            cpu: &mut cpu,
            mem: &mut mem,
            io: &mut io,
        };
        push_all(&mut c, &[0x1000, 0x08]);
        assert_eq!(
            c.far_return(true, 0),
            Err(Stop::Exception(Exception::with_error(GP, 0x08)))
        );
    }

    #[test]
    fn iretd_with_vm_enters_v86_mode() {
        let mut mem = GuestMemory::new(1).unwrap();
        let mut cpu = ring0(&mut mem);
        let mut io = NullPlatform;
        let mut c = Ctx {
            cpu: &mut cpu,
            mem: &mut mem,
            io: &mut io,
        };
        push_all(
            &mut c,
            &[
                0x0100,
                0x2000,
                FLAG_VM | 0x3002,
                0xFFFE,
                0x3000,
                0x4000,
                0x5000,
                0x6000,
                0x7000,
            ],
        );
        c.iret(true).unwrap();
        assert!(c.cpu.v86());
        assert_eq!(c.cpu.cpl, 3);
        assert_eq!(c.cpu.regs.seg[sreg::CS].base, 0x20000);
        assert_eq!(c.cpu.regs.seg[sreg::SS].base, 0x30000);
        assert_eq!(c.cpu.regs.seg[sreg::GS].selector, 0x7000);
        assert_eq!((c.cpu.regs.eip, c.cpu.regs.gpr[gpr::ESP]), (0x100, 0xFFFE));
    }
}
