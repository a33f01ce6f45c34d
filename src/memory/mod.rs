//! Guest physical memory: one anonymous host mapping holding RAM and the
//! BIOS ROM, with the PC's holes and aliases decoded here.
//!
//! Physical map (a PC/AT with an ISA bus):
//! - `0x00000..0xA0000` conventional RAM
//! - `0xA0000..0xC0000` VGA window: routed to the MMIO bus
//! - `0xC0000..ROM`     upper memory, backed by RAM (no option ROMs)
//! - top of the first MiB: the BIOS ROM (64 or 128 KiB), read-only
//! - `0x100000..RAM end` extended memory
//! - top of 4 GiB: the BIOS ROM again (the reset vector lives there)
//! - anything else is unmapped: reads all-ones, writes are dropped.
//!
//! The A20 gate is applied by the MMU when it turns linear into physical
//! addresses ([`GuestMemory::a20_mask`]).

use memmap2::MmapMut;

use crate::error::Error;

/// Start of the VGA MMIO window.
pub const VGA_WINDOW_START: u32 = 0xA0000;
/// End (exclusive) of the VGA MMIO window.
pub const VGA_WINDOW_END: u32 = 0xC0000;
/// One MiB: where extended memory starts and the first BIOS copy ends.
pub const ONE_MIB: u32 = 0x10_0000;
/// Largest RAM size btvm accepts (the top 256 MiB hold the ROM alias).
pub const MAX_RAM_MIB: u32 = 3584;

/// What a physical address is backed by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Region {
    /// Guest RAM; the offset into the host mapping.
    Ram(usize),
    /// BIOS ROM; the offset into the host mapping (read-only).
    Rom(usize),
    /// Device memory on the MMIO bus.
    Mmio,
    /// Nothing: reads all-ones, writes dropped.
    Unmapped,
}

/// Guest RAM and ROM in one host mapping.
pub struct GuestMemory {
    map: MmapMut,
    ram_size: u32,
    rom_size: u32,
    a20: bool,
    flat: bool,
    /// One bit per 4 KiB RAM page holding translated code (JIT only).
    code_pages: Vec<u64>,
    /// How many bits of `code_pages` are set (0: writes skip the check).
    code_marked: usize,
    /// Code pages written since the JIT last looked (it drops their blocks).
    dirty_code: Vec<u32>,
    /// `--check`: no write enters the TLB, and RAM writes are journaled
    /// (physical address, old byte) so a block's effects can be undone.
    journal: Option<Vec<(u32, u8)>>,
    /// While journaling: a device-memory access happened (it cannot be
    /// undone, so `--check` does not replay that block).
    mmio_touched: bool,
}

impl GuestMemory {
    /// Allocate `ram_mib` MiB of zeroed RAM and an empty 64 KiB ROM.
    pub fn new(ram_mib: u32) -> Result<Self, Error> {
        if ram_mib == 0 || ram_mib > MAX_RAM_MIB {
            return Err(Error::BadMemorySize(ram_mib));
        }
        let ram_size = ram_mib << 20;
        let rom_area = 128 << 10;
        let map = MmapMut::map_anon(ram_size as usize + rom_area)
            .map_err(|e| Error::Host(format!("cannot map {ram_mib} MiB of guest memory: {e}")))?;
        Ok(GuestMemory {
            map,
            ram_size,
            rom_size: 64 << 10,
            a20: true,
            flat: false,
            code_pages: vec![0; (ram_size as usize >> 12).div_ceil(64)],
            code_marked: 0,
            dirty_code: Vec::new(),
            journal: None,
            mmio_touched: false,
        })
    }

    /// Allocate `ram_mib` MiB of RAM with no holes, ROM or MMIO at all: every
    /// address below the RAM size is RAM (conformance vectors expect this).
    pub fn new_flat(ram_mib: u32) -> Result<Self, Error> {
        let mut m = Self::new(ram_mib)?;
        m.flat = true;
        Ok(m)
    }

    /// Install a BIOS ROM image (64 or 128 KiB) at the top of the first MiB
    /// and of 4 GiB.
    pub fn load_rom(&mut self, image: &[u8]) -> Result<(), Error> {
        let len = image.len();
        if len != 64 << 10 && len != 128 << 10 {
            return Err(Error::BadRom(format!(
                "size {len} bytes; a BIOS ROM must be 64 KiB or 128 KiB"
            )));
        }
        let base = self.ram_size as usize;
        self.map[base..base + len].copy_from_slice(image);
        self.rom_size = len as u32;
        Ok(())
    }

    /// RAM size in bytes.
    pub fn ram_size(&self) -> u32 {
        self.ram_size
    }

    /// Size in bytes of the BIOS ROM image mapped below 1 MiB and 4 GiB
    /// (64 or 128 KiB); it sits right after RAM in the host mapping. The KVM
    /// engine lays out its memory slots from this.
    pub fn rom_size(&self) -> u32 {
        self.rom_size
    }

