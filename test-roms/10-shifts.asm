; 10-shifts: shl/shr/sar by 1, by CL and by imm8, counts 0, 1, n, >= width and
; > 31 (masked to 5 bits), for 8/16/32-bit register and memory operands.
; Checked: result, CF (last bit out; not for shl/shr with count >= width, where
; Intel leaves it undefined), OF (only for count 1), SF/ZF/PF. AF is never
; checked (undefined). Count 0 must leave every flag alone.
%include "test.inc"

DATA equ SCRATCH
SZP  equ F_SF | F_ZF | F_PF
C_SZP equ F_CF | SZP
ALL1 equ F_CF | F_OF | SZP

; SH op, reg, a, count, result, mask, flags  (count: 1, imm8, or cl=value)
%macro SH 7
    mov %2, %3
    SETF (~(%7)) & (%6)
    %1 %2, %4
    ASSERT_FLAGS %6, %7
    ASSERT_EQ %2, %5
%endmacro

%macro SHCL 7
    mov cl, %4
    SH %1, %2, %3, cl, %5, %6, %7
%endmacro

; SH0 op, reg, a, count-operand: count 0 changes nothing (checked twice with
; opposite flag states).
%macro SH0 4
    mov %2, %3
    SETF F_ARITH
    %1 %2, %4
    ASSERT_FLAGS F_ARITH, F_ARITH
    ASSERT_EQ %2, %3
    SETF 0
    %1 %2, %4
    ASSERT_FLAGS F_ARITH, 0
    ASSERT_EQ %2, %3
%endmacro

