//! Tests of the native runner against real silicon. They need an x86-64
//! Linux host with 32-bit compat segments; elsewhere each test prints that
//! it is skipped and returns.

use super::*;

/// Code page (read-only), data page (writable), read-only data page.
const CODE: u32 = 0x10000;
const DATA: u32 = 0x20000;
const RODATA: u32 = 0x30000;
/// An address with no page.
const UNMAPPED: u32 = 0x4000_0000;

const CF: u32 = 1 << 0;
const PF: u32 = 1 << 2;
const AF: u32 = 1 << 4;
const ZF: u32 = 1 << 6;
const SF: u32 = 1 << 7;
const IF: u32 = 1 << 9;
const OF: u32 = 1 << 11;

/// A runner, or None (with a note) when the host cannot run native cases.
fn runner() -> Option<NativeRunner> {
    if let Err(why) = NativeRunner::available() {
        eprintln!("SKIPPED: native runs unavailable here: {why}");
        return None;
    }
    Some(NativeRunner::new().expect("native runner starts"))
}

/// A case running `code` at CODE with the three standard pages and `regs`
/// (EIP set to CODE; ESP at the top of DATA unless given).
fn case(code: &[u8], mut regs: NativeRegs) -> NativeCase {
    let mut text = vec![0u8; PAGE_SIZE];
    text[..code.len()].copy_from_slice(code);
    regs.eip = CODE;
    if regs.gpr[4] == 0 {
        regs.gpr[4] = DATA + PAGE_SIZE as u32;
    }
    NativeCase {
        pages: vec![
            NativePage {
                addr: CODE,
                data: text,
                writable: false,
            },
            NativePage {
                addr: DATA,
                data: vec![0xaa; PAGE_SIZE],
                writable: true,
            },
            NativePage {
                addr: RODATA,
                data: vec![0x55; PAGE_SIZE],
                writable: false,
            },
        ],
        regs,
        timeout_ms: 5000,
    }
}

/// Regs with the given GPRs set by (index, value).
fn regs(set: &[(usize, u32)]) -> NativeRegs {
    let mut r = NativeRegs::default();
    for &(i, v) in set {
        r.gpr[i] = v;
    }
    r
}

fn exception(vector: u8, error_code: u32, cr2: u32) -> NativeEnd {
    NativeEnd::Exception {
        vector,
        error_code,
        cr2,
    }
}

/// `mov eax, 0x12345678; add eax, ebx; ud2`.
const ADD_UD2: [u8; 9] = [0xb8, 0x78, 0x56, 0x34, 0x12, 0x01, 0xd8, 0x0f, 0x0b];

#[test]
fn add_then_ud2_carry_zero() {
    let Some(mut r) = runner() else { return };
    let res = r.run(&case(&ADD_UD2, regs(&[(3, 0xedcb_a988)]))).unwrap();
    assert_eq!(res.end, exception(6, 0, 0));
    assert_eq!(res.regs.eip, CODE + 7, "EIP at the UD2");
    assert_eq!(res.regs.gpr[0], 0);
    assert_eq!(res.regs.gpr[3], 0xedcb_a988);
    let f = res.regs.eflags;
    assert_eq!(
        f & (CF | ZF | SF | OF | PF | AF),
        CF | ZF | PF | AF,
        "{f:#x}"
    );
    assert_ne!(f & IF, 0, "IF is always on");
}

#[test]
fn add_then_ud2_overflow_sign() {
    let Some(mut r) = runner() else { return };
    // Entry flags CF|ZF must be overwritten by the ADD.
    let mut rg = regs(&[(3, 0x7000_0000)]);
    rg.eflags = CF | ZF;
    let res = r.run(&case(&ADD_UD2, rg)).unwrap();
    assert_eq!(res.end, exception(6, 0, 0));
    assert_eq!(res.regs.gpr[0], 0x8234_5678);
    // 0x78 has four bits set: PF=1; 8 + 0 no nibble carry: AF=0.
    let f = res.regs.eflags;
    assert_eq!(f & (CF | ZF | SF | OF | PF | AF), SF | OF | PF, "{f:#x}");
}

