; 40-pm-enter-exit: entering and leaving protected mode, and the
; descriptor-table and machine-status instructions.
;
; Covers: CR0.PE through MOV CR0, the far jump that loads CS, data segment
; loads (and the accessed bit the CPU writes back), SGDT/SIDT/SLDT/STR,
; LTR marking the TSS busy, LAR/LSL/VERR/VERW/ARPL, SMSW/LMSW (LMSW cannot
; clear PE)/CLTS, MOV to/from CR0/CR2/CR3/CR4 and DR0-DR7 (fixed bits of
; DR6/DR7), a 16-bit code segment, and the way back to real mode through a
; 16-bit segment, after which real-mode addressing works again; then
; protected mode once more.
;
; Intel rules: SDM vol. 3 9.9 (switching modes), vol. 2 LAR/LSL/VERR/ARPL
; (ZF reports the check; the access rights are bytes 5-6 masked with
; 00FxFF00h), LMSW (PE can be set, not cleared), MOV DR (DR6 bits 4-11 and
; 16-31 read as 1 on a P6, DR7 bit 10 as 1).

%include "test.inc"
%include "pm.inc"

ROM_START "40-pm-enter-exit"
    PM_ENTER

    PM_TEST "in protected mode at CPL 0"
    smsw eax
    test al, 1
    PM_ASSERT_NZ
    mov ax, cs
    PM_ASSERT_EQ ax, SEL_CODE0
    mov ax, ss
    PM_ASSERT_EQ ax, SEL_DATA0
    mov ax, ds
    PM_ASSERT_EQ ax, SEL_DATA0
    ; flat data: linear 0xF0000 is the ROM
    mov eax, [ROM_BASE + __rom_name - $$]
    PM_ASSERT_EQ eax, '40-p'

    PM_TEST "sgdt sidt str sldt"
    sgdt [PM_TMP]
    PM_ASSERT_EQ word [PM_TMP], GDT_LIMIT
    PM_ASSERT_EQ dword [PM_TMP + 2], GDT_BASE
    sidt [PM_TMP]
    PM_ASSERT_EQ word [PM_TMP], 0x7FF
    PM_ASSERT_EQ dword [PM_TMP + 2], IDT_BASE
    str ax
    PM_ASSERT_EQ ax, SEL_TSS
    mov ebx, 0xFFFFFFFF
    sldt ebx
    PM_ASSERT_EQ ebx, 0
    ; LTR marked the TSS busy (type 9 -> 11)
    PM_ASSERT_EQ byte [GDT_BASE + SEL_TSS + 5], 0x8B

    PM_TEST "segment load sets the accessed bit"
    GDT_SET GDT_FREE, 0x3000, 0xFFF, 0x92, 0   ; ring-0 data, not accessed
    PM_ASSERT_EQ byte [GDT_BASE + GDT_FREE * 8 + 5], 0x92
    mov ax, GDT_FREE * 8
    mov es, ax
    PM_ASSERT_EQ byte [GDT_BASE + GDT_FREE * 8 + 5], 0x93
    mov dword [es:0x10], 0x12345678
    PM_ASSERT_EQ dword [0x3010], 0x12345678
    mov ax, SEL_DATA0
    mov es, ax

    PM_TEST "lar lsl verr verw arpl"
    mov bx, SEL_DATA0
    lar eax, bx
    PM_ASSERT_Z
    and eax, 0x00F0FF00             ; limit bits 19:16 are undefined
    PM_ASSERT_EQ eax, 0x00C09300
    lsl eax, bx
    PM_ASSERT_Z
    PM_ASSERT_EQ eax, 0xFFFFFFFF
    mov bx, SEL_CODE0
    lsl eax, bx
    PM_ASSERT_EQ eax, 0xFFFF
    lar ax, bx
    PM_ASSERT_EQ ax, 0x9B00
    verr bx
    PM_ASSERT_Z
    verw bx
    PM_ASSERT_NZ
    mov bx, SEL_TSS
    lar eax, bx
    PM_ASSERT_Z
    PM_ASSERT_EQ eax, 0x00008B00
    xor bx, bx
    mov eax, 0x5555
    lar eax, bx                     ; null: ZF=0, destination unchanged
    PM_ASSERT_NZ
    PM_ASSERT_EQ eax, 0x5555
    mov bx, 0x7F8                   ; beyond the GDT's used entries: a zero descriptor
    verr bx
    PM_ASSERT_NZ
    mov ax, 0x0010
    mov bx, 0x0002
    arpl ax, bx
    PM_ASSERT_Z
    PM_ASSERT_EQ ax, 0x0012
    arpl ax, bx
    PM_ASSERT_NZ

    PM_TEST "cr0 ts/mp via lmsw, clts, smsw"
    lmsw ax                         ; AX=0x12: MP (bit 1); PE=0 in AX must not clear PE
    smsw ax
    PM_ASSERT_EQ al, 0x13
    mov eax, cr0
    or eax, 8                       ; TS
    mov cr0, eax
    smsw ax
    test al, 8
    PM_ASSERT_NZ
    clts
    smsw ax
    PM_ASSERT_EQ al, 0x13
    mov eax, cr0
    and al, ~2
    mov cr0, eax
    test eax, 0x10                  ; ET is hardwired on a P6
    PM_ASSERT_NZ

    PM_TEST "mov cr2 cr3 cr4"
    mov eax, 0xCAFE1234
    mov cr2, eax
    mov ebx, cr2
    PM_ASSERT_EQ ebx, 0xCAFE1234
    mov eax, 0x00123000
    mov cr3, eax
    mov ebx, cr3
    PM_ASSERT_EQ ebx, 0x00123000
    xor eax, eax
    mov cr3, eax
    mov eax, 0x90                   ; PSE | PGE
    mov cr4, eax
    mov ebx, cr4
    PM_ASSERT_EQ ebx, 0x90
    xor eax, eax
    mov cr4, eax

    PM_TEST "debug registers"
    mov eax, 0x11111111
    mov dr0, eax
    mov eax, 0x22222222
    mov dr3, eax
    mov ebx, dr0
    PM_ASSERT_EQ ebx, 0x11111111
    mov ebx, dr3
    PM_ASSERT_EQ ebx, 0x22222222
    xor eax, eax
    mov dr6, eax
    mov ebx, dr6
    PM_ASSERT_EQ ebx, 0xFFFF0FF0
    mov dr7, eax
    mov ebx, dr7
    PM_ASSERT_EQ ebx, 0x00000400

    PM_TEST "16-bit code segment"
    mov [PM_SAVE_ESP], esp
    jmp SEL_CODE16:code16
