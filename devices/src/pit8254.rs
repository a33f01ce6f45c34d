//! The Intel 8254 programmable interval timer of a PC (ports 0x40-0x43).
//!
//! Datasheet: Intel 82C54 CHMOS Programmable Interval Timer (231244). On a
//! PC the input clock of all three counters is 1.193182 MHz ([`PIT_HZ`]);
//! counter 0's OUT is IRQ 0, counter 1 once drove DRAM refresh, counter 2
//! drives the speaker and its gate and OUT are on port 0x61 (see
//! [`crate::port61`]).
//!
//! Modelled: control words, modes 0-5, binary and BCD counting, LSB/MSB/
//! LSB-then-MSB access, the counter latch command, the read-back command
//! (status and count), gate inputs, OUT of every counter, and IRQ 0 driven
//! from counter 0's OUT. Counts are computed from `now` (see
//! `pit_counter.rs`), never stepped, so any read at any instant is
//! exact. Not modelled: reading the control word register (the 8254 floats
//! the bus there, so it reads as 0xFF).
//!
//! Each access takes `now` because the count is a function of time.

use crate::irq::IrqLine;
use crate::pit_counter::{AccessMode, Counter};
use crate::time::{Ticks, Timed};

pub use crate::time::PIT_HZ;

/// Number of counters in one 8254.
pub const PIT_COUNTERS: usize = 3;
/// Offset of the control word register (port 0x43); offsets 0-2 are the
/// counters (ports 0x40-0x42).
pub const OFFSET_CONTROL: u16 = 3;

/// Control word: counter select, bits 7-6 (3 = read-back command).
const CW_SELECT_SHIFT: u8 = 6;
/// Control word: read/write access, bits 5-4 (0 = counter latch command).
const CW_ACCESS_SHIFT: u8 = 4;
/// Control word: mode, bits 3-1.
const CW_MODE_SHIFT: u8 = 1;
/// Control word: BCD counting.
const CW_BCD: u8 = 0x01;
/// Counter select value that means the read-back command.
const SELECT_READ_BACK: u8 = 3;
/// Read-back: do NOT latch the count (active low).
const READ_BACK_NO_COUNT: u8 = 0x20;
/// Read-back: do NOT latch the status (active low).
const READ_BACK_NO_STATUS: u8 = 0x10;
/// Read-back: counter 0 selected (counter n is bit n + 1).
const READ_BACK_COUNTER0: u8 = 0x02;

/// The three-counter 8254 with counter 0's OUT driving an IRQ line.
pub struct Pit8254 {
    counters: [Counter; PIT_COUNTERS],
    irq0: Box<dyn IrqLine>,
    /// Level currently driven on `irq0`.
    line: bool,
    /// A level to drive at the next `advance` to finish a pulse the machine
    /// stepped over (see [`Timed`] for the contract).
    catch_up: Option<bool>,
    /// PIT clock up to which `line` has been brought.
    last_eval: u64,
    /// `now` of the last advance, for immediate deadlines.
    last_now: Ticks,
}

impl Pit8254 {
    /// A PIT with unprogrammed counters; gates of counters 0 and 1 are tied
    /// high as on a PC, counter 2's gate starts low (port 0x61 bit 0 = 0).
    pub fn new(irq0: Box<dyn IrqLine>) -> Self {
        Pit8254 {
            counters: [Counter::new(true), Counter::new(true), Counter::new(false)],
            irq0,
            line: false,
            catch_up: None,
            last_eval: 0,
            last_now: Ticks::ZERO,
        }
    }

    /// A guest read at `offset` (0-2: counter; 3: control, reads 0xFF).
    pub fn read(&mut self, offset: u16, now: Ticks) -> u8 {
        // Time never runs backwards for the counters, whatever `now` says.
        let t = now.to_pit_ticks().max(self.last_eval);
        match self.counters.get_mut(usize::from(offset)) {
            Some(counter) => counter.read(t),
            None => 0xFF,
        }
    }

    /// A guest write of `value` at `offset` (0-2: count; 3: control word).
    pub fn write(&mut self, offset: u16, value: u8, now: Ticks) {
        self.advance(now);
        let t = self.last_eval;
        match offset {
            0..=2 => self.counters[usize::from(offset)].write(value, t),
            OFFSET_CONTROL => self.control_word(value, t),
            _ => return,
        }
        self.drive_after_change(t);
    }

