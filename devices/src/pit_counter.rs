//! One counter of the Intel 8254 PIT: programming state and the count/OUT
//! waveform of modes 0-5 as a pure function of time.
//!
//! Datasheet: Intel 82C54 CHMOS Programmable Interval Timer (231244), "Mode
//! Definitions" and "Read-Back Command". All times here are in PIT input
//! clocks (see `Ticks::to_pit_ticks`); [`crate::pit8254`] converts.
//!
//! The counting element (CE) is never stepped. A counter is in one [`Phase`]
//! (held, running since clock `start` with initial count `n`, or suspended by
//! its gate) and possibly has a second phase scheduled for a later clock (the
//! load of a new count on the next CLK, or the reload at the end of the
//! current period in modes 2/3). Count and OUT at clock `t` are computed from
//! those, which makes every read exact and deterministic.
//!
//! Simplifications: a count written in mode 2/3 while counting takes effect
//! at the end of the current full period (the datasheet says half-period in
//! mode 3); the first CLK after a gate change is not modelled separately
//! from the change itself.

/// Counter mode, control word bits M2-M0 (6 and 7 alias 2 and 3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Mode 0: OUT low until terminal count, then high.
    InterruptOnTerminalCount,
    /// Mode 1: gate-triggered one-shot, OUT low for N clocks.
    HardwareOneShot,
    /// Mode 2: OUT low for one clock every N clocks.
    RateGenerator,
    /// Mode 3: OUT high for ceil(N/2) clocks, low for floor(N/2).
    SquareWave,
    /// Mode 4: OUT low for one clock, N clocks after the count is written.
    SoftwareStrobe,
    /// Mode 5: OUT low for one clock, N clocks after a gate trigger.
    HardwareStrobe,
}

impl Mode {
    pub(crate) fn from_bits(bits: u8) -> Mode {
        match bits & 7 {
            0 => Mode::InterruptOnTerminalCount,
            1 => Mode::HardwareOneShot,
            2 | 6 => Mode::RateGenerator,
            3 | 7 => Mode::SquareWave,
            4 => Mode::SoftwareStrobe,
            _ => Mode::HardwareStrobe,
        }
    }

    /// OUT right after the control word is written.
    fn initial_out(self) -> bool {
        self != Mode::InterruptOnTerminalCount
    }
}

/// How the counter's 16 bits are transferred, control word bits RW1-RW0.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AccessMode {
    /// 01: least significant byte only.
    Lsb = 1,
    /// 10: most significant byte only.
    Msb = 2,
    /// 11: least significant byte, then most significant byte.
    LsbMsb = 3,
}

/// Status byte (read-back): OUT pin state.
const STATUS_OUT: u8 = 0x80;
/// Status byte: null count (CR written but not yet loaded into CE).
const STATUS_NULL_COUNT: u8 = 0x40;

/// What the counting element is doing from some clock on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Not counting: OUT and CE (binary value) are constant.
    Held { out: bool, ce: u64 },
    /// CE was loaded with `n` at clock `start` and counts per the mode.
    Running { start: u64, n: u64 },
    /// Mode 0/4 with gate low: stopped `elapsed` clocks after loading `n`.
    Suspended { n: u64, elapsed: u64 },
}

/// One 8254 counter.
#[derive(Clone, Debug)]
pub(crate) struct Counter {
    mode: Mode,
    /// Mode bits as written (status reports them verbatim).
    mode_bits: u8,
    bcd: bool,
    access: AccessMode,
    /// Count register as written.
    cr: u16,
    cr_written: bool,
    /// LsbMsb write: the LSB already written, waiting for the MSB.
    cr_low: Option<u8>,
    /// LsbMsb read: the next byte read is the MSB.
    read_msb_next: bool,
    latched_count: Option<u16>,
    latched_status: Option<u8>,
    null_count: bool,
    gate: bool,
    phase: Phase,
    next: Option<(u64, Phase)>,
}

impl Counter {
    /// An unprogrammed counter with the given gate level.
    pub(crate) fn new(gate: bool) -> Counter {
        Counter {
            mode: Mode::InterruptOnTerminalCount,
            mode_bits: 0,
            bcd: false,
            access: AccessMode::LsbMsb,
            cr: 0,
            cr_written: false,
            cr_low: None,
            read_msb_next: false,
            latched_count: None,
            latched_status: None,
            null_count: false,
            gate,
            phase: Phase::Held { out: false, ce: 0 },
            next: None,
        }
    }

    pub(crate) fn gate(&self) -> bool {
        self.gate
    }

