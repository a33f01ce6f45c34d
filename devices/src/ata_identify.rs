//! The 256-word IDENTIFY DEVICE block of the ATA hard disk model.
//!
//! Reference: ATA/ATAPI-6 (INCITS 361-2002) 8.15 "IDENTIFY DEVICE", table 27;
//! the obsolete CHS words 1/3/6 and 54-58 keep their ATA-1..5 meaning. ATA
//! strings are space-padded ASCII with the two bytes of each word swapped
//! (the first character in bits 15-8).
//!
//! The device claims ATA-1 to ATA-4, LBA (28-bit), READ/WRITE MULTIPLE up to
//! [`MAX_MULTIPLE`] sectors, PIO modes 0-4 and 32-bit data I/O; no DMA, no
//! 48-bit addressing, no power management or security feature sets.

use crate::block::Geometry;

/// Largest block READ/WRITE MULTIPLE accepts (word 47).
pub const MAX_MULTIPLE: u8 = 16;
/// Model number (words 27-46).
pub const MODEL: &str = "BTVM HARDDISK";
/// Serial number (words 10-19).
pub const SERIAL: &str = "BTVM00000001";
/// Firmware revision (words 23-26).
pub const FIRMWARE: &str = "1.0";

/// Most sectors LBA28 addressing reaches (words 60-61).
const LBA28_MAX_SECTORS: u64 = 0x0FFF_FFFF;
/// Word 0: ATA device, fixed (non-removable) media.
const GENERAL_CONFIG_FIXED: u16 = 0x0040;
/// Word 47 bits 15-8: fixed 0x80 in front of the maximum multiple count.
const MAX_MULTIPLE_TAG: u16 = 0x8000;
/// Word 48: the device can do 32-bit (doubleword) data I/O (ATA-1).
const DWORD_IO_SUPPORTED: u16 = 0x0001;
/// Word 49 bit 9: LBA supported.
const CAPABILITY_LBA: u16 = 0x0200;
/// Words 50, 83, 84: bit 14 shall be one, bit 15 zero.
const WORD_VALID: u16 = 0x4000;
/// Word 51: PIO data transfer cycle timing mode 2 (in bits 15-8).
const PIO_TIMING_MODE_2: u16 = 0x0200;
/// Word 53 bit 0: words 54-58 (current CHS translation) are valid.
const FIELDS_54_58_VALID: u16 = 0x0001;
/// Word 53 bit 1: words 64-70 (advanced PIO timing) are valid.
const FIELDS_64_70_VALID: u16 = 0x0002;
/// Word 59 bit 8: the multiple sector setting in bits 7-0 is valid.
const MULTIPLE_SETTING_VALID: u16 = 0x0100;
/// Word 64: advanced PIO modes 3 and 4 supported.
const ADVANCED_PIO_MODES: u16 = 0x0003;
/// Words 65-68: minimum PIO/DMA cycle times in ns (mode 4).
const MIN_CYCLE_NS: u16 = 120;
/// Word 80: major version, ATA-1 to ATA-4.
const MAJOR_VERSION_ATA1_TO_4: u16 = 0x001E;
/// Word 83 bit 12 (ATA-6 numbering): FLUSH CACHE supported.
const FLUSH_CACHE_SUPPORTED: u16 = 0x1000;
/// Word 255 bits 7-0: checksum signature.
const INTEGRITY_SIGNATURE: u16 = 0x00A5;
/// Words 20-22: obsolete buffer type, buffer size (sectors) and ECC bytes
/// that ATA-1 era drivers print.
const LEGACY_BUFFER: [u16; 3] = [3, 512, 4];

/// What IDENTIFY DEVICE reports about a disk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IdentifyParams {
    /// Sectors on the disk.
    pub sectors: u64,
    /// Default CHS geometry (words 1, 3, 6).
    pub default: Geometry,
    /// Current CHS translation (words 54-58), if one is valid.
    pub current: Option<Geometry>,
    /// Current READ/WRITE MULTIPLE block size, 0 when disabled (word 59).
    pub multiple: u8,
}

/// Store `text` as an ATA string over `words` (space-padded, byte-swapped).
fn put_ata_string(words: &mut [u16], text: &str) {
    let mut bytes = text.bytes().chain(std::iter::repeat(b' '));
    for word in words {
        let hi = bytes.next().unwrap_or(b' ');
        let lo = bytes.next().unwrap_or(b' ');
        *word = u16::from_be_bytes([hi, lo]);
    }
}

/// A 16-bit IDENTIFY word from a value that may not fit (saturating).
fn word(value: u64) -> u16 {
    u16::try_from(value).unwrap_or(u16::MAX)
}

