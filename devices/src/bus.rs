//! Bus access types and the traits a device implements to sit on the
//! I/O-port bus or the MMIO bus.
//!
//! A device never sees the CPU or RAM: the machine decodes an access to a
//! device and an offset inside the range that device was registered for, and
//! calls `read`/`write`. Devices that need the time on every access (PIT,
//! CMOS) do not implement these traits; they expose typed methods that take
//! `now` and the machine calls those instead.
//!
//! Not modelled here: the range maps themselves (they live with the PC map in
//! the machine), and ISA bus splitting of wide accesses to 8-bit devices
//! (each device says what it does with a non-byte access).

/// Width of one port or MMIO access.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
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

    /// The access size for a width in bytes, `None` for any other width.
    pub fn from_bytes(n: u32) -> Option<Self> {
        match n {
            1 => Some(AccessSize::Byte),
            2 => Some(AccessSize::Word),
            4 => Some(AccessSize::Dword),
            _ => None,
        }
    }

    /// All-ones value of this width: what an empty bus (or an access a
    /// device does not decode) reads as.
    pub fn mask(self) -> u32 {
        match self {
            AccessSize::Byte => 0xFF,
            AccessSize::Word => 0xFFFF,
            AccessSize::Dword => 0xFFFF_FFFF,
        }
    }
}

/// A device on the I/O-port bus; `offset` is relative to its base port.
pub trait PortDevice {
    /// Read; bits beyond `size` are ignored by the bus.
    fn read(&mut self, offset: u16, size: AccessSize) -> u32;
    /// Write; bits of `value` beyond `size` are to be ignored by the device.
    fn write(&mut self, offset: u16, size: AccessSize, value: u32);
}

/// A device on the MMIO bus; `offset` is relative to its base address.
pub trait MmioDevice {
    /// Read; bits beyond `size` are ignored by the bus.
    fn read(&mut self, offset: u32, size: AccessSize) -> u32;
    /// Write; bits of `value` beyond `size` are to be ignored by the device.
    fn write(&mut self, offset: u32, size: AccessSize, value: u32);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_size_round_trips_through_byte_count() {
        for size in [AccessSize::Byte, AccessSize::Word, AccessSize::Dword] {
            assert_eq!(AccessSize::from_bytes(size.bytes()), Some(size));
        }
        assert_eq!(AccessSize::from_bytes(3), None);
        assert_eq!(AccessSize::from_bytes(0), None);
    }

    #[test]
    fn mask_covers_exactly_the_access_width() {
        assert_eq!(AccessSize::Byte.mask(), 0xFF);
        assert_eq!(AccessSize::Word.mask(), 0xFFFF);
        assert_eq!(AccessSize::Dword.mask(), u32::MAX);
    }
}
