//! Far JMP and far CALL in protected mode (SDM vol. 2 JMP/CALL, vol. 3
//! 5.8): the target selector names
//!
//! - a code segment: conforming code needs DPL <= CPL, non-conforming
//!   code needs RPL <= CPL and DPL = CPL; CPL never changes;
//! - a call gate (DPL >= CPL and >= RPL): its code segment needs
//!   DPL <= CPL. JMP never changes privilege; CALL to a more privileged
//!   non-conforming segment switches to the inner stack from the TSS and
//!   copies the gate's parameter count of words (16-bit gate) or
//!   doublewords (32-bit gate) from the caller's stack;
//! - a task gate or an available TSS (DPL >= CPL and >= RPL): a task
//!   switch (`task.rs`).
//!
//! Everything that can fault is checked before CS, SS, ESP or CPL change.
//!
//! Example: `call 0x0023:0` at CPL 3, with GDT entry 4 a ring-3 32-bit call
//! gate to ring-0 code with one parameter, pushes the ring-3 SS, ESP, the
//! parameter, CS and EIP on the ring-0 stack named by TSS.SS0:ESP0.

use btvm_jit::abi::{gpr, sreg};

use super::access::{Ctx, Step};
use super::descriptor::*;
use super::exception::{fault_code, GP, NP, TS};
use super::frame::Stack;
use super::task::TaskSwitch;

