//! A VGA as far as text mode needs it: the register file on ports
//! 0x3B0-0x3DF and the 128 KiB memory window at 0xA0000-0xBFFFF.
//!
//! Reference: IBM VGA Technical Reference (CRT controller, sequencer,
//! graphics controller, attribute controller, DAC, external registers) and
//! its mode 3 register table, which is the power-on state here so a machine
//! without a video BIOS still shows 80x25 colour text at 0xB8000.
//!
//! Modelled: CRTC index/data with the CR11 write protect, decoded at
//! 0x3D4/0x3D5 (colour) or 0x3B4/0x3B5 (mono) per misc output bit 0, like a
//! real VGA; input status 1 (0x3DA/0x3BA) with display-enable and vertical
//! retrace bits that cycle deterministically per read, and the attribute
//! flip-flop reset that read performs; attribute controller index/data
//! (0x3C0/0x3C1); misc output (0x3C2 write, 0x3CC read); sequencer and
//! graphics controller as storage; the DAC (0x3C6-0x3C9) as storage; the
//! memory as plain bytes in the CPU's view (character at even, attribute at
//! odd addresses). [`VgaText::snapshot`] reads the screen the CRTC would scan:
//! columns, rows, row pitch, start address, text base from the graphics
//! controller memory map, and the cursor.
//!
//! Not modelled: graphics modes, planar memory, write modes, the font, and
//! timing. Port offsets below are relative to 0x3B0; wide accesses are split
//! into consecutive byte accesses, as the ISA bus does for an 8-bit card
//! (programs set CRTC registers with one `out dx, ax`).

use crate::bus::{AccessSize, MmioDevice, PortDevice};
pub use crate::text_screen::TextScreen;

/// Size of the VGA memory window (0xA0000-0xBFFFF).
pub const VGA_WINDOW_SIZE: usize = 0x2_0000;

/// CRTC index, monochrome decode (0x3B4).
pub const OFFSET_CRTC_INDEX_MONO: u16 = 0x04;
/// CRTC data, monochrome decode (0x3B5).
pub const OFFSET_CRTC_DATA_MONO: u16 = 0x05;
/// Input status 1 / feature control write, monochrome decode (0x3BA).
pub const OFFSET_STATUS1_MONO: u16 = 0x0A;
/// Attribute controller index and data write, index read (0x3C0).
pub const OFFSET_ATTR_WRITE: u16 = 0x10;
/// Attribute controller data read (0x3C1).
pub const OFFSET_ATTR_READ: u16 = 0x11;
/// Misc output write, input status 0 read (0x3C2).
pub const OFFSET_MISC_WRITE: u16 = 0x12;
/// VGA enable (0x3C3).
pub const OFFSET_VGA_ENABLE: u16 = 0x13;
/// Sequencer index (0x3C4).
pub const OFFSET_SEQ_INDEX: u16 = 0x14;
/// Sequencer data (0x3C5).
pub const OFFSET_SEQ_DATA: u16 = 0x15;
/// DAC pixel mask (0x3C6).
pub const OFFSET_DAC_MASK: u16 = 0x16;
/// DAC read index write, DAC state read (0x3C7).
pub const OFFSET_DAC_READ_INDEX: u16 = 0x17;
/// DAC write index (0x3C8).
pub const OFFSET_DAC_WRITE_INDEX: u16 = 0x18;
/// DAC data (0x3C9).
pub const OFFSET_DAC_DATA: u16 = 0x19;
/// Feature control read (0x3CA).
pub const OFFSET_FEATURE_READ: u16 = 0x1A;
/// Misc output read (0x3CC).
pub const OFFSET_MISC_READ: u16 = 0x1C;
/// Graphics controller index (0x3CE).
pub const OFFSET_GC_INDEX: u16 = 0x1E;
/// Graphics controller data (0x3CF).
pub const OFFSET_GC_DATA: u16 = 0x1F;
/// CRTC index, colour decode (0x3D4).
pub const OFFSET_CRTC_INDEX_COLOR: u16 = 0x24;
/// CRTC data, colour decode (0x3D5).
pub const OFFSET_CRTC_DATA_COLOR: u16 = 0x25;
/// Input status 1 / feature control write, colour decode (0x3DA).
pub const OFFSET_STATUS1_COLOR: u16 = 0x2A;

