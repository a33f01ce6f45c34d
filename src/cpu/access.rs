//! Guest memory and port access as instructions see it: segment limit and
//! rights checks, the TLB fast path, the slow path through the MMU to RAM,
//! ROM, MMIO or nothing, and stack pushes/pops.
//!
//! [`Ctx`] bundles what one instruction can touch: the CPU, guest memory and
//! the machine's buses. The interpreter's handlers and (later) the JIT's
//! helpers all go through it, so there is one definition of an access.

use btvm_jit::abi::{sreg, SegCache, Tlb, TlbView};

use super::exception::{fault_code, Stop, GP, SS};
use super::Cpu;
use crate::memory::{GuestMemory, Region};
use crate::platform::{AccessSize, Platform};

/// `RegFile::attention` bit for a write to a page holding translated code:
/// the JIT leaves its block after the instruction, but an instruction in
/// progress (REP string) is not cut short, so both engines retire the same
/// instructions.
pub const ATTENTION_CODE_WRITE: u32 = 2;

/// Result of something an instruction does.
pub type Step<T = ()> = Result<T, Stop>;

/// What one instruction can reach.
pub struct Ctx<'a> {
    /// The CPU.
    pub cpu: &'a mut Cpu,
    /// Guest physical memory.
    pub mem: &'a mut GuestMemory,
    /// Ports and device memory.
    pub io: &'a mut dyn Platform,
}

#[inline]
fn access_size(n: usize) -> AccessSize {
    match n {
        1 => AccessSize::Byte,
        2 => AccessSize::Word,
        _ => AccessSize::Dword,
    }
}

#[inline]
fn load_le(b: &[u8], off: usize, n: usize) -> u32 {
    match n {
        1 => u32::from(b[off]),
        2 => u32::from(u16::from_le_bytes([b[off], b[off + 1]])),
        _ => u32::from_le_bytes([b[off], b[off + 1], b[off + 2], b[off + 3]]),
    }
}

#[inline]
fn store_le(b: &mut [u8], off: usize, n: usize, v: u32) {
    match n {
        1 => b[off] = v as u8,
        2 => b[off..off + 2].copy_from_slice(&(v as u16).to_le_bytes()),
        _ => b[off..off + 4].copy_from_slice(&v.to_le_bytes()),
    }
}

