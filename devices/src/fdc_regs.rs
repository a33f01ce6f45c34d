//! Register offsets, register bits, status bytes ST0-ST3 and command
//! opcodes of the Intel 82077AA floppy disk controller in PC-AT mode.
//!
//! Reference: Intel 82077AA CHMOS Single-Chip Floppy Disk Controller
//! datasheet (order 290166): "Register Description" (DOR, TDR, DSR, MSR,
//! FIFO, DIR, CCR), "Status Register Encoding" (ST0-ST3) and the command
//! set summary. The behaviour is in [`crate::fdc`].

use bitflags::bitflags;

/// Status register A (PS/2 mode only; reads all-ones in AT mode).
pub const REG_SRA: u16 = 0;
/// Status register B (PS/2 mode only; reads all-ones in AT mode).
pub const REG_SRB: u16 = 1;
/// Digital output register: drive select, nRESET, DMA gate, motors.
pub const REG_DOR: u16 = 2;
/// Tape drive register.
pub const REG_TDR: u16 = 3;
/// Main status register (read).
pub const REG_MSR: u16 = 4;
/// Data-rate select register (write).
pub const REG_DSR: u16 = 4;
/// Data FIFO: command, result and PIO data bytes.
pub const REG_FIFO: u16 = 5;
/// Digital input register (read): disk change in bit 7.
pub const REG_DIR: u16 = 7;
/// Configuration control register (write): data rate.
pub const REG_CCR: u16 = 7;

/// DOR: drive select (bits 1-0).
pub const DOR_DRIVE_SELECT: u8 = 0x03;
/// DOR: controller out of reset when set (active-low RESET).
pub const DOR_NRESET: u8 = 0x04;
/// DOR: DMA gate; in AT mode it also enables the INT and DRQ outputs.
pub const DOR_DMA_GATE: u8 = 0x08;
/// DOR as a PC BIOS leaves it: out of reset, DMA and INT enabled, drive 0.
pub const DOR_BIOS_DEFAULT: u8 = DOR_NRESET | DOR_DMA_GATE;
/// TDR: tape drive select (bits 1-0; the others are not implemented).
pub const TDR_TAPE_SELECT: u8 = 0x03;
/// DSR: software reset (self-clearing).
pub const DSR_SW_RESET: u8 = 0x80;
/// DSR / CCR: data rate select (bits 1-0).
pub const RATE_SELECT: u8 = 0x03;
/// DIR: disk changed.
pub const DIR_DISK_CHANGE: u8 = 0x80;
/// DIR bits 6-0 are not driven in AT mode: the bus floats high.
pub const DIR_UNDRIVEN: u8 = 0x7F;

bitflags! {
    /// Main status register.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct Msr: u8 {
        /// Drive 0 is seeking.
        const DRIVE0_BUSY = 0x01;
        /// Drive 1 is seeking.
        const DRIVE1_BUSY = 0x02;
        /// Drive 2 is seeking.
        const DRIVE2_BUSY = 0x04;
        /// Drive 3 is seeking.
        const DRIVE3_BUSY = 0x08;
        /// Command in progress (command, execution or result phase).
        const CB = 0x10;
        /// Execution phase in non-DMA mode.
        const NDMA = 0x20;
        /// Data direction: FIFO to host when set.
        const DIO = 0x40;
        /// Request for master: the FIFO is ready for the host.
        const RQM = 0x80;
    }
}

/// ST0 interrupt code: abnormal termination.
pub const ST0_ABNORMAL: u8 = 0x40;
/// ST0 interrupt code: invalid command.
pub const ST0_INVALID: u8 = 0x80;
/// ST0 interrupt code: ready line changed during polling (after reset).
pub const ST0_READY_CHANGED: u8 = 0xC0;
/// ST0: seek end (SEEK, RECALIBRATE, implied seek).
pub const ST0_SEEK_END: u8 = 0x20;
/// ST0: equipment check (track 0 never found by RECALIBRATE).
pub const ST0_EQUIPMENT_CHECK: u8 = 0x10;
/// ST0: drive not ready (used here for "no media").
pub const ST0_NOT_READY: u8 = 0x08;
/// ST0 / ST3: head address (bit 2).
pub const HEAD_SHIFT: u8 = 2;
/// ST1: end of cylinder (transfer ran past EOT without TC).
pub const ST1_END_OF_CYLINDER: u8 = 0x80;
/// ST1: data error (CRC).
pub const ST1_DATA_ERROR: u8 = 0x20;
/// ST1: no data (sector ID not found).
pub const ST1_NO_DATA: u8 = 0x04;
/// ST1: not writable (write protect).
pub const ST1_NOT_WRITABLE: u8 = 0x02;
/// ST1: missing address mark (no ID found on the track at all).
pub const ST1_MISSING_ADDRESS_MARK: u8 = 0x01;
/// ST2: data error in the data field.
pub const ST2_DATA_ERROR: u8 = 0x20;
/// ST2: wrong cylinder (ID cylinder differs from the command's).
pub const ST2_WRONG_CYLINDER: u8 = 0x10;
/// ST2: bad cylinder (ID cylinder 0xFF).
pub const ST2_BAD_CYLINDER: u8 = 0x02;
/// ST3: write protected.
pub const ST3_WRITE_PROTECT: u8 = 0x40;
/// ST3 bits the 82077AA always reports set: ready (5) and two-sided (3).
pub const ST3_FIXED: u8 = 0x28;
/// ST3: head on track 0.
pub const ST3_TRACK0: u8 = 0x10;

