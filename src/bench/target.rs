//! What a benchmark ROM runs on (a btvm engine in this process, or QEMU as
//! a child process) and what one timed run yields.

use std::path::Path;
use std::time::Duration;

use crate::engine::EngineKind;

/// Every engine `--engines` accepts, in their usual column order. A new
/// engine is one more entry here.
pub const KNOWN_ENGINES: &[EngineKind] = &[EngineKind::Interp, EngineKind::Jit, EngineKind::Kvm];

/// Where a ROM runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// A btvm engine, in-process.
    Engine(EngineKind),
    /// `qemu-system-i386` (TCG) as a child process.
    Qemu,
}

impl Target {
    /// The column name: the engine's `--engine` spelling, or `qemu`.
    pub fn name(self) -> &'static str {
        match self {
            Target::Engine(k) => k.name(),
            Target::Qemu => "qemu",
        }
    }

    /// Run `rom` once and time it.
    pub fn run(self, rom: &Path, iters: u64) -> Result<Sample, RunError> {
        match self {
            Target::Engine(k) => super::in_process::run(rom, k, iters),
            Target::Qemu => super::qemu::run(rom, iters),
        }
    }
}

/// Parse an `--engines` entry by the engine's name.
pub fn parse_engine(name: &str) -> Option<EngineKind> {
    KNOWN_ENGINES.iter().copied().find(|k| k.name() == name)
}

/// The names of [`KNOWN_ENGINES`], comma-separated (for messages).
pub fn engine_names() -> String {
    KNOWN_ENGINES
        .iter()
        .map(|k| k.name())
        .collect::<Vec<_>>()
        .join(",")
}

/// One successful run.
#[derive(Clone, Copy, Debug)]
pub struct Sample {
    /// Wall time of the guest run (in-process: `Machine::run` only; QEMU:
    /// the whole child process).
    pub wall: Duration,
    /// Guest instructions retired, when the target counts them.
    pub icount: Option<u64>,
    /// KVM exits (KVM_RUN returns), under the kvm engine.
    pub exits: Option<u64>,
}

/// Why a run gave no sample.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RunError {
    /// The target cannot run on this host (no /dev/kvm, no QEMU): shown as
    /// "n/a (reason)", not a failure.
    Unavailable(String),
    /// The ROM ran but did not finish properly: shown as FAIL.
    Failed(String),
}

/// The text the ROMs print when they finish.
pub const DONE_MARKER: &str = "BENCH-DONE";

/// The last line of serial output, trimmed, for failure messages.
pub fn last_line(serial: &[u8]) -> String {
    let text = String::from_utf8_lossy(serial);
    let line = text
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("");
    let line = line.trim();
    if line.is_empty() {
        "no serial output".to_string()
    } else {
        format!("serial: {line:?}")
    }
}
