//! The software MMU: linear-to-physical translation (A20 gate, two-level
//! paging with 4 KiB and PSE 4 MiB pages, U/S and R/W checks with CR0.WP,
//! accessed/dirty bits, #PF error codes and CR2), TLB fills and the
//! flush rules: global pages (CR4.PGE) survive CR3 loads, INVLPG drops one
//! page, and entries filled by a supervisor access for a page a CPL-3
//! access may not use are dropped when CPL becomes 3.
//!
//! Only pages backed by RAM (or ROM, for reads and fetches) enter the TLB;
//! MMIO and unmapped pages take the slow path on every access.

use btvm_jit::abi::{Tlb, TlbEntry, TlbView, TLB_ENTRIES, TLB_INVALID_TAG};

use super::exception::{Exception, PF};
use super::{Cpu, CR0_WP, CR4_PGE, CR4_PSE};
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

/// Page-table entry bit: global (kept across CR3 loads with CR4.PGE).
pub const PTE_G: u32 = 1 << 8;

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

/// A successful page walk: where the page is and what it allows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Walk {
    /// Physical address of the byte.
    phys: u32,
    /// Both levels have U/S set.
    user_ok: bool,
    /// Both levels have R/W set.
    write_ok: bool,
    /// The translation is global (G bit with CR4.PGE).
    global: bool,
    /// Mapped by a 4 MiB page.
    large: bool,
}

/// Side flag of a TLB entry: the entry is also right for a CPL-3 access
/// of its kind (filled by one, or the page allows it).
const SIDE_USER_OK: u8 = 1;
/// Side flag: a global page (survives CR3 loads with CR4.PGE).
const SIDE_GLOBAL: u8 = 2;
/// Side flag: part of a 4 MiB page (INVLPG drops the whole page).
const SIDE_LARGE: u8 = 4;

/// What the MMU remembers about each TLB entry beyond the tag and addend
/// the JIT's ABI holds. Valid for an entry exactly while its tag is.
///
/// Why: entries are filled for the privilege of the access that filled
/// them. A supervisor fill of a supervisor-only (or read-only, with
/// CR0.WP clear) page must never serve a CPL-3 access, so those entries
/// are dropped when CPL becomes 3 ([`Cpu::set_cpl`]). Entries a CPL-3
/// access could use are kept, as are all entries on the way into the
/// kernel (a user-valid translation is always supervisor-valid on a P6).
#[derive(Clone, Debug)]
pub struct TlbSide {
    flags: [[u8; TLB_ENTRIES]; 3],
    /// Some valid entry lacks [`SIDE_USER_OK`] (a flush on entry to CPL 3
    /// has work to do).
    supervisor_only: bool,
    /// Where those entries are (`view << 10 | index`), while they fit:
    /// a return to user mode after a short kernel path drops just these.
    recent: [u16; RECENT_SLOTS],
    /// Entries in `recent`; beyond `RECENT_SLOTS` the drop scans the TLB.
    recent_len: usize,
    /// Per view, every slot that may hold a valid entry (a superset):
    /// flushes visit these instead of all 1024 slots of each view.
    live: [SlotList; 3],
    /// Per view, the slots filled from a 4 MiB page (a superset): INVLPG
    /// of a large page looks only at these.
    large: [SlotList; 3],
    /// `--check`: entries overwritten by fills, with their old values, so
    /// a replay can start from the TLB the JIT started from.
    fills: Option<Vec<TlbFill>>,
    /// `--check`: the whole TLB as it was when recording began, saved at
    /// the first flush while recording (a flush cannot be undone entry by
    /// entry).
    before_flush: Option<Box<(Tlb, TlbSide)>>,
}

/// A set of TLB slot indices of one view, kept as a list (to visit) and a
/// membership map (to insert in O(1) without duplicates).
///
/// Why: a CR3 load or INVLPG used to scan all 3x1024 entries; visiting
/// only the slots filled since the last flush makes them cost what the
/// guest used, as on hardware.
#[derive(Clone, Debug)]
struct SlotList {
    slots: Vec<u16>,
    member: Box<[bool; TLB_ENTRIES]>,
}

