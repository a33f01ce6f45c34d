//! The functions generated code calls, and the context they reach the
//! machine through. Each keeps the interpreter's contract for the guest
//! instruction it serves: the instruction count is exact while it runs,
//! a fault rolls EIP back to the instruction and is delivered, and the
//! block is told to stop whenever the run loop must look (attention, a
//! deliverable interrupt, an interrupt shadow, a mode or control change).

#![allow(unsafe_code)]

use btvm_jit::abi::{gpr, sreg, SegCache, Tlb};
use btvm_jit::flags::{FLAG_IF, FLAG_TF};
use btvm_jit::helpers::{ExitSlot, Helpers, Site, CONTINUE, EXIT, LOAD_EXIT_BIT};
use btvm_jit::runtime::Jit;

use crate::cpu::access::Ctx;
use crate::cpu::exception::{Exception, Stop};
use crate::cpu::{Cpu, CR0_PE};
use crate::interp::{handler_for, invalid_opcode, Handler};

/// What helpers reach while a block runs (pointers valid for one
/// [`run`] call only).
pub struct HelperCtx {
    ctx: *mut Ctx<'static>,
    jit: *mut Jit,
    handlers: *const Handler,
    irq_pending: bool,
    /// A stop (HLT, triple fault) a helper ran into.
    pub stop: Option<Stop>,
    /// `--stats`: block look-ups by the lookup and chain helpers, and how
    /// many found a block (a block entered from another block's exit).
    pub lookups: u64,
    /// See `lookups`.
    pub lookup_hits: u64,
}

impl Default for HelperCtx {
    fn default() -> Self {
        HelperCtx {
            ctx: std::ptr::null_mut(),
            jit: std::ptr::null_mut(),
            handlers: std::ptr::null(),
            irq_pending: false,
            stop: None,
            lookups: 0,
            lookup_hits: 0,
        }
    }
}

/// The helper table for the translator.
pub fn table() -> Helpers {
    Helpers {
        fallback,
        load,
        store,
        lookup,
        chain,
    }
}

/// Interpreter handlers indexed by `Mnemonic as usize`; index 0 (the
/// invalid mnemonic) is #UD.
pub fn handler_table() -> Vec<Handler> {
    iced_x86::Mnemonic::values()
        .map(|m| handler_for(m).unwrap_or(invalid_opcode))
        .collect()
}

/// Run generated code from `entry` with `ctx` as the machine.
pub fn run(
    h: &mut HelperCtx,
    jit: &mut Jit,
    handlers: &[Handler],
    ctx: &mut Ctx,
    entry: usize,
    irq_pending: bool,
) -> Result<(), Stop> {
    h.ctx = (ctx as *mut Ctx).cast::<Ctx<'static>>();
    h.jit = jit;
    h.handlers = handlers.as_ptr();
    h.irq_pending = irq_pending;
    h.stop = None;
    let regs: *mut btvm_jit::abi::RegFile = &mut ctx.cpu.regs;
    let tlb: *mut Tlb = &mut *ctx.cpu.tlb;
    let prelude = *jit.prelude();
    // SAFETY: prelude and `entry` are this Jit's live code; `regs`, `tlb`,
    // `h` (and `h.ctx`) outlive the call and are reached only through `h`,
    // one helper call at a time.
    unsafe {
        btvm_jit::entry::enter(&prelude, regs, tlb, (h as *mut HelperCtx).cast(), entry);
    }
    h.ctx = std::ptr::null_mut();
    match h.stop.take() {
        Some(s) => Err(s),
        None => Ok(()),
    }
}

/// The helper context and the machine behind a raw pointer from generated
/// code.
///
/// # Safety
/// `p` must be the `HelperCtx` passed to `enter` by [`run`], during that
/// call.
unsafe fn parts<'a>(p: *mut u8) -> (&'a mut HelperCtx, &'a mut Ctx<'static>) {
    // SAFETY: per the function contract `p` is the live HelperCtx, and its
    // `ctx` was set by `run` to a Ctx that outlives the call.
    unsafe {
        let h = &mut *p.cast::<HelperCtx>();
        let ctx = &mut *h.ctx;
        (h, ctx)
    }
}

