//! The one place a result is rounded: from an exact (or sticky-bit
//! truncated) 128-bit significand to a destination format, with the x87's
//! rounding control, precision control, denormalization, overflow and
//! underflow rules.
//!
//! Rules implemented (Intel SDM Vol. 1, 4.8.4 and 4.9.1.4-4.9.1.6, 8.1.5):
//! - The result is first rounded to `prec` significand bits as if the
//!   exponent were unbounded; C1 reports whether that rounding incremented
//!   the significand ("rounded up", in magnitude).
//! - Tininess is detected *after* rounding: a result is tiny when the
//!   rounded, unbounded-exponent value is below the smallest normal.
//! - Masked underflow: the exact value is denormalized and rounded again at
//!   the same bit positions; UE is set only if that loses bits (with PE).
//! - Unmasked underflow (register destinations): the rounded result's
//!   exponent is increased by 24576 (0x6000) and UE is set even if exact.
//! - Masked overflow: ±∞ or ±largest finite per the rounding mode, OE+PE.
//! - Unmasked overflow (register destinations): exponent decreased by 24576.
//! - If even the re-biased exponent is out of range (only FSCALE gets
//!   there), the result is ±∞ (OE) or ±0 (UE) whatever the rounding mode.
//! - Memory destinations with the exception unmasked store nothing and
//!   report only OE or UE (observed: no PE).
//!
//! Example: rounding 1 + 2^-64 (sig bit 127 and bit 63 set) to 64 bits
//! under round-to-nearest gives 1.0 with PE set and C1 clear.

use super::float80::{BIAS, EXP_SPECIAL, F80, J_BIT};
use super::{C1, OE, PE, UE};

/// The rounding-control field (CW bits 11-10).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rc {
    /// 00: to nearest, ties to even.
    Nearest,
    /// 01: toward −∞.
    Down,
    /// 10: toward +∞.
    Up,
    /// 11: toward zero.
    Zero,
}

impl Rc {
    /// From the control word.
    pub fn from_cw(cw: u16) -> Rc {
        match (cw >> 10) & 3 {
            0 => Rc::Nearest,
            1 => Rc::Down,
            2 => Rc::Up,
            _ => Rc::Zero,
        }
    }
}

/// A destination format: significand precision and normal exponent range,
/// with exponents in the extended format's biased terms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Format {
    /// Significand bits, including the integer bit (24, 53 or 64).
    pub prec: u32,
    /// Smallest normal biased exponent.
    pub emin: i32,
    /// Largest finite biased exponent.
    pub emax: i32,
    /// A register (unmasked over/underflow store a re-biased result) rather
    /// than memory (unmasked over/underflow store nothing).
    pub register: bool,
}

impl Format {
    /// A register with the given precision control (24, 53 or 64 bits).
    pub const fn register(prec: u32) -> Format {
        Format {
            prec,
            emin: 1,
            emax: 0x7FFE,
            register: true,
        }
    }
    /// A register at full precision.
    pub const EXTENDED: Format = Format::register(64);
    /// IEEE single in memory (exponents −126..127).
    pub const SINGLE: Format = Format {
        prec: 24,
        emin: BIAS - 126,
        emax: BIAS + 127,
        register: false,
    };
    /// IEEE double in memory (exponents −1022..1023).
    pub const DOUBLE: Format = Format {
        prec: 53,
        emin: BIAS - 1022,
        emax: BIAS + 1023,
        register: false,
    };
}

/// The exponent adjustment applied to results when overflow or underflow
/// is unmasked (SDM Vol. 1, 8.5.4 and 8.5.5: "bias adjust" 24576).
pub const BIAS_ADJUST: i32 = 0x6000;

/// A rounded result in an extended-like form: the value is
/// `sig * 2^(exp - BIAS - 63)`, with `sig` holding at most `prec` bits at
/// its top. A denormal has `exp == emin` and J clear; zero has `sig == 0`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rounded {
    /// Sign.
    pub sign: bool,
    /// Biased exponent (extended bias), may be out of the format's range only
    /// for infinities.
    pub exp: i32,
    /// Significand, J at bit 63 unless denormal or zero.
    pub sig: u64,
    /// Status-word bits raised: PE, UE, OE, and C1 (rounded up).
    pub flags: u16,
    /// False when an unmasked over/underflow suppresses a memory store.
    pub store: bool,
}

impl Rounded {
    /// As an extended register value (exponent field 0 for denormals).
    pub fn to_f80(self) -> F80 {
        if self.exp >= i32::from(EXP_SPECIAL) {
            return F80::infinity(self.sign);
        }
        if self.sig & J_BIT == 0 {
            return F80::new(self.sign, 0, self.sig);
        }
        F80::new(self.sign, self.exp as u16, self.sig)
    }

    /// Is ±∞ (a masked overflow rounded to infinity).
    pub fn is_infinite(self) -> bool {
        self.exp >= i32::from(EXP_SPECIAL)
    }
}

