//! Paced delivery of key events to the keyboard controller: a script's keys
//! at their times, or keys typed at the host terminal, one key event every
//! `rate` of guest time, retried while the keyboard cannot take them.
//!
//! Timing (all in device time, [`Ticks`]): the player keeps the instant at
//! which its next key may go (`ready_at`). A key handed out at `now` moves
//! it to `now + rate`; a `{wait}` adds its length when the player reaches
//! it, so a pause counts from when the previous key was actually typed.
//! Keys the keyboard refused come back through [`KeyPlayer::requeue`] and
//! are offered again `max(rate, RETRY)` later, in order, before anything
//! else.

use std::collections::VecDeque;

use btvm_devices::{Ticks, I8042};

use super::script::{KeyScript, ScriptItem};

/// Time between two typed keys unless the script says otherwise (50 keys
/// per second, faster than any typist and slow enough for a BIOS).
pub const DEFAULT_KEY_INTERVAL: Ticks = Ticks::from_millis(20);

/// Shortest time before a refused key is offered again.
pub const RETRY_INTERVAL: Ticks = Ticks::from_millis(10);

/// Something that takes one key event's scancodes at a time: the i8042.
pub trait KeySink {
    /// Queue one key event; `false` if it was not taken (buffer full or
    /// scanning disabled): the caller keeps it and tries again later.
    fn push_scancodes(&mut self, bytes: &[u8]) -> bool;
}

impl KeySink for I8042 {
    fn push_scancodes(&mut self, bytes: &[u8]) -> bool {
        I8042::push_scancodes(self, bytes)
    }
}

/// Hands key events out as their time comes.
#[derive(Clone, Debug)]
pub struct KeyPlayer {
    items: VecDeque<ScriptItem>,
    ready_at: Ticks,
    interval: Ticks,
    last_now: Ticks,
}

impl KeyPlayer {
    /// Play `script` from machine power-on (time zero).
    pub fn new(script: KeyScript) -> Self {
        Self::starting_at(script, Ticks::ZERO)
    }

    /// Play `script` from `start`.
    pub fn starting_at(script: KeyScript, start: Ticks) -> Self {
        KeyPlayer {
            items: script.items.into(),
            ready_at: start,
            interval: DEFAULT_KEY_INTERVAL,
            last_now: start,
        }
    }

    /// An empty player for keys typed live: [`KeyPlayer::push`] adds them.
    pub fn interactive() -> Self {
        Self::new(KeyScript::default())
    }

    /// Queue one key event (a complete make + break sequence) after
    /// everything already queued.
    pub fn push(&mut self, scancodes: Vec<u8>) {
        if !scancodes.is_empty() {
            self.items.push_back(ScriptItem::Keys(scancodes));
        }
    }

    /// The key events due at `now`, in order. With a non-zero rate that is
    /// at most one; waits are taken into account. Whatever the caller could
    /// not deliver must come back through [`KeyPlayer::requeue`].
    pub fn due(&mut self, now: Ticks) -> Vec<Vec<u8>> {
        self.last_now = now;
        let mut out = Vec::new();
        while let Some(item) = self.items.front() {
            match item {
                // A wait after a key handed out in this call is left for
                // the next call, so that a requeue keeps it.
                ScriptItem::Wait(_) if !out.is_empty() => break,
                ScriptItem::Wait(d) => self.ready_at += *d,
                ScriptItem::Rate(r) => self.interval = *r,
                ScriptItem::Keys(_) if self.ready_at > now => break,
                ScriptItem::Keys(_) => {
                    self.ready_at = now + self.interval;
                }
            }
            if let Some(ScriptItem::Keys(k)) = self.items.pop_front() {
                out.push(k);
            }
        }
        out
    }

    /// Put back key events from the last [`KeyPlayer::due`] that the
    /// keyboard did not take, ahead of everything else; they are offered
    /// again `max(rate, RETRY_INTERVAL)` after that call.
    pub fn requeue(&mut self, undelivered: Vec<Vec<u8>>) {
        if undelivered.is_empty() {
            return;
        }
        for keys in undelivered.into_iter().rev() {
            self.items.push_front(ScriptItem::Keys(keys));
        }
        self.ready_at = self.last_now + self.interval.max(RETRY_INTERVAL);
    }

