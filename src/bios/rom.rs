//! The built-in BIOS ROM image (src/bios/rom.asm, assembled by build.rs)
//! and the map Rust needs of it: where each trap stub hands over
//! ([`Trap`]) and where the entry points and tables are ([`Sym`]).
//!
//! The ROM starts with a header that lists both, so the Rust side never
//! hard-codes an offset: `"BTVMBIOS"`, the number of traps (word), the
//! number of symbols (word), then one word per trap (the IP right after its
//! `out 0xE5, al`) and one word per symbol (its offset in segment F000),
//! in the order of [`Trap::ALL`] and [`Sym::ALL`].

/// The BIOS ROM image (64 KiB, mapped at 0xF0000 and below 4 GiB).
pub static BIOS_ROM: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/bios.bin"));

/// The ROM's real-mode segment.
pub const ROM_SEGMENT: u16 = 0xF000;
/// Physical address of the ROM's first byte.
pub const ROM_BASE: u32 = 0xF_0000;

const MAGIC: &[u8; 8] = b"BTVMBIOS";
const HEADER_TABLES: usize = 12;

/// A hand-over point: the service the machine runs when the guest executes
/// that stub's `out 0xE5, al`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trap {
    /// Power-on self test.
    Post,
    /// INT 10h video.
    Int10,
    /// INT 11h equipment list.
    Int11,
    /// INT 12h memory size.
    Int12,
    /// INT 13h disk.
    Int13,
    /// INT 14h serial.
    Int14,
    /// INT 14h AH=02h again after a wait for a received byte.
    Int14Retry,
    /// INT 15h system services.
    Int15,
    /// INT 15h AH=86h again after a wait.
    Int15Retry,
    /// INT 16h keyboard.
    Int16,
    /// INT 17h printer.
    Int17,
    /// INT 18h: no bootable device.
    Int18,
    /// INT 19h bootstrap loader.
    Int19,
    /// INT 1Ah time of day.
    Int1A,
    /// IRQ 1: one scancode in AL.
    Irq1,
}

impl Trap {
    /// Every trap, in the order of the ROM's trap table.
    pub const ALL: [Trap; 15] = [
        Trap::Post,
        Trap::Int10,
        Trap::Int11,
        Trap::Int12,
        Trap::Int13,
        Trap::Int14,
        Trap::Int14Retry,
        Trap::Int15,
        Trap::Int15Retry,
        Trap::Int16,
        Trap::Int17,
        Trap::Int18,
        Trap::Int19,
        Trap::Int1A,
        Trap::Irq1,
    ];
}

/// An entry point or table in the ROM.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sym {
    /// A bare IRET: the default handler of every vector.
    Iret,
    /// Unclaimed IRQ 2-7: EOI to the master PIC.
    HwMasterDefault,
    /// Unclaimed IRQ 8-15: EOI to both PICs.
    HwSlaveDefault,
    /// IRQ 0 (INT 08h): the tick count.
    Irq0,
    /// IRQ 1 (INT 09h): the keyboard.
    Irq1,
    /// IRQ 6 (INT 0Eh): diskette interrupt flag.
    Irq6,
    /// IRQ 13 (INT 75h): FPU error.
    Irq13,
    /// INT 10h.
    Int10,
    /// INT 11h.
    Int11,
    /// INT 12h.
    Int12,
    /// INT 13h.
    Int13,
    /// INT 14h.
    Int14,
    /// INT 15h.
    Int15,
    /// INT 16h.
    Int16,
    /// INT 17h.
    Int17,
    /// INT 18h.
    Int18,
    /// INT 19h.
    Int19,
    /// INT 1Ah.
    Int1A,
    /// INT 14h receive: sleep one interrupt, then retry.
    Int14Wait,
    /// INT 15h AH=86h: sleep one interrupt, then retry.
    Int15Wait,
    /// INT 16h read: sleep one interrupt, then ask again.
    Int16Wait,
    /// Diskette parameter table, 360K.
    Dpt360,
    /// Diskette parameter table, 1.2M.
    Dpt1200,
    /// Diskette parameter table, 720K.
    Dpt720,
    /// Diskette parameter table, 1.44M.
    Dpt1440,
    /// Diskette parameter table, 2.88M.
    Dpt2880,
    /// INT 15h AH=C0h configuration table.
    ConfigTable,
    /// 4 KiB of zeros standing in for the fonts.
    BlankFont,
    /// INT 1Dh video parameter table (zeros).
    VideoParams,
    /// INT 05h print screen.
    PrintScreen,
}

