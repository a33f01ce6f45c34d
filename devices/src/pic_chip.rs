//! One Intel 8259A programmable interrupt controller: its registers, the
//! initialisation and operation command words, priority resolution and the
//! chip's half of the INTA cycle.
//!
//! Datasheet: Intel 8259A Programmable Interrupt Controller (231468),
//! "Programming the 8259A" (ICW1-4, OCW1-3) and "Interrupt sequence". The
//! pair and its cascade wiring are in [`crate::pic8259`], which documents
//! what is and is not modelled.

use crate::pic8259::CASCADE_IRQ;

/// ICW1: an ICW4 follows.
const ICW1_IC4: u8 = 0x01;
/// ICW1: single chip, no ICW3.
const ICW1_SNGL: u8 = 0x02;
/// ICW1: level-triggered mode for all inputs.
const ICW1_LTIM: u8 = 0x08;
/// Command-port byte with this bit set is ICW1.
const ICW1_INIT: u8 = 0x10;
/// ICW2: bits that hold the vector base (low 3 bits come from the IR number).
const ICW2_VECTOR_MASK: u8 = 0xF8;
/// ICW4: automatic end of interrupt.
const ICW4_AEOI: u8 = 0x02;
/// ICW4: special fully nested mode.
const ICW4_SFNM: u8 = 0x10;
/// Command-port byte with this bit set (and bit 4 clear) is OCW3.
const OCW3_SELECT: u8 = 0x08;
/// OCW3: read ISR instead of IRR (when RR is set).
const OCW3_RIS: u8 = 0x01;
/// OCW3: RIS is valid.
const OCW3_RR: u8 = 0x02;
/// OCW3: poll command; the next command-port read returns the poll word.
const OCW3_POLL: u8 = 0x04;
/// OCW3: special mask mode value (when ESMM is set).
const OCW3_SMM: u8 = 0x20;
/// OCW3: SMM is valid.
const OCW3_ESMM: u8 = 0x40;
/// Poll word: an interrupt was pending (low 3 bits = its IR number).
const POLL_INTERRUPT: u8 = 0x80;

/// OCW2 commands: bits 7-5 (R, SL, EOI) of a command-port write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ocw2 {
    /// 000: clear rotate-in-auto-EOI.
    ClearRotateInAeoi,
    /// 001: clear the highest-priority ISR bit.
    NonSpecificEoi,
    /// 010: no operation.
    Nop,
    /// 011: clear the ISR bit named by L2-L0.
    SpecificEoi,
    /// 100: set rotate-in-auto-EOI.
    SetRotateInAeoi,
    /// 101: non-specific EOI, and the IR served becomes lowest priority.
    RotateOnNonSpecificEoi,
    /// 110: make IR L2-L0 the lowest priority.
    SetPriority,
    /// 111: specific EOI, and IR L2-L0 becomes lowest priority.
    RotateOnSpecificEoi,
}

impl Ocw2 {
    fn decode(value: u8) -> Ocw2 {
        match value >> 5 {
            0b000 => Ocw2::ClearRotateInAeoi,
            0b001 => Ocw2::NonSpecificEoi,
            0b010 => Ocw2::Nop,
            0b011 => Ocw2::SpecificEoi,
            0b100 => Ocw2::SetRotateInAeoi,
            0b101 => Ocw2::RotateOnNonSpecificEoi,
            0b110 => Ocw2::SetPriority,
            _ => Ocw2::RotateOnSpecificEoi,
        }
    }
}

/// Which initialisation word the data port expects next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum InitStep {
    Ready,
    Icw2,
    Icw3,
    Icw4,
}

/// One 8259A.
#[derive(Clone, Debug)]
pub(crate) struct Chip {
    is_primary: bool,
    /// Interrupt request register.
    irr: u8,
    /// In-service register.
    isr: u8,
    /// Interrupt mask register (OCW1).
    imr: u8,
    /// Input levels as last driven, for edge detection.
    pins: u8,
    /// Edge/level control register (1 = level).
    elcr: u8,
    icw1: u8,
    vector_base: u8,
    icw3: u8,
    icw4: u8,
    init: InitStep,
    /// IR with the lowest priority; the one after it has the highest.
    lowest_priority: u8,
    rotate_in_aeoi: bool,
    special_mask: bool,
    read_isr: bool,
    poll: bool,
}

