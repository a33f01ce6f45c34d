//! The machine: guest memory, the CPU, the platform devices, the clock and
//! the run loop that drives an engine between device events and exit
//! reasons.
//!
//! One turn of the run loop (see [`Machine::run`]):
//! 1. host input (serial bytes, quit requests) is handed to the devices;
//! 2. every timed device is brought up to the clock's `now` and the IRQ
//!    levels are handed to the PIC;
//! 3. device requests are acted on (debug exit, reset, A20);
//! 4. limits are checked (instruction budget, wall-clock timeout, signals);
//! 5. an interrupt is delivered if IF = 1, no STI/MOV SS shadow is active
//!    and the PIC has one;
//! 6. a halted CPU sleeps until the next device deadline (virtual clock:
//!    time jumps there; host clock: the thread waits, or wakes on input);
//! 7. otherwise the engine runs a batch of instructions that ends at the
//!    next device deadline, at an `attention` request from a device access,
//!    at HLT, or as soon as a pending interrupt becomes deliverable.

pub mod clock;
mod exit;
pub mod pc;

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use btvm_devices::Ticks;
use btvm_jit::flags::FLAG_IF;
use crossbeam::channel::{Receiver, RecvTimeoutError, TryRecvError};

use crate::cpu::access::Ctx;
use crate::cpu::exception::Stop;
use crate::cpu::Cpu;
use crate::disk::DiskImage;
use crate::engine::schedule::EngineSchedule;
use crate::engine::{self, Engine, EngineKind};
use crate::error::Error;
use crate::loader::bzimage;
use crate::memory::GuestMemory;
use btvm_devices::{FloppyMedia, Timed};
use clock::{Clock, ClockKind};
pub use exit::Exit;
use pc::{ConsoleOut, Pc};

/// A file's contents and the name to use for it in messages.
#[derive(Clone, Debug)]
pub struct Payload {
    /// The bytes.
    pub data: Vec<u8>,
    /// Where they came from (a path, or a description of a built-in).
    pub name: PathBuf,
}

impl Payload {
    /// Read a file.
    pub fn read(path: impl Into<PathBuf>) -> Result<Self, Error> {
        let name = path.into();
        let data = std::fs::read(&name).map_err(|e| Error::file(&name, e))?;
        Ok(Payload { data, name })
    }
}

/// A Linux kernel to start with the boot protocol.
#[derive(Clone, Debug)]
pub struct LinuxPayload {
    /// bzImage.
    pub kernel: Payload,
    /// Initial ramdisk.
    pub initrd: Option<Payload>,
    /// Kernel command line.
    pub cmdline: String,
}

/// What to build.
#[derive(Clone, Debug)]
pub struct Config {
    /// Guest RAM in MiB.
    pub memory_mib: u32,
    /// A raw ROM image to map at the top of the first MiB and of 4 GiB;
    /// `None` maps the built-in ROM.
    pub bios: Option<Payload>,
    /// Start this kernel directly instead of at the reset vector.
    pub linux: Option<LinuxPayload>,
    /// Device time source.
    pub clock: ClockKind,
    /// On reset or triple fault, restart the machine instead of stopping.
    pub reboot: bool,
    /// RTC time at power-on (Unix seconds); `None`: the host's time under
    /// the host clock, [`VIRTUAL_RTC_START`] under the virtual clock.
    pub rtc_start: Option<i64>,
    /// Floppy images for drives A: and B:.
    pub floppies: [Option<PathBuf>; 2],
    /// Hard disk image (primary ATA master, BIOS drive 80h).
    pub disk: Option<PathBuf>,
    /// Keep all disk writes in memory; image files are never modified.
    pub snapshot: bool,
    /// Which disk the BIOS tries first (the other one second).
    pub boot: BootOrder,
    /// The execution engine.
    pub engine: EngineKind,
    /// Verify every JIT block against the interpreter (`--check`).
    pub check: bool,
}

