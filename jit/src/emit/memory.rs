//! The emitter's memory accesses: effective addresses, the segment step
//! (flat, limit-checked or slow), the inline software-TLB lookup, and loads
//! and stores with their out-of-line helper paths.

use dynasmrt::{dynasm, DynamicLabel, DynasmApi, DynasmLabelApi};

use super::{Cur, Deferred, Dst, Emitter, ATTENTION, EAX, R14};
use crate::abi::{tlb_view_offset, RegFile, TlbView};
use crate::mode::SegClass;

impl Emitter<'_> {
    /// Effective address of `instr`'s memory operand into `r14d` (16-bit
    /// addressing wraps at 64 KiB).
    pub fn effective_address(
        &mut self,
        base: Option<i32>,
        index: Option<(i32, u8)>,
        disp: u32,
        addr16: bool,
    ) {
        // Full 32-bit registers also for 16-bit addressing: the low 16 bits
        // of the sum only depend on the low 16 bits of its terms, and the
        // result is truncated below.
        let host = |em: &mut Self, off: i32, tmp: u8| match em.locate(Dst::Guest(off), false, true)
        {
            Dst::Host(h) => h,
            Dst::Guest(off) => {
                em.load_guest(4, tmp, off);
                tmp
            }
        };
        let b = base.map(|off| host(self, off, R14));
        let x = index.map(|(off, scale)| (host(self, off, EAX), scale));
        let d = disp as i32;
        match (b, x) {
            (None, None) => dynasm!(self.ops ; .arch x64 ; mov r14d, d),
            (Some(R14), None) => {
                if d != 0 {
                    dynasm!(self.ops ; .arch x64 ; add r14d, d);
                }
            }
            (b, x) => self.lea_r14(b, x, d),
        }
        if addr16 {
            dynasm!(self.ops ; .arch x64 ; movzx r14d, r14w);
        }
    }

    /// `lea r14d, [base + index * scale + disp32]` on host registers
    /// (`base` never `rsp`/`r12`, `index` never `rsp`).
    fn lea_r14(&mut self, base: Option<u8>, index: Option<(u8, u8)>, disp: i32) {
        let mut rex = 0x44;
        if base.is_some_and(|b| b >= 8) {
            rex |= 0x01;
        }
        match index {
            Some((x, scale)) => {
                if x >= 8 {
                    rex |= 0x02;
                }
                let ss = match scale {
                    1 => 0,
                    2 => 1,
                    4 => 2,
                    _ => 3,
                };
                let (modrm, b) = match base {
                    Some(b) => (0xB4, b & 7),
                    None => (0x34, 5),
                };
                self.bytes(&[rex, 0x8D, modrm, ss << 6 | (x & 7) << 3 | b]);
            }
            None => {
                let b = base.unwrap_or(0);
                debug_assert!(b & 7 != 4);
                self.bytes(&[rex, 0x8D, 0xB0 | (b & 7)]);
            }
        }
        self.bytes(&disp.to_le_bytes());
    }

    /// Turn the offset in `r14d` into a linear address in `esi` for an
    /// access of `size` bytes through segment `seg`, jumping to `slow` when
    /// it must take the checked path.
    fn linear(&mut self, seg: usize, size: u8, slow: DynamicLabel) {
        match self.mode.seg(seg) {
            SegClass::Flat => dynasm!(self.ops ; .arch x64 ; mov esi, r14d),
            SegClass::Limit => {
                let limit = RegFile::seg_limit_offset(seg) as i32;
                let base = RegFile::seg_base_offset(seg) as i32;
                dynasm!(self.ops
                    ; .arch x64
                    ; lea rax, [r14 + (size as i32 - 1)]
                    ; mov edx, DWORD [rbx + limit]
                    ; cmp rax, rdx
                    ; ja =>slow
                    ; mov esi, r14d
                    ; add esi, DWORD [rbx + base]
                );
            }
            SegClass::Slow => dynasm!(self.ops ; .arch x64 ; jmp =>slow),
        }
    }

    /// TLB lookup of the linear address in `esi` in `view`; on a hit `rax`
    /// is the addend (host = `rax + rsi`), on a miss jump to `slow`.
    fn tlb(&mut self, view: TlbView, size: u8, slow: DynamicLabel) {
        let v = tlb_view_offset(view) as i32;
        dynasm!(self.ops
            ; .arch x64
            ; lea edx, [rsi + (size as i32 - 1)]
            ; and edx, 0xFFFF_F000u32 as i32
            ; mov eax, esi
            ; shr eax, 8
            ; and eax, 0x3FF0
            ; cmp edx, DWORD [r12 + rax + v]
            ; jne =>slow
            ; mov rax, QWORD [r12 + rax + v + 8]
        );
    }

    /// Load `size` bytes at `seg:r14d` into `eax` (zero-extended).
    pub fn load(&mut self, cur: Cur, seg: usize, size: u8) {
        self.load_view(cur, seg, size, false);
    }

    /// Load the operand of a read-modify-write: through the write view of
    /// the TLB, and on the slow path with write intent, so a read-only or
    /// missing page faults at the read with W=1, as the CPU does.
    pub fn load_for_write(&mut self, cur: Cur, seg: usize, size: u8) {
        self.load_view(cur, seg, size, true);
    }

    fn load_view(&mut self, cur: Cur, seg: usize, size: u8, rmw: bool) {
        let site = self.site(cur, seg, size);
        if rmw {
            // The record just made by `site` (boxed, so `site` stays valid).
            if let Some(s) = self.sites.last_mut() {
                s.rmw = true;
            }
        }
        let slow = self.ops.new_dynamic_label();
        let back = self.ops.new_dynamic_label();
        self.linear(seg, size, slow);
        if self.mode.seg(seg) != SegClass::Slow {
            let view = if rmw { TlbView::Write } else { TlbView::Read };
            self.tlb(view, size, slow);
            match size {
                1 => dynasm!(self.ops ; .arch x64 ; movzx eax, BYTE [rax + rsi]),
                2 => dynasm!(self.ops ; .arch x64 ; movzx eax, WORD [rax + rsi]),
                _ => dynasm!(self.ops ; .arch x64 ; mov eax, DWORD [rax + rsi]),
            }
        }
        dynasm!(self.ops ; .arch x64 ; =>back);
        let st = self.regs;
        self.deferred.push(Deferred::Load {
            entry: slow,
            back,
            site,
            st,
        });
    }

    /// Store `size` bytes of `ecx` at `seg:r14d`.
    pub fn store(&mut self, cur: Cur, seg: usize, size: u8) {
        let site = self.site(cur, seg, size);
        let slow = self.ops.new_dynamic_label();
        let back = self.ops.new_dynamic_label();
        self.stored = true;
        if self.all_stores_slow {
            dynasm!(self.ops ; .arch x64 ; jmp =>slow);
        } else {
            self.linear(seg, size, slow);
            if self.mode.seg(seg) != SegClass::Slow {
                self.tlb(TlbView::Write, size, slow);
                match size {
                    1 => dynasm!(self.ops ; .arch x64 ; mov BYTE [rax + rsi], cl),
                    2 => dynasm!(self.ops ; .arch x64 ; mov WORD [rax + rsi], cx),
                    _ => dynasm!(self.ops ; .arch x64 ; mov DWORD [rax + rsi], ecx),
                }
            }
        }
        dynasm!(self.ops ; .arch x64 ; =>back);
        let st = self.regs;
        self.deferred.push(Deferred::Store {
            entry: slow,
            back,
            site,
            st,
        });
    }

    /// After an instruction that stored to memory: leave the block when the
    /// store asked for attention (self-modifying code, a device).
    pub fn attention_check(&mut self, cur: Cur) {
        let entry = self.ops.new_dynamic_label();
        dynasm!(self.ops
            ; .arch x64
            ; cmp DWORD [rbx + ATTENTION], 0
            ; jne =>entry
        );
        let st = self.regs;
        self.deferred.push(Deferred::ExitAfter {
            entry,
            next_eip: cur.next_eip,
            rem: cur.rem,
            st,
        });
    }
}
