//! Integer arithmetic and logic: ADD/OR/ADC/SBB/AND/SUB/XOR/CMP, TEST,
//! INC/DEC/NEG/NOT, the carry/direction flag instructions, and the shared
//! flag helpers (reading one flag, evaluating a condition code, setting
//! flags eagerly) every other handler group uses.

use btvm_jit::flags::*;
use iced_x86::{ConditionCode, Instruction, Mnemonic};

use super::operand::{loc, mask, op_size, read_loc, read_loc_rmw, read_op, write_loc};
use super::Handler;
use crate::cpu::access::{Ctx, Step};

/// The handler for an ALU mnemonic.
pub fn handler(m: Mnemonic) -> Option<Handler> {
    Some(match m {
        Mnemonic::Add => add,
        Mnemonic::Or => or,
        Mnemonic::Adc => adc,
        Mnemonic::Sbb => sbb,
        Mnemonic::And => and,
        Mnemonic::Sub => sub,
        Mnemonic::Xor => xor,
        Mnemonic::Cmp => cmp,
        Mnemonic::Test => test,
        Mnemonic::Inc => inc,
        Mnemonic::Dec => dec,
        Mnemonic::Neg => neg,
        Mnemonic::Not => not,
        Mnemonic::Clc => |c, _| set_flag_op(c, FLAG_CF, false),
        Mnemonic::Stc => |c, _| set_flag_op(c, FLAG_CF, true),
        Mnemonic::Cmc => |c, _| {
            let cf = flag(c, FLAG_CF);
            set_flag_op(c, FLAG_CF, !cf)
        },
        Mnemonic::Cld => |c, _| set_flag_op(c, FLAG_DF, false),
        Mnemonic::Std => |c, _| set_flag_op(c, FLAG_DF, true),
        _ => return None,
    })
}

// ---- flag helpers shared by all groups ---------------------------------

/// Whether one flag (a single `FLAG_*` bit) is set, materialising lazily.
#[inline(always)]
pub fn flag(ctx: &Ctx, f: u32) -> bool {
    let r = &ctx.cpu.regs;
    if r.lazy.mask & f == 0 {
        return r.flags & f != 0;
    }
    match f {
        FLAG_CF => r.lazy.carry() != 0,
        FLAG_OF => r.lazy.overflow() != 0,
        _ => r.lazy.compute() & f != 0,
    }
}

/// The carry flag as 0 or 1.
#[inline(always)]
pub fn cf(ctx: &Ctx) -> u32 {
    u32::from(flag(ctx, FLAG_CF))
}

/// Set the flags in `which` to the corresponding bits of `value`, eagerly.
#[inline]
pub fn set_flags(ctx: &mut Ctx, which: u32, value: u32) {
    let r = &mut ctx.cpu.regs;
    let cur = r.eflags();
    r.flags = (cur & !which) | (value & which);
    r.lazy.mask = 0;
}

/// Set or clear one flag.
#[inline]
pub fn set_flag(ctx: &mut Ctx, f: u32, on: bool) {
    set_flags(ctx, f, if on { f } else { 0 });
}

fn set_flag_op(ctx: &mut Ctx, f: u32, on: bool) -> Step {
    set_flag(ctx, f, on);
    Ok(())
}

/// Record a lazily evaluated ADD/SUB/LOGIC result of `n` bytes.
#[inline(always)]
pub fn set_lazy(ctx: &mut Ctx, kind: u32, n: usize, a: u32, b: u32, r: u32, which: u32) {
    let regs = &mut ctx.cpu.regs;
    if regs.lazy.mask & !which != 0 {
        // Flags the new record does not define must survive: settle them.
        regs.flags = regs.eflags();
    }
    regs.lazy.set(kind | size_code(n as u32), a, b, r, which);
}

/// Evaluate a condition code (Jcc, SETcc, CMOVcc).
#[inline(always)]
pub fn condition(ctx: &Ctx, cc: ConditionCode) -> bool {
    match cc {
        ConditionCode::o => flag(ctx, FLAG_OF),
        ConditionCode::no => !flag(ctx, FLAG_OF),
        ConditionCode::b => flag(ctx, FLAG_CF),
        ConditionCode::ae => !flag(ctx, FLAG_CF),
        ConditionCode::e => flag(ctx, FLAG_ZF),
        ConditionCode::ne => !flag(ctx, FLAG_ZF),
        ConditionCode::be => flag(ctx, FLAG_CF) || flag(ctx, FLAG_ZF),
        ConditionCode::a => !flag(ctx, FLAG_CF) && !flag(ctx, FLAG_ZF),
        ConditionCode::s => flag(ctx, FLAG_SF),
        ConditionCode::ns => !flag(ctx, FLAG_SF),
        ConditionCode::p => flag(ctx, FLAG_PF),
        ConditionCode::np => !flag(ctx, FLAG_PF),
        ConditionCode::l => flag(ctx, FLAG_SF) != flag(ctx, FLAG_OF),
        ConditionCode::ge => flag(ctx, FLAG_SF) == flag(ctx, FLAG_OF),
        ConditionCode::le => flag(ctx, FLAG_ZF) || flag(ctx, FLAG_SF) != flag(ctx, FLAG_OF),
        ConditionCode::g => !flag(ctx, FLAG_ZF) && flag(ctx, FLAG_SF) == flag(ctx, FLAG_OF),
        ConditionCode::None => true,
    }
}

