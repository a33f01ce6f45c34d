//! Intel 82077AA floppy disk controller in PC-AT mode (offsets 0-7 of base
//! 0x3F0, IRQ 6, DMA channel 2) with two drives.
//!
//! Reference: Intel 82077AA CHMOS Single-Chip Floppy Disk Controller
//! datasheet (order 290166). Encodings are in `fdc_regs.rs`, the drives and
//! diskettes in `fdc_drive.rs`, the data commands' execution phase in
//! `fdc_transfer.rs`, the parameter registers in `fdc_settings.rs`.
//!
//! Modelled: DOR (drive select, nRESET, DMA gate enabling INT and DRQ, motor
//! bits stored), TDR, MSR (RQM/DIO/NDMA/CB and the per-drive seek bits),
//! DSR (data rate, software reset), FIFO, DIR (disk change of the selected
//! drive; bits 6-0 undriven, read as 1) and CCR; SRA/SRB read all-ones (AT
//! mode). Commands: SPECIFY, SENSE DRIVE STATUS, RECALIBRATE, SENSE
//! INTERRUPT STATUS, SEEK and RELATIVE SEEK, READ ID, READ DATA and WRITE
//! DATA (MT, multi-sector, TC), FORMAT TRACK, VERSION (0x90), CONFIGURE
//! (implied seek honoured), LOCK/UNLOCK, DUMPREG, PERPENDICULAR MODE; any
//! other opcode gives the one-byte result ST0 = 0x80. A reset (DOR nRESET
//! low then high, or DSR bit 7) raises IRQ 6 and queues the four polling
//! results ST0 = 0xC0 | drive for SENSE INTERRUPT STATUS; any newer
//! interrupt drops the ones not yet read (as Bochs does). Reset moves every
//! drive's PCN to 0 and, unless LOCK is set, restores CONFIGURE's defaults;
//! SPECIFY and the data rate survive it. Sectors are found as on a real
//! track: the data rate must suit the diskette (`FloppyMedia::accepts_rate`)
//! and the C/H/R/N of the command must match an ID on the track under the
//! heads, so a read without a seek to the right cylinder fails with "no
//! data" + "wrong cylinder". An empty drive ends data commands with ST0
//! abnormal + not ready and ST1 missing address mark; RECALIBRATE of an
//! unconnected drive (2, 3) reports equipment check.
//!
//! Timing: data moves instantly, seeks take no time per step, but every
//! interrupt (reset, seek/recalibrate end, result phase of READ/WRITE/
//! FORMAT/READ ID) comes [`EXECUTION_DELAY`] after the command phase or
//! data transfer that caused it, as a [`Timed`] deadline. So no interrupt
//! is ever raised inside the guest's `out` that completes a command, and a
//! guest that clears its "interrupt seen" flag right after sending the
//! command still sees the interrupt. Until the deadline the MSR shows the
//! command busy (data commands) or the drive seeking (seeks). The one
//! exception is non-DMA mode, whose data-request INT rises as soon as the
//! execution phase begins.
//!
//! DMA mode (the PC's normal case): in the execution phase the controller
//! holds DREQ ([`DmaDevice::dma_request`]) and the machine calls
//! `Dma8237Pair::transfer(2, ram, fdc)`; TC from the DMA ends the command.
//! Non-DMA mode (SPECIFY with ND set) moves the same bytes through the
//! FIFO, with MSR NDMA and INT asserted throughout the execution phase;
//! without a TC it ends at EOT with "end of cylinder", as Linux expects.
//!
//! Not modelled: motors and head load (a command works with the motor off),
//! step and rotation timing, overrun (a DMA that is never serviced leaves
//! the command waiting), deleted-data marks and the READ TRACK, VERIFY,
//! SCAN and deleted-data commands, FIFO thresholds, power-down, and
//! formats other than the image's own (FORMAT TRACK writes the fill byte
//! into the sectors whose IDs belong to the image's format and drops the
//! others).

use std::collections::VecDeque;

