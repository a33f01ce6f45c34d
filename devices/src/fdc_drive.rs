//! A floppy drive on the 82077AA and the diskette in it: [`FloppyMedia`]
//! (an image of a standard size with its geometry and data rates) and the
//! drive's head position, disk-change line and sector lookup.
//!
//! The lookup follows what the controller does on a real track: it needs
//! an ID address mark at the programmed data rate in MFM (else "missing
//! address mark"), then an ID whose C, H, R and N all match the command
//! (else "no data", plus "wrong cylinder" when only the cylinder differs).
//! The IDs on a track of an image are those of its standard format:
//! C = the track under the head, H = the head, R = 1..sectors, N = 2.

use std::fmt;

use crate::block::{BlockDevice, Geometry, SECTOR_SIZE};
use crate::fdc_regs::{
    DataRate, SECTOR_SIZE_CODE, ST1_DATA_ERROR, ST1_MISSING_ADDRESS_MARK, ST1_NOT_WRITABLE,
    ST1_NO_DATA, ST2_BAD_CYLINDER, ST2_DATA_ERROR, ST2_WRONG_CYLINDER,
};

/// Why an image cannot be a diskette.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FloppyError {
    /// Not one of the standard sizes from 160K to 2.88M.
    UnknownSize(u64),
}

impl fmt::Display for FloppyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FloppyError::UnknownSize(bytes) => {
                write!(f, "floppy image of {bytes} bytes is not a standard format")
            }
        }
    }
}

impl std::error::Error for FloppyError {}

/// A diskette: an image of a standard floppy size and its geometry.
pub struct FloppyMedia {
    disk: Box<dyn BlockDevice>,
    geometry: Geometry,
}

impl FloppyMedia {
    /// A diskette holding `disk`, whose size must be a standard format
    /// (see [`Geometry::floppy_for_size`]).
    pub fn new(disk: Box<dyn BlockDevice>) -> Result<Self, FloppyError> {
        let bytes = disk.sector_count() * SECTOR_SIZE as u64;
        let geometry = Geometry::floppy_for_size(bytes).ok_or(FloppyError::UnknownSize(bytes))?;
        Ok(FloppyMedia { disk, geometry })
    }

    /// The diskette's format.
    pub fn geometry(&self) -> Geometry {
        self.geometry
    }

    /// The image (to flush it, or for tests to inspect it).
    pub fn disk_mut(&mut self) -> &mut (dyn BlockDevice + 'static) {
        &mut *self.disk
    }

    /// The image, taking the diskette apart.
    pub fn into_disk(self) -> Box<dyn BlockDevice> {
        self.disk
    }

    /// Whether the controller reads this format at `rate`. 40-track
    /// double-density disks are read at 250 kbit/s in a 360K drive and at
    /// 300 kbit/s in a 1.2M drive; the others have one rate.
    pub fn accepts_rate(&self, rate: DataRate) -> bool {
        match (self.geometry.cylinders, self.geometry.sectors) {
            (40, _) => matches!(rate, DataRate::Kbps250 | DataRate::Kbps300),
            (_, 9) => rate == DataRate::Kbps250,
            (_, 36) => rate == DataRate::Mbps1,
            _ => rate == DataRate::Kbps500,
        }
    }
}

/// A sector ID field: cylinder, head, record (sector), size code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SectorId {
    /// Cylinder.
    pub c: u8,
    /// Head.
    pub h: u8,
    /// Record: the sector number, from 1.
    pub r: u8,
    /// Size code: 128 << N bytes.
    pub n: u8,
}

/// Why a track or sector could not be used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// No diskette in the drive.
    NoMedia,
    /// The command ends abnormally with these ST1 and ST2.
    Status {
        /// ST1 bits.
        st1: u8,
        /// ST2 bits.
        st2: u8,
    },
}

/// Shorthand for an ST1-only fault.
const fn st1(bits: u8) -> Fault {
    Fault::Status { st1: bits, st2: 0 }
}

/// One drive: its diskette, head position and disk-change line.
pub struct FloppyDrive {
    media: Option<FloppyMedia>,
    /// Track under the heads; also the controller's PCN for this drive.
    pub cylinder: u8,
    disk_changed: bool,
}

impl Default for FloppyDrive {
    fn default() -> Self {
        FloppyDrive {
            media: None,
            cylinder: 0,
            disk_changed: true,
        }
    }
}

