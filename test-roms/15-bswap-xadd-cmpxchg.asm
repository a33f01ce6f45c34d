; 15-bswap-xadd-cmpxchg: the 486/Pentium exchange instructions. bswap r32 on
; every register; xadd (r/m8/16/32, flags as ADD); cmpxchg (r/m8/16/32,
; flags as CMP accumulator - destination, success writes the source,
; failure loads the accumulator); cmpxchg8b m64 (only ZF changes).
%include "test.inc"

DATA equ SCRATCH

; BSWAP_REG reg
%macro BSWAP_REG 1
    mov %1, 0x12345678
    bswap %1
    ASSERT_EQ %1, 0x78563412
%endmacro

ROM_START "15-bswap-xadd-cmpxchg"

    TEST "bswap"
    BSWAP_REG eax
    BSWAP_REG ebx
    BSWAP_REG ecx
    BSWAP_REG edx
    BSWAP_REG esi
    BSWAP_REG edi
    BSWAP_REG ebp
    mov esp, 0x00708000             ; bswap esp: 0x00807000
    bswap esp
    mov eax, esp
    mov esp, STACK_TOP
    ASSERT_EQ eax, 0x00807000
    mov eax, 0xFF000080
    SETF F_ARITH
    bswap eax
    ASSERT_FLAGS F_ARITH, F_ARITH   ; no flags changed
    ASSERT_EQ eax, 0x800000FF

    TEST "xadd reg, reg"
    mov ax, 1
    mov bx, 2
    xadd ax, bx
    ASSERT_EQ ax, 3
    ASSERT_EQ bx, 1
    mov cl, 0xFF
    mov dl, 0x01
    SETF 0
    xadd cl, dl
    ASSERT_FLAGS F_ARITH, F_CF | F_ZF | F_AF | F_PF
    ASSERT_EQ cl, 0
    ASSERT_EQ dl, 0xFF
    mov esi, 0x7FFFFFFF
    mov edi, 1
    SETF F_CF | F_ZF
    xadd esi, edi
    ASSERT_FLAGS F_ARITH, F_OF | F_SF | F_AF | F_PF
    ASSERT_EQ esi, 0x80000000
    ASSERT_EQ edi, 0x7FFFFFFF

    TEST "xadd mem, reg"
    mov word [DATA], 0x1000
    mov ax, 0x0234
    xadd [DATA], ax
    ASSERT_EQ ax, 0x1000
    ASSERT_EQ word [DATA], 0x1234
    mov dword [DATA], 10
    mov ecx, -3
    xadd [DATA], ecx
    ASSERT_C
    ASSERT_EQ ecx, 10
    ASSERT_EQ dword [DATA], 7
    mov byte [DATA], 0x80
    mov bl, 0x80
    xadd [DATA], bl
    ASSERT_O
    ASSERT_EQ bl, 0x80
    ASSERT_EQ byte [DATA], 0

    TEST "cmpxchg reg success"
    mov ax, 0x1111
    mov bx, 0x1111
    mov cx, 0x2222
    SETF F_CF | F_SF
    cmpxchg bx, cx
    ASSERT_FLAGS F_ARITH, F_ZF | F_PF
    ASSERT_EQ bx, 0x2222
    ASSERT_EQ ax, 0x1111
    mov al, 5
    mov dl, 5
    mov dh, 9
    cmpxchg dl, dh
    ASSERT_Z
    ASSERT_EQ dl, 9

    TEST "cmpxchg reg failure"
    mov ax, 0x0001
    mov bx, 0x0002
    mov cx, 0x3333
    SETF F_ZF
    cmpxchg bx, cx                  ; flags of cmp ax, bx = 1 - 2
    ASSERT_FLAGS F_ARITH, F_CF | F_SF | F_AF | F_PF
    ASSERT_EQ ax, 0x0002            ; accumulator gets the destination
    ASSERT_EQ bx, 0x0002
    mov eax, 0x80000000
    mov esi, 0x00000001
    mov edi, 0xDEADBEEF
    cmpxchg esi, edi
    ASSERT_FLAGS F_ARITH, F_OF | F_AF | F_PF
    ASSERT_EQ eax, 1
    ASSERT_EQ esi, 1

    TEST "cmpxchg mem"
    mov dword [DATA], 0xCAFEBABE
    mov eax, 0xCAFEBABE
    mov ecx, 0x12345678
    cmpxchg [DATA], ecx
    ASSERT_Z
    ASSERT_EQ dword [DATA], 0x12345678
    mov eax, 0xCAFEBABE
    cmpxchg [DATA], ecx
    ASSERT_NZ
    ASSERT_EQ eax, 0x12345678
    ASSERT_EQ dword [DATA], 0x12345678
    mov byte [DATA], 0x42
    mov al, 0x42
    mov bl, 0x24
    cmpxchg [DATA], bl
    ASSERT_Z
    ASSERT_EQ byte [DATA], 0x24
    mov word [DATA], 7
    mov ax, 8
    cmpxchg [DATA], bx
    ASSERT_NZ
    ASSERT_EQ ax, 7

    TEST "cmpxchg8b success"
    mov dword [DATA], 0x11111111
    mov dword [DATA + 4], 0x22222222
    mov eax, 0x11111111
    mov edx, 0x22222222
    mov ebx, 0x33333333
    mov ecx, 0x44444444
    SETF F_CF | F_SF | F_OF | F_PF | F_AF
    cmpxchg8b [DATA]
    ASSERT_FLAGS F_ARITH, F_CF | F_SF | F_OF | F_PF | F_AF | F_ZF
    ASSERT_EQ dword [DATA], 0x33333333
    ASSERT_EQ dword [DATA + 4], 0x44444444
    ASSERT_EQ eax, 0x11111111
    ASSERT_EQ edx, 0x22222222

    TEST "cmpxchg8b failure"
    mov eax, 0x33333333             ; low half matches, high half does not
    mov edx, 0x55555555
    mov ebx, 0
    mov ecx, 0
    SETF F_ZF
    cmpxchg8b [DATA]
    ASSERT_FLAGS F_ARITH, 0
    ASSERT_EQ eax, 0x33333333
    ASSERT_EQ edx, 0x44444444
    ASSERT_EQ dword [DATA], 0x33333333
    ASSERT_EQ dword [DATA + 4], 0x44444444
    mov si, DATA
    mov eax, 0
    mov edx, 0x44444444
    cmpxchg8b [si]
    ASSERT_NZ
    ASSERT_EQ eax, 0x33333333

    PASS_ALL

ROM_END
