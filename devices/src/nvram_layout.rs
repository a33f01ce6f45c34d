//! The IBM PC/AT layout of the CMOS RAM bytes above the clock registers,
//! and helpers for firmware setup to fill them.
//!
//! Reference: IBM PC/AT Technical Reference, "CMOS RAM Address Map"
//! (0x10-0x2D configuration, 0x2E/0x2F checksum, 0x30/0x31 POST memory
//! size, 0x32 century) and the 0x34/0x35 "memory above 16 MiB" bytes that
//! later BIOSes and SeaBIOS use. The clock itself is in [`crate::cmos`];
//! these helpers only use its public byte accessors.

use crate::cmos::Cmos;

/// Floppy drive types (high nibble drive A, low nibble drive B).
pub const NVRAM_FLOPPY_TYPES: u8 = 0x10;
/// Hard disk types (high nibble disk 0, low nibble disk 1; 0xF = see 0x19/0x1A).
pub const NVRAM_DISK_TYPES: u8 = 0x12;
/// Equipment byte.
pub const NVRAM_EQUIPMENT: u8 = 0x14;
/// Base memory in KiB, low byte (high byte at 0x16).
pub const NVRAM_BASE_MEMORY: u8 = 0x15;
/// Extended memory above 1 MiB in KiB, low byte (high at 0x18).
pub const NVRAM_EXTENDED_MEMORY: u8 = 0x17;
/// Checksum of 0x10-0x2D, high byte (low at 0x2F).
pub const NVRAM_CHECKSUM: u8 = 0x2E;
/// Extended memory found by POST in KiB, low byte (high at 0x31).
pub const NVRAM_POST_EXTENDED_MEMORY: u8 = 0x30;
/// Memory above 16 MiB in 64 KiB blocks, low byte (high at 0x35).
pub const NVRAM_MEMORY_ABOVE_16M: u8 = 0x34;
/// The PC's RAM below 1 MiB that the base-memory bytes report, in KiB.
const BASE_MEMORY_KIB: u16 = 640;
/// First NVRAM byte covered by the checksum.
const CHECKSUM_FIRST: u8 = 0x10;
/// Last NVRAM byte covered by the checksum.
const CHECKSUM_LAST: u8 = 0x2D;

impl Cmos {
    /// Fill the AT memory-size bytes for `ram_bytes` of RAM below the 4 GiB
    /// hole (640 KiB base, KiB above 1 MiB, 64 KiB blocks above 16 MiB) and
    /// update the checksum.
    pub fn set_memory_size(&mut self, ram_bytes: u64) {
        let kib_above_1m = (ram_bytes.saturating_sub(1 << 20) / 1024).min(0xFFFF);
        let blocks_above_16m = (ram_bytes.saturating_sub(16 << 20) / 65_536).min(0xFFFF);
        let words = [
            (NVRAM_BASE_MEMORY, BASE_MEMORY_KIB),
            (
                NVRAM_EXTENDED_MEMORY,
                u16::try_from(kib_above_1m).unwrap_or(u16::MAX),
            ),
            (
                NVRAM_POST_EXTENDED_MEMORY,
                u16::try_from(kib_above_1m).unwrap_or(u16::MAX),
            ),
            (
                NVRAM_MEMORY_ABOVE_16M,
                u16::try_from(blocks_above_16m).unwrap_or(u16::MAX),
            ),
        ];
        for (index, value) in words {
            let [low, high] = value.to_le_bytes();
            self.set_byte(index, low);
            self.set_byte(index + 1, high);
        }
        self.update_checksum();
    }

    /// Recompute the AT checksum (sum of 0x10-0x2D, big-endian at 0x2E/0x2F).
    pub fn update_checksum(&mut self) {
        let sum = (CHECKSUM_FIRST..=CHECKSUM_LAST).fold(0u16, |acc, index| {
            acc.wrapping_add(u16::from(self.get_byte(index)))
        });
        let [high, low] = sum.to_be_bytes();
        self.set_byte(NVRAM_CHECKSUM, high);
        self.set_byte(NVRAM_CHECKSUM + 1, low);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::irq::NoIrq;

    #[test]
    fn memory_size_bytes_and_checksum() {
        let mut cmos = Cmos::new(0, Box::new(NoIrq));
        cmos.set_byte(NVRAM_FLOPPY_TYPES, 0x40); // 1.44 MB drive A
        cmos.set_memory_size(64 << 20);
        assert_eq!([cmos.get_byte(0x15), cmos.get_byte(0x16)], [0x80, 0x02]);
        assert_eq!([cmos.get_byte(0x17), cmos.get_byte(0x18)], [0x00, 0xFC]);
        assert_eq!([cmos.get_byte(0x30), cmos.get_byte(0x31)], [0x00, 0xFC]);
        assert_eq!([cmos.get_byte(0x34), cmos.get_byte(0x35)], [0x00, 0x03]);
        let sum = 0x40 + 0x80 + 0x02 + 0xFC;
        assert_eq!(
            [cmos.get_byte(0x2E), cmos.get_byte(0x2F)],
            [0x01, (sum & 0xFF) as u8]
        );
    }
}
