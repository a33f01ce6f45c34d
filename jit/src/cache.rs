//! The block cache: translated blocks keyed by (EIP, CS base, mode key),
//! with a per-physical-page index so that a write to a code page drops
//! exactly that page's blocks.
//!
//! Blocks only chain to blocks on their own linear page (hence the same
//! physical page), so dropping a page's blocks leaves no jump into them.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use iced_x86::Instruction;

use crate::helpers::{ExitSlot, Site};
use crate::mode::ModeKey;

/// A multiplicative hasher for small integer keys.
#[derive(Default)]
pub struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }
    fn write_u32(&mut self, v: u32) {
        self.write_u64(u64::from(v));
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = (self.0.rotate_left(5) ^ v).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
}

type Fast = BuildHasherDefault<KeyHasher>;

/// Lookup key of a block.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct BlockKey {
    /// EIP of the first instruction.
    pub eip: u32,
    /// CS base.
    pub cs_base: u32,
    /// Mode key.
    pub mode: ModeKey,
}

/// A translated block.
pub struct Block {
    /// Host address of its prologue.
    pub entry: usize,
    /// Its key.
    pub key: BlockKey,
    /// Physical address of the first instruction (checked on lookup: the
    /// linear page may have been remapped).
    pub phys: u32,
    /// Guest instructions in it.
    pub instrs: Vec<Instruction>,
    /// Of those, translated inline.
    pub inline: u32,
    /// Guest bytes covered.
    pub guest_len: u32,
    /// Helper call sites (their addresses are in the code).
    pub sites: Vec<Box<Site>>,
    /// Direct exits (patched when chained).
    pub exits: Vec<Box<ExitSlot>>,
}

/// All live blocks.
#[derive(Default)]
pub struct BlockCache {
    blocks: HashMap<BlockKey, Box<Block>, Fast>,
    pages: HashMap<u32, Vec<BlockKey>, Fast>,
}

impl BlockCache {
    /// The block for a key, if translated.
    #[inline]
    pub fn get(&self, key: &BlockKey) -> Option<&Block> {
        self.blocks.get(key).map(|b| &**b)
    }

    /// Add a block (replacing one with the same key).
    pub fn insert(&mut self, block: Block) -> &Block {
        let key = block.key;
        self.pages.entry(block.phys >> 12).or_default().push(key);
        self.blocks.insert(key, Box::new(block));
        &self.blocks[&key]
    }

    /// Drop every block whose code starts on physical page `page` (a page
    /// number); returns how many.
    pub fn invalidate_page(&mut self, page: u32) -> usize {
        let Some(keys) = self.pages.remove(&page) else {
            return 0;
        };
        let mut n = 0;
        for k in keys {
            if self.blocks.get(&k).is_some_and(|b| b.phys >> 12 == page) {
                self.blocks.remove(&k);
                n += 1;
            }
        }
        n
    }

    /// Drop everything.
    pub fn clear(&mut self) {
        self.blocks.clear();
        self.pages.clear();
    }

    /// Number of live blocks.
    pub fn len(&self) -> usize {
        self.blocks.len()
    }

    /// No blocks.
    pub fn is_empty(&self) -> bool {
        self.blocks.is_empty()
    }
}
