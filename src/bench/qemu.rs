//! Running a benchmark ROM under QEMU's translator (TCG) as a child
//! process: `qemu-system-i386 -M isapc` with the isa-debug-exit device at
//! the same port as btvm's, timed from spawn to exit.

use std::io::{ErrorKind, Read};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::target::{last_line, RunError, Sample, DONE_MARKER};

/// The QEMU binary.
pub const QEMU: &str = "qemu-system-i386";
/// A run that takes longer than this is a hang.
const TIMEOUT: Duration = Duration::from_secs(300);

/// Run `rom` once under QEMU TCG. `_iters` is unused: QEMU counts no
/// instructions here.
pub fn run(rom: &Path, _iters: u64) -> Result<Sample, RunError> {
    let start = Instant::now();
    let child = Command::new(QEMU)
        .args(["-M", "isapc", "-accel", "tcg", "-bios"])
        .arg(rom)
        .args(["-display", "none", "-serial", "stdio", "-monitor", "none"])
        .args([
            "-device",
            "isa-debug-exit,iobase=0xf4,iosize=4",
            "-no-reboot",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) if e.kind() == ErrorKind::NotFound => {
            return Err(RunError::Unavailable(format!("{QEMU} not found on PATH")))
        }
        Err(e) => return Err(RunError::Unavailable(format!("cannot start {QEMU}: {e}"))),
    };
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break s,
            Ok(None) if start.elapsed() > TIMEOUT => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(RunError::Failed(format!(
                    "{QEMU} did not finish in {} s",
                    TIMEOUT.as_secs()
                )));
            }
            Ok(None) => std::thread::sleep(Duration::from_micros(200)),
            Err(e) => return Err(RunError::Failed(format!("waiting for {QEMU}: {e}"))),
        }
    };
    let wall = start.elapsed();
    let mut out = Vec::new();
    let mut err = Vec::new();
    if let Some(mut s) = child.stdout.take() {
        let _ = s.read_to_end(&mut out);
    }
    if let Some(mut s) = child.stderr.take() {
        let _ = s.read_to_end(&mut err);
    }
    let done = out
        .windows(DONE_MARKER.len())
        .any(|w| w == DONE_MARKER.as_bytes());
    if status.code() == Some(1) && done {
        return Ok(Sample {
            wall,
            icount: None,
            exits: None,
        });
    }
    let stderr = String::from_utf8_lossy(&err);
    let stderr = stderr.lines().next().unwrap_or("").trim();
    Err(RunError::Failed(format!(
        "{QEMU} exited with {status}; {}{}",
        last_line(&out),
        if stderr.is_empty() {
            String::new()
        } else {
            format!("; stderr: {stderr}")
        }
    )))
}