/// The BIOS boot order (`--boot a` / `--boot c`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum BootOrder {
    /// Floppy A:, then the hard disk.
    #[default]
    FloppyFirst,
    /// The hard disk, then floppy A:.
    DiskFirst,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            memory_mib: 64,
            bios: None,
            linux: None,
            clock: ClockKind::Host,
            reboot: false,
            rtc_start: None,
            floppies: [None, None],
            disk: None,
            snapshot: false,
            boot: BootOrder::FloppyFirst,
            engine: EngineKind::Interp,
            check: false,
        }
    }
}

/// The RTC's power-on time under the virtual clock (2026-01-01 00:00:00
/// UTC), so that deterministic runs see the same date.
pub const VIRTUAL_RTC_START: i64 = 1_767_225_600;

/// Input from the host side.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HostInput {
    /// Bytes typed at the serial console.
    Serial(Vec<u8>),
    /// Terminal bytes for the PC keyboard (`--display term`).
    Keyboard(Vec<u8>),
    /// The user asked btvm to quit (Ctrl-A X).
    Quit,
    /// The user asked for the next engine (Ctrl-A E).
    CycleEngine,
}

/// Limits on a run.
#[derive(Clone, Debug, Default)]
pub struct Limits {
    /// Stop after this many retired instructions.
    pub max_instructions: Option<u64>,
    /// Stop after this much wall-clock time.
    pub timeout: Option<Duration>,
    /// Stop when this flag becomes true (a signal handler sets it).
    pub interrupt: Option<Arc<AtomicBool>>,
    /// Stop when this text is on the VGA text screen (`--exit-on-screen`).
    pub screen_marker: Option<String>,
}

/// Guest instructions between two looks at the screen for
/// [`Limits::screen_marker`] (a snapshot costs ~10 us).
const SCREEN_CHECK_INTERVAL: u64 = 1_000_000;

/// Instructions per batch when no device deadline is nearer. Small enough
/// that the host clock and host input are looked at often (~0.1 ms).
const MAX_BATCH: u64 = 4096;
/// Longest sleep of a halted CPU under the host clock before the loop looks
/// at limits again.
const MAX_HOST_SLEEP: Duration = Duration::from_millis(20);

/// A PC.
pub struct Machine {
    /// The CPU.
    pub cpu: Cpu,
    /// Guest memory.
    pub mem: GuestMemory,
    /// Platform devices, their wiring and the clock.
    pub pc: Pc,
    engine: Box<dyn Engine>,
    /// Which engine `engine` is.
    kind: EngineKind,
    /// Engines switched away from, kept with their caches.
    idle: Vec<(EngineKind, Box<dyn Engine>)>,
    /// `--engine-schedule`: the schedule, its current step and the
    /// instruction count at which the next step starts.
    schedule: Option<(EngineSchedule, usize, u64)>,
    /// Instructions retired under each engine, in [`EngineKind::ALL`] order.
    retired: [u64; 3],
    /// Engine switches made.
    switches: u64,
    cfg: Config,
    input: Option<Receiver<HostInput>>,
    serial_backlog: VecDeque<u8>,
    /// Interrupts delivered from the PIC.
    pub interrupts_delivered: u64,
    /// Interrupts delivered from the PIC, by IRQ line (0-15).
    pub interrupts_by_irq: [u64; 16],
    /// The built-in BIOS's services, when it is the firmware.
    bios: Option<crate::bios::Bios>,
    display: crate::display::Display,
    last_frame: Option<Instant>,
    keys: Option<crate::keyboard::HostKeyboard>,
}

impl Machine {
    /// Build a machine from a configuration, with the console on stdout.
    pub fn new(cfg: Config) -> Result<Self, Error> {
        Self::with_console(cfg, ConsoleOut::new(Box::new(std::io::stdout())))
    }

