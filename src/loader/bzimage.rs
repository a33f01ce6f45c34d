//! Direct Linux boot: the x86 32-bit boot protocol
//! (Documentation/arch/x86/boot.rst), as a boot loader that has already
//! run the kernel's real-mode part would leave the machine.
//!
//! - The setup header (at file offset 0x1F1) is checked: boot flag 0xAA55,
//!   "HdrS", protocol version >= 2.02, a bzImage (LOADED_HIGH).
//! - The protected-mode kernel (everything after the `setup_sects + 1`
//!   real-mode sectors) goes to 0x100000.
//! - `boot_params` (the "zero page") at [`ZERO_PAGE`] gets a copy of the
//!   setup header, the loader type, the command line pointer, the initrd
//!   address and size, an E820 map of guest memory, memory sizes and an
//!   80x25 VGA text screen description.
//! - The initrd goes as high as possible below `initrd_addr_max` and the top
//!   of RAM, 4 KiB aligned.
//! - The CPU is in 32-bit protected mode, paging off, interrupts off, with a
//!   GDT where 0x10 is flat 4 GiB code and 0x18 flat 4 GiB data (`__BOOT_CS`
//!   and `__BOOT_DS`), ESI = the zero page, EIP = `code32_start`.
//!
//! Old kernels (2.4) work the same way: their `startup_32` expects exactly
//! this state from their own setup code, which passes ESI = 0x90000.

use std::path::Path;

use btvm_jit::abi::{gpr, sreg};

use crate::cpu::descriptor::Descriptor;
use crate::cpu::{Cpu, TableReg};
use crate::error::Error;
use crate::memory::GuestMemory;

/// Where `boot_params` goes (the classic real-mode segment 0x9000).
pub const ZERO_PAGE: u32 = 0x9_0000;
/// The boot GDT, after the zero page.
pub const BOOT_GDT: u32 = 0x9_1000;
/// The kernel command line.
pub const CMDLINE: u32 = 0x9_2000;
/// Room for the command line (up to the EBDA area at 0x9F000).
pub const CMDLINE_MAX: u32 = 0x9_F000 - CMDLINE;
/// Where the protected-mode kernel is loaded.
pub const KERNEL_LOAD: u32 = 0x10_0000;
/// Start of the EBDA-sized reserved area at the top of conventional memory.
pub const LOW_MEMORY_END: u32 = 0x9_F000;
/// Start of the BIOS ROM area (reserved in the E820 map).
pub const BIOS_ROM: u32 = 0xF_0000;
/// Start of the high BIOS ROM alias at the top of 4 GiB (reserved).
pub const HIGH_ROM: u32 = 0xFFFE_0000;

/// `__BOOT_CS`: flat code selector the protocol requires.
pub const BOOT_CS: u16 = 0x10;
/// `__BOOT_DS`: flat data selector the protocol requires.
pub const BOOT_DS: u16 = 0x18;

// Setup header fields: offsets in the file and in boot_params alike.
const HDR_SETUP_SECTS: usize = 0x1F1;
const HDR_BOOT_FLAG: usize = 0x1FE;
const HDR_JUMP_END: usize = 0x201;
const HDR_MAGIC: usize = 0x202;
const HDR_VERSION: usize = 0x206;
const HDR_TYPE_OF_LOADER: usize = 0x210;
const HDR_LOADFLAGS: usize = 0x211;
const HDR_CODE32_START: usize = 0x214;
const HDR_RAMDISK_IMAGE: usize = 0x218;
const HDR_RAMDISK_SIZE: usize = 0x21C;
const HDR_HEAP_END_PTR: usize = 0x224;
const HDR_CMD_LINE_PTR: usize = 0x228;
const HDR_INITRD_ADDR_MAX: usize = 0x22C;
const HDR_CMDLINE_SIZE: usize = 0x238;
const HDR_INIT_SIZE: usize = 0x260;

