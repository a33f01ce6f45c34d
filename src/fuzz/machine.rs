//! The bare machine a case runs on: CPU + flat RAM + no devices, set up for
//! the case's mode (GDT, IDT with one `HLT` stub per vector, TSS, page
//! tables), run under one engine, and read back into an [`Outcome`].

use btvm_jit::abi::{sreg, SegCache};
use btvm_jit::flags::FLAGS_ARITH;

use super::case::Case;
use super::mode::*;
use super::outcome::{End, Outcome};
use crate::cpu::access::Ctx;
use crate::cpu::descriptor::Descriptor;
use crate::cpu::exception::Stop;
use crate::cpu::{Cpu, TableReg, CR0_ET, CR0_NE, CR0_PE, CR0_PG, CR0_WP};
use crate::engine::Engine;
use crate::error::Error;
use crate::memory::GuestMemory;
use crate::platform::NullPlatform;

/// EFLAGS bits a case may set initially: arithmetic flags and DF.
pub const CASE_EFLAGS: u32 = FLAGS_ARITH | btvm_jit::flags::FLAG_DF;

/// Vectors whose CPU-raised exceptions push an error code.
pub fn has_error_code(vector: u8) -> bool {
    matches!(vector, 8 | 10 | 11 | 12 | 13 | 14 | 17)
}

fn seg_desc(base: u32, limit: u32, access: u8, flags: u8) -> u64 {
    let (b, l) = (u64::from(base), u64::from(limit));
    (l & 0xFFFF)
        | (b & 0xFF_FFFF) << 16
        | u64::from(access) << 40
        | ((l >> 16) & 0xF) << 48
        | u64::from(flags) << 52
        | (b >> 24) << 56
}

/// The GDT: index k at selector k*8 (see [`sel`]).
fn gdt() -> Vec<u64> {
    vec![
        0,
        seg_desc(0, 0xFFFFF, 0x9B, 0xC),         // 0x08 code32 DPL0
        seg_desc(0, 0xFFFFF, 0x93, 0xC),         // 0x10 data DPL0
        seg_desc(CODE_BASE, 0xFFFF, 0x9B, 0x0),  // 0x18 code16 DPL0
        seg_desc(0, 0xFFFFF, 0xFB, 0xC),         // 0x20 code32 DPL3
        seg_desc(0, 0xFFFFF, 0xF3, 0xC),         // 0x28 data DPL3
        seg_desc(TSS_BASE, 0x67, 0x8B, 0x0),     // 0x30 TSS (busy)
        seg_desc(DATA_BASE, 0xFFFF, 0x93, 0x0),  // 0x38 data16 DPL0
        seg_desc(STACK_BASE, 0xFFFF, 0x93, 0x0), // 0x40 stack16 DPL0
        seg_desc(CODE_BASE, 0xFFFF, 0xFB, 0x0),  // 0x48 code16 DPL3
        seg_desc(DATA_BASE, 0xFFFF, 0xF3, 0x0),  // 0x50 data16 DPL3
        seg_desc(STACK_BASE, 0xFFFF, 0xF3, 0x0), // 0x58 stack16 DPL3
    ]
}

/// Page attributes under paging: (first page, pages, writable, user).
fn page_map() -> Vec<(u32, u32, bool, bool)> {
    vec![
        (CODE_BASE, 1, false, true),
        (DATA_BASE, DATA_PAGES, true, true),
        (RO_BASE, 1, false, true),
        (STACK_BASE, 1, true, true),
        (
            SYSTEM_PAGES.0,
            (SYSTEM_PAGES.1 - SYSTEM_PAGES.0) / 0x1000,
            true,
            false,
        ),
    ]
}

/// Whether a linear address is in a page the stream's ring-3 code may
/// reach under paging (the native runner maps exactly these).
pub fn user_page(addr: u32) -> bool {
    page_map()
        .iter()
        .any(|&(b, n, _, u)| u && addr >= b && addr < b + n * 0x1000)
}

/// Whether a linear address is in one of the ring-0 system pages.
pub fn system_page(addr: u32) -> bool {
    addr >= SYSTEM_PAGES.0 && addr < SYSTEM_PAGES.1
}

