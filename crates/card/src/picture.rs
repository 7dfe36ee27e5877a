//! Pictures from anyone (a received card's photo, a screenshot to scan, a photo of a paper card,
//! an upload): their size is read from the header and refused before a single row is decoded,
//! and the decoder runs within explicit limits, so a small file that unpacks to gigabytes (a
//! "decompression bomb") fails fast instead of exhausting memory on a phone or a server.

use std::io::Cursor;

use image::{DynamicImage, ImageDecoder, ImageError, ImageReader, Limits};

/// Longest side we decode: a 12,000-pixel side is beyond any phone camera.
pub const MAX_SIDE: u32 = 12_000;
/// Most pixels we decode: 50 MP (a 48 MP phone photo fits; a 23,000² bomb does not).
pub const MAX_PIXELS: u64 = 50_000_000;
/// Most memory one decode may allocate (a 50 MP RGBA image is 200 MB).
pub const MAX_ALLOC: u64 = 256 * 1024 * 1024;

/// Why a picture was not decoded.
#[derive(Debug, thiserror::Error)]
pub enum PictureError {
    #[error("not a picture we can read: {0}")]
    Unreadable(String),
    #[error(
        "the picture is {width}×{height} pixels; at most {MAX_SIDE} pixels a side and 50 megapixels"
    )]
    TooLarge { width: u32, height: u32 },
    #[error("the picture needs too much memory to decode")]
    TooMuchMemory,
}

impl From<ImageError> for PictureError {
    fn from(e: ImageError) -> Self {
        match e {
            ImageError::Limits(_) => PictureError::TooMuchMemory,
            other => PictureError::Unreadable(other.to_string()),
        }
    }
}

/// The limits every decode runs within.
pub fn limits() -> Limits {
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_ALLOC);
    limits
}

/// A picture's size from its header alone, refused when too large.
pub fn dimensions(bytes: &[u8]) -> Result<(u32, u32), PictureError> {
    let (width, height) = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| PictureError::Unreadable(e.to_string()))?
        .into_dimensions()?;
    if width > MAX_SIDE || height > MAX_SIDE || u64::from(width) * u64::from(height) > MAX_PIXELS {
        return Err(PictureError::TooLarge { width, height });
    }
    Ok((width, height))
}

/// Decodes a picture within the limits, turned the way the camera says it was held (EXIF).
pub fn decode(bytes: &[u8]) -> Result<DynamicImage, PictureError> {
    dimensions(bytes)?;
    let mut decoder = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| PictureError::Unreadable(e.to_string()))?
        .into_decoder()?;
    decoder.set_limits(limits())?;
    let orientation = decoder.orientation()?;
    let mut img = DynamicImage::from_decoder(decoder)?;
    img.apply_orientation(orientation);
    Ok(img)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(width: u32, height: u32) -> Vec<u8> {
        let mut out = Cursor::new(Vec::new());
        DynamicImage::new_luma8(width, height)
            .write_to(&mut out, image::ImageFormat::Png)
            .expect("encode");
        out.into_inner()
    }

    /// A PNG that claims `width` × `height` pixels with (almost) no data: a bomb's header is all
    /// a decoder sees before it allocates.
    fn png_header(width: u32, height: u32) -> Vec<u8> {
        fn crc32(bytes: &[u8]) -> u32 {
            let mut crc = !0u32;
            for &b in bytes {
                crc ^= u32::from(b);
                for _ in 0..8 {
                    crc = if crc & 1 == 1 {
                        (crc >> 1) ^ 0xEDB8_8320
                    } else {
                        crc >> 1
                    };
                }
            }
            !crc
        }
        let mut ihdr = b"IHDR".to_vec();
        ihdr.extend(width.to_be_bytes());
        ihdr.extend(height.to_be_bytes());
        ihdr.extend([8, 0, 0, 0, 0]);
        let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
        let mut chunk = |body: &[u8]| {
            out.extend(u32::try_from(body.len() - 4).unwrap_or(0).to_be_bytes());
            out.extend(body);
            out.extend(crc32(body).to_be_bytes());
        };
        chunk(&ihdr);
        // A first row's worth of compressed data (an empty zlib stream) and the end.
        chunk(b"IDAT\x78\x9c\x03\x00\x00\x00\x00\x01");
        chunk(b"IEND");
        out
    }

    #[test]
    fn a_bomb_is_refused_from_its_header() {
        for (w, h) in [(20_000, 20_000), (8_000, 8_000), (12_001, 10)] {
            let started = std::time::Instant::now();
            let got = decode(&png_header(w, h));
            assert!(
                matches!(got, Err(PictureError::TooLarge { .. })),
                "{w}×{h}: {got:?}"
            );
            assert!(started.elapsed() < std::time::Duration::from_millis(100));
        }
        assert!(matches!(
            decode(b"not a picture"),
            Err(PictureError::Unreadable(_))
        ));
        let ok = decode(&png(640, 480)).expect("a normal picture decodes");
        assert_eq!((ok.width(), ok.height()), (640, 480));
    }
}
