//! A card from a photo of a paper card (claim 4), read on the device: no network, no image
//! leaves the phone.
//!
//! - [`ocr`]: text lines from a photo with PaddleOCR's PP-OCRv6 small models (Apache-2.0) run in
//!   pure Rust by `rten` — no native library, so it builds for Android and iOS.
//! - [`fields`]: lines into card fields (name, title, department, company, numbers, email,
//!   website, address, social IDs).
//!
//! The models are not in git: `scripts/fetch-models.sh` extracts them from PyPI's `rapidocr`
//! wheel into `~/.cache/mingpian/models` (or `$MINGPIAN_MODELS`).

pub mod evaluate;
pub mod fields;
pub mod ocr;

pub use fields::card_from_lines;
pub use ocr::{Line, Ocr, OcrError};
