//! INT 10h: the text-mode video services, on the VGA text adapter's memory
//! and CRTC (cursor location, start address, cursor shape, character height).
//!
//! The BIOS data area is the state, as on a real BIOS: mode, columns, rows,
//! page size, active page, per-page cursor positions and cursor shape live
//! at 0040:0049-0089, so programs that read or poke them stay in step.
//! Values read back from the BDA are clamped before use, so garbage there
//! only garbles the screen.
//!
//! Modes: 0/1 (40x25 colour), 2/3 (80x25 colour, 0xB8000) and 7 (80x25
//! monochrome, 0xB0000). A request for a graphics mode leaves the mode as
//! it is (the adapter has no graphics). Fonts: AX=1130h returns a pointer
//! to a blank font (the ROM carries no glyphs; the display uses the host's
//! font); AX=1111h/1112h/1114h switch the character height to 14, 8 or 16
//! lines, giving 28, 50 or 25 rows.

use btvm_devices::vga_text::{
    OFFSET_CRTC_INDEX_COLOR, OFFSET_CRTC_INDEX_MONO, OFFSET_GC_INDEX, OFFSET_MISC_WRITE,
};
use btvm_jit::abi::sreg;

use super::bda;
use super::call::Call;
use super::rom::{RomMap, Sym, ROM_SEGMENT};
use crate::machine::pc::PORT_VGA;

const CRTC_COLOR: u16 = PORT_VGA + OFFSET_CRTC_INDEX_COLOR;
const CRTC_MONO: u16 = PORT_VGA + OFFSET_CRTC_INDEX_MONO;
const MISC_OUTPUT: u16 = PORT_VGA + OFFSET_MISC_WRITE;
const GC_INDEX: u16 = PORT_VGA + OFFSET_GC_INDEX;
/// Attribute controller index/data (0x3C0) and input status 1 (0x3DA),
/// which resets its flip-flop.
const ATTR_INDEX: u16 = PORT_VGA + 0x10;
const STATUS1_COLOR: u16 = PORT_VGA + 0x2A;
/// DAC read index, write index and data (0x3C7-0x3C9).
const DAC_READ_INDEX: u16 = PORT_VGA + 0x17;
const DAC_WRITE_INDEX: u16 = PORT_VGA + 0x18;
const DAC_DATA: u16 = PORT_VGA + 0x19;

const CR_MAX_SCAN_LINE: u8 = 0x09;
const CR_CURSOR_START: u8 = 0x0A;
const CR_CURSOR_END: u8 = 0x0B;
const CR_START_HIGH: u8 = 0x0C;
const CR_START_LOW: u8 = 0x0D;
const CR_CURSOR_HIGH: u8 = 0x0E;
const CR_CURSOR_LOW: u8 = 0x0F;
const CR_V_RETRACE_END: u8 = 0x11;
const CR_H_DISPLAY_END: u8 = 0x01;
const CR_OFFSET: u8 = 0x13;
/// Mode 3's CR11 (write protect on) and CR09 (16-line characters).
const MODE3_CR11: u8 = 0x8E;
const MODE3_CR09: u8 = 0x4F;
/// Scan lines the text modes display.
const SCAN_LINES: u16 = 400;

/// Colour text memory.
const TEXT_COLOR: u32 = 0xB_8000;
/// Monochrome text memory.
const TEXT_MONO: u32 = 0xB_0000;
/// Text memory cleared on a mode set (one 32 KiB window).
const TEXT_WINDOW: u32 = 0x8000;
/// A blank cell: space, light grey on black.
const BLANK: u16 = 0x0720;
/// The default (CGA-style) cursor shape: lines 6-7 of 8.
const DEFAULT_CURSOR: u16 = 0x0607;

/// The text geometry as the BDA describes it, clamped to sane values.
#[derive(Clone, Copy)]
struct Screen {
    mode: u8,
    cols: u16,
    rows: u16,
    page_size: u16,
    base: u32,
}

