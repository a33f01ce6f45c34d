; btvm built-in BIOS ROM: 64 KiB at F000:0000 (physical 0xF0000, and again
; at 0xFFFF0000 for the reset vector).
;
; The ROM holds only entry stubs and static tables; the services are Rust
; (src/bios/*.rs). A stub hands over with `out BIOS_TRAP_PORT, al`: the
; machine sees the write, stops the instruction batch and calls
; `Bios::service`, which identifies the service by CS:IP (the IP right after
; the OUT, listed in the trap table below) and works on the guest's
; registers and memory directly. No register is clobbered by the hand-over.
; When the service is done the stub continues, usually with IRET; services
; return CF/ZF by editing the FLAGS image in the caller's IRET frame.
;
; Layout (offsets in segment F000):
;   0000  header: magic, counts, trap table, symbol table (read by Rust)
;   0100  stubs and handlers, the blank font, small tables
;   E05B  POST entry (the reset vector jumps here)
;   E6F2.. the IBM PC/AT fixed entry points (thunks to the stubs) and the
;         fixed-address tables: E6F5 configuration table, EFC7 diskette
;         parameter table, FA6E 8x8 font (blank), FF53 IRET, FFF0 reset
;         vector, FFF5 date, FFFE model byte.
bits 16
org 0

BIOS_TRAP_PORT  equ 0xE5
PIC1_CMD        equ 0x20
PIC2_CMD        equ 0xA0
PIC_EOI         equ 0x20
KBC_DATA        equ 0x60
FPU_CLEAR_BUSY  equ 0xF0
FDC_MSR         equ 0x3F4
FDC_DATA        equ 0x3F5
FDC_RQM         equ 0x80        ; MSR: ready for a byte
FDC_RQM_DIO     equ 0xC0        ; MSR: a result byte is waiting
FDC_SENSE_INTERRUPT equ 0x08
BDA_SEG         equ 0x40

; A trap: hand over to Rust. The label marks the IP the machine sees.
; (`..@` labels leave the local-label scope of the code around them alone.)
%macro TRAP 1
    out BIOS_TRAP_PORT, al
..@%1:
%endmacro

; Pad to a fixed ROM offset (nasm fails if the code before is too long).
%macro AT 1
    times (%1) - ($ - $$) db 0
%endmacro

; ---------------------------------------------------------------------------
; Header. Keep the order of both tables in step with `Trap` and `Sym` in
; src/bios/rom.rs.
header:
    db "BTVMBIOS"
    dw (traps_end - traps) / 2
    dw (syms_end - syms) / 2
traps:
    dw ..@t_post, ..@t_int10, ..@t_int11, ..@t_int12, ..@t_int13, ..@t_int14, ..@t_int14_retry
    dw ..@t_int15, ..@t_int15_retry, ..@t_int16, ..@t_int17, ..@t_int18, ..@t_int19, ..@t_int1a
    dw ..@t_irq1
traps_end:
syms:
    dw official_iret        ; default handler of every vector
    dw hw_master_default    ; IRQ 2-7 without a handler: EOI
    dw hw_slave_default     ; IRQ 8-15 without a handler: EOI both
    dw official_08          ; IRQ 0 timer
    dw official_09          ; IRQ 1 keyboard
    dw official_0e          ; IRQ 6 diskette
    dw irq13                ; IRQ 13 FPU error
    dw official_10, official_11, official_12, official_13, official_14
    dw official_15, official_16, official_17, int18, official_19
    dw official_1a
    dw int14_wait, int15_wait, int16_wait
    dw dpt_360, dpt_1200, dpt_720, dpt_1440, dpt_2880
    dw config_table
    dw blank_font
    dw video_params
    dw official_05          ; print screen (no printer: a no-op)
syms_end:

AT 0x100
; ---------------------------------------------------------------------------
; Service stubs.

int10:
    TRAP t_int10
    iret
int11:
    TRAP t_int11
    iret
int12:
    TRAP t_int12
    iret
int13:
    TRAP t_int13
    iret
int17:
    TRAP t_int17
    iret
int1a:
    TRAP t_int1a
    iret

; INT 14h: AH=02 with nothing received waits here, one timer tick at a time,
; until a byte arrives or the port's timeout passes.
int14:
    TRAP t_int14
    iret
int14_wait:
    sti
    hlt
    cli
    TRAP t_int14_retry
    iret

; INT 15h: AH=86h waits here until its deadline.
int15:
    TRAP t_int15
    iret
int15_wait:
    sti
    hlt
    cli
    TRAP t_int15_retry
    iret

; INT 16h: AH=00h/10h with an empty buffer sleeps here until an interrupt
; (IRQ 1 fills the buffer), then asks again.
int16:
    TRAP t_int16
    iret
int16_wait:
    sti
    hlt
    cli
    jmp int16

; INT 18h: no ROM BASIC. Rust prints the message; then stop for good.
int18:
    TRAP t_int18
.halt:
    cli
    hlt
    jmp .halt

; INT 19h: Rust loads the boot sector and jumps to 0000:7C00 (or on to
; INT 18h when nothing boots).
int19:
    TRAP t_int19
    int 0x18

; IRQ 0: the BIOS tick at 0040:006C, midnight rollover at 0x1800B0 ticks,
; then the user hook INT 1Ch, then EOI.
irq0:
    push ds
    push ax
    mov ax, BDA_SEG
    mov ds, ax
    add word [0x6C], 1
    adc word [0x6E], 0
    cmp word [0x6E], 0x18
    jb .counted
    cmp word [0x6C], 0xB0
    jb .counted
    mov word [0x6C], 0
    mov word [0x6E], 0
    mov byte [0x70], 1
.counted:
    cmp byte [0x40], 0          ; diskette motor-off countdown (bookkeeping only)
    je .hook
    dec byte [0x40]
.hook:
    int 0x1C
    cli
    mov al, PIC_EOI
    out PIC1_CMD, al
    pop ax
    pop ds
    iret

; IRQ 1: scancode from the i8042, offered to INT 15h AH=4Fh (CF clear
; from the hook: swallow it), then translated by Rust into the BDA buffer.
; Rust leaves an action in AH: 1 = Ctrl-Break (INT 1Bh), 2 = Print Screen
; (INT 05h), else nothing.
irq1:
    push ax
    in al, KBC_DATA
    mov ah, 0x4F
    stc
    int 0x15
    jnc .eoi
    TRAP t_irq1
    push ax
    cli
    mov al, PIC_EOI
    out PIC1_CMD, al
    pop ax
    cmp ah, 1
    jne .not_break
    int 0x1B
    jmp .out
.not_break:
    cmp ah, 2
    jne .out
    int 0x05
.out:
    pop ax
    iret
.eoi:
    cli
    mov al, PIC_EOI
    out PIC1_CMD, al
    pop ax
    iret

; IRQ 6: acknowledge the controller's interrupt and note it in the seek
; status byte (0040:003E bit 7) for programs that drive the controller
; themselves. Unless result bytes are waiting to be read (MSR RQM+DIO), the
; interrupt came from a reset, seek or recalibrate: SENSE INTERRUPT STATUS
; lowers the line (an edge-triggered PIC sees no later interrupt while it
; stays high) and its two result bytes are read and dropped, as the AT-class
; BIOSes (Bochs, SeaBIOS lineage) do.
irq6:
    push ds
    push ax
    push cx
    push dx
    mov dx, FDC_MSR
    in al, dx
    and al, FDC_RQM_DIO
    cmp al, FDC_RQM_DIO
    je .noted
    mov dx, FDC_DATA
    mov al, FDC_SENSE_INTERRUPT
    out dx, al
    mov cx, 64                  ; bounded: a silent controller cannot hang us
.drain:
    mov dx, FDC_MSR
    in al, dx
    and al, FDC_RQM_DIO
    cmp al, FDC_RQM             ; ready for a command: results all read
    je .noted
    cmp al, FDC_RQM_DIO
    jne .next
    mov dx, FDC_DATA
    in al, dx
.next:
    loop .drain
.noted:
    mov ax, BDA_SEG
    mov ds, ax
    or byte [0x3E], 0x80
    mov al, PIC_EOI
    out PIC1_CMD, al
    pop dx
    pop cx
    pop ax
    pop ds
    iret

; IRQ 13: clear the FPU busy latch, EOI both controllers, then NMI (INT 02h)
; as the AT BIOS does.
irq13:
    push ax
    xor al, al
    out FPU_CLEAR_BUSY, al
    mov al, PIC_EOI
    out PIC2_CMD, al
    out PIC1_CMD, al
    pop ax
    int 0x02
    iret

; Unclaimed hardware interrupts: acknowledge so the PIC is not left with an
; in-service bit set.
hw_master_default:
    push ax
    mov al, PIC_EOI
    out PIC1_CMD, al
    pop ax
    iret
hw_slave_default:
    push ax
    mov al, PIC_EOI
    out PIC2_CMD, al
    out PIC1_CMD, al
    pop ax
    iret

; POST: Rust builds the IVT, BDA and EBDA, programs the PICs, the PIT, the
; A20 gate and the screen; then boot.
post:
    cli
    cld
    xor ax, ax
    mov ss, ax
    mov sp, 0x7C00
    TRAP t_post
    sti
    int 0x19
    jmp int18

; Diskette parameter tables, one per format (INT 1Eh and INT 13h AH=08h):
; specify 1/2, motor-off delay, bytes per sector (2 = 512), sectors per
; track, gap length, data length, format gap, format fill byte, head
; settle time, motor start time.
dpt_360:
    db 0xDF, 0x02, 0x25, 0x02, 0x09, 0x2A, 0xFF, 0x50, 0xF6, 0x0F, 0x08
dpt_1200:
    db 0xDF, 0x02, 0x25, 0x02, 0x0F, 0x1B, 0xFF, 0x54, 0xF6, 0x0F, 0x08
dpt_720:
    db 0xDF, 0x02, 0x25, 0x02, 0x09, 0x2A, 0xFF, 0x50, 0xF6, 0x0F, 0x08
dpt_2880:
    db 0xAF, 0x02, 0x25, 0x02, 0x24, 0x1B, 0xFF, 0x53, 0xF6, 0x0F, 0x08

; Video parameter table pointer target (INT 1Dh): not used by this BIOS;
; 16 zero bytes so that a program reading it sees a table, not code.
video_params:
    times 16 db 0

; The fonts (INT 1Fh, INT 43h, INT 10h AX=1130h): this BIOS carries no glyph
; data (the display draws text with the host's font), so the pointers lead
; to a blank 8x16 font.
align 16
blank_font:
    times 256 * 16 db 0

; ---------------------------------------------------------------------------
; The PC/AT fixed addresses.

AT 0xE05B
official_post:
    jmp post

AT 0xE2C3
official_nmi:
    iret

AT 0xE3FE
official_13:
    jmp int13

AT 0xE6F2
official_19:
    jmp int19
config_table:                   ; E6F5
    dw 8                        ; bytes that follow
    db 0xFC                     ; model: AT
    db 0x01                     ; submodel
    db 0x00                     ; BIOS revision
    db 0x70                     ; feature 1: 2nd PIC, RTC, INT 15h/4Fh from IRQ 1
    db 0x00, 0x00, 0x00, 0x00   ; features 2-5

AT 0xE739
official_14:
    jmp int14

AT 0xE82E
official_16:
    jmp int16

AT 0xE987
official_09:
    jmp irq1

AT 0xEC59
official_40:
    jmp int13

AT 0xEF57
official_0e:
    jmp irq6

AT 0xEFC7
dpt_1440:
    db 0xDF, 0x02, 0x25, 0x02, 0x12, 0x1B, 0xFF, 0x6C, 0xF6, 0x0F, 0x08

AT 0xEFD2
official_17:
    jmp int17

AT 0xF065
official_10:
    jmp int10

AT 0xF841
official_12:
    jmp int12

AT 0xF84D
official_11:
    jmp int11

AT 0xF859
official_15:
    jmp int15

AT 0xFE6E
official_1a:
    jmp int1a

AT 0xFEA5
official_08:
    jmp irq0

AT 0xFF53
official_iret:
    iret
official_05:                    ; FF54: print screen
    iret

AT 0xFFF0
reset_vector:
    jmp 0xF000:official_post
AT 0xFFF5
    db "01/01/26"               ; ROM date
AT 0xFFFE
    db 0xFC                     ; model byte: PC/AT
    db 0x00
