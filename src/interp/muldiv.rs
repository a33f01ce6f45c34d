//! Multiply and divide: MUL, IMUL (one-, two- and three-operand forms),
//! DIV, IDIV; 8/16/32-bit.
//!
//! - MUL/IMUL set CF = OF = "the high half is significant" (non-zero for
//!   MUL; not the sign extension of the low half for IMUL). SF, ZF, AF and
//!   PF are undefined; the P6 leaves them unchanged (sandpile.org's table of
//!   undefined flags, P6 column), and so do we.
//! - DIV/IDIV raise #DE on a zero divisor or a quotient that does not fit
//!   the destination (IDIV: -2^(n-1) itself is allowed, as on every 286+).
//!   All six arithmetic flags are undefined; the P6 leaves them unchanged.
//!   The remainder of IDIV has the sign of the dividend.
//!
//! Nothing is written before the instruction is known not to fault.
//!
//! Example: `mul bl` with AL=0x80, BL=0x02 gives AX=0x0100, CF=OF=1.

use btvm_jit::flags::{FLAG_CF, FLAG_OF};
use iced_x86::{Instruction, Mnemonic, Register};

use super::alu::set_flags;
use super::operand::{get_reg, mask, op_size, read_op, set_reg, sext};
use super::Handler;
use crate::cpu::access::{Ctx, Step};
use crate::cpu::exception::{fault, DE};

/// The handler for a multiply or divide mnemonic.
pub fn handler(m: Mnemonic) -> Option<Handler> {
    Some(match m {
        Mnemonic::Mul => mul,
        Mnemonic::Imul => imul,
        Mnemonic::Div => div,
        Mnemonic::Idiv => idiv,
        _ => return None,
    })
}

/// The accumulator pair of an `n`-byte multiply/divide: (low, high)
/// registers. For bytes both halves live in AX.
fn acc_pair(n: usize) -> (Register, Register) {
    match n {
        1 => (Register::AL, Register::AH),
        2 => (Register::AX, Register::DX),
        _ => (Register::EAX, Register::EDX),
    }
}

/// Read the double-width dividend (AX, DX:AX or EDX:EAX).
fn dividend(ctx: &Ctx, n: usize) -> u64 {
    let (lo, hi) = acc_pair(n);
    let bits = n * 8;
    (u64::from(get_reg(ctx, hi)) << bits) | u64::from(get_reg(ctx, lo))
}

/// Write a double-width product or a quotient/remainder pair.
fn write_pair(ctx: &mut Ctx, n: usize, lo_val: u32, hi_val: u32) {
    let (lo, hi) = acc_pair(n);
    set_reg(ctx, lo, lo_val);
    set_reg(ctx, hi, hi_val);
}

/// CF = OF = `significant`; nothing else changes (P6).
fn set_mul_flags(ctx: &mut Ctx, significant: bool) {
    set_flags(
        ctx,
        FLAG_CF | FLAG_OF,
        if significant { FLAG_CF | FLAG_OF } else { 0 },
    );
}

fn mul(ctx: &mut Ctx, i: &Instruction) -> Step {
    let n = op_size(i, 0);
    let src = read_op(ctx, i, 0, n)?;
    let (lo, _) = acc_pair(n);
    let p = u64::from(get_reg(ctx, lo)) * u64::from(src);
    let bits = n * 8;
    let high = (p >> bits) as u32 & mask(n);
    write_pair(ctx, n, p as u32 & mask(n), high);
    set_mul_flags(ctx, high != 0);
    Ok(())
}

fn imul(ctx: &mut Ctx, i: &Instruction) -> Step {
    let n = op_size(i, 0);
    if i.op_count() == 1 {
        let src = read_op(ctx, i, 0, n)?;
        let (lo, _) = acc_pair(n);
        let a = i64::from(sext(get_reg(ctx, lo), n) as i32);
        let p = a * i64::from(sext(src, n) as i32);
        let low = p as u32 & mask(n);
        write_pair(ctx, n, low, (p >> (n * 8)) as u32 & mask(n));
        set_mul_flags(ctx, i64::from(sext(low, n) as i32) != p);
        return Ok(());
    }
    // IMUL r, r/m (0F AF) and IMUL r, r/m, imm (69, 6B): truncated product.
    let dst = i.op_register(0);
    let (a, b) = if i.op_count() == 2 {
        (get_reg(ctx, dst), read_op(ctx, i, 1, n)?)
    } else {
        (read_op(ctx, i, 1, n)?, read_op(ctx, i, 2, n)?)
    };
    let p = i64::from(sext(a, n) as i32) * i64::from(sext(b, n) as i32);
    let low = p as u32 & mask(n);
    set_reg(ctx, dst, low);
    set_mul_flags(ctx, i64::from(sext(low, n) as i32) != p);
    Ok(())
}

