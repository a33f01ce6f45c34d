//! Engine switching (`--engine-schedule`): a machine that moves between
//! engines while it runs prints the same serial output as one that stays on
//! the interpreter. Also: the bundled Linux under kvm on a host whose KVM
//! cannot run protected mode stops with the one-line message, never hangs.

mod common;

use std::time::Duration;

use libtest_mimic::{Arguments, Failed, Trial};

/// Kernel command line of the bundled guest's self-test run.
const SELFTEST_CMDLINE: &str = "console=ttyS0 panic=-1 btvm.selftest";

/// A test ROM's serial output and exit status under `engine_args`.
fn rom_run(rom: &str, engine_args: &[&str]) -> Result<(String, Option<i32>, String), Failed> {
    let asm = common::repo().join("test-roms").join(format!("{rom}.asm"));
    let bin = common::assemble(&asm)?;
    let mut args = vec!["run", "--bios", bin.to_str().unwrap()];
    args.extend(engine_args);
    args.extend(["--clock", "virtual", "--max-instructions", "2000000000"]);
    let out = common::btvm(&args);
    Ok((
        String::from_utf8_lossy(&out.stdout).into_owned(),
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    ))
}

/// The ROM under `schedule` prints what it prints under the interpreter
/// alone, passes, and really switched (the stats name more than one engine).
fn rom_same_as_interp(rom: &'static str, schedule: &'static str) -> Result<(), Failed> {
    let (want, want_status, _) = rom_run(rom, &["--engine", "interp"])?;
    let (got, status, stderr) = rom_run(rom, &["--engine-schedule", schedule, "--stats"])?;
    if status != want_status || got != want || !got.contains("PASS") {
        return Err(format!(
            "status {status:?} (interp: {want_status:?})\n--- scheduled ---\n{got}\n--- interp ---\n{want}\n--- stderr ---\n{stderr}"
        )
        .into());
    }
    if !stderr.contains("engine switches") {
        return Err(format!("no engine switch happened:\n{stderr}").into());
    }
    // --stats names the counters of every engine that ran.
    for counter in [
        "instructions retired by engine: ",
        "TLB fills (misses) ",
        "jit: blocks translated ",
        "blocks executed ",
        "block-cache hit rate per mille ",
    ] {
        if !stderr.contains(counter) {
            return Err(format!("--stats lacks {counter:?}:\n{stderr}").into());
        }
    }
    Ok(())
}

/// The bundled Linux self-test under a schedule alternating interp and jit
/// every 100k instructions gives byte-identical serial output to a plain
/// interpreter boot (both on the virtual clock).
fn linux_schedule_same_as_interp() -> Result<(), Failed> {
    let timeout = Duration::from_secs(900);
    let args = |engine: &[&'static str]| {
        let mut v = vec!["run"];
        v.extend(engine);
        v.extend([
            "--clock",
            "virtual",
            "--timeout",
            "900",
            "--append",
            SELFTEST_CMDLINE,
        ]);
        v
    };
    let plain = args(&["--engine", "interp"]);
    let mixed = args(&["--engine-schedule", "interp:100000,jit:100000"]);
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(|| common::boot_until(&plain, None, timeout));
        let b = common::boot_until(&mixed, None, timeout);
        (a.join().expect("boot thread"), b)
    });
    if !a.serial.contains("BTVM-SELFTEST-DONE") {
        return Err(a
            .report("the interpreter boot did not finish its self-test")
            .into());
    }
    if a.raw != b.raw {
        let at = a
            .raw
            .iter()
            .zip(&b.raw)
            .position(|(x, y)| x != y)
            .unwrap_or(a.raw.len().min(b.raw.len()));
        return Err(b
            .report(&format!(
                "serial output differs from the interpreter's at byte {at} ({} vs {} bytes)",
                a.raw.len(),
                b.raw.len()
            ))
            .into());
    }
    Ok(())
}

