//! The btvm command line: `btvm run` boots a machine, `btvm sst` runs
//! conformance vectors. anyhow lives here and nowhere else.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;
use btvm::console::{HostConsole, SerialBackend};
use btvm::machine::clock::ClockKind;
use btvm::machine::{BootOrder, Config, Limits, LinuxPayload, Machine, Payload};
use clap::{Parser, Subcommand, ValueEnum};

/// btvm: a full-system x86 PC emulator (interpreter, JIT, KVM).
#[derive(Parser)]
#[command(name = "btvm", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Execution engine.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum EngineArg {
    /// The reference interpreter.
    Interp,
    /// Basic-block translation to x86-64.
    Jit,
    /// Linux KVM (/dev/kvm): hardware-assisted, not deterministic.
    Kvm,
}

impl EngineArg {
    fn kind(self) -> btvm::engine::EngineKind {
        match self {
            EngineArg::Interp => btvm::engine::EngineKind::Interp,
            EngineArg::Jit => btvm::engine::EngineKind::Jit,
            EngineArg::Kvm => btvm::engine::EngineKind::Kvm,
        }
    }
}

#[derive(Subcommand)]
enum Command {
    /// Boot a machine.
    Run(Box<RunArgs>),
    /// Run SingleStepTests conformance vectors (MOO files or directories).
    Sst(SstArgs),
    /// Time the microbenchmark ROMs (test-roms/bench) per engine and under QEMU.
    Bench(BenchArgs),
    /// Differential fuzzing of guest instruction streams across engines.
    Fuzz(FuzzArgs),
}

#[derive(clap::Args)]
struct FuzzArgs {
    /// Engines to compare, comma-separated: interp, jit, kvm (real mode
    /// only here), native (pm32-ring3-paging only). The first is the one
    /// the others are compared with.
    #[arg(long, default_value = "interp,jit")]
    engines: Option<String>,
    /// Modes, comma-separated: real, pm16, pm16-ring3, pm32, pm32-paging,
    /// pm32-ring3, pm32-ring3-paging, or all.
    #[arg(long, default_value = "all")]
    mode: String,
    /// Campaign seed (case i is derived from (seed, i)).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Number of cases [default: 1000 unless --time is given].
    #[arg(long, value_name = "N")]
    iterations: Option<u64>,
    /// Stop after this many seconds.
    #[arg(long, value_name = "SECONDS")]
    time: Option<f64>,
    /// Worker threads (0: one per core).
    #[arg(long, default_value_t = 0)]
    threads: usize,
    /// Instruction bound per run (exact under interp and jit).
    #[arg(long, value_name = "N", default_value_t = btvm::fuzz::DEFAULT_LIMIT)]
    max_instructions: u64,
    /// Directory for reproducer files.
    #[arg(long, value_name = "DIR", default_value = "fuzz-reports")]
    out: PathBuf,
    /// Re-run one reproducer file and print the comparison.
    #[arg(long, value_name = "FILE")]
    replay: Option<PathBuf>,
}

