//! What each x87 instruction does to the register stack, given its
//! operands already fetched from memory. The interpreter (`interp::fpu`)
//! calls one method per instruction.
//!
//! Stack faults (SDM Vol. 1, 8.5.1.1): reading an empty register is a
//! stack underflow, pushing onto a full one an overflow; both raise IE+SF
//! (C1 = 0 for underflow, 1 for overflow). Masked, the destination gets the
//! real indefinite; unmasked, nothing changes.
//!
//! Stores are two-phase: [`Fpu::store_prepare`] computes the bytes and the
//! exceptions without changing any state, the interpreter writes memory
//! (which may fault), then [`Fpu::store_commit`] records the exceptions and
//! pops. So a page fault on the store leaves the FPU untouched.
//!
//! Example: FADD ST(0), ST(1) is `fpu.arith(Op::Add, 0, Src::Reg(1), false)`.

use super::arith::{self, Cmp};
use super::bcd::{from_bcd, to_bcd, BCD_INDEFINITE};
use super::convert::{from_int, int_indefinite, to_f32, to_f64, to_int};
use super::float80::{Class, F80};
use super::transcendental::{self as tr, Constant};
use super::{Fpu, C0, C1, C2, C3, CC_MASK, DE, IE, SF, ZE};

/// A binary arithmetic operation; `a` is the destination register's old
/// value, `b` the source.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// a + b.
    Add,
    /// a × b.
    Mul,
    /// a − b.
    Sub,
    /// b − a.
    SubR,
    /// a ÷ b.
    Div,
    /// b ÷ a.
    DivR,
}

/// The source operand of an arithmetic or compare instruction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Src {
    /// ST(i).
    Reg(usize),
    /// A memory value already widened, with the DE/IE its conversion raised
    /// (SNaNs stay signalling: the operation raises IE for them).
    Mem(F80, u16),
}

/// A memory destination format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StoreKind {
    /// IEEE single (4 bytes).
    F32,
    /// IEEE double (8 bytes).
    F64,
    /// Extended (10 bytes).
    F80,
    /// 16-bit integer.
    I16,
    /// 32-bit integer.
    I32,
    /// 64-bit integer.
    I64,
    /// Packed BCD (10 bytes).
    Bcd,
}

impl StoreKind {
    /// Bytes written.
    pub fn size(self) -> usize {
        match self {
            StoreKind::F32 | StoreKind::I32 => 4,
            StoreKind::F64 | StoreKind::I64 => 8,
            StoreKind::F80 | StoreKind::Bcd => 10,
            StoreKind::I16 => 2,
        }
    }

    /// The value a masked invalid operation stores.
    fn indefinite(self) -> [u8; 10] {
        let mut b = [0u8; 10];
        match self {
            StoreKind::F32 => b[..4].copy_from_slice(&0xFFC0_0000u32.to_le_bytes()),
            StoreKind::F64 => b[..8].copy_from_slice(&0xFFF8_0000_0000_0000u64.to_le_bytes()),
            StoreKind::F80 => b = F80::INDEFINITE.to_bytes(),
            StoreKind::I16 => b[..2].copy_from_slice(&(int_indefinite(16) as u16).to_le_bytes()),
            StoreKind::I32 => b[..4].copy_from_slice(&(int_indefinite(32) as u32).to_le_bytes()),
            StoreKind::I64 => b[..8].copy_from_slice(&int_indefinite(64).to_le_bytes()),
            StoreKind::Bcd => b = BCD_INDEFINITE,
        }
        b
    }
}

/// A prepared store: the bytes to write (first `len`), whether to write
/// them, and the status bits to record when the write succeeded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Store {
    /// Little-endian bytes.
    pub bytes: [u8; 10],
    /// How many bytes.
    pub len: usize,
    /// Whether memory is written (false when an unmasked exception stops it).
    pub write: bool,
    /// Status bits for [`Fpu::store_commit`].
    pub flags: u16,
}

/// The FXAM class codes (C3, C2, C0).
fn fxam_class(c: Class) -> u16 {
    match c {
        Class::Unsupported => 0,
        Class::QNan | Class::SNan => C0,
        Class::Normal => C2,
        Class::Infinity => C2 | C0,
        Class::Zero => C3,
        Class::Denormal => C3 | C2,
    }
}

impl Fpu {
    /// Record a stack underflow; true if masked (the caller then writes
    /// the indefinite).
    pub fn underflow(&mut self) -> bool {
        self.signal(IE | SF)
    }

