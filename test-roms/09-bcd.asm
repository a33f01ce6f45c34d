; 09-bcd: decimal/ASCII adjust instructions daa/das/aaa/aas/aam/aad on known
; values, including the 386+ AX+0x106 form of AAA, AAM/AAD with a non-10
; base, and AAM 0 raising #DE (a fault: pushed IP = the AAM itself).
; Only the flags Intel defines for each instruction are checked.
%include "test.inc"

DAA_FLAGS equ F_CF | F_AF | F_SF | F_ZF | F_PF     ; OF undefined
AAA_FLAGS equ F_CF | F_AF                           ; the rest undefined
AAM_FLAGS equ F_SF | F_ZF | F_PF                    ; the rest undefined

; ADJ insn, mask, ax_in, flags_in, ax_out, flags_out
%macro ADJ 6
    mov ax, %3
    SETF %4
    %1
    ASSERT_FLAGS %2, %6
    ASSERT_EQ ax, %5
%endmacro

ROM_START "09-bcd"

    TEST "daa"
    ADJ daa, DAA_FLAGS, 0x003C, 0, 0x0042, F_AF | F_PF            ; 15 + 27
    ADJ daa, DAA_FLAGS, 0x009A, 0, 0x0000, F_CF | F_AF | F_ZF | F_PF ; 99 + 1
    ADJ daa, DAA_FLAGS, 0x0012, F_AF, 0x0018, F_AF | F_PF         ; 09 + 09
    ADJ daa, DAA_FLAGS, 0x0020, F_CF, 0x0080, F_CF | F_SF         ; 90 + 90
    ADJ daa, DAA_FLAGS, 0x1233, F_ARITH & ~(F_CF | F_AF), 0x1233, F_PF ; nothing to adjust
    mov al, 0x48                    ; 48 + 37 = 85
    add al, 0x37
    daa
    ASSERT_EQ al, 0x85

    TEST "das"
    ADJ das, DAA_FLAGS, 0x001B, F_AF, 0x0015, F_AF                ; 42 - 27
    ADJ das, DAA_FLAGS, 0x00FF, F_AF | F_CF, 0x0099, F_CF | F_AF | F_SF | F_PF ; 00 - 01
    ADJ das, DAA_FLAGS, 0x002F, F_AF, 0x0029, F_AF                ; 30 - 01
    ADJ das, DAA_FLAGS, 0x0055, 0, 0x0055, F_PF
    mov al, 0x85                    ; 85 - 37 = 48
    sub al, 0x37
    das
    ASSERT_EQ al, 0x48

    TEST "aaa"
    ADJ aaa, AAA_FLAGS, 0x000D, 0, 0x0103, F_CF | F_AF            ; 8 + 5
    ADJ aaa, AAA_FLAGS, 0x0005, F_CF, 0x0005, 0                   ; CF in is ignored
    ADJ aaa, AAA_FLAGS, 0x0112, F_AF, 0x0208, F_CF | F_AF         ; 9 + 9, AH was 1
    ADJ aaa, AAA_FLAGS, 0x0035, 0, 0x0005, 0                      ; ASCII '5'
    mov ax, '9'                     ; '9' + '3' = 12 unpacked
    add al, '3'
    aaa
    ASSERT_EQ ax, 0x0102

    TEST "aas"
    ADJ aas, AAA_FLAGS, 0x00FD, F_AF, 0xFF07, F_CF | F_AF         ; 2 - 5
    ADJ aas, AAA_FLAGS, 0x0208, F_CF, 0x0208, 0
    ADJ aas, AAA_FLAGS, 0x0139, 0, 0x0109, 0
    mov ax, 0x0102                  ; 12 - 5 = 07 unpacked
    sub al, 5
    aas
    ASSERT_EQ ax, 0x0007

    TEST "aam"
    ADJ aam, AAM_FLAGS, 0x003F, F_SF | F_ZF, 0x0603, F_PF         ; 63
    ADJ aam, AAM_FLAGS, 0xFF00, F_PF, 0x0000, F_ZF | F_PF
    ADJ aam, AAM_FLAGS, 0x00FF, 0, 0x1905, F_PF                   ; 255
    ADJ {aam 16}, AAM_FLAGS, 0x003F, 0, 0x030F, F_PF
    ADJ {aam 3}, AAM_FLAGS, 0x0080, 0, 0x2A02, 0                  ; 128 = 42*3 + 2

    TEST "aad"
    ADJ aad, AAM_FLAGS, 0x0603, 0, 0x003F, F_PF                   ; 63
    ADJ aad, AAM_FLAGS, 0x1905, 0, 0x00FF, F_SF | F_PF            ; 255
    ADJ aad, AAM_FLAGS, 0x1A00, 0, 0x0004, 0                      ; 260 & 0xFF
    ADJ aad, AAM_FLAGS, 0x0000, 0, 0x0000, F_ZF | F_PF
    ADJ {aad 16}, AAM_FLAGS, 0x0304, 0, 0x0034, 0
    ADJ {aad 7}, AAM_FLAGS, 0x0203, 0, 0x0011, F_PF                ; 2*7 + 3

    TEST "aam 0 raises #DE"
    mov ax, 0x1234
    EXPECT_EXC 0, .aam0, .after
.aam0:
    aam 0
    FAIL_HERE
.after:
    ASSERT_EXC_TAKEN
    ASSERT_EQ ax, 0x1234

    TEST "aad 0 is fine"
    mov ax, 0x0507
    aad 0
    ASSERT_EQ ax, 0x0007

    PASS_ALL

ROM_END
