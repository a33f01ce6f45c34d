//! A fake machine for running translated blocks without the `btvm` crate:
//! 1 MiB of flat guest memory (linear = physical), a register file, a
//! software TLB mapping that memory so the inline fast path hits, and a
//! helper table of Rust functions that log every call.
//!
//! The fake helpers follow the engine's conventions (`src/jit/helpers.rs`):
//! the block adds its whole length to `icount` on entry; a helper that
//! faults leaves EIP at the faulting instruction with that instruction
//! counted (as the interpreter counts a faulting step) and returns EXIT.
//! Chain and lookup always answer "return to the engine", so one
//! [`Machine::run`] runs exactly one block.

#![allow(dead_code)]

use btvm_jit::abi::{gpr, sreg, RegFile, SegCache, Tlb, TlbEntry};
use btvm_jit::helpers::{ExitSlot, Helpers, Site, CONTINUE, EXIT, LOAD_EXIT_BIT};
use btvm_jit::mode::ModeKey;
use btvm_jit::runtime::Jit;
use btvm_jit::translate::BlockRequest;
use iced_x86::Mnemonic;

/// Guest memory size.
pub const MEM: usize = 1 << 20;
/// Linear page left out of the TLB: accesses take the helper slow path
/// and succeed.
pub const MISS_PAGE: u32 = 0x5000;
/// Linear page left out of the TLB whose accesses fault in the helper.
pub const FAULT_PAGE: u32 = 0x6000;
/// Linear page in the read view only whose stores fault in the helper
/// (write-protected).
pub const RO_PAGE: u32 = 0x4000;
/// Vector the fake helpers report for a fault (#PF).
pub const PF: u8 = 14;
/// Fault vector the fake fallback reports for an instruction it cannot run.
pub const UNKNOWN: u8 = 0xFF;
/// What the fake `resolve` returns for every fallback instruction.
pub const HANDLER: usize = 0x5A5A;

/// One helper call, as the fake helpers saw it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Call {
    /// `fallback(site)`.
    Fallback {
        eip: u32,
        next_eip: u32,
        rem: u32,
        handler: usize,
        mnemonic: Mnemonic,
        /// The instruction was decoded at IP 0 (the interpreter's
        /// convention for branch targets).
        ip: u64,
    },
    /// `load(site, offset)`.
    Load {
        eip: u32,
        seg: u8,
        size: u8,
        offset: u32,
    },
    /// `store(site, offset, value)`.
    Store {
        eip: u32,
        seg: u8,
        size: u8,
        offset: u32,
        value: u32,
    },
    /// `lookup()` with the guest EIP at the time.
    Lookup { eip: u32 },
    /// `chain(slot)`.
    Chain { target: u32, eip: u32 },
}

/// A translated block's identity: EIP, CS base, mode key, guest bytes.
type BlockId = (u32, u32, u32, Vec<u8>);

/// The helper context: everything the fake helpers touch.
pub struct Machine {
    /// Guest memory.
    pub mem: Vec<u8>,
    /// Guest registers (generated code works on them in place).
    pub regs: RegFile,
    /// Software TLB over `mem`.
    pub tlb: Box<Tlb>,
    /// Helper calls in order.
    pub calls: Vec<Call>,
    /// The last fault the helpers reported: (vector, EIP).
    pub fault: Option<(u8, u32)>,
    /// Linear pages whose store sets `attention` (a self-modifying-code
    /// report, as the engine's checked write path does).
    pub smc_pages: Vec<u32>,
    jit: Option<Jit>,
    /// Translated blocks by (EIP, CS base, mode, guest bytes): a sweep
    /// runs one block on many inputs.
    blocks: std::collections::HashMap<BlockId, (usize, usize)>,
    /// Block entries by EIP, for chaining and lookup.
    by_eip: std::collections::HashMap<u32, usize>,
    /// Chain and lookup answer with translated blocks (and chain patches
    /// the exit) instead of always returning to the engine.
    pub linking: bool,
}