// ---- two-operand ALU ---------------------------------------------------
//
// Each handler computes, writes the destination, and only then records the
// flags, so a faulting write leaves EFLAGS untouched (faults are precise).

#[inline]
fn binop(
    ctx: &mut Ctx,
    i: &Instruction,
    kind: u32,
    carry_in: bool,
    store: bool,
    f: fn(u32, u32, u32) -> u32,
) -> Step {
    let n = op_size(i, 0);
    let dst = loc(ctx, i, 0);
    let a = if store {
        read_loc_rmw(ctx, dst, n)?
    } else {
        read_loc(ctx, dst, n)?
    };
    let b = read_op(ctx, i, 1, n)?;
    let c = if carry_in { cf(ctx) } else { 0 };
    let r = f(a, b, c) & mask(n);
    if store {
        write_loc(ctx, dst, n, r)?;
    }
    // The lazy record keeps the unmasked result so ADC/SBB carries are right.
    set_lazy(ctx, kind, n, a, b, f(a, b, c), FLAGS_ARITH);
    Ok(())
}

fn add(ctx: &mut Ctx, i: &Instruction) -> Step {
    binop(ctx, i, OP_ADD, false, true, |a, b, _| a.wrapping_add(b))
}

fn adc(ctx: &mut Ctx, i: &Instruction) -> Step {
    binop(ctx, i, OP_ADD, true, true, |a, b, c| {
        a.wrapping_add(b).wrapping_add(c)
    })
}

fn sub(ctx: &mut Ctx, i: &Instruction) -> Step {
    binop(ctx, i, OP_SUB, false, true, |a, b, _| a.wrapping_sub(b))
}

fn sbb(ctx: &mut Ctx, i: &Instruction) -> Step {
    binop(ctx, i, OP_SUB, true, true, |a, b, c| {
        a.wrapping_sub(b).wrapping_sub(c)
    })
}

fn cmp(ctx: &mut Ctx, i: &Instruction) -> Step {
    binop(ctx, i, OP_SUB, false, false, |a, b, _| a.wrapping_sub(b))
}

fn and(ctx: &mut Ctx, i: &Instruction) -> Step {
    binop(ctx, i, OP_LOGIC, false, true, |a, b, _| a & b)
}

fn or(ctx: &mut Ctx, i: &Instruction) -> Step {
    binop(ctx, i, OP_LOGIC, false, true, |a, b, _| a | b)
}

fn xor(ctx: &mut Ctx, i: &Instruction) -> Step {
    binop(ctx, i, OP_LOGIC, false, true, |a, b, _| a ^ b)
}

fn test(ctx: &mut Ctx, i: &Instruction) -> Step {
    binop(ctx, i, OP_LOGIC, false, false, |a, b, _| a & b)
}

// ---- one-operand -------------------------------------------------------

/// Read-modify-write of operand 0; `flags` gets (n, old, new) after the write.
#[inline]
fn unop(
    ctx: &mut Ctx,
    i: &Instruction,
    f: fn(u32) -> u32,
    flags: Option<fn(&mut Ctx, usize, u32, u32)>,
) -> Step {
    let n = op_size(i, 0);
    let dst = loc(ctx, i, 0);
    let a = read_loc_rmw(ctx, dst, n)?;
    let r = f(a) & mask(n);
    write_loc(ctx, dst, n, r)?;
    if let Some(set) = flags {
        set(ctx, n, a, r);
    }
    Ok(())
}

fn inc(ctx: &mut Ctx, i: &Instruction) -> Step {
    unop(
        ctx,
        i,
        |a| a.wrapping_add(1),
        Some(|c, n, a, r| set_lazy(c, OP_ADD, n, a, 1, r, FLAGS_ARITH & !FLAG_CF)),
    )
}

fn dec(ctx: &mut Ctx, i: &Instruction) -> Step {
    unop(
        ctx,
        i,
        |a| a.wrapping_sub(1),
        Some(|c, n, a, r| set_lazy(c, OP_SUB, n, a, 1, r, FLAGS_ARITH & !FLAG_CF)),
    )
}

fn neg(ctx: &mut Ctx, i: &Instruction) -> Step {
    unop(
        ctx,
        i,
        |a| 0u32.wrapping_sub(a),
        Some(|c, n, a, r| set_lazy(c, OP_SUB, n, 0, a, r, FLAGS_ARITH)),
    )
}

fn not(ctx: &mut Ctx, i: &Instruction) -> Step {
    unop(ctx, i, |a| !a, None)
}
