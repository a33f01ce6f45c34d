//! The PC/AT pair of Intel 8259A programmable interrupt controllers.
//!
//! Datasheet: Intel 8259A Programmable Interrupt Controller (231468); edge or
//! level control registers (ELCR, ports 0x4D0/0x4D1) per the Intel PIIX/PIIX3
//! datasheet. The secondary chip's INT output is wired to the primary's IR2.
//!
//! Modelled: ICW1-ICW4 initialisation, OCW1 masking, OCW2 non-specific and
//! specific EOI, rotation (on EOI, in auto-EOI mode, set priority), OCW3
//! read IRR/ISR, poll and special mask mode, auto-EOI, special fully nested
//! mode on the primary, edge or level triggering (ICW1 LTIM or ELCR), the
//! INTA cycle including the cascade and the spurious-IRQ15 case.
//!
//! Not modelled: 8080/8085 call mode (ICW4 uPM=0: vectors are always 8086
//! style), buffered mode (BUF and M/S are stored only), ICW3 routing (the
//! secondary always sits on IR2, as on every PC/AT).
//!
//! The PIC is pulled, never pushing: the machine feeds line levels in with
//! [`Pic8259Pair::set_irq_levels`], asks [`Pic8259Pair::has_interrupt`] when
//! the CPU can take one, and runs the INTA cycle with
//! [`Pic8259Pair::acknowledge`] to get the vector.

/// Index of the primary chip (ports 0x20/0x21, ELCR 0x4D0).
pub const PRIMARY: usize = 0;
/// Index of the secondary chip (ports 0xA0/0xA1, ELCR 0x4D1).
pub const SECONDARY: usize = 1;
/// The primary input that the secondary chip's INT output drives.
pub const CASCADE_IRQ: u8 = 2;

/// Offset of the command port (A0 = 0): ICW1, OCW2, OCW3; reads IRR/ISR/poll.
pub const OFFSET_COMMAND: u16 = 0;
/// Offset of the data port (A0 = 1): ICW2-4, OCW1; reads IMR.
pub const OFFSET_DATA: u16 = 1;

use crate::pic_chip::Chip;

/// IR number whose vector an INTA with nothing to deliver returns.
const SPURIOUS_IR: u8 = 7;
/// ELCR bits that can be set: IRQ 0, 1, 2 are always edge (PIIX ELCR1).
const ELCR_WRITABLE: [u8; 2] = [0xF8, 0xDE];

/// The two cascaded 8259As of a PC/AT, IRQ 0-7 on the primary and 8-15 on
/// the secondary.
#[derive(Clone, Debug)]
pub struct Pic8259Pair {
    chips: [Chip; 2],
}

impl Default for Pic8259Pair {
    fn default() -> Self {
        Pic8259Pair::new()
    }
}

impl Pic8259Pair {
    /// Both chips in their power-on state: vector base 0, nothing masked,
    /// all inputs edge-triggered. Firmware must run ICW1-4 before use.
    pub fn new() -> Self {
        Pic8259Pair {
            chips: [Chip::new(true), Chip::new(false)],
        }
    }

    /// A guest read of `chip` ([`PRIMARY`] or [`SECONDARY`]) at `offset`
    /// ([`OFFSET_COMMAND`] or [`OFFSET_DATA`]; only bit 0 is decoded).
    pub fn read(&mut self, chip: usize, offset: u16) -> u8 {
        let value = match self.chips.get_mut(chip) {
            Some(c) if offset & 1 == OFFSET_COMMAND => c.read_command(),
            Some(c) => c.imr(),
            None => return 0xFF,
        };
        self.update_cascade();
        value
    }

    /// A guest write of `value` to `chip` at `offset` (see [`Self::read`]).
    pub fn write(&mut self, chip: usize, offset: u16, value: u8) {
        match self.chips.get_mut(chip) {
            Some(c) if offset & 1 == OFFSET_COMMAND => c.write_command(value),
            Some(c) => c.write_data(value),
            None => return,
        }
        self.update_cascade();
    }

