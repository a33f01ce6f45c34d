//! Guest instruction -> plan: [`plan`] decides, from the decoded instruction
//! and the block's mode, whether an instruction is translated inline and
//! how (an [`Op`]). Everything it declines runs on the interpreter through
//! the fallback helper. The flags an `Op` reads and writes drive the
//! block's flag liveness (see `translate.rs`); `lower.rs` emits the code.

use iced_x86::{ConditionCode, Instruction, Mnemonic, OpKind, Register};

use crate::abi::{sreg, RegFile};
use crate::emit::cond_flags;
use crate::flags::{FLAGS_ARITH, FLAG_AF, FLAG_CF, FLAG_DF, FLAG_OF, FLAG_PF, FLAG_SF, FLAG_ZF};
use crate::mode::ModeKey;

/// An operand as generated code reaches it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Opnd {
    /// A guest register at this `RegFile` offset.
    Reg(i32),
    /// The instruction's memory operand.
    Mem,
    /// An immediate.
    Imm(u32),
}

/// What an inline-translated instruction does. Field conventions: `size`
/// is the operand size in bytes, `dst`/`src` operands, a bare `i32` a
/// guest register's `RegFile` offset, `digit` the x86 group `/digit`,
/// `cc` the condition code (x86 encoding), `target` a branch's guest EIP.
#[allow(missing_docs)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// ADD/OR/ADC/SBB/AND/SUB/XOR/CMP (group-1 digit).
    Alu {
        digit: u8,
        size: u8,
        dst: Opnd,
        src: Opnd,
    },
    /// TEST.
    Test { size: u8, a: Opnd, b: Opnd },
    /// INC/DEC (FE /0 /1), NOT/NEG (F6 /2 /3).
    Unary {
        opcode: u8,
        digit: u8,
        size: u8,
        dst: Opnd,
    },
    /// ROL/ROR/SHL/SHR/SAR by an immediate count below the width.
    Shift {
        digit: u8,
        size: u8,
        dst: Opnd,
        count: u8,
    },
    /// MOV between registers, memory and immediates.
    Mov { size: u8, dst: Opnd, src: Opnd },
    /// MOVZX/MOVSX.
    Movx {
        sign: bool,
        dsize: u8,
        ssize: u8,
        dst: i32,
        src: Opnd,
    },
    /// LEA.
    Lea { size: u8, dst: i32 },
    /// IMUL r, r/m (, imm).
    Imul {
        size: u8,
        dst: i32,
        src: Opnd,
        imm: Option<u32>,
    },
    /// PUSH r/m/imm.
    Push { size: u8, src: Opnd },
    /// POP r.
    Pop { size: u8, dst: i32 },
    /// XCHG r, r.
    Xchg { size: u8, a: i32, b: i32 },
    /// CBW (1), CWDE (2), CWD (3), CDQ (4).
    Widen(u8),
    /// SETcc r8.
    Setcc { cc: u8, dst: i32 },
    /// CMOVcc r, r.
    Cmov {
        cc: u8,
        size: u8,
        dst: i32,
        src: i32,
    },
    /// CLC/STC/CMC/CLD/STD: EFLAGS = (EFLAGS & and) | or ^ xor.
    FlagOp { and: u32, or: u32, xor: u32 },
    /// No effect.
    Nop,
    /// JMP rel.
    Jmp { target: u32 },
    /// Jcc rel.
    Jcc { cc: u8, target: u32 },
    /// CALL rel.
    Call { size: u8, target: u32 },
    /// RET / RET imm16.
    Ret { size: u8, imm: u16 },
    /// JMP r/m.
    JmpInd { size: u8, src: Opnd },
    /// CALL r/m.
    CallInd { size: u8, src: Opnd },
    /// LOOP rel (ECX or CX by address size).
    Loop { addr32: bool, target: u32 },
    /// JECXZ/JCXZ rel.
    Jcxz { addr32: bool, target: u32 },
}

