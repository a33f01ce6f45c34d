//! One Intel 8237A DMA controller: four channels' base/current address and
//! count registers behind the byte-pointer flip-flop, the mode, command,
//! request, mask and status registers, and the bookkeeping of one transfer
//! step (address step, count, terminal count, auto-initialize).
//!
//! Reference: Intel 8237A High Performance Programmable DMA Controller
//! datasheet (order 231466), "Register Description" and "Software
//! Commands". The pair, the page registers and the data movement are in
//! [`crate::dma8237`].

/// Register index of channel n's address register is `2 * n`.
pub const REG_CHANNEL_ADDRESS: u8 = 0;
/// Register index of channel n's count register is `2 * n + 1`.
pub const REG_CHANNEL_COUNT: u8 = 1;
/// Status (read) / command (write).
pub const REG_STATUS: u8 = 8;
/// Command register (write).
pub const REG_COMMAND: u8 = 8;
/// Request register (write): bit 2 set/clear, bits 1-0 channel.
pub const REG_REQUEST: u8 = 9;
/// Single mask bit (write): bit 2 set/clear, bits 1-0 channel.
pub const REG_SINGLE_MASK: u8 = 0xA;
/// Mode register (write): bits 1-0 select the channel.
pub const REG_MODE: u8 = 0xB;
/// Clear byte pointer flip-flop (write, any value).
pub const REG_CLEAR_FLIP_FLOP: u8 = 0xC;
/// Temporary register (read; memory-to-memory only, so always 0 here).
pub const REG_TEMPORARY: u8 = 0xD;
/// Master clear (write, any value): reset, all channels masked.
pub const REG_MASTER_CLEAR: u8 = 0xD;
/// Clear mask register (write, any value): all channels unmasked.
pub const REG_CLEAR_MASK: u8 = 0xE;
/// Write all mask bits (bits 3-0). Reading it back is not an 8237A
/// feature; like the later PC chipsets this model returns the mask.
pub const REG_ALL_MASK: u8 = 0xF;

/// Command register: controller disable.
const COMMAND_DISABLE: u8 = 0x04;
/// Request/single-mask register: set (1) or clear (0) the bit.
const BIT_SET: u8 = 0x04;
/// Request/single-mask/mode register: channel select.
const CHANNEL_SELECT: u8 = 0x03;
/// Mode register: transfer type field (bits 3-2).
const MODE_TYPE_SHIFT: u8 = 2;
/// Mode register: auto-initialize.
const MODE_AUTOINIT: u8 = 0x10;
/// Mode register: address decrement.
const MODE_DECREMENT: u8 = 0x20;
/// Mode register: mode select field (bits 7-6).
const MODE_SELECT_SHIFT: u8 = 6;
/// Status register: request bits are bits 7-4.
const STATUS_REQUEST_SHIFT: u8 = 4;
/// Mask of a channel bit field (4 channels).
const CHANNEL_BITS: u8 = 0x0F;

/// Transfer type, mode register bits 3-2.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TransferType {
    /// 00: addresses and count step, no memory cycle.
    Verify,
    /// 01: device to memory ("write" to memory).
    Write,
    /// 10: memory to device ("read" from memory).
    Read,
    /// 11: illegal; treated as verify.
    Illegal,
}

/// Mode select, mode register bits 7-6.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TransferMode {
    /// 00: transfer while DREQ stays active.
    Demand,
    /// 01: one transfer per DREQ (re-requested while DREQ stays active).
    Single,
    /// 10: the whole block once DREQ starts it.
    Block,
    /// 11: the channel passes another controller's requests through.
    Cascade,
}

/// One channel's registers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Channel {
    /// Base address (reloaded by auto-initialize).
    pub base_address: u16,
    /// Base count (reloaded by auto-initialize).
    pub base_count: u16,
    /// Current address.
    pub current_address: u16,
    /// Current count: transfers left minus one.
    pub current_count: u16,
    /// Mode register bits 7-2.
    pub mode: u8,
}

impl Channel {
    /// Transfer type from the mode register.
    pub fn transfer_type(&self) -> TransferType {
        match (self.mode >> MODE_TYPE_SHIFT) & 3 {
            0 => TransferType::Verify,
            1 => TransferType::Write,
            2 => TransferType::Read,
            _ => TransferType::Illegal,
        }
    }

    /// Mode select from the mode register.
    pub fn transfer_mode(&self) -> TransferMode {
        match self.mode >> MODE_SELECT_SHIFT {
            0 => TransferMode::Demand,
            1 => TransferMode::Single,
            2 => TransferMode::Block,
            _ => TransferMode::Cascade,
        }
    }

    /// Whether the address counts down.
    pub fn decrement(&self) -> bool {
        self.mode & MODE_DECREMENT != 0
    }

    /// Whether terminal count reloads the base registers.
    pub fn auto_init(&self) -> bool {
        self.mode & MODE_AUTOINIT != 0
    }
}