/// Round a significand at bit `shift`: returns (kept bits + increment,
/// inexact, incremented).
#[inline]
fn round_bits(sign: bool, sig: u128, shift: u32, rc: Rc) -> (u128, bool, bool) {
    let kept = sig >> shift;
    let rem = sig & ((1u128 << shift) - 1);
    let half = 1u128 << (shift - 1);
    let inc = match rc {
        Rc::Nearest => rem > half || (rem == half && kept & 1 == 1),
        Rc::Up => !sign && rem != 0,
        Rc::Down => sign && rem != 0,
        Rc::Zero => false,
    };
    (kept + u128::from(inc), rem != 0, inc)
}

/// Shift right, ORing the lost bits into bit 0 (a "sticky" shift).
#[inline]
pub fn shr_sticky(v: u128, n: u32) -> u128 {
    if n == 0 {
        v
    } else if n >= 128 {
        u128::from(v != 0)
    } else {
        (v >> n) | u128::from(v & ((1u128 << n) - 1) != 0)
    }
}

/// Round the value `sig * 2^(exp - BIAS - 127)` (so a `sig` with bit 127
/// set is `1.xxx * 2^(exp - BIAS)`) to `fmt`. Bits below the 128 must
/// already be folded into bit 0 as a sticky bit. `masks` is the control
/// word's exception-mask bits (only UM and OM matter here).
pub fn round(sign: bool, exp: i32, sig: u128, fmt: Format, rc: Rc, masks: u16) -> Rounded {
    if sig == 0 {
        return Rounded {
            sign,
            exp: 0,
            sig: 0,
            flags: 0,
            store: true,
        };
    }
    let lz = sig.leading_zeros();
    let sig = sig << lz;
    let exp = exp - lz as i32;
    let p = fmt.prec;
    let (m, inexact, up) = round_bits(sign, sig, 128 - p, rc);
    let (m, e) = if m >> p != 0 {
        (m >> 1, exp + 1)
    } else {
        (m, exp)
    };
    let flag_bits =
        |inexact: bool, up: bool| (if inexact { PE } else { 0 }) | (if up { C1 } else { 0 });

    if e < fmt.emin {
        // Tiny after rounding.
        if masks & UE == 0 {
            if !fmt.register {
                return Rounded {
                    sign,
                    exp: e,
                    sig: 0,
                    flags: UE,
                    store: false,
                };
            }
            if e + BIAS_ADJUST < fmt.emin {
                // Too small even re-biased (FSCALE can do this): a zero.
                return Rounded {
                    sign,
                    exp: 0,
                    sig: 0,
                    flags: UE | PE,
                    store: true,
                };
            }
            let mut r = round(sign, exp + BIAS_ADJUST, sig, fmt, rc, masks | UE);
            r.flags |= UE;
            return r;
        }
        let shift = (fmt.emin - exp) as u32;
        let s = shr_sticky(sig, shift);
        let (m, inexact, up) = round_bits(sign, s, 128 - p, rc);
        let flags = flag_bits(inexact, up) | if inexact { UE } else { 0 };
        // m < 2^p; a carry into bit p-1 makes it the smallest normal.
        return Rounded {
            sign,
            exp: fmt.emin,
            sig: (m << (64 - p)) as u64,
            flags,
            store: true,
        };
    }
    if e > fmt.emax {
        if masks & OE == 0 {
            if !fmt.register {
                return Rounded {
                    sign,
                    exp: e,
                    sig: 0,
                    flags: OE,
                    store: false,
                };
            }
            if e - BIAS_ADJUST > fmt.emax {
                // Too large even re-biased (FSCALE can do this): infinity.
                return Rounded {
                    sign,
                    exp: i32::from(EXP_SPECIAL),
                    sig: J_BIT,
                    flags: OE | PE | C1,
                    store: true,
                };
            }
            let mut r = round(sign, exp - BIAS_ADJUST, sig, fmt, rc, masks | OE);
            r.flags |= OE;
            return r;
        }
        let to_inf = match rc {
            Rc::Nearest => true,
            Rc::Zero => false,
            Rc::Up => !sign,
            Rc::Down => sign,
        };
        if to_inf {
            return Rounded {
                sign,
                exp: i32::from(EXP_SPECIAL),
                sig: J_BIT,
                flags: OE | PE | C1,
                store: true,
            };
        }
        let max = (u64::MAX >> (64 - p)) << (64 - p);
        return Rounded {
            sign,
            exp: fmt.emax,
            sig: max,
            flags: OE | PE,
            store: true,
        };
    }
    Rounded {
        sign,
        exp: e,
        sig: (m << (64 - p)) as u64,
        flags: flag_bits(inexact, up),
        store: true,
    }
}

