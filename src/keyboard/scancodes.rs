//! PC keyboard scancode set 1 (what a translating i8042 hands the guest) for
//! a 101/102-key US keyboard: keys, modifiers, and the make/break byte
//! sequence of one key stroke.
//!
//! A make code is the key's number; its break code is the same with bit 7
//! set. Keys added by the 101-key layout (grey arrows, Home/End/PgUp/PgDn,
//! Ins/Del, right Ctrl/Alt, keypad Enter and /) send an 0xE0 prefix before
//! both. Reference: IBM PS/2 Hardware Interface Technical Reference,
//! "Keyboards (101/102-key)", scan code set 1.

/// A physical key: its set-1 make code and whether it is E0-prefixed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Key {
    /// Make code (bit 7 clear).
    pub code: u8,
    /// Sent with an 0xE0 prefix (a grey 101-key key).
    pub extended: bool,
}

impl Key {
    /// A key without prefix.
    pub const fn basic(code: u8) -> Key {
        Key {
            code: code & 0x7F,
            extended: false,
        }
    }

    /// An E0-prefixed key.
    pub const fn extended(code: u8) -> Key {
        Key {
            code: code & 0x7F,
            extended: true,
        }
    }

    /// Escape.
    pub const ESC: Key = Key::basic(0x01);
    /// Backspace.
    pub const BACKSPACE: Key = Key::basic(0x0E);
    /// Tab.
    pub const TAB: Key = Key::basic(0x0F);
    /// Enter (main block).
    pub const ENTER: Key = Key::basic(0x1C);
    /// Left Ctrl.
    pub const CTRL: Key = Key::basic(0x1D);
    /// Left Shift.
    pub const SHIFT: Key = Key::basic(0x2A);
    /// Right Shift.
    pub const RIGHT_SHIFT: Key = Key::basic(0x36);
    /// Left Alt.
    pub const ALT: Key = Key::basic(0x38);
    /// Space bar.
    pub const SPACE: Key = Key::basic(0x39);
    /// Caps Lock.
    pub const CAPS_LOCK: Key = Key::basic(0x3A);
    /// Num Lock.
    pub const NUM_LOCK: Key = Key::basic(0x45);
    /// Scroll Lock.
    pub const SCROLL_LOCK: Key = Key::basic(0x46);
    /// Grey Home.
    pub const HOME: Key = Key::extended(0x47);
    /// Grey up arrow.
    pub const UP: Key = Key::extended(0x48);
    /// Grey Page Up.
    pub const PAGE_UP: Key = Key::extended(0x49);
    /// Grey left arrow.
    pub const LEFT: Key = Key::extended(0x4B);
    /// Keypad 5 (the centre key; Num Lock off).
    pub const KEYPAD_5: Key = Key::basic(0x4C);
    /// Grey right arrow.
    pub const RIGHT: Key = Key::extended(0x4D);
    /// Grey End.
    pub const END: Key = Key::extended(0x4F);
    /// Grey down arrow.
    pub const DOWN: Key = Key::extended(0x50);
    /// Grey Page Down.
    pub const PAGE_DOWN: Key = Key::extended(0x51);
    /// Grey Insert.
    pub const INSERT: Key = Key::extended(0x52);
    /// Grey Delete.
    pub const DELETE: Key = Key::extended(0x53);
    /// Keypad Enter.
    pub const KEYPAD_ENTER: Key = Key::extended(0x1C);

    /// Function key F`n` for `n` in 1..=12.
    pub fn function(n: u8) -> Option<Key> {
        match n {
            1..=10 => Some(Key::basic(0x3A + n)),
            11 => Some(Key::basic(0x57)),
            12 => Some(Key::basic(0x58)),
            _ => None,
        }
    }

    /// Append this key's make sequence to `out`.
    pub fn push_make(self, out: &mut Vec<u8>) {
        if self.extended {
            out.push(0xE0);
        }
        out.push(self.code);
    }

    /// Append this key's break sequence to `out`.
    pub fn push_break(self, out: &mut Vec<u8>) {
        if self.extended {
            out.push(0xE0);
        }
        out.push(self.code | 0x80);
    }

