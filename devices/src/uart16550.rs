//! National Semiconductor PC16550D UART (COM1-COM4 on a PC), eight
//! registers at offsets 0-7 from the base port.
//!
//! Datasheet: PC16550D Universal Asynchronous Receiver/Transmitter with FIFOs
//! (National/TI SNLS378). PC wiring: the INTR output reaches the ISA IRQ line
//! only while MCR OUT2 is set (and never in loopback, where OUT2 is forced
//! inactive); the modem inputs of an unconnected port read as carrier, DSR
//! and CTS present.
//!
//! Modelled: RBR/THR, IER, IIR with the datasheet's priority order (line
//! status > received data / character timeout > THR empty > modem status),
//! FCR (16-byte receive FIFO, trigger levels 1/4/8/14, resets), LCR and the
//! divisor latch (DLAB), MCR including loopback, LSR, MSR with delta bits,
//! SCR. Transmission is instantaneous: a THR byte goes straight to the sink,
//! so THRE and TEMT are always set and the THR-empty interrupt re-arms after
//! every THR write and on every IER write that enables it. Reading IIR while
//! it reports THR empty clears that interrupt.
//!
//! Not modelled: baud-rate timing, parity/framing/break errors (no real line),
//! DMA mode signalling. The character-timeout interrupt is raised at once
//! for a non-empty FIFO below its trigger level, since no bit time elapses.

use std::collections::VecDeque;
use std::io::Write;

use bitflags::bitflags;

use crate::bus::{AccessSize, PortDevice};
use crate::irq::IrqLine;

/// Receiver buffer (read, DLAB = 0).
pub const REG_RBR: u16 = 0;
/// Transmitter holding register (write, DLAB = 0).
pub const REG_THR: u16 = 0;
/// Divisor latch, low byte (DLAB = 1).
pub const REG_DLL: u16 = 0;
/// Interrupt enable register (DLAB = 0).
pub const REG_IER: u16 = 1;
/// Divisor latch, high byte (DLAB = 1).
pub const REG_DLM: u16 = 1;
/// Interrupt identification register (read).
pub const REG_IIR: u16 = 2;
/// FIFO control register (write).
pub const REG_FCR: u16 = 2;
/// Line control register.
pub const REG_LCR: u16 = 3;
/// Modem control register.
pub const REG_MCR: u16 = 4;
/// Line status register.
pub const REG_LSR: u16 = 5;
/// Modem status register.
pub const REG_MSR: u16 = 6;
/// Scratch register.
pub const REG_SCR: u16 = 7;

/// Depth of the receive FIFO.
pub const FIFO_SIZE: usize = 16;

bitflags! {
    /// Interrupt enable register bits.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct Ier: u8 {
        /// Received data available (and character timeout).
        const RECEIVED_DATA = 0x01;
        /// Transmitter holding register empty.
        const THR_EMPTY = 0x02;
        /// Receiver line status (overrun, parity, framing, break).
        const LINE_STATUS = 0x04;
        /// Modem status (any MSR delta bit).
        const MODEM_STATUS = 0x08;
    }

    /// Modem control register bits.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct Mcr: u8 {
        /// Data terminal ready.
        const DTR = 0x01;
        /// Request to send.
        const RTS = 0x02;
        /// User output 1.
        const OUT1 = 0x04;
        /// User output 2: gates INTR onto the ISA IRQ line on a PC.
        const OUT2 = 0x08;
        /// Local loopback.
        const LOOP = 0x10;
    }

    /// Line status register bits.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct Lsr: u8 {
        /// Data ready: the receiver holds at least one byte.
        const DATA_READY = 0x01;
        /// Overrun error: a byte arrived with the receiver full.
        const OVERRUN = 0x02;
        /// Parity error.
        const PARITY = 0x04;
        /// Framing error.
        const FRAMING = 0x08;
        /// Break interrupt.
        const BREAK = 0x10;
        /// Transmitter holding register empty.
        const THR_EMPTY = 0x20;
        /// Transmitter empty (THR and shift register).
        const TX_EMPTY = 0x40;
        /// Error in receiver FIFO.
        const FIFO_ERROR = 0x80;
    }

    /// Modem status register bits.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct Msr: u8 {
        /// Delta clear to send.
        const DELTA_CTS = 0x01;
        /// Delta data set ready.
        const DELTA_DSR = 0x02;
        /// Trailing edge ring indicator.
        const TRAILING_RI = 0x04;
        /// Delta data carrier detect.
        const DELTA_DCD = 0x08;
        /// Clear to send.
        const CTS = 0x10;
        /// Data set ready.
        const DSR = 0x20;
        /// Ring indicator.
        const RI = 0x40;
        /// Data carrier detect.
        const DCD = 0x80;
    }
}

