//! The memory images of FSTENV/FLDENV (14 or 28 bytes) and FSAVE/FRSTOR
//! (94 or 108 bytes: the environment followed by ST(0)..ST(7), 10 bytes
//! each), in their four layouts (SDM Vol. 1, Figures 8-9 to 8-12):
//!
//! 32-bit protected mode (28 bytes, one dword per field):
//! `CW | SW | TW | FIP | FCS + FOP<<16 | FDP | FDS`
//!
//! 32-bit real/v86 mode: `CW | SW | TW | FIP[15:0] | FOP + FIP[31:16]<<12 |
//! FDP[15:0] | FDP[31:16]<<12`, where FIP/FDP are 20/32-bit *linear*
//! addresses (selector·16 + offset).
//!
//! 16-bit protected mode (14 bytes, one word per field):
//! `CW | SW | TW | FIP | FCS | FDP | FDS`
//!
//! 16-bit real/v86 mode: `CW | SW | TW | FIP[15:0] | FOP + FIP[19:16]<<12 |
//! FDP[15:0] | FDP[19:16]<<12`.
//!
//! Reserved upper halves of the 32-bit layouts are written as FFFFh, as
//! Intel processors (and Bochs) do. The tag word is the full one,
//! recomputed from the register contents.
//!
//! Example: after FNINIT, a 32-bit protected-mode FNSTENV writes
//! `7F 03 FF FF  00 00 FF FF  FF FF FF FF  00 ...`.

use super::{Fpu, LastOp, EXC_MASK, F80};

/// Which image layout an instruction uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    /// 32-bit operand size (28/108 bytes) rather than 16-bit (14/94).
    pub op32: bool,
    /// Real-address or virtual-8086 mode (linear-address pointer fields).
    pub real: bool,
}

impl Layout {
    /// Size of the environment image.
    pub fn env_len(self) -> usize {
        if self.op32 {
            28
        } else {
            14
        }
    }

    /// Size of the full FSAVE image.
    pub fn save_len(self) -> usize {
        self.env_len() + 80
    }
}

/// Reserved upper word of a 32-bit-layout field.
const RESERVED: u32 = 0xFFFF_0000;

fn put16(b: &mut [u8], off: usize, v: u16) {
    b[off..off + 2].copy_from_slice(&v.to_le_bytes());
}

fn put32(b: &mut [u8], off: usize, v: u32) {
    b[off..off + 4].copy_from_slice(&v.to_le_bytes());
}

fn get16(b: &[u8], off: usize) -> u16 {
    u16::from_le_bytes([b[off], b[off + 1]])
}

fn get32(b: &[u8], off: usize) -> u32 {
    u32::from_le_bytes([b[off], b[off + 1], b[off + 2], b[off + 3]])
}

impl Fpu {
    /// The environment image (the first `layout.env_len()` bytes).
    pub fn env_image(&self, layout: Layout) -> [u8; 28] {
        let mut b = [0u8; 28];
        let l = &self.last;
        let (cw, sw, tw) = (self.cw, self.status_word(), self.tag_word());
        let fop = l.fop & 0x7FF;
        if layout.op32 {
            put32(&mut b, 0, RESERVED | u32::from(cw));
            put32(&mut b, 4, RESERVED | u32::from(sw));
            put32(&mut b, 8, RESERVED | u32::from(tw));
            if layout.real {
                let ip = (u32::from(l.fcs) << 4).wrapping_add(l.fip);
                let dp = (u32::from(l.fds) << 4).wrapping_add(l.fdp);
                put32(&mut b, 12, RESERVED | (ip & 0xFFFF));
                put32(&mut b, 16, ((ip & 0xFFFF_0000) >> 4) | u32::from(fop));
                put32(&mut b, 20, RESERVED | (dp & 0xFFFF));
                put32(&mut b, 24, (dp & 0xFFFF_0000) >> 4);
            } else {
                put32(&mut b, 12, l.fip);
                put32(&mut b, 16, u32::from(l.fcs) | u32::from(fop) << 16);
                put32(&mut b, 20, l.fdp);
                put32(&mut b, 24, RESERVED | u32::from(l.fds));
            }
        } else {
            put16(&mut b, 0, cw);
            put16(&mut b, 2, sw);
            put16(&mut b, 4, tw);
            if layout.real {
                let ip = (u32::from(l.fcs) << 4).wrapping_add(l.fip);
                let dp = (u32::from(l.fds) << 4).wrapping_add(l.fdp);
                put16(&mut b, 6, ip as u16);
                put16(&mut b, 8, (((ip >> 16) & 0xF) << 12) as u16 | fop);
                put16(&mut b, 10, dp as u16);
                put16(&mut b, 12, (((dp >> 16) & 0xF) << 12) as u16);
            } else {
                put16(&mut b, 6, l.fip as u16);
                put16(&mut b, 8, l.fcs);
                put16(&mut b, 10, l.fdp as u16);
                put16(&mut b, 12, l.fds);
            }
        }
        b
    }

    /// FNSTENV: the image, then every exception is masked (SDM: FSTENV).
    pub fn fstenv(&mut self, layout: Layout) -> [u8; 28] {
        let b = self.env_image(layout);
        self.after_fstenv();
        b
    }

    /// FNSTENV's side effect, applied once the image has been written.
    pub fn after_fstenv(&mut self) {
        self.cw |= EXC_MASK;
        self.update_es();
    }

