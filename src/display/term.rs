//! The text screen on a host terminal, with ANSI escape sequences.
//!
//! [`TermRenderer`] turns successive [`TextScreen`] snapshots into the bytes
//! that bring a terminal from the previous frame to the new one: only the
//! cells that changed are written (a cursor move starts each run of changed
//! cells), then the host cursor is put where the guest's is, or hidden.
//! Colours are the 16 SGR colours: foreground from attribute bits 0-3 (bit
//! 3 selects the bright colours 90-97), background from bits 4-6, and bit 7
//! either blink (SGR 5) or a bright background (100-107), as the VGA's
//! attribute controller says ([`ScreenStyle::blink`]). Characters go out as
//! UTF-8 through the code page 437 table of `btvm_devices::text_screen`.
//!
//! [`TermDisplay`] owns the terminal: it switches to the alternate screen,
//! turns auto-wrap off (so the bottom-right cell never scrolls), clips to
//! the terminal's size, and restores everything when dropped. A panic hook
//! calls [`restore_terminal`].

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

use btvm_devices::text_screen::cp437_to_char;
use btvm_devices::TextScreen;

use super::{CursorShape, ScreenStyle};

/// VGA colour number (IBM order: blue is 1, red is 4) to ANSI colour number
/// (red is 1, blue is 4).
const VGA_TO_ANSI: [u8; 8] = [0, 4, 2, 6, 1, 5, 3, 7];

/// Enter the alternate screen, no auto-wrap, hide the cursor, clear.
const ENTER: &[u8] = b"\x1b[?1049h\x1b[?7l\x1b[?25l\x1b[0m\x1b[2J";
/// Reset attributes and cursor shape, show the cursor, auto-wrap on, leave
/// the alternate screen.
const LEAVE: &[u8] = b"\x1b[0m\x1b[0 q\x1b[?25h\x1b[?7h\x1b[?1049l";
/// Begin and end a synchronized update (terminals without it ignore both).
const SYNC_BEGIN: &[u8] = b"\x1b[?2026h";
const SYNC_END: &[u8] = b"\x1b[?2026l";

/// Whether a [`TermDisplay`] on stdout is active (for [`restore_terminal`]).
static ACTIVE: AtomicBool = AtomicBool::new(false);

/// Put the terminal back (leave the alternate screen, show the cursor,
/// reset colours) if a [`TermDisplay`] on stdout is active. Idempotent;
/// meant for the panic hook, next to `console::restore_terminal`.
pub fn restore_terminal() {
    if ACTIVE.swap(false, Ordering::SeqCst) {
        let mut out = std::io::stdout();
        let _ = out.write_all(LEAVE);
        let _ = out.flush();
    }
}

/// What was last drawn.
#[derive(Clone, Debug)]
struct Drawn {
    cols: usize,
    rows: usize,
    cells: Vec<(u8, u8)>,
    style: ScreenStyle,
    viewport: (usize, usize),
}

/// Turns text screens into terminal updates, remembering what the terminal
/// shows.
#[derive(Clone, Debug, Default)]
pub struct TermRenderer {
    drawn: Option<Drawn>,
    /// Host terminal size (columns, rows); `None`: unknown, no clipping
    /// beyond the guest screen.
    viewport: Option<(usize, usize)>,
    /// Attribute the terminal's SGR state matches, if known.
    sgr: Option<u8>,
    /// Where the terminal's cursor is, if known.
    pos: Option<(usize, usize)>,
    /// The guest cursor as last placed (`None` = hidden); outer `None`
    /// before the first frame.
    cursor: Option<Option<(usize, usize)>>,
    /// Cursor shape last set.
    shape: Option<CursorShape>,
}

impl TermRenderer {
    /// A renderer that will draw everything on its first frame.
    pub fn new() -> Self {
        TermRenderer::default()
    }

    /// Clip drawing to a terminal of `cols` x `rows` (a change redraws
    /// everything on the next frame).
    pub fn set_viewport(&mut self, cols: usize, rows: usize) {
        self.viewport = Some((cols, rows));
    }

    /// Forget what the terminal shows: the next frame redraws everything.
    pub fn invalidate(&mut self) {
        *self = TermRenderer {
            viewport: self.viewport,
            ..TermRenderer::default()
        };
    }

