//! Translating one basic block: decode with iced-x86 until a control
//! transfer, the page (or CS limit) end, an instruction that changes the
//! mode, or the length cap; plan each instruction; compute flag liveness
//! backwards; emit host code.

use iced_x86::{
    Decoder, DecoderError, DecoderOptions, FlowControl, Instruction, InstructionInfoFactory,
    Mnemonic,
};

use crate::emit::{cond_flags, Cur, Emitter, Prelude, CACHE_HOSTS};
use crate::flags::FLAGS_ARITH;
use crate::helpers::{ExitSlot, Helpers, Site};
use crate::lower::{self, Op};
use crate::mode::ModeKey;

/// Longest block, in guest instructions.
pub const MAX_BLOCK_INSTRUCTIONS: usize = 64;

/// What to translate.
#[derive(Clone, Copy, Debug)]
pub struct BlockRequest<'a> {
    /// EIP of the first instruction.
    pub eip: u32,
    /// CS base (linear = base + EIP).
    pub cs_base: u32,
    /// Mode key of the CPU.
    pub mode: ModeKey,
    /// Guest code from EIP to the end of its page (and of the CS limit).
    pub code: &'a [u8],
}

/// Options for translation.
#[derive(Clone, Copy, Debug, Default)]
pub struct TranslateOptions {
    /// Every guest store goes through the store helper (lockstep checking
    /// journals memory writes there).
    pub all_stores_slow: bool,
    /// Keep every guest register in the register file (no host-register
    /// caching within the block).
    pub no_reg_cache: bool,
}

/// A translated block, not yet placed in the code buffer.
pub struct Translated {
    /// Host code, assembled for the address it was requested at.
    pub code: Vec<u8>,
    /// Helper call sites the code points at.
    pub sites: Vec<Box<Site>>,
    /// Direct exits and the offsets of their patchable jumps.
    pub exits: Vec<(Box<ExitSlot>, usize)>,
    /// The guest instructions.
    pub instrs: Vec<Instruction>,
    /// Of those, how many were translated inline.
    pub inline: u32,
    /// Guest bytes covered.
    pub guest_len: u32,
}

/// Instructions after which the mode key or the address space may differ:
/// the block ends so that the next one is looked up afresh.
fn ends_block(i: &Instruction) -> bool {
    use Mnemonic as M;
    i.flow_control() != FlowControl::Next
        || matches!(
            i.mnemonic(),
            M::Hlt
                | M::Lmsw
                | M::Clts
                | M::Invlpg
                | M::Lgdt
                | M::Lidt
                | M::Lldt
                | M::Ltr
                | M::Wrmsr
                | M::Sti
                | M::Cli
                | M::Popf
                | M::Popfd
                | M::Lss
                | M::Lds
                | M::Les
                | M::Lfs
                | M::Lgs
                | M::Wbinvd
                | M::Invd
        )
        || (i.mnemonic() == M::Mov
            && (0..i.op_count()).any(|n| {
                i.op_kind(n) == iced_x86::OpKind::Register && {
                    let r = i.op_register(n);
                    r.is_segment_register() || r.is_cr() || r.is_dr()
                }
            }))
        || (i.mnemonic() == M::Pop && i.op_register(0).is_segment_register())
}

/// Fewest uses by inline instructions for a guest register to be cached
/// in a host register (one use is as cheap on the register file).
const CACHE_MIN_USES: u32 = 2;

/// Which guest GPRs to cache in host registers for a block, most used
/// first (see `emit/regs.rs`). A register the block reads or writes as
/// AH/CH/DH/BH inline is never cached: that byte has no REX-register form.
/// Instructions left to the interpreter do not count (the cache is written
/// back and dropped around them).
pub fn choose_cached(instrs: &[Instruction], plans: &[Option<Op>]) -> Vec<usize> {
    let mut uses = [0u32; 8];
    let mut high = 0u8;
    let mut info = InstructionInfoFactory::new();
    for (i, p) in instrs.iter().zip(plans) {
        if p.is_none() {
            continue;
        }
        for u in info.info(i).used_registers() {
            let r = u.register();
            let n = r.number();
            if r.is_gpr8() {
                if (4..8).contains(&n) {
                    high |= 1 << (n - 4);
                } else if n < 4 {
                    uses[n] += 1;
                }
            } else if (r.is_gpr16() || r.is_gpr32()) && n < 8 {
                uses[n] += 1;
            }
        }
    }
    let mut regs: Vec<usize> = (0..8)
        .filter(|&g| high & (1 << g) == 0 && uses[g] >= CACHE_MIN_USES)
        .collect();
    regs.sort_by_key(|&g| std::cmp::Reverse(uses[g]));
    regs.truncate(CACHE_HOSTS.len());
    regs
}

