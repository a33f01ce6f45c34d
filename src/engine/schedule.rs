//! `--engine-schedule`: a running machine cycles through engines, each for
//! a number of guest instructions (`interp:100000,jit:100000`). The machine
//! switches only between batches, where the CPU state is in [`crate::cpu::Cpu`].

use super::EngineKind;
use crate::error::Error;

/// Engines in turn, each for a count of guest instructions, repeated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EngineSchedule {
    /// (engine, instructions) in order; never empty, every count > 0.
    pub steps: Vec<(EngineKind, u64)>,
}

impl EngineSchedule {
    /// Parse `ENGINE:N[,ENGINE:N...]` (engines as `--engine` spells them).
    pub fn parse(text: &str) -> Result<Self, Error> {
        let bad = |why: String| Error::Host(format!("--engine-schedule {text}: {why}"));
        let mut steps = Vec::new();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (name, count) = part
                .split_once(':')
                .ok_or_else(|| bad(format!("`{part}` is not ENGINE:INSTRUCTIONS")))?;
            let kind = EngineKind::from_name(name.trim())
                .ok_or_else(|| bad(format!("unknown engine `{name}` (interp, jit, kvm)")))?;
            let n: u64 = count
                .trim()
                .replace('_', "")
                .parse()
                .map_err(|_| bad(format!("`{count}` is not a number of instructions")))?;
            if n == 0 {
                return Err(bad(format!("`{part}`: the count must be at least 1")));
            }
            steps.push((kind, n));
        }
        if steps.is_empty() {
            return Err(bad("no engines given".to_string()));
        }
        Ok(EngineSchedule { steps })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_steps_in_order() {
        let s = EngineSchedule::parse("interp:100_000, jit:2000,kvm:5").unwrap();
        assert_eq!(
            s.steps,
            vec![
                (EngineKind::Interp, 100_000),
                (EngineKind::Jit, 2000),
                (EngineKind::Kvm, 5)
            ]
        );
    }

    #[test]
    fn rejects_bad_schedules() {
        for bad in ["", "interp", "qemu:5", "jit:0", "jit:x"] {
            assert!(EngineSchedule::parse(bad).is_err(), "{bad}");
        }
    }
}
