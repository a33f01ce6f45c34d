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
//! - `fpu.rs` (+ `fpu_ops.rs`) the x87 instructions and WAIT, over `crate::fpu`
//! - `system.rs` HLT, CLI/STI, IN/OUT, CPUID, RDTSC, MSRs, SYSENTER/SYSEXIT, #UD
//! - `system_regs.rs` MOV to/from CRn/DRn
//! - `sysinsn.rs` LGDT..SIDT, LLDT/LTR, LAR/LSL/VERR/VERW, ARPL, LMSW, INVLPG

pub mod alu;
pub mod bcd;
pub mod bits;
pub mod branch;
pub mod decode_cache;
pub mod fpu;
pub mod mov;
pub mod muldiv;
pub mod operand;
pub mod shift;
pub mod stack;
pub mod string;
pub mod sysinsn;
pub mod system;
pub mod system_regs;

use btvm_jit::abi::{gpr, sreg, Tlb};
use btvm_jit::flags::FLAG_TF;
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
        .or_else(|| fpu::handler(m))
        .or_else(|| sysinsn::handler(m))
}

/// The #UD handler, used for every undecodable or unimplemented opcode.
pub fn invalid_opcode(_ctx: &mut Ctx, _i: &Instruction) -> Step {
    crate::cpu::exception::fault(UD)
}

/// Execute one instruction (or deliver the fault it raised). Returns the
/// stops the caller must act on: `Halt` and `TripleFault`; an exception
/// that was delivered successfully is `Ok`.
#[inline]
pub fn step(ctx: &mut Ctx, cache: &mut DecodeCache) -> Step {
    let eip = ctx.cpu.regs.eip;
    let esp = ctx.cpu.regs.gpr[gpr::ESP];
    let single_step = ctx.cpu.regs.flags & FLAG_TF != 0 && !ctx.cpu.irq_shadow;
    let deliveries = ctx.cpu.deliveries;
    ctx.cpu.irq_shadow = false;
    let r = exec_one(ctx, cache, eip);
    ctx.cpu.regs.icount += 1;
    match r {
        Ok(()) if single_step && ctx.cpu.deliveries == deliveries => single_step_trap(ctx),
        Ok(()) => Ok(()),
        Err(Stop::Exception(e)) => {
            ctx.cpu.regs.eip = eip;
            ctx.cpu.regs.gpr[gpr::ESP] = esp;
            ctx.raise(e, eip)
        }
        Err(s) => Err(s),
    }
}

/// The single-step trap (EFLAGS.TF was set when the instruction began, and
/// it raised no interrupt or exception): DR6.BS and #DB with the next EIP
/// (found by `btvm fuzz` against KVM).
#[cold]
fn single_step_trap(ctx: &mut Ctx) -> Step {
    ctx.cpu.dr[6] |= 1 << 14;
    let eip = ctx.cpu.regs.eip;
    match ctx.interrupt(crate::cpu::exception::DB, None, eip) {
        Err(Stop::Exception(e)) => ctx.raise(e, eip),
        other => other,
    }
}

/// Set EIP past an instruction of `len` bytes and run its handler.
/// Sequential flow does not wrap IP at 64 KiB in 16-bit code: a 386+
/// goes on to EIP 0x10000, beyond the CS limit, and the next fetch raises
/// #GP(0) (the 8086 wrapped; found by `btvm fuzz` against KVM). Branches
/// truncate their targets to the operand size themselves.
#[inline(always)]
fn run(ctx: &mut Ctx, eip: u32, len: u32, handler: Handler, instr: &Instruction) -> Step {
    ctx.cpu.regs.eip = eip.wrapping_add(len);
    handler(ctx, instr)
}

