; cr3: with paging on, reload CR3 each iteration (flushing the TLB) and
; touch two pages, so each iteration also pays the TLB refills.
%include "bench.inc"

BENCH_START 100000
    PAGING_ON
    mov ebx, PD_BASE
    mov ebp, ITERS
    test ebp, ebp
    jz .done
.loop:
    mov cr3, ebx
    mov eax, [0x20000]
    add [0x21000], eax
    dec ebp
    jnz .loop
.done:
    BENCH_DONE
BENCH_END
