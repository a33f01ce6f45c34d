//! Guest registers cached in host registers within a block.
//!
//! The translator gives each block a map from guest GPRs to the host
//! registers in [`CACHE_HOSTS`] (see `translate.rs`: the most used ones,
//! never one the block reads as AH/CH/DH/BH). A mapped register is loaded
//! from the [`crate::abi::RegFile`] at its first use and written back, if
//! dirty, before anything that can look at the register file: every block
//! exit, the fallback helper (after which every cached value is dropped:
//! the interpreter may have changed any register) and the out-of-line slow
//! paths of loads and stores (which write back the state at that point,
//! call the helper, then reload what they clobbered). So the register file
//! is exact whenever a helper can fault or the engine can look, and faults
//! stay precise.
//!
//! The cache state ([`RegState`]) is tracked while emitting straight-line
//! code: operands are resolved (and lazily loaded) before any conditional
//! host branch inside an instruction, so every path sees the same state.

use super::{Dst, Emitter};
use crate::abi::RegFile;

/// Host registers (x86 numbers) that may hold guest registers: `r8`-`r11`
/// and `rdi` (caller-saved: reloaded after a slow-path helper call) and
/// `rbp` (callee-saved, saved by the prelude).
pub const CACHE_HOSTS: [u8; 6] = [8, 9, 10, 11, 7, 5];

/// `rbp`: preserved across helper calls.
const RBP: u8 = 5;

/// Which mapped guest registers are in their host register (`loaded`) and
/// newer there than in the register file (`dirty`), one bit per GPR.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RegState {
    /// In the host register.
    pub loaded: u8,
    /// Not yet written back.
    pub dirty: u8,
}

/// The guest GPR and byte within it at a `RegFile` offset, if it is one.
fn gpr_slot(off: i32) -> Option<(usize, i32)> {
    let base = RegFile::GPR_OFFSET as i32;
    (base..base + 32)
        .contains(&off)
        .then(|| (((off - base) / 4) as usize, (off - base) % 4))
}

fn gpr_off(g: usize) -> i32 {
    (RegFile::GPR_OFFSET + 4 * g) as i32
}

impl Emitter<'_> {
    /// Cache guest GPR `g` in host register `host` (one of
    /// [`CACHE_HOSTS`]) for the rest of the block. Call before emitting
    /// the block's code.
    pub fn map_reg(&mut self, g: usize, host: u8) {
        debug_assert!(CACHE_HOSTS.contains(&host));
        self.map[g] = Some(host);
    }

    /// The host register caching guest GPR `g`, if any.
    pub fn mapped(&self, g: usize) -> Option<u8> {
        self.map[g]
    }

    /// The current cache state.
    pub fn reg_state(&self) -> RegState {
        self.regs
    }

    /// Where the guest operand `d` is: its host register when cached
    /// (loaded first when `load` and not yet there; marked dirty when
    /// `write`), else unchanged.
    pub(super) fn locate(&mut self, d: Dst, write: bool, load: bool) -> Dst {
        let Dst::Guest(off) = d else { return d };
        let Some((g, byte)) = gpr_slot(off) else {
            return d;
        };
        let Some(h) = self.map[g] else { return d };
        let bit = 1u8 << g;
        if byte != 0 {
            // AH-class: no host register form. The translator never maps a
            // register a block uses this way; stay exact if it ever does.
            debug_assert!(false, "high-byte access to a cached register");
            self.spill_one(g, h);
            self.regs.loaded &= !bit;
            return d;
        }
        if load && self.regs.loaded & bit == 0 {
            self.load_host(h, off);
        }
        self.regs.loaded |= bit;
        if write {
            self.regs.dirty |= bit;
        }
        Dst::Host(h)
    }

    /// Resolve a guest register now (loading it if cached and not loaded,
    /// marking it dirty if `write`), before code that branches.
    pub fn prepare(&mut self, off: i32, write: bool) {
        self.locate(Dst::Guest(off), write, true);
    }

    fn load_host(&mut self, h: u8, off: i32) {
        // mov h32, [rbx + off]
        self.enc(false, false, &[0x8B], h, true, Dst::Guest(off));
    }

    fn spill_one(&mut self, g: usize, h: u8) {
        if self.regs.dirty & (1 << g) != 0 {
            // mov [rbx + off], h32
            self.enc(false, false, &[0x89], h, true, Dst::Guest(gpr_off(g)));
            self.regs.dirty &= !(1 << g);
        }
    }

    /// Store the registers dirty in `st` to the register file.
    pub(super) fn spill(&mut self, st: RegState) {
        for g in 0..8 {
            if st.dirty & (1 << g) != 0 {
                if let Some(h) = self.map[g] {
                    self.enc(false, false, &[0x89], h, true, Dst::Guest(gpr_off(g)));
                }
            }
        }
    }

    /// Reload the registers loaded in `st` that a helper call clobbers.
    pub(super) fn reload_after_call(&mut self, st: RegState) {
        for g in 0..8 {
            if st.loaded & (1 << g) != 0 {
                if let Some(h) = self.map[g].filter(|&h| h != RBP) {
                    self.load_host(h, gpr_off(g));
                }
            }
        }
    }

    /// Write every dirty cached register back (they stay loaded): the
    /// register file is exact from here on.
    pub fn writeback(&mut self) {
        self.spill(self.regs);
        self.regs.dirty = 0;
    }

    /// Write back, then forget every cached value (before code that may
    /// change guest registers behind the cache's back).
    pub fn flush_regs(&mut self) {
        self.writeback();
        self.regs.loaded = 0;
    }

    /// Emit the write-back of the current dirty set without changing the
    /// state (before an exit on one path of a branch).
    pub(super) fn spill_here(&mut self) {
        self.spill(self.regs);
    }
}

