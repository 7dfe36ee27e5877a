//! A card from a photo of a paper card (claim 4), read on the device: no network, no image
//! leaves the phone.
//!
//! - [`frame`]: the four-corner frame — the card's corners found in a photo (or set by the user),
//!   the card straightened out of the photo's perspective, its light evened out.
//! - [`ocr`]: text lines from a photo with PaddleOCR's PP-OCRv6 small models (Apache-2.0) run in
//!   pure Rust by `rten` — no native library, so it builds for Android and iOS.
//! - [`fields`]: lines into card fields (name, title, department, company, numbers, email,
//!   website, address, social IDs).
//! - [`paper`]: the workflow the app and the command line share: sides in, a draft card and the
//!   straightened pictures out, with the models loaded once.
//!
//! The models are not in git: `scripts/fetch-models.sh` extracts them from PyPI's `rapidocr`
//! wheel into `~/.cache/mingpian/models` (or `$MINGPIAN_MODELS`).

pub mod evaluate;
pub mod fields;
pub mod frame;
pub mod ocr;
pub mod paper;
mod regions;

pub use fields::card_from_lines;
pub use frame::{Quad, find_card};
pub use ocr::{Frame, Line, Ocr, OcrError, Reading};
pub use paper::{FoundFrame, PaperCard, Side, find_frame, read_paper_card, shared_ocr};
