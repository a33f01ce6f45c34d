//! The small services: INT 11h equipment, 12h memory size, 14h serial, 15h
//! system services, 17h printer and 1Ah time of day.
//!
//! INT 14h drives the 16550 UARTs through their ports (whatever the guest
//! configured stays configured). AH=02h with nothing received sleeps in the
//! ROM (`sti; hlt`) one interrupt at a time until a byte arrives or the
//! port's timeout (0040:007C, in timer ticks) passes; the timeout status is
//! AH bit 7.
//!
//! INT 15h AH=86h waits the same way until CX:DX microseconds have passed
//! on the machine clock, when IRQ 0 is unmasked (the timer wakes the CPU);
//! with IRQ 0 masked, or for a wait under 1 ms, it returns at once. AH=87h
//! copies physical memory in Rust from the descriptors the caller passes
//! (A20 is not applied, as the hardware opens it for the move).
//!
//! INT 17h: there is no parallel port; every call returns AH=09h (time-out
//! and I/O error: DOS reports the printer as not ready / write fault and
//! gives up instead of waiting for "not busy").

use btvm_devices::cmos::{
    REG_B, REG_CENTURY, REG_DAY_OF_MONTH, REG_HOURS, REG_MINUTES, REG_MONTH, REG_SECONDS, REG_YEAR,
};
use btvm_devices::Ticks;
use btvm_jit::abi::{gpr, sreg};

use super::bda;
use super::call::Call;
use super::rom::{RomMap, Sym, ROM_SEGMENT};
use crate::loader::bzimage::{E820Entry, E820_RAM, E820_RESERVED, HIGH_ROM};
use crate::machine::pc::{PORT_PIC_MASTER, PORT_SYSTEM_CONTROL_A};
use crate::memory::ONE_MIB;
use crate::platform::Platform;

/// INT 15h: function not supported.
const UNSUPPORTED: u8 = 0x86;
/// "SMAP", the E820 signature.
const SMAP: u32 = 0x534D_4150;
/// One PIT tick (65536 / 1.193182 MHz) in nanoseconds.
const TICK_NS: u64 = 54_925_493;
/// INT 17h status for the missing printer: time-out, I/O error.
const NO_PRINTER: u8 = 0x09;

/// Waits in progress across the ROM's sleep stubs.
#[derive(Clone, Debug, Default)]
pub struct Waits {
    /// INT 14h AH=02h gives up at this time.
    pub serial: Option<Ticks>,
    /// INT 15h AH=86h returns at this time.
    pub delay: Option<Ticks>,
}

/// INT 11h.
pub fn int11(c: &mut Call) {
    let v = c.bda16(bda::EQUIPMENT);
    c.set_ax(v);
}

/// INT 12h.
pub fn int12(c: &mut Call) {
    let v = c.bda16(bda::MEMORY_KB);
    c.set_ax(v);
}

fn now(c: &mut Call) -> Ticks {
    c.pc.sync(c.cpu.regs.icount);
    c.pc.now()
}

fn com_port(c: &mut Call) -> Option<(u16, u16)> {
    let index = c.dx();
    if index > 3 {
        return None;
    }
    let port = c.bda16(bda::COM_PORTS + 2 * index);
    (port != 0).then_some((port, index))
}

