//! Golden tests of emitted code: a few guest blocks are translated for a
//! fixed host address and their host code is disassembled (iced-x86,
//! 64-bit) into normalized text compared with `tests/golden/<name>.txt`.
//! Helper, call-site and exit-slot addresses, which vary from run to run,
//! are printed as names. A changed encoding shows as a readable diff.
//!
//! After an intended change to the emitter, rewrite the files with
//! `BTVM_BLESS=1 cargo test -p btvm-jit --test golden` and review the diff.

mod common;

#[cfg(test)]
mod tests {
    use super::common::{fake_helpers, flat32, real16};
    use btvm_jit::emit::Prelude;
    use btvm_jit::helpers::Helpers;
    use btvm_jit::mode::ModeKey;
    use btvm_jit::translate::{translate, BlockRequest, TranslateOptions, Translated};
    use iced_x86::{
        Code, Decoder, DecoderOptions, Formatter, Instruction, IntelFormatter, SymbolResolver,
        SymbolResult,
    };
    use std::path::PathBuf;

    /// Host address the blocks are assembled for.
    const BASE: usize = 0x1000_0000;
    /// Where the (not assembled) prelude's stubs are said to be.
    const PRELUDE: Prelude = Prelude {
        enter: 0x0FFF_F000,
        exit: 0x0FFF_F020,
        dyn_exit: 0x0FFF_F040,
    };

    /// Names for the addresses that appear in a block's code.
    struct Names(Vec<(u64, String)>, u64);