#[test]
fn entry_registers_and_flags_reach_the_guest() {
    let Some(mut r) = runner() else { return };
    let mut rg = regs(&[
        (0, 1),
        (1, 2),
        (2, 3),
        (3, 4),
        (4, DATA + 0x800),
        (5, 6),
        (6, 7),
        (7, 8),
    ]);
    rg.eflags = CF | OF | (1 << 10) | (1 << 8); // CF OF DF, and TF which is dropped
    let res = r.run(&case(&[0x0f, 0x0b], rg)).unwrap();
    assert_eq!(res.end, exception(6, 0, 0));
    assert_eq!(res.regs.gpr, rg.gpr);
    assert_eq!(res.regs.eflags, CF | OF | (1 << 10) | IF | 2);
}

#[test]
fn store_to_writable_page_is_returned() {
    let Some(mut r) = runner() else { return };
    // mov [DATA+0x10], eax; ud2
    let mut code = vec![0xa3];
    code.extend_from_slice(&(DATA + 0x10).to_le_bytes());
    code.extend_from_slice(&[0x0f, 0x0b]);
    let res = r.run(&case(&code, regs(&[(0, 0xdead_beef)]))).unwrap();
    assert_eq!(res.end, exception(6, 0, 0));
    assert_eq!(res.pages.len(), 1, "only the writable page comes back");
    let (addr, data) = &res.pages[0];
    assert_eq!(*addr, DATA);
    assert_eq!(&data[0x10..0x14], &[0xef, 0xbe, 0xad, 0xde]);
    assert_eq!(data[0x0f], 0xaa);
    assert_eq!(data[0x14], 0xaa);
}

#[test]
fn store_to_read_only_page_faults() {
    let Some(mut r) = runner() else { return };
    let mut code = vec![0xa3]; // mov [RODATA+0x20], eax
    code.extend_from_slice(&(RODATA + 0x20).to_le_bytes());
    let res = r.run(&case(&code, NativeRegs::default())).unwrap();
    assert_eq!(res.end, exception(14, 7, RODATA + 0x20));
    assert_eq!(res.regs.eip, CODE);
}

#[test]
fn load_from_unmapped_address_faults() {
    let Some(mut r) = runner() else { return };
    let mut code = vec![0xa1]; // mov eax, [UNMAPPED+4]
    code.extend_from_slice(&(UNMAPPED + 4).to_le_bytes());
    let res = r.run(&case(&code, NativeRegs::default())).unwrap();
    assert_eq!(res.end, exception(14, 4, UNMAPPED + 4));
    assert_eq!(res.regs.eip, CODE);
}

#[test]
fn divide_by_zero() {
    let Some(mut r) = runner() else { return };
    // div ecx with ECX = 0
    let res = r.run(&case(&[0xf7, 0xf1], regs(&[(0, 5)]))).unwrap();
    assert_eq!(res.end, exception(0, 0, 0));
    assert_eq!(res.regs.eip, CODE);
}

#[test]
fn int3_traps_after_itself() {
    let Some(mut r) = runner() else { return };
    let res = r.run(&case(&[0x90, 0xcc], NativeRegs::default())).unwrap();
    assert_eq!(res.end, exception(3, 0, 0));
    assert_eq!(res.regs.eip, CODE + 2);
}

#[test]
fn into_with_overflow() {
    let Some(mut r) = runner() else { return };
    let rg = NativeRegs {
        eflags: OF,
        ..NativeRegs::default()
    };
    let res = r.run(&case(&[0xce], rg)).unwrap();
    assert_eq!(res.end, exception(4, 0, 0));
    assert_eq!(res.regs.eip, CODE + 1);
    // Without OF, INTO does nothing and the UD2 ends the stream.
    let res = r
        .run(&case(&[0xce, 0x0f, 0x0b], NativeRegs::default()))
        .unwrap();
    assert_eq!(res.end, exception(6, 0, 0));
    assert_eq!(res.regs.eip, CODE + 1);
}

