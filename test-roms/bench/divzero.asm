; divzero: `div ebx` with EBX = 0 raises #DE; the handler counts it, skips
; the 2-byte instruction (F7 F3) by advancing the saved EIP, and IRETs.
%include "bench.inc"

FAULTS equ BV_BASE                  ; dword: #DE taken

BENCH_START 500000
    IDT_SET 0, de_handler
    mov dword [FAULTS], 0
    xor ebx, ebx
    mov ebp, ITERS
    test ebp, ebp
    jz .check
.loop:
    mov eax, ebp
    xor edx, edx
..@fault_insn:
    div ebx
    dec ebp
    jnz .loop
.check:
    cmp dword [FAULTS], ITERS
    je .done
    BENCH_FAIL "divzero: wrong number of #DE"
.done:
    BENCH_DONE

de_handler:
    cmp dword [esp], ..@fault_insn     ; the faulting EIP
    jne .bad
    add dword [esp], 2
    inc dword [FAULTS]
    iretd
.bad:
    BENCH_FAIL "divzero: #DE with the wrong EIP"
BENCH_END