impl Default for SlotList {
    fn default() -> Self {
        SlotList {
            slots: Vec::new(),
            member: Box::new([false; TLB_ENTRIES]),
        }
    }
}

impl SlotList {
    #[inline]
    fn insert(&mut self, i: usize) {
        if !self.member[i] {
            self.member[i] = true;
            self.slots.push(i as u16);
        }
    }

    /// Keep the slots for which `keep` says so, forget the others.
    fn retain(&mut self, mut keep: impl FnMut(usize) -> bool) {
        let member = &mut self.member;
        self.slots.retain(|&i| {
            let k = keep(usize::from(i));
            if !k {
                member[usize::from(i)] = false;
            }
            k
        });
    }
}

/// One overwritten TLB entry: view index, entry index, old entry, old side
/// flags.
pub type TlbFill = (usize, usize, TlbEntry, u8);

/// How many supervisor-only fills [`TlbSide`] tracks one by one.
const RECENT_SLOTS: usize = 64;

impl Default for TlbSide {
    fn default() -> Self {
        TlbSide {
            flags: [[0; TLB_ENTRIES]; 3],
            supervisor_only: false,
            recent: [0; RECENT_SLOTS],
            recent_len: 0,
            live: Default::default(),
            large: Default::default(),
            fills: None,
            before_flush: None,
        }
    }
}

fn view_index(view: TlbView) -> usize {
    match view {
        TlbView::Read => 0,
        TlbView::Write => 1,
        TlbView::Exec => 2,
    }
}

const VIEWS: [TlbView; 3] = [TlbView::Read, TlbView::Write, TlbView::Exec];

impl Cpu {
    /// Translate a linear address to a physical one (A20 applied), walking
    /// the page tables when paging is on. Sets A/D bits; a failure is #PF
    /// with CR2 set.
    pub fn translate(
        &mut self,
        mem: &mut GuestMemory,
        linear: u32,
        kind: AccessKind,
    ) -> Result<u32, Exception> {
        if !self.paging() {
            return Ok(linear & mem.a20_mask());
        }
        self.walk(mem, linear, kind)
            .map(|w| w.phys & mem.a20_mask())
    }

