; 44-pm-v86: virtual-8086 mode under a ring-0 monitor.
;
; Covers: entering v86 mode with IRETD (VM in the popped EFLAGS, ESP, SS,
; ES, DS, FS, GS popped, real-mode style segments, CPL 3); the
; IOPL-sensitive instructions with IOPL 0 (INT n, CLI, PUSHF, POPF, IRET:
; #GP(0) to the monitor, which decodes the opcode at CS*16+EIP, emulates
; by skipping it, and IRETDs back); HLT (#GP(0), used to leave v86 mode);
; IN with any IOPL (always checked against the TSS I/O bitmap; with none,
; #GP(0)); an exception (#DE) taken to a ring-0 handler and resumed; with
; IOPL 3: CLI/STI/PUSHF allowed, and INT n through a DPL-3 interrupt gate
; to a ring-0 handler that sees the 9-dword v86 frame (GS, FS, DS, ES, SS,
; ESP, EFLAGS with VM, CS, EIP), DS..GS nulled and the TSS ring-0 stack.
;
; Intel rules: SDM vol. 3 20.2 (v86 mode), 20.2.7 (sensitive
; instructions), 20.3.1.1 (interrupts from v86 to a privilege-0 handler:
; the frame and the nulling of DS, ES, FS, GS), 20.2.8 (I/O in v86 mode
; is controlled by the bitmap only). No CR4.VME.

%include "test.inc"
%include "pm.inc"

V86_SEG     equ 0x0300              ; v86 DS/ES/SS: linear 0x3000
LOG         equ 0x3400              ; monitor log: one opcode byte per trap
LOG_N       equ PM_TMP + 0x40

ROM_START "44-pm-v86"
    PM_ENTER
    IDT_SET 13, gp_monitor
    IDT_SET 0x70, int70_handler, 0xEE

    PM_TEST "v86 with iopl 0: sensitive instructions trap"
    mov dword [LOG_N], 0
    PM_EXPECT_EXC 0, PM_NOERR, v86_div, v86_div_done
    mov eax, v86_prog1 - $$
    xor ebx, ebx
    call run_v86
    PM_ASSERT_EXC_TAKEN
    PM_ASSERT_EQ word [0x3000], ROM_SEG             ; CS in v86 mode
    PM_ASSERT_EQ word [0x3002], 0x1234
    PM_ASSERT_EQ word [0x3004], 0x5678
    PM_ASSERT_EQ dword [LOG_N], 7
    PM_ASSERT_EQ dword [LOG], 0x9D9CFACD            ; INT, CLI, PUSHF, POPF
    PM_ASSERT_EQ word [LOG + 4], 0xE4CF             ; IRET, IN
    PM_ASSERT_EQ byte [LOG + 6], 0xF4               ; HLT
    PM_ASSERT_EQ dword [PM_LAST_CS], ROM_SEG        ; #DE frame from v86
    test dword [PM_LAST_EFL], 0x20000
    PM_ASSERT_NZ

    PM_TEST "v86 with iopl 3: int n through the idt"
    mov dword [LOG_N], 0
    mov eax, v86_prog2 - $$
    mov ebx, 0x3000
    call run_v86
    PM_ASSERT_EQ word [0x3008], 0x7070              ; set by the INT 0x70 handler
    PM_ASSERT_EQ word [0x300A], 0x3000              ; PUSHF in v86: IOPL 3 seen
    PM_ASSERT_EQ dword [LOG_N], 2                   ; only IN and HLT trapped
    PM_ASSERT_EQ word [LOG], 0xF4E4
    PM_ASSERT_EQ dword [PM_TMP + 0], 0              ; DS in the handler: nulled
    PM_ASSERT_EQ dword [PM_TMP + 4], v86_int70_ret - $$
    PM_ASSERT_EQ dword [PM_TMP + 8], ROM_SEG
    PM_ASSERT_EQ dword [PM_TMP + 12], 0x23000       ; VM and IOPL 3 in the pushed EFLAGS
    PM_ASSERT_EQ dword [PM_TMP + 16], 0x0F00        ; v86 SP
    PM_ASSERT_EQ dword [PM_TMP + 20], V86_SEG       ; v86 SS
    PM_ASSERT_EQ dword [PM_TMP + 24], V86_SEG       ; ES
    PM_ASSERT_EQ dword [PM_TMP + 28], V86_SEG       ; DS
    PM_ASSERT_EQ dword [PM_TMP + 32], 0x0040        ; FS
    PM_ASSERT_EQ dword [PM_TMP + 36], 0x0050        ; GS
    PM_ASSERT_EQ dword [PM_TMP + 40], PM_STACK_INT - 36
    PM_ASSERT_EQ dword [PM_TMP + 44], SEL_CODE0
    PM_ASSERT_EQ dword [PM_TMP + 48], 0             ; ES in the handler: nulled

    PM_PASS_ALL

; run_v86: EAX = IP in segment F000, EBX = IOPL bits. Returns when the v86
; code executes HLT.
run_v86:
    mov [PM_SAVE_ESP], esp
    push dword 0x0050                   ; GS
    push dword 0x0040                   ; FS
    push dword V86_SEG                  ; DS
    push dword V86_SEG                  ; ES
    push dword V86_SEG                  ; SS
    push dword 0x0F00                   ; ESP
    or ebx, 0x20002                     ; VM
    push ebx                            ; EFLAGS
    push dword ROM_SEG                  ; CS
    push eax                            ; EIP
    iretd

; The v86 monitor: #GP handler. Frame: error, EIP, CS, EFLAGS, ESP, SS, ES,
; DS, FS, GS.
gp_monitor:
    push eax
    push ebx
    mov ax, SEL_DATA0
    mov ds, ax
    mov es, ax
    ; [esp+8] error, +12 EIP, +16 CS, +20 EFLAGS
    cmp dword [esp + 8], 0
    jne .bad
    test dword [esp + 20], 0x20000
    jz .bad
    movzx eax, word [esp + 16]
    shl eax, 4
    add eax, [esp + 12]
    movzx eax, byte [eax]               ; the opcode
    mov ebx, [LOG_N]
    mov [LOG + ebx], al
    inc dword [LOG_N]
    cmp al, 0xF4
    je .leave_v86
    mov ebx, 1
    cmp al, 0xCD
    je .two
    cmp al, 0xE4
    jne .skip
.two:
    mov ebx, 2
.skip:
    add [esp + 12], ebx
    pop ebx
    pop eax
    add esp, 4                          ; the error code
    iretd
.leave_v86:
    mov esp, [PM_SAVE_ESP]
    ret
.bad:
    PM_FAIL_HERE

int70_handler:
    push eax
    mov eax, ds
    mov [ss:PM_TMP + 0], eax
    mov eax, es
    mov [ss:PM_TMP + 48], eax
    mov ax, SEL_DATA0
    mov ds, ax
    mov eax, [esp + 4]
    mov [PM_TMP + 4], eax
    mov eax, [esp + 8]
    mov [PM_TMP + 8], eax
    mov eax, [esp + 12]
    and eax, 0x00023200                 ; VM, IOPL, IF
    mov [PM_TMP + 12], eax
    mov eax, [esp + 16]
    mov [PM_TMP + 16], eax
    mov eax, [esp + 20]
    mov [PM_TMP + 20], eax
    mov eax, [esp + 24]
    mov [PM_TMP + 24], eax
    mov eax, [esp + 28]
    mov [PM_TMP + 28], eax
    mov eax, [esp + 32]
    mov [PM_TMP + 32], eax
    mov eax, [esp + 36]
    mov [PM_TMP + 36], eax
    lea eax, [esp + 4]
    mov [PM_TMP + 40], eax
    mov eax, cs
    mov [PM_TMP + 44], eax
    mov ebx, 0x7070
    pop eax
    iretd                               ; CPL 0, VM in the image: back to v86

; ---- v86 code (segment F000 = the ROM) --------------------------------------
bits 16
v86_prog1:
    mov ax, cs
    mov [0], ax
    mov word [2], 0x1234
    int 0x21
    cli
    pushf
    popf
    iret
    in al, 0x80
    xor cx, cx
    mov ax, 1
v86_div:
    div cx
v86_div_done:
    mov word [4], 0x5678
    hlt

v86_prog2:
    cli
    sti
    cli
    pushf
    pop ax
    and ax, 0x3000
    mov [0x0A], ax
    xor bx, bx
    int 0x70
v86_int70_ret:
    mov [8], bx
    in al, 0x80
    hlt
bits 32

PM_END