/// CRTC: horizontal display end (columns - 1).
const CR_H_DISPLAY_END: usize = 0x01;
/// CRTC: overflow (bit 1 = VDE bit 8, bit 6 = VDE bit 9).
const CR_OVERFLOW: usize = 0x07;
/// CRTC: maximum scan line (bits 4-0 = character height - 1).
const CR_MAX_SCAN_LINE: usize = 0x09;
/// CRTC: cursor start (bit 5 = cursor off, bits 4-0 = first scan line).
const CR_CURSOR_START: usize = 0x0A;
/// CRTC: cursor end (bits 4-0 = last scan line).
const CR_CURSOR_END: usize = 0x0B;
/// CRTC: start address high.
const CR_START_HIGH: usize = 0x0C;
/// CRTC: start address low.
const CR_START_LOW: usize = 0x0D;
/// CRTC: cursor location high.
const CR_CURSOR_HIGH: usize = 0x0E;
/// CRTC: cursor location low.
const CR_CURSOR_LOW: usize = 0x0F;
/// CRTC: vertical retrace end (bit 7 = protect CR00-CR07).
const CR_V_RETRACE_END: usize = 0x11;
/// CRTC: vertical display end, low 8 bits.
const CR_V_DISPLAY_END: usize = 0x12;
/// CRTC: offset (row pitch in units of two characters in text mode).
const CR_OFFSET: usize = 0x13;
/// CR11: write-protect CR00-CR07.
const CR11_PROTECT: u8 = 0x80;
/// CR07: the line compare bit 8 stays writable under protection.
const CR07_LINE_COMPARE_8: u8 = 0x10;
/// CR0A: cursor disabled.
const CURSOR_DISABLE: u8 = 0x20;
/// Scan-line field of CR09/CR0A/CR0B.
const SCAN_LINE_MASK: u8 = 0x1F;
/// GC06: memory map select, bits 3-2.
const GC_MISC: usize = 0x06;
/// Misc output: I/O address select (1 = colour ports 0x3Dx).
const MISC_COLOR_IO: u8 = 0x01;
/// Input status 1: display disabled (in a blanking interval).
const STATUS1_DISPLAY_DISABLED: u8 = 0x01;
/// Input status 1: vertical retrace.
const STATUS1_VRETRACE: u8 = 0x08;
/// Reads of input status 1 per emulated frame; the last two are retrace.
const STATUS1_READS_PER_FRAME: u32 = 8;
/// Attribute index: palette address source (screen on).
const ATTR_PAS: u8 = 0x20;
/// Attribute controller: mode control register index.
const ATTR_MODE_CONTROL: usize = 0x10;
/// Attribute mode control: bit 7 of an attribute blinks (else bright
/// background).
const ATTR_MODE_BLINK: u8 = 0x08;
/// DAC state read: in read mode.
const DAC_STATE_READ: u8 = 0x03;
/// Entries in the DAC times three colour components.
const DAC_SIZE: usize = 256 * 3;

/// Mode 3 (80x25 colour text) register values, IBM VGA Technical Reference.
const MODE3_MISC: u8 = 0x67;
const MODE3_SEQ: [u8; 5] = [0x03, 0x00, 0x03, 0x00, 0x02];
const MODE3_CRTC: [u8; 25] = [
    0x5F, 0x4F, 0x50, 0x82, 0x55, 0x81, 0xBF, 0x1F, 0x00, 0x4F, 0x0D, 0x0E, 0x00, 0x00, 0x00, 0x00,
    0x9C, 0x8E, 0x8F, 0x28, 0x1F, 0x96, 0xB9, 0xA3, 0xFF,
];
const MODE3_GC: [u8; 9] = [0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x0E, 0x00, 0xFF];
const MODE3_ATTR: [u8; 21] = [
    0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x14, 0x07, 0x38, 0x39, 0x3A, 0x3B, 0x3C, 0x3D, 0x3E, 0x3F,
    0x0C, 0x00, 0x0F, 0x08, 0x00,
];

