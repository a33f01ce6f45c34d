//! The reference interpreter: fetch through the MMU's exec view, decode
//! with iced-x86 (cached per physical address), dispatch to a handler.
//!
//! Each instruction runs against a [`Ctx`]. Before the handler runs, EIP
//! already points at the next instruction; a handler that faults returns
//! `Err(Stop::Exception)` and [`step`] rolls EIP and ESP back to the
//! instruction's start and delivers the exception, so every fault is
//! precise and restartable.
//!
//! Code map (handlers grouped as in the manuals; twin names with the JIT):
//! - `operand.rs` registers, effective addresses, operand read/write
//! - `decode_cache.rs` decoded-instruction cache keyed by physical address
//! - `alu.rs` ADD..CMP, INC/DEC/NEG/NOT, TEST, flag-only ops
//! - `shift.rs` shifts, rotates, SHLD/SHRD
//! - `muldiv.rs` MUL/IMUL/DIV/IDIV
//! - `bcd.rs` DAA/DAS/AAA/AAS/AAM/AAD
//! - `bits.rs` BT/BTS/BTR/BTC, BSF/BSR, BSWAP, SETcc, CMOVcc
//! - `string.rs` MOVS/CMPS/SCAS/LODS/STOS/INS/OUTS with REP prefixes
//! - `branch.rs` JMP/Jcc/CALL/RET/LOOP/JCXZ/INT/IRET/INTO/BOUND
//! - `stack.rs` PUSH/POP/PUSHA/POPA/PUSHF/POPF/ENTER/LEAVE
//! - `mov.rs` MOV/MOVZX/MOVSX/XCHG/XADD/CMPXCHG/LEA/LxS/XLAT/CBW...
//! - `system.rs` HLT, CLI/STI, IN/OUT, CPUID, RDTSC, flag bit ops, #UD

pub mod alu;
pub mod bcd;
pub mod bits;
pub mod branch;
pub mod decode_cache;
pub mod mov;
pub mod muldiv;
pub mod operand;
pub mod shift;
pub mod stack;
pub mod string;
pub mod system;
pub mod system_regs;

use btvm_jit::abi::{gpr, sreg, Tlb};
use iced_x86::{Instruction, Mnemonic};

pub use decode_cache::DecodeCache;

use crate::cpu::access::{Ctx, Step};
use crate::cpu::exception::{Stop, UD};

/// An instruction handler: runs one decoded instruction.
pub type Handler = fn(&mut Ctx, &Instruction) -> Step;

/// Find the handler for a mnemonic; `None` means #UD.
pub fn handler_for(m: Mnemonic) -> Option<Handler> {
    alu::handler(m)
        .or_else(|| shift::handler(m))
        .or_else(|| muldiv::handler(m))
        .or_else(|| bcd::handler(m))
        .or_else(|| bits::handler(m))
        .or_else(|| string::handler(m))
        .or_else(|| branch::handler(m))
        .or_else(|| stack::handler(m))
        .or_else(|| mov::handler(m))
        .or_else(|| system::handler(m))
}

/// The #UD handler, used for every undecodable or unimplemented opcode.
pub fn invalid_opcode(_ctx: &mut Ctx, _i: &Instruction) -> Step {
    crate::cpu::exception::fault(UD)
}

/// Execute one instruction (or deliver the fault it raised). Returns the
/// stops the caller must act on: `Halt` and `TripleFault`; an exception
/// that was delivered successfully is `Ok`.
pub fn step(ctx: &mut Ctx, cache: &mut DecodeCache) -> Step {
    let eip = ctx.cpu.regs.eip;
    let esp = ctx.cpu.regs.gpr[gpr::ESP];
    ctx.cpu.irq_shadow = false;
    let r = match fetch_decode(ctx, cache, eip) {
        Ok((handler, instr)) => {
            let len = instr.len() as u32;
            let next = eip.wrapping_add(len);
            ctx.cpu.regs.eip = if ctx.cpu.code32() { next } else { next & 0xFFFF };
            handler(ctx, &instr)
        }
        Err(e) => Err(e),
    };
    match r {
        Ok(()) => {
            ctx.cpu.regs.icount += 1;
            Ok(())
        }
        Err(Stop::Exception(e)) => {
            ctx.cpu.regs.eip = eip;
            ctx.cpu.regs.gpr[gpr::ESP] = esp;
            ctx.cpu.regs.icount += 1;
            ctx.raise(e, eip)
        }
        Err(Stop::Halt) => {
            ctx.cpu.regs.icount += 1;
            Err(Stop::Halt)
        }
        Err(s) => Err(s),
    }
}