/// Round an exact 64-bit significand value `sig * 2^(exp - BIAS - 63)`.
#[inline]
pub fn round64(sign: bool, exp: i32, sig: u64, fmt: Format, rc: Rc, masks: u16) -> Rounded {
    round(sign, exp, u128::from(sig) << 64, fmt, rc, masks)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL_MASKED: u16 = 0x3F;
    const ONE: u128 = 1 << 127;

    #[test]
    fn exact_values_pass_through() {
        let r = round(
            false,
            0x3FFF,
            ONE,
            Format::EXTENDED,
            Rc::Nearest,
            ALL_MASKED,
        );
        assert_eq!(r.to_f80(), F80::ONE);
        assert_eq!(r.flags, 0);
    }

    #[test]
    fn ties_go_to_even_and_c1_reports_increment() {
        // 1 + 2^-64: exactly half an ulp above 1.0 -> stays 1.0.
        let r = round(
            false,
            0x3FFF,
            ONE | 1 << 63,
            Format::EXTENDED,
            Rc::Nearest,
            ALL_MASKED,
        );
        assert_eq!(r.to_f80(), F80::ONE);
        assert_eq!(r.flags, PE);
        // 1 + 2^-63 + 2^-64: half above an odd significand -> rounds up.
        let r = round(
            false,
            0x3FFF,
            ONE | 1 << 64 | 1 << 63,
            Format::EXTENDED,
            Rc::Nearest,
            ALL_MASKED,
        );
        assert_eq!(r.sig, J_BIT | 2);
        assert_eq!(r.flags, PE | C1);
        // Toward -inf on a negative number increments the magnitude.
        let r = round(
            true,
            0x3FFF,
            ONE | 1,
            Format::EXTENDED,
            Rc::Down,
            ALL_MASKED,
        );
        assert_eq!(r.sig, J_BIT | 1);
        assert_eq!(r.flags, PE | C1);
    }

    #[test]
    fn precision_control_rounds_at_bit_24() {
        // 1 + 2^-24 under PC=24: exactly half, even -> 1.0.
        let r = round(
            false,
            0x3FFF,
            ONE | 1 << 103,
            Format::register(24),
            Rc::Nearest,
            ALL_MASKED,
        );
        assert_eq!(r.to_f80(), F80::ONE);
        let r = round(
            false,
            0x3FFF,
            ONE | 1 << 103,
            Format::register(24),
            Rc::Up,
            ALL_MASKED,
        );
        assert_eq!(r.sig, J_BIT | 1 << 40);
    }

    #[test]
    fn masked_overflow_depends_on_rounding_mode() {
        let big = 0x7FFF;
        assert_eq!(
            round(false, big, ONE, Format::EXTENDED, Rc::Nearest, ALL_MASKED).to_f80(),
            F80::INFINITY
        );
        let r = round(false, big, ONE, Format::EXTENDED, Rc::Zero, ALL_MASKED);
        assert_eq!(r.to_f80(), F80::new(false, 0x7FFE, u64::MAX));
        assert_eq!(r.flags, OE | PE);
        let r = round(true, big, ONE, Format::EXTENDED, Rc::Up, ALL_MASKED);
        assert_eq!(r.to_f80(), F80::new(true, 0x7FFE, u64::MAX));
    }

    #[test]
    fn unmasked_overflow_rebiases_register_results() {
        let r = round(
            false,
            0x7FFF,
            ONE,
            Format::EXTENDED,
            Rc::Nearest,
            ALL_MASKED & !OE,
        );
        assert_eq!(r.to_f80(), F80::new(false, 0x7FFF - 0x6000, J_BIT));
        assert_eq!(r.flags, OE);
        let r = round(
            false,
            0x7FFF,
            ONE,
            Format::DOUBLE,
            Rc::Nearest,
            ALL_MASKED & !OE,
        );
        assert!(!r.store);
    }

    #[test]
    fn masked_underflow_denormalizes_and_flags_only_when_inexact() {
        // 2^-16383 = exponent 0 -> the denormal 0x4000...
        let r = round(false, 0, ONE, Format::EXTENDED, Rc::Nearest, ALL_MASKED);
        assert_eq!(r.to_f80(), F80::new(false, 0, 1 << 62));
        assert_eq!(r.flags, 0);
        // 1.5 * 2^-16445 -> 2 * min denormal (tie to even), UE|PE|C1.
        let r = round(
            false,
            1 - 63,
            ONE | 1 << 126,
            Format::EXTENDED,
            Rc::Nearest,
            ALL_MASKED,
        );
        assert_eq!(r.to_f80(), F80::new(false, 0, 2));
        assert_eq!(r.flags, UE | PE | C1);
    }

    #[test]
    fn unmasked_underflow_rebiases_even_when_exact() {
        let r = round(
            false,
            0,
            ONE,
            Format::EXTENDED,
            Rc::Nearest,
            ALL_MASKED & !UE,
        );
        assert_eq!(r.to_f80(), F80::new(false, 0x6000, J_BIT));
        assert_eq!(r.flags, UE);
    }

    #[test]
    fn single_format_denormal() {
        // 2^-149 is the smallest single denormal.
        let r = round(
            false,
            BIAS - 149,
            ONE,
            Format::SINGLE,
            Rc::Nearest,
            ALL_MASKED,
        );
        assert_eq!(r.exp, Format::SINGLE.emin);
        assert_eq!(r.sig, 1 << 40);
        assert_eq!(r.flags, 0);
    }
}