#[test]
fn alignment_check_after_popf_sets_ac() {
    let Some(mut r) = runner() else { return };
    // pushfd; or dword [esp], 0x40000; popfd; mov eax, [DATA+1]
    let mut code = vec![0x9c, 0x81, 0x0c, 0x24, 0, 0, 4, 0, 0x9d, 0xa1];
    code.extend_from_slice(&(DATA + 1).to_le_bytes());
    code.extend_from_slice(&[0x0f, 0x0b]);
    let res = r.run(&case(&code, regs(&[(4, DATA + 0x800)]))).unwrap();
    assert_eq!(
        res.end,
        exception(17, 0, 0),
        "Linux runs user code with CR0.AM"
    );
    assert_eq!(res.regs.eip, CODE + 9);
    assert_ne!(res.regs.eflags & (1 << 18), 0);
    // AC does not outlive the case.
    let res = r
        .run(&case(&load(DATA + 1), NativeRegs::default()))
        .unwrap();
    assert_eq!(res.end, exception(6, 0, 0));
    assert_eq!(res.regs.gpr[0], 0xaaaa_aaaa);
}

#[test]
fn x87_and_sse_start_in_the_reset_state() {
    let Some(mut r) = runner() else { return };
    // fnstcw [DATA]; stmxcsr [DATA+4]; fnstsw ax; movd ecx, xmm3; ud2
    let mut check = vec![0xd9, 0x3d];
    check.extend_from_slice(&DATA.to_le_bytes());
    check.extend_from_slice(&[0x0f, 0xae, 0x1d]);
    check.extend_from_slice(&(DATA + 4).to_le_bytes());
    check.extend_from_slice(&[0xdf, 0xe0, 0x66, 0x0f, 0x7e, 0xd9, 0x0f, 0x0b]);
    let expect_reset = |res: &NativeResult| {
        assert_eq!(res.end, exception(6, 0, 0));
        let d = &res.pages[0].1;
        assert_eq!(&d[0..2], &[0x7f, 0x03], "FCW = 0x037f");
        assert_eq!(&d[4..8], &[0x80, 0x1f, 0, 0], "MXCSR = 0x1f80");
        assert_eq!(res.regs.gpr[0] & 0xffff, 0, "FSW = 0");
        assert_eq!(res.regs.gpr[1], 0, "XMM3 = 0");
    };
    let dirty_regs = regs(&[(0, 0xffff_ffff), (1, 0xffff_ffff)]);
    expect_reset(&r.run(&case(&check, dirty_regs)).unwrap());
    // fld1; pcmpeqd xmm3, xmm3; fldcw [RODATA]; ud2 — leaves x87/SSE dirty.
    let mut dirty = vec![0xd9, 0xe8, 0x66, 0x0f, 0x76, 0xdb, 0xd9, 0x2d];
    dirty.extend_from_slice(&RODATA.to_le_bytes());
    dirty.extend_from_slice(&[0x0f, 0x0b]);
    assert_eq!(
        r.run(&case(&dirty, NativeRegs::default())).unwrap().end,
        exception(6, 0, 0)
    );
    expect_reset(&r.run(&case(&check, dirty_regs)).unwrap());
}

#[test]
fn hlt_is_a_general_protection_fault() {
    let Some(mut r) = runner() else { return };
    let res = r.run(&case(&[0xf4], NativeRegs::default())).unwrap();
    assert_eq!(res.end, exception(13, 0, 0));
    assert_eq!(res.regs.eip, CODE);
}

#[test]
fn int_21_hits_a_ring_0_gate() {
    let Some(mut r) = runner() else { return };
    let res = r.run(&case(&[0xcd, 0x21], NativeRegs::default())).unwrap();
    assert_eq!(res.end, exception(13, 0x21 * 8 + 2, 0));
    assert_eq!(res.regs.eip, CODE);
}

#[test]
fn endless_loop_times_out_and_runner_recovers() {
    let Some(mut r) = runner() else { return };
    let mut c = case(&[0xeb, 0xfe], regs(&[(0, 42)])); // jmp $
    c.timeout_ms = 100;
    let res = r.run(&c).unwrap();
    assert_eq!(res.end, NativeEnd::Timeout);
    assert_eq!(res.regs, c.regs);
    assert_eq!(res.pages, vec![(DATA, vec![0xaa; PAGE_SIZE])]);
    let res = r.run(&case(&ADD_UD2, regs(&[(3, 1)]))).unwrap();
    assert_eq!(res.end, exception(6, 0, 0));
    assert_eq!(res.regs.gpr[0], 0x1234_5679);
}

