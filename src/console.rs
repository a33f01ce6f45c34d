//! The host side of the serial console: where COM1's output goes and where
//! its input comes from (`--serial stdio|file:PATH|null`).
//!
//! With `stdio` and a terminal on stdin, the terminal is put in raw mode
//! (every key goes to the guest, Ctrl-C included, as on a real serial line)
//! and restored when the [`RawTerminal`] guard drops, on every exit path
//! (normal exit, error, panic via the hook in `main`, signals via the run
//! loop's stop flag). Ctrl-A is the escape key, as in QEMU: Ctrl-A X quits,
//! Ctrl-A Ctrl-A sends a Ctrl-A, Ctrl-A H prints help. A reader thread
//! turns stdin into [`HostInput`] messages for the run loop.

use std::io::{IsTerminal, Read, Write};
use std::path::PathBuf;
use std::str::FromStr;

use crossbeam::channel::{unbounded, Receiver, Sender};

use crate::error::Error;
use crate::machine::pc::ConsoleOut;
use crate::machine::HostInput;

/// Where the serial console is connected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SerialBackend {
    /// The terminal (stdin/stdout).
    Stdio,
    /// Output appended to a file; no input.
    File(PathBuf),
    /// Nothing: output dropped, no input.
    Null,
}

impl FromStr for SerialBackend {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "stdio" => Ok(SerialBackend::Stdio),
            "null" | "none" => Ok(SerialBackend::Null),
            _ => match s.strip_prefix("file:") {
                Some(p) if !p.is_empty() => Ok(SerialBackend::File(PathBuf::from(p))),
                _ => Err(format!(
                    "'{s}' is not a serial backend (stdio, file:PATH or null)"
                )),
            },
        }
    }
}

/// Restores the terminal's mode when dropped.
pub struct RawTerminal(());

impl RawTerminal {
    /// Put the terminal in raw mode; `None` if that fails (not a terminal).
    fn enable() -> Option<Self> {
        crossterm::terminal::enable_raw_mode()
            .ok()
            .map(|()| RawTerminal(()))
    }
}

impl Drop for RawTerminal {
    fn drop(&mut self) {
        restore_terminal();
    }
}

/// Leave raw mode if it is on (idempotent; also called from the panic hook).
pub fn restore_terminal() {
    if crossterm::terminal::is_raw_mode_enabled().unwrap_or(false) {
        let _ = crossterm::terminal::disable_raw_mode();
    }
}

/// An opened serial console.
pub struct HostConsole {
    /// Output side, for the machine's COM1.
    pub out: ConsoleOut,
    /// Input side, for [`crate::machine::Machine::set_input`].
    pub input: Option<Receiver<HostInput>>,
    /// Raw-mode guard; dropping it restores the terminal.
    pub raw: Option<RawTerminal>,
}

impl HostConsole {
    /// Connect the console as `backend` says. A file is created (or
    /// truncated) here; with `stdio`, stdin is read by a thread.
    pub fn open(backend: &SerialBackend) -> Result<Self, Error> {
        match backend {
            SerialBackend::Null => Ok(HostConsole {
                out: ConsoleOut::new(Box::new(std::io::sink())),
                input: None,
                raw: None,
            }),
            SerialBackend::File(path) => {
                let f = std::fs::File::create(path).map_err(|e| Error::file(path, e))?;
                Ok(HostConsole {
                    out: ConsoleOut::new(Box::new(f)),
                    input: None,
                    raw: None,
                })
            }
            SerialBackend::Stdio => {
                let interactive = std::io::stdin().is_terminal();
                let raw = if interactive {
                    RawTerminal::enable()
                } else {
                    None
                };
                let rx = spawn_stdin_reader(HostInput::Serial)?;
                Ok(HostConsole {
                    out: ConsoleOut::new(Box::new(std::io::stdout())),
                    input: Some(rx),
                    raw,
                })
            }
        }
    }
}

/// Read the terminal for the PC keyboard (`--display term`): raw mode and
/// a reader thread whose bytes become [`HostInput::Keyboard`]; Ctrl-A X
/// still quits.
pub fn open_keyboard_stdin() -> Result<(Receiver<HostInput>, Option<RawTerminal>), Error> {
    let raw = if std::io::stdin().is_terminal() {
        RawTerminal::enable()
    } else {
        None
    };
    Ok((spawn_stdin_reader(HostInput::Keyboard)?, raw))
}

