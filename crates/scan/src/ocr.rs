//! Text lines from a photo: DB text detection, then CTC text recognition of each line.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use image::{RgbImage, imageops};
use rten::Model;
use rten_tensor::NdTensor;
use rten_tensor::prelude::*;

use crate::frame::{self, Quad, even_light, find_card};
use crate::regions::{Rect, components, principal_axis};

#[derive(Debug, thiserror::Error)]
pub enum OcrError {
    #[error("OCR models not found in {0} (run scripts/fetch-models.sh)")]
    NoModels(PathBuf),
    #[error("loading {0}: {1}")]
    Load(String, String),
    #[error("the recognition model carries no character list")]
    NoCharset,
    #[error("not a picture we can read: {0}")]
    Image(String),
    #[error("running the model: {0}")]
    Run(String),
}

/// One line of text and where it is (pixels of the photo).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Line {
    pub text: String,
    pub x: u32,
    pub y: u32,
    pub width: u32,
    pub height: u32,
    /// Mean character confidence, 0–1.
    pub confidence: f32,
}

/// Loaded models.
pub struct Ocr {
    det: Model,
    rec: Model,
    charset: Vec<String>,
    /// How long loading took.
    pub load_time: Duration,
}

impl std::fmt::Debug for Ocr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ocr")
            .field("charset", &self.charset.len())
            .finish()
    }
}

/// Where the models are: `$MINGPIAN_MODELS`, else `~/.cache/mingpian/models`.
pub fn default_model_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("MINGPIAN_MODELS") {
        return PathBuf::from(dir);
    }
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_default();
    home.join(".cache/mingpian/models")
}

const DET: &str = "PP-OCRv6_det_small.onnx";
const REC: &str = "PP-OCRv6_rec_small.onnx";
/// The longer side the detector sees; text on a business card stays ≥ 10 px tall at this size.
const DET_SIDE: u32 = 960;
/// The longest a card is read at (pixels).
const READ_SIDE: u32 = 2800;
const REC_HEIGHT: u32 = 48;
/// How many of the longest lines are read both ways up to tell whether the card is upside down.
const UPRIGHT_SAMPLE: usize = 3;
/// A found outline with more than this share of the photo's text outside it is not the card.
const TEXT_OUTSIDE: f32 = 0.2;
/// A region this many times longer than wide, running down an upright card, is a column.
const COLUMN: f32 = 1.8;
/// A line the recognizer reads with at least this mean confidence is the right way up.
const SURE: f32 = 0.95;

/// Where the card is in the photo.
#[derive(Debug, Clone, Copy)]
pub enum Frame {
    /// Look for the card's outline; read the whole photo if there is none.
    Find,
    /// The four corners the user set.
    Corners(Quad),
    /// The photo is the card.
    Whole,
}

/// A card read from a photo.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Reading {
    /// The lines, in the straightened and upright card's pixels.
    pub lines: Vec<Line>,
    /// The card's corners in the photo, when it was found or given.
    pub frame: Option<Quad>,
    /// How far the card was turned clockwise to read it upright: 0, 90, 180 or 270 degrees.
    pub turned: u16,
    /// The card as read: straightened, light evened, upright.
    #[serde(skip)]
    pub picture: RgbImage,
}

impl Ocr {
    pub fn load(dir: &Path) -> Result<Ocr, OcrError> {
        let started = Instant::now();
        if !dir.join(DET).exists() || !dir.join(REC).exists() {
            return Err(OcrError::NoModels(dir.to_path_buf()));
        }
        let load = |name: &str| {
            Model::load_file(dir.join(name)).map_err(|e| OcrError::Load(name.into(), e.to_string()))
        };
        let rec_bytes =
            std::fs::read(dir.join(REC)).map_err(|e| OcrError::Load(REC.into(), e.to_string()))?;
        let charset = charset_from_onnx(&rec_bytes).ok_or(OcrError::NoCharset)?;
        Ok(Ocr {
            det: load(DET)?,
            rec: Model::load(rec_bytes).map_err(|e| OcrError::Load(REC.into(), e.to_string()))?,
            charset,
            load_time: started.elapsed(),
        })
    }

