//! The PC around an [`Fdc82077`] for protocol tests: DMA channel 2, 1 MiB
//! of RAM, IRQ 6 and a clock, with helpers named after the sequences a
//! driver runs (command phase, result phase, SENSE INTERRUPT STATUS, the
//! channel-2 DMA setup). Shared by the tests of `fdc*.rs`.

use crate::block::{MemDisk, SECTOR_SIZE};
use crate::dma8237::{Dma8237Pair, DmaMemory};
use crate::fdc::{Fdc82077, FloppyMedia};
use crate::fdc_regs::{REG_CCR, REG_DOR, REG_FIFO, REG_MSR};
use crate::irq::TestLine;
use crate::time::{Ticks, Timed};

/// 1 MiB of guest RAM for the DMA controller.
pub(crate) struct Ram(pub(crate) Vec<u8>);

impl DmaMemory for Ram {
    fn read_physical(&mut self, addr: u32, buf: &mut [u8]) {
        let a = addr as usize;
        buf.copy_from_slice(&self.0[a..a + buf.len()]);
    }
    fn write_physical(&mut self, addr: u32, data: &[u8]) {
        let a = addr as usize;
        self.0[a..a + data.len()].copy_from_slice(data);
    }
}

/// A diskette image whose sector n starts with n as a little-endian u16
/// and is otherwise filled with the byte n.
pub(crate) fn pattern_image(sectors: usize) -> MemDisk {
    let mut data = Vec::with_capacity(sectors * SECTOR_SIZE);
    for n in 0..sectors {
        let mut sector = [n as u8; SECTOR_SIZE];
        sector[..2].copy_from_slice(&(n as u16).to_le_bytes());
        data.extend_from_slice(&sector);
    }
    MemDisk::from_vec(data).unwrap()
}

/// The PC around the controller: DMA, RAM, IRQ 6 and a clock.
pub(crate) struct Pc {
    pub(crate) fdc: Fdc82077,
    pub(crate) dma: Dma8237Pair,
    pub(crate) ram: Ram,
    pub(crate) irq6: TestLine,
    pub(crate) now: Ticks,
}

/// DMA buffer address used by the tests.
pub(crate) const BUF: u32 = 0x1_0000;

impl Pc {
    pub(crate) fn with_image(image: MemDisk) -> Pc {
        let irq6 = TestLine::new();
        let mut fdc = Fdc82077::new(irq6.boxed());
        fdc.insert_media(0, FloppyMedia::new(Box::new(image)).unwrap());
        Pc {
            fdc,
            dma: Dma8237Pair::new(),
            ram: Ram(vec![0; 1 << 20]),
            irq6,
            now: Ticks::ZERO,
        }
    }

    /// A 1.44M diskette in A:, data rate set for it, motor on.
    pub(crate) fn new() -> Pc {
        let mut pc = Pc::with_image(pattern_image(2880));
        pc.outb(REG_CCR, 0x00); // 500 kbit/s
        pc.outb(REG_DOR, 0x1C); // motor A, DMA gate, out of reset, drive 0
        pc
    }

    /// An `out`; the machine then serves DMA channel 2.
    pub(crate) fn outb(&mut self, offset: u16, value: u8) {
        self.fdc.write(offset, value, self.now);
        self.dma.transfer(2, &mut self.ram, &mut self.fdc);
    }

    pub(crate) fn inb(&mut self, offset: u16) -> u8 {
        self.fdc.read(offset, self.now)
    }

    /// Run the clock to the controller's next deadline.
    pub(crate) fn run_to_deadline(&mut self) {
        let at = self.fdc.next_deadline().expect("a deadline");
        assert!(at >= self.now, "deadlines do not lie in the past");
        self.now = at;
        self.fdc.advance(at);
    }

    /// Command phase: wait for RQM with DIO clear, then send each byte.
    pub(crate) fn command(&mut self, bytes: &[u8]) {
        for (i, &b) in bytes.iter().enumerate() {
            assert_eq!(
                self.inb(REG_MSR) & 0xC0,
                0x80,
                "RQM, DIO out, before {b:#x}"
            );
            let was = self.irq6.level();
            self.outb(REG_FIFO, b);
            if i + 1 < bytes.len() {
                assert_eq!(self.irq6.level(), was, "no IRQ in the command phase");
            }
        }
    }

    /// Result phase: read bytes while MSR says RQM | DIO.
    pub(crate) fn results(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        while self.inb(REG_MSR) & 0xC0 == 0xC0 {
            out.push(self.inb(REG_FIFO));
        }
        out
    }

    /// SENSE INTERRUPT STATUS: ST0 and PCN (or just 0x80).
    pub(crate) fn sense_interrupt(&mut self) -> Vec<u8> {
        self.command(&[0x08]);
        self.results()
    }

    /// The interrupt handler's wait: time passes, IRQ 6 rises.
    pub(crate) fn wait_irq6(&mut self) {
        assert!(!self.irq6.level(), "IRQ 6 before the delay");
        self.run_to_deadline();
        assert!(self.irq6.level(), "IRQ 6 after the delay");
    }

    /// Linux fd_dma_setup / BIOS on channel 2 for `bytes` at BUF.
    pub(crate) fn program_dma(&mut self, mode: u8, bytes: u16) {
        let [lo, hi, page, _] = BUF.to_le_bytes();
        let [count_lo, count_hi] = (bytes - 1).to_le_bytes();
        self.dma.write_primary(0x0A, 0x06); // mask channel 2
        self.dma.write_primary(0x0C, 0); // clear flip-flop
        self.dma.write_primary(0x0B, mode); // 0x46 read / 0x4A write
        self.dma.write_primary(0x04, lo);
        self.dma.write_primary(0x04, hi);
        self.dma.write_page(0x1, page);
        self.dma.write_primary(0x05, count_lo);
        self.dma.write_primary(0x05, count_hi);
        self.dma.write_primary(0x0A, 0x02); // unmask channel 2
    }

    /// RECALIBRATE or SEEK, wait for IRQ 6, SENSE INTERRUPT STATUS.
    pub(crate) fn seek_and_sense(&mut self, bytes: &[u8]) -> Vec<u8> {
        self.command(bytes);
        self.wait_irq6();
        let status = self.sense_interrupt();
        assert!(!self.irq6.level());
        status
    }

    /// READ DATA / WRITE DATA / FORMAT: command, DMA, IRQ 6, 7 results.
    pub(crate) fn data_command(&mut self, bytes: &[u8]) -> Vec<u8> {
        self.command(bytes);
        self.wait_irq6();
        let result = self.results();
        assert!(!self.irq6.level(), "the first result byte clears INT");
        result
    }

    /// The first u16 of the `n`th 512-byte block at BUF.
    pub(crate) fn sector_tag(&self, n: usize) -> u16 {
        let at = BUF as usize + n * SECTOR_SIZE;
        u16::from_le_bytes([self.ram.0[at], self.ram.0[at + 1]])
    }
}
