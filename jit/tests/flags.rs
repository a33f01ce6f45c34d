//! Flag results of translated blocks on the fake machine (`common`): the
//! ALU group, unary ops, shifts and rotates, and every condition code,
//! checked against hand-computed values and a small reference model of
//! the 386 flag rules written here.

mod common;

#[cfg(test)]
mod tests {
    use super::common::{Call, Machine};
    use btvm_jit::abi::gpr;
    use btvm_jit::flags::{
        FLAGS_ARITH, FLAG_AF, FLAG_CF, FLAG_DF, FLAG_FIXED1, FLAG_IF, FLAG_OF, FLAG_PF, FLAG_SF,
        FLAG_ZF,
    };

    const EAX: usize = gpr::EAX;
    const EBX: usize = gpr::EBX;
    const ECX: usize = gpr::ECX;
    const EDX: usize = gpr::EDX;
    const ESI: usize = gpr::ESI;

    /// Flags outside the arithmetic group that every test starts with and
    /// that no translated ALU op may touch.
    const SYSTEM: u32 = FLAG_IF | FLAG_DF | FLAG_FIXED1;

    // ---- reference model ---------------------------------------------------

    fn mask(size: u8) -> u32 {
        if size == 4 {
            u32::MAX
        } else {
            (1u32 << (8 * size)) - 1
        }
    }

    fn sign(size: u8) -> u32 {
        1u32 << (8 * size - 1)
    }

    fn szp(r: u32, size: u8) -> u32 {
        let r = r & mask(size);
        let mut f = 0;
        if r == 0 {
            f |= FLAG_ZF;
        }
        if r & sign(size) != 0 {
            f |= FLAG_SF;
        }
        if (r & 0xFF).count_ones().is_multiple_of(2) {
            f |= FLAG_PF;
        }
        f
    }

    /// ADD/OR/ADC/SBB/AND/SUB/XOR/CMP by group-1 digit: (result, flags).
    fn alu_ref(digit: u8, size: u8, a: u32, b: u32, cf_in: bool) -> (u32, u32) {
        let (m, s) = (mask(size), sign(size));
        let (a, b) = (a & m, b & m);
        let c = u32::from(cf_in && (digit == 2 || digit == 3));
        let (r, mut f) = match digit {
            0 | 2 => {
                let wide = u64::from(a) + u64::from(b) + u64::from(c);
                let r = wide as u32 & m;
                let mut f = 0;
                if wide > u64::from(m) {
                    f |= FLAG_CF;
                }
                if (a ^ r) & (b ^ r) & s != 0 {
                    f |= FLAG_OF;
                }
                if (a ^ b ^ r) & 0x10 != 0 {
                    f |= FLAG_AF;
                }
                (r, f)
            }
            3 | 5 | 7 => {
                let r = a.wrapping_sub(b).wrapping_sub(c) & m;
                let mut f = 0;
                if u64::from(b) + u64::from(c) > u64::from(a) {
                    f |= FLAG_CF;
                }
                if (a ^ b) & (a ^ r) & s != 0 {
                    f |= FLAG_OF;
                }
                if (a ^ b ^ r) & 0x10 != 0 {
                    f |= FLAG_AF;
                }
                (r, f)
            }
            1 => (a | b, 0),
            4 => (a & b, 0),
            _ => (a ^ b, 0),
        };
        f |= szp(r, size);
        (r, f)
    }

    /// INC (0), DEC (1), NOT (2), NEG (3): (result, flags) given the flags
    /// before (INC/DEC keep CF, NOT keeps everything).
    fn unary_ref(digit: u8, size: u8, a: u32, flags_in: u32) -> (u32, u32) {
        let m = mask(size);
        match digit {
            0 => {
                let (r, f) = alu_ref(0, size, a, 1, false);
                (r, (f & !FLAG_CF) | (flags_in & FLAG_CF))
            }
            1 => {
                let (r, f) = alu_ref(5, size, a, 1, false);
                (r, (f & !FLAG_CF) | (flags_in & FLAG_CF))
            }
            2 => (!a & m, flags_in & FLAGS_ARITH),
            _ => alu_ref(5, size, 0, a, false),
        }
    }

