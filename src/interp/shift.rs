//! Shifts and rotates: SHL/SAL, SHR, SAR, ROL, ROR, RCL, RCR (by 1, by CL,
//! by imm8; 8/16/32-bit) and the double shifts SHLD/SHRD.
//!
//! 386+ rules: the count is masked to 5 bits, and a masked count of 0
//! changes nothing (the destination is read, so a memory operand can still
//! fault, but it is not written and no flag changes). RCL/RCR rotate through
//! CF, so an 8-bit operand rotates by `count % 9` and a 16-bit one by
//! `count % 17`; ROL/ROR update CF whenever the masked count is non-zero,
//! even when `count % width == 0`. Shifts by more than the width follow the
//! manual's one-bit-at-a-time definition (CF ends as the last bit shifted
//! out, i.e. 0 for SHL/SHR and the sign for SAR).
//!
//! Undefined flags, P6 behaviour after the sandpile.org "undefined integer
//! FLAGS behavior" table (P6 column):
//! - AF is never changed by any of these instructions.
//! - OF is set only for a masked count of 1 (SHL: MSB(result) ^ CF; SHR: MSB
//!   of the original; SAR: 0; ROL: MSB ^ CF; ROR: the two top result bits
//!   XORed; SHLD/SHRD: sign change). For SHL/SHR/SAR/ROL/ROR/SHLD/SHRD with
//!   a larger count the P6 leaves OF unchanged, and so do we.
//! - RCL/RCR with a count > 1: the table has a P6-specific footnote we
//!   could not read; we use the count-1 formula on the final result (RCL:
//!   MSB ^ CF; RCR: the two top result bits XORed), as the P5 and P4 do. When
//!   the reduced count (`% 9` / `% 17`) is 0 nothing changes at all.
//! - SHLD/SHRD of a 16-bit operand by 17..31 (result undefined in the SDM):
//!   the P6 shifts the 48-bit pattern `dst:src:dst` (SHLD, result = top
//!   word) or `dst:src:dst` right (SHRD, result = low word), so bits of the
//!   destination come back in after the source is used up; CF is the last
//!   bit shifted out of that pattern. (Bochs documents this P6 behaviour.)
//!
//! Example: `shl al, 1` with AL=0x81 gives AL=0x02, CF=1, OF=1.

use btvm_jit::flags::*;
use iced_x86::{Instruction, Mnemonic};

use super::alu::{cf, set_flags};
use super::operand::{loc, mask, op_size, read_loc_rmw, read_op, sext, sign_bit, write_loc};
use super::Handler;
use crate::cpu::access::{Ctx, Step};

/// The handler for a shift or rotate mnemonic.
pub fn handler(m: Mnemonic) -> Option<Handler> {
    Some(match m {
        Mnemonic::Shl | Mnemonic::Sal => shl,
        Mnemonic::Shr => shr,
        Mnemonic::Sar => sar,
        Mnemonic::Rol => rol,
        Mnemonic::Ror => ror,
        Mnemonic::Rcl => rcl,
        Mnemonic::Rcr => rcr,
        Mnemonic::Shld => shld,
        Mnemonic::Shrd => shrd,
        _ => return None,
    })
}

/// What one shift computes: the new value, which flags it defines and
/// their values. (A shift that changes nothing returns `None` instead.)
struct Out {
    r: u32,
    which: u32,
    flags: u32,
}

/// The value of the shifted-out/in bit as a CF flag word.
#[inline]
fn cf_bit(b: u32) -> u32 {
    (b & 1) * FLAG_CF
}

/// OF as a flag word from a 0/1 (or any u32 whose bit 0 is the flag).
#[inline]
fn of_bit(b: u32) -> u32 {
    (b & 1) * FLAG_OF
}

/// Common frame: read destination and count, skip everything on a masked
/// count of 0, write the result, then commit the flags (write first, so a
/// faulting write leaves EFLAGS untouched).
#[inline]
fn shift_op(
    ctx: &mut Ctx,
    i: &Instruction,
    f: impl Fn(usize, u32, u32, u32) -> Option<Out>,
) -> Step {
    let n = op_size(i, 0);
    let dst = loc(ctx, i, 0);
    let a = read_loc_rmw(ctx, dst, n)?;
    let c = read_op(ctx, i, 1, 1)? & 0x1F;
    if c == 0 {
        return Ok(());
    }
    let Some(o) = f(n, a & mask(n), c, cf(ctx)) else {
        return Ok(());
    };
    write_loc(ctx, dst, n, o.r & mask(n))?;
    set_flags(ctx, o.which, o.flags);
    Ok(())
}

