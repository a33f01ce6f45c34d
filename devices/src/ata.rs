//! One ATA (IDE) channel in PIO mode with a hard disk as device 0 (master)
//! and no device 1: the command block at offsets 0-7 (0x1F0-0x1F7 on the
//! PC's primary channel) and the control block register (0x3F6).
//!
//! Reference: ATA/ATAPI-6 (INCITS 361-2002): register descriptions (clause
//! 7), PIO data-in / data-out / non-data protocols (clause 9), and the
//! commands listed in [`crate::ata_regs::AtaCommand`]; ATA-1 for the CHS-era
//! commands Linux 0.11 and old BIOSes issue. Register and command encodings
//! are in `ata_regs.rs`, the disk's translation, multiple setting and PIO
//! data phase in `ata_drive.rs`, the IDENTIFY block in `ata_identify.rs`.
//!
//! Modelled: CHS (through the current translation, which INITIALIZE DEVICE
//! PARAMETERS sets) and LBA28 addressing; READ/WRITE SECTORS and MULTIPLE
//! with one interrupt per DRQ block (for reads when the block is ready, for
//! writes after it is stored, none before the first write block); READ
//! VERIFY, SEEK, RECALIBRATE, SET MULTIPLE MODE, IDENTIFY DEVICE, EXECUTE
//! DEVICE DIAGNOSTIC, FLUSH CACHE, CHECK POWER MODE; SET FEATURES and the
//! IDLE/STANDBY commands are accepted and do nothing; everything else
//! (IDENTIFY PACKET DEVICE, DMA, 48-bit commands) is aborted. The task file
//! is left holding the address of the last sector moved and the count of
//! sectors still to move. SRST leaves the signature (count 1, sector 1,
//! cylinder 0, device 0) and error 0x01; it keeps the translation and the
//! multiple setting. INTRQ follows ATA: set at the end of each block or
//! command, cleared by reading the status register (not alternate status)
//! or writing a command, gated by nIEN, and driven only while device 0 is
//! selected.
//!
//! Deliberate simplifications: data moves instantly (BSY is never seen
//! except while SRST is held); a write to a read-only disk is aborted at
//! once (ERR + ABRT, no data phase) rather than reporting write protect;
//! a host I/O error on read is UNC, on write or flush ABRT. With device 1
//! selected, status and alternate status read 0x00 (ATA-6: device 0 answers
//! for an absent device 1 with 00h) and commands other than EXECUTE DEVICE
//! DIAGNOSTIC are ignored. A channel with no disk at all floats: every
//! register reads all-ones. Data-port accesses move as many bytes as the
//! access is wide (8, 16 or 32 bits); reading with DRQ clear gives
//! all-ones.

use crate::ata_drive::{AtaDrive, Step};
pub use crate::ata_regs::{AtaCommand, AtaError, AtaStatus};
use crate::ata_regs::{
    CONTROL_NIEN, CONTROL_SRST, DEVICE_DEV1, DEVICE_HEAD_MASK, DEVICE_LBA, DIAGNOSTIC_PASSED,
    POWER_MODE_ACTIVE, REG_COMMAND, REG_DATA, REG_DEVICE, REG_ERROR, REG_FEATURES, REG_LBA_HIGH,
    REG_LBA_LOW, REG_LBA_MID, REG_SECTOR_COUNT, REG_STATUS,
};
use crate::block::{BlockDevice, Geometry};
use crate::bus::{AccessSize, PortDevice};
use crate::irq::IrqLine;

/// Status of an idle, ready device: DRDY | DSC.
const STATUS_READY: AtaStatus = AtaStatus::DRDY.union(AtaStatus::DSC);

/// An ATA channel with a hard disk as device 0 (see the module docs).
pub struct AtaChannel {
    master: Option<AtaDrive>,
    irq: Box<dyn IrqLine>,
    irq_level: bool,
    /// INTRQ pending in device 0.
    intrq: bool,
    features: u8,
    sector_count: u8,
    lba_low: u8,
    lba_mid: u8,
    lba_high: u8,
    device: u8,
    error: u8,
    status: AtaStatus,
    /// Device control register (nIEN, SRST).
    control: u8,
}

