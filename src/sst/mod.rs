//! The conformance runner for SingleStepTests vectors (`btvm sst`).
//!
//! Each vector is run as ../shared/suites/README.md prescribes: 16 MiB of
//! flat RAM with A20 on, IN reads all-ones, real mode with selector*16
//! bases, FLAGS loaded as `(flags & 0x0FFF) | 2`; run from CS:IP until HLT
//! (at most 1,000 instructions); compare the registers and RAM bytes of the
//! final state, FLAGS as `x & 0x0FD5 & mask` with the per-opcode mask of
//! undefined flags, likewise the FLAGS word an exception pushed. Skipped:
//! tests with a LOCK prefix, instructions longer than 10 bytes, revoked
//! hashes.

pub mod moo;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use btvm_jit::abi::{gpr, sreg, SegCache};

use self::moo::{MooState, MooTest, REG_FLAGS, REG_IP};
use crate::cpu::access::Ctx;
use crate::cpu::exception::Stop;
use crate::cpu::Cpu;
use crate::error::Error;
use crate::interp::{self, DecodeCache};
use crate::memory::GuestMemory;
use crate::platform::NullPlatform;

/// FLAGS bits compared at all (drops reserved bits, IOPL and NT).
pub const FLAGS_COMPARED: u16 = 0x0FD5;

/// Outcome counts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    /// Tests that matched.
    pub passed: u64,
    /// Tests that did not.
    pub failed: u64,
    /// Tests not run (LOCK prefix, too long, revoked).
    pub skipped: u64,
}

impl std::ops::AddAssign for Tally {
    fn add_assign(&mut self, o: Tally) {
        self.passed += o.passed;
        self.failed += o.failed;
        self.skipped += o.skipped;
    }
}

/// Suite metadata found beside the vector files.
#[derive(Clone, Debug, Default)]
pub struct SuiteMeta {
    /// Undefined-flags mask per file name (e.g. "D3.4.MOO.gz").
    pub flag_masks: HashMap<String, u16>,
    /// Revoked test hashes.
    pub revoked: HashSet<String>,
}

impl SuiteMeta {
    /// Load `UNDEFINED-FLAGS.tsv` and `revocation_list.txt` from `dir` or
    /// its parent, whichever has them (absent files mean no masks/revocations).
    pub fn find(dir: &Path) -> Result<Self, Error> {
        let mut meta = SuiteMeta::default();
        for d in [Some(dir), dir.parent()].into_iter().flatten() {
            let p = d.join("UNDEFINED-FLAGS.tsv");
            if p.is_file() && meta.flag_masks.is_empty() {
                let text = std::fs::read_to_string(&p).map_err(|e| Error::file(&p, e))?;
                for line in text
                    .lines()
                    .filter(|l| !l.starts_with('#') && !l.starts_with("file\t"))
                {
                    let mut f = line.split('\t');
                    if let (Some(name), Some(m)) = (f.next(), f.next()) {
                        let v = u16::from_str_radix(m.trim_start_matches("0x"), 16)
                            .map_err(|_| Error::format(&p, format!("bad mask '{m}' for {name}")))?;
                        meta.flag_masks.insert(name.to_string(), v);
                    }
                }
            }
            let r = d.join("revocation_list.txt");
            if r.is_file() && meta.revoked.is_empty() {
                let text = std::fs::read_to_string(&r).map_err(|e| Error::file(&r, e))?;
                meta.revoked = text
                    .lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty() && !l.starts_with('#'))
                    .map(str::to_lowercase)
                    .collect();
            }
        }
        Ok(meta)
    }
}

/// How to run a set of files.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Run only the first N tests of each file (0 = all).
    pub sample: usize,
    /// Print details of up to this many failures per file.
    pub show_failures: usize,
}

/// Why a test was skipped, if it is.
pub fn skip_reason(t: &MooTest, meta: &SuiteMeta) -> Option<&'static str> {
    let insn = &t.bytes[..t.bytes.len().saturating_sub(1)];
    if insn
        .iter()
        .take_while(|&&b| is_prefix(b))
        .any(|&b| b == 0xF0)
    {
        return Some("LOCK prefix");
    }
    if insn.len() > 10 {
        return Some("longer than 10 bytes");
    }
    if meta.revoked.contains(&t.hash) {
        return Some("revoked");
    }
    None
}

fn is_prefix(b: u8) -> bool {
    matches!(
        b,
        0xF0 | 0xF2 | 0xF3 | 0x26 | 0x2E | 0x36 | 0x3E | 0x64 | 0x65 | 0x66 | 0x67
    )
}

