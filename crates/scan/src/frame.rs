//! The four-corner frame (claim 4): where the card is in a photo, the card straightened out of
//! the photo's perspective, and its light evened out.
//!
//! [`find_card`] looks for the card's outline: on a quarter-size copy, the background is flooded
//! in from the photo's edges and stopped by any sharp colour step; what the flood cannot reach and
//! is big enough is the card. Its convex hull is cut down to four sides, each side is re-fitted to
//! the outline's own points, and the corners are where the sides meet. A photo where no such
//! outline shows (a tight crop, a card on a busy desk) gives `None`, and the whole photo is read —
//! the app then lets the user drag the corners instead.

use image::{Rgb, RgbImage, imageops};
use serde::{Deserialize, Serialize};

use crate::regions::{components, principal_axis};

/// A card's corners in a photo, in pixels: top-left, top-right, bottom-right, bottom-left.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Quad(pub [[f32; 2]; 4]);

impl Quad {
    /// The same corners with every coordinate multiplied by `factor`.
    pub fn scaled(self, factor: f32) -> Quad {
        Quad(self.0.map(|[x, y]| [x * factor, y * factor]))
    }

    /// The straightened card's size: the mean lengths of opposite sides.
    pub fn size(&self) -> (f32, f32) {
        let d = |a: [f32; 2], b: [f32; 2]| (a[0] - b[0]).hypot(a[1] - b[1]);
        let [tl, tr, br, bl] = self.0;
        ((d(tl, tr) + d(bl, br)) / 2.0, (d(tl, bl) + d(tr, br)) / 2.0)
    }

    /// Whether a point lies inside.
    pub fn contains(&self, p: [f32; 2]) -> bool {
        let q = &self.0;
        let sides: Vec<f32> = (0..4).map(|i| cross(q[i], q[(i + 1) % 4], p)).collect();
        sides.iter().all(|&c| c >= 0.0) || sides.iter().all(|&c| c <= 0.0)
    }

    fn area(&self) -> f32 {
        polygon_area(&self.0)
    }

    /// The same quadrilateral with its corners in our order (clockwise on screen, the top-left
    /// first), whatever order they came in; `None` if they do not make a convex quadrilateral.
    pub fn ordered(self) -> Option<Quad> {
        let p = self.0;
        let (cx, cy) = (
            p.iter().map(|q| q[0]).sum::<f32>() / 4.0,
            p.iter().map(|q| q[1]).sum::<f32>() / 4.0,
        );
        let mut sorted = p;
        // Clockwise on screen (y grows downwards) is increasing atan2.
        sorted.sort_by(|a, b| {
            (a[1] - cy)
                .atan2(a[0] - cx)
                .total_cmp(&(b[1] - cy).atan2(b[0] - cx))
        });
        let first = (0..4)
            .min_by(|&a, &b| {
                (sorted[a][0] + sorted[a][1]).total_cmp(&(sorted[b][0] + sorted[b][1]))
            })
            .unwrap_or(0);
        sorted.rotate_left(first);
        let quad = Quad(sorted);
        (is_convex(&quad.0) && quad.area() > 1.0).then_some(quad)
    }
}

