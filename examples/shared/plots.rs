//! The examples' pictures, written as SVG text directly: coordinates are real numbers (a
//! slowly falling curve is a smooth line, not a staircase of whole pixels), tick labels are
//! chosen for the data (integers for steps and epochs), and the text is SVG `<text>`, so no
//! fonts or libraries are needed to write them.

use std::fmt::Write as _;
use std::path::Path;

/// How a loss axis is scaled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scale {
    /// From 0 up: shows how fast the loss falls at first.
    Linear,
    /// Powers of ten equally spaced: shows the tail, where the loss keeps falling by factors.
    Log,
}

const CURVE: &str = "#1f77b4";
const GRID: &str = "#e3e3e3";
const GRID_MINOR: &str = "#f1f1f1";
const AXIS: &str = "#444444";
const TEXT: &str = "#222222";
/// The network's answer -1 (region) and the points labelled -1.
const NEGATIVE_AREA: &str = "#abd9e9";
const NEGATIVE_POINT: &str = "#313695";
/// The network's answer +1 (region) and the points labelled +1.
const POSITIVE_AREA: &str = "#fdae61";
const POSITIVE_POINT: &str = "#d73027";

/// A line plot of `losses` against their index (epoch or step), written as SVG to `path`.
///
/// The x axis has integer ticks; with [`Scale::Log`] the y axis runs between the 1-2-5 values
/// just around the data, with a labelled tick at each of them and a faint line at every
/// other digit. Non-positive losses cannot be drawn on a log axis and are left out.
pub fn loss_curve(
    path: &Path,
    title: &str,
    x_label: &str,
    losses: &[f64],
    scale: Scale,
) -> std::io::Result<()> {
    std::fs::write(path, loss_curve_svg(title, x_label, losses, scale))
}

/// The SVG text of [`loss_curve`].
pub fn loss_curve_svg(title: &str, x_label: &str, losses: &[f64], scale: Scale) -> String {
    let plot = Frame {
        width: 680.0,
        height: 420.0,
        left: 72.0,
        right: 28.0,
        top: 44.0,
        bottom: 56.0,
    };
    let last = losses.len().saturating_sub(1).max(1) as f64;
    let finite = losses.iter().copied().filter(|l| l.is_finite());
    let y_axis = match scale {
        Scale::Linear => {
            let top = finite.fold(0.0_f64, f64::max);
            let top = if top > 0.0 { top * 1.05 } else { 1.0 };
            Axis::linear(0.0, top, 8, 0.0)
        }
        Scale::Log => {
            let positive: Vec<f64> = finite.filter(|&l| l > 0.0).collect();
            let lo = positive.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = positive.iter().copied().fold(0.0_f64, f64::max);
            if positive.is_empty() {
                Axis::log(0.1, 1.0)
            } else {
                Axis::log(lo, hi)
            }
        }
    };
    let x_axis = Axis::linear(0.0, last, 10, 1.0);
    let mut svg = Svg::new(&plot, title);
    svg.grid_and_axes(&plot, &x_axis, &y_axis, x_label, "loss");
    let points: Vec<(f64, f64)> = losses
        .iter()
        .enumerate()
        .filter(|(_, l)| l.is_finite() && (scale == Scale::Linear || **l > 0.0))
        .map(|(k, &l)| (plot.x(&x_axis, k as f64), plot.y(&y_axis, l)))
        .collect();
    svg.polyline(&points, CURVE, 2.0);
    svg.finish()
}

/// A two-class decision boundary, written as SVG to `path`: the plane coloured by the sign of
/// `score` (light blue where it is negative, light orange where positive), the boundary
/// `score = 0` as a line, and the labelled points on top (dark blue for label -1, red for +1),
/// with a legend naming each colour.
///
/// `score` is sampled on a grid of `resolution` cells across; within each cell the boundary is
/// interpolated linearly between the corners (marching squares), so it is drawn as a smooth
/// line instead of the edges of the cells.
#[allow(clippy::too_many_arguments)]
pub fn decision_boundary(
    path: &Path,
    title: &str,
    (x, y): (std::ops::Range<f64>, std::ops::Range<f64>),
    resolution: usize,
    score: impl Fn(f64, f64) -> f64,
    points: &[[f64; 2]],
    labels: &[f64],
    names: [&str; 2],
) -> std::io::Result<()> {
    let svg = decision_boundary_svg(title, (x, y), resolution, score, points, labels, names);
    std::fs::write(path, svg)
}