impl Screen {
    fn read(c: &mut Call) -> Screen {
        let mode = c.bda8(bda::VIDEO_MODE) & 0x7F;
        let cols = c.bda16(bda::VIDEO_COLUMNS).clamp(1, 132);
        let rows = (u16::from(c.bda8(bda::VIDEO_ROWS)) + 1).clamp(1, 60);
        let page_size = c.bda16(bda::VIDEO_PAGE_SIZE).max(cols * rows * 2);
        let base = if mode == 7 { TEXT_MONO } else { TEXT_COLOR };
        Screen {
            mode,
            cols,
            rows,
            page_size,
            base,
        }
    }

    fn cell(&self, page: u8, row: u16, col: u16) -> u32 {
        let page_off = u32::from(page & 7) * u32::from(self.page_size);
        self.base
            + (page_off + (u32::from(row) * u32::from(self.cols) + u32::from(col)) * 2)
                % TEXT_WINDOW
    }
}

fn crtc_port(c: &mut Call) -> u16 {
    if c.bda16(bda::VIDEO_CRTC_BASE) == CRTC_MONO {
        CRTC_MONO
    } else {
        CRTC_COLOR
    }
}

fn crtc_write(c: &mut Call, index: u8, value: u8) {
    let port = crtc_port(c);
    c.outb(port, index);
    c.outb(port + 1, value);
}

/// The cursor (row, column) of `page`.
fn cursor(c: &mut Call, page: u8) -> (u16, u16) {
    let pos = c.bda16(bda::VIDEO_CURSOR_POS + 2 * u16::from(page & 7));
    (pos >> 8, pos & 0xFF)
}

fn set_cursor(c: &mut Call, page: u8, row: u16, col: u16) {
    let page = page & 7;
    c.set_bda16(
        bda::VIDEO_CURSOR_POS + 2 * u16::from(page),
        (row & 0xFF) << 8 | (col & 0xFF),
    );
    if page == c.bda8(bda::VIDEO_PAGE) & 7 {
        let s = Screen::read(c);
        let addr = u32::from(page) * u32::from(s.page_size) / 2
            + u32::from(row) * u32::from(s.cols)
            + u32::from(col);
        crtc_write(c, CR_CURSOR_HIGH, (addr >> 8) as u8);
        crtc_write(c, CR_CURSOR_LOW, addr as u8);
    }
}

/// INT 10h AH=01h: the cursor shape in CH (start, bit 5 = off) and CL
/// (end), scaled from 8-line terms to the character height as VGA BIOSes
/// do ("cursor emulation") unless BDA 0x487 bit 0 turns that off.
fn set_cursor_shape(c: &mut Call, shape: u16) {
    c.set_bda16(bda::VIDEO_CURSOR_SHAPE, shape);
    let mut start = (shape >> 8) & 0x3F;
    let mut end = shape & 0x1F;
    let height = c.bda16(bda::VIDEO_CHAR_HEIGHT).clamp(1, 32);
    let emulate = c.bda8(bda::VIDEO_EGA_CONTROL) & 1 == 0;
    if emulate && height > 8 && end < 8 && start < 0x20 {
        if end != start + 1 {
            start = ((start + 1) * height / 8).saturating_sub(1) & 0x1F;
        } else {
            start = ((end + 1) * height / 8).saturating_sub(2) & 0x1F;
        }
        end = ((end + 1) * height / 8).saturating_sub(1) & 0x1F;
    }
    let (start, end) = (start as u8, end as u8);
    crtc_write(c, CR_CURSOR_START, start);
    crtc_write(c, CR_CURSOR_END, end);
}