/// Where the card is in the photo, if its outline can be seen.
pub fn find_card(photo: &RgbImage) -> Option<Quad> {
    let (pw, ph) = photo.dimensions();
    if pw < 16 || ph < 16 {
        return None;
    }
    let scale = (WORK_SIDE as f32 / pw.max(ph) as f32).min(1.0);
    let (w, h) = (
        ((pw as f32 * scale).round() as u32).max(8),
        ((ph as f32 * scale).round() as u32).max(8),
    );
    let small = imageops::resize(photo, w, h, imageops::FilterType::Triangle);
    let barrier = dilate(&edges(&small), w, h);
    // The table: everything the photo's edges reach without crossing an edge.
    let open: Vec<bool> = barrier.iter().map(|&b| !b).collect();
    let mut outside = vec![false; (w * h) as usize];
    for region in components(&open, w, h) {
        if region.touches_edge(w, h) {
            for (x, y) in region.pixels {
                outside[(y * w + x) as usize] = true;
            }
        }
    }
    // Texture in the table (wood grain, cloth) makes thin barriers that tie the card to the
    // photo's edges: an opening (shrink, keep the largest piece, grow back) cuts them off.
    let depth = distance_to(&outside, w, h, true);
    let deep: Vec<bool> = depth.iter().map(|&d| d > OPENING).collect();
    let core = components(&deep, w, h)
        .into_iter()
        .max_by_key(|c| c.pixels.len())?;
    let mut kept = vec![false; (w * h) as usize];
    for &(x, y) in &core.pixels {
        kept[(y * w + x) as usize] = true;
    }
    let reach = distance_to(&kept, w, h, false);
    let card: Vec<bool> = (0..(w * h) as usize)
        .map(|i| !outside[i] && reach[i] <= OPENING)
        .collect();
    let area = card.iter().filter(|&&c| c).count() as f32;
    let image_area = (w * h) as f32;
    if area < MIN_AREA * image_area {
        return None;
    }
    // The card's outline: its pixels next to something else.
    let on_card = |x: i32, y: i32| {
        x >= 0 && y >= 0 && x < w as i32 && y < h as i32 && card[(y as u32 * w + x as u32) as usize]
    };
    let outline: Vec<[f32; 2]> = (0..h as i32)
        .flat_map(|y| (0..w as i32).map(move |x| (x, y)))
        .filter(|&(x, y)| {
            on_card(x, y)
                && !(on_card(x - 1, y)
                    && on_card(x + 1, y)
                    && on_card(x, y - 1)
                    && on_card(x, y + 1))
        })
        .map(|(x, y)| [x as f32 + 0.5, y as f32 + 0.5])
        .collect();
    let hull = convex_hull(outline.clone());
    let corners = reduce_to_four(hull)?;
    let quad = refine_sides(&corners, &outline).unwrap_or(Quad(corners));
    let quad = quad.ordered()?;
    // A card: it fills its outline, it is not a sliver, and its corners are near right angles.
    if area < MIN_FILL * quad.area() || quad.area() > 0.995 * image_area || !right_enough(&quad) {
        return None;
    }
    // A corner may lie outside the photo (a card cut off by the photo's edge); the rest of the
    // card still straightens right.
    Some(quad.scaled(1.0 / scale))
}

/// The longer side of the copy the outline is looked for in.
const WORK_SIDE: u32 = 400;
/// How thin a tie to the background the opening cuts, in working pixels.
const OPENING: u16 = 8;
/// The card covers at least this much of the photo.
const MIN_AREA: f32 = 0.12;
/// …and at least this much of its own quadrilateral.
const MIN_FILL: f32 = 0.9;

/// The card inside `quad` as a flat rectangle (a perspective warp), at the photo's resolution but
/// no longer than `max_side`.
pub fn straighten(photo: &RgbImage, quad: &Quad, max_side: u32) -> RgbImage {
    let (w, h) = quad.size();
    let fit = (max_side as f32 / w.max(h)).min(1.0);
    let (w, h) = ((w * fit).round().max(16.0), (h * fit).round().max(16.0));
    let m = homography([[0.0, 0.0], [w, 0.0], [w, h], [0.0, h]], quad.0);
    let (ow, oh) = (w as u32, h as u32);
    let mut out = RgbImage::new(ow, oh);
    for (x, y, px) in out.enumerate_pixels_mut() {
        let (u, v) = (x as f32 + 0.5, y as f32 + 0.5);
        let z = m[6] * u + m[7] * v + 1.0;
        let sx = (m[0] * u + m[1] * v + m[2]) / z;
        let sy = (m[3] * u + m[4] * v + m[5]) / z;
        *px = sample(photo, sx - 0.5, sy - 0.5);
    }
    out
}