/// INT 14h; `retry`: the ROM's wait stub asks again for AH=02h.
pub fn int14(c: &mut Call, rom: &RomMap, waits: &mut Waits, retry: bool) {
    let Some((port, index)) = com_port(c) else {
        c.set_ah(0x80);
        return;
    };
    let lsr = port + 5;
    match c.ah() {
        0x00 => {
            const DIVISORS: [u16; 8] = [1047, 768, 384, 192, 96, 48, 24, 12];
            let params = c.al();
            let divisor = DIVISORS[usize::from(params >> 5)];
            c.outb(port + 3, 0x80);
            c.outb(port, divisor as u8);
            c.outb(port + 1, (divisor >> 8) as u8);
            c.outb(port + 3, params & 0x1F);
            status(c, port);
        }
        0x01 => {
            let line = c.inb(lsr);
            if line & 0x20 != 0 {
                c.outb(port, c.al());
                let line = c.inb(lsr);
                c.set_ah(line);
            } else {
                c.set_ah(line | 0x80);
            }
        }
        0x02 => {
            let line = c.inb(lsr);
            if line & 0x01 != 0 {
                waits.serial = None;
                let byte = c.inb(port);
                c.set_al(byte);
                c.set_ah(line & 0x1E);
                return;
            }
            let now = now(c);
            let deadline = match (retry, waits.serial) {
                (true, Some(d)) => d,
                _ => {
                    let ticks = u64::from(c.bda8(bda::COM_TIMEOUTS + index));
                    Ticks(now.0 + ticks * TICK_NS)
                }
            };
            if now >= deadline {
                waits.serial = None;
                c.set_ah(line | 0x80);
            } else {
                waits.serial = Some(deadline);
                c.jump(ROM_SEGMENT, rom.sym(Sym::Int14Wait));
            }
        }
        0x05 => {
            if c.al() == 0 {
                let mcr = c.inb(port + 4);
                c.set_bl(mcr);
            } else {
                c.outb(port + 4, c.bl() & 0x1F);
            }
            status(c, port);
        }
        _ => status(c, port),
    }
}

fn status(c: &mut Call, port: u16) {
    let line = c.inb(port + 5);
    let modem = c.inb(port + 6);
    c.set_ah(line);
    c.set_al(modem);
}

/// INT 17h: no printers.
pub fn int17(c: &mut Call) {
    c.set_ah(NO_PRINTER);
}

/// The E820 memory map for `ram` bytes of RAM: conventional memory up to
/// the EBDA, the EBDA and the ROM reserved, extended memory, and the ROM
/// alias below 4 GiB (the same shape as the Linux loader's map).
pub fn e820_map(ram: u32) -> Vec<E820Entry> {
    let mut map = vec![
        (0, u64::from(bda::EBDA_ADDR), E820_RAM),
        (
            u64::from(bda::EBDA_ADDR),
            0xA_0000 - u64::from(bda::EBDA_ADDR),
            E820_RESERVED,
        ),
        (0xF_0000, 0x1_0000, E820_RESERVED),
    ];
    if ram > ONE_MIB {
        map.push((u64::from(ONE_MIB), u64::from(ram - ONE_MIB), E820_RAM));
    }
    map.push((
        u64::from(HIGH_ROM),
        (1 << 32) - u64::from(HIGH_ROM),
        E820_RESERVED,
    ));
    map
}

/// Extended memory above 1 MiB in KiB.
fn extended_kb(ram: u32) -> u32 {
    ram.saturating_sub(ONE_MIB) / 1024
}

/// INT 15h; `retry`: the ROM's wait stub asks again for AH=86h.
pub fn int15(c: &mut Call, rom: &RomMap, waits: &mut Waits, ram: u32, retry: bool) {
    let ah = c.ah();
    let ok = |c: &mut Call| {
        c.set_ah(0);
        c.set_cf(false);
    };
    match ah {
        0x4F => c.set_cf(true), // keyboard intercept: keep the scancode
        0x85 | 0x90 | 0x91 => ok(c),
        0x86 => delay(c, rom, waits, retry),
        0x87 => block_move(c),
        0x88 => {
            c.set_ax(extended_kb(ram).min(0xFFFF) as u16);
            c.set_cf(false);
        }
        0x8A => {
            let kb = extended_kb(ram);
            c.set_ax(kb as u16);
            c.set_dx((kb >> 16) as u16);
            c.set_cf(false);
        }
        0xC0 => {
            c.set_seg(sreg::ES, ROM_SEGMENT);
            c.set_bx(rom.sym(Sym::ConfigTable));
            ok(c);
        }
        0xC1 => {
            c.set_seg(sreg::ES, bda::EBDA_SEG);
            c.set_cf(false);
        }
        0x24 => a20(c),
        0xE8 if c.al() == 0x01 => {
            let kb = extended_kb(ram);
            let low = kb.min(15 * 1024) as u16;
            let high = (ram.saturating_sub(16 << 20) / 0x1_0000) as u16;
            c.set_ax(low);
            c.set_cx(low);
            c.set_bx(high);
            c.set_dx(high);
            c.set_cf(false);
        }
        0xE8 if c.al() == 0x20 && c.reg32(gpr::EDX) == SMAP => e820(c, ram),
        _ => {
            c.set_ah(UNSUPPORTED);
            c.set_cf(true);
        }
    }
}

