; 23-call-jmp-ret: near and far control transfer. call rel16, call r16,
; call m16, call ptr16:16, call m16:16; ret, ret imm16, retf, retf imm16;
; jmp short/near/r16/m16/ptr16:16/m16:16; far transfers to a different CS
; that aliases the same ROM bytes; and the 0x66 near call/ret (32-bit return
; address on the stack).
%include "test.inc"

S equ STACK_TOP
PTR equ SCRATCH                     ; memory for indirect targets
ALIAS_CS equ 0xEF00                 ; EF00:x+0x1000 = F000:x (same physical byte)

ROM_START "23-call-jmp-ret"
    jmp tests

; near function: returns the return address it saw in AX, SP in DX
near_fn:
    mov bp, sp
    mov ax, [bp]
    mov dx, sp
    ret

near_ret4:                          ; ret imm16 drops two pushed words
    mov ax, 0x4444
    ret 4

; far function: returns CS in AX, the pushed IP in BX, pushed CS in CX
far_fn:
    mov bp, sp
    mov ax, cs
    mov bx, [bp]
    mov cx, [bp + 2]
    retf

far_ret2:
    mov ax, cs
    retf 2

; runs at EF00:(far_alias + 0x1000); it must not use absolute ROM data
far_alias:
    mov ax, cs
    retf

o32_fn:
    mov bp, sp
    mov eax, [bp]                   ; 32-bit return address
    o32 ret

tests:
    TEST "call rel16"
    call near_fn
.r1:
    ASSERT_EQ ax, .r1
    ASSERT_EQ dx, S - 2
    ASSERT_EQ sp, S

    TEST "call r16 / m16"
    mov bx, near_fn
    call bx
.r2:
    ASSERT_EQ ax, .r2
    mov word [PTR], near_fn
    call [PTR]
.r3:
    ASSERT_EQ ax, .r3
    mov si, PTR - 2
    call word [si + 2]
.r4:
    ASSERT_EQ ax, .r4
    call [cs:near_table + 2]        ; table in the ROM
.r5:
    ASSERT_EQ ax, .r5
    ASSERT_EQ sp, S

    TEST "ret imm16"
    push word 0x1111
    push word 0x2222
    call near_ret4
    ASSERT_EQ ax, 0x4444
    ASSERT_EQ sp, S

    TEST "call far direct"
    call ROM_SEG:far_fn
.r6:
    ASSERT_EQ ax, ROM_SEG
    ASSERT_EQ bx, .r6
    ASSERT_EQ cx, ROM_SEG
    ASSERT_EQ sp, S

    TEST "call far indirect"
    mov word [PTR], far_fn
    mov word [PTR + 2], ROM_SEG
    call far [PTR]
.r7:
    ASSERT_EQ bx, .r7
    ASSERT_EQ cx, ROM_SEG
    mov di, PTR
    call far [di]
    ASSERT_EQ sp, S

    TEST "retf imm16"
    push word 0x3333
    call ROM_SEG:far_ret2
    ASSERT_EQ ax, ROM_SEG
    ASSERT_EQ sp, S

    TEST "far call into another CS"
    call ALIAS_CS:(far_alias + 0x1000)
    ASSERT_EQ ax, ALIAS_CS
    mov ax, cs
    ASSERT_EQ ax, ROM_SEG
    mov word [PTR], far_alias + 0x1000
    mov word [PTR + 2], ALIAS_CS
    call far [PTR]
    ASSERT_EQ ax, ALIAS_CS

    TEST "jmp short/near"
    jmp short .j1
    FAIL_HERE
.j1:
    jmp near .j2
    FAIL_HERE
.j2:
    TEST "jmp r16 / m16"
    mov ax, .j3
    jmp ax
    FAIL_HERE
.j3:
    mov word [PTR], .j4
    jmp [PTR]
    FAIL_HERE
.j4:
    mov bx, PTR
    mov word [bx + 4], .j5
    jmp [bx + 4]
    FAIL_HERE
.j5:
    TEST "jmp far direct"
    jmp ROM_SEG:.j6
    FAIL_HERE
.j6:
    mov ax, cs
    ASSERT_EQ ax, ROM_SEG

    TEST "jmp far through memory"
    mov word [PTR], .j7
    mov word [PTR + 2], ROM_SEG
    jmp far [PTR]
    FAIL_HERE
.j7:
    ; into the alias CS and back
    mov word [PTR], alias_trampoline + 0x1000
    mov word [PTR + 2], ALIAS_CS
    jmp far [PTR]
    FAIL_HERE
.j8:
    ASSERT_EQ ax, ALIAS_CS
    ASSERT_EQ sp, S

    TEST "o32 call / o32 ret"
    call dword o32_fn               ; 66 E8 rel32 (nasm's "o32 call" emits a rel16)
.r9:
    ASSERT_EQ eax, .r9              ; upper 16 bits of the pushed EIP are 0
    ASSERT_EQ sp, S

    TEST "call pushes the next IP even for prefixed forms"
    mov ebx, PTR
    mov word [PTR], near_fn
    call word [ebx]                 ; 67 FF 13
.r10:
    ASSERT_EQ ax, .r10

    PASS_ALL

near_table: dw 0, near_fn

alias_trampoline:                   ; runs with CS = ALIAS_CS
    mov ax, cs
    jmp ROM_SEG:tests.j8

ROM_END