impl AtaChannel {
    /// A channel in its post-reset state with `master` as device 0 (or no
    /// device at all), driving `irq` (IRQ 14 on the primary channel). The
    /// default geometry is [`Geometry::hard_disk_for_sectors`].
    pub fn new(master: Option<Box<dyn BlockDevice>>, irq: Box<dyn IrqLine>) -> Self {
        let mut channel = AtaChannel {
            master: master.map(AtaDrive::new),
            irq,
            irq_level: false,
            intrq: false,
            features: 0,
            sector_count: 0,
            lba_low: 0,
            lba_mid: 0,
            lba_high: 0,
            device: 0,
            error: DIAGNOSTIC_PASSED,
            status: STATUS_READY,
            control: 0,
        };
        channel.set_signature();
        channel
    }

    /// The same channel with device 0's default (and current) geometry set
    /// to `geometry`, for a machine whose BIOS tables name another one.
    pub fn with_default_geometry(mut self, geometry: Geometry) -> Self {
        if let Some(master) = &mut self.master {
            master.set_default_geometry(geometry);
        }
        self
    }

    /// Device 0's default geometry (what the BIOS puts in the INT 41h table).
    pub fn master_geometry(&self) -> Option<Geometry> {
        self.master.as_ref().map(AtaDrive::default_geometry)
    }

    /// Device 0's disk (to flush it, or for tests to inspect it).
    pub fn master_disk_mut(&mut self) -> Option<&mut (dyn BlockDevice + 'static)> {
        self.master.as_mut().map(AtaDrive::disk_mut)
    }

    /// Read the control block register (offset 0): alternate status, which
    /// leaves a pending interrupt alone.
    pub fn read_control(&mut self) -> u8 {
        if self.master.is_none() {
            return 0xFF;
        }
        self.visible_status()
    }

    /// Write the device control register: nIEN and SRST.
    pub fn write_control(&mut self, value: u8) {
        let Some(master) = &mut self.master else {
            return;
        };
        let was_reset = self.control & CONTROL_SRST != 0;
        self.control = value;
        let reset = value & CONTROL_SRST != 0;
        if reset && !was_reset {
            master.cancel();
            self.intrq = false;
            self.status = AtaStatus::BSY;
        } else if !reset && was_reset {
            self.set_signature();
            self.error = DIAGNOSTIC_PASSED;
            self.status = STATUS_READY;
        }
        self.update_irq();
    }

    fn slave_selected(&self) -> bool {
        self.device & DEVICE_DEV1 != 0
    }

    /// Status as the selected device shows it.
    fn visible_status(&self) -> u8 {
        if self.slave_selected() {
            0
        } else {
            self.status.bits()
        }
    }

    /// Diagnostic / reset signature of an ATA (non-packet) device.
    fn set_signature(&mut self) {
        self.sector_count = 1;
        self.lba_low = 1;
        self.lba_mid = 0;
        self.lba_high = 0;
        self.device = 0;
    }

    fn update_irq(&mut self) {
        let level = self.intrq && self.control & CONTROL_NIEN == 0 && !self.slave_selected();
        if level != self.irq_level {
            self.irq_level = level;
            self.irq.set_level(level);
        }
    }

    /// End the command successfully, with an interrupt.
    fn complete(&mut self) {
        self.status = STATUS_READY;
        self.intrq = true;
    }

    /// End the command with `error`, with an interrupt.
    fn fail(&mut self, error: AtaError) {
        if let Some(master) = &mut self.master {
            master.cancel();
        }
        self.error = error.bits();
        self.status = STATUS_READY | AtaStatus::ERR;
        self.intrq = true;
    }

    /// Show a data-phase step in the task file, status and INTRQ.
    fn apply(&mut self, step: Step) {
        match step {
            Ok(progress) => {
                if let Some((lba, left)) = progress.position {
                    self.set_address(lba);
                    self.sector_count = left as u8;
                }
                self.status = STATUS_READY;
                self.status.set(AtaStatus::DRQ, progress.drq);
                self.intrq |= progress.interrupt;
            }
            Err(failure) => {
                self.set_address(failure.lba);
                self.fail(failure.error);
            }
        }
    }

    fn lba_mode(&self) -> bool {
        self.device & DEVICE_LBA != 0
    }

    /// Sectors named by the sector count register (0 means 256).
    fn count(&self) -> u32 {
        if self.sector_count == 0 {
            256
        } else {
            u32::from(self.sector_count)
        }
    }

