//! Far control transfers: far JMP, far CALL, far RET (RETF) and IRET, plus
//! the rule for how a FLAGS image popped by POPF or IRET merges into EFLAGS.
//!
//! Real mode and virtual-8086 mode share one path: CS is loaded the
//! real-mode way (base = selector * 16) and the new offset is checked
//! against the 64 KiB limit CS then has. The protected-mode paths live in
//! `gate.rs` (JMP/CALL: code segments, call gates, task gates, TSSs) and
//! `far_return.rs` (RETF/IRET: outer rings, nested tasks, return to
//! virtual-8086 mode).
//!
//! Every operation reads and checks everything before it changes any
//! state except ESP, which the interpreter rolls back on a fault.
//!
//! Example: `call far 1234:5678` in real mode pushes CS and the return IP,
//! then runs at linear 0x12340 + 0x5678.

use btvm_jit::abi::sreg;
use btvm_jit::flags::*;

use super::access::{Ctx, Step};
use super::exception::{fault_code, GP};

/// The EFLAGS bits POPF and IRET can ever load from the low word: CF, PF,
/// AF, ZF, SF, TF, IF, DF, OF, IOPL and NT (bits 1, 3, 5 and 15 are
/// reserved).
const FLAGS_LOW_WRITABLE: u32 = 0x7FD5;

/// Limit CS has after a real-mode or virtual-8086 far transfer.
const REAL_CS_LIMIT: u32 = 0xFFFF;

