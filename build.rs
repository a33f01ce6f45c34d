//! Assembles btvm's built-in firmware with NASM: the demo ROM that
//! `btvm run` boots when no guest is given, and the built-in BIOS ROM that
//! boots floppy and hard-disk images.

use std::path::PathBuf;
use std::process::Command;

/// (source, output file in OUT_DIR)
const ROMS: [(&str, &str); 2] = [
    ("src/bios/demo.asm", "demo.bin"),
    ("src/bios/rom.asm", "bios.bin"),
];

fn main() {
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").unwrap());
    for (src, name) in ROMS {
        let out = out_dir.join(name);
        println!("cargo:rerun-if-changed={src}");
        let status = Command::new("nasm")
            .args(["-f", "bin", src, "-o"])
            .arg(&out)
            .status();
        match status {
            Ok(s) if s.success() => {}
            Ok(s) => panic!("nasm failed on {src} ({s})"),
            Err(e) => panic!("btvm's firmware is assembled with nasm, which could not be run ({e}): apt-get install -y nasm"),
        }
    }
}
