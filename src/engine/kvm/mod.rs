//! The KVM engine: the guest runs on the host CPU through Linux KVM, with
//! btvm's own memory, devices, PIC and BIOS behind I/O and MMIO exits.
//!
//! - Memory: the machine's one host mapping is registered as KVM memory
//!   slots following btvm's physical map ([`slots`]); the VGA window has no
//!   slot, so its accesses exit as MMIO. No in-kernel irqchip or PIT.
//! - State: the [`Cpu`] stays the source of truth between batches. Each
//!   [`Engine::run_until`] copies it into the vCPU (only the parts that
//!   changed since KVM last held them: the machine's `deliver()` pushes
//!   interrupt frames with the interpreter's logic and the BIOS services
//!   edit registers, both on `Cpu`), runs, and copies it back out once at
//!   the end ([`sync`]). Interrupts are thus delivered by the machine, not
//!   with KVM_INTERRUPT: one delivery path for every engine. With an IRQ
//!   pending and IF = 0, `request_interrupt_window` makes KVM exit as soon
//!   as the guest can take it.
//! - Exits: port I/O (string I/O too) and MMIO go to the devices
//!   ([`exits`]); an access that needs the machine's attention (the BIOS
//!   trap `out 0xE5, al`, debug exit, reset) ends the batch after KVM has
//!   completed the instruction (a KVM_RUN with `immediate_exit` set). HLT
//!   sets `cpu.halted` as the interpreter does; shutdown is a triple
//!   fault; entry failures and internal errors stop the machine with a
//!   one-line [`EngineFailure`].
//! - Time: KVM cannot count instructions, so a batch of N instructions is
//!   a slice of N / MIPS of host time, ended by a timer kick ([`kick`]),
//!   and the instruction count advances by elapsed time × MIPS (the
//!   virtual clock's rate, or [`HOST_CLOCK_MIPS`] under the host clock).
//!   KVM runs are therefore never deterministic, even with
//!   `--clock virtual`.
//! - A20: KVM has no gate; [`slots`] remaps the high memory area while the
//!   gate is closed.
//!
//! Unsafe code is confined to this module's files: memory-slot
//! registration here, the kvm_run page in [`exits`], the timer in [`kick`].

#![allow(unsafe_code)]

pub mod exits;
pub mod kick;
pub mod slots;
pub mod sync;

use std::time::Instant;

use kvm_bindings::{
    kvm_cpuid_entry2, kvm_fpu, kvm_regs, kvm_sregs, kvm_userspace_memory_region, CpuId,
    KVM_MEM_READONLY,
};
use kvm_ioctls::{Cap, VcpuExit, VcpuFd, VmFd};

use super::{Engine, EngineStats};
use crate::cpu::access::Ctx;
use crate::cpu::exception::{EngineFailure, Stop};
use crate::cpu::{Cpu, CR0_PE};
use crate::error::Error;
use crate::machine::clock::ClockKind;
use crate::memory::GuestMemory;
use exits::ExitCounts;
use kick::SliceTimer;
use slots::{Layout, Slot};

/// Instructions per microsecond assumed under the host clock, to turn the
/// machine's instruction budget into a time slice and elapsed time back
/// into an instruction count (`--max-instructions`, the screen check).
pub const HOST_CLOCK_MIPS: u64 = 100;

/// Shortest time slice: long enough that the guest always makes progress
/// (a budget of one instruction after STI must still run something).
const MIN_SLICE_NS: u64 = 20_000;

/// Where KVM may put the real-mode TSS it needs on VMX hosts without
/// unrestricted guest (3 pages below the high ROM, as other VMMs do).
const TSS_ADDRESS: usize = 0xFFFB_D000;

/// What KVM holds of the vCPU state, as last written or read, so a batch
/// only writes what changed outside KVM.
struct Held {
    regs: kvm_regs,
    sregs: kvm_sregs,
    fpu: kvm_fpu,
}

/// The memory slots registered now, and what they were made from.
struct Installed {
    layout: Layout,
    host_base: usize,
    slots: Vec<Slot>,
}

