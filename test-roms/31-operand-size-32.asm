; 31-operand-size-32: 32-bit operations in real mode through the 0x66
; (operand size) and 0x67 (address size) prefixes: full 32-bit arithmetic,
; partial-register writes keeping the other bits, every 32-bit addressing
; form (base, base+disp8/disp32, SIB with scale 1/2/4/8, no-base SIB,
; ESP/EBP bases) with 32-bit wraparound of the effective address, and the
; 16-bit wraparound of the same sums without 0x67.
%include "test.inc"

ARR equ SCRATCH + 0x100             ; dword array: ARR[i] = 0x1000 * i + i

ROM_START "31-operand-size-32"
    xor ecx, ecx
.fill:
    mov eax, ecx
    shl eax, 12
    add eax, ecx
    mov [ARR + ecx * 4], eax
    inc ecx
    cmp ecx, 64
    jb .fill

    TEST "32-bit arithmetic"
    mov eax, 0x89ABCDEF
    add eax, 0x76543211
    ASSERT_C
    ASSERT_Z
    mov ebx, 0x10000
    imul ebx, ebx                   ; 2^32 truncates to 0
    ASSERT_EQ ebx, 0
    mov ecx, 0xFFFF
    inc ecx                         ; carries into bit 16
    ASSERT_EQ ecx, 0x10000
    mov edx, 1
    shl edx, 31
    ASSERT_EQ edx, 0x80000000
    sar edx, 31
    ASSERT_EQ edx, 0xFFFFFFFF
    mov esi, 1000000
    mov eax, 3000000000
    xor edx, edx
    div esi
    ASSERT_EQ eax, 3000

    TEST "partial register writes"
    mov eax, 0x11223344
    mov al, 0xAA
    ASSERT_EQ eax, 0x112233AA
    mov ah, 0xBB
    ASSERT_EQ eax, 0x1122BBAA
    mov ax, 0xCCDD
    ASSERT_EQ eax, 0x1122CCDD
    add ax, 0x4000                  ; carry out of 16 bits is not kept
    ASSERT_C
    ASSERT_EQ eax, 0x11220CDD
    xor al, al
    ASSERT_EQ eax, 0x11220C00

    TEST "base and displacement"
    mov ebx, ARR
    mov eax, [ebx]
    ASSERT_EQ eax, 0
    mov eax, [ebx + 8]              ; disp8
    ASSERT_EQ eax, 0x2002
    mov eax, [ebx + 0x80]           ; disp32 in 0x67 form
    ASSERT_EQ eax, 0x20020
    mov esi, ARR + 12
    mov eax, [esi - 4]
    ASSERT_EQ eax, 0x2002
    mov eax, [dword ARR + 4]        ; absolute disp32
    ASSERT_EQ eax, 0x1001

    TEST "SIB scales"
    mov ebx, ARR
    mov ecx, 3
    mov eax, [ebx + ecx * 4 + 8]    ; ARR[5]
    ASSERT_EQ eax, 0x5005
    mov eax, [ebx + ecx * 8]        ; ARR[6]
    ASSERT_EQ eax, 0x6006
    mov eax, [ebx + ecx * 2 + 2]    ; byte offset 8 = ARR[2]
    ASSERT_EQ eax, 0x2002
    mov eax, [ebx + ecx + 1]        ; byte offset 4 = ARR[1]
    ASSERT_EQ eax, 0x1001
    mov edi, 10
    mov eax, [ARR + edi * 4]        ; no base, disp32
    ASSERT_EQ eax, 0xA00A
    mov edx, ARR / 2
    mov eax, [nosplit edx * 2 + 4]
    ASSERT_EQ eax, 0x1001

    TEST "ESP and EBP bases"
    push dword 0xCAFEF00D
    mov eax, [esp]
    ASSERT_EQ eax, 0xCAFEF00D
    mov eax, 0
    mov ecx, 1
    mov ax, [esp + ecx * 2]         ; high word
    ASSERT_EQ ax, 0xCAFE
    pop eax
    mov ebp, ARR                    ; SS = DS = 0 here
    mov eax, [ebp + 4]
    ASSERT_EQ eax, 0x1001
    mov ecx, 7
    mov eax, [ebp + ecx * 4]
    ASSERT_EQ eax, 0x7007

    TEST "32-bit effective addresses wrap at 4 GiB"
    mov ebx, 0xFFFFFFF0
    mov ecx, ARR + 0x10 + 4         ; EBX + ECX = ARR + 4
    mov eax, [ebx + ecx]
    ASSERT_EQ eax, 0x1001
    mov esi, ARR + 0x20
    mov eax, [esi - 0x20]           ; disp8 -0x20
    ASSERT_EQ eax, 0
    mov edx, 0x40000000 + (ARR + 8) / 4
    mov eax, [edx * 4]              ; 0x1_0000_0000 + ARR + 8 wraps
    ASSERT_EQ eax, 0x2002

    TEST "16-bit effective addresses wrap at 64 KiB"
    mov bx, 0xFFF0
    mov si, ARR + 0x10 + 8          ; BX + SI = ARR + 8 (mod 64K)
    mov eax, [bx + si]
    ASSERT_EQ eax, 0x2002
    mov di, ARR + 12
    mov eax, [di + 0xFFF8]          ; disp16 acts as -8
    ASSERT_EQ eax, 0x1001

    TEST "32-bit stores and read-modify-write"
    mov ebx, ARR
    mov ecx, 2
    mov dword [ebx + ecx * 4], 0x12345678
    add dword [ebx + ecx * 4], 0x11111111
    ASSERT_EQ dword [ARR + 8], 0x23456789
    inc word [ebx + ecx * 4 + 2]
    ASSERT_EQ dword [ARR + 8], 0x23466789
    not byte [ebx + 8]
    ASSERT_EQ dword [ARR + 8], 0x23466776

    TEST "movzx/movsx with 32-bit addresses"
    mov ebx, ARR
    mov byte [ebx + 3], 0x80
    movsx eax, byte [ebx + 3]
    ASSERT_EQ eax, 0xFFFFFF80
    movzx eax, byte [ebx + 3]
    ASSERT_EQ eax, 0x80
    mov word [ebx + 2], 0x8001
    movsx eax, word [ebx + 2]
    ASSERT_EQ eax, 0xFFFF8001

    TEST "lea combinations"
    mov ebx, 0x12345678
    mov ecx, 0x10
    lea eax, [ebx + ecx * 8 - 0x78]
    ASSERT_EQ eax, 0x12345680
    lea ax, [ebx + ecx]             ; 0x67 address, 16-bit result
    ASSERT_EQ eax, 0x12345688
    lea eax, [bx + 0x10]            ; 16-bit address, zero-extended
    ASSERT_EQ eax, 0x00005688

    PASS_ALL

ROM_END
