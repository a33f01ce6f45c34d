; alu: integer ALU work on registers only: add/sub/xor/and/or/inc/dec/shl/
; shr/cmp/jcc, 16 instructions per iteration, no memory accesses.
%include "bench.inc"

BENCH_START 1500000
    mov eax, 0x12345678
    mov ebx, 0x9ABCDEF0
    mov ecx, 0x0F0F0F0F
    mov edx, 1
    mov ebp, ITERS
    test ebp, ebp
    jz .done
.loop:
    add eax, ebx
    sub ebx, ecx
    xor ecx, eax
    and edx, eax
    or edx, 0x11
    inc esi
    shl eax, 3
    add eax, esi
    shr ebx, 1
    xor ebx, edx
    dec edi
    cmp eax, ebx
    jb .below
    add ecx, 7
.below:
    dec ebp
    jnz .loop
.done:
    BENCH_DONE
BENCH_END