    /// Every text line in the photo as it is (no frame, no turning), top to bottom, left to right.
    pub fn read(&self, photo: &RgbImage) -> Result<Vec<Line>, OcrError> {
        let rects = self.detect(photo)?;
        self.recognize_all(photo, &rects, Vec::new(), false)
    }

    /// A card read from a photo: the card found in it (or framed by the given corners), set
    /// straight, its light evened, turned upright, and its lines read.
    pub fn read_card(&self, photo: &RgbImage, frame: Frame) -> Result<Reading, OcrError> {
        let (source, shrink) = shrunk(photo);
        let local = match frame {
            Frame::Find => self.find_in(&source),
            Frame::Corners(q) => q.scaled(shrink).ordered(),
            Frame::Whole => None,
        };
        let quad = local.map(|q| q.scaled(1.0 / shrink));
        let mut img = match &local {
            Some(q) => frame::straighten(&source, q, READ_SIDE),
            None => source.into_owned(),
        };
        even_light(&mut img);
        let mut rects = self.detect(&img)?;
        let mut turned = 0;
        // Text runs along the card: if most of it runs up or down the picture, the card lies on
        // its side. A quarter turn makes it run across; which way up is settled next.
        let (mut across, mut along) = (0.0f32, 0.0f32);
        for r in rects.iter().filter(|r| r.half_len > 1.5 * r.half_h) {
            let weight = r.half_len * r.half_h;
            if r.ux.abs() >= r.uy.abs() {
                across += weight;
            } else {
                along += weight;
            }
        }
        if along > 1.5 * across {
            let h = img.height() as f32;
            img = imageops::rotate90(&img);
            rects = rects.into_iter().map(|r| r.turned_90(h)).collect();
            turned = 90;
        }
        rects = rects.into_iter().map(RotRect::pointing_right).collect();
        // Upside down? The longest lines are read; unless the model is sure of them, they are
        // read the other way up too, and the way it is surer of wins. (Measured on generated
        // cards: right way up ≥ 0.95 a line, upside down ≤ 0.7.)
        let mut longest: Vec<usize> = (0..rects.len())
            .filter(|&i| {
                rects[i].ux.abs() > rects[i].uy.abs() && rects[i].half_len > 2.0 * rects[i].half_h
            })
            .collect();
        longest.sort_by(|&a, &b| rects[b].half_len.total_cmp(&rects[a].half_len));
        longest.truncate(UPRIGHT_SAMPLE);
        let mut known = Vec::with_capacity(longest.len());
        for &i in &longest {
            known.push((i, self.recognize(&rects[i].straighten(&img, REC_HEIGHT))?));
        }
        let upright: f32 = known.iter().map(|(_, (_, c))| c).sum();
        if upright < SURE * known.len() as f32 {
            let mut flipped = 0.0;
            for &i in &longest {
                let crop = imageops::rotate180(&rects[i].straighten(&img, REC_HEIGHT));
                flipped += self.recognize(&crop)?.1;
            }
            if flipped > upright + 0.05 {
                let (w, h) = (img.width() as f32, img.height() as f32);
                img = imageops::rotate180(&img);
                rects = rects.into_iter().map(|r| r.turned_180(w, h)).collect();
                turned += 180;
                known.clear();
            }
        }
        Ok(Reading {
            lines: self.recognize_all(&img, &rects, known, true)?,
            frame: quad,
            turned: turned % 360,
            picture: img,
        })
    }

    /// Where the card is in the photo, as [`Frame::Find`] finds it: its outline, if one shows and
    /// holds the photo's text. For drawing the four-corner frame before reading.
    pub fn find_frame(&self, photo: &RgbImage) -> Option<Quad> {
        let (source, shrink) = shrunk(photo);
        self.find_in(&source).map(|q| q.scaled(1.0 / shrink))
    }

