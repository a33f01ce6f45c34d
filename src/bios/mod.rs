//! Built-in firmware: the demo ROM, and the built-in BIOS that boots floppy
//! and hard-disk images (both assembled from NASM sources by build.rs).
//!
//! The BIOS is a 64 KiB ROM of entry stubs ([`BIOS_ROM`], src/bios/rom.asm)
//! plus Rust services ([`Bios`]). Each stub hands over with
//! `out 0xE5, al` (the PC's `PORT_BIOS_TRAP`); the machine then calls
//! [`Bios::service`], which finds the service from CS:IP (the ROM header
//! lists the IP after each stub's OUT), reads and writes the guest's
//! registers and memory, and lets the stub continue (normally with IRET;
//! CF/ZF results go into the IRET frame's FLAGS). Services that must wait
//! (INT 16h read, INT 14h receive, INT 15h AH=86h) send the guest to a
//! `sti; hlt; cli` loop in the ROM that asks again after each interrupt,
//! so the machine sleeps instead of spinning.
//!
//! Services (see each module): POST and INT 18h/19h ([`post`]), INT 10h
//! ([`video`]), INT 13h ([`disk`]), INT 16h and IRQ 1 ([`keyboard`]),
//! INT 11h/12h/14h/15h/17h/1Ah ([`services`]). IRQ 0 (tick count and INT
//! 1Ch) and the default handlers are plain ROM code. Any other vector
//! points at an IRET; unknown functions of a service return with CF set
//! (INT 15h: AH=86h) or with the registers unchanged. Guest input never
//! panics the BIOS: bad pointers read all-ones, bad sectors are status
//! codes.

pub mod bda;
pub mod call;
pub mod disk;
pub mod keyboard;
pub mod post;
pub mod rom;
pub mod scancodes;
pub mod services;
pub mod video;

use btvm_jit::abi::sreg;

use crate::cpu::Cpu;
use crate::machine::pc::Pc;
use crate::machine::BootOrder;
use crate::memory::GuestMemory;
use call::Call;
pub use rom::BIOS_ROM;
use rom::{RomMap, Trap, ROM_BASE};
use services::Waits;

/// The demo ROM (src/bios/demo.asm): prints a banner, sieves primes, prints
/// the CPUID vendor and exits through the debug-exit port with value 0.
pub static DEMO_ROM: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/demo.bin"));

/// What the BIOS needs to know about the machine beyond its devices.
#[derive(Clone, Copy, Debug)]
pub struct BiosConfig {
    /// Which disk INT 19h tries first.
    pub boot: BootOrder,
    /// Guest RAM in bytes (INT 15h memory sizes, E820, the banner).
    pub memory_bytes: u32,
}

/// The built-in BIOS's Rust half: the services behind the ROM's traps.
#[derive(Clone, Debug)]
pub struct Bios {
    cfg: BiosConfig,
    rom: RomMap,
    waits: Waits,
}