fn set_page(c: &mut Call, page: u8) {
    if page > 7 {
        return;
    }
    let s = Screen::read(c);
    c.set_bda8(bda::VIDEO_PAGE, page);
    let start = u32::from(page) * u32::from(s.page_size);
    c.set_bda16(bda::VIDEO_PAGE_START, start as u16);
    let words = start / 2;
    crtc_write(c, CR_START_HIGH, (words >> 8) as u8);
    crtc_write(c, CR_START_LOW, words as u8);
    let (row, col) = cursor(c, page);
    set_cursor(c, page, row, col);
}

/// Set a text mode (INT 10h AH=00h). Returns `false` for modes the adapter
/// cannot show (nothing is changed then).
pub fn set_mode(c: &mut Call, request: u8) -> bool {
    let mode = request & 0x7F;
    let keep_memory = request & 0x80 != 0;
    let (cols, mono) = match mode {
        0 | 1 => (40u16, false),
        2 | 3 => (80, false),
        7 => (80, true),
        _ => return false,
    };
    c.set_bda8(bda::VIDEO_MODE, mode);
    c.set_bda16(bda::VIDEO_COLUMNS, cols);
    c.set_bda16(
        bda::VIDEO_PAGE_SIZE,
        if cols == 40 { 0x800 } else { 0x1000 },
    );
    c.set_bda16(bda::VIDEO_PAGE_START, 0);
    for page in 0..8 {
        c.set_bda16(bda::VIDEO_CURSOR_POS + 2 * page, 0);
    }
    c.set_bda8(bda::VIDEO_PAGE, 0);
    c.set_bda16(
        bda::VIDEO_CRTC_BASE,
        if mono { CRTC_MONO } else { CRTC_COLOR },
    );
    c.set_bda8(
        bda::VIDEO_MODE_CONTROL,
        [0x2C, 0x28, 0x2D, 0x29, 0, 0, 0, 0x29][usize::from(mode)],
    );
    c.set_bda8(bda::VIDEO_PALETTE, if mode == 3 { 0x30 } else { 0x3F });
    c.set_bda8(bda::VIDEO_ROWS, 24);
    c.set_bda16(bda::VIDEO_CHAR_HEIGHT, 16);
    c.set_bda8(
        bda::VIDEO_EGA_CONTROL,
        0x60 | if keep_memory { 0x80 } else { 0 },
    );
    c.set_bda8(bda::VIDEO_EGA_SWITCHES, 0x09);
    c.set_bda8(bda::VIDEO_VGA_FLAGS, 0x51);
    c.set_bda8(bda::VIDEO_DCC, 0x08);

    // Misc output (colour or mono I/O, clocks) and the memory map (B8000 or
    // B0000, 32 KiB), then the CRTC with CR0-7 unprotected for the width.
    c.outb(MISC_OUTPUT, if mono { 0x66 } else { 0x67 });
    c.outb(GC_INDEX, 0x06);
    c.outb(GC_INDEX + 1, if mono { 0x0A } else { 0x0E });
    crtc_write(c, CR_V_RETRACE_END, MODE3_CR11 & 0x7F);
    crtc_write(c, CR_H_DISPLAY_END, (cols - 1) as u8);
    crtc_write(c, CR_V_RETRACE_END, MODE3_CR11);
    crtc_write(c, CR_OFFSET, (cols / 2) as u8);
    crtc_write(c, CR_MAX_SCAN_LINE, MODE3_CR09);
    crtc_write(c, CR_START_HIGH, 0);
    crtc_write(c, CR_START_LOW, 0);
    set_cursor_shape(c, DEFAULT_CURSOR);
    set_cursor(c, 0, 0, 0);
    if !keep_memory {
        let base = if mono { TEXT_MONO } else { TEXT_COLOR };
        for i in 0..TEXT_WINDOW / 2 {
            c.write16(base + 2 * i, BLANK);
        }
    }
    true
}