    /// Offer the due key events to `sink`, requeueing any it refuses.
    /// Returns how many it took.
    pub fn deliver(&mut self, now: Ticks, sink: &mut impl KeySink) -> usize {
        let mut due = self.due(now).into_iter();
        let mut taken = 0;
        while let Some(keys) = due.next() {
            if !sink.push_scancodes(&keys) {
                let mut rest = vec![keys];
                rest.extend(due);
                self.requeue(rest);
                break;
            }
            taken += 1;
        }
        taken
    }

    /// When the next key event is due, `None` if no key is left. The run
    /// loop wakes a halted CPU then.
    pub fn next_deadline(&self) -> Option<Ticks> {
        let mut at = self.ready_at;
        for item in &self.items {
            match item {
                ScriptItem::Wait(d) => at += *d,
                ScriptItem::Rate(_) => {}
                ScriptItem::Keys(_) => return Some(at),
            }
        }
        None
    }

    /// Whether every key event has been handed out.
    pub fn is_finished(&self) -> bool {
        !self.items.iter().any(|i| matches!(i, ScriptItem::Keys(_)))
    }

    /// Key events not handed out yet.
    pub fn pending_keys(&self) -> usize {
        self.items
            .iter()
            .filter(|i| matches!(i, ScriptItem::Keys(_)))
            .count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Ticks {
        Ticks::from_millis(n)
    }

    fn player(s: &str) -> KeyPlayer {
        KeyPlayer::new(KeyScript::parse(s).unwrap())
    }

    const A: [u8; 2] = [0x1E, 0x9E];
    const B: [u8; 2] = [0x30, 0xB0];
    const C: [u8; 2] = [0x2E, 0xAE];

    #[test]
    fn keys_come_one_per_interval_after_the_initial_wait() {
        let mut p = player("{wait 3s}abc");
        assert_eq!(p.next_deadline(), Some(ms(3000)));
        assert!(p.due(ms(2999)).is_empty());
        assert_eq!(p.next_deadline(), Some(ms(3000)));
        assert_eq!(p.due(ms(3000)), vec![A.to_vec()]);
        assert_eq!(p.next_deadline(), Some(ms(3020)));
        assert!(p.due(ms(3019)).is_empty());
        // Late: still one key per call, and the next counts from now.
        assert_eq!(p.due(ms(3100)), vec![B.to_vec()]);
        assert_eq!(p.next_deadline(), Some(ms(3120)));
        assert_eq!(p.due(ms(3120)), vec![C.to_vec()]);
        assert!(p.is_finished());
        assert_eq!(p.next_deadline(), None);
        assert!(p.due(ms(9999)).is_empty());
    }

    #[test]
    fn waits_count_from_the_previous_key_and_rate_changes_spacing() {
        let mut p = player("a{wait 1s}b{rate 5ms}c{wait 500ms}");
        assert_eq!(p.next_deadline(), Some(Ticks::ZERO));
        assert_eq!(p.due(Ticks::ZERO), vec![A.to_vec()]);
        assert_eq!(p.next_deadline(), Some(ms(1020)));
        assert!(p.due(ms(1019)).is_empty());
        assert_eq!(p.due(ms(1020)), vec![B.to_vec()]);
        // The 5 ms rate applies after c is typed: b was typed at 20 ms spacing.
        assert_eq!(p.next_deadline(), Some(ms(1040)));
        assert_eq!(p.due(ms(1040)), vec![C.to_vec()]);
        assert_eq!(p.pending_keys(), 0);
        assert!(p.is_finished(), "a trailing wait types nothing");
        assert_eq!(p.next_deadline(), None);
    }

    #[test]
    fn zero_rate_hands_out_runs_of_keys_but_stops_at_waits() {
        let mut p = player("{rate 0ms}ab{wait 10ms}c");
        assert_eq!(p.due(ms(1)), vec![A.to_vec(), B.to_vec()]);
        assert_eq!(p.next_deadline(), Some(ms(11)));
        assert_eq!(p.due(ms(11)), vec![C.to_vec()]);
    }

    struct Sink {
        accept: usize,
        got: Vec<Vec<u8>>,
    }

    impl KeySink for Sink {
        fn push_scancodes(&mut self, bytes: &[u8]) -> bool {
            if self.accept == 0 {
                return false;
            }
            self.accept -= 1;
            self.got.push(bytes.to_vec());
            true
        }
    }

    #[test]
    fn refused_keys_are_retried_in_order_and_keep_their_waits() {
        let mut p = player("a{wait 1s}b");
        let mut sink = Sink {
            accept: 0,
            got: Vec::new(),
        };
        assert_eq!(p.deliver(ms(5), &mut sink), 0);
        assert_eq!(
            p.next_deadline(),
            Some(ms(25)),
            "retry after the key interval"
        );
        assert_eq!(p.deliver(ms(24), &mut sink), 0);
        assert_eq!(p.deliver(ms(25), &mut sink), 0);
        assert_eq!(p.next_deadline(), Some(ms(45)));
        sink.accept = 10;
        assert_eq!(p.deliver(ms(50), &mut sink), 1);
        assert_eq!(sink.got, vec![A.to_vec()]);
        // The wait counts from when a was finally taken.
        assert_eq!(p.next_deadline(), Some(ms(1070)));
        assert_eq!(p.deliver(ms(1070), &mut sink), 1);
        assert_eq!(sink.got, vec![A.to_vec(), B.to_vec()]);
    }

    #[test]
    fn requeue_with_zero_rate_keeps_order_and_waits() {
        let mut p = player("{rate 0ms}ab{wait 1s}c");
        let mut sink = Sink {
            accept: 1,
            got: Vec::new(),
        };
        assert_eq!(p.deliver(ms(0), &mut sink), 1);
        assert_eq!(
            p.next_deadline(),
            Some(RETRY_INTERVAL),
            "b refused: retried after RETRY_INTERVAL"
        );
        sink.accept = 5;
        assert_eq!(p.deliver(RETRY_INTERVAL, &mut sink), 1);
        assert_eq!(p.next_deadline(), Some(RETRY_INTERVAL + ms(1000)));
        assert_eq!(p.deliver(RETRY_INTERVAL + ms(1000), &mut sink), 1);
        assert_eq!(sink.got, vec![A.to_vec(), B.to_vec(), C.to_vec()]);
    }

    #[test]
    fn interactive_player_types_pushed_keys_at_once_then_paces_them() {
        let mut p = KeyPlayer::interactive();
        assert_eq!(p.next_deadline(), None);
        p.push(A.to_vec());
        p.push(Vec::new());
        p.push(B.to_vec());
        assert_eq!(p.pending_keys(), 2);
        assert_eq!(p.due(ms(500)), vec![A.to_vec()]);
        assert_eq!(p.next_deadline(), Some(ms(520)));
        assert_eq!(p.due(ms(520)), vec![B.to_vec()]);
    }

    #[test]
    fn the_i8042_takes_keys_and_refuses_them_when_scanning_is_off() {
        use btvm_devices::{AccessSize, NoIrq, PortDevice};
        let mut kbc = I8042::new(Box::new(NoIrq), Box::new(NoIrq));
        let mut p = player("ab");
        assert_eq!(p.deliver(ms(0), &mut kbc), 1);
        assert_eq!(kbc.read(0, AccessSize::Byte), 0x1E);
        // Keyboard command 0xF5: disable scanning; its ACK is read.
        kbc.write(0, AccessSize::Byte, 0xF5);
        kbc.read(0, AccessSize::Byte);
        while kbc.read(4, AccessSize::Byte) & 1 != 0 {
            kbc.read(0, AccessSize::Byte);
        }
        assert_eq!(p.deliver(ms(20), &mut kbc), 0);
        assert_eq!(p.pending_keys(), 1);
        kbc.write(0, AccessSize::Byte, 0xF4);
        assert_eq!(kbc.read(0, AccessSize::Byte), 0xFA);
        assert_eq!(p.deliver(ms(40), &mut kbc), 1);
        assert_eq!(kbc.read(0, AccessSize::Byte), 0x30);
    }
}
