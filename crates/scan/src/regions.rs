//! Pixel-mask geometry shared by the text detector and the four-corner frame: connected regions
//! and the principal direction of a set of points.

/// A rectangle of pixels.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Rect {
    pub x: u32,
    pub y: u32,
    pub width: u32,
    pub height: u32,
}

/// A connected region of a mask: its pixels and their bounds.
#[derive(Debug)]
pub(crate) struct Component {
    pub pixels: Vec<(u32, u32)>,
    pub bounds: Rect,
}

impl Component {
    /// Whether it reaches the picture's edge.
    pub fn touches_edge(&self, w: u32, h: u32) -> bool {
        let b = self.bounds;
        b.x == 0 || b.y == 0 || b.x + b.width == w || b.y + b.height == h
    }
}

/// The 4-connected regions of a mask's set pixels (`mask`: `w × h`, row by row).
pub(crate) fn components(mask: &[bool], w: u32, h: u32) -> Vec<Component> {
    let mut seen = vec![false; (w * h) as usize];
    let mut out = Vec::new();
    let mut stack = Vec::new();
    for sy in 0..h {
        for sx in 0..w {
            let i = (sy * w + sx) as usize;
            if seen[i] || !mask[i] {
                continue;
            }
            seen[i] = true;
            stack.push((sx, sy));
            let (mut x0, mut y0, mut x1, mut y1) = (sx, sy, sx, sy);
            let mut pixels = Vec::new();
            while let Some((x, y)) = stack.pop() {
                pixels.push((x, y));
                x0 = x0.min(x);
                y0 = y0.min(y);
                x1 = x1.max(x);
                y1 = y1.max(y);
                let neighbours = [
                    (x.wrapping_sub(1), y),
                    (x + 1, y),
                    (x, y.wrapping_sub(1)),
                    (x, y + 1),
                ];
                for (nx, ny) in neighbours {
                    if nx < w && ny < h {
                        let j = (ny * w + nx) as usize;
                        if !seen[j] && mask[j] {
                            seen[j] = true;
                            stack.push((nx, ny));
                        }
                    }
                }
            }
            out.push(Component {
                pixels,
                bounds: Rect {
                    x: x0,
                    y: y0,
                    width: x1 - x0 + 1,
                    height: y1 - y0 + 1,
                },
            });
        }
    }
    out
}

/// The points' mean and the angle (radians) of the line through it they lie closest to (total
/// least squares: the principal direction).
pub(crate) fn principal_axis(points: impl Iterator<Item = [f32; 2]> + Clone) -> ([f32; 2], f32) {
    let (mut n, mut mx, mut my) = (0f32, 0f32, 0f32);
    for [x, y] in points.clone() {
        n += 1.0;
        mx += x;
        my += y;
    }
    let (mx, my) = (mx / n.max(1.0), my / n.max(1.0));
    let (mut sxx, mut syy, mut sxy) = (0f32, 0f32, 0f32);
    for [x, y] in points {
        let (dx, dy) = (x - mx, y - my);
        sxx += dx * dx;
        syy += dy * dy;
        sxy += dx * dy;
    }
    ([mx, my], 0.5 * (2.0 * sxy).atan2(sxx - syy))
}
