//! `btvm fuzz`: differential fuzzing of guest instruction streams.
//!
//! Random and mutated streams ([`gen`], filtered per mode and reference by
//! [`filter`]) run from one prepared machine state per mode ([`mode`],
//! [`machine`]: real mode, 16/32-bit protected mode at ring 0 and 3, with
//! and without paging) under two or more engines ([`runner`]: interp, jit,
//! kvm, native). Every IDT/IVT vector leads to its own `HLT` stub, so the
//! exception each engine raised is read back uniformly from where it
//! halted and the frame it pushed ([`outcome`]). Final registers, flags
//! (undefined ones masked along the trace: [`flags`]), the exception and
//! every written byte are compared ([`compare`]). A divergence is written
//! as a JSON reproducer and a delta-debugged minimal one ([`report`],
//! [`minimize`]); `--replay` re-runs one. Cases are derived from (seed,
//! index) ([`rng`]), so a campaign is reproducible whatever the thread
//! count ([`campaign`]).

pub mod campaign;
pub mod case;
pub mod compare;
pub mod filter;
pub mod flags;
pub mod gen;
pub mod machine;
pub mod minimize;
pub mod mode;
pub mod native;
pub mod outcome;
pub mod report;
pub mod rng;
pub mod runner;

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::error::Error;
use campaign::{CampaignOptions, Found};
use filter::Targets;
use gen::GenConfig;
use mode::Mode;
use runner::{unavailable, EngineId, Runner};

/// Default instruction bound per run.
pub const DEFAULT_LIMIT: u64 = 10_000;

/// What `btvm fuzz` was asked to do.
#[derive(Clone, Debug)]
pub struct FuzzCommand {
    /// `--engines` (comma-separated names).
    pub engines: String,
    /// `--mode` (comma-separated names or `all`).
    pub modes: String,
    /// `--seed`.
    pub seed: u64,
    /// `--iterations`.
    pub iterations: Option<u64>,
    /// `--time` in seconds.
    pub time: Option<f64>,
    /// `--threads` (0: all cores).
    pub threads: usize,
    /// `--max-instructions` per run.
    pub limit: u64,
    /// `--out` directory for reproducers.
    pub out: PathBuf,
    /// `--replay FILE`.
    pub replay: Option<PathBuf>,
    /// Whether `--engines` was given (a replay otherwise uses the file's).
    pub engines_given: bool,
}

/// Parse `--engines`.
pub fn parse_engines(s: &str) -> Result<Vec<EngineId>, Error> {
    let mut v = Vec::new();
    for name in s.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        let id = EngineId::parse(name).ok_or_else(|| {
            Error::Host(format!(
                "fuzz: unknown engine '{name}' (interp, jit, kvm, native)"
            ))
        })?;
        if !v.contains(&id) {
            v.push(id);
        }
    }
    Ok(v)
}

/// Parse `--mode`.
pub fn parse_modes(s: &str) -> Result<Vec<Mode>, Error> {
    if s == "all" {
        return Ok(Mode::ALL.to_vec());
    }
    s.split(',')
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(|n| {
            Mode::parse(n).ok_or_else(|| {
                let all: Vec<&str> = Mode::ALL.iter().map(|m| m.name()).collect();
                Error::Host(format!(
                    "fuzz: unknown mode '{n}' ({} or all)",
                    all.join(", ")
                ))
            })
        })
        .collect()
}

/// Drop the engines that cannot run any of `modes` here, printing one line
/// for each engine/mode it cannot run.
pub fn available_engines(
    engines: &[EngineId],
    modes: &[Mode],
    say: &mut dyn FnMut(&str),
) -> Vec<EngineId> {
    engines
        .iter()
        .copied()
        .filter(|&id| {
            let mut any = false;
            for &m in modes {
                match unavailable(id, m) {
                    Some(why) => say(&why),
                    None => any = true,
                }
            }
            any
        })
        .collect()
}

