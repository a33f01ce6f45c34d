; 07-mul-imul: unsigned mul and signed imul in every form (one-operand 8/16/32,
; two-operand imul r,r/m, three-operand imul r,r/m,imm8/imm16/imm32) with
; register and memory sources. CF = OF = "the high half is significant";
; SF/ZF/AF/PF are undefined and not checked.
%include "test.inc"

DATA equ SCRATCH
MF equ F_CF | F_OF

ROM_START "07-mul-imul"

    TEST "mul r/m8"
    mov ax, 0xAA10                  ; AH is overwritten
    mov bl, 0x10
    SETF 0
    mul bl
    ASSERT_FLAGS MF, MF
    ASSERT_EQ ax, 0x0100
    mov al, 0x0F
    mov cl, 0x0F
    SETF MF
    mul cl
    ASSERT_FLAGS MF, 0
    ASSERT_EQ ax, 0x00E1
    mov al, 0xFF
    mov byte [DATA], 0xFF
    mul byte [DATA]
    ASSERT_FLAGS MF, MF
    ASSERT_EQ ax, 0xFE01
    mov al, 0x80
    mov dh, 0x00
    SETF MF
    mul dh
    ASSERT_FLAGS MF, 0
    ASSERT_EQ ax, 0

    TEST "mul r/m16"
    mov ax, 0x1234
    mov cx, 0x0100
    mov dx, 0xFFFF
    mul cx
    ASSERT_FLAGS MF, MF
    ASSERT_EQ dx, 0x0012
    ASSERT_EQ ax, 0x3400
    mov ax, 0x00FF
    mov bx, 0x00FF
    mov dx, 0xFFFF
    SETF MF
    mul bx
    ASSERT_FLAGS MF, 0
    ASSERT_EQ dx, 0
    ASSERT_EQ ax, 0xFE01
    mov ax, 0xFFFF
    mov word [DATA], 0xFFFF
    mul word [DATA]
    ASSERT_EQ dx, 0xFFFE
    ASSERT_EQ ax, 0x0001

    TEST "mul r/m32"
    mov eax, 0xFFFFFFFF
    mov ecx, 0xFFFFFFFF
    SETF 0
    mul ecx
    ASSERT_FLAGS MF, MF
    ASSERT_EQ edx, 0xFFFFFFFE
    ASSERT_EQ eax, 0x00000001
    mov eax, 0x00010000
    mov ebx, 0x00010000
    mul ebx
    ASSERT_FLAGS MF, MF
    ASSERT_EQ edx, 1
    ASSERT_EQ eax, 0
    mov eax, 0x00012345
    mov dword [DATA], 0x10
    mov edx, 0x55555555
    SETF MF
    mul dword [DATA]
    ASSERT_FLAGS MF, 0
    ASSERT_EQ edx, 0
    ASSERT_EQ eax, 0x00123450

    TEST "imul r/m8"
    mov al, 0xFF                    ; -1 * -1 = 1
    mov bl, 0xFF
    SETF MF
    imul bl
    ASSERT_FLAGS MF, 0
    ASSERT_EQ ax, 0x0001
    mov al, 0x80                    ; -128 * 2 = -256
    mov bl, 2
    SETF 0
    imul bl
    ASSERT_FLAGS MF, MF
    ASSERT_EQ ax, 0xFF00
    mov al, 0xC0                    ; -64 * 2 = -128 fits in AL
    SETF MF
    imul bl
    ASSERT_FLAGS MF, 0
    ASSERT_EQ ax, 0xFF80
    mov al, 0x7F                    ; 127 * 127 = 0x3F01
    mov byte [DATA], 0x7F
    imul byte [DATA]
    ASSERT_FLAGS MF, MF
    ASSERT_EQ ax, 0x3F01

    TEST "imul r/m16"
    mov ax, 0x8000                  ; -32768 * -1 = 32768 does not fit
    mov cx, 0xFFFF
    SETF 0
    imul cx
    ASSERT_FLAGS MF, MF
    ASSERT_EQ dx, 0x0000
    ASSERT_EQ ax, 0x8000
    mov ax, 0xFFFE                  ; -2 * 3 = -6
    mov cx, 3
    SETF MF
    imul cx
    ASSERT_FLAGS MF, 0
    ASSERT_EQ dx, 0xFFFF
    ASSERT_EQ ax, 0xFFFA

    TEST "imul r/m32"
    mov eax, 0x80000000             ; -2^31 * 2 = -2^32
    mov ecx, 2
    SETF 0
    imul ecx
    ASSERT_FLAGS MF, MF
    ASSERT_EQ edx, 0xFFFFFFFF
    ASSERT_EQ eax, 0x00000000
    mov eax, -3
    mov dword [DATA], 5
    SETF MF
    imul dword [DATA]
    ASSERT_FLAGS MF, 0
    ASSERT_EQ edx, 0xFFFFFFFF
    ASSERT_EQ eax, 0xFFFFFFF1

    TEST "imul r16, r/m16"
    mov ax, 0x0100
    mov bx, 0x0100
    mov dx, 0x1234                  ; two-operand form leaves DX alone
    SETF 0
    imul ax, bx
    ASSERT_FLAGS MF, MF
    ASSERT_EQ ax, 0
    ASSERT_EQ dx, 0x1234
    mov cx, 0xFFFE                  ; -2 * 100 = -200
    mov word [DATA], 100
    SETF MF
    imul cx, [DATA]
    ASSERT_FLAGS MF, 0
    ASSERT_EQ cx, 0xFF38
    mov si, 0x4000                  ; 0x4000 * 2 = 0x8000 overflows signed 16
    mov di, 2
    imul si, di
    ASSERT_FLAGS MF, MF
    ASSERT_EQ si, 0x8000

    TEST "imul r32, r/m32"
    mov eax, 0x00010000
    mov ebx, 0x00010000
    SETF 0
    imul eax, ebx
    ASSERT_FLAGS MF, MF
    ASSERT_EQ eax, 0
    mov ecx, 0xFFFFFFFF             ; -1 * -0x7FFFFFFF = 0x7FFFFFFF
    mov dword [DATA], 0x80000001
    SETF MF
    imul ecx, [DATA]
    ASSERT_FLAGS MF, 0
    ASSERT_EQ ecx, 0x7FFFFFFF

    TEST "imul r, r/m, imm8"
    mov bx, 1000
    SETF MF
    imul ax, bx, 10
    ASSERT_FLAGS MF, 0
    ASSERT_EQ ax, 10000
    mov bx, 0x8000
    SETF 0
    imul ax, bx, -1
    ASSERT_FLAGS MF, MF
    ASSERT_EQ ax, 0x8000
    mov ax, 7
    imul ax, ax, 3                  ; source and destination the same
    ASSERT_EQ ax, 21
    mov ecx, 0x40000000
    SETF MF
    imul edx, ecx, -2
    ASSERT_FLAGS MF, 0
    ASSERT_EQ edx, 0x80000000
    mov ecx, 0x40000000
    SETF 0
    imul edx, ecx, 2
    ASSERT_FLAGS MF, MF
    ASSERT_EQ edx, 0x80000000

    TEST "imul r, r/m, imm16/imm32"
    mov word [DATA], 2
    imul cx, [DATA], 0x1234
    ASSERT_EQ cx, 0x2468
    mov word [DATA], 0x0100
    SETF 0
    imul cx, [DATA], 0x1234
    ASSERT_FLAGS MF, MF
    ASSERT_EQ cx, 0x3400
    mov ebx, 0x8000
    SETF 0
    imul eax, ebx, 0x10000          ; 2^31 does not fit signed 32
    ASSERT_FLAGS MF, MF
    ASSERT_EQ eax, 0x80000000
    mov dword [DATA], 0xFFFFFFFF
    SETF MF
    imul esi, [DATA], 0x12345678
    ASSERT_FLAGS MF, 0
    ASSERT_EQ esi, 0xEDCBA988

    PASS_ALL

ROM_END
