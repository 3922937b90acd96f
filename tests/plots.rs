//! The examples' pictures: tick labels, scales, the boundary line and the legend, read back
//! from the SVG text; and every picture converted to PNG by librsvg's `rsvg-convert`, so a
//! broken SVG fails.

#[allow(dead_code)]
#[path = "../examples/shared/plots.rs"]
mod plots;

use plots::Scale;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The text of every `<text class="{class}" ...>` element, with its `x` attribute.
fn texts(svg: &str, class: &str) -> Vec<(f64, String)> {
    let open = format!("<text class=\"{class}\" x=\"");
    svg.match_indices(&open)
        .map(|(at, _)| {
            let rest = &svg[at + open.len()..];
            let x = rest[..rest.find('"').unwrap()].parse().unwrap();
            let body = &rest[rest.find('>').unwrap() + 1..];
            (x, body[..body.find("</text>").unwrap()].to_string())
        })
        .collect()
}

/// The value of attribute `name` on the root `<svg>` element.
fn root_attribute(svg: &str, name: &str) -> f64 {
    let key = format!(" {name}=\"");
    let rest = &svg[svg.find(&key).unwrap() + key.len()..];
    rest[..rest.find('"').unwrap()].parse().unwrap()
}

/// The points of the loss curve.
fn curve(svg: &str) -> Vec<(f64, f64)> {
    let key = "<polyline class=\"curve\" points=\"";
    let rest = &svg[svg.find(key).unwrap() + key.len()..];
    rest[..rest.find('"').unwrap()]
        .split(' ')
        .map(|p| {
            let (x, y) = p.split_once(',').unwrap();
            (x.parse().unwrap(), y.parse().unwrap())
        })
        .collect()
}

/// A loss that falls from 1 towards 0.002 over `n` steps, slowly at the end.
fn falling(n: usize) -> Vec<f64> {
    (0..n).map(|k| 0.002 + 1.0 / (1.0 + k as f64)).collect()
}

#[test]
fn step_ticks_are_integers_and_the_last_one_fits_on_the_canvas() {
    for (n, last_tick) in [(101, "100"), (1000, "900"), (3, "2")] {
        for scale in [Scale::Linear, Scale::Log] {
            let svg = plots::loss_curve_svg("t", "step", &falling(n), scale);
            let ticks = texts(&svg, "x-tick");
            assert!(ticks.len() >= 3, "{ticks:?}");
            for (_, t) in &ticks {
                assert!(t.parse::<u64>().is_ok(), "tick {t:?} is not an integer");
            }
            let (x, text) = ticks.last().unwrap();
            assert_eq!(text, last_tick);
            // Centred on x, at most 8 px per character at 13 px.
            let half = 4.0 * text.len() as f64;
            assert!(x + half <= root_attribute(&svg, "width"), "{text} at {x}");
        }
    }
}

#[test]
fn a_slowly_falling_loss_is_a_smooth_line_not_a_staircase() {
    // Over 1000 steps the loss falls by far less than a pixel per step at the end: whole-pixel
    // coordinates would draw it as flat runs and one-pixel jumps, up to 0.5 px off. Each
    // point must be where the exact mapping puts it, to the 0.01 px the file is written in.
    // The plot area: x from 72 across 580 px, y from 44 down 320 px.
    let losses = falling(1000);
    let linear_top = losses[0] * 1.05;
    let exact_y = |scale: Scale, v: f64| match scale {
        Scale::Linear => 44.0 + (1.0 - v / linear_top) * 320.0,
        Scale::Log => 44.0 + (1.0 - (v / 0.002).log10() / 3.0) * 320.0,
    };
    for scale in [Scale::Linear, Scale::Log] {
        let points = curve(&plots::loss_curve_svg("t", "epoch", &losses, scale));
        assert_eq!(points.len(), 1000);
        for (k, (&(x, y), &v)) in points.iter().zip(&losses).enumerate() {
            let ex = 72.0 + k as f64 / 999.0 * 580.0;
            let ey = exact_y(scale, v);
            assert!(
                (x - ex).abs() <= 0.005 + 1e-9,
                "{scale:?} step {k}: x {x} vs {ex}"
            );
            assert!(
                (y - ey).abs() <= 0.005 + 1e-9,
                "{scale:?} step {k}: y {y} vs {ey}"
            );
        }
    }
}

#[test]
fn the_log_scale_has_1_2_5_ticks_around_the_data() {
    let svg = plots::loss_curve_svg("t", "step", &falling(1000), Scale::Log);
    let ticks: Vec<String> = texts(&svg, "y-tick").into_iter().map(|t| t.1).collect();
    assert_eq!(
        ticks,
        ["0.002", "0.005", "0.01", "0.02", "0.05", "0.1", "0.2", "0.5", "1", "2"]
    );
    // Equal ratios are equal distances: 0.01 -> 0.1 as long as 0.1 -> 1.
    let ys: Vec<f64> = ticks_y(&svg);
    let decade = |a: usize, b: usize| ys[a] - ys[b];
    assert!((decade(2, 5) - decade(5, 8)).abs() < 0.02, "{ys:?}");
    // A linear axis starts at 0.
    let linear = plots::loss_curve_svg("t", "step", &falling(1000), Scale::Linear);
    assert_eq!(texts(&linear, "y-tick")[0].1, "0.0");
}

