; 16-string-movs-stos: stos and movs, byte/word/dword, single and REP, DF=0
; and DF=1, overlapping REP MOVSB (must behave byte by byte), a source
; segment override, and the address-size prefix 0x67 (ESI/EDI/ECX instead of
; SI/DI/CX, including the 16-bit wrap of SI versus no wrap of ESI).
%include "test.inc"

SRC   equ 0x0800                    ; DS=0: 16 bytes 01 02 .. 10
DSEG  equ 0x1000                    ; destination segment (phys 0x10000)

ROM_START "16-string-movs-stos"
    mov dword [SRC], 0x04030201
    mov dword [SRC + 4], 0x08070605
    mov dword [SRC + 8], 0x0C0B0A09
    mov dword [SRC + 12], 0x100F0E0D
    mov ax, DSEG
    mov es, ax

    TEST "rep stosb"
    mov al, 0xEE
    mov di, 0
    mov cx, 32
    rep stosb
    ASSERT_EQ di, 32
    ASSERT_EQ cx, 0
    ASSERT_EQ dword [es:0], 0xEEEEEEEE
    ASSERT_EQ dword [es:28], 0xEEEEEEEE
    ASSERT_EQ byte [es:32], 0

    TEST "stos word/dword and single"
    mov ax, 0x1234
    mov di, 0x40
    mov cx, 4
    rep stosw
    ASSERT_EQ di, 0x48
    ASSERT_EQ word [es:0x46], 0x1234
    mov eax, 0xDEADBEEF
    mov cx, 2
    rep stosd
    ASSERT_EQ di, 0x50
    ASSERT_EQ dword [es:0x4C], 0xDEADBEEF
    mov al, 0x77
    stosb
    ASSERT_EQ di, 0x51
    ASSERT_EQ byte [es:0x50], 0x77
    ASSERT_EQ cx, 0

    TEST "stos backwards (DF=1)"
    std
    mov al, 0x5A
    mov di, 0x6F
    mov cx, 4
    rep stosb
    ASSERT_EQ di, 0x6B
    ASSERT_EQ dword [es:0x6C], 0x5A5A5A5A
    ASSERT_EQ byte [es:0x6B], 0
    mov eax, 0x11223344
    mov di, 0x7C
    mov cx, 2
    rep stosd
    ASSERT_EQ di, 0x74
    ASSERT_EQ dword [es:0x78], 0x11223344
    ASSERT_EQ dword [es:0x7C], 0x11223344
    cld

    TEST "rep movsb"
    mov si, SRC
    mov di, 0x100
    mov cx, 5
    rep movsb
    ASSERT_EQ si, SRC + 5
    ASSERT_EQ di, 0x105
    ASSERT_EQ cx, 0
    ASSERT_EQ dword [es:0x100], 0x04030201
    ASSERT_EQ byte [es:0x104], 0x05
    ASSERT_EQ byte [es:0x105], 0

    TEST "movsw movsd"
    mov si, SRC
    mov di, 0x120
    mov cx, 3
    rep movsw
    ASSERT_EQ si, SRC + 6
    ASSERT_EQ di, 0x126
    ASSERT_EQ word [es:0x124], 0x0605
    mov cx, 2
    rep movsd                       ; continues from SRC+6
    ASSERT_EQ si, SRC + 14
    ASSERT_EQ di, 0x12E
    ASSERT_EQ dword [es:0x126], 0x0A090807
    ASSERT_EQ dword [es:0x12A], 0x0E0D0C0B
    movsb
    ASSERT_EQ byte [es:0x12E], 0x0F

    TEST "movs backwards (DF=1)"
    std
    mov si, SRC + 15
    mov di, 0x20F
    mov cx, 4
    rep movsb
    ASSERT_EQ si, SRC + 11
    ASSERT_EQ di, 0x20B
    ASSERT_EQ dword [es:0x20C], 0x100F0E0D
    mov si, SRC + 14
    mov di, 0x30E
    mov cx, 2
    rep movsw
    ASSERT_EQ si, SRC + 10
    ASSERT_EQ di, 0x30A
    ASSERT_EQ dword [es:0x30C], 0x100F0E0D
    mov si, SRC + 4
    mov di, 0x404
    movsd
    ASSERT_EQ si, SRC
    ASSERT_EQ dword [es:0x404], 0x08070605
    cld

    TEST "overlapping rep movsb replicates"
    push ds
    push es
    pop ds                          ; DS = ES = DSEG
    mov byte [0x500], 0xAB
    mov byte [0x501], 0xCD
    mov si, 0x500
    mov di, 0x502
    mov cx, 8                       ; copies forward one byte at a time
    rep movsb
    pop ds
    ASSERT_EQ dword [es:0x500], 0xCDABCDAB
    ASSERT_EQ dword [es:0x504], 0xCDABCDAB
    ASSERT_EQ dword [es:0x506], 0xCDABCDAB

    TEST "movs source override"
    mov ax, 0x2000
    mov fs, ax
    mov dword [fs:0x10], 0x600DF00D
    mov si, 0x10
    mov di, 0x600
    fs movsd
    ASSERT_EQ dword [es:0x600], 0x600DF00D
    mov si, 0x10
    mov di, 0x604
    mov cx, 4
    rep fs movsb
    ASSERT_EQ dword [es:0x604], 0x600DF00D
    xor ax, ax
    mov fs, ax

    TEST "a16 uses SI/DI/CX only"
    mov esi, 0xABCD0000 + SRC
    mov edi, 0x12340700
    mov ecx, 0x00050003
    rep movsb
    ASSERT_EQ esi, 0xABCD0000 + SRC + 3
    ASSERT_EQ edi, 0x12340703
    ASSERT_EQ ecx, 0x00050000
    ASSERT_EQ word [es:0x700], 0x0201

    TEST "a32 uses ESI/EDI/ECX"
    mov esi, SRC
    mov edi, 0x720
    mov ecx, 3
    a32 rep movsb
    ASSERT_EQ esi, SRC + 3
    ASSERT_EQ edi, 0x723
    ASSERT_EQ ecx, 0
    ASSERT_EQ word [es:0x721], 0x0302
    mov eax, 0x01020304
    mov edi, 0x740
    mov ecx, 2
    a32 rep stosd
    ASSERT_EQ edi, 0x748
    ASSERT_EQ dword [es:0x744], 0x01020304

    TEST "SI wraps at 64K, ESI does not"
    mov byte [0xFFFF], 0x99         ; DS:FFFF
    mov esi, 0x0000FFFF
    mov edi, 0x800
    movsb                           ; a16: SI wraps to 0
    ASSERT_EQ esi, 0
    ASSERT_EQ byte [es:0x800], 0x99
    mov esi, 0x0000FFFF
    mov edi, 0x801
    a32 movsb                       ; a32: ESI becomes 0x10000
    ASSERT_EQ esi, 0x00010000
    ASSERT_EQ byte [es:0x801], 0x99
    mov edi, 0x0000FFFF
    mov al, 0x42
    stosb
    ASSERT_EQ edi, 0
    ASSERT_EQ byte [es:0xFFFF], 0x42

    PASS_ALL

ROM_END
