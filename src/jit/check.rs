//! Lockstep checking (`--engine jit --check`): every block runs on the JIT,
//! its memory writes are undone, the interpreter runs the same
//! instructions from the same state, and the two results are compared:
//! registers, EFLAGS, segments, control registers, instruction count and
//! every byte either engine wrote. The first divergence stops the machine
//! with the block's disassembly and the differing state.
//!
//! Blocks doing port I/O, touching device memory or reading the TSC are run
//! once, on the JIT, and not compared: a device must not see an access
//! twice, and time moves.

use std::collections::BTreeMap;

use btvm_jit::cache::BlockKey;
use iced_x86::{Formatter, Instruction, IntelFormatter, Mnemonic};

use super::JitEngine;
use crate::cpu::access::Ctx;
use crate::cpu::exception::Stop;
use crate::cpu::Cpu;
use crate::engine::interp::run_interp;

/// Lockstep state and counters.
#[derive(Default)]
pub struct Checker {
    /// The divergence report, once found.
    pub failure: Option<String>,
    /// Blocks compared.
    pub checked: u64,
    /// Blocks run without comparison (port I/O).
    pub skipped: u64,
}

fn does_io(i: &Instruction) -> bool {
    use Mnemonic as M;
    matches!(
        i.mnemonic(),
        M::In | M::Out | M::Insb | M::Insw | M::Insd | M::Outsb | M::Outsw | M::Outsd | M::Rdtsc
    )
}

fn normalize(r: Result<(), Stop>) -> Result<(), Stop> {
    match r {
        Err(Stop::Halt) => Ok(()),
        other => other,
    }
}

impl Checker {
    /// Run one block on the JIT and verify it against the interpreter.
    pub fn run(
        &mut self,
        eng: &mut JitEngine,
        ctx: &mut Ctx,
        entry: usize,
        n: u32,
        key: BlockKey,
        irq_pending: bool,
    ) -> Result<(), Stop> {
        let instrs: Vec<Instruction> = eng
            .jit
            .cache
            .get(&key)
            .map(|b| b.instrs.clone())
            .unwrap_or_default();
        ctx.cpu.regs.icount_limit = ctx.cpu.regs.icount + u64::from(n);
        if instrs.iter().any(does_io) {
            self.skipped += 1;
            return eng.run_block(ctx, entry, irq_pending);
        }
        if !ctx.mem.journaling() {
            // From now on every write takes the journaled path.
            ctx.mem.set_journal(true);
            ctx.cpu.flush_tlb_all();
        }
        ctx.mem.set_journal(true);
        ctx.mem.take_mmio_touched();
        let before = Snapshot::of(ctx.cpu);
        ctx.cpu.record_tlb_fills();
        let jit_result = normalize(eng.run_block(ctx, entry, irq_pending));
        if ctx.mem.take_mmio_touched() || ctx.cpu.regs.attention != 0 {
            ctx.cpu.keep_tlb_fills();
            // Device memory cannot be rolled back, and a block that wrote
            // translated code (or woke a device) stopped where the replay
            // would not: keep the JIT's result.
            self.skipped += 1;
            return jit_result;
        }
        let jit_cpu = Snapshot::of(ctx.cpu);
        let jit_writes = ctx.mem.set_journal(true);
        let mut expected: BTreeMap<u32, u8> = BTreeMap::new();
        for &(p, _) in &jit_writes {
            expected.insert(p, ctx.mem.bytes()[p as usize]);
        }
        for &(p, old) in jit_writes.iter().rev() {
            ctx.mem.restore_bytes(p, old);
        }
        before.restore(ctx.cpu);
        // The replay starts from the TLB the JIT started from: it walks
        // (and sets the accessed/dirty bits just undone) exactly where the
        // JIT did, and keeps using the entries the JIT used.
        ctx.cpu.undo_tlb_fills();
        let interp_result = normalize(run_interp(
            ctx,
            &mut eng.interp,
            jit_cpu.regs.icount,
            irq_pending,
        ));
        let interp_writes = ctx.mem.set_journal(true);
        for &(p, old) in &interp_writes {
            expected.entry(p).or_insert(old);
        }
        let mut diffs = state_diffs(&jit_cpu, &Snapshot::of(ctx.cpu));
        if jit_result != interp_result {
            diffs.push(format!(
                "outcome: jit {jit_result:?}, interp {interp_result:?}"
            ));
        }
        for (&p, &want) in &expected {
            let got = ctx.mem.bytes()[p as usize];
            if got != want {
                diffs.push(format!(
                    "memory {p:#010x}: jit {want:#04x}, interp {got:#04x}"
                ));
                if diffs.len() > 16 {
                    break;
                }
            }
        }
        self.checked += 1;
        if diffs.is_empty() {
            return interp_result;
        }
        self.failure = Some(report(&key, &instrs, &diffs));
        Err(Stop::CheckFailed)
    }
}