/// The y coordinate of each y tick label (its baseline, 4.5 px below the tick).
fn ticks_y(svg: &str) -> Vec<f64> {
    let open = "<text class=\"y-tick\" x=\"";
    svg.match_indices(open)
        .map(|(at, _)| {
            let rest = &svg[at..];
            let y = &rest[rest.find(" y=\"").unwrap() + 4..];
            y[..y.find('"').unwrap()].parse().unwrap()
        })
        .collect()
}

#[test]
fn the_boundary_is_interpolated_between_grid_points_and_the_legend_names_the_classes() {
    // The boundary of x - 0.3 is the vertical line x = 0.3, which no grid line hits (cells
    // are 0.4 wide): a boundary drawn along cell edges would miss it by 0.1.
    let svg = plots::decision_boundary_svg(
        "t",
        (-2.0..2.0, -1.0..1.0),
        10,
        |x, _| x - 0.3,
        &[[0.0, 0.0], [1.0, 0.5]],
        &[-1.0, 1.0],
        ["left", "right"],
    );
    let key = "<path class=\"boundary\" d=\"";
    let rest = &svg[svg.find(key).unwrap() + key.len()..];
    let path = &rest[..rest.find('"').unwrap()];
    // The plot is 600 px across 4 units from x = 64: x = 0.3 is at 64 + 2.3 * 150.
    let expected = 64.0 + 2.3 * 150.0;
    let xs: Vec<f64> = path
        .split(['M', 'L'])
        .filter(|p| !p.is_empty())
        .map(|p| p.split(',').next().unwrap().parse().unwrap())
        .collect();
    assert_eq!(xs.len(), 2 * 5, "one segment per row of cells: {path}");
    for x in xs {
        assert!((x - expected).abs() < 0.011, "{x} vs {expected}");
    }
    let legend: Vec<String> = texts(&svg, "legend").into_iter().map(|t| t.1).collect();
    assert_eq!(
        legend,
        ["left (-1)", "right (+1)", "predicted -1", "predicted +1"]
    );
    assert_eq!(texts(&svg, "x-name")[0].1, "x1 (first input)");
    assert_eq!(texts(&svg, "y-name")[0].1, "x2 (second input)");
}

/// Where `rsvg-convert` writes the PNGs of [`every_picture_converts_to_png`] (kept, to look at).
fn png_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("plots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The width and height in a PNG file's header.
fn png_size(bytes: &[u8]) -> (u32, u32) {
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "not a PNG");
    assert_eq!(&bytes[12..16], b"IHDR");
    let word = |at: usize| u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap());
    (word(16), word(20))
}

#[test]
#[ignore = "needs rsvg-convert (Debian: librsvg2-bin); .ci/run installs it and runs this"]
fn every_picture_converts_to_png() {
    let circle = |x: f64, y: f64| 0.8 - (x * x + y * y).sqrt();
    let pictures = [
        (
            "loss_linear",
            plots::loss_curve_svg("loss, linear", "step", &falling(101), Scale::Linear),
        ),
        (
            "loss_log",
            plots::loss_curve_svg("loss, log scale", "epoch", &falling(1000), Scale::Log),
        ),
        (
            "boundary",
            plots::decision_boundary_svg(
                "a circle",
                (-1.5..1.5, -1.0..1.0),
                60,
                circle,
                &[[0.0, 0.0], [1.2, 0.8], [-0.3, 0.4], [1.0, -0.9]],
                &[1.0, -1.0, 1.0, -1.0],
                ["outside", "inside"],
            ),
        ),
    ];
    let dir = png_dir();
    for (name, svg) in pictures {
        let (svg_path, png_path) = (
            dir.join(format!("{name}.svg")),
            dir.join(format!("{name}.png")),
        );
        std::fs::write(&svg_path, &svg).unwrap();
        let out = Command::new("rsvg-convert")
            .arg(&svg_path)
            .arg("-o")
            .arg(&png_path)
            .output()
            .unwrap_or_else(|e| {
                panic!("cannot run rsvg-convert ({e}); install librsvg2-bin (Debian, Ubuntu)")
            });
        assert!(
            out.status.success(),
            "rsvg-convert refused {name}.svg: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let size = png_size(&std::fs::read(&png_path).unwrap());
        let expected = (
            root_attribute(&svg, "width").round() as u32,
            root_attribute(&svg, "height").round() as u32,
        );
        assert_eq!(size, expected, "{name}.png");
        println!("{} ({} x {})", png_path.display(), size.0, size.1);
    }
}