    /// ROL/ROR/SHL/SHR/SAR by digit with count 1..width-1: (result, flags);
    /// the flags an op does not define keep their value.
    fn shift_ref(digit: u8, size: u8, a: u32, count: u32, flags_in: u32) -> (u32, u32) {
        let (m, s, w) = (mask(size), sign(size), 8 * u32::from(size));
        let a = a & m;
        let msb = |v: u32| v & s != 0;
        let (r, cf, of) = match digit {
            0 => {
                let r = ((a << count) | (a >> (w - count))) & m;
                (r, r & 1 != 0, msb(r) ^ (r & 1 != 0))
            }
            1 => {
                let r = ((a >> count) | (a << (w - count))) & m;
                (r, msb(r), msb(r) ^ (r & (s >> 1) != 0))
            }
            4 => {
                let r = (a << count) & m;
                let cf = (a >> (w - count)) & 1 != 0;
                (r, cf, msb(r) ^ cf)
            }
            5 => (a >> count, (a >> (count - 1)) & 1 != 0, msb(a)),
            _ => {
                let sa = ((a << (32 - w)) as i32) >> (32 - w);
                (
                    (sa >> count) as u32 & m,
                    (sa >> (count - 1)) & 1 != 0,
                    false,
                )
            }
        };
        let mut written = FLAG_CF;
        let mut f = if cf { FLAG_CF } else { 0 };
        if digit >= 4 {
            written |= FLAG_PF | FLAG_ZF | FLAG_SF;
            f |= szp(r, size);
        }
        if count == 1 {
            written |= FLAG_OF;
            if of {
                f |= FLAG_OF;
            }
        }
        (r, (flags_in & FLAGS_ARITH & !written) | f)
    }

    /// Whether condition `cc` (x86 encoding) holds for `f`.
    fn cond_ref(cc: u8, f: u32) -> bool {
        let b = |x| f & x != 0;
        let v = match cc >> 1 {
            0 => b(FLAG_OF),
            1 => b(FLAG_CF),
            2 => b(FLAG_ZF),
            3 => b(FLAG_CF) || b(FLAG_ZF),
            4 => b(FLAG_SF),
            5 => b(FLAG_PF),
            6 => b(FLAG_SF) != b(FLAG_OF),
            _ => b(FLAG_ZF) || b(FLAG_SF) != b(FLAG_OF),
        };
        v != (cc & 1 != 0)
    }

    const VALUES: [u32; 14] = [
        0,
        1,
        2,
        0x0F,
        0x10,
        0x7F,
        0x80,
        0xFF,
        0x7FFF,
        0x8000,
        0x7FFF_FFFF,
        0x8000_0000,
        0xFFFF_FFFF,
        0x9ABC_DEF8,
    ];

    /// `op` in 8/16/32-bit form with a 0x66 prefix for 16 bits.
    fn sized(size: u8, op8: u8, rest: &[u8]) -> Vec<u8> {
        let mut v = Vec::new();
        if size == 2 {
            v.push(0x66);
        }
        v.push(op8 | u8::from(size != 1));
        v.extend_from_slice(rest);
        v
    }

    fn set_low(m: &mut Machine, r: usize, size: u8, v: u32) {
        // Upper bits hold a pattern the op must leave alone.
        m.regs.gpr[r] = (0xA5A5_A5A5 & !mask(size)) | (v & mask(size));
    }

    // ---- ALU group ---------------------------------------------------------

    #[test]
    fn hand_computed_alu_flags() {
        // add eax, ebx: 0x7FFFFFFF + 1 = 0x80000000: OF SF AF PF.
        let mut m = Machine::new();
        m.regs.gpr[EAX] = 0x7FFF_FFFF;
        m.regs.gpr[EBX] = 1;
        m.run(&[0x01, 0xD8]);
        assert_eq!(m.r(EAX), 0x8000_0000);
        assert_eq!(m.regs.eflags(), 0x896);

        // sub al, bl: 0 - 1 = 0xFF: CF PF AF SF; the rest of EAX kept.
        let mut m = Machine::new();
        m.regs.gpr[EAX] = 0x1234_5600;
        m.regs.gpr[EBX] = 1;
        m.run(&[0x28, 0xD8]);
        assert_eq!(m.r(EAX), 0x1234_56FF);
        assert_eq!(m.regs.eflags(), 0x97);

        // xor eax, eax with every arithmetic flag set before: ZF PF only.
        let mut m = Machine::new();
        m.regs.set_eflags(FLAGS_ARITH);
        m.regs.gpr[EAX] = 0xDEAD_BEEF;
        m.run(&[0x31, 0xC0]);
        assert_eq!(m.r(EAX), 0);
        assert_eq!(m.regs.eflags(), 0x46);

        // adc eax, ebx with CF=1: 0xFFFFFFFF + 0 + 1 = 0: CF ZF PF AF.
        let mut m = Machine::new();
        m.regs.set_eflags(FLAG_CF);
        m.regs.gpr[EAX] = 0xFFFF_FFFF;
        m.regs.gpr[EBX] = 0;
        m.run(&[0x11, 0xD8]);
        assert_eq!(m.r(EAX), 0);
        assert_eq!(m.regs.eflags(), 0x57);

        // neg eax of 0x80000000: result 0x80000000, CF OF SF PF.
        let mut m = Machine::new();
        m.regs.gpr[EAX] = 0x8000_0000;
        m.run(&[0xF7, 0xD8]);
        assert_eq!(m.r(EAX), 0x8000_0000);
        assert_eq!(m.regs.eflags(), 0x887);

        // dec ebx of 0 with CF set: 0xFFFFFFFF, CF kept, SF PF AF.
        let mut m = Machine::new();
        m.regs.set_eflags(FLAG_CF);
        m.run(&[0xFF, 0xCB]);
        assert_eq!(m.r(EBX), 0xFFFF_FFFF);
        assert_eq!(m.regs.eflags(), 0x97);
    }

