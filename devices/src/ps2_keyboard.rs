//! The keyboard on the i8042's first port: the device side of the PS/2
//! keyboard protocol (commands from the host, replies and scancodes back).
//!
//! Reference: IBM PS/2 Hardware Interface Technical Reference, "Keyboard and
//! Auxiliary Device Controller" and "Keyboards (101/102-key)": commands
//! 0xED-0xFF, ACK 0xFA, BAT completion 0xAA, echo 0xEE, ID 0xAB 0x83.
//!
//! Modelled: reset (ACK + BAT passed), identify, set LEDs, echo, get/set
//! scancode set (stored; scancodes are delivered as the machine pushes them,
//! which is set 1, what a translating controller hands the guest), typematic
//! (stored), enable/disable scanning, set defaults, resend; every other
//! byte is acknowledged. A command clears bytes the keyboard had not sent
//! yet. Not modelled: typematic repeat (the host's key repeat arrives as
//! pushed scancodes), set-3 key attributes.

use std::collections::VecDeque;

/// Acknowledge.
pub(crate) const KBD_ACK: u8 = 0xFA;
/// Basic assurance test passed (after reset).
pub(crate) const KBD_BAT_OK: u8 = 0xAA;
/// Reply to the echo command.
pub(crate) const KBD_ECHO: u8 = 0xEE;
/// Identify reply of an MF2 keyboard.
pub(crate) const KBD_ID: [u8; 2] = [0xAB, 0x83];
/// Bytes the keyboard buffers before it drops new scancodes.
const KBD_BUFFER: usize = 64;
/// Scancode set selected at power-on.
const DEFAULT_SCANCODE_SET: u8 = 2;
/// Typematic rate/delay byte at power-on (10.9 cps, 500 ms).
const DEFAULT_TYPEMATIC: u8 = 0x2B;

/// Commands the host sends to the keyboard.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum KbdCommand {
    /// 0xED + byte: set the LEDs (bit 0 scroll, 1 num, 2 caps lock).
    SetLeds,
    /// 0xEE: echo.
    Echo,
    /// 0xF0 + byte: select scancode set 1-3, or 0 = report the current set.
    ScancodeSet,
    /// 0xF2: identify.
    Identify,
    /// 0xF3 + byte: typematic rate and delay.
    SetTypematic,
    /// 0xF4: enable scanning.
    Enable,
    /// 0xF5: disable scanning and restore defaults.
    DisableScanning,
    /// 0xF6: restore defaults.
    SetDefaults,
    /// 0xFE: resend the last byte.
    Resend,
    /// 0xFF: reset and self-test.
    Reset,
    /// Anything else: acknowledged and ignored.
    Other,
}

impl KbdCommand {
    fn decode(byte: u8) -> KbdCommand {
        match byte {
            0xED => KbdCommand::SetLeds,
            0xEE => KbdCommand::Echo,
            0xF0 => KbdCommand::ScancodeSet,
            0xF2 => KbdCommand::Identify,
            0xF3 => KbdCommand::SetTypematic,
            0xF4 => KbdCommand::Enable,
            0xF5 => KbdCommand::DisableScanning,
            0xF6 => KbdCommand::SetDefaults,
            0xFE => KbdCommand::Resend,
            0xFF => KbdCommand::Reset,
            _ => KbdCommand::Other,
        }
    }
}

/// An MF2 keyboard as seen through its serial link.
#[derive(Clone, Debug)]
pub(crate) struct Ps2Keyboard {
    /// Command waiting for its parameter byte.
    awaiting_parameter: Option<KbdCommand>,
    scanning: bool,
    scancode_set: u8,
    leds: u8,
    typematic: u8,
    out: VecDeque<u8>,
    last_sent: u8,
}

impl Ps2Keyboard {
    pub(crate) fn new() -> Ps2Keyboard {
        Ps2Keyboard {
            awaiting_parameter: None,
            scanning: true,
            scancode_set: DEFAULT_SCANCODE_SET,
            leds: 0,
            typematic: DEFAULT_TYPEMATIC,
            out: VecDeque::new(),
            last_sent: 0,
        }
    }

    /// LED state last set by the host (bit 0 scroll, 1 num, 2 caps lock).
    pub(crate) fn leds(&self) -> u8 {
        self.leds
    }

    fn set_defaults(&mut self) {
        self.scancode_set = DEFAULT_SCANCODE_SET;
        self.typematic = DEFAULT_TYPEMATIC;
    }

    fn reply(&mut self, bytes: &[u8]) {
        self.out.extend(bytes);
    }

