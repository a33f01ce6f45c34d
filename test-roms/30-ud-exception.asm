; 30-ud-exception: invalid opcodes raise #UD (vector 6), a fault: the pushed
; CS:IP is the first byte of the instruction (prefixes included). The handler
; here checks that and skips the instruction by adding its length to the
; pushed IP. Covered: UD2 (0F 0B), UD0 (0F FF), LEA and BOUND with a register
; operand, MOV to CS, LOCK on a register destination, LOCK on a non-lockable
; instruction.
%include "test.inc"

UD_IP    equ SCRATCH + 0x00
UD_LEN   equ SCRATCH + 0x02
UD_COUNT equ SCRATCH + 0x04

; UD_EXPECT bytes...: the bytes must raise #UD exactly once, at their start
%macro UD_EXPECT 1+
    mov word [UD_IP], %%insn
    mov word [UD_LEN], %%end - %%insn
    mov word [UD_COUNT], 0
%%insn:
    db %1
%%end:
    ASSERT_EQ word [UD_COUNT], 1
%endmacro

ROM_START "30-ud-exception"
    SET_IVT 6, ud_handler
    jmp tests

ud_handler:
    push bp
    mov bp, sp
    push ds
    push ax
    xor ax, ax
    mov ds, ax
    mov ax, [bp + 2]
    ASSERT_EQ ax, [UD_IP]           ; IP points AT the invalid instruction
    ASSERT_EQ word [bp + 4], ROM_SEG
    inc word [UD_COUNT]
    add ax, [UD_LEN]                ; skip it
    mov [bp + 2], ax
    pop ax
    pop ds
    pop bp
    iret

tests:
    TEST "ud2"
    UD_EXPECT 0x0F, 0x0B
    ASSERT_EQ sp, STACK_TOP

    TEST "ud2 with prefixes"
    UD_EXPECT 0x66, 0x0F, 0x0B
    UD_EXPECT 0x2E, 0x67, 0x0F, 0x0B

    TEST "ud0 (0F FF)"
    UD_EXPECT 0x0F, 0xFF, 0xC0      ; with a ModRM byte, as newer CPUs decode it

    TEST "lea with a register operand"
    UD_EXPECT 0x8D, 0xC0            ; lea ax, ax

    TEST "bound with a register operand"
    UD_EXPECT 0x62, 0xC1            ; bound ax, cx

    TEST "mov cs, r16"
    UD_EXPECT 0x8E, 0xC8            ; mov cs, ax

    TEST "lock on a register destination"
    UD_EXPECT 0xF0, 0x01, 0xD8      ; lock add ax, bx

    TEST "lock on a non-lockable instruction"
    UD_EXPECT 0xF0, 0x90            ; lock nop

    TEST "registers survive #UD"
    mov eax, 0x11223344
    mov ebx, 0x55667788
    SETF F_CF | F_ZF
    UD_EXPECT 0x0F, 0x0B
    ASSERT_EQ eax, 0x11223344
    ASSERT_EQ ebx, 0x55667788

    TEST "flags survive #UD"
    SETF F_CF | F_SF
    mov word [UD_IP], .ud
    mov word [UD_LEN], 2
.ud:
    ud2
    ASSERT_FLAGS F_ARITH, F_CF | F_SF

    PASS_ALL

ROM_END
