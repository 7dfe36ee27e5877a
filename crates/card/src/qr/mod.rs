//! QR codes: what they say ([`payload`]) and how they look ([`image`]).

pub mod payload;

#[cfg(feature = "qr-image")]
pub mod image;

pub use payload::{CardLink, CardSetNo, LiveToken, PayloadError, PublicId, Scanned, classify};