/// The SVG text of [`decision_boundary`]; `names` are the classes -1 and +1.
pub fn decision_boundary_svg(
    title: &str,
    (x, y): (std::ops::Range<f64>, std::ops::Range<f64>),
    resolution: usize,
    score: impl Fn(f64, f64) -> f64,
    points: &[[f64; 2]],
    labels: &[f64],
    names: [&str; 2],
) -> String {
    // Square cells, and the plot as wide as the data is: one unit is as long on both axes.
    let per_unit = 600.0 / (x.end - x.start);
    let legend = 34.0;
    let plot = Frame {
        width: 600.0 + 64.0 + 24.0,
        height: (y.end - y.start) * per_unit + 44.0 + 54.0 + legend,
        left: 64.0,
        right: 24.0,
        top: 44.0,
        bottom: 54.0 + legend,
    };
    let x_axis = Axis::linear(x.start, x.end, 10, 0.0);
    let y_axis = Axis::linear(y.start, y.end, 6, 0.0);
    let mut svg = Svg::new(&plot, title);

    let nx = resolution.max(2);
    let cell = (x.end - x.start) / nx as f64;
    let ny = (((y.end - y.start) / cell).round() as usize).max(2);
    let cell_y = (y.end - y.start) / ny as f64;
    let at = |i: usize, j: usize| (x.start + i as f64 * cell, y.start + j as f64 * cell_y);
    let values: Vec<Vec<f64>> = (0..=ny)
        .map(|j| {
            (0..=nx)
                .map(|i| {
                    let (px, py) = at(i, j);
                    score(px, py)
                })
                .collect()
        })
        .collect();
    let positive = |v: f64| v > 0.0;

    // The negative colour everywhere, then the positive region as one path (one path, so
    // that neighbouring cells show no hairline seams between them), then the boundary line.
    svg.rect(
        plot.left,
        plot.top,
        plot.plot_width(),
        plot.plot_height(),
        NEGATIVE_AREA,
    );
    let mut area = String::new();
    let mut boundary = String::new();
    let mut polygon = |corners: &[(f64, f64)]| {
        for (k, &(cx, cy)) in corners.iter().enumerate() {
            let (px, py) = (plot.x(&x_axis, cx), plot.y(&y_axis, cy));
            let _ = write!(area, "{}{px:.2},{py:.2}", if k == 0 { "M" } else { "L" });
        }
        area.push('Z');
    };
    for j in 0..ny {
        let mut run: Option<usize> = None;
        for i in 0..=nx {
            let corners = if i < nx {
                [(i, j), (i + 1, j), (i + 1, j + 1), (i, j + 1)]
            } else {
                [(i, j); 4]
            };
            let full = i < nx && corners.iter().all(|&(a, b)| positive(values[b][a]));
            match (full, run) {
                (true, None) => run = Some(i),
                (false, Some(start)) => {
                    let (x0, y0) = at(start, j);
                    let (x1, y1) = at(i, j + 1);
                    polygon(&[(x0, y0), (x1, y0), (x1, y1), (x0, y1)]);
                    run = None;
                }
                _ => {}
            }
            if i == nx || full {
                continue;
            }
            // A cell the boundary crosses: walk its corners counter-clockwise, keeping the
            // positive ones and the crossings on the edges between corners of either sign.
            let mut part = Vec::with_capacity(6);
            let mut crossings = Vec::with_capacity(4);
            for k in 0..4 {
                let (a, b) = (corners[k], corners[(k + 1) % 4]);
                let (va, vb) = (values[a.1][a.0], values[b.1][b.0]);
                if positive(va) {
                    part.push(at(a.0, a.1));
                }
                if positive(va) != positive(vb) {
                    let t = va / (va - vb);
                    let t = if t.is_finite() {
                        t.clamp(0.0, 1.0)
                    } else {
                        0.5
                    };
                    let ((ax, ay), (bx, by)) = (at(a.0, a.1), at(b.0, b.1));
                    let p = (ax + t * (bx - ax), ay + t * (by - ay));
                    part.push(p);
                    crossings.push(p);
                }
            }
            if !part.is_empty() {
                polygon(&part);
            }
            for pair in crossings.chunks_exact(2) {
                let (a, b) = (pair[0], pair[1]);
                let _ = write!(
                    boundary,
                    "M{:.2},{:.2}L{:.2},{:.2}",
                    plot.x(&x_axis, a.0),
                    plot.y(&y_axis, a.1),
                    plot.x(&x_axis, b.0),
                    plot.y(&y_axis, b.1)
                );
            }
        }
    }
    let _ = writeln!(
        svg.text,
        r#"<path class="positive" d="{area}" fill="{POSITIVE_AREA}"/>"#
    );
    let _ = writeln!(
        svg.text,
        r#"<path class="boundary" d="{boundary}" fill="none" stroke="{AXIS}" stroke-width="1.5" stroke-linecap="round"/>"#
    );
    svg.grid_and_axes_over(
        &plot,
        &x_axis,
        &y_axis,
        "x1 (first input)",
        "x2 (second input)",
    );
    for (p, &l) in points.iter().zip(labels) {
        let color = if l > 0.0 {
            POSITIVE_POINT
        } else {
            NEGATIVE_POINT
        };
        svg.dot(plot.x(&x_axis, p[0]), plot.y(&y_axis, p[1]), color);
    }

    // The legend, in one row under the axis name, centred.
    let entries = [
        (true, NEGATIVE_POINT, format!("{} (-1)", names[0])),
        (true, POSITIVE_POINT, format!("{} (+1)", names[1])),
        (false, NEGATIVE_AREA, "predicted -1".to_string()),
        (false, POSITIVE_AREA, "predicted +1".to_string()),
    ];
    // About 7.5 px per character at 13 px (DejaVu Sans is among the wider fonts), a key and
    // a gap per entry.
    let width_of = |text: &str| 18.0 + 7.5 * text.chars().count() as f64 + 24.0;
    let total: f64 = entries.iter().map(|(_, _, t)| width_of(t)).sum::<f64>() - 24.0;
    let row = plot.height - legend / 2.0;
    let mut at_x = plot.left + (plot.plot_width() - total).max(0.0) / 2.0;
    for (is_point, color, text) in &entries {
        if *is_point {
            svg.dot(at_x + 6.0, row, color);
        } else {
            svg.rect(at_x, row - 6.0, 12.0, 12.0, color);
        }
        svg.label(at_x + 18.0, row + 4.5, "start", "legend", text);
        at_x += width_of(text);
    }
    svg.finish()
}

