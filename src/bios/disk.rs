//! INT 13h: the disk services, high-level: sectors move between the disk
//! images inside the floppy and ATA controllers and guest memory directly,
//! without programming either controller, so the BIOS and a guest's own
//! drivers see the same image.
//!
//! Drives: 00h/01h are the diskettes in the FDC's drives A: and B: (CHS
//! from the standard format of the image: 160K to 2.88M); 80h is the ATA
//! primary master (CHS from the ATA model's default geometry, LBA through
//! the EDD functions 41h-48h). Status codes: 00h ok, 01h bad command or
//! parameter, 03h write protected, 04h sector not found, 80h timeout (no
//! such drive / no medium). The status of the last operation is kept at
//! 0040:0041 (diskettes) and 0040:0074 (hard disks); CF is set on error.
//!
//! Not emulated: the 64 KiB DMA boundary error (09h; transfers are done by
//! the BIOS, not DMA), formatting (AH=05h succeeds and writes nothing),
//! media change (the change line always reads "not changed").

use btvm_devices::block::{BlockDevice, Geometry, SECTOR_SIZE};
use btvm_jit::abi::sreg;

use super::bda;
use super::call::Call;
use super::rom::{RomMap, Sym, ROM_SEGMENT};

/// Status: success.
pub const OK: u8 = 0x00;
/// Status: invalid function or parameter.
pub const BAD_COMMAND: u8 = 0x01;
/// Status: write protected.
pub const WRITE_PROTECTED: u8 = 0x03;
/// Status: sector not found.
pub const SECTOR_NOT_FOUND: u8 = 0x04;
/// Status: timeout, drive not ready (no such drive).
pub const TIMEOUT: u8 = 0x80;
/// Most sectors one EDD request may move (Phoenix EDD 3.0).
const EDD_MAX_SECTORS: u16 = 0x7F;

/// The first hard disk's BIOS number.
pub const FIRST_HARD_DISK: u8 = 0x80;

/// A drive's image and geometry, borrowed from its controller.
struct Drive<'a> {
    disk: &'a mut (dyn BlockDevice + 'static),
    geometry: Geometry,
}

fn drive<'a>(c: &'a mut Call, dl: u8) -> Option<Drive<'a>> {
    match dl {
        0 | 1 => {
            let media = c.pc.fdc.media_mut(usize::from(dl))?;
            let geometry = media.geometry();
            Some(Drive {
                disk: media.disk_mut(),
                geometry,
            })
        }
        FIRST_HARD_DISK => {
            let geometry = c.pc.ata.master_geometry()?;
            Some(Drive {
                disk: c.pc.ata.master_disk_mut()?,
                geometry,
            })
        }
        _ => None,
    }
}

/// Number of diskette drives with a medium.
pub fn floppy_count(c: &mut Call) -> u8 {
    (0..2).filter(|&d| c.pc.fdc.media_mut(d).is_some()).count() as u8
}

/// Number of hard disks.
pub fn hard_disk_count(c: &mut Call) -> u8 {
    u8::from(c.pc.ata.master_geometry().is_some())
}

/// The diskette parameter table for a format.
pub fn dpt_for(rom: &RomMap, g: Option<Geometry>) -> u16 {
    let sym = match g.map(|g| (g.cylinders, g.sectors)) {
        Some((40, _)) => Sym::Dpt360,
        Some((_, 9)) => Sym::Dpt720,
        Some((_, 15)) => Sym::Dpt1200,
        Some((_, 36)) => Sym::Dpt2880,
        _ => Sym::Dpt1440,
    };
    rom.sym(sym)
}

/// CMOS/BIOS drive type of a diskette format (INT 13h AH=08h BL).
fn floppy_type(g: Geometry) -> u8 {
    match (g.cylinders, g.sectors) {
        (40, _) => 1,
        (_, 9) => 3,
        (_, 15) => 2,
        (_, 36) => 5,
        _ => 4,
    }
}

/// Read or write `count` sectors at `lba` to/from guest memory at `addr`.
fn transfer(c: &mut Call, dl: u8, lba: u64, count: u16, addr: u32, write: bool) -> u8 {
    let mut buf = vec![0u8; usize::from(count) * SECTOR_SIZE];
    if write {
        c.read_block(addr, &mut buf);
    }
    let Some(d) = drive(c, dl) else {
        return TIMEOUT;
    };
    if lba
        .checked_add(u64::from(count))
        .is_none_or(|end| end > d.disk.sector_count())
    {
        return SECTOR_NOT_FOUND;
    }
    if write {
        if d.disk.read_only() {
            return WRITE_PROTECTED;
        }
        if d.disk.write_sectors(lba, &buf).is_err() {
            return SECTOR_NOT_FOUND;
        }
    } else {
        if d.disk.read_sectors(lba, &mut buf).is_err() {
            return SECTOR_NOT_FOUND;
        }
        c.write_block(addr, &buf);
    }
    OK
}

