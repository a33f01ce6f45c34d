; 46-pm-protection: segment limit and rights violations, with the vector
; and error code each one raises.
;
; Covers: #GP(selector) for loading the wrong kind of segment (an
; execute-only code segment into DS, a ring-0 segment into DS at ring 3,
; SS with RPL != CPL), far transfers to non-conforming code with RPL >
; CPL, LLDT of a non-LDT and LTR of a busy TSS; #GP(0) for a far jump past
; the CS limit and for loading SS with null; #GP(vector*8+2) for an IDT
; entry beyond IDTR.limit and for a descriptor that is not a gate; #NP for
; a not-present data segment, code segment, call gate and IDT gate;
; #SS(selector) for a not-present stack segment; #TS(selector)
; for a call gate whose TSS.SS0 is invalid (handled by a task so the
; fault does not become a double fault).
;
; (Limit and rights checks on data accesses are in 49-pm-segment-limits:
; QEMU TCG does not implement them.)
;
; Intel rules: SDM vol. 3 5.4-5.6 (type
; and privilege checks), 6.13 (error codes: selector with TI, IDT bit 1
; and EXT bit 0), 6.15 (#NP, #SS, #TS, #GP conditions), vol. 2 MOV/LLDT/
; LTR/JMP/CALL/INT n exception lists.

%include "test.inc"
%include "pm.inc"

SEL_SMALL   equ (GDT_FREE + 0) * 8      ; data at 0x3000, limit 0xFFF
SEL_EXPD16  equ (GDT_FREE + 1) * 8      ; expand-down, B=0, limit 0xFFF
SEL_RODATA  equ (GDT_FREE + 2) * 8      ; read-only data
SEL_XCODE   equ (GDT_FREE + 3) * 8      ; execute-only code
SEL_NPDATA  equ (GDT_FREE + 4) * 8      ; data, not present
SEL_NPGATE  equ (GDT_FREE + 5) * 8      ; call gate, not present
SEL_NPCODE  equ (GDT_FREE + 6) * 8      ; code, not present
SEL_TSSTS   equ (GDT_FREE + 8) * 8      ; the #TS handler task
SEL_GATE3   equ (GDT_FREE + 9) * 8 + 3  ; call gate DPL 3 -> ring 0
SEL_EXPD32  equ (GDT_FREE + 10) * 8     ; expand-down, B=1, limit 0xFFF
TSS_TS      equ 0x2100

; EXC_AT vector, error, insn...: the instruction must raise the exception.
%macro EXC_AT 3-4
    PM_EXPECT_EXC %1, %2, %%at, %%next
%%at:
    %3 %4
%%next:
    PM_ASSERT_EXC_TAKEN
%endmacro

ROM_START "46-pm-protection"
    PM_ENTER
    GDT_SET GDT_FREE + 0, 0x3000, 0xFFF, 0x93, 0x4
    GDT_SET GDT_FREE + 1, 0x3000, 0xFFF, 0x97, 0x0
    GDT_SET GDT_FREE + 2, 0x3000, 0xFFF, 0x91, 0x4
    GDT_SET GDT_FREE + 3, ROM_BASE, 0xFFFF, 0x99, 0x4
    GDT_SET GDT_FREE + 4, 0x3000, 0xFFF, 0x13, 0x4
    GATE_SET GDT_BASE, GDT_FREE + 5, SEL_CODE0, gate_target, 0x0C
    GDT_SET GDT_FREE + 6, ROM_BASE, 0xFFFF, 0x1B, 0x4
    GDT_SET GDT_FREE + 8, TSS_TS, 0x67, 0x89, 0
    GATE_SET GDT_BASE, GDT_FREE + 9, SEL_CODE0, gate_target, 0xEC
    GDT_SET GDT_FREE + 10, 0, 0xFFF, 0x97, 0x4
    PM_MAKE_TSS TSS_TS, ts_task, 0x4800

    PM_TEST "selector loads: #GP(selector)"
    mov ax, SEL_XCODE
    EXC_AT 13, SEL_XCODE, mov, {ds, ax}
    mov ax, 0x7F8                                   ; an empty descriptor
    EXC_AT 13, 0x7F8, mov, {fs, ax}
    mov ax, 0x804                                   ; beyond the GDT, TI=1 but no LDT
    EXC_AT 13, 0x804, mov, {fs, ax}
    mov ax, SEL_DATA0 | 3                           ; SS with RPL 3 at CPL 0
    EXC_AT 13, SEL_DATA0, mov, {ss, ax}
    xor ax, ax
    EXC_AT 13, 0, mov, {ss, ax}
    mov ax, SEL_TSS
    EXC_AT 13, SEL_TSS, lldt, ax
    EXC_AT 13, SEL_TSS, ltr, ax                     ; busy
    mov ax, ds
    PM_ASSERT_EQ ax, SEL_DATA0

    PM_TEST "far transfers: #GP"
    EXC_AT 13, SEL_CODE0, call, {(SEL_CODE0 | 3):gate_target}   ; RPL 3 > CPL 0
    EXC_AT 13, 0, jmp, {SEL_CODE0:0x10000}                        ; past the CS limit
    EXC_AT 13, SEL_SMALL, jmp, {SEL_SMALL:0}                      ; data segment
    EXC_AT 13, 0, jmp, {0:0}                                      ; null

    PM_TEST "not present: #NP(selector), #SS(selector)"
    mov ax, SEL_NPDATA
    EXC_AT 11, SEL_NPDATA, mov, {es, ax}
    EXC_AT 12, SEL_NPDATA, mov, {ss, ax}
    EXC_AT 11, SEL_NPCODE, jmp, {SEL_NPCODE:0}
    EXC_AT 11, SEL_NPGATE, call, {SEL_NPGATE:0}
    mov byte [IDT_BASE + 0x33 * 8 + 5], 0x0E        ; gate type, P=0
    EXC_AT 11, 0x33 * 8 + 2, int, 0x33

    PM_TEST "idt: limit and gate type"
    IDT_SET 0x34, gate_target, 0x89                 ; a TSS type, not a gate
    EXC_AT 13, 0x34 * 8 + 2, int, 0x34
    mov word [PM_TMP], 0x1FF                        ; 64 vectors
    mov dword [PM_TMP + 2], IDT_BASE
    lidt [PM_TMP]
    EXC_AT 13, 0x50 * 8 + 2, int, 0x50
    mov word [PM_TMP], 0x7FF
    lidt [PM_TMP]

    PM_TEST "ring 3 may not load ring-0 data"
    mov dword [PM_TMP + 0x20], 0
    PM_RUN_RING3 r3_load
    PM_ASSERT_EQ dword [PM_TMP + 0x20], 1

    PM_TEST "invalid tss.ss0: #TS(selector)"
    TASK_GATE_SET IDT_BASE, 10, SEL_TSSTS
    mov dword [TSS_BASE + 8], SEL_DATA3             ; RPL/DPL 3: not a ring-0 stack
    mov dword [PM_TMP + 0x24], 0xFFFF
    PM_RUN_RING3 r3_ts
    PM_ASSERT_EQ dword [PM_TMP + 0x24], SEL_DATA3 & 0xFFFC
    PM_ASSERT_EQ dword [PM_TMP + 0x28], r3_ts_at - $$  ; the faulting task's saved EIP
    PM_ASSERT_EQ dword [PM_TMP + 0x2C], SEL_CODE3      ; ... and CS
    IDT_RESTORE 10

    PM_PASS_ALL

gate_target:
    PM_FAIL_HERE

ts_task:
    pop eax
    mov [PM_TMP + 0x24], eax
    mov eax, [TSS_BASE + 0x20]
    mov [PM_TMP + 0x28], eax
    movzx eax, word [TSS_BASE + 0x4C]
    mov [PM_TMP + 0x2C], eax
    mov dword [TSS_BASE + 8], SEL_DATA0
    mov dword [TSS_BASE + 0x20], r3_ts_resume - $$
    iretd
    jmp ts_task

; ---- ring-3 code ----------------------------------------------------------

r3_load:
    PM_EXPECT_EXC 13, SEL_DATA0, r3_load_at, r3_load_done
    mov ax, SEL_DATA0 | 3
r3_load_at:
    mov es, ax
r3_load_done:
    mov eax, [PM_EXC_COUNT]
    mov [PM_TMP + 0x20], eax
    PM_RING3_EXIT

r3_ts:
r3_ts_at:
    call SEL_GATE3:0
    mov dword [PM_TMP + 0x24], 0xBAD
r3_ts_resume:
    PM_RING3_EXIT

PM_END
