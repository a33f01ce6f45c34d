//! The execution phase of the 82077AA's data commands: READ DATA, WRITE
//! DATA and FORMAT TRACK moving bytes sector by sector between a drive and
//! the host (through DMA or the FIFO), and how each one ends.
//!
//! Reference: Intel 82077AA datasheet, "Data Transfer Commands" and table
//! "Effects of MT and EOT on the result phase" (C/H/R/N after the last
//! sector transferred). After sector R: unless R = EOT the next sector is R+1;
//! at R = EOT with MT set on head 0 the transfer goes on at head 1 sector 1
//! (H complemented); otherwise the cylinder is done (C+1, R=1, H
//! complemented if MT). TC from the DMA controller ends the command
//! normally; running past the end of the cylinder without TC ends it
//! abnormally with ST1 "end of cylinder" (what Linux's pseudo-DMA expects).
//!
//! The next sector is only looked up when the host asks for (or sends) its
//! first byte, so a TC that arrives with the last byte of a sector ends the
//! command normally even when there is no next sector.

use crate::block::SECTOR_SIZE;
use crate::fdc_drive::{Fault, FloppyDrive, SectorId};
use crate::fdc_regs::{
    DataRate, HEAD_SHIFT, SECTOR_SIZE_CODE, ST0_ABNORMAL, ST0_NOT_READY, ST1_END_OF_CYLINDER,
    ST1_MISSING_ADDRESS_MARK, ST1_NOT_WRITABLE,
};

/// Which data command is executing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TransferKind {
    /// READ DATA: sectors to the host.
    Read,
    /// WRITE DATA: sectors from the host.
    Write,
    /// FORMAT TRACK: 4 ID bytes (C, H, R, N) per sector from the host.
    Format {
        /// Byte every formatted sector is filled with.
        fill: u8,
        /// Sector IDs still to come.
        ids_left: u8,
    },
}

/// The parameters of a data command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TransferParams {
    /// Drive select (0-3).
    pub drive: usize,
    /// Physical head (HDS).
    pub head: u8,
    /// ID of the first sector (FORMAT: C/H from the track, N from the command).
    pub id: SectorId,
    /// Last sector number of the track (EOT).
    pub eot: u8,
    /// Multi-track.
    pub mt: bool,
    /// MFM encoding.
    pub mfm: bool,
    /// Data rate programmed in the DSR/CCR.
    pub rate: DataRate,
}

/// How a command ended: the seven result bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ending {
    /// ST0, with head and drive bits.
    pub st0: u8,
    /// ST1.
    pub st1: u8,
    /// ST2.
    pub st2: u8,
    /// C, H, R, N for the result phase.
    pub id: SectorId,
}

impl Ending {
    /// The result phase bytes: ST0, ST1, ST2, C, H, R, N.
    pub fn result_bytes(&self) -> [u8; 7] {
        [
            self.st0, self.st1, self.st2, self.id.c, self.id.h, self.id.r, self.id.n,
        ]
    }
}

/// The ending of a command on `drive`/`head` with ST0 interrupt code and
/// flags `st0`, ST1, ST2 and the result ID `id`.
fn ending(drive: usize, head: u8, st0: u8, st1: u8, st2: u8, id: SectorId) -> Ending {
    Ending {
        st0: st0 | head << HEAD_SHIFT | drive as u8,
        st1,
        st2,
        id,
    }
}

/// The ending of a command on `drive`/`head` that hit `fault`.
fn fault_ending(drive: usize, head: u8, fault: Fault, id: SectorId) -> Ending {
    match fault {
        Fault::NoMedia => ending(
            drive,
            head,
            ST0_ABNORMAL | ST0_NOT_READY,
            ST1_MISSING_ADDRESS_MARK,
            0,
            id,
        ),
        Fault::Status { st1, st2 } => ending(drive, head, ST0_ABNORMAL, st1, st2, id),
    }
}

