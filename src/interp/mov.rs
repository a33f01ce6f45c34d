//! (being written)

use iced_x86::Mnemonic;

use super::Handler;

/// The handler for a mnemonic of this group.
pub fn handler(_m: Mnemonic) -> Option<Handler> {
    None
}