/// Scroll a window of the active page up (or down) by `lines` (0: clear
/// it), filling with blanks of attribute `attr`.
fn scroll(
    c: &mut Call,
    up: bool,
    lines: u16,
    attr: u8,
    (top, left): (u16, u16),
    (bottom, right): (u16, u16),
) {
    let s = Screen::read(c);
    let page = c.bda8(bda::VIDEO_PAGE);
    let bottom = bottom.min(s.rows - 1);
    let right = right.min(s.cols - 1);
    if top > bottom || left > right {
        return;
    }
    let height = bottom - top + 1;
    let lines = if lines == 0 || lines > height {
        height
    } else {
        lines
    };
    let blank = u16::from(attr) << 8 | 0x20;
    for i in 0..height {
        let row = if up { top + i } else { bottom - i };
        let src = if up {
            row.checked_add(lines).filter(|&r| r <= bottom)
        } else {
            row.checked_sub(lines).filter(|&r| r >= top)
        };
        for col in left..=right {
            let value = match src {
                Some(src) => {
                    let a = s.cell(page, src, col);
                    c.read16(a)
                }
                None => blank,
            };
            let a = s.cell(page, row, col);
            c.write16(a, value);
        }
    }
}

/// Put one character on `page` the teletype way: BEL ignored, BS, CR, LF
/// move the cursor; anything else is written (with `attr`, or keeping the
/// cell's attribute) and advances it; past the last row the page scrolls.
fn tty(c: &mut Call, page: u8, ch: u8, attr: Option<u8>) {
    let s = Screen::read(c);
    let (mut row, mut col) = cursor(c, page);
    row = row.min(s.rows - 1);
    col = col.min(s.cols - 1);
    match ch {
        0x07 => {}
        0x08 => col = col.saturating_sub(1),
        0x0D => col = 0,
        0x0A => row += 1,
        _ => {
            let a = s.cell(page, row, col);
            match attr {
                Some(attr) => c.write16(a, u16::from(attr) << 8 | u16::from(ch)),
                None => c.write8(a, ch),
            }
            col += 1;
            if col >= s.cols {
                col = 0;
                row += 1;
            }
        }
    }
    if row >= s.rows {
        row = s.rows - 1;
        let a = s.cell(page, row, col);
        let fill = c.read8(a + 1);
        if page == c.bda8(bda::VIDEO_PAGE) {
            scroll(c, true, 1, fill, (0, 0), (s.rows - 1, s.cols - 1));
        }
    }
    set_cursor(c, page, row, col);
}

/// Print text on the active page with the teletype function (POST and
/// boot messages).
pub fn print(c: &mut Call, text: &str) {
    let page = c.bda8(bda::VIDEO_PAGE);
    for b in text.bytes() {
        tty(c, page, b, None);
    }
}

/// Write `count` copies of a character (and attribute) from the cursor of
/// `page` on, without moving the cursor (AH=09h/0Ah).
fn write_chars(c: &mut Call, page: u8, ch: u8, attr: Option<u8>, count: u16) {
    let s = Screen::read(c);
    let (row, col) = cursor(c, page);
    let first = u32::from(row) * u32::from(s.cols) + u32::from(col);
    let cells = u32::from(s.rows) * u32::from(s.cols);
    for i in 0..u32::from(count) {
        let n = first + i;
        if n >= cells {
            break;
        }
        let a = s.cell(
            page,
            (n / u32::from(s.cols)) as u16,
            (n % u32::from(s.cols)) as u16,
        );
        match attr {
            Some(attr) => c.write16(a, u16::from(attr) << 8 | u16::from(ch)),
            None => c.write8(a, ch),
        }
    }
}