/// The IDENTIFY DEVICE words for `params`.
pub fn identify_words(params: &IdentifyParams) -> [u16; 256] {
    let mut w = [0u16; 256];
    let default = params.default;
    w[0] = GENERAL_CONFIG_FIXED;
    w[1] = word(default.cylinders.into());
    w[3] = word(default.heads.into());
    w[4] = word(u64::from(default.sectors) * 512); // obsolete: bytes per track
    w[5] = 512; // obsolete: bytes per sector
    w[6] = word(default.sectors.into());
    put_ata_string(&mut w[10..20], SERIAL);
    w[20..23].copy_from_slice(&LEGACY_BUFFER);
    put_ata_string(&mut w[23..27], FIRMWARE);
    put_ata_string(&mut w[27..47], MODEL);
    w[47] = MAX_MULTIPLE_TAG | u16::from(MAX_MULTIPLE);
    w[48] = DWORD_IO_SUPPORTED;
    w[49] = CAPABILITY_LBA;
    w[50] = WORD_VALID;
    w[51] = PIO_TIMING_MODE_2;
    w[53] = FIELDS_64_70_VALID;
    if let Some(current) = params.current {
        w[53] |= FIELDS_54_58_VALID;
        w[54] = word(current.cylinders.into());
        w[55] = word(current.heads.into());
        w[56] = word(current.sectors.into());
        let capacity = current.total_sectors().min(u64::from(u32::MAX)) as u32;
        w[57] = capacity as u16;
        w[58] = (capacity >> 16) as u16;
    }
    if params.multiple != 0 {
        w[59] = MULTIPLE_SETTING_VALID | u16::from(params.multiple);
    }
    let lba28 = params.sectors.min(LBA28_MAX_SECTORS) as u32;
    w[60] = lba28 as u16;
    w[61] = (lba28 >> 16) as u16;
    w[64] = ADVANCED_PIO_MODES;
    w[65..69].fill(MIN_CYCLE_NS);
    w[80] = MAJOR_VERSION_ATA1_TO_4;
    w[82] = 0;
    w[83] = WORD_VALID | FLUSH_CACHE_SUPPORTED;
    w[84] = WORD_VALID;
    w[86] = FLUSH_CACHE_SUPPORTED;
    w[87] = WORD_VALID;
    // Word 255: signature, then the byte that makes all 512 bytes sum to 0.
    w[255] = INTEGRITY_SIGNATURE;
    let sum = w
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .fold(0u8, u8::wrapping_add);
    w[255] |= u16::from(sum.wrapping_neg()) << 8;
    w
}

/// The IDENTIFY DEVICE block as the 512 bytes the data port delivers
/// (each word little-endian).
pub fn identify_block(params: &IdentifyParams) -> [u8; 512] {
    let mut block = [0u8; 512];
    for (chunk, w) in block.chunks_exact_mut(2).zip(identify_words(params)) {
        chunk.copy_from_slice(&w.to_le_bytes());
    }
    block
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Decode an ATA string (what `hdparm -i` / Linux `ata_id_string` do).
    fn ata_string(words: &[u16]) -> String {
        let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_be_bytes()).collect();
        String::from_utf8(bytes).unwrap().trim_end().to_string()
    }

    fn linux011_disk() -> IdentifyParams {
        let g = Geometry::new(10, 16, 63);
        IdentifyParams {
            sectors: 10_080,
            default: g,
            current: Some(g),
            multiple: 0,
        }
    }

    #[test]
    fn strings_are_byte_swapped_and_space_padded() {
        let w = identify_words(&linux011_disk());
        assert_eq!(w[27], u16::from_be_bytes(*b"BT"));
        assert_eq!(ata_string(&w[27..47]), MODEL);
        assert_eq!(ata_string(&w[10..20]), SERIAL);
        assert_eq!(ata_string(&w[23..27]), FIRMWARE);
        assert_eq!(w[46], 0x2020, "model padded with spaces");
    }

    #[test]
    fn geometry_capacity_and_capabilities() {
        let mut params = linux011_disk();
        params.current = Some(Geometry::new(20, 8, 63));
        params.multiple = 8;
        let w = identify_words(&params);
        assert_eq!((w[1], w[3], w[6]), (10, 16, 63));
        assert_eq!((w[54], w[55], w[56]), (20, 8, 63));
        assert_eq!(u32::from(w[57]) | u32::from(w[58]) << 16, 20 * 8 * 63);
        assert_eq!(u32::from(w[60]) | u32::from(w[61]) << 16, 10_080);
        assert_eq!(w[47], 0x8010);
        assert_eq!(w[49] & 0x0200, 0x0200, "LBA supported");
        assert_eq!(w[53], 0x0003);
        assert_eq!(w[59], 0x0108);
        assert_eq!(w[80], 0x001E);
    }

    #[test]
    fn invalid_translation_clears_word_53_bit_0() {
        let mut params = linux011_disk();
        params.current = None;
        let w = identify_words(&params);
        assert_eq!(w[53] & 1, 0);
        assert_eq!(&w[54..59], &[0; 5]);
        assert_eq!(w[59], 0, "multiple mode off");
    }

    #[test]
    fn capacity_saturates_at_lba28() {
        let mut params = linux011_disk();
        params.sectors = 1 << 40;
        let w = identify_words(&params);
        assert_eq!(u32::from(w[60]) | u32::from(w[61]) << 16, 0x0FFF_FFFF);
    }

    #[test]
    fn block_checksum_sums_to_zero() {
        let block = identify_block(&linux011_disk());
        assert_eq!(block[510], 0xA5);
        assert_eq!(block.iter().fold(0u8, |a, &b| a.wrapping_add(b)), 0);
        assert_eq!(
            u16::from_le_bytes([block[2], block[3]]),
            10,
            "word 1 little-endian"
        );
    }
}
