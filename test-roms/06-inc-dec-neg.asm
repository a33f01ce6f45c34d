; 06-inc-dec-neg: inc/dec (CF preserved, other five status flags written) and
; neg (CF = operand != 0), in 8/16/32-bit register, one-byte 4x/66 4x and
; memory forms.
%include "test.inc"

DATA equ SCRATCH
NOCF equ F_OF | F_SF | F_ZF | F_AF | F_PF

; INCDEC op, reg, a, result, flags(without CF): run with CF=0 and CF=1.
%macro INCDEC 5
    mov %2, %3
    SETF (~(%5)) & NOCF
    %1 %2
    ASSERT_FLAGS F_ARITH, %5
    ASSERT_EQ %2, %4
    mov %2, %3
    SETF ((~(%5)) & NOCF) | F_CF
    %1 %2
    ASSERT_FLAGS F_ARITH, (%5) | F_CF
    ASSERT_EQ %2, %4
%endmacro

; NEG reg, a, result, flags
%macro NEGT 4
    mov %1, %2
    SETF (~(%4)) & F_ARITH
    neg %1
    ASSERT_FLAGS F_ARITH, %4
    ASSERT_EQ %1, %3
%endmacro

ROM_START "06-inc-dec-neg"

    TEST "inc8"
    INCDEC inc, al, 0x00, 0x01, 0
    INCDEC inc, al, 0x7F, 0x80, F_OF | F_SF | F_AF
    INCDEC inc, bl, 0xFF, 0x00, F_ZF | F_AF | F_PF
    INCDEC inc, ch, 0x0F, 0x10, F_AF
    INCDEC inc, dh, 0x02, 0x03, F_PF

    TEST "inc16"
    INCDEC inc, ax, 0x7FFF, 0x8000, F_OF | F_SF | F_AF | F_PF
    INCDEC inc, bx, 0xFFFF, 0x0000, F_ZF | F_AF | F_PF
    INCDEC inc, si, 0x00FF, 0x0100, F_AF | F_PF
    INCDEC inc, di, 0x1234, 0x1235, F_PF
    INCDEC inc, bp, 0x8000, 0x8001, F_SF

    TEST "inc32"
    INCDEC inc, eax, 0x7FFFFFFF, 0x80000000, F_OF | F_SF | F_AF | F_PF
    INCDEC inc, ecx, 0xFFFFFFFF, 0x00000000, F_ZF | F_AF | F_PF
    INCDEC inc, edx, 0x0000FFFF, 0x00010000, F_AF | F_PF
    INCDEC inc, esi, 0x12345678, 0x12345679, 0

    TEST "dec8"
    INCDEC dec, al, 0x80, 0x7F, F_OF | F_AF
    INCDEC dec, al, 0x00, 0xFF, F_SF | F_AF | F_PF
    INCDEC dec, bl, 0x01, 0x00, F_ZF | F_PF
    INCDEC dec, ah, 0x10, 0x0F, F_AF | F_PF
    INCDEC dec, cl, 0x04, 0x03, F_PF

    TEST "dec16"
    INCDEC dec, ax, 0x8000, 0x7FFF, F_OF | F_AF | F_PF
    INCDEC dec, bx, 0x0000, 0xFFFF, F_SF | F_AF | F_PF
    INCDEC dec, cx, 0x0001, 0x0000, F_ZF | F_PF
    INCDEC dec, sp, 0x7001, STACK_TOP, F_PF
    mov sp, STACK_TOP

    TEST "dec32"
    INCDEC dec, eax, 0x80000000, 0x7FFFFFFF, F_OF | F_AF | F_PF
    INCDEC dec, ebx, 0x00000000, 0xFFFFFFFF, F_SF | F_AF | F_PF
    INCDEC dec, edi, 0x00010000, 0x0000FFFF, F_AF | F_PF
    INCDEC dec, ebp, 0x00000001, 0x00000000, F_ZF | F_PF

    TEST "inc/dec memory"
    mov byte [DATA], 0xFF
    SETF F_CF
    inc byte [DATA]
    ASSERT_FLAGS F_ARITH, F_CF | F_ZF | F_AF | F_PF
    ASSERT_EQ byte [DATA], 0
    mov word [DATA], 0x8000
    SETF 0
    dec word [DATA]
    ASSERT_FLAGS F_ARITH, F_OF | F_AF | F_PF
    ASSERT_EQ word [DATA], 0x7FFF
    mov dword [DATA], 0xFFFFFFFF
    inc dword [DATA]
    ASSERT_Z
    ASSERT_EQ dword [DATA], 0

    TEST "inc/dec r16 vs r32 width"
    mov eax, 0x0001FFFF
    inc ax                          ; 16-bit: no carry into bit 16
    ASSERT_EQ eax, 0x00010000
    mov eax, 0x0001FFFF
    inc eax
    ASSERT_EQ eax, 0x00020000
    mov ebx, 0xFFFF0000
    dec bx
    ASSERT_EQ ebx, 0xFFFFFFFF
    mov cx, 0x00FF
    inc cl                          ; 8-bit: no carry into ch
    ASSERT_EQ cx, 0x0000

    TEST "neg"
    NEGT al, 0x00, 0x00, F_ZF | F_PF
    NEGT al, 0x01, 0xFF, F_CF | F_SF | F_AF | F_PF
    NEGT bl, 0x80, 0x80, F_CF | F_OF | F_SF
    NEGT cl, 0x7F, 0x81, F_CF | F_SF | F_AF | F_PF
    NEGT dh, 0x10, 0xF0, F_CF | F_SF | F_PF
    NEGT ax, 0x8000, 0x8000, F_CF | F_OF | F_SF | F_PF
    NEGT bx, 0x0001, 0xFFFF, F_CF | F_SF | F_AF | F_PF
    NEGT si, 0x0000, 0x0000, F_ZF | F_PF
    NEGT eax, 0x00000005, 0xFFFFFFFB, F_CF | F_SF | F_AF
    NEGT edx, 0x80000000, 0x80000000, F_CF | F_OF | F_SF | F_PF
    NEGT edi, 0xFFFFFFFF, 0x00000001, F_CF | F_AF

    TEST "neg memory"
    mov word [DATA], 0x0002
    SETF 0
    neg word [DATA]
    ASSERT_FLAGS F_ARITH, F_CF | F_SF | F_AF
    ASSERT_EQ word [DATA], 0xFFFE
    mov dword [DATA], 0
    SETF F_CF
    neg dword [DATA]
    ASSERT_FLAGS F_ARITH, F_ZF | F_PF
    ASSERT_EQ dword [DATA], 0

    PASS_ALL

ROM_END