/// IIR: no interrupt pending.
const IIR_NONE: u8 = 0x01;
/// IIR: modem status (priority 4).
const IIR_MODEM_STATUS: u8 = 0x00;
/// IIR: THR empty (priority 3).
const IIR_THR_EMPTY: u8 = 0x02;
/// IIR: received data available (priority 2).
const IIR_RECEIVED_DATA: u8 = 0x04;
/// IIR: receiver line status (priority 1).
const IIR_LINE_STATUS: u8 = 0x06;
/// IIR: character timeout (priority 2).
const IIR_CHAR_TIMEOUT: u8 = 0x0C;
/// IIR bits 7-6: FIFOs enabled.
const IIR_FIFOS_ENABLED: u8 = 0xC0;
/// FCR: enable FIFOs.
const FCR_ENABLE: u8 = 0x01;
/// FCR: clear the receive FIFO.
const FCR_CLEAR_RX: u8 = 0x02;
/// FCR: DMA mode select (stored only).
const FCR_DMA_MODE: u8 = 0x08;
/// FCR bits 7-6: receive trigger level (1, 4, 8, 14 bytes).
const FCR_TRIGGER_SHIFT: u8 = 6;
/// Receive FIFO trigger levels by FCR bits 7-6.
const RX_TRIGGER_LEVELS: [usize; 4] = [1, 4, 8, 14];
/// LCR: divisor latch access bit.
const LCR_DLAB: u8 = 0x80;
/// MSR bits that reading MSR clears.
const MSR_DELTAS: Msr = Msr::DELTA_CTS
    .union(Msr::DELTA_DSR)
    .union(Msr::TRAILING_RI)
    .union(Msr::DELTA_DCD);
/// Modem inputs of a port with nothing driving them: a null-modem host.
const MSR_LINES_IDLE: Msr = Msr::DCD.union(Msr::DSR).union(Msr::CTS);
/// Divisor a PC BIOS leaves in place: 115200 / 12 = 9600 baud.
const DEFAULT_DIVISOR: u16 = 12;

/// A 16550 UART transmitting into `W` and signalling on an IRQ line.
pub struct Uart16550<W: Write> {
    sink: W,
    irq: Box<dyn IrqLine>,
    irq_level: bool,
    ier: Ier,
    lcr: u8,
    mcr: Mcr,
    /// Sticky error bits of LSR.
    lsr_errors: Lsr,
    msr: Msr,
    scr: u8,
    divisor: u16,
    fcr: u8,
    rx: VecDeque<u8>,
    /// Last byte read from RBR (what an empty RBR reads as).
    last_rx: u8,
    thr_empty_pending: bool,
}

impl<W: Write> Uart16550<W> {
    /// A UART in its reset state, sending transmitted bytes to `sink` and
    /// driving `irq` (the PC's COM IRQ, gated by MCR OUT2).
    pub fn new(sink: W, irq: Box<dyn IrqLine>) -> Self {
        Uart16550 {
            sink,
            irq,
            irq_level: false,
            ier: Ier::empty(),
            lcr: 0,
            mcr: Mcr::empty(),
            lsr_errors: Lsr::empty(),
            msr: MSR_LINES_IDLE,
            scr: 0,
            divisor: DEFAULT_DIVISOR,
            fcr: 0,
            rx: VecDeque::with_capacity(FIFO_SIZE),
            last_rx: 0,
            thr_empty_pending: false,
        }
    }

