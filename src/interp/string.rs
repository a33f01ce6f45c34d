//! String instructions: MOVS, CMPS, SCAS, LODS, STOS, INS and OUTS in byte,
//! word and doubleword forms, with the REP / REPE / REPNE prefixes.
//!
//! The address size (from the operand kinds) picks SI/DI/CX or ESI/EDI/ECX;
//! with 16-bit addressing only the low words change and wrap at 64 KiB.
//! The source is `seg:(E)SI` (DS unless overridden), the destination is
//! always `ES:(E)DI`, and DF picks the direction.
//!
//! A repeated instruction runs at most [`REP_CAP`] iterations per step; when
//! more remain, EIP is put back on the instruction so the next step goes on
//! (interrupts are taken in between, as on hardware). A fault part-way
//! leaves the registers of the completed iterations in place, with EIP on
//! the instruction: exactly the architectural restart state.
//!
//! Example: `rep movsb` with CX=3, DF=0 copies DS:SI..SI+2 to ES:DI..DI+2
//! and leaves CX=0, SI+3, DI+3.

use btvm_jit::abi::{gpr, sreg};
use btvm_jit::flags::{FLAGS_ARITH, FLAG_DF, FLAG_ZF, OP_SUB};
use iced_x86::{Code, Instruction, Mnemonic, OpKind};

use super::alu::{flag, set_lazy};
use super::operand::{mask, sreg_index};
use super::system::io_allowed;
use super::Handler;
use crate::cpu::access::{Ctx, Step};
use crate::cpu::exception::{fault, UD};

/// Most iterations of a repeated string instruction run in one step.
pub const REP_CAP: u32 = 1024;

/// The handler for a string mnemonic.
pub fn handler(m: Mnemonic) -> Option<Handler> {
    use Kind::*;
    Some(match m {
        Mnemonic::Movsb => |c, i| string(c, i, Movs, 1),
        Mnemonic::Movsw => |c, i| string(c, i, Movs, 2),
        // Why: iced names SSE2 MOVSD/CMPSD the same; a P6 has no SSE2.
        Mnemonic::Movsd => |c, i| dword(c, i, Code::Movsd_m32_m32, Movs),
        Mnemonic::Cmpsb => |c, i| string(c, i, Cmps, 1),
        Mnemonic::Cmpsw => |c, i| string(c, i, Cmps, 2),
        Mnemonic::Cmpsd => |c, i| dword(c, i, Code::Cmpsd_m32_m32, Cmps),
        Mnemonic::Scasb => |c, i| string(c, i, Scas, 1),
        Mnemonic::Scasw => |c, i| string(c, i, Scas, 2),
        Mnemonic::Scasd => |c, i| string(c, i, Scas, 4),
        Mnemonic::Lodsb => |c, i| string(c, i, Lods, 1),
        Mnemonic::Lodsw => |c, i| string(c, i, Lods, 2),
        Mnemonic::Lodsd => |c, i| string(c, i, Lods, 4),
        Mnemonic::Stosb => |c, i| string(c, i, Stos, 1),
        Mnemonic::Stosw => |c, i| string(c, i, Stos, 2),
        Mnemonic::Stosd => |c, i| string(c, i, Stos, 4),
        Mnemonic::Insb => |c, i| string(c, i, Ins, 1),
        Mnemonic::Insw => |c, i| string(c, i, Ins, 2),
        Mnemonic::Insd => |c, i| string(c, i, Ins, 4),
        Mnemonic::Outsb => |c, i| string(c, i, Outs, 1),
        Mnemonic::Outsw => |c, i| string(c, i, Outs, 2),
        Mnemonic::Outsd => |c, i| string(c, i, Outs, 4),
        _ => return None,
    })
}

/// Which string operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Movs,
    Cmps,
    Scas,
    Lods,
    Stos,
    Ins,
    Outs,
}

/// How the instruction repeats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Rep {
    /// No prefix: one iteration.
    Once,
    /// REP: until (E)CX = 0.
    Count,
    /// REPE/REPZ: until (E)CX = 0 or ZF = 0.
    WhileEqual,
    /// REPNE/REPNZ: until (E)CX = 0 or ZF = 1.
    WhileNotEqual,
}