// Other boot_params fields.
const BP_EXT_MEM_K: usize = 0x002;
const BP_VIDEO_MODE: usize = 0x006;
const BP_VIDEO_COLS: usize = 0x007;
const BP_VIDEO_EGA_BX: usize = 0x00A;
const BP_VIDEO_LINES: usize = 0x00E;
const BP_VIDEO_IS_VGA: usize = 0x00F;
const BP_VIDEO_POINTS: usize = 0x010;
const BP_ALT_MEM_K: usize = 0x1E0;
const BP_E820_ENTRIES: usize = 0x1E8;
const BP_E820_TABLE: usize = 0x2D0;

/// LOADED_HIGH: the protected-mode code goes to 0x100000 (a bzImage).
const LOADFLAG_LOADED_HIGH: u8 = 0x01;
/// CAN_USE_HEAP: heap_end_ptr is valid.
const LOADFLAG_CAN_USE_HEAP: u8 = 0x80;
/// type_of_loader: "undefined" boot loader, as the protocol asks of new ones.
const LOADER_TYPE_UNDEFINED: u8 = 0xFF;
/// E820 type: usable RAM.
pub const E820_RAM: u32 = 1;
/// E820 type: reserved.
pub const E820_RESERVED: u32 = 2;

/// What the loader put where (for messages and tests).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinuxBoot {
    /// Boot protocol version, e.g. 0x20F.
    pub protocol: u16,
    /// Protected-mode kernel load address and size.
    pub kernel: (u32, u32),
    /// Initrd address and size, if any.
    pub initrd: Option<(u32, u32)>,
    /// 32-bit entry point.
    pub entry: u32,
}

/// One E820 entry: base, length, type.
pub type E820Entry = (u64, u64, u32);

/// The memory map guest RAM of `ram` bytes gives: conventional memory,
/// the EBDA/VGA/BIOS holes, extended memory, the high ROM.
pub fn e820_map(ram: u32) -> Vec<E820Entry> {
    let mut map = vec![
        (0, u64::from(LOW_MEMORY_END), E820_RAM),
        (
            u64::from(LOW_MEMORY_END),
            u64::from(0xA_0000 - LOW_MEMORY_END),
            E820_RESERVED,
        ),
        (u64::from(BIOS_ROM), 0x1_0000, E820_RESERVED),
    ];
    if ram > KERNEL_LOAD {
        map.push((
            u64::from(KERNEL_LOAD),
            u64::from(ram - KERNEL_LOAD),
            E820_RAM,
        ));
    }
    map.push((
        u64::from(HIGH_ROM),
        (1 << 32) - u64::from(HIGH_ROM),
        E820_RESERVED,
    ));
    map
}

fn le16(b: &[u8], off: usize) -> u16 {
    u16::from_le_bytes([b[off], b[off + 1]])
}

fn le32(b: &[u8], off: usize) -> u32 {
    u32::from_le_bytes([b[off], b[off + 1], b[off + 2], b[off + 3]])
}

fn put16(b: &mut [u8], off: usize, v: u16) {
    b[off..off + 2].copy_from_slice(&v.to_le_bytes());
}

fn put32(b: &mut [u8], off: usize, v: u32) {
    b[off..off + 4].copy_from_slice(&v.to_le_bytes());
}

/// A checked bzImage: the setup header and where the parts are.
struct Header<'a> {
    file: &'a [u8],
    protocol: u16,
    setup_len: usize,
}