    /// The transmit sink (for the machine to flush).
    pub fn sink_mut(&mut self) -> &mut W {
        &mut self.sink
    }

    /// The transmit sink.
    pub fn sink(&self) -> &W {
        &self.sink
    }

    /// Push received bytes from the line; returns how many were taken. Bytes
    /// beyond the free space are left to the caller (flow control) rather
    /// than overrunning; in loopback the line input is disconnected.
    pub fn enqueue_rx(&mut self, bytes: &[u8]) -> usize {
        if self.mcr.contains(Mcr::LOOP) {
            return 0;
        }
        let taken = bytes.len().min(self.rx_capacity() - self.rx.len());
        self.rx.extend(&bytes[..taken]);
        self.update_irq();
        taken
    }

    /// Whether [`Self::enqueue_rx`] would take at least one byte now.
    pub fn rx_has_room(&self) -> bool {
        !self.mcr.contains(Mcr::LOOP) && self.rx.len() < self.rx_capacity()
    }

    /// Divisor latch value (baud = 115200 / divisor).
    pub fn divisor(&self) -> u16 {
        self.divisor
    }

    fn dlab(&self) -> bool {
        self.lcr & LCR_DLAB != 0
    }

    fn fifo_enabled(&self) -> bool {
        self.fcr & FCR_ENABLE != 0
    }

    fn rx_capacity(&self) -> usize {
        if self.fifo_enabled() {
            FIFO_SIZE
        } else {
            1
        }
    }

    /// A byte arriving at the receiver (from loopback).
    fn receive(&mut self, byte: u8) {
        if self.rx.len() < self.rx_capacity() {
            self.rx.push_back(byte);
        } else {
            self.lsr_errors |= Lsr::OVERRUN;
        }
    }

    /// The highest-priority pending interrupt, as IIR bits 3-0.
    fn interrupt_id(&self) -> u8 {
        if self.ier.contains(Ier::LINE_STATUS) && !self.lsr_errors.is_empty() {
            IIR_LINE_STATUS
        } else if self.ier.contains(Ier::RECEIVED_DATA) && !self.rx.is_empty() {
            let trigger = RX_TRIGGER_LEVELS[usize::from(self.fcr >> FCR_TRIGGER_SHIFT)];
            if self.fifo_enabled() && self.rx.len() < trigger {
                IIR_CHAR_TIMEOUT
            } else {
                IIR_RECEIVED_DATA
            }
        } else if self.ier.contains(Ier::THR_EMPTY) && self.thr_empty_pending {
            IIR_THR_EMPTY
        } else if self.ier.contains(Ier::MODEM_STATUS) && self.msr.intersects(MSR_DELTAS) {
            IIR_MODEM_STATUS
        } else {
            IIR_NONE
        }
    }

    fn update_irq(&mut self) {
        let gated = self.mcr.contains(Mcr::OUT2) && !self.mcr.contains(Mcr::LOOP);
        let level = gated && self.interrupt_id() != IIR_NONE;
        if level != self.irq_level {
            self.irq_level = level;
            self.irq.set_level(level);
        }
    }

    /// Modem inputs as the MSR sees them: the MCR outputs in loopback.
    fn modem_inputs(&self) -> Msr {
        if !self.mcr.contains(Mcr::LOOP) {
            return MSR_LINES_IDLE;
        }
        let mut lines = Msr::empty();
        lines.set(Msr::CTS, self.mcr.contains(Mcr::RTS));
        lines.set(Msr::DSR, self.mcr.contains(Mcr::DTR));
        lines.set(Msr::RI, self.mcr.contains(Mcr::OUT1));
        lines.set(Msr::DCD, self.mcr.contains(Mcr::OUT2));
        lines
    }

    fn write_mcr(&mut self, value: u8) {
        let old = self.msr;
        self.mcr = Mcr::from_bits_truncate(value);
        let new = self.modem_inputs();
        let changed = old ^ new;
        let mut deltas = old & MSR_DELTAS;
        for (line, delta) in [
            (Msr::CTS, Msr::DELTA_CTS),
            (Msr::DSR, Msr::DELTA_DSR),
            (Msr::DCD, Msr::DELTA_DCD),
        ] {
            if changed.contains(line) {
                deltas |= delta;
            }
        }
        if old.contains(Msr::RI) && !new.contains(Msr::RI) {
            deltas |= Msr::TRAILING_RI;
        }
        self.msr = deltas | new;
    }

