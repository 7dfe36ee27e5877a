//! QR codes as pictures: encoding text to PNG/SVG for a phone screen or print, and decoding
//! codes from photos and screenshots (the desktop app and "scan from gallery").
//!
//! Encoding: text that is not ASCII goes in byte mode with an ECI header naming UTF-8. The
//! `qrcode` crate would otherwise pick Kanji mode for Chinese text and ZXing-style readers (most
//! phone cameras) show garbage. Error correction is M: a phone screen is clean and flat, and M
//! keeps modules larger than Q or H would for the same URL. The quiet zone is the standard four
//! modules.
//!
//! Decoding uses `rxing` (a port of ZXing), which decoded the most of our sample photos among the
//! pure-Rust readers measured. It is run in several passes, cheapest first, because phone photos
//! fail in different ways: too large (down-scaled), inverted (light on dark), low contrast.

use image::{GrayImage, ImageFormat, Luma};
use qrcode::bits::Bits;
use qrcode::{EcLevel, QrCode, Version};
use rxing::common::{GlobalHistogramBinarizer, HybridBinarizer};
use rxing::multi::{GenericMultipleBarcodeReader, MultipleBarcodeReader};
use rxing::{
    BarcodeFormat, BinaryBitmap, DecodeHints, Luma8LuminanceSource, MultiUseMultiFormatReader,
};

/// ECI assignment number for UTF-8.
const ECI_UTF8: u32 = 26;
/// Modules of light margin around the code (ISO/IEC 18004).
const QUIET_ZONE: u32 = 4;

#[derive(Debug, thiserror::Error)]
pub enum QrImageError {
    #[error("the text is too long for a QR code ({0} bytes)")]
    TooLong(usize),
    #[error("could not read the image: {0}")]
    BadImage(String),
    #[error("could not write the image: {0}")]
    Write(String),
}

/// Builds the QR code for `text`.
pub fn encode(text: &str) -> Result<QrCode, QrImageError> {
    if text.is_ascii() {
        return QrCode::with_error_correction_level(text, EcLevel::M)
            .map_err(|_| QrImageError::TooLong(text.len()));
    }
    for version in 1..=40 {
        let mut bits = Bits::new(Version::Normal(version));
        let fits = bits.push_eci_designator(ECI_UTF8).is_ok()
            && bits.push_byte_data(text.as_bytes()).is_ok()
            && bits.push_terminator(EcLevel::M).is_ok();
        if fits {
            return QrCode::with_bits(bits, EcLevel::M)
                .map_err(|_| QrImageError::TooLong(text.len()));
        }
    }
    Err(QrImageError::TooLong(text.len()))
}

/// The code as a grey-scale picture with `module_px` pixels per module.
pub fn render(code: &QrCode, module_px: u32) -> GrayImage {
    let module_px = module_px.max(1);
    let modules = code.width() as u32;
    let side = (modules + 2 * QUIET_ZONE) * module_px;
    let mut img = GrayImage::from_pixel(side, side, Luma([255]));
    for (i, color) in code.to_colors().into_iter().enumerate() {
        if color != qrcode::Color::Dark {
            continue;
        }
        let (mx, my) = (i as u32 % modules, i as u32 / modules);
        let (x0, y0) = ((mx + QUIET_ZONE) * module_px, (my + QUIET_ZONE) * module_px);
        for y in y0..y0 + module_px {
            for x in x0..x0 + module_px {
                img.put_pixel(x, y, Luma([0]));
            }
        }
    }
    img
}

/// PNG bytes of the code for `text`.
pub fn encode_png(text: &str, module_px: u32) -> Result<Vec<u8>, QrImageError> {
    let img = render(&encode(text)?, module_px);
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, ImageFormat::Png)
        .map_err(|e| QrImageError::Write(e.to_string()))?;
    Ok(out.into_inner())
}

/// SVG text of the code for `text`: scales to any size without blur.
pub fn encode_svg(text: &str) -> Result<String, QrImageError> {
    let code = encode(text)?;
    Ok(code
        .render::<qrcode::render::svg::Color<'_>>()
        .quiet_zone(true)
        .min_dimensions(256, 256)
        .dark_color(qrcode::render::svg::Color("#000000"))
        .light_color(qrcode::render::svg::Color("#ffffff"))
        .build())
}

/// Every QR code found in an image file's bytes (PNG, JPEG, WebP, GIF, BMP), in no particular
/// order, without duplicates. An image with no code gives an empty list.
pub fn decode(bytes: &[u8]) -> Result<Vec<String>, QrImageError> {
    let img = crate::picture::decode(bytes).map_err(|e| QrImageError::BadImage(e.to_string()))?;
    Ok(decode_luma(&img.to_luma8()))
}