    /// Counts wrap modulo this: 2^16 binary, 10^4 BCD.
    fn modulus(&self) -> u64 {
        if self.bcd {
            10_000
        } else {
            65_536
        }
    }

    /// The initial count N the count register stands for (0 means the
    /// maximum, 65536 or 10000).
    fn initial_count(&self) -> u64 {
        let n = if self.bcd {
            bcd_to_binary(self.cr)
        } else {
            u64::from(self.cr)
        };
        if n == 0 {
            self.modulus()
        } else {
            n
        }
    }

    fn phase_at(&self, t: u64) -> Phase {
        match self.next {
            Some((at, next)) if t >= at => next,
            _ => self.phase,
        }
    }

    /// Apply a scheduled phase whose clock has come.
    fn normalize(&mut self, t: u64) {
        if let Some((at, next)) = self.next {
            if t >= at {
                self.phase = next;
                self.next = None;
                self.null_count = false;
            }
        }
    }

    fn mode_out(&self, e: u64, n: u64) -> bool {
        match self.mode {
            Mode::InterruptOnTerminalCount | Mode::HardwareOneShot => e >= n,
            Mode::RateGenerator => e % n != n - 1,
            Mode::SquareWave => e % n < n.div_ceil(2),
            Mode::SoftwareStrobe | Mode::HardwareStrobe => e != n,
        }
    }

    /// Binary CE value `e` clocks after loading `n`.
    fn mode_ce(&self, e: u64, n: u64) -> u64 {
        let m = self.modulus();
        match self.mode {
            Mode::RateGenerator => (n - e % n) % m,
            Mode::SquareWave => {
                // CE counts down by two from N (N-1 if odd) in each half.
                let k = e % n;
                let high = n.div_ceil(2);
                let into_half = if k < high { k } else { k - high };
                (n & !1).saturating_sub(2 * into_half) % m
            }
            _ => (n + m - e % m) % m,
        }
    }

    fn phase_out(&self, phase: Phase, t: u64) -> bool {
        match phase {
            Phase::Held { out, .. } => out,
            Phase::Running { start, n } => self.mode_out(t.saturating_sub(start), n),
            Phase::Suspended { n, elapsed } => self.mode_out(elapsed, n),
        }
    }

    fn phase_ce(&self, phase: Phase, t: u64) -> u64 {
        match phase {
            Phase::Held { ce, .. } => ce,
            Phase::Running { start, n } => self.mode_ce(t.saturating_sub(start), n),
            Phase::Suspended { n, elapsed } => self.mode_ce(elapsed, n),
        }
    }

    /// The OUT pin at clock `t`.
    pub(crate) fn out_at(&self, t: u64) -> bool {
        self.phase_out(self.phase_at(t), t)
    }

    /// CE at clock `t` as the guest reads it (BCD-encoded in BCD mode).
    fn count_at(&self, t: u64) -> u16 {
        let value = self.phase_ce(self.phase_at(t), t);
        if self.bcd {
            binary_to_bcd(value)
        } else {
            // The modulus keeps the value below 2^16.
            u16::try_from(value).unwrap_or(0)
        }
    }

    /// First clock after `t` at which OUT of `phase` differs from OUT at `t`.
    fn phase_change_after(&self, phase: Phase, t: u64) -> Option<u64> {
        let Phase::Running { start, n } = phase else {
            return None;
        };
        let e = t.checked_sub(start)?;
        match self.mode {
            Mode::InterruptOnTerminalCount | Mode::HardwareOneShot => (e < n).then(|| start + n),
            Mode::SoftwareStrobe | Mode::HardwareStrobe => match e.cmp(&n) {
                std::cmp::Ordering::Less => Some(start + n),
                std::cmp::Ordering::Equal => Some(t + 1),
                std::cmp::Ordering::Greater => None,
            },
            Mode::RateGenerator if n <= 1 => None,
            Mode::RateGenerator => {
                let k = e % n;
                Some(if k < n - 1 { t + (n - 1 - k) } else { t + 1 })
            }
            Mode::SquareWave if n <= 1 => None,
            Mode::SquareWave => {
                let k = e % n;
                let high = n.div_ceil(2);
                Some(if k < high {
                    t + (high - k)
                } else {
                    t + (n - k)
                })
            }
        }
    }

    /// First clock after `t` at which OUT differs from OUT at `t`.
    pub(crate) fn next_change_after(&self, t: u64) -> Option<u64> {
        let current = self.phase_at(t);
        let change = self.phase_change_after(current, t);
        match self.next {
            Some((at, next)) if at > t => match change {
                Some(c) if c < at => Some(c),
                _ if self.phase_out(next, at) != self.out_at(t) => Some(at),
                _ => self.phase_change_after(next, at),
            },
            _ => change,
        }
    }

