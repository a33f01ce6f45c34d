//! The MC146818A time registers as bytes: BCD or binary data mode, 24-hour
//! or 12-hour clock (bit 7 = PM), and the century byte.
//!
//! Datasheet: Motorola MC146818A, "Time, Calendar and Alarm Data Modes"
//! (table of binary and BCD ranges per register). [`crate::cmos`] keeps a
//! second count and encodes it with [`RtcFormat::encode_all`] on every read;
//! while the clock is held for setting it keeps the raw bytes and decodes
//! them with [`RtcFormat::decode_all`] when the clock restarts. Decoding
//! never fails: out-of-range fields are clamped, impossible dates roll over.

use crate::calendar::{from_bcd, to_bcd, DateTime};

/// Seconds.
pub const REG_SECONDS: u8 = 0x00;
/// Seconds alarm.
pub const REG_SECONDS_ALARM: u8 = 0x01;
/// Minutes.
pub const REG_MINUTES: u8 = 0x02;
/// Minutes alarm.
pub const REG_MINUTES_ALARM: u8 = 0x03;
/// Hours.
pub const REG_HOURS: u8 = 0x04;
/// Hours alarm.
pub const REG_HOURS_ALARM: u8 = 0x05;
/// Day of week, 1 = Sunday.
pub const REG_DAY_OF_WEEK: u8 = 0x06;
/// Day of month.
pub const REG_DAY_OF_MONTH: u8 = 0x07;
/// Month.
pub const REG_MONTH: u8 = 0x08;
/// Year within the century.
pub const REG_YEAR: u8 = 0x09;
/// Century, in the clock's data mode (IBM).
pub const REG_CENTURY: u8 = 0x32;

/// Hours register, 12-hour mode: PM.
const HOUR_PM: u8 = 0x80;
/// Slot of the century byte in [`ClockRaw`] (the others are their index).
const CENTURY_SLOT: usize = 10;

/// Raw values of the time registers 0x00-0x09 (alarm slots unused) and the
/// century byte (slot 10), in one data mode.
pub(crate) type ClockRaw = [u8; 11];

/// The [`ClockRaw`] slot of a time register, `None` for any other index.
pub(crate) fn clock_slot(index: u8) -> Option<usize> {
    match index {
        REG_SECONDS | REG_MINUTES | REG_HOURS | REG_DAY_OF_WEEK | REG_DAY_OF_MONTH | REG_MONTH
        | REG_YEAR => Some(usize::from(index)),
        REG_CENTURY => Some(CENTURY_SLOT),
        _ => None,
    }
}

/// Register B's data mode bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct RtcFormat {
    /// DM = 1: binary; else packed BCD.
    pub binary: bool,
    /// 24/12 = 1: 24-hour clock; else 12-hour with a PM bit.
    pub hours_24: bool,
}

impl RtcFormat {
    fn encode(self, value: u8) -> u8 {
        if self.binary {
            value
        } else {
            to_bcd(value)
        }
    }

    fn decode(self, raw: u8) -> u8 {
        if self.binary {
            raw
        } else {
            from_bcd(raw)
        }
    }

    fn encode_hour(self, hour: u8) -> u8 {
        if self.hours_24 {
            return self.encode(hour);
        }
        let pm = if hour >= 12 { HOUR_PM } else { 0 };
        let h12 = match hour % 12 {
            0 => 12,
            h => h,
        };
        self.encode(h12) | pm
    }

    fn decode_hour(self, raw: u8) -> u8 {
        if self.hours_24 {
            return self.decode(raw).min(23);
        }
        let h12 = self.decode(raw & !HOUR_PM).clamp(1, 12) % 12;
        if raw & HOUR_PM != 0 {
            h12 + 12
        } else {
            h12
        }
    }

    /// The time registers for Unix second `secs`.
    pub(crate) fn encode_all(self, secs: i64) -> ClockRaw {
        let t = DateTime::from_unix(secs);
        let two_digits = |v: i64| u8::try_from(v.rem_euclid(100)).unwrap_or(0);
        let mut raw = [0; 11];
        raw[usize::from(REG_SECONDS)] = self.encode(t.second);
        raw[usize::from(REG_MINUTES)] = self.encode(t.minute);
        raw[usize::from(REG_HOURS)] = self.encode_hour(t.hour);
        raw[usize::from(REG_DAY_OF_WEEK)] = self.encode(t.weekday + 1);
        raw[usize::from(REG_DAY_OF_MONTH)] = self.encode(t.day);
        raw[usize::from(REG_MONTH)] = self.encode(t.month);
        raw[usize::from(REG_YEAR)] = self.encode(two_digits(t.year));
        raw[CENTURY_SLOT] = self.encode(two_digits(t.year.div_euclid(100)));
        raw
    }

    /// The Unix second the time registers `raw` stand for; out-of-range
    /// fields are clamped or roll over, the day of week is ignored.
    pub(crate) fn decode_all(self, raw: &ClockRaw) -> i64 {
        let field = |index: u8| self.decode(raw[usize::from(index)]);
        let century = i64::from(self.decode(raw[CENTURY_SLOT]) % 100);
        DateTime {
            year: century * 100 + i64::from(field(REG_YEAR) % 100),
            month: field(REG_MONTH).clamp(1, 12),
            day: field(REG_DAY_OF_MONTH).clamp(1, 31),
            hour: self.decode_hour(raw[usize::from(REG_HOURS)]),
            minute: field(REG_MINUTES).min(59),
            second: field(REG_SECONDS).min(59),
            weekday: 0,
        }
        .to_unix()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BCD_12H: RtcFormat = RtcFormat {
        binary: false,
        hours_24: false,
    };
    const BINARY_24H: RtcFormat = RtcFormat {
        binary: true,
        hours_24: true,
    };

    #[test]
    fn twelve_hour_clock_around_midnight_and_noon() {
        let encoded: Vec<u8> = [0, 1, 11, 12, 13, 23]
            .iter()
            .map(|&h| BCD_12H.encode_hour(h))
            .collect();
        assert_eq!(encoded, vec![0x12, 0x01, 0x11, 0x92, 0x81, 0x91]);
        for hour in 0..24 {
            assert_eq!(BCD_12H.decode_hour(BCD_12H.encode_hour(hour)), hour);
        }
    }

    #[test]
    fn every_format_round_trips_a_timestamp() {
        let formats = [
            BCD_12H,
            BINARY_24H,
            RtcFormat {
                binary: false,
                hours_24: true,
            },
        ];
        for format in formats {
            for secs in [0, 951_782_400, 1_709_214_330, 4_102_444_799] {
                assert_eq!(
                    format.decode_all(&format.encode_all(secs)),
                    secs,
                    "{format:?}"
                );
            }
        }
    }

    #[test]
    fn garbage_registers_decode_without_panicking() {
        let secs = BINARY_24H.decode_all(&[0xFF; 11]);
        assert_eq!(BINARY_24H.encode_all(secs)[usize::from(REG_SECONDS)], 59);
        assert_eq!(clock_slot(REG_CENTURY), Some(CENTURY_SLOT));
        assert_eq!(clock_slot(0x0A), None);
    }
}