#[test]
fn syscall_from_compat_code_is_killed_by_the_sandbox() {
    let Some(mut r) = runner() else { return };
    // int 0x80 with EAX = 20 (i386 getpid): harmless if it ran, but it must not run.
    let res = r.run(&case(&[0xcd, 0x80, 0x0f, 0x0b], regs(&[(0, 20)])));
    assert!(
        matches!(res, Err(NativeError::SandboxKilled)),
        "int 0x80 got {res:?}"
    );
    // sysenter too (AMD: #UD in compat mode; Intel: a syscall, killed).
    let res = r.run(&case(&[0x0f, 0x34, 0x0f, 0x0b], regs(&[(0, 20)])));
    match res {
        Err(NativeError::SandboxKilled) => {}
        Ok(NativeResult {
            end: NativeEnd::Exception { vector: 6, .. },
            regs,
            ..
        }) => assert_eq!(regs.eip, CODE),
        other => panic!("sysenter got {other:?}"),
    }
    // syscall (AMD: a compat syscall, killed; Intel: #UD in compat mode).
    // ESP must point at memory: the kernel's compat SYSCALL entry reads the
    // sixth argument from [ESP] before seccomp runs and, when that faults,
    // returns -EFAULT to a 32-bit vDSO address this process does not have.
    let res = r.run(&case(
        &[0x0f, 0x05, 0x0f, 0x0b],
        regs(&[(0, 20), (4, DATA + 0x800)]),
    ));
    match res {
        Err(NativeError::SandboxKilled) => {}
        Ok(NativeResult {
            end: NativeEnd::Exception { vector: 6, .. },
            regs,
            ..
        }) => assert_eq!(regs.eip, CODE),
        other => panic!("syscall got {other:?}"),
    }
    let res = r.run(&case(&ADD_UD2, regs(&[(3, 2)]))).unwrap();
    assert_eq!(res.end, exception(6, 0, 0));
    assert_eq!(res.regs.gpr[0], 0x1234_567a);
}

#[test]
fn push_to_unmapped_stack_faults_on_the_alternate_stack() {
    let Some(mut r) = runner() else { return };
    let res = r
        .run(&case(&[0x50], regs(&[(0, 7), (4, UNMAPPED + 0x100)])))
        .unwrap();
    assert_eq!(res.end, exception(14, 6, UNMAPPED + 0xfc));
    assert_eq!(res.regs.eip, CODE);
    assert_eq!(
        res.regs.gpr[4],
        UNMAPPED + 0x100,
        "ESP unchanged by the faulting push"
    );
}

/// `mov eax, [addr]; ud2`.
fn load(addr: u32) -> Vec<u8> {
    let mut code = vec![0xa1];
    code.extend_from_slice(&addr.to_le_bytes());
    code.extend_from_slice(&[0x0f, 0x0b]);
    code
}

/// `mov [addr], eax; ud2`.
fn store(addr: u32) -> Vec<u8> {
    let mut code = vec![0xa3];
    code.extend_from_slice(&addr.to_le_bytes());
    code.extend_from_slice(&[0x0f, 0x0b]);
    code
}

