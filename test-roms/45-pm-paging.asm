; 45-pm-paging: two-level paging, page faults and demand paging.
;
; Covers: turning paging on under identity-mapped code; accessed and
; dirty bits (PTE and PDE); #PF error codes (P, W/R, U/S) and CR2 for
; not-present pages, writes to read-only pages (CR0.WP off: allowed at
; CPL 0; on: fault), ring-3 accesses to supervisor pages, ring-3 writes to
; read-only user pages, and an instruction fetch from a supervisor page at
; CPL 3; translations filled by a CPL-0 access never serve a later CPL-3
; access; INVLPG and CR3 reloads; a 4 MiB page (CR4.PSE).
;
; And the demo: a ring-3 program touches unmapped memory, the ring-0 #PF
; handler maps a page at CR2 (creating the page table on the way), and the
; program's faulting instruction restarts and completes.
;
; Intel rules: SDM vol. 3 4.3 (32-bit paging), 4.6 (access rights, CR0.WP),
; 4.7 (#PF error code: P=bit 0, W/R=bit 1, U/S=bit 2; fetches report as
; reads without NX), 4.8 (accessed/dirty), 4.10.4 (INVLPG, MOV to CR3).

%include "test.inc"
%include "pm.inc"

PD          equ 0x10000
PT0         equ 0x11000             ; linear 0x000000-0x3FFFFF: identity, user
PT1         equ 0x12000             ; linear 0x400000-0x7FFFFF: test pages
PT2         equ 0x13000             ; linear 0x800000-0xBFFFFF: built by the #PF handler
DEMAND_PHYS equ 0x30000
SEL_FLAT3   equ (GDT_FREE + 0) * 8 + 3
PF_N        equ PM_TMP + 0x40
PF_ERR      equ PM_TMP + 0x44       ; two dwords
PF_CR2      equ PM_TMP + 0x4C       ; two dwords

P   equ 1
RW  equ 2
US  equ 4

ROM_START "45-pm-paging"
    PM_ENTER
    GDT_SET GDT_FREE + 0, 0, 0xFFFFF, 0xFA, 0xC     ; flat ring-3 code

    ; Page directory and tables.
    xor eax, eax
    mov edi, PD
    mov ecx, 4 * 1024
    rep stosd
    mov edi, PT0
    mov eax, P | RW | US
    mov ecx, 1024
.identity:
    stosd
    add eax, 0x1000
    loop .identity
    mov dword [PD + 0], PT0 | P | RW | US
    mov dword [PD + 4], PT1 | P | RW | US
    mov dword [PT1 + 0 * 4], 0x20000 | P | RW        ; 0x400000 supervisor rw
    ;                                                  0x401000 not present
    mov dword [PT1 + 2 * 4], 0x21000 | P             ; 0x402000 supervisor ro
    mov dword [PT1 + 3 * 4], 0x22000 | P | RW        ; 0x403000 supervisor rw
    mov dword [PT1 + 4 * 4], 0xF0000 | P             ; 0x404000 supervisor: the ROM's first page
    mov dword [PT1 + 5 * 4], 0x23000 | P | RW | US   ; 0x405000 user rw
    mov dword [PT1 + 6 * 4], 0x25000 | P | US        ; 0x406000 user ro
    mov dword [0x23000], 0xAAAA0023
    mov dword [0x24000], 0xBBBB0024

    PM_TEST "paging on"
    mov eax, PD
    mov cr3, eax
    mov eax, cr0
    or eax, 0x80000000
    mov cr0, eax
    mov eax, cr0
    test eax, 0x80000000
    PM_ASSERT_NZ
    mov dword [0x3000], 0x600D
    PM_ASSERT_EQ dword [0x3000], 0x600D

    PM_TEST "accessed and dirty bits"
    PM_ASSERT_EQ dword [PD + 4], PT1 | P | RW | US
    mov eax, [0x400000]
    PM_ASSERT_EQ dword [PT1], 0x20000 | P | RW | 0x20    ; A, not D
    PM_ASSERT_EQ dword [PD + 4], PT1 | P | RW | US | 0x20
    mov dword [0x400010], 1
    PM_ASSERT_EQ dword [PT1], 0x20000 | P | RW | 0x60    ; A and D
    PM_ASSERT_EQ dword [0x20010], 1

    PM_TEST "not-present page: #PF(0) and #PF(2), cr2"
    PM_EXPECT_EXC 14, 0, np_read, np_read_done