#[cfg(test)]
mod tests {
    use iced_x86::{Decoder, DecoderOptions, Instruction, Register};

    use crate::abi::{gpr, sreg, SegCache};
    use crate::emit::Prelude;
    use crate::helpers::{ExitSlot, Helpers, Site};
    use crate::mode::ModeKey;
    use crate::translate::{translate, BlockRequest, TranslateOptions};

    extern "sysv64" fn fallback(_: *mut u8, _: *const Site) -> u64 {
        1
    }
    extern "sysv64" fn load(_: *mut u8, _: *const Site, _: u32) -> u64 {
        1 << 32
    }
    extern "sysv64" fn store(_: *mut u8, _: *const Site, _: u32, _: u32) -> u64 {
        1
    }
    extern "sysv64" fn lookup(_: *mut u8) -> *const u8 {
        std::ptr::null()
    }
    extern "sysv64" fn chain(_: *mut u8, _: *mut ExitSlot) -> *const u8 {
        std::ptr::null()
    }

    const BASE: usize = 0x1000_0000;

    /// Translate 32-bit flat guest code and decode the host code.
    fn host(guest: &[u8], opts: TranslateOptions) -> Vec<Instruction> {
        let seg = |attr| SegCache {
            base: 0,
            limit: u32::MAX,
            selector: 0x10,
            attr: attr | SegCache::ATTR_DB | SegCache::ATTR_G,
        };
        let mut segs = [seg(SegCache::REAL_MODE_DATA); 6];
        segs[sreg::CS] = seg(SegCache::REAL_MODE_CODE);
        let req = BlockRequest {
            eip: 0x1000,
            cs_base: 0,
            mode: ModeKey::new(&segs, 0, true, false),
            code: guest,
        };
        let helpers = Helpers {
            fallback,
            load,
            store,
            lookup,
            chain,
        };
        let prelude = Prelude {
            enter: BASE - 0x100,
            exit: BASE - 0x80,
            dyn_exit: BASE - 0x40,
        };
        let t = translate(&req, BASE, &helpers, prelude, &|_| 0, opts)
            .unwrap()
            .unwrap();
        let mut d = Decoder::with_ip(64, &t.code, BASE as u64, DecoderOptions::NONE);
        d.iter().collect()
    }