#[test]
fn pages_of_an_earlier_case_do_not_leak_into_the_next() {
    let Some(mut r) = runner() else { return };
    const EXTRA: u32 = 0x50000;
    // Case 1 has an extra page and dirties DATA.
    let mut c = case(&store(DATA), regs(&[(0, 0x1122_3344)]));
    c.pages.push(NativePage {
        addr: EXTRA,
        data: vec![0x77; PAGE_SIZE],
        writable: false,
    });
    let res = r.run(&c).unwrap();
    assert_eq!(res.end, exception(6, 0, 0));
    assert_eq!(&res.pages[0].1[..4], &[0x44, 0x33, 0x22, 0x11]);
    let res = r.run(&case(&load(EXTRA), NativeRegs::default())).unwrap();
    assert_eq!(res.end, exception(14, 4, EXTRA), "the extra page is gone");
    let res = r.run(&case(&load(DATA), NativeRegs::default())).unwrap();
    assert_eq!(res.end, exception(6, 0, 0));
    assert_eq!(res.regs.gpr[0], 0xaaaa_aaaa, "DATA has this case's bytes");
    // DATA read-only now: the store faults; writable again: it lands.
    let mut c = case(&store(DATA + 8), NativeRegs::default());
    c.pages[1].writable = false;
    let res = r.run(&c).unwrap();
    assert_eq!(res.end, exception(14, 7, DATA + 8));
    assert!(res.pages.is_empty());
    let res = r.run(&case(&store(DATA + 8), regs(&[(0, 5)]))).unwrap();
    assert_eq!(res.end, exception(6, 0, 0));
    assert_eq!(&res.pages[0].1[8..12], &[5, 0, 0, 0]);
    // The code page writable and patched by the guest: the next case sees the original.
    let mut code = vec![0xc6, 0x05]; // mov byte [CODE+7], 0xcc (overwrite the UD2 with int3)
    code.extend_from_slice(&(CODE + 7).to_le_bytes());
    code.extend_from_slice(&[0xcc, 0x0f, 0x0b]);
    let mut c = case(&code, NativeRegs::default());
    c.pages[0].writable = true;
    let res = r.run(&c).unwrap();
    assert_eq!(res.end, exception(3, 0, 0), "self-modified int3 ran");
    let res = r.run(&case(&code, NativeRegs::default())).unwrap();
    assert_eq!(res.end, exception(14, 7, CODE + 7), "read-only code page");
}

#[test]
fn many_writable_pages_round_trip() {
    let Some(mut r) = runner() else { return };
    // 150 writable pages (more than one writev batch, more than a pipe buffer).
    let mut c = case(
        &store(0x10_0000 + 77 * 4096 + 12),
        regs(&[(0, 0x0102_0304)]),
    );
    for i in 0..150u32 {
        c.pages.push(NativePage {
            addr: 0x10_0000 + i * 4096,
            data: vec![i as u8; PAGE_SIZE],
            writable: true,
        });
    }
    let res = r.run(&c).unwrap();
    assert_eq!(res.end, exception(6, 0, 0));
    assert_eq!(res.pages.len(), 151);
    for (i, (addr, data)) in res.pages[1..].iter().enumerate() {
        assert_eq!(*addr, 0x10_0000 + i as u32 * 4096);
        let mut want = vec![i as u8; PAGE_SIZE];
        if i == 77 {
            want[12..16].copy_from_slice(&[4, 3, 2, 1]);
        }
        assert!(*data == want, "page {i}");
    }
    // Then a small case again: the extra pages are unmapped.
    let res = r
        .run(&case(&load(0x10_0000), NativeRegs::default()))
        .unwrap();
    assert_eq!(res.end, exception(14, 4, 0x10_0000));
}

#[test]
fn bad_cases_are_rejected() {
    let Some(mut r) = runner() else { return };
    let mut c = case(&[0x0f, 0x0b], NativeRegs::default());
    c.pages[1].addr = 0x8000;
    assert!(matches!(r.run(&c), Err(NativeError::BadCase(_))));
    c.pages[1].addr = CODE;
    assert!(matches!(r.run(&c), Err(NativeError::BadCase(_))));
    c.pages[1].addr = DATA + 1;
    assert!(matches!(r.run(&c), Err(NativeError::BadCase(_))));
    let res = r.run(&case(&[0x0f, 0x0b], NativeRegs::default())).unwrap();
    assert_eq!(res.end, exception(6, 0, 0));
}

#[test]
fn many_cases_on_one_child() {
    let Some(mut r) = runner() else { return };
    for i in 0..200u32 {
        let res = r.run(&case(&ADD_UD2, regs(&[(3, i)]))).unwrap();
        assert_eq!(res.regs.gpr[0], 0x1234_5678 + i);
    }
}

