; callret: near call/ret pairs nested two deep. Each iteration calls
; outer twice; outer calls inner once: 4 calls and 4 returns.
%include "bench.inc"

BENCH_START 1500000
    mov ebp, ITERS
    test ebp, ebp
    jz .done
.loop:
    call outer
    call outer
    dec ebp
    jnz .loop
%if ITERS > 0
    test eax, eax                   ; grows by 6 per iteration
    jnz .done
    BENCH_FAIL "callret: the calls did not run"
%endif
.done:
    BENCH_DONE

outer:
    add eax, 3
    call inner
    ret

inner:
    xor eax, 1
    ret
BENCH_END
