//! Terminal input bytes to key strokes: what a terminal in raw mode sends
//! for each key (ASCII, control characters, and the escape sequences of
//! xterm, VT220 and the Linux console) turned into set-1 scancodes.
//!
//! Understood: printable ASCII (US layout), Enter (CR or LF), Tab,
//! Backspace (DEL or BS), Ctrl-letter (0x01-0x1A) and Ctrl-\ ] ^ _ and
//! Ctrl-Space; ESC followed by a key as Alt + that key; CSI sequences for
//! arrows, Home/End, Insert/Delete/PgUp/PgDn (`ESC [ n ~`), F1-F12 (VT220
//! `ESC [ 11~`..`24~`, xterm `ESC O P`..`S`, Linux console `ESC [ [ A`..`E`),
//! Shift-Tab (`ESC [ Z`) and xterm modifier parameters (`ESC [ 1 ; 5 A` is
//! Ctrl-Up); SS3 sequences (`ESC O A` application cursor keys, `ESC O M`
//! keypad Enter). Anything else (other sequences, UTF-8 characters a US
//! keyboard cannot type) is dropped.
//!
//! A sequence may arrive split across reads: the parser keeps its state
//! between calls. A lone ESC at the end of the input cannot be told from
//! the start of a sequence: it stays pending until more bytes come, or until
//! the caller decides enough time has passed and calls
//! [`TermKeyParser::flush`] (see [`crate::keyboard::HostKeyboard`]).

use super::scancodes::{char_stroke, Key, KeyStroke, Mods};

/// ESC.
const ESC: u8 = 0x1B;
/// Longest CSI parameter string kept; longer sequences are dropped whole.
const MAX_PARAMS: usize = 16;

/// Where the parser is inside a sequence.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
enum State {
    /// Between keys.
    #[default]
    Ground,
    /// After ESC.
    Escape,
    /// After `ESC [`: parameter and intermediate bytes so far.
    Csi(Vec<u8>),
    /// After `ESC [ [` (Linux console function keys).
    LinuxFn,
    /// After `ESC O`, with an optional modifier digit.
    Ss3(Option<u8>),
    /// Inside a UTF-8 character: continuation bytes still to skip.
    Utf8(u8),
}

/// Turns terminal input bytes into scancode groups, one per key stroke.
#[derive(Clone, Debug, Default)]
pub struct TermKeyParser {
    state: State,
}

impl TermKeyParser {
    /// A parser between keys.
    pub fn new() -> Self {
        TermKeyParser::default()
    }

    /// The scancodes of the keys in `input`: one `Vec` per key stroke, each
    /// a complete make + break sequence (modifiers included).
    pub fn bytes_to_scancodes(&mut self, input: &[u8]) -> Vec<Vec<u8>> {
        self.strokes(input)
            .iter()
            .map(KeyStroke::scancodes)
            .collect()
    }

    /// The key strokes in `input`.
    pub fn strokes(&mut self, input: &[u8]) -> Vec<KeyStroke> {
        let mut out = Vec::new();
        for &b in input {
            self.byte(b, &mut out);
        }
        out
    }

    /// Whether an ESC or an unfinished sequence is waiting for more bytes.
    pub fn is_pending(&self) -> bool {
        !matches!(self.state, State::Ground | State::Utf8(_))
    }

    /// Give up waiting for the rest of a sequence: a lone ESC is the Escape
    /// key, `ESC [` is Alt-[, `ESC O` is Alt-O; a partial sequence is
    /// dropped. Returns the scancodes of what was pending, if anything.
    pub fn flush(&mut self) -> Vec<Vec<u8>> {
        let stroke = match std::mem::take(&mut self.state) {
            State::Escape => Some(KeyStroke::plain(Key::ESC)),
            State::Csi(params) if params.is_empty() => char_stroke('[').map(|s| s.plus(Mods::ALT)),
            State::Ss3(None) => char_stroke('O').map(|s| s.plus(Mods::ALT)),
            _ => None,
        };
        stroke.iter().map(KeyStroke::scancodes).collect()
    }

