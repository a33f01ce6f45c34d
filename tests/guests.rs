//! Real guests booted to their success markers (see guest/README.md and
//! ../shared/guests/*/BOOT.md). Guests from ../shared are reported as
//! skipped when ../shared is absent. All runs use the virtual clock, so a
//! marker is reached after the same guest instructions on every host.

mod common;

use std::time::Duration;

use common::{boot_until, boot_until_fn, shared, Boot};
use libtest_mimic::{Arguments, Failed, Trial};

/// Wall-clock guard for one boot; far above the measured times so that a
/// loaded CI machine does not fail a healthy boot.
const BOOT_TIMEOUT: Duration = Duration::from_secs(900);

/// Kernel command line of the bundled guest's self-test run.
const SELFTEST_CMDLINE: &str = "console=ttyS0 panic=-1 btvm.selftest";

fn engine_args(engine: &str) -> Vec<String> {
    let mut v: Vec<String> = common::engine_args(engine)
        .into_iter()
        .map(String::from)
        .collect();
    v.extend(
        [
            "--clock",
            "virtual",
            "--timeout",
            &BOOT_TIMEOUT.as_secs().to_string(),
        ]
        .map(String::from),
    );
    v
}

fn run(args: &[String], marker: Option<&str>) -> Boot {
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    boot_until(&a, marker, BOOT_TIMEOUT + Duration::from_secs(30))
}

/// The bundled guest (built into btvm) boots, runs its self-test and
/// reboots, which stops the machine (no --reboot).
fn bundled_selftest(engine: &'static str) -> Result<(), Failed> {
    let mut args = vec!["run".to_string()];
    args.extend(engine_args(engine));
    args.extend(["--append".to_string(), SELFTEST_CMDLINE.to_string()]);
    let b = run(&args, None);
    let s = &b.serial;
    for needle in [
        "Linux version",
        "BTVM-GUEST-READY",
        "timer",
        "i8042",
        "ttyS0",
        "BTVM-SELFTEST-DONE",
    ] {
        if !s.contains(needle) {
            return Err(b.report(&format!("serial output lacks {needle:?}")).into());
        }
    }
    if b.status != Some(0) || !b.stderr.contains("guest reset") {
        return Err(b
            .report("expected the guest's reboot to stop btvm with status 0")
            .into());
    }
    Ok(())
}

/// Two virtual-clock boots of the same guest give byte-identical output.
fn bundled_deterministic(engine: &'static str) -> Result<(), Failed> {
    same_output(engine, engine)
}

/// Virtual-clock boots of the bundled guest on two engines give
/// byte-identical serial output (the JIT retires the same instructions at
/// the same instruction counts as the interpreter).
fn same_output(first: &str, second: &str) -> Result<(), Failed> {
    let args = |engine: &str| {
        let mut args = vec!["run".to_string()];
        args.extend(engine_args(engine));
        args.extend(["--append".to_string(), SELFTEST_CMDLINE.to_string()]);
        args
    };
    let (args_a, args_b) = (args(first), args(second));
    let first = std::thread::scope(|s| {
        let a = s.spawn(|| run(&args_a, None));
        let b = run(&args_b, None);
        (a.join().expect("boot thread"), b)
    });
    let (a, b) = first;
    if !a.serial.contains("BTVM-SELFTEST-DONE") {
        return Err(a.report("first boot did not finish its self-test").into());
    }
    if a.raw != b.raw {
        let at = a
            .raw
            .iter()
            .zip(&b.raw)
            .position(|(x, y)| x != y)
            .unwrap_or(a.raw.len().min(b.raw.len()));
        let ctx = |r: &[u8]| {
            String::from_utf8_lossy(&r[at.saturating_sub(200)..(at + 200).min(r.len())])
                .into_owned()
        };
        return Err(format!(
            "serial output differs at byte {at} ({} vs {} bytes)\n--- first ---\n{}\n--- second ---\n{}",
            a.raw.len(),
            b.raw.len(),
            ctx(&a.raw),
            ctx(&b.raw)
        )
        .into());
    }
    Ok(())
}