impl Bios {
    /// The services for [`BIOS_ROM`], which the machine maps as its ROM.
    pub fn new(cfg: BiosConfig) -> Self {
        Bios {
            cfg,
            rom: RomMap::parse(BIOS_ROM),
            waits: Waits::default(),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &BiosConfig {
        &self.cfg
    }

    /// Run the service of the trap the CPU just executed (the run loop
    /// calls this when the guest wrote to the BIOS trap port). A write to
    /// the port from anywhere but a ROM stub, or outside real and
    /// virtual-8086 mode, is ignored.
    pub fn service(&mut self, cpu: &mut Cpu, mem: &mut GuestMemory, pc: &mut Pc) {
        if !cpu.real_addressing()
            || cpu.regs.seg[sreg::CS].base != ROM_BASE
            || cpu.regs.eip > 0xFFFF
        {
            return;
        }
        let Some(trap) = self.rom.trap_at(cpu.regs.eip as u16) else {
            return;
        };
        let c = &mut Call { cpu, mem, pc };
        let rom = &self.rom;
        match trap {
            Trap::Post => post::post(c, rom, &self.cfg),
            Trap::Int10 => video::int10(c, rom),
            Trap::Int11 => services::int11(c),
            Trap::Int12 => services::int12(c),
            Trap::Int13 => disk::int13(c, rom),
            Trap::Int14 => services::int14(c, rom, &mut self.waits, false),
            Trap::Int14Retry => services::int14(c, rom, &mut self.waits, true),
            Trap::Int15 => services::int15(c, rom, &mut self.waits, self.cfg.memory_bytes, false),
            Trap::Int15Retry => {
                services::int15(c, rom, &mut self.waits, self.cfg.memory_bytes, true)
            }
            Trap::Int16 => keyboard::int16(c, rom),
            Trap::Int17 => services::int17(c),
            Trap::Int18 => post::no_boot_device(c),
            Trap::Int19 => post::boot(c, rom, &self.cfg),
            Trap::Int1A => services::int1a(c),
            Trap::Irq1 => keyboard::irq1(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use btvm_devices::{FloppyMedia, MemDisk};
    use btvm_jit::abi::gpr;

    use super::rom::ROM_SEGMENT;
    use super::*;
    use crate::machine::clock::{Clock, ClockKind};
    use crate::machine::pc::ConsoleOut;

    /// xorshift64*: deterministic garbage.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }
    }

    fn machine() -> (Cpu, GuestMemory, Pc) {
        let mut mem = GuestMemory::new(2).unwrap();
        mem.load_rom(BIOS_ROM).unwrap();
        let clock = Clock::new(ClockKind::Virtual { mips: 100 });
        let mut pc = Pc::new(clock, ConsoleOut::new(Box::new(std::io::sink())), 0);
        let floppy = FloppyMedia::new(Box::new(MemDisk::new(2880))).unwrap();
        pc.fdc.insert_media(0, floppy);
        pc.attach_hard_disk(Box::new(MemDisk::new(4 * 16 * 63)));
        (Cpu::new(), mem, pc)
    }

    /// Every service survives random registers over random memory (a
    /// garbage BDA, wild pointers, absurd sector numbers and counts).
    #[test]
    fn services_never_panic_on_garbage() {
        let (mut cpu, mut mem, mut pc) = machine();
        let mut bios = Bios::new(BiosConfig {
            boot: BootOrder::FloppyFirst,
            memory_bytes: mem.ram_size(),
        });
        let mut rng = Rng(0x0123_4567_89AB_CDEF);
        let mut junk = vec![0u8; 0xA_0000];
        for round in 0..6 {
            if round % 2 == 1 {
                junk.iter_mut().for_each(|b| *b = rng.next() as u8);
                mem.write_phys(0, &junk);
            }
            for trap in Trap::ALL {
                for _ in 0..300 {
                    for r in 0..8 {
                        cpu.regs.gpr[r] = rng.next() as u32;
                    }
                    for s in [sreg::DS, sreg::ES, sreg::SS] {
                        cpu.load_seg_real(s, rng.next() as u16);
                    }
                    cpu.load_seg_real(sreg::CS, ROM_SEGMENT);
                    cpu.regs.eip = u32::from(bios.rom.trap_ip(trap));
                    bios.service(&mut cpu, &mut mem, &mut pc);
                }
            }
        }
    }

    /// A write to the trap port from anywhere but a stub does nothing.
    #[test]
    fn stray_trap_writes_are_ignored() {
        let (mut cpu, mut mem, mut pc) = machine();
        let mut bios = Bios::new(BiosConfig {
            boot: BootOrder::FloppyFirst,
            memory_bytes: mem.ram_size(),
        });
        cpu.load_seg_real(sreg::CS, 0x1000);
        cpu.regs.eip = u32::from(bios.rom.trap_ip(Trap::Int11));
        cpu.regs.gpr[gpr::EAX] = 0xDEAD;
        bios.service(&mut cpu, &mut mem, &mut pc);
        assert_eq!(cpu.regs.gpr[gpr::EAX], 0xDEAD);
        cpu.load_seg_real(sreg::CS, ROM_SEGMENT);
        cpu.regs.eip = 0x1234;
        bios.service(&mut cpu, &mut mem, &mut pc);
        assert_eq!(cpu.regs.gpr[gpr::EAX], 0xDEAD);
    }
}
