//! POST and bootstrap: INT 19h (boot) and INT 18h (no bootable device).
//!
//! POST (called once from the ROM's reset path, SS:SP = 0000:7C00):
//! 1. the IVT: every vector at the ROM's IRET, then the BIOS's handlers,
//!    the diskette parameter table (INT 1Eh), the fixed-disk parameter
//!    tables (INT 41h/46h, in the EBDA), the blank font (INT 1Fh/43h);
//! 2. the BDA (equipment, 639 KiB with a 1 KiB EBDA at 9FC00h, COM1/COM2,
//!    keyboard buffer, disk count, timeouts, tick count from the RTC) and
//!    the EBDA;
//! 3. the PICs at vectors 08h/70h with IRQ 0, 1, 2 and 6 unmasked, PIT
//!    counter 0 in mode 3 with divisor 0 (18.2 Hz), the A20 gate closed;
//! 4. VGA mode 3, cleared, with a one-line banner.
//!
//! INT 19h tries the drives in the configured order (floppy A: and the
//! hard disk), loads sector 0 to 0000:7C00 (a hard disk's must end in
//! 55AAh) and jumps there with DL = the drive, DS = ES = SS = 0,
//! SP = 7C00h and interrupts enabled.

use btvm_devices::cmos::{REG_HOURS, REG_MINUTES, REG_SECONDS};
use btvm_jit::abi::{gpr, sreg};
use btvm_jit::flags::{FLAG_FIXED1, FLAG_IF};

use super::bda;
use super::call::{Call, BDA};
use super::disk::{self, FIRST_HARD_DISK};
use super::keyboard::F3_ENHANCED;
use super::rom::{RomMap, Sym, ROM_SEGMENT};
use super::services::{set_a20, ticks_for_time};
use super::video;
use super::BiosConfig;
use crate::machine::pc::{
    PORT_COM1, PORT_COM2, PORT_DEBUG_CONSOLE, PORT_PIC_MASTER, PORT_PIC_SLAVE, PORT_PIT,
};
use crate::machine::BootOrder;

/// Where boot sectors are loaded.
const BOOT_ADDR: u16 = 0x7C00;
/// Master PIC mask: IRQ 0 (timer), 1 (keyboard), 2 (cascade), 6 (diskette) open.
const PIC_MASTER_MASK: u8 = 0xB8;
/// Slave PIC mask: all closed.
const PIC_SLAVE_MASK: u8 = 0xFF;

fn set_vector(c: &mut Call, vector: u8, seg: u16, off: u16) {
    let a = u32::from(vector) * 4;
    c.write16(a, off);
    c.write16(a + 2, seg);
}

fn rom_vector(c: &mut Call, rom: &RomMap, vector: u8, sym: Sym) {
    set_vector(c, vector, ROM_SEGMENT, rom.sym(sym));
}

fn ivt(c: &mut Call, rom: &RomMap) {
    for v in 0..=255u8 {
        rom_vector(c, rom, v, Sym::Iret);
    }
    for v in 0x0A..=0x0F {
        rom_vector(c, rom, v, Sym::HwMasterDefault);
    }
    for v in 0x70..=0x77 {
        rom_vector(c, rom, v, Sym::HwSlaveDefault);
    }
    let handlers = [
        (0x05, Sym::PrintScreen),
        (0x08, Sym::Irq0),
        (0x09, Sym::Irq1),
        (0x0E, Sym::Irq6),
        (0x10, Sym::Int10),
        (0x11, Sym::Int11),
        (0x12, Sym::Int12),
        (0x13, Sym::Int13),
        (0x14, Sym::Int14),
        (0x15, Sym::Int15),
        (0x16, Sym::Int16),
        (0x17, Sym::Int17),
        (0x18, Sym::Int18),
        (0x19, Sym::Int19),
        (0x1A, Sym::Int1A),
        (0x1D, Sym::VideoParams),
        (0x1F, Sym::BlankFont),
        (0x40, Sym::Int13),
        (0x43, Sym::BlankFont),
        (0x75, Sym::Irq13),
    ];
    for (v, sym) in handlers {
        rom_vector(c, rom, v, sym);
    }
    let a_geometry = c.pc.fdc.media_mut(0).map(|m| m.geometry());
    let dpt = disk::dpt_for(rom, a_geometry);
    set_vector(c, 0x1E, ROM_SEGMENT, dpt);
    set_vector(c, 0x41, bda::EBDA_SEG, bda::EBDA_FDPT0 as u16);
    set_vector(c, 0x46, bda::EBDA_SEG, bda::EBDA_FDPT1 as u16);
}

