; 11-rotates: rol/ror/rcl/rcr by 1, by CL and by imm8 for 8/16/32-bit
; operands. The count is masked to 5 bits; then RCL/RCR rotate modulo 9
; (8-bit) or 17 (16-bit) through CF, and ROL/ROR modulo the width (with CF
; still written when the masked count is non-zero). Only CF and OF are
; written (OF only for count 1); SF/ZF/AF/PF must be preserved.
%include "test.inc"

DATA equ SCRATCH
SZAP equ F_SF | F_ZF | F_AF | F_PF
UNDEF equ 2                         ; "OF undefined" marker

; ROT op, reg, a, count, cf_in, result, cf_out, of_out (0, 1 or UNDEF)
; count is an immediate or "cl"; for cl put the count in CL first (CLR macro).
; Runs twice: with SF/ZF/AF/PF all set and all clear, both must survive.
%macro ROT 8
%if %8 == UNDEF
  %assign %%mask F_CF | SZAP
  %assign %%ofin 0
  %assign %%ofout 0
%else
  %assign %%mask F_CF | F_OF | SZAP
  %assign %%ofin (1 - (%8)) * F_OF
  %assign %%ofout (%8) * F_OF
%endif
    mov %2, %3
    SETF ((%5) * F_CF) | SZAP | %%ofin
    %1 %2, %4
    ASSERT_FLAGS %%mask, ((%7) * F_CF) | SZAP | %%ofout
    ASSERT_EQ %2, %6
    mov %2, %3
    SETF ((%5) * F_CF) | %%ofin
    %1 %2, %4
    ASSERT_FLAGS %%mask, ((%7) * F_CF) | %%ofout
    ASSERT_EQ %2, %6
%endmacro

; ROTCL op, reg, a, count, cf_in, result, cf_out, of_out: count in CL
%macro ROTCL 8
    mov cl, %4
    ROT %1, %2, %3, cl, %5, %6, %7, %8
%endmacro

; ROT0 op, reg, a, count-operand: nothing changes at all
%macro ROT0 4
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