fn helpers() -> Helpers {
    Helpers {
        fallback,
        load,
        store,
        lookup,
        chain,
    }
}

/// The fake helper table (addresses are what the golden tests mask).
pub fn fake_helpers() -> Helpers {
    helpers()
}

/// # Safety
/// `p` is the `Machine` passed to `enter` by [`Machine::run`].
unsafe fn machine<'a>(p: *mut u8) -> &'a mut Machine {
    // SAFETY: per the function contract; generated code does not touch
    // guest state while a helper runs.
    unsafe { &mut *p.cast::<Machine>() }
}

impl Machine {
    fn linear(&self, seg: u8, offset: u32) -> u32 {
        self.regs.seg[usize::from(seg)].base.wrapping_add(offset)
    }

    fn faults(&self, lin: u32, size: u8, write: bool) -> bool {
        let last = lin.wrapping_add(u32::from(size) - 1);
        let bad = |a: u32| a & !0xFFF == FAULT_PAGE || (write && a & !0xFFF == RO_PAGE);
        bad(lin) || bad(last)
    }

    /// Report a fault at the site's instruction, as the engine does.
    fn raise(&mut self, site: &Site) {
        self.regs.icount -= u64::from(site.rem);
        self.regs.eip = site.eip;
        self.fault = Some((PF, site.eip));
    }

    /// Read `size` bytes at a linear address.
    pub fn read(&self, lin: u32, size: u8) -> u32 {
        let mut v = 0u32;
        for k in 0..u32::from(size) {
            v |= u32::from(self.mem[lin.wrapping_add(k) as usize % MEM]) << (8 * k);
        }
        v
    }

    /// Write `size` bytes at a linear address.
    pub fn write(&mut self, lin: u32, size: u8, v: u32) {
        for k in 0..u32::from(size) {
            self.mem[lin.wrapping_add(k) as usize % MEM] = (v >> (8 * k)) as u8;
        }
    }
}

extern "sysv64" fn fallback(p: *mut u8, site: *const Site) -> u64 {
    // SAFETY: called by generated code during `Machine::run`.
    let m = unsafe { machine(p) };
    // SAFETY: the site record is owned by the running block.
    let site = unsafe { &*site };
    m.calls.push(Call::Fallback {
        eip: site.eip,
        next_eip: site.next_eip,
        rem: site.rem,
        handler: site.handler,
        mnemonic: site.instr.mnemonic(),
        ip: site.instr.ip(),
    });
    let rest = u64::from(site.rem) + 1;
    m.regs.icount -= rest;
    m.regs.eip = site.next_eip;
    // The few instructions the tests leave to the "interpreter".
    match site.instr.mnemonic() {
        Mnemonic::Bswap => {
            let r = site.instr.op0_register().number();
            m.regs.gpr[r] = m.regs.gpr[r].swap_bytes();
        }
        Mnemonic::Ud2 => {
            m.regs.eip = site.eip;
            m.fault = Some((6, site.eip));
            m.regs.icount += 1;
            return EXIT;
        }
        Mnemonic::Hlt => {}
        // Anything else: report it as a fault with vector 0xFF (a panic
        // cannot unwind through generated code).
        _ => {
            m.regs.eip = site.eip;
            m.fault = Some((UNKNOWN, site.eip));
            return EXIT;
        }
    }
    m.regs.icount += 1;
    if m.regs.eip != site.next_eip || site.instr.mnemonic() == Mnemonic::Hlt {
        return EXIT;
    }
    m.regs.icount += rest - 1;
    CONTINUE
}

extern "sysv64" fn load(p: *mut u8, site: *const Site, offset: u32) -> u64 {
    // SAFETY: called by generated code during `Machine::run`.
    let m = unsafe { machine(p) };
    // SAFETY: the site record is owned by the running block.
    let site = unsafe { &*site };
    m.calls.push(Call::Load {
        eip: site.eip,
        seg: site.seg,
        size: site.size,
        offset,
    });
    let lin = m.linear(site.seg, offset);
    // The read of a read-modify-write is checked as a write, as the CPU does.
    if m.faults(lin, site.size, site.rmw) {
        m.raise(site);
        return LOAD_EXIT_BIT;
    }
    u64::from(m.read(lin, site.size))
}