    fn find_in(&self, photo: &RgbImage) -> Option<Quad> {
        find_card(photo).filter(|q| self.holds_the_text(photo, q))
    }

    /// Whether a found outline holds the photo's text: a panel printed on a card that runs off
    /// the photo has an outline too, and reading only inside it would lose the rest of the card.
    /// A quick look at the whole photo (a quarter of the detector's usual pixels) tells.
    fn holds_the_text(&self, photo: &RgbImage, quad: &Quad) -> bool {
        let Ok(rects) = self.detect_at(photo, DET_SIDE / 2) else {
            return true;
        };
        let (mut inside, mut outside) = (0.0, 0.0);
        for r in rects {
            let area = r.half_len * r.half_h;
            if quad.contains([r.cx, r.cy]) {
                inside += area;
            } else {
                outside += area;
            }
        }
        outside <= TEXT_OUTSIDE * (inside + outside)
    }

    /// Every rectangle's line (`known`: lines already read, by rectangle).
    fn recognize_all(
        &self,
        img: &RgbImage,
        rects: &[RotRect],
        mut known: Vec<(usize, (String, f32))>,
        upright: bool,
    ) -> Result<Vec<Line>, OcrError> {
        let mut lines = Vec::new();
        let (pw, ph) = img.dimensions();
        for (i, r) in rects.iter().enumerate() {
            let b = r.bounds(pw, ph);
            // On an upright card, a tall narrow region is Chinese set top to bottom.
            let column = upright && r.uy.abs() > r.ux.abs() && r.half_len > COLUMN * r.half_h;
            let (text, confidence) = match known.iter().position(|(k, _)| *k == i) {
                Some(at) => known.swap_remove(at).1,
                None if column => self.recognize(&r.column_as_line(img, REC_HEIGHT))?,
                None => self.recognize(&r.straighten(img, REC_HEIGHT))?,
            };
            let text = text.trim().to_owned();
            if !text.is_empty() && confidence > 0.5 {
                lines.push(Line {
                    text,
                    x: b.x,
                    y: b.y,
                    width: b.width,
                    // A column's text is as tall as the column is wide.
                    height: if column {
                        (2.0 * r.half_h).round() as u32
                    } else {
                        b.height
                    },
                    confidence,
                });
            }
        }
        lines.sort_by_key(|l| (l.y + l.height / 2, l.x));
        // Lines whose centres are within half a line height are one row: order them left to right.
        let mut i = 0;
        while i < lines.len() {
            let mut j = i + 1;
            while j < lines.len() && lines[j].y + lines[j].height / 2 < lines[i].y + lines[i].height
            {
                j += 1;
            }
            lines[i..j].sort_by_key(|l| l.x);
            i = j;
        }
        Ok(lines)
    }

    fn detect(&self, photo: &RgbImage) -> Result<Vec<RotRect>, OcrError> {
        self.detect_at(photo, DET_SIDE)
    }