/// Every QR code in a grey-scale image.
pub fn decode_luma(img: &GrayImage) -> Vec<String> {
    let largest = img.width().max(img.height());
    // Photos straight from a phone camera are 3000–4000 px; the detector does better, and much
    // faster, around 1000–1600 px.
    if largest > 1600 {
        let found = scan(&resize(img, 1200.0 / largest as f32));
        if !found.is_empty() {
            return found;
        }
    }
    let found = scan(img);
    if !found.is_empty() {
        return found;
    }
    // Slower fall-backs: light-on-dark codes, then smaller sizes for codes that fill the frame
    // with blur or moiré.
    let mut inverted = img.clone();
    image::imageops::invert(&mut inverted);
    let mut fallbacks = vec![inverted];
    for scale in [0.5f32, 0.35] {
        if (largest as f32 * scale) >= 200.0 {
            fallbacks.push(resize(img, scale));
        }
    }
    if largest < 400 {
        fallbacks.push(resize(img, 2.0));
    }
    for candidate in &fallbacks {
        let found = scan(candidate);
        if !found.is_empty() {
            return found;
        }
    }
    Vec::new()
}

fn push_unique(out: &mut Vec<String>, results: Vec<rxing::RXingResult>) {
    for r in results {
        let text = r.getText();
        if !out.iter().any(|t| t == text) {
            out.push(text.to_owned());
        }
    }
}

fn resize(img: &GrayImage, scale: f32) -> GrayImage {
    let w = ((img.width() as f32 * scale).round() as u32).max(1);
    let h = ((img.height() as f32 * scale).round() as u32).max(1);
    image::imageops::resize(img, w, h, image::imageops::FilterType::Triangle)
}

fn hints() -> DecodeHints {
    DecodeHints {
        TryHarder: Some(true),
        PossibleFormats: Some([BarcodeFormat::QR_CODE].into_iter().collect()),
        // Byte-mode codes without an ECI header are UTF-8 in practice (vCards from Chinese and
        // Western generators alike); ZXing's ISO-8859-1 default would garble them.
        CharacterSet: Some("UTF-8".to_owned()),
        ..DecodeHints::default()
    }
}

/// One pass: the hybrid binariser (good for photos), then the global one (good for flat,
/// low-contrast screenshots).
fn scan(img: &GrayImage) -> Vec<String> {
    let (w, h) = img.dimensions();
    if w == 0 || h == 0 {
        return Vec::new();
    }
    let mut hints = hints();
    let mut reader = GenericMultipleBarcodeReader::new(MultiUseMultiFormatReader::default());
    let mut out: Vec<String> = Vec::new();
    if let Ok(source) = Luma8LuminanceSource::new(img.as_raw().clone(), w, h) {
        let mut bitmap = BinaryBitmap::new(HybridBinarizer::new(source));
        if let Ok(results) = reader.decode_multiple_with_hints(&mut bitmap, &hints) {
            push_unique(&mut out, results);
        }
    }
    if out.is_empty()
        && let Ok(source) = Luma8LuminanceSource::new(img.as_raw().clone(), w, h)
    {
        let mut bitmap = BinaryBitmap::new(GlobalHistogramBinarizer::new(source));
        hints.TryHarder = Some(true);
        if let Ok(results) = reader.decode_multiple_with_hints(&mut bitmap, &hints) {
            push_unique(&mut out, results);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_text_round_trips_through_png_in_utf8_byte_mode() {
        let text = "BEGIN:VCARD\nVERSION:3.0\nFN:张伟\nORG:名片科技有限公司\nEND:VCARD";
        let png = encode_png(text, 6).expect("encodes");
        assert_eq!(
            decode(&png).expect("decodes"),
            vec![text.to_owned()],
            "UTF-8 with ECI must decode unchanged"
        );
    }

    #[test]
    fn card_url_round_trips_and_uses_quiet_zone() {
        let url = "https://mp.example.cn/c/BwcHBwcHBwcHBwcHBwcHBw/1?t=abcdefgh12345678";
        let code = encode(url).expect("encodes");
        let img = render(&code, 4);
        assert_eq!(
            img.width(),
            (code.width() as u32 + 8) * 4,
            "four modules of quiet zone each side"
        );
        assert!(
            img.pixels()
                .take(img.width() as usize * 16)
                .all(|p| p.0[0] == 255),
            "top margin is white"
        );
        assert_eq!(decode_luma(&img), vec![url.to_owned()]);
    }

    #[test]
    fn svg_is_a_complete_document() {
        let svg = encode_svg("https://mp.example.cn/c/BwcHBwcHBwcHBwcHBwcHBw/1").expect("encodes");
        assert!(
            svg.starts_with("<?xml") && svg.trim_end().ends_with("</svg>"),
            "{}",
            &svg[..60]
        );
    }

    #[test]
    fn too_long_text_and_bad_images_are_errors() {
        assert!(matches!(
            encode(&"名".repeat(3000)),
            Err(QrImageError::TooLong(_))
        ));
        assert!(matches!(
            decode(b"not an image"),
            Err(QrImageError::BadImage(_))
        ));
        let blank = GrayImage::from_pixel(100, 100, Luma([255]));
        assert!(
            decode_luma(&blank).is_empty(),
            "a blank picture has no code"
        );
    }
}
