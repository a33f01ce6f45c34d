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
    vec![("interp", None)]
}

/// Assemble a test ROM with nasm into target/test-roms; panics with a clear
/// message when nasm is missing (CI installs it).
pub fn assemble(asm: &Path) -> Result<PathBuf, String> {
    let out_dir = repo().join("target").join("test-roms");
    std::fs::create_dir_all(&out_dir).map_err(|e| format!("{}: {e}", out_dir.display()))?;
    let stem = asm.file_stem().unwrap().to_string_lossy().into_owned();
    let out = out_dir.join(format!("{stem}.bin"));
    let inc = repo().join("test-roms").join("include");
    let r = Command::new("nasm")
        .arg("-f")
        .arg("bin")
        .arg(format!("-I{}/", inc.display()))
        .arg(asm)
        .arg("-o")
        .arg(&out)
        .output()
        .map_err(|e| format!("cannot run nasm ({e}); install it: apt-get install -y nasm"))?;
    if !r.status.success() {
        return Err(format!("nasm failed on {}:\n{}", asm.display(), String::from_utf8_lossy(&r.stderr)));
    }
    Ok(out)
}

/// Run the btvm binary with arguments.
pub fn btvm(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_btvm")).args(args).output().expect("run btvm")
}