bits 16
code16:
    mov ax, sp
    push ax                         ; a 16-bit push in a 16-bit segment
    mov bx, sp
    pop ax
    sub ax, bx
    mov [PM_TMP], ax                ; 16-bit addressing: DS is flat, offset 0x630
    jmp dword SEL_CODE0:back32
bits 32
back32:
    PM_ASSERT_EQ word [PM_TMP], 2
    PM_ASSERT_EQ esp, [PM_SAVE_ESP]

    PM_TEST "back to real mode and in again"
    mov dword [0x3000], 0
    jmp SEL_CODE16:leave16
bits 16
leave16:
    mov ax, SEL_DATA16              ; 64 KiB limits for real mode
    mov ds, ax
    mov es, ax
    mov fs, ax
    mov gs, ax
    mov ss, ax
    mov eax, cr0
    and al, 0xFE
    mov cr0, eax
    jmp ROM_SEG:real_again
real_again:
    mov ax, 0x0300
    mov ds, ax
    mov word [0], 0xBEEF            ; real-mode address 0x300:0 = 0x3000
    xor ax, ax
    mov ds, ax
    mov es, ax
    mov ss, ax
    smsw ax
    and ax, 1
    mov [0x3004], ax                ; PE as seen in real mode
    mov eax, cr0
    or al, 1
    mov cr0, eax
    jmp dword SEL_CODE0:pm_again
bits 32
pm_again:
    mov ax, SEL_DATA0
    mov ds, ax
    mov es, ax
    mov ss, ax
    PM_ASSERT_EQ word [0x3000], 0xBEEF
    PM_ASSERT_EQ word [0x3004], 0
    str ax
    PM_ASSERT_EQ ax, SEL_TSS

    PM_PASS_ALL
PM_END
