//! The forked child process: sets up its sandbox, then runs cases from the
//! case pipe on the host CPU in 32-bit compatibility mode.
//!
//! Everything here runs after `fork` in a copy of a possibly multi-threaded
//! process, so it never allocates, locks or panics: it uses raw libc calls,
//! stack buffers and one static exit record written by the signal handler.
//!
//! Entry: `btvm_native_enter` saves the host's callee-saved registers and
//! RSP, resets x87/SSE state, loads DS/ES and the guest GPRs and `iretq`s to
//! CS=0x23 (compat mode). Exit: the first fault raises a signal handled on
//! the alternate signal stack; the handler records the guest state from the
//! ucontext and rewrites it so `rt_sigreturn` lands in 64-bit code at
//! `btvm_native_land` on the saved host stack, which returns from
//! `btvm_native_enter`.

use super::protocol::*;
use super::{PAGE_SIZE, USER32_CS, USER_DS};
use std::arch::global_asm;
use std::cell::UnsafeCell;

/// Linux x86-64's 64-bit user code selector (__USER_CS).
const USER64_CS: u16 = 0x33;
/// Size of the alternate signal stack (room for an AVX-512 signal frame).
const ALT_STACK_SIZE: usize = 64 * 1024;

/// The guest state `btvm_native_enter` loads (layout used by the assembly).
#[repr(C)]
struct Entry {
    gpr: [u32; 8],
    eip: u32,
    eflags: u32,
}

/// What the signal handler records about the guest at its exception.
#[repr(C)]
struct Exit {
    /// Host RSP inside `btvm_native_enter`, written by the assembly.
    host_rsp: u64,
    vector: u32,
    error_code: u32,
    cr2: u32,
    gpr: [u32; 8],
    eip: u32,
    eflags: u32,
}

/// A cell the single-threaded child shares between its loop, the assembly and the signal handler.
#[repr(transparent)]
struct ChildCell(UnsafeCell<Exit>);
// SAFETY: only the forked child (one thread) touches it; the signal handler
// runs synchronously on that thread while guest code (not Rust code) runs.
unsafe impl Sync for ChildCell {}

static EXIT: ChildCell = ChildCell(UnsafeCell::new(Exit {
    host_rsp: 0,
    vector: 0,
    error_code: 0,
    cr2: 0,
    gpr: [0; 8],
    eip: 0,
    eflags: 0,
}));

// The mode switch. `btvm_native_enter(entry: *const Entry)` (SysV ABI) runs
// the guest until its first signal and returns through `btvm_native_land`.
global_asm!(
    ".pushsection .text.btvm_native,\"ax\",@progbits",
    ".p2align 4",
    ".globl btvm_native_enter",
    ".type btvm_native_enter,@function",
    "btvm_native_enter:",
    "push rbx",
    "push rbp",
    "push r12",
    "push r13",
    "push r14",
    "push r15",
    "mov [rip + {exit}], rsp",
    // x87 and SSE state: the FNINIT / reset defaults.
    "fninit",
    "push 0x1f80",
    "ldmxcsr [rsp]",
    "add rsp, 8",
    "pxor xmm0, xmm0",
    "pxor xmm1, xmm1",
    "pxor xmm2, xmm2",
    "pxor xmm3, xmm3",
    "pxor xmm4, xmm4",
    "pxor xmm5, xmm5",
    "pxor xmm6, xmm6",
    "pxor xmm7, xmm7",
    // Flat data segments (64-bit Linux leaves DS/ES null, which compat mode would #GP on).
    "mov eax, {ds}",
    "mov ds, eax",
    "mov es, eax",
    // iretq frame: SS, ESP, EFLAGS, CS, EIP.
    "push {ds}",
    "mov eax, [rdi + 16]",
    "push rax",
    "mov eax, [rdi + 36]",
    "push rax",
    "push {cs32}",
    "mov eax, [rdi + 32]",
    "push rax",
    "mov eax, [rdi]",
    "mov ecx, [rdi + 4]",
    "mov edx, [rdi + 8]",
    "mov ebx, [rdi + 12]",
    "mov ebp, [rdi + 20]",
    "mov esi, [rdi + 24]",
    "mov edi, [rdi + 28]",
    "iretq",
    ".size btvm_native_enter, . - btvm_native_enter",
    "",
    ".p2align 4",
    ".globl btvm_native_land",
    ".type btvm_native_land,@function",
    "btvm_native_land:",
    "mov rsp, [rip + {exit}]",
    "fninit",
    "push 0x1f80",
    "ldmxcsr [rsp]",
    "add rsp, 8",
    "cld",
    "pop r15",
    "pop r14",
    "pop r13",
    "pop r12",
    "pop rbp",
    "pop rbx",
    "ret",
    ".size btvm_native_land, . - btvm_native_land",
    "",
    // Signal entry: the kernel clears DF and TF for a handler but not AC,
    // and Linux runs user code with CR0.AM set, so a guest's AC would make
    // any misaligned access in the Rust handler an #AC.
    ".p2align 4",
    ".globl btvm_native_signal",
    ".type btvm_native_signal,@function",
    "btvm_native_signal:",
    "pushfq",
    "and dword ptr [rsp], {not_ac}",
    "popfq",
    "jmp {on_fault}",
    ".size btvm_native_signal, . - btvm_native_signal",
    ".popsection",
    exit = sym EXIT,
    on_fault = sym on_fault,
    not_ac = const !(1u32 << 18),
    ds = const USER_DS,
    cs32 = const USER32_CS,
);