extern "sysv64" fn store(p: *mut u8, site: *const Site, offset: u32, value: u32) -> u64 {
    // SAFETY: called by generated code during `Machine::run`.
    let m = unsafe { machine(p) };
    // SAFETY: the site record is owned by the running block.
    let site = unsafe { &*site };
    m.calls.push(Call::Store {
        eip: site.eip,
        seg: site.seg,
        size: site.size,
        offset,
        value,
    });
    let lin = m.linear(site.seg, offset);
    if m.faults(lin, site.size, true) {
        m.raise(site);
        return EXIT;
    }
    m.write(lin, site.size, value);
    if m.smc_pages.contains(&(lin & !0xFFF)) {
        m.regs.attention |= 4;
    }
    CONTINUE
}

extern "sysv64" fn lookup(p: *mut u8) -> *const u8 {
    // SAFETY: called by generated code during `Machine::run`.
    let m = unsafe { machine(p) };
    m.calls.push(Call::Lookup { eip: m.regs.eip });
    match m.by_eip.get(&m.regs.eip) {
        Some(&entry) if m.linking => entry as *const u8,
        _ => std::ptr::null(),
    }
}

extern "sysv64" fn chain(p: *mut u8, slot: *mut ExitSlot) -> *const u8 {
    // SAFETY: called by generated code during `Machine::run`.
    let m = unsafe { machine(p) };
    // SAFETY: the exit slot is owned by the running block.
    let slot = unsafe { &mut *slot };
    m.calls.push(Call::Chain {
        target: slot.target_eip,
        eip: m.regs.eip,
    });
    let entry = match m.by_eip.get(&slot.target_eip) {
        Some(&entry) if m.linking => entry,
        _ => return std::ptr::null(),
    };
    // Patch the exit into a jump, as the engine does for a same-page target.
    let jit = m.jit.as_mut().expect("a block is running");
    let lin = m.regs.seg[sreg::CS].base.wrapping_add(slot.target_eip);
    if lin & !0xFFF == slot.page_lin && !slot.linked && jit.link(slot, entry).is_err() {
        return std::ptr::null();
    }
    entry as *const u8
}

/// Segment caches of 32-bit flat protected mode (CPL 0).
pub fn flat32() -> [SegCache; 6] {
    let flat = |attr| SegCache {
        base: 0,
        limit: u32::MAX,
        selector: 0x10,
        attr,
    };
    let data = SegCache::REAL_MODE_DATA | SegCache::ATTR_DB | SegCache::ATTR_G;
    let code = SegCache::REAL_MODE_CODE | SegCache::ATTR_DB | SegCache::ATTR_G;
    let mut s = [flat(data); 6];
    s[sreg::CS] = SegCache {
        selector: 0x08,
        ..flat(code)
    };
    s
}

/// Segment caches of real mode: CS=0x0100, DS=ES=0x0200, SS=0x0700.
pub fn real16() -> [SegCache; 6] {
    let mut s = [SegCache::real_mode(0x0200, false); 6];
    s[sreg::CS] = SegCache::real_mode(0x0100, true);
    s[sreg::SS] = SegCache::real_mode(0x0700, false);
    s
}

impl Machine {
    /// A machine in 32-bit flat protected mode with ESP = 0x8000 and every
    /// page but [`MISS_PAGE`] and [`FAULT_PAGE`] in the read and write
    /// TLB views.
    pub fn new() -> Box<Self> {
        Self::with_segs(flat32())
    }

