//! Assembling benchmark ROMs with nasm into a cache directory, one binary
//! per (row, ITERS, source) so repeated runs reuse them.
//!
//! The sources are the ones compiled into the binary ([`super::rows`]):
//! they are written next to the binaries and assembled from there, so the
//! cache never mixes a ROM with another version's include file.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::error::BenchError;
use super::rows::{Row, INCLUDE_NAME, INCLUDE_SOURCE};

/// A directory of assembled benchmark ROMs.
#[derive(Clone, Debug)]
pub struct RomCache {
    dir: PathBuf,
}

impl RomCache {
    /// A cache in `dir` (created when the first ROM is assembled).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        RomCache { dir: dir.into() }
    }

    /// The default place: `btvm-bench` in the system temp directory.
    pub fn in_temp_dir() -> Self {
        Self::new(std::env::temp_dir().join("btvm-bench"))
    }

    /// The cache directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The ROM of `row` assembled with `-DITERS=iters`; assembles it unless
    /// the cache already holds this exact version.
    pub fn rom(&self, row: &Row, iters: u64) -> Result<PathBuf, BenchError> {
        let mut h = DefaultHasher::new();
        row.source.hash(&mut h);
        INCLUDE_SOURCE.hash(&mut h);
        let version = format!("{:016x}", h.finish());
        let src_dir = self.dir.join(format!("src-{version}"));
        let bin = self.dir.join(format!("{}-{iters}-{version}.bin", row.name));
        if bin.is_file() {
            return Ok(bin);
        }
        let include_dir = src_dir.join("include");
        std::fs::create_dir_all(&include_dir).map_err(|e| BenchError::io(&include_dir, e))?;
        let asm = src_dir.join(format!("{}.asm", row.name));
        write_atomically(&include_dir.join(INCLUDE_NAME), INCLUDE_SOURCE.as_bytes())?;
        write_atomically(&asm, row.source.as_bytes())?;
        // Assemble to a private name, then rename: several processes (the
        // test harness runs in parallel) may build the same ROM at once.
        let tmp = unique_tmp(&bin);
        let out = Command::new("nasm")
            .arg("-f")
            .arg("bin")
            .arg(format!("-DITERS={iters}"))
            .arg(format!("-I{}/", include_dir.display()))
            .arg(&asm)
            .arg("-o")
            .arg(&tmp)
            .output();
        let out = match out {
            Ok(o) => o,
            Err(e) if e.kind() == ErrorKind::NotFound => {
                return Err(BenchError::ToolMissing {
                    tool: "nasm",
                    hint: "the benchmark ROMs are NASM sources: apt-get install -y nasm",
                })
            }
            Err(e) => return Err(BenchError::io("nasm", e)),
        };
        if !out.status.success() {
            let _ = std::fs::remove_file(&tmp);
            return Err(BenchError::Assemble {
                file: asm,
                stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            });
        }
        std::fs::rename(&tmp, &bin).map_err(|e| BenchError::io(&bin, e))?;
        Ok(bin)
    }
}

/// `path` plus a suffix unique to this process and call.
fn unique_tmp(path: &Path) -> PathBuf {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".tmp-{}-{n}", std::process::id()));
    path.with_file_name(name)
}

/// Write a file through a temporary name and a rename, so a concurrent
/// reader never sees it half written.
fn write_atomically(path: &Path, data: &[u8]) -> Result<(), BenchError> {
    let tmp = unique_tmp(path);
    std::fs::write(&tmp, data).map_err(|e| BenchError::io(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| BenchError::io(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nasm_present() -> bool {
        Command::new("nasm").arg("-v").output().is_ok()
    }

    #[test]
    fn assembles_a_64k_rom_and_reuses_it() {
        if !nasm_present() {
            return;
        }
        let dir = std::env::temp_dir().join(format!("btvm-bench-test-{}", std::process::id()));
        let cache = RomCache::new(&dir);
        let row = super::super::rows::find("alu").unwrap();
        let a = cache.rom(row, 7).unwrap();
        assert_eq!(std::fs::metadata(&a).unwrap().len(), 65536);
        let b = cache.rom(row, 7).unwrap();
        assert_eq!(a, b);
        assert_ne!(cache.rom(row, 8).unwrap(), a);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
