//! Translated blocks run standalone on a fake machine (`common`): guest
//! bytes in a flat memory, fake helpers, a TLB that makes the inline fast
//! path hit. Each test checks the final guest registers, EFLAGS, memory,
//! helper calls and exit (next EIP, instruction count) against values
//! computed by hand or by a small reference model written here.

mod common;

#[cfg(test)]
mod tests {
    use super::common::{Call, Machine, FAULT_PAGE, HANDLER, MISS_PAGE, PF, RO_PAGE};
    use btvm_jit::abi::{gpr, sreg};
    use btvm_jit::flags::{
        FLAGS_ARITH, FLAG_AF, FLAG_CF, FLAG_DF, FLAG_FIXED1, FLAG_IF, FLAG_OF, FLAG_PF, FLAG_SF,
        FLAG_ZF,
    };
    use iced_x86::Mnemonic;

    const EAX: usize = gpr::EAX;
    const EBX: usize = gpr::EBX;
    const ECX: usize = gpr::ECX;
    const EDX: usize = gpr::EDX;
    const ESI: usize = gpr::ESI;
    const EDI: usize = gpr::EDI;
    const ESP: usize = gpr::ESP;

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

    // ---- memory ------------------------------------------------------------

    fn le(v: u32) -> [u8; 4] {
        v.to_le_bytes()
    }

    #[test]
    fn alu_with_memory_operands_hits_the_tlb_inline() {
        let mut m = Machine::new();
        m.write(0x2000, 4, 0x8000_0000);
        m.write(0x2004, 4, 0x0000_0010);
        m.regs.gpr[EAX] = 0x8000_0000;
        m.regs.gpr[EBX] = 0xFFFF_FFF0;
        // add eax, [0x2000]; add [0x2004], ebx
        let mut code = vec![0x03, 0x05];
        code.extend(le(0x2000));
        code.extend([0x01, 0x1D]);
        code.extend(le(0x2004));
        m.run(&code);
        assert_eq!(m.r(EAX), 0);
        assert_eq!(m.read(0x2004, 4), 0);
        // the second add: 0x10 + 0xFFFFFFF0 = 0 with CF ZF PF AF=0
        assert_eq!(m.regs.eflags(), FLAG_FIXED1 | FLAG_CF | FLAG_ZF | FLAG_PF);
        assert_eq!(
            m.calls,
            vec![Call::Chain {
                target: 0x100C,
                eip: 0x100C
            }],
            "no memory helper on a TLB hit"
        );
        assert_eq!(m.regs.eip, 0x100C);
        assert_eq!(m.regs.icount, 1002);
    }

    #[test]
    fn memory_access_on_a_page_missing_from_the_tlb_calls_the_helpers() {
        let mut m = Machine::new();
        m.write(MISS_PAGE + 0x10, 4, 0x1111_1111);
        m.regs.gpr[EBX] = MISS_PAGE;
        m.regs.gpr[ECX] = 0x2222_2222;
        // mov eax, [ebx+0x10]; add [ebx+0x14], ecx; movzx edx, byte [ebx+0x12]
        let code = [0x8B, 0x43, 0x10, 0x01, 0x4B, 0x14, 0x0F, 0xB6, 0x53, 0x12];
        m.run(&code);
        assert_eq!(m.r(EAX), 0x1111_1111);
        assert_eq!(m.read(MISS_PAGE + 0x14, 4), 0x2222_2222);
        assert_eq!(m.r(EDX), 0x11);
        let ds = sreg::DS as u8;
        assert_eq!(
            m.calls,
            vec![
                Call::Load {
                    eip: 0x1000,
                    seg: ds,
                    size: 4,
                    offset: MISS_PAGE + 0x10
                },
                Call::Load {
                    eip: 0x1003,
                    seg: ds,
                    size: 4,
                    offset: MISS_PAGE + 0x14
                },
                Call::Store {
                    eip: 0x1003,
                    seg: ds,
                    size: 4,
                    offset: MISS_PAGE + 0x14,
                    value: 0x2222_2222
                },
                Call::Load {
                    eip: 0x1006,
                    seg: ds,
                    size: 1,
                    offset: MISS_PAGE + 0x12
                },
                Call::Chain {
                    target: 0x100A,
                    eip: 0x100A
                },
            ]
        );
        assert_eq!(m.regs.eflags(), FLAG_FIXED1 | FLAG_PF, "0x22222222 + 0");
    }

