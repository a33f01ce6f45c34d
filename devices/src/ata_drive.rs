//! The hard disk behind an ATA interface: its geometry, the CHS
//! translation and multiple-sector setting the host chooses, and the PIO
//! data phase (the sector buffer behind the data register).
//!
//! Reference: ATA/ATAPI-6 clause 9.5 (PIO data-in: one DRQ block per
//! interrupt, the interrupt when the block is ready) and 9.6 (PIO
//! data-out: no interrupt before the first block, one after each block is
//! stored). The channel ([`crate::ata`]) owns the task file, status and
//! INTRQ; each data-phase step here returns a [`Progress`] (or a
//! [`Failure`]) that tells it what to show.

use crate::ata_identify::{identify_block, IdentifyParams, MAX_MULTIPLE};
use crate::ata_regs::AtaError;
use crate::block::{BlockDevice, BlockError, Geometry, SECTOR_SIZE};

/// Most cylinders a CHS translation can address (16-bit cylinder registers).
const MAX_CHS_CYLINDERS: u64 = 65_535;

/// What a data-phase step leaves for the host to see.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Progress {
    /// The task file should name this LBA (the last sector moved) and
    /// this many sectors still to move.
    pub position: Option<(u64, u32)>,
    /// A block waits on the data port (DRQ).
    pub drq: bool,
    /// The device interrupts.
    pub interrupt: bool,
}

/// A command that failed at sector `lba` with `error`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Failure {
    /// The sector the task file should name.
    pub lba: u64,
    /// The error register bits.
    pub error: AtaError,
}

/// The outcome of a data-phase step.
pub type Step = Result<Progress, Failure>;

/// Direction of a PIO data phase.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Direction {
    /// Device to host (reads, IDENTIFY).
    In,
    /// Host to device (writes).
    Out,
}

/// A PIO data phase in progress.
#[derive(Clone, Copy, Debug)]
struct PioTransfer {
    direction: Direction,
    /// LBA of the first sector of the current block.
    lba: u64,
    /// Sectors of the command not yet done, the current block included.
    remaining: u32,
    /// Sectors per DRQ block.
    block: u32,
    /// Whether the sectors are on the disk (false: the IDENTIFY block).
    on_disk: bool,
}

impl PioTransfer {
    fn block_sectors(&self) -> u32 {
        self.block.min(self.remaining)
    }
}

/// An ATA hard disk: image, geometry, settings and data phase.
pub struct AtaDrive {
    disk: Box<dyn BlockDevice>,
    /// Default geometry (IDENTIFY words 1/3/6).
    default: Geometry,
    /// Current CHS translation; `None` after an INITIALIZE DEVICE
    /// PARAMETERS with 0 sectors per track, when CHS commands fail.
    current: Option<Geometry>,
    /// READ/WRITE MULTIPLE block size; 0 = multiple mode disabled.
    multiple: u8,
    transfer: Option<PioTransfer>,
    buffer: Vec<u8>,
    pos: usize,
}

impl AtaDrive {
    /// A drive for `disk` with the usual 16-head, 63-sector translation.
    pub fn new(disk: Box<dyn BlockDevice>) -> Self {
        let default = Geometry::hard_disk_for_sectors(disk.sector_count());
        AtaDrive {
            disk,
            default,
            current: Some(default),
            multiple: 0,
            transfer: None,
            buffer: Vec::new(),
            pos: 0,
        }
    }

    /// The image.
    pub fn disk_mut(&mut self) -> &mut (dyn BlockDevice + 'static) {
        &mut *self.disk
    }

    /// Sectors on the disk.
    pub fn sectors(&self) -> u64 {
        self.disk.sector_count()
    }

    /// Default geometry.
    pub fn default_geometry(&self) -> Geometry {
        self.default
    }

    /// Set the default geometry, which also becomes the current one.
    pub fn set_default_geometry(&mut self, geometry: Geometry) {
        self.default = geometry;
        self.current = Some(geometry);
    }

    /// Current CHS translation.
    pub fn translation(&self) -> Option<Geometry> {
        self.current
    }

