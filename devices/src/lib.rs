//! btvm-devices: the PC's devices as pure state machines.
//!
//! Every device here is deterministic and knows nothing of CPUs or guest
//! memory. Time comes in as [`Ticks`] (virtual nanoseconds) on the calls that
//! need it; interrupt outputs are injected [`IrqLine`]s; output bytes go to
//! injected `std::io::Write` sinks and input bytes are pushed in; effects on
//! the CPU (A20 gate, reset, debug exit) are returned as values for the
//! machine to act on. Port numbers and IRQ numbers belong to the machine's
//! PC map: devices see offsets from their base port.
//!
//! Code map:
//! - `bus.rs`           [`AccessSize`], [`PortDevice`], [`MmioDevice`]: the bus traits
//! - `irq.rs`           [`IrqLine`], [`IrqPin`]/[`IrqLevels`] (shared ISA level mask), [`TestLine`], [`NoIrq`]
//! - `time.rs`          [`Ticks`], [`PIT_HZ`], exact PIT clock conversions, [`Timed`]
//! - `event.rs`         [`CpuLineEvent`]: A20 and reset requests returned to the machine
//! - `pic8259.rs`       [`Pic8259Pair`]: cascaded 8259A pair, ELCR, INTA
//! - `pic_chip.rs`      one 8259A: ICWs, OCWs, priority resolution (private)
//! - `pit8254.rs`       [`Pit8254`]: three counters, control/latch/read-back, IRQ 0
//! - `pit_counter.rs`   one 8254 counter: modes 0-5 as functions of time (private)
//! - `port61.rs`        [`SystemControlB`]: port 0x61, PIT gate 2 / OUT 2, refresh toggle
//! - `port92.rs`        [`SystemControlA`]: port 0x92, fast A20 and reset
//! - `uart16550.rs`     [`Uart16550`]: 16550 UART with FIFO, loopback, OUT2-gated IRQ
//! - `cmos.rs`          [`Cmos`]: MC146818A RTC + 128-byte NVRAM, IRQ 8
//! - `rtc_format.rs`    RTC time registers: BCD/binary, 12/24 hour (private)
//! - `nvram_layout.rs`  AT CMOS RAM map, memory-size bytes and checksum helpers
//! - `calendar.rs`      civil date <-> Unix seconds, BCD (private)
//! - `i8042.rs`         [`I8042`]: keyboard controller, output port, absent mouse
//! - `i8042_regs.rs`    8042 status register, command byte, controller commands (private)
//! - `ps2_keyboard.rs`  the keyboard's side of the PS/2 protocol (private)
//! - `vga_text.rs`      [`VgaText`]: VGA registers at 0x3B0-0x3DF + 0xA0000 window
//! - `text_screen.rs`   [`TextScreen`]: snapshot of a text screen, CP437 to Unicode
//! - `post.rs`          [`PostCode`]: port 0x80 POST code latch
//! - `debug_exit.rs`    [`DebugExit`]: QEMU isa-debug-exit semantics
//! - `debug_console.rs` [`DebugConsole`]: port 0xE9 debug console
//! - `block.rs`         [`BlockDevice`], [`MemDisk`], [`Geometry`]: disk images for the controllers
//! - `ata.rs`           [`AtaChannel`]: ATA/IDE PIO channel, hard disk as device 0, IRQ 14
//! - `ata_regs.rs`      ATA register offsets, status/error bits, command decoding
//! - `ata_drive.rs`     the disk behind a channel: CHS translation, PIO data phase (private)
//! - `ata_identify.rs`  the IDENTIFY DEVICE block (private)
//! - `ata_testing.rs`   test-only: the host side of a channel for protocol tests
//! - `dma8237.rs`       [`Dma8237Pair`]: ISA DMA, page registers, [`DmaMemory`]/[`DmaDevice`]
//! - `dma8237_chip.rs`  one 8237A: registers, modes, terminal count (private)
//! - `fdc.rs`           [`Fdc82077`]: 82077AA floppy controller, IRQ 6, DMA channel 2
//! - `fdc_regs.rs`      82077AA registers, ST0-ST3 bits, data rates, command decoding
//! - `fdc_drive.rs`     [`FloppyMedia`] and a drive's head, disk change, sector lookup
//! - `fdc_transfer.rs`  READ/WRITE DATA and FORMAT TRACK execution, result C/H/R/N (private)
//! - `fdc_settings.rs`  SPECIFY/CONFIGURE/LOCK/PERPENDICULAR registers, DUMPREG (private)
//! - `fdc_testing.rs`   test-only: DMA, RAM, IRQ 6 and a clock around the FDC
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod ata;
mod ata_drive;
mod ata_identify;
pub mod ata_regs;
#[cfg(test)]
mod ata_testing;
pub mod block;
pub mod bus;
mod calendar;
pub mod cmos;
pub mod debug_console;
pub mod debug_exit;
pub mod dma8237;
mod dma8237_chip;
pub mod event;
pub mod fdc;
mod fdc_drive;
pub mod fdc_regs;
mod fdc_settings;
#[cfg(test)]
mod fdc_testing;
mod fdc_transfer;
pub mod i8042;
mod i8042_regs;
pub mod irq;
pub mod nvram_layout;
pub mod pic8259;
mod pic_chip;
pub mod pit8254;
mod pit_counter;
pub mod port61;
pub mod port92;
pub mod post;
mod ps2_keyboard;
mod rtc_format;
pub mod text_screen;
pub mod time;
pub mod uart16550;
pub mod vga_text;

pub use ata::AtaChannel;
pub use block::{BlockDevice, BlockError, Geometry, MemDisk};
pub use bus::{AccessSize, MmioDevice, PortDevice};
pub use cmos::Cmos;
pub use debug_console::DebugConsole;
pub use debug_exit::DebugExit;
pub use dma8237::{Dma8237Pair, DmaDevice, DmaMemory};
pub use event::CpuLineEvent;
pub use fdc::{Fdc82077, FloppyError, FloppyMedia};
pub use i8042::{I8042Event, I8042};
pub use irq::{IrqLevels, IrqLine, IrqPin, NoIrq, TestLine};
pub use pic8259::Pic8259Pair;
pub use pit8254::Pit8254;
pub use port61::SystemControlB;
pub use port92::SystemControlA;
pub use post::PostCode;
pub use text_screen::TextScreen;
pub use time::{Ticks, Timed, PIT_HZ};
pub use uart16550::Uart16550;
pub use vga_text::VgaText;
