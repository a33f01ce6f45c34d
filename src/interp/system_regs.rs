//! MOV to and from control and debug registers (SDM vol. 2 MOV CR/DR,
//! vol. 3 2.5 and 17.2), and the TLB flushes control-register writes
//! imply.
//!
//! - Every form needs CPL 0 (#GP(0); virtual-8086 mode counts as CPL 3).
//!   Then CR1, CR5-CR7 and CR8+ are #UD (the order QEMU checks in).
//! - CR0: setting PG without PE, or NW without CD, is #GP(0); ET reads as
//!   1 and undefined bits are ignored. Changing PE, PG or WP flushes the
//!   whole TLB.
//! - CR3 flushes the non-global translations; CR4 rejects bits this CPU
//!   model lacks (#GP(0)) and a PSE/PGE change flushes everything.
//! - DR4/DR5 alias DR6/DR7 unless CR4.DE (then #UD). DR6 and DR7 keep
//!   their fixed-one bits. Breakpoints are stored but not armed.
//! - Test registers (TR3-TR7) do not exist on a P6: iced decodes them
//!   only on request, so they reach here as #UD already.

use iced_x86::{Instruction, Register};

use super::operand::{get_reg, set_reg};
use super::system::cpl;
use crate::cpu::access::{Ctx, Step};
use crate::cpu::exception::{fault, fault_code, GP, UD};
use crate::cpu::*;

/// CR0 bits software can write on a P6 (ET is hardwired to 1).
const CR0_WRITABLE: u32 =
    CR0_PE | CR0_MP | CR0_EM | CR0_TS | CR0_NE | CR0_WP | CR0_AM | CR0_NW | CR0_CD | CR0_PG;
/// CR4.DE: debugging extensions (DR4/DR5 are reserved).
const CR4_DE: u32 = 1 << 3;
/// CR4.MCE: machine-check enable.
const CR4_MCE: u32 = 1 << 6;
/// CR4.PCE: RDPMC at any privilege.
const CR4_PCE: u32 = 1 << 8;
/// CR4 bits this CPU model implements (no VME/PVI, no PAE).
const CR4_VALID: u32 = CR4_TSD | CR4_DE | CR4_PSE | CR4_MCE | CR4_PGE | CR4_PCE;
/// CR3 bits that are stored: the page-directory base, PCD and PWT.
const CR3_VALID: u32 = 0xFFFF_F018;
/// DR6 bits that always read as 1 on a P6.
const DR6_FIXED1: u32 = 0xFFFF_0FF0;
/// DR7 bit 10 always reads as 1.
const DR7_FIXED1: u32 = 0x400;

/// MOV CRn/DRn, r32.
pub fn mov_to_special(ctx: &mut Ctx, i: &Instruction) -> Step {
    let reg = i.op_register(0);
    let v = get_reg(ctx, i.op_register(1));
    if cpl(ctx) != 0 {
        return fault_code(GP, 0);
    }
    if reg.is_cr() {
        write_cr(ctx, reg.number(), v)
    } else if reg.is_dr() {
        let n = dr_index(ctx, reg)?;
        ctx.cpu.dr[n] = match n {
            6 => v | DR6_FIXED1,
            7 => v | DR7_FIXED1,
            _ => v,
        };
        Ok(())
    } else {
        fault(UD)
    }
}

/// MOV r32, CRn/DRn.
pub fn mov_from_special(ctx: &mut Ctx, i: &Instruction) -> Step {
    let reg = i.op_register(1);
    if cpl(ctx) != 0 {
        return fault_code(GP, 0);
    }
    let v = if reg.is_cr() {
        match reg.number() {
            0 => ctx.cpu.cr0,
            2 => ctx.cpu.cr2,
            3 => ctx.cpu.cr3,
            4 => ctx.cpu.cr4,
            _ => return fault(UD),
        }
    } else if reg.is_dr() {
        let n = dr_index(ctx, reg)?;
        ctx.cpu.dr[n]
    } else {
        return fault(UD);
    };
    set_reg(ctx, i.op_register(0), v);
    Ok(())
}

