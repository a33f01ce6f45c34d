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

use btvm_jit::abi::{gpr, sreg, Tlb};
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
    let bulk_ok = rep == Rep::Count && matches!(kind, Kind::Movs | Kind::Stos);
    // Under EFLAGS.TF the single-step trap follows every iteration (found
    // by `btvm fuzz` against KVM).
    let mut left = if flag(ctx, btvm_jit::flags::FLAG_TF) {
        1
    } else {
        REP_CAP
    };
    while left > 0 {
        let count = ctx.cpu.regs.gpr[gpr::ECX] & op.am;
        if count == 0 {
            return Ok(());
        }
        if bulk_ok {
            let k = bulk(ctx, &op, count.min(left));
            if k > 0 {
                left -= k;
                if k == count {
                    return Ok(());
                }
                continue;
            }
        }
        left -= 1;
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

/// How many elements, starting at offset `off` (linear `lin`) and going by
/// `op.delta`, lie wholly inside `lin`'s page without the offset wrapping
/// at the address mask.
fn run_len(op: &Op, off: u32, lin: u32) -> u32 {
    let n = op.n as u32;
    let in_page = lin & 0xFFF;
    if in_page + n > 0x1000 || u64::from(off) + u64::from(n) > u64::from(op.am) + 1 {
        return 0;
    }
    if (op.delta as i32) > 0 {
        let wrap = (u64::from(op.am) + 1 - u64::from(off)) / u64::from(n);
        ((0x1000 - in_page) / n).min(wrap.min(u64::from(u32::MAX)) as u32)
    } else {
        (in_page / n + 1).min(off / n + 1)
    }
}

/// REP MOVS / REP STOS fast path: up to `max` elements that stay inside
/// one page of the destination (and of the source), done at once when
/// those pages are in the TLB (write view for the destination, read view
/// for the source) and the first and last elements pass the segment
/// checks. Returns the elements done, with (E)SI/(E)DI/(E)CX updated; 0
/// when the next element must take [`iteration`] (a TLB miss, a page or
/// limit edge, a fault to report).
///
/// Why this is exact: a TLB write entry exists only for plain RAM that
/// holds no translated code and is not journaled, for the current
/// privilege, so no element can fault, touch a device or code, or raise
/// attention; overlapping copies are done element by element in the
/// instruction's order, byte-identical to the one-by-one loop.
fn bulk(ctx: &mut Ctx, op: &Op, max: u32) -> u32 {
    let n = op.n as u32;
    let forward = (op.delta as i32) > 0;
    let di = ctx.cpu.regs.gpr[gpr::EDI] & op.am;
    let Ok(dlin) = ctx.seg_check(sreg::ES, di, op.n, true) else {
        return 0;
    };
    let mut k = max.min(run_len(op, di, dlin));
    let si = ctx.cpu.regs.gpr[gpr::ESI] & op.am;
    let mut slin = 0;
    if op.kind == Kind::Movs {
        let Ok(l) = ctx.seg_check(op.src, si, op.n, false) else {
            return 0;
        };
        slin = l;
        k = k.min(run_len(op, si, slin));
    }
    if k < 2 {
        return 0;
    }
    // The offsets in between lie between the first and last (no wrap), and
    // a segment's valid offsets are one range: checking both ends is enough.
    let span = (k - 1) * n;
    let last = |off: u32| if forward { off + span } else { off - span };
    if ctx.seg_check(sreg::ES, last(di), op.n, true).is_err()
        || op.kind == Kind::Movs && ctx.seg_check(op.src, last(si), op.n, false).is_err()
    {
        return 0;
    }
    let base = ctx.mem.host_base();
    let we = &ctx.cpu.tlb.write[Tlb::index(dlin)];
    if we.tag != dlin & !0xFFF {
        return 0;
    }
    let doff = (dlin as usize).wrapping_add(we.addend).wrapping_sub(base);
    let len = (k * n) as usize;
    let span = span as usize;
    let dlo = if forward { doff } else { doff - span };
    let eax = ctx.cpu.regs.gpr[gpr::EAX].to_le_bytes();
    if op.kind == Kind::Movs {
        let re = &ctx.cpu.tlb.read[Tlb::index(slin)];
        if re.tag != slin & !0xFFF {
            return 0;
        }
        let soff = (slin as usize).wrapping_add(re.addend).wrapping_sub(base);
        let slo = if forward { soff } else { soff - span };
        let bytes = ctx.mem.bytes_mut();
        if slo + len <= dlo || dlo + len <= slo {
            bytes.copy_within(slo..slo + len, dlo);
        } else {
            let n = op.n;
            for j in 0..k as usize {
                let e = if forward { j } else { k as usize - 1 - j } * n;
                let mut t = [0u8; 4];
                t[..n].copy_from_slice(&bytes[slo + e..slo + e + n]);
                bytes[dlo + e..dlo + e + n].copy_from_slice(&t[..n]);
            }
        }
        let v = ctx.cpu.regs.gpr[gpr::ESI].wrapping_add(op.delta.wrapping_mul(k));
        set_masked(ctx, gpr::ESI, op.am, v);
    } else {
        let bytes = ctx.mem.bytes_mut();
        for e in bytes[dlo..dlo + len].chunks_exact_mut(op.n) {
            e.copy_from_slice(&eax[..op.n]);
        }
    }
    let v = ctx.cpu.regs.gpr[gpr::EDI].wrapping_add(op.delta.wrapping_mul(k));
    set_masked(ctx, gpr::EDI, op.am, v);
    let c = ctx.cpu.regs.gpr[gpr::ECX].wrapping_sub(k);
    set_masked(ctx, gpr::ECX, op.am, c);
    k
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

    /// Element-by-element MOVS on a copy of RAM: the reference the bulk
    /// path must match byte for byte.
    fn movs_reference(ram: &mut [u8], si: usize, di: usize, n: usize, count: usize, back: bool) {
        for j in 0..count {
            let (s, d) = if back {
                (si - j * n, di - j * n)
            } else {
                (si + j * n, di + j * n)
            };
            let mut t = [0u8; 4];
            t[..n].copy_from_slice(&ram[s..s + n]);
            ram[d..d + n].copy_from_slice(&t[..n]);
        }
    }

    #[test]
    fn bulk_rep_movs_matches_element_by_element_copies() {
        // (n, si, di, count, df): page crossings, overlaps both ways (within
        // an element too), backwards, unaligned.
        let cases = [
            (4, 0x2000, 0x5001, 3000, false),
            (1, 0x2000, 0x2001, 5000, false),
            (4, 0x2000, 0x2001, 1500, false),
            (2, 0x2001, 0x2000, 3000, false),
            (4, 0x6FFC, 0x6FFD, 1500, true),
            (2, 0x6FFE, 0x4FFF, 2500, true),
            (1, 0x2100, 0x20FF, 4000, true),
        ];
        for (n, si, di, count, back) in cases {
            let (mut cpu, mut mem) = setup();
            let pattern: Vec<u8> = (0..0x8000u32).map(|k| (k * 7 + k / 251) as u8).collect();
            mem.write_phys(0, &pattern);
            let mut want = pattern.clone();
            movs_reference(&mut want, si, di, n, count, back);
            cpu.regs.seg[sreg::ES].limit = 0xFFFF_FFFF;
            cpu.regs.seg[sreg::DS].limit = 0xFFFF_FFFF;
            if back {
                cpu.regs.set_eflags(FLAG_DF);
            }
            set(&mut cpu, gpr::ESI, si as u32);
            set(&mut cpu, gpr::EDI, di as u32);
            set(&mut cpu, gpr::ECX, count as u32);
            let code: &[u8] = match n {
                1 => &[0x67, 0xF3, 0xA4],
                2 => &[0x67, 0xF3, 0xA5],
                _ => &[0x67, 0x66, 0xF3, 0xA5],
            };
            while cpu.regs.gpr[gpr::ECX] != 0 {
                cpu.regs.eip = 0x100;
                run(&mut cpu, &mut mem, code).unwrap();
            }
            let mut got = vec![0u8; 0x8000];
            mem.read_phys(0, &mut got);
            assert!(
                got == want,
                "rep movs n={n} si={si:#x} di={di:#x} back={back}"
            );
            let moved = (count * n) as u32;
            let (s, d) = if back {
                (si as u32 - moved, di as u32 - moved)
            } else {
                (si as u32 + moved, di as u32 + moved)
            };
            assert_eq!(cpu.regs.gpr[gpr::ESI], s);
            assert_eq!(cpu.regs.gpr[gpr::EDI], d);
        }
    }

    #[test]
    fn bulk_rep_stos_fills_and_stops_at_the_segment_limit() {
        let (mut cpu, mut mem) = setup();
        set(&mut cpu, gpr::EAX, 0xAABB_CCDD);
        set(&mut cpu, gpr::EDI, 0xE000);
        set(&mut cpu, gpr::ECX, 0x1000);
        // 16-bit addressing: DI wraps from 0xFFFC to 0 and the fill goes
        // on (an aligned dword never crosses the 0xFFFF limit).
        let mut r = Ok(());
        for _ in 0..8 {
            cpu.regs.eip = 0x100;
            r = run(&mut cpu, &mut mem, &[0x66, 0xF3, 0xAB]); // rep stosd
            if cpu.regs.gpr[gpr::ECX] == 0 || r.is_err() {
                break;
            }
        }
        r.unwrap();
        assert_eq!(cpu.regs.gpr[gpr::ECX], 0);
        assert_eq!(cpu.regs.gpr[gpr::EDI], 0xE000 + 0x4000 - 0x10000);
        let mut out = [0u8; 8];
        mem.read_phys(0xFFFC, &mut out[..4]);
        mem.read_phys(0x0000, &mut out[4..]);
        assert_eq!(out, [0xDD, 0xCC, 0xBB, 0xAA, 0xDD, 0xCC, 0xBB, 0xAA]);
        // Unaligned: the dword at 0xFFFE crosses the limit: #GP with the
        // registers of the completed elements.
        set(&mut cpu, gpr::EDI, 0xF002);
        set(&mut cpu, gpr::ECX, 0x1000);
        cpu.regs.eip = 0x100;
        let r = run(&mut cpu, &mut mem, &[0x66, 0xF3, 0xAB]);
        assert_eq!(r, Err(Stop::Exception(Exception::with_error(GP, 0))));
        assert_eq!(cpu.regs.gpr[gpr::EDI], 0xFFFE);
        assert_eq!(cpu.regs.gpr[gpr::ECX], 0x1000 - 0x3FF);
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