/// With `--reboot`, the guest's reset restarts the machine (the bundled
/// guest boots again) and the instruction budget spans both boots.
fn bundled_reboot(engine: &'static str) -> Result<(), Failed> {
    let mut args = vec!["run".to_string()];
    args.extend(engine_args(engine));
    args.extend(
        [
            "--reboot",
            "--append",
            SELFTEST_CMDLINE,
            "--max-instructions",
            "800000000",
        ]
        .map(String::from),
    );
    let b = run(&args, None);
    let boots = b.serial.matches("BTVM-SELFTEST-DONE").count();
    if boots != 2 || b.status != Some(124) || !b.stderr.contains("--max-instructions") {
        return Err(b
            .report(&format!(
                "expected two boots within the budget, saw {boots}"
            ))
            .into());
    }
    Ok(())
}

/// A guest from ../shared booted directly with the Linux boot protocol.
struct DirectGuest {
    name: &'static str,
    memory: &'static str,
    kernel: &'static str,
    initrd: Option<&'static str>,
    append: &'static str,
    /// Success: this text on serial.
    marker: &'static str,
    /// A second condition on the serial output, if any (checked by a
    /// predicate over all output so far).
    extra: Option<fn(&[u8]) -> bool>,
}

/// memtest86+ "advances": a test header `#N  [` with N >= 1 after the start.
fn memtest_advances(raw: &[u8]) -> bool {
    raw.iter().enumerate().any(|(i, &c)| {
        if c != b'#' {
            return false;
        }
        let digits: Vec<u8> = raw[i + 1..]
            .iter()
            .take_while(|d| d.is_ascii_digit())
            .copied()
            .collect();
        let rest = &raw[i + 1 + digits.len()..];
        let spaces = rest.iter().take_while(|&&d| d == b' ').count();
        let n: u32 = std::str::from_utf8(&digits)
            .ok()
            .and_then(|d| d.parse().ok())
            .unwrap_or(0);
        n >= 1 && spaces >= 1 && rest.get(spaces) == Some(&b'[')
    })
}

const DIRECT_GUESTS: &[DirectGuest] = &[
    DirectGuest {
        name: "linux-2.4-boote",
        memory: "32",
        kernel: "linux-2.4-boote/bzImage-2.4.20",
        initrd: Some("linux-2.4-boote/initrd-2.4.20.gz"),
        append: "console=ttyS0 root=/dev/ram0 ramdisk_start=0",
        marker: "Please press Enter to activate this console.",
        extra: None,
    },
    DirectGuest {
        name: "linux-6.1-debian",
        memory: "64",
        kernel: "linux-6.1-debian/vmlinuz-6.1.0-50-686",
        initrd: Some("linux-6.1-debian/initrd-busybox.gz"),
        append: "console=ttyS0 noapic nolapic acpi=off pci=off panic=-1",
        marker: "BTVM-LINUX-INIT-OK",
        extra: None,
    },
    DirectGuest {
        name: "memtest86plus",
        memory: "8",
        kernel: "memtest86plus/memtest86+ia32.bin",
        initrd: None,
        append: "console=ttyS0,115200 nosmp nopause",
        marker: "Memtest86+ v6.10",
        extra: Some(memtest_advances),
    },
];

fn direct_boot(g: &'static DirectGuest, engine: &'static str) -> Result<(), Failed> {
    let dir = shared().ok_or("../shared not present")?.join("guests");
    let mut args = vec!["run".to_string(), "-m".to_string(), g.memory.to_string()];
    args.extend(engine_args(engine));
    args.extend([
        "--kernel".to_string(),
        dir.join(g.kernel).display().to_string(),
    ]);
    if let Some(i) = g.initrd {
        args.extend(["--initrd".to_string(), dir.join(i).display().to_string()]);
    }
    args.extend(["--append".to_string(), g.append.to_string()]);
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    let marker = g.marker.as_bytes();
    let extra = g.extra;
    let done = move |raw: &[u8]| {
        let pos = raw.windows(marker.len()).position(|w| w == marker);
        match (pos, extra) {
            (Some(p), Some(f)) => f(&raw[p..]),
            (Some(_), None) => true,
            (None, _) => false,
        }
    };
    let b = boot_until_fn(&a, &done, BOOT_TIMEOUT + Duration::from_secs(30));
    if !b.found {
        return Err(b
            .report(&format!("{}: success marker not reached", g.name))
            .into());
    }
    eprintln!("{}: marker after {:.1} s", g.name, b.wall.as_secs_f64());
    Ok(())
}

