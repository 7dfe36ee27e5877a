//! One module per command group.

pub mod carddav;
pub mod client;
pub mod qr;
pub mod vcard;
pub mod wallet;
