//! Hardware task switching (SDM vol. 3, 7.3): JMP or CALL to a TSS or a
//! task gate, an interrupt or exception through a task gate, and IRET with
//! NT set.
//!
//! The switch has a commit point. Before it, the new TSS is checked (limit
//! at least 0x67 for a 32-bit TSS, 0x2B for a 16-bit one: #TS) and read
//! completely, and every byte the switch will write (the old TSS's dynamic
//! fields, the new TSS's back link, both busy bits) is probed, so a fault
//! there leaves the old task untouched. After it, the old state is saved,
//! busy bits and the back link are updated, TR, CR0.TS, CR3 (32-bit TSS
//! with paging on), EFLAGS, EIP and the GPRs are loaded, and then the LDT
//! and the segment registers are validated: a fault from here on belongs
//! to the new task and is delivered in its context.
//!
//! TSS layouts (offsets):
//!
//! ```text
//! 32-bit: 00 link  04 ESP0 08 SS0 .. 1C CR3  20 EIP  24 EFLAGS  28 EAX ECX
//!         EDX EBX ESP EBP ESI EDI (to 44)  48 ES CS SS DS FS GS (dwords)
//!         60 LDT  64 T  66 I/O map base
//! 16-bit: 00 link  02 SP0 04 SS0 .. 0E IP  10 FLAGS  12 AX CX DX BX SP BP
//!         SI DI  22 ES CS SS DS  2A LDT
//! ```

use btvm_jit::abi::sreg;
use btvm_jit::flags::{FLAG_FIXED1, FLAG_NT, FLAG_VM};

use super::access::{Ctx, Step};
use super::descriptor::*;
use super::exception::{fault_code, Stop, GP, NP, TS};
use super::CR0_TS;

/// What started a task switch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TaskSwitch {
    /// JMP: the old task is no longer busy, no back link.
    Jmp,
    /// CALL: the new task links back to the old one and gets NT.
    Call,
    /// IRET with NT: back to the linked task; the old one is not busy.
    Iret,
    /// An interrupt or exception through a task gate (like CALL).
    Interrupt,
}

/// EFLAGS bits a task switch loads from the TSS.
const TSS_EFLAGS: u32 = 0x003F_7FD5;

/// How deep faults raised after a task switch's commit point may nest
/// (each delivered through yet another task) before the CPU is treated as
/// shut down: a guard against a guest chaining thousands of broken TSSs
/// into host stack exhaustion.
const MAX_NESTED_TASK_FAULTS: u32 = 16;

thread_local! {
    static NESTED_TASK_FAULTS: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

/// The state a TSS holds for its task.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TssState {
    /// CR3 (32-bit TSS only).
    pub cr3: u32,
    /// EIP.
    pub eip: u32,
    /// EFLAGS.
    pub eflags: u32,
    /// EAX..EDI in encoding order.
    pub gpr: [u32; 8],
    /// ES, CS, SS, DS, FS, GS selectors.
    pub seg: [u16; 6],
    /// LDT selector.
    pub ldt: u16,
}