/// A guest from ../shared booted by the built-in BIOS from disk images,
/// driven by scripted keys, judged by the text screen.
struct DiskGuest {
    name: &'static str,
    memory: &'static str,
    /// Arguments with image paths relative to ../shared/guests.
    args: &'static [&'static str],
    keys: Option<&'static str>,
    /// Success: this text on the VGA text screen.
    screen: &'static str,
}

const DISK_GUESTS: &[DiskGuest] = &[
    DiskGuest {
        name: "freedos-minimal",
        memory: "4",
        args: &["--floppy", "freedos-minimal/freedos-minimal.img"],
        keys: Some("{wait 6s}ver\n"),
        screen: "FreeCom version 0.82",
    },
    DiskGuest {
        name: "linux-0.11",
        memory: "16",
        args: &[
            "--floppy",
            "linux-0.11/linux011-qemu-Image.fd1440.img",
            "--disk",
            "linux-0.11/rootfs-0.11-hd.img",
        ],
        keys: Some("{wait 4s}ls /bin\n"),
        screen: "umount  vi",
    },
    DiskGuest {
        name: "linux-2.4-boote-floppy",
        memory: "32",
        args: &["--floppy", "linux-2.4-boote/boote-2.4.20.img"],
        keys: None,
        screen: "Please press Enter to activate this console.",
    },
    DiskGuest {
        name: "msdos4-multitasking",
        memory: "1",
        args: &["--floppy", "msdos4-multitasking/msdos4m-disk1.img"],
        keys: None,
        screen: "Enter new date:",
    },
];

fn disk_boot(g: &'static DiskGuest, engine: &'static str) -> Result<(), Failed> {
    let dir = shared().ok_or("../shared not present")?.join("guests");
    let shot =
        std::env::temp_dir().join(format!("btvm-guest-{}-{}.txt", g.name, std::process::id()));
    let mut args = vec![
        "run".to_string(),
        "-m".to_string(),
        g.memory.to_string(),
        "--snapshot".to_string(),
    ];
    args.extend(engine_args(engine));
    args.extend(["--serial", "null", "--exit-on-screen", g.screen].map(String::from));
    args.extend([
        "--screenshot-on-exit".to_string(),
        shot.display().to_string(),
    ]);
    for a in g.args {
        args.push(if a.starts_with("--") {
            a.to_string()
        } else {
            dir.join(a).display().to_string()
        });
    }
    if let Some(k) = g.keys {
        args.extend(["--keys".to_string(), k.to_string()]);
    }
    let b = run(&args, None);
    let screen = std::fs::read_to_string(&shot).unwrap_or_default();
    std::fs::remove_file(&shot).ok();
    if b.status != Some(0) || !b.stderr.contains("--exit-on-screen") || !screen.contains(g.screen) {
        return Err(b
            .report(&format!(
                "{}: screen marker {:?} not reached\n--- screen ---\n{screen}",
                g.name, g.screen
            ))
            .into());
    }
    eprintln!("{}: marker after {:.1} s", g.name, b.wall.as_secs_f64());
    Ok(())
}

/// A file the guest writes reaches the image, unless --snapshot.
fn freedos_writes_reach_the_image(engine: &'static str) -> Result<(), Failed> {
    let dir = shared().ok_or("../shared not present")?.join("guests");
    let original = std::fs::read(dir.join("freedos-minimal/freedos-minimal.img"))?;
    let entry = b"X       TXT";
    if original.windows(entry.len()).any(|w| w == entry) {
        return Err("the image already has X.TXT".into());
    }
    for snapshot in [false, true] {
        let img = std::env::temp_dir().join(format!(
            "btvm-fd-write-{snapshot}-{}.img",
            std::process::id()
        ));
        std::fs::write(&img, &original)?;
        let mut args = vec!["run".to_string(), "-m".to_string(), "4".to_string()];
        args.extend(engine_args(engine));
        args.extend(["--serial", "null", "--floppy"].map(String::from));
        args.push(img.display().to_string());
        if snapshot {
            args.push("--snapshot".to_string());
        }
        args.extend(
            [
                "--keys",
                "{wait 6s}echo hi > X.TXT\nver\n",
                "--exit-on-screen",
                "FreeCom version 0.82",
            ]
            .map(String::from),
        );
        let b = run(&args, None);
        let after = std::fs::read(&img)?;
        std::fs::remove_file(&img).ok();
        if b.status != Some(0) {
            return Err(b.report("FreeDOS did not run the commands").into());
        }
        let has = after.windows(entry.len()).any(|w| w == entry)
            && after.windows(5).any(|w| w == b"hi \r\n");
        match (snapshot, has) {
            (false, false) => {
                return Err("X.TXT is not in the image after a run without --snapshot".into())
            }
            (true, _) if after != original => {
                return Err("--snapshot changed the image file".into())
            }
            _ => {}
        }
    }
    Ok(())
}