/// Deliver a fault raised by the site's instruction: EIP back to it, the
/// instruction counted (as the interpreter counts a faulting step).
fn fault(h: &mut HelperCtx, ctx: &mut Ctx, site: &Site, e: Exception, esp: u32) {
    ctx.cpu.regs.eip = site.eip;
    ctx.cpu.regs.gpr[gpr::ESP] = esp;
    ctx.cpu.regs.icount += 1;
    if let Err(s) = ctx.raise(e, site.eip) {
        h.stop = Some(s);
    }
    ctx.cpu.regs.settle_flags();
}

/// Whether the run loop must look before the next instruction.
fn must_leave(h: &HelperCtx, ctx: &Ctx) -> bool {
    let cpu = &*ctx.cpu;
    cpu.regs.attention != 0
        || cpu.halted
        || cpu.irq_shadow
        // POPF/IRET set TF: the engine single-steps from here on.
        || cpu.regs.flags & FLAG_TF != 0
        || (h.irq_pending && cpu.regs.flags & FLAG_IF != 0)
}

/// What [`super::mode_key`] is computed from: segment caches, CPL, CR0.PE
/// and EFLAGS.VM.
struct ModeInputs {
    seg: [SegCache; 6],
    /// CPL, CR0.PE and EFLAGS.VM packed.
    rest: u32,
}

impl ModeInputs {
    #[inline(always)]
    fn of(cpu: &Cpu) -> Self {
        ModeInputs {
            seg: cpu.regs.seg,
            rest: u32::from(cpu.cpl)
                | u32::from(cpu.cr0 & CR0_PE != 0) << 8
                | u32::from(cpu.v86()) << 9,
        }
    }

    /// Whether anything differs from `other` (branch-free: this runs after
    /// every interpreted instruction).
    #[inline(always)]
    fn differs(&self, other: &ModeInputs) -> bool {
        let seg = self.seg.iter().zip(other.seg.iter()).fold(0, |d, (a, b)| {
            d | (a.base ^ b.base)
                | (a.limit ^ b.limit)
                | u32::from(a.attr ^ b.attr)
                | u32::from(a.selector ^ b.selector)
        });
        seg | (self.rest ^ other.rest) != 0
    }
}

extern "sysv64" fn fallback(p: *mut u8, site: *const Site) -> u64 {
    // SAFETY: called by generated code during `run` with its context and a
    // site record owned by the running block.
    let (h, ctx) = unsafe { parts(p) };
    // SAFETY: the site record is owned by the running block.
    let site = unsafe { &*site };
    let rest = u64::from(site.rem) + 1;
    ctx.cpu.regs.icount -= rest;
    let esp = ctx.cpu.regs.gpr[gpr::ESP];
    ctx.cpu.irq_shadow = false;
    ctx.cpu.regs.eip = site.next_eip;
    // SAFETY: `handlers` points at the engine's table, indexed by mnemonic
    // (`site.handler` was produced from the same table's indexing).
    let handler = unsafe { *h.handlers.add(site.handler) };
    // The mode key is a function of these alone: when they are unchanged
    // (most instructions) it need not be recomputed.
    let before = ModeInputs::of(ctx.cpu);
    let r = handler(ctx, &site.instr);
    match r {
        Ok(()) => ctx.cpu.regs.icount += 1,
        Err(Stop::Exception(e)) => {
            fault(h, ctx, site, e, esp);
            return EXIT;
        }
        Err(s) => {
            ctx.cpu.regs.icount += 1;
            ctx.cpu.regs.settle_flags();
            h.stop = Some(s);
            return EXIT;
        }
    }
    ctx.cpu.regs.settle_flags();
    if must_leave(h, ctx)
        || ctx.cpu.regs.eip != site.next_eip
        || (ModeInputs::of(ctx.cpu).differs(&before) && super::mode_key(ctx.cpu).0 != site.mode)
    {
        return EXIT;
    }
    ctx.cpu.regs.icount += rest - 1;
    CONTINUE
}