    /// A byte from the host.
    pub(crate) fn receive(&mut self, byte: u8) {
        if let Some(command) = self.awaiting_parameter.take() {
            match command {
                KbdCommand::SetLeds => self.leds = byte & 0x07,
                KbdCommand::SetTypematic => self.typematic = byte & 0x7F,
                KbdCommand::ScancodeSet if byte == 0 => {
                    self.reply(&[KBD_ACK, self.scancode_set]);
                    return;
                }
                KbdCommand::ScancodeSet => self.scancode_set = byte.clamp(1, 3),
                _ => {}
            }
            self.reply(&[KBD_ACK]);
            return;
        }
        let command = KbdCommand::decode(byte);
        if command != KbdCommand::Resend {
            // A command makes the keyboard drop output it had not sent.
            self.out.clear();
        }
        match command {
            KbdCommand::SetLeds | KbdCommand::ScancodeSet | KbdCommand::SetTypematic => {
                self.awaiting_parameter = Some(command);
                self.reply(&[KBD_ACK]);
            }
            KbdCommand::Echo => self.reply(&[KBD_ECHO]),
            KbdCommand::Identify => self.reply(&[KBD_ACK, KBD_ID[0], KBD_ID[1]]),
            KbdCommand::Enable => {
                self.scanning = true;
                self.reply(&[KBD_ACK]);
            }
            KbdCommand::DisableScanning => {
                self.scanning = false;
                self.set_defaults();
                self.reply(&[KBD_ACK]);
            }
            KbdCommand::SetDefaults => {
                self.set_defaults();
                self.reply(&[KBD_ACK]);
            }
            KbdCommand::Resend => self.out.push_front(self.last_sent),
            KbdCommand::Reset => {
                self.set_defaults();
                self.leds = 0;
                self.scanning = true;
                self.reply(&[KBD_ACK, KBD_BAT_OK]);
            }
            KbdCommand::Other => self.reply(&[KBD_ACK]),
        }
    }

    /// Queue the scancode bytes of one key event. All or nothing: returns
    /// `false` (and drops them) if scanning is off or the buffer is full.
    pub(crate) fn push_scancodes(&mut self, bytes: &[u8]) -> bool {
        if !self.scanning || self.out.len() + bytes.len() > KBD_BUFFER {
            return false;
        }
        self.out.extend(bytes);
        true
    }

    /// The next byte the keyboard sends to the controller.
    pub(crate) fn pop(&mut self) -> Option<u8> {
        let byte = self.out.pop_front()?;
        self.last_sent = byte;
        Some(byte)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drain(kbd: &mut Ps2Keyboard) -> Vec<u8> {
        std::iter::from_fn(|| kbd.pop()).collect()
    }

    #[test]
    fn parameter_commands_ack_twice() {
        let mut kbd = Ps2Keyboard::new();
        kbd.receive(0xED);
        kbd.receive(0x02); // num lock
        assert_eq!(drain(&mut kbd), vec![KBD_ACK, KBD_ACK]);
        assert_eq!(kbd.leds(), 0x02);
        kbd.receive(0xF0);
        kbd.receive(0x00); // report set
        assert_eq!(drain(&mut kbd), vec![KBD_ACK, KBD_ACK, 2]);
    }

    #[test]
    fn disabled_keyboard_drops_keys_and_commands_flush_output() {
        let mut kbd = Ps2Keyboard::new();
        assert!(kbd.push_scancodes(&[0x1E, 0x9E]));
        kbd.receive(0xF5);
        assert_eq!(drain(&mut kbd), vec![KBD_ACK]);
        assert!(!kbd.push_scancodes(&[0x1E]));
        kbd.receive(0xF4);
        assert_eq!(drain(&mut kbd), vec![KBD_ACK]);
        kbd.receive(0xFE); // resend: the ACK again
        assert_eq!(drain(&mut kbd), vec![KBD_ACK]);
        assert!(kbd.push_scancodes(&[0x1E]));
        assert_eq!(kbd.pop(), Some(0x1E));
    }

    #[test]
    fn buffer_overflow_drops_whole_key_events() {
        let mut kbd = Ps2Keyboard::new();
        for _ in 0..KBD_BUFFER / 2 {
            assert!(kbd.push_scancodes(&[0x1E, 0x9E]));
        }
        assert!(!kbd.push_scancodes(&[0x1E, 0x9E]));
        assert_eq!(drain(&mut kbd).len(), KBD_BUFFER);
    }
}
