//! Bit instructions: BT/BTS/BTR/BTC, BSF/BSR, BSWAP, SETcc, CMOVcc.
//!
//! - BTx with an imm8 offset, or with a register destination, takes the
//!   offset modulo the operand width. With a memory destination and a
//!   register offset the offset is signed and may reach outside the
//!   operand: the word/dword at `ea + (offset >> 4) * 2` (16-bit) or
//!   `ea + (offset >> 5) * 4` (32-bit, arithmetic shifts) is accessed,
//!   the sum wrapping at 64 KiB with 16-bit addressing. CF = the old bit;
//!   OF, SF, AF and PF are undefined and the P6 leaves them unchanged
//!   (sandpile.org, undefined-flags table), as does ZF (documented).
//! - BSF/BSR: a zero source sets ZF and leaves the destination unchanged,
//!   otherwise ZF=0 and the destination gets the bit index. The other flags
//!   are undefined; the P6 leaves them unchanged.
//! - BSWAP r32 reverses the bytes. BSWAP r16 (66h prefix) is undefined in
//!   the SDM; we clear the low word, which is what Intel and AMD parts are
//!   reported to do (and what Bochs models); the upper word is kept.
//! - SETcc writes 1 or 0 to an 8-bit destination.
//! - CMOVcc always reads its source (a memory source can fault even when
//!   the condition is false) and writes the destination only when true.
//!
//! Example: `bts word [bx], ax` with AX = -1 sets bit 15 of the word at
//! BX-2.

use btvm_jit::flags::{FLAG_CF, FLAG_ZF};
use iced_x86::{Instruction, Mnemonic, OpKind};

use super::alu::{condition, set_flag};
use super::operand::{
    addr32, get_reg, loc, mask, op_size, read_loc, read_loc_rmw, read_op, reg_size, set_reg, sext,
    write_loc, write_op, Loc,
};
use super::Handler;
use crate::cpu::access::{Ctx, Step};

/// The handler for a bit-instruction mnemonic.
pub fn handler(m: Mnemonic) -> Option<Handler> {
    use Mnemonic::*;
    Some(match m {
        Bt => bt,
        Bts => bts,
        Btr => btr,
        Btc => btc,
        // Without BMI1/LZCNT (a P6 has neither) F3 0F BC/BD are BSF/BSR
        // with an ignored REP prefix; iced decodes them as TZCNT/LZCNT.
        Bsf | Tzcnt => bsf,
        Bsr | Lzcnt => bsr,
        Bswap => bswap,
        Seto | Setno | Setb | Setae | Sete | Setne | Setbe | Seta | Sets | Setns | Setp | Setnp
        | Setl | Setge | Setle | Setg => setcc,
        Cmovo | Cmovno | Cmovb | Cmovae | Cmove | Cmovne | Cmovbe | Cmova | Cmovs | Cmovns
        | Cmovp | Cmovnp | Cmovl | Cmovge | Cmovle | Cmovg => cmovcc,
        _ => return None,
    })
}

/// What a BTx does to the selected bit after copying it to CF.
#[derive(Clone, Copy)]
enum BitOp {
    Test,
    Set,
    Reset,
    Complement,
}

/// Resolve the operand and bit number a BTx addresses.
fn bit_target(ctx: &Ctx, i: &Instruction, n: usize, offset: u32) -> (Loc, u32) {
    let bits = (n * 8) as u32;
    let dst = loc(ctx, i, 0);
    match dst {
        Loc::Mem(seg, base) if i.op_kind(1) == OpKind::Register => {
            // Signed offset: whole words/dwords first, then the bit.
            let off = sext(offset, n) as i32;
            let step = off >> bits.trailing_zeros();
            let mut addr = base.wrapping_add((step as u32).wrapping_mul(n as u32));
            if !addr32(i) {
                addr &= 0xFFFF;
            }
            (Loc::Mem(seg, addr), offset & (bits - 1))
        }
        _ => (dst, offset & (bits - 1)),
    }
}

