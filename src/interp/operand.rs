//! Operand access for interpreter handlers: guest registers by iced
//! `Register`, effective addresses, and read/write of an instruction's
//! operands whatever their kind (register, memory, immediate).
//!
//! Register numbers follow iced's enum layout: AL..BH are 1..=8, AX..DI
//! 21..=28, EAX..EDI 37..=44, ES..GS 71..=76 (asserted in the tests).

use btvm_jit::abi::{gpr, sreg};
use iced_x86::{Instruction, OpKind, Register};

use crate::cpu::access::{Ctx, Step};

/// Where an operand lives once its address is computed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Loc {
    /// A general-purpose register (iced register, any width).
    Reg(Register),
    /// Memory at segment register index : offset.
    Mem(usize, u32),
}

/// Read a general-purpose register of any width (8-bit high halves included).
#[inline(always)]
pub fn get_reg(ctx: &Ctx, r: Register) -> u32 {
    let v = r as usize;
    let g = &ctx.cpu.regs.gpr;
    match v {
        1..=4 => g[v - 1] & 0xFF,
        5..=8 => (g[v - 5] >> 8) & 0xFF,
        21..=28 => g[v - 21] & 0xFFFF,
        37..=44 => g[v - 37],
        71..=76 => u32::from(ctx.cpu.regs.seg[v - 71].selector),
        _ => 0,
    }
}

/// Write a general-purpose register of any width, leaving the other bits of
/// the full register alone (as 8/16-bit writes do on IA-32).
#[inline(always)]
pub fn set_reg(ctx: &mut Ctx, r: Register, value: u32) {
    let v = r as usize;
    let g = &mut ctx.cpu.regs.gpr;
    match v {
        1..=4 => g[v - 1] = (g[v - 1] & !0xFF) | (value & 0xFF),
        5..=8 => g[v - 5] = (g[v - 5] & !0xFF00) | ((value & 0xFF) << 8),
        21..=28 => g[v - 21] = (g[v - 21] & !0xFFFF) | (value & 0xFFFF),
        37..=44 => g[v - 37] = value,
        _ => {}
    }
}

/// Index of a segment register (`sreg::*`) from an iced register.
#[inline(always)]
pub fn sreg_index(r: Register) -> usize {
    (r as usize)
        .wrapping_sub(Register::ES as usize)
        .min(sreg::GS)
}

/// Width in bytes of a register operand.
#[inline(always)]
pub fn reg_size(r: Register) -> usize {
    match r as usize {
        1..=20 => 1,
        21..=36 => 2,
        71..=76 => 2,
        _ => 4,
    }
}

/// Mask of the low `n` bytes.
#[inline]
pub const fn mask(n: usize) -> u32 {
    match n {
        1 => 0xFF,
        2 => 0xFFFF,
        _ => 0xFFFF_FFFF,
    }
}

/// Sign bit of an `n`-byte value.
#[inline]
pub const fn sign_bit(n: usize) -> u32 {
    1 << (n * 8 - 1)
}

/// Sign-extend the low `n` bytes to 32 bits.
#[inline]
pub const fn sext(v: u32, n: usize) -> u32 {
    match n {
        1 => v as u8 as i8 as i32 as u32,
        2 => v as u16 as i16 as i32 as u32,
        _ => v,
    }
}

/// Whether the memory operand uses 32-bit addressing.
#[inline(always)]
pub fn addr32(i: &Instruction) -> bool {
    let b = i.memory_base();
    let x = i.memory_index();
    if b != Register::None {
        return reg_size(b) == 4;
    }
    if x != Register::None {
        return reg_size(x) == 4;
    }
    i.memory_displ_size() == 4
}

/// Effective address of the memory operand: (segment index, offset), with
/// 16-bit address arithmetic wrapping at 64 KiB.
#[inline(always)]
pub fn ea(ctx: &Ctx, i: &Instruction) -> (usize, u32) {
    let mut off = i.memory_displacement32();
    let b = i.memory_base();
    if b != Register::None {
        off = off.wrapping_add(get_reg(ctx, b));
    }
    let x = i.memory_index();
    if x != Register::None {
        off = off.wrapping_add(get_reg(ctx, x) << (i.memory_index_scale().trailing_zeros()));
    }
    if !addr32(i) {
        off &= 0xFFFF;
    }
    (sreg_index(i.memory_segment()), off)
}

