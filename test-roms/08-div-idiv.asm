; 08-div-idiv: unsigned div and signed idiv results (quotient truncated toward
; zero, remainder takes the dividend's sign) for 8/16/32-bit operands, and
; the divide error #DE (vector 0) for division by zero and quotient overflow.
; #DE is a fault: the handler installed here checks that the pushed CS:IP is
; the first byte of the dividing instruction (prefixes included), that the
; destination registers were left unchanged, and skips the instruction by
; adding its length to the pushed IP.
%include "test.inc"

DATA      equ SCRATCH
DE_IP     equ SCRATCH + 0x10        ; expected faulting IP
DE_LEN    equ SCRATCH + 0x12        ; length of the faulting instruction
DE_COUNT  equ SCRATCH + 0x14        ; #DE taken
DE_GOT_IP equ SCRATCH + 0x16        ; IP the CPU pushed

; DIVT insn..., then check quotient/remainder registers afterwards.
; DE_EXPECT insn...: the instruction must raise #DE exactly once.
%macro DE_EXPECT 1+
    mov word [DE_IP], %%insn
    mov word [DE_LEN], %%end - %%insn
    mov word [DE_COUNT], 0
%%insn:
    %1
%%end:
    ASSERT_EQ word [DE_COUNT], 1
%endmacro

ROM_START "08-div-idiv"
    SET_IVT 0, de_handler
    jmp tests

; #DE handler: stack = IP, CS, FLAGS
de_handler:
    push bp
    mov bp, sp
    push ds
    push ax
    xor ax, ax
    mov ds, ax
    mov ax, [bp + 2]
    mov [DE_GOT_IP], ax
    ASSERT_EQ ax, [DE_IP]           ; IP points AT the div, not after it
    ASSERT_EQ word [bp + 4], 0xF000
    inc word [DE_COUNT]
    add ax, [DE_LEN]                ; skip the faulting instruction
    mov [bp + 2], ax
    pop ax
    pop ds
    pop bp
    iret

tests:
    TEST "div r/m8"
    mov ax, 100
    mov bl, 7
    div bl
    ASSERT_EQ al, 14
    ASSERT_EQ ah, 2
    mov ax, 0xFEFF                  ; 65279 / 255 = 255 rem 254
    mov byte [DATA], 0xFF
    div byte [DATA]
    ASSERT_EQ ax, 0xFEFF
    mov ax, 0x00FF
    mov cl, 0x10
    div cl
    ASSERT_EQ ax, 0x0F0F

    TEST "div r/m16"
    mov dx, 0x0001                  ; 65536 / 2
    mov ax, 0x0000
    mov cx, 2
    div cx
    ASSERT_EQ ax, 0x8000
    ASSERT_EQ dx, 0
    mov dx, 0x00FF                  ; 0x00FFFFFF / 0x100 = 0xFFFF rem 0xFF
    mov ax, 0xFFFF
    mov word [DATA], 0x0100
    div word [DATA]
    ASSERT_EQ ax, 0xFFFF
    ASSERT_EQ dx, 0x00FF

    TEST "div r/m32"
    mov edx, 1
    mov eax, 0
    mov ecx, 0x10
    div ecx
    ASSERT_EQ eax, 0x10000000
    ASSERT_EQ edx, 0
    mov edx, 0x0000000F
    mov eax, 0xFFFFFFFF
    mov dword [DATA], 0x10
    div dword [DATA]
    ASSERT_EQ eax, 0xFFFFFFFF
    ASSERT_EQ edx, 0x0000000F
    mov edx, 0
    mov eax, 1000000007
    mov ebx, 1000
    div ebx
    ASSERT_EQ eax, 1000000
    ASSERT_EQ edx, 7

    TEST "idiv r/m8"
    mov ax, -7
    mov bl, 2
    idiv bl
    ASSERT_EQ al, -3 & 0xFF
    ASSERT_EQ ah, -1 & 0xFF
    mov ax, 7
    mov bl, -2
    idiv bl
    ASSERT_EQ al, -3 & 0xFF
    ASSERT_EQ ah, 1
    mov ax, -256                    ; quotient -128 is representable
    mov bl, 2
    idiv bl
    ASSERT_EQ al, 0x80
    ASSERT_EQ ah, 0
    mov ax, -7
    mov byte [DATA], -2
    idiv byte [DATA]
    ASSERT_EQ al, 3
    ASSERT_EQ ah, -1 & 0xFF

    TEST "idiv r/m16"
    mov dx, 0xFFFE                  ; -100000 / 7 = -14285 rem -5
    mov ax, 0x7960
    mov cx, 7
    idiv cx
    ASSERT_EQ ax, -14285 & 0xFFFF
    ASSERT_EQ dx, -5 & 0xFFFF
    mov dx, 0
    mov ax, 0x7FFF
    mov word [DATA], -1
    idiv word [DATA]
    ASSERT_EQ ax, 0x8001
    ASSERT_EQ dx, 0

    TEST "idiv r/m32"
    mov edx, 0xFFFFFFFF
    mov eax, 0xFFFFFFFF
    mov ecx, 1
    idiv ecx
    ASSERT_EQ eax, 0xFFFFFFFF
    ASSERT_EQ edx, 0
    mov edx, 0                      ; 2^31 / -1 = -2^31 is representable
    mov eax, 0x80000000
    mov ecx, -1
    idiv ecx
    ASSERT_EQ eax, 0x80000000
    ASSERT_EQ edx, 0
    mov edx, 0xFFFFFFFF             ; -1000000007 / 1000 = -1000000 rem -7
    mov eax, -1000000007
    mov dword [DATA], 1000
    idiv dword [DATA]
    ASSERT_EQ eax, -1000000
    ASSERT_EQ edx, -7

    TEST "div small remainder"
    mov ax, 10
    mov bl, 3
    div bl
    ASSERT_EQ ax, 0x0103

    TEST "#DE divide by zero 8"
    mov ax, 0x1234
    mov bl, 0
    DE_EXPECT div bl
    ASSERT_EQ ax, 0x1234            ; a fault leaves the destination alone

    TEST "#DE divide by zero 16/32"
    mov dx, 0x1111
    mov ax, 0x2222
    mov cx, 0
    DE_EXPECT div cx
    ASSERT_EQ dx, 0x1111
    ASSERT_EQ ax, 0x2222
    mov edx, 0
    mov eax, 5
    mov ecx, 0
    DE_EXPECT idiv ecx
    ASSERT_EQ eax, 5
    mov dword [DATA], 0
    DE_EXPECT div dword [DATA]
    mov ebx, DATA
    DE_EXPECT div dword [ebx]       ; 66 67 prefixes: IP is the first prefix

    TEST "#DE div quotient overflow"
    mov ax, 0x0100                  ; 256 / 1 does not fit AL
    mov bl, 1
    DE_EXPECT div bl
    ASSERT_EQ ax, 0x0100
    mov dx, 0x0002
    mov ax, 0
    mov cx, 2                       ; 0x20000 / 2 = 0x10000
    DE_EXPECT div cx
    mov edx, 5
    mov eax, 0
    mov ecx, 5
    DE_EXPECT div ecx

    TEST "#DE idiv quotient overflow"
    mov ax, -128                    ; -128 / -1 = 128
    mov bl, -1
    DE_EXPECT idiv bl
    ASSERT_EQ ax, -128 & 0xFFFF
    mov ax, 128                     ; 128 / 1
    mov bl, 1
    DE_EXPECT idiv bl
    mov ax, -129                    ; -129 / 1
    DE_EXPECT idiv bl
    mov dx, 0xFFFF                  ; -32768 / -1
    mov ax, 0x8000
    mov cx, -1
    DE_EXPECT idiv cx
    mov edx, 0xFFFFFFFF             ; -2^31 / -1
    mov eax, 0x80000000
    mov ecx, -1
    DE_EXPECT idiv ecx
    ASSERT_EQ eax, 0x80000000
    ASSERT_EQ edx, 0xFFFFFFFF

    TEST "execution continues after #DE"
    mov ax, 9
    mov bl, 3
    div bl
    ASSERT_EQ al, 3

    PASS_ALL

ROM_END