    fn write_fcr(&mut self, value: u8) {
        if (value ^ self.fcr) & FCR_ENABLE != 0 {
            // Switching the FIFOs on or off empties them.
            self.rx.clear();
        }
        if value & FCR_ENABLE == 0 {
            // Other FCR bits are only programmed while bit 0 is set.
            self.fcr = 0;
            return;
        }
        if value & FCR_CLEAR_RX != 0 {
            self.rx.clear();
        }
        self.fcr = value & (FCR_ENABLE | FCR_DMA_MODE | (3 << FCR_TRIGGER_SHIFT));
    }

    fn read_register(&mut self, offset: u16) -> u8 {
        match offset {
            REG_RBR if self.dlab() => self.divisor.to_le_bytes()[0],
            REG_RBR => {
                if let Some(byte) = self.rx.pop_front() {
                    self.last_rx = byte;
                }
                self.last_rx
            }
            REG_IER if self.dlab() => self.divisor.to_le_bytes()[1],
            REG_IER => self.ier.bits(),
            REG_IIR => {
                let id = self.interrupt_id();
                if id == IIR_THR_EMPTY {
                    self.thr_empty_pending = false;
                }
                if self.fifo_enabled() {
                    id | IIR_FIFOS_ENABLED
                } else {
                    id
                }
            }
            REG_LCR => self.lcr,
            REG_MCR => self.mcr.bits(),
            REG_LSR => {
                let mut lsr = self.lsr_errors | Lsr::THR_EMPTY | Lsr::TX_EMPTY;
                lsr.set(Lsr::DATA_READY, !self.rx.is_empty());
                self.lsr_errors = Lsr::empty();
                lsr.bits()
            }
            REG_MSR => {
                let msr = self.msr;
                self.msr &= !MSR_DELTAS;
                msr.bits()
            }
            REG_SCR => self.scr,
            _ => 0xFF,
        }
    }

    fn write_register(&mut self, offset: u16, value: u8) {
        match offset {
            REG_THR if self.dlab() => self.divisor = self.divisor & 0xFF00 | u16::from(value),
            REG_THR => {
                if self.mcr.contains(Mcr::LOOP) {
                    self.receive(value);
                } else {
                    // A host-side write error cannot be reported to the
                    // guest: the byte is lost on the wire, as on a real line.
                    let _ = self.sink.write_all(&[value]);
                }
                // The byte left THR at once, so THR is empty again.
                self.thr_empty_pending = true;
            }
            REG_IER if self.dlab() => {
                self.divisor = self.divisor & 0x00FF | u16::from(value) << 8;
            }
            REG_IER => {
                self.ier = Ier::from_bits_truncate(value);
                // Enabling ETBEI with THR empty raises the interrupt.
                self.thr_empty_pending = self.ier.contains(Ier::THR_EMPTY);
            }
            REG_FCR => self.write_fcr(value),
            REG_LCR => self.lcr = value,
            REG_MCR => self.write_mcr(value),
            REG_SCR => self.scr = value,
            // LSR and MSR writes are factory test modes: ignored.
            _ => {}
        }
    }
}

impl<W: Write> PortDevice for Uart16550<W> {
    /// Byte reads at offsets 0-7; other sizes read as all-ones.
    fn read(&mut self, offset: u16, size: AccessSize) -> u32 {
        if size != AccessSize::Byte {
            return size.mask();
        }
        let value = self.read_register(offset);
        self.update_irq();
        u32::from(value)
    }

