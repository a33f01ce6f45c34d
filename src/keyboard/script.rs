//! `--keys` / `--keys-file` scripts: a key sequence typed into the guest's
//! keyboard at set points of guest time, for headless runs.
//!
//! # Syntax
//!
//! * Plain text is typed as keys on a US keyboard (Shift is pressed for
//!   capitals and upper symbols). A line break in the script (in a
//!   `--keys-file`) is Enter; carriage returns are ignored, so CRLF files
//!   work.
//! * Backslash escapes: `\n` or `\r` Enter, `\t` Tab, `\e` Escape, `\b`
//!   Backspace, `\\` a backslash, `\{` and `\}` braces. Any other backslash
//!   is an error (write `\\` for a DOS path's backslash).
//! * `{KEY}` presses a named key: `enter`, `esc`, `tab`, `backspace`,
//!   `space`, `up`, `down`, `left`, `right`, `home`, `end`, `pgup`, `pgdn`,
//!   `ins`, `del`, `f1`..`f12`, `ctrl`, `alt`, `shift`, `capslock`,
//!   `numlock`, `scrolllock`, `kpenter`, or a single character (`{a}`).
//!   Names are case-insensitive.
//! * Modifiers: `{ctrl-c}`, `{alt-f}`, `{shift-tab}`, `{ctrl-alt-del}`
//!   (`+` works as well as `-`: `{ctrl+x}`).
//! * A count repeats a key: `{down 3}` is three Down presses (1 to 1000).
//! * `{wait 2s}`, `{wait 500ms}`, `{wait 1.5s}` pause the typing for that
//!   long in guest time, counted from when the previous key was typed.
//!   The script starts at machine power-on, so a leading `{wait 3s}` is how
//!   to say "after the boot".
//! * `{rate 50ms}` types the following keys one every 50 ms (the default is
//!   one every 20 ms).
//! * `{raw e0 48 e0 c8}` sends those scancode bytes (hex, set 1) as one key
//!   event, for anything the names do not cover (at most 16 bytes).
//!
//! Example: `--keys '{wait 3s}dir /w\n{wait 1s}{alt-f}x'`.

use std::fmt;
use std::str::FromStr;

use btvm_devices::Ticks;

use super::scancodes::{char_stroke, Key, KeyStroke, Mods};

/// Most repetitions one `{KEY N}` token may ask for.
const MAX_REPEAT: u32 = 1000;
/// Most bytes in a `{raw ...}` key event (the keyboard buffers 64).
const MAX_RAW: usize = 16;

/// One step of a key script.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ScriptItem {
    /// One key event: the complete set-1 byte sequence (make and break,
    /// modifiers included), handed to the keyboard at once.
    Keys(Vec<u8>),
    /// Pause this long (guest time) before the next key.
    Wait(Ticks),
    /// From here on, type one key every this long.
    Rate(Ticks),
}

/// A parsed key script.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KeyScript {
    /// The steps, in order.
    pub items: Vec<ScriptItem>,
}

impl KeyScript {
    /// Parse the script syntax described in the [module documentation](self).
    /// Errors name the line, the column (in characters, from 1) and the
    /// offending token.
    pub fn parse(text: &str) -> Result<KeyScript, String> {
        Parser {
            chars: text.chars().collect(),
            pos: 0,
            items: Vec::new(),
        }
        .run()
    }

    /// Read and parse a script file.
    pub fn from_file(path: &std::path::Path) -> Result<KeyScript, crate::Error> {
        let text = std::fs::read_to_string(path).map_err(|e| crate::Error::file(path, e))?;
        KeyScript::parse(&text).map_err(|what| crate::Error::format(path, what))
    }

    /// Number of key events in the script.
    pub fn key_count(&self) -> usize {
        self.items
            .iter()
            .filter(|i| matches!(i, ScriptItem::Keys(_)))
            .count()
    }

    /// Whether the script types nothing.
    pub fn is_empty(&self) -> bool {
        self.key_count() == 0
    }
}

impl FromStr for KeyScript {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        KeyScript::parse(s)
    }
}

/// Where in the script something is: line and column, both from 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Position {
    line: usize,
    column: usize,
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}, column {}", self.line, self.column)
    }
}

