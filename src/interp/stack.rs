//! Stack instructions: PUSH/POP (registers, memory, immediates, segment
//! registers), PUSHA/POPA, PUSHF/POPF, ENTER and LEAVE.
//!
//! The stack pointer is SP or ESP by SS.B (`Ctx::sp/set_sp/push/pop`); the
//! operand size picks words or doublewords. A fault rolls ESP back, so the
//! handlers only have to keep every other register untouched until the
//! instruction can no longer fault.
//!
//! P6 details modelled here (SDM PUSH/POP/PUSHA/ENTER):
//! - PUSH SP/ESP pushes the value from before the decrement (286+);
//! - PUSH Sreg with a 32-bit operand size moves ESP by 4 but writes only
//!   the 16-bit selector, leaving the upper word of the slot unchanged;
//! - POP into memory addressed through ESP uses ESP after the increment;
//! - POPF/POPFD follow the CPL/IOPL rules of `Ctx::popped_flags`.
//!
//! Example: `pusha` with SP=0x100 stores AX, CX, DX, BX, 0x100, BP, SI, DI
//! downwards from 0xFE and leaves SP=0xF0.

use btvm_jit::abi::{gpr, sreg};
use btvm_jit::flags::{FLAG_RF, FLAG_VM};
use iced_x86::{Instruction, Mnemonic, OpKind, Register};

use super::operand::{get_reg, mask, op32, op_size, reg_size, set_reg, sreg_index, write_op};
use super::Handler;
use crate::cpu::access::{Ctx, Step};
use crate::cpu::exception::{fault_code, GP};

/// The handler for a stack mnemonic.
pub fn handler(m: Mnemonic) -> Option<Handler> {
    Some(match m {
        Mnemonic::Push => push,
        Mnemonic::Pop => pop,
        Mnemonic::Pusha => |c, _| pusha(c, 2),
        Mnemonic::Pushad => |c, _| pusha(c, 4),
        Mnemonic::Popa => |c, _| popa(c, 2),
        Mnemonic::Popad => |c, _| popa(c, 4),
        Mnemonic::Pushf => |c, _| pushf(c, false),
        Mnemonic::Pushfd => |c, _| pushf(c, true),
        Mnemonic::Popf => |c, _| popf(c, false),
        Mnemonic::Popfd => |c, _| popf(c, true),
        Mnemonic::Enter => enter,
        Mnemonic::Leave => leave,
        _ => return None,
    })
}

/// Operand size in bytes of a stack form whose operand doesn't say.
#[inline]
fn width(i: &Instruction) -> usize {
    if op32(i) {
        4
    } else {
        2
    }
}

/// Whether an iced register is a segment register.
#[inline]
fn is_sreg(r: Register) -> bool {
    (Register::ES as usize..=Register::GS as usize).contains(&(r as usize))
}

/// Write the low `n` bytes of GPR `r`, keeping the rest.
#[inline]
fn set_gpr(ctx: &mut Ctx, r: usize, n: usize, v: u32) {
    let m = mask(n);
    let g = &mut ctx.cpu.regs.gpr[r];
    *g = (*g & !m) | (v & m);
}

// ---- PUSH / POP ------------------------------------------------------------

fn push(ctx: &mut Ctx, i: &Instruction) -> Step {
    match i.op_kind(0) {
        OpKind::Register if is_sreg(i.op_register(0)) => {
            let sel = get_reg(ctx, i.op_register(0));
            if op32(i) {
                // Why: P6 moves ESP by 4 but stores just the selector word
                // (SDM PUSH: "16-bit move, upper portion unmodified").
                let sp = ctx.sp().wrapping_sub(4) & ctx.sp_mask();
                ctx.write_seg(sreg::SS, sp, 2, sel)?;
                ctx.set_sp(sp);
                Ok(())
            } else {
                ctx.push(2, sel)
            }
        }
        OpKind::Register => {
            let r = i.op_register(0);
            // The value is read before the decrement: PUSH SP pushes the old SP.
            let v = get_reg(ctx, r);
            ctx.push(reg_size(r), v)
        }
        OpKind::Memory => {
            let n = op_size(i, 0);
            let v = super::operand::read_op(ctx, i, 0, n)?;
            ctx.push(n, v)
        }
        _ => {
            let n = width(i);
            ctx.push(n, i.immediate(0) as u32 & mask(n))
        }
    }
}

