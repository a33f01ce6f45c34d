//! One BIOS service call as Rust sees it: the guest's registers, its memory
//! (RAM, ROM and the VGA window, addressed physically), the caller's IRET
//! frame, the BIOS data area and port I/O on the machine's devices.
//!
//! Addresses are real-mode `segment * 16 + offset` (the services run only
//! in real or virtual-8086 mode; paging is not applied). Nothing here can
//! fail on guest input: out-of-range addresses read all-ones and writes to
//! them are dropped, as on the bus.

use btvm_devices::cmos::{OFFSET_DATA, OFFSET_INDEX};
use btvm_jit::abi::{gpr, sreg};
use btvm_jit::flags::{FLAG_CF, FLAG_IF, FLAG_ZF};

use crate::cpu::Cpu;
use crate::machine::pc::Pc;
use crate::memory::{GuestMemory, Region, VGA_WINDOW_END, VGA_WINDOW_START};
use crate::platform::{AccessSize, Platform};

/// Physical address of the BIOS data area (segment 0040h).
pub const BDA: u32 = 0x400;

/// The guest state one service works on.
pub struct Call<'a> {
    /// The CPU (registers are the call's arguments and results).
    pub cpu: &'a mut Cpu,
    /// Guest memory.
    pub mem: &'a mut GuestMemory,
    /// The devices.
    pub pc: &'a mut Pc,
}

macro_rules! reg16 {
    ($get:ident, $set:ident, $r:expr) => {
        #[doc = concat!("The ", stringify!($get), " register.")]
        pub fn $get(&self) -> u16 {
            self.cpu.regs.gpr[$r] as u16
        }
        #[doc = concat!("Set the ", stringify!($get), " register (upper half of the 32-bit register kept).")]
        pub fn $set(&mut self, v: u16) {
            let r = &mut self.cpu.regs.gpr[$r];
            *r = (*r & 0xFFFF_0000) | u32::from(v);
        }
    };
}

macro_rules! reg8 {
    ($lo:ident, $set_lo:ident, $hi:ident, $set_hi:ident, $r:expr) => {
        #[doc = concat!("The ", stringify!($lo), " register.")]
        pub fn $lo(&self) -> u8 {
            self.cpu.regs.gpr[$r] as u8
        }
        #[doc = concat!("Set the ", stringify!($lo), " register.")]
        pub fn $set_lo(&mut self, v: u8) {
            let r = &mut self.cpu.regs.gpr[$r];
            *r = (*r & !0xFF) | u32::from(v);
        }
        #[doc = concat!("The ", stringify!($hi), " register.")]
        pub fn $hi(&self) -> u8 {
            (self.cpu.regs.gpr[$r] >> 8) as u8
        }
        #[doc = concat!("Set the ", stringify!($hi), " register.")]
        pub fn $set_hi(&mut self, v: u8) {
            let r = &mut self.cpu.regs.gpr[$r];
            *r = (*r & !0xFF00) | u32::from(v) << 8;
        }
    };
}