    /// Record a stack overflow; true if masked.
    pub fn overflow(&mut self) -> bool {
        self.signal(IE | SF | C1)
    }

    /// Push a value (FLD, FILD, FBLD, constants) with the exceptions its
    /// conversion raised.
    pub fn load(&mut self, v: F80, flags: u16) {
        if !self.is_empty(7) {
            if self.overflow() {
                self.push(F80::INDEFINITE);
            }
            return;
        }
        if self.signal(flags) {
            self.push(v);
        }
    }

    /// FLD m32/m64: a widened value whose SNaN is quieted with IE.
    pub fn load_float(&mut self, v: F80, conv_flags: u16) {
        if v.class() == Class::SNan {
            self.load(v.quiet(), conv_flags | IE);
        } else if conv_flags & DE != 0 && self.cw & DE == 0 && self.is_empty(7) {
            // A denormal source with DE unmasked is still loaded (it is
            // exact); the exception is left pending. Observed on hardware.
            self.signal(conv_flags);
            self.push(v);
        } else {
            self.load(v, conv_flags);
        }
    }

    /// FLD ST(i).
    pub fn load_st(&mut self, i: usize) {
        if !self.is_empty(7) {
            if self.overflow() {
                self.push(F80::INDEFINITE);
            }
            return;
        }
        if self.is_empty(i) {
            if self.underflow() {
                self.push(F80::INDEFINITE);
            }
            return;
        }
        let v = self.st(i);
        self.load(v, 0);
    }

    /// FLD1, FLDZ, FLDPI, FLDL2E, FLDL2T, FLDLG2, FLDLN2.
    pub fn load_const(&mut self, c: Constant) {
        let v = tr::constant(c, self.rc());
        self.load(v, 0);
    }

    /// FILD.
    pub fn load_int(&mut self, v: i64) {
        self.load(from_int(v), 0);
    }

    /// FBLD.
    pub fn load_bcd(&mut self, b: [u8; 10]) {
        self.load(from_bcd(b), 0);
    }

    /// Compute a store of ST(0) without changing state.
    pub fn store_prepare(&self, kind: StoreKind) -> Store {
        let len = kind.size();
        let ctl = self.ctl();
        if self.is_empty(0) {
            return Store {
                bytes: kind.indefinite(),
                len,
                write: ctl.masks & IE != 0,
                flags: IE | SF,
            };
        }
        let v = self.st(0);
        let mut bytes = [0u8; 10];
        let (flags, ok) = match kind {
            StoreKind::F80 => {
                bytes = v.to_bytes();
                (0, true)
            }
            StoreKind::F32 | StoreKind::F64 => {
                let n = if kind == StoreKind::F32 {
                    to_f32(v, ctl)
                } else {
                    to_f64(v, ctl)
                };
                bytes[..8].copy_from_slice(&n.bits.to_le_bytes());
                (n.flags, n.store)
            }
            StoreKind::I16 | StoreKind::I32 | StoreKind::I64 => {
                let n = to_int(v, 8 * len as u32, ctl.rc);
                bytes[..8].copy_from_slice(&n.bits.to_le_bytes());
                (n.flags, n.store)
            }
            StoreKind::Bcd => {
                let (b, f) = to_bcd(v, ctl.rc);
                bytes = b;
                (f, true)
            }
        };
        let aborted = flags & (IE | DE | ZE) & !ctl.masks != 0;
        Store {
            bytes,
            len,
            write: ok && !aborted,
            flags,
        }
    }

    /// Record a store's exceptions after memory was written, and pop.
    pub fn store_commit(&mut self, s: &Store, pop: bool) {
        self.signal(s.flags);
        if s.write && pop {
            self.pop();
        }
    }

    /// FST/FSTP ST(i).
    pub fn store_st(&mut self, i: usize, pop: bool) {
        if self.is_empty(0) {
            if self.underflow() {
                self.set_st(i, F80::INDEFINITE);
                if pop {
                    self.pop();
                }
            }
            return;
        }
        let v = self.st(0);
        self.set_st(i, v);
        self.set_cc(C1, 0);
        if pop {
            self.pop();
        }
    }