/// Evens out light that falls unevenly across the card (a shadow, a lamp to one side): each
/// pixel is scaled by how much brighter the whole card's typical background is than its own
/// neighbourhood's. Works the same for dark cards with light print: the neighbourhood's median is
/// the card's own colour either way.
pub fn even_light(img: &mut RgbImage) {
    let (w, h) = img.dimensions();
    let cells_x = (w / LIGHT_CELL).max(1);
    let cells_y = (h / LIGHT_CELL).max(1);
    let (cw, ch) = (w as f32 / cells_x as f32, h as f32 / cells_y as f32);
    let mut medians = vec![0f32; (cells_x * cells_y) as usize];
    let mut values = Vec::new();
    for cy in 0..cells_y {
        for cx in 0..cells_x {
            values.clear();
            let (x0, x1) = (
                (cx as f32 * cw) as u32,
                (((cx + 1) as f32 * cw) as u32).min(w),
            );
            let (y0, y1) = (
                (cy as f32 * ch) as u32,
                (((cy + 1) as f32 * ch) as u32).min(h),
            );
            for y in (y0..y1).step_by(2) {
                for x in (x0..x1).step_by(2) {
                    values.push(luma(img.get_pixel(x, y)));
                }
            }
            medians[(cy * cells_x + cx) as usize] = median(&mut values);
        }
    }
    let mut all = medians.clone();
    let target = median(&mut all);
    if target < 1.0 {
        return;
    }
    // Gains per cell, then bilinear between cell centres.
    let gains: Vec<f32> = medians
        .iter()
        .map(|&m| (target / m.max(1.0)).clamp(0.6, 2.5))
        .collect();
    let gain_at = |x: f32, y: f32| {
        let gx = (x / cw - 0.5).clamp(0.0, (cells_x - 1) as f32);
        let gy = (y / ch - 0.5).clamp(0.0, (cells_y - 1) as f32);
        let (x0, y0) = (gx.floor() as u32, gy.floor() as u32);
        let (x1, y1) = ((x0 + 1).min(cells_x - 1), (y0 + 1).min(cells_y - 1));
        let (fx, fy) = (gx - x0 as f32, gy - y0 as f32);
        let g = |x: u32, y: u32| gains[(y * cells_x + x) as usize];
        let top = g(x0, y0) * (1.0 - fx) + g(x1, y0) * fx;
        let bottom = g(x0, y1) * (1.0 - fx) + g(x1, y1) * fx;
        top * (1.0 - fy) + bottom * fy
    };
    for (x, y, px) in img.enumerate_pixels_mut() {
        let k = gain_at(x as f32 + 0.5, y as f32 + 0.5);
        for c in px.0.iter_mut() {
            *c = (f32::from(*c) * k).round().clamp(0.0, 255.0) as u8;
        }
    }
}

/// The cell size light is measured over: several text lines tall, so a cell's median is the card.
const LIGHT_CELL: u32 = 96;

pub(crate) fn luma(p: &Rgb<u8>) -> f32 {
    0.299 * f32::from(p[0]) + 0.587 * f32::from(p[1]) + 0.114 * f32::from(p[2])
}

pub(crate) fn median(values: &mut [f32]) -> f32 {
    if values.is_empty() {
        return 0.0;
    }
    let mid = values.len() / 2;
    *values.select_nth_unstable_by(mid, f32::total_cmp).1
}

/// A photo's colour at a point between pixels (bilinear; edges clamp).
pub(crate) fn sample(photo: &RgbImage, x: f32, y: f32) -> Rgb<u8> {
    let (pw, ph) = photo.dimensions();
    let (x0, y0) = (x.floor(), y.floor());
    let (fx, fy) = (x - x0, y - y0);
    let px = |xx: f32, yy: f32| {
        let xi = (xx.max(0.0) as u32).min(pw - 1);
        let yi = (yy.max(0.0) as u32).min(ph - 1);
        *photo.get_pixel(xi, yi)
    };
    let (p00, p10, p01, p11) = (
        px(x0, y0),
        px(x0 + 1.0, y0),
        px(x0, y0 + 1.0),
        px(x0 + 1.0, y0 + 1.0),
    );
    let mut c = [0u8; 3];
    for k in 0..3 {
        let top = f32::from(p00[k]) * (1.0 - fx) + f32::from(p10[k]) * fx;
        let bottom = f32::from(p01[k]) * (1.0 - fx) + f32::from(p11[k]) * fx;
        c[k] = (top * (1.0 - fy) + bottom * fy).round() as u8;
    }
    Rgb(c)
}

