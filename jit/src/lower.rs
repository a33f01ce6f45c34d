//! Plan -> host code: [`emit`] writes the host code of an inline
//! instruction ([`Op`] from `plan.rs`), [`emit_branch`] that of a
//! block-ending branch.

use iced_x86::{Instruction, Register};

use crate::abi::{gpr, sreg, RegFile};
use crate::emit::{Cur, Dst, Emitter, Src, EAX, ECX};
use crate::mode::ModeKey;
use crate::plan::seg_index;
pub use crate::plan::{gpr_loc, plan, FlagUse, Op, Opnd};

/// Compute the memory operand's effective address into `r14d`; returns
/// the segment register index.
fn ea(em: &mut Emitter, i: &Instruction) -> usize {
    let base = gpr_loc(i.memory_base()).map(|l| l.0);
    let index = gpr_loc(i.memory_index()).map(|l| (l.0, i.memory_index_scale() as u8));
    let addr16 = i.memory_base().is_gpr16()
        || i.memory_index().is_gpr16()
        || (i.memory_base() == Register::None
            && i.memory_index() == Register::None
            && i.memory_displ_size() == 2);
    em.effective_address(base, index, i.memory_displacement32(), addr16);
    seg_index(i.memory_segment()).unwrap_or(sreg::DS)
}

/// Load an operand's value into host `eax` (memory: through the TLB).
fn value_to_eax(em: &mut Emitter, i: &Instruction, cur: Cur, o: Opnd, size: u8) {
    match o {
        Opnd::Reg(off) => em.load_guest(size, EAX, off),
        Opnd::Imm(v) => em.mov(4, Dst::Host(EAX), Src::Imm(v)),
        Opnd::Mem => {
            let seg = ea(em, i);
            em.load(cur, seg, size);
        }
    }
}

fn src_of(o: Opnd) -> Src {
    match o {
        Opnd::Reg(off) => Src::Guest(off),
        Opnd::Imm(v) => Src::Imm(v),
        Opnd::Mem => Src::Host(EAX),
    }
}

const ESP_OFF: i32 = (RegFile::GPR_OFFSET + 4 * gpr::ESP) as i32;
const ECX_OFF: i32 = (RegFile::GPR_OFFSET + 4 * gpr::ECX) as i32;

/// Flags to copy after an op: (from host, cleared) given the live set.
fn live_merge(u: FlagUse, live: u32) -> (u32, u32) {
    (u.host & live, u.writes & live)
}

/// A read-modify-write on memory: `op` works on `eax`, then the result is
/// stored and the flags merged (after the store, so a faulting store
/// leaves EFLAGS untouched).
fn rmw(
    em: &mut Emitter,
    i: &Instruction,
    cur: Cur,
    size: u8,
    merge: (u32, u32),
    op: impl FnOnce(&mut Emitter),
    store: bool,
) {
    let seg = ea(em, i);
    if store {
        em.load_for_write(cur, seg, size);
    } else {
        em.load(cur, seg, size);
    }
    op(em);
    if !store {
        em.merge_flags(merge.0, merge.1);
        return;
    }
    em.mov(4, Dst::Host(ECX), Src::Host(EAX));
    if merge.1 != 0 {
        em.capture_flags_r15();
    }
    em.store(cur, seg, size);
    if merge.1 != 0 {
        em.merge_from_r15(merge.0, merge.1);
    }
}

/// How a block's last instruction left the host flags for a following Jcc.
#[derive(Clone, Copy, Debug, Default)]
pub struct Deferred {
    /// Host flags are in `rdx`; merge (from_host, clear) on each path.
    pub merge: Option<(u32, u32)>,
}