    /// Text regions, with the photo's longer side brought down to `side` pixels for the detector.
    fn detect_at(&self, photo: &RgbImage, side: u32) -> Result<Vec<RotRect>, OcrError> {
        let (w, h) = photo.dimensions();
        let scale = side as f32 / w.max(h) as f32;
        let scale = scale.clamp(0.1, 1.0);
        let nw = ((w as f32 * scale / 32.0).round() as u32).max(1) * 32;
        let nh = ((h as f32 * scale / 32.0).round() as u32).max(1) * 32;
        let small = imageops::resize(photo, nw, nh, imageops::FilterType::Triangle);
        const MEAN: [f32; 3] = [0.485, 0.456, 0.406];
        const STD: [f32; 3] = [0.229, 0.224, 0.225];
        let input = to_input(&small, |v, c| (v - MEAN[c]) / STD[c]);
        let out = self
            .det
            .run_one(input.into(), None)
            .map_err(|e| OcrError::Run(e.to_string()))?;
        let prob: NdTensor<f32, 4> = out
            .try_into()
            .map_err(|e| OcrError::Run(format!("{e:?}")))?;
        let [_, _, ph, pw] = prob.shape();
        let mut mask = vec![false; pw * ph];
        for y in 0..ph {
            for x in 0..pw {
                mask[y * pw + x] = prob[[0, 0, y, x]] > 0.3;
            }
        }
        let mut rects = Vec::new();
        for comp in components(&mask, pw as u32, ph as u32) {
            if comp.bounds.width < 3 || comp.bounds.height < 3 || comp.pixels.len() < 10 {
                continue;
            }
            // Score over the region itself, as DB's polygon score (a tilted line's bounding box is
            // mostly background).
            let score = comp
                .pixels
                .iter()
                .map(|&(x, y)| prob[[0, 0, y as usize, x as usize]])
                .sum::<f32>()
                / comp.pixels.len() as f32;
            if score > 0.6 {
                let r = RotRect::fit(&comp.pixels)
                    .unclip()
                    .scaled(w as f32 / nw as f32, h as f32 / nh as f32);
                rects.push(r);
            }
        }
        Ok(rects)
    }

    fn recognize(&self, crop: &RgbImage) -> Result<(String, f32), OcrError> {
        let (w, h) = crop.dimensions();
        let nw = ((w as f32 * REC_HEIGHT as f32 / h.max(1) as f32).round() as u32).clamp(16, 2000);
        let line = imageops::resize(crop, nw, REC_HEIGHT, imageops::FilterType::Triangle);
        let input = to_input(&line, |v, _| (v - 0.5) / 0.5);
        let out = self
            .rec
            .run_one(input.into(), None)
            .map_err(|e| OcrError::Run(e.to_string()))?;
        let probs: NdTensor<f32, 3> = out
            .try_into()
            .map_err(|e| OcrError::Run(format!("{e:?}")))?;
        let [_, steps, classes] = probs.shape();
        let mut text = String::new();
        let (mut conf_sum, mut n) = (0.0, 0);
        let mut last = 0;
        for t in 0..steps {
            let (mut best, mut best_p) = (0, f32::MIN);
            for c in 0..classes {
                let p = probs[[0, t, c]];
                if p > best_p {
                    best = c;
                    best_p = p;
                }
            }
            if best != 0
                && best != last
                && let Some(ch) = self.charset.get(best - 1)
            {
                text.push_str(ch);
                conf_sum += best_p;
                n += 1;
            }
            last = best;
        }
        Ok((text, if n == 0 { 0.0 } else { conf_sum / n as f32 }))
    }
}

/// A rotated rectangle: centre, unit axis along the text, half-length and half-height.
#[derive(Debug, Clone, Copy)]
struct RotRect {
    cx: f32,
    cy: f32,
    ux: f32,
    uy: f32,
    half_len: f32,
    half_h: f32,
}

impl RotRect {
    /// The smallest rectangle along the pixels' principal direction (text lines on a tilted card
    /// are tilted too).
    fn fit(pixels: &[(u32, u32)]) -> RotRect {
        let ([mx, my], angle) = principal_axis(pixels.iter().map(|&(x, y)| [x as f32, y as f32]));
        let (ux, uy) = (angle.cos(), angle.sin());
        let (mut a0, mut a1, mut b0, mut b1) = (f32::MAX, f32::MIN, f32::MAX, f32::MIN);
        for &(x, y) in pixels {
            let (dx, dy) = (x as f32 - mx, y as f32 - my);
            let a = dx * ux + dy * uy;
            let b = -dx * uy + dy * ux;
            a0 = a0.min(a);
            a1 = a1.max(a);
            b0 = b0.min(b);
            b1 = b1.max(b);
        }
        let (ca, cb) = ((a0 + a1) / 2.0, (b0 + b1) / 2.0);
        RotRect {
            cx: mx + ca * ux - cb * uy,
            cy: my + ca * uy + cb * ux,
            ux,
            uy,
            half_len: (a1 - a0 + 1.0) / 2.0,
            half_h: (b1 - b0 + 1.0) / 2.0,
        }
    }

