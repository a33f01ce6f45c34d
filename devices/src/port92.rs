//! System control port A (port 0x92), the PS/2 "fast A20 and reset" port.
//!
//! Reference: IBM PS/2 Hardware Interface Technical Reference, "System
//! Control Port A"; the same register in the Intel PIIX datasheet (Port 92h).
//! Bit 0: alternate hot reset (a 0-to-1 transition resets the CPU); bit 1:
//! alternate A20 gate; bit 3: power-on password lock (stored); bits 6-7:
//! fixed-disk activity light (stored). Other bits are stored and read back.
//!
//! Like the i8042's output port, nothing is performed here: A20 changes and
//! reset requests come back from [`SystemControlA::take_events`].

use crate::bus::{AccessSize, PortDevice};
use crate::event::CpuLineEvent;

/// Alternate hot reset: writing 1 (from 0) resets the CPU.
pub const PORT92_FAST_RESET: u8 = 0x01;
/// Alternate A20 gate: set = address bit 20 enabled.
pub const PORT92_FAST_A20: u8 = 0x02;

/// Port 0x92.
#[derive(Clone, Debug, Default)]
pub struct SystemControlA {
    value: u8,
    events: Vec<CpuLineEvent>,
}

impl SystemControlA {
    /// All bits clear: A20 gate off here.
    pub fn new() -> Self {
        SystemControlA::default()
    }

    /// This port's A20 gate bit.
    pub fn a20(&self) -> bool {
        self.value & PORT92_FAST_A20 != 0
    }

    /// The A20 gate and reset requests made since the last call.
    pub fn take_events(&mut self) -> Vec<CpuLineEvent> {
        std::mem::take(&mut self.events)
    }

    fn write_byte(&mut self, value: u8) {
        let old = self.value;
        self.value = value;
        if (old ^ value) & PORT92_FAST_A20 != 0 {
            self.events.push(CpuLineEvent::A20(self.a20()));
        }
        if old & PORT92_FAST_RESET == 0 && value & PORT92_FAST_RESET != 0 {
            self.events.push(CpuLineEvent::Reset);
        }
    }
}

impl PortDevice for SystemControlA {
    /// Byte reads at offset 0 return the last value written.
    fn read(&mut self, offset: u16, size: AccessSize) -> u32 {
        match (offset, size) {
            (0, AccessSize::Byte) => u32::from(self.value),
            _ => size.mask(),
        }
    }

    /// Byte writes at offset 0; anything else is ignored.
    fn write(&mut self, offset: u16, size: AccessSize, value: u32) {
        if (offset, size) == (0, AccessSize::Byte) {
            self.write_byte(value.to_le_bytes()[0]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outb(port: &mut SystemControlA, value: u8) {
        PortDevice::write(port, 0, AccessSize::Byte, u32::from(value));
    }

    fn inb(port: &mut SystemControlA) -> u8 {
        PortDevice::read(port, 0, AccessSize::Byte) as u8
    }

    #[test]
    fn fast_a20_read_modify_write() {
        let mut port = SystemControlA::new();
        // Linux: outb((inb(0x92) | 2) & ~1, 0x92)
        let value = (inb(&mut port) | 0x02) & !0x01;
        outb(&mut port, value);
        assert!(port.a20());
        assert_eq!(inb(&mut port), 0x02);
        assert_eq!(port.take_events(), vec![CpuLineEvent::A20(true)]);
        outb(&mut port, 0x02);
        assert!(port.take_events().is_empty(), "no change, no event");
    }

    #[test]
    fn reset_on_rising_edge_of_bit0_only() {
        let mut port = SystemControlA::new();
        outb(&mut port, 0x01);
        outb(&mut port, 0x01);
        assert_eq!(port.take_events(), vec![CpuLineEvent::Reset]);
        outb(&mut port, 0x00);
        outb(&mut port, 0x03);
        assert_eq!(
            port.take_events(),
            vec![CpuLineEvent::A20(true), CpuLineEvent::Reset]
        );
    }

    #[test]
    fn other_sizes_and_offsets() {
        let mut port = SystemControlA::new();
        PortDevice::write(&mut port, 0, AccessSize::Word, 0x03);
        PortDevice::write(&mut port, 1, AccessSize::Byte, 0x03);
        assert!(port.take_events().is_empty());
        assert_eq!(PortDevice::read(&mut port, 1, AccessSize::Byte), 0xFF);
    }
}
