//! The machine clock: where device time ([`Ticks`]) comes from.
//!
//! - **Virtual**: time is a pure function of retired guest instructions
//!   (`instructions × ns_per_instruction`) plus the time skipped while the
//!   CPU was halted. The same guest with the same inputs always sees the same
//!   times, so runs are byte-for-byte reproducible (`--clock virtual`).
//! - **Host**: time is wall-clock time since power-on (`--clock host`),
//!   what an interactive user expects: a guest's `sleep 1` takes a second.
//!
//! The TSC is derived from this clock too (one TSC tick per nanosecond: a
//! 1 GHz TSC), so a guest that calibrates its TSC against the PIT gets a
//! consistent answer under either clock.

use std::time::Instant;

use btvm_devices::Ticks;

/// Which clock drives device time.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ClockKind {
    /// Deterministic time from retired instructions, at `mips` million
    /// instructions per virtual second.
    Virtual {
        /// Guest instructions per virtual microsecond (MIPS).
        mips: u32,
    },
    /// Wall-clock time.
    #[default]
    Host,
}

/// Default rate of the virtual clock, in guest MIPS. Close to a late-1990s
/// PC and fast enough that busy-wait delays stay short in wall time.
pub const DEFAULT_VIRTUAL_MIPS: u32 = 100;

/// The machine clock.
#[derive(Debug)]
pub struct Clock {
    kind: ClockKind,
    /// Virtual: nanoseconds added by skipped halts. Host: unused.
    skipped: u64,
    /// Host: power-on instant.
    start: Instant,
}

impl Clock {
    /// A clock of `kind`, at power-on.
    pub fn new(kind: ClockKind) -> Self {
        Clock {
            kind,
            skipped: 0,
            start: Instant::now(),
        }
    }

    /// Which kind of clock this is.
    pub fn kind(&self) -> ClockKind {
        self.kind
    }

    /// Whether time is derived from instructions (deterministic).
    pub fn is_virtual(&self) -> bool {
        matches!(self.kind, ClockKind::Virtual { .. })
    }

    /// The time now, given the number of instructions retired so far.
    #[inline]
    pub fn now(&self, icount: u64) -> Ticks {
        match self.kind {
            ClockKind::Virtual { mips } => {
                Ticks(icount.saturating_mul(1000) / u64::from(mips.max(1)) + self.skipped)
            }
            ClockKind::Host => Ticks(self.start.elapsed().as_nanos() as u64),
        }
    }

    /// How many instructions run before `deadline` is reached, from `now`
    /// (virtual clock; `None` under the host clock, where it can't be known).
    pub fn instructions_until(&self, now: Ticks, deadline: Ticks) -> Option<u64> {
        match self.kind {
            ClockKind::Virtual { mips } => {
                let ns = deadline.0.saturating_sub(now.0);
                // Round up so the deadline has passed when the batch ends.
                Some(ns.saturating_mul(u64::from(mips.max(1))).div_ceil(1000))
            }
            ClockKind::Host => None,
        }
    }

    /// A halted CPU waits for `deadline`: under the virtual clock the time
    /// jumps there at once (nothing runs in between, so nothing can tell).
    /// Under the host clock the caller sleeps instead.
    pub fn skip_to(&mut self, icount: u64, deadline: Ticks) {
        if self.is_virtual() {
            let now = self.now(icount);
            if deadline > now {
                self.skipped += deadline.0 - now.0;
            }
        }
    }

    /// Reset to power-on (a machine reset keeps the clock kind).
    pub fn restart(&mut self) {
        *self = Clock::new(self.kind);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn virtual_time_is_a_function_of_instructions() {
        let c = Clock::new(ClockKind::Virtual { mips: 100 });
        assert_eq!(c.now(0), Ticks(0));
        assert_eq!(c.now(100), Ticks(1000));
        assert_eq!(c.now(1_000_000), Ticks::from_millis(10));
    }

    #[test]
    fn skipping_a_halt_moves_virtual_time_to_the_deadline() {
        let mut c = Clock::new(ClockKind::Virtual { mips: 100 });
        c.skip_to(100, Ticks::from_millis(5));
        assert_eq!(c.now(100), Ticks::from_millis(5));
        // Further instructions count from there.
        assert_eq!(c.now(200), Ticks::from_millis(5) + Ticks(1000));
        // A deadline in the past skips nothing.
        c.skip_to(200, Ticks(0));
        assert_eq!(c.now(200), Ticks::from_millis(5) + Ticks(1000));
    }

    #[test]
    fn instruction_budget_reaches_the_deadline() {
        let c = Clock::new(ClockKind::Virtual { mips: 3 });
        let now = c.now(0);
        let n = c.instructions_until(now, Ticks(1000)).unwrap();
        assert!(c.now(n) >= Ticks(1000));
        assert!(c.now(n - 1) < Ticks(1000));
        assert_eq!(
            Clock::new(ClockKind::Host).instructions_until(now, Ticks(5)),
            None
        );
    }

    #[test]
    fn host_time_moves_forward() {
        let c = Clock::new(ClockKind::Host);
        let a = c.now(0);
        std::thread::sleep(std::time::Duration::from_millis(2));
        assert!(c.now(0) > a);
    }
}