/// The guest flags an instruction reads and writes, for liveness.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FlagUse {
    /// Read before the instruction runs.
    pub reads: u32,
    /// Defined by it (taken from the host, or cleared: see `host`).
    pub writes: u32,
    /// Of `writes`, those whose host value after the op is the guest's.
    pub host: u32,
}

impl Op {
    /// Whether the op ends the block.
    pub fn is_branch(&self) -> bool {
        matches!(
            self,
            Op::Jmp { .. }
                | Op::Jcc { .. }
                | Op::Call { .. }
                | Op::Ret { .. }
                | Op::JmpInd { .. }
                | Op::CallInd { .. }
                | Op::Loop { .. }
                | Op::Jcxz { .. }
        )
    }

    /// Whether the op writes flags and stores to memory: the store may
    /// raise attention (self-modifying code, a device) and leave the block
    /// right after it, so all its flags must be merged whatever follows.
    pub fn stores_flag_result(&self) -> bool {
        let m = |o: &Opnd| *o == Opnd::Mem;
        match self {
            Op::Alu { digit, dst, .. } => *digit != 7 && m(dst),
            Op::Unary { dst, .. } | Op::Shift { dst, .. } => m(dst),
            _ => false,
        }
    }

    /// Whether the op touches memory, so it may fault (a helper call whose
    /// exception frame sees EFLAGS).
    pub fn may_fault(&self) -> bool {
        let m = |o: &Opnd| *o == Opnd::Mem;
        match self {
            Op::Alu { dst, src, .. } | Op::Mov { dst, src, .. } => m(dst) || m(src),
            Op::Test { a, b, .. } => m(a) || m(b),
            Op::Unary { dst, .. } | Op::Shift { dst, .. } => m(dst),
            Op::Movx { src, .. } | Op::Imul { src, .. } => m(src),
            Op::Push { .. } | Op::Pop { .. } | Op::Call { .. } | Op::Ret { .. } => true,
            Op::JmpInd { src, .. } => m(src),
            Op::CallInd { .. } => true,
            _ => false,
        }
    }

    /// Flags read and written (see [`FlagUse`]).
    pub fn flags(&self) -> FlagUse {
        const LOGIC_HOST: u32 = FLAGS_ARITH & !FLAG_AF;
        match *self {
            Op::Alu { digit, .. } => match digit {
                1 | 4 | 6 => FlagUse {
                    reads: 0,
                    writes: FLAGS_ARITH,
                    host: LOGIC_HOST,
                },
                2 | 3 => FlagUse {
                    reads: FLAG_CF,
                    writes: FLAGS_ARITH,
                    host: FLAGS_ARITH,
                },
                _ => FlagUse {
                    reads: 0,
                    writes: FLAGS_ARITH,
                    host: FLAGS_ARITH,
                },
            },
            Op::Test { .. } => FlagUse {
                reads: 0,
                writes: FLAGS_ARITH,
                host: LOGIC_HOST,
            },
            Op::Unary { opcode: 0xFE, .. } => FlagUse {
                reads: 0,
                writes: FLAGS_ARITH & !FLAG_CF,
                host: FLAGS_ARITH & !FLAG_CF,
            },
            Op::Unary { digit: 3, .. } => FlagUse {
                reads: 0,
                writes: FLAGS_ARITH,
                host: FLAGS_ARITH,
            },
            Op::Shift { digit, count, .. } => {
                let mut w = if digit <= 1 {
                    FLAG_CF
                } else {
                    FLAG_CF | FLAG_PF | FLAG_ZF | FLAG_SF
                };
                if count == 1 {
                    w |= FLAG_OF;
                }
                FlagUse {
                    reads: 0,
                    writes: w,
                    host: w,
                }
            }
            Op::Imul { .. } => FlagUse {
                reads: 0,
                writes: FLAG_CF | FLAG_OF,
                host: FLAG_CF | FLAG_OF,
            },
            Op::Setcc { cc, .. } | Op::Cmov { cc, .. } | Op::Jcc { cc, .. } => FlagUse {
                reads: cond_flags(cc),
                ..FlagUse::default()
            },
            Op::FlagOp { and, xor, .. } => FlagUse {
                reads: xor & FLAGS_ARITH,
                writes: (!and | xor) & FLAGS_ARITH,
                host: 0,
            },
            _ => FlagUse::default(),
        }
    }
}

