//! A snapshot of a text-mode screen, and its conversion to plain text with
//! code page 437 mapped to Unicode.
//!
//! [`crate::vga_text::VgaText::snapshot`] produces a [`TextScreen`]: the
//! characters and attributes the CRTC would scan out (start address and row
//! pitch honoured) and the cursor position. Front ends render it; tests and
//! the run loop look for text in [`TextScreen::to_text`]. The glyph table is
//! IBM code page 437, the VGA's built-in font, including the pictographs at
//! 0x01-0x1F and 0x7F; NUL and 0xFF show as spaces.

/// One text screen: `rows` x `cols` cells of (character, attribute).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TextScreen {
    /// Characters per row.
    pub cols: usize,
    /// Rows on screen.
    pub rows: usize,
    /// Row-major cells, `rows * cols` of them: (CP437 code, attribute byte).
    pub cells: Vec<(u8, u8)>,
    /// Cursor (row, column), if it is enabled and on screen.
    pub cursor: Option<(usize, usize)>,
}

impl TextScreen {
    /// The cell at `row`, `col`, if on screen.
    pub fn cell(&self, row: usize, col: usize) -> Option<(u8, u8)> {
        if row < self.rows && col < self.cols {
            self.cells.get(row * self.cols + col).copied()
        } else {
            None
        }
    }

    /// Row `row` as text, trailing spaces trimmed (empty if off screen).
    pub fn row_text(&self, row: usize) -> String {
        let start = (row * self.cols).min(self.cells.len());
        let end = (start + self.cols).min(self.cells.len());
        let text: String = self.cells[start..end]
            .iter()
            .map(|&(ch, _)| cp437_to_char(ch))
            .collect();
        text.trim_end_matches(' ').to_string()
    }

    /// The whole screen as text: one line per row, trailing spaces trimmed,
    /// rows joined with newlines.
    pub fn to_text(&self) -> String {
        (0..self.rows)
            .map(|row| self.row_text(row))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// The Unicode character for a CP437 code as the VGA font draws it.
pub fn cp437_to_char(code: u8) -> char {
    match code {
        0x20..=0x7E => char::from(code),
        0x7F => '⌂',
        0x00..=0x1F => CP437_LOW[usize::from(code)],
        0x80..=0xFF => CP437_HIGH[usize::from(code - 0x80)],
    }
}

/// CP437 0x00-0x1F (0x00 drawn as a space).
const CP437_LOW: [char; 32] = [
    ' ', '☺', '☻', '♥', '♦', '♣', '♠', '•', '◘', '○', '◙', '♂', '♀', '♪', '♫', '☼', '►', '◄', '↕',
    '‼', '¶', '§', '▬', '↨', '↑', '↓', '→', '←', '∟', '↔', '▲', '▼',
];

/// CP437 0x80-0xFF (0xFF, a blank glyph, as a space).
const CP437_HIGH: [char; 128] = [
    'Ç', 'ü', 'é', 'â', 'ä', 'à', 'å', 'ç', 'ê', 'ë', 'è', 'ï', 'î', 'ì', 'Ä', 'Å', 'É', 'æ', 'Æ',
    'ô', 'ö', 'ò', 'û', 'ù', 'ÿ', 'Ö', 'Ü', '¢', '£', '¥', '₧', 'ƒ', 'á', 'í', 'ó', 'ú', 'ñ', 'Ñ',
    'ª', 'º', '¿', '⌐', '¬', '½', '¼', '¡', '«', '»', '░', '▒', '▓', '│', '┤', '╡', '╢', '╖', '╕',
    '╣', '║', '╗', '╝', '╜', '╛', '┐', '└', '┴', '┬', '├', '─', '┼', '╞', '╟', '╚', '╔', '╩', '╦',
    '╠', '═', '╬', '╧', '╨', '╤', '╥', '╙', '╘', '╒', '╓', '╫', '╪', '┘', '┌', '█', '▄', '▌', '▐',
    '▀', 'α', 'ß', 'Γ', 'π', 'Σ', 'σ', 'µ', 'τ', 'Φ', 'Θ', 'Ω', 'δ', '∞', 'φ', 'ε', '∩', '≡', '±',
    '≥', '≤', '⌠', '⌡', '÷', '≈', '°', '∙', '·', '√', 'ⁿ', '²', '■', ' ',
];

#[cfg(test)]
mod tests {
    use super::*;

    fn screen(rows: usize, cols: usize, text: &[u8]) -> TextScreen {
        let mut cells = vec![(b' ', 0x07); rows * cols];
        for (cell, &ch) in cells.iter_mut().zip(text) {
            cell.0 = ch;
        }
        TextScreen {
            cols,
            rows,
            cells,
            cursor: None,
        }
    }

    #[test]
    fn rows_are_trimmed_and_joined() {
        let s = screen(3, 4, b"ab  c   ");
        assert_eq!(s.to_text(), "ab\nc\n");
        assert_eq!(s.row_text(1), "c");
        assert_eq!(s.row_text(7), "");
        assert_eq!(s.cell(0, 1), Some((b'b', 0x07)));
        assert_eq!(s.cell(3, 0), None);
    }

    #[test]
    fn box_drawing_and_pictographs_map_to_unicode() {
        let s = screen(1, 8, &[0xC9, 0xCD, 0xBB, 0x01, 0xDB, 0x00, 0xFF, 0x41]);
        assert_eq!(s.to_text(), "╔═╗☺█  A");
        assert_eq!(cp437_to_char(0x7F), '⌂');
        assert_eq!(cp437_to_char(0xE1), 'ß');
    }
}
