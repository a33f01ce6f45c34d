//! Delivering exceptions and interrupts: through the IVT in real mode,
//! through the IDT in protected and virtual-8086 mode, with the
//! double-fault and triple-fault rules.
//!
//! Protected-mode delivery (SDM vol. 3, 6.12 and vol. 2 INT n):
//!
//! - the IDT entry must lie within IDTR.limit and be an interrupt, trap
//!   or task gate (else #GP(vector * 8 + 2 + EXT)); for INT n, INT3 and
//!   INTO its DPL must be >= CPL; it must be present (#NP, same code);
//! - a task gate switches tasks (`task.rs`), pushing the error code on
//!   the new task's stack;
//! - an interrupt or trap gate's code segment must be code with DPL <=
//!   CPL. A non-conforming segment with DPL < CPL runs on the inner stack
//!   from the TSS, with the old SS:ESP pushed first (and from v86 mode GS,
//!   FS, DS, ES before them, which are then nulled; the handler must be
//!   ring 0). Otherwise the frame goes on the current stack (not allowed
//!   from v86 mode).
//! - the frame is EFLAGS, CS, EIP and the error code, as words for a
//!   16-bit gate; then TF, NT, RF and VM are cleared, and IF for an
//!   interrupt gate.
//!
//! EXT (bit 0 of error codes raised during delivery) is set unless the
//! event is INT n, INT3 or INTO. Nothing changes before the frame is
//! written, so a fault during delivery leaves the state as it was for the
//! #DF rules of [`Ctx::raise`].

use btvm_jit::abi::{gpr, sreg};
use btvm_jit::flags::{FLAG_AC, FLAG_IF, FLAG_NT, FLAG_RF, FLAG_TF, FLAG_VM};

use super::access::{Ctx, Step};
use super::descriptor::*;
use super::exception::{fault_code, Exception, Stop, DF, GP, NP, PF, TS};
use super::frame::Stack;
use super::task::TaskSwitch;

/// Whether a second exception raised while delivering `first` turns into
/// a double fault (SDM vol. 3, table 6-5): contributory after
/// contributory, and contributory or #PF after #PF.
pub fn becomes_double_fault(first: &Exception, second: &Exception) -> bool {
    let first_pf = first.vector == PF;
    let second_bad = second.contributory() || second.vector == PF;
    (first.contributory() && second.contributory()) || (first_pf && second_bad)
}

