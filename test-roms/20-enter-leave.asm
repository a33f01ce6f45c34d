; 20-enter-leave: ENTER with nesting levels 0, 1 and 3 (display copied from
; the old frame), level masking (mod 32), the 16-bit form leaving the upper
; half of EBP alone, the 0x66 form (pushes EBP), and LEAVE undoing each.
%include "test.inc"

S equ STACK_TOP                     ; SP before each ENTER

ROM_START "20-enter-leave"

    TEST "enter n, 0"
    mov bp, 0x1234
    enter 8, 0
    ASSERT_EQ bp, S - 2
    ASSERT_EQ sp, S - 2 - 8
    ASSERT_EQ word [S - 2], 0x1234
    leave
    ASSERT_EQ bp, 0x1234
    ASSERT_EQ sp, S

    TEST "enter n, 1"
    mov bp, 0x4321
    enter 4, 1
    ASSERT_EQ bp, S - 2
    ASSERT_EQ sp, S - 4 - 4
    ASSERT_EQ word [S - 2], 0x4321  ; old BP
    ASSERT_EQ word [S - 4], S - 2   ; the new frame pointer
    leave
    ASSERT_EQ bp, 0x4321
    ASSERT_EQ sp, S

    TEST "enter 0, 3 copies the display"
    mov word [0x67FE], 0xAAAA       ; enclosing frame at 0x6800 with a 2-entry display
    mov word [0x67FC], 0xBBBB
    mov bp, 0x6800
    enter 0, 3
    ASSERT_EQ bp, S - 2
    ASSERT_EQ sp, S - 8
    ASSERT_EQ word [S - 2], 0x6800
    ASSERT_EQ word [S - 4], 0xAAAA
    ASSERT_EQ word [S - 6], 0xBBBB
    ASSERT_EQ word [S - 8], S - 2
    leave
    ASSERT_EQ bp, 0x6800
    ASSERT_EQ sp, S

    TEST "enter with locals and level 3"
    mov bp, 0x6800
    enter 0x10, 3
    ASSERT_EQ sp, S - 8 - 0x10
    ASSERT_EQ word [S - 8], S - 2
    leave
    ASSERT_EQ sp, S

    TEST "level is taken mod 32"
    mov bp, 0x5555
    enter 4, 33                     ; same as level 1
    ASSERT_EQ bp, S - 2
    ASSERT_EQ sp, S - 8
    ASSERT_EQ word [S - 4], S - 2
    leave
    ASSERT_EQ sp, S

    TEST "16-bit enter keeps EBP high"
    mov ebp, 0xABCD1234
    enter 2, 0
    ASSERT_EQ ebp, 0xABCD0000 + S - 2
    leave
    ASSERT_EQ ebp, 0xABCD1234

    TEST "nested calls"
    mov bp, 0
    call level1
    ASSERT_EQ sp, S
    ASSERT_EQ bp, 0
    jmp o32_test

level1:                             ; frame at S-4 (after the return IP)
    enter 2, 1
    mov word [bp - 4], 0x1111       ; local (display is at bp-2)
    call level2
    ASSERT_EQ word [bp - 4], 0x1111
    leave
    ret
level2:
    enter 2, 2                      ; copies level1's frame pointer
    mov bx, [bp - 2]                ; display[0] = level1's BP
    ASSERT_EQ word [ss:bx - 4], 0x1111
    leave
    ret

o32_test:
    TEST "o32 enter/leave"
    mov ebp, 0x12345678
    o32 enter 8, 0
    ASSERT_EQ ebp, S - 4
    ASSERT_EQ sp, S - 4 - 8
    ASSERT_EQ dword [S - 4], 0x12345678
    o32 leave
    ASSERT_EQ ebp, 0x12345678
    ASSERT_EQ sp, S

    PASS_ALL

ROM_END