    /// The binary arithmetic instructions: ST(dst) = ST(dst) op src, then
    /// optionally pop (the P forms).
    pub fn arith(&mut self, op: Op, dst: usize, src: Src, pop: bool) {
        let (b, conv) = match src {
            Src::Reg(i) => {
                if self.is_empty(i) || self.is_empty(dst) {
                    return self.stack_fault_result(dst, pop);
                }
                (self.st(i), 0)
            }
            Src::Mem(v, f) => {
                if self.is_empty(dst) {
                    return self.stack_fault_result(dst, pop);
                }
                (v, f)
            }
        };
        let a = self.st(dst);
        let ctl = self.ctl();
        let mut conv = conv;
        let r = match op {
            Op::Add => arith::add(a, b, false, ctl),
            Op::Sub => arith::add(a, b, true, ctl),
            Op::SubR => arith::add(b, a, true, ctl),
            Op::Mul => arith::mul(a, b, ctl),
            Op::Div => arith::div(a, b, ctl),
            Op::DivR => arith::div(b, a, ctl),
        };
        // A denormal memory operand is reported like a denormal register
        // operand: not when the result is a NaN or a zero divide.
        if r.flags & (IE | ZE) != 0 || r.val.is_nan() {
            conv &= !DE;
        }
        if self.signal(r.flags | conv) {
            self.set_st(dst, r.val);
            if pop {
                self.pop();
            }
        }
    }

    /// Masked stack underflow of an operation writing ST(dst).
    pub(super) fn stack_fault_result(&mut self, dst: usize, pop: bool) {
        if self.underflow() {
            self.set_st(dst, F80::INDEFINITE);
            if pop {
                self.pop();
            }
        }
    }

    /// FCHS and FABS: sign changes, never an exception but underflow.
    pub fn sign_op(&mut self, abs: bool) {
        if self.is_empty(0) {
            return self.stack_fault_result(0, false);
        }
        let v = self.st(0);
        self.set_st(0, if abs { v.abs() } else { v.neg() });
        self.set_cc(C1, 0);
    }

    /// FCOM/FCOMP/FCOMPP/FUCOM*/FICOM*/FTST: compare ST(0) with `src`
    /// into C3, C2, C0; pop `pops` times.
    pub fn compare(&mut self, src: Src, quiet: bool, pops: u8) {
        let (b, conv) = match src {
            Src::Reg(i) if self.is_empty(i) => return self.compare_underflow(pops),
            Src::Reg(i) => (self.st(i), 0),
            Src::Mem(v, f) => (v, f),
        };
        if self.is_empty(0) {
            return self.compare_underflow(pops);
        }
        let (c, flags) = arith::compare(self.st(0), b, quiet);
        let conv = if c == Cmp::Unordered {
            conv & !DE
        } else {
            conv
        };
        let ok = self.signal(flags | conv);
        // An unmasked IE leaves the condition codes alone (SDM: FCOM); an
        // unmasked DE still sets them (observed on hardware).
        if ok || (flags | conv) & IE == 0 {
            self.set_cc(CC_MASK, c.cc());
        }
        if ok {
            for _ in 0..pops {
                self.pop();
            }
        }
    }

    fn compare_underflow(&mut self, pops: u8) {
        let masked = self.underflow();
        self.set_cc(C0 | C2 | C3, C0 | C2 | C3);
        if masked {
            for _ in 0..pops {
                self.pop();
            }
        }
    }

    /// FCOMI/FCOMIP/FUCOMI/FUCOMIP: compare ST(0) with ST(i); returns the
    /// (ZF, PF, CF) to set, or `None` to leave EFLAGS alone (unmasked IE).
    pub fn compare_eflags(
        &mut self,
        i: usize,
        quiet: bool,
        pop: bool,
    ) -> Option<(bool, bool, bool)> {
        if self.is_empty(0) || self.is_empty(i) {
            let masked = self.underflow();
            if masked && pop {
                self.pop();
            }
            return Some((true, true, true));
        }
        let (c, flags) = arith::compare(self.st(0), self.st(i), quiet);
        let ok = self.signal(flags);
        // Unmasked IE: EFLAGS untouched (SDM: FCOMI). Unmasked DE: the
        // flags are still set (observed on hardware), without the pop.
        if !ok && flags & IE != 0 {
            return None;
        }
        self.set_cc(C1, 0);
        if ok && pop {
            self.pop();
        }
        Some(match c {
            Cmp::Greater => (false, false, false),
            Cmp::Less => (false, false, true),
            Cmp::Equal => (true, false, false),
            Cmp::Unordered => (true, true, true),
        })
    }

    /// FXAM: classify ST(0) into C3, C2, C0; C1 = sign.
    pub fn fxam(&mut self) {
        let v = self.st(0);
        let class = if self.is_empty(0) {
            C3 | C0
        } else {
            fxam_class(v.class())
        };
        self.set_cc(CC_MASK, class | if v.sign() { C1 } else { 0 });
    }