/// The DR array index for DRn: DR4/DR5 alias DR6/DR7 without CR4.DE.
fn dr_index(ctx: &Ctx, reg: Register) -> Step<usize> {
    match reg.number() {
        n @ (0..=3 | 6 | 7) => Ok(n),
        n @ (4 | 5) if ctx.cpu.cr4 & CR4_DE == 0 => Ok(n + 2),
        _ => fault(UD),
    }
}

/// Write control register `n` with the checks and flushes it implies.
pub fn write_cr(ctx: &mut Ctx, n: usize, v: u32) -> Step {
    match n {
        0 => write_cr0(ctx, v),
        2 => {
            ctx.cpu.cr2 = v;
            Ok(())
        }
        3 => {
            ctx.cpu.cr3 = v & CR3_VALID;
            ctx.cpu.flush_tlb_non_global();
            Ok(())
        }
        4 => {
            if v & !CR4_VALID != 0 {
                return fault_code(GP, 0);
            }
            let old = ctx.cpu.cr4;
            ctx.cpu.cr4 = v;
            if (old ^ v) & (CR4_PSE | CR4_PGE) != 0 {
                ctx.cpu.flush_tlb_all();
            }
            Ok(())
        }
        _ => fault(UD),
    }
}

/// Write CR0 (MOV CR0 and, for its low bits, LMSW).
pub fn write_cr0(ctx: &mut Ctx, v: u32) -> Step {
    if v & CR0_PG != 0 && v & CR0_PE == 0 {
        return fault_code(GP, 0);
    }
    if v & CR0_NW != 0 && v & CR0_CD == 0 {
        return fault_code(GP, 0);
    }
    let old = ctx.cpu.cr0;
    let new = (v & CR0_WRITABLE) | CR0_ET;
    ctx.cpu.cr0 = new;
    if (old ^ new) & (CR0_PE | CR0_PG | CR0_WP) != 0 {
        ctx.cpu.flush_tlb_all();
        // Mode changes: let the run loop (and later the JIT) look again.
        ctx.cpu.regs.attention = 1;
    }
    if (old ^ new) & CR0_PE != 0 {
        // CPL is 0 on both sides of a PE change (real mode, or protected
        // mode until the first far jump loads CS).
        ctx.cpu.set_cpl(0);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::GuestMemory;
    use crate::platform::NullPlatform;

    fn with_ctx<R>(cpu: &mut Cpu, f: impl FnOnce(&mut Ctx) -> R) -> R {
        let mut mem = GuestMemory::new(1).unwrap();
        let mut io = NullPlatform;
        let mut ctx = Ctx {
            cpu,
            mem: &mut mem,
            io: &mut io,
        };
        f(&mut ctx)
    }

    #[test]
    fn cr0_rules() {
        let mut cpu = Cpu::new();
        with_ctx(&mut cpu, |c| {
            assert!(write_cr0(c, CR0_PG).is_err());
            assert!(write_cr0(c, CR0_NW).is_err());
            write_cr0(c, CR0_PE | 0x0000_FF00).unwrap();
            assert_eq!(c.cpu.cr0, CR0_PE | CR0_ET);
        });
    }

    #[test]
    fn cr4_rejects_missing_features_and_dr_aliases() {
        let mut cpu = Cpu::new();
        with_ctx(&mut cpu, |c| {
            assert!(write_cr(c, 4, 1 << 5).is_err()); // PAE
            assert!(write_cr(c, 4, 1).is_err()); // VME
            write_cr(c, 4, CR4_DE | CR4_PGE | CR4_PSE).unwrap();
            assert_eq!(
                dr_index(c, Register::DR5),
                Err(crate::cpu::Stop::Exception(crate::cpu::Exception::new(UD)))
            );
            write_cr(c, 4, 0).unwrap();
            assert_eq!(dr_index(c, Register::DR4), Ok(6));
        });
    }
}