    fn walk(
        &mut self,
        mem: &mut GuestMemory,
        linear: u32,
        kind: AccessKind,
    ) -> Result<Walk, Exception> {
        self.tlb_counts.walks += 1;
        let pf = |cpu: &mut Cpu, present: bool| {
            cpu.cr2 = linear;
            // Why: no I/D bit (bit 4) without PAE+NX; a P6 reports a
            // fetch like a read.
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
        let phys = if big {
            (pte & 0xFFC0_0000) | (linear & 0x003F_FFFF)
        } else {
            (pte & !0xFFF) | (linear & 0xFFF)
        };
        let global = pte & PTE_G != 0 && self.cr4 & CR4_PGE != 0;
        Ok(Walk {
            phys,
            user_ok,
            write_ok,
            global,
            large: big,
        })
    }

    /// Translate for a data or fetch access of the current privilege and
    /// enter the page into the TLB view when it is plain RAM (or ROM, for
    /// reads and fetches). Returns the physical address.
    pub fn translate_fill(
        &mut self,
        mem: &mut GuestMemory,
        linear: u32,
        view: TlbView,
    ) -> Result<u32, Exception> {
        let kind = AccessKind {
            write: view == TlbView::Write,
            user: self.cpl == 3,
            fetch: view == TlbView::Exec,
        };
        self.tlb_counts.fills += 1;
        let (phys, side) = if self.paging() {
            let w = self.walk(mem, linear, kind)?;
            let user_ok = w.user_ok && (view != TlbView::Write || w.write_ok);
            let side = (u8::from(user_ok) * SIDE_USER_OK)
                | (u8::from(w.global) * SIDE_GLOBAL)
                | (u8::from(w.large) * SIDE_LARGE);
            (w.phys & mem.a20_mask(), side)
        } else {
            (linear & mem.a20_mask(), SIDE_USER_OK)
        };
        let host_off = match mem.region(phys) {
            // Writes to pages holding translated code take the checked path.
            Region::Ram(_)
                if view == TlbView::Write && (mem.is_code_page(phys >> 12) || mem.journaling()) =>
            {
                None
            }
            Region::Ram(o) => Some(o),
            Region::Rom(o) if view != TlbView::Write => Some(o),
            _ => None,
        };
        if let Some(off) = host_off {
            let page_lin = linear & !0xFFF;
            let page_off = off - (phys & 0xFFF) as usize;
            let addend = mem
                .host_base()
                .wrapping_add(page_off)
                .wrapping_sub(page_lin as usize);
            let i = Tlb::index(linear);
            if let Some(j) = &mut self.tlb_side.fills {
                let v = view_index(view);
                j.push((v, i, self.tlb.view(view)[i], self.tlb_side.flags[v][i]));
            }
            self.tlb.view_mut(view)[i] = TlbEntry {
                tag: page_lin,
                phys: phys & !0xFFF,
                addend,
            };
            let v = view_index(view);
            self.tlb_side.flags[v][i] = side;
            self.tlb_side.live[v].insert(i);
            if side & SIDE_LARGE != 0 {
                self.tlb_side.large[v].insert(i);
            }
            if side & SIDE_USER_OK == 0 {
                let side = &mut *self.tlb_side;
                side.supervisor_only = true;
                if side.recent_len < RECENT_SLOTS {
                    side.recent[side.recent_len] = (view_index(view) << 10 | i) as u16;
                }
                side.recent_len += 1;
            }
        }
        Ok(phys)
    }

    /// Change CPL (every CS load goes through here). Entering CPL 3 with
    /// paging on drops the TLB entries that only a supervisor access may
    /// use.
    #[inline]
    pub fn set_cpl(&mut self, cpl: u8) {
        if cpl == 3 && self.cpl != 3 && self.tlb_side.supervisor_only {
            self.flush_supervisor_only();
        }
        self.cpl = cpl;
    }

    #[cold]
    fn flush_supervisor_only(&mut self) {
        self.note_flush();
        let side = &mut *self.tlb_side;
        if side.recent_len <= RECENT_SLOTS {
            for &slot in &side.recent[..side.recent_len] {
                let (v, i) = (
                    usize::from(slot >> 10),
                    usize::from(slot) & (TLB_ENTRIES - 1),
                );
                if side.flags[v][i] & SIDE_USER_OK == 0 {
                    self.tlb.view_mut(VIEWS[v])[i].tag = TLB_INVALID_TAG;
                }
            }
            side.recent_len = 0;
            side.supervisor_only = false;
            return;
        }
        for view in VIEWS {
            let v = view_index(view);
            let side = &mut *self.tlb_side;
            let entries = self.tlb.view_mut(view);
            let flags = &side.flags[v];
            side.live[v].retain(|i| {
                if flags[i] & SIDE_USER_OK == 0 {
                    entries[i].tag = TLB_INVALID_TAG;
                }
                entries[i].tag != TLB_INVALID_TAG
            });
        }
        self.tlb_side.supervisor_only = false;
        self.tlb_side.recent_len = 0;
    }

    /// `--check`: start recording what fills and flushes change, so that
    /// [`Cpu::undo_tlb_fills`] can restore the TLB a block started with.
    pub fn record_tlb_fills(&mut self) {
        self.tlb_side.fills = Some(Vec::new());
        self.tlb_side.before_flush = None;
    }

    /// Before a flush while recording: keep the TLB as it was when
    /// recording began (the current one with the recorded fills undone).
    fn note_flush(&mut self) {
        let side = &*self.tlb_side;
        let Some(fills) = &side.fills else { return };
        if side.before_flush.is_some() {
            return;
        }
        let mut tlb = (*self.tlb).clone();
        let mut saved = TlbSide {
            fills: None,
            before_flush: None,
            ..side.clone()
        };
        for &(v, i, entry, flags) in fills.iter().rev() {
            tlb.view_mut(VIEWS[v])[i] = entry;
            saved.flags[v][i] = flags;
        }
        self.tlb_side.before_flush = Some(Box::new((tlb, saved)));
    }

    /// Put the TLB back as it was at [`Cpu::record_tlb_fills`] and stop
    /// recording.
    pub fn undo_tlb_fills(&mut self) {
        let fills = self.tlb_side.fills.take().unwrap_or_default();
        if let Some(saved) = self.tlb_side.before_flush.take() {
            let (tlb, side) = *saved;
            *self.tlb = tlb;
            *self.tlb_side = side;
            return;
        }
        for (v, i, entry, side) in fills.into_iter().rev() {
            self.tlb.view_mut(VIEWS[v])[i] = entry;
            self.tlb_side.flags[v][i] = side;
        }
    }

    /// Stop recording fills and keep the TLB as it is.
    pub fn keep_tlb_fills(&mut self) {
        self.tlb_side.fills = None;
        self.tlb_side.before_flush = None;
    }

    /// Forget every translation, global pages included (CR0.PG/WP/PE and
    /// CR4.PGE/PSE changes, A20 toggles).
    pub fn flush_tlb_all(&mut self) {
        self.note_flush();
        let side = &mut *self.tlb_side;
        for view in VIEWS {
            let v = view_index(view);
            let entries = self.tlb.view_mut(view);
            side.live[v].retain(|i| {
                entries[i].tag = TLB_INVALID_TAG;
                false
            });
            side.large[v].retain(|_| false);
        }
        self.tlb_side.supervisor_only = false;
        self.tlb_side.recent_len = 0;
    }

    /// Forget the non-global translations (a CR3 load). Without CR4.PGE
    /// no entry is global and this is a full flush.
    pub fn flush_tlb_non_global(&mut self) {
        self.note_flush();
        if self.cr4 & CR4_PGE == 0 {
            return self.flush_tlb_all();
        }
        let side = &mut *self.tlb_side;
        for view in VIEWS {
            let v = view_index(view);
            let entries = self.tlb.view_mut(view);
            let flags = &side.flags[v];
            side.live[v].retain(|i| {
                if flags[i] & SIDE_GLOBAL == 0 {
                    entries[i].tag = TLB_INVALID_TAG;
                }
                entries[i].tag != TLB_INVALID_TAG
            });
            side.large[v].retain(|i| entries[i].tag != TLB_INVALID_TAG);
        }
    }

    /// INVLPG: forget the translation of the page holding `linear` (all of
    /// it when it is part of a 4 MiB page), global or not.
    pub fn invlpg(&mut self, linear: u32) {
        self.note_flush();
        self.tlb.flush_page(linear);
        let region = linear & 0xFFC0_0000;
        let side = &mut *self.tlb_side;
        for view in VIEWS {
            let v = view_index(view);
            let entries = self.tlb.view_mut(view);
            let flags = &side.flags[v];
            side.large[v].retain(|i| {
                let e = &mut entries[i];
                if e.tag == TLB_INVALID_TAG || flags[i] & SIDE_LARGE == 0 {
                    return false;
                }
                if e.tag & 0xFFC0_0000 == region {
                    e.tag = TLB_INVALID_TAG;
                    return false;
                }
                true
            });
        }
    }

    /// Drop every write-view entry that maps physical page `phys_page`
    /// (the page starts holding translated code, so its writes must take
    /// the checked path). Visits only the live write slots.
    pub fn drop_tlb_writes_to_phys(&mut self, phys_page: u32) {
        let w = view_index(TlbView::Write);
        let entries = &mut self.tlb.write;
        self.tlb_side.live[w].retain(|i| {
            if entries[i].phys == phys_page {
                entries[i].tag = TLB_INVALID_TAG;
            }
            entries[i].tag != TLB_INVALID_TAG
        });
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
        let k = AccessKind {
            write: false,
            user: true,
            fetch: false,
        };
        assert_eq!(cpu.translate(&mut mem, 0x5123, k), Ok(0x9123));
        assert_ne!(read_phys_u32(&mem, 0x2014) & PTE_A, 0);
        assert_eq!(read_phys_u32(&mem, 0x2014) & PTE_D, 0);
    }

    #[test]
    fn user_write_to_read_only_page_faults_with_code_7() {
        let mut mem = GuestMemory::new(1).unwrap();
        let mut cpu = paged_cpu(&mut mem);
        let k = AccessKind {
            write: true,
            user: true,
            fetch: false,
        };
        assert_eq!(
            cpu.translate(&mut mem, 0x5004, k),
            Err(Exception::with_error(PF, 7))
        );
        assert_eq!(cpu.cr2, 0x5004);
    }

    #[test]
    fn not_present_faults_with_code_0_and_supervisor_write_obeys_wp() {
        let mut mem = GuestMemory::new(1).unwrap();
        let mut cpu = paged_cpu(&mut mem);
        let k = AccessKind {
            write: false,
            user: false,
            fetch: false,
        };
        assert_eq!(
            cpu.translate(&mut mem, 0x6000, k),
            Err(Exception::with_error(PF, 0))
        );
        let w = AccessKind {
            write: true,
            user: false,
            fetch: false,
        };
        assert_eq!(cpu.translate(&mut mem, 0x5000, w), Ok(0x9000));
        cpu.cr0 |= CR0_WP;
        assert_eq!(
            cpu.translate(&mut mem, 0x5000, w),
            Err(Exception::with_error(PF, 3))
        );
    }

    fn ctx_test<R>(
        cpu: &mut Cpu,
        mem: &mut GuestMemory,
        f: impl FnOnce(&mut crate::cpu::access::Ctx) -> R,
    ) -> R {
        let mut io = crate::platform::NullPlatform;
        let mut c = crate::cpu::access::Ctx {
            cpu,
            mem,
            io: &mut io,
        };
        f(&mut c)
    }

    #[test]
    fn supervisor_fill_never_serves_cpl3() {
        let mut mem = GuestMemory::new(1).unwrap();
        let mut cpu = paged_cpu(&mut mem);
        // PTE 6 -> 0xA000, supervisor only.
        write_phys_u32(&mut mem, 0x2000 + 6 * 4, 0xA000 | PTE_P | PTE_RW);
        ctx_test(&mut cpu, &mut mem, |c| {
            assert_eq!(c.read_lin(0x6010, 4), Ok(0)); // fills the read view at CPL 0
            assert_eq!(c.read_lin(0x5010, 4), Ok(0)); // a user page, also at CPL 0
            c.cpu.set_cpl(3);
            assert_eq!(
                c.read_lin(0x6010, 4),
                Err(Exception::with_error(PF, 5).into())
            );
            assert_eq!(c.cpu.cr2, 0x6010);
            // The user page's entry was kept.
            assert_eq!(c.cpu.tlb.read[Tlb::index(0x5010)].tag, 0x5000);
        });
    }

    #[test]
    fn supervisor_write_to_read_only_page_is_not_reused_by_cpl3() {
        let mut mem = GuestMemory::new(1).unwrap();
        let mut cpu = paged_cpu(&mut mem);
        ctx_test(&mut cpu, &mut mem, |c| {
            c.write_lin(0x5000, 4, 0x1234_5678).unwrap(); // WP clear: allowed at CPL 0
            c.cpu.set_cpl(3);
            assert_eq!(
                c.write_lin(0x5000, 4, 0),
                Err(Exception::with_error(PF, 7).into())
            );
            assert_eq!(c.read_lin(0x5000, 4), Ok(0x1234_5678));
        });
    }

    #[test]
    fn global_pages_survive_cr3_reload_but_not_invlpg() {
        let mut mem = GuestMemory::new(1).unwrap();
        let mut cpu = paged_cpu(&mut mem);
        cpu.cr4 |= CR4_PGE;
        write_phys_u32(
            &mut mem,
            0x2000 + 7 * 4,
            0xB000 | PTE_P | PTE_RW | PTE_US | PTE_G,
        );
        ctx_test(&mut cpu, &mut mem, |c| {
            c.read_lin(0x5000, 1).unwrap();
            c.read_lin(0x7000, 1).unwrap();
            c.cpu.flush_tlb_non_global();
            assert_eq!(c.cpu.tlb.read[Tlb::index(0x5000)].tag, TLB_INVALID_TAG);
            assert_eq!(c.cpu.tlb.read[Tlb::index(0x7000)].tag, 0x7000);
            c.cpu.invlpg(0x7123);
            assert_eq!(c.cpu.tlb.read[Tlb::index(0x7000)].tag, TLB_INVALID_TAG);
        });
    }

    #[test]
    fn invlpg_drops_a_whole_large_page_and_flushes_visit_every_fill() {
        let mut mem = GuestMemory::new(16).unwrap();
        let mut cpu = paged_cpu(&mut mem);
        cpu.cr4 |= CR4_PSE | CR4_PGE;
        // PDE 1: a global 4 MiB page, 0x400000 -> 0x800000.
        write_phys_u32(
            &mut mem,
            0x1004,
            0x80_0000 | PTE_P | PTE_RW | PTE_US | PDE_PS | PTE_G,
        );
        ctx_test(&mut cpu, &mut mem, |c| {
            for k in 0..8 {
                c.read_lin(0x400000 + 0x1000 * k, 1).unwrap();
                c.write_lin(0x400000 + 0x1000 * k, 1, 0).unwrap();
            }
            c.read_lin(0x5000, 1).unwrap();
            // A CR3 load keeps the global large page, drops the rest.
            c.cpu.flush_tlb_non_global();
            assert_eq!(c.cpu.tlb.read[Tlb::index(0x5000)].tag, TLB_INVALID_TAG);
            assert_eq!(c.cpu.tlb.write[Tlb::index(0x403000)].tag, 0x403000);
            // INVLPG of any page of it drops all of its pages in every view.
            c.cpu.invlpg(0x7FF123);
            for k in 0..8 {
                let i = Tlb::index(0x400000 + 0x1000 * k);
                assert_eq!(c.cpu.tlb.read[i].tag, TLB_INVALID_TAG);
                assert_eq!(c.cpu.tlb.write[i].tag, TLB_INVALID_TAG);
            }
            c.read_lin(0x401000, 1).unwrap();
            c.read_lin(0x5000, 1).unwrap();
            c.cpu.flush_tlb_all();
            for e in c.cpu.tlb.read.iter().chain(c.cpu.tlb.write.iter()) {
                assert_eq!(e.tag, TLB_INVALID_TAG);
            }
        });
    }

    #[test]
    fn fetch_from_supervisor_page_at_cpl3_faults_as_a_read() {
        let mut mem = GuestMemory::new(1).unwrap();
        let mut cpu = paged_cpu(&mut mem);
        write_phys_u32(&mut mem, 0x2000 + 6 * 4, 0xA000 | PTE_P);
        cpu.cpl = 3;
        ctx_test(&mut cpu, &mut mem, |c| {
            assert_eq!(
                c.fetch_lin_u8(0x6000),
                Err(Exception::with_error(PF, 5).into())
            );
        });
    }

    #[test]
    fn many_supervisor_fills_are_all_dropped_on_entry_to_cpl3() {
        let mut mem = GuestMemory::new(1).unwrap();
        let mut cpu = paged_cpu(&mut mem);
        // PDE 1 -> page table at 0x3000 mapping 0x400000.. to 0x10000.., supervisor.
        write_phys_u32(&mut mem, 0x1004, 0x3000 | PTE_P | PTE_RW | PTE_US);
        for k in 0..100 {
            write_phys_u32(
                &mut mem,
                0x3000 + 4 * k,
                (0x10000 + 0x1000 * k) | PTE_P | PTE_RW,
            );
        }
        ctx_test(&mut cpu, &mut mem, |c| {
            for k in 0..100 {
                c.read_lin(0x400000 + 0x1000 * k, 1).unwrap();
            }
            c.cpu.set_cpl(3);
            for k in 0..100 {
                assert_eq!(
                    c.cpu.tlb.read[Tlb::index(0x400000 + 0x1000 * k)].tag,
                    TLB_INVALID_TAG
                );
            }
            assert!(c.read_lin(0x400000, 1).is_err());
        });
    }
}