#[test]
fn far_jump_out_of_compat_mode_is_a_child_death() {
    let Some(mut r) = runner() else { return };
    // jmp far 0x33:CODE+7 lands on the UD2 in 64-bit mode.
    let mut code = vec![0xea];
    code.extend_from_slice(&(CODE + 7).to_le_bytes());
    code.extend_from_slice(&0x33u16.to_le_bytes());
    code.extend_from_slice(&[0x0f, 0x0b]);
    let res = r.run(&case(&code, NativeRegs::default()));
    assert!(
        matches!(&res, Err(NativeError::ChildDied(why)) if why.contains("outside")),
        "{res:?}"
    );
    let res = r.run(&case(&ADD_UD2, regs(&[(3, 3)]))).unwrap();
    assert_eq!(res.regs.gpr[0], 0x1234_567b);
}

#[test]
fn x86_64_syscalls_outside_the_allow_list_are_killed() {
    let Some(mut r) = runner() else { return };
    // jmp far 0x33:CODE+7; then in 64-bit mode: mov eax, 39 (getpid); syscall
    let mut code = vec![0xea];
    code.extend_from_slice(&(CODE + 7).to_le_bytes());
    code.extend_from_slice(&0x33u16.to_le_bytes());
    code.extend_from_slice(&[0xb8, 39, 0, 0, 0, 0x0f, 0x05, 0x0f, 0x0b]);
    let res = r.run(&case(&code, NativeRegs::default()));
    assert!(matches!(res, Err(NativeError::SandboxKilled)), "{res:?}");
    let res = r.run(&case(&ADD_UD2, regs(&[(3, 4)]))).unwrap();
    assert_eq!(res.regs.gpr[0], 0x1234_567c);
}

#[test]
fn drop_kills_and_reaps_the_child() {
    let Some(r) = runner() else { return };
    let pid = r.child.as_ref().expect("a live child").pid;
    // SAFETY: signal 0 only checks that the process exists.
    let alive = unsafe { libc::kill(pid, 0) };
    assert_eq!(alive, 0);
    drop(r);
    // SAFETY: as above.
    let gone = unsafe { libc::kill(pid, 0) };
    assert_eq!(gone, -1, "child {pid} still exists");
    assert_eq!(io::Error::last_os_error().raw_os_error(), Some(libc::ESRCH));
}

/// Throughput figure (not asserted): `cargo test --release --lib
/// fuzz::native::tests::throughput -- --ignored --nocapture`.
#[test]
#[ignore]
fn throughput() {
    let Some(mut r) = runner() else { return };
    let small = case(&ADD_UD2, regs(&[(3, 1)]));
    // The fuzzer's layout: code, 2 data pages, read-only page, stack page.
    let mut fuzz = case(&ADD_UD2, regs(&[(3, 1)]));
    for addr in [0x40000, 0x50000] {
        fuzz.pages.push(NativePage {
            addr,
            data: vec![0; PAGE_SIZE],
            writable: true,
        });
    }
    for (what, c) in [
        ("3 pages, 1 writable", &small),
        ("5 pages, 3 writable", &fuzz),
    ] {
        let n = 20_000;
        let child = r.child.as_ref().unwrap().pid.to_string();
        let (cpu0, child0) = (cpu_seconds("self"), cpu_seconds(&child));
        let t = Instant::now();
        for _ in 0..n {
            r.run(c).unwrap();
        }
        let s = t.elapsed().as_secs_f64();
        let cpu = cpu_seconds("self") - cpu0 + cpu_seconds(&child) - child0;
        eprintln!(
            "native: {:.0} cases/s wall, {:.0} cases per CPU-second (parent + child; {what})",
            n as f64 / s,
            n as f64 / cpu
        );
    }
}

/// User + system CPU seconds of /proc/<pid> so far.
fn cpu_seconds(pid: &str) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // Fields after the ")" that ends the command name: utime is the 12th, stime the 13th.
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    let f: Vec<&str> = rest.split(' ').collect();
    let ticks: f64 = f[11].parse::<f64>().unwrap() + f[12].parse::<f64>().unwrap();
    // SAFETY: sysconf has no preconditions.
    ticks / unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64
}