    /// Host instructions addressing guest register `g` (its byte `byte`)
    /// in the register file.
    fn refs(code: &[Instruction], g: usize, byte: u64) -> usize {
        let off = (crate::abi::RegFile::GPR_OFFSET + 4 * g) as u64 + byte;
        code.iter()
            .filter(|i| {
                (0..i.op_count()).any(|n| i.op_kind(n) == iced_x86::OpKind::Memory)
                    && i.memory_base() == Register::RBX
                    && i.memory_displacement64() == off
            })
            .count()
    }

    // add eax,ebx; sub ebx,ecx; xor ecx,eax; and edx,eax; or edx,0x11;
    // inc esi; shl eax,3; add eax,esi; shr ebx,1; xor ebx,edx; dec edi;
    // cmp eax,ebx; jb $+2 (the ALU benchmark's loop body).
    const ALU: &[u8] = &[
        0x01, 0xD8, 0x29, 0xCB, 0x31, 0xC1, 0x21, 0xC2, 0x83, 0xCA, 0x11, 0x46, 0xC1, 0xE0, 0x03,
        0x01, 0xF0, 0xD1, 0xEB, 0x31, 0xD3, 0x4F, 0x39, 0xD8, 0x72, 0x00,
    ];

    #[test]
    fn registers_used_twice_are_loaded_once_and_written_back_once() {
        let code = host(ALU, TranslateOptions::default());
        for g in [gpr::EAX, gpr::EBX, gpr::ECX, gpr::EDX, gpr::ESI] {
            assert_eq!(
                refs(&code, g, 0),
                2,
                "guest GPR {g}: one load, one write-back"
            );
        }
        // EDI is used once: it stays a read-modify-write on the file.
        assert_eq!(refs(&code, gpr::EDI, 0), 1);
        // Without the cache every use goes to the register file.
        let plain = host(
            ALU,
            TranslateOptions {
                no_reg_cache: true,
                ..Default::default()
            },
        );
        assert_eq!(refs(&plain, gpr::EAX, 0), 6);
    }

    #[test]
    fn a_register_used_as_ah_is_not_cached() {
        // mov ah,1; add eax,eax; add eax,1; jmp $+2
        let code = host(
            &[0xB4, 0x01, 0x01, 0xC0, 0x83, 0xC0, 0x01, 0xEB, 0x00],
            TranslateOptions::default(),
        );
        assert_eq!(refs(&code, gpr::EAX, 1), 1);
        // add eax,eax reads EAX into edx then adds to the file; add eax,1.
        assert_eq!(refs(&code, gpr::EAX, 0), 3);
    }

    #[test]
    fn a_slow_path_writes_back_the_registers_dirty_before_it() {
        // inc eax; inc eax; mov ecx,[eax]; add ecx,ecx; jmp $+2: the load's
        // helper may fault, so the register file must hold EAX + 2 there;
        // ECX is only written after the load.
        let code = host(
            &[0x40, 0x40, 0x8B, 0x08, 0x01, 0xC9, 0xEB, 0x00],
            TranslateOptions::default(),
        );
        let calls: Vec<usize> = code
            .iter()
            .enumerate()
            .filter(|(_, i)| i.mnemonic() == iced_x86::Mnemonic::Call)
            .map(|(k, _)| k)
            .collect();
        assert_eq!(calls.len(), 2, "the load's slow path and the chain helper");
        let before_load: &[Instruction] = &code[..calls[0]];
        let stores = |c: &[Instruction], g| {
            c.iter()
                .filter(|i| {
                    i.mnemonic() == iced_x86::Mnemonic::Mov
                        && i.op0_kind() == iced_x86::OpKind::Memory
                })
                .filter(|i| {
                    i.memory_displacement64() == (crate::abi::RegFile::GPR_OFFSET + 4 * g) as u64
                })
                .count()
        };
        // One write-back at the block's exit, one in the slow path.
        assert_eq!(stores(before_load, gpr::EAX), 2);
        assert_eq!(stores(before_load, gpr::ECX), 1, "only at the exit");
    }
}
