; memcpy: copy a 4 KiB buffer with a mov-load/mov-store loop (two dwords
; per step, 512 steps), not with string instructions. Source 0x20000,
; destination 0x21000. The last dword is checked at the end.
%include "bench.inc"

SRC equ 0x20000
DST equ 0x21000

BENCH_START 3000
    ; fill the source with its own addresses
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
    mov ecx, 512
.copy:
    mov eax, [esi]
    mov edx, [esi + 4]
    mov [edi], eax
    mov [edi + 4], edx
    add esi, 8
    add edi, 8
    dec ecx
    jnz .copy
    dec ebp
    jnz .loop
    cmp dword [DST + 4092], SRC + 4092
    je .done
    BENCH_FAIL "memcpy: wrong data at the end of the destination"
.done:
    BENCH_DONE
BENCH_END