#[derive(clap::Args)]
struct RunArgs {
    /// Raw BIOS/test ROM image (64 or 128 KiB), mapped below 1 MiB and 4 GiB;
    /// execution starts at F000:FFF0.
    #[arg(long, value_name = "FILE")]
    bios: Option<PathBuf>,
    /// Boot this Linux bzImage directly (x86 32-bit boot protocol).
    #[arg(long, value_name = "FILE")]
    kernel: Option<PathBuf>,
    /// Initial ramdisk for --kernel.
    #[arg(long, value_name = "FILE", requires = "kernel")]
    initrd: Option<PathBuf>,
    /// Kernel command line for --kernel [default: console=ttyS0] or for the
    /// bundled guest [default: console=ttyS0 panic=-1].
    #[arg(long, value_name = "CMDLINE")]
    append: Option<String>,
    /// Floppy image for drive A: (give twice for A: and B:).
    #[arg(long, value_name = "FILE", action = clap::ArgAction::Append)]
    floppy: Vec<PathBuf>,
    /// Hard disk image (primary ATA master, BIOS drive 80h).
    #[arg(long, value_name = "FILE")]
    disk: Option<PathBuf>,
    /// Keep all disk writes in memory: the image files are left untouched.
    #[arg(long)]
    snapshot: bool,
    /// Boot device the BIOS tries first: `a` (floppy) or `c` (hard disk).
    #[arg(long, value_enum, default_value_t = BootArg::A)]
    boot: BootArg,
    /// Guest RAM in MiB.
    #[arg(short = 'm', long = "memory", default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..=3584))]
    memory: u32,
    /// Execution engine.
    #[arg(long, value_enum, default_value_t = EngineArg::Jit)]
    engine: EngineArg,
    /// Cycle through engines while the machine runs, each for a number of
    /// guest instructions, e.g. `interp:2000000,jit:2000000` (switches
    /// happen between batches; overrides --engine). Ctrl-A E switches by hand.
    #[arg(long, value_name = "ENGINE:N,...")]
    engine_schedule: Option<String>,
    /// With `--engine jit`: re-run every block on the interpreter and stop
    /// at the first difference (registers, flags, memory), printing the
    /// block's disassembly.
    #[arg(long)]
    check: bool,
    /// Device time: `host` (wall clock) or `virtual` (from retired
    /// instructions: runs are reproducible byte for byte).
    #[arg(long, value_enum, default_value_t = ClockArg::Host)]
    clock: ClockArg,
    /// Rate of the virtual clock in guest MIPS (instructions per virtual
    /// microsecond).
    #[arg(long, value_name = "MIPS", default_value_t = btvm::machine::clock::DEFAULT_VIRTUAL_MIPS, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    mips: u32,
    /// COM1: `stdio`, `file:PATH` or `null`.
    #[arg(long, value_name = "BACKEND", default_value = "stdio")]
    serial: SerialBackend,
    /// On reset or triple fault, restart the machine instead of exiting.
    #[arg(long)]
    reboot: bool,
    /// Stop after this many guest instructions (exit status 124).
    #[arg(long, value_name = "N")]
    max_instructions: Option<u64>,
    /// Stop after this many wall-clock seconds (exit status 124).
    #[arg(long, value_name = "SECS")]
    timeout: Option<f64>,
    /// Stop (status 0) as soon as this text appears on the serial console:
    /// boot-to-marker measurements and scripted runs.
    #[arg(long, value_name = "TEXT")]
    exit_on_serial: Option<String>,
    /// Stop (status 0) as soon as this text is on the VGA text screen.
    #[arg(long, value_name = "TEXT")]
    exit_on_screen: Option<String>,
    /// Show the VGA text screen live: `term` (takes over this terminal; keys
    /// go to the guest keyboard, Ctrl-A X quits) or `none` [default: term
    /// when booting a floppy or disk on a terminal, else none].
    #[arg(long, value_name = "MODE")]
    display: Option<btvm::display::DisplayMode>,
    /// At exit, write the text screen to FILE (PNG if it ends in .png, else
    /// UTF-8 text).
    #[arg(long, value_name = "FILE")]
    screenshot_on_exit: Option<PathBuf>,
    /// Type this key script into the guest keyboard, e.g. '{wait 3s}dir\n'
    /// (text, \n Enter, {enter} {esc} {f1} {up} {ctrl-c} {wait 2s} ...).
    #[arg(long, value_name = "SCRIPT", conflicts_with = "keys_file")]
    keys: Option<btvm::keyboard::KeyScript>,
    /// Read the key script from FILE (line breaks are Enter).
    #[arg(long, value_name = "FILE")]
    keys_file: Option<PathBuf>,
    /// At exit, print counters: instructions retired (per engine), guest and
    /// wall time, speed, interrupts delivered (per IRQ line), TLB fills and
    /// page walks, and the engines' own counters (see README).
    #[arg(long)]
    stats: bool,
}

