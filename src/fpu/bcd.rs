//! The 80-bit packed BCD integer format of FBLD/FBSTP (SDM Vol. 1, 4.7):
//! bytes 0-8 hold 18 decimal digits, two per byte, least significant
//! first (low nibble = lower digit); byte 9 bit 7 is the sign, bits 6-0 are
//! ignored on load and written as 0.
//!
//! Example: +1234 is `34 12 00 00 00 00 00 00 00 00`.

use super::float80::{Class, F80};
use super::integral::{from_u64, round_to_int};
use super::round::Rc;
use super::{C1, IE, PE};

/// The packed BCD indefinite FBSTP stores for a masked invalid operation:
/// FFFF C000 0000 0000 0000h (SDM Vol. 1, Table 4-4).
pub const BCD_INDEFINITE: [u8; 10] = [0, 0, 0, 0, 0, 0, 0, 0xC0, 0xFF, 0xFF];

/// Largest magnitude FBSTP can store: 18 nines.
pub const BCD_MAX: u64 = 999_999_999_999_999_999;

/// FBLD: decode a packed BCD value (exact). Digits above 9 are undefined
/// on Intel hardware; here each nibble simply counts with its value.
pub fn from_bcd(b: [u8; 10]) -> F80 {
    let mut v: u64 = 0;
    for &byte in b[..9].iter().rev() {
        v = v * 100 + u64::from(byte >> 4) * 10 + u64::from(byte & 0xF);
    }
    from_u64(b[9] & 0x80 != 0, v)
}

/// FBSTP: round to an integer under `rc` and encode; returns the bytes and
/// the status bits (IE for NaN, ∞, unsupported or more than 18 digits,
/// with the BCD indefinite; PE and C1 for rounding).
pub fn to_bcd(v: F80, rc: Rc) -> ([u8; 10], u16) {
    let (sign, mag, flags) = match v.class() {
        Class::Unsupported | Class::SNan | Class::QNan | Class::Infinity => {
            return (BCD_INDEFINITE, IE)
        }
        Class::Zero => (v.sign(), 0u128, 0),
        _ => match round_to_int(v, rc) {
            Some((s, m, inexact, up)) => (
                s,
                m,
                (if inexact { PE } else { 0 }) | (if up { C1 } else { 0 }),
            ),
            None => return (BCD_INDEFINITE, IE),
        },
    };
    if mag > u128::from(BCD_MAX) {
        return (BCD_INDEFINITE, IE);
    }
    let mut m = mag as u64;
    let mut out = [0u8; 10];
    for byte in out.iter_mut().take(9) {
        let lo = (m % 10) as u8;
        m /= 10;
        let hi = (m % 10) as u8;
        m /= 10;
        *byte = hi << 4 | lo;
    }
    out[9] = if sign { 0x80 } else { 0 };
    (out, flags)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fpu::convert::from_int;

    #[test]
    fn decode_and_encode() {
        let b = [0x34, 0x12, 0, 0, 0, 0, 0, 0, 0, 0x80];
        assert_eq!(from_bcd(b), from_int(-1234));
        assert_eq!(to_bcd(from_int(-1234), Rc::Nearest), (b, 0));
        let max = [0x99; 9];
        let mut all = [0u8; 10];
        all[..9].copy_from_slice(&max);
        assert_eq!(from_bcd(all), from_int(BCD_MAX as i64));
        assert_eq!(
            to_bcd(from_int(BCD_MAX as i64 + 1), Rc::Nearest),
            (BCD_INDEFINITE, IE)
        );
    }

    #[test]
    fn rounding_and_negative_zero() {
        let half = F80::from_bits(0x3FFE_8000_0000_0000_0000);
        assert_eq!(to_bcd(half.neg(), Rc::Nearest).0[9], 0x80);
        assert_eq!(
            to_bcd(half, Rc::Up),
            ([1, 0, 0, 0, 0, 0, 0, 0, 0, 0], PE | C1)
        );
    }
}
