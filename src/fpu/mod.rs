//! The x87 floating-point unit of a P6: state, register stack and the
//! status/control/tag words. Pure logic with no access to the CPU or guest
//! memory: the interpreter (`interp::fpu`) decodes operands, reads and
//! writes memory, and calls in here.
//!
//! Code map (one concept per file):
//! - `float80.rs` the 80-bit register format and its classes
//! - `round.rs` the single rounding step (RC, PC, denormals, over/underflow)
//! - `arith.rs` + − × ÷ √, compare, NaN and operand rules
//! - `integral.rs` FRNDINT, FSCALE, FXTRACT, FPREM/FPREM1
//! - `convert.rs` memory formats: single, double, integers
//! - `bcd.rs` 18-digit packed BCD (FBLD/FBSTP)
//! - `wide.rs` a 128-bit-significand float for transcendental internals
//! - `transcendental.rs` FSIN/FCOS/FSINCOS/FPTAN/FPATAN/F2XM1/FYL2X(P1), constants
//! - `ops.rs` instruction semantics on the stack: loads, stores, arithmetic, compares
//! - `ops_math.rs` the same for FSQRT, FPREM, FSCALE, FXTRACT and the transcendentals
//! - `env.rs` FSTENV/FLDENV/FSAVE/FRSTOR memory images
//!
//! Why not a soft-float crate for the core: the x87 needs the rounding
//! step exposed (C1 "rounded up", precision control inside the 15-bit
//! exponent range, tininess after rounding, the 24576 re-bias of unmasked
//! over/underflow, pseudo-denormals and unnormals, its NaN rules), which
//! rustc_apfloat's `X87DoubleExtended` does not offer. So the arithmetic
//! is exact integer math with one rounding function, and rustc_apfloat
//! serves as an independent test oracle (`arith::apfloat_oracle`). No
//! result ever goes through a host `f64`.
//!
//! Exceptions (SDM Vol. 1, 8.4-8.7): an operation reports IE/DE/ZE/OE/UE/PE
//! in the status word. A *masked* exception produces the default result.
//! An *unmasked* IE, DE or ZE leaves the destination and stack unchanged;
//! an unmasked OE/UE stores a re-biased result in a register (nothing to
//! memory). Either way the error-summary bit ES (and B) is set, and the
//! exception is *pending*: the next waiting x87 instruction or WAIT takes
//! it, as #MF when CR0.NE=1 or by signalling FERR# when CR0.NE=0.
//!
//! FERR#: on a PC, FERR# is wired (through external logic) to IRQ 13. This
//! model sets [`Fpu::ferr_pending`] when a waiting instruction finds a
//! pending exception with CR0.NE=0; the instruction then proceeds as if
//! IGNNE# were asserted (as QEMU and Bochs do). The machine is expected to
//! raise IRQ 13 when it sees the flag and clear it; the FPU clears it
//! itself when the error summary is cleared (FNCLEX, FNINIT, FLDENV...).

pub mod arith;
pub mod bcd;
pub mod convert;
pub mod env;
pub mod float80;
pub mod integral;
pub mod ops;
pub mod ops_math;
pub mod round;
pub mod transcendental;
pub mod wide;

pub use float80::{Class, F80};
pub use round::Rc;

// ---- status word bits (SDM Vol. 1, Figure 8-4) --------------------------

/// Invalid operation.
pub const IE: u16 = 1 << 0;
/// Denormal operand.
pub const DE: u16 = 1 << 1;
/// Zero divide.
pub const ZE: u16 = 1 << 2;
/// Overflow.
pub const OE: u16 = 1 << 3;
/// Underflow.
pub const UE: u16 = 1 << 4;
/// Precision (inexact result).
pub const PE: u16 = 1 << 5;
/// Stack fault (with IE; C1 tells overflow from underflow).
pub const SF: u16 = 1 << 6;
/// Error summary: some unmasked exception flag is set.
pub const ES: u16 = 1 << 7;
/// Condition code C0.
pub const C0: u16 = 1 << 8;
/// Condition code C1 (also: rounded up, stack overflow).
pub const C1: u16 = 1 << 9;
/// Condition code C2.
pub const C2: u16 = 1 << 10;
/// TOP field (bits 13-11).
pub const TOP_MASK: u16 = 7 << 11;
/// Condition code C3.
pub const C3: u16 = 1 << 14;
/// Busy: mirrors ES on every x87 since the 387.
pub const BUSY: u16 = 1 << 15;
/// The six exception flags.
pub const EXC_MASK: u16 = 0x3F;
/// All four condition codes.
pub const CC_MASK: u16 = C0 | C1 | C2 | C3;

// ---- control word (SDM Vol. 1, Figure 8-6) --------------------------------

/// Control word after FNINIT: all exceptions masked, 64-bit precision,
/// round to nearest.
pub const CW_INIT: u16 = 0x037F;
/// Control word at power-on (SDM Vol. 3, Table 9-1): 0040H.
pub const CW_POWER_ON: u16 = 0x0040;
/// Control-word bits that can be written: masks, PC, RC, IC (bit 12).
pub const CW_WRITABLE: u16 = 0x1F3F;
/// Bit 6 is reserved and always reads as 1.
pub const CW_FIXED_ONES: u16 = 0x0040;

