//! Virtual time for devices: [`Ticks`] (nanoseconds of machine time), the
//! PIT input clock, exact conversions between the two, and the [`Timed`]
//! trait for devices whose state depends on time.
//!
//! Devices never read a host clock. The machine owns the clock (virtual:
//! derived from retired instructions; or host: wall clock) and hands `now` to
//! every timed call, so the same inputs always give the same device states.
//!
//! Conversions use 128-bit integer arithmetic and always round the same way:
//! a nanosecond instant maps to the number of whole PIT clocks elapsed
//! (floor), and a PIT clock count maps to the first nanosecond at which that
//! many clocks have elapsed (ceiling). So
//! `Ticks::from_pit_ticks(n).to_pit_ticks() == n` for every `n`.

use std::ops::{Add, AddAssign, Sub};

/// Nanoseconds in one second.
pub const NANOS_PER_SEC: u64 = 1_000_000_000;

/// Input clock of the 8254 PIT on a PC: 14.31818 MHz / 12, in Hz.
pub const PIT_HZ: u64 = 1_193_182;

/// An instant (or a duration) of machine time, in nanoseconds.
///
/// Arithmetic saturates instead of wrapping or panicking: a device must never
/// panic because of a time value.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Ticks(pub u64);

impl Ticks {
    /// Machine power-on.
    pub const ZERO: Ticks = Ticks(0);

    /// `ns` nanoseconds.
    pub const fn from_nanos(ns: u64) -> Self {
        Ticks(ns)
    }

    /// `us` microseconds.
    pub const fn from_micros(us: u64) -> Self {
        Ticks(us.saturating_mul(1_000))
    }

    /// `ms` milliseconds.
    pub const fn from_millis(ms: u64) -> Self {
        Ticks(ms.saturating_mul(1_000_000))
    }

    /// `s` seconds.
    pub const fn from_secs(s: u64) -> Self {
        Ticks(s.saturating_mul(NANOS_PER_SEC))
    }

    /// The value in nanoseconds.
    pub const fn as_nanos(self) -> u64 {
        self.0
    }

    /// Whole PIT input clocks elapsed at this instant (rounded down).
    pub fn to_pit_ticks(self) -> u64 {
        scale_floor(self.0, PIT_HZ, NANOS_PER_SEC)
    }

    /// The first instant at which `n` whole PIT input clocks have elapsed
    /// (rounded up), i.e. when a PIT event scheduled for clock `n` happens.
    pub fn from_pit_ticks(n: u64) -> Self {
        Ticks(scale_ceil(n, NANOS_PER_SEC, PIT_HZ))
    }
}

impl Add for Ticks {
    type Output = Ticks;
    fn add(self, rhs: Ticks) -> Ticks {
        Ticks(self.0.saturating_add(rhs.0))
    }
}

impl AddAssign for Ticks {
    fn add_assign(&mut self, rhs: Ticks) {
        *self = *self + rhs;
    }
}

impl Sub for Ticks {
    type Output = Ticks;
    /// Saturates at zero: the time from a later instant back to an earlier
    /// one is treated as "no time".
    fn sub(self, rhs: Ticks) -> Ticks {
        Ticks(self.0.saturating_sub(rhs.0))
    }
}

/// `value * num / den` rounded down, saturating at `u64::MAX`.
pub(crate) fn scale_floor(value: u64, num: u64, den: u64) -> u64 {
    let wide = u128::from(value) * u128::from(num) / u128::from(den);
    u64::try_from(wide).unwrap_or(u64::MAX)
}

/// `value * num / den` rounded up, saturating at `u64::MAX`.
pub(crate) fn scale_ceil(value: u64, num: u64, den: u64) -> u64 {
    let wide = (u128::from(value) * u128::from(num)).div_ceil(u128::from(den));
    u64::try_from(wide).unwrap_or(u64::MAX)
}

/// A device whose behaviour depends on time.
///
/// Contract with the machine's run loop: call `advance(now)` on the device,
/// then feed the IRQ levels to the PIC, then run the CPU no further than
/// `next_deadline()`. A deadline at or before the current time means "advance
/// me again right away, after the PIC has seen my line": devices use that to
/// make a short low pulse on an edge-triggered line visible to the PIC even
/// when the loop stepped over it (the PIT's IRQ 0, the i8042's refill).
pub trait Timed {
    /// Bring the device's state (and its IRQ line) up to `now`.
    fn advance(&mut self, now: Ticks);
    /// The next instant at which the device's IRQ output may change on its
    /// own, or `None` if it will not change until the guest touches it.
    fn next_deadline(&self) -> Option<Ticks>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_pit_clock_is_first_complete_at_839_ns() {
        // 1e9 / 1_193_182 = 838.095... ns per PIT clock.
        assert_eq!(Ticks(838).to_pit_ticks(), 0);
        assert_eq!(Ticks(839).to_pit_ticks(), 1);
        assert_eq!(Ticks::from_pit_ticks(1), Ticks(839));
        assert_eq!(Ticks::from_pit_ticks(0), Ticks(0));
    }

    #[test]
    fn pit_conversion_round_trips_exactly() {
        for n in [1u64, 2, 3, 100, 65_536, 1_193_181, 1_193_182, 1 << 40] {
            let at = Ticks::from_pit_ticks(n);
            assert_eq!(at.to_pit_ticks(), n, "clock {n}");
            assert_eq!(Ticks(at.0 - 1).to_pit_ticks(), n - 1, "clock {n}");
        }
    }

    #[test]
    fn one_second_is_exactly_pit_hz_clocks() {
        assert_eq!(Ticks::from_secs(1).to_pit_ticks(), PIT_HZ);
        assert_eq!(Ticks::from_pit_ticks(PIT_HZ), Ticks::from_secs(1));
    }

    #[test]
    fn arithmetic_saturates_instead_of_panicking() {
        assert_eq!(Ticks(5) - Ticks(7), Ticks::ZERO);
        assert_eq!(Ticks(u64::MAX) + Ticks(1), Ticks(u64::MAX));
        assert_eq!(Ticks::from_secs(u64::MAX), Ticks(u64::MAX));
        assert_eq!(
            Ticks::from_micros(3) + Ticks::from_millis(1),
            Ticks(1_003_000)
        );
    }
}