    /// Read the edge/level control register of `chip` (port 0x4D0 or 0x4D1).
    pub fn elcr_read(&self, chip: usize) -> u8 {
        self.chips.get(chip).map_or(0xFF, Chip::elcr)
    }

    /// Write the edge/level control register of `chip`; reserved bits (IRQ
    /// 0, 1, 2, 8 and 13 cannot be level-triggered) are kept clear.
    pub fn elcr_write(&mut self, chip: usize, value: u8) {
        if let Some(c) = self.chips.get_mut(chip) {
            c.set_elcr(value & ELCR_WRITABLE[chip]);
            self.update_cascade();
        }
    }

    /// Drive ISA line `irq` (0-15) to `level`. IRQ 2 is the cascade input
    /// and other numbers do not exist: those calls are ignored (an ISA card's
    /// IRQ 2 appears as IRQ 9 on an AT).
    pub fn set_irq_level(&mut self, irq: u8, level: bool) {
        match irq {
            CASCADE_IRQ => return,
            0..=7 => self.chips[PRIMARY].set_pin(irq, level),
            8..=15 => self.chips[SECONDARY].set_pin(irq - 8, level),
            _ => return,
        }
        self.update_cascade();
    }

    /// Drive all sixteen lines from a level mask (bit n = IRQ n), e.g.
    /// `IrqLevels::get()`.
    pub fn set_irq_levels(&mut self, levels: u16) {
        for irq in 0..16 {
            self.set_irq_level(irq, levels & (1 << irq) != 0);
        }
    }

    /// Whether the primary's INT output is asserted: an INTA would deliver
    /// a vector.
    pub fn has_interrupt(&self) -> bool {
        self.chips[PRIMARY].pending().is_some()
    }

    /// The INTA cycle: returns the vector to deliver and updates IRR/ISR, or
    /// `None` if INT is not asserted (no INTA would happen).
    ///
    /// When the primary picks its cascade input but the secondary's request
    /// has gone away since it was latched (for example the guest masked it),
    /// the secondary answers with its IR7 vector without setting its ISR: the
    /// spurious IRQ 15, which the guest must still EOI on the primary.
    pub fn acknowledge(&mut self) -> Option<u8> {
        let [primary, secondary] = &mut self.chips;
        let ir = primary.pending()?;
        primary.ack(ir);
        let vector = if ir == CASCADE_IRQ {
            match secondary.pending() {
                Some(sir) => {
                    secondary.ack(sir);
                    secondary.vector_base() | sir
                }
                None => secondary.vector_base() | SPURIOUS_IR,
            }
        } else {
            primary.vector_base() | ir
        };
        self.update_cascade();
        Some(vector)
    }

    /// The vector bases (ICW2) of the primary and the secondary: with them
    /// a delivered vector names its IRQ line (statistics).
    pub fn vector_bases(&self) -> [u8; 2] {
        [
            self.chips[PRIMARY].vector_base(),
            self.chips[SECONDARY].vector_base(),
        ]
    }

