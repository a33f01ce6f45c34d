//! `btvm fuzz`: differential fuzzing of the engines against each other and the host CPU.

pub mod native;
