; 49-pm-segment-limits: limit and rights checks on data accesses in
; protected mode.
;
; Covers: #GP(0) for accesses past the limit of an expand-up segment, of
; expand-down segments with B=0 (top 0xFFFF) and B=1 (top 0xFFFFFFFF),
; writes to read-only data and to code (through CS), and accesses through
; a null selector (loadable into ES, unusable); #SS(0) for a push past
; the stack limit (at ring 3, so the handler gets a fresh stack; ESP is as
; before the PUSH).
;
; Intel rules: SDM vol. 3 5.3 (limit checking; expand-down: valid offsets
; are limit+1 to 0xFFFF or 0xFFFFFFFF by the B flag), 5.4 (type checking:
; no writes to code or read-only data), 5.4.1 (null selectors).
;
; qemu: expect-fail TCG does not check segment limits or rights on data accesses

%include "test.inc"
%include "pm.inc"

SEL_SMALL   equ (GDT_FREE + 0) * 8      ; data at 0x3000, limit 0xFFF
SEL_EXPD16  equ (GDT_FREE + 1) * 8      ; expand-down, B=0, limit 0xFFF
SEL_RODATA  equ (GDT_FREE + 2) * 8      ; read-only data
SEL_EXPD32  equ (GDT_FREE + 3) * 8      ; expand-down, B=1, limit 0xFFF
SEL_SMALL3  equ (GDT_FREE + 4) * 8 + 3  ; ring-3 stack at 0x8000, limit 0xFFF

; EXC_AT vector, error, insn...: the instruction must raise the exception.
%macro EXC_AT 3-4
    PM_EXPECT_EXC %1, %2, %%at, %%next
%%at:
    %3 %4
%%next:
    PM_ASSERT_EXC_TAKEN
%endmacro

ROM_START "49-pm-segment-limits"
    PM_ENTER
    GDT_SET GDT_FREE + 0, 0x3000, 0xFFF, 0x93, 0x4
    GDT_SET GDT_FREE + 1, 0x3000, 0xFFF, 0x97, 0x0
    GDT_SET GDT_FREE + 2, 0x3000, 0xFFF, 0x91, 0x4
    GDT_SET GDT_FREE + 3, 0, 0xFFF, 0x97, 0x4
    GDT_SET GDT_FREE + 4, 0x8000, 0xFFF, 0xF3, 0x4

    PM_TEST "limits of an expand-up segment"
    mov ax, SEL_SMALL
    mov es, ax
    mov al, [es:0xFFF]
    EXC_AT 13, 0, mov, {eax, [es:0xFFD]}
    EXC_AT 13, 0, mov, {byte [es:0x1000], 0}

    PM_TEST "expand-down segments"
    mov ax, SEL_EXPD16
    mov es, ax
    mov eax, [es:0x1000]
    mov ax, [es:0xFFFE]
    EXC_AT 13, 0, mov, {al, [es:0x0FFF]}
    EXC_AT 13, 0, mov, {ax, [es:0xFFFF]}            ; past the 64 KiB top (B=0)
    mov ax, SEL_EXPD32
    mov es, ax
    mov eax, [es:0x10000]                           ; fine with B=1
    mov eax, [es:0x3010]
    EXC_AT 13, 0, mov, {eax, [es:0x0FFE]}

    PM_TEST "rights: read-only data, code, null"
    mov ax, SEL_RODATA
    mov es, ax
    mov eax, [es:0]
    EXC_AT 13, 0, mov, {dword [es:0], 1}
    EXC_AT 13, 0, mov, {dword [cs:0x100], 1}        ; code is never writable
    xor ax, ax
    mov es, ax                                      ; null is loadable ...
    EXC_AT 13, 0, mov, {eax, [es:0]}                ; ... and unusable
    mov ax, SEL_DATA0
    mov es, ax

    PM_TEST "stack limit at ring 3: #SS(0)"
    mov dword [PM_TMP + 0x20], 0
    PM_RUN_RING3 r3_stack
    PM_ASSERT_EQ dword [PM_TMP + 0x20], 1
    PM_ASSERT_EQ dword [PM_LAST_SS], SEL_SMALL3
    PM_ASSERT_EQ dword [PM_LAST_ESP], 2             ; ESP as before the PUSH

    PM_PASS_ALL

r3_stack:
    PM_EXPECT_EXC 12, 0, r3_stack_at, r3_stack_done
    mov ax, SEL_SMALL3
    mov ss, ax
    mov esp, 2
r3_stack_at:
    push eax
r3_stack_done:
    mov ax, SEL_DATA3
    mov ss, ax
    mov esp, PM_STACK3
    mov eax, [PM_EXC_COUNT]
    mov [PM_TMP + 0x20], eax
    PM_RING3_EXIT

PM_END