/// READ ID: the first ID found on the track under `head`, or why none is.
pub fn read_id(drive: &FloppyDrive, index: usize, head: u8, rate: DataRate, mfm: bool) -> Ending {
    let id = SectorId {
        c: drive.cylinder,
        h: head,
        r: 1,
        n: SECTOR_SIZE_CODE,
    };
    match drive.readable_track(head, rate, mfm) {
        Ok(_) => ending(index, head, 0, 0, 0, id),
        Err(fault) => fault_ending(index, head, fault, id),
    }
}

/// A data command in its execution phase.
#[derive(Clone, Debug)]
pub struct Transfer {
    kind: TransferKind,
    params: TransferParams,
    /// Current physical head.
    head: u8,
    /// ID of the sector being moved, or of the next one at a boundary.
    id: SectorId,
    /// LBA of the sector being moved.
    lba: u64,
    buf: [u8; SECTOR_SIZE],
    pos: usize,
    /// The current sector is done; `id` names the next one.
    at_boundary: bool,
    /// At a boundary: the head to go on with, `None` at the cylinder's end.
    next_head: Option<u8>,
}

impl Transfer {
    /// Begin executing `kind` on `drive`; `Err` if it ends at once.
    pub fn start(
        kind: TransferKind,
        params: TransferParams,
        drive: &mut FloppyDrive,
    ) -> Result<Transfer, Ending> {
        let mut t = Transfer {
            kind,
            params,
            head: params.head,
            id: params.id,
            lba: 0,
            buf: [0; SECTOR_SIZE],
            pos: 0,
            at_boundary: false,
            next_head: None,
        };
        if drive.media().is_none() {
            return Err(t.fault(Fault::NoMedia));
        }
        match kind {
            TransferKind::Read => t.open_sector(drive)?,
            TransferKind::Write | TransferKind::Format { .. } if drive.write_protected() => {
                return Err(t.end(ST0_ABNORMAL, ST1_NOT_WRITABLE, 0));
            }
            TransferKind::Write => t.open_sector(drive)?,
            TransferKind::Format { ids_left: 0, .. } => return Err(t.end(0, 0, 0)),
            TransferKind::Format { .. } => {}
        }
        Ok(t)
    }

    /// The drive this command runs on.
    pub fn drive(&self) -> usize {
        self.params.drive
    }

    /// Whether data flows to the host (MSR DIO in non-DMA mode).
    pub fn reads_to_host(&self) -> bool {
        self.kind == TransferKind::Read
    }

    /// Whether the current sector is complete and the next not yet begun.
    pub fn at_boundary(&self) -> bool {
        self.at_boundary
    }

    fn end(&self, st0: u8, st1: u8, st2: u8) -> Ending {
        ending(self.params.drive, self.head, st0, st1, st2, self.id)
    }

    fn fault(&self, fault: Fault) -> Ending {
        fault_ending(self.params.drive, self.head, fault, self.id)
    }

    /// Find the sector `id` names and, for reads, load it.
    fn open_sector(&mut self, drive: &mut FloppyDrive) -> Result<(), Ending> {
        let p = self.params;
        self.lba = drive
            .find_sector(self.id, self.head, p.rate, p.mfm)
            .map_err(|f| self.fault(f))?;
        self.pos = 0;
        self.at_boundary = false;
        if self.kind == TransferKind::Read {
            drive
                .read(self.lba, &mut self.buf)
                .map_err(|f| self.fault(f))?;
        } else {
            self.buf.fill(0);
        }
        Ok(())
    }

    /// The current sector is done: step `id` to the next one.
    fn close_sector(&mut self) {
        self.at_boundary = true;
        let last = self.id;
        if last.r != self.params.eot {
            self.id.r = last.r.wrapping_add(1);
            self.next_head = Some(self.head);
        } else if self.params.mt && self.head == 0 {
            self.id.h ^= 1;
            self.id.r = 1;
            self.next_head = Some(1);
        } else {
            self.id.c = last.c.wrapping_add(1);
            if self.params.mt {
                self.id.h ^= 1;
            }
            self.id.r = 1;
            self.next_head = None;
        }
    }

