//! One worker's engines and the run of one case under all of them: the
//! interpreter first (stepped, recording the trace for the undefined-flags
//! mask), then every other engine, each compared with the first listed.

use std::fmt;

use super::case::Case;
use super::compare::{comparable, compare, Reference};
use super::flags::undefined_mask;
use super::machine::{mode_selectors, selector_base, Bench, RunLimits};
use super::mode::*;
use super::native::{NativeCase, NativeEnd, NativePage, NativeRegs, NativeRunner};
use super::outcome::{End, Outcome};
use crate::engine::{try_new_engine, Engine, EngineKind};
use crate::error::Error;
use crate::machine::clock::ClockKind;
use btvm_jit::abi::sreg;

/// An engine a case can run under.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EngineId {
    /// The reference interpreter.
    Interp,
    /// The JIT.
    Jit,
    /// KVM (real mode only on this host).
    Kvm,
    /// The host CPU in a child process (ring-3 32-bit with paging only).
    Native,
}

impl EngineId {
    /// Name as `--engines` spells it.
    pub fn name(self) -> &'static str {
        match self {
            EngineId::Interp => "interp",
            EngineId::Jit => "jit",
            EngineId::Kvm => "kvm",
            EngineId::Native => "native",
        }
    }

    /// Parse one `--engines` name.
    pub fn parse(s: &str) -> Option<EngineId> {
        [
            EngineId::Interp,
            EngineId::Jit,
            EngineId::Kvm,
            EngineId::Native,
        ]
        .into_iter()
        .find(|e| e.name() == s)
    }

    fn reference(self) -> Reference {
        match self {
            EngineId::Interp | EngineId::Jit => Reference::Emulated,
            EngineId::Kvm => Reference::Kvm,
            EngineId::Native => Reference::Native,
        }
    }
}

impl fmt::Display for EngineId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Whether an engine can run cases of `mode` at all.
pub fn runs_mode(id: EngineId, mode: Mode) -> bool {
    match id {
        EngineId::Interp | EngineId::Jit => true,
        EngineId::Kvm => mode.kvm_capable(),
        EngineId::Native => mode.native_capable(),
    }
}

/// Why an engine cannot take part for a mode, in one line, or `None`.
pub fn unavailable(id: EngineId, mode: Mode) -> Option<String> {
    match id {
        EngineId::Interp | EngineId::Jit => None,
        EngineId::Kvm if !mode.kvm_capable() => Some(format!(
            "kvm: unavailable for {} (this host's KVM runs real mode only)",
            mode.name()
        )),
        EngineId::Kvm => std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open("/dev/kvm")
            .err()
            .map(|e| format!("kvm: /dev/kvm: {e}")),
        EngineId::Native if !mode.native_capable() => Some(format!(
            "native: unavailable for {} (ring-3 32-bit paged streams only: pm32-ring3-paging)",
            mode.name()
        )),
        EngineId::Native => NativeRunner::available()
            .err()
            .map(|e| format!("native: {e}")),
    }
}

enum Slot {
    Emu(Box<dyn Engine>),
    Native(NativeRunner),
}

/// The outcomes of one case and the differences found.
#[derive(Clone, Debug)]
pub struct CaseRun {
    /// Outcome per engine, in `--engines` order.
    pub outcomes: Vec<(EngineId, Outcome)>,
    /// The undefined-flags mask of the interpreter's trace.
    pub flags_mask: u32,
    /// Differences of each engine against the first: (engine, lines).
    pub diffs: Vec<(EngineId, Vec<String>)>,
    /// Comparisons not made: the hardware reference timed out or could
    /// not run the case.
    pub incomparable: u32,
    /// Instructions the interpreter retired.
    pub instructions: u64,
}

impl CaseRun {
    /// Whether any engine disagreed.
    pub fn diverged(&self) -> bool {
        self.diffs.iter().any(|(_, d)| !d.is_empty())
    }
}

/// A worker's engines (one of each requested kind) and machine.
pub struct Runner {
    bench: Bench,
    interp: Box<dyn Engine>,
    engines: Vec<(EngineId, Slot)>,
    /// The instruction bound.
    pub limit: u64,
}

impl Runner {
    /// Engines for `ids` (at least two; unavailable ones must have been
    /// dropped by the caller).
    pub fn new(ids: &[EngineId], limit: u64) -> Result<Self, Error> {
        let mut engines = Vec::new();
        for &id in ids {
            let slot = match id {
                EngineId::Interp => {
                    Slot::Emu(try_new_engine(EngineKind::Interp, ClockKind::Host, false)?)
                }
                EngineId::Jit => {
                    Slot::Emu(try_new_engine(EngineKind::Jit, ClockKind::Host, false)?)
                }
                EngineId::Kvm => {
                    Slot::Emu(try_new_engine(EngineKind::Kvm, ClockKind::Host, false)?)
                }
                EngineId::Native => Slot::Native(
                    NativeRunner::new().map_err(|e| Error::Host(format!("native: {e}")))?,
                ),
            };
            engines.push((id, slot));
        }
        Ok(Runner {
            bench: Bench::new()?,
            interp: try_new_engine(EngineKind::Interp, ClockKind::Host, false)?,
            engines,
            limit,
        })
    }

    /// The engines this runner compares.
    pub fn ids(&self) -> Vec<EngineId> {
        self.engines.iter().map(|(id, _)| *id).collect()
    }