    /// Build a machine whose serial/debug console output goes to `console`.
    pub fn with_console(cfg: Config, console: ConsoleOut) -> Result<Self, Error> {
        let mem = GuestMemory::new(cfg.memory_mib)?;
        let rtc_start = cfg.rtc_start.unwrap_or_else(|| match cfg.clock {
            ClockKind::Virtual { .. } => VIRTUAL_RTC_START,
            ClockKind::Host => host_unix_time(),
        });
        let mut pc = Pc::new(Clock::new(cfg.clock), console, rtc_start);
        attach_disks(&mut pc, &cfg)?;
        let mut m = Machine {
            cpu: Cpu::new(),
            mem,
            pc,
            engine: engine::try_new_engine(cfg.engine, cfg.clock, cfg.check)?,
            kind: cfg.engine,
            idle: Vec::new(),
            schedule: None,
            retired: [0; 3],
            switches: 0,
            cfg,
            input: None,
            serial_backlog: VecDeque::new(),
            interrupts_delivered: 0,
            interrupts_by_irq: [0; 16],
            bios: None,
            display: crate::display::Display::None,
            last_frame: None,
            keys: None,
        };
        m.power_on()?;
        Ok(m)
    }

    /// Load firmware and boot payload, as at power-on or reset.
    fn power_on(&mut self) -> Result<(), Error> {
        match &self.cfg.bios {
            Some(rom) => self.mem.load_rom(&rom.data).map_err(|e| match e {
                Error::BadRom(what) => Error::format(&rom.name, what),
                other => other,
            })?,
            // A disk to boot and no kernel: the built-in BIOS.
            None if self.cfg.linux.is_none()
                && (self.cfg.disk.is_some() || self.cfg.floppies.iter().any(Option::is_some)) =>
            {
                self.mem.load_rom(crate::bios::BIOS_ROM)?;
                let cfg = crate::bios::BiosConfig {
                    boot: self.cfg.boot,
                    memory_bytes: self.mem.ram_size(),
                };
                self.bios = Some(crate::bios::Bios::new(cfg));
            }
            None => self.mem.load_rom(crate::bios::DEMO_ROM)?,
        }
        self.pc.cmos_set_memory_size(self.mem.ram_size());
        if let Some(linux) = &self.cfg.linux {
            // The boot loader ran with A20 open; keep the gate open too.
            self.pc.open_a20();
            self.mem.set_a20(true);
            let initrd = linux
                .initrd
                .as_ref()
                .map(|p| (&p.data[..], p.name.as_path()));
            bzimage::load(
                &mut self.mem,
                &mut self.cpu,
                &linux.kernel.data,
                &linux.kernel.name,
                initrd,
                &linux.cmdline,
            )?;
        }
        Ok(())
    }

    /// Restart: a CPU reset with fresh devices; RAM keeps its contents and
    /// a direct-boot kernel is loaded again (as QEMU's loader ROM does).
    fn reset(&mut self) -> Result<(), Error> {
        self.pc.flush();
        let placeholder = Pc::new(Clock::new(self.cfg.clock), self.pc.console(), 0);
        let old = std::mem::replace(&mut self.pc, placeholder);
        self.pc = Pc::after_reset(old);
        // The instruction count is the machine's clock (and the
        // --max-instructions budget): it keeps running across a reset.
        let icount = self.cpu.regs.icount;
        self.cpu = Cpu::new();
        self.cpu.regs.icount = icount;
        self.mem.set_a20(false);
        self.engine.reset();
        for (_, e) in &mut self.idle {
            e.reset();
        }
        self.power_on()
    }

    /// Show the text screen on `display` while running.
    pub fn set_display(&mut self, display: crate::display::Display) {
        self.display = display;
        self.last_frame = None;
    }

    /// Type into the PC keyboard: scripted keys (`--keys`) and host keys.
    pub fn set_keyboard(&mut self, keyboard: crate::keyboard::HostKeyboard) {
        self.keys = Some(keyboard);
    }

