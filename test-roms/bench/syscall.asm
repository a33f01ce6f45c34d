; syscall: ring 3 -> ring 0 -> ring 3 through `int 0x80` (a DPL-3 32-bit
; interrupt gate; the TSS supplies the ring-0 stack) and `iretd`. The ring-3
; loop makes ITERS calls with EAX = 0 (the handler counts them), then
; EAX = 1, on which the handler finishes the benchmark at ring 0.
%include "bench.inc"

CALLS equ BV_BASE                   ; dword: system calls taken

BENCH_START 1000000
    IDT_SET 0x80, sys_handler, 0xEE
    mov dword [CALLS], 0
    ; iretd to ring 3: SS, ESP, EFLAGS, CS, EIP
    push dword SEL_DATA3
    push dword STACK3
    push dword 0x2
    push dword SEL_CODE3
    push dword user_code
    mov ax, SEL_DATA3
    mov ds, ax
    mov es, ax
    mov fs, ax
    mov gs, ax
    iretd

user_code:
    mov ebp, ITERS
    xor eax, eax
    test ebp, ebp
    jz .exit
.loop:
    int 0x80
    dec ebp
    jnz .loop
.exit:
    mov eax, 1
    int 0x80
    BENCH_FAIL "syscall: the exit call returned"

sys_handler:
    test eax, eax
    jnz .finish
    inc dword [CALLS]               ; DS is ring 3's flat data segment
    iretd
.finish:
    mov ax, SEL_DATA0
    mov ds, ax
    cmp dword [CALLS], ITERS
    je .ok
    BENCH_FAIL "syscall: wrong number of calls"
.ok:
    BENCH_DONE
BENCH_END
