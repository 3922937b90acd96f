//! The digits example's pictures, drawn with `plotters` (SVG backend; text is written as SVG
//! `<text>`, so no system fonts are needed): a confusion matrix and a grid of small images.

use plotters::prelude::*;
use std::error::Error;
use std::path::Path;

/// A confusion matrix: `counts[t][p]` samples of true class `t` predicted as `p`, one cell
/// each, shaded by the share of its row (its true class) and labelled with the count; true
/// classes run down the left side, predicted ones along the bottom, class 0 top left.
pub fn confusion_matrix(
    path: &Path,
    title: &str,
    counts: &[Vec<usize>],
) -> Result<(), Box<dyn Error>> {
    let n = counts.len();
    let root = SVGBackend::new(path, (620, 620)).into_drawing_area();
    root.fill(&WHITE)?;
    let top = n as f64 - 0.5;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 22))
        .margin(16)
        .x_label_area_size(50)
        .y_label_area_size(60)
        .build_cartesian_2d(-0.5..top, -0.5..top)?;
    // Row t is drawn at height n - 1 - t, so that class 0 is at the top, as in a table.
    let row_at = |t: usize| (n - 1 - t) as f64;
    let label = |v: &f64| {
        let k = v.round();
        if (v - k).abs() < 1e-9 && (0.0..n as f64).contains(&k) {
            format!("{k}")
        } else {
            String::new()
        }
    };
    chart
        .configure_mesh()
        .disable_mesh()
        .x_labels(n)
        .y_labels(n)
        .x_label_formatter(&label)
        .y_label_formatter(&|v| label(&(n as f64 - 1.0 - v)))
        .x_desc("predicted digit")
        .y_desc("true digit")
        .axis_desc_style(("sans-serif", 18))
        .label_style(("sans-serif", 16))
        .draw()?;
    for (t, row) in counts.iter().enumerate() {
        let total = row.iter().sum::<usize>().max(1) as f64;
        for (p, &c) in row.iter().enumerate() {
            let share = c as f64 / total;
            // White for 0, deep blue for a whole row; mistakes in orange so they stand out.
            let color = if c == 0 {
                WHITE
            } else if t == p {
                let s = 0.25 + 0.75 * share;
                RGBColor(
                    (255.0 * (1.0 - 0.8 * s)) as u8,
                    (255.0 * (1.0 - 0.55 * s)) as u8,
                    255,
                )
            } else {
                RGBColor(253, 174, 97)
            };
            let (x, y) = (p as f64, row_at(t));
            chart.draw_series([Rectangle::new(
                [(x - 0.5, y - 0.5), (x + 0.5, y + 0.5)],
                color.filled(),
            )])?;
            chart.draw_series([Rectangle::new(
                [(x - 0.5, y - 0.5), (x + 0.5, y + 0.5)],
                RGBColor(200, 200, 200).stroke_width(1),
            )])?;
            if c > 0 {
                let text_color = if t == p && share > 0.5 { WHITE } else { BLACK };
                let style = ("sans-serif", 16).into_font().color(&text_color).pos(
                    plotters::style::text_anchor::Pos::new(
                        plotters::style::text_anchor::HPos::Center,
                        plotters::style::text_anchor::VPos::Center,
                    ),
                );
                chart.draw_series([Text::new(c.to_string(), (x, y), style)])?;
            }
        }
    }
    root.present()?;
    Ok(())
}

/// Small grey images in a grid, each with a caption above it: `images[k]` is `width` x
/// `height` pixels row by row, 0 (white) to `max` (black).
pub fn image_grid(
    path: &Path,
    title: &str,
    images: &[(Vec<f64>, String)],
    (width, height): (usize, usize),
    max: f64,
) -> Result<(), Box<dyn Error>> {
    const COLUMNS: usize = 6;
    const CELL: u32 = 140;
    let rows = images.len().div_ceil(COLUMNS).max(1);
    let size = (COLUMNS as u32 * CELL, rows as u32 * CELL + 50);
    let root = SVGBackend::new(path, size).into_drawing_area();
    root.fill(&WHITE)?;
    let root = root.titled(title, ("sans-serif", 22))?;
    if images.is_empty() {
        root.draw(&Text::new("no mistakes", (20, 20), ("sans-serif", 18)))?;
    }
    let cells = root.split_evenly((rows, COLUMNS));
    for ((pixels, caption), cell) in images.iter().zip(&cells) {
        let cell = cell.titled(caption, ("sans-serif", 15))?;
        let (w, h) = cell.dim_in_pixel();
        let side = (w.min(h) as i32 - 12) / width.max(height) as i32;
        let x0 = (w as i32 - side * width as i32) / 2;
        let y0 = 2;
        for (k, &v) in pixels.iter().enumerate() {
            let (x, y) = ((k % width) as i32, (k / width) as i32);
            let g = (255.0 * (1.0 - (v / max).clamp(0.0, 1.0))).round() as u8;
            cell.draw(&Rectangle::new(
                [
                    (x0 + x * side, y0 + y * side),
                    (x0 + (x + 1) * side, y0 + (y + 1) * side),
                ],
                RGBColor(g, g, g).filled(),
            ))?;
        }
        cell.draw(&Rectangle::new(
            [
                (x0 - 1, y0 - 1),
                (x0 + side * width as i32 + 1, y0 + side * height as i32 + 1),
            ],
            RGBColor(160, 160, 160).stroke_width(1),
        ))?;
    }
    root.present()?;
    Ok(())
}
