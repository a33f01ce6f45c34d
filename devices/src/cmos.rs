//! The PC/AT CMOS RAM and real-time clock (Motorola MC146818A), ports 0x70
//! (index, bit 7 = NMI disable) and 0x71 (data).
//!
//! Datasheet: Motorola MC146818A Real-Time Clock Plus RAM, plus the IBM
//! century byte at 0x32. The AT layout of the other RAM bytes and the
//! memory-size helpers are in [`crate::nvram_layout`]; the byte encoding of
//! the time registers is in `rtc_format.rs`.
//!
//! Modelled: 128 bytes of RAM; time, date and day of week in BCD or binary,
//! 24-hour or 12-hour (bit 7 = PM) per register B; the alarm with "don't
//! care" values (0xC0-0xFF); register A's UIP bit (set for the last 244 us
//! before each update), divider control (reset holds the clock; the first
//! update comes 500 ms after leaving reset) and periodic rate; register B's
//! SET (holds the clock for writing; clearing it restarts the second), PIE,
//! AIE and UIE; register C's flags (read clears them and lowers IRQ 8);
//! register D's valid-RAM bit. The century byte follows the clock.
//!
//! The clock is an injected start time (Unix seconds at `Ticks(0)`) plus
//! elapsed machine time, so it is deterministic under a virtual clock. A
//! guest that writes the time moves an offset; nothing touches the host.
//!
//! Not modelled: the square-wave output, daylight-saving switching, the
//! 4.194/1.048 MHz time bases, the stored day-of-week register (it is always
//! computed from the date while the clock runs), and out-of-range values a
//! guest writes into time registers (kept while the clock is held, clamped
//! or rolled over once it runs).

use bitflags::bitflags;

use crate::irq::IrqLine;
use crate::rtc_format::{clock_slot, ClockRaw, RtcFormat};
pub use crate::rtc_format::{
    REG_CENTURY, REG_DAY_OF_MONTH, REG_DAY_OF_WEEK, REG_HOURS, REG_HOURS_ALARM, REG_MINUTES,
    REG_MINUTES_ALARM, REG_MONTH, REG_SECONDS, REG_SECONDS_ALARM, REG_YEAR,
};
use crate::time::{Ticks, Timed, NANOS_PER_SEC};

/// Offset of the index port (0x70).
pub const OFFSET_INDEX: u16 = 0;
/// Offset of the data port (0x71).
pub const OFFSET_DATA: u16 = 1;
/// Bytes of CMOS RAM, clock registers included.
pub const CMOS_SIZE: usize = 128;

/// Status register A: UIP, divider, rate select.
pub const REG_A: u8 = 0x0A;
/// Status register B: SET, interrupt enables, data mode, 24/12.
pub const REG_B: u8 = 0x0B;
/// Status register C: interrupt flags (read-only, read clears).
pub const REG_C: u8 = 0x0C;
/// Status register D: valid RAM and time (read-only).
pub const REG_D: u8 = 0x0D;

/// Index port: bits that select the register.
const INDEX_MASK: u8 = 0x7F;
/// Index port: disable NMI.
const INDEX_NMI_DISABLE: u8 = 0x80;
/// Register A: update in progress.
const A_UIP: u8 = 0x80;
/// Register A: divider bits that, both set, hold the divider in reset.
const A_DIVIDER_RESET: u8 = 0x60;
/// Register A: periodic rate select.
const A_RATE_MASK: u8 = 0x0F;
/// Register A after a PC BIOS: 32.768 kHz time base, 1024 Hz periodic rate.
const A_DEFAULT: u8 = 0x26;
/// Register D: valid RAM and time.
const D_VRT: u8 = 0x80;
/// Alarm register values from this up match any value.
const ALARM_DONT_CARE: u8 = 0xC0;
/// UIP is set this long before each update.
const UIP_WINDOW_NS: i128 = 244_000;
/// The first update after leaving divider reset comes this long after.
const DIVIDER_RELEASE_NS: i128 = 500_000_000;
/// Time base of the divider chain, in Hz.
const RTC_HZ: i128 = 32_768;
/// Alarms are checked at most this many seconds back when time jumps.
const ALARM_LOOKBACK_SECS: i64 = 86_400;
const NS_PER_SEC: i128 = NANOS_PER_SEC as i128;
bitflags! {
    /// Register B.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct RegB: u8 {
        /// Hold the clock so software can set it.
        const SET = 0x80;
        /// Periodic interrupt enable.
        const PIE = 0x40;
        /// Alarm interrupt enable.
        const AIE = 0x20;
        /// Update-ended interrupt enable.
        const UIE = 0x10;
        /// Square-wave enable (no pin here).
        const SQWE = 0x08;
        /// Data mode: binary (set) or BCD (clear).
        const BINARY = 0x04;
        /// 24-hour (set) or 12-hour (clear) mode.
        const HOURS_24 = 0x02;
        /// Daylight saving enable (stored only).
        const DSE = 0x01;
    }

    /// Register C.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct RegC: u8 {
        /// An enabled flag is set: IRQ 8 asserted.
        const IRQF = 0x80;
        /// Periodic interrupt flag.
        const PF = 0x40;
        /// Alarm flag.
        const AF = 0x20;
        /// Update-ended flag.
        const UF = 0x10;
    }
}

