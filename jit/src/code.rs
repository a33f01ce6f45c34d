//! The code buffer: one host mapping that holds generated code, writable or
//! executable but never both (W^X). Code is appended at the end; the buffer
//! is emptied as a whole when full (the block cache is flushed with it).
//! Only the pages being written change protection (mprotect on a few pages,
//! not the whole buffer: a whole-buffer change costs a walk of every page).
//!
//! A fixed prelude (the entry trampoline and shared stubs) lives at the
//! start and survives [`CodeBuffer::clear`].

#![allow(unsafe_code)]

use memmap2::MmapMut;

/// A W^X region for generated code.
pub struct CodeBuffer {
    map: MmapMut,
    base: usize,
    len: usize,
    prelude: usize,
    cap: usize,
    /// Page-aligned byte range currently writable (not executable).
    open: Option<(usize, usize)>,
}

const PAGE: usize = 4096;

impl CodeBuffer {
    /// Map `cap` bytes for code.
    pub fn new(cap: usize) -> std::io::Result<Self> {
        let cap = cap.div_ceil(PAGE) * PAGE;
        let map = MmapMut::map_anon(cap)?;
        let base = map.as_ptr() as usize;
        let mut b = CodeBuffer {
            map,
            base,
            len: 0,
            prelude: 0,
            cap,
            open: Some((0, cap)),
        };
        b.seal()?;
        Ok(b)
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

    /// Change the protection of the pages covering `off..off + len`.
    fn protect(&self, off: usize, len: usize, prot: libc::c_int) -> std::io::Result<()> {
        let start = off / PAGE * PAGE;
        let end = (off + len).div_ceil(PAGE) * PAGE;
        let ptr = (self.base + start) as *mut libc::c_void;
        // SAFETY: the range lies inside our own anonymous mapping (`cap` is
        // page-aligned, `off + len <= cap`); no outside reference points in.
        let r = unsafe { libc::mprotect(ptr, end - start, prot) };
        if r == 0 {
            Ok(())
        } else {
            Err(std::io::Error::last_os_error())
        }
    }

    /// Make `off..off + len` writable (sealing whatever else was open).
    fn open(&mut self, off: usize, len: usize) -> std::io::Result<()> {
        if let Some((s, e)) = self.open {
            if s <= off && off + len <= e {
                return Ok(());
            }
            self.seal()?;
        }
        self.protect(off, len, libc::PROT_READ | libc::PROT_WRITE)?;
        self.open = Some((off / PAGE * PAGE, (off + len).div_ceil(PAGE) * PAGE));
        Ok(())
    }

    /// Make the buffer executable again (after appending or patching).
    pub fn seal(&mut self) -> std::io::Result<()> {
        if let Some((s, e)) = self.open.take() {
            self.protect(s, e - s, libc::PROT_READ | libc::PROT_EXEC)?;
        }
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
        self.open(at, code.len())?;
        self.map[at..at + code.len()].copy_from_slice(code);
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
        self.open(off, bytes.len())?;
        self.map[off..off + bytes.len()].copy_from_slice(bytes);
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