/// Fetch and decode the instruction at CS:EIP, from the cache when the
/// bytes there are unchanged.
#[inline]
fn fetch_decode(ctx: &mut Ctx, cache: &mut DecodeCache, eip: u32) -> Step<(Handler, Instruction)> {
    let cs = ctx.cpu.regs.seg[sreg::CS];
    if eip > cs.limit {
        return crate::cpu::exception::fault_code(crate::cpu::exception::GP, 0);
    }
    let lin = cs.base.wrapping_add(eip);
    let bitness = if cs.is_32bit() { 32 } else { 16 };
    let e = &ctx.cpu.tlb.exec[Tlb::index(lin)];
    let page_off = (lin & 0xFFF) as usize;
    let (bytes, avail, phys) = if e.tag == lin & !0xFFF && page_off <= 0x1000 - 16 {
        let off = (lin as usize).wrapping_add(e.addend).wrapping_sub(ctx.mem.host_base());
        let mut w = [0u8; 16];
        w.copy_from_slice(&ctx.mem.bytes()[off..off + 16]);
        (w, 16, Some(e.phys | page_off as u32))
    } else {
        slow_fetch(ctx, lin)?
    };
    if let Some(phys) = phys {
        if let Some(hit) = cache.lookup(phys, bitness, &bytes) {
            return check_cs_limit(ctx, eip, hit);
        }
    }
    let mut instr = Instruction::default();
    let mut dec = iced_x86::Decoder::with_ip(bitness, &bytes[..avail], 0, iced_x86::DecoderOptions::NONE);
    dec.decode_out(&mut instr);
    if dec.last_error() == iced_x86::DecoderError::NoMoreBytes {
        // The instruction runs into the next page: fetch it for real (this
        // may #PF, as the CPU would) and decode again.
        let full = fetch_bytes(ctx, lin, 15)?;
        let mut dec = iced_x86::Decoder::with_ip(bitness, &full, 0, iced_x86::DecoderOptions::NONE);
        dec.decode_out(&mut instr);
        if dec.last_error() == iced_x86::DecoderError::NoMoreBytes {
            return crate::cpu::exception::fault_code(crate::cpu::exception::GP, 0);
        }
        let h = if instr.is_invalid() { invalid_opcode as Handler } else { handler_for(instr.mnemonic()).unwrap_or(invalid_opcode) };
        return check_cs_limit(ctx, eip, (h, instr));
    }
    let h = if instr.is_invalid() { invalid_opcode as Handler } else { handler_for(instr.mnemonic()).unwrap_or(invalid_opcode) };
    if let Some(phys) = phys {
        cache.insert(phys, bitness, &bytes, instr.len(), h, &instr);
    }
    check_cs_limit(ctx, eip, (h, instr))
}

#[inline]
fn check_cs_limit(ctx: &Ctx, eip: u32, hit: (Handler, Instruction)) -> Step<(Handler, Instruction)> {
    let last = eip as u64 + hit.1.len() as u64 - 1;
    if last > ctx.cpu.regs.seg[sreg::CS].limit as u64 {
        return crate::cpu::exception::fault_code(crate::cpu::exception::GP, 0);
    }
    Ok(hit)
}

/// Fetch what is left of the current page (at most 16 bytes), through the
/// MMU. Returns the bytes, how many are valid, and the physical address.
#[cold]
fn slow_fetch(ctx: &mut Ctx, lin: u32) -> Step<([u8; 16], usize, Option<u32>)> {
    let phys = ctx.cpu.translate_fill(ctx.mem, lin, btvm_jit::abi::TlbView::Exec)?;
    let avail = (0x1000 - (lin & 0xFFF) as usize).min(16);
    let mut w = [0u8; 16];
    for (k, b) in w.iter_mut().enumerate().take(avail) {
        *b = ctx.fetch_lin_u8(lin.wrapping_add(k as u32))?;
    }
    // Only RAM/ROM code is cacheable (device memory can change under us).
    let cacheable = !matches!(ctx.mem.region(phys), crate::memory::Region::Mmio);
    Ok((w, avail, if avail == 16 && cacheable { Some(phys) } else { None }))
}

fn fetch_bytes(ctx: &mut Ctx, lin: u32, n: usize) -> Step<Vec<u8>> {
    let mut v = Vec::with_capacity(n);
    for k in 0..n {
        v.push(ctx.fetch_lin_u8(lin.wrapping_add(k as u32))?);
    }
    Ok(v)
}