/// AH=86h: wait CX:DX microseconds.
fn delay(c: &mut Call, rom: &RomMap, waits: &mut Waits, retry: bool) {
    let now = now(c);
    let deadline = match (retry, waits.delay) {
        (true, Some(d)) => d,
        (true, None) => now,
        (false, _) => {
            let us = u64::from(c.cx()) << 16 | u64::from(c.dx());
            let timer_masked = c.inb(PORT_PIC_MASTER + 1) & 1 != 0;
            if us < 1000 || timer_masked {
                now
            } else {
                Ticks(now.0 + us * 1000)
            }
        }
    };
    if now >= deadline {
        waits.delay = None;
        c.set_ah(0);
        c.set_cf(false);
    } else {
        waits.delay = Some(deadline);
        c.jump(ROM_SEGMENT, rom.sym(Sym::Int15Wait));
    }
}

/// AH=87h: copy CX words between the physical addresses of the source and
/// destination descriptors in the GDT at ES:SI.
fn block_move(c: &mut Call) {
    let words = c.cx();
    if words > 0x8000 {
        c.set_ah(0x02);
        c.set_cf(true);
        return;
    }
    let gdt = c.far(c.seg(sreg::ES), c.si());
    let base = |c: &mut Call, desc: u32| -> u32 {
        let a = gdt.wrapping_add(desc);
        u32::from(c.read16(a + 2))
            | u32::from(c.read8(a + 4)) << 16
            | u32::from(c.read8(a + 7)) << 24
    };
    let (src, dst) = (base(c, 0x10), base(c, 0x18));
    let mut buf = vec![0u8; usize::from(words) * 2];
    c.read_block(src, &mut buf);
    c.write_block(dst, &buf);
    c.set_ah(0);
    c.set_cf(false);
    c.set_zf(true);
}

/// AH=24h: the A20 gate (through port 0x92 and the keyboard controller).
fn a20(c: &mut Call) {
    match c.al() {
        0x00 | 0x01 => {
            let enable = c.al() == 1;
            set_a20(c, enable);
            c.set_ah(0);
        }
        0x02 => {
            let on = c.pc.a20();
            c.set_al(u8::from(on));
            c.set_ah(0);
        }
        0x03 => {
            c.set_bx(0x0003); // keyboard controller and port 0x92
            c.set_ah(0);
        }
        _ => {
            c.set_ah(UNSUPPORTED);
            c.set_cf(true);
            return;
        }
    }
    c.set_cf(false);
}

/// Open or close the A20 gate; closing needs both sources closed.
pub fn set_a20(c: &mut Call, enable: bool) {
    let fast = c.inb(PORT_SYSTEM_CONTROL_A) & !0x01;
    c.outb(
        PORT_SYSTEM_CONTROL_A,
        if enable { fast | 0x02 } else { fast & !0x02 },
    );
    if !enable {
        // i8042 command D1h (write output port): A20 off, reset line high.
        c.outb(crate::machine::pc::PORT_I8042 + 4, 0xD1);
        c.outb(crate::machine::pc::PORT_I8042, 0xDD);
    }
}

/// EAX=E820h: one entry of the memory map per call.
fn e820(c: &mut Call, ram: u32) {
    let map = e820_map(ram);
    let index = c.reg32(gpr::EBX) as usize;
    let Some(&(base, len, kind)) = map.get(index) else {
        c.set_ah(UNSUPPORTED);
        c.set_cf(true);
        return;
    };
    if c.reg32(gpr::ECX) < 20 {
        c.set_ah(UNSUPPORTED);
        c.set_cf(true);
        return;
    }
    let a = c.far(c.seg(sreg::ES), c.di());
    c.write32(a, base as u32);
    c.write32(a + 4, (base >> 32) as u32);
    c.write32(a + 8, len as u32);
    c.write32(a + 12, (len >> 32) as u32);
    c.write32(a + 16, kind);
    c.set_reg32(gpr::EAX, SMAP);
    c.set_reg32(gpr::ECX, 20);
    c.set_reg32(
        gpr::EBX,
        if index + 1 < map.len() {
            index as u32 + 1
        } else {
            0
        },
    );
    c.set_cf(false);
}

