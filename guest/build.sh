#!/usr/bin/env bash
# Rebuild the bundled btvm guest: guest/bzImage and guest/initramfs.cpio.gz.
#
#   guest/build.sh            build both artifacts and copy them into guest/
#   guest/build.sh --check    ...then boot them once in qemu-system-i386 (selftest mode)
#
# Runs on Debian 12 (bookworm) as root; installs what it needs with apt-get.
# Everything intermediate lives in $BUILD_DIR (default /tmp/btvm-guest-build),
# outside the repository. Safe to re-run: the kernel tree is unpacked once and
# then rebuilt incrementally.
#
# Environment:
#   BUILD_DIR          work directory (default /tmp/btvm-guest-build)
#   JOBS               make -j value (default 2)
#   KSRC_TARBALL       kernel source tarball (default /usr/src/linux-source-6.1.tar.xz)
#   BUSYBOX_DEB        use this busybox-static_*_i386.deb instead of downloading one
#   SOURCE_DATE_EPOCH  timestamp baked into the kernel version string and the cpio
set -euo pipefail

GUEST_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BUILD_DIR=${BUILD_DIR:-/tmp/btvm-guest-build}
JOBS=${JOBS:-2}
KSRC_TARBALL=${KSRC_TARBALL:-/usr/src/linux-source-6.1.tar.xz}
# 2024-01-01T00:00:00Z: fixed so that rebuilds give the same uname and cpio.
SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-1704067200}
export SOURCE_DATE_EPOCH

# Size budget for the committed files (warn only).
MAX_BZIMAGE=$((1536 * 1024))
MAX_INITRAMFS=$((1228 * 1024))

CHECK=0
for arg in "$@"; do
	case "$arg" in
	--check) CHECK=1 ;;
	-h | --help)
		sed -n '2,18p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
		exit 0
		;;
	*)
		echo "build.sh: unknown argument: $arg" >&2
		exit 2
		;;
	esac
done

log() { printf '\n==> %s\n' "$*"; }
die() {
	printf 'build.sh: error: %s\n' "$*" >&2
	exit 1
}