impl FloppyDrive {
    /// Put `media` in the drive; the disk-change line goes active.
    pub fn insert(&mut self, media: FloppyMedia) -> Option<FloppyMedia> {
        self.disk_changed = true;
        self.media.replace(media)
    }

    /// Take the diskette out; the disk-change line goes active.
    pub fn eject(&mut self) -> Option<FloppyMedia> {
        self.disk_changed = true;
        self.media.take()
    }

    /// The diskette, if any.
    pub fn media(&self) -> Option<&FloppyMedia> {
        self.media.as_ref()
    }

    /// The diskette, if any, mutably.
    pub fn media_mut(&mut self) -> Option<&mut FloppyMedia> {
        self.media.as_mut()
    }

    /// DSKCHG: active from insertion (or power-on) until a step pulse with
    /// a diskette in the drive; always active with the drive empty.
    pub fn disk_changed(&self) -> bool {
        self.disk_changed || self.media.is_none()
    }

    /// Write protect: a read-only image, or no diskette (a 3.5" drive's
    /// sensor reads "protected" with the drive empty).
    pub fn write_protected(&self) -> bool {
        match &self.media {
            Some(media) => media.disk.read_only(),
            None => true,
        }
    }

    /// Step the heads to `cylinder`; any step pulse with a diskette in
    /// place clears the disk-change line.
    pub fn step_to(&mut self, cylinder: u8) {
        if cylinder != self.cylinder && self.media.is_some() {
            self.disk_changed = false;
        }
        self.cylinder = cylinder;
    }

    /// The diskette, if the track under head `head` can be read at `rate`
    /// (`mfm` encoding): there is a diskette, the track exists on it and
    /// its address marks are readable at that rate and encoding.
    pub fn readable_track(&self, head: u8, rate: DataRate, mfm: bool) -> Result<Geometry, Fault> {
        let media = self.media.as_ref().ok_or(Fault::NoMedia)?;
        let g = media.geometry;
        let on_media = u32::from(head) < g.heads && u32::from(self.cylinder) < g.cylinders;
        if !mfm || !media.accepts_rate(rate) || !on_media {
            return Err(st1(ST1_MISSING_ADDRESS_MARK));
        }
        Ok(g)
    }

    /// The LBA of the sector whose ID is `id` on the track under `head`.
    pub fn find_sector(
        &self,
        id: SectorId,
        head: u8,
        rate: DataRate,
        mfm: bool,
    ) -> Result<u64, Fault> {
        let g = self.readable_track(head, rate, mfm)?;
        if id.c != self.cylinder {
            let st2 = if id.c == 0xFF {
                ST2_BAD_CYLINDER
            } else {
                ST2_WRONG_CYLINDER
            };
            return Err(Fault::Status {
                st1: ST1_NO_DATA,
                st2,
            });
        }
        if id.h != head || id.n != SECTOR_SIZE_CODE {
            return Err(st1(ST1_NO_DATA));
        }
        g.chs_to_lba(self.cylinder.into(), head.into(), id.r.into())
            .ok_or(st1(ST1_NO_DATA))
    }

    /// Read sector `lba` of the diskette into `buf` (512 bytes).
    pub fn read(&mut self, lba: u64, buf: &mut [u8]) -> Result<(), Fault> {
        let media = self.media.as_mut().ok_or(Fault::NoMedia)?;
        media
            .disk
            .read_sectors(lba, buf)
            .map_err(|_| Fault::Status {
                st1: ST1_DATA_ERROR,
                st2: ST2_DATA_ERROR,
            })
    }

    /// Write `buf` (512 bytes) to sector `lba` of the diskette.
    pub fn write(&mut self, lba: u64, buf: &[u8]) -> Result<(), Fault> {
        if self.write_protected() {
            return Err(st1(ST1_NOT_WRITABLE));
        }
        let media = self.media.as_mut().ok_or(Fault::NoMedia)?;
        media
            .disk
            .write_sectors(lba, buf)
            .map_err(|_| st1(ST1_DATA_ERROR))
    }