/// Sharp colour steps: the largest Sobel response over the three channels, above a threshold set
/// by the photo's own texture (so grain and JPEG noise are not edges, a faint card edge is).
fn edges(img: &RgbImage) -> Vec<bool> {
    let (w, h) = img.dimensions();
    let mut mag = vec![0f32; (w * h) as usize];
    let at = |x: u32, y: u32, c: usize| f32::from(img.get_pixel(x, y)[c]);
    for y in 1..h - 1 {
        for x in 1..w - 1 {
            let mut best = 0f32;
            for c in 0..3 {
                let gx = at(x + 1, y - 1, c) + 2.0 * at(x + 1, y, c) + at(x + 1, y + 1, c)
                    - at(x - 1, y - 1, c)
                    - 2.0 * at(x - 1, y, c)
                    - at(x - 1, y + 1, c);
                let gy = at(x - 1, y + 1, c) + 2.0 * at(x, y + 1, c) + at(x + 1, y + 1, c)
                    - at(x - 1, y - 1, c)
                    - 2.0 * at(x, y - 1, c)
                    - at(x + 1, y - 1, c);
                best = best.max(gx.hypot(gy));
            }
            mag[(y * w + x) as usize] = best;
        }
    }
    let mut sorted = mag.clone();
    let typical = median(&mut sorted);
    let threshold = (typical * 4.0).max(24.0);
    mag.iter().map(|&m| m > threshold).collect()
}

/// Edges grown by one pixel, so a faint edge with gaps still holds the flood back.
fn dilate(mask: &[bool], w: u32, h: u32) -> Vec<bool> {
    let mut out = mask.to_vec();
    for y in 0..h {
        for x in 0..w {
            if mask[(y * w + x) as usize] {
                for (dx, dy) in [(-1i32, 0i32), (1, 0), (0, -1), (0, 1)] {
                    let (nx, ny) = (x as i32 + dx, y as i32 + dy);
                    if nx >= 0 && ny >= 0 && nx < w as i32 && ny < h as i32 {
                        out[(ny as u32 * w + nx as u32) as usize] = true;
                    }
                }
            }
        }
    }
    out
}

/// Each pixel's chessboard distance to the nearest `target` pixel; with `edge_is_target`, beyond
/// the picture counts too (the card's shape is cut at the photo's edge).
fn distance_to(target: &[bool], w: u32, h: u32, edge_is_target: bool) -> Vec<u16> {
    let beyond = if edge_is_target { 0 } else { u16::MAX };
    let (w, h) = (w as usize, h as usize);
    let mut d: Vec<u16> = target
        .iter()
        .map(|&t| if t { 0 } else { u16::MAX })
        .collect();
    let get = |d: &[u16], x: isize, y: isize| {
        if x < 0 || y < 0 || x >= w as isize || y >= h as isize {
            beyond
        } else {
            d[y as usize * w + x as usize]
        }
    };
    for y in 0..h as isize {
        for x in 0..w as isize {
            let i = y as usize * w + x as usize;
            let m = [(-1, 0), (-1, -1), (0, -1), (1, -1)]
                .iter()
                .map(|&(dx, dy)| get(&d, x + dx, y + dy))
                .min()
                .unwrap_or(0);
            d[i] = d[i].min(m.saturating_add(1));
        }
    }
    for y in (0..h as isize).rev() {
        for x in (0..w as isize).rev() {
            let i = y as usize * w + x as usize;
            let m = [(1, 0), (1, 1), (0, 1), (-1, 1)]
                .iter()
                .map(|&(dx, dy)| get(&d, x + dx, y + dy))
                .min()
                .unwrap_or(0);
            d[i] = d[i].min(m.saturating_add(1));
        }
    }
    d
}

fn cross(o: [f32; 2], a: [f32; 2], b: [f32; 2]) -> f32 {
    (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])
}

/// Andrew's monotone chain; the hull in one consistent turning direction.
fn convex_hull(mut points: Vec<[f32; 2]>) -> Vec<[f32; 2]> {
    points.sort_by(|a, b| a[0].total_cmp(&b[0]).then(a[1].total_cmp(&b[1])));
    points.dedup();
    if points.len() < 3 {
        return points;
    }
    let mut hull: Vec<[f32; 2]> = Vec::with_capacity(points.len() * 2);
    for pass in 0..2 {
        let start = hull.len();
        let iter: Box<dyn Iterator<Item = &[f32; 2]>> = if pass == 0 {
            Box::new(points.iter())
        } else {
            Box::new(points.iter().rev())
        };
        for &p in iter {
            while hull.len() >= start + 2
                && cross(hull[hull.len() - 2], hull[hull.len() - 1], p) <= 0.0
            {
                hull.pop();
            }
            hull.push(p);
        }
        hull.pop();
    }
    hull
}

fn polygon_area(p: &[[f32; 2]]) -> f32 {
    let n = p.len();
    (0..n)
        .map(|i| {
            let (a, b) = (p[i], p[(i + 1) % n]);
            a[0] * b[1] - b[0] * a[1]
        })
        .sum::<f32>()
        .abs()
        / 2.0
}

