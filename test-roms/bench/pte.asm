; pte: with paging on, rewrite one PTE each iteration (alternating between
; two physical frames), INVLPG it, and read through the new mapping. The
; frames hold different markers, so a stale TLB entry is detected.
%include "bench.inc"

PAGE   equ 0x201000                 ; the remapped linear page
FRAME0 equ 0x202000                 ; marker 0x11111111 at offset 0
FRAME1 equ 0x203000                 ; marker 0x22222222

BENCH_START 250000
    PAGING_ON
    mov dword [FRAME0], 0x11111111
    mov dword [FRAME1], 0x22222222
    mov ebx, FRAME0 | PTE_P | PTE_RW
    mov esi, 0x11111111
    mov ebp, ITERS
    test ebp, ebp
    jz .done
.loop:
    mov [PTE(PAGE)], ebx
    invlpg [PAGE]
    cmp [PAGE], esi
    jne .stale
    xor ebx, FRAME0 ^ FRAME1
    xor esi, 0x11111111 ^ 0x22222222
    dec ebp
    jnz .loop
.done:
    BENCH_DONE
.stale:
    BENCH_FAIL "pte: read through a stale mapping"
BENCH_END
