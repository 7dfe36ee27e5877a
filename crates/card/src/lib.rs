//! Mingpian's business-card domain, shared by the phone side and the cloud.
//!
//! Pure: no I/O, no async, no network. It defines what a card is ([`Card`]), how cards travel as
//! vCard ([`vcard`]), how phone numbers are compared ([`phone`]), and what a Mingpian QR code says
//! and how it is drawn and read ([`qr`]).

pub mod api;
pub mod card;
pub mod limits;
pub mod phone;
#[cfg(feature = "qr-image")]
pub mod picture;
pub mod qr;
#[doc(hidden)]
pub mod sample;
pub mod vcard;
pub mod wallet;

pub use card::{Address, Card, Email, Media, Name, Phone, Property, Social, Url};
pub use phone::{PhoneError, PhoneNumber, Region};
pub use qr::{CardLink, CardSetNo, LiveToken, PayloadError, PublicId, Scanned};
