//! State conversion between btvm's [`Cpu`] and the KVM vCPU structures:
//! `kvm_regs` (GPRs, EIP, EFLAGS), `kvm_sregs` (segment caches, control
//! registers, GDTR/IDTR/LDTR/TR) and `kvm_fpu` (the x87 state in FXSAVE
//! layout). Pure functions, so they are unit-tested without `/dev/kvm`.
//!
//! Example: `regs_into_cpu(&regs_from_cpu(&cpu), &mut copy)` leaves `copy`'s
//! registers equal to `cpu`'s; the same holds for `sregs_*` and `fpu_*`.

use btvm_jit::abi::{gpr, sreg, SegCache};
use btvm_jit::flags::FLAG_VM;
use kvm_bindings::{kvm_dtable, kvm_fpu, kvm_regs, kvm_segment, kvm_sregs};

use crate::cpu::{Cpu, TableReg};
use crate::fpu::float80::F80;
use crate::fpu::Fpu;

/// TSS type "busy 32-bit TSS": what TR holds after RESET, and what KVM
/// wants in TR before the guest ever loads one.
const TSS_BUSY_32: u8 = 11;
/// System descriptor type "LDT".
const LDT_TYPE: u8 = 2;
/// MXCSR after RESET: all SSE exceptions masked.
const MXCSR_RESET: u32 = 0x1F80;
/// FSW bits 11-13: TOP.
const FSW_TOP_SHIFT: u16 = 11;

/// GPRs, EIP and EFLAGS (lazy flags materialised) as KVM wants them.
pub fn regs_from_cpu(cpu: &Cpu) -> kvm_regs {
    let r = &cpu.regs;
    let g = |i: usize| u64::from(r.gpr[i]);
    kvm_regs {
        rax: g(gpr::EAX),
        rcx: g(gpr::ECX),
        rdx: g(gpr::EDX),
        rbx: g(gpr::EBX),
        rsp: g(gpr::ESP),
        rbp: g(gpr::EBP),
        rsi: g(gpr::ESI),
        rdi: g(gpr::EDI),
        rip: u64::from(r.eip),
        rflags: u64::from(r.eflags()),
        ..Default::default()
    }
}

/// Take GPRs, EIP and EFLAGS back from KVM.
pub fn regs_into_cpu(k: &kvm_regs, cpu: &mut Cpu) {
    let r = &mut cpu.regs;
    r.gpr[gpr::EAX] = k.rax as u32;
    r.gpr[gpr::ECX] = k.rcx as u32;
    r.gpr[gpr::EDX] = k.rdx as u32;
    r.gpr[gpr::EBX] = k.rbx as u32;
    r.gpr[gpr::ESP] = k.rsp as u32;
    r.gpr[gpr::EBP] = k.rbp as u32;
    r.gpr[gpr::ESI] = k.rsi as u32;
    r.gpr[gpr::EDI] = k.rdi as u32;
    r.eip = k.rip as u32;
    r.set_eflags(k.rflags as u32);
}

/// A segment cache as a `kvm_segment`. A not-present segment is marked
/// unusable (a null selector in protected mode), as VMX expects.
pub fn segment_to_kvm(s: &SegCache) -> kvm_segment {
    let bit = |n: u16| ((s.attr >> n) & 1) as u8;
    kvm_segment {
        base: u64::from(s.base),
        limit: s.limit,
        selector: s.selector,
        type_: (s.attr & 0xF) as u8,
        s: bit(4),
        dpl: ((s.attr >> 5) & 3) as u8,
        present: bit(7),
        avl: bit(12),
        l: bit(13),
        db: bit(14),
        g: bit(15),
        unusable: u8::from(s.attr & SegCache::ATTR_PRESENT == 0),
        padding: 0,
    }
}

/// A `kvm_segment` as a segment cache (attributes in descriptor bytes 5-6
/// layout). An unusable segment comes back not present.
pub fn segment_from_kvm(k: &kvm_segment) -> SegCache {
    let present = k.present != 0 && k.unusable == 0;
    let attr = u16::from(k.type_ & 0xF)
        | u16::from(k.s & 1) << 4
        | u16::from(k.dpl & 3) << 5
        | u16::from(present) << 7
        | u16::from(k.avl & 1) << 12
        | u16::from(k.l & 1) << 13
        | u16::from(k.db & 1) << 14
        | u16::from(k.g & 1) << 15;
    SegCache {
        base: k.base as u32,
        limit: k.limit,
        selector: k.selector,
        attr,
    }
}

fn dtable(t: &TableReg) -> kvm_dtable {
    kvm_dtable {
        base: u64::from(t.base),
        limit: t.limit as u16,
        padding: [0; 3],
    }
}

