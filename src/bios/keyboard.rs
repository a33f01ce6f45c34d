//! The keyboard: IRQ 1 translation of set-1 scancodes into BIOS keystrokes
//! in the BDA ring buffer, and INT 16h reading them.
//!
//! State lives in the BDA as on a real BIOS: shift/lock flags at 0040:0017,
//! 0040:0018 and 0040:0096, the Alt + keypad accumulator at 0040:0019, the
//! buffer's head/tail at 0040:001A/001C and its bounds at 0040:0080/0082
//! (default 0040:001E-003E, 15 keystrokes).
//!
//! Handled: Shift, Ctrl, Alt (left and right), Caps/Num/Scroll Lock and
//! Insert toggles, E0-prefixed keys (grey cursor block, keypad Enter and /,
//! right Ctrl/Alt; the keyboard's fake shifts are ignored), F1-F12 with
//! every modifier, Alt + keypad digits, Ctrl-Break (empties the buffer,
//! stores 0000h, sets 0040:0071 bit 7 and has the stub call INT 1Bh), Print
//! Screen (the stub calls INT 05h) and Ctrl-Alt-Del (warm-boot flag, then a
//! reset pulse through the keyboard controller). Pause (E1 sequence) and
//! SysReq are swallowed. The keyboard LEDs are not driven.

use super::bda;
use super::call::{Call, BDA};
use super::rom::{RomMap, Sym, ROM_SEGMENT};
use super::scancodes::{is_keypad_digit, is_letter, keypad_digit, SET1, SET1_E0};
use crate::machine::pc::PORT_I8042;

/// What the IRQ 1 stub does after the translation (returned in AH).
pub const ACTION_NONE: u8 = 0;
/// Call INT 1Bh (Ctrl-Break).
pub const ACTION_BREAK: u8 = 1;
/// Call INT 05h (Print Screen).
pub const ACTION_PRINT_SCREEN: u8 = 2;

const F1_RSHIFT: u8 = 0x01;
const F1_LSHIFT: u8 = 0x02;
const F1_CTRL: u8 = 0x04;
const F1_ALT: u8 = 0x08;
const F1_SCROLL: u8 = 0x10;
const F1_NUM: u8 = 0x20;
const F1_CAPS: u8 = 0x40;
const F1_INSERT: u8 = 0x80;
const F2_LCTRL: u8 = 0x01;
const F2_LALT: u8 = 0x02;
const F2_SYSREQ: u8 = 0x04;
const F2_SCROLL_DOWN: u8 = 0x10;
const F2_NUM_DOWN: u8 = 0x20;
const F2_CAPS_DOWN: u8 = 0x40;
const F2_INSERT_DOWN: u8 = 0x80;
const F3_E1: u8 = 0x01;
const F3_E0: u8 = 0x02;
const F3_RCTRL: u8 = 0x04;
const F3_RALT: u8 = 0x08;
/// 101/102-key keyboard present.
pub const F3_ENHANCED: u8 = 0x10;

/// i8042 command: pulse the CPU reset line.
const KBC_PULSE_RESET: u8 = 0xFE;
/// The warm-boot value of 0040:0072.
const WARM_BOOT: u16 = 0x1234;

/// The buffer bounds (offsets in segment 0040h), repaired if a program
/// left garbage there.
fn bounds(c: &mut Call) -> (u16, u16) {
    let (start, end) = (c.bda16(bda::KBD_START), c.bda16(bda::KBD_END));
    if start < end && start % 2 == 0 && end % 2 == 0 && end - start >= 4 {
        (start, end)
    } else {
        (bda::KBD_BUFFER, bda::KBD_BUFFER + 32)
    }
}

fn in_buffer(ptr: u16, (start, end): (u16, u16)) -> u16 {
    if ptr < start || ptr >= end || !ptr.is_multiple_of(2) {
        start
    } else {
        ptr
    }
}

/// Append a keystroke to the buffer; `false` if it is full.
pub fn push_key(c: &mut Call, word: u16) -> bool {
    let b = bounds(c);
    let head = in_buffer(c.bda16(bda::KBD_HEAD), b);
    let tail = in_buffer(c.bda16(bda::KBD_TAIL), b);
    let next = if tail + 2 >= b.1 { b.0 } else { tail + 2 };
    if next == head {
        return false;
    }
    c.write16(BDA + u32::from(tail), word);
    c.set_bda16(bda::KBD_TAIL, next);
    true
}

