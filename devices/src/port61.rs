//! System control port B (port 0x61) of a PC/AT: PIT counter 2's gate and
//! OUT, the speaker enable, and the refresh-request toggle.
//!
//! Reference: IBM PC/AT Technical Reference, "System Board I/O" (port 61h);
//! the same bits in the Intel PIIX "NMI Status and Control Register".
//!
//! Bits: 0 timer 2 gate (r/w), 1 speaker data enable (r/w), 2 parity check
//! disable (r/w), 3 channel check disable (r/w), 4 refresh request toggle
//! (read), 5 timer 2 OUT (read), 6 channel check (read, always 0 here), 7
//! parity error (read, always 0 here).
//!
//! The refresh toggle flips every 18 PIT clocks (15.09 us, the refresh
//! period counter 1 was programmed for on the AT), derived from `now`, so
//! delay loops that count toggles measure machine time. No sound is made:
//! [`SystemControlB::speaker_on`] tells a front end whether it would be.

use crate::pit8254::Pit8254;
use crate::time::Ticks;

/// Timer 2 gate input (r/w).
pub const PORT61_TIMER2_GATE: u8 = 0x01;
/// Speaker data enable: OUT 2 reaches the speaker when set (r/w).
pub const PORT61_SPEAKER_DATA: u8 = 0x02;
/// Parity check disable (r/w, stored only).
pub const PORT61_PARITY_CHECK_DISABLE: u8 = 0x04;
/// I/O channel check disable (r/w, stored only).
pub const PORT61_CHANNEL_CHECK_DISABLE: u8 = 0x08;
/// Refresh request toggle (read only).
pub const PORT61_REFRESH_TOGGLE: u8 = 0x10;
/// Timer 2 OUT (read only).
pub const PORT61_TIMER2_OUT: u8 = 0x20;
/// Bits a write changes; the rest are status.
const WRITABLE: u8 = 0x0F;
/// PIT counter whose gate and OUT live here.
const SPEAKER_COUNTER: usize = 2;
/// PIT clocks per refresh request (AT counter 1 count 18 = 15.09 us).
const REFRESH_PERIOD_PIT_CLOCKS: u64 = 18;

/// Port 0x61. Stateless apart from the writable bits; the PIT holds the
/// gate and produces OUT 2.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemControlB {
    control: u8,
}

impl SystemControlB {
    /// All control bits clear: gate 2 low, speaker off.
    pub fn new() -> Self {
        SystemControlB::default()
    }

    /// A guest read at `now`.
    pub fn read(&self, now: Ticks, pit: &Pit8254) -> u8 {
        let mut value = self.control;
        if (now.to_pit_ticks() / REFRESH_PERIOD_PIT_CLOCKS) & 1 != 0 {
            value |= PORT61_REFRESH_TOGGLE;
        }
        if pit.out(SPEAKER_COUNTER, now) {
            value |= PORT61_TIMER2_OUT;
        }
        value
    }

    /// A guest write at `now`: stores bits 0-3 and drives PIT gate 2.
    pub fn write(&mut self, value: u8, now: Ticks, pit: &mut Pit8254) {
        self.control = value & WRITABLE;
        pit.set_gate(SPEAKER_COUNTER, value & PORT61_TIMER2_GATE != 0, now);
    }

    /// Whether the speaker is driven by OUT 2 (gate and speaker data both on).
    pub fn speaker_on(&self) -> bool {
        let both = PORT61_TIMER2_GATE | PORT61_SPEAKER_DATA;
        self.control & both == both
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::irq::NoIrq;
    use crate::pit8254::OFFSET_CONTROL;

    fn at(clock: u64) -> Ticks {
        Ticks::from_pit_ticks(clock)
    }

    #[test]
    fn gate2_via_port61_starts_counter2_and_out2_reads_back() {
        let mut pit = Pit8254::new(Box::new(NoIrq));
        let mut port = SystemControlB::new();
        // The classic TSC calibration: gate on, speaker off, mode 0 on ctr 2.
        port.write(PORT61_TIMER2_GATE, Ticks(0), &mut pit);
        pit.write(OFFSET_CONTROL, 0xB0, Ticks(0));
        pit.write(2, 0x64, Ticks(0)); // count 100
        pit.write(2, 0x00, Ticks(0));
        assert_eq!(port.read(at(100), &pit) & PORT61_TIMER2_OUT, 0);
        assert_ne!(port.read(at(101), &pit) & PORT61_TIMER2_OUT, 0);
        assert!(!port.speaker_on());
    }

    #[test]
    fn gate_low_holds_counter2() {
        let mut pit = Pit8254::new(Box::new(NoIrq));
        let mut port = SystemControlB::new();
        pit.write(OFFSET_CONTROL, 0xB0, Ticks(0));
        pit.write(2, 10, Ticks(0));
        pit.write(2, 0, Ticks(0));
        assert_eq!(port.read(at(500), &pit) & PORT61_TIMER2_OUT, 0);
        port.write(PORT61_TIMER2_GATE | PORT61_SPEAKER_DATA, at(500), &mut pit);
        assert!(pit.gate(2));
        assert!(port.speaker_on());
        assert_ne!(port.read(at(510), &pit) & PORT61_TIMER2_OUT, 0);
    }

    #[test]
    fn refresh_bit_toggles_every_18_pit_clocks() {
        let pit = Pit8254::new(Box::new(NoIrq));
        let port = SystemControlB::new();
        assert_eq!(port.read(at(17), &pit) & PORT61_REFRESH_TOGGLE, 0);
        assert_ne!(port.read(at(18), &pit) & PORT61_REFRESH_TOGGLE, 0);
        assert_eq!(port.read(at(36), &pit) & PORT61_REFRESH_TOGGLE, 0);
    }

    #[test]
    fn status_bits_are_not_writable() {
        let mut pit = Pit8254::new(Box::new(NoIrq));
        let mut port = SystemControlB::new();
        port.write(0xFC, Ticks(0), &mut pit);
        assert_eq!(port.read(Ticks(0), &pit), 0x0C);
    }
}
