//! The built-in BIOS: a boot sector that checks the services from inside a
//! guest (tests/bios/biostest.asm, assembled here and written onto disk
//! images built in a temporary directory), the keyboard path from IRQ 1 to
//! INT 16h and the POST screen (in-process, where keys can be injected and
//! the VGA read), and the real guests of ../shared/guests that boot through
//! the BIOS (skipped when ../shared is absent). All runs use the virtual
//! clock. Run with `cargo test --release --test bios`.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use btvm::machine::clock::{ClockKind, DEFAULT_VIRTUAL_MIPS};
use btvm::machine::pc::{CaptureBuffer, ConsoleOut};
use btvm::machine::{BootOrder, Config, Exit, HostInput, Limits, Machine};
use common::{boot_until, boot_until_fn, repo, shared, Boot};
use libtest_mimic::{Arguments, Failed, Trial};

/// Wall-clock guard for one run (far above the measured times).
const TIMEOUT: Duration = Duration::from_secs(600);
/// Sectors in front of the pattern sectors (boot sector + second stage).
const PROGRAM_SECTORS: usize = 16;
/// The test hard disk: 4 cylinders x 16 heads x 63 sectors.
const HD_SECTORS: usize = 4 * 16 * 63;
/// A 1.44 MB diskette.
const FLOPPY_SECTORS: usize = 2880;

// ---- images -----------------------------------------------------------------

/// A per-process scratch directory.
fn scratch() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("btvm-bios-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("create the scratch directory");
    dir
}

/// Assemble tests/bios/biostest.asm with `defines` into `out`.
fn assemble(defines: &[&str], out: &Path) -> Result<(), String> {
    let src = repo().join("tests").join("bios").join("biostest.asm");
    let mut cmd = Command::new("nasm");
    cmd.args(["-f", "bin"]);
    for d in defines {
        cmd.arg(format!("-D{d}"));
    }
    let r = cmd
        .arg(&src)
        .arg("-o")
        .arg(out)
        .output()
        .map_err(|e| format!("cannot run nasm ({e}); install it: apt-get install -y nasm"))?;
    if !r.status.success() {
        return Err(format!(
            "nasm failed on {}:\n{}",
            src.display(),
            String::from_utf8_lossy(&r.stderr)
        ));
    }
    Ok(())
}

/// A disk image of `sectors` sectors: the test program, then pattern
/// sectors (dword 0 = the LBA, byte i = (LBA + i) & 0xFF).
fn test_image(name: &str, defines: &[&str], sectors: usize) -> Result<PathBuf, String> {
    let dir = scratch();
    let bin = dir.join(format!("{name}.bin"));
    assemble(defines, &bin)?;
    let program = std::fs::read(&bin).map_err(|e| e.to_string())?;
    if program.len() != PROGRAM_SECTORS * 512 {
        return Err(format!(
            "{}: {} bytes, expected {}",
            bin.display(),
            program.len(),
            PROGRAM_SECTORS * 512
        ));
    }
    let mut image = program;
    for lba in PROGRAM_SECTORS..sectors {
        let mut s = [0u8; 512];
        for (i, b) in s.iter_mut().enumerate() {
            *b = (lba + i) as u8;
        }
        s[..4].copy_from_slice(&(lba as u32).to_le_bytes());
        image.extend_from_slice(&s);
    }
    let path = dir.join(format!("{name}.img"));
    std::fs::write(&path, image).map_err(|e| e.to_string())?;
    Ok(path)
}

fn floppy_image(name: &str, defines: &[&str]) -> Result<PathBuf, String> {
    test_image(name, defines, FLOPPY_SECTORS)
}

fn hd_image(name: &str) -> Result<PathBuf, String> {
    test_image(name, &["HARDDISK"], HD_SECTORS)
}

/// `btvm run` with the options every BIOS test uses, then `args`.
fn base_args(args: &[String]) -> Vec<String> {
    let mut a: Vec<String> = [
        "run",
        "-m",
        "16",
        "--clock",
        "virtual",
        "--snapshot",
        "--timeout",
        "600",
    ]
    .map(String::from)
    .to_vec();
    a.extend_from_slice(args);
    a
}

fn run(args: &[String], marker: Option<&str>) -> Boot {
    let a = base_args(args);
    let a: Vec<&str> = a.iter().map(String::as_str).collect();
    boot_until(&a, marker, TIMEOUT + Duration::from_secs(30))
}

fn path_arg(p: &Path) -> String {
    p.display().to_string()
}

// ---- the boot-sector checks ------------------------------------------------------

