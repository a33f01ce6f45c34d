; 32-segment-limit: real-mode segments still have a 64 KiB limit (0xFFFF).
; An access that extends past offset 0xFFFF does not wrap: it raises #GP
; (vector 13), or #SS (vector 12) when the segment is SS (BP/EBP/ESP-based
; or an SS: override). Both are faults with the IP of the access pushed and,
; in real mode, no error code. Effective addresses are computed first
; (16-bit sums wrap to 16 bits), the limit check applies to the result.
;
; qemu: expect-fail QEMU TCG does not check real-mode segment limits (it wraps or reads past 0xFFFF)
%include "test.inc"

; LIMIT_FAULT vector, insn: insn must raise `vector` exactly once
%macro LIMIT_FAULT 2+
    EXPECT_EXC %1, %%insn, %%after
%%insn:
    %2
    FAIL_HERE
%%after:
    ASSERT_EXC_TAKEN
%endmacro

ROM_START "32-segment-limit"

    TEST "accesses ending at 0xFFFF are fine"
    mov byte [0xFFFF], 0x5A
    ASSERT_EQ byte [0xFFFF], 0x5A
    mov word [0xFFFE], 0x1234
    ASSERT_EQ word [0xFFFE], 0x1234
    mov dword [0xFFFC], 0x89ABCDEF
    ASSERT_EQ dword [0xFFFC], 0x89ABCDEF
    mov bx, 0xFFF0                  ; 16-bit EA wraps before the check
    mov si, SCRATCH + 0x10
    mov word [bx + si], 0x4321
    ASSERT_EQ word [SCRATCH], 0x4321

    TEST "word at DS:FFFF -> #GP"
    LIMIT_FAULT 13, mov ax, [0xFFFF]
    LIMIT_FAULT 13, mov word [0xFFFF], 0

    TEST "dword at DS:FFFD -> #GP"
    LIMIT_FAULT 13, mov eax, [0xFFFD]
    mov bx, 0xFFFE
    LIMIT_FAULT 13, add [bx], eax

    TEST "other data segments -> #GP"
    LIMIT_FAULT 13, mov ax, [es:0xFFFF]
    LIMIT_FAULT 13, mov ax, [fs:0xFFFF]
    LIMIT_FAULT 13, mov ax, [gs:0xFFFF]
    LIMIT_FAULT 13, mov ax, [cs:0xFFFF]

    TEST "stack segment -> #SS"
    mov bp, 0xFFFF
    LIMIT_FAULT 12, mov ax, [bp]
    LIMIT_FAULT 12, mov ax, [ss:0xFFFF]
    LIMIT_FAULT 13, mov ax, [ds:bp]

    TEST "32-bit offsets above 0xFFFF -> #GP"
    mov ebx, 0x10000
    LIMIT_FAULT 13, mov al, [ebx]
    mov ebx, 0xFFFF
    LIMIT_FAULT 13, mov ax, [ebx]
    mov ebx, 0x100
    mov ecx, 0x4000
    LIMIT_FAULT 13, mov al, [ebx + ecx * 4]

    TEST "string operands -> #GP"
    mov si, 0xFFFF
    mov di, 0x0100
    LIMIT_FAULT 13, movsw
    ASSERT_EQ si, 0xFFFF            ; a fault changes no register
    mov di, 0xFFFF
    mov ax, 0
    LIMIT_FAULT 13, stosw

    TEST "state after the faults"
    ASSERT_EQ sp, STACK_TOP
    mov eax, [0xFFFC]
    ASSERT_EQ eax, 0x89ABCDEF       ; the faulting stores wrote nothing

    PASS_ALL

ROM_END
