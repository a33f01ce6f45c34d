//! THE PC map: which device answers which I/O port and drives which IRQ,
//! with named constants. This is the only place a port number or an ISA
//! IRQ number appears outside tests.
//!
//! The wiring is a PC/AT with ISA devices only (QEMU's `-M isapc` is the
//! closest relative): two cascaded 8259As, an 8254, the i8042, an MC146818
//! RTC, two 16550A UARTs, VGA text, the QEMU-style debug ports. Devices see
//! offsets from their base port; 16- and 32-bit accesses to byte-wide
//! devices are split into consecutive byte accesses, as the ISA bus does.

use std::cell::RefCell;
use std::io::Write;
use std::rc::Rc;

use btvm_devices::ata::AtaChannel;
use btvm_devices::block::{BlockDevice, Geometry};
use btvm_devices::bus::PortDevice;
use btvm_devices::dma8237::Dma8237Pair;
use btvm_devices::fdc::Fdc82077;
use btvm_devices::irq::IrqLine;
use btvm_devices::{
    AccessSize, Cmos, CpuLineEvent, DebugConsole, DebugExit, IrqLevels, IrqPin, MmioDevice,
    Pic8259Pair, Pit8254, PostCode, SystemControlA, SystemControlB, Ticks, Timed, Uart16550,
    VgaText, I8042,
};

use super::clock::Clock;
use crate::platform::Platform;

/// 8259A master: command/status and data ports.
pub const PORT_PIC_MASTER: u16 = 0x20;
/// 8259A slave.
pub const PORT_PIC_SLAVE: u16 = 0xA0;
/// Edge/level control registers (ELCR) for IRQ 0-7 and 8-15.
pub const PORT_ELCR: u16 = 0x4D0;
/// 8254 PIT counters 0-2 and control word.
pub const PORT_PIT: u16 = 0x40;
/// System control port B: PIT gate 2, speaker, OUT 2.
pub const PORT_SYSTEM_CONTROL_B: u16 = 0x61;
/// i8042 data port (status/command at +4, 0x64).
pub const PORT_I8042: u16 = 0x60;
/// CMOS index (bit 7 masks NMI) and data.
pub const PORT_CMOS: u16 = 0x70;
/// POST diagnostic code port.
pub const PORT_POST: u16 = 0x80;
/// System control port A: fast A20 and reset.
pub const PORT_SYSTEM_CONTROL_A: u16 = 0x92;
/// Coprocessor busy latch: a write clears IRQ 13 (FERR#).
pub const PORT_FPU_CLEAR_BUSY: u16 = 0xF0;
/// Bochs/QEMU debug console: bytes written appear on the console.
pub const PORT_DEBUG_CONSOLE: u16 = 0xE9;
/// QEMU isa-debug-exit (as configured with iobase=0xf4): a write of v exits
/// with status (v << 1) | 1.
pub const PORT_DEBUG_EXIT: u16 = 0xF4;
/// COM1 base port.
pub const PORT_COM1: u16 = 0x3F8;
/// COM2 base port.
pub const PORT_COM2: u16 = 0x2F8;
/// First VGA register port (MDA/CGA/VGA range 0x3B0-0x3DF).
pub const PORT_VGA: u16 = 0x3B0;
/// Last VGA register port.
pub const PORT_VGA_END: u16 = 0x3DF;
/// Legacy VGA memory window.
pub const VGA_WINDOW: u32 = 0xA0000;
/// 8237 DMA controller 1 (8-bit channels 0-3): ports 0x00-0x0F.
pub const PORT_DMA1: u16 = 0x00;
/// DMA page registers 0x81-0x8F (0x80 is the POST port, not a page).
pub const PORT_DMA_PAGE: u16 = 0x80;
/// 8237 DMA controller 2 (16-bit channels 4-7): ports 0xC0-0xDF, even.
pub const PORT_DMA2: u16 = 0xC0;
/// Primary ATA channel command block (data port 16/32-bit wide).
pub const PORT_ATA0: u16 = 0x1F0;
/// Primary ATA channel control block: alternate status / device control.
pub const PORT_ATA0_CONTROL: u16 = 0x3F6;
/// Floppy controller 82077AA: 0x3F0-0x3F5 and 0x3F7 (0x3F6 is the ATA's).
pub const PORT_FDC: u16 = 0x3F0;
/// The built-in BIOS's trap port: its ROM stubs write here and the machine
/// runs the Rust service for the stub's address (see `bios/`).
pub const PORT_BIOS_TRAP: u16 = 0xE5;

