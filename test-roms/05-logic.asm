; 05-logic: and/or/xor/test/not. CF and OF are always cleared, SF/ZF/PF follow
; the result, AF is undefined (not checked). not changes no flags.
%include "test.inc"

DATA equ SCRATCH
LOGIC_FLAGS equ F_CF | F_OF | F_SF | F_ZF | F_PF   ; AF is undefined

; LOGIC op, reg, a, b, result, flags
%macro LOGIC 6
    mov %2, %3
    SETF (~(%6)) & LOGIC_FLAGS
    %1 %2, %4
    ASSERT_FLAGS LOGIC_FLAGS, %6
    ASSERT_EQ %2, %5
%endmacro

ROM_START "05-logic"

    TEST "and"
    LOGIC and, al, 0xF0, 0x3C, 0x30, F_PF
    LOGIC and, al, 0xF0, 0x0F, 0x00, F_ZF | F_PF
    LOGIC and, bl, 0xFF, 0x80, 0x80, F_SF
    LOGIC and, ax, 0xFFFF, 0x8001, 0x8001, F_SF
    LOGIC and, cx, 0x1234, byte -1, 0x1234, 0
    LOGIC and, dx, 0xFFFF, byte 0x7F, 0x007F, 0
    LOGIC and, eax, 0xFFFFFFFF, 0x80000003, 0x80000003, F_SF | F_PF
    LOGIC and, esi, 0x12345678, 0, 0, F_ZF | F_PF

    TEST "or"
    LOGIC or, al, 0x00, 0x00, 0x00, F_ZF | F_PF
    LOGIC or, al, 0x01, 0x80, 0x81, F_SF | F_PF
    LOGIC or, bh, 0x10, 0x01, 0x11, F_PF
    LOGIC or, ax, 0x0100, 0x0001, 0x0101, 0
    LOGIC or, di, 0x0000, byte -2, 0xFFFE, F_SF
    LOGIC or, edx, 0x00010000, 0x80000000, 0x80010000, F_SF | F_PF
    LOGIC or, ebp, 0, 0, 0, F_ZF | F_PF

    TEST "xor"
    LOGIC xor, al, 0xFF, 0xFF, 0x00, F_ZF | F_PF
    LOGIC xor, al, 0xAA, 0x55, 0xFF, F_SF | F_PF
    LOGIC xor, cl, 0x01, 0x03, 0x02, 0
    LOGIC xor, bx, 0x8000, 0x0001, 0x8001, F_SF
    LOGIC xor, eax, 0xFFFFFFFF, 0x0000FFFF, 0xFFFF0000, F_SF | F_PF
    LOGIC xor, edi, 0x12345678, 0x12345678, 0, F_ZF | F_PF
    mov eax, 0xDEADBEEF
    SETF F_CF | F_OF
    xor eax, eax
    ASSERT_FLAGS LOGIC_FLAGS, F_ZF | F_PF
    ASSERT_EQ eax, 0

    TEST "test"
    LOGIC test, al, 0xF0, 0x0F, 0xF0, F_ZF | F_PF
    LOGIC test, al, 0x81, 0x80, 0x81, F_SF
    LOGIC test, bx, 0x1234, 0x1000, 0x1234, F_PF
    LOGIC test, ecx, 0x80000000, 0x80000000, 0x80000000, F_SF | F_PF
    mov ax, 0x0003
    mov bx, 0x0001
    SETF F_CF | F_OF | F_ZF
    test ax, bx
    ASSERT_FLAGS LOGIC_FLAGS, 0
    ASSERT_EQ ax, 3

    TEST "memory operands"
    mov word [DATA], 0x0FF0
    and word [DATA], 0x00FF
    ASSERT_FLAGS LOGIC_FLAGS, F_PF
    ASSERT_EQ word [DATA], 0x00F0
    or byte [DATA + 1], 0x80
    ASSERT_FLAGS LOGIC_FLAGS, F_SF
    ASSERT_EQ word [DATA], 0x80F0
    mov dword [DATA], 0xFFFF0000
    mov eax, 0xFFFFFFFF
    xor [DATA], eax
    ASSERT_EQ dword [DATA], 0x0000FFFF
    mov bx, 0x00F0
    and bx, [DATA]
    ASSERT_EQ bx, 0x00F0
    SETF F_CF | F_OF
    test byte [DATA + 2], 0xFF
    ASSERT_FLAGS LOGIC_FLAGS, F_ZF | F_PF
    test dword [DATA], 0x00008000   ; PF looks at the low byte (0x00) only
    ASSERT_FLAGS LOGIC_FLAGS, F_PF
    mov cx, 0x0001
    test [DATA], cx
    ASSERT_NZ

    TEST "accumulator short forms"
    mov al, 0x0F
    SETF F_CF | F_OF
    db 0x24, 0x3C                   ; and al, imm8
    ASSERT_FLAGS LOGIC_FLAGS, F_PF
    ASSERT_EQ al, 0x0C
    mov ax, 0x1000
    db 0x0D                         ; or ax, imm16
    dw 0x8000
    ASSERT_EQ ax, 0x9000
    mov eax, 0x0F0F0F0F
    db 0x66, 0x35                   ; xor eax, imm32
    dd 0xFFFFFFFF
    ASSERT_EQ eax, 0xF0F0F0F0
    db 0xA8, 0x01                   ; test al, imm8
    ASSERT_FLAGS LOGIC_FLAGS, F_ZF | F_PF

    TEST "not"
    mov al, 0x0F
    SETF F_ARITH
    not al
    ASSERT_FLAGS F_ARITH, F_ARITH
    ASSERT_EQ al, 0xF0
    mov ax, 0x00FF
    SETF 0
    not ax
    ASSERT_FLAGS F_ARITH, 0
    ASSERT_EQ ax, 0xFF00
    mov eax, 0x12345678
    not eax
    ASSERT_EQ eax, 0xEDCBA987
    mov word [DATA], 0xAAAA
    not word [DATA]
    ASSERT_EQ word [DATA], 0x5555
    mov dword [DATA], 0
    not dword [DATA]
    ASSERT_EQ dword [DATA], 0xFFFFFFFF

    PASS_ALL

ROM_END
