//! System and I/O instructions: HLT, CLI/STI, IN/OUT, CPUID, RDTSC,
//! RDMSR/WRMSR, SYSENTER/SYSEXIT, NOP, and the #UD-raising forms (WAIT
//! and the x87 escapes are in `fpu.rs`).
//!
//! Privilege checks (IOPL for CLI/STI/IN/OUT, CPL 0 for HLT and the MSR
//! instructions) apply in protected mode; in real mode everything is
//! allowed.

use btvm_jit::abi::{gpr, sreg, SegCache};
use btvm_jit::flags::{FLAG_IF, FLAG_IOPL, FLAG_RF, FLAG_VM};
use iced_x86::{Code, Instruction, Mnemonic, OpKind};

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
        Mnemonic::Rdmsr => rdmsr,
        Mnemonic::Wrmsr => wrmsr,
        Mnemonic::Sysenter => sysenter,
        Mnemonic::Sysexit => sysexit,
        // The 0F 18-0F 1F hint space is NOP r/m on a P6 whatever the reg
        // field (iced calls the forms other than 0F 1F /0 "reservednop"):
        // no memory access, no fault (found by `btvm fuzz` against KVM).
        Mnemonic::Nop | Mnemonic::Pause => |_, _| Ok(()),
        // 0F 0D is outside that space: undefined on a P6 (#UD; AMD's
        // PREFETCH came later), found by `btvm fuzz` against the host CPU.
        Mnemonic::Reservednop => |_, i| {
            if matches!(
                i.code(),
                Code::Reservednop_rm16_r16_0F0D
                    | Code::Reservednop_rm32_r32_0F0D
                    | Code::Reservednop_rm64_r64_0F0D
            ) {
                fault(UD)
            } else {
                Ok(())
            }
        },
        // CET hints live in the 0F 1E reserved-NOP space: a P6 (no CET)
        // runs ENDBR32 and RDSSPD as NOPs, and gcc -fcf-protection emits
        // ENDBR32 at every function entry (Linux 0.11 built with a modern gcc).
        Mnemonic::Endbr32 | Mnemonic::Endbr64 | Mnemonic::Rdsspd | Mnemonic::Rdsspq => {
            |_, _| Ok(())
        }
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
        0 => [
            1,
            u32::from_le_bytes(*b"Genu"),
            u32::from_le_bytes(*b"ntel"),
            u32::from_le_bytes(*b"ineI"),
        ],
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
    let t = ctx.tsc();
    ctx.cpu.regs.gpr[gpr::EAX] = t as u32;
    ctx.cpu.regs.gpr[gpr::EDX] = (t >> 32) as u32;
    Ok(())
}

/// IA32_TIME_STAMP_COUNTER.
const MSR_TSC: u32 = 0x10;
/// IA32_SYSENTER_CS, then _ESP (0x175) and _EIP (0x176).
const MSR_SYSENTER_CS: u32 = 0x174;
/// IA32_PLATFORM_ID (P6): platform bits for microcode selection; reads 0.
const MSR_PLATFORM_ID: u32 = 0x17;
/// EBL_CR_POWERON (P6): power-on configuration; reads 0, writes ignored.
const MSR_EBL_CR_POWERON: u32 = 0x2A;
/// IA32_BIOS_SIGN_ID: microcode update signature; no update is loaded, so
/// it reads 0 and writes (the "clear then CPUID" idiom) are ignored.
const MSR_BIOS_SIGN_ID: u32 = 0x8B;

/// RDMSR: ECX names the MSR, EDX:EAX receives it. CPL 0 only; an MSR this
/// model lacks is #GP(0).
fn rdmsr(ctx: &mut Ctx, _i: &Instruction) -> Step {
    if cpl(ctx) != 0 {
        return fault_code(GP, 0);
    }
    let v: u64 = match ctx.cpu.regs.gpr[gpr::ECX] {
        MSR_TSC => ctx.tsc(),
        n @ MSR_SYSENTER_CS..=0x176 => u64::from(ctx.cpu.sysenter[(n - MSR_SYSENTER_CS) as usize]),
        MSR_PLATFORM_ID | MSR_EBL_CR_POWERON | MSR_BIOS_SIGN_ID => 0,
        _ => return fault_code(GP, 0),
    };
    ctx.cpu.regs.gpr[gpr::EAX] = v as u32;
    ctx.cpu.regs.gpr[gpr::EDX] = (v >> 32) as u32;
    Ok(())
}

