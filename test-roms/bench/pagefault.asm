; pagefault: demand paging with paging on. Each iteration reads a page
; that is not present; the #PF handler (checking CR2) maps it and returns
; to the faulting load, which then succeeds; the loop unmaps the page
; again (PTE = 0, INVLPG) for the next iteration.
%include "bench.inc"

PAGE   equ 0x200000                 ; linear = physical
FAULTS equ BV_BASE                  ; dword: #PF taken

BENCH_START 150000
    PAGING_ON
    IDT_SET 14, pf_handler
    mov dword [FAULTS], 0
    mov dword [PTE(PAGE)], 0
    invlpg [PAGE]
    mov ebp, ITERS
    test ebp, ebp
    jz .check
.loop:
    mov eax, [PAGE]                 ; #PF, then again after the mapping
    mov dword [PTE(PAGE)], 0
    invlpg [PAGE]
    dec ebp
    jnz .loop
.check:
    cmp dword [FAULTS], ITERS
    je .done
    BENCH_FAIL "pagefault: wrong number of #PF"
.done:
    BENCH_DONE

pf_handler:
    push eax
    mov eax, cr2
    cmp eax, PAGE
    jne .bad
    mov dword [PTE(PAGE)], PAGE | PTE_P | PTE_RW
    inc dword [FAULTS]
    pop eax
    add esp, 4                      ; the error code
    iretd
.bad:
    BENCH_FAIL "pagefault: #PF at an unexpected address"
BENCH_END