impl Ctx<'_> {
    /// Deliver a fault raised by the instruction at `eip` (state already
    /// rolled back). A fault while delivering becomes #DF or is delivered
    /// instead (the benign pairs); any fault while delivering #DF is a
    /// triple fault (shutdown).
    pub fn raise(&mut self, e: Exception, eip: u32) -> Step {
        let mut current = e;
        // Each failed delivery either escalates to #DF or replaces a
        // benign exception with a contributory one or #PF, so this ends
        // within a few rounds; the bound is only a guard.
        for _ in 0..8 {
            match self.interrupt(current.vector, current.error, eip) {
                Ok(()) => return Ok(()),
                Err(Stop::Exception(second)) => {
                    if current.vector == DF {
                        return Err(Stop::TripleFault);
                    }
                    current = if becomes_double_fault(&current, &second) {
                        Exception::with_error(DF, 0)
                    } else {
                        second
                    };
                }
                Err(s) => return Err(s),
            }
        }
        Err(Stop::TripleFault)
    }

    /// Transfer control through interrupt `vector` with `return_eip` as the
    /// saved EIP (the faulting instruction for faults, the next one for
    /// traps). This is the path of exceptions and external interrupts
    /// (EXT set in error codes); INT n goes through
    /// [`Ctx::interrupt_protected`] with `software`.
    pub fn interrupt(&mut self, vector: u8, error: Option<u32>, return_eip: u32) -> Step {
        self.cpu.halted = false;
        if !self.cpu.protected() {
            return self.interrupt_real(vector, return_eip);
        }
        self.interrupt_protected(vector, error, return_eip, false)
    }

    fn interrupt_real(&mut self, vector: u8, return_eip: u32) -> Step {
        self.cpu.deliveries = self.cpu.deliveries.wrapping_add(1);
        let off = u32::from(vector) * 4;
        if off + 3 > self.cpu.idtr.limit {
            return fault_code(GP, u32::from(vector) * 8 + 2);
        }
        let flags = self.cpu.regs.eflags();
        let cs = u32::from(self.cpu.regs.seg[sreg::CS].selector);
        let esp = self.cpu.regs.gpr[gpr::ESP];
        let r = (|| {
            self.push(2, flags)?;
            self.push(2, cs)?;
            self.push(2, return_eip)
        })();
        if let Err(e) = r {
            self.cpu.regs.gpr[gpr::ESP] = esp;
            return Err(e);
        }
        let base = self.cpu.idtr.base.wrapping_add(off);
        let ip = self.read_lin(base, 2)?;
        let sel = self.read_lin(base.wrapping_add(2), 2)?;
        self.cpu.regs.flags = flags & !(FLAG_IF | FLAG_TF | FLAG_AC | FLAG_RF);
        self.cpu.regs.lazy.mask = 0;
        self.cpu.load_seg_real(sreg::CS, sel as u16);
        self.cpu.regs.eip = ip;
        Ok(())
    }

    /// Protected-mode (and virtual-8086 mode) delivery through the IDT.
    /// `software`: INT n, INT3 or INTO (gate DPL checked, EXT clear).
    pub(crate) fn interrupt_protected(
        &mut self,
        vector: u8,
        error: Option<u32>,
        return_eip: u32,
        software: bool,
    ) -> Step {
        self.cpu.deliveries = self.cpu.deliveries.wrapping_add(1);
        let ext = u32::from(!software);
        let idt_error = u32::from(vector) * 8 + 2 + ext;
        let off = u32::from(vector) * 8;
        if off + 7 > self.cpu.idtr.limit {
            return fault_code(GP, idt_error);
        }
        let gate = self.read_descriptor_at(self.cpu.idtr.base.wrapping_add(off))?;
        let typ = gate.typ();
        if !gate.is_system()
            || !matches!(
                typ,
                TASK_GATE | INT_GATE16 | TRAP_GATE16 | INT_GATE32 | TRAP_GATE32
            )
        {
            return fault_code(GP, idt_error);
        }
        if software && gate.dpl() < self.cpu.cpl {
            return fault_code(GP, idt_error);
        }
        if !gate.present() {
            return fault_code(NP, idt_error);
        }
        self.cpu.halted = false;
        if typ == TASK_GATE {
            let (tss, td) = self.task_gate_target(&gate, ext)?;
            return self.task_switch(tss, td, TaskSwitch::Interrupt, error, ext, return_eip);
        }
        self.through_gate(&gate, error, return_eip, ext)
    }

    /// Delivery through a checked interrupt or trap gate.
    fn through_gate(
        &mut self,
        gate: &Descriptor,
        error: Option<u32>,
        return_eip: u32,
        ext: u32,
    ) -> Step {
        let cs = gate.gate_selector();
        if is_null(cs) {
            return fault_code(GP, ext);
        }
        let cd = self.read_descriptor(cs, GP, ext)?;
        let cpl = self.cpu.cpl;
        if !cd.is_code() || cd.dpl() > cpl {
            return sel_fault(GP, cs, ext);
        }
        if !cd.present() {
            return sel_fault(NP, cs, ext);
        }
        let v86 = self.cpu.v86();
        let n = if gate.is_32bit_system() { 4 } else { 2 };
        let off = gate.gate_offset();
        let eflags = self.cpu.regs.eflags();
        let r = &self.cpu.regs;
        let old_cs = u32::from(r.seg[sreg::CS].selector);
        let mut values = [0u32; 10];
        let mut len = 0;
        let mut put = |v: u32| {
            values[len] = v;
            len += 1;
        };
        let inner = !cd.is_conforming() && cd.dpl() < cpl;
        let (stack, ss_error, new_cpl) = if inner {
            let new_cpl = cd.dpl();
            if v86 && new_cpl != 0 {
                return sel_fault(GP, cs, ext);
            }
            let (ss_sel, esp) = self.tss_inner_stack(new_cpl, ext)?;
            let ss = self.check_stack_selector(ss_sel, new_cpl, TS, ext)?;
            let r = &self.cpu.regs;
            if v86 {
                for s in [sreg::GS, sreg::FS, sreg::DS, sreg::ES] {
                    put(u32::from(r.seg[s].selector));
                }
            }
            put(u32::from(r.seg[sreg::SS].selector));
            put(r.gpr[gpr::ESP]);
            (
                Stack {
                    ss,
                    esp,
                    user: false,
                },
                sel_error(ss_sel, ext),
                new_cpl,
            )
        } else {
            if v86 {
                return sel_fault(GP, cs, ext);
            }
            (self.current_stack(), ext, cpl)
        };
        put(eflags);
        put(old_cs);
        put(return_eip);
        if let Some(code) = error {
            put(code);
        }
        if off > cd.limit() {
            return fault_code(GP, ext);
        }
        self.set_accessed(cs, &cd)?;
        let esp = self.push_frame(&stack, n, &values[..len], ss_error)?;
        // ---- commit ----
        if inner {
            self.cpu.regs.seg[sreg::SS] = stack.ss;
            if v86 {
                for s in [sreg::ES, sreg::DS, sreg::FS, sreg::GS] {
                    self.cpu.regs.seg[s] = null_cache(0);
                }
            }
        }
        self.cpu.regs.gpr[gpr::ESP] = esp;
        self.commit_cs(cd.cache(cs), new_cpl);
        self.cpu.regs.eip = off;
        let mut clear = FLAG_TF | FLAG_NT | FLAG_RF | FLAG_VM;
        if matches!(gate.typ(), INT_GATE16 | INT_GATE32) {
            clear |= FLAG_IF;
        }
        self.cpu.regs.set_eflags(eflags & !clear);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use btvm_jit::abi::SegCache;

    use super::*;
    use crate::cpu::{Cpu, TableReg, CR0_PE};
    use crate::memory::GuestMemory;
    use crate::platform::NullPlatform;

    const CODE0: u64 = 0x00CF_9A00_0000_FFFF; // 0x08
    const DATA0: u64 = 0x00CF_9200_0000_FFFF; // 0x10
    const CODE3: u64 = 0x00CF_FA00_0000_FFFF; // 0x18
    const DATA3: u64 = 0x00CF_F200_0000_FFFF; // 0x20
    const TSS: u64 = 0x0000_8B00_3000_0067; // 0x28

    /// IDT at 0x2000: vector 0x40 an interrupt gate DPL 3 to 0008:5000,
    /// vector 0x41 a trap gate DPL 0, vector 13 an interrupt gate DPL 0.
    fn setup(mem: &mut GuestMemory, cpl: u8) -> Cpu {
        let mut cpu = Cpu::new();
        cpu.cr0 |= CR0_PE;
        for (i, e) in [0, CODE0, DATA0, CODE3, DATA3, TSS].iter().enumerate() {
            mem.write_phys(0x1000 + 8 * i as u32, &e.to_le_bytes());
        }
        cpu.gdtr = TableReg {
            base: 0x1000,
            limit: 47,
        };
        let gate = |dpl: u64, typ: u64| 0x0000_8000_0008_5000u64 | dpl << 45 | typ << 40;
        mem.write_phys(0x2000 + 0x40 * 8, &gate(3, 14).to_le_bytes());
        mem.write_phys(0x2000 + 0x41 * 8, &gate(0, 15).to_le_bytes());
        mem.write_phys(0x2000 + 13 * 8, &gate(0, 14).to_le_bytes());
        cpu.idtr = TableReg {
            base: 0x2000,
            limit: 0x7FF,
        };
        mem.write_phys(0x3004, &0x9000u32.to_le_bytes());
        mem.write_phys(0x3008, &0x10u16.to_le_bytes());
        cpu.tr = Descriptor::from_u64(TSS).cache(0x28);
        let d = |v: u64, s: u16| Descriptor::from_u64(v).cache(s);
        cpu.regs.seg = if cpl == 3 {
            [
                d(DATA3, 0x23),
                d(CODE3, 0x1B),
                d(DATA3, 0x23),
                d(DATA3, 0x23),
                SegCache::default(),
                SegCache::default(),
            ]
        } else {
            [
                d(DATA0, 0x10),
                d(CODE0, 0x08),
                d(DATA0, 0x10),
                d(DATA0, 0x10),
                SegCache::default(),
                SegCache::default(),
            ]
        };
        cpu.cpl = cpl;
        cpu.regs.gpr[gpr::ESP] = 0x7000;
        cpu.regs.set_eflags(0x3202); // IF, IOPL 3
        cpu
    }

    #[test]
    fn int_from_ring3_uses_the_tss_stack_and_clears_if() {
        let mut mem = GuestMemory::new(1).unwrap();
        let mut cpu = setup(&mut mem, 3);
        let mut io = NullPlatform;
        let mut c = Ctx {
            cpu: &mut cpu,
            mem: &mut mem,
            io: &mut io,
        };
        c.interrupt_protected(0x40, None, 0x1234, true).unwrap();
        assert_eq!(
            (c.cpu.cpl, c.cpu.regs.eip, c.cpu.regs.gpr[gpr::ESP]),
            (0, 0x5000, 0x9000 - 20)
        );
        assert_eq!(c.cpu.regs.flags & FLAG_IF, 0);
        let frame: Vec<u32> = (0..5)
            .map(|k| c.read_lin_supervisor(0x9000 - 20 + 4 * k, 4).unwrap())
            .collect();
        assert_eq!(frame, [0x1234, 0x1B, 0x3202, 0x7000, 0x23]);
    }

    #[test]
    fn int_to_gate_with_dpl_below_cpl_is_gp_with_idt_code() {
        let mut mem = GuestMemory::new(1).unwrap();
        let mut cpu = setup(&mut mem, 3);
        let mut io = NullPlatform;
        let mut c = Ctx {
            cpu: &mut cpu,
            mem: &mut mem,
            io: &mut io,
        };
        let r = c.interrupt_protected(0x41, None, 0, true);
        assert_eq!(
            r,
            Err(Stop::Exception(Exception::with_error(GP, 0x41 * 8 + 2)))
        );
        // An exception (not INT n) through the same gate ignores its DPL.
        c.interrupt(0x41, None, 0).unwrap();
        assert_eq!(c.cpu.cpl, 0);
    }

    #[test]
    fn missing_gate_sets_ext_and_idt_bits() {
        let mut mem = GuestMemory::new(1).unwrap();
        let mut cpu = setup(&mut mem, 0);
        let mut io = NullPlatform;
        let mut c = Ctx {
            cpu: &mut cpu,
            mem: &mut mem,
            io: &mut io,
        };
        let r = c.interrupt(0x30, None, 0);
        assert_eq!(
            r,
            Err(Stop::Exception(Exception::with_error(GP, 0x30 * 8 + 3)))
        );
    }

    #[test]
    fn error_code_is_pushed_on_the_same_stack() {
        let mut mem = GuestMemory::new(1).unwrap();
        let mut cpu = setup(&mut mem, 0);
        let mut io = NullPlatform;
        let mut c = Ctx {
            cpu: &mut cpu,
            mem: &mut mem,
            io: &mut io,
        };
        c.raise(Exception::with_error(GP, 0x18), 0x4444).unwrap();
        assert_eq!(c.cpu.regs.gpr[gpr::ESP], 0x7000 - 16);
        assert_eq!(c.read_lin_supervisor(0x7000 - 16, 4), Ok(0x18));
        assert_eq!(c.read_lin_supervisor(0x7000 - 12, 4), Ok(0x4444));
    }

    #[test]
    fn double_fault_rules() {
        let gp = Exception::with_error(GP, 0);
        let pf = Exception::with_error(PF, 0);
        let ud = Exception::new(super::super::exception::UD);
        assert!(becomes_double_fault(&gp, &gp));
        assert!(becomes_double_fault(&pf, &gp));
        assert!(becomes_double_fault(&pf, &pf));
        assert!(!becomes_double_fault(&gp, &pf));
        assert!(!becomes_double_fault(&ud, &gp));
    }

    #[test]
    fn fault_with_unusable_idt_and_no_df_handler_is_a_triple_fault() {
        let mut mem = GuestMemory::new(1).unwrap();
        let mut cpu = setup(&mut mem, 0);
        cpu.idtr.limit = 0; // every vector is outside the IDT
        let mut io = NullPlatform;
        let mut c = Ctx {
            cpu: &mut cpu,
            mem: &mut mem,
            io: &mut io,
        };
        assert_eq!(
            c.raise(Exception::new(super::super::exception::UD), 0),
            Err(Stop::TripleFault)
        );
    }

    /// 48-pm-triple-fault, as a unit test (a triple fault ends the
    /// machine, so it cannot be a ROM that reports PASS): in protected
    /// mode with an IDT too short for any vector, UD2 raises #UD, its
    /// delivery #GP (a benign-then-contributory pair: delivered), whose
    /// delivery fails again (#DF), whose delivery fails: shutdown.
    #[test]
    fn protected_mode_fault_with_empty_idt_shuts_down_through_step() {
        let mut mem = GuestMemory::new(1).unwrap();
        let mut cpu = setup(&mut mem, 0);
        cpu.idtr.limit = 7; // only vector 0 fits
        mem.write_phys(0x5000, &[0x0F, 0x0B]); // ud2
        cpu.regs.eip = 0x5000;
        let before = cpu.regs.clone();
        let mut io = NullPlatform;
        let mut c = Ctx {
            cpu: &mut cpu,
            mem: &mut mem,
            io: &mut io,
        };
        let mut cache = crate::interp::DecodeCache::new();
        assert_eq!(
            crate::interp::step(&mut c, &mut cache),
            Err(Stop::TripleFault)
        );
        // Nothing was delivered: the state is the faulting instruction's.
        assert_eq!(c.cpu.regs.eip, before.eip);
        assert_eq!(c.cpu.regs.gpr, before.gpr);
    }

    /// The whole machine stops with `Exit::TripleFault` and says so.
    #[test]
    fn machine_reports_triple_fault() {
        let mut rom = vec![0xF4u8; 0x10000];
        // F000:FFF0: lidt cs:[0xFFF8]; ud2; then a 6-byte IDTR image with
        // limit 0: real-mode delivery of #UD, #GP and #DF all fail.
        rom[0xFFF0..0xFFFE].copy_from_slice(&[
            0x2E, 0x0F, 0x01, 0x1E, 0xF8, 0xFF, 0x0F, 0x0B, 0, 0, 0, 0, 0, 0,
        ]);
        let cfg = crate::machine::Config {
            memory_mib: 1,
            bios: Some(crate::machine::Payload {
                data: rom,
                name: "rom".into(),
            }),
            ..Default::default()
        };
        let console = crate::machine::pc::ConsoleOut::new(Box::new(std::io::sink()));
        let mut m = crate::machine::Machine::with_console(cfg, console).unwrap();
        let limits = crate::machine::Limits {
            max_instructions: Some(1000),
            ..Default::default()
        };
        let exit = m.run(&limits);
        assert_eq!(exit, crate::machine::Exit::TripleFault);
        assert!(exit.describe().contains("triple fault"));
    }
}