/// The VGA's text-mode view: registers plus the 128 KiB window.
pub struct VgaText {
    mem: Vec<u8>,
    misc: u8,
    feature: u8,
    vga_enable: u8,
    crtc_index: u8,
    crtc: [u8; 25],
    seq_index: u8,
    seq: [u8; 5],
    gc_index: u8,
    gc: [u8; 9],
    /// Attribute index including the PAS bit.
    attr_index: u8,
    attr: [u8; 21],
    /// The next 0x3C0 write is data (else index).
    attr_data_next: bool,
    dac: Vec<u8>,
    dac_mask: u8,
    dac_read_pos: usize,
    dac_write_pos: usize,
    dac_state: u8,
    status_reads: u32,
}

impl Default for VgaText {
    fn default() -> Self {
        VgaText::new()
    }
}

impl VgaText {
    /// A VGA in mode 3 with blank (zero) memory.
    pub fn new() -> Self {
        VgaText {
            mem: vec![0; VGA_WINDOW_SIZE],
            misc: MODE3_MISC,
            feature: 0,
            vga_enable: 1,
            crtc_index: 0,
            crtc: MODE3_CRTC,
            seq_index: 0,
            seq: MODE3_SEQ,
            gc_index: 0,
            gc: MODE3_GC,
            attr_index: ATTR_PAS,
            attr: MODE3_ATTR,
            attr_data_next: false,
            dac: vec![0; DAC_SIZE],
            dac_mask: 0xFF,
            dac_read_pos: 0,
            dac_write_pos: 0,
            dac_state: 0,
            status_reads: 0,
        }
    }

    /// The whole 128 KiB window, offset 0 = 0xA0000.
    pub fn memory(&self) -> &[u8] {
        &self.mem
    }

    fn color_io(&self) -> bool {
        self.misc & MISC_COLOR_IO != 0
    }

    /// Window offset and size of the text buffer (graphics controller
    /// memory map: A0000/128K, A0000/64K, B0000/32K, B8000/32K).
    fn text_window(&self) -> (usize, usize) {
        match (self.gc[GC_MISC] >> 2) & 3 {
            0 => (0, 0x2_0000),
            1 => (0, 0x1_0000),
            2 => (0x1_0000, 0x8000),
            _ => (0x1_8000, 0x8000),
        }
    }

    /// The screen as the CRTC would show it now.
    pub fn snapshot(&self) -> TextScreen {
        let reg = |index: usize| usize::from(self.crtc[index]);
        let cols = reg(CR_H_DISPLAY_END) + 1;
        let overflow = self.crtc[CR_OVERFLOW];
        let lines = reg(CR_V_DISPLAY_END)
            | usize::from(overflow & 0x02) << 7
            | usize::from(overflow & 0x40) << 3;
        let char_height = usize::from(self.crtc[CR_MAX_SCAN_LINE] & SCAN_LINE_MASK) + 1;
        let rows = (lines + 1) / char_height;
        let pitch = match reg(CR_OFFSET) * 2 {
            0 => cols,
            p => p,
        };
        let start = reg(CR_START_HIGH) << 8 | reg(CR_START_LOW);
        let (base, size) = self.text_window();
        let cells = (0..rows * cols)
            .map(|i| {
                let addr = start + (i / cols) * pitch + i % cols;
                let offset = base + (addr * 2) % size;
                (self.mem[offset], self.mem[offset + 1])
            })
            .collect();
        let cursor_start = self.crtc[CR_CURSOR_START];
        let cursor_end = self.crtc[CR_CURSOR_END] & SCAN_LINE_MASK;
        let visible =
            cursor_start & CURSOR_DISABLE == 0 && cursor_start & SCAN_LINE_MASK <= cursor_end;
        let location = reg(CR_CURSOR_HIGH) << 8 | reg(CR_CURSOR_LOW);
        let cursor = location
            .checked_sub(start)
            .map(|rel| (rel / pitch, rel % pitch))
            .filter(|&(row, col)| visible && row < rows && col < cols);
        TextScreen {
            cols,
            rows,
            cells,
            cursor,
        }
    }

    /// Attribute controller mode control bit 3: `true` if attribute bit 7
    /// makes a character blink (the mode 3 default), `false` if it selects
    /// one of 16 background colours instead.
    pub fn blink_enabled(&self) -> bool {
        self.attr[ATTR_MODE_CONTROL] & ATTR_MODE_BLINK != 0
    }