ROM_START "11-rotates"

    TEST "rol"
    ROT rol, al, 0x81, 1, 0, 0x03, 1, 1
    ROT rol, al, 0x40, 1, 1, 0x80, 0, 1
    ROT rol, bl, 0x12, 4, 0, 0x21, 1, UNDEF
    ROTCL rol, dl, 0x81, 8, 0, 0x81, 1, UNDEF        ; count 8: unchanged, CF = LSB
    ROTCL rol, dl, 0x80, 8, 1, 0x80, 0, UNDEF
    ROTCL rol, ah, 0x12, 12, 0, 0x21, 1, UNDEF       ; 12 mod 8 = 4
    ROTCL rol, ax, 0x8001, 17, 0, 0x0003, 1, UNDEF   ; 17 mod 16 = 1
    ROTCL rol, bx, 0x8001, 16, 0, 0x8001, 1, UNDEF
    ROT rol, si, 0x1234, 4, 1, 0x2341, 1, UNDEF
    ROTCL rol, eax, 0x80000000, 33, 0, 0x00000001, 1, 1 ; masked to 1
    ROT rol, edx, 0x12345678, 8, 1, 0x34567812, 0, UNDEF

    TEST "ror"
    ROT ror, al, 0x81, 1, 0, 0xC0, 1, 0
    ROT ror, al, 0x01, 1, 0, 0x80, 1, 1
    ROT ror, bh, 0x02, 1, 1, 0x01, 0, 0
    ROTCL ror, dl, 0x81, 8, 0, 0x81, 1, UNDEF        ; CF = MSB
    ROTCL ror, dl, 0x01, 8, 1, 0x01, 0, UNDEF
    ROT ror, ax, 0x1234, 4, 1, 0x4123, 0, UNDEF
    ROTCL ror, di, 0x0001, 17, 0, 0x8000, 1, UNDEF   ; 17 mod 16 = 1
    ROTCL ror, eax, 0x12345678, 36, 0, 0x81234567, 1, UNDEF ; masked to 4
    ROT ror, ebp, 0x00000001, 1, 0, 0x80000000, 1, 1

    TEST "rcl"
    ROT rcl, al, 0x80, 1, 1, 0x01, 1, 1
    ROT rcl, al, 0x40, 1, 0, 0x80, 0, 1
    ROT rcl, al, 0x00, 1, 1, 0x01, 0, 0
    ROT rcl, bl, 0x81, 4, 0, 0x14, 0, UNDEF
    ROTCL rcl, bl, 0x81, 13, 0, 0x14, 0, UNDEF       ; 13 mod 9 = 4
    ROTCL rcl, bl, 0x81, 31, 0, 0x14, 0, UNDEF       ; 31 mod 9 = 4
    ROTCL rcl, dh, 0x81, 9, 1, 0x81, 1, UNDEF        ; 9 mod 9 = 0: unchanged
    ROTCL rcl, dh, 0x81, 9, 0, 0x81, 0, UNDEF
    ROTCL rcl, al, 0x81, 8, 1, 0xC0, 1, UNDEF
    ROTCL rcl, ax, 0x1234, 17, 1, 0x1234, 1, UNDEF   ; 17 mod 17 = 0
    ROTCL rcl, ax, 0x8000, 18, 0, 0x0000, 1, UNDEF   ; 18 mod 17 = 1
    ROT rcl, bx, 0x0001, 16, 1, 0x8000, 1, UNDEF
    ROT rcl, eax, 0x80000000, 1, 1, 0x00000001, 1, 1
    ROT rcl, ecx, 0x00000003, 31, 0, 0x80000000, 1, UNDEF

    TEST "rcr"
    ROT rcr, al, 0x01, 1, 0, 0x00, 1, 0
    ROT rcr, al, 0x80, 1, 1, 0xC0, 0, 0
    ROT rcr, al, 0x80, 1, 0, 0x40, 0, 1
    ROTCL rcr, bl, 0x01, 10, 1, 0x80, 1, UNDEF       ; 10 mod 9 = 1
    ROTCL rcr, bl, 0x5A, 9, 1, 0x5A, 1, UNDEF        ; unchanged
    ROTCL rcr, ax, 0x0001, 18, 0, 0x0000, 1, UNDEF   ; 18 mod 17 = 1
    ROT rcr, dx, 0x1234, 4, 1, 0x9123, 0, UNDEF
    ROT rcr, eax, 0x12345678, 8, 1, 0xF1123456, 0, UNDEF
    ROT rcr, esi, 0x00000001, 1, 0, 0x00000000, 1, 0

    TEST "count 0 changes nothing"
    ROT0 rol, al, 0x81, 0
    mov cl, 0
    ROT0 ror, bx, 0x8001, cl
    mov cl, 32
    ROT0 rcl, eax, 0x12345678, cl   ; 32 & 31 = 0
    ROT0 rcr, dl, 0x55, 0
    mov cl, 0x60
    ROT0 rcl, ax, 0x1234, cl

    TEST "explicit imm8 encoding"
    mov al, 0x81
    SETF 0
    db 0xC0, 0xC0, 0x01             ; rol al, imm8 1
    ASSERT_FLAGS F_CF | F_OF, F_CF | F_OF
    ASSERT_EQ al, 0x03
    mov eax, 0x00000002
    db 0x66, 0xC1, 0xC8, 0x21       ; ror eax, imm8 33 (masked to 1)
    ASSERT_EQ eax, 0x00000001

    TEST "memory operands"
    mov word [DATA], 0x8001
    SETF 0
    rol word [DATA], 1
    ASSERT_FLAGS F_CF | F_OF, F_CF | F_OF
    ASSERT_EQ word [DATA], 0x0003
    mov byte [DATA], 0x01
    SETF 0
    rcr byte [DATA], 1
    ASSERT_C
    ASSERT_EQ byte [DATA], 0x00
    mov dword [DATA], 0x12345678
    mov cl, 16
    ror dword [DATA], cl
    ASSERT_EQ dword [DATA], 0x56781234
    mov word [DATA], 0x0001
    SETF F_CF
    rcl word [DATA], 15
    ASSERT_EQ word [DATA], 0xC000
    ASSERT_NC

    PASS_ALL

ROM_END