fn is_convex(p: &[[f32; 2]; 4]) -> bool {
    let signs: Vec<bool> = (0..4)
        .map(|i| cross(p[i], p[(i + 1) % 4], p[(i + 2) % 4]) > 0.0)
        .collect();
    signs.iter().all(|&s| s) || signs.iter().all(|&s| !s)
}

/// Where the lines through (a, b) and (c, d) meet.
fn intersect(a: [f32; 2], b: [f32; 2], c: [f32; 2], d: [f32; 2]) -> Option<[f32; 2]> {
    let (r, s) = ([b[0] - a[0], b[1] - a[1]], [d[0] - c[0], d[1] - c[1]]);
    let denom = r[0] * s[1] - r[1] * s[0];
    if denom.abs() < 1e-6 {
        return None;
    }
    let t = ((c[0] - a[0]) * s[1] - (c[1] - a[1]) * s[0]) / denom;
    Some([a[0] + t * r[0], a[1] + t * r[1]])
}

/// A convex polygon cut down to four sides: again and again, the side whose removal (its two
/// neighbours extended to meet) adds the least area goes.
fn reduce_to_four(mut p: Vec<[f32; 2]>) -> Option<[[f32; 2]; 4]> {
    if p.len() < 4 {
        return None;
    }
    let orientation = cross(p[0], p[1], p[2]).signum();
    while p.len() > 4 {
        let n = p.len();
        let mut best: Option<(f32, usize, [f32; 2])> = None;
        for i in 0..n {
            // Side i runs from p[i] to p[i+1]; its neighbours are p[i-1]→p[i] and p[i+1]→p[i+2].
            let (a, b, c, d) = (p[(i + n - 1) % n], p[i], p[(i + 1) % n], p[(i + 2) % n]);
            let Some(x) = intersect(a, b, c, d) else {
                continue;
            };
            // The new corner must lie outside the side (the neighbours converge beyond it).
            if cross(b, c, x).signum() == orientation && cross(b, c, x).abs() > 1e-6 {
                continue;
            }
            let added = cross(b, c, x).abs() / 2.0;
            if best.is_none_or(|(area, _, _)| added < area) {
                best = Some((added, i, x));
            }
        }
        let (_, i, x) = best?;
        let j = (i + 1) % n;
        p[i] = x;
        p.remove(j);
    }
    Some([p[0], p[1], p[2], p[3]])
}

