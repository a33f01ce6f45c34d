//! The host side of an [`AtaChannel`] for protocol tests: port accesses,
//! `rep insw`/`rep outsw` of a sector, task-file setup for LBA and CHS
//! commands, and a disk with a recognisable pattern in every sector.
//! Shared by the tests of `ata.rs` and `ata_drive.rs`.

use crate::ata::AtaChannel;
use crate::ata_regs::{
    REG_DATA, REG_DEVICE, REG_LBA_HIGH, REG_LBA_LOW, REG_LBA_MID, REG_SECTOR_COUNT, REG_STATUS,
};
use crate::block::{MemDisk, SECTOR_SIZE};
use crate::bus::{AccessSize, PortDevice};
use crate::irq::TestLine;

/// A disk whose sector n holds n as a little-endian u32, then the byte
/// n & 0xFF repeated.
pub(crate) fn pattern_disk(sectors: usize) -> MemDisk {
    let mut data = Vec::with_capacity(sectors * SECTOR_SIZE);
    for n in 0..sectors {
        let mut sector = [n as u8; SECTOR_SIZE];
        sector[..4].copy_from_slice(&(n as u32).to_le_bytes());
        data.extend_from_slice(&sector);
    }
    MemDisk::from_vec(data).unwrap()
}

pub(crate) fn channel_with(disk: MemDisk) -> (AtaChannel, TestLine) {
    let line = TestLine::new();
    (AtaChannel::new(Some(Box::new(disk)), line.boxed()), line)
}

pub(crate) fn outb(ch: &mut AtaChannel, offset: u16, value: u8) {
    PortDevice::write(ch, offset, AccessSize::Byte, u32::from(value));
}

pub(crate) fn inb(ch: &mut AtaChannel, offset: u16) -> u8 {
    PortDevice::read(ch, offset, AccessSize::Byte) as u8
}

/// `rep insw` of one 512-byte sector from the data port.
pub(crate) fn insw_sector(ch: &mut AtaChannel) -> Vec<u8> {
    (0..256)
        .flat_map(|_| (PortDevice::read(ch, REG_DATA, AccessSize::Word) as u16).to_le_bytes())
        .collect()
}

/// `rep outsw` of one 512-byte sector to the data port.
pub(crate) fn outsw_sector(ch: &mut AtaChannel, data: &[u8]) {
    for pair in data.chunks_exact(2) {
        let word = u16::from_le_bytes([pair[0], pair[1]]);
        PortDevice::write(ch, REG_DATA, AccessSize::Word, u32::from(word));
    }
}

/// Task file for an LBA28 command: count, LBA 0-23, 0xE0 | LBA 24-27.
pub(crate) fn task_file_lba(ch: &mut AtaChannel, lba: u32, count: u8) {
    let [low, mid, high, top] = lba.to_le_bytes();
    outb(ch, REG_SECTOR_COUNT, count);
    outb(ch, REG_LBA_LOW, low);
    outb(ch, REG_LBA_MID, mid);
    outb(ch, REG_LBA_HIGH, high);
    outb(ch, REG_DEVICE, 0xE0 | top & 0x0F);
}

/// Task file for a CHS command: count, sector, cylinder, 0xA0 | head.
pub(crate) fn task_file_chs(ch: &mut AtaChannel, cylinder: u16, head: u8, sector: u8, count: u8) {
    let [low, high] = cylinder.to_le_bytes();
    outb(ch, REG_SECTOR_COUNT, count);
    outb(ch, REG_LBA_LOW, sector);
    outb(ch, REG_LBA_MID, low);
    outb(ch, REG_LBA_HIGH, high);
    outb(ch, REG_DEVICE, 0xA0 | head);
}

/// The interrupt handler's acknowledge: read the status register.
pub(crate) fn ack(ch: &mut AtaChannel) -> u8 {
    inb(ch, REG_STATUS)
}

pub(crate) fn first_u32(sector: &[u8]) -> u32 {
    u32::from_le_bytes(sector[..4].try_into().unwrap())
}
