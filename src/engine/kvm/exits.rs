//! What a KVM exit asks of the machine: port I/O (string I/O with a count
//! too) through [`Ctx::port_in`]/[`Ctx::port_out`], MMIO through the
//! physical map (VGA window to the MMIO bus, ROM writes dropped, holes read
//! all-ones), and the per-reason exit counters `--stats` prints.

#![allow(unsafe_code)]

use kvm_bindings::{kvm_run, KVM_EXIT_IO_IN};

use crate::cpu::access::Ctx;
use crate::memory::Region;
use crate::platform::AccessSize;

/// Exits by reason, for `--stats`.
#[derive(Clone, Copy, Debug, Default)]
pub struct ExitCounts {
    /// KVM_RUN calls.
    pub runs: u64,
    /// Port I/O exits.
    pub io: u64,
    /// Ports accessed by those exits (string I/O moves several at once).
    pub io_accesses: u64,
    /// MMIO exits (VGA window, ROM writes, holes).
    pub mmio: u64,
    /// HLT exits.
    pub hlt: u64,
    /// Interrupt-window exits (IF became 1 with an IRQ pending).
    pub irq_window: u64,
    /// Slices ended by the kick timer (EINTR / KVM_EXIT_INTR).
    pub intr: u64,
    /// Shutdown exits (triple fault).
    pub shutdown: u64,
    /// Entry failures and internal errors.
    pub failed: u64,
}

impl ExitCounts {
    /// (name, value) pairs for `Engine::stats`.
    pub fn pairs(&self) -> Vec<(&'static str, u64)> {
        vec![
            ("kvm_run", self.runs),
            ("io exits", self.io),
            ("io accesses", self.io_accesses),
            ("mmio exits", self.mmio),
            ("hlt exits", self.hlt),
            ("irq window exits", self.irq_window),
            ("intr exits", self.intr),
            ("shutdown exits", self.shutdown),
            ("failed entries", self.failed),
        ]
    }
}

fn size_of(n: usize) -> AccessSize {
    match n {
        1 => AccessSize::Byte,
        2 => AccessSize::Word,
        _ => AccessSize::Dword,
    }
}

/// Serve a KVM_EXIT_IO: every element of a (string) I/O goes to the port
/// in order; IN data lands in the kvm_run page for KVM to complete the
/// instruction with. Returns the number of port accesses made.
///
/// # Safety
///
/// `run` must be the vCPU's kvm_run mapping right after KVM_RUN returned
/// with `exit_reason == KVM_EXIT_IO`.
pub unsafe fn port_io(run: &mut kvm_run, ctx: &mut Ctx) -> u64 {
    // SAFETY: the caller guarantees the exit reason, so `io` is the live
    // member of the exit union.
    let io = unsafe { run.__bindgen_anon_1.io };
    let size = usize::from(io.size);
    let len = size * io.count as usize;
    let base = run as *mut kvm_run as *mut u8;
    // SAFETY: KVM puts the data `data_offset` bytes into the kvm_run
    // mapping, which kvm-ioctls maps whole (KVM_GET_VCPU_MMAP_SIZE bytes),
    // and `size * count` bytes of it belong to this exit.
    let data = unsafe { std::slice::from_raw_parts_mut(base.add(io.data_offset as usize), len) };
    if size == 0 {
        return 0;
    }
    for chunk in data.chunks_exact_mut(size) {
        if u32::from(io.direction) == KVM_EXIT_IO_IN {
            let v = ctx.port_in(io.port, size);
            chunk.copy_from_slice(&v.to_le_bytes()[..size]);
        } else {
            let mut b = [0u8; 4];
            b[..size].copy_from_slice(chunk);
            ctx.port_out(io.port, size, u32::from_le_bytes(b));
        }
    }
    io.count.into()
}

/// Serve an MMIO read of `data.len()` bytes at guest physical `addr`.
pub fn mmio_read(ctx: &mut Ctx, addr: u64, data: &mut [u8]) {
    let addr = addr as u32;
    if ctx.mem.region(addr) == Region::Mmio && matches!(data.len(), 1 | 2 | 4) {
        let v = ctx.io.mmio_read(addr, size_of(data.len()));
        data.copy_from_slice(&v.to_le_bytes()[..data.len()]);
        return;
    }
    for (i, b) in data.iter_mut().enumerate() {
        let p = addr.wrapping_add(i as u32);
        *b = match ctx.mem.read_u8(p) {
            Some(v) => v,
            None => ctx.io.mmio_read(p, AccessSize::Byte) as u8,
        };
    }
}

/// Serve an MMIO write (the VGA window; ROM and unmapped writes are
/// dropped). Returns whether a device asked the machine to look
/// (`attention`).
pub fn mmio_write(ctx: &mut Ctx, addr: u64, data: &[u8]) -> bool {
    let addr = addr as u32;
    if ctx.mem.region(addr) == Region::Mmio && matches!(data.len(), 1 | 2 | 4) {
        let mut b = [0u8; 4];
        b[..data.len()].copy_from_slice(data);
        return ctx
            .io
            .mmio_write(addr, size_of(data.len()), u32::from_le_bytes(b));
    }
    let mut attention = false;
    for (i, &b) in data.iter().enumerate() {
        let p = addr.wrapping_add(i as u32);
        if ctx.mem.region(p) == Region::Mmio {
            attention |= ctx.io.mmio_write(p, AccessSize::Byte, u32::from(b));
        }
    }
    attention
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cpu::Cpu;
    use crate::memory::GuestMemory;
    use crate::platform::NullPlatform;

    #[test]
    fn mmio_reads_route_by_region() {
        let mut cpu = Cpu::new();
        let mut mem = GuestMemory::new(2).unwrap();
        mem.load_rom(&[0x5A; 65536]).unwrap();
        let mut io = NullPlatform;
        let mut ctx = Ctx {
            cpu: &mut cpu,
            mem: &mut mem,
            io: &mut io,
        };
        let mut b = [0u8; 2];
        mmio_read(&mut ctx, 0xB8000, &mut b);
        assert_eq!(b, [0xFF, 0xFF], "VGA window goes to the bus");
        mmio_read(&mut ctx, 0x40_0000, &mut b);
        assert_eq!(b, [0xFF, 0xFF], "hole above RAM reads all-ones");
        mmio_read(&mut ctx, 0xFFFF_FFF0, &mut b);
        assert_eq!(b, [0x5A, 0x5A], "ROM bytes");
        assert!(!mmio_write(&mut ctx, 0xF0000, &[1, 2, 3, 4]));
        assert_eq!(ctx.mem.read_u8(0xF0000), Some(0x5A), "ROM stays read-only");
    }
}
