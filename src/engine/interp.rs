//! The interpreter as an engine: one [`crate::interp::step`] at a time.

use btvm_jit::flags::FLAG_IF;

use super::Engine;
use crate::cpu::access::Ctx;
use crate::cpu::exception::Stop;
use crate::interp::{self, DecodeCache};

/// The reference interpreter with its decode cache.
#[derive(Default)]
pub struct Interp {
    cache: DecodeCache,
}

impl Interp {
    /// An interpreter with an empty decode cache.
    pub fn new() -> Self {
        Interp {
            cache: DecodeCache::new(),
        }
    }
}

impl Engine for Interp {
    fn run_until(&mut self, ctx: &mut Ctx, end: u64, irq_pending: bool) -> Result<(), Stop> {
        run_interp(ctx, &mut self.cache, end, irq_pending)
    }

    fn reset(&mut self) {
        self.cache = DecodeCache::new();
    }
}

/// Interpret instructions until `end`, HLT, attention or a deliverable
/// interrupt (the contract of [`Engine::run_until`]); the JIT uses it for
/// the tail of a batch too short for a whole block.
pub fn run_interp(
    ctx: &mut Ctx,
    cache: &mut DecodeCache,
    end: u64,
    irq_pending: bool,
) -> Result<(), Stop> {
    while ctx.cpu.regs.icount < end {
        match interp::step(ctx, cache) {
            Ok(()) => {}
            Err(Stop::Halt) => return Ok(()),
            Err(s) => return Err(s),
        }
        if ctx.cpu.regs.attention != 0 {
            break;
        }
        if irq_pending && ctx.cpu.regs.flags & FLAG_IF != 0 && !ctx.cpu.irq_shadow {
            break;
        }
    }
    Ok(())
}
