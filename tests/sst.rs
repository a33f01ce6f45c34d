//! A fixed sample of every SingleStepTests file in ../shared/suites, run
//! through `btvm sst`'s library entry point. The full run is an opt-in
//! command (see README). Without ../shared the cases are reported skipped.

mod common;

use libtest_mimic::{Arguments, Failed, Trial};

/// Tests taken from the start of each file.
const SAMPLE: usize = 250;

fn run(path: std::path::PathBuf) -> Result<(), Failed> {
    let mut runner = btvm::sst::Runner::new().map_err(|e| e.to_string())?;
    let opts = btvm::sst::Options { sample: SAMPLE, show_failures: 5 };
    let (tally, details) = btvm::sst::run_file(&mut runner, &path, &opts).map_err(|e| e.to_string())?;
    if tally.passed == 0 || tally.failed > 0 {
        return Err(format!("{} passed, {} failed, {} skipped\n{}", tally.passed, tally.failed, tally.skipped, details.join("\n")).into());
    }
    Ok(())
}

fn main() {
    let args = Arguments::from_args();
    let mut trials = Vec::new();
    match common::shared().map(|s| s.join("suites/singlestep-80286/v1_real_mode")).filter(|d| d.is_dir()) {
        Some(dir) => {
            for f in btvm::sst::collect_files(&[dir]).expect("list vector files") {
                let name = f.file_name().unwrap().to_string_lossy().replace(".MOO.gz", "");
                trials.push(Trial::test(format!("sst_80286::{name}"), move || run(f)));
            }
        }
        None => trials.push(
            Trial::test("sst_80286 (skipped: ../shared/suites not present)", || Ok(())).with_ignored_flag(true),
        ),
    }
    libtest_mimic::run(&args, trials).exit();
}