/// Fetch, decode (or find in the cache) and execute the instruction at
/// CS:EIP.
#[inline(always)]
fn exec_one(ctx: &mut Ctx, cache: &mut DecodeCache, eip: u32) -> Step {
    let cs = &ctx.cpu.regs.seg[sreg::CS];
    let lin = cs.base.wrapping_add(eip);
    let e = &ctx.cpu.tlb.exec[Tlb::index(lin)];
    let page_off = lin & 0xFFF;
    if e.tag == lin & !0xFFF && page_off <= 0x1000 - 16 {
        let off = (lin as usize)
            .wrapping_add(e.addend)
            .wrapping_sub(ctx.mem.host_base());
        let bytes: [u8; 16] = ctx.mem.bytes()[off..off + 16].try_into().unwrap_or([0; 16]);
        let window = u128::from_le_bytes(bytes);
        let bitness = if cs.is_32bit() { 32 } else { 16 };
        let phys = e.phys | page_off;
        let limit = cs.limit as u64;
        if let Some(hit) = cache.lookup(phys, bitness, window) {
            if eip as u64 + hit.len as u64 - 1 <= limit {
                return run(ctx, eip, hit.len, hit.handler, &hit.instr);
            }
            return crate::cpu::exception::fault_code(crate::cpu::exception::GP, 0);
        }
        let (h, instr) = decode(&bytes, bitness);
        let hit = cache.insert(phys, bitness, window, h, &instr);
        if eip as u64 + hit.len as u64 - 1 > limit {
            return crate::cpu::exception::fault_code(crate::cpu::exception::GP, 0);
        }
        return run(ctx, eip, hit.len, hit.handler, &hit.instr);
    }
    exec_slow(ctx, eip)
}

/// Decode one instruction from a 16-byte window.
fn decode(bytes: &[u8], bitness: u32) -> (Handler, Instruction) {
    let mut instr = Instruction::default();
    let mut dec = iced_x86::Decoder::with_ip(bitness, bytes, 0, iced_x86::DecoderOptions::NONE);
    dec.decode_out(&mut instr);
    let h = if instr.is_invalid() {
        invalid_opcode as Handler
    } else {
        handler_for(instr.mnemonic()).unwrap_or(invalid_opcode)
    };
    (h, instr)
}

/// The uncached path: TLB miss, an instruction near or across a page end,
/// or code outside RAM/ROM. Fetches byte by byte through the MMU (so a
/// fetch from a missing page faults as the CPU would).
#[cold]
fn exec_slow(ctx: &mut Ctx, eip: u32) -> Step {
    let cs = ctx.cpu.regs.seg[sreg::CS];
    if eip > cs.limit {
        return crate::cpu::exception::fault_code(crate::cpu::exception::GP, 0);
    }
    let lin = cs.base.wrapping_add(eip);
    let bitness = if cs.is_32bit() { 32 } else { 16 };
    let mut buf = [0u8; 16];
    // Fetch up to the end of the page first; only touch the next page if
    // the instruction really extends into it.
    let in_page = (0x1000 - (lin & 0xFFF) as usize).min(15);
    for (k, b) in buf.iter_mut().enumerate().take(in_page) {
        *b = ctx.fetch_lin_u8(lin.wrapping_add(k as u32))?;
    }
    let mut avail = in_page;
    loop {
        let mut instr = Instruction::default();
        let mut dec =
            iced_x86::Decoder::with_ip(bitness, &buf[..avail], 0, iced_x86::DecoderOptions::NONE);
        dec.decode_out(&mut instr);
        if dec.last_error() == iced_x86::DecoderError::NoMoreBytes && avail < 15 {
            buf[avail] = ctx.fetch_lin_u8(lin.wrapping_add(avail as u32))?;
            avail += 1;
            continue;
        }
        let (h, instr) = if dec.last_error() == iced_x86::DecoderError::NoMoreBytes {
            // Longer than 15 bytes: #GP on a P6 (instruction too long).
            return crate::cpu::exception::fault_code(crate::cpu::exception::GP, 0);
        } else {
            decode(&buf[..avail], bitness)
        };
        if eip as u64 + instr.len() as u64 - 1 > cs.limit as u64 {
            return crate::cpu::exception::fault_code(crate::cpu::exception::GP, 0);
        }
        return run(ctx, eip, instr.len() as u32, h, &instr);
    }
}
