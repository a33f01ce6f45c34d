//! The Bochs/QEMU debug console port (port 0xE9, "debugcon"): every byte the
//! guest writes goes to an injected sink; a read returns 0xE9 so a guest can
//! detect the port.
//!
//! Reference: the Bochs "port E9 hack" and QEMU's `isa-debugcon` device
//! (read-back value 0xE9). Only byte writes are data; wider accesses are
//! ignored and read as all-ones. Host-side write errors are dropped: the
//! guest has no way to learn of them.

use std::io::Write;

use crate::bus::{AccessSize, PortDevice};

/// What a read of the port returns: "the debug console is here".
pub const DEBUGCON_SIGNATURE: u8 = 0xE9;

/// Port 0xE9.
pub struct DebugConsole<W: Write> {
    sink: W,
}

impl<W: Write> DebugConsole<W> {
    /// A console writing to `sink`.
    pub fn new(sink: W) -> Self {
        DebugConsole { sink }
    }

    /// The sink (for the machine to flush).
    pub fn sink_mut(&mut self) -> &mut W {
        &mut self.sink
    }

    /// The sink.
    pub fn sink(&self) -> &W {
        &self.sink
    }
}

impl<W: Write> PortDevice for DebugConsole<W> {
    /// Byte reads return [`DEBUGCON_SIGNATURE`].
    fn read(&mut self, _offset: u16, size: AccessSize) -> u32 {
        match size {
            AccessSize::Byte => u32::from(DEBUGCON_SIGNATURE),
            _ => size.mask(),
        }
    }

    /// Byte writes go to the sink.
    fn write(&mut self, _offset: u16, size: AccessSize, value: u32) {
        if size == AccessSize::Byte {
            let _ = self.sink.write_all(&[value.to_le_bytes()[0]]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_reach_the_sink_and_reads_return_signature() {
        let mut con = DebugConsole::new(Vec::new());
        for &b in b"hi\n" {
            PortDevice::write(&mut con, 0, AccessSize::Byte, u32::from(b));
        }
        PortDevice::write(&mut con, 0, AccessSize::Word, 0x4141);
        assert_eq!(con.sink(), b"hi\n");
        assert_eq!(PortDevice::read(&mut con, 0, AccessSize::Byte), 0xE9);
        assert_eq!(PortDevice::read(&mut con, 0, AccessSize::Word), 0xFFFF);
    }
}