/// Under kvm on a PVM host the bundled Linux (protected mode from its first
/// instruction) stops at once with the one-line message and status 69.
fn linux_kvm_pvm_message() -> Result<(), Failed> {
    let args = [
        "run",
        "--engine",
        "kvm",
        "--clock",
        "virtual",
        "--timeout",
        "120",
    ];
    let b = common::boot_until(&args, None, Duration::from_secs(150));
    let want = "kvm: the host's KVM rejected protected-mode entry:";
    let lines: Vec<&str> = b.stderr.lines().filter(|l| l.contains(want)).collect();
    if b.status != Some(69) || lines.len() != 1 || b.wall > Duration::from_secs(60) {
        return Err(b
            .report("expected one 'rejected protected-mode entry' line and status 69, promptly")
            .into());
    }
    Ok(())
}

/// Ctrl-A E on the console switches a running machine to the next engine
/// (interp -> jit) and the ROM still passes.
fn ctrl_a_e_switches() -> Result<(), Failed> {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let asm = common::repo().join("test-roms").join("33-compute.asm");
    let bin = common::assemble(&asm)?;
    let mut child = Command::new(env!("CARGO_BIN_EXE_btvm"))
        .args(["run", "--bios", bin.to_str().unwrap()])
        .args(["--engine", "interp", "--clock", "virtual", "--stats"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start btvm: {e}"))?;
    // Sent at once: the ROM runs for ~290 M instructions, so the switch
    // comes long before its end. stdin stays open until btvm exits.
    let mut stdin = child.stdin.take().expect("piped stdin");
    stdin
        .write_all(b"\x01e")
        .map_err(|e| format!("writing btvm's stdin: {e}"))?;
    let out = child
        .wait_with_output()
        .map_err(|e| format!("waiting for btvm: {e}"))?;
    drop(stdin);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let ok = out.status.code() == Some(1)
        && stdout.contains("PASS")
        && stderr.contains("btvm: engine jit")
        && stderr.contains("; 1 engine switches");
    if !ok {
        return Err(format!(
            "status {:?}\n--- serial ---\n{stdout}\n--- stderr ---\n{stderr}",
            out.status.code()
        )
        .into());
    }
    Ok(())
}

fn main() {
    let args = Arguments::from_args();
    let kvm = common::kvm_unavailable();
    let pvm = common::kvm_is_pvm();
    let mut trials = vec![
        Trial::test("rom-16-string::interp-jit-every-1000", || {
            rom_same_as_interp("16-string-movs-stos", "interp:1000,jit:1000")
        }),
        Trial::test("rom-45-pm-paging::jit-interp-every-300", || {
            rom_same_as_interp("45-pm-paging", "jit:300,interp:300")
        }),
        Trial::test("rom-33-compute::ctrl-a-e-interp-to-jit", ctrl_a_e_switches),
        Trial::test("bundled-linux::interp-jit-every-100k-equals-interp", || {
            linux_schedule_same_as_interp()
        }),
    ];
    // KVM counts instructions by elapsed time, so only the output (not
    // the switch points) is reproducible; a real-mode ROM runs on any KVM.
    let kvm_rom = "rom-16-string::interp-kvm-jit";
    trials.push(match kvm {
        None => Trial::test(kvm_rom, || {
            rom_same_as_interp("16-string-movs-stos", "interp:3000,kvm:3000,jit:3000")
        }),
        Some(why) => {
            Trial::test(format!("{kvm_rom} (skipped: {why})"), || Ok(())).with_ignored_flag(true)
        }
    });
    let msg = "bundled-linux::kvm-pvm-one-line-message";
    let unavailable = kvm.or((!pvm).then_some("host KVM is not PVM (the guest should boot)"));
    trials.push(match unavailable {
        None => Trial::test(msg, linux_kvm_pvm_message),
        Some(why) => {
            Trial::test(format!("{msg} (skipped: {why})"), || Ok(())).with_ignored_flag(true)
        }
    });
    libtest_mimic::run(&args, trials).exit();
}