/// VERSION result of an 82077AA (enhanced controller).
pub const VERSION_82077: u8 = 0x90;
/// LOCK result bit.
pub const LOCK_BIT: u8 = 0x10;
/// CONFIGURE byte 2: implied seek enable.
pub const CONFIG_EIS: u8 = 0x40;
/// CONFIGURE byte 2 after reset: FIFO disabled, polling on, threshold 1.
pub const CONFIG_DEFAULT: u8 = 0x20;
/// N of a 512-byte sector (128 << N).
pub const SECTOR_SIZE_CODE: u8 = 2;

/// Data rate (DSR/CCR bits 1-0) of the MFM formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DataRate {
    /// 00: 500 kbit/s (1.2M, 1.44M).
    Kbps500,
    /// 01: 300 kbit/s (360K in a 1.2M drive).
    Kbps300,
    /// 10: 250 kbit/s (360K, 720K); the hardware-reset value.
    Kbps250,
    /// 11: 1 Mbit/s (2.88M).
    Mbps1,
}

impl DataRate {
    /// The rate selected by DSR/CCR bits 1-0.
    pub fn from_bits(bits: u8) -> Self {
        match bits & RATE_SELECT {
            0 => DataRate::Kbps500,
            1 => DataRate::Kbps300,
            2 => DataRate::Kbps250,
            _ => DataRate::Mbps1,
        }
    }
}

/// Command byte: multi-track.
const FLAG_MT: u8 = 0x80;
/// Command byte: MFM (double density) encoding.
const FLAG_MFM: u8 = 0x40;
/// Command byte: skip deleted-data sectors.
const FLAG_SK: u8 = 0x20;

/// A command as its first byte names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FdcCommand {
    /// READ DATA (x6): MT and MFM flags; SK is accepted and has nothing
    /// to skip (images hold no deleted-data marks).
    ReadData {
        /// Continue from head 0 to head 1 at EOT.
        mt: bool,
        /// MFM encoding (every format here is MFM).
        mfm: bool,
    },
    /// WRITE DATA (x5).
    WriteData {
        /// Continue from head 0 to head 1 at EOT.
        mt: bool,
        /// MFM encoding.
        mfm: bool,
    },
    /// FORMAT TRACK (x D).
    FormatTrack,
    /// READ ID (x A).
    ReadId {
        /// MFM encoding.
        mfm: bool,
    },
    /// SPECIFY (03): step rate, head load/unload, non-DMA.
    Specify,
    /// SENSE DRIVE STATUS (04): ST3.
    SenseDriveStatus,
    /// RECALIBRATE (07).
    Recalibrate,
    /// SENSE INTERRUPT STATUS (08): ST0 and PCN.
    SenseInterruptStatus,
    /// SEEK (0F).
    Seek,
    /// RELATIVE SEEK (8F out / CF in).
    RelativeSeek {
        /// Step towards higher cylinders.
        inward: bool,
    },
    /// VERSION (10).
    Version,
    /// PERPENDICULAR MODE (12).
    PerpendicularMode,
    /// CONFIGURE (13).
    Configure,
    /// LOCK (94) / UNLOCK (14).
    Lock {
        /// Lock the FIFO settings across software resets.
        lock: bool,
    },
    /// DUMPREG (0E).
    DumpReg,
    /// Anything else (READ TRACK, VERIFY, SCAN, deleted-data commands,
    /// PART ID of the 82078, ...): result ST0 = 0x80.
    Invalid,
}