    /// Append to `out` the bytes that turn the last frame into `screen`.
    /// Appends nothing when neither the cells, the cursor nor the style
    /// changed.
    pub fn render(&mut self, screen: &TextScreen, style: ScreenStyle, out: &mut Vec<u8>) {
        let viewport = self.viewport.unwrap_or((screen.cols, screen.rows));
        let full = !self.drawn.as_ref().is_some_and(|d| {
            d.cols == screen.cols
                && d.rows == screen.rows
                && d.style == style
                && d.viewport == viewport
        });
        let start = out.len();
        out.extend_from_slice(SYNC_BEGIN);
        let body = out.len();
        if full {
            out.extend_from_slice(b"\x1b[0m\x1b[2J");
            self.sgr = None;
            self.pos = None;
        }
        let rows = screen.rows.min(viewport.1);
        let cols = screen.cols.min(viewport.0);
        for row in 0..rows {
            for col in 0..cols {
                let i = row * screen.cols + col;
                let Some(&cell) = screen.cells.get(i) else {
                    continue;
                };
                let old = self.drawn.as_ref().and_then(|d| d.cells.get(i));
                if !full && old == Some(&cell) {
                    continue;
                }
                self.put_cell(row, col, cell, style, cols, out);
            }
        }
        let wrote_cells = out.len() > body;
        let cursor = screen.cursor.filter(|&(r, c)| r < rows && c < cols);
        if wrote_cells || self.cursor != Some(cursor) || self.shape != Some(style.cursor) {
            self.place_cursor(cursor, style.cursor, out);
        }
        if out.len() == body {
            out.truncate(start);
        } else {
            out.extend_from_slice(SYNC_END);
        }
        match &mut self.drawn {
            Some(d) => {
                d.cols = screen.cols;
                d.rows = screen.rows;
                d.cells.clone_from(&screen.cells);
                d.style = style;
                d.viewport = viewport;
            }
            None => {
                self.drawn = Some(Drawn {
                    cols: screen.cols,
                    rows: screen.rows,
                    cells: screen.cells.clone(),
                    style,
                    viewport,
                });
            }
        }
    }

    fn put_cell(
        &mut self,
        row: usize,
        col: usize,
        (ch, attr): (u8, u8),
        style: ScreenStyle,
        cols: usize,
        out: &mut Vec<u8>,
    ) {
        if self.pos != Some((row, col)) {
            move_to(row, col, out);
        }
        if self.sgr != Some(attr) {
            push_sgr(attr, style.blink, out);
            self.sgr = Some(attr);
        }
        let c = cp437_to_char(ch);
        let mut utf8 = [0u8; 4];
        out.extend_from_slice(c.encode_utf8(&mut utf8).as_bytes());
        // Pictographs and symbols may be drawn double-width by some
        // terminals: place the next cell explicitly. Box drawing and blocks
        // (U+2500-U+259F) are single-width everywhere.
        let narrow = c.is_ascii()
            || ('\u{2500}'..='\u{259F}').contains(&c)
            || ('\u{A0}'..='\u{FF}').contains(&c);
        self.pos = (narrow && col + 1 < cols).then_some((row, col + 1));
    }

    fn place_cursor(
        &mut self,
        cursor: Option<(usize, usize)>,
        shape: CursorShape,
        out: &mut Vec<u8>,
    ) {
        match cursor {
            Some((row, col)) => {
                if self.shape != Some(shape) {
                    // DECSCUSR: 1 blinking block, 3 blinking underline.
                    out.extend_from_slice(match shape {
                        CursorShape::Block => b"\x1b[1 q",
                        CursorShape::Underline => b"\x1b[3 q",
                    });
                    self.shape = Some(shape);
                }
                if self.pos != Some((row, col)) {
                    move_to(row, col, out);
                    self.pos = Some((row, col));
                }
                if self.cursor.flatten().is_none() {
                    out.extend_from_slice(b"\x1b[?25h");
                }
            }
            None => {
                if self.cursor != Some(None) {
                    out.extend_from_slice(b"\x1b[?25l");
                }
                self.shape = Some(shape);
            }
        }
        self.cursor = Some(cursor);
    }
}

/// CUP to a 0-based cell.
fn move_to(row: usize, col: usize, out: &mut Vec<u8>) {
    let _ = write!(out, "\x1b[{};{}H", row + 1, col + 1);
}

