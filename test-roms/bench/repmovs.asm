; repmovs: copy a 4 KiB buffer with `rep movsd` (1024 dwords) per
; iteration. Source 0x20000, destination 0x21000. The last dword is
; checked at the end.
%include "bench.inc"

SRC equ 0x20000
DST equ 0x21000

BENCH_START 30000
    mov edi, SRC
    mov eax, SRC
    mov ecx, 1024
.fill:
    stosd
    add eax, 4
    loop .fill
    mov ebp, ITERS
    test ebp, ebp
    jz .done
.loop:
    mov esi, SRC
    mov edi, DST
    mov ecx, 1024
    rep movsd
    dec ebp
    jnz .loop
    cmp dword [DST + 4092], SRC + 4092
    je .done
    BENCH_FAIL "repmovs: wrong data at the end of the destination"
.done:
    BENCH_DONE
BENCH_END
