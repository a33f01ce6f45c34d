; 18-string-lods-ins-outs: lods (byte/word/dword, REP, DF=1, source
; override, 0x67) and the port string instructions outs/ins with and without
; REP to the POST port 0x80. Values read by ins from port 0x80 are
; implementation-defined, so only the pointer/count updates and that ins
; writes to ES:DI (not DS:DI) are checked.
%include "test.inc"

SRC equ 0x0800
DST equ 0x0900

ROM_START "18-string-lods-ins-outs"
    mov dword [SRC], 0x04030201
    mov dword [SRC + 4], 0x08070605

    TEST "lodsb lodsw lodsd"
    mov si, SRC
    mov eax, 0xFFFFFFFF
    lodsb
    ASSERT_EQ eax, 0xFFFFFF01       ; only AL is written
    ASSERT_EQ si, SRC + 1
    lodsw
    ASSERT_EQ eax, 0xFFFF0302
    ASSERT_EQ si, SRC + 3
    lodsd
    ASSERT_EQ eax, 0x07060504
    ASSERT_EQ si, SRC + 7

    TEST "lods does not touch flags"
    mov si, SRC
    SETF F_ARITH
    lodsb
    ASSERT_FLAGS F_ARITH, F_ARITH
    SETF 0
    lodsd
    ASSERT_FLAGS F_ARITH, 0

    TEST "rep lodsb keeps the last"
    mov si, SRC
    mov cx, 5
    rep lodsb
    ASSERT_EQ al, 0x05
    ASSERT_EQ cx, 0
    ASSERT_EQ si, SRC + 5

    TEST "lods backwards (DF=1)"
    std
    mov si, SRC + 6
    lodsw
    ASSERT_EQ ax, 0x0807
    ASSERT_EQ si, SRC + 4
    lodsb
    ASSERT_EQ al, 0x05
    ASSERT_EQ si, SRC + 3
    lodsd
    ASSERT_EQ si, SRC - 1
    ASSERT_EQ eax, 0x07060504       ; the dword at SRC+3
    cld

    TEST "lods overrides and a32"
    mov ax, 0x3000
    mov gs, ax
    mov dword [gs:0x20], 0x55AA55AA
    mov si, 0x20
    gs lodsd
    ASSERT_EQ eax, 0x55AA55AA
    mov si, __rom_name              ; CS: the ROM name string
    cs lodsb
    ASSERT_EQ al, '1'
    mov esi, SRC + 2
    a32 lodsw
    ASSERT_EQ ax, 0x0403
    ASSERT_EQ esi, SRC + 4
    xor ax, ax
    mov gs, ax

    TEST "outsb outsw outsd"
    mov dx, POST_PORT
    mov si, SRC
    outsb
    ASSERT_EQ si, SRC + 1
    outsw
    ASSERT_EQ si, SRC + 3
    outsd
    ASSERT_EQ si, SRC + 7
    ASSERT_EQ dx, POST_PORT

    TEST "rep outsb / outsw"
    mov si, SRC
    mov cx, 4
    rep outsb
    ASSERT_EQ si, SRC + 4
    ASSERT_EQ cx, 0
    mov cx, 2
    rep outsw
    ASSERT_EQ si, SRC + 8
    std
    mov si, SRC + 7
    mov cx, 3
    rep outsb
    cld
    ASSERT_EQ si, SRC + 4
    mov si, SRC
    mov cx, 0
    rep outsb                       ; CX=0: nothing
    ASSERT_EQ si, SRC

    TEST "outs source override"
    mov si, 0
    cs outsb                        ; reads the ROM
    ASSERT_EQ si, 1

    TEST "insb insw insd update DI"
    mov dx, POST_PORT
    mov di, DST
    insb
    ASSERT_EQ di, DST + 1
    insw
    ASSERT_EQ di, DST + 3
    insd
    ASSERT_EQ di, DST + 7
    mov cx, 3
    rep insb
    ASSERT_EQ di, DST + 10
    ASSERT_EQ cx, 0
    std
    mov cx, 2
    rep insw
    cld
    ASSERT_EQ di, DST + 6

    TEST "ins writes ES:DI"
    mov ax, 0x4000
    mov es, ax
    mov dword [es:0x10], 0xA5A5A5A5
    mov dword [0x10], 0xA5A5A5A5    ; DS:0x10 must stay as is
    mov byte [0x14], 0x3C
    mov di, 0x10
    mov cx, 5
    rep insb
    ASSERT_EQ di, 0x15
    ASSERT_EQ dword [0x10], 0xA5A5A5A5
    ASSERT_EQ byte [0x14], 0x3C
    xor ax, ax
    mov es, ax

    TEST "a32 rep outsb uses ECX/ESI"
    mov esi, SRC
    mov ecx, 3
    a32 rep outsb
    ASSERT_EQ esi, SRC + 3
    ASSERT_EQ ecx, 0

    PASS_ALL

ROM_END
