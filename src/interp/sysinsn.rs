//! System instructions of the 0F 00 / 0F 01 groups and friends (SDM
//! vol. 2): LGDT/LIDT/SGDT/SIDT, LLDT/SLDT, LTR/STR, LAR/LSL/VERR/VERW,
//! ARPL, LMSW/SMSW/CLTS, INVLPG, WBINVD/INVD.
//!
//! Privilege rules:
//! - LGDT, LIDT, LLDT, LTR, LMSW, CLTS, INVLPG, WBINVD, INVD need CPL 0
//!   (#GP(0); virtual-8086 mode is CPL 3);
//! - LLDT, SLDT, LTR, STR, LAR, LSL, VERR, VERW and ARPL exist only in
//!   protected mode (#UD in real and virtual-8086 mode);
//! - SGDT, SIDT and SMSW work everywhere (no UMIP on a P6).
//!
//! Example: `lgdt [gdtr]` with a 16-bit operand size loads a 24-bit base
//! (the high byte is cleared), with a 32-bit one the full base.

use btvm_jit::flags::FLAG_ZF;
use iced_x86::{Instruction, Mnemonic, OpKind};

use super::alu::set_flag;
use super::operand::{addr32, ea, get_reg, op32, read_op, reg_size, set_reg, write_op};
use super::system::cpl;
use super::system_regs::write_cr0;
use super::Handler;
use crate::cpu::access::{Ctx, Step};
use crate::cpu::descriptor::*;
use crate::cpu::exception::{fault, fault_code, GP, NP, UD};
use crate::cpu::{TableReg, CR0_EM, CR0_MP, CR0_PE, CR0_TS};

/// The handler for a descriptor-table or other system mnemonic.
pub fn handler(m: Mnemonic) -> Option<Handler> {
    Some(match m {
        Mnemonic::Lgdt => |c, i| load_table(c, i, true),
        Mnemonic::Lidt => |c, i| load_table(c, i, false),
        Mnemonic::Sgdt => |c, i| store_table(c, i, true),
        Mnemonic::Sidt => |c, i| store_table(c, i, false),
        Mnemonic::Lldt => lldt,
        Mnemonic::Sldt => |c, i| store_selector(c, i, c.cpu.ldtr.selector),
        Mnemonic::Ltr => ltr,
        Mnemonic::Str => |c, i| store_selector(c, i, c.cpu.tr.selector),
        Mnemonic::Lar => |c, i| access_query(c, i, Query::Lar),
        Mnemonic::Lsl => |c, i| access_query(c, i, Query::Lsl),
        Mnemonic::Verr => |c, i| access_query(c, i, Query::Verr),
        Mnemonic::Verw => |c, i| access_query(c, i, Query::Verw),
        Mnemonic::Arpl => arpl,
        Mnemonic::Lmsw => lmsw,
        Mnemonic::Smsw => smsw,
        Mnemonic::Clts => |c, _| {
            privileged(c)?;
            c.cpu.cr0 &= !CR0_TS;
            Ok(())
        },
        Mnemonic::Invlpg => invlpg,
        Mnemonic::Wbinvd | Mnemonic::Invd => |c, _| privileged(c),
        _ => return None,
    })
}

/// #GP(0) unless CPL is 0 (real mode counts as CPL 0, v86 mode as 3).
fn privileged(ctx: &Ctx) -> Step {
    if cpl(ctx) != 0 {
        return fault_code(GP, 0);
    }
    Ok(())
}

/// #UD outside protected mode proper (real and virtual-8086 mode).
fn protected_only(ctx: &Ctx) -> Step {
    if ctx.cpu.real_addressing() {
        return fault(UD);
    }
    Ok(())
}

/// The segment and offset of a memory operand, with the offset `k` bytes
/// further (wrapping with the address size).
fn mem_at(ctx: &Ctx, i: &Instruction, k: u32) -> (usize, u32) {
    let (s, o) = ea(ctx, i);
    let o = o.wrapping_add(k);
    (s, if addr32(i) { o } else { o & 0xFFFF })
}

fn load_table(ctx: &mut Ctx, i: &Instruction, gdt: bool) -> Step {
    if i.op_kind(0) != OpKind::Memory {
        return fault(UD);
    }
    privileged(ctx)?;
    let (s, o) = mem_at(ctx, i, 0);
    let limit = ctx.read_seg(s, o, 2)?;
    let (s, o) = mem_at(ctx, i, 2);
    let mut base = ctx.read_seg(s, o, 4)?;
    if !op32(i) {
        base &= 0x00FF_FFFF;
    }
    let t = TableReg { base, limit };
    if gdt {
        ctx.cpu.gdtr = t;
    } else {
        ctx.cpu.idtr = t;
    }
    Ok(())
}

