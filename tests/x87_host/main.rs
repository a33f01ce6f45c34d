//! Differential test of `btvm::fpu` against the host CPU's own x87.
//!
//! Each case builds a random FPU state (control word with random rounding,
//! precision and masks; a status word with only masked flags set, so
//! nothing is pending; ST(0)/ST(1) from a generator biased towards edge
//! cases: denormals, pseudo-denormals, unnormals, NaNs, infinities, values
//! near the exponent limits, exact small integers), loads it into the host
//! with FRSTOR, runs one instruction, and saves the result with FNSAVE
//! (non-waiting, so unmasked exceptions are observed, not trapped). The
//! emulator runs the same instruction on the same image. The control,
//! status and tag words, all eight registers, the memory operand and (for
//! FCOMI) EFLAGS must be bit-identical. The instruction and data pointers
//! are not compared (they are host addresses).
//!
//! Transcendental instructions are checked for identical status and
//! classes, and their results for the largest difference in ulps, which
//! must stay within the bound documented at each test.
//!
//! Layout: the harness (host execution, random states, comparison) is
//! here; `host/basic.rs` checks arithmetic, loads/stores and compares,
//! `host/transcendental.rs` the transcendental instructions.
//!
//! The host here is whatever runs the tests (the reference machine was an
//! AMD Zen 3); every `asm!` block is test-only.
#![cfg(target_arch = "x86_64")]

#[cfg(test)]
mod host {

    use std::arch::asm;

    use btvm::fpu::convert::{from_f32, from_f64};
    use btvm::fpu::env::Layout;
    use btvm::fpu::ops::{Op, Src, StoreKind};
    use btvm::fpu::transcendental::Constant;
    use btvm::fpu::{Class, Fpu, F80};

    /// A 108-byte FSAVE image in the 32-bit protected-mode layout.
    #[derive(Clone, Copy)]
    #[repr(C, align(16))]
    struct Image([u8; 108]);

    const LAYOUT: Layout = Layout {
        op32: true,
        real: false,
    };

    /// Host side of one instruction: state in, state out, memory operand
    /// buffer, EFLAGS in/out.
    type HostFn = fn(&Image, &mut [u8; 16], u64) -> (Image, u64);

    /// Generate a host runner for one instruction. The template may use `{m}`
    /// (pointer to the 16-byte memory operand).
    macro_rules! host {
        ($insn:literal) => {{
            fn run(state: &Image, mem: &mut [u8; 16], flags_in: u64) -> (Image, u64) {
                let mut out = Image([0; 108]);
                let flags: u64;
                // FRSTOR reads 108 bytes from `state`, FNSAVE writes 108
                // bytes to `out`, and the instruction's memory operand is at
                // most 10 bytes at `mem` (16 bytes). FNSAVE re-initializes the
                // x87 (FNINIT: CW 037Fh, empty stack), which is the state the
                // Rust ABI expects; the clobbered x87 registers are declared.
                // The pushfq/popfq pair needs the stack (no `nostack`), and
                // only arithmetic flags are loaded.
                // SAFETY: every access is inside the buffers above and the x87 is left as the ABI expects.
                unsafe {
                    asm!(
                        "mov {m}, {m}",
                        "push {fin}",
                        "popfq",
                        "frstor [{inp}]",
                        $insn,
                        "pushfq",
                        "pop {fl}",
                        "fnsave [{out}]",
                        inp = in(reg) state.0.as_ptr(),
                        out = in(reg) out.0.as_mut_ptr(),
                        m = in(reg) mem.as_mut_ptr(),
                        fin = in(reg) flags_in,
                        fl = out(reg) flags,
                        out("st(0)") _, out("st(1)") _, out("st(2)") _, out("st(3)") _,
                        out("st(4)") _, out("st(5)") _, out("st(6)") _, out("st(7)") _,
                    );
                }
                (out, flags)
            }
            run as HostFn
        }};
    }

    /// Emulator side of one instruction.
    type EmuFn = fn(&mut Fpu, &mut [u8; 16], &mut u64);

    // ---- random values ---------------------------------------------------------

    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            // xorshift64*
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
        fn bool(&mut self) -> bool {
            self.next() & 1 != 0
        }
        /// A significand with a random number of low bits cleared (so exact
        /// results and ties happen).
        fn sig(&mut self) -> u64 {
            let s = self.next() | 1 << 63;
            match self.below(4) {
                0 => s,
                1 => s & !((1u64 << self.below(64)) - 1) | 1 << 63,
                2 => s & 0xFFFF_FFFF_FFE0_0000 | 1 << 63,
                _ => s & 0xFFFF_FF00_0000_0000 | 1 << 63,
            }
        }

