//! The host-code emitter: register conventions, the block prologue, the
//! inline software-TLB fast path with out-of-line slow paths, lazy-flag
//! merging, condition evaluation and block exits.
//!
//! Host registers while guest code runs:
//! - `rbx` the [`RegFile`] (guest registers live there between blocks);
//! - `rbp`, `rdi`, `r8`-`r11` guest GPRs cached within a block (see
//!   `emit/regs.rs`: written back before every exit and helper call);
//! - `r12` the [`crate::abi::Tlb`]; `r13` the engine's helper context;
//! - `r14d` the effective address of the current memory operand and `r15d`
//!   a value kept across a helper call (both callee-saved);
//! - `rax`, `rcx`, `rdx`, `rsi` scratch.
//!
//! Loads leave their value zero-extended in `eax`; stores take it in `ecx`.

use dynasmrt::x64::X64Relocation;
use dynasmrt::{dynasm, AssemblyOffset, DynamicLabel, DynasmApi, DynasmLabelApi, VecAssembler};

use crate::abi::{sreg, RegFile};
use crate::flags::{FLAG_CF, FLAG_OF, FLAG_PF, FLAG_SF, FLAG_ZF};
use crate::helpers::{ExitSlot, Helpers, Site};
use crate::mode::ModeKey;

mod memory;
mod regs;

pub use regs::{RegState, CACHE_HOSTS};

/// The assembler generated code is written with.
pub type Ops = VecAssembler<X64Relocation>;

/// Host register numbers (x86 encoding) used by the raw encoders.
pub const EAX: u8 = 0;
/// `ecx`.
pub const ECX: u8 = 1;
/// `edx`.
pub const EDX: u8 = 2;
/// `r14d` (the effective address).
pub const R14: u8 = 14;

const FLAGS: i32 = RegFile::FLAGS_OFFSET as i32;
const EIP: i32 = RegFile::EIP_OFFSET as i32;
const ICOUNT: i32 = RegFile::ICOUNT_OFFSET as i32;
const ICOUNT_LIMIT: i32 = RegFile::ICOUNT_LIMIT_OFFSET as i32;
const ATTENTION: i32 = RegFile::ATTENTION_OFFSET as i32;

/// Where the shared stubs of the prelude are.
#[derive(Clone, Copy, Debug, Default)]
pub struct Prelude {
    /// `enter(regs, tlb, ctx, code)`: save host registers, run `code`.
    pub enter: usize,
    /// Restore host registers and return to the engine.
    pub exit: usize,
    /// Look up the block for the guest's current EIP and go there, or
    /// return to the engine.
    pub dyn_exit: usize,
}

/// A guest operand in the register file or an immediate.
#[derive(Clone, Copy, Debug)]
pub enum Src {
    /// Host register number.
    Host(u8),
    /// Guest register at this `RegFile` offset.
    Guest(i32),
    /// Immediate.
    Imm(u32),
}

/// Destination of a raw ALU encoding.
#[derive(Clone, Copy, Debug)]
pub enum Dst {
    /// Host register number.
    Host(u8),
    /// Guest register at this `RegFile` offset.
    Guest(i32),
}

/// The guest instruction being lowered.
#[derive(Clone, Copy, Debug)]
pub struct Cur {
    /// Its EIP.
    pub eip: u32,
    /// The next instruction's EIP.
    pub next_eip: u32,
    /// Instructions after it in the block.
    pub rem: u32,
}

enum Deferred {
    Load {
        entry: DynamicLabel,
        back: DynamicLabel,
        site: *const Site,
        st: RegState,
    },
    Store {
        entry: DynamicLabel,
        back: DynamicLabel,
        site: *const Site,
        st: RegState,
    },
    ExitAfter {
        entry: DynamicLabel,
        next_eip: u32,
        rem: u32,
        st: RegState,
    },
    Chain {
        entry: DynamicLabel,
        slot: *mut ExitSlot,
    },
}

/// What a finished block is: host code, its call sites, its direct exits
/// (with the offsets of their patchable jumps).
pub type Finished = (
    Vec<u8>,
    Vec<Box<Site>>,
    Vec<(Box<ExitSlot>, AssemblyOffset)>,
);

