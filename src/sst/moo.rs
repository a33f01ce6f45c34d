//! Parser for the MOO test-vector format of the SingleStepTests project
//! (hardware-captured single-instruction tests; format v1.x, gzip).
//!
//! A file is a sequence of chunks (4-byte ASCII id, u32 length, payload);
//! unknown chunks are skipped by length, as the format requires. Only what
//! the runner needs is kept: the bytes, initial and final registers and RAM,
//! the exception record and the hash.

use std::io::Read;
use std::path::Path;

use crate::error::Error;

/// Register order of a MOO `REGS` bitmask (bit 0 first).
pub const REG_NAMES: [&str; 14] = [
    "ax", "bx", "cx", "dx", "cs", "ss", "ds", "es", "sp", "bp", "si", "di", "ip", "flags",
];

/// Index of FLAGS in [`RegSet`].
pub const REG_FLAGS: usize = 13;
/// Index of IP in [`RegSet`].
pub const REG_IP: usize = 12;

/// Registers present in a state (a `None` is "unchanged"/"not given").
pub type RegSet = [Option<u16>; 14];

/// A CPU state: registers and memory bytes.
#[derive(Clone, Debug, Default)]
pub struct MooState {
    /// Registers, in [`REG_NAMES`] order.
    pub regs: RegSet,
    /// (physical address, byte) pairs.
    pub ram: Vec<(u32, u8)>,
}

/// One test vector.
#[derive(Clone, Debug, Default)]
pub struct MooTest {
    /// 0-based index in the file.
    pub index: u32,
    /// Disassembly.
    pub name: String,
    /// Instruction bytes, prefixes included, followed by the HLT that ends it.
    pub bytes: Vec<u8>,
    /// Initial state.
    pub init: MooState,
    /// Final state (registers: only those that changed).
    pub fina: MooState,
    /// (vector, physical address of the pushed FLAGS) when an exception or
    /// interrupt happened.
    pub exception: Option<(u8, u32)>,
    /// SHA-1 of the test, as revocation lists name it (lower-case hex).
    pub hash: String,
}

/// A parsed file.
#[derive(Clone, Debug, Default)]
pub struct MooFile {
    /// CPU id from the header (e.g. "C286").
    pub cpu: String,
    /// Mnemonic from META, trimmed.
    pub mnemonic: String,
    /// The tests.
    pub tests: Vec<MooTest>,
}

struct Chunks<'a> {
    data: &'a [u8],
}

impl<'a> Iterator for Chunks<'a> {
    type Item = Result<(&'a [u8], &'a [u8]), String>;
    fn next(&mut self) -> Option<Self::Item> {
        if self.data.is_empty() {
            return None;
        }
        if self.data.len() < 8 {
            return Some(Err(format!(
                "truncated chunk header ({} bytes left)",
                self.data.len()
            )));
        }
        let id = &self.data[..4];
        let len =
            u32::from_le_bytes([self.data[4], self.data[5], self.data[6], self.data[7]]) as usize;
        if self.data.len() < 8 + len {
            let name = String::from_utf8_lossy(id).into_owned();
            return Some(Err(format!(
                "chunk '{name}' claims {len} bytes, only {} left",
                self.data.len() - 8
            )));
        }
        let payload = &self.data[8..8 + len];
        self.data = &self.data[8 + len..];
        Some(Ok((id, payload)))
    }
}

fn chunks(data: &[u8]) -> Chunks<'_> {
    Chunks { data }
}

fn u16_at(b: &[u8], at: usize) -> Result<u16, String> {
    b.get(at..at + 2)
        .map(|s| u16::from_le_bytes([s[0], s[1]]))
        .ok_or_else(|| "truncated field".to_string())
}

fn u32_at(b: &[u8], at: usize) -> Result<u32, String> {
    b.get(at..at + 4)
        .map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
        .ok_or_else(|| "truncated field".to_string())
}

fn parse_regs(p: &[u8]) -> Result<RegSet, String> {
    let bits = u16_at(p, 0)?;
    let mut regs = [None; 14];
    let mut at = 2;
    for (k, r) in regs.iter_mut().enumerate() {
        if bits & (1 << k) != 0 {
            *r = Some(u16_at(p, at)?);
            at += 2;
        }
    }
    Ok(regs)
}

fn parse_ram(p: &[u8]) -> Result<Vec<(u32, u8)>, String> {
    let n = u32_at(p, 0)? as usize;
    let body = p.get(4..4 + n * 5).ok_or("truncated RAM chunk")?;
    Ok(body
        .chunks_exact(5)
        .map(|e| (u32::from_le_bytes([e[0], e[1], e[2], e[3]]), e[4]))
        .collect())
}

fn parse_state(p: &[u8]) -> Result<MooState, String> {
    let mut s = MooState::default();
    for c in chunks(p) {
        let (id, body) = c?;
        match id {
            b"REGS" => s.regs = parse_regs(body)?,
            b"RAM " => s.ram = parse_ram(body)?,
            _ => {}
        }
    }
    Ok(s)
}