    /// Whether OUT goes from low to high at some clock in `(a, b]`.
    pub(crate) fn rises_between(&self, a: u64, b: u64) -> bool {
        let mut t = a;
        let mut level = self.out_at(a);
        for _ in 0..2 {
            match self.next_change_after(t) {
                Some(c) if c <= b => {
                    level = !level;
                    if level {
                        return true;
                    }
                    t = c;
                }
                _ => return false,
            }
        }
        false
    }

    /// A control word selecting mode and access for this counter.
    pub(crate) fn program(&mut self, mode_bits: u8, access: AccessMode, bcd: bool, t: u64) {
        self.normalize(t);
        let ce = self.phase_ce(self.phase, t);
        self.mode = Mode::from_bits(mode_bits);
        self.mode_bits = mode_bits & 7;
        self.access = access;
        self.bcd = bcd;
        self.phase = Phase::Held {
            out: self.mode.initial_out(),
            ce: ce % self.modulus(),
        };
        self.next = None;
        self.cr_written = false;
        self.cr_low = None;
        self.read_msb_next = false;
        self.latched_count = None;
        self.latched_status = None;
        self.null_count = true;
    }

    /// A guest write to the counter's port.
    pub(crate) fn write(&mut self, value: u8, t: u64) {
        self.normalize(t);
        match self.access {
            AccessMode::Lsb => self.commit(u16::from(value), t),
            AccessMode::Msb => self.commit(u16::from(value) << 8, t),
            AccessMode::LsbMsb => match self.cr_low.take() {
                Some(low) => self.commit(u16::from(low) | u16::from(value) << 8, t),
                None => {
                    self.cr_low = Some(value);
                    if self.mode == Mode::InterruptOnTerminalCount {
                        // Writing the first byte stops counting, OUT goes low.
                        let ce = self.phase_ce(self.phase, t);
                        self.phase = Phase::Held { out: false, ce };
                        self.next = None;
                    }
                }
            },
        }
    }

    /// A complete new count in CR: load it into CE as the mode says.
    fn commit(&mut self, cr: u16, t: u64) {
        self.cr = cr;
        self.cr_written = true;
        self.null_count = true;
        let n = self.initial_count();
        match self.mode {
            Mode::InterruptOnTerminalCount | Mode::SoftwareStrobe => {
                let out = self.mode == Mode::SoftwareStrobe;
                if self.gate {
                    let ce = self.phase_ce(self.phase, t);
                    self.phase = Phase::Held { out, ce };
                    self.next = Some((t + 1, Phase::Running { start: t + 1, n }));
                } else {
                    self.phase = Phase::Suspended { n, elapsed: 0 };
                    self.next = None;
                    self.null_count = false;
                }
            }
            // Loaded by the next gate trigger.
            Mode::HardwareOneShot | Mode::HardwareStrobe => {}
            Mode::RateGenerator | Mode::SquareWave => {
                if let Some((at, Phase::Running { .. })) = self.next {
                    self.next = Some((at, Phase::Running { start: at, n }));
                } else if let Phase::Running { start, n: old } = self.phase {
                    let end = t + (old - t.saturating_sub(start) % old);
                    self.next = Some((end, Phase::Running { start: end, n }));
                } else if self.gate {
                    self.next = Some((t + 1, Phase::Running { start: t + 1, n }));
                }
            }
        }
    }

    /// The gate input changed to `high` at clock `t`.
    pub(crate) fn set_gate(&mut self, high: bool, t: u64) {
        self.normalize(t);
        if high == self.gate {
            return;
        }
        self.gate = high;
        match self.mode {
            Mode::InterruptOnTerminalCount | Mode::SoftwareStrobe => {
                match (high, self.phase_at(t), self.next) {
                    (false, Phase::Running { start, n }, _) => {
                        self.phase = Phase::Suspended {
                            n,
                            elapsed: t.saturating_sub(start),
                        };
                    }
                    (false, _, Some((_, Phase::Running { n, .. }))) => {
                        self.phase = Phase::Suspended { n, elapsed: 0 };
                        self.null_count = false;
                    }
                    (true, Phase::Suspended { n, elapsed }, _) => {
                        self.phase = Phase::Running {
                            start: t.saturating_sub(elapsed),
                            n,
                        };
                    }
                    _ => return,
                }
                self.next = None;
            }
            Mode::HardwareOneShot | Mode::HardwareStrobe => {
                if high && self.cr_written {
                    let n = self.initial_count();
                    self.next = Some((t + 1, Phase::Running { start: t + 1, n }));
                }
            }
            Mode::RateGenerator | Mode::SquareWave => {
                if !high {
                    let ce = self.phase_ce(self.phase, t);
                    self.phase = Phase::Held { out: true, ce };
                    self.next = None;
                } else if self.cr_written {
                    let n = self.initial_count();
                    self.next = Some((t + 1, Phase::Running { start: t + 1, n }));
                }
            }
        }
    }