/// The RAM image of a mode before the case's code and data: descriptor
/// tables, stubs, TSS, page tables (or the real-mode IVT).
fn mode_image(mode: Mode) -> Vec<u8> {
    let mut m = vec![0u8; IMAGE_LEN];
    let put = |m: &mut Vec<u8>, a: u32, b: &[u8]| {
        m[a as usize..a as usize + b.len()].copy_from_slice(b);
    };
    for v in 0..256u32 {
        put(&mut m, STUB_BASE + v, &[0xF4]);
    }
    if mode == Mode::Real {
        for v in 0..256u32 {
            let ent = v | (STUB_BASE >> 4) << 16;
            put(&mut m, 4 * v, &ent.to_le_bytes());
        }
        return m;
    }
    for (i, d) in gdt().iter().enumerate() {
        put(&mut m, GDT_BASE + 8 * i as u32, &d.to_le_bytes());
    }
    for v in 0..256u32 {
        let off = u64::from(STUB_BASE + v);
        let dpl: u64 = if v == 3 || v == 4 { 3 } else { 0 };
        let gate = (off & 0xFFFF)
            | u64::from(sel::CODE32) << 16
            | (0x8E00 | dpl << 13) << 32
            | (off >> 16) << 48;
        put(&mut m, IDT_BASE + 8 * v, &gate.to_le_bytes());
    }
    put(&mut m, TSS_BASE + 4, &RING0_STACK_TOP.to_le_bytes());
    put(&mut m, TSS_BASE + 8, &u32::from(sel::DATA32).to_le_bytes());
    put(&mut m, TSS_BASE + 0x66, &0x68u16.to_le_bytes());
    if mode.paging() {
        put(&mut m, PD_BASE, &(PT_BASE | 7).to_le_bytes());
        for (base, n, w, u) in page_map() {
            for p in 0..n {
                let a = base + p * 0x1000;
                let pte = a | 1 | u32::from(w) << 1 | u32::from(u) << 2;
                put(&mut m, PT_BASE + 4 * (a >> 12), &pte.to_le_bytes());
            }
        }
    }
    m
}

/// The pages a case's set-up writes: the IVT page, code, data, stack and
/// system pages (every other page is zero in every mode's image).
fn setup_pages() -> Vec<u32> {
    let mut v = vec![0];
    for (base, n, _, _) in page_map() {
        v.extend((0..n).map(|p| (base >> 12) + p));
    }
    v
}

/// The pages a run can change, when fewer than all of RAM: under paging
/// only the mapped pages (and the page tables, for accessed/dirty bits).
pub fn writable_pages(mode: Mode) -> Option<Vec<u32>> {
    mode.paging().then(|| setup_pages()[1..].to_vec())
}

/// Put the case's code and data into a RAM image holding `mode_image`.
fn apply_case(image: &mut [u8], mode_image: &[u8], case: &Case) {
    for p in setup_pages() {
        let r = (p as usize) << 12..((p as usize) + 1) << 12;
        image[r.clone()].copy_from_slice(&mode_image[r]);
    }
    let n = case.code.len().min(0x1000);
    image[CODE_BASE as usize..CODE_BASE as usize + n].copy_from_slice(&case.code[..n]);
    let d = case.data.len().min(super::case::DATA_LEN);
    image[DATA_BASE as usize..DATA_BASE as usize + d].copy_from_slice(&case.data[..d]);
}

/// The case's initial RAM: the mode's image plus code and data.
pub fn case_image(case: &Case) -> Vec<u8> {
    let base = mode_image(case.mode);
    let mut m = base.clone();
    apply_case(&mut m, &base, case);
    m
}

/// The initial segment registers of a mode (ES CS SS DS FS GS selectors).
pub fn mode_selectors(mode: Mode) -> [u16; 6] {
    let (cs, ds, ss, fs) = match mode {
        Mode::Real => (
            (CODE_BASE >> 4) as u16,
            (DATA_BASE >> 4) as u16,
            (STACK_BASE >> 4) as u16,
            (DATA_BASE >> 4) as u16,
        ),
        Mode::Pm16 => (sel::CODE16, sel::DATA16, sel::STACK16, sel::DATA16),
        Mode::Pm16Ring3 => (sel::USER_CODE16, sel::USER_DATA16, sel::USER_STACK16, 0),
        Mode::Pm32 | Mode::Pm32Paging => (sel::CODE32, sel::DATA32, sel::DATA32, sel::DATA32),
        Mode::Pm32Ring3 | Mode::Pm32Ring3Paging => {
            (sel::USER_CODE32, sel::USER_DATA32, sel::USER_DATA32, 0)
        }
    };
    [ds, cs, ss, ds, fs, fs]
}

