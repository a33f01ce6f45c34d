//! Case generation: random bytes decoded by iced-x86 into valid
//! instructions (invalid or filtered ones dropped), biased toward memory
//! operands that hit the data pages, mostly-forward branches, "interesting"
//! register and memory values; and mutation of an earlier case's stream.

use iced_x86::{Decoder, DecoderOptions, Instruction};

use super::case::{Case, DATA_LEN};
use super::filter::{allowed, Targets};
use super::machine::{mode_esp, CASE_EFLAGS};
use super::mode::{Mode, DATA_BASE};
use super::rng::Rng;
use btvm_jit::abi::gpr;

/// Values that sit on boundaries arithmetic cares about.
pub const INTERESTING: [u32; 20] = [
    0,
    1,
    2,
    0x7F,
    0x80,
    0xFF,
    0x100,
    0x7FFF,
    0x8000,
    0xFFFF,
    0x1_0000,
    0x7FFF_FFFF,
    0x8000_0000,
    0xFFFF_FFFF,
    0xFFFF_FFFE,
    0x8000_0001,
    0x0F0F_0F0F,
    31,
    32,
    0xFFFF_FF80,
];

/// How many instructions a fresh stream has at most.
pub const MAX_INSNS: u64 = 24;

/// What to generate.
#[derive(Clone, Debug)]
pub struct GenConfig {
    /// The campaign seed.
    pub seed: u64,
    /// Modes, picked round-robin by case index.
    pub modes: Vec<Mode>,
    /// Which hardware references the streams must suit.
    pub targets: Targets,
    /// Percent of cases that mutate an earlier case instead of starting fresh.
    pub mutate_percent: u64,
}

impl GenConfig {
    /// The references a stream of `mode` must suit (KVM only runs real
    /// mode here, native only ring-3 paged 32-bit).
    pub fn targets_for(&self, mode: Mode) -> Targets {
        Targets {
            kvm: self.targets.kvm && mode.kvm_capable(),
            native: self.targets.native && mode.native_capable(),
        }
    }
}

/// Decode `bytes` as a stream for `mode`: the instructions, each with its
/// offset.
pub fn decode_stream(bytes: &[u8], mode: Mode) -> Vec<(usize, Instruction)> {
    let mut d = Decoder::with_ip(mode.bitness(), bytes, 0, DecoderOptions::NONE);
    let mut out = Vec::new();
    while d.can_decode() {
        let pos = d.position();
        let i = d.decode();
        out.push((pos, i));
    }
    out
}

fn pointer(rng: &mut Rng, mode: Mode) -> u32 {
    let off = rng.below(u64::from(DATA_LEN as u32 - 16)) as u32;
    if mode.code32() {
        DATA_BASE + off
    } else {
        off | (rng.pick(&[0u32, 0, 0, 0xFFFF_0000, 0x1234_0000]))
    }
}

fn value(rng: &mut Rng) -> u32 {
    match rng.below(4) {
        0 => rng.next_u32(),
        1 => rng.pick(&INTERESTING),
        2 => rng
            .pick(&INTERESTING)
            .wrapping_add(rng.below(5) as u32)
            .wrapping_sub(2),
        _ => rng.below(64) as u32,
    }
}

fn gen_regs(rng: &mut Rng, mode: Mode) -> ([u32; 8], u32) {
    let mut g = [0u32; 8];
    for (k, r) in g.iter_mut().enumerate() {
        *r = if k != gpr::ESP && rng.chance(40) {
            pointer(rng, mode)
        } else {
            value(rng)
        };
    }
    g[gpr::ESP] = mode_esp(mode);
    (
        g,
        rng.next_u32() & CASE_EFLAGS & !(1 << 10) | if rng.chance(10) { 1 << 10 } else { 0 },
    )
}

fn gen_data(rng: &mut Rng) -> Vec<u8> {
    let mut d = Vec::with_capacity(DATA_LEN);
    while d.len() < DATA_LEN {
        let v = if rng.chance(50) {
            rng.next_u32()
        } else {
            value(rng)
        };
        d.extend_from_slice(&v.to_le_bytes());
    }
    d.truncate(DATA_LEN);
    d
}

