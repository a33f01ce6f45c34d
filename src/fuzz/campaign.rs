//! A fuzzing campaign: cases by index across worker threads (crossbeam),
//! one [`Runner`] per worker, until the iteration count or the time runs
//! out or a case diverges; throughput counted.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::case::Case;
use super::gen::{generate, GenConfig};
use super::runner::{CaseRun, EngineId, Runner};
use crate::error::Error;

/// How to run a campaign.
#[derive(Clone, Debug)]
pub struct CampaignOptions {
    /// What to generate.
    pub gen: GenConfig,
    /// Engines (the first is the one the others are compared with).
    pub engines: Vec<EngineId>,
    /// Stop after this many cases.
    pub iterations: Option<u64>,
    /// Stop after this much time.
    pub time: Option<Duration>,
    /// Worker threads.
    pub threads: usize,
    /// Instruction bound per run.
    pub limit: u64,
}

/// A diverging case.
#[derive(Clone, Debug)]
pub struct Found {
    /// Its campaign index.
    pub index: u64,
    /// The case.
    pub case: Case,
    /// Its run.
    pub run: CaseRun,
}

/// What a campaign did.
#[derive(Clone, Debug, Default)]
pub struct Summary {
    /// Cases run.
    pub cases: u64,
    /// Guest instructions retired (by the interpreter's run of each case).
    pub instructions: u64,
    /// Comparisons with a hardware reference not made (it timed out or
    /// could not run the case).
    pub incomparable: u64,
    /// Wall time.
    pub elapsed: Duration,
    /// Diverging cases (lowest index first).
    pub found: Vec<Found>,
}

impl Summary {
    /// Cases per second.
    pub fn cases_per_sec(&self) -> f64 {
        self.cases as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
    /// Guest instructions per second.
    pub fn instructions_per_sec(&self) -> f64 {
        self.instructions as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// Run a campaign.
pub fn run(opts: &CampaignOptions) -> Result<Summary, Error> {
    let next = AtomicU64::new(0);
    let cases = AtomicU64::new(0);
    let instructions = AtomicU64::new(0);
    let incomparable = AtomicU64::new(0);
    let stop = AtomicBool::new(false);
    let found: Mutex<Vec<Found>> = Mutex::new(Vec::new());
    let errors: Mutex<Vec<Error>> = Mutex::new(Vec::new());
    let start = Instant::now();
    let deadline = opts.time.map(|t| start + t);
    let limit = opts.iterations.unwrap_or(u64::MAX);
    crossbeam::scope(|s| {
        for _ in 0..opts.threads.max(1) {
            s.spawn(|_| {
                let mut runner = match Runner::new(&opts.engines, opts.limit) {
                    Ok(r) => r,
                    Err(e) => {
                        errors.lock().unwrap_or_else(|p| p.into_inner()).push(e);
                        stop.store(true, Ordering::Relaxed);
                        return;
                    }
                };
                while !stop.load(Ordering::Relaxed) {
                    if deadline.is_some_and(|d| Instant::now() >= d) {
                        break;
                    }
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    if index >= limit {
                        break;
                    }
                    let case = generate(&opts.gen, index);
                    let run = runner.run(&case);
                    cases.fetch_add(1, Ordering::Relaxed);
                    instructions.fetch_add(run.instructions, Ordering::Relaxed);
                    incomparable.fetch_add(u64::from(run.incomparable), Ordering::Relaxed);
                    if run.diverged() {
                        found.lock().unwrap_or_else(|p| p.into_inner()).push(Found {
                            index,
                            case,
                            run,
                        });
                        stop.store(true, Ordering::Relaxed);
                    }
                }
            });
        }
    })
    .map_err(|_| Error::Host("fuzz: a worker thread panicked".into()))?;
    if let Some(e) = errors.into_inner().unwrap_or_else(|p| p.into_inner()).pop() {
        return Err(e);
    }
    let mut found = found.into_inner().unwrap_or_else(|p| p.into_inner());
    found.sort_by_key(|f| f.index);
    Ok(Summary {
        cases: cases.into_inner(),
        instructions: instructions.into_inner(),
        incomparable: incomparable.into_inner(),
        elapsed: start.elapsed(),
        found,
    })
}
