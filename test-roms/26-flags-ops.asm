; 26-flags-ops: pushf/popf (16 and 32-bit), lahf/sahf and the single-flag
; instructions clc/stc/cmc/cld/std/cli/sti. FLAGS bit 1 always reads 1, bits
; 3, 5 and 15 always read 0; in real mode (CPL 0) POPF can write IOPL and NT.
; POPFD clears RF and leaves VM alone. The PIC is masked so IF=1 is safe.
%include "test.inc"

; PUSHF_AX: AX = FLAGS
%macro PUSHF_AX 0
    pushf
    pop ax
%endmacro

ROM_START "26-flags-ops"
    mov al, 0xFF                    ; mask every PIC input (OCW1)
    out 0x21, al
    out 0xA1, al

    TEST "reserved bits"
    push word 0
    popf
    PUSHF_AX
    ASSERT_EQ ax, 0x0002            ; bit 1 reads as 1
    push word 0xFCFF                ; everything except TF and IF
    popf
    PUSHF_AX
    ASSERT_EQ ax, 0x7CD7            ; bits 3, 5, 15 read as 0; IOPL=3, NT=1
    push word 0x8000                ; bit 15 cannot be set
    popf
    PUSHF_AX
    ASSERT_EQ ax, 0x0002

    TEST "pushfd/popfd"
    push dword 0x00030CD5           ; RF and VM set, plus OF DF SF ZF AF PF CF
    popfd
    pushfd
    pop eax
    ASSERT_EQ eax, 0x00000CD7       ; RF cleared, VM unchanged (0)
    push dword 0
    popfd
    pushfd
    pop eax
    ASSERT_EQ eax, 0x00000002

    TEST "popf 16 keeps EFLAGS high half"
    push dword 0x00040000           ; AC (bit 18, writable on 486+)
    popfd
    push word 0x0001
    popf
    pushfd
    pop ebx
    ASSERT_EQ ebx, 0x00040003
    push dword 0
    popfd

    TEST "lahf"
    SETF F_CF | F_PF | F_AF | F_ZF | F_SF | F_OF
    lahf
    ASSERT_EQ ah, 0xD7
    SETF 0
    lahf
    ASSERT_EQ ah, 0x02
    SETF F_ZF | F_CF
    mov ah, 0xFF
    lahf
    ASSERT_EQ ah, 0x43

    TEST "sahf"
    SETF F_OF
    mov ah, 0xFF
    sahf
    PUSHF_AX
    ASSERT_EQ ax, 0x08D7            ; bits 3 and 5 ignored, OF untouched
    SETF F_ARITH
    mov ah, 0x00
    sahf
    PUSHF_AX
    ASSERT_EQ ax, 0x0802            ; OF untouched
    mov ah, F_SF | F_PF
    sahf
    ASSERT_FLAGS F_ARITH, F_SF | F_PF

    TEST "clc stc cmc"
    SETF F_ARITH
    clc
    ASSERT_FLAGS F_ARITH, F_ARITH & ~F_CF
    stc
    ASSERT_FLAGS F_ARITH, F_ARITH
    SETF 0
    stc
    ASSERT_FLAGS F_ARITH, F_CF
    cmc
    ASSERT_FLAGS F_ARITH, 0
    cmc
    ASSERT_FLAGS F_ARITH, F_CF
    clc
    ASSERT_FLAGS F_ARITH, 0

    TEST "cld std"
    SETF 0
    std
    ASSERT_FLAGS 0xFFFF, F_DF | 2
    cld
    ASSERT_FLAGS 0xFFFF, 2
    SETF F_ARITH
    std
    ASSERT_FLAGS 0xFFFF, F_ARITH | F_DF | 2
    cld

    TEST "cli sti"
    SETF 0
    sti
    PUSHF_AX
    cli
    ASSERT_EQ ax, F_IF | 2
    SETF F_IF | F_CF
    cli
    PUSHF_AX
    ASSERT_EQ ax, F_CF | 2
    SETF F_ARITH
    sti
    cli
    ASSERT_FLAGS 0xFFFF, F_ARITH | 2

    TEST "pushf/popf through memory"
    SETF F_CF | F_ZF
    pushf
    pop word [SCRATCH]
    ASSERT_EQ word [SCRATCH], F_CF | F_ZF | 2
    mov word [SCRATCH], F_SF | F_OF
    push word [SCRATCH]
    popf
    ASSERT_FLAGS F_ARITH, F_SF | F_OF

    PASS_ALL

ROM_END