use crate::dma8237::DmaDevice;
use crate::fdc_drive::FloppyDrive;
pub use crate::fdc_drive::{FloppyError, FloppyMedia, SectorId};
pub use crate::fdc_regs::{DataRate, FdcCommand, Msr};
use crate::fdc_regs::{
    DIR_DISK_CHANGE, DIR_UNDRIVEN, DOR_BIOS_DEFAULT, DOR_DMA_GATE, DOR_DRIVE_SELECT, DOR_NRESET,
    DSR_SW_RESET, HEAD_SHIFT, RATE_SELECT, REG_CCR, REG_DIR, REG_DOR, REG_DSR, REG_FIFO, REG_MSR,
    REG_TDR, ST0_ABNORMAL, ST0_EQUIPMENT_CHECK, ST0_INVALID, ST0_READY_CHANGED, ST0_SEEK_END,
    ST3_FIXED, ST3_TRACK0, ST3_WRITE_PROTECT, TDR_TAPE_SELECT, VERSION_82077,
};
use crate::fdc_settings::FdcSettings;
use crate::fdc_transfer::{read_id, Ending, Transfer, TransferKind, TransferParams};
use crate::irq::IrqLine;
use crate::time::{Ticks, Timed};

/// Time from the end of a command's execution to its interrupt.
pub const EXECUTION_DELAY: Ticks = Ticks::from_micros(20);
/// Drives connected to the controller (A: and B:).
pub const DRIVES: usize = 2;
/// Drives the controller addresses (DS bits 1-0).
const DRIVE_SLOTS: usize = 4;

/// Where the controller is in a command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Waiting for (more) command bytes.
    Command,
    /// A data command is moving data.
    Execution,
    /// Execution is over; the result phase starts at its deadline.
    Completing,
    /// Result bytes wait in the FIFO.
    Result,
}

/// The 82077AA with up to [`DRIVES`] drives (see the module docs).
pub struct Fdc82077 {
    irq: Box<dyn IrqLine>,
    irq_level: bool,
    drives: [FloppyDrive; DRIVE_SLOTS],
    /// Latest time seen on any call.
    now: Ticks,
    dor: u8,
    tdr: u8,
    rate: DataRate,
    settings: FdcSettings,
    phase: Phase,
    command: Vec<u8>,
    result: VecDeque<u8>,
    /// The result phase was announced by INT, which its first byte clears.
    result_clears_irq: bool,
    transfer: Option<Transfer>,
    /// INT pending (reset, seek end or result phase).
    interrupt: bool,
    /// SENSE INTERRUPT STATUS answers (ST0, PCN) not yet read.
    sense: VecDeque<[u8; 2]>,
    pending_result: Option<(Ticks, Vec<u8>)>,
    seek_end: [Option<(Ticks, u8)>; DRIVE_SLOTS],
    reset_end: Option<Ticks>,
}

impl Fdc82077 {
    /// A controller as a PC BIOS leaves it: out of reset with DMA and INT
    /// enabled (DOR 0x0C), 250 kbit/s (the hardware-reset rate), no
    /// interrupt pending, both drives empty, driving `irq` (IRQ 6).
    pub fn new(irq: Box<dyn IrqLine>) -> Self {
        Fdc82077 {
            irq,
            irq_level: false,
            drives: Default::default(),
            now: Ticks::ZERO,
            dor: DOR_BIOS_DEFAULT,
            tdr: 0,
            rate: DataRate::Kbps250,
            settings: FdcSettings::default(),
            phase: Phase::Command,
            command: Vec::new(),
            result: VecDeque::new(),
            result_clears_irq: false,
            transfer: None,
            interrupt: false,
            sense: VecDeque::new(),
            pending_result: None,
            seek_end: [None; DRIVE_SLOTS],
            reset_end: None,
        }
    }