    /// Byte writes at offsets 0-7; other sizes are ignored.
    fn write(&mut self, offset: u16, size: AccessSize, value: u32) {
        if size != AccessSize::Byte {
            return;
        }
        self.write_register(offset, value.to_le_bytes()[0]);
        self.update_irq();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::irq::TestLine;

    type TestUart = Uart16550<Vec<u8>>;

    fn new_uart() -> (TestUart, TestLine) {
        let line = TestLine::new();
        (Uart16550::new(Vec::new(), line.boxed()), line)
    }

    fn outb(uart: &mut TestUart, offset: u16, value: u8) {
        PortDevice::write(uart, offset, AccessSize::Byte, u32::from(value));
    }

    fn inb(uart: &mut TestUart, offset: u16) -> u8 {
        PortDevice::read(uart, offset, AccessSize::Byte) as u8
    }

    /// LCR DLAB, divisor low/high, then LCR 8N1 (what every driver does).
    fn set_baud_8n1(uart: &mut TestUart, divisor: u16) {
        outb(uart, REG_LCR, 0x80);
        outb(uart, REG_DLL, divisor.to_le_bytes()[0]);
        outb(uart, REG_DLM, divisor.to_le_bytes()[1]);
        outb(uart, REG_LCR, 0x03);
    }

    /// MCR DTR | RTS | OUT2: the PC's "interrupts on" setting.
    fn mcr_enable_irq(uart: &mut TestUart) {
        outb(uart, REG_MCR, 0x0B);
    }

    #[test]
    fn dlab_switches_offsets_0_and_1_to_the_divisor() {
        let (mut uart, _) = new_uart();
        outb(&mut uart, REG_IER, 0x01);
        set_baud_8n1(&mut uart, 0x0301);
        assert_eq!(uart.divisor(), 0x0301);
        assert_eq!(inb(&mut uart, REG_IER), 0x01, "IER untouched");
        outb(&mut uart, REG_LCR, 0x83);
        assert_eq!(inb(&mut uart, REG_DLL), 0x01);
        assert_eq!(inb(&mut uart, REG_DLM), 0x03);
        assert!(uart.sink().is_empty(), "DLL write is not a THR write");
    }

    #[test]
    fn thr_bytes_reach_the_sink_and_lsr_shows_empty() {
        let (mut uart, _) = new_uart();
        set_baud_8n1(&mut uart, 1);
        for &b in b"OK\n" {
            outb(&mut uart, REG_THR, b);
        }
        assert_eq!(uart.sink(), b"OK\n");
        assert_eq!(inb(&mut uart, REG_LSR), 0x60);
    }

    #[test]
    fn thre_interrupt_arms_on_ier_write_and_iir_read_clears_it() {
        let (mut uart, line) = new_uart();
        mcr_enable_irq(&mut uart);
        outb(&mut uart, REG_IER, 0x02);
        assert!(line.level());
        assert_eq!(inb(&mut uart, REG_IIR), 0x02);
        assert!(!line.level());
        assert_eq!(inb(&mut uart, REG_IIR), 0x01);
        outb(&mut uart, REG_IER, 0x02); // re-arm, as Linux's THRE test does
        assert_eq!(inb(&mut uart, REG_IIR), 0x02);
        outb(&mut uart, REG_THR, b'x');
        assert!(line.level(), "THR empties at once");
    }

    #[test]
    fn received_data_outranks_thre_and_reading_rbr_clears_it() {
        let (mut uart, line) = new_uart();
        mcr_enable_irq(&mut uart);
        outb(&mut uart, REG_IER, 0x03);
        assert_eq!(uart.enqueue_rx(b"ab"), 1, "no FIFO: one byte of room");
        assert_eq!(inb(&mut uart, REG_IIR), 0x04);
        assert_eq!(inb(&mut uart, REG_LSR) & 0x01, 0x01);
        assert_eq!(inb(&mut uart, REG_RBR), b'a');
        assert_eq!(inb(&mut uart, REG_IIR), 0x02);
        assert_eq!(inb(&mut uart, REG_IIR), 0x01);
        assert!(!line.level());
        assert_eq!(inb(&mut uart, REG_RBR), b'a', "empty RBR holds last byte");
    }

    #[test]
    fn out2_gates_the_irq_line() {
        let (mut uart, line) = new_uart();
        outb(&mut uart, REG_IER, 0x02);
        assert!(!line.level());
        assert_eq!(inb(&mut uart, REG_IIR), 0x02, "pending, just not routed");
        outb(&mut uart, REG_IER, 0x02);
        mcr_enable_irq(&mut uart);
        assert!(line.level());
    }

    #[test]
    fn loopback_returns_thr_bytes_and_maps_modem_lines() {
        let (mut uart, line) = new_uart();
        outb(&mut uart, REG_MCR, 0x1A); // loop + OUT2 + RTS, Linux's probe
        assert_eq!(inb(&mut uart, REG_MSR) & 0xF0, 0x90);
        outb(&mut uart, REG_THR, 0x5A);
        assert!(uart.sink().is_empty());
        assert!(!uart.rx_has_room());
        assert_eq!(uart.enqueue_rx(b"z"), 0, "line input disconnected");
        outb(&mut uart, REG_IER, 0x01);
        assert!(!line.level(), "OUT2 is forced inactive in loopback");
        assert_eq!(inb(&mut uart, REG_RBR), 0x5A);
    }

    #[test]
    fn overrun_is_a_line_status_interrupt_of_top_priority() {
        let (mut uart, _) = new_uart();
        outb(&mut uart, REG_MCR, 0x10);
        outb(&mut uart, REG_IER, 0x07);
        outb(&mut uart, REG_THR, 1);
        outb(&mut uart, REG_THR, 2); // no FIFO: overruns the first
        assert_eq!(inb(&mut uart, REG_IIR), 0x06);
        assert_eq!(inb(&mut uart, REG_LSR), 0x63);
        assert_eq!(inb(&mut uart, REG_IIR), 0x04, "reading LSR cleared OE");
    }

    #[test]
    fn fifo_trigger_level_and_character_timeout() {
        let (mut uart, _) = new_uart();
        outb(&mut uart, REG_FCR, 0x87); // enable, clear both, trigger 8
        outb(&mut uart, REG_IER, 0x01);
        assert_eq!(uart.enqueue_rx(b"abc"), 3);
        assert_eq!(inb(&mut uart, REG_IIR), 0xCC, "below trigger: timeout");
        uart.enqueue_rx(b"defgh");
        assert_eq!(inb(&mut uart, REG_IIR), 0xC4);
        assert_eq!(uart.enqueue_rx(&[0; 20]), 8);
        assert!(!uart.rx_has_room());
        outb(&mut uart, REG_FCR, 0x83); // clear receive FIFO
        assert_eq!(inb(&mut uart, REG_LSR) & 0x01, 0);
        outb(&mut uart, REG_FCR, 0x00);
        assert_eq!(inb(&mut uart, REG_IIR), 0x01, "FIFOs off: no C0 bits");
    }

    #[test]
    fn modem_status_interrupt_from_loopback_line_changes() {
        let (mut uart, _) = new_uart();
        outb(&mut uart, REG_IER, 0x08);
        outb(&mut uart, REG_MCR, 0x10); // loop: all inputs drop
        assert_eq!(inb(&mut uart, REG_IIR), 0x00);
        assert_eq!(inb(&mut uart, REG_MSR), 0x0B, "DCTS, DDSR, DDCD");
        assert_eq!(inb(&mut uart, REG_IIR), 0x01);
        outb(&mut uart, REG_MCR, 0x14); // OUT1 -> RI
        outb(&mut uart, REG_MCR, 0x10);
        assert_eq!(inb(&mut uart, REG_MSR), 0x04, "trailing edge of RI");
    }

    #[test]
    fn scratch_register_and_wrong_sizes() {
        let (mut uart, _) = new_uart();
        outb(&mut uart, REG_SCR, 0xA5);
        assert_eq!(inb(&mut uart, REG_SCR), 0xA5);
        PortDevice::write(&mut uart, REG_SCR, AccessSize::Word, 0x1234);
        assert_eq!(inb(&mut uart, REG_SCR), 0xA5);
        assert_eq!(
            PortDevice::read(&mut uart, REG_SCR, AccessSize::Word),
            0xFFFF
        );
        assert_eq!(inb(&mut uart, 9), 0xFF);
    }
}
