//! The microbenchmark ROMs (test-roms/bench) and `btvm bench`: every ROM,
//! assembled with a small ITERS, prints BENCH-DONE and exits through the
//! debug-exit port with status 1 under every engine; `btvm bench --json`
//! gives parseable JSON. No timing is asserted.

mod common;

use btvm::bench::rows::ROWS;
use btvm::bench::RomCache;
use libtest_mimic::{Arguments, Failed, Trial};

/// Iterations small enough for a debug build.
const ITERS: u64 = 50;

fn cache() -> RomCache {
    RomCache::new(common::repo().join("target").join("bench-roms"))
}

fn run_row(row: &'static btvm::bench::rows::Row, engine: &'static str) -> Result<(), Failed> {
    let bin = cache().rom(row, ITERS).map_err(|e| e.to_string())?;
    let out = common::btvm(&[
        "run",
        "--bios",
        bin.to_str().unwrap(),
        "--engine",
        engine,
        "--clock",
        "virtual",
        "--serial",
        "stdio",
        "--max-instructions",
        "100000000",
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let code = out.status.code();
    if code != Some(1) || !stdout.contains("BENCH-DONE") || stdout.contains("BENCH-FAIL") {
        return Err(format!(
            "exit status {code:?}\n--- serial ---\n{stdout}\n--- stderr ---\n{stderr}"
        )
        .into());
    }
    Ok(())
}

/// The JSON a successful `btvm bench --json` printed.
fn json_of(out: &std::process::Output) -> Result<serde_json::Value, Failed> {
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        return Err(format!("status {:?}\n{stdout}\n{stderr}", out.status.code()).into());
    }
    Ok(serde_json::from_str(&stdout).map_err(|e| format!("not JSON ({e}):\n{stdout}"))?)
}

fn bench_json() -> Result<(), Failed> {
    let dir = common::repo().join("target").join("bench-roms");
    let out = common::btvm(&[
        "bench",
        "--rows",
        "alu",
        "--iters",
        "1000",
        "--json",
        "--cache-dir",
        dir.to_str().unwrap(),
    ]);
    let v = json_of(&out)?;
    let row = &v["rows"][0];
    if row["row"] != "alu" {
        return Err(format!("first row is not alu:\n{v}").into());
    }
    let interp = &row["results"]["interp"];
    let ns = interp["ns_per_iter"].as_f64();
    if interp["status"] != "ok" || ns.is_none_or(|ns| ns <= 0.0) {
        return Err(format!("no positive ns/iter for interp:\n{v}").into());
    }
    // 15 instructions, plus one when the data-dependent branch falls through.
    let insns = interp["insns_per_iter"].as_f64().unwrap_or(0.0);
    if !(15.0..=16.0).contains(&insns) {
        return Err(format!("alu should retire 15-16 instructions per iteration:\n{v}").into());
    }
    Ok(())
}

/// The `linux-boot` row boots the bundled Linux to its marker on the JIT,
/// and `--plot` writes an SVG with one bar group per row.
fn bench_linux_boot_and_plot() -> Result<(), Failed> {
    let dir = common::repo().join("target").join("bench-roms");
    let svg_path = dir.join(format!("plot-{}.svg", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let out = common::btvm(&[
        "bench",
        "--rows",
        "alu,linux-boot",
        "--engines",
        "jit",
        "--iters",
        "1000",
        "--json",
        "--plot",
        svg_path.to_str().unwrap(),
        "--cache-dir",
        dir.to_str().unwrap(),
    ]);
    let v = json_of(&out)?;
    let row = &v["rows"][1];
    let jit = &row["results"]["jit"];
    // One boot retires some 360 M instructions; anything near that is a boot.
    let insns = jit["insns_per_iter"].as_f64().unwrap_or(0.0);
    if row["row"] != "linux-boot" || jit["status"] != "ok" || insns < 50e6 || row["iters"] != 1 {
        return Err(format!("no linux-boot result on jit:\n{v}").into());
    }
    let svg =
        std::fs::read_to_string(&svg_path).map_err(|e| format!("{}: {e}", svg_path.display()))?;
    let _ = std::fs::remove_file(&svg_path);
    let ok = svg.trim_start().starts_with("<svg")
        && svg.trim_end().ends_with("</svg>")
        && svg.matches("\nalu\n").count() == 1
        && svg.matches("\nlinux-boot\n").count() == 1;
    if !ok {
        return Err(format!("not an SVG with one group per row:\n{svg}").into());
    }
    Ok(())
}

fn main() {
    let args = Arguments::from_args();
    let mut trials = Vec::new();
    for row in ROWS {
        for (engine, mut unavailable) in common::engines() {
            if engine == "kvm" && unavailable.is_none() && common::kvm_is_pvm() {
                // The nested PVM KVM rejects the protected-mode set-up (rings,
                // paging, gates) these ROMs use: see ../shared/guests/README.md.
                unavailable = Some("host KVM (PVM) cannot run these protected-mode ROMs");
            }
            let name = match unavailable {
                Some(why) => format!("{}::{engine} (skipped: {why})", row.name),
                None => format!("{}::{engine}", row.name),
            };
            trials.push(
                Trial::test(name, move || run_row(row, engine))
                    .with_ignored_flag(unavailable.is_some()),
            );
        }
    }
    trials.push(Trial::test("bench-json", bench_json));
    trials.push(Trial::test(
        "bench-linux-boot-and-plot",
        bench_linux_boot_and_plot,
    ));
    libtest_mimic::run(&args, trials).exit();
}