/// Emit `op` for instruction `i`. `live` is the set of flags live after
/// it; with `defer`, a flag merge is left in `rdx` for the Jcc that
/// follows (returned).
pub fn emit(
    em: &mut Emitter,
    i: &Instruction,
    cur: Cur,
    op: Op,
    live: u32,
    defer: bool,
) -> Deferred {
    let u = op.flags();
    let merge = live_merge(u, live);
    let mut out = Deferred::default();
    let finish = |em: &mut Emitter, out: &mut Deferred| {
        if defer && merge.1 != 0 {
            em.capture_flags_rdx();
            out.merge = Some(merge);
        } else {
            em.merge_flags(merge.0, merge.1);
        }
    };
    match op {
        Op::Alu {
            digit,
            size,
            dst,
            src,
        } => {
            let adc = digit == 2 || digit == 3;
            match dst {
                Opnd::Reg(d) => {
                    if src == Opnd::Mem {
                        value_to_eax(em, i, cur, src, size);
                    }
                    if adc {
                        em.guest_cf_to_host();
                    }
                    em.alu(digit, size, Dst::Guest(d), src_of(src));
                    finish(em, &mut out);
                }
                _ => {
                    let s = match src {
                        Opnd::Reg(o) => {
                            em.load_guest(size, ECX, o);
                            Src::Host(ECX)
                        }
                        other => src_of(other),
                    };
                    // Keep the source in r15 across the load's helper call.
                    if let Src::Host(ECX) = s {
                        em.ecx_to_r15();
                    }
                    rmw(
                        em,
                        i,
                        cur,
                        size,
                        merge,
                        |em| {
                            let s = if let Src::Host(ECX) = s {
                                em.r15_to_ecx();
                                Src::Host(ECX)
                            } else {
                                s
                            };
                            if adc {
                                em.guest_cf_to_host();
                            }
                            em.alu(digit, size, Dst::Host(EAX), s);
                        },
                        digit != 7,
                    );
                }
            }
        }
        Op::Test { size, a, b } => {
            let (m, other) = if a == Opnd::Mem { (a, b) } else { (b, a) };
            if m == Opnd::Mem {
                value_to_eax(em, i, cur, Opnd::Mem, size);
                em.test(size, Dst::Host(EAX), src_of(other));
            } else if let Opnd::Reg(d) = a {
                em.test(size, Dst::Guest(d), src_of(b));
            }
            finish(em, &mut out);
        }
        Op::Unary {
            opcode,
            digit,
            size,
            dst,
        } => match dst {
            Opnd::Reg(d) => {
                em.unary(opcode, digit, size, Dst::Guest(d));
                finish(em, &mut out);
            }
            _ => rmw(
                em,
                i,
                cur,
                size,
                merge,
                |em| em.unary(opcode, digit, size, Dst::Host(EAX)),
                true,
            ),
        },
        Op::Shift {
            digit,
            size,
            dst,
            count,
        } => match dst {
            Opnd::Reg(d) => {
                em.shift_imm(digit, size, Dst::Guest(d), count);
                finish(em, &mut out);
            }
            _ => rmw(
                em,
                i,
                cur,
                size,
                merge,
                |em| em.shift_imm(digit, size, Dst::Host(EAX), count),
                true,
            ),
        },
        Op::Mov { size, dst, src } => match (dst, src) {
            (Opnd::Reg(d), Opnd::Mem) => {
                value_to_eax(em, i, cur, src, size);
                em.mov(size, Dst::Guest(d), Src::Host(EAX));
            }
            (Opnd::Reg(d), s) => em.mov(size, Dst::Guest(d), src_of(s)),
            (_, s) => {
                match s {
                    Opnd::Reg(o) => em.load_guest(size, ECX, o),
                    Opnd::Imm(v) => em.mov(4, Dst::Host(ECX), Src::Imm(v)),
                    Opnd::Mem => unreachable!("mov mem, mem"),
                }
                let seg = ea(em, i);
                em.store(cur, seg, size);
            }
        },
        Op::Movx {
            sign,
            dsize,
            ssize,
            dst,
            src,
        } => {
            value_to_eax(em, i, cur, src, ssize);
            if sign {
                em.sign_extend_eax(ssize);
            }
            em.mov(dsize, Dst::Guest(dst), Src::Host(EAX));
        }
        Op::Lea { size, dst } => {
            ea(em, i);
            em.r14_to_eax();
            em.mov(size, Dst::Guest(dst), Src::Host(EAX));
        }
        Op::Imul {
            size,
            dst,
            src,
            imm,
        } => {
            match imm {
                Some(v) => {
                    value_to_eax(em, i, cur, src, size);
                    em.imul_eax_imm(size, v);
                }
                None => {
                    value_to_eax(em, i, cur, src, size);
                    em.mov(4, Dst::Host(ECX), Src::Host(EAX));
                    em.load_guest(size, EAX, dst);
                    em.imul_eax(size, Src::Host(ECX));
                }
            }
            em.mov(size, Dst::Guest(dst), Src::Host(EAX));
            finish(em, &mut out);
        }
        Op::Push { size, src } => {
            match src {
                Opnd::Reg(o) => em.load_guest(size, ECX, o),
                Opnd::Imm(v) => em.mov(4, Dst::Host(ECX), Src::Imm(v)),
                Opnd::Mem => {
                    value_to_eax(em, i, cur, src, size);
                    em.mov(4, Dst::Host(ECX), Src::Host(EAX));
                }
            }
            push_ecx(em, cur, size);
        }
        Op::Pop { size, dst } => {
            pop_to_eax(em, cur, size, 0);
            em.mov(size, Dst::Guest(dst), Src::Host(EAX));
        }
        Op::Xchg { size, a, b } => {
            em.load_guest(size, EAX, a);
            em.load_guest(size, ECX, b);
            em.mov(size, Dst::Guest(a), Src::Host(ECX));
            em.mov(size, Dst::Guest(b), Src::Host(EAX));
        }
        Op::Widen(kind) => em.widen(kind),
        Op::Setcc { cc, dst } => {
            em.guest_flags_to_host(cc);
            em.setcc_al(cc);
            em.mov(1, Dst::Guest(dst), Src::Host(EAX));
        }
        Op::Cmov { cc, size, dst, src } => {
            // Cached operands are loaded before the conditional move so
            // both paths leave the same cache state.
            em.prepare(src, false);
            em.prepare(dst, true);
            em.guest_flags_to_host(cc);
            let skip = em.new_label();
            em.jcc(cc ^ 1, skip);
            em.mov(size, Dst::Guest(dst), Src::Guest(src));
            em.label(skip);
        }
        Op::FlagOp { and, or, xor } => em.flag_op(and, or, xor),
        Op::Nop => {}
        _ => unreachable!("branches are emitted by emit_branch"),
    }
    if em.stored {
        em.attention_check(cur);
        em.stored = false;
    }
    out
}