/// The keystroke at the head of the buffer, and the head after it.
fn peek(c: &mut Call) -> Option<(u16, u16)> {
    let b = bounds(c);
    let head = in_buffer(c.bda16(bda::KBD_HEAD), b);
    let tail = in_buffer(c.bda16(bda::KBD_TAIL), b);
    if head == tail {
        return None;
    }
    let word = c.read16(BDA + u32::from(head));
    let next = if head + 2 >= b.1 { b.0 } else { head + 2 };
    Some((word, next))
}

/// Flush the buffer.
fn flush(c: &mut Call) {
    let head = c.bda16(bda::KBD_HEAD);
    c.set_bda16(bda::KBD_TAIL, head);
}

fn set_bit(v: &mut u8, bit: u8, on: bool) {
    if on {
        *v |= bit;
    } else {
        *v &= !bit;
    }
}

/// IRQ 1: one scancode in AL; the stub's action comes back in AH.
pub fn irq1(c: &mut Call) {
    let code = c.al();
    let action = scancode(c, code);
    c.set_ah(action);
}

/// Translate one set-1 scancode byte; returns the stub's action.
pub fn scancode(c: &mut Call, code: u8) -> u8 {
    let mut f1 = c.bda8(bda::KBD_FLAGS1);
    let mut f2 = c.bda8(bda::KBD_FLAGS2);
    let mut f3 = c.bda8(bda::KBD_FLAGS3);
    let action = translate(c, code, &mut f1, &mut f2, &mut f3);
    c.set_bda8(bda::KBD_FLAGS1, f1);
    c.set_bda8(bda::KBD_FLAGS2, f2);
    c.set_bda8(bda::KBD_FLAGS3, f3);
    action
}

fn translate(c: &mut Call, code: u8, f1: &mut u8, f2: &mut u8, f3: &mut u8) -> u8 {
    match code {
        0xE0 => {
            *f3 |= F3_E0;
            return ACTION_NONE;
        }
        0xE1 => {
            *f3 |= F3_E1;
            return ACTION_NONE;
        }
        // Keyboard replies: ACK, resend, overrun, echo.
        0x00 | 0xEE | 0xFA | 0xFE | 0xFF => return ACTION_NONE,
        _ => {}
    }
    let e0 = *f3 & F3_E0 != 0;
    let e1 = *f3 & F3_E1 != 0;
    *f3 &= !F3_E0;
    let make = code & 0x80 == 0;
    let key = code & 0x7F;
    if e1 {
        // Pause: E1 1D 45 E1 9D C5. Swallowed.
        if key != 0x1D {
            *f3 &= !F3_E1;
        }
        return ACTION_NONE;
    }
    match (key, e0) {
        // Fake shifts around the grey keys.
        (0x2A | 0x36, true) => return ACTION_NONE,
        (0x2A, false) => set_bit(f1, F1_LSHIFT, make),
        (0x36, false) => set_bit(f1, F1_RSHIFT, make),
        (0x1D, _) => {
            if e0 {
                set_bit(f3, F3_RCTRL, make);
            } else {
                set_bit(f2, F2_LCTRL, make);
            }
            let any = *f2 & F2_LCTRL != 0 || *f3 & F3_RCTRL != 0;
            set_bit(f1, F1_CTRL, any);
        }
        (0x38, _) => {
            if e0 {
                set_bit(f3, F3_RALT, make);
            } else {
                set_bit(f2, F2_LALT, make);
            }
            let any = *f2 & F2_LALT != 0 || *f3 & F3_RALT != 0;
            set_bit(f1, F1_ALT, any);
            if !any {
                let value = c.bda8(bda::KBD_ALT_NUMPAD);
                c.set_bda8(bda::KBD_ALT_NUMPAD, 0);
                if value != 0 {
                    push_key(c, u16::from(value));
                }
            }
        }
        (0x3A, false) => lock(f1, f2, F1_CAPS, F2_CAPS_DOWN, make),
        (0x45, false) => lock(f1, f2, F1_NUM, F2_NUM_DOWN, make),
        (0x46, false) => lock(f1, f2, F1_SCROLL, F2_SCROLL_DOWN, make),
        (0x46, true) => {
            // Ctrl-Break.
            if make {
                flush(c);
                push_key(c, 0);
                let flag = c.bda8(bda::CTRL_BREAK);
                c.set_bda8(bda::CTRL_BREAK, flag | 0x80);
                return ACTION_BREAK;
            }
        }
        (0x54, false) => set_bit(f2, F2_SYSREQ, make),
        _ => {
            if key == 0x52 && *f1 & F1_ALT == 0 {
                let as_insert = e0 || (*f1 & F1_NUM != 0) == (*f1 & (F1_LSHIFT | F1_RSHIFT) != 0);
                if as_insert {
                    if make && *f2 & F2_INSERT_DOWN == 0 {
                        *f1 ^= F1_INSERT;
                    }
                    set_bit(f2, F2_INSERT_DOWN, make);
                }
            }
            if make {
                return keystroke(c, key, e0, *f1);
            }
        }
    }
    ACTION_NONE
}