/// Everything an iteration needs, worked out once per instruction.
#[derive(Clone, Copy)]
struct Op {
    kind: Kind,
    /// Element size in bytes.
    n: usize,
    /// Address mask: 0xFFFF for SI/DI/CX, all ones for ESI/EDI/ECX.
    am: u32,
    /// Source segment register index.
    src: usize,
    /// Added to (E)SI/(E)DI per element (n or -n by DF).
    delta: u32,
}

fn dword(ctx: &mut Ctx, i: &Instruction, string_form: Code, kind: Kind) -> Step {
    if i.code() != string_form {
        return fault(UD);
    }
    string(ctx, i, kind, 4)
}

/// Whether the string operands use 32-bit addressing (ESI/EDI/ECX).
fn addr32(i: &Instruction) -> bool {
    (0..i.op_count()).any(|k| matches!(i.op_kind(k), OpKind::MemorySegESI | OpKind::MemoryESEDI))
}

fn string(ctx: &mut Ctx, i: &Instruction, kind: Kind, n: usize) -> Step {
    let delta = if flag(ctx, FLAG_DF) {
        (n as u32).wrapping_neg()
    } else {
        n as u32
    };
    let op = Op {
        kind,
        n,
        am: if addr32(i) { u32::MAX } else { 0xFFFF },
        src: sreg_index(i.memory_segment()),
        delta,
    };
    let rep = match kind {
        Kind::Cmps | Kind::Scas if i.has_repne_prefix() => Rep::WhileNotEqual,
        Kind::Cmps | Kind::Scas if i.has_repe_prefix() => Rep::WhileEqual,
        _ if i.has_rep_prefix() || i.has_repne_prefix() => Rep::Count,
        _ => Rep::Once,
    };
    if matches!(kind, Kind::Ins | Kind::Outs) {
        let port = ctx.cpu.regs.gpr[gpr::EDX] as u16;
        // The I/O permission check (IOPL, then the TSS bitmap) is done once:
        // the port cannot change between iterations.
        io_allowed(ctx, port, n)?;
    }
    if rep == Rep::Once {
        return iteration(ctx, &op);
    }
    let attention = ctx.cpu.regs.attention;
    // Under EFLAGS.TF the single-step trap follows every iteration (found
    // by `btvm fuzz` against KVM).
    let cap = if flag(ctx, btvm_jit::flags::FLAG_TF) {
        1
    } else {
        REP_CAP
    };
    for _ in 0..cap {
        let count = ctx.cpu.regs.gpr[gpr::ECX] & op.am;
        if count == 0 {
            return Ok(());
        }
        iteration(ctx, &op)?;
        let count = count.wrapping_sub(1);
        set_masked(ctx, gpr::ECX, op.am, count);
        let done = match rep {
            Rep::WhileEqual => !flag(ctx, FLAG_ZF),
            Rep::WhileNotEqual => flag(ctx, FLAG_ZF),
            _ => false,
        };
        if count == 0 || done {
            return Ok(());
        }
        if attention & 1 == 0 && ctx.cpu.regs.attention & 1 != 0 {
            // A device wants the run loop (e.g. OUTS to a debug-exit port).
            break;
        }
    }
    // More iterations remain: continue on the next step.
    let start = ctx.cpu.regs.eip.wrapping_sub(i.len() as u32);
    ctx.cpu.regs.eip = if ctx.cpu.code32() {
        start
    } else {
        start & 0xFFFF
    };
    Ok(())
}

/// Write the bits of register `r` selected by `am`, keeping the others.
#[inline]
fn set_masked(ctx: &mut Ctx, r: usize, am: u32, v: u32) {
    let g = &mut ctx.cpu.regs.gpr[r];
    *g = (*g & !am) | (v & am);
}

/// Step (E)SI or (E)DI to the next element.
#[inline]
fn advance(ctx: &mut Ctx, op: &Op, r: usize) {
    let v = ctx.cpu.regs.gpr[r].wrapping_add(op.delta);
    set_masked(ctx, r, op.am, v);
}