/// Each side re-fitted (total least squares) to the outline points along its middle, and the
/// corners put where the fitted sides meet: the hull's corners are where the outline happens to
/// bulge, the fitted sides are where the card's edges are.
fn refine_sides(corners: &[[f32; 2]; 4], outline: &[[f32; 2]]) -> Option<Quad> {
    let centre = [
        corners.iter().map(|c| c[0]).sum::<f32>() / 4.0,
        corners.iter().map(|c| c[1]).sum::<f32>() / 4.0,
    ];
    let mut lines = Vec::with_capacity(4);
    for i in 0..4 {
        let (a, b) = (corners[i], corners[(i + 1) % 4]);
        let len = (b[0] - a[0]).hypot(b[1] - a[1]);
        if len < 4.0 {
            return None;
        }
        // Along the side's middle, up to SEARCH_DEPTH inwards (something stuck to the card's edge
        // pushes the hull out): the straight line most outline points lie on, over small turns
        // of the side, is the edge.
        let inward = {
            let (nx, ny) = (-(b[1] - a[1]) / len, (b[0] - a[0]) / len);
            let mid = [(a[0] + b[0]) / 2.0, (a[1] + b[1]) / 2.0];
            if (centre[0] - mid[0]) * nx + (centre[1] - mid[1]) * ny < 0.0 {
                (-nx, -ny)
            } else {
                (nx, ny)
            }
        };
        let mut best = (0usize, 0f32, 0f32, 0f32);
        for step in -8..=8 {
            let turn = step as f32 * 0.5f32.to_radians();
            let (c, s_) = (turn.cos(), turn.sin());
            let (nx, ny) = (inward.0 * c - inward.1 * s_, inward.0 * s_ + inward.1 * c);
            let (ux, uy) = (-ny, nx);
            let mut bins = [0usize; SEARCH_DEPTH + 4];
            for p in outline {
                let (dx, dy) = (p[0] - a[0], p[1] - a[1]);
                let along = (dx * ux + dy * uy).abs();
                let depth = dx * nx + dy * ny + 2.0;
                if along > 0.15 * len
                    && along < 0.85 * len
                    && depth >= 0.0
                    && depth < bins.len() as f32
                {
                    bins[depth as usize] += 1;
                }
            }
            for k in 0..bins.len() - 1 {
                let count = bins[k] + bins[k + 1];
                if count > best.0 {
                    best = (count, nx, ny, k as f32 + 1.0 - 2.0);
                }
            }
        }
        let (_, nx, ny, depth) = best;
        let near: Vec<[f32; 2]> = outline
            .iter()
            .copied()
            .filter(|p| {
                let (dx, dy) = (p[0] - a[0], p[1] - a[1]);
                let along = (-dx * ny + dy * nx).abs();
                let off = dx * nx + dy * ny - depth;
                along > 0.1 * len && along < 0.9 * len && off.abs() < 1.5
            })
            .collect();
        if near.len() < 8 {
            return None;
        }
        let ([mx, my], angle) = principal_axis(near.iter().copied());
        // The outline runs just outside the card: Sobel marks a pixel either side of a step and
        // the barrier is grown by one, so the flood stops 1.5 px short of the edge. Move in.
        let (mut nx, mut ny) = (-angle.sin(), angle.cos());
        if (centre[0] - mx) * nx + (centre[1] - my) * ny < 0.0 {
            (nx, ny) = (-nx, -ny);
        }
        let (mx, my) = (mx + OUTLINE_OFFSET * nx, my + OUTLINE_OFFSET * ny);
        lines.push(([mx, my], [mx + angle.cos(), my + angle.sin()]));
    }
    let mut out = [[0f32; 2]; 4];
    for (i, corner) in out.iter_mut().enumerate() {
        let (p, q) = lines[(i + 3) % 4];
        let (r, s) = lines[i];
        *corner = intersect(p, q, r, s)?;
    }
    // A refit that moved a corner far means the fit followed something else: keep the hull's.
    let moved = (0..4)
        .map(|i| (out[i][0] - corners[i][0]).hypot(out[i][1] - corners[i][1]))
        .fold(0f32, f32::max);
    (moved < SEARCH_DEPTH as f32 * 1.5).then_some(Quad(out))
}

/// How far inside the hull a side's edge is looked for, in working pixels.
const SEARCH_DEPTH: usize = 24;

/// How far outside the card's edge its outline runs, in working pixels.
const OUTLINE_OFFSET: f32 = 1.5;

/// Every corner between 50° and 130°: a card seen at an angle, not a kite.
fn right_enough(q: &Quad) -> bool {
    (0..4).all(|i| {
        let (a, b, c) = (q.0[(i + 3) % 4], q.0[i], q.0[(i + 1) % 4]);
        let (u, v) = ([a[0] - b[0], a[1] - b[1]], [c[0] - b[0], c[1] - b[1]]);
        let cos = (u[0] * v[0] + u[1] * v[1]) / (u[0].hypot(u[1]) * v[0].hypot(v[1])).max(1e-6);
        cos.abs() < 0.643
    })
}