    impl SymbolResolver for Names {
        fn symbol(
            &mut self,
            _: &Instruction,
            _: u32,
            _: Option<u32>,
            address: u64,
            _: u32,
        ) -> Option<SymbolResult<'_>> {
            if let Some((_, n)) = self.0.iter().find(|(a, _)| *a == address) {
                return Some(SymbolResult::with_string(address, n.clone()));
            }
            let end = BASE as u64 + self.1;
            if (BASE as u64..=end).contains(&address) {
                let n = format!("blk+{:#x}", address - BASE as u64);
                return Some(SymbolResult::with_string(address, n));
            }
            None
        }
    }

    fn names(h: &Helpers, t: &Translated) -> Names {
        let mut v: Vec<(u64, String)> = vec![
            (h.fallback as usize as u64, "helper.fallback".into()),
            (h.load as usize as u64, "helper.load".into()),
            (h.store as usize as u64, "helper.store".into()),
            (h.lookup as usize as u64, "helper.lookup".into()),
            (h.chain as usize as u64, "helper.chain".into()),
            (PRELUDE.exit as u64, "prelude.exit".into()),
            (PRELUDE.dyn_exit as u64, "prelude.dyn_exit".into()),
        ];
        for (k, s) in t.sites.iter().enumerate() {
            v.push((&**s as *const _ as u64, format!("site[{k}]")));
        }
        for (k, (s, _)) in t.exits.iter().enumerate() {
            v.push((&**s as *const _ as u64, format!("slot[{k}]")));
        }
        Names(v, t.code.len() as u64)
    }

    /// Guest disassembly, one instruction a line.
    fn guest_text(code: &[u8], eip: u32, bitness: u32) -> String {
        let mut f = IntelFormatter::new();
        let mut out = String::new();
        for i in Decoder::with_ip(bitness, code, u64::from(eip), DecoderOptions::NONE) {
            let mut s = String::new();
            f.format(&i, &mut s);
            out += &format!("; {:08x}  {s}\n", i.ip());
        }
        out
    }

    /// Host disassembly: offset, bytes (a 64-bit immediate masked), text.
    fn host_text(t: &Translated, h: &Helpers) -> String {
        let mut f = IntelFormatter::with_options(Some(Box::new(names(h, t))), None);
        f.options_mut().set_hex_prefix("0x");
        f.options_mut().set_hex_suffix("");
        f.options_mut().set_uppercase_hex(false);
        f.options_mut().set_space_after_operand_separator(true);
        let mut out = String::new();
        for i in Decoder::with_ip(64, &t.code, BASE as u64, DecoderOptions::NONE) {
            let at = (i.ip() - BASE as u64) as usize;
            let bytes = &t.code[at..at + i.len()];
            let hex: Vec<String> = if i.code() == Code::Mov_r64_imm64 {
                let mut h: Vec<String> = bytes[..i.len() - 8]
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect();
                h.push("<imm64>".into());
                h
            } else {
                bytes.iter().map(|b| format!("{b:02x}")).collect()
            };
            let mut s = String::new();
            f.format(&i, &mut s);
            out += &format!("{at:4x}  {:<32} {s}\n", hex.join(" "));
        }
        out
    }

    /// Line diff (longest common subsequence) of `want` and `got`.
    fn diff(want: &str, got: &str) -> String {
        let a: Vec<&str> = want.lines().collect();
        let b: Vec<&str> = got.lines().collect();
        let mut l = vec![vec![0usize; b.len() + 1]; a.len() + 1];
        for i in (0..a.len()).rev() {
            for j in (0..b.len()).rev() {
                l[i][j] = if a[i] == b[j] {
                    l[i + 1][j + 1] + 1
                } else {
                    l[i + 1][j].max(l[i][j + 1])
                };
            }
        }
        let (mut i, mut j, mut out) = (0, 0, String::new());
        while i < a.len() || j < b.len() {
            if i < a.len() && j < b.len() && a[i] == b[j] {
                out += &format!("  {}\n", a[i]);
                i += 1;
                j += 1;
            } else if i < a.len() && (j == b.len() || l[i + 1][j] >= l[i][j + 1]) {
                out += &format!("- {}\n", a[i]);
                i += 1;
            } else {
                out += &format!("+ {}\n", b[j]);
                j += 1;
            }
        }
        out
    }

    /// Translate `code` at `eip` in `mode` and compare with the golden file.
    fn golden(name: &str, code: &[u8], eip: u32, mode: ModeKey) {
        let h = fake_helpers();
        let req = BlockRequest {
            eip,
            cs_base: 0,
            mode,
            code,
        };
        let t = translate(&req, BASE, &h, PRELUDE, &|_| 0, TranslateOptions::default())
            .unwrap()
            .expect("a block");
        let bitness = if mode.has(ModeKey::CODE32) { 32 } else { 16 };
        let text = format!(
            "; guest ({bitness}-bit), {} inline of {}:\n{}\n{}",
            t.inline,
            t.instrs.len(),
            guest_text(code, eip, bitness),
            host_text(&t, &h)
        );
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/golden")
            .join(format!("{name}.txt"));
        if std::env::var_os("BTVM_BLESS").is_some_and(|v| v == "1") {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, &text).unwrap();
            return;
        }
        let want = std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!(
                "{}: {e}; create it with BTVM_BLESS=1. The code is:\n{text}",
                path.display()
            )
        });
        if want != text {
            panic!(
                "{name}: emitted code differs from {} (- golden, + now); \
                 if intended, rewrite with BTVM_BLESS=1 and review:\n{}",
                path.display(),
                diff(&want, &text)
            );
        }
    }

    fn mode32() -> ModeKey {
        ModeKey::new(&flat32(), 0, true, false)
    }

    #[test]
    fn alu_reg_reg() {
        // add eax, ebx; sub ecx, edx; xor esi, esi; cmp eax, ecx
        // (only the last one's flags are live at the block end)
        golden(
            "alu_reg_reg",
            &[0x01, 0xD8, 0x29, 0xD1, 0x31, 0xF6, 0x39, 0xC8],
            0x1000,
            mode32(),
        );
    }

    #[test]
    fn alu_reg_mem() {
        // add eax, [ebx+8]; add [ebx+0xc], ecx; and dl, [ebx+ecx*4]
        golden(
            "alu_reg_mem",
            &[0x03, 0x43, 0x08, 0x01, 0x4B, 0x0C, 0x22, 0x14, 0x8B],
            0x1000,
            mode32(),
        );
    }

    #[test]
    fn flag_merge() {
        // adc eax, ebx (reads CF); inc ecx (keeps CF); shl edx, 1
        golden(
            "flag_merge",
            &[0x11, 0xD8, 0x41, 0xD1, 0xE2],
            0x1000,
            mode32(),
        );
    }

    #[test]
    fn jcc_after_compare() {
        // dec ebp; jnz back (flags carried in the host register)
        golden("jcc_after_compare", &[0x4D, 0x75, 0xF0], 0x1010, mode32());
    }

    #[test]
    fn jcc_on_guest_flags() {
        // jl +0x10 alone: EFLAGS (with OF) loaded into the host flags
        golden("jcc_on_guest_flags", &[0x7C, 0x10], 0x1000, mode32());
    }

    #[test]
    fn load_through_the_tlb() {
        // mov eax, [esi]; movzx ecx, word [esi+2]
        golden(
            "load_through_the_tlb",
            &[0x8B, 0x06, 0x0F, 0xB7, 0x4E, 0x02],
            0x1000,
            mode32(),
        );
    }

    #[test]
    fn real_mode_load_with_limit_check() {
        // mov ax, [bx+si+4]
        let mode = ModeKey::new(&real16(), 0, false, false);
        golden("real_mode_load", &[0x8B, 0x40, 0x04], 0x100, mode);
    }

    #[test]
    fn push_call_ret() {
        // push eax; call +0x20 ; and a lone ret
        golden(
            "push_call",
            &[0x50, 0xE8, 0x20, 0x00, 0x00, 0x00],
            0x1000,
            mode32(),
        );
        golden("ret", &[0xC3], 0x1000, mode32());
    }

    #[test]
    fn fallback_call() {
        // bswap eax (left to the interpreter); inc eax
        golden("fallback", &[0x0F, 0xC8, 0x40], 0x1000, mode32());
    }
}
