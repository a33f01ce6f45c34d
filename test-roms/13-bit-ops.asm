; 13-bit-ops: bt/bts/btr/btc with register and immediate bit offsets on
; register operands (offset taken modulo the width) and on memory operands
; (a register offset is a signed bit string index that can reach outside the
; addressed word/dword, in both directions), plus bsf/bsr including the zero
; source (ZF=1). BTx: CF = the old bit, ZF unchanged. BSx: only ZF checked.
%include "test.inc"

BITS_AT equ SCRATCH + 0x40          ; 32-byte bit string, middle at +16
BASE    equ BITS_AT + 16

; CLEAR_BITS: zero the 32-byte bit string
%macro CLEAR_BITS 0
    mov dword [BITS_AT], 0
    mov dword [BITS_AT + 4], 0
    mov dword [BITS_AT + 8], 0
    mov dword [BITS_AT + 12], 0
    mov dword [BITS_AT + 16], 0
    mov dword [BITS_AT + 20], 0
    mov dword [BITS_AT + 24], 0
    mov dword [BITS_AT + 28], 0
%endmacro

ROM_START "13-bit-ops"

    TEST "bt reg, imm"
    mov ax, 0x0008
    SETF F_ZF
    bt ax, 3
    ASSERT_FLAGS F_CF | F_ZF, F_CF | F_ZF
    SETF F_CF
    bt ax, 2
    ASSERT_FLAGS F_CF | F_ZF, 0
    bt ax, 19                       ; 19 mod 16 = 3
    ASSERT_C
    mov eax, 0x80000000
    bt eax, 31
    ASSERT_C
    bt eax, 63                      ; 63 mod 32 = 31
    ASSERT_C
    ASSERT_EQ eax, 0x80000000       ; bt does not write

    TEST "bt reg, reg"
    mov ax, 0x0008
    mov cx, 19                      ; register destination: offset mod 16
    bt ax, cx
    ASSERT_C
    mov eax, 0x80000001
    mov ecx, 63
    bt eax, ecx
    ASSERT_C
    mov ecx, 0xFFFFFFE0             ; -32 mod 32 = 0
    bt eax, ecx
    ASSERT_C
    mov ecx, 1
    bt eax, ecx
    ASSERT_NC

    TEST "bts btr btc reg"
    xor ax, ax
    SETF F_CF | F_ZF
    bts ax, 5
    ASSERT_FLAGS F_CF | F_ZF, F_ZF
    ASSERT_EQ ax, 0x0020
    bts ax, 5
    ASSERT_C
    ASSERT_EQ ax, 0x0020
    SETF 0
    btr ax, 5
    ASSERT_FLAGS F_CF | F_ZF, F_CF
    ASSERT_EQ ax, 0
    btr ax, 5
    ASSERT_NC
    mov ebx, 0x0000FFFF
    btc ebx, 31
    ASSERT_NC
    ASSERT_EQ ebx, 0x8000FFFF
    mov ecx, 32 + 15                ; masked to 15
    btc ebx, ecx
    ASSERT_C
    ASSERT_EQ ebx, 0x80007FFF
    mov dx, 0x1234
    mov si, 0x12
    btr dx, si                      ; bit 0x12 mod 16 = 2
    ASSERT_C
    ASSERT_EQ dx, 0x1230

    TEST "bt mem, imm"
    CLEAR_BITS
    mov word [BASE], 0x0002
    bt word [BASE], 1
    ASSERT_C
    bt word [BASE], 17              ; immediate: masked to 1, stays in the word
    ASSERT_C
    bts dword [BASE], 31
    ASSERT_NC
    ASSERT_EQ dword [BASE], 0x80000002
    btr dword [BASE], 33            ; masked to 1
    ASSERT_C
    ASSERT_EQ dword [BASE], 0x80000000
    btc word [BASE + 2], 15
    ASSERT_C
    ASSERT_EQ dword [BASE], 0

    TEST "bt mem, reg beyond the operand"
    CLEAR_BITS
    mov bx, BASE
    mov ax, 70                      ; word at BASE + 2*(70>>4) = +8, bit 6
    bts word [bx], ax
    ASSERT_NC
    ASSERT_EQ byte [BASE + 8], 0x40
    bt word [bx], ax
    ASSERT_C
    mov ax, 71
    bt word [bx], ax
    ASSERT_NC
    mov eax, 100                    ; dword at BASE + 4*(100>>5) = +12, bit 4
    bts dword [bx], eax
    ASSERT_NC
    ASSERT_EQ byte [BASE + 12], 0x10
    btc dword [BASE], eax
    ASSERT_C
    ASSERT_EQ byte [BASE + 12], 0

    TEST "bt mem, reg negative offset"
    CLEAR_BITS
    mov bx, BASE
    mov ax, -1                      ; word at BASE-2, bit 15 = byte BASE-1 bit 7
    bts word [bx], ax
    ASSERT_NC
    ASSERT_EQ byte [BASE - 1], 0x80
    mov ax, -16                     ; word at BASE-2, bit 0
    bts word [bx], ax
    ASSERT_EQ byte [BASE - 2], 0x01
    mov eax, -33                    ; dword at BASE-8, bit 31 = byte BASE-5 bit 7
    bts dword [bx], eax
    ASSERT_NC
    ASSERT_EQ byte [BASE - 5], 0x80
    btr dword [bx], eax
    ASSERT_C
    ASSERT_EQ byte [BASE - 5], 0
    mov ax, -1
    btr word [BASE], ax
    ASSERT_C
    ASSERT_EQ byte [BASE - 1], 0
    ASSERT_EQ byte [BASE - 2], 0x01 ; neighbours untouched

    TEST "bsf"
    mov bx, 0x0100
    SETF F_ZF
    bsf ax, bx
    ASSERT_NZ
    ASSERT_EQ ax, 8
    mov bx, 0x8000
    bsf ax, bx
    ASSERT_EQ ax, 15
    mov ecx, 0x80000000
    bsf eax, ecx
    ASSERT_NZ
    ASSERT_EQ eax, 31
    mov dword [SCRATCH], 0x00060000
    bsf edx, [SCRATCH]
    ASSERT_EQ edx, 17
    mov word [SCRATCH], 0x0001
    bsf dx, [SCRATCH]
    ASSERT_EQ dx, 0

    TEST "bsr"
    mov bx, 0x0101
    bsr ax, bx
    ASSERT_NZ
    ASSERT_EQ ax, 8
    mov bx, 1
    bsr ax, bx
    ASSERT_EQ ax, 0
    mov ecx, 0xFFFFFFFF
    bsr eax, ecx
    ASSERT_EQ eax, 31
    mov dword [SCRATCH], 0x00060000
    bsr edx, [SCRATCH]
    ASSERT_EQ edx, 18

    TEST "bsf/bsr zero source sets ZF"
    xor bx, bx
    SETF 0
    bsf ax, bx
    ASSERT_Z
    SETF 0
    bsr ax, bx
    ASSERT_Z
    xor ecx, ecx
    SETF 0
    bsf eax, ecx
    ASSERT_Z
    mov dword [SCRATCH], 0
    SETF 0
    bsr eax, [SCRATCH]
    ASSERT_Z

    PASS_ALL

ROM_END