/// INT 1Ah.
pub fn int1a(c: &mut Call) {
    match c.ah() {
        0x00 => {
            let ticks = c.bda32(bda::TICKS);
            let rollover = c.bda8(bda::TICKS_ROLLOVER);
            c.set_bda8(bda::TICKS_ROLLOVER, 0);
            c.set_cx((ticks >> 16) as u16);
            c.set_dx(ticks as u16);
            c.set_al(rollover);
            c.set_cf(false);
        }
        0x01 => {
            let ticks = u32::from(c.cx()) << 16 | u32::from(c.dx());
            c.set_bda32(bda::TICKS, ticks);
            c.set_bda8(bda::TICKS_ROLLOVER, 0);
            c.set_cf(false);
        }
        0x02 => {
            let (h, m, s) = (
                c.cmos_read(REG_HOURS),
                c.cmos_read(REG_MINUTES),
                c.cmos_read(REG_SECONDS),
            );
            let dst = c.cmos_read(REG_B) & 1;
            c.set_ch(h);
            c.set_cl(m);
            c.set_dh(s);
            c.set_dl(dst);
            c.set_cf(false);
        }
        0x03 => {
            let b = c.cmos_read(REG_B);
            c.cmos_write(REG_B, b | 0x80);
            let (h, m, s) = (c.ch(), c.cl(), c.dh());
            c.cmos_write(REG_SECONDS, s);
            c.cmos_write(REG_MINUTES, m);
            c.cmos_write(REG_HOURS, h);
            // 24-hour BCD, daylight saving per DL; SET off restarts the clock.
            c.cmos_write(REG_B, (b & 0x70) | 0x02 | (c.dl() & 1));
            c.set_cf(false);
        }
        0x04 => {
            let century = c.cmos_read(REG_CENTURY);
            let year = c.cmos_read(REG_YEAR);
            let month = c.cmos_read(REG_MONTH);
            let day = c.cmos_read(REG_DAY_OF_MONTH);
            c.set_ch(century);
            c.set_cl(year);
            c.set_dh(month);
            c.set_dl(day);
            c.set_cf(false);
        }
        0x05 => {
            let b = c.cmos_read(REG_B);
            c.cmos_write(REG_B, b | 0x80);
            let (century, year, month, day) = (c.ch(), c.cl(), c.dh(), c.dl());
            c.cmos_write(REG_CENTURY, century);
            c.cmos_write(REG_YEAR, year);
            c.cmos_write(REG_MONTH, month);
            c.cmos_write(REG_DAY_OF_MONTH, day);
            c.cmos_write(REG_B, (b & 0x73) | 0x02);
            c.set_cf(false);
        }
        0x07 => c.set_cf(false), // reset alarm: none is set
        _ => c.set_cf(true),
    }
}

/// BIOS ticks since midnight for a BCD RTC time.
pub fn ticks_for_time(h: u8, m: u8, s: u8) -> u32 {
    let bcd = |v: u8| u64::from(v >> 4) * 10 + u64::from(v & 0x0F);
    let secs = (bcd(h) * 3600 + bcd(m) * 60 + bcd(s)).min(86_399);
    (secs * 1_000_000_000 / TICK_NS) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn e820_map_covers_ram_without_overlap() {
        let map = e820_map(16 << 20);
        let ram: u64 = map.iter().filter(|e| e.2 == E820_RAM).map(|e| e.1).sum();
        assert_eq!(ram, 0x9_FC00 + (15 << 20));
        for w in map.windows(2) {
            assert!(w[0].0 + w[0].1 <= w[1].0);
        }
        assert_eq!(
            e820_map(1 << 20).iter().filter(|e| e.2 == E820_RAM).count(),
            1
        );
    }

    #[test]
    fn midnight_is_tick_0x1800b0() {
        assert_eq!(ticks_for_time(0, 0, 0), 0);
        let last = ticks_for_time(0x23, 0x59, 0x59);
        assert!(last < 0x18_00B0 && last > 0x18_00B0 - 20, "{last:#x}");
    }
}