fn data_areas(c: &mut Call) {
    c.write_block(BDA, &[0; 0x100]);
    c.write_block(bda::EBDA_ADDR, &[0; 0x400]);
    c.write8(bda::EBDA_ADDR + bda::EBDA_SIZE_KB, 1);
    let g = c.pc.ata.master_geometry();
    c.write_block(bda::EBDA_ADDR + bda::EBDA_FDPT0, &disk::fdpt(g));
    c.write_block(bda::EBDA_ADDR + bda::EBDA_FDPT1, &disk::fdpt(None));

    c.set_bda16(bda::COM_PORTS, PORT_COM1);
    c.set_bda16(bda::COM_PORTS + 2, PORT_COM2);
    c.set_bda16(bda::EBDA_SEGMENT, bda::EBDA_SEG);
    let floppies = disk::floppy_count(c);
    // Bit 0 diskettes, 1 coprocessor, 4-5 = 10b 80x25 colour, 6-7 diskettes
    // less one, 9-11 serial ports.
    let mut equipment: u16 = 0x0002 | 0x0020 | 2 << 9;
    if floppies > 0 {
        equipment |= 1 | u16::from(floppies - 1) << 6;
    }
    c.set_bda16(bda::EQUIPMENT, equipment);
    c.set_bda16(bda::MEMORY_KB, bda::BASE_MEMORY_KB);
    c.set_bda16(bda::KBD_HEAD, bda::KBD_BUFFER);
    c.set_bda16(bda::KBD_TAIL, bda::KBD_BUFFER);
    c.set_bda16(bda::KBD_START, bda::KBD_BUFFER);
    c.set_bda16(bda::KBD_END, bda::KBD_BUFFER + 32);
    c.set_bda8(bda::KBD_FLAGS3, F3_ENHANCED);
    let disks = disk::hard_disk_count(c);
    c.set_bda8(bda::DISK_COUNT, disks);
    for i in 0..4 {
        c.set_bda8(bda::LPT_TIMEOUTS + i, 0x14);
        c.set_bda8(bda::COM_TIMEOUTS + i, 0x0A);
    }
    let (h, m, s) = (
        c.cmos_read(REG_HOURS),
        c.cmos_read(REG_MINUTES),
        c.cmos_read(REG_SECONDS),
    );
    c.set_bda32(bda::TICKS, ticks_for_time(h, m, s));
}

fn hardware(c: &mut Call) {
    // ICW1 (edge, cascade, ICW4), ICW2 vector base, ICW3 wiring, ICW4 8086.
    for (port, base, wiring, mask) in [
        (PORT_PIC_MASTER, 0x08, 0x04, PIC_MASTER_MASK),
        (PORT_PIC_SLAVE, 0x70, 0x02, PIC_SLAVE_MASK),
    ] {
        c.outb(port, 0x11);
        c.outb(port + 1, base);
        c.outb(port + 1, wiring);
        c.outb(port + 1, 0x01);
        c.outb(port + 1, mask);
    }
    // PIT counter 0: lobyte/hibyte, mode 3, divisor 0 (65536).
    c.outb(PORT_PIT + 3, 0x36);
    c.outb(PORT_PIT, 0);
    c.outb(PORT_PIT, 0);
    set_a20(c, false);
}

/// Power-on self test.
pub fn post(c: &mut Call, rom: &RomMap, cfg: &BiosConfig) {
    ivt(c, rom);
    data_areas(c);
    hardware(c);
    video::set_mode(c, 3);
    let mib = cfg.memory_bytes >> 20;
    let ext = cfg.memory_bytes.saturating_sub(1 << 20) >> 10;
    video::print(
        c,
        &format!(
            "btvm BIOS - {mib} MiB RAM ({} KiB base, {ext} KiB extended)\r\n",
            bda::BASE_MEMORY_KB
        ),
    );
}

fn drive_name(dl: u8) -> &'static str {
    if dl >= FIRST_HARD_DISK {
        "hard disk"
    } else {
        "floppy"
    }
}

/// INT 19h: load a boot sector and jump to it, or go on to INT 18h.
pub fn boot(c: &mut Call, rom: &RomMap, cfg: &BiosConfig) {
    let order = match cfg.boot {
        BootOrder::FloppyFirst => [0x00, FIRST_HARD_DISK],
        BootOrder::DiskFirst => [FIRST_HARD_DISK, 0x00],
    };
    for dl in order {
        let present = if dl >= FIRST_HARD_DISK {
            disk::hard_disk_count(c) > 0
        } else {
            disk::floppy_count(c) > 0
        };
        if !present {
            continue;
        }
        video::print(c, &format!("Booting from {}...\r\n", drive_name(dl)));
        let Some(sector) = disk::read_boot_sector(c, dl, u32::from(BOOT_ADDR)) else {
            video::print(c, "Boot failed: could not read the boot disk\r\n");
            continue;
        };
        if dl >= FIRST_HARD_DISK && sector[510..512] != [0x55, 0xAA] {
            video::print(c, "Boot failed: not a bootable disk\r\n");
            continue;
        }
        for s in [sreg::DS, sreg::ES, sreg::SS] {
            c.set_seg(s, 0);
        }
        c.set_reg32(gpr::ESP, u32::from(BOOT_ADDR));
        c.set_dx(u16::from(dl));
        c.cpu.regs.set_eflags(FLAG_FIXED1 | FLAG_IF);
        c.jump(0, BOOT_ADDR);
        return;
    }
    c.jump(ROM_SEGMENT, rom.sym(Sym::Int18));
}

/// INT 18h: report that nothing boots, on the screen and the debug
/// console (visible on a headless run). The ROM stub then halts.
pub fn no_boot_device(c: &mut Call) {
    let msg = "No bootable device.\r\n";
    video::print(c, msg);
    for b in msg.bytes() {
        c.outb(PORT_DEBUG_CONSOLE, b);
    }
}