/// IRQ 0: PIT counter 0.
pub const IRQ_PIT: u8 = 0;
/// IRQ 1: keyboard.
pub const IRQ_KEYBOARD: u8 = 1;
/// IRQ 3: COM2.
pub const IRQ_COM2: u8 = 3;
/// IRQ 4: COM1.
pub const IRQ_COM1: u8 = 4;
/// IRQ 8: RTC.
pub const IRQ_RTC: u8 = 8;
/// IRQ 12: PS/2 mouse (the i8042's AUX port).
pub const IRQ_MOUSE: u8 = 12;
/// IRQ 6: floppy controller.
pub const IRQ_FLOPPY: u8 = 6;
/// IRQ 13: FPU error (FERR#) when CR0.NE = 0.
pub const IRQ_FPU: u8 = 13;
/// IRQ 14: primary ATA channel.
pub const IRQ_ATA0: u8 = 14;

/// Console output shared by COM1 and the debug console: buffered here and
/// written out when the machine flushes (at least once per run-loop turn).
#[derive(Clone)]
pub struct ConsoleOut(Rc<RefCell<ConsoleBuffer>>);

struct ConsoleBuffer {
    pending: Vec<u8>,
    out: Box<dyn Write>,
    /// `--exit-on-serial`: the text to watch for, how much of it matched so
    /// far, and whether it was seen.
    marker: Vec<u8>,
    matched: usize,
    marker_seen: bool,
}

impl ConsoleOut {
    /// Console output into `out`.
    pub fn new(out: Box<dyn Write>) -> Self {
        ConsoleOut(Rc::new(RefCell::new(ConsoleBuffer {
            pending: Vec::new(),
            out,
            marker: Vec::new(),
            matched: 0,
            marker_seen: false,
        })))
    }

    /// Watch the output for `text` ([`ConsoleOut::marker_seen`] turns true
    /// once it has been written).
    pub fn watch_for(&self, text: &[u8]) {
        let mut b = self.0.borrow_mut();
        b.marker = text.to_vec();
        b.matched = 0;
        b.marker_seen = text.is_empty();
    }

    /// Whether the watched-for text has appeared.
    pub fn marker_seen(&self) -> bool {
        let b = self.0.borrow();
        b.marker_seen && !b.marker.is_empty()
    }

    /// Write buffered bytes through and flush the sink.
    pub fn flush_through(&self) {
        let mut b = self.0.borrow_mut();
        if b.pending.is_empty() {
            return;
        }
        let pending = std::mem::take(&mut b.pending);
        // A console that went away (closed pipe) must not stop the guest.
        let _ = b.out.write_all(&pending);
        let _ = b.out.flush();
    }
}

impl Write for ConsoleOut {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let mut b = self.0.borrow_mut();
        b.pending.extend_from_slice(buf);
        if !b.marker.is_empty() && !b.marker_seen {
            for &c in buf {
                // Restart-on-mismatch matching; the markers are plain text
                // lines, where this is exact enough.
                b.matched = if b.marker[b.matched] == c {
                    b.matched + 1
                } else {
                    usize::from(b.marker[0] == c)
                };
                if b.matched == b.marker.len() {
                    b.marker_seen = true;
                    break;
                }
            }
        }
        if b.pending.len() >= 4096 {
            drop(b);
            self.flush_through();
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.flush_through();
        Ok(())
    }
}

