//! Decimal arithmetic adjustments: DAA, DAS, AAA, AAS, AAM, AAD, and the
//! undocumented SALC (D6: AL = CF ? 0xFF : 0x00, flags unchanged).
//!
//! Semantics follow the Intel SDM pseudo-code for 386+ processors (AAA adds
//! 106h to all of AX, AAS subtracts 6 from AX and then 1 from AH, so a carry
//! or borrow out of AL reaches AH). AAM with a base of 0 raises #DE before
//! anything changes.
//!
//! Undefined flags, P6 column of sandpile.org's table of undefined flags:
//! - DAA/DAS: OF unchanged.
//! - AAA/AAS: OF unchanged, SF = 0; ZF and PF come from the 16-bit
//!   adjustment before AL is masked (ZF: AX±106h, or AX when no adjustment
//!   was needed, is zero; PF: parity of AL+6, or AL, for both AAA and AAS,
//!   as the table's footnote says).
//! - AAM: OF = AF = CF = 0.
//! - AAD: OF, AF and CF are those of the 8-bit addition AL + AH*base that
//!   produces the result.
//!
//! Example: AL=0x79, AF=0, CF=0 after `add al, 0x35` gives AL=0xAE; DAA
//! turns it into 0x14 with CF=1 (79 + 35 = 114).

use btvm_jit::abi::gpr;
use btvm_jit::flags::*;
use iced_x86::{Instruction, Mnemonic};

use super::alu::{flag, set_flags};
use super::Handler;
use crate::cpu::access::{Ctx, Step};
use crate::cpu::exception::{fault, DE};

/// The handler for a decimal-adjust mnemonic (or SALC).
pub fn handler(m: Mnemonic) -> Option<Handler> {
    Some(match m {
        Mnemonic::Daa => daa,
        Mnemonic::Das => das,
        Mnemonic::Aaa => aaa,
        Mnemonic::Aas => aas,
        Mnemonic::Aam => aam,
        Mnemonic::Aad => aad,
        Mnemonic::Salc => salc,
        _ => return None,
    })
}

#[inline]
fn ax(ctx: &Ctx) -> u32 {
    ctx.cpu.regs.gpr[gpr::EAX] & 0xFFFF
}

#[inline]
fn set_ax(ctx: &mut Ctx, v: u32) {
    let r = &mut ctx.cpu.regs.gpr[gpr::EAX];
    *r = (*r & !0xFFFF) | (v & 0xFFFF);
}

#[inline]
fn set_al(ctx: &mut Ctx, v: u32) {
    let r = &mut ctx.cpu.regs.gpr[gpr::EAX];
    *r = (*r & !0xFF) | (v & 0xFF);
}

/// Set CF and AF together from one condition.
#[inline]
fn cf_af(on: bool) -> u32 {
    if on {
        FLAG_CF | FLAG_AF
    } else {
        0
    }
}

/// DAA/DAS: `sub` selects DAS.
fn decimal_adjust(ctx: &mut Ctx, sub: bool) -> Step {
    let old_al = ax(ctx) & 0xFF;
    let old_cf = flag(ctx, FLAG_CF);
    let mut al = old_al;
    let mut f = 0;
    if old_al & 0x0F > 9 || flag(ctx, FLAG_AF) {
        // The carry/borrow out of AL±6 is ORed into CF. For DAA it is
        // subsumed by the high-digit test (AL+6 carries only for AL >=
        // 0xFA > 0x99); for DAS, AL < 6 borrows and sets CF on its own.
        if sub && al < 6 {
            f |= FLAG_CF;
        }
        al = if sub { al.wrapping_sub(6) } else { al + 6 } & 0xFF;
        f |= FLAG_AF;
    }
    if old_al > 0x99 || old_cf {
        al = if sub {
            al.wrapping_sub(0x60)
        } else {
            al + 0x60
        } & 0xFF;
        f |= FLAG_CF;
    }
    set_al(ctx, al);
    set_flags(ctx, FLAGS_ARITH & !FLAG_OF, f | szp(al, 1));
    Ok(())
}

fn daa(ctx: &mut Ctx, _i: &Instruction) -> Step {
    decimal_adjust(ctx, false)
}

fn das(ctx: &mut Ctx, _i: &Instruction) -> Step {
    decimal_adjust(ctx, true)
}