np_read:
    mov eax, [0x401234]
np_read_done:
    PM_ASSERT_EXC_TAKEN
    mov eax, cr2
    PM_ASSERT_EQ eax, 0x401234
    PM_EXPECT_EXC 14, 2, np_write, np_write_done
np_write:
    mov dword [0x401FFE], 0                           ; also touches 0x402000 (present)
np_write_done:
    PM_ASSERT_EXC_TAKEN
    mov eax, cr2
    PM_ASSERT_EQ eax, 0x401FFE

    PM_TEST "read-only page: cr0.wp"
    mov dword [0x402000], 0x5A5A                      ; WP=0: a supervisor write is allowed
    PM_ASSERT_EQ dword [0x21000], 0x5A5A
    mov eax, cr0
    or eax, 0x10000
    mov cr0, eax
    PM_EXPECT_EXC 14, 3, wp_write, wp_write_done
wp_write:
    mov dword [0x402004], 1
wp_write_done:
    PM_ASSERT_EXC_TAKEN
    mov eax, cr0
    and eax, ~0x10000
    mov cr0, eax

    PM_TEST "ring 3: supervisor and read-only pages"
    mov eax, [0x403000]                               ; CPL 0 fills the TLB first
    mov dword [0x402008], 7                           ; and the write view (WP=0)
    mov dword [PM_TMP + 0x20], 0
    PM_RUN_RING3 r3_protect
    PM_ASSERT_EQ dword [PM_TMP + 0x20], 3             ; three faults, all as expected
    PM_ASSERT_EQ dword [0x21008], 7                   ; ring 3 did not write

    PM_TEST "ring 3: fetch from a supervisor page"
    IDT_SET 14, pf_fetch
    mov dword [PM_TMP + 0x24], 0
    PM_RUN_RING3 r3_fetch
    PM_ASSERT_EQ dword [PM_TMP + 0x24], 5             ; error: present, user, read
    PM_ASSERT_EQ dword [PM_TMP + 0x28], 0x404000      ; CR2
    PM_ASSERT_EQ dword [PM_TMP + 0x2C], 0x404000      ; faulting EIP
    PM_ASSERT_EQ dword [PM_TMP + 0x30], SEL_FLAT3     ; faulting CS
    PM_ASSERT_EQ ebx, 0xFE7C                          ; resumed in ring 3
    IDT_RESTORE 14

    PM_TEST "invlpg and cr3 reload"
    PM_ASSERT_EQ dword [0x405000], 0xAAAA0023
    mov dword [PT1 + 5 * 4], 0x24000 | P | RW | US
    invlpg [0x405000]
    PM_ASSERT_EQ dword [0x405000], 0xBBBB0024
    mov dword [PT1 + 5 * 4], 0x23000 | P | RW | US
    mov eax, cr3
    mov cr3, eax
    PM_ASSERT_EQ dword [0x405000], 0xAAAA0023

    PM_TEST "4 MiB page"
    mov eax, cr4
    or eax, 0x10                                      ; PSE
    mov cr4, eax
    mov dword [PD + 3 * 4], 0x000000 | 0x80 | P | RW  ; 0xC00000 -> 0 (4 MiB)
    mov dword [0x3010], 0x4444
    PM_ASSERT_EQ dword [0xC03010], 0x4444
    mov dword [0xC03014], 0x5555
    PM_ASSERT_EQ dword [0x3014], 0x5555
    PM_ASSERT_EQ dword [PD + 3 * 4], 0x80 | 0x60 | P | RW   ; A and D in the PDE

    PM_TEST "demand paging from ring 3"
    IDT_SET 14, pf_demand
    mov dword [PF_N], 0
    PM_RUN_RING3 r3_demand
    PM_ASSERT_EQ ebx, 0xDEADBEEF                      ; read back in ring 3
    PM_ASSERT_EQ ecx, 0                               ; a fresh page reads as zero
    PM_ASSERT_EQ edx, 0xD0D0                          ; the program ran to its end
    PM_ASSERT_EQ dword [PF_N], 2
    PM_ASSERT_EQ dword [PF_ERR + 0], US | RW          ; user write, not present
    PM_ASSERT_EQ dword [PF_CR2 + 0], 0x800010
    PM_ASSERT_EQ dword [PF_ERR + 4], US               ; user read, not present
    PM_ASSERT_EQ dword [PF_CR2 + 4], 0x801020
    PM_ASSERT_EQ dword [DEMAND_PHYS + 0x10], 0xDEADBEEF
    IDT_RESTORE 14

    ; Paging off again for the library's sake (it is identity mapped anyway).
    mov eax, cr0
    and eax, 0x7FFFFFFF
    mov cr0, eax
    PM_PASS_ALL