impl Chip {
    pub(crate) fn new(is_primary: bool) -> Chip {
        Chip {
            is_primary,
            irr: 0,
            isr: 0,
            imr: 0,
            pins: 0,
            elcr: 0,
            icw1: 0,
            vector_base: 0,
            icw3: 0,
            icw4: 0,
            init: InitStep::Ready,
            lowest_priority: 7,
            rotate_in_aeoi: false,
            special_mask: false,
            read_isr: false,
            poll: false,
        }
    }

    /// Interrupt mask register.
    pub(crate) fn imr(&self) -> u8 {
        self.imr
    }

    /// Vector base from ICW2 (the IR number fills bits 2-0).
    pub(crate) fn vector_base(&self) -> u8 {
        self.vector_base
    }

    /// Edge/level control register.
    pub(crate) fn elcr(&self) -> u8 {
        self.elcr
    }

    /// Set the ELCR; inputs that became level-triggered request while high.
    pub(crate) fn set_elcr(&mut self, value: u8) {
        self.elcr = value;
        let level = self.level_mask();
        self.irr = (self.irr & !level) | (self.pins & level);
    }

    /// Drive IR2 of the primary from the secondary's INT output.
    pub(crate) fn set_cascade_input(&mut self, int: bool) {
        let bit = 1 << CASCADE_IRQ;
        if int {
            // Why: while the secondary keeps INT asserted the request is
            // re-latched after each INTA, so back-to-back secondary
            // interrupts (auto-EOI, special mask mode) are not lost for want
            // of a fresh edge on IR2.
            self.irr |= bit;
        } else if self.level_mask() & bit != 0 {
            self.irr &= !bit;
        }
        self.pins = if int {
            self.pins | bit
        } else {
            self.pins & !bit
        };
    }

    /// Inputs that are level-triggered (the rest are edge-triggered).
    fn level_mask(&self) -> u8 {
        if self.icw1 & ICW1_LTIM != 0 {
            0xFF
        } else {
            self.elcr
        }
    }

    /// Priority rank of `ir`: 0 is the highest.
    fn rank(&self, ir: u8) -> u8 {
        ir.wrapping_sub(self.lowest_priority).wrapping_sub(1) & 7
    }

    /// The highest-priority IR whose bit is set in `bits`.
    fn highest(&self, bits: u8) -> Option<u8> {
        (1..=8)
            .map(|step| (self.lowest_priority + step) & 7)
            .find(|&ir| bits & (1 << ir) != 0)
    }

    pub(crate) fn set_pin(&mut self, ir: u8, high: bool) {
        let bit = 1 << ir;
        if self.level_mask() & bit != 0 {
            self.irr = if high {
                self.irr | bit
            } else {
                self.irr & !bit
            };
        } else if high && self.pins & bit == 0 {
            // Why: a latched edge request stays in IRR when the input drops
            // again before INTA. The datasheet says the input must stay high
            // until INTA, but the machine samples lines between instruction
            // blocks, so honouring that would turn timer ticks taken with
            // IF=0 into spurious IRQ 7s. QEMU latches the same way.
            self.irr |= bit;
        }
        self.pins = if high {
            self.pins | bit
        } else {
            self.pins & !bit
        };
    }

    /// The IR this chip would deliver now (its INT output), if any.
    pub(crate) fn pending(&self) -> Option<u8> {
        let best = self.highest(self.irr & !self.imr)?;
        let mut blocking = self.isr;
        if self.special_mask {
            // Special mask mode: a masked in-service level does not inhibit
            // lower priority levels.
            blocking &= !self.imr;
        }
        match self.highest(blocking) {
            None => Some(best),
            Some(in_service) if self.rank(best) < self.rank(in_service) => Some(best),
            // SFNM: the primary lets another request from the secondary
            // through while the cascade input is already in service.
            Some(in_service)
                if self.is_primary
                    && self.icw4 & ICW4_SFNM != 0
                    && best == CASCADE_IRQ
                    && in_service == CASCADE_IRQ =>
            {
                Some(best)
            }
            Some(_) => None,
        }
    }