fn expect_pass(b: &Boot, banner: &str) -> Result<(), Failed> {
    if !b.serial.contains(banner) {
        return Err(b
            .report(&format!(
                "the test program did not start ({banner:?} missing)"
            ))
            .into());
    }
    if !b.serial.contains("PASS") || b.status != Some(1) {
        return Err(b
            .report("the test program did not pass (debug-exit 0 = status 1 expected)")
            .into());
    }
    Ok(())
}

/// The services from a diskette boot: INT 10h, 11h, 12h, 13h CHS, 14h,
/// 15h, 16h, 17h, 1Ah, the BDA and the vectors.
fn boot_sector_floppy() -> Result<(), Failed> {
    let img = floppy_image("floppy", &[])?;
    let b = run(&["--floppy".into(), path_arg(&img)], None);
    expect_pass(&b, "BIOSTEST FLOPPY")
}

/// The same from a hard disk: EDD 41h/42h/43h/48h, CHS translation, the
/// INT 41h table.
fn boot_sector_hard_disk() -> Result<(), Failed> {
    let img = hd_image("hd")?;
    let b = run(
        &["--disk".into(), path_arg(&img), "--boot".into(), "c".into()],
        None,
    );
    expect_pass(&b, "BIOSTEST HD")
}

/// `--boot a` starts the diskette, `--boot c` the hard disk.
fn boot_order() -> Result<(), Failed> {
    let floppy = floppy_image("order-floppy", &[])?;
    let hd = hd_image("order-hd")?;
    for (boot, want) in [("a", "BIOSTEST FLOPPY"), ("c", "BIOSTEST HD")] {
        let args = [
            "--floppy".into(),
            path_arg(&floppy),
            "--disk".into(),
            path_arg(&hd),
            "--boot".into(),
            boot.into(),
        ];
        let a = base_args(&args);
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        let b = boot_until_fn(
            &a,
            &|raw: &[u8]| raw.windows(2).any(|w| w == b"\r\n"),
            TIMEOUT,
        );
        if !b.serial.starts_with(want) {
            return Err(b
                .report(&format!("--boot {boot}: expected {want:?} first"))
                .into());
        }
    }
    Ok(())
}

/// A disk without the 55AA signature does not boot: INT 18h reports it
/// (on the debug console too) and the machine halts.
fn no_bootable_device() -> Result<(), Failed> {
    let img = scratch().join("blank.img");
    std::fs::write(&img, vec![0u8; HD_SECTORS * 512]).map_err(|e| e.to_string())?;
    let b = run(
        &["--disk".into(), path_arg(&img), "--boot".into(), "c".into()],
        None,
    );
    if !b.serial.contains("No bootable device")
        || b.status != Some(0)
        || !b.stderr.contains("halted")
    {
        return Err(b
            .report("expected \"No bootable device\" and a halt")
            .into());
    }
    Ok(())
}

// ---- in-process runs -----------------------------------------------------------------

/// A machine run inside the test process, so keys can be injected and the
/// screen read.
struct InProc {
    m: Machine,
    out: CaptureBuffer,
    /// Instructions between two looks at the condition.
    step: u64,
}

impl InProc {
    fn new(
        floppy: Option<&Path>,
        disk: Option<&Path>,
        boot: BootOrder,
        memory_mib: u32,
    ) -> Result<Self, String> {
        let cfg = Config {
            memory_mib,
            clock: ClockKind::Virtual {
                mips: DEFAULT_VIRTUAL_MIPS,
            },
            floppies: [floppy.map(Path::to_path_buf), None],
            disk: disk.map(Path::to_path_buf),
            snapshot: true,
            boot,
            ..Config::default()
        };
        let out = CaptureBuffer::default();
        let m = Machine::with_console(cfg, ConsoleOut::new(Box::new(out.clone())))
            .map_err(|e| e.to_string())?;
        Ok(InProc {
            m,
            out,
            step: 4_000_000,
        })
    }

    fn serial(&self) -> String {
        self.out.text()
    }

    fn screen(&self) -> String {
        self.m.pc.vga.snapshot().to_text()
    }

    /// Run until `done` holds (checked every few million instructions), at
    /// most `budget` more instructions.
    fn run_until(
        &mut self,
        what: &str,
        budget: u64,
        done: &dyn Fn(&InProc) -> bool,
    ) -> Result<(), String> {
        let end = self.m.cpu.regs.icount + budget;
        loop {
            if done(self) {
                return Ok(());
            }
            let now = self.m.cpu.regs.icount;
            if now >= end {
                return Err(
                    self.report(&format!("{what}: not reached within {budget} instructions"))
                );
            }
            let exit = self.m.run(&Limits {
                max_instructions: Some((now + self.step).min(end)),
                ..Limits::default()
            });
            if !matches!(exit, Exit::InstructionLimit(_)) && !done(self) {
                return Err(self.report(&format!("{what}: machine stopped: {}", exit.describe())));
            }
        }
    }