    fn control_word(&mut self, value: u8, t: u64) {
        let select = value >> CW_SELECT_SHIFT;
        if select == SELECT_READ_BACK {
            for (index, counter) in self.counters.iter_mut().enumerate() {
                if value & (READ_BACK_COUNTER0 << index) == 0 {
                    continue;
                }
                if value & READ_BACK_NO_STATUS == 0 {
                    counter.latch_status(t);
                }
                if value & READ_BACK_NO_COUNT == 0 {
                    counter.latch_count(t);
                }
            }
            return;
        }
        let counter = &mut self.counters[usize::from(select)];
        let access = match (value >> CW_ACCESS_SHIFT) & 3 {
            0 => return counter.latch_count(t),
            1 => AccessMode::Lsb,
            2 => AccessMode::Msb,
            _ => AccessMode::LsbMsb,
        };
        counter.program((value >> CW_MODE_SHIFT) & 7, access, value & CW_BCD != 0, t);
    }

    /// Drive the gate input of counter `channel` (only counter 2's gate is
    /// wired on a PC, to port 0x61 bit 0). Unknown channels are ignored.
    pub fn set_gate(&mut self, channel: usize, high: bool, now: Ticks) {
        if channel >= PIT_COUNTERS {
            return;
        }
        self.advance(now);
        let t = self.last_eval;
        self.counters[channel].set_gate(high, t);
        self.drive_after_change(t);
    }

    /// The gate input of counter `channel` (`false` for unknown channels).
    pub fn gate(&self, channel: usize) -> bool {
        self.counters.get(channel).is_some_and(Counter::gate)
    }

    /// The OUT pin of counter `channel` at `now` (`false` for unknown
    /// channels). OUT 2 is what port 0x61 bit 5 reads.
    pub fn out(&self, channel: usize, now: Ticks) -> bool {
        self.counters
            .get(channel)
            .is_some_and(|c| c.out_at(now.to_pit_ticks()))
    }

    fn drive(&mut self, level: bool) {
        if level != self.line {
            self.line = level;
            self.irq0.set_level(level);
        }
    }

    /// After a guest access changed counter state at clock `t`, the line
    /// follows OUT 0 directly (unless a catch-up pulse is in flight).
    fn drive_after_change(&mut self, t: u64) {
        self.last_eval = self.last_eval.max(t);
        if self.catch_up.is_none() {
            let out = self.counters[0].out_at(self.last_eval);
            self.drive(out);
        }
    }
}

impl Timed for Pit8254 {
    /// Brings IRQ 0 up to `now`. If OUT 0 rose since the last call but the
    /// line would not show a rising edge (the machine stepped over a whole
    /// low pulse, e.g. the one-clock pulse of mode 2), the line is driven low
    /// now and high at the next call, and the deadline asks for that call
    /// right away: the PIC then still sees exactly one edge for the tick.
    fn advance(&mut self, now: Ticks) {
        let t = now.to_pit_ticks().max(self.last_eval);
        self.last_now = self.last_now.max(now);
        if let Some(level) = self.catch_up.take() {
            self.drive(level);
            self.last_eval = t;
            return;
        }
        let counter = &self.counters[0];
        let target = counter.out_at(t);
        let rose = counter.rises_between(self.last_eval, t);
        if rose && self.line {
            self.drive(false);
            self.catch_up = Some(true);
        } else if rose {
            self.drive(true);
        } else {
            self.drive(target);
        }
        self.last_eval = t;
    }