impl Ctx<'_> {
    // ---- physical ----------------------------------------------------

    fn read_phys(&mut self, phys: u32, n: usize) -> u32 {
        match self.mem.region(phys) {
            Region::Ram(o) | Region::Rom(o) if (phys & 0xFFF) as usize + n <= 0x1000 => {
                load_le(self.mem.bytes(), o, n)
            }
            Region::Mmio => {
                self.mem.note_mmio();
                self.io.mmio_read(phys, access_size(n))
            }
            _ => {
                let mut v = 0;
                for i in 0..n {
                    let p = phys.wrapping_add(i as u32);
                    let b = match self.mem.read_u8(p) {
                        Some(b) => b,
                        None => {
                            self.mem.note_mmio();
                            self.io.mmio_read(p, AccessSize::Byte) as u8
                        }
                    };
                    v |= u32::from(b) << (8 * i);
                }
                v
            }
        }
    }

    fn write_phys(&mut self, phys: u32, n: usize, v: u32) {
        match self.mem.region(phys) {
            Region::Ram(o) if (phys & 0xFFF) as usize + n <= 0x1000 => {
                self.mem.record(phys, n);
                store_le(self.mem.bytes_mut(), o, n, v);
                if self.mem.note_write(phys, n) {
                    // Translated code changed: the JIT leaves its block
                    // after this instruction (a REP string runs on).
                    self.cpu.regs.attention |= ATTENTION_CODE_WRITE;
                }
            }
            Region::Mmio => {
                self.mem.note_mmio();
                if self.io.mmio_write(phys, access_size(n), v) {
                    self.cpu.regs.attention = 1;
                }
            }
            _ => {
                for i in 0..n {
                    let p = phys.wrapping_add(i as u32);
                    if !self.mem.write_u8(p, (v >> (8 * i)) as u8) && {
                        self.mem.note_mmio();
                        self.io.mmio_write(p, AccessSize::Byte, v >> (8 * i) & 0xFF)
                    } {
                        self.cpu.regs.attention = 1;
                    }
                }
                if self.mem.has_dirty_code() {
                    self.cpu.regs.attention |= ATTENTION_CODE_WRITE;
                }
            }
        }
    }

    // ---- linear ------------------------------------------------------

    /// Read `n` (1, 2 or 4) bytes at a linear address with the current
    /// privilege.
    #[inline(always)]
    pub fn read_lin(&mut self, lin: u32, n: usize) -> Step<u32> {
        let e = &self.cpu.tlb.read[Tlb::index(lin)];
        if e.tag == lin & !0xFFF && (lin & 0xFFF) as usize <= 0x1000 - n {
            let off = (lin as usize)
                .wrapping_add(e.addend)
                .wrapping_sub(self.mem.host_base());
            return Ok(load_le(self.mem.bytes(), off, n));
        }
        self.read_lin_slow(lin, n, TlbView::Read)
    }

    #[cold]
    fn read_lin_slow(&mut self, lin: u32, n: usize, view: TlbView) -> Step<u32> {
        if (lin & 0xFFF) as usize + n <= 0x1000 {
            let p = self.cpu.translate_fill(self.mem, lin, view)?;
            return Ok(self.read_phys(p, n));
        }
        let mut v = 0;
        for i in 0..n {
            let p = self
                .cpu
                .translate_fill(self.mem, lin.wrapping_add(i as u32), view)?;
            v |= self.read_phys(p, 1) << (8 * i);
        }
        Ok(v)
    }

    /// Write `n` (1, 2 or 4) bytes at a linear address. Both pages of a
    /// page-crossing write are checked before any byte is written.
    #[inline(always)]
    pub fn write_lin(&mut self, lin: u32, n: usize, v: u32) -> Step {
        let e = &self.cpu.tlb.write[Tlb::index(lin)];
        if e.tag == lin & !0xFFF && (lin & 0xFFF) as usize <= 0x1000 - n {
            let off = (lin as usize)
                .wrapping_add(e.addend)
                .wrapping_sub(self.mem.host_base());
            store_le(self.mem.bytes_mut(), off, n, v);
            return Ok(());
        }
        self.write_lin_slow(lin, n, v)
    }

    #[cold]
    fn write_lin_slow(&mut self, lin: u32, n: usize, v: u32) -> Step {
        if (lin & 0xFFF) as usize + n <= 0x1000 {
            let p = self.cpu.translate_fill(self.mem, lin, TlbView::Write)?;
            self.write_phys(p, n, v);
            return Ok(());
        }
        let mut phys = [0u32; 4];
        for (i, p) in phys.iter_mut().enumerate().take(n) {
            *p = self
                .cpu
                .translate_fill(self.mem, lin.wrapping_add(i as u32), TlbView::Write)?;
        }
        for (i, &p) in phys.iter().enumerate().take(n) {
            self.write_phys(p, 1, v >> (8 * i));
        }
        Ok(())
    }

    /// Check that a write of `n` bytes at a linear address would succeed
    /// (used by instructions that must not fault half-way).
    pub fn probe_write_lin(&mut self, lin: u32, n: usize) -> Step {
        self.cpu.translate_fill(self.mem, lin, TlbView::Write)?;
        let last = lin.wrapping_add(n as u32 - 1);
        if last & !0xFFF != lin & !0xFFF {
            self.cpu.translate_fill(self.mem, last, TlbView::Write)?;
        }
        Ok(())
    }

    /// Read a byte of code at a linear address (instruction fetch view).
    pub fn fetch_lin_u8(&mut self, lin: u32) -> Step<u8> {
        let e = &self.cpu.tlb.exec[Tlb::index(lin)];
        if e.tag == lin & !0xFFF {
            let off = (lin as usize)
                .wrapping_add(e.addend)
                .wrapping_sub(self.mem.host_base());
            return Ok(self.mem.bytes()[off]);
        }
        Ok(self.read_lin_slow(lin, 1, TlbView::Exec)? as u8)
    }

    // ---- segmented ---------------------------------------------------

    /// Check a data access of `n` bytes at `offset` in segment `seg`
    /// against its limit and rights; returns the linear address.
    #[inline(always)]
    pub fn seg_check(&self, seg: usize, offset: u32, n: usize, write: bool) -> Step<u32> {
        let s = &self.cpu.regs.seg[seg];
        let last = offset as u64 + n as u64 - 1;
        let ok = if s.attr & (SegCache::ATTR_CODE | SegCache::ATTR_EXPAND_DOWN)
            == SegCache::ATTR_EXPAND_DOWN
        {
            let upper: u64 = if s.is_32bit() { 0xFFFF_FFFF } else { 0xFFFF };
            offset as u64 > s.limit as u64 && last <= upper
        } else {
            last <= s.limit as u64
        };
        let rights = if write {
            s.attr & (SegCache::ATTR_CODE | SegCache::ATTR_RW) == SegCache::ATTR_RW
        } else {
            s.attr & (SegCache::ATTR_CODE | SegCache::ATTR_RW) != SegCache::ATTR_CODE
        };
        // Real and v86 mode check limits only, never rights.
        if ok && (rights && s.attr & SegCache::ATTR_PRESENT != 0 || self.cpu.real_addressing()) {
            Ok(s.base.wrapping_add(offset))
        } else {
            fault_code(if seg == sreg::SS { SS } else { GP }, 0)
        }
    }

    /// Read `n` bytes at `seg:offset`.
    #[inline(always)]
    pub fn read_seg(&mut self, seg: usize, offset: u32, n: usize) -> Step<u32> {
        let lin = self.seg_check(seg, offset, n, false)?;
        self.read_lin(lin, n)
    }

    /// Read `n` bytes at `seg:offset` for a read-modify-write: checked as
    /// a write (segment rights and page), as the CPU checks the first
    /// access of an RMW, so a fault reports W=1 and nothing is half-done.
    #[inline(always)]
    pub fn read_seg_rmw(&mut self, seg: usize, offset: u32, n: usize) -> Step<u32> {
        let lin = self.seg_check(seg, offset, n, true)?;
        let e = &self.cpu.tlb.write[Tlb::index(lin)];
        if e.tag != lin & !0xFFF || (lin & 0xFFF) as usize > 0x1000 - n {
            self.probe_write_lin(lin, n)?;
        }
        self.read_lin(lin, n)
    }

    /// Write `n` bytes at `seg:offset`.
    #[inline(always)]
    pub fn write_seg(&mut self, seg: usize, offset: u32, n: usize, v: u32) -> Step {
        let lin = self.seg_check(seg, offset, n, true)?;
        self.write_lin(lin, n, v)
    }

    // ---- stack -------------------------------------------------------

    /// Mask for the stack pointer: 0xFFFF with a 16-bit stack segment.
    #[inline]
    pub fn sp_mask(&self) -> u32 {
        if self.cpu.stack32() {
            u32::MAX
        } else {
            0xFFFF
        }
    }

    /// The stack pointer as the stack segment sees it (SP or ESP).
    #[inline]
    pub fn sp(&self) -> u32 {
        self.cpu.regs.gpr[btvm_jit::abi::gpr::ESP] & self.sp_mask()
    }

    /// Set SP (only the low word with a 16-bit stack).
    #[inline]
    pub fn set_sp(&mut self, v: u32) {
        let m = self.sp_mask();
        let r = &mut self.cpu.regs.gpr[btvm_jit::abi::gpr::ESP];
        *r = (*r & !m) | (v & m);
    }

    /// Push `n` bytes (2 or 4).
    #[inline]
    pub fn push(&mut self, n: usize, v: u32) -> Step {
        let sp = self.sp().wrapping_sub(n as u32) & self.sp_mask();
        self.write_seg(sreg::SS, sp, n, v)?;
        self.set_sp(sp);
        Ok(())
    }

    /// Pop `n` bytes (2 or 4).
    #[inline]
    pub fn pop(&mut self, n: usize) -> Step<u32> {
        let sp = self.sp();
        let v = self.read_seg(sreg::SS, sp, n)?;
        self.set_sp(sp.wrapping_add(n as u32));
        Ok(v)
    }

    /// Read `n` bytes at `depth` bytes above the stack pointer without
    /// popping (for instructions that must check before committing).
    #[inline]
    pub fn peek(&mut self, depth: u32, n: usize) -> Step<u32> {
        let off = self.sp().wrapping_add(depth) & self.sp_mask();
        self.read_seg(sreg::SS, off, n)
    }

    // ---- ports and time ------------------------------------------------

    /// The time-stamp counter: machine time (1 GHz) plus the guest's offset
    /// (set by WRMSR to the TSC).
    pub fn tsc(&mut self) -> u64 {
        self.io
            .time_ns(self.cpu.regs.icount)
            .wrapping_add(self.cpu.tsc_offset)
    }

    /// IN from a port.
    pub fn port_in(&mut self, port: u16, n: usize) -> u32 {
        self.io.sync(self.cpu.regs.icount);
        self.io.io_read(port, access_size(n))
    }

    /// OUT to a port; raises `attention` when the machine asks for it.
    pub fn port_out(&mut self, port: u16, n: usize, v: u32) {
        self.io.sync(self.cpu.regs.icount);
        if self.io.io_write(port, access_size(n), v) {
            self.cpu.regs.attention = 1;
        }
    }
}

