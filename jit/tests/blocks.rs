//! Translated blocks run standalone on a fake machine (`common`): guest
//! bytes in a flat memory, fake helpers, a TLB that makes the inline fast
//! path hit. Each test checks the final guest registers, EFLAGS, memory,
//! helper calls and exit (next EIP, instruction count) against values
//! computed by hand. Flag results and condition codes are in `flags.rs`.

mod common;

#[cfg(test)]
mod tests {
    use super::common::{Call, Machine, FAULT_PAGE, HANDLER, MISS_PAGE, PF, RO_PAGE};
    use btvm_jit::abi::{gpr, sreg};
    use btvm_jit::flags::{
        FLAG_AF, FLAG_CF, FLAG_DF, FLAG_FIXED1, FLAG_IF, FLAG_OF, FLAG_PF, FLAG_SF, FLAG_ZF,
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
