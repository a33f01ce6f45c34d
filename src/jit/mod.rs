//! The JIT engine: drives `btvm_jit`'s translator over the machine's CPU and
//! memory. One turn: look up (or translate) the block at CS:EIP, run it,
//! drop blocks of code pages that were written, repeat until the batch end,
//! an attention request, HLT or a deliverable interrupt.
//!
//! Code the translator cannot take (the first instruction crosses a page or
//! the CS limit, code outside RAM/ROM, an instruction fetch fault, or a page
//! rewritten over and over) runs on the interpreter one instruction at a
//! time, as does the tail of a batch too short for the next block.
//!
//! - `helpers.rs` the functions generated code calls (interpreter fallback,
//!   checked loads/stores, block lookup and chaining)
//! - `check.rs`   `--check`: every block re-run on the interpreter and compared

pub mod check;
mod helpers;

use std::collections::HashMap;

use btvm_jit::abi::{sreg, TlbView};
use btvm_jit::cache::{Block, BlockKey};
use btvm_jit::flags::{FLAG_IF, FLAG_TF};
use btvm_jit::mode::ModeKey;
use btvm_jit::runtime::{Jit, DEFAULT_CODE_BYTES};
use btvm_jit::translate::BlockRequest;

use crate::cpu::access::Ctx;
use crate::cpu::exception::Stop;
use crate::cpu::{Cpu, CR0_PE};
use crate::engine::interp::run_interp;
use crate::engine::{Engine, EngineStats};
use crate::interp::{DecodeCache, Handler};
use crate::memory::{GuestMemory, Region};

pub use helpers::HelperCtx;

/// A page whose blocks were dropped this many times for writes is left to
/// the interpreter (code and data sharing a page, as DOS programs do).
const SMC_GIVE_UP: u32 = 32;

/// The mode key of a CPU state.
pub fn mode_key(cpu: &Cpu) -> ModeKey {
    ModeKey::new(&cpu.regs.seg, cpu.cpl, cpu.cr0 & CR0_PE != 0, cpu.v86())
}

/// The basic-block JIT engine.
pub struct JitEngine {
    jit: Jit,
    interp: DecodeCache,
    hctx: Box<HelperCtx>,
    handlers: Vec<Handler>,
    smc_drops: HashMap<u32, u32>,
    flush_code_marks: bool,
    checker: Option<check::Checker>,
    interpreted: u64,
    block_runs: u64,
    /// Block-cache look-ups by the engine loop, and hits among them.
    lookups: u64,
    lookup_hits: u64,
}

impl JitEngine {
    /// A JIT engine; with `check`, every block is verified against the
    /// interpreter (`--engine jit --check`).
    pub fn new(check: bool) -> Result<Self, String> {
        let jit = Jit::new(helpers::table(), DEFAULT_CODE_BYTES)?;
        let mut e = JitEngine {
            jit,
            interp: DecodeCache::new(),
            hctx: Box::new(HelperCtx::default()),
            handlers: helpers::handler_table(),
            smc_drops: HashMap::new(),
            flush_code_marks: false,
            checker: check.then(check::Checker::default),
            interpreted: 0,
            block_runs: 0,
            lookups: 0,
            lookup_hits: 0,
        };
        if check {
            e.jit.opts.all_stores_slow = true;
        }
        Ok(e)
    }

    /// Drop the blocks of code pages written since the last look.
    fn drain_dirty(&mut self, mem: &mut GuestMemory) {
        if !mem.has_dirty_code() {
            return;
        }
        for page in mem.take_dirty_code() {
            self.jit.invalidate_page(page);
            *self.smc_drops.entry(page).or_default() += 1;
        }
    }

