//! btvm-devices: the PC's devices as pure state machines.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod bus;
mod calendar;
pub mod cmos;
pub mod event;
pub mod irq;
pub mod pic8259;
pub mod pit8254;
mod pit_counter;
pub mod port61;
pub mod time;
pub mod uart16550;
