//! Proleptic Gregorian calendar arithmetic for the RTC: Unix seconds to a
//! civil date and time and back, day of week, and packed BCD.
//!
//! The day counts use the standard "era" method: shift the year to start in
//! March (so the leap day is the last day of the year), split years into
//! 400-year eras of 146097 days, and count days within the era with the
//! month lengths 31,30,31,30,31,31,30,31,30,31,31,28/29 expressed as
//! `(153 * month + 2) / 5`. Everything is integer math, valid for any year an
//! `i64` day count can hold; no time zones, no leap seconds.

/// Seconds in one day.
pub(crate) const SECS_PER_DAY: i64 = 86_400;
/// Days in a 400-year Gregorian era.
const DAYS_PER_ERA: i64 = 146_097;
/// Days from 0000-03-01 to 1970-01-01.
const EPOCH_SHIFT_DAYS: i64 = 719_468;

/// A civil date and time (UTC).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct DateTime {
    pub year: i64,
    /// 1-12.
    pub month: u8,
    /// 1-31.
    pub day: u8,
    /// 0-23.
    pub hour: u8,
    /// 0-59.
    pub minute: u8,
    /// 0-59.
    pub second: u8,
    /// 0 = Sunday .. 6 = Saturday.
    pub weekday: u8,
}

/// Days since 1970-01-01 of a civil date. Out-of-range days roll over into
/// the next month (day 31 of February is 2 or 3 March), which is what a
/// guest writing an impossible date gets.
pub(crate) fn days_from_civil(year: i64, month: u8, day: u8) -> i64 {
    let month = i64::from(month.clamp(1, 12));
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_from_march = (month + 9) % 12;
    let day_of_year = (153 * month_from_march + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * DAYS_PER_ERA + day_of_era - EPOCH_SHIFT_DAYS
}

/// The civil date (year, month, day) of a day count since 1970-01-01.
pub(crate) fn civil_from_days(days: i64) -> (i64, u8, u8) {
    let days = days + EPOCH_SHIFT_DAYS;
    let era = days.div_euclid(DAYS_PER_ERA);
    let day_of_era = days - era * DAYS_PER_ERA;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, small(month), small(day))
}

/// A value known to be in 0..=255 by construction.
fn small(value: i64) -> u8 {
    u8::try_from(value).unwrap_or(0)
}

impl DateTime {
    /// The civil time of a Unix timestamp.
    pub(crate) fn from_unix(secs: i64) -> DateTime {
        let days = secs.div_euclid(SECS_PER_DAY);
        let in_day = secs.rem_euclid(SECS_PER_DAY);
        let (year, month, day) = civil_from_days(days);
        DateTime {
            year,
            month,
            day,
            hour: small(in_day / 3600),
            minute: small(in_day / 60 % 60),
            second: small(in_day % 60),
            // 1970-01-01 was a Thursday.
            weekday: small((days + 4).rem_euclid(7)),
        }
    }

    /// The Unix timestamp of this civil time (weekday is ignored; fields out
    /// of range roll over).
    pub(crate) fn to_unix(self) -> i64 {
        days_from_civil(self.year, self.month, self.day) * SECS_PER_DAY
            + i64::from(self.hour) * 3600
            + i64::from(self.minute) * 60
            + i64::from(self.second)
    }
}

/// Packed BCD of a value 0-99.
pub(crate) fn to_bcd(value: u8) -> u8 {
    ((value / 10 % 10) << 4) | (value % 10)
}

/// Binary value of packed BCD (nibbles above 9 taken at face value).
pub(crate) fn from_bcd(bcd: u8) -> u8 {
    (bcd >> 4) * 10 + (bcd & 0x0F)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_dates() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(civil_from_days(11_017), (2000, 3, 1));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
        let leap_day = DateTime::from_unix(1_709_214_330);
        assert_eq!(
            leap_day,
            DateTime {
                year: 2024,
                month: 2,
                day: 29,
                hour: 13,
                minute: 45,
                second: 30,
                weekday: 4
            }
        );
        assert_eq!(leap_day.to_unix(), 1_709_214_330);
    }

    #[test]
    fn century_leap_rules() {
        assert_eq!(civil_from_days(days_from_civil(1900, 2, 29)), (1900, 3, 1));
        assert_eq!(civil_from_days(days_from_civil(2000, 2, 29)), (2000, 2, 29));
        assert_eq!(civil_from_days(days_from_civil(2100, 2, 29)), (2100, 3, 1));
    }

    fn month_length(year: i64, month: u8) -> u8 {
        let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
        match month {
            2 if leap => 29,
            2 => 28,
            4 | 6 | 9 | 11 => 30,
            _ => 31,
        }
    }

    #[test]
    fn every_day_of_four_centuries_matches_a_day_by_day_count() {
        let start = days_from_civil(1900, 1, 1);
        let (mut year, mut month, mut day) = (1900, 1, 1);
        for days in start..start + DAYS_PER_ERA {
            assert_eq!(civil_from_days(days), (year, month, day));
            assert_eq!(days_from_civil(year, month, day), days);
            day += 1;
            if day > month_length(year, month) {
                day = 1;
                month += 1;
                if month > 12 {
                    month = 1;
                    year += 1;
                }
            }
        }
        assert_eq!((year, month, day), (2300, 1, 1));
    }

    #[test]
    fn bcd_round_trip() {
        for value in 0..100 {
            assert_eq!(from_bcd(to_bcd(value)), value);
        }
        assert_eq!(to_bcd(59), 0x59);
        assert_eq!(from_bcd(0x99), 99);
    }
}
