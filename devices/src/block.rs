//! Disk images as the disk controllers see them: [`BlockDevice`] (whole
//! 512-byte sectors by LBA), [`MemDisk`] (a `Vec<u8>`-backed image) and
//! [`Geometry`] (cylinders/heads/sectors, standard floppy formats, the usual
//! BIOS/ATA hard-disk translation).
//!
//! A device model never opens a file: the machine hands it a
//! `Box<dyn BlockDevice>` (a host file, a copy-on-write overlay, or a
//! [`MemDisk`] for tests and `--snapshot`). A [`BlockError`] is a host-side
//! condition; the controllers turn it into the guest-visible error status of
//! the command that hit it (ATA IDNF/UNC/ABRT, FDC ST1 bits) and carry on.

use std::fmt;

/// Bytes in one sector: the only sector size the controllers here use.
pub const SECTOR_SIZE: usize = 512;
/// Offset bits within a sector (`SECTOR_SIZE` is a power of two).
const SECTOR_OFFSET_MASK: usize = SECTOR_SIZE - 1;

/// Why a sector transfer could not be done.
#[derive(Debug)]
pub enum BlockError {
    /// Some sector of `lba..lba + sectors` lies beyond the end of the disk.
    OutOfRange {
        /// First sector of the request.
        lba: u64,
        /// Number of sectors requested.
        sectors: u64,
    },
    /// The buffer is not a whole number of sectors long.
    BadLength(usize),
    /// A write to a read-only disk.
    ReadOnly,
    /// The host could not read or write the image.
    Io(std::io::Error),
}

impl fmt::Display for BlockError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BlockError::OutOfRange { lba, sectors } => {
                write!(
                    f,
                    "sectors {lba}..{} are beyond the end of the disk",
                    lba + sectors
                )
            }
            BlockError::BadLength(len) => write!(f, "buffer of {len} bytes is not whole sectors"),
            BlockError::ReadOnly => write!(f, "disk is read-only"),
            BlockError::Io(_) => write!(f, "disk image i/o failed"),
        }
    }
}

impl std::error::Error for BlockError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            BlockError::Io(e) => Some(e),
            _ => None,
        }
    }
}

impl From<std::io::Error> for BlockError {
    fn from(e: std::io::Error) -> Self {
        BlockError::Io(e)
    }
}

/// A disk as a controller reads and writes it: whole 512-byte sectors by LBA.
pub trait BlockDevice {
    /// Number of sectors on the disk.
    fn sector_count(&self) -> u64;
    /// Fill `buf` (a multiple of 512 bytes) from the sectors starting at `lba`.
    fn read_sectors(&mut self, lba: u64, buf: &mut [u8]) -> Result<(), BlockError>;
    /// Store `buf` (a multiple of 512 bytes) into the sectors starting at `lba`.
    fn write_sectors(&mut self, lba: u64, buf: &[u8]) -> Result<(), BlockError>;
    /// Whether writes are refused (a write-protected floppy, a `--readonly` disk).
    fn read_only(&self) -> bool;
    /// Push written sectors to stable storage (ATA FLUSH CACHE); in-memory
    /// disks have nothing to do.
    fn flush(&mut self) -> Result<(), BlockError> {
        Ok(())
    }
}

impl<T: BlockDevice + ?Sized> BlockDevice for Box<T> {
    fn sector_count(&self) -> u64 {
        (**self).sector_count()
    }
    fn read_sectors(&mut self, lba: u64, buf: &mut [u8]) -> Result<(), BlockError> {
        (**self).read_sectors(lba, buf)
    }
    fn write_sectors(&mut self, lba: u64, buf: &[u8]) -> Result<(), BlockError> {
        (**self).write_sectors(lba, buf)
    }
    fn read_only(&self) -> bool {
        (**self).read_only()
    }
    fn flush(&mut self) -> Result<(), BlockError> {
        (**self).flush()
    }
}

/// The byte range of `len` bytes at sector `lba` on a disk of `count`
/// sectors, checking whole sectors and bounds (for implementations).
pub fn sector_byte_range(
    lba: u64,
    len: usize,
    count: u64,
) -> Result<std::ops::Range<usize>, BlockError> {
    if len & SECTOR_OFFSET_MASK != 0 {
        return Err(BlockError::BadLength(len));
    }
    let sectors = (len / SECTOR_SIZE) as u64;
    let out_of_range = BlockError::OutOfRange { lba, sectors };
    match lba.checked_add(sectors) {
        Some(end) if end <= count => {
            let start = usize::try_from(lba).map_err(|_| out_of_range)? * SECTOR_SIZE;
            Ok(start..start + len)
        }
        _ => Err(out_of_range),
    }
}

/// A disk image held in memory: for tests, and for `--snapshot` runs where
/// guest writes must never reach the image file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MemDisk {
    data: Vec<u8>,
    read_only: bool,
}

impl MemDisk {
    /// A writable disk of `sectors` zero-filled sectors.
    pub fn new(sectors: usize) -> Self {
        MemDisk {
            data: vec![0; sectors * SECTOR_SIZE],
            read_only: false,
        }
    }

