; 27-xlat-misc: xlat (DS:[BX+AL], with a segment override and with 0x67 =
; [EBX+AL]), salc (undocumented D6: AL = CF ? FF : 00), the nop forms (90,
; xchg ax,ax with 0x66, and the 0F 1F /0 multi-byte nop), and the far
; pointer loads lds/les/lfs/lgs/lss with 16-bit and 32-bit offsets.
%include "test.inc"

TABLE equ SCRATCH + 0x100           ; 256-byte table: TABLE[i] = ~i
PTR   equ SCRATCH                   ; far pointers

ROM_START "27-xlat-misc"
    xor bx, bx
.fill:
    mov al, bl
    not al
    mov [TABLE + bx], al
    inc bx
    cmp bx, 256
    jb .fill

    TEST "xlat"
    mov bx, TABLE
    mov al, 0x00
    xlatb
    ASSERT_EQ al, 0xFF
    mov al, 0x80
    xlatb
    ASSERT_EQ al, 0x7F
    mov al, 0xFF                    ; AL is unsigned: TABLE + 255
    xlatb
    ASSERT_EQ al, 0x00
    ASSERT_EQ bx, TABLE
    mov eax, 0x12345601
    xlatb
    ASSERT_EQ eax, 0x123456FE       ; only AL changes

    TEST "xlat with override"
    mov bx, hex_digits
    mov al, 0x0C
    cs xlatb
    ASSERT_EQ al, 'C'
    mov ax, 0x5000
    mov es, ax
    mov byte [es:0x10 + 3], 0x99
    mov bx, 0x10
    mov al, 3
    es xlatb
    ASSERT_EQ al, 0x99
    xor ax, ax
    mov es, ax

    TEST "xlat a32 uses EBX"
    mov ebx, TABLE
    mov al, 0x10
    a32 xlatb
    ASSERT_EQ al, 0xEF

    TEST "xlat does not touch flags"
    mov bx, TABLE
    SETF F_ARITH
    xlatb
    ASSERT_FLAGS F_ARITH, F_ARITH

    TEST "salc"
    mov ax, 0x1234
    stc
    salc
    ASSERT_EQ ax, 0x12FF
    SETF F_ARITH & ~F_CF
    salc
    ASSERT_FLAGS F_ARITH, F_ARITH & ~F_CF ; flags unchanged
    ASSERT_EQ ax, 0x1200

    TEST "nop forms"
    mov eax, 0x12345678
    SETF F_ARITH
    nop
    db 0x66, 0x90                   ; xchg eax, eax
    db 0x0F, 0x1F, 0x00             ; nop dword [bx+si]
    db 0x0F, 0x1F, 0x40, 0x00       ; nop [bx+si+0]
    db 0x66, 0x0F, 0x1F, 0x44, 0x00, 0x00
    ASSERT_FLAGS F_ARITH, F_ARITH
    ASSERT_EQ eax, 0x12345678
    ASSERT_EQ sp, STACK_TOP

    TEST "lds les"
    mov word [PTR], 0x1234
    mov word [PTR + 2], 0x5678
    lds si, [PTR]
    mov ax, ds
    push word 0
    pop ds
    ASSERT_EQ si, 0x1234
    ASSERT_EQ ax, 0x5678
    mov bx, PTR
    les di, [bx]
    mov ax, es
    ASSERT_EQ di, 0x1234
    ASSERT_EQ ax, 0x5678

    TEST "lfs lgs"
    mov word [PTR + 4], 0xAAAA
    mov word [PTR + 6], 0xBBBB
    lfs cx, [PTR + 4]
    lgs dx, [PTR]
    mov ax, fs
    ASSERT_EQ cx, 0xAAAA
    ASSERT_EQ ax, 0xBBBB
    mov ax, gs
    ASSERT_EQ dx, 0x1234
    ASSERT_EQ ax, 0x5678

    TEST "32-bit offset forms"
    mov dword [PTR + 8], 0x87654321 ; m16:32 = offset dword, selector word
    mov word [PTR + 12], 0x2222
    mov eax, 0
    les eax, [PTR + 8]
    mov bx, es
    ASSERT_EQ eax, 0x87654321
    ASSERT_EQ bx, 0x2222
    lgs esi, [PTR + 8]
    mov bx, gs
    ASSERT_EQ esi, 0x87654321
    ASSERT_EQ bx, 0x2222

    TEST "lss"
    mov word [PTR + 16], 0x6F00     ; new SP
    mov word [PTR + 18], 0x0000     ; new SS
    mov word [PTR + 20], 0x0100
    mov word [PTR + 22], 0x7000     ; SS=0x7000 (phys 0x70000), SP=0x100
    mov bp, sp
    lss sp, [PTR + 20]
    mov ax, ss
    mov bx, sp
    push word 0x4242                ; lands at 7000:00FE
    lss sp, [PTR + 16]
    mov cx, ss
    mov dx, sp
    mov sp, bp
    ASSERT_EQ ax, 0x7000
    ASSERT_EQ bx, 0x0100
    ASSERT_EQ cx, 0
    ASSERT_EQ dx, 0x6F00
    mov ax, 0x7000
    mov es, ax
    ASSERT_EQ word [es:0xFE], 0x4242

    xor ax, ax
    mov es, ax
    mov fs, ax
    mov gs, ax
    PASS_ALL

hex_digits: db "0123456789ABCDEF"

ROM_END