/// WRMSR: EDX:EAX into the MSR ECX names. Writing the TSC sets the offset
/// from the instruction count so the TSC reads back the value and counts
/// on from it.
fn wrmsr(ctx: &mut Ctx, _i: &Instruction) -> Step {
    if cpl(ctx) != 0 {
        return fault_code(GP, 0);
    }
    let g = &ctx.cpu.regs.gpr;
    let v = u64::from(g[gpr::EDX]) << 32 | u64::from(g[gpr::EAX]);
    match g[gpr::ECX] {
        MSR_TSC => ctx.cpu.tsc_offset = v.wrapping_sub(ctx.io.time_ns(ctx.cpu.regs.icount)),
        n @ MSR_SYSENTER_CS..=0x176 => ctx.cpu.sysenter[(n - MSR_SYSENTER_CS) as usize] = v as u32,
        MSR_EBL_CR_POWERON | MSR_BIOS_SIGN_ID => {}
        _ => return fault_code(GP, 0),
    }
    Ok(())
}

/// A flat 4 GiB segment cache (SYSENTER/SYSEXIT load these without
/// reading the GDT). `code`: readable code; else writable data.
fn flat_segment(selector: u16, code: bool, dpl: u16) -> SegCache {
    let typ = if code { 0xB } else { 0x3 };
    let attr = SegCache::ATTR_G
        | SegCache::ATTR_DB
        | SegCache::ATTR_PRESENT
        | SegCache::ATTR_S
        | dpl << 5
        | typ;
    SegCache {
        base: 0,
        limit: u32::MAX,
        selector,
        attr,
    }
}

/// SYSENTER: to ring 0 at SYSENTER_CS:SYSENTER_EIP with the stack
/// SYSENTER_CS+8:SYSENTER_ESP, flat segments; clears VM, IF and RF.
/// #GP(0) in real mode or with a null SYSENTER_CS.
fn sysenter(ctx: &mut Ctx, _i: &Instruction) -> Step {
    let cs = ctx.cpu.sysenter[0] as u16 & 0xFFFC;
    if !ctx.cpu.protected() || cs == 0 {
        return fault_code(GP, 0);
    }
    let f = ctx.cpu.regs.eflags() & !(FLAG_VM | FLAG_IF | FLAG_RF);
    ctx.cpu.regs.set_eflags(f);
    ctx.cpu.regs.seg[sreg::SS] = flat_segment(cs.wrapping_add(8), false, 0);
    ctx.cpu.regs.gpr[gpr::ESP] = ctx.cpu.sysenter[1];
    ctx.commit_cs(flat_segment(cs, true, 0), 0);
    ctx.cpu.regs.eip = ctx.cpu.sysenter[2];
    Ok(())
}

