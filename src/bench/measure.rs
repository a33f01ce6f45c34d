//! Per-iteration cost of one row on one target, with startup excluded:
//! run the ROM assembled for ITERS = 0 and for ITERS = N, take the best of
//! a few runs of each, and report (t_N - t_0) / N.
//!
//! QEMU translates ~10-100x faster than the interpreter, so at the
//! interpreter's N its loop can be shorter than its own startup noise;
//! when t_N - t_0 is under [`QEMU_MIN_DELTA`], N is scaled up and the run
//! repeated.

use std::time::Duration;

use super::error::BenchError;
use super::rom::RomCache;
use super::rows::Row;
use super::target::{RunError, Sample, Target};

/// Below this, a QEMU measurement is redone with more iterations.
pub const QEMU_MIN_DELTA: Duration = Duration::from_millis(300);
/// The largest factor QEMU's N is scaled by.
const QEMU_MAX_SCALE: u64 = 200;
/// Runs of the ITERS = 0 ROM (cheap; the best one is the baseline).
const BASELINE_RUNS: u32 = 3;

/// The result of one row on one target.
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    /// Measured.
    Ok {
        /// Iterations of the timed run (N, or more for QEMU).
        iters: u64,
        /// Wall nanoseconds per iteration.
        ns_per_iter: f64,
        /// KVM exits per iteration, under the kvm engine.
        exits_per_iter: Option<f64>,
        /// Guest instructions per iteration, when the target counts them.
        insns_per_iter: Option<f64>,
    },
    /// The ROM failed on this target.
    Fail(String),
    /// The target is not available on this host.
    Unavailable(String),
}

impl From<RunError> for Cell {
    fn from(e: RunError) -> Self {
        match e {
            RunError::Unavailable(why) => Cell::Unavailable(why),
            RunError::Failed(why) => Cell::Fail(why),
        }
    }
}

/// The best (shortest) of `runs` runs; the first failure ends it.
fn best_of(
    target: Target,
    cache: &RomCache,
    row: &Row,
    iters: u64,
    runs: u32,
) -> Result<Sample, Outcome> {
    let rom = cache.rom(row, iters).map_err(Outcome::Error)?;
    let mut best: Option<Sample> = None;
    for _ in 0..runs.max(1) {
        let s = target.run(&rom, iters).map_err(Outcome::Run)?;
        if best.is_none_or(|b| s.wall < b.wall) {
            best = Some(s);
        }
    }
    Ok(best.expect("at least one run"))
}

/// Why [`best_of`] stopped early.
enum Outcome {
    /// The target said no: becomes the cell.
    Run(RunError),
    /// The ROM could not be built: stops the whole bench.
    Error(BenchError),
}

/// Measure `row` on `target` at `iters` iterations, `repeat` timed runs.
pub fn measure(
    target: Target,
    cache: &RomCache,
    row: &Row,
    iters: u64,
    repeat: u32,
) -> Result<Cell, BenchError> {
    if row.is_linux_boot() {
        return Ok(linux_boot(target, cache, repeat));
    }
    let lift = |o: Outcome| match o {
        Outcome::Run(e) => Ok(Cell::from(e)),
        Outcome::Error(e) => Err(e),
    };
    let base = match best_of(target, cache, row, 0, BASELINE_RUNS) {
        Ok(s) => s,
        Err(o) => return lift(o),
    };
    let mut n = iters.max(1);
    let mut timed = match best_of(target, cache, row, n, repeat) {
        Ok(s) => s,
        Err(o) => return lift(o),
    };
    if target == Target::Qemu {
        let delta = timed.wall.saturating_sub(base.wall);
        if delta < QEMU_MIN_DELTA {
            let want = 2.0 * QEMU_MIN_DELTA.as_nanos() as f64;
            let scale = (want / (delta.as_nanos().max(1) as f64)).ceil() as u64;
            n = n.saturating_mul(scale.clamp(2, QEMU_MAX_SCALE));
            timed = match best_of(target, cache, row, n, repeat) {
                Ok(s) => s,
                Err(o) => return lift(o),
            };
        }
    }
    let ns = (timed.wall.as_nanos() as f64 - base.wall.as_nanos() as f64) / n as f64;
    let insns = match (timed.icount, base.icount) {
        (Some(t), Some(b)) => Some(t.saturating_sub(b) as f64 / n as f64),
        _ => None,
    };
    let exits = match (timed.exits, base.exits) {
        (Some(t), Some(b)) => Some(t.saturating_sub(b) as f64 / n as f64),
        _ => None,
    };
    Ok(Cell::Ok {
        iters: n,
        ns_per_iter: ns,
        exits_per_iter: exits,
        insns_per_iter: insns,
    })
}

/// The `linux-boot` row: the fastest of `repeat` boots, no baseline (a
/// boot is the whole run). Instructions per "iteration" are per boot.
fn linux_boot(target: Target, cache: &RomCache, repeat: u32) -> Cell {
    let dir = cache.dir().join("linux");
    let mut best: Option<Sample> = None;
    for _ in 0..repeat.max(1) {
        match super::linux::run(target, &dir) {
            Ok(s) if best.is_none_or(|b| s.wall < b.wall) => best = Some(s),
            Ok(_) => {}
            Err(e) => return Cell::from(e),
        }
    }
    let s = best.expect("at least one boot");
    Cell::Ok {
        iters: 1,
        ns_per_iter: s.wall.as_nanos() as f64,
        exits_per_iter: s.exits.map(|n| n as f64),
        insns_per_iter: s.icount.map(|n| n as f64),
    }
}