/// SGR for a VGA attribute byte.
fn push_sgr(attr: u8, blink: bool, out: &mut Vec<u8>) {
    let fg = attr & 0x0F;
    let bg = (attr >> 4) & 0x07;
    let fg_code = if fg < 8 {
        30 + VGA_TO_ANSI[usize::from(fg)]
    } else {
        90 + VGA_TO_ANSI[usize::from(fg - 8)]
    };
    let bright_bg = attr & 0x80 != 0 && !blink;
    let bg_code = if bright_bg { 100 } else { 40 } + VGA_TO_ANSI[usize::from(bg)];
    let blink_code = if attr & 0x80 != 0 && blink { ";5" } else { "" };
    let _ = write!(out, "\x1b[0;{fg_code};{bg_code}{blink_code}m");
}

/// A terminal showing the guest's text screen.
pub struct TermDisplay {
    renderer: TermRenderer,
    out: Box<dyn Write>,
    buf: Vec<u8>,
    /// Follow the size of the terminal on stdout.
    track_size: bool,
    /// Owns the global [`ACTIVE`] flag (a display on stdout).
    on_stdout: bool,
}

impl TermDisplay {
    /// Take over the terminal on stdout: alternate screen, no auto-wrap,
    /// cleared. Dropping the display restores it.
    pub fn stdout() -> std::io::Result<Self> {
        let mut d = TermDisplay::with_writer(Box::new(std::io::stdout()))?;
        d.track_size = true;
        d.on_stdout = true;
        ACTIVE.store(true, Ordering::SeqCst);
        Ok(d)
    }

    /// Draw into `out` (the enter sequence is written at once); no size
    /// tracking. For tests and other sinks.
    pub fn with_writer(mut out: Box<dyn Write>) -> std::io::Result<Self> {
        out.write_all(ENTER)?;
        out.flush()?;
        Ok(TermDisplay {
            renderer: TermRenderer::new(),
            out,
            buf: Vec::new(),
            track_size: false,
            on_stdout: false,
        })
    }

    /// Show `screen`: write what changed since the last frame (nothing if
    /// nothing did). Write errors (a closed terminal) are ignored.
    pub fn frame(&mut self, screen: &TextScreen, style: ScreenStyle) {
        if self.track_size {
            if let Ok((cols, rows)) = crossterm::terminal::size() {
                self.renderer
                    .set_viewport(usize::from(cols), usize::from(rows));
            }
        }
        self.buf.clear();
        self.renderer.render(screen, style, &mut self.buf);
        if !self.buf.is_empty() {
            let _ = self.out.write_all(&self.buf);
            let _ = self.out.flush();
        }
    }

    /// Redraw everything on the next frame (after something else wrote to
    /// the terminal).
    pub fn invalidate(&mut self) {
        self.renderer.invalidate();
    }
}