    /// The key called `name` (case-insensitive), as the `--keys` script
    /// names keys: `enter`, `esc`, `tab`, `backspace`, `space`, arrows
    /// `up`/`down`/`left`/`right`, `home`, `end`, `pgup`, `pgdn`, `ins`,
    /// `del`, `f1`..`f12`, `ctrl`, `alt`, `shift`, `capslock`, `numlock`,
    /// `scrolllock`, `kpenter` and a few synonyms.
    pub fn by_name(name: &str) -> Option<Key> {
        let lower = name.to_ascii_lowercase();
        let key = match lower.as_str() {
            "enter" | "return" | "ret" | "cr" => Key::ENTER,
            "esc" | "escape" => Key::ESC,
            "tab" => Key::TAB,
            "backspace" | "bs" | "bksp" => Key::BACKSPACE,
            "space" | "spc" => Key::SPACE,
            "up" => Key::UP,
            "down" => Key::DOWN,
            "left" => Key::LEFT,
            "right" => Key::RIGHT,
            "home" => Key::HOME,
            "end" => Key::END,
            "pgup" | "pageup" => Key::PAGE_UP,
            "pgdn" | "pagedown" => Key::PAGE_DOWN,
            "ins" | "insert" => Key::INSERT,
            "del" | "delete" => Key::DELETE,
            "ctrl" | "control" => Key::CTRL,
            "alt" => Key::ALT,
            "shift" => Key::SHIFT,
            "rshift" => Key::RIGHT_SHIFT,
            "capslock" => Key::CAPS_LOCK,
            "numlock" => Key::NUM_LOCK,
            "scrolllock" => Key::SCROLL_LOCK,
            "kpenter" => Key::KEYPAD_ENTER,
            "kp5" => Key::KEYPAD_5,
            f => {
                let n = f.strip_prefix('f')?.parse::<u8>().ok()?;
                return Key::function(n);
            }
        };
        Some(key)
    }
}

/// Modifier keys held down around a key.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Mods {
    /// Left Shift.
    pub shift: bool,
    /// Left Ctrl.
    pub ctrl: bool,
    /// Left Alt.
    pub alt: bool,
}

impl Mods {
    /// No modifier.
    pub const NONE: Mods = Mods {
        shift: false,
        ctrl: false,
        alt: false,
    };
    /// Shift only.
    pub const SHIFT: Mods = Mods {
        shift: true,
        ctrl: false,
        alt: false,
    };
    /// Ctrl only.
    pub const CTRL: Mods = Mods {
        shift: false,
        ctrl: true,
        alt: false,
    };
    /// Alt only.
    pub const ALT: Mods = Mods {
        shift: false,
        ctrl: false,
        alt: true,
    };

    /// Both sets of modifiers.
    pub fn union(self, other: Mods) -> Mods {
        Mods {
            shift: self.shift || other.shift,
            ctrl: self.ctrl || other.ctrl,
            alt: self.alt || other.alt,
        }
    }

    /// The modifier keys held, in the order they are pressed.
    fn keys(self) -> impl DoubleEndedIterator<Item = Key> {
        [
            (self.ctrl, Key::CTRL),
            (self.alt, Key::ALT),
            (self.shift, Key::SHIFT),
        ]
        .into_iter()
        .filter_map(|(held, key)| held.then_some(key))
    }
}

/// One key press and release with modifiers held around it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct KeyStroke {
    /// The key.
    pub key: Key,
    /// Modifiers pressed before it and released after it.
    pub mods: Mods,
}

impl KeyStroke {
    /// `key` alone.
    pub const fn plain(key: Key) -> KeyStroke {
        KeyStroke {
            key,
            mods: Mods::NONE,
        }
    }

    /// `key` with `mods` held.
    pub const fn with(key: Key, mods: Mods) -> KeyStroke {
        KeyStroke { key, mods }
    }

    /// The same stroke with `mods` held as well.
    pub fn plus(self, mods: Mods) -> KeyStroke {
        KeyStroke {
            key: self.key,
            mods: self.mods.union(mods),
        }
    }

    /// The complete set-1 sequence: modifier makes (Ctrl, Alt, Shift), the
    /// key's make, its break, and the modifier breaks in reverse order.
    /// A modifier key typed on its own is not pressed twice.
    pub fn scancodes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(12);
        let mods: Vec<Key> = self.mods.keys().filter(|&m| m != self.key).collect();
        for &m in &mods {
            m.push_make(&mut out);
        }
        self.key.push_make(&mut out);
        self.key.push_break(&mut out);
        for &m in mods.iter().rev() {
            m.push_break(&mut out);
        }
        out
    }
}

/// Letters in make-code order: rows Q-P (0x10), A-L (0x1E), Z-M (0x2C).
const LETTER_ROWS: [(&str, u8); 3] = [("qwertyuiop", 0x10), ("asdfghjkl", 0x1E), ("zxcvbnm", 0x2C)];