/// AAA/AAS: `sub` selects AAS.
fn ascii_adjust(ctx: &mut Ctx, sub: bool) -> Step {
    let old = ax(ctx);
    let adjust = old & 0x0F > 9 || flag(ctx, FLAG_AF);
    let t = match (adjust, sub) {
        (false, _) => old,
        (true, false) => old.wrapping_add(0x106) & 0xFFFF,
        (true, true) => old.wrapping_sub(0x106) & 0xFFFF,
    };
    set_ax(ctx, t & 0xFF0F);
    let pf_src = if adjust { old + 6 } else { old };
    let zf = if t == 0 { FLAG_ZF } else { 0 };
    set_flags(
        ctx,
        FLAGS_ARITH & !FLAG_OF,
        cf_af(adjust) | zf | parity(pf_src),
    );
    Ok(())
}

fn aaa(ctx: &mut Ctx, _i: &Instruction) -> Step {
    ascii_adjust(ctx, false)
}

fn aas(ctx: &mut Ctx, _i: &Instruction) -> Step {
    ascii_adjust(ctx, true)
}

fn aam(ctx: &mut Ctx, i: &Instruction) -> Step {
    let base = u32::from(i.immediate8());
    if base == 0 {
        return fault(DE);
    }
    let al = ax(ctx) & 0xFF;
    let (hi, lo) = (al / base, al % base);
    set_ax(ctx, (hi << 8) | lo);
    set_flags(ctx, FLAGS_ARITH, szp(lo, 1));
    Ok(())
}

fn aad(ctx: &mut Ctx, i: &Instruction) -> Step {
    let base = u32::from(i.immediate8());
    let v = ax(ctx);
    let (al, prod) = (v & 0xFF, ((v >> 8) * base) & 0xFF);
    let r = (al + prod) & 0xFF;
    set_ax(ctx, r);
    // Flags of the 8-bit ADD al, prod.
    let mut lazy = LazyFlags::default();
    lazy.set(OP_ADD | SIZE8, al, prod, al + prod, FLAGS_ARITH);
    set_flags(ctx, FLAGS_ARITH, lazy.compute());
    Ok(())
}

fn salc(ctx: &mut Ctx, _i: &Instruction) -> Step {
    let v = if flag(ctx, FLAG_CF) { 0xFF } else { 0 };
    set_al(ctx, v);
    Ok(())
}

#[cfg(test)]
mod tests {
    use iced_x86::{Decoder, DecoderOptions};

    use super::*;
    use crate::cpu::exception::Stop;
    use crate::cpu::Cpu;
    use crate::memory::GuestMemory;
    use crate::platform::NullPlatform;

    struct T {
        cpu: Cpu,
        mem: GuestMemory,
    }

    impl T {
        fn new() -> Self {
            T {
                cpu: Cpu::new(),
                mem: GuestMemory::new(1).unwrap(),
            }
        }
        /// Set AX and the arithmetic flags, run, return (AX, flags).
        fn run(&mut self, bytes: &[u8], ax: u32, flags: u32) -> Result<(u32, u32), Stop> {
            self.cpu.regs.gpr[gpr::EAX] = 0xABCD_0000 | ax;
            self.cpu.regs.set_eflags(flags);
            let i = Decoder::with_ip(16, bytes, 0, DecoderOptions::NONE).decode();
            let h = handler(i.mnemonic()).expect("handled");
            let mut io = NullPlatform;
            let mut ctx = Ctx {
                cpu: &mut self.cpu,
                mem: &mut self.mem,
                io: &mut io,
            };
            h(&mut ctx, &i)?;
            assert_eq!(self.cpu.regs.gpr[gpr::EAX] >> 16, 0xABCD, "upper EAX kept");
            Ok((
                self.cpu.regs.gpr[gpr::EAX] & 0xFFFF,
                self.cpu.regs.eflags() & FLAGS_ARITH,
            ))
        }
    }

    const DAA: &[u8] = &[0x27];
    const DAS: &[u8] = &[0x2F];
    const AAA: &[u8] = &[0x37];
    const AAS: &[u8] = &[0x3F];

    #[test]
    fn daa_sdm_example() {
        // SDM: ADD AL,BL with AL=79h BL=35h -> AL=AEh; DAA -> 14h, CF=1, AF=1.
        let mut t = T::new();
        let (ax, f) = t.run(DAA, 0xAE, 0).unwrap();
        assert_eq!(ax & 0xFF, 0x14);
        assert_eq!(f & (FLAG_CF | FLAG_AF), FLAG_CF | FLAG_AF);
        // 0x99 + 0x01 = 0x9A -> 0x00 with CF.
        let (ax, f) = t.run(DAA, 0x9A, 0).unwrap();
        assert_eq!(ax & 0xFF, 0x00);
        assert_eq!(f & !FLAG_OF, FLAG_CF | FLAG_AF | FLAG_ZF | FLAG_PF);
    }