    /// At a boundary, go on to the next sector (or end the command).
    pub fn continue_at_boundary(&mut self, drive: &mut FloppyDrive) -> Result<(), Ending> {
        if !self.at_boundary {
            return Ok(());
        }
        let Some(head) = self.next_head else {
            return Err(self.end(ST0_ABNORMAL, ST1_END_OF_CYLINDER, 0));
        };
        self.head = head;
        self.open_sector(drive)
    }

    /// DMA write cycle / FIFO read: the next bytes for the host.
    pub fn host_read(
        &mut self,
        drive: &mut FloppyDrive,
        buf: &mut [u8],
    ) -> (usize, Option<Ending>) {
        if self.kind != TransferKind::Read {
            return (0, None);
        }
        if let Err(end) = self.continue_at_boundary(drive) {
            return (0, Some(end));
        }
        let n = buf.len().min(SECTOR_SIZE - self.pos);
        buf[..n].copy_from_slice(&self.buf[self.pos..self.pos + n]);
        self.pos += n;
        if self.pos == SECTOR_SIZE {
            self.close_sector();
        }
        (n, None)
    }

    /// DMA read cycle / FIFO write: bytes from the host.
    pub fn host_write(&mut self, drive: &mut FloppyDrive, data: &[u8]) -> (usize, Option<Ending>) {
        match self.kind {
            TransferKind::Read => (0, None),
            TransferKind::Write => {
                if let Err(end) = self.continue_at_boundary(drive) {
                    return (0, Some(end));
                }
                let n = data.len().min(SECTOR_SIZE - self.pos);
                self.buf[self.pos..self.pos + n].copy_from_slice(&data[..n]);
                self.pos += n;
                if self.pos == SECTOR_SIZE {
                    if let Err(f) = drive.write(self.lba, &self.buf) {
                        return (n, Some(self.fault(f)));
                    }
                    self.close_sector();
                }
                (n, None)
            }
            TransferKind::Format { fill, mut ids_left } => {
                let mut used = 0;
                let mut ended = None;
                for &byte in data {
                    if ids_left == 0 {
                        break;
                    }
                    used += 1;
                    self.buf[self.pos] = byte;
                    self.pos += 1;
                    if self.pos < 4 {
                        continue;
                    }
                    self.pos = 0;
                    ids_left -= 1;
                    self.id = SectorId {
                        c: self.buf[0],
                        h: self.buf[1],
                        r: self.buf[2],
                        n: self.buf[3],
                    };
                    if let Err(f) = drive.format_sector(self.id, self.head, fill) {
                        ended = Some(self.fault(f));
                        break;
                    }
                    if ids_left == 0 {
                        ended = Some(self.end(0, 0, 0));
                    }
                }
                self.kind = TransferKind::Format { fill, ids_left };
                (used, ended)
            }
        }
    }

    /// TC: finish the sector in progress (a write's rest is zero-filled)
    /// and end the command normally.
    pub fn terminal_count(&mut self, drive: &mut FloppyDrive) -> Ending {
        if !self.at_boundary {
            match self.kind {
                TransferKind::Read => self.close_sector(),
                TransferKind::Write => {
                    self.buf[self.pos..].fill(0);
                    if let Err(f) = drive.write(self.lba, &self.buf) {
                        return self.fault(f);
                    }
                    self.close_sector();
                }
                TransferKind::Format { .. } => {}
            }
        }
        self.end(0, 0, 0)
    }
}

/// READ DATA, WRITE DATA and FORMAT TRACK as a driver issues them: DMA
/// channel 2 programmed as the PC BIOS and Linux do, or the FIFO in
/// non-DMA mode.
#[cfg(test)]
mod tests {
    use crate::block::SECTOR_SIZE;
    use crate::dma8237::DmaDevice;
    use crate::fdc_regs::{REG_CCR, REG_FIFO, REG_MSR};
    use crate::fdc_testing::{pattern_image, Pc, BUF};