impl Ctx<'_> {
    /// Read at a linear address with supervisor privilege (descriptor
    /// tables, the TSS, the IDT: implicit system accesses).
    pub fn read_lin_supervisor(&mut self, lin: u32, n: usize) -> Step<u32> {
        self.read_lin_as(lin, n, false)
    }

    /// Write at a linear address with supervisor privilege (descriptor
    /// accessed/busy bits, TSS state, inner-ring stacks).
    pub fn write_lin_supervisor(&mut self, lin: u32, n: usize, v: u32) -> Step {
        self.write_lin_as(lin, n, v, false)
    }

    /// Read at a linear address with an explicit privilege (`user`: as a
    /// CPL-3 access); the TLB serves only when that is the current one.
    pub fn read_lin_as(&mut self, lin: u32, n: usize, user: bool) -> Step<u32> {
        // Why: descriptor reads and interrupt frames are most of a fault's
        // or a gate's cost; with the current privilege the TLB serves, and
        // within one page one walk does for every byte.
        if user == (self.cpu.cpl == 3) {
            return self.read_lin(lin, n);
        }
        if (lin & 0xFFF) as usize + n <= 0x1000 {
            let kind = super::mmu::AccessKind {
                write: false,
                user,
                fetch: false,
            };
            let p = self.cpu.translate(self.mem, lin, kind)?;
            if matches!(self.mem.region(p), Region::Ram(_) | Region::Rom(_)) {
                return Ok(self.read_phys(p, n));
            }
        }
        let mut v = 0;
        for k in 0..n {
            let a = lin.wrapping_add(k as u32);
            let kind = super::mmu::AccessKind {
                write: false,
                user,
                fetch: false,
            };
            let p = self.cpu.translate(self.mem, a, kind)?;
            v |= self.read_phys(p, 1) << (8 * k);
        }
        Ok(v)
    }

    /// Write at a linear address with an explicit privilege (the TLB
    /// serves only when that is the current one). Every byte is translated
    /// before any is written.
    pub fn write_lin_as(&mut self, lin: u32, n: usize, v: u32, user: bool) -> Step {
        if user == (self.cpu.cpl == 3) {
            return self.write_lin(lin, n, v);
        }
        if (lin & 0xFFF) as usize + n <= 0x1000 {
            let kind = super::mmu::AccessKind {
                write: true,
                user,
                fetch: false,
            };
            let p = self.cpu.translate(self.mem, lin, kind)?;
            if matches!(self.mem.region(p), Region::Ram(_)) {
                self.write_phys(p, n, v);
                return Ok(());
            }
        }
        let mut phys = [0u32; 4];
        for (k, p) in phys.iter_mut().enumerate().take(n) {
            let kind = super::mmu::AccessKind {
                write: true,
                user,
                fetch: false,
            };
            *p = self
                .cpu
                .translate(self.mem, lin.wrapping_add(k as u32), kind)?;
        }
        for (k, &p) in phys.iter().enumerate().take(n) {
            self.write_phys(p, 1, v >> (8 * k));
        }
        Ok(())
    }

    /// Check that a write of `n` bytes at `lin` with privilege `user`
    /// would not page-fault, without writing (sets A/D bits as the CPU's
    /// own probe would).
    pub fn probe_write_as(&mut self, lin: u32, n: usize, user: bool) -> Step {
        let kind = super::mmu::AccessKind {
            write: true,
            user,
            fetch: false,
        };
        self.cpu.translate(self.mem, lin, kind)?;
        let last = lin.wrapping_add(n as u32 - 1);
        if last & !0xFFF != lin & !0xFFF {
            self.cpu.translate(self.mem, last, kind)?;
        }
        Ok(())
    }
}