impl Ctx<'_> {
    /// Read the task state of a TSS at linear `base`.
    pub fn read_tss(&mut self, base: u32, tss32: bool) -> Step<TssState> {
        let mut st = TssState::default();
        let r = |c: &mut Self, off: u32, n: usize| c.read_lin_supervisor(base.wrapping_add(off), n);
        if tss32 {
            st.cr3 = r(self, 0x1C, 4)?;
            st.eip = r(self, 0x20, 4)?;
            st.eflags = r(self, 0x24, 4)?;
            for k in 0..8 {
                st.gpr[k] = r(self, 0x28 + 4 * k as u32, 4)?;
            }
            for k in 0..6 {
                st.seg[k] = r(self, 0x48 + 4 * k as u32, 2)? as u16;
            }
            st.ldt = r(self, 0x60, 2)? as u16;
        } else {
            st.eip = r(self, 0x0E, 2)?;
            st.eflags = r(self, 0x10, 2)?;
            for k in 0..8 {
                st.gpr[k] = r(self, 0x12 + 2 * k as u32, 2)?;
            }
            for k in 0..4 {
                st.seg[k] = r(self, 0x22 + 2 * k as u32, 2)? as u16;
            }
            st.ldt = r(self, 0x2A, 2)? as u16;
        }
        Ok(st)
    }

    /// Save the current task's dynamic state into the TSS at `base`
    /// (EIP = `eip`, EFLAGS = `eflags`).
    fn save_tss(&mut self, base: u32, tss32: bool, eip: u32, eflags: u32) -> Step {
        let gprs = self.cpu.regs.gpr;
        let sels = self.cpu.regs.seg.map(|s| u32::from(s.selector));
        let w = |c: &mut Self, off: u32, n: usize, v: u32| {
            c.write_lin_supervisor(base.wrapping_add(off), n, v)
        };
        if tss32 {
            w(self, 0x20, 4, eip)?;
            w(self, 0x24, 4, eflags)?;
            for (k, &v) in gprs.iter().enumerate() {
                w(self, 0x28 + 4 * k as u32, 4, v)?;
            }
            for (k, &v) in sels.iter().enumerate() {
                w(self, 0x48 + 4 * k as u32, 2, v)?;
            }
        } else {
            w(self, 0x0E, 2, eip)?;
            w(self, 0x10, 2, eflags)?;
            for (k, &v) in gprs.iter().enumerate() {
                w(self, 0x12 + 2 * k as u32, 2, v)?;
            }
            for (k, &v) in sels.iter().take(4).enumerate() {
                w(self, 0x22 + 2 * k as u32, 2, v)?;
            }
        }
        Ok(())
    }

    /// Switch to the task whose TSS descriptor `desc` (present, already
    /// checked for the kind of switch) `sel` names. `return_eip` is the
    /// EIP saved for the old task; `error` is pushed on the new task's
    /// stack (exceptions through a task gate); `ext` goes into the error
    /// codes of faults the switch raises.
    pub fn task_switch(
        &mut self,
        sel: u16,
        desc: Descriptor,
        how: TaskSwitch,
        error: Option<u32>,
        ext: u32,
        return_eip: u32,
    ) -> Step {
        let new32 = desc.is_32bit_system();
        if desc.limit() < if new32 { 0x67 } else { 0x2B } {
            return sel_fault(TS, sel, ext);
        }
        let base = desc.base();
        let new = self.read_tss(base, new32)?;
        let old = self.cpu.tr;
        let old32 = old.attr & 8 != 0;
        let linked = matches!(how, TaskSwitch::Call | TaskSwitch::Interrupt);

        // Probe every write of the commit phase.
        let (lo, hi): (u32, usize) = if old32 { (0x20, 0x5D) } else { (0x0E, 0x29) };
        self.probe_write_as(old.base.wrapping_add(lo), hi - lo as usize + 1, false)?;
        if linked {
            self.probe_write_as(base, 2, false)?;
        }
        if matches!(how, TaskSwitch::Jmp | TaskSwitch::Iret) {
            if let Some(a) = self.descriptor_addr(old.selector & !4) {
                self.probe_write_as(a.wrapping_add(5), 1, false)?;
            }
        }
        if how != TaskSwitch::Iret {
            if let Some(a) = self.descriptor_addr(sel) {
                self.probe_write_as(a.wrapping_add(5), 1, false)?;
            }
        }

        // ---- commit point ------------------------------------------------
        let mut old_eflags = self.cpu.regs.eflags();
        if matches!(how, TaskSwitch::Jmp | TaskSwitch::Iret) {
            self.set_tss_busy(old.selector, false)?;
        }
        if how == TaskSwitch::Iret {
            old_eflags &= !FLAG_NT;
        }
        self.save_tss(old.base, old32, return_eip, old_eflags)?;
        let mut eflags = new.eflags;
        if linked {
            self.write_lin_supervisor(base, 2, u32::from(old.selector))?;
            eflags |= FLAG_NT;
        }
        if how != TaskSwitch::Iret {
            self.set_tss_busy(sel, true)?;
        }
        let mut tr = desc.cache(sel);
        tr.attr |= u16::from(TSS_BUSY_BIT);
        self.cpu.tr = tr;
        self.cpu.cr0 |= CR0_TS;
        self.cpu.halted = false;
        if new32 && self.cpu.paging() {
            self.cpu.cr3 = new.cr3;
            self.cpu.flush_tlb_non_global();
        }
        if new32 {
            self.cpu.regs.gpr = new.gpr;
            self.cpu.regs.eip = new.eip;
            self.write_eflags((eflags & TSS_EFLAGS) | FLAG_FIXED1);
        } else {
            // Why: a 16-bit TSS holds only the low words; like QEMU, the
            // high words of the GPRs are kept and EFLAGS' are cleared.
            for (r, &v) in self.cpu.regs.gpr.iter_mut().zip(new.gpr.iter()) {
                *r = (*r & 0xFFFF_0000) | (v & 0xFFFF);
            }
            self.cpu.regs.eip = new.eip & 0xFFFF;
            self.write_eflags((eflags & TSS_EFLAGS & 0xFFFF) | FLAG_FIXED1);
        }
        let r = self.load_task_segments(&new, ext).and_then(|()| {
            if let Some(code) = error {
                self.push(if new32 { 4 } else { 2 }, code)?;
            }
            if self.cpu.regs.eip > self.cpu.regs.seg[sreg::CS].limit {
                return fault_code(GP, 0);
            }
            Ok(())
        });
        match r {
            Err(Stop::Exception(e)) => self.raise_in_new_task(e),
            r => r,
        }
    }

    /// Deliver a fault raised after the commit point of a task switch: it
    /// belongs to the new task, at the new task's EIP.
    fn raise_in_new_task(&mut self, e: super::exception::Exception) -> Step {
        let depth = NESTED_TASK_FAULTS.with(|d| {
            d.set(d.get() + 1);
            d.get()
        });
        let eip = self.cpu.regs.eip;
        let r = if depth > MAX_NESTED_TASK_FAULTS {
            Err(Stop::TripleFault)
        } else {
            self.raise(e, eip)
        };
        NESTED_TASK_FAULTS.with(|d| d.set(d.get() - 1));
        r
    }

    /// Load LDTR and the segment registers of the new task (after the
    /// commit point). The selectors are in place first, so a fault names
    /// the new task's registers.
    fn load_task_segments(&mut self, st: &TssState, ext: u32) -> Step {
        let v86 = self.cpu.regs.flags & FLAG_VM != 0;
        for (k, &s) in st.seg.iter().enumerate() {
            self.cpu.regs.seg[k] = if v86 {
                v86_cache(s, k == sreg::CS)
            } else {
                null_cache(s)
            };
        }
        self.cpu.ldtr = null_cache(st.ldt);
        if !is_null(st.ldt) {
            if st.ldt & 4 != 0 {
                return sel_fault(TS, st.ldt, ext);
            }
            let d = self.read_descriptor(st.ldt, TS, ext)?;
            if !d.is_system() || d.typ() != LDT || !d.present() {
                return sel_fault(TS, st.ldt, ext);
            }
            self.cpu.ldtr = d.cache(st.ldt);
        }
        if v86 {
            self.cpu.set_cpl(3);
            return Ok(());
        }
        let cs = st.seg[sreg::CS];
        let cpl = rpl(cs);
        self.cpu.set_cpl(cpl);
        if is_null(cs) {
            return sel_fault(TS, cs, ext);
        }
        let d = self.read_descriptor(cs, TS, ext)?;
        if !d.is_code()
            || (d.is_conforming() && d.dpl() > cpl)
            || (!d.is_conforming() && d.dpl() != cpl)
        {
            return sel_fault(TS, cs, ext);
        }
        if !d.present() {
            return sel_fault(NP, cs, ext);
        }
        self.set_accessed(cs, &d)?;
        self.commit_cs(d.cache(cs), cpl);
        self.cpu.regs.seg[sreg::SS] = self.check_stack_selector(st.seg[sreg::SS], cpl, TS, ext)?;
        for seg in [sreg::ES, sreg::DS, sreg::FS, sreg::GS] {
            self.cpu.regs.seg[seg] = self.check_data_selector(st.seg[seg], cpl, TS, ext)?;
        }
        Ok(())
    }

    /// LTR's and the task-gate paths' shared check that `sel` names an
    /// available TSS in the GDT; faults are `bad(sel | ext)`.
    pub fn check_available_tss(&mut self, sel: u16, bad: u8, ext: u32) -> Step<Descriptor> {
        if is_null(sel) {
            return fault_code(bad, ext);
        }
        if sel & 4 != 0 {
            return sel_fault(bad, sel, ext);
        }
        let d = self.read_descriptor(sel, bad, ext)?;
        if !d.is_tss() || d.is_busy_tss() {
            return sel_fault(bad, sel, ext);
        }
        if !d.present() {
            return sel_fault(NP, sel, ext);
        }
        Ok(d)
    }
}

