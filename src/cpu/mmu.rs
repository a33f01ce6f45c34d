//! The software MMU: linear-to-physical translation (A20 gate, two-level
//! paging with 4 KiB and PSE 4 MiB pages, U/S and R/W checks with CR0.WP,
//! accessed/dirty bits, #PF error codes and CR2) and TLB fills.
//!
//! Only pages backed by RAM (or ROM, for reads and fetches) enter the TLB;
//! MMIO and unmapped pages take the slow path on every access.

use btvm_jit::abi::{Tlb, TlbEntry, TlbView};

use super::exception::{Exception, PF};
use super::{Cpu, CR0_WP, CR4_PSE};
use crate::memory::{GuestMemory, Region};

/// Page-table entry bit: present.
pub const PTE_P: u32 = 1 << 0;
/// Page-table entry bit: writable.
pub const PTE_RW: u32 = 1 << 1;
/// Page-table entry bit: user accessible.
pub const PTE_US: u32 = 1 << 2;
/// Page-table entry bit: accessed.
pub const PTE_A: u32 = 1 << 5;
/// Page-table entry bit: dirty.
pub const PTE_D: u32 = 1 << 6;
/// Page-directory entry bit: 4 MiB page (with CR4.PSE).
pub const PDE_PS: u32 = 1 << 7;

/// What kind of access is being translated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AccessKind {
    /// A write.
    pub write: bool,
    /// Made with user privilege (CPL 3, not an implicit supervisor access).
    pub user: bool,
    /// An instruction fetch.
    pub fetch: bool,
}

impl Cpu {
    /// Translate a linear address to a physical one (A20 applied), walking
    /// the page tables when paging is on. Sets A/D bits; a failure is #PF
    /// with CR2 set.
    pub fn translate(&mut self, mem: &mut GuestMemory, linear: u32, kind: AccessKind) -> Result<u32, Exception> {
        if !self.paging() {
            return Ok(linear & mem.a20_mask());
        }
        self.walk(mem, linear, kind).map(|p| p & mem.a20_mask())
    }

    fn walk(&mut self, mem: &mut GuestMemory, linear: u32, kind: AccessKind) -> Result<u32, Exception> {
        let pf = |cpu: &mut Cpu, present: bool| {
            cpu.cr2 = linear;
            let code = u32::from(present) | u32::from(kind.write) << 1 | u32::from(kind.user) << 2;
            Err(Exception::with_error(PF, code))
        };
        let pde_addr = (self.cr3 & !0xFFF) | ((linear >> 22) << 2);
        let pde = read_phys_u32(mem, pde_addr);
        if pde & PTE_P == 0 {
            return pf(self, false);
        }
        let big = pde & PDE_PS != 0 && self.cr4 & CR4_PSE != 0;
        let (pte_addr, pte) = if big {
            (pde_addr, pde)
        } else {
            let a = (pde & !0xFFF) | ((linear >> 10) & 0xFFC);
            let pte = read_phys_u32(mem, a);
            if pte & PTE_P == 0 {
                return pf(self, false);
            }
            (a, pte)
        };
        // Effective rights are the AND of both levels.
        let user_ok = pde & pte & PTE_US != 0;
        let write_ok = pde & pte & PTE_RW != 0;
        if kind.user && !user_ok {
            return pf(self, true);
        }
        if kind.write && !write_ok && (kind.user || self.cr0 & CR0_WP != 0) {
            return pf(self, true);
        }
        if !big && pde & PTE_A == 0 {
            write_phys_u32(mem, pde_addr, pde | PTE_A);
        }
        let new = pte | PTE_A | if kind.write { PTE_D } else { 0 };
        if new != pte {
            write_phys_u32(mem, pte_addr, new);
        }
        Ok(if big { (pte & 0xFFC0_0000) | (linear & 0x003F_FFFF) } else { (pte & !0xFFF) | (linear & 0xFFF) })
    }

