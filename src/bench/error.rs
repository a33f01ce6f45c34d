//! Errors of `btvm bench` that stop the whole run: a missing tool, a ROM
//! that does not assemble, a bad row or engine name. A row that fails on
//! one engine is not an error: it is reported as FAIL in its table cell.

use std::path::PathBuf;

/// A host-side problem that prevents benchmarking.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// A required program is not on PATH.
    #[error("{tool} not found on PATH ({hint})")]
    ToolMissing {
        /// The program, e.g. `nasm`.
        tool: &'static str,
        /// How to get it.
        hint: &'static str,
    },
    /// nasm rejected a benchmark ROM.
    #[error("nasm failed on {}:\n{stderr}", file.display())]
    Assemble {
        /// The source file.
        file: PathBuf,
        /// What nasm said.
        stderr: String,
    },
    /// A file or directory could not be read, written or created.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// What the OS said.
        source: std::io::Error,
    },
    /// `--rows` named a row that does not exist.
    #[error("unknown benchmark row {0:?} (known: {1})")]
    UnknownRow(String, String),
    /// `--engines` named an engine that does not exist.
    #[error("unknown engine {0:?} (known: {1})")]
    UnknownEngine(String, String),
    /// An option value is unusable.
    #[error("{0}")]
    BadOption(String),
}

impl BenchError {
    /// An I/O error naming the path.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        BenchError::Io {
            path: path.into(),
            source,
        }
    }
}
