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

#[derive(Clone)]
struct Entry {
    phys: u32,
    bitness: u32,
    bytes: u128,
    mask: u128,
    handler: Handler,
    instr: Instruction,
}

/// The decoded-instruction cache.
pub struct DecodeCache {
    entries: Vec<Option<Entry>>,
    /// Lookups that found a valid entry.
    pub hits: u64,
    /// Lookups that had to decode.
    pub misses: u64,
}

impl Default for DecodeCache {
    fn default() -> Self {
        Self::new()
    }
}

impl DecodeCache {
    /// An empty cache.
    pub fn new() -> Self {
        DecodeCache { entries: vec![None; ENTRIES], hits: 0, misses: 0 }
    }

    #[inline]
    fn slot(phys: u32) -> usize {
        (phys ^ (phys >> 15)) as usize & (ENTRIES - 1)
    }

    /// The cached handler and instruction at `phys`, if the bytes match.
    #[inline]
    pub fn lookup(&mut self, phys: u32, bitness: u32, window: &[u8; 16]) -> Option<(Handler, Instruction)> {
        let w = u128::from_le_bytes(*window);
        match &self.entries[Self::slot(phys)] {
            Some(e) if e.phys == phys && e.bitness == bitness && (w ^ e.bytes) & e.mask == 0 => {
                self.hits += 1;
                Some((e.handler, e.instr))
            }
            _ => {
                self.misses += 1;
                None
            }
        }
    }

    /// Remember a decoded instruction of `len` bytes.
    pub fn insert(&mut self, phys: u32, bitness: u32, window: &[u8; 16], len: usize, handler: Handler, instr: &Instruction) {
        let mask = if len >= 16 { u128::MAX } else { (1u128 << (len * 8)) - 1 };
        self.entries[Self::slot(phys)] =
            Some(Entry { phys, bitness, bytes: u128::from_le_bytes(*window), mask, handler, instr: *instr });
    }

    /// Drop everything (e.g. when switching engines).
    pub fn clear(&mut self) {
        self.entries.iter_mut().for_each(|e| *e = None);
    }
}
