//! The `linux-boot` row: the bundled Linux guest ([`crate::guest`]) booted
//! to its readiness marker, once per run, under an engine in this process
//! or under QEMU TCG (`-M isapc -cpu pentium2`, as scripts/boot-vs-qemu.py
//! does). The cell is wall time for one boot, so "ns/iter" is ns per boot.
//! Under a KVM that cannot run protected mode (PVM) the cell is the
//! engine's one-line failure, not a hang.

use std::cell::RefCell;
use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::rc::Rc;
use std::time::{Duration, Instant};

use super::in_process::Capture;
use super::qemu::QEMU;
use super::target::{last_line, RunError, Sample, Target};
use crate::engine::EngineKind;
use crate::machine::clock::{ClockKind, DEFAULT_VIRTUAL_MIPS};
use crate::machine::pc::ConsoleOut;
use crate::machine::{Config, Exit, Limits, Machine};

/// The row's name (`--rows linux-boot`).
pub const ROW: &str = "linux-boot";
/// What the bundled guest prints when its init runs.
pub const MARKER: &str = "BTVM-GUEST-READY";
/// Guest RAM, MiB (the same for btvm and QEMU).
const MEMORY_MIB: u32 = 64;
/// Longest boot before the cell is a failure.
const TIMEOUT: Duration = Duration::from_secs(600);

/// Boot once under `target` and time it to the marker.
pub fn run(target: Target, dir: &Path) -> Result<Sample, RunError> {
    match target {
        Target::Engine(k) => in_process(k),
        Target::Qemu => qemu(dir),
    }
}

/// The boot on one of btvm's engines, virtual clock.
fn in_process(kind: EngineKind) -> Result<Sample, RunError> {
    let serial = Rc::new(RefCell::new(Vec::new()));
    let console = ConsoleOut::new(Box::new(Capture(serial.clone())));
    console.watch_for(MARKER.as_bytes());
    let cfg = Config {
        memory_mib: MEMORY_MIB,
        linux: Some(crate::guest::linux(None)),
        clock: ClockKind::Virtual {
            mips: DEFAULT_VIRTUAL_MIPS,
        },
        engine: kind,
        ..Config::default()
    };
    let mut m =
        Machine::with_console(cfg, console).map_err(|e| RunError::Unavailable(e.to_string()))?;
    let limits = Limits {
        timeout: Some(TIMEOUT),
        ..Limits::default()
    };
    let start = Instant::now();
    let exit = m.run(&limits);
    let wall = start.elapsed();
    match exit {
        Exit::SerialMarker => Ok(Sample {
            wall,
            icount: Some(m.cpu.regs.icount),
            exits: super::in_process::kvm_exits(&m),
        }),
        other => Err(RunError::Failed(format!(
            "{} (status {}); {}",
            other.describe(),
            other.status(),
            last_line(&serial.borrow())
        ))),
    }
}

/// The boot under QEMU TCG, with the bundled kernel and initramfs written
/// to `dir`.
fn qemu(dir: &Path) -> Result<Sample, RunError> {
    let io = |e: std::io::Error| RunError::Failed(format!("{}: {e}", dir.display()));
    std::fs::create_dir_all(dir).map_err(io)?;
    let kernel = dir.join("linux-bzImage");
    let initrd = dir.join("linux-initramfs.cpio.gz");
    std::fs::write(&kernel, crate::guest::KERNEL).map_err(io)?;
    std::fs::write(&initrd, crate::guest::INITRAMFS).map_err(io)?;
    let start = Instant::now();
    let child = Command::new(QEMU)
        .args(["-M", "isapc", "-accel", "tcg", "-cpu", "pentium2", "-m"])
        .arg(MEMORY_MIB.to_string())
        .args(["-display", "none", "-serial", "stdio", "-monitor", "none"])
        .args(["-no-reboot", "-kernel"])
        .arg(&kernel)
        .arg("-initrd")
        .arg(&initrd)
        .args(["-append", crate::guest::CMDLINE])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(RunError::Unavailable(format!("{QEMU} not found on PATH")))
        }
        Err(e) => return Err(RunError::Unavailable(format!("cannot start {QEMU}: {e}"))),
    };
    let mut out = child.stdout.take().expect("piped stdout");
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    let found = loop {
        if start.elapsed() > TIMEOUT {
            break false;
        }
        match out.read(&mut buf) {
            Ok(0) | Err(_) => break false,
            Ok(n) => {
                seen.extend_from_slice(&buf[..n]);
                if seen.windows(MARKER.len()).any(|w| w == MARKER.as_bytes()) {
                    break true;
                }
            }
        }
    };
    let wall = start.elapsed();
    let _ = child.kill();
    let _ = child.wait();
    if found {
        Ok(Sample {
            wall,
            icount: None,
            exits: None,
        })
    } else {
        Err(RunError::Failed(format!(
            "{QEMU} stopped without {MARKER}; {}",
            last_line(&seen)
        )))
    }
}
