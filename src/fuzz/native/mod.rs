//! The `native` reference runner of `btvm fuzz`: runs ring-3 32-bit
//! instruction streams directly on the host CPU, in a sandboxed child
//! process, inside Linux's 32-bit compatibility-mode code segment with the
//! guest pages mapped at their own addresses below 4 GiB, and reports the
//! first exception (caught as a signal) with the register state and the
//! final bytes of the writable pages. Real silicon is what the emulator's
//! engines are compared against.
//!
//! Files: `mod.rs` the API and the parent side (spawning, the pipe protocol,
//! timeouts); `child.rs` the forked child (mode switch, signal handler);
//! `seccomp.rs` the child's syscall filter; `protocol.rs` the pipe layout.
//!
//! Reported state differs from a bare 386 in ways the caller must allow
//! for: EFLAGS always has IF (and bit 1) set, RF is cleared; a #PF error
//! code carries the host's extra bits (bit 4 for an instruction fetch on NX
//! hosts: a jump to an unmapped page gives 0x14, not 4); Linux's IDT makes
//! `int n` for n other than 3, 4 and 0x80 a #GP with error code n*8+2;
//! Linux sets CR0.AM, so a stream that sets EFLAGS.AC (POPF) gets #AC (17)
//! on a misaligned access.
//!
//! Streams for this runner must not contain (seen on an AMD EPYC guest):
//! `int 0x80`, `sysenter`, `syscall` (the sandbox kills the child:
//! `NativeError::SandboxKilled`, or odd results when ESP is unmapped);
//! CPUID, RDTSC(P), RDPID, RDRAND/RDSEED (host values); SGDT, SIDT, SMSW,
//! STR, SLDT (the kernel's UMIP emulation returns made-up values); far
//! jumps/calls/returns, IRET and segment loads (a jump to selector 0x33
//! leaves compat mode: `NativeError::ChildDied`); FS/GS overrides (#GP:
//! null selectors); `int1`/ICEBP (F1), which this host reports with EIP at
//! the instruction rather than after it.
#![allow(unsafe_code)]

#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
mod child;
mod protocol;
#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
mod seccomp;
#[cfg(test)]
mod tests;

use protocol::*;
use std::fs::File;
use std::io::{self, Read, Write};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Page size of the guest mapping.
pub const PAGE_SIZE: usize = 4096;
/// Linux x86-64's flat 32-bit user code selector (__USER32_CS): the
/// emulated machine builds its GDT so this selector means the same there.
pub const USER32_CS: u16 = 0x23;
/// Linux x86-64's flat user data selector (__USER_DS), loaded into DS, ES
/// and SS for native runs; the emulated machine's GDT matches it.
pub const USER_DS: u16 = 0x2b;

/// EFLAGS bits a case may set on entry: CF PF AF ZF SF DF OF.
const ENTRY_FLAGS_MASK: u32 = 0x0cd5;
/// EFLAGS bits always set on entry: bit 1 and IF (the kernel forces IF).
const ENTRY_FLAGS_FIXED: u32 = 0x0202;
/// How long a fresh child may take to report that its sandbox is up.
const SPAWN_TIMEOUT: Duration = Duration::from_secs(10);
/// The most extra wall time a case gets while its child waits for a CPU.
const LOADED_GRACE: Duration = Duration::from_secs(10);
/// Extra time for the child to send the writable pages after its reply header.
const PAGES_TIMEOUT: Duration = Duration::from_secs(5);
/// The lowest address a case page may have (Linux's default vm.mmap_min_addr).
pub const MIN_PAGE_ADDR: u32 = 0x1_0000;

/// One guest page mapped at the same linear address in the child.
pub struct NativePage {
    /// Linear address; page-aligned and at least `MIN_PAGE_ADDR`.
    pub addr: u32,
    /// The page's bytes: exactly `PAGE_SIZE` of them.
    pub data: Vec<u8>,
    /// Whether guest stores may change it (it is always readable and executable).
    pub writable: bool,
}

/// 32-bit ring-3 register state. gpr order is the x86 encoding order: EAX ECX EDX EBX ESP EBP ESI EDI.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct NativeRegs {
    /// EAX ECX EDX EBX ESP EBP ESI EDI.
    pub gpr: [u32; 8],
    /// Instruction pointer (CS base is 0).
    pub eip: u32,
    /// EFLAGS; on entry only CF PF AF ZF SF DF OF are taken, IF is forced on.
    pub eflags: u32,
}