/// The KVM engine: one VM with one vCPU.
pub struct Kvm {
    vcpu: VcpuFd,
    vm: VmFd,
    /// Keeps `/dev/kvm` open for the VM's lifetime.
    _kvm: kvm_ioctls::Kvm,
    installed: Option<Installed>,
    held: Option<Held>,
    /// The vCPU's special registers at creation: EFER, APIC base and the
    /// other fields btvm does not model.
    sregs_template: kvm_sregs,
    readonly_mem: bool,
    timer: Option<SliceTimer>,
    mips: u64,
    counts: ExitCounts,
    /// The host's KVM is PVM (see [`host_is_pvm`]).
    pvm: bool,
}

/// Where a host whose KVM is PVM (paravirtual, nested) shows it.
pub const PVM_MODULE: &str = "/sys/module/kvm_pvm";

/// Whether the host's KVM is PVM, which runs real-mode guests but not
/// 32-bit protected mode: such guests either fail entry or run with no
/// progress (the bundled Linux spends minutes in its decompressor with no
/// output). `BTVM_KVM_TRY_PROTECTED=1` lets them run anyway.
pub fn host_is_pvm() -> bool {
    std::path::Path::new(PVM_MODULE).exists()
        && std::env::var_os("BTVM_KVM_TRY_PROTECTED").is_none_or(|v| v != "1")
}

/// The one-line stop for a protected-mode guest on a PVM host.
const PVM_PROTECTED: &str = "kvm: the host's KVM rejected protected-mode entry: \
     this host's KVM is PVM (/sys/module/kvm_pvm), which cannot run 32-bit \
     protected-mode guests (they fail or make no progress; \
     BTVM_KVM_TRY_PROTECTED=1 tries anyway); CR0";

/// A host-side KVM error as a one-line [`Error`].
fn host_error(what: &str, e: kvm_ioctls::Error) -> Error {
    Error::Host(format!(
        "kvm: {what}: {}",
        std::io::Error::from_raw_os_error(e.errno())
    ))
}

/// An engine failure during a run.
fn failure(what: &'static str, code: u64) -> Stop {
    Stop::EngineFailed(EngineFailure {
        what,
        code,
        at: None,
    })
}

/// btvm's CPUID (the interpreter's CPU model) as KVM entries, so a guest
/// sees the same CPU under every engine.
fn cpuid_entries() -> Result<CpuId, Error> {
    let entries: Vec<kvm_cpuid_entry2> = [0u32, 1]
        .into_iter()
        .map(|leaf| {
            let [eax, ebx, ecx, edx] = crate::interp::system::cpuid_leaf(leaf);
            kvm_cpuid_entry2 {
                function: leaf,
                eax,
                ebx,
                ecx,
                edx,
                ..Default::default()
            }
        })
        .collect();
    CpuId::from_entries(&entries).map_err(|e| Error::Host(format!("kvm: CPUID table: {e:?}")))
}

impl Kvm {
    /// Open `/dev/kvm` and create a VM with one vCPU. `clock` sets the rate
    /// at which time slices and instruction counts convert.
    pub fn open(clock: ClockKind) -> Result<Self, Error> {
        let kvm = kvm_ioctls::Kvm::new().map_err(|e| host_error("/dev/kvm", e))?;
        if kvm.get_api_version() != 12 {
            return Err(Error::Host(format!(
                "kvm: /dev/kvm speaks API version {}, btvm needs 12",
                kvm.get_api_version()
            )));
        }
        let vm = kvm
            .create_vm()
            .map_err(|e| host_error("KVM_CREATE_VM", e))?;
        // Only VMX without unrestricted guest needs it; others refuse or
        // ignore it, and either is fine.
        let _ = vm.set_tss_address(TSS_ADDRESS);
        let readonly_mem = vm.check_extension(Cap::ReadonlyMem);
        let vcpu = vm
            .create_vcpu(0)
            .map_err(|e| host_error("KVM_CREATE_VCPU", e))?;
        vcpu.set_cpuid2(&cpuid_entries()?)
            .map_err(|e| host_error("KVM_SET_CPUID2", e))?;
        let sregs_template = vcpu
            .get_sregs()
            .map_err(|e| host_error("KVM_GET_SREGS", e))?;
        let mips = match clock {
            ClockKind::Virtual { mips } => u64::from(mips.max(1)),
            ClockKind::Host => HOST_CLOCK_MIPS,
        };
        Ok(Kvm {
            vcpu,
            vm,
            _kvm: kvm,
            installed: None,
            held: None,
            sregs_template,
            readonly_mem,
            timer: None,
            mips,
            counts: ExitCounts::default(),
            pvm: host_is_pvm(),
        })
    }