fn parse_test(p: &[u8]) -> Result<MooTest, String> {
    let mut t = MooTest {
        index: u32_at(p, 0)?,
        ..MooTest::default()
    };
    for c in chunks(&p[4..]) {
        let (id, body) = c?;
        match id {
            b"NAME" => {
                let n = u32_at(body, 0)? as usize;
                t.name = String::from_utf8_lossy(body.get(4..4 + n).ok_or("truncated NAME")?)
                    .into_owned();
            }
            b"BYTS" => {
                let n = u32_at(body, 0)? as usize;
                t.bytes = body.get(4..4 + n).ok_or("truncated BYTS")?.to_vec();
            }
            b"INIT" => t.init = parse_state(body)?,
            b"FINA" => t.fina = parse_state(body)?,
            b"EXCP" => t.exception = Some((*body.first().ok_or("empty EXCP")?, u32_at(body, 1)?)),
            b"HASH" => t.hash = body.iter().map(|b| format!("{b:02x}")).collect(),
            _ => {}
        }
    }
    Ok(t)
}

/// Parse an uncompressed MOO image.
pub fn parse(data: &[u8]) -> Result<MooFile, String> {
    let mut f = MooFile::default();
    let mut saw_header = false;
    for c in chunks(data) {
        let (id, body) = c?;
        match id {
            b"MOO " => {
                saw_header = true;
                f.cpu = String::from_utf8_lossy(body.get(8..12).ok_or("truncated MOO header")?)
                    .trim()
                    .to_string();
            }
            b"META" => {
                f.mnemonic = String::from_utf8_lossy(body.get(7..15).ok_or("truncated META")?)
                    .trim()
                    .to_string();
            }
            b"TEST" => f.tests.push(parse_test(body)?),
            _ => {}
        }
    }
    if !saw_header {
        return Err("no 'MOO ' header chunk: not a MOO file".into());
    }
    Ok(f)
}

/// Read and parse a `.MOO` or `.MOO.gz` file.
pub fn load(path: &Path) -> Result<MooFile, Error> {
    let raw = std::fs::read(path).map_err(|e| Error::file(path, e))?;
    let data = if raw.starts_with(&[0x1F, 0x8B]) {
        let mut out = Vec::with_capacity(raw.len() * 8);
        flate2::read::GzDecoder::new(&raw[..])
            .read_to_end(&mut out)
            .map_err(|e| Error::format(path, format!("bad gzip data: {e}")))?;
        out
    } else {
        raw
    };
    parse(&data).map_err(|e| Error::format(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunk(id: &[u8; 4], body: &[u8]) -> Vec<u8> {
        let mut v = id.to_vec();
        v.extend_from_slice(&(body.len() as u32).to_le_bytes());
        v.extend_from_slice(body);
        v
    }

    #[test]
    fn parses_a_minimal_file_and_skips_unknown_chunks() {
        let mut regs = 0b1_0000_0000_0001u16.to_le_bytes().to_vec(); // ax and ip
        regs.extend_from_slice(&0x1234u16.to_le_bytes());
        regs.extend_from_slice(&0x0100u16.to_le_bytes());
        let mut ram = 1u32.to_le_bytes().to_vec();
        ram.extend_from_slice(&[0x00, 0x01, 0x00, 0x00, 0x90]);
        let init = [chunk(b"REGS", &regs), chunk(b"RAM ", &ram)].concat();
        let mut test = 7u32.to_le_bytes().to_vec();
        test.extend(chunk(b"GMET", &[0; 10]));
        test.extend(chunk(b"BYTS", &[2, 0, 0, 0, 0x90, 0xF4]));
        test.extend(chunk(b"INIT", &init));
        test.extend(chunk(b"EXCP", &[13, 0x10, 0, 0, 0]));
        let mut header = vec![1, 0, 0, 0, 1, 0, 0, 0];
        header.extend_from_slice(b"C286");
        let file = [
            chunk(b"MOO ", &header),
            chunk(b"XTRA", b"ignored"),
            chunk(b"TEST", &test),
        ]
        .concat();
        let f = parse(&file).unwrap();
        assert_eq!(f.cpu, "C286");
        let t = &f.tests[0];
        assert_eq!(t.index, 7);
        assert_eq!(t.bytes, vec![0x90, 0xF4]);
        assert_eq!(t.init.regs[0], Some(0x1234));
        assert_eq!(t.init.regs[REG_IP], Some(0x0100));
        assert_eq!(t.init.regs[1], None);
        assert_eq!(t.init.ram, vec![(0x100, 0x90)]);
        assert_eq!(t.exception, Some((13, 0x10)));
    }

    #[test]
    fn truncation_is_an_error_not_a_panic() {
        assert!(parse(b"MOO \x10\x00\x00\x00\x01").is_err());
        assert!(parse(b"TEST").is_err());
        assert!(parse(&[]).is_err());
    }
}