    /// The LBA the task file names, `None` for a CHS address outside the
    /// current translation.
    fn start_lba(&self) -> Option<u64> {
        let head = self.device & DEVICE_HEAD_MASK;
        if self.lba_mode() {
            let bytes = [self.lba_low, self.lba_mid, self.lba_high, head];
            return Some(u64::from(u32::from_le_bytes(bytes)));
        }
        let cylinder = u32::from(u16::from_le_bytes([self.lba_mid, self.lba_high]));
        let current = self.master.as_ref()?.translation()?;
        current.chs_to_lba(cylinder, u32::from(head), u32::from(self.lba_low))
    }

    /// Point the task file at `lba`, in the addressing mode of the command.
    fn set_address(&mut self, lba: u64) {
        if self.lba_mode() {
            let [low, mid, high, top] = (lba as u32).to_le_bytes();
            self.lba_low = low;
            self.lba_mid = mid;
            self.lba_high = high;
            self.device = self.device & !DEVICE_HEAD_MASK | top & DEVICE_HEAD_MASK;
            return;
        }
        let chs = self
            .master
            .as_ref()
            .and_then(|m| m.translation()?.lba_to_chs(lba));
        if let Some((c, h, s)) = chs {
            let [low, high] = (c as u16).to_le_bytes();
            self.lba_mid = low;
            self.lba_high = high;
            self.device = self.device & !DEVICE_HEAD_MASK | h as u8 & DEVICE_HEAD_MASK;
            self.lba_low = s as u8;
        }
    }

    fn execute(&mut self, opcode: u8) {
        let Some(master) = &mut self.master else {
            return;
        };
        master.cancel();
        let multiple = u32::from(master.multiple());
        self.intrq = false; // writing the command register clears INTRQ
        self.error = 0;
        self.status = STATUS_READY;
        match AtaCommand::decode(opcode) {
            AtaCommand::ReadSectors => self.transfer(true, 1),
            AtaCommand::WriteSectors => self.transfer(false, 1),
            AtaCommand::ReadMultiple | AtaCommand::WriteMultiple if multiple == 0 => {
                self.fail(AtaError::ABRT)
            }
            AtaCommand::ReadMultiple => self.transfer(true, multiple),
            AtaCommand::WriteMultiple => self.transfer(false, multiple),
            AtaCommand::ReadVerify => self.read_verify(),
            AtaCommand::Seek => match self.start_lba() {
                Some(lba) if lba < master_sectors(&self.master) => self.complete(),
                _ => self.fail(AtaError::IDNF),
            },
            AtaCommand::Recalibrate | AtaCommand::PowerManagement | AtaCommand::SetFeatures => {
                self.complete()
            }
            AtaCommand::ExecuteDiagnostic => {
                self.set_signature();
                self.error = DIAGNOSTIC_PASSED;
                self.complete();
            }
            AtaCommand::InitializeDeviceParameters => {
                let heads = u32::from(self.device & DEVICE_HEAD_MASK) + 1;
                master.set_translation(heads, u32::from(self.sector_count));
                self.complete();
            }
            AtaCommand::SetMultipleMode => {
                if master.set_multiple(self.sector_count) {
                    self.complete();
                } else {
                    self.fail(AtaError::ABRT);
                }
            }
            AtaCommand::CheckPowerMode => {
                self.sector_count = POWER_MODE_ACTIVE;
                self.complete();
            }
            AtaCommand::FlushCache => match master.flush() {
                Ok(()) => self.complete(),
                Err(_) => self.fail(AtaError::ABRT),
            },
            AtaCommand::IdentifyDevice => {
                let step = master.identify();
                self.apply(step);
            }
            AtaCommand::Unsupported(_) => self.fail(AtaError::ABRT),
        }
    }

    /// READ/WRITE SECTORS or MULTIPLE in blocks of `block` sectors.
    fn transfer(&mut self, read: bool, block: u32) {
        let (Some(lba), count) = (self.start_lba(), self.count()) else {
            return self.fail(AtaError::IDNF);
        };
        let Some(master) = &mut self.master else {
            return;
        };
        let step = if read {
            master.begin_read(lba, count, block)
        } else {
            master.begin_write(lba, count, block)
        };
        self.apply(step);
    }

    fn read_verify(&mut self) {
        let Some(lba) = self.start_lba() else {
            return self.fail(AtaError::IDNF);
        };
        let end = lba + u64::from(self.count());
        let sectors = master_sectors(&self.master);
        if end > sectors {
            self.set_address(lba.max(sectors));
            return self.fail(AtaError::IDNF);
        }
        self.set_address(end - 1);
        self.sector_count = 0;
        self.complete();
    }

