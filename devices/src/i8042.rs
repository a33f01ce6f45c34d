//! The Intel 8042 keyboard controller of a PC (port 0x60 data at offset 0,
//! port 0x64 status/command at offset 4), with a keyboard on its first port
//! and nothing on its auxiliary (mouse) port.
//!
//! Reference: IBM PS/2 Hardware Interface Technical Reference, "Keyboard and
//! Auxiliary Device Controller" (status register, command byte, controller
//! commands 0x20-0xFF, input and output ports).
//!
//! Modelled: the status register (OBF, SYS, A2, keyboard unlocked, AUXB,
//! timeout), the command byte and the rest of the 32-byte controller RAM,
//! interface enable/disable and tests, self-test, input port, output port
//! (bit 0 CPU reset, bit 1 A20 gate), write-to-output-buffer commands, the
//! 0xDD/0xDF A20 shortcuts, pulse commands 0xF0-0xFF, IRQ 1 and IRQ 12 per the
//! command byte. The keyboard is [`crate::ps2_keyboard`]. The aux port exists
//! (Linux's loopback and IRQ 12 probe succeed) but no mouse answers: a byte
//! sent with 0xD4 comes back as 0xFE with the timeout bit, which a PS/2
//! driver reads as "no device" at once instead of waiting out a timeout.
//!
//! A20 and reset are not performed here: they are returned as
//! [`CpuLineEvent`]s from [`I8042::take_events`]. Scancodes are pushed by the
//! machine in set 1, as a translating controller delivers them; translation
//! (command byte bit 6) is stored only. Not modelled: keyboard inhibit
//! switch, parity errors, password and controller-specific commands.
//!
//! Output-buffer refill and IRQ edges: the next byte moves into the output
//! buffer as soon as the guest reads the previous one, so polling guests see
//! it at once. But if the byte read had raised IRQ 1 or 12, the lines are
//! held low until the second following [`Timed::advance`], so the
//! edge-triggered PIC sees the line drop between the two bytes (see
//! [`Timed`] for the contract).

use std::collections::VecDeque;

use bitflags::bitflags;

use crate::bus::{AccessSize, PortDevice};
use crate::event::CpuLineEvent;
use crate::irq::IrqLine;
use crate::ps2_keyboard::Ps2Keyboard;
use crate::time::{Ticks, Timed};

/// The i8042's side effects on the CPU (A20 gate, reset).
pub type I8042Event = CpuLineEvent;

/// Offset of the data port (0x60).
pub const OFFSET_DATA: u16 = 0;
/// Offset of the status (read) / command (write) port (0x64).
pub const OFFSET_STATUS: u16 = 4;

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

/// Output port: CPU reset line, active low.
const OUT_RESET_INACTIVE: u8 = 0x01;
/// Output port: A20 gate.
const OUT_A20: u8 = 0x02;
/// Output port: output buffer full with a keyboard byte (IRQ 1).
const OUT_KBD_FULL: u8 = 0x10;
/// Output port: output buffer full with an aux byte (IRQ 12).
const OUT_AUX_FULL: u8 = 0x20;
/// Output port: keyboard clock and data lines idle high.
const OUT_KBD_LINES: u8 = 0xC0;
/// Input port: bit 7 keyboard not inhibited; bit 6 clear = colour display.
const INPUT_PORT: u8 = 0x80;
/// Command byte as a PC BIOS leaves it: translate, system, keyboard IRQ.
const COMMAND_BYTE_DEFAULT: u8 = 0x45;
/// Reply to the controller self-test.
const SELF_TEST_OK: u8 = 0x55;
/// Reply to an interface test: no error.
const INTERFACE_OK: u8 = 0x00;
/// What a byte sent to the absent mouse comes back as (with TIMEOUT).
const AUX_NO_DEVICE: u8 = 0xFE;
/// Bytes of controller RAM (0x20-0x3F read, 0x60-0x7F write).
const RAM_SIZE: usize = 32;
/// Advance rounds the IRQ lines stay low after a read that lowered them:
/// the first lets the PIC sample the low level, the second raises it again.
const IRQ_GAP_ROUNDS: u8 = 2;

