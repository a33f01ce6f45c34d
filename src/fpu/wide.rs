//! A 128-bit-significand binary float used only inside the transcendental
//! instructions, so their results carry about 120 good bits before the one
//! final rounding to 64 (SDM Vol. 1, 8.3.10 allows < 1 ulp of error; a
//! correctly rounded result satisfies that).
//!
//! Every operation truncates and ORs the discarded bits into bit 0 (a
//! sticky bit), so an inexact intermediate never looks exact and results
//! that are exact (e.g. log2 of a power of two) stay exact. The exponent is
//! an `i32`, so nothing over- or underflows in the middle of a series.
//!
//! Example: `Wide::from_u64(1).div(Wide::from_u64(3))` is 1/3 to 128 bits.

use super::float80::{BIAS, F80};
use super::round::{round, Format, Rc, Rounded};

/// `(-1)^neg * sig * 2^(exp - 127)`, `sig` normalized (bit 127 set) or 0.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Wide {
    /// Sign.
    pub neg: bool,
    /// Exponent of the significand's top bit.
    pub exp: i32,
    /// Significand with the binary point after bit 127.
    pub sig: u128,
}

/// Full 128×128 → 256-bit product as (high, low).
pub fn mul_wide(a: u128, b: u128) -> (u128, u128) {
    let (a1, a0) = (a >> 64, a & u128::from(u64::MAX));
    let (b1, b0) = (b >> 64, b & u128::from(u64::MAX));
    let p00 = a0 * b0;
    let p01 = a0 * b1;
    let p10 = a1 * b0;
    let p11 = a1 * b1;
    let mid = (p00 >> 64) + (p01 & u128::from(u64::MAX)) + (p10 & u128::from(u64::MAX));
    let lo = (p00 & u128::from(u64::MAX)) | (mid << 64);
    let hi = p11 + (p01 >> 64) + (p10 >> 64) + (mid >> 64);
    (hi, lo)
}

// Named methods rather than `std::ops` impls: each rounds by truncation
// with a sticky bit, which is not what `+`, `*` ... promise for a number type.
#[allow(clippy::should_implement_trait)]
impl Wide {
    /// Zero.
    pub const ZERO: Wide = Wide {
        neg: false,
        exp: 0,
        sig: 0,
    };
    /// One.
    pub const ONE: Wide = Wide {
        neg: false,
        exp: 0,
        sig: 1 << 127,
    };

    /// Normalize an arbitrary significand.
    pub fn new(neg: bool, exp: i32, sig: u128) -> Wide {
        if sig == 0 {
            return Wide {
                neg,
                exp: 0,
                sig: 0,
            };
        }
        let lz = sig.leading_zeros();
        Wide {
            neg,
            exp: exp - lz as i32,
            sig: sig << lz,
        }
    }

    /// An exact small integer.
    pub fn from_u64(n: u64) -> Wide {
        Wide::new(false, 127, u128::from(n))
    }

    /// An exact signed integer.
    pub fn from_i64(n: i64) -> Wide {
        Wide::new(n < 0, 127, u128::from(n.unsigned_abs()))
    }

    /// A finite register value, exactly (zero for anything else).
    pub fn from_f80(v: F80) -> Wide {
        match v.unpack() {
            Some((s, e, m)) => Wide {
                neg: s,
                exp: e - BIAS,
                sig: u128::from(m) << 64,
            },
            None => Wide {
                neg: v.sign(),
                ..Wide::ZERO
            },
        }
    }

    /// Is zero.
    #[inline]
    pub fn is_zero(self) -> bool {
        self.sig == 0
    }

    /// Negated.
    #[inline]
    pub fn neg(self) -> Wide {
        Wide {
            neg: !self.neg,
            ..self
        }
    }

    /// Absolute value.
    #[inline]
    pub fn abs(self) -> Wide {
        Wide { neg: false, ..self }
    }

    /// Times 2^k (exact).
    #[inline]
    pub fn scale(self, k: i32) -> Wide {
        if self.is_zero() {
            self
        } else {
            Wide {
                exp: self.exp + k,
                ..self
            }
        }
    }

    /// |self| < |o|.
    pub fn mag_lt(self, o: Wide) -> bool {
        if o.is_zero() {
            return false;
        }
        if self.is_zero() {
            return true;
        }
        (self.exp, self.sig) < (o.exp, o.sig)
    }

    /// self + o.
    pub fn add(self, o: Wide) -> Wide {
        if o.is_zero() {
            return self;
        }
        if self.is_zero() {
            return o;
        }
        let (a, b) = if self.mag_lt(o) { (o, self) } else { (self, o) };
        let d = (a.exp - b.exp) as u32;
        // Split b at the shift: the kept bits and whether anything was lost.
        let split = |n: u32| -> (u128, bool) {
            if n >= 128 {
                (0, b.sig != 0)
            } else {
                (b.sig >> n, b.sig & ((1u128 << n) - 1) != 0)
            }
        };
        if a.neg == b.neg {
            let (y, lost_b) = split(d.saturating_add(1));
            let lost = a.sig & 1 != 0 || lost_b;
            Wide::new(a.neg, a.exp + 1, ((a.sig >> 1) + y) | u128::from(lost))
        } else {
            // a.sig - b.sig * 2^-d, with the lost fraction borrowed from the
            // kept part and shown again as a sticky bit.
            let (y, lost) = split(d);
            let diff = a.sig - y - u128::from(lost);
            Wide::new(a.neg, a.exp, diff | u128::from(lost))
        }
    }