    fn byte(&mut self, b: u8, out: &mut Vec<KeyStroke>) {
        match std::mem::take(&mut self.state) {
            State::Ground => self.ground(b, out),
            State::Utf8(left) => {
                if b & 0xC0 == 0x80 {
                    if left > 1 {
                        self.state = State::Utf8(left - 1);
                    }
                } else {
                    // Not a continuation: a malformed character ends here.
                    self.ground(b, out);
                }
            }
            State::Escape => match b {
                b'[' => self.state = State::Csi(Vec::new()),
                b'O' => self.state = State::Ss3(None),
                ESC => {
                    out.push(KeyStroke::plain(Key::ESC));
                    self.state = State::Escape;
                }
                _ => match byte_stroke(b) {
                    Some(s) => out.push(s.plus(Mods::ALT)),
                    None => {
                        out.push(KeyStroke::plain(Key::ESC));
                        self.ground(b, out);
                    }
                },
            },
            State::Csi(mut params) => match b {
                b'[' if params.is_empty() => self.state = State::LinuxFn,
                0x20..=0x3F => {
                    params.push(b);
                    self.state = State::Csi(params);
                }
                0x40..=0x7E => {
                    if params.len() <= MAX_PARAMS {
                        out.extend(csi_stroke(&params, b));
                    }
                }
                // A control byte inside a sequence aborts it.
                _ => self.ground(b, out),
            },
            State::LinuxFn => match b {
                b'A'..=b'E' => out.extend(Key::function(b - b'A' + 1).map(KeyStroke::plain)),
                0x40..=0x7E => {}
                _ => self.ground(b, out),
            },
            State::Ss3(modifier) => match b {
                b'0'..=b'9' if modifier.is_none() => self.state = State::Ss3(Some(b - b'0')),
                0x40..=0x7E => {
                    let mods = xterm_mods(modifier.map_or(1, u32::from));
                    out.extend(ss3_key(b).map(|k| KeyStroke::with(k, mods)));
                }
                _ => self.ground(b, out),
            },
        }
    }

    fn ground(&mut self, b: u8, out: &mut Vec<KeyStroke>) {
        match b {
            ESC => self.state = State::Escape,
            0xC0..=0xDF => self.state = State::Utf8(1),
            0xE0..=0xEF => self.state = State::Utf8(2),
            0xF0..=0xF7 => self.state = State::Utf8(3),
            _ => out.extend(byte_stroke(b)),
        }
    }
}

/// The stroke a single byte stands for outside a sequence.
fn byte_stroke(b: u8) -> Option<KeyStroke> {
    let ctrl = |c: char| char_stroke(c).map(|s| s.plus(Mods::CTRL));
    match b {
        b'\r' | b'\n' => Some(KeyStroke::plain(Key::ENTER)),
        b'\t' => Some(KeyStroke::plain(Key::TAB)),
        0x7F | 0x08 => Some(KeyStroke::plain(Key::BACKSPACE)),
        0x00 => Some(KeyStroke::with(Key::SPACE, Mods::CTRL)),
        0x01..=0x1A => ctrl(char::from(b + 0x60)),
        0x1C => ctrl('\\'),
        0x1D => ctrl(']'),
        0x1E => ctrl('^'),
        0x1F => ctrl('_'),
        0x20..=0x7E => char_stroke(char::from(b)),
        _ => None,
    }
}

/// xterm's modifier parameter: 1 + (1 Shift, 2 Alt, 4 Ctrl, 8 Meta).
fn xterm_mods(param: u32) -> Mods {
    let bits = param.saturating_sub(1);
    Mods {
        shift: bits & 1 != 0,
        alt: bits & 2 != 0 || bits & 8 != 0,
        ctrl: bits & 4 != 0,
    }
}

/// The key of `ESC [ params final`.
fn csi_stroke(params: &[u8], last: u8) -> Option<KeyStroke> {
    // Private (`?`, `<`, `>`, `=`) and intermediate bytes: not keys.
    if params.iter().any(|&p| !matches!(p, b'0'..=b'9' | b';')) {
        return None;
    }
    let text = std::str::from_utf8(params).ok()?;
    let mut numbers = text.split(';').map(|n| {
        if n.is_empty() {
            Some(1)
        } else {
            n.parse::<u32>().ok()
        }
    });
    let first = numbers.next().flatten().unwrap_or(1);
    let mods = xterm_mods(numbers.next().flatten().unwrap_or(1));
    let key = match last {
        b'A' => Key::UP,
        b'B' => Key::DOWN,
        b'C' => Key::RIGHT,
        b'D' => Key::LEFT,
        b'H' => Key::HOME,
        b'F' => Key::END,
        b'E' => Key::KEYPAD_5,
        b'Z' => return Some(KeyStroke::with(Key::TAB, Mods::SHIFT.union(mods))),
        b'P'..=b'S' => Key::function(last - b'P' + 1)?,
        b'~' => match first {
            1 | 7 => Key::HOME,
            2 => Key::INSERT,
            3 => Key::DELETE,
            4 | 8 => Key::END,
            5 => Key::PAGE_UP,
            6 => Key::PAGE_DOWN,
            11..=15 => Key::function((first - 10) as u8)?,
            17..=21 => Key::function((first - 11) as u8)?,
            23 | 24 => Key::function((first - 12) as u8)?,
            _ => return None,
        },
        _ => return None,
    };
    Some(KeyStroke::with(key, mods))
}