extern "C" {
    /// Runs the guest described by `entry` until its first signal.
    fn btvm_native_enter(entry: *const Entry);
    /// Where the signal handler sends the CPU back to 64-bit mode.
    fn btvm_native_land();
    /// The installed signal handler: clears EFLAGS.AC, then tail-calls `on_fault`.
    fn btvm_native_signal(sig: libc::c_int, info: *mut libc::siginfo_t, ctx: *mut libc::c_void);
}

/// The calling thread's errno.
pub fn errno() -> i32 {
    // SAFETY: __errno_location returns the calling thread's valid errno slot.
    unsafe { *libc::__errno_location() }
}

/// Terminates the child at once (exit_group; no atexit handlers, no unwinding).
fn exit(code: i32) -> ! {
    // SAFETY: _exit is async-signal-safe and never returns.
    unsafe { libc::_exit(code) }
}

/// Reads exactly `len` bytes into `buf`; false on EOF or error.
///
/// # Safety
/// `buf` must be valid for `len` bytes of writes.
unsafe fn read_exact(fd: i32, buf: *mut u8, len: usize) -> bool {
    let mut done = 0;
    while done < len {
        // SAFETY: buf + done .. buf + len is in the caller's writable buffer.
        let n = unsafe { libc::read(fd, buf.add(done).cast(), len - done) };
        if n > 0 {
            done += n as usize;
        } else if n == 0 || errno() != libc::EINTR {
            return false;
        }
    }
    true
}

/// Writes exactly `len` bytes from `buf`; false on error.
///
/// # Safety
/// `buf` must be valid for `len` bytes of reads.
unsafe fn write_all(fd: i32, buf: *const u8, len: usize) -> bool {
    let mut done = 0;
    while done < len {
        // SAFETY: buf + done .. buf + len is in the caller's readable buffer.
        let n = unsafe { libc::write(fd, buf.add(done).cast(), len - done) };
        if n > 0 {
            done += n as usize;
        } else if n == 0 || errno() != libc::EINTR {
            return false;
        }
    }
    true
}

/// Sends one reply header (the parent reads it whole).
fn reply(words: &[u32; REPLY_WORDS]) {
    // SAFETY: `words` is REPLY_WORDS * 4 readable bytes.
    if !unsafe { write_all(OUT_FD, words.as_ptr().cast(), REPLY_WORDS * 4) } {
        exit(0);
    }
}

/// Reports a failed set-up step and exits.
fn setup_failed(step: u32, err: i32) -> ! {
    let mut w = [0u32; REPLY_WORDS];
    w[0] = STATUS_SETUP_FAILED;
    w[1] = err as u32;
    w[2] = step;
    reply(&w);
    exit(1)
}

/// The case pipe, as the child's stdin.
const IN_FD: i32 = 0;
/// The reply pipe, as the child's stdout.
const OUT_FD: i32 = 1;

/// The child's entry point after `fork`: `case_fd`/`reply_fd` are its pipe
/// ends, `parent` the parent's pid. Never returns.
pub fn main(case_fd: i32, reply_fd: i32, parent: libc::pid_t) -> ! {
    setup(case_fd, reply_fd, parent);
    let mut w = [0u32; REPLY_WORDS];
    w[0] = STATUS_READY;
    reply(&w);
    let mut mapped = Mapped::EMPTY;
    loop {
        run_one(&mut mapped);
    }
}