/// One run: pages to map (every other address below 4 GiB is unmapped), entry registers, wall-clock timeout.
pub struct NativeCase {
    /// The guest's memory: at most 1024 distinct pages.
    pub pages: Vec<NativePage>,
    /// Registers at entry.
    pub regs: NativeRegs,
    /// Wall-clock limit for the run; after it the child is killed (on a
    /// loaded host, once the child has also had this much CPU time).
    pub timeout_ms: u32,
}

/// How the run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NativeEnd {
    /// The CPU raised this exception (hardware vector from the signal frame's trapno, error code from err; cr2 = fault address for #PF, else 0).
    Exception {
        /// Exception vector (0 #DE .. 19 #XM).
        vector: u8,
        /// The error code the CPU pushed (0 when the exception has none); for
        /// #PF as the host's MMU gives it, so bit 4 marks instruction fetches.
        error_code: u32,
        /// The faulting linear address for #PF, else 0.
        cr2: u32,
    },
    /// The stream did not fault within timeout_ms (killed).
    Timeout,
}

/// The result: registers at the exception (EIP as the CPU reported it: the faulting instruction for faults, the next one for traps such as INT3/INTO), final bytes of every writable page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NativeResult {
    /// Exception or timeout.
    pub end: NativeEnd,
    /// Registers at the exception; the entry registers after a timeout.
    pub regs: NativeRegs,
    /// (address, bytes) of every writable page in case order; the original bytes after a timeout.
    pub pages: Vec<(u32, Vec<u8>)>,
}

/// Why the native runner could not run at all (not x86-64 Linux, fork/mmap/seccomp failure, child died unexpectedly...). Display = one line.
#[derive(Debug, thiserror::Error)]
pub enum NativeError {
    /// This host cannot run native cases.
    #[error("native runs unavailable: {0}")]
    Unsupported(String),
    /// A host call in the parent failed.
    #[error("native runner: {what}: {source}")]
    Os {
        /// What the runner was doing.
        what: &'static str,
        /// The OS error.
        source: io::Error,
    },
    /// The case breaks the runner's rules (page alignment, size, address, count).
    #[error("native case rejected: {0}")]
    BadCase(String),
    /// The child could not set itself up.
    #[error("native child set-up failed at {step}: {source}")]
    Setup {
        /// The set-up step.
        step: &'static str,
        /// The OS error.
        source: io::Error,
    },
    /// The child could not map a case page (something of the host's is there).
    #[error("native child cannot map the page at {addr:#x}: {source}")]
    MapFailed {
        /// The page's address.
        addr: u32,
        /// The OS error.
        source: io::Error,
    },
    /// The stream made a system call (e.g. `int 0x80`, `sysenter`) and the
    /// seccomp sandbox killed the child. The case has no native result; the
    /// runner starts a fresh child for the next case.
    #[error("the stream made a system call; the native sandbox killed it")]
    SandboxKilled,
    /// The child ended unexpectedly (the runner restarts it on the next case).
    #[error("native child died: {0}")]
    ChildDied(String),
}

/// A sandboxed child process that runs cases; one per fuzzing thread. Restarts its child after a timeout or crash.
///
/// The child gets SIGKILL when the thread that created the runner exits
/// (PR_SET_PDEATHSIG), so keep a runner on the thread that made it.
pub struct NativeRunner {
    child: Option<Child>,
}

impl NativeRunner {
    /// Whether this host can run native cases (x86-64 Linux with 32-bit compat segments); Err(reason) otherwise.
    ///
    /// Probes once per process by running a `ud2` in a sandboxed child.
    pub fn available() -> Result<(), String> {
        static PROBE: OnceLock<Result<(), String>> = OnceLock::new();
        PROBE.get_or_init(probe).clone()
    }

    /// Starts the sandboxed child.
    pub fn new() -> Result<Self, NativeError> {
        Ok(Self {
            child: Some(Child::spawn()?),
        })
    }