extern "sysv64" fn load(p: *mut u8, site: *const Site, offset: u32) -> u64 {
    // SAFETY: as for `fallback`.
    let (h, ctx) = unsafe { parts(p) };
    // SAFETY: the site record is owned by the running block.
    let site = unsafe { &*site };
    let rest = u64::from(site.rem) + 1;
    ctx.cpu.regs.icount -= rest;
    let (seg, n) = (usize::from(site.seg), usize::from(site.size));
    let read = if site.rmw {
        ctx.read_seg_rmw(seg, offset, n)
    } else {
        ctx.read_seg(seg, offset, n)
    };
    match read {
        Ok(v) => {
            ctx.cpu.regs.icount += rest;
            u64::from(v)
        }
        Err(Stop::Exception(e)) => {
            let esp = ctx.cpu.regs.gpr[gpr::ESP];
            fault(h, ctx, site, e, esp);
            LOAD_EXIT_BIT
        }
        Err(s) => {
            h.stop = Some(s);
            LOAD_EXIT_BIT
        }
    }
}

extern "sysv64" fn store(p: *mut u8, site: *const Site, offset: u32, value: u32) -> u64 {
    // SAFETY: as for `fallback`.
    let (h, ctx) = unsafe { parts(p) };
    // SAFETY: the site record is owned by the running block.
    let site = unsafe { &*site };
    let rest = u64::from(site.rem) + 1;
    ctx.cpu.regs.icount -= rest;
    match ctx.write_seg(usize::from(site.seg), offset, usize::from(site.size), value) {
        Ok(()) => {
            ctx.cpu.regs.icount += rest;
            CONTINUE
        }
        Err(Stop::Exception(e)) => {
            let esp = ctx.cpu.regs.gpr[gpr::ESP];
            fault(h, ctx, site, e, esp);
            EXIT
        }
        Err(s) => {
            h.stop = Some(s);
            EXIT
        }
    }
}

/// The entry of the block for the current CS:EIP, if translated and the
/// run loop need not look first.
fn find(h: &HelperCtx, ctx: &Ctx, jit: &Jit) -> Option<usize> {
    if must_leave(h, ctx) {
        return None;
    }
    let cpu = &*ctx.cpu;
    let cs = &cpu.regs.seg[sreg::CS];
    if cpu.regs.eip > cs.limit {
        return None;
    }
    let phys = super::exec_phys(cpu, cs.base.wrapping_add(cpu.regs.eip))?;
    super::cached_block(jit, cpu, &super::block_key(cpu), phys).map(|b| b.entry)
}

extern "sysv64" fn lookup(p: *mut u8) -> *const u8 {
    // SAFETY: as for `fallback`; `jit` was set by `run` and is not borrowed
    // elsewhere during the call.
    let (h, ctx) = unsafe { parts(p) };
    // SAFETY: see above.
    let jit = unsafe { &*h.jit };
    let found = find(h, ctx, jit);
    h.lookups += 1;
    h.lookup_hits += u64::from(found.is_some());
    found.map_or(std::ptr::null(), |e| e as *const u8)
}

extern "sysv64" fn chain(p: *mut u8, slot: *mut ExitSlot) -> *const u8 {
    // SAFETY: as for `lookup`; `slot` belongs to the running block.
    let (h, ctx) = unsafe { parts(p) };
    // SAFETY: the exit slot is owned by the running block.
    let slot = unsafe { &mut *slot };
    // SAFETY: see above.
    let jit = unsafe { &mut *h.jit };
    let found = find(h, ctx, jit);
    h.lookups += 1;
    h.lookup_hits += u64::from(found.is_some());
    let Some(entry) = found else {
        return std::ptr::null();
    };
    let cs_base = ctx.cpu.regs.seg[sreg::CS].base;
    let same_page = cs_base.wrapping_add(slot.target_eip) & !0xFFF == slot.page_lin;
    if same_page && !slot.linked && !jit.opts.all_stores_slow && jit.link(slot, entry).is_err() {
        return std::ptr::null();
    }
    entry as *const u8
}