    /// The INTA cycle for `ir`: move it from IRR to ISR (unless auto-EOI).
    pub(crate) fn ack(&mut self, ir: u8) {
        let bit = 1 << ir;
        if self.level_mask() & bit == 0 {
            self.irr &= !bit;
        }
        if self.icw4 & ICW4_AEOI != 0 {
            if self.rotate_in_aeoi {
                self.lowest_priority = ir;
            }
        } else {
            self.isr |= bit;
        }
    }

    pub(crate) fn write_command(&mut self, value: u8) {
        if value & ICW1_INIT != 0 {
            self.icw1_init(value);
        } else if value & OCW3_SELECT != 0 {
            self.ocw3(value);
        } else {
            self.ocw2(value);
        }
    }

    fn icw1_init(&mut self, value: u8) {
        self.icw1 = value;
        self.imr = 0;
        // Why: the datasheet lists what ICW1 resets and ISR is not on the
        // list, but a guest re-initialising the PIC wants a clean slate and a
        // stale ISR bit would block its interrupts forever.
        self.isr = 0;
        // The edge-sense latches are reset: an edge input needs a new rising
        // edge; level inputs keep requesting while high.
        self.irr = self.pins & self.level_mask();
        self.lowest_priority = 7;
        self.rotate_in_aeoi = false;
        self.special_mask = false;
        self.read_isr = false;
        self.poll = false;
        if value & ICW1_IC4 == 0 {
            self.icw4 = 0;
        }
        self.init = InitStep::Icw2;
    }

    pub(crate) fn write_data(&mut self, value: u8) {
        let expects_icw3 = self.icw1 & ICW1_SNGL == 0;
        let expects_icw4 = self.icw1 & ICW1_IC4 != 0;
        let after_icw3 = if expects_icw4 {
            InitStep::Icw4
        } else {
            InitStep::Ready
        };
        match self.init {
            InitStep::Icw2 => {
                self.vector_base = value & ICW2_VECTOR_MASK;
                self.init = if expects_icw3 {
                    InitStep::Icw3
                } else {
                    after_icw3
                };
            }
            InitStep::Icw3 => {
                self.icw3 = value;
                self.init = after_icw3;
            }
            InitStep::Icw4 => {
                self.icw4 = value;
                self.init = InitStep::Ready;
            }
            InitStep::Ready => self.imr = value,
        }
    }

    fn ocw2(&mut self, value: u8) {
        let level = value & 7;
        match Ocw2::decode(value) {
            Ocw2::ClearRotateInAeoi => self.rotate_in_aeoi = false,
            Ocw2::SetRotateInAeoi => self.rotate_in_aeoi = true,
            Ocw2::NonSpecificEoi => {
                if let Some(ir) = self.highest(self.isr) {
                    self.isr &= !(1 << ir);
                }
            }
            Ocw2::RotateOnNonSpecificEoi => {
                if let Some(ir) = self.highest(self.isr) {
                    self.isr &= !(1 << ir);
                    self.lowest_priority = ir;
                }
            }
            Ocw2::SpecificEoi => self.isr &= !(1 << level),
            Ocw2::RotateOnSpecificEoi => {
                self.isr &= !(1 << level);
                self.lowest_priority = level;
            }
            Ocw2::SetPriority => self.lowest_priority = level,
            Ocw2::Nop => {}
        }
    }

    fn ocw3(&mut self, value: u8) {
        if value & OCW3_ESMM != 0 {
            self.special_mask = value & OCW3_SMM != 0;
        }
        if value & OCW3_RR != 0 {
            self.read_isr = value & OCW3_RIS != 0;
        }
        if value & OCW3_POLL != 0 {
            self.poll = true;
        }
    }

    pub(crate) fn read_command(&mut self) -> u8 {
        if self.poll {
            // A poll read is an INTA without the vector.
            self.poll = false;
            match self.pending() {
                Some(ir) => {
                    self.ack(ir);
                    POLL_INTERRUPT | ir
                }
                None => 0,
            }
        } else if self.read_isr {
            self.isr
        } else {
            self.irr
        }
    }
}