fn bit_op(ctx: &mut Ctx, i: &Instruction, op: BitOp) -> Step {
    let n = op_size(i, 0);
    let offset = read_op(ctx, i, 1, n)?;
    let (target, bit) = bit_target(ctx, i, n, offset);
    let v = if matches!(op, BitOp::Test) {
        read_loc(ctx, target, n)?
    } else {
        read_loc_rmw(ctx, target, n)?
    };
    let m = 1u32 << bit;
    let new = match op {
        BitOp::Test => None,
        BitOp::Set => Some(v | m),
        BitOp::Reset => Some(v & !m),
        BitOp::Complement => Some(v ^ m),
    };
    if let Some(w) = new {
        write_loc(ctx, target, n, w & mask(n))?;
    }
    set_flag(ctx, FLAG_CF, v & m != 0);
    Ok(())
}

fn bt(ctx: &mut Ctx, i: &Instruction) -> Step {
    bit_op(ctx, i, BitOp::Test)
}

fn bts(ctx: &mut Ctx, i: &Instruction) -> Step {
    bit_op(ctx, i, BitOp::Set)
}

fn btr(ctx: &mut Ctx, i: &Instruction) -> Step {
    bit_op(ctx, i, BitOp::Reset)
}

fn btc(ctx: &mut Ctx, i: &Instruction) -> Step {
    bit_op(ctx, i, BitOp::Complement)
}

/// BSF/BSR: `index` maps a non-zero source to the bit number.
fn bit_scan(ctx: &mut Ctx, i: &Instruction, index: fn(u32) -> u32) -> Step {
    let n = op_size(i, 0);
    let src = read_op(ctx, i, 1, n)? & mask(n);
    if src == 0 {
        set_flag(ctx, FLAG_ZF, true);
        return Ok(());
    }
    set_reg(ctx, i.op_register(0), index(src));
    set_flag(ctx, FLAG_ZF, false);
    Ok(())
}

fn bsf(ctx: &mut Ctx, i: &Instruction) -> Step {
    bit_scan(ctx, i, u32::trailing_zeros)
}

fn bsr(ctx: &mut Ctx, i: &Instruction) -> Step {
    bit_scan(ctx, i, |v| 31 - v.leading_zeros())
}

fn bswap(ctx: &mut Ctx, i: &Instruction) -> Step {
    let r = i.op_register(0);
    let v = if reg_size(r) == 4 {
        get_reg(ctx, r).swap_bytes()
    } else {
        0
    };
    set_reg(ctx, r, v);
    Ok(())
}

fn setcc(ctx: &mut Ctx, i: &Instruction) -> Step {
    let v = u32::from(condition(ctx, i.condition_code()));
    write_op(ctx, i, 0, 1, v)
}