/// The canvas and the margins around the plot area, in pixels.
struct Frame {
    width: f64,
    height: f64,
    left: f64,
    right: f64,
    top: f64,
    bottom: f64,
}

impl Frame {
    fn plot_width(&self) -> f64 {
        self.width - self.left - self.right
    }

    fn plot_height(&self) -> f64 {
        self.height - self.top - self.bottom
    }

    fn x(&self, axis: &Axis, v: f64) -> f64 {
        self.left + axis.fraction(v) * self.plot_width()
    }

    fn y(&self, axis: &Axis, v: f64) -> f64 {
        self.top + (1.0 - axis.fraction(v)) * self.plot_height()
    }
}

/// An axis: its range, how values map onto it, and its ticks (labelled and faint).
struct Axis {
    lo: f64,
    hi: f64,
    log: bool,
    ticks: Vec<(f64, String)>,
    minor: Vec<f64>,
}

impl Axis {
    /// A linear axis from `lo` to `hi` with at most about `max_ticks` ticks at round values
    /// at least `min_step` apart (1 for an axis of whole steps or epochs).
    fn linear(lo: f64, hi: f64, max_ticks: usize, min_step: f64) -> Axis {
        let raw = ((hi - lo) / max_ticks as f64).max(min_step);
        let magnitude = 10f64.powf(raw.log10().floor());
        let step = [1.0, 2.0, 5.0, 10.0]
            .iter()
            .map(|m| m * magnitude)
            .find(|&s| s >= raw)
            .unwrap_or(10.0 * magnitude);
        let decimals = (-step.log10().floor()).max(0.0) as usize;
        let first = (lo / step).ceil() as i64;
        let last = (hi / step + 1e-9).floor() as i64;
        let ticks = (first..=last)
            .map(|k| {
                let v = k as f64 * step;
                let text = format!("{v:.decimals$}");
                // "-0" reads oddly; zero has no sign.
                let text = if text.trim_start_matches(['-', '0', '.']).is_empty() {
                    text.trim_start_matches('-').to_string()
                } else {
                    text
                };
                (v, text)
            })
            .collect();
        Axis {
            lo,
            hi,
            log: false,
            ticks,
            minor: Vec::new(),
        }
    }