fn store_table(ctx: &mut Ctx, i: &Instruction, gdt: bool) -> Step {
    if i.op_kind(0) != OpKind::Memory {
        return fault(UD);
    }
    let t = if gdt { ctx.cpu.gdtr } else { ctx.cpu.idtr };
    // Why: with a 16-bit operand size a P6 (and QEMU) stores a 24-bit base
    // and a zero high byte; a 286 would store 0xFF there.
    let base = if op32(i) {
        t.base
    } else {
        t.base & 0x00FF_FFFF
    };
    let (s0, o0) = mem_at(ctx, i, 0);
    let (s2, o2) = mem_at(ctx, i, 2);
    // Check both parts before writing either.
    let l0 = ctx.seg_check(s0, o0, 2, true)?;
    let l2 = ctx.seg_check(s2, o2, 4, true)?;
    ctx.probe_write_lin(l0, 2)?;
    ctx.probe_write_lin(l2, 4)?;
    ctx.write_seg(s0, o0, 2, t.limit)?;
    ctx.write_seg(s2, o2, 4, base)
}

/// SLDT/STR: a register destination gets the selector zero-extended, a
/// memory destination 16 bits.
fn store_selector(ctx: &mut Ctx, i: &Instruction, sel: u16) -> Step {
    protected_only(ctx)?;
    match i.op_kind(0) {
        OpKind::Register => {
            set_reg(ctx, i.op_register(0), u32::from(sel));
            Ok(())
        }
        _ => write_op(ctx, i, 0, 2, u32::from(sel)),
    }
}

fn lldt(ctx: &mut Ctx, i: &Instruction) -> Step {
    protected_only(ctx)?;
    privileged(ctx)?;
    let sel = read_op(ctx, i, 0, 2)? as u16;
    if is_null(sel) {
        ctx.cpu.ldtr = null_cache(sel);
        return Ok(());
    }
    if sel & 4 != 0 {
        return sel_fault(GP, sel, 0);
    }
    let d = ctx.read_descriptor(sel, GP, 0)?;
    if !d.is_system() || d.typ() != LDT {
        return sel_fault(GP, sel, 0);
    }
    if !d.present() {
        return sel_fault(NP, sel, 0);
    }
    ctx.cpu.ldtr = d.cache(sel);
    Ok(())
}

