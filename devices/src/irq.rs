//! Interrupt request lines as devices drive them.
//!
//! A device owns a `Box<dyn IrqLine>` and calls `set_level(bool)`; it never
//! knows what is on the other end. On the PC the other end is an [`IrqPin`]:
//! one bit of a shared 16-bit level mask ([`IrqLevels`]) for ISA IRQ 0-15,
//! which the machine hands to the PIC (`Pic8259Pair::set_irq_levels`) before
//! it looks for an interrupt. The PIC does edge detection itself, so lines
//! here carry levels only. [`TestLine`] records level changes for tests, and
//! [`NoIrq`] is a line wired to nothing.
//!
//! A machine is single-threaded, so sharing is `Rc<Cell<_>>`, not a lock.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

/// Number of ISA interrupt request lines on a PC/AT (two cascaded 8259As).
pub const ISA_IRQ_COUNT: u8 = 16;

/// One interrupt request line as a device drives it (level semantics).
pub trait IrqLine {
    /// Drive the line high (`true`, request asserted) or low.
    fn set_level(&mut self, high: bool);
}

impl<T: IrqLine + ?Sized> IrqLine for Box<T> {
    fn set_level(&mut self, high: bool) {
        (**self).set_level(high);
    }
}

/// An ISA IRQ input: bit `irq` of a level mask shared with the machine.
#[derive(Clone, Debug)]
pub struct IrqPin {
    mask: Rc<Cell<u16>>,
    irq: u8,
}

impl IrqPin {
    /// The pin for `irq` (0-15) in `mask`.
    ///
    /// # Panics
    /// If `irq` is not an ISA IRQ number: that is a wiring bug in the machine,
    /// never something a guest can cause.
    pub fn new(mask: Rc<Cell<u16>>, irq: u8) -> Self {
        assert!(irq < ISA_IRQ_COUNT, "ISA IRQ {irq} out of range 0-15");
        IrqPin { mask, irq }
    }

    /// The IRQ number this pin drives.
    pub fn irq(&self) -> u8 {
        self.irq
    }

    /// Current level of the pin.
    pub fn level(&self) -> bool {
        self.mask.get() & (1 << self.irq) != 0
    }
}

impl IrqLine for IrqPin {
    fn set_level(&mut self, high: bool) {
        let bit = 1u16 << self.irq;
        let old = self.mask.get();
        self.mask.set(if high { old | bit } else { old & !bit });
    }
}

/// The shared level mask of ISA IRQ 0-15 (bit n = IRQ n asserted).
#[derive(Clone, Debug, Default)]
pub struct IrqLevels(Rc<Cell<u16>>);

impl IrqLevels {
    /// All lines low.
    pub fn new() -> Self {
        IrqLevels::default()
    }

    /// A pin driving bit `irq` of this mask (see [`IrqPin::new`]).
    pub fn pin(&self, irq: u8) -> IrqPin {
        IrqPin::new(Rc::clone(&self.0), irq)
    }

    /// The current levels, bit n = IRQ n.
    pub fn get(&self) -> u16 {
        self.0.get()
    }
}

/// A line wired to nothing: for device outputs a machine leaves unconnected.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoIrq;

impl IrqLine for NoIrq {
    fn set_level(&mut self, _high: bool) {}
}

/// A line for tests: remembers its level and every change of level.
///
/// Clones share the record, so a test keeps one clone and gives another
/// (boxed) to the device under test.
#[derive(Clone, Debug, Default)]
pub struct TestLine(Rc<RefCell<TestLineRecord>>);

#[derive(Debug, Default)]
struct TestLineRecord {
    level: bool,
    changes: Vec<bool>,
}

impl TestLine {
    /// A line that starts low with no recorded changes.
    pub fn new() -> Self {
        TestLine::default()
    }

    /// Current level.
    pub fn level(&self) -> bool {
        self.0.borrow().level
    }

    /// The new level after each change, oldest first (repeated calls with
    /// an unchanged level are not changes).
    pub fn changes(&self) -> Vec<bool> {
        self.0.borrow().changes.clone()
    }

    /// Number of low-to-high transitions seen.
    pub fn rising_edges(&self) -> usize {
        self.0.borrow().changes.iter().filter(|&&high| high).count()
    }

    /// Forget the recorded changes (the level is kept).
    pub fn clear_changes(&self) {
        self.0.borrow_mut().changes.clear();
    }

    /// A boxed clone, ready to hand to a device constructor.
    pub fn boxed(&self) -> Box<dyn IrqLine> {
        Box::new(self.clone())
    }
}

impl IrqLine for TestLine {
    fn set_level(&mut self, high: bool) {
        let mut record = self.0.borrow_mut();
        if record.level != high {
            record.level = high;
            record.changes.push(high);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pins_share_one_mask() {
        let levels = IrqLevels::new();
        let mut irq0 = levels.pin(0);
        let mut irq12 = levels.pin(12);
        irq0.set_level(true);
        irq12.set_level(true);
        assert_eq!(levels.get(), 0x1001);
        irq0.set_level(false);
        assert_eq!(levels.get(), 0x1000);
        assert!(irq12.level());
        assert!(!irq0.level());
        assert_eq!(irq12.irq(), 12);
    }

    #[test]
    #[should_panic(expected = "out of range")]
    fn pin_beyond_irq15_is_a_wiring_bug() {
        let _ = IrqLevels::new().pin(16);
    }

    #[test]
    fn test_line_records_changes_not_repeats() {
        let line = TestLine::new();
        let mut boxed = line.boxed();
        boxed.set_level(true);
        boxed.set_level(true);
        boxed.set_level(false);
        boxed.set_level(true);
        assert_eq!(line.changes(), vec![true, false, true]);
        assert_eq!(line.rising_edges(), 2);
        assert!(line.level());
        line.clear_changes();
        assert!(line.changes().is_empty());
    }
}