    /// A log axis over `lo..hi` (both > 0), widened to the nearest 1-2-5 values outside them.
    fn log(lo: f64, hi: f64) -> Axis {
        let steps = [1.0, 2.0, 5.0];
        let value = |decade: i32, m: f64| m * 10f64.powi(decade);
        let below = |v: f64| {
            let d = v.log10().floor() as i32;
            steps
                .iter()
                .rev()
                .map(|&m| value(d, m))
                .find(|&s| s <= v * (1.0 + 1e-12))
                .unwrap_or(value(d, 1.0))
        };
        let above = |v: f64| {
            let d = v.log10().floor() as i32;
            steps
                .iter()
                .map(|&m| value(d, m))
                .chain([value(d + 1, 1.0)])
                .find(|&s| s >= v * (1.0 - 1e-12))
                .unwrap_or(value(d + 1, 1.0))
        };
        let (lo, hi) = (below(lo), above(hi.max(lo)));
        let hi = if hi <= lo { lo * 10.0 } else { hi };
        let mut ticks = Vec::new();
        let mut minor = Vec::new();
        for decade in (lo.log10().floor() as i32)..=(hi.log10().ceil() as i32) {
            for digit in 1..10 {
                let v = value(decade, f64::from(digit));
                if v < lo * (1.0 - 1e-12) || v > hi * (1.0 + 1e-12) {
                    continue;
                }
                if [1, 2, 5].contains(&digit) {
                    let decimals = (-decade).max(0) as usize;
                    ticks.push((v, format!("{v:.decimals$}")));
                } else {
                    minor.push(v);
                }
            }
        }
        Axis {
            lo,
            hi,
            log: true,
            ticks,
            minor,
        }
    }

    /// Where `v` sits along the axis, from 0 (`lo`) to 1 (`hi`).
    fn fraction(&self, v: f64) -> f64 {
        if self.log {
            (v.log10() - self.lo.log10()) / (self.hi.log10() - self.lo.log10())
        } else {
            (v - self.lo) / (self.hi - self.lo)
        }
    }
}

/// An SVG document being written.
struct Svg {
    text: String,
}