    /// Connect host input (serial console keystrokes, quit requests).
    pub fn set_input(&mut self, input: Receiver<HostInput>) {
        self.input = Some(input);
    }

    /// The engine running now.
    pub fn engine_kind(&self) -> EngineKind {
        self.kind
    }

    /// Move to another engine at this safe point (between batches: the CPU
    /// state is all in [`Machine::cpu`]). Engines switched away from are
    /// kept with their caches; every engine that sat idle while KVM ran is
    /// reset when KVM leaves, since KVM writes guest memory without the
    /// JIT's code-page tracking. A JIT idle under the interpreter keeps its
    /// blocks: the interpreter's stores go through the same TLB write view
    /// and GuestMemory code-page marks, so its SMC tracking stays valid.
    pub fn switch_engine(&mut self, kind: EngineKind) -> Result<(), Error> {
        if kind == self.kind {
            return Ok(());
        }
        let mut next = match self.idle.iter().position(|(k, _)| *k == kind) {
            Some(i) => self.idle.swap_remove(i).1,
            None => engine::try_new_engine(
                kind,
                self.cfg.clock,
                self.cfg.check && kind == EngineKind::Jit,
            )?,
        };
        let from = self.kind;
        if from == EngineKind::Kvm {
            next.reset();
            for (_, e) in &mut self.idle {
                e.reset();
            }
        }
        if kind == EngineKind::Kvm {
            // Write the whole CPU into the vCPU on entry.
            next.reset();
        }
        let old = std::mem::replace(&mut self.engine, next);
        self.idle.push((from, old));
        self.kind = kind;
        self.switches += 1;
        Ok(())
    }

    /// Cycle through engines by `--engine-schedule` from now on, starting
    /// with its first step.
    pub fn set_engine_schedule(&mut self, schedule: EngineSchedule) -> Result<(), Error> {
        let (kind, n) = schedule.steps[0];
        self.switch_engine(kind)?;
        let at = self.cpu.regs.icount.saturating_add(n);
        self.schedule = Some((schedule, 0, at));
        Ok(())
    }

    /// At a schedule step's end, move to the next step's engine.
    fn follow_schedule(&mut self) -> Result<(), Error> {
        let icount = self.cpu.regs.icount;
        let Some((schedule, step, at)) = &mut self.schedule else {
            return Ok(());
        };
        if icount < *at {
            return Ok(());
        }
        *step = (*step + 1) % schedule.steps.len();
        let (kind, n) = schedule.steps[*step];
        *at = icount.saturating_add(n);
        self.switch_engine(kind)
    }

    /// Ctrl-A E: the next engine that can start here (KVM may be absent,
    /// or be PVM while the guest is in protected mode).
    fn cycle_engine(&mut self) {
        let mut kind = self.kind.next();
        while kind != self.kind {
            if kind == EngineKind::Kvm && self.cpu.protected() && engine::kvm::host_is_pvm() {
                // It would stop the machine at once: skip it.
                eprint!(
                    "\r\nbtvm: kvm skipped: this host's KVM (PVM) cannot run protected mode\r\n"
                );
                kind = kind.next();
                continue;
            }
            match self.switch_engine(kind) {
                Ok(()) => break,
                Err(e) => eprint!("\r\nbtvm: {e}\r\n"),
            }
            kind = kind.next();
        }
        eprint!("\r\nbtvm: engine {}\r\n", self.kind.name());
    }

    /// Instructions retired under each engine that ran, and the number of
    /// engine switches (`--stats`).
    pub fn retired_by_engine(&self) -> (Vec<(EngineKind, u64)>, u64) {
        let per = EngineKind::ALL
            .into_iter()
            .zip(self.retired)
            .filter(|&(_, n)| n > 0)
            .collect();
        (per, self.switches)
    }

    /// Run until an exit reason.
    pub fn run(&mut self, limits: &Limits) -> Exit {
        let exit = self.run_inner(limits);
        self.pc.flush();
        self.display.show(&self.pc.vga);
        exit
    }

