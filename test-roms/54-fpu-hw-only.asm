; 54-fpu-hw-only: x87 behaviour Intel documents (and the differential
; test against a host x87 confirms, see tests/x87_host.rs) that QEMU TCG
; does not model:
; - C1 = "rounded up" after rounding arithmetic, FIST and FRNDINT
;   (SDM Vol. 1, 8.1.3.1), and FPREM1's quotient bits in C0/C3/C1;
; - stack overflow/underflow: IE+SF, C1 = 1/0, the indefinite (8.5.1.1);
; - DE for a denormal m32 load (8.5.2);
; - the operand-range check of FSIN at exactly 2^63 (|x| < 2^63 required);
; - a pending exception reported at the next *waiting x87 instruction*,
;   not only at FWAIT (8.7), and FLDCW unmasking a set flag making it
;   pending (FLDCW);
; - unmasked #Z leaving the stack alone; unmasked #O/#U storing the result
;   with the exponent re-biased by 24576 (8.5.4, 8.5.5);
; - FNSTENV masking all exceptions afterwards (FSTENV);
; - FCOMI clearing OF, SF and AF;
; - the real-mode FSTENV layout: FIP/FDP as 20-bit linear addresses, FOP,
;   and FFFFh in the reserved words of the 32-bit image (8.1.10);
; - FSIN reducing its operand with the x87's 66-bit pi (8.3.8).
; qemu: expect-fail QEMU TCG lacks C1 rounding, stack faults, DE on loads, #MF outside FWAIT and the real-mode FSTENV layout
%include "test.inc"

D    equ SCRATCH
D2   equ SCRATCH + 16
IMG  equ SCRATCH + 0x40
SAVE equ SCRATCH + 0x100

CR0_NE equ 1 << 5

SW_IE equ 0x0001
SW_DE equ 0x0002
SW_ZE equ 0x0004
SW_OE equ 0x0008
SW_UE equ 0x0010
SW_PE equ 0x0020
SW_SF equ 0x0040
SW_ES equ 0x0080
SW_C0 equ 0x0100
SW_C1 equ 0x0200
SW_C2 equ 0x0400
SW_C3 equ 0x4000
SW_CC equ SW_C0 | SW_C1 | SW_C2 | SW_C3

%macro CHECK_SW 2
    fnstsw ax
    and ax, %1
    ASSERT_EQ ax, %2
%endmacro

%macro LDCW 1
    mov word [D2], %1
    fldcw [D2]
%endmacro

%macro EXPECT_FAULT 2+
    EXPECT_EXC %1, %%insn, %%after
%%insn:
    %2
    FAIL_HERE
%%after:
    ASSERT_EXC_TAKEN
%endmacro

ROM_START "54-fpu-hw-only"

    TEST "C1 reports rounding up"
    fninit
    fld1
    fidiv word [cs:c_i16_3]         ; 0.AAA...AB: rounded up
    CHECK_SW SW_C1, SW_C1
    LDCW 0x0F7F                     ; toward zero
    fld1
    fidiv word [cs:c_i16_3]
    CHECK_SW SW_C1, 0
    LDCW 0x0B7F                     ; up
    fld dword [cs:c_f32_2p5]
    fist word [D]                   ; 3
    CHECK_SW SW_C1 | SW_PE, SW_C1 | SW_PE
    LDCW 0x037F
    frndint                         ; 2
    CHECK_SW SW_C1, 0

    TEST "fprem1 quotient bits"
    fninit
    fild word [cs:c_i16_2]
    fild word [cs:c_i16_7]
    fprem1                          ; q = round(3.5) = 4
    CHECK_SW SW_CC, SW_C0

    TEST "masked stack overflow"
    fninit
    mov cx, 8
