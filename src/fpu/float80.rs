//! The x87 80-bit double-extended-precision register format.
//!
//! Layout (Intel SDM Vol. 1, 4.2.2 and Table 4-3): bit 79 sign, bits 78-64
//! biased exponent (bias 16383), bits 63-0 the significand *including* the
//! explicit integer bit J (bit 63). Because J is explicit there are
//! encodings IEEE formats do not have; the P6 (like every x87 since the 387)
//! treats them as follows:
//!
//! | exponent | J | fraction | class |
//! |---|---|---|---|
//! | 0 | 0 | 0 | zero |
//! | 0 | 0 | ≠0 | denormal |
//! | 0 | 1 | any | pseudo-denormal: a denormal operand, valued as exponent 1 |
//! | 1..7FFE | 1 | any | normal |
//! | 1..7FFE | 0 | any | unnormal: unsupported (invalid operand) |
//! | 7FFF | 1 | 0 | infinity |
//! | 7FFF | 1 | ≠0 | NaN (bit 62 set: quiet, clear: signalling) |
//! | 7FFF | 0 | any | pseudo-infinity / pseudo-NaN: unsupported |
//!
//! Example: 1.0 is `F80 { se: 0x3FFF, sig: 0x8000_0000_0000_0000 }`.

/// Exponent bias of the extended format.
pub const BIAS: i32 = 16383;
/// All-ones exponent field: infinities and NaNs.
pub const EXP_SPECIAL: u16 = 0x7FFF;
/// The explicit integer bit J.
pub const J_BIT: u64 = 1 << 63;
/// The quiet bit of a NaN (the fraction's top bit).
pub const QUIET_BIT: u64 = 1 << 62;

/// One 80-bit register value: 64-bit significand and 16-bit sign+exponent.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct F80 {
    /// Significand, bit 63 is the explicit integer bit.
    pub sig: u64,
    /// Bit 15 sign, bits 14-0 biased exponent.
    pub se: u16,
}

/// What kind of value an [`F80`] holds (see the table in the module doc).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    /// ±0.
    Zero,
    /// A denormal or pseudo-denormal.
    Denormal,
    /// A normal finite value.
    Normal,
    /// ±∞.
    Infinity,
    /// A quiet NaN.
    QNan,
    /// A signalling NaN.
    SNan,
    /// Unnormal, pseudo-NaN or pseudo-infinity: an invalid operand.
    Unsupported,
}

impl F80 {
    /// +0.0.
    pub const ZERO: F80 = F80 { sig: 0, se: 0 };
    /// +1.0.
    pub const ONE: F80 = F80 {
        sig: J_BIT,
        se: 0x3FFF,
    };
    /// +∞.
    pub const INFINITY: F80 = F80 {
        sig: J_BIT,
        se: EXP_SPECIAL,
    };
    /// The "real indefinite" QNaN every masked invalid operation returns:
    /// negative, quiet, zero payload (SDM Vol. 1, Table 4-3).
    pub const INDEFINITE: F80 = F80 {
        sig: 0xC000_0000_0000_0000,
        se: 0xFFFF,
    };

    /// Build from sign, exponent field and significand.
    #[inline]
    pub const fn new(sign: bool, exp: u16, sig: u64) -> F80 {
        F80 {
            sig,
            se: ((sign as u16) << 15) | (exp & 0x7FFF),
        }
    }

    /// The sign bit.
    #[inline]
    pub const fn sign(self) -> bool {
        self.se & 0x8000 != 0
    }

    /// The biased exponent field.
    #[inline]
    pub const fn exp(self) -> u16 {
        self.se & 0x7FFF
    }

    /// The same value with the sign flipped (FCHS).
    #[inline]
    pub const fn neg(self) -> F80 {
        F80 {
            sig: self.sig,
            se: self.se ^ 0x8000,
        }
    }

    /// The same value with the sign cleared (FABS).
    #[inline]
    pub const fn abs(self) -> F80 {
        F80 {
            sig: self.sig,
            se: self.se & 0x7FFF,
        }
    }

    /// The same value with the given sign.
    #[inline]
    pub const fn with_sign(self, sign: bool) -> F80 {
        F80 {
            sig: self.sig,
            se: (self.se & 0x7FFF) | ((sign as u16) << 15),
        }
    }

    /// ±0.
    #[inline]
    pub const fn zero(sign: bool) -> F80 {
        F80::new(sign, 0, 0)
    }

    /// ±∞.
    #[inline]
    pub const fn infinity(sign: bool) -> F80 {
        F80::new(sign, EXP_SPECIAL, J_BIT)
    }