/// Emits one block.
pub struct Emitter<'a> {
    /// The assembler (based at the block's final host address).
    pub ops: Ops,
    helpers: &'a Helpers,
    prelude: Prelude,
    /// The block's mode key.
    pub mode: ModeKey,
    /// Stores always go through the helper (lockstep checking journals them).
    pub all_stores_slow: bool,
    /// Call sites the code points at (boxed: their addresses are baked in).
    pub sites: Vec<Box<Site>>,
    /// Direct exits with the offset of their patchable jump.
    pub exits: Vec<(Box<ExitSlot>, AssemblyOffset)>,
    deferred: Vec<Deferred>,
    /// The current instruction wrote guest memory (needs an attention check).
    pub stored: bool,
    /// Host register caching each guest GPR in this block.
    map: [Option<u8>; 8],
    /// Which cached registers are loaded / dirty at the current point.
    regs: RegState,
}

/// The guest condition codes' flags (x86 `cc` encoding order / 2).
pub fn cond_flags(cc: u8) -> u32 {
    match cc >> 1 {
        0 => FLAG_OF,
        1 => FLAG_CF,
        2 => FLAG_ZF,
        3 => FLAG_CF | FLAG_ZF,
        4 => FLAG_SF,
        5 => FLAG_PF,
        6 => FLAG_SF | FLAG_OF,
        _ => FLAG_ZF | FLAG_SF | FLAG_OF,
    }
}

impl<'a> Emitter<'a> {
    /// An emitter for a block that will live at host address `base`.
    pub fn new(base: usize, helpers: &'a Helpers, prelude: Prelude, mode: ModeKey) -> Self {
        Emitter {
            ops: VecAssembler::new(base),
            helpers,
            prelude,
            mode,
            all_stores_slow: false,
            sites: Vec::new(),
            exits: Vec::new(),
            deferred: Vec::new(),
            stored: false,
            map: [None; 8],
            regs: RegState::default(),
        }
    }

    /// Raw bytes.
    pub fn bytes(&mut self, b: &[u8]) {
        self.ops.extend(b.iter().copied());
    }

    /// A call site record for the current instruction.
    pub fn site(&mut self, cur: Cur, seg: usize, size: u8) -> *const Site {
        let s = Box::new(Site {
            eip: cur.eip,
            next_eip: cur.next_eip,
            rem: cur.rem,
            mode: self.mode.0,
            seg: seg as u8,
            size,
            rmw: false,
            handler: 0,
            instr: iced_x86::Instruction::default(),
        });
        let p: *const Site = &*s;
        self.sites.push(s);
        p
    }

    fn call(&mut self, addr: usize) {
        dynasm!(self.ops
            ; .arch x64
            ; mov rax, QWORD addr as i64
            ; call rax
        );
    }

    /// Block entry: count the block's instructions, or return to the engine
    /// when they would run past the batch end.
    pub fn prologue(&mut self, n: u32) {
        let exit = self.prelude.exit;
        dynasm!(self.ops
            ; .arch x64
            ; mov rax, QWORD [rbx + ICOUNT]
            ; add rax, n as i32
            ; cmp rax, QWORD [rbx + ICOUNT_LIMIT]
            ; ja extern exit
            ; mov QWORD [rbx + ICOUNT], rax
        );
    }

    // ---- raw integer encodings -------------------------------------------

    /// One instruction `[66] [REX] opcode ModRM`: `reg` goes in the ModRM
    /// reg field (a register when `reg_is_reg`, else a `/digit`), `rm` is a
    /// host register or `[rbx + off]`. `p66` selects 16-bit operands;
    /// `byte` 8-bit register operands (`spl`..`dil` need a REX prefix).
    fn enc(&mut self, p66: bool, byte: bool, opcode: &[u8], reg: u8, reg_is_reg: bool, rm: Dst) {
        let mut rex = 0u8;
        if reg_is_reg && reg >= 8 {
            rex |= 0x44;
        }
        if matches!(rm, Dst::Host(h) if h >= 8) {
            rex |= 0x41;
        }
        if byte && ((reg_is_reg && (4..8).contains(&reg)) || matches!(rm, Dst::Host(4..=7))) {
            rex |= 0x40;
        }
        if p66 {
            self.bytes(&[0x66]);
        }
        if rex != 0 {
            self.bytes(&[rex]);
        }
        self.bytes(opcode);
        let r = (reg & 7) << 3;
        match rm {
            Dst::Host(h) => self.bytes(&[0xC0 | r | (h & 7)]),
            Dst::Guest(off) => {
                self.bytes(&[0x80 | r | 3]);
                self.bytes(&off.to_le_bytes());
            }
        }
    }