    fn run_inner(&mut self, limits: &Limits) -> Exit {
        let started = Instant::now();
        let max = limits.max_instructions.unwrap_or(u64::MAX);
        let mut next_screen_check = 0;
        loop {
            self.pc.flush();
            if self.pc.serial_marker_seen() {
                return Exit::SerialMarker;
            }
            if let Some(text) = &limits.screen_marker {
                if self.cpu.regs.icount >= next_screen_check {
                    next_screen_check = self.cpu.regs.icount + SCREEN_CHECK_INTERVAL;
                    if self.pc.vga.snapshot().to_text().contains(text.as_str()) {
                        return Exit::ScreenMarker;
                    }
                }
            }
            if let Some(exit) = self.poll_input(Duration::ZERO) {
                return exit;
            }
            if self.display.is_live()
                && self
                    .last_frame
                    .is_none_or(|t| t.elapsed() >= crate::display::FRAME_INTERVAL)
            {
                self.display.show(&self.pc.vga);
                self.last_frame = Some(Instant::now());
            }
            let icount = self.cpu.regs.icount;
            let now = self.pc.clock.now(icount);
            if let Some(k) = &mut self.keys {
                k.deliver(now, &mut self.pc.kbc);
            }
            self.pc
                .set_fpu_error(self.cpu.fpu.ferr_pending && self.cpu.cr0 & CR0_NE == 0);
            self.pc.advance(now);

            let req = self.pc.take_requests();
            if req.bios_trap {
                if let Some(bios) = &mut self.bios {
                    bios.service(&mut self.cpu, &mut self.mem, &mut self.pc);
                }
            }
            if req.dma || self.pc.fdc.next_deadline().is_some() {
                let pc = &mut self.pc;
                pc.dma.transfer(
                    btvm_devices::dma8237::FLOPPY_CHANNEL,
                    &mut DmaRam(&mut self.mem),
                    &mut pc.fdc,
                );
            }
            if let Some(status) = req.exit_status {
                return Exit::DebugExit(status);
            }
            if req.reset {
                if let Some(exit) = self.reset_or_stop(Exit::Reset) {
                    return exit;
                }
                continue;
            }
            if self.pc.a20() != self.mem.a20() {
                self.mem.set_a20(self.pc.a20());
                self.cpu.flush_tlb_all();
            }

            if icount >= max {
                return Exit::InstructionLimit(max);
            }
            if let Some(t) = limits.timeout {
                if started.elapsed() >= t {
                    return Exit::Timeout(t);
                }
            }
            if limits
                .interrupt
                .as_ref()
                .is_some_and(|f| f.load(Ordering::Relaxed))
            {
                return Exit::Signal;
            }

            let if_set = self.cpu.regs.flags & FLAG_IF != 0;
            if if_set && !self.cpu.irq_shadow && self.pc.pic.has_interrupt() {
                if let Some(vector) = self.pc.pic.acknowledge() {
                    self.interrupts_delivered += 1;
                    let [primary, secondary] = self.pc.pic.vector_bases();
                    let irq = match vector & !7 {
                        b if b == primary => Some(vector & 7),
                        b if b == secondary => Some(8 + (vector & 7)),
                        _ => None,
                    };
                    if let Some(irq) = irq {
                        self.interrupts_by_irq[usize::from(irq)] += 1;
                    }
                    if let Err(stop) = self.deliver(vector) {
                        if let Some(exit) = self.stop_to_exit(stop) {
                            return exit;
                        }
                        continue;
                    }
                }
            }

            let key_deadline = self.keys.as_ref().and_then(|k| k.next_deadline());
            let deadline = [self.pc.next_deadline(), key_deadline]
                .into_iter()
                .flatten()
                .min();
            if self.cpu.halted {
                if !if_set {
                    return Exit::Halted;
                }
                if let Some(exit) = self.sleep_until(deadline, limits, started) {
                    return exit;
                }
                continue;
            }

            if let Err(e) = self.follow_schedule() {
                return Exit::EngineFailed(e.to_string());
            }
            let mut budget = MAX_BATCH.min(max - icount);
            if let Some((_, _, at)) = &self.schedule {
                budget = budget.min(at.saturating_sub(icount).max(1));
            }
            if let Some(n) = deadline.and_then(|d| self.pc.clock.instructions_until(now, d)) {
                budget = budget.min(n.max(1));
            }
            if self.cpu.irq_shadow {
                // One instruction, then look for interrupts again.
                budget = 1;
            }
            let irq_pending = self.pc.pic.has_interrupt();
            if let Err(stop) = self.run_batch(budget, irq_pending) {
                if let Some(exit) = self.stop_to_exit(stop) {
                    return exit;
                }
            }
        }
    }

