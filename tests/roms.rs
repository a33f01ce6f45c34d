//! Every test ROM under every engine: each must print PASS on COM1 and exit
//! through the debug-exit port with status 1 (value 0). See test-roms/README.md.

mod common;

use libtest_mimic::{Arguments, Failed, Trial};

fn run_rom(asm: std::path::PathBuf, engine: &'static str) -> Result<(), Failed> {
    let bin = common::assemble(&asm)?;
    let mut args = vec!["run", "--bios", bin.to_str().unwrap()];
    args.extend(common::engine_args(engine));
    args.extend(["--max-instructions", "2000000000"]);
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
        let engines = common::engines().into_iter().chain([("jit-check", None)]);
        for (engine, unavailable) in engines {
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