impl Svg {
    fn new(frame: &Frame, title: &str) -> Svg {
        let (w, h) = (frame.width, frame.height);
        let mut text = String::new();
        let _ = writeln!(
            text,
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="DejaVu Sans, Verdana, sans-serif" font-size="13" fill="{TEXT}">"#
        );
        let _ = writeln!(text, r#"<rect width="{w}" height="{h}" fill="white"/>"#);
        let mut svg = Svg { text };
        let _ = writeln!(
            svg.text,
            r#"<text class="title" x="{}" y="28" text-anchor="middle" font-size="18">{}</text>"#,
            frame.left + frame.plot_width() / 2.0,
            escape(title)
        );
        svg
    }

    fn rect(&mut self, x: f64, y: f64, w: f64, h: f64, fill: &str) {
        let _ = writeln!(
            self.text,
            r#"<rect x="{x:.2}" y="{y:.2}" width="{w:.2}" height="{h:.2}" fill="{fill}"/>"#
        );
    }

    fn line(&mut self, (x0, y0): (f64, f64), (x1, y1): (f64, f64), stroke: &str) {
        let _ = writeln!(
            self.text,
            r#"<line x1="{x0:.2}" y1="{y0:.2}" x2="{x1:.2}" y2="{y1:.2}" stroke="{stroke}"/>"#
        );
    }

    /// Text at `(x, y)`; `class` names what it is (`x-tick`, `legend`, ...).
    fn label(&mut self, x: f64, y: f64, anchor: &str, class: &str, text: &str) {
        let _ = writeln!(
            self.text,
            r#"<text class="{class}" x="{x:.2}" y="{y:.2}" text-anchor="{anchor}">{}</text>"#,
            escape(text)
        );
    }

    fn dot(&mut self, x: f64, y: f64, fill: &str) {
        let _ = writeln!(
            self.text,
            r#"<circle cx="{x:.2}" cy="{y:.2}" r="4.5" fill="{fill}" stroke="white" stroke-width="1"/>"#
        );
    }

    fn polyline(&mut self, points: &[(f64, f64)], stroke: &str, width: f64) {
        let mut coords = String::new();
        for (x, y) in points {
            let _ = write!(coords, "{x:.2},{y:.2} ");
        }
        let _ = writeln!(
            self.text,
            r#"<polyline class="curve" points="{}" fill="none" stroke="{stroke}" stroke-width="{width}" stroke-linejoin="round" stroke-linecap="round"/>"#,
            coords.trim_end()
        );
    }

    /// Grid lines behind the data, then the axes, ticks and names.
    fn grid_and_axes(&mut self, f: &Frame, x: &Axis, y: &Axis, x_name: &str, y_name: &str) {
        let (left, right) = (f.left, f.left + f.plot_width());
        let (top, bottom) = (f.top, f.top + f.plot_height());
        for &v in &y.minor {
            self.line((left, f.y(y, v)), (right, f.y(y, v)), GRID_MINOR);
        }
        for (v, _) in &y.ticks {
            self.line((left, f.y(y, *v)), (right, f.y(y, *v)), GRID);
        }
        for (v, _) in &x.ticks {
            self.line((f.x(x, *v), top), (f.x(x, *v), bottom), GRID);
        }
        self.grid_and_axes_over(f, x, y, x_name, y_name);
    }

    /// The axes, ticks and names alone (over a picture that fills the plot area).
    fn grid_and_axes_over(&mut self, f: &Frame, x: &Axis, y: &Axis, x_name: &str, y_name: &str) {
        let (left, right) = (f.left, f.left + f.plot_width());
        let (top, bottom) = (f.top, f.top + f.plot_height());
        let _ = writeln!(
            self.text,
            r#"<rect x="{left}" y="{top}" width="{:.2}" height="{:.2}" fill="none" stroke="{AXIS}"/>"#,
            f.plot_width(),
            f.plot_height()
        );
        for (v, text) in &x.ticks {
            let px = f.x(x, *v);
            self.line((px, bottom), (px, bottom + 5.0), AXIS);
            self.label(px, bottom + 19.0, "middle", "x-tick", text);
        }
        for (v, text) in &y.ticks {
            let py = f.y(y, *v);
            self.line((left - 5.0, py), (left, py), AXIS);
            self.label(left - 8.0, py + 4.5, "end", "y-tick", text);
        }
        self.label(
            (left + right) / 2.0,
            bottom + 40.0,
            "middle",
            "x-name",
            x_name,
        );
        let (yx, yy) = (16.0, (top + bottom) / 2.0);
        let _ = writeln!(
            self.text,
            r#"<text class="y-name" x="{yx}" y="{yy:.2}" text-anchor="middle" transform="rotate(-90 {yx} {yy:.2})">{}</text>"#,
            escape(y_name)
        );
    }

    fn finish(mut self) -> String {
        self.text.push_str("</svg>\n");
        self.text
    }
}

/// `text` with the characters XML gives a meaning escaped.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