impl<'a> Header<'a> {
    fn parse(file: &'a [u8], path: &Path) -> Result<Self, Error> {
        let bad = |what: &str| Error::format(path, format!("not a Linux bzImage: {what}"));
        if file.len() < 0x264 {
            return Err(bad(&format!(
                "{} bytes is too short for a setup header",
                file.len()
            )));
        }
        if le16(file, HDR_BOOT_FLAG) != 0xAA55 {
            return Err(bad("no 0xAA55 boot flag at offset 0x1FE"));
        }
        if &file[HDR_MAGIC..HDR_MAGIC + 4] != b"HdrS" {
            return Err(bad(
                "no \"HdrS\" setup header signature at offset 0x202 (boot protocol < 2.00)",
            ));
        }
        let protocol = le16(file, HDR_VERSION);
        if protocol < 0x202 {
            return Err(Error::format(
                path,
                format!(
                    "boot protocol {}.{:02} is too old (btvm needs 2.02 or later)",
                    protocol >> 8,
                    protocol & 0xFF
                ),
            ));
        }
        if file[HDR_LOADFLAGS] & LOADFLAG_LOADED_HIGH == 0 {
            return Err(Error::format(
                path,
                "a zImage (loads below 1 MiB); btvm boots bzImage kernels only",
            ));
        }
        let setup_sects = match file[HDR_SETUP_SECTS] {
            0 => 4,
            n => usize::from(n),
        };
        let setup_len = (setup_sects + 1) * 512;
        if file.len() <= setup_len {
            return Err(Error::format(
                path,
                format!(
                    "truncated: {} bytes, but the setup code alone is {setup_len} bytes",
                    file.len()
                ),
            ));
        }
        Ok(Header {
            file,
            protocol,
            setup_len,
        })
    }

    /// The protected-mode kernel.
    fn payload(&self) -> &'a [u8] {
        &self.file[self.setup_len..]
    }

    /// The part of the file that is the setup header (copied into
    /// boot_params): from 0x1F1 to the end given by the jump at 0x200.
    fn header_bytes(&self) -> &'a [u8] {
        let end = (HDR_JUMP_END + 1 + usize::from(self.file[HDR_JUMP_END]))
            .clamp(0x264, 0x290)
            .min(self.setup_len);
        &self.file[HDR_SETUP_SECTS..end]
    }

    fn initrd_addr_max(&self) -> u32 {
        if self.protocol >= 0x203 {
            le32(self.file, HDR_INITRD_ADDR_MAX)
        } else {
            0x37FF_FFFF
        }
    }

    fn cmdline_size(&self) -> u32 {
        if self.protocol >= 0x206 {
            le32(self.file, HDR_CMDLINE_SIZE)
        } else {
            255
        }
    }

    /// Memory the kernel needs from its load address while it decompresses
    /// (protocol 2.10+), else just the payload.
    fn footprint(&self) -> u32 {
        let payload = self.payload().len() as u32;
        if self.protocol >= 0x20A {
            payload.max(le32(self.file, HDR_INIT_SIZE))
        } else {
            payload
        }
    }
}

