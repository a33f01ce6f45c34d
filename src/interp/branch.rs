//! Control transfer: JMP, Jcc, CALL, RET/RETF, IRET, LOOP/LOOPE/LOOPNE,
//! JCXZ/JECXZ, INT n/INT3/INT1/INTO and BOUND.
//!
//! Relative targets: iced decodes at IP 0, so `near_branch_target()` is
//! `len + displacement` (masked to the operand size) and the real target is
//! `next_eip + displacement`, masked to 16 bits with a 16-bit operand size.
//! Every near target is checked against the CS limit (#GP(0), a fault, so
//! nothing has changed yet). Far transfers go through `cpu::far`.
//!
//! Software interrupts are delivered by their handlers with the address of
//! the next instruction as the return address.
//!
//! Example: `e8 fd ff` (call -3) at 0000:0100 pushes 0x0103 and jumps to
//! 0x0100.

use btvm_jit::abi::{gpr, sreg};
use btvm_jit::flags::{FLAG_OF, FLAG_ZF};
use iced_x86::{Instruction, Mnemonic, OpKind};

use super::alu::{condition, flag};
use super::operand::{addr32, adr32, ea, get_reg, op32, op_size, read_op, sext};
use super::Handler;
use crate::cpu::access::{Ctx, Step};
use crate::cpu::exception::{fault, fault_code, BP, BR, DB, GP, OF, UD};

/// The handler for a control-transfer mnemonic.
pub fn handler(m: Mnemonic) -> Option<Handler> {
    use Mnemonic::*;
    Some(match m {
        Jmp => jmp,
        Jo | Jno | Jb | Jae | Je | Jne | Jbe | Ja | Js | Jns | Jp | Jnp | Jl | Jge | Jle | Jg => {
            jcc
        }
        Call => call,
        Ret => ret,
        Retf => |c, i| c.far_return(op32(i), imm16(i)),
        Iret => |c, _| c.iret(false),
        Iretd => |c, _| c.iret(true),
        Loop => |c, i| loop_while(c, i, |_| true),
        Loope => |c, i| loop_while(c, i, |c| flag(c, FLAG_ZF)),
        Loopne => |c, i| loop_while(c, i, |c| !flag(c, FLAG_ZF)),
        Jcxz | Jecxz => jcxz,
        Int => int_n,
        Int3 => |c, _| soft_int(c, BP, true),
        Int1 => |c, _| soft_int(c, DB, false),
        Into => |c, _| {
            if flag(c, FLAG_OF) {
                soft_int(c, OF, true)
            } else {
                Ok(())
            }
        },
        Bound => bound,
        _ => return None,
    })
}

// ---- targets -----------------------------------------------------------

/// The target of a relative branch: next EIP plus the displacement,
/// masked to the operand size.
#[inline]
fn rel_target(ctx: &Ctx, i: &Instruction) -> u32 {
    let disp = (i.near_branch_target() as u32).wrapping_sub(i.len() as u32);
    let t = ctx.cpu.regs.eip.wrapping_add(disp);
    if op32(i) {
        t
    } else {
        t & 0xFFFF
    }
}

/// Fault unless `target` lies within the CS limit.
#[inline]
fn check_near(ctx: &Ctx, target: u32) -> Step {
    if target > ctx.cpu.regs.seg[sreg::CS].limit {
        return fault_code(GP, 0);
    }
    Ok(())
}

/// Jump to a near target (checked against the CS limit).
#[inline]
fn near_jump(ctx: &mut Ctx, target: u32) -> Step {
    check_near(ctx, target)?;
    ctx.cpu.regs.eip = target;
    Ok(())
}

/// The optional imm16 of RET/RETF (0 when absent).
#[inline]
fn imm16(i: &Instruction) -> u16 {
    if i.op_count() > 0 {
        i.immediate16()
    } else {
        0
    }
}

/// Read an m16:16 / m16:32 far pointer: (selector, offset). The selector
/// follows the offset; the pointer is one operand, so only its effective
/// address wraps with the address size and all of it must lie inside the
/// segment limit (a 386+ faults where the 286 wrapped).
fn far_pointer(ctx: &mut Ctx, i: &Instruction) -> Step<(u16, u32)> {
    let n = if op32(i) { 4 } else { 2 };
    let (s, o) = ea(ctx, i);
    ctx.seg_check(s, o, n + 2, false)?;
    let off = ctx.read_seg(s, o, n)?;
    let sel = ctx.read_seg(s, o.wrapping_add(n as u32), 2)? as u16;
    Ok((sel, off))
}

