; 43-pm-task-switch: hardware task switches.
;
; Covers: JMP to a 32-bit TSS (state saved in the old TSS and restored on
; the way back, old TSS no longer busy, new one busy, CR0.TS set, the LDT
; loaded from the TSS), JMP to a busy TSS (#GP(selector)), a TSS with a
; limit below 0x67 (#TS(selector)), CALL to a TSS and IRET with NT (back
; link, NT set in the called task, old task stays busy, the called task is
; available again after IRET), CALL through a task gate in the GDT,
; INT n through a task gate in the IDT, a 16-bit TSS, and a double fault
; (a #GP whose gate is not present) handled by a task through a task
; gate, which patches the faulting task's saved EIP and returns to it.
;
; Intel rules: SDM vol. 3 7.3 (task switching, steps and busy/NT/link
; handling), 7.4 (task linking), 6.12.2 (interrupt tasks: the error code
; is pushed on the new task's stack), 6.15 interrupt 8 (#DF error code 0).

%include "test.inc"
%include "pm.inc"

SEL_TSSB    equ (GDT_FREE + 0) * 8
SEL_TSSC    equ (GDT_FREE + 1) * 8
SEL_TGATE_C equ (GDT_FREE + 2) * 8
SEL_TSSD    equ (GDT_FREE + 3) * 8
SEL_TSSDF   equ (GDT_FREE + 4) * 8
SEL_TSSE    equ (GDT_FREE + 5) * 8
SEL_LDT     equ (GDT_FREE + 6) * 8
SEL_TSSBAD  equ (GDT_FREE + 7) * 8
TSS_B       equ 0x2200
TSS_C       equ 0x2300
TSS_D       equ 0x2400
TSS_DF      equ 0x2500
TSS_E       equ 0x2600
TSS_BAD     equ 0x2700
LDT_BASE    equ 0x3800
ENTRIES_C   equ PM_TMP + 0x4C

ROM_START "43-pm-task-switch"
    PM_ENTER
    PM_MAKE_TSS TSS_B, taskB, 0x5000
    mov word [TSS_B + 0x60], SEL_LDT
    PM_MAKE_TSS TSS_C, taskC, 0x4C00
    PM_MAKE_TSS TSS_D, taskD, 0x4800
    PM_MAKE_TSS TSS_DF, taskDF, 0x4400
    ; 16-bit TSS E: IP, FLAGS, AX, SP, ES CS SS DS, LDT.
    mov word [TSS_E + 0x0E], taskE - $$
    mov word [TSS_E + 0x10], 0x0002
    mov word [TSS_E + 0x12], 0xE0E0
    mov word [TSS_E + 0x1A], 0x4000
    mov word [TSS_E + 0x22], SEL_DATA0
    mov word [TSS_E + 0x24], SEL_CODE0
    mov word [TSS_E + 0x26], SEL_DATA0
    mov word [TSS_E + 0x28], SEL_DATA0
    mov word [TSS_E + 0x2A], 0
    GDT_SET GDT_FREE + 0, TSS_B, 0x67, 0x89, 0
    GDT_SET GDT_FREE + 1, TSS_C, 0x67, 0x89, 0
    TASK_GATE_SET GDT_BASE, GDT_FREE + 2, SEL_TSSC
    GDT_SET GDT_FREE + 3, TSS_D, 0x67, 0x89, 0
    GDT_SET GDT_FREE + 4, TSS_DF, 0x67, 0x89, 0
    GDT_SET GDT_FREE + 5, TSS_E, 0x2B, 0x81, 0
    GDT_SET GDT_FREE + 6, LDT_BASE, 0x0F, 0x82, 0
    GDT_SET GDT_FREE + 7, TSS_BAD, 0x50, 0x89, 0
    ; LDT entry 0: ring-0 data at 0x3000 (selector 0x04).
    mov dword [LDT_BASE], DESC_LO(0x3000, 0xFFF)
    mov dword [LDT_BASE + 4], DESC_HI(0x3000, 0xFFF, 0x93, 0)
    mov dword [0x3010], 0x1D71D7
    TASK_GATE_SET IDT_BASE, 0x60, SEL_TSSD
    TASK_GATE_SET IDT_BASE, 8, SEL_TSSDF

    PM_TEST "jmp to a tss and back"
    mov eax, 0x1111
    mov esi, 0x5151
    jmp SEL_TSSB:0
    PM_ASSERT_EQ eax, 0x1111                        ; restored from the main TSS
    PM_ASSERT_EQ esi, 0x5151
    str ax
    PM_ASSERT_EQ ax, SEL_TSS
    PM_ASSERT_EQ dword [PM_TMP + 0], SEL_TSSB       ; TR in task B
    PM_ASSERT_EQ dword [PM_TMP + 4], 0              ; NT clear after JMP
    PM_ASSERT_EQ dword [PM_TMP + 8], 8              ; CR0.TS set by the switch
    PM_ASSERT_EQ dword [PM_TMP + 12], 0x1D71D7      ; read through the task's LDT
    PM_ASSERT_EQ dword [PM_TMP + 16], 0x89          ; main TSS not busy while B ran
    PM_ASSERT_EQ byte [GDT_BASE + SEL_TSSB + 5], 0x89
    PM_ASSERT_EQ byte [GDT_BASE + SEL_TSS + 5], 0x8B
    PM_ASSERT_EQ dword [TSS_B + 0x28], 0xBBBB       ; B's EAX saved in its TSS
    PM_ASSERT_EQ word [TSS_B + 0x54], 0x0004        ; B's DS saved
    clts

    PM_TEST "jmp to a busy tss"
    PM_EXPECT_EXC 13, SEL_TSS, busy_at, busy_done
busy_at:
    jmp SEL_TSS:0
busy_done:
    PM_ASSERT_EXC_TAKEN

    PM_TEST "tss limit below 0x67"
    PM_EXPECT_EXC 10, SEL_TSSBAD, short_at, short_done
short_at:
    jmp SEL_TSSBAD:0
short_done:
    PM_ASSERT_EXC_TAKEN
    str ax
    PM_ASSERT_EQ ax, SEL_TSS

    PM_TEST "call to a tss, iret with nt"
    mov dword [ENTRIES_C], 0
    mov ebx, 0xB0B0
    call SEL_TSSC:0
    PM_ASSERT_EQ ebx, 0xB0B0
    PM_ASSERT_EQ dword [ENTRIES_C], 1
    PM_ASSERT_EQ dword [PM_TMP + 20], 0x4000        ; NT in the called task
    PM_ASSERT_EQ dword [PM_TMP + 24], SEL_TSS       ; back link
    PM_ASSERT_EQ dword [PM_TMP + 28], 0x8B          ; caller still busy
    PM_ASSERT_EQ byte [GDT_BASE + SEL_TSSC + 5], 0x89
    pushfd
    pop eax
    test eax, 0x4000
    PM_ASSERT_Z

    PM_TEST "call through a task gate"
    call SEL_TGATE_C:0
    PM_ASSERT_EQ dword [ENTRIES_C], 2
    PM_ASSERT_EQ dword [PM_TMP + 24], SEL_TSS

    PM_TEST "int n through a task gate"
    mov dword [PM_TMP + 32], 0
    int 0x60
    PM_ASSERT_EQ dword [PM_TMP + 32], 0x4000        ; NT in the interrupt task
    PM_ASSERT_EQ dword [PM_TMP + 36], SEL_TSS
    PM_ASSERT_EQ dword [PM_TMP + 40], 0x4800        ; no error code pushed
    PM_ASSERT_EQ byte [GDT_BASE + SEL_TSSD + 5], 0x89

    PM_TEST "16-bit tss"
    call SEL_TSSE:0
    PM_ASSERT_EQ word [PM_TMP + 56], 0xE0E0
    PM_ASSERT_EQ dword [PM_TMP + 60], 0x4000
    PM_ASSERT_EQ word [PM_TMP + 64], SEL_TSSE
    PM_ASSERT_EQ word [TSS_E + 0x0E], taskE_next - $$   ; E's IP saved in its TSS

    PM_TEST "double fault through a task gate"
    mov byte [IDT_BASE + 13 * 8 + 5], 0x0E          ; #GP's gate: not present
    mov ax, 0x7F8                                   ; a zero descriptor
df_at:
    mov ds, ax                                      ; #GP, then #NP delivering it: #DF
    PM_FAIL_HERE
df_resume:
    PM_ASSERT_EQ dword [PM_TMP + 44], 0             ; #DF error code
    PM_ASSERT_EQ dword [PM_TMP + 48], SEL_TSS       ; back link to the faulting task
    PM_ASSERT_EQ dword [PM_TMP + 52], df_at - $$    ; its saved EIP: the faulting instruction
    PM_ASSERT_EQ dword [PM_TMP + 68], 0x4400 - 4    ; ESP in the #DF task: one error code
    mov ax, ds
    PM_ASSERT_EQ ax, SEL_DATA0

    PM_PASS_ALL

; ---- tasks ---------------------------------------------------------------

taskB:
    mov eax, 0xBBBB
    str bx
    movzx ebx, bx
    mov [PM_TMP + 0], ebx
    pushfd
    pop ecx
    and ecx, 0x4000
    mov [PM_TMP + 4], ecx
    mov ecx, cr0
    and ecx, 8
    mov [PM_TMP + 8], ecx
    movzx ecx, byte [GDT_BASE + SEL_TSS + 5]
    mov [PM_TMP + 16], ecx
    mov cx, 0x0004                                  ; LDT entry 0
    mov fs, cx
    mov ecx, [fs:0x10]
    mov [PM_TMP + 12], ecx
    mov cx, 0x0004
    mov ds, cx
    mov cx, SEL_DATA0
    mov es, cx
    mov [es:PM_TMP + 72], ecx
    jmp SEL_TSS:0
    jmp taskB

taskC:
    pushfd
    pop eax
    and eax, 0x4000
    mov [PM_TMP + 20], eax
    movzx eax, word [TSS_C + 0]
    mov [PM_TMP + 24], eax
    movzx eax, byte [GDT_BASE + SEL_TSS + 5]
    mov [PM_TMP + 28], eax
    inc dword [ENTRIES_C]
    mov ebx, 0xC0C0
    iretd
    jmp taskC

taskD:
    pushfd
    pop eax
    and eax, 0x4000
    mov [PM_TMP + 32], eax
    movzx eax, word [TSS_D + 0]
    mov [PM_TMP + 36], eax
    mov [PM_TMP + 40], esp
    iretd
    jmp taskD

taskE:
    mov [PM_TMP + 56], ax
    pushfd
    pop eax
    and eax, 0x4000
    mov [PM_TMP + 60], eax
    str ax
    mov [PM_TMP + 64], ax
    iretd
taskE_next:
    jmp taskE

taskDF:
    pop eax                                         ; the error code
    mov [PM_TMP + 44], eax
    mov [PM_TMP + 68], esp
    sub dword [PM_TMP + 68], 4
    movzx eax, word [TSS_DF + 0]
    mov [PM_TMP + 48], eax
    mov eax, [TSS_BASE + 0x20]
    mov [PM_TMP + 52], eax
    IDT_RESTORE 13
    mov dword [TSS_BASE + 0x20], df_resume - $$
    iretd
    jmp taskDF

PM_END