impl Ctx<'_> {
    /// Checks for a direct far JMP/CALL to a code segment descriptor.
    fn check_direct_code(&self, sel: u16, d: &Descriptor) -> Step {
        let cpl = self.cpu.cpl;
        let ok = if d.is_conforming() {
            d.dpl() <= cpl
        } else {
            rpl(sel) <= cpl && d.dpl() == cpl
        };
        if !ok {
            return sel_fault(GP, sel, 0);
        }
        if !d.present() {
            return sel_fault(NP, sel, 0);
        }
        Ok(())
    }

    /// Checks on a call gate, task gate or TSS named directly by JMP/CALL:
    /// DPL >= CPL and >= RPL (#GP(sel)), present (#NP(sel)).
    fn check_gate_privilege(&self, sel: u16, d: &Descriptor) -> Step {
        if d.dpl() < self.cpu.cpl || d.dpl() < rpl(sel) {
            return sel_fault(GP, sel, 0);
        }
        if !d.present() {
            return sel_fault(NP, sel, 0);
        }
        Ok(())
    }

    /// The code segment a call gate points at: null is #GP(0); the
    /// selector beyond its table, not code, or DPL > CPL is #GP(selector);
    /// not present is #NP(selector).
    fn gate_code_target(&mut self, gate: &Descriptor) -> Step<(u16, Descriptor)> {
        let cs = gate.gate_selector();
        if is_null(cs) {
            return fault_code(GP, 0);
        }
        let d = self.read_descriptor(cs, GP, 0)?;
        if !d.is_code() || d.dpl() > self.cpu.cpl {
            return sel_fault(GP, cs, 0);
        }
        if !d.present() {
            return sel_fault(NP, cs, 0);
        }
        Ok((cs, d))
    }

    /// The TSS a task gate points at: it must be in the GDT and an
    /// available TSS (#GP(TSS selector | ext)) and present (#NP).
    pub fn task_gate_target(&mut self, gate: &Descriptor, ext: u32) -> Step<(u16, Descriptor)> {
        let sel = gate.gate_selector();
        if sel & 4 != 0 {
            return sel_fault(GP, sel, ext);
        }
        let d = self.read_descriptor(sel, GP, ext)?;
        if !d.is_tss() || d.is_busy_tss() {
            return sel_fault(GP, sel, ext);
        }
        if !d.present() {
            return sel_fault(NP, sel, ext);
        }
        Ok((sel, d))
    }

    /// Far JMP in protected mode.
    pub(crate) fn far_jump_protected(&mut self, sel: u16, off: u32, op32: bool) -> Step {
        if is_null(sel) {
            return fault_code(GP, 0);
        }
        let d = self.read_descriptor(sel, GP, 0)?;
        let cpl = self.cpu.cpl;
        if d.is_code() {
            self.check_direct_code(sel, &d)?;
            let off = if op32 { off } else { off & 0xFFFF };
            if off > d.limit() {
                return fault_code(GP, 0);
            }
            self.set_accessed(sel, &d)?;
            self.commit_cs(d.cache(sel), cpl);
            self.cpu.regs.eip = off;
            return Ok(());
        }
        if !d.is_system() {
            return sel_fault(GP, sel, 0);
        }
        let next = self.cpu.regs.eip;
        match d.typ() {
            CALL_GATE16 | CALL_GATE32 => {
                self.check_gate_privilege(sel, &d)?;
                let (cs, cd) = self.gate_code_target(&d)?;
                // A jump through a call gate never changes privilege.
                if !cd.is_conforming() && cd.dpl() != cpl {
                    return sel_fault(GP, cs, 0);
                }
                let off = d.gate_offset();
                if off > cd.limit() {
                    return fault_code(GP, 0);
                }
                self.set_accessed(cs, &cd)?;
                self.commit_cs(cd.cache(cs), cpl);
                self.cpu.regs.eip = off;
                Ok(())
            }
            TASK_GATE => {
                self.check_gate_privilege(sel, &d)?;
                let (tss, td) = self.task_gate_target(&d, 0)?;
                self.task_switch(tss, td, TaskSwitch::Jmp, None, 0, next)
            }
            TSS16_AVAIL | TSS32_AVAIL => {
                self.check_gate_privilege(sel, &d)?;
                self.task_switch(sel, d, TaskSwitch::Jmp, None, 0, next)
            }
            _ => sel_fault(GP, sel, 0),
        }
    }

    /// Far CALL in protected mode, returning to `return_eip`.
    pub(crate) fn far_call_protected(
        &mut self,
        sel: u16,
        off: u32,
        op32: bool,
        return_eip: u32,
    ) -> Step {
        if is_null(sel) {
            return fault_code(GP, 0);
        }
        let d = self.read_descriptor(sel, GP, 0)?;
        let cpl = self.cpu.cpl;
        if d.is_code() {
            self.check_direct_code(sel, &d)?;
            let off = if op32 { off } else { off & 0xFFFF };
            if off > d.limit() {
                return fault_code(GP, 0);
            }
            let n = if op32 { 4 } else { 2 };
            let cs = u32::from(self.cpu.regs.seg[sreg::CS].selector);
            self.set_accessed(sel, &d)?;
            let st = self.current_stack();
            let esp = self.push_frame(&st, n, &[cs, return_eip], 0)?;
            self.cpu.regs.gpr[gpr::ESP] = esp;
            self.commit_cs(d.cache(sel), cpl);
            self.cpu.regs.eip = off;
            return Ok(());
        }
        if !d.is_system() {
            return sel_fault(GP, sel, 0);
        }
        match d.typ() {
            CALL_GATE16 | CALL_GATE32 => {
                self.check_gate_privilege(sel, &d)?;
                self.call_gate(&d, return_eip)
            }
            TASK_GATE => {
                self.check_gate_privilege(sel, &d)?;
                let (tss, td) = self.task_gate_target(&d, 0)?;
                self.task_switch(tss, td, TaskSwitch::Call, None, 0, return_eip)
            }
            TSS16_AVAIL | TSS32_AVAIL => {
                self.check_gate_privilege(sel, &d)?;
                self.task_switch(sel, d, TaskSwitch::Call, None, 0, return_eip)
            }
            _ => sel_fault(GP, sel, 0),
        }
    }

    /// CALL through a checked call gate: to the same privilege, or to an
    /// inner ring with a stack switch and parameter copy.
    fn call_gate(&mut self, gate: &Descriptor, return_eip: u32) -> Step {
        let (cs, cd) = self.gate_code_target(gate)?;
        let cpl = self.cpu.cpl;
        let n = if gate.is_32bit_system() { 4 } else { 2 };
        let off = gate.gate_offset();
        let old_cs = u32::from(self.cpu.regs.seg[sreg::CS].selector);
        if cd.is_conforming() || cd.dpl() == cpl {
            if off > cd.limit() {
                return fault_code(GP, 0);
            }
            self.set_accessed(cs, &cd)?;
            let st = self.current_stack();
            let esp = self.push_frame(&st, n, &[old_cs, return_eip], 0)?;
            self.cpu.regs.gpr[gpr::ESP] = esp;
            self.commit_cs(cd.cache(cs), cpl);
            self.cpu.regs.eip = off;
            return Ok(());
        }
        // More privileged: the stack for ring DPL comes from the TSS.
        let new_cpl = cd.dpl();
        let (ss_sel, tss_esp) = self.tss_inner_stack(new_cpl, 0)?;
        let ss = self.check_stack_selector(ss_sel, new_cpl, TS, 0)?;
        let count = gate.param_count() as usize;
        let mut values = [0u32; 35];
        values[0] = u32::from(self.cpu.regs.seg[sreg::SS].selector);
        values[1] = self.cpu.regs.gpr[gpr::ESP];
        // The deepest parameter is pushed first, so the copy keeps the
        // caller's order: param k of the caller sits at [ESP + k*n].
        for k in 0..count {
            let depth = ((count - 1 - k) * n) as u32;
            values[2 + k] = self.peek(depth, n)?;
        }
        values[2 + count] = old_cs;
        values[3 + count] = return_eip;
        if off > cd.limit() {
            return fault_code(GP, 0);
        }
        self.set_accessed(cs, &cd)?;
        let st = Stack {
            ss,
            esp: tss_esp,
            user: new_cpl == 3,
        };
        let esp = self.push_frame(&st, n, &values[..4 + count], sel_error(ss_sel, 0))?;
        self.cpu.regs.seg[sreg::SS] = ss;
        self.cpu.regs.gpr[gpr::ESP] = esp;
        self.commit_cs(cd.cache(cs), new_cpl);
        self.cpu.regs.eip = off;
        Ok(())
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

    const CODE0: u64 = 0x00CF_9A00_0000_FFFF; // 0x08 ring-0 code
    const DATA0: u64 = 0x00CF_9200_0000_FFFF; // 0x10 ring-0 data
    const CODE3: u64 = 0x00CF_FA00_0000_FFFF; // 0x18 ring-3 code
    const DATA3: u64 = 0x00CF_F200_0000_FFFF; // 0x20 ring-3 data
    const TSS: u64 = 0x0000_8900_3000_0067; // 0x28 32-bit TSS at 0x3000
    /// 0x30: 32-bit call gate, DPL 3, two parameters, to 0008:00001234.
    const GATE: u64 = 0x0000_EC02_0008_1234;
    /// 0x38: the same gate with DPL 0.
    const GATE_DPL0: u64 = 0x0000_8C02_0008_1234;

    /// A CPU at CPL 3 running on ring-3 flat segments, with a TSS whose
    /// ring-0 stack is 0010:00009000.
    fn ring3(mem: &mut GuestMemory) -> Cpu {
        let mut cpu = Cpu::new();
        cpu.cr0 |= CR0_PE;
        let gdt = [0, CODE0, DATA0, CODE3, DATA3, TSS, GATE, GATE_DPL0];
        for (i, e) in gdt.iter().enumerate() {
            mem.write_phys(0x1000 + 8 * i as u32, &e.to_le_bytes());
        }
        cpu.gdtr = TableReg {
            base: 0x1000,
            limit: 8 * gdt.len() as u32 - 1,
        };
        mem.write_phys(0x3004, &0x9000u32.to_le_bytes());
        mem.write_phys(0x3008, &0x10u16.to_le_bytes());
        cpu.tr = SegCache {
            base: 0x3000,
            limit: 0x67,
            selector: 0x28,
            attr: 0x8B,
        };
        let d = |v: u64, s: u16| Descriptor::from_u64(v).cache(s);
        cpu.regs.seg = [
            d(DATA3, 0x23),
            d(CODE3, 0x1B),
            d(DATA3, 0x23),
            d(DATA3, 0x23),
            d(DATA3, 0x23),
            d(DATA3, 0x23),
        ];
        cpu.cpl = 3;
        cpu.regs.gpr[gpr::ESP] = 0x7000;
        cpu
    }

    #[test]
    fn call_gate_to_ring0_switches_stack_and_copies_parameters() {
        let mut mem = GuestMemory::new(1).unwrap();
        let mut cpu = ring3(&mut mem);
        mem.write_phys(0x7000, &0xAAAA_AAAAu32.to_le_bytes()); // param 0
        mem.write_phys(0x7004, &0xBBBB_BBBBu32.to_le_bytes()); // param 1
        let mut io = NullPlatform;
        let mut c = Ctx {
            cpu: &mut cpu,
            mem: &mut mem,
            io: &mut io,
        };
        c.far_call(0x33, 0, true, 0x4567).unwrap();
        assert_eq!(c.cpu.cpl, 0);
        assert_eq!(c.cpu.regs.seg[sreg::CS].selector, 0x08);
        assert_eq!(c.cpu.regs.eip, 0x1234);
        assert_eq!(c.cpu.regs.seg[sreg::SS].selector, 0x10);
        assert_eq!(c.cpu.regs.gpr[gpr::ESP], 0x9000 - 24);
        let frame: Vec<u32> = (0..6)
            .map(|k| c.read_lin_supervisor(0x9000 - 24 + 4 * k, 4).unwrap())
            .collect();
        assert_eq!(
            frame,
            [0x4567, 0x1B, 0xAAAA_AAAA, 0xBBBB_BBBB, 0x7000, 0x23]
        );
        // RETF 8 goes back to ring 3 and drops the parameters from both stacks.
        c.far_return(true, 8).unwrap();
        assert_eq!(
            (c.cpu.cpl, c.cpu.regs.eip, c.cpu.regs.gpr[gpr::ESP]),
            (3, 0x4567, 0x7008)
        );
        assert_eq!(c.cpu.regs.seg[sreg::SS].selector, 0x23);
    }

    #[test]
    fn gate_dpl_below_cpl_is_gp_and_changes_nothing() {
        let mut mem = GuestMemory::new(1).unwrap();
        let mut cpu = ring3(&mut mem);
        let before = cpu.regs.clone();
        let mut io = NullPlatform;
        let mut c = Ctx {
            cpu: &mut cpu,
            mem: &mut mem,
            io: &mut io,
        };
        let r = c.far_call(0x3B, 0, true, 0);
        assert_eq!(r, Err(Stop::Exception(Exception::with_error(GP, 0x38))));
        assert_eq!(c.cpu.regs, before);
        assert_eq!(c.cpu.cpl, 3);
    }

    #[test]
    fn direct_jump_to_more_privileged_code_is_gp() {
        let mut mem = GuestMemory::new(1).unwrap();
        let mut cpu = ring3(&mut mem);
        let mut io = NullPlatform;
        let mut c = Ctx {
            cpu: &mut cpu,
            mem: &mut mem,
            io: &mut io,
        };
        assert_eq!(
            c.far_jump(0x08, 0, true),
            Err(Stop::Exception(Exception::with_error(GP, 0x08)))
        );
        assert_eq!(
            c.far_jump(0x00, 0, true),
            Err(Stop::Exception(Exception::with_error(GP, 0)))
        );
        c.far_jump(0x1B, 0x100, true).unwrap();
        assert_eq!(c.cpu.regs.eip, 0x100);
    }

    #[test]
    fn inner_stack_fault_is_ts_with_the_ss_selector() {
        let mut mem = GuestMemory::new(1).unwrap();
        let mut cpu = ring3(&mut mem);
        mem.write_phys(0x3008, &0x20u16.to_le_bytes()); // SS0 = ring-3 data (RPL 0 != DPL 3)
        let mut io = NullPlatform;
        let mut c = Ctx {
            cpu: &mut cpu,
            mem: &mut mem,
            io: &mut io,
        };
        assert_eq!(
            c.far_call(0x33, 0, true, 0),
            Err(Stop::Exception(Exception::with_error(TS, 0x20)))
        );
        assert_eq!(c.cpu.cpl, 3);
    }
}
