; 01-boot-serial: the smallest ROM. Reset vector -> setup -> COM1 output -> pass.
; If this fails, nothing else can work: reset at F000:FFF0, far jmp, stack,
; port I/O polling the UART LSR, and the debug-exit port.
%include "test.inc"

ROM_START "01-boot-serial"

    TEST "hello"
    PUTS_LIT "hello from btvm test rom"
    PUTNL

    TEST "cs is f000"
    mov ax, cs
    ASSERT_EQ ax, 0xF000

    TEST "stack works"
    mov ax, 0x1234
    push ax
    xor ax, ax
    pop ax
    ASSERT_EQ ax, 0x1234
    ASSERT_EQ sp, STACK_TOP

    TEST "ram is writable"
    mov word [SCRATCH], 0xBEEF
    ASSERT_EQ word [SCRATCH], 0xBEEF

    PASS_ALL

ROM_END