        fn f80(&mut self) -> F80 {
            let sign = self.bool();
            let e = |v: i64| v.clamp(0, 0x7FFF) as u16;
            match self.below(100) {
                0..=44 => F80::new(sign, e(0x3FFF + self.below(141) as i64 - 70), self.sig()),
                45..=54 => F80::new(sign, e(1 + self.below(0x7FFE) as i64), self.sig()),
                55..=59 => F80::new(sign, e(1 + self.below(70) as i64), self.sig()),
                60..=64 => F80::new(sign, e(0x7FFE - self.below(70) as i64), self.sig()),
                65..=69 => F80::new(sign, 0, self.sig() >> (1 + self.below(63))),
                70 => F80::new(sign, 0, self.sig()),
                71..=73 => F80::zero(sign),
                74..=76 => F80::infinity(sign),
                77..=79 => F80::new(sign, 0x7FFF, self.next() | 0xC000_0000_0000_0000),
                80..=81 => F80::new(
                    sign,
                    0x7FFF,
                    (self.next() & 0x3FFF_FFFF_FFFF_FFFF).max(1) | 1 << 63,
                ),
                82 => F80::new(sign, e(1 + self.below(0x7FFE) as i64), self.next() >> 1),
                83 => F80::new(sign, 0x7FFF, self.next() >> 1),
                84..=91 => btvm::fpu::convert::from_int(self.below(2001) as i64 - 1000),
                _ => F80::new(
                    sign,
                    e(0x3FFF + self.below(8) as i64 - 4),
                    self.sig() & 0xFFFF_0000_0000_0000 | 1 << 63,
                ),
            }
        }