/// CMOS RAM plus MC146818A clock, driving IRQ 8.
pub struct Cmos {
    ram: [u8; CMOS_SIZE],
    index: u8,
    nmi_masked: bool,
    reg_a: u8,
    reg_b: RegB,
    flags: RegC,
    /// Guest wall-clock time (ns since the Unix epoch) at `Ticks(0)`.
    base_ns: i128,
    /// Raw time registers while the clock is held (SET or divider reset):
    /// the guest reads back exactly what it wrote, and nothing is decoded
    /// until the clock restarts.
    held: Option<ClockRaw>,
    /// Flags are settled up to this instant.
    last: Ticks,
    irq: Box<dyn IrqLine>,
    irq_level: bool,
}

impl Cmos {
    /// A CMOS whose clock reads `start_unix_secs` at machine time zero, in
    /// BCD 24-hour mode, with all RAM bytes zero.
    pub fn new(start_unix_secs: i64, irq: Box<dyn IrqLine>) -> Self {
        Cmos {
            ram: [0; CMOS_SIZE],
            index: 0,
            nmi_masked: false,
            reg_a: A_DEFAULT,
            reg_b: RegB::HOURS_24,
            flags: RegC::empty(),
            base_ns: i128::from(start_unix_secs) * NS_PER_SEC,
            held: None,
            last: Ticks::ZERO,
            irq,
            irq_level: false,
        }
    }

    /// Whether the guest has disabled NMI (port 0x70 bit 7).
    pub fn nmi_masked(&self) -> bool {
        self.nmi_masked
    }

    /// Set a RAM byte (firmware setup: disk types, memory sizes). Clock and
    /// status registers are computed, so setting those has no visible effect.
    pub fn set_byte(&mut self, index: u8, value: u8) {
        self.ram[usize::from(index & INDEX_MASK)] = value;
    }

    /// A RAM byte as stored (clock registers are not computed here).
    pub fn get_byte(&self, index: u8) -> u8 {
        self.ram[usize::from(index & INDEX_MASK)]
    }

    /// A guest read at `offset` (0: index port, reads 0xFF; 1: data).
    pub fn read(&mut self, offset: u16, now: Ticks) -> u8 {
        if offset != OFFSET_DATA {
            return 0xFF;
        }
        self.advance(now);
        let index = self.index;
        match index {
            REG_A => self.reg_a | if self.uip(now) { A_UIP } else { 0 },
            REG_B => self.reg_b.bits(),
            REG_C => {
                let value = self.flags
                    | if self.irq_level {
                        RegC::IRQF
                    } else {
                        RegC::empty()
                    };
                self.flags = RegC::empty();
                self.update_irq();
                value.bits()
            }
            REG_D => D_VRT,
            _ => match (clock_slot(index), &self.held) {
                (Some(slot), Some(raw)) => raw[slot],
                (Some(slot), None) => self.format().encode_all(self.running_secs(now))[slot],
                (None, _) => self.ram[usize::from(index)],
            },
        }
    }

    /// A guest write at `offset` (0: index and NMI mask; 1: data).
    pub fn write(&mut self, offset: u16, value: u8, now: Ticks) {
        match offset {
            OFFSET_INDEX => {
                self.index = value & INDEX_MASK;
                self.nmi_masked = value & INDEX_NMI_DISABLE != 0;
                return;
            }
            OFFSET_DATA => {}
            _ => return,
        }
        self.advance(now);
        match self.index {
            REG_A => self.write_reg_a(value, now),
            REG_B => self.write_reg_b(value, now),
            REG_C | REG_D => {}
            index => match clock_slot(index) {
                Some(slot) => self.write_clock_register(slot, value, now),
                None => self.ram[usize::from(index)] = value,
            },
        }
        self.update_irq();
    }