    /// The text cursor's shape in scan lines: (first, last, character
    /// height), from CR0A bits 4-0, CR0B bits 4-0 and CR09 bits 4-0 + 1.
    /// Mode 3 gives (13, 14, 16): an underline.
    pub fn cursor_scan_lines(&self) -> (u8, u8, u8) {
        (
            self.crtc[CR_CURSOR_START] & SCAN_LINE_MASK,
            self.crtc[CR_CURSOR_END] & SCAN_LINE_MASK,
            (self.crtc[CR_MAX_SCAN_LINE] & SCAN_LINE_MASK) + 1,
        )
    }

    fn read_status1(&mut self) -> u8 {
        self.attr_data_next = false;
        let phase = self.status_reads % STATUS1_READS_PER_FRAME;
        self.status_reads = self.status_reads.wrapping_add(1);
        if phase >= STATUS1_READS_PER_FRAME - 2 {
            STATUS1_VRETRACE | STATUS1_DISPLAY_DISABLED
        } else if phase % 2 == 1 {
            STATUS1_DISPLAY_DISABLED
        } else {
            0
        }
    }

    fn read_port(&mut self, offset: u16) -> u8 {
        let color = self.color_io();
        match offset {
            OFFSET_CRTC_INDEX_MONO if !color => self.crtc_index,
            OFFSET_CRTC_INDEX_COLOR if color => self.crtc_index,
            OFFSET_CRTC_DATA_MONO if !color => self.crtc_read(),
            OFFSET_CRTC_DATA_COLOR if color => self.crtc_read(),
            OFFSET_STATUS1_MONO if !color => self.read_status1(),
            OFFSET_STATUS1_COLOR if color => self.read_status1(),
            OFFSET_ATTR_WRITE => self.attr_index,
            OFFSET_ATTR_READ => self
                .attr
                .get(usize::from(self.attr_index & 0x1F))
                .copied()
                .unwrap_or(0),
            OFFSET_MISC_WRITE => 0x00, // input status 0: no switch sense, no IRQ
            OFFSET_VGA_ENABLE => self.vga_enable,
            OFFSET_SEQ_INDEX => self.seq_index,
            OFFSET_SEQ_DATA => self
                .seq
                .get(usize::from(self.seq_index))
                .copied()
                .unwrap_or(0xFF),
            OFFSET_DAC_MASK => self.dac_mask,
            OFFSET_DAC_READ_INDEX => self.dac_state,
            OFFSET_DAC_WRITE_INDEX => u8::try_from(self.dac_write_pos / 3).unwrap_or(0),
            OFFSET_DAC_DATA => {
                let value = self.dac[self.dac_read_pos];
                self.dac_read_pos = (self.dac_read_pos + 1) % DAC_SIZE;
                value
            }
            OFFSET_FEATURE_READ => self.feature,
            OFFSET_MISC_READ => self.misc,
            OFFSET_GC_INDEX => self.gc_index,
            OFFSET_GC_DATA => self
                .gc
                .get(usize::from(self.gc_index))
                .copied()
                .unwrap_or(0xFF),
            _ => 0xFF,
        }
    }

    fn crtc_read(&self) -> u8 {
        self.crtc
            .get(usize::from(self.crtc_index))
            .copied()
            .unwrap_or(0xFF)
    }

    fn crtc_write(&mut self, value: u8) {
        let index = usize::from(self.crtc_index);
        let protected = self.crtc[CR_V_RETRACE_END] & CR11_PROTECT != 0;
        match index {
            CR_OVERFLOW if protected => {
                let keep = self.crtc[index] & !CR07_LINE_COMPARE_8;
                self.crtc[index] = keep | (value & CR07_LINE_COMPARE_8);
            }
            0..=7 if protected => {}
            _ => {
                if let Some(reg) = self.crtc.get_mut(index) {
                    *reg = value;
                }
            }
        }
    }