fn pop(ctx: &mut Ctx, i: &Instruction) -> Step {
    match i.op_kind(0) {
        OpKind::Register if is_sreg(i.op_register(0)) => {
            let n = width(i);
            let v = ctx.peek(0, n)?;
            // ESP moves with the stack width from before the load (POP SS
            // may change SS.B).
            let m = ctx.sp_mask();
            let sp = ctx.sp().wrapping_add(n as u32) & m;
            ctx.load_segment(sreg_index(i.op_register(0)), v as u16)?;
            let esp = &mut ctx.cpu.regs.gpr[gpr::ESP];
            *esp = (*esp & !m) | sp;
            Ok(())
        }
        OpKind::Register => {
            let r = i.op_register(0);
            // POP SP/ESP: the popped value replaces the incremented pointer.
            let v = ctx.pop(reg_size(r))?;
            set_reg(ctx, r, v);
            Ok(())
        }
        _ => {
            let n = op_size(i, 0);
            let v = ctx.peek(0, n)?;
            // The destination address is computed with the incremented
            // ESP (SDM POP); a faulting write rolls ESP back.
            let sp = ctx.sp().wrapping_add(n as u32);
            ctx.set_sp(sp);
            write_op(ctx, i, 0, n, v)
        }
    }
}

// ---- PUSHA / POPA ----------------------------------------------------------

/// The GPRs in PUSHA order (the stack pointer's slot holds its old value).
const PUSHA_ORDER: [usize; 8] = [
    gpr::EAX,
    gpr::ECX,
    gpr::EDX,
    gpr::EBX,
    gpr::ESP,
    gpr::EBP,
    gpr::ESI,
    gpr::EDI,
];

fn pusha(ctx: &mut Ctx, n: usize) -> Step {
    let m = ctx.sp_mask();
    let sp = ctx.sp();
    let slot = |k: usize| sp.wrapping_sub((k as u32 + 1) * n as u32) & m;
    // Check all eight slots first so a fault leaves memory untouched.
    for k in 0..8 {
        let lin = ctx.seg_check(sreg::SS, slot(k), n, true)?;
        ctx.probe_write_lin(lin, n)?;
    }
    let values = PUSHA_ORDER.map(|r| ctx.cpu.regs.gpr[r]);
    for (k, v) in values.into_iter().enumerate() {
        ctx.write_seg(sreg::SS, slot(k), n, v)?;
    }
    ctx.set_sp(slot(7));
    Ok(())
}

fn popa(ctx: &mut Ctx, n: usize) -> Step {
    let mut values = [0u32; 8];
    // The last register pushed (DI) is on top. Read upwards from the top,
    // as the CPU does: a stack that runs into an unmapped page faults at
    // the first byte of that page (CR2), found by `btvm fuzz` natively.
    for k in (0..8).rev() {
        values[k] = ctx.peek(((7 - k) * n) as u32, n)?;
    }
    for (k, &r) in PUSHA_ORDER.iter().enumerate() {
        if r != gpr::ESP {
            set_gpr(ctx, r, n, values[k]);
        }
    }
    let sp = ctx.sp().wrapping_add(8 * n as u32);
    ctx.set_sp(sp);
    Ok(())
}

// ---- PUSHF / POPF ----------------------------------------------------------

fn pushf(ctx: &mut Ctx, op32: bool) -> Step {
    if ctx.cpu.v86() && ctx.iopl() < 3 {
        // Why: IOPL-sensitive in virtual-8086 mode; CR4.VME's virtual IF
        // comes with the system architecture.
        return fault_code(GP, 0);
    }
    let f = ctx.cpu.regs.eflags();
    if op32 {
        ctx.push(4, f & !(FLAG_VM | FLAG_RF))
    } else {
        ctx.push(2, f & 0xFFFF)
    }
}

