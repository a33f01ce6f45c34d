//! What the CPU sees of the rest of the machine: the I/O-port bus and the
//! MMIO bus. The machine implements this over its devices; tests and the
//! conformance runner use [`NullPlatform`].

pub use btvm_devices::bus::AccessSize;

/// The buses an instruction can reach besides RAM.
pub trait Platform {
    /// IN from a port.
    fn io_read(&mut self, port: u16, size: AccessSize) -> u32;
    /// OUT to a port. Returns `true` when the machine must look at its
    /// state before the next instruction (an exit was requested, a device
    /// changed the A20 gate, ...).
    fn io_write(&mut self, port: u16, size: AccessSize, value: u32) -> bool;
    /// Read from device memory (the VGA window).
    fn mmio_read(&mut self, addr: u32, size: AccessSize) -> u32;
    /// Write to device memory. Same return convention as `io_write`.
    fn mmio_write(&mut self, addr: u32, size: AccessSize, value: u32) -> bool;
    /// Called before every port access with the number of instructions
    /// retired so far, so timed devices see the exact current time.
    fn sync(&mut self, _icount: u64) {}
    /// The machine time in nanoseconds after `icount` retired instructions:
    /// the time-stamp counter's source (a 1 GHz TSC). Without a machine
    /// clock, one instruction is one nanosecond.
    fn time_ns(&mut self, icount: u64) -> u64 {
        icount
    }
}

/// No devices at all: every port and MMIO read returns all-ones, writes are
/// ignored (the SingleStepTests setup).
#[derive(Debug, Default)]
pub struct NullPlatform;

impl Platform for NullPlatform {
    fn io_read(&mut self, _port: u16, size: AccessSize) -> u32 {
        ones(size)
    }
    fn io_write(&mut self, _port: u16, _size: AccessSize, _value: u32) -> bool {
        false
    }
    fn mmio_read(&mut self, _addr: u32, size: AccessSize) -> u32 {
        ones(size)
    }
    fn mmio_write(&mut self, _addr: u32, _size: AccessSize, _value: u32) -> bool {
        false
    }
}

/// All-ones of an access width (what a floating ISA bus reads).
pub fn ones(size: AccessSize) -> u32 {
    match size {
        AccessSize::Byte => 0xFF,
        AccessSize::Word => 0xFFFF,
        AccessSize::Dword => 0xFFFF_FFFF,
    }
}