/// One 8237A.
#[derive(Clone, Debug)]
pub struct Dma8237 {
    channels: [Channel; 4],
    command: u8,
    /// Terminal count reached, bits 3-0 (cleared by reading status).
    terminal_count: u8,
    /// Software DREQ, bits 3-0.
    request: u8,
    /// Mask, bits 3-0 (1 = masked).
    mask: u8,
    /// Byte pointer flip-flop: `true` = next access is the high byte.
    high_byte: bool,
}

impl Default for Dma8237 {
    fn default() -> Self {
        Dma8237 {
            channels: [Channel::default(); 4],
            command: 0,
            terminal_count: 0,
            request: 0,
            mask: CHANNEL_BITS,
            high_byte: false,
        }
    }
}

impl Dma8237 {
    /// A controller after master clear: every channel masked.
    pub fn new() -> Self {
        Dma8237::default()
    }

    /// Channel `ch` (0-3) registers.
    pub fn channel(&self, ch: usize) -> &Channel {
        &self.channels[ch & 3]
    }

    /// Whether channel `ch` is masked.
    pub fn is_masked(&self, ch: usize) -> bool {
        self.mask & (1 << (ch & 3)) != 0
    }

    /// Whether channel `ch` would serve a DREQ now: controller enabled,
    /// channel unmasked and not in cascade mode.
    pub fn ready(&self, ch: usize) -> bool {
        self.command & COMMAND_DISABLE == 0
            && !self.is_masked(ch)
            && self.channel(ch).transfer_mode() != TransferMode::Cascade
    }

    /// Units of channel `ch` that can move before the address register
    /// wraps (the page register never carries).
    pub fn units_before_wrap(&self, ch: usize) -> u32 {
        let c = self.channel(ch);
        if c.decrement() {
            u32::from(c.current_address) + 1
        } else {
            0x1_0000 - u32::from(c.current_address)
        }
    }

    /// Record `units` transfers on channel `ch` (at most the count left);
    /// returns whether terminal count was reached.
    pub fn advance(&mut self, ch: usize, units: u32) -> bool {
        let bit = 1 << (ch & 3);
        let c = &mut self.channels[ch & 3];
        let left = u32::from(c.current_count) + 1;
        let units = units.min(left);
        // Both registers are 16 bits and wrap: truncation is the hardware.
        let step = units as u16;
        c.current_address = if c.decrement() {
            c.current_address.wrapping_sub(step)
        } else {
            c.current_address.wrapping_add(step)
        };
        c.current_count = c.current_count.wrapping_sub(step);
        if units < left {
            return false;
        }
        self.terminal_count |= bit;
        self.request &= !bit;
        if c.auto_init() {
            c.current_address = c.base_address;
            c.current_count = c.base_count;
        } else {
            self.mask |= bit;
        }
        true
    }

    /// The byte of `value` the flip-flop points at; toggles the flip-flop.
    fn flip(&mut self, value: u16) -> u8 {
        let byte = value.to_le_bytes()[usize::from(self.high_byte)];
        self.high_byte = !self.high_byte;
        byte
    }

    /// Read register `reg` (0-15).
    pub fn read(&mut self, reg: u8) -> u8 {
        match reg {
            0..=7 => {
                let c = self.channels[usize::from(reg >> 1)];
                if reg & 1 == REG_CHANNEL_COUNT {
                    self.flip(c.current_count)
                } else {
                    self.flip(c.current_address)
                }
            }
            REG_STATUS => {
                let status = self.terminal_count | self.request << STATUS_REQUEST_SHIFT;
                self.terminal_count = 0;
                status
            }
            REG_TEMPORARY => 0,
            REG_ALL_MASK => self.mask | !CHANNEL_BITS,
            _ => 0xFF,
        }
    }

    /// Write register `reg` (0-15).
    pub fn write(&mut self, reg: u8, value: u8) {
        match reg {
            0..=7 => {
                let high = self.high_byte;
                self.high_byte = !high;
                let c = &mut self.channels[usize::from(reg >> 1)];
                let set = |old: u16| {
                    let mut bytes = old.to_le_bytes();
                    bytes[usize::from(high)] = value;
                    u16::from_le_bytes(bytes)
                };
                if reg & 1 == REG_CHANNEL_ADDRESS {
                    c.base_address = set(c.base_address);
                    c.current_address = c.base_address;
                } else {
                    c.base_count = set(c.base_count);
                    c.current_count = c.base_count;
                }
            }
            REG_COMMAND => self.command = value,
            REG_REQUEST => set_bit(&mut self.request, value),
            REG_SINGLE_MASK => set_bit(&mut self.mask, value),
            REG_MODE => {
                self.channels[usize::from(value & CHANNEL_SELECT)].mode = value & !CHANNEL_SELECT;
            }
            REG_CLEAR_FLIP_FLOP => self.high_byte = false,
            REG_MASTER_CLEAR => {
                *self = Dma8237 {
                    channels: self.channels,
                    ..Dma8237::new()
                }
            }
            REG_CLEAR_MASK => self.mask = 0,
            REG_ALL_MASK => self.mask = value & CHANNEL_BITS,
            _ => {}
        }
    }
}

