//! libFuzzer target: input bytes -> mode, registers and a filtered stream
//! -> interp vs jit; any divergence is a crash (with the comparison).
#![no_main]

use std::sync::Mutex;

use btvm::fuzz::gen::case_from_input;
use btvm::fuzz::report::describe;
use btvm::fuzz::runner::{EngineId, Runner};
use libfuzzer_sys::fuzz_target;

static RUNNER: Mutex<Option<Runner>> = Mutex::new(None);

fuzz_target!(|data: &[u8]| {
    let Some(case) = case_from_input(data, true) else {
        return;
    };
    let mut guard = RUNNER.lock().unwrap_or_else(|p| p.into_inner());
    let runner = guard.get_or_insert_with(|| {
        Runner::new(&[EngineId::Interp, EngineId::Jit], 2_000).expect("interp and jit engines")
    });
    let run = runner.run(&case);
    assert!(!run.diverged(), "interp and jit diverge:\n{}", describe(&case, &run));
});
