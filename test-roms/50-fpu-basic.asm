; 50-fpu-basic: the x87 register stack and its data instructions, with
; every exception masked. Covers: the FNINIT state, the tag word, loads and
; stores of every memory format (m32/m64/m80 real, m16/m32/m64 integer,
; packed BCD), arithmetic with exact and rounded results, precision control
; (24/53/64 bits) and rounding control, compares
; (FCOM/FUCOM/FTST/FXAM and FCOMI/FUCOMI on EFLAGS), FCMOVcc, FXCH, FCHS,
; FABS, FRNDINT, FXTRACT, FSCALE, FPREM/FPREM1 quotient bits, FSQRT, the
; constants and their RC-dependent last bit. Stack faults: 54-fpu-hw-only.
;
; Expected values: exact results are exact by definition; rounded ones
; (1/3, sqrt 2, constants) are the IEEE-correct roundings, computed with
; mpmath at 300 bits; the constant tables match Intel's (SDM FLDPI etc.:
; round-to-nearest gives the 8087's values) and QEMU's fpu_helper.c.
; C1 as "rounded up" is checked in 54-fpu-hw-only: QEMU TCG does not set it.
%include "test.inc"

D   equ SCRATCH                     ; 16 bytes of results
D2  equ SCRATCH + 16

; SW bits
SW_IE equ 0x0001
SW_DE equ 0x0002
SW_ZE equ 0x0004
SW_OE equ 0x0008
SW_UE equ 0x0010
SW_PE equ 0x0020
SW_SF equ 0x0040
SW_C0 equ 0x0100
SW_C1 equ 0x0200
SW_C2 equ 0x0400
SW_C3 equ 0x4000
SW_CC equ SW_C0 | SW_C1 | SW_C2 | SW_C3

; CHECK_SW mask, value: (FSW & mask) == value. Clobbers AX and flags.
%macro CHECK_SW 2
    fnstsw ax
    and ax, %1
    ASSERT_EQ ax, %2
%endmacro

; POP_F80 exp, sig_hi, sig_lo: FSTP m80 and compare all ten bytes.
%macro POP_F80 3
    fstp tword [D]
    ASSERT_EQ dword [D], %3
    ASSERT_EQ dword [D + 4], %2
    ASSERT_EQ word [D + 8], %1
%endmacro

; LDCW value: load the control word (via memory).
%macro LDCW 1
    mov word [D2], %1
    fldcw [D2]
%endmacro