/// Controller commands (port 0x64 writes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ControllerCommand {
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
    fn decode(byte: u8) -> ControllerCommand {
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

/// A byte waiting for the guest at port 0x60.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct OutByte {
    value: u8,
    aux: bool,
    timeout: bool,
}

impl OutByte {
    fn keyboard(value: u8) -> OutByte {
        OutByte { value, aux: false, timeout: false }
    }

    fn aux(value: u8) -> OutByte {
        OutByte { value, aux: true, timeout: false }
    }
}

/// The keyboard controller with its keyboard.
pub struct I8042 {
    kbd: Ps2Keyboard,
    ram: [u8; RAM_SIZE],
    output_port: u8,
    /// The output buffer.
    ob: Option<OutByte>,
    /// Controller-generated bytes, delivered before keyboard bytes.
    replies: VecDeque<OutByte>,
    last_data: u8,
    last_write_was_command: bool,
    /// Controller command whose data byte comes next at port 0x60.
    awaiting_data: Option<ControllerCommand>,
    events: Vec<CpuLineEvent>,
    kbd_irq: Box<dyn IrqLine>,
    aux_irq: Box<dyn IrqLine>,
    kbd_line: bool,
    aux_line: bool,
    /// Advance rounds left during which the IRQ lines are held low.
    irq_hold_rounds: u8,
    last_now: Ticks,
}

impl I8042 {
    /// A controller as a PC BIOS leaves it (command byte 0x45, A20 off),
    /// driving `kbd_irq` (IRQ 1) and `aux_irq` (IRQ 12).
    pub fn new(kbd_irq: Box<dyn IrqLine>, aux_irq: Box<dyn IrqLine>) -> Self {
        let mut ram = [0; RAM_SIZE];
        ram[0] = COMMAND_BYTE_DEFAULT;
        I8042 {
            kbd: Ps2Keyboard::new(),
            ram,
            output_port: OUT_RESET_INACTIVE | OUT_KBD_LINES,
            ob: None,
            replies: VecDeque::new(),
            last_data: 0,
            last_write_was_command: false,
            awaiting_data: None,
            events: Vec::new(),
            kbd_irq,
            aux_irq,
            kbd_line: false,
            aux_line: false,
            irq_hold_rounds: 0,
            last_now: Ticks::ZERO,
        }
    }

    /// Queue the set-1 scancode bytes of one key event from the host.
    /// Returns `false` if the keyboard dropped them (scanning disabled by the
    /// guest, or its buffer is full).
    pub fn push_scancodes(&mut self, bytes: &[u8]) -> bool {
        let taken = self.kbd.push_scancodes(bytes);
        self.refill();
        taken
    }

    /// The A20 gate and reset requests made since the last call.
    pub fn take_events(&mut self) -> Vec<I8042Event> {
        std::mem::take(&mut self.events)
    }

    /// The output port's A20 gate bit.
    pub fn a20(&self) -> bool {
        self.output_port & OUT_A20 != 0
    }

    /// Keyboard LEDs as last set by the guest (bit 0 scroll, 1 num, 2 caps).
    pub fn keyboard_leds(&self) -> u8 {
        self.kbd.leds()
    }

    fn command_byte(&self) -> CommandByte {
        CommandByte::from_bits_retain(self.ram[0])
    }

    fn set_command_byte(&mut self, value: CommandByte) {
        self.ram[0] = value.bits();
    }

    fn next_byte(&mut self) -> Option<OutByte> {
        if let Some(byte) = self.replies.pop_front() {
            return Some(byte);
        }
        if self.command_byte().contains(CommandByte::KBD_DISABLE) {
            return None;
        }
        self.kbd.pop().map(OutByte::keyboard)
    }

    /// Load the output buffer if it is empty.
    fn refill(&mut self) {
        if self.ob.is_none() {
            self.ob = self.next_byte();
        }
        self.update_irqs();
    }