    /// FORMAT TRACK's work for one ID under `head`: fill the sector with
    /// `fill` if the ID names a sector of the image's format on this
    /// track. Other IDs cannot be represented in an image and are dropped.
    pub fn format_sector(&mut self, id: SectorId, head: u8, fill: u8) -> Result<(), Fault> {
        let Some(media) = &self.media else {
            return Err(Fault::NoMedia);
        };
        let lba = (id.c == self.cylinder && id.h == head && id.n == SECTOR_SIZE_CODE)
            .then(|| {
                media
                    .geometry
                    .chs_to_lba(id.c.into(), head.into(), id.r.into())
            })
            .flatten();
        match lba {
            Some(lba) => self.write(lba, &[fill; SECTOR_SIZE]),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::block::MemDisk;

    fn media(sectors: usize) -> FloppyMedia {
        FloppyMedia::new(Box::new(MemDisk::new(sectors))).unwrap()
    }

    fn id(c: u8, h: u8, r: u8) -> SectorId {
        SectorId { c, h, r, n: 2 }
    }

    #[test]
    fn only_standard_sizes_are_diskettes() {
        assert_eq!(media(2880).geometry(), Geometry::new(80, 2, 18));
        let err = FloppyMedia::new(Box::new(MemDisk::new(100))).err().unwrap();
        assert_eq!(err, FloppyError::UnknownSize(51_200));
        assert_eq!(
            err.to_string(),
            "floppy image of 51200 bytes is not a standard format"
        );
    }

    #[test]
    fn each_format_has_its_data_rates() {
        assert!(media(720).accepts_rate(DataRate::Kbps250));
        assert!(media(720).accepts_rate(DataRate::Kbps300));
        assert!(!media(720).accepts_rate(DataRate::Kbps500));
        assert!(media(1440).accepts_rate(DataRate::Kbps250));
        assert!(!media(1440).accepts_rate(DataRate::Kbps300));
        assert!(media(2400).accepts_rate(DataRate::Kbps500));
        assert!(media(2880).accepts_rate(DataRate::Kbps500));
        assert!(media(5760).accepts_rate(DataRate::Mbps1));
    }

    #[test]
    fn sector_lookup_checks_every_id_field() {
        let mut drive = FloppyDrive::default();
        drive.insert(media(2880));
        let rate = DataRate::Kbps500;
        assert_eq!(drive.find_sector(id(0, 1, 1), 1, rate, true), Ok(18));
        let nd = Fault::Status {
            st1: ST1_NO_DATA,
            st2: 0,
        };
        assert_eq!(drive.find_sector(id(0, 0, 19), 0, rate, true), Err(nd));
        assert_eq!(
            drive.find_sector(id(0, 1, 1), 0, rate, true),
            Err(nd),
            "H vs head"
        );
        assert_eq!(
            drive.find_sector(
                SectorId {
                    n: 3,
                    ..id(0, 0, 1)
                },
                0,
                rate,
                true
            ),
            Err(nd)
        );
        let wc = Fault::Status {
            st1: ST1_NO_DATA,
            st2: ST2_WRONG_CYLINDER,
        };
        assert_eq!(drive.find_sector(id(4, 0, 1), 0, rate, true), Err(wc));
        let ma = Fault::Status {
            st1: ST1_MISSING_ADDRESS_MARK,
            st2: 0,
        };
        assert_eq!(
            drive.find_sector(id(0, 0, 1), 0, DataRate::Kbps250, true),
            Err(ma)
        );
        assert_eq!(
            drive.find_sector(id(0, 0, 1), 0, rate, false),
            Err(ma),
            "FM"
        );
        drive.step_to(80);
        assert_eq!(
            drive.find_sector(id(80, 0, 1), 0, rate, true),
            Err(ma),
            "off the media"
        );
        assert_eq!(
            FloppyDrive::default().find_sector(id(0, 0, 1), 0, rate, true),
            Err(Fault::NoMedia)
        );
    }

    #[test]
    fn disk_change_clears_on_a_step_with_media() {
        let mut drive = FloppyDrive::default();
        assert!(drive.disk_changed());
        drive.step_to(3);
        assert!(drive.disk_changed(), "no diskette: stays active");
        drive.insert(media(2880));
        drive.step_to(3);
        assert!(drive.disk_changed(), "no step pulse");
        drive.step_to(0);
        assert!(!drive.disk_changed());
        drive.eject();
        assert!(drive.disk_changed());
    }

    #[test]
    fn writes_honour_write_protect_and_format_fills_known_ids() {
        let mut drive = FloppyDrive::default();
        assert!(drive.write_protected(), "empty drive");
        drive.insert(media(720));
        drive.step_to(1);
        drive.format_sector(id(1, 1, 9), 1, 0xF6).unwrap();
        drive.format_sector(id(1, 1, 10), 1, 0xF6).unwrap(); // no such sector: dropped
        let mut buf = [0u8; 512];
        drive.read(35, &mut buf).unwrap(); // (1 * 2 + 1) * 9 + 8
        assert!(buf.iter().all(|&b| b == 0xF6));
        let ro = FloppyMedia::new(Box::new(MemDisk::new(720).with_read_only(true))).unwrap();
        drive.insert(ro);
        assert_eq!(
            drive.write(0, &buf),
            Err(Fault::Status {
                st1: ST1_NOT_WRITABLE,
                st2: 0
            })
        );
    }
}

/// Seeks, drive status, READ ID and the disk-change line, as a driver
/// issues them through the controller.
#[cfg(test)]
mod protocol_tests {
    use crate::fdc_regs::{REG_DIR, REG_DOR, REG_MSR};
    use crate::fdc_testing::Pc;

    #[test]
    fn recalibrate_reports_seek_end_and_pcn_0() {
        let mut pc = Pc::new();
        pc.command(&[0x03, 0xDF, 0x02]); // SPECIFY: SRT 3 ms, HUT 240 ms, HLT 2, DMA
        assert_eq!(pc.results(), [], "SPECIFY has no result phase");
        assert_eq!(pc.seek_and_sense(&[0x0F, 0x00, 20]), [0x20, 20]);
        assert_eq!(pc.seek_and_sense(&[0x07, 0x00]), [0x20, 0]);
        assert_eq!(pc.seek_and_sense(&[0x07, 0x01]), [0x21, 0]);
        assert_eq!(
            pc.seek_and_sense(&[0x07, 0x02]),
            [0x72, 0],
            "no drive 2: EC"
        );
    }

    #[test]
    fn seek_shows_drive_busy_until_its_interrupt() {
        let mut pc = Pc::new();
        pc.command(&[0x0F, 0x04, 33]); // SEEK head 1, drive 0, cylinder 33
        assert_eq!(pc.inb(REG_MSR), 0x81, "RQM and drive 0 busy");
        pc.wait_irq6();
        assert_eq!(pc.inb(REG_MSR), 0x80);
        assert_eq!(pc.sense_interrupt(), [0x24, 33]);
        assert_eq!(
            pc.seek_and_sense(&[0x8F, 0x00, 3]),
            [0x20, 30],
            "relative seek out"
        );
        assert_eq!(
            pc.seek_and_sense(&[0xCF, 0x00, 10]),
            [0x20, 40],
            "relative seek in"
        );
    }

    #[test]
    fn disk_change_line_holds_until_a_step_to_another_track() {
        let mut pc = Pc::new();
        assert_eq!(pc.inb(REG_DIR), 0xFF, "changed since insertion");
        pc.seek_and_sense(&[0x0F, 0x00, 0]);
        assert_eq!(pc.inb(REG_DIR) & 0x80, 0x80, "no step pulse");
        pc.seek_and_sense(&[0x0F, 0x00, 1]);
        assert_eq!(pc.inb(REG_DIR), 0x7F);
        pc.outb(REG_DOR, 0x1D); // select drive 1: empty
        assert_eq!(pc.inb(REG_DIR) & 0x80, 0x80);
        pc.outb(REG_DOR, 0x1C);
        let old = pc.fdc.eject_media(0).unwrap();
        assert_eq!(pc.inb(REG_DIR) & 0x80, 0x80);
        pc.fdc.insert_media(0, old);
        assert_eq!(pc.inb(REG_DIR) & 0x80, 0x80, "set again at insertion");
    }

    #[test]
    fn sense_drive_status_reports_track_0_and_head() {
        let mut pc = Pc::new();
        pc.command(&[0x04, 0x04]);
        assert_eq!(pc.results(), [0x28 | 0x10 | 0x04]);
        pc.seek_and_sense(&[0x0F, 0x00, 9]);
        pc.command(&[0x04, 0x00]);
        assert_eq!(pc.results(), [0x28]);
    }

    #[test]
    fn read_id_reports_the_track_under_the_heads() {
        let mut pc = Pc::new();
        pc.seek_and_sense(&[0x0F, 0x00, 7]);
        pc.command(&[0x4A, 0x04]);
        pc.wait_irq6();
        assert_eq!(pc.results(), [0x04, 0, 0, 7, 1, 1, 2]);
    }
}