    /// Insert `media` into `drive` (0 or 1), returning the diskette that was
    /// there; the drive's disk-change line goes active.
    ///
    /// # Panics
    /// If `drive` is not a connected drive: a wiring bug in the machine.
    pub fn insert_media(&mut self, drive: usize, media: FloppyMedia) -> Option<FloppyMedia> {
        assert!(drive < DRIVES, "floppy drive {drive} is not connected");
        self.drives[drive].insert(media)
    }

    /// Take the diskette out of `drive` (nothing for unconnected drives).
    pub fn eject_media(&mut self, drive: usize) -> Option<FloppyMedia> {
        self.drives
            .get_mut(drive)
            .filter(|_| drive < DRIVES)?
            .eject()
    }

    /// The diskette in `drive`, if any (to flush it, or for tests).
    pub fn media_mut(&mut self, drive: usize) -> Option<&mut FloppyMedia> {
        self.drives
            .get_mut(drive)
            .filter(|_| drive < DRIVES)?
            .media_mut()
    }

    /// Read register `offset` (0-7) at time `now`.
    pub fn read(&mut self, offset: u16, now: Ticks) -> u8 {
        self.advance(now);
        let value = match offset {
            REG_DOR => self.dor,
            REG_TDR => self.tdr,
            REG_MSR => self.msr().bits(),
            REG_FIFO => self.read_fifo(),
            REG_DIR => {
                let drive = usize::from(self.dor & DOR_DRIVE_SELECT);
                let changed = drive >= DRIVES || self.drives[drive].disk_changed();
                DIR_UNDRIVEN | if changed { DIR_DISK_CHANGE } else { 0 }
            }
            _ => 0xFF,
        };
        self.update_irq();
        value
    }

    /// Write register `offset` (0-7) at time `now`.
    pub fn write(&mut self, offset: u16, value: u8, now: Ticks) {
        self.advance(now);
        match offset {
            REG_DOR => self.write_dor(value),
            REG_TDR => self.tdr = value & TDR_TAPE_SELECT,
            REG_DSR => {
                self.rate = DataRate::from_bits(value & RATE_SELECT);
                if value & DSR_SW_RESET != 0 {
                    self.enter_reset();
                    self.leave_reset();
                }
            }
            REG_FIFO => self.write_fifo(value),
            REG_CCR => self.rate = DataRate::from_bits(value & RATE_SELECT),
            _ => {}
        }
        self.update_irq();
    }

    fn in_reset(&self) -> bool {
        self.dor & DOR_NRESET == 0
    }

    fn pio(&self) -> bool {
        self.settings.non_dma()
    }

    fn outputs_enabled(&self) -> bool {
        !self.in_reset() && self.dor & DOR_DMA_GATE != 0
    }

    fn update_irq(&mut self) {
        let pio_data = self.pio() && self.phase == Phase::Execution;
        let level = self.outputs_enabled() && (self.interrupt || pio_data);
        if level != self.irq_level {
            self.irq_level = level;
            self.irq.set_level(level);
        }
    }

    fn msr(&self) -> Msr {
        if self.in_reset() {
            return Msr::empty();
        }
        let seeking = (0..DRIVE_SLOTS).filter(|&d| self.seek_end[d].is_some());
        let mut msr = Msr::from_bits_truncate(seeking.fold(0, |bits, d| bits | 1 << d));
        match self.phase {
            Phase::Command if self.command.is_empty() => msr |= Msr::RQM,
            Phase::Command => msr |= Msr::RQM | Msr::CB,
            Phase::Execution => {
                msr |= Msr::CB;
                if self.pio() {
                    msr |= Msr::RQM | Msr::NDMA;
                    if self.transfer.as_ref().is_some_and(Transfer::reads_to_host) {
                        msr |= Msr::DIO;
                    }
                }
            }
            Phase::Completing => msr |= Msr::CB,
            Phase::Result => msr |= Msr::RQM | Msr::DIO | Msr::CB,
        }
        msr
    }

    fn write_dor(&mut self, value: u8) {
        let was_running = !self.in_reset();
        self.dor = value;
        match (was_running, !self.in_reset()) {
            (true, false) => self.enter_reset(),
            (false, true) => self.leave_reset(),
            _ => {}
        }
    }