#[cfg(test)]
mod tests {
    use btvm_jit::abi::gpr;

    use super::*;
    use crate::cpu::{Cpu, TableReg, CR0_PE};
    use crate::memory::GuestMemory;
    use crate::platform::NullPlatform;

    const CODE0: u64 = 0x00CF_9A00_0000_FFFF; // 0x08
    const DATA0: u64 = 0x00CF_9200_0000_FFFF; // 0x10
    const TSS_A: u64 = 0x0000_8B00_3000_0067; // 0x18 busy 32-bit TSS at 0x3000 (current)
    const TSS_B: u64 = 0x0000_8900_3100_0067; // 0x20 available 32-bit TSS at 0x3100
    const TSS_C: u64 = 0x0000_8100_3200_002B; // 0x28 available 16-bit TSS at 0x3200
    const TSS_SHORT: u64 = 0x0000_8900_3300_0050; // 0x30 32-bit TSS with limit 0x50

    fn setup(mem: &mut GuestMemory) -> Cpu {
        let mut cpu = Cpu::new();
        cpu.cr0 |= CR0_PE;
        let gdt = [0, CODE0, DATA0, TSS_A, TSS_B, TSS_C, TSS_SHORT];
        for (i, e) in gdt.iter().enumerate() {
            mem.write_phys(0x1000 + 8 * i as u32, &e.to_le_bytes());
        }
        cpu.gdtr = TableReg {
            base: 0x1000,
            limit: 8 * gdt.len() as u32 - 1,
        };
        let d = |v: u64, s: u16| Descriptor::from_u64(v).cache(s);
        cpu.regs.seg = [
            d(DATA0, 0x10),
            d(CODE0, 0x08),
            d(DATA0, 0x10),
            d(DATA0, 0x10),
            d(DATA0, 0x10),
            d(DATA0, 0x10),
        ];
        cpu.tr = d(TSS_A, 0x18);
        cpu.regs.gpr = [1, 2, 3, 4, 0x8000, 6, 7, 8];
        cpu.regs.eip = 0x1111;
        // Task B: EIP 0x2222, EFLAGS 0x202, EAX 0xB0, ESP 0x9000, flat ring-0 segments.
        let w32 = |m: &mut GuestMemory, a: u32, v: u32| m.write_phys(a, &v.to_le_bytes());
        w32(mem, 0x3120, 0x2222);
        w32(mem, 0x3124, 0x202);
        w32(mem, 0x3128, 0xB0);
        w32(mem, 0x3138, 0x9000);
        for (k, s) in [0x10, 0x08, 0x10, 0x10, 0x10, 0x10].iter().enumerate() {
            w32(mem, 0x3148 + 4 * k as u32, *s);
        }
        // Task C (16-bit): IP 0x3333, FLAGS 0x0002, AX 0xC0, SP 0xA000.
        let w16 = |m: &mut GuestMemory, a: u32, v: u16| m.write_phys(a, &v.to_le_bytes());
        w16(mem, 0x320E, 0x3333);
        w16(mem, 0x3210, 0x0002);
        w16(mem, 0x3212, 0xC0);
        w16(mem, 0x321A, 0xA000);
        for (k, s) in [0x10u16, 0x08, 0x10, 0x10].iter().enumerate() {
            w16(mem, 0x3222 + 2 * k as u32, *s);
        }
        cpu
    }