    fn read_register(&mut self, offset: u16) -> u8 {
        match offset {
            REG_ERROR => self.error,
            REG_SECTOR_COUNT => self.sector_count,
            REG_LBA_LOW => self.lba_low,
            REG_LBA_MID => self.lba_mid,
            REG_LBA_HIGH => self.lba_high,
            REG_DEVICE => self.device,
            REG_STATUS => {
                if !self.slave_selected() {
                    self.intrq = false;
                }
                self.visible_status()
            }
            _ => 0xFF,
        }
    }

    fn write_register(&mut self, offset: u16, value: u8) {
        if self.status.contains(AtaStatus::BSY) {
            return; // the device owns the command block while busy
        }
        match offset {
            REG_FEATURES => self.features = value,
            REG_SECTOR_COUNT => self.sector_count = value,
            REG_LBA_LOW => self.lba_low = value,
            REG_LBA_MID => self.lba_mid = value,
            REG_LBA_HIGH => self.lba_high = value,
            REG_DEVICE => self.device = value,
            REG_COMMAND if !self.slave_selected() => self.execute(value),
            REG_COMMAND if AtaCommand::decode(value) == AtaCommand::ExecuteDiagnostic => {
                // Device 0 runs diagnostics for both devices.
                self.execute(value);
            }
            _ => {}
        }
    }

    /// Data-register access: `size` bytes of the data phase.
    fn data(&mut self, size: AccessSize, write: Option<u32>) -> u32 {
        let bytes = size.bytes() as usize;
        let slave = self.slave_selected();
        let master = match &mut self.master {
            Some(master) if !slave => master,
            _ => return size.mask(),
        };
        let (value, step) = match write {
            Some(value) => (0, master.write_data(bytes, value)),
            None => master.read_data(bytes),
        };
        if let Some(step) = step {
            self.apply(step);
        }
        value & size.mask()
    }
}

/// Sectors on the disk of `master` (0 without one).
fn master_sectors(master: &Option<AtaDrive>) -> u64 {
    master.as_ref().map_or(0, AtaDrive::sectors)
}

impl PortDevice for AtaChannel {
    /// The command block; the data register takes 8-, 16- and 32-bit
    /// accesses, the others bytes only (wider reads give all-ones).
    fn read(&mut self, offset: u16, size: AccessSize) -> u32 {
        if self.master.is_none() {
            return size.mask();
        }
        let value = match (offset, size) {
            (REG_DATA, _) => self.data(size, None),
            (_, AccessSize::Byte) => u32::from(self.read_register(offset)),
            _ => size.mask(),
        };
        self.update_irq();
        value
    }

    /// The command block; the data register takes 8-, 16- and 32-bit
    /// accesses, the others bytes only.
    fn write(&mut self, offset: u16, size: AccessSize, value: u32) {
        if self.master.is_none() {
            return;
        }
        match (offset, size) {
            (REG_DATA, _) => {
                self.data(size, Some(value));
            }
            (_, AccessSize::Byte) => self.write_register(offset, value as u8),
            _ => {}
        }
        self.update_irq();
    }
}

/// Channel protocol sequences: reset, interrupts, addressing, errors.
#[cfg(test)]
mod tests {
    use super::*;
    use crate::ata_testing::{
        ack, channel_with, first_u32, inb, insw_sector, outb, pattern_disk, task_file_chs,
        task_file_lba,
    };
    use crate::irq::TestLine;

    #[test]
    fn power_on_state_is_ready_with_signature() {
        let (mut ch, line) = channel_with(pattern_disk(16));
        assert_eq!(ch.read_control(), 0x50);
        assert_eq!(inb(&mut ch, REG_ERROR), 0x01);
        assert_eq!(inb(&mut ch, REG_SECTOR_COUNT), 1);
        assert_eq!(inb(&mut ch, REG_LBA_LOW), 1);
        assert!(!line.level());
        assert_eq!(ch.master_geometry(), Some(Geometry::new(1, 16, 63)));
    }

    #[test]
    fn nien_suppresses_the_irq_but_not_the_status() {
        let (mut ch, line) = channel_with(pattern_disk(8));
        ch.write_control(CONTROL_NIEN);
        task_file_lba(&mut ch, 1, 1);
        outb(&mut ch, REG_COMMAND, 0x20);
        assert!(!line.level());
        assert_eq!(ch.read_control(), 0x58);
        ch.write_control(0);
        assert!(line.level(), "the pending interrupt shows once nIEN clears");
    }