    /// A writable disk holding `data`, which must be whole sectors.
    pub fn from_vec(data: Vec<u8>) -> Result<Self, BlockError> {
        if data.len() & SECTOR_OFFSET_MASK != 0 {
            return Err(BlockError::BadLength(data.len()));
        }
        Ok(MemDisk {
            data,
            read_only: false,
        })
    }

    /// The same disk, write-protected (or not).
    pub fn with_read_only(mut self, read_only: bool) -> Self {
        self.read_only = read_only;
        self
    }

    /// The image bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.data
    }

    /// The image bytes, consuming the disk.
    pub fn into_vec(self) -> Vec<u8> {
        self.data
    }
}

impl BlockDevice for MemDisk {
    fn sector_count(&self) -> u64 {
        (self.data.len() / SECTOR_SIZE) as u64
    }

    fn read_sectors(&mut self, lba: u64, buf: &mut [u8]) -> Result<(), BlockError> {
        let range = sector_byte_range(lba, buf.len(), self.sector_count())?;
        buf.copy_from_slice(&self.data[range]);
        Ok(())
    }

    fn write_sectors(&mut self, lba: u64, buf: &[u8]) -> Result<(), BlockError> {
        if self.read_only {
            return Err(BlockError::ReadOnly);
        }
        let range = sector_byte_range(lba, buf.len(), self.sector_count())?;
        self.data[range].copy_from_slice(buf);
        Ok(())
    }

    fn read_only(&self) -> bool {
        self.read_only
    }
}

/// Heads of the usual BIOS/ATA hard-disk translation.
const HD_HEADS: u32 = 16;
/// Sectors per track of the usual BIOS/ATA hard-disk translation.
const HD_SECTORS: u32 = 63;
/// Most cylinders an ATA IDENTIFY reports in the default geometry (word 1).
const HD_MAX_CYLINDERS: u32 = 16383;

/// The standard floppy formats: image size in bytes and geometry.
const FLOPPY_FORMATS: [(u64, Geometry); 8] = [
    (163_840, Geometry::new(40, 1, 8)),    // 160K 5.25" SS/DD
    (184_320, Geometry::new(40, 1, 9)),    // 180K 5.25" SS/DD
    (327_680, Geometry::new(40, 2, 8)),    // 320K 5.25" DS/DD
    (368_640, Geometry::new(40, 2, 9)),    // 360K 5.25" DS/DD
    (737_280, Geometry::new(80, 2, 9)),    // 720K 3.5" DS/DD
    (1_228_800, Geometry::new(80, 2, 15)), // 1.2M 5.25" DS/HD
    (1_474_560, Geometry::new(80, 2, 18)), // 1.44M 3.5" DS/HD
    (2_949_120, Geometry::new(80, 2, 36)), // 2.88M 3.5" DS/ED
];

/// A cylinder/head/sector geometry (sectors are numbered from 1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Geometry {
    /// Cylinders (tracks per side).
    pub cylinders: u32,
    /// Heads (sides).
    pub heads: u32,
    /// Sectors per track.
    pub sectors: u32,
}

impl Geometry {
    /// A geometry of `cylinders` x `heads` x `sectors`.
    pub const fn new(cylinders: u32, heads: u32, sectors: u32) -> Self {
        Geometry {
            cylinders,
            heads,
            sectors,
        }
    }

    /// Sectors addressable through this geometry.
    pub fn total_sectors(&self) -> u64 {
        u64::from(self.cylinders) * u64::from(self.heads) * u64::from(self.sectors)
    }

    /// The standard floppy format of an image of `bytes` bytes (160K to
    /// 2.88M), or `None` for any other size.
    pub fn floppy_for_size(bytes: u64) -> Option<Geometry> {
        FLOPPY_FORMATS
            .iter()
            .find(|(size, _)| *size == bytes)
            .map(|&(_, g)| g)
    }

    /// The usual BIOS/ATA translation of a hard disk of `sectors` sectors:
    /// 16 heads, 63 sectors per track, as many whole cylinders as fit (at
    /// least 1, at most 16383). Sectors past the last whole cylinder are
    /// reachable by LBA only.
    pub fn hard_disk_for_sectors(sectors: u64) -> Geometry {
        let per_cylinder = u64::from(HD_HEADS * HD_SECTORS);
        let cylinders = (sectors / per_cylinder).clamp(1, u64::from(HD_MAX_CYLINDERS));
        Geometry::new(cylinders as u32, HD_HEADS, HD_SECTORS)
    }

    /// The LBA of cylinder `c`, head `h`, sector `s` (1-based), or `None` if
    /// the address lies outside this geometry.
    pub fn chs_to_lba(&self, c: u32, h: u32, s: u32) -> Option<u64> {
        if c >= self.cylinders || h >= self.heads || s == 0 || s > self.sectors {
            return None;
        }
        let track = u64::from(c) * u64::from(self.heads) + u64::from(h);
        Some(track * u64::from(self.sectors) + u64::from(s - 1))
    }

