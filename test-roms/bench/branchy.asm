; branchy: data-dependent branches. A 32-bit Galois LFSR (taps 0x80200003)
; steps once per iteration and three of its bits pick the paths of three
; conditional branches, so the branch pattern has no short period.
%include "bench.inc"

BENCH_START 1500000
    mov eax, 0xACE1ACE1             ; LFSR state (never 0)
    xor ebx, ebx
    xor edx, edx
    xor esi, esi
    mov ebp, ITERS
    test ebp, ebp
    jz .done
.loop:
    shr eax, 1
    jnc .no_tap
    xor eax, 0x80200003
.no_tap:
    test al, 2
    jz .a0
    inc ebx
    jmp .a1
.a0:
    dec edx
.a1:
    test al, 8
    jnz .b1
    add esi, eax
.b1:
    test eax, 0x100
    jz .c1
    xor edx, esi
.c1:
    dec ebp
    jnz .loop
    test eax, eax
    jnz .done
    BENCH_FAIL "branchy: the LFSR reached 0"
.done:
    BENCH_DONE
BENCH_END