    /// INITIALIZE DEVICE PARAMETERS: translate CHS with `heads` and
    /// `sectors` per track (0 sectors: no valid translation).
    pub fn set_translation(&mut self, heads: u32, sectors: u32) {
        let total = self.sectors();
        self.current = (sectors != 0).then(|| {
            let cylinders = (total / u64::from(heads * sectors)).min(MAX_CHS_CYLINDERS);
            Geometry::new(cylinders as u32, heads, sectors)
        });
    }

    /// READ/WRITE MULTIPLE block size, 0 when disabled.
    pub fn multiple(&self) -> u8 {
        self.multiple
    }

    /// SET MULTIPLE MODE: 0 disables; otherwise a power of two up to the
    /// maximum. Returns whether `count` was accepted.
    pub fn set_multiple(&mut self, count: u8) -> bool {
        let valid = count == 0 || (count.is_power_of_two() && count <= MAX_MULTIPLE);
        if valid {
            self.multiple = count;
        }
        valid
    }

    /// FLUSH CACHE.
    pub fn flush(&mut self) -> Result<(), BlockError> {
        self.disk.flush()
    }

    /// Abandon any data phase (new command, reset).
    pub fn cancel(&mut self) {
        self.transfer = None;
    }

    fn direction(&self) -> Option<Direction> {
        self.transfer.map(|t| t.direction)
    }

    /// IDENTIFY DEVICE: offer the identify block.
    pub fn identify(&mut self) -> Step {
        let params = IdentifyParams {
            sectors: self.sectors(),
            default: self.default,
            current: self.current,
            multiple: self.multiple,
        };
        self.buffer = identify_block(&params).to_vec();
        self.pos = 0;
        self.transfer = Some(PioTransfer {
            direction: Direction::In,
            lba: 0,
            remaining: 1,
            block: 1,
            on_disk: false,
        });
        Ok(Progress {
            position: None,
            drq: true,
            interrupt: true,
        })
    }

    /// READ SECTORS / READ MULTIPLE of `count` sectors from `lba` in
    /// blocks of `block`: the first block is offered at once.
    pub fn begin_read(&mut self, lba: u64, count: u32, block: u32) -> Step {
        let t = PioTransfer {
            direction: Direction::In,
            lba,
            remaining: count,
            block,
            on_disk: true,
        };
        self.transfer = Some(t);
        self.load_block(t)
    }

    /// WRITE SECTORS / WRITE MULTIPLE: ask for the first block (DRQ, no
    /// interrupt). A read-only disk aborts at once.
    pub fn begin_write(&mut self, lba: u64, count: u32, block: u32) -> Step {
        if self.disk.read_only() {
            return Err(Failure {
                lba,
                error: AtaError::ABRT,
            });
        }
        let t = PioTransfer {
            direction: Direction::Out,
            lba,
            remaining: count,
            block,
            on_disk: true,
        };
        self.transfer = Some(t);
        self.open_block(t);
        Ok(Progress {
            position: None,
            drq: true,
            interrupt: false,
        })
    }

    /// Read the block `t` names from the disk into the buffer.
    fn load_block(&mut self, t: PioTransfer) -> Step {
        let n = t.block_sectors();
        self.buffer.resize(n as usize * SECTOR_SIZE, 0);
        self.pos = 0;
        if let Err(e) = self.disk.read_sectors(t.lba, &mut self.buffer) {
            self.transfer = None;
            let error = match e {
                BlockError::OutOfRange { .. } => AtaError::IDNF,
                _ => AtaError::UNC,
            };
            return Err(Failure { lba: t.lba, error });
        }
        let position = Some((t.lba + u64::from(n) - 1, t.remaining - n));
        Ok(Progress {
            position,
            drq: true,
            interrupt: true,
        })
    }

    /// Make room for the block of write data `t` names.
    fn open_block(&mut self, t: PioTransfer) {
        self.buffer.clear();
        self.buffer
            .resize(t.block_sectors() as usize * SECTOR_SIZE, 0);
        self.pos = 0;
    }