    /// self − o.
    #[inline]
    pub fn sub(self, o: Wide) -> Wide {
        self.add(o.neg())
    }

    /// self × o.
    pub fn mul(self, o: Wide) -> Wide {
        let neg = self.neg != o.neg;
        if self.is_zero() || o.is_zero() {
            return Wide { neg, ..Wide::ZERO };
        }
        let (hi, lo) = mul_wide(self.sig, o.sig);
        let e = self.exp + o.exp + 1;
        if hi >> 127 != 0 {
            Wide {
                neg,
                exp: e,
                sig: hi | u128::from(lo != 0),
            }
        } else {
            let sig = (hi << 1) | (lo >> 127) | u128::from(lo << 1 != 0);
            Wide {
                neg,
                exp: e - 1,
                sig,
            }
        }
    }

    /// self ÷ o (o nonzero).
    pub fn div(self, o: Wide) -> Wide {
        let neg = self.neg != o.neg;
        if self.is_zero() || o.is_zero() {
            return Wide { neg, ..Wide::ZERO };
        }
        let b = o.sig;
        let mut r = self.sig;
        let iters = if r >= b { 128 } else { 129 };
        let mut q = 0u128;
        let mut carry = false;
        for _ in 0..iters {
            let bit = carry || r >= b;
            if bit {
                r = r.wrapping_sub(b);
            }
            q = (q << 1) | u128::from(bit);
            carry = r >> 127 != 0;
            r <<= 1;
        }
        let e = self.exp - o.exp - (iters - 128);
        // The remainder (shifted once more) is nonzero if either part is.
        Wide {
            neg,
            exp: e,
            sig: q | u128::from(r != 0 || carry),
        }
    }

    /// self ÷ n for a small positive integer n.
    pub fn div_small(self, n: u64) -> Wide {
        if self.is_zero() {
            return self;
        }
        let n = u128::from(n);
        let (q1, r1) = (self.sig / n, self.sig % n);
        let (q2, r2) = ((r1 << 64) / n, (r1 << 64) % n);
        let lz = q1.leading_zeros();
        let sig = if lz == 0 {
            q1 | u128::from(q2 != 0 || r2 != 0)
        } else {
            (q1 << lz) | (q2 >> (64 - lz)) | u128::from(q2 << (64 + lz) != 0 || r2 != 0)
        };
        Wide {
            neg: self.neg,
            exp: self.exp - lz as i32,
            sig,
        }
    }

    /// √self for self ≥ 0: Newton's method from a 64-bit start.
    pub fn sqrt(self) -> Wide {
        if self.is_zero() {
            return self;
        }
        // Start: the integer square root of the significand (64 good bits).
        let t = self.exp - 127;
        let mut y = if t.rem_euclid(2) == 0 {
            Wide::new(false, 127 + t / 2, super::arith::isqrt(self.sig).0)
        } else {
            Wide::new(
                false,
                127 + (t + 1) / 2,
                super::arith::isqrt(self.sig >> 1).0,
            )
        };
        for _ in 0..2 {
            y = y.add(self.div(y)).scale(-1);
        }
        y
    }

    /// Round to a register or memory format.
    pub fn round(self, fmt: Format, rc: Rc, masks: u16) -> Rounded {
        round(self.neg, self.exp + BIAS, self.sig, fmt, rc, masks)
    }

    /// Round to an extended register value (masked exceptions), for tests.
    pub fn to_f80(self) -> F80 {
        self.round(Format::EXTENDED, Rc::Nearest, 0x3F).to_f80()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn product_and_quotient() {
        let third = Wide::ONE.div(Wide::from_u64(3));
        assert_eq!(third.to_f80(), F80::from_bits(0x3FFD_AAAA_AAAA_AAAA_AAAB));
        assert_eq!(third.mul(Wide::from_u64(3)).to_f80(), F80::ONE);
        assert_eq!(Wide::ONE.div_small(3), third);
        assert_eq!(
            Wide::from_u64(6).mul(Wide::from_u64(7)).to_f80(),
            super::super::convert::from_int(42)
        );
    }

    #[test]
    fn sums_keep_sticky_bits() {
        let tiny = Wide::ONE.scale(-200);
        let r = Wide::ONE.sub(tiny);
        assert!(r.mag_lt(Wide::ONE));
        assert_eq!(
            r.round(Format::EXTENDED, Rc::Zero, 0x3F).to_f80(),
            F80::from_bits(0x3FFE_FFFF_FFFF_FFFF_FFFF)
        );
    }

    #[test]
    fn square_root() {
        let r = Wide::from_u64(2).sqrt();
        assert_eq!(r.to_f80(), F80::from_bits(0x3FFF_B504_F333_F9DE_6484));
        let r = Wide::from_u64(9).sqrt();
        assert_eq!(r.to_f80(), super::super::convert::from_int(3));
    }
}
