//! The integer-valued x87 operations: rounding to an integer (FRNDINT,
//! and the FIST/FBSTP conversions' core), FSCALE, FXTRACT and the partial
//! remainders FPREM/FPREM1. All are exact except where a result must be
//! rounded to an integer or over/underflows.
//!
//! Example: `prem(7.0, 2.0, false, ctl)` is 1.0 with quotient bits 011
//! (C0=0, C3=1, C1=1).

use super::arith::{check1, check2, reround, Ctl, Res};
use super::float80::{Class, BIAS, F80};
use super::round::{round, round64, Format, Rc};
use super::{C0, C1, C2, C3, DE, PE, ZE};

#[inline]
fn de(c: Class) -> u16 {
    if c == Class::Denormal {
        DE
    } else {
        0
    }
}

#[inline]
fn with(mut r: Res, flags: u16) -> Res {
    r.flags |= flags;
    r
}

/// Round a finite value to an integer under `rc`: (sign, magnitude, inexact,
/// incremented). `None` for zeros and non-finite values.
pub fn round_to_int(v: F80, rc: Rc) -> Option<(bool, u128, bool, bool)> {
    let (s, e, m) = v.unpack()?;
    let fb = BIAS + 63 - e; // fraction bits in m
    if fb <= 0 {
        // Already an integer (possibly huge): magnitude m * 2^-fb.
        let sh = (-fb).min(64) as u32;
        return Some((s, u128::from(m) << sh, false, false));
    }
    let fb = fb.min(127) as u32;
    let m = u128::from(m);
    let int = m >> fb;
    let rem = m & ((1u128 << fb) - 1);
    let half = 1u128 << (fb - 1);
    let inc = match rc {
        Rc::Nearest => rem > half || (rem == half && int & 1 == 1),
        Rc::Up => !s && rem != 0,
        Rc::Down => s && rem != 0,
        Rc::Zero => false,
    };
    Some((s, int + u128::from(inc), rem != 0, inc))
}

/// An exact integer magnitude (below 2^64) as an F80.
pub fn from_u64(sign: bool, mag: u64) -> F80 {
    if mag == 0 {
        return F80::zero(sign);
    }
    let lz = mag.leading_zeros();
    F80::new(sign, (BIAS + 63 - lz as i32) as u16, mag << lz)
}

/// FRNDINT: round to an integral value under the rounding control
/// (precision control does not apply).
pub fn rndint(a: F80, ctl: Ctl) -> Res {
    if let Some(r) = check1(a) {
        return r;
    }
    match a.class() {
        Class::Zero | Class::Infinity => return Res::ok(a, 0),
        _ => {}
    }
    let d = de(a.class());
    let (_, e, _) = a.unpack().unwrap_or_default();
    if e >= BIAS + 63 {
        return Res::ok(a, d);
    }
    let (s, mag, inexact, up) = round_to_int(a, ctl.rc).unwrap_or_default();
    let flags = d | if inexact { PE } else { 0 } | if up { C1 } else { 0 };
    Res::ok(from_u64(s, mag as u64), flags)
}

/// trunc(b) as a scale count, clamped far beyond any useful range.
fn scale_count(b: F80) -> i32 {
    match b.unpack() {
        None => 0,
        Some((s, e, m)) => {
            let ue = e - BIAS;
            let mag = if ue < 0 {
                0
            } else if ue >= 20 {
                1 << 20
            } else {
                (m >> (63 - ue)) as i32
            };
            if s {
                -mag
            } else {
                mag
            }
        }
    }
}

/// FSCALE: a × 2^trunc(b), exact unless it over- or underflows.
pub fn scale(a: F80, b: F80, ctl: Ctl) -> Res {
    if let Some(r) = check2(a, b) {
        return r;
    }
    let (ca, cb) = (a.class(), b.class());
    let d = de(ca) | de(cb);
    match (ca, cb) {
        (_, Class::Infinity) => match (ca, b.sign()) {
            (Class::Infinity, true) | (Class::Zero, false) => Res::INVALID,
            (_, true) => Res::ok(F80::zero(a.sign()), d),
            (_, false) => Res::ok(F80::infinity(a.sign()), d),
        },
        (Class::Infinity, _) | (Class::Zero, _) => Res::ok(a, d),
        _ => {
            let (s, e, m) = a.unpack().unwrap_or_default();
            let r = round64(
                s,
                e + scale_count(b),
                m,
                Format::EXTENDED,
                ctl.rc,
                ctl.masks,
            );
            Res::ok(r.to_f80(), r.flags | d)
        }
    }
}

/// FXTRACT: (exponent, significand) of a; ZE for zero.
pub fn xtract(a: F80) -> (Res, Res) {
    if let Some(r) = check1(a) {
        return (r, r);
    }
    match a.class() {
        Class::Zero => (Res::ok(F80::infinity(true), ZE), Res::ok(a, ZE)),
        Class::Infinity => (Res::ok(F80::INFINITY, 0), Res::ok(a, 0)),
        c => {
            let (s, e, m) = a.unpack().unwrap_or_default();
            let x = e - BIAS;
            let ev = from_u64(x < 0, x.unsigned_abs() as u64);
            let d = de(c);
            (Res::ok(ev, d), Res::ok(F80::new(s, BIAS as u16, m), d))
        }
    }
}