/// Decode the block's instructions.
pub fn decode_block(req: &BlockRequest) -> Vec<Instruction> {
    let code32 = req.mode.has(ModeKey::CODE32);
    let bitness = if code32 { 32 } else { 16 };
    let mut dec = Decoder::with_ip(bitness, req.code, u64::from(req.eip), DecoderOptions::NONE);
    let mut out = Vec::new();
    let mut ip = req.eip;
    while out.len() < MAX_BLOCK_INSTRUCTIONS && dec.can_decode() {
        let mut i = Instruction::default();
        dec.decode_out(&mut i);
        if dec.last_error() == DecoderError::NoMoreBytes {
            break;
        }
        let len = i.len() as u32;
        if !code32 && ip + len > 0x1_0000 {
            break;
        }
        ip = ip.wrapping_add(len);
        let end = ends_block(&i) || i.is_invalid();
        out.push(i);
        if end {
            break;
        }
    }
    out
}

/// Translate a block for host address `base`. `resolve` names the
/// interpreter handler of an instruction left to the fallback helper.
/// Returns `None` when no instruction could be taken (the first one
/// crosses the page or CS limit end: the interpreter runs it).
pub fn translate(
    req: &BlockRequest,
    base: usize,
    helpers: &Helpers,
    prelude: Prelude,
    resolve: &dyn Fn(&Instruction) -> usize,
    opts: TranslateOptions,
) -> Result<Option<Translated>, String> {
    let instrs = decode_block(req);
    if instrs.is_empty() {
        return Ok(None);
    }
    let mode = req.mode;
    let plans: Vec<Option<Op>> = instrs.iter().map(|i| lower::plan(i, mode)).collect();
    let n = instrs.len();

    // Flags live after each instruction (all of them at the block's end,
    // and before anything that may fault: exception frames see EFLAGS).
    let mut live_after = vec![FLAGS_ARITH; n];
    let mut live = FLAGS_ARITH;
    for k in (0..n).rev() {
        // A flag-writing store may leave the block right after itself (the
        // attention check): then every flag it writes is live (found by
        // `btvm fuzz`: `sbb [code], ebx; inc edi` lost SBB's ZF/PF).
        live_after[k] = match &plans[k] {
            Some(op) if op.stores_flag_result() => FLAGS_ARITH,
            _ => live,
        };
        live = match &plans[k] {
            Some(op) if !op.may_fault() => {
                let u = op.flags();
                u.reads | (live & !u.writes)
            }
            _ => FLAGS_ARITH,
        };
    }

    let mut em = Emitter::new(base, helpers, prelude, mode);
    em.all_stores_slow = opts.all_stores_slow;
    if !opts.no_reg_cache {
        for (g, h) in choose_cached(&instrs, &plans).into_iter().zip(CACHE_HOSTS) {
            em.map_reg(g, h);
        }
    }
    em.prologue(n as u32);
    let code32 = mode.has(ModeKey::CODE32);
    let page_lin = req.cs_base.wrapping_add(req.eip) & !0xFFF;
    let mut eip = req.eip;
    let mut deferred = lower::Deferred::default();
    let mut inline = 0;
    let mut ended = false;
    for (k, i) in instrs.iter().enumerate() {
        let next = eip.wrapping_add(i.len() as u32);
        let cur = Cur {
            eip,
            // No 64 KiB wrap in 16-bit code: like a 386+, sequential flow
            // reaches EIP 0x10000 and the next fetch faults on the CS limit.
            next_eip: next,
            rem: (n - k - 1) as u32,
        };
        match plans[k] {
            Some(op) if op.is_branch() => {
                lower::emit_branch(&mut em, i, cur, op, deferred, page_lin);
                deferred = lower::Deferred::default();
                ended = true;
                inline += 1;
            }
            Some(op) => {
                let defer = k + 2 == n
                    && !op.may_fault()
                    && matches!(plans[k + 1], Some(Op::Jcc { cc, .. })
                        if cond_flags(cc) & !op.flags().host == 0);
                deferred = lower::emit(&mut em, i, cur, op, live_after[k], defer);
                inline += 1;
            }
            None => {
                // The interpreter's handlers expect instructions decoded at
                // IP 0 (branch targets relative to the instruction).
                let off = eip.wrapping_sub(req.eip) as usize;
                let mut at0 = Instruction::default();
                let bitness = if code32 { 32 } else { 16 };
                Decoder::with_ip(bitness, &req.code[off..], 0, DecoderOptions::NONE)
                    .decode_out(&mut at0);
                em.fallback(cur, &at0, resolve(&at0));
                if k + 1 == n && ends_block(i) {
                    em.dynamic_exit();
                    ended = true;
                }
            }
        }
        eip = cur.next_eip;
    }
    if !ended {
        em.direct_exit(eip, page_lin);
    }
    let guest_len = instrs.iter().map(|i| i.len() as u32).sum();
    let (code, sites, exits) = em.finish()?;
    Ok(Some(Translated {
        code,
        sites,
        exits: exits.into_iter().map(|(s, at)| (s, at.0)).collect(),
        instrs,
        inline,
        guest_len,
    }))
}