fn popf(ctx: &mut Ctx, op32: bool) -> Step {
    if ctx.cpu.v86() && ctx.iopl() < 3 {
        return fault_code(GP, 0);
    }
    let n = if op32 { 4 } else { 2 };
    let image = ctx.peek(0, n)?;
    let flags = ctx.popped_flags(image, op32, false);
    let sp = ctx.sp().wrapping_add(n as u32);
    ctx.set_sp(sp);
    ctx.write_eflags(flags);
    Ok(())
}

// ---- ENTER / LEAVE -----------------------------------------------------------

/// ENTER imm16, imm8: push (E)BP, copy `level - 1` frame pointers from the
/// enclosing frame plus the new one, set (E)BP to the new frame and
/// reserve `imm16` bytes. (E)BP is written last, so a fault leaves it.
fn enter(ctx: &mut Ctx, i: &Instruction) -> Step {
    let n = width(i);
    let alloc = u32::from(i.immediate16());
    let level = i.immediate8_2nd() & 31;
    let m = ctx.sp_mask();
    let ebp = ctx.cpu.regs.gpr[gpr::EBP];
    ctx.push(n, ebp)?;
    let frame = ctx.cpu.regs.gpr[gpr::ESP];
    if level > 0 {
        // The enclosing frame pointers are read through BP or EBP by SS.B.
        let mut fp = ebp;
        for _ in 1..level {
            fp = fp.wrapping_sub(n as u32);
            let v = ctx.read_seg(sreg::SS, fp & m, n)?;
            ctx.push(n, v)?;
        }
        ctx.push(n, frame)?;
    }
    let sp = ctx.sp().wrapping_sub(alloc) & m;
    // Why: the P6 ends ENTER with a write check of the final stack top
    // (Bochs models the same probe): a frame that cannot be used faults.
    let lin = ctx.seg_check(sreg::SS, sp, n, true)?;
    ctx.probe_write_lin(lin, n)?;
    ctx.set_sp(sp);
    set_gpr(ctx, gpr::EBP, n, frame);
    Ok(())
}

/// LEAVE: (E)SP = (E)BP by SS.B, then pop (E)BP by the operand size.
fn leave(ctx: &mut Ctx, i: &Instruction) -> Step {
    let n = width(i);
    let bp = ctx.cpu.regs.gpr[gpr::EBP] & ctx.sp_mask();
    let v = ctx.read_seg(sreg::SS, bp, n)?;
    ctx.set_sp(bp.wrapping_add(n as u32));
    set_gpr(ctx, gpr::EBP, n, v);
    Ok(())
}

#[cfg(test)]
mod tests {
    use btvm_jit::abi::SegCache;
    use btvm_jit::flags::{FLAG_CF, FLAG_FIXED1, FLAG_IF, FLAG_IOPL, FLAG_NT};
    use iced_x86::{Decoder, DecoderOptions};

