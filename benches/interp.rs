//! Interpreter speed on the compute-heavy test ROM (test-roms/33-compute.asm),
//! reported by criterion as guest instructions per second (Melem/s = MIPS).
//! Figures only: nothing here asserts a time.

use std::path::PathBuf;
use std::process::Command;

use btvm::machine::clock::ClockKind;
use btvm::machine::pc::ConsoleOut;
use btvm::machine::{Config, Exit, Limits, Machine, Payload};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

fn compute_rom() -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let out = root.join("target/test-roms/33-compute.bin");
    std::fs::create_dir_all(out.parent().unwrap()).unwrap();
    let st = Command::new("nasm")
        .args(["-f", "bin"])
        .arg(format!("-I{}/", root.join("test-roms/include").display()))
        .arg(root.join("test-roms/33-compute.asm"))
        .arg("-o")
        .arg(&out)
        .status()
        .expect("nasm is needed to assemble the benchmark ROM (apt-get install -y nasm)");
    assert!(st.success(), "nasm failed on 33-compute.asm");
    out
}

fn run_once(rom: &Payload) -> u64 {
    let cfg = Config {
        memory_mib: 16,
        bios: Some(rom.clone()),
        clock: ClockKind::Virtual { mips: 100 },
        ..Config::default()
    };
    let mut m =
        Machine::with_console(cfg, ConsoleOut::new(Box::new(std::io::sink()))).expect("machine");
    let exit = m.run(&Limits {
        max_instructions: Some(2_000_000_000),
        ..Limits::default()
    });
    assert_eq!(exit, Exit::DebugExit(1), "compute ROM must pass");
    m.cpu.regs.icount
}

fn interp_compute(c: &mut Criterion) {
    let rom = Payload::read(compute_rom()).expect("compute ROM");
    let n = run_once(&rom);
    let mut g = c.benchmark_group("interp");
    g.sample_size(10);
    g.throughput(Throughput::Elements(n));
    g.bench_function("compute_rom", |b| b.iter(|| run_once(&rom)));
    g.finish();
}

criterion_group!(benches, interp_compute);
criterion_main!(benches);
