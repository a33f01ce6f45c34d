//! System and I/O instructions: HLT, CLI/STI, IN/OUT, CPUID, RDTSC,
//! NOP/WAIT/FPU escapes without an FPU, and the #UD-raising forms.
//!
//! Privilege checks (IOPL for CLI/STI/IN/OUT, CPL 0 for HLT) apply in
//! protected mode; in real mode everything is allowed.

use btvm_jit::abi::gpr;
use btvm_jit::flags::{FLAG_IF, FLAG_IOPL};
use iced_x86::{Instruction, Mnemonic, OpKind};

use super::alu::set_flag;
use super::operand::{get_reg, op_size, set_reg};
use super::Handler;
use crate::cpu::access::{Ctx, Step};
use crate::cpu::exception::{fault, fault_code, Stop, GP, UD};

/// The handler for a system mnemonic.
pub fn handler(m: Mnemonic) -> Option<Handler> {
    Some(match m {
        Mnemonic::Hlt => hlt,
        Mnemonic::Cli => cli,
        Mnemonic::Sti => sti,
        Mnemonic::In => in_,
        Mnemonic::Out => out,
        Mnemonic::Cpuid => cpuid,
        Mnemonic::Rdtsc => rdtsc,
        Mnemonic::Nop | Mnemonic::Pause | Mnemonic::Wait | Mnemonic::Fnop => |_, _| Ok(()),
        Mnemonic::Ud0 | Mnemonic::Ud1 | Mnemonic::Ud2 => |_, _| fault(UD),
        _ => return None,
    })
}

/// CPL for privilege checks (0 in real mode).
#[inline]
pub fn cpl(ctx: &Ctx) -> u8 {
    if ctx.cpu.protected() {
        if ctx.cpu.v86() {
            3
        } else {
            ctx.cpu.cpl
        }
    } else {
        0
    }
}

/// IOPL from EFLAGS.
#[inline]
pub fn iopl(ctx: &Ctx) -> u8 {
    ((ctx.cpu.regs.flags & FLAG_IOPL) >> 12) as u8
}

/// Whether port I/O of `n` bytes at `port` is allowed: real mode always;
/// protected mode when CPL <= IOPL, else per the TSS I/O bitmap.
pub fn io_allowed(ctx: &mut Ctx, port: u16, n: usize) -> Step {
    if !ctx.cpu.protected() || (!ctx.cpu.v86() && cpl(ctx) <= iopl(ctx)) {
        return Ok(());
    }
    ctx.check_io_bitmap(port, n)
}

fn hlt(ctx: &mut Ctx, _i: &Instruction) -> Step {
    if cpl(ctx) != 0 {
        return fault_code(GP, 0);
    }
    ctx.cpu.halted = true;
    Err(Stop::Halt)
}

fn cli(ctx: &mut Ctx, _i: &Instruction) -> Step {
    if ctx.cpu.protected() && cpl(ctx) > iopl(ctx) {
        return fault_code(GP, 0);
    }
    set_flag(ctx, FLAG_IF, false);
    Ok(())
}

fn sti(ctx: &mut Ctx, _i: &Instruction) -> Step {
    if ctx.cpu.protected() && cpl(ctx) > iopl(ctx) {
        return fault_code(GP, 0);
    }
    if ctx.cpu.regs.flags & FLAG_IF == 0 {
        // Interrupts stay blocked until after the next instruction.
        ctx.cpu.irq_shadow = true;
    }
    set_flag(ctx, FLAG_IF, true);
    Ok(())
}

fn port_operand(ctx: &Ctx, i: &Instruction, op: u32) -> u16 {
    match i.op_kind(op) {
        OpKind::Immediate8 => u16::from(i.immediate8()),
        _ => ctx.cpu.regs.gpr[gpr::EDX] as u16,
    }
}

fn in_(ctx: &mut Ctx, i: &Instruction) -> Step {
    let n = op_size(i, 0);
    let port = port_operand(ctx, i, 1);
    io_allowed(ctx, port, n)?;
    let v = ctx.port_in(port, n);
    set_reg(ctx, i.op_register(0), v);
    Ok(())
}

fn out(ctx: &mut Ctx, i: &Instruction) -> Step {
    let n = op_size(i, 1);
    let port = port_operand(ctx, i, 0);
    io_allowed(ctx, port, n)?;
    let v = get_reg(ctx, i.op_register(1));
    ctx.port_out(port, n, v);
    Ok(())
}

/// CPUID leaves: what btvm's CPU model reports (a P6-class CPU with
/// FPU, TSC, CX8, CMOV, PSE, PGE, SEP, MSR; no MMX/SSE, no APIC).
pub fn cpuid_leaf(leaf: u32) -> [u32; 4] {
    const FEATURES: u32 = 1 // FPU
        | 1 << 1 // VME is not implemented: left clear below
        | 1 << 3 // PSE
        | 1 << 4 // TSC
        | 1 << 5 // MSR
        | 1 << 8 // CX8
        | 1 << 11 // SEP
        | 1 << 13 // PGE
        | 1 << 15; // CMOV
    match leaf {
        0 => [1, u32::from_le_bytes(*b"Genu"), u32::from_le_bytes(*b"ntel"), u32::from_le_bytes(*b"ineI")],
        1 => [0x0000_0633, 0, 0, FEATURES & !(1 << 1)],
        _ => [0, 0, 0, 0],
    }
}

fn cpuid(ctx: &mut Ctx, _i: &Instruction) -> Step {
    let g = &mut ctx.cpu.regs.gpr;
    let [a, b, c, d] = cpuid_leaf(g[gpr::EAX]);
    g[gpr::EAX] = a;
    g[gpr::EBX] = b;
    g[gpr::ECX] = c;
    g[gpr::EDX] = d;
    Ok(())
}

fn rdtsc(ctx: &mut Ctx, _i: &Instruction) -> Step {
    if ctx.cpu.cr4 & crate::cpu::CR4_TSD != 0 && cpl(ctx) != 0 && ctx.cpu.protected() {
        return fault_code(GP, 0);
    }
    let t = ctx.cpu.tsc();
    ctx.cpu.regs.gpr[gpr::EAX] = t as u32;
    ctx.cpu.regs.gpr[gpr::EDX] = (t >> 32) as u32;
    Ok(())
}

impl Ctx<'_> {
    /// Check the TSS I/O permission bitmap for `n` bytes at `port`
    /// (protected mode with CPL > IOPL, or v86 mode): #GP(0) unless every
    /// bit is clear.
    pub fn check_io_bitmap(&mut self, port: u16, n: usize) -> Step {
        let tr = self.cpu.tr;
        // Only a 32-bit TSS (type 9/11) has a bitmap; its offset is at 0x66.
        if tr.attr & 0x8 == 0 || tr.limit < 0x67 {
            return fault_code(GP, 0);
        }
        let base_off = self.read_lin_supervisor(tr.base.wrapping_add(0x66), 2)?;
        let byte = base_off + u32::from(port / 8);
        if byte + 1 > tr.limit {
            return fault_code(GP, 0);
        }
        let bits = self.read_lin_supervisor(tr.base.wrapping_add(byte), 2)?;
        let m = ((1u32 << n) - 1) << (port % 8);
        if bits & m != 0 {
            return fault_code(GP, 0);
        }
        Ok(())
    }
}
