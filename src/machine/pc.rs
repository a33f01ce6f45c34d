//! THE PC map: which device answers which I/O port, with named constants.
//! This is the only place a port number appears outside tests.

use std::io::Write;

use crate::platform::{ones, AccessSize, Platform};

/// Bochs/QEMU debug console: bytes written appear on the host.
pub const PORT_DEBUG_CONSOLE: u16 = 0xE9;
/// QEMU isa-debug-exit: a write of v exits with status (v << 1) | 1.
pub const PORT_DEBUG_EXIT: u16 = 0xF4;
/// POST diagnostic code port.
pub const PORT_POST: u16 = 0x80;
/// COM1 base port.
pub const PORT_COM1: u16 = 0x3F8;

/// The platform devices.
pub struct Pc {
    console: Box<dyn Write>,
    exit: Option<u32>,
    com1_scratch: u8,
    post: u8,
}

impl Pc {
    /// A PC whose serial and debug-console output goes to `console`.
    pub fn new(console: Box<dyn Write>) -> Self {
        Pc { console, exit: None, com1_scratch: 0, post: 0 }
    }

    /// The pending debug-exit request, if any.
    pub fn take_exit(&mut self) -> Option<u32> {
        self.exit.take()
    }

    /// Flush console output.
    pub fn flush(&mut self) {
        let _ = self.console.flush();
    }

    /// The last POST code written to port 0x80.
    pub fn post_code(&self) -> u8 {
        self.post
    }
}

impl Platform for Pc {
    fn io_read(&mut self, port: u16, size: AccessSize) -> u32 {
        match port {
            // LSR: transmitter empty and holding register empty.
            p if p == PORT_COM1 + 5 => 0x60,
            p if p == PORT_COM1 + 7 => u32::from(self.com1_scratch),
            PORT_DEBUG_CONSOLE => 0xE9,
            PORT_POST => u32::from(self.post),
            _ => ones(size),
        }
    }

    fn io_write(&mut self, port: u16, _size: AccessSize, value: u32) -> bool {
        match port {
            PORT_COM1 | PORT_DEBUG_CONSOLE => {
                let _ = self.console.write_all(&[value as u8]);
                if value as u8 == b'\n' {
                    let _ = self.console.flush();
                }
                false
            }
            p if p == PORT_COM1 + 7 => {
                self.com1_scratch = value as u8;
                false
            }
            PORT_POST => {
                self.post = value as u8;
                false
            }
            PORT_DEBUG_EXIT => {
                self.exit = Some(value & 0xFF);
                true
            }
            _ => false,
        }
    }

    fn mmio_read(&mut self, _addr: u32, size: AccessSize) -> u32 {
        ones(size)
    }

    fn mmio_write(&mut self, _addr: u32, _size: AccessSize, _value: u32) -> bool {
        false
    }
}
