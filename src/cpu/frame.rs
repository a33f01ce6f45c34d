//! Stack frames the CPU itself builds during protected-mode control
//! transfers (interrupt and call-gate frames, possibly on a new inner
//! stack), and the inner-ring stack pointers it reads from the TSS.
//!
//! A frame is written all-or-nothing: every slot is checked against the
//! stack segment's limit (#SS) and translated for writing (#PF) before
//! the first byte is stored, so a fault leaves memory and registers as
//! they were. The caller commits SS:ESP only after the frame is written.

use btvm_jit::abi::SegCache;

use super::access::{Ctx, Step};
use super::descriptor::{sel_error, within_limit};
use super::exception::{fault_code, SS, TS};

/// Most slots a CPU-built frame can have: SS, ESP, 31 call-gate
/// parameters, CS and EIP.
const MAX_SLOTS: usize = 35;

/// A stack to push on: its segment cache, the stack pointer to start from,
/// and the privilege of the writes.
#[derive(Clone, Copy, Debug)]
pub struct Stack {
    /// The stack segment (its B bit picks SP or ESP).
    pub ss: SegCache,
    /// The full ESP register value to start from.
    pub esp: u32,
    /// Writes are made as CPL 3 (paging U/S checks).
    pub user: bool,
}

impl Stack {
    /// 0xFFFF for a 16-bit stack segment, else all ones.
    #[inline]
    pub fn mask(&self) -> u32 {
        if self.ss.is_32bit() {
            u32::MAX
        } else {
            0xFFFF
        }
    }
}

impl Ctx<'_> {
    /// The stack the CPU pushes on without a privilege change: the current
    /// SS:ESP at the current privilege.
    pub fn current_stack(&self) -> Stack {
        Stack {
            ss: self.cpu.regs.seg[btvm_jit::abi::sreg::SS],
            esp: self.cpu.regs.gpr[btvm_jit::abi::gpr::ESP],
            user: self.cpu.cpl == 3,
        }
    }

    /// Push `values` in order (the first is pushed first, so it ends up
    /// deepest), each `n` bytes, on `stack`. A slot outside the stack
    /// segment is #SS(`ss_error`). Nothing is written unless every slot
    /// can be. Returns the new ESP register value (a 16-bit stack keeps
    /// the high word of `stack.esp`).
    pub fn push_frame(
        &mut self,
        stack: &Stack,
        n: usize,
        values: &[u32],
        ss_error: u32,
    ) -> Step<u32> {
        debug_assert!(values.len() <= MAX_SLOTS);
        let m = stack.mask();
        let mut sp = stack.esp & m;
        let mut lin = [0u32; MAX_SLOTS];
        for slot in lin.iter_mut().take(values.len()) {
            sp = sp.wrapping_sub(n as u32) & m;
            if !within_limit(&stack.ss, sp, n as u32) {
                return fault_code(SS, ss_error);
            }
            *slot = stack.ss.base.wrapping_add(sp);
        }
        for &a in lin.iter().take(values.len()) {
            self.probe_write_as(a, n, stack.user)?;
        }
        for (&a, &v) in lin.iter().zip(values.iter()) {
            self.write_lin_as(a, n, v, stack.user)?;
        }
        Ok((stack.esp & !m) | sp)
    }

    /// The inner-ring stack for privilege `pl` (0-2) from the current TSS:
    /// (SS selector, ESP). A 32-bit TSS holds ESPn at 4 + 8n and SSn at
    /// 8 + 8n; a 16-bit TSS holds SPn at 2 + 4n and SSn at 4 + 4n. A TSS
    /// too short for the entry is #TS(TR selector | ext).
    pub fn tss_inner_stack(&mut self, pl: u8, ext: u32) -> Step<(u16, u32)> {
        let tr = self.cpu.tr;
        let tss32 = tr.attr & 8 != 0;
        let (off, size) = if tss32 {
            (4 + 8 * u32::from(pl), 8)
        } else {
            (2 + 4 * u32::from(pl), 4)
        };
        if tr.attr & SegCache::ATTR_PRESENT == 0 || off + size - 1 > tr.limit {
            return fault_code(TS, sel_error(tr.selector, ext));
        }
        let a = tr.base.wrapping_add(off);
        if tss32 {
            let esp = self.read_lin_supervisor(a, 4)?;
            let ss = self.read_lin_supervisor(a.wrapping_add(4), 2)?;
            Ok((ss as u16, esp))
        } else {
            let sp = self.read_lin_supervisor(a, 2)?;
            let ss = self.read_lin_supervisor(a.wrapping_add(2), 2)?;
            Ok((ss as u16, sp))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cpu::exception::{Exception, Stop};
    use crate::cpu::Cpu;
    use crate::memory::GuestMemory;
    use crate::platform::NullPlatform;

    fn data16(base: u32, limit: u32) -> SegCache {
        SegCache {
            base,
            limit,
            selector: 0x10,
            attr: 0x93,
        }
    }

    #[test]
    fn frame_is_written_downwards_and_wraps_a_16bit_sp() {
        let mut mem = GuestMemory::new(1).unwrap();
        let mut cpu = Cpu::new();
        let mut io = NullPlatform;
        let mut c = Ctx {
            cpu: &mut cpu,
            mem: &mut mem,
            io: &mut io,
        };
        let st = Stack {
            ss: data16(0x10000, 0xFFFF),
            esp: 0xABCD_0002,
            user: false,
        };
        let esp = c.push_frame(&st, 2, &[0x1111, 0x2222], 0).unwrap();
        assert_eq!(esp, 0xABCD_FFFE);
        assert_eq!(c.read_lin_supervisor(0x10000, 2), Ok(0x1111));
        assert_eq!(c.read_lin_supervisor(0x1FFFE, 2), Ok(0x2222));
    }

    #[test]
    fn frame_past_the_limit_writes_nothing() {
        let mut mem = GuestMemory::new(1).unwrap();
        let mut cpu = Cpu::new();
        let mut io = NullPlatform;
        let mut c = Ctx {
            cpu: &mut cpu,
            mem: &mut mem,
            io: &mut io,
        };
        // Expand-up limit 0x0FFF, SP 0x1004: the first slot (0x1000) is out.
        let st = Stack {
            ss: data16(0x20000, 0x0FFF),
            esp: 0x1004,
            user: false,
        };
        let r = c.push_frame(&st, 4, &[0xDEAD_BEEF, 1], 0x1C);
        assert_eq!(r, Err(Stop::Exception(Exception::with_error(SS, 0x1C))));
        assert_eq!(c.read_lin_supervisor(0x21000, 4), Ok(0));
    }
}