    fn update_irqs(&mut self) {
        let cb = self.command_byte();
        let open = self.irq_hold_rounds == 0;
        let kbd = open && self.ob.is_some_and(|b| !b.aux) && cb.contains(CommandByte::KBD_INT);
        let aux = open && self.ob.is_some_and(|b| b.aux) && cb.contains(CommandByte::AUX_INT);
        if kbd != self.kbd_line {
            self.kbd_line = kbd;
            self.kbd_irq.set_level(kbd);
        }
        if aux != self.aux_line {
            self.aux_line = aux;
            self.aux_irq.set_level(aux);
        }
    }

    fn reply(&mut self, byte: OutByte) {
        self.replies.push_back(byte);
        self.refill();
    }

    fn set_output_port(&mut self, value: u8) {
        let was_a20 = self.a20();
        // The reset line is a pulse: the machine resets the CPU, and the
        // line is released again.
        self.output_port = value | OUT_RESET_INACTIVE;
        if self.a20() != was_a20 {
            self.events.push(CpuLineEvent::A20(self.a20()));
        }
        if value & OUT_RESET_INACTIVE == 0 {
            self.events.push(CpuLineEvent::Reset);
        }
    }

    fn read_status(&mut self) -> u8 {
        self.refill();
        let mut status = I8042Status::UNLOCKED;
        if let Some(byte) = self.ob {
            status |= I8042Status::OUTPUT_FULL;
            status.set(I8042Status::AUX_DATA, byte.aux);
            status.set(I8042Status::TIMEOUT, byte.timeout);
        }
        status.set(I8042Status::SYSTEM, self.command_byte().contains(CommandByte::SYSTEM));
        status.set(I8042Status::COMMAND, self.last_write_was_command);
        status.bits()
    }

    fn read_data(&mut self) -> u8 {
        if let Some(byte) = self.ob.take() {
            if self.kbd_line || self.aux_line {
                self.irq_hold_rounds = IRQ_GAP_ROUNDS;
            }
            self.last_data = byte.value;
            self.refill();
        }
        // An empty buffer reads as the byte last read.
        self.last_data
    }

    fn write_command(&mut self, value: u8) {
        self.last_write_was_command = true;
        self.awaiting_data = None;
        let mut cb = self.command_byte();
        match ControllerCommand::decode(value) {
            ControllerCommand::ReadRam(index) => {
                self.reply(OutByte::keyboard(self.ram[usize::from(index)]));
            }
            command @ (ControllerCommand::WriteRam(_)
            | ControllerCommand::WriteOutputPort
            | ControllerCommand::WriteKbdOutput
            | ControllerCommand::WriteAuxOutput
            | ControllerCommand::WriteAux) => self.awaiting_data = Some(command),
            ControllerCommand::DisableAux => cb.insert(CommandByte::AUX_DISABLE),
            ControllerCommand::EnableAux => cb.remove(CommandByte::AUX_DISABLE),
            ControllerCommand::DisableKbd => cb.insert(CommandByte::KBD_DISABLE),
            ControllerCommand::EnableKbd => cb.remove(CommandByte::KBD_DISABLE),
            ControllerCommand::TestAux
            | ControllerCommand::TestKbd
            | ControllerCommand::ReadTestInputs => self.reply(OutByte::keyboard(INTERFACE_OK)),
            ControllerCommand::SelfTest => {
                cb.insert(CommandByte::SYSTEM);
                self.reply(OutByte::keyboard(SELF_TEST_OK));
            }
            ControllerCommand::ReadInputPort => self.reply(OutByte::keyboard(INPUT_PORT)),
            ControllerCommand::ReadOutputPort => {
                let mut port = self.output_port & !(OUT_KBD_FULL | OUT_AUX_FULL);
                match self.ob {
                    Some(b) if b.aux => port |= OUT_AUX_FULL,
                    Some(_) => port |= OUT_KBD_FULL,
                    None => {}
                }
                self.reply(OutByte::keyboard(port));
            }
            ControllerCommand::A20Off => self.set_output_port(self.output_port & !OUT_A20),
            ControllerCommand::A20On => self.set_output_port(self.output_port | OUT_A20),
            ControllerCommand::Pulse(mask) => {
                if mask & OUT_RESET_INACTIVE == 0 {
                    self.events.push(CpuLineEvent::Reset);
                }
            }
            ControllerCommand::Unknown => {}
        }
        self.set_command_byte(cb);
        self.refill();
    }

