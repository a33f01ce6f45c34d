; 33-compute: the benchmark ROM. Integer-only real-mode work with 32-bit
; operand prefixes, a few hundred million guest instructions:
;   PASSES times:
;     - sieve of Eratosthenes over a 64 KiB byte array (segment 0x2000),
;       checking that it finds 6542 primes below 65536
;     - bitwise CRC-32 (reflected polynomial 0xEDB88320) of the 64 KiB array,
;       the CRC state carried from pass to pass
; The final CRC equals zlib.crc32(sieve_bytes * PASSES) and is compared with
; the known value. The TSC delta is printed for information (under
; `qemu -icount shift=0` it is the number of guest instructions executed).
;
; Per pass: ~16K (clear) + ~0.4M (sieve) + ~0.26M (count) + ~2.4M (CRC)
; instructions.
%include "test.inc"

PASSES     equ 100
ARRAY_SEG  equ 0x2000               ; phys 0x20000-0x2FFFF
PRIMES     equ 6542                 ; primes below 65536
EXPECT_CRC equ 0x1DD783FB           ; zlib.crc32(sieve_bytes * PASSES)
CRC_POLY   equ 0xEDB88320

CRC    equ SCRATCH                  ; dword: running CRC state
PASS   equ SCRATCH + 4              ; word: passes left
TSC0   equ SCRATCH + 8              ; qword

ROM_START "33-compute"
    mov ax, ARRAY_SEG
    mov es, ax
    mov dword [CRC], 0xFFFFFFFF
    mov word [PASS], PASSES
    rdtsc
    mov [TSC0], eax
    mov [TSC0 + 4], edx

    TEST "sieve + crc32 passes"
pass:
    ; --- clear the array: 16384 dwords of 0
    xor eax, eax
    xor di, di
    mov cx, 0x4000
    rep stosd
    mov word [es:0], 0x0101         ; 0 and 1 are not prime

    ; --- sieve: for i in 2..255 if prime: mark i*i, i*i+i, ... < 65536
    mov si, 2
.outer:
    cmp byte [es:si], 0
    jne .next
    mov ax, si
    mul si                          ; DX:AX = i*i < 65536
    mov bx, ax
.mark:
    mov byte [es:bx], 1
    add bx, si
    jnc .mark                       ; carry = ran past 65535
.next:
    inc si
    cmp si, 256
    jb .outer

    ; --- count the zero bytes (primes)
    xor edi, edi
    xor si, si
.count:
    cmp byte [es:si], 1             ; CF = (byte == 0)
    adc edi, 0
    inc si
    jnz .count                      ; 65536 bytes
    ASSERT_EQ edi, PRIMES

    ; --- CRC-32 over the array, bit by bit, branch-free
    mov eax, [CRC]
    xor si, si
.crc:
    xor al, [es:si]
%rep 8
    shr eax, 1
    sbb edx, edx                    ; EDX = CF ? 0xFFFFFFFF : 0
    and edx, CRC_POLY
    xor eax, edx
%endrep
    inc si
    jnz .crc
    mov [CRC], eax

    dec word [PASS]
    jnz pass

    TEST "checksum"
    rdtsc
    sub eax, [TSC0]
    sbb edx, [TSC0 + 4]
    PUTS_LIT "tsc delta: "
    PUTHEX32 edx
    PUTHEX32 eax
    PUTNL
    mov eax, [CRC]
    not eax
    PUTS_LIT "crc32: "
    PUTHEX32 eax
    PUTNL
    ASSERT_EQ eax, EXPECT_CRC

    PASS_ALL

ROM_END