/// The CPU state without its TLB (a cache both engines may fill as they
/// like): cheap enough to take around every block.
struct Snapshot {
    regs: btvm_jit::abi::RegFile,
    cr: [u32; 4],
    dr: [u32; 8],
    tables: [crate::cpu::TableReg; 2],
    ldtr_tr: [btvm_jit::abi::SegCache; 2],
    cpl: u8,
    halted: bool,
    irq_shadow: bool,
    tsc_offset: u64,
    sysenter: [u32; 3],
    fpu: crate::fpu::Fpu,
}

impl Snapshot {
    fn of(cpu: &Cpu) -> Self {
        Snapshot {
            regs: cpu.regs.clone(),
            cr: [cpu.cr0, cpu.cr2, cpu.cr3, cpu.cr4],
            dr: cpu.dr,
            tables: [cpu.gdtr, cpu.idtr],
            ldtr_tr: [cpu.ldtr, cpu.tr],
            cpl: cpu.cpl,
            halted: cpu.halted,
            irq_shadow: cpu.irq_shadow,
            tsc_offset: cpu.tsc_offset,
            sysenter: cpu.sysenter,
            fpu: cpu.fpu.clone(),
        }
    }

    fn restore(self, cpu: &mut Cpu) {
        cpu.regs = self.regs;
        [cpu.cr0, cpu.cr2, cpu.cr3, cpu.cr4] = self.cr;
        cpu.dr = self.dr;
        [cpu.gdtr, cpu.idtr] = self.tables;
        [cpu.ldtr, cpu.tr] = self.ldtr_tr;
        cpu.cpl = self.cpl;
        cpu.halted = self.halted;
        cpu.irq_shadow = self.irq_shadow;
        cpu.tsc_offset = self.tsc_offset;
        cpu.sysenter = self.sysenter;
        cpu.fpu = self.fpu;
    }
}

/// Register-level differences between the JIT's and the interpreter's
/// results.
fn state_diffs(j: &Snapshot, i: &Snapshot) -> Vec<String> {
    let mut d = Vec::new();
    let mut cmp = |what: &str, a: u64, b: u64| {
        if a != b {
            d.push(format!("{what}: jit {a:#x}, interp {b:#x}"));
        }
    };
    cmp("eip", j.regs.eip.into(), i.regs.eip.into());
    const NAMES: [&str; 8] = ["eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi"];
    for (k, name) in NAMES.iter().enumerate() {
        cmp(name, j.regs.gpr[k].into(), i.regs.gpr[k].into());
    }
    cmp("eflags", j.regs.eflags().into(), i.regs.eflags().into());
    cmp("icount", j.regs.icount, i.regs.icount);
    for s in 0..6 {
        let (a, b) = (&j.regs.seg[s], &i.regs.seg[s]);
        cmp("segment selector", a.selector.into(), b.selector.into());
        cmp("segment base", a.base.into(), b.base.into());
    }
    for (k, name) in ["cr0", "cr2", "cr3", "cr4"].iter().enumerate() {
        cmp(name, j.cr[k].into(), i.cr[k].into());
    }
    cmp("cpl", j.cpl.into(), i.cpl.into());
    cmp("halted", j.halted.into(), i.halted.into());
    d
}

fn report(key: &BlockKey, instrs: &[Instruction], diffs: &[String]) -> String {
    let mut f = IntelFormatter::new();
    let mut out = format!(
        "jit check: divergence in the block at CS base {:#x} EIP {:#x} (mode key {:#x}):\n",
        key.cs_base, key.eip, key.mode.0
    );
    for i in instrs {
        let mut text = String::new();
        f.format(i, &mut text);
        out.push_str(&format!("    {:08x}  {text}\n", i.ip32()));
    }
    for d in diffs {
        out.push_str(&format!("  {d}\n"));
    }
    out
}
