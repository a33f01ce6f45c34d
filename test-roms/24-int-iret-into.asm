; 24-int-iret-into: software interrupts through the real-mode IVT. INT n
; pushes FLAGS, CS, IP (of the next instruction), clears IF and TF, and jumps
; to IVT[n]; IRET pops all three (so a handler can change the caller's flags
; and return address). INT3 (CC) and INT 3 (CD 03), INTO with OF clear (no
; trap) and set (vector 4), vector 0xFF (last IVT slot), and IRETD (0x66).
; The PIC is masked so that IF=1 is safe.
%include "test.inc"

S         equ STACK_TOP
REC_IP    equ SCRATCH + 0x00        ; recorded by the handlers
REC_CS    equ SCRATCH + 0x02
REC_FL    equ SCRATCH + 0x04        ; FLAGS pushed by INT
REC_INFL  equ SCRATCH + 0x06        ; FLAGS inside the handler
REC_SP    equ SCRATCH + 0x08        ; SP inside the handler
REC_VEC   equ SCRATCH + 0x0A
REC_COUNT equ SCRATCH + 0x0C

; REC_HANDLER name, vector: record the interrupt frame and return
%macro REC_HANDLER 2
%1:
    push ds
    push bp
    push ax
    pushf
    mov bp, sp
    ; [bp+0] flags now, +2 ax, +4 bp, +6 ds, +8 IP, +10 CS, +12 FLAGS
    xor ax, ax
    mov ds, ax
    mov ax, [bp + 0]
    mov [REC_INFL], ax
    mov ax, [bp + 8]
    mov [REC_IP], ax
    mov ax, [bp + 10]
    mov [REC_CS], ax
    mov ax, [bp + 12]
    mov [REC_FL], ax
    lea ax, [bp + 8]
    mov [REC_SP], ax
    mov word [REC_VEC], %2
    inc word [REC_COUNT]
    popf
    pop ax
    pop bp
    pop ds
    iret
%endmacro

; CLEAR_REC
%macro CLEAR_REC 0
    mov word [REC_COUNT], 0
    mov word [REC_VEC], 0xFFFF
%endmacro

ROM_START "24-int-iret-into"
    mov al, 0xFF                    ; mask every PIC input (OCW1)
    out 0x21, al
    out 0xA1, al
    SET_IVT 0x40, h40
    SET_IVT 0x41, h41
    SET_IVT 0x42, h42
    SET_IVT 3, h3
    SET_IVT 4, h4
    SET_IVT 0xFF, hff
    jmp tests

    REC_HANDLER h40, 0x40
    REC_HANDLER h3, 3
    REC_HANDLER h4, 4
    REC_HANDLER hff, 0xFF

h41:                                ; sets CF in the caller's flags
    push bp
    mov bp, sp
    or word [bp + 6], F_CF
    pop bp
    iret

h42:                                ; skips 3 bytes after the INT
    push bp
    mov bp, sp
    add word [bp + 2], 3
    pop bp
    iret

tests:
    TEST "int n frame"
    CLEAR_REC
    SETF F_CF | F_ZF
    int 0x40
.a1:
    ASSERT_FLAGS F_ARITH | F_IF, F_CF | F_ZF   ; restored by IRET
    ASSERT_EQ word [REC_COUNT], 1
    ASSERT_EQ word [REC_VEC], 0x40
    ASSERT_EQ word [REC_IP], .a1
    ASSERT_EQ word [REC_CS], ROM_SEG
    ASSERT_EQ word [REC_FL], F_CF | F_ZF | 2
    ASSERT_EQ word [REC_SP], S - 6
    ASSERT_EQ sp, S

    TEST "int clears IF, iret restores it"
    CLEAR_REC
    SETF F_IF | F_SF
    int 0x40
    pushf
    cli
    pop ax
    ASSERT_EQ ax, F_IF | F_SF | 2
    ASSERT_EQ word [REC_FL], F_IF | F_SF | 2
    test word [REC_INFL], F_IF | F_TF
    ASSERT_Z

    TEST "handler changes caller flags"
    SETF 0
    int 0x41
    ASSERT_C
    ASSERT_EQ sp, S

    TEST "handler changes return IP"
    int 0x42
    jmp short .bad                  ; 2 bytes
    nop                             ; 1 byte: both skipped
    jmp short .ok
.bad:
    FAIL_HERE
.ok:

    TEST "int3 (CC) and int 3 (CD 03)"
    CLEAR_REC
    int3
.a2:
    ASSERT_EQ word [REC_VEC], 3
    ASSERT_EQ word [REC_IP], .a2
    db 0xCD, 0x03                   ; int 3, long form
.a3:
    ASSERT_EQ word [REC_IP], .a3
    ASSERT_EQ word [REC_COUNT], 2

    TEST "into with OF clear"
    CLEAR_REC
    SETF F_CF | F_SF | F_ZF
    into
    ASSERT_FLAGS F_ARITH, F_CF | F_SF | F_ZF
    ASSERT_EQ word [REC_COUNT], 0

    TEST "into with OF set"
    mov al, 0x7F
    add al, 1                       ; OF=1
    into
.a4:
    ASSERT_O
    ASSERT_EQ word [REC_COUNT], 1
    ASSERT_EQ word [REC_VEC], 4
    ASSERT_EQ word [REC_IP], .a4

    TEST "int 0xff"
    CLEAR_REC
    int 0xFF
.a5:
    ASSERT_EQ word [REC_VEC], 0xFF
    ASSERT_EQ word [REC_IP], .a5

    TEST "iret to a built frame"
    push word F_CF | F_PF
    push word ROM_SEG
    push word .a6
    iret
    FAIL_HERE
.a6:
    ASSERT_FLAGS F_ARITH, F_CF | F_PF
    ASSERT_EQ sp, S

    TEST "iretd pops 32-bit slots"
    push dword F_ZF | F_SF
    push dword ROM_SEG
    push dword .a7
    iretd
    FAIL_HERE
.a7:
    ASSERT_FLAGS F_ARITH, F_ZF | F_SF
    ASSERT_EQ sp, S

    TEST "int preserves registers"
    mov eax, 0x11111111
    mov ebx, 0x22222222
    mov ecx, 0x33333333
    mov edx, 0x44444444
    int 0x40
    ASSERT_EQ eax, 0x11111111
    ASSERT_EQ ebx, 0x22222222
    ASSERT_EQ ecx, 0x33333333
    ASSERT_EQ edx, 0x44444444

    PASS_ALL

ROM_END