    /// Counter latch command: freeze the current count for reading (a
    /// second latch before the first is read is ignored).
    pub(crate) fn latch_count(&mut self, t: u64) {
        if self.latched_count.is_none() {
            self.latched_count = Some(self.count_at(t));
        }
    }

    /// Read-back status latch: OUT, null count, RW, mode, BCD.
    pub(crate) fn latch_status(&mut self, t: u64) {
        self.normalize(t);
        if self.latched_status.is_none() {
            let mut status = (self.access as u8) << 4 | self.mode_bits << 1 | u8::from(self.bcd);
            if self.out_at(t) {
                status |= STATUS_OUT;
            }
            if self.null_count {
                status |= STATUS_NULL_COUNT;
            }
            self.latched_status = Some(status);
        }
    }

    /// A guest read of the counter's port: latched status first, then the
    /// latched count, else the live count, a byte at a time per access mode.
    pub(crate) fn read(&mut self, t: u64) -> u8 {
        if let Some(status) = self.latched_status.take() {
            return status;
        }
        let value = self.latched_count.unwrap_or_else(|| self.count_at(t));
        let [low, high] = value.to_le_bytes();
        match self.access {
            AccessMode::Lsb => {
                self.latched_count = None;
                low
            }
            AccessMode::Msb => {
                self.latched_count = None;
                high
            }
            AccessMode::LsbMsb if !self.read_msb_next => {
                self.read_msb_next = true;
                low
            }
            AccessMode::LsbMsb => {
                self.read_msb_next = false;
                self.latched_count = None;
                high
            }
        }
    }
}

/// A BCD count register value in binary (nibbles above 9 are taken at face
/// value; guests that write them get a deterministic, if odd, count).
fn bcd_to_binary(bcd: u16) -> u64 {
    (0..4).rev().fold(0, |acc, digit| {
        acc * 10 + u64::from((bcd >> (digit * 4)) & 0xF)
    })
}

/// A binary value below 10000 as four BCD digits.
fn binary_to_bcd(value: u64) -> u16 {
    let mut rest = value % 10_000;
    let mut bcd = 0u16;
    for digit in 0..4 {
        bcd |= u16::try_from(rest % 10).unwrap_or(0) << (digit * 4);
        rest /= 10;
    }
    bcd
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bcd_conversions() {
        assert_eq!(bcd_to_binary(0x9999), 9999);
        assert_eq!(bcd_to_binary(0x0100), 100);
        assert_eq!(binary_to_bcd(1234), 0x1234);
        assert_eq!(binary_to_bcd(10_000), 0x0000);
    }

    #[test]
    fn square_wave_counts_down_by_two_per_half() {
        let mut c = Counter::new(true);
        c.program(3, AccessMode::Lsb, false, 0);
        c.write(5, 0); // odd N: high 3 clocks, low 2
        let outs: Vec<bool> = (1..=11).map(|t| c.out_at(t)).collect();
        let pattern = [true, true, true, false, false];
        let expected: Vec<bool> = pattern.iter().cycle().take(11).copied().collect();
        assert_eq!(outs, expected);
        let counts: Vec<u16> = (1..=5).map(|t| c.count_at(t)).collect();
        assert_eq!(counts, vec![4, 2, 0, 4, 2]);
    }

    #[test]
    fn rate_generator_reload_waits_for_period_end() {
        let mut c = Counter::new(true);
        c.program(2, AccessMode::Lsb, false, 0);
        c.write(10, 0); // periods start at clocks 1, 11, 21, ...
        c.write(4, 15); // new count mid-period
        assert_eq!(c.count_at(20), 1);
        assert_eq!(c.count_at(21), 4);
        assert!(!c.out_at(24));
        assert_eq!(c.next_change_after(21), Some(24));
    }

    #[test]
    fn illegal_counts_never_divide_by_zero() {
        for mode in 0..6 {
            let mut c = Counter::new(true);
            c.program(mode, AccessMode::Lsb, false, 0);
            c.write(1, 0);
            for t in 0..5 {
                let _ = (c.out_at(t), c.count_at(t), c.next_change_after(t));
            }
        }
    }
}