/// Pipes to stdin/stdout, every other fd closed, parent-death signal,
/// alternate signal stack, fault handlers, no-new-privs, seccomp.
fn setup(case_fd: i32, reply_fd: i32, parent: libc::pid_t) {
    // SAFETY: plain fd syscalls on fds this process owns; stderr (2) stays for diagnostics.
    let ok = unsafe {
        let c = libc::fcntl(case_fd, libc::F_DUPFD, 10);
        let r = libc::fcntl(reply_fd, libc::F_DUPFD, 10);
        c >= 0
            && r >= 0
            && libc::dup2(c, IN_FD) == IN_FD
            && libc::dup2(r, OUT_FD) == OUT_FD
            && libc::syscall(libc::SYS_close_range, 3u32, u32::MAX, 0u32) == 0
    };
    if !ok {
        // The reply fd may be gone: exit; the parent reports the child's death.
        exit(1);
    }
    // SAFETY: prctl with integer arguments only.
    if unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0) } != 0 {
        setup_failed(1, errno());
    }
    // SAFETY: getppid has no preconditions.
    if unsafe { libc::getppid() } != parent {
        exit(0);
    }
    // SAFETY: an anonymous private mapping at an address of the kernel's choice.
    let stack = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            ALT_STACK_SIZE,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    };
    if stack == libc::MAP_FAILED {
        setup_failed(2, errno());
    }
    let ss = libc::stack_t {
        ss_sp: stack,
        ss_flags: 0,
        ss_size: ALT_STACK_SIZE,
    };
    // SAFETY: `ss` describes the mapping just made, which is never unmapped.
    if unsafe { libc::sigaltstack(&ss, std::ptr::null_mut()) } != 0 {
        setup_failed(2, errno());
    }
    const FAULTS: [libc::c_int; 5] = [
        libc::SIGSEGV,
        libc::SIGBUS,
        libc::SIGILL,
        libc::SIGFPE,
        libc::SIGTRAP,
    ];
    for sig in FAULTS {
        // SAFETY: a zeroed sigaction is a valid starting value; the handler
        // has the SA_SIGINFO signature and never returns into Rust state it
        // could corrupt (see `on_fault`).
        let r = unsafe {
            let mut sa: libc::sigaction = std::mem::zeroed();
            sa.sa_sigaction = btvm_native_signal as *const () as usize;
            sa.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
            libc::sigfillset(&mut sa.sa_mask);
            libc::sigaction(sig, &sa, std::ptr::null_mut())
        };
        if r != 0 {
            setup_failed(3, errno());
        }
    }
    // A fault signal blocked in the forking thread would kill instead of trap.
    // SAFETY: an initialised signal set on the stack; only unblocks signals.
    let r = unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for sig in FAULTS {
            libc::sigaddset(&mut set, sig);
        }
        libc::pthread_sigmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut())
    };
    if r != 0 {
        setup_failed(3, r);
    }
    // SAFETY: prctl with integer arguments only.
    if unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) } != 0 {
        setup_failed(4, errno());
    }
    if let Err(e) = super::seccomp::install() {
        setup_failed(5, e);
    }
}

/// The case pages currently mapped in the child. Pages stay mapped between
/// cases so a fuzzer reusing one layout skips mmap/munmap and fresh-page
/// zeroing; pages a case does not name are unmapped before it runs.
struct Mapped {
    /// (address, currently writable) of each mapped page.
    pages: [(u32, bool); MAX_PAGES],
    len: usize,
}

impl Mapped {
    /// No pages mapped.
    const EMPTY: Mapped = Mapped {
        pages: [(0, false); MAX_PAGES],
        len: 0,
    };
}

/// Replies STATUS_MAP_FAILED for `addr` and exits.
fn map_failed(addr: u32, err: i32) -> ! {
    let mut w = [0u32; REPLY_WORDS];
    w[0] = STATUS_MAP_FAILED;
    w[1] = err as u32;
    w[3] = addr;
    reply(&w);
    exit(1)
}

/// Sets the protection of the case page at `addr`: always readable and
/// executable (386 paging has no NX), writable when asked.
fn protect(addr: u32, writable: bool) {
    let prot = libc::PROT_READ | libc::PROT_EXEC | if writable { libc::PROT_WRITE } else { 0 };
    // SAFETY: changes only the protection of a case page this loop mapped.
    if unsafe { libc::mprotect(addr as usize as *mut libc::c_void, PAGE_SIZE, prot) } != 0 {
        map_failed(addr, errno());
    }
}