/// First boot device.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum BootArg {
    /// Floppy A:, then the hard disk.
    A,
    /// The hard disk, then floppy A:.
    C,
}

/// Device time source.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum ClockArg {
    /// Wall-clock time.
    Host,
    /// Time from retired instructions (deterministic).
    Virtual,
}

#[derive(clap::Args)]
struct SstArgs {
    /// .MOO/.MOO.gz files or directories of them.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Execution engine.
    #[arg(long, value_enum, default_value_t = EngineArg::Interp)]
    engine: EngineArg,
    /// Run only the first N tests of each file.
    #[arg(long, value_name = "N", default_value_t = 0)]
    sample: usize,
    /// Print up to N failing tests per file with their differences.
    #[arg(long, value_name = "N", default_value_t = 0)]
    show_failures: usize,
    /// Exit 0 even when tests fail.
    #[arg(long)]
    allow_failures: bool,
}

#[derive(clap::Args)]
struct BenchArgs {
    /// Engines to run in-process, comma-separated, in column order.
    #[arg(long, value_name = "LIST", default_value = "interp,jit")]
    engines: String,
    /// Rows to run, comma-separated (default: all).
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    rows: Vec<String>,
    /// Also run each ROM under qemu-system-i386 (TCG) as a child process.
    #[arg(long)]
    qemu: bool,
    /// Iterations for every row instead of each row's default.
    #[arg(long, value_name = "N")]
    iters: Option<u64>,
    /// Divide each row's default iterations by 10.
    #[arg(long)]
    quick: bool,
    /// Timed runs per measurement; the fastest counts.
    #[arg(long, value_name = "N", default_value_t = 1)]
    repeat: u32,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
    /// Also write the results as an SVG bar chart (ns/iter, log scale).
    #[arg(long, value_name = "FILE.svg")]
    plot: Option<PathBuf>,
    /// Where assembled ROMs are cached (default: btvm-bench in the temp dir).
    #[arg(long, value_name = "DIR")]
    cache_dir: Option<PathBuf>,
}