    fn write_port(&mut self, offset: u16, value: u8) {
        let color = self.color_io();
        match offset {
            OFFSET_CRTC_INDEX_MONO if !color => self.crtc_index = value,
            OFFSET_CRTC_INDEX_COLOR if color => self.crtc_index = value,
            OFFSET_CRTC_DATA_MONO if !color => self.crtc_write(value),
            OFFSET_CRTC_DATA_COLOR if color => self.crtc_write(value),
            OFFSET_STATUS1_MONO if !color => self.feature = value,
            OFFSET_STATUS1_COLOR if color => self.feature = value,
            OFFSET_ATTR_WRITE => {
                if self.attr_data_next {
                    if let Some(reg) = self.attr.get_mut(usize::from(self.attr_index & 0x1F)) {
                        *reg = value;
                    }
                } else {
                    self.attr_index = value & 0x3F;
                }
                self.attr_data_next = !self.attr_data_next;
            }
            OFFSET_MISC_WRITE => self.misc = value,
            OFFSET_VGA_ENABLE => self.vga_enable = value,
            OFFSET_SEQ_INDEX => self.seq_index = value,
            OFFSET_SEQ_DATA => {
                if let Some(reg) = self.seq.get_mut(usize::from(self.seq_index)) {
                    *reg = value;
                }
            }
            OFFSET_DAC_MASK => self.dac_mask = value,
            OFFSET_DAC_READ_INDEX => {
                self.dac_read_pos = usize::from(value) * 3;
                self.dac_state = DAC_STATE_READ;
            }
            OFFSET_DAC_WRITE_INDEX => {
                self.dac_write_pos = usize::from(value) * 3;
                self.dac_state = 0;
            }
            OFFSET_DAC_DATA => {
                self.dac[self.dac_write_pos] = value & 0x3F;
                self.dac_write_pos = (self.dac_write_pos + 1) % DAC_SIZE;
            }
            OFFSET_GC_INDEX => self.gc_index = value,
            OFFSET_GC_DATA => {
                if let Some(reg) = self.gc.get_mut(usize::from(self.gc_index)) {
                    *reg = value;
                }
            }
            _ => {}
        }
    }
}

impl PortDevice for VgaText {
    /// Reads at offsets from 0x3B0; wider reads are consecutive byte reads.
    fn read(&mut self, offset: u16, size: AccessSize) -> u32 {
        (0..size.bytes()).fold(0, |acc, i| {
            let port = offset.wrapping_add(u16::try_from(i).unwrap_or(0));
            acc | u32::from(self.read_port(port)) << (8 * i)
        })
    }

    /// Writes at offsets from 0x3B0; wider writes are consecutive byte
    /// writes (low byte to the lowest port).
    fn write(&mut self, offset: u16, size: AccessSize, value: u32) {
        for (i, byte) in value
            .to_le_bytes()
            .into_iter()
            .take(size.bytes() as usize)
            .enumerate()
        {
            let port = offset.wrapping_add(u16::try_from(i).unwrap_or(0));
            self.write_port(port, byte);
        }
    }
}

impl MmioDevice for VgaText {
    /// Little-endian reads of the window; bytes past its end read 0xFF.
    fn read(&mut self, offset: u32, size: AccessSize) -> u32 {
        let start = offset as usize;
        (0..size.bytes() as usize).fold(0, |acc, i| {
            let byte = start
                .checked_add(i)
                .and_then(|a| self.mem.get(a))
                .copied()
                .unwrap_or(0xFF);
            acc | u32::from(byte) << (8 * i)
        })
    }