/// The key of `ESC O final`.
fn ss3_key(last: u8) -> Option<Key> {
    match last {
        b'A' => Some(Key::UP),
        b'B' => Some(Key::DOWN),
        b'C' => Some(Key::RIGHT),
        b'D' => Some(Key::LEFT),
        b'H' => Some(Key::HOME),
        b'F' => Some(Key::END),
        b'M' => Some(Key::KEYPAD_ENTER),
        b'P'..=b'S' => Key::function(last - b'P' + 1),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(input: &[u8]) -> Vec<Vec<u8>> {
        TermKeyParser::new().bytes_to_scancodes(input)
    }

    #[test]
    fn ascii_and_controls() {
        assert_eq!(
            parse(b"aA\r"),
            vec![
                vec![0x1E, 0x9E],
                vec![0x2A, 0x1E, 0x9E, 0xAA],
                vec![0x1C, 0x9C]
            ]
        );
        assert_eq!(
            parse(b"\n\t\x7f\x08"),
            vec![
                vec![0x1C, 0x9C],
                vec![0x0F, 0x8F],
                vec![0x0E, 0x8E],
                vec![0x0E, 0x8E]
            ]
        );
        // Ctrl-C, Ctrl-Z, Ctrl-\.
        assert_eq!(parse(b"\x03"), vec![vec![0x1D, 0x2E, 0xAE, 0x9D]]);
        assert_eq!(parse(b"\x1a"), vec![vec![0x1D, 0x2C, 0xAC, 0x9D]]);
        assert_eq!(parse(b"\x1c"), vec![vec![0x1D, 0x2B, 0xAB, 0x9D]]);
        // Ctrl-_ is Ctrl-Shift-minus.
        assert_eq!(
            parse(b"\x1f"),
            vec![vec![0x1D, 0x2A, 0x0C, 0x8C, 0xAA, 0x9D]]
        );
    }

    #[test]
    fn arrows_and_editing_keys() {
        assert_eq!(parse(b"\x1b[A"), vec![vec![0xE0, 0x48, 0xE0, 0xC8]]);
        assert_eq!(parse(b"\x1bOB"), vec![vec![0xE0, 0x50, 0xE0, 0xD0]]);
        assert_eq!(parse(b"\x1b[3~"), vec![vec![0xE0, 0x53, 0xE0, 0xD3]]);
        assert_eq!(
            parse(b"\x1b[5~\x1b[6~"),
            vec![vec![0xE0, 0x49, 0xE0, 0xC9], vec![0xE0, 0x51, 0xE0, 0xD1]]
        );
        assert_eq!(
            parse(b"\x1b[H\x1b[4~"),
            vec![vec![0xE0, 0x47, 0xE0, 0xC7], vec![0xE0, 0x4F, 0xE0, 0xCF]]
        );
        // xterm Ctrl-Right.
        assert_eq!(
            parse(b"\x1b[1;5C"),
            vec![vec![0x1D, 0xE0, 0x4D, 0xE0, 0xCD, 0x9D]]
        );
        // Shift-Tab.
        assert_eq!(parse(b"\x1b[Z"), vec![vec![0x2A, 0x0F, 0x8F, 0xAA]]);
    }

    #[test]
    fn function_keys_in_every_dialect() {
        let f1 = vec![vec![0x3B, 0xBB]];
        assert_eq!(parse(b"\x1bOP"), f1);
        assert_eq!(parse(b"\x1b[11~"), f1);
        assert_eq!(parse(b"\x1b[[A"), f1);
        assert_eq!(parse(b"\x1b[15~"), vec![vec![0x3F, 0xBF]]); // F5
        assert_eq!(parse(b"\x1b[17~"), vec![vec![0x40, 0xC0]]); // F6
        assert_eq!(parse(b"\x1b[21~"), vec![vec![0x44, 0xC4]]); // F10
        assert_eq!(parse(b"\x1b[23~"), vec![vec![0x57, 0xD7]]); // F11
        assert_eq!(parse(b"\x1b[24~"), vec![vec![0x58, 0xD8]]); // F12
                                                                // Shift-F3 from xterm.
        assert_eq!(parse(b"\x1b[1;2R"), vec![vec![0x2A, 0x3D, 0xBD, 0xAA]]);
    }

    #[test]
    fn escape_sequence_split_across_reads() {
        let mut p = TermKeyParser::new();
        assert_eq!(p.bytes_to_scancodes(b"x\x1b"), vec![vec![0x2D, 0xAD]]);
        assert!(p.is_pending());
        assert_eq!(p.bytes_to_scancodes(b"["), Vec::<Vec<u8>>::new());
        assert_eq!(p.bytes_to_scancodes(b"1;"), Vec::<Vec<u8>>::new());
        assert_eq!(
            p.bytes_to_scancodes(b"5A"),
            vec![vec![0x1D, 0xE0, 0x48, 0xE0, 0xC8, 0x9D]]
        );
        assert!(!p.is_pending());
        assert_eq!(p.bytes_to_scancodes(b"\x1bO"), Vec::<Vec<u8>>::new());
        assert_eq!(p.bytes_to_scancodes(b"Q"), vec![vec![0x3C, 0xBC]]); // F2
    }

    #[test]
    fn lone_escape_and_alt_keys() {
        let mut p = TermKeyParser::new();
        assert_eq!(p.bytes_to_scancodes(b"\x1b"), Vec::<Vec<u8>>::new());
        assert_eq!(p.flush(), vec![vec![0x01, 0x81]]);
        assert!(!p.is_pending());
        assert_eq!(p.flush(), Vec::<Vec<u8>>::new());
        // ESC ESC: one Escape now, the second pending.
        assert_eq!(p.bytes_to_scancodes(b"\x1b\x1b"), vec![vec![0x01, 0x81]]);
        assert_eq!(p.flush(), vec![vec![0x01, 0x81]]);
        // ESC f is Alt-F.
        assert_eq!(
            p.bytes_to_scancodes(b"\x1bf"),
            vec![vec![0x38, 0x21, 0xA1, 0xB8]]
        );
        // ESC [ with nothing after it is Alt-[.
        p.bytes_to_scancodes(b"\x1b[");
        assert_eq!(p.flush(), vec![vec![0x38, 0x1A, 0x9A, 0xB8]]);
    }

    #[test]
    fn unknown_sequences_and_utf8_are_dropped() {
        // Bracketed paste markers, a mouse report, focus-in, a DA reply.
        assert_eq!(parse(b"\x1b[200~a\x1b[201~"), vec![vec![0x1E, 0x9E]]);
        assert_eq!(parse(b"\x1b[<0;10;5M"), Vec::<Vec<u8>>::new());
        assert_eq!(parse(b"\x1b[I\x1b[?1;2c"), Vec::<Vec<u8>>::new());
        assert_eq!(parse("é€b".as_bytes()), vec![vec![0x30, 0xB0]]);
        // A UTF-8 character split across reads.
        let mut p = TermKeyParser::new();
        assert!(p.bytes_to_scancodes(&[0xE2, 0x82]).is_empty());
        assert_eq!(p.bytes_to_scancodes(&[0xAC, b'c']), vec![vec![0x2E, 0xAE]]);
        // Overlong parameters and stray bytes never panic.
        let long: Vec<u8> = b"\x1b["
            .iter()
            .copied()
            .chain(std::iter::repeat_n(b'9', 100))
            .chain([b'~'])
            .collect();
        assert!(parse(&long).is_empty());
        assert!(parse(&[0xFF, 0x80, 0xF8, 0x1b, b'[', 0x03]).len() == 1);
    }

    #[test]
    fn every_byte_sequence_is_safe() {
        let mut p = TermKeyParser::new();
        for a in 0..=255u8 {
            for b in [0x1B, b'[', b'O', b'1', b';', b'~', 0x80, a] {
                let groups = p.bytes_to_scancodes(&[a, b]);
                assert!(groups.iter().all(|g| !g.is_empty() && g.len() <= 12));
            }
        }
        p.flush();
    }
}
