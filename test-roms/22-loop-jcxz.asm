; 22-loop-jcxz: loop/loope/loopne (decrement CX, then test; flags are never
; changed), loop with CX=0 running 65536 times, jcxz/jecxz, and the
; address-size prefix selecting ECX (a32) instead of CX (a16, which keeps the
; upper half of ECX).
%include "test.inc"

ROM_START "22-loop-jcxz"

    TEST "loop counts"
    mov cx, 5
    xor ax, ax
.l1:
    inc ax
    loop .l1
    ASSERT_EQ ax, 5
    ASSERT_EQ cx, 0

    TEST "loop does not touch flags"
    mov cx, 2
    SETF F_ZF | F_CF
.l2:
    loop .l2
    ASSERT_FLAGS F_ARITH, F_ZF | F_CF
    mov cx, 2
    SETF 0
.l3:
    loop .l3
    ASSERT_FLAGS F_ARITH, 0

    TEST "loop with CX=0 runs 65536 times"
    xor cx, cx
    xor eax, eax
.l4:
    inc eax
    loop .l4
    ASSERT_EQ eax, 0x10000
    ASSERT_EQ cx, 0

    TEST "loope"
    mov si, data_e                  ; 0 0 0 1 0 ...: stops at the first non-zero
    mov cx, 10
.l5:
    cmp byte [cs:si], 0
    lea si, [si + 1]                ; lea keeps flags
    loope .l5
    ASSERT_NZ
    ASSERT_EQ cx, 6
    ASSERT_EQ si, data_e + 4
    mov cx, 3                       ; runs out with ZF=1
    xor ax, ax
.l6:
    inc ax
    cmp ax, ax
    loope .l6
    ASSERT_Z
    ASSERT_EQ ax, 3
    ASSERT_EQ cx, 0

    TEST "loopne"
    mov si, data_e + 3              ; 1 0: stops at the first zero
    mov cx, 10
.l7:
    cmp byte [cs:si], 0
    lea si, [si + 1]
    loopne .l7
    ASSERT_Z
    ASSERT_EQ cx, 8
    mov cx, 4
    xor ax, ax
.l8:
    inc ax                          ; ZF=0 each time
    loopne .l8
    ASSERT_EQ ax, 4
    ASSERT_EQ cx, 0

    TEST "loope with CX=1 exits after one pass"
    mov cx, 1
    xor ax, ax
.l9:
    inc ax
    cmp ax, ax
    loope .l9
    ASSERT_EQ ax, 1
    ASSERT_EQ cx, 0

    TEST "jcxz"
    mov cx, 0
    jcxz .z1
    FAIL_HERE
.z1:
    mov cx, 1
    jcxz .bad1
    jmp .z2
.bad1:
    FAIL_HERE
.z2:
    mov ecx, 0x00010000             ; CX = 0 but ECX != 0
    jcxz .z3
    FAIL_HERE
.z3:
    jecxz .bad2
    jmp .z4
.bad2:
    FAIL_HERE
.z4:
    xor ecx, ecx
    jecxz .z5
    FAIL_HERE
.z5:
    SETF F_ARITH
    jcxz .z6
.z6:
    ASSERT_FLAGS F_ARITH, F_ARITH

    TEST "a16 loop keeps ECX high half"
    mov ecx, 0x00010002
    xor ax, ax
.l10:
    inc ax
    loop .l10, cx
    ASSERT_EQ ax, 2
    ASSERT_EQ ecx, 0x00010000

    TEST "a32 loop uses ECX"
    mov ecx, 0x00010002
    xor eax, eax
.l11:
    inc eax
    loop .l11, ecx
    ASSERT_EQ eax, 0x00010002
    ASSERT_EQ ecx, 0

    TEST "a32 loope/loopne"
    mov ecx, 0x00010000
    xor eax, eax
.l12:
    inc eax
    cmp eax, 5
    loopne .l12, ecx
    ASSERT_EQ eax, 5
    ASSERT_EQ ecx, 0x00010000 - 5

    PASS_ALL

data_e: db 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0

ROM_END