case "$BUILD_DIR" in
"$GUEST_DIR"* | "$(dirname "$GUEST_DIR")"/*)
	die "BUILD_DIR ($BUILD_DIR) must be outside the repository"
	;;
esac

START=$(date +%s)

# ---------------------------------------------------------------------------
# 1. Host packages
# ---------------------------------------------------------------------------
HOST_PKGS=(linux-source build-essential bc bison flex libelf-dev libssl-dev
	xz-utils cpio gzip perl python3)

is_installed() {
	[ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null || true)" = installed ]
}

APT_UPDATED=0
apt_update() {
	# A half-synced mirror makes apt-get update exit non-zero even though the
	# indexes we need are fine; carry on and let the install/download decide.
	if [ "$APT_UPDATED" = 0 ]; then
		apt-get update || echo "build.sh: warning: apt-get update reported errors; continuing" >&2
		APT_UPDATED=1
	fi
}

need_root() {
	[ "$(id -u)" = 0 ] || die "$1 needs root (run as root, or install it by hand first)"
}

missing=()
for p in "${HOST_PKGS[@]}"; do
	is_installed "$p" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
	log "installing host packages: ${missing[*]}"
	need_root "apt-get install ${missing[*]}"
	apt_update
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
fi
[ -f "$KSRC_TARBALL" ] || die "kernel source tarball $KSRC_TARBALL not found (package linux-source-6.1)"

mkdir -p "$BUILD_DIR"

# ---------------------------------------------------------------------------
# 2. busybox-static for i386 (downloaded, never installed system-wide)
# ---------------------------------------------------------------------------
DEB_DIR=$BUILD_DIR/deb
mkdir -p "$DEB_DIR"
if [ -n "${BUSYBOX_DEB:-}" ]; then
	BB_DEB=$(readlink -f "$BUSYBOX_DEB")
else
	log "downloading busybox-static:i386"
	if ! dpkg --print-foreign-architectures | grep -qx i386; then
		need_root "dpkg --add-architecture i386"
		dpkg --add-architecture i386
		APT_UPDATED=0
	fi
	fresh=$DEB_DIR/download
	rm -rf "$fresh"
	mkdir -p "$fresh"
	# Let apt's unprivileged _apt user write there (avoids a noisy warning).
	if id _apt >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then chown _apt "$fresh"; fi
	if ! (cd "$fresh" && apt-get download busybox-static:i386); then
		apt_update
		(cd "$fresh" && apt-get download busybox-static:i386) || true
	fi
	got=$(find "$fresh" -maxdepth 1 -name 'busybox-static_*_i386.deb' | head -n1)
	if [ -n "$got" ]; then
		find "$DEB_DIR" -maxdepth 1 -name 'busybox-static_*_i386.deb' -delete
		mv "$got" "$DEB_DIR/"
	else
		echo "build.sh: warning: download failed; reusing a previously downloaded deb" >&2
	fi
	rm -rf "$fresh"
	BB_DEB=$(find "$DEB_DIR" -maxdepth 1 -name 'busybox-static_*_i386.deb' | head -n1)
	[ -n "$BB_DEB" ] || die "could not get busybox-static:i386"
fi
[ "$(dpkg-deb -f "$BB_DEB" Architecture)" = i386 ] || die "$BB_DEB is not an i386 package"
BB_ROOT=$BUILD_DIR/busybox-root
rm -rf "$BB_ROOT"
dpkg-deb -x "$BB_DEB" "$BB_ROOT"
BUSYBOX=$BB_ROOT/bin/busybox
[ -x "$BUSYBOX" ] || die "no bin/busybox in $BB_DEB"
BB_VERSION=$(dpkg-deb -f "$BB_DEB" Version)

# ---------------------------------------------------------------------------
# 3. Kernel source (unpacked once per tarball)
# ---------------------------------------------------------------------------
KDIR=$BUILD_DIR/linux
KSRC_ID="$(basename "$KSRC_TARBALL") $(stat -c '%s %Y' "$KSRC_TARBALL")"
if [ ! -f "$KDIR/.btvm-source" ] || [ "$(cat "$KDIR/.btvm-source")" != "$KSRC_ID" ]; then
	log "unpacking $KSRC_TARBALL"
	rm -rf "$KDIR" "$BUILD_DIR/unpack"
	mkdir -p "$BUILD_DIR/unpack"
	tar -C "$BUILD_DIR/unpack" -xf "$KSRC_TARBALL"
	top=$(find "$BUILD_DIR/unpack" -mindepth 1 -maxdepth 1 -type d | head -n1)
	[ -f "$top/Makefile" ] || die "unexpected layout in $KSRC_TARBALL"
	mv "$top" "$KDIR"
	rm -rf "$BUILD_DIR/unpack"
	echo "$KSRC_ID" >"$KDIR/.btvm-source"
fi
KSRC_PKG=$(dpkg-query -W -f='${Package} ${Version}' linux-source-6.1 2>/dev/null || echo "linux-source-6.1 (unknown version)")

# ---------------------------------------------------------------------------
# 4. Kernel configuration: tinyconfig + guest/kernel.config
# ---------------------------------------------------------------------------
export ARCH=i386
export KBUILD_BUILD_USER=btvm
export KBUILD_BUILD_HOST=btvm
export KBUILD_BUILD_VERSION=1
KBUILD_BUILD_TIMESTAMP=$(LC_ALL=C date -u -d "@$SOURCE_DATE_EPOCH")
export KBUILD_BUILD_TIMESTAMP

kmake() { nice -n 10 make -C "$KDIR" ARCH=i386 "$@"; }

FRAGMENT=$GUEST_DIR/kernel.config
log "configuring: tinyconfig + $FRAGMENT"
kmake -s tinyconfig >"$BUILD_DIR/tinyconfig.log" 2>&1 ||
	{ cat "$BUILD_DIR/tinyconfig.log" >&2; die "make tinyconfig failed"; }
# -n: symbols that the fragment makes visible but does not name get "no"
# (allnoconfig), exactly like tinyconfig itself, instead of their defaults.
# Its "Value requested ... not in final .config" notes are mostly about symbols
# of the tinyconfig base that the fragment's choices hide, so they go to a log;
# the check below is the authoritative one.
(cd "$KDIR" && scripts/kconfig/merge_config.sh -n .config "$FRAGMENT") >"$BUILD_DIR/merge_config.log" 2>&1 ||
	{ cat "$BUILD_DIR/merge_config.log" >&2; die "merge_config.sh failed"; }

# Every line of the fragment must hold in the final .config.
bad=0
while IFS= read -r line; do
	if [[ $line =~ ^(CONFIG_[A-Za-z0-9_]+)=(.*)$ ]]; then
		sym=${BASH_REMATCH[1]}
		if ! grep -qxF "$line" "$KDIR/.config"; then
			have=$(grep -E "^(# )?${sym}[= ]" "$KDIR/.config" || echo "(absent)")
			echo "config mismatch: wanted '$line', got '$have'" >&2
			bad=1
		fi
	elif [[ $line =~ ^#\ (CONFIG_[A-Za-z0-9_]+)\ is\ not\ set$ ]]; then
		sym=${BASH_REMATCH[1]}
		if grep -qE "^$sym=" "$KDIR/.config"; then
			echo "config mismatch: wanted '$line', got '$(grep -E "^$sym=" "$KDIR/.config")'" >&2
			bad=1
		fi
	fi
done <"$FRAGMENT"
[ "$bad" = 0 ] || die "the final .config does not match guest/kernel.config (see above)"
echo "config check: all $(grep -cE '^(CONFIG_|# CONFIG_.* is not set$)' "$FRAGMENT") fragment lines hold"

# ---------------------------------------------------------------------------
# 5. Kernel build
# ---------------------------------------------------------------------------
log "building bzImage (make -j$JOBS)"
kmake -j"$JOBS" bzImage
BZIMAGE=$KDIR/arch/x86/boot/bzImage
[ -f "$BZIMAGE" ] || die "no bzImage produced"
KRELEASE=$(kmake -s kernelrelease)

# ---------------------------------------------------------------------------
# 6. initramfs (newc cpio via the kernel's gen_init_cpio: no root, no mknod)
# ---------------------------------------------------------------------------
log "building initramfs"
GEN_INIT_CPIO=$BUILD_DIR/gen_init_cpio
cc -O2 -o "$GEN_INIT_CPIO" "$KDIR/usr/gen_init_cpio.c"
STAGE=$BUILD_DIR/initramfs
rm -rf "$STAGE"
mkdir -p "$STAGE"
install -m 0755 "$BUSYBOX" "$STAGE/busybox"
install -m 0755 "$GUEST_DIR/init" "$STAGE/init"
# gen_init_cpio stamps regular files with their own mtime; pin it.
touch -d "@$SOURCE_DATE_EPOCH" "$STAGE/busybox" "$STAGE/init"
cat >"$BUILD_DIR/initramfs.list" <<EOF
dir /bin 0755 0 0
file /bin/busybox $STAGE/busybox 0755 0 0
file /init $STAGE/init 0755 0 0
dir /dev 0755 0 0
nod /dev/console 0600 0 0 c 5 1
dir /proc 0555 0 0
dir /sys 0555 0 0
dir /tmp 1777 0 0
dir /etc 0755 0 0
dir /root 0700 0 0
EOF
"$GEN_INIT_CPIO" -t "$SOURCE_DATE_EPOCH" "$BUILD_DIR/initramfs.list" >"$BUILD_DIR/initramfs.cpio"
gzip -n -9 -c "$BUILD_DIR/initramfs.cpio" >"$BUILD_DIR/initramfs.cpio.gz"
gzip -dc "$BUILD_DIR/initramfs.cpio.gz" | cpio -it --quiet | grep -qx init || die "initramfs has no /init"

# ---------------------------------------------------------------------------
# 7. Install into the repo and report
# ---------------------------------------------------------------------------
install -m 0644 "$BZIMAGE" "$GUEST_DIR/bzImage"
install -m 0644 "$BUILD_DIR/initramfs.cpio.gz" "$GUEST_DIR/initramfs.cpio.gz"

log "done in $(($(date +%s) - START)) s"
echo "kernel:  $KSRC_PKG (release $KRELEASE, ARCH=i386)"
echo "busybox: busybox-static $BB_VERSION (i386)"
for f in bzImage initramfs.cpio.gz; do
	size=$(stat -c %s "$GUEST_DIR/$f")
	printf '%-18s %8d bytes  sha256 %s\n' "$f" "$size" "$(sha256sum "$GUEST_DIR/$f" | cut -d' ' -f1)"
done
[ "$(stat -c %s "$GUEST_DIR/bzImage")" -le "$MAX_BZIMAGE" ] ||
	echo "build.sh: warning: bzImage is over the $MAX_BZIMAGE-byte budget" >&2
[ "$(stat -c %s "$GUEST_DIR/initramfs.cpio.gz")" -le "$MAX_INITRAMFS" ] ||
	echo "build.sh: warning: initramfs.cpio.gz is over the $MAX_INITRAMFS-byte budget" >&2

# ---------------------------------------------------------------------------
# 8. Optional smoke test under QEMU
# ---------------------------------------------------------------------------
if [ "$CHECK" = 1 ]; then
	log "booting the guest once in QEMU (selftest)"
	if ! command -v qemu-system-i386 >/dev/null; then
		need_root "apt-get install qemu-system-x86"
		apt_update
		DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends qemu-system-x86
	fi
	out=$BUILD_DIR/qemu-selftest.log
	# Debian's i386 busybox is built for i686 (uses CMOV), so model a P6.
	timeout 120 qemu-system-i386 -M isapc -cpu pentium2 -m 32 -no-reboot \
		-display none -monitor none -serial stdio </dev/null \
		-kernel "$GUEST_DIR/bzImage" -initrd "$GUEST_DIR/initramfs.cpio.gz" \
		-append "console=ttyS0 panic=-1 btvm.selftest" | tee "$out" ||
		die "QEMU did not exit by itself (timeout or error)"
	for want in BTVM-GUEST-READY i8042 ttyS0 BTVM-SELFTEST-DONE; do
		grep -q "$want" "$out" || die "selftest output lacks '$want' (log: $out)"
	done
	echo "QEMU selftest: OK"
fi