    #[test]
    fn an_access_straddling_into_a_missing_page_takes_the_helper() {
        let mut m = Machine::new();
        m.write(MISS_PAGE - 2, 4, 0xAABB_CCDD);
        // mov eax, [MISS_PAGE - 2]
        let mut code = vec![0x8B, 0x05];
        code.extend(le(MISS_PAGE - 2));
        m.run(&code);
        assert_eq!(m.r(EAX), 0xAABB_CCDD);
        assert!(matches!(m.calls[0], Call::Load { offset, .. } if offset == MISS_PAGE - 2));
    }

    #[test]
    fn mov_movzx_movsx_lea_with_memory_operands() {
        let mut m = Machine::new();
        m.regs.gpr[EBX] = 0x2000;
        m.regs.gpr[ECX] = 3;
        m.write(0x2000 + 12 + 8, 4, 0x8765_4321);
        m.write(0x2001, 1, 0xF0);
        m.write(0x2002, 2, 0x8001);
        let code = [
            0x8B, 0x44, 0x8B, 0x08, // mov eax, [ebx+ecx*4+8]
            0x0F, 0xB6, 0x53, 0x01, // movzx edx, byte [ebx+1]
            0x0F, 0xBF, 0x73, 0x02, // movsx esi, word [ebx+2]
            0x8D, 0x7C, 0x58, 0x10, // lea edi, [eax+ebx*2+0x10]
            0x89, 0x43, 0x40, // mov [ebx+0x40], eax
            0xC6, 0x43, 0x44, 0x5A, // mov byte [ebx+0x44], 0x5A
            0x66, 0x89, 0x73, 0x46, // mov [ebx+0x46], si
            0x0F, 0xBE, 0x4B, 0x01, // movsx ecx, byte [ebx+1]
        ];
        m.regs.set_eflags(SYSTEM | FLAG_CF | FLAG_ZF);
        m.run(&code);
        assert_eq!(m.r(EAX), 0x8765_4321);
        assert_eq!(m.r(EDX), 0xF0);
        assert_eq!(m.r(ESI), 0xFFFF_8001);
        assert_eq!(m.r(EDI), 0x8765_4321u32.wrapping_add(0x4000 + 0x10));
        assert_eq!(m.r(ECX), 0xFFFF_FFF0);
        assert_eq!(m.read(0x2040, 4), 0x8765_4321);
        assert_eq!(m.read(0x2044, 1), 0x5A);
        assert_eq!(m.read(0x2045, 1), 0, "a byte store writes one byte");
        assert_eq!(m.read(0x2046, 4), 0x8001);
        assert_eq!(
            m.regs.eflags(),
            SYSTEM | FLAG_CF | FLAG_ZF,
            "moves keep flags"
        );
        assert_eq!(m.calls.len(), 1, "{:?}", m.calls);
        assert_eq!(m.regs.icount, 1008);
    }

    // ---- stack, calls, branches --------------------------------------------

    #[test]
    fn push_pop() {
        let mut m = Machine::new();
        m.regs.gpr[EAX] = 0xCAFE_F00D;
        // push eax; push 0x12345678; push -2 (6A FE); pop ecx; pop edx; push word 0x1234 (66 68)
        let code = [
            0x50, 0x68, 0x78, 0x56, 0x34, 0x12, 0x6A, 0xFE, 0x59, 0x5A, 0x66, 0x68, 0x34, 0x12,
        ];
        m.run(&code);
        assert_eq!(m.r(ECX), 0xFFFF_FFFE);
        assert_eq!(m.r(EDX), 0x1234_5678);
        assert_eq!(m.r(ESP), 0x8000 - 4 - 2);
        assert_eq!(m.read(0x7FFC, 4), 0xCAFE_F00D);
        assert_eq!(m.read(0x7FFA, 2), 0x1234);
        assert_eq!(m.regs.icount, 1006);
    }

    #[test]
    fn call_pushes_the_return_address_and_exits_to_the_target() {
        let mut m = Machine::new();
        // call 0x1100 (E8 rel32 from 0x1005)
        let code = [0xE8, 0xFB, 0x00, 0x00, 0x00];
        m.run(&code);
        assert_eq!(m.regs.eip, 0x1100);
        assert_eq!(m.r(ESP), 0x7FFC);
        assert_eq!(m.read(0x7FFC, 4), 0x1005);
        assert_eq!(
            m.calls,
            vec![Call::Chain {
                target: 0x1100,
                eip: 0x1100
            }]
        );
    }