/// A lock key: toggle on the first make, remember "held down".
fn lock(f1: &mut u8, f2: &mut u8, toggle: u8, down: u8, make: bool) {
    if make && *f2 & down == 0 {
        *f1 ^= toggle;
    }
    set_bit(f2, down, make);
}

/// A make code of an ordinary key: store its keystroke.
fn keystroke(c: &mut Call, key: u8, e0: bool, f1: u8) -> u8 {
    let shift = f1 & (F1_LSHIFT | F1_RSHIFT) != 0;
    let ctrl = f1 & F1_CTRL != 0;
    let alt = f1 & F1_ALT != 0;
    if ctrl && alt && key == 0x53 {
        c.set_bda16(bda::RESET_FLAG, WARM_BOOT);
        c.outb(PORT_I8042 + 4, KBC_PULSE_RESET);
        return ACTION_NONE;
    }
    if e0 && key == 0x37 && !ctrl {
        return ACTION_PRINT_SCREEN;
    }
    if !e0 && alt && !ctrl {
        if let Some(d) = keypad_digit(key) {
            let v = c.bda8(bda::KBD_ALT_NUMPAD);
            c.set_bda8(bda::KBD_ALT_NUMPAD, v.wrapping_mul(10).wrapping_add(d));
            return ACTION_NONE;
        }
    }
    let words = if e0 {
        match SET1_E0.iter().find(|(k, _)| *k == key) {
            Some((_, w)) => *w,
            None => return ACTION_NONE,
        }
    } else {
        match SET1.get(usize::from(key)) {
            Some(w) => *w,
            None => return ACTION_NONE,
        }
    };
    let column = if alt {
        3
    } else if ctrl {
        2
    } else if !e0 && is_keypad_digit(key) {
        usize::from(shift != (f1 & F1_NUM != 0))
    } else if !e0 && is_letter(key) {
        usize::from(shift != (f1 & F1_CAPS != 0))
    } else {
        usize::from(shift)
    };
    let word = words[column];
    if word != 0 {
        push_key(c, word);
    }
    ACTION_NONE
}

/// AH=00h/01h report grey keys with ASCII 00h, not E0h.
fn compatible(word: u16) -> u16 {
    if word & 0xFF == 0xE0 && word >> 8 != 0 {
        word & 0xFF00
    } else {
        word
    }
}

/// INT 16h.
pub fn int16(c: &mut Call, rom: &RomMap) {
    let ah = c.ah();
    match ah {
        0x00 | 0x10 => match peek(c) {
            Some((word, next)) => {
                c.set_bda16(bda::KBD_HEAD, next);
                c.set_ax(if ah == 0x00 { compatible(word) } else { word });
            }
            // Nothing yet: sleep in the ROM until an interrupt, then ask again.
            None => c.jump(ROM_SEGMENT, rom.sym(Sym::Int16Wait)),
        },
        0x01 | 0x11 => match peek(c) {
            Some((word, _)) => {
                c.set_ax(if ah == 0x01 { compatible(word) } else { word });
                c.set_zf(false);
            }
            None => c.set_zf(true),
        },
        0x02 => {
            let f1 = c.bda8(bda::KBD_FLAGS1);
            c.set_al(f1);
        }
        0x12 => {
            let (f1, f2, f3) = (
                c.bda8(bda::KBD_FLAGS1),
                c.bda8(bda::KBD_FLAGS2),
                c.bda8(bda::KBD_FLAGS3),
            );
            let high = (f2 & (F2_LCTRL | F2_LALT))
                | (f3 & (F3_RCTRL | F3_RALT))
                | (f2 & (F2_SCROLL_DOWN | F2_NUM_DOWN | F2_CAPS_DOWN))
                | if f2 & F2_SYSREQ != 0 { 0x80 } else { 0 };
            c.set_al(f1);
            c.set_ah(high);
        }
        0x05 => {
            let ok = push_key(c, c.cx());
            c.set_al(u8::from(!ok));
        }
        // 03h typematic rate and everything else: accepted, nothing to do.
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grey_keys_lose_e0_for_the_old_functions() {
        assert_eq!(compatible(0x48E0), 0x4800);
        assert_eq!(compatible(0xE00D), 0xE00D);
        assert_eq!(compatible(0x1E61), 0x1E61);
    }
}