    /// Run up to `budget` instructions with the engine.
    fn run_batch(&mut self, budget: u64, irq_pending: bool) -> Result<(), Stop> {
        let start = self.cpu.regs.icount;
        let end = start + budget;
        self.cpu.regs.attention = 0;
        let mut ctx = Ctx {
            cpu: &mut self.cpu,
            mem: &mut self.mem,
            io: &mut self.pc,
        };
        let r = self.engine.run_until(&mut ctx, end, irq_pending);
        let slot = EngineKind::ALL.iter().position(|&k| k == self.kind);
        if let Some(i) = slot {
            self.retired[i] += self.cpu.regs.icount.saturating_sub(start);
        }
        r
    }

    /// The running engine's counters (`--stats`).
    pub fn engine_stats(&self) -> engine::EngineStats {
        self.engine.stats()
    }

    /// The counters of every engine that ran, the current one first.
    pub fn all_engine_stats(&self) -> Vec<(EngineKind, engine::EngineStats)> {
        std::iter::once((self.kind, self.engine.stats()))
            .chain(self.idle.iter().map(|(k, e)| (*k, e.stats())))
            .collect()
    }

    /// Deliver an external interrupt at the current instruction boundary.
    fn deliver(&mut self, vector: u8) -> Result<(), Stop> {
        let mut ctx = Ctx {
            cpu: &mut self.cpu,
            mem: &mut self.mem,
            io: &mut self.pc,
        };
        let eip = ctx.cpu.regs.eip;
        match ctx.interrupt(vector, None, eip) {
            Err(Stop::Exception(e)) => ctx.raise(e, eip),
            other => other,
        }
    }

    /// Map a CPU stop to an exit (or a restart with `--reboot`).
    fn stop_to_exit(&mut self, stop: Stop) -> Option<Exit> {
        match stop {
            Stop::TripleFault => self.reset_or_stop(Exit::TripleFault),
            Stop::Halt => None,
            // `step` delivers exceptions; one escaping is a machine bug, so
            // stop with a clear reason rather than run on in a wrong state.
            Stop::Exception(e) => Some(Exit::InternalError(format!("undelivered exception {e:?}"))),
            Stop::CheckFailed => Some(Exit::InternalError(
                self.engine
                    .take_failure()
                    .unwrap_or_else(|| "the engine stopped".to_string()),
            )),
            Stop::EngineFailed(why) => Some(Exit::EngineFailed(why.to_string())),
        }
    }

    fn reset_or_stop(&mut self, why: Exit) -> Option<Exit> {
        if !self.cfg.reboot {
            return Some(why);
        }
        match self.reset() {
            Ok(()) => None,
            Err(e) => Some(Exit::InternalError(format!("reset failed: {e}"))),
        }
    }

