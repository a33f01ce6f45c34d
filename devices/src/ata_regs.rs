//! Register offsets, register bits and command opcodes of an ATA (IDE)
//! channel in PIO mode.
//!
//! Reference: ANSI INCITS 361-2002 "AT Attachment with Packet Interface - 6"
//! (ATA/ATAPI-6), clause 7 (register descriptions) and clause 8 (commands);
//! the CHS-era commands (RECALIBRATE, INITIALIZE DEVICE PARAMETERS, the 0x9x
//! power commands) from ATA-1 (X3.221-1994). The behaviour is in
//! [`crate::ata`].

use bitflags::bitflags;

/// Command block: data register (16-bit PIO data; offset 0 of 0x1F0).
pub const REG_DATA: u16 = 0;
/// Command block: error register (read).
pub const REG_ERROR: u16 = 1;
/// Command block: features register (write).
pub const REG_FEATURES: u16 = 1;
/// Command block: sector count.
pub const REG_SECTOR_COUNT: u16 = 2;
/// Command block: sector number / LBA bits 7-0.
pub const REG_LBA_LOW: u16 = 3;
/// Command block: cylinder low / LBA bits 15-8.
pub const REG_LBA_MID: u16 = 4;
/// Command block: cylinder high / LBA bits 23-16.
pub const REG_LBA_HIGH: u16 = 5;
/// Command block: device/head (DEV, LBA, head / LBA bits 27-24).
pub const REG_DEVICE: u16 = 6;
/// Command block: status (read; clears a pending interrupt).
pub const REG_STATUS: u16 = 7;
/// Command block: command (write).
pub const REG_COMMAND: u16 = 7;
/// Control block: alternate status (read; leaves the interrupt pending).
pub const REG_ALT_STATUS: u16 = 0;
/// Control block: device control (write: nIEN, SRST).
pub const REG_DEVICE_CONTROL: u16 = 0;

bitflags! {
    /// Status register bits.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct AtaStatus: u8 {
        /// Error: the error register says what went wrong.
        const ERR = 0x01;
        /// Index (obsolete; always 0 here).
        const IDX = 0x02;
        /// Corrected data (obsolete; always 0 here).
        const CORR = 0x04;
        /// Data request: the data register wants to be read or written.
        const DRQ = 0x08;
        /// Device seek complete (DSC; Linux 0.11 checks it).
        const DSC = 0x10;
        /// Device fault.
        const DF = 0x20;
        /// Device ready to accept commands.
        const DRDY = 0x40;
        /// Busy: the device owns the command block.
        const BSY = 0x80;
    }

    /// Error register bits.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct AtaError: u8 {
        /// Address mark not found (obsolete).
        const AMNF = 0x01;
        /// Track 0 not found (obsolete).
        const TK0NF = 0x02;
        /// Command aborted: unsupported command or bad parameter.
        const ABRT = 0x04;
        /// Media change request.
        const MCR = 0x08;
        /// ID not found: the address is not on the disk.
        const IDNF = 0x10;
        /// Media changed.
        const MC = 0x20;
        /// Uncorrectable data error.
        const UNC = 0x40;
        /// Interface CRC error.
        const ICRC = 0x80;
    }
}

/// Device/head: DEV, selects device 1 (the slave).
pub const DEVICE_DEV1: u8 = 0x10;
/// Device/head: LBA addressing instead of CHS.
pub const DEVICE_LBA: u8 = 0x40;
/// Device/head: head number or LBA bits 27-24.
pub const DEVICE_HEAD_MASK: u8 = 0x0F;
/// Device control: interrupt disable (nIEN).
pub const CONTROL_NIEN: u8 = 0x02;
/// Device control: software reset (SRST).
pub const CONTROL_SRST: u8 = 0x04;

/// Error register value after reset or diagnostics: device 0 passed,
/// device 1 absent.
pub const DIAGNOSTIC_PASSED: u8 = 0x01;

/// The commands this model knows, decoded from the command register.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AtaCommand {
    /// RECALIBRATE (0x10-0x1F, ATA-1).
    Recalibrate,
    /// READ SECTORS with or without retries (0x20/0x21).
    ReadSectors,
    /// WRITE SECTORS with or without retries (0x30/0x31).
    WriteSectors,
    /// READ VERIFY SECTORS (0x40/0x41): check the address, move no data.
    ReadVerify,
    /// SEEK (0x70-0x7F).
    Seek,
    /// EXECUTE DEVICE DIAGNOSTIC (0x90).
    ExecuteDiagnostic,
    /// INITIALIZE DEVICE PARAMETERS (0x91): set the CHS translation.
    InitializeDeviceParameters,
    /// READ MULTIPLE (0xC4).
    ReadMultiple,
    /// WRITE MULTIPLE (0xC5).
    WriteMultiple,
    /// SET MULTIPLE MODE (0xC6).
    SetMultipleMode,
    /// CHECK POWER MODE (0xE5, ATA-1 0x98).
    CheckPowerMode,
    /// IDLE / STANDBY variants (0x94-0x97, 0xE0-0xE3): accepted, no effect.
    PowerManagement,
    /// FLUSH CACHE (0xE7).
    FlushCache,
    /// IDENTIFY DEVICE (0xEC).
    IdentifyDevice,
    /// SET FEATURES (0xEF): accepted and ignored.
    SetFeatures,
    /// Anything else, including IDENTIFY PACKET DEVICE (0xA1), PACKET,
    /// DMA and 48-bit commands: aborted.
    Unsupported(u8),
}

impl AtaCommand {
    /// Decode a command register value.
    pub fn decode(opcode: u8) -> Self {
        match opcode {
            0x10..=0x1F => AtaCommand::Recalibrate,
            0x20 | 0x21 => AtaCommand::ReadSectors,
            0x30 | 0x31 => AtaCommand::WriteSectors,
            0x40 | 0x41 => AtaCommand::ReadVerify,
            0x70..=0x7F => AtaCommand::Seek,
            0x90 => AtaCommand::ExecuteDiagnostic,
            0x91 => AtaCommand::InitializeDeviceParameters,
            0xC4 => AtaCommand::ReadMultiple,
            0xC5 => AtaCommand::WriteMultiple,
            0xC6 => AtaCommand::SetMultipleMode,
            0x98 | 0xE5 => AtaCommand::CheckPowerMode,
            0x94..=0x97 | 0x99 | 0xE0..=0xE3 => AtaCommand::PowerManagement,
            0xE7 => AtaCommand::FlushCache,
            0xEC => AtaCommand::IdentifyDevice,
            0xEF => AtaCommand::SetFeatures,
            other => AtaCommand::Unsupported(other),
        }
    }
}

/// Sector count reported by CHECK POWER MODE: active or idle.
pub const POWER_MODE_ACTIVE: u8 = 0xFF;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opcode_families_decode_to_one_command() {
        assert_eq!(AtaCommand::decode(0x10), AtaCommand::Recalibrate);
        assert_eq!(AtaCommand::decode(0x1F), AtaCommand::Recalibrate);
        assert_eq!(AtaCommand::decode(0x21), AtaCommand::ReadSectors);
        assert_eq!(AtaCommand::decode(0x7A), AtaCommand::Seek);
        assert_eq!(AtaCommand::decode(0xE0), AtaCommand::PowerManagement);
        assert_eq!(AtaCommand::decode(0xA1), AtaCommand::Unsupported(0xA1));
        assert_eq!(
            AtaCommand::decode(0x24),
            AtaCommand::Unsupported(0x24),
            "no LBA48"
        );
    }
}