    fn access_byte(mem: &GuestMemory, sel: u32) -> u8 {
        let mut b = [0u8];
        mem.read_phys(0x1000 + sel + 5, &mut b);
        b[0]
    }

    #[test]
    fn call_saves_state_links_and_iret_returns() {
        let mut mem = GuestMemory::new(1).unwrap();
        let mut cpu = setup(&mut mem);
        let mut io = NullPlatform;
        let mut c = Ctx {
            cpu: &mut cpu,
            mem: &mut mem,
            io: &mut io,
        };
        c.far_call(0x20, 0, true, 0x1111).unwrap();
        assert_eq!(c.cpu.tr.selector, 0x20);
        assert_eq!(
            (
                c.cpu.regs.eip,
                c.cpu.regs.gpr[gpr::EAX],
                c.cpu.regs.gpr[gpr::ESP]
            ),
            (0x2222, 0xB0, 0x9000)
        );
        assert_ne!(c.cpu.regs.flags & FLAG_NT, 0);
        assert_ne!(c.cpu.cr0 & CR0_TS, 0);
        assert_eq!(c.read_lin_supervisor(0x3100, 2), Ok(0x18)); // back link
        assert_eq!(c.read_lin_supervisor(0x3020, 4), Ok(0x1111)); // old EIP
        assert_eq!(c.read_lin_supervisor(0x3028, 4), Ok(1)); // old EAX
        assert_eq!(c.read_lin_supervisor(0x304C, 2), Ok(0x08)); // old CS
        assert_eq!(access_byte(c.mem, 0x20), 0x8B); // new task busy
        assert_eq!(access_byte(c.mem, 0x18), 0x8B); // old task still busy (CALL)
        c.iret(true).unwrap();
        assert_eq!(c.cpu.tr.selector, 0x18);
        assert_eq!((c.cpu.regs.eip, c.cpu.regs.gpr[gpr::EAX]), (0x1111, 1));
        assert_eq!(access_byte(c.mem, 0x20), 0x89); // B not busy after IRET
        assert_eq!(c.read_lin_supervisor(0x3124, 4).unwrap() & FLAG_NT, 0); // saved without NT
    }