/// Segment caches, control and descriptor-table registers as KVM wants
/// them. Fields btvm does not model (EFER, APIC base, CR8, the pending
/// interrupt bitmap) are taken from `template`, the vCPU's own values.
pub fn sregs_from_cpu(cpu: &Cpu, template: &kvm_sregs) -> kvm_sregs {
    let seg = |i: usize| segment_to_kvm(&cpu.regs.seg[i]);
    let mut tr = segment_to_kvm(&cpu.tr);
    if cpu.tr.attr == 0 {
        // TR never loaded: the RESET value (a busy TSS at 0, limit 0xFFFF).
        tr = kvm_segment {
            type_: TSS_BUSY_32,
            present: 1,
            limit: 0xFFFF,
            ..tr
        };
        tr.unusable = 0;
    }
    let mut ldt = segment_to_kvm(&cpu.ldtr);
    if cpu.ldtr.attr == 0 {
        ldt.type_ = LDT_TYPE;
    }
    kvm_sregs {
        cs: seg(sreg::CS),
        ds: seg(sreg::DS),
        es: seg(sreg::ES),
        fs: seg(sreg::FS),
        gs: seg(sreg::GS),
        ss: seg(sreg::SS),
        tr,
        ldt,
        gdt: dtable(&cpu.gdtr),
        idt: dtable(&cpu.idtr),
        cr0: u64::from(cpu.cr0),
        cr2: u64::from(cpu.cr2),
        cr3: u64::from(cpu.cr3),
        cr4: u64::from(cpu.cr4),
        ..*template
    }
}

/// Take segment caches, control and descriptor-table registers back from
/// KVM; the CPL follows (CS.RPL, 3 in virtual-8086 mode, 0 in real mode).
/// Returns whether CR0, CR3 or CR4 changed (the caller then flushes the
/// software TLB).
pub fn sregs_into_cpu(k: &kvm_sregs, cpu: &mut Cpu) -> bool {
    let segs = [&k.es, &k.cs, &k.ss, &k.ds, &k.fs, &k.gs];
    for (i, s) in segs.into_iter().enumerate() {
        cpu.regs.seg[i] = segment_from_kvm(s);
    }
    cpu.tr = segment_from_kvm(&k.tr);
    cpu.ldtr = segment_from_kvm(&k.ldt);
    cpu.gdtr = TableReg {
        base: k.gdt.base as u32,
        limit: u32::from(k.gdt.limit),
    };
    cpu.idtr = TableReg {
        base: k.idt.base as u32,
        limit: u32::from(k.idt.limit),
    };
    let (cr0, cr3, cr4) = (k.cr0 as u32, k.cr3 as u32, k.cr4 as u32);
    let changed = cr0 != cpu.cr0 || cr3 != cpu.cr3 || cr4 != cpu.cr4;
    cpu.cr0 = cr0;
    cpu.cr2 = k.cr2 as u32;
    cpu.cr3 = cr3;
    cpu.cr4 = cr4;
    let cpl = if !cpu.protected() {
        0
    } else if cpu.regs.flags & FLAG_VM != 0 {
        3
    } else {
        (k.cs.selector & 3) as u8
    };
    cpu.set_cpl(cpl);
    changed
}

/// The x87 state in FXSAVE layout: registers in stack order (ST0 first),
/// the abridged tag (bit i set = physical register i in use), FIP/FCS and
/// FDP/FDS packed as the 32-bit FXSAVE format packs them.
pub fn fpu_from_cpu(f: &Fpu) -> kvm_fpu {
    let mut k = kvm_fpu {
        fcw: f.cw,
        fsw: f.status_word(),
        ftwx: !f.empty,
        last_opcode: f.last.fop,
        last_ip: u64::from(f.last.fip) | u64::from(f.last.fcs) << 32,
        last_dp: u64::from(f.last.fdp) | u64::from(f.last.fds) << 32,
        mxcsr: MXCSR_RESET,
        ..Default::default()
    };
    for (i, slot) in k.fpr.iter_mut().enumerate() {
        let v = f.st(i);
        slot[..8].copy_from_slice(&v.sig.to_le_bytes());
        slot[8..10].copy_from_slice(&v.se.to_le_bytes());
    }
    k
}

