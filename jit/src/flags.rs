//! EFLAGS bits and lazy arithmetic flags: the one place that encodes and
//! materialises them, used by the interpreter and by generated code alike.
//!
//! A flag-setting ALU operation does not compute CF/PF/AF/ZF/SF/OF. It
//! records its operands, result and kind in [`LazyFlags`] and sets `mask` to
//! the flags it defines; readers materialise only what they need. INC/DEC
//! record an ADD/SUB of 1 with CF left out of `mask`, so the old CF survives.
//!
//! Example: `add al, bl` records `{op: ADD|SIZE8, src1: al, src2: bl,
//! result: al+bl, mask: ARITH}`; a later `jc` calls [`LazyFlags::cf`].

/// Carry flag.
pub const FLAG_CF: u32 = 1 << 0;
/// Reserved bit 1, always reads as 1.
pub const FLAG_FIXED1: u32 = 1 << 1;
/// Parity flag (even parity of the low result byte).
pub const FLAG_PF: u32 = 1 << 2;
/// Auxiliary (BCD half-) carry flag.
pub const FLAG_AF: u32 = 1 << 4;
/// Zero flag.
pub const FLAG_ZF: u32 = 1 << 6;
/// Sign flag.
pub const FLAG_SF: u32 = 1 << 7;
/// Trap flag (single step).
pub const FLAG_TF: u32 = 1 << 8;
/// Interrupt enable flag.
pub const FLAG_IF: u32 = 1 << 9;
/// Direction flag (string instructions count down when set).
pub const FLAG_DF: u32 = 1 << 10;
/// Overflow flag.
pub const FLAG_OF: u32 = 1 << 11;
/// I/O privilege level (two bits).
pub const FLAG_IOPL: u32 = 3 << 12;
/// Nested task.
pub const FLAG_NT: u32 = 1 << 14;
/// Resume flag.
pub const FLAG_RF: u32 = 1 << 16;
/// Virtual-8086 mode.
pub const FLAG_VM: u32 = 1 << 17;
/// Alignment check.
pub const FLAG_AC: u32 = 1 << 18;
/// Virtual interrupt flag.
pub const FLAG_VIF: u32 = 1 << 19;
/// Virtual interrupt pending.
pub const FLAG_VIP: u32 = 1 << 20;
/// CPUID available (software can toggle it).
pub const FLAG_ID: u32 = 1 << 21;
/// The six arithmetic status flags.
pub const FLAGS_ARITH: u32 = FLAG_CF | FLAG_PF | FLAG_AF | FLAG_ZF | FLAG_SF | FLAG_OF;

/// Operand size part of a lazy op: 8 bits.
pub const SIZE8: u32 = 0;
/// Operand size part of a lazy op: 16 bits.
pub const SIZE16: u32 = 1;
/// Operand size part of a lazy op: 32 bits.
pub const SIZE32: u32 = 2;
/// Kind part of a lazy op: addition (ADD, ADC, INC).
pub const OP_ADD: u32 = 0 << 2;
/// Kind part of a lazy op: subtraction (SUB, SBB, CMP, DEC, NEG).
pub const OP_SUB: u32 = 1 << 2;
/// Kind part of a lazy op: logical (AND, OR, XOR, TEST): CF=OF=AF=0.
pub const OP_LOGIC: u32 = 2 << 2;

/// The operand size code (SIZE8/16/32) for a width in bytes.
#[inline]
pub const fn size_code(bytes: u32) -> u32 {
    match bytes {
        1 => SIZE8,
        2 => SIZE16,
        _ => SIZE32,
    }
}

/// Record of the last flag-setting arithmetic operation.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LazyFlags {
    /// Which arithmetic flags are to be computed from this record (the rest
    /// are valid in `RegFile::flags`).
    pub mask: u32,
    /// `OP_* | SIZE*`.
    pub op: u32,
    /// First operand (destination before the operation).
    pub src1: u32,
    /// Second operand.
    pub src2: u32,
    /// Result (may have bits above the operand size; they are ignored).
    pub result: u32,
}

const PARITY: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = if (i as u8).count_ones().is_multiple_of(2) {
            FLAG_PF as u8
        } else {
            0
        };
        i += 1;
    }
    t
};

/// PF for a result: set when the low byte has an even number of ones.
#[inline]
pub fn parity(result: u32) -> u32 {
    u32::from(PARITY[(result & 0xFF) as usize])
}

