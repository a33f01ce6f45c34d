//! The keyboard from the host side: host keys and key scripts turned into
//! PC scancodes (set 1) and handed to the i8042 at a typist's pace.
//!
//! * [`scancodes`]: keys, modifiers and their make/break sequences.
//! * [`term`]: terminal input bytes (ASCII, control characters, ANSI escape
//!   sequences) to key strokes, state kept across reads.
//! * [`script`]: the `--keys` / `--keys-file` syntax.
//! * [`player`]: paced delivery with retries while the keyboard is busy or
//!   disabled.
//!
//! [`HostKeyboard`] puts them together for the run loop: terminal bytes in
//! (when the terminal display is on, stdin goes to the keyboard instead of
//! COM1), a script, and one [`HostKeyboard::deliver`] call per loop turn.

pub mod player;
pub mod scancodes;
pub mod script;
pub mod term;

use std::time::{Duration, Instant};

use btvm_devices::Ticks;

pub use player::{KeyPlayer, KeySink, DEFAULT_KEY_INTERVAL};
pub use scancodes::{char_stroke, Key, KeyStroke, Mods};
pub use script::{KeyScript, ScriptItem};
pub use term::TermKeyParser;

/// How long a lone ESC from the terminal waits for the rest of an escape
/// sequence before it counts as the Escape key (host time).
pub const ESCAPE_TIMEOUT: Duration = Duration::from_millis(50);

/// Host keys for the guest keyboard: live terminal input and a key script.
#[derive(Debug)]
pub struct HostKeyboard {
    parser: TermKeyParser,
    typed: KeyPlayer,
    script: Option<KeyPlayer>,
    /// When the terminal input last left the parser waiting mid-sequence.
    pending_since: Option<Instant>,
}

impl Default for HostKeyboard {
    fn default() -> Self {
        HostKeyboard::new(None)
    }
}

impl HostKeyboard {
    /// A keyboard playing `script` (if any) from power-on, and typing
    /// whatever [`HostKeyboard::type_bytes`] receives.
    pub fn new(script: Option<KeyScript>) -> Self {
        HostKeyboard {
            parser: TermKeyParser::new(),
            typed: KeyPlayer::interactive(),
            script: script.map(KeyPlayer::new),
            pending_since: None,
        }
    }

    /// Bytes read from the host terminal (raw mode): their keys are queued.
    pub fn type_bytes(&mut self, bytes: &[u8]) {
        for keys in self.parser.bytes_to_scancodes(bytes) {
            self.typed.push(keys);
        }
        self.pending_since = self.parser.is_pending().then(Instant::now);
    }

    /// Hand the keys due at `now` (device time) to `kbc`; keys it refuses
    /// are kept and retried. Call once per run-loop turn, before the
    /// devices are advanced to `now`. Returns how many key events went in.
    pub fn deliver(&mut self, now: Ticks, kbc: &mut impl KeySink) -> usize {
        if self
            .pending_since
            .is_some_and(|t| t.elapsed() >= ESCAPE_TIMEOUT)
        {
            self.pending_since = None;
            for keys in self.parser.flush() {
                self.typed.push(keys);
            }
        }
        let mut n = self.typed.deliver(now, kbc);
        if let Some(script) = &mut self.script {
            n += script.deliver(now, kbc);
        }
        n
    }

    /// When the next key is due (device time): the run loop must not let a
    /// halted CPU sleep past it. `None` if nothing is queued.
    pub fn next_deadline(&self) -> Option<Ticks> {
        let script = self.script.as_ref().and_then(KeyPlayer::next_deadline);
        [self.typed.next_deadline(), script]
            .into_iter()
            .flatten()
            .min()
    }

    /// Whether a lone ESC from the terminal is waiting (the run loop should
    /// come back within [`ESCAPE_TIMEOUT`] of host time to resolve it).
    pub fn escape_pending(&self) -> bool {
        self.pending_since.is_some()
    }

    /// Whether the script (if any) has typed all its keys.
    pub fn script_finished(&self) -> bool {
        self.script.as_ref().is_none_or(KeyPlayer::is_finished)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Sink(Vec<Vec<u8>>);

    impl KeySink for Sink {
        fn push_scancodes(&mut self, bytes: &[u8]) -> bool {
            self.0.push(bytes.to_vec());
            true
        }
    }

    #[test]
    fn typed_and_scripted_keys_both_arrive() {
        let script = KeyScript::parse("{wait 1s}b").unwrap();
        let mut kb = HostKeyboard::new(Some(script));
        assert!(!kb.script_finished());
        assert_eq!(kb.next_deadline(), Some(Ticks::from_secs(1)));
        kb.type_bytes(b"a\x1b[A");
        assert_eq!(kb.next_deadline(), Some(Ticks::ZERO));
        let mut sink = Sink::default();
        assert_eq!(kb.deliver(Ticks::from_millis(3), &mut sink), 1);
        assert_eq!(kb.deliver(Ticks::from_millis(23), &mut sink), 1);
        assert_eq!(kb.deliver(Ticks::from_secs(1), &mut sink), 1);
        assert_eq!(
            sink.0,
            vec![
                vec![0x1E, 0x9E],
                vec![0xE0, 0x48, 0xE0, 0xC8],
                vec![0x30, 0xB0]
            ]
        );
        assert!(kb.script_finished());
        assert_eq!(kb.next_deadline(), None);
    }

    #[test]
    fn lone_escape_becomes_the_escape_key_after_a_timeout() {
        let mut kb = HostKeyboard::default();
        kb.type_bytes(b"\x1b");
        assert!(kb.escape_pending());
        let mut sink = Sink::default();
        assert_eq!(kb.deliver(Ticks::ZERO, &mut sink), 0);
        std::thread::sleep(ESCAPE_TIMEOUT + Duration::from_millis(5));
        assert_eq!(kb.deliver(Ticks::from_millis(1), &mut sink), 1);
        assert_eq!(sink.0, vec![vec![0x01, 0x81]]);
        assert!(!kb.escape_pending());
    }
}
