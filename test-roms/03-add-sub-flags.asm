; 03-add-sub-flags: add/sub/cmp results and all six status flags
; (CF OF SF ZF AF PF) on edge values, for 8-, 16- and 32-bit operands and the
; reg/imm/mem encodings. Before each operation the flags are loaded with the
; complement of the expected value, so a flag that is not written is caught.
%include "test.inc"

DATA equ SCRATCH

; ALU op, reg, a, b, result, flags: reg = a; reg op= b; check result, flags.
%macro ALU 6
    mov %2, %3
    SETF (~(%6)) & F_ARITH
    %1 %2, %4
    ASSERT_FLAGS F_ARITH, %6
    ASSERT_EQ %2, %5
%endmacro

; ALUM op, size, a, b, result, flags: same with a memory destination.
%macro ALUM 6
    mov %2 [DATA], %3
    SETF (~(%6)) & F_ARITH
    %1 %2 [DATA], %4
    ASSERT_FLAGS F_ARITH, %6
    ASSERT_EQ %2 [DATA], %5
%endmacro

ROM_START "03-add-sub-flags"

    TEST "add8"
    ALU add, al, 0x01, 0x02, 0x03, F_PF
    ALU add, al, 0x7F, 0x01, 0x80, F_OF | F_SF | F_AF
    ALU add, al, 0xFF, 0x01, 0x00, F_CF | F_ZF | F_AF | F_PF
    ALU add, al, 0x80, 0x80, 0x00, F_CF | F_OF | F_ZF | F_PF
    ALU add, al, 0x0F, 0x01, 0x10, F_AF
    ALU add, bl, 0xFF, 0xFF, 0xFE, F_CF | F_SF | F_AF
    ALU add, ch, 0x80, 0xFF, 0x7F, F_CF | F_OF
    ALU add, dh, 0x00, 0x00, 0x00, F_ZF | F_PF

    TEST "add8 reg/mem forms"
    mov al, 0x40
    mov bl, 0x40
    SETF F_ARITH
    add al, bl
    ASSERT_FLAGS F_ARITH, F_OF | F_SF
    ASSERT_EQ al, 0x80
    mov byte [DATA + 4], 0x08
    mov cl, 0x08
    SETF 0
    add cl, [DATA + 4]
    ASSERT_FLAGS F_ARITH, F_AF
    ASSERT_EQ cl, 0x10
    ALUM add, byte, 0xFE, 0x03, 0x01, F_CF | F_AF

    TEST "add16"
    ALU add, ax, 0x7FFF, 0x0001, 0x8000, F_OF | F_SF | F_AF | F_PF
    ALU add, ax, 0xFFFF, 0x0001, 0x0000, F_CF | F_ZF | F_AF | F_PF
    ALU add, bx, 0x8000, 0x8000, 0x0000, F_CF | F_OF | F_ZF | F_PF
    ALU add, cx, 0x00FF, 0x0001, 0x0100, F_AF | F_PF
    ALU add, dx, 0x1234, 0x4321, 0x5555, F_PF
    ALU add, si, 0x0001, byte -1, 0x0000, F_CF | F_ZF | F_AF | F_PF
    ALU add, di, 0x8000, byte -1, 0x7FFF, F_CF | F_OF | F_PF
    ALUM add, word, 0xFFFE, 0x0003, 0x0001, F_CF | F_AF

    TEST "add32"
    ALU add, eax, 0x7FFFFFFF, 0x00000001, 0x80000000, F_OF | F_SF | F_AF | F_PF
    ALU add, eax, 0xFFFFFFFF, 0x00000001, 0x00000000, F_CF | F_ZF | F_AF | F_PF
    ALU add, ebx, 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFE, F_CF | F_SF | F_AF
    ALU add, ecx, 0x80000000, 0x80000000, 0x00000000, F_CF | F_OF | F_ZF | F_PF
    ALU add, edx, 0x0000FFFF, 0x00000001, 0x00010000, F_AF | F_PF
    ALU add, esi, 0x12345678, 0x11111111, 0x23456789, 0
    ALU add, edi, 0x00000010, byte -0x10, 0x00000000, F_CF | F_ZF | F_PF
    ALUM add, dword, 0xFFFFFFF0, 0x00000011, 0x00000001, F_CF

    TEST "sub8"
    ALU sub, al, 0x03, 0x02, 0x01, 0
    ALU sub, al, 0x00, 0x01, 0xFF, F_CF | F_SF | F_AF | F_PF
    ALU sub, al, 0x80, 0x01, 0x7F, F_OF | F_AF
    ALU sub, bl, 0x7F, 0xFF, 0x80, F_CF | F_OF | F_SF
    ALU sub, cl, 0x05, 0x05, 0x00, F_ZF | F_PF
    ALU sub, dl, 0x10, 0x01, 0x0F, F_AF | F_PF
    ALU sub, ah, 0x01, 0x80, 0x81, F_CF | F_OF | F_SF | F_PF
    ALUM sub, byte, 0x20, 0x21, 0xFF, F_CF | F_SF | F_AF | F_PF

    TEST "sub16"
    ALU sub, ax, 0x8000, 0x0001, 0x7FFF, F_OF | F_AF | F_PF
    ALU sub, bx, 0x0000, 0x0001, 0xFFFF, F_CF | F_SF | F_AF | F_PF
    ALU sub, cx, 0x1000, 0x1000, 0x0000, F_ZF | F_PF
    ALU sub, dx, 0x0100, 0x0001, 0x00FF, F_AF | F_PF
    ALU sub, bp, 0x7FFF, byte -1, 0x8000, F_CF | F_OF | F_SF | F_PF
    ALUM sub, word, 0x0005, 0x0007, 0xFFFE, F_CF | F_SF | F_AF

    TEST "sub32"
    ALU sub, eax, 0x00000000, 0x00000001, 0xFFFFFFFF, F_CF | F_SF | F_AF | F_PF
    ALU sub, ebx, 0x80000000, 0x00000001, 0x7FFFFFFF, F_OF | F_AF | F_PF
    ALU sub, ecx, 0x12345678, 0x12345678, 0x00000000, F_ZF | F_PF
    ALU sub, edx, 0x00010000, 0x00000001, 0x0000FFFF, F_AF | F_PF
    ALU sub, esi, 0x7FFFFFFF, 0xFFFFFFFF, 0x80000000, F_CF | F_OF | F_SF | F_PF
    ALUM sub, dword, 0x00000001, 0x00000002, 0xFFFFFFFF, F_CF | F_SF | F_AF | F_PF

    TEST "sub reg, reg (self)"
    mov eax, 0x12345678
    SETF F_CF | F_OF | F_SF | F_AF
    sub eax, eax
    ASSERT_FLAGS F_ARITH, F_ZF | F_PF
    ASSERT_EQ eax, 0

    TEST "cmp leaves operand"
    ALU cmp, al, 0x00, 0x01, 0x00, F_CF | F_SF | F_AF | F_PF
    ALU cmp, al, 0x80, 0x01, 0x80, F_OF | F_AF
    ALU cmp, bx, 0x1234, 0x1234, 0x1234, F_ZF | F_PF
    ALU cmp, cx, 0x7FFF, 0x8000, 0x7FFF, F_CF | F_OF | F_SF | F_PF
    ALU cmp, edx, 0x80000000, 0x00000001, 0x80000000, F_OF | F_AF | F_PF
    ALU cmp, edi, 0x00000005, byte 7, 0x00000005, F_CF | F_SF | F_AF
    ALUM cmp, word, 0x0100, 0x0101, 0x0100, F_CF | F_SF | F_AF | F_PF
    mov word [DATA], 0x0042
    mov ax, 0x0043
    SETF F_ARITH
    cmp ax, [DATA]                  ; reg - mem
    ASSERT_FLAGS F_ARITH, 0
    SETF 0
    cmp [DATA], ax                  ; mem - reg
    ASSERT_FLAGS F_ARITH, F_CF | F_SF | F_AF | F_PF

    TEST "add/sub short accumulator forms"
    mov al, 0xF0
    SETF 0
    db 0x04, 0x20                   ; add al, imm8
    ASSERT_FLAGS F_ARITH, F_CF
    ASSERT_EQ al, 0x10
    mov ax, 0x0001
    SETF 0
    db 0x2D                         ; sub ax, imm16
    dw 0x0002
    ASSERT_FLAGS F_ARITH, F_CF | F_SF | F_AF | F_PF
    ASSERT_EQ ax, 0xFFFF
    mov eax, 0x40000000
    SETF 0
    db 0x66, 0x3D                   ; cmp eax, imm32
    dd 0xC0000000
    ASSERT_FLAGS F_ARITH, F_CF | F_OF | F_SF | F_PF

    PASS_ALL

ROM_END
