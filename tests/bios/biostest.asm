; biostest.asm - a boot sector (plus a second stage it loads with INT 13h)
; that checks the built-in BIOS's services from a guest's point of view.
; tests/bios.rs assembles it at test time and builds the disk images:
;
;   LBA 0         this boot sector (ends in 55AA)
;   LBA 1-15      the second stage (loaded to 0000:7E00 with one CHS read)
;   LBA 16...     pattern sectors: dword 0 = the LBA, byte i (i >= 4) =
;                 (LBA + i) & 0xFF
;
; Variants (nasm -D):
;   HARDDISK   booted as drive 80h from a 4-cylinder (16 heads, 63 sectors)
;              disk: EDD and fixed-disk checks instead of diskette ones
;   KEYTEST    after the checks, print READY and echo INT 16h AH=10h
;              keystrokes as hex words to COM1 until 'q'
;
; Every check runs under a name; the first failure prints
; "FAIL <name> (AX=.... at ....)" on COM1 and exits through the debug-exit
; port with 1 (process status 3). Success prints PASS and exits with 0
; (status 1). Output goes through INT 14h AH=01h (COM1), so that path is
; exercised too. Run with -m 16 and --clock virtual (the RTC date checks
; assume the virtual clock's 2026-01-01 start).
bits 16
org 0x7C00

%ifdef HARDDISK
  %define DRIVE 0x80
%else
  %define DRIVE 0x00
%endif

STAGE2_SECTORS  equ 15
; Scratch memory below the stack (the second stage ends at 0x9C00).
BUF             equ 0x1000          ; sector buffer (0000:1000, 8 KiB)
GDT_BUF         equ 0x3000          ; INT 15h AH=87h descriptor table
MOVE_SRC        equ 0x3100
MOVE_DST        equ 0x3200
E820_BUF        equ 0x3300
EXIT_PORT       equ 0xF4

; Name the checks that follow.
%macro TEST 1
    mov word [cur_test], %%name
    jmp %%go
%%name: db %1, 0
%%go:
%endmacro

; Fail unless condition %1 holds (e, ne, c, nc, z, nz, ...).
%macro CHECK 1
    j%1 %%ok
    call fail
%%ok:
%endmacro

; cmp %1, %2 then CHECK e.
%macro EXPECT 2
    cmp %1, %2
    CHECK e
%endmacro

boot:
    cli
    xor ax, ax
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov sp, 0x7C00
    sti
    cld
    mov [boot_drive], dl
    mov ax, 0x0200 | STAGE2_SECTORS
    mov cx, 0x0002                  ; cylinder 0, sector 2
    xor dh, dh
    mov bx, stage2
    int 0x13
    jc .bad
    cmp al, STAGE2_SECTORS
    jne .bad
    jmp stage2
.bad:
    mov al, 2                       ; status 5: the loader failed
    out EXIT_PORT, al
    cli
    hlt
boot_drive: db 0
    times 510 - ($ - $$) db 0
    dw 0xAA55

; ---------------------------------------------------------------------------
stage2:
%ifdef HARDDISK
    mov si, msg_hd
%else
    mov si, msg_floppy
%endif
    call print

    TEST "boot drive in DL"
    EXPECT byte [boot_drive], DRIVE

    ; ---- BDA and IVT ------------------------------------------------------
    TEST "BDA memory size 639 KiB"
    EXPECT word [0x413], 639
    TEST "BDA EBDA segment"
    EXPECT word [0x40E], 0x9FC0
    TEST "EBDA size byte"
    push es
    mov ax, 0x9FC0
    mov es, ax
    EXPECT byte [es:0], 1
    pop es
    TEST "BDA COM1 and COM2"
    EXPECT word [0x400], 0x3F8
    EXPECT word [0x402], 0x2F8
    TEST "BDA video fields"
    EXPECT byte [0x449], 3
    EXPECT word [0x44A], 80
    EXPECT word [0x463], 0x3D4
    EXPECT byte [0x484], 24
    TEST "BDA keyboard buffer bounds"
    EXPECT word [0x480], 0x1E
    EXPECT word [0x482], 0x3E
    TEST "BDA hard disk count"
%ifdef HARDDISK
    EXPECT byte [0x475], 1
%else
    EXPECT byte [0x475], 0
%endif
    TEST "IRQ 0 vector in the ROM"
    EXPECT word [0x08 * 4 + 2], 0xF000

    ; ---- INT 11h / 12h ----------------------------------------------------
    TEST "INT 11h equipment"
    int 0x11
    mov bx, ax
    and bx, 0x0E00
    EXPECT bx, 0x0400               ; two serial ports
    mov bx, ax
    and bx, 0x0030
    EXPECT bx, 0x0020               ; 80x25 colour
%ifndef HARDDISK
    test al, 1
    CHECK nz                        ; a diskette drive
%endif
    TEST "INT 12h memory size"
    int 0x12
    EXPECT ax, 639

    ; ---- INT 10h ----------------------------------------------------------
    TEST "INT 10h AH=0Fh mode"
    mov ah, 0x0F
    int 0x10
    EXPECT al, 3
    EXPECT ah, 80
    EXPECT bh, 0
    TEST "INT 10h AH=0Eh teletype moves the cursor"
    mov ah, 0x03
    xor bh, bh
    int 0x10
    mov [saved_pos], dx
    mov ax, 0x0E48                  ; 'H'
    int 0x10
    mov ax, 0x0E69                  ; 'i'
    int 0x10
    mov ah, 0x03
    xor bh, bh
    int 0x10
    mov ax, [saved_pos]
    add al, 2
    EXPECT dx, ax
    TEST "INT 10h AH=08h reads back"
    mov dx, [saved_pos]
    inc dl
    mov ah, 0x02
    xor bh, bh
    int 0x10
    mov ah, 0x08
    xor bh, bh
    int 0x10
    EXPECT ax, 0x0769               ; 'i', light grey
    TEST "INT 10h AH=09h writes char and attribute"
    mov ah, 0x02
    xor bh, bh
    mov dx, 0x0A05                  ; row 10, column 5
    int 0x10
    mov ax, 0x0958                  ; 'X'
    mov bx, 0x001F
    mov cx, 3
    int 0x10
    push es
    mov ax, 0xB800
    mov es, ax
    EXPECT word [es:(10 * 80 + 5) * 2], 0x1F58
    EXPECT word [es:(10 * 80 + 7) * 2], 0x1F58
    cmp byte [es:(10 * 80 + 8) * 2], 'X'
    CHECK ne
    pop es
    mov ah, 0x03
    xor bh, bh
    int 0x10
    EXPECT dx, 0x0A05               ; the cursor stays
    TEST "INT 10h AH=06h scrolls a window up"
    mov ax, 0x0601
    mov bh, 0x07
    mov cx, 0x0905                  ; rows 9-10, columns 5-7
    mov dx, 0x0A07
    int 0x10
    push es
    mov ax, 0xB800
    mov es, ax
    EXPECT word [es:(9 * 80 + 5) * 2], 0x1F58
    EXPECT word [es:(10 * 80 + 5) * 2], 0x0720
    pop es
    TEST "INT 10h AH=13h write string"
    push es
    push bp
    xor ax, ax
    mov es, ax
    mov bp, str_ab
    mov ax, 0x1301                  ; update the cursor
    mov bx, 0x002E
    mov cx, 2
    mov dx, 0x0C00                  ; row 12, column 0
    int 0x10
    pop bp
    mov ax, 0xB800
    mov es, ax
    EXPECT word [es:(12 * 80) * 2], 0x2E41
    EXPECT word [es:(12 * 80 + 1) * 2], 0x2E42
    pop es
    mov ah, 0x03
    xor bh, bh
    int 0x10
    EXPECT dx, 0x0C02
    TEST "INT 10h teletype scrolls at the bottom"
    mov ah, 0x02
    xor bh, bh
    mov dx, 0x184F                  ; row 24, column 79
    int 0x10
    mov ax, 0x0E5A                  ; 'Z'
    int 0x10
    push es
    mov ax, 0xB800
    mov es, ax
    EXPECT byte [es:(23 * 80 + 79) * 2], 'Z'
    pop es
    mov ah, 0x03
    xor bh, bh
    int 0x10
    EXPECT dx, 0x1800
    TEST "INT 10h AH=01h cursor shape"
    mov ah, 0x01
    mov cx, 0x2000
    int 0x10
    mov ah, 0x03
    xor bh, bh
    int 0x10
    EXPECT cx, 0x2000
    mov ah, 0x01
    mov cx, 0x0607
    int 0x10
    TEST "INT 10h AH=12h BL=10h EGA info"
    mov ah, 0x12
    mov bl, 0x10
    int 0x10
    EXPECT bx, 0x0003
    TEST "INT 10h AX=1A00h display combination"
    mov ax, 0x1A00
    int 0x10
    EXPECT al, 0x1A
    EXPECT bl, 0x08
    TEST "INT 10h AX=1130h font information"
    push es
    push bp
    mov ax, 0x1130
    mov bh, 6
    int 0x10
    pop bp
    pop es
    EXPECT cx, 16
    EXPECT dl, 24

    ; ---- INT 13h ----------------------------------------------------------
%ifdef HARDDISK
    TEST "INT 13h AH=08h hard disk geometry"
    mov ah, 0x08
    mov dl, 0x80
    int 0x13
    CHECK nc
    EXPECT cx, 0x033F               ; max cylinder 3, 63 sectors
    EXPECT dx, 0x0F01               ; max head 15, one disk
    TEST "INT 13h AH=15h hard disk size"
    mov ah, 0x15
    mov dl, 0x80
    int 0x13
    CHECK nc
    EXPECT ah, 3
    EXPECT cx, 0
    EXPECT dx, 4 * 16 * 63
    TEST "INT 13h AH=41h EDD present"
    mov ah, 0x41
    mov bx, 0x55AA
    mov dl, 0x80
    int 0x13
    CHECK nc
    EXPECT bx, 0xAA55
    test cl, 1
    CHECK nz
    TEST "INT 13h AH=42h extended read"
    mov word [dap + 2], 2
    mov word [dap + 4], BUF
    mov word [dap + 6], 0
    mov dword [dap + 8], 3000
    mov ah, 0x42
    mov dl, 0x80
    mov si, dap
    int 0x13
    CHECK nc
    EXPECT ah, 0
    EXPECT dword [BUF], 3000
    EXPECT dword [BUF + 512], 3001
    EXPECT byte [BUF + 512 + 100], (3001 + 100) & 0xFF
    TEST "INT 13h AH=42h past the end fails"
    mov word [dap + 2], 1
    mov dword [dap + 8], 4 * 16 * 63
    mov ah, 0x42
    mov dl, 0x80
    mov si, dap
    int 0x13
    CHECK c
    EXPECT ah, 0x04
    EXPECT word [dap + 2], 0
    TEST "INT 13h AH=43h extended write"
    mov di, BUF
    mov cx, 512
    mov al, 0x5A
    rep stosb
    mov word [dap + 2], 1
    mov dword [dap + 8], 3500
    mov ax, 0x4300
    mov dl, 0x80
    mov si, dap
    int 0x13
    CHECK nc
    mov byte [BUF], 0
    mov word [dap + 2], 1
    mov ah, 0x42
    mov dl, 0x80
    mov si, dap
    int 0x13
    CHECK nc
    EXPECT byte [BUF], 0x5A
    EXPECT byte [BUF + 511], 0x5A
    TEST "INT 13h AH=48h drive parameters"
    mov word [BUF], 0x1E
    mov ah, 0x48
    mov dl, 0x80
    mov si, BUF
    int 0x13
    CHECK nc
    EXPECT dword [BUF + 4], 4
    EXPECT dword [BUF + 8], 16
    EXPECT dword [BUF + 12], 63
    EXPECT dword [BUF + 16], 4 * 16 * 63
    EXPECT dword [BUF + 20], 0
    EXPECT word [BUF + 24], 512
    TEST "INT 13h AH=02h CHS read on the hard disk"
    mov ax, 0x0201
    mov cx, 0x020A                  ; cylinder 2, sector 10
    mov dx, 0x0380                  ; head 3
    mov bx, BUF
    int 0x13
    CHECK nc
    EXPECT dword [BUF], (2 * 16 + 3) * 63 + 9
    TEST "INT 41h fixed-disk parameter table"
    push ds
    lds si, [0x41 * 4]
    mov ax, [si]
    mov bl, [si + 2]
    mov bh, [si + 14]
    pop ds
    EXPECT ax, 4
    EXPECT bx, 0x3F10
    TEST "INT 13h diskette absent"
    mov ax, 0x0201
    mov cx, 0x0001
    xor dx, dx
    mov bx, BUF
    int 0x13
    CHECK c
    EXPECT ah, 0x80
%else
    TEST "INT 13h AH=08h diskette parameters"
    push es
    mov ah, 0x08
    xor dl, dl
    int 0x13
    CHECK nc
    EXPECT bl, 4                    ; 1.44M
    EXPECT cx, 0x4F12               ; 79 cylinders, 18 sectors
    EXPECT dx, 0x0101               ; max head 1, one drive
    EXPECT byte [es:di + 4], 18     ; the parameter table
    pop es
    TEST "INT 1Eh diskette parameter table"
    push ds
    lds si, [0x1E * 4]
    mov al, [si + 4]
    pop ds
    EXPECT al, 18
    TEST "INT 13h AH=15h diskette type"
    mov ah, 0x15
    xor dl, dl
    int 0x13
    CHECK nc
    EXPECT ah, 2
    TEST "INT 13h AH=02h CHS read"
    mov ax, 0x0201
    mov cx, 0x0105                  ; cylinder 1, sector 5
    mov dx, 0x0100                  ; head 1
    mov bx, BUF
    int 0x13
    CHECK nc
    EXPECT ax, 0x0001
    EXPECT dword [BUF], 58
    EXPECT byte [BUF + 100], (58 + 100) & 0xFF
    TEST "INT 13h AH=02h across a track"
    mov ax, 0x0203
    mov cx, 0x0011                  ; cylinder 0, sector 17
    mov dx, 0x0100                  ; head 1
    mov bx, BUF
    int 0x13
    CHECK nc
    EXPECT dword [BUF], 34
    EXPECT dword [BUF + 512], 35
    EXPECT dword [BUF + 1024], 36
    TEST "INT 13h bad sector number"
    mov ax, 0x0201
    mov cx, 0x0013                  ; sector 19
    xor dx, dx
    mov bx, BUF
    int 0x13
    CHECK c
    EXPECT ah, 0x04
    TEST "INT 13h AH=01h last status"
    mov ah, 0x01
    xor dl, dl
    int 0x13
    CHECK c
    EXPECT ah, 0x04
    TEST "INT 13h drive B: absent"
    mov ax, 0x0201
    mov cx, 0x0001
    mov dx, 0x0001
    mov bx, BUF
    int 0x13
    CHECK c
    EXPECT ah, 0x80
    TEST "INT 13h AH=41h not on a diskette"
    mov ah, 0x41
    mov bx, 0x55AA
    xor dl, dl
    int 0x13
    CHECK c
    TEST "INT 13h AH=03h write and read back"
    mov di, BUF
    mov cx, 512
    mov al, 0xA5
    rep stosb
    mov ax, 0x0301
    mov cx, 0x0503                  ; cylinder 5, sector 3
    mov dx, 0x0100                  ; head 1: LBA 200
    mov bx, BUF
    int 0x13
    CHECK nc
    mov byte [BUF], 0
    mov ax, 0x0201
    mov cx, 0x0503
    mov dx, 0x0100
    mov bx, BUF
    int 0x13
    CHECK nc
    EXPECT byte [BUF], 0xA5
    EXPECT byte [BUF + 511], 0xA5
%endif
    TEST "INT 13h unknown function"
    mov ah, 0x77
    mov dl, DRIVE
    int 0x13
    CHECK c
    EXPECT ah, 0x01

    ; ---- INT 15h ----------------------------------------------------------
    TEST "INT 15h AH=88h extended memory"
    mov ah, 0x88
    int 0x15
    CHECK nc
    EXPECT ax, 15 * 1024
    TEST "INT 15h AX=E801h"
    mov ax, 0xE801
    int 0x15
    CHECK nc
    EXPECT ax, 15 * 1024
    EXPECT cx, 15 * 1024
    EXPECT bx, 0
    EXPECT dx, 0
    TEST "INT 15h EAX=E820h memory map"
    xor ebx, ebx
    xor esi, esi                    ; usable bytes
    xor bp, bp                      ; entries
.e820:
    mov eax, 0xE820
    mov edx, 0x534D4150
    mov ecx, 20
    mov di, E820_BUF
    int 0x15
    CHECK nc
    EXPECT eax, 0x534D4150
    EXPECT ecx, 20
    inc bp
    cmp dword [E820_BUF + 16], 1
    jne .e820_next
    add esi, [E820_BUF + 8]
.e820_next:
    test ebx, ebx
    jnz .e820
    EXPECT bp, 5
    EXPECT esi, 0x9FC00 + 15 * 1024 * 1024
    TEST "INT 15h AH=C0h configuration table"
    push es
    mov ah, 0xC0
    int 0x15
    CHECK nc
    EXPECT byte [es:bx + 2], 0xFC
    pop es
    TEST "INT 15h AH=24h A20"
    mov ax, 0x2403
    int 0x15
    CHECK nc
    EXPECT bx, 3
    mov ax, 0x2402
    int 0x15
    CHECK nc
    EXPECT al, 0                    ; closed at boot: DOS wants the wrap
    push es
    mov ax, 0xFFFF
    mov es, ax
    mov byte [0x0500], 0x11
    mov byte [es:0x0510], 0x22
    EXPECT byte [0x0500], 0x22      ; FFFF:0510 wrapped to 0000:0500
    mov ax, 0x2401
    int 0x15
    CHECK nc
    mov byte [0x0500], 0x11
    mov byte [es:0x0510], 0x22
    EXPECT byte [0x0500], 0x11      ; no wrap with A20 open
    mov ax, 0x2402
    int 0x15
    EXPECT al, 1
    mov ax, 0x2400
    int 0x15
    CHECK nc
    mov byte [es:0x0510], 0x33
    EXPECT byte [0x0500], 0x33
    pop es
    TEST "INT 15h AH=87h block move above 1 MiB"
    mov di, GDT_BUF
    mov cx, 48
    xor al, al
    rep stosb
    mov di, MOVE_SRC
    mov cx, 32
    mov al, 0x40
.fill:
    stosb
    inc al
    loop .fill
    mov word [GDT_BUF + 0x10], 0xFFFF
    mov word [GDT_BUF + 0x12], MOVE_SRC
    mov byte [GDT_BUF + 0x15], 0x93
    mov word [GDT_BUF + 0x18], 0xFFFF
    mov word [GDT_BUF + 0x1A], 0x0000
    mov byte [GDT_BUF + 0x1C], 0x20 ; 0x200000
    mov byte [GDT_BUF + 0x1D], 0x93
    mov si, GDT_BUF
    mov cx, 16
    mov ah, 0x87
    int 0x15
    CHECK nc
    EXPECT ah, 0
    mov word [GDT_BUF + 0x12], 0x0000
    mov byte [GDT_BUF + 0x14], 0x20
    mov word [GDT_BUF + 0x1A], MOVE_DST
    mov byte [GDT_BUF + 0x1C], 0
    mov si, GDT_BUF
    mov cx, 16
    mov ah, 0x87
    int 0x15
    CHECK nc
    mov si, MOVE_SRC
    mov di, MOVE_DST
    mov cx, 32
    repe cmpsb
    CHECK e
    TEST "INT 15h AH=86h waits"
    xor ah, ah
    int 0x1A
    mov [saved_ticks], dx
    mov ah, 0x86
    mov cx, 0x0002
    mov dx, 0x0000                  ; 131 ms
    int 0x15
    CHECK nc
    xor ah, ah
    int 0x1A
    sub dx, [saved_ticks]
    cmp dx, 2
    CHECK ae
    TEST "INT 15h AH=4Fh keeps the scancode"
    mov ax, 0x4F1E
    clc
    int 0x15
    CHECK c
    EXPECT al, 0x1E
    TEST "INT 15h unsupported function"
    mov ax, 0x5300
    clc
    int 0x15
    CHECK c
    EXPECT ah, 0x86

    ; ---- INT 16h ----------------------------------------------------------
    TEST "INT 16h AH=01h empty"
    mov ah, 0x01
    int 0x16
    CHECK z
    TEST "INT 16h AH=05h store, 01h peek, 00h read"
    mov ah, 0x05
    mov cx, 0x1E61
    int 0x16
    EXPECT al, 0
    mov ah, 0x01
    int 0x16
    CHECK nz
    EXPECT ax, 0x1E61
    mov ah, 0x11
    int 0x16
    CHECK nz
    EXPECT ax, 0x1E61
    mov ah, 0x00
    int 0x16
    EXPECT ax, 0x1E61
    mov ah, 0x01
    int 0x16
    CHECK z
    TEST "INT 16h AH=00h turns E0 into 00"
    mov ah, 0x05
    mov cx, 0x48E0
    int 0x16
    mov ah, 0x00
    int 0x16
    EXPECT ax, 0x4800
    TEST "INT 16h AH=02h shift flags"
    mov ah, 0x02
    int 0x16
    EXPECT al, 0

    ; ---- INT 1Ah ----------------------------------------------------------
    TEST "INT 1Ah AH=04h RTC date"
    mov ah, 0x04
    int 0x1A
    CHECK nc
    EXPECT cx, 0x2026
    EXPECT dx, 0x0101
    TEST "INT 1Ah AH=02h RTC time"
    mov ah, 0x02
    int 0x1A
    CHECK nc
    EXPECT cx, 0x0000
    cmp dh, 0x10
    CHECK b
    TEST "INT 1Ah AH=03h/05h set time and date"
    mov ah, 0x03
    mov cx, 0x1234
    mov dx, 0x5600
    int 0x1A
    CHECK nc
    mov ah, 0x05
    mov cx, 0x2030
    mov dx, 0x0615
    int 0x1A
    CHECK nc
    mov ah, 0x02
    int 0x1A
    EXPECT cx, 0x1234
    mov ah, 0x04
    int 0x1A
    EXPECT cx, 0x2030
    EXPECT dx, 0x0615
    TEST "INT 1Ah AH=01h/00h ticks"
    mov ah, 0x01
    mov cx, 0x0001
    xor dx, dx
    int 0x1A
    xor ah, ah
    int 0x1A
    EXPECT cx, 0x0001
    EXPECT al, 0
    TEST "IRQ 0 advances the tick count"
    xor ah, ah
    int 0x1A
    mov [saved_ticks], dx
    sti
    hlt
    hlt
    hlt
    xor ah, ah
    int 0x1A
    cmp dx, [saved_ticks]
    CHECK ne

    ; ---- INT 14h / 17h, unknown vectors -----------------------------------
    TEST "INT 14h AH=00h init COM1"
    mov ax, 0x00E3                  ; 9600 baud, 8N1
    xor dx, dx
    int 0x14
    test ah, 0x20
    CHECK nz
    TEST "INT 14h AH=03h status"
    mov ah, 0x03
    xor dx, dx
    int 0x14
    test ah, 0x20
    CHECK nz
    TEST "INT 14h COM4 absent"
    mov ah, 0x03
    mov dx, 3
    int 0x14
    test ah, 0x80
    CHECK nz
    TEST "INT 17h no printer"
    mov ah, 0x01
    xor dx, dx
    int 0x17
    test ah, 0x09
    CHECK nz
    TEST "unclaimed vector returns"
    mov ax, 0x1234
    int 0x66
    EXPECT ax, 0x1234

%ifdef KEYTEST
    mov si, msg_ready
    call print
.key:
    mov ah, 0x10
    int 0x16
    push ax
    call print_hex
    mov al, ' '
    call putc
    pop ax
    cmp al, 'q'
    jne .key
    mov si, msg_crlf
    call print
%endif
    mov si, msg_pass
    call print
    xor al, al
    out EXIT_PORT, al
    cli
    hlt

; ---------------------------------------------------------------------------
; putc: AL to COM1 through INT 14h AH=01h. Preserves all but flags.
putc:
    push ax
    push dx
    mov ah, 0x01
    xor dx, dx
    int 0x14
    pop dx
    pop ax
    ret

; print: the NUL-terminated string at DS:SI.
print:
    push ax
    push si
.next:
    lodsb
    test al, al
    jz .done
    call putc
    jmp .next
.done:
    pop si
    pop ax
    ret

; print_hex: AX as four hex digits.
print_hex:
    push ax
    push cx
    push bx
    mov bx, ax
    mov cx, 4
.digit:
    rol bx, 4
    mov al, bl
    and al, 0x0F
    add al, '0'
    cmp al, '9'
    jbe .out
    add al, 'A' - '0' - 10
.out:
    call putc
    loop .digit
    pop bx
    pop cx
    pop ax
    ret

; fail: report the current test and where the check was, then exit 1.
fail:
    push ax
    mov si, msg_fail
    call print
    mov si, [cur_test]
    call print
    mov si, msg_ax
    call print
    pop ax
    call print_hex
    mov si, msg_at
    call print
    pop ax                          ; return address: just after the check
    call print_hex
    mov si, msg_close
    call print
    mov al, 1
    out EXIT_PORT, al
    cli
    hlt

msg_floppy: db "BIOSTEST FLOPPY", 13, 10, 0
msg_hd:     db "BIOSTEST HD", 13, 10, 0
msg_ready:  db "READY", 13, 10, 0
msg_pass:   db "PASS", 13, 10, 0
msg_crlf:   db 13, 10, 0
msg_fail:   db "FAIL ", 0
msg_ax:     db " (AX=", 0
msg_at:     db " at ", 0
msg_close:  db ")", 13, 10, 0
str_ab:     db "AB"
cur_test:   dw 0
saved_pos:  dw 0
saved_ticks: dw 0
align 4
dap:        db 0x10, 0
            dw 0, 0, 0
            dq 0

    times 512 * (1 + STAGE2_SECTORS) - ($ - $$) db 0