/// AH=13h: write the string at ES:BP.
fn write_string(c: &mut Call) {
    let (mode, page, attr, count) = (c.al(), c.bh() & 7, c.bl(), c.cx());
    let (row, col) = (u16::from(c.dh()), u16::from(c.dl()));
    let saved = cursor(c, page);
    set_cursor(c, page, row, col);
    let es = c.seg(sreg::ES);
    let mut off = c.bp();
    for _ in 0..count {
        let a = c.far(es, off);
        let ch = c.read8(a);
        off = off.wrapping_add(1);
        let cell_attr = if mode & 2 != 0 {
            let a = c.far(es, off);
            off = off.wrapping_add(1);
            c.read8(a)
        } else {
            attr
        };
        let control = matches!(ch, 0x07 | 0x08 | 0x0A | 0x0D);
        tty(c, page, ch, if control { None } else { Some(cell_attr) });
    }
    if mode & 1 == 0 {
        set_cursor(c, page, saved.0, saved.1);
    }
}

/// AH=11h: character generator.
fn font(c: &mut Call, rom: &RomMap) {
    match c.al() {
        0x30 => {
            let blank = rom.sym(Sym::BlankFont);
            let (seg, off) = match c.bh() {
                0 => (c.read16(0x1F * 4 + 2), c.read16(0x1F * 4)),
                1 => (c.read16(0x43 * 4 + 2), c.read16(0x43 * 4)),
                4 => (ROM_SEGMENT, blank + 0x400),
                _ => (ROM_SEGMENT, blank),
            };
            c.set_seg(sreg::ES, seg);
            c.set_bp(off);
            let height = c.bda16(bda::VIDEO_CHAR_HEIGHT);
            c.set_cx(height);
            let rows = c.bda8(bda::VIDEO_ROWS);
            c.set_dl(rows);
        }
        al @ (0x01 | 0x02 | 0x04 | 0x11 | 0x12 | 0x14) => {
            let height: u16 = match al & 0x0F {
                1 => 14,
                2 => 8,
                _ => 16,
            };
            let rows = SCAN_LINES / height;
            c.set_bda16(bda::VIDEO_CHAR_HEIGHT, height);
            c.set_bda8(bda::VIDEO_ROWS, (rows - 1) as u8);
            let cols = c.bda16(bda::VIDEO_COLUMNS).clamp(1, 132);
            c.set_bda16(bda::VIDEO_PAGE_SIZE, (rows * cols * 2 + 0xFF) & !0xFF);
            crtc_write(
                c,
                CR_MAX_SCAN_LINE,
                (MODE3_CR09 & 0xE0) | (height - 1) as u8,
            );
            let shape = c.bda16(bda::VIDEO_CURSOR_SHAPE);
            set_cursor_shape(c, shape);
        }
        _ => {}
    }
}

/// AH=10h: palette registers and the DAC.
fn palette(c: &mut Call) {
    let attr_write = |c: &mut Call, index: u8, value: u8| {
        c.inb(STATUS1_COLOR);
        c.outb(ATTR_INDEX, index);
        c.outb(ATTR_INDEX, value);
        c.outb(ATTR_INDEX, 0x20);
    };
    match c.al() {
        0x00 => {
            let (reg, value) = (c.bl() & 0x1F, c.bh());
            attr_write(c, reg, value);
        }
        0x03 => {
            // Attribute mode control (index 0x10) bit 3: blink or intensity.
            let value = if c.bl() & 1 != 0 { 0x0C } else { 0x04 };
            attr_write(c, 0x10, value);
        }
        0x10 => {
            c.outb(DAC_WRITE_INDEX, c.bl());
            for v in [c.dh(), c.ch(), c.cl()] {
                c.outb(DAC_DATA, v);
            }
        }
        0x12 => {
            let (es, mut off) = (c.seg(sreg::ES), c.dx());
            c.outb(DAC_WRITE_INDEX, c.bl());
            for _ in 0..u32::from(c.cx()).min(256) * 3 {
                let a = c.far(es, off);
                let v = c.read8(a);
                c.outb(DAC_DATA, v);
                off = off.wrapping_add(1);
            }
        }
        0x15 => {
            c.outb(DAC_READ_INDEX, c.bl());
            let (r, g, b) = (c.inb(DAC_DATA), c.inb(DAC_DATA), c.inb(DAC_DATA));
            c.set_dh(r);
            c.set_ch(g);
            c.set_cl(b);
        }
        0x17 => {
            let (es, mut off) = (c.seg(sreg::ES), c.dx());
            c.outb(DAC_READ_INDEX, c.bl());
            for _ in 0..u32::from(c.cx()).min(256) * 3 {
                let v = c.inb(DAC_DATA);
                let a = c.far(es, off);
                c.write8(a, v);
                off = off.wrapping_add(1);
            }
        }
        _ => {}
    }
}