    #[test]
    fn read_data_moves_one_sector_through_dma_channel_2() {
        let mut pc = Pc::new();
        pc.seek_and_sense(&[0x0F, 0x00, 1]);
        pc.program_dma(0x46, 512);
        // READ DATA MT|MFM|SK, head 1 drive 0, C=1 H=1 R=3 N=2, EOT 18, GPL, DTL.
        let result = pc.data_command(&[0xE6, 0x04, 1, 1, 3, 2, 18, 0x1B, 0xFF]);
        assert_eq!(result, [0x04, 0, 0, 1, 1, 4, 2]);
        assert_eq!(pc.sector_tag(0), (2 + 1) * 18 + 2, "C=1 H=1 R=3");
        assert_eq!(pc.ram.0[BUF as usize + 511], 56);
        assert!(pc.dma.is_masked(2));
        assert_eq!(pc.dma.read_primary(0x08) & 0x04, 0x04, "TC on channel 2");
        assert_eq!(pc.inb(REG_MSR), 0x80);
    }

    #[test]
    fn multi_sector_read_stops_at_tc() {
        let mut pc = Pc::new();
        pc.program_dma(0x46, 3 * 512);
        let result = pc.data_command(&[0x66, 0x00, 0, 0, 5, 2, 18, 0x1B, 0xFF]);
        assert_eq!(result, [0x00, 0, 0, 0, 0, 8, 2]);
        assert_eq!(
            [pc.sector_tag(0), pc.sector_tag(1), pc.sector_tag(2)],
            [4, 5, 6]
        );
        assert_eq!(pc.sector_tag(3), 0);
    }

    #[test]
    fn multi_track_read_crosses_to_head_1() {
        let mut pc = Pc::new();
        pc.seek_and_sense(&[0x0F, 0x00, 2]);
        pc.program_dma(0x46, 4 * 512);
        let result = pc.data_command(&[0xE6, 0x00, 2, 0, 17, 2, 18, 0x1B, 0xFF]);
        assert_eq!(result, [0x04, 0, 0, 2, 1, 3, 2], "ends on head 1, R=3");
        let track2 = 2 * 36;
        let tags: Vec<u16> = (0..4).map(|n| pc.sector_tag(n)).collect();
        assert_eq!(tags, [track2 + 16, track2 + 17, track2 + 18, track2 + 19]);
    }

    #[test]
    fn tc_on_the_eot_sector_moves_to_the_next_cylinder() {
        let mut pc = Pc::new();
        pc.program_dma(0x46, 2 * 512);
        let result = pc.data_command(&[0x46, 0x00, 0, 0, 17, 2, 18, 0x1B, 0xFF]);
        assert_eq!(result, [0x00, 0, 0, 1, 0, 1, 2]);
    }

    #[test]
    fn reading_past_eot_without_tc_is_end_of_cylinder() {
        let mut pc = Pc::new();
        pc.program_dma(0x46, 8 * 512);
        let result = pc.data_command(&[0x46, 0x00, 0, 0, 17, 2, 18, 0x1B, 0xFF]);
        assert_eq!(result, [0x40, 0x80, 0, 1, 0, 1, 2]);
        assert!(!pc.dma.is_masked(2), "the DMA never reached TC");
    }

    #[test]
    fn sector_beyond_the_track_is_no_data() {
        let mut pc = Pc::new();
        pc.program_dma(0x46, 512);
        let result = pc.data_command(&[0x46, 0x00, 0, 0, 19, 2, 19, 0x1B, 0xFF]);
        assert_eq!(result, [0x40, 0x04, 0, 0, 0, 19, 2]);
        assert_eq!(pc.dma.current_count(2), 511, "nothing moved");
    }

