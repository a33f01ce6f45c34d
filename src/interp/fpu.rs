//! x87 instruction handlers: decode operands, access memory, and call the
//! FPU model in `crate::fpu` (which knows nothing of the CPU or memory).
//! Data instructions are in `fpu_ops.rs`; this file holds the common
//! prologue, memory helpers, WAIT and the control instructions.
//!
//! Every x87 instruction (escape opcodes D8-DF) starts with:
//! 1. #NM if CR0.EM or CR0.TS is set (SDM Vol. 3, 2.5 and Table 2-2);
//! 2. unless it is a non-waiting FN* control instruction: if an unmasked
//!    exception is pending, #MF when CR0.NE=1, or FERR# (IRQ 13 on a PC,
//!    see `crate::fpu`) when CR0.NE=0;
//! 3. its memory accesses, which fault (#GP/#SS/#PF) before any FPU
//!    state changes: loads read first, stores write before committing;
//! 4. the operation; then non-control instructions record FIP/FCS/FOP and
//!    (with a memory operand) FDP/FDS for FSTENV/FSAVE.
//!
//! WAIT/FWAIT takes #NM only when CR0.MP and CR0.TS are both set, then
//! reports a pending exception like step 2. The "F" forms of the control
//! instructions (FINIT, FSTSW, ...) are WAIT + the FN* form, which iced
//! decodes as one instruction.

#[path = "fpu_ops.rs"]
mod ops;

use btvm_jit::abi::sreg;
use iced_x86::{Instruction, MemorySize, Mnemonic, OpKind, Register};

use super::operand::{ea, set_reg};
use super::Handler;
use crate::cpu::access::{Ctx, Step};
use crate::cpu::exception::{fault, MF, NM, UD};
use crate::cpu::{CR0_EM, CR0_MP, CR0_NE, CR0_TS};
use crate::fpu::env::Layout;

/// The handler for an x87 mnemonic (and WAIT).
pub fn handler(m: Mnemonic) -> Option<Handler> {
    use Mnemonic::*;
    Some(match m {
        Wait => wait,
        Fninit | Finit | Fnclex | Fclex | Fldcw | Fnstcw | Fstcw | Fnstsw | Fstsw | Fnstenv
        | Fstenv | Fldenv | Fnsave | Fsave | Frstor | Fneni | Feni | Fndisi | Fdisi | Fnsetpm
        | Fsetpm => control,
        // FISTTP is SSE3; FRSTPM only existed on the 287.
        Fisttp | Frstpm => |_, _| fault(UD),
        _ => return ops::handler(m),
    })
}

/// How an instruction treats pending exceptions.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Pending {
    /// Checks for a pending exception first (every "waiting" instruction).
    Check,
    /// FN* control instructions: no check.
    NoWait,
}

/// #NM, then (for waiting instructions) a pending exception.
fn prologue(ctx: &mut Ctx, w: Pending) -> Step {
    if ctx.cpu.cr0 & (CR0_EM | CR0_TS) != 0 {
        return fault(NM);
    }
    if w == Pending::Check {
        pending(ctx)?;
    }
    Ok(())
}

/// Report a pending unmasked exception: #MF with CR0.NE=1, else FERR#.
fn pending(ctx: &mut Ctx) -> Step {
    let ne = ctx.cpu.cr0 & CR0_NE != 0;
    if ctx.cpu.fpu.check_pending(ne) {
        return fault(MF);
    }
    Ok(())
}

/// Start of a data (non-control) instruction.
#[inline]
pub(crate) fn enter(ctx: &mut Ctx) -> Step {
    prologue(ctx, Pending::Check)
}

/// Record the last instruction (and memory operand) pointers after a
/// non-control instruction (SDM Vol. 1, 8.1.8-8.1.9).
pub(crate) fn record(ctx: &mut Ctx, i: &Instruction) -> Step {
    record_pointers(ctx, i);
    Ok(())
}