    fn report(&self, what: &str) -> String {
        let serial = self.serial();
        let tail: String = serial
            .chars()
            .rev()
            .take(2000)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        format!(
            "{what}\n--- serial (tail) ---\n{tail}\n--- screen ---\n{}",
            self.screen()
        )
    }
}

/// Scancodes (set 1) typed one key event at a time, with time for the
/// guest to take each byte from the keyboard controller.
fn type_scancodes(p: &mut InProc, codes: &[&[u8]]) -> Result<(), String> {
    for &event in codes {
        if !p.m.pc.kbc.push_scancodes(event) {
            return Err(format!("keyboard refused {event:02X?}"));
        }
        let target = p.m.cpu.regs.icount + 2_000_000;
        p.m.run(&Limits {
            max_instructions: Some(target),
            ..Limits::default()
        });
    }
    Ok(())
}

/// IRQ 1 translation into the BDA buffer and the blocking INT 16h AH=10h
/// read (the guest sleeps in the ROM until a key comes); the POST banner.
fn keyboard_and_screen() -> Result<(), Failed> {
    let img = floppy_image("keytest", &["KEYTEST"])?;
    let mut p = InProc::new(Some(&img), None, BootOrder::FloppyFirst, 16)?;
    // Catch the screen at the boot message, before the program scrolls it.
    p.step = 20;
    p.run_until("boot message", 500_000_000, &|p| {
        p.screen().contains("Booting from floppy...")
    })?;
    p.step = 4_000_000;
    let screen = p.screen();
    let mut rows = screen.lines();
    if !rows
        .next()
        .unwrap_or("")
        .starts_with("btvm BIOS - 16 MiB RAM")
        || rows.next() != Some("Booting from floppy...")
    {
        return Err(p
            .report("POST banner and boot message missing on the first screen rows")
            .into());
    }
    p.run_until("READY", 500_000_000, &|p| p.serial().contains("READY"))?;
    // The guest waits in INT 16h: the CPU must sleep between timer ticks,
    // not spin (a few dozen instructions per tick for IRQ 0 and the retry).
    let (before, t0) = (p.m.cpu.regs.icount, p.m.pc.clock.now(p.m.cpu.regs.icount));
    while p.m.pc.clock.now(p.m.cpu.regs.icount).0 < t0.0 + 500_000_000 {
        let at = p.m.cpu.regs.icount;
        p.m.run(&Limits {
            max_instructions: Some(at + 100),
            ..Limits::default()
        });
    }
    let spent = p.m.cpu.regs.icount - before;
    if spent > 20_000 {
        return Err(p
            .report(&format!(
                "INT 16h AH=10h busy-waits: {spent} instructions in 0.5 s of guest time"
            ))
            .into());
    }
    let keys: &[&[u8]] = &[
        &[0x1E, 0x9E],                         // a
        &[0x2A, 0x30, 0xB0, 0xAA],             // Shift+b
        &[0x3B, 0xBB],                         // F1
        &[0xE0, 0x48, 0xE0, 0xC8],             // Up (grey)
        &[0x1D, 0x2E, 0xAE, 0x9D],             // Ctrl+c
        &[0x38, 0x2D, 0xAD, 0xB8],             // Alt+x
        &[0x3A, 0xBA, 0x1E, 0x9E],             // Caps Lock on, a
        &[0x3A, 0xBA],                         // Caps Lock off
        &[0xE0, 0x1C, 0xE0, 0x9C],             // keypad Enter
        &[0x38, 0x4F, 0xCF, 0x47, 0xC7, 0xB8], // Alt + keypad 1 7: chr(17)
        &[0x10, 0x90],                         // q
    ];
    type_scancodes(&mut p, keys)?;
    p.run_until("PASS", 100_000_000, &|p| p.serial().contains("PASS"))?;
    let want = "1E61 3042 3B00 48E0 2E03 2D00 1E41 E00D 0011 1071";
    if !p.serial().contains(want) {
        return Err(p.report(&format!("keystrokes: expected {want:?}")).into());
    }
    Ok(())
}

// ---- real guests -------------------------------------------------------------------

fn guest(rel: &str) -> Result<PathBuf, Failed> {
    Ok(shared()
        .ok_or("../shared not present")?
        .join("guests")
        .join(rel))
}

/// FreeDOS from its minimal floppy to the VGA prompt `A:\>`.
fn freedos_minimal_vga() -> Result<(), Failed> {
    let img = guest("freedos-minimal/freedos-minimal.img")?;
    let mut p = InProc::new(Some(&img), None, BootOrder::FloppyFirst, 4)?;
    p.run_until("VGA A:\\>", 3_000_000_000, &|p| {
        p.screen().contains("A:\\>")
    })?;
    Ok(())
}