/// Load `kernel` (and `initrd`) into `mem` and set up `cpu` to enter it.
/// `kernel_path`/`initrd_path` only name the files in errors.
pub fn load(
    mem: &mut GuestMemory,
    cpu: &mut Cpu,
    kernel: &[u8],
    kernel_path: &Path,
    initrd: Option<(&[u8], &Path)>,
    cmdline: &str,
) -> Result<LinuxBoot, Error> {
    let hdr = Header::parse(kernel, kernel_path)?;
    let ram = mem.ram_size();
    let payload = hdr.payload();
    let kernel_end = u64::from(KERNEL_LOAD) + u64::from(hdr.footprint());
    if kernel_end > u64::from(ram) {
        return Err(Error::format(
            kernel_path,
            format!(
                "the kernel needs {} KiB above 1 MiB but the guest has {} MiB of RAM (use -m)",
                (kernel_end - u64::from(KERNEL_LOAD)) / 1024,
                ram >> 20
            ),
        ));
    }
    let cmdline_max = hdr.cmdline_size().min(CMDLINE_MAX - 1);
    if cmdline.len() as u32 > cmdline_max {
        return Err(Error::Host(format!(
            "kernel command line is {} bytes; {} allows at most {cmdline_max}",
            cmdline.len(),
            kernel_path.display()
        )));
    }

    // Initrd: as high as it goes below both limits, page aligned, above the
    // kernel.
    let initrd_place = match initrd {
        None => None,
        Some((data, path)) => {
            if data.is_empty() {
                return Err(Error::format(path, "initrd is empty"));
            }
            let limit = u64::from(hdr.initrd_addr_max())
                .saturating_add(1)
                .min(u64::from(ram));
            let len = data.len() as u64;
            let addr = limit.checked_sub(len).map(|a| a & !0xFFF);
            match addr {
                Some(a) if a >= kernel_end => Some((a as u32, data, path)),
                _ => {
                    return Err(Error::format(
                        path,
                        format!("initrd of {} KiB does not fit between the kernel and the top of {} MiB of RAM (use -m)", len / 1024, ram >> 20),
                    ))
                }
            }
        }
    };

    // boot_params.
    let mut bp = vec![0u8; 4096];
    let hb = hdr.header_bytes();
    bp[HDR_SETUP_SECTS..HDR_SETUP_SECTS + hb.len()].copy_from_slice(hb);
    bp[HDR_TYPE_OF_LOADER] = LOADER_TYPE_UNDEFINED;
    bp[HDR_LOADFLAGS] |= LOADFLAG_CAN_USE_HEAP;
    put16(&mut bp, HDR_HEAP_END_PTR, 0xFE00);
    put32(&mut bp, HDR_CMD_LINE_PTR, CMDLINE);
    put32(&mut bp, HDR_CODE32_START, KERNEL_LOAD);
    if let Some((addr, data, _)) = &initrd_place {
        put32(&mut bp, HDR_RAMDISK_IMAGE, *addr);
        put32(&mut bp, HDR_RAMDISK_SIZE, data.len() as u32);
    }
    let ext_k = ram.saturating_sub(KERNEL_LOAD) / 1024;
    put16(&mut bp, BP_EXT_MEM_K, ext_k.min(0xFFFF) as u16);
    put32(&mut bp, BP_ALT_MEM_K, ext_k);
    // An 80x25 colour VGA text screen, cursor at the top left.
    bp[BP_VIDEO_MODE] = 3;
    bp[BP_VIDEO_COLS] = 80;
    put16(&mut bp, BP_VIDEO_EGA_BX, 3);
    bp[BP_VIDEO_LINES] = 25;
    bp[BP_VIDEO_IS_VGA] = 1;
    put16(&mut bp, BP_VIDEO_POINTS, 16);
    let map = e820_map(ram);
    bp[BP_E820_ENTRIES] = map.len() as u8;
    for (i, (base, len, typ)) in map.iter().enumerate() {
        let off = BP_E820_TABLE + 20 * i;
        bp[off..off + 8].copy_from_slice(&base.to_le_bytes());
        bp[off + 8..off + 16].copy_from_slice(&len.to_le_bytes());
        put32(&mut bp, off + 16, *typ);
    }

    mem.write_phys(ZERO_PAGE, &bp);
    let mut cl = cmdline.as_bytes().to_vec();
    cl.push(0);
    mem.write_phys(CMDLINE, &cl);
    mem.write_phys(KERNEL_LOAD, payload);
    if let Some((addr, data, _)) = &initrd_place {
        mem.write_phys(*addr, data);
    }

    // The boot GDT: null, unused, __BOOT_CS, __BOOT_DS.
    let code = Descriptor::new(0x0000_FFFF, 0x00CF_9A00);
    let data = Descriptor::new(0x0000_FFFF, 0x00CF_9200);
    let mut gdt = [0u8; 32];
    for (i, d) in [(2, code), (3, data)] {
        gdt[i * 8..i * 8 + 4].copy_from_slice(&d.lo.to_le_bytes());
        gdt[i * 8 + 4..i * 8 + 8].copy_from_slice(&d.hi.to_le_bytes());
    }
    mem.write_phys(BOOT_GDT, &gdt);
    enter_protected_mode(cpu, code, data);
    cpu.regs.gpr = [0; 8];
    cpu.regs.gpr[gpr::ESI] = ZERO_PAGE;
    cpu.regs.gpr[gpr::ESP] = ZERO_PAGE - 0x10;
    cpu.regs.eip = KERNEL_LOAD;

    Ok(LinuxBoot {
        protocol: hdr.protocol,
        kernel: (KERNEL_LOAD, payload.len() as u32),
        initrd: initrd_place.map(|(a, d, _)| (a, d.len() as u32)),
        entry: KERNEL_LOAD,
    })
}