/// Take the x87 state back from KVM (the `ferr_pending` latch is btvm's
/// own and kept).
pub fn fpu_into_cpu(k: &kvm_fpu, f: &mut Fpu) {
    f.top = ((k.fsw >> FSW_TOP_SHIFT) & 7) as u8;
    f.sw = k.fsw & !(7 << FSW_TOP_SHIFT);
    f.cw = k.fcw;
    f.empty = !k.ftwx;
    for (i, slot) in k.fpr.iter().enumerate() {
        let p = f.phys(i);
        f.regs[p] = F80 {
            sig: u64::from_le_bytes(slot[..8].try_into().unwrap_or_default()),
            se: u16::from_le_bytes([slot[8], slot[9]]),
        };
    }
    f.last.fop = k.last_opcode;
    f.last.fip = k.last_ip as u32;
    f.last.fcs = (k.last_ip >> 32) as u16;
    f.last.fdp = k.last_dp as u32;
    f.last.fds = (k.last_dp >> 32) as u16;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cpu::{CR0_PE, CR0_PG};

    /// A protected-mode CPU: flat 32-bit ring-0 code and data, a loaded
    /// LDT and TSS, paging on.
    fn protected_mode_cpu() -> Cpu {
        let mut cpu = Cpu::new();
        let code = SegCache {
            base: 0,
            limit: 0xFFFF_FFFF,
            selector: 0x08,
            attr: 0xC09B,
        };
        let data = SegCache {
            selector: 0x10,
            attr: 0xC093,
            ..code
        };
        cpu.regs.seg = [data, code, data, data, SegCache::default(), data];
        cpu.ldtr = SegCache {
            base: 0x5000,
            limit: 0x37,
            selector: 0x28,
            attr: 0x0082,
        };
        cpu.tr = SegCache {
            base: 0x6000,
            limit: 0x67,
            selector: 0x30,
            attr: 0x008B,
        };
        cpu.gdtr = TableReg {
            base: 0x1000,
            limit: 0x3F,
        };
        cpu.idtr = TableReg {
            base: 0x2000,
            limit: 0x7FF,
        };
        cpu.cr0 |= CR0_PE | CR0_PG;
        cpu.cr2 = 0xDEAD_B000;
        cpu.cr3 = 0x9000;
        cpu.cr4 = crate::cpu::CR4_PSE;
        cpu
    }

    #[test]
    fn sregs_round_trip_in_protected_mode() {
        let cpu = protected_mode_cpu();
        let k = sregs_from_cpu(&cpu, &kvm_sregs::default());
        assert_eq!(k.cs.db, 1);
        assert_eq!(k.cs.g, 1);
        assert_eq!(k.cs.type_, 0xB);
        assert_eq!(k.fs.unusable, 1, "null FS is unusable");
        let mut back = Cpu::new();
        back.cr0 = cpu.cr0;
        assert!(sregs_into_cpu(&k, &mut back), "CR3/CR4 changed");
        assert_eq!(back.regs.seg, cpu.regs.seg);
        assert_eq!(back.ldtr, cpu.ldtr);
        assert_eq!(back.tr, cpu.tr);
        assert_eq!(back.gdtr, cpu.gdtr);
        assert_eq!(back.idtr, cpu.idtr);
        assert_eq!(
            (back.cr0, back.cr2, back.cr3, back.cr4),
            (cpu.cr0, cpu.cr2, cpu.cr3, cpu.cr4)
        );
        assert_eq!(back.cpl, 0);
    }

    #[test]
    fn reset_state_sends_a_usable_tr_and_keeps_real_mode_segments() {
        let cpu = Cpu::new();
        let template = kvm_sregs {
            apic_base: 0xFEE0_0900,
            ..Default::default()
        };
        let k = sregs_from_cpu(&cpu, &template);
        assert_eq!(k.apic_base, 0xFEE0_0900, "unmodelled fields kept");
        assert_eq!(
            (k.tr.type_, k.tr.present, k.tr.unusable),
            (TSS_BUSY_32, 1, 0)
        );
        assert_eq!(k.cs.base, 0xFFFF_0000);
        assert_eq!(k.cs.selector, 0xF000);
        let mut back = Cpu::new();
        assert!(!sregs_into_cpu(&k, &mut back));
        assert_eq!(back.regs.seg, cpu.regs.seg);
    }

    #[test]
    fn regs_round_trip_with_lazy_flags() {
        let mut cpu = Cpu::new();
        cpu.regs.gpr = [1, 2, 3, 4, 0xFFFE, 6, 7, 0x8000_0008];
        cpu.regs.eip = 0x7C00;
        cpu.regs.set_eflags(0x0000_0246);
        let k = regs_from_cpu(&cpu);
        assert_eq!(k.rflags, 0x246);
        assert_eq!(k.rdi, 0x8000_0008);
        let mut back = Cpu::new();
        regs_into_cpu(&k, &mut back);
        assert_eq!(back.regs.gpr, cpu.regs.gpr);
        assert_eq!(back.regs.eip, 0x7C00);
        assert_eq!(back.regs.eflags(), cpu.regs.eflags());
    }

    #[test]
    fn fpu_round_trip_keeps_stack_order_and_tags() {
        let mut f = Fpu::new();
        f.init();
        f.push(F80 {
            sig: 0x8000_0000_0000_0000,
            se: 0x3FFF,
        });
        f.push(F80 {
            sig: 0xC000_0000_0000_0000,
            se: 0x4000,
        });
        f.last.fip = 0x1234;
        f.last.fcs = 0x08;
        let k = fpu_from_cpu(&f);
        assert_eq!(k.fsw >> 11 & 7, 6, "TOP after two pushes");
        assert_eq!(k.ftwx, 0b1100_0000, "R6 and R7 in use");
        assert_eq!(&k.fpr[0][8..10], &0x4000u16.to_le_bytes(), "ST0 first");
        let mut back = Fpu::new();
        fpu_into_cpu(&k, &mut back);
        assert_eq!(back, f);
    }
}