    fn guest_ns(&self, now: Ticks) -> i128 {
        self.base_ns + i128::from(now.0)
    }

    fn running_secs(&self, now: Ticks) -> i64 {
        i64::try_from(self.guest_ns(now).div_euclid(NS_PER_SEC)).unwrap_or(i64::MAX)
    }

    fn divider_in_reset(&self) -> bool {
        self.reg_a & A_DIVIDER_RESET == A_DIVIDER_RESET
    }

    /// How the time registers are encoded (register B DM and 24/12).
    fn format(&self) -> RtcFormat {
        RtcFormat {
            binary: self.reg_b.contains(RegB::BINARY),
            hours_24: self.reg_b.contains(RegB::HOURS_24),
        }
    }

    fn uip(&self, now: Ticks) -> bool {
        self.held.is_none()
            && self.guest_ns(now).rem_euclid(NS_PER_SEC) >= NS_PER_SEC - UIP_WINDOW_NS
    }

    fn write_clock_register(&mut self, slot: usize, value: u8, now: Ticks) {
        if let Some(raw) = &mut self.held {
            raw[slot] = value;
            return;
        }
        if slot == usize::from(REG_DAY_OF_WEEK) {
            // Computed from the date while the clock runs.
            return;
        }
        // Keep the phase within the second; move the clock.
        let secs = self.running_secs(now);
        let mut raw = self.format().encode_all(secs);
        raw[slot] = value;
        self.base_ns += i128::from(self.format().decode_all(&raw) - secs) * NS_PER_SEC;
    }

    fn write_reg_a(&mut self, value: u8, now: Ticks) {
        let was_reset = self.divider_in_reset();
        self.reg_a = value & !A_UIP;
        match (was_reset, self.divider_in_reset()) {
            (false, true) => self.hold(now),
            (true, false) => self.release(now, DIVIDER_RELEASE_NS),
            _ => {}
        }
    }

    fn write_reg_b(&mut self, value: u8, now: Ticks) {
        let was_set = self.reg_b.contains(RegB::SET);
        let mut b = RegB::from_bits_retain(value);
        if b.contains(RegB::SET) {
            // Setting SET clears UIE (MC146818A register B, bit 7).
            b.remove(RegB::UIE);
        }
        self.reg_b = b;
        match (was_set, b.contains(RegB::SET)) {
            (false, true) => self.hold(now),
            (true, false) => self.release(now, NS_PER_SEC),
            _ => {}
        }
    }

    fn hold(&mut self, now: Ticks) {
        if self.held.is_none() {
            self.held = Some(self.format().encode_all(self.running_secs(now)));
        }
    }

    /// Restart the clock at its held second; the next update comes
    /// `first_update_ns` from now.
    fn release(&mut self, now: Ticks, first_update_ns: i128) {
        if self.reg_b.contains(RegB::SET) || self.divider_in_reset() {
            return;
        }
        if let Some(raw) = self.held.take() {
            let secs = i128::from(self.format().decode_all(&raw));
            self.base_ns = (secs + 1) * NS_PER_SEC - first_update_ns - i128::from(now.0);
        }
    }

    /// Periodic interrupt period in 32.768 kHz cycles, if running.
    fn periodic_cycles(&self) -> Option<i128> {
        let rate = self.reg_a & A_RATE_MASK;
        if rate == 0 || self.divider_in_reset() {
            return None;
        }
        Some(if rate <= 2 {
            1 << (rate + 6)
        } else {
            1 << (rate - 1)
        })
    }

    /// 32.768 kHz divider cycles at `now`.
    fn rtc_cycles(&self, now: Ticks) -> i128 {
        (self.guest_ns(now) * RTC_HZ).div_euclid(NS_PER_SEC)
    }