    /// RESET asserted: abandon everything in progress.
    fn enter_reset(&mut self) {
        self.phase = Phase::Command;
        self.command.clear();
        self.result.clear();
        self.transfer = None;
        self.interrupt = false;
        self.sense.clear();
        self.pending_result = None;
        self.seek_end = [None; DRIVE_SLOTS];
        self.reset_end = None;
    }

    /// RESET released: registers to their reset values, drives polled.
    fn leave_reset(&mut self) {
        self.settings.reset();
        for drive in &mut self.drives {
            drive.cylinder = 0;
        }
        // Why at once: the 765 raises INT as it leaves reset, and MS-DOS 4's
        // IBMBIO (1984) sends RECALIBRATE right after releasing reset and
        // takes the next IRQ 6 as the seek's end; a delayed reset interrupt
        // arrives after the command and its SENSE INTERRUPT then reads the
        // reset status (0xC0) instead of the seek's (Internal Error 4560).
        self.reset_end = Some(self.now);
    }

    /// A new interrupt condition: INT goes up and any reset-polling
    /// statuses not yet read are dropped.
    fn raise_interrupt(&mut self) {
        self.sense
            .retain(|s| s[0] & ST0_READY_CHANGED != ST0_READY_CHANGED);
        self.interrupt = true;
    }

    /// Fire every deadline at or before `self.now`.
    fn run_due(&mut self) {
        let now = self.now;
        if self.reset_end.is_some_and(|at| at <= now) {
            self.reset_end = None;
            self.sense = (0..DRIVE_SLOTS)
                .map(|d| [ST0_READY_CHANGED | d as u8, self.drives[d].cylinder])
                .collect();
            self.interrupt = true;
        }
        for d in 0..DRIVE_SLOTS {
            if let Some((at, st0)) = self.seek_end[d] {
                if at <= now {
                    self.seek_end[d] = None;
                    self.raise_interrupt();
                    self.sense.push_back([st0, self.drives[d].cylinder]);
                }
            }
        }
        if self
            .pending_result
            .as_ref()
            .is_some_and(|(at, _)| *at <= now)
        {
            if let Some((_, bytes)) = self.pending_result.take() {
                self.result = bytes.into();
                self.phase = Phase::Result;
                self.result_clears_irq = true;
                self.raise_interrupt();
            }
        }
    }

    /// Enter the result phase at once, without an interrupt.
    fn respond(&mut self, bytes: &[u8]) {
        self.result = bytes.iter().copied().collect();
        self.result_clears_irq = false;
        self.phase = Phase::Result;
    }

    /// End execution; the result phase and INT follow after the delay.
    fn complete(&mut self, end: Ending) {
        self.transfer = None;
        self.phase = Phase::Completing;
        self.pending_result = Some((self.now + EXECUTION_DELAY, end.result_bytes().to_vec()));
    }

    fn read_fifo(&mut self) -> u8 {
        match self.phase {
            Phase::Result => {
                if self.result_clears_irq {
                    self.result_clears_irq = false;
                    self.interrupt = false;
                }
                let byte = self.result.pop_front().unwrap_or(0xFF);
                if self.result.is_empty() {
                    self.phase = Phase::Command;
                }
                byte
            }
            Phase::Execution if self.pio() => {
                let mut byte = [0xFF];
                self.with_transfer(|t, drive| t.host_read(drive, &mut byte));
                byte[0]
            }
            _ => 0xFF,
        }
    }