/// `RegFile` offset and size of a general-purpose register operand.
pub fn gpr_loc(r: Register) -> Option<(i32, u8)> {
    let base = RegFile::GPR_OFFSET as i32;
    let n = r.number() as i32;
    if r.is_gpr32() {
        Some((base + 4 * n, 4))
    } else if r.is_gpr16() {
        Some((base + 4 * n, 2))
    } else if r.is_gpr8() && n < 8 {
        // AL CL DL BL, then AH CH DH BH: byte 1 of the first four.
        Some(if n < 4 {
            (base + 4 * n, 1)
        } else {
            (base + 4 * (n - 4) + 1, 1)
        })
    } else {
        None
    }
}

/// Segment register index of a segment `Register`.
pub(crate) fn seg_index(r: Register) -> Option<usize> {
    Some(match r {
        Register::ES => sreg::ES,
        Register::CS => sreg::CS,
        Register::SS => sreg::SS,
        Register::DS => sreg::DS,
        Register::FS => sreg::FS,
        Register::GS => sreg::GS,
        _ => return None,
    })
}

/// The memory operand is one generated code can address: a 16/32-bit
/// base/index form with a segment register.
fn mem_ok(i: &Instruction) -> bool {
    let base_ok =
        i.memory_base() == Register::None || gpr_loc(i.memory_base()).is_some_and(|l| l.1 >= 2);
    let index_ok =
        i.memory_index() == Register::None || gpr_loc(i.memory_index()).is_some_and(|l| l.1 >= 2);
    base_ok && index_ok && seg_index(i.memory_segment()).is_some()
}

/// Operand `n` of `i`, with its size in bytes.
fn operand(i: &Instruction, n: u32) -> Option<(Opnd, u8)> {
    match i.op_kind(n) {
        OpKind::Register => gpr_loc(i.op_register(n)).map(|(o, s)| (Opnd::Reg(o), s)),
        OpKind::Memory => {
            let size = i.memory_size().size();
            (mem_ok(i) && matches!(size, 1 | 2 | 4)).then_some((Opnd::Mem, size as u8))
        }
        OpKind::Immediate8
        | OpKind::Immediate16
        | OpKind::Immediate32
        | OpKind::Immediate8to16
        | OpKind::Immediate8to32 => Some((Opnd::Imm(i.immediate(n) as u32), 0)),
        _ => None,
    }
}

fn cc_of(i: &Instruction) -> Option<u8> {
    Some(match i.condition_code() {
        ConditionCode::o => 0,
        ConditionCode::no => 1,
        ConditionCode::b => 2,
        ConditionCode::ae => 3,
        ConditionCode::e => 4,
        ConditionCode::ne => 5,
        ConditionCode::be => 6,
        ConditionCode::a => 7,
        ConditionCode::s => 8,
        ConditionCode::ns => 9,
        ConditionCode::p => 10,
        ConditionCode::np => 11,
        ConditionCode::l => 12,
        ConditionCode::ge => 13,
        ConditionCode::le => 14,
        ConditionCode::g => 15,
        ConditionCode::None => return None,
    })
}