    #[test]
    fn das_sdm_example_and_of_unchanged() {
        // SDM: SUB AL,BL with AL=35h BL=47h -> AL=EEh, CF=1, AF=1; DAS -> 88h.
        let mut t = T::new();
        let (ax, f) = t.run(DAS, 0xEE, FLAG_CF | FLAG_AF | FLAG_OF).unwrap();
        assert_eq!(ax & 0xFF, 0x88);
        assert_eq!(f, FLAG_CF | FLAG_AF | FLAG_SF | FLAG_PF | FLAG_OF);
    }

    #[test]
    fn aaa_carries_into_ah_through_ax() {
        let mut t = T::new();
        // '8' + '2' = 0x6A -> AX 0x0100.
        let (ax, f) = t.run(AAA, 0x006A, 0).unwrap();
        assert_eq!(ax, 0x0100);
        assert_eq!(f & (FLAG_CF | FLAG_AF), FLAG_CF | FLAG_AF);
        // AL = 0xFA: AX + 0x106 carries into AH twice over (386+ form).
        let (ax, _) = t.run(AAA, 0x01FA, 0).unwrap();
        assert_eq!(ax, 0x0300);
        // No adjustment: only the high nibble of AL is cleared.
        let (ax, f) = t.run(AAA, 0x0535, FLAG_CF).unwrap();
        assert_eq!(ax, 0x0505);
        assert_eq!(f & (FLAG_CF | FLAG_AF), 0);
    }

    #[test]
    fn aas_borrows_from_ah() {
        let mut t = T::new();
        // '8' - '9' = 0xFF -> AX 0xFF09, CF = AF = 1.
        let (ax, f) = t.run(AAS, 0x00FF, 0).unwrap();
        assert_eq!(ax, 0xFF09);
        assert_eq!(f & (FLAG_CF | FLAG_AF | FLAG_SF), FLAG_CF | FLAG_AF);
        // AL = 0x03 with AF: AX - 6 borrows from AH, then AH - 1.
        let (ax, _) = t.run(AAS, 0x0503, FLAG_AF).unwrap();
        assert_eq!(ax, 0x030D);
    }

    #[test]
    fn aam_divides_and_zero_base_faults() {
        let mut t = T::new();
        let (ax, f) = t.run(&[0xD4, 0x0A], 0x003F, FLAGS_ARITH).unwrap(); // 63
        assert_eq!(ax, 0x0603);
        assert_eq!(f, FLAG_PF);
        let (ax, _) = t.run(&[0xD4, 0x10], 0x00AB, 0).unwrap(); // base 16
        assert_eq!(ax, 0x0A0B);
        let r = t.run(&[0xD4, 0x00], 0x1234, 0);
        assert!(matches!(r, Err(Stop::Exception(e)) if e.vector == DE));
        assert_eq!(t.cpu.regs.gpr[gpr::EAX] & 0xFFFF, 0x1234);
    }

    #[test]
    fn aad_combines_digits_with_add_flags() {
        let mut t = T::new();
        let (ax, f) = t.run(&[0xD5, 0x0A], 0x0607, 0).unwrap();
        assert_eq!(ax, 67);
        assert_eq!(f, FLAG_AF); // 0x07 + 0x3C: nibble carry; 0x43 has odd parity
                                // AH*base wraps: 0xFF*10 = 0x9F6 -> 0xF6 + 0x0A = 0x100 -> 0, CF=1.
        let (ax, f) = t.run(&[0xD5, 0x0A], 0xFF0A, 0).unwrap();
        assert_eq!(ax, 0);
        assert_eq!(f, FLAG_CF | FLAG_ZF | FLAG_PF | FLAG_AF);
    }

    #[test]
    fn salc_copies_cf_to_all_of_al() {
        let mut t = T::new();
        let (ax, f) = t.run(&[0xD6], 0x1234, FLAG_CF).unwrap();
        assert_eq!((ax, f), (0x12FF, FLAG_CF));
        let (ax, f) = t.run(&[0xD6], 0x12FF, FLAG_ZF).unwrap();
        assert_eq!((ax, f), (0x1200, FLAG_ZF));
    }
}