struct Parser {
    chars: Vec<char>,
    pos: usize,
    items: Vec<ScriptItem>,
}

impl Parser {
    fn position(&self, index: usize) -> Position {
        let before = &self.chars[..index.min(self.chars.len())];
        let line = 1 + before.iter().filter(|&&c| c == '\n').count();
        let line_start = before.iter().rposition(|&c| c == '\n').map_or(0, |i| i + 1);
        Position {
            line,
            column: index - line_start + 1,
        }
    }

    fn error(&self, index: usize, what: impl fmt::Display) -> String {
        format!("{}: {what}", self.position(index))
    }

    fn key(&mut self, stroke: KeyStroke) {
        self.items.push(ScriptItem::Keys(stroke.scancodes()));
    }

    fn run(mut self) -> Result<KeyScript, String> {
        while let Some(&c) = self.chars.get(self.pos) {
            let start = self.pos;
            self.pos += 1;
            match c {
                '\r' => {}
                '{' => self.token(start)?,
                '\\' => {
                    let Some(&e) = self.chars.get(self.pos) else {
                        return Err(self.error(
                            start,
                            "`\\` at the end of the script (write `\\\\` for a backslash)",
                        ));
                    };
                    self.pos += 1;
                    let ch = match e {
                        'n' | 'r' => '\n',
                        't' => '\t',
                        'e' => '\x1b',
                        'b' => '\x08',
                        '\\' | '{' | '}' => e,
                        _ => {
                            return Err(self.error(
                                start,
                                format!("unknown escape `\\{e}` (escapes: \\n \\r \\t \\e \\b \\\\ \\{{ \\}}; write `\\\\` for a backslash)"),
                            ))
                        }
                    };
                    self.typed(start, ch)?;
                }
                _ => self.typed(start, c)?,
            }
        }
        Ok(KeyScript { items: self.items })
    }

    fn typed(&mut self, at: usize, c: char) -> Result<(), String> {
        match char_stroke(c) {
            Some(s) => {
                self.key(s);
                Ok(())
            }
            None => Err(self.error(at, format!("cannot type {c:?} on a US keyboard"))),
        }
    }

    /// A `{...}` token starting at `start` (the brace).
    fn token(&mut self, start: usize) -> Result<(), String> {
        let Some(len) = self.chars[self.pos..].iter().position(|&c| c == '}') else {
            return Err(self.error(start, "`{` without a closing `}` (write `\\{` for a brace)"));
        };
        let body: String = self.chars[self.pos..self.pos + len].iter().collect();
        self.pos += len + 1;
        let bad = |what: &str| self.error(start, format!("{what} in `{{{body}}}`"));
        let trimmed = body.trim();
        let lower = trimmed.to_ascii_lowercase();
        let (word, arg) = match lower.split_once(char::is_whitespace) {
            Some((w, a)) => (w, a.trim()),
            None => (lower.as_str(), ""),
        };
        match word {
            "wait" | "sleep" => {
                let d = parse_duration(arg).map_err(|e| bad(&e))?;
                self.items.push(ScriptItem::Wait(d));
            }
            "rate" => {
                let d = parse_duration(arg).map_err(|e| bad(&e))?;
                self.items.push(ScriptItem::Rate(d));
            }
            "raw" => {
                let bytes: Vec<u8> = arg
                    .split_whitespace()
                    .map(|h| u8::from_str_radix(h.trim_start_matches("0x"), 16))
                    .collect::<Result<_, _>>()
                    .map_err(|_| bad("bad hex byte"))?;
                if bytes.is_empty() || bytes.len() > MAX_RAW {
                    return Err(bad(&format!("`raw` takes 1 to {MAX_RAW} hex bytes")));
                }
                self.items.push(ScriptItem::Keys(bytes));
            }
            "" => return Err(bad("empty key name")),
            _ => {
                // `{KEY}` or `{KEY N}`; the key keeps its case only when it
                // is a lone character without modifiers (`{A}` is Shift-a).
                let count = if arg.is_empty() {
                    1
                } else {
                    match arg.parse::<u32>() {
                        Ok(n) if (1..=MAX_REPEAT).contains(&n) => n,
                        _ => {
                            return Err(bad(&format!(
                                "bad repeat count `{arg}` (1 to {MAX_REPEAT})"
                            )))
                        }
                    }
                };
                let original = trimmed.split_whitespace().next().unwrap_or("");
                let stroke = key_with_mods(original).ok_or_else(|| bad("unknown key"))?;
                for _ in 0..count {
                    self.key(stroke);
                }
            }
        }
        Ok(())
    }
}