    fn imm(&mut self, size: u8, v: u32) {
        match size {
            1 => self.bytes(&[v as u8]),
            2 => self.bytes(&(v as u16).to_le_bytes()),
            _ => self.bytes(&v.to_le_bytes()),
        }
    }

    /// The two-form encodings shared by ALU, TEST and MOV: `reg_op /r`
    /// for a register source, `imm_op /digit imm` for an immediate (the low
    /// opcode bit selects 8 or 16/32 bits). A guest-register source is
    /// taken from its cache register or first loaded into `edx`; a guest
    /// destination is resolved with `write`/`load` (see `regs.rs`).
    #[allow(clippy::too_many_arguments)]
    fn rm_form(
        &mut self,
        size: u8,
        reg_op: u8,
        imm_op: u8,
        digit: u8,
        dst: Dst,
        src: Src,
        write: bool,
        load: bool,
    ) {
        let src = self.src_to_host(size, src, EDX);
        let dst = self.locate(dst, write, load);
        let wide = u8::from(size != 1);
        match src {
            Src::Host(r) => self.enc(size == 2, size == 1, &[reg_op | wide], r, true, dst),
            Src::Imm(v) => {
                self.enc(size == 2, size == 1, &[imm_op | wide], digit, false, dst);
                self.imm(size, v);
            }
            Src::Guest(_) => unreachable!("loaded by src_to_host"),
        }
    }

    /// `op dst, src` for the ALU group (digit: ADD 0, OR 1, ADC 2, SBB 3,
    /// AND 4, SUB 5, XOR 6, CMP 7), on a host register or a guest register
    /// (cached or in the register file).
    pub fn alu(&mut self, digit: u8, size: u8, dst: Dst, src: Src) {
        self.rm_form(size, digit << 3, 0x80, digit, dst, src, digit != 7, true);
    }

    /// `test dst, src`.
    pub fn test(&mut self, size: u8, dst: Dst, src: Src) {
        self.rm_form(size, 0x84, 0xF6, 0, dst, src, false, true);
    }

    /// Group 3/4/5 unary operations: `inc` (FE/0), `dec` (FE/1), `not`
    /// (F6/2), `neg` (F6/3).
    pub fn unary(&mut self, opcode: u8, digit: u8, size: u8, dst: Dst) {
        let dst = self.locate(dst, true, true);
        let op = opcode | u8::from(size != 1);
        self.enc(size == 2, size == 1, &[op], digit, false, dst);
    }

    /// Shift/rotate by an immediate count (C0/C1 group 2).
    pub fn shift_imm(&mut self, digit: u8, size: u8, dst: Dst, count: u8) {
        let dst = self.locate(dst, true, true);
        let op = 0xC0 | u8::from(size != 1);
        self.enc(size == 2, size == 1, &[op], digit, false, dst);
        self.bytes(&[count]);
    }

    /// `mov dst, src` of `size` bytes (no flags).
    pub fn mov(&mut self, size: u8, dst: Dst, src: Src) {
        self.rm_form(size, 0x88, 0xC6, 0, dst, src, true, size < 4);
    }

    /// Load a guest register of `size` bytes zero-extended into host `reg`.
    pub fn load_guest(&mut self, size: u8, reg: u8, off: i32) {
        let from = self.locate(Dst::Guest(off), false, true);
        match size {
            1 => self.enc(false, true, &[0x0F, 0xB6], reg, true, from),
            2 => self.enc(false, false, &[0x0F, 0xB7], reg, true, from),
            _ => self.enc(false, false, &[0x8B], reg, true, from),
        }
    }