const PREFIXES: [u8; 9] = [0x66, 0x67, 0xF3, 0xF2, 0xF0, 0x26, 0x2E, 0x36, 0x3E];

/// Random candidate bytes for one instruction.
fn candidate(rng: &mut Rng, mode: Mode) -> [u8; 16] {
    let mut b = [0u8; 16];
    for x in b.iter_mut() {
        *x = rng.next_u32() as u8;
    }
    let mut k = 0;
    while k < 2 && rng.chance(20) {
        b[k] = rng.pick(&PREFIXES);
        k += 1;
    }
    if rng.chance(25) {
        b[k] = 0x0F;
        k += 1;
    }
    // The ModRM byte (if the opcode has one): mostly a memory operand
    // through a base register that points into the data pages.
    let m = &mut b[k + 1];
    if rng.chance(60) {
        let reg = *m & 0x38;
        let rm = if mode.code32() {
            rng.pick(&[0u8, 1, 2, 3, 6, 7])
        } else {
            rng.pick(&[0u8, 1, 4, 5, 7])
        };
        let md = rng.pick(&[0u8, 0, 0x40]);
        *m = md | reg | rm;
    }
    b
}

/// One fresh allowed instruction's bytes.
fn gen_insn(rng: &mut Rng, mode: Mode, targets: Targets) -> Option<Vec<u8>> {
    for _ in 0..64 {
        let b = candidate(rng, mode);
        let mut d = Decoder::with_ip(mode.bitness(), &b, 0, DecoderOptions::NONE);
        let i = d.decode();
        if allowed(&i, &b[..i.len()], mode, targets) {
            return Some(b[..i.len()].to_vec());
        }
    }
    None
}

/// Point relative branches mostly forward, at instruction boundaries of
/// `insns` (or the terminator).
fn fix_branches(rng: &mut Rng, insns: &mut [Vec<u8>], mode: Mode) {
    let mut starts = Vec::with_capacity(insns.len() + 1);
    let mut at = 0usize;
    for i in insns.iter() {
        starts.push(at);
        at += i.len();
    }
    starts.push(at);
    for k in 0..insns.len() {
        let mut d = Decoder::with_ip(mode.bitness(), &insns[k], 0, DecoderOptions::NONE);
        let i = d.decode();
        let relative = i.is_jcc_short_or_near()
            || i.is_jmp_short_or_near()
            || i.is_call_near()
            || i.is_loop()
            || i.is_loopcc()
            || i.is_jcx_short();
        let co = d.get_constant_offsets(&i);
        if !relative || !co.has_immediate() {
            continue;
        }
        let next = starts[k + 1];
        let target = if rng.chance(90) {
            starts[k + 1 + rng.below((starts.len() - k - 1) as u64) as usize]
        } else {
            starts[rng.below(k as u64 + 1) as usize]
        };
        let disp = target as i64 - next as i64;
        let (off, size) = (co.immediate_offset(), co.immediate_size());
        let bytes = &mut insns[k];
        match size {
            1 if (-128..128).contains(&disp) => bytes[off] = disp as u8,
            2 => bytes[off..off + 2].copy_from_slice(&(disp as i16).to_le_bytes()),
            4 => bytes[off..off + 4].copy_from_slice(&(disp as i32).to_le_bytes()),
            _ => {}
        }
    }
}

/// Keep the allowed instructions of a byte stream (invalid or filtered ones
/// dropped), as instruction byte strings.
pub fn sanitize(bytes: &[u8], mode: Mode, targets: Targets) -> Vec<Vec<u8>> {
    decode_stream(bytes, mode)
        .into_iter()
        .filter(|(p, i)| allowed(i, &bytes[*p..*p + i.len()], mode, targets))
        .map(|(p, i)| bytes[p..p + i.len()].to_vec())
        .collect()
}

fn fresh(cfg: &GenConfig, index: u64) -> Case {
    let mut rng = Rng::for_case(cfg.seed, index);
    let mode = cfg.modes[(index % cfg.modes.len() as u64) as usize];
    let n = 1 + rng.below(MAX_INSNS);
    let mut insns: Vec<Vec<u8>> = (0..n)
        .filter_map(|_| gen_insn(&mut rng, mode, cfg.targets_for(mode)))
        .collect();
    fix_branches(&mut rng, &mut insns, mode);
    let (gpr, eflags) = gen_regs(&mut rng, mode);
    let base = Case {
        mode,
        code: if cfg.targets_for(mode).kvm {
            super::case::HLT.to_vec()
        } else {
            super::case::UD2.to_vec()
        },
        gpr,
        eflags,
        data: gen_data(&mut rng),
    };
    base.with_stream(&insns.concat())
}