/// An in-memory console sink: what the guest wrote, for tests and for
/// programs that embed a machine.
#[derive(Clone, Default)]
pub struct CaptureBuffer(Rc<RefCell<Vec<u8>>>);

impl CaptureBuffer {
    /// Everything written so far.
    pub fn contents(&self) -> Vec<u8> {
        self.0.borrow().clone()
    }

    /// Everything written so far, as lossy UTF-8.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.borrow()).into_owned()
    }
}

impl Write for CaptureBuffer {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(b);
        Ok(b.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// What the machine must do after device accesses (collected here and acted
/// on by the run loop: the devices never touch the CPU or memory).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PcRequests {
    /// The guest asked to exit with this status (debug-exit port).
    pub exit_status: Option<i32>,
    /// The CPU reset line was pulsed (i8042 0xFE, port 0x92 bit 0).
    pub reset: bool,
    /// The BIOS trap port was written: run the BIOS service.
    pub bios_trap: bool,
    /// The FDC or DMA controller was programmed: serve DMA requests.
    pub dma: bool,
}

/// The platform devices, their wiring and the clock they see.
pub struct Pc {
    /// Device time source.
    pub clock: Clock,
    /// Instructions retired when the CPU last touched a port (time base).
    icount: u64,
    /// ISA IRQ 0-15 levels as devices drive them.
    pub irq_levels: IrqLevels,
    irq_fpu: IrqPin,
    /// The cascaded 8259A pair.
    pub pic: Pic8259Pair,
    /// The 8254.
    pub pit: Pit8254,
    /// Port 0x61.
    pub port61: SystemControlB,
    /// Port 0x92.
    pub port92: SystemControlA,
    /// RTC + NVRAM.
    pub cmos: Cmos,
    /// Keyboard controller.
    pub kbc: I8042,
    /// COM1, the console.
    pub com1: Uart16550<ConsoleOut>,
    /// COM2, unconnected.
    pub com2: Uart16550<std::io::Sink>,
    /// VGA text adapter.
    pub vga: VgaText,
    /// Port 0x80.
    pub post: PostCode,
    /// Primary ATA channel (the hard disk).
    pub ata: AtaChannel,
    /// Floppy controller.
    pub fdc: Fdc82077,
    /// ISA DMA controllers.
    pub dma: Dma8237Pair,
    debug_exit: DebugExit,
    debug_console: DebugConsole<ConsoleOut>,
    console: ConsoleOut,
    requests: PcRequests,
    rtc_start: i64,
}

impl Pc {
    /// A powered-on PC whose console (COM1 and port 0xE9) writes to
    /// `console`, with the RTC starting at `rtc_start` (Unix seconds).
    pub fn new(clock: Clock, console: ConsoleOut, rtc_start: i64) -> Self {
        Self::with_irq_levels(IrqLevels::new(), clock, console, rtc_start)
    }

    /// The PC after a reset of `old`: every device in its power-on state
    /// except the disk controllers, which keep their media (and whatever
    /// state the guest left them in; guests reinitialise them).
    pub fn after_reset(old: Pc) -> Self {
        let rtc = old.rtc_now_unix();
        let levels = old.irq_levels.clone();
        for irq in (0..16).filter(|&i| i != IRQ_FLOPPY && i != IRQ_ATA0) {
            levels.pin(irq).set_level(false);
        }
        let mut pc = Self::with_irq_levels(levels, old.clock, old.console, rtc);
        pc.ata = old.ata;
        pc.fdc = old.fdc;
        pc
    }