    /// Host address of mapping offset 0 (TLB addends are relative to it).
    #[inline]
    pub fn host_base(&self) -> usize {
        self.map.as_ptr() as usize
    }

    /// The whole mapping (RAM then ROM), for the interpreter's TLB fast path.
    #[inline]
    pub fn bytes(&self) -> &[u8] {
        &self.map
    }

    /// The whole mapping, mutably (writes through the TLB write view only
    /// ever reach RAM pages).
    #[inline]
    pub fn bytes_mut(&mut self) -> &mut [u8] {
        &mut self.map
    }

    /// Whether the A20 gate is enabled (address bit 20 passes through).
    pub fn a20(&self) -> bool {
        self.a20
    }

    /// Open or close the A20 gate. The caller flushes the TLB.
    pub fn set_a20(&mut self, enabled: bool) {
        self.a20 = enabled;
    }

    /// Mask applied to every physical address by the A20 gate.
    #[inline]
    pub fn a20_mask(&self) -> u32 {
        if self.a20 {
            u32::MAX
        } else {
            !(1 << 20)
        }
    }

    /// Decode a physical address (after A20 masking).
    #[inline]
    pub fn region(&self, phys: u32) -> Region {
        let rom_start = ONE_MIB - self.rom_size;
        if self.flat {
            return if phys < self.ram_size {
                Region::Ram(phys as usize)
            } else {
                Region::Unmapped
            };
        }
        if phys < VGA_WINDOW_START {
            if phys < self.ram_size {
                return Region::Ram(phys as usize);
            }
            return Region::Unmapped;
        }
        if phys < VGA_WINDOW_END {
            return Region::Mmio;
        }
        if phys < rom_start {
            return if phys < self.ram_size {
                Region::Ram(phys as usize)
            } else {
                Region::Unmapped
            };
        }
        if phys < ONE_MIB {
            return Region::Rom(self.ram_size as usize + (phys - rom_start) as usize);
        }
        if phys < self.ram_size {
            return Region::Ram(phys as usize);
        }
        if phys >= 0u32.wrapping_sub(self.rom_size) {
            return Region::Rom(
                self.ram_size as usize + (phys - 0u32.wrapping_sub(self.rom_size)) as usize,
            );
        }
        Region::Unmapped
    }

    /// Mark RAM page `page` (a page number) as holding translated code:
    /// writes to it are then reported (see [`GuestMemory::take_dirty_code`]).
    /// Returns whether it was newly marked (the caller then drops TLB write
    /// entries for it, so writes take the checked path).
    pub fn mark_code_page(&mut self, page: u32) -> bool {
        let (w, b) = ((page / 64) as usize, page % 64);
        match self.code_pages.get_mut(w) {
            Some(word) if *word & (1 << b) == 0 => {
                *word |= 1 << b;
                self.code_marked += 1;
                true
            }
            _ => false,
        }
    }

    /// Whether RAM page `page` holds translated code.
    #[inline]
    pub fn is_code_page(&self, page: u32) -> bool {
        self.code_marked != 0
            && self
                .code_pages
                .get((page / 64) as usize)
                .is_some_and(|w| w & (1 << (page % 64)) != 0)
    }

    /// Note a write of `len` bytes at `phys` (RAM); returns true when it hit
    /// a code page (which is then unmarked and reported as dirty).
    #[inline]
    pub fn note_write(&mut self, phys: u32, len: usize) -> bool {
        if self.code_marked == 0 {
            return false;
        }
        let first = phys >> 12;
        let last = phys.wrapping_add(len.max(1) as u32 - 1) >> 12;
        let mut hit = false;
        for page in [first, last] {
            if self.is_code_page(page) {
                self.code_pages[(page / 64) as usize] &= !(1 << (page % 64));
                self.code_marked -= 1;
                self.dirty_code.push(page);
                hit = true;
            }
        }
        hit
    }

    /// Take the list of code pages written since the last call.
    pub fn take_dirty_code(&mut self) -> Vec<u32> {
        std::mem::take(&mut self.dirty_code)
    }

    /// Whether any code page was written since the last `take_dirty_code`.
    #[inline]
    pub fn has_dirty_code(&self) -> bool {
        !self.dirty_code.is_empty()
    }

    /// Forget all code marks (the JIT flushed its cache).
    pub fn clear_code_pages(&mut self) {
        self.code_pages.iter_mut().for_each(|w| *w = 0);
        self.code_marked = 0;
        self.dirty_code.clear();
    }

    /// Start (or stop) journaling RAM writes; while on, the MMU keeps every
    /// write on the checked path. Returns the journal collected so far.
    pub fn set_journal(&mut self, on: bool) -> Vec<(u32, u8)> {
        std::mem::replace(&mut self.journal, on.then(Vec::new)).unwrap_or_default()
    }