    #[test]
    fn alternate_status_leaves_the_interrupt_pending() {
        let (mut ch, line) = channel_with(pattern_disk(8));
        outb(&mut ch, REG_COMMAND, 0x10); // RECALIBRATE
        assert_eq!(ch.read_control(), 0x50);
        assert!(line.level());
        assert_eq!(ack(&mut ch), 0x50);
        assert!(!line.level());
    }

    #[test]
    fn a_new_command_clears_a_pending_interrupt() {
        let (mut ch, line) = channel_with(pattern_disk(8));
        outb(&mut ch, REG_COMMAND, 0x10);
        assert!(line.level());
        task_file_lba(&mut ch, 0, 1);
        outb(&mut ch, REG_COMMAND, 0x30); // WRITE SECTORS: DRQ, no IRQ yet
        assert!(!line.level());
    }

    #[test]
    fn out_of_range_addresses_are_id_not_found() {
        let (mut ch, line) = channel_with(pattern_disk(8));
        task_file_lba(&mut ch, 8, 1);
        outb(&mut ch, REG_COMMAND, 0x20);
        assert!(line.level());
        assert_eq!(ack(&mut ch), 0x51);
        assert_eq!(inb(&mut ch, REG_ERROR), 0x10);
        task_file_chs(&mut ch, 0, 0, 0, 1); // sector 0 does not exist
        outb(&mut ch, REG_COMMAND, 0x20);
        assert_eq!(ack(&mut ch), 0x51);
        assert_eq!(inb(&mut ch, REG_ERROR), 0x10);
    }

    #[test]
    fn unsupported_commands_and_identify_packet_abort() {
        let (mut ch, line) = channel_with(pattern_disk(8));
        for opcode in [0xA1, 0xA0, 0xC8, 0x24, 0x00] {
            outb(&mut ch, REG_COMMAND, opcode);
            assert!(line.level(), "opcode {opcode:#x}");
            assert_eq!(ack(&mut ch), 0x51, "opcode {opcode:#x}");
            assert_eq!(inb(&mut ch, REG_ERROR), 0x04);
        }
    }

    #[test]
    fn srst_leaves_the_ata_signature() {
        let (mut ch, line) = channel_with(pattern_disk(8));
        task_file_lba(&mut ch, 0x0123_4567, 9);
        outb(&mut ch, REG_COMMAND, 0x20); // fails: IDNF, IRQ pending
        ch.write_control(CONTROL_SRST | CONTROL_NIEN);
        assert_eq!(ch.read_control(), 0x80, "BSY while SRST is held");
        outb(&mut ch, REG_SECTOR_COUNT, 0x55);
        assert!(!line.level());
        ch.write_control(CONTROL_NIEN);
        assert_eq!(ch.read_control(), 0x50);
        assert_eq!(inb(&mut ch, REG_ERROR), 0x01);
        let signature: Vec<u8> = (2..=6).map(|r| inb(&mut ch, r)).collect();
        assert_eq!(signature, [1, 1, 0, 0, 0]);
        assert!(!line.level(), "no interrupt after a soft reset");
    }

    #[test]
    fn initialize_device_parameters_changes_the_chs_translation() {
        let (mut ch, line) = channel_with(pattern_disk(200));
        // Linux 0.11 hd_out(WIN_SPECIFY): count = sectors, head = heads - 1.
        outb(&mut ch, REG_SECTOR_COUNT, 17);
        outb(&mut ch, REG_DEVICE, 0xA0 | 3);
        outb(&mut ch, REG_COMMAND, 0x91);
        assert!(line.level());
        assert_eq!(ack(&mut ch), 0x50);
        task_file_chs(&mut ch, 1, 1, 2, 1);
        outb(&mut ch, REG_COMMAND, 0x20);
        assert_eq!(first_u32(&insw_sector(&mut ch)), (4 + 1) * 17 + 1);
        outb(&mut ch, REG_COMMAND, 0xEC);
        let id = insw_sector(&mut ch);
        assert_eq!(
            &id[108..114],
            &[2, 0, 4, 0, 17, 0],
            "words 54-56: 200 / 68 = 2 cyl"
        );
        assert_eq!(&id[2..4], &[1, 0], "default geometry unchanged");
    }