    /// Run one case under every engine and compare.
    pub fn run(&mut self, case: &Case) -> CaseRun {
        self.bench.load_case(case);
        let mut trace = Vec::new();
        let traced = self.bench.run(
            &mut *self.interp,
            case,
            RunLimits {
                instructions: self.limit,
                trace: true,
                reset: false,
            },
            &mut trace,
        );
        let fault_at = match traced.end {
            End::Exception { .. } => {
                Some(selector_base(case.mode, traced.seg[sreg::CS]).wrapping_add(traced.eip))
            }
            _ => None,
        };
        let undefined = undefined_mask(&trace, fault_at);
        // #UD on an instruction the host has (SSE...) is a CPU-model
        // difference, not a divergence: not compared against native.
        // The instruction the reference faulted on, decoded once.
        let faulting = fault_at.and_then(|lin| {
            let off = lin.wrapping_sub(CODE_BASE) as usize;
            (off < case.code.len()).then(|| {
                iced_x86::Decoder::new(
                    case.mode.bitness(),
                    &case.code[off..],
                    iced_x86::DecoderOptions::NONE,
                )
                .decode()
            })
        });
        let beyond_cpu = matches!(traced.end, End::Exception { vector: 6, .. })
            && faulting.is_some_and(|i| super::filter::beyond_emulated_cpu(&i));
        // Which CMPS operand the CPU touches first is not architectural
        // (this AMD host: ES:EDI first; btvm, Bochs and the SDM's
        // pseudo-code: DS:ESI first). When both can fault, the host's
        // exception may be the other operand's (#GP on a null ES where btvm
        // has #PF on DS:ESI, or CR2 of the other page): not a divergence.
        let cmps_fault = faulting.is_some_and(|i| {
            use iced_x86::Mnemonic::{Cmpsb, Cmpsd, Cmpsw};
            matches!(i.mnemonic(), Cmpsb | Cmpsw | Cmpsd)
        });
        let flags_mask = undefined.mask;
        let mut outcomes = Vec::new();
        for (id, slot) in self.engines.iter_mut() {
            if !runs_mode(*id, case.mode) {
                continue;
            }
            let o = match slot {
                Slot::Emu(_) if *id == EngineId::Interp => traced.clone(),
                Slot::Emu(e) => self.bench.run(
                    &mut **e,
                    case,
                    RunLimits {
                        // KVM counts instructions by host time: give it
                        // room to start up and finish.
                        instructions: if *id == EngineId::Kvm {
                            self.limit.saturating_mul(200)
                        } else {
                            self.limit
                        },
                        trace: false,
                        reset: *id != EngineId::Interp,
                    },
                    &mut Vec::new(),
                ),
                Slot::Native(n) => run_native(n, case, self.bench.image()),
            };
            outcomes.push((*id, o));
        }
        let mut diffs = Vec::new();
        let mut incomparable = 0;
        if let Some((_, first)) = outcomes.first() {
            for (id, o) in &outcomes[1..] {
                let kind = outcomes[0].0.reference().max_with(id.reference());
                if undefined.tainted
                    || !comparable(first, o, kind)
                    || (kind == Reference::Native
                        && (beyond_cpu
                            || (cmps_fault && (o.end != first.end || o.cr2 != first.cr2))))
                {
                    incomparable += 1;
                    diffs.push((*id, Vec::new()));
                } else {
                    diffs.push((*id, compare(first, o, flags_mask, kind)));
                }
            }
        }
        CaseRun {
            outcomes,
            flags_mask,
            diffs,
            incomparable,
            instructions: traced.icount,
        }
    }
}

trait Weaker {
    fn max_with(self, other: Self) -> Self;
}

impl Weaker for Reference {
    /// The comparison both sides support (native < kvm < emulated in what
    /// they expose).
    fn max_with(self, other: Self) -> Self {
        use Reference::*;
        match (self, other) {
            (Native, _) | (_, Native) => Native,
            (Kvm, _) | (_, Kvm) => Kvm,
            _ => Emulated,
        }
    }
}

/// The pages of a case as the native runner maps them.
pub fn native_case(case: &Case, image: &[u8]) -> NativeCase {
    let page = |a: u32, w: bool| NativePage {
        addr: a,
        data: image[a as usize..a as usize + 4096].to_vec(),
        writable: w,
    };
    let mut pages = vec![page(CODE_BASE, false)];
    for p in 0..DATA_PAGES {
        pages.push(page(DATA_BASE + p * 4096, true));
    }
    pages.push(page(RO_BASE, false));
    pages.push(page(STACK_BASE, true));
    NativeCase {
        pages,
        regs: NativeRegs {
            gpr: case.gpr,
            eip: CODE_BASE,
            eflags: (case.eflags & super::machine::CASE_EFLAGS) | 0x202,
        },
        timeout_ms: 200,
    }
}

fn run_native(n: &mut NativeRunner, case: &Case, image: &[u8]) -> Outcome {
    let nc = native_case(case, image);
    let mut o = Outcome {
        end: End::Timeout,
        gpr: case.gpr,
        eip: 0,
        eflags: 0,
        seg: mode_selectors(case.mode),
        cr2: 0,
        written: Vec::new(),
        icount: 0,
    };
    match n.run(&nc) {
        Err(e) => o.end = End::Failed(format!("native: {e}")),
        Ok(r) => {
            o.gpr = r.regs.gpr;
            o.eip = r.regs.eip;
            o.eflags = r.regs.eflags;
            if let NativeEnd::Exception {
                vector,
                error_code,
                cr2,
            } = r.end
            {
                o.end = End::Exception {
                    vector,
                    error: super::machine::has_error_code(vector).then_some(error_code),
                };
                o.cr2 = cr2;
            }
            for (addr, bytes) in &r.pages {
                let base = *addr as usize;
                for (i, &b) in bytes.iter().enumerate() {
                    if image.get(base + i) != Some(&b) {
                        o.written.push(((base + i) as u32, b));
                    }
                }
            }
        }
    }
    o
}
