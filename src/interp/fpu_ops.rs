//! x87 data instructions: loads, stores, arithmetic, compares, FCMOVcc,
//! stack manipulation and the transcendental group. Each handler runs the
//! common prologue (`enter`), reads its memory operand, calls the FPU
//! model, writes memory (stores), then records FIP/FOP/FDP (`record`).

use btvm_jit::flags::{FLAG_AF, FLAG_CF, FLAG_OF, FLAG_PF, FLAG_SF, FLAG_ZF};
use iced_x86::{ConditionCode, Instruction, MemorySize, Mnemonic, OpKind};

use super::super::alu::{condition, set_flags};
use super::super::Handler;
use super::{enter, read_mem, record, st_index, write_mem};
use crate::cpu::access::{Ctx, Step};
use crate::fpu::convert::{from_f32, from_f64, from_int};
use crate::fpu::ops::{Op, Src, StoreKind};
use crate::fpu::transcendental::Constant;
use crate::fpu::F80;

/// The handler for an x87 data mnemonic.
pub fn handler(m: Mnemonic) -> Option<Handler> {
    use Mnemonic::*;
    Some(match m {
        Fadd | Faddp | Fiadd | Fsub | Fsubp | Fisub | Fsubr | Fsubrp | Fisubr | Fmul | Fmulp
        | Fimul | Fdiv | Fdivp | Fidiv | Fdivr | Fdivrp | Fidivr => arith,
        Fld | Fild | Fbld => load,
        Fld1 | Fldz | Fldpi | Fldl2e | Fldl2t | Fldlg2 | Fldln2 => load_const,
        Fst | Fstp | Fstpnce | Fist | Fistp | Fbstp => store,
        Fcom | Fcomp | Fcompp | Fucom | Fucomp | Fucompp | Ficom | Ficomp | Ftst | Fxam => compare,
        Fcomi | Fcomip | Fucomi | Fucomip => compare_eflags,
        Fcmovb | Fcmove | Fcmovbe | Fcmovu | Fcmovnb | Fcmovne | Fcmovnbe | Fcmovnu => fcmov,
        Fxch | Fchs | Fabs | Frndint | Fxtract | Fsqrt | Fscale | Fprem | Fprem1 | Fsin | Fcos
        | Fsincos | Fptan | Fpatan | F2xm1 | Fyl2x | Fyl2xp1 | Fincstp | Fdecstp | Ffree
        | Ffreep | Fnop => misc,
        _ => return None,
    })
}

/// Read a floating-point or integer memory operand as a register value,
/// with the DE its widening raises (SNaNs stay signalling).
fn mem_operand(ctx: &mut Ctx, i: &Instruction) -> Step<(F80, u16)> {
    let mut b = [0u8; 10];
    let n = i.memory_size().size();
    read_mem(ctx, i, &mut b[..n])?;
    let lo = u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]);
    Ok(match i.memory_size() {
        MemorySize::Float32 => from_f32(lo as u32),
        MemorySize::Float64 => from_f64(lo),
        MemorySize::Int16 => (from_int(i64::from(lo as u16 as i16)), 0),
        MemorySize::Int32 => (from_int(i64::from(lo as u32 as i32)), 0),
        MemorySize::Int64 => (from_int(lo as i64), 0),
        _ => (F80::from_bytes(b), 0),
    })
}

fn arith(ctx: &mut Ctx, i: &Instruction) -> Step {
    use Mnemonic::*;
    enter(ctx)?;
    let m = i.mnemonic();
    let op = match m {
        Fadd | Faddp | Fiadd => Op::Add,
        Fsub | Fsubp | Fisub => Op::Sub,
        Fsubr | Fsubrp | Fisubr => Op::SubR,
        Fmul | Fmulp | Fimul => Op::Mul,
        Fdiv | Fdivp | Fidiv => Op::Div,
        _ => Op::DivR,
    };
    let pop = matches!(m, Faddp | Fsubp | Fsubrp | Fmulp | Fdivp | Fdivrp);
    let (dst, src) = if i.op_count() == 1 && i.op_kind(0) == OpKind::Memory {
        let (v, f) = mem_operand(ctx, i)?;
        (0, Src::Mem(v, f))
    } else {
        (st_index(i, 0), Src::Reg(st_index(i, 1)))
    };
    ctx.cpu.fpu.arith(op, dst, src, pop);
    record(ctx, i)
}

fn load(ctx: &mut Ctx, i: &Instruction) -> Step {
    enter(ctx)?;
    if i.op_kind(0) == OpKind::Register {
        let s = st_index(i, 0);
        ctx.cpu.fpu.load_st(s);
        return record(ctx, i);
    }
    match i.memory_size() {
        MemorySize::Float32 | MemorySize::Float64 => {
            let (v, f) = mem_operand(ctx, i)?;
            ctx.cpu.fpu.load_float(v, f);
        }
        MemorySize::Bcd => {
            let mut b = [0u8; 10];
            read_mem(ctx, i, &mut b)?;
            ctx.cpu.fpu.load_bcd(b);
        }
        // m80 loads bit for bit; integers convert exactly.
        _ => {
            let (v, _) = mem_operand(ctx, i)?;
            ctx.cpu.fpu.load(v, 0);
        }
    }
    record(ctx, i)
}

