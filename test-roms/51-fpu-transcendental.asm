; 51-fpu-transcendental: FSIN, FCOS, FSINCOS, FPTAN, FPATAN, F2XM1, FYL2X,
; FYL2XP1: the exactly defined results (zeros, F2XM1(±1), FYL2X of a power
; of two, the FPTAN push of 1.0), the range check (C2 set, ST(0) unchanged;
; tested at 2^64 here, at exactly 2^63 in 54-fpu-hw-only since QEMU accepts
; 2^63) and a set of values compared in their top 48 significand bits.
;
; Source of the expected values: exact cases by definition (SDM Vol. 2,
; each instruction's table); the others are the true values rounded to
; nearest, computed with mpmath at 300 bits, of which only the top 48 bits
; are compared: the SDM allows the hardware an error below 1 ulp (Vol. 1,
; 8.3.10) and QEMU TCG computes some of these in host doubles (53 bits).
; None of the chosen values is near a carry into bit 16.
%include "test.inc"

D   equ SCRATCH

SW_IE equ 0x0001
SW_C2 equ 0x0400

%macro CHECK_SW 2
    fnstsw ax
    and ax, %1
    ASSERT_EQ ax, %2
%endmacro

; POP_EXACT exp, sig_hi, sig_lo: FSTP m80, compare all ten bytes.
%macro POP_EXACT 3
    fstp tword [D]
    ASSERT_EQ dword [D], %3
    ASSERT_EQ dword [D + 4], %2
    ASSERT_EQ word [D + 8], %1
%endmacro

; POP_48 exp, sig_hi, sig_lo: FSTP m80, compare all but the low 16 bits.
%macro POP_48 3
    fstp tword [D]
    ASSERT_EQ word [D + 2], (%3) >> 16
    ASSERT_EQ dword [D + 4], %2
    ASSERT_EQ word [D + 8], %1
%endmacro

ROM_START "51-fpu-transcendental"

    TEST "trigonometric functions of zero"
    fninit
    fldz
    fsin
    POP_EXACT 0, 0, 0
    fldz
    fchs
    fsin                            ; sign kept
    POP_EXACT 0x8000, 0, 0
    fldz
    fcos
    POP_EXACT 0x3FFF, 0x80000000, 0
    fldz
    fsincos                         ; st0 = cos, st1 = sin
    POP_EXACT 0x3FFF, 0x80000000, 0
    POP_EXACT 0, 0, 0
    fldz
    fptan                           ; st0 = 1.0 pushed, st1 = tan
    POP_EXACT 0x3FFF, 0x80000000, 0
    POP_EXACT 0, 0, 0
    CHECK_SW 0x3800, 0

    TEST "f2xm1 exact cases"
    fld1
    f2xm1                           ; 2^1 - 1 = 1
    POP_EXACT 0x3FFF, 0x80000000, 0
    fld1
    fchs
    f2xm1                           ; 2^-1 - 1 = -0.5
    POP_EXACT 0xBFFE, 0x80000000, 0
    fldz
    f2xm1
    POP_EXACT 0, 0, 0

    TEST "fyl2x fyl2xp1 exact cases"
    fild word [cs:c_i16_3]          ; y
    fild word [cs:c_i16_8]          ; x
    fyl2x                           ; 3 * log2 8 = 9
    fistp word [D]
    ASSERT_EQ word [D], 9
    fld1
    fld1
    fyl2x                           ; 1 * log2 1 = +0
    POP_EXACT 0, 0, 0
    fld1
    fldz
    fyl2xp1                         ; 1 * log2(1 + 0) = +0
    POP_EXACT 0, 0, 0
    CHECK_SW 0x3800, 0

    TEST "fpatan signs and quadrants"
    fldz                            ; y = +0
    fld1                            ; x = 1
    fpatan                          ; +0
    POP_EXACT 0, 0, 0
    fld1                            ; y = 1
    fld1                            ; x = 1
    fpatan                          ; pi/4
    POP_48 0x3FFE, 0xC90FDAA2, 0x2168C235
    fld1
    fld1
    fchs
    fpatan                          ; 3pi/4
    POP_48 0x4000, 0x96CBE3F9, 0x990E91A8
    fldz
    fld1
    fchs
    fpatan                          ; atan2(+0, -1) = pi
    POP_48 0x4000, 0xC90FDAA2, 0x2168C235
    fld1
    fchs
    fldz
    fpatan                          ; atan2(-1, +0) = -pi/2
    POP_48 0xBFFF, 0xC90FDAA2, 0x2168C235

    TEST "operands out of range set C2"
    fld tword [cs:c_f80_2p64]
    fsin
    CHECK_SW SW_C2, SW_C2
    POP_EXACT 0x403F, 0x80000000, 0 ; unchanged
    fld tword [cs:c_f80_2p64]
    fptan                           ; nothing pushed
    CHECK_SW SW_C2 | 0x3800, SW_C2 | (7 << 11)
    fstp st0
    fld tword [cs:c_f80_2p62]
    fcos
    CHECK_SW SW_C2, 0
    fstp st0

    TEST "sin cos tan of 1"
    fld1
    fsin
    POP_48 0x3FFE, 0xD76AA478, 0x48677021
    fld1
    fcos
    POP_48 0x3FFE, 0x8A51407D, 0xA8345C92
    fld1
    fptan
    POP_EXACT 0x3FFF, 0x80000000, 0
    POP_48 0x3FFF, 0xC75922E5, 0xF71D2DC5

    TEST "fsincos of 0.5"
    fld dword [cs:c_f32_0p5]
    fsincos
    POP_48 0x3FFE, 0xE0A94032, 0xDBEA7CEE ; cos
    POP_48 0x3FFD, 0xF57743A2, 0x582F7F44 ; sin

    TEST "f2xm1 of 0.5 and -0.25"
    fld dword [cs:c_f32_0p5]
    f2xm1                           ; sqrt(2) - 1
    POP_48 0x3FFD, 0xD413CCCF, 0xE7799211
    fld dword [cs:c_f32_m0p25]
    f2xm1
    POP_48 0xBFFC, 0xA2EC0CD4, 0xA58A542F

    TEST "fyl2x fyl2xp1 values"
    fld1
    fild word [cs:c_i16_10]
    fyl2x                           ; log2 10
    POP_48 0x4000, 0xD49A784B, 0xCD1B8AFE
    fld1
    fld dword [cs:c_f32_2m10]
    fyl2xp1                         ; log2(1 + 2^-10)
    POP_48 0x3FF5, 0xB89329BA, 0x1FA2A0FD
    fld dword [cs:c_f32_m0p25]      ; y = -0.25
    fild word [cs:c_i16_8]
    fyl2x                           ; -0.25 * 3
    POP_EXACT 0xBFFE, 0xC0000000, 0
    CHECK_SW SW_IE | 0x3800, 0

    PASS_ALL

align 4
c_f32_0p5:      dd 0x3F000000
c_f32_m0p25:    dd 0xBE800000
c_f32_2m10:     dd 0x3A800000       ; 2^-10
c_i16_3:        dw 3
c_i16_8:        dw 8
c_i16_10:       dw 10
c_f80_2p64:     dq 0x8000000000000000
                dw 0x403F
c_f80_2p62:     dq 0x8000000000000000
                dw 0x403D

ROM_END
