//! Conversions between registers and the memory formats: IEEE single and
//! double (FLD/FST m32/m64 and the m32/m64 arithmetic forms) and two's
//! complement integers (FILD/FIST m16/m32/m64, the FI* arithmetic forms).
//!
//! Widening is exact. A denormal source raises DE; an SNaN source is kept
//! signalling here, so an arithmetic instruction sees it as an SNaN
//! operand (FLD quiets it and raises IE itself). Narrowing rounds with
//! [`round`](super::round::round) in the destination format, with rounding
//! control but without precision control (SDM Vol. 1, 8.1.5.2).
//!
//! Example: `from_f32(0x3F80_0000)` is `(F80::ONE, 0)`.

use super::arith::Ctl;
use super::float80::{Class, BIAS, F80, J_BIT};
use super::integral::{from_u64, round_to_int};
use super::round::{round64, Format, Rc, Rounded};
use super::{C1, DE, IE, PE};

/// A value narrowed for a memory store: its bit pattern, the status bits
/// raised, and whether anything may be stored (false for an unmasked
/// overflow or underflow; unmasked IE/DE is decided by the caller).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Narrow {
    /// Bits to store (low 16/32/64 as the format needs).
    pub bits: u64,
    /// IE/DE/OE/UE/PE and C1.
    pub flags: u16,
    /// Stores are allowed as far as over/underflow are concerned.
    pub store: bool,
}

/// Widen an IEEE binary format with `fbits` fraction bits and `ebits`
/// exponent bits.
fn widen(bits: u64, fbits: u32, ebits: u32) -> (F80, u16) {
    let sign = bits >> (fbits + ebits) & 1 != 0;
    let emax = (1u64 << ebits) - 1;
    let e = (bits >> fbits) & emax;
    let frac = bits & ((1u64 << fbits) - 1);
    let fbias = (1i32 << (ebits - 1)) - 1;
    if e == emax {
        // ∞ or NaN: the fraction goes to the top of the significand.
        return (F80::new(sign, 0x7FFF, J_BIT | frac << (63 - fbits)), 0);
    }
    if e == 0 {
        if frac == 0 {
            return (F80::zero(sign), 0);
        }
        // value = frac * 2^(1 - fbias - fbits)
        let lz = frac.leading_zeros() as i32;
        let exp = 1 - fbias - fbits as i32 + BIAS + 63 - lz;
        return (F80::new(sign, exp as u16, frac << lz), DE);
    }
    let exp = e as i32 - fbias + BIAS;
    (F80::new(sign, exp as u16, J_BIT | frac << (63 - fbits)), 0)
}

/// An IEEE single as a register value (exact; SNaNs stay signalling).
pub fn from_f32(bits: u32) -> (F80, u16) {
    widen(u64::from(bits), 23, 8)
}

/// An IEEE double as a register value (exact; SNaNs stay signalling).
pub fn from_f64(bits: u64) -> (F80, u16) {
    widen(bits, 52, 11)
}

/// Narrow to an IEEE binary format (`fbits` fraction bits).
fn narrow(v: F80, fmt: Format, fbits: u32, ebits: u32, ctl: Ctl) -> Narrow {
    let sign_bit = 1u64 << (fbits + ebits);
    let emax = (1u64 << ebits) - 1;
    let s = if v.sign() { sign_bit } else { 0 };
    let inf = s | emax << fbits;
    let ok = |bits, flags| Narrow {
        bits,
        flags,
        store: true,
    };
    match v.class() {
        Class::Unsupported => ok(sign_bit | emax << fbits | 1 << (fbits - 1), IE),
        Class::SNan | Class::QNan => {
            let flags = if v.class() == Class::SNan { IE } else { 0 };
            let frac = (v.sig >> (63 - fbits)) & ((1 << fbits) - 1);
            ok(inf | frac | 1 << (fbits - 1), flags)
        }
        Class::Infinity => ok(inf, 0),
        Class::Zero => ok(s, 0),
        Class::Normal | Class::Denormal => {
            // No DE here: FST does not report denormal sources (SDM: FST).
            let (sg, e, m) = v.unpack().unwrap_or_default();
            let r = round64(sg, e, m, fmt, ctl.rc, ctl.masks);
            Narrow {
                bits: encode(r, fbits, ebits, s, inf),
                flags: r.flags,
                store: r.store,
            }
        }
    }
}

fn encode(r: Rounded, fbits: u32, ebits: u32, s: u64, inf: u64) -> u64 {
    if r.is_infinite() {
        return inf;
    }
    let frac = r.sig >> (63 - fbits);
    if r.sig & J_BIT == 0 {
        return s | frac;
    }
    let fbias = (1i32 << (ebits - 1)) - 1;
    let e = (r.exp - BIAS + fbias) as u64;
    s | e << fbits | (frac & ((1 << fbits) - 1))
}