/// Apply a request/single-mask style write (bit 2 = set, bits 1-0 channel).
fn set_bit(bits: &mut u8, value: u8) {
    let bit = 1 << (value & CHANNEL_SELECT);
    if value & BIT_SET != 0 {
        *bits |= bit;
    } else {
        *bits &= !bit;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Program channel `ch`'s address and count, low byte first.
    fn program(dma: &mut Dma8237, ch: u8, address: u16, count: u16) {
        dma.write(REG_CLEAR_FLIP_FLOP, 0);
        for (reg, value) in [(2 * ch, address), (2 * ch + 1, count)] {
            dma.write(reg, value.to_le_bytes()[0]);
            dma.write(reg, value.to_le_bytes()[1]);
        }
    }

    #[test]
    fn flip_flop_orders_low_then_high_byte() {
        let mut dma = Dma8237::new();
        program(&mut dma, 1, 0x1234, 0x00FF);
        assert_eq!(dma.channel(1).base_address, 0x1234);
        assert_eq!(dma.channel(1).current_count, 0x00FF);
        dma.write(REG_CLEAR_FLIP_FLOP, 0);
        assert_eq!([dma.read(2), dma.read(2)], [0x34, 0x12]);
        assert_eq!([dma.read(3), dma.read(3)], [0xFF, 0x00]);
    }

    #[test]
    fn mode_register_decodes_the_floppy_modes() {
        let mut dma = Dma8237::new();
        dma.write(REG_MODE, 0x46); // single, increment, write to memory, ch 2
        let c = *dma.channel(2);
        assert_eq!(c.transfer_type(), TransferType::Write);
        assert_eq!(c.transfer_mode(), TransferMode::Single);
        assert!(!c.auto_init() && !c.decrement());
        dma.write(REG_MODE, 0x4A); // read from memory, ch 2
        assert_eq!(dma.channel(2).transfer_type(), TransferType::Read);
        dma.write(REG_MODE, 0xC0); // cascade, ch 0
        assert_eq!(dma.channel(0).transfer_mode(), TransferMode::Cascade);
        dma.write(REG_SINGLE_MASK, 0x00);
        assert!(!dma.ready(0), "cascade channels do not transfer");
    }

    #[test]
    fn terminal_count_masks_or_reloads() {
        let mut dma = Dma8237::new();
        dma.write(REG_CLEAR_MASK, 0);
        program(&mut dma, 0, 0x1000, 9);
        assert!(!dma.advance(0, 4));
        assert_eq!(dma.channel(0).current_count, 5);
        assert!(dma.advance(0, 100), "clamped to the 6 left");
        assert_eq!(dma.channel(0).current_address, 0x100A);
        assert_eq!(dma.channel(0).current_count, 0xFFFF);
        assert!(dma.is_masked(0));
        assert_eq!(dma.read(REG_STATUS) & 0x0F, 0x01);
        dma.write(REG_MODE, 0x10 | 0x01); // autoinit, ch 1
        program(&mut dma, 1, 0x2000, 1);
        dma.write(REG_SINGLE_MASK, 0x01);
        assert!(dma.advance(1, 2));
        assert!(!dma.is_masked(1));
        assert_eq!(dma.channel(1).current_address, 0x2000);
        assert_eq!(dma.channel(1).current_count, 1);
    }

    #[test]
    fn master_clear_masks_all_and_resets_the_flip_flop() {
        let mut dma = Dma8237::new();
        dma.write(REG_CLEAR_MASK, 0);
        dma.write(0, 0x12); // flip-flop now on the high byte
        dma.write(REG_REQUEST, 0x06);
        dma.write(REG_MASTER_CLEAR, 0);
        assert_eq!(dma.read(REG_ALL_MASK), 0xFF);
        assert_eq!(dma.read(REG_STATUS), 0);
        dma.write(0, 0x34);
        assert_eq!(dma.channel(0).base_address, 0x0034, "low byte first again");
        dma.write(REG_ALL_MASK, 0x05);
        assert_eq!(dma.read(REG_ALL_MASK), 0xF5);
    }

    #[test]
    fn software_requests_show_in_status_bits_7_4() {
        let mut dma = Dma8237::new();
        dma.write(REG_REQUEST, 0x04 | 3);
        assert_eq!(dma.read(REG_STATUS), 0x80);
        dma.write(REG_REQUEST, 3);
        assert_eq!(dma.read(REG_STATUS), 0x00);
    }

    #[test]
    fn wrap_limit_depends_on_direction() {
        let mut dma = Dma8237::new();
        program(&mut dma, 2, 0xFFF0, 0xFFFF);
        assert_eq!(dma.units_before_wrap(2), 16);
        dma.write(REG_MODE, 0x20 | 2);
        assert_eq!(dma.units_before_wrap(2), 0xFFF1);
        dma.write(REG_COMMAND, 0x04);
        dma.write(REG_CLEAR_MASK, 0);
        assert!(!dma.ready(2), "controller disabled");
    }
}