/// ZF, SF and PF for a result of `bytes` width.
#[inline]
pub fn szp(result: u32, bytes: u32) -> u32 {
    let bits = bytes * 8;
    let m = if bits == 32 {
        u32::MAX
    } else {
        (1 << bits) - 1
    };
    let r = result & m;
    let mut f = parity(r);
    if r == 0 {
        f |= FLAG_ZF;
    }
    if r >> (bits - 1) & 1 != 0 {
        f |= FLAG_SF;
    }
    f
}

impl LazyFlags {
    /// Record an operation defining the flags in `mask`.
    #[inline]
    pub fn set(&mut self, op: u32, src1: u32, src2: u32, result: u32, mask: u32) {
        self.op = op;
        self.src1 = src1;
        self.src2 = src2;
        self.result = result;
        self.mask = mask;
    }

    #[inline]
    fn sign_shift(&self) -> u32 {
        (8 << (self.op & 3)) - 1
    }

    /// Carry flag of the recorded operation (0 or 1).
    #[inline]
    pub fn carry(&self) -> u32 {
        let (a, b, r) = (self.src1, self.src2, self.result);
        let v = match self.op & !3 {
            OP_ADD => (a & b) | ((a | b) & !r),
            OP_SUB => (!a & b) | (!(a ^ b) & r),
            _ => 0,
        };
        (v >> self.sign_shift()) & 1
    }

    /// Overflow flag of the recorded operation (0 or 1).
    #[inline]
    pub fn overflow(&self) -> u32 {
        let (a, b, r) = (self.src1, self.src2, self.result);
        let v = match self.op & !3 {
            OP_ADD => (a ^ r) & (b ^ r),
            OP_SUB => (a ^ b) & (a ^ r),
            _ => 0,
        };
        (v >> self.sign_shift()) & 1
    }

    /// All six arithmetic flags of the recorded operation.
    #[inline]
    pub fn compute(&self) -> u32 {
        let bytes = 1 << (self.op & 3);
        let mut f = szp(self.result, bytes);
        f |= self.carry() * FLAG_CF;
        f |= self.overflow() * FLAG_OF;
        if self.op & !3 != OP_LOGIC {
            f |= (self.src1 ^ self.src2 ^ self.result) & FLAG_AF;
        }
        f
    }

    /// `flags` with the lazily held bits replaced by their computed values.
    #[inline]
    pub fn merge_into(&self, flags: u32) -> u32 {
        if self.mask == 0 {
            flags
        } else {
            (flags & !self.mask) | (self.compute() & self.mask)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn add8(a: u32, b: u32) -> u32 {
        let mut l = LazyFlags::default();
        l.set(OP_ADD | SIZE8, a, b, a.wrapping_add(b), FLAGS_ARITH);
        l.compute()
    }

    fn sub16(a: u32, b: u32, borrow: u32) -> u32 {
        let mut l = LazyFlags::default();
        l.set(
            OP_SUB | SIZE16,
            a,
            b,
            a.wrapping_sub(b).wrapping_sub(borrow),
            FLAGS_ARITH,
        );
        l.compute()
    }

    #[test]
    fn add8_carry_overflow_and_aux() {
        assert_eq!(add8(0xFF, 1), FLAG_CF | FLAG_ZF | FLAG_PF | FLAG_AF);
        assert_eq!(add8(0x7F, 1), FLAG_OF | FLAG_SF | FLAG_AF);
        assert_eq!(add8(0x80, 0x80), FLAG_CF | FLAG_OF | FLAG_ZF | FLAG_PF);
        assert_eq!(add8(1, 2), FLAG_PF);
    }

    #[test]
    fn sbb16_borrow_in_with_equal_operands_borrows_out() {
        assert_eq!(sub16(5, 5, 1) & FLAG_CF, FLAG_CF);
        assert_eq!(sub16(5, 5, 0) & (FLAG_CF | FLAG_ZF), FLAG_ZF);
        assert_eq!(sub16(0x8000, 1, 0) & FLAG_OF, FLAG_OF);
    }

    #[test]
    fn merge_keeps_bits_outside_mask() {
        let mut l = LazyFlags::default();
        l.set(OP_ADD | SIZE32, 1, 1, 2, FLAGS_ARITH & !FLAG_CF);
        assert_eq!(
            l.merge_into(FLAG_CF | FLAG_IF | FLAG_ZF) & (FLAG_CF | FLAG_IF | FLAG_ZF),
            FLAG_CF | FLAG_IF
        );
    }
}
