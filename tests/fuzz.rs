//! `btvm fuzz` in CI: short fixed-seed campaigns per mode (interp vs jit,
//! and against KVM / the native runner where this host has them), and a
//! replay of every reproducer under tests/fuzz-repros/ (each a divergence
//! the fuzzer found and that was fixed). A divergence fails the test; a
//! missing reference is reported as skipped.

use std::path::{Path, PathBuf};

use btvm::fuzz::campaign::{self, CampaignOptions};
use btvm::fuzz::filter::Targets;
use btvm::fuzz::gen::GenConfig;
use btvm::fuzz::mode::Mode;
use btvm::fuzz::report;
use btvm::fuzz::runner::{unavailable, EngineId, Runner};
use btvm::fuzz::DEFAULT_LIMIT;
use libtest_mimic::{Arguments, Failed, Trial};

const CASES: u64 = 300;
const SEED: u64 = 0x5EED_F022;

fn campaign(mode: Mode, engines: Vec<EngineId>) -> Result<(), Failed> {
    let opts = CampaignOptions {
        gen: GenConfig {
            seed: SEED,
            modes: vec![mode],
            targets: Targets {
                kvm: engines.contains(&EngineId::Kvm),
                native: engines.contains(&EngineId::Native),
            },
            mutate_percent: 30,
        },
        engines,
        iterations: Some(CASES),
        time: None,
        threads: 1,
        limit: DEFAULT_LIMIT,
    };
    let s = campaign::run(&opts).map_err(|e| Failed::from(e.to_string()))?;
    if let Some(f) = s.found.first() {
        return Err(format!(
            "case {} diverged:\n{}",
            f.index,
            report::describe(&f.case, &f.run)
        )
        .into());
    }
    if s.cases != CASES {
        return Err(format!("ran {} cases, expected {CASES}", s.cases).into());
    }
    Ok(())
}

fn replay(path: &Path, engines: Vec<EngineId>) -> Result<(), Failed> {
    let r = report::read(path).map_err(|e| Failed::from(e.to_string()))?;
    let mut runner =
        Runner::new(&engines, DEFAULT_LIMIT).map_err(|e| Failed::from(e.to_string()))?;
    let run = runner.run(&r.case);
    if run.diverged() {
        return Err(report::describe(&r.case, &run).into());
    }
    // The hardware reference recorded in the file is what the interpreter
    // must now produce (end, EIP and GPRs), even without that hardware here.
    let text = std::fs::read_to_string(path).map_err(|e| Failed::from(e.to_string()))?;
    let v: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| Failed::from(e.to_string()))?;
    let interp = report::outcome_json(&run.outcomes[0].1);
    for hw in ["kvm", "native"] {
        let want = &v["final"][hw];
        if want.is_null() {
            continue;
        }
        for key in [
            "eip", "eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi",
        ] {
            if want["registers"][key] != interp["registers"][key] {
                return Err(format!(
                    "{key}: interp {} but {hw} recorded {}",
                    interp["registers"][key], want["registers"][key]
                )
                .into());
            }
        }
        if want["end"] != interp["end"] {
            return Err(format!(
                "end: interp {} but {hw} recorded {}",
                interp["end"], want["end"]
            )
            .into());
        }
    }
    Ok(())
}

fn trial(
    name: String,
    skip: Option<String>,
    f: impl FnOnce() -> Result<(), Failed> + Send + 'static,
) -> Trial {
    match skip {
        Some(why) => Trial::test(format!("{name} (skipped: {why})"), f).with_ignored_flag(true),
        None => Trial::test(name, f),
    }
}

fn main() {
    let args = Arguments::from_args();
    let mut trials = Vec::new();
    for mode in Mode::ALL {
        trials.push(trial(
            format!("campaign::{}::interp-jit", mode.name()),
            None,
            move || campaign(mode, vec![EngineId::Interp, EngineId::Jit]),
        ));
    }
    let kvm_skip = unavailable(EngineId::Kvm, Mode::Real);
    trials.push(trial(
        "campaign::real::kvm".into(),
        kvm_skip.clone(),
        || {
            campaign(
                Mode::Real,
                vec![EngineId::Interp, EngineId::Jit, EngineId::Kvm],
            )
        },
    ));
    let native_skip = unavailable(EngineId::Native, Mode::Pm32Ring3Paging);
    trials.push(trial(
        "campaign::pm32-ring3-paging::native".into(),
        native_skip.clone(),
        || {
            campaign(
                Mode::Pm32Ring3Paging,
                vec![EngineId::Interp, EngineId::Jit, EngineId::Native],
            )
        },
    ));
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz-repros");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    files.retain(|p| p.extension().is_some_and(|x| x == "json"));
    files.sort();
    assert!(!files.is_empty(), "no reproducers in {}", dir.display());
    for file in files {
        let stem = file.file_stem().unwrap().to_string_lossy().into_owned();
        let mode = report::read(&file)
            .map(|r| r.case.mode)
            .unwrap_or(Mode::Real);
        let f = file.clone();
        trials.push(trial(
            format!("replay::{stem}::interp-jit"),
            None,
            move || replay(&f, vec![EngineId::Interp, EngineId::Jit]),
        ));
        for hw in [EngineId::Kvm, EngineId::Native] {
            if unavailable(hw, mode).is_some()
                && !matches!(
                    (hw, mode),
                    (EngineId::Kvm, Mode::Real) | (EngineId::Native, Mode::Pm32Ring3Paging)
                )
            {
                continue; // the reference never runs this mode
            }
            let f = file.clone();
            trials.push(trial(
                format!("replay::{stem}::{}", hw.name()),
                unavailable(hw, mode),
                move || replay(&f, vec![EngineId::Interp, EngineId::Jit, hw]),
            ));
        }
    }
    libtest_mimic::run(&args, trials).exit();
}
