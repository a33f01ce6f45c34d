; 42-pm-ring3: privilege transitions between ring 0 and ring 3, and what
; ring 3 may not do.
;
; Covers: IRETD to ring 3 (SS:ESP popped, ES/DS/FS/GS holding ring-0
; segments nulled, null FS/GS kept); INT n from ring 3 through a DPL-3
; interrupt gate onto the TSS ring-0 stack (frame EIP, CS, EFLAGS, ESP,
; SS) and IRETD back; INT n to a DPL-0 gate (#GP(vector*8+2)); a call
; gate to ring 0 and RETF back (data segments nulled again); conforming
; code called from ring 3 (runs at CPL 3) and non-conforming ring-0 code
; (#GP(selector)); exceptions at ring 3 (frame with the ring-3 SS:ESP);
; the privileged instructions at CPL 3 (#GP(0)); IOPL-sensitive CLI/STI/
; IN/OUT with IOPL 0 (#GP(0)) and with IOPL 3 (allowed); POPF at CPL 3
; leaving IF and IOPL alone; the TSS I/O permission bitmap.
;
; Intel rules: SDM vol. 2 IRET (return to outer privilege level: "segment
; registers ... are set to NULL if they refer to segments not accessible
; at the new privilege"), INT n (gate DPL < CPL is #GP with IDT-flagged
; error code), vol. 3 5.8 (conforming code keeps CPL), 5.9 (privileged
; instructions), 18.5 (I/O bitmap, 2 bytes read for each check).

%include "test.inc"
%include "pm.inc"

SEL_CONF0   equ (GDT_FREE + 0) * 8          ; conforming ring-0 code
CG_RING0    equ (GDT_FREE + 1) * 8 + 3      ; call gate DPL 3 -> ring 0
SEL_TSS_IO  equ (GDT_FREE + 2) * 8          ; TSS with an I/O bitmap
TSS_IO      equ 0x2100
TSS_IO_LIM  equ 0x68 + 0x80                 ; bitmap for ports 0-0x3FF + 1 byte
TALLY       equ PM_TMP + 0x40

; EXPECT_GP0_R3 at, resume: (ring 3) expect #GP(0) at `at`.
%macro EXPECT_GP0_R3 2
    PM_EXPECT_EXC 13, 0, %1, %2
%endmacro

; COUNT_R3: (ring 3) add the armed-exception count to TALLY.
%macro COUNT_R3 0
    mov eax, [PM_EXC_COUNT]
    add [TALLY], eax
%endmacro

ROM_START "42-pm-ring3"
    PM_ENTER
    IDT_SET 0x50, int50_handler, 0xEE        ; DPL 3 interrupt gate
    IDT_SET 0x51, int50_handler, 0x8E        ; DPL 0
    GDT_SET GDT_FREE + 0, ROM_BASE, 0xFFFF, 0x9F, 0x4
    GATE_SET GDT_BASE, GDT_FREE + 1, SEL_CODE0, gate_ring0, 0xEC

    PM_TEST "iretd to ring 3 nulls ring-0 data segments"
    mov ax, SEL_DATA0
    mov ds, ax
    mov es, ax
    mov ax, SEL_DATA3
    mov fs, ax
    xor ax, ax
    mov gs, ax
    push dword 0                        ; the argument slot INT 0x7F's RET 4 drops
    call iret_to_r3_segs
    PM_ASSERT_EQ dword [PM_TMP + 0], 0             ; DS nulled
    PM_ASSERT_EQ dword [PM_TMP + 4], 0             ; ES nulled
    PM_ASSERT_EQ dword [PM_TMP + 8], SEL_DATA3     ; FS kept
    PM_ASSERT_EQ dword [PM_TMP + 12], 0            ; GS (null) kept
    PM_ASSERT_EQ dword [PM_TMP + 16], SEL_CODE3
    PM_ASSERT_EQ dword [PM_TMP + 20], SEL_DATA3
    PM_ASSERT_EQ dword [PM_TMP + 24], PM_STACK3

    PM_TEST "int n from ring 3 switches to the TSS stack"
    PM_RUN_RING3 r3_int
    PM_ASSERT_EQ ebx, 0x50505050                   ; the handler ran
    PM_ASSERT_EQ dword [PM_TMP + 0], r3_int_ret - $$
    PM_ASSERT_EQ dword [PM_TMP + 4], SEL_CODE3
    PM_ASSERT_EQ dword [PM_TMP + 12], PM_STACK3
    PM_ASSERT_EQ dword [PM_TMP + 16], SEL_DATA3
    PM_ASSERT_EQ dword [PM_TMP + 20], PM_STACK_INT - 20
    PM_ASSERT_EQ dword [PM_TMP + 24], SEL_CODE0
    PM_ASSERT_EQ dword [PM_TMP + 28], SEL_DATA0
    PM_ASSERT_EQ ecx, PM_STACK3                    ; ring-3 ESP after IRETD

    PM_TEST "int n to a DPL-0 gate from ring 3"
    PM_EXPECT_EXC 13, 0x51 * 8 + 2, r3_int51, r3_int51_resume
    PM_RUN_RING3 r3_int51
    PM_ASSERT_EXC_TAKEN
    PM_ASSERT_EQ dword [PM_LAST_CS], SEL_CODE3
    PM_ASSERT_EQ dword [PM_LAST_SS], SEL_DATA3
    PM_ASSERT_EQ dword [PM_LAST_ESP], PM_STACK3

    PM_TEST "call gate to ring 0 and retf back"
    PM_RUN_RING3 r3_gate
    PM_ASSERT_EQ ebx, SEL_CODE0                    ; ran at CPL 0
    PM_ASSERT_EQ dword [PM_TMP + 0], 0             ; DS nulled by RETF
    PM_ASSERT_EQ dword [PM_TMP + 4], SEL_DATA3     ; ES (DPL 3) kept
    PM_ASSERT_EQ dword [PM_TMP + 8], SEL_CODE3

    PM_TEST "conforming code keeps CPL 3"
    PM_RUN_RING3 r3_conf
    PM_ASSERT_EQ ebx, SEL_CONF0 | 3                ; CS.RPL = CPL = 3
    PM_ASSERT_EQ ecx, SEL_CODE3
    PM_ASSERT_EQ dword [TALLY], 1                  ; far call to ring-0 code: #GP(sel)

    PM_TEST "privileged instructions at ring 3"
    mov dword [TALLY], 0
    PM_RUN_RING3 r3_priv
    PM_ASSERT_EQ dword [TALLY], 14

    PM_TEST "iopl 0: cli sti in out popf at ring 3"
    mov dword [TALLY], 0
    PM_RUN_RING3 r3_iopl0
    PM_ASSERT_EQ dword [TALLY], 4
    PM_ASSERT_EQ dword [PM_TMP + 0], 0x0000        ; POPF left IF and IOPL alone
    PM_ASSERT_EQ dword [PM_TMP + 4], 0x0001        ; ... but loaded CF

    PM_TEST "iopl 3: cli sti in out allowed"
    pushfd
    or dword [esp], 0x3000
    popfd
    PM_RUN_RING3 r3_iopl3
    pushfd
    and dword [esp], ~0x3000
    popfd
    PM_ASSERT_EQ ebx, 0x1234

    PM_TEST "tss i/o permission bitmap"
    ; A second TSS with a bitmap allowing only port 0x80.
    mov edi, TSS_IO
    mov ecx, TSS_IO_LIM + 1
    mov al, 0
    rep stosb
    mov dword [TSS_IO + 4], PM_STACK_INT
    mov dword [TSS_IO + 8], SEL_DATA0
    mov word [TSS_IO + 0x66], 0x68
    mov edi, TSS_IO + 0x68
    mov ecx, 0x81
    mov al, 0xFF
    rep stosb
    and byte [TSS_IO + 0x68 + 0x80 / 8], ~1     ; port 0x80 allowed
    GDT_SET GDT_FREE + 2, TSS_IO, TSS_IO_LIM, 0x89, 0
    mov ax, SEL_TSS_IO
    ltr ax
    mov dword [TALLY], 0
    PM_RUN_RING3 r3_bitmap
    PM_ASSERT_EQ dword [TALLY], 3
    PM_ASSERT_EQ ebx, 0xB17

    PM_PASS_ALL

; ---- ring-0 helpers --------------------------------------------------------

int50_handler:
    push eax
    mov ax, SEL_DATA0
    mov ds, ax
    mov eax, [esp + 4]
    mov [PM_TMP + 0], eax
    mov eax, [esp + 8]
    mov [PM_TMP + 4], eax
    mov eax, [esp + 16]
    mov [PM_TMP + 12], eax
    mov eax, [esp + 20]
    mov [PM_TMP + 16], eax
    lea eax, [esp + 4]
    mov [PM_TMP + 20], eax
    mov eax, cs
    mov [PM_TMP + 24], eax
    mov eax, ss
    mov [PM_TMP + 28], eax
    mov ebx, 0x50505050
    pop eax
    iretd

; IRETD to ring 3 at r3_segs with whatever data segments are loaded.
iret_to_r3_segs:
    mov [PM_SAVE_ESP], esp
    push dword SEL_DATA3
    push dword PM_STACK3
    pushfd
    push dword SEL_CODE3
    push dword r3_segs - $$
    iretd

gate_ring0:
    mov ebx, cs
    mov ax, SEL_DATA0
    mov ds, ax                          ; DPL 0: nulled by the RETF to ring 3
    mov ax, SEL_DATA3
    mov es, ax
    retf

; ---- ring-3 code -------------------------------------------------------------

r3_segs:
    mov eax, ds
    mov [ss:PM_TMP + 0], eax
    mov eax, es
    mov [ss:PM_TMP + 4], eax
    mov eax, fs
    mov [ss:PM_TMP + 8], eax
    mov eax, gs
    mov [ss:PM_TMP + 12], eax
    mov eax, cs
    mov [ss:PM_TMP + 16], eax
    mov eax, ss
    mov [ss:PM_TMP + 20], eax
    mov [ss:PM_TMP + 24], esp
    PM_RING3_EXIT

r3_int:
    xor ebx, ebx
    int 0x50
r3_int_ret:
    mov ecx, esp
    PM_RING3_EXIT

r3_int51:
    int 0x51
r3_int51_resume:
    PM_RING3_EXIT

r3_gate:
    mov ax, SEL_DATA3
    mov es, ax
    call CG_RING0:0
    mov eax, ds
    mov [ss:PM_TMP + 0], eax
    mov eax, es
    mov [ss:PM_TMP + 4], eax
    mov eax, cs
    mov [ss:PM_TMP + 8], eax
    PM_RING3_EXIT

r3_conf:
    mov dword [TALLY], 0
    call SEL_CONF0:conf_proc
    mov ecx, cs
    PM_EXPECT_EXC 13, SEL_CODE0, r3_conf_bad, r3_conf_done
r3_conf_bad:
    call SEL_CODE0:conf_proc            ; non-conforming ring 0: #GP(0x08)
r3_conf_done:
    COUNT_R3
    PM_RING3_EXIT
conf_proc:
    mov ebx, cs
    retf

; Each privileged instruction at CPL 3: #GP(0), resumes at the next label.
%macro PRIV 1-2
    EXPECT_GP0_R3 %%at, %%next
%%at:
    %1 %2
%%next:
    COUNT_R3
%endmacro

r3_priv:
    PRIV hlt
    PRIV lgdt, [PM_TMP]
    PRIV lidt, [PM_TMP]
    PRIV mov, {cr0, eax}
    PRIV mov, {eax, cr3}
    PRIV mov, {dr7, eax}
    PRIV clts
    PRIV lmsw, ax
    PRIV invlpg, [0]
    PRIV wbinvd
    PRIV rdmsr
    PRIV wrmsr
    mov ax, SEL_TSS
    PRIV ltr, ax
    PRIV lldt, ax
    PM_RING3_EXIT

r3_iopl0:
    PRIV cli
    PRIV sti
    PRIV in, {al, 0x80}
    PRIV out, {0x80, al}
    pushfd
    pop ebx
    mov eax, ebx
    or eax, 0x3201                      ; try IF and IOPL 3, and CF
    push eax
    popfd
    pushfd
    pop eax
    push ebx
    popfd
    mov edx, eax
    and eax, 0x3200
    mov [PM_TMP + 0], eax
    and edx, 1
    mov [PM_TMP + 4], edx
    PM_RING3_EXIT

r3_iopl3:
    cli
    sti
    cli
    in al, 0x80
    out 0x80, al
    mov ebx, 0x1234
    PM_RING3_EXIT

r3_bitmap:
    in al, 0x80                         ; allowed by the bitmap
    out 0x80, al
    PRIV in, {al, 0x81}
    PRIV in, {ax, 0x7F}                 ; 0x7F-0x80: 0x7F is not allowed
    mov dx, 0x3F8
    PRIV out, {dx, al}
    mov ebx, 0xB17
    PM_RING3_EXIT

PM_END