/// `ctrl-alt-del`, `shift+tab`, `f5`, `a`, `A`, `ctrl-c`.
fn key_with_mods(spec: &str) -> Option<KeyStroke> {
    let mut mods = Mods::NONE;
    let mut rest = spec;
    loop {
        let lower = rest.to_ascii_lowercase();
        let prefix = [
            "ctrl-", "ctrl+", "control-", "control+", "alt-", "alt+", "shift-", "shift+",
        ]
        .into_iter()
        .find(|p| lower.starts_with(p) && rest.len() > p.len());
        let Some(p) = prefix else { break };
        match p.as_bytes()[0] {
            b'c' => mods.ctrl = true,
            b'a' => mods.alt = true,
            _ => mods.shift = true,
        }
        rest = &rest[p.len()..];
    }
    let mut chars = rest.chars();
    let stroke = match (chars.next(), chars.next()) {
        (Some(c), None) => {
            // With a modifier, letters are case-insensitive (`ctrl-C`).
            let c = if mods == Mods::NONE {
                c
            } else {
                c.to_ascii_lowercase()
            };
            char_stroke(c)?
        }
        _ => KeyStroke::plain(Key::by_name(rest)?),
    };
    Some(stroke.plus(mods))
}

/// `2s`, `500ms`, `1.5s`, `250 ms`, `100us`: exact nanoseconds.
fn parse_duration(text: &str) -> Result<Ticks, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = (&text[..split], text[split..].trim());
    let scale: u64 = match unit {
        "s" | "sec" => 1_000_000_000,
        "ms" => 1_000_000,
        "us" => 1_000,
        "" => return Err(format!("duration `{text}` needs a unit (s, ms or us)")),
        _ => return Err(format!("unknown time unit `{unit}` (s, ms or us)")),
    };
    let (whole, frac) = number.split_once('.').unwrap_or((number, ""));
    if whole.is_empty() && frac.is_empty() || frac.contains('.') {
        return Err(format!("bad duration `{text}`"));
    }
    let whole: u64 = if whole.is_empty() {
        0
    } else {
        whole
            .parse()
            .map_err(|_| format!("bad duration `{text}`"))?
    };
    // Fraction digits beyond nanoseconds are dropped.
    let mut nanos = whole
        .checked_mul(scale)
        .ok_or_else(|| format!("duration `{text}` is too long"))?;
    let mut place = scale;
    for d in frac.chars() {
        place /= 10;
        let digit = u64::from(
            d.to_digit(10)
                .ok_or_else(|| format!("bad duration `{text}`"))?,
        );
        nanos = nanos
            .checked_add(digit * place)
            .ok_or_else(|| format!("duration `{text}` is too long"))?;
    }
    Ok(Ticks::from_nanos(nanos))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(s: &str) -> Vec<Vec<u8>> {
        KeyScript::parse(s)
            .unwrap()
            .items
            .into_iter()
            .filter_map(|i| match i {
                ScriptItem::Keys(k) => Some(k),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn text_escapes_and_names() {
        assert_eq!(
            keys("aA"),
            vec![vec![0x1E, 0x9E], vec![0x2A, 0x1E, 0x9E, 0xAA]]
        );
        let enter = vec![0x1C, 0x9C];
        assert_eq!(keys("\\n"), vec![enter.clone()]);
        assert_eq!(keys("{enter}"), vec![enter.clone()]);
        assert_eq!(keys("{ENTER}"), vec![enter.clone()]);
        assert_eq!(
            keys("x\r\ny"),
            vec![vec![0x2D, 0xAD], enter.clone(), vec![0x15, 0x95]]
        );
        assert_eq!(
            keys("\\\\\\{\\}"),
            vec![
                vec![0x2B, 0xAB],
                vec![0x2A, 0x1A, 0x9A, 0xAA],
                vec![0x2A, 0x1B, 0x9B, 0xAA]
            ]
        );
        assert_eq!(
            keys("\\e\\t\\b"),
            vec![vec![0x01, 0x81], vec![0x0F, 0x8F], vec![0x0E, 0x8E]]
        );
        assert_eq!(
            keys("{esc}{f1}{F12}{up}"),
            vec![
                vec![0x01, 0x81],
                vec![0x3B, 0xBB],
                vec![0x58, 0xD8],
                vec![0xE0, 0x48, 0xE0, 0xC8]
            ]
        );
        assert_eq!(keys("}"), vec![vec![0x2A, 0x1B, 0x9B, 0xAA]]);
        assert_eq!(
            keys("{a}{A}"),
            vec![vec![0x1E, 0x9E], vec![0x2A, 0x1E, 0x9E, 0xAA]]
        );
    }

    #[test]
    fn modifiers_repeat_and_raw() {
        assert_eq!(keys("{ctrl-c}"), vec![vec![0x1D, 0x2E, 0xAE, 0x9D]]);
        assert_eq!(keys("{Ctrl-C}"), keys("{ctrl+c}"));
        assert_eq!(keys("{alt-f}"), vec![vec![0x38, 0x21, 0xA1, 0xB8]]);
        assert_eq!(keys("{shift-tab}"), vec![vec![0x2A, 0x0F, 0x8F, 0xAA]]);
        assert_eq!(
            keys("{ctrl-alt-del}"),
            vec![vec![0x1D, 0x38, 0xE0, 0x53, 0xE0, 0xD3, 0xB8, 0x9D]]
        );
        assert_eq!(keys("{ctrl--}"), vec![vec![0x1D, 0x0C, 0x8C, 0x9D]]);
        assert_eq!(keys("{alt}"), vec![vec![0x38, 0xB8]]);
        assert_eq!(keys("{down 3}").len(), 3);
        assert_eq!(
            keys("{raw e0 48 0xE0 c8}"),
            vec![vec![0xE0, 0x48, 0xE0, 0xC8]]
        );
    }

    #[test]
    fn waits_and_rates_are_exact() {
        let s = KeyScript::parse(
            "{wait 3s}a{wait 500ms}{wait 1.25s}{rate 5ms}{sleep .5 ms}{wait 100us}",
        )
        .unwrap();
        assert_eq!(
            s.items,
            vec![
                ScriptItem::Wait(Ticks::from_secs(3)),
                ScriptItem::Keys(vec![0x1E, 0x9E]),
                ScriptItem::Wait(Ticks::from_millis(500)),
                ScriptItem::Wait(Ticks::from_millis(1250)),
                ScriptItem::Rate(Ticks::from_millis(5)),
                ScriptItem::Wait(Ticks::from_micros(500)),
                ScriptItem::Wait(Ticks::from_micros(100)),
            ]
        );
        assert_eq!(s.key_count(), 1);
        assert!(!s.is_empty());
        assert!(KeyScript::parse("{wait 1s}").unwrap().is_empty());
    }

    #[test]
    fn errors_name_position_and_token() {
        let e = KeyScript::parse("ab{bogus}").unwrap_err();
        assert_eq!(e, "line 1, column 3: unknown key in `{bogus}`");
        let e = KeyScript::parse("dir\n  {wait 2}").unwrap_err();
        assert!(
            e.starts_with("line 2, column 3: duration `2` needs a unit"),
            "{e}"
        );
        let e = KeyScript::parse("cd c:\\dos").unwrap_err();
        assert!(
            e.starts_with("line 1, column 6: unknown escape `\\d`"),
            "{e}"
        );
        let e = KeyScript::parse("x{enter").unwrap_err();
        assert!(
            e.starts_with("line 1, column 2: `{` without a closing `}`"),
            "{e}"
        );
        for bad in [
            "{}",
            "{ }",
            "{wait}",
            "{wait 2h}",
            "{wait 1.2.3s}",
            "{wait 99999999999999999999s}",
            "{raw}",
            "{raw zz}",
            "{raw 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17}",
            "{down 0}",
            "{down x}",
            "é",
            "\\",
            "{ctrl-}",
            "{f13}",
        ] {
            assert!(KeyScript::parse(bad).is_err(), "{bad:?} parsed");
        }
        assert!("{enter}".parse::<KeyScript>().is_ok());
    }
}