.fill:
    fld1
    loop .fill
    fldz                            ; ninth push
    CHECK_SW SW_IE | SW_SF | SW_C1, SW_IE | SW_SF | SW_C1
    fstp qword [D]
    ASSERT_EQ dword [D + 4], 0xFFF80000
    ASSERT_EQ dword [D], 0

    TEST "masked stack underflow"
    fninit
    fadd st0, st1
    CHECK_SW SW_IE | SW_SF | SW_C1, SW_IE | SW_SF
    fstp dword [D]
    ASSERT_EQ dword [D], 0xFFC00000
    fninit
    fistp word [D]                  ; empty: integer indefinite
    ASSERT_EQ word [D], 0x8000

    TEST "DE on a denormal load"
    fninit
    fld dword [cs:c_f32_min_denormal]
    CHECK_SW SW_DE, SW_DE

    TEST "fsin range check at exactly 2^63"
    fninit
    fld tword [cs:c_f80_2p63]
    fsin
    CHECK_SW SW_C2, SW_C2

    TEST "fsin reduces with the 66-bit pi"
    ; FLDPI = 0xC90FDAA22168C235 * 2^-62; the 66-bit pi is
    ; 0x3243F6A8885A308D3 * 2^-64, so x - pi66 = 2^-64 exactly and
    ; sin x = -sin(2^-64), which rounds to -2^-64.
    fninit
    fldpi
    fsin
    fstp tword [D]
    ASSERT_EQ dword [D], 0
    ASSERT_EQ dword [D + 4], 0x80000000
    ASSERT_EQ word [D + 8], 0xBFBF

    TEST "#MF at the next waiting x87 instruction"
    mov eax, cr0
    or eax, CR0_NE
    mov cr0, eax
    fninit
    LDCW 0x037B                     ; unmask #Z
    fld1
    fldz
    fdivp st1, st0                  ; #Z pending; stack unchanged
    CHECK_SW 0x3800 | SW_ZE | SW_ES, (6 << 11) | SW_ZE | SW_ES
    fnsave [SAVE]                   ; non-waiting: no fault; reinitializes
    ASSERT_EQ word [SAVE + 14 + 8], 0 ; ST0 = +0 (not replaced)
    ASSERT_EQ word [SAVE + 24 + 8], 0x3FFF ; ST1 = 1.0 (no pop)
    frstor [SAVE]                   ; waiting: nothing pending before it
    EXPECT_FAULT 16, fld1           ; the restored exception is reported
    EXPECT_FAULT 16, fldcw [D2]
    fnclex
    fld1

    TEST "FLDCW unmasking a set flag makes it pending"
    fninit
    fld1
    fldz
    fdivp st1, st0                  ; masked #Z: ZE set, nothing pending
    CHECK_SW SW_ES, 0
    LDCW 0x037B
    CHECK_SW SW_ES, SW_ES
    EXPECT_FAULT 16, fwait
    fninit

    TEST "unmasked overflow and underflow re-bias"
    fninit
    LDCW 0x0377                     ; unmask #O
    fld tword [cs:c_f80_2p16000]
    fmul st0, st0                   ; 2^32000: exponent 16383+32000-24576
    CHECK_SW SW_OE | SW_ES, SW_OE | SW_ES
    fnsave [SAVE]
    ASSERT_EQ word [SAVE + 14 + 8], 0x5CFF
    ASSERT_EQ dword [SAVE + 14 + 4], 0x80000000
    fninit
    LDCW 0x036F                     ; unmask #U
    fld tword [cs:c_f80_2m16000]
    fmul st0, st0                   ; 2^-32000: exponent 16383-32000+24576
    CHECK_SW SW_UE | SW_ES, SW_UE | SW_ES
    fnsave [SAVE]
    ASSERT_EQ word [SAVE + 14 + 8], 0x22FF
    fninit

    TEST "fnstenv masks all exceptions"
    fninit
    LDCW 0x0360
    fnstenv [IMG]
    ASSERT_EQ word [IMG], 0x0360
    fnstcw [D]
    ASSERT_EQ word [D], 0x037F

    TEST "fcomi clears OF SF AF"
    fninit
    fld1
    fldz
    SETF F_OF | F_SF | F_AF
    fcomi st0, st1
    ASSERT_FLAGS F_OF | F_SF | F_AF | F_ZF | F_PF | F_CF, F_CF
    fninit

    TEST "real-mode fstenv pointers"
    fninit
    fld1
.fadd:
    fadd dword [0x1234]             ; D8 06 34 12: FOP = 006h
    fnstsw ax                       ; control instructions keep FIP
    fnstenv [IMG]
    ASSERT_EQ word [IMG + 6], .fadd ; F000:.fadd = linear F0000 + .fadd
    ASSERT_EQ word [IMG + 8], 0xF006 ; linear bits 19-16, FOP
    ASSERT_EQ word [IMG + 10], 0x1234 ; 0000:1234
    ASSERT_EQ word [IMG + 12], 0
    o32 fnstenv [IMG]
    ASSERT_EQ dword [IMG], 0xFFFF037F ; reserved upper words read FFFFh
    ASSERT_EQ word [IMG + 6], 0xFFFF
    ASSERT_EQ word [IMG + 10], 0xFFFF
    ASSERT_EQ word [IMG + 12], .fadd
    ASSERT_EQ word [IMG + 14], 0xFFFF
    ASSERT_EQ dword [IMG + 16], 0x0000F006
    ASSERT_EQ dword [IMG + 20], 0xFFFF1234
    ASSERT_EQ dword [IMG + 24], 0

    PASS_ALL

align 4
c_f32_2p5:          dd 0x40200000
c_f32_min_denormal: dd 0x00000001
c_i16_2:            dw 2
c_i16_3:            dw 3
c_i16_7:            dw 7
c_f80_2p63:         dq 0x8000000000000000
                    dw 0x403E
c_f80_2p16000:      dq 0x8000000000000000
                    dw 0x3FFF + 16000
c_f80_2m16000:      dq 0x8000000000000000
                    dw 0x3FFF - 16000

ROM_END
