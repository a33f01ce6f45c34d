//! Delivering exceptions and interrupts: the real-mode IVT path here, with
//! the double-fault and triple-fault rules. Protected-mode delivery through
//! the IDT lives in the system-architecture layer.

use btvm_jit::abi::sreg;
use btvm_jit::flags::{FLAG_AC, FLAG_IF, FLAG_RF, FLAG_TF};

use super::access::{Ctx, Step};
use super::exception::{Exception, Stop, DF, GP};

impl Ctx<'_> {
    /// Deliver a fault raised by the instruction at `eip` (state already
    /// rolled back). A fault while delivering becomes #DF; a fault while
    /// delivering #DF is a triple fault (shutdown).
    pub fn raise(&mut self, e: Exception, eip: u32) -> Step {
        match self.interrupt(e.vector, e.error, eip) {
            Ok(()) => Ok(()),
            Err(Stop::Exception(second)) => {
                if e.vector == DF {
                    return Err(Stop::TripleFault);
                }
                let benign = !(e.contributory() || e.vector == 14) || !(second.contributory() || second.vector == 14);
                let next = if benign && !(e.vector == 14 && second.vector == 14) {
                    second
                } else {
                    Exception::with_error(DF, 0)
                };
                match self.interrupt(next.vector, next.error, eip) {
                    Ok(()) => Ok(()),
                    Err(Stop::Exception(_)) if next.vector != DF => {
                        match self.interrupt(DF, Some(0), eip) {
                            Ok(()) => Ok(()),
                            Err(_) => Err(Stop::TripleFault),
                        }
                    }
                    Err(_) => Err(Stop::TripleFault),
                }
            }
            Err(s) => Err(s),
        }
    }

    /// Transfer control through interrupt `vector` with `return_eip` as the
    /// saved EIP (the faulting instruction for faults, the next one for
    /// traps and INT n).
    pub fn interrupt(&mut self, vector: u8, error: Option<u32>, return_eip: u32) -> Step {
        self.cpu.halted = false;
        if self.cpu.real_addressing() && !self.cpu.v86() {
            return self.interrupt_real(vector, return_eip);
        }
        self.interrupt_protected(vector, error, return_eip, false)
    }

    fn interrupt_real(&mut self, vector: u8, return_eip: u32) -> Step {
        let off = u32::from(vector) * 4;
        if off + 3 > self.cpu.idtr.limit {
            return super::exception::fault_code(GP, u32::from(vector) * 8 + 2);
        }
        let flags = self.cpu.regs.eflags();
        let cs = u32::from(self.cpu.regs.seg[sreg::CS].selector);
        let esp = self.cpu.regs.gpr[btvm_jit::abi::gpr::ESP];
        let r = (|| {
            self.push(2, flags)?;
            self.push(2, cs)?;
            self.push(2, return_eip)
        })();
        if let Err(e) = r {
            self.cpu.regs.gpr[btvm_jit::abi::gpr::ESP] = esp;
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
}

impl Ctx<'_> {
    /// Protected-mode delivery through the IDT. Until the protected-mode
    /// layer lands, an exception in protected mode shuts the machine down
    /// (as a CPU with an unusable IDT would).
    pub(crate) fn interrupt_protected(&mut self, _vector: u8, _error: Option<u32>, _return_eip: u32, _software: bool) -> Step {
        Err(Stop::TripleFault)
    }
}
