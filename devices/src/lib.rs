//! btvm-devices: the PC's devices as pure state machines.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod bus;