fn record_pointers(ctx: &mut Ctx, i: &Instruction) {
    let len = i.len() as u32;
    let cs = ctx.cpu.regs.seg[sreg::CS];
    let mask = if cs.is_32bit() { u32::MAX } else { 0xFFFF };
    let start = ctx.cpu.regs.eip.wrapping_sub(len) & mask;
    // FOP: the escape byte's low 3 bits and the ModR/M byte, read back
    // from the instruction bytes past any prefixes. The bytes were just
    // fetched; should that fail now (the instruction remapped its own
    // code), FOP reads 0 rather than faulting after the state changed.
    let mut fop = 0;
    let byte = |c: &mut Ctx, k: u32| {
        c.fetch_lin_u8(cs.base.wrapping_add(start.wrapping_add(k) & mask))
            .ok()
    };
    for k in 0..len.min(15) {
        let Some(b) = byte(ctx, k) else { break };
        if (0xD8..=0xDF).contains(&b) && k + 1 < len {
            let modrm = byte(ctx, k + 1).unwrap_or(0);
            fop = (u16::from(b & 7) << 8) | u16::from(modrm);
            break;
        }
    }
    let last = &mut ctx.cpu.fpu.last;
    last.fip = start;
    last.fcs = cs.selector;
    last.fop = fop;
    if has_mem(i) {
        let (seg, off) = ea(ctx, i);
        let sel = ctx.cpu.regs.seg[seg].selector;
        let last = &mut ctx.cpu.fpu.last;
        last.fdp = off;
        last.fds = sel;
    }
}

/// The instruction has a memory operand.
#[inline]
pub(crate) fn has_mem(i: &Instruction) -> bool {
    (0..i.op_count()).any(|k| i.op_kind(k) == OpKind::Memory)
}

/// ST(i) index of register operand `op`.
#[inline]
pub(crate) fn st_index(i: &Instruction, op: u32) -> usize {
    (i.op_register(op) as usize).wrapping_sub(Register::ST0 as usize) & 7
}

/// Read `buf.len()` bytes of the memory operand (limit-checked as one
/// access, then read in pieces).
pub(crate) fn read_mem(ctx: &mut Ctx, i: &Instruction, buf: &mut [u8]) -> Step {
    let (seg, off) = ea(ctx, i);
    let n = buf.len();
    ctx.seg_check(seg, off, n, false)?;
    let mut k = 0;
    while k < n {
        let w = if n - k >= 4 { 4 } else { n - k };
        let v = ctx.read_seg(seg, off.wrapping_add(k as u32), w)?;
        buf[k..k + w].copy_from_slice(&v.to_le_bytes()[..w]);
        k += w;
    }
    Ok(())
}

/// Write bytes to the memory operand: the whole range is checked (limit,
/// rights, both pages) before anything is written.
pub(crate) fn write_mem(ctx: &mut Ctx, i: &Instruction, data: &[u8]) -> Step {
    let (seg, off) = ea(ctx, i);
    let n = data.len();
    let lin = ctx.seg_check(seg, off, n, true)?;
    ctx.probe_write_lin(lin, n)?;
    let mut k = 0;
    while k < n {
        let w = if n - k >= 4 { 4 } else { n - k };
        let mut v = [0u8; 4];
        v[..w].copy_from_slice(&data[k..k + w]);
        ctx.write_seg(seg, off.wrapping_add(k as u32), w, u32::from_le_bytes(v))?;
        k += w;
    }
    Ok(())
}

/// WAIT/FWAIT.
fn wait(ctx: &mut Ctx, _i: &Instruction) -> Step {
    if ctx.cpu.cr0 & (CR0_MP | CR0_TS) == CR0_MP | CR0_TS {
        return fault(NM);
    }
    pending(ctx)
}

