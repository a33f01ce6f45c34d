//! A direct-mapped cache of decoded instructions keyed by the physical
//! address of their first byte and the code size.
//!
//! An entry remembers the instruction's bytes and is used only while the
//! same bytes are still in memory, so self-modifying code, DMA and paging
//! changes can never run a stale decode, and no write path has to know the
//! cache exists. (The JIT's block cache needs, and gets, real invalidation.)

use iced_x86::Instruction;

use super::Handler;

const ENTRIES: usize = 1 << 15;

/// One cached decode.
#[derive(Clone)]
pub struct Entry {
    phys: u32,
    bitness: u32,
    bytes: u128,
    mask: u128,
    /// Length of the instruction in bytes.
    pub len: u32,
    /// The handler chosen at decode time.
    pub handler: Handler,
    /// The decoded instruction.
    pub instr: Instruction,
}

/// The decoded-instruction cache.
pub struct DecodeCache {
    entries: Vec<Entry>,
}

impl Default for DecodeCache {
    fn default() -> Self {
        Self::new()
    }
}

impl DecodeCache {
    /// An empty cache.
    pub fn new() -> Self {
        let empty = Entry {
            phys: u32::MAX,
            bitness: 0,
            bytes: 0,
            mask: 0,
            len: 1,
            handler: super::invalid_opcode,
            instr: Instruction::default(),
        };
        DecodeCache {
            entries: vec![empty; ENTRIES],
        }
    }

    #[inline]
    fn slot(phys: u32) -> usize {
        (phys ^ (phys >> 15)) as usize & (ENTRIES - 1)
    }

    /// The cached decode at `phys`, if the bytes there still match.
    #[inline]
    pub fn lookup(&self, phys: u32, bitness: u32, window: u128) -> Option<&Entry> {
        let e = &self.entries[Self::slot(phys)];
        if e.phys == phys && e.bitness == bitness && (window ^ e.bytes) & e.mask == 0 {
            Some(e)
        } else {
            None
        }
    }

    /// Remember a decoded instruction and return the cached copy.
    pub fn insert(
        &mut self,
        phys: u32,
        bitness: u32,
        window: u128,
        handler: Handler,
        instr: &Instruction,
    ) -> &Entry {
        let len = instr.len();
        let mask = if len >= 16 {
            u128::MAX
        } else {
            (1u128 << (len * 8)) - 1
        };
        let slot = Self::slot(phys);
        self.entries[slot] = Entry {
            phys,
            bitness,
            bytes: window,
            mask,
            len: len as u32,
            handler,
            instr: *instr,
        };
        &self.entries[slot]
    }

    /// Drop everything (e.g. when switching engines).
    pub fn clear(&mut self) {
        for e in self.entries.iter_mut() {
            e.phys = u32::MAX;
        }
    }
}