/// Width in bytes of operand 0 (its register or memory size).
#[inline(always)]
pub fn op_size(i: &Instruction, op: u32) -> usize {
    match i.op_kind(op) {
        OpKind::Register => reg_size(i.op_register(op)),
        OpKind::Memory => i.memory_size().size(),
        OpKind::Immediate8 => 1,
        OpKind::Immediate16 | OpKind::Immediate8to16 => 2,
        _ => 4,
    }
}

/// Resolve operand `op` to a location (registers and memory only).
#[inline(always)]
pub fn loc(ctx: &Ctx, i: &Instruction, op: u32) -> Loc {
    match i.op_kind(op) {
        OpKind::Memory => {
            let (s, o) = ea(ctx, i);
            Loc::Mem(s, o)
        }
        _ => Loc::Reg(i.op_register(op)),
    }
}

/// Read `n` bytes from a location.
#[inline(always)]
pub fn read_loc(ctx: &mut Ctx, l: Loc, n: usize) -> Step<u32> {
    match l {
        Loc::Reg(r) => Ok(get_reg(ctx, r)),
        Loc::Mem(s, o) => ctx.read_seg(s, o, n),
    }
}

/// Read `n` bytes from a location that the instruction then writes (a
/// read-modify-write): memory is checked with write intent.
#[inline(always)]
pub fn read_loc_rmw(ctx: &mut Ctx, l: Loc, n: usize) -> Step<u32> {
    match l {
        Loc::Reg(r) => Ok(get_reg(ctx, r)),
        Loc::Mem(s, o) => ctx.read_seg_rmw(s, o, n),
    }
}

/// Write `n` bytes to a location.
#[inline(always)]
pub fn write_loc(ctx: &mut Ctx, l: Loc, n: usize, v: u32) -> Step {
    match l {
        Loc::Reg(r) => {
            set_reg(ctx, r, v);
            Ok(())
        }
        Loc::Mem(s, o) => ctx.write_seg(s, o, n, v),
    }
}

/// Read operand `op` of any kind as an `n`-byte value (immediates are
/// sign-extended as encoded and truncated to `n` bytes).
#[inline(always)]
pub fn read_op(ctx: &mut Ctx, i: &Instruction, op: u32, n: usize) -> Step<u32> {
    match i.op_kind(op) {
        OpKind::Register => Ok(get_reg(ctx, i.op_register(op))),
        OpKind::Memory => {
            let (s, o) = ea(ctx, i);
            ctx.read_seg(s, o, n)
        }
        _ => Ok(i.immediate(op) as u32 & mask(n)),
    }
}

/// Write operand `op` (register or memory).
#[inline(always)]
pub fn write_op(ctx: &mut Ctx, i: &Instruction, op: u32, n: usize, v: u32) -> Step {
    let l = loc(ctx, i, op);
    write_loc(ctx, l, n, v)
}

/// Whether the instruction's operand size is 32 bits (for stack, branch
/// and string forms whose operands don't say).
#[inline]
pub fn op32(i: &Instruction) -> bool {
    i.code().op_code().operand_size() == 32
}

/// Whether the instruction's address size is 32 bits (string, LOOP, JCXZ
/// and XLAT forms whose memory operand doesn't say).
#[inline]
pub fn adr32(i: &Instruction) -> bool {
    i.code().op_code().address_size() == 32
}

/// EAX/AX/AL-relative helpers used by many handlers.
#[inline]
pub fn acc(ctx: &Ctx) -> u32 {
    ctx.cpu.regs.gpr[gpr::EAX]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iced_register_numbering_is_what_the_tables_assume() {
        assert_eq!(Register::AL as usize, 1);
        assert_eq!(Register::BH as usize, 8);
        assert_eq!(Register::AX as usize, 21);
        assert_eq!(Register::DI as usize, 28);
        assert_eq!(Register::EAX as usize, 37);
        assert_eq!(Register::EDI as usize, 44);
        assert_eq!(Register::ES as usize, 71);
        assert_eq!(Register::GS as usize, 76);
        assert_eq!(sreg_index(Register::SS), sreg::SS);
    }

    #[test]
    fn sign_extension_and_masks() {
        assert_eq!(sext(0x80, 1), 0xFFFF_FF80);
        assert_eq!(sext(0x7FFF, 2), 0x7FFF);
        assert_eq!(mask(2), 0xFFFF);
        assert_eq!(sign_bit(4), 0x8000_0000);
    }
}