    fn write_fifo(&mut self, value: u8) {
        if self.in_reset() {
            return;
        }
        match self.phase {
            Phase::Command => {
                self.command.push(value);
                let command = FdcCommand::decode(self.command[0]);
                if self.command.len() == 1 && command != FdcCommand::SenseInterruptStatus {
                    // Why: a new command drops INT (as Bochs's controller
                    // does), so its own completion is a fresh IRQ 6 edge.
                    // MS-DOS 4's IBMBIO never senses the reset interrupt;
                    // with INT left high its RECALIBRATE end was no edge
                    // and it timed out (Internal Error 4560).
                    self.interrupt = false;
                }
                if self.command.len() >= command.length() {
                    let bytes = std::mem::take(&mut self.command);
                    self.execute(command, &bytes);
                }
            }
            Phase::Execution if self.pio() => {
                self.with_transfer(|t, drive| t.host_write(drive, &[value]));
            }
            _ => {}
        }
    }

    /// Run `op` on the transfer in progress and its drive, then end the
    /// command if it ended. In non-DMA mode the next sector is begun at
    /// once (there is no TC to wait for).
    fn with_transfer<R>(
        &mut self,
        op: impl FnOnce(&mut Transfer, &mut FloppyDrive) -> (R, Option<Ending>),
    ) -> Option<R> {
        let pio = self.pio();
        let t = self.transfer.as_mut()?;
        let drive = &mut self.drives[t.drive()];
        let (value, mut end) = op(t, drive);
        if end.is_none() && pio && t.at_boundary() {
            end = t.continue_at_boundary(drive).err();
        }
        if let Some(end) = end {
            self.complete(end);
        }
        Some(value)
    }

    fn execute(&mut self, command: FdcCommand, bytes: &[u8]) {
        let select = bytes.get(1).copied().unwrap_or(0);
        let drive = usize::from(select & DOR_DRIVE_SELECT);
        let head = (select >> HEAD_SHIFT) & 1;
        self.phase = Phase::Command;
        match command {
            FdcCommand::Specify => self.settings.specify(bytes[1], bytes[2]),
            FdcCommand::SenseDriveStatus => {
                let d = &self.drives[drive];
                let mut st3 = ST3_FIXED | head << HEAD_SHIFT | drive as u8;
                if d.write_protected() {
                    st3 |= ST3_WRITE_PROTECT;
                }
                if d.cylinder == 0 {
                    st3 |= ST3_TRACK0;
                }
                self.respond(&[st3]);
            }
            FdcCommand::Recalibrate => self.seek(drive, 0, 0, true),
            FdcCommand::Seek => self.seek(drive, head, bytes[2], false),
            FdcCommand::RelativeSeek { inward } => {
                let from = self.drives[drive].cylinder;
                let to = if inward {
                    from.saturating_add(bytes[2])
                } else {
                    from.saturating_sub(bytes[2])
                };
                self.seek(drive, head, to, false);
            }
            FdcCommand::SenseInterruptStatus => {
                self.interrupt = false;
                match self.sense.pop_front() {
                    Some(status) => self.respond(&status),
                    None => self.respond(&[ST0_INVALID]),
                }
            }
            FdcCommand::ReadId { mfm } => {
                let end = read_id(&self.drives[drive], drive, head, self.rate, mfm);
                self.complete(end);
            }
            FdcCommand::ReadData { mt, mfm } => {
                self.start_transfer(TransferKind::Read, bytes, mt, mfm)
            }
            FdcCommand::WriteData { mt, mfm } => {
                self.start_transfer(TransferKind::Write, bytes, mt, mfm)
            }
            FdcCommand::FormatTrack => {
                let kind = TransferKind::Format {
                    fill: bytes[5],
                    ids_left: bytes[3],
                };
                self.start_transfer(kind, bytes, false, true);
            }
            FdcCommand::Version => self.respond(&[VERSION_82077]),
            FdcCommand::Configure => self.settings.configure(bytes[2], bytes[3]),
            FdcCommand::Lock { lock } => {
                let result = self.settings.set_lock(lock);
                self.respond(&[result]);
            }
            FdcCommand::DumpReg => {
                let dump = self
                    .settings
                    .dump(self.drives.each_ref().map(|d| d.cylinder));
                self.respond(&dump);
            }
            FdcCommand::PerpendicularMode => self.settings.perpendicular_mode(bytes[1]),
            FdcCommand::Invalid => self.respond(&[ST0_INVALID]),
        }
    }

