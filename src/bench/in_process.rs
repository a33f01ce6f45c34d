//! Running a benchmark ROM on a btvm engine inside this process: build a
//! machine (not timed), time `Machine::run`, then check that the ROM
//! printed BENCH-DONE and exited through the debug-exit port with 0.

use std::cell::RefCell;
use std::io::Write;
use std::path::Path;
use std::rc::Rc;
use std::time::{Duration, Instant};

use super::target::{last_line, RunError, Sample, DONE_MARKER};
use crate::engine::EngineKind;
use crate::machine::clock::ClockKind;
use crate::machine::pc::ConsoleOut;
use crate::machine::{Config, Exit, Limits, Machine, Payload};

/// Keep at most this much serial output (the ROMs print one line).
const SERIAL_CAP: usize = 64 * 1024;
/// Guest instructions allowed per iteration (the biggest row, memcpy,
/// retires ~4,100) plus a fixed allowance for setup.
const INSNS_PER_ITER_CAP: u64 = 20_000;
const INSNS_SETUP_CAP: u64 = 50_000_000;
/// A run that takes longer than this is a hang.
const TIMEOUT: Duration = Duration::from_secs(300);

/// A console sink that keeps what the guest printed.
pub(super) struct Capture(pub(super) Rc<RefCell<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let mut v = self.0.borrow_mut();
        let room = SERIAL_CAP.saturating_sub(v.len());
        v.extend_from_slice(&buf[..buf.len().min(room)]);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Run `rom` (assembled for `iters` iterations) once on engine `kind`.
pub fn run(rom: &Path, kind: EngineKind, iters: u64) -> Result<Sample, RunError> {
    let bios = Payload::read(rom).map_err(|e| RunError::Failed(e.to_string()))?;
    let serial = Rc::new(RefCell::new(Vec::new()));
    let console = ConsoleOut::new(Box::new(Capture(serial.clone())));
    let cfg = Config {
        bios: Some(bios),
        clock: ClockKind::Virtual { mips: 100 },
        engine: kind,
        ..Config::default()
    };
    // A machine that cannot be built (an engine this host lacks) is "n/a".
    let mut m =
        Machine::with_console(cfg, console).map_err(|e| RunError::Unavailable(e.to_string()))?;
    let limits = Limits {
        max_instructions: Some(INSNS_SETUP_CAP + iters.saturating_mul(INSNS_PER_ITER_CAP)),
        timeout: Some(TIMEOUT),
        ..Limits::default()
    };
    let start = Instant::now();
    let exit = m.run(&limits);
    let wall = start.elapsed();
    let serial = serial.borrow();
    let done = serial
        .windows(DONE_MARKER.len())
        .any(|w| w == DONE_MARKER.as_bytes());
    match exit {
        Exit::DebugExit(1) if done => Ok(Sample {
            wall,
            icount: Some(m.cpu.regs.icount),
            exits: kvm_exits(&m),
        }),
        Exit::DebugExit(1) => Err(RunError::Failed(format!(
            "exit status 1 without {DONE_MARKER}; {}",
            last_line(&serial)
        ))),
        other => Err(RunError::Failed(format!(
            "{} (status {}); {}",
            other.describe(),
            other.status(),
            last_line(&serial)
        ))),
    }
}

/// KVM exits so far (returns from KVM_RUN) when the machine runs on kvm.
pub fn kvm_exits(m: &Machine) -> Option<u64> {
    if m.engine_kind() != EngineKind::Kvm {
        return None;
    }
    m.engine_stats()
        .iter()
        .find(|(k, _)| *k == "kvm_run")
        .map(|&(_, n)| n)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 64 KiB ROM whose reset vector writes `value` to the debug-exit port.
    fn exit_rom(value: u8) -> std::path::PathBuf {
        let mut rom = vec![0xF4u8; 0x10000];
        // mov al, value; out 0xF4, al; hlt
        rom[0xFFF0..0xFFF5].copy_from_slice(&[0xB0, value, 0xE6, 0xF4, 0xF4]);
        let path =
            std::env::temp_dir().join(format!("btvm-bench-exit{value}-{}.bin", std::process::id()));
        std::fs::write(&path, rom).unwrap();
        path
    }

    #[test]
    fn a_failing_rom_is_reported_with_its_status() {
        let rom = exit_rom(1);
        let r = run(&rom, EngineKind::Interp, 0);
        let _ = std::fs::remove_file(&rom);
        match r {
            Err(RunError::Failed(why)) => assert!(why.contains("status 3"), "{why}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn exit_without_the_marker_is_a_failure() {
        let rom = exit_rom(0);
        let r = run(&rom, EngineKind::Interp, 0);
        let _ = std::fs::remove_file(&rom);
        match r {
            Err(RunError::Failed(why)) => assert!(why.contains("without BENCH-DONE"), "{why}"),
            other => panic!("{other:?}"),
        }
    }
}