fn main() -> ExitCode {
    // A panic must not leave the terminal in raw mode.
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        btvm::display::term::restore_terminal();
        btvm::console::restore_terminal();
        default_hook(info);
    }));
    let cli = Cli::parse();
    let r = match cli.command {
        Command::Run(a) => run(*a),
        Command::Sst(a) => sst(a),
        Command::Bench(a) => bench(a),
        Command::Fuzz(a) => fuzz(a),
    };
    match r {
        Ok(code) => code,
        Err(e) => {
            eprintln!("btvm: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn sst(a: SstArgs) -> Result<ExitCode> {
    let _ = a.engine;
    let files = btvm::sst::collect_files(&a.paths)?;
    let opts = btvm::sst::Options {
        sample: a.sample,
        show_failures: a.show_failures,
    };
    let total = btvm::sst::run_files_parallel(&files, &opts, |path, tally, details| {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        println!(
            "{name}: {} passed, {} failed, {} skipped",
            tally.passed, tally.failed, tally.skipped
        );
        for d in details {
            println!("{d}");
        }
    })?;
    println!(
        "{} passed, {} failed, {} skipped",
        total.passed, total.failed, total.skipped
    );
    Ok(if total.failed == 0 || a.allow_failures {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn run(a: RunArgs) -> Result<ExitCode> {
    let schedule = a
        .engine_schedule
        .as_deref()
        .map(btvm::engine::schedule::EngineSchedule::parse)
        .transpose()?;
    if a.check && a.engine != EngineArg::Jit && schedule.is_none() {
        anyhow::bail!("--check compares the JIT with the interpreter: it needs --engine jit");
    }
    let clock = match a.clock {
        ClockArg::Host => ClockKind::Host,
        ClockArg::Virtual => ClockKind::Virtual { mips: a.mips },
    };
    let timeout = match a.timeout {
        Some(t) if !(t > 0.0 && t.is_finite()) => {
            anyhow::bail!("--timeout {t}: must be a positive number of seconds")
        }
        t => t.map(Duration::from_secs_f64),
    };
    let bios = a.bios.map(Payload::read).transpose()?;
    let disk_boot = (!a.floppy.is_empty() || a.disk.is_some()) && a.kernel.is_none();
    let linux = match a.kernel {
        Some(k) => Some(LinuxPayload {
            kernel: Payload::read(k)?,
            initrd: a.initrd.map(Payload::read).transpose()?,
            cmdline: a.append.unwrap_or_else(|| "console=ttyS0".to_string()),
        }),
        // No guest named: boot the bundled Linux.
        None if bios.is_none() && a.floppy.is_empty() && a.disk.is_none() => {
            Some(btvm::guest::linux(a.append))
        }
        None => {
            if a.append.is_some() {
                anyhow::bail!("--append needs --kernel (or no --bios, for the bundled guest)");
            }
            None
        }
    };
    if a.floppy.len() > 2 {
        anyhow::bail!(
            "--floppy given {} times; a PC has drives A: and B: only",
            a.floppy.len()
        );
    }
    let mut floppies = a.floppy.into_iter();
    let cfg = Config {
        memory_mib: a.memory,
        bios,
        linux,
        clock,
        reboot: a.reboot,
        rtc_start: None,
        floppies: [floppies.next(), floppies.next()],
        disk: a.disk,
        snapshot: a.snapshot,
        boot: match a.boot {
            BootArg::A => BootOrder::FloppyFirst,
            BootArg::C => BootOrder::DiskFirst,
        },
        engine: a.engine.kind(),
        check: a.check,
    };

    let stop = Arc::new(AtomicBool::new(false));
    for sig in [
        signal_hook::consts::SIGINT,
        signal_hook::consts::SIGTERM,
        signal_hook::consts::SIGHUP,
    ] {
        signal_hook::flag::register(sig, Arc::clone(&stop))?;
    }
    let script = match (a.keys, &a.keys_file) {
        (Some(s), _) => Some(s),
        (None, Some(p)) => Some(btvm::keyboard::KeyScript::from_file(p)?),
        _ => None,
    };
    // Disk guests (DOS) talk to the screen and keyboard: show them when a
    // user is at a terminal; serial guests keep the terminal for COM1.
    let display = a.display.unwrap_or(
        if disk_boot && std::io::stdout().is_terminal() && std::io::stdin().is_terminal() {
            btvm::display::DisplayMode::Term
        } else {
            btvm::display::DisplayMode::None
        },
    );
    let term = display == btvm::display::DisplayMode::Term;
    // The display owns the terminal: COM1 then goes nowhere unless a file
    // was asked for.
    let serial = if term && a.serial == SerialBackend::Stdio {
        SerialBackend::Null
    } else {
        a.serial.clone()
    };
    let console = HostConsole::open(&serial)?;
    let kbd_in = if term {
        Some(btvm::console::open_keyboard_stdin()?)
    } else {
        None
    };
    if let Some(text) = &a.exit_on_serial {
        console.out.watch_for(text.as_bytes());
    }
    let mut m = Machine::with_console(cfg, console.out.clone())?;
    if let Some(s) = schedule {
        m.set_engine_schedule(s)?;
    }
    if let Some(input) = console.input {
        m.set_input(input);
    }
    if let Some((rx, _)) = &kbd_in {
        m.set_input(rx.clone());
    }
    if term || script.is_some() {
        m.set_keyboard(btvm::keyboard::HostKeyboard::new(script));
    }
    m.set_display(btvm::display::Display::open(display)?);
    let limits = Limits {
        max_instructions: a.max_instructions,
        timeout,
        interrupt: Some(stop),
        screen_marker: a.exit_on_screen,
    };
    let started = std::time::Instant::now();
    let exit = m.run(&limits);
    let wall = started.elapsed().as_secs_f64();
    // Terminal back to normal before the last line.
    m.set_display(btvm::display::Display::None);
    drop(kbd_in);
    drop(console.raw);
    if let Some(p) = &a.screenshot_on_exit {
        btvm::display::write_screenshot(
            p,
            &m.pc.vga.snapshot(),
            btvm::display::ScreenStyle::of(&m.pc.vga),
        )?;
    }
    eprintln!("btvm: {}", exit.describe());
    if a.stats {
        let n = m.cpu.regs.icount;
        eprintln!(
            "btvm: stats: {n} instructions, guest time {:.3} s, wall {wall:.3} s, {:.1} MIPS, {} interrupts delivered",
            m.pc.now().as_nanos() as f64 / 1e9,
            n as f64 / wall.max(1e-9) / 1e6,
            m.interrupts_delivered
        );
        print_stats_details(&m);
    }
    Ok(ExitCode::from(exit.status()))
}

/// The `--stats` lines after the first: per engine, interrupts, TLB.
fn print_stats_details(m: &Machine) {
    let (retired, switches) = m.retired_by_engine();
    if switches > 0 {
        let per: Vec<String> = retired
            .iter()
            .map(|(k, n)| format!("{} {n}", k.name()))
            .collect();
        eprintln!(
            "btvm: stats: instructions retired by engine: {}; {switches} engine switches",
            per.join(", ")
        );
    }
    let irqs: Vec<String> = m
        .interrupts_by_irq
        .iter()
        .enumerate()
        .filter(|(_, &n)| n > 0)
        .map(|(irq, n)| format!("IRQ {irq} {n}"))
        .collect();
    if !irqs.is_empty() {
        eprintln!("btvm: stats: interrupts by line: {}", irqs.join(", "));
    }
    let t = m.cpu.tlb_counts;
    eprintln!(
        "btvm: stats: TLB fills (misses) {}, page walks {}",
        t.fills, t.walks
    );
    for (kind, stats) in m.all_engine_stats() {
        let engine: Vec<String> = stats.iter().map(|(k, v)| format!("{k} {v}")).collect();
        if !engine.is_empty() {
            eprintln!("btvm: stats: {}: {}", kind.name(), engine.join(", "));
        }
    }
}

fn fuzz(a: FuzzArgs) -> Result<ExitCode> {
    if let Some(t) = a.time {
        if !(t > 0.0 && t.is_finite()) {
            anyhow::bail!("fuzz: --time must be a positive number of seconds");
        }
    }
    let engines_given = std::env::args().any(|x| x == "--engines" || x.starts_with("--engines="));
    let cmd = btvm::fuzz::FuzzCommand {
        engines: a.engines.unwrap_or_else(|| "interp,jit".into()),
        modes: a.mode,
        seed: a.seed,
        iterations: a.iterations,
        time: a.time,
        threads: a.threads,
        limit: a.max_instructions,
        out: a.out,
        replay: a.replay,
        engines_given,
    };
    Ok(ExitCode::from(btvm::fuzz::fuzz(&cmd)?))
}

fn bench(a: BenchArgs) -> Result<ExitCode> {
    let opts = btvm::bench::BenchOptions {
        rows: a.rows,
        engines: btvm::bench::parse_engines(&a.engines)?,
        qemu: a.qemu,
        iters: a.iters,
        quick: a.quick,
        repeat: a.repeat,
        cache: a.cache_dir.map_or_else(
            btvm::bench::RomCache::in_temp_dir,
            btvm::bench::RomCache::new,
        ),
    };
    let report = btvm::bench::run(&opts, &mut |what| eprintln!("btvm bench: {what}"))?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&report.to_json())?);
    } else {
        print!("{}", report.to_table());
    }
    if let Some(path) = &a.plot {
        let svg = btvm::bench::plot::to_svg(&report).map_err(|e| anyhow::anyhow!("--plot: {e}"))?;
        std::fs::write(path, svg).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    }
    if report.any_failed() {
        eprintln!("btvm bench: some rows failed (FAIL in the table)");
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}