    fn src_to_host(&mut self, size: u8, src: Src, tmp: u8) -> Src {
        match src {
            Src::Guest(off) => match self.locate(Dst::Guest(off), false, true) {
                Dst::Host(h) => Src::Host(h),
                Dst::Guest(off) => {
                    self.load_guest(size, tmp, off);
                    Src::Host(tmp)
                }
            },
            s => s,
        }
    }

    /// `imul reg32/16, src` (two-operand form) on host `eax` with a source
    /// guest register or host register.
    pub fn imul_eax(&mut self, size: u8, src: Src) {
        let src = self.src_to_host(size, src, EDX);
        let Src::Host(r) = src else { unreachable!() };
        self.enc(size == 2, false, &[0x0F, 0xAF], EAX, true, Dst::Host(r));
    }

    /// `imul eax, eax, imm` (16 or 32 bits).
    pub fn imul_eax_imm(&mut self, size: u8, v: u32) {
        if size == 2 {
            self.bytes(&[0x66]);
        }
        self.bytes(&[0x69, 0xC0]);
        self.imm(size, v);
    }

    /// Sign-extend the low `size` bytes of `eax` to 32 bits.
    pub fn sign_extend_eax(&mut self, size: u8) {
        if size == 1 {
            dynasm!(self.ops ; .arch x64 ; movsx eax, al);
        } else {
            dynasm!(self.ops ; .arch x64 ; movsx eax, ax);
        }
    }

    /// CBW (1), CWDE (2), CWD (3), CDQ (4) on the guest EAX/EDX.
    pub fn widen(&mut self, kind: u8) {
        let a = (RegFile::GPR_OFFSET + 4 * crate::abi::gpr::EAX) as i32;
        let d = (RegFile::GPR_OFFSET + 4 * crate::abi::gpr::EDX) as i32;
        match kind {
            1 => {
                self.load_guest(1, EAX, a);
                self.sign_extend_eax(1);
                self.mov(2, Dst::Guest(a), Src::Host(EAX));
            }
            2 => {
                self.load_guest(2, EAX, a);
                self.sign_extend_eax(2);
                self.mov(4, Dst::Guest(a), Src::Host(EAX));
            }
            3 => {
                self.load_guest(2, EAX, a);
                self.sign_extend_eax(2);
                dynasm!(self.ops ; .arch x64 ; sar eax, 31);
                self.mov(2, Dst::Guest(d), Src::Host(EAX));
            }
            _ => {
                self.load_guest(4, EAX, a);
                dynasm!(self.ops ; .arch x64 ; sar eax, 31);
                self.mov(4, Dst::Guest(d), Src::Host(EAX));
            }
        }
    }

    /// A fresh label.
    pub fn new_label(&mut self) -> DynamicLabel {
        self.ops.new_dynamic_label()
    }

    /// Place a label here.
    pub fn label(&mut self, l: DynamicLabel) {
        dynasm!(self.ops ; .arch x64 ; =>l);
    }

    /// `r14d` -> `eax`.
    pub fn r14_to_eax(&mut self) {
        dynasm!(self.ops ; .arch x64 ; mov eax, r14d);
    }

    /// `ecx` -> `r15d` (kept across helper calls).
    pub fn ecx_to_r15(&mut self) {
        dynasm!(self.ops ; .arch x64 ; mov r15d, ecx);
    }

    /// `r15d` -> `ecx`.
    pub fn r15_to_ecx(&mut self) {
        dynasm!(self.ops ; .arch x64 ; mov ecx, r15d);
    }

    /// `eax` -> `r15d`.
    pub fn eax_to_r15(&mut self) {
        dynasm!(self.ops ; .arch x64 ; mov r15d, eax);
    }

    /// Guest EIP = `eax`.
    pub fn eax_to_eip(&mut self) {
        dynasm!(self.ops ; .arch x64 ; mov DWORD [rbx + EIP], eax);
    }

    /// Guest EIP = `r15d`.
    pub fn r15_to_eip(&mut self) {
        dynasm!(self.ops ; .arch x64 ; mov DWORD [rbx + EIP], r15d);
    }

