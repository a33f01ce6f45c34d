//! Execution engines behind one trait: the machine's run loop hands an
//! engine the CPU, memory and buses for a batch of guest instructions and
//! does everything else (devices, interrupts, limits) itself.
//!
//! - [`interp::Interp`]: the reference interpreter (decode cache + handlers).
//! - `jit`: basic-block translation to x86-64 (see `crate::jit`).
//! - [`kvm::Kvm`]: the guest on the host's KVM, with btvm's devices behind
//!   I/O and MMIO exits.

pub mod interp;
pub mod kvm;
pub mod schedule;

use crate::cpu::access::Ctx;
use crate::cpu::exception::Stop;
use crate::error::Error;
use crate::machine::clock::ClockKind;

/// Which engine a machine runs (`--engine`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum EngineKind {
    /// The reference interpreter.
    #[default]
    Interp,
    /// The basic-block JIT.
    Jit,
    /// Linux KVM (`/dev/kvm`).
    Kvm,
}

impl EngineKind {
    /// The engine's name as `--engine` spells it.
    pub fn name(self) -> &'static str {
        match self {
            EngineKind::Interp => "interp",
            EngineKind::Jit => "jit",
            EngineKind::Kvm => "kvm",
        }
    }

    /// The engine `--engine` calls `name`.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.name() == name)
    }

    /// Every engine, in the order Ctrl-A E cycles through them.
    pub const ALL: [EngineKind; 3] = [EngineKind::Interp, EngineKind::Jit, EngineKind::Kvm];

    /// The next engine after this one in [`EngineKind::ALL`], wrapping.
    pub fn next(self) -> Self {
        let i = Self::ALL.iter().position(|&k| k == self).unwrap_or(0);
        Self::ALL[(i + 1) % Self::ALL.len()]
    }
}

/// Counters an engine reports for `--stats`: (name, value) pairs.
pub type EngineStats = Vec<(&'static str, u64)>;

/// An execution engine.
pub trait Engine {
    /// Run guest instructions until `end` (an absolute instruction count)
    /// is reached, HLT, an `attention` request (`ctx.cpu.regs.attention`),
    /// or, when `irq_pending`, as soon as interrupts become deliverable
    /// (IF = 1 and no STI/MOV SS shadow). Exceptions are delivered inside;
    /// the `Err` stops are the ones the machine must act on.
    fn run_until(&mut self, ctx: &mut Ctx, end: u64, irq_pending: bool) -> Result<(), Stop>;

    /// Forget everything cached about guest code and mappings (machine
    /// reset, A20 change).
    fn reset(&mut self);

    /// Counters for `--stats`.
    fn stats(&self) -> EngineStats {
        Vec::new()
    }

    /// After [`Stop::CheckFailed`]: what went wrong, in one message.
    fn take_failure(&mut self) -> Option<String> {
        None
    }
}

/// Build the engine of a kind. Engines that need the host (KVM) can fail:
/// the error is one line naming what is missing ("kvm: /dev/kvm: ...").
/// `clock` tells a wall-clock engine how fast virtual time runs; `check`
/// is `--engine jit --check`.
pub fn try_new_engine(
    kind: EngineKind,
    clock: ClockKind,
    check: bool,
) -> Result<Box<dyn Engine>, Error> {
    Ok(match kind {
        EngineKind::Interp => Box::new(interp::Interp::new()),
        EngineKind::Jit => Box::new(
            crate::jit::JitEngine::new(check).map_err(|e| Error::Host(format!("jit: {e}")))?,
        ),
        EngineKind::Kvm => Box::new(kvm::Kvm::open(clock)?),
    })
}
