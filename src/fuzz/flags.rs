//! The undefined-flags mask of an executed trace: per instruction, iced-x86
//! says which EFLAGS bits it modifies and which the manuals leave
//! undefined; along the trace `mask = (mask & !modified) | undefined`, so a
//! flag is ignored only while its last writer left it undefined.

use iced_x86::{Decoder, DecoderOptions, RflagsBits};

use super::machine::Traced;
use btvm_jit::flags::*;

/// EFLAGS bits compared at all: the arithmetic flags, TF, IF, DF, IOPL,
/// NT, AC and ID. RF, VM, VIF and VIP are not (RF is set in the frame of
/// a fault on real hardware and in no engine's model).
pub const EFLAGS_COMPARED: u32 =
    FLAGS_ARITH | FLAG_TF | FLAG_IF | FLAG_DF | FLAG_IOPL | FLAG_NT | FLAG_AC | FLAG_ID;

/// EFLAGS bits of an iced-x86 `RflagsBits` set.
pub fn eflags_of(r: u32) -> u32 {
    let pairs = [
        (RflagsBits::OF, FLAG_OF),
        (RflagsBits::SF, FLAG_SF),
        (RflagsBits::ZF, FLAG_ZF),
        (RflagsBits::AF, FLAG_AF),
        (RflagsBits::CF, FLAG_CF),
        (RflagsBits::PF, FLAG_PF),
        (RflagsBits::DF, FLAG_DF),
        (RflagsBits::IF, FLAG_IF),
        (RflagsBits::AC, FLAG_AC),
    ];
    pairs
        .iter()
        .filter(|(i, _)| r & i != 0)
        .fold(0, |a, (_, e)| a | e)
}

/// The undefined flags after a trace, and whether the trace read one of
/// them while it was undefined (LAHF, PUSHF, ADC, SETcc, Jcc...): then
/// registers, memory or control flow depend on what the manuals leave
/// open, and the case is not comparable.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FlagsMask {
    /// EFLAGS bits undefined at the end.
    pub mask: u32,
    /// An undefined flag was read.
    pub tainted: bool,
}

/// Whether the instruction's result is undefined in the manuals: a
/// 16-bit SHLD/SHRD by more than 16.
fn undefined_result(i: &iced_x86::Instruction, ecx: u32) -> bool {
    use iced_x86::{Mnemonic, OpKind};
    if !matches!(i.mnemonic(), Mnemonic::Shld | Mnemonic::Shrd) {
        return false;
    }
    let count = if i.op2_kind() == OpKind::Immediate8 {
        u32::from(i.immediate8())
    } else {
        ecx & 0xFF
    } & 31;
    let word = i.op1_register().size() == 2;
    word && count > 16
}

/// OF after a shift or rotate whose masked count is above 1 is undefined;
/// iced-x86 calls an 8/16-bit RCL/RCR by a multiple of 9/17 a no-op, but
/// the CPU still writes OF (found by `btvm fuzz` against KVM).
fn rotate_of_undefined(i: &iced_x86::Instruction, ecx: u32) -> u32 {
    use iced_x86::{Mnemonic::*, OpKind};
    if !matches!(i.mnemonic(), Rcl | Rcr | Rol | Ror | Shl | Shr | Sar | Sal) {
        return 0;
    }
    let count = match i.op1_kind() {
        OpKind::Immediate8 => u32::from(i.immediate8()),
        OpKind::Register => ecx & 0xFF,
        _ => 1,
    } & 31;
    if count > 1 {
        FLAG_OF
    } else {
        0
    }
}

/// The mask of undefined flags after the trace. `fault_at` is the
/// (linear address of the) instruction that faulted, if the run ended in a
/// fault there: that instruction did not complete, so it does not count.
pub fn undefined_mask(trace: &[Traced], fault_at: Option<u32>) -> FlagsMask {
    let mut mask = 0u32;
    let mut tainted = false;
    let n = match (trace.last(), fault_at) {
        (Some(t), Some(f)) if t.linear == f => trace.len() - 1,
        _ => trace.len(),
    };
    for t in &trace[..n] {
        let mut d = Decoder::with_ip(t.bitness, &t.bytes, u64::from(t.eip), DecoderOptions::NONE);
        let i = d.decode();
        if i.is_invalid() {
            continue;
        }
        // A software interrupt with TF set: whether the single-step trap
        // follows it is not settled (KVM's emulator takes it at the
        // handler's first instruction; btvm does not take it).
        // Likewise a REP string instruction: btvm traps after every
        // iteration as the manuals say, KVM's emulator after a batch.
        let rep_tf = t.eflags & FLAG_TF != 0 && (i.has_rep_prefix() || i.has_repne_prefix());
        let int_tf = rep_tf
            || t.eflags & FLAG_TF != 0
                && matches!(
                    i.mnemonic(),
                    iced_x86::Mnemonic::Int | iced_x86::Mnemonic::Int3 | iced_x86::Mnemonic::Into
                );
        if eflags_of(i.rflags_read()) & mask != 0 || undefined_result(&i, t.ecx) || int_tf {
            tainted = true;
        }
        let modified = eflags_of(i.rflags_modified());
        let undefined = eflags_of(i.rflags_undefined()) | rotate_of_undefined(&i, t.ecx);
        mask = (mask & !modified) | undefined;
    }
    FlagsMask { mask, tainted }
}
