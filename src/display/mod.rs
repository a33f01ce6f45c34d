//! The guest's text display from the host side: live on a terminal
//! (`--display term`), or not at all (`--display none`), and as a file at
//! exit (`--screenshot-on-exit FILE`, plain text or PNG).
//!
//! The run loop hands [`Display::show`] the VGA (or [`Display::frame`] a
//! [`TextScreen`] snapshot) at most every ~30 ms of host time; a frame in
//! which nothing changed writes nothing. Modules: [`term`] (ANSI renderer
//! and the terminal guard), [`screenshot`] (text and PNG files), [`font`]
//! (the built-in 8x16 font for PNGs).

pub mod font;
pub mod screenshot;
pub mod term;

use std::str::FromStr;
use std::time::Duration;

use btvm_devices::{TextScreen, VgaText};

use crate::error::Error;
pub use screenshot::write_screenshot;
pub use term::{TermDisplay, TermRenderer};

/// Shortest host time between two frames the run loop should draw.
pub const FRAME_INTERVAL: Duration = Duration::from_millis(30);

/// Text cursor shape.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum CursorShape {
    /// A line at the bottom of the cell (the BIOS default).
    #[default]
    Underline,
    /// Most or all of the cell (the cursor starts in the top half).
    Block,
}

/// How the attribute bytes and the cursor are to be shown: the VGA state
/// that [`TextScreen`] does not carry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ScreenStyle {
    /// Attribute bit 7 blinks (`true`, the power-on state) or selects a
    /// bright background (`false`).
    pub blink: bool,
    /// Cursor shape.
    pub cursor: CursorShape,
}

impl Default for ScreenStyle {
    fn default() -> Self {
        ScreenStyle {
            blink: true,
            cursor: CursorShape::Underline,
        }
    }
}

impl ScreenStyle {
    /// The style the VGA is set up for now.
    pub fn of(vga: &VgaText) -> Self {
        let (start, _end, height) = vga.cursor_scan_lines();
        let cursor = if start < height / 2 {
            CursorShape::Block
        } else {
            CursorShape::Underline
        };
        ScreenStyle {
            blink: vga.blink_enabled(),
            cursor,
        }
    }
}

/// Where the text screen is shown while the machine runs (`--display`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DisplayMode {
    /// Nowhere (headless; COM1 may use the terminal).
    #[default]
    None,
    /// On the terminal on stdout, which it takes over.
    Term,
}

impl FromStr for DisplayMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "none" | "null" => Ok(DisplayMode::None),
            "term" | "terminal" => Ok(DisplayMode::Term),
            _ => Err(format!("'{s}' is not a display (term or none)")),
        }
    }
}

/// A live view of the guest's text screen.
pub enum Display {
    /// Nothing is shown.
    None,
    /// The host terminal shows it.
    Term(TermDisplay),
}

impl Display {
    /// Open the display `mode` names. `Term` takes over stdout (alternate
    /// screen) until the display is dropped; stdout must be a terminal.
    pub fn open(mode: DisplayMode) -> Result<Display, Error> {
        match mode {
            DisplayMode::None => Ok(Display::None),
            DisplayMode::Term => {
                use std::io::IsTerminal;
                if !std::io::stdout().is_terminal() {
                    return Err(Error::Host(
                        "--display term needs a terminal on stdout".into(),
                    ));
                }
                TermDisplay::stdout()
                    .map(Display::Term)
                    .map_err(|e| Error::Host(format!("cannot set up the terminal display: {e}")))
            }
        }
    }

    /// Whether anything is shown (when it is, stdin feeds the keyboard).
    pub fn is_live(&self) -> bool {
        matches!(self, Display::Term(_))
    }

    /// Show `screen` with `style`, writing only what changed.
    pub fn frame(&mut self, screen: &TextScreen, style: ScreenStyle) {
        if let Display::Term(t) = self {
            t.frame(screen, style);
        }
    }

    /// Show what `vga` shows now (snapshot and style in one call).
    pub fn show(&mut self, vga: &VgaText) {
        if let Display::Term(t) = self {
            t.frame(&vga.snapshot(), ScreenStyle::of(vga));
        }
    }

    /// Redraw everything on the next frame.
    pub fn invalidate(&mut self) {
        if let Display::Term(t) = self {
            t.invalidate();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_parse() {
        assert_eq!("term".parse(), Ok(DisplayMode::Term));
        assert_eq!("none".parse(), Ok(DisplayMode::None));
        assert!("sdl".parse::<DisplayMode>().is_err());
    }

    #[test]
    fn style_follows_the_vga() {
        let vga = VgaText::new();
        assert_eq!(
            ScreenStyle::of(&vga),
            ScreenStyle {
                blink: true,
                cursor: CursorShape::Underline
            }
        );
        let mut none = Display::open(DisplayMode::None).unwrap();
        assert!(!none.is_live());
        none.show(&vga);
        none.frame(&vga.snapshot(), ScreenStyle::default());
    }
}