/// Put the CPU in flat 32-bit ring-0 protected mode on the boot GDT,
/// interrupts off, paging off.
fn enter_protected_mode(cpu: &mut Cpu, code: Descriptor, data: Descriptor) {
    /// CR0.PE and CR0.ET (a 387-class FPU is present).
    const CR0_PE_ET: u32 = 0x11;
    cpu.cr0 = (cpu.cr0 & !0x8000_0000) | CR0_PE_ET;
    cpu.gdtr = TableReg {
        base: BOOT_GDT,
        limit: 31,
    };
    cpu.idtr = TableReg { base: 0, limit: 0 };
    cpu.regs.seg[sreg::CS] = code.cache(BOOT_CS);
    for s in [sreg::DS, sreg::ES, sreg::SS, sreg::FS, sreg::GS] {
        cpu.regs.seg[s] = data.cache(BOOT_DS);
    }
    cpu.regs.set_eflags(0x2);
    cpu.set_cpl(0);
    cpu.flush_tlb_all();
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal bzImage: `setup_sects` = 1, protocol `version`, payload
    /// of `payload` bytes.
    fn image(version: u16, payload: usize) -> Vec<u8> {
        let mut f = vec![0u8; 1024 + payload];
        f[HDR_SETUP_SECTS] = 1;
        put16(&mut f, HDR_BOOT_FLAG, 0xAA55);
        f[0x200] = 0xEB;
        f[HDR_JUMP_END] = 0x66;
        f[HDR_MAGIC..HDR_MAGIC + 4].copy_from_slice(b"HdrS");
        put16(&mut f, HDR_VERSION, version);
        f[HDR_LOADFLAGS] = LOADFLAG_LOADED_HIGH;
        put32(&mut f, HDR_INITRD_ADDR_MAX, 0x37FF_FFFF);
        put32(&mut f, HDR_CMDLINE_SIZE, 2047);
        for (i, b) in f[1024..].iter_mut().enumerate() {
            *b = i as u8;
        }
        f
    }

    fn boot(
        kernel: &[u8],
        initrd: Option<&[u8]>,
        cmdline: &str,
    ) -> Result<(GuestMemory, Cpu, LinuxBoot), Error> {
        let mut mem = GuestMemory::new(16).unwrap();
        let mut cpu = Cpu::new();
        let r = load(
            &mut mem,
            &mut cpu,
            kernel,
            Path::new("k"),
            initrd.map(|d| (d, Path::new("i"))),
            cmdline,
        )?;
        Ok((mem, cpu, r))
    }

    fn phys(mem: &GuestMemory, addr: u32, n: usize) -> Vec<u8> {
        let mut v = vec![0; n];
        mem.read_phys(addr, &mut v);
        v
    }

    #[test]
    fn loads_kernel_initrd_cmdline_and_enters_flat_protected_mode() {
        let k = image(0x20F, 5000);
        let (mem, cpu, r) = boot(&k, Some(&[7u8; 3000]), "console=ttyS0").unwrap();
        assert_eq!(r.kernel, (KERNEL_LOAD, 5000));
        assert_eq!(phys(&mem, KERNEL_LOAD, 5000), k[1024..]);
        let (ia, is) = r.initrd.unwrap();
        assert_eq!(is, 3000);
        assert_eq!(ia % 4096, 0);
        assert!(
            ia + is <= 16 << 20 && ia + is > (16 << 20) - 8192,
            "initrd at the top of RAM"
        );
        assert_eq!(phys(&mem, ia, 3000), vec![7u8; 3000]);
        let bp = phys(&mem, ZERO_PAGE, 4096);
        assert_eq!(le32(&bp, HDR_RAMDISK_IMAGE), ia);
        assert_eq!(le32(&bp, HDR_RAMDISK_SIZE), 3000);
        assert_eq!(le32(&bp, HDR_CMD_LINE_PTR), CMDLINE);
        assert_eq!(phys(&mem, CMDLINE, 14), b"console=ttyS0\0");
        assert_eq!(
            &bp[HDR_MAGIC..HDR_MAGIC + 4],
            b"HdrS",
            "setup header copied"
        );
        assert_eq!(bp[HDR_TYPE_OF_LOADER], 0xFF);
        assert_eq!(cpu.regs.eip, KERNEL_LOAD);
        assert_eq!(cpu.regs.gpr[gpr::ESI], ZERO_PAGE);
        assert!(cpu.protected() && cpu.code32() && !cpu.paging());
        assert_eq!(cpu.regs.seg[sreg::CS].selector, BOOT_CS);
        assert_eq!(cpu.regs.seg[sreg::DS].selector, BOOT_DS);
        assert_eq!(cpu.regs.seg[sreg::SS].limit, 0xFFFF_FFFF);
        assert_eq!(cpu.regs.eflags() & 0x200, 0, "interrupts off");
    }

    #[test]
    fn e820_map_in_boot_params_matches_guest_memory() {
        let (mem, _, _) = boot(&image(0x20F, 100), None, "").unwrap();
        let bp = phys(&mem, ZERO_PAGE, 4096);
        let n = usize::from(bp[BP_E820_ENTRIES]);
        let entries: Vec<E820Entry> = (0..n)
            .map(|i| {
                let o = BP_E820_TABLE + 20 * i;
                let q = |o: usize| u64::from_le_bytes(bp[o..o + 8].try_into().unwrap());
                (q(o), q(o + 8), le32(&bp, o + 16))
            })
            .collect();
        assert_eq!(entries, e820_map(16 << 20));
        let usable: u64 = entries
            .iter()
            .filter(|e| e.2 == E820_RAM)
            .map(|e| e.1)
            .sum();
        assert_eq!(usable, u64::from(LOW_MEMORY_END) + (15 << 20));
        assert_eq!(le16(&bp, BP_EXT_MEM_K), 15 * 1024);
    }

    #[test]
    fn rejects_what_is_not_a_bzimage() {
        let msg = |k: &[u8]| boot(k, None, "").err().expect("must fail").to_string();
        assert!(msg(&[0u8; 100]).contains("too short"));
        let mut k = image(0x20F, 100);
        k[HDR_MAGIC] = b'X';
        assert!(msg(&k).contains("HdrS"));
        assert!(msg(&image(0x201, 100)).contains("too old"));
        let mut z = image(0x20F, 100);
        z[HDR_LOADFLAGS] = 0;
        assert!(msg(&z).contains("zImage"));
        let mut t = image(0x20F, 100);
        t[HDR_SETUP_SECTS] = 20;
        assert!(msg(&t).contains("truncated"));
        let m = msg(&image(0x20F, 20 << 20));
        assert!(m.contains("RAM"), "{m}");
        assert!(m.starts_with("k: "), "names the file: {m}");
    }

    #[test]
    fn rejects_initrd_or_cmdline_that_does_not_fit() {
        let k = image(0x20F, 100);
        let e = boot(&k, Some(&vec![0u8; 17 << 20]), "")
            .err()
            .unwrap()
            .to_string();
        assert!(e.starts_with("i: ") && e.contains("does not fit"), "{e}");
        assert!(boot(&k, Some(&[]), "").is_err());
        let long = "x".repeat(3000);
        assert!(boot(&k, None, &long)
            .err()
            .unwrap()
            .to_string()
            .contains("command line"));
    }
}
