; 17-string-cmps-scas: cmps and scas, byte/word/dword, single and with
; REPE/REPNE: termination on the flag condition or on CX reaching 0, final
; SI/DI/CX, flags of the last comparison (cmps = [DS:SI] - [ES:DI], scas =
; accumulator - [ES:DI]), REP with CX=0 (no iteration, flags untouched),
; DF=1, a source override, and 0x67 (ECX/EDI). Strings live in the ROM.
%include "test.inc"

BUF equ SCRATCH                     ; RAM copy of some strings (DS=ES=0)

ROM_START "17-string-cmps-scas"
    jmp tests

str_abcXef: db "abcXef"
str_abcYef: db "abcYef"
str_abcd:   db "abcd"
str_xyzd:   db "xyzd"
str_hello:  db "hello x!"
str_spaces: db "   a      "
words:      dw 0x1111, 0x2222, 0x1234, 0x3333
dwords:     dd 0x11111111, 0x22222222, 0xCAFEBABE, 0

tests:
    TEST "repe cmpsb stops at difference"
    mov ax, cs
    mov ds, ax
    mov es, ax
    mov si, str_abcXef
    mov di, str_abcYef
    mov cx, 6
    repe cmpsb
    ASSERT_FLAGS F_ARITH, F_CF | F_SF | F_AF | F_PF ; 'X' - 'Y'
    ASSERT_EQ cx, 2
    ASSERT_EQ si, str_abcXef + 4
    ASSERT_EQ di, str_abcYef + 4

    TEST "repe cmpsb runs out"
    mov si, str_abcXef
    mov di, str_abcXef
    mov cx, 6
    repe cmpsb
    ASSERT_Z
    ASSERT_EQ cx, 0
    ASSERT_EQ si, str_abcXef + 6

    TEST "repne cmpsb stops at equal"
    mov si, str_abcd
    mov di, str_xyzd
    mov cx, 10
    repne cmpsb
    ASSERT_Z
    ASSERT_EQ cx, 6
    ASSERT_EQ si, str_abcd + 4

    TEST "cmpsb operand order and flags"
    xor ax, ax
    mov ds, ax
    mov es, ax
    mov byte [BUF], 0x80
    mov byte [BUF + 1], 0x01
    mov si, BUF
    mov di, BUF + 1
    SETF F_CF | F_ZF
    cmpsb                           ; 0x80 - 0x01
    ASSERT_FLAGS F_ARITH, F_OF | F_AF
    ASSERT_EQ si, BUF + 1
    ASSERT_EQ di, BUF + 2

    TEST "scasb operand order and flags"
    mov al, 0x01
    mov di, BUF
    scasb                           ; 0x01 - 0x80
    ASSERT_FLAGS F_ARITH, F_CF | F_OF | F_SF | F_PF
    ASSERT_EQ di, BUF + 1

    TEST "repne scasb finds"
    mov ax, cs
    mov es, ax
    mov al, 'x'
    mov di, str_hello
    mov cx, 20
    repne scasb
    ASSERT_Z
    ASSERT_EQ cx, 13
    ASSERT_EQ di, str_hello + 7

    TEST "repne scasb not found"
    mov al, 'q'
    mov di, str_hello
    mov cx, 8
    repne scasb
    ASSERT_NZ
    ASSERT_EQ cx, 0
    ASSERT_EQ di, str_hello + 8

    TEST "repe scasb skips"
    mov al, ' '
    mov di, str_spaces
    mov cx, 10
    repe scasb
    ASSERT_NZ
    ASSERT_EQ cx, 6
    ASSERT_EQ di, str_spaces + 4

    TEST "scasw scasd"
    mov ax, 0x1234
    mov di, words
    mov cx, 4
    repne scasw
    ASSERT_Z
    ASSERT_EQ cx, 1
    ASSERT_EQ di, words + 6
    mov eax, 0xCAFEBABE
    mov di, dwords
    mov cx, 4
    repne scasd
    ASSERT_Z
    ASSERT_EQ cx, 1
    ASSERT_EQ di, dwords + 12
    mov ax, cs
    mov ds, ax
    mov si, words
    mov di, words
    mov cx, 4
    repe cmpsw
    ASSERT_Z
    ASSERT_EQ cx, 0
    mov si, dwords
    mov di, words
    mov cx, 4
    repe cmpsd                      ; 0x11111111 vs 0x22221111
    ASSERT_NZ
    ASSERT_C
    ASSERT_EQ cx, 3

    TEST "rep with CX=0 does nothing"
    mov si, str_abcXef
    mov di, str_abcYef
    mov cx, 0
    SETF F_CF | F_ZF | F_SF
    repe cmpsb
    ASSERT_FLAGS F_ARITH, F_CF | F_ZF | F_SF
    ASSERT_EQ si, str_abcXef
    ASSERT_EQ di, str_abcYef
    SETF 0
    repne scasb
    ASSERT_FLAGS F_ARITH, 0
    ASSERT_EQ di, str_abcYef
    xor ax, ax
    mov es, ax
    mov byte [es:BUF + 0x10], 0x66
    mov di, BUF + 0x10
    mov al, 0
    rep stosb
    ASSERT_EQ byte [es:BUF + 0x10], 0x66
    ASSERT_EQ cx, 0

    TEST "scasb backwards (DF=1)"
    mov ax, cs
    mov es, ax
    std
    mov al, 'h'
    mov di, str_hello + 7
    mov cx, 8
    repne scasb
    cld
    ASSERT_Z
    ASSERT_EQ cx, 0                 ; found on the last allowed iteration
    ASSERT_EQ di, str_hello - 1

    TEST "cmps source override"
    xor ax, ax
    mov ds, ax                      ; DS would give zeros
    mov ax, cs
    mov fs, ax
    mov es, ax
    mov si, str_abcd
    mov di, str_abcd
    mov cx, 4
    repe fs cmpsb
    ASSERT_Z
    ASSERT_EQ cx, 0
    xor ax, ax
    mov fs, ax

    TEST "a32 repne scasb uses ECX/EDI"
    mov ax, cs
    mov es, ax
    mov al, '!'
    mov edi, str_hello
    mov ecx, 100
    a32 repne scasb
    ASSERT_Z
    ASSERT_EQ ecx, 92
    ASSERT_EQ edi, str_hello + 8
    mov edi, 0xFFFF0000 + str_hello ; a16 ignores the high halves
    mov ecx, 0xFFFF0064
    repne scasb
    ASSERT_EQ ecx, 0xFFFF005C
    ASSERT_EQ edi, 0xFFFF0000 + str_hello + 8

    xor ax, ax
    mov ds, ax
    mov es, ax
    PASS_ALL

ROM_END