impl Sym {
    /// Every symbol, in the order of the ROM's symbol table.
    pub const ALL: [Sym; 30] = [
        Sym::Iret,
        Sym::HwMasterDefault,
        Sym::HwSlaveDefault,
        Sym::Irq0,
        Sym::Irq1,
        Sym::Irq6,
        Sym::Irq13,
        Sym::Int10,
        Sym::Int11,
        Sym::Int12,
        Sym::Int13,
        Sym::Int14,
        Sym::Int15,
        Sym::Int16,
        Sym::Int17,
        Sym::Int18,
        Sym::Int19,
        Sym::Int1A,
        Sym::Int14Wait,
        Sym::Int15Wait,
        Sym::Int16Wait,
        Sym::Dpt360,
        Sym::Dpt1200,
        Sym::Dpt720,
        Sym::Dpt1440,
        Sym::Dpt2880,
        Sym::ConfigTable,
        Sym::BlankFont,
        Sym::VideoParams,
        Sym::PrintScreen,
    ];
}

/// The offsets read from the ROM header.
#[derive(Clone, Debug)]
pub struct RomMap {
    traps: Vec<u16>,
    syms: Vec<u16>,
}

impl RomMap {
    /// Read the header of `rom`. A header that does not match the enums
    /// here (a build mistake, caught by the unit tests) gives offsets of 0
    /// for the missing entries, never a panic.
    pub fn parse(rom: &[u8]) -> Self {
        let word = |off: usize| {
            rom.get(off..off + 2)
                .map_or(0, |b| u16::from_le_bytes([b[0], b[1]]))
        };
        let ok = rom.get(..MAGIC.len()) == Some(&MAGIC[..]);
        let ntraps = if ok { usize::from(word(8)) } else { 0 };
        let nsyms = if ok { usize::from(word(10)) } else { 0 };
        let traps = (0..Trap::ALL.len())
            .map(|i| {
                if i < ntraps {
                    word(HEADER_TABLES + 2 * i)
                } else {
                    0
                }
            })
            .collect();
        let sym_base = HEADER_TABLES + 2 * ntraps;
        let syms = (0..Sym::ALL.len())
            .map(|i| if i < nsyms { word(sym_base + 2 * i) } else { 0 })
            .collect();
        RomMap { traps, syms }
    }

    /// The trap whose stub hands over with IP = `ip`.
    pub fn trap_at(&self, ip: u16) -> Option<Trap> {
        self.traps
            .iter()
            .position(|&t| t == ip && t != 0)
            .map(|i| Trap::ALL[i])
    }

    /// Offset of `sym` in segment F000.
    pub fn sym(&self, sym: Sym) -> u16 {
        let i = Sym::ALL.iter().position(|&s| s == sym).unwrap_or(0);
        self.syms.get(i).copied().unwrap_or(0)
    }

    /// The IP a trap's stub hands over with.
    pub fn trap_ip(&self, trap: Trap) -> u16 {
        let i = Trap::ALL.iter().position(|&t| t == trap).unwrap_or(0);
        self.traps.get(i).copied().unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_matches_the_enums() {
        assert_eq!(BIOS_ROM.len(), 0x10000);
        assert_eq!(&BIOS_ROM[..8], MAGIC);
        assert_eq!(
            usize::from(u16::from_le_bytes([BIOS_ROM[8], BIOS_ROM[9]])),
            Trap::ALL.len()
        );
        assert_eq!(
            usize::from(u16::from_le_bytes([BIOS_ROM[10], BIOS_ROM[11]])),
            Sym::ALL.len()
        );
    }

    #[test]
    fn every_trap_follows_an_out_to_the_trap_port() {
        let map = RomMap::parse(BIOS_ROM);
        let mut seen = Vec::new();
        for t in Trap::ALL {
            let ip = usize::from(map.trap_ip(t));
            assert!(ip >= 2, "{t:?}");
            assert_eq!(&BIOS_ROM[ip - 2..ip], &[0xE6, 0xE5], "{t:?}: out 0xE5, al");
            assert!(!seen.contains(&ip), "{t:?} shares an address");
            seen.push(ip);
            assert_eq!(map.trap_at(ip as u16), Some(t));
        }
        assert_eq!(map.trap_at(0x1234), None);
    }

    #[test]
    fn fixed_addresses_and_reset_vector() {
        let map = RomMap::parse(BIOS_ROM);
        assert_eq!(BIOS_ROM[0xFFF0], 0xEA, "far jump at the reset vector");
        assert_eq!(BIOS_ROM[0xFFFE], 0xFC, "AT model byte");
        assert_eq!(map.sym(Sym::Dpt1440), 0xEFC7);
        assert_eq!(map.sym(Sym::ConfigTable), 0xE6F5);
        assert_eq!(map.sym(Sym::Iret), 0xFF53);
        assert_eq!(BIOS_ROM[0xFF53], 0xCF, "IRET");
        assert_eq!(
            BIOS_ROM[usize::from(map.sym(Sym::Dpt1440)) + 4],
            18,
            "1.44M: 18 sectors per track"
        );
        for s in Sym::ALL {
            assert_ne!(map.sym(s), 0, "{s:?}");
        }
    }

    #[test]
    fn a_bad_header_gives_no_traps() {
        let map = RomMap::parse(&[0u8; 16]);
        assert_eq!(map.trap_at(0), None);
        assert_eq!(map.sym(Sym::Int10), 0);
    }
}
