//! Which decoded instructions a stream may hold, per mode and engine set:
//! only what the emulated CPU (a P6 without MMX/SSE) has, and for the
//! hardware references only what they can run comparably (no FS/GS, no
//! segment loads, no far transfers, CPUID, RDTSC, x87... for native; no
//! control-register, descriptor-table or MSR access for KVM).

use iced_x86::{Code, CpuidFeature, Instruction, Mnemonic, OpKind, Register};

use super::mode::Mode;

/// Which references the stream must suit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Targets {
    /// Runs under KVM too.
    pub kvm: bool,
    /// Runs under the native runner too.
    pub native: bool,
}

fn features_ok(i: &Instruction, fpu: bool) -> bool {
    i.cpuid_features().iter().all(|f| match f {
        CpuidFeature::INTEL8086
        | CpuidFeature::INTEL8086_ONLY
        | CpuidFeature::INTEL186
        | CpuidFeature::INTEL286
        | CpuidFeature::INTEL386
        | CpuidFeature::INTEL486
        | CpuidFeature::CMOV
        | CpuidFeature::CX8
        | CpuidFeature::MSR
        | CpuidFeature::TSC
        | CpuidFeature::CPUID
        | CpuidFeature::PAUSE
        | CpuidFeature::MULTIBYTENOP => true,
        CpuidFeature::FPU | CpuidFeature::FPU287 | CpuidFeature::FPU387 => fpu,
        _ => false,
    })
}

/// Whether `i` exists on the host but not on the emulated CPU (SSE,
/// MMX...): a stream that branches into the middle of an instruction can
/// reach one. The emulated CPU raises #UD there and the host runs it, so
/// such a case is not compared natively.
pub fn beyond_emulated_cpu(i: &Instruction) -> bool {
    i.code() != Code::INVALID && !features_ok(i, true)
}

fn touches_fs_gs(i: &Instruction) -> bool {
    matches!(i.segment_prefix(), Register::FS | Register::GS)
        || (0..i.op_count()).any(|k| {
            i.op_kind(k) == OpKind::Register
                && matches!(i.op_register(k), Register::FS | Register::GS)
        })
}

fn writes_segment(i: &Instruction) -> bool {
    use Mnemonic::*;
    matches!(
        i.mnemonic(),
        Lds | Les | Lss | Lfs | Lgs | Iret | Iretd | Retf
    ) || (i.mnemonic() == Mov
        && i.op0_kind() == OpKind::Register
        && i.op0_register().is_segment_register())
        || (i.mnemonic() == Pop
            && i.op0_kind() == OpKind::Register
            && i.op0_register().is_segment_register())
        || matches!(i.op0_kind(), OpKind::FarBranch16 | OpKind::FarBranch32)
        || matches!(
            i.code(),
            Code::Call_m1616 | Code::Call_m1632 | Code::Jmp_m1616 | Code::Jmp_m1632
        )
}

/// The legacy prefixes at the start of an instruction's bytes.
fn prefixes(bytes: &[u8]) -> &[u8] {
    let n = bytes
        .iter()
        .take_while(|b| {
            matches!(
                b,
                0x66 | 0x67 | 0xF0 | 0xF2 | 0xF3 | 0x26 | 0x2E | 0x36 | 0x3E | 0x64 | 0x65
            )
        })
        .count();
    &bytes[..n]
}

/// Whether a decoded instruction (`bytes` its encoding) may be part of a
/// stream for `mode` running under `targets`.
pub fn allowed(i: &Instruction, bytes: &[u8], mode: Mode, targets: Targets) -> bool {
    use Mnemonic::*;
    if i.is_invalid() || i.len() > 15 {
        return false;
    }
    let hw = targets.kvm || targets.native;
    if !features_ok(i, !hw) {
        return false;
    }
    // Instructions whose encodings differ between vendors or that btvm's
    // CPU model does not have.
    if matches!(i.mnemonic(), Ud0 | Int1 | Rsm | Loadall | Umov | Salc) {
        return false;
    }
    if hw && matches!(i.mnemonic(), Cpuid | Rdtsc | Rdtscp | Rdpmc | Rdmsr | Wrmsr) {
        return false;
    }
    // PUSH Sreg with a 32-bit operand size: vendor-specific (SDM PUSH: recent
    // Intel CPUs write the 16-bit selector, AMD, this host, zero-extends to
    // 32 bits; btvm writes 16 bits, like Bochs). Kept out of native streams.
    if targets.native
        && i.mnemonic() == Push
        && i.op_count() == 1
        && i.op_kind(0) == OpKind::Register
        && i.op_register(0).is_segment_register()
    {
        return false;
    }
    // A REP prefix on a non-string instruction is reserved ("unpredictable
    // behavior", SDM vol. 2 2.1.1): this AMD host runs F3 LOOPNE as not
    // taken where the count and ZF say taken. Kept out of hardware streams.
    if hw && !i.is_string_instruction() && prefixes(bytes).iter().any(|&b| b == 0xF2 || b == 0xF3) {
        return false;
    }
    if targets.kvm {
        // This host's KVM runs real mode in its instruction emulator, not
        // on silicon; its AAD/AAM set SF/ZF/PF from all of AX (Linux
        // arch/x86/kvm/emulate.c em_aad/em_aam OR the 16-bit destination),
        // where the hardware uses AL.
        // Its REP INS/OUTS batches to a page and checks the segment limit
        // for the whole batch, faulting iterations early.
        if matches!(
            i.mnemonic(),
            Aad | Aam | Insb | Insw | Insd | Outsb | Outsw | Outsd
        ) {
            return false;
        }
        // Its real-mode INT n pushes a 32-bit frame under an operand-size
        // prefix; the CPU always pushes 16-bit FLAGS, CS, IP.
        if matches!(i.mnemonic(), Int | Int3 | Into) && prefixes(bytes).contains(&0x66) {
            return false;
        }
        if matches!(
            i.mnemonic(),
            Lgdt | Lidt
                | Lldt
                | Ltr
                | Sgdt
                | Sidt
                | Sldt
                | Str
                | Smsw
                | Lmsw
                | Clts
                | Invd
                | Wbinvd
                | Invlpg
                | Sysenter
                | Sysexit
                | Syscall
                | Sysret
                | Lar
                | Lsl
                | Verr
                | Verw
        ) {
            return false;
        }
        if (0..i.op_count()).any(|k| {
            i.op_kind(k) == OpKind::Register
                && (i.op_register(k).is_cr()
                    || i.op_register(k).is_dr()
                    || i.op_register(k).is_tr())
        }) {
            return false;
        }
    }
    if targets.native {
        if touches_fs_gs(i) || writes_segment(i) {
            return false;
        }
        if matches!(
            i.mnemonic(),
            Int | Sysenter
                | Sysexit
                | Syscall
                | Sysret
                | Popf
                | Popfd
                | Sgdt
                | Sidt
                | Sldt
                | Str
                | Smsw
                | Lar
                | Lsl
                | Verr
                | Verw
        ) {
            return false;
        }
    }
    let _ = mode;
    true
}