/// The LBA of the CHS address in CX/DH, or a status.
fn chs_lba(c: &mut Call, g: Geometry) -> Result<u64, u8> {
    let cyl = u32::from(c.ch()) | u32::from(c.cl() & 0xC0) << 2;
    let sector = u32::from(c.cl() & 0x3F);
    let head = u32::from(c.dh());
    g.chs_to_lba(cyl, head, sector).ok_or(SECTOR_NOT_FOUND)
}

/// AH=02h/03h/04h: CHS read, write, verify of AL sectors at ES:BX.
fn chs_io(c: &mut Call, op: u8) -> u8 {
    let (dl, count) = (c.dl(), c.al());
    let Some(g) = drive(c, dl).map(|d| d.geometry) else {
        return TIMEOUT;
    };
    if count == 0 {
        return BAD_COMMAND;
    }
    let lba = match chs_lba(c, g) {
        Ok(lba) => lba,
        Err(status) => return status,
    };
    let status = match op {
        0x04 => match drive(c, dl) {
            Some(d) if lba + u64::from(count) <= d.disk.sector_count() => OK,
            _ => SECTOR_NOT_FOUND,
        },
        _ => {
            let addr = c.far(c.seg(sreg::ES), c.bx());
            transfer(c, dl, lba, u16::from(count), addr, op == 0x03)
        }
    };
    if status != OK {
        c.set_al(0);
    }
    status
}

/// AH=08h: drive parameters.
fn parameters(c: &mut Call, rom: &RomMap) -> u8 {
    let dl = c.dl();
    let floppy = dl < FIRST_HARD_DISK;
    let count = if floppy {
        floppy_count(c)
    } else {
        hard_disk_count(c)
    };
    let Some(g) = drive(c, dl).map(|d| d.geometry) else {
        c.set_dl(count);
        return TIMEOUT;
    };
    let max_cyl = (g.cylinders.clamp(1, 1024) - 1) as u16;
    c.set_ch(max_cyl as u8);
    c.set_cl((g.sectors.min(63) as u8) | ((max_cyl >> 2) as u8 & 0xC0));
    c.set_dh((g.heads.clamp(1, 256) - 1) as u8);
    c.set_dl(count);
    c.set_al(0);
    if floppy {
        c.set_bl(floppy_type(g));
        c.set_bh(0);
        c.set_seg(sreg::ES, ROM_SEGMENT);
        c.set_di(dpt_for(rom, Some(g)));
    }
    OK
}

/// The 16-byte EDD disk address packet at DS:SI: (count, buffer, LBA).
fn edd_packet(c: &mut Call) -> Option<(u32, u16, u32, u64)> {
    let p = c.far(c.seg(sreg::DS), c.si());
    let size = c.read8(p);
    if size < 0x10 {
        return None;
    }
    let count = c.read16(p + 2);
    let (off, seg) = (c.read16(p + 4), c.read16(p + 6));
    let lba = u64::from(c.read32(p + 8)) | u64::from(c.read32(p + 12)) << 32;
    let addr = if off == 0xFFFF && seg == 0xFFFF && size >= 0x18 {
        // 64-bit flat buffer address (EDD 3.0); only 32 bits reach memory.
        c.read32(p + 0x10)
    } else {
        c.far(seg, off)
    };
    Some((p, count, addr, lba))
}

/// AH=42h/43h/44h: extended read, write, verify.
fn edd_io(c: &mut Call, op: u8) -> u8 {
    let dl = c.dl();
    if dl < FIRST_HARD_DISK {
        return BAD_COMMAND;
    }
    if drive(c, dl).is_none() {
        return TIMEOUT;
    }
    let Some((packet, count, addr, lba)) = edd_packet(c) else {
        return BAD_COMMAND;
    };
    if count > EDD_MAX_SECTORS {
        c.write16(packet + 2, 0);
        return BAD_COMMAND;
    }
    let status = match op {
        0x44 => match drive(c, dl) {
            Some(d)
                if lba
                    .checked_add(u64::from(count))
                    .is_some_and(|e| e <= d.disk.sector_count()) =>
            {
                OK
            }
            _ => SECTOR_NOT_FOUND,
        },
        _ => transfer(c, dl, lba, count, addr, op == 0x43),
    };
    if status != OK {
        c.write16(packet + 2, 0);
    }
    status
}

/// AH=48h: extended drive parameters into the buffer at DS:SI.
fn edd_parameters(c: &mut Call) -> u8 {
    let dl = c.dl();
    let Some((g, total)) = drive(c, dl).map(|d| (d.geometry, d.disk.sector_count())) else {
        return TIMEOUT;
    };
    if dl < FIRST_HARD_DISK {
        return BAD_COMMAND;
    }
    let p = c.far(c.seg(sreg::DS), c.si());
    let size = c.read16(p);
    if size < 0x1A {
        return BAD_COMMAND;
    }
    let written: u16 = if size >= 0x1E { 0x1E } else { 0x1A };
    c.write16(p, written);
    c.write16(p + 2, 0x0002); // CHS information valid
    c.write32(p + 4, g.cylinders);
    c.write32(p + 8, g.heads);
    c.write32(p + 12, g.sectors);
    c.write32(p + 16, total as u32);
    c.write32(p + 20, (total >> 32) as u32);
    c.write16(p + 24, SECTOR_SIZE as u16);
    if written >= 0x1E {
        c.write32(p + 26, 0xFFFF_FFFF); // no device parameter table extension
    }
    OK
}