    #[test]
    fn zero_sectors_per_track_invalidates_chs_but_not_lba() {
        let (mut ch, _) = channel_with(pattern_disk(64));
        outb(&mut ch, REG_SECTOR_COUNT, 0);
        outb(&mut ch, REG_COMMAND, 0x91);
        ack(&mut ch);
        task_file_chs(&mut ch, 0, 0, 1, 1);
        outb(&mut ch, REG_COMMAND, 0x20);
        assert_eq!(ack(&mut ch), 0x51);
        assert_eq!(inb(&mut ch, REG_ERROR), 0x10);
        task_file_lba(&mut ch, 3, 1);
        outb(&mut ch, REG_COMMAND, 0x20);
        assert_eq!(first_u32(&insw_sector(&mut ch)), 3);
    }

    #[test]
    fn read_verify_and_seek_check_the_address_only() {
        let (mut ch, line) = channel_with(pattern_disk(16));
        task_file_lba(&mut ch, 10, 6);
        outb(&mut ch, REG_COMMAND, 0x40);
        assert_eq!(ack(&mut ch), 0x50);
        assert_eq!(inb(&mut ch, REG_LBA_LOW), 15);
        task_file_lba(&mut ch, 10, 7);
        outb(&mut ch, REG_COMMAND, 0x41);
        assert_eq!(ack(&mut ch), 0x51);
        assert_eq!(inb(&mut ch, REG_LBA_LOW), 16);
        task_file_lba(&mut ch, 15, 1);
        outb(&mut ch, REG_COMMAND, 0x70);
        assert_eq!(ack(&mut ch), 0x50);
        task_file_lba(&mut ch, 16, 1);
        outb(&mut ch, REG_COMMAND, 0x7F);
        assert_eq!(ack(&mut ch), 0x51);
        assert_eq!(line.rising_edges(), 4);
    }

    #[test]
    fn absent_slave_reads_status_zero_and_ignores_commands() {
        let (mut ch, line) = channel_with(pattern_disk(16));
        outb(&mut ch, REG_DEVICE, 0xB0);
        assert_eq!(ack(&mut ch), 0x00);
        assert_eq!(ch.read_control(), 0x00);
        outb(&mut ch, REG_COMMAND, 0xEC);
        assert!(!line.level());
        outb(&mut ch, REG_DEVICE, 0xA0);
        assert_eq!(ack(&mut ch), 0x50, "device 0 did nothing");
        outb(&mut ch, REG_DEVICE, 0xB0);
        outb(&mut ch, REG_COMMAND, 0x90); // EXECUTE DEVICE DIAGNOSTIC
        assert_eq!(inb(&mut ch, REG_DEVICE), 0, "diagnostic selects device 0");
        assert!(line.level());
        assert_eq!(inb(&mut ch, REG_ERROR), 0x01);
    }

    #[test]
    fn power_and_feature_commands_are_accepted() {
        let (mut ch, line) = channel_with(pattern_disk(16));
        for opcode in [0xEF, 0xE0, 0xE1, 0xE3, 0x94, 0x97, 0xE7] {
            outb(&mut ch, REG_COMMAND, opcode);
            assert_eq!(ack(&mut ch), 0x50, "opcode {opcode:#x}");
        }
        outb(&mut ch, REG_COMMAND, 0xE5); // CHECK POWER MODE
        assert_eq!(ack(&mut ch), 0x50);
        assert_eq!(inb(&mut ch, REG_SECTOR_COUNT), 0xFF);
        assert_eq!(line.rising_edges(), 8);
    }

    #[test]
    fn empty_channel_floats() {
        let line = TestLine::new();
        let mut ch = AtaChannel::new(None, line.boxed());
        outb(&mut ch, REG_COMMAND, 0xEC);
        assert_eq!(inb(&mut ch, REG_STATUS), 0xFF);
        assert_eq!(ch.read_control(), 0xFF);
        assert_eq!(
            PortDevice::read(&mut ch, REG_DATA, AccessSize::Word),
            0xFFFF
        );
        assert!(!line.level());
        assert_eq!(ch.master_geometry(), None);
    }

    #[test]
    fn default_geometry_can_be_chosen_by_the_machine() {
        let line = TestLine::new();
        let disk: Box<dyn BlockDevice> = Box::new(pattern_disk(1024));
        let mut ch = AtaChannel::new(Some(disk), line.boxed())
            .with_default_geometry(Geometry::new(16, 4, 16));
        assert_eq!(ch.master_geometry(), Some(Geometry::new(16, 4, 16)));
        task_file_chs(&mut ch, 1, 0, 1, 1);
        outb(&mut ch, REG_COMMAND, 0x20);
        assert_eq!(first_u32(&insw_sector(&mut ch)), 64);
    }
}