    use super::*;
    use crate::cpu::exception::{Exception, Stop, SS};
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
        handler(i.mnemonic()).expect("stack mnemonic")(&mut ctx, &i)
    }

    fn word(mem: &GuestMemory, a: u32) -> u32 {
        let mut b = [0u8; 4];
        mem.read_phys(a, &mut b);
        u32::from_le_bytes(b) & 0xFFFF
    }

    fn dword(mem: &GuestMemory, a: u32) -> u32 {
        let mut b = [0u8; 4];
        mem.read_phys(a, &mut b);
        u32::from_le_bytes(b)
    }

    #[test]
    fn push_sp_pushes_the_old_value() {
        let (mut cpu, mut mem) = setup();
        run(&mut cpu, &mut mem, &[0x54]).unwrap(); // push sp
        assert_eq!(word(&mem, 0xFFE), 0x1000);
        assert_eq!(cpu.regs.gpr[gpr::ESP], 0xFFE);
    }

    #[test]
    fn push_imm8_is_sign_extended_and_pop_reg() {
        let (mut cpu, mut mem) = setup();
        run(&mut cpu, &mut mem, &[0x6A, 0x80]).unwrap(); // push -128
        assert_eq!(word(&mem, 0xFFE), 0xFF80);
        run(&mut cpu, &mut mem, &[0x66, 0x6A, 0xFF]).unwrap(); // push dword -1
        assert_eq!(dword(&mem, 0xFFA), 0xFFFF_FFFF);
        run(&mut cpu, &mut mem, &[0x66, 0x5B]).unwrap(); // pop ebx
        assert_eq!(cpu.regs.gpr[gpr::EBX], 0xFFFF_FFFF);
        assert_eq!(cpu.regs.gpr[gpr::ESP], 0xFFE);
    }

    #[test]
    fn push_sreg_with_32_bit_operand_writes_a_word() {
        let (mut cpu, mut mem) = setup();
        mem.write_phys(0xFFC, &[0xAA, 0xAA, 0xAA, 0xAA]);
        cpu.load_seg_real(sreg::DS, 0x1234);
        run(&mut cpu, &mut mem, &[0x66, 0x1E]).unwrap(); // push ds (o32)
        assert_eq!(cpu.regs.gpr[gpr::ESP], 0xFFC);
        assert_eq!(dword(&mem, 0xFFC), 0xAAAA_1234);
    }

    #[test]
    fn pop_sreg_loads_the_segment_and_shadows_ss() {
        let (mut cpu, mut mem) = setup();
        mem.write_phys(0x1000, &[0x00, 0x20]);
        run(&mut cpu, &mut mem, &[0x07]).unwrap(); // pop es
        assert_eq!(cpu.regs.seg[sreg::ES].base, 0x20000);
        assert_eq!(cpu.regs.gpr[gpr::ESP], 0x1002);
        cpu.regs.gpr[gpr::ESP] = 0x1000;
        mem.write_phys(0x1000, &[0x00, 0x00]);
        run(&mut cpu, &mut mem, &[0x17]).unwrap(); // pop ss
        assert!(cpu.irq_shadow);
    }

    #[test]
    fn pop_to_memory_and_push_memory() {
        let (mut cpu, mut mem) = setup();
        mem.write_phys(0x1000, &[0x34, 0x12]);
        cpu.regs.gpr[gpr::EBX] = 0x500;
        run(&mut cpu, &mut mem, &[0x8F, 0x07]).unwrap(); // pop word [bx]
        assert_eq!(word(&mem, 0x500), 0x1234);
        run(&mut cpu, &mut mem, &[0xFF, 0x37]).unwrap(); // push word [bx]
        assert_eq!(cpu.regs.gpr[gpr::ESP], 0x1000);
    }

    #[test]
    fn pusha_popa_round_trip_skipping_sp() {
        let (mut cpu, mut mem) = setup();
        for (k, r) in cpu.regs.gpr.iter_mut().enumerate() {
            if k != gpr::ESP {
                *r = 0x1111_0000 * (k as u32 + 1) + k as u32;
            }
        }
        let before = cpu.regs.gpr;
        run(&mut cpu, &mut mem, &[0x60]).unwrap(); // pusha
        assert_eq!(cpu.regs.gpr[gpr::ESP], 0xFF0);
        assert_eq!(word(&mem, 0xFF6), 0x1000, "old SP in its slot");
        assert_eq!(word(&mem, 0xFF0), before[gpr::EDI] & 0xFFFF);
        mem.write_phys(0xFF6, &[0x99, 0x99]);
        cpu.regs.gpr = [0; 8];
        cpu.regs.gpr[gpr::ESP] = 0xFF0;
        run(&mut cpu, &mut mem, &[0x61]).unwrap(); // popa
        for (k, &b) in before.iter().enumerate() {
            let want = if k == gpr::ESP { 0x1000 } else { b & 0xFFFF };
            assert_eq!(cpu.regs.gpr[k], want, "gpr {k}");
        }
    }

    #[test]
    fn pusha_at_the_bottom_of_the_segment_faults_without_writing() {
        let (mut cpu, mut mem) = setup();
        cpu.regs.gpr[gpr::ESP] = 7;
        let r = run(&mut cpu, &mut mem, &[0x60]);
        assert_eq!(r, Err(Stop::Exception(Exception::with_error(SS, 0))));
        assert_eq!(word(&mem, 5), 0);
    }

    #[test]
    fn pushf_popf_in_real_mode() {
        let (mut cpu, mut mem) = setup();
        cpu.regs.set_eflags(FLAG_CF | FLAG_IF);
        run(&mut cpu, &mut mem, &[0x9C]).unwrap(); // pushf
        assert_eq!(word(&mem, 0xFFE), FLAG_CF | FLAG_IF | FLAG_FIXED1);
        mem.write_phys(0xFFE, &[0xFF, 0xFF]);
        run(&mut cpu, &mut mem, &[0x9D]).unwrap(); // popf
        assert_eq!(cpu.regs.eflags(), 0x7FD7);
        assert!(cpu.regs.eflags() & (FLAG_IOPL | FLAG_NT) == FLAG_IOPL | FLAG_NT);
    }

    #[test]
    fn pushfd_clears_vm_and_rf_in_the_image_popfd_keeps_vm() {
        let (mut cpu, mut mem) = setup();
        cpu.regs.set_eflags(FLAG_RF | FLAG_CF);
        run(&mut cpu, &mut mem, &[0x66, 0x9C]).unwrap(); // pushfd
        assert_eq!(dword(&mem, 0xFFC), FLAG_CF | FLAG_FIXED1);
        mem.write_phys(0xFFC, &0xFFFF_FFFFu32.to_le_bytes());
        run(&mut cpu, &mut mem, &[0x66, 0x9D]).unwrap(); // popfd
        assert_eq!(
            cpu.regs.eflags(),
            0x0024_7FD7,
            "AC and ID load; VM, RF, VIF, VIP do not"
        );
    }

    #[test]
    fn enter_level_2_copies_the_enclosing_frame_pointer() {
        let (mut cpu, mut mem) = setup();
        cpu.regs.gpr[gpr::EBP] = 0x2000;
        mem.write_phys(0x1FFE, &[0xCD, 0xAB]);
        run(&mut cpu, &mut mem, &[0xC8, 0x10, 0x00, 0x02]).unwrap(); // enter 16, 2
        assert_eq!(word(&mem, 0xFFE), 0x2000, "old BP");
        assert_eq!(word(&mem, 0xFFC), 0xABCD, "copied frame pointer");
        assert_eq!(word(&mem, 0xFFA), 0xFFE, "new frame pointer");
        assert_eq!(cpu.regs.gpr[gpr::EBP], 0xFFE);
        assert_eq!(cpu.regs.gpr[gpr::ESP], 0xFFA - 0x10);
        run(&mut cpu, &mut mem, &[0xC9]).unwrap(); // leave
        assert_eq!(cpu.regs.gpr[gpr::EBP], 0x2000);
        assert_eq!(cpu.regs.gpr[gpr::ESP], 0x1000);
    }

    #[test]
    fn enter_level_0_is_push_bp_mov_bp_sp_sub_sp() {
        let (mut cpu, mut mem) = setup();
        cpu.regs.gpr[gpr::EBP] = 0xFFFF_1234;
        run(&mut cpu, &mut mem, &[0xC8, 0x04, 0x00, 0x00]).unwrap(); // enter 4, 0
        assert_eq!(cpu.regs.gpr[gpr::EBP], 0xFFFF_0FFE);
        assert_eq!(cpu.regs.gpr[gpr::ESP], 0xFFA);
        assert_eq!(word(&mem, 0xFFE), 0x1234);
    }
}