    /// Register memory slots for the current layout of `mem` (again after
    /// an A20 change or a new mapping).
    fn install_slots(&mut self, mem: &GuestMemory) -> Result<(), Stop> {
        let layout = Layout {
            ram_size: mem.ram_size(),
            rom_size: mem.rom_size(),
            a20: mem.a20(),
        };
        let host_base = mem.host_base();
        if self
            .installed
            .as_ref()
            .is_some_and(|i| i.layout == layout && i.host_base == host_base)
        {
            return Ok(());
        }
        let new = layout.slots();
        let mapping_len = mem.bytes().len() as u64;
        if new.iter().any(|s| s.host_offset + s.size > mapping_len) {
            return Err(failure("kvm: memory slot outside the guest mapping", 0));
        }
        let old = self.installed.take().map(|i| i.slots).unwrap_or_default();
        for id in 0..old.len() {
            let region = kvm_userspace_memory_region {
                slot: id as u32,
                ..Default::default()
            };
            // SAFETY: a zero-sized region deletes slot `id`; no memory is
            // handed to KVM.
            unsafe { self.vm.set_user_memory_region(region) }
                .map_err(|e| failure("kvm: cannot delete a memory slot", e.errno() as u64))?;
        }
        for (id, s) in new.iter().enumerate() {
            let flags = if s.read_only && self.readonly_mem {
                KVM_MEM_READONLY
            } else {
                0
            };
            let region = kvm_userspace_memory_region {
                slot: id as u32,
                flags,
                guest_phys_addr: s.guest,
                memory_size: s.size,
                userspace_addr: (host_base as u64) + s.host_offset,
            };
            // SAFETY: the host range is the machine's guest mapping, never moved
            // while registered (a new base re-registers every slot); KVM touches it
            // only inside `run_until`, while the machine lends `mem` to this engine.
            unsafe { self.vm.set_user_memory_region(region) }
                .map_err(|e| failure("kvm: cannot register a memory slot", e.errno() as u64))?;
        }
        self.installed = Some(Installed {
            layout,
            host_base,
            slots: new,
        });
        Ok(())
    }

    /// Copy the CPU into the vCPU: only the parts that differ from what KVM
    /// holds.
    fn sync_in(&mut self, cpu: &Cpu) -> Result<(), Stop> {
        let template = self
            .held
            .as_ref()
            .map_or(&self.sregs_template, |h| &h.sregs);
        let regs = sync::regs_from_cpu(cpu);
        let sregs = sync::sregs_from_cpu(cpu, template);
        let fpu = sync::fpu_from_cpu(&cpu.fpu);
        let held = self.held.as_ref();
        if held.is_none_or(|h| h.sregs != sregs) {
            self.vcpu.set_sregs(&sregs).map_err(|e| {
                let what = if cpu.cr0 & CR0_PE != 0 {
                    "kvm: the host's KVM rejected the protected-mode state (KVM_SET_SREGS)"
                } else {
                    "kvm: the host's KVM rejected the real-mode state (KVM_SET_SREGS)"
                };
                failure(what, e.errno() as u64)
            })?;
        }
        if held.is_none_or(|h| h.regs != regs) {
            self.vcpu
                .set_regs(&regs)
                .map_err(|e| failure("kvm: KVM_SET_REGS failed", e.errno() as u64))?;
        }
        if held.is_none_or(|h| h.fpu != fpu) {
            self.vcpu
                .set_fpu(&fpu)
                .map_err(|e| failure("kvm: KVM_SET_FPU failed", e.errno() as u64))?;
        }
        self.held = Some(Held { regs, sregs, fpu });
        Ok(())
    }