    /// DB's unclip: grow by area × 1.5 / perimeter on every side.
    fn unclip(self) -> RotRect {
        let (w, h) = (self.half_len * 2.0, self.half_h * 2.0);
        let d = w * h * 1.5 / (2.0 * (w + h));
        RotRect {
            half_len: self.half_len + d,
            half_h: self.half_h + d,
            ..self
        }
    }

    /// A column of characters set top to bottom, cut into its characters and laid out as one
    /// line the recognizer can read, `height` pixels tall.
    fn column_as_line(&self, photo: &RgbImage, height: u32) -> RgbImage {
        // The column upright: `height` px wide, as long as it is at that scale.
        let down = RotRect {
            ux: 0.0,
            uy: 1.0,
            half_len: self.half_len,
            half_h: self.half_h,
            ..*self
        };
        let column = imageops::rotate90(&down.straighten(photo, height));
        let (w, h) = column.dimensions();
        // Ink per row: pixels far from the column's median brightness.
        let mut values: Vec<f32> = column.pixels().map(frame::luma).collect();
        let background = frame::median(&mut values);
        let inked =
            |x: u32, y: u32| (frame::luma(column.get_pixel(x, y)) - background).abs() > 60.0;
        let ink: Vec<bool> = (0..h).map(|y| (0..w).any(|x| inked(x, y))).collect();
        // How wide the characters are: the ink's extent across the column (the column itself is
        // padded).
        let across: Vec<u32> = (0..w).filter(|&x| (0..h).any(|y| inked(x, y))).collect();
        let size = match (across.first(), across.last()) {
            (Some(a), Some(b)) => (b - a + 1).max(4),
            _ => return self.straighten(photo, height),
        };
        // Runs of inked rows, merged while the piece stays about square (二, 三 and 产 have blank
        // rows inside them); a run as long as several characters (touching strokes) is cut evenly.
        let mut runs: Vec<(u32, u32)> = Vec::new();
        let mut y = 0;
        while y < h {
            if ink[y as usize] {
                let start = y;
                while y < h && ink[y as usize] {
                    y += 1;
                }
                runs.push((start, y));
            }
            y += 1;
        }
        let mut cells: Vec<(u32, u32)> = Vec::new();
        for run in runs {
            match cells.last_mut() {
                Some(last) if (run.1 - last.0) as f32 <= 1.2 * size as f32 => last.1 = run.1,
                _ => cells.push(run),
            }
        }
        let cells: Vec<(u32, u32)> = cells
            .into_iter()
            .flat_map(|(top, bottom)| {
                let n = (((bottom - top) as f32 / size as f32).round() as u32).max(1);
                let step = (bottom - top) as f32 / n as f32;
                (0..n).map(move |k| {
                    (
                        top + (k as f32 * step) as u32,
                        top + ((k + 1) as f32 * step) as u32,
                    )
                })
            })
            .collect();
        if cells.len() < 2 {
            return self.straighten(photo, height);
        }
        // Each character centred in its own square, the squares side by side with a little
        // space, and the line brought to the recognizer's height: the characters about as large
        // in it as in a horizontal line.
        let left = across.first().copied().unwrap_or(0);
        let box_side = (size as f32 * 1.4).round() as u32;
        let pitch = (size as f32 * 1.15).round() as u32;
        let fill = image::Rgb([background.round().clamp(0.0, 255.0) as u8; 3]);
        let mut line = RgbImage::from_pixel(
            pitch * cells.len() as u32 + (box_side - size),
            box_side,
            fill,
        );
        for (i, &(top, bottom)) in cells.iter().enumerate() {
            let cell_h = (bottom - top).min(box_side);
            let x0 = (box_side - size) / 2 + i as u32 * pitch;
            let y0 = (box_side - cell_h) / 2;
            for yy in 0..cell_h {
                for xx in 0..size {
                    line.put_pixel(x0 + xx, y0 + yy, *column.get_pixel(left + xx, top + yy));
                }
            }
        }
        let width = (line.width() as f32 * height as f32 / box_side as f32).round() as u32;
        imageops::resize(&line, width.max(8), height, imageops::FilterType::Triangle)
    }

