//! The translator's runtime: code buffer, prelude, block cache, chaining,
//! and counters. The engine in the `btvm` crate drives it: look up or
//! translate the block at CS:EIP, run it, act on what it left behind.

use crate::cache::{Block, BlockCache, BlockKey};
use crate::code::CodeBuffer;
use crate::emit::Prelude;
use crate::helpers::{ExitSlot, Helpers};
use crate::translate::{translate, BlockRequest, TranslateOptions};

/// Default size of the code buffer.
pub const DEFAULT_CODE_BYTES: usize = 64 << 20;

/// Counters for `--stats`.
#[derive(Clone, Copy, Debug, Default)]
pub struct JitStats {
    /// Blocks translated.
    pub translated: u64,
    /// Guest instructions translated inline / left to the interpreter.
    pub inline_instrs: u64,
    /// Guest instructions translated as interpreter calls.
    pub fallback_instrs: u64,
    /// Direct exits patched into jumps.
    pub chained: u64,
    /// Blocks dropped because their page was written.
    pub invalidated: u64,
    /// Times the whole cache was flushed (buffer full, reset).
    pub flushes: u64,
}

/// The JIT: everything but the guest.
pub struct Jit {
    buf: CodeBuffer,
    prelude: Prelude,
    helpers: Helpers,
    /// Live blocks.
    pub cache: BlockCache,
    /// Counters.
    pub stats: JitStats,
    /// How blocks are translated.
    pub opts: TranslateOptions,
}

impl Jit {
    /// A JIT with a code buffer of `code_bytes` and the engine's helpers.
    pub fn new(helpers: Helpers, code_bytes: usize) -> Result<Self, String> {
        let mut buf = CodeBuffer::new(code_bytes).map_err(|e| format!("code buffer: {e}"))?;
        let (code, prelude) = crate::entry::assemble_prelude(buf.next_addr(), &helpers)?;
        buf.append(&code)
            .map_err(|e| format!("code buffer: {e}"))?
            .ok_or("code buffer too small for the prelude")?;
        buf.set_prelude();
        buf.seal().map_err(|e| format!("code buffer: {e}"))?;
        Ok(Jit {
            buf,
            prelude,
            helpers,
            cache: BlockCache::default(),
            stats: JitStats::default(),
            opts: TranslateOptions::default(),
        })
    }

    /// The prelude's stubs.
    pub fn prelude(&self) -> &Prelude {
        &self.prelude
    }

    /// Bytes of host code in use.
    pub fn code_bytes(&self) -> usize {
        self.buf.used()
    }

    /// Translate the block for `req` (starting at physical address `phys`)
    /// and add it to the cache. `Ok(None)`: nothing to translate (the
    /// interpreter must run the first instruction).
    pub fn translate(
        &mut self,
        req: &BlockRequest,
        phys: u32,
        resolve: &dyn Fn(&iced_x86::Instruction) -> usize,
    ) -> Result<Option<&Block>, String> {
        for attempt in 0..2 {
            let base = self.buf.next_addr();
            let Some(t) = translate(req, base, &self.helpers, self.prelude, resolve, self.opts)?
            else {
                return Ok(None);
            };
            let Some(entry) = self
                .buf
                .append(&t.code)
                .map_err(|e| format!("code buffer: {e}"))?
            else {
                if attempt == 0 {
                    self.flush();
                    continue;
                }
                return Err("a single block does not fit in the code buffer".into());
            };
            self.buf.seal().map_err(|e| format!("code buffer: {e}"))?;
            if let Some(dir) = std::env::var_os("BTVM_JIT_DUMP") {
                // Debugging aid: the host code of every block, for objdump.
                let name = format!("{:08x}-{:x}.bin", req.eip, entry);
                let _ = std::fs::write(std::path::Path::new(&dir).join(name), &t.code);
            }
            let exits = t
                .exits
                .into_iter()
                .map(|(mut s, at)| {
                    s.jmp_addr = entry + at;
                    s
                })
                .collect();
            self.stats.translated += 1;
            self.stats.inline_instrs += u64::from(t.inline);
            self.stats.fallback_instrs += t.instrs.len() as u64 - u64::from(t.inline);
            let block = Block {
                entry,
                key: BlockKey {
                    eip: req.eip,
                    cs_base: req.cs_base,
                    mode: req.mode,
                },
                phys,
                inline: t.inline,
                guest_len: t.guest_len,
                instrs: t.instrs,
                sites: t.sites,
                exits,
            };
            return Ok(Some(self.cache.insert(block)));
        }
        unreachable!("the loop returns")
    }

    /// Patch a direct exit into a jump to `target` (a block entry).
    pub fn link(&mut self, slot: &mut ExitSlot, target: usize) -> Result<(), String> {
        let rel = target as i64 - (slot.jmp_addr as i64 + 5);
        let rel = i32::try_from(rel).map_err(|_| "chain target out of range".to_string())?;
        let mut bytes = [0xE9, 0, 0, 0, 0];
        bytes[1..].copy_from_slice(&rel.to_le_bytes());
        self.buf
            .patch(slot.jmp_addr, &bytes)
            .map_err(|e| format!("code buffer: {e}"))?;
        self.buf.seal().map_err(|e| format!("code buffer: {e}"))?;
        slot.linked = true;
        self.stats.chained += 1;
        Ok(())
    }

    /// Drop the blocks of a written physical page.
    pub fn invalidate_page(&mut self, page: u32) {
        self.stats.invalidated += self.cache.invalidate_page(page) as u64;
    }

    /// Drop every block and all generated code (except the prelude).
    pub fn flush(&mut self) {
        self.cache.clear();
        self.buf.clear();
        self.stats.flushes += 1;
    }
}