/// FreeDOS with `CTTY COM1`: the prompt on serial (INT 14h), then `ver`
/// typed over the serial line.
fn freedos_com1_ver() -> Result<(), Failed> {
    let img = guest("freedos-floppy/freedos-com1.img")?;
    let mut p = InProc::new(Some(&img), None, BootOrder::FloppyFirst, 16)?;
    let (tx, rx) = crossbeam::channel::unbounded();
    p.m.set_input(rx);
    p.run_until("serial A:\\>", 3_000_000_000, &|p| {
        p.serial().contains("A:\\>")
    })?;
    tx.send(HostInput::Serial(b"ver\r".to_vec()))
        .map_err(|e| e.to_string())?;
    p.run_until("FreeCom version", 1_000_000_000, &|p| {
        p.serial().contains("FreeCom version 0.82 pl 3")
    })?;
    Ok(())
}

/// The same floppy through the btvm binary: serial `A:\>`.
fn freedos_com1_binary() -> Result<(), Failed> {
    let img = guest("freedos-floppy/freedos-com1.img")?;
    let b = run(&["--floppy".into(), path_arg(&img)], Some("A:\\>"));
    if !b.found {
        return Err(b.report("serial A:\\> not reached").into());
    }
    eprintln!("freedos-com1: prompt after {:.1} s", b.wall.as_secs_f64());
    Ok(())
}

/// FreeDOS from the IDE disk (EDD reads): the banner it sends to COM1.
fn freedos_hd_binary() -> Result<(), Failed> {
    let img = guest("freedos-hd/freedos-hd.img")?;
    let b = run(
        &["--disk".into(), path_arg(&img), "--boot".into(), "c".into()],
        Some("BTVM-FREEDOS-HD-BOOT-OK"),
    );
    if !b.found {
        return Err(b
            .report("serial BTVM-FREEDOS-HD-BOOT-OK not reached")
            .into());
    }
    eprintln!("freedos-hd: marker after {:.1} s", b.wall.as_secs_f64());
    Ok(())
}

/// Linux 0.11 from its boot floppy with the root file system on the IDE
/// disk (the kernel reads the INT 41h table, then drives the ATA itself):
/// the shell prompt on the VGA.
fn linux_0_11_vga() -> Result<(), Failed> {
    let floppy = guest("linux-0.11/linux011-qemu-Image.fd1440.img")?;
    let disk = guest("linux-0.11/rootfs-0.11-hd.img")?;
    let mut p = InProc::new(Some(&floppy), Some(&disk), BootOrder::FloppyFirst, 16)?;
    p.run_until("VGA [/usr/root]#", 3_000_000_000, &|p| {
        p.screen().contains("[/usr/root]#")
    })?;
    Ok(())
}

/// Linux 2.4 from its boot floppy: the boot sector loads the kernel with
/// INT 13h, the kernel then reads its compressed ramdisk through the floppy
/// controller and DMA. The BusyBox console prompt on the VGA.
fn linux_2_4_floppy_vga() -> Result<(), Failed> {
    let floppy = guest("linux-2.4-boote/boote-2.4.20.img")?;
    let mut p = InProc::new(Some(&floppy), None, BootOrder::FloppyFirst, 32)?;
    p.run_until("VGA activate this console", 3_000_000_000, &|p| {
        p.screen()
            .contains("Please press Enter to activate this console.")
    })?;
    Ok(())
}

/// A test body.
type TestFn = fn() -> Result<(), Failed>;

fn main() {
    let args = Arguments::from_args();
    let have_shared = shared().is_some();
    let mut trials = vec![
        Trial::test("boot-sector-floppy", boot_sector_floppy),
        Trial::test("boot-sector-hard-disk", boot_sector_hard_disk),
        Trial::test("boot-order", boot_order),
        Trial::test("no-bootable-device", no_bootable_device),
        Trial::test("keyboard-and-screen", keyboard_and_screen),
    ];
    let guests: [(&str, TestFn); 6] = [
        ("linux-0.11-vga", linux_0_11_vga),
        ("linux-2.4-boote-floppy-vga", linux_2_4_floppy_vga),
        ("freedos-minimal-vga", freedos_minimal_vga),
        ("freedos-com1-binary", freedos_com1_binary),
        ("freedos-com1-ver", freedos_com1_ver),
        ("freedos-hd-binary", freedos_hd_binary),
    ];
    for (name, f) in guests {
        let (name, ignored) = if have_shared {
            (name.to_string(), false)
        } else {
            (format!("{name} (skipped: ../shared not present)"), true)
        };
        trials.push(Trial::test(name, f).with_ignored_flag(ignored));
    }
    let conclusion = libtest_mimic::run(&args, trials);
    let _ = std::fs::remove_dir_all(scratch());
    conclusion.exit();
}