/// Digit and punctuation keys of the US layout: (unshifted, shifted, make).
const SYMBOL_KEYS: [(char, char, u8); 21] = [
    ('1', '!', 0x02),
    ('2', '@', 0x03),
    ('3', '#', 0x04),
    ('4', '$', 0x05),
    ('5', '%', 0x06),
    ('6', '^', 0x07),
    ('7', '&', 0x08),
    ('8', '*', 0x09),
    ('9', '(', 0x0A),
    ('0', ')', 0x0B),
    ('-', '_', 0x0C),
    ('=', '+', 0x0D),
    ('[', '{', 0x1A),
    (']', '}', 0x1B),
    (';', ':', 0x27),
    ('\'', '"', 0x28),
    ('`', '~', 0x29),
    ('\\', '|', 0x2B),
    (',', '<', 0x33),
    ('.', '>', 0x34),
    ('/', '?', 0x35),
];

/// The stroke that types `c` on a US keyboard: printable ASCII (Shift for
/// capitals and the upper symbols), space, `\n`/`\r` as Enter, `\t` as Tab,
/// ESC (0x1B) as Escape and backspace (0x08) as Backspace. `None` for
/// anything a US keyboard cannot type with one key.
pub fn char_stroke(c: char) -> Option<KeyStroke> {
    match c {
        ' ' => return Some(KeyStroke::plain(Key::SPACE)),
        '\n' | '\r' => return Some(KeyStroke::plain(Key::ENTER)),
        '\t' => return Some(KeyStroke::plain(Key::TAB)),
        '\x1b' => return Some(KeyStroke::plain(Key::ESC)),
        '\x08' => return Some(KeyStroke::plain(Key::BACKSPACE)),
        _ => {}
    }
    if c.is_ascii_alphabetic() {
        let lower = c.to_ascii_lowercase();
        let key = LETTER_ROWS.iter().find_map(|&(row, first)| {
            row.find(lower)
                .and_then(|i| u8::try_from(i).ok())
                .map(|i| Key::basic(first + i))
        })?;
        let mods = if c.is_ascii_uppercase() {
            Mods::SHIFT
        } else {
            Mods::NONE
        };
        return Some(KeyStroke::with(key, mods));
    }
    SYMBOL_KEYS.iter().find_map(|&(plain, shifted, code)| {
        if c == plain {
            Some(KeyStroke::plain(Key::basic(code)))
        } else if c == shifted {
            Some(KeyStroke::with(Key::basic(code), Mods::SHIFT))
        } else {
            None
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn typed(c: char) -> Vec<u8> {
        char_stroke(c).map(|s| s.scancodes()).unwrap_or_default()
    }

    #[test]
    fn letters_make_and_break() {
        let a = char_stroke('a').unwrap();
        assert_eq!(a.key, Key::basic(0x1E));
        assert_eq!(typed('a'), vec![0x1E, 0x9E]);
        assert_eq!(typed('q'), vec![0x10, 0x90]);
        assert_eq!(typed('l'), vec![0x26, 0xA6]);
        assert_eq!(typed('m'), vec![0x32, 0xB2]);
        assert_eq!(typed('z'), vec![0x2C, 0xAC]);
    }

    #[test]
    fn capitals_and_symbols_hold_shift() {
        assert_eq!(typed('A'), vec![0x2A, 0x1E, 0x9E, 0xAA]);
        assert_eq!(typed('!'), vec![0x2A, 0x02, 0x82, 0xAA]);
        assert_eq!(typed(':'), vec![0x2A, 0x27, 0xA7, 0xAA]);
        assert_eq!(typed('|'), vec![0x2A, 0x2B, 0xAB, 0xAA]);
        assert_eq!(typed('\\'), vec![0x2B, 0xAB]);
        assert_eq!(typed('0'), vec![0x0B, 0x8B]);
        assert_eq!(typed('/'), vec![0x35, 0xB5]);
        assert_eq!(typed(' '), vec![0x39, 0xB9]);
        assert_eq!(char_stroke('é'), None);
        assert_eq!(char_stroke('\x07'), None);
    }

    #[test]
    fn control_keys() {
        assert_eq!(typed('\n'), vec![0x1C, 0x9C]);
        assert_eq!(typed('\t'), vec![0x0F, 0x8F]);
        assert_eq!(typed('\x1b'), vec![0x01, 0x81]);
        assert_eq!(typed('\x08'), vec![0x0E, 0x8E]);
        let ctrl_c = KeyStroke::with(char_stroke('c').unwrap().key, Mods::CTRL);
        assert_eq!(ctrl_c.scancodes(), vec![0x1D, 0x2E, 0xAE, 0x9D]);
        let all = KeyStroke::with(
            Key::DELETE,
            Mods {
                shift: true,
                ctrl: true,
                alt: true,
            },
        );
        assert_eq!(
            all.scancodes(),
            vec![0x1D, 0x38, 0x2A, 0xE0, 0x53, 0xE0, 0xD3, 0xAA, 0xB8, 0x9D]
        );
    }

    #[test]
    fn extended_keys_carry_e0() {
        assert_eq!(
            KeyStroke::plain(Key::UP).scancodes(),
            vec![0xE0, 0x48, 0xE0, 0xC8]
        );
        assert_eq!(
            KeyStroke::plain(Key::DOWN).scancodes(),
            vec![0xE0, 0x50, 0xE0, 0xD0]
        );
        assert_eq!(
            KeyStroke::plain(Key::LEFT).scancodes(),
            vec![0xE0, 0x4B, 0xE0, 0xCB]
        );
        assert_eq!(
            KeyStroke::plain(Key::RIGHT).scancodes(),
            vec![0xE0, 0x4D, 0xE0, 0xCD]
        );
        assert_eq!(
            KeyStroke::plain(Key::HOME).scancodes(),
            vec![0xE0, 0x47, 0xE0, 0xC7]
        );
        assert_eq!(
            KeyStroke::plain(Key::END).scancodes(),
            vec![0xE0, 0x4F, 0xE0, 0xCF]
        );
        assert_eq!(
            KeyStroke::plain(Key::PAGE_UP).scancodes(),
            vec![0xE0, 0x49, 0xE0, 0xC9]
        );
        assert_eq!(
            KeyStroke::plain(Key::PAGE_DOWN).scancodes(),
            vec![0xE0, 0x51, 0xE0, 0xD1]
        );
        assert_eq!(
            KeyStroke::plain(Key::INSERT).scancodes(),
            vec![0xE0, 0x52, 0xE0, 0xD2]
        );
        assert_eq!(
            KeyStroke::plain(Key::DELETE).scancodes(),
            vec![0xE0, 0x53, 0xE0, 0xD3]
        );
    }

    #[test]
    fn function_keys() {
        assert_eq!(Key::function(1), Some(Key::basic(0x3B)));
        assert_eq!(Key::function(10), Some(Key::basic(0x44)));
        assert_eq!(Key::function(11), Some(Key::basic(0x57)));
        assert_eq!(Key::function(12), Some(Key::basic(0x58)));
        assert_eq!(Key::function(0), None);
        assert_eq!(Key::function(13), None);
        assert_eq!(
            KeyStroke::plain(Key::function(1).unwrap()).scancodes(),
            vec![0x3B, 0xBB]
        );
    }

    #[test]
    fn every_printable_character_round_trips_through_the_bios_table() {
        // The BIOS's INT 9 table (set 1 to keystroke words) must turn each
        // typed character back into itself, Ctrl-letters into 01h-1Ah.
        use crate::bios::scancodes::SET1;
        for b in 0x20..=0x7Eu8 {
            let s = char_stroke(char::from(b)).unwrap();
            let column = usize::from(s.mods.shift);
            let word = SET1[usize::from(s.key.code)][column];
            assert_eq!(word & 0xFF, u16::from(b), "{:?}", char::from(b));
            assert_eq!(word >> 8, u16::from(s.key.code));
        }
        for b in b'a'..=b'z' {
            let s = char_stroke(char::from(b)).unwrap();
            assert_eq!(SET1[usize::from(s.key.code)][2] & 0xFF, u16::from(b - 0x60));
        }
        for (key, ascii) in [
            (Key::ENTER, 0x0D),
            (Key::TAB, 0x09),
            (Key::BACKSPACE, 0x08),
            (Key::ESC, 0x1B),
        ] {
            assert_eq!(SET1[usize::from(key.code)][0] & 0xFF, ascii);
        }
    }

    #[test]
    fn names() {
        assert_eq!(Key::by_name("Enter"), Some(Key::ENTER));
        assert_eq!(Key::by_name("F12"), Some(Key::basic(0x58)));
        assert_eq!(Key::by_name("pgdn"), Some(Key::PAGE_DOWN));
        assert_eq!(Key::by_name("f"), None);
        assert_eq!(Key::by_name("f99"), None);
        assert_eq!(Key::by_name("bogus"), None);
        // A modifier key typed alone is pressed once.
        assert_eq!(
            KeyStroke::with(Key::ALT, Mods::ALT).scancodes(),
            vec![0x38, 0xB8]
        );
    }
}
