//! Reproducer files: a self-contained JSON record of one diverging case
//! (seed, index, mode, stream bytes and disassembly, initial registers and
//! data, each engine's final state and the differences side by side), and
//! reading one back for `btvm fuzz --replay`.

use std::path::Path;

use iced_x86::{Formatter, IntelFormatter};
use serde_json::{json, Value};

use super::case::{Case, DATA_LEN};
use super::gen::decode_stream;
use super::mode::Mode;
use super::outcome::Outcome;
use super::runner::{CaseRun, EngineId};
use crate::error::Error;

/// The format tag every reproducer carries.
pub const FORMAT: &str = "btvm-fuzz-reproducer-1";

const GPR_NAMES: [&str; 8] = ["eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi"];
const SEG_NAMES: [&str; 6] = ["es", "cs", "ss", "ds", "fs", "gs"];

/// Intel-syntax disassembly of a stream, one "offset: bytes  text" line
/// per instruction.
pub fn disassemble(code: &[u8], mode: Mode) -> Vec<String> {
    let mut f = IntelFormatter::new();
    decode_stream(code, mode)
        .into_iter()
        .map(|(p, i)| {
            let mut s = String::new();
            f.format(&i, &mut s);
            let hex: String = code[p..p + i.len()]
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            format!("{p:04x}: {hex:<24} {s}")
        })
        .collect()
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// One outcome as JSON (end, registers, CR2, instruction count, written bytes).
pub fn outcome_json(o: &Outcome) -> Value {
    let mut regs = serde_json::Map::new();
    for (k, n) in GPR_NAMES.iter().enumerate() {
        regs.insert(n.to_string(), json!(format!("{:08x}", o.gpr[k])));
    }
    regs.insert("eip".into(), json!(format!("{:08x}", o.eip)));
    regs.insert("eflags".into(), json!(format!("{:08x}", o.eflags)));
    for (k, n) in SEG_NAMES.iter().enumerate() {
        regs.insert(n.to_string(), json!(format!("{:04x}", o.seg[k])));
    }
    json!({
        "end": o.end.describe(),
        "registers": regs,
        "cr2": format!("{:08x}", o.cr2),
        "instructions": o.icount,
        "written": o.written.iter().take(256).map(|(a, v)| format!("{a:08x}={v:02x}")).collect::<Vec<_>>(),
    })
}

/// The JSON reproducer of a case and its run.
pub fn to_json(case: &Case, seed: u64, index: u64, run: &CaseRun, note: &str) -> Value {
    let mut init = serde_json::Map::new();
    for (k, n) in GPR_NAMES.iter().enumerate() {
        init.insert(n.to_string(), json!(format!("{:08x}", case.gpr[k])));
    }
    init.insert("eflags".into(), json!(format!("{:08x}", case.eflags)));
    let engines: Vec<&str> = run.outcomes.iter().map(|(id, _)| id.name()).collect();
    let mut finals = serde_json::Map::new();
    for (id, o) in &run.outcomes {
        finals.insert(id.name().to_string(), outcome_json(o));
    }
    let diffs: serde_json::Map<String, Value> = run
        .diffs
        .iter()
        .map(|(id, d)| (format!("{} | {}", engines[0], id.name()), json!(d)))
        .collect();
    json!({
        "format": FORMAT,
        "note": note,
        "seed": seed,
        "case_index": index,
        "mode": case.mode.name(),
        "engines": engines,
        "code": hex(&case.code),
        "disassembly": disassemble(&case.code, case.mode),
        "initial": init,
        "data": hex(&case.data),
        "undefined_flags_mask": format!("{:08x}", run.flags_mask),
        "final": finals,
        "differences": diffs,
    })
}

/// A reproducer read back: the case and the engines it was found with.
#[derive(Clone, Debug)]
pub struct Reproducer {
    /// The case.
    pub case: Case,
    /// The engines it names.
    pub engines: Vec<EngineId>,
}

/// Read a reproducer file; errors name the file and say what is wrong in
/// one line.
pub fn read(path: &Path) -> Result<Reproducer, Error> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::file(path, e))?;
    let bad = |what: &str| Error::format(path, format!("not a btvm fuzz reproducer: {what}"));
    let v: Value = serde_json::from_str(&text).map_err(|e| bad(&format!("invalid JSON ({e})")))?;
    if v["format"] != FORMAT {
        return Err(bad(&format!("\"format\" is not \"{FORMAT}\"")));
    }
    let mode = v["mode"]
        .as_str()
        .and_then(Mode::parse)
        .ok_or_else(|| bad("bad \"mode\""))?;
    let code = v["code"]
        .as_str()
        .and_then(unhex)
        .filter(|c| !c.is_empty() && c.len() <= 4096)
        .ok_or_else(|| bad("bad \"code\""))?;
    let data = v["data"]
        .as_str()
        .and_then(unhex)
        .filter(|d| d.len() == DATA_LEN)
        .ok_or_else(|| bad("bad \"data\""))?;
    let reg = |n: &str| {
        v["initial"][n]
            .as_str()
            .and_then(|s| u32::from_str_radix(s, 16).ok())
            .ok_or_else(|| bad(&format!("bad initial \"{n}\"")))
    };
    let mut gpr = [0u32; 8];
    for (k, n) in GPR_NAMES.iter().enumerate() {
        gpr[k] = reg(n)?;
    }
    let eflags = reg("eflags")?;
    let engines = v["engines"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|e| e.as_str().and_then(EngineId::parse))
                .collect()
        })
        .unwrap_or_default();
    Ok(Reproducer {
        case: Case {
            mode,
            code,
            gpr,
            eflags,
            data,
        },
        engines,
    })
}

/// Print a run side by side: the final states and the differences.
pub fn describe(case: &Case, run: &CaseRun) -> String {
    let mut s = format!("mode {}\n", case.mode.name());
    for l in disassemble(&case.code, case.mode) {
        s += &format!("  {l}\n");
    }
    for (id, o) in &run.outcomes {
        s += &format!(
            "{:<7} {}; eip {:08x} eflags {:08x} {} instructions\n",
            id.name(),
            o.end.describe(),
            o.eip,
            o.eflags,
            o.icount
        );
    }
    let first = run.outcomes.first().map_or("?", |(id, _)| id.name());
    for (id, d) in &run.diffs {
        if d.is_empty() {
            s += &format!("{first} | {}: agree\n", id.name());
        } else {
            s += &format!("{first} | {}: {} differences\n", id.name(), d.len());
            for l in d {
                s += &format!("  {l}\n");
            }
        }
    }
    s
}
