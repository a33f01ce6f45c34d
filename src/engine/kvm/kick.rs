//! Ending a vCPU's time slice: KVM cannot stop after N instructions, so a
//! batch becomes a span of host time. A POSIX timer aimed at the thread
//! running the vCPU (`SIGEV_THREAD_ID`) sends [`kick_signal`] when the span
//! is over; the handler sets `kvm_run.immediate_exit`, and KVM_RUN returns
//! `EINTR`. The flag closes the race with a signal that lands just before
//! KVM_RUN is entered (the KVM API's recommended alternative to
//! KVM_SET_SIGNAL_MASK).
//!
//! ```text
//! arm(slice, &run.immediate_exit) -> KVM_RUN ... exits ... <signal> -> EINTR
//! disarm(); run.immediate_exit = 0
//! ```

#![allow(unsafe_code)]

use std::cell::Cell;
use std::sync::Once;

// The `immediate_exit` byte of the vCPU this thread is running right now,
// or null. Read by the signal handler; a plain `Cell` with a const
// initialiser and no destructor, so reading it from a handler allocates
// nothing and cannot fail.
thread_local! {
    static IMMEDIATE_EXIT: Cell<*mut u8> = const { Cell::new(std::ptr::null_mut()) };
}

/// The real-time signal that kicks a vCPU thread (SIGRTMIN + 2; glibc
/// keeps the first two for itself and signal-hook's SIGINT/SIGTERM
/// handlers are elsewhere).
pub fn kick_signal() -> libc::c_int {
    libc::SIGRTMIN() + 2
}

extern "C" fn on_kick(_signal: libc::c_int) {
    let p = IMMEDIATE_EXIT
        .try_with(Cell::get)
        .unwrap_or(std::ptr::null_mut());
    if !p.is_null() {
        // SAFETY: `arm` set `p` on this thread to the live kvm_run's
        // `immediate_exit` byte (`disarm` clears it before the mapping goes);
        // a volatile byte store is async-signal-safe.
        unsafe { std::ptr::write_volatile(p, 1) };
    }
}

fn install_handler() -> Result<(), String> {
    static INSTALL: Once = Once::new();
    let mut result = Ok(());
    INSTALL.call_once(|| {
        // SAFETY: a zeroed sigaction is a valid "no flags, empty mask"
        // value; the handler only touches a thread-local byte pointer.
        // No SA_RESTART: KVM_RUN must come back with EINTR.
        unsafe {
            let mut sa: libc::sigaction = std::mem::zeroed();
            sa.sa_sigaction = on_kick as extern "C" fn(libc::c_int) as usize;
            libc::sigemptyset(&mut sa.sa_mask);
            if libc::sigaction(kick_signal(), &sa, std::ptr::null_mut()) != 0 {
                result = Err(format!(
                    "cannot install the vCPU kick signal handler: {}",
                    std::io::Error::last_os_error()
                ));
            }
        }
    });
    result
}

/// A one-shot POSIX timer that kicks the calling thread's vCPU.
pub struct SliceTimer {
    timer: libc::timer_t,
    /// The thread the timer's signal goes to.
    tid: libc::pid_t,
}

impl SliceTimer {
    /// A timer aimed at the calling thread.
    pub fn new() -> Result<Self, String> {
        install_handler()?;
        // SAFETY: gettid has no preconditions.
        let tid = unsafe { libc::gettid() };
        let mut timer: libc::timer_t = std::ptr::null_mut();
        // SAFETY: `sev` is fully initialised (zeroed, then the fields
        // SIGEV_THREAD_ID reads); `timer` is a valid out pointer.
        let r = unsafe {
            let mut sev: libc::sigevent = std::mem::zeroed();
            sev.sigev_notify = libc::SIGEV_THREAD_ID;
            sev.sigev_signo = kick_signal();
            sev.sigev_notify_thread_id = tid;
            libc::timer_create(libc::CLOCK_MONOTONIC, &mut sev, &mut timer)
        };
        if r != 0 {
            return Err(format!(
                "cannot create the vCPU slice timer: {}",
                std::io::Error::last_os_error()
            ));
        }
        Ok(SliceTimer { timer, tid })
    }

    /// The thread this timer kicks.
    pub fn thread(&self) -> libc::pid_t {
        self.tid
    }

    /// Start a slice of `ns` nanoseconds; at its end `*immediate_exit`
    /// becomes 1 and the thread gets the kick signal.
    ///
    /// # Safety
    ///
    /// `immediate_exit` must point into the kvm_run mapping of a vCPU that
    /// outlives the next [`SliceTimer::disarm`] on this thread, and this
    /// must be the thread the timer was created on.
    pub unsafe fn arm(&mut self, ns: u64, immediate_exit: *mut u8) {
        IMMEDIATE_EXIT.with(|c| c.set(immediate_exit));
        self.set(ns.max(1));
    }

    /// End the slice early: no signal comes after this returns.
    pub fn disarm(&mut self) {
        self.set(0);
        IMMEDIATE_EXIT.with(|c| c.set(std::ptr::null_mut()));
    }

    fn set(&mut self, ns: u64) {
        let spec = libc::itimerspec {
            it_interval: libc::timespec {
                tv_sec: 0,
                tv_nsec: 0,
            },
            it_value: libc::timespec {
                tv_sec: (ns / 1_000_000_000) as libc::time_t,
                tv_nsec: (ns % 1_000_000_000) as libc::c_long,
            },
        };
        // SAFETY: `self.timer` is a live timer from timer_create; `spec`
        // is a valid itimerspec; the old value is not asked for.
        unsafe { libc::timer_settime(self.timer, 0, &spec, std::ptr::null_mut()) };
    }
}

impl Drop for SliceTimer {
    fn drop(&mut self) {
        // SAFETY: the timer was created by timer_create and is deleted once.
        unsafe { libc::timer_delete(self.timer) };
    }
}