/// CF, SF, ZF, PF, plus OF when the count is 1: the flags a shift defines.
#[inline]
fn shift_flags(n: usize, r: u32, cf: u32, c: u32, of: u32) -> Out {
    let mut which = FLAG_CF | FLAG_SF | FLAG_ZF | FLAG_PF;
    if c == 1 {
        which |= FLAG_OF;
    }
    Out {
        r,
        which,
        flags: szp(r, n as u32) | cf_bit(cf) | of_bit(of),
    }
}

fn shl(ctx: &mut Ctx, i: &Instruction) -> Step {
    shift_op(ctx, i, |n, a, c, _| {
        let bits = (n * 8) as u32;
        let wide = u64::from(a) << c;
        let r = wide as u32 & mask(n);
        let cf = (wide >> bits) as u32 & 1;
        Some(shift_flags(n, r, cf, c, (r >> (bits - 1)) ^ cf))
    })
}

fn shr(ctx: &mut Ctx, i: &Instruction) -> Step {
    shift_op(ctx, i, |n, a, c, _| {
        let r = a >> c;
        let cf = (a >> (c - 1)) & 1;
        Some(shift_flags(n, r, cf, c, a >> (n * 8 - 1)))
    })
}

fn sar(ctx: &mut Ctx, i: &Instruction) -> Step {
    shift_op(ctx, i, |n, a, c, _| {
        let s = sext(a, n) as i32;
        let r = (s >> c) as u32 & mask(n);
        let cf = (s >> (c - 1)) as u32 & 1;
        Some(shift_flags(n, r, cf, c, 0))
    })
}

/// CF (and OF for a count of 1) for the rotates.
#[inline]
fn rot_flags(r: u32, cf: u32, c: u32, of: u32) -> Out {
    if c == 1 {
        Out {
            r,
            which: FLAG_CF | FLAG_OF,
            flags: cf_bit(cf) | of_bit(of),
        }
    } else {
        Out {
            r,
            which: FLAG_CF,
            flags: cf_bit(cf),
        }
    }
}

fn rol(ctx: &mut Ctx, i: &Instruction) -> Step {
    shift_op(ctx, i, |n, a, c, _| {
        let bits = (n * 8) as u32;
        let k = c % bits;
        let r = if k == 0 {
            a
        } else {
            ((a << k) | (a >> (bits - k))) & mask(n)
        };
        let cf = r & 1;
        Some(rot_flags(r, cf, c, (r >> (bits - 1)) ^ cf))
    })
}

fn ror(ctx: &mut Ctx, i: &Instruction) -> Step {
    shift_op(ctx, i, |n, a, c, _| {
        let bits = (n * 8) as u32;
        let k = c % bits;
        let r = if k == 0 {
            a
        } else {
            ((a >> k) | (a << (bits - k))) & mask(n)
        };
        let cf = r >> (bits - 1);
        Some(rot_flags(r, cf, c, cf ^ (r >> (bits - 2))))
    })
}

/// Rotate the `bits + 1`-wide value CF:a left by `k` (RCL) or right (RCR);
/// returns (result, new CF).
#[inline]
fn rotate_through_carry(n: usize, a: u32, cf_in: u32, k: u32, left: bool) -> (u32, u32) {
    let bits = (n * 8) as u32;
    let width = bits + 1;
    let m = (1u64 << width) - 1;
    let v = (u64::from(cf_in) << bits) | u64::from(a);
    let k = if left { k } else { width - k };
    let w = ((v << k) | (v >> (width - k))) & m;
    (w as u32 & mask(n), (w >> bits) as u32 & 1)
}

fn rcl(ctx: &mut Ctx, i: &Instruction) -> Step {
    shift_op(ctx, i, |n, a, c, cf_in| {
        let bits = (n * 8) as u32;
        let k = c % (bits + 1);
        if k == 0 {
            return None;
        }
        let (r, cf) = rotate_through_carry(n, a, cf_in, k, true);
        let of = (r >> (bits - 1)) ^ cf;
        Some(Out {
            r,
            which: FLAG_CF | FLAG_OF,
            flags: cf_bit(cf) | of_bit(of),
        })
    })
}

fn rcr(ctx: &mut Ctx, i: &Instruction) -> Step {
    shift_op(ctx, i, |n, a, c, cf_in| {
        let bits = (n * 8) as u32;
        let k = c % (bits + 1);
        if k == 0 {
            return None;
        }
        let (r, cf) = rotate_through_carry(n, a, cf_in, k, false);
        let of = (r >> (bits - 1)) ^ (r >> (bits - 2));
        Some(Out {
            r,
            which: FLAG_CF | FLAG_OF,
            flags: cf_bit(cf) | of_bit(of),
        })
    })
}