        /// A second operand related to the first now and then.
        fn partner(&mut self, a: F80) -> F80 {
            match self.below(10) {
                0 => a,
                1 => a.neg(),
                2 => F80 {
                    sig: a.sig ^ (1 << self.below(64)) | (a.sig & 1 << 63),
                    se: a.se,
                },
                3 => F80 {
                    sig: a.sig,
                    se: a.se.wrapping_add(self.below(130) as u16).wrapping_sub(65),
                },
                _ => self.f80(),
            }
        }
    }

    /// A random control word: rounding, precision (mostly valid settings) and
    /// masks (mostly all masked).
    fn random_cw(r: &mut Rng) -> u16 {
        let masks = if r.below(5) == 0 {
            r.below(64) as u16
        } else {
            0x3F
        };
        let pc = [0u16, 2, 3, 3, 3, 1][r.below(6) as usize];
        let rc = r.below(4) as u16;
        0x40 | masks | pc << 8 | rc << 10
    }

    /// A random state with ST(0)=a, ST(1)=b, the rest empty (or, now and then,
    /// full or with ST(0) empty), and no pending exception.
    fn random_state(r: &mut Rng, a: F80, b: F80) -> Fpu {
        let mut f = Fpu::new();
        f.init();
        let cw = random_cw(r);
        f.set_control_word(cw);
        f.top = r.below(8) as u8;
        for k in 2..8 {
            let v = r.f80();
            let p = f.phys(k);
            f.regs[p] = v;
        }
        match r.below(40) {
            0 => f.empty = 0,
            1 => f.empty = !(1 << f.phys(1)),
            2 => f.empty = 0xFF,
            _ => f.empty = !((1 << f.phys(0)) | (1 << f.phys(1))),
        }
        let p0 = f.phys(0);
        let p1 = f.phys(1);
        f.regs[p0] = a;
        f.regs[p1] = b;
        // Status: random condition codes and masked flags only.
        let flags = (r.below(128) as u16) & (cw & 0x3F | 0x40);
        let cc = (r.below(16) as u16) << 8;
        let sw = flags | (cc & 0x0700) | ((cc & 0x0800) << 3) | (u16::from(f.top) << 11);
        f.set_status_word(sw);
        f
    }

    fn image_of(f: &Fpu) -> Image {
        Image(f.save_image(LAYOUT))
    }

    /// The bytes compared: CW, SW, TW and the registers (not the pointers).
    fn compared(img: &Image) -> Vec<u8> {
        let b = &img.0;
        [&b[0..2], &b[4..6], &b[8..10], &b[28..108]].concat()
    }

    fn describe(img: &Image) -> String {
        let b = &img.0;
        let w = |o: usize| u16::from_le_bytes([b[o], b[o + 1]]);
        let mut s = format!("cw={:04x} sw={:04x} tw={:04x}", w(0), w(4), w(8));
        for i in 0..3 {
            let mut r = [0u8; 10];
            r.copy_from_slice(&b[28 + 10 * i..38 + 10 * i]);
            s += &format!(" st{}={:020x}", i, F80::from_bytes(r).to_bits());
        }
        s
    }

    /// Bits to ignore in one case, given the input and the host's output
    /// images: status-word bits in the low 16, EFLAGS bits above. Where the
    /// SDM defines a behaviour the reference AMD host does not follow, the
    /// emulator follows the SDM and those bits are masked.
    type Ignore = fn(&Image, &Image) -> u64;

    fn ignore_none(_: &Image, _: &Image) -> u64 {
        0
    }

    fn sw_of(img: &Image) -> u16 {
        u16::from_le_bytes([img.0[4], img.0[5]])
    }

    fn cw_of(img: &Image) -> u16 {
        u16::from_le_bytes([img.0[0], img.0[1]])
    }

    /// FCOM & co. with an unmasked invalid operation: the SDM says the
    /// condition codes are not set; the AMD host sets them to "unordered".
    fn ignore_cc_on_unmasked_ie(inp: &Image, host: &Image) -> u64 {
        // The input never has an unmasked flag set, so IE in the output is new.
        if cw_of(inp) & 1 == 0 && sw_of(host) & 1 != 0 {
            0x4500
        } else {
            0
        }
    }

    /// FCOMI & co.: the SDM says C1 is cleared (the AMD host leaves it), and
    /// that ZF/PF/CF are not set on an unmasked IE (the AMD host sets them).
    fn ignore_fcomi(inp: &Image, host: &Image) -> u64 {
        let eflags = if cw_of(inp) & 1 == 0 && sw_of(host) & 1 != 0 {
            0x045 << 16
        } else {
            0
        };
        0x0200 | eflags
    }

    /// Run `n` random cases of one instruction; returns the mismatches.
    fn diff(
        name: &str,
        host: HostFn,
        emu: EmuFn,
        n: usize,
        seed: u64,
        mem_gen: fn(&mut Rng) -> [u8; 16],
    ) -> usize {
        diff_masked(name, host, emu, n, seed, mem_gen, ignore_none)
    }

    fn diff_masked(
        name: &str,
        host: HostFn,
        emu: EmuFn,
        n: usize,
        seed: u64,
        mem_gen: fn(&mut Rng) -> [u8; 16],
        ignore: Ignore,
    ) -> usize {
        let mut r = Rng(seed);
        let mut bad = 0;
        for case in 0..n {
            let a = r.f80();
            let b = r.partner(a);
            let f = random_state(&mut r, a, b);
            let img = image_of(&f);
            let mem0 = mem_gen(&mut r);
            let flags_in = if r.bool() { 0x8D5 } else { 0x002 };
            let (mut hm, mut em) = (mem0, mem0);
            let (hout, hflags) = host(&img, &mut hm, flags_in);
            let mut g = Fpu::new();
            g.frstor(&img.0, LAYOUT);
            let mut eflags = flags_in;
            emu(&mut g, &mut em, &mut eflags);
            let mut eout = image_of(&g);
            // Copy the ignored status bits from the host's result.
            let ig = ignore(&img, &hout);
            let sw = (sw_of(&eout) & !(ig as u16)) | (sw_of(&hout) & ig as u16);
            eout.0[4..6].copy_from_slice(&sw.to_le_bytes());
            let ig_fl = ig >> 16;
            let eflags = (eflags & !ig_fl) | (hflags & ig_fl);
            let same = compared(&hout) == compared(&eout)
                && hm == em
                && (hflags & 0x8D5) == (eflags & 0x8D5);
            if !same {
                bad += 1;
                if bad <= 8 {
                    eprintln!(
                        "{name} case {case}: in   {} mem={:02x?}",
                        describe(&img),
                        &mem0[..10]
                    );
                    eprintln!(
                        "  host {} mem={:02x?} fl={:03x}",
                        describe(&hout),
                        &hm[..10],
                        hflags & 0x8D5
                    );
                    eprintln!(
                        "  emu  {} mem={:02x?} fl={:03x}",
                        describe(&eout),
                        &em[..10],
                        eflags & 0x8D5
                    );
                }
            }
        }
        if bad > 0 {
            eprintln!("{name}: {bad}/{n} mismatches");
        }
        bad
    }

    fn no_mem(_: &mut Rng) -> [u8; 16] {
        [0x5A; 16]
    }

    fn mem_f32(r: &mut Rng) -> [u8; 16] {
        let mut m = [0x5A; 16];
        let v = match r.below(10) {
            0 => r.next() as u32 & 0x807F_FFFF, // denormal/zero
            1 => r.next() as u32 | 0x7F80_0000, // inf/NaN
            2 => 0x7F80_0000 | (r.next() as u32 & 0x803F_FFFF), // SNaN or inf
            _ => r.next() as u32,
        };
        m[..4].copy_from_slice(&v.to_le_bytes());
        m
    }

    fn mem_f64(r: &mut Rng) -> [u8; 16] {
        let mut m = [0x5A; 16];
        let v = match r.below(10) {
            0 => r.next() & 0x800F_FFFF_FFFF_FFFF,
            1 => r.next() | 0x7FF0_0000_0000_0000,
            2 => 0x7FF0_0000_0000_0000 | (r.next() & 0x8007_FFFF_FFFF_FFFF),
            _ => r.next(),
        };
        m[..8].copy_from_slice(&v.to_le_bytes());
        m
    }

    fn mem_f80(r: &mut Rng) -> [u8; 16] {
        let mut m = [0x5A; 16];
        m[..10].copy_from_slice(&r.f80().to_bytes());
        m
    }

    fn mem_int(r: &mut Rng) -> [u8; 16] {
        let mut m = [0x5A; 16];
        let v: u64 = match r.below(4) {
            0 => r.next(),
            1 => (r.below(2001) as i64 - 1000) as u64,
            2 => [0, 1 << 15, 1 << 31, 1 << 63, u64::MAX][r.below(5) as usize],
            _ => (r.next() as i32 >> r.below(32)) as i64 as u64,
        };
        m[..8].copy_from_slice(&v.to_le_bytes());
        m
    }

    fn mem_bcd(r: &mut Rng) -> [u8; 16] {
        let mut m = [0x5A; 16];
        for b in m.iter_mut().take(9) {
            *b = (r.below(10) as u8) << 4 | r.below(10) as u8;
        }
        m[9] = if r.bool() { 0x80 } else { 0 };
        m
    }

    fn rd32(m: &[u8; 16]) -> u32 {
        u32::from_le_bytes([m[0], m[1], m[2], m[3]])
    }
    fn rd64(m: &[u8; 16]) -> u64 {
        u64::from_le_bytes([m[0], m[1], m[2], m[3], m[4], m[5], m[6], m[7]])
    }
    fn m32(m: &[u8; 16]) -> Src {
        let (v, f) = from_f32(rd32(m));
        Src::Mem(v, f)
    }
    fn m64(m: &[u8; 16]) -> Src {
        let (v, f) = from_f64(rd64(m));
        Src::Mem(v, f)
    }
    fn i16m(m: &[u8; 16]) -> Src {
        Src::Mem(
            btvm::fpu::convert::from_int(i64::from(rd32(m) as u16 as i16)),
            0,
        )
    }
    fn i32m(m: &[u8; 16]) -> Src {
        Src::Mem(btvm::fpu::convert::from_int(i64::from(rd32(m) as i32)), 0)
    }

    fn store(f: &mut Fpu, m: &mut [u8; 16], kind: StoreKind, pop: bool) {
        let s = f.store_prepare(kind);
        if s.write {
            m[..s.len].copy_from_slice(&s.bytes[..s.len]);
        }
        f.store_commit(&s, pop);
    }

    const N: usize = 4000;

    fn seed_of(name: &str) -> u64 {
        name.bytes().fold(0x9E37_79B9_7F4A_7C15, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x100_0000_01B3)
        })
    }

    macro_rules! case {
        ($total:ident, $name:literal, $insn:literal, $mem:expr, $emu:expr) => {
            $total += diff($name, host!($insn), $emu, N, seed_of($name), $mem);
        };
        ($total:ident, $name:literal, $insn:literal, $mem:expr, $emu:expr, $ignore:expr) => {
            $total += diff_masked($name, host!($insn), $emu, N, seed_of($name), $mem, $ignore);
        };
    }

    mod basic;
    mod transcendental;
}
