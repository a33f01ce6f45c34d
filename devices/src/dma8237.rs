//! The PC/AT's ISA DMA: two 8237A controllers and the page registers, plus
//! the transfer API through which the machine moves a device's data to or
//! from guest memory.
//!
//! Port map the machine wires (offsets are what this model takes):
//! - primary 8237 (channels 0-3, 8-bit): ports 0x00-0x0F, offset = port,
//!   register = offset ([`Dma8237Pair::read_primary`]);
//! - secondary 8237 (channels 4-7, 16-bit): ports 0xC0-0xDF, offset =
//!   port - 0xC0, register = offset / 2, odd offsets unused
//!   ([`Dma8237Pair::read_secondary`]);
//! - page registers: ports 0x80-0x8F, offset = port - 0x80
//!   ([`Dma8237Pair::read_page`]); channel 2 (the floppy) is 0x81 and the
//!   others are [`PAGE_OFFSETS`]. The remaining offsets are plain latches
//!   (0x80 itself is the POST port and normally not routed here).
//!
//! An 8-bit channel addresses `page << 16 | address`; a 16-bit channel
//! counts words and addresses `(page & 0xFE) << 16 | address << 1`. The
//! address register wraps inside its 64 KiB (128 KiB) window and never
//! carries into the page register. A count register of N moves N + 1
//! units.
//!
//! Data movement: neither side sees the other. The machine implements
//! [`DmaMemory`] over guest RAM; a device (the floppy controller)
//! implements [`DmaDevice`]. Whenever the device may be requesting (after
//! any guest write to the device's or the DMA controller's ports, or each
//! run-loop turn), the machine calls [`Dma8237Pair::transfer`] for the
//! device's channel; while the channel is enabled, unmasked and the device
//! holds DREQ, bytes move in chunks until the device stops asking or the
//! count runs out, which masks the channel (or reloads it with
//! auto-initialize), sets its status TC bit and pulses the device's
//! terminal count. Demand, single and block modes all run this way: the
//! transfer is instantaneous, so only DREQ and TC decide where it stops.
//!
//! Not modelled: memory-to-memory transfers (command bit 0), priority and
//! DREQ/DACK polarity bits (stored only), hardware DREQ lines in status
//! bits 7-4 (only software requests show there), the cascade link from
//! channel 4 (the primary controller works whether or not channel 4 is
//! programmed as cascade), and transfers on software requests alone.

use crate::dma8237_chip::Dma8237;
pub use crate::dma8237_chip::{TransferMode, TransferType};

/// Page register offset from 0x80 for each channel 0-7 (channel 4's 0x8F
/// is unused by hardware, which never transfers on the cascade channel).
pub const PAGE_OFFSETS: [u16; 8] = [0x7, 0x3, 0x1, 0x2, 0xF, 0xB, 0x9, 0xA];
/// The floppy controller's channel on the PC.
pub const FLOPPY_CHANNEL: u8 = 2;
/// Bytes moved per step of a transfer (any size works; this bounds the
/// stack buffer).
const CHUNK_BYTES: usize = 1024;

/// Guest physical memory as the DMA controller reaches it (implemented by
/// the machine over guest RAM; addresses are 24-bit ISA addresses).
pub trait DmaMemory {
    /// Read `buf.len()` bytes at physical `addr`.
    fn read_physical(&mut self, addr: u32, buf: &mut [u8]);
    /// Write `data` at physical `addr`.
    fn write_physical(&mut self, addr: u32, data: &[u8]);
}

/// A device on a DMA channel, as the DMA controller sees it.
pub trait DmaDevice {
    /// DREQ: the device wants bytes moved now.
    fn dma_request(&self) -> bool;
    /// A DMA write (or verify) cycle: fill the front of `buf` with the
    /// device's next bytes for memory; returns how many it gave.
    fn dma_to_memory(&mut self, buf: &mut [u8]) -> usize;
    /// A DMA read cycle: take bytes from the front of `data`, which came
    /// from memory; returns how many it took.
    fn dma_from_memory(&mut self, data: &[u8]) -> usize;
    /// TC: the channel's count ran out with the last byte moved.
    fn dma_terminal_count(&mut self);
}