fn cmovcc(ctx: &mut Ctx, i: &Instruction) -> Step {
    let n = op_size(i, 0);
    let v = read_op(ctx, i, 1, n)?;
    if condition(ctx, i.condition_code()) {
        set_reg(ctx, i.op_register(0), v);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use btvm_jit::abi::{gpr, sreg};
    use btvm_jit::flags::{FLAGS_ARITH, FLAG_OF, FLAG_SF};
    use iced_x86::{Decoder, DecoderOptions};

    use super::*;
    use crate::cpu::Cpu;
    use crate::memory::GuestMemory;
    use crate::platform::NullPlatform;

    struct T {
        cpu: Cpu,
        mem: GuestMemory,
    }

    impl T {
        fn new() -> Self {
            T {
                cpu: Cpu::new(),
                mem: GuestMemory::new(1).unwrap(),
            }
        }
        fn ctx<'a>(&'a mut self, io: &'a mut NullPlatform) -> Ctx<'a> {
            Ctx {
                cpu: &mut self.cpu,
                mem: &mut self.mem,
                io,
            }
        }
        fn run(&mut self, bytes: &[u8]) -> Step {
            let i = Decoder::with_ip(16, bytes, 0, DecoderOptions::NONE).decode();
            let h = handler(i.mnemonic()).expect("handled");
            let mut io = NullPlatform;
            h(&mut self.ctx(&mut io), &i)
        }
        fn poke(&mut self, off: u32, n: usize, v: u32) {
            let mut io = NullPlatform;
            self.ctx(&mut io).write_seg(sreg::DS, off, n, v).unwrap();
        }
        fn peek(&mut self, off: u32, n: usize) -> u32 {
            let mut io = NullPlatform;
            self.ctx(&mut io).read_seg(sreg::DS, off, n).unwrap()
        }
        fn r(&self, g: usize) -> u32 {
            self.cpu.regs.gpr[g]
        }
        fn set(&mut self, g: usize, v: u32) {
            self.cpu.regs.gpr[g] = v;
        }
        fn flags(&self) -> u32 {
            self.cpu.regs.eflags() & FLAGS_ARITH
        }
    }

    #[test]
    fn bt_register_offset_is_taken_modulo_width() {
        let mut t = T::new();
        t.cpu.regs.set_eflags(FLAG_OF | FLAG_SF);
        t.set(gpr::EAX, 0x0008);
        t.set(gpr::EBX, 19); // 19 & 15 = 3
        t.run(&[0x0F, 0xA3, 0xD8]).unwrap(); // bt ax, bx
        assert_eq!(t.flags(), FLAG_CF | FLAG_OF | FLAG_SF);
    }

    #[test]
    fn bts_btr_btc_imm8_on_register() {
        let mut t = T::new();
        t.set(gpr::EAX, 0);
        t.run(&[0x66, 0x0F, 0xBA, 0xE8, 33]).unwrap(); // bts eax, 33 -> bit 1
        assert_eq!(t.r(gpr::EAX), 2);
        assert_eq!(t.flags() & FLAG_CF, 0);
        t.run(&[0x66, 0x0F, 0xBA, 0xF8, 1]).unwrap(); // btc eax, 1
        assert_eq!(t.r(gpr::EAX), 0);
        assert_eq!(t.flags() & FLAG_CF, FLAG_CF);
        t.set(gpr::EAX, 0xFFFF_FFFF);
        t.run(&[0x66, 0x0F, 0xBA, 0xF0, 31]).unwrap(); // btr eax, 31
        assert_eq!(t.r(gpr::EAX), 0x7FFF_FFFF);
        assert_eq!(t.flags() & FLAG_CF, FLAG_CF);
    }

    #[test]
    fn bt_memory_with_register_offset_reaches_other_words() {
        let mut t = T::new();
        t.set(gpr::EBX, 0x200);
        t.poke(0x1FE, 2, 0x0000);
        t.poke(0x204, 2, 0x0000);
        t.set(gpr::EAX, 0xFFFF); // -1: bit 15 of the word at BX-2
        t.run(&[0x0F, 0xAB, 0x07]).unwrap(); // bts [bx], ax
        assert_eq!(t.peek(0x1FE, 2), 0x8000);
        t.set(gpr::EAX, 35); // word 2 (BX+4), bit 3
        t.run(&[0x0F, 0xAB, 0x07]).unwrap();
        assert_eq!(t.peek(0x204, 2), 0x0008);
        // 32-bit: offset 32 -> dword at BX+4, bit 0 (already 8 there).
        t.set(gpr::EAX, 32);
        t.run(&[0x66, 0x0F, 0xB3, 0x07]).unwrap(); // btr dword [bx], eax
        assert_eq!(t.flags() & FLAG_CF, 0);
        t.set(gpr::EAX, 35);
        t.run(&[0x66, 0x0F, 0xB3, 0x07]).unwrap();
        assert_eq!(t.flags() & FLAG_CF, FLAG_CF);
        assert_eq!(t.peek(0x204, 2), 0);
    }

    #[test]
    fn bt_memory_with_imm8_stays_in_the_operand() {
        let mut t = T::new();
        t.set(gpr::EBX, 0x300);
        t.poke(0x300, 2, 0x0004);
        t.run(&[0x0F, 0xBA, 0x27, 18]).unwrap(); // bt word [bx], 18 -> bit 2
        assert_eq!(t.flags() & FLAG_CF, FLAG_CF);
    }

    #[test]
    fn bsf_bsr_find_bits_and_zero_keeps_destination() {
        let mut t = T::new();
        t.set(gpr::EBX, 0x0000_1010);
        t.run(&[0x66, 0x0F, 0xBC, 0xC3]).unwrap(); // bsf eax, ebx
        assert_eq!(t.r(gpr::EAX), 4);
        t.run(&[0x66, 0x0F, 0xBD, 0xC3]).unwrap(); // bsr eax, ebx
        assert_eq!(t.r(gpr::EAX), 12);
        assert_eq!(t.flags() & FLAG_ZF, 0);
        t.set(gpr::EBX, 0xFFFF_0000); // the 16-bit source BX is zero
        t.set(gpr::EAX, 0x1234_5678);
        t.run(&[0x0F, 0xBC, 0xC3]).unwrap(); // bsf ax, bx
        assert_eq!(t.r(gpr::EAX), 0x1234_5678);
        assert_eq!(t.flags() & FLAG_ZF, FLAG_ZF);
    }

    /// Regression: Linux 6.1 (built for a 586) runs `f3 0f bc` expecting
    /// BSF; iced calls it TZCNT, which a P6 does not have.
    #[test]
    fn rep_bsf_and_rep_bsr_are_bsf_and_bsr_on_a_p6() {
        let mut t = T::new();
        t.set(gpr::EDX, 0x0000_1000);
        t.run(&[0x66, 0xF3, 0x0F, 0xBC, 0xCA]).unwrap(); // rep bsf ecx, edx
        assert_eq!(t.r(gpr::ECX), 12);
        t.set(gpr::EDX, 0x0000_0101);
        t.run(&[0x66, 0xF3, 0x0F, 0xBD, 0xCA]).unwrap(); // rep bsr ecx, edx
        assert_eq!(t.r(gpr::ECX), 8);
        // A zero source sets ZF and keeps the destination (TZCNT would
        // write the operand size and set CF).
        t.set(gpr::EDX, 0);
        t.run(&[0x66, 0xF3, 0x0F, 0xBC, 0xCA]).unwrap();
        assert_eq!(t.r(gpr::ECX), 8);
        assert_eq!(t.flags() & FLAG_ZF, FLAG_ZF);
    }

    #[test]
    fn bswap32_and_16() {
        let mut t = T::new();
        t.set(gpr::ECX, 0x1122_3344);
        t.run(&[0x66, 0x0F, 0xC9]).unwrap(); // bswap ecx
        assert_eq!(t.r(gpr::ECX), 0x4433_2211);
        t.run(&[0x0F, 0xC9]).unwrap(); // bswap cx (undefined: cleared)
        assert_eq!(t.r(gpr::ECX), 0x4433_0000);
    }

    #[test]
    fn setcc_writes_byte() {
        let mut t = T::new();
        t.cpu.regs.set_eflags(FLAG_ZF);
        t.set(gpr::EAX, 0xFFFF_FFFF);
        t.run(&[0x0F, 0x94, 0xC0]).unwrap(); // sete al
        assert_eq!(t.r(gpr::EAX), 0xFFFF_FF01);
        t.run(&[0x0F, 0x9F, 0xC4]).unwrap(); // setg ah
        assert_eq!(t.r(gpr::EAX), 0xFFFF_0001);
        t.set(gpr::EBX, 0x400);
        t.poke(0x400, 1, 0x55);
        t.run(&[0x0F, 0x96, 0x07]).unwrap(); // setbe [bx]
        assert_eq!(t.peek(0x400, 1), 1);
    }

    #[test]
    fn cmov_moves_only_when_true() {
        let mut t = T::new();
        t.cpu.regs.set_eflags(0);
        t.set(gpr::EAX, 1);
        t.set(gpr::EBX, 2);
        t.run(&[0x66, 0x0F, 0x44, 0xC3]).unwrap(); // cmove eax, ebx
        assert_eq!(t.r(gpr::EAX), 1);
        t.run(&[0x66, 0x0F, 0x45, 0xC3]).unwrap(); // cmovne eax, ebx
        assert_eq!(t.r(gpr::EAX), 2);
        t.set(gpr::EAX, 0xAAAA_0001);
        t.run(&[0x0F, 0x45, 0xC3]).unwrap(); // cmovne ax, bx
        assert_eq!(t.r(gpr::EAX), 0xAAAA_0002);
    }
}
