//! The benchmark rows: one NASM ROM each (test-roms/bench), compiled into
//! the binary so `btvm bench` works from any directory, with the iteration
//! count that makes one interpreter run take roughly half a second.

/// One microbenchmark.
#[derive(Clone, Copy, Debug)]
pub struct Row {
    /// Row name (`--rows`), also the ROM's file stem.
    pub name: &'static str,
    /// What the kernel loop does, for `--list`-style output and the README.
    pub what: &'static str,
    /// The NASM source.
    pub source: &'static str,
    /// Default iteration count N (this table, not the ROM's own default,
    /// is what `btvm bench` uses).
    pub iters: u64,
}

/// The shared include every benchmark ROM uses (`%include "bench.inc"`).
pub const INCLUDE_NAME: &str = "bench.inc";
/// Its source.
pub const INCLUDE_SOURCE: &str = include_str!("../../test-roms/bench/include/bench.inc");

macro_rules! row {
    ($name:literal, $iters:expr, $what:literal) => {
        Row {
            name: $name,
            what: $what,
            source: include_str!(concat!("../../test-roms/bench/", $name, ".asm")),
            iters: $iters,
        }
    };
}

/// Every row, in table order.
pub const ROWS: &[Row] = &[
    row!(
        "alu",
        1_500_000,
        "16 register ALU instructions and a branch"
    ),
    row!("memcpy", 3_000, "copy 4 KiB with a mov load/store loop"),
    row!("repmovs", 30_000, "copy 4 KiB with rep movsd"),
    row!(
        "branchy",
        1_500_000,
        "three branches on the bits of an LFSR"
    ),
    row!("callret", 1_500_000, "4 near call/ret pairs, nested 2 deep"),
    row!(
        "syscall",
        1_000_000,
        "int 0x80 from ring 3 to ring 0 and iretd"
    ),
    row!("portio", 1_000_000, "4 x (in al, 0x61; out 0x80, al)"),
    row!(
        "pagefault",
        150_000,
        "#PF on a not-present page, mapped by the handler"
    ),
    row!("pte", 250_000, "rewrite a PTE, invlpg, read through it"),
    row!(
        "cr3",
        100_000,
        "reload CR3 and refill the TLB for two pages"
    ),
    row!(
        "smc",
        1_500_000,
        "store into an instruction's immediate, then run it"
    ),
    row!(
        "divzero",
        500_000,
        "div by zero, #DE handler skips it, iretd"
    ),
];

/// The `linux-boot` row: not a ROM but the bundled Linux booted to its
/// marker once ([`super::linux`]); one "iteration" is one boot.
pub const LINUX_BOOT: Row = Row {
    name: super::linux::ROW,
    what: "boot the bundled Linux to BTVM-GUEST-READY",
    source: "",
    iters: 1,
};

impl Row {
    /// Whether this is the Linux boot row rather than a ROM.
    pub fn is_linux_boot(&self) -> bool {
        self.name == LINUX_BOOT.name
    }
}

/// Look a row up by name.
pub fn find(name: &str) -> Option<&'static Row> {
    ROWS.iter()
        .chain(std::iter::once(&LINUX_BOOT))
        .find(|r| r.name == name)
}

/// The row names, comma-separated (for messages).
pub fn names() -> String {
    ROWS.iter()
        .chain(std::iter::once(&LINUX_BOOT))
        .map(|r| r.name)
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bench_rom_has_a_row() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/test-roms/bench");
        let mut stems: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "asm"))
            .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
            .collect();
        stems.sort();
        let mut rows: Vec<String> = ROWS.iter().map(|r| r.name.to_string()).collect();
        rows.sort();
        assert_eq!(stems, rows);
    }
}
