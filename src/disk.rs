//! Host disk images behind the devices' [`BlockDevice`] trait: raw image
//! files (`--floppy`, `--disk`), read-write when the file is writable, with
//! `--snapshot` keeping every write in memory so the file never changes.
//!
//! Writes go straight to the file (positional writes, no caching here), so
//! whatever way btvm exits, what the guest wrote is in the file.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use btvm_devices::block::{sector_byte_range, BlockDevice, BlockError, SECTOR_SIZE};

use crate::error::Error;

/// A raw disk image file.
pub struct DiskImage {
    file: File,
    path: PathBuf,
    sectors: u64,
    writable: bool,
    /// `--snapshot`: sectors written since power-on, kept in memory.
    overlay: Option<HashMap<u64, Box<[u8; SECTOR_SIZE]>>>,
}

impl DiskImage {
    /// Open `path`: read-write if the file allows it, else read-only (the
    /// guest sees a write-protected disk). With `snapshot`, the file is only
    /// read and the guest's writes live in memory until btvm exits.
    pub fn open(path: &Path, snapshot: bool) -> Result<Self, Error> {
        let (file, writable) = if snapshot {
            (File::open(path).map_err(|e| Error::file(path, e))?, true)
        } else {
            match OpenOptions::new().read(true).write(true).open(path) {
                Ok(f) => (f, true),
                Err(e)
                    if e.kind() == std::io::ErrorKind::PermissionDenied
                        || e.raw_os_error() == Some(30) =>
                {
                    // EACCES, or EROFS (30): use it read-only.
                    (File::open(path).map_err(|e| Error::file(path, e))?, false)
                }
                Err(e) => return Err(Error::file(path, e)),
            }
        };
        let meta = file.metadata().map_err(|e| Error::file(path, e))?;
        if !meta.is_file() {
            return Err(Error::format(path, "not a regular file"));
        }
        let len = meta.len();
        if len == 0 || len % SECTOR_SIZE as u64 != 0 {
            return Err(Error::format(
                path,
                format!("{len} bytes is not a whole number of 512-byte sectors"),
            ));
        }
        Ok(DiskImage {
            file,
            path: path.to_path_buf(),
            sectors: len / SECTOR_SIZE as u64,
            writable,
            overlay: snapshot.then(HashMap::new),
        })
    }

    /// The image file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Size in bytes.
    pub fn len(&self) -> u64 {
        self.sectors * SECTOR_SIZE as u64
    }

    /// Whether the image has no sectors (never true for an opened image).
    pub fn is_empty(&self) -> bool {
        self.sectors == 0
    }
}

impl BlockDevice for DiskImage {
    fn sector_count(&self) -> u64 {
        self.sectors
    }

    fn read_sectors(&mut self, lba: u64, buf: &mut [u8]) -> Result<(), BlockError> {
        let range = sector_byte_range(lba, buf.len(), self.sectors)?;
        self.file.read_exact_at(buf, range.start as u64)?;
        if let Some(overlay) = &self.overlay {
            for (i, chunk) in buf.chunks_mut(SECTOR_SIZE).enumerate() {
                if let Some(s) = overlay.get(&(lba + i as u64)) {
                    chunk.copy_from_slice(&s[..]);
                }
            }
        }
        Ok(())
    }

    fn write_sectors(&mut self, lba: u64, buf: &[u8]) -> Result<(), BlockError> {
        let range = sector_byte_range(lba, buf.len(), self.sectors)?;
        if !self.writable {
            return Err(BlockError::ReadOnly);
        }
        match &mut self.overlay {
            Some(overlay) => {
                for (i, chunk) in buf.chunks(SECTOR_SIZE).enumerate() {
                    let mut s = Box::new([0u8; SECTOR_SIZE]);
                    s.copy_from_slice(chunk);
                    overlay.insert(lba + i as u64, s);
                }
            }
            None => self.file.write_all_at(buf, range.start as u64)?,
        }
        Ok(())
    }

    fn read_only(&self) -> bool {
        !self.writable
    }

    fn flush(&mut self) -> Result<(), BlockError> {
        if self.overlay.is_none() && self.writable {
            self.file.sync_data()?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_image(name: &str, sectors: usize) -> PathBuf {
        let p = std::env::temp_dir().join(format!("btvm-disk-{name}-{}.img", std::process::id()));
        let data: Vec<u8> = (0..sectors * SECTOR_SIZE)
            .map(|i| (i / SECTOR_SIZE) as u8)
            .collect();
        std::fs::write(&p, data).unwrap();
        p
    }

    #[test]
    fn reads_and_writes_reach_the_file() {
        let p = temp_image("rw", 4);
        let mut d = DiskImage::open(&p, false).unwrap();
        assert_eq!(d.sector_count(), 4);
        let mut buf = [0u8; 1024];
        d.read_sectors(2, &mut buf).unwrap();
        assert!(buf[..512].iter().all(|&b| b == 2) && buf[512..].iter().all(|&b| b == 3));
        d.write_sectors(1, &[0xAB; 512]).unwrap();
        drop(d);
        let data = std::fs::read(&p).unwrap();
        assert!(data[512..1024].iter().all(|&b| b == 0xAB));
        std::fs::remove_file(&p).ok();
    }

    #[test]
    fn snapshot_keeps_writes_in_memory() {
        let p = temp_image("snap", 4);
        let before = std::fs::read(&p).unwrap();
        let mut d = DiskImage::open(&p, true).unwrap();
        d.write_sectors(0, &[0xCD; 512]).unwrap();
        let mut buf = [0u8; 1024];
        d.read_sectors(0, &mut buf).unwrap();
        assert!(
            buf[..512].iter().all(|&b| b == 0xCD),
            "the guest reads its write back"
        );
        assert!(buf[512..].iter().all(|&b| b == 1));
        drop(d);
        assert_eq!(std::fs::read(&p).unwrap(), before, "the file is untouched");
        std::fs::remove_file(&p).ok();
    }

    #[test]
    fn bad_images_are_clear_errors() {
        let p = std::env::temp_dir().join(format!("btvm-disk-odd-{}.img", std::process::id()));
        std::fs::write(&p, [0u8; 700]).unwrap();
        let e = DiskImage::open(&p, false).err().unwrap().to_string();
        assert!(
            e.contains("btvm-disk-odd") && e.contains("512-byte sectors"),
            "{e}"
        );
        std::fs::remove_file(&p).ok();
        let e = DiskImage::open(Path::new("/nonexistent/x.img"), false)
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("/nonexistent/x.img"), "{e}");
    }

    #[test]
    fn out_of_range_access_is_an_error_not_a_panic() {
        let p = temp_image("range", 2);
        let mut d = DiskImage::open(&p, true).unwrap();
        let mut buf = [0u8; 512];
        assert!(d.read_sectors(2, &mut buf).is_err());
        assert!(d.write_sectors(5, &buf).is_err());
        std::fs::remove_file(&p).ok();
    }
}