/// One element: every access first, register updates last, so a fault
/// leaves this iteration undone.
fn iteration(ctx: &mut Ctx, op: &Op) -> Step {
    let n = op.n;
    let si = ctx.cpu.regs.gpr[gpr::ESI] & op.am;
    let di = ctx.cpu.regs.gpr[gpr::EDI] & op.am;
    match op.kind {
        Kind::Movs => {
            let v = ctx.read_seg(op.src, si, n)?;
            ctx.write_seg(sreg::ES, di, n, v)?;
            advance(ctx, op, gpr::ESI);
            advance(ctx, op, gpr::EDI);
        }
        Kind::Cmps => {
            let a = ctx.read_seg(op.src, si, n)?;
            let b = ctx.read_seg(sreg::ES, di, n)?;
            set_lazy(ctx, OP_SUB, n, a, b, a.wrapping_sub(b), FLAGS_ARITH);
            advance(ctx, op, gpr::ESI);
            advance(ctx, op, gpr::EDI);
        }
        Kind::Scas => {
            let a = ctx.cpu.regs.gpr[gpr::EAX] & mask(n);
            let b = ctx.read_seg(sreg::ES, di, n)?;
            set_lazy(ctx, OP_SUB, n, a, b, a.wrapping_sub(b), FLAGS_ARITH);
            advance(ctx, op, gpr::EDI);
        }
        Kind::Lods => {
            let v = ctx.read_seg(op.src, si, n)?;
            set_masked(ctx, gpr::EAX, mask(n), v);
            advance(ctx, op, gpr::ESI);
        }
        Kind::Stos => {
            let v = ctx.cpu.regs.gpr[gpr::EAX];
            ctx.write_seg(sreg::ES, di, n, v)?;
            advance(ctx, op, gpr::EDI);
        }
        Kind::Ins => {
            // Check the destination before reading the port: a port read
            // can have side effects and must not happen for a faulting INS.
            let lin = ctx.seg_check(sreg::ES, di, n, true)?;
            ctx.probe_write_lin(lin, n)?;
            let v = ctx.port_in(ctx.cpu.regs.gpr[gpr::EDX] as u16, n);
            ctx.write_lin(lin, n, v)?;
            advance(ctx, op, gpr::EDI);
        }
        Kind::Outs => {
            let v = ctx.read_seg(op.src, si, n)?;
            ctx.port_out(ctx.cpu.regs.gpr[gpr::EDX] as u16, n, v);
            advance(ctx, op, gpr::ESI);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use btvm_jit::flags::{FLAG_CF, FLAG_ZF};
    use iced_x86::{Decoder, DecoderOptions};

    use btvm_jit::abi::SegCache;

    use super::*;
    use crate::cpu::exception::{Exception, Stop, GP};
    use crate::cpu::Cpu;
    use crate::memory::GuestMemory;
    use crate::platform::NullPlatform;

    /// A real-mode CPU with every segment at 0, CS:IP = 0:0x100.
    fn real_cpu() -> Cpu {
        let mut cpu = Cpu::new();
        for s in cpu.regs.seg.iter_mut() {
            *s = SegCache::real_mode(0, false);
        }
        cpu.regs.seg[sreg::CS] = SegCache::real_mode(0, true);
        cpu.regs.eip = 0x100;
        cpu
    }

    /// Decode `bytes` as 16-bit code at CS:IP, then run it as step() would.
    fn run(cpu: &mut Cpu, mem: &mut GuestMemory, bytes: &[u8]) -> Step {
        let i = Decoder::with_ip(16, bytes, 0, DecoderOptions::NONE).decode();
        cpu.regs.eip = (cpu.regs.eip + i.len() as u32) & 0xFFFF;
        let mut io = NullPlatform;
        let mut ctx = Ctx {
            cpu,
            mem,
            io: &mut io,
        };
        handler(i.mnemonic()).expect("string mnemonic")(&mut ctx, &i)
    }

    fn setup() -> (Cpu, GuestMemory) {
        (real_cpu(), GuestMemory::new(1).unwrap())
    }

    fn set(cpu: &mut Cpu, r: usize, v: u32) {
        cpu.regs.gpr[r] = v;
    }

    #[test]
    fn movsb_copies_one_byte_and_steps_si_di() {
        let (mut cpu, mut mem) = setup();
        mem.write_phys(0x2000, &[0xAB]);
        set(&mut cpu, gpr::ESI, 0x2000);
        set(&mut cpu, gpr::EDI, 0x3000);
        run(&mut cpu, &mut mem, &[0xA4]).unwrap(); // movsb
        assert_eq!(mem.read_u8(0x3000), Some(0xAB));
        assert_eq!(cpu.regs.gpr[gpr::ESI], 0x2001);
        assert_eq!(cpu.regs.gpr[gpr::EDI], 0x3001);
        assert_eq!(cpu.regs.eip, 0x101);
    }

    #[test]
    fn rep_movsw_backwards_with_df() {
        let (mut cpu, mut mem) = setup();
        mem.write_phys(0x1FFC, &[1, 2, 3, 4, 5, 6]);
        cpu.regs.set_eflags(FLAG_DF);
        set(&mut cpu, gpr::ESI, 0x2000);
        set(&mut cpu, gpr::EDI, 0x3000);
        set(&mut cpu, gpr::ECX, 0xABCD_0003);
        run(&mut cpu, &mut mem, &[0xF3, 0xA5]).unwrap(); // rep movsw
        let mut out = [0u8; 6];
        mem.read_phys(0x2FFC, &mut out);
        assert_eq!(out, [1, 2, 3, 4, 5, 6]);
        assert_eq!(cpu.regs.gpr[gpr::ECX], 0xABCD_0000);
        assert_eq!(cpu.regs.gpr[gpr::ESI], 0x1FFA);
        assert_eq!(cpu.regs.gpr[gpr::EDI], 0x2FFA);
    }

    #[test]
    fn si_wraps_at_64k_with_16_bit_addressing() {
        let (mut cpu, mut mem) = setup();
        set(&mut cpu, gpr::ESI, 0x1234_FFFF);
        run(&mut cpu, &mut mem, &[0xAC]).unwrap(); // lodsb
        assert_eq!(cpu.regs.gpr[gpr::ESI], 0x1234_0000);
    }

    #[test]
    fn rep_with_cx_zero_does_nothing() {
        let (mut cpu, mut mem) = setup();
        set(&mut cpu, gpr::EDI, 0x3000);
        set(&mut cpu, gpr::EAX, 0x55);
        run(&mut cpu, &mut mem, &[0xF3, 0xAA]).unwrap(); // rep stosb
        assert_eq!(mem.read_u8(0x3000), Some(0));
        assert_eq!(cpu.regs.gpr[gpr::EDI], 0x3000);
        assert_eq!(cpu.regs.eip, 0x102);
    }

    #[test]
    fn repe_cmpsb_stops_at_first_difference() {
        let (mut cpu, mut mem) = setup();
        mem.write_phys(0x2000, b"abcd");
        mem.write_phys(0x3000, b"abxd");
        set(&mut cpu, gpr::ESI, 0x2000);
        set(&mut cpu, gpr::EDI, 0x3000);
        set(&mut cpu, gpr::ECX, 4);
        run(&mut cpu, &mut mem, &[0xF3, 0xA6]).unwrap(); // repe cmpsb
        assert_eq!(cpu.regs.gpr[gpr::ECX], 1);
        assert_eq!(cpu.regs.gpr[gpr::ESI], 0x2003);
        assert_eq!(cpu.regs.eflags() & (FLAG_ZF | FLAG_CF), FLAG_CF); // 'c' < 'x'
    }

    #[test]
    fn repne_scasb_finds_the_byte() {
        let (mut cpu, mut mem) = setup();
        mem.write_phys(0x3000, b"hello\0");
        set(&mut cpu, gpr::EDI, 0x3000);
        set(&mut cpu, gpr::ECX, 0xFFFF);
        set(&mut cpu, gpr::EAX, 0);
        run(&mut cpu, &mut mem, &[0xF2, 0xAE]).unwrap(); // repne scasb
        assert_eq!(cpu.regs.gpr[gpr::EDI], 0x3006);
        assert_eq!(cpu.regs.gpr[gpr::ECX], 0xFFFF - 6);
        assert!(cpu.regs.eflags() & FLAG_ZF != 0);
    }

    #[test]
    fn segment_override_applies_to_the_source_only() {
        let (mut cpu, mut mem) = setup();
        cpu.load_seg_real(sreg::FS, 0x100); // base 0x1000
        mem.write_phys(0x1010, &[0x77]);
        set(&mut cpu, gpr::ESI, 0x10);
        set(&mut cpu, gpr::EDI, 0x20);
        run(&mut cpu, &mut mem, &[0x64, 0xA4]).unwrap(); // movsb es:[di], fs:[si]
        assert_eq!(mem.read_u8(0x20), Some(0x77));
    }

    #[test]
    fn address_size_prefix_uses_esi_edi_ecx() {
        let (mut cpu, mut mem) = setup();
        set(&mut cpu, gpr::EDI, 0x0001_0000);
        set(&mut cpu, gpr::ECX, 0x0001_0000);
        cpu.regs.seg[sreg::ES].limit = 0xFFFF_FFFF;
        set(&mut cpu, gpr::EAX, 0x1234_5678);
        run(&mut cpu, &mut mem, &[0x67, 0x66, 0xAB]).unwrap(); // stosd es:[edi]
        let mut out = [0u8; 4];
        mem.read_phys(0x10000, &mut out);
        assert_eq!(u32::from_le_bytes(out), 0x1234_5678);
        assert_eq!(cpu.regs.gpr[gpr::EDI], 0x0001_0004);
        assert_eq!(cpu.regs.gpr[gpr::ECX], 0x0001_0000);
    }

    #[test]
    fn long_rep_is_split_across_steps() {
        let (mut cpu, mut mem) = setup();
        set(&mut cpu, gpr::EDI, 0x4000);
        set(&mut cpu, gpr::ECX, REP_CAP + 5);
        run(&mut cpu, &mut mem, &[0xF3, 0xAA]).unwrap(); // rep stosb
        assert_eq!(cpu.regs.gpr[gpr::ECX], 5);
        assert_eq!(cpu.regs.eip, 0x100, "EIP back on the instruction");
        run(&mut cpu, &mut mem, &[0xF3, 0xAA]).unwrap();
        assert_eq!(cpu.regs.gpr[gpr::ECX], 0);
        assert_eq!(cpu.regs.eip, 0x102);
    }

    #[test]
    fn fault_midway_keeps_completed_iterations() {
        let (mut cpu, mut mem) = setup();
        set(&mut cpu, gpr::ECX, 4);
        // The word at 0xFFFF crosses the ES limit: #GP after two words.
        set(&mut cpu, gpr::EDI, 0xFFFB);
        let r = run(&mut cpu, &mut mem, &[0xF3, 0xAB]); // rep stosw
        assert_eq!(r, Err(Stop::Exception(Exception::with_error(GP, 0))));
        assert_eq!(cpu.regs.gpr[gpr::ECX], 2);
        assert_eq!(cpu.regs.gpr[gpr::EDI], 0xFFFF);
    }

    #[test]
    fn insw_reads_the_floating_bus_and_outsb_advances_si() {
        let (mut cpu, mut mem) = setup();
        set(&mut cpu, gpr::EDI, 0x3000);
        set(&mut cpu, gpr::EDX, 0x60);
        run(&mut cpu, &mut mem, &[0x6D]).unwrap(); // insw
        assert_eq!(mem.read_u8(0x3001), Some(0xFF));
        assert_eq!(cpu.regs.gpr[gpr::EDI], 0x3002);
        run(&mut cpu, &mut mem, &[0x6E]).unwrap(); // outsb
        assert_eq!(cpu.regs.gpr[gpr::ESI], 1);
    }

    #[test]
    fn sse2_movsd_is_invalid_on_a_p6() {
        let (mut cpu, mut mem) = setup();
        let r = run(&mut cpu, &mut mem, &[0xF2, 0x0F, 0x10, 0xC1]); // movsd xmm0, xmm1
        assert_eq!(r, Err(Stop::Exception(Exception::new(UD))));
    }

    #[test]
    fn io_bitmap_denies_user_mode_outs_before_any_iteration() {
        let (mut cpu, mut mem) = setup();
        cpu.cr0 |= crate::cpu::CR0_PE;
        cpu.cpl = 3;
        cpu.tr = SegCache {
            base: 0x5000,
            limit: 0x68 + 0x20,
            selector: 0x28,
            attr: 0x8B,
        };
        mem.write_phys(0x5066, &0x68u16.to_le_bytes());
        mem.write_phys(0x5068 + 0x60 / 8, &[0x01]); // port 0x60 denied
        set(&mut cpu, gpr::EDX, 0x60);
        set(&mut cpu, gpr::ECX, 3);
        let r = run(&mut cpu, &mut mem, &[0xF3, 0x6E]); // rep outsb
        assert_eq!(r, Err(Stop::Exception(Exception::with_error(GP, 0))));
        assert_eq!(cpu.regs.gpr[gpr::ECX], 3);
        set(&mut cpu, gpr::EDX, 0x61);
        run(&mut cpu, &mut mem, &[0xF3, 0x6E]).unwrap();
        assert_eq!(cpu.regs.gpr[gpr::ECX], 0);
    }
}