impl Call<'_> {
    reg16!(ax, set_ax, gpr::EAX);
    reg16!(bx, set_bx, gpr::EBX);
    reg16!(cx, set_cx, gpr::ECX);
    reg16!(dx, set_dx, gpr::EDX);
    reg16!(si, set_si, gpr::ESI);
    reg16!(di, set_di, gpr::EDI);
    reg16!(bp, set_bp, gpr::EBP);
    reg8!(al, set_al, ah, set_ah, gpr::EAX);
    reg8!(bl, set_bl, bh, set_bh, gpr::EBX);
    reg8!(cl, set_cl, ch, set_ch, gpr::ECX);
    reg8!(dl, set_dl, dh, set_dh, gpr::EDX);

    /// A 32-bit general register.
    pub fn reg32(&self, r: usize) -> u32 {
        self.cpu.regs.gpr[r]
    }

    /// Set a 32-bit general register.
    pub fn set_reg32(&mut self, r: usize, v: u32) {
        self.cpu.regs.gpr[r] = v;
    }

    /// A segment register's selector (`sreg::ES` ...).
    pub fn seg(&self, s: usize) -> u16 {
        self.cpu.regs.seg[s].selector
    }

    /// Load a segment register the real-mode way.
    pub fn set_seg(&mut self, s: usize, selector: u16) {
        self.cpu.load_seg_real(s, selector);
    }

    /// The physical address of `seg:off` with the A20 gate applied.
    pub fn far(&self, seg: u16, off: u16) -> u32 {
        ((u32::from(seg) << 4) + u32::from(off)) & self.mem.a20_mask()
    }

    /// Continue the guest at `seg:off`.
    pub fn jump(&mut self, seg: u16, off: u16) {
        self.cpu.load_seg_real(sreg::CS, seg);
        self.cpu.regs.eip = u32::from(off);
    }

    // ---- the caller's IRET frame -----------------------------------------

    /// Physical address of the stack top plus `delta` (SP or ESP per SS.B).
    fn stack_addr(&self, delta: u32) -> u32 {
        let ss = &self.cpu.regs.seg[sreg::SS];
        let sp = self.cpu.regs.gpr[gpr::ESP];
        let off = if self.cpu.stack32() {
            sp.wrapping_add(delta)
        } else {
            sp.wrapping_add(delta) & 0xFFFF
        };
        ss.base.wrapping_add(off)
    }

    /// The FLAGS image the stub's IRET will restore (the INT frame sits at
    /// the stack top: IP, CS, FLAGS).
    pub fn frame_flags(&mut self) -> u16 {
        let a = self.stack_addr(4);
        self.read16(a)
    }

    fn set_frame_flag(&mut self, flag: u32, on: bool) {
        let a = self.stack_addr(4);
        let f = self.read16(a);
        let f = if on {
            f | flag as u16
        } else {
            f & !(flag as u16)
        };
        self.write16(a, f);
    }

    /// Return CF to the caller.
    pub fn set_cf(&mut self, on: bool) {
        self.set_frame_flag(FLAG_CF, on);
    }

    /// Return ZF to the caller.
    pub fn set_zf(&mut self, on: bool) {
        self.set_frame_flag(FLAG_ZF, on);
    }

    /// Set or clear IF in the live flags (for a stub that continues).
    pub fn set_live_if(&mut self, on: bool) {
        let f = self.cpu.regs.eflags();
        self.cpu
            .regs
            .set_eflags(if on { f | FLAG_IF } else { f & !FLAG_IF });
    }

    // ---- memory -----------------------------------------------------------

    /// Read one byte (RAM, ROM or the VGA window).
    pub fn read8(&mut self, phys: u32) -> u8 {
        match self.mem.read_u8(phys) {
            Some(b) => b,
            None => self.pc.mmio_read(phys, AccessSize::Byte) as u8,
        }
    }

    /// Write one byte (RAM or the VGA window; ROM writes are dropped).
    pub fn write8(&mut self, phys: u32, v: u8) {
        if !self.mem.write_u8(phys, v) {
            self.pc.mmio_write(phys, AccessSize::Byte, u32::from(v));
        }
    }

    /// Read a little-endian word.
    pub fn read16(&mut self, phys: u32) -> u16 {
        u16::from(self.read8(phys)) | u16::from(self.read8(phys.wrapping_add(1))) << 8
    }

    /// Write a little-endian word.
    pub fn write16(&mut self, phys: u32, v: u16) {
        self.write8(phys, v as u8);
        self.write8(phys.wrapping_add(1), (v >> 8) as u8);
    }

    /// Read a little-endian doubleword.
    pub fn read32(&mut self, phys: u32) -> u32 {
        u32::from(self.read16(phys)) | u32::from(self.read16(phys.wrapping_add(2))) << 16
    }

    /// Write a little-endian doubleword.
    pub fn write32(&mut self, phys: u32, v: u32) {
        self.write16(phys, v as u16);
        self.write16(phys.wrapping_add(2), (v >> 16) as u16);
    }

    fn touches_vga(phys: u32, len: usize) -> bool {
        let end = u64::from(phys) + len as u64;
        u64::from(phys) < u64::from(VGA_WINDOW_END) && end > u64::from(VGA_WINDOW_START)
    }

    /// Copy guest memory out.
    pub fn read_block(&mut self, phys: u32, out: &mut [u8]) {
        if Self::touches_vga(phys, out.len()) {
            for (i, b) in out.iter_mut().enumerate() {
                *b = self.read8(phys.wrapping_add(i as u32));
            }
        } else {
            self.mem.read_phys(phys, out);
        }
    }

    /// Copy bytes into guest memory.
    pub fn write_block(&mut self, phys: u32, data: &[u8]) {
        if Self::touches_vga(phys, data.len()) {
            for (i, &b) in data.iter().enumerate() {
                self.write8(phys.wrapping_add(i as u32), b);
            }
        } else {
            self.mem.write_phys(phys, data);
        }
    }

    /// Whether `phys` is RAM.
    pub fn is_ram(&self, phys: u32) -> bool {
        matches!(self.mem.region(phys), Region::Ram(_))
    }

    // ---- BIOS data area ---------------------------------------------------

    /// A BDA byte (offset from 0x400).
    pub fn bda8(&mut self, off: u16) -> u8 {
        self.read8(BDA + u32::from(off))
    }

    /// Store a BDA byte.
    pub fn set_bda8(&mut self, off: u16, v: u8) {
        self.write8(BDA + u32::from(off), v);
    }

    /// A BDA word.
    pub fn bda16(&mut self, off: u16) -> u16 {
        self.read16(BDA + u32::from(off))
    }

    /// Store a BDA word.
    pub fn set_bda16(&mut self, off: u16, v: u16) {
        self.write16(BDA + u32::from(off), v);
    }

    /// A BDA doubleword.
    pub fn bda32(&mut self, off: u16) -> u32 {
        self.read32(BDA + u32::from(off))
    }

    /// Store a BDA doubleword.
    pub fn set_bda32(&mut self, off: u16, v: u32) {
        self.write32(BDA + u32::from(off), v);
    }

    // ---- ports ------------------------------------------------------------

    /// IN from a port, at the current machine time.
    pub fn inb(&mut self, port: u16) -> u8 {
        self.pc.sync(self.cpu.regs.icount);
        self.pc.io_read(port, AccessSize::Byte) as u8
    }

    /// OUT to a port, at the current machine time.
    pub fn outb(&mut self, port: u16, v: u8) {
        self.pc.sync(self.cpu.regs.icount);
        self.pc.io_write(port, AccessSize::Byte, u32::from(v));
    }

    /// Read a CMOS register (the NMI mask is left as it was).
    pub fn cmos_read(&mut self, reg: u8) -> u8 {
        self.pc.sync(self.cpu.regs.icount);
        let now = self.pc.now();
        let nmi = if self.pc.cmos.nmi_masked() { 0x80 } else { 0 };
        self.pc.cmos.write(OFFSET_INDEX, reg | nmi, now);
        self.pc.cmos.read(OFFSET_DATA, now)
    }

    /// Write a CMOS register.
    pub fn cmos_write(&mut self, reg: u8, v: u8) {
        self.pc.sync(self.cpu.regs.icount);
        let now = self.pc.now();
        let nmi = if self.pc.cmos.nmi_masked() { 0x80 } else { 0 };
        self.pc.cmos.write(OFFSET_INDEX, reg | nmi, now);
        self.pc.cmos.write(OFFSET_DATA, v, now);
    }
}