    /// Runs one case until its first exception or its timeout. After a
    /// timeout, a sandbox kill or a child death the next call starts a
    /// fresh child.
    pub fn run(&mut self, case: &NativeCase) -> Result<NativeResult, NativeError> {
        validate(case)?;
        let child = match self.child.take() {
            Some(c) => c,
            None => Child::spawn()?,
        };
        let (child, result) = child.run(case);
        self.child = child;
        result
    }
}

impl Drop for NativeRunner {
    fn drop(&mut self) {
        if let Some(c) = self.child.take() {
            c.kill();
        }
    }
}

/// The probe behind `NativeRunner::available`.
fn probe() -> Result<(), String> {
    if !cfg!(all(target_arch = "x86_64", target_os = "linux")) {
        return Err("needs an x86-64 Linux host".into());
    }
    let mut runner = NativeRunner::new().map_err(|e| e.to_string())?;
    let mut data = vec![0u8; PAGE_SIZE];
    data[..2].copy_from_slice(&[0x0f, 0x0b]); // ud2
    let case = NativeCase {
        pages: vec![NativePage {
            addr: MIN_PAGE_ADDR,
            data,
            writable: false,
        }],
        regs: NativeRegs {
            eip: MIN_PAGE_ADDR,
            ..NativeRegs::default()
        },
        timeout_ms: 2000,
    };
    let r = runner.run(&case).map_err(|e| e.to_string())?;
    let want = NativeEnd::Exception {
        vector: 6,
        error_code: 0,
        cr2: 0,
    };
    if r.end == want && r.regs.eip == MIN_PAGE_ADDR {
        Ok(())
    } else {
        Err(format!(
            "a compat-mode ud2 probe ended as {:?} at EIP {:#x}",
            r.end, r.regs.eip
        ))
    }
}

/// Checks the case against the runner's rules.
fn validate(case: &NativeCase) -> Result<(), NativeError> {
    if case.pages.len() > MAX_PAGES {
        return Err(NativeError::BadCase(format!(
            "{} pages (at most {MAX_PAGES})",
            case.pages.len()
        )));
    }
    let mut addrs: Vec<u32> = Vec::with_capacity(case.pages.len());
    for p in &case.pages {
        if !(p.addr as usize).is_multiple_of(PAGE_SIZE) || p.addr < MIN_PAGE_ADDR {
            return Err(NativeError::BadCase(format!(
                "page address {:#x} is not page-aligned at or above {MIN_PAGE_ADDR:#x}",
                p.addr
            )));
        }
        if p.data.len() != PAGE_SIZE {
            return Err(NativeError::BadCase(format!(
                "page {:#x} has {} bytes",
                p.addr,
                p.data.len()
            )));
        }
        addrs.push(p.addr);
    }
    addrs.sort_unstable();
    if let Some(w) = addrs.windows(2).find(|w| w[0] == w[1]) {
        return Err(NativeError::BadCase(format!(
            "page {:#x} given twice",
            w[0]
        )));
    }
    Ok(())
}

/// Appends a little-endian word to a protocol message.
fn push_word(msg: &mut Vec<u8>, w: u32) {
    msg.extend_from_slice(&w.to_le_bytes());
}

/// The case as one protocol message.
fn encode(case: &NativeCase) -> Vec<u8> {
    let per_page = PAGE_HEADER_WORDS * 4 + PAGE_SIZE;
    let mut msg = Vec::with_capacity(CASE_WORDS * 4 + case.pages.len() * per_page);
    for &g in &case.regs.gpr {
        push_word(&mut msg, g);
    }
    push_word(&mut msg, case.regs.eip);
    push_word(
        &mut msg,
        (case.regs.eflags & ENTRY_FLAGS_MASK) | ENTRY_FLAGS_FIXED,
    );
    push_word(&mut msg, case.pages.len() as u32);
    for p in &case.pages {
        push_word(&mut msg, p.addr);
        push_word(&mut msg, u32::from(p.writable));
    }
    for p in &case.pages {
        msg.extend_from_slice(&p.data);
    }
    msg
}

/// How a deadline-bounded read ended.
enum ReadEnd {
    /// The buffer is full.
    Full,
    /// The child closed its end (it died).
    Eof,
    /// The deadline passed first.
    Timeout,
}

