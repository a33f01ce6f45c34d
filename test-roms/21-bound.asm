; 21-bound: BOUND r16/r32, m with signed bounds. In range (including both
; limits) nothing happens; out of range raises #BR (vector 5), a fault: the
; pushed IP is the BOUND itself (prefixes included). The catch-all stub of
; test.inc checks that and resumes after it.
%include "test.inc"

B16 equ SCRATCH                     ; word lower, word upper
B32 equ SCRATCH + 8                 ; dword lower, dword upper

; BR_EXPECT insn: the instruction must raise #BR exactly once
%macro BR_EXPECT 1+
    EXPECT_EXC 5, %%insn, %%after
%%insn:
    %1
    FAIL_HERE
%%after:
    ASSERT_EXC_TAKEN
%endmacro

ROM_START "21-bound"
    mov word [B16], -5
    mov word [B16 + 2], 10
    mov dword [B32], 0x80000000     ; INT32_MIN
    mov dword [B32 + 4], 0x00010000

    TEST "bound16 in range"
    SETF F_ARITH
    mov ax, 0
    bound ax, [B16]
    mov ax, -5
    bound ax, [B16]
    mov ax, 10
    bound ax, [B16]
    mov si, B16
    mov cx, 3
    bound cx, [si]
    ASSERT_FLAGS F_ARITH, F_ARITH   ; bound does not touch flags

    TEST "bound32 in range"
    mov eax, 0x80000000
    bound eax, [B32]
    mov eax, 0x00010000
    bound eax, [B32]
    mov edx, -1
    bound edx, [B32]

    TEST "bound16 above upper"
    mov ax, 11
    BR_EXPECT bound ax, [B16]
    ASSERT_EQ ax, 11

    TEST "bound16 below lower"
    mov ax, -6
    BR_EXPECT bound ax, [B16]
    mov bx, 0x8000                  ; signed compare: -32768 < -5
    BR_EXPECT bound bx, [B16]

    TEST "bound32 out of range"
    mov eax, 0x00010001
    BR_EXPECT bound eax, [B32]
    mov eax, 0x7FFFFFFF
    BR_EXPECT bound eax, [B32]

    TEST "bound32 with 0x67 addressing"
    mov ebx, B32
    mov eax, 0x00020000
    BR_EXPECT bound eax, [ebx]      ; pushed IP is the first prefix byte

    TEST "execution continues"
    mov ax, 1
    bound ax, [B16]
    ASSERT_EQ ax, 1

    PASS_ALL

ROM_END