impl Ctx<'_> {
    /// Far JMP to `sel:off` (`op32`: 32-bit operand size, else the offset
    /// is 16 bits).
    pub fn far_jump(&mut self, sel: u16, off: u32, op32: bool) -> Step {
        if !self.cpu.real_addressing() {
            return self.far_jump_protected(sel, off, op32);
        }
        let off = if op32 { off } else { off & 0xFFFF };
        if off > REAL_CS_LIMIT {
            return fault_code(GP, 0);
        }
        self.cpu.load_seg_real(sreg::CS, sel);
        self.cpu.regs.eip = off;
        Ok(())
    }

    /// Far CALL to `sel:off`, pushing CS and `return_eip` (words, or
    /// doublewords with CS zero-extended when `op32`).
    pub fn far_call(&mut self, sel: u16, off: u32, op32: bool, return_eip: u32) -> Step {
        if !self.cpu.real_addressing() {
            return self.far_call_protected(sel, off, op32, return_eip);
        }
        let off = if op32 { off } else { off & 0xFFFF };
        if off > REAL_CS_LIMIT {
            return fault_code(GP, 0);
        }
        let n = if op32 { 4 } else { 2 };
        let cs = u32::from(self.cpu.regs.seg[sreg::CS].selector);
        self.push(n, cs)?;
        self.push(n, return_eip)?;
        self.cpu.load_seg_real(sreg::CS, sel);
        self.cpu.regs.eip = off;
        Ok(())
    }

    /// Far RET: pop the offset and CS, then release `imm` more bytes of
    /// stack (RETF imm16).
    pub fn far_return(&mut self, op32: bool, imm: u16) -> Step {
        if !self.cpu.real_addressing() {
            return self.far_return_protected(op32, imm);
        }
        let n = if op32 { 4 } else { 2 };
        let off = self.peek(0, n)?;
        let sel = self.peek(n as u32, n)? as u16;
        if off > REAL_CS_LIMIT {
            return fault_code(GP, 0);
        }
        let sp = self
            .sp()
            .wrapping_add(2 * n as u32)
            .wrapping_add(u32::from(imm));
        self.set_sp(sp);
        self.cpu.load_seg_real(sreg::CS, sel);
        self.cpu.regs.eip = off;
        Ok(())
    }

    /// IRET (`op32` = IRETD): pop the offset, CS and FLAGS.
    ///
    /// In real mode IOPL and NT are loadable; IRETD also loads RF, AC and
    /// ID and keeps VM, VIF and VIP (SDM: `(popped & 257FD5h) | (EFLAGS &
    /// 1A0000h)`). In virtual-8086 mode IRET needs IOPL = 3 (else #GP(0),
    /// the trap to the monitor) and cannot change IOPL.
    pub fn iret(&mut self, op32: bool) -> Step {
        if self.cpu.protected() && !self.cpu.v86() {
            return self.iret_protected(op32);
        }
        if self.cpu.v86() && self.iopl() < 3 {
            // Why: CR4.VME's virtual-interrupt IRET arrives with the system
            // architecture; without it this is the trap to the v86 monitor.
            return fault_code(GP, 0);
        }
        let n = if op32 { 4 } else { 2 };
        let off = self.peek(0, n)?;
        let sel = self.peek(n as u32, n)? as u16;
        let image = self.peek(2 * n as u32, n)?;
        if off > REAL_CS_LIMIT {
            return fault_code(GP, 0);
        }
        let sp = self.sp().wrapping_add(3 * n as u32);
        self.set_sp(sp);
        self.cpu.load_seg_real(sreg::CS, sel);
        self.cpu.regs.eip = off;
        let flags = self.popped_flags(image, op32, true);
        self.write_eflags(flags);
        Ok(())
    }

    /// The current I/O privilege level.
    #[inline]
    pub fn iopl(&self) -> u32 {
        (self.cpu.regs.flags & FLAG_IOPL) >> 12
    }

    /// EFLAGS after POPF (`iret` false) or IRET loads `image` (a word, or a
    /// doubleword when `op32`), following the privilege rules of the
    /// current mode (SDM POPF/IRET):
    /// - the reserved bits keep their fixed values and VM, VIF and VIP never
    ///   change; a 16-bit load leaves the high word alone;
    /// - IOPL changes only at CPL 0 outside virtual-8086 mode;
    /// - IF changes only when CPL <= IOPL;
    /// - AC and ID are loadable (P6); RF is loaded by IRETD and cleared by
    ///   POPFD.
    ///
    /// The caller has already refused virtual-8086 mode with IOPL < 3.
    pub fn popped_flags(&self, image: u32, op32: bool, iret: bool) -> u32 {
        let old = self.cpu.regs.eflags();
        let mut writable = FLAGS_LOW_WRITABLE;
        if op32 {
            writable |= FLAG_AC | FLAG_ID | FLAG_RF;
        }
        if self.cpu.v86() {
            writable &= !FLAG_IOPL;
        } else if self.cpu.protected() {
            if self.cpu.cpl > 0 {
                writable &= !FLAG_IOPL;
            }
            if u32::from(self.cpu.cpl) > self.iopl() {
                writable &= !FLAG_IF;
            }
        }
        let mut new = (old & !writable) | (image & writable);
        if op32 && !iret {
            new &= !FLAG_RF;
        }
        new | FLAG_FIXED1
    }

    /// Replace EFLAGS with a value from [`Ctx::popped_flags`]. Enabling IF
    /// raises `attention` so the run loop looks for pending interrupts.
    pub fn write_eflags(&mut self, value: u32) {
        let was_if = self.cpu.regs.flags & FLAG_IF != 0;
        self.cpu.regs.set_eflags(value);
        if !was_if && value & FLAG_IF != 0 {
            self.cpu.regs.attention = 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use btvm_jit::abi::{gpr, SegCache};

    use super::*;
    use crate::cpu::exception::{Exception, Stop};
    use crate::cpu::Cpu;
    use crate::memory::GuestMemory;
    use crate::platform::NullPlatform;

    fn real_cpu() -> Cpu {
        let mut cpu = Cpu::new();
        for s in cpu.regs.seg.iter_mut() {
            *s = SegCache::real_mode(0, false);
        }
        cpu.regs.seg[sreg::CS] = SegCache::real_mode(0, true);
        cpu.regs.gpr[gpr::ESP] = 0x1000;
        cpu
    }

    fn with_ctx<R>(cpu: &mut Cpu, f: impl FnOnce(&mut Ctx) -> R) -> R {
        let mut mem = GuestMemory::new(1).unwrap();
        let mut io = NullPlatform;
        let mut ctx = Ctx {
            cpu,
            mem: &mut mem,
            io: &mut io,
        };
        f(&mut ctx)
    }

    #[test]
    fn far_call_then_far_return_round_trips() {
        let mut cpu = real_cpu();
        with_ctx(&mut cpu, |c| {
            c.cpu.load_seg_real(sreg::CS, 0x0100);
            c.far_call(0x2000, 0x0010, false, 0x0123).unwrap();
            assert_eq!(c.cpu.regs.seg[sreg::CS].base, 0x20000);
            assert_eq!(c.cpu.regs.eip, 0x10);
            assert_eq!(c.sp(), 0x0FFC);
            assert_eq!(c.peek(0, 2).unwrap(), 0x0123);
            assert_eq!(c.peek(2, 2).unwrap(), 0x0100);
            c.far_return(false, 4).unwrap();
            assert_eq!(c.cpu.regs.seg[sreg::CS].selector, 0x0100);
            assert_eq!(c.cpu.regs.eip, 0x0123);
            assert_eq!(c.sp(), 0x1004);
        });
    }

    #[test]
    fn far_jump_beyond_64k_in_real_mode_is_gp() {
        let mut cpu = real_cpu();
        with_ctx(&mut cpu, |c| {
            let r = c.far_jump(0x1234, 0x0001_0000, true);
            assert_eq!(r, Err(Stop::Exception(Exception::with_error(GP, 0))));
            assert_eq!(c.cpu.regs.seg[sreg::CS].selector, 0);
        });
    }

    #[test]
    fn iret_loads_iopl_and_nt_but_not_reserved_bits() {
        let mut cpu = real_cpu();
        with_ctx(&mut cpu, |c| {
            c.push(2, 0xFFFF).unwrap(); // FLAGS: every bit set
            c.push(2, 0x3000).unwrap(); // CS
            c.push(2, 0x0042).unwrap(); // IP
            c.iret(false).unwrap();
            assert_eq!(c.cpu.regs.eflags(), 0x7FD7);
            assert_eq!(c.cpu.regs.eip, 0x42);
            assert_eq!(c.cpu.regs.seg[sreg::CS].base, 0x30000);
            assert_eq!(c.sp(), 0x1000);
        });
    }

    #[test]
    fn iretd_keeps_vm_vif_vip_and_loads_ac_id_rf() {
        let mut cpu = real_cpu();
        with_ctx(&mut cpu, |c| {
            c.push(4, 0xFFFF_FFFF).unwrap();
            c.push(4, 0x0000_3000).unwrap();
            c.push(4, 0x0000_0042).unwrap();
            c.iret(true).unwrap();
            assert_eq!(c.cpu.regs.eflags(), 0x0025_7FD7);
        });
    }

    #[test]
    fn popfd_clears_rf() {
        let cpu = real_cpu();
        let mut cpu = cpu;
        cpu.regs.set_eflags(FLAG_RF);
        with_ctx(&mut cpu, |c| {
            assert_eq!(
                c.popped_flags(FLAG_RF | FLAG_CF, true, false),
                FLAG_CF | FLAG_FIXED1
            );
        });
    }

    #[test]
    fn protected_mode_cpl3_cannot_change_if_or_iopl() {
        let mut cpu = real_cpu();
        cpu.cr0 |= crate::cpu::CR0_PE;
        cpu.cpl = 3;
        with_ctx(&mut cpu, |c| {
            let f = c.popped_flags(FLAG_IF | FLAG_IOPL | FLAG_CF, false, false);
            assert_eq!(f, FLAG_CF | FLAG_FIXED1);
        });
    }
}