    /// The (cylinder, head, sector) of `lba`, or `None` beyond the geometry.
    pub fn lba_to_chs(&self, lba: u64) -> Option<(u32, u32, u32)> {
        if lba >= self.total_sectors() {
            return None;
        }
        let sectors = u64::from(self.sectors);
        let heads = u64::from(self.heads);
        let s = lba % sectors + 1;
        let track = lba / sectors;
        Some(((track / heads) as u32, (track % heads) as u32, s as u32))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A disk whose sector n is filled with the byte n.
    fn numbered_disk(sectors: usize) -> MemDisk {
        let data = (0..sectors).flat_map(|n| [n as u8; SECTOR_SIZE]).collect();
        MemDisk::from_vec(data).unwrap()
    }

    #[test]
    fn memdisk_reads_and_writes_whole_sectors() {
        let mut disk = numbered_disk(4);
        assert_eq!(disk.sector_count(), 4);
        let mut buf = [0u8; 1024];
        disk.read_sectors(2, &mut buf).unwrap();
        assert!(buf[..512].iter().all(|&b| b == 2));
        assert!(buf[512..].iter().all(|&b| b == 3));
        disk.write_sectors(0, &[0xAA; 512]).unwrap();
        assert_eq!(disk.as_bytes()[511], 0xAA);
        assert_eq!(disk.as_bytes()[512], 1);
    }

    #[test]
    fn memdisk_refuses_bad_requests_without_panicking() {
        let mut disk = numbered_disk(4);
        let mut buf = [0u8; 512];
        assert!(matches!(
            disk.read_sectors(4, &mut buf),
            Err(BlockError::OutOfRange { lba: 4, sectors: 1 })
        ));
        assert!(matches!(
            disk.read_sectors(u64::MAX, &mut buf),
            Err(BlockError::OutOfRange { .. })
        ));
        assert!(matches!(
            disk.read_sectors(0, &mut buf[..100]),
            Err(BlockError::BadLength(100))
        ));
        let mut ro = disk.clone().with_read_only(true);
        assert!(ro.read_only());
        assert!(matches!(
            ro.write_sectors(0, &buf),
            Err(BlockError::ReadOnly)
        ));
        assert!(MemDisk::from_vec(vec![0; 513]).is_err());
    }

    #[test]
    fn block_error_messages_are_short_and_lowercase() {
        let e = BlockError::OutOfRange {
            lba: 10,
            sectors: 2,
        };
        assert_eq!(
            e.to_string(),
            "sectors 10..12 are beyond the end of the disk"
        );
        let io = BlockError::from(std::io::Error::other("boom"));
        assert!(std::error::Error::source(&io).is_some());
    }

    #[test]
    fn standard_floppy_sizes_have_their_geometry() {
        assert_eq!(
            Geometry::floppy_for_size(1_474_560),
            Some(Geometry::new(80, 2, 18))
        );
        assert_eq!(
            Geometry::floppy_for_size(368_640),
            Some(Geometry::new(40, 2, 9))
        );
        assert_eq!(
            Geometry::floppy_for_size(163_840),
            Some(Geometry::new(40, 1, 8))
        );
        assert_eq!(
            Geometry::floppy_for_size(2_949_120),
            Some(Geometry::new(80, 2, 36))
        );
        assert_eq!(Geometry::floppy_for_size(1_474_561), None);
        for (size, g) in FLOPPY_FORMATS {
            assert_eq!(g.total_sectors() * SECTOR_SIZE as u64, size);
        }
    }

    #[test]
    fn hard_disk_translation_is_16_heads_63_sectors() {
        // The Linux 0.11 root disk: 10 x 16 x 63.
        assert_eq!(
            Geometry::hard_disk_for_sectors(10_080),
            Geometry::new(10, 16, 63)
        );
        assert_eq!(
            Geometry::hard_disk_for_sectors(65_536),
            Geometry::new(65, 16, 63)
        );
        assert_eq!(
            Geometry::hard_disk_for_sectors(100),
            Geometry::new(1, 16, 63)
        );
        assert_eq!(Geometry::hard_disk_for_sectors(u64::MAX).cylinders, 16383);
    }

    #[test]
    fn chs_and_lba_convert_both_ways() {
        let g = Geometry::new(80, 2, 18);
        assert_eq!(g.chs_to_lba(0, 0, 1), Some(0));
        assert_eq!(g.chs_to_lba(0, 1, 1), Some(18));
        assert_eq!(g.chs_to_lba(1, 0, 3), Some(38));
        assert_eq!(g.lba_to_chs(38), Some((1, 0, 3)));
        assert_eq!(g.chs_to_lba(0, 0, 0), None, "sectors count from 1");
        assert_eq!(g.chs_to_lba(0, 0, 19), None);
        assert_eq!(g.chs_to_lba(0, 2, 1), None);
        assert_eq!(g.chs_to_lba(80, 0, 1), None);
        assert_eq!(g.lba_to_chs(2880), None);
        for lba in 0..g.total_sectors() {
            let (c, h, s) = g.lba_to_chs(lba).unwrap();
            assert_eq!(g.chs_to_lba(c, h, s), Some(lba));
        }
    }
}