    /// Translate for a data or fetch access of the current privilege and
    /// enter the page into the TLB view when it is plain RAM (or ROM, for
    /// reads and fetches). Returns the physical address.
    pub fn translate_fill(&mut self, mem: &mut GuestMemory, linear: u32, view: TlbView) -> Result<u32, Exception> {
        let kind = AccessKind { write: view == TlbView::Write, user: self.cpl == 3, fetch: view == TlbView::Exec };
        let phys = self.translate(mem, linear, kind)?;
        let host_off = match mem.region(phys) {
            Region::Ram(o) => Some(o),
            Region::Rom(o) if view != TlbView::Write => Some(o),
            _ => None,
        };
        if let Some(off) = host_off {
            let page_lin = linear & !0xFFF;
            let page_off = off - (phys & 0xFFF) as usize;
            let addend = mem.host_base().wrapping_add(page_off).wrapping_sub(page_lin as usize);
            self.tlb.view_mut(view)[Tlb::index(linear)] = TlbEntry { tag: page_lin, phys: phys & !0xFFF, addend };
        }
        Ok(phys)
    }
}

/// Read a little-endian dword of physical RAM (page-table walks; MMIO reads
/// as all-ones).
pub fn read_phys_u32(mem: &GuestMemory, phys: u32) -> u32 {
    let mut b = [0u8; 4];
    mem.read_phys(phys, &mut b);
    u32::from_le_bytes(b)
}

/// Write a little-endian dword of physical RAM.
pub fn write_phys_u32(mem: &mut GuestMemory, phys: u32, value: u32) {
    mem.write_phys(phys, &value.to_le_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cpu::{CR0_PE, CR0_PG};

    fn paged_cpu(mem: &mut GuestMemory) -> Cpu {
        let mut cpu = Cpu::new();
        cpu.cr0 |= CR0_PE | CR0_PG;
        cpu.cr3 = 0x1000;
        // PDE 0 -> page table at 0x2000, user+rw; PTE 5 -> 0x9000 user read-only.
        write_phys_u32(mem, 0x1000, 0x2000 | PTE_P | PTE_RW | PTE_US);
        write_phys_u32(mem, 0x2000 + 5 * 4, 0x9000 | PTE_P | PTE_US);
        cpu
    }

    #[test]
    fn walk_sets_accessed_and_maps() {
        let mut mem = GuestMemory::new(1).unwrap();
        let mut cpu = paged_cpu(&mut mem);
        let k = AccessKind { write: false, user: true, fetch: false };
        assert_eq!(cpu.translate(&mut mem, 0x5123, k), Ok(0x9123));
        assert_ne!(read_phys_u32(&mem, 0x2014) & PTE_A, 0);
        assert_eq!(read_phys_u32(&mem, 0x2014) & PTE_D, 0);
    }

    #[test]
    fn user_write_to_read_only_page_faults_with_code_7() {
        let mut mem = GuestMemory::new(1).unwrap();
        let mut cpu = paged_cpu(&mut mem);
        let k = AccessKind { write: true, user: true, fetch: false };
        assert_eq!(cpu.translate(&mut mem, 0x5004, k), Err(Exception::with_error(PF, 7)));
        assert_eq!(cpu.cr2, 0x5004);
    }

    #[test]
    fn not_present_faults_with_code_0_and_supervisor_write_obeys_wp() {
        let mut mem = GuestMemory::new(1).unwrap();
        let mut cpu = paged_cpu(&mut mem);
        let k = AccessKind { write: false, user: false, fetch: false };
        assert_eq!(cpu.translate(&mut mem, 0x6000, k), Err(Exception::with_error(PF, 0)));
        let w = AccessKind { write: true, user: false, fetch: false };
        assert_eq!(cpu.translate(&mut mem, 0x5000, w), Ok(0x9000));
        cpu.cr0 |= CR0_WP;
        assert_eq!(cpu.translate(&mut mem, 0x5000, w), Err(Exception::with_error(PF, 3)));
    }
}
