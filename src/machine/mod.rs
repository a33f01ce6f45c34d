//! The machine: guest memory, the CPU, the platform devices and the run
//! loop that drives an engine between device events and exit reasons.

pub mod pc;

use std::path::PathBuf;

use crate::cpu::access::Ctx;
use crate::cpu::exception::Stop;
use crate::cpu::Cpu;
use crate::error::Error;
use crate::interp::{self, DecodeCache};
use crate::memory::GuestMemory;

/// What to build.
#[derive(Clone, Debug)]
pub struct Config {
    /// Guest RAM in MiB.
    pub memory_mib: u32,
    /// A raw ROM image to map at the top of the first MiB and of 4 GiB;
    /// `None` boots the built-in demo ROM.
    pub bios: Option<PathBuf>,
}

/// Why the machine stopped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Exit {
    /// The guest wrote `value` to the debug-exit port.
    DebugExit(u32),
    /// HLT with no way to wake up (interrupts disabled, or no interrupt source).
    Halted,
    /// A triple fault: the CPU shut down.
    TripleFault,
    /// The instruction budget (`--max-instructions`) ran out.
    InstructionLimit(u64),
}

impl Exit {
    /// The process exit status for this reason.
    pub fn status(&self) -> u8 {
        match self {
            Exit::DebugExit(v) => ((v << 1) | 1) as u8,
            Exit::Halted => 0,
            Exit::TripleFault => 3,
            Exit::InstructionLimit(_) => 124,
        }
    }

    /// One line for stderr.
    pub fn describe(&self) -> String {
        match self {
            Exit::DebugExit(v) => format!("guest requested exit through the debug-exit port (value {v:#x}, status {})", self.status()),
            Exit::Halted => "guest halted with no way to wake up".to_string(),
            Exit::TripleFault => "triple fault: the CPU shut down".to_string(),
            Exit::InstructionLimit(n) => format!("stopped after --max-instructions {n}"),
        }
    }
}

/// A PC.
pub struct Machine {
    /// The CPU.
    pub cpu: Cpu,
    /// Guest memory.
    pub mem: GuestMemory,
    /// Platform devices and port wiring.
    pub pc: pc::Pc,
    cache: DecodeCache,
}

impl Machine {
    /// Build a machine from a configuration, with the console on stdout.
    pub fn new(cfg: Config) -> Result<Self, Error> {
        Self::with_console(cfg, Box::new(std::io::stdout()))
    }

    /// Build a machine whose serial/debug console output goes to `console`.
    pub fn with_console(cfg: Config, console: Box<dyn std::io::Write>) -> Result<Self, Error> {
        let mut mem = GuestMemory::new(cfg.memory_mib)?;
        if let Some(path) = &cfg.bios {
            let image = std::fs::read(path).map_err(|e| Error::file(path, e))?;
            mem.load_rom(&image).map_err(|e| match e {
                Error::BadRom(what) => Error::format(path, what),
                other => other,
            })?;
        } else {
            mem.load_rom(crate::bios::DEMO_ROM)?;
        }
        Ok(Machine { cpu: Cpu::new(), mem, pc: pc::Pc::new(console), cache: DecodeCache::new() })
    }

    /// Run until an exit reason, or until `max_instructions` retire.
    pub fn run(&mut self, max_instructions: Option<u64>) -> Exit {
        let limit = max_instructions.unwrap_or(u64::MAX);
        loop {
            if let Some(v) = self.pc.take_exit() {
                self.pc.flush();
                return Exit::DebugExit(v);
            }
            if self.cpu.regs.icount >= limit {
                self.pc.flush();
                return Exit::InstructionLimit(limit);
            }
            let batch_end = self.cpu.regs.icount.saturating_add(4096).min(limit);
            self.cpu.regs.attention = 0;
            while self.cpu.regs.icount < batch_end && self.cpu.regs.attention == 0 {
                let mut ctx = Ctx { cpu: &mut self.cpu, mem: &mut self.mem, io: &mut self.pc };
                match interp::step(&mut ctx, &mut self.cache) {
                    Ok(()) => {}
                    Err(Stop::Halt) => {
                        self.pc.flush();
                        return Exit::Halted;
                    }
                    Err(Stop::TripleFault) => {
                        self.pc.flush();
                        return Exit::TripleFault;
                    }
                    Err(Stop::Exception(_)) => unreachable!("step delivers exceptions"),
                }
            }
        }
    }
}