    /// Copy the vCPU back into the CPU. `maybe_shadowed`: the slice ended
    /// between two arbitrary instructions, so an STI/MOV SS shadow may be
    /// active.
    fn sync_out(&mut self, cpu: &mut Cpu, maybe_shadowed: bool) -> Result<(), Stop> {
        let err = |what| move |e: kvm_ioctls::Error| failure(what, e.errno() as u64);
        let regs = self
            .vcpu
            .get_regs()
            .map_err(err("kvm: KVM_GET_REGS failed"))?;
        let sregs = self
            .vcpu
            .get_sregs()
            .map_err(err("kvm: KVM_GET_SREGS failed"))?;
        let fpu = self
            .vcpu
            .get_fpu()
            .map_err(err("kvm: KVM_GET_FPU failed"))?;
        sync::regs_into_cpu(&regs, cpu);
        let cr_changed = sync::sregs_into_cpu(&sregs, cpu);
        sync::fpu_into_cpu(&fpu, &mut cpu.fpu);
        if cr_changed || cpu.paging() {
            // The guest may have changed mappings the software TLB (used
            // by interrupt delivery and the BIOS) still holds.
            cpu.flush_tlb_all();
        }
        cpu.irq_shadow = false;
        if maybe_shadowed {
            let events = self
                .vcpu
                .get_vcpu_events()
                .map_err(err("kvm: KVM_GET_VCPU_EVENTS failed"))?;
            cpu.irq_shadow = events.interrupt.shadow != 0;
        }
        self.held = Some(Held { regs, sregs, fpu });
        Ok(())
    }

    /// Let KVM finish an instruction whose I/O or MMIO exit was served,
    /// without running further (KVM_RUN with `immediate_exit` set).
    fn complete_pending(&mut self) {
        self.vcpu.set_kvm_immediate_exit(1);
        let _ = self.vcpu.run();
        self.vcpu.set_kvm_immediate_exit(0);
    }

    /// The slice timer for the calling thread (made again if the machine
    /// moved to another thread).
    fn timer(&mut self) -> Result<&mut SliceTimer, Stop> {
        // SAFETY: gettid has no preconditions.
        let tid = unsafe { libc::gettid() };
        if self.timer.as_ref().is_none_or(|t| t.thread() != tid) {
            self.timer = None;
            let t =
                SliceTimer::new().map_err(|_| failure("kvm: cannot create the slice timer", 0))?;
            self.timer = Some(t);
        }
        Ok(self.timer.as_mut().expect("timer just made"))
    }

    /// Run the vCPU until the slice ends or an exit needs the machine.
    /// Returns the stop, and whether the slice was cut short between
    /// arbitrary instructions (a kick or a window exit).
    fn run_slice(&mut self, ctx: &mut Ctx, start: (u64, Instant)) -> (Result<(), Stop>, bool) {
        let advance = |ctx: &mut Ctx, mips: u64| {
            let ns = start.1.elapsed().as_nanos() as u64;
            ctx.cpu.regs.icount = start.0 + ns.saturating_mul(mips) / 1000;
        };
        loop {
            self.counts.runs += 1;
            let exit = self.vcpu.run();
            advance(ctx, self.mips);
            match exit {
                Ok(VcpuExit::IoIn(..)) | Ok(VcpuExit::IoOut(..)) => {
                    self.counts.io += 1;
                    // SAFETY: KVM_RUN just returned KVM_EXIT_IO on this vCPU.
                    let n = unsafe { exits::port_io(self.vcpu.get_kvm_run(), ctx) };
                    self.counts.io_accesses += n;
                    if ctx.cpu.regs.attention != 0 {
                        self.complete_pending();
                        return (Ok(()), false);
                    }
                }
                Ok(VcpuExit::MmioRead(addr, data)) => {
                    self.counts.mmio += 1;
                    exits::mmio_read(ctx, addr, data);
                }
                Ok(VcpuExit::MmioWrite(addr, data)) => {
                    self.counts.mmio += 1;
                    let mut buf = [0u8; 8];
                    let n = data.len().min(8);
                    buf[..n].copy_from_slice(&data[..n]);
                    if exits::mmio_write(ctx, addr, &buf[..n]) {
                        ctx.cpu.regs.attention = 1;
                        self.complete_pending();
                        return (Ok(()), false);
                    }
                }
                Ok(VcpuExit::Hlt) => {
                    self.counts.hlt += 1;
                    ctx.cpu.halted = true;
                    return (Ok(()), false);
                }
                Ok(VcpuExit::IrqWindowOpen) => {
                    self.counts.irq_window += 1;
                    return (Ok(()), false);
                }
                Ok(VcpuExit::Intr) => {
                    self.counts.intr += 1;
                    return (Ok(()), true);
                }
                Ok(VcpuExit::Shutdown) => {
                    self.counts.shutdown += 1;
                    return (Err(Stop::TripleFault), false);
                }
                Ok(VcpuExit::FailEntry(reason, _cpu)) => {
                    self.counts.failed += 1;
                    let what = if ctx.cpu.protected() {
                        "kvm: the host's KVM rejected protected-mode entry: \
                         KVM_EXIT_FAIL_ENTRY hardware reason"
                    } else {
                        "kvm: the host's KVM rejected real-mode entry: \
                         KVM_EXIT_FAIL_ENTRY hardware reason"
                    };
                    return (Err(failure(what, reason)), false);
                }
                Ok(VcpuExit::InternalError) => {
                    self.counts.failed += 1;
                    // SAFETY: KVM_RUN just returned KVM_EXIT_INTERNAL_ERROR,
                    // so `internal` is the live member of the exit union.
                    let sub = unsafe { self.vcpu.get_kvm_run().__bindgen_anon_1.internal.suberror };
                    let what = if ctx.cpu.protected() {
                        "kvm: the host's KVM cannot run this protected-mode guest: \
                         KVM_EXIT_INTERNAL_ERROR suberror"
                    } else {
                        "kvm: the host's KVM cannot run this instruction in real mode: \
                         KVM_EXIT_INTERNAL_ERROR suberror"
                    };
                    return (Err(failure(what, sub.into())), false);
                }
                Ok(_) => {
                    self.counts.failed += 1;
                    let reason = self.vcpu.get_kvm_run().exit_reason;
                    return (
                        Err(failure("kvm: unexpected KVM exit reason", reason.into())),
                        false,
                    );
                }
                Err(e) if e.errno() == libc::EINTR => {
                    self.counts.intr += 1;
                    return (Ok(()), true);
                }
                Err(e) if e.errno() == libc::EAGAIN => {}
                Err(e) => {
                    self.counts.failed += 1;
                    return (
                        Err(failure("kvm: KVM_RUN failed, errno", e.errno() as u64)),
                        false,
                    );
                }
            }
        }
    }
}