    fn write_data(&mut self, value: u8) {
        self.last_write_was_command = false;
        match self.awaiting_data.take() {
            Some(ControllerCommand::WriteRam(index)) => self.ram[usize::from(index)] = value,
            Some(ControllerCommand::WriteOutputPort) => self.set_output_port(value),
            Some(ControllerCommand::WriteKbdOutput) => self.replies.push_back(OutByte::keyboard(value)),
            Some(ControllerCommand::WriteAuxOutput) => self.replies.push_back(OutByte::aux(value)),
            Some(ControllerCommand::WriteAux) => {
                // The byte goes to the aux port, where nothing answers.
                let mut cb = self.command_byte();
                cb.remove(CommandByte::AUX_DISABLE);
                self.set_command_byte(cb);
                let nak = OutByte { value: AUX_NO_DEVICE, aux: true, timeout: true };
                self.replies.push_back(nak);
            }
            Some(_) => {}
            None => {
                // Sending to the keyboard re-enables its interface.
                let mut cb = self.command_byte();
                cb.remove(CommandByte::KBD_DISABLE);
                self.set_command_byte(cb);
                self.kbd.receive(value);
            }
        }
        self.refill();
    }
}

impl PortDevice for I8042 {
    /// Byte reads at offset 0 (data) and 4 (status); anything else reads as
    /// all-ones.
    fn read(&mut self, offset: u16, size: AccessSize) -> u32 {
        match (offset, size) {
            (OFFSET_DATA, AccessSize::Byte) => u32::from(self.read_data()),
            (OFFSET_STATUS, AccessSize::Byte) => u32::from(self.read_status()),
            _ => size.mask(),
        }
    }

    /// Byte writes at offset 0 (data) and 4 (command); anything else is
    /// ignored.
    fn write(&mut self, offset: u16, size: AccessSize, value: u32) {
        let byte = value.to_le_bytes()[0];
        match (offset, size) {
            (OFFSET_DATA, AccessSize::Byte) => self.write_data(byte),
            (OFFSET_STATUS, AccessSize::Byte) => self.write_command(byte),
            _ => {}
        }
    }
}

impl Timed for I8042 {
    /// The first call after a read that dropped IRQ 1/12 keeps the lines
    /// low for the PIC to see; the next one lets them follow the buffer.
    fn advance(&mut self, now: Ticks) {
        self.last_now = self.last_now.max(now);
        self.irq_hold_rounds = self.irq_hold_rounds.saturating_sub(1);
        self.refill();
    }