    /// `r14d` = the stack pointer (SP zero-extended on a 16-bit stack) plus
    /// `delta`, wrapped to the stack's width.
    pub fn stack_offset(&mut self, stack32: bool, delta: i32) {
        let sp_off = (RegFile::GPR_OFFSET + 4 * crate::abi::gpr::ESP) as i32;
        self.load_guest(if stack32 { 4 } else { 2 }, R14, sp_off);
        if delta != 0 {
            dynasm!(self.ops ; .arch x64 ; add r14d, delta);
            if !stack32 {
                dynasm!(self.ops ; .arch x64 ; movzx r14d, r14w);
            }
        }
    }

    /// Stack pointer = `r14d` (SP only on a 16-bit stack).
    pub fn commit_esp(&mut self, stack32: bool, sp_off: i32) {
        let size = if stack32 { 4 } else { 2 };
        self.mov(size, Dst::Guest(sp_off), Src::Host(R14));
    }

    /// Stack pointer += `n` (SP only on a 16-bit stack). Clobbers flags.
    pub fn add_esp(&mut self, stack32: bool, sp_off: i32, n: i32) {
        let size = if stack32 { 4 } else { 2 };
        self.alu(0, size, Dst::Guest(sp_off), Src::Imm(n as u32));
    }

    /// CLC/STC/CMC/CLD/STD on the guest EFLAGS.
    pub fn flag_op(&mut self, and: u32, or: u32, xor: u32) {
        if and != !0 {
            dynasm!(self.ops ; .arch x64 ; and DWORD [rbx + FLAGS], and as i32);
        }
        if or != 0 {
            dynasm!(self.ops ; .arch x64 ; or DWORD [rbx + FLAGS], or as i32);
        }
        if xor != 0 {
            dynasm!(self.ops ; .arch x64 ; xor DWORD [rbx + FLAGS], xor as i32);
        }
    }

    // ---- flags -----------------------------------------------------------

    /// Host CF = guest CF (before ADC/SBB).
    pub fn guest_cf_to_host(&mut self) {
        dynasm!(self.ops ; .arch x64 ; bt DWORD [rbx + FLAGS], 0);
    }

    /// Capture the host arithmetic flags in `dx` without changing them:
    /// `dl` = OF, `dh` = SF ZF - AF - PF - CF (LAHF order). Clobbers `ah`.
    /// Cheaper than PUSHFQ, which is microcoded.
    fn capture_flags_dx(&mut self) {
        dynasm!(self.ops ; .arch x64 ; seto dl ; lahf ; mov dh, ah);
    }

    /// Keep the host flags in `r15` (across a store's helper call).
    /// Clobbers `eax`, `edx`.
    pub fn capture_flags_r15(&mut self) {
        self.capture_flags_dx();
        dynasm!(self.ops ; .arch x64 ; mov r15d, edx);
    }

    /// Merge flags kept by [`Emitter::capture_flags_r15`]. Clobbers `eax`,
    /// `edx`.
    pub fn merge_from_r15(&mut self, from_host: u32, clear: u32) {
        dynasm!(self.ops ; .arch x64 ; mov rdx, r15);
        self.merge_from_rdx(from_host, clear);
    }

    /// Keep the host flags in `rdx` without disturbing them (for a Jcc).
    /// Clobbers `eax`.
    pub fn capture_flags_rdx(&mut self) {
        self.capture_flags_dx();
    }

    /// Copy host flags into the guest EFLAGS: bits in `from_host` come from
    /// the host, bits in `clear & !from_host` become 0. Clobbers `eax`,
    /// `edx`.
    pub fn merge_flags(&mut self, from_host: u32, clear: u32) {
        if clear == 0 {
            return;
        }
        self.capture_flags_dx();
        self.merge_from_rdx(from_host, clear);
    }

