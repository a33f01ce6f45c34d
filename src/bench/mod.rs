//! `btvm bench`: microbenchmarks of the engines.
//!
//! Each row is a small NASM ROM (test-roms/bench, see [`rows`]) that runs
//! one kernel loop ITERS times in 32-bit flat protected mode, prints
//! `BENCH-DONE` on COM1 and exits through the debug-exit port. The bench
//! assembles each ROM for ITERS = 0 and ITERS = N ([`rom`]), runs both on
//! every selected engine in this process ([`in_process`]) and optionally
//! under QEMU TCG ([`qemu`]), and reports wall nanoseconds per iteration
//! with startup removed ([`measure`], [`report`]).
//!
//! The `linux-boot` row ([`linux`]) boots the bundled Linux to its marker
//! instead: seconds per boot on each engine and under QEMU.
//!
//! ```text
//! $ btvm bench --rows alu,syscall --qemu
//! row      N        interp ns/iter  jit ns/iter  qemu ns/iter  interp/jit  jit/qemu  insns/iter
//! alu      1500000            ...
//! ```

pub mod error;
pub mod in_process;
pub mod linux;
pub mod measure;
pub mod plot;
pub mod qemu;
pub mod report;
pub mod rom;
pub mod rows;
pub mod target;

pub use error::BenchError;
pub use measure::Cell;
pub use report::{Report, RowResult};
pub use rom::RomCache;
pub use target::Target;

use crate::engine::EngineKind;

/// What to benchmark and how.
#[derive(Clone, Debug)]
pub struct BenchOptions {
    /// Rows to run, by name (empty: all, in table order; the `linux-boot`
    /// row comes last, and is left out by `quick` unless named).
    pub rows: Vec<String>,
    /// Engines to run in-process, in column order.
    pub engines: Vec<EngineKind>,
    /// Also run each ROM under `qemu-system-i386` (TCG).
    pub qemu: bool,
    /// Iterations for every row instead of the per-row default.
    pub iters: Option<u64>,
    /// Divide the per-row default iterations by 10.
    pub quick: bool,
    /// Timed runs per measurement (the best counts).
    pub repeat: u32,
    /// Where assembled ROMs go.
    pub cache: RomCache,
}

impl BenchOptions {
    /// The targets (table columns) these options select.
    pub fn targets(&self) -> Vec<Target> {
        let mut t: Vec<Target> = self.engines.iter().map(|&k| Target::Engine(k)).collect();
        if self.qemu {
            t.push(Target::Qemu);
        }
        t
    }

    /// The selected rows, checking the names.
    pub fn selected_rows(&self) -> Result<Vec<&'static rows::Row>, BenchError> {
        if self.rows.is_empty() {
            let mut all: Vec<&'static rows::Row> = rows::ROWS.iter().collect();
            if !self.quick {
                all.push(&rows::LINUX_BOOT);
            }
            return Ok(all);
        }
        self.rows
            .iter()
            .map(|n| rows::find(n).ok_or_else(|| BenchError::UnknownRow(n.clone(), rows::names())))
            .collect()
    }
}

/// Parse a comma-separated `--engines` list.
pub fn parse_engines(list: &str) -> Result<Vec<EngineKind>, BenchError> {
    let engines = list
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|n| {
            target::parse_engine(n)
                .ok_or_else(|| BenchError::UnknownEngine(n.to_string(), target::engine_names()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    if engines.is_empty() {
        return Err(BenchError::BadOption("--engines names no engine".into()));
    }
    Ok(engines)
}

/// Run the benchmark. `progress` is told about each measurement as it
/// starts (for a status line on stderr).
pub fn run(opts: &BenchOptions, progress: &mut dyn FnMut(&str)) -> Result<Report, BenchError> {
    let rows = opts.selected_rows()?;
    let targets = opts.targets();
    if opts.iters == Some(0) {
        return Err(BenchError::BadOption("--iters must be at least 1".into()));
    }
    let mut report = Report {
        targets: targets.iter().map(|t| t.name()).collect(),
        rows: Vec::new(),
    };
    for row in rows {
        let iters = match opts.iters {
            _ if row.is_linux_boot() => 1,
            Some(n) => n,
            None if opts.quick => (row.iters / 10).max(1),
            None => row.iters,
        };
        let mut cells = Vec::new();
        for &t in &targets {
            progress(&format!("{} on {} (N = {iters})", row.name, t.name()));
            cells.push(measure::measure(t, &opts.cache, row, iters, opts.repeat)?);
        }
        report.rows.push(RowResult {
            row: row.name,
            iters,
            cells,
        });
    }
    Ok(report)
}