    #[test]
    fn reading_a_cylinder_the_heads_are_not_on_is_wrong_cylinder() {
        let mut pc = Pc::new();
        pc.program_dma(0x46, 512);
        let result = pc.data_command(&[0x46, 0x00, 5, 0, 1, 2, 18, 0x1B, 0xFF]);
        assert_eq!(result, [0x40, 0x04, 0x10, 5, 0, 1, 2]);
        pc.command(&[0x13, 0x00, 0x40 | 0x20, 0x00]); // CONFIGURE: implied seek
        pc.program_dma(0x46, 512);
        let result = pc.data_command(&[0x46, 0x00, 5, 0, 1, 2, 18, 0x1B, 0xFF]);
        assert_eq!(result, [0x00, 0, 0, 5, 0, 2, 2]);
        assert_eq!(pc.sector_tag(0), 5 * 36);
    }

    #[test]
    fn wrong_data_rate_finds_no_address_mark() {
        let mut pc = Pc::new();
        pc.outb(REG_CCR, 0x02); // 250 kbit/s: a 720K rate
        pc.program_dma(0x46, 512);
        let result = pc.data_command(&[0x46, 0x00, 0, 0, 1, 2, 18, 0x1B, 0xFF]);
        assert_eq!(result, [0x40, 0x01, 0, 0, 0, 1, 2]);
    }

    #[test]
    fn a_360k_diskette_reads_at_the_reset_data_rate() {
        // MS-DOS 4's IBMBIO never programs a data rate.
        let mut pc = Pc::with_image(pattern_image(720));
        pc.program_dma(0x46, 512);
        let result = pc.data_command(&[0x46, 0x00, 0, 0, 9, 2, 9, 0x2A, 0xFF]);
        assert_eq!(result, [0x00, 0, 0, 1, 0, 1, 2]);
        assert_eq!(pc.sector_tag(0), 8);
    }

    #[test]
    fn write_data_lands_in_the_image() {
        let mut pc = Pc::new();
        for (i, b) in pc.ram.0[BUF as usize..BUF as usize + 1024]
            .iter_mut()
            .enumerate()
        {
            *b = (i / 512) as u8 + 0xA0;
        }
        pc.program_dma(0x4A, 1024);
        let result = pc.data_command(&[0xC5, 0x00, 0, 0, 2, 2, 18, 0x1B, 0xFF]);
        assert_eq!(result, [0x00, 0, 0, 0, 0, 4, 2]);
        let disk = pc.fdc.media_mut(0).unwrap().disk_mut();
        let mut buf = [0u8; 3 * SECTOR_SIZE];
        disk.read_sectors(1, &mut buf).unwrap();
        assert!(buf[..512].iter().all(|&b| b == 0xA0));
        assert!(buf[512..1024].iter().all(|&b| b == 0xA1));
        assert_eq!(
            u16::from_le_bytes([buf[1024], buf[1025]]),
            3,
            "sector 4 untouched"
        );
    }

    #[test]
    fn write_protected_diskette_is_not_writable() {
        let mut pc = Pc::with_image(pattern_image(2880).with_read_only(true));
        pc.outb(REG_CCR, 0x00);
        pc.program_dma(0x4A, 512);
        let result = pc.data_command(&[0x45, 0x00, 0, 0, 1, 2, 18, 0x1B, 0xFF]);
        assert_eq!(result, [0x40, 0x02, 0, 0, 0, 1, 2]);
        pc.command(&[0x04, 0x00]); // SENSE DRIVE STATUS
        assert_eq!(pc.results(), [0x28 | 0x40 | 0x10]);
    }

    #[test]
    fn format_track_fills_the_sectors_named_by_the_ids() {
        let mut pc = Pc::new();
        pc.seek_and_sense(&[0x0F, 0x04, 3]);
        let ids: Vec<u8> = (1..=18).flat_map(|r| [3, 1, r, 2]).collect();
        pc.ram.0[BUF as usize..BUF as usize + ids.len()].copy_from_slice(&ids);
        pc.program_dma(0x4A, ids.len() as u16);
        // FORMAT TRACK MFM, head 1: N=2, SC=18, GPL=0x54, fill 0xF6.
        let result = pc.data_command(&[0x4D, 0x04, 2, 18, 0x54, 0xF6]);
        assert_eq!(&result[..3], &[0x04, 0, 0]);
        let disk = pc.fdc.media_mut(0).unwrap().disk_mut();
        let mut track = vec![0u8; 18 * SECTOR_SIZE];
        disk.read_sectors((3 * 2 + 1) * 18, &mut track).unwrap();
        assert!(track.iter().all(|&b| b == 0xF6));
        let mut next = [0u8; SECTOR_SIZE];
        disk.read_sectors(8 * 18, &mut next).unwrap();
        assert_eq!(
            u16::from_le_bytes([next[0], next[1]]),
            144,
            "cylinder 4 untouched"
        );
    }