    /// FXCH ST(i).
    pub fn fxch(&mut self, i: usize) {
        if self.is_empty(0) || self.is_empty(i) {
            if !self.underflow() {
                return;
            }
            for k in [0, i] {
                if self.is_empty(k) {
                    self.set_st(k, F80::INDEFINITE);
                }
            }
        }
        let (a, b) = (self.st(0), self.st(i));
        self.set_st(0, b);
        self.set_st(i, a);
        self.set_cc(C1, 0);
    }

    /// FCMOVcc ST(0), ST(i) with the condition already evaluated.
    pub fn fcmov(&mut self, i: usize, cond: bool) {
        if self.is_empty(0) || self.is_empty(i) {
            return self.stack_fault_result(0, false);
        }
        if cond {
            let v = self.st(i);
            self.set_st(0, v);
        }
    }

    /// FINCSTP / FDECSTP.
    pub fn step_top(&mut self, inc: bool) {
        self.top = if inc {
            self.top + 1
        } else {
            self.top.wrapping_sub(1)
        } & 7;
        self.set_cc(C1, 0);
    }

    /// FFREE ST(i) (and FFREEP: then increment TOP).
    pub fn ffree(&mut self, i: usize, pop: bool) {
        self.free(i);
        self.set_cc(C1, 0);
        if pop {
            self.top = (self.top + 1) & 7;
        }
    }

    /// A waiting instruction's check for a pending unmasked exception.
    /// Returns true when #MF must be raised (CR0.NE=1); with NE=0 it
    /// signals FERR# (see the module documentation) and returns false.
    pub fn check_pending(&mut self, cr0_ne: bool) -> bool {
        if !self.exception_pending() {
            return false;
        }
        if cr0_ne {
            return true;
        }
        self.ferr_pending = true;
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fpu::convert::from_f64;
    use crate::fpu::{CW_INIT, ES, PE};

    fn fresh() -> Fpu {
        let mut f = Fpu::new();
        f.init();
        f
    }

    #[test]
    fn load_add_store() {
        let mut f = fresh();
        f.load_const(Constant::One);
        f.load_int(2);
        // FADDP ST(1), ST(0)
        f.arith(Op::Add, 1, Src::Reg(0), true);
        assert_eq!(f.st(0), from_int(3));
        assert_eq!(f.top, 7);
        let s = f.store_prepare(StoreKind::I16);
        assert_eq!((s.bytes[0], s.bytes[1], s.write), (3, 0, true));
        f.store_commit(&s, true);
        assert_eq!(f.tag_word(), 0xFFFF);
    }

    #[test]
    fn stack_overflow_masked_pushes_indefinite() {
        let mut f = fresh();
        for _ in 0..8 {
            f.load_const(Constant::Zero);
        }
        f.load_const(Constant::One);
        assert_eq!(f.st(0), F80::INDEFINITE);
        assert_eq!(f.status_word() & (IE | SF | C1), IE | SF | C1);
    }

    #[test]
    fn stack_underflow_unmasked_changes_nothing() {
        let mut f = fresh();
        f.set_control_word(CW_INIT & !IE);
        f.arith(Op::Add, 0, Src::Reg(1), false);
        assert_eq!(f.tag_word(), 0xFFFF);
        assert_eq!(f.sw & (IE | SF | ES | C1), IE | SF | ES);
        let s = f.store_prepare(StoreKind::F64);
        assert!(!s.write);
    }

    #[test]
    fn compare_sets_condition_codes() {
        let mut f = fresh();
        f.load_int(1);
        f.compare(Src::Mem(from_f64(0x4000_0000_0000_0000).0, 0), false, 0);
        assert_eq!(f.sw & CC_MASK, C0);
        f.load_const(Constant::Zero);
        assert_eq!(f.compare_eflags(1, false, true), Some((false, false, true)));
        f.fxam();
        assert_eq!(f.sw & (C3 | C2 | C0), C2);
    }

    #[test]
    fn fsincos_and_fptan_push() {
        let mut f = fresh();
        f.load_const(Constant::Zero);
        f.fptan();
        assert_eq!((f.st(0), f.st(1)), (F80::ONE, F80::ZERO));
        f.store_st(0, true);
        f.fsincos();
        assert_eq!((f.st(0), f.st(1)), (F80::ONE, F80::ZERO));
        f.load_int(1);
        f.frndint();
        assert_eq!(f.sw & PE, 0);
    }
}