/// FST m32: narrow to IEEE single.
pub fn to_f32(v: F80, ctl: Ctl) -> Narrow {
    narrow(v, Format::SINGLE, 23, 8, ctl)
}

/// FST m64: narrow to IEEE double.
pub fn to_f64(v: F80, ctl: Ctl) -> Narrow {
    narrow(v, Format::DOUBLE, 52, 11, ctl)
}

/// FILD: an integer as a register value (always exact).
pub fn from_int(v: i64) -> F80 {
    from_u64(v < 0, v.unsigned_abs())
}

/// The integer indefinite of a `bits`-wide integer: only the sign bit set.
pub const fn int_indefinite(bits: u32) -> u64 {
    1 << (bits - 1)
}

/// FIST: round to a `bits`-wide (16, 32, 64) integer under `rc`. Out of
/// range, NaN, ∞ and unsupported values raise IE and give the integer
/// indefinite. The result is in the low `bits` bits.
pub fn to_int(v: F80, bits: u32, rc: Rc) -> Narrow {
    let invalid = Narrow {
        bits: int_indefinite(bits),
        flags: IE,
        store: true,
    };
    match v.class() {
        Class::Unsupported | Class::SNan | Class::QNan | Class::Infinity => invalid,
        Class::Zero => Narrow {
            bits: 0,
            flags: 0,
            store: true,
        },
        Class::Normal | Class::Denormal => {
            let Some((s, mag, inexact, up)) = round_to_int(v, rc) else {
                return invalid;
            };
            let limit = 1u128 << (bits - 1);
            if (s && mag > limit) || (!s && mag >= limit) {
                return invalid;
            }
            let val = if s {
                (mag as u64).wrapping_neg()
            } else {
                mag as u64
            };
            let mask = if bits == 64 {
                u64::MAX
            } else {
                (1 << bits) - 1
            };
            let flags = (if inexact { PE } else { 0 }) | (if up { C1 } else { 0 });
            Narrow {
                bits: val & mask,
                flags,
                store: true,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fpu::{OE, UE};

    const C: Ctl = Ctl::DEFAULT;

    #[test]
    fn widen_single_and_double() {
        assert_eq!(from_f32(0x3F80_0000), (F80::ONE, 0));
        assert_eq!(from_f64(0x3FF0_0000_0000_0000), (F80::ONE, 0));
        assert_eq!(from_f32(0xFF80_0000), (F80::infinity(true), 0));
        // Smallest single denormal 2^-149.
        assert_eq!(
            from_f32(1),
            (F80::new(false, (BIAS - 149) as u16, J_BIT), DE)
        );
        // An SNaN stays signalling.
        assert_eq!(from_f32(0x7F80_0001).0.class(), Class::SNan);
    }

    #[test]
    fn narrow_rounds_and_flags() {
        let third = F80::from_bits(0x3FFD_AAAA_AAAA_AAAA_AAAB);
        let n = to_f32(third, C);
        assert_eq!(n.bits, 0x3EAA_AAAB);
        assert_eq!(n.flags, PE | C1);
        assert_eq!(to_f64(third, C).bits, 0x3FD5_5555_5555_5555);
        assert_eq!(to_f32(F80::INDEFINITE, C).bits, 0xFFC0_0000);
        assert_eq!(to_f64(F80::INDEFINITE, C).bits, 0xFFF8_0000_0000_0000);
        let big = F80::from_bits(0x7000_8000_0000_0000_0000);
        let n = to_f32(big, C);
        assert_eq!((n.bits, n.flags & (OE | PE)), (0x7F80_0000, OE | PE));
        let tiny = F80::from_bits(0x3BB3_8000_0000_0000_0001);
        let n = to_f64(tiny, C);
        assert_eq!((n.bits, n.flags & (UE | PE)), (0, UE | PE));
    }

    #[test]
    fn integers() {
        assert_eq!(from_int(-1), F80::ONE.neg());
        assert_eq!(
            from_int(i64::MIN),
            F80::new(true, (BIAS + 63) as u16, J_BIT)
        );
        let two_and_half = F80::from_bits(0x4000_A000_0000_0000_0000);
        assert_eq!(to_int(two_and_half, 16, Rc::Nearest).bits, 2);
        assert_eq!(to_int(two_and_half.neg(), 16, Rc::Down).bits, 0xFFFD);
        assert_eq!(
            to_int(from_int(40000), 16, Rc::Nearest),
            Narrow {
                bits: 0x8000,
                flags: IE,
                store: true
            }
        );
        assert_eq!(to_int(from_int(-32768), 16, Rc::Nearest).bits, 0x8000);
        assert_eq!(to_int(from_int(i64::MIN), 64, Rc::Nearest).flags, 0);
    }
}
