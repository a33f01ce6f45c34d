//! How a run ended, read back from the machine: the exception taken (from
//! the `HLT` stub reached and the frame the CPU pushed), the architectural
//! state at the fault (rebuilt from the frame), and every RAM byte the
//! stream changed (the frame itself excluded).

use btvm_jit::abi::{gpr, sreg};

use super::machine::has_error_code;
use super::mode::{Mode, STUB_BASE};
use crate::cpu::Cpu;
use crate::memory::GuestMemory;

/// How a run ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum End {
    /// An exception or interrupt was delivered (to its stub).
    Exception {
        /// Vector.
        vector: u8,
        /// Error code, when the frame has one.
        error: Option<u32>,
    },
    /// The stream itself executed HLT (ring 0).
    Halt,
    /// The instruction bound ran out.
    Timeout,
    /// Delivery failed three times over.
    TripleFault,
    /// The engine could not run the case (host error, undelivered stop).
    Failed(String),
}

impl End {
    /// One-line description.
    pub fn describe(&self) -> String {
        match self {
            End::Exception { vector, error } => match error {
                Some(e) => format!("exception {vector} ({}) error {e:#x}", vector_name(*vector)),
                None => format!("exception {vector} ({})", vector_name(*vector)),
            },
            End::Halt => "HLT in the stream".to_string(),
            End::Timeout => "instruction bound reached".to_string(),
            End::TripleFault => "triple fault".to_string(),
            End::Failed(s) => format!("engine failed: {s}"),
        }
    }
}

/// The mnemonic of an exception vector ("#GP"), or "INT n".
pub fn vector_name(v: u8) -> String {
    const N: [&str; 20] = [
        "#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "CSO", "#TS", "#NP", "#SS",
        "#GP", "#PF", "15", "#MF", "#AC", "#MC", "#XM",
    ];
    N.get(usize::from(v))
        .map_or_else(|| format!("INT {v:#x}"), |s| s.to_string())
}

/// The final (or at-the-fault) architectural state of one run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// How it ended.
    pub end: End,
    /// GPRs (ESP as it was at the fault).
    pub gpr: [u32; 8],
    /// EIP (the faulting or return EIP from the frame).
    pub eip: u32,
    /// EFLAGS (from the frame for an exception).
    pub eflags: u32,
    /// Segment selectors ES CS SS DS FS GS.
    pub seg: [u16; 6],
    /// CR2 (compared for page faults).
    pub cr2: u32,
    /// Changed RAM bytes (address, new value), ascending.
    pub written: Vec<(u32, u8)>,
    /// Instructions retired (exact for interp and jit).
    pub icount: u64,
}

fn read_u32(mem: &GuestMemory, a: u32) -> u32 {
    let mut b = [0u8; 4];
    mem.read_phys(a, &mut b);
    u32::from_le_bytes(b)
}

fn read_u16(mem: &GuestMemory, a: u32) -> u32 {
    let mut b = [0u8; 2];
    mem.read_phys(a, &mut b);
    u32::from(u16::from_le_bytes(b))
}

fn code_selector(s: u32) -> bool {
    use super::mode::sel;
    let s = (s & 0xFFFC) as u16;
    [
        sel::CODE32,
        sel::CODE16,
        sel::USER_CODE32 & !3,
        sel::USER_CODE16 & !3,
    ]
    .contains(&s)
}

/// Read the outcome of a run; `end` is set when the run did not halt.
/// Compares RAM with `image` on `pages` (all when `None`); returns the
/// pages that differ too.
pub fn read_outcome(
    cpu: &Cpu,
    mem: &GuestMemory,
    image: &[u8],
    mode: Mode,
    end: Option<End>,
    pages: Option<&[u32]>,
) -> (Outcome, Vec<usize>) {
    let r = &cpu.regs;
    let mut out = Outcome {
        end: End::Halt,
        gpr: r.gpr,
        eip: r.eip,
        eflags: r.eflags(),
        seg: std::array::from_fn(|k| r.seg[k].selector),
        cr2: cpu.cr2,
        written: Vec::new(),
        icount: r.icount,
    };
    let mut frame: Vec<u32> = Vec::new();
    if let Some(e) = end {
        out.end = e;
    } else {
        let cs = r.seg[sreg::CS];
        let at = cs.base.wrapping_add(r.eip).wrapping_sub(1);
        if (STUB_BASE..STUB_BASE + 256).contains(&at) {
            let vector = (at - STUB_BASE) as u8;
            let ss = r.seg[sreg::SS];
            let mask = if ss.is_32bit() { u32::MAX } else { 0xFFFF };
            let esp = r.gpr[gpr::ESP];
            let addr = |k: u32| ss.base.wrapping_add(esp.wrapping_add(k) & mask);
            if mode == Mode::Real {
                out.eip = read_u16(mem, addr(0));
                out.seg[sreg::CS] = read_u16(mem, addr(2)) as u16;
                out.eflags = (out.eflags & 0xFFFF_0000) | read_u16(mem, addr(4));
                out.gpr[gpr::ESP] = (esp & !mask) | (esp.wrapping_add(6) & mask);
                frame.extend((0..6).map(addr));
                out.end = End::Exception {
                    vector,
                    error: None,
                };
            } else {
                let f: Vec<u32> = (0..6).map(|k| read_u32(mem, addr(4 * k))).collect();
                let plain = code_selector(f[1]) && f[2] & 2 != 0;
                let with_err = code_selector(f[2]) && f[3] & 2 != 0;
                let o = usize::from(with_err && (has_error_code(vector) || !plain));
                out.eip = f[o];
                out.seg[sreg::CS] = f[o + 1] as u16;
                out.eflags = f[o + 2];
                let words = if f[o + 1] & 3 != 0 {
                    out.gpr[gpr::ESP] = f[o + 3];
                    out.seg[sreg::SS] = f[o + 4] as u16;
                    o + 5
                } else {
                    out.gpr[gpr::ESP] =
                        (esp & !mask) | (esp.wrapping_add(4 * (o as u32 + 3)) & mask);
                    o + 3
                };
                frame.extend((0..4 * words as u32).map(addr));
                out.end = End::Exception {
                    vector,
                    error: (o == 1).then_some(f[0]),
                };
            }
        }
    }
    frame.sort_unstable();
    let now = mem.bytes();
    let all: Vec<u32>;
    let pages = match pages {
        Some(p) => p,
        None => {
            all = (0..(now.len().min(image.len()) / 4096) as u32).collect();
            &all
        }
    };
    let mut dirty = Vec::new();
    for &p in pages {
        let p = p as usize;
        let (a, b) = (&now[p << 12..(p + 1) << 12], &image[p << 12..(p + 1) << 12]);
        if a != b {
            dirty.push(p);
            for (i, (&x, &y)) in a.iter().zip(b).enumerate() {
                let addr = (p * 4096 + i) as u32;
                if x != y && frame.binary_search(&addr).is_err() {
                    out.written.push((addr, x));
                }
            }
        }
    }
    (out, dirty)
}