/// The environment layout for the current mode and operand size.
fn layout(ctx: &Ctx, i: &Instruction) -> Layout {
    let op32 = matches!(
        i.memory_size(),
        MemorySize::FpuEnv28 | MemorySize::FpuState108
    );
    Layout {
        op32,
        real: ctx.cpu.real_addressing(),
    }
}

/// The control instructions: they never update FIP/FDP/FOP.
fn control(ctx: &mut Ctx, i: &Instruction) -> Step {
    use Mnemonic::*;
    let m = i.mnemonic();
    // The "F" forms are WAIT followed by the FN* form.
    if matches!(
        m,
        Finit | Fclex | Fstcw | Fstsw | Fstenv | Fsave | Feni | Fdisi | Fsetpm
    ) {
        wait(ctx, i)?;
    }
    let w = if matches!(m, Fldcw | Fldenv | Frstor) {
        Pending::Check
    } else {
        Pending::NoWait
    };
    prologue(ctx, w)?;
    match m {
        Fninit | Finit => ctx.cpu.fpu.init(),
        Fnclex | Fclex => ctx.cpu.fpu.clear_exceptions(),
        Fldcw => {
            let mut b = [0u8; 2];
            read_mem(ctx, i, &mut b)?;
            ctx.cpu.fpu.set_control_word(u16::from_le_bytes(b));
        }
        Fnstcw | Fstcw => {
            let cw = ctx.cpu.fpu.cw;
            write_mem(ctx, i, &cw.to_le_bytes())?;
        }
        Fnstsw | Fstsw => {
            let sw = ctx.cpu.fpu.status_word();
            if i.op_kind(0) == OpKind::Register {
                set_reg(ctx, Register::AX, u32::from(sw));
            } else {
                write_mem(ctx, i, &sw.to_le_bytes())?;
            }
        }
        Fnstenv | Fstenv => {
            let l = layout(ctx, i);
            let img = ctx.cpu.fpu.env_image(l);
            write_mem(ctx, i, &img[..l.env_len()])?;
            ctx.cpu.fpu.after_fstenv();
        }
        Fldenv => {
            let l = layout(ctx, i);
            let mut b = [0u8; 28];
            read_mem(ctx, i, &mut b[..l.env_len()])?;
            ctx.cpu.fpu.fldenv(&b[..l.env_len()], l);
        }
        Fnsave | Fsave => {
            let l = layout(ctx, i);
            let img = ctx.cpu.fpu.save_image(l);
            write_mem(ctx, i, &img[..l.save_len()])?;
            ctx.cpu.fpu.init();
        }
        Frstor => {
            let l = layout(ctx, i);
            let mut b = [0u8; 108];
            read_mem(ctx, i, &mut b[..l.save_len()])?;
            ctx.cpu.fpu.frstor(&b[..l.save_len()], l);
        }
        // 8087/287 mode controls: no-ops on a 387 and later.
        _ => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use btvm_jit::abi::gpr;
    use btvm_jit::flags::{FLAG_AF, FLAG_CF, FLAG_OF, FLAG_PF, FLAG_SF, FLAG_ZF};
    use iced_x86::{Decoder, DecoderOptions};

    use super::*;
    use crate::cpu::exception::{Exception, Stop, GP};
    use crate::cpu::Cpu;
    use crate::fpu::F80;
    use crate::memory::GuestMemory;
    use crate::platform::NullPlatform;

    /// Code runs at 0100:0000 (linear 0x1000), data in segment 0.
    fn setup() -> (Cpu, GuestMemory) {
        let mut cpu = Cpu::new();
        for s in 0..6 {
            cpu.load_seg_real(s, 0);
        }
        cpu.load_seg_real(sreg::CS, 0x100);
        cpu.fpu.init();
        (cpu, GuestMemory::new(1).unwrap())
    }

    /// Put `bytes` at CS:0 and run them as one instruction (as `step`
    /// would, but returning the fault instead of delivering it).
    fn run(cpu: &mut Cpu, mem: &mut GuestMemory, bytes: &[u8]) -> Step {
        mem.write_phys(0x1000, bytes);
        let i = Decoder::with_ip(16, bytes, 0, DecoderOptions::NONE).decode();
        cpu.regs.eip = i.len() as u32;
        let mut io = NullPlatform;
        let mut ctx = Ctx {
            cpu,
            mem,
            io: &mut io,
        };
        let h = crate::interp::handler_for(i.mnemonic()).expect("x87 mnemonic");
        h(&mut ctx, &i)
    }

    fn vector(r: Step) -> Option<u8> {
        match r {
            Err(Stop::Exception(Exception { vector, .. })) => Some(vector),
            _ => None,
        }
    }

    const FLD1: [u8; 2] = [0xD9, 0xE8];
    const FLDZ: [u8; 2] = [0xD9, 0xEE];
    const FWAIT: [u8; 1] = [0x9B];
    const FNINIT: [u8; 2] = [0xDB, 0xE3];
    const FDIVP: [u8; 2] = [0xDE, 0xF9]; // fdivp st(1), st(0)

    #[test]
    fn device_not_available() {
        let (mut cpu, mut mem) = setup();
        cpu.cr0 |= CR0_TS;
        assert_eq!(vector(run(&mut cpu, &mut mem, &FLD1)), Some(NM));
        assert_eq!(vector(run(&mut cpu, &mut mem, &FNINIT)), Some(NM));
        assert_eq!(run(&mut cpu, &mut mem, &FWAIT), Ok(()));
        cpu.cr0 |= CR0_MP;
        assert_eq!(vector(run(&mut cpu, &mut mem, &FWAIT)), Some(NM));
        cpu.cr0 = (cpu.cr0 & !(CR0_TS | CR0_MP)) | CR0_EM;
        assert_eq!(vector(run(&mut cpu, &mut mem, &FLD1)), Some(NM));
        assert_eq!(run(&mut cpu, &mut mem, &FWAIT), Ok(()));
    }

    fn make_pending(cpu: &mut Cpu, mem: &mut GuestMemory) {
        cpu.fpu.init();
        cpu.fpu.set_control_word(0x037B); // #Z unmasked
        run(cpu, mem, &FLD1).unwrap();
        run(cpu, mem, &FLDZ).unwrap();
        run(cpu, mem, &FDIVP).unwrap();
        assert!(cpu.fpu.exception_pending());
        // Unmasked #Z: no result, no pop.
        assert_eq!(cpu.fpu.top, 6);
    }

    #[test]
    fn pending_exception_raises_mf_or_ferr() {
        let (mut cpu, mut mem) = setup();
        cpu.cr0 |= CR0_NE;
        make_pending(&mut cpu, &mut mem);
        assert_eq!(vector(run(&mut cpu, &mut mem, &FWAIT)), Some(MF));
        assert_eq!(vector(run(&mut cpu, &mut mem, &FLD1)), Some(MF));
        // FNSTSW AX does not wait.
        assert_eq!(run(&mut cpu, &mut mem, &[0xDF, 0xE0]), Ok(()));
        assert_eq!(cpu.regs.gpr[gpr::EAX] & 0x0080, 0x0080);
        // FSTSW AX is WAIT + FNSTSW.
        assert_eq!(
            vector(run(&mut cpu, &mut mem, &[0x9B, 0xDF, 0xE0])),
            Some(MF)
        );
        cpu.cr0 &= !CR0_NE;
        assert!(!cpu.fpu.ferr_pending);
        assert_eq!(run(&mut cpu, &mut mem, &FWAIT), Ok(()));
        assert!(cpu.fpu.ferr_pending);
        run(&mut cpu, &mut mem, &[0xDB, 0xE2]).unwrap(); // fnclex
        assert!(!cpu.fpu.ferr_pending);
        assert_eq!(run(&mut cpu, &mut mem, &FWAIT), Ok(()));
    }

    #[test]
    fn faulting_store_leaves_the_fpu_unchanged() {
        let (mut cpu, mut mem) = setup();
        run(&mut cpu, &mut mem, &FLD1).unwrap();
        let before = cpu.fpu.clone();
        // fstp qword [0xFFFC]: crosses the 64 KiB limit.
        let r = run(&mut cpu, &mut mem, &[0xDD, 0x1E, 0xFC, 0xFF]);
        assert_eq!(vector(r), Some(GP));
        assert_eq!(cpu.fpu, before);
        // fstp qword [0x600] works and pops.
        run(&mut cpu, &mut mem, &[0xDD, 0x1E, 0x00, 0x06]).unwrap();
        let mut b = [0u8; 8];
        mem.read_phys(0x600, &mut b);
        assert_eq!(u64::from_le_bytes(b), 0x3FF0_0000_0000_0000);
        assert_eq!(cpu.fpu.tag_word(), 0xFFFF);
    }

    #[test]
    fn last_instruction_and_operand_pointers() {
        let (mut cpu, mut mem) = setup();
        cpu.regs.gpr[gpr::EBX] = 0x10;
        // ds: fadd dword [bx+4] with a segment prefix: 3E D8 47 04
        run(&mut cpu, &mut mem, &FLD1).unwrap();
        run(&mut cpu, &mut mem, &[0x3E, 0xD8, 0x47, 0x04]).unwrap();
        let l = cpu.fpu.last;
        assert_eq!(
            (l.fip, l.fcs, l.fop, l.fdp, l.fds),
            (0, 0x100, 0x047, 0x14, 0)
        );
        // A control instruction leaves them alone.
        run(&mut cpu, &mut mem, &[0xDF, 0xE0]).unwrap();
        assert_eq!(cpu.fpu.last, l);
    }

    #[test]
    fn fcomi_sets_zf_pf_cf_and_clears_of_sf_af() {
        let (mut cpu, mut mem) = setup();
        run(&mut cpu, &mut mem, &FLD1).unwrap();
        run(&mut cpu, &mut mem, &FLDZ).unwrap();
        cpu.regs
            .set_eflags(0x2 | FLAG_OF | FLAG_SF | FLAG_AF | FLAG_ZF | FLAG_PF);
        run(&mut cpu, &mut mem, &[0xDB, 0xF1]).unwrap(); // fcomi st0, st1: 0 < 1
        let f = cpu.regs.eflags();
        assert_eq!(
            f & (FLAG_OF | FLAG_SF | FLAG_AF | FLAG_ZF | FLAG_PF | FLAG_CF),
            FLAG_CF
        );
    }

    #[test]
    fn fisttp_is_invalid_on_a_p6() {
        let (mut cpu, mut mem) = setup();
        run(&mut cpu, &mut mem, &FLD1).unwrap();
        assert_eq!(
            vector(run(&mut cpu, &mut mem, &[0xDF, 0x0E, 0x00, 0x06])),
            Some(UD)
        );
    }

    #[test]
    fn fsave_frstor_real_mode_round_trip() {
        let (mut cpu, mut mem) = setup();
        run(&mut cpu, &mut mem, &FLD1).unwrap();
        run(&mut cpu, &mut mem, &FLDZ).unwrap();
        let before = cpu.fpu.clone();
        run(&mut cpu, &mut mem, &[0xDD, 0x36, 0x00, 0x06]).unwrap(); // fnsave [0x600]
        assert_eq!(cpu.fpu.tag_word(), 0xFFFF);
        run(&mut cpu, &mut mem, &[0xDD, 0x26, 0x00, 0x06]).unwrap(); // frstor [0x600]
        assert_eq!(cpu.fpu.st(0), F80::ZERO);
        assert_eq!(cpu.fpu.st(1), F80::ONE);
        assert_eq!(cpu.fpu.status_word(), before.status_word());
        assert_eq!(cpu.fpu.tag_word(), before.tag_word());
    }
}