ROM_START "10-shifts"

    TEST "shl8"
    SH shl, al, 0x81, 1, 0x02, ALL1, F_CF | F_OF
    SH shl, al, 0x40, 1, 0x80, ALL1, F_OF | F_SF
    SH shl, bl, 0xC0, 1, 0x80, ALL1, F_CF | F_SF
    SH shl, cl, 0x1F, 4, 0xF0, C_SZP, F_CF | F_SF | F_PF
    SHCL shl, dl, 0x1F, 4, 0xF0, C_SZP, F_CF | F_SF | F_PF
    SHCL shl, al, 0x01, 7, 0x80, C_SZP, F_SF
    SHCL shl, al, 0x01, 8, 0x00, SZP, F_ZF | F_PF
    SHCL shl, ah, 0xFF, 9, 0x00, SZP, F_ZF | F_PF
    SHCL shl, al, 0x01, 33, 0x02, ALL1, 0            ; 33 & 31 = 1

    TEST "shl16"
    SH shl, ax, 0x8001, 1, 0x0002, ALL1, F_CF | F_OF
    SHCL shl, bx, 0x0001, 15, 0x8000, C_SZP, F_SF | F_PF
    SHCL shl, si, 0x0003, 15, 0x8000, C_SZP, F_CF | F_SF | F_PF
    SHCL shl, di, 0x0001, 16, 0x0000, SZP, F_ZF | F_PF
    SH shl, bp, 0x00F0, 4, 0x0F00, C_SZP, F_PF

    TEST "shl32"
    SH shl, eax, 0x80000001, 1, 0x00000002, ALL1, F_CF | F_OF
    SHCL shl, ebx, 0x00000001, 31, 0x80000000, C_SZP, F_SF | F_PF
    SHCL shl, edx, 0x12345678, 36, 0x23456780, C_SZP, F_CF   ; 36 & 31 = 4
    SH shl, esi, 0x0000FFFF, 16, 0xFFFF0000, C_SZP, F_SF | F_PF

    TEST "shr8"
    SH shr, al, 0x81, 1, 0x40, ALL1, F_CF | F_OF
    SH shr, al, 0x01, 1, 0x00, ALL1, F_CF | F_ZF | F_PF
    SH shr, bh, 0x7F, 1, 0x3F, ALL1, F_CF | F_PF
    SHCL shr, al, 0x80, 7, 0x01, C_SZP, 0
    SHCL shr, al, 0xC0, 7, 0x01, C_SZP, F_CF
    SHCL shr, dl, 0x80, 8, 0x00, SZP, F_ZF | F_PF
    SHCL shr, dl, 0xFF, 31, 0x00, SZP, F_ZF | F_PF

    TEST "shr16"
    SHCL shr, ax, 0x8000, 15, 0x0001, C_SZP, 0
    SHCL shr, bx, 0x8000, 16, 0x0000, SZP, F_ZF | F_PF
    SH shr, cx, 0xFFFF, 8, 0x00FF, C_SZP, F_CF | F_PF
    SH shr, dx, 0x8000, 1, 0x4000, ALL1, F_OF | F_PF

    TEST "shr32"
    SHCL shr, eax, 0x80000000, 31, 0x00000001, C_SZP, 0
    SH shr, ebx, 0xFFFFFFFF, 4, 0x0FFFFFFF, C_SZP, F_CF | F_PF
    SH shr, ecx, 0x80000000, 1, 0x40000000, ALL1, F_OF | F_PF
    SHCL shr, edi, 0xF0000000, 60, 0x0000000F, C_SZP, F_PF ; 60 & 31 = 28

    TEST "sar8"
    SH sar, al, 0x81, 1, 0xC0, ALL1, F_CF | F_SF | F_PF
    SH sar, al, 0x7E, 1, 0x3F, ALL1, F_PF
    SHCL sar, bl, 0x80, 7, 0xFF, C_SZP, F_SF | F_PF
    SHCL sar, bl, 0x80, 8, 0xFF, C_SZP, F_CF | F_SF | F_PF
    SHCL sar, ch, 0x80, 31, 0xFF, C_SZP, F_CF | F_SF | F_PF
    SHCL sar, dh, 0x7F, 31, 0x00, C_SZP, F_ZF | F_PF

    TEST "sar16"
    SHCL sar, ax, 0x8000, 20, 0xFFFF, C_SZP, F_CF | F_SF | F_PF
    SH sar, bx, 0x8000, 15, 0xFFFF, C_SZP, F_SF | F_PF
    SH sar, cx, 0x4000, 1, 0x2000, ALL1, F_PF
    SHCL sar, dx, 0x7FFF, 16, 0x0000, C_SZP, F_ZF | F_PF

    TEST "sar32"
    SHCL sar, eax, 0x80000000, 31, 0xFFFFFFFF, C_SZP, F_SF | F_PF
    SHCL sar, ebx, 0x40000000, 31, 0x00000000, C_SZP, F_CF | F_ZF | F_PF
    SH sar, edx, 0xFFFFFFFB, 1, 0xFFFFFFFD, ALL1, F_CF | F_SF   ; -5 >> 1 = -3
    SH sar, esi, 0x12345678, 8, 0x00123456, C_SZP, F_PF

    TEST "count 0 changes nothing"
    SH0 shl, al, 0x81, 0
    SH0 shr, bx, 0x8001, 0
    mov cl, 0
    SH0 sar, edx, 0x80000001, cl
    mov cl, 32
    SH0 shl, esi, 0xFFFFFFFF, cl    ; 32 & 31 = 0
    mov cl, 64
    SH0 shr, ax, 0x1234, cl

    TEST "explicit C0/C1 imm8 encodings"
    mov al, 0x81
    SETF 0
    db 0xC0, 0xE0, 0x01             ; shl al, imm8 1
    ASSERT_FLAGS ALL1, F_CF | F_OF
    ASSERT_EQ al, 0x02
    mov ax, 0x8001
    db 0xC1, 0xE8, 0x01             ; shr ax, imm8 1
    ASSERT_FLAGS ALL1, F_CF | F_OF | F_PF
    ASSERT_EQ ax, 0x4000
    mov eax, 0x80000000
    db 0x66, 0xC1, 0xF8, 0x21       ; sar eax, imm8 33 (masked to 1)
    ASSERT_FLAGS ALL1, F_SF | F_PF
    ASSERT_EQ eax, 0xC0000000

    TEST "memory operands"
    mov word [DATA], 0x4001
    SETF 0
    shl word [DATA], 1
    ASSERT_FLAGS ALL1, F_OF | F_SF
    ASSERT_EQ word [DATA], 0x8002
    mov byte [DATA], 0x90
    mov cl, 4
    sar byte [DATA], cl
    ASSERT_FLAGS C_SZP, F_SF | F_PF
    ASSERT_EQ byte [DATA], 0xF9
    mov dword [DATA], 0x12345678
    shr dword [DATA], 8
    ASSERT_FLAGS C_SZP, F_PF
    ASSERT_EQ dword [DATA], 0x00123456

    PASS_ALL

ROM_END
