#!/usr/bin/env bash
# Host instructions per guest instruction of a benchmark ROM on one engine,
# measured with valgrind's callgrind (instruction counts, not time: the
# figure does not depend on machine load).
#
# Usage: scripts/callgrind-per-guest-insn.sh ROM ENGINE [N1 N2]
#   ROM     test-roms/bench/<row>.asm (assembled here with a huge ITERS so
#           the loop outlasts both runs) or an already assembled .bin
#   ENGINE  interp | jit
#   N1 N2   guest instruction counts of the two runs (default 2e6 and 12e6)
#
# Method: run `btvm run --bios ROM --engine ENGINE --clock virtual
# --max-instructions N` under callgrind for N1 and N2 and take
# (Ir(N2) - Ir(N1)) / (N2 - N1): start-up (process, machine and ROM
# set-up, translation of the loop's blocks) cancels out and what is left
# is the steady-state cost of one guest instruction of the loop, the
# engine's dispatch and the device/timer work per instruction included.
# Both runs stop at exactly N guest instructions (virtual clock: every run
# is identical); N1 must be past the ROM's set-up (~100 instructions).
#
# Environment: BTVM (the binary; default $CARGO_TARGET_DIR or target, the
# release build, built if missing), KEEP=1 keeps the callgrind output
# files (for callgrind_annotate) in the printed directory.
set -euo pipefail

if [[ $# -lt 2 ]]; then
    awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"
    exit 2
fi
rom=$1
engine=$2
n1=${3:-2000000}
n2=${4:-12000000}
here=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/btvm-callgrind.XXXXXX")
[[ ${KEEP:-0} == 1 ]] || trap 'rm -rf "$work"' EXIT

for tool in valgrind nasm; do
    command -v "$tool" >/dev/null || {
        echo "$tool not found (apt-get install -y $tool)" >&2
        exit 2
    }
done

btvm=${BTVM:-${CARGO_TARGET_DIR:-$here/target}/release/btvm}
if [[ ! -x $btvm ]]; then
    (cd "$here" && cargo build --release --bin btvm >&2)
fi

case $rom in
*.asm)
    bin=$work/$(basename "$rom" .asm).bin
    nasm -f bin -DITERS=2000000000 -I"$here/test-roms/bench/include/" "$rom" -o "$bin"
    ;;
*) bin=$rom ;;
esac

# Total Ir of one run of N guest instructions.
ir() {
    local n=$1 out=$work/callgrind.$engine.$1
    local status=0
    valgrind --tool=callgrind --callgrind-out-file="$out" -q \
        "$btvm" run --bios "$bin" --engine "$engine" --clock virtual \
        --serial null --max-instructions "$n" >/dev/null 2>"$work/err.$n" || status=$?
    # --max-instructions stops with status 124; anything else is a failure.
    if [[ $status != 124 ]]; then
        echo "btvm exited with $status before $n instructions:" >&2
        cat "$work/err.$n" >&2
        exit 1
    fi
    awk '/^(summary|totals):/ { print $2; exit }' "$out"
}

ir1=$(ir "$n1")
ir2=$(ir "$n2")
awk -v e="$engine" -v r="$(basename "$rom")" -v n1="$n1" -v n2="$n2" \
    -v a="$ir1" -v b="$ir2" 'BEGIN {
    printf "%s %s: Ir(%d) = %d, Ir(%d) = %d\n", r, e, n1, a, n2, b
    printf "%s %s: %.2f host instructions per guest instruction (start-up %.1f M)\n",
        r, e, (b - a) / (n2 - n1), (a - n1 * (b - a) / (n2 - n1)) / 1e6
}'
if [[ ${KEEP:-0} == 1 ]]; then
    echo "callgrind output in $work"
fi