    fn next_deadline(&self) -> Option<Ticks> {
        (self.irq_hold_rounds > 0).then_some(self.last_now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::irq::TestLine;

    fn new_i8042() -> (I8042, TestLine, TestLine) {
        let (irq1, irq12) = (TestLine::new(), TestLine::new());
        (I8042::new(irq1.boxed(), irq12.boxed()), irq1, irq12)
    }

    fn outb(kbc: &mut I8042, offset: u16, value: u8) {
        PortDevice::write(kbc, offset, AccessSize::Byte, u32::from(value));
    }

    fn inb(kbc: &mut I8042, offset: u16) -> u8 {
        PortDevice::read(kbc, offset, AccessSize::Byte) as u8
    }

    /// Wait for OBF in the status register, then read port 0x60.
    fn read_output_buffer(kbc: &mut I8042) -> Option<u8> {
        (inb(kbc, OFFSET_STATUS) & 0x01 != 0).then(|| inb(kbc, OFFSET_DATA))
    }

    /// Command 0x60 + byte: write the command byte.
    fn write_command_byte(kbc: &mut I8042, value: u8) {
        outb(kbc, OFFSET_STATUS, 0x60);
        outb(kbc, OFFSET_DATA, value);
    }

    /// Command 0xD1 + byte: write the output port.
    fn write_output_port(kbc: &mut I8042, value: u8) {
        outb(kbc, OFFSET_STATUS, 0xD1);
        outb(kbc, OFFSET_DATA, value);
    }

    /// Keyboard commands with IRQ 1 off, polling for each reply byte.
    fn keyboard_exchange(kbc: &mut I8042, bytes: &[u8]) -> Vec<u8> {
        write_command_byte(kbc, 0x44);
        bytes.iter().for_each(|&b| outb(kbc, OFFSET_DATA, b));
        std::iter::from_fn(|| read_output_buffer(kbc)).collect()
    }

    #[test]
    fn self_test_and_interface_tests() {
        let (mut kbc, _, _) = new_i8042();
        outb(&mut kbc, OFFSET_STATUS, 0xAA);
        assert_eq!(inb(&mut kbc, OFFSET_STATUS) & 0x0D, 0x0D, "OBF, SYS, A2");
        assert_eq!(inb(&mut kbc, OFFSET_DATA), 0x55);
        outb(&mut kbc, OFFSET_STATUS, 0xAB);
        assert_eq!(read_output_buffer(&mut kbc), Some(0x00));
        outb(&mut kbc, OFFSET_STATUS, 0xA9);
        assert_eq!(read_output_buffer(&mut kbc), Some(0x00));
        assert_eq!(read_output_buffer(&mut kbc), None);
    }

    #[test]
    fn command_byte_read_write_and_interface_toggles() {
        let (mut kbc, _, _) = new_i8042();
        outb(&mut kbc, OFFSET_STATUS, 0x20);
        assert_eq!(read_output_buffer(&mut kbc), Some(0x45));
        write_command_byte(&mut kbc, 0x47);
        outb(&mut kbc, OFFSET_STATUS, 0xA7); // aux off
        outb(&mut kbc, OFFSET_STATUS, 0xAD); // keyboard off
        outb(&mut kbc, OFFSET_STATUS, 0x20);
        assert_eq!(read_output_buffer(&mut kbc), Some(0x77));
        outb(&mut kbc, OFFSET_STATUS, 0x7F); // RAM byte 31
        outb(&mut kbc, OFFSET_DATA, 0x5A);
        outb(&mut kbc, OFFSET_STATUS, 0x3F);
        assert_eq!(read_output_buffer(&mut kbc), Some(0x5A));
    }

    #[test]
    fn output_port_a20_and_reset_are_returned_as_events() {
        let (mut kbc, _, _) = new_i8042();
        assert!(!kbc.a20());
        write_output_port(&mut kbc, 0xDF);
        assert!(kbc.a20());
        assert_eq!(kbc.take_events(), vec![CpuLineEvent::A20(true)]);
        outb(&mut kbc, OFFSET_STATUS, 0xD0);
        assert_eq!(read_output_buffer(&mut kbc), Some(0xCF));
        outb(&mut kbc, OFFSET_STATUS, 0xDD);
        write_output_port(&mut kbc, 0xDC); // A20 unchanged, bit 0 low: reset
        assert_eq!(kbc.take_events(), vec![CpuLineEvent::A20(false), CpuLineEvent::Reset]);
        outb(&mut kbc, OFFSET_STATUS, 0xFE); // pulse reset
        outb(&mut kbc, OFFSET_STATUS, 0xFF); // pulse nothing
        assert_eq!(kbc.take_events(), vec![CpuLineEvent::Reset]);
        assert!(kbc.take_events().is_empty());
    }

    #[test]
    fn keyboard_reset_identify_leds_echo() {
        let (mut kbc, _, _) = new_i8042();
        assert_eq!(keyboard_exchange(&mut kbc, &[0xFF]), vec![0xFA, 0xAA]);
        assert_eq!(keyboard_exchange(&mut kbc, &[0xF2]), vec![0xFA, 0xAB, 0x83]);
        assert_eq!(keyboard_exchange(&mut kbc, &[0xED, 0x07]), vec![0xFA, 0xFA]);
        assert_eq!(kbc.keyboard_leds(), 0x07);
        assert_eq!(keyboard_exchange(&mut kbc, &[0xEE]), vec![0xEE]);
        assert_eq!(keyboard_exchange(&mut kbc, &[0xF4]), vec![0xFA]);
    }

    #[test]
    fn scancodes_raise_irq1_with_a_low_gap_between_bytes() {
        let (mut kbc, irq1, irq12) = new_i8042();
        assert!(kbc.push_scancodes(&[0x1E, 0x9E])); // 'a' make, break
        assert!(irq1.level());
        assert_eq!(inb(&mut kbc, OFFSET_DATA), 0x1E);
        assert!(!irq1.level());
        assert_eq!(inb(&mut kbc, OFFSET_STATUS) & 0x01, 0x01, "next byte ready");
        let now = Ticks(5_000);
        kbc.advance(now);
        assert_eq!(kbc.next_deadline(), Some(now), "raise the line right away");
        assert!(!irq1.level(), "this round shows the PIC the low line");
        kbc.advance(now);
        assert!(irq1.level());
        assert_eq!(kbc.next_deadline(), None);
        assert_eq!(inb(&mut kbc, OFFSET_DATA), 0x9E);
        assert_eq!(irq1.changes(), vec![true, false, true, false]);
        assert!(irq12.changes().is_empty());
    }

    #[test]
    fn disabled_keyboard_interface_holds_scancodes() {
        let (mut kbc, irq1, _) = new_i8042();
        outb(&mut kbc, OFFSET_STATUS, 0xAD);
        kbc.push_scancodes(&[0x1C]);
        assert!(!irq1.level());
        outb(&mut kbc, OFFSET_STATUS, 0xAE);
        assert!(irq1.level());
        assert_eq!(inb(&mut kbc, OFFSET_DATA), 0x1C);
    }

    #[test]
    fn aux_loopback_and_absent_mouse() {
        let (mut kbc, irq1, irq12) = new_i8042();
        write_command_byte(&mut kbc, 0x47); // both IRQs
        outb(&mut kbc, OFFSET_STATUS, 0xD3); // aux loopback
        outb(&mut kbc, OFFSET_DATA, 0x5A);
        assert!(irq12.level() && !irq1.level());
        assert_eq!(inb(&mut kbc, OFFSET_STATUS) & 0x21, 0x21, "OBF from aux");
        assert_eq!(inb(&mut kbc, OFFSET_DATA), 0x5A);
        outb(&mut kbc, OFFSET_STATUS, 0xD4); // to the mouse: get ID
        outb(&mut kbc, OFFSET_DATA, 0xF2);
        assert_eq!(inb(&mut kbc, OFFSET_STATUS) & 0x61, 0x61, "timeout, aux");
        assert_eq!(inb(&mut kbc, OFFSET_DATA), 0xFE);
        assert_eq!(inb(&mut kbc, OFFSET_STATUS) & 0x40, 0, "timeout went");
    }

    #[test]
    fn d2_writes_a_keyboard_byte_and_a2_tracks_last_port() {
        let (mut kbc, irq1, _) = new_i8042();
        outb(&mut kbc, OFFSET_STATUS, 0xD2);
        outb(&mut kbc, OFFSET_DATA, 0x3B);
        assert!(irq1.level());
        assert_eq!(inb(&mut kbc, OFFSET_STATUS) & 0x08, 0, "last write was data");
        assert_eq!(inb(&mut kbc, OFFSET_DATA), 0x3B);
    }

    #[test]
    fn wrong_offsets_and_sizes() {
        let (mut kbc, _, _) = new_i8042();
        assert_eq!(PortDevice::read(&mut kbc, 1, AccessSize::Byte), 0xFF);
        assert_eq!(PortDevice::read(&mut kbc, OFFSET_DATA, AccessSize::Word), 0xFFFF);
        PortDevice::write(&mut kbc, OFFSET_STATUS, AccessSize::Word, 0xFE);
        assert!(kbc.take_events().is_empty());
    }
}
