#!/bin/sh
# Assemble every test ROM and run it under QEMU, printing a table.
#
#   test-roms/run-qemu.sh [-v] [--kvm] [ROM-NAME-OR-NUMBER...]
#
# -v prints each ROM's serial output. ROMs containing a line
# "; qemu: expect-fail <reason>" are expected to fail under QEMU TCG (their
# row says XFAIL, or XPASS if they unexpectedly pass). --kvm runs QEMU with
# -accel kvm instead (the host CPU executes the real-mode code, the best
# reference there is); then every ROM is expected to pass. The script exits
# non-zero if any ROM had an unexpected result. Binaries, listings (.lst)
# and serial logs go to target/test-roms/ (override with OUT_DIR).
set -u
here=$(cd "$(dirname "$0")" && pwd)
out=${OUT_DIR:-$here/../target/test-roms}
mkdir -p "$out"
verbose=0
accel=tcg
while [ $# -gt 0 ]; do
    case $1 in
        -v) verbose=1; shift ;;
        --kvm) accel=kvm; shift ;;
        *) break ;;
    esac
done

roms=""
if [ $# -eq 0 ]; then
    roms=$(cd "$here" && ls [0-9][0-9]-*.asm)
else
    for a in "$@"; do
        roms="$roms $(cd "$here" && ls ${a%.asm}*.asm)"
    done
fi

bad=0
printf '%-28s %-6s %-7s %s\n' ROM STATUS RESULT NOTE
for asm in $roms; do
    name=${asm%.asm}
    bin=$out/$name.bin
    expect=pass
    reason=$(sed -n 's/^; qemu: expect-fail *//p' "$here/$asm" | head -n1)
    [ -n "$reason" ] && [ "$accel" = tcg ] && expect=fail
    if ! nasm -f bin -I "$here/include/" "$here/$asm" -o "$bin" -l "$out/$name.lst" 2>"$out/$name.nasm.err"; then
        printf '%-28s %-6s %-7s %s\n' "$name" - ASMERR "$(head -n1 "$out/$name.nasm.err")"
        bad=1
        continue
    fi
    timeout "${QEMU_TIMEOUT:-60}" qemu-system-i386 -accel "$accel" -M isapc -cpu pentium2 -m 16 \
        -bios "$bin" -display none -serial stdio -monitor none \
        -device isa-debug-exit,iobase=0xf4,iosize=1 -no-reboot \
        >"$out/$name.qemu.log" 2>&1 </dev/null
    status=$?
    if [ $status -eq 1 ] && grep -q "^PASS $name" "$out/$name.qemu.log"; then
        result=PASS
    elif [ $status -eq 124 ]; then
        result=TIMEOUT
    else
        result=FAIL
    fi
    note=""
    if [ "$expect" = fail ]; then
        case $result in
            PASS) result=XPASS; bad=1 ;;
            *) result=XFAIL ;;
        esac
        note="expected: $reason"
    else
        [ "$result" != PASS ] && bad=1
        [ "$result" != PASS ] && note=$(grep -m1 '^FAIL' "$out/$name.qemu.log")
    fi
    printf '%-28s %-6s %-7s %s\n' "$name" "$status" "$result" "$note"
    [ $verbose -eq 1 ] && sed 's/^/    | /' "$out/$name.qemu.log"
done
exit $bad
