; 47-pm-sysenter: CPUID's model facts, the SYSENTER MSRs, and
; SYSENTER/SYSEXIT between ring 3 and ring 0.
;
; Covers: CPUID vendor GenuineIntel, family 6, and the feature bits the
; CPU model promises (FPU, PSE, TSC, MSR, CX8, SEP, PGE, CMOV); RDMSR/WRMSR
; of IA32_SYSENTER_CS/ESP/EIP (0x174-0x176), RDMSR of the TSC (0x10); SYSENTER from ring 3 (CS = MSR value,
; SS = CS + 8, flat segments, ESP/EIP from the MSRs, IF cleared) and
; SYSEXIT back (CS = CS + 16 | 3, SS = CS + 24 | 3, EIP = EDX, ESP = ECX);
; SYSENTER with a null SYSENTER_CS and SYSEXIT at CPL 3 (#GP(0));
; WBINVD/INVD at CPL 0 (no-ops); UD2 (#UD).
;
; SYSENTER and SYSEXIT load flat (base 0) segment caches, so their targets
; are linear addresses (ROM_BASE + label) and the code there far-jumps to
; the ROM-based selectors before using the library.
;
; Intel rules: SDM vol. 2 SYSENTER/SYSEXIT, CPUID, RDMSR/WRMSR; vol. 4
; (MSR addresses).

%include "test.inc"
%include "pm.inc"

MSR_SYSENTER_CS  equ 0x174
MSR_SYSENTER_ESP equ 0x175
MSR_SYSENTER_EIP equ 0x176
SYSENTER_STACK   equ 0x5800

%macro WRMSR_IMM 2
    mov ecx, %1
    mov eax, %2
    xor edx, edx
    wrmsr
%endmacro

ROM_START "47-pm-sysenter"
    PM_ENTER

    PM_TEST "cpuid vendor, family, features"
    xor eax, eax
    cpuid
    PM_ASSERT_EQ ebx, 'Genu'
    PM_ASSERT_EQ edx, 'ineI'
    PM_ASSERT_EQ ecx, 'ntel'
    mov eax, 1
    cpuid
    mov ebx, eax
    shr ebx, 8
    and ebx, 0xF
    PM_ASSERT_EQ ebx, 6
    and edx, 0xA939                     ; FPU PSE TSC MSR CX8 SEP PGE CMOV
    PM_ASSERT_EQ edx, 0xA939

    PM_TEST "sysenter msrs"
    WRMSR_IMM MSR_SYSENTER_CS, SEL_CODE0
    WRMSR_IMM MSR_SYSENTER_ESP, SYSENTER_STACK
    WRMSR_IMM MSR_SYSENTER_EIP, ROM_BASE + sysenter_entry - $$
    mov ecx, MSR_SYSENTER_CS
    rdmsr
    PM_ASSERT_EQ eax, SEL_CODE0
    PM_ASSERT_EQ edx, 0
    mov ecx, MSR_SYSENTER_ESP
    rdmsr
    PM_ASSERT_EQ eax, SYSENTER_STACK
    mov ecx, MSR_SYSENTER_EIP
    rdmsr
    PM_ASSERT_EQ eax, ROM_BASE + sysenter_entry - $$

    PM_TEST "tsc msr reads the time-stamp counter"
    ; (Writing it is checked by a unit test: QEMU TCG ignores TSC writes.)
    mov ecx, 0x10
    rdmsr
    mov esi, eax
    mov edi, edx
    rdtsc
    sub eax, esi
    sbb edx, edi                        ; RDTSC - RDMSR: not negative, below 2^32
    PM_ASSERT_EQ edx, 0

    PM_TEST "sysenter and sysexit"
    sti                                 ; ring 3 runs with IF=1 (PICs masked)
    PM_RUN_RING3 r3_sysenter
    PM_ASSERT_EQ ebx, 0x5E5E
    PM_ASSERT_EQ dword [PM_TMP + 0], SEL_CODE0          ; CS in the SYSENTER handler
    PM_ASSERT_EQ dword [PM_TMP + 4], SEL_DATA0          ; SS
    PM_ASSERT_EQ dword [PM_TMP + 8], SYSENTER_STACK     ; ESP
    PM_ASSERT_EQ dword [PM_TMP + 12], 0                 ; IF cleared
    PM_ASSERT_EQ dword [PM_TMP + 16], SEL_CODE3         ; CS after SYSEXIT
    PM_ASSERT_EQ dword [PM_TMP + 20], SEL_DATA3         ; SS after SYSEXIT
    PM_ASSERT_EQ dword [PM_TMP + 24], PM_STACK3 - 0x40  ; ESP = ECX

    PM_TEST "sysexit at ring 3, sysenter with null cs"
    mov dword [PM_TMP + 0x20], 0
    PM_RUN_RING3 r3_sysexit_bad
    PM_ASSERT_EQ dword [PM_TMP + 0x20], 1
    WRMSR_IMM MSR_SYSENTER_CS, 0
    PM_RUN_RING3 r3_sysenter_null
    PM_ASSERT_EQ dword [PM_TMP + 0x20], 2

    PM_TEST "wbinvd invd ud2"
    wbinvd
    invd
    PM_EXPECT_EXC 6, PM_NOERR, ud_at, ud_done
ud_at:
    ud2
ud_done:
    PM_ASSERT_EXC_TAKEN

    PM_PASS_ALL

; ---- SYSENTER target (CS base 0: no library calls, absolute data only) ----

sysenter_entry:
    mov eax, cs
    mov [PM_TMP + 0], eax
    mov eax, ss
    mov [PM_TMP + 4], eax
    mov [PM_TMP + 8], esp
    pushfd
    pop eax
    and eax, 0x200
    mov [PM_TMP + 12], eax
    mov edx, ROM_BASE + r3_after_sysexit - $$
    mov ecx, PM_STACK3 - 0x40
    sysexit

; ---- ring-3 code ------------------------------------------------------------

r3_sysenter:
    sysenter                            ; IF is on here: SYSENTER clears it
r3_after_sysexit:                       ; CS base 0 here: reload the ROM-based CS
    jmp SEL_CODE3:r3_back
r3_back:
    mov eax, cs
    mov [PM_TMP + 16], eax
    mov eax, ss
    mov [PM_TMP + 20], eax
    mov [PM_TMP + 24], esp
    mov ebx, 0x5E5E
    PM_RING3_EXIT

r3_sysexit_bad:
    PM_EXPECT_EXC 13, 0, r3_sysexit_at, r3_sysexit_done
r3_sysexit_at:
    sysexit
r3_sysexit_done:
    mov eax, [PM_EXC_COUNT]
    add [PM_TMP + 0x20], eax
    PM_RING3_EXIT

r3_sysenter_null:
    PM_EXPECT_EXC 13, 0, r3_sysenter_at, r3_sysenter_done
r3_sysenter_at:
    sysenter
r3_sysenter_done:
    mov eax, [PM_EXC_COUNT]
    add [PM_TMP + 0x20], eax
    PM_RING3_EXIT

PM_END