/// Reads one case, maps its pages, runs it and replies.
fn run_one(mapped: &mut Mapped) {
    let mut head = [0u32; CASE_WORDS];
    // SAFETY: `head` is CASE_WORDS * 4 writable bytes.
    if !unsafe { read_exact(IN_FD, head.as_mut_ptr().cast(), CASE_WORDS * 4) } {
        exit(0); // the parent closed the pipe
    }
    let n = (head[CASE_NPAGES] as usize).min(MAX_PAGES);
    let mut ph = [0u32; PAGE_HEADER_WORDS * MAX_PAGES];
    let ph_len = n * PAGE_HEADER_WORDS;
    // SAFETY: `ph` has room for MAX_PAGES page headers and n <= MAX_PAGES.
    if !unsafe { read_exact(IN_FD, ph.as_mut_ptr().cast(), ph_len * 4) } {
        exit(0);
    }
    let case_pages = &ph[..ph_len];
    let in_case = |addr: u32| case_pages.chunks_exact(2).any(|c| c[0] == addr);
    // Unmap what this case does not name: the guest must see only its own pages.
    let mut i = 0;
    while i < mapped.len {
        let addr = mapped.pages[i].0;
        if in_case(addr) {
            i += 1;
        } else {
            // SAFETY: unmaps exactly a case page this loop mapped earlier.
            unsafe { libc::munmap(addr as usize as *mut libc::c_void, PAGE_SIZE) };
            mapped.len -= 1;
            mapped.pages[i] = mapped.pages[mapped.len];
        }
    }
    for c in case_pages.chunks_exact(2) {
        let (addr, writable) = (c[0], c[1] != 0);
        let slot = match mapped.pages[..mapped.len].iter().position(|p| p.0 == addr) {
            Some(j) => {
                if !mapped.pages[j].1 {
                    protect(addr, true);
                }
                j
            }
            None => {
                // SAFETY: MAP_FIXED_NOREPLACE never replaces an existing
                // mapping, so this cannot clobber the child's own memory; the
                // parent checked the address is page-aligned and >= 64 KiB.
                let p = unsafe {
                    libc::mmap(
                        addr as usize as *mut libc::c_void,
                        PAGE_SIZE,
                        libc::PROT_READ | libc::PROT_WRITE | libc::PROT_EXEC,
                        libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED_NOREPLACE,
                        -1,
                        0,
                    )
                };
                if p == libc::MAP_FAILED {
                    map_failed(addr, errno());
                }
                if p as usize != addr as usize {
                    // A kernel without MAP_FIXED_NOREPLACE treats it as a hint.
                    // SAFETY: unmaps the mapping just made elsewhere.
                    unsafe { libc::munmap(p, PAGE_SIZE) };
                    map_failed(addr, libc::EEXIST);
                }
                mapped.pages[mapped.len] = (addr, true);
                mapped.len += 1;
                mapped.len - 1
            }
        };
        // SAFETY: the page at `addr` is mapped read-write (just mapped or re-protected).
        if !unsafe { read_exact(IN_FD, addr as usize as *mut u8, PAGE_SIZE) } {
            exit(0);
        }
        if !writable {
            protect(addr, false);
        }
        mapped.pages[slot].1 = writable;
    }
    let entry = Entry {
        gpr: [
            head[0], head[1], head[2], head[3], head[4], head[5], head[6], head[7],
        ],
        eip: head[8],
        eflags: head[9],
    };
    // Guest code can only reach memory below 4 GiB, which holds nothing but
    // this case's pages (the parent checked the address space before
    // forking), and its first fault lands in `on_fault`, which returns to
    // `btvm_native_land`.
    // SAFETY: the assembly preserves callee-saved registers, RSP and DF and returns with x87 empty.
    unsafe { btvm_native_enter(&entry) };
    // SAFETY: the handler finished writing EXIT before `btvm_native_enter` returned.
    let e = unsafe { &*EXIT.0.get() };
    let mut w = [0u32; REPLY_WORDS];
    w[0] = STATUS_DONE;
    w[1] = e.vector;
    w[2] = e.error_code;
    w[3] = e.cr2;
    w[REPLY_GPR..REPLY_GPR + 8].copy_from_slice(&e.gpr);
    w[REPLY_EIP] = e.eip;
    w[REPLY_EFLAGS] = e.eflags;
    send_result(&w, case_pages);
}