/// The last non-control instruction and its memory operand, as FSTENV and
/// FSAVE report them (SDM Vol. 1, 8.1.8-8.1.9).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LastOp {
    /// Offset of the instruction (EIP) in its code segment.
    pub fip: u32,
    /// Code segment selector.
    pub fcs: u16,
    /// The 11-bit opcode: low 3 bits of the escape byte, then the ModR/M byte.
    pub fop: u16,
    /// Offset of the memory operand.
    pub fdp: u32,
    /// Segment selector of the memory operand.
    pub fds: u16,
}

/// The x87 FPU state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fpu {
    /// Physical data registers R0-R7 (ST(i) is R((TOP + i) mod 8)).
    pub regs: [F80; 8],
    /// Top-of-stack pointer (0-7).
    pub top: u8,
    /// Control word.
    pub cw: u16,
    /// Status word without the TOP field (kept in `top`).
    pub sw: u16,
    /// Abridged tag: bit i set = physical register i is empty. The full
    /// tag word (valid/zero/special) is derived from the contents.
    pub empty: u8,
    /// Last instruction and data pointers and opcode.
    pub last: LastOp,
    /// FERR# has been signalled (CR0.NE=0) and not yet taken by the machine
    /// as IRQ 13. See the module documentation.
    pub ferr_pending: bool,
}

impl Default for Fpu {
    fn default() -> Self {
        Self::new()
    }
}

impl Fpu {
    /// The state after power-on or RESET (SDM Vol. 3, Table 9-1): control
    /// word 0040H (all exceptions *unmasked*, 24-bit precision), status 0,
    /// tag word 5555H (every register holds +0.0 and is tagged zero),
    /// pointers 0.
    pub fn new() -> Fpu {
        Fpu {
            regs: [F80::ZERO; 8],
            top: 0,
            cw: CW_POWER_ON,
            sw: 0,
            empty: 0,
            last: LastOp::default(),
            ferr_pending: false,
        }
    }

    /// FNINIT: control word 037FH, status 0, all registers empty, pointers
    /// cleared. Register contents are kept.
    pub fn init(&mut self) {
        self.cw = CW_INIT;
        self.sw = 0;
        self.top = 0;
        self.empty = 0xFF;
        self.last = LastOp::default();
        self.ferr_pending = false;
    }

    /// Physical register index of ST(i).
    #[inline]
    pub fn phys(&self, i: usize) -> usize {
        (self.top as usize + i) & 7
    }

    /// ST(i), whatever its tag.
    #[inline]
    pub fn st(&self, i: usize) -> F80 {
        self.regs[self.phys(i)]
    }

    /// ST(i) is tagged empty.
    #[inline]
    pub fn is_empty(&self, i: usize) -> bool {
        self.empty & (1 << self.phys(i)) != 0
    }

    /// Write ST(i) and tag it non-empty.
    #[inline]
    pub fn set_st(&mut self, i: usize, v: F80) {
        let p = self.phys(i);
        self.regs[p] = v;
        self.empty &= !(1 << p);
    }

    /// Tag ST(i) empty (FFREE).
    #[inline]
    pub fn free(&mut self, i: usize) {
        self.empty |= 1 << self.phys(i);
    }

    /// Decrement TOP and write the new ST(0).
    #[inline]
    pub fn push(&mut self, v: F80) {
        self.top = self.top.wrapping_sub(1) & 7;
        self.set_st(0, v);
    }

    /// Tag ST(0) empty and increment TOP.
    #[inline]
    pub fn pop(&mut self) {
        self.free(0);
        self.top = (self.top + 1) & 7;
    }

    /// The status word as FNSTSW reads it (TOP merged in).
    #[inline]
    pub fn status_word(&self) -> u16 {
        self.sw | (u16::from(self.top) << 11)
    }

    /// Load the status word (FLDENV/FRSTOR): TOP, flags and condition
    /// codes; ES and B are recomputed from the flags and masks.
    pub fn set_status_word(&mut self, v: u16) {
        self.top = ((v >> 11) & 7) as u8;
        self.sw = v & !TOP_MASK;
        self.update_es();
    }

    /// Load the control word (FLDCW/FLDENV/FRSTOR). Unmasking a set flag
    /// makes its exception pending (SDM: FLDCW).
    pub fn set_control_word(&mut self, v: u16) {
        self.cw = (v & CW_WRITABLE) | CW_FIXED_ONES;
        self.update_es();
    }

    /// ES and B = any exception flag set whose mask bit is clear.
    pub fn update_es(&mut self) {
        if self.sw & EXC_MASK & !self.cw != 0 {
            self.sw |= ES | BUSY;
        } else {
            self.sw &= !(ES | BUSY);
            self.ferr_pending = false;
        }
    }

    /// An unmasked exception is pending (the next waiting instruction
    /// reports it).
    #[inline]
    pub fn exception_pending(&self) -> bool {
        self.sw & ES != 0
    }