/// Fills `buf` from `f`, waiting at most until `deadline`.
fn read_until(f: &mut File, buf: &mut [u8], deadline: Instant) -> io::Result<ReadEnd> {
    read_more(f, buf, &mut 0, deadline)
}

/// Fills `buf[*done..]` from `f`, waiting at most until `deadline`; `*done`
/// counts the bytes read so far, so a read that timed out can be resumed.
fn read_more(
    f: &mut File,
    buf: &mut [u8],
    done: &mut usize,
    deadline: Instant,
) -> io::Result<ReadEnd> {
    use std::os::fd::AsRawFd;
    while *done < buf.len() {
        // The fd is non-blocking: read what is there, poll only when nothing is.
        match f.read(&mut buf[*done..]) {
            Ok(0) => return Ok(ReadEnd::Eof),
            Ok(n) => {
                *done += n;
                continue;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) => return Err(e),
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Ok(ReadEnd::Timeout);
        }
        let ms = left.as_millis().clamp(1, i32::MAX as u128) as i32;
        let mut pfd = libc::pollfd {
            fd: f.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: `pfd` is one valid pollfd for the duration of the call.
        let r = unsafe { libc::poll(&mut pfd, 1, ms) };
        if r < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
    }
    Ok(ReadEnd::Full)
}

/// Decodes little-endian reply words.
fn words(bytes: &[u8; REPLY_WORDS * 4]) -> [u32; REPLY_WORDS] {
    let mut w = [0u32; REPLY_WORDS];
    for (i, c) in bytes.chunks_exact(4).enumerate() {
        w[i] = u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
    }
    w
}

/// One live child process and the parent's pipe ends.
struct Child {
    pid: libc::pid_t,
    /// Cases go here (the child's stdin).
    to_child: File,
    /// Replies come from here (the child's stdout).
    from_child: File,
    /// The child's /proc/<pid>/schedstat (CPU time for timeouts), if the kernel has it.
    schedstat: Option<File>,
}

impl Child {
    /// Forks a child, which sets up its sandbox and reports ready.
    #[cfg(all(target_arch = "x86_64", target_os = "linux"))]
    fn spawn() -> Result<Child, NativeError> {
        use std::os::fd::{AsRawFd, FromRawFd, IntoRawFd, OwnedFd};
        check_address_space()?;
        let pipe = || -> Result<(OwnedFd, OwnedFd), NativeError> {
            let mut fds = [0i32; 2];
            // SAFETY: `fds` has room for the two descriptors pipe2 returns.
            if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
                return Err(NativeError::Os {
                    what: "pipe2",
                    source: io::Error::last_os_error(),
                });
            }
            // SAFETY: pipe2 just returned these two fds, owned by nobody else.
            Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
        };
        let (case_r, case_w) = pipe()?;
        let (reply_r, reply_w) = pipe()?;
        // SAFETY: getpid has no preconditions.
        let parent = unsafe { libc::getpid() };
        // SAFETY: the child branch runs only `child::main`, which never
        // returns and, being in a forked copy of a possibly multi-threaded
        // process, never allocates, locks or unwinds.
        let pid = unsafe { libc::fork() };
        if pid < 0 {
            return Err(NativeError::Os {
                what: "fork",
                source: io::Error::last_os_error(),
            });
        }
        if pid == 0 {
            child::main(case_r.into_raw_fd(), reply_w.into_raw_fd(), parent);
        }
        drop(case_r);
        drop(reply_w);
        // Non-blocking reads (this open file description only; the child's
        // write end stays blocking): `read_more` polls only when needed.
        // SAFETY: fcntl on an fd this function owns.
        if unsafe { libc::fcntl(reply_r.as_raw_fd(), libc::F_SETFL, libc::O_NONBLOCK) } != 0 {
            let source = io::Error::last_os_error();
            // SAFETY: `pid` is our own unreaped child.
            unsafe { libc::kill(pid, libc::SIGKILL) };
            // SAFETY: reaps that child; a null status pointer is allowed.
            unsafe { libc::waitpid(pid, std::ptr::null_mut(), 0) };
            return Err(NativeError::Os {
                what: "fcntl O_NONBLOCK",
                source,
            });
        }
        let mut c = Child {
            pid,
            to_child: File::from(case_w),
            from_child: File::from(reply_r),
            schedstat: File::open(format!("/proc/{pid}/schedstat")).ok(),
        };
        let mut buf = [0u8; REPLY_WORDS * 4];
        match read_until(&mut c.from_child, &mut buf, Instant::now() + SPAWN_TIMEOUT) {
            Ok(ReadEnd::Full) => {}
            Ok(ReadEnd::Timeout) => {
                c.kill();
                return Err(NativeError::ChildDied(
                    "no ready report from the child".into(),
                ));
            }
            Ok(ReadEnd::Eof) => return Err(c.died()),
            Err(source) => {
                c.kill();
                return Err(NativeError::Os {
                    what: "reading the child's ready report",
                    source,
                });
            }
        }
        let w = words(&buf);
        match w[0] {
            STATUS_READY => Ok(c),
            STATUS_SETUP_FAILED => {
                c.kill();
                Err(NativeError::Setup {
                    step: SETUP_STEPS.get(w[2] as usize).copied().unwrap_or("?"),
                    source: io::Error::from_raw_os_error(w[1] as i32),
                })
            }
            s => {
                c.kill();
                Err(NativeError::ChildDied(format!("bad ready report {s:#x}")))
            }
        }
    }

    /// No native child off x86-64 Linux.
    #[cfg(not(all(target_arch = "x86_64", target_os = "linux")))]
    fn spawn() -> Result<Child, NativeError> {
        Err(NativeError::Unsupported(
            "needs an x86-64 Linux host".into(),
        ))
    }

    /// Sends one case and collects its result. Returns the child if it is
    /// still usable.
    ///
    /// The timeout is wall-clock time, except that on a loaded host a child
    /// that has not yet had `timeout_ms` of CPU time gets more (up to
    /// `LOADED_GRACE` extra wall time), so a busy machine does not turn
    /// ordinary cases into timeouts.
    fn run(mut self, case: &NativeCase) -> (Option<Child>, Result<NativeResult, NativeError>) {
        let timeout = Duration::from_millis(u64::from(case.timeout_ms.max(1)));
        let start = Instant::now();
        let cpu_start = self.cpu_time();
        if self.to_child.write_all(&encode(case)).is_err() {
            return (None, Err(self.died()));
        }
        let hard_deadline = start + timeout + LOADED_GRACE;
        let mut deadline = start + timeout;
        let mut buf = [0u8; REPLY_WORDS * 4];
        let mut done = 0;
        let end = loop {
            let end = read_more(&mut self.from_child, &mut buf, &mut done, deadline);
            if !matches!(end, Ok(ReadEnd::Timeout)) {
                break end;
            }
            let used = match (cpu_start, self.cpu_time()) {
                (Some(a), Some(b)) => b.saturating_sub(a),
                _ => break end,
            };
            let now = Instant::now();
            if used >= timeout || now >= hard_deadline {
                break end;
            }
            deadline = (now + (timeout - used).max(Duration::from_millis(1))).min(hard_deadline);
        };
        match end {
            Ok(ReadEnd::Full) => {}
            Ok(ReadEnd::Timeout) => {
                self.kill();
                let pages = case
                    .pages
                    .iter()
                    .filter(|p| p.writable)
                    .map(|p| (p.addr, p.data.clone()))
                    .collect();
                let r = NativeResult {
                    end: NativeEnd::Timeout,
                    regs: case.regs,
                    pages,
                };
                return (None, Ok(r));
            }
            Ok(ReadEnd::Eof) => return (None, Err(self.died())),
            Err(source) => {
                self.kill();
                let what = "reading a result";
                return (None, Err(NativeError::Os { what, source }));
            }
        }
        let w = words(&buf);
        match w[0] {
            STATUS_DONE => {}
            STATUS_MAP_FAILED => {
                self.kill();
                let e = NativeError::MapFailed {
                    addr: w[3],
                    source: io::Error::from_raw_os_error(w[1] as i32),
                };
                return (None, Err(e));
            }
            s => {
                self.kill();
                return (
                    None,
                    Err(NativeError::ChildDied(format!("bad reply {s:#x}"))),
                );
            }
        }
        let mut pages = Vec::new();
        let deadline = Instant::now() + PAGES_TIMEOUT;
        for p in case.pages.iter().filter(|p| p.writable) {
            let mut data = vec![0u8; PAGE_SIZE];
            match read_until(&mut self.from_child, &mut data, deadline) {
                Ok(ReadEnd::Full) => pages.push((p.addr, data)),
                Ok(ReadEnd::Eof) => return (None, Err(self.died())),
                Ok(ReadEnd::Timeout) | Err(_) => {
                    self.kill();
                    let e = NativeError::ChildDied("stalled sending pages".into());
                    return (None, Err(e));
                }
            }
        }
        let mut gpr = [0u32; 8];
        gpr.copy_from_slice(&w[REPLY_GPR..REPLY_GPR + 8]);
        let r = NativeResult {
            end: NativeEnd::Exception {
                vector: w[1] as u8,
                error_code: w[2],
                cr2: w[3],
            },
            regs: NativeRegs {
                gpr,
                eip: w[REPLY_EIP],
                eflags: w[REPLY_EFLAGS],
            },
            pages,
        };
        (Some(self), Ok(r))
    }

    /// CPU time the child has used so far (from /proc/<pid>/schedstat), if readable.
    fn cpu_time(&self) -> Option<Duration> {
        use std::os::unix::fs::FileExt;
        let f = self.schedstat.as_ref()?;
        let mut buf = [0u8; 64];
        let n = f.read_at(&mut buf, 0).ok()?;
        let text = std::str::from_utf8(&buf[..n]).ok()?;
        let ns: u64 = text.split(' ').next()?.parse().ok()?;
        Some(Duration::from_nanos(ns))
    }

    /// Kills and reaps the child.
    fn kill(self) {
        // SAFETY: `pid` is our own unreaped child, so the signal cannot hit another process.
        unsafe { libc::kill(self.pid, libc::SIGKILL) };
        self.wait();
    }

    /// Reaps a child that closed its pipe and says why it ended.
    fn died(self) -> NativeError {
        // Give it the SIGKILL anyway in case it only closed the pipe.
        // SAFETY: `pid` is our own unreaped child.
        unsafe { libc::kill(self.pid, libc::SIGKILL) };
        match self.wait() {
            Some(st) if libc::WIFSIGNALED(st) && libc::WTERMSIG(st) == libc::SIGSYS => {
                NativeError::SandboxKilled
            }
            Some(st) if libc::WIFSIGNALED(st) => {
                NativeError::ChildDied(format!("killed by signal {}", libc::WTERMSIG(st)))
            }
            Some(st) if libc::WIFEXITED(st) && libc::WEXITSTATUS(st) == EXIT_HOST_FAULT => {
                NativeError::ChildDied("a fault outside compat-mode guest code".into())
            }
            Some(st) if libc::WIFEXITED(st) => {
                NativeError::ChildDied(format!("exited with status {}", libc::WEXITSTATUS(st)))
            }
            _ => NativeError::ChildDied("status unknown".into()),
        }
    }

    /// Waits for the child to end; its wait status, if it could be had.
    fn wait(self) -> Option<i32> {
        let mut st = 0;
        loop {
            // SAFETY: waits for our own child only; `st` is a valid out-pointer.
            let r = unsafe { libc::waitpid(self.pid, &mut st, 0) };
            if r == self.pid {
                return Some(st);
            }
            if r < 0 && io::Error::last_os_error().kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return None;
        }
    }
}

/// Refuses to fork when the host process has something mapped below 4 GiB,
/// where case pages would collide with it and guest code could reach it.
fn check_address_space() -> Result<(), NativeError> {
    let maps = std::fs::read_to_string("/proc/self/maps").map_err(|source| NativeError::Os {
        what: "reading /proc/self/maps",
        source,
    })?;
    for line in maps.lines() {
        let start = line.split('-').next().unwrap_or("");
        match u64::from_str_radix(start, 16) {
            Ok(a) if a < 1 << 32 => {
                return Err(NativeError::Unsupported(format!(
                    "the host process has a mapping below 4 GiB: {line}"
                )));
            }
            Ok(_) => {}
            Err(_) => {
                return Err(NativeError::Unsupported(format!(
                    "cannot parse /proc/self/maps line {line:?}"
                )));
            }
        }
    }
    Ok(())
}