// ---- double shifts -----------------------------------------------------

/// Common frame of SHLD/SHRD: `f(n, dst, src, count) -> (result, cf)`.
#[inline]
fn double_op(
    ctx: &mut Ctx,
    i: &Instruction,
    f: impl Fn(usize, u32, u32, u32) -> (u32, u32),
) -> Step {
    let n = op_size(i, 0);
    let dst = loc(ctx, i, 0);
    let a = read_loc_rmw(ctx, dst, n)? & mask(n);
    let b = read_op(ctx, i, 1, n)? & mask(n);
    let c = read_op(ctx, i, 2, 1)? & 0x1F;
    if c == 0 {
        return Ok(());
    }
    let (r, cf) = f(n, a, b, c);
    let r = r & mask(n);
    write_loc(ctx, dst, n, r)?;
    // OF (count 1 only): the sign changed.
    let of = u32::from((r ^ a) & sign_bit(n) != 0);
    let o = shift_flags(n, r, cf, c, of);
    set_flags(ctx, o.which, o.flags);
    Ok(())
}

/// The 48-bit pattern `a:b:a` a 16-bit double shift works on (see the
/// module header for why the destination appears twice).
#[inline]
fn pattern16(a: u32, b: u32) -> u64 {
    (u64::from(a) << 32) | (u64::from(b) << 16) | u64::from(a)
}

fn shld(ctx: &mut Ctx, i: &Instruction) -> Step {
    double_op(ctx, i, |n, a, b, c| {
        if n == 2 {
            let t = pattern16(a, b);
            (((t << c) >> 32) as u32, (t >> (48 - c)) as u32 & 1)
        } else {
            let t = (u64::from(a) << 32) | u64::from(b);
            (((t << c) >> 32) as u32, (t >> (64 - c)) as u32 & 1)
        }
    })
}

fn shrd(ctx: &mut Ctx, i: &Instruction) -> Step {
    double_op(ctx, i, |n, a, b, c| {
        let t = if n == 2 {
            pattern16(a, b)
        } else {
            (u64::from(b) << 32) | u64::from(a)
        };
        ((t >> c) as u32, (t >> (c - 1)) as u32 & 1)
    })
}

#[cfg(test)]
mod tests {
    use btvm_jit::abi::{gpr, sreg};
    use iced_x86::{Decoder, DecoderOptions};

    use super::*;
    use crate::cpu::Cpu;
    use crate::memory::GuestMemory;
    use crate::platform::NullPlatform;

