//! Shared helpers for the integration suites: locating the repository,
//! ../shared, assembling test ROMs, and running the btvm binary.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// ../shared beside the repository, if present.
pub fn shared() -> Option<PathBuf> {
    let p = repo().join("..").join("shared");
    p.is_dir().then_some(p)
}

/// The engines every behavioural test runs on, with the reason an engine
/// is unavailable on this host (reported as skipped).
pub fn engines() -> Vec<(&'static str, Option<&'static str>)> {
    vec![("interp", None), ("jit", None), ("kvm", kvm_unavailable())]
}

/// Why the kvm engine cannot run here (`/dev/kvm` cannot be opened), or
/// `None` when it can.
pub fn kvm_unavailable() -> Option<&'static str> {
    match std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/kvm")
    {
        Ok(_) => None,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Some("no /dev/kvm"),
        Err(_) => Some("/dev/kvm cannot be opened"),
    }
}

/// The host's `/dev/kvm` is PVM (a paravirtual nested KVM, module
/// `kvm_pvm`): it emulates real mode instruction by instruction and cannot
/// run 32-bit protected mode (see ../shared/guests/README.md).
pub fn kvm_is_pvm() -> bool {
    Path::new("/sys/module/kvm_pvm").exists()
}

/// Assemble a test ROM with nasm into target/test-roms; panics with a clear
/// message when nasm is missing (CI installs it).
pub fn assemble(asm: &Path) -> Result<PathBuf, String> {
    let out_dir = repo().join("target").join("test-roms");
    std::fs::create_dir_all(&out_dir).map_err(|e| format!("{}: {e}", out_dir.display()))?;
    let stem = asm.file_stem().unwrap().to_string_lossy().into_owned();
    let out = out_dir.join(format!("{stem}.bin"));
    // Several trials assemble the same ROM at once: write a private file
    // and rename it into place, so no trial reads a half-written ROM.
    let tmp = out_dir
        .join(format!("{stem}.{:?}.tmp", std::thread::current().id()))
        .with_extension(format!("{}.tmp", std::process::id()));
    let inc = repo().join("test-roms").join("include");
    let r = Command::new("nasm")
        .arg("-f")
        .arg("bin")
        .arg(format!("-I{}/", inc.display()))
        .arg(asm)
        .arg("-o")
        .arg(&tmp)
        .output()
        .map_err(|e| format!("cannot run nasm ({e}); install it: apt-get install -y nasm"))?;
    if !r.status.success() {
        return Err(format!(
            "nasm failed on {}:\n{}",
            asm.display(),
            String::from_utf8_lossy(&r.stderr)
        ));
    }
    std::fs::rename(&tmp, &out).map_err(|e| format!("{}: {e}", out.display()))?;
    Ok(out)
}

/// The `btvm run` arguments selecting an engine by its test name:
/// `jit-check` is the JIT verified block by block against the interpreter.
pub fn engine_args(engine: &str) -> Vec<&str> {
    match engine {
        "jit-check" => vec!["--engine", "jit", "--check"],
        e => vec!["--engine", e],
    }
}

/// Run the btvm binary with arguments.
pub fn btvm(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_btvm"))
        .args(args)
        .output()
        .expect("run btvm")
}

/// What a guest boot printed and how it ended.
pub struct Boot {
    /// Everything written to the serial console (stdout), lossy UTF-8.
    pub serial: String,
    /// The raw serial bytes.
    pub raw: Vec<u8>,
    /// Whether the marker appeared (the run was then stopped).
    pub found: bool,
    /// Exit status if btvm exited by itself.
    pub status: Option<i32>,
    /// btvm's stderr.
    pub stderr: String,
    /// Wall time to the marker (or to the end).
    pub wall: std::time::Duration,
}

impl Boot {
    /// A failure message with the tail of the serial output.
    pub fn report(&self, what: &str) -> String {
        let tail: String = self
            .serial
            .chars()
            .rev()
            .take(3000)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        format!(
            "{what}\nstatus {:?} after {:.1} s\n--- serial (tail) ---\n{tail}\n--- stderr ---\n{}",
            self.status,
            self.wall.as_secs_f64(),
            self.stderr
        )
    }
}

/// Run btvm with `args` until `marker` appears on its serial output (then
/// kill it), until it exits, or until `timeout` passes.
pub fn boot_until(args: &[&str], marker: Option<&str>, timeout: std::time::Duration) -> Boot {
    match marker {
        Some(m) => boot_until_fn(
            args,
            &|raw: &[u8]| raw.windows(m.len()).any(|w| w == m.as_bytes()),
            timeout,
        ),
        None => boot_until_fn(args, &|_: &[u8]| false, timeout),
    }
}

/// Like [`boot_until`], with a predicate over all serial bytes so far.
pub fn boot_until_fn(
    args: &[&str],
    done: &dyn Fn(&[u8]) -> bool,
    timeout: std::time::Duration,
) -> Boot {
    use std::io::Read;
    use std::process::Stdio;
    let start = std::time::Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_btvm"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start btvm");
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<Vec<u8>>();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = stdout.read(&mut buf) {
            if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                break;
            }
        }
    });
    let err_thread = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let mut raw = Vec::new();
    let mut found = false;
    let mut eof = false;
    loop {
        let left = timeout.saturating_sub(start.elapsed());
        match rx.recv_timeout(left.min(std::time::Duration::from_millis(200))) {
            Ok(chunk) => {
                raw.extend_from_slice(&chunk);
                if done(&raw) {
                    found = true;
                    break;
                }
            }
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                eof = true;
                break;
            }
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                if start.elapsed() >= timeout {
                    break;
                }
            }
        }
    }
    let wall = start.elapsed();
    let status = if eof {
        // Output closed: btvm is exiting by itself.
        child.wait().ok().and_then(|s| s.code())
    } else {
        let _ = child.kill();
        let _ = child.wait();
        None
    };
    // Collect what arrived before exit.
    while let Ok(chunk) = rx.try_recv() {
        raw.extend_from_slice(&chunk);
    }
    let stderr = err_thread.join().unwrap_or_default();
    Boot {
        serial: String::from_utf8_lossy(&raw).into_owned(),
        raw,
        found,
        status,
        stderr,
        wall,
    }
}
