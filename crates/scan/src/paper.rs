//! The paper-card workflow, as the app and the command line both run it: photos of a card's
//! sides in, a draft card out, with each side's picture straightened for keeping. The models are
//! loaded once per process and shared.

use std::path::Path;
use std::sync::OnceLock;

use mingpian_card::{Card, Region};

use crate::fields::card_from_lines;
use crate::frame::Quad;
use crate::ocr::{Frame, Line, Ocr, OcrError, decode_image, encode_jpeg};

/// The longest side of a kept card picture (pixels): sharp on a phone, ~100–200 KB as JPEG.
pub const PICTURE_SIDE: u32 = 1200;

/// The models, loaded on first use (~50 ms) from `dir` and kept for the life of the process.
/// A failed load is remembered too, so a missing model is said once and quickly.
pub fn shared_ocr(dir: &Path) -> Result<&'static Ocr, OcrError> {
    static OCR: OnceLock<Result<Ocr, String>> = OnceLock::new();
    OCR.get_or_init(|| Ocr::load(dir).map_err(|e| e.to_string()))
        .as_ref()
        .map_err(|message| OcrError::Load("the OCR models".into(), message.clone()))
}

/// One side of a paper card: the photo as taken (JPEG, PNG…; EXIF orientation is applied) and
/// where the card is in it.
#[derive(Debug, Clone, Copy)]
pub struct Side<'a> {
    pub photo: &'a [u8],
    pub frame: Frame,
}

/// Where the card is in a photo, to draw the four-corner frame the user can then drag.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FoundFrame {
    /// Top-left, top-right, bottom-right, bottom-left, in the photo's pixels as shown; `None`
    /// when no outline shows.
    pub corners: Option<Quad>,
    pub width: u32,
    pub height: u32,
}

/// A draft card read from paper.
#[derive(Debug, Clone)]
pub struct PaperCard {
    pub card: Card,
    /// Every line read, front first.
    pub lines: Vec<Line>,
    /// Each side's picture, straightened, light evened and upright (JPEG).
    pub pictures: Vec<Vec<u8>>,
    /// The front's corners in its photo, when found or given.
    pub frame: Option<Quad>,
    /// How far the front was turned to read it upright (degrees clockwise).
    pub turned: u16,
}

/// Finds the card's outline in a photo.
pub fn find_frame(ocr: &Ocr, photo: &[u8]) -> Result<FoundFrame, OcrError> {
    let image = decode_image(photo)?;
    Ok(FoundFrame {
        corners: ocr.find_frame(&image),
        width: image.width(),
        height: image.height(),
    })
}

/// Reads a paper card from its sides (front, and back if there is one; more are ignored), on
/// the device: nothing leaves it. Numbers without a country code are read in `region`.
pub fn read_paper_card(
    ocr: &Ocr,
    sides: &[Side<'_>],
    region: Region,
) -> Result<PaperCard, OcrError> {
    let mut lines = Vec::new();
    let mut pictures = Vec::new();
    let mut front = None;
    for side in sides.iter().take(2) {
        let image = decode_image(side.photo)?;
        let reading = ocr.read_card(&image, side.frame)?;
        lines.extend(reading.lines.iter().cloned());
        pictures.push(encode_jpeg(&reading.picture, PICTURE_SIDE)?);
        front.get_or_insert((reading.frame, reading.turned));
    }
    let (frame, turned) = front.unwrap_or((None, 0));
    Ok(PaperCard {
        card: card_from_lines(&lines, region),
        lines,
        pictures,
        frame,
        turned,
    })
}
