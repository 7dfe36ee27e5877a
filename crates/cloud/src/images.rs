//! Uploaded pictures (avatars, logos, card images): checked from their header before anything
//! is decoded, decoded off the async workers within explicit limits, and encoded again, so we
//! never serve the uploaded bytes (which could carry scripts, trackers or exploits for image
//! decoders) and never keep EXIF location.

use std::io::Cursor;

use image::{DynamicImage, ImageDecoder as _, ImageFormat, ImageReader};
use mingpian_card::Media;
use mingpian_card::picture::{MAX_PIXELS, MAX_SIDE, limits};

use crate::error::{ApiError, ApiResult};
use crate::heavy::Heavy;

/// Largest image we accept, before decoding.
pub const MAX_IMAGE_BYTES: usize = 5 * 1024 * 1024;
/// Longest side we keep; larger pictures are scaled down.
const KEEP_SIDE: u32 = 2048;

/// Checks an uploaded picture and encodes it again (see the module docs).
pub async fn reencode(heavy: &Heavy, media: &Media, what: &'static str) -> ApiResult<Media> {
    let Media::Inline { data, .. } = media else {
        return Err(ApiError::Invalid(format!(
            "the {what} must be uploaded, not linked"
        )));
    };
    if data.len() > MAX_IMAGE_BYTES {
        return Err(ApiError::TooLarge(format!(
            "the {what} is larger than 5 MB"
        )));
    }
    // The header alone says how large the picture is: refuse before decoding a single row.
    let (width, height) = ImageReader::new(Cursor::new(data.as_slice()))
        .with_guessed_format()
        .map_err(|_| ApiError::Invalid(format!("the {what} is not a picture")))?
        .into_dimensions()
        .map_err(|_| ApiError::Invalid(format!("the {what} is not a picture we can read")))?;
    let pixels = u64::from(width) * u64::from(height);
    if width > MAX_SIDE || height > MAX_SIDE || pixels > MAX_PIXELS {
        return Err(ApiError::TooLarge(format!(
            "the {what} is {width}×{height} pixels; at most {MAX_SIDE} pixels a side and 50 megapixels"
        )));
    }
    let data = data.clone();
    heavy
        .image(pixels, move || decode_and_encode(&data, what))
        .await?
}

fn decode_and_encode(data: &[u8], what: &str) -> ApiResult<Media> {
    let reader = ImageReader::new(Cursor::new(data))
        .with_guessed_format()
        .map_err(|_| ApiError::Invalid(format!("the {what} is not a picture")))?;
    let (out_format, mime) = match reader.format() {
        Some(ImageFormat::Jpeg) => (ImageFormat::Jpeg, "image/jpeg"),
        Some(ImageFormat::Png | ImageFormat::WebP) => (ImageFormat::Png, "image/png"),
        _ => {
            return Err(ApiError::Invalid(format!(
                "the {what} must be a JPEG, PNG or WebP picture"
            )));
        }
    };
    let unreadable = |e: image::ImageError| match e {
        image::ImageError::Limits(_) => {
            ApiError::TooLarge(format!("the {what} needs too much memory to decode"))
        }
        other => ApiError::Invalid(format!("the {what} could not be read: {other}")),
    };
    let mut decoder = reader.into_decoder().map_err(unreadable)?;
    decoder.set_limits(limits()).map_err(unreadable)?;
    // Phones store photos sideways with an EXIF turn; the copy we keep is turned upright.
    let orientation = decoder.orientation().map_err(unreadable)?;
    let mut image = DynamicImage::from_decoder(decoder).map_err(unreadable)?;
    image.apply_orientation(orientation);
    if image.width().max(image.height()) > KEEP_SIDE {
        image = image.resize(KEEP_SIDE, KEEP_SIDE, image::imageops::FilterType::Triangle);
    }
    if out_format == ImageFormat::Jpeg {
        image = DynamicImage::ImageRgb8(image.to_rgb8());
    }
    let mut out = Cursor::new(Vec::new());
    image
        .write_to(&mut out, out_format)
        .map_err(|e| ApiError::Internal(e.into()))?;
    Ok(Media::Inline {
        mime: Some(mime.to_owned()),
        data: out.into_inner(),
    })
}