/// Push `ecx` (`size` bytes) on the guest stack.
fn push_ecx(em: &mut Emitter, cur: Cur, size: u8) {
    let stack32 = em.mode.has(ModeKey::STACK32);
    em.stack_offset(stack32, -i32::from(size));
    em.store(cur, sreg::SS, size);
    em.commit_esp(stack32, ESP_OFF);
}

/// Pop `size` bytes into `eax`, then release `extra` more bytes.
fn pop_to_eax(em: &mut Emitter, cur: Cur, size: u8, extra: u16) {
    let stack32 = em.mode.has(ModeKey::STACK32);
    em.stack_offset(stack32, 0);
    em.load(cur, sreg::SS, size);
    em.add_esp(stack32, ESP_OFF, i32::from(size) + i32::from(extra));
}

/// Emit a block-ending branch. `deferred` carries a flag merge left by the
/// previous instruction; `page_lin` is the block's linear page.
pub fn emit_branch(
    em: &mut Emitter,
    i: &Instruction,
    cur: Cur,
    op: Op,
    deferred: Deferred,
    page_lin: u32,
) {
    let merge = |em: &mut Emitter| {
        if let Some((h, c)) = deferred.merge {
            em.merge_from_rdx(h, c);
        }
    };
    match op {
        Op::Jmp { target } => {
            merge(em);
            em.direct_exit(target, page_lin);
        }
        Op::Jcc { cc, target } => {
            if deferred.merge.is_none() {
                em.guest_flags_to_host(cc);
            }
            // One write-back for both exits (movs keep the host flags).
            em.writeback();
            let taken = em.new_label();
            em.jcc(cc, taken);
            merge(em);
            em.direct_exit(cur.next_eip, page_lin);
            em.label(taken);
            merge(em);
            em.direct_exit(target, page_lin);
        }
        Op::Call { size, target } => {
            merge(em);
            em.mov(4, Dst::Host(ECX), Src::Imm(cur.next_eip));
            push_ecx(em, cur, size);
            em.direct_exit(target, page_lin);
        }
        Op::Ret { size, imm } => {
            merge(em);
            pop_to_eax(em, cur, size, imm);
            em.eax_to_eip();
            em.dynamic_exit();
        }
        Op::JmpInd { size, src } => {
            merge(em);
            value_to_eax(em, i, cur, src, size);
            em.eax_to_eip();
            em.dynamic_exit();
        }
        Op::CallInd { size, src } => {
            merge(em);
            value_to_eax(em, i, cur, src, size);
            em.eax_to_r15();
            em.mov(4, Dst::Host(ECX), Src::Imm(cur.next_eip));
            push_ecx(em, cur, size);
            em.r15_to_eip();
            em.dynamic_exit();
        }
        Op::Loop { addr32, target } | Op::Jcxz { addr32, target } => {
            merge(em);
            let taken = em.new_label();
            let size = if addr32 { 4 } else { 2 };
            if matches!(op, Op::Loop { .. }) {
                em.alu(5, size, Dst::Guest(ECX_OFF), Src::Imm(1));
                em.writeback();
                em.jcc(5, taken);
            } else {
                em.alu(7, size, Dst::Guest(ECX_OFF), Src::Imm(0));
                em.writeback();
                em.jcc(4, taken);
            }
            em.direct_exit(cur.next_eip, page_lin);
            em.label(taken);
            em.direct_exit(target, page_lin);
        }
        _ => unreachable!("not a branch"),
    }
}