    /// SEEK / RECALIBRATE: move the heads now, report seek end later.
    fn seek(&mut self, drive: usize, head: u8, cylinder: u8, recalibrate: bool) {
        self.drives[drive].step_to(cylinder);
        let mut st0 = ST0_SEEK_END | head << HEAD_SHIFT | drive as u8;
        if recalibrate && drive >= DRIVES {
            // Nothing answers with track 0: RECALIBRATE gives up.
            st0 |= ST0_ABNORMAL | ST0_EQUIPMENT_CHECK;
        }
        self.seek_end[drive] = Some((self.now + EXECUTION_DELAY, st0));
    }

    fn start_transfer(&mut self, kind: TransferKind, bytes: &[u8], mt: bool, mfm: bool) {
        let drive = usize::from(bytes[1] & DOR_DRIVE_SELECT);
        let head = (bytes[1] >> HEAD_SHIFT) & 1;
        let (id, eot) = match kind {
            TransferKind::Format { ids_left, .. } => {
                let c = self.drives[drive].cylinder;
                (
                    SectorId {
                        c,
                        h: head,
                        r: 1,
                        n: bytes[2],
                    },
                    ids_left,
                )
            }
            _ => (
                SectorId {
                    c: bytes[2],
                    h: bytes[3],
                    r: bytes[4],
                    n: bytes[5],
                },
                bytes[6],
            ),
        };
        self.settings.last_eot = eot;
        // Implied seek (CONFIGURE EIS) for READ and WRITE.
        if self.settings.implied_seek() && matches!(kind, TransferKind::Read | TransferKind::Write)
        {
            self.drives[drive].step_to(id.c);
        }
        let params = TransferParams {
            drive,
            head,
            id,
            eot,
            mt,
            mfm,
            rate: self.rate,
        };
        match Transfer::start(kind, params, &mut self.drives[drive]) {
            Ok(t) => {
                self.transfer = Some(t);
                self.phase = Phase::Execution;
            }
            Err(end) => self.complete(end),
        }
    }
}

impl Timed for Fdc82077 {
    /// Fire due deadlines: the reset interrupt, seek ends, result phases.
    fn advance(&mut self, now: Ticks) {
        self.now = self.now.max(now);
        self.run_due();
        self.update_irq();
    }

    fn next_deadline(&self) -> Option<Ticks> {
        let seeks = self.seek_end.iter().flatten().map(|&(at, _)| at);
        let result = self.pending_result.as_ref().map(|&(at, _)| at);
        seeks.chain(result).chain(self.reset_end).min()
    }
}

impl DmaDevice for Fdc82077 {
    /// DREQ: a data command is executing in DMA mode with the gate open.
    fn dma_request(&self) -> bool {
        self.outputs_enabled() && !self.pio() && self.phase == Phase::Execution
    }

    fn dma_to_memory(&mut self, buf: &mut [u8]) -> usize {
        if !self.dma_request() {
            return 0;
        }
        let n = self
            .with_transfer(|t, drive| t.host_read(drive, buf))
            .unwrap_or(0);
        self.update_irq();
        n
    }

    fn dma_from_memory(&mut self, data: &[u8]) -> usize {
        if !self.dma_request() {
            return 0;
        }
        let n = self
            .with_transfer(|t, drive| t.host_write(drive, data))
            .unwrap_or(0);
        self.update_irq();
        n
    }

    fn dma_terminal_count(&mut self) {
        if let Some(t) = self.transfer.as_mut() {
            let end = t.terminal_count(&mut self.drives[t.drive()]);
            self.complete(end);
        }
        self.update_irq();
    }
}

/// Controller-level sequences: reset, interrupt timing, invalid opcodes.
#[cfg(test)]
mod tests {
    use super::*;
    use crate::fdc_testing::Pc;