/// SYSEXIT: to ring 3 at SYSENTER_CS+16:EDX with the stack
/// SYSENTER_CS+24:ECX. #GP(0) unless in protected mode at CPL 0 with a
/// non-null SYSENTER_CS.
fn sysexit(ctx: &mut Ctx, _i: &Instruction) -> Step {
    let cs = ctx.cpu.sysenter[0] as u16 & 0xFFFC;
    if !ctx.cpu.protected() || cpl(ctx) != 0 || cs == 0 {
        return fault_code(GP, 0);
    }
    ctx.cpu.regs.seg[sreg::SS] = flat_segment(cs.wrapping_add(24) | 3, false, 3);
    ctx.cpu.regs.gpr[gpr::ESP] = ctx.cpu.regs.gpr[gpr::ECX];
    ctx.cpu.regs.eip = ctx.cpu.regs.gpr[gpr::EDX];
    ctx.commit_cs(flat_segment(cs.wrapping_add(16) | 3, true, 3), 3);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cpu::{Cpu, CR0_PE};
    use crate::memory::GuestMemory;
    use crate::platform::NullPlatform;

    /// Decode `bytes` as 32-bit code and run the handler once.
    fn run32(cpu: &mut Cpu, bytes: &[u8]) -> Step {
        let mut mem = GuestMemory::new(1).unwrap();
        let mut dec = iced_x86::Decoder::new(32, bytes, iced_x86::DecoderOptions::NONE);
        let i = dec.decode();
        let h = handler(i.mnemonic()).expect("system mnemonic");
        let mut io = NullPlatform;
        let mut c = Ctx {
            cpu,
            mem: &mut mem,
            io: &mut io,
        };
        h(&mut c, &i)
    }

    const RDMSR: [u8; 2] = [0x0F, 0x32];
    const WRMSR: [u8; 2] = [0x0F, 0x30];

    /// Regression: Linux 0.11 built with a modern gcc starts every function
    /// with ENDBR32, which iced decodes as a CET instruction.
    #[test]
    fn endbr32_and_rdsspd_are_nops_on_a_p6() {
        let mut cpu = Cpu::new();
        cpu.regs.gpr[gpr::EAX] = 0x1234;
        let before = cpu.regs.gpr;
        run32(&mut cpu, &[0xF3, 0x0F, 0x1E, 0xFB]).unwrap(); // endbr32
        run32(&mut cpu, &[0xF3, 0x0F, 0x1E, 0xC8]).unwrap(); // rdsspd eax
        assert_eq!(cpu.regs.gpr, before);
    }

    /// Linux reads and writes the microcode signature MSR on every P6.
    #[test]
    fn microcode_signature_msr_reads_zero_and_ignores_writes() {
        let mut cpu = Cpu::new();
        cpu.regs.gpr[gpr::ECX] = MSR_BIOS_SIGN_ID;
        run32(&mut cpu, &WRMSR).unwrap();
        cpu.regs.gpr[gpr::EAX] = 7;
        run32(&mut cpu, &RDMSR).unwrap();
        assert_eq!((cpu.regs.gpr[gpr::EDX], cpu.regs.gpr[gpr::EAX]), (0, 0));
    }

    #[test]
    fn tsc_write_sets_the_counter() {
        let mut cpu = Cpu::new();
        cpu.regs.icount = 1000;
        cpu.regs.gpr[gpr::ECX] = MSR_TSC;
        cpu.regs.gpr[gpr::EDX] = 0x100;
        cpu.regs.gpr[gpr::EAX] = 5;
        run32(&mut cpu, &WRMSR).unwrap();
        assert_eq!(
            cpu.regs.icount.wrapping_add(cpu.tsc_offset),
            0x100_0000_0005
        );
        cpu.regs.icount += 10;
        run32(&mut cpu, &RDMSR).unwrap();
        assert_eq!(
            (cpu.regs.gpr[gpr::EDX], cpu.regs.gpr[gpr::EAX]),
            (0x100, 15)
        );
    }

    #[test]
    fn unknown_msr_and_cpl3_are_gp() {
        let mut cpu = Cpu::new();
        cpu.regs.gpr[gpr::ECX] = 0x1B; // APIC base: not on this model
        assert_eq!(run32(&mut cpu, &RDMSR), fault_code(GP, 0));
        assert_eq!(run32(&mut cpu, &WRMSR), fault_code(GP, 0));
        cpu.cr0 |= CR0_PE;
        cpu.cpl = 3;
        cpu.regs.gpr[gpr::ECX] = MSR_SYSENTER_CS;
        assert_eq!(run32(&mut cpu, &RDMSR), fault_code(GP, 0));
    }

    #[test]
    fn sysenter_then_sysexit() {
        let mut cpu = Cpu::new();
        cpu.cr0 |= CR0_PE;
        cpu.cpl = 3;
        cpu.sysenter = [0x10, 0x8000, 0xC000_1000];
        cpu.regs.set_eflags(FLAG_IF | 2);
        run32(&mut cpu, &[0x0F, 0x34]).unwrap();
        assert_eq!(cpu.cpl, 0);
        assert_eq!(cpu.regs.seg[sreg::CS].selector, 0x10);
        assert_eq!(cpu.regs.seg[sreg::SS].selector, 0x18);
        assert_eq!(
            (cpu.regs.eip, cpu.regs.gpr[gpr::ESP]),
            (0xC000_1000, 0x8000)
        );
        assert_eq!(cpu.regs.flags & FLAG_IF, 0);
        cpu.regs.gpr[gpr::ECX] = 0x7000;
        cpu.regs.gpr[gpr::EDX] = 0x0804_8000;
        run32(&mut cpu, &[0x0F, 0x35]).unwrap();
        assert_eq!(cpu.cpl, 3);
        assert_eq!(cpu.regs.seg[sreg::CS].selector, 0x23);
        assert_eq!(cpu.regs.seg[sreg::SS].selector, 0x2B);
        assert_eq!(cpu.regs.seg[sreg::CS].dpl(), 3);
        assert_eq!(
            (cpu.regs.eip, cpu.regs.gpr[gpr::ESP]),
            (0x0804_8000, 0x7000)
        );
        assert_eq!(run32(&mut cpu, &[0x0F, 0x35]), fault_code(GP, 0)); // SYSEXIT at CPL 3
    }

    #[test]
    fn cpuid_model_facts() {
        let [_, b, c, d] = cpuid_leaf(0);
        let vendor: Vec<u8> = [b, d, c].iter().flat_map(|r| r.to_le_bytes()).collect();
        assert_eq!(&vendor, b"GenuineIntel");
        let [a, _, _, d] = cpuid_leaf(1);
        assert_eq!((a >> 8) & 0xF, 6);
        assert_eq!(d & 0xA939, 0xA939); // FPU PSE TSC MSR CX8 SEP PGE CMOV
        assert_eq!(d & 2, 0); // no VME
    }
}