fn ltr(ctx: &mut Ctx, i: &Instruction) -> Step {
    protected_only(ctx)?;
    privileged(ctx)?;
    let sel = read_op(ctx, i, 0, 2)? as u16;
    let d = ctx.check_available_tss(sel, GP, 0)?;
    ctx.set_tss_busy(sel, true)?;
    let mut c = d.cache(sel);
    c.attr |= u16::from(TSS_BUSY_BIT);
    ctx.cpu.tr = c;
    Ok(())
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Query {
    Lar,
    Lsl,
    Verr,
    Verw,
}

/// LAR, LSL, VERR, VERW: ZF=1 and (LAR/LSL) the result when the selector
/// names a descriptor of a kind the instruction accepts and the current
/// privilege may see it (conforming code exempt for LAR/LSL/VERR); ZF=0
/// otherwise. Only the memory read of the operand can fault.
fn access_query(ctx: &mut Ctx, i: &Instruction, q: Query) -> Step {
    protected_only(ctx)?;
    let src = if q == Query::Lar || q == Query::Lsl {
        1
    } else {
        0
    };
    let sel = read_op(ctx, i, src, 2)? as u16;
    let d = match ctx.descriptor_addr(sel) {
        Some(a) if !is_null(sel) => Some(ctx.read_descriptor_at(a)?),
        _ => None,
    };
    let cpl = ctx.cpu.cpl;
    let ok = d.is_some_and(|d| {
        let kind_ok = if d.is_system() {
            match q {
                Query::Lar => matches!(
                    d.typ(),
                    TSS16_AVAIL
                        | LDT
                        | TSS16_BUSY
                        | CALL_GATE16
                        | TASK_GATE
                        | TSS32_AVAIL
                        | TSS32_BUSY
                        | CALL_GATE32
                ),
                Query::Lsl => matches!(
                    d.typ(),
                    TSS16_AVAIL | LDT | TSS16_BUSY | TSS32_AVAIL | TSS32_BUSY
                ),
                Query::Verr | Query::Verw => false,
            }
        } else {
            match q {
                Query::Lar | Query::Lsl => true,
                Query::Verr => d.is_readable(),
                Query::Verw => d.is_writable_data(),
            }
        };
        let priv_ok =
            d.is_conforming() && q != Query::Verw || (d.dpl() >= cpl && d.dpl() >= rpl(sel));
        kind_ok && priv_ok
    });
    set_flag(ctx, FLAG_ZF, ok);
    if let (true, Some(d)) = (ok, d) {
        let r = i.op_register(0);
        let wide = reg_size(r) == 4;
        match q {
            // Why: limit bits 19:16 are undefined in LAR's result; like QEMU,
            // they read as 0.
            Query::Lar => set_reg(ctx, r, d.hi & if wide { 0x00F0_FF00 } else { 0xFF00 }),
            Query::Lsl => set_reg(ctx, r, d.limit()),
            _ => {}
        }
    }
    Ok(())
}

/// ARPL r/m16, r16: raise the destination selector's RPL to the source's.
fn arpl(ctx: &mut Ctx, i: &Instruction) -> Step {
    protected_only(ctx)?;
    let dst = read_op(ctx, i, 0, 2)?;
    let src = get_reg(ctx, i.op_register(1));
    if dst & 3 < src & 3 {
        write_op(ctx, i, 0, 2, (dst & !3) | (src & 3))?;
        set_flag(ctx, FLAG_ZF, true);
    } else {
        set_flag(ctx, FLAG_ZF, false);
    }
    Ok(())
}

/// LMSW: load PE, MP, EM and TS from the low bits of the operand; PE can
/// be set but not cleared.
fn lmsw(ctx: &mut Ctx, i: &Instruction) -> Step {
    privileged(ctx)?;
    let v = read_op(ctx, i, 0, 2)?;
    let bits = CR0_PE | CR0_MP | CR0_EM | CR0_TS;
    let cr0 = ctx.cpu.cr0;
    let new = (cr0 & !(CR0_MP | CR0_EM | CR0_TS)) | (v & bits) | (cr0 & CR0_PE);
    write_cr0(ctx, new)
}

/// SMSW: the low word of CR0 to memory, or all of CR0 to a 32-bit
/// register.
fn smsw(ctx: &mut Ctx, i: &Instruction) -> Step {
    let cr0 = ctx.cpu.cr0;
    match i.op_kind(0) {
        OpKind::Register => {
            set_reg(ctx, i.op_register(0), cr0);
            Ok(())
        }
        _ => write_op(ctx, i, 0, 2, cr0 & 0xFFFF),
    }
}

/// INVLPG m: drop the TLB entries of the page holding the operand's linear
/// address (no limit check: the address is not accessed).
fn invlpg(ctx: &mut Ctx, i: &Instruction) -> Step {
    if i.op_kind(0) != OpKind::Memory {
        return fault(UD);
    }
    privileged(ctx)?;
    let (s, o) = ea(ctx, i);
    let lin = ctx.cpu.regs.seg[s].base.wrapping_add(o);
    ctx.cpu.invlpg(lin);
    Ok(())
}

#[cfg(test)]
mod tests {
    use btvm_jit::abi::{gpr, sreg, SegCache};

    use super::*;
    use crate::cpu::{Cpu, CR0_PE};
    use crate::memory::GuestMemory;
    use crate::platform::NullPlatform;

    /// Decode `bytes` as 32-bit code and run the handler once.
    fn run32(cpu: &mut Cpu, mem: &mut GuestMemory, bytes: &[u8]) -> Step {
        let mut dec = iced_x86::Decoder::new(32, bytes, iced_x86::DecoderOptions::NONE);
        let i = dec.decode();
        let h = handler(i.mnemonic()).expect("system mnemonic");
        let mut io = NullPlatform;
        let mut c = Ctx {
            cpu,
            mem,
            io: &mut io,
        };
        h(&mut c, &i)
    }

    fn pm32(mem: &mut GuestMemory) -> Cpu {
        let mut cpu = Cpu::new();
        cpu.cr0 |= CR0_PE;
        let flat = |attr: u16| SegCache {
            base: 0,
            limit: u32::MAX,
            selector: 0x10,
            attr,
        };
        cpu.regs.seg = [flat(0xC093); 6];
        cpu.regs.seg[sreg::CS] = SegCache {
            selector: 0x08,
            ..flat(0xC09B)
        };
        // GDT at 0x1000: 0x08 ring-0 code, 0x10 ring-0 data, 0x18 ring-3 data,
        // 0x20 available 32-bit TSS at 0x3000, 0x28 32-bit interrupt gate.
        let gdt: [u64; 6] = [
            0,
            0x00CF_9A00_0000_FFFF,
            0x00CF_9200_0000_FFFF,
            0x00CF_F200_0000_FFFF,
            0x0000_8900_3000_0067,
            0x0000_8E00_0008_0000,
        ];
        for (k, e) in gdt.iter().enumerate() {
            mem.write_phys(0x1000 + 8 * k as u32, &e.to_le_bytes());
        }
        cpu.gdtr = TableReg {
            base: 0x1000,
            limit: 47,
        };
        cpu
    }

    #[test]
    fn lar_lsl_verr_verw() {
        let mut mem = GuestMemory::new(1).unwrap();
        let mut cpu = pm32(&mut mem);
        cpu.regs.gpr[gpr::EBX] = 0x18;
        run32(&mut cpu, &mut mem, &[0x0F, 0x02, 0xC3]).unwrap(); // lar eax, ebx
        assert_eq!(cpu.regs.gpr[gpr::EAX], 0x00C0_F200);
        run32(&mut cpu, &mut mem, &[0x0F, 0x03, 0xC3]).unwrap(); // lsl eax, ebx
        assert_eq!(cpu.regs.gpr[gpr::EAX], 0xFFFF_FFFF);
        cpu.regs.gpr[gpr::EBX] = 0x28; // an interrupt gate: LAR refuses it
        run32(&mut cpu, &mut mem, &[0x0F, 0x02, 0xC3]).unwrap();
        assert_eq!(cpu.regs.eflags() & FLAG_ZF, 0);
        cpu.regs.gpr[gpr::EBX] = 0x08; // code: readable, not writable
        run32(&mut cpu, &mut mem, &[0x0F, 0x00, 0xE3]).unwrap(); // verr bx
        assert_ne!(cpu.regs.eflags() & FLAG_ZF, 0);
        run32(&mut cpu, &mut mem, &[0x0F, 0x00, 0xEB]).unwrap(); // verw bx
        assert_eq!(cpu.regs.eflags() & FLAG_ZF, 0);
        cpu.cpl = 3; // ring-0 data is invisible at CPL 3
        cpu.regs.gpr[gpr::EBX] = 0x13;
        run32(&mut cpu, &mut mem, &[0x0F, 0x02, 0xC3]).unwrap();
        assert_eq!(cpu.regs.eflags() & FLAG_ZF, 0);
    }

    #[test]
    fn ltr_marks_busy_and_twice_is_gp() {
        let mut mem = GuestMemory::new(1).unwrap();
        let mut cpu = pm32(&mut mem);
        cpu.regs.gpr[gpr::EAX] = 0x20;
        run32(&mut cpu, &mut mem, &[0x0F, 0x00, 0xD8]).unwrap(); // ltr ax
        assert_eq!(cpu.tr.selector, 0x20);
        assert_eq!(cpu.tr.base, 0x3000);
        let r = run32(&mut cpu, &mut mem, &[0x0F, 0x00, 0xD8]);
        assert_eq!(r, fault_code(GP, 0x20));
        run32(&mut cpu, &mut mem, &[0x0F, 0x00, 0xC8]).unwrap(); // str eax
        assert_eq!(cpu.regs.gpr[gpr::EAX], 0x20);
    }

    #[test]
    fn arpl_and_real_mode_ud() {
        let mut mem = GuestMemory::new(1).unwrap();
        let mut cpu = pm32(&mut mem);
        cpu.regs.gpr[gpr::EAX] = 0x0010;
        cpu.regs.gpr[gpr::EBX] = 0x0003;
        run32(&mut cpu, &mut mem, &[0x63, 0xD8]).unwrap(); // arpl ax, bx
        assert_eq!(cpu.regs.gpr[gpr::EAX], 0x0013);
        assert_ne!(cpu.regs.eflags() & FLAG_ZF, 0);
        cpu.cr0 &= !CR0_PE;
        assert_eq!(run32(&mut cpu, &mut mem, &[0x63, 0xD8]), fault(UD));
    }

    #[test]
    fn lgdt_16bit_operand_drops_the_base_high_byte_and_needs_cpl0() {
        let mut mem = GuestMemory::new(1).unwrap();
        let mut cpu = pm32(&mut mem);
        mem.write_phys(0x500, &[0xFF, 0x00, 0x78, 0x56, 0x34, 0x12]);
        run32(
            &mut cpu,
            &mut mem,
            &[0x66, 0x0F, 0x01, 0x15, 0x00, 0x05, 0, 0],
        )
        .unwrap(); // o16 lgdt [0x500]
        assert_eq!(
            cpu.gdtr,
            TableReg {
                base: 0x0034_5678,
                limit: 0xFF
            }
        );
        cpu.cpl = 3;
        assert_eq!(
            run32(&mut cpu, &mut mem, &[0x0F, 0x01, 0x15, 0x00, 0x05, 0, 0]),
            fault_code(GP, 0)
        );
        run32(&mut cpu, &mut mem, &[0x0F, 0x01, 0x05, 0x10, 0x05, 0, 0]).unwrap(); // sgdt [0x510] is allowed
        let mut b = [0u8; 6];
        mem.read_phys(0x510, &mut b);
        assert_eq!(b, [0xFF, 0x00, 0x78, 0x56, 0x34, 0x00]);
    }
}
