; portio: `in al, 0x61` / `out 0x80, al` pairs, four per iteration. Port
; 0x61 is system control port B (PIT gate / speaker status, read only
; here) and 0x80 the POST code port, harmless to write.
%include "bench.inc"

BENCH_START 1000000
    mov ebp, ITERS
    test ebp, ebp
    jz .done
.loop:
%rep 4
    in al, 0x61
    out POST_PORT, al
%endrep
    dec ebp
    jnz .loop
.done:
    BENCH_DONE
BENCH_END
