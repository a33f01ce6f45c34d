//! MOV to and from control, debug and test registers.

use iced_x86::Instruction;

use crate::cpu::access::{Ctx, Step};
use crate::cpu::exception::{fault, UD};

/// MOV CRn/DRn/TRn, r32.
pub fn mov_to_special(_ctx: &mut Ctx, _i: &Instruction) -> Step {
    fault(UD)
}

/// MOV r32, CRn/DRn/TRn.
pub fn mov_from_special(_ctx: &mut Ctx, _i: &Instruction) -> Step {
    fault(UD)
}
