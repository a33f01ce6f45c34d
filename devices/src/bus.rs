//! Bus access types and the traits a device implements to sit on the
//! I/O-port bus or the MMIO bus. A device never sees the CPU or RAM.

/// Width of one port or MMIO access.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AccessSize {
    /// 8 bits.
    Byte = 1,
    /// 16 bits.
    Word = 2,
    /// 32 bits.
    Dword = 4,
}

impl AccessSize {
    /// Width in bytes.
    pub fn bytes(self) -> u32 {
        self as u32
    }

    /// The access size for a width in bytes.
    pub fn from_bytes(n: u32) -> Option<Self> {
        match n {
            1 => Some(AccessSize::Byte),
            2 => Some(AccessSize::Word),
            4 => Some(AccessSize::Dword),
            _ => None,
        }
    }
}

/// A device on the I/O-port bus; `offset` is relative to its base port.
pub trait PortDevice {
    /// Read; bits beyond `size` are ignored by the bus.
    fn read(&mut self, offset: u16, size: AccessSize) -> u32;
    /// Write.
    fn write(&mut self, offset: u16, size: AccessSize, value: u32);
}

/// A device on the MMIO bus; `offset` is relative to its base address.
pub trait MmioDevice {
    /// Read; bits beyond `size` are ignored by the bus.
    fn read(&mut self, offset: u32, size: AccessSize) -> u32;
    /// Write.
    fn write(&mut self, offset: u32, size: AccessSize, value: u32);
}