    /// Find or translate the block at CS:EIP; `None`: interpret one
    /// instruction instead.
    fn block_at(&mut self, ctx: &mut Ctx) -> Option<(usize, u32, BlockKey)> {
        let cs = ctx.cpu.regs.seg[sreg::CS];
        let eip = ctx.cpu.regs.eip;
        if eip > cs.limit {
            return None;
        }
        let lin = cs.base.wrapping_add(eip);
        // The exec TLB first: a page walk only on a miss.
        let phys = match exec_phys(ctx.cpu, lin) {
            Some(p) => p,
            None => ctx.cpu.translate_fill(ctx.mem, lin, TlbView::Exec).ok()?,
        };
        let key = block_key(ctx.cpu);
        self.lookups += 1;
        if let Some(b) = cached_block(&self.jit, ctx.cpu, &key, phys) {
            self.lookup_hits += 1;
            return Some((b.entry, b.instrs.len() as u32, key));
        }
        let mode = key.mode;
        let page = phys >> 12;
        if self.smc_drops.get(&page).is_some_and(|&n| n >= SMC_GIVE_UP) {
            return None;
        }
        let off = match ctx.mem.region(phys) {
            Region::Ram(o) | Region::Rom(o) => o,
            _ => return None,
        };
        let in_page = 0x1000 - (phys & 0xFFF) as usize;
        let in_limit = (u64::from(cs.limit) - u64::from(eip) + 1).min(0x1000) as usize;
        let len = in_page.min(in_limit);
        let code = ctx.mem.bytes()[off..off + len].to_vec();
        let req = BlockRequest {
            eip,
            cs_base: cs.base,
            mode,
            code: &code,
        };
        if matches!(ctx.mem.region(phys), Region::Ram(_)) && ctx.mem.mark_code_page(page) {
            ctx.cpu.drop_tlb_writes_to_phys(page << 12);
        }
        let resolve = |i: &iced_x86::Instruction| {
            if i.is_invalid() {
                0
            } else {
                i.mnemonic() as usize
            }
        };
        match self.jit.translate(&req, phys, &resolve) {
            Ok(Some(b)) => Some((b.entry, b.instrs.len() as u32, key)),
            Ok(None) => None,
            Err(e) => {
                // Translation trouble is never fatal: the interpreter runs it.
                if std::env::var_os("BTVM_JIT_DEBUG").is_some() {
                    eprintln!("btvm: jit: cannot translate at {eip:#x}: {e}");
                }
                None
            }
        }
    }

    /// Interpret up to the batch end `end` (or until the run loop must
    /// look), as the interpreter engine would.
    fn interpret_tail(&mut self, ctx: &mut Ctx, end: u64, irq_pending: bool) -> Result<(), Stop> {
        let start = ctx.cpu.regs.icount;
        let r = run_interp(ctx, &mut self.interp, end, irq_pending);
        self.interpreted += ctx.cpu.regs.icount - start;
        r
    }

    /// Interpret one instruction.
    fn interpret_one(&mut self, ctx: &mut Ctx, irq_pending: bool) -> Result<(), Stop> {
        self.interpreted += 1;
        let end = ctx.cpu.regs.icount + 1;
        run_interp(ctx, &mut self.interp, end, irq_pending)
    }
}

/// The physical address of linear `lin` if the exec TLB has its page.
#[inline]
fn exec_phys(cpu: &Cpu, lin: u32) -> Option<u32> {
    let e = &cpu.tlb.exec[btvm_jit::abi::Tlb::index(lin)];
    (e.tag == lin & !0xFFF).then_some(e.phys | (lin & 0xFFF))
}

/// The block-cache key for the CPU's CS:EIP and mode.
#[inline]
fn block_key(cpu: &Cpu) -> BlockKey {
    BlockKey {
        eip: cpu.regs.eip,
        cs_base: cpu.regs.seg[sreg::CS].base,
        mode: mode_key(cpu),
    }
}

/// The cached block for `key` if it was translated from `phys` and lies
/// inside the CS limit (always, when the mode key says CS covers every
/// EIP): the one validity check the engine and the lookup helper share.
#[inline]
fn cached_block<'j>(jit: &'j Jit, cpu: &Cpu, key: &BlockKey, phys: u32) -> Option<&'j Block> {
    let b = jit.cache.get(key)?;
    let limit = cpu.regs.seg[sreg::CS].limit;
    let fits = key.mode.has(ModeKey::CS_FULL)
        || u64::from(key.eip) + u64::from(b.guest_len) - 1 <= u64::from(limit);
    (b.phys == phys && fits).then_some(b)
}

