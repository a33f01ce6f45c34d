//! The POST diagnostic port (port 0x80): firmware and some kernels write
//! progress codes here; on real hardware a POST card shows them.
//!
//! Reference: the IBM PC/AT "manufacturing checkpoint" port; Linux also
//! writes it as an I/O delay (`outb_p`). The model only remembers the last
//! code and how many were written; reads return the last code, as the
//! latch on most chipsets does (0xFF before any write).

use crate::bus::{AccessSize, PortDevice};

/// Port 0x80.
#[derive(Clone, Copy, Debug, Default)]
pub struct PostCode {
    last: Option<u8>,
    writes: u64,
}

impl PostCode {
    /// No code written yet.
    pub fn new() -> Self {
        PostCode::default()
    }

    /// The last code written, if any.
    pub fn last(&self) -> Option<u8> {
        self.last
    }

    /// Number of codes written (Linux's I/O delays included).
    pub fn writes(&self) -> u64 {
        self.writes
    }
}

impl PortDevice for PostCode {
    /// Reads at offset 0 return the last code (0xFF before any write).
    fn read(&mut self, offset: u16, size: AccessSize) -> u32 {
        match (offset, size) {
            (0, AccessSize::Byte) => u32::from(self.last.unwrap_or(0xFF)),
            _ => size.mask(),
        }
    }

    /// A byte write at offset 0 records a code; anything else is ignored.
    fn write(&mut self, offset: u16, size: AccessSize, value: u32) {
        if (offset, size) == (0, AccessSize::Byte) {
            self.last = Some(value.to_le_bytes()[0]);
            self.writes += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_the_last_code() {
        let mut post = PostCode::new();
        assert_eq!(post.last(), None);
        assert_eq!(PortDevice::read(&mut post, 0, AccessSize::Byte), 0xFF);
        PortDevice::write(&mut post, 0, AccessSize::Byte, 0x12);
        PortDevice::write(&mut post, 0, AccessSize::Byte, 0x34);
        PortDevice::write(&mut post, 0, AccessSize::Word, 0x56);
        assert_eq!(post.last(), Some(0x34));
        assert_eq!(post.writes(), 2);
        assert_eq!(PortDevice::read(&mut post, 0, AccessSize::Byte), 0x34);
    }
}