    /// The host has moved the whole buffer: finish the block.
    fn block_done(&mut self) -> Step {
        let Some(mut t) = self.transfer else {
            return Ok(Progress {
                position: None,
                drq: false,
                interrupt: false,
            });
        };
        let n = t.block_sectors();
        let mut position = None;
        if t.direction == Direction::Out {
            if let Err(e) = self.disk.write_sectors(t.lba, &self.buffer) {
                self.transfer = None;
                let error = match e {
                    BlockError::OutOfRange { .. } => AtaError::IDNF,
                    _ => AtaError::ABRT,
                };
                return Err(Failure { lba: t.lba, error });
            }
            position = Some((t.lba + u64::from(n) - 1, t.remaining - n));
        }
        t.lba += u64::from(n);
        t.remaining -= n;
        self.transfer = (t.remaining > 0).then_some(t);
        match t.direction {
            Direction::In if t.remaining > 0 && t.on_disk => self.load_block(t),
            Direction::In => Ok(Progress {
                position,
                drq: false,
                interrupt: false,
            }),
            Direction::Out => {
                let more = t.remaining > 0;
                if more {
                    self.open_block(t);
                }
                Ok(Progress {
                    position,
                    drq: more,
                    interrupt: true,
                })
            }
        }
    }

    /// Data-register read of `bytes` (1, 2 or 4) during a data-in phase:
    /// the value (all-ones outside one), and the step at a block's end.
    pub fn read_data(&mut self, bytes: usize) -> (u32, Option<Step>) {
        if self.direction() != Some(Direction::In) {
            return (u32::MAX, None);
        }
        let mut value = [0xFF; 4];
        for byte in value.iter_mut().take(bytes) {
            if let Some(&b) = self.buffer.get(self.pos) {
                *byte = b;
                self.pos += 1;
            }
        }
        let step = (self.pos >= self.buffer.len()).then(|| self.block_done());
        (u32::from_le_bytes(value), step)
    }

    /// Data-register write of the low `bytes` of `value` during a
    /// data-out phase; the step at a block's end.
    pub fn write_data(&mut self, bytes: usize, value: u32) -> Option<Step> {
        if self.direction() != Some(Direction::Out) {
            return None;
        }
        for b in value.to_le_bytes().into_iter().take(bytes) {
            if let Some(slot) = self.buffer.get_mut(self.pos) {
                *slot = b;
                self.pos += 1;
            }
        }
        (self.pos >= self.buffer.len()).then(|| self.block_done())
    }
}

/// Data-phase protocol sequences, through the channel's ports.
#[cfg(test)]
mod tests {
    use crate::ata_regs::{
        REG_COMMAND, REG_DATA, REG_DEVICE, REG_ERROR, REG_LBA_LOW, REG_SECTOR_COUNT,
    };
    use crate::ata_testing::{
        ack, channel_with, first_u32, inb, insw_sector, outb, outsw_sector, pattern_disk,
        task_file_chs, task_file_lba,
    };
    use crate::bus::{AccessSize, PortDevice};

    #[test]
    fn identify_device_reports_geometry_model_and_capacity() {
        let (mut ch, line) = channel_with(pattern_disk(2 * 16 * 63));
        outb(&mut ch, REG_DEVICE, 0xA0);
        outb(&mut ch, REG_COMMAND, 0xEC);
        assert!(line.level(), "IRQ when the IDENTIFY block is ready");
        assert_eq!(ack(&mut ch), 0x58, "DRDY DSC DRQ");
        assert!(!line.level());
        let block = insw_sector(&mut ch);
        let word = |i: usize| u16::from_le_bytes([block[2 * i], block[2 * i + 1]]);
        assert_eq!((word(1), word(3), word(6)), (2, 16, 63));
        assert_eq!(&block[54..68], b"TBMVH RADDSI K", "byte-swapped model");
        assert_eq!(u32::from(word(60)) | u32::from(word(61)) << 16, 2016);
        assert_eq!(word(49) & 0x0200, 0x0200);
        assert_eq!(ack(&mut ch), 0x50, "DRQ drops after the last word");
        assert_eq!(line.rising_edges(), 1);
    }

