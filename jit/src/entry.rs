//! The prelude (entry trampoline, return path, dynamic-exit stub) and the
//! one place Rust jumps into generated code.

#![allow(unsafe_code)]

use dynasmrt::{dynasm, DynasmApi, DynasmLabelApi};

use crate::abi::{RegFile, Tlb};
use crate::emit::{Ops, Prelude};
use crate::helpers::Helpers;

/// Assemble the prelude for host address `base`; returns the code and
/// where its stubs are.
pub fn assemble_prelude(base: usize, helpers: &Helpers) -> Result<(Vec<u8>, Prelude), String> {
    let mut ops = Ops::new(base);
    let enter = ops.offset().0;
    dynasm!(ops
        ; .arch x64
        // enter(regs = rdi, tlb = rsi, ctx = rdx, code = rcx)
        ; push rbp
        ; push rbx
        ; push r12
        ; push r13
        ; push r14
        ; push r15
        ; sub rsp, 8
        ; mov rbx, rdi
        ; mov r12, rsi
        ; mov r13, rdx
        ; jmp rcx
    );
    let exit = ops.offset().0;
    dynasm!(ops
        ; .arch x64
        ; add rsp, 8
        ; pop r15
        ; pop r14
        ; pop r13
        ; pop r12
        ; pop rbx
        ; pop rbp
        ; ret
    );
    let dyn_exit = ops.offset().0;
    let lookup = helpers.lookup as usize;
    let exit_addr = base + exit;
    dynasm!(ops
        ; .arch x64
        ; mov rdi, r13
        ; mov rax, QWORD lookup as i64
        ; call rax
        ; test rax, rax
        ; jz extern exit_addr
        ; jmp rax
    );
    let code = ops.finalize().map_err(|e| format!("{e:?}"))?;
    Ok((
        code,
        Prelude {
            enter: base + enter,
            exit: base + exit,
            dyn_exit: base + dyn_exit,
        },
    ))
}

/// Run generated code starting at `code` until it returns to the engine.
///
/// # Safety
/// `prelude` must come from [`assemble_prelude`] in an executable code
/// buffer, `code` must be the entry of a live block in the same buffer,
/// `regs` and `tlb` must be valid for reads and writes for the whole run
/// and not otherwise borrowed, and `ctx` must be what the helpers in the
/// block's table expect.
pub unsafe fn enter(
    prelude: &Prelude,
    regs: *mut RegFile,
    tlb: *mut Tlb,
    ctx: *mut u8,
    code: usize,
) {
    type Enter = extern "sysv64" fn(*mut RegFile, *mut Tlb, *mut u8, usize);
    // SAFETY: `prelude.enter` is the address of the trampoline assembled by
    // `assemble_prelude` with exactly this signature (System V ABI), in an
    // executable buffer (the caller's contract).
    let f: Enter = unsafe { std::mem::transmute::<usize, Enter>(prelude.enter) };
    f(regs, tlb, ctx, code);
}