    fn next_deadline(&self) -> Option<Ticks> {
        let counter = &self.counters[0];
        if self.catch_up.is_some() || self.line != counter.out_at(self.last_eval) {
            return Some(self.last_now);
        }
        counter
            .next_change_after(self.last_eval)
            .map(Ticks::from_pit_ticks)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::irq::TestLine;

    fn at(clock: u64) -> Ticks {
        Ticks::from_pit_ticks(clock)
    }

    fn new_pit() -> (Pit8254, TestLine) {
        let line = TestLine::new();
        (Pit8254::new(line.boxed()), line)
    }

    /// Control word, then the count LSB and MSB (access mode 11).
    fn program_lohi(pit: &mut Pit8254, control: u8, count: u16, now: Ticks) {
        let counter = u16::from(control >> 6);
        pit.write(OFFSET_CONTROL, control, now);
        pit.write(counter, count.to_le_bytes()[0], now);
        pit.write(counter, count.to_le_bytes()[1], now);
    }

    /// Counter latch command (RW = 00), then read LSB and MSB.
    fn latch_counter(pit: &mut Pit8254, counter: u16, now: Ticks) -> u16 {
        pit.write(OFFSET_CONTROL, (counter as u8) << 6, now);
        u16::from_le_bytes([pit.read(counter, now), pit.read(counter, now)])
    }

    #[test]
    fn mode0_out_rises_count_plus_one_clocks_after_write() {
        let (mut pit, line) = new_pit();
        program_lohi(&mut pit, 0x30, 100, Ticks(0)); // ctr 0, lohi, mode 0
        assert!(!pit.out(0, Ticks(0)));
        // Clock 1 loads CE, 100 more clocks reach terminal count at clock 101.
        assert_eq!(pit.next_deadline(), Some(Ticks(84_648)));
        assert!(!pit.out(0, Ticks(84_647)));
        assert!(pit.out(0, Ticks(84_648)));
        pit.advance(Ticks(84_647));
        assert!(!line.level());
        pit.advance(Ticks(84_648));
        assert!(line.level());
        assert_eq!(pit.next_deadline(), None, "mode 0 fires once");
    }

    #[test]
    fn mode0_count_decrements_and_wraps_after_terminal_count() {
        let (mut pit, _) = new_pit();
        program_lohi(&mut pit, 0x30, 100, Ticks(0));
        assert_eq!(latch_counter(&mut pit, 0, at(51)), 50);
        assert_eq!(latch_counter(&mut pit, 0, at(101)), 0);
        assert_eq!(latch_counter(&mut pit, 0, at(102)), 0xFFFF);
    }

    #[test]
    fn mode0_first_byte_of_new_count_drops_out_immediately() {
        let (mut pit, line) = new_pit();
        program_lohi(&mut pit, 0x30, 10, Ticks(0));
        pit.advance(at(20));
        assert!(line.level());
        pit.write(0, 0x05, at(30)); // LSB of the next one-shot
        assert!(!line.level(), "OUT low as soon as the LSB is written");
        pit.write(0, 0x00, at(30)); // MSB: count 5 loads at clock 31
        assert_eq!(pit.next_deadline(), Some(at(36)));
    }

    #[test]
    fn mode2_rate_generator_pulses_low_for_one_clock() {
        let (mut pit, line) = new_pit();
        program_lohi(&mut pit, 0x34, 10, Ticks(0)); // ctr 0, lohi, mode 2
        assert!(pit.out(0, Ticks(0)));
        pit.advance(Ticks(0));
        assert!(line.level());
        let mut deadlines = Vec::new();
        for _ in 0..4 {
            let deadline = pit.next_deadline().unwrap();
            deadlines.push(deadline);
            pit.advance(deadline);
        }
        assert_eq!(deadlines, vec![at(10), at(11), at(20), at(21)]);
        assert_eq!(deadlines[0], Ticks(8_381));
        assert_eq!(line.changes(), vec![true, false, true, false, true]);
    }

    #[test]
    fn mode2_stepped_over_pulse_still_gives_one_edge() {
        let (mut pit, line) = new_pit();
        program_lohi(&mut pit, 0x34, 10, Ticks(0));
        pit.advance(Ticks(0));
        line.clear_changes();
        pit.advance(at(15)); // the low clock 10 was stepped over
        assert_eq!(line.changes(), vec![false]);
        assert_eq!(pit.next_deadline(), Some(at(15)), "advance again now");
        pit.advance(at(15));
        assert_eq!(line.changes(), vec![false, true]);
        assert_eq!(pit.next_deadline(), Some(at(20)));
    }

    #[test]
    fn mode3_square_wave_halves_and_counts_by_two() {
        let (mut pit, _) = new_pit();
        program_lohi(&mut pit, 0x36, 10, Ticks(0)); // ctr 0, lohi, mode 3
        let outs: Vec<bool> = (1..=11).map(|c| pit.out(0, at(c))).collect();
        let mut expected = vec![true; 5];
        expected.extend([false; 5]);
        expected.push(true);
        assert_eq!(outs, expected);
        assert_eq!(latch_counter(&mut pit, 0, at(1)), 10);
        assert_eq!(latch_counter(&mut pit, 0, at(2)), 8);
        assert_eq!(latch_counter(&mut pit, 0, at(7)), 8);
    }

    #[test]
    fn bios_timer_runs_at_18_2_hz() {
        let (mut pit, _) = new_pit();
        program_lohi(&mut pit, 0x36, 0, Ticks(0)); // count 0 = 65536
        pit.advance(Ticks(0));
        let rise = pit.next_deadline().map(|d| {
            pit.advance(d);
            pit.next_deadline().unwrap()
        });
        // Low half starts at clock 1 + 32768, high again at 1 + 65536.
        assert_eq!(rise, Some(at(65_537)));
        assert_eq!(at(65_537), Ticks(54_926_240));
    }

    #[test]
    fn latch_freezes_value_and_second_latch_is_ignored() {
        let (mut pit, _) = new_pit();
        program_lohi(&mut pit, 0x34, 1000, Ticks(0));
        pit.write(OFFSET_CONTROL, 0x00, at(101)); // latch ctr 0: 900
        pit.write(OFFSET_CONTROL, 0x00, at(201)); // ignored: latch pending
        assert_eq!(pit.read(0, at(301)), 0x84);
        assert_eq!(pit.read(0, at(301)), 0x03);
        assert_eq!(latch_counter(&mut pit, 0, at(301)), 700);
    }

    #[test]
    fn read_back_latches_status_then_count() {
        let (mut pit, _) = new_pit();
        pit.write(OFFSET_CONTROL, 0x34, Ticks(0));
        pit.write(OFFSET_CONTROL, 0xE2, Ticks(0)); // read-back status, ctr 0
                                                   // OUT high, null count, RW=11, mode 2, binary.
        assert_eq!(pit.read(0, Ticks(0)), 0xC0 | 0x30 | 0x04);
        pit.write(0, 0x10, Ticks(0));
        pit.write(0, 0x00, Ticks(0)); // count 16, loads at clock 1
        pit.write(OFFSET_CONTROL, 0xC2, at(5)); // status + count
        assert_eq!(pit.read(0, at(9)), 0xB4, "null count cleared by load");
        assert_eq!(pit.read(0, at(9)), 12);
        assert_eq!(pit.read(0, at(9)), 0);
    }

    #[test]
    fn bcd_mode_counts_in_decimal() {
        let (mut pit, _) = new_pit();
        program_lohi(&mut pit, 0x31, 0x0100, Ticks(0)); // mode 0, BCD, 100
        assert_eq!(latch_counter(&mut pit, 0, at(38)), 0x0063);
        assert!(pit.out(0, at(101)));
        program_lohi(&mut pit, 0x35, 0x0000, at(200)); // mode 2, BCD 10000
        assert_eq!(latch_counter(&mut pit, 0, at(202)), 0x9999);
    }

    #[test]
    fn lsb_only_and_msb_only_access() {
        let (mut pit, _) = new_pit();
        pit.write(OFFSET_CONTROL, 0x14, Ticks(0)); // ctr 0, LSB only, mode 2
        pit.write(0, 50, Ticks(0));
        assert_eq!(pit.read(0, at(11)), 40);
        pit.write(OFFSET_CONTROL, 0x64, Ticks(0)); // ctr 1, MSB only, mode 2
        pit.write(1, 0x02, Ticks(0)); // count 0x0200
        assert_eq!(pit.read(1, at(1)), 0x02);
    }

    #[test]
    fn counter2_gate_pauses_mode0_and_retriggers_mode1() {
        let (mut pit, _) = new_pit();
        program_lohi(&mut pit, 0xB0, 20, Ticks(0)); // ctr 2, mode 0, gate low
        assert_eq!(latch_counter(&mut pit, 2, at(50)), 20, "gate low: held");
        pit.set_gate(2, true, at(50));
        assert_eq!(latch_counter(&mut pit, 2, at(60)), 10);
        pit.set_gate(2, false, at(60));
        assert_eq!(latch_counter(&mut pit, 2, at(90)), 10);
        pit.set_gate(2, true, at(90));
        assert!(!pit.out(2, at(99)));
        assert!(pit.out(2, at(100)));

        program_lohi(&mut pit, 0xB2, 5, at(200)); // ctr 2, mode 1
        assert!(pit.out(2, at(210)), "one-shot waits for a trigger");
        pit.set_gate(2, false, at(210));
        pit.set_gate(2, true, at(211));
        assert!(!pit.out(2, at(212)));
        assert!(pit.out(2, at(217)));
    }

    #[test]
    fn mode4_strobe_is_one_clock_low() {
        let (mut pit, _) = new_pit();
        program_lohi(&mut pit, 0x38, 3, Ticks(0)); // ctr 0, mode 4
        let outs: Vec<bool> = (0..7).map(|c| pit.out(0, at(c))).collect();
        assert_eq!(outs, vec![true, true, true, true, false, true, true]);
    }

    #[test]
    fn an_earlier_now_is_treated_as_the_latest_seen() {
        let (mut pit, _) = new_pit();
        program_lohi(&mut pit, 0x34, 10, at(100));
        pit.advance(at(105));
        pit.write(OFFSET_CONTROL, 0x00, at(50)); // latch "in the past"
        assert_eq!(
            u16::from_le_bytes([pit.read(0, at(1)), pit.read(0, at(1))]),
            6
        );
        pit.set_gate(0, false, at(3));
        pit.set_gate(0, true, at(2));
        assert!(pit.next_deadline().is_some());
    }

    #[test]
    fn control_register_reads_as_floating_bus() {
        let (mut pit, _) = new_pit();
        assert_eq!(pit.read(OFFSET_CONTROL, Ticks(0)), 0xFF);
        pit.write(7, 0x12, Ticks(0));
        assert!(!pit.out(5, Ticks(0)));
    }
}
