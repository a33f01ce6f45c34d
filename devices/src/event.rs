//! Requests a chipset device makes of the CPU side of the machine.
//!
//! The A20 gate and the CPU reset line are driven on a PC by the keyboard
//! controller's output port (i8042) and by system control port A (0x92).
//! Devices here do not touch the CPU or the memory map: they return these
//! events and the machine acts on them (mask address bit 20, reset the CPU).
//! The effective A20 state of a PC is the OR of both sources.

/// A side effect on the CPU side that a device asks the machine to perform.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CpuLineEvent {
    /// This source's A20 gate output changed: `true` = address bit 20 passes.
    A20(bool),
    /// Pulse the CPU reset line (a warm reset of the processor).
    Reset,
}
