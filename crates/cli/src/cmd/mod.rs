//! One module per command group.

pub mod client;
pub mod qr;
pub mod vcard;
pub mod wallet;