/// INT 13h.
pub fn int13(c: &mut Call, rom: &RomMap) {
    let (ah, dl) = (c.ah(), c.dl());
    let floppy = dl < FIRST_HARD_DISK;
    let status_at = if floppy {
        bda::FLOPPY_LAST_STATUS
    } else {
        bda::DISK_LAST_STATUS
    };
    let status = match ah {
        0x00 | 0x0D => match (floppy, drive(c, dl).is_some()) {
            (true, _) if dl <= 1 => OK,
            (true, _) => BAD_COMMAND,
            (false, true) => OK,
            (false, false) => TIMEOUT,
        },
        0x01 => {
            let last = c.bda8(status_at);
            c.set_ah(last);
            c.set_cf(last != OK);
            return;
        }
        0x02..=0x04 => chs_io(c, ah),
        0x05 | 0x0C | 0x10 | 0x11 | 0x14 | 0x47 => match drive(c, dl) {
            Some(_) => OK,
            None => TIMEOUT,
        },
        0x08 => parameters(c, rom),
        0x15 => {
            let info = drive(c, dl).map(|d| d.geometry);
            match info {
                None => c.set_ah(0),
                Some(_) if floppy => c.set_ah(0x02), // diskette with change line
                Some(g) => {
                    let n = g.total_sectors().min(u64::from(u32::MAX)) as u32;
                    c.set_cx((n >> 16) as u16);
                    c.set_dx(n as u16);
                    c.set_ah(0x03);
                }
            }
            c.set_cf(false);
            return;
        }
        0x16 => {
            if drive(c, dl).is_some() {
                OK
            } else {
                TIMEOUT
            }
        }
        0x17 | 0x18 => {
            let g = drive(c, dl).map(|d| d.geometry);
            match g {
                Some(g) if floppy => {
                    if ah == 0x18 {
                        c.set_seg(sreg::ES, ROM_SEGMENT);
                        c.set_di(dpt_for(rom, Some(g)));
                    }
                    OK
                }
                Some(_) => BAD_COMMAND,
                None => TIMEOUT,
            }
        }
        0x41 => {
            if floppy || c.bx() != 0x55AA || drive(c, dl).is_none() {
                BAD_COMMAND
            } else {
                c.set_bx(0xAA55);
                c.set_cx(0x0001); // fixed disk access subset: 42h-44h, 47h, 48h
                c.set_ah(0x30); // EDD 3.0
                c.set_bda8(status_at, OK);
                c.set_cf(false);
                return;
            }
        }
        0x42..=0x44 => edd_io(c, ah),
        0x48 => edd_parameters(c),
        _ => BAD_COMMAND,
    };
    c.set_ah(status);
    c.set_bda8(status_at, status);
    c.set_cf(status != OK);
}

/// Read the first sector of drive `dl` into `addr` for INT 19h. `None`:
/// no such drive or unreadable.
pub fn read_boot_sector(c: &mut Call, dl: u8, addr: u32) -> Option<[u8; SECTOR_SIZE]> {
    let mut buf = [0u8; SECTOR_SIZE];
    let d = drive(c, dl)?;
    d.disk.read_sectors(0, &mut buf).ok()?;
    c.write_block(addr, &buf);
    Some(buf)
}

/// The 16-byte fixed-disk parameter table (INT 41h/46h) of the drive with
/// this geometry; all zeros for no drive.
pub fn fdpt(g: Option<Geometry>) -> [u8; 16] {
    let mut t = [0u8; 16];
    if let Some(g) = g {
        let cyl = g.cylinders.min(0xFFFF) as u16;
        t[0..2].copy_from_slice(&cyl.to_le_bytes()); // cylinders
        t[2] = g.heads.min(255) as u8; // heads
        t[5..7].copy_from_slice(&0xFFFFu16.to_le_bytes()); // write precompensation: none
        t[8] = if g.heads > 8 { 0x08 } else { 0x00 }; // control byte
        t[12..14].copy_from_slice(&cyl.to_le_bytes()); // landing zone
        t[14] = g.sectors.min(255) as u8; // sectors per track
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_disk_table_layout() {
        let t = fdpt(Some(Geometry::new(10, 16, 63)));
        assert_eq!(&t[0..3], &[10, 0, 16]);
        assert_eq!(t[8], 0x08);
        assert_eq!(t[14], 63);
        assert_eq!(fdpt(None), [0; 16]);
    }

    #[test]
    fn floppy_types_follow_the_format() {
        assert_eq!(floppy_type(Geometry::new(80, 2, 18)), 4);
        assert_eq!(floppy_type(Geometry::new(40, 2, 9)), 1);
        assert_eq!(floppy_type(Geometry::new(80, 2, 9)), 3);
        assert_eq!(floppy_type(Geometry::new(80, 2, 15)), 2);
        assert_eq!(floppy_type(Geometry::new(80, 2, 36)), 5);
    }
}
