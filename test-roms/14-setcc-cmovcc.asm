; 14-setcc-cmovcc: all 16 condition codes (o no b ae e ne be a s ns p np l ge
; le g, in opcode order) through SETcc (register and memory), CMOVcc (16/32
; bit, register and memory source), Jcc short (7x) and Jcc near (0F 8x), for
; 11 flag combinations. Each run stores 16 result bytes per instruction kind
; and compares them with the expected truth table (bit i = condition i).
; Neither SETcc nor CMOVcc may change the flags.
%include "test.inc"

RES_SET   equ SCRATCH + 0x00        ; setcc r/m8 into memory
RES_SETR  equ SCRATCH + 0x10        ; setcc into a register
RES_CMOV  equ SCRATCH + 0x20        ; cmovcc r16, r16
RES_CMOVM equ SCRATCH + 0x30        ; cmovcc r32, m32
RES_JS    equ SCRATCH + 0x40        ; jcc rel8
RES_JN    equ SCRATCH + 0x50        ; jcc rel16
ONE32     equ SCRATCH + 0x60        ; dword 1

%macro SET_ALL 16
%assign %%i 0
%rep 16
    set%1 byte [RES_SET + %%i]
    %rotate 1
%assign %%i %%i + 1
%endrep
%endmacro

%macro SETR_ALL 16
%assign %%i 0
%rep 16
    mov dl, 0xAA
    set%1 dl
    mov [RES_SETR + %%i], dl
    %rotate 1
%assign %%i %%i + 1
%endrep
%endmacro

%macro CMOV_ALL 16
%assign %%i 0
%rep 16
    mov ax, 0
    mov bx, 1
    cmov%1 ax, bx
    mov [RES_CMOV + %%i], al
    mov ecx, 0xFFFFFF00
    cmov%1 ecx, [ONE32]
    mov [RES_CMOVM + %%i], cl
    %rotate 1
%assign %%i %%i + 1
%endrep
%endmacro

; Jcc short: "mov byte [m], imm8" is 5 bytes (C6 06 lo hi imm), so a taken
; jump to $ + 2 + 5 skips the store of 0.
%macro JCC_ALL 16
%assign %%i 0
%rep 16
    mov byte [RES_JS + %%i], 1
    j%1 short $ + 7
    mov byte [RES_JS + %%i], 0
    mov byte [RES_JN + %%i], 1
    j%1 near $ + 9
    mov byte [RES_JN + %%i], 0
    %rotate 1
%assign %%i %%i + 1
%endrep
%endmacro

%define CONDS o, no, b, ae, e, ne, be, a, s, ns, p, np, l, ge, le, g

; CHECK_CONDS flags, expected
%macro CHECK_CONDS 2
    SETF %1
    SET_ALL CONDS
    ASSERT_FLAGS F_ARITH, (%1) & F_ARITH
    SETF %1
    SETR_ALL CONDS
    ASSERT_FLAGS F_ARITH, (%1) & F_ARITH
    SETF %1
    CMOV_ALL CONDS
    ASSERT_FLAGS F_ARITH, (%1) & F_ARITH
    SETF %1
    JCC_ALL CONDS
    mov ax, %2
    mov si, RES_SET
    call check_results
    mov si, RES_SETR
    call check_results
    mov si, RES_CMOV
    call check_results
    mov si, RES_CMOVM
    call check_results
    mov si, RES_JS
    call check_results
    mov si, RES_JN
    call check_results
%endmacro

ROM_START "14-setcc-cmovcc"
    mov dword [ONE32], 1
    jmp tests

; check_results: SI = 16 result bytes, AX = expected bits. On a mismatch the
; register dump shows SI = the wrong byte (its offset in the block is the
; condition number) and DL = the expected value.
check_results:
    push ax
    push cx
    push si
    mov cx, 16
.next:
    mov dl, al
    and dl, 1
    cmp [si], dl
    ASSERT_E
    shr ax, 1
    inc si
    loop .next
    pop si
    pop cx
    pop ax
    ret

tests:
    TEST "no flags"
    CHECK_CONDS 0, 0xAAAA
    TEST "CF"
    CHECK_CONDS F_CF, 0xAA66
    TEST "ZF"
    CHECK_CONDS F_ZF, 0x6A5A
    TEST "SF"
    CHECK_CONDS F_SF, 0x59AA
    TEST "OF"
    CHECK_CONDS F_OF, 0x5AA9
    TEST "PF"
    CHECK_CONDS F_PF, 0xA6AA
    TEST "SF OF"
    CHECK_CONDS F_SF | F_OF, 0xA9A9
    TEST "ZF SF"
    CHECK_CONDS F_ZF | F_SF, 0x595A
    TEST "CF ZF"
    CHECK_CONDS F_CF | F_ZF, 0x6A56
    TEST "ZF OF"
    CHECK_CONDS F_ZF | F_OF, 0x5A59
    TEST "all flags"
    CHECK_CONDS F_ARITH, 0x6555

    TEST "cmov 32-bit false keeps the destination"
    mov eax, 0x12345678
    mov ebx, 0x9ABCDEF0
    SETF 0
    cmovz eax, ebx
    ASSERT_EQ eax, 0x12345678
    SETF F_ZF
    cmovz eax, ebx
    ASSERT_EQ eax, 0x9ABCDEF0

    TEST "conditions after a real compare"
    mov ax, 5
    cmp ax, 7                       ; 5 < 7 signed and unsigned
    setb bl
    setl bh
    ASSERT_EQ bx, 0x0101
    mov ax, -1
    cmp ax, 1                       ; 0xFFFF > 1 unsigned, -1 < 1 signed
    seta bl
    setl bh
    ASSERT_EQ bx, 0x0101
    cmp ax, -1
    sete bl
    setbe bh
    ASSERT_EQ bx, 0x0101

    PASS_ALL

ROM_END
