; 12-shld-shrd: double-precision shifts by imm8 and CL, 16/32-bit, register
; and memory destinations. CF = last bit shifted out of the destination, OF
; only for count 1 (sign change), SF/ZF/PF from the result, AF undefined.
; The count is masked to 5 bits; a masked count of 0 changes nothing.
; (16-bit counts above 16 give undefined results and are not tested.)
%include "test.inc"

DATA equ SCRATCH
C_SZP equ F_CF | F_SF | F_ZF | F_PF
ALL1 equ C_SZP | F_OF

; DSH op, dst, src, dst_in, src_in, count, result, mask, flags
%macro DSH 9
    mov %2, %4
    mov %3, %5
    SETF (~(%9)) & (%8)
    %1 %2, %3, %6
    ASSERT_FLAGS %8, %9
    ASSERT_EQ %2, %7
    ASSERT_EQ %3, %5                ; source is not modified
%endmacro

ROM_START "12-shld-shrd"

    TEST "shld16"
    DSH shld, ax, bx, 0x1234, 0xABCD, 4, 0x234A, C_SZP, F_CF
    DSH shld, ax, bx, 0x4000, 0x8000, 1, 0x8001, ALL1, F_OF | F_SF
    DSH shld, si, di, 0x8000, 0x0000, 1, 0x0000, ALL1, F_CF | F_OF | F_ZF | F_PF
    DSH shld, dx, bp, 0x00FF, 0xF000, 8, 0xFFF0, C_SZP, F_SF | F_PF

    TEST "shrd16"
    DSH shrd, ax, bx, 0x1234, 0xABCD, 4, 0xD123, C_SZP, F_SF
    DSH shrd, ax, bx, 0x0001, 0x0000, 1, 0x0000, ALL1, F_CF | F_ZF | F_PF
    DSH shrd, cx, dx, 0x0002, 0x0001, 1, 0x8001, ALL1, F_OF | F_SF
    DSH shrd, di, si, 0xFF00, 0x0012, 12, 0x012F, C_SZP, F_CF

    TEST "shld32"
    mov cl, 8
    DSH shld, eax, ebx, 0x12345678, 0x9ABCDEF0, cl, 0x3456789A, C_SZP, F_PF
    mov cl, 36                      ; masked to 4
    DSH shld, eax, ebx, 0x12345678, 0x9ABCDEF0, cl, 0x23456789, C_SZP, F_CF
    DSH shld, edx, eax, 0x00000001, 0x80000000, 31, 0xC0000000, C_SZP, F_SF | F_PF
    DSH shld, esi, edi, 0x40000000, 0x00000000, 1, 0x80000000, ALL1, F_OF | F_SF | F_PF

    TEST "shrd32"
    mov cl, 8
    DSH shrd, eax, ebx, 0x12345678, 0x9ABCDEF0, cl, 0xF0123456, C_SZP, F_SF | F_PF
    DSH shrd, edx, esi, 0x80000001, 0x00000000, 1, 0x40000000, ALL1, F_CF | F_OF | F_PF
    mov cl, 63                      ; masked to 31
    DSH shrd, ebp, edi, 0x80000000, 0x00000003, cl, 0x00000007, C_SZP, 0

    TEST "count 0 changes nothing"
    mov ax, 0x1234
    mov bx, 0xFFFF
    SETF F_ARITH
    shld ax, bx, 0
    ASSERT_FLAGS F_ARITH, F_ARITH
    ASSERT_EQ ax, 0x1234
    mov cl, 32
    mov eax, 0x12345678
    SETF 0
    shrd eax, ebx, cl
    ASSERT_FLAGS F_ARITH, 0
    ASSERT_EQ eax, 0x12345678

    TEST "memory destination"
    mov word [DATA], 0x1234
    mov bx, 0xABCD
    SETF F_CF
    shld [DATA], bx, 8
    ASSERT_FLAGS C_SZP, 0
    ASSERT_EQ word [DATA], 0x34AB
    mov dword [DATA], 0x12345678
    mov edx, 0xAAAABBBB
    mov cl, 16
    shrd [DATA], edx, cl
    ASSERT_NC
    ASSERT_EQ dword [DATA], 0xBBBB1234

    PASS_ALL

ROM_END