    /// The second half of [`Emitter::merge_flags`] (host flags captured in
    /// `dx` by [`Emitter::capture_flags_rdx`]). Clobbers `eax`, `edx`.
    pub fn merge_from_rdx(&mut self, from_host: u32, clear: u32) {
        let keep = !clear as i32;
        // dl = OF -> bit 3, then swap the bytes: OF lands on bit 11 and
        // the LAHF byte on bits 0-7, EFLAGS' own layout.
        dynasm!(self.ops
            ; .arch x64
            ; shl dl, 3
            ; rol dx, 8
            ; and edx, from_host as i32
            // One load and one store: two read-modify-writes of EFLAGS
            // would chain two store forwards into the next block's merge.
            ; mov eax, DWORD [rbx + FLAGS]
            ; and eax, keep
            ; or eax, edx
            ; mov DWORD [rbx + FLAGS], eax
        );
    }

    /// Load the guest flags condition `cc` reads into the host flags.
    /// Clobbers `eax`, `ecx`.
    pub fn guest_flags_to_host(&mut self, cc: u8) {
        dynasm!(self.ops ; .arch x64 ; mov eax, DWORD [rbx + FLAGS]);
        if cond_flags(cc) & FLAG_OF != 0 {
            // OF: put it in bit 7 of cl and double cl (a signed overflow
            // exactly when bit 7 was set); SAHF then sets the rest.
            dynasm!(self.ops
                ; .arch x64
                ; mov ecx, eax
                ; shr ecx, 4
                ; and cl, 0x80u8 as i8
                ; add cl, cl
            );
        }
        dynasm!(self.ops ; .arch x64 ; mov ah, al ; sahf);
    }

    /// `jcc label` on the host flags with the guest's condition code.
    pub fn jcc(&mut self, cc: u8, l: DynamicLabel) {
        match cc & 15 {
            0 => dynasm!(self.ops ; .arch x64 ; jo =>l),
            1 => dynasm!(self.ops ; .arch x64 ; jno =>l),
            2 => dynasm!(self.ops ; .arch x64 ; jb =>l),
            3 => dynasm!(self.ops ; .arch x64 ; jae =>l),
            4 => dynasm!(self.ops ; .arch x64 ; je =>l),
            5 => dynasm!(self.ops ; .arch x64 ; jne =>l),
            6 => dynasm!(self.ops ; .arch x64 ; jbe =>l),
            7 => dynasm!(self.ops ; .arch x64 ; ja =>l),
            8 => dynasm!(self.ops ; .arch x64 ; js =>l),
            9 => dynasm!(self.ops ; .arch x64 ; jns =>l),
            10 => dynasm!(self.ops ; .arch x64 ; jp =>l),
            11 => dynasm!(self.ops ; .arch x64 ; jnp =>l),
            12 => dynasm!(self.ops ; .arch x64 ; jl =>l),
            13 => dynasm!(self.ops ; .arch x64 ; jge =>l),
            14 => dynasm!(self.ops ; .arch x64 ; jle =>l),
            _ => dynasm!(self.ops ; .arch x64 ; jg =>l),
        }
    }

    /// `setcc al` with the guest's condition code.
    pub fn setcc_al(&mut self, cc: u8) {
        self.bytes(&[0x0F, 0x90 | (cc & 15), 0xC0]);
    }

    /// Run the instruction on the interpreter through the fallback helper.
    pub fn fallback(&mut self, cur: Cur, instr: &iced_x86::Instruction, handler: usize) {
        let s = Box::new(Site {
            eip: cur.eip,
            next_eip: cur.next_eip,
            rem: cur.rem,
            mode: self.mode.0,
            seg: sreg::DS as u8,
            size: 0,
            rmw: false,
            handler,
            instr: *instr,
        });
        let site: *const Site = &*s;
        self.sites.push(s);
        let exit = self.prelude.exit;
        // The interpreter reads the register file and may change any
        // register: write back, and reload lazily afterwards.
        self.flush_regs();
        dynasm!(self.ops
            ; .arch x64
            ; mov rdi, r13
            ; mov rsi, QWORD site as i64
        );
        self.call(self.helpers.fallback as usize);
        dynasm!(self.ops
            ; .arch x64
            ; test eax, eax
            ; jnz extern exit
        );
    }

    // ---- exits -------------------------------------------------------------

    /// Store a constant guest EIP.
    pub fn set_eip(&mut self, eip: u32) {
        dynasm!(self.ops ; .arch x64 ; mov DWORD [rbx + EIP], eip as i32);
    }

