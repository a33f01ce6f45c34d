//! The child's seccomp-BPF sandbox: any syscall from 32-bit compat code
//! (`int 0x80`, `sysenter`, `syscall` there: audit arch i386) or any x32 or
//! x86-64 syscall outside the few the child's case loop needs kills the
//! whole child process with SIGSYS.

/// `AUDIT_ARCH_X86_64` (EM_X86_64 | __AUDIT_ARCH_64BIT | __AUDIT_ARCH_LE).
const AUDIT_ARCH_X86_64: u32 = 0xc000_003e;
/// Syscall numbers with this bit set are x32-ABI syscalls.
const X32_SYSCALL_BIT: u32 = 0x4000_0000;
/// Offsets in `struct seccomp_data`.
const DATA_NR: u32 = 0;
const DATA_ARCH: u32 = 4;
/// Classic BPF opcodes.
const LD_W_ABS: u16 = 0x20; // BPF_LD | BPF_W | BPF_ABS
const JEQ_K: u16 = 0x15; // BPF_JMP | BPF_JEQ | BPF_K
const JGE_K: u16 = 0x35; // BPF_JMP | BPF_JGE | BPF_K
const RET_K: u16 = 0x06; // BPF_RET | BPF_K
/// `SECCOMP_RET_ALLOW`.
const RET_ALLOW: u32 = 0x7fff_0000;

/// The x86-64 syscalls the child's loop makes after the filter is installed.
const ALLOWED: [u32; 8] = [
    libc::SYS_read as u32,
    libc::SYS_write as u32,
    libc::SYS_writev as u32,
    libc::SYS_mmap as u32,
    libc::SYS_munmap as u32,
    libc::SYS_mprotect as u32,
    libc::SYS_rt_sigreturn as u32,
    libc::SYS_exit_group as u32,
];

/// Filter length: arch check (2), nr load (1), x32 check (1), one test per
/// allowed syscall, kill, allow.
const LEN: usize = 4 + ALLOWED.len() + 2;

const fn insn(code: u16, jt: u8, jf: u8, k: u32) -> libc::sock_filter {
    libc::sock_filter { code, jt, jf, k }
}

/// The filter program (built at compile time: the forked child must not allocate).
const PROGRAM: [libc::sock_filter; LEN] = {
    let kill = (LEN - 2) as u8;
    let allow = (LEN - 1) as u8;
    let mut p = [insn(RET_K, 0, 0, libc::SECCOMP_RET_KILL_PROCESS); LEN];
    p[0] = insn(LD_W_ABS, 0, 0, DATA_ARCH);
    p[1] = insn(JEQ_K, 0, kill - 2, AUDIT_ARCH_X86_64);
    p[2] = insn(LD_W_ABS, 0, 0, DATA_NR);
    p[3] = insn(JGE_K, kill - 4, 0, X32_SYSCALL_BIT);
    let mut i = 0;
    while i < ALLOWED.len() {
        let at = 4 + i;
        p[at] = insn(JEQ_K, allow - at as u8 - 1, 0, ALLOWED[i]);
        i += 1;
    }
    p[LEN - 2] = insn(RET_K, 0, 0, libc::SECCOMP_RET_KILL_PROCESS);
    p[LEN - 1] = insn(RET_K, 0, 0, RET_ALLOW);
    p
};

/// Installs the filter on the calling (single-threaded, forked) process.
/// PR_SET_NO_NEW_PRIVS must be set first. Returns the errno on failure.
pub fn install() -> Result<(), i32> {
    let prog = libc::sock_fprog {
        len: LEN as u16,
        filter: PROGRAM.as_ptr() as *mut libc::sock_filter,
    };
    // SAFETY: `prog` points at a valid, fully initialised BPF program that
    // outlives the call (the kernel copies it).
    let r = unsafe {
        libc::syscall(
            libc::SYS_seccomp,
            libc::SECCOMP_SET_MODE_FILTER,
            0,
            &prog as *const libc::sock_fprog,
        )
    };
    if r == 0 {
        Ok(())
    } else {
        Err(super::child::errno())
    }
}