    #[test]
    fn empty_drive_ends_abnormally_not_ready() {
        let mut pc = Pc::new();
        pc.fdc.eject_media(0);
        pc.program_dma(0x46, 512);
        let result = pc.data_command(&[0x46, 0x00, 0, 0, 1, 2, 18, 0x1B, 0xFF]);
        assert_eq!(&result[..2], &[0x48, 0x01]);
        pc.command(&[0x4A, 0x01]); // READ ID on empty drive 1
        pc.wait_irq6();
        assert_eq!(pc.results()[0], 0x49);
    }

    #[test]
    fn non_dma_read_moves_bytes_through_the_fifo() {
        let mut pc = Pc::new();
        pc.command(&[0x03, 0xDF, 0x03]); // SPECIFY with ND
        pc.command(&[0x46, 0x00, 0, 0, 2, 2, 2, 0x1B, 0xFF]);
        assert_eq!(pc.inb(REG_MSR), 0xF0, "RQM | DIO | NDMA | CB");
        assert!(pc.irq6.level(), "INT asks for each byte");
        assert!(!pc.fdc.dma_request());
        let data: Vec<u8> = (0..SECTOR_SIZE).map(|_| pc.inb(REG_FIFO)).collect();
        assert_eq!(&data[..3], &[1, 0, 1]);
        assert_eq!(pc.inb(REG_MSR), 0x10, "execution over at EOT");
        assert!(!pc.irq6.level());
        pc.run_to_deadline();
        assert_eq!(
            pc.results(),
            [0x40, 0x80, 0, 1, 0, 1, 2],
            "pseudo-DMA ends with EN"
        );
    }

    #[test]
    fn non_dma_write_takes_bytes_from_the_fifo() {
        let mut pc = Pc::new();
        pc.command(&[0x03, 0xDF, 0x03]);
        pc.command(&[0x45, 0x00, 0, 0, 18, 2, 18, 0x1B, 0xFF]);
        assert_eq!(pc.inb(REG_MSR), 0xB0, "RQM | NDMA | CB, DIO in");
        for _ in 0..SECTOR_SIZE {
            pc.outb(REG_FIFO, 0x5A);
        }
        pc.run_to_deadline();
        assert_eq!(pc.results()[..2], [0x40, 0x80]);
        let mut buf = [0u8; SECTOR_SIZE];
        pc.fdc
            .media_mut(0)
            .unwrap()
            .disk_mut()
            .read_sectors(17, &mut buf)
            .unwrap();
        assert!(buf.iter().all(|&b| b == 0x5A));
    }

    #[test]
    fn tc_in_the_middle_of_a_write_sector_zero_fills_its_rest() {
        let mut pc = Pc::new();
        pc.ram.0[BUF as usize..BUF as usize + 600].fill(0x77);
        pc.program_dma(0x4A, 600);
        let result = pc.data_command(&[0x45, 0x00, 0, 0, 1, 2, 18, 0x1B, 0xFF]);
        assert_eq!(
            result,
            [0x00, 0, 0, 0, 0, 3, 2],
            "both sectors count as written"
        );
        let mut buf = [0u8; 2 * SECTOR_SIZE];
        pc.fdc
            .media_mut(0)
            .unwrap()
            .disk_mut()
            .read_sectors(0, &mut buf)
            .unwrap();
        assert!(buf[..600].iter().all(|&b| b == 0x77));
        assert!(buf[600..].iter().all(|&b| b == 0));
    }
}