/// The initial EIP of a mode.
pub fn mode_eip(mode: Mode) -> u32 {
    if mode.code32() {
        CODE_BASE
    } else {
        0
    }
}

/// The initial ESP of a mode.
pub fn mode_esp(mode: Mode) -> u32 {
    if mode.code32() {
        STACK_BASE + STACK_START
    } else {
        STACK_START
    }
}

/// The linear base of a selector in a mode's initial tables.
pub fn selector_base(mode: Mode, s: u16) -> u32 {
    if mode == Mode::Real {
        return u32::from(s) << 4;
    }
    let g = gdt();
    g.get(usize::from(s >> 3))
        .map_or(0, |&d| Descriptor::from_u64(d).base())
}

/// Set the CPU up for a case (TLB kept but flushed).
fn load_cpu(cpu: &mut Cpu, case: &Case) {
    let tlb = std::mem::take(&mut cpu.tlb);
    let side = std::mem::take(&mut cpu.tlb_side);
    *cpu = Cpu {
        tlb,
        tlb_side: side,
        ..Cpu::new()
    };
    cpu.flush_tlb_all();
    let mode = case.mode;
    let sels = mode_selectors(mode);
    if mode == Mode::Real {
        cpu.cr0 = CR0_ET;
        for (k, &s) in sels.iter().enumerate() {
            cpu.regs.seg[k] = SegCache::real_mode(s, k == sreg::CS);
        }
    } else {
        cpu.cr0 = CR0_PE | CR0_ET | CR0_NE | CR0_WP;
        if mode.paging() {
            cpu.cr0 |= CR0_PG;
            cpu.cr3 = PD_BASE;
        }
        let g = gdt();
        cpu.gdtr = TableReg {
            base: GDT_BASE,
            limit: 8 * g.len() as u32 - 1,
        };
        cpu.idtr = TableReg {
            base: IDT_BASE,
            limit: 256 * 8 - 1,
        };
        cpu.tr = Descriptor::from_u64(g[usize::from(sel::TSS >> 3)]).cache(sel::TSS);
        for (k, &s) in sels.iter().enumerate() {
            cpu.regs.seg[k] = if s & !3 == 0 {
                SegCache::default()
            } else {
                Descriptor::from_u64(g[usize::from(s >> 3)]).cache(s)
            };
        }
        cpu.set_cpl(if mode.ring3() { 3 } else { 0 });
    }
    cpu.regs.gpr = case.gpr;
    cpu.regs.eip = mode_eip(mode);
    let iflag = if mode.ring3() {
        btvm_jit::flags::FLAG_IF
    } else {
        0
    };
    cpu.regs.set_eflags((case.eflags & CASE_EFLAGS) | iflag);
}

/// Bytes of the RAM image: the RAM and the 128 KiB the flat memory maps
/// past it (the real-mode wrap area above 1 MiB).
pub const IMAGE_LEN: usize = ((RAM_MIB as usize) << 20) + 0x2_0000;

/// One worker's machine.
pub struct Bench {
    mem: GuestMemory,
    /// The loaded case's initial RAM; `mem` equals it between runs.
    image: Vec<u8>,
    /// Each mode's image, built on first use.
    mode_images: std::collections::HashMap<Mode, Vec<u8>>,
    cpu: Cpu,
    io: NullPlatform,
}

/// What a run is asked to do.
#[derive(Clone, Copy, Debug)]
pub struct RunLimits {
    /// Instruction bound (exact under interp and jit).
    pub instructions: u64,
    /// Run the engine one instruction at a time and record the trace.
    pub trace: bool,
    /// Reset the engine first (drop translated code: the JIT; the
    /// interpreter's decode cache checks the bytes itself).
    pub reset: bool,
}

/// One executed stream instruction (for the undefined-flags mask).
#[derive(Clone, Copy, Debug)]
pub struct Traced {
    /// Linear address.
    pub linear: u32,
    /// CS-relative EIP.
    pub eip: u32,
    /// Code bitness at the time.
    pub bitness: u32,
    /// Up to 15 bytes at the address.
    pub bytes: [u8; 15],
    /// ECX before the instruction (shift counts in CL).
    pub ecx: u32,
    /// EFLAGS before the instruction (TF).
    pub eflags: u32,
}