/// The projective map taking `from[i]` to `to[i]`, as [a b c; d e f; g h 1] row-major (8 values).
fn homography(from: [[f32; 2]; 4], to: [[f32; 2]; 4]) -> [f32; 8] {
    let mut m = [[0f64; 9]; 8];
    for i in 0..4 {
        let ([x, y], [u, v]) = (from[i].map(f64::from), to[i].map(f64::from));
        m[2 * i] = [x, y, 1.0, 0.0, 0.0, 0.0, -u * x, -u * y, u];
        m[2 * i + 1] = [0.0, 0.0, 0.0, x, y, 1.0, -v * x, -v * y, v];
    }
    for c in 0..8 {
        let p = (c..8)
            .max_by(|&a, &b| m[a][c].abs().total_cmp(&m[b][c].abs()))
            .unwrap_or(c);
        m.swap(c, p);
        if m[c][c].abs() < 1e-12 {
            continue;
        }
        let pivot = m[c];
        for (r, row) in m.iter_mut().enumerate() {
            if r != c {
                let k = row[c] / pivot[c];
                for (value, p) in row.iter_mut().zip(pivot).skip(c) {
                    *value -= k * p;
                }
            }
        }
    }
    std::array::from_fn(|i| {
        if m[i][i].abs() < 1e-12 {
            0.0
        } else {
            (m[i][8] / m[i][i]) as f32
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A light card drawn at a known quadrilateral on a darker table, with some print on it.
    fn photo_of(quad: &Quad, card: [u8; 3], table: [u8; 3]) -> RgbImage {
        let mut img = RgbImage::from_pixel(800, 600, Rgb(table));
        for (x, y, px) in img.enumerate_pixels_mut() {
            let p = [x as f32 + 0.5, y as f32 + 0.5];
            let inside = (0..4).all(|i| cross(quad.0[i], quad.0[(i + 1) % 4], p) >= 0.0);
            if inside {
                *px = Rgb(card);
                if (y / 12) % 4 == 1 && (x / 9) % 3 != 0 {
                    *px = Rgb([30, 30, 30]);
                }
            }
        }
        img
    }

    #[test]
    fn finds_a_tilted_card_within_a_few_pixels() {
        let truth = Quad([
            [170.0, 140.0],
            [640.0, 110.0],
            [660.0, 420.0],
            [150.0, 450.0],
        ]);
        for (card, table) in [
            ([245, 245, 240], [90, 70, 50]),
            ([40, 50, 75], [60, 75, 60]),
        ] {
            let found = find_card(&photo_of(&truth, card, table)).expect("card found");
            for (f, t) in found.0.iter().zip(truth.0) {
                let err = (f[0] - t[0]).hypot(f[1] - t[1]);
                assert!(err < 6.0, "corner {f:?} vs {t:?}: {err:.1} px");
            }
        }
    }

    #[test]
    fn a_photo_without_an_outline_has_no_card() {
        let plain = RgbImage::from_pixel(640, 480, Rgb([240, 240, 240]));
        assert_eq!(find_card(&plain), None);
    }

    #[test]
    fn straightening_maps_corners_to_corners() {
        let quad = Quad([[100.0, 50.0], [500.0, 80.0], [480.0, 330.0], [90.0, 300.0]]);
        let mut photo = RgbImage::from_pixel(600, 400, Rgb([0, 0, 0]));
        // A white dot near each corner, inside the card.
        let marks = [[110.0, 62.0], [488.0, 92.0], [470.0, 318.0], [101.0, 289.0]];
        for m in marks {
            photo.put_pixel(m[0] as u32, m[1] as u32, Rgb([255, 255, 255]));
        }
        let flat = straighten(&photo, &quad, 4096);
        let (w, h) = flat.dimensions();
        let (qw, qh) = quad.size();
        assert_eq!((w, h), (qw.round() as u32, qh.round() as u32));
        // Each mark lands in its own corner of the flat card.
        let brightest_in = |x0: u32, y0: u32| {
            (y0..y0 + h / 4)
                .flat_map(|y| (x0..x0 + w / 4).map(move |x| (x, y)))
                .map(|(x, y)| flat.get_pixel(x, y)[0])
                .max()
                .unwrap()
        };
        for (x0, y0) in [
            (0, 0),
            (w - w / 4, 0),
            (w - w / 4, h - h / 4),
            (0, h - h / 4),
        ] {
            assert!(brightest_in(x0, y0) > 40, "a mark near corner ({x0}, {y0})");
        }
    }

    #[test]
    fn corners_in_any_order_come_back_in_ours() {
        let q = Quad([[480.0, 330.0], [100.0, 50.0], [90.0, 300.0], [500.0, 80.0]]);
        assert_eq!(
            q.ordered().unwrap().0,
            [[100.0, 50.0], [500.0, 80.0], [480.0, 330.0], [90.0, 300.0]]
        );
        assert_eq!(
            Quad([[0.0, 0.0], [10.0, 0.0], [0.0, 0.0], [0.0, 10.0]]).ordered(),
            None
        );
    }

    #[test]
    fn uneven_light_is_evened_out() {
        // A white card lit from the left: 250 on one side, 150 on the other.
        let mut img = RgbImage::from_fn(960, 480, |x, _| {
            let v = (250.0 - 100.0 * x as f32 / 959.0) as u8;
            Rgb([v, v, v])
        });
        even_light(&mut img);
        let left = img.get_pixel(100, 240)[0];
        let right = img.get_pixel(860, 240)[0];
        assert!(
            left.abs_diff(right) < 25,
            "left {left}, right {right} after evening"
        );
    }
}