; ---- ring-0 handlers ------------------------------------------------------

; The demand pager: map the page at CR2 to DEMAND_PHYS + (page index * 4K),
; creating the page table PT2 if its PDE is missing.
pf_demand:
    push eax
    push ebx
    push ds
    mov ax, SEL_DATA0
    mov ds, ax
    mov ebx, [PF_N]
    mov eax, [esp + 12]
    mov [PF_ERR + ebx * 4], eax
    mov eax, cr2
    mov [PF_CR2 + ebx * 4], eax
    inc dword [PF_N]
    shr eax, 22
    test dword [PD + eax * 4], P
    jnz .pde_ok
    mov dword [PD + eax * 4], PT2 | P | RW | US
.pde_ok:
    mov eax, cr2
    shr eax, 12
    and eax, 0x3FF
    mov ebx, eax
    shl ebx, 12
    add ebx, DEMAND_PHYS | P | RW | US
    mov [PT2 + eax * 4], ebx
    pop ds
    pop ebx
    pop eax
    add esp, 4
    iretd

; Record a fetch fault and resume in ring 3 at r3_fetch_resume.
pf_fetch:
    push eax
    push ds
    mov ax, SEL_DATA0
    mov ds, ax
    mov eax, [esp + 8]
    mov [PM_TMP + 0x24], eax
    mov eax, cr2
    mov [PM_TMP + 0x28], eax
    mov eax, [esp + 12]
    mov [PM_TMP + 0x2C], eax
    mov eax, [esp + 16]
    mov [PM_TMP + 0x30], eax
    mov dword [esp + 12], r3_fetch_resume - $$
    mov dword [esp + 16], SEL_CODE3
    pop ds
    pop eax
    add esp, 4
    iretd

; ---- ring-3 code ----------------------------------------------------------

; Each access faults as announced; the stub resumes at the next label.
%macro R3_FAULT 3
    PM_EXPECT_EXC 14, %1, %%at, %%next
%%at:
    %2 %3
%%next:
    mov eax, [PM_EXC_COUNT]
    add [PM_TMP + 0x20], eax
%endmacro

r3_protect:
    R3_FAULT P | US, mov, {eax, [0x403000]}               ; supervisor page
    R3_FAULT P | US | RW, mov, {dword [0x402008], 1}      ; supervisor ro page
    R3_FAULT P | US | RW, mov, {dword [0x406000], 1}      ; user ro page
    PM_RING3_EXIT

r3_fetch:
    jmp SEL_FLAT3:0x404000
r3_fetch_resume:
    mov ebx, 0xFE7C
    PM_RING3_EXIT

r3_demand:
    mov dword [0x800010], 0xDEADBEEF      ; #PF: no page table yet
    mov ebx, [0x800010]
    mov ecx, [0x801020]                   ; #PF: page table present, page not
    mov edx, 0xD0D0
    PM_RING3_EXIT

PM_END
