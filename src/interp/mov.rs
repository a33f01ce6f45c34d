//! Data movement: MOV (general, segment, moffs), MOVZX/MOVSX, XCHG, XADD,
//! CMPXCHG/CMPXCHG8B, LEA, LDS/LES/LFS/LGS/LSS, XLAT, CBW/CWDE/CWD/CDQ,
//! LAHF/SAHF.

use btvm_jit::abi::gpr;
use btvm_jit::flags::*;
use iced_x86::{Instruction, Mnemonic, OpKind, Register};

use super::alu::{set_flags, set_lazy};
use super::operand::*;
use super::Handler;
use crate::cpu::access::{Ctx, Step};
use crate::cpu::exception::{fault, UD};

/// The handler for a data-movement mnemonic.
pub fn handler(m: Mnemonic) -> Option<Handler> {
    Some(match m {
        Mnemonic::Mov => mov,
        Mnemonic::Movzx => movzx,
        Mnemonic::Movsx => movsx,
        Mnemonic::Xchg => xchg,
        Mnemonic::Xadd => xadd,
        Mnemonic::Cmpxchg => cmpxchg,
        Mnemonic::Cmpxchg8b => cmpxchg8b,
        Mnemonic::Lea => lea,
        Mnemonic::Lds | Mnemonic::Les | Mnemonic::Lfs | Mnemonic::Lgs | Mnemonic::Lss => {
            load_far_pointer
        }
        Mnemonic::Xlatb => xlat,
        Mnemonic::Cbw => |c, _| {
            let a = &mut c.cpu.regs.gpr[gpr::EAX];
            *a = (*a & !0xFFFF) | (sext(*a, 1) & 0xFFFF);
            Ok(())
        },
        Mnemonic::Cwde => |c, _| {
            let a = &mut c.cpu.regs.gpr[gpr::EAX];
            *a = sext(*a, 2);
            Ok(())
        },
        Mnemonic::Cwd => |c, _| {
            let hi = if c.cpu.regs.gpr[gpr::EAX] & 0x8000 != 0 {
                0xFFFF
            } else {
                0
            };
            let d = &mut c.cpu.regs.gpr[gpr::EDX];
            *d = (*d & !0xFFFF) | hi;
            Ok(())
        },
        Mnemonic::Cdq => |c, _| {
            c.cpu.regs.gpr[gpr::EDX] = if c.cpu.regs.gpr[gpr::EAX] & 0x8000_0000 != 0 {
                u32::MAX
            } else {
                0
            };
            Ok(())
        },
        Mnemonic::Lahf => |c, _| {
            let f = c.cpu.regs.eflags() & 0xD7 | FLAG_FIXED1;
            let a = &mut c.cpu.regs.gpr[gpr::EAX];
            *a = (*a & !0xFF00) | (f << 8);
            Ok(())
        },
        Mnemonic::Sahf => |c, _| {
            let ah = (c.cpu.regs.gpr[gpr::EAX] >> 8) & 0xFF;
            set_flags(c, FLAG_SF | FLAG_ZF | FLAG_AF | FLAG_PF | FLAG_CF, ah);
            Ok(())
        },
        _ => return None,
    })
}

#[inline]
fn is_sreg(r: Register) -> bool {
    r.is_segment_register()
}

fn mov(ctx: &mut Ctx, i: &Instruction) -> Step {
    if i.op_kind(0) == OpKind::Register {
        let r0 = i.op_register(0);
        if is_sreg(r0) {
            let sel = read_op(ctx, i, 1, 2)? as u16;
            let s = sreg_index(r0);
            if s == btvm_jit::abi::sreg::CS {
                return fault(UD);
            }
            return ctx.load_segment(s, sel);
        }
        if r0.is_cr() || r0.is_dr() || r0.is_tr() {
            return super::system_regs::mov_to_special(ctx, i);
        }
    }
    if i.op_kind(1) == OpKind::Register {
        let r1 = i.op_register(1);
        if is_sreg(r1) {
            let sel = get_reg(ctx, r1);
            return match i.op_kind(0) {
                // A 32-bit register destination gets the selector zero-extended.
                OpKind::Register => {
                    let r0 = i.op_register(0);
                    if reg_size(r0) == 4 {
                        ctx.cpu.regs.gpr[r0 as usize - Register::EAX as usize] = sel;
                    } else {
                        set_reg(ctx, r0, sel);
                    }
                    Ok(())
                }
                _ => write_op(ctx, i, 0, 2, sel),
            };
        }
        if r1.is_cr() || r1.is_dr() || r1.is_tr() {
            return super::system_regs::mov_from_special(ctx, i);
        }
    }
    let n = op_size(i, 0);
    let v = read_op(ctx, i, 1, n)?;
    write_op(ctx, i, 0, n, v)
}

fn movzx(ctx: &mut Ctx, i: &Instruction) -> Step {
    let v = read_op(ctx, i, 1, op_size(i, 1))?;
    set_reg(ctx, i.op_register(0), v);
    Ok(())
}

fn movsx(ctx: &mut Ctx, i: &Instruction) -> Step {
    let v = read_op(ctx, i, 1, op_size(i, 1))?;
    set_reg(ctx, i.op_register(0), sext(v, op_size(i, 1)));
    Ok(())
}

