; 02-mov-lea-xchg: data movement. mov in all its forms (reg/imm/mem/moffs/
; sreg), movzx/movsx, lea with 16- and 32-bit addressing (0x67) and operand
; size truncation, xchg, and the sign extensions cbw/cwd/cwde/cdq.
%include "test.inc"

DATA equ SCRATCH

ROM_START "02-mov-lea-xchg"

    TEST "mov reg, imm"
    mov al, 0x12
    mov ah, 0x34
    ASSERT_EQ ax, 0x3412
    mov bx, 0xBEEF
    ASSERT_EQ bx, 0xBEEF
    mov ecx, 0xDEADBEEF
    ASSERT_EQ ecx, 0xDEADBEEF
    ASSERT_EQ cx, 0xBEEF
    mov ch, 0x11                    ; writes bits 8-15 only
    ASSERT_EQ ecx, 0xDEAD11EF
    mov cx, 0x2233                  ; writes bits 0-15 only
    ASSERT_EQ ecx, 0xDEAD2233
    mov edi, 0xFFFFFFFF
    mov di, 0
    ASSERT_EQ edi, 0xFFFF0000

    TEST "mov reg, reg"
    mov ax, 0x1234
    mov dx, ax
    ASSERT_EQ dx, 0x1234
    mov bl, ah
    ASSERT_EQ bl, 0x12
    mov bh, al
    ASSERT_EQ bx, 0x3412
    mov esi, 0x89ABCDEF
    mov ebp, esi
    ASSERT_EQ ebp, 0x89ABCDEF
    mov sp, STACK_TOP               ; sp is a normal operand too
    mov ax, sp
    ASSERT_EQ ax, STACK_TOP

    TEST "mov does not touch flags"
    SETF F_ARITH
    mov ax, 0
    mov eax, 0x80000000
    ASSERT_FLAGS F_ARITH, F_ARITH
    SETF 0
    mov al, 0xFF
    ASSERT_FLAGS F_ARITH, 0

    TEST "mov mem, reg / reg, mem"
    mov ax, 0xA55A
    mov [DATA], ax
    mov bl, [DATA]
    ASSERT_EQ bl, 0x5A
    mov bl, [DATA + 1]
    ASSERT_EQ bl, 0xA5
    mov eax, 0x01020304
    mov [DATA + 4], eax
    mov dx, [DATA + 5]
    ASSERT_EQ dx, 0x0203
    mov ecx, [DATA + 4]
    ASSERT_EQ ecx, 0x01020304

    TEST "mov mem, imm"
    mov byte [DATA], 0x77
    mov word [DATA + 2], 0x8899
    mov dword [DATA + 4], 0xCAFEBABE
    ASSERT_EQ byte [DATA], 0x77
    ASSERT_EQ word [DATA + 2], 0x8899
    ASSERT_EQ dword [DATA + 4], 0xCAFEBABE
    mov bx, DATA
    mov si, 2
    mov word [bx + si + 8], 0x4455
    ASSERT_EQ word [DATA + 10], 0x4455

    TEST "mov moffs (A0-A3)"
    mov dword [DATA], 0x11223344
    db 0xA0                         ; mov al, [moffs16]
    dw DATA
    ASSERT_EQ al, 0x44
    db 0xA1                         ; mov ax, [moffs16]
    dw DATA + 1
    ASSERT_EQ ax, 0x2233
    db 0x66, 0xA1                   ; mov eax, [moffs16]
    dw DATA
    ASSERT_EQ eax, 0x11223344
    mov al, 0xEE
    db 0xA2                         ; mov [moffs16], al
    dw DATA + 3
    mov ax, 0x6677
    db 0xA3                         ; mov [moffs16], ax
    dw DATA
    ASSERT_EQ dword [DATA], 0xEE226677

    TEST "mov sreg"
    mov ax, 0x1234
    mov es, ax
    mov bx, es
    ASSERT_EQ bx, 0x1234
    mov word [DATA], 0x2000
    mov fs, [DATA]
    mov cx, fs
    ASSERT_EQ cx, 0x2000
    mov [DATA + 2], fs
    ASSERT_EQ word [DATA + 2], 0x2000
    mov ax, cs
    ASSERT_EQ ax, 0xF000
    xor ax, ax
    mov es, ax
    mov fs, ax

    TEST "movzx"
    mov ebx, 0xFFFFFFFF
    mov cl, 0x80
    movzx bx, cl
    ASSERT_EQ ebx, 0xFFFF0080
    movzx ebx, cl
    ASSERT_EQ ebx, 0x00000080
    mov word [DATA], 0xFEDC
    movzx eax, word [DATA]
    ASSERT_EQ eax, 0x0000FEDC
    movzx edx, byte [DATA + 1]
    ASSERT_EQ edx, 0x000000FE

    TEST "movsx"
    mov cl, 0x80
    movsx bx, cl
    ASSERT_EQ bx, 0xFF80
    movsx ebx, cl
    ASSERT_EQ ebx, 0xFFFFFF80
    mov cl, 0x7F
    movsx ebx, cl
    ASSERT_EQ ebx, 0x0000007F
    movsx eax, word [DATA]
    ASSERT_EQ eax, 0xFFFFFEDC
    movsx dx, byte [DATA + 1]
    ASSERT_EQ dx, 0xFFFE

    TEST "lea 16-bit"
    mov bx, 0x1000
    mov si, 0x0200
    mov di, 0x0030
    mov bp, 0x4000
    lea ax, [bx + si + 5]
    ASSERT_EQ ax, 0x1205
    lea ax, [bp + di - 0x10]
    ASSERT_EQ ax, 0x4020
    lea ax, [si]
    ASSERT_EQ ax, 0x0200
    lea ax, [0x1234]
    ASSERT_EQ ax, 0x1234
    mov bx, 0xFFF0                  ; 16-bit effective addresses wrap at 64 KiB
    mov si, 0x0020
    lea cx, [bx + si]
    ASSERT_EQ cx, 0x0010
    mov eax, 0xFFFFFFFF
    lea eax, [bx + si + 1]          ; 32-bit destination gets the zero-extended EA
    ASSERT_EQ eax, 0x00000011

    TEST "lea 32-bit addressing"
    mov ebx, 0x10000000
    mov ecx, 0x00000003
    lea eax, [ebx + ecx * 4 + 8]
    ASSERT_EQ eax, 0x10000014
    lea edx, [ecx * 8 + 0x100]
    ASSERT_EQ edx, 0x00000118
    lea edx, [ebx + ebx * 2]
    ASSERT_EQ edx, 0x30000000
    mov esi, 0xFFFFFFFF
    lea edi, [esi + 2]              ; 32-bit EA wraps at 4 GiB
    ASSERT_EQ edi, 1
    mov ebp, 0x12345678
    lea eax, [ebp - 0x78]
    ASSERT_EQ eax, 0x12345600
    mov esp, STACK_TOP              ; ESP as a base (SIB)
    lea eax, [esp + 0x10]
    ASSERT_EQ eax, STACK_TOP + 0x10
    mov edx, 0xFFFFFFFF
    lea dx, [ebx + ecx * 2 + 0x1234] ; 16-bit destination takes the low half
    ASSERT_EQ edx, 0xFFFF123A

    TEST "lea does not touch flags"
    SETF F_ARITH
    lea ax, [bx + 1]
    ASSERT_FLAGS F_ARITH, F_ARITH

    TEST "xchg reg, reg"
    mov ax, 0x1111
    mov bx, 0x2222
    xchg ax, bx
    ASSERT_EQ ax, 0x2222
    ASSERT_EQ bx, 0x1111
    mov cx, 0x3333
    xchg cx, ax                     ; one-byte 9x form
    ASSERT_EQ ax, 0x3333
    ASSERT_EQ cx, 0x2222
    mov dl, 0xAB
    mov dh, 0xCD
    xchg dl, dh
    ASSERT_EQ dx, 0xABCD
    mov esi, 0x12345678
    mov edi, 0x9ABCDEF0
    xchg esi, edi
    ASSERT_EQ esi, 0x9ABCDEF0
    ASSERT_EQ edi, 0x12345678
    mov eax, 0xAAAAAAAA
    xchg eax, edi
    ASSERT_EQ eax, 0x12345678
    ASSERT_EQ edi, 0xAAAAAAAA

    TEST "xchg reg, mem"
    mov word [DATA], 0x5555
    mov ax, 0x6666
    xchg [DATA], ax
    ASSERT_EQ ax, 0x5555
    ASSERT_EQ word [DATA], 0x6666
    mov dword [DATA], 0x01234567
    mov ebx, 0x89ABCDEF
    xchg ebx, [DATA]
    ASSERT_EQ ebx, 0x01234567
    ASSERT_EQ dword [DATA], 0x89ABCDEF
    mov cl, 0x42
    xchg cl, [DATA]
    ASSERT_EQ cl, 0xEF
    ASSERT_EQ byte [DATA], 0x42

    TEST "cbw cwde"
    mov eax, 0x12345680
    cbw
    ASSERT_EQ eax, 0x1234FF80
    mov al, 0x7F
    cbw
    ASSERT_EQ eax, 0x1234007F
    mov ax, 0x8000
    cwde
    ASSERT_EQ eax, 0xFFFF8000
    mov ax, 0x7FFF
    cwde
    ASSERT_EQ eax, 0x00007FFF

    TEST "cwd cdq"
    mov edx, 0x12345678
    mov ax, 0x8000
    cwd
    ASSERT_EQ edx, 0x1234FFFF
    mov ax, 0x7FFF
    cwd
    ASSERT_EQ edx, 0x12340000
    mov eax, 0x80000000
    cdq
    ASSERT_EQ edx, 0xFFFFFFFF
    mov eax, 0x7FFFFFFF
    cdq
    ASSERT_EQ edx, 0

    PASS_ALL

ROM_END
