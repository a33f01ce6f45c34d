//! The text screen as a file: plain UTF-8 text (one line per row, trailing
//! spaces trimmed), or a PNG drawn with the built-in font and the VGA's
//! default 16-colour palette (`--screenshot-on-exit FILE`; a name ending in
//! `.png` selects PNG).
//!
//! The PNG has 8x16-pixel cells (640x400 for 80x25), 4-bit indexed colour.
//! Blinking characters are drawn in their "on" phase; the cursor is drawn
//! in the cell's foreground colour as an underline or a block.

use std::path::Path;

use btvm_devices::TextScreen;

use super::font::{glyph, GLYPH_HEIGHT, GLYPH_WIDTH};
use super::{CursorShape, ScreenStyle};
use crate::error::Error;

/// The VGA's default palette for the 16 text colours (DAC values as
/// 8-bit RGB; colour 6 is brown, not dark yellow).
pub const PALETTE: [[u8; 3]; 16] = [
    [0x00, 0x00, 0x00],
    [0x00, 0x00, 0xAA],
    [0x00, 0xAA, 0x00],
    [0x00, 0xAA, 0xAA],
    [0xAA, 0x00, 0x00],
    [0xAA, 0x00, 0xAA],
    [0xAA, 0x55, 0x00],
    [0xAA, 0xAA, 0xAA],
    [0x55, 0x55, 0x55],
    [0x55, 0x55, 0xFF],
    [0x55, 0xFF, 0x55],
    [0x55, 0xFF, 0xFF],
    [0xFF, 0x55, 0x55],
    [0xFF, 0x55, 0xFF],
    [0xFF, 0xFF, 0x55],
    [0xFF, 0xFF, 0xFF],
];

/// Largest image drawn, in pixels (a CRTC programmed with nonsense can
/// describe a 256 x 1024 "text screen").
const MAX_PIXELS: usize = 64 << 20;

/// The screen as text: every row on its own line (trailing spaces
/// trimmed, code page 437 as Unicode), each line ending in a newline.
pub fn screen_text(screen: &TextScreen) -> String {
    let mut text = String::with_capacity(screen.rows * (screen.cols + 1));
    for row in 0..screen.rows {
        text.push_str(&screen.row_text(row));
        text.push('\n');
    }
    text
}

/// An indexed-colour image of the screen: (width, height, one palette
/// index per pixel, row-major).
pub fn render_pixels(
    screen: &TextScreen,
    style: ScreenStyle,
) -> Result<(usize, usize, Vec<u8>), String> {
    let width = screen.cols * GLYPH_WIDTH;
    let height = screen.rows * GLYPH_HEIGHT;
    if width == 0 || height == 0 {
        return Err(format!(
            "the screen is {}x{} characters: nothing to draw",
            screen.cols, screen.rows
        ));
    }
    if width.saturating_mul(height) > MAX_PIXELS {
        return Err(format!(
            "the screen is {}x{} characters: too large to draw",
            screen.cols, screen.rows
        ));
    }
    let mut pixels = vec![0u8; width * height];
    for row in 0..screen.rows {
        for col in 0..screen.cols {
            let (ch, attr) = screen.cell(row, col).unwrap_or((0, 0));
            let fg = attr & 0x0F;
            let bg = if style.blink {
                (attr >> 4) & 0x07
            } else {
                attr >> 4
            };
            let mut rows = glyph(ch);
            if screen.cursor == Some((row, col)) {
                let from = match style.cursor {
                    CursorShape::Underline => GLYPH_HEIGHT - 2,
                    CursorShape::Block => 0,
                };
                rows[from..].fill(0xFF);
            }
            for (y, bits) in rows.iter().enumerate() {
                let line = (row * GLYPH_HEIGHT + y) * width + col * GLYPH_WIDTH;
                for x in 0..GLYPH_WIDTH {
                    pixels[line + x] = if bits & (0x80 >> x) != 0 { fg } else { bg };
                }
            }
        }
    }
    Ok((width, height, pixels))
}