    fn alarm_matches(&self, secs: i64) -> bool {
        let now_raw = self.format().encode_all(secs);
        [
            (REG_SECONDS_ALARM, REG_SECONDS),
            (REG_MINUTES_ALARM, REG_MINUTES),
            (REG_HOURS_ALARM, REG_HOURS),
        ]
        .iter()
        .all(|&(alarm, reg)| {
            let wanted = self.ram[usize::from(alarm)];
            wanted >= ALARM_DONT_CARE || wanted == now_raw[usize::from(reg)]
        })
    }

    fn update_irq(&mut self) {
        let b = self.reg_b;
        let level = (self.flags.contains(RegC::PF) && b.contains(RegB::PIE))
            || (self.flags.contains(RegC::AF) && b.contains(RegB::AIE))
            || (self.flags.contains(RegC::UF) && b.contains(RegB::UIE));
        if level != self.irq_level {
            self.irq_level = level;
            self.irq.set_level(level);
        }
    }

    /// Machine time at which the guest clock reaches `guest_ns`.
    fn ticks_at_guest_ns(&self, guest_ns: i128) -> Ticks {
        Ticks(u64::try_from(guest_ns - self.base_ns).unwrap_or(0))
    }
}

impl Timed for Cmos {
    /// Sets PF, UF and AF for every periodic tick, update and alarm match
    /// between the last call and `now`, and drives IRQ 8.
    fn advance(&mut self, now: Ticks) {
        if now <= self.last {
            return;
        }
        let last = self.last;
        self.last = now;
        if let Some(period) = self.periodic_cycles() {
            if self.rtc_cycles(now) / period > self.rtc_cycles(last) / period {
                self.flags |= RegC::PF;
            }
        }
        if self.held.is_none() {
            let (from, to) = (self.running_secs(last), self.running_secs(now));
            if to > from {
                self.flags |= RegC::UF;
                let first = (from + 1).max(to - ALARM_LOOKBACK_SECS + 1);
                if (first..=to).any(|s| self.alarm_matches(s)) {
                    self.flags |= RegC::AF;
                }
            }
        }
        self.update_irq();
    }

