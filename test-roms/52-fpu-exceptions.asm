; 52-fpu-exceptions: device-not-available (#NM) and pending x87 exceptions.
; Covers (Intel SDM Vol. 3, 2.5 "CR0" and Table 2-2; Vol. 1, 8.7):
; - CR0.TS or CR0.EM: every x87 instruction, waiting or not, raises #NM
;   (vector 7, a fault: the pushed IP is the instruction);
; - WAIT/FWAIT raises #NM only when CR0.MP and CR0.TS are both set, and
;   ignores CR0.EM;
; - an unmasked exception sets ES and B and is *pending*: the next FWAIT
;   (or the WAIT of an F* form such as FSTSW AX) raises #MF (vector 16)
;   when CR0.NE=1; non-waiting FN* instructions run without reporting it;
; - with CR0.NE=0 FWAIT signals FERR# (IRQ 13 on a PC, masked here by
;   IF=0) instead and execution simply continues;
; - FNCLEX and FNINIT clear the pending state.
; #MF at the next non-FWAIT x87 instruction: see 54-fpu-hw-only (QEMU TCG
; only checks at FWAIT).
%include "test.inc"

D   equ SCRATCH

CR0_MP equ 1 << 1
CR0_EM equ 1 << 2
CR0_TS equ 1 << 3
CR0_NE equ 1 << 5

SW_ZE equ 0x0004
SW_ES equ 0x0080
SW_B  equ 0x8000

; CR0_SET bits / CR0_CLEAR bits (clobber EAX)
%macro CR0_SET 1
    mov eax, cr0
    or eax, %1
    mov cr0, eax
%endmacro
%macro CR0_CLEAR 1
    mov eax, cr0
    and eax, ~(%1)
    mov cr0, eax
%endmacro

; EXPECT_FAULT vector, insn...: the instruction must fault with `vector`
; exactly once (pushed IP = the instruction); execution resumes after it.
%macro EXPECT_FAULT 2+
    EXPECT_EXC %1, %%insn, %%after
%%insn:
    %2
    FAIL_HERE
%%after:
    ASSERT_EXC_TAKEN
%endmacro

; MAKE_PENDING: FNINIT, unmask ZE, divide 1 by 0: a pending #Z.
%macro MAKE_PENDING 0
    fninit
    mov word [D], 0x037B
    fldcw [D]
    fld1
    fldz
    fdivp st1, st0
%endmacro

ROM_START "52-fpu-exceptions"

    TEST "CR0.TS: #NM on x87 instructions"
    fninit
    CR0_SET CR0_TS
    EXPECT_FAULT 7, fld1
    EXPECT_FAULT 7, fninit
    EXPECT_FAULT 7, fnstsw ax
    fwait                           ; MP=0: WAIT is not affected by TS
    clts
    fld1                            ; runs again
    fstp st0

    TEST "CR0.EM: #NM on x87 instructions, not on WAIT"
    CR0_SET CR0_EM
    EXPECT_FAULT 7, fldz
    EXPECT_FAULT 7, fnclex
    fwait
    CR0_CLEAR CR0_EM

    TEST "CR0.MP+TS: #NM on WAIT"
    CR0_SET CR0_MP | CR0_TS
    EXPECT_FAULT 7, fwait
    clts
    fwait
    CR0_CLEAR CR0_MP

    TEST "an unmasked exception is pending"
    CR0_SET CR0_NE
    MAKE_PENDING
    fnstsw ax
    and ax, SW_ZE | SW_ES | SW_B
    ASSERT_EQ ax, SW_ZE | SW_ES | SW_B

    TEST "CR0.NE=1: #MF at FWAIT"
    EXPECT_FAULT 16, fwait
    EXPECT_FAULT 16, fwait          ; still pending: the handler cleared nothing
    fnclex
    fwait

    TEST "FSTSW AX (WAIT + FNSTSW) faults before storing"
    MAKE_PENDING
    mov ax, 0x1234
    EXPECT_FAULT 16, fstsw ax
    ASSERT_EQ ax, 0x1234
    EXPECT_FAULT 16, fclex
    EXPECT_FAULT 16, finit

    TEST "non-waiting instructions ignore a pending exception"
    fnstsw ax
    fnstcw [D]
    ASSERT_EQ word [D], 0x037B
    fnclex
    fnstsw ax
    and ax, SW_ZE | SW_ES | SW_B
    ASSERT_EQ ax, 0
    fwait

    TEST "FNINIT clears a pending exception"
    MAKE_PENDING
    fninit
    fwait
    fnstsw ax
    ASSERT_EQ ax, 0

    TEST "CR0.NE=0: FWAIT signals FERR# and continues"
    CR0_CLEAR CR0_NE
    MAKE_PENDING
    fwait                           ; IRQ 13 on a PC; IF=0 here
    fnstsw ax
    and ax, SW_ES
    ASSERT_EQ ax, SW_ES
    fninit

    PASS_ALL
ROM_END