    const ARITH: u32 = FLAGS_ARITH;

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
        /// Run one 16-bit-mode instruction.
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
        fn flags(&self) -> u32 {
            self.cpu.regs.eflags() & ARITH
        }
        fn set_flags(&mut self, f: u32) {
            self.cpu.regs.set_eflags(f);
        }
        fn eax(&self) -> u32 {
            self.cpu.regs.gpr[gpr::EAX]
        }
    }

    #[test]
    fn shl_by_one_sets_cf_and_of() {
        let mut t = T::new();
        t.cpu.regs.gpr[gpr::EAX] = 0x81;
        t.run(&[0xD0, 0xE0]).unwrap(); // shl al, 1
        assert_eq!(t.eax(), 0x02);
        assert_eq!(t.flags(), FLAG_CF | FLAG_OF);
    }

    #[test]
    fn shl_keeps_af_and_of_for_counts_above_one() {
        let mut t = T::new();
        t.set_flags(FLAG_AF | FLAG_OF);
        t.cpu.regs.gpr[gpr::EAX] = 0x1F;
        t.run(&[0xC0, 0xE0, 0x04]).unwrap(); // shl al, 4
        assert_eq!(t.eax(), 0xF0);
        assert_eq!(t.flags(), FLAG_CF | FLAG_SF | FLAG_PF | FLAG_AF | FLAG_OF);
    }

    #[test]
    fn shl8_by_more_than_width_clears_value_and_carry() {
        let mut t = T::new();
        t.cpu.regs.gpr[gpr::EAX] = 0xFF;
        t.cpu.regs.gpr[gpr::ECX] = 9;
        t.run(&[0xD2, 0xE0]).unwrap(); // shl al, cl
        assert_eq!(t.eax(), 0);
        assert_eq!(t.flags(), FLAG_ZF | FLAG_PF);
        // Count 8: CF is bit 0 of the original.
        t.cpu.regs.gpr[gpr::EAX] = 0x01;
        t.cpu.regs.gpr[gpr::ECX] = 8;
        t.run(&[0xD2, 0xE0]).unwrap();
        assert_eq!(t.flags() & FLAG_CF, FLAG_CF);
    }

    #[test]
    fn masked_count_zero_changes_nothing() {
        let mut t = T::new();
        t.set_flags(ARITH);
        t.cpu.regs.gpr[gpr::EAX] = 0x1234;
        t.cpu.regs.gpr[gpr::ECX] = 0x20; // 32 & 31 = 0
        t.run(&[0xD3, 0xE0]).unwrap(); // shl ax, cl
        t.run(&[0xD3, 0xC8]).unwrap(); // ror ax, cl
        assert_eq!(t.eax(), 0x1234);
        assert_eq!(t.flags(), ARITH);
    }

    #[test]
    fn count_is_masked_to_five_bits() {
        let mut t = T::new();
        t.cpu.regs.gpr[gpr::EAX] = 0x01;
        t.cpu.regs.gpr[gpr::ECX] = 33;
        t.run(&[0xD2, 0xE0]).unwrap(); // shl al, cl -> by 1
        assert_eq!(t.eax(), 0x02);
    }

    #[test]
    fn shr_of_is_the_original_sign_and_sar_fills_with_it() {
        let mut t = T::new();
        t.cpu.regs.gpr[gpr::EAX] = 0x8001;
        t.run(&[0xD1, 0xE8]).unwrap(); // shr ax, 1
        assert_eq!(t.eax(), 0x4000);
        assert_eq!(t.flags(), FLAG_CF | FLAG_OF | FLAG_PF);
        t.cpu.regs.gpr[gpr::EAX] = 0x80;
        t.run(&[0xC0, 0xF8, 0x03]).unwrap(); // sar al, 3
        assert_eq!(t.eax(), 0xF0);
        assert_eq!(t.flags(), FLAG_SF | FLAG_PF | FLAG_OF); // OF kept from before
        t.cpu.regs.gpr[gpr::EAX] = 0x81;
        t.run(&[0xD0, 0xF8]).unwrap(); // sar al, 1
        assert_eq!(t.eax(), 0xC0);
        assert_eq!(t.flags(), FLAG_CF | FLAG_SF | FLAG_PF);
        t.cpu.regs.gpr[gpr::EAX] = 0x80;
        t.cpu.regs.gpr[gpr::ECX] = 31;
        t.run(&[0xD2, 0xF8]).unwrap(); // sar al, cl (31)
        assert_eq!(t.eax(), 0xFF);
        assert_eq!(t.flags() & FLAG_CF, FLAG_CF);
    }

    #[test]
    fn rol_ror_update_cf_when_count_is_a_multiple_of_width() {
        let mut t = T::new();
        t.cpu.regs.gpr[gpr::EAX] = 0x01;
        t.cpu.regs.gpr[gpr::ECX] = 8;
        t.run(&[0xD2, 0xC0]).unwrap(); // rol al, cl
        assert_eq!(t.eax(), 0x01);
        assert_eq!(t.flags() & FLAG_CF, FLAG_CF);
        t.cpu.regs.gpr[gpr::EAX] = 0x80;
        t.run(&[0xD2, 0xC8]).unwrap(); // ror al, cl
        assert_eq!(t.eax(), 0x80);
        assert_eq!(t.flags() & FLAG_CF, FLAG_CF);
        t.cpu.regs.gpr[gpr::EAX] = 0x40;
        t.run(&[0xD2, 0xC8]).unwrap(); // ror al, 8: CF = bit 7 = 0
        assert_eq!(t.flags() & FLAG_CF, 0);
    }

    #[test]
    fn rol_ror_by_one() {
        let mut t = T::new();
        t.cpu.regs.gpr[gpr::EAX] = 0x8000_0000;
        t.run(&[0x66, 0xD1, 0xC0]).unwrap(); // rol eax, 1
        assert_eq!(t.eax(), 1);
        assert_eq!(t.flags(), FLAG_CF | FLAG_OF);
        t.cpu.regs.gpr[gpr::EAX] = 0x0001;
        t.run(&[0xD1, 0xC8]).unwrap(); // ror ax, 1
        assert_eq!(t.eax(), 0x8000);
        assert_eq!(t.flags(), FLAG_CF | FLAG_OF);
    }

    #[test]
    fn rcl_rcr_rotate_through_carry_modulo_width_plus_one() {
        let mut t = T::new();
        t.set_flags(FLAG_CF);
        t.cpu.regs.gpr[gpr::EAX] = 0x00;
        t.run(&[0xD0, 0xD0]).unwrap(); // rcl al, 1
        assert_eq!(t.eax(), 0x01);
        assert_eq!(t.flags() & (FLAG_CF | FLAG_OF), 0);
        // rcl al, 9 is the identity and leaves CF alone.
        t.set_flags(FLAG_CF);
        t.cpu.regs.gpr[gpr::EAX] = 0x5A;
        t.run(&[0xC0, 0xD0, 0x09]).unwrap();
        assert_eq!(t.eax(), 0x5A);
        assert_eq!(t.flags(), FLAG_CF);
        // rcr ax, 1 with CF=1: 0x0001 -> 0x8000, CF=1, OF = old MSB ^ old CF = 1.
        t.set_flags(FLAG_CF);
        t.cpu.regs.gpr[gpr::EAX] = 0x0001;
        t.run(&[0xD1, 0xD8]).unwrap();
        assert_eq!(t.eax(), 0x8000);
        assert_eq!(t.flags(), FLAG_CF | FLAG_OF);
        // rcr eax, 31 with CF=0 is a 33-bit rotate left by 2: bit 31 -> bit 0.
        t.set_flags(0);
        t.cpu.regs.gpr[gpr::EAX] = 0x8000_0000;
        t.run(&[0x66, 0xC1, 0xD8, 31]).unwrap();
        assert_eq!(t.eax(), 0x0000_0001);
        assert_eq!(t.flags() & FLAG_CF, 0);
    }

    #[test]
    fn memory_destination_is_written_back() {
        let mut t = T::new();
        t.cpu.regs.gpr[gpr::EBX] = 0x100;
        {
            let mut io = NullPlatform;
            let mut ctx = Ctx {
                cpu: &mut t.cpu,
                mem: &mut t.mem,
                io: &mut io,
            };
            ctx.write_seg(sreg::DS, 0x100, 2, 0x00F0).unwrap();
        }
        t.run(&[0xC1, 0x27, 0x04]).unwrap(); // shl word [bx], 4
        let mut io = NullPlatform;
        let mut ctx = Ctx {
            cpu: &mut t.cpu,
            mem: &mut t.mem,
            io: &mut io,
        };
        assert_eq!(ctx.read_seg(sreg::DS, 0x100, 2).unwrap(), 0x0F00);
    }

    #[test]
    fn shld_shrd_32() {
        let mut t = T::new();
        t.cpu.regs.gpr[gpr::EAX] = 0x1234_5678;
        t.cpu.regs.gpr[gpr::EBX] = 0x9ABC_DEF0;
        t.run(&[0x66, 0x0F, 0xA4, 0xD8, 8]).unwrap(); // shld eax, ebx, 8
        assert_eq!(t.eax(), 0x3456_789A);
        assert_eq!(t.flags() & FLAG_CF, 0);
        t.cpu.regs.gpr[gpr::EAX] = 0x1234_5678;
        t.run(&[0x66, 0x0F, 0xAC, 0xD8, 8]).unwrap(); // shrd eax, ebx, 8
        assert_eq!(t.eax(), 0xF012_3456);
        assert_eq!(t.flags() & (FLAG_CF | FLAG_SF), FLAG_SF);
    }

    #[test]
    fn shld16_by_more_than_16_reuses_the_destination() {
        let mut t = T::new();
        t.cpu.regs.gpr[gpr::EAX] = 0x1234;
        t.cpu.regs.gpr[gpr::EBX] = 0xABCD;
        t.cpu.regs.gpr[gpr::ECX] = 20;
        t.run(&[0x0F, 0xA5, 0xD8]).unwrap(); // shld ax, bx, cl
                                             // 1234:ABCD:1234 << 20, top word = BCD1.
        assert_eq!(t.eax(), 0xBCD1);
        t.cpu.regs.gpr[gpr::EAX] = 0x1234;
        t.run(&[0x0F, 0xAD, 0xD8]).unwrap(); // shrd ax, bx, cl
                                             // (1234:ABCD:1234 >> 20) low word = 4ABC.
        assert_eq!(t.eax(), 0x4ABC);
    }

    #[test]
    fn shld_by_one_sets_of_on_sign_change() {
        let mut t = T::new();
        t.cpu.regs.gpr[gpr::EAX] = 0x4000;
        t.cpu.regs.gpr[gpr::EBX] = 0x8000;
        t.run(&[0x0F, 0xA4, 0xD8, 1]).unwrap(); // shld ax, bx, 1
        assert_eq!(t.eax(), 0x8001);
        assert_eq!(t.flags(), FLAG_OF | FLAG_SF);
    }
}