    /// The same rectangle in the picture turned a quarter clockwise (`height`: the picture's
    /// height before turning).
    fn turned_90(self, height: f32) -> RotRect {
        RotRect {
            cx: height - self.cy,
            cy: self.cx,
            ux: -self.uy,
            uy: self.ux,
            ..self
        }
    }

    /// The same rectangle in the picture turned upside down.
    fn turned_180(self, width: f32, height: f32) -> RotRect {
        RotRect {
            cx: width - self.cx,
            cy: height - self.cy,
            ux: -self.ux,
            uy: -self.uy,
            ..self
        }
        .pointing_right()
    }

    /// The same rectangle with its axis pointing rightwards (the reading direction in an
    /// upright picture).
    fn pointing_right(self) -> RotRect {
        if self.ux < 0.0 || (self.ux == 0.0 && self.uy < 0.0) {
            RotRect {
                ux: -self.ux,
                uy: -self.uy,
                ..self
            }
        } else {
            self
        }
    }

    fn scaled(self, sx: f32, sy: f32) -> RotRect {
        // Scaling is near-uniform (both sides rounded to multiples of 32): scale lengths by the mean.
        let s = (sx + sy) / 2.0;
        RotRect {
            cx: self.cx * sx,
            cy: self.cy * sy,
            half_len: self.half_len * s,
            half_h: self.half_h * s,
            ..self
        }
    }

    fn bounds(&self, max_w: u32, max_h: u32) -> Rect {
        let (ex, ey) = (self.ux * self.half_len, self.uy * self.half_len);
        let (nx, ny) = (-self.uy * self.half_h, self.ux * self.half_h);
        let xs = [
            self.cx + ex + nx,
            self.cx + ex - nx,
            self.cx - ex + nx,
            self.cx - ex - nx,
        ];
        let ys = [
            self.cy + ey + ny,
            self.cy + ey - ny,
            self.cy - ey + ny,
            self.cy - ey - ny,
        ];
        let x0 = xs.iter().cloned().fold(f32::MAX, f32::min).max(0.0) as u32;
        let y0 = ys.iter().cloned().fold(f32::MAX, f32::min).max(0.0) as u32;
        let x1 = (xs.iter().cloned().fold(f32::MIN, f32::max).max(0.0) as u32)
            .min(max_w.saturating_sub(1));
        let y1 = (ys.iter().cloned().fold(f32::MIN, f32::max).max(0.0) as u32)
            .min(max_h.saturating_sub(1));
        Rect {
            x: x0.min(x1),
            y: y0.min(y1),
            width: x1.saturating_sub(x0) + 1,
            height: y1.saturating_sub(y0) + 1,
        }
    }

    /// The rectangle's pixels straightened, `height` pixels tall (bilinear sampling).
    fn straighten(&self, photo: &RgbImage, height: u32) -> RgbImage {
        let scale = (self.half_h * 2.0) / height as f32;
        let width = ((self.half_len * 2.0 / scale).round() as u32).clamp(8, 2000);
        let mut out = RgbImage::new(width, height);
        for oy in 0..height {
            for ox in 0..width {
                let a = (ox as f32 + 0.5) * scale - self.half_len;
                let b = (oy as f32 + 0.5) * scale - self.half_h;
                let x = self.cx + a * self.ux - b * self.uy;
                let y = self.cy + a * self.uy + b * self.ux;
                out.put_pixel(ox, oy, frame::sample(photo, x, y));
            }
        }
        out
    }
}