    #[test]
    fn chs_read_uses_the_current_translation() {
        let (mut ch, _) = channel_with(pattern_disk(2 * 16 * 63));
        task_file_chs(&mut ch, 1, 2, 3, 1);
        outb(&mut ch, REG_COMMAND, 0x20);
        assert_eq!(ack(&mut ch), 0x58);
        // (1 * 16 + 2) * 63 + (3 - 1)
        assert_eq!(first_u32(&insw_sector(&mut ch)), 1136);
        assert_eq!(ack(&mut ch), 0x50);
        assert_eq!(inb(&mut ch, REG_SECTOR_COUNT), 0);
    }

    #[test]
    fn lba_read_of_three_sectors_interrupts_once_per_sector() {
        let (mut ch, line) = channel_with(pattern_disk(64));
        task_file_lba(&mut ch, 40, 3);
        outb(&mut ch, REG_COMMAND, 0x20);
        for lba in 40..43 {
            assert!(line.level(), "IRQ for sector {lba}");
            assert_eq!(ack(&mut ch), 0x58);
            assert!(!line.level(), "status read clears INTRQ");
            let sector = insw_sector(&mut ch);
            assert_eq!(first_u32(&sector), lba);
            assert!(sector[4..].iter().all(|&b| b == lba as u8));
        }
        assert_eq!(line.rising_edges(), 3);
        assert!(!line.level());
        assert_eq!(ack(&mut ch), 0x50);
        assert_eq!(
            inb(&mut ch, REG_LBA_LOW),
            42,
            "task file at the last sector"
        );
    }

    #[test]
    fn sector_count_zero_reads_256_sectors() {
        let (mut ch, line) = channel_with(pattern_disk(300));
        task_file_lba(&mut ch, 10, 0);
        outb(&mut ch, REG_COMMAND, 0x21);
        for lba in 10..266 {
            assert_eq!(ack(&mut ch) & 0x08, 0x08);
            assert_eq!(first_u32(&insw_sector(&mut ch)), lba);
        }
        assert_eq!(line.rising_edges(), 256);
        assert_eq!(ack(&mut ch), 0x50);
    }

    #[test]
    fn read_multiple_interrupts_once_per_block() {
        let (mut ch, line) = channel_with(pattern_disk(64));
        outb(&mut ch, REG_SECTOR_COUNT, 4);
        outb(&mut ch, REG_DEVICE, 0xE0);
        outb(&mut ch, REG_COMMAND, 0xC6); // SET MULTIPLE MODE, 4 sectors
        assert_eq!(ack(&mut ch), 0x50);
        line.clear_changes();
        task_file_lba(&mut ch, 0, 10);
        outb(&mut ch, REG_COMMAND, 0xC4);
        let mut lba = 0;
        for block in [4, 4, 2] {
            assert_eq!(ack(&mut ch), 0x58);
            for _ in 0..block {
                assert_eq!(first_u32(&insw_sector(&mut ch)), lba);
                lba += 1;
            }
        }
        assert_eq!(line.rising_edges(), 3, "blocks of 4, 4, 2");
        assert_eq!(ack(&mut ch), 0x50);
    }

    #[test]
    fn multiple_commands_abort_until_set_multiple_mode() {
        let (mut ch, _) = channel_with(pattern_disk(64));
        task_file_lba(&mut ch, 0, 1);
        outb(&mut ch, REG_COMMAND, 0xC4);
        assert_eq!(ack(&mut ch), 0x51);
        assert_eq!(inb(&mut ch, REG_ERROR), 0x04);
        outb(&mut ch, REG_SECTOR_COUNT, 3); // not a power of two
        outb(&mut ch, REG_COMMAND, 0xC6);
        assert_eq!(ack(&mut ch), 0x51);
        assert_eq!(inb(&mut ch, REG_ERROR), 0x04);
    }

