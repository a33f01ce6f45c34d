//! A debug-exit port with QEMU `isa-debug-exit` semantics: a guest write of
//! `v` asks the machine to exit with status `(v << 1) | 1`.
//!
//! Reference: QEMU's documented isa-debug-exit device behaviour (the odd
//! status lets a test tell "guest asked to exit" from an emulator crash).
//! Test ROMs use it to end a run with a verdict. Writes of any size are
//! accepted (the value is masked to the access width); reads return
//! all-ones. The machine port number is the machine's business (QEMU's
//! default is 0x501, commonly configured as 0xF4).
//!
//! The device only records the request: [`DebugExit::take_exit`] hands it to
//! the machine's run loop. The host process exit status keeps only the low
//! 8 bits of the value, as any process status does.

use crate::bus::{AccessSize, PortDevice};

/// A debug-exit port.
#[derive(Clone, Copy, Debug, Default)]
pub struct DebugExit {
    requested: Option<i32>,
}

impl DebugExit {
    /// No exit requested.
    pub fn new() -> Self {
        DebugExit::default()
    }

    /// The exit status requested by the last write since the last call.
    pub fn take_exit(&mut self) -> Option<i32> {
        self.requested.take()
    }
}

impl PortDevice for DebugExit {
    /// Reads as all-ones: there is nothing to read.
    fn read(&mut self, _offset: u16, size: AccessSize) -> u32 {
        size.mask()
    }

    /// Any write requests exit status `(value << 1) | 1`.
    fn write(&mut self, _offset: u16, size: AccessSize, value: u32) {
        let value = value & size.mask();
        // Reinterpret the 32-bit pattern, as QEMU's C code does.
        self.requested = Some(i32::from_ne_bytes(((value << 1) | 1).to_ne_bytes()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_requests_odd_exit_status() {
        let mut port = DebugExit::new();
        assert_eq!(port.take_exit(), None);
        PortDevice::write(&mut port, 0, AccessSize::Byte, 0x00);
        assert_eq!(port.take_exit(), Some(1), "status 1 for value 0");
        PortDevice::write(&mut port, 0, AccessSize::Byte, 0x10);
        assert_eq!(port.take_exit(), Some(0x21));
        assert_eq!(port.take_exit(), None, "taken once");
    }

    #[test]
    fn value_is_masked_to_access_width() {
        let mut port = DebugExit::new();
        PortDevice::write(&mut port, 0, AccessSize::Byte, 0x1FF);
        assert_eq!(port.take_exit(), Some(0x1FF));
        PortDevice::write(&mut port, 0, AccessSize::Dword, 0xFFFF_FFFF);
        assert_eq!(port.take_exit(), Some(-1));
        assert_eq!(PortDevice::read(&mut port, 0, AccessSize::Word), 0xFFFF);
    }
}
