//! One module per command group.

pub mod qr;
pub mod vcard;