    #[test]
    fn write_sectors_land_in_the_disk_with_an_irq_after_each() {
        let (mut ch, line) = channel_with(pattern_disk(64));
        task_file_lba(&mut ch, 5, 2);
        outb(&mut ch, REG_COMMAND, 0x30);
        assert!(!line.level(), "no IRQ before the first write block");
        assert_eq!(ch.read_control(), 0x58);
        outsw_sector(&mut ch, &[0x11; 512]);
        assert!(line.level());
        assert_eq!(ack(&mut ch), 0x58, "DRQ for the second sector");
        outsw_sector(&mut ch, &[0x22; 512]);
        assert!(line.level());
        assert_eq!(ack(&mut ch), 0x50);
        assert_eq!(line.rising_edges(), 2);
        assert_eq!(inb(&mut ch, REG_LBA_LOW), 6);
        let mut buf = [0u8; 1024];
        ch.master_disk_mut()
            .unwrap()
            .read_sectors(5, &mut buf)
            .unwrap();
        assert!(buf[..512].iter().all(|&b| b == 0x11));
        assert!(buf[512..].iter().all(|&b| b == 0x22));
        let mut next = [0u8; 512];
        ch.master_disk_mut()
            .unwrap()
            .read_sectors(7, &mut next)
            .unwrap();
        assert_eq!(first_u32(&next), 7, "nothing past the command");
    }

    #[test]
    fn write_multiple_stores_whole_blocks() {
        let (mut ch, line) = channel_with(pattern_disk(64));
        outb(&mut ch, REG_SECTOR_COUNT, 2);
        outb(&mut ch, REG_COMMAND, 0xC6);
        ack(&mut ch);
        line.clear_changes();
        task_file_lba(&mut ch, 20, 3);
        outb(&mut ch, REG_COMMAND, 0xC5);
        for n in 0..3u8 {
            outsw_sector(&mut ch, &[0xA0 + n; 512]);
            assert_eq!(
                line.level(),
                n != 0,
                "IRQ after blocks of 2 and 1, not mid-block"
            );
            if n == 1 {
                assert_eq!(ack(&mut ch), 0x58, "DRQ for the last block");
            }
        }
        assert_eq!(line.rising_edges(), 2);
        assert_eq!(ack(&mut ch), 0x50);
        let mut buf = [0u8; 3 * 512];
        ch.master_disk_mut()
            .unwrap()
            .read_sectors(20, &mut buf)
            .unwrap();
        assert_eq!([buf[0], buf[512], buf[1024]], [0xA0, 0xA1, 0xA2]);
    }

    #[test]
    fn dword_data_port_reads() {
        let (mut ch, _) = channel_with(pattern_disk(8));
        task_file_lba(&mut ch, 6, 1);
        outb(&mut ch, REG_COMMAND, 0x20);
        assert_eq!(PortDevice::read(&mut ch, REG_DATA, AccessSize::Dword), 6);
        for _ in 1..128 {
            PortDevice::read(&mut ch, REG_DATA, AccessSize::Dword);
        }
        assert_eq!(ack(&mut ch), 0x50);
        assert_eq!(
            PortDevice::read(&mut ch, REG_DATA, AccessSize::Word),
            0xFFFF,
            "no DRQ"
        );
    }

    #[test]
    fn read_running_off_the_end_fails_at_the_first_missing_sector() {
        let (mut ch, _) = channel_with(pattern_disk(8));
        task_file_lba(&mut ch, 7, 2);
        outb(&mut ch, REG_COMMAND, 0x20);
        assert_eq!(ack(&mut ch), 0x58);
        assert_eq!(first_u32(&insw_sector(&mut ch)), 7);
        assert_eq!(ack(&mut ch), 0x51);
        assert_eq!(inb(&mut ch, REG_ERROR), 0x10, "IDNF");
        assert_eq!(inb(&mut ch, REG_LBA_LOW), 8);
    }

    #[test]
    fn write_to_a_read_only_disk_aborts_without_a_data_phase() {
        let (mut ch, line) = channel_with(pattern_disk(8).with_read_only(true));
        task_file_lba(&mut ch, 0, 1);
        outb(&mut ch, REG_COMMAND, 0x30);
        assert!(line.level());
        assert_eq!(ack(&mut ch), 0x51);
        assert_eq!(inb(&mut ch, REG_ERROR), 0x04);
    }
}