/// The two cascaded 8237As of a PC/AT with their page registers.
#[derive(Clone, Debug, Default)]
pub struct Dma8237Pair {
    chips: [Dma8237; 2],
    pages: [u8; 16],
}

impl Dma8237Pair {
    /// Both controllers after master clear (all channels masked), pages 0.
    pub fn new() -> Self {
        Dma8237Pair::default()
    }

    /// Read the primary controller (ports 0x00-0x0F).
    pub fn read_primary(&mut self, offset: u16) -> u8 {
        self.chips[0].read((offset & 0xF) as u8)
    }

    /// Write the primary controller (ports 0x00-0x0F).
    pub fn write_primary(&mut self, offset: u16, value: u8) {
        self.chips[0].write((offset & 0xF) as u8, value);
    }

    /// Read the secondary controller (ports 0xC0-0xDF, one register every
    /// second port); odd offsets read all-ones.
    pub fn read_secondary(&mut self, offset: u16) -> u8 {
        if offset & 1 != 0 {
            return 0xFF;
        }
        self.chips[1].read(((offset >> 1) & 0xF) as u8)
    }

    /// Write the secondary controller (ports 0xC0-0xDF); odd offsets are
    /// ignored.
    pub fn write_secondary(&mut self, offset: u16, value: u8) {
        if offset & 1 == 0 {
            self.chips[1].write(((offset >> 1) & 0xF) as u8, value);
        }
    }

    /// Read a page register (ports 0x80-0x8F).
    pub fn read_page(&self, offset: u16) -> u8 {
        self.pages[usize::from(offset & 0xF)]
    }

    /// Write a page register (ports 0x80-0x8F).
    pub fn write_page(&mut self, offset: u16, value: u8) {
        self.pages[usize::from(offset & 0xF)] = value;
    }

    /// Whether `channel` (0-7) is masked; out-of-range channels are.
    pub fn is_masked(&self, channel: u8) -> bool {
        match split(channel) {
            Some((chip, ch)) => self.chips[chip].is_masked(ch),
            None => true,
        }
    }

    /// `channel`'s current count register (units left minus one).
    pub fn current_count(&self, channel: u8) -> u16 {
        split(channel).map_or(0, |(chip, ch)| self.chips[chip].channel(ch).current_count)
    }

    /// The physical address `channel` will transfer to or from next.
    pub fn current_physical_address(&self, channel: u8) -> u32 {
        split(channel).map_or(0, |(chip, ch)| {
            self.physical(channel, chip, self.chips[chip].channel(ch).current_address)
        })
    }

    /// Physical address of register address `address` on `channel`.
    fn physical(&self, channel: u8, chip: usize, address: u16) -> u32 {
        let page = u32::from(self.pages[usize::from(PAGE_OFFSETS[usize::from(channel)])]);
        if chip == 0 {
            page << 16 | u32::from(address)
        } else {
            (page & 0xFE) << 16 | u32::from(address) << 1
        }
    }

    /// Serve `dev`'s DREQ on `channel` (0-7), moving bytes between `dev`
    /// and `mem` as the channel's mode says, until the device stops
    /// requesting, the channel is masked or disabled, or terminal count.
    /// Returns the number of bytes moved.
    pub fn transfer(
        &mut self,
        channel: u8,
        mem: &mut dyn DmaMemory,
        dev: &mut dyn DmaDevice,
    ) -> usize {
        let Some((chip, ch)) = split(channel) else {
            return 0;
        };
        let unit = if chip == 0 { 1 } else { 2 };
        let mut buf = [0u8; CHUNK_BYTES];
        let mut moved = 0;
        while dev.dma_request() && self.chips[chip].ready(ch) {
            let c = *self.chips[chip].channel(ch);
            let left = u32::from(c.current_count) + 1;
            let units = left
                .min(self.chips[chip].units_before_wrap(ch))
                .min((CHUNK_BYTES / unit) as u32);
            let bytes = units as usize * unit;
            let chunk = &mut buf[..bytes];
            // Address of the k-th unit of this chunk.
            let unit_address = |k: usize| {
                let step = k as u16;
                let address = if c.decrement() {
                    c.current_address.wrapping_sub(step)
                } else {
                    c.current_address.wrapping_add(step)
                };
                self.physical(channel, chip, address)
            };
            let done = match c.transfer_type() {
                TransferType::Write => {
                    let n = dev.dma_to_memory(chunk).min(bytes);
                    // A partial last word is completed with zeros.
                    let whole = n.div_ceil(unit) * unit;
                    chunk[n..whole].fill(0);
                    for (k, part) in chunk[..whole].chunks(unit).enumerate() {
                        mem.write_physical(unit_address(k), part);
                    }
                    n
                }
                TransferType::Read => {
                    for (k, part) in chunk.chunks_mut(unit).enumerate() {
                        mem.read_physical(unit_address(k), part);
                    }
                    dev.dma_from_memory(chunk).min(bytes)
                }
                TransferType::Verify | TransferType::Illegal => dev.dma_to_memory(chunk).min(bytes),
            };
            let done_units = done.div_ceil(unit) as u32;
            if done_units == 0 {
                break;
            }
            moved += done;
            if self.chips[chip].advance(ch, done_units) {
                dev.dma_terminal_count();
                break;
            }
        }
        moved
    }
}

