//! libFuzzer target: input bytes -> mode, registers and a filtered stream
//! -> interp vs jit; any divergence is a crash (with the comparison).
#![no_main]

use std::cell::RefCell;

use btvm::fuzz::gen::case_from_input;
use btvm::fuzz::report::describe;
use btvm::fuzz::runner::{EngineId, Runner};
use libfuzzer_sys::fuzz_target;

thread_local! {
    // The engines are not Send: one set per fuzzing thread.
    static RUNNER: RefCell<Option<Runner>> = const { RefCell::new(None) };
}

fuzz_target!(|data: &[u8]| {
    let Some(case) = case_from_input(data, true) else {
        return;
    };
    RUNNER.with_borrow_mut(|slot| {
        let runner = slot.get_or_insert_with(|| {
            Runner::new(&[EngineId::Interp, EngineId::Jit], 2_000).expect("interp and jit engines")
        });
        let run = runner.run(&case);
        assert!(
            !run.diverged(),
            "interp and jit diverge:\n{}",
            describe(&case, &run)
        );
    });
});