fn div(ctx: &mut Ctx, i: &Instruction) -> Step {
    let n = op_size(i, 0);
    let d = u64::from(read_op(ctx, i, 0, n)?);
    if d == 0 {
        return fault(DE);
    }
    let x = dividend(ctx, n);
    let q = x / d;
    if q > u64::from(mask(n)) {
        return fault(DE);
    }
    write_pair(ctx, n, q as u32, (x % d) as u32);
    Ok(())
}

fn idiv(ctx: &mut Ctx, i: &Instruction) -> Step {
    let n = op_size(i, 0);
    let d = i64::from(sext(read_op(ctx, i, 0, n)?, n) as i32);
    if d == 0 {
        return fault(DE);
    }
    let bits = n * 8;
    let raw = dividend(ctx, n);
    // Sign-extend the 2n-byte dividend to 64 bits.
    let x = ((raw << (64 - 2 * bits)) as i64) >> (64 - 2 * bits);
    // i64::MIN / -1 is the only overflowing i64 division; it is also a
    // quotient out of range, so #DE either way.
    let Some(q) = x.checked_div(d) else {
        return fault(DE);
    };
    let lim = 1i64 << (bits - 1);
    if q < -lim || q >= lim {
        return fault(DE);
    }
    let r = x % d;
    write_pair(ctx, n, q as u32 & mask(n), r as u32 & mask(n));
    Ok(())
}