ROM_START "50-fpu-basic"

    TEST "fninit state"
    fninit
    fnstcw [D]
    ASSERT_EQ word [D], 0x037F
    fnstsw ax
    ASSERT_EQ ax, 0
    fnstenv [D]                     ; 16-bit real-mode image: tag word at +4
    ASSERT_EQ word [D + 4], 0xFFFF

    TEST "push, TOP and tag word"
    fld1                            ; R7 = 1.0 (valid, 00)
    fldz                            ; R6 = +0 (zero, 01)
    fnstsw ax
    ASSERT_EQ ax, 6 << 11
    fnstenv [D]
    ASSERT_EQ word [D + 4], 0x1FFF
    fstp st0
    fstp st0
    CHECK_SW 0x3800, 0

    TEST "fld/fst m32 m64 m80"
    fninit
    fld dword [cs:c_f32_1p5]        ; 1.5
    POP_F80 0x3FFF, 0xC0000000, 0
    fld qword [cs:c_f64_m0p75]      ; -0.75
    POP_F80 0xBFFE, 0xC0000000, 0
    fld tword [cs:c_f80_third]
    fst dword [D2]
    ASSERT_EQ dword [D2], 0x3EAAAAAB
    fst qword [D2]
    ASSERT_EQ dword [D2], 0x55555555
    ASSERT_EQ dword [D2 + 4], 0x3FD55555
    POP_F80 0x3FFD, 0xAAAAAAAA, 0xAAAAAAAB

    TEST "fild/fist m16 m32 m64"
    fild word [cs:c_i16_m1234]
    fistp dword [D2]
    ASSERT_EQ dword [D2], -1234
    fild dword [cs:c_i32_big]
    fistp qword [D2]
    ASSERT_EQ dword [D2], 0x12345678
    ASSERT_EQ dword [D2 + 4], 0
    fild qword [cs:c_i64_min]
    POP_F80 0xC03E, 0x80000000, 0   ; -2^63
    fild qword [cs:c_i64_min]
    fistp qword [D2]
    ASSERT_EQ dword [D2 + 4], 0x80000000

    TEST "fist rounding per RC"
    fninit
    fld dword [cs:c_f32_2p5]
    fist word [D2]
    ASSERT_EQ word [D2], 2          ; nearest-even
    CHECK_SW SW_PE, SW_PE           ; (C1 after FIST: see 54-fpu-hw-only)
    LDCW 0x0B7F                     ; up
    fist word [D2]
    ASSERT_EQ word [D2], 3
    fchs                            ; -2.5
    LDCW 0x077F                     ; down
    fistp word [D2]
    ASSERT_EQ word [D2], -3
    LDCW 0x0F7F                     ; toward zero
    fld dword [cs:c_f32_m2p5]
    fistp word [D2]
    ASSERT_EQ word [D2], -2

    TEST "fist out of range gives the integer indefinite"
    fninit
    fild dword [cs:c_i32_40000]
    fistp word [D2]
    ASSERT_EQ word [D2], 0x8000
    CHECK_SW SW_IE | SW_SF, SW_IE

    TEST "fbld/fbstp"
    fninit
    fbld [cs:c_bcd_m1234]
    fist word [D2]
    ASSERT_EQ word [D2], -1234
    fbstp [D]
    ASSERT_EQ dword [D], 0x1234
    ASSERT_EQ dword [D + 4], 0
    ASSERT_EQ word [D + 8], 0x8000
    fild dword [cs:c_i32_987654321]
    fbstp [D]
    ASSERT_EQ dword [D], 0x87654321
    ASSERT_EQ dword [D + 4], 0x9
    ASSERT_EQ word [D + 8], 0

    TEST "exact arithmetic"
    fninit
    fild word [cs:c_i16_3]
    fild word [cs:c_i16_4]
    fadd st0, st1                   ; 7
    fmul st0, st0                   ; 49
    fsubr st0, st1                  ; 3 - 49 = -46
    fdiv st0, st1                   ; -46/3 ... inexact; undo below
    fmul st0, st1                   ; back near -46
    frndint
    fistp word [D2]
    ASSERT_EQ word [D2], -46
    fiadd word [cs:c_i16_4]         ; 3 + 4
    fimul dword [cs:c_i32_6]        ; 42
    fisub word [cs:c_i16_3]         ; 39
    fidivr word [cs:c_i16_78]       ; 78 / 39 = 2
    fistp word [D2]
    ASSERT_EQ word [D2], 2
    CHECK_SW 0x3800, 0              ; stack empty again

    TEST "1/3 at each precision and rounding"
    fninit
    fld1
    fidiv word [cs:c_i16_3]
    CHECK_SW SW_PE, SW_PE
    POP_F80 0x3FFD, 0xAAAAAAAA, 0xAAAAAAAB
    LDCW 0x027F                     ; PC = 53 bits
    fld1
    fidiv word [cs:c_i16_3]
    POP_F80 0x3FFD, 0xAAAAAAAA, 0xAAAAA800
    LDCW 0x007F                     ; PC = 24 bits
    fld1
    fidiv word [cs:c_i16_3]
    POP_F80 0x3FFD, 0xAAAAAB00, 0
    LDCW 0x0C7F                     ; PC = 24 bits, toward zero
    fld1
    fidiv word [cs:c_i16_3]
    POP_F80 0x3FFD, 0xAAAAAA00, 0
    LDCW 0x077F                     ; 64 bits, down: -1/3 grows in magnitude
    fld1
    fchs
    fidiv word [cs:c_i16_3]
    POP_F80 0xBFFD, 0xAAAAAAAA, 0xAAAAAAAB

    TEST "fsqrt"
    fninit
    fild word [cs:c_i16_16]
    fsqrt
    CHECK_SW SW_PE, 0
    fistp word [D2]
    ASSERT_EQ word [D2], 4
    fild word [cs:c_i16_2]
    fsqrt                           ; sqrt 2 = 1.6A09E667F3BCC908B2F...
    CHECK_SW SW_PE, SW_PE
    POP_F80 0x3FFF, 0xB504F333, 0xF9DE6484
    fld1
    fchs
    fsqrt                           ; invalid: the real indefinite
    CHECK_SW SW_IE, SW_IE
    POP_F80 0xFFFF, 0xC0000000, 0

    TEST "fcom/fucom/ftst/ficom condition codes"
    fninit
    fild word [cs:c_i16_2]
    fild word [cs:c_i16_3]          ; st0 = 3, st1 = 2
    fcom st1
    CHECK_SW SW_C3 | SW_C2 | SW_C0, 0
    fxch
    fcom st1
    CHECK_SW SW_C3 | SW_C2 | SW_C0, SW_C0
    fcom st0
    CHECK_SW SW_C3 | SW_C2 | SW_C0, SW_C3
    ficom word [cs:c_i16_2]
    CHECK_SW SW_C3 | SW_C2 | SW_C0, SW_C3
    ftst
    CHECK_SW SW_C3 | SW_C2 | SW_C0, 0
    fcompp
    CHECK_SW 0x3800, 0
    fldz
    fchs
    ftst                            ; -0 == 0
    CHECK_SW SW_C3 | SW_C2 | SW_C0, SW_C3
    fld tword [cs:c_f80_qnan]
    fucom st1                       ; QNaN: unordered, no IE
    CHECK_SW SW_C3 | SW_C2 | SW_C0 | SW_IE, SW_C3 | SW_C2 | SW_C0
    fcom st1                        ; ordered compare: IE
    CHECK_SW SW_C3 | SW_C2 | SW_C0 | SW_IE, SW_C3 | SW_C2 | SW_C0 | SW_IE
    fcompp

    TEST "fcomi/fucomi set ZF PF CF"
    fninit
    fild word [cs:c_i16_2]
    fild word [cs:c_i16_3]          ; st0 = 3, st1 = 2
    SETF F_ZF | F_PF | F_CF
    fcomi st0, st1
    ASSERT_FLAGS F_ZF | F_PF | F_CF, 0
    fxch
    fcomi st0, st1
    ASSERT_FLAGS F_ZF | F_PF | F_CF, F_CF
    fucomi st0, st0
    ASSERT_FLAGS F_ZF | F_PF | F_CF, F_ZF
    fld tword [cs:c_f80_qnan]
    fucomip st0, st1
    ASSERT_FLAGS F_ZF | F_PF | F_CF, F_ZF | F_PF | F_CF
    CHECK_SW SW_IE, 0
    fcomip st0, st1                 ; 2 vs 3, pops
    ASSERT_FLAGS F_ZF | F_PF | F_CF, F_CF
    CHECK_SW 0x3800, 7 << 11

    TEST "fcmovcc"
    fninit
    fild word [cs:c_i16_2]
    fild word [cs:c_i16_3]
    stc
    fcmovnb st0, st1                ; CF=1: no move
    fist word [D2]
    ASSERT_EQ word [D2], 3
    stc                             ; (the assertion's CMP cleared CF)
    fcmovb st0, st1                 ; move
    fist word [D2]
    ASSERT_EQ word [D2], 2
    fninit

    TEST "fxch fchs fabs"
    fild word [cs:c_i16_2]
    fild word [cs:c_i16_3]
    fxch st1
    fchs
    fistp word [D2]
    ASSERT_EQ word [D2], -2
    fchs
    fabs
    fistp word [D2]
    ASSERT_EQ word [D2], 3

    TEST "frndint per RC"
    fninit
    fld dword [cs:c_f32_m2p5]
    frndint                         ; -2
    CHECK_SW SW_PE, SW_PE
    fistp word [D2]
    ASSERT_EQ word [D2], -2
    LDCW 0x077F
    fld dword [cs:c_f32_m2p5]
    frndint                         ; -3
    fistp word [D2]
    ASSERT_EQ word [D2], -3

    TEST "fxtract fscale"
    fninit
    fild word [cs:c_i16_12]
    fxtract                         ; st0 = 1.5, st1 = 3
    POP_F80 0x3FFF, 0xC0000000, 0
    fistp word [D2]
    ASSERT_EQ word [D2], 3
    fild word [cs:c_i16_3]
    fld dword [cs:c_f32_1p5]
    fscale                          ; 1.5 * 2^3 = 12
    fistp word [D2]
    ASSERT_EQ word [D2], 12
    fstp st0

    TEST "fprem fprem1 quotient bits"
    fninit
    fild word [cs:c_i16_2]
    fild word [cs:c_i16_7]
    fprem                           ; 7 = 3*2 + 1
    CHECK_SW SW_CC, SW_C3 | SW_C1   ; q = 3: C0=q2=0, C3=q1=1, C1=q0=1
    fistp word [D2]
    ASSERT_EQ word [D2], 1
    fild word [cs:c_i16_7]
    fprem1                          ; 7 = 4*2 - 1 (its C0 = q2: 54-fpu-hw-only)
    fistp word [D2]
    ASSERT_EQ word [D2], -1
    fstp st0

    TEST "constants and their rounding"
    fninit
    fldpi
    POP_F80 0x4000, 0xC90FDAA2, 0x2168C235
    fldl2e
    POP_F80 0x3FFF, 0xB8AA3B29, 0x5C17F0BC
    fldl2t
    POP_F80 0x4000, 0xD49A784B, 0xCD1B8AFE
    fldlg2
    POP_F80 0x3FFD, 0x9A209A84, 0xFBCFF799
    fldln2
    POP_F80 0x3FFE, 0xB17217F7, 0xD1CF79AC
    LDCW 0x077F                     ; down
    fldpi
    POP_F80 0x4000, 0xC90FDAA2, 0x2168C234
    fldlg2
    POP_F80 0x3FFD, 0x9A209A84, 0xFBCFF798
    fldln2
    POP_F80 0x3FFE, 0xB17217F7, 0xD1CF79AB
    LDCW 0x0B7F                     ; up
    fldl2t
    POP_F80 0x4000, 0xD49A784B, 0xCD1B8AFF
    LDCW 0x0F7F                     ; toward zero
    fldl2e
    POP_F80 0x3FFF, 0xB8AA3B29, 0x5C17F0BB
    CHECK_SW SW_PE | SW_IE, 0

    TEST "denormals, overflow and underflow (masked)"
    fninit
    fld dword [cs:c_f32_min_denormal] ; (DE on loads: 54-fpu-hw-only)
    fst qword [D2]                  ; 2^-149 is a normal double
    ASSERT_EQ dword [D2 + 4], 0x36A00000
    fld dword [cs:c_f32_min_denormal]
    fmulp st1, st0                  ; 2^-298
    fst dword [D2]                  ; underflows to +0
    ASSERT_EQ dword [D2], 0
    CHECK_SW SW_UE | SW_PE, SW_UE | SW_PE
    fstp st0
    fninit
    fld tword [cs:c_f80_big]        ; 2^16000
    fst dword [D2]                  ; overflows: +inf
    ASSERT_EQ dword [D2], 0x7F800000
    CHECK_SW SW_OE | SW_PE, SW_OE | SW_PE
    LDCW 0x0F7F                     ; toward zero: largest finite
    fst dword [D2]
    ASSERT_EQ dword [D2], 0x7F7FFFFF

    TEST "fxam classes"
    fninit
    fxam                            ; empty: C3 C0
    CHECK_SW SW_C3 | SW_C2 | SW_C0, SW_C3 | SW_C0
    fld1
    fchs
    fxam                            ; -normal: C2, C1 = sign
    CHECK_SW SW_CC, SW_C2 | SW_C1
    fldz
    fxam
    CHECK_SW SW_CC, SW_C3
    fld tword [cs:c_f80_qnan]
    fxam
    CHECK_SW SW_CC, SW_C0
    fld tword [cs:c_f80_inf]
    fxam
    CHECK_SW SW_CC, SW_C2 | SW_C0
    fld tword [cs:c_f80_denormal]
    fxam
    CHECK_SW SW_CC, SW_C3 | SW_C2

    TEST "fincstp fdecstp ffree"
    fninit
    fld1
    fincstp
    CHECK_SW 0x3800, 0
    fdecstp
    ffree st0
    fxam
    CHECK_SW SW_C3 | SW_C2 | SW_C0, SW_C3 | SW_C0

    PASS_ALL

; ---- constants (read through CS) -----------------------------------------
align 4
c_f32_1p5:          dd 0x3FC00000
c_f32_2p5:          dd 0x40200000
c_f32_m2p5:         dd 0xC0200000
c_f32_min_denormal: dd 0x00000001
c_f64_m0p75:        dq 0xBFE8000000000000
c_i16_m1234:        dw -1234
c_i16_2:            dw 2
c_i16_3:            dw 3
c_i16_4:            dw 4
c_i16_7:            dw 7
c_i16_12:           dw 12
c_i16_16:           dw 16
c_i16_78:           dw 78
c_i32_6:            dd 6
c_i32_big:          dd 0x12345678
c_i32_40000:        dd 40000
c_i32_987654321:    dd 987654321
c_i64_min:          dq 0x8000000000000000
c_f80_third:        dq 0xAAAAAAAAAAAAAAAB
                    dw 0x3FFD
c_f80_qnan:         dq 0xC000000000000001
                    dw 0x7FFF
c_f80_inf:          dq 0x8000000000000000
                    dw 0x7FFF
c_f80_big:          dq 0x8000000000000000
                    dw 0x3FFF + 16000
c_f80_denormal:     dq 0x0000000000000001
                    dw 0
c_bcd_m1234:        db 0x34, 0x12, 0, 0, 0, 0, 0, 0, 0, 0x80

ROM_END
