//! KVM memory slots laid out after btvm's physical map
//! ([`crate::memory`]), over the one host mapping that holds RAM then the
//! ROM.
//!
//! ```text
//! guest physical              host mapping offset      slot
//! 0x00000..0xA0000            0x00000                  conventional RAM
//! 0xA0000..0xC0000            -                        none: VGA window, MMIO exits
//! 0xC0000..ROM                0xC0000                  upper memory (RAM)
//! ROM..0x100000               ram_size                 BIOS ROM, read-only
//! 0x100000..ram_size          0x100000                 extended RAM
//! 4 GiB - rom..4 GiB          ram_size                 BIOS ROM again, read-only
//! ```
//!
//! KVM has no A20 gate. While the gate is closed the high memory area
//! (`0x100000..0x110000`, the only part of the 1 MiB alias real-mode code
//! can reach) is mapped onto the first 64 KiB of RAM, so `FFFF:0010` wraps
//! to `0000:0000` as on a PC; the alias of higher odd megabytes is not
//! modelled (only protected-mode code could reach it, and the host KVM here
//! cannot run that anyway).

use crate::memory::{ONE_MIB, VGA_WINDOW_END, VGA_WINDOW_START};

/// Size of the high memory area: what real mode reaches above 1 MiB.
const HMA_SIZE: u32 = 0x1_0000;

/// One KVM memory slot: guest physical range onto a host mapping offset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Slot {
    /// First guest physical address.
    pub guest: u64,
    /// Length in bytes (a multiple of the page size).
    pub size: u64,
    /// Offset into the guest-memory host mapping.
    pub host_offset: u64,
    /// Read-only (the BIOS ROM): guest writes exit as MMIO writes.
    pub read_only: bool,
}

/// What the slot layout depends on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    /// Guest RAM in bytes.
    pub ram_size: u32,
    /// BIOS ROM image size in bytes (64 or 128 KiB).
    pub rom_size: u32,
    /// A20 gate open.
    pub a20: bool,
}

impl Layout {
    /// The slots for this layout, in ascending guest address order.
    pub fn slots(&self) -> Vec<Slot> {
        let ram = u64::from(self.ram_size);
        let rom = u64::from(self.rom_size);
        let rom_low = u64::from(ONE_MIB) - rom;
        let mut v = Vec::with_capacity(6);
        let ram_slot = |start: u64, end: u64, v: &mut Vec<Slot>| {
            let end = end.min(ram);
            if start < end {
                v.push(Slot {
                    guest: start,
                    size: end - start,
                    host_offset: start,
                    read_only: false,
                });
            }
        };
        ram_slot(0, u64::from(VGA_WINDOW_START), &mut v);
        ram_slot(u64::from(VGA_WINDOW_END), rom_low, &mut v);
        v.push(Slot {
            guest: rom_low,
            size: rom,
            host_offset: ram,
            read_only: true,
        });
        let mut ext_start = u64::from(ONE_MIB);
        if !self.a20 {
            // A20 closed: the high memory area wraps to the bottom of RAM.
            v.push(Slot {
                guest: ext_start,
                size: u64::from(HMA_SIZE),
                host_offset: 0,
                read_only: false,
            });
            ext_start += u64::from(HMA_SIZE);
        }
        ram_slot(ext_start, ram, &mut v);
        v.push(Slot {
            guest: (1u64 << 32) - rom,
            size: rom,
            host_offset: ram,
            read_only: true,
        });
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slot(guest: u64, size: u64, host_offset: u64, read_only: bool) -> Slot {
        Slot {
            guest,
            size,
            host_offset,
            read_only,
        }
    }

    #[test]
    fn slots_follow_the_pc_map_with_a20_open() {
        let l = Layout {
            ram_size: 16 << 20,
            rom_size: 64 << 10,
            a20: true,
        };
        assert_eq!(
            l.slots(),
            vec![
                slot(0, 0xA0000, 0, false),
                slot(0xC0000, 0x30000, 0xC0000, false),
                slot(0xF0000, 0x10000, 16 << 20, true),
                slot(0x10_0000, (16 << 20) - 0x10_0000, 0x10_0000, false),
                slot(0xFFFF_0000, 0x10000, 16 << 20, true),
            ]
        );
    }

    #[test]
    fn closed_a20_wraps_the_high_memory_area_to_ram_0() {
        let l = Layout {
            ram_size: 2 << 20,
            rom_size: 128 << 10,
            a20: false,
        };
        let s = l.slots();
        assert_eq!(s[1], slot(0xC0000, 0x20000, 0xC0000, false));
        assert_eq!(s[2], slot(0xE0000, 0x20000, 2 << 20, true));
        assert_eq!(s[3], slot(0x10_0000, 0x1_0000, 0, false));
        assert_eq!(s[4], slot(0x11_0000, 0xF_0000, 0x11_0000, false));
    }

    #[test]
    fn one_mib_of_ram_has_no_extended_slot() {
        let l = Layout {
            ram_size: 1 << 20,
            rom_size: 64 << 10,
            a20: true,
        };
        let s = l.slots();
        assert_eq!(s.len(), 4);
        assert!(s.iter().all(|x| x.guest + x.size <= 1 << 20 || x.read_only));
    }
}