    /// Whether writes are being journaled (the MMU then fills no write TLB
    /// entries).
    #[inline]
    pub fn journaling(&self) -> bool {
        self.journal.is_some()
    }

    /// Note a device-memory access (see [`GuestMemory::take_mmio_touched`]).
    #[inline]
    pub fn note_mmio(&mut self) {
        if self.journal.is_some() {
            self.mmio_touched = true;
        }
    }

    /// Whether device memory was accessed since the last call.
    pub fn take_mmio_touched(&mut self) -> bool {
        std::mem::take(&mut self.mmio_touched)
    }

    /// Record the old bytes of a RAM write about to happen.
    #[inline]
    pub fn record(&mut self, phys: u32, len: usize) {
        if let Some(j) = &mut self.journal {
            for i in 0..len as u32 {
                let p = phys.wrapping_add(i);
                if (p as usize) < self.map.len() {
                    j.push((p, self.map[p as usize]));
                }
            }
        }
    }

    /// Write bytes of RAM back without reporting or journaling (undo).
    pub fn restore_bytes(&mut self, phys: u32, old: u8) {
        if let Some(b) = self.map.get_mut(phys as usize) {
            *b = old;
        }
    }

    /// Read one byte of RAM/ROM; `None` for MMIO (the caller routes it).
    #[inline]
    pub fn read_u8(&self, phys: u32) -> Option<u8> {
        match self.region(phys) {
            Region::Ram(o) | Region::Rom(o) => Some(self.map[o]),
            Region::Unmapped => Some(0xFF),
            Region::Mmio => None,
        }
    }

    /// Write one byte of RAM; returns `false` for MMIO (the caller routes
    /// it). ROM and unmapped writes are dropped.
    #[inline]
    pub fn write_u8(&mut self, phys: u32, value: u8) -> bool {
        match self.region(phys) {
            Region::Ram(o) => {
                self.record(phys, 1);
                self.map[o] = value;
                self.note_write(phys, 1);
                true
            }
            Region::Rom(_) | Region::Unmapped => true,
            Region::Mmio => false,
        }
    }

    /// Copy guest physical memory out (MMIO reads as all-ones here; loaders
    /// and DMA use this).
    pub fn read_phys(&self, phys: u32, out: &mut [u8]) {
        // Within one page the region is one kind: copy at once (page walks
        // read their entries through here).
        if (phys & 0xFFF) as usize + out.len() <= 0x1000 {
            if let Region::Ram(o) | Region::Rom(o) = self.region(phys) {
                out.copy_from_slice(&self.map[o..o + out.len()]);
                return;
            }
        }
        for (i, b) in out.iter_mut().enumerate() {
            *b = self.read_u8(phys.wrapping_add(i as u32)).unwrap_or(0xFF);
        }
    }

    /// Copy bytes into guest physical memory (RAM only; MMIO and ROM bytes
    /// are dropped). Loaders and DMA use this.
    pub fn write_phys(&mut self, phys: u32, data: &[u8]) {
        let end = phys as u64 + data.len() as u64;
        if (end <= VGA_WINDOW_START as u64 || self.flat) && end <= self.ram_size as u64 {
            self.record(phys, data.len());
            self.map[phys as usize..end as usize].copy_from_slice(data);
            if self.code_marked != 0 {
                for page in (phys >> 12)..=((end - 1) >> 12) as u32 {
                    self.note_write(page << 12, 1);
                }
            }
            return;
        }
        for (i, &b) in data.iter().enumerate() {
            self.write_u8(phys.wrapping_add(i as u32), b);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn map_has_holes_rom_and_alias() {
        let mut m = GuestMemory::new(2).unwrap();
        let mut rom = vec![0u8; 65536];
        rom[0xFFF0] = 0xEA;
        m.load_rom(&rom).unwrap();
        assert_eq!(m.region(0x1000), Region::Ram(0x1000));
        assert_eq!(m.region(0xB8000), Region::Mmio);
        assert_eq!(m.read_u8(0xFFFF0), Some(0xEA));
        assert_eq!(m.read_u8(0xFFFF_FFF0), Some(0xEA));
        assert_eq!(m.read_u8(0x30_0000), Some(0xFF), "above RAM reads all-ones");
        assert!(m.write_u8(0xFFFF0, 0x90));
        assert_eq!(m.read_u8(0xFFFF0), Some(0xEA), "ROM is read-only");
        assert!(
            m.write_u8(0x30_0000, 1),
            "unmapped writes are dropped, not routed"
        );
    }

    #[test]
    fn a20_mask_clears_bit_20_when_closed() {
        let mut m = GuestMemory::new(2).unwrap();
        m.set_a20(false);
        assert_eq!(0x10_FFEF & m.a20_mask(), 0xFFEF);
    }

    #[test]
    fn bad_sizes_are_errors() {
        assert!(GuestMemory::new(0).is_err());
        let mut m = GuestMemory::new(1).unwrap();
        assert!(m.load_rom(&[0; 1000]).is_err());
    }
}