/// The target of a near indirect JMP/CALL (register or memory operand),
/// zero-extended from a 16-bit operand.
fn near_indirect(ctx: &mut Ctx, i: &Instruction) -> Step<u32> {
    let n = op_size(i, 0);
    read_op(ctx, i, 0, n)
}

// ---- JMP / Jcc / CALL / RET ---------------------------------------------

fn jmp(ctx: &mut Ctx, i: &Instruction) -> Step {
    match i.op_kind(0) {
        OpKind::NearBranch16 | OpKind::NearBranch32 => near_jump(ctx, rel_target(ctx, i)),
        OpKind::FarBranch16 => {
            ctx.far_jump(i.far_branch_selector(), u32::from(i.far_branch16()), false)
        }
        OpKind::FarBranch32 => ctx.far_jump(i.far_branch_selector(), i.far_branch32(), true),
        _ if i.is_jmp_far_indirect() => {
            let (sel, off) = far_pointer(ctx, i)?;
            ctx.far_jump(sel, off, op32(i))
        }
        _ => {
            let t = near_indirect(ctx, i)?;
            near_jump(ctx, t)
        }
    }
}

fn jcc(ctx: &mut Ctx, i: &Instruction) -> Step {
    if condition(ctx, i.condition_code()) {
        near_jump(ctx, rel_target(ctx, i))
    } else {
        Ok(())
    }
}

fn call(ctx: &mut Ctx, i: &Instruction) -> Step {
    let next = ctx.cpu.regs.eip;
    let n = if op32(i) { 4 } else { 2 };
    let target = match i.op_kind(0) {
        OpKind::NearBranch16 | OpKind::NearBranch32 => rel_target(ctx, i),
        OpKind::FarBranch16 => {
            return ctx.far_call(
                i.far_branch_selector(),
                u32::from(i.far_branch16()),
                false,
                next,
            )
        }
        OpKind::FarBranch32 => {
            return ctx.far_call(i.far_branch_selector(), i.far_branch32(), true, next)
        }
        _ if i.is_call_far_indirect() => {
            let (sel, off) = far_pointer(ctx, i)?;
            return ctx.far_call(sel, off, op32(i), next);
        }
        _ => near_indirect(ctx, i)?,
    };
    check_near(ctx, target)?;
    ctx.push(n, next)?;
    ctx.cpu.regs.eip = target;
    Ok(())
}

fn ret(ctx: &mut Ctx, i: &Instruction) -> Step {
    let n = if op32(i) { 4 } else { 2 };
    let target = ctx.peek(0, n)?;
    check_near(ctx, target)?;
    let sp = ctx
        .sp()
        .wrapping_add(n as u32)
        .wrapping_add(u32::from(imm16(i)));
    ctx.set_sp(sp);
    ctx.cpu.regs.eip = target;
    Ok(())
}

// ---- LOOP / JCXZ ----------------------------------------------------------

/// LOOP/LOOPE/LOOPNE: decrement CX or ECX (by address size) and branch
/// while it is non-zero and `cond` holds. The count is written only once
/// the branch is known not to fault.
fn loop_while(ctx: &mut Ctx, i: &Instruction, cond: fn(&Ctx) -> bool) -> Step {
    let am = if adr32(i) { u32::MAX } else { 0xFFFF };
    let ecx = ctx.cpu.regs.gpr[gpr::ECX];
    let count = ecx.wrapping_sub(1) & am;
    let taken = count != 0 && cond(ctx);
    let target = rel_target(ctx, i);
    if taken {
        check_near(ctx, target)?;
    }
    ctx.cpu.regs.gpr[gpr::ECX] = (ecx & !am) | count;
    if taken {
        ctx.cpu.regs.eip = target;
    }
    Ok(())
}

fn jcxz(ctx: &mut Ctx, i: &Instruction) -> Step {
    let am = if adr32(i) { u32::MAX } else { 0xFFFF };
    if ctx.cpu.regs.gpr[gpr::ECX] & am == 0 {
        near_jump(ctx, rel_target(ctx, i))
    } else {
        Ok(())
    }
}