#[cfg(test)]
mod tests {
    use btvm_jit::abi::gpr;
    use btvm_jit::flags::{FLAGS_ARITH, FLAG_PF, FLAG_ZF};
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
        fn run(&mut self, bytes: &[u8]) -> Step {
            let i = Decoder::with_ip(16, bytes, 0, DecoderOptions::NONE).decode();
            let h = handler(i.mnemonic()).expect("handled");
            let mut io = NullPlatform;
            let mut ctx = Ctx {
                cpu: &mut self.cpu,
                mem: &mut self.mem,
                io: &mut io,
            };
            h(&mut ctx, &i)
        }
        fn r(&self, g: usize) -> u32 {
            self.cpu.regs.gpr[g]
        }
        fn set(&mut self, g: usize, v: u32) {
            self.cpu.regs.gpr[g] = v;
        }
        fn flags(&self) -> u32 {
            self.cpu.regs.eflags() & FLAGS_ARITH
        }
    }

    fn is_de(r: Step) -> bool {
        matches!(r, Err(Stop::Exception(e)) if e.vector == DE)
    }

    #[test]
    fn mul8_sets_cf_of_when_ah_nonzero_and_keeps_other_flags() {
        let mut t = T::new();
        t.cpu.regs.set_eflags(FLAG_ZF | FLAG_PF);
        t.set(gpr::EAX, 0xFF80);
        t.set(gpr::EBX, 0x02);
        t.run(&[0xF6, 0xE3]).unwrap(); // mul bl
        assert_eq!(t.r(gpr::EAX), 0x0100);
        assert_eq!(t.flags(), FLAG_CF | FLAG_OF | FLAG_ZF | FLAG_PF);
        t.set(gpr::EAX, 0x10);
        t.run(&[0xF6, 0xE3]).unwrap();
        assert_eq!(t.r(gpr::EAX), 0x20);
        assert_eq!(t.flags(), FLAG_ZF | FLAG_PF);
    }

    #[test]
    fn mul32_writes_edx_eax() {
        let mut t = T::new();
        t.set(gpr::EAX, 0xFFFF_FFFF);
        t.set(gpr::ECX, 0xFFFF_FFFF);
        t.run(&[0x66, 0xF7, 0xE1]).unwrap(); // mul ecx
        assert_eq!(t.r(gpr::EAX), 0x0000_0001);
        assert_eq!(t.r(gpr::EDX), 0xFFFF_FFFE);
        assert_eq!(t.flags(), FLAG_CF | FLAG_OF);
    }

    #[test]
    fn imul16_one_operand_signed() {
        let mut t = T::new();
        t.set(gpr::EAX, 0xFFFF); // -1
        t.set(gpr::EBX, 0x0002);
        t.set(gpr::EDX, 0x1234_5678);
        t.run(&[0xF7, 0xEB]).unwrap(); // imul bx
        assert_eq!(t.r(gpr::EAX), 0xFFFE);
        assert_eq!(t.r(gpr::EDX), 0x1234_FFFF);
        assert_eq!(t.flags(), 0);
        t.set(gpr::EAX, 0x4000);
        t.run(&[0xF7, 0xEB]).unwrap(); // 0x4000 * 2 = 0x8000: does not fit i16
        assert_eq!(t.r(gpr::EAX), 0x8000);
        assert_eq!(t.r(gpr::EDX) & 0xFFFF, 0);
        assert_eq!(t.flags(), FLAG_CF | FLAG_OF);
    }

    #[test]
    fn imul_two_and_three_operand_forms_truncate() {
        let mut t = T::new();
        t.set(gpr::EAX, 0x0100);
        t.set(gpr::EBX, 0x0100);
        t.run(&[0x0F, 0xAF, 0xC3]).unwrap(); // imul ax, bx
        assert_eq!(t.r(gpr::EAX), 0);
        assert_eq!(t.flags(), FLAG_CF | FLAG_OF);
        t.set(gpr::ECX, 0x0010);
        t.run(&[0x6B, 0xC1, 0xFE]).unwrap(); // imul ax, cx, -2
        assert_eq!(t.r(gpr::EAX), 0xFFE0);
        assert_eq!(t.flags(), 0);
        t.run(&[0x66, 0x69, 0xC1, 0x00, 0x00, 0x00, 0x10]).unwrap(); // imul eax, ecx, 0x10000000
        assert_eq!(t.r(gpr::EAX), 0);
        assert_eq!(t.flags(), FLAG_CF | FLAG_OF);
    }

    #[test]
    fn div8_quotient_and_remainder() {
        let mut t = T::new();
        t.set(gpr::EAX, 0x0107); // 263
        t.set(gpr::EBX, 0x10);
        t.run(&[0xF6, 0xF3]).unwrap(); // div bl
        assert_eq!(t.r(gpr::EAX), 0x0710); // AH = 7, AL = 16
    }

    #[test]
    fn div_by_zero_and_overflow_raise_de_without_changes() {
        let mut t = T::new();
        t.set(gpr::EAX, 0x1234);
        t.set(gpr::EBX, 0);
        assert!(is_de(t.run(&[0xF6, 0xF3])));
        t.set(gpr::EBX, 0x10); // 0x1234 / 0x10 = 0x123 > 0xFF
        assert!(is_de(t.run(&[0xF6, 0xF3])));
        assert_eq!(t.r(gpr::EAX), 0x1234);
    }

    #[test]
    fn div32_uses_edx_eax() {
        let mut t = T::new();
        t.set(gpr::EDX, 1);
        t.set(gpr::EAX, 0);
        t.set(gpr::ECX, 2);
        t.run(&[0x66, 0xF7, 0xF1]).unwrap(); // div ecx
        assert_eq!(t.r(gpr::EAX), 0x8000_0000);
        assert_eq!(t.r(gpr::EDX), 0);
    }

    #[test]
    fn idiv_signs_and_limits() {
        let mut t = T::new();
        t.set(gpr::EAX, (-7i16) as u16 as u32);
        t.set(gpr::EBX, 2);
        t.run(&[0xF6, 0xFB]).unwrap(); // idiv bl
        assert_eq!(t.r(gpr::EAX) & 0xFF, (-3i8) as u8 as u32);
        assert_eq!((t.r(gpr::EAX) >> 8) & 0xFF, (-1i8) as u8 as u32);
        // -256 / 2 = -128 fits.
        t.set(gpr::EAX, (-256i16) as u16 as u32);
        t.run(&[0xF6, 0xFB]).unwrap();
        assert_eq!(t.r(gpr::EAX), 0x0080);
        // 256 / 2 = 128 does not.
        t.set(gpr::EAX, 256);
        assert!(is_de(t.run(&[0xF6, 0xFB])));
        // 0x80000000_00000000 / -1 overflows.
        t.set(gpr::EDX, 0x8000_0000);
        t.set(gpr::EAX, 0);
        t.set(gpr::ECX, 0xFFFF_FFFF);
        assert!(is_de(t.run(&[0x66, 0xF7, 0xF9])));
        // DX:AX = -32768 * 2 / -2: quotient 32768 overflows i16.
        t.set(gpr::EDX, 0xFFFF);
        t.set(gpr::EAX, 0x0000);
        t.set(gpr::EBX, 0xFFFE);
        assert!(is_de(t.run(&[0xF7, 0xFB])));
    }
}