impl Bench {
    /// A machine with flat RAM.
    pub fn new() -> Result<Self, Error> {
        // The PC map (VGA window as device memory, BIOS ROM area read-only),
        // as KVM maps it: reads there are all-ones under every engine.
        let mem = GuestMemory::new(RAM_MIB)?;
        if mem.bytes().len() != IMAGE_LEN {
            return Err(Error::Host(format!(
                "fuzz: guest memory is {} bytes, expected {IMAGE_LEN}",
                mem.bytes().len()
            )));
        }
        Ok(Bench {
            mem,
            image: vec![0; IMAGE_LEN],
            mode_images: std::collections::HashMap::new(),
            cpu: Cpu::new(),
            io: NullPlatform,
        })
    }

    /// Load a case's RAM (only the pages that differ between cases are
    /// written).
    pub fn load_case(&mut self, case: &Case) {
        let base = self
            .mode_images
            .entry(case.mode)
            .or_insert_with(|| mode_image(case.mode));
        apply_case(&mut self.image, base, case);
        let mem = self.mem.bytes_mut();
        for p in setup_pages() {
            let r = (p as usize) << 12..((p as usize) + 1) << 12;
            mem[r.clone()].copy_from_slice(&self.image[r]);
        }
    }

    /// The loaded case's initial RAM.
    pub fn image(&self) -> &[u8] {
        &self.image
    }

    /// Run the loaded `case` under `engine`; `trace` receives the executed
    /// stream instructions when `limits.trace`. RAM is restored after.
    pub fn run(
        &mut self,
        engine: &mut dyn Engine,
        case: &Case,
        limits: RunLimits,
        trace: &mut Vec<Traced>,
    ) -> Outcome {
        self.mem.clear_code_pages();
        if limits.reset {
            engine.reset();
        }
        load_cpu(&mut self.cpu, case);
        let end = self.run_engine(engine, limits, trace);
        let pages = writable_pages(case.mode);
        let (out, dirty) = super::outcome::read_outcome(
            &self.cpu,
            &self.mem,
            &self.image,
            case.mode,
            end,
            pages.as_deref(),
        );
        let mem = self.mem.bytes_mut();
        for p in dirty {
            let r = p << 12..(p + 1) << 12;
            mem[r.clone()].copy_from_slice(&self.image[r]);
        }
        out
    }

    fn run_engine(
        &mut self,
        engine: &mut dyn Engine,
        limits: RunLimits,
        trace: &mut Vec<Traced>,
    ) -> Option<End> {
        let limit = limits.instructions;
        let mut rounds = 0u32;
        while !self.cpu.halted && self.cpu.regs.icount < limit {
            let end = if limits.trace {
                self.note_trace(trace);
                self.cpu.regs.icount + 1
            } else {
                limit
            };
            self.cpu.regs.attention = 0;
            let mut ctx = Ctx {
                cpu: &mut self.cpu,
                mem: &mut self.mem,
                io: &mut self.io,
            };
            match engine.run_until(&mut ctx, end, false) {
                Ok(()) => {}
                Err(Stop::TripleFault) => return Some(End::TripleFault),
                Err(Stop::Halt) => self.cpu.halted = true,
                Err(s) => return Some(End::Failed(format!("{s:?}"))),
            }
            rounds += 1;
            if rounds > 1_000_000 && !limits.trace {
                return Some(End::Failed("engine made no progress".into()));
            }
        }
        if self.cpu.halted {
            None
        } else {
            Some(End::Timeout)
        }
    }

    fn note_trace(&mut self, trace: &mut Vec<Traced>) {
        let cs = self.cpu.regs.seg[sreg::CS];
        let eip = self.cpu.regs.eip;
        let linear = cs.base.wrapping_add(eip);
        if (STUB_BASE..STUB_BASE + 256).contains(&linear) {
            return;
        }
        let mut bytes = [0u8; 15];
        self.mem.read_phys(linear, &mut bytes);
        trace.push(Traced {
            linear,
            eip,
            bitness: if cs.is_32bit() { 32 } else { 16 },
            bytes,
            ecx: self.cpu.regs.gpr[btvm_jit::abi::gpr::ECX],
            eflags: self.cpu.regs.flags,
        });
    }

    /// The register file right now (for tests).
    pub fn cpu(&self) -> &Cpu {
        &self.cpu
    }
}