/// INT 10h.
pub fn int10(c: &mut Call, rom: &RomMap) {
    match c.ah() {
        0x00 => {
            set_mode(c, c.al());
        }
        0x01 => set_cursor_shape(c, c.cx()),
        0x02 => set_cursor(c, c.bh(), u16::from(c.dh()), u16::from(c.dl())),
        0x03 => {
            let (row, col) = cursor(c, c.bh());
            c.set_dx(row << 8 | col);
            let shape = c.bda16(bda::VIDEO_CURSOR_SHAPE);
            c.set_cx(shape);
        }
        0x04 => c.set_ah(0), // light pen: not triggered
        0x05 => set_page(c, c.al()),
        ah @ (0x06 | 0x07) => {
            let (top_left, bottom_right) = (
                (u16::from(c.ch()), u16::from(c.cl())),
                (u16::from(c.dh()), u16::from(c.dl())),
            );
            scroll(
                c,
                ah == 0x06,
                u16::from(c.al()),
                c.bh(),
                top_left,
                bottom_right,
            );
        }
        0x08 => {
            let s = Screen::read(c);
            let page = c.bh();
            let (row, col) = cursor(c, page);
            let a = s.cell(page, row.min(s.rows - 1), col.min(s.cols - 1));
            let v = c.read16(a);
            c.set_ax(v);
        }
        0x09 => write_chars(c, c.bh(), c.al(), Some(c.bl()), c.cx()),
        0x0A => write_chars(c, c.bh(), c.al(), None, c.cx()),
        0x0E => {
            let page = c.bda8(bda::VIDEO_PAGE);
            tty(c, page, c.al(), None);
        }
        0x0F => {
            let s = Screen::read(c);
            let no_clear = c.bda8(bda::VIDEO_EGA_CONTROL) & 0x80;
            c.set_al(s.mode | no_clear);
            c.set_ah(s.cols as u8);
            let page = c.bda8(bda::VIDEO_PAGE);
            c.set_bh(page);
        }
        0x10 => palette(c),
        0x11 => font(c, rom),
        0x12 => match c.bl() {
            0x10 => {
                let mono = Screen::read(c).mode == 7;
                c.set_bh(u8::from(mono));
                c.set_bl(3); // 256 KiB
                c.set_ch(0);
                let switches = c.bda8(bda::VIDEO_EGA_SWITCHES) & 0x0F;
                c.set_cl(switches);
            }
            0x30..=0x36 => c.set_al(0x12),
            _ => {}
        },
        0x13 => write_string(c),
        0x1A => {
            if c.al() == 0 {
                let mono = Screen::read(c).mode == 7;
                c.set_bx(if mono { 0x0007 } else { 0x0008 });
            }
            c.set_al(0x1A);
        }
        // AH=0Bh (CGA palette), 0Ch/0Dh (pixels), 1Bh/1Ch (state), VESA
        // 4Fh and anything else: not supported, registers unchanged.
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cell_addresses_wrap_inside_the_text_window() {
        let s = Screen {
            mode: 3,
            cols: 80,
            rows: 25,
            page_size: 0x1000,
            base: TEXT_COLOR,
        };
        assert_eq!(s.cell(0, 0, 0), 0xB8000);
        assert_eq!(s.cell(1, 1, 2), 0xB8000 + 0x1000 + 164);
        assert!(s.cell(7, 0xFF, 0xFF) < TEXT_COLOR + TEXT_WINDOW);
    }
}