fn mutate(cfg: &GenConfig, parent: &Case, rng: &mut Rng) -> Case {
    let mode = parent.mode;
    let targets = cfg.targets_for(mode);
    let mut insns = sanitize(parent.stream(), mode, targets);
    let mut c = parent.clone();
    for _ in 0..1 + rng.below(3) {
        match rng.below(7) {
            0 if !insns.is_empty() => {
                let k = rng.below(insns.len() as u64) as usize;
                insns.remove(k);
            }
            1 => {
                if let Some(i) = gen_insn(rng, mode, targets) {
                    let k = rng.below(insns.len() as u64 + 1) as usize;
                    insns.insert(k, i);
                }
            }
            2 if !insns.is_empty() => {
                let k = rng.below(insns.len() as u64) as usize;
                let i = insns[k].clone();
                insns.insert(k, i);
            }
            3 if !insns.is_empty() => {
                let k = rng.below(insns.len() as u64) as usize;
                let j = rng.below(insns[k].len() as u64) as usize;
                insns[k][j] ^= 1 << rng.below(8);
            }
            4 => {
                let k = rng.below(8) as usize;
                if k != gpr::ESP {
                    c.gpr[k] = if rng.chance(50) {
                        pointer(rng, mode)
                    } else {
                        value(rng)
                    };
                }
            }
            5 => {
                let a = rng.below(DATA_LEN as u64 - 4) as usize;
                c.data[a..a + 4].copy_from_slice(&value(rng).to_le_bytes());
            }
            _ => c.eflags = rng.next_u32() & CASE_EFLAGS,
        }
    }
    let stream: Vec<u8> = insns.concat();
    let kept = sanitize(&stream, mode, targets).concat();
    c.with_stream(&kept)
}

/// The case of campaign index `index`: fresh, or a mutation of an earlier
/// fresh case of the same mode (regenerated from its index, so a case
/// depends only on (seed, index)).
pub fn generate(cfg: &GenConfig, index: u64) -> Case {
    let mut rng = Rng::for_case(cfg.seed ^ 0x5EED, index);
    let m = cfg.modes.len() as u64;
    if index >= m && rng.chance(cfg.mutate_percent) {
        let back = 1 + rng.below((index / m).min(1000));
        let parent = fresh(cfg, index - back * m);
        return mutate(cfg, &parent, &mut rng);
    }
    fresh(cfg, index)
}

/// A case from raw fuzzer input (cargo-fuzz targets): byte 0 picks the
/// mode, the next 36 bytes are the GPRs and EFLAGS (ESP is the mode's),
/// the rest is the stream: filtered for interp/jit when `sanitized`, else
/// taken as is (robustness: any bytes at all). The data pages repeat the
/// input. `None` when the input is too short.
pub fn case_from_input(input: &[u8], sanitized: bool) -> Option<Case> {
    let (&m, rest) = input.split_first()?;
    if rest.len() < 36 {
        return None;
    }
    let mode = Mode::ALL[usize::from(m) % Mode::ALL.len()];
    let word = |k: usize| {
        u32::from_le_bytes([
            rest[4 * k],
            rest[4 * k + 1],
            rest[4 * k + 2],
            rest[4 * k + 3],
        ])
    };
    let mut gpr: [u32; 8] = std::array::from_fn(word);
    gpr[gpr::ESP] = mode_esp(mode);
    let raw = &rest[36..rest.len().min(36 + 1024)];
    let stream = if sanitized {
        sanitize(raw, mode, Targets::default()).concat()
    } else {
        raw.to_vec()
    };
    let data: Vec<u8> = input.iter().copied().cycle().take(DATA_LEN).collect();
    let base = Case {
        mode,
        code: super::case::UD2.to_vec(),
        gpr,
        eflags: word(8) & CASE_EFLAGS,
        data,
    };
    Some(base.with_stream(&stream))
}