impl Engine for Kvm {
    fn run_until(&mut self, ctx: &mut Ctx, end: u64, irq_pending: bool) -> Result<(), Stop> {
        if self.pvm && ctx.cpu.cr0 & CR0_PE != 0 {
            // Detected before entry rather than after a silent stall.
            return Err(Stop::EngineFailed(EngineFailure {
                what: PVM_PROTECTED,
                code: u64::from(ctx.cpu.cr0),
                at: Some((
                    ctx.cpu.regs.seg[btvm_jit::abi::sreg::CS].selector,
                    ctx.cpu.regs.eip,
                )),
            }));
        }
        self.install_slots(ctx.mem)?;
        self.sync_in(ctx.cpu)?;
        let budget = end.saturating_sub(ctx.cpu.regs.icount);
        let slice_ns = (budget.saturating_mul(1000) / self.mips).max(MIN_SLICE_NS);
        let run = self.vcpu.get_kvm_run();
        run.request_interrupt_window = u8::from(irq_pending);
        run.immediate_exit = 0;
        let immediate_exit: *mut u8 = &mut run.immediate_exit;
        let start = (ctx.cpu.regs.icount, Instant::now());
        // SAFETY: `immediate_exit` is in this vCPU's kvm_run mapping (alive as
        // long as `self.vcpu`); the per-thread timer is disarmed below, on this
        // thread, before returning.
        unsafe { self.timer()?.arm(slice_ns, immediate_exit) };
        let (mut result, cut_short) = self.run_slice(ctx, start);
        if let Err(Stop::EngineFailed(f)) = &mut result {
            // Name the instruction KVM gave up on, if the vCPU still says.
            if let (Ok(r), Ok(s)) = (self.vcpu.get_regs(), self.vcpu.get_sregs()) {
                f.at = Some((s.cs.selector, r.rip as u32));
            }
        }
        if let Some(t) = &mut self.timer {
            t.disarm();
        }
        self.vcpu.set_kvm_immediate_exit(0);
        match result {
            Err(Stop::EngineFailed(f)) => {
                // The vCPU state may be unreadable now; keep btvm's.
                self.held = None;
                Err(Stop::EngineFailed(f))
            }
            other => {
                self.sync_out(ctx.cpu, cut_short)?;
                other
            }
        }
    }

    fn reset(&mut self) {
        // The machine rebuilt the CPU: write all of it next time.
        self.held = None;
    }

    fn stats(&self) -> EngineStats {
        self.counts.pairs()
    }
}