    /// Propagate the secondary's INT output to the primary's IR2.
    fn update_cascade(&mut self) {
        let int = self.chips[SECONDARY].pending().is_some();
        self.chips[PRIMARY].set_cascade_input(int);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// ICW1 0x11 (edge, cascade, ICW4 follows), ICW2 0x08 (vectors 08h-0Fh),
    /// ICW3 0x04 (secondary on IR2), ICW4 0x01 (8086 mode).
    fn icw_init_primary(pic: &mut Pic8259Pair) {
        for (offset, byte) in [(0, 0x11), (1, 0x08), (1, 0x04), (1, 0x01)] {
            pic.write(PRIMARY, offset, byte);
        }
    }

    /// ICW1 0x11, ICW2 0x70 (vectors 70h-77h), ICW3 0x02 (slave ID 2),
    /// ICW4 0x01.
    fn icw_init_secondary(pic: &mut Pic8259Pair) {
        for (offset, byte) in [(0, 0x11), (1, 0x70), (1, 0x02), (1, 0x01)] {
            pic.write(SECONDARY, offset, byte);
        }
    }

    fn bios_programmed() -> Pic8259Pair {
        let mut pic = Pic8259Pair::new();
        icw_init_primary(&mut pic);
        icw_init_secondary(&mut pic);
        pic
    }

    /// OCW1: write the interrupt mask register.
    fn ocw1_mask(pic: &mut Pic8259Pair, chip: usize, mask: u8) {
        pic.write(chip, OFFSET_DATA, mask);
    }

    /// OCW2 0x20: non-specific end of interrupt.
    fn ocw2_eoi(pic: &mut Pic8259Pair, chip: usize) {
        pic.write(chip, OFFSET_COMMAND, 0x20);
    }

    /// OCW3 0x0B: the next command-port read returns ISR.
    fn ocw3_read_isr(pic: &mut Pic8259Pair, chip: usize) -> u8 {
        pic.write(chip, OFFSET_COMMAND, 0x0B);
        pic.read(chip, OFFSET_COMMAND)
    }

    /// OCW3 0x0A: the next command-port read returns IRR.
    fn ocw3_read_irr(pic: &mut Pic8259Pair, chip: usize) -> u8 {
        pic.write(chip, OFFSET_COMMAND, 0x0A);
        pic.read(chip, OFFSET_COMMAND)
    }

    fn pulse(pic: &mut Pic8259Pair, irq: u8) {
        pic.set_irq_level(irq, true);
        pic.set_irq_level(irq, false);
    }

    #[test]
    fn icw_sequence_sets_vector_base_and_unmasks() {
        let mut pic = bios_programmed();
        assert_eq!(pic.read(PRIMARY, OFFSET_DATA), 0);
        assert!(!pic.has_interrupt());
        assert_eq!(pic.acknowledge(), None);
        pulse(&mut pic, 1);
        assert!(pic.has_interrupt());
        assert_eq!(pic.acknowledge(), Some(0x09));
        assert_eq!(ocw3_read_isr(&mut pic, PRIMARY), 0x02);
    }

    #[test]
    fn masked_request_waits_in_irr_until_unmasked() {
        let mut pic = bios_programmed();
        ocw1_mask(&mut pic, PRIMARY, 0x01);
        pulse(&mut pic, 0);
        assert!(!pic.has_interrupt());
        assert_eq!(ocw3_read_irr(&mut pic, PRIMARY), 0x01);
        ocw1_mask(&mut pic, PRIMARY, 0x00);
        assert_eq!(pic.acknowledge(), Some(0x08));
    }

    #[test]
    fn lower_priority_waits_for_eoi_higher_priority_nests() {
        let mut pic = bios_programmed();
        pulse(&mut pic, 3);
        assert_eq!(pic.acknowledge(), Some(0x0B));
        pulse(&mut pic, 5);
        assert!(!pic.has_interrupt(), "IRQ5 is below IRQ3 in service");
        pulse(&mut pic, 1);
        assert_eq!(pic.acknowledge(), Some(0x09), "IRQ1 nests above IRQ3");
        ocw2_eoi(&mut pic, PRIMARY); // ends IRQ1, the highest in service
        assert_eq!(ocw3_read_isr(&mut pic, PRIMARY), 0x08);
        assert!(!pic.has_interrupt());
        ocw2_eoi(&mut pic, PRIMARY);
        assert_eq!(pic.acknowledge(), Some(0x0D));
    }

    #[test]
    fn simultaneous_requests_come_out_in_priority_order() {
        let mut pic = bios_programmed();
        pic.set_irq_levels(0b1001_0000);
        assert_eq!(pic.acknowledge(), Some(0x0C));
        ocw2_eoi(&mut pic, PRIMARY);
        assert_eq!(pic.acknowledge(), Some(0x0F));
    }

    #[test]
    fn specific_eoi_clears_only_the_named_level() {
        let mut pic = bios_programmed();
        pulse(&mut pic, 4);
        pic.acknowledge();
        pulse(&mut pic, 0);
        pic.acknowledge();
        pic.write(PRIMARY, OFFSET_COMMAND, 0x60 | 4); // specific EOI, IR4
        assert_eq!(ocw3_read_isr(&mut pic, PRIMARY), 0x01);
    }

    #[test]
    fn cascade_delivers_secondary_vector_and_needs_both_eois() {
        let mut pic = bios_programmed();
        pulse(&mut pic, 12);
        assert!(pic.has_interrupt());
        assert_eq!(pic.acknowledge(), Some(0x74));
        assert_eq!(ocw3_read_isr(&mut pic, PRIMARY), 0x04);
        assert_eq!(ocw3_read_isr(&mut pic, SECONDARY), 0x10);
        pulse(&mut pic, 8);
        assert!(!pic.has_interrupt(), "IR2 still in service on the primary");
        ocw2_eoi(&mut pic, SECONDARY);
        ocw2_eoi(&mut pic, PRIMARY);
        assert_eq!(pic.acknowledge(), Some(0x70));
    }

    #[test]
    fn irq2_is_the_cascade_not_a_device_line() {
        let mut pic = bios_programmed();
        pulse(&mut pic, 2);
        pulse(&mut pic, 16);
        assert!(!pic.has_interrupt());
    }

    #[test]
    fn secondary_request_gone_before_inta_is_spurious_irq15() {
        let mut pic = bios_programmed();
        pulse(&mut pic, 9);
        assert!(pic.has_interrupt());
        ocw1_mask(&mut pic, SECONDARY, 0x02); // guest masks IRQ9 with IF=0
        assert!(pic.has_interrupt(), "IR2 stays latched on the primary");
        assert_eq!(pic.acknowledge(), Some(0x77));
        assert_eq!(ocw3_read_isr(&mut pic, SECONDARY), 0x00);
        assert_eq!(ocw3_read_isr(&mut pic, PRIMARY), 0x04);
    }

    #[test]
    fn edge_input_needs_a_new_rising_edge() {
        let mut pic = bios_programmed();
        pic.set_irq_level(4, true);
        assert_eq!(pic.acknowledge(), Some(0x0C));
        ocw2_eoi(&mut pic, PRIMARY);
        pic.set_irq_level(4, true); // still high: no new edge
        assert!(!pic.has_interrupt());
        pic.set_irq_level(4, false);
        pic.set_irq_level(4, true);
        assert!(pic.has_interrupt());
    }

    #[test]
    fn level_input_reasserts_after_eoi_and_withdraws_when_low() {
        let mut pic = bios_programmed();
        pic.elcr_write(SECONDARY, 0x08); // IRQ11 level-triggered
        pic.set_irq_level(11, true);
        assert_eq!(pic.acknowledge(), Some(0x73));
        ocw2_eoi(&mut pic, SECONDARY);
        ocw2_eoi(&mut pic, PRIMARY);
        assert_eq!(pic.acknowledge(), Some(0x73), "line still high");
        pic.set_irq_level(11, false); // the handler services the device
        ocw2_eoi(&mut pic, SECONDARY);
        ocw2_eoi(&mut pic, PRIMARY);
        assert!(!pic.has_interrupt());
    }

    #[test]
    fn elcr_reserved_bits_stay_edge() {
        let mut pic = Pic8259Pair::new();
        pic.elcr_write(PRIMARY, 0xFF);
        pic.elcr_write(SECONDARY, 0xFF);
        assert_eq!(pic.elcr_read(PRIMARY), 0xF8);
        assert_eq!(pic.elcr_read(SECONDARY), 0xDE);
        assert_eq!(pic.elcr_read(2), 0xFF);
    }

    #[test]
    fn icw1_ltim_makes_every_input_level_triggered() {
        let mut pic = Pic8259Pair::new();
        for (offset, byte) in [(0, 0x1B), (1, 0x20), (1, 0x01)] {
            pic.write(PRIMARY, offset, byte); // LTIM, single, ICW4
        }
        pic.set_irq_level(6, true);
        assert_eq!(pic.acknowledge(), Some(0x26));
        pic.set_irq_level(6, false);
        ocw2_eoi(&mut pic, PRIMARY);
        assert!(!pic.has_interrupt());
    }

    #[test]
    fn auto_eoi_leaves_isr_clear() {
        let mut pic = Pic8259Pair::new();
        for (offset, byte) in [(0, 0x11), (1, 0x08), (1, 0x04), (1, 0x03)] {
            pic.write(PRIMARY, offset, byte); // ICW4: 8086 + AEOI
        }
        pulse(&mut pic, 5);
        assert_eq!(pic.acknowledge(), Some(0x0D));
        assert_eq!(ocw3_read_isr(&mut pic, PRIMARY), 0);
        pulse(&mut pic, 6);
        assert_eq!(pic.acknowledge(), Some(0x0E), "no EOI needed");
    }

    #[test]
    fn rotate_on_eoi_makes_served_level_lowest() {
        let mut pic = bios_programmed();
        pulse(&mut pic, 1);
        pic.acknowledge();
        pic.write(PRIMARY, OFFSET_COMMAND, 0xA0); // rotate on non-specific EOI
        pic.set_irq_levels(0b0000_0011);
        // IR1 is now lowest, so IR2.. come first, then IR0, then IR1.
        assert_eq!(pic.acknowledge(), Some(0x08));
        pic.write(PRIMARY, OFFSET_COMMAND, 0xC0 | 4); // set priority: IR4 lowest
        ocw2_eoi(&mut pic, PRIMARY);
        assert_eq!(pic.acknowledge(), Some(0x09));
    }

    #[test]
    fn special_mask_mode_lets_lower_levels_through() {
        let mut pic = bios_programmed();
        pulse(&mut pic, 3);
        pic.acknowledge();
        ocw1_mask(&mut pic, PRIMARY, 0x08); // mask the level in service
        pic.write(PRIMARY, OFFSET_COMMAND, 0x68); // OCW3: ESMM + SMM
        pulse(&mut pic, 6);
        assert_eq!(pic.acknowledge(), Some(0x0E));
        pic.write(PRIMARY, OFFSET_COMMAND, 0x48); // OCW3: ESMM, SMM off
        pulse(&mut pic, 7);
        assert!(!pic.has_interrupt());
    }

    #[test]
    fn poll_command_returns_level_and_acknowledges() {
        let mut pic = bios_programmed();
        pulse(&mut pic, 5);
        pic.write(PRIMARY, OFFSET_COMMAND, 0x0C); // OCW3: poll
        assert_eq!(pic.read(PRIMARY, OFFSET_COMMAND), 0x85);
        assert_eq!(ocw3_read_isr(&mut pic, PRIMARY), 0x20);
        pic.write(PRIMARY, OFFSET_COMMAND, 0x0C);
        assert_eq!(pic.read(PRIMARY, OFFSET_COMMAND), 0x00);
    }

    #[test]
    fn reinitialisation_needs_new_edges() {
        let mut pic = bios_programmed();
        pic.set_irq_level(3, true);
        icw_init_primary(&mut pic);
        assert!(!pic.has_interrupt(), "ICW1 reset the edge latch");
        assert_eq!(pic.read(PRIMARY, OFFSET_DATA), 0x00, "ICW1 cleared IMR");
    }
}
