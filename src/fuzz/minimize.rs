//! Delta debugging over instructions: the fewest instructions of a
//! diverging stream that still diverge (ddmin, removing complements).

use super::case::Case;
use super::gen::decode_stream;
use super::runner::Runner;

/// Most case runs one minimization may spend.
pub const MAX_RUNS: usize = 600;

/// A smaller case that still diverges under `runner` (the case itself
/// when nothing can be removed).
pub fn minimize(runner: &mut Runner, case: &Case) -> Case {
    let stream = case.stream().to_vec();
    let mut insns: Vec<Vec<u8>> = decode_stream(&stream, case.mode)
        .into_iter()
        .map(|(p, i)| stream[p..p + i.len()].to_vec())
        .collect();
    let mut runs = 0usize;
    let mut diverges = |insns: &[Vec<u8>], runs: &mut usize| {
        *runs += 1;
        runner.run(&case.with_stream(&insns.concat())).diverged()
    };
    let mut n = 2usize;
    while !insns.is_empty() && runs < MAX_RUNS {
        let len = insns.len();
        let chunk = len.div_ceil(n.min(len));
        let mut reduced = false;
        let mut start = 0;
        while start < len && runs < MAX_RUNS {
            let cand: Vec<Vec<u8>> = insns[..start]
                .iter()
                .chain(insns[(start + chunk).min(len)..].iter())
                .cloned()
                .collect();
            if diverges(&cand, &mut runs) {
                insns = cand;
                n = (n - 1).max(2);
                reduced = true;
                break;
            }
            start += chunk;
        }
        if !reduced {
            if chunk == 1 {
                break;
            }
            n = (n * 2).min(len);
        }
    }
    case.with_stream(&insns.concat())
}
