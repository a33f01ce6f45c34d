//! Assembles btvm's built-in firmware with NASM: the demo ROM that
//! `btvm run` boots when no guest is given.

use std::path::PathBuf;
use std::process::Command;

fn main() {
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap()).join("demo.bin");
    let src = "src/bios/demo.asm";
    println!("cargo:rerun-if-changed={src}");
    let status = Command::new("nasm").args(["-f", "bin", src, "-o"]).arg(&out).status();
    match status {
        Ok(s) if s.success() => {}
        Ok(s) => panic!("nasm failed on {src} ({s})"),
        Err(e) => panic!("btvm's firmware is assembled with nasm, which could not be run ({e}): apt-get install -y nasm"),
    }
}
