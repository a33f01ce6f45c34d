//! Why a machine stopped, the process status for each reason and the one
//! line btvm prints about it.

use std::time::Duration;

/// Why the machine stopped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Exit {
    /// The guest wrote to the debug-exit port; the status is
    /// `(value << 1) | 1` as with QEMU's isa-debug-exit.
    DebugExit(i32),
    /// HLT with interrupts disabled and no NMI source, or with no interrupt
    /// source at all: the guest can never wake up.
    Halted,
    /// The guest pulsed the CPU reset line (keyboard controller 0xFE, port
    /// 0x92) and `--reboot` was not given.
    Reset,
    /// A triple fault shut the CPU down and `--reboot` was not given.
    TripleFault,
    /// The instruction budget (`--max-instructions`) ran out.
    InstructionLimit(u64),
    /// The wall-clock budget (`--timeout`) ran out.
    Timeout(Duration),
    /// The user typed Ctrl-A X.
    UserQuit,
    /// The text given with `--exit-on-serial` appeared on COM1.
    SerialMarker,
    /// The text given with `--exit-on-screen` appeared on the text screen.
    ScreenMarker,
    /// A signal (SIGINT, SIGTERM, SIGHUP) asked btvm to stop.
    Signal,
    /// btvm itself failed (a bug, reported rather than hidden).
    InternalError(String),
    /// The execution engine could not go on: the host refused the guest
    /// state (e.g. a host KVM that cannot enter protected mode).
    EngineFailed(String),
}

impl Exit {
    /// The process exit status for this reason.
    pub fn status(&self) -> u8 {
        match self {
            Exit::DebugExit(v) => *v as u8,
            Exit::Halted
            | Exit::Reset
            | Exit::UserQuit
            | Exit::SerialMarker
            | Exit::ScreenMarker => 0,
            Exit::TripleFault => 3,
            Exit::InstructionLimit(_) | Exit::Timeout(_) => 124,
            Exit::Signal => 130,
            Exit::InternalError(_) => 70,
            // EX_UNAVAILABLE: the host cannot run this guest this way.
            Exit::EngineFailed(_) => 69,
        }
    }

    /// One line for stderr.
    pub fn describe(&self) -> String {
        match self {
            Exit::DebugExit(v) => format!(
                "guest requested exit through the debug-exit port (status {})",
                v & 0xFF
            ),
            Exit::Halted => {
                "guest halted: HLT with no interrupt that could ever wake it".to_string()
            }
            Exit::Reset => {
                "guest reset the machine (stopping; --reboot restarts instead)".to_string()
            }
            Exit::TripleFault => {
                "triple fault: the CPU shut down (stopping; --reboot restarts instead)".to_string()
            }
            Exit::InstructionLimit(n) => format!("stopped after --max-instructions {n}"),
            Exit::Timeout(t) => format!("stopped after --timeout {} s", t.as_secs_f64()),
            Exit::UserQuit => "quit (Ctrl-A X)".to_string(),
            Exit::SerialMarker => {
                "the --exit-on-serial text appeared on the serial console".to_string()
            }
            Exit::ScreenMarker => "the --exit-on-screen text appeared on the screen".to_string(),
            Exit::Signal => "stopped by a signal".to_string(),
            Exit::InternalError(what) => format!("internal error: {what}"),
            Exit::EngineFailed(what) => what.clone(),
        }
    }
}
