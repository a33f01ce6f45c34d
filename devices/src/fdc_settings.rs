//! The 82077AA's parameter registers: what SPECIFY, CONFIGURE, LOCK and
//! PERPENDICULAR MODE set, what a reset does to them, and the DUMPREG
//! image of them.
//!
//! Reference: Intel 82077AA datasheet, command descriptions of SPECIFY,
//! CONFIGURE, LOCK, PERPENDICULAR MODE and DUMPREG, and "Reset": a
//! software or DOR reset restores CONFIGURE's defaults unless LOCK is set,
//! clears PERPENDICULAR MODE's GAP and WGATE, and leaves SPECIFY alone.

use crate::fdc_regs::{CONFIG_DEFAULT, CONFIG_EIS, LOCK_BIT};

/// SPECIFY byte 2: non-DMA mode.
const SPECIFY_ND: u8 = 0x01;
/// PERPENDICULAR MODE: overwrite the drive bits (D3-D0).
const PERPENDICULAR_OW: u8 = 0x80;
/// PERPENDICULAR MODE: D3-D0, perpendicular mode per drive (bits 5-2).
const PERPENDICULAR_DRIVES: u8 = 0x3C;
/// PERPENDICULAR MODE: GAP and WGATE (bits 1-0).
const PERPENDICULAR_GAP_WGATE: u8 = 0x03;
/// DUMPREG byte 7: LOCK in bit 7.
const DUMPREG_LOCK: u8 = 0x80;

/// The parameter registers of the controller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FdcSettings {
    /// SPECIFY bytes: SRT/HUT, HLT/ND.
    specify: [u8; 2],
    /// CONFIGURE byte 2: EIS, EFIFO, POLL, FIFOTHR.
    config: u8,
    /// CONFIGURE byte 3: precompensation start track.
    pretrk: u8,
    lock: bool,
    /// PERPENDICULAR MODE: D3-D0, GAP, WGATE.
    perpendicular: u8,
    /// EOT (or SC) of the last data command, for DUMPREG.
    pub last_eot: u8,
}

impl Default for FdcSettings {
    fn default() -> Self {
        FdcSettings {
            specify: [0; 2],
            config: CONFIG_DEFAULT,
            pretrk: 0,
            lock: false,
            perpendicular: 0,
            last_eot: 0,
        }
    }
}

impl FdcSettings {
    /// SPECIFY: step rate / head unload, head load / non-DMA.
    pub fn specify(&mut self, srt_hut: u8, hlt_nd: u8) {
        self.specify = [srt_hut, hlt_nd];
    }

    /// CONFIGURE: byte 2 (EIS, EFIFO, POLL, FIFOTHR) and PRETRK.
    pub fn configure(&mut self, config: u8, pretrk: u8) {
        self.config = config;
        self.pretrk = pretrk;
    }

    /// LOCK / UNLOCK; returns the result byte.
    pub fn set_lock(&mut self, lock: bool) -> u8 {
        self.lock = lock;
        if lock {
            LOCK_BIT
        } else {
            0
        }
    }

    /// PERPENDICULAR MODE: D3-D0 change only with OW set.
    pub fn perpendicular_mode(&mut self, value: u8) {
        let drives = if value & PERPENDICULAR_OW != 0 {
            value
        } else {
            self.perpendicular
        };
        self.perpendicular = drives & PERPENDICULAR_DRIVES | value & PERPENDICULAR_GAP_WGATE;
    }

    /// Non-DMA mode (SPECIFY ND).
    pub fn non_dma(&self) -> bool {
        self.specify[1] & SPECIFY_ND != 0
    }

    /// Implied seek before READ/WRITE (CONFIGURE EIS).
    pub fn implied_seek(&self) -> bool {
        self.config & CONFIG_EIS != 0
    }

    /// What a controller reset does to the parameters.
    pub fn reset(&mut self) {
        if !self.lock {
            self.config = CONFIG_DEFAULT;
            self.pretrk = 0;
        }
        self.perpendicular &= !PERPENDICULAR_GAP_WGATE;
    }

    /// DUMPREG's ten bytes, given the drives' present cylinder numbers.
    pub fn dump(&self, pcn: [u8; 4]) -> [u8; 10] {
        let lock_perpendicular = if self.lock { DUMPREG_LOCK } else { 0 } | self.perpendicular;
        let [srt_hut, hlt_nd] = self.specify;
        let [p0, p1, p2, p3] = pcn;
        [
            p0,
            p1,
            p2,
            p3,
            srt_hut,
            hlt_nd,
            self.last_eot,
            lock_perpendicular,
            self.config,
            self.pretrk,
        ]
    }
}

/// The parameter commands as a driver issues them, through the controller.
#[cfg(test)]
mod tests {
    use crate::fdc_regs::REG_DSR;
    use crate::fdc_testing::Pc;

    #[test]
    fn version_answers_0x90() {
        let mut pc = Pc::new();
        pc.command(&[0x10]);
        assert_eq!(pc.results(), [0x90]);
    }

    #[test]
    fn dumpreg_shows_specify_configure_perpendicular_and_lock() {
        let mut pc = Pc::new();
        pc.command(&[0x03, 0xAF, 0x1E]); // SPECIFY
        assert_eq!(pc.results(), [], "SPECIFY has no result phase");
        pc.command(&[0x13, 0x00, 0x57, 0x09]); // CONFIGURE: EIS, no poll, thr 7, pretrk 9
        pc.command(&[0x12, 0x80 | 0x3C | 0x03]); // PERPENDICULAR: all drives, GAP, WGATE
        pc.command(&[0x12, 0x00]); // OW clear: drive bits kept, GAP/WGATE cleared
        pc.command(&[0x94]); // LOCK
        assert_eq!(pc.results(), [0x10]);
        pc.seek_and_sense(&[0x0F, 0x01, 12]);
        pc.command(&[0x0E]);
        assert_eq!(
            pc.results(),
            [0, 12, 0, 0, 0xAF, 0x1E, 0, 0x80 | 0x3C, 0x57, 0x09]
        );
    }

    #[test]
    fn lock_keeps_configure_across_a_reset() {
        let mut pc = Pc::new();
        pc.command(&[0x03, 0xAF, 0x1E]);
        pc.command(&[0x13, 0x00, 0x57, 0x09]);
        pc.command(&[0x12, 0x83]);
        pc.command(&[0x94]);
        pc.results();
        pc.outb(REG_DSR, 0x80);
        pc.wait_irq6();
        pc.command(&[0x0E]);
        assert_eq!(&pc.results()[4..], &[0xAF, 0x1E, 0, 0x80, 0x57, 0x09]);
        pc.command(&[0x14]); // UNLOCK
        assert_eq!(pc.results(), [0x00]);
        pc.outb(REG_DSR, 0x80);
        pc.command(&[0x0E]);
        assert_eq!(
            &pc.results()[4..],
            &[0xAF, 0x1E, 0, 0, 0x20, 0],
            "defaults, SPECIFY kept"
        );
    }

    #[test]
    fn configure_takes_three_parameter_bytes() {
        let mut pc = Pc::new();
        pc.command(&[0x13]);
        assert_eq!(
            pc.inb(crate::fdc_regs::REG_MSR),
            0x90,
            "RQM | CB: more bytes wanted"
        );
        pc.command(&[0x00, 0x10, 0x00]);
        assert_eq!(pc.inb(crate::fdc_regs::REG_MSR), 0x80);
    }
}
