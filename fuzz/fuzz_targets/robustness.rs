//! libFuzzer target: arbitrary bytes as a stream (unfiltered) in any mode
//! under every engine available here (interp, jit, and KVM for real-mode
//! streams when /dev/kvm works). Guest behaviour must never be a host
//! panic; divergences are not checked here.
#![no_main]

use std::cell::RefCell;

use btvm::fuzz::gen::case_from_input;
use btvm::fuzz::mode::Mode;
use btvm::fuzz::runner::{unavailable, EngineId, Runner};
use libfuzzer_sys::fuzz_target;

thread_local! {
    // The engines are not Send: one set per fuzzing thread.
    static RUNNER: RefCell<Option<Runner>> = const { RefCell::new(None) };
}

fuzz_target!(|data: &[u8]| {
    let Some(case) = case_from_input(data, false) else {
        return;
    };
    RUNNER.with_borrow_mut(|slot| {
        let runner = slot.get_or_insert_with(|| {
            let mut ids = vec![EngineId::Interp, EngineId::Jit];
            if unavailable(EngineId::Kvm, Mode::Real).is_none() {
                ids.push(EngineId::Kvm);
            }
            Runner::new(&ids, 2_000).expect("engines")
        });
        let _ = runner.run(&case);
    });
});