    /// A halted CPU with IF = 1 waits for the next device deadline or for
    /// host input.
    fn sleep_until(
        &mut self,
        deadline: Option<Ticks>,
        limits: &Limits,
        started: Instant,
    ) -> Option<Exit> {
        let icount = self.cpu.regs.icount;
        let now = self.pc.clock.now(icount);
        if self.pc.clock.is_virtual() {
            return match deadline {
                Some(d) => {
                    self.pc.clock.skip_to(icount, d);
                    None
                }
                // Nothing will ever raise an interrupt, unless the host
                // types something.
                None if self.input.is_some() => self.poll_input(MAX_HOST_SLEEP),
                None => Some(Exit::Halted),
            };
        }
        let mut wait = deadline.map_or(MAX_HOST_SLEEP, |d| {
            Duration::from_nanos(d.0.saturating_sub(now.0))
        });
        wait = wait.min(MAX_HOST_SLEEP);
        if let Some(t) = limits.timeout {
            wait = wait.min(t.saturating_sub(started.elapsed()));
        }
        if self.input.is_some() {
            self.poll_input(wait)
        } else {
            std::thread::sleep(wait);
            None
        }
    }

    /// Take host input (waiting up to `wait` for the first event) and feed
    /// serial bytes to COM1 as it has room.
    fn poll_input(&mut self, wait: Duration) -> Option<Exit> {
        let mut cycles = 0;
        if let Some(rx) = &self.input {
            let first = if wait.is_zero() {
                rx.try_recv().map_err(|e| e == TryRecvError::Disconnected)
            } else {
                rx.recv_timeout(wait)
                    .map_err(|e| e == RecvTimeoutError::Disconnected)
            };
            let mut next = first;
            loop {
                match next {
                    Ok(HostInput::Serial(bytes)) => self.serial_backlog.extend(bytes),
                    Ok(HostInput::Keyboard(bytes)) => {
                        if let Some(k) = &mut self.keys {
                            k.type_bytes(&bytes);
                        }
                    }
                    Ok(HostInput::Quit) => return Some(Exit::UserQuit),
                    Ok(HostInput::CycleEngine) => cycles += 1,
                    Err(true) => {
                        self.input = None;
                        break;
                    }
                    Err(false) => break,
                }
                next = rx.try_recv().map_err(|e| e == TryRecvError::Disconnected);
            }
        }
        for _ in 0..cycles {
            self.cycle_engine();
        }
        while !self.serial_backlog.is_empty() && self.pc.com1.rx_has_room() {
            let (a, _) = self.serial_backlog.as_slices();
            let n = self.pc.com1.enqueue_rx(a);
            self.serial_backlog.drain(..n);
        }
        None
    }
}

/// Open the configured disk images and put them in their controllers.
fn attach_disks(pc: &mut Pc, cfg: &Config) -> Result<(), Error> {
    for (drive, path) in cfg.floppies.iter().enumerate() {
        if let Some(path) = path {
            let image = DiskImage::open(path, cfg.snapshot)?;
            let media = FloppyMedia::new(Box::new(image))
                .map_err(|e| Error::format(path, format!("not a floppy image: {e}")))?;
            pc.fdc.insert_media(drive, media);
            let geometry = pc.fdc.media_mut(drive).map(|m| m.geometry());
            pc.cmos_set_floppy_type(drive, geometry);
        }
    }
    if let Some(path) = &cfg.disk {
        let image = DiskImage::open(path, cfg.snapshot)?;
        pc.attach_hard_disk(Box::new(image));
    }
    Ok(())
}

/// Serve DMA channel 2 (the floppy) against guest memory.
struct DmaRam<'a>(&'a mut GuestMemory);

impl btvm_devices::DmaMemory for DmaRam<'_> {
    fn read_physical(&mut self, addr: u32, buf: &mut [u8]) {
        self.0.read_phys(addr, buf);
    }
    fn write_physical(&mut self, addr: u32, data: &[u8]) {
        self.0.write_phys(addr, data);
    }
}

/// CR0.NE: FPU errors raise #MF instead of FERR# (IRQ 13).
const CR0_NE: u32 = 1 << 5;

fn host_unix_time() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}
