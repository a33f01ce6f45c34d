//! The code buffer: one host mapping that holds generated code, writable or
//! executable but never both (W^X). Code is appended at the end; the buffer
//! is emptied as a whole when full (the block cache is flushed with it).
//!
//! A fixed prelude (the entry trampoline and shared stubs) lives at the
//! start and survives [`CodeBuffer::clear`].

use memmap2::{Mmap, MmapMut};

/// The mapping in one of its two protections.
enum Protection {
    Writable(MmapMut),
    Executable(Mmap),
}

/// A W^X region for generated code.
pub struct CodeBuffer {
    map: Option<Protection>,
    base: usize,
    len: usize,
    prelude: usize,
    cap: usize,
}

impl CodeBuffer {
    /// Map `cap` bytes for code.
    pub fn new(cap: usize) -> std::io::Result<Self> {
        let map = MmapMut::map_anon(cap)?;
        let base = map.as_ptr() as usize;
        Ok(CodeBuffer {
            map: Some(Protection::Writable(map)),
            base,
            len: 0,
            prelude: 0,
            cap,
        })
    }

    /// Host address of the first byte.
    pub fn base(&self) -> usize {
        self.base
    }

    /// Host address where the next appended code will go.
    pub fn next_addr(&self) -> usize {
        self.base + self.len
    }

    /// Bytes still free.
    pub fn free(&self) -> usize {
        self.cap - self.len
    }

    /// Bytes of generated code (prelude included).
    pub fn used(&self) -> usize {
        self.len
    }

    fn writable(&mut self) -> std::io::Result<&mut MmapMut> {
        let map = match self.map.take() {
            Some(Protection::Executable(m)) => m.make_mut()?,
            Some(Protection::Writable(m)) => m,
            None => return Err(std::io::Error::other("code buffer lost its mapping")),
        };
        self.map = Some(Protection::Writable(map));
        match &mut self.map {
            Some(Protection::Writable(m)) => Ok(m),
            _ => Err(std::io::Error::other("code buffer lost its mapping")),
        }
    }

    /// Make the buffer executable again (after appending or patching).
    pub fn seal(&mut self) -> std::io::Result<()> {
        let map = match self.map.take() {
            Some(Protection::Writable(m)) => m.make_exec()?,
            Some(Protection::Executable(m)) => m,
            None => return Err(std::io::Error::other("code buffer lost its mapping")),
        };
        self.map = Some(Protection::Executable(map));
        Ok(())
    }

    /// Append code assembled for address [`CodeBuffer::next_addr`]; returns
    /// its address, or `None` when it does not fit. Leaves the buffer
    /// writable: call [`CodeBuffer::seal`] before running code.
    pub fn append(&mut self, code: &[u8]) -> std::io::Result<Option<usize>> {
        if code.len() > self.free() {
            return Ok(None);
        }
        let at = self.len;
        self.writable()?[at..at + code.len()].copy_from_slice(code);
        self.len += code.len();
        Ok(Some(self.base + at))
    }

    /// Overwrite bytes at host address `addr` inside the buffer (jump
    /// patching). Leaves the buffer writable.
    pub fn patch(&mut self, addr: usize, bytes: &[u8]) -> std::io::Result<()> {
        let off = addr
            .checked_sub(self.base)
            .filter(|o| o + bytes.len() <= self.len)
            .ok_or_else(|| std::io::Error::other("patch outside the code buffer"))?;
        self.writable()?[off..off + bytes.len()].copy_from_slice(bytes);
        Ok(())
    }

    /// Mark everything appended so far as the prelude, kept by `clear`.
    pub fn set_prelude(&mut self) {
        self.prelude = self.len;
    }

    /// Drop all code after the prelude.
    pub fn clear(&mut self) {
        self.len = self.prelude;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn append_patch_and_clear_keep_the_prelude() {
        let mut b = CodeBuffer::new(4096).unwrap();
        let a = b.append(&[0xC3]).unwrap().unwrap();
        assert_eq!(a, b.base());
        b.set_prelude();
        let c = b.append(&[0x90, 0x90]).unwrap().unwrap();
        assert_eq!(c, b.base() + 1);
        b.patch(c, &[0xCC]).unwrap();
        assert!(b.patch(b.base() + 10, &[0]).is_err());
        b.seal().unwrap();
        b.clear();
        assert_eq!(b.used(), 1);
        assert!(b.append(&vec![0; 5000]).unwrap().is_none());
    }
}