    fn with_irq_levels(
        irq_levels: IrqLevels,
        clock: Clock,
        console: ConsoleOut,
        rtc_start: i64,
    ) -> Self {
        let pin = |irq: u8| -> Box<dyn IrqLine> { Box::new(irq_levels.pin(irq)) };
        Pc {
            clock,
            icount: 0,
            irq_fpu: irq_levels.pin(IRQ_FPU),
            pic: Pic8259Pair::new(),
            pit: Pit8254::new(pin(IRQ_PIT)),
            port61: SystemControlB::new(),
            port92: SystemControlA::new(),
            cmos: Cmos::new(rtc_start, pin(IRQ_RTC)),
            kbc: I8042::new(pin(IRQ_KEYBOARD), pin(IRQ_MOUSE)),
            com1: Uart16550::new(console.clone(), pin(IRQ_COM1)),
            com2: Uart16550::new(std::io::sink(), pin(IRQ_COM2)),
            vga: VgaText::new(),
            post: PostCode::new(),
            ata: AtaChannel::new(None, pin(IRQ_ATA0)),
            fdc: Fdc82077::new(pin(IRQ_FLOPPY)),
            dma: Dma8237Pair::new(),
            debug_exit: DebugExit::new(),
            debug_console: DebugConsole::new(console.clone()),
            console,
            irq_levels,
            requests: PcRequests::default(),
            rtc_start,
        }
    }

    /// The console output (to hand to a rebuilt PC on reset).
    pub fn console(&self) -> ConsoleOut {
        self.console.clone()
    }

    /// Whether the `--exit-on-serial` text has appeared on the console.
    pub fn serial_marker_seen(&self) -> bool {
        self.console.marker_seen()
    }

    /// Wall time as the RTC started counting it, in Unix seconds now.
    pub fn rtc_now_unix(&self) -> i64 {
        self.rtc_start + (self.now().as_nanos() / 1_000_000_000) as i64
    }

    /// Record the RAM size in the CMOS memory-size bytes.
    pub fn cmos_set_memory_size(&mut self, ram_bytes: u32) {
        self.cmos.set_memory_size(u64::from(ram_bytes));
    }

    /// Record drive `drive`'s floppy type in CMOS (byte 0x10; high nibble A:)
    /// and the floppy count in the equipment byte (0x14).
    pub fn cmos_set_floppy_type(&mut self, drive: usize, geometry: Option<Geometry>) {
        use btvm_devices::nvram_layout::{NVRAM_EQUIPMENT, NVRAM_FLOPPY_TYPES};
        // AT CMOS drive types: 1 = 360K, 2 = 1.2M, 3 = 720K, 4 = 1.44M, 5 = 2.88M.
        let kind = match geometry.map(|g| g.total_sectors() * 512 / 1024) {
            None => 0,
            Some(0..=360) => 1,
            Some(720) => 3,
            Some(1200) => 2,
            Some(1440) => 4,
            Some(_) => 5,
        };
        let shift = if drive == 0 { 4 } else { 0 };
        let types = self.cmos.get_byte(NVRAM_FLOPPY_TYPES) & !(0xF << shift) | kind << shift;
        self.cmos.set_byte(NVRAM_FLOPPY_TYPES, types);
        let count = u8::from(types & 0xF0 != 0) + u8::from(types & 0x0F != 0);
        // Bit 0: floppies present; bits 7-6: count - 1; bits 5-4 = 00: VGA.
        let equipment = if count == 0 { 0 } else { 1 | (count - 1) << 6 };
        self.cmos.set_byte(NVRAM_EQUIPMENT, equipment);
        self.cmos.update_checksum();
    }

    /// Put a hard disk on the primary ATA channel (master) and record it in
    /// CMOS (type 0xF: "see byte 0x19", user type 47).
    pub fn attach_hard_disk(&mut self, disk: Box<dyn BlockDevice>) {
        use btvm_devices::nvram_layout::NVRAM_DISK_TYPES;
        self.ata = AtaChannel::new(Some(disk), Box::new(self.irq_levels.pin(IRQ_ATA0)));
        self.cmos.set_byte(NVRAM_DISK_TYPES, 0xF0);
        self.cmos.set_byte(0x19, 47);
        self.cmos.update_checksum();
    }