/// A reusable machine for running vectors: flat 16 MiB, no devices.
pub struct Runner {
    cpu: Cpu,
    mem: GuestMemory,
    cache: DecodeCache,
    io: NullPlatform,
}

const GPR_OF: [usize; 4] = [gpr::EAX, gpr::EBX, gpr::ECX, gpr::EDX];
const SEG_OF: [usize; 4] = [sreg::CS, sreg::SS, sreg::DS, sreg::ES];
const GPR2_OF: [usize; 4] = [gpr::ESP, gpr::EBP, gpr::ESI, gpr::EDI];

impl Runner {
    /// A fresh runner.
    pub fn new() -> Result<Self, Error> {
        Ok(Runner {
            cpu: Cpu::new(),
            mem: GuestMemory::new_flat(16)?,
            cache: DecodeCache::new(),
            io: NullPlatform,
        })
    }

    fn load(&mut self, s: &MooState) {
        let cpu = &mut self.cpu;
        let tlb = std::mem::take(&mut cpu.tlb);
        let tlb_side = std::mem::take(&mut cpu.tlb_side);
        *cpu = Cpu {
            tlb,
            tlb_side,
            ..Cpu::new()
        };
        cpu.regs.seg = [SegCache::real_mode(0, false); 6];
        let r = |k: usize| u32::from(s.regs[k].unwrap_or(0));
        for k in 0..4 {
            cpu.regs.gpr[GPR_OF[k]] = r(k);
            cpu.regs.gpr[GPR2_OF[k]] = r(8 + k);
            cpu.regs.seg[SEG_OF[k]] = SegCache::real_mode(r(4 + k) as u16, SEG_OF[k] == sreg::CS);
        }
        cpu.regs.eip = r(REG_IP);
        cpu.regs.set_eflags((r(REG_FLAGS) & 0x0FFF) | 2);
        cpu.idtr = crate::cpu::TableReg {
            base: 0,
            limit: 0x3FF,
        };
        for &(a, b) in &s.ram {
            self.mem.write_phys(a, &[b]);
        }
    }

    fn read_reg(&self, k: usize) -> u16 {
        let c = &self.cpu.regs;
        (match k {
            0..=3 => c.gpr[GPR_OF[k]],
            4..=7 => u32::from(c.seg[SEG_OF[k - 4]].selector),
            8..=11 => c.gpr[GPR2_OF[k - 8]],
            REG_IP => c.eip,
            _ => c.eflags(),
        }) as u16
    }

    /// Run one vector; `Ok(())` when it matches, else a description of the
    /// differences.
    pub fn run(&mut self, t: &MooTest, flags_mask: u16) -> Result<(), String> {
        self.load(&t.init);
        let mut halted = false;
        let mut stop = None;
        for _ in 0..1000 {
            let mut ctx = Ctx {
                cpu: &mut self.cpu,
                mem: &mut self.mem,
                io: &mut self.io,
            };
            match interp::step(&mut ctx, &mut self.cache) {
                Ok(()) => {}
                Err(Stop::Halt) => {
                    halted = true;
                    break;
                }
                Err(s) => {
                    stop = Some(s);
                    break;
                }
            }
        }
        let result = self.compare(t, flags_mask, halted, stop);
        // Leave RAM clean for the next vector.
        for &(a, _) in t.init.ram.iter().chain(t.fina.ram.iter()) {
            self.mem.write_phys(a, &[0]);
        }
        result
    }

    fn compare(
        &self,
        t: &MooTest,
        flags_mask: u16,
        halted: bool,
        stop: Option<Stop>,
    ) -> Result<(), String> {
        let mut diffs = Vec::new();
        if !halted {
            diffs.push(match stop {
                Some(s) => format!("stopped with {s:?}"),
                None => "did not reach HLT in 1000 instructions".to_string(),
            });
        }
        let fm = FLAGS_COMPARED & flags_mask;
        for k in 0..14 {
            let want = t.fina.regs[k].or(t.init.regs[k]).unwrap_or(0);
            let got = self.read_reg(k);
            let (w, g) = if k == REG_FLAGS {
                (want & fm, got & fm)
            } else {
                (want, got)
            };
            if w != g {
                diffs.push(format!("{}: want {w:04x} got {g:04x}", moo::REG_NAMES[k]));
            }
        }
        // The pushed FLAGS word sits at SS:SP+4 of the final state (the EXCP
        // record gives the word-aligned bus address, one low when SP is odd).
        let flags_at = t.exception.map(|_| {
            let ss = u32::from(t.fina.regs[5].or(t.init.regs[5]).unwrap_or(0));
            let sp = u32::from(t.fina.regs[8].or(t.init.regs[8]).unwrap_or(0));
            (ss << 4).wrapping_add((sp + 4) & 0xFFFF)
        });
        for &(a, want) in &t.fina.ram {
            let mut got = [0u8];
            self.mem.read_phys(a, &mut got);
            let m = match flags_at {
                Some(f) if a == f => fm as u8,
                Some(f) if a == f.wrapping_add(1) => (fm >> 8) as u8,
                _ => 0xFF,
            };
            if want & m != got[0] & m {
                diffs.push(format!("ram[{a:05x}]: want {want:02x} got {:02x}", got[0]));
            }
        }
        if diffs.is_empty() {
            Ok(())
        } else {
            Err(diffs.join(", "))
        }
    }
}