impl Engine for JitEngine {
    fn run_until(&mut self, ctx: &mut Ctx, end: u64, irq_pending: bool) -> Result<(), Stop> {
        if self.flush_code_marks {
            ctx.mem.clear_code_pages();
            self.flush_code_marks = false;
        }
        self.drain_dirty(ctx.mem);
        while ctx.cpu.regs.icount < end {
            ctx.cpu.regs.settle_flags();
            // After STI/MOV SS, or with an interrupt already deliverable, the
            // interpreter's contract is one instruction, then a look: run
            // exactly that one.
            // With TF set every instruction ends in a single-step trap.
            let one = ctx.cpu.irq_shadow
                || ctx.cpu.regs.flags & FLAG_TF != 0
                || (irq_pending && ctx.cpu.regs.flags & FLAG_IF != 0);
            let block = if one { None } else { self.block_at(ctx) };
            let step = match block {
                Some((entry, n, key)) if ctx.cpu.regs.icount + u64::from(n) <= end => {
                    self.block_runs += 1;
                    match self.checker.take() {
                        None => {
                            ctx.cpu.regs.icount_limit = end;
                            self.run_block(ctx, entry, irq_pending)
                        }
                        Some(mut c) => {
                            let r = c.run(self, ctx, entry, n, key, irq_pending);
                            self.checker = Some(c);
                            r
                        }
                    }
                }
                // The block does not fit before the batch end: interpret
                // the tail in one go (one look-up, not one per instruction).
                Some(_) => self.interpret_tail(ctx, end, irq_pending),
                None => self.interpret_one(ctx, irq_pending),
            };
            self.drain_dirty(ctx.mem);
            match step {
                Ok(()) => {}
                Err(Stop::Halt) => return Ok(()),
                Err(s) => return Err(s),
            }
            if ctx.cpu.halted || ctx.cpu.regs.attention != 0 {
                break;
            }
            if irq_pending && ctx.cpu.regs.flags & FLAG_IF != 0 && !ctx.cpu.irq_shadow {
                break;
            }
        }
        Ok(())
    }

    fn reset(&mut self) {
        self.jit.flush();
        self.smc_drops.clear();
        self.flush_code_marks = true;
    }

    fn stats(&self) -> EngineStats {
        let s = self.jit.stats;
        let lookups = self.lookups + self.hctx.lookups;
        let hits = self.lookup_hits + self.hctx.lookup_hits;
        vec![
            ("blocks translated", s.translated),
            // Entries from the run loop plus entries through the lookup
            // and chain helpers; jumps along patched chains are not counted.
            ("blocks executed", self.block_runs + self.hctx.lookup_hits),
            ("block entries from the engine", self.block_runs),
            ("block entries through helpers", self.hctx.lookup_hits),
            ("block-cache look-ups", lookups),
            ("block-cache hits", hits),
            // Per mille, so it stays an integer.
            (
                "block-cache hit rate per mille",
                (hits * 1000).checked_div(lookups).unwrap_or(0),
            ),
            ("guest instructions translated inline", s.inline_instrs),
            ("translated as interpreter calls", s.fallback_instrs),
            ("instructions interpreted outside blocks", self.interpreted),
            ("chained exits", s.chained),
            ("blocks dropped for self-modifying code", s.invalidated),
            ("cache flushes", s.flushes),
            ("code bytes", self.jit.code_bytes() as u64),
        ]
    }

    fn take_failure(&mut self) -> Option<String> {
        self.checker.as_mut().and_then(|c| c.failure.take())
    }
}

impl JitEngine {
    /// Run a block (and whatever it chains to, up to `icount_limit`) with
    /// the helper context pointing at `ctx`.
    fn run_block(&mut self, ctx: &mut Ctx, entry: usize, irq_pending: bool) -> Result<(), Stop> {
        helpers::run(
            &mut self.hctx,
            &mut self.jit,
            &self.handlers,
            ctx,
            entry,
            irq_pending,
        )
    }
}