    #[test]
    fn jmp_to_16bit_tss_clears_old_busy_and_keeps_high_words() {
        let mut mem = GuestMemory::new(1).unwrap();
        let mut cpu = setup(&mut mem);
        cpu.regs.gpr[gpr::EAX] = 0xDEAD_0001;
        let mut io = NullPlatform;
        let mut c = Ctx {
            cpu: &mut cpu,
            mem: &mut mem,
            io: &mut io,
        };
        c.far_jump(0x28, 0, true).unwrap();
        assert_eq!(c.cpu.regs.gpr[gpr::EAX], 0xDEAD_00C0);
        assert_eq!(c.cpu.regs.eip, 0x3333);
        assert_eq!(c.cpu.regs.flags & FLAG_NT, 0);
        assert_eq!(access_byte(c.mem, 0x18), 0x89);
        assert_eq!(access_byte(c.mem, 0x28), 0x83);
        // A busy TSS cannot be jumped to.
        let r = c.far_jump(0x28, 0, true);
        assert_eq!(
            r,
            Err(Stop::Exception(super::super::Exception::with_error(
                GP, 0x28
            )))
        );
    }

    #[test]
    fn short_tss_is_ts_before_anything_changes() {
        let mut mem = GuestMemory::new(1).unwrap();
        let mut cpu = setup(&mut mem);
        let before = cpu.regs.clone();
        let mut io = NullPlatform;
        let mut c = Ctx {
            cpu: &mut cpu,
            mem: &mut mem,
            io: &mut io,
        };
        let r = c.far_jump(0x30, 0, true);
        assert_eq!(
            r,
            Err(Stop::Exception(super::super::Exception::with_error(
                TS, 0x30
            )))
        );
        assert_eq!(c.cpu.regs, before);
        assert_eq!(c.cpu.tr.selector, 0x18);
        assert_eq!(access_byte(c.mem, 0x18), 0x8B);
    }

