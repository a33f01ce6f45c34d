; btvm demo ROM: what `btvm run` boots when no guest is given.
; A 64 KiB raw ROM started at F000:FFF0 in real mode. It prints a banner on
; COM1, sieves the primes below 10000 in RAM with 32-bit registers, prints
; the count and the CPUID vendor string, and exits through the debug-exit
; port (0xF4) with value 0.
bits 16
org 0

COM1     equ 0x3F8
EXITPORT equ 0xF4
LIMIT    equ 10000

start:
    cli
    xor ax, ax
    mov ss, ax
    mov sp, 0x7000
    mov ax, cs
    mov ds, ax
    mov si, banner
    call puts

    ; Sieve of Eratosthenes over 1000:0000 (one byte per number).
    mov ax, 0x1000
    mov es, ax
    xor di, di
    mov cx, LIMIT
    mov al, 1
    rep stosb
    mov byte [es:0], 0
    mov byte [es:1], 0
    mov ebx, 2
.outer:
    mov eax, ebx
    imul eax, ebx
    cmp eax, LIMIT
    jae .count
    cmp byte [es:bx], 0
    je .next
.mark:
    mov byte [es:eax], 0
    add eax, ebx
    cmp eax, LIMIT
    jb .mark
.next:
    inc ebx
    jmp .outer
.count:
    xor edx, edx
    xor ebx, ebx
.cloop:
    movzx eax, byte [es:bx]
    add edx, eax
    inc bx
    cmp bx, LIMIT
    jb .cloop
    mov eax, edx
    call putdec
    mov si, primes
    call puts

    ; CPUID vendor string.
    mov si, cpumsg
    call puts
    xor eax, eax
    cpuid
    mov esi, ecx            ; put4 counts in CX
    mov eax, ebx
    call put4
    mov eax, edx
    call put4
    mov eax, esi
    call put4
    mov al, 10
    call putc

    mov si, bye
    call puts
    mov al, 0
    out EXITPORT, al
.halt:
    hlt
    jmp .halt

; putc: AL to COM1 (waits for THRE).
putc:
    push dx
    push ax
    mov dx, COM1 + 5
.wait:
    in al, dx
    test al, 0x20
    jz .wait
    pop ax
    mov dx, COM1
    out dx, al
    pop dx
    ret

; puts: NUL-terminated string at DS:SI.
puts:
    lodsb
    test al, al
    jz .done
    call putc
    jmp puts
.done:
    ret

; put4: the four bytes of EAX as characters, low byte first.
put4:
    mov cx, 4
.l:
    call putc
    shr eax, 8
    loop .l
    ret

; putdec: EAX in decimal.
putdec:
    mov ecx, 10
    xor bx, bx
.div:
    xor edx, edx
    div ecx
    push dx
    inc bx
    test eax, eax
    jnz .div
.out:
    pop ax
    add al, '0'
    call putc
    dec bx
    jnz .out
    ret

banner: db "btvm demo ROM: real-mode x86 on btvm's reference interpreter", 10, 0
primes: db " primes below 10000 (sieve in guest RAM)", 10, 0
cpumsg: db "CPUID vendor: ", 0
bye:    db "demo done: exiting through the debug-exit port", 10, 0

times 0xFFF0 - ($ - $$) db 0
reset:
    jmp 0xF000:start
times 0x10000 - ($ - $$) db 0