    fn next_deadline(&self) -> Option<Ticks> {
        if self.irq_level {
            return None;
        }
        let b = self.reg_b;
        let periodic = self
            .periodic_cycles()
            .filter(|_| b.contains(RegB::PIE))
            .map(|period| {
                let cycle = (self.rtc_cycles(self.last).div_euclid(period) + 1) * period;
                let guest_ns = (cycle * NS_PER_SEC + RTC_HZ - 1).div_euclid(RTC_HZ);
                self.ticks_at_guest_ns(guest_ns)
            });
        let update = (self.held.is_none() && b.intersects(RegB::UIE | RegB::AIE)).then(|| {
            let next = i128::from(self.running_secs(self.last)) + 1;
            self.ticks_at_guest_ns(next * NS_PER_SEC)
        });
        periodic.into_iter().chain(update).min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::irq::TestLine;

    /// 2024-02-29 13:45:30 UTC, a Thursday.
    const LEAP_DAY: i64 = 1_709_214_330;

    fn new_cmos() -> (Cmos, TestLine) {
        let line = TestLine::new();
        (Cmos::new(LEAP_DAY, line.boxed()), line)
    }

    /// OUT 0x70 index (NMI enabled), IN 0x71.
    fn cmos_read(cmos: &mut Cmos, index: u8, now: Ticks) -> u8 {
        cmos.write(OFFSET_INDEX, index, now);
        cmos.read(OFFSET_DATA, now)
    }

    /// OUT 0x70 index, OUT 0x71 value.
    fn cmos_write(cmos: &mut Cmos, index: u8, value: u8, now: Ticks) {
        cmos.write(OFFSET_INDEX, index, now);
        cmos.write(OFFSET_DATA, value, now);
    }

    fn read_time(cmos: &mut Cmos, now: Ticks) -> [u8; 8] {
        [
            REG_SECONDS,
            REG_MINUTES,
            REG_HOURS,
            REG_DAY_OF_WEEK,
            REG_DAY_OF_MONTH,
            REG_MONTH,
            REG_YEAR,
            REG_CENTURY,
        ]
        .map(|index| cmos_read(cmos, index, now))
    }

    #[test]
    fn time_and_date_in_bcd_24_hour() {
        let (mut cmos, _) = new_cmos();
        assert_eq!(
            read_time(&mut cmos, Ticks(0)),
            [0x30, 0x45, 0x13, 5, 0x29, 0x02, 0x24, 0x20]
        );
        assert_eq!(cmos_read(&mut cmos, REG_B, Ticks(0)), 0x02);
        assert_eq!(cmos_read(&mut cmos, REG_D, Ticks(0)), 0x80);
    }

    #[test]
    fn clock_follows_machine_time_across_midnight_into_march() {
        let (mut cmos, _) = new_cmos();
        let to_midnight = 10 * 3600 + 14 * 60 + 30;
        let now = Ticks::from_secs(to_midnight);
        assert_eq!(
            read_time(&mut cmos, now),
            [0x00, 0x00, 0x00, 6, 0x01, 0x03, 0x24, 0x20]
        );
        assert_eq!(cmos_read(&mut cmos, REG_SECONDS, Ticks(now.0 - 1)), 0x59);
    }

    #[test]
    fn binary_and_12_hour_modes() {
        let (mut cmos, _) = new_cmos();
        cmos_write(&mut cmos, REG_B, 0x06, Ticks(0)); // binary, 24h
        assert_eq!(
            read_time(&mut cmos, Ticks(0)),
            [30, 45, 13, 5, 29, 2, 24, 20]
        );
        cmos_write(&mut cmos, REG_B, 0x00, Ticks(0)); // BCD, 12h
        assert_eq!(cmos_read(&mut cmos, REG_HOURS, Ticks(0)), 0x81, "1 PM");
        let midnight = Ticks::from_secs(10 * 3600 + 14 * 60 + 30);
        assert_eq!(cmos_read(&mut cmos, REG_HOURS, midnight), 0x12, "12 AM");
    }

    #[test]
    fn uip_is_set_for_the_last_244_us_of_each_second() {
        let (mut cmos, _) = new_cmos();
        assert_eq!(cmos_read(&mut cmos, REG_A, Ticks(999_755_999)), 0x26);
        assert_eq!(cmos_read(&mut cmos, REG_A, Ticks(999_756_000)), 0xA6);
        assert_eq!(cmos_read(&mut cmos, REG_A, Ticks(1_000_000_000)), 0x26);
    }

    #[test]
    fn set_bit_holds_the_clock_while_the_guest_writes_the_time() {
        let (mut cmos, _) = new_cmos();
        let t0 = Ticks::from_millis(300);
        cmos_write(&mut cmos, REG_B, 0x82, t0); // SET
        for (index, value) in [(REG_HOURS, 0x08), (REG_MINUTES, 0x00), (REG_SECONDS, 0x00)] {
            cmos_write(&mut cmos, index, value, t0);
        }
        // Linux writes the year first; 1995-02-29 would not exist, but only
        // the finished set of registers is decoded.
        cmos_write(&mut cmos, REG_YEAR, 0x95, t0);
        cmos_write(&mut cmos, REG_CENTURY, 0x19, t0);
        cmos_write(&mut cmos, REG_MONTH, 0x03, t0);
        cmos_write(&mut cmos, REG_DAY_OF_MONTH, 0x31, t0);
        let later = Ticks::from_secs(5);
        assert_eq!(
            read_time(&mut cmos, later),
            [0, 0, 0x08, 5, 0x31, 0x03, 0x95, 0x19]
        );
        cmos_write(&mut cmos, REG_B, 0x02, later); // clear SET: clock runs
        let just_before = later + Ticks(NANOS_PER_SEC - 1);
        assert_eq!(cmos_read(&mut cmos, REG_SECONDS, just_before), 0x00);
        assert_eq!(
            cmos_read(&mut cmos, REG_DAY_OF_WEEK, just_before),
            6,
            "Fri 1995-03-31"
        );
        assert_eq!(
            cmos_read(&mut cmos, REG_SECONDS, later + Ticks::from_secs(1)),
            0x01
        );
    }

    #[test]
    fn time_written_without_set_keeps_the_sub_second_phase() {
        let (mut cmos, _) = new_cmos();
        cmos_write(&mut cmos, REG_MINUTES, 0x00, Ticks::from_millis(400));
        assert_eq!(
            cmos_read(&mut cmos, REG_MINUTES, Ticks::from_millis(999)),
            0x00
        );
        assert_eq!(
            cmos_read(&mut cmos, REG_SECONDS, Ticks::from_millis(1000)),
            0x31
        );
    }

    #[test]
    fn periodic_interrupt_at_1024_hz_and_reg_c_read_clears() {
        let (mut cmos, line) = new_cmos();
        assert_eq!(cmos.next_deadline(), None, "no interrupts enabled");
        cmos_write(&mut cmos, REG_B, 0x42, Ticks(0)); // PIE
                                                      // 32 cycles of 32.768 kHz = 976562.5 ns, rounded up.
        assert_eq!(cmos.next_deadline(), Some(Ticks(976_563)));
        cmos.advance(Ticks(976_562));
        assert!(!line.level());
        cmos.advance(Ticks(976_563));
        assert!(line.level());
        assert_eq!(cmos.next_deadline(), None, "line is already up");
        assert_eq!(cmos_read(&mut cmos, REG_C, Ticks(976_600)), 0xC0);
        assert!(!line.level());
        assert_eq!(cmos_read(&mut cmos, REG_C, Ticks(976_600)), 0x00);
        assert_eq!(cmos.next_deadline(), Some(Ticks(1_953_125)));
    }

    #[test]
    fn flags_set_without_enables_but_no_irq() {
        let (mut cmos, line) = new_cmos();
        cmos.advance(Ticks::from_secs(1));
        assert!(!line.level());
        assert_eq!(
            cmos_read(&mut cmos, REG_C, Ticks::from_secs(1)),
            0x50,
            "PF + UF"
        );
    }

    #[test]
    fn update_ended_interrupt_each_second() {
        let (mut cmos, line) = new_cmos();
        cmos_write(&mut cmos, REG_B, 0x12, Ticks::from_millis(10)); // UIE
        assert_eq!(cmos.next_deadline(), Some(Ticks::from_secs(1)));
        cmos.advance(Ticks::from_secs(1));
        assert!(line.level());
        assert_eq!(
            cmos_read(&mut cmos, REG_C, Ticks::from_secs(1)) & 0x90,
            0x90
        );
    }

    #[test]
    fn alarm_fires_on_match_with_dont_care_hours() {
        let (mut cmos, line) = new_cmos();
        cmos_write(&mut cmos, REG_SECONDS_ALARM, 0x32, Ticks(0));
        cmos_write(&mut cmos, REG_MINUTES_ALARM, 0x45, Ticks(0));
        cmos_write(&mut cmos, REG_HOURS_ALARM, 0xFF, Ticks(0)); // any hour
        cmos_write(&mut cmos, REG_B, 0x22, Ticks(0)); // AIE
        cmos.advance(Ticks::from_secs(1));
        assert!(!line.level(), "13:45:31 does not match");
        cmos.advance(Ticks::from_secs(2));
        assert!(line.level(), "13:45:32 matches");
        assert_eq!(
            cmos_read(&mut cmos, REG_C, Ticks::from_secs(2)) & 0xA0,
            0xA0
        );
    }

    #[test]
    fn divider_reset_holds_time_and_first_update_is_half_a_second_later() {
        let (mut cmos, _) = new_cmos();
        cmos_write(&mut cmos, REG_A, 0x70, Ticks(0)); // divider reset
        assert_eq!(
            cmos_read(&mut cmos, REG_SECONDS, Ticks::from_secs(10)),
            0x30
        );
        cmos_write(&mut cmos, REG_A, 0x26, Ticks::from_secs(10));
        let release = Ticks::from_secs(10);
        assert_eq!(
            cmos_read(&mut cmos, REG_SECONDS, release + Ticks::from_millis(499)),
            0x30
        );
        assert_eq!(
            cmos_read(&mut cmos, REG_SECONDS, release + Ticks::from_millis(500)),
            0x31
        );
    }

    #[test]
    fn nvram_bytes_and_nmi_mask_bit() {
        let (mut cmos, _) = new_cmos();
        cmos.write(OFFSET_INDEX, 0x80 | 0x40, Ticks(0));
        assert!(cmos.nmi_masked());
        cmos.write(OFFSET_DATA, 0x5A, Ticks(0));
        assert_eq!(cmos_read(&mut cmos, 0x40, Ticks(0)), 0x5A);
        assert!(!cmos.nmi_masked());
        assert_eq!(cmos.read(OFFSET_INDEX, Ticks(0)), 0xFF);
        cmos_write(&mut cmos, REG_C, 0xFF, Ticks(0));
        assert_eq!(cmos_read(&mut cmos, REG_C, Ticks(0)), 0x00, "read-only");
    }
}