impl FdcCommand {
    /// Decode a command's first byte.
    pub fn decode(byte: u8) -> Self {
        let mt = byte & FLAG_MT != 0;
        let mfm = byte & FLAG_MFM != 0;
        match byte {
            _ if byte & 0x1F == 0x06 => FdcCommand::ReadData { mt, mfm },
            _ if byte & (0x1F | FLAG_SK) == 0x05 => FdcCommand::WriteData { mt, mfm },
            _ if byte & !FLAG_MFM == 0x0D => FdcCommand::FormatTrack,
            _ if byte & !FLAG_MFM == 0x0A => FdcCommand::ReadId { mfm },
            0x03 => FdcCommand::Specify,
            0x04 => FdcCommand::SenseDriveStatus,
            0x07 => FdcCommand::Recalibrate,
            0x08 => FdcCommand::SenseInterruptStatus,
            0x0F => FdcCommand::Seek,
            0x8F | 0xCF => FdcCommand::RelativeSeek { inward: mfm },
            0x10 => FdcCommand::Version,
            0x12 => FdcCommand::PerpendicularMode,
            0x13 => FdcCommand::Configure,
            0x14 | 0x94 => FdcCommand::Lock { lock: mt },
            0x0E => FdcCommand::DumpReg,
            _ => FdcCommand::Invalid,
        }
    }

    /// Bytes of the command phase, the first byte included.
    pub fn length(self) -> usize {
        match self {
            FdcCommand::ReadData { .. } | FdcCommand::WriteData { .. } => 9,
            FdcCommand::FormatTrack => 6,
            FdcCommand::Configure => 4,
            FdcCommand::Specify | FdcCommand::Seek | FdcCommand::RelativeSeek { .. } => 3,
            FdcCommand::ReadId { .. }
            | FdcCommand::SenseDriveStatus
            | FdcCommand::Recalibrate
            | FdcCommand::PerpendicularMode => 2,
            FdcCommand::SenseInterruptStatus
            | FdcCommand::Version
            | FdcCommand::Lock { .. }
            | FdcCommand::DumpReg
            | FdcCommand::Invalid => 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_and_write_opcodes_carry_their_flags() {
        assert_eq!(
            FdcCommand::decode(0xE6),
            FdcCommand::ReadData {
                mt: true,
                mfm: true
            }
        );
        assert_eq!(
            FdcCommand::decode(0x66),
            FdcCommand::ReadData {
                mt: false,
                mfm: true
            }
        );
        assert_eq!(
            FdcCommand::decode(0x46),
            FdcCommand::ReadData {
                mt: false,
                mfm: true
            }
        );
        assert_eq!(
            FdcCommand::decode(0x06),
            FdcCommand::ReadData {
                mt: false,
                mfm: false
            }
        );
        assert_eq!(
            FdcCommand::decode(0xC5),
            FdcCommand::WriteData {
                mt: true,
                mfm: true
            }
        );
        assert_eq!(
            FdcCommand::decode(0x45),
            FdcCommand::WriteData {
                mt: false,
                mfm: true
            }
        );
        assert_eq!(
            FdcCommand::decode(0x65),
            FdcCommand::Invalid,
            "no SK on writes"
        );
        assert_eq!(FdcCommand::decode(0x4D), FdcCommand::FormatTrack);
        assert_eq!(FdcCommand::decode(0x4A), FdcCommand::ReadId { mfm: true });
    }

    #[test]
    fn housekeeping_opcodes_and_lengths() {
        assert_eq!(FdcCommand::decode(0x94), FdcCommand::Lock { lock: true });
        assert_eq!(FdcCommand::decode(0x14), FdcCommand::Lock { lock: false });
        assert_eq!(
            FdcCommand::decode(0xCF),
            FdcCommand::RelativeSeek { inward: true }
        );
        assert_eq!(
            FdcCommand::decode(0x18),
            FdcCommand::Invalid,
            "82078 PART ID"
        );
        assert_eq!(
            FdcCommand::decode(0x0C),
            FdcCommand::Invalid,
            "READ DELETED DATA"
        );
        assert_eq!(FdcCommand::decode(0xE6).length(), 9);
        assert_eq!(FdcCommand::decode(0x0F).length(), 3);
        assert_eq!(FdcCommand::decode(0x13).length(), 4);
        assert_eq!(FdcCommand::decode(0x4D).length(), 6);
    }

    #[test]
    fn rate_bits_name_the_rates() {
        assert_eq!(DataRate::from_bits(0), DataRate::Kbps500);
        assert_eq!(DataRate::from_bits(2), DataRate::Kbps250);
        assert_eq!(DataRate::from_bits(0xFF), DataRate::Mbps1);
    }
}