    /// Little-endian writes to the window; bytes past its end are dropped.
    fn write(&mut self, offset: u32, size: AccessSize, value: u32) {
        let start = offset as usize;
        for (i, byte) in value
            .to_le_bytes()
            .into_iter()
            .take(size.bytes() as usize)
            .enumerate()
        {
            if let Some(cell) = start.checked_add(i).and_then(|a| self.mem.get_mut(a)) {
                *cell = byte;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Offset of 0xB8000 in the window.
    const COLOR_TEXT: u32 = 0x1_8000;

    fn outb(vga: &mut VgaText, offset: u16, value: u8) {
        PortDevice::write(vga, offset, AccessSize::Byte, u32::from(value));
    }

    fn inb(vga: &mut VgaText, offset: u16) -> u8 {
        PortDevice::read(vga, offset, AccessSize::Byte) as u8
    }

    /// OUT 0x3D4 index, OUT 0x3D5 value.
    fn crtc_write(vga: &mut VgaText, index: u8, value: u8) {
        outb(vga, OFFSET_CRTC_INDEX_COLOR, index);
        outb(vga, OFFSET_CRTC_DATA_COLOR, value);
    }

    /// The BIOS INT 10h AH=02h sequence: cursor location high, low.
    fn set_cursor(vga: &mut VgaText, location: u16) {
        crtc_write(vga, 0x0E, location.to_be_bytes()[0]);
        crtc_write(vga, 0x0F, location.to_be_bytes()[1]);
    }

    fn put_text(vga: &mut VgaText, cell: u32, text: &str) {
        for (i, b) in text.bytes().enumerate() {
            let word = u32::from(b) | 0x0700;
            MmioDevice::write(
                vga,
                COLOR_TEXT + (cell + i as u32) * 2,
                AccessSize::Word,
                word,
            );
        }
    }

    #[test]
    fn power_on_is_80x25_with_cursor_home() {
        let vga = VgaText::new();
        let screen = vga.snapshot();
        assert_eq!((screen.cols, screen.rows), (80, 25));
        assert_eq!(screen.cursor, Some((0, 0)));
        assert_eq!(screen.cells.len(), 2000);
    }

    #[test]
    fn text_and_cursor_show_in_snapshot() {
        let mut vga = VgaText::new();
        put_text(&mut vga, 80 * 2 + 3, "Hello");
        set_cursor(&mut vga, 80 * 2 + 8);
        let screen = vga.snapshot();
        assert_eq!(screen.row_text(2), "   Hello");
        assert_eq!(screen.cell(2, 3), Some((b'H', 0x07)));
        assert_eq!(screen.cursor, Some((2, 8)));
    }

    #[test]
    fn start_address_scrolls_the_view() {
        let mut vga = VgaText::new();
        put_text(&mut vga, 80, "second line");
        crtc_write(&mut vga, 0x0C, 0x00);
        crtc_write(&mut vga, 0x0D, 80); // start at row 1
        set_cursor(&mut vga, 80 + 11);
        let screen = vga.snapshot();
        assert_eq!(screen.row_text(0), "second line");
        assert_eq!(screen.cursor, Some((0, 11)));
        set_cursor(&mut vga, 10); // above the visible start
        assert_eq!(vga.snapshot().cursor, None);
    }

    #[test]
    fn blink_bit_and_cursor_shape_accessors() {
        let mut vga = VgaText::new();
        assert!(vga.blink_enabled());
        assert_eq!(vga.cursor_scan_lines(), (13, 14, 16));
        inb(&mut vga, OFFSET_STATUS1_COLOR); // flip-flop to index
        outb(&mut vga, OFFSET_ATTR_WRITE, 0x30); // mode control, PAS
        outb(&mut vga, OFFSET_ATTR_WRITE, 0x04);
        assert!(!vga.blink_enabled());
        crtc_write(&mut vga, 0x0A, 0x00);
        assert_eq!(vga.cursor_scan_lines(), (0, 14, 16));
    }

    #[test]
    fn cursor_disable_bit_hides_cursor() {
        let mut vga = VgaText::new();
        crtc_write(&mut vga, 0x0A, 0x20);
        assert_eq!(vga.snapshot().cursor, None);
        crtc_write(&mut vga, 0x0A, 0x0D);
        assert_eq!(vga.snapshot().cursor, Some((0, 0)));
    }

    #[test]
    fn word_out_sets_index_and_data() {
        let mut vga = VgaText::new();
        PortDevice::write(&mut vga, OFFSET_CRTC_INDEX_COLOR, AccessSize::Word, 0x050F);
        outb(&mut vga, OFFSET_CRTC_INDEX_COLOR, 0x0F);
        assert_eq!(inb(&mut vga, OFFSET_CRTC_DATA_COLOR), 0x05);
        assert_eq!(
            PortDevice::read(&mut vga, OFFSET_CRTC_INDEX_COLOR, AccessSize::Word),
            0x050F
        );
    }

    #[test]
    fn crtc_decodes_at_mono_or_colour_ports_per_misc_output() {
        let mut vga = VgaText::new();
        outb(&mut vga, OFFSET_CRTC_INDEX_MONO, 0x0E);
        assert_eq!(inb(&mut vga, OFFSET_CRTC_INDEX_MONO), 0xFF, "no MDA here");
        outb(&mut vga, OFFSET_MISC_WRITE, MODE3_MISC & !MISC_COLOR_IO);
        assert_eq!(inb(&mut vga, OFFSET_MISC_READ), 0x66);
        outb(&mut vga, OFFSET_CRTC_INDEX_MONO, 0x0E);
        assert_eq!(inb(&mut vga, OFFSET_CRTC_DATA_MONO), 0x00);
        assert_eq!(inb(&mut vga, OFFSET_CRTC_INDEX_COLOR), 0xFF);
    }

    #[test]
    fn crtc_protect_bit_guards_timing_registers() {
        let mut vga = VgaText::new();
        crtc_write(&mut vga, 0x01, 0x27); // ignored: mode 3 sets CR11 bit 7
        outb(&mut vga, OFFSET_CRTC_INDEX_COLOR, 0x01);
        assert_eq!(
            inb(&mut vga, OFFSET_CRTC_DATA_COLOR),
            0x4F,
            "mode 3 CR11 protects"
        );
        crtc_write(&mut vga, 0x11, 0x0E);
        crtc_write(&mut vga, 0x01, 0x27);
        assert_eq!(vga.snapshot().cols, 40);
    }

    #[test]
    fn status1_cycles_retrace_and_resets_attribute_flip_flop() {
        let mut vga = VgaText::new();
        let reads: Vec<u8> = (0..8)
            .map(|_| inb(&mut vga, OFFSET_STATUS1_COLOR))
            .collect();
        assert_eq!(reads, vec![0, 1, 0, 1, 0, 1, 9, 9]);
        outb(&mut vga, OFFSET_ATTR_WRITE, 0x10); // index: mode control
        inb(&mut vga, OFFSET_STATUS1_COLOR); // back to index state
        outb(&mut vga, OFFSET_ATTR_WRITE, 0x32); // index 0x12 with PAS
        outb(&mut vga, OFFSET_ATTR_WRITE, 0x0A); // data
        assert_eq!(inb(&mut vga, OFFSET_ATTR_WRITE), 0x32);
        assert_eq!(inb(&mut vga, OFFSET_ATTR_READ), 0x0A);
    }

    #[test]
    fn sequencer_graphics_and_dac_are_storage() {
        let mut vga = VgaText::new();
        outb(&mut vga, OFFSET_SEQ_INDEX, 0x04);
        assert_eq!(inb(&mut vga, OFFSET_SEQ_DATA), 0x02);
        outb(&mut vga, OFFSET_GC_INDEX, 0x06);
        outb(&mut vga, OFFSET_GC_DATA, 0x0A); // map B0000: mono text base
        MmioDevice::write(&mut vga, 0x1_0000, AccessSize::Byte, u32::from(b'M'));
        assert_eq!(vga.snapshot().cell(0, 0), Some((b'M', 0)));
        outb(&mut vga, OFFSET_DAC_WRITE_INDEX, 1);
        for c in [0x3F, 0x20, 0xFF] {
            outb(&mut vga, OFFSET_DAC_DATA, c);
        }
        outb(&mut vga, OFFSET_DAC_READ_INDEX, 1);
        let rgb: Vec<u8> = (0..3).map(|_| inb(&mut vga, OFFSET_DAC_DATA)).collect();
        assert_eq!(rgb, vec![0x3F, 0x20, 0x3F]);
        assert_eq!(inb(&mut vga, OFFSET_DAC_READ_INDEX), 0x03);
    }

    #[test]
    fn mmio_is_little_endian_and_bounded() {
        let mut vga = VgaText::new();
        MmioDevice::write(&mut vga, COLOR_TEXT, AccessSize::Dword, 0x0741_0742);
        assert_eq!(
            MmioDevice::read(&mut vga, COLOR_TEXT, AccessSize::Word),
            0x0742
        );
        assert_eq!(vga.snapshot().row_text(0), "BA");
        MmioDevice::write(&mut vga, 0x1_FFFF, AccessSize::Word, 0x1234);
        assert_eq!(
            MmioDevice::read(&mut vga, 0x1_FFFF, AccessSize::Word),
            0xFF34
        );
        assert_eq!(vga.memory()[0x1_FFFF], 0x34);
    }
}
