//! The math instructions on the register stack: FSQRT, FRNDINT, F2XM1,
//! FSCALE, FPREM/FPREM1, FXTRACT, FSIN/FCOS/FSINCOS/FPTAN, FPATAN, FYL2X
//! and FYL2XP1. Each reads ST(0) (and ST(1)), applies the value-level
//! function from `arith`, `integral` or `transcendental`, records the
//! exceptions and writes the result; stack faults as in `ops.rs`.
//!
//! Example: FPTAN on ST(0) = 0 leaves ST(1) = +0 and pushes 1.0.

use super::arith::{self, Ctl, Res};
use super::float80::{Class, F80};
use super::transcendental::{self as tr, Trig};
use super::{integral, Fpu, C1, C2, CC_MASK};

impl Fpu {
    /// Apply a one-operand function to ST(0) (FSQRT, FRNDINT, F2XM1...).
    fn unary(&mut self, f: impl FnOnce(F80, Ctl) -> Res) {
        if self.is_empty(0) {
            return self.stack_fault_result(0, false);
        }
        let r = f(self.st(0), self.ctl());
        if self.signal(r.flags) {
            self.set_st(0, r.val);
        }
    }

    /// FSQRT.
    pub fn fsqrt(&mut self) {
        self.unary(arith::sqrt);
    }

    /// FRNDINT.
    pub fn frndint(&mut self) {
        self.unary(integral::rndint);
    }

    /// F2XM1.
    pub fn f2xm1(&mut self) {
        self.unary(tr::f2xm1);
    }

    /// ST(1) = f(ST(1), ST(0)), pop (FPATAN, FYL2X, FYL2XP1).
    fn binary_pop(&mut self, f: impl FnOnce(F80, F80, Ctl) -> Res) {
        if self.is_empty(0) || self.is_empty(1) {
            return self.stack_fault_result(1, true);
        }
        let r = f(self.st(1), self.st(0), self.ctl());
        if self.signal(r.flags) {
            self.set_st(1, r.val);
            self.pop();
        }
    }

    /// FPATAN.
    pub fn fpatan(&mut self) {
        self.binary_pop(tr::atan2);
    }

    /// FYL2X.
    pub fn fyl2x(&mut self) {
        self.binary_pop(tr::yl2x);
    }

    /// FYL2XP1.
    pub fn fyl2xp1(&mut self) {
        self.binary_pop(tr::yl2xp1);
    }

    /// FSCALE: ST(0) = ST(0) · 2^trunc(ST(1)).
    pub fn fscale(&mut self) {
        if self.is_empty(0) || self.is_empty(1) {
            return self.stack_fault_result(0, false);
        }
        let r = integral::scale(self.st(0), self.st(1), self.ctl());
        if self.signal(r.flags) {
            self.set_st(0, r.val);
        }
    }

    /// FPREM (`ieee` false) and FPREM1 (`ieee` true).
    pub fn fprem(&mut self, ieee: bool) {
        if self.is_empty(0) || self.is_empty(1) {
            self.set_cc(C2, 0);
            return self.stack_fault_result(0, false);
        }
        let p = integral::prem(self.st(0), self.st(1), ieee, self.ctl());
        // C1 and C2 are always written; C0 and C3 only with a quotient
        // (not for NaN or invalid results), as observed on hardware.
        let q = p.res.val.is_nan() || p.res.val.class() == Class::Unsupported;
        if self.signal(p.res.flags & !C1) {
            self.set_st(0, p.res.val);
            self.set_cc(if q { C1 | C2 } else { CC_MASK }, p.cc);
        } else {
            self.set_cc(C1 | C2, 0);
        }
    }

    /// FXTRACT: ST(0) = exponent, then push the significand.
    pub fn fxtract(&mut self) {
        if self.is_empty(0) {
            // Masked underflow: both results are the indefinite.
            if self.underflow() {
                self.set_st(0, F80::INDEFINITE);
                if self.is_empty(7) {
                    self.push(F80::INDEFINITE);
                }
            }
            return;
        }
        if !self.is_empty(7) {
            if self.overflow() {
                self.set_st(0, F80::INDEFINITE);
                self.push(F80::INDEFINITE);
            }
            return;
        }
        let (e, s) = integral::xtract(self.st(0));
        if self.signal(e.flags) {
            self.set_st(0, e.val);
            self.push(s.val);
        }
    }

    /// FSIN and FCOS.
    pub fn fsin_fcos(&mut self, cos: bool) {
        if self.is_empty(0) {
            self.set_cc(C2, 0);
            return self.stack_fault_result(0, false);
        }
        let ctl = self.ctl();
        let t = if cos {
            tr::cos(self.st(0), ctl)
        } else {
            tr::sin(self.st(0), ctl)
        };
        match t {
            Trig::OutOfRange => self.set_cc(C1 | C2, C2),
            Trig::Done(r) => {
                if self.signal(r.flags) {
                    self.set_st(0, r.val);
                    self.set_cc(C2, 0);
                }
            }
        }
    }

    /// FSINCOS: ST(0) = sin, then push cos.
    pub fn fsincos(&mut self) {
        if self.is_empty(0) {
            self.set_cc(C2, 0);
            if self.underflow() {
                self.set_st(0, F80::INDEFINITE);
                if self.is_empty(7) {
                    self.push(F80::INDEFINITE);
                }
            }
            return;
        }
        if !self.is_empty(7) {
            if self.overflow() {
                self.set_st(0, F80::INDEFINITE);
                self.push(F80::INDEFINITE);
            }
            return;
        }
        match tr::sincos(self.st(0), self.ctl()) {
            Trig::OutOfRange => self.set_cc(C1 | C2, C2),
            Trig::Done((s, c)) => {
                if self.signal(s.flags | c.flags) {
                    self.set_cc(C1, s.flags);
                    self.set_st(0, s.val);
                    self.push(c.val);
                    self.set_cc(C2, 0);
                }
            }
        }
    }

    /// FPTAN: ST(0) = tan, then push 1.0.
    pub fn fptan(&mut self) {
        if self.is_empty(0) {
            self.set_cc(C2, 0);
            if self.underflow() {
                self.set_st(0, F80::INDEFINITE);
                if self.is_empty(7) {
                    self.push(F80::INDEFINITE);
                }
            }
            return;
        }
        if !self.is_empty(7) {
            if self.overflow() {
                self.set_st(0, F80::INDEFINITE);
                self.push(F80::INDEFINITE);
            }
            return;
        }
        match tr::tan(self.st(0), self.ctl()) {
            Trig::OutOfRange => self.set_cc(C1 | C2, C2),
            Trig::Done(r) => {
                if self.signal(r.flags) {
                    self.set_st(0, r.val);
                    // A NaN result pushes the NaN instead of 1.0.
                    let one = if r.val.is_nan() { r.val } else { F80::ONE };
                    self.push(one);
                    self.set_cc(C2, 0);
                }
            }
        }
    }
}
