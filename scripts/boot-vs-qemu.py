#!/usr/bin/env python3
"""Boot each direct-boot guest to its serial success marker under btvm
(interpreter, --clock virtual) and under QEMU TCG (qemu-system-i386 -M isapc),
one after the other in the same run, and print the wall time of each and the
ratio. Usage: scripts/boot-vs-qemu.py [guest ...]   (needs ../shared/guests,
a release build: cargo build --release, and Debian's qemu-system-x86)."""
import os, re, subprocess, sys, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
G = os.path.join(ROOT, "..", "shared", "guests")
BTVM = os.path.join(ROOT, "target", "release", "btvm")

GUESTS = {
    "bundled-linux": dict(mem="64", kernel=None, initrd=None, append="console=ttyS0 panic=-1",
                          marker=b"BTVM-GUEST-READY", cpu="pentium2"),
    "linux-2.4-boote": dict(mem="32", kernel="linux-2.4-boote/bzImage-2.4.20", initrd="linux-2.4-boote/initrd-2.4.20.gz",
                            append="console=ttyS0 root=/dev/ram0 ramdisk_start=0",
                            marker=b"Please press Enter to activate this console.", cpu="486"),
    "linux-6.1-debian": dict(mem="64", kernel="linux-6.1-debian/vmlinuz-6.1.0-50-686", initrd="linux-6.1-debian/initrd-busybox.gz",
                             append="console=ttyS0 noapic nolapic acpi=off pci=off panic=-1",
                             marker=b"BTVM-LINUX-INIT-OK", cpu="pentium2"),
    "memtest86plus": dict(mem="8", kernel="memtest86plus/memtest86+ia32.bin", initrd=None,
                          append="console=ttyS0,115200 nosmp nopause", marker=re.compile(rb"Memtest86\+ v6\.10.*#[1-9]\d* +\[", re.S), cpu="pentium2"),
}

def until(cmd, marker, limit=1800):
    start = time.time()
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    os.set_blocking(p.stdout.fileno(), False)
    buf = b""
    while time.time() - start < limit:
        try:
            chunk = p.stdout.read(65536)
        except BlockingIOError:
            chunk = None
        if chunk:
            buf += chunk
            if (marker.search(buf) if hasattr(marker, "search") else marker in buf):
                t = time.time() - start
                p.kill(); p.wait()
                return t
        elif p.poll() is not None:
            break
        else:
            time.sleep(0.02)
    p.kill(); p.wait()
    return None

def main():
    names = sys.argv[1:] or list(GUESTS)
    print(f"{'guest':18} {'btvm interp (s)':>16} {'QEMU TCG (s)':>13} {'btvm/QEMU':>10}")
    for n in names:
        g = GUESTS[n]
        kernel = os.path.join(G, g["kernel"]) if g["kernel"] else os.path.join(ROOT, "guest", "bzImage")
        initrd = os.path.join(G, g["initrd"]) if g["initrd"] else (None if g["kernel"] else os.path.join(ROOT, "guest", "initramfs.cpio.gz"))
        b = [BTVM, "run", "--clock", "virtual", "-m", g["mem"], "--kernel", kernel, "--append", g["append"]]
        q = ["qemu-system-i386", "-M", "isapc", "-cpu", g["cpu"], "-m", g["mem"], "-display", "none", "-serial", "stdio",
             "-no-reboot", "-kernel", kernel, "-append", g["append"]]
        if initrd:
            b += ["--initrd", initrd]
            q += ["-initrd", initrd]
        tb = until(b, g["marker"])
        tq = until(q, g["marker"])
        fmt = lambda t: f"{t:.1f}" if t is not None else "timeout"
        ratio = f"{tb / tq:.1f}x" if tb and tq else "-"
        print(f"{n:18} {fmt(tb):>16} {fmt(tq):>13} {ratio:>10}", flush=True)

main()