// ---- interrupts ----------------------------------------------------------

/// Deliver a software interrupt with the next instruction as the return
/// address. `software` asks protected-mode delivery for the gate DPL check
/// (INT n, INT3, INTO; not INT1/ICEBP, which behaves like a #DB).
fn soft_int(ctx: &mut Ctx, vector: u8, software: bool) -> Step {
    let next = ctx.cpu.regs.eip;
    if ctx.cpu.real_addressing() && !ctx.cpu.v86() {
        return ctx.interrupt(vector, None, next);
    }
    ctx.cpu.halted = false;
    ctx.interrupt_protected(vector, None, next, software)
}

fn int_n(ctx: &mut Ctx, i: &Instruction) -> Step {
    if ctx.cpu.v86() && ctx.iopl() < 3 {
        // Why: INT n is IOPL-sensitive in virtual-8086 mode (the trap to
        // the monitor); CR4.VME redirection comes with the system layer.
        return fault_code(GP, 0);
    }
    soft_int(ctx, i.immediate8(), true)
}

/// BOUND: #BR (a fault) unless lower <= index <= upper, signed, with the
/// bounds pair in memory (lower first).
fn bound(ctx: &mut Ctx, i: &Instruction) -> Step {
    if i.op_kind(1) != OpKind::Memory {
        return fault(UD);
    }
    let n = op_size(i, 0);
    let index = sext(get_reg(ctx, i.op_register(0)), n) as i32;
    let (s, o) = ea(ctx, i);
    let lower = sext(ctx.read_seg(s, o, n)?, n) as i32;
    let uo = o.wrapping_add(n as u32);
    let uo = if addr32(i) { uo } else { uo & 0xFFFF };
    let upper = sext(ctx.read_seg(s, uo, n)?, n) as i32;
    if index < lower || index > upper {
        return fault(BR);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use btvm_jit::abi::SegCache;
    use btvm_jit::flags::{FLAG_CF, FLAG_IF, FLAG_TF};
    use iced_x86::{Decoder, DecoderOptions};

    use super::*;
    use crate::cpu::exception::{Exception, Stop};
    use crate::cpu::Cpu;
    use crate::memory::GuestMemory;
    use crate::platform::NullPlatform;

    /// A real-mode CPU with every segment at 0, IP 0x100, SP 0x1000.
    fn setup() -> (Cpu, GuestMemory) {
        let mut cpu = Cpu::new();
        for s in cpu.regs.seg.iter_mut() {
            *s = SegCache::real_mode(0, false);
        }
        cpu.regs.seg[sreg::CS] = SegCache::real_mode(0, true);
        cpu.regs.eip = 0x100;
        cpu.regs.gpr[gpr::ESP] = 0x1000;
        (cpu, GuestMemory::new(1).unwrap())
    }

    /// Decode `bytes` as 16-bit code and run it at CS:IP as step() would.
    fn run(cpu: &mut Cpu, mem: &mut GuestMemory, bytes: &[u8]) -> Step {
        let i = Decoder::with_ip(16, bytes, 0, DecoderOptions::NONE).decode();
        cpu.regs.eip = (cpu.regs.eip + i.len() as u32) & 0xFFFF;
        let mut io = NullPlatform;
        let mut ctx = Ctx {
            cpu,
            mem,
            io: &mut io,
        };
        handler(i.mnemonic()).expect("branch mnemonic")(&mut ctx, &i)
    }

    fn word(mem: &GuestMemory, a: u32) -> u32 {
        let mut b = [0u8; 2];
        mem.read_phys(a, &mut b);
        u32::from(u16::from_le_bytes(b))
    }

    #[test]
    fn short_jmp_backwards() {
        let (mut cpu, mut mem) = setup();
        run(&mut cpu, &mut mem, &[0xEB, 0xFE]).unwrap(); // jmp $
        assert_eq!(cpu.regs.eip, 0x100);
    }

    #[test]
    fn near_jmp_wraps_at_64k() {
        let (mut cpu, mut mem) = setup();
        cpu.regs.eip = 0xFFF0;
        run(&mut cpu, &mut mem, &[0xE9, 0x20, 0x00]).unwrap(); // jmp +0x20
        assert_eq!(cpu.regs.eip, 0x0013);
    }

    #[test]
    fn jmp_rel32_beyond_cs_limit_faults() {
        let (mut cpu, mut mem) = setup();
        let r = run(&mut cpu, &mut mem, &[0x66, 0xE9, 0x00, 0x00, 0x01, 0x00]); // jmp +0x10000
        assert_eq!(r, Err(Stop::Exception(Exception::with_error(GP, 0))));
    }

    #[test]
    fn jcc_follows_flags() {
        let (mut cpu, mut mem) = setup();
        cpu.regs.set_eflags(FLAG_CF);
        run(&mut cpu, &mut mem, &[0x72, 0x10]).unwrap(); // jc +0x10
        assert_eq!(cpu.regs.eip, 0x112);
        run(&mut cpu, &mut mem, &[0x73, 0x10]).unwrap(); // jnc +0x10 (not taken)
        assert_eq!(cpu.regs.eip, 0x114);
    }

    #[test]
    fn call_rel_and_ret_imm() {
        let (mut cpu, mut mem) = setup();
        run(&mut cpu, &mut mem, &[0xE8, 0x00, 0x10]).unwrap(); // call +0x1000
        assert_eq!(cpu.regs.eip, 0x1103);
        assert_eq!(cpu.regs.gpr[gpr::ESP], 0x0FFE);
        assert_eq!(word(&mem, 0x0FFE), 0x103);
        run(&mut cpu, &mut mem, &[0xC2, 0x04, 0x00]).unwrap(); // ret 4
        assert_eq!(cpu.regs.eip, 0x103);
        assert_eq!(cpu.regs.gpr[gpr::ESP], 0x1004);
    }

    #[test]
    fn call_indirect_through_memory() {
        let (mut cpu, mut mem) = setup();
        mem.write_phys(0x500, &0x4321u16.to_le_bytes());
        cpu.regs.gpr[gpr::EBX] = 0x500;
        run(&mut cpu, &mut mem, &[0xFF, 0x17]).unwrap(); // call [bx]
        assert_eq!(cpu.regs.eip, 0x4321);
        assert_eq!(word(&mem, 0x0FFE), 0x102);
    }

    #[test]
    fn far_call_indirect_and_retf() {
        let (mut cpu, mut mem) = setup();
        mem.write_phys(0x600, &[0x34, 0x12, 0x00, 0x20]); // 2000:1234
        run(&mut cpu, &mut mem, &[0xFF, 0x1E, 0x00, 0x06]).unwrap(); // call far [0x600]
        assert_eq!(cpu.regs.seg[sreg::CS].base, 0x20000);
        assert_eq!(cpu.regs.eip, 0x1234);
        assert_eq!(word(&mem, 0x0FFC), 0x104);
        assert_eq!(word(&mem, 0x0FFE), 0);
        run(&mut cpu, &mut mem, &[0xCB]).unwrap(); // retf
        assert_eq!(cpu.regs.seg[sreg::CS].selector, 0);
        assert_eq!(cpu.regs.eip, 0x104);
    }

    #[test]
    fn jmp_far_direct() {
        let (mut cpu, mut mem) = setup();
        run(&mut cpu, &mut mem, &[0xEA, 0x00, 0x01, 0x00, 0xF0]).unwrap(); // jmp f000:0100
        assert_eq!(cpu.regs.seg[sreg::CS].base, 0xF0000);
        assert_eq!(cpu.regs.eip, 0x100);
    }

    #[test]
    fn loop_decrements_cx_only() {
        let (mut cpu, mut mem) = setup();
        cpu.regs.gpr[gpr::ECX] = 0x0001_0002;
        run(&mut cpu, &mut mem, &[0xE2, 0xFE]).unwrap(); // loop $
        assert_eq!(cpu.regs.gpr[gpr::ECX], 0x0001_0001);
        assert_eq!(cpu.regs.eip, 0x100);
        run(&mut cpu, &mut mem, &[0xE2, 0xFE]).unwrap();
        assert_eq!(cpu.regs.gpr[gpr::ECX], 0x0001_0000);
        assert_eq!(cpu.regs.eip, 0x102);
    }

    #[test]
    fn loopne_stops_on_zf_and_jcxz() {
        let (mut cpu, mut mem) = setup();
        cpu.regs.gpr[gpr::ECX] = 5;
        cpu.regs.set_eflags(FLAG_ZF);
        run(&mut cpu, &mut mem, &[0xE0, 0x10]).unwrap(); // loopne +0x10
        assert_eq!((cpu.regs.gpr[gpr::ECX], cpu.regs.eip), (4, 0x102));
        cpu.regs.gpr[gpr::ECX] = 0xFFFF_0000;
        run(&mut cpu, &mut mem, &[0xE3, 0x10]).unwrap(); // jcxz +0x10
        assert_eq!(cpu.regs.eip, 0x114);
        run(&mut cpu, &mut mem, &[0x67, 0xE3, 0x10]).unwrap(); // jecxz (not taken)
        assert_eq!(cpu.regs.eip, 0x117);
    }

    #[test]
    fn int_n_pushes_flags_cs_ip_and_vectors() {
        let (mut cpu, mut mem) = setup();
        mem.write_phys(0x21 * 4, &[0x78, 0x56, 0x34, 0x12]); // 1234:5678
        cpu.regs.set_eflags(FLAG_IF | FLAG_TF | FLAG_CF);
        run(&mut cpu, &mut mem, &[0xCD, 0x21]).unwrap(); // int 21h
        assert_eq!(cpu.regs.seg[sreg::CS].selector, 0x1234);
        assert_eq!(cpu.regs.eip, 0x5678);
        assert_eq!(word(&mem, 0x0FFA), 0x102);
        assert_eq!(word(&mem, 0x0FFC), 0);
        assert_eq!(word(&mem, 0x0FFE), 0x0303);
        assert_eq!(cpu.regs.eflags() & (FLAG_IF | FLAG_TF), 0);
    }

    #[test]
    fn into_only_with_of_and_iret_returns() {
        let (mut cpu, mut mem) = setup();
        mem.write_phys(4 * 4, &[0x00, 0x02, 0x00, 0x00]); // 0000:0200
        run(&mut cpu, &mut mem, &[0xCE]).unwrap(); // into, OF clear
        assert_eq!(cpu.regs.eip, 0x101);
        cpu.regs.set_eflags(FLAG_OF);
        run(&mut cpu, &mut mem, &[0xCE]).unwrap(); // into, OF set
        assert_eq!(cpu.regs.eip, 0x200);
        run(&mut cpu, &mut mem, &[0xCF]).unwrap(); // iret
        assert_eq!(cpu.regs.eip, 0x102);
        assert_eq!(cpu.regs.gpr[gpr::ESP], 0x1000);
        assert!(cpu.regs.eflags() & FLAG_OF != 0);
    }

    #[test]
    fn int3_and_icebp_use_vectors_3_and_1() {
        let (mut cpu, mut mem) = setup();
        mem.write_phys(4, &[0x11, 0x00, 0x00, 0x00]); // vector 1 -> 0000:0011
        mem.write_phys(12, &[0x33, 0x00, 0x00, 0x00]); // vector 3 -> 0000:0033
        run(&mut cpu, &mut mem, &[0xCC]).unwrap(); // int3
        assert_eq!((cpu.regs.eip, word(&mem, 0x0FFA)), (0x33, 0x101));
        run(&mut cpu, &mut mem, &[0xF1]).unwrap(); // int1 (icebp)
        assert_eq!((cpu.regs.eip, word(&mem, 0x0FF4)), (0x11, 0x34));
    }

    #[test]
    fn bound_faults_with_br_when_out_of_range() {
        let (mut cpu, mut mem) = setup();
        mem.write_phys(0x700, &[0xFE, 0xFF, 0x05, 0x00]); // [-2, 5]
        cpu.regs.gpr[gpr::EBX] = 0x700;
        cpu.regs.gpr[gpr::EAX] = 0xFFFE;
        run(&mut cpu, &mut mem, &[0x62, 0x07]).unwrap(); // bound ax, [bx]
        cpu.regs.gpr[gpr::EAX] = 6;
        let r = run(&mut cpu, &mut mem, &[0x62, 0x07]);
        assert_eq!(r, Err(Stop::Exception(Exception::new(BR))));
    }
}
