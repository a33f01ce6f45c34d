; 53-fpu-env: FNSTENV/FLDENV and FNSAVE/FRSTOR images in real mode, with
; 16-bit (14/94-byte) and 32-bit (28/108-byte) operand size (SDM Vol. 1,
; Figures 8-9 to 8-12): control, status and tag words, the eight registers
; in stack order, the reinitialization after FNSAVE, FLDENV/FRSTOR loading
; TOP, RC and the empty tags, and the tag word being recomputed from the
; register contents when stored. The instruction/data pointer fields and
; the reserved words are checked in 54-fpu-hw-only (QEMU TCG writes the
; protected-mode layout in real mode).
%include "test.inc"

IMG  equ SCRATCH                    ; 108-byte image
IMG2 equ SCRATCH + 0x80
D    equ SCRATCH + 0x100

SW_C3 equ 0x4000
SW_C2 equ 0x0400
SW_C0 equ 0x0100

%macro CHECK_SW 2
    fnstsw ax
    and ax, %1
    ASSERT_EQ ax, %2
%endmacro

ROM_START "53-fpu-env"

    TEST "fnsave 16-bit image and reinitialization"
    fninit
    fild word [cs:c_i16_1]
    fild word [cs:c_i16_2]
    fild word [cs:c_i16_3]          ; ST0=3 ST1=2 ST2=1, TOP=5
    fnsave [IMG]
    ASSERT_EQ word [IMG], 0x037F    ; CW
    ASSERT_EQ word [IMG + 2], 5 << 11 ; SW: TOP = 5
    ASSERT_EQ word [IMG + 4], 0x03FF ; R7,R6,R5 valid, others empty
    ASSERT_EQ word [IMG + 14 + 8], 0x4000 ; ST0 = 3.0: exponent word
    ASSERT_EQ dword [IMG + 14 + 4], 0xC0000000
    ASSERT_EQ word [IMG + 24 + 8], 0x4000 ; ST1 = 2.0
    ASSERT_EQ dword [IMG + 24 + 4], 0x80000000
    ASSERT_EQ word [IMG + 34 + 8], 0x3FFF ; ST2 = 1.0
    fnstcw [D]                      ; FNSAVE did an FNINIT
    ASSERT_EQ word [D], 0x037F
    fnstenv [D]
    ASSERT_EQ word [D + 4], 0xFFFF
    CHECK_SW 0x3800, 0

    TEST "frstor 16-bit"
    frstor [IMG]
    CHECK_SW 0x3800, 5 << 11
    fistp word [D]
    ASSERT_EQ word [D], 3
    fistp word [D]
    ASSERT_EQ word [D], 2
    fistp word [D]
    ASSERT_EQ word [D], 1

    TEST "fnsave/frstor 32-bit (o32)"
    fninit
    fldz
    fld1                            ; ST0=1 ST1=0, TOP=6
    o32 fnsave [IMG]
    ASSERT_EQ word [IMG], 0x037F    ; CW (low half of the dword)
    ASSERT_EQ word [IMG + 4], 6 << 11 ; SW
    ASSERT_EQ word [IMG + 8], 0x4FFF ; R7 zero (+0), R6 valid (1.0)
    ASSERT_EQ word [IMG + 28 + 8], 0x3FFF ; ST0 = 1.0
    ASSERT_EQ word [IMG + 38 + 8], 0 ; ST1 = +0
    fld1
    fld1
    fld1                            ; junk to be replaced
    o32 frstor [IMG]
    CHECK_SW 0x3800, 6 << 11
    fistp word [D]
    ASSERT_EQ word [D], 1
    fistp word [D]
    ASSERT_EQ word [D], 0
    CHECK_SW 0x3800, 0

    TEST "fldenv loads CW, TOP and empty tags"
    fninit
    fld1                            ; R7 = 1.0
    fnstenv [IMG]
    mov word [IMG], 0x0B7F          ; RC = up
    mov word [IMG + 4], 0xFFFF      ; every register empty
    fldenv [IMG]
    fnstcw [D]
    ASSERT_EQ word [D], 0x0B7F
    fxam                            ; ST0 is now empty: C3 C0
    CHECK_SW SW_C3 | SW_C2 | SW_C0, SW_C3 | SW_C0
    fldpi                           ; rounds up under RC = up
    fstp tword [D]
    ASSERT_EQ dword [D], 0x2168C235
    fldlg2
    fstp tword [D]
    ASSERT_EQ dword [D], 0xFBCFF799

    TEST "stored tags follow the contents"
    fninit
    fldz
    fld1                            ; R7 = +0 (zero), R6 = 1.0 (valid)
    fnstenv [IMG]
    ASSERT_EQ word [IMG + 4], 0x4FFF
    mov word [IMG + 4], 0x0FFF      ; claim both valid
    fldenv [IMG]
    fnstenv [IMG2]                  ; recomputed: R7 is still a zero
    ASSERT_EQ word [IMG2 + 4], 0x4FFF

    TEST "fnstenv 32-bit image"
    fninit
    fld1
    o32 fnstenv [IMG]
    ASSERT_EQ word [IMG], 0x037F
    ASSERT_EQ word [IMG + 4], 7 << 11
    ASSERT_EQ word [IMG + 8], 0x3FFF
    mov word [IMG], 0x0C7F          ; RC = toward zero, PC = 24
    o32 fldenv [IMG]
    fnstcw [D]
    ASSERT_EQ word [D], 0x0C7F

    PASS_ALL

c_i16_1: dw 1
c_i16_2: dw 2
c_i16_3: dw 3

ROM_END
