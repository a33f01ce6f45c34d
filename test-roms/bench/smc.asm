; smc: self-modifying code. The loop runs from RAM (copied from the ROM to
; CODE_RAM); each iteration stores the counter into the immediate of a
; `mov ebx, imm32` in the loop body, executes it, and checks that the new
; immediate took effect.
%include "bench.inc"

CODE_RAM equ 0x30000
%define RAM(label) (CODE_RAM + (label) - smc_code)

BENCH_START 1500000
    mov esi, smc_code
    mov edi, CODE_RAM
    mov ecx, smc_code_end - smc_code
    rep movsb
    mov ebp, ITERS
    mov eax, CODE_RAM
    jmp eax

smc_code:
    test ebp, ebp
    jz .back
.loop:
    mov [RAM(..@patched) + 1], ebp     ; the imm32 of the mov below
..@patched:
    mov ebx, 0xDEADBEEF
    cmp ebx, ebp
    jne .stale
    dec ebp
    jnz .loop
.back:
    mov eax, smc_done
    jmp eax
.stale:
    mov eax, smc_stale
    jmp eax
smc_code_end:

smc_done:
    BENCH_DONE
smc_stale:
    BENCH_FAIL "smc: executed a stale instruction"
BENCH_END
