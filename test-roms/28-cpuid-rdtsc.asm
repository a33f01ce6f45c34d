; 28-cpuid-rdtsc: CPUID presence (EFLAGS.ID can be toggled), leaf 0 (max
; leaf >= 1, a 12-character printable vendor string in EBX EDX ECX), leaf 1
; (EDX reports TSC (bit 4) and CX8 (bit 8)), and RDTSC counting up between
; two reads (64-bit compare).
%include "test.inc"

VENDOR equ SCRATCH                  ; 12 chars + NUL
TSC1   equ SCRATCH + 0x10
TSC2   equ SCRATCH + 0x18
EFLAGS_ID equ 1 << 21

ROM_START "28-cpuid-rdtsc"

    TEST "EFLAGS.ID toggles"
    pushfd
    pop eax
    mov ecx, eax
    xor eax, EFLAGS_ID
    push eax
    popfd
    pushfd
    pop eax
    push ecx
    popfd                           ; restore
    xor eax, ecx
    ASSERT_EQ eax, EFLAGS_ID

    TEST "leaf 0"
    xor eax, eax
    cpuid
    ASSERT_NEQ eax, 0               ; max basic leaf >= 1
    mov [VENDOR], ebx
    mov [VENDOR + 4], edx
    mov [VENDOR + 8], ecx
    mov byte [VENDOR + 12], 0
    mov si, VENDOR
    mov cx, 12
.chk:
    mov al, [si]
    cmp al, 0x20
    ASSERT_AE
    cmp al, 0x7E
    ASSERT_BE
    inc si
    loop .chk
    PUTS_LIT "vendor: "
    mov si, VENDOR                  ; the string is in RAM: print it by hand
    mov cx, 12
.print:
    mov al, [si]
    call __putc
    inc si
    loop .print
    PUTNL

    TEST "leaf 1 features"
    mov eax, 1
    cpuid
    PUTS_LIT "leaf 1: eax="
    PUTHEX32 eax
    PUTS_LIT " edx="
    PUTHEX32 edx
    PUTNL
    bt edx, 4                       ; TSC
    ASSERT_C
    bt edx, 8                       ; CX8 (cmpxchg8b)
    ASSERT_C

    TEST "cpuid writes all four registers"
    mov eax, 0
    mov ebx, 0xAAAAAAAA
    mov ecx, 0xAAAAAAAA
    mov edx, 0xAAAAAAAA
    cpuid
    ASSERT_NEQ ebx, 0xAAAAAAAA
    ASSERT_NEQ edx, 0xAAAAAAAA
    ASSERT_NEQ ecx, 0xAAAAAAAA

    TEST "rdtsc increases"
    rdtsc
    mov [TSC1], eax
    mov [TSC1 + 4], edx
    mov cx, 1000
.spin:
    loop .spin
    rdtsc
    mov [TSC2], eax
    mov [TSC2 + 4], edx
    ; TSC2 - TSC1 > 0 as 64-bit unsigned
    sub eax, [TSC1]
    sbb edx, [TSC1 + 4]
    ASSERT_NC                       ; not smaller
    or eax, edx
    ASSERT_NZ                       ; not equal
    PUTS_LIT "tsc delta: "
    mov eax, [TSC2]
    sub eax, [TSC1]
    call __puthex32
    PUTNL

    PASS_ALL

ROM_END