/// The photo brought down to at most READ_SIDE pixels long, and by how much. A phone camera's 12
/// megapixels are far more than a card's print needs (line crops are 48 px tall whatever the size).
fn shrunk(photo: &RgbImage) -> (std::borrow::Cow<'_, RgbImage>, f32) {
    let long = photo.width().max(photo.height()) as f32;
    let shrink = (READ_SIDE as f32 / long).min(1.0);
    if shrink >= 1.0 {
        return (std::borrow::Cow::Borrowed(photo), 1.0);
    }
    // thumbnail: area averaging, several times faster than a filtered resize here.
    let small = imageops::thumbnail(
        photo,
        ((photo.width() as f32 * shrink).round() as u32).max(1),
        ((photo.height() as f32 * shrink).round() as u32).max(1),
    );
    (std::borrow::Cow::Owned(small), shrink)
}

/// A picture as a model input `[1, 3, h, w]`: channels in OpenCV's BGR order (what the models were
/// trained on), each value in 0–1 passed through `normalize(value, channel)`.
fn to_input(img: &RgbImage, normalize: impl Fn(f32, usize) -> f32) -> NdTensor<f32, 4> {
    let (w, h) = img.dimensions();
    let mut input = NdTensor::<f32, 4>::zeros([1, 3, h as usize, w as usize]);
    for (x, y, p) in img.enumerate_pixels() {
        for c in 0..3 {
            input[[0, c, y as usize, x as usize]] = normalize(f32::from(p[2 - c]) / 255.0, c);
        }
    }
    input
}

/// The recognition model's characters, from its ONNX `metadata_props` entry `character`
/// (newline-separated). Index 0 of the output is CTC's blank; PaddleOCR appends a space.
fn charset_from_onnx(model: &[u8]) -> Option<Vec<String>> {
    let key = b"\x0a\x09character\x12";
    let at = model.windows(key.len()).rposition(|w| w == key)? + key.len();
    let (len, used) = varint(&model[at..])?;
    let value = model.get(at + used..at + used + len as usize)?;
    let text = std::str::from_utf8(value).ok()?;
    let mut chars: Vec<String> = text.split('\n').map(str::to_owned).collect();
    if chars.last().is_some_and(|c| c.is_empty()) {
        chars.pop();
    }
    chars.push(" ".into());
    Some(chars)
}

fn varint(bytes: &[u8]) -> Option<(u64, usize)> {
    let mut value = 0u64;
    for (i, b) in bytes.iter().enumerate().take(10) {
        value |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return Some((value, i + 1));
        }
    }
    None
}

/// A picture as JPEG, no longer than `max_side` pixels (the card's picture kept with a card).
pub fn encode_jpeg(img: &RgbImage, max_side: u32) -> Result<Vec<u8>, OcrError> {
    let fit = (max_side as f32 / img.width().max(img.height()) as f32).min(1.0);
    let resized;
    let img = if fit < 1.0 {
        resized = imageops::resize(
            img,
            ((img.width() as f32 * fit).round() as u32).max(1),
            ((img.height() as f32 * fit).round() as u32).max(1),
            imageops::FilterType::Triangle,
        );
        &resized
    } else {
        img
    };
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 85)
        .encode_image(img)
        .map_err(|e| OcrError::Image(e.to_string()))?;
    Ok(out)
}

/// Reads a picture file's bytes into RGB, turned the way the camera says it was held (EXIF),
/// within the limits every picture from outside is decoded in (`mingpian_card::picture`).
pub fn decode_image(bytes: &[u8]) -> Result<RgbImage, OcrError> {
    let img = mingpian_card::picture::decode(bytes).map_err(|e| OcrError::Image(e.to_string()))?;
    Ok(img.to_rgb8())
}
