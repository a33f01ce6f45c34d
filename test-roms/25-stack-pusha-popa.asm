; 25-stack-pusha-popa: push/pop of registers, memory, immediates (imm8 is
; sign-extended) and segment registers, in 16 and 32-bit operand sizes;
; PUSH SP pushing the value SP had before the push (286+ behaviour);
; POP SP; PUSHA/POPA and PUSHAD/POPAD order (POPA discards the stored SP);
; and SP wrapping from 0 to 0xFFFE within the stack segment.
%include "test.inc"

S equ STACK_TOP
DATA equ SCRATCH

ROM_START "25-stack-pusha-popa"

    TEST "push/pop r16 r32"
    mov ax, 0x1234
    push ax
    ASSERT_EQ sp, S - 2
    ASSERT_EQ word [S - 2], 0x1234
    mov eax, 0x89ABCDEF
    push eax
    ASSERT_EQ sp, S - 6
    ASSERT_EQ dword [S - 6], 0x89ABCDEF
    pop ebx
    pop cx
    ASSERT_EQ ebx, 0x89ABCDEF
    ASSERT_EQ cx, 0x1234
    ASSERT_EQ sp, S

    TEST "push imm"
    push byte -1                    ; 6A FF: sign-extended to 16 bits
    ASSERT_EQ word [S - 2], 0xFFFF
    push word 0x1234                ; 68 imm16
    ASSERT_EQ word [S - 4], 0x1234
    push dword 0x12345678           ; 66 68 imm32
    ASSERT_EQ dword [S - 8], 0x12345678
    push dword -2                   ; 66 6A FE: sign-extended to 32 bits
    ASSERT_EQ dword [S - 12], 0xFFFFFFFE
    ASSERT_EQ sp, S - 12
    add sp, 12

    TEST "push/pop memory"
    mov word [DATA], 0xAAAA
    mov dword [DATA + 4], 0xBBBBCCCC
    push word [DATA]
    push dword [DATA + 4]
    pop dword [DATA + 8]
    pop word [DATA + 12]
    ASSERT_EQ dword [DATA + 8], 0xBBBBCCCC
    ASSERT_EQ word [DATA + 12], 0xAAAA
    ASSERT_EQ sp, S

    TEST "push sp pushes the old value"
    push sp
    pop ax
    ASSERT_EQ ax, S
    push esp
    pop eax
    ASSERT_EQ eax, S

    TEST "pop sp loads the popped value"
    push word 0x6000
    pop sp
    ASSERT_EQ sp, 0x6000
    mov sp, S

    TEST "pusha order"
    mov ax, 0x0A0A
    mov cx, 0x0C0C
    mov dx, 0x0D0D
    mov bx, 0x0B0B
    mov bp, 0x0B0E
    mov si, 0x051E
    mov di, 0x0D1E
    pusha
    ASSERT_EQ sp, S - 16
    ASSERT_EQ word [S - 2], 0x0A0A  ; AX
    ASSERT_EQ word [S - 4], 0x0C0C  ; CX
    ASSERT_EQ word [S - 6], 0x0D0D  ; DX
    ASSERT_EQ word [S - 8], 0x0B0B  ; BX
    ASSERT_EQ word [S - 10], S      ; SP before PUSHA
    ASSERT_EQ word [S - 12], 0x0B0E ; BP
    ASSERT_EQ word [S - 14], 0x051E ; SI
    ASSERT_EQ word [S - 16], 0x0D1E ; DI

    TEST "popa restores and skips SP"
    mov word [S - 10], 0x1111       ; the stored SP is ignored
    xor ax, ax
    xor cx, cx
    xor dx, dx
    xor bx, bx
    xor bp, bp
    xor si, si
    xor di, di
    popa
    ASSERT_EQ sp, S
    ASSERT_EQ ax, 0x0A0A
    ASSERT_EQ cx, 0x0C0C
    ASSERT_EQ dx, 0x0D0D
    ASSERT_EQ bx, 0x0B0B
    ASSERT_EQ bp, 0x0B0E
    ASSERT_EQ si, 0x051E
    ASSERT_EQ di, 0x0D1E

    TEST "pushad/popad"
    mov eax, 0xA0000001
    mov ecx, 0xC0000002
    mov edx, 0xD0000003
    mov ebx, 0xB0000004
    mov ebp, 0xB0000005
    mov esi, 0x50000006
    mov edi, 0xD0000007
    pushad
    ASSERT_EQ sp, S - 32
    ASSERT_EQ dword [S - 4], 0xA0000001
    ASSERT_EQ dword [S - 8], 0xC0000002
    ASSERT_EQ dword [S - 12], 0xD0000003
    ASSERT_EQ dword [S - 16], 0xB0000004
    ASSERT_EQ dword [S - 20], S     ; ESP before PUSHAD
    ASSERT_EQ dword [S - 24], 0xB0000005
    ASSERT_EQ dword [S - 28], 0x50000006
    ASSERT_EQ dword [S - 32], 0xD0000007
    xor eax, eax
    xor ebx, ebx
    xor ecx, ecx
    xor edx, edx
    xor esi, esi
    xor edi, edi
    xor ebp, ebp
    popad
    ASSERT_EQ sp, S
    ASSERT_EQ eax, 0xA0000001
    ASSERT_EQ ebx, 0xB0000004
    ASSERT_EQ ecx, 0xC0000002
    ASSERT_EQ edx, 0xD0000003
    ASSERT_EQ ebp, 0xB0000005
    ASSERT_EQ esi, 0x50000006
    ASSERT_EQ edi, 0xD0000007

    TEST "push/pop segment registers"
    mov ax, 0x1234
    mov es, ax
    mov ax, 0x2345
    mov fs, ax
    mov ax, 0x3456
    mov gs, ax
    push cs
    push ds
    push es
    push ss
    push fs
    push gs
    ASSERT_EQ sp, S - 12
    ASSERT_EQ word [S - 2], ROM_SEG
    ASSERT_EQ word [S - 4], 0
    ASSERT_EQ word [S - 6], 0x1234
    ASSERT_EQ word [S - 8], 0
    ASSERT_EQ word [S - 10], 0x2345
    ASSERT_EQ word [S - 12], 0x3456
    pop es                          ; GS value
    pop gs                          ; FS value
    pop fs                          ; SS value (0)
    pop ax                          ; ES value
    pop ds                          ; DS value (0)
    pop bx                          ; CS value
    ASSERT_EQ sp, S
    ASSERT_EQ ax, 0x1234
    ASSERT_EQ bx, ROM_SEG
    mov ax, es
    ASSERT_EQ ax, 0x3456
    mov ax, gs
    ASSERT_EQ ax, 0x2345
    mov ax, fs
    ASSERT_EQ ax, 0
    push word 0
    pop es
    push word 0
    pop gs

    TEST "o32 push/pop segment register"
    mov ax, 0x4321
    mov fs, ax
    o32 push fs                     ; 4 bytes; the upper word may be untouched
    ASSERT_EQ sp, S - 4
    ASSERT_EQ word [S - 4], 0x4321
    mov word [S - 4], 0x0000
    o32 pop fs
    ASSERT_EQ sp, S
    mov ax, fs
    ASSERT_EQ ax, 0

    TEST "pop ss"
    push ss
    pop ss
    ASSERT_EQ sp, S
    mov ax, ss
    ASSERT_EQ ax, 0

    TEST "SP wraps at 0"
    mov ax, 0x2000                  ; a fresh stack segment
    mov ss, ax
    mov sp, 0
    mov ax, 0xBEEF
    push ax                         ; writes 2000:FFFE
    mov bx, sp
    mov cx, [ss:0xFFFE]
    pop dx
    mov si, sp
    xor ax, ax                      ; back to the normal stack
    mov ss, ax
    mov sp, S
    ASSERT_EQ bx, 0xFFFE
    ASSERT_EQ cx, 0xBEEF
    ASSERT_EQ dx, 0xBEEF
    ASSERT_EQ si, 0
    mov ax, 0x2000
    mov es, ax
    ASSERT_EQ word [es:0xFFFE], 0xBEEF
    xor ax, ax
    mov es, ax

    PASS_ALL

ROM_END