    /// Leave to a known EIP: a patchable jump (chaining) to the target block.
    pub fn direct_exit(&mut self, target: u32, page_lin: u32) {
        self.spill_here();
        self.set_eip(target);
        let entry = self.ops.new_dynamic_label();
        let at = self.ops.offset();
        // dynasm always encodes a jump to a label as `E9 rel32`: the 5-byte
        // form that can be patched to reach any block (checked at finish).
        dynasm!(self.ops ; .arch x64 ; jmp =>entry);
        let mut slot = Box::new(ExitSlot {
            jmp_addr: 0,
            target_eip: target,
            page_lin,
            mode: self.mode.0,
            linked: false,
        });
        let p: *mut ExitSlot = &mut *slot;
        self.exits.push((slot, at));
        self.deferred.push(Deferred::Chain { entry, slot: p });
    }

    /// Leave after EIP was set: look up the next block.
    pub fn dynamic_exit(&mut self) {
        self.spill_here();
        let d = self.prelude.dyn_exit;
        dynasm!(self.ops ; .arch x64 ; jmp extern d);
    }

    /// Leave to the engine right away (state is exact).
    pub fn exit_to_engine(&mut self) {
        self.spill_here();
        let e = self.prelude.exit;
        dynasm!(self.ops ; .arch x64 ; jmp extern e);
    }

    /// Emit the out-of-line paths and return the code.
    pub fn finish(mut self) -> Result<Finished, String> {
        let exit = self.prelude.exit;
        for d in std::mem::take(&mut self.deferred) {
            match d {
                Deferred::Load {
                    entry,
                    back,
                    site,
                    st,
                } => {
                    dynasm!(self.ops ; .arch x64 ; =>entry);
                    self.spill(st);
                    dynasm!(self.ops
                        ; .arch x64
                        ; mov rdi, r13
                        ; mov rsi, QWORD site as i64
                        ; mov edx, r14d
                    );
                    self.call(self.helpers.load as usize);
                    dynasm!(self.ops
                        ; .arch x64
                        ; bt rax, 32
                        ; jc extern exit
                    );
                    self.reload_after_call(st);
                    dynasm!(self.ops ; .arch x64 ; jmp =>back);
                }
                Deferred::Store {
                    entry,
                    back,
                    site,
                    st,
                } => {
                    dynasm!(self.ops ; .arch x64 ; =>entry);
                    self.spill(st);
                    dynasm!(self.ops
                        ; .arch x64
                        ; mov rdi, r13
                        ; mov rsi, QWORD site as i64
                        ; mov edx, r14d
                    );
                    self.call(self.helpers.store as usize);
                    dynasm!(self.ops
                        ; .arch x64
                        ; test eax, eax
                        ; jnz extern exit
                    );
                    self.reload_after_call(st);
                    dynasm!(self.ops ; .arch x64 ; jmp =>back);
                }
                Deferred::ExitAfter {
                    entry,
                    next_eip,
                    rem,
                    st,
                } => {
                    dynasm!(self.ops ; .arch x64 ; =>entry);
                    self.spill(st);
                    dynasm!(self.ops
                        ; .arch x64
                        ; mov DWORD [rbx + EIP], next_eip as i32
                        ; sub QWORD [rbx + ICOUNT], rem as i32
                        ; jmp extern exit
                    );
                }
                Deferred::Chain { entry, slot } => {
                    dynasm!(self.ops
                        ; .arch x64
                        ; =>entry
                        ; mov rdi, r13
                        ; mov rsi, QWORD slot as i64
                    );
                    self.call(self.helpers.chain as usize);
                    dynasm!(self.ops
                        ; .arch x64
                        ; test rax, rax
                        ; jz extern exit
                        ; jmp rax
                    );
                }
            }
        }
        let code = self.ops.finalize().map_err(|e| format!("{e:?}"))?;
        if self.exits.iter().any(|(_, at)| code[at.0] != 0xE9) {
            return Err("a direct exit was not encoded as jmp rel32".into());
        }
        Ok((code, self.sites, self.exits))
    }
}
