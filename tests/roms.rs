//! Every test ROM under every engine: each must print PASS on COM1 and exit
//! through the debug-exit port with status 1 (value 0). See test-roms/README.md.

mod common;

use libtest_mimic::{Arguments, Failed, Trial};

fn run_rom(asm: std::path::PathBuf, engine: &'static str) -> Result<(), Failed> {
    let bin = common::assemble(&asm)?;
    let mut args = vec!["run", "--bios", bin.to_str().unwrap()];
    args.extend(common::engine_args(engine));
    args.extend(["--clock", "virtual", "--max-instructions", "2000000000"]);
    let out = common::btvm(&args);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let code = out.status.code();
    if code != Some(1) || !stdout.contains("PASS") || stdout.contains("FAIL") {
        return Err(format!(
            "exit status {code:?}\n--- serial ---\n{stdout}\n--- stderr ---\n{stderr}"
        )
        .into());
    }
    Ok(())
}

/// ROMs the PVM host KVM cannot run, each checked here: btvm stops with
/// its one-line "kvm: the host's KVM cannot ..." message (or, where noted,
/// the host misbehaves in another way that is not btvm's doing).
const PVM_CANNOT_RUN: &[(&str, &str)] = &[
    ("09-bcd", "host KVM cannot emulate DAA in real mode"),
    (
        "20-enter-leave",
        "host KVM cannot emulate nested ENTER in real mode",
    ),
    ("21-bound", "host KVM cannot emulate BOUND in real mode"),
    (
        "24-int-iret-into",
        "host KVM never completes INT 0xFF in real mode",
    ),
    (
        "30-ud-exception",
        "host KVM cannot emulate UD2 in real mode",
    ),
    (
        "33-compute",
        "host KVM emulates real mode too slowly (no end in 90 s)",
    ),
    ("40-pm-enter-exit", "host KVM cannot run protected mode"),
    ("41-pm-gates", "host KVM cannot run protected mode"),
    ("42-pm-ring3", "host KVM cannot run protected mode"),
    ("43-pm-task-switch", "host KVM cannot run protected mode"),
    ("44-pm-v86", "host KVM cannot run protected mode"),
    (
        "45-pm-paging",
        "host KVM raises #GP when a 32-bit guest enables paging",
    ),
    ("46-pm-protection", "host KVM cannot run protected mode"),
    ("47-pm-sysenter", "host KVM cannot run protected mode"),
    ("49-pm-segment-limits", "host KVM cannot run protected mode"),
    (
        "50-fpu-basic",
        "host KVM cannot emulate x87 instructions in real mode",
    ),
    (
        "51-fpu-transcendental",
        "host KVM cannot emulate x87 instructions in real mode",
    ),
    (
        "52-fpu-exceptions",
        "host KVM cannot emulate x87 instructions in real mode",
    ),
    (
        "53-fpu-env",
        "host KVM cannot emulate x87 instructions in real mode",
    ),
    (
        "54-fpu-hw-only",
        "host KVM cannot emulate x87 instructions in real mode",
    ),
];

fn main() {
    let args = Arguments::from_args();
    let mut roms: Vec<_> = std::fs::read_dir(common::repo().join("test-roms"))
        .expect("test-roms/ exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "asm"))
        .collect();
    roms.sort();
    assert!(
        roms.len() >= 25,
        "expected at least 25 test ROMs, found {}",
        roms.len()
    );
    let mut trials = Vec::new();
    for rom in roms {
        let stem = rom.file_stem().unwrap().to_string_lossy().into_owned();
        let pvm = common::kvm_is_pvm();
        for (engine, mut unavailable) in common::engines().into_iter().chain([("jit-check", None)])
        {
            if engine == "kvm" && unavailable.is_none() && pvm {
                unavailable = PVM_CANNOT_RUN
                    .iter()
                    .find(|(name, _)| *name == stem)
                    .map(|(_, why)| *why);
            }
            let name = match unavailable {
                Some(why) => format!("{stem}::{engine} (skipped: {why})"),
                None => format!("{stem}::{engine}"),
            };
            let rom = rom.clone();
            trials.push(
                Trial::test(name, move || run_rom(rom, engine))
                    .with_ignored_flag(unavailable.is_some()),
            );
        }
    }
    libtest_mimic::run(&args, trials).exit();
}