/// The screen as PNG file contents.
pub fn encode_png(screen: &TextScreen, style: ScreenStyle) -> Result<Vec<u8>, String> {
    let (width, height, pixels) = render_pixels(screen, style)?;
    // Two 4-bit pixels per byte, left one in the high nibble; widths are
    // multiples of 8, so rows never end in half a byte.
    let packed: Vec<u8> = pixels
        .chunks_exact(2)
        .map(|p| p[0] << 4 | (p[1] & 0x0F))
        .collect();
    let mut out = Vec::new();
    let w = u32::try_from(width).map_err(|_| "image too wide".to_string())?;
    let h = u32::try_from(height).map_err(|_| "image too tall".to_string())?;
    let mut encoder = png::Encoder::new(&mut out, w, h);
    encoder.set_color(png::ColorType::Indexed);
    encoder.set_depth(png::BitDepth::Four);
    encoder.set_palette(PALETTE.concat());
    let mut writer = encoder.write_header().map_err(|e| e.to_string())?;
    writer
        .write_image_data(&packed)
        .map_err(|e| e.to_string())?;
    writer.finish().map_err(|e| e.to_string())?;
    Ok(out)
}

/// Whether `path` names a PNG file (by its extension, any case).
pub fn is_png_path(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("png"))
}

/// Write `screen` to `path`: a PNG if the name ends in `.png`, else text.
pub fn write_screenshot(path: &Path, screen: &TextScreen, style: ScreenStyle) -> Result<(), Error> {
    let data = if is_png_path(path) {
        encode_png(screen, style)
            .map_err(|what| Error::format(path, format!("cannot draw the screenshot: {what}")))?
    } else {
        screen_text(screen).into_bytes()
    };
    std::fs::write(path, data).map_err(|e| Error::file(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn screen(lines: &[&[u8]]) -> TextScreen {
        let mut cells = vec![(b' ', 0x07); 80 * 25];
        for (row, line) in lines.iter().enumerate() {
            for (col, &ch) in line.iter().enumerate() {
                cells[row * 80 + col].0 = ch;
            }
        }
        TextScreen {
            cols: 80,
            rows: 25,
            cells,
            cursor: Some((1, 0)),
        }
    }

    #[test]
    fn text_has_every_row_trimmed() {
        let s = screen(&[b"C:\\>dir   ", b"", &[0xC9, 0xCD, 0xBB]]);
        let text = screen_text(&s);
        assert_eq!(text.lines().count(), 25);
        assert!(text.starts_with("C:\\>dir\n\n╔═╗\n\n"));
        assert!(text.ends_with("\n\n"));
        assert_eq!(text.matches('\n').count(), 25);
    }

    #[test]
    fn pixels_use_attribute_colours_and_show_the_cursor() {
        let mut s = screen(&[b"A"]);
        s.cells[0].1 = 0x1E; // yellow on blue
        let (w, h, px) = render_pixels(&s, ScreenStyle::default()).unwrap();
        assert_eq!((w, h), (640, 400));
        // 'A' row 0 is 0x30: pixels 2 and 3 lit.
        assert_eq!(&px[0..8], &[1, 1, 14, 14, 1, 1, 1, 1]);
        // The cursor at row 1, column 0: the cell's last two scan lines.
        let y = 16 + 15;
        assert_eq!(&px[y * w..y * w + 8], &[7; 8]);
        assert_eq!(&px[(16 + 13) * w..(16 + 13) * w + 8], &[0; 8]);
        // Bit 7 without blink: bright background.
        s.cells[0].1 = 0x9E;
        let (_, _, px) = render_pixels(
            &s,
            ScreenStyle {
                blink: false,
                ..ScreenStyle::default()
            },
        )
        .unwrap();
        assert_eq!(px[0], 9);
        assert!(render_pixels(
            &TextScreen {
                cols: 0,
                rows: 25,
                cells: vec![],
                cursor: None
            },
            ScreenStyle::default()
        )
        .is_err());
    }

    #[test]
    fn png_is_written_and_text_otherwise() {
        let s = screen(&[b"Hello, world"]);
        let png = encode_png(&s, ScreenStyle::default()).unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        let dir = std::env::temp_dir().join(format!("btvm-shot-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let txt = dir.join("screen.txt");
        write_screenshot(&txt, &s, ScreenStyle::default()).unwrap();
        assert!(std::fs::read_to_string(&txt)
            .unwrap()
            .starts_with("Hello, world\n"));
        let img = dir.join("screen.PNG");
        write_screenshot(&img, &s, ScreenStyle::default()).unwrap();
        assert_eq!(std::fs::read(&img).unwrap(), png);
        assert!(
            write_screenshot(&dir.join("no/such/dir.txt"), &s, ScreenStyle::default()).is_err()
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