    /// FNCLEX: clear the exception flags, SF, ES and B.
    pub fn clear_exceptions(&mut self) {
        self.sw &= !(EXC_MASK | SF | ES | BUSY);
        self.ferr_pending = false;
    }

    /// The 2-bit tag of physical register `p`: 00 valid, 01 zero,
    /// 10 special (NaN, ∞, denormal, unsupported), 11 empty.
    pub fn tag(&self, p: usize) -> u16 {
        if self.empty & (1 << p) != 0 {
            return 3;
        }
        match self.regs[p].class() {
            Class::Normal => 0,
            Class::Zero => 1,
            _ => 2,
        }
    }

    /// The full tag word, as FSTENV/FSAVE store it.
    pub fn tag_word(&self) -> u16 {
        (0..8).fold(0, |w, p| w | (self.tag(p) << (2 * p)))
    }

    /// Load a tag word: only "empty" (11) versus "not empty" is kept; the
    /// other tags are recomputed from the register contents when stored.
    pub fn set_tag_word(&mut self, v: u16) {
        self.empty = (0..8).fold(0, |e, p| e | (u8::from((v >> (2 * p)) & 3 == 3) << p));
    }

    /// Set the condition-code bits in `mask` to `value`.
    #[inline]
    pub fn set_cc(&mut self, mask: u16, value: u16) {
        self.sw = (self.sw & !mask) | (value & mask);
    }

    /// Rounding control from the control word.
    #[inline]
    pub fn rc(&self) -> Rc {
        Rc::from_cw(self.cw)
    }

    /// Precision control in bits: 24 (00), 53 (10), 64 (11). The reserved
    /// setting 01 behaves as 64 bits.
    #[inline]
    pub fn precision(&self) -> u32 {
        match (self.cw >> 8) & 3 {
            0 => 24,
            2 => 53,
            _ => 64,
        }
    }

    /// The rounding parameters arithmetic needs.
    #[inline]
    pub fn ctl(&self) -> arith::Ctl {
        arith::Ctl {
            rc: self.rc(),
            prec: self.precision(),
            masks: self.cw & EXC_MASK,
        }
    }

    /// Record exceptions an operation raised (`flags` in status-word bit
    /// positions; C1 in `flags` becomes the new C1). Returns whether the
    /// operation may deliver its result: false when IE, DE or ZE is raised
    /// unmasked, in which case only those are recorded.
    pub fn signal(&mut self, flags: u16) -> bool {
        let pre = flags & (IE | DE | ZE);
        if pre & !self.cw != 0 {
            // Aborted: only the pre-computation exceptions are recorded,
            // and C1 is cleared (set for a stack overflow).
            self.sw |= pre | (flags & SF);
            self.set_cc(C1, if flags & SF != 0 { flags } else { 0 });
            self.update_es();
            return false;
        }
        self.sw |= flags & (EXC_MASK | SF);
        self.set_cc(C1, flags);
        self.update_es();
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn power_on_state_matches_sdm_table_9_1() {
        let f = Fpu::new();
        assert_eq!(f.cw, 0x0040);
        assert_eq!(f.status_word(), 0);
        assert_eq!(f.tag_word(), 0x5555);
    }

    #[test]
    fn fninit_empties_the_stack() {
        let mut f = Fpu::new();
        f.init();
        assert_eq!(f.cw, 0x037F);
        assert_eq!(f.tag_word(), 0xFFFF);
    }

    #[test]
    fn push_pop_move_top_and_tags() {
        let mut f = Fpu::new();
        f.init();
        f.push(F80::ONE);
        assert_eq!(f.top, 7);
        assert_eq!(f.status_word() & TOP_MASK, 7 << 11);
        assert_eq!(f.tag_word(), 0x3FFF);
        f.push(F80::ZERO);
        assert_eq!(f.tag_word(), 0x1FFF);
        f.pop();
        f.pop();
        assert_eq!(f.top, 0);
        assert_eq!(f.tag_word(), 0xFFFF);
    }

    #[test]
    fn unmasking_a_set_flag_makes_it_pending() {
        let mut f = Fpu::new();
        f.init();
        assert!(f.signal(PE));
        assert!(!f.exception_pending());
        f.set_control_word(CW_INIT & !PE);
        assert!(f.exception_pending());
        assert_eq!(f.status_word() & (ES | BUSY), ES | BUSY);
        f.clear_exceptions();
        assert!(!f.exception_pending());
    }

    #[test]
    fn control_word_reserved_bits() {
        let mut f = Fpu::new();
        f.set_control_word(0);
        assert_eq!(f.cw, 0x0040);
        f.set_control_word(0xFFFF);
        assert_eq!(f.cw, 0x1F7F);
    }

    #[test]
    fn unmasked_invalid_blocks_the_result() {
        let mut f = Fpu::new();
        f.init();
        f.set_control_word(CW_INIT & !IE);
        assert!(!f.signal(IE | PE));
        assert_eq!(f.sw & EXC_MASK, IE);
        assert!(f.exception_pending());
    }
}