/// (controller, channel within it) of ISA channel `channel`.
fn split(channel: u8) -> Option<(usize, usize)> {
    (channel < 8).then(|| (usize::from(channel >> 2), usize::from(channel & 3)))
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;

    use super::*;

    /// 2 MiB of guest RAM; accesses beyond it are dropped / read 0xFF.
    struct FakeRam(Vec<u8>);

    impl FakeRam {
        fn new() -> Self {
            FakeRam(vec![0; 2 << 20])
        }
    }

    impl DmaMemory for FakeRam {
        fn read_physical(&mut self, addr: u32, buf: &mut [u8]) {
            for (i, b) in buf.iter_mut().enumerate() {
                *b = self.0.get(addr as usize + i).copied().unwrap_or(0xFF);
            }
        }
        fn write_physical(&mut self, addr: u32, data: &[u8]) {
            for (i, &b) in data.iter().enumerate() {
                if let Some(slot) = self.0.get_mut(addr as usize + i) {
                    *slot = b;
                }
            }
        }
    }

    /// A device that offers `outgoing` bytes and takes up to `room` bytes.
    #[derive(Default)]
    struct FakeDevice {
        outgoing: VecDeque<u8>,
        incoming: Vec<u8>,
        room: usize,
        terminal_counts: usize,
    }

    impl DmaDevice for FakeDevice {
        fn dma_request(&self) -> bool {
            self.terminal_counts == 0
                && (!self.outgoing.is_empty() || self.incoming.len() < self.room)
        }
        fn dma_to_memory(&mut self, buf: &mut [u8]) -> usize {
            let n = buf.len().min(self.outgoing.len());
            for b in &mut buf[..n] {
                *b = self.outgoing.pop_front().unwrap();
            }
            n
        }
        fn dma_from_memory(&mut self, data: &[u8]) -> usize {
            let n = data.len().min(self.room - self.incoming.len());
            self.incoming.extend_from_slice(&data[..n]);
            n
        }
        fn dma_terminal_count(&mut self) {
            self.terminal_counts += 1;
        }
    }

    fn sending(bytes: impl IntoIterator<Item = u8>) -> FakeDevice {
        FakeDevice {
            outgoing: bytes.into_iter().collect(),
            ..FakeDevice::default()
        }
    }

    /// Linux's fd_dma_setup / the PC BIOS on channel 2: mask, clear
    /// flip-flop, mode, address low/high, page, count low/high, unmask.
    fn program_channel2(dma: &mut Dma8237Pair, mode: u8, phys: u32, bytes: u16) {
        let [lo, hi, page, _] = phys.to_le_bytes();
        let [count_lo, count_hi] = (bytes - 1).to_le_bytes();
        dma.write_primary(0x0A, 0x04 | 2); // mask channel 2
        dma.write_primary(0x0C, 0); // clear byte pointer flip-flop
        dma.write_primary(0x0B, mode); // 0x46 or 0x4A
        dma.write_primary(0x04, lo);
        dma.write_primary(0x04, hi);
        dma.write_page(0x1, page); // port 0x81
        dma.write_primary(0x05, count_lo);
        dma.write_primary(0x05, count_hi);
        dma.write_primary(0x0A, 2); // unmask channel 2
    }

    #[test]
    fn channel2_mode_46_moves_device_bytes_into_memory() {
        let mut dma = Dma8237Pair::new();
        let mut ram = FakeRam::new();
        program_channel2(&mut dma, 0x46, 0x1_2000, 512);
        let mut fdc = sending((0..600).map(|i| i as u8));
        assert_eq!(dma.transfer(2, &mut ram, &mut fdc), 512);
        assert_eq!(&ram.0[0x1_2000..0x1_2004], &[0, 1, 2, 3]);
        assert_eq!(ram.0[0x1_2000 + 511], 255);
        assert_eq!(ram.0[0x1_2000 + 512], 0, "count + 1 bytes exactly");
        assert_eq!(fdc.terminal_counts, 1);
        assert_eq!(fdc.outgoing.len(), 88);
        assert_eq!(dma.read_primary(0x08) & 0x0F, 0x04, "TC for channel 2");
        assert_eq!(dma.read_primary(0x08) & 0x0F, 0, "cleared by the read");
        assert!(dma.is_masked(2), "TC without autoinit masks the channel");
        assert_eq!(dma.current_count(2), 0xFFFF);
    }

    #[test]
    fn channel2_mode_4a_feeds_memory_to_the_device() {
        let mut dma = Dma8237Pair::new();
        let mut ram = FakeRam::new();
        for (i, b) in ram.0[0x8000..0x8400].iter_mut().enumerate() {
            *b = (i * 7) as u8;
        }
        program_channel2(&mut dma, 0x4A, 0x8000, 1024);
        let mut fdc = FakeDevice {
            room: 4096,
            ..FakeDevice::default()
        };
        assert_eq!(dma.transfer(2, &mut ram, &mut fdc), 1024);
        assert_eq!(fdc.incoming, ram.0[0x8000..0x8400].to_vec());
        assert_eq!(fdc.terminal_counts, 1);
    }

    #[test]
    fn masked_or_disabled_channels_move_nothing() {
        let mut dma = Dma8237Pair::new();
        let mut ram = FakeRam::new();
        let mut fdc = sending([1, 2, 3]);
        assert_eq!(dma.transfer(2, &mut ram, &mut fdc), 0, "masked after reset");
        program_channel2(&mut dma, 0x46, 0x1000, 3);
        dma.write_primary(0x08, 0x04); // command: controller disable
        assert_eq!(dma.transfer(2, &mut ram, &mut fdc), 0);
        dma.write_primary(0x08, 0x00);
        assert_eq!(dma.transfer(2, &mut ram, &mut fdc), 3);
        assert_eq!(dma.transfer(9, &mut ram, &mut fdc), 0, "no channel 9");
    }

    #[test]
    fn transfer_stops_when_the_device_drops_dreq_and_resumes() {
        let mut dma = Dma8237Pair::new();
        let mut ram = FakeRam::new();
        program_channel2(&mut dma, 0x46, 0x3000, 512);
        let mut fdc = sending([0xAB; 100]);
        assert_eq!(dma.transfer(2, &mut ram, &mut fdc), 100);
        assert!(!dma.is_masked(2));
        dma.write_primary(0x0C, 0);
        let addr = [dma.read_primary(0x04), dma.read_primary(0x04)];
        let count = [dma.read_primary(0x05), dma.read_primary(0x05)];
        assert_eq!(u16::from_le_bytes(addr), 0x3000 + 100);
        assert_eq!(u16::from_le_bytes(count), 511 - 100);
        fdc.outgoing.extend([0xCD; 412]);
        assert_eq!(dma.transfer(2, &mut ram, &mut fdc), 412);
        assert_eq!(ram.0[0x3000 + 511], 0xCD);
        assert_eq!(fdc.terminal_counts, 1);
    }

    #[test]
    fn address_wraps_inside_the_64k_page() {
        let mut dma = Dma8237Pair::new();
        let mut ram = FakeRam::new();
        program_channel2(&mut dma, 0x46, 0x1_FFFE, 4);
        let mut fdc = sending([1, 2, 3, 4]);
        assert_eq!(dma.transfer(2, &mut ram, &mut fdc), 4);
        assert_eq!(&ram.0[0x1_FFFE..0x2_0000], &[1, 2]);
        assert_eq!(
            &ram.0[0x1_0000..0x1_0002],
            &[3, 4],
            "page 1 again, not page 2"
        );
        assert_eq!(ram.0[0x2_0000], 0);
        assert_eq!(dma.read_page(0x1), 0x01);
    }

    #[test]
    fn autoinit_reloads_and_stays_unmasked() {
        let mut dma = Dma8237Pair::new();
        let mut ram = FakeRam::new();
        program_channel2(&mut dma, 0x56, 0x5000, 4); // 0x46 | autoinit
        let mut fdc = sending([9; 6]);
        assert_eq!(dma.transfer(2, &mut ram, &mut fdc), 4, "stops at TC");
        assert!(!dma.is_masked(2));
        assert_eq!(dma.current_physical_address(2), 0x5000);
        assert_eq!(dma.current_count(2), 3);
    }

    #[test]
    fn decrement_mode_walks_down() {
        let mut dma = Dma8237Pair::new();
        let mut ram = FakeRam::new();
        program_channel2(&mut dma, 0x66, 0x4003, 4); // 0x46 | decrement
        let mut fdc = sending([1, 2, 3, 4]);
        assert_eq!(dma.transfer(2, &mut ram, &mut fdc), 4);
        assert_eq!(&ram.0[0x4000..0x4004], &[4, 3, 2, 1]);
    }

    #[test]
    fn verify_mode_consumes_without_writing_memory() {
        let mut dma = Dma8237Pair::new();
        let mut ram = FakeRam::new();
        program_channel2(&mut dma, 0x42, 0x6000, 8); // single, verify
        let mut fdc = sending([0xEE; 8]);
        assert_eq!(dma.transfer(2, &mut ram, &mut fdc), 8);
        assert!(ram.0[0x6000..0x6008].iter().all(|&b| b == 0));
    }

    #[test]
    fn sixteen_bit_channel_counts_words_at_word_addresses() {
        let mut dma = Dma8237Pair::new();
        let mut ram = FakeRam::new();
        // Channel 5: registers at 0xC4/0xC6, mode at 0xD6, page at 0x8B.
        let phys = 0x1_2340u32;
        dma.write_secondary(0x18, 0); // clear flip-flop (0xD8)
        dma.write_secondary(0x16, 0x45); // mode: single, write, channel 1 (= 5)
        let word_addr = ((phys >> 1) & 0xFFFF) as u16;
        dma.write_secondary(0x04, word_addr.to_le_bytes()[0]);
        dma.write_secondary(0x04, word_addr.to_le_bytes()[1]);
        dma.write_page(0xB, (phys >> 16) as u8);
        dma.write_secondary(0x06, 2); // 3 words
        dma.write_secondary(0x06, 0);
        dma.write_secondary(0x14, 0x01); // unmask channel 5
        assert_eq!(dma.current_physical_address(5), phys);
        let mut dev = sending(1..=8);
        assert_eq!(dma.transfer(5, &mut ram, &mut dev), 6);
        assert_eq!(
            &ram.0[phys as usize..phys as usize + 7],
            &[1, 2, 3, 4, 5, 6, 0]
        );
        assert_eq!(dma.read_secondary(0x10) & 0x02, 0x02, "TC for channel 5");
        assert_eq!(dma.read_secondary(0x11), 0xFF, "odd ports are not decoded");
    }

    #[test]
    fn page_registers_are_latches() {
        let mut dma = Dma8237Pair::new();
        for offset in 0..16 {
            dma.write_page(offset, offset as u8 + 0x40);
        }
        assert_eq!(dma.read_page(0x7), 0x47);
        dma.write_primary(0x0C, 0);
        dma.write_primary(0x00, 0x00);
        dma.write_primary(0x00, 0x10);
        assert_eq!(
            dma.current_physical_address(0),
            0x47_1000,
            "channel 0 uses 0x87"
        );
    }
}