    #[test]
    fn alu_reg_reg_matches_the_reference_model() {
        for size in [1u8, 2, 4] {
            for digit in 0..8u8 {
                // op eax/ax/al, ebx/bx/bl  (opcode digit*8 + 0/1, ModRM D8)
                let code = sized(size, digit << 3, &[0xD8]);
                let mut m = Machine::new();
                for &a in &VALUES {
                    for &b in &VALUES {
                        for cf in [false, true] {
                            let f0 = SYSTEM | if cf { FLAGS_ARITH } else { 0 };
                            m.regs.set_eflags(f0);
                            set_low(&mut m, EAX, size, a);
                            set_low(&mut m, EBX, size, b);
                            let before = m.r(EAX);
                            m.run(&code);
                            let (r, f) = alu_ref(digit, size, a, b, cf);
                            let want = if digit == 7 {
                                before
                            } else {
                                (before & !mask(size)) | r
                            };
                            let what = format!("digit {digit} size {size} {a:#x},{b:#x} cf={cf}");
                            assert_eq!(m.r(EAX), want, "{what}");
                            assert_eq!(m.regs.eflags(), SYSTEM | f, "{what}");
                            assert_eq!(m.regs.eip, 0x1000 + code.len() as u32, "{what}");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn alu_with_immediates() {
        // add ecx, 0xFFFFFF80 (83 /0 ib, sign-extended); and edx, 0x0F0F (81 /4 iw).
        let mut m = Machine::new();
        m.regs.gpr[ECX] = 0x100;
        m.regs.gpr[EDX] = 0xFFFF_1234;
        m.run(&[0x83, 0xC1, 0x80, 0x66, 0x81, 0xE2, 0x0F, 0x0F]);
        assert_eq!(m.r(ECX), 0x80);
        assert_eq!(m.r(EDX), 0xFFFF_0204);
        assert_eq!(m.regs.eflags(), FLAG_FIXED1, "0x0204: no PF, ZF or SF");
        // cmp al, 0x80 (3C ib) with al = 0x7F: OF SF CF set.
        let mut m = Machine::new();
        m.regs.gpr[EAX] = 0x7F;
        m.run(&[0x3C, 0x80]);
        let (_, f) = alu_ref(7, 1, 0x7F, 0x80, false);
        assert_eq!(m.regs.eflags(), FLAG_FIXED1 | f);
        assert_eq!(f, FLAG_CF | FLAG_OF | FLAG_SF | FLAG_PF);
    }

    #[test]
    fn unary_ops_match_the_reference_model() {
        for size in [1u8, 2, 4] {
            for digit in 0..4u8 {
                // inc/dec: FE/FF /0 /1; not/neg: F6/F7 /2 /3, on eax.
                let op = if digit < 2 { 0xFE } else { 0xF6 };
                let code = sized(size, op, &[0xC0 | digit << 3]);
                let mut m = Machine::new();
                for &a in &VALUES {
                    for fin in [0, FLAGS_ARITH] {
                        m.regs.set_eflags(SYSTEM | fin);
                        set_low(&mut m, EAX, size, a);
                        let before = m.r(EAX);
                        m.run(&code);
                        let (r, f) = unary_ref(digit, size, a & mask(size), fin);
                        let what = format!("digit {digit} size {size} {a:#x} flags {fin:#x}");
                        assert_eq!(m.r(EAX), (before & !mask(size)) | r, "{what}");
                        assert_eq!(m.regs.eflags(), SYSTEM | f, "{what}");
                    }
                }
            }
        }
    }

    #[test]
    fn shifts_and_rotates_by_immediate_match_the_reference_model() {
        for size in [1u8, 2, 4] {
            for digit in [0u8, 1, 4, 5, 7] {
                for count in [1u8, 2, 4, 8 * size - 1] {
                    // C0/C1 /digit ib on eax.
                    let code = sized(size, 0xC0, &[0xC0 | digit << 3, count]);
                    let mut m = Machine::new();
                    for &a in &VALUES {
                        for fin in [0, FLAGS_ARITH] {
                            m.regs.set_eflags(SYSTEM | fin);
                            set_low(&mut m, EAX, size, a);
                            let before = m.r(EAX);
                            m.run(&code);
                            let (r, f) = shift_ref(digit, size, a, u32::from(count), fin);
                            let what = format!("digit {digit} size {size} {a:#x}, {count}");
                            assert_eq!(m.r(EAX), (before & !mask(size)) | r, "{what}");
                            assert_eq!(m.regs.eflags(), SYSTEM | f, "{what} flags {fin:#x}");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn dead_flags_are_not_merged_but_the_last_setter_is() {
        // add eax, ebx; sub ecx, edx; inc esi: the add's flags are dead
        // (all overwritten), the sub's CF survives the inc.
        let mut m = Machine::new();
        m.regs.gpr[EAX] = 0xFFFF_FFFF;
        m.regs.gpr[EBX] = 1;
        m.regs.gpr[ECX] = 0;
        m.regs.gpr[EDX] = 1;
        m.regs.gpr[ESI] = 0x7F;
        m.run(&[0x01, 0xD8, 0x29, 0xD1, 0x46]);
        assert_eq!((m.r(EAX), m.r(ECX), m.r(ESI)), (0, 0xFFFF_FFFF, 0x80));
        // inc 0x7F -> 0x80: AF, not ZF/SF/OF/PF(0x80 has one bit); CF from the sub.
        assert_eq!(m.regs.eflags(), FLAG_FIXED1 | FLAG_CF | FLAG_AF);
        assert_eq!(m.regs.icount, 1003);
    }

    #[test]
    fn jcc_taken_and_not_taken_after_a_compare() {
        // cmp eax, ebx; jz +5 (host flags carried into the branch)
        let code = [0x39, 0xD8, 0x74, 0x05];
        for (a, b, taken) in [(5, 5, true), (5, 6, false)] {
            let mut m = Machine::new();
            m.regs.gpr[EAX] = a;
            m.regs.gpr[EBX] = b;
            m.run(&code);
            let target = if taken { 0x1009 } else { 0x1004 };
            assert_eq!(m.regs.eip, target);
            assert_eq!(
                m.calls,
                vec![Call::Chain {
                    target,
                    eip: target
                }]
            );
            let (_, f) = alu_ref(7, 4, a, b, false);
            assert_eq!(
                m.regs.eflags(),
                FLAG_FIXED1 | f,
                "flags merged on both paths"
            );
            assert_eq!(m.regs.icount, 1002);
        }
    }

    #[test]
    fn every_condition_code_on_compare_results() {
        for cc in 0..16u8 {
            // cmp eax, ebx; jcc +0x10
            let code = [0x39, 0xD8, 0x70 | cc, 0x10];
            let mut m = Machine::new();
            for &a in &VALUES {
                for &b in &[0, 1, 0x7F, 0x8000_0000, 0xFFFF_FFFF] {
                    m.regs.gpr[EAX] = a;
                    m.regs.gpr[EBX] = b;
                    m.run(&code);
                    let (_, f) = alu_ref(7, 4, a, b, false);
                    let want = if cond_ref(cc, f) { 0x1014 } else { 0x1004 };
                    assert_eq!(m.regs.eip, want, "cc {cc} {a:#x} {b:#x}");
                }
            }
        }
    }

    #[test]
    fn every_condition_code_on_guest_flags() {
        // A lone jcc reads EFLAGS from the register file.
        let bits = [FLAG_CF, FLAG_PF, FLAG_ZF, FLAG_SF, FLAG_OF];
        for cc in 0..16u8 {
            let code = [0x70 | cc, 0x10];
            let mut m = Machine::new();
            for combo in 0..32u32 {
                let f: u32 = (0..5)
                    .filter(|k| combo & (1 << k) != 0)
                    .map(|k| bits[k])
                    .sum();
                m.regs.set_eflags(SYSTEM | f);
                m.run(&code);
                let want = if cond_ref(cc, f) { 0x1012 } else { 0x1002 };
                assert_eq!(m.regs.eip, want, "cc {cc} flags {f:#x}");
                assert_eq!(m.regs.eflags(), SYSTEM | f, "a branch keeps flags");
            }
        }
    }
}