fn spawn_stdin_reader(wrap: fn(Vec<u8>) -> HostInput) -> Result<Receiver<HostInput>, Error> {
    let (tx, rx) = unbounded();
    std::thread::Builder::new()
        .name("stdin".into())
        .spawn(move || read_stdin(tx, wrap))
        .map_err(|e| Error::Host(format!("cannot start the stdin reader: {e}")))?;
    Ok(rx)
}

/// The reader thread: stdin bytes through the escape parser to the channel,
/// until end of file or until the machine is gone.
fn read_stdin(tx: Sender<HostInput>, wrap: fn(Vec<u8>) -> HostInput) {
    let mut stdin = std::io::stdin().lock();
    let mut buf = [0u8; 256];
    let mut esc = EscapeParser::default();
    loop {
        let n = match stdin.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        let (bytes, command) = esc.feed(&buf[..n]);
        if !bytes.is_empty() && tx.send(wrap(bytes)).is_err() {
            return;
        }
        match command {
            Some(EscapeCommand::Quit) => {
                let _ = tx.send(HostInput::Quit);
                return;
            }
            Some(EscapeCommand::CycleEngine) if tx.send(HostInput::CycleEngine).is_err() => {
                return;
            }
            Some(EscapeCommand::CycleEngine) => {}
            Some(EscapeCommand::Help) => {
                let mut e = std::io::stderr();
                let _ = e.write_all(b"\r\nC-a x    quit btvm\r\nC-a e    switch to the next engine (interp, jit, kvm)\r\nC-a C-a  send C-a to the guest\r\nC-a h    this help\r\n");
            }
            None => {}
        }
    }
}

/// Ctrl-A, the escape key.
const CTRL_A: u8 = 0x01;

/// A command typed after Ctrl-A.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EscapeCommand {
    /// Ctrl-A X.
    Quit,
    /// Ctrl-A H.
    Help,
    /// Ctrl-A E: the next engine.
    CycleEngine,
}

/// Splits keyboard input into guest bytes and Ctrl-A escape commands.
#[derive(Debug, Default)]
pub struct EscapeParser {
    after_ctrl_a: bool,
}

impl EscapeParser {
    /// The bytes for the guest and the first command found (input after a
    /// quit command is dropped).
    pub fn feed(&mut self, input: &[u8]) -> (Vec<u8>, Option<EscapeCommand>) {
        let mut out = Vec::with_capacity(input.len());
        for &b in input {
            if !self.after_ctrl_a {
                if b == CTRL_A {
                    self.after_ctrl_a = true;
                } else {
                    out.push(b);
                }
                continue;
            }
            self.after_ctrl_a = false;
            match b {
                b'x' | b'X' => return (out, Some(EscapeCommand::Quit)),
                b'h' | b'H' | b'?' => return (out, Some(EscapeCommand::Help)),
                b'e' | b'E' => return (out, Some(EscapeCommand::CycleEngine)),
                CTRL_A => out.push(CTRL_A),
                // Unknown escape: both keys go to the guest.
                _ => out.extend([CTRL_A, b]),
            }
        }
        (out, None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ctrl_a_x_quits_and_keeps_earlier_bytes() {
        let mut p = EscapeParser::default();
        assert_eq!(
            p.feed(b"ls\r\x01x more"),
            (b"ls\r".to_vec(), Some(EscapeCommand::Quit))
        );
    }

    #[test]
    fn escape_split_across_reads() {
        let mut p = EscapeParser::default();
        assert_eq!(p.feed(b"a\x01"), (b"a".to_vec(), None));
        assert_eq!(p.feed(b"X"), (vec![], Some(EscapeCommand::Quit)));
    }

    #[test]
    fn ctrl_a_ctrl_a_sends_one_ctrl_a_and_unknown_escapes_pass_through() {
        let mut p = EscapeParser::default();
        assert_eq!(p.feed(b"\x01\x01\x01c"), (vec![CTRL_A, CTRL_A, b'c'], None));
        assert_eq!(p.feed(b"\x01h"), (vec![], Some(EscapeCommand::Help)));
        assert_eq!(p.feed(b"\x01e"), (vec![], Some(EscapeCommand::CycleEngine)));
    }

    #[test]
    fn backend_names_parse() {
        assert_eq!("stdio".parse(), Ok(SerialBackend::Stdio));
        assert_eq!("null".parse(), Ok(SerialBackend::Null));
        assert_eq!(
            "file:/tmp/x".parse(),
            Ok(SerialBackend::File("/tmp/x".into()))
        );
        assert!("file:".parse::<SerialBackend>().is_err());
        assert!("tcp:1".parse::<SerialBackend>().is_err());
    }
}