fn write_found(
    dir: &Path,
    seed: u64,
    f: &Found,
    engines: &[EngineId],
    limit: u64,
) -> Result<(PathBuf, PathBuf, campaign::Found), Error> {
    std::fs::create_dir_all(dir).map_err(|e| Error::file(dir, e))?;
    let stem = format!("fuzz-{seed}-{}-{}", f.index, f.case.mode.name());
    let full = dir.join(format!("{stem}.json"));
    let text = report::to_json(&f.case, seed, f.index, &f.run, "as generated");
    std::fs::write(
        &full,
        serde_json::to_string_pretty(&text).unwrap_or_default(),
    )
    .map_err(|e| Error::file(&full, e))?;
    let mut runner = Runner::new(engines, limit)?;
    let small = minimize::minimize(&mut runner, &f.case);
    let run = runner.run(&small);
    let min = dir.join(format!("{stem}-min.json"));
    let text = report::to_json(&small, seed, f.index, &run, "minimized");
    std::fs::write(
        &min,
        serde_json::to_string_pretty(&text).unwrap_or_default(),
    )
    .map_err(|e| Error::file(&min, e))?;
    Ok((
        full,
        min,
        Found {
            index: f.index,
            case: small,
            run,
        },
    ))
}

/// Run `btvm fuzz`; returns the exit status (0 no divergence, 1 divergence).
pub fn fuzz(cmd: &FuzzCommand) -> Result<u8, Error> {
    if let Some(path) = &cmd.replay {
        return replay(cmd, path);
    }
    let requested = parse_engines(&cmd.engines)?;
    let modes = parse_modes(&cmd.modes)?;
    if modes.is_empty() {
        return Err(Error::Host("fuzz: --mode names no mode".into()));
    }
    let engines = available_engines(&requested, &modes, &mut |l| eprintln!("btvm fuzz: {l}"));
    if engines.len() < 2 {
        return Err(Error::Host(
            "fuzz: fewer than two engines available to compare".into(),
        ));
    }
    let threads = if cmd.threads == 0 {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        cmd.threads
    };
    let iterations = match (cmd.iterations, cmd.time) {
        (None, None) => Some(1000),
        (i, _) => i,
    };
    let opts = CampaignOptions {
        gen: GenConfig {
            seed: cmd.seed,
            modes: modes.clone(),
            targets: Targets {
                kvm: engines.contains(&EngineId::Kvm),
                native: engines.contains(&EngineId::Native),
            },
            mutate_percent: 30,
        },
        engines: engines.clone(),
        iterations,
        time: cmd.time.map(Duration::from_secs_f64),
        threads,
        limit: cmd.limit,
    };
    let names: Vec<&str> = engines.iter().map(|e| e.name()).collect();
    let mnames: Vec<&str> = modes.iter().map(|m| m.name()).collect();
    eprintln!(
        "btvm fuzz: seed {}, engines {}, modes {}, {threads} threads",
        cmd.seed,
        names.join(","),
        mnames.join(",")
    );
    let s = campaign::run(&opts)?;
    println!(
        "btvm fuzz: {} cases, {} guest instructions in {:.1} s: {:.0} cases/s, {:.0} instructions/s",
        s.cases,
        s.instructions,
        s.elapsed.as_secs_f64(),
        s.cases_per_sec(),
        s.instructions_per_sec()
    );
    if s.incomparable > 0 {
        println!(
            "btvm fuzz: {} comparisons skipped (an undefined flag was read, or a hardware reference timed out or could not run the case)",
            s.incomparable
        );
    }
    let Some(f) = s.found.first() else {
        println!("btvm fuzz: no divergence");
        return Ok(0);
    };
    println!(
        "btvm fuzz: divergence in case {} ({})",
        f.index,
        f.case.mode.name()
    );
    print!("{}", report::describe(&f.case, &f.run));
    let (full, min, small) = write_found(&cmd.out, cmd.seed, f, &engines, cmd.limit)?;
    println!("btvm fuzz: minimized to:");
    print!("{}", report::describe(&small.case, &small.run));
    println!("btvm fuzz: reproducer {}", full.display());
    println!("btvm fuzz: minimized reproducer {}", min.display());
    Ok(1)
}

fn replay(cmd: &FuzzCommand, path: &Path) -> Result<u8, Error> {
    let r = report::read(path)?;
    let requested = if cmd.engines_given || r.engines.len() < 2 {
        parse_engines(&cmd.engines)?
    } else {
        r.engines.clone()
    };
    let engines = available_engines(&requested, &[r.case.mode], &mut |l| {
        eprintln!("btvm fuzz: {l}")
    });
    if engines.len() < 2 {
        return Err(Error::Host(
            "fuzz: fewer than two engines available to compare".into(),
        ));
    }
    let mut runner = Runner::new(&engines, cmd.limit)?;
    let run = runner.run(&r.case);
    print!("{}", report::describe(&r.case, &run));
    Ok(if run.diverged() { 1 } else { 0 })
}