fn xchg(ctx: &mut Ctx, i: &Instruction) -> Step {
    let n = op_size(i, 0);
    let a = loc(ctx, i, 0);
    let b = loc(ctx, i, 1);
    let va = read_loc_rmw(ctx, a, n)?;
    let vb = read_loc_rmw(ctx, b, n)?;
    // Memory first: if it faults, the register is untouched.
    if let Loc::Mem(..) = a {
        write_loc(ctx, a, n, vb)?;
        write_loc(ctx, b, n, va)
    } else {
        write_loc(ctx, b, n, va)?;
        write_loc(ctx, a, n, vb)
    }
}

fn xadd(ctx: &mut Ctx, i: &Instruction) -> Step {
    let n = op_size(i, 0);
    let d = loc(ctx, i, 0);
    let s = i.op_register(1);
    let dv = read_loc_rmw(ctx, d, n)?;
    let sv = get_reg(ctx, s);
    let r = dv.wrapping_add(sv) & mask(n);
    write_loc(ctx, d, n, r)?;
    set_reg(ctx, s, dv);
    if let Loc::Reg(dr) = d {
        set_reg(ctx, dr, r);
    }
    set_lazy(ctx, OP_ADD, n, dv, sv, r, FLAGS_ARITH);
    Ok(())
}

fn cmpxchg(ctx: &mut Ctx, i: &Instruction) -> Step {
    let n = op_size(i, 0);
    let d = loc(ctx, i, 0);
    let dv = read_loc_rmw(ctx, d, n)?;
    let acc = ctx.cpu.regs.gpr[gpr::EAX] & mask(n);
    let src = get_reg(ctx, i.op_register(1));
    if acc == dv {
        write_loc(ctx, d, n, src)?;
    } else {
        // The processor writes the destination back either way.
        write_loc(ctx, d, n, dv)?;
        let acc_reg = match n {
            1 => Register::AL,
            2 => Register::AX,
            _ => Register::EAX,
        };
        set_reg(ctx, acc_reg, dv);
    }
    set_lazy(ctx, OP_SUB, n, acc, dv, acc.wrapping_sub(dv), FLAGS_ARITH);
    Ok(())
}

fn cmpxchg8b(ctx: &mut Ctx, i: &Instruction) -> Step {
    if i.op_kind(0) != OpKind::Memory {
        return fault(UD);
    }
    let (s, o) = ea(ctx, i);
    // Read with write intent, as every read-modify-write (#PF W=1).
    let lo = ctx.read_seg_rmw(s, o, 4)?;
    let hi = ctx.read_seg_rmw(s, o.wrapping_add(4), 4)?;
    let g = ctx.cpu.regs.gpr;
    let equal = lo == g[gpr::EAX] && hi == g[gpr::EDX];
    let (wlo, whi) = if equal {
        (g[gpr::EBX], g[gpr::ECX])
    } else {
        (lo, hi)
    };
    ctx.seg_check(s, o, 8, true)?;
    ctx.write_seg(s, o, 4, wlo)?;
    ctx.write_seg(s, o.wrapping_add(4), 4, whi)?;
    if !equal {
        ctx.cpu.regs.gpr[gpr::EAX] = lo;
        ctx.cpu.regs.gpr[gpr::EDX] = hi;
    }
    set_flags(ctx, FLAG_ZF, if equal { FLAG_ZF } else { 0 });
    Ok(())
}

fn lea(ctx: &mut Ctx, i: &Instruction) -> Step {
    if i.op_kind(1) != OpKind::Memory {
        return fault(UD);
    }
    let (_, off) = ea(ctx, i);
    set_reg(ctx, i.op_register(0), off);
    Ok(())
}

fn load_far_pointer(ctx: &mut Ctx, i: &Instruction) -> Step {
    if i.op_kind(1) != OpKind::Memory {
        return fault(UD);
    }
    let r = i.op_register(0);
    let n = reg_size(r);
    let (s, o) = ea(ctx, i);
    // The pointer is one operand: only its effective address wraps with
    // the address size, and all of it must lie inside the limit (a 386+
    // faults at offset 0xFFFE where the 286 wrapped; found by `btvm fuzz`).
    ctx.seg_check(s, o, n + 2, false)?;
    let off = ctx.read_seg(s, o, n)?;
    let sel = ctx.read_seg(s, o.wrapping_add(n as u32), 2)? as u16;
    let seg = match i.mnemonic() {
        Mnemonic::Lds => btvm_jit::abi::sreg::DS,
        Mnemonic::Les => btvm_jit::abi::sreg::ES,
        Mnemonic::Lfs => btvm_jit::abi::sreg::FS,
        Mnemonic::Lgs => btvm_jit::abi::sreg::GS,
        _ => btvm_jit::abi::sreg::SS,
    };
    ctx.load_segment(seg, sel)?;
    set_reg(ctx, r, off);
    Ok(())
}

fn xlat(ctx: &mut Ctx, i: &Instruction) -> Step {
    let (s, o) = ea(ctx, i);
    let v = ctx.read_seg(s, o, 1)?;
    set_reg(ctx, Register::AL, v);
    Ok(())
}