impl Drop for TermDisplay {
    fn drop(&mut self) {
        if !self.on_stdout || ACTIVE.swap(false, Ordering::SeqCst) {
            let _ = self.out.write_all(LEAVE);
            let _ = self.out.flush();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn screen(text: &[u8]) -> TextScreen {
        let mut cells = vec![(b' ', 0x07); 80 * 25];
        for (cell, &ch) in cells.iter_mut().zip(text) {
            cell.0 = ch;
        }
        TextScreen {
            cols: 80,
            rows: 25,
            cells,
            cursor: Some((0, 0)),
        }
    }

    fn render(r: &mut TermRenderer, s: &TextScreen) -> String {
        let mut out = Vec::new();
        r.render(s, ScreenStyle::default(), &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn second_identical_frame_writes_nothing() {
        let mut r = TermRenderer::new();
        let s = screen(b"Hello");
        let first = render(&mut r, &s);
        assert!(first.contains("\x1b[2J"));
        assert!(first.contains("Hello"));
        assert!(first.starts_with("\x1b[?2026h") && first.ends_with("\x1b[?2026l"));
        assert_eq!(render(&mut r, &s), "");
        assert_eq!(render(&mut r, &s.clone()), "");
    }

    #[test]
    fn one_changed_cell_is_all_that_is_written() {
        let mut r = TermRenderer::new();
        let mut s = screen(b"Hello");
        render(&mut r, &s);
        s.cells[2 * 80 + 10] = (b'X', 0x1E); // yellow on blue at row 3, column 11
        let out = render(&mut r, &s);
        // Move there, colour, the character, then the cursor back home.
        assert_eq!(
            out,
            "\x1b[?2026h\x1b[3;11H\x1b[0;93;44mX\x1b[1;1H\x1b[?2026l"
        );
        assert_eq!(render(&mut r, &s), "");
    }

    #[test]
    fn adjacent_changes_share_one_move_and_colour() {
        let mut r = TermRenderer::new();
        let mut s = screen(b"");
        s.cursor = None;
        render(&mut r, &s);
        for (i, ch) in b"abc".iter().enumerate() {
            s.cells[80 + 5 + i] = (*ch, 0x07);
        }
        assert_eq!(render(&mut r, &s), "\x1b[?2026h\x1b[2;6Habc\x1b[?2026l");
    }

    #[test]
    fn cursor_moves_and_hides_alone() {
        let mut r = TermRenderer::new();
        let mut s = screen(b"");
        render(&mut r, &s);
        s.cursor = Some((4, 7));
        assert_eq!(render(&mut r, &s), "\x1b[?2026h\x1b[5;8H\x1b[?2026l");
        s.cursor = None;
        assert_eq!(render(&mut r, &s), "\x1b[?2026h\x1b[?25l\x1b[?2026l");
        assert_eq!(render(&mut r, &s), "");
        s.cursor = Some((0, 1));
        assert_eq!(
            render(&mut r, &s),
            "\x1b[?2026h\x1b[1;2H\x1b[?25h\x1b[?2026l"
        );
    }

    #[test]
    fn attributes_map_to_sgr() {
        let mut out = Vec::new();
        push_sgr(0x07, true, &mut out);
        push_sgr(0x4F, true, &mut out); // bright white on red
        push_sgr(0x81, true, &mut out); // blinking blue on black
        push_sgr(0x81, false, &mut out); // blue on bright black
        push_sgr(0x16, true, &mut out); // brown on blue
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "\x1b[0;37;40m\x1b[0;97;41m\x1b[0;34;40;5m\x1b[0;34;100m\x1b[0;33;44m"
        );
    }

    #[test]
    fn cp437_is_utf8_and_mode_changes_redraw() {
        let mut r = TermRenderer::new();
        let s = screen(&[0xC9, 0xCD, 0xBB, 0x01]);
        let out = render(&mut r, &s);
        assert!(out.contains("╔═╗☺"), "{out:?}");
        let small = TextScreen {
            cols: 40,
            rows: 25,
            cells: vec![(b'x', 0x07); 1000],
            cursor: None,
        };
        let out = render(&mut r, &small);
        assert!(out.contains("\x1b[2J"));
        assert_eq!(out.matches('x').count(), 1000);
    }

    #[test]
    fn viewport_clips_and_odd_screens_do_not_panic() {
        let mut r = TermRenderer::new();
        r.set_viewport(10, 2);
        let s = screen(b"0123456789abcdef");
        let out = render(&mut r, &s);
        assert!(out.contains("0123456789") && !out.contains('a'), "{out:?}");
        assert!(!out.contains("\x1b[3;"), "row 3 is outside the terminal");
        for s in [
            TextScreen {
                cols: 0,
                rows: 0,
                cells: vec![],
                cursor: Some((3, 3)),
            },
            TextScreen {
                cols: 80,
                rows: 25,
                cells: vec![(0, 0); 10],
                cursor: Some((30, 90)),
            },
        ] {
            render(&mut r, &s);
            render(&mut r, &s);
        }
    }

    #[test]
    fn display_enters_and_leaves_the_alternate_screen() {
        #[derive(Clone, Default)]
        struct Shared(std::rc::Rc<std::cell::RefCell<Vec<u8>>>);
        impl Write for Shared {
            fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
                self.0.borrow_mut().extend_from_slice(b);
                Ok(b.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let sink = Shared::default();
        let mut d = TermDisplay::with_writer(Box::new(sink.clone())).unwrap();
        d.frame(&screen(b"hi"), ScreenStyle::default());
        let n = sink.0.borrow().len();
        d.frame(&screen(b"hi"), ScreenStyle::default());
        assert_eq!(sink.0.borrow().len(), n);
        drop(d);
        let all = String::from_utf8(sink.0.borrow().clone()).unwrap();
        assert!(all.starts_with("\x1b[?1049h"));
        assert!(all.ends_with("\x1b[?1049l"));
    }
}