fn load_const(ctx: &mut Ctx, i: &Instruction) -> Step {
    enter(ctx)?;
    let c = match i.mnemonic() {
        Mnemonic::Fld1 => Constant::One,
        Mnemonic::Fldz => Constant::Zero,
        Mnemonic::Fldpi => Constant::Pi,
        Mnemonic::Fldl2e => Constant::Log2E,
        Mnemonic::Fldl2t => Constant::Log2Ten,
        Mnemonic::Fldlg2 => Constant::Log10Two,
        _ => Constant::Ln2,
    };
    ctx.cpu.fpu.load_const(c);
    record(ctx, i)
}

fn store(ctx: &mut Ctx, i: &Instruction) -> Step {
    use Mnemonic::*;
    enter(ctx)?;
    let m = i.mnemonic();
    let pop = matches!(m, Fstp | Fstpnce | Fistp | Fbstp);
    if i.op_kind(0) == OpKind::Register {
        let s = st_index(i, 0);
        ctx.cpu.fpu.store_st(s, pop);
        return record(ctx, i);
    }
    let kind = match i.memory_size() {
        MemorySize::Float32 => StoreKind::F32,
        MemorySize::Float64 => StoreKind::F64,
        MemorySize::Int16 => StoreKind::I16,
        MemorySize::Int32 => StoreKind::I32,
        MemorySize::Int64 => StoreKind::I64,
        MemorySize::Bcd => StoreKind::Bcd,
        _ => StoreKind::F80,
    };
    let s = ctx.cpu.fpu.store_prepare(kind);
    if s.write {
        write_mem(ctx, i, &s.bytes[..s.len])?;
    }
    ctx.cpu.fpu.store_commit(&s, pop);
    record(ctx, i)
}

fn compare(ctx: &mut Ctx, i: &Instruction) -> Step {
    use Mnemonic::*;
    enter(ctx)?;
    let m = i.mnemonic();
    if m == Fxam {
        ctx.cpu.fpu.fxam();
        return record(ctx, i);
    }
    let quiet = matches!(m, Fucom | Fucomp | Fucompp);
    let pops = match m {
        Fcompp | Fucompp => 2,
        Fcomp | Fucomp | Ficomp => 1,
        _ => 0,
    };
    let src = if m == Ftst {
        Src::Mem(F80::ZERO, 0)
    } else if i.op_count() >= 1 && i.op_kind(0) == OpKind::Memory {
        let (v, f) = mem_operand(ctx, i)?;
        Src::Mem(v, f)
    } else if i.op_count() == 2 {
        Src::Reg(st_index(i, 1))
    } else {
        Src::Reg(1)
    };
    ctx.cpu.fpu.compare(src, quiet, pops);
    record(ctx, i)
}

fn compare_eflags(ctx: &mut Ctx, i: &Instruction) -> Step {
    use Mnemonic::*;
    enter(ctx)?;
    let m = i.mnemonic();
    let quiet = matches!(m, Fucomi | Fucomip);
    let pop = matches!(m, Fcomip | Fucomip);
    let s = st_index(i, 1);
    let r = ctx.cpu.fpu.compare_eflags(s, quiet, pop);
    // OF, SF and AF are cleared in every case (SDM: FCOMI).
    let (which, value) = match r {
        Some((z, p, c)) => (
            FLAG_ZF | FLAG_PF | FLAG_CF | FLAG_OF | FLAG_SF | FLAG_AF,
            (if z { FLAG_ZF } else { 0 })
                | (if p { FLAG_PF } else { 0 })
                | (if c { FLAG_CF } else { 0 }),
        ),
        None => (FLAG_OF | FLAG_SF | FLAG_AF, 0),
    };
    set_flags(ctx, which, value);
    record(ctx, i)
}

fn fcmov(ctx: &mut Ctx, i: &Instruction) -> Step {
    use Mnemonic::*;
    enter(ctx)?;
    let cc = match i.mnemonic() {
        Fcmovb => ConditionCode::b,
        Fcmove => ConditionCode::e,
        Fcmovbe => ConditionCode::be,
        Fcmovu => ConditionCode::p,
        Fcmovnb => ConditionCode::ae,
        Fcmovne => ConditionCode::ne,
        Fcmovnbe => ConditionCode::a,
        _ => ConditionCode::np,
    };
    let c = condition(ctx, cc);
    let s = st_index(i, 1);
    ctx.cpu.fpu.fcmov(s, c);
    record(ctx, i)
}

fn misc(ctx: &mut Ctx, i: &Instruction) -> Step {
    use Mnemonic::*;
    enter(ctx)?;
    let f = &mut ctx.cpu.fpu;
    match i.mnemonic() {
        Fxch => f.fxch(st_index(i, 1)),
        Fchs => f.sign_op(false),
        Fabs => f.sign_op(true),
        Frndint => f.frndint(),
        Fxtract => f.fxtract(),
        Fsqrt => f.fsqrt(),
        Fscale => f.fscale(),
        Fprem => f.fprem(false),
        Fprem1 => f.fprem(true),
        Fsin => f.fsin_fcos(false),
        Fcos => f.fsin_fcos(true),
        Fsincos => f.fsincos(),
        Fptan => f.fptan(),
        Fpatan => f.fpatan(),
        F2xm1 => f.f2xm1(),
        Fyl2x => f.fyl2x(),
        Fyl2xp1 => f.fyl2xp1(),
        Fincstp => f.step_top(true),
        Fdecstp => f.step_top(false),
        Ffree => f.ffree(st_index(i, 0), false),
        Ffreep => f.ffree(st_index(i, 0), true),
        _ => {} // FNOP
    }
    record(ctx, i)
}
