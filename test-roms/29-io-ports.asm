; 29-io-ports: port I/O instructions. out/in with an imm8 port and with DX,
; byte/word/dword widths to the POST port 0x80 (write-only in effect: the
; value read back is not checked), and a write/read-back through the 16550
; scratch register (COM1 + 7 = 0x3FF), which stores any byte. Also that
; in/out change no flags and that IN only writes the destination width.
%include "test.inc"

ROM_START "29-io-ports"

    TEST "out to POST port"
    mov al, 0x29
    out POST_PORT, al
    mov ax, 0x1234
    out POST_PORT, ax
    mov eax, 0x12345678
    out POST_PORT, eax
    mov dx, POST_PORT
    mov al, 0x55
    out dx, al
    out dx, ax
    out dx, eax
    ASSERT_EQ dx, POST_PORT
    ASSERT_EQ eax, 0x12345655

    TEST "in from POST port"
    in al, POST_PORT                ; value is implementation-defined
    mov dx, POST_PORT
    in al, dx
    ASSERT_EQ dx, POST_PORT

    TEST "in/out do not touch flags"
    SETF F_ARITH
    out POST_PORT, al
    in al, POST_PORT
    ASSERT_FLAGS F_ARITH, F_ARITH
    SETF 0
    out dx, al
    in al, dx
    ASSERT_FLAGS F_ARITH, 0

    TEST "UART scratch register"
    mov dx, COM1_SCR
    mov al, 0x55
    out dx, al
    xor al, al
    in al, dx
    ASSERT_EQ al, 0x55
    mov al, 0xAA
    out dx, al
    mov al, 0
    in al, dx
    ASSERT_EQ al, 0xAA
    mov al, 0x00
    out dx, al
    mov al, 0xFF
    in al, dx
    ASSERT_EQ al, 0x00

    TEST "in al only writes AL"
    mov al, 0x3C
    out dx, al
    mov eax, 0x12345678
    in al, dx
    ASSERT_EQ eax, 0x1234563C

    TEST "LSR reports THR empty"
    mov dx, COM1_LSR
    in al, dx
    test al, LSR_THRE
    ASSERT_NZ

    PASS_ALL

ROM_END
