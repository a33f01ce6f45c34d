//! Errors of the btvm library layer: host-side problems only (bad files,
//! bad arguments, host failures). Guest misbehaviour is never an `Error`:
//! it becomes a guest exception or a machine stop reason.

use std::path::PathBuf;

/// A host-side failure, with enough context to name the culprit.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Guest RAM size out of range.
    #[error("memory size {0} MiB is out of range (1 to 3584)")]
    BadMemorySize(u32),
    /// A ROM image is unusable.
    #[error("bad ROM image: {0}")]
    BadRom(String),
    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        source: std::io::Error,
    },
    /// A file was read but its contents are malformed.
    #[error("{}: {what}", path.display())]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        what: String,
    },
    /// Anything else the host refused.
    #[error("{0}")]
    Host(String),
}

impl Error {
    /// A file error naming the path.
    pub fn file(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::File {
            path: path.into(),
            source,
        }
    }

    /// A format error naming the path.
    pub fn format(path: impl Into<PathBuf>, what: impl Into<String>) -> Self {
        Error::Format {
            path: path.into(),
            what: what.into(),
        }
    }
}