    #[test]
    fn fault_after_commit_is_delivered_in_the_new_task() {
        let mut mem = GuestMemory::new(1).unwrap();
        let mut cpu = setup(&mut mem);
        // Task B's CS is a data segment: #TS(0x10) once B is committed.
        mem.write_phys(0x314C, &0x10u32.to_le_bytes());
        // #TS (vector 10) goes through a task gate to the 16-bit task C.
        let gate = 0x0000_8500_0028_0000u64;
        mem.write_phys(0x2000 + 10 * 8, &gate.to_le_bytes());
        cpu.idtr = TableReg {
            base: 0x2000,
            limit: 0x7FF,
        };
        let mut io = NullPlatform;
        let mut c = Ctx {
            cpu: &mut cpu,
            mem: &mut mem,
            io: &mut io,
        };
        c.far_jump(0x20, 0, true).unwrap();
        assert_eq!(c.cpu.tr.selector, 0x28); // in the #TS task
        assert_eq!(c.cpu.regs.eip, 0x3333);
        assert_eq!(c.read_lin_supervisor(0x3200, 2), Ok(0x20)); // linked to task B
        assert_eq!(c.read_lin_supervisor(0xA000 - 2, 2), Ok(0x10)); // the error code
        assert_eq!(c.read_lin_supervisor(0x3120, 4), Ok(0x2222)); // B's saved EIP
        assert_eq!(access_byte(c.mem, 0x18), 0x89); // the jumping task is free
        assert_eq!(access_byte(c.mem, 0x20), 0x8B);
    }

    #[test]
    fn switch_into_a_v86_task() {
        let mut mem = GuestMemory::new(1).unwrap();
        let mut cpu = setup(&mut mem);
        // Task B: EFLAGS with VM, real-mode style selectors.
        mem.write_phys(0x3124, &(FLAG_VM | 2).to_le_bytes());
        for (k, s) in [0x1000u32, 0x2000, 0x3000, 0x4000, 0x5000, 0x6000]
            .iter()
            .enumerate()
        {
            mem.write_phys(0x3148 + 4 * k as u32, &s.to_le_bytes());
        }
        let mut io = NullPlatform;
        let mut c = Ctx {
            cpu: &mut cpu,
            mem: &mut mem,
            io: &mut io,
        };
        c.far_jump(0x20, 0, true).unwrap();
        assert!(c.cpu.v86());
        assert_eq!(c.cpu.cpl, 3);
        assert_eq!(c.cpu.regs.seg[sreg::CS].base, 0x20000);
        assert_eq!(c.cpu.regs.seg[sreg::GS].base, 0x60000);
        assert_eq!(c.cpu.regs.eip, 0x2222);
    }
}
