; 41-pm-gates: interrupt, trap and call gates.
;
; Covers: INT n through a 32-bit interrupt gate (frame EIP/CS/EFLAGS, IF
; cleared in the handler, restored by IRETD) and a trap gate (IF kept); a
; 16-bit interrupt gate (word frame, IRET with o16); a call gate at the
; same privilege (CALL pushes CS:EIP, the far pointer's offset is ignored)
; and JMP through it; a 32-bit call gate from ring 3 to ring 0 copying
; three doubleword parameters onto the ring-0 stack from TSS.SS0:ESP0,
; and RETF 12 back; a 16-bit call gate copying two words.
;
; Intel rules: SDM vol. 3 5.8.5 (stack switching; "the parameter count
; ... the processor copies" from the calling stack in order), 6.12.1
; (interrupt gates clear IF, trap gates do not), 6.12.1 figure 6-4
; (frames), vol. 2 CALL (call gates: the offset part of the pointer is
; ignored) and RET (RETF n releases n bytes on both stacks).

%include "test.inc"
%include "pm.inc"

CG_SAME   equ (GDT_FREE + 0) * 8
CG_INNER  equ (GDT_FREE + 1) * 8 + 3
CG_INNER16 equ (GDT_FREE + 2) * 8 + 3
CG_JMP    equ (GDT_FREE + 3) * 8

ROM_START "41-pm-gates"
    PM_ENTER
    IDT_SET 0x40, int_gate_handler, 0x8E
    IDT_SET 0x41, trap_gate_handler, 0x8F
    IDT_SET 0x42, int16_handler, 0x86
    GATE_SET GDT_BASE, GDT_FREE + 0, SEL_CODE0, call_same, 0x8C
    GATE_SET GDT_BASE, GDT_FREE + 1, SEL_CODE0, call_inner, 0xEC, 3
    GATE_SET GDT_BASE, GDT_FREE + 2, SEL_CODE0, call_inner16, 0xE4, 2
    GATE_SET GDT_BASE, GDT_FREE + 3, SEL_CODE0, jmp_target, 0x8C

    PM_TEST "int n through an interrupt gate"
    mov ebx, esp
    sti
    int 0x40
after_int40:
    pushfd
    cli
    pop eax
    test eax, 0x200                 ; IRETD restored IF
    PM_ASSERT_NZ
    PM_ASSERT_EQ ebx, esp
    PM_ASSERT_EQ dword [PM_TMP + 0], 0            ; IF inside the handler
    PM_ASSERT_EQ dword [PM_TMP + 4], 0x200        ; IF in the pushed EFLAGS
    PM_ASSERT_EQ dword [PM_TMP + 8], SEL_CODE0    ; pushed CS
    PM_ASSERT_EQ dword [PM_TMP + 12], after_int40 - $$
    mov eax, PM_STACK0 - 12
    PM_ASSERT_EQ dword [PM_TMP + 16], eax         ; ESP in the handler

    PM_TEST "int n through a trap gate keeps IF"
    sti
    int 0x41
    cli
    PM_ASSERT_EQ dword [PM_TMP + 0], 0x200

    PM_TEST "16-bit interrupt gate pushes words"
    mov ebx, esp
    int 0x42
after_int42:
    PM_ASSERT_EQ ebx, esp
    PM_ASSERT_EQ word [PM_TMP + 0], after_int42 - $$
    PM_ASSERT_EQ word [PM_TMP + 2], SEL_CODE0
    mov eax, PM_STACK0 - 6
    PM_ASSERT_EQ dword [PM_TMP + 4], eax

    PM_TEST "call gate at the same privilege"
    mov ebx, esp
    call CG_SAME:0x12345678
after_call_same:
    PM_ASSERT_EQ ebx, esp
    PM_ASSERT_EQ dword [PM_TMP + 0], after_call_same - $$
    PM_ASSERT_EQ dword [PM_TMP + 4], SEL_CODE0

    PM_TEST "jmp through a call gate"
    mov dword [PM_TMP], 0
    jmp CG_JMP:0
jmp_back:
    PM_ASSERT_EQ dword [PM_TMP], 0x4A4D50

    PM_TEST "call gate ring 3 to ring 0 copies 3 dwords"
    PM_RUN_RING3 ring3_call
    PM_ASSERT_EQ ebx, PM_STACK3                   ; RETF 12 dropped the parameters
    PM_ASSERT_EQ ecx, SEL_CODE3                   ; back in ring 3
    PM_ASSERT_EQ dword [PM_TMP + 0], ring3_ret - $$
    PM_ASSERT_EQ dword [PM_TMP + 4], SEL_CODE3
    PM_ASSERT_EQ dword [PM_TMP + 8], 0x11111111
    PM_ASSERT_EQ dword [PM_TMP + 12], 0x22222222
    PM_ASSERT_EQ dword [PM_TMP + 16], 0x33333333
    PM_ASSERT_EQ dword [PM_TMP + 20], PM_STACK3 - 12
    PM_ASSERT_EQ dword [PM_TMP + 24], SEL_DATA3
    PM_ASSERT_EQ dword [PM_TMP + 28], PM_STACK_INT - 28   ; ring-0 ESP
    PM_ASSERT_EQ dword [PM_TMP + 32], SEL_DATA0           ; ring-0 SS from the TSS
    PM_ASSERT_EQ dword [PM_TMP + 36], SEL_CODE0           ; CS.RPL = 0

    PM_TEST "16-bit call gate copies 2 words"
    PM_RUN_RING3 ring3_call16
    PM_ASSERT_EQ ebx, PM_STACK3
    PM_ASSERT_EQ word [PM_TMP + 0], ring3_ret16 - $$
    PM_ASSERT_EQ word [PM_TMP + 2], SEL_CODE3
    PM_ASSERT_EQ word [PM_TMP + 4], 0x1111
    PM_ASSERT_EQ word [PM_TMP + 6], 0x2222
    PM_ASSERT_EQ word [PM_TMP + 8], PM_STACK3 - 4
    PM_ASSERT_EQ word [PM_TMP + 10], SEL_DATA3

    PM_PASS_ALL

; ---- handlers ----------------------------------------------------------

int_gate_handler:
    push eax
    pushfd
    pop eax
    and eax, 0x200
    mov [PM_TMP + 0], eax
    mov eax, [esp + 12]
    and eax, 0x200
    mov [PM_TMP + 4], eax
    mov eax, [esp + 8]
    mov [PM_TMP + 8], eax
    mov eax, [esp + 4]
    mov [PM_TMP + 12], eax
    lea eax, [esp + 4]
    mov [PM_TMP + 16], eax
    pop eax
    iretd

trap_gate_handler:
    push eax
    pushfd
    pop eax
    and eax, 0x200
    mov [PM_TMP + 0], eax
    pop eax
    iretd

int16_handler:
    mov ax, [esp]
    mov [PM_TMP + 0], ax
    mov ax, [esp + 2]
    mov [PM_TMP + 2], ax
    mov [PM_TMP + 4], esp
    iretw

call_same:
    mov eax, [esp]
    mov [PM_TMP + 0], eax
    mov eax, [esp + 4]
    mov [PM_TMP + 4], eax
    retf

call_inner:
    ; DS is still the ring-3 flat data segment, usable at ring 0.
    mov eax, [esp + 0]
    mov [PM_TMP + 0], eax
    mov eax, [esp + 4]
    mov [PM_TMP + 4], eax
    mov eax, [esp + 8]
    mov [PM_TMP + 8], eax
    mov eax, [esp + 12]
    mov [PM_TMP + 12], eax
    mov eax, [esp + 16]
    mov [PM_TMP + 16], eax
    mov eax, [esp + 20]
    mov [PM_TMP + 20], eax
    mov eax, [esp + 24]
    mov [PM_TMP + 24], eax
    mov [PM_TMP + 28], esp
    mov eax, ss
    mov [PM_TMP + 32], eax
    mov eax, cs
    mov [PM_TMP + 36], eax
    retf 12

call_inner16:
    mov ax, [esp + 0]
    mov [PM_TMP + 0], ax
    mov ax, [esp + 2]
    mov [PM_TMP + 2], ax
    mov ax, [esp + 4]
    mov [PM_TMP + 4], ax
    mov ax, [esp + 6]
    mov [PM_TMP + 6], ax
    mov ax, [esp + 8]
    mov [PM_TMP + 8], ax
    mov ax, [esp + 10]
    mov [PM_TMP + 10], ax
    o16 retf 4

; ---- ring-3 code ---------------------------------------------------------

ring3_call:
    push dword 0x33333333
    push dword 0x22222222
    push dword 0x11111111
    call CG_INNER:0
ring3_ret:
    mov ebx, esp
    mov ecx, cs
    PM_RING3_EXIT

ring3_call16:
    push word 0x2222
    push word 0x1111
    call CG_INNER16:0
ring3_ret16:
    mov ebx, esp
    PM_RING3_EXIT

; The jmp-through-gate target.
jmp_target:
    mov dword [PM_TMP], 0x4A4D50
    jmp jmp_back

PM_END
