//! A fixed sample of every SingleStepTests file in ../shared/suites, run
//! through `btvm sst`'s library entry point. The full run is an opt-in
//! command (see README). Without ../shared the cases are reported skipped.

mod common;

use libtest_mimic::{Arguments, Failed, Trial};

/// Tests taken from the start of each file.
const SAMPLE: usize = 250;

/// Known 286-vs-P6 differences: file stem -> failures allowed in the sample.
fn known_differences() -> std::collections::HashMap<String, u64> {
    let text = include_str!("sst-known-differences.tsv");
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let mut f = l.split('\t');
            let file = f.next().unwrap().to_string();
            let n = f
                .next()
                .and_then(|n| n.parse().ok())
                .expect("max_failures column");
            (file, n)
        })
        .collect()
}

fn run(path: std::path::PathBuf, allowed: u64) -> Result<(), Failed> {
    let mut runner = btvm::sst::Runner::new().map_err(|e| e.to_string())?;
    let opts = btvm::sst::Options {
        sample: SAMPLE,
        show_failures: 5,
    };
    let (tally, details) =
        btvm::sst::run_file(&mut runner, &path, &opts).map_err(|e| e.to_string())?;
    if tally.passed == 0 || tally.failed > allowed {
        return Err(format!(
            "{} passed, {} failed (at most {allowed} known 286-vs-P6 differences allowed), {} skipped\n{}",
            tally.passed,
            tally.failed,
            tally.skipped,
            details.join("\n")
        )
        .into());
    }
    Ok(())
}

fn main() {
    let args = Arguments::from_args();
    let mut trials = Vec::new();
    match common::shared()
        .map(|s| s.join("suites/singlestep-80286/v1_real_mode"))
        .filter(|d| d.is_dir())
    {
        Some(dir) => {
            let known = known_differences();
            for f in btvm::sst::collect_files(&[dir]).expect("list vector files") {
                let name = f
                    .file_name()
                    .unwrap()
                    .to_string_lossy()
                    .replace(".MOO.gz", "");
                let allowed = known.get(&name).copied().unwrap_or(0);
                trials.push(Trial::test(format!("sst_80286::{name}"), move || {
                    run(f, allowed)
                }));
            }
        }
        None => trials.push(
            Trial::test("sst_80286 (skipped: ../shared/suites not present)", || {
                Ok(())
            })
            .with_ignored_flag(true),
        ),
    }
    libtest_mimic::run(&args, trials).exit();
}