    /// Open the A20 gate as a boot loader would (port 0x92 bit 1).
    pub fn open_a20(&mut self) {
        PortDevice::write(&mut self.port92, 0, AccessSize::Byte, 0x02);
        self.port92.take_events();
    }

    /// The device time of the last synchronisation point.
    pub fn now(&self) -> Ticks {
        self.clock.now(self.icount)
    }

    /// Bring every timed device up to `now` and hand the IRQ levels to the
    /// PIC. A device may ask to be called again at once (the PIT replaying
    /// a pulse it stepped over so the PIC sees the edge): that happens here.
    pub fn advance(&mut self, now: Ticks) {
        for _ in 0..4 {
            self.pit.advance(now);
            self.cmos.advance(now);
            self.kbc.advance(now);
            self.fdc.advance(now);
            self.pic.set_irq_levels(self.irq_levels.get());
            if self.next_deadline().is_none_or(|d| d > now) {
                break;
            }
        }
    }

    /// The earliest time a device changes state by itself.
    pub fn next_deadline(&self) -> Option<Ticks> {
        [
            self.pit.next_deadline(),
            self.cmos.next_deadline(),
            self.kbc.next_deadline(),
            self.fdc.next_deadline(),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// Drive IRQ 13 from the FPU's error output (FERR#).
    pub fn set_fpu_error(&mut self, asserted: bool) {
        self.irq_fpu.set_level(asserted);
    }

    /// Requests made by devices since the last call.
    pub fn take_requests(&mut self) -> PcRequests {
        for e in self
            .kbc
            .take_events()
            .into_iter()
            .chain(self.port92.take_events())
        {
            if e == CpuLineEvent::Reset {
                self.requests.reset = true;
            }
        }
        if let Some(status) = self.debug_exit.take_exit() {
            self.requests.exit_status = Some(status);
        }
        std::mem::take(&mut self.requests)
    }

    /// The A20 gate: open when the keyboard controller or port 0x92 says so.
    pub fn a20(&self) -> bool {
        self.kbc.a20() || self.port92.a20()
    }

    /// Write buffered console output through to the host.
    pub fn flush(&mut self) {
        self.console.flush_through();
    }

    /// The last POST code written to port 0x80.
    pub fn post_code(&self) -> u8 {
        self.post.last().unwrap_or(0)
    }

    fn read_byte(&mut self, port: u16) -> u8 {
        let now = self.now();
        let b = AccessSize::Byte;
        let v = match port {
            0x20..=0x21 => u32::from(self.pic.read(0, port - PORT_PIC_MASTER)),
            0xA0..=0xA1 => u32::from(self.pic.read(1, port - PORT_PIC_SLAVE)),
            0x4D0..=0x4D1 => u32::from(self.pic.elcr_read(usize::from(port - PORT_ELCR))),
            0x40..=0x43 => u32::from(self.pit.read(port - PORT_PIT, now)),
            PORT_SYSTEM_CONTROL_B => u32::from(self.port61.read(now, &self.pit)),
            0x60 | 0x64 => {
                self.kbc.advance(now);
                self.kbc.read(port - PORT_I8042, b)
            }
            0x70..=0x71 => u32::from(self.cmos.read(port - PORT_CMOS, now)),
            0x00..=0x0F => u32::from(self.dma.read_primary(port - PORT_DMA1)),
            0x81..=0x8F => u32::from(self.dma.read_page(port - PORT_DMA_PAGE)),
            0xC0..=0xDF => u32::from(self.dma.read_secondary(port - PORT_DMA2)),
            0x1F0..=0x1F7 => self.ata.read(port - PORT_ATA0, b),
            PORT_ATA0_CONTROL => u32::from(self.ata.read_control()),
            0x3F0..=0x3F5 | 0x3F7 => u32::from(self.fdc.read(port - PORT_FDC, now)),
            PORT_POST => self.post.read(0, b),
            PORT_SYSTEM_CONTROL_A => self.port92.read(0, b),
            PORT_DEBUG_CONSOLE => self.debug_console.read(0, b),
            PORT_DEBUG_EXIT => self.debug_exit.read(0, b),
            0x3F8..=0x3FF => self.com1.read(port - PORT_COM1, b),
            0x2F8..=0x2FF => self.com2.read(port - PORT_COM2, b),
            PORT_VGA..=PORT_VGA_END => PortDevice::read(&mut self.vga, port - PORT_VGA, b),
            _ => 0xFF,
        };
        v as u8
    }

    fn write_byte(&mut self, port: u16, value: u8) {
        let now = self.now();
        let b = AccessSize::Byte;
        let v = u32::from(value);
        match port {
            0x20..=0x21 => self.pic.write(0, port - PORT_PIC_MASTER, value),
            0xA0..=0xA1 => self.pic.write(1, port - PORT_PIC_SLAVE, value),
            0x4D0..=0x4D1 => self.pic.elcr_write(usize::from(port - PORT_ELCR), value),
            0x40..=0x43 => self.pit.write(port - PORT_PIT, value, now),
            PORT_SYSTEM_CONTROL_B => self.port61.write(value, now, &mut self.pit),
            0x60 | 0x64 => {
                self.kbc.advance(now);
                self.kbc.write(port - PORT_I8042, b, v);
            }
            0x70..=0x71 => self.cmos.write(port - PORT_CMOS, value, now),
            0x00..=0x0F => self.dma.write_primary(port - PORT_DMA1, value),
            0x81..=0x8F => self.dma.write_page(port - PORT_DMA_PAGE, value),
            0xC0..=0xDF => self.dma.write_secondary(port - PORT_DMA2, value),
            0x1F0..=0x1F7 => self.ata.write(port - PORT_ATA0, b, v),
            PORT_ATA0_CONTROL => self.ata.write_control(value),
            0x3F0..=0x3F5 | 0x3F7 => self.fdc.write(port - PORT_FDC, value, now),
            PORT_BIOS_TRAP => self.requests.bios_trap = true,
            PORT_POST => self.post.write(0, b, v),
            PORT_SYSTEM_CONTROL_A => self.port92.write(0, b, v),
            PORT_FPU_CLEAR_BUSY => self.set_fpu_error(false),
            PORT_DEBUG_CONSOLE => self.debug_console.write(0, b, v),
            PORT_DEBUG_EXIT => self.debug_exit.write(0, b, v),
            0x3F8..=0x3FF => self.com1.write(port - PORT_COM1, b, v),
            0x2F8..=0x2FF => self.com2.write(port - PORT_COM2, b, v),
            PORT_VGA..=PORT_VGA_END => PortDevice::write(&mut self.vga, port - PORT_VGA, b, v),
            _ => {}
        }
    }

    /// The PIC watches its inputs all the time: hand it the IRQ levels as
    /// soon as a device access changed them, so that a line dropped by a
    /// read (UART IIR, i8042 data) and raised again later is an edge.
    /// Returns whether anything changed.
    fn sync_pic(&mut self, before: u16) -> bool {
        let now = self.irq_levels.get();
        if now != before {
            self.pic.set_irq_levels(now);
        }
        now != before
    }

    /// Ports whose writes can change what the run loop must do (interrupt
    /// state, exit and reset requests, the A20 gate).
    fn write_needs_attention(port: u16) -> bool {
        matches!(
            port,
            0x20..=0x21
                | 0xA0..=0xA1
                | 0x4D0..=0x4D1
                | 0x60
                | 0x64
                | PORT_SYSTEM_CONTROL_A
                | PORT_DEBUG_EXIT
                | PORT_FPU_CLEAR_BUSY
                | PORT_BIOS_TRAP
                | 0x00..=0x0F
                | 0x81..=0x8F
                | 0xC0..=0xDF
                | 0x3F0..=0x3F5
                | 0x3F7
        )
    }
}

impl Platform for Pc {
    fn sync(&mut self, icount: u64) {
        self.icount = icount;
    }

    fn io_read(&mut self, port: u16, size: AccessSize) -> u32 {
        let levels = self.irq_levels.get();
        let v = if port == PORT_ATA0 {
            self.ata.read(0, size)
        } else {
            // Byte-wide ISA devices: a wide access is consecutive byte accesses.
            (0..size.bytes()).fold(0, |acc, i| {
                acc | u32::from(self.read_byte(port.wrapping_add(i as u16))) << (8 * i)
            })
        };
        self.sync_pic(levels);
        v
    }

    fn io_write(&mut self, port: u16, size: AccessSize, value: u32) -> bool {
        let levels = self.irq_levels.get();
        if port == PORT_ATA0 {
            self.ata.write(0, size, value);
            return self.sync_pic(levels);
        }
        let mut attention = false;
        for i in 0..size.bytes() {
            let p = port.wrapping_add(i as u16);
            self.write_byte(p, (value >> (8 * i)) as u8);
            attention |= Self::write_needs_attention(p);
            if matches!(p, 0x00..=0x0F | 0x81..=0x8F | 0xC0..=0xDF | 0x3F0..=0x3F5 | 0x3F7) {
                self.requests.dma = true;
            }
        }
        self.sync_pic(levels) || attention
    }

    fn mmio_read(&mut self, addr: u32, size: AccessSize) -> u32 {
        match addr.checked_sub(VGA_WINDOW) {
            Some(off) if off < 0x20000 => MmioDevice::read(&mut self.vga, off, size),
            _ => size.mask(),
        }
    }

    fn mmio_write(&mut self, addr: u32, size: AccessSize, value: u32) -> bool {
        if let Some(off) = addr.checked_sub(VGA_WINDOW).filter(|&o| o < 0x20000) {
            MmioDevice::write(&mut self.vga, off, size, value);
        }
        false
    }

    fn time_ns(&mut self, icount: u64) -> u64 {
        self.clock.now(icount).as_nanos()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::machine::clock::ClockKind;

    fn pc() -> (Pc, CaptureBuffer) {
        let cap = CaptureBuffer::default();
        let pc = Pc::new(
            Clock::new(ClockKind::Virtual { mips: 100 }),
            ConsoleOut::new(Box::new(cap.clone())),
            0,
        );
        (pc, cap)
    }

    #[test]
    fn com1_and_debug_console_share_the_console() {
        let (mut pc, cap) = pc();
        pc.io_write(PORT_COM1, AccessSize::Byte, u32::from(b'a'));
        pc.io_write(PORT_DEBUG_CONSOLE, AccessSize::Byte, u32::from(b'b'));
        assert!(cap.contents().is_empty(), "buffered until flushed");
        pc.flush();
        assert_eq!(cap.contents(), b"ab");
    }

    #[test]
    fn debug_exit_is_a_request_and_needs_attention() {
        let (mut pc, _) = pc();
        assert!(pc.io_write(PORT_DEBUG_EXIT, AccessSize::Byte, 3));
        assert_eq!(pc.take_requests().exit_status, Some(7));
        assert_eq!(pc.take_requests(), PcRequests::default());
    }

    #[test]
    fn keyboard_controller_reset_pulse_is_a_request() {
        let (mut pc, _) = pc();
        pc.io_write(0x64, AccessSize::Byte, 0xFE);
        assert!(pc.take_requests().reset);
    }

    #[test]
    fn fast_a20_through_port_92() {
        let (mut pc, _) = pc();
        assert!(pc.a20(), "open at power-on");
        // Close it at the keyboard controller: command 0xD1, output port 0xDD.
        pc.io_write(0x64, AccessSize::Byte, 0xD1);
        pc.io_write(0x60, AccessSize::Byte, 0xDD);
        assert!(!pc.a20());
        assert!(pc.io_write(PORT_SYSTEM_CONTROL_A, AccessSize::Byte, 2));
        assert!(pc.a20());
    }

    #[test]
    fn word_access_to_byte_devices_is_split() {
        let (mut pc, _) = pc();
        // COM1 scratch register at +7 and nothing at +8 (0x400): reads 0xFF.
        pc.io_write(PORT_COM1 + 7, AccessSize::Byte, 0x5A);
        assert_eq!(pc.io_read(PORT_COM1 + 7, AccessSize::Word), 0xFF5A);
        // A word write to the PIC master's two ports programs both.
        pc.io_write(PORT_PIC_MASTER, AccessSize::Byte, 0x11); // ICW1
        pc.io_write(PORT_PIC_MASTER + 1, AccessSize::Byte, 0x08); // ICW2
        pc.io_write(PORT_PIC_MASTER + 1, AccessSize::Byte, 0x04); // ICW3
        pc.io_write(PORT_PIC_MASTER + 1, AccessSize::Byte, 0x01); // ICW4
        pc.io_write(PORT_PIC_MASTER + 1, AccessSize::Byte, 0xFE); // mask all but IRQ 0
        assert_eq!(pc.io_read(PORT_PIC_MASTER + 1, AccessSize::Byte), 0xFE);
    }

    #[test]
    fn pit_interrupt_reaches_the_pic_at_its_deadline() {
        let (mut pc, _) = pc();
        for (p, v) in [
            (0x20, 0x11),
            (0x21, 0x08),
            (0x21, 0x04),
            (0x21, 0x01),
            (0x21, 0x00),
        ] {
            pc.io_write(p, AccessSize::Byte, v);
        }
        // Counter 0, lobyte/hibyte, mode 2, divisor 1193 (~1 ms).
        pc.io_write(0x43, AccessSize::Byte, 0x34);
        pc.io_write(0x40, AccessSize::Byte, 1193 & 0xFF);
        pc.io_write(0x40, AccessSize::Byte, 1193 >> 8);
        // Follow the deadlines as the run loop does: the tick's edge reaches
        // the PIC within about 1 ms.
        while !pc.pic.has_interrupt() {
            let deadline = pc.next_deadline().expect("PIT running");
            assert!(
                deadline <= Ticks::from_micros(1100),
                "no IRQ 0 by {deadline:?}"
            );
            pc.advance(deadline);
        }
        assert_eq!(pc.pic.acknowledge(), Some(0x08));
    }

    /// Regression: the guest's shell stopped seeing typed input because
    /// the PIC only looked at IRQ levels between instruction batches: the
    /// UART's line dropped on an IIR read and rose on the next THR write
    /// within one batch, so the PIC never saw a new edge.
    #[test]
    fn uart_irq_dropped_by_a_read_and_raised_again_is_a_new_edge() {
        let (mut pc, _) = pc();
        for (p, v) in [
            (0x20, 0x11),
            (0x21, 0x08),
            (0x21, 0x04),
            (0x21, 0x01),
            (0x21, 0x00),
        ] {
            pc.io_write(p, AccessSize::Byte, v);
        }
        pc.io_write(PORT_COM1 + 4, AccessSize::Byte, 0x08); // MCR: OUT2 gates the IRQ
        pc.io_write(PORT_COM1 + 1, AccessSize::Byte, 0x02); // IER: THR empty
        assert_eq!(pc.pic.acknowledge(), Some(0x08 + IRQ_COM1));
        pc.io_write(0x20, AccessSize::Byte, 0x20); // EOI
        assert_eq!(
            pc.io_read(PORT_COM1 + 2, AccessSize::Byte) & 0x0F,
            0x02,
            "IIR: THR empty"
        );
        assert!(!pc.pic.has_interrupt(), "reading IIR cleared the request");
        pc.io_write(PORT_COM1, AccessSize::Byte, u32::from(b'x')); // THR empties again at once
        assert_eq!(pc.pic.acknowledge(), Some(0x08 + IRQ_COM1));
    }
}
