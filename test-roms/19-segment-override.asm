; 19-segment-override: every segment register as an explicit override
; (ES CS SS DS FS GS), the default segments (DS normally, SS for BP/EBP/ESP
; based addresses, decided by the base register and not the index), stores
; through overrides, push/pop of memory operands, and that an override does
; not redirect the ES:DI destination of a string instruction.
%include "test.inc"

OFF equ 0x0100                      ; the same offset in every segment
SEG_DS equ 0x1000
SEG_ES equ 0x2000
SEG_FS equ 0x3000
SEG_GS equ 0x4000
SEG_SS equ 0x5000

ROM_START "19-segment-override"
    jmp setup

cs_marker: dw 0xC5C5

setup:
    ; markers at OFF in each segment, written through DS
%macro MARK 2
    mov ax, %1
    mov ds, ax
    mov word [OFF], %2
%endmacro
    MARK SEG_DS, 0xD5D5
    MARK SEG_ES, 0xE5E5
    MARK SEG_FS, 0xF5F5
    MARK SEG_GS, 0x6565
    MARK SEG_SS, 0x5555
    mov ax, SEG_DS
    mov ds, ax
    mov word [cs_marker], 0xDDDD    ; DS:cs_marker differs from CS:cs_marker
    mov ax, SEG_ES
    mov es, ax
    mov ax, SEG_FS
    mov fs, ax
    mov ax, SEG_GS
    mov gs, ax
    mov ax, SEG_SS
    mov ss, ax                      ; (loading SS holds interrupts for one insn)
    mov sp, STACK_TOP

    TEST "explicit overrides"
    mov ax, [OFF]
    ASSERT_EQ ax, 0xD5D5
    mov ax, [ds:OFF]
    ASSERT_EQ ax, 0xD5D5
    mov ax, [es:OFF]
    ASSERT_EQ ax, 0xE5E5
    mov ax, [fs:OFF]
    ASSERT_EQ ax, 0xF5F5
    mov ax, [gs:OFF]
    ASSERT_EQ ax, 0x6565
    mov ax, [ss:OFF]
    ASSERT_EQ ax, 0x5555
    mov ax, [cs:cs_marker]
    ASSERT_EQ ax, 0xC5C5
    mov ax, [cs_marker]
    ASSERT_EQ ax, 0xDDDD

    TEST "16-bit defaults: BP means SS"
    mov bp, OFF
    xor si, si
    xor di, di
    mov bx, OFF
    mov ax, [bp]
    ASSERT_EQ ax, 0x5555
    mov ax, [bp + si]
    ASSERT_EQ ax, 0x5555
    mov ax, [bp + di]
    ASSERT_EQ ax, 0x5555
    mov bp, OFF - 4
    mov ax, [bp + 4]
    ASSERT_EQ ax, 0x5555
    mov ax, [bx]
    ASSERT_EQ ax, 0xD5D5
    mov ax, [bx + si]
    ASSERT_EQ ax, 0xD5D5
    mov si, OFF
    mov ax, [si]
    ASSERT_EQ ax, 0xD5D5
    mov ax, [di + OFF]
    ASSERT_EQ ax, 0xD5D5

    TEST "overrides on BP addressing"
    mov bp, OFF
    mov ax, [ds:bp]
    ASSERT_EQ ax, 0xD5D5
    mov ax, [es:bp]
    ASSERT_EQ ax, 0xE5E5
    mov ax, [gs:bp + 0]
    ASSERT_EQ ax, 0x6565
    mov ax, [ss:bx]
    ASSERT_EQ ax, 0x5555

    TEST "32-bit defaults: base EBP/ESP means SS"
    mov ebp, OFF
    mov ebx, OFF
    xor eax, eax
    mov cx, [ebp]
    ASSERT_EQ cx, 0x5555
    mov cx, [ebp + eax * 2]         ; base EBP -> SS
    ASSERT_EQ cx, 0x5555
    mov cx, [ebx]
    ASSERT_EQ cx, 0xD5D5
    mov ebp, OFF / 2
    mov cx, [eax + ebp * 2]         ; base EAX, index EBP -> DS
    ASSERT_EQ cx, 0xD5D5
    mov cx, [nosplit ebp * 2]       ; no base at all -> DS
    ASSERT_EQ cx, 0xD5D5
    mov cx, [esp + OFF - STACK_TOP] ; base ESP -> SS
    ASSERT_EQ cx, 0x5555
    mov cx, [fs:esp + OFF - STACK_TOP]
    ASSERT_EQ cx, 0xF5F5
    mov ebp, OFF
    mov cx, [cs:ebp + cs_marker - OFF]
    ASSERT_EQ cx, 0xC5C5

    TEST "stores through overrides"
    mov word [fs:OFF + 2], 0x1234
    mov word [gs:OFF + 2], 0x5678
    mov ax, fs
    mov es, ax
    ASSERT_EQ word [es:OFF + 2], 0x1234
    mov ax, gs
    mov es, ax
    ASSERT_EQ word [es:OFF + 2], 0x5678
    ASSERT_EQ word [OFF + 2], 0
    mov ax, SEG_ES
    mov es, ax
    mov bp, OFF
    mov word [bp + 4], 0xABCD       ; SS
    ASSERT_EQ word [ss:OFF + 4], 0xABCD
    ASSERT_EQ word [OFF + 4], 0

    TEST "push/pop memory use the operand's segment"
    push word [fs:OFF]
    push word [bp]                  ; SS:OFF
    pop word [gs:OFF + 6]
    pop word [es:OFF + 6]
    ASSERT_EQ word [gs:OFF + 6], 0x5555
    ASSERT_EQ word [es:OFF + 6], 0xF5F5
    ASSERT_EQ sp, STACK_TOP

    TEST "override does not move the stos destination"
    mov di, OFF + 8
    mov al, 0x77
    fs stosb                        ; still writes ES:DI
    ASSERT_EQ byte [es:OFF + 8], 0x77
    ASSERT_EQ byte [fs:OFF + 8], 0

    TEST "segment arithmetic"
    mov ax, SEG_DS + 0x10           ; segment + 0x10 = 16 bytes further
    mov es, ax
    ASSERT_EQ word [es:OFF - 0x100], 0xD5D5

    xor ax, ax
    mov ss, ax
    mov sp, STACK_TOP
    mov ds, ax
    mov es, ax
    mov fs, ax
    mov gs, ax
    PASS_ALL

ROM_END