    #[test]
    fn ret_pops_the_target_and_looks_it_up() {
        let mut m = Machine::new();
        m.regs.gpr[ESP] = 0x7FF0;
        m.write(0x7FF0, 4, 0x0000_3456);
        // ret
        m.run(&[0xC3]);
        assert_eq!(m.fault, None);
        assert_eq!(m.regs.eip, 0x3456);
        assert_eq!(m.r(ESP), 0x7FF4);
        assert_eq!(m.calls, vec![Call::Lookup { eip: 0x3456 }]);
        assert_eq!(m.regs.icount, 1001);
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

    // ---- 16-bit code -------------------------------------------------------

    #[test]
    fn operand_size_prefix_in_32bit_code() {
        let mut m = Machine::new();
        m.regs.gpr[EAX] = 0x1234_FFFF;
        m.regs.gpr[EBX] = 0x0000_0001;
        // add ax, bx; inc cx (66 FF C1)
        m.regs.gpr[ECX] = 0xABCD_7FFF;
        m.run(&[0x66, 0x01, 0xD8, 0x66, 0xFF, 0xC1]);
        assert_eq!(m.r(EAX), 0x1234_0000);
        assert_eq!(m.r(ECX), 0xABCD_8000);
        // inc 0x7FFF: OF SF AF PF(0x00 low byte), CF from the add (0xFFFF+1)
        assert_eq!(
            m.regs.eflags(),
            FLAG_FIXED1 | FLAG_CF | FLAG_OF | FLAG_SF | FLAG_AF | FLAG_PF
        );
    }

    #[test]
    fn real_mode_block_uses_segment_bases_and_16bit_wrap() {
        let mut m = Machine::with_segs(super::common::real16());
        // DS base 0x2000, SS base 0x7000 (SP 0x1000), CS base 0x1000.
        m.write(0x2010, 2, 0x7FFF);
        m.regs.gpr[EBX] = 0xDEAD_0020;
        m.regs.gpr[ESI] = 0xFFF0;
        let code = [
            0x8B, 0x00, // mov ax, [bx+si]   (0x20 + 0xFFF0 wraps to 0x10)
            0x83, 0xC0, 0x01, // add ax, 1
            0x89, 0x06, 0x12, 0x00, // mov [0x12], ax
            0x50, // push ax
            0x66, 0x05, 0x00, 0x00, 0x01, 0x00, // add eax, 0x10000
        ];
        m.load_code(0, &code);
        m.run_block(code.len());
        assert_eq!(m.r(EAX), 0x0001_8000);
        assert_eq!(m.read(0x2012, 2), 0x8000);
        assert_eq!(m.r(ESP), 0x0FFE);
        assert_eq!(m.read(0x7FFE, 2), 0x8000);
        assert_eq!(m.regs.eip, code.len() as u32);
        assert_eq!(
            m.regs.eflags(),
            FLAG_FIXED1 | FLAG_PF,
            "0x8000 + 0x10000: only PF (low byte 0)"
        );
        assert_eq!(m.calls.len(), 1, "all hits: {:?}", m.calls);
    }

    #[test]
    fn real_mode_access_beyond_the_segment_limit_takes_the_helper() {
        let mut m = Machine::with_segs(super::common::real16());
        m.regs.seg[sreg::DS].limit = 0x0FFF;
        m.write(0x2000 + 0x0FFE, 4, 0x4433_2211);
        // mov ax, [0x0FFF]: one byte past the limit -> checked path
        let code = [0x8B, 0x06, 0xFF, 0x0F];
        m.load_code(0, &code);
        m.run_block(code.len());
        assert_eq!(
            m.calls[0],
            Call::Load {
                eip: 0,
                seg: sreg::DS as u8,
                size: 2,
                offset: 0x0FFF
            }
        );
        assert_eq!(m.r(EAX) & 0xFFFF, 0x3322);
    }

    // ---- fallback, faults, budget, attention --------------------------------

    #[test]
    fn fallback_instruction_calls_the_helper_with_its_site() {
        let mut m = Machine::new();
        // mov eax, 0x11223344; bswap eax; add eax, 1
        let code = [0xB8, 0x44, 0x33, 0x22, 0x11, 0x0F, 0xC8, 0x83, 0xC0, 0x01];
        m.run(&code);
        assert_eq!(m.r(EAX), 0x4433_2212);
        assert_eq!(
            m.calls[0],
            Call::Fallback {
                eip: 0x1005,
                next_eip: 0x1007,
                rem: 1,
                handler: HANDLER,
                mnemonic: Mnemonic::Bswap,
                ip: 0
            }
        );
        assert_eq!(m.regs.eip, 0x100A);
        assert_eq!(m.regs.icount, 1003);
    }

    #[test]
    fn fallback_that_faults_ends_the_block_at_its_instruction() {
        let mut m = Machine::new();
        // inc eax; ud2 (ends the block); inc ebx
        let code = [0x40, 0x0F, 0x0B, 0x43];
        m.run(&code);
        assert_eq!(m.fault, Some((6, 0x1001)));
        assert_eq!(m.regs.eip, 0x1001);
        assert_eq!((m.r(EAX), m.r(EBX)), (1, 0), "inc ebx did not run");
        assert_eq!(m.regs.icount, 1002, "inc and the faulting ud2");
        assert_eq!(m.calls.len(), 1);
    }

    #[test]
    fn faulting_push_leaves_esp_and_flags_of_the_faulting_instruction() {
        let mut m = Machine::new();
        m.regs.gpr[ESP] = FAULT_PAGE + 0x10;
        m.regs.gpr[EAX] = 0xFFFF_FFFF;
        m.regs.gpr[EBX] = 1;
        // add eax, ebx; push ecx; inc edx
        m.run(&[0x01, 0xD8, 0x51, 0x42]);
        assert_eq!(m.fault, Some((PF, 0x1002)));
        assert_eq!(m.regs.eip, 0x1002);
        assert_eq!(m.r(ESP), FAULT_PAGE + 0x10, "ESP not yet decremented");
        assert_eq!(m.r(EAX), 0);
        assert_eq!(
            m.regs.eflags(),
            FLAG_FIXED1 | FLAG_CF | FLAG_ZF | FLAG_PF | FLAG_AF,
            "the add's flags"
        );
        assert_eq!(m.r(EDX), 0, "nothing after the fault ran");
        assert_eq!(m.regs.icount, 1002);
    }

    #[test]
    fn faulting_store_of_a_read_modify_write_leaves_flags_and_memory() {
        let mut m = Machine::new();
        m.write(RO_PAGE, 4, 0xFFFF_FFFF);
        m.regs.gpr[EAX] = 1;
        m.regs.gpr[EBX] = 1;
        // add eax, ebx; add dword [RO_PAGE], 1; inc ecx
        let mut code = vec![0x01, 0xD8, 0x83, 0x05];
        code.extend(le(RO_PAGE));
        code.extend([0x01, 0x41]);
        m.run(&code);
        assert_eq!(m.fault, Some((PF, 0x1002)));
        assert_eq!(m.regs.eip, 0x1002);
        assert_eq!(m.read(RO_PAGE, 4), 0xFFFF_FFFF);
        assert_eq!(
            m.regs.eflags(),
            FLAG_FIXED1,
            "flags of add 1+1, not of the RMW"
        );
        assert_eq!(m.r(ECX), 0);
        // The read of the RMW goes through the write view of the TLB (the
        // page has no write entry) and faults there, checked as a write:
        // the store is never reached.
        assert!(matches!(
            m.calls.as_slice(),
            [Call::Load { eip: 0x1002, .. }]
        ));
    }

    #[test]
    fn faulting_load_exits_with_nothing_written() {
        let mut m = Machine::new();
        m.regs.gpr[EBX] = FAULT_PAGE;
        m.regs.gpr[EAX] = 0x55;
        // mov eax, [ebx]; inc eax
        m.run(&[0x8B, 0x03, 0x40]);
        assert_eq!(m.fault, Some((PF, 0x1000)));
        assert_eq!(m.regs.eip, 0x1000);
        assert_eq!(m.r(EAX), 0x55);
        assert_eq!(m.regs.icount, 1001);
    }

    #[test]
    fn instruction_budget_is_checked_on_block_entry() {
        // 3 instructions: inc eax; inc eax; inc eax
        let code = [0x40, 0x40, 0x40];
        let mut m = Machine::new();
        m.regs.icount_limit = 1002;
        m.run(&code);
        assert_eq!((m.r(EAX), m.regs.eip, m.regs.icount), (0, 0x1000, 1000));
        assert!(m.calls.is_empty(), "the block did not start");
        m.regs.icount_limit = 1003;
        m.run(&code);
        assert_eq!((m.r(EAX), m.regs.eip, m.regs.icount), (3, 0x1003, 1003));
    }

    #[test]
    fn a_store_raising_attention_leaves_after_its_instruction() {
        let mut m = Machine::new();
        m.smc_pages.push(MISS_PAGE);
        m.regs.gpr[EBX] = MISS_PAGE;
        // inc eax; mov [ebx], eax; inc eax; inc eax
        m.run(&[0x40, 0x89, 0x03, 0x40, 0x40]);
        assert_eq!(m.read(MISS_PAGE, 4), 1);
        assert_eq!(m.r(EAX), 1, "the incs after the store did not run");
        assert_eq!(m.regs.eip, 0x1003);
        assert_eq!(m.regs.icount, 1002);
    }

    // ---- chaining and lookup -----------------------------------------------

    /// 0x1000: dec ecx; jnz 0x1000
    const LOOP: [u8; 3] = [0x49, 0x75, 0xFD];

    #[test]
    fn chained_loop_runs_to_its_end_in_one_entry() {
        let mut m = Machine::new();
        m.linking = true;
        m.regs.gpr[ECX] = 10;
        m.run(&LOOP);
        assert_eq!(m.r(ECX), 0);
        assert_eq!(m.regs.eip, 0x1003);
        assert_eq!(m.regs.icount, 1020);
        assert_eq!(
            m.calls,
            vec![
                Call::Chain {
                    target: 0x1000,
                    eip: 0x1000
                },
                Call::Chain {
                    target: 0x1003,
                    eip: 0x1003
                },
            ],
            "the back edge was patched after its first use"
        );
    }

    #[test]
    fn chained_loop_stops_at_the_budget_with_eip_at_the_next_block() {
        let mut m = Machine::new();
        m.linking = true;
        m.regs.gpr[ECX] = 10;
        m.regs.icount_limit = 1008;
        m.run(&LOOP);
        assert_eq!(m.r(ECX), 6, "four iterations fit in the budget");
        assert_eq!(m.regs.eip, 0x1000);
        assert_eq!(m.regs.icount, 1008);
        // The budget is raised: the patched jump is taken straight away.
        m.regs.icount_limit = u64::MAX;
        m.calls.clear();
        m.run(&LOOP);
        assert_eq!((m.r(ECX), m.regs.eip, m.regs.icount), (0, 0x1003, 1020));
        assert_eq!(
            m.calls,
            vec![Call::Chain {
                target: 0x1003,
                eip: 0x1003
            }]
        );
    }

    #[test]
    fn ret_continues_in_the_block_the_lookup_finds() {
        let mut m = Machine::new();
        m.linking = true;
        m.load_code(0x1100, &[0x40]); // inc eax
        m.translate_at(0x1100, 1);
        m.regs.gpr[ESP] = 0x7FF0;
        m.write(0x7FF0, 4, 0x1100);
        m.run(&[0xC3]);
        assert_eq!(m.r(EAX), 1);
        assert_eq!(m.regs.eip, 0x1101);
        assert_eq!(m.r(ESP), 0x7FF4);
        assert_eq!(m.regs.icount, 1002);
        assert_eq!(
            m.calls,
            vec![
                Call::Lookup { eip: 0x1100 },
                Call::Chain {
                    target: 0x1101,
                    eip: 0x1101
                }
            ]
        );
    }

    #[test]
    fn block_ends_at_the_length_cap() {
        let mut m = Machine::new();
        let code = [0x40u8; 70];
        let n = m.run(&code);
        assert_eq!(n, btvm_jit::translate::MAX_BLOCK_INSTRUCTIONS);
        assert_eq!(m.r(EAX), n as u32);
        assert_eq!(m.regs.eip, 0x1000 + n as u32);
        assert_eq!(m.regs.icount, 1000 + n as u64);
    }
}