/// Sends the reply header and the bytes of the case's writable pages,
/// batched into few `writev` calls so the parent wakes up once.
fn send_result(w: &[u32; REPLY_WORDS], case_pages: &[u32]) {
    const BATCH: usize = 64;
    let empty = libc::iovec {
        iov_base: std::ptr::null_mut(),
        iov_len: 0,
    };
    let mut iov = [empty; BATCH];
    iov[0] = libc::iovec {
        iov_base: w.as_ptr() as *mut libc::c_void,
        iov_len: REPLY_WORDS * 4,
    };
    let mut n = 1;
    for c in case_pages.chunks_exact(2).filter(|c| c[1] != 0) {
        if n == BATCH {
            write_vectors(&iov);
            n = 0;
        }
        iov[n] = libc::iovec {
            iov_base: c[0] as usize as *mut libc::c_void,
            iov_len: PAGE_SIZE,
        };
        n += 1;
    }
    write_vectors(&iov[..n]);
}

/// Writes every byte `iov` describes (each entry readable memory); exits
/// when the parent is gone.
fn write_vectors(iov: &[libc::iovec]) {
    let total: usize = iov.iter().map(|v| v.iov_len).sum();
    // SAFETY: every entry describes readable memory (the reply words or a
    // mapped case page) and `iov` is a valid array of iov.len() entries.
    let r = unsafe { libc::writev(OUT_FD, iov.as_ptr(), iov.len() as libc::c_int) };
    let mut done = if r >= 0 {
        r as usize
    } else if errno() == libc::EINTR {
        0
    } else {
        exit(0)
    };
    if done == total {
        return;
    }
    // A short write: finish entry by entry.
    for v in iov {
        if done >= v.iov_len {
            done -= v.iov_len;
            continue;
        }
        // SAFETY: the rest of this readable entry.
        let base = unsafe { v.iov_base.cast::<u8>().add(done) };
        // SAFETY: `base` .. `base + iov_len - done` lies inside the entry.
        if !unsafe { write_all(OUT_FD, base, v.iov_len - done) } {
            exit(0);
        }
        done = 0;
    }
}

/// The fault handler (SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP), running on
/// the alternate stack: records the guest's state and sends `rt_sigreturn`
/// to `btvm_native_land`. A fault in host code (CS is not the compat
/// selector) ends the child.
extern "C" fn on_fault(_sig: libc::c_int, _info: *mut libc::siginfo_t, ctx: *mut libc::c_void) {
    let uc = ctx.cast::<libc::ucontext_t>();
    // SAFETY: the kernel passes a valid ucontext for SA_SIGINFO handlers.
    let g = unsafe { &mut (*uc).uc_mcontext.gregs };
    let csgsfs = g[libc::REG_CSGSFS as usize] as u64;
    if csgsfs & 0xffff != u64::from(USER32_CS) {
        exit(EXIT_HOST_FAULT);
    }
    let low = |r: libc::c_int| g[r as usize] as u32;
    let vector = low(libc::REG_TRAPNO);
    let gpr = [
        low(libc::REG_RAX),
        low(libc::REG_RCX),
        low(libc::REG_RDX),
        low(libc::REG_RBX),
        low(libc::REG_RSP),
        low(libc::REG_RBP),
        low(libc::REG_RSI),
        low(libc::REG_RDI),
    ];
    let eip = low(libc::REG_RIP);
    // RF is an artefact of how the kernel delivers faults, not guest state.
    let eflags = low(libc::REG_EFL) & !(1 << 16);
    let error_code = low(libc::REG_ERR);
    let cr2 = if vector == 14 { low(libc::REG_CR2) } else { 0 };
    let e = EXIT.0.get();
    // SAFETY: the child is single-threaded and the main loop is suspended in
    // guest code, so nothing else accesses EXIT now.
    let host_rsp = unsafe {
        (*e).vector = vector;
        (*e).error_code = error_code;
        (*e).cr2 = cr2;
        (*e).gpr = gpr;
        (*e).eip = eip;
        (*e).eflags = eflags;
        (*e).host_rsp
    };
    g[libc::REG_RIP as usize] = btvm_native_land as *const () as usize as i64;
    g[libc::REG_RSP as usize] = host_rsp as i64;
    g[libc::REG_EFL as usize] = 0x202;
    // cs = __USER_CS, gs/fs kept, ss = __USER_DS.
    let csgsfs =
        (csgsfs & 0x0000_ffff_ffff_0000) | u64::from(USER64_CS) | (u64::from(USER_DS) << 48);
    g[libc::REG_CSGSFS as usize] = csgsfs as i64;
}