/// Expand files and directories into the list of vector files, sorted.
pub fn collect_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, Error> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let rd = std::fs::read_dir(p).map_err(|e| Error::file(p, e))?;
            let mut v: Vec<PathBuf> = rd
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|f| {
                    f.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n.ends_with(".MOO") || n.ends_with(".MOO.gz"))
                })
                .collect();
            v.sort();
            if v.is_empty() {
                return Err(Error::format(p, "directory holds no .MOO or .MOO.gz files"));
            }
            out.extend(v);
        } else if p.is_file() {
            out.push(p.clone());
        } else {
            return Err(Error::file(
                p,
                std::io::Error::new(std::io::ErrorKind::NotFound, "no such file or directory"),
            ));
        }
    }
    Ok(out)
}

/// Run one file; returns its tally and printable failure details.
pub fn run_file(
    runner: &mut Runner,
    path: &Path,
    opts: &Options,
) -> Result<(Tally, Vec<String>), Error> {
    let meta = SuiteMeta::find(path.parent().unwrap_or(Path::new(".")))?;
    let file = moo::load(path)?;
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let mask = meta.flag_masks.get(name).copied().unwrap_or(0xFFFF);
    let mut tally = Tally::default();
    let mut details = Vec::new();
    let n = if opts.sample == 0 {
        file.tests.len()
    } else {
        opts.sample.min(file.tests.len())
    };
    for t in &file.tests[..n] {
        if skip_reason(t, &meta).is_some() {
            tally.skipped += 1;
            continue;
        }
        match runner.run(t, mask) {
            Ok(()) => tally.passed += 1,
            Err(d) => {
                tally.failed += 1;
                if details.len() < opts.show_failures {
                    let hex: Vec<String> = t.bytes.iter().map(|b| format!("{b:02x}")).collect();
                    details.push(format!(
                        "  #{} {} [{}]: {d}",
                        t.index,
                        t.name,
                        hex.join(" ")
                    ));
                }
            }
        }
    }
    Ok((tally, details))
}

/// Run files on all host cores, reporting each file (in order) through
/// `report` as it completes; returns the total.
pub fn run_files_parallel(
    files: &[PathBuf],
    opts: &Options,
    mut report: impl FnMut(&Path, &Tally, &[String]),
) -> Result<Tally, Error> {
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(files.len().max(1));
    let next = std::sync::atomic::AtomicUsize::new(0);
    let (tx, rx) = std::sync::mpsc::channel::<(usize, Result<(Tally, Vec<String>), Error>)>();
    let mut total = Tally::default();
    std::thread::scope(|s| -> Result<(), Error> {
        for _ in 0..workers {
            let tx = tx.clone();
            let next = &next;
            s.spawn(move || {
                let mut runner = match Runner::new() {
                    Ok(r) => r,
                    Err(e) => {
                        let _ = tx.send((usize::MAX, Err(e)));
                        return;
                    }
                };
                loop {
                    let k = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    if k >= files.len() {
                        break;
                    }
                    let r = run_file(&mut runner, &files[k], opts);
                    if tx.send((k, r)).is_err() {
                        break;
                    }
                }
            });
        }
        drop(tx);
        let mut pending: std::collections::BTreeMap<usize, (Tally, Vec<String>)> =
            Default::default();
        let mut emitted = 0;
        for (k, r) in rx {
            let (t, d) = r?;
            pending.insert(k, (t, d));
            while let Some((t, d)) = pending.remove(&emitted) {
                report(&files[emitted], &t, &d);
                total += t;
                emitted += 1;
            }
        }
        Ok(())
    })?;
    Ok(total)
}