/// Decide how `i` is translated in `mode`; `None` means the interpreter
/// runs it (through the fallback helper).
pub fn plan(i: &Instruction, mode: ModeKey) -> Option<Op> {
    use Mnemonic as M;
    let two = |i: &Instruction| -> Option<(Opnd, Opnd, u8)> {
        if i.op_count() != 2 {
            return None;
        }
        let (d, ds) = operand(i, 0)?;
        let (s, ss) = operand(i, 1)?;
        if matches!(d, Opnd::Imm(_)) || (ss != 0 && ss != ds) {
            return None;
        }
        Some((d, s, ds))
    };
    // Near branches: only where every target EIP is inside CS and the
    // operand size is the code size (no 16/32-bit mixing).
    let near_ok = mode.has(ModeKey::CS_FULL)
        && ((i.stack_pointer_increment().unsigned_abs() == 4) == mode.has(ModeKey::CODE32)
            || i.stack_pointer_increment() == 0);
    let stack_ok = mode.seg(sreg::SS) != crate::mode::SegClass::Slow;
    Some(match i.mnemonic() {
        M::Add | M::Or | M::Adc | M::Sbb | M::And | M::Sub | M::Xor | M::Cmp => {
            let digit = match i.mnemonic() {
                M::Add => 0,
                M::Or => 1,
                M::Adc => 2,
                M::Sbb => 3,
                M::And => 4,
                M::Sub => 5,
                M::Xor => 6,
                _ => 7,
            };
            let (dst, src, size) = two(i)?;
            Op::Alu {
                digit,
                size,
                dst,
                src,
            }
        }
        M::Test => {
            let (a, b, size) = two(i)?;
            Op::Test { size, a, b }
        }
        M::Inc | M::Dec | M::Not | M::Neg => {
            if i.op_count() != 1 {
                return None;
            }
            let (dst, size) = operand(i, 0)?;
            let (opcode, digit) = match i.mnemonic() {
                M::Inc => (0xFE, 0),
                M::Dec => (0xFE, 1),
                M::Not => (0xF6, 2),
                _ => (0xF6, 3),
            };
            Op::Unary {
                opcode,
                digit,
                size,
                dst,
            }
        }
        M::Rol | M::Ror | M::Shl | M::Sal | M::Shr | M::Sar => {
            if i.op_count() != 2 || i.op_kind(1) != OpKind::Immediate8 {
                return None;
            }
            let (dst, size) = operand(i, 0)?;
            let count = (i.immediate(1) & 31) as u8;
            if count == 0 || u32::from(count) >= u32::from(size) * 8 {
                return None;
            }
            let digit = match i.mnemonic() {
                M::Rol => 0,
                M::Ror => 1,
                M::Shl | M::Sal => 4,
                M::Shr => 5,
                _ => 7,
            };
            Op::Shift {
                digit,
                size,
                dst,
                count,
            }
        }
        M::Mov => {
            let (dst, src, size) = two(i)?;
            Op::Mov { size, dst, src }
        }
        M::Movzx | M::Movsx => {
            let (Opnd::Reg(dst), dsize) = operand(i, 0)? else {
                return None;
            };
            let (src, ssize) = operand(i, 1)?;
            if matches!(src, Opnd::Imm(_)) || ssize >= dsize {
                return None;
            }
            Op::Movx {
                sign: i.mnemonic() == M::Movsx,
                dsize,
                ssize,
                dst,
                src,
            }
        }
        M::Lea => {
            let (Opnd::Reg(dst), size) = operand(i, 0)? else {
                return None;
            };
            if i.op_kind(1) != OpKind::Memory || !mem_ok(i) {
                return None;
            }
            Op::Lea { size, dst }
        }
        M::Imul => {
            if i.op_count() < 2 {
                return None;
            }
            let (Opnd::Reg(dst), size) = operand(i, 0)? else {
                return None;
            };
            let (src, ss) = operand(i, 1)?;
            if matches!(src, Opnd::Imm(_)) || ss != size || size == 1 {
                return None;
            }
            let imm = if i.op_count() == 3 {
                match operand(i, 2)? {
                    (Opnd::Imm(v), _) => Some(v),
                    _ => return None,
                }
            } else {
                None
            };
            Op::Imul {
                size,
                dst,
                src,
                imm,
            }
        }
        M::Push if stack_ok && i.op_count() == 1 => {
            let size = i.stack_pointer_increment().unsigned_abs() as u8;
            let (src, s) = operand(i, 0)?;
            if !matches!(size, 2 | 4) || (s != 0 && s != size) {
                return None;
            }
            Op::Push { size, src }
        }
        M::Pop if stack_ok && i.op_count() == 1 => {
            let size = i.stack_pointer_increment().unsigned_abs() as u8;
            let (Opnd::Reg(dst), s) = operand(i, 0)? else {
                return None;
            };
            if s != size {
                return None;
            }
            Op::Pop { size, dst }
        }
        M::Xchg => {
            let (Opnd::Reg(a), size) = operand(i, 0)? else {
                return None;
            };
            let (Opnd::Reg(b), _) = operand(i, 1)? else {
                return None;
            };
            Op::Xchg { size, a, b }
        }
        M::Cbw => Op::Widen(1),
        M::Cwde => Op::Widen(2),
        M::Cwd => Op::Widen(3),
        M::Cdq => Op::Widen(4),
        M::Nop if i.op_count() == 0 || i.op_kind(0) != OpKind::Memory || mem_ok(i) => Op::Nop,
        M::Clc => Op::FlagOp {
            and: !FLAG_CF,
            or: 0,
            xor: 0,
        },
        M::Stc => Op::FlagOp {
            and: !0,
            or: FLAG_CF,
            xor: 0,
        },
        M::Cmc => Op::FlagOp {
            and: !0,
            or: 0,
            xor: FLAG_CF,
        },
        M::Cld => Op::FlagOp {
            and: !FLAG_DF,
            or: 0,
            xor: 0,
        },
        M::Std => Op::FlagOp {
            and: !0,
            or: FLAG_DF,
            xor: 0,
        },
        m if i.is_jcc_short_or_near() || m == M::Jmp || m == M::Call => match i.op_kind(0) {
            // An operand-size prefix (a 32-bit target in 16-bit code or a
            // 16-bit one in 32-bit code) goes to the interpreter, which
            // checks the target against the CS limit (found by btvm fuzz).
            OpKind::NearBranch16 | OpKind::NearBranch32
                if near_ok
                    && (i.op_kind(0) == OpKind::NearBranch32) == mode.has(ModeKey::CODE32) =>
            {
                let target = i.near_branch_target() as u32;
                if m == M::Jmp {
                    Op::Jmp { target }
                } else if m == M::Call {
                    if !stack_ok {
                        return None;
                    }
                    Op::Call {
                        size: i.stack_pointer_increment().unsigned_abs() as u8,
                        target,
                    }
                } else {
                    Op::Jcc {
                        cc: cc_of(i)?,
                        target,
                    }
                }
            }
            // Near indirect only: JMP/CALL FAR m16:16 in 32-bit code has a
            // 4-byte operand too.
            OpKind::Register | OpKind::Memory
                if near_ok && (i.is_jmp_near_indirect() || i.is_call_near_indirect()) =>
            {
                let (src, size) = operand(i, 0)?;
                if size != if mode.has(ModeKey::CODE32) { 4 } else { 2 } {
                    return None;
                }
                if m == M::Jmp {
                    Op::JmpInd { size, src }
                } else if stack_ok {
                    Op::CallInd { size, src }
                } else {
                    return None;
                }
            }
            _ => return None,
        },
        M::Ret if near_ok && stack_ok => {
            let imm = if i.op_count() == 1 {
                i.immediate16()
            } else {
                0
            };
            let size = if mode.has(ModeKey::CODE32) { 4 } else { 2 };
            if i.stack_pointer_increment() != i32::from(size) + i32::from(imm) {
                return None;
            }
            Op::Ret { size, imm }
        }
        M::Loop | M::Jecxz | M::Jcxz if near_ok => {
            let addr32 = match i.code() {
                iced_x86::Code::Loop_rel8_16_ECX
                | iced_x86::Code::Loop_rel8_32_ECX
                | iced_x86::Code::Jecxz_rel8_16
                | iced_x86::Code::Jecxz_rel8_32 => true,
                iced_x86::Code::Loop_rel8_16_CX
                | iced_x86::Code::Loop_rel8_32_CX
                | iced_x86::Code::Jcxz_rel8_16
                | iced_x86::Code::Jcxz_rel8_32 => false,
                _ => return None,
            };
            let target = i.near_branch_target() as u32;
            if i.mnemonic() == M::Loop {
                Op::Loop { addr32, target }
            } else {
                Op::Jcxz { addr32, target }
            }
        }
        _ => return None,
    })
}