/// Marker FreeDOS's AUTOEXEC.BAT on the hard-disk image writes to COM1.
const FREEDOS_HD_MARKER: &str = "BTVM-FREEDOS-HD-BOOT-OK";

/// FreeDOS boots from the IDE image under KVM (host clock: KVM time is
/// wall time) to the marker its AUTOEXEC.BAT sends to COM1.
fn freedos_hd_kvm() -> Result<(), Failed> {
    let img = shared()
        .ok_or("../shared not present")?
        .join("guests/freedos-hd/freedos-hd.img");
    let args = [
        "run",
        "--disk",
        img.to_str().ok_or("non-UTF-8 path")?,
        "--snapshot",
        "--engine",
        "kvm",
        "--display",
        "none",
        "--exit-on-serial",
        FREEDOS_HD_MARKER,
        "--timeout",
        "300",
    ]
    .map(String::from);
    let b = run(&args, Some(FREEDOS_HD_MARKER));
    if !b.found {
        return Err(b
            .report("FreeDOS (hard disk) did not reach its marker under kvm")
            .into());
    }
    Ok(())
}

fn main() {
    let args = Arguments::from_args();
    let have_shared = shared().is_some();
    let mut trials = Vec::new();
    // The bundled guest needs nothing from ../shared.
    trials.push(Trial::test("bundled-linux-selftest::jit-check", || {
        bundled_selftest("jit-check")
    }));
    trials.push(Trial::test(
        "bundled-linux-jit-output-equals-interp",
        || same_output("interp", "jit"),
    ));
    for (engine, unavailable) in common::engines() {
        if engine == "kvm" {
            // Under KVM only the real-mode guest that boots from the IDE
            // disk: floppy boots lose IRQ 6 and protected-mode guests do not
            // run on the PVM host KVM (../shared/guests/README.md), and KVM
            // runs are not deterministic.
            let name = match (unavailable, have_shared) {
                (Some(why), _) => format!("freedos-hd::kvm (skipped: {why})"),
                (None, false) => "freedos-hd::kvm (skipped: ../shared not present)".to_string(),
                (None, true) => "freedos-hd::kvm".to_string(),
            };
            let ignored = unavailable.is_some() || !have_shared;
            trials.push(Trial::test(name, freedos_hd_kvm).with_ignored_flag(ignored));
            continue;
        }
        let skip = |base: String, needs_shared: bool| -> (String, bool) {
            match (unavailable, needs_shared && !have_shared) {
                (Some(why), _) => (format!("{base} (skipped: {why})"), true),
                (None, true) => (format!("{base} (skipped: ../shared not present)"), true),
                (None, false) => (base, false),
            }
        };
        let (n, ig) = skip(format!("bundled-linux-selftest::{engine}"), false);
        trials.push(Trial::test(n, move || bundled_selftest(engine)).with_ignored_flag(ig));
        let (n, ig) = skip(format!("bundled-linux-reboot::{engine}"), false);
        trials.push(Trial::test(n, move || bundled_reboot(engine)).with_ignored_flag(ig));
        let (n, ig) = skip(format!("bundled-linux-deterministic::{engine}"), false);
        trials.push(Trial::test(n, move || bundled_deterministic(engine)).with_ignored_flag(ig));
        for g in DIRECT_GUESTS {
            let (n, ig) = skip(format!("{}::{engine}", g.name), true);
            trials.push(Trial::test(n, move || direct_boot(g, engine)).with_ignored_flag(ig));
        }
        for g in DISK_GUESTS {
            let (n, ig) = skip(format!("{}::{engine}", g.name), true);
            trials.push(Trial::test(n, move || disk_boot(g, engine)).with_ignored_flag(ig));
        }
        let (n, ig) = skip(format!("freedos-writes-reach-the-image::{engine}"), true);
        trials.push(
            Trial::test(n, move || freedos_writes_reach_the_image(engine)).with_ignored_flag(ig),
        );
    }
    libtest_mimic::run(&args, trials).exit();
}
