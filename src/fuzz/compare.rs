//! Comparing two outcomes of one case: registers, flags under the
//! undefined-flags mask, the exception, CR2 for page faults and every
//! written byte; and printing them side by side.

use std::collections::BTreeMap;

use super::flags::EFLAGS_COMPARED;
use super::machine::{system_page, user_page};
use super::outcome::{End, Outcome};

/// What the reference in a comparison can see.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reference {
    /// Another emulator engine (interp vs jit): everything, including
    /// instruction counts and timeouts.
    Emulated,
    /// KVM: no exact instruction count (timeouts are not compared).
    Kvm,
    /// The native runner: user pages only, faults on unmapped pages.
    Native,
}

const GPR_NAMES: [&str; 8] = ["eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi"];
const SEG_NAMES: [&str; 6] = ["es", "cs", "ss", "ds", "fs", "gs"];

/// Normalise an outcome for comparison against `reference`.
fn normalised(o: &Outcome, reference: Reference) -> Outcome {
    let mut o = o.clone();
    if reference == Reference::Native {
        // Natively the system pages are unmapped (P=0) where the emulated
        // machine has them as supervisor pages (P=1); a 64-bit host with
        // NX also sets I/D on fetch faults, which 32-bit paging does not.
        if let End::Exception {
            vector: 14,
            error: Some(e),
        } = &mut o.end
        {
            *e &= !0x10;
            if system_page(o.cr2) || !user_page(o.cr2) {
                *e &= !1;
            }
        }
        o.written.retain(|&(a, _)| user_page(a));
    }
    if reference == Reference::Kvm && matches!(o.end, End::Exception { .. }) {
        // KVM's real-mode emulator clears ESP[31:16] when it delivers an
        // exception from a stack with SP above them set; btvm keeps them
        // (16-bit pushes). Unsettled against silicon: not compared.
        o.gpr[4] &= 0xFFFF;
    }
    o
}

/// Whether a comparison between these ends is meaningful at all.
/// Against hardware, a timeout or a run the host could not make (KVM's
/// emulator refusing an instruction) is not comparable.
pub fn comparable(a: &Outcome, b: &Outcome, reference: Reference) -> bool {
    let hw_ok = |o: &Outcome| o.end != End::Timeout && !matches!(o.end, End::Failed(_));
    // This host's KVM runs real mode in its instruction emulator, which
    // does not check the stack segment's limit when SP wraps: PUSH with
    // SP = 1 is #SS, #DF, then shutdown in the manuals (PUSH, "IA-32
    // Architecture Compatibility") and in btvm, but KVM delivers the #SS.
    // Likewise a dword stack access at SP = 0xFFFE is #SS in btvm and the
    // manuals but wraps in KVM's emulator: real-mode #SS is not compared.
    let kvm_ok = |o: &Outcome| {
        reference != Reference::Kvm
            || !matches!(o.end, End::TripleFault | End::Exception { vector: 12, .. })
    };
    reference == Reference::Emulated || (hw_ok(a) && hw_ok(b) && kvm_ok(a) && kvm_ok(b))
}

/// The differences between `a` and `b`, one line each (empty: they agree).
/// `flags_mask` holds the EFLAGS bits left undefined by the trace.
pub fn compare(a: &Outcome, b: &Outcome, flags_mask: u32, reference: Reference) -> Vec<String> {
    if !comparable(a, b, reference) {
        return Vec::new();
    }
    let (a, b) = (normalised(a, reference), normalised(b, reference));
    let mut d = Vec::new();
    if a.end != b.end {
        d.push(format!("end: {} | {}", a.end.describe(), b.end.describe()));
    }
    for (k, name) in GPR_NAMES.iter().enumerate() {
        if a.gpr[k] != b.gpr[k] {
            d.push(format!("{name}: {:08x} | {:08x}", a.gpr[k], b.gpr[k]));
        }
    }
    if a.eip != b.eip {
        d.push(format!("eip: {:08x} | {:08x}", a.eip, b.eip));
    }
    let m = EFLAGS_COMPARED & !flags_mask;
    if a.eflags & m != b.eflags & m {
        d.push(format!(
            "eflags: {:08x} | {:08x} (compared bits {m:08x}, differing {:08x})",
            a.eflags,
            b.eflags,
            (a.eflags ^ b.eflags) & m
        ));
    }
    if reference != Reference::Native {
        for (k, name) in SEG_NAMES.iter().enumerate() {
            if a.seg[k] != b.seg[k] {
                d.push(format!("{name}: {:04x} | {:04x}", a.seg[k], b.seg[k]));
            }
        }
    }
    let pf = |o: &Outcome| matches!(o.end, End::Exception { vector: 14, .. });
    if pf(&a) && pf(&b) && a.cr2 != b.cr2 {
        d.push(format!("cr2: {:08x} | {:08x}", a.cr2, b.cr2));
    }
    if reference == Reference::Emulated && a.icount != b.icount {
        d.push(format!("instructions: {} | {}", a.icount, b.icount));
    }
    let mut mem: BTreeMap<u32, (Option<u8>, Option<u8>)> = BTreeMap::new();
    for &(addr, v) in &a.written {
        mem.entry(addr).or_default().0 = Some(v);
    }
    for &(addr, v) in &b.written {
        mem.entry(addr).or_default().1 = Some(v);
    }
    let show = |v: Option<u8>| v.map_or("--".to_string(), |v| format!("{v:02x}"));
    let mut shown = 0;
    for (addr, (x, y)) in mem {
        if x != y {
            if shown < 32 {
                d.push(format!("mem[{addr:08x}]: {} | {}", show(x), show(y)));
            }
            shown += 1;
        }
    }
    if shown > 32 {
        d.push(format!("... {} more differing bytes", shown - 32));
    }
    d
}