/// The outcome of FPREM/FPREM1: the new ST(0), and C0..C3.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Prem {
    /// New ST(0) value and flags.
    pub res: Res,
    /// Condition codes: C2 = incomplete; else C0,C3,C1 = Q2,Q1,Q0.
    pub cc: u16,
}

/// FPREM (`ieee` false: quotient truncated) or FPREM1 (`ieee` true:
/// quotient rounded to nearest even) of a by b. When the exponents differ
/// by 64 or more only a partial reduction is done and C2 is set; the
/// reduction then removes 32 + (D mod 32) bits of quotient (the amount AMD
/// documents and Intel processors are observed to use).
pub fn prem(a: F80, b: F80, ieee: bool, ctl: Ctl) -> Prem {
    let done = |res: Res| Prem { res, cc: 0 };
    if let Some(r) = check2(a, b) {
        return done(r);
    }
    let (ca, cb) = (a.class(), b.class());
    let d = de(ca) | de(cb);
    match (ca, cb) {
        (Class::Infinity, _) | (_, Class::Zero) => return done(Res::INVALID),
        (Class::Zero, _) => return done(Res::ok(a, d)),
        // ST(0) comes back unchanged, but a pseudo-denormal is normalized.
        (_, Class::Infinity) => return done(with(reround(a, ctl, Format::EXTENDED), d)),
        _ => {}
    }
    let (sa, ea, ma) = a.unpack().unwrap_or_default();
    let (_, eb, mb) = b.unpack().unwrap_or_default();
    let dexp = ea - eb;
    let fmt = Format::EXTENDED;
    if dexp >= 64 {
        let n = 32 + dexp % 32;
        let num = u128::from(ma) << n;
        let rem = num % u128::from(mb);
        // rem * 2^(ea - n - BIAS - 63)
        let r = round(sa, ea - n, rem << 64, fmt, ctl.rc, ctl.masks);
        return Prem {
            res: Res::ok(r.to_f80(), r.flags | d),
            cc: C2,
        };
    }
    if dexp < 0 && !(ieee && dexp == -1) {
        let r = reround(a, ctl, fmt);
        return Prem {
            res: with(r, d),
            cc: 0,
        };
    }
    // num / den with the remainder's exponent e_common.
    let (num, den, e_common) = if dexp >= 0 {
        (u128::from(ma) << dexp, u128::from(mb), eb)
    } else {
        (u128::from(ma), u128::from(mb) << 1, eb - 1)
    };
    let mut q = num / den;
    let mut rem = num % den;
    let mut sign = sa;
    if ieee && (2 * rem > den || (2 * rem == den && q & 1 == 1)) {
        q += 1;
        rem = den - rem;
        sign = !sa;
    }
    let r = if rem == 0 {
        Res::ok(F80::zero(sa), 0)
    } else {
        // rem < 2^65 (den may be mb << 1); value rem * 2^(e_common - BIAS - 63).
        let rr = round(sign, e_common + 1, rem << 63, fmt, ctl.rc, ctl.masks);
        Res::ok(rr.to_f80(), rr.flags)
    };
    let cc = (if q & 4 != 0 { C0 } else { 0 })
        | (if q & 2 != 0 { C3 } else { 0 })
        | (if q & 1 != 0 { C1 } else { 0 });
    Prem {
        res: with(r, d),
        cc,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(v: u128) -> F80 {
        F80::from_bits(v)
    }
    const ONE: u128 = 0x3FFF_8000_0000_0000_0000;
    const TWO: u128 = 0x4000_8000_0000_0000_0000;
    const THREE: u128 = 0x4000_C000_0000_0000_0000;
    const C: Ctl = Ctl::DEFAULT;

    #[test]
    fn rndint_modes() {
        let x = f(0x4000_A000_0000_0000_0000); // 2.5
        assert_eq!(rndint(x, C).val, f(TWO));
        assert_eq!(rndint(x, Ctl { rc: Rc::Up, ..C }).val, f(THREE));
        assert_eq!(
            rndint(x.neg(), Ctl { rc: Rc::Down, ..C }).val,
            f(THREE).neg()
        );
        assert_eq!(
            rndint(f(0x3FFE_8000_0000_0000_0000).neg(), C).val,
            F80::zero(true)
        );
    }

    #[test]
    fn fprem_and_fprem1() {
        // 7 rem 2: FPREM -> 1 (q=3), FPREM1 -> -1 (q=4).
        let seven = f(0x4001_E000_0000_0000_0000);
        let p = prem(seven, f(TWO), false, C);
        assert_eq!(p.res.val, f(ONE));
        assert_eq!(p.cc, C3 | C1);
        let p = prem(seven, f(TWO), true, C);
        assert_eq!(p.res.val, f(ONE).neg());
        assert_eq!(p.cc, C0);
    }

    #[test]
    fn fscale_and_fxtract() {
        assert_eq!(
            scale(f(THREE), f(TWO), C).val,
            f(0x4002_C000_0000_0000_0000)
        );
        let (e, s) = xtract(f(0x4002_C000_0000_0000_0000));
        assert_eq!(e.val, f(THREE));
        assert_eq!(s.val, f(0x3FFF_C000_0000_0000_0000));
    }
}
