//! Register and command encodings of the Intel 8042 keyboard controller:
//! the status register, the command byte and the controller commands.
//!
//! Reference: IBM PS/2 Hardware Interface Technical Reference, "Keyboard and
//! Auxiliary Device Controller" (status register bits, command byte bits,
//! commands 0x20-0xFF). The behaviour is in [`crate::i8042`].

use bitflags::bitflags;

bitflags! {
    /// Status register (port 0x64 read).
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct I8042Status: u8 {
        /// Output buffer full: a byte waits at port 0x60.
        const OUTPUT_FULL = 0x01;
        /// Input buffer full (never: writes are processed at once).
        const INPUT_FULL = 0x02;
        /// System flag (command byte bit 2; set after self-test).
        const SYSTEM = 0x04;
        /// A2: the last write was to the command port.
        const COMMAND = 0x08;
        /// Keyboard not inhibited by the keylock.
        const UNLOCKED = 0x10;
        /// The output buffer byte is from the aux port.
        const AUX_DATA = 0x20;
        /// Timeout talking to a device.
        const TIMEOUT = 0x40;
        /// Parity error on the device link.
        const PARITY = 0x80;
    }

    /// The command byte (controller RAM byte 0).
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct CommandByte: u8 {
        /// IRQ 1 when a keyboard byte is in the output buffer.
        const KBD_INT = 0x01;
        /// IRQ 12 when an aux byte is in the output buffer.
        const AUX_INT = 0x02;
        /// System flag.
        const SYSTEM = 0x04;
        /// Ignore the keylock.
        const OVERRIDE = 0x08;
        /// Keyboard interface disabled.
        const KBD_DISABLE = 0x10;
        /// Aux interface disabled.
        const AUX_DISABLE = 0x20;
        /// Translate set 2 to set 1 (stored only).
        const TRANSLATE = 0x40;
    }
}

/// Controller commands (port 0x64 writes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ControllerCommand {
    /// 0x20-0x3F: read controller RAM byte (0 = command byte).
    ReadRam(u8),
    /// 0x60-0x7F: write controller RAM byte; the byte follows at 0x60.
    WriteRam(u8),
    /// 0xA7: disable the aux interface.
    DisableAux,
    /// 0xA8: enable the aux interface.
    EnableAux,
    /// 0xA9: test the aux interface.
    TestAux,
    /// 0xAA: controller self-test.
    SelfTest,
    /// 0xAB: test the keyboard interface.
    TestKbd,
    /// 0xAD: disable the keyboard interface.
    DisableKbd,
    /// 0xAE: enable the keyboard interface.
    EnableKbd,
    /// 0xC0: read the input port.
    ReadInputPort,
    /// 0xD0: read the output port.
    ReadOutputPort,
    /// 0xD1: write the output port; the byte follows at 0x60.
    WriteOutputPort,
    /// 0xD2: next 0x60 byte appears as if from the keyboard.
    WriteKbdOutput,
    /// 0xD3: next 0x60 byte appears as if from the aux device.
    WriteAuxOutput,
    /// 0xD4: next 0x60 byte is sent to the aux device.
    WriteAux,
    /// 0xDD: A20 gate off.
    A20Off,
    /// 0xDF: A20 gate on.
    A20On,
    /// 0xE0: read test inputs.
    ReadTestInputs,
    /// 0xF0-0xFF: pulse the output port bits whose mask bit is 0.
    Pulse(u8),
    /// Anything else: ignored.
    Unknown,
}

impl ControllerCommand {
    pub(crate) fn decode(byte: u8) -> ControllerCommand {
        match byte {
            0x20..=0x3F => ControllerCommand::ReadRam(byte & 0x1F),
            0x60..=0x7F => ControllerCommand::WriteRam(byte & 0x1F),
            0xA7 => ControllerCommand::DisableAux,
            0xA8 => ControllerCommand::EnableAux,
            0xA9 => ControllerCommand::TestAux,
            0xAA => ControllerCommand::SelfTest,
            0xAB => ControllerCommand::TestKbd,
            0xAD => ControllerCommand::DisableKbd,
            0xAE => ControllerCommand::EnableKbd,
            0xC0 => ControllerCommand::ReadInputPort,
            0xD0 => ControllerCommand::ReadOutputPort,
            0xD1 => ControllerCommand::WriteOutputPort,
            0xD2 => ControllerCommand::WriteKbdOutput,
            0xD3 => ControllerCommand::WriteAuxOutput,
            0xD4 => ControllerCommand::WriteAux,
            0xDD => ControllerCommand::A20Off,
            0xDF => ControllerCommand::A20On,
            0xE0 => ControllerCommand::ReadTestInputs,
            0xF0..=0xFF => ControllerCommand::Pulse(byte & 0x0F),
            _ => ControllerCommand::Unknown,
        }
    }
}