    /// FLDENV: load control, status and tag words and the pointers.
    pub fn fldenv(&mut self, b: &[u8], layout: Layout) {
        let (cw, sw, tw);
        if layout.op32 {
            cw = get16(b, 0);
            sw = get16(b, 4);
            tw = get16(b, 8);
            if layout.real {
                let ip = u32::from(get16(b, 12)) | (get32(b, 16) & 0x0FFF_F000) << 4;
                let dp = u32::from(get16(b, 20)) | (get32(b, 24) & 0x0FFF_F000) << 4;
                self.last = LastOp {
                    fip: ip,
                    fcs: 0,
                    fop: get16(b, 16) & 0x7FF,
                    fdp: dp,
                    fds: 0,
                };
            } else {
                let w = get32(b, 16);
                self.last = LastOp {
                    fip: get32(b, 12),
                    fcs: w as u16,
                    fop: (w >> 16) as u16 & 0x7FF,
                    fdp: get32(b, 20),
                    fds: get16(b, 24),
                };
            }
        } else {
            cw = get16(b, 0);
            sw = get16(b, 2);
            tw = get16(b, 4);
            if layout.real {
                let w = get16(b, 8);
                let ip = u32::from(get16(b, 6)) | u32::from(w >> 12) << 16;
                let dp = u32::from(get16(b, 10)) | u32::from(get16(b, 12) >> 12) << 16;
                self.last = LastOp {
                    fip: ip,
                    fcs: 0,
                    fop: w & 0x7FF,
                    fdp: dp,
                    fds: 0,
                };
            } else {
                self.last = LastOp {
                    fip: u32::from(get16(b, 6)),
                    fcs: get16(b, 8),
                    fop: 0,
                    fdp: u32::from(get16(b, 10)),
                    fds: get16(b, 12),
                };
            }
        }
        self.set_tag_word(tw);
        // Control word before status word so ES is computed with the new masks.
        self.cw = (cw & super::CW_WRITABLE) | super::CW_FIXED_ONES;
        self.set_status_word(sw);
    }

    /// FNSAVE's image (the first `layout.save_len()` bytes). The caller
    /// then applies [`Fpu::init`].
    pub fn save_image(&self, layout: Layout) -> [u8; 108] {
        let mut b = [0u8; 108];
        let n = layout.env_len();
        b[..n].copy_from_slice(&self.env_image(layout)[..n]);
        for i in 0..8 {
            b[n + 10 * i..n + 10 * i + 10].copy_from_slice(&self.st(i).to_bytes());
        }
        b
    }

    /// FRSTOR: the environment, then ST(0)..ST(7) relative to the new TOP.
    pub fn frstor(&mut self, b: &[u8], layout: Layout) {
        let n = layout.env_len();
        self.fldenv(&b[..n], layout);
        for i in 0..8 {
            let mut r = [0u8; 10];
            r.copy_from_slice(&b[n + 10 * i..n + 10 * i + 10]);
            let p = self.phys(i);
            self.regs[p] = F80::from_bytes(r);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fpu::convert::from_int;
    use crate::fpu::{CW_INIT, IE};

    const ALL: [Layout; 4] = [
        Layout {
            op32: true,
            real: false,
        },
        Layout {
            op32: true,
            real: true,
        },
        Layout {
            op32: false,
            real: false,
        },
        Layout {
            op32: false,
            real: true,
        },
    ];

    fn sample() -> Fpu {
        let mut f = Fpu::new();
        f.init();
        f.load_int(5);
        f.load_int(-7);
        f.last = LastOp {
            fip: 0x1234,
            fcs: 0xF000,
            fop: 0x5C1,
            fdp: 0x0600,
            fds: 0x1000,
        };
        f
    }

    #[test]
    fn fninit_image_32bit_protected() {
        let mut f = Fpu::new();
        f.init();
        let b = f.env_image(ALL[0]);
        assert_eq!(
            &b[..12],
            &[0x7F, 0x03, 0xFF, 0xFF, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]
        );
    }

    #[test]
    fn real_mode_pointers_are_linear() {
        let f = sample();
        let b = f.env_image(ALL[3]);
        // F000:1234 -> F1234: low word 1234, bits 19-16 (F) in the top nibble.
        assert_eq!(get16(&b, 6), 0x1234);
        assert_eq!(get16(&b, 8), 0xF000 | 0x5C1);
        assert_eq!(get16(&b, 10), 0x0600);
        assert_eq!(get16(&b, 12), 0x1000);
        let b = f.env_image(ALL[1]);
        assert_eq!(get32(&b, 12), 0xFFFF_1234);
        assert_eq!(get32(&b, 16), 0x0000_F000 | 0x5C1);
    }

    #[test]
    fn save_and_restore_round_trip_in_every_layout() {
        for layout in ALL {
            let f = sample();
            let img = f.save_image(layout);
            let mut g = Fpu::new();
            g.frstor(&img[..layout.save_len()], layout);
            assert_eq!(g.st(0), from_int(-7), "{layout:?}");
            assert_eq!(g.st(1), from_int(5));
            assert_eq!(g.tag_word(), f.tag_word());
            assert_eq!(g.status_word(), f.status_word());
            assert_eq!(g.cw, f.cw);
            assert_eq!(
                g.save_image(layout)[..layout.save_len()],
                img[..layout.save_len()]
            );
        }
    }

    #[test]
    fn fstenv_masks_all_exceptions() {
        let mut f = sample();
        f.set_control_word(CW_INIT & !IE);
        f.fstenv(ALL[0]);
        assert_eq!(f.cw & EXC_MASK, EXC_MASK);
    }
}