    /// A machine with the given segment caches (ESP = 0x8000 - SS base).
    pub fn with_segs(segs: [SegCache; 6]) -> Box<Self> {
        let mut m = Box::new(Machine {
            mem: vec![0; MEM],
            regs: RegFile::default(),
            tlb: Box::default(),
            calls: Vec::new(),
            fault: None,
            smc_pages: Vec::new(),
            jit: None,
            blocks: Default::default(),
            by_eip: Default::default(),
            linking: false,
        });
        m.regs.seg = segs;
        m.regs.gpr[gpr::ESP] = 0x8000 - segs[sreg::SS].base;
        m.regs.set_eflags(0);
        m.regs.icount = 1000;
        m.regs.icount_limit = u64::MAX;
        let host = m.mem.as_ptr() as usize;
        for page in (0..MEM as u32).step_by(4096) {
            if page == MISS_PAGE || page == FAULT_PAGE {
                continue;
            }
            let e = TlbEntry {
                tag: page,
                phys: page,
                addend: host,
            };
            m.tlb.read[Tlb::index(page)] = e;
            if page != RO_PAGE {
                m.tlb.write[Tlb::index(page)] = e;
            }
        }
        m
    }

    /// The mode key of the current segment state (CPL 0; PE unless the
    /// code segment is a real-mode one).
    pub fn mode(&self) -> ModeKey {
        let pe = self.regs.seg[sreg::CS].is_32bit();
        ModeKey::new(&self.regs.seg, 0, pe, false)
    }

    /// Put `code` at CS:EIP = CS:`eip` and set EIP.
    pub fn load_code(&mut self, eip: u32, code: &[u8]) {
        let lin = (self.regs.seg[sreg::CS].base + eip) as usize;
        self.mem[lin..lin + code.len()].copy_from_slice(code);
        self.regs.eip = eip;
    }

    /// Translate the block at CS:EIP whose guest code is exactly `len`
    /// bytes, and run it once. Returns the number of guest instructions in
    /// the block.
    pub fn run_block(&mut self, len: usize) -> usize {
        let mode = self.mode();
        let jit = self
            .jit
            .get_or_insert_with(|| Jit::new(helpers(), 4 << 20).unwrap());
        let cs_base = self.regs.seg[sreg::CS].base;
        let lin = (cs_base + self.regs.eip) as usize;
        let code = &self.mem[lin..lin + len];
        let key = (self.regs.eip, cs_base, mode.0, code.to_vec());
        let (entry, n) = match self.blocks.get(&key) {
            Some(&hit) => hit,
            None => {
                let req = BlockRequest {
                    eip: self.regs.eip,
                    cs_base,
                    mode,
                    code,
                };
                let flushes = jit.stats.flushes;
                let block = jit
                    .translate(&req, lin as u32, &|_| HANDLER)
                    .unwrap()
                    .expect("a block");
                let r = (block.entry, block.instrs.len());
                if jit.stats.flushes != flushes {
                    self.blocks.clear();
                    self.by_eip.clear();
                }
                self.blocks.insert(key, r);
                self.by_eip.insert(self.regs.eip, r.0);
                r
            }
        };
        let prelude = *jit.prelude();
        let p: *mut Machine = self;
        // SAFETY: the prelude and block come from `jit`, which lives in
        // `self` for the call; `regs` and `tlb` are valid and only reached
        // through `p` (by generated code and the helpers) during the call.
        unsafe {
            btvm_jit::entry::enter(
                &prelude,
                &raw mut (*p).regs,
                &raw mut *(*p).tlb,
                p.cast(),
                entry,
            );
        }
        n
    }

    /// Translate the block at CS:`eip` (exactly `len` bytes) without
    /// running it (a target for chaining and lookup).
    pub fn translate_at(&mut self, eip: u32, len: usize) {
        let (saved, limit) = (self.regs.eip, self.regs.icount_limit);
        self.regs.eip = eip;
        self.regs.icount_limit = 0;
        self.run_block(len);
        (self.regs.eip, self.regs.icount_limit) = (saved, limit);
    }

    /// Load `code` at EIP 0x1000 (32-bit) and run it as one block.
    pub fn run(&mut self, code: &[u8]) -> usize {
        self.load_code(0x1000, code);
        self.run_block(code.len())
    }

    /// The guest register `r` (see [`gpr`]).
    pub fn r(&self, r: usize) -> u32 {
        self.regs.gpr[r]
    }
}