    #[test]
    fn reset_raises_irq6_at_once_and_arms_four_sense_results() {
        let mut pc = Pc::new();
        pc.outb(REG_DOR, 0x18); // nRESET low
        assert_eq!(pc.inb(REG_MSR), 0x00, "held in reset");
        assert!(!pc.irq6.level());
        pc.outb(REG_DOR, 0x1C);
        assert_eq!(pc.fdc.next_deadline(), Some(pc.now), "due now");
        assert_eq!(pc.inb(REG_MSR), 0x80);
        assert!(pc.irq6.level(), "INT as the controller leaves reset");
        assert_eq!(pc.sense_interrupt(), [0xC0, 0]);
        assert!(!pc.irq6.level(), "sense interrupt clears INT");
        assert_eq!(pc.sense_interrupt(), [0xC1, 0]);
        assert_eq!(pc.sense_interrupt(), [0xC2, 0]);
        assert_eq!(pc.sense_interrupt(), [0xC3, 0]);
        assert_eq!(pc.sense_interrupt(), [0x80], "nothing more pending");
        assert_eq!(pc.fdc.next_deadline(), None);
    }

    /// Regression (MS-DOS 4 "Internal Error 4560"): a driver that never
    /// senses the reset interrupt still gets an IRQ 6 edge when its
    /// RECALIBRATE ends.
    #[test]
    fn a_new_command_drops_int_so_its_completion_is_a_new_edge() {
        let mut pc = Pc::new();
        pc.outb(REG_DOR, 0x18);
        pc.outb(REG_DOR, 0x1C);
        pc.inb(REG_MSR);
        assert!(pc.irq6.level(), "reset interrupt");
        pc.outb(REG_FIFO, 0x07); // RECALIBRATE, drive 0
        assert!(!pc.irq6.level(), "INT dropped by the new command");
        pc.outb(REG_FIFO, 0x00);
        pc.wait_irq6();
        assert_eq!(
            pc.sense_interrupt(),
            [0x20, 0],
            "the seek's status, not the reset's"
        );
    }

    #[test]
    fn dsr_software_reset_behaves_like_the_dor_reset() {
        let mut pc = Pc::new();
        pc.seek_and_sense(&[0x0F, 0x00, 5]);
        pc.outb(REG_DSR, 0x80);
        pc.wait_irq6();
        assert_eq!(pc.sense_interrupt(), [0xC0, 0], "PCN back to 0");
        assert_eq!(pc.inb(REG_DOR), 0x1C, "DOR untouched");
    }

    #[test]
    fn dma_gate_off_hides_the_interrupt() {
        let mut pc = Pc::new();
        pc.outb(REG_DOR, 0x10); // reset, gate off
        pc.outb(REG_DOR, 0x14); // out of reset, gate still off
        pc.run_to_deadline();
        assert!(!pc.irq6.level());
        pc.outb(REG_DOR, 0x1C);
        assert!(pc.irq6.level(), "pending INT shows once the gate opens");
    }

    #[test]
    fn interrupt_comes_after_the_data_not_during_the_command() {
        let mut pc = Pc::new();
        pc.program_dma(0x46, 512);
        pc.command(&[0x66, 0x00, 0, 0, 1, 2, 18, 0x1B, 0xFF]);
        assert_eq!(pc.sector_tag(0), 0, "data already moved");
        assert_eq!(pc.inb(REG_MSR), 0x10, "busy until the result phase");
        assert!(!pc.irq6.level());
        pc.run_to_deadline();
        assert!(pc.irq6.level());
        assert_eq!(pc.inb(REG_MSR), 0xD0, "RQM | DIO | CB");
    }

    #[test]
    fn invalid_commands_answer_0x80_without_an_interrupt() {
        let mut pc = Pc::new();
        for opcode in [0x18, 0x0C, 0x16, 0xFF] {
            pc.command(&[opcode]);
            assert_eq!(pc.results(), [0x80], "opcode {opcode:#x}");
            assert!(!pc.irq6.level());
        }
        assert_eq!(pc.sense_interrupt(), [0x80], "no interrupt pending");
    }
}