    /// Classify the encoding.
    pub const fn class(self) -> Class {
        let e = self.exp();
        let j = self.sig & J_BIT != 0;
        if e == 0 {
            if self.sig == 0 {
                Class::Zero
            } else {
                Class::Denormal
            }
        } else if e == EXP_SPECIAL {
            if !j {
                Class::Unsupported
            } else if self.sig << 1 == 0 {
                Class::Infinity
            } else if self.sig & QUIET_BIT != 0 {
                Class::QNan
            } else {
                Class::SNan
            }
        } else if j {
            Class::Normal
        } else {
            Class::Unsupported
        }
    }

    /// Any NaN (quiet or signalling; not the unsupported pseudo-NaNs).
    #[inline]
    pub const fn is_nan(self) -> bool {
        matches!(self.class(), Class::QNan | Class::SNan)
    }

    /// The NaN made quiet (sets the quiet bit).
    #[inline]
    pub const fn quiet(self) -> F80 {
        F80 {
            sig: self.sig | QUIET_BIT,
            se: self.se,
        }
    }

    /// A finite nonzero value (normal or denormal) as (sign, exponent,
    /// significand) with the significand normalized so bit 63 is set:
    /// the value is `sig * 2^(exp - BIAS - 63)`. Denormals get exponents
    /// below 1. Returns `None` for zeros and non-finite or unsupported
    /// encodings.
    pub fn unpack(self) -> Option<(bool, i32, u64)> {
        match self.class() {
            Class::Normal => Some((self.sign(), i32::from(self.exp()), self.sig)),
            Class::Denormal => {
                // A (pseudo-)denormal is valued with exponent 1.
                let lz = self.sig.leading_zeros() as i32;
                Some((self.sign(), 1 - lz, self.sig << lz))
            }
            _ => None,
        }
    }

    /// From the 10 bytes of memory (little-endian) an FLD m80 reads.
    pub fn from_bytes(b: [u8; 10]) -> F80 {
        let mut s = [0u8; 8];
        s.copy_from_slice(&b[..8]);
        F80 {
            sig: u64::from_le_bytes(s),
            se: u16::from_le_bytes([b[8], b[9]]),
        }
    }

    /// The 10 bytes an FSTP m80 writes.
    pub fn to_bytes(self) -> [u8; 10] {
        let mut b = [0u8; 10];
        b[..8].copy_from_slice(&self.sig.to_le_bytes());
        b[8..].copy_from_slice(&self.se.to_le_bytes());
        b
    }

    /// The value as a 128-bit integer pattern (bits 79-0), for tests and
    /// debugging output.
    pub const fn to_bits(self) -> u128 {
        ((self.se as u128) << 64) | self.sig as u128
    }

    /// From a bit pattern (bits 79-0).
    pub const fn from_bits(v: u128) -> F80 {
        F80 {
            sig: v as u64,
            se: (v >> 64) as u16,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classification_follows_the_sdm_table() {
        assert_eq!(F80::ZERO.class(), Class::Zero);
        assert_eq!(F80::ONE.class(), Class::Normal);
        assert_eq!(F80::new(false, 0, 1).class(), Class::Denormal);
        // Pseudo-denormal: exponent 0 with J set.
        assert_eq!(F80::new(false, 0, J_BIT | 5).class(), Class::Denormal);
        // Unnormal: J clear with a nonzero exponent.
        assert_eq!(F80::new(false, 0x3FFF, 1 << 62).class(), Class::Unsupported);
        assert_eq!(F80::INFINITY.class(), Class::Infinity);
        // Pseudo-infinity.
        assert_eq!(F80::new(false, 0x7FFF, 0).class(), Class::Unsupported);
        assert_eq!(F80::INDEFINITE.class(), Class::QNan);
        assert_eq!(F80::new(true, 0x7FFF, J_BIT | 1).class(), Class::SNan);
    }

    #[test]
    fn unpack_normalizes_denormals_and_pseudo_denormals() {
        assert_eq!(F80::ONE.unpack(), Some((false, 0x3FFF, J_BIT)));
        assert_eq!(F80::new(true, 0, 1).unpack(), Some((true, 1 - 63, J_BIT)));
        assert_eq!(F80::new(false, 0, J_BIT).unpack(), Some((false, 1, J_BIT)));
        assert_eq!(F80::ZERO.unpack(), None);
    }

    #[test]
    fn bytes_round_trip() {
        let v = F80 {
            sig: 0x0123_4567_89AB_CDEF,
            se: 0xC00F,
        };
        assert_eq!(F80::from_bytes(v.to_bytes()), v);
        assert_eq!(v.to_bytes()[9], 0xC0);
    }
}
