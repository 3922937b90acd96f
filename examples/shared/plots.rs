//! The examples' pictures, drawn with `plotters` (SVG backend; text is written as SVG `<text>`,
//! so no system fonts are needed).

use plotters::prelude::*;
use std::error::Error;
use std::path::Path;

/// A line plot of `losses` against their index (epoch or step), written as SVG to `path`.
pub fn loss_curve(
    path: &Path,
    title: &str,
    x_label: &str,
    losses: &[f64],
) -> Result<(), Box<dyn Error>> {
    let root = SVGBackend::new(path, (640, 400)).into_drawing_area();
    root.fill(&WHITE)?;
    let top = losses.iter().copied().fold(0.0_f64, f64::max) * 1.05;
    let top = if top > 0.0 { top } else { 1.0 };
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 22))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(0.0..(losses.len().max(2) - 1) as f64, 0.0..top)?;
    chart
        .configure_mesh()
        .x_desc(x_label)
        .y_desc("loss")
        .draw()?;
    chart.draw_series(LineSeries::new(
        losses.iter().enumerate().map(|(k, &l)| (k as f64, l)),
        BLUE.stroke_width(2),
    ))?;
    root.present()?;
    Ok(())
}

/// A two-class decision boundary: the plane `x` by `y` coloured by the sign of `score` (a filled
/// contour at 0, sampled on a `resolution` x `resolution` grid), with the labelled points on top.
pub fn decision_boundary(
    path: &Path,
    title: &str,
    (x, y): (std::ops::Range<f64>, std::ops::Range<f64>),
    resolution: usize,
    score: impl Fn(f64, f64) -> f64,
    points: &[[f64; 2]],
    labels: &[f64],
) -> Result<(), Box<dyn Error>> {
    let negative = RGBColor(171, 217, 233); // light blue
    let positive = RGBColor(253, 174, 97); // light orange
    let root = SVGBackend::new(path, (640, 560)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 22))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(50)
        .build_cartesian_2d(x.clone(), y.clone())?;
    chart.configure_mesh().disable_mesh().draw()?;
    // Each grid row as runs of equal sign: one rectangle per run keeps the file small.
    let dx = (x.end - x.start) / resolution as f64;
    let dy = (y.end - y.start) / resolution as f64;
    let mut cells = Vec::new();
    for j in 0..resolution {
        let y0 = y.start + j as f64 * dy;
        let mut run_start = 0;
        let mut run_sign = score(x.start + 0.5 * dx, y0 + 0.5 * dy) > 0.0;
        for i in 1..=resolution {
            let sign =
                i < resolution && score(x.start + (i as f64 + 0.5) * dx, y0 + 0.5 * dy) > 0.0;
            if i == resolution || sign != run_sign {
                let color = if run_sign { positive } else { negative };
                let corners = [
                    (x.start + run_start as f64 * dx, y0),
                    (x.start + i as f64 * dx, y0 + dy),
                ];
                cells.push(Rectangle::new(corners, color.filled()));
                run_start = i;
                run_sign = sign;
            }
        }
    }
    chart.draw_series(cells)?;
    chart.draw_series(points.iter().zip(labels).map(|(p, &l)| {
        let color = if l > 0.0 {
            RGBColor(215, 48, 39)
        } else {
            RGBColor(49, 54, 149)
        };
        Circle::new((p[0], p[1]), 4, color.filled())
    }))?;
    root.present()?;
    Ok(())
}
